"""A change to identity data takes effect on the very next request, though
the region keeps its callers' parsed policies between requests: inline,
managed (new default version, detach), group membership and group policies,
permissions boundary, each checked right after a request that used the
previous state."""
import json
import time
import unittest

from tandem_harness import ServerTestCase

ACCOUNT = "123456789012"


def policy(action="dynamodb:GetItem", effect="Allow", resource="*"):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": effect, "Action": action, "Resource": resource}]})


class IamPolicyChanges(ServerTestCase):
    server_args = {"account": ACCOUNT}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ddb = cls.server.boto3()
        ddb.create_table(TableName="pc-t", BillingMode="PAY_PER_REQUEST",
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
        ddb.put_item(TableName="pc-t", Item={"pk": {"S": "1"}})

    def client(self, user):
        iam = self.server.boto3("iam")
        k = iam.create_access_key(UserName=user)["AccessKey"]
        ddb = self.server.boto3(access_key=k["AccessKeyId"], secret_key=k["SecretAccessKey"])
        deadline = time.time() + 20
        while True:  # bounded: the key is usable once stored
            try:
                ddb.list_tables()
            except ddb.exceptions.ClientError as e:
                if e.response["Error"]["Code"] == "AccessDeniedException":
                    return ddb
                if time.time() > deadline:
                    raise
                time.sleep(0.2)

    def can_get(self, ddb):
        try:
            ddb.get_item(TableName="pc-t", Key={"pk": {"S": "1"}})
            return True
        except ddb.exceptions.ClientError as e:
            self.assertEqual(e.response["Error"]["Code"], "AccessDeniedException")
            return False

    def test_each_change_is_seen_at_once(self):
        iam = self.server.boto3("iam")
        iam.create_user(UserName="pc-user")
        ddb = self.client("pc-user")
        steps = []

        def step(name, change, want):
            change()
            steps.append(name)
            for _ in range(3):  # the next request and those after it
                self.assertEqual(self.can_get(ddb), want, steps)

        self.assertFalse(self.can_get(ddb))
        step("inline", lambda: iam.put_user_policy(UserName="pc-user", PolicyName="p",
                                                   PolicyDocument=policy()), True)
        step("inline deny", lambda: iam.put_user_policy(
            UserName="pc-user", PolicyName="d", PolicyDocument=policy(effect="Deny")), False)
        step("inline deny gone", lambda: iam.delete_user_policy(UserName="pc-user",
                                                                PolicyName="d"), True)
        step("inline gone", lambda: iam.delete_user_policy(UserName="pc-user",
                                                           PolicyName="p"), False)
        arn = iam.create_policy(PolicyName="pc-m", PolicyDocument=policy())["Policy"]["Arn"]
        step("attached", lambda: iam.attach_user_policy(UserName="pc-user", PolicyArn=arn), True)
        step("new default version", lambda: iam.create_policy_version(
            PolicyArn=arn, PolicyDocument=policy("dynamodb:PutItem"), SetAsDefault=True), False)
        step("old version default again", lambda: iam.set_default_policy_version(
            PolicyArn=arn, VersionId="v1"), True)
        step("boundary without GetItem", lambda: iam.put_user_permissions_boundary(
            UserName="pc-user", PermissionsBoundary=iam.create_policy(
                PolicyName="pc-b", PolicyDocument=policy("dynamodb:Query"))["Policy"]["Arn"]),
            False)
        step("boundary gone", lambda: iam.delete_user_permissions_boundary(UserName="pc-user"),
             True)
        step("detached", lambda: iam.detach_user_policy(UserName="pc-user", PolicyArn=arn), False)
        iam.create_group(GroupName="pc-g")
        iam.put_group_policy(GroupName="pc-g", PolicyName="g", PolicyDocument=policy())
        step("joined group", lambda: iam.add_user_to_group(GroupName="pc-g", UserName="pc-user"),
             True)
        step("group policy deny", lambda: iam.put_group_policy(
            GroupName="pc-g", PolicyName="g", PolicyDocument=policy(effect="Deny")), False)
        step("group policy allow", lambda: iam.put_group_policy(
            GroupName="pc-g", PolicyName="g", PolicyDocument=policy()), True)
        step("left group", lambda: iam.remove_user_from_group(GroupName="pc-g",
                                                              UserName="pc-user"), False)

    def test_role_session_sees_role_changes(self):
        iam = self.server.boto3("iam")
        iam.create_user(UserName="pc-assumer")
        iam.put_user_policy(UserName="pc-assumer", PolicyName="a",
                            PolicyDocument=policy("sts:AssumeRole"))
        trust = json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "sts:AssumeRole",
            "Principal": {"AWS": "arn:aws:iam::%s:user/pc-assumer" % ACCOUNT}}]})
        role = iam.create_role(RoleName="pc-role", AssumeRolePolicyDocument=trust)["Role"]
        iam.put_role_policy(RoleName="pc-role", PolicyName="r", PolicyDocument=policy())
        k = iam.create_access_key(UserName="pc-assumer")["AccessKey"]
        sts = self.server.boto3("sts", access_key=k["AccessKeyId"],
                                secret_key=k["SecretAccessKey"])
        deadline = time.time() + 20
        while True:
            try:
                cr = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s1")["Credentials"]
                break
            except sts.exceptions.ClientError:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        import boto3
        ddb = boto3.session.Session().client(
            "dynamodb", region_name=self.server.region, endpoint_url=self.server.url(),
            aws_access_key_id=cr["AccessKeyId"], aws_secret_access_key=cr["SecretAccessKey"],
            aws_session_token=cr["SessionToken"])
        self.assertTrue(self.can_get(ddb))
        iam.put_role_policy(RoleName="pc-role", PolicyName="d",
                            PolicyDocument=policy(effect="Deny"))
        self.assertFalse(self.can_get(ddb))
        iam.delete_role_policy(RoleName="pc-role", PolicyName="d")
        self.assertTrue(self.can_get(ddb))
        iam.delete_role_policy(RoleName="pc-role", PolicyName="r")
        self.assertFalse(self.can_get(ddb))


if __name__ == "__main__":
    unittest.main()
