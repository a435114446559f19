"""The global condition keys every service's requests carry, so the policies
least-privilege setups are made of work on every API of a region:
aws:RequestedRegion (a region allow-list: us-east-1 for IAM, a global
service, as AWS gives it), aws:SecureTransport (deny plain HTTP) and
aws:SourceIp, in DynamoDB, S3, Lambda, IAM and STS alike. boto3 over HTTP
and HTTPS against a real server."""
import json
import unittest

import botocore.exceptions

from tandem_harness import ServerTestCase

ACCOUNT = "123456789012"
ACTIONS = ["dynamodb:ListTables", "s3:ListAllMyBuckets", "lambda:ListFunctions",
           "iam:ListUsers", "sts:GetFederationToken"]


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


class GlobalConditionKeys(ServerTestCase):
    server_args = {"account": ACCOUNT, "tls": True}

    def user(self, name, *statements):
        iam = self.server.boto3("iam")
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=doc(*statements))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return key["AccessKeyId"], key["SecretAccessKey"]

    def calls(self, keys, tls=False):
        """the outcome of one read of each service, as the user"""
        def c(service):
            return self.server.boto3(service, tls=tls, access_key=keys[0], secret_key=keys[1])
        out = {}
        for name, call in (("dynamodb", lambda: c("dynamodb").list_tables()),
                           ("s3", lambda: c("s3").list_buckets()),
                           ("lambda", lambda: c("lambda").list_functions()),
                           ("iam", lambda: c("iam").list_users()),
                           ("sts", lambda: c("sts").get_federation_token(Name="fed"))):
            try:
                call()
                out[name] = "ok"
            except botocore.exceptions.ClientError as e:
                out[name] = e.response["Error"]["Code"]
        return out

    def test_region_allow_list(self):
        keys = self.user("regional", {"Effect": "Allow", "Action": ACTIONS, "Resource": "*"}, {
            "Effect": "Deny", "Action": "*", "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1"]}}})
        self.assertEqual(self.calls(keys), dict.fromkeys(self.calls(keys), "ok"))
        keys = self.user("elsewhere", {"Effect": "Allow", "Action": ACTIONS, "Resource": "*"}, {
            "Effect": "Deny", "Action": "*", "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1"]}}})
        self.assertNotIn("ok", self.calls(keys).values())

    def test_deny_plain_http(self):
        keys = self.user("tls-only", {"Effect": "Allow", "Action": ACTIONS, "Resource": "*"}, {
            "Effect": "Deny", "Action": "*", "Resource": "*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}})
        self.assertNotIn("ok", self.calls(keys).values())
        self.assertEqual(set(self.calls(keys, tls=True).values()), {"ok"})

    def test_source_ip(self):
        keys = self.user("from-here", {"Effect": "Allow", "Action": ACTIONS, "Resource": "*",
                                       "Condition": {"IpAddress": {
                                           "aws:SourceIp": "127.0.0.0/8"}}})
        self.assertEqual(set(self.calls(keys).values()), {"ok"})
        keys = self.user("from-there", {"Effect": "Allow", "Action": ACTIONS, "Resource": "*",
                                        "Condition": {"IpAddress": {
                                            "aws:SourceIp": "203.0.113.0/24"}}})
        self.assertNotIn("ok", self.calls(keys).values())


if __name__ == "__main__":
    unittest.main()
