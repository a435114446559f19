"""IAM list pagination: Marker, MaxItems and IsTruncated on the List*
operations (and GetGroup), as botocore's paginators and the aws CLI (which
pages on its own) use them."""
import json
import subprocess
import unittest

from tandem_harness import ServerTestCase, find_clients

ACCOUNT = "123456789012"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": "sts:AssumeRole",
    "Principal": {"Service": "lambda.amazonaws.com"}}]})


def doc(n):
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "dynamodb:GetItem",
        "Resource": "arn:aws:dynamodb:*:*:table/t%d" % n}]})


def aws_cli():
    for c in find_clients():
        if c.kind == "cli" and not c.missing:
            return c.argv
    return None


class IamPaging(ServerTestCase):
    server_args = {"account": ACCOUNT}
    N = 7

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        iam = cls.iam = cls.server.boto3("iam")
        iam.create_group(GroupName="pg")
        iam.create_role(RoleName="pg-role", AssumeRolePolicyDocument=TRUST)
        cls.arns = []
        for i in range(cls.N):
            iam.create_user(UserName="pu%d" % i, Path="/paging/")
            iam.add_user_to_group(GroupName="pg", UserName="pu%d" % i)
            iam.create_group(GroupName="pg%d" % i)
            iam.add_user_to_group(GroupName="pg%d" % i, UserName="pu0")
            iam.create_role(RoleName="pr%d" % i, AssumeRolePolicyDocument=TRUST,
                            Path="/paging/")
            iam.put_user_policy(UserName="pu0", PolicyName="in%d" % i, PolicyDocument=doc(i))
            iam.put_role_policy(RoleName="pg-role", PolicyName="in%d" % i,
                                PolicyDocument=doc(i))
            iam.put_group_policy(GroupName="pg", PolicyName="in%d" % i, PolicyDocument=doc(i))
            arn = iam.create_policy(PolicyName="pp%d" % i, Path="/paging/",
                                    PolicyDocument=doc(i))["Policy"]["Arn"]
            cls.arns.append(arn)
            iam.attach_user_policy(UserName="pu0", PolicyArn=arn)
            iam.attach_role_policy(RoleName="pg-role", PolicyArn=arn)
            iam.attach_group_policy(GroupName="pg", PolicyArn=arn)
            iam.tag_user(UserName="pu0", Tags=[{"Key": "k%d" % i, "Value": "v"}])
        for i in range(4):
            iam.create_policy_version(PolicyArn=cls.arns[0], PolicyDocument=doc(10 + i),
                                      SetAsDefault=False)
        for i in range(2):
            iam.create_access_key(UserName="pu0")
        iam.attach_user_policy(UserName="pu1", PolicyArn=cls.arns[0])
        iam.attach_role_policy(RoleName="pr1", PolicyArn=cls.arns[0])

    def paged(self, op, key, page_size, **kw):
        """Every item through botocore's paginator at @page_size, and the page count."""
        pages = list(self.iam.get_paginator(op).paginate(
            PaginationConfig={"PageSize": page_size}, **kw))
        for p in pages[:-1]:
            self.assertTrue(p["IsTruncated"])
            self.assertLessEqual(len(p[key]), page_size)
            self.assertIn("Marker", p)
        self.assertFalse(pages[-1]["IsTruncated"])
        self.assertNotIn("Marker", pages[-1])
        return [x for p in pages for x in p[key]], len(pages)

    def test_paginators_see_every_item_once(self):
        cases = [
            ("list_users", "Users", {"PathPrefix": "/paging/"}, lambda u: u["UserName"], 7),
            ("list_roles", "Roles", {"PathPrefix": "/paging/"}, lambda r: r["RoleName"], 7),
            ("list_groups_for_user", "Groups", {"UserName": "pu0"},
             lambda g: g["GroupName"], 8),
            ("get_group", "Users", {"GroupName": "pg"}, lambda u: u["UserName"], 7),
            ("list_policies", "Policies", {"Scope": "Local", "PathPrefix": "/paging/"},
             lambda p: p["PolicyName"], 7),
            ("list_user_policies", "PolicyNames", {"UserName": "pu0"}, lambda n: n, 7),
            ("list_role_policies", "PolicyNames", {"RoleName": "pg-role"}, lambda n: n, 7),
            ("list_group_policies", "PolicyNames", {"GroupName": "pg"}, lambda n: n, 7),
            ("list_attached_user_policies", "AttachedPolicies", {"UserName": "pu0"},
             lambda p: p["PolicyArn"], 7),
            ("list_attached_role_policies", "AttachedPolicies", {"RoleName": "pg-role"},
             lambda p: p["PolicyArn"], 7),
            ("list_attached_group_policies", "AttachedPolicies", {"GroupName": "pg"},
             lambda p: p["PolicyArn"], 7),
            ("list_policy_versions", "Versions", {"PolicyArn": self.arns[0]},
             lambda v: v["VersionId"], 5),
            ("list_access_keys", "AccessKeyMetadata", {"UserName": "pu0"},
             lambda k: k["AccessKeyId"], 2),
            ("list_user_tags", "Tags", {"UserName": "pu0"}, lambda t: t["Key"], 7),
        ]
        for op, key, kw, ident, n in cases:
            whole = getattr(self.iam, op)(**kw)
            self.assertFalse(whole["IsTruncated"], op)
            want = [ident(x) for x in whole[key]]
            self.assertEqual(len(want), n, (op, want))
            for size in (1, 2, 3, n):
                with self.subTest(op=op, page_size=size):
                    got, npages = self.paged(op, key, size, **kw)
                    self.assertEqual([ident(x) for x in got], want)
                    self.assertEqual(npages, -(-n // size))

    def test_entities_for_policy(self):
        """ListEntitiesForPolicy pages its three lists together."""
        whole = self.iam.list_entities_for_policy(PolicyArn=self.arns[0])
        want = sorted(["user:pu0", "user:pu1", "role:pg-role", "role:pr1", "group:pg"])

        def names(p):
            return ([("user:" + u["UserName"]) for u in p["PolicyUsers"]] +
                    [("role:" + r["RoleName"]) for r in p["PolicyRoles"]] +
                    [("group:" + g["GroupName"]) for g in p["PolicyGroups"]])
        self.assertEqual(sorted(names(whole)), want)
        got = []
        pages = list(self.iam.get_paginator("list_entities_for_policy").paginate(
            PolicyArn=self.arns[0], PaginationConfig={"PageSize": 2}))
        for p in pages:
            self.assertLessEqual(len(names(p)), 2)
            got += names(p)
        self.assertEqual(sorted(got), want)
        self.assertEqual(len(pages), 3)

    def test_max_items_and_marker_by_hand(self):
        first = self.iam.list_users(PathPrefix="/paging/", MaxItems=3)
        self.assertTrue(first["IsTruncated"])
        self.assertEqual(len(first["Users"]), 3)
        rest = self.iam.list_users(PathPrefix="/paging/", Marker=first["Marker"], MaxItems=100)
        self.assertFalse(rest["IsTruncated"])
        self.assertEqual(len(rest["Users"]), 4)
        names = [u["UserName"] for u in first["Users"] + rest["Users"]]
        self.assertEqual(sorted(names), ["pu%d" % i for i in range(self.N)])
        iam = self.server.boto3("iam", parameter_validation=False)
        for bad in ({"MaxItems": 0}, {"MaxItems": 1001}, {"Marker": "not-a-marker"}):
            with self.subTest(bad=bad):
                with self.assertRaises(iam.exceptions.ClientError) as cm:
                    iam.list_users(**bad)
                self.assertEqual(cm.exception.response["Error"]["Code"], "ValidationError")
                self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"],
                                 400)

    def test_cli_pages_on_its_own(self):
        cli = aws_cli()
        if not cli:
            self.skipTest("no aws CLI on this machine")
        env = self.server.env()
        for args, key, n in ((["iam", "list-users", "--path-prefix", "/paging/"], "Users", 7),
                             (["iam", "list-roles", "--path-prefix", "/paging/"], "Roles", 7),
                             (["iam", "list-user-policies", "--user-name", "pu0"],
                              "PolicyNames", 7)):
            with self.subTest(args=args):
                p = subprocess.run(cli + args + ["--page-size", "2", "--endpoint-url",
                                                 self.server.url(), "--output", "json"],
                                   env=env, stdin=subprocess.DEVNULL, capture_output=True,
                                   text=True, timeout=120)
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertEqual(len(json.loads(p.stdout)[key]), n)
                p = subprocess.run(cli + args + ["--max-items", "3", "--endpoint-url",
                                                 self.server.url(), "--output", "json"],
                                   env=env, stdin=subprocess.DEVNULL, capture_output=True,
                                   text=True, timeout=120)
                self.assertEqual(p.returncode, 0, p.stderr)
                out = json.loads(p.stdout)
                self.assertEqual(len(out[key]), 3)
                self.assertIn("NextToken", out)


if __name__ == "__main__":
    unittest.main()
