"""IAM names and policies as IAM treats them, with boto3: user, role and group
names are unique and found without regard to case, lists come back in name
order ignoring case, UpdateUser and UpdateGroup rename and move an entity (a
renamed user's access keys and a renamed group's members follow it), a policy
with two statements of the same Sid is refused, and a ListBuckets grant or
deny on "arn:aws:s3:::*" decides S3's ListBuckets."""
import json
import unittest

import botocore.exceptions

from tandem_harness import ServerTestCase

ACCOUNT = "123456789012"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % ACCOUNT},
     "Action": "sts:AssumeRole"}]})


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


class IamNames(ServerTestCase):
    server_args = {"account": ACCOUNT}

    def setUp(self):
        self.iam = self.server.boto3("iam")

    def code(self, fn, **kw):
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            fn(**kw)
        return cm.exception.response["Error"]["Code"]

    def test_names_ignore_case(self):
        made = self.iam.create_user(UserName="Harbor", Path="/ports/")["User"]
        self.assertEqual(self.code(self.iam.create_user, UserName="HARBOR"),
                         "EntityAlreadyExists")
        self.assertEqual(self.iam.get_user(UserName="harbor")["User"], made)
        self.iam.put_user_policy(UserName="hArBoR", PolicyName="p",
                                 PolicyDocument=doc({"Effect": "Allow", "Action": "s3:*",
                                                     "Resource": "*"}))
        self.assertEqual(self.iam.list_user_policies(UserName="Harbor")["PolicyNames"], ["p"])
        self.iam.delete_user_policy(UserName="HARBOR", PolicyName="p")
        self.iam.create_role(RoleName="Tide", AssumeRolePolicyDocument=TRUST)
        self.assertEqual(self.code(self.iam.create_role, RoleName="tide",
                                   AssumeRolePolicyDocument=TRUST), "EntityAlreadyExists")
        self.assertEqual(self.iam.get_role(RoleName="TIDE")["Role"]["RoleName"], "Tide")
        self.iam.create_group(GroupName="Crew")
        self.assertEqual(self.code(self.iam.create_group, GroupName="crew"),
                         "EntityAlreadyExists")
        self.iam.add_user_to_group(GroupName="CREW", UserName="harbor")
        g = self.iam.get_group(GroupName="cReW")
        self.assertEqual((g["Group"]["GroupName"], [u["UserName"] for u in g["Users"]]),
                         ("Crew", ["Harbor"]))
        self.assertEqual([x["GroupName"] for x in
                          self.iam.list_groups_for_user(UserName="Harbor")["Groups"]], ["Crew"])
        self.iam.remove_user_from_group(GroupName="crew", UserName="HARBOR")
        key = self.iam.create_access_key(UserName="HARBOR")["AccessKey"]
        self.assertEqual(key["UserName"], "Harbor")
        self.assertEqual([k["AccessKeyId"] for k in
                          self.iam.list_access_keys(UserName="harbor")["AccessKeyMetadata"]],
                         [key["AccessKeyId"]])
        sts = self.server.boto3("sts", access_key=key["AccessKeyId"],
                                secret_key=key["SecretAccessKey"])
        self.assertEqual(sts.get_caller_identity()["Arn"],
                         "arn:aws:iam::%s:user/ports/Harbor" % ACCOUNT)
        self.iam.update_access_key(UserName="hArbor", AccessKeyId=key["AccessKeyId"],
                                   Status="Inactive")
        self.iam.delete_access_key(UserName="harbor", AccessKeyId=key["AccessKeyId"])
        # deleted by another case: gone under every case
        self.iam.delete_user(UserName="HARBOR")
        self.assertEqual(self.code(self.iam.get_user, UserName="Harbor"), "NoSuchEntity")
        self.iam.delete_role(RoleName="tide")
        self.iam.delete_group(GroupName="CREW")
        self.assertEqual(self.code(self.iam.get_group, GroupName="Crew"), "NoSuchEntity")

    def test_lists_in_name_order(self):
        for i, n in enumerate(["Delta", "charlie", "Bravo", "alpha"]):
            self.iam.create_user(UserName="ord-" + n, Path="/ord/%d/" % i)
            self.iam.create_role(RoleName="ord-" + n, Path="/ord/%d/" % i,
                                 AssumeRolePolicyDocument=TRUST)
            self.iam.create_group(GroupName="ord-" + n, Path="/ord/%d/" % i)
        want = ["ord-alpha", "ord-Bravo", "ord-charlie", "ord-Delta"]
        for op, key, field in (("list_users", "Users", "UserName"),
                               ("list_roles", "Roles", "RoleName"),
                               ("list_groups", "Groups", "GroupName")):
            got = []
            for page in self.iam.get_paginator(op).paginate(
                    PathPrefix="/ord/", PaginationConfig={"PageSize": 1}):
                got += [x[field] for x in page[key]]
            self.assertEqual(got, want, op)
        for n in ["zeta", "Alpha", "mu"]:
            self.iam.put_role_policy(RoleName="ord-alpha", PolicyName=n,
                                     PolicyDocument=doc({"Effect": "Allow", "Action": "s3:*",
                                                         "Resource": "*"}))
        self.assertEqual(self.iam.list_role_policies(RoleName="ord-alpha")["PolicyNames"],
                         ["Alpha", "mu", "zeta"])

    def test_update_user(self):
        u = self.iam.create_user(UserName="ren-a", Path="/team/")["User"]
        self.iam.put_user_policy(UserName="ren-a", PolicyName="list",
                                 PolicyDocument=doc({"Effect": "Allow",
                                                     "Action": "s3:ListAllMyBuckets",
                                                     "Resource": "*"}))
        self.iam.create_group(GroupName="ren-g")
        self.iam.add_user_to_group(GroupName="ren-g", UserName="ren-a")
        key = self.iam.create_access_key(UserName="ren-a")["AccessKey"]
        self.iam.update_user(UserName="ren-a", NewUserName="ren-b")
        self.assertEqual(self.code(self.iam.get_user, UserName="ren-a"), "NoSuchEntity")
        b = self.iam.get_user(UserName="ren-b")["User"]
        self.assertEqual((b["UserId"], b["Path"], b["Arn"]),
                         (u["UserId"], "/team/", "arn:aws:iam::%s:user/team/ren-b" % ACCOUNT))
        self.assertEqual(self.iam.list_user_policies(UserName="ren-b")["PolicyNames"], ["list"])
        self.assertEqual([g["GroupName"] for g in
                          self.iam.list_groups_for_user(UserName="ren-b")["Groups"]], ["ren-g"])
        meta = self.iam.list_access_keys(UserName="ren-b")["AccessKeyMetadata"]
        self.assertEqual([(m["AccessKeyId"], m["UserName"]) for m in meta],
                         [(key["AccessKeyId"], "ren-b")])
        # the key still works, as the renamed user, with its policies
        me = self.server.boto3("iam", access_key=key["AccessKeyId"],
                               secret_key=key["SecretAccessKey"])
        sts = self.server.boto3("sts", access_key=key["AccessKeyId"],
                                secret_key=key["SecretAccessKey"])
        self.assertEqual(sts.get_caller_identity()["Arn"],
                         "arn:aws:iam::%s:user/team/ren-b" % ACCOUNT)
        s3 = self.server.boto3("s3", access_key=key["AccessKeyId"],
                               secret_key=key["SecretAccessKey"])
        s3.list_buckets()
        self.assertEqual(self.code(me.list_users), "AccessDenied")
        # a new path alone
        self.iam.update_user(UserName="ren-b", NewPath="/moved/")
        b = self.iam.get_user(UserName="ren-b")["User"]
        self.assertEqual((b["Path"], b["Arn"]),
                         ("/moved/", "arn:aws:iam::%s:user/moved/ren-b" % ACCOUNT))
        # bad input changes nothing
        self.iam.create_user(UserName="ren-c")
        self.assertEqual(self.code(self.iam.update_user, UserName="ren-b", NewUserName="REN-C"),
                         "EntityAlreadyExists")
        self.assertEqual(self.code(self.iam.update_user, UserName="ren-none",
                                   NewUserName="ren-x"), "NoSuchEntity")
        raw = self.server.boto3("iam", parameter_validation=False)
        self.assertEqual(self.code(raw.update_user, UserName="ren-b", NewPath="moved"),
                         "ValidationError")
        self.assertEqual(self.code(raw.update_user, UserName="ren-b", NewUserName="bad name"),
                         "ValidationError")
        self.assertEqual(self.iam.get_user(UserName="ren-b")["User"]["Path"], "/moved/")
        # another case of its own name is a rename too
        self.iam.update_user(UserName="ren-b", NewUserName="Ren-B")
        self.assertEqual(self.iam.get_user(UserName="ren-b")["User"]["UserName"], "Ren-B")

    def test_update_group(self):
        g = self.iam.create_group(GroupName="grp-a", Path="/x/")["Group"]
        self.iam.create_user(UserName="grp-member")
        self.iam.add_user_to_group(GroupName="grp-a", UserName="grp-member")
        self.iam.update_group(GroupName="grp-a", NewGroupName="grp-b", NewPath="/y/")
        r = self.iam.get_group(GroupName="grp-b")
        self.assertEqual((r["Group"]["GroupId"], r["Group"]["Path"], r["Group"]["Arn"]),
                         (g["GroupId"], "/y/", "arn:aws:iam::%s:group/y/grp-b" % ACCOUNT))
        self.assertEqual([u["UserName"] for u in r["Users"]], ["grp-member"])
        self.assertEqual([x["GroupName"] for x in
                          self.iam.list_groups_for_user(UserName="grp-member")["Groups"]],
                         ["grp-b"])
        self.assertEqual(self.code(self.iam.get_group, GroupName="grp-a"), "NoSuchEntity")
        self.assertEqual(self.code(self.iam.update_group, GroupName="grp-a",
                                   NewGroupName="grp-c"), "NoSuchEntity")

    def test_duplicate_sid_refused(self):
        self.iam.create_user(UserName="sid-user")
        same = doc({"Sid": "One", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                   {"Sid": "One", "Effect": "Deny", "Action": "s3:Put*", "Resource": "*"})
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.iam.put_user_policy(UserName="sid-user", PolicyName="p", PolicyDocument=same)
        self.assertEqual(cm.exception.response["Error"]["Code"], "MalformedPolicyDocument")
        self.assertIn("must be unique", cm.exception.response["Error"]["Message"])
        self.assertEqual(self.code(self.iam.create_policy, PolicyName="dup-sid",
                                   PolicyDocument=same), "MalformedPolicyDocument")
        self.assertEqual(self.iam.list_user_policies(UserName="sid-user")["PolicyNames"], [])
        distinct = doc({"Sid": "One", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                       {"Sid": "Two", "Effect": "Deny", "Action": "s3:Put*", "Resource": "*"})
        self.iam.put_user_policy(UserName="sid-user", PolicyName="p", PolicyDocument=distinct)

    def test_list_buckets_resource(self):
        self.iam.create_user(UserName="lb-user")
        key = self.iam.create_access_key(UserName="lb-user")["AccessKey"]
        s3 = self.server.boto3("s3", access_key=key["AccessKeyId"],
                               secret_key=key["SecretAccessKey"])
        self.iam.put_user_policy(UserName="lb-user", PolicyName="allow",
                                 PolicyDocument=doc({"Effect": "Allow",
                                                     "Action": "s3:ListAllMyBuckets",
                                                     "Resource": "arn:aws:s3:::*"}))
        s3.list_buckets()
        self.iam.put_user_policy(UserName="lb-user", PolicyName="deny",
                                 PolicyDocument=doc({"Effect": "Deny",
                                                     "Action": "s3:ListAllMyBuckets",
                                                     "Resource": "arn:aws:s3:::*"}))
        self.assertEqual(self.code(s3.list_buckets), "AccessDenied")


if __name__ == "__main__":
    unittest.main()
