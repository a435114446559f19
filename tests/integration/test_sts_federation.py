"""STS GetFederationToken: a federated user session of an IAM user (or the
account root) may use what both the user's policies and the session policies
passed with the call allow, nothing without them unless a resource policy
names the session; it is named arn:aws:sts::ACCOUNT:federated-user/NAME, calls
no IAM operation and no STS operation but GetCallerIdentity. Also the
parameter checks STS makes on AssumeRole's RoleArn and RoleSessionName and on
transitive session tags, in the words LocalStack's test_sts.py recorded from
AWS. boto3 and the aws CLI v2, against a real server."""
import datetime
import json
import os
import subprocess
import unittest

import botocore.exceptions

from tandem_harness import ServerTestCase

ACCOUNT = "123456789012"
AWS_CLI = "/usr/bin/aws"


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="*"):
    return {"Effect": "Allow", "Action": action, "Resource": resource}


class StsCase(ServerTestCase):
    server_args = {"account": ACCOUNT}

    def refused(self, call, **kw):
        """(code, message, HTTP status) of the error @call(**@kw) answers."""
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            call(**kw)
        e = cm.exception.response
        return e["Error"]["Code"], e["Error"]["Message"], e["ResponseMetadata"]["HTTPStatusCode"]


class GetFederationToken(StsCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        iam = cls.server.boto3("iam")
        iam.create_user(UserName="broker")
        # the broker may federate, list tables, read objects, but not list buckets
        iam.put_user_policy(UserName="broker", PolicyName="work", PolicyDocument=doc(
            allow(["sts:GetFederationToken", "sts:TagSession"]),
            allow("dynamodb:ListTables"),
            allow("s3:GetObject")))
        key = iam.create_access_key(UserName="broker")["AccessKey"]
        cls.broker = (key["AccessKeyId"], key["SecretAccessKey"])
        iam.create_user(UserName="outsider")
        key = iam.create_access_key(UserName="outsider")["AccessKey"]
        cls.outsider = (key["AccessKeyId"], key["SecretAccessKey"])
        s3 = cls.server.boto3("s3")
        s3.create_bucket(Bucket="shared-docs")
        s3.put_object(Bucket="shared-docs", Key="readme.txt", Body=b"hello")

    def sts(self, keys=None):
        if keys is None:
            keys = self.broker
        return self.server.boto3("sts", access_key=keys[0], secret_key=keys[1])

    def test_session_policies_bound_the_session(self):
        r = self.sts().get_federation_token(
            Name="alice", DurationSeconds=900,
            Policy=doc(allow(["dynamodb:ListTables", "s3:ListAllMyBuckets"])))
        self.assertEqual(r["FederatedUser"], {
            "FederatedUserId": ACCOUNT + ":alice",
            "Arn": "arn:aws:sts::%s:federated-user/alice" % ACCOUNT})
        self.assertGreater(r["PackedPolicySize"], 0)
        creds = r["Credentials"]
        self.assertTrue(creds["AccessKeyId"].startswith("ASIA"))
        left = creds["Expiration"] - datetime.datetime.now(datetime.timezone.utc)
        self.assertTrue(800 < left.total_seconds() <= 900, left)
        # allowed by both
        self.server.session_boto3("dynamodb", creds).list_tables()
        # allowed by the session policy only: the user may not list buckets
        code, msg, status = self.refused(self.server.session_boto3("s3", creds).list_buckets)
        self.assertEqual((code, status), ("AccessDenied", 403), msg)
        # allowed by the user only: the session policy does not name it
        code, msg, _ = self.refused(self.server.session_boto3("s3", creds).get_object,
                                    Bucket="shared-docs", Key="readme.txt")
        self.assertEqual(code, "AccessDenied")
        self.assertIn("arn:aws:sts::%s:federated-user/alice" % ACCOUNT, msg)
        self.assertIn("no session policy allows", msg)
        me = self.server.session_boto3("sts", creds).get_caller_identity()
        self.assertEqual((me["Account"], me["UserId"], me["Arn"]),
                         (ACCOUNT, ACCOUNT + ":alice",
                          "arn:aws:sts::%s:federated-user/alice" % ACCOUNT))

    def test_without_session_policies_only_a_resource_policy_naming_it(self):
        r = self.sts().get_federation_token(Name="bob")
        self.assertEqual(r["PackedPolicySize"], 0)
        left = r["Credentials"]["Expiration"] - datetime.datetime.now(datetime.timezone.utc)
        self.assertTrue(43000 < left.total_seconds() <= 43200, left)  # 12 hours by default
        creds = r["Credentials"]
        code, _, _ = self.refused(self.server.session_boto3("dynamodb", creds).list_tables)
        self.assertEqual(code, "AccessDeniedException")
        s3 = self.server.session_boto3("s3", creds)
        code, _, _ = self.refused(s3.get_object, Bucket="shared-docs", Key="readme.txt")
        self.assertEqual(code, "AccessDenied")
        self.server.boto3("s3").put_bucket_policy(Bucket="shared-docs", Policy=doc({
            "Effect": "Allow", "Action": "s3:GetObject",
            "Principal": {"AWS": "arn:aws:sts::%s:federated-user/bob" % ACCOUNT},
            "Resource": "arn:aws:s3:::shared-docs/*"}))
        try:
            self.assertEqual(s3.get_object(Bucket="shared-docs", Key="readme.txt")["Body"].read(),
                             b"hello")
        finally:
            self.server.boto3("s3").delete_bucket_policy(Bucket="shared-docs")

    def test_session_tags_are_principal_tags(self):
        iam = self.server.boto3("iam")
        iam.create_user(UserName="tagged-broker")
        iam.put_user_policy(UserName="tagged-broker", PolicyName="p", PolicyDocument=doc(
            allow("sts:GetFederationToken"),
            {"Effect": "Allow", "Action": "dynamodb:ListTables", "Resource": "*",
             "Condition": {"StringEquals": {"aws:PrincipalTag/team": "blue"}}}))
        key = iam.create_access_key(UserName="tagged-broker")["AccessKey"]
        keys = (key["AccessKeyId"], key["SecretAccessKey"])
        # tags need sts:TagSession, which this user lacks
        code, msg, status = self.refused(self.sts(keys).get_federation_token, Name="carol",
                                         Tags=[{"Key": "team", "Value": "blue"}])
        self.assertEqual((code, status), ("AccessDenied", 403))
        self.assertIn("sts:TagSession", msg)
        # the broker has it
        r = self.sts().get_federation_token(Name="carol", Policy=doc(allow("dynamodb:*")),
                                            Tags=[{"Key": "team", "Value": "blue"}])
        self.server.session_boto3("dynamodb", r["Credentials"]).list_tables()

    def test_what_a_federated_session_cannot_call(self):
        creds = self.sts().get_federation_token(Name="dave", Policy=doc(allow("*")))["Credentials"]
        code, msg, status = self.refused(self.server.session_boto3("iam", creds).list_users)
        self.assertEqual((code, msg, status),
                         ("AccessDenied", "Cannot call ListUsers with session credentials", 403))
        sts = self.server.session_boto3("sts", creds)
        for call, kw in ((sts.get_federation_token, {"Name": "again"}),
                         (sts.get_session_token, {}),
                         (sts.assume_role, {"RoleArn": "arn:aws:iam::%s:role/any" % ACCOUNT,
                                            "RoleSessionName": "s1"})):
            code, msg, status = self.refused(call, **kw)
            self.assertEqual((code, status), ("AccessDenied", 403), msg)
            self.assertIn("with session credentials", msg)

    def test_who_may_federate(self):
        code, msg, status = self.refused(self.sts(self.outsider).get_federation_token,
                                         Name="eve")
        self.assertEqual((code, status), ("AccessDenied", 403))
        self.assertEqual(msg, "User: arn:aws:iam::%s:user/outsider is not authorized to perform: "
                              "sts:GetFederationToken on resource: arn:aws:sts::%s:"
                              "federated-user/eve because no identity-based policy allows the "
                              "sts:GetFederationToken action" % (ACCOUNT, ACCOUNT))
        # another session's credentials cannot federate
        creds = self.sts().get_session_token()["Credentials"]
        code, msg, status = self.refused(
            self.server.session_boto3("sts", creds).get_federation_token, Name="eve")
        self.assertEqual((code, msg, status), (
            "AccessDenied", "Cannot call GetFederationToken with session credentials", 403))
        # the root may, for an hour at most; its session has the session policy's rights
        r = self.server.boto3("sts").get_federation_token(
            Name="root-fed", DurationSeconds=7200, Policy=doc(allow("dynamodb:ListTables")))
        left = r["Credentials"]["Expiration"] - datetime.datetime.now(datetime.timezone.utc)
        self.assertTrue(3500 < left.total_seconds() <= 3600, left)
        self.server.session_boto3("dynamodb", r["Credentials"]).list_tables()
        code, _, _ = self.refused(self.server.session_boto3("s3", r["Credentials"]).list_buckets)
        self.assertEqual(code, "AccessDenied")

    def test_parameters_refused_as_sts_refuses_them(self):
        sts = self.server.boto3("sts", parameter_validation=False)
        cases = [
            ({"Name": "a"}, "1 validation error detected: Value 'a' at 'name' failed to satisfy "
                            "constraint: Member must have length greater than or equal to 2"),
            ({"Name": "x" * 33}, "1 validation error detected: Value '%s' at 'name' failed to "
                                 "satisfy constraint: Member must have length less than or equal "
                                 "to 32" % ("x" * 33)),
            ({"Name": "bad:name"}, "1 validation error detected: Value 'bad:name' at 'name' failed "
                                   "to satisfy constraint: Member must satisfy regular expression "
                                   "pattern: [\\w+=,.@-]*"),
            ({"Name": ":"}, "2 validation errors detected: Value ':' at 'name' failed to satisfy "
                            "constraint: Member must satisfy regular expression pattern: "
                            "[\\w+=,.@-]*; Value ':' at 'name' failed to satisfy constraint: "
                            "Member must have length greater than or equal to 2"),
            ({"Name": "fine", "DurationSeconds": 129601},
             "1 validation error detected: Value '129601' at 'durationSeconds' failed to satisfy "
             "constraint: Member must have value less than or equal to 129600"),
            ({"Name": "fine", "Policy": "{not json"}, None),
        ]
        for kw, want in cases:
            code, msg, status = self.refused(sts.get_federation_token, **kw)
            if want is None:
                self.assertEqual((code, status), ("MalformedPolicyDocument", 400), msg)
            else:
                self.assertEqual((code, msg, status), ("ValidationError", want, 400), kw)

    def test_aws_cli_v2(self):
        if not os.access(AWS_CLI, os.X_OK):
            self.skipTest("the aws CLI v2 (Debian's awscli) is not installed")
        env = self.server.env(access_key=self.broker[0], secret_key=self.broker[1])
        out = subprocess.run([AWS_CLI, "sts", "get-federation-token", "--name", "frank",
                              "--policy", doc(allow("dynamodb:ListTables")),
                              "--endpoint-url", self.server.url(), "--output", "json"],
                             env=env, capture_output=True, text=True, timeout=120)
        self.assertEqual(out.returncode, 0, out.stderr)
        r = json.loads(out.stdout)
        self.assertEqual(r["FederatedUser"]["Arn"],
                         "arn:aws:sts::%s:federated-user/frank" % ACCOUNT)
        self.server.session_boto3("dynamodb", r["Credentials"]).list_tables()


class AssumeRoleParameters(StsCase):
    """AssumeRole's RoleArn and RoleSessionName, and transitive tags, refused
    in the words LocalStack's test_sts.py snapshot recorded from AWS."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        iam = cls.server.boto3("iam")
        iam.create_user(UserName="chainer")
        iam.put_user_policy(UserName="chainer", PolicyName="p",
                            PolicyDocument=doc(allow(["sts:AssumeRole", "sts:TagSession"])))
        key = iam.create_access_key(UserName="chainer")["AccessKey"]
        cls.keys = (key["AccessKeyId"], key["SecretAccessKey"])
        trust = {"Effect": "Allow", "Principal": {"AWS": ACCOUNT},
                 "Action": ["sts:AssumeRole", "sts:TagSession"]}
        cls.role1 = iam.create_role(RoleName="chain-1", AssumeRolePolicyDocument=doc(trust))[
            "Role"]["Arn"]
        cls.role2 = iam.create_role(RoleName="chain-2", AssumeRolePolicyDocument=doc(trust))[
            "Role"]["Arn"]
        iam.put_role_policy(RoleName="chain-1", PolicyName="p",
                            PolicyDocument=doc(allow(["sts:AssumeRole", "sts:TagSession"])))

    def sts(self):
        return self.server.boto3("sts", access_key=self.keys[0], secret_key=self.keys[1],
                                 parameter_validation=False)

    def test_role_arn_and_session_name(self):
        sts = self.sts()
        for arn in ("nothing-valid-in-here", "arn::b:::something/test-role",
                    "arn:a::::something/test-role", "arn:a:::something/test-role",
                    "arn:a:a::aaaaaaaaaa:"):
            self.assertEqual(self.refused(sts.assume_role, RoleArn=arn, RoleSessionName="s1"),
                             ("ValidationError", "%s is invalid" % arn, 400))
        self.assertEqual(
            self.refused(sts.assume_role, RoleArn=self.role1, RoleSessionName="Session1:2"),
            ("ValidationError", "1 validation error detected: Value 'Session1:2' at "
             "'roleSessionName' failed to satisfy constraint: Member must satisfy regular "
             "expression pattern: [\\w+=,.@-]*", 400))
        self.assertEqual(
            self.refused(sts.assume_role, RoleArn=self.role1, RoleSessionName="s" * 65),
            ("ValidationError", "1 validation error detected: Value '%s' at 'roleSessionName' "
             "failed to satisfy constraint: Member must have length less than or equal to 64"
             % ("s" * 65), 400))
        # a role of this account that does not exist is still a refusal to assume it
        code, _, status = self.refused(sts.assume_role,
                                       RoleArn="arn:aws:iam::%s:role/none" % ACCOUNT,
                                       RoleSessionName="s1")
        self.assertEqual((code, status), ("AccessDenied", 403))

    def test_external_id_and_session_name_in_the_trust_policy(self):
        """a third party's role: its trust policy tests sts:ExternalId (and may test
        sts:RoleSessionName); the caller passes ExternalId to AssumeRole"""
        iam = self.server.boto3("iam")
        trust = {"Effect": "Allow", "Action": "sts:AssumeRole",
                 "Principal": {"AWS": "arn:aws:iam::%s:user/chainer" % ACCOUNT},
                 "Condition": {"StringEquals": {"sts:ExternalId": "partner-42"},
                               "StringLike": {"sts:RoleSessionName": "ci-*"}}}
        arn = iam.create_role(RoleName="vendor-access",
                              AssumeRolePolicyDocument=doc(trust))["Role"]["Arn"]
        sts = self.sts()
        for kw in ({}, {"ExternalId": "partner-43"}):
            code, _, status = self.refused(sts.assume_role, RoleArn=arn, RoleSessionName="ci-1",
                                           **kw)
            self.assertEqual((code, status), ("AccessDenied", 403), kw)
        code, _, _ = self.refused(sts.assume_role, RoleArn=arn, RoleSessionName="other",
                                  ExternalId="partner-42")
        self.assertEqual(code, "AccessDenied")
        r = sts.assume_role(RoleArn=arn, RoleSessionName="ci-1", ExternalId="partner-42")
        self.assertTrue(r["Credentials"]["AccessKeyId"].startswith("ASIA"))
        self.assertEqual(
            self.refused(sts.assume_role, RoleArn=arn, RoleSessionName="ci-1", ExternalId="x"),
            ("ValidationError", "1 validation error detected: Value 'x' at 'externalId' failed "
             "to satisfy constraint: Member must have length greater than or equal to 2", 400))

    def test_transitive_tags(self):
        sts = self.sts()
        self.assertEqual(
            self.refused(sts.assume_role, RoleArn=self.role1, RoleSessionName="s1",
                         Tags=[{"Key": "k1", "Value": "v1"}], TransitiveTagKeys=["k2"]),
            ("InvalidParameterValue",
             "The specified transitive tag key must be included in the requested tags.", 400))
        creds = sts.assume_role(RoleArn=self.role1, RoleSessionName="s1",
                                Tags=[{"Key": "k1", "Value": "v1"}],
                                TransitiveTagKeys=["k1"])["Credentials"]
        hop = self.server.session_boto3("sts", creds, parameter_validation=False)
        for key in ("k1", "K1"):
            self.assertEqual(
                self.refused(hop.assume_role, RoleArn=self.role2, RoleSessionName="s2",
                             Tags=[{"Key": key, "Value": "v2"}], TransitiveTagKeys=[key]),
                ("InvalidParameterValue", "One of the specified transitive tag keys can't be set "
                 "because it conflicts with a transitive tag key from the calling session.", 400))


if __name__ == "__main__":
    unittest.main()
