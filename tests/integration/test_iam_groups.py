"""IAM groups, permissions boundaries and session policies end to end with the
aws CLI and boto3: group membership and group policies decide what a user may
do; a boundary caps a user's or role's permissions; AssumeRole's Policy and
PolicyArns cap a session's; IAM's shapes and errors for each."""
import json
import subprocess
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


def allow(action, resource="*"):
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def deny(action, resource="*"):
    return {"Effect": "Deny", "Action": action, "Resource": resource}


class IamGroups(ServerTestCase):
    server_args = {"account": ACCOUNT}

    @classmethod
    def setUpClass(cls):
        cls.cli = aws_cli()
        if not cls.cli:
            raise unittest.SkipTest("no aws CLI on this machine")
        super().setUpClass()
        ddb = cls.server.boto3()
        for t in ("g-t1", "g-t2"):
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

    def user_with_keys(self, name, *extra):
        self.aws("iam", "create-user", "--user-name", name, *extra)
        k = self.aws("iam", "create-access-key", "--user-name", name)["AccessKey"]
        return k["AccessKeyId"], k["SecretAccessKey"]

    def get_item(self, table, keys, token=None):
        return self.aws("dynamodb", "get-item", "--table-name", table, "--key",
                        '{"pk":{"S":"1"}}', keys=keys, token=token)

    def put_item(self, table, keys, token=None):
        return self.aws("dynamodb", "put-item", "--table-name", table, "--item",
                        '{"pk":{"S":"2"}}', keys=keys, token=token)

    def test_groups(self):
        keys = self.user_with_keys("gina")
        g = self.aws("iam", "create-group", "--group-name", "readers", "--path", "/team/")["Group"]
        self.assertEqual(g["GroupName"], "readers")
        self.assertEqual(g["Path"], "/team/")
        self.assertEqual(g["Arn"], "arn:aws:iam::%s:group/team/readers" % ACCOUNT)
        self.assertTrue(g["GroupId"].startswith("AGPA"))
        self.assertAwsFails("EntityAlreadyExists", "iam", "create-group", "--group-name",
                            "readers")
        self.assertAwsFails("NoSuchEntity", "iam", "get-group", "--group-name", "nobody")
        # no group yet: nothing allowed
        self.assertAwsFails("AccessDeniedException", "dynamodb", "get-item", "--table-name",
                            "g-t1", "--key", '{"pk":{"S":"1"}}', keys=keys)
        self.aws("iam", "put-group-policy", "--group-name", "readers", "--policy-name", "read",
                 "--policy-document", policy(allow("dynamodb:GetItem", self.table_arn("g-t1"))))
        self.aws("iam", "add-user-to-group", "--group-name", "readers", "--user-name", "gina")
        self.aws("iam", "add-user-to-group", "--group-name", "readers", "--user-name", "gina")
        got = self.aws("iam", "get-group", "--group-name", "readers")
        self.assertEqual([u["UserName"] for u in got["Users"]], ["gina"])
        self.assertEqual(got["Group"]["GroupId"], g["GroupId"])
        self.assertEqual([x["GroupName"] for x in
                          self.aws("iam", "list-groups-for-user", "--user-name", "gina")["Groups"]],
                         ["readers"])
        self.assertIn("readers", [x["GroupName"] for x in self.aws("iam", "list-groups")["Groups"]])
        self.assertEqual(self.aws("iam", "list-group-policies", "--group-name",
                                  "readers")["PolicyNames"], ["read"])
        gp = self.aws("iam", "get-group-policy", "--group-name", "readers", "--policy-name", "read")
        self.assertEqual(gp["PolicyDocument"]["Statement"][0]["Action"], "dynamodb:GetItem")
        self.assertAwsFails("NoSuchEntity", "iam", "get-group-policy", "--group-name", "readers",
                            "--policy-name", "nope")
        # the group's inline policy now lets gina read g-t1, nothing more
        self.assertEqual(self.get_item("g-t1", keys)["Item"]["v"]["S"], "g-t1")
        self.assertAwsFails("AccessDeniedException", "dynamodb", "get-item", "--table-name",
                            "g-t2", "--key", '{"pk":{"S":"1"}}', keys=keys)
        # a managed policy attached to the group
        arn = self.aws("iam", "create-policy", "--policy-name", "g-writer", "--policy-document",
                       policy(allow("dynamodb:PutItem", self.table_arn("g-t2"))))["Policy"]["Arn"]
        self.aws("iam", "attach-group-policy", "--group-name", "readers", "--policy-arn", arn)
        self.assertEqual([p["PolicyArn"] for p in self.aws(
            "iam", "list-attached-group-policies", "--group-name", "readers")["AttachedPolicies"]],
            [arn])
        self.put_item("g-t2", keys)
        ents = self.aws("iam", "list-entities-for-policy", "--policy-arn", arn)
        self.assertEqual([x["GroupName"] for x in ents["PolicyGroups"]], ["readers"])
        self.assertEqual(ents["PolicyUsers"], [])
        self.assertEqual(self.aws("iam", "get-policy", "--policy-arn",
                                  arn)["Policy"]["AttachmentCount"], 1)
        self.assertAwsFails("DeleteConflict", "iam", "delete-policy", "--policy-arn", arn)
        # a deny in a group's policy beats the allow in another's
        self.aws("iam", "create-group", "--group-name", "no-writes")
        self.aws("iam", "put-group-policy", "--group-name", "no-writes", "--policy-name", "d",
                 "--policy-document", policy(deny("dynamodb:PutItem")))
        self.aws("iam", "add-user-to-group", "--group-name", "no-writes", "--user-name", "gina")
        text = self.assertAwsFails("AccessDeniedException", "dynamodb", "put-item",
                                   "--table-name", "g-t2", "--item", '{"pk":{"S":"2"}}',
                                   keys=keys)
        self.assertIn("explicit deny in an identity-based policy", text)
        # members and policies keep a group (and a user) from being deleted
        self.assertAwsFails("DeleteConflict", "iam", "delete-group", "--group-name", "no-writes")
        self.aws("iam", "remove-user-from-group", "--group-name", "no-writes", "--user-name",
                 "gina")
        # removing a user who is no longer a member succeeds, as on IAM
        self.aws("iam", "remove-user-from-group", "--group-name", "no-writes", "--user-name",
                 "gina")
        self.assertEqual(self.aws("iam", "get-group", "--group-name", "no-writes")["Users"], [])
        self.put_item("g-t2", keys)
        self.assertAwsFails("DeleteConflict", "iam", "delete-group", "--group-name", "no-writes")
        self.aws("iam", "delete-group-policy", "--group-name", "no-writes", "--policy-name", "d")
        self.aws("iam", "delete-group", "--group-name", "no-writes")
        self.assertAwsFails("NoSuchEntity", "iam", "add-user-to-group", "--group-name",
                            "no-writes", "--user-name", "gina")
        self.assertAwsFails("NoSuchEntity", "iam", "add-user-to-group", "--group-name", "readers",
                            "--user-name", "nobody")
        self.aws("iam", "delete-access-key", "--user-name", "gina", "--access-key-id", keys[0])
        self.assertAwsFails("DeleteConflict", "iam", "delete-user", "--user-name", "gina")
        self.aws("iam", "remove-user-from-group", "--group-name", "readers", "--user-name", "gina")
        self.assertEqual(self.aws("iam", "get-group", "--group-name", "readers")["Users"], [])
        self.aws("iam", "delete-user", "--user-name", "gina")
        self.aws("iam", "detach-group-policy", "--group-name", "readers", "--policy-arn", arn)
        self.aws("iam", "delete-group-policy", "--group-name", "readers", "--policy-name", "read")
        self.aws("iam", "delete-group", "--group-name", "readers")
        self.assertNotIn("readers",
                         [x["GroupName"] for x in self.aws("iam", "list-groups")["Groups"]])
        # bad input
        self.assertAwsFails("ValidationError", "iam", "create-group", "--group-name", "a b")
        self.assertAwsFails("NoSuchEntity", "iam", "put-group-policy", "--group-name", "nobody",
                            "--policy-name", "p", "--policy-document", policy(allow("s3:*")))
        self.aws("iam", "create-group", "--group-name", "big")
        big = policy(*[allow("dynamodb:GetItem", self.table_arn("t%04d" % i))
                       for i in range(80)])
        self.assertAwsFails("LimitExceeded", "iam", "put-group-policy", "--group-name", "big",
                            "--policy-name", "p", "--policy-document", big)
        self.assertAwsFails("MalformedPolicyDocument", "iam", "put-group-policy", "--group-name",
                            "big", "--policy-name", "p", "--policy-document",
                            policy(allow("s3:Get:Object")))
        self.aws("iam", "delete-group", "--group-name", "big")

    def test_permissions_boundary(self):
        cap = self.aws("iam", "create-policy", "--policy-name", "cap-ddb-read",
                       "--policy-document",
                       policy(allow(["dynamodb:GetItem", "dynamodb:Query"])))["Policy"]["Arn"]
        keys = self.user_with_keys("bounded", "--permissions-boundary", cap)
        u = self.aws("iam", "get-user", "--user-name", "bounded")["User"]
        self.assertEqual(u["PermissionsBoundary"], {
            "PermissionsBoundaryType": "Policy",
            "PermissionsBoundaryArn": cap})
        self.aws("iam", "put-user-policy", "--user-name", "bounded", "--policy-name", "all",
                 "--policy-document", policy(allow("dynamodb:*")))
        # identity policy allows everything; the boundary lets only reads through
        self.assertEqual(self.get_item("g-t1", keys)["Item"]["v"]["S"], "g-t1")
        text = self.assertAwsFails("AccessDeniedException", "dynamodb", "put-item",
                                   "--table-name", "g-t1", "--item", '{"pk":{"S":"3"}}',
                                   keys=keys)
        self.assertIn("because no permissions boundary allows the dynamodb:PutItem action", text)
        self.assertEqual(self.aws("iam", "get-policy", "--policy-arn", cap)["Policy"]
                         ["PermissionsBoundaryUsageCount"], 1)
        ents = self.aws("iam", "list-entities-for-policy", "--policy-arn", cap,
                        "--policy-usage-filter", "PermissionsBoundary")
        self.assertEqual([x["UserName"] for x in ents["PolicyUsers"]], ["bounded"])
        self.assertAwsFails("DeleteConflict", "iam", "delete-policy", "--policy-arn", cap)
        # a wider boundary, then none
        self.aws("iam", "put-user-permissions-boundary", "--user-name", "bounded",
                 "--permissions-boundary", "arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess")
        self.put_item("g-t1", keys)
        self.aws("iam", "delete-user-permissions-boundary", "--user-name", "bounded")
        self.assertNotIn("PermissionsBoundary",
                         self.aws("iam", "get-user", "--user-name", "bounded")["User"])
        self.put_item("g-t1", keys)
        self.assertAwsFails("NoSuchEntity", "iam", "put-user-permissions-boundary",
                            "--user-name", "bounded", "--permissions-boundary",
                            "arn:aws:iam::%s:policy/nope" % ACCOUNT)
        self.assertAwsFails("InvalidInput", "iam", "put-user-permissions-boundary",
                            "--user-name", "bounded", "--permissions-boundary",
                            "not-an-arn-but-long-enough")
        self.assertAwsFails("NoSuchEntity", "iam", "put-user-permissions-boundary",
                            "--user-name", "nobody", "--permissions-boundary", cap)
        self.assertAwsFails("NoSuchEntity", "iam", "create-user", "--user-name", "x2",
                            "--permissions-boundary", "arn:aws:iam::%s:policy/nope" % ACCOUNT)
        # a role's boundary caps its sessions
        trust = policy({"Effect": "Allow", "Action": "sts:AssumeRole",
                        "Principal": {"AWS": "arn:aws:iam::%s:user/bounded" % ACCOUNT}})
        role = self.aws("iam", "create-role", "--role-name", "capped", "--assume-role-policy-document",
                        trust, "--permissions-boundary", cap)["Role"]
        self.assertEqual(role["PermissionsBoundary"]["PermissionsBoundaryArn"], cap)
        self.aws("iam", "put-role-policy", "--role-name", "capped", "--policy-name", "all",
                 "--policy-document", policy(allow("dynamodb:*")))
        cr = self.aws("sts", "assume-role", "--role-arn", role["Arn"],
                      "--role-session-name", "s1",
                      keys=keys)["Credentials"]
        sk, tok = (cr["AccessKeyId"], cr["SecretAccessKey"]), cr["SessionToken"]
        self.get_item("g-t1", sk, tok)
        self.assertAwsFails("AccessDeniedException", "dynamodb", "put-item", "--table-name",
                            "g-t1", "--item", '{"pk":{"S":"3"}}', keys=sk, token=tok)
        self.aws("iam", "delete-role-permissions-boundary", "--role-name", "capped")
        self.assertNotIn("PermissionsBoundary",
                         self.aws("iam", "get-role", "--role-name", "capped")["Role"])
        self.put_item("g-t1", sk, tok)
        self.aws("iam", "put-role-permissions-boundary", "--role-name", "capped",
                 "--permissions-boundary", cap)
        self.assertAwsFails("AccessDeniedException", "dynamodb", "put-item", "--table-name",
                            "g-t1", "--item", '{"pk":{"S":"3"}}', keys=sk, token=tok)

    def test_session_policies(self):
        keys = self.user_with_keys("sessioner")
        trust = policy({"Effect": "Allow", "Action": "sts:AssumeRole",
                        "Principal": {"AWS": "arn:aws:iam::%s:user/sessioner" % ACCOUNT}})
        role = self.aws("iam", "create-role", "--role-name", "wide",
                        "--assume-role-policy-document", trust)["Role"]
        self.aws("iam", "put-role-policy", "--role-name", "wide", "--policy-name", "all",
                 "--policy-document", policy(allow("dynamodb:*")))
        # Policy: only GetItem on g-t1 for this session
        out = self.aws("sts", "assume-role", "--role-arn", role["Arn"], "--role-session-name",
                       "narrow", "--policy",
                       policy(allow("dynamodb:GetItem", self.table_arn("g-t1"))), keys=keys)
        self.assertGreater(out["PackedPolicySize"], 0)
        cr = out["Credentials"]
        sk, tok = (cr["AccessKeyId"], cr["SecretAccessKey"]), cr["SessionToken"]
        self.assertEqual(self.get_item("g-t1", sk, tok)["Item"]["v"]["S"], "g-t1")
        text = self.assertAwsFails("AccessDeniedException", "dynamodb", "get-item",
                                   "--table-name", "g-t2", "--key", '{"pk":{"S":"1"}}', keys=sk,
                                   token=tok)
        self.assertIn("because no session policy allows the dynamodb:GetItem action", text)
        self.assertAwsFails("AccessDeniedException", "dynamodb", "put-item", "--table-name",
                            "g-t1", "--item", '{"pk":{"S":"4"}}', keys=sk, token=tok)
        # a session policy cannot grant more than the role has
        out = self.aws("sts", "assume-role", "--role-arn", role["Arn"], "--role-session-name",
                       "greedy", "--policy", policy(allow("*")), keys=keys)
        cr = out["Credentials"]
        gk, gt = (cr["AccessKeyId"], cr["SecretAccessKey"]), cr["SessionToken"]
        self.put_item("g-t1", gk, gt)
        self.assertAwsFails("AccessDenied", "iam", "list-users", keys=gk, token=gt)
        # PolicyArns: a managed policy as the session policy (boto3)
        sts = self.server.boto3("sts", access_key=keys[0], secret_key=keys[1])
        ro = "arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess"
        cr = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="ro",
                             PolicyArns=[{"arn": ro}])["Credentials"]
        ddb = self.server.boto3("dynamodb", access_key=cr["AccessKeyId"],
                                secret_key=cr["SecretAccessKey"])
        ddb._request_signer._credentials.token = cr["SessionToken"]
        self.assertEqual(ddb.get_item(TableName="g-t2", Key={"pk": {"S": "1"}})["Item"]["v"]["S"],
                         "g-t2")
        with self.assertRaises(Exception) as cm:
            ddb.put_item(TableName="g-t2", Item={"pk": {"S": "5"}})
        self.assertEqual(cm.exception.response["Error"]["Code"], "AccessDeniedException")
        # no session policy: the role's own permissions
        cr = self.aws("sts", "assume-role", "--role-arn", role["Arn"], "--role-session-name",
                      "plain", keys=keys)
        self.assertNotIn("PackedPolicySize", cr)
        cr = cr["Credentials"]
        self.put_item("g-t2", (cr["AccessKeyId"], cr["SecretAccessKey"]), cr["SessionToken"])
        # bad session policies
        self.assertAwsFails("MalformedPolicyDocument", "sts", "assume-role", "--role-arn",
                            role["Arn"], "--role-session-name", "bad", "--policy",
                            '{"Version":"2012-10-17","Statement":[{"Effect":"Allow"}]}',
                            keys=keys)
        self.assertAwsFails("MalformedPolicyDocument", "sts", "assume-role", "--role-arn",
                            role["Arn"], "--role-session-name", "bad", "--policy", "{nope",
                            keys=keys)
        raw = self.server.boto3("sts", access_key=keys[0], secret_key=keys[1],
                                parameter_validation=False)
        # PolicyArns naming a policy that does not exist: refused, no session
        missing = "arn:aws:iam::%s:policy/no-such-policy" % ACCOUNT
        for arns in ([missing], [ro, missing], ["arn:aws:iam::aws:policy/NoSuchAwsPolicy"]):
            with self.subTest(arns=arns):
                with self.assertRaises(Exception) as cm:
                    raw.assume_role(RoleArn=role["Arn"], RoleSessionName="missing",
                                    PolicyArns=[{"arn": a} for a in arns])
                err = cm.exception.response["Error"]
                self.assertEqual(err["Code"], "MalformedPolicyDocument")
                self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)
                self.assertIn(arns[-1], err["Message"])
        iam = self.server.boto3("iam")
        long_arns = [iam.create_policy(PolicyName="p" * 120 + str(i), PolicyDocument=policy(
            allow("dynamodb:GetItem")))["Policy"]["Arn"] for i in range(10)]
        self.assertEqual(long_arns[0], "arn:aws:iam::%s:policy/%s" % (ACCOUNT, "p" * 120 + "0"))
        with self.assertRaises(Exception) as cm:
            raw.assume_role(RoleArn=role["Arn"], RoleSessionName="big",
                            Policy=policy(*[allow("dynamodb:GetItem", self.table_arn("t%03d" % i))
                                            for i in range(15)]),
                            PolicyArns=[{"arn": a} for a in long_arns])
        self.assertEqual(cm.exception.response["Error"]["Code"], "PackedPolicyTooLarge")
        with self.assertRaises(Exception) as cm:
            raw.assume_role(RoleArn=role["Arn"], RoleSessionName="big",
                            Policy=policy(*[allow("dynamodb:GetItem", self.table_arn("t%03d" % i))
                                            for i in range(40)]))
        self.assertEqual(cm.exception.response["Error"]["Code"], "ValidationError")
        with self.assertRaises(Exception) as cm:
            raw.assume_role(RoleArn=role["Arn"], RoleSessionName="many",
                            PolicyArns=[{"arn": ro}] * 11)
        self.assertEqual(cm.exception.response["Error"]["Code"], "ValidationError")


if __name__ == "__main__":
    unittest.main()
