"""Fine-grained access to DynamoDB items (DynamoDB Developer Guide, "Using IAM
policy conditions for fine-grained access control"): a user who may only
GetItem/PutItem/Query/BatchGetItem items whose partition key is its own user
name or user id (dynamodb:LeadingKeys), and one who may only read certain
attributes (dynamodb:Attributes, dynamodb:Select, dynamodb:ReturnValues);
driven with boto3 and the aws CLI."""
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


def code_of(exc):
    return getattr(exc, "response", {}).get("Error", {}).get("Code", str(exc))


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


class FineGrained(ServerTestCase):
    server_args = {"account": ACCOUNT}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ddb = cls.server.boto3()
        ddb.create_table(TableName="games", BillingMode="PAY_PER_REQUEST",
                         AttributeDefinitions=[{"AttributeName": "uid", "AttributeType": "S"},
                                               {"AttributeName": "game", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "uid", "KeyType": "HASH"},
                                    {"AttributeName": "game", "KeyType": "RANGE"}],
                         GlobalSecondaryIndexes=[{
                             "IndexName": "by-game",
                             "KeySchema": [{"AttributeName": "game", "KeyType": "HASH"}],
                             "Projection": {"ProjectionType": "ALL"}}])
        cls.iam = cls.server.boto3("iam")

    def table_arn(self):
        return "arn:aws:dynamodb:%s:%s:table/games" % (self.server.region, ACCOUNT)

    def user(self, name, doc):
        u = self.iam.create_user(UserName=name)["User"]
        self.iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=doc)
        k = self.iam.create_access_key(UserName=name)["AccessKey"]
        return u, self.server.boto3(access_key=k["AccessKeyId"], secret_key=k["SecretAccessKey"]), \
            (k["AccessKeyId"], k["SecretAccessKey"])

    def denied(self, fn, **kw):
        with self.assertRaises(Exception) as cm:
            fn(**kw)
        self.assertEqual(code_of(cm.exception), "AccessDeniedException", str(cm.exception))
        return str(cm.exception)

    def test_own_partition_only(self):
        doc = policy({"Effect": "Allow",
                      "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query",
                                 "dynamodb:BatchGetItem", "dynamodb:UpdateItem"],
                      "Resource": self.table_arn(),
                      "Condition": {"ForAllValues:StringEquals": {
                          "dynamodb:LeadingKeys": ["${aws:username}"]}}})
        _, ddb, keys = self.user("pat", doc)
        ddb.put_item(TableName="games", Item={"uid": {"S": "pat"}, "game": {"S": "chess"},
                                              "score": {"N": "3"}})
        self.server.boto3().put_item(TableName="games", Item={
            "uid": {"S": "sam"}, "game": {"S": "go"}, "score": {"N": "9"}})
        got = ddb.get_item(TableName="games", Key={"uid": {"S": "pat"}, "game": {"S": "chess"}})
        self.assertEqual(got["Item"]["score"]["N"], "3")
        text = self.denied(ddb.get_item, TableName="games",
                           Key={"uid": {"S": "sam"}, "game": {"S": "go"}})
        self.assertIn("dynamodb:GetItem", text)
        self.denied(ddb.put_item, TableName="games",
                    Item={"uid": {"S": "sam"}, "game": {"S": "x"}})
        q = ddb.query(TableName="games", KeyConditionExpression="uid = :u",
                      ExpressionAttributeValues={":u": {"S": "pat"}})
        self.assertEqual(q["Count"], 1)
        q = ddb.query(TableName="games", KeyConditionExpression="#k = :u AND game > :g",
                      ExpressionAttributeNames={"#k": "uid"},
                      ExpressionAttributeValues={":u": {"S": "pat"}, ":g": {"S": "a"}})
        self.assertEqual(q["Count"], 1)
        self.denied(ddb.query, TableName="games", KeyConditionExpression="uid = :u",
                    ExpressionAttributeValues={":u": {"S": "sam"}})
        ddb.update_item(TableName="games", Key={"uid": {"S": "pat"}, "game": {"S": "chess"}},
                        UpdateExpression="SET score = score + :one",
                        ExpressionAttributeValues={":one": {"N": "1"}})
        self.denied(ddb.update_item, TableName="games",
                    Key={"uid": {"S": "sam"}, "game": {"S": "go"}},
                    UpdateExpression="SET score = :z", ExpressionAttributeValues={":z": {"N": "0"}})
        # a batch touching another partition is refused as a whole
        ddb.batch_get_item(RequestItems={"games": {"Keys": [
            {"uid": {"S": "pat"}, "game": {"S": "chess"}}]}})
        self.denied(ddb.batch_get_item, RequestItems={"games": {"Keys": [
            {"uid": {"S": "pat"}, "game": {"S": "chess"}}, {"uid": {"S": "sam"}, "game": {"S": "go"}}]}})
        # an index is its own resource: the table's grant does not reach it
        text = self.denied(ddb.query, TableName="games", IndexName="by-game",
                           KeyConditionExpression="game = :g",
                           ExpressionAttributeValues={":g": {"S": "go"}})
        self.assertIn("table/games/index/by-game", text)
        self.iam.put_user_policy(UserName="pat", PolicyName="idx", PolicyDocument=policy(
            {"Effect": "Allow", "Action": "dynamodb:Query",
             "Resource": self.table_arn() + "/index/*"}))
        q = ddb.query(TableName="games", IndexName="by-game", KeyConditionExpression="game = :g",
                      ExpressionAttributeValues={":g": {"S": "chess"}})
        self.assertEqual(q["Count"], 1)
        self.iam.delete_user_policy(UserName="pat", PolicyName="idx")
        # actions outside the list stay denied; sam's item is untouched
        self.denied(ddb.delete_item, TableName="games",
                    Key={"uid": {"S": "pat"}, "game": {"S": "chess"}})
        got = self.server.boto3().get_item(TableName="games",
                                           Key={"uid": {"S": "sam"}, "game": {"S": "go"}})
        self.assertEqual(got["Item"]["score"]["N"], "9")
        # the aws CLI sees the same
        cli = aws_cli()
        if cli:
            env = self.server.env(access_key=keys[0], secret_key=keys[1])
            base = cli + ["dynamodb", "get-item", "--table-name", "games", "--endpoint-url",
                          self.server.url(), "--output", "json", "--key"]
            p = subprocess.run(base + ['{"uid":{"S":"pat"},"game":{"S":"chess"}}'], env=env,
                               capture_output=True, text=True, timeout=120,
                               stdin=subprocess.DEVNULL)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(json.loads(p.stdout)["Item"]["score"]["N"], "4")
            p = subprocess.run(base + ['{"uid":{"S":"sam"},"game":{"S":"go"}}'], env=env,
                               capture_output=True, text=True, timeout=120,
                               stdin=subprocess.DEVNULL)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("AccessDeniedException", p.stderr)

    def test_userid_and_attributes(self):
        # the partition key is the caller's user id; only some attributes
        doc = policy({"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:Query",
                                                    "dynamodb:UpdateItem"],
                      "Resource": self.table_arn(),
                      "Condition": {
                          "ForAllValues:StringEquals": {
                              "dynamodb:LeadingKeys": ["${aws:userid}"],
                              "dynamodb:Attributes": ["uid", "game", "score"]},
                          "StringEqualsIfExists": {
                              "dynamodb:Select": "SPECIFIC_ATTRIBUTES",
                              "dynamodb:ReturnValues": ["NONE", "UPDATED_OLD", "UPDATED_NEW"]}}})
        u, ddb, _ = self.user("quinn", doc)
        uid = u["UserId"]
        self.server.boto3().put_item(TableName="games", Item={
            "uid": {"S": uid}, "game": {"S": "go"}, "score": {"N": "1"},
            "secret": {"S": "hidden"}})
        got = ddb.get_item(TableName="games", Key={"uid": {"S": uid}, "game": {"S": "go"}},
                           ProjectionExpression="score, game")
        self.assertEqual(got["Item"], {"score": {"N": "1"}, "game": {"S": "go"}})
        got = ddb.get_item(TableName="games", Key={"uid": {"S": uid}, "game": {"S": "go"}},
                           ProjectionExpression="#s", ExpressionAttributeNames={"#s": "score"})
        self.assertEqual(got["Item"], {"score": {"N": "1"}})
        self.denied(ddb.get_item, TableName="games", Key={"uid": {"S": uid}, "game": {"S": "go"}},
                    ProjectionExpression="score, secret")
        self.denied(ddb.get_item, TableName="games", Key={"uid": {"S": uid}, "game": {"S": "go"}},
                    ProjectionExpression="#x", ExpressionAttributeNames={"#x": "secret"})
        q = ddb.query(TableName="games", KeyConditionExpression="uid = :u",
                      ExpressionAttributeValues={":u": {"S": uid}}, Select="SPECIFIC_ATTRIBUTES",
                      ProjectionExpression="game, score")
        self.assertEqual(q["Items"], [{"game": {"S": "go"}, "score": {"N": "1"}}])
        self.denied(ddb.query, TableName="games", KeyConditionExpression="uid = :u",
                    ExpressionAttributeValues={":u": {"S": uid}}, Select="ALL_ATTRIBUTES")
        # neither Select nor a projection: DynamoDB reads ALL_ATTRIBUTES, refused
        self.denied(ddb.query, TableName="games", KeyConditionExpression="uid = :u",
                    ExpressionAttributeValues={":u": {"S": uid}})
        # a projection alone is SPECIFIC_ATTRIBUTES
        q = ddb.query(TableName="games", KeyConditionExpression="uid = :u",
                      ExpressionAttributeValues={":u": {"S": uid}}, ProjectionExpression="score")
        self.assertEqual(q["Items"], [{"score": {"N": "1"}}])
        ddb.update_item(TableName="games", Key={"uid": {"S": uid}, "game": {"S": "go"}},
                        UpdateExpression="SET score = :s",
                        ExpressionAttributeValues={":s": {"N": "2"}}, ReturnValues="UPDATED_NEW")
        self.denied(ddb.update_item, TableName="games", Key={"uid": {"S": uid}, "game": {"S": "go"}},
                    UpdateExpression="SET score = :s", ExpressionAttributeValues={":s": {"N": "3"}},
                    ReturnValues="ALL_OLD")
        self.denied(ddb.update_item, TableName="games", Key={"uid": {"S": uid}, "game": {"S": "go"}},
                    UpdateExpression="SET secret = :s", ExpressionAttributeValues={":s": {"S": "x"}})
        # by name, not by id: denied
        self.server.boto3().put_item(TableName="games", Item={
            "uid": {"S": "quinn"}, "game": {"S": "go"}})
        self.denied(ddb.get_item, TableName="games", Key={"uid": {"S": "quinn"}, "game": {"S": "go"}},
                    ProjectionExpression="game")
        got = self.server.boto3().get_item(TableName="games",
                                           Key={"uid": {"S": uid}, "game": {"S": "go"}})
        self.assertEqual(got["Item"]["score"]["N"], "2")
        self.assertEqual(got["Item"]["secret"]["S"], "hidden")

    def test_scan_without_projection(self):
        """A Scan or Query without ProjectionExpression reads every attribute: the
        documented attribute-limiting policy (ForAllValues dynamodb:Attributes and
        StringEqualsIfExists dynamodb:Select SPECIFIC_ATTRIBUTES) refuses it, on
        the table and on an index (ALL_PROJECTED_ATTRIBUTES)."""
        arn = self.table_arn()
        doc = policy({"Effect": "Allow", "Action": ["dynamodb:Scan", "dynamodb:Query"],
                      "Resource": [arn, arn + "/index/*"],
                      "Condition": {
                          "ForAllValues:StringEquals": {
                              "dynamodb:Attributes": ["uid", "game", "score"]},
                          "StringEqualsIfExists": {"dynamodb:Select": "SPECIFIC_ATTRIBUTES"}}})
        _, ddb, _ = self.user("sasha", doc)
        self.server.boto3().put_item(TableName="games", Item={
            "uid": {"S": "sasha-1"}, "game": {"S": "chess"}, "score": {"N": "5"},
            "secret": {"S": "hidden"}})
        self.denied(ddb.scan, TableName="games")
        self.denied(ddb.scan, TableName="games", Select="ALL_ATTRIBUTES")
        self.denied(ddb.scan, TableName="games", Select="COUNT")
        self.denied(ddb.scan, TableName="games", ProjectionExpression="uid, secret")
        got = ddb.scan(TableName="games", ProjectionExpression="uid, score")
        self.assertIn({"uid": {"S": "sasha-1"}, "score": {"N": "5"}}, got["Items"])
        for it in got["Items"]:
            self.assertNotIn("secret", it)
        self.denied(ddb.scan, TableName="games", IndexName="by-game")
        ddb.scan(TableName="games", IndexName="by-game", ProjectionExpression="uid")


if __name__ == "__main__":
    unittest.main()
