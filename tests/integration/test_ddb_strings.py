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

    def test_nul_sorts_first_and_counts_one_byte(self):
        # DynamoDB orders strings by their UTF-8 bytes: U+0000 before everything
        t = "nulord-" + uuid.uuid4().hex[:8]
        self.ddb.create_table(
            TableName=t, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"}
                                  for n in ("pk", "sk", "g", "gs")],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                       {"AttributeName": "sk", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[{"IndexName": "byg", "Projection": {"ProjectionType": "ALL"},
                                     "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"},
                                                   {"AttributeName": "gs", "KeyType": "RANGE"}]}])
        order = ["\x00", "\x00\x00", "\x00a", "\x01", "a", "a\x00", "a\x00b", "a\x01", "a!",
                 "a\x7f", "a\x80", "b"]
        for i, sk in enumerate(reversed(order)):
            self.ddb.put_item(TableName=t, Item={"pk": {"S": "p"}, "sk": {"S": sk},
                                                 "g": {"S": "g"}, "gs": {"S": sk}})
        def query(index=None, forward=True, cond="", values=None, limit=None):
            kw = {"IndexName": index} if index else {}
            if limit:
                kw["Limit"] = limit
            h = "g" if index else "pk"
            got, esk = [], None
            for _ in range(20):
                if esk:
                    kw["ExclusiveStartKey"] = esk
                out = self.ddb.query(TableName=t, KeyConditionExpression="%s = :h%s" % (h, cond),
                                     ExpressionAttributeValues={":h": {"S": "g" if index else "p"},
                                                                **(values or {})},
                                     ScanIndexForward=forward, **kw)
                got += [it["sk"]["S"] for it in out["Items"]]
                esk = out.get("LastEvaluatedKey")
                if not esk:
                    break
            return got
        for index in (None, "byg"):
            r = "gs" if index else "sk"
            with self.subTest(index=index):
                self.assertEqual(query(index), order)
                self.assertEqual(query(index, forward=False), order[::-1])
                self.assertEqual(query(index, limit=2), order)
                # conditions on the key agree with that order
                self.assertEqual(query(index, cond=" AND %s < :v" % r, values={":v": {"S": "a!"}}),
                                 order[:order.index("a!")])
                self.assertEqual(query(index, cond=" AND %s BETWEEN :a AND :b" % r,
                                       values={":a": {"S": "a"}, ":b": {"S": "a\x01"}}),
                                 ["a", "a\x00", "a\x00b", "a\x01"])
                self.assertEqual(query(index, cond=" AND begins_with(%s, :v)" % r,
                                       values={":v": {"S": "a\x00"}}), ["a\x00", "a\x00b"])
                self.assertEqual(query(index, forward=False, cond=" AND %s > :v" % r,
                                       values={":v": {"S": "a"}}),
                                 order[order.index("a") + 1:][::-1])
        # a filter compares strings the same way
        out = self.ddb.scan(TableName=t, FilterExpression="sk < :v",
                            ExpressionAttributeValues={":v": {"S": "\x01"}})
        self.assertEqual(sorted(it["sk"]["S"] for it in out["Items"]), ["\x00", "\x00\x00", "\x00a"])
        # U+0000 is one byte toward the key and item size limits
        for sk, ok in [("\x00" * 1024, True), ("\x00" * 1025, False)]:
            with self.subTest(sk_len=len(sk)):
                item = {"pk": {"S": "size"}, "sk": {"S": sk}}
                if ok:
                    self.ddb.put_item(TableName=t, Item=item)
                else:
                    with self.assertRaises(self.ddb.exceptions.ClientError) as cm:
                        self.ddb.put_item(TableName=t, Item=item)
                    self.assertIn("Aggregated size of all range keys has exceeded the size "
                                  "limit of 1024 bytes", str(cm.exception))
        for pk, ok in [("\x00" * 2048, True), ("\x00" * 2049, False)]:
            with self.subTest(pk_len=len(pk)):
                item = {"pk": {"S": pk}, "sk": {"S": "s"}}
                if ok:
                    self.ddb.put_item(TableName=t, Item=item)
                    got = self.ddb.get_item(TableName=t, Key=item, ConsistentRead=True)["Item"]
                    self.assertEqual(got, item)
                else:
                    with self.assertRaises(self.ddb.exceptions.ClientError) as cm:
                        self.ddb.put_item(TableName=t, Item=item)
                    self.assertIn("Size of hashkey has exceeded the maximum size limit",
                                  str(cm.exception))
        # item size: "pk" "sk" "v" names (5 bytes) + "big" + "s" + the value; the
        # answer comes in seconds, not after a client's usual minute (sizing a
        # string of NULs once took minutes under ASan): else the server's
        # threads are dumped
        room = 400 * 1024 - 5 - len("big") - 1
        ddb = self.server.boto3(read_timeout=30)
        for n, ok in [(room, True), (room + 1, False)]:
            with self.subTest(value_len=n), self.server.dump_on_timeout():
                item = {"pk": {"S": "big"}, "sk": {"S": "s"}, "v": {"S": "\x00" * n}}
                if ok:
                    ddb.put_item(TableName=t, Item=item)
                    got = ddb.get_item(TableName=t, Key={"pk": item["pk"], "sk": item["sk"]},
                                       ConsistentRead=True)["Item"]
                    self.assertEqual(got, item)
                else:
                    with self.assertRaises(ddb.exceptions.ClientError) as cm:
                        ddb.put_item(TableName=t, Item=item)
                    self.assertIn("Item size has exceeded the maximum allowed size",
                                  str(cm.exception))
        self.ddb.delete_table(TableName=t)

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
