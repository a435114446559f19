"""IAM and STS end to end with the aws CLI: a user allowed only dynamodb:GetItem
on one table, access keys that work at once and after a restart, an assumed
role's credentials until they expire, managed policies and versions, and IAM's
errors for bad input."""
import json
import shutil
import subprocess
import time
import unittest

from tandem_harness import ServerTestCase, find_clients

ACCOUNT = "123456789012"


def aws_cli():
    for c in find_clients():
        if c.kind == "cli" and not c.missing:
            return c.argv
    return None


class AwsError(Exception):
    def __init__(self, code, text):
        super().__init__("%s: %s" % (code, text))
        self.code, self.text = code, text


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


class Iam(ServerTestCase):
    server_args = {"account": ACCOUNT, "extra_args": ["--sts-min-duration", "2"]}

    @classmethod
    def setUpClass(cls):
        cls.cli = aws_cli()
        if not cls.cli:
            raise unittest.SkipTest("no aws CLI on this machine")
        super().setUpClass()
        ddb = cls.server.boto3()
        for t in ("iam-t1", "iam-t2"):
            ddb.create_table(TableName=t, BillingMode="PAY_PER_REQUEST",
                             AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                             KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
            ddb.put_item(TableName=t, Item={"pk": {"S": "1"}, "v": {"S": t}})

    def aws(self, *args, keys=None, token=None):
        env = self.server.env(access_key=keys[0] if keys else None,
                              secret_key=keys[1] if keys else None)
        if token:
            env["AWS_SESSION_TOKEN"] = token
        cmd = self.cli + list(args) + ["--endpoint-url", self.server.url(), "--output", "json"]
        p = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=120)
        if p.returncode != 0:
            code = "unknown"
            if "An error occurred (" in p.stderr:
                code = p.stderr.split("An error occurred (", 1)[1].split(")", 1)[0]
            raise AwsError(code, p.stderr)
        return json.loads(p.stdout) if p.stdout.strip() else {}

    def assertAwsFails(self, code, *args, **kw):
        with self.assertRaises(AwsError) as cm:
            self.aws(*args, **kw)
        self.assertEqual(cm.exception.code, code, cm.exception.text)
        return cm.exception.text

    def table_arn(self, name):
        return "arn:aws:dynamodb:%s:%s:table/%s" % (self.server.region, ACCOUNT, name)

    def make_user(self, name, doc=None):
        self.aws("iam", "create-user", "--user-name", name)
        if doc:
            self.aws("iam", "put-user-policy", "--user-name", name, "--policy-name", "p",
                     "--policy-document", doc)
        k = self.aws("iam", "create-access-key", "--user-name", name)["AccessKey"]
        return k["AccessKeyId"], k["SecretAccessKey"]

    def get_item(self, table, keys, token=None):
        return self.aws("dynamodb", "get-item", "--table-name", table, "--key",
                        '{"pk":{"S":"1"}}', keys=keys, token=token)

    def test_get_item_only_user(self):
        keys = self.make_user("reader", policy({"Effect": "Allow", "Action": "dynamodb:GetItem",
                                                "Resource": self.table_arn("iam-t1")}))
        self.assertTrue(keys[0].startswith("AKIA"))
        self.assertEqual(self.get_item("iam-t1", keys)["Item"]["v"]["S"], "iam-t1")
        text = self.assertAwsFails("AccessDeniedException", "dynamodb", "get-item",
                                   "--table-name", "iam-t2", "--key", '{"pk":{"S":"1"}}',
                                   keys=keys)
        self.assertIn("User: arn:aws:iam::%s:user/reader is not authorized to perform: "
                      "dynamodb:GetItem on resource: %s because no identity-based policy "
                      "allows the dynamodb:GetItem action" % (ACCOUNT, self.table_arn("iam-t2")),
                      text)
        self.assertAwsFails("AccessDeniedException", "dynamodb", "put-item", "--table-name",
                            "iam-t1", "--item", '{"pk":{"S":"2"}}', keys=keys)
        self.assertAwsFails("AccessDeniedException", "dynamodb", "list-tables", keys=keys)
        self.assertAwsFails("AccessDeniedException", "dynamodb", "delete-table", "--table-name",
                            "iam-t1", keys=keys)
        self.assertAwsFails("AccessDenied", "iam", "list-users", keys=keys)
        self.assertAwsFails("AccessDenied", "iam", "create-user", "--user-name", "x", keys=keys)
        me = self.aws("sts", "get-caller-identity", keys=keys)
        self.assertEqual(me["Arn"], "arn:aws:iam::%s:user/reader" % ACCOUNT)
        self.assertEqual(me["Account"], ACCOUNT)
        self.assertTrue(me["UserId"].startswith("AIDA"))
        # an explicit deny beats the allow
        self.aws("iam", "put-user-policy", "--user-name", "reader", "--policy-name", "deny",
                 "--policy-document", policy({"Effect": "Deny", "Action": "dynamodb:*",
                                              "Resource": "*"}))
        text = self.assertAwsFails("AccessDeniedException", "dynamodb", "get-item",
                                   "--table-name", "iam-t1", "--key", '{"pk":{"S":"1"}}',
                                   keys=keys)
        self.assertIn("explicit deny", text)

    def test_keys_survive_restart_and_delete(self):
        keys = self.make_user("durable", policy({"Effect": "Allow", "Action": "dynamodb:*",
                                                 "Resource": self.table_arn("iam-t1")}))
        self.server.stop()
        self.server.start()
        self.assertEqual(self.get_item("iam-t1", keys)["Item"]["v"]["S"], "iam-t1")
        listed = self.aws("iam", "list-access-keys", "--user-name", "durable")
        self.assertEqual([k["AccessKeyId"] for k in listed["AccessKeyMetadata"]], [keys[0]])
        self.assertNotIn("SecretAccessKey", json.dumps(listed))
        self.assertAwsFails("DeleteConflict", "iam", "delete-user", "--user-name", "durable")
        self.aws("iam", "delete-access-key", "--user-name", "durable", "--access-key-id", keys[0])
        self.assertAwsFails("UnrecognizedClientException", "dynamodb", "get-item",
                            "--table-name", "iam-t1", "--key", '{"pk":{"S":"1"}}', keys=keys)

    def test_assume_role_until_expiry(self):
        caller = self.make_user("assumer")
        trust = policy({"Effect": "Allow", "Action": "sts:AssumeRole",
                        "Principal": {"AWS": "arn:aws:iam::%s:user/assumer" % ACCOUNT}})
        role = self.aws("iam", "create-role", "--role-name", "reader-role",
                        "--assume-role-policy-document", trust)["Role"]
        self.assertTrue(role["RoleId"].startswith("AROA"))
        self.assertEqual(json.loads(json.dumps(role["AssumeRolePolicyDocument"]))["Statement"][0]
                         ["Principal"]["AWS"], "arn:aws:iam::%s:user/assumer" % ACCOUNT)
        self.aws("iam", "put-role-policy", "--role-name", "reader-role", "--policy-name", "t1",
                 "--policy-document", policy({"Effect": "Allow", "Action": "dynamodb:GetItem",
                                              "Resource": self.table_arn("iam-t1")}))
        # someone the trust policy does not name
        other = self.make_user("stranger")
        self.assertAwsFails("AccessDenied", "sts", "assume-role", "--role-arn", role["Arn"],
                            "--role-session-name", "s1", keys=other)
        self.assertAwsFails("ValidationError", "sts", "assume-role", "--role-arn", role["Arn"],
                            "--role-session-name", "s1", "--duration-seconds", "7200",
                            keys=caller)
        out = self.aws("sts", "assume-role", "--role-arn", role["Arn"], "--role-session-name",
                       "s1", keys=caller)
        cr = out["Credentials"]
        self.assertTrue(cr["AccessKeyId"].startswith("ASIA"))
        self.assertEqual(out["AssumedRoleUser"]["Arn"],
                         "arn:aws:sts::%s:assumed-role/reader-role/s1" % ACCOUNT)
        keys, token = (cr["AccessKeyId"], cr["SecretAccessKey"]), cr["SessionToken"]
        self.assertEqual(self.get_item("iam-t1", keys, token)["Item"]["v"]["S"], "iam-t1")
        me = self.aws("sts", "get-caller-identity", keys=keys, token=token)
        self.assertEqual(me["Arn"], out["AssumedRoleUser"]["Arn"])
        self.assertEqual(me["UserId"], role["RoleId"] + ":s1")
        # role chaining: a trust policy naming reader-role lets its sessions in
        chained = self.aws("iam", "create-role", "--role-name", "chained-role",
                           "--assume-role-policy-document",
                           policy({"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {
                               "AWS": "arn:aws:iam::%s:role/reader-role" % ACCOUNT}}))["Role"]
        hop = self.aws("sts", "assume-role", "--role-arn", chained["Arn"], "--role-session-name",
                       "hop", keys=keys, token=token)
        self.assertEqual(hop["AssumedRoleUser"]["Arn"],
                         "arn:aws:sts::%s:assumed-role/chained-role/hop" % ACCOUNT)
        self.assertAwsFails("AccessDenied", "sts", "assume-role", "--role-arn", chained["Arn"],
                            "--role-session-name", "hop", keys=caller)
        self.assertAwsFails("AccessDeniedException", "dynamodb", "get-item", "--table-name",
                            "iam-t2", "--key", '{"pk":{"S":"1"}}', keys=keys, token=token)
        # The CLI refuses DurationSeconds under AWS's 900 itself, so the short
        # session (server started with --sts-min-duration 2) comes from boto3
        # without client-side validation; the CLI then uses it until it expires.
        sts = self.server.boto3("sts", access_key=caller[0], secret_key=caller[1],
                                parameter_validation=False)
        with self.assertRaises(Exception) as cm:
            sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s0", DurationSeconds=1)
        self.assertEqual(cm.exception.response["Error"]["Code"], "ValidationError")
        short = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="short",
                                DurationSeconds=6)["Credentials"]
        keys, token = (short["AccessKeyId"], short["SecretAccessKey"]), short["SessionToken"]
        self.assertEqual(self.get_item("iam-t1", keys, token)["Item"]["v"]["S"], "iam-t1")
        # trust updated to name nobody: new sessions are refused
        self.aws("iam", "update-assume-role-policy", "--role-name", "reader-role",
                 "--policy-document", policy({"Effect": "Allow", "Action": "sts:AssumeRole",
                                              "Principal": {"Service": "lambda.amazonaws.com"}}))
        self.assertAwsFails("AccessDenied", "sts", "assume-role", "--role-arn", role["Arn"],
                            "--role-session-name", "s2", keys=caller)
        time.sleep(7)
        self.assertAwsFails("ExpiredTokenException", "dynamodb", "get-item", "--table-name",
                            "iam-t1", "--key", '{"pk":{"S":"1"}}', keys=keys, token=token)

    def test_managed_policies_and_versions(self):
        p = self.aws("iam", "get-policy", "--policy-arn",
                     "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")["Policy"]
        self.assertEqual(p["DefaultVersionId"], "v3")
        v = self.aws("iam", "get-policy-version", "--policy-arn",
                     "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
                     "--version-id", "v1")["PolicyVersion"]
        self.assertIn("logs:PutLogEvents", json.dumps(v["Document"]))
        doc = policy({"Effect": "Allow", "Action": "dynamodb:GetItem",
                      "Resource": self.table_arn("iam-t2")})
        cp = self.aws("iam", "create-policy", "--policy-name", "t2-read",
                      "--policy-document", doc)["Policy"]
        self.assertEqual(cp["Arn"], "arn:aws:iam::%s:policy/t2-read" % ACCOUNT)
        keys = self.make_user("managed-user")
        self.assertAwsFails("AccessDeniedException", "dynamodb", "get-item", "--table-name",
                            "iam-t2", "--key", '{"pk":{"S":"1"}}', keys=keys)
        self.aws("iam", "attach-user-policy", "--user-name", "managed-user", "--policy-arn",
                 cp["Arn"])
        self.assertEqual(self.get_item("iam-t2", keys)["Item"]["v"]["S"], "iam-t2")
        att = self.aws("iam", "list-attached-user-policies", "--user-name", "managed-user")
        self.assertEqual(att["AttachedPolicies"], [{"PolicyName": "t2-read",
                                                    "PolicyArn": cp["Arn"]}])
        self.assertEqual(self.aws("iam", "get-policy", "--policy-arn", cp["Arn"])
                         ["Policy"]["AttachmentCount"], 1)
        # a new default version takes effect at once
        self.aws("iam", "create-policy-version", "--policy-arn", cp["Arn"], "--policy-document",
                 policy({"Effect": "Allow", "Action": "dynamodb:GetItem",
                         "Resource": self.table_arn("iam-t1")}), "--set-as-default")
        self.assertAwsFails("AccessDeniedException", "dynamodb", "get-item", "--table-name",
                            "iam-t2", "--key", '{"pk":{"S":"1"}}', keys=keys)
        self.get_item("iam-t1", keys)
        versions = self.aws("iam", "list-policy-versions", "--policy-arn", cp["Arn"])["Versions"]
        self.assertEqual(sorted(v["VersionId"] for v in versions), ["v1", "v2"])
        self.assertAwsFails("DeleteConflict", "iam", "delete-policy", "--policy-arn", cp["Arn"])
        self.aws("iam", "attach-user-policy", "--user-name", "managed-user", "--policy-arn",
                 "arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess")
        self.aws("dynamodb", "put-item", "--table-name", "iam-t2", "--item", '{"pk":{"S":"9"}}',
                 keys=keys)
        self.aws("iam", "detach-user-policy", "--user-name", "managed-user", "--policy-arn",
                 "arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess")
        self.assertAwsFails("NoSuchEntity", "iam", "detach-user-policy", "--user-name",
                            "managed-user", "--policy-arn",
                            "arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess")
        self.assertAwsFails("NoSuchEntity", "iam", "attach-user-policy", "--user-name",
                            "managed-user", "--policy-arn",
                            "arn:aws:iam::%s:policy/nope" % ACCOUNT)

    def test_tags(self):
        self.aws("iam", "create-user", "--user-name", "tagged", "--tags", "Key=team,Value=blue")
        self.aws("iam", "tag-user", "--user-name", "tagged", "--tags", "Key=env,Value=prod")
        tags = self.aws("iam", "list-user-tags", "--user-name", "tagged")["Tags"]
        self.assertEqual(sorted((t["Key"], t["Value"]) for t in tags),
                         [("env", "prod"), ("team", "blue")])
        self.aws("iam", "untag-user", "--user-name", "tagged", "--tag-keys", "team")
        tags = self.aws("iam", "get-user", "--user-name", "tagged")["User"]["Tags"]
        self.assertEqual(tags, [{"Key": "env", "Value": "prod"}])

    def test_bad_input(self):
        self.aws("iam", "create-user", "--user-name", "bad-input")
        self.assertAwsFails("EntityAlreadyExists", "iam", "create-user", "--user-name",
                            "bad-input")
        self.assertAwsFails("NoSuchEntity", "iam", "get-user", "--user-name", "nobody")
        self.assertAwsFails("MalformedPolicyDocument", "iam", "put-user-policy", "--user-name",
                            "bad-input", "--policy-name", "p", "--policy-document", "{not json")
        # IAM does not check that a vendor exists (LocalStack's test_iam_policies snapshots,
        # recorded against AWS), only the action's form
        self.aws("iam", "put-user-policy", "--user-name", "bad-input", "--policy-name", "p",
                 "--policy-document",
                 policy({"Effect": "Allow", "Action": "nosuch:Thing", "Resource": "*"}))
        self.aws("iam", "delete-user-policy", "--user-name", "bad-input", "--policy-name", "p")
        text = self.assertAwsFails("MalformedPolicyDocument", "iam", "put-user-policy",
                                   "--user-name", "bad-input", "--policy-name", "p",
                                   "--policy-document",
                                   policy({"Effect": "Allow", "Action": "nosuch:Thing:Else",
                                           "Resource": "*"}))
        self.assertIn("Actions/Condition can contain only one colon.", text)
        self.assertAwsFails("MalformedPolicyDocument", "iam", "put-user-policy", "--user-name",
                            "bad-input", "--policy-name", "p", "--policy-document",
                            policy({"Effect": "Allow", "Action": "GetItem", "Resource": "*"}))
        big = policy(*[{"Effect": "Allow", "Action": "dynamodb:GetItem",
                        "Resource": self.table_arn("t%04d" % i)} for i in range(40)])
        self.assertAwsFails("LimitExceeded", "iam", "put-user-policy", "--user-name",
                            "bad-input", "--policy-name", "p", "--policy-document", big)
        # the same document fits a role's 10240 characters; whitespace is not counted
        trust = policy({"Effect": "Allow", "Action": "sts:AssumeRole",
                        "Principal": {"Service": "lambda.amazonaws.com"}})
        self.aws("iam", "create-role", "--role-name", "bad-input-role",
                 "--assume-role-policy-document", trust)
        self.aws("iam", "put-role-policy", "--role-name", "bad-input-role", "--policy-name",
                 "p", "--policy-document", json.dumps(json.loads(big), indent=8))
        self.assertAwsFails("DeleteConflict", "iam", "delete-role", "--role-name",
                            "bad-input-role")
        self.assertAwsFails("MalformedPolicyDocument", "iam", "create-role", "--role-name", "r2",
                            "--assume-role-policy-document",
                            policy({"Effect": "Allow", "Action": "sts:AssumeRole"}))
        self.assertAwsFails("NoSuchEntity", "iam", "get-role-policy", "--role-name",
                            "bad-input-role", "--policy-name", "nope")
        self.assertAwsFails("ValidationError", "iam", "create-user", "--user-name", "bad/name")


if __name__ == "__main__":
    unittest.main()
