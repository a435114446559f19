"""STS AssumeRole with session tags: Tags and TransitiveTagKeys as the trust
policy sees them (aws:RequestTag, aws:TagKeys, sts:TagSession), as the
session's aws:PrincipalTag, passed along a role chain (transitive ones only,
and never set again), counted into PackedPolicySize, and refused as STS
refuses them. A user's keys, boto3 and the aws CLI v2, against a real server."""
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


def allow(action, resource="*", **cond):
    s = {"Effect": "Allow", "Action": action, "Resource": resource}
    if cond:
        s["Condition"] = cond
    return s


class AssumeRoleTags(ServerTestCase):
    server_args = {"account": ACCOUNT}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        iam = cls.server.boto3("iam")
        user = iam.create_user(UserName="tagger")["User"]["Arn"]
        iam.put_user_policy(UserName="tagger", PolicyName="assume",
                            PolicyDocument=doc(allow("sts:AssumeRole")))
        key = iam.create_access_key(UserName="tagger")["AccessKey"]
        cls.user_keys = (key["AccessKeyId"], key["SecretAccessKey"])

        def role(name, principal, actions, *statements, **cond):
            trust = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": actions}
            if cond:
                trust["Condition"] = cond
            arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=doc(trust))["Role"]["Arn"]
            if statements:
                iam.put_role_policy(RoleName=name, PolicyName="work",
                                    PolicyDocument=doc(*statements))
            return arn

        work = (allow("sts:AssumeRole"),
                allow("dynamodb:ListTables",
                      StringEquals={"aws:PrincipalTag/project": "harbor"}),
                allow("s3:ListAllMyBuckets", StringEquals={"aws:PrincipalTag/cost": "42"}))
        cls.first = role("t-first", user, ["sts:AssumeRole", "sts:TagSession"], *work,
                         StringEquals={"aws:RequestTag/project": "harbor"})
        cls.second = role("t-second", cls.first, ["sts:AssumeRole", "sts:TagSession"], *work)
        cls.notag = role("t-notag", cls.first, "sts:AssumeRole", *work)
        cls.untagged_trust = role("t-plain", user, "sts:AssumeRole", *work)

    def sts(self, creds=None, **config):
        """STS as the user (@creds None) or as session @creds."""
        if creds is None:
            return self.server.boto3("sts", access_key=self.user_keys[0],
                                     secret_key=self.user_keys[1], **config)
        return self.server.session_boto3("sts", creds, **config)

    def client(self, service, creds):
        return self.server.session_boto3(service, creds)

    def refused(self, call, **kw):
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            call(**kw)
        e = cm.exception.response
        return e["Error"]["Code"], e["Error"]["Message"], e["ResponseMetadata"]["HTTPStatusCode"]

    TAGS = [{"Key": "project", "Value": "harbor"}, {"Key": "cost", "Value": "42"}]

    def test_tags_tag_the_session_and_pass_along_the_chain(self):
        r1 = self.sts().assume_role(RoleArn=self.first, RoleSessionName="hop1", Tags=self.TAGS,
                                    TransitiveTagKeys=["Project"])
        self.assertGreaterEqual(r1["PackedPolicySize"], 0)  # tags are packed: it is there
        self.client("dynamodb", r1["Credentials"]).list_tables()
        self.client("s3", r1["Credentials"]).list_buckets()
        hop = self.sts(r1["Credentials"])
        r2 = hop.assume_role(RoleArn=self.second, RoleSessionName="hop2")
        self.assertNotIn("PackedPolicySize", r2)  # nothing passed in this request
        self.client("dynamodb", r2["Credentials"]).list_tables()  # project came along
        code, _, _ = self.refused(self.client("s3", r2["Credentials"]).list_buckets)
        self.assertEqual(code, "AccessDenied")  # cost was not transitive
        # an inherited tag cannot be set again, in any case
        code, msg, status = self.refused(hop.assume_role, RoleArn=self.second,
                                         RoleSessionName="hop2",
                                         Tags=[{"Key": "PROJECT", "Value": "elsewhere"}])
        self.assertEqual((code, status), ("InvalidParameterValue", 400), msg)
        # a role that does not allow sts:TagSession cannot take the inherited tags
        code, msg, status = self.refused(hop.assume_role, RoleArn=self.notag,
                                         RoleSessionName="hop2")
        self.assertEqual((code, status), ("AccessDenied", 403))
        self.assertIn("not authorized to perform: sts:TagSession", msg)

    def test_trust_policy_sees_the_request_tags(self):
        code, msg, status = self.refused(self.sts().assume_role, RoleArn=self.first,
                                         RoleSessionName="s1",
                                         Tags=[{"Key": "project", "Value": "elsewhere"}])
        self.assertEqual((code, status), ("AccessDenied", 403))
        # tags need sts:TagSession: this trust policy allows the call only
        code, msg, status = self.refused(self.sts().assume_role, RoleArn=self.untagged_trust,
                                         RoleSessionName="s1", Tags=self.TAGS)
        self.assertEqual((code, status), ("AccessDenied", 403))
        self.assertIn("sts:TagSession", msg)
        r = self.sts().assume_role(RoleArn=self.untagged_trust, RoleSessionName="s1")
        self.assertNotIn("PackedPolicySize", r)

    def test_trust_policy_sees_the_callers_principal_tags(self):
        """A trust policy may test the caller's own tags (aws:PrincipalTag):
        an IAM user's tags, and a role session's (its role's tags with the
        session's tags over them) when it chains into another role."""
        iam = self.server.boto3("iam")
        arns = {}
        for name, team in (("blue-user", "blue"), ("red-user", "red")):
            arns[name] = iam.create_user(UserName=name, Tags=[{"Key": "team", "Value": team}])[
                "User"]["Arn"]
            iam.put_user_policy(UserName=name, PolicyName="assume",
                                PolicyDocument=doc(allow("sts:AssumeRole")))
        trust = {"Effect": "Allow", "Principal": {"AWS": list(arns.values()) + [self.first]},
                 "Action": "sts:AssumeRole",
                 "Condition": {"StringEquals": {"aws:PrincipalTag/team": "blue"}}}
        role = iam.create_role(RoleName="t-blue-only",
                               AssumeRolePolicyDocument=doc(trust))["Role"]["Arn"]

        def sts_of(user):
            k = iam.create_access_key(UserName=user)["AccessKey"]
            return self.server.boto3("sts", access_key=k["AccessKeyId"],
                                     secret_key=k["SecretAccessKey"])

        r = sts_of("blue-user").assume_role(RoleArn=role, RoleSessionName="bb")
        self.assertTrue(r["Credentials"]["SessionToken"])
        code, msg, status = self.refused(sts_of("red-user").assume_role, RoleArn=role,
                                         RoleSessionName="rr")
        self.assertEqual((code, status), ("AccessDenied", 403))
        self.assertIn("red-user", msg)
        # a role session carries its session tags as principal tags into the next hop
        blue = self.sts().assume_role(RoleArn=self.first, RoleSessionName="hop1",
                                      Tags=[{"Key": "project", "Value": "harbor"},
                                            {"Key": "team", "Value": "blue"}])
        self.sts(blue["Credentials"]).assume_role(RoleArn=role, RoleSessionName="hop2")
        plain = self.sts().assume_role(RoleArn=self.first, RoleSessionName="hop1",
                                       Tags=[{"Key": "project", "Value": "harbor"}])
        code, _, status = self.refused(self.sts(plain["Credentials"]).assume_role, RoleArn=role,
                                       RoleSessionName="hop2")
        self.assertEqual((code, status), ("AccessDenied", 403))

    def test_bad_tags(self):
        raw = self.sts(parameter_validation=False)
        cases = [
            ({"Tags": self.TAGS, "TransitiveTagKeys": ["nope"]}, "InvalidParameterValue"),
            ({"Tags": [{"Key": "a", "Value": "1"}, {"Key": "A", "Value": "2"}]},
             "InvalidParameterValue"),
            ({"Tags": [{"Key": "k%d" % i, "Value": "v"} for i in range(51)]}, "ValidationError"),
            ({"Tags": [{"Key": "x" * 129, "Value": "v"}]}, "ValidationError"),
            ({"Tags": [{"Key": "k", "Value": "v" * 257}]}, "ValidationError"),
            ({"Tags": [{"Key": "", "Value": "v"}]}, "ValidationError"),
            ({"Tags": [{"Key": "semi;colon", "Value": "v"}]}, "ValidationError"),
            ({"Tags": [{"Key": "k"}]}, "ValidationError"),
        ]
        for kw, want in cases:
            with self.subTest(kw=str(kw)[:80]):
                code, msg, status = self.refused(raw.assume_role, RoleArn=self.first,
                                                 RoleSessionName="bad", **kw)
                self.assertEqual((code, status), (want, 400), msg)

    def test_packed_size_counts_policy_and_tags_together(self):
        policy = doc(*[allow("dynamodb:ListTables",
                             "arn:aws:dynamodb:us-east-1:%s:table/t%03d" % (ACCOUNT, i))
                       for i in range(8)])
        tags = [{"Key": "project", "Value": "harbor"}] + [
            {"Key": "k%02d" % i, "Value": "v" * 256} for i in range(6)]
        sts = self.sts()
        alone = sts.assume_role(RoleArn=self.first, RoleSessionName="p1",
                                Tags=tags[:1], Policy=policy)["PackedPolicySize"]
        tagged = sts.assume_role(RoleArn=self.first, RoleSessionName="p2",
                                 Tags=tags)["PackedPolicySize"]
        self.assertLess(alone, 100)
        self.assertLess(tagged, 100)
        code, msg, status = self.refused(sts.assume_role, RoleArn=self.first,
                                         RoleSessionName="p3", Tags=tags, Policy=policy)
        self.assertEqual((code, status), ("PackedPolicyTooLarge", 400), msg)

    @unittest.skipUnless(os.access(AWS_CLI, os.X_OK), "no aws CLI v2")
    def test_aws_cli_v2(self):
        env = self.server.env(access_key=self.user_keys[0], secret_key=self.user_keys[1])
        out = subprocess.run(
            [AWS_CLI, "sts", "assume-role", "--endpoint-url", self.server.url(),
             "--role-arn", self.first, "--role-session-name", "cli",
             "--tags", "Key=project,Value=harbor", "Key=cost,Value=42",
             "--transitive-tag-keys", "project", "--output", "json"],
            env=env, capture_output=True, text=True, timeout=120)
        self.assertEqual(out.returncode, 0, out.stderr)
        creds = json.loads(out.stdout)["Credentials"]
        r2 = self.sts(creds).assume_role(RoleArn=self.second, RoleSessionName="cli2")
        self.client("dynamodb", r2["Credentials"]).list_tables()


if __name__ == "__main__":
    unittest.main()
