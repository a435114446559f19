"""DynamoDB's pre-expression ("legacy") request parameters that older SDK code
and tools still send, through boto3: AttributesToGet on GetItem, Query, Scan
and BatchGetItem; and UpdateItem's removals (legacy or expression) on a
missing item."""

import json
import unittest
import uuid

from tandem_harness import ServerTestCase


class Legacy(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ddb = cls.server.boto3()
        cls.table = "legacy-" + uuid.uuid4().hex[:8]
        cls.ddb.create_table(TableName=cls.table, BillingMode="PAY_PER_REQUEST",
                             AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                                   {"AttributeName": "sk", "AttributeType": "N"}],
                             KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                        {"AttributeName": "sk", "KeyType": "RANGE"}])
        for i in range(3):
            cls.ddb.put_item(TableName=cls.table, Item={
                "pk": {"S": "h"}, "sk": {"N": str(i)}, "colour": {"S": "red%d" % i},
                "size": {"N": "4"}, "a.b": {"S": "dotted"}, "nested": {"M": {"x": {"S": "y"}}}})

    def err(self, fn, **kw):
        with self.assertRaises(self.ddb.exceptions.ClientError) as cm:
            fn(**kw)
        return cm.exception.response["Error"]["Code"], cm.exception.response["Error"]["Message"]

    def test_get_item_attributes_to_get(self):
        key = {"pk": {"S": "h"}, "sk": {"N": "1"}}
        cases = [(["colour"], {"colour": {"S": "red1"}}),
                 (["sk", "colour"], {"sk": {"N": "1"}, "colour": {"S": "red1"}}),
                 (["pk", "sk"], key),
                 # names are taken literally: a dot is part of the name, and a
                 # reserved word (size) needs no placeholder
                 (["a.b", "size"], {"a.b": {"S": "dotted"}, "size": {"N": "4"}}),
                 # an item with none of the names is still found, empty
                 (["missing"], {})]
        for names, want in cases:
            with self.subTest(names=names):
                out = self.ddb.get_item(TableName=self.table, Key=key, AttributesToGet=names,
                                        ConsistentRead=True)
                self.assertEqual(out["Item"], want)
        # a missing item stays missing
        out = self.ddb.get_item(TableName=self.table, Key={"pk": {"S": "h"}, "sk": {"N": "9"}},
                                AttributesToGet=["colour"])
        self.assertNotIn("Item", out)

    def test_attributes_to_get_errors(self):
        key = {"pk": {"S": "h"}, "sk": {"N": "1"}}
        self.assertEqual(self.err(self.ddb.get_item, TableName=self.table, Key=key,
                                  AttributesToGet=["colour", "colour"]),
                         ("ValidationException", "One or more parameter values were invalid: "
                          "Duplicate value in attribute name: colour"))
        code, msg = self.err(self.ddb.get_item, TableName=self.table, Key=key,
                             AttributesToGet=["colour"], ProjectionExpression="size")
        self.assertEqual(code, "ValidationException")
        self.assertIn("Can not use both expression and non-expression parameters", msg)
        code, msg = self.err(self.ddb.query, TableName=self.table, AttributesToGet=["colour"],
                             KeyConditionExpression="pk = :h",
                             ExpressionAttributeValues={":h": {"S": "h"}},
                             ExpressionAttributeNames={"#c": "colour"})
        self.assertEqual(code, "ValidationException")
        # boto3 refuses an empty list itself; over the wire the service does too
        status, _, body = self.server.raw("GetItem", json.dumps(
            {"TableName": self.table, "Key": key, "AttributesToGet": []}))
        self.assertEqual(status, 400)
        self.assertIn("ValidationException", json.loads(body)["__type"])
        self.assertIn("attributesToGet", json.loads(body)["message"])
        status, _, body = self.server.raw("GetItem", json.dumps(
            {"TableName": self.table, "Key": key, "AttributesToGet": [7]}))
        self.assertEqual(status, 400)
        self.assertIn("SerializationException", json.loads(body)["__type"])

    def test_query_and_scan_attributes_to_get(self):
        out = self.ddb.query(TableName=self.table, KeyConditionExpression="pk = :h",
                             ExpressionAttributeValues={":h": {"S": "h"}},
                             AttributesToGet=["sk", "colour"], Select="SPECIFIC_ATTRIBUTES")
        self.assertEqual(out["Items"], [{"sk": {"N": str(i)}, "colour": {"S": "red%d" % i}}
                                        for i in range(3)])
        out = self.ddb.scan(TableName=self.table, AttributesToGet=["colour"], Limit=2)
        self.assertEqual(out["Items"], [{"colour": {"S": "red0"}}, {"colour": {"S": "red1"}}])
        out = self.ddb.scan(TableName=self.table, AttributesToGet=["colour"],
                            ExclusiveStartKey=out["LastEvaluatedKey"])
        self.assertEqual(out["Items"], [{"colour": {"S": "red2"}}])

    def test_batch_get_item_attributes_to_get(self):
        out = self.ddb.batch_get_item(RequestItems={self.table: {
            "Keys": [{"pk": {"S": "h"}, "sk": {"N": str(i)}} for i in (0, 2)],
            "AttributesToGet": ["sk", "nested"]}})
        got = sorted(out["Responses"][self.table], key=lambda it: it["sk"]["N"])
        self.assertEqual(got, [{"sk": {"N": str(i)}, "nested": {"M": {"x": {"S": "y"}}}}
                               for i in (0, 2)])

    def test_update_that_only_removes_creates_nothing(self):
        # removing from a missing item leaves it missing, with either syntax;
        # any SET, ADD or PUT (or no update at all) creates the item
        removals = [{"UpdateExpression": "REMOVE colour, shade"},
                    {"UpdateExpression": "DELETE tags :t",
                     "ExpressionAttributeValues": {":t": {"SS": ["x"]}}},
                    {"UpdateExpression": "REMOVE colour", "ReturnValues": "ALL_NEW"},
                    {"AttributeUpdates": {"colour": {"Action": "DELETE"}}},
                    {"AttributeUpdates": {"tags": {"Action": "DELETE", "Value": {"SS": ["x"]}}}}]
        for i, kw in enumerate(removals):
            with self.subTest(kw=kw):
                key = {"pk": {"S": "gone-%d" % i}, "sk": {"N": "1"}}
                out = self.ddb.update_item(TableName=self.table, Key=key, **kw)
                self.assertNotIn("Attributes", out)
                self.assertNotIn("Item", self.ddb.get_item(TableName=self.table, Key=key,
                                                           ConsistentRead=True))
        creations = [{}, {"AttributeUpdates": {}},
                     {"UpdateExpression": "SET colour = :c REMOVE shade",
                      "ExpressionAttributeValues": {":c": {"S": "blue"}}},
                     {"AttributeUpdates": {"n": {"Action": "ADD", "Value": {"N": "2"}}}}]
        for i, kw in enumerate(creations):
            with self.subTest(kw=kw):
                key = {"pk": {"S": "made-%d" % i}, "sk": {"N": "1"}}
                self.ddb.update_item(TableName=self.table, Key=key, **kw)
                self.assertIn("Item", self.ddb.get_item(TableName=self.table, Key=key,
                                                        ConsistentRead=True))
        # an existing item keeps existing when its last attribute is removed
        key = {"pk": {"S": "kept"}, "sk": {"N": "1"}}
        self.ddb.put_item(TableName=self.table, Item=dict(key, colour={"S": "red"}))
        self.ddb.update_item(TableName=self.table, Key=key, UpdateExpression="REMOVE colour")
        self.assertEqual(self.ddb.get_item(TableName=self.table, Key=key,
                                           ConsistentRead=True)["Item"], key)


if __name__ == "__main__":
    unittest.main()
