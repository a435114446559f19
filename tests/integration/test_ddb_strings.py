"""DynamoDB strings holding U+0000 (NUL): kept whole in keys and values
through PutItem, GetItem, Query, Scan, UpdateItem conditions and batches,
never truncated at the NUL (which would make distinct keys collide)."""

import json
import unittest
import uuid

from tandem_harness import ServerTestCase


class NulStrings(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ddb = cls.server.boto3()
        cls.table = "nul-" + uuid.uuid4().hex[:8]
        cls.ddb.create_table(TableName=cls.table, BillingMode="PAY_PER_REQUEST",
                             AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                                   {"AttributeName": "sk", "AttributeType": "S"}],
                             KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                        {"AttributeName": "sk", "KeyType": "RANGE"}])

    def test_keys_and_values_with_nul(self):
        items = [("h\x00a", "s", "v\x00one"), ("h\x00b", "s", "\x00"), ("h", "s", "no nul"),
                 ("h", "s\x00", "é\x00ü"), ("h", "lit", "a\\u0000 stays text")]
        for pk, sk, v in items:
            self.ddb.put_item(TableName=self.table,
                              Item={"pk": {"S": pk}, "sk": {"S": sk}, "v": {"S": v}})
        for pk, sk, v in items:
            with self.subTest(pk=pk, sk=sk):
                got = self.ddb.get_item(TableName=self.table, ConsistentRead=True,
                                        Key={"pk": {"S": pk}, "sk": {"S": sk}})["Item"]
                self.assertEqual(got, {"pk": {"S": pk}, "sk": {"S": sk}, "v": {"S": v}})
        out = self.ddb.query(TableName=self.table, KeyConditionExpression="pk = :p",
                             ExpressionAttributeValues={":p": {"S": "h"}}, ConsistentRead=True)
        self.assertEqual(sorted(it["sk"]["S"] for it in out["Items"]), ["lit", "s", "s\x00"])
        out = self.ddb.scan(TableName=self.table, ConsistentRead=True)
        self.assertEqual(sorted(it["v"]["S"] for it in out["Items"]),
                         sorted(v for _, _, v in items))
        # conditions and update values see the NUL too
        key = {"pk": {"S": "h\x00a"}, "sk": {"S": "s"}}
        out = self.ddb.update_item(TableName=self.table, Key=key, ReturnValues="UPDATED_NEW",
                                   UpdateExpression="SET w = :w",
                                   ConditionExpression="begins_with(v, :b) AND v <> :short",
                                   ExpressionAttributeValues={":w": {"S": "x\x00"},
                                                              ":b": {"S": "v\x00"},
                                                              ":short": {"S": "v"}})
        self.assertEqual(out["Attributes"], {"w": {"S": "x\x00"}})
        with self.assertRaises(self.ddb.exceptions.ConditionalCheckFailedException):
            self.ddb.delete_item(TableName=self.table, Key=key, ConditionExpression="v = :v",
                                 ExpressionAttributeValues={":v": {"S": "v"}})
        out = self.ddb.batch_get_item(RequestItems={self.table: {"Keys": [key]}})
        self.assertEqual(out["Responses"][self.table][0]["w"], {"S": "x\x00"})

    def test_wire_form(self):
        # the answer carries the NUL as the JSON escape \u0000
        body = {"TableName": self.table, "Item": {"pk": {"S": "wire\u0000"}, "sk": {"S": "1"}}}
        status, _, out = self.server.raw("PutItem", json.dumps(body))
        self.assertEqual(status, 200, out)
        status, _, out = self.server.raw("GetItem", json.dumps(
            {"TableName": self.table, "Key": body["Item"], "ConsistentRead": True}))
        self.assertEqual(status, 200, out)
        self.assertIn(b"wire\\u0000", out)
        self.assertEqual(json.loads(out)["Item"]["pk"]["S"], "wire\x00")


if __name__ == "__main__":
    unittest.main()
