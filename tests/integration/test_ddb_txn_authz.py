"""IAM decides transactions and tag operations per action and table, as the
service checks them: TransactWriteItems needs dynamodb:PutItem / UpdateItem /
DeleteItem / ConditionCheckItem on each action's table, TransactGetItems
dynamodb:GetItem, tag operations their own action on the table ARN."""

import json
import time
import unittest

from tandem_harness import ServerTestCase

ACCOUNT = "123456789012"


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


class TxnAuthz(ServerTestCase):
    server_args = {"account": ACCOUNT}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ddb = cls.server.boto3()
        for t in ("tx-a", "tx-b"):
            cls.ddb.create_table(TableName=t, BillingMode="PAY_PER_REQUEST",
                                 AttributeDefinitions=[{"AttributeName": "pk",
                                                        "AttributeType": "S"}],
                                 KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
            cls.ddb.put_item(TableName=t, Item={"pk": {"S": "1"}})

    def arn(self, t):
        return "arn:aws:dynamodb:%s:%s:table/%s" % (self.server.region, ACCOUNT, t)

    def user(self, name, doc):
        iam = self.server.boto3("iam")
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=doc)
        k = iam.create_access_key(UserName=name)["AccessKey"]
        c = self.server.boto3(access_key=k["AccessKeyId"], secret_key=k["SecretAccessKey"])
        deadline = time.time() + 10
        while True:  # the new key is usable at once; allow for a slow start
            try:
                c.get_item(TableName="tx-a", Key={"pk": {"S": "1"}})
                return c
            except c.exceptions.ClientError as e:
                if e.response["Error"]["Code"] == "AccessDeniedException" or \
                        time.time() > deadline:
                    return c
                time.sleep(0.2)

    def denied(self, fn, **kw):
        with self.assertRaises(self.ddb.exceptions.ClientError) as cm:
            fn(**kw)
        self.assertEqual(cm.exception.response["Error"]["Code"], "AccessDeniedException")
        return cm.exception.response["Error"]["Message"]

    def test_write_actions_per_table(self):
        c = self.user("txw", policy(
            {"Effect": "Allow", "Action": ["dynamodb:PutItem", "dynamodb:GetItem"],
             "Resource": self.arn("tx-a")},
            {"Effect": "Allow", "Action": "dynamodb:ConditionCheckItem",
             "Resource": self.arn("tx-b")}))
        c.transact_write_items(TransactItems=[
            {"Put": {"TableName": "tx-a", "Item": {"pk": {"S": "2"}}}},
            {"ConditionCheck": {"TableName": "tx-b", "Key": {"pk": {"S": "1"}},
                                "ConditionExpression": "attribute_exists(pk)"}}])
        msg = self.denied(c.transact_write_items, TransactItems=[
            {"Put": {"TableName": "tx-a", "Item": {"pk": {"S": "3"}}}},
            {"Put": {"TableName": "tx-b", "Item": {"pk": {"S": "3"}}}}])
        self.assertIn("dynamodb:PutItem on resource: %s" % self.arn("tx-b"), msg)
        msg = self.denied(c.transact_write_items, TransactItems=[
            {"Delete": {"TableName": "tx-a", "Key": {"pk": {"S": "1"}}}}])
        self.assertIn("dynamodb:DeleteItem", msg)
        msg = self.denied(c.transact_write_items, TransactItems=[
            {"Update": {"TableName": "tx-a", "Key": {"pk": {"S": "1"}},
                        "UpdateExpression": "SET v = :v",
                        "ExpressionAttributeValues": {":v": {"S": "x"}}}}])
        self.assertIn("dynamodb:UpdateItem", msg)
        self.assertIsNone(self.ddb.get_item(TableName="tx-a", Key={"pk": {"S": "3"}}).get("Item"))
        c.transact_get_items(TransactItems=[{"Get": {"TableName": "tx-a",
                                                     "Key": {"pk": {"S": "1"}}}}])
        msg = self.denied(c.transact_get_items, TransactItems=[
            {"Get": {"TableName": "tx-a", "Key": {"pk": {"S": "1"}}}},
            {"Get": {"TableName": "tx-b", "Key": {"pk": {"S": "1"}}}}])
        self.assertIn("dynamodb:GetItem on resource: %s" % self.arn("tx-b"), msg)

    def test_table_arns_inside_batches_and_transactions(self):
        # a table named by its ARN is authorized as the same table ARN
        c = self.user("arnuser", policy(
            {"Effect": "Allow", "Action": ["dynamodb:PutItem", "dynamodb:GetItem",
                                           "dynamodb:BatchWriteItem", "dynamodb:BatchGetItem"],
             "Resource": self.arn("tx-a")}))
        c.transact_write_items(TransactItems=[
            {"Put": {"TableName": self.arn("tx-a"), "Item": {"pk": {"S": "arn-1"}}}}])
        msg = self.denied(c.transact_write_items, TransactItems=[
            {"Put": {"TableName": self.arn("tx-b"), "Item": {"pk": {"S": "arn-1"}}}}])
        self.assertIn("on resource: %s" % self.arn("tx-b"), msg)
        c.batch_write_item(RequestItems={self.arn("tx-a"): [
            {"PutRequest": {"Item": {"pk": {"S": "arn-2"}}}}]})
        out = c.batch_get_item(RequestItems={self.arn("tx-a"): {"Keys": [{"pk": {"S": "arn-2"}}]}})
        self.assertEqual(out["Responses"][self.arn("tx-a")], [{"pk": {"S": "arn-2"}}])
        msg = self.denied(c.batch_write_item, RequestItems={self.arn("tx-b"): [
            {"PutRequest": {"Item": {"pk": {"S": "arn-2"}}}}]})
        self.assertIn("dynamodb:BatchWriteItem on resource: %s" % self.arn("tx-b"), msg)
        self.assertIsNone(self.ddb.get_item(TableName="tx-b",
                                            Key={"pk": {"S": "arn-2"}}).get("Item"))

    def test_tags_on_the_table_arn(self):
        c = self.user("tagger", policy(
            {"Effect": "Allow", "Action": ["dynamodb:TagResource", "dynamodb:ListTagsOfResource"],
             "Resource": self.arn("tx-a")}))
        c.tag_resource(ResourceArn=self.arn("tx-a"), Tags=[{"Key": "k", "Value": "v"}])
        self.assertEqual(c.list_tags_of_resource(ResourceArn=self.arn("tx-a"))["Tags"],
                         [{"Key": "k", "Value": "v"}])
        self.denied(c.tag_resource, ResourceArn=self.arn("tx-b"),
                    Tags=[{"Key": "k", "Value": "v"}])
        self.denied(c.untag_resource, ResourceArn=self.arn("tx-a"), TagKeys=["k"])


if __name__ == "__main__":
    unittest.main()
