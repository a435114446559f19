"""STS AssumeRole's SourceIdentity, as the IAM User Guide's "Monitor and
control actions taken with assumed roles" describes it: setting it needs
sts:SetSourceIdentity in the role's trust policy, which sees it as
sts:SourceIdentity; the session's requests carry it as aws:SourceIdentity; it
passes along a role chain (each role's trust policy allowing
sts:SetSourceIdentity) and cannot be changed there. boto3, against a real
server."""
import json
import unittest

import botocore.exceptions

from tandem_harness import ServerTestCase

ACCOUNT = "123456789012"


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


class SourceIdentity(ServerTestCase):
    server_args = {"account": ACCOUNT}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        iam = cls.server.boto3("iam")
        user = iam.create_user(UserName="operator")["User"]["Arn"]
        iam.put_user_policy(UserName="operator", PolicyName="p", PolicyDocument=doc(
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}))
        key = iam.create_access_key(UserName="operator")["AccessKey"]
        cls.keys = (key["AccessKeyId"], key["SecretAccessKey"])

        def role(name, principal, actions, **cond):
            trust = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": actions}
            if cond:
                trust["Condition"] = cond
            arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=doc(trust))["Role"]["Arn"]
            iam.put_role_policy(RoleName=name, PolicyName="work", PolicyDocument=doc(
                {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"},
                {"Effect": "Allow", "Action": "dynamodb:ListTables", "Resource": "*",
                 "Condition": {"StringEquals": {"aws:SourceIdentity": "alice"}}}))
            return arn

        both = ["sts:AssumeRole", "sts:SetSourceIdentity"]
        cls.first = role("si-first", user, both,
                         StringLike={"sts:SourceIdentity": "alice*"})
        cls.plain = role("si-plain", user, "sts:AssumeRole")
        cls.second = role("si-second", cls.first, both)
        cls.closed = role("si-closed", cls.first, "sts:AssumeRole")

    def sts(self, creds=None):
        if creds is None:
            return self.server.boto3("sts", access_key=self.keys[0], secret_key=self.keys[1],
                                     parameter_validation=False)
        return self.server.session_boto3("sts", creds, parameter_validation=False)

    def refused(self, call, **kw):
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            call(**kw)
        e = cm.exception.response
        return e["Error"]["Code"], e["Error"]["Message"], e["ResponseMetadata"]["HTTPStatusCode"]

    def test_setting_it_needs_the_trust_policy(self):
        code, msg, status = self.refused(self.sts().assume_role, RoleArn=self.plain,
                                         RoleSessionName="s1", SourceIdentity="alice")
        self.assertEqual((code, status), ("AccessDenied", 403))
        self.assertIn("not authorized to perform: sts:SetSourceIdentity", msg)
        # the trust policy sees the value it is asked to set
        code, _, status = self.refused(self.sts().assume_role, RoleArn=self.first,
                                       RoleSessionName="s1", SourceIdentity="bob")
        self.assertEqual((code, status), ("AccessDenied", 403))
        # without one, a role that does not allow setting it is assumed as before
        r = self.sts().assume_role(RoleArn=self.plain, RoleSessionName="s1")
        self.assertNotIn("SourceIdentity", r)
        code, _, _ = self.refused(
            self.server.session_boto3("dynamodb", r["Credentials"]).list_tables)
        self.assertEqual(code, "AccessDeniedException")

    def test_the_session_carries_it_along_the_chain(self):
        r = self.sts().assume_role(RoleArn=self.first, RoleSessionName="s1",
                                   SourceIdentity="alice")
        self.assertEqual(r["SourceIdentity"], "alice")
        creds = r["Credentials"]
        self.server.session_boto3("dynamodb", creds).list_tables()  # aws:SourceIdentity
        hop = self.sts(creds)
        r2 = hop.assume_role(RoleArn=self.second, RoleSessionName="s2")
        self.assertEqual(r2["SourceIdentity"], "alice")
        self.server.session_boto3("dynamodb", r2["Credentials"]).list_tables()
        self.assertEqual(hop.assume_role(RoleArn=self.second, RoleSessionName="s3",
                                         SourceIdentity="alice")["SourceIdentity"], "alice")
        # it cannot be changed
        code, msg, status = self.refused(hop.assume_role, RoleArn=self.second,
                                         RoleSessionName="s4", SourceIdentity="mallory")
        self.assertEqual((code, status), ("AccessDenied", 403), msg)
        # each role of the chain must allow setting it
        code, msg, status = self.refused(hop.assume_role, RoleArn=self.closed,
                                         RoleSessionName="s5")
        self.assertEqual((code, status), ("AccessDenied", 403))
        self.assertIn("sts:SetSourceIdentity", msg)

    def test_refused_values(self):
        for value, constraint in (
                ("a", "Member must have length greater than or equal to 2"),
                ("x" * 65, "Member must have length less than or equal to 64"),
                ("bad:id", "Member must satisfy regular expression pattern: [\\w+=,.@-]*")):
            self.assertEqual(
                self.refused(self.sts().assume_role, RoleArn=self.first, RoleSessionName="s1",
                             SourceIdentity=value),
                ("ValidationError", "1 validation error detected: Value '%s' at "
                 "'sourceIdentity' failed to satisfy constraint: %s" % (value, constraint), 400))


if __name__ == "__main__":
    unittest.main()
