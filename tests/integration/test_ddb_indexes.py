"""Secondary indexes through boto3 and the aws CLI: LSIs and GSIs at
CreateTable, GSIs created (with backfill) and deleted by UpdateTable,
projections ALL / KEYS_ONLY / INCLUDE, Query and Scan on indexes with
pagination, sparse indexes, maintenance by every write path, DescribeTable's
index descriptions, and the validation errors."""

import random
import subprocess
import json
import unittest
import uuid

from repl_helpers import deployment, wait_until
from tandem_harness import ServerTestCase


def S(v):
    return {"S": v}


def N(v):
    return {"N": str(v)}


class Indexes(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ddb = cls.server.boto3()

    def err(self, fn, **kw):
        with self.assertRaises(self.ddb.exceptions.ClientError) as cm:
            fn(**kw)
        e = cm.exception.response
        return e["Error"]["Code"], e["Error"]["Message"]

    def new_table(self, gsis=None, lsis=None, extra_defs=()):
        name = "ix-" + uuid.uuid4().hex[:12]
        defs = [{"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "N"}]
        defs += [{"AttributeName": a, "AttributeType": t} for a, t in extra_defs]
        kw = {}
        if gsis:
            kw["GlobalSecondaryIndexes"] = gsis
        if lsis:
            kw["LocalSecondaryIndexes"] = lsis
        out = self.ddb.create_table(TableName=name, AttributeDefinitions=defs,
                                    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                               {"AttributeName": "sk", "KeyType": "RANGE"}],
                                    BillingMode="PAY_PER_REQUEST", **kw)
        return name, out["TableDescription"]

    def gsi(self, name, h, r=None, proj="ALL", nonkey=None):
        ks = [{"AttributeName": h, "KeyType": "HASH"}]
        if r:
            ks.append({"AttributeName": r, "KeyType": "RANGE"})
        p = {"ProjectionType": proj}
        if nonkey:
            p["NonKeyAttributes"] = nonkey
        return {"IndexName": name, "KeySchema": ks, "Projection": p}

    def all_pages(self, fn, **kw):
        items, n = [], 0
        while True:
            out = fn(**kw)
            items += out["Items"]
            n += 1
            if "LastEvaluatedKey" not in out:
                return items, n
            kw["ExclusiveStartKey"] = out["LastEvaluatedKey"]

    def test_gsi_query_projection_and_sparse(self):
        t, desc = self.new_table(
            gsis=[self.gsi("by_status", "status", "score", "INCLUDE", ["title"]),
                  self.gsi("by_owner", "owner", None, "KEYS_ONLY")],
            extra_defs=[("status", "S"), ("score", "N"), ("owner", "S")])
        g = {i["IndexName"]: i for i in desc["GlobalSecondaryIndexes"]}
        self.assertEqual(g["by_status"]["IndexStatus"], "ACTIVE")
        self.assertTrue(g["by_status"]["IndexArn"].endswith("/index/by_status"))
        for i in range(30):
            item = {"pk": S("p%d" % (i % 3)), "sk": N(i), "title": S("t%d" % i),
                    "secret": S("x")}
            if i % 5:  # sparse: every fifth item has no status
                item["status"] = S("open" if i % 2 else "closed")
                item["score"] = N(100 - i)
            if i < 4:
                item["owner"] = S("ann")
            self.ddb.put_item(TableName=t, Item=item)
        out = self.ddb.query(TableName=t, IndexName="by_status",
                             KeyConditionExpression="#s = :o AND score BETWEEN :a AND :b",
                             ExpressionAttributeNames={"#s": "status"},
                             ExpressionAttributeValues={":o": S("open"), ":a": N(75),
                                                        ":b": N(95)})
        scores = [int(i["score"]["N"]) for i in out["Items"]]
        self.assertEqual(scores, sorted(scores))
        want = sorted(100 - i for i in range(30) if i % 5 and i % 2 and 75 <= 100 - i <= 95)
        self.assertEqual(scores, want)
        for it in out["Items"]:
            self.assertEqual(set(it), {"pk", "sk", "status", "score", "title"})
        back = self.ddb.query(TableName=t, IndexName="by_status", ScanIndexForward=False,
                              KeyConditionExpression="#s = :o AND score <= :b",
                              ExpressionAttributeNames={"#s": "status"},
                              ExpressionAttributeValues={":o": S("open"), ":b": N(95)})
        self.assertEqual([int(i["score"]["N"]) for i in back["Items"]],
                         sorted((100 - i for i in range(30)
                                 if i % 5 and i % 2 and 100 - i <= 95), reverse=True))
        # pagination across the index with Limit
        items, pages = self.all_pages(self.ddb.query, TableName=t, IndexName="by_status",
                                      KeyConditionExpression="#s = :c",
                                      ExpressionAttributeNames={"#s": "status"},
                                      ExpressionAttributeValues={":c": S("closed")}, Limit=3)
        self.assertEqual(len(items), len([i for i in range(30) if i % 5 and not i % 2]))
        self.assertGreater(pages, 3)
        # KEYS_ONLY and sparse: only the four items with an owner
        out = self.ddb.query(TableName=t, IndexName="by_owner",
                             KeyConditionExpression="#o = :a",
                             ExpressionAttributeNames={"#o": "owner"},
                             ExpressionAttributeValues={":a": S("ann")})
        self.assertEqual(out["Count"], 4)
        for it in out["Items"]:
            self.assertEqual(set(it), {"pk", "sk", "owner"})
        items, _ = self.all_pages(self.ddb.scan, TableName=t, IndexName="by_status", Limit=7)
        self.assertEqual(len(items), 24)
        d = self.ddb.describe_table(TableName=t)["Table"]
        g = {i["IndexName"]: i for i in d["GlobalSecondaryIndexes"]}
        self.assertEqual(g["by_status"]["ItemCount"], 24)
        self.assertEqual(g["by_owner"]["ItemCount"], 4)
        self.assertGreater(g["by_status"]["IndexSizeBytes"], 0)
        code, msg = self.err(self.ddb.query, TableName=t, IndexName="by_status",
                             KeyConditionExpression="#s = :o", ConsistentRead=True,
                             ExpressionAttributeNames={"#s": "status"},
                             ExpressionAttributeValues={":o": S("open")})
        self.assertEqual(code, "ValidationException")
        self.assertIn("Consistent reads are not supported", msg)
        code, msg = self.err(self.ddb.query, TableName=t, IndexName="by_owner",
                             KeyConditionExpression="#o = :a", Select="ALL_ATTRIBUTES",
                             ExpressionAttributeNames={"#o": "owner"},
                             ExpressionAttributeValues={":a": S("ann")})
        self.assertEqual(code, "ValidationException")
        code, msg = self.err(self.ddb.query, TableName=t, IndexName="nope",
                             KeyConditionExpression="pk = :a",
                             ExpressionAttributeValues={":a": S("ann")})
        self.assertEqual((code, msg), ("ValidationException",
                                       "The table does not have the specified index: nope"))

    def test_every_write_path_maintains_the_index(self):
        t, _ = self.new_table(gsis=[self.gsi("gix", "color")], extra_defs=[("color", "S")])

        def colors(c):
            out = self.ddb.query(TableName=t, IndexName="gix", KeyConditionExpression="color = :c",
                                 ExpressionAttributeValues={":c": S(c)})
            return sorted(i["pk"]["S"] for i in out["Items"])

        self.ddb.put_item(TableName=t, Item={"pk": S("a"), "sk": N(1), "color": S("red")})
        self.ddb.update_item(TableName=t, Key={"pk": S("b"), "sk": N(1)},
                             UpdateExpression="SET color = :c",
                             ExpressionAttributeValues={":c": S("red")})
        self.assertEqual(colors("red"), ["a", "b"])
        self.ddb.update_item(TableName=t, Key={"pk": S("a"), "sk": N(1)},
                             UpdateExpression="SET color = :c",
                             ExpressionAttributeValues={":c": S("blue")})
        self.assertEqual(colors("red"), ["b"])
        self.assertEqual(colors("blue"), ["a"])
        self.ddb.update_item(TableName=t, Key={"pk": S("a"), "sk": N(1)},
                             UpdateExpression="REMOVE color")
        self.assertEqual(colors("blue"), [])
        self.ddb.batch_write_item(RequestItems={t: [
            {"PutRequest": {"Item": {"pk": S("c"), "sk": N(1), "color": S("red")}}},
            {"DeleteRequest": {"Key": {"pk": S("b"), "sk": N(1)}}}]})
        self.assertEqual(colors("red"), ["c"])
        self.ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": t, "Item": {"pk": S("d"), "sk": N(1), "color": S("red")}}},
            {"Delete": {"TableName": t, "Key": {"pk": S("c"), "sk": N(1)}}}])
        self.assertEqual(colors("red"), ["d"])
        # a canceled transaction leaves the index alone
        with self.assertRaises(self.ddb.exceptions.TransactionCanceledException):
            self.ddb.transact_write_items(TransactItems=[
                {"Put": {"TableName": t, "Item": {"pk": S("e"), "sk": N(1), "color": S("red")}}},
                {"ConditionCheck": {"TableName": t, "Key": {"pk": S("zz"), "sk": N(1)},
                                    "ConditionExpression": "attribute_exists(pk)"}}])
        self.assertEqual(colors("red"), ["d"])
        self.ddb.delete_item(TableName=t, Key={"pk": S("d"), "sk": N(1)})
        self.assertEqual(colors("red"), [])
        # an index key of another type or empty is refused, as the service does
        code, msg = self.err(self.ddb.put_item, TableName=t,
                             Item={"pk": S("f"), "sk": N(1), "color": N(3)})
        self.assertEqual(code, "ValidationException")
        self.assertIn("Type mismatch for Index Key color Expected: S Actual: N IndexName: gix", msg)
        code, msg = self.err(self.ddb.update_item, TableName=t, Key={"pk": S("f"), "sk": N(1)},
                             UpdateExpression="SET color = :e",
                             ExpressionAttributeValues={":e": S("")})
        self.assertEqual(code, "ValidationException")
        self.assertIn("secondary index key", msg)
        self.assertIsNone(self.ddb.get_item(TableName=t, Key={"pk": S("f"), "sk": N(1)}).get("Item"))
        d = self.ddb.describe_table(TableName=t)["Table"]["GlobalSecondaryIndexes"][0]
        self.assertEqual(d["ItemCount"], 0)

    def test_lsi(self):
        t, desc = self.new_table(lsis=[{"IndexName": "by_date",
                                        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                                      {"AttributeName": "date",
                                                       "KeyType": "RANGE"}],
                                        "Projection": {"ProjectionType": "KEYS_ONLY"}}],
                                 extra_defs=[("date", "S")])
        self.assertEqual(desc["LocalSecondaryIndexes"][0]["IndexName"], "by_date")
        for i in range(10):
            self.ddb.put_item(TableName=t, Item={"pk": S("p"), "sk": N(i),
                                                 "date": S("2024-01-%02d" % (10 - i)),
                                                 "body": S("b%d" % i)})
        out = self.ddb.query(TableName=t, IndexName="by_date",
                             KeyConditionExpression="pk = :p AND begins_with(#d, :m)",
                             ExpressionAttributeNames={"#d": "date"},
                             ExpressionAttributeValues={":p": S("p"), ":m": S("2024-01-0")})
        self.assertEqual([i["date"]["S"] for i in out["Items"]],
                         ["2024-01-%02d" % d for d in range(1, 10)])
        self.assertNotIn("body", out["Items"][0])
        # ALL_ATTRIBUTES on a local index fetches the table's items
        out = self.ddb.query(TableName=t, IndexName="by_date", Select="ALL_ATTRIBUTES",
                             KeyConditionExpression="pk = :p",
                             ExpressionAttributeValues={":p": S("p")}, ConsistentRead=True)
        self.assertEqual(out["Items"][0]["body"], S("b9"))
        # so does a projection naming attributes the index does not hold,
        # whether Select says SPECIFIC_ATTRIBUTES or nothing
        for sel in ({"Select": "SPECIFIC_ATTRIBUTES"}, {}):
            out = self.ddb.query(TableName=t, IndexName="by_date", ProjectionExpression="body, sk",
                                 KeyConditionExpression="pk = :p",
                                 ExpressionAttributeValues={":p": S("p")}, **sel)
            self.assertEqual(out["Items"][0], {"body": S("b9"), "sk": N(9)})
            self.assertEqual(out["Count"], 10)
        # an index whose hash and range keys are one attribute is refused
        code, msg = self.err(self.ddb.create_table, TableName="ix-" + uuid.uuid4().hex[:10],
                             AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                                   {"AttributeName": "sk", "AttributeType": "N"}],
                             KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                        {"AttributeName": "sk", "KeyType": "RANGE"}],
                             BillingMode="PAY_PER_REQUEST",
                             LocalSecondaryIndexes=[{
                                 "IndexName": "same",
                                 "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                               {"AttributeName": "pk", "KeyType": "RANGE"}],
                                 "Projection": {"ProjectionType": "ALL"}}])
        self.assertEqual(code, "ValidationException")
        self.assertIn("have the same name", msg)

    def test_item_collection_metrics(self):
        # ReturnItemCollectionMetrics SIZE: the item collection's partition key
        # and a size estimate, on tables with a local index only; nothing for
        # NONE or a table without one (nubo-db/dynamodb-conformance
        # putItem/itemCollectionMetrics, passing against AWS)
        lsi = [{"IndexName": "byv", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                                  {"AttributeName": "v", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"}}]
        gsi = [{"IndexName": "byv", "KeySchema": [{"AttributeName": "v", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"}}]
        t, _ = self.new_table(lsis=lsi, extra_defs=[("v", "S")])
        plain, _ = self.new_table(gsis=gsi, extra_defs=[("v", "S")])
        want = {"ItemCollectionKey": {"pk": S("c1")}, "SizeEstimateRangeGB": [0.0, 1.0]}
        key = {"pk": S("c1"), "sk": N(1)}
        for table, expect in ((t, want), (plain, None)):
            with self.subTest(table=table):
                outs = [
                    self.ddb.put_item(TableName=table, Item={**key, "v": S("a")},
                                      ReturnItemCollectionMetrics="SIZE"),
                    self.ddb.update_item(TableName=table, Key=key, UpdateExpression="SET w = :w",
                                         ExpressionAttributeValues={":w": S("x")},
                                         ReturnItemCollectionMetrics="SIZE"),
                    self.ddb.delete_item(TableName=table, Key=key,
                                         ReturnItemCollectionMetrics="SIZE"),
                ]
                for out in outs:
                    self.assertEqual(out.get("ItemCollectionMetrics"), expect)
        out = self.ddb.put_item(TableName=t, Item={**key, "v": S("a")},
                                ReturnItemCollectionMetrics="NONE", ReturnConsumedCapacity="TOTAL")
        self.assertNotIn("ItemCollectionMetrics", out)
        out = self.ddb.update_item(TableName=t, Key=key, UpdateExpression="SET w = :w",
                                   ExpressionAttributeValues={":w": S("y")},
                                   ReturnItemCollectionMetrics="SIZE", ReturnValues="UPDATED_NEW",
                                   ReturnConsumedCapacity="TOTAL")
        self.assertEqual((out["Attributes"], out["ItemCollectionMetrics"],
                          out["ConsumedCapacity"]["CapacityUnits"]),
                         ({"w": S("y")}, want, 2.0))

    def test_update_table_create_and_delete_gsi(self):
        t, _ = self.new_table()
        for i in range(20):
            item = {"pk": S("p%d" % i), "sk": N(i)}
            if i % 2:
                item["kind"] = S("odd")
            self.ddb.put_item(TableName=t, Item=item)
        # every key attribute of the new index is defined in the request,
        # even one the table already defines (sk): DynamoDB refuses otherwise
        code, msg = self.err(self.ddb.update_table, TableName=t,
                             AttributeDefinitions=[{"AttributeName": "kind",
                                                    "AttributeType": "S"}],
                             GlobalSecondaryIndexUpdates=[{"Create": self.gsi("by_kind", "kind",
                                                                              "sk")}])
        self.assertEqual(code, "ValidationException")
        self.assertIn("not defined in AttributeDefinitions. Keys: [sk]", msg)
        out = self.ddb.update_table(
            TableName=t, AttributeDefinitions=[{"AttributeName": "kind", "AttributeType": "S"},
                                               {"AttributeName": "sk", "AttributeType": "N"}],
            GlobalSecondaryIndexUpdates=[{"Create": self.gsi("by_kind", "kind", "sk")}])
        g = out["TableDescription"]["GlobalSecondaryIndexes"][0]
        self.assertEqual((g["IndexName"], g["IndexStatus"], g["ItemCount"]),
                         ("by_kind", "ACTIVE", 10))
        out = self.ddb.query(TableName=t, IndexName="by_kind", KeyConditionExpression="kind = :k",
                             ExpressionAttributeValues={":k": S("odd")})
        self.assertEqual([int(i["sk"]["N"]) for i in out["Items"]], list(range(1, 20, 2)))
        code, _ = self.err(self.ddb.update_table, TableName=t,
                           AttributeDefinitions=[{"AttributeName": "kind",
                                                  "AttributeType": "S"}],
                           GlobalSecondaryIndexUpdates=[{"Create": self.gsi("by_kind", "kind")}])
        self.assertEqual(code, "ValidationException")
        code, _ = self.err(self.ddb.update_table, TableName=t,
                           GlobalSecondaryIndexUpdates=[{"Create": self.gsi("xix", "nodef")}])
        self.assertEqual(code, "ValidationException")
        self.ddb.update_table(TableName=t,
                              GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by_kind"}}])
        self.assertNotIn("GlobalSecondaryIndexes", self.ddb.describe_table(TableName=t)["Table"])
        code, _ = self.err(self.ddb.query, TableName=t, IndexName="by_kind",
                           KeyConditionExpression="kind = :k",
                           ExpressionAttributeValues={":k": S("odd")})
        self.assertEqual(code, "ValidationException")
        code, _ = self.err(self.ddb.update_table, TableName=t,
                           GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by_kind"}}])
        self.assertEqual(code, "ResourceNotFoundException")
        code, _ = self.err(self.ddb.update_table, TableName=t, GlobalSecondaryIndexUpdates=[
            {"Delete": {"IndexName": "a1x"}}, {"Delete": {"IndexName": "b1x"}}])
        self.assertEqual(code, "LimitExceededException")

    def test_index_key_sizes_and_update_errors(self):
        t, _ = self.new_table()
        self.ddb.put_item(TableName=t, Item={"pk": S("small"), "sk": N(1), "g": S("hello")})
        self.ddb.put_item(TableName=t, Item={"pk": S("big"), "sk": N(1), "g": S("a" * 3000)})
        # a new index leaves out items whose key value is over DynamoDB's
        # limits (2048 bytes for a hash key, 1024 for a range key)
        self.ddb.update_table(TableName=t,
                              AttributeDefinitions=[{"AttributeName": "g", "AttributeType": "S"}],
                              GlobalSecondaryIndexUpdates=[{"Create": self.gsi("by_g", "g")}])
        self.assertEqual([i["pk"]["S"] for i in self.ddb.scan(TableName=t,
                                                                IndexName="by_g")["Items"]],
                         ["small"])
        # and writes of such values are refused while the index exists
        code, msg = self.err(self.ddb.put_item, TableName=t,
                             Item={"pk": S("x"), "sk": N(2), "g": S("a" * 2049)})
        self.assertEqual(code, "ValidationException")
        self.assertIn("2048 bytes", msg)
        self.ddb.put_item(TableName=t, Item={"pk": S("x"), "sk": N(2), "g": S("a" * 2048)})
        # another index may not give g another type
        code, msg = self.err(self.ddb.update_table, TableName=t,
                             AttributeDefinitions=[{"AttributeName": "g", "AttributeType": "N"}],
                             GlobalSecondaryIndexUpdates=[{"Create": self.gsi("g_num", "g")}])
        self.assertEqual(code, "ValidationException")
        self.assertIn("Attributes cannot be redefined", msg)
        # one update names one of Create, Update, Delete
        code, msg = self.err(self.ddb.update_table, TableName=t,
                             AttributeDefinitions=[{"AttributeName": "g", "AttributeType": "S"}],
                             GlobalSecondaryIndexUpdates=[{"Create": self.gsi("other", "g"),
                                                           "Delete": {"IndexName": "by_g"}}])
        self.assertEqual(code, "ValidationException")
        self.assertIn("only one of", msg)
        self.assertEqual([g["IndexName"] for g in self.ddb.describe_table(
            TableName=t)["Table"]["GlobalSecondaryIndexes"]], ["by_g"])

    def test_update_table_gsi_throughput(self):
        name = "ix-" + uuid.uuid4().hex[:12]
        g = self.gsi("by_sk", "sk")
        g["ProvisionedThroughput"] = {"ReadCapacityUnits": 2, "WriteCapacityUnits": 3}
        self.ddb.create_table(TableName=name,
                              AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                                    {"AttributeName": "sk", "AttributeType": "N"}],
                              KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                              ProvisionedThroughput={"ReadCapacityUnits": 1,
                                                     "WriteCapacityUnits": 1},
                              GlobalSecondaryIndexes=[g])
        out = self.ddb.update_table(TableName=name, GlobalSecondaryIndexUpdates=[{"Update": {
            "IndexName": "by_sk",
            "ProvisionedThroughput": {"ReadCapacityUnits": 7, "WriteCapacityUnits": 4}}}])
        pt = out["TableDescription"]["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"]
        self.assertEqual((pt["ReadCapacityUnits"], pt["WriteCapacityUnits"]), (7, 4))
        pt = self.ddb.describe_table(TableName=name)["Table"]["GlobalSecondaryIndexes"][0][
            "ProvisionedThroughput"]
        self.assertEqual((pt["ReadCapacityUnits"], pt["WriteCapacityUnits"]), (7, 4))
        code, _ = self.err(self.ddb.update_table, TableName=name, GlobalSecondaryIndexUpdates=[
            {"Update": {"IndexName": "nope", "ProvisionedThroughput": {
                "ReadCapacityUnits": 1, "WriteCapacityUnits": 1}}}])
        self.assertEqual(code, "ResourceNotFoundException")

    def test_index_key_errors_name_the_first_index_by_name(self):
        # an LSI and a GSI keyed on one attribute: DynamoDB names the index
        # that comes first by name (gsi1 before lsi1), whatever its kind
        lsi = {"IndexName": "lsi1", "Projection": {"ProjectionType": "ALL"},
               "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                             {"AttributeName": "x", "KeyType": "RANGE"}]}
        t, _ = self.new_table(gsis=[self.gsi("gsi1", "x")], lsis=[lsi], extra_defs=[("x", "S")])
        key = {"pk": {"S": "a"}, "sk": {"N": "1"}}
        code, msg = self.err(self.ddb.put_item, TableName=t, Item=dict(key, x={"N": "5"}))
        self.assertEqual(code, "ValidationException")
        self.assertEqual(msg, "One or more parameter values were invalid: Type mismatch for Index "
                              "Key x Expected: S Actual: N IndexName: gsi1")
        code, msg = self.err(self.ddb.batch_write_item, RequestItems={
            t: [{"PutRequest": {"Item": dict(key, x={"S": ""})}}]})
        self.assertEqual(msg, "One or more parameter values are not valid. A value specified for "
                              "a secondary index key is not supported. The AttributeValue for a "
                              "key attribute cannot contain an empty string value. IndexName: "
                              "gsi1, IndexKey: x")
        # an UpdateExpression that empties an index key is worded without the index
        code, msg = self.err(self.ddb.update_item, TableName=t, Key=key,
                             UpdateExpression="SET x = :v",
                             ExpressionAttributeValues={":v": {"S": ""}})
        self.assertEqual(code, "ValidationException")
        self.assertEqual(msg, "One or more parameter values are not valid. The update expression "
                              "attempted to update a secondary index key to a value that is not "
                              "supported. The AttributeValue for a key attribute cannot contain "
                              "an empty string value.")
        self.assertNotIn("Item", self.ddb.get_item(TableName=t, Key=key, ConsistentRead=True))

    def test_create_table_validation(self):
        base = dict(AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                          {"AttributeName": "sk", "AttributeType": "N"},
                                          {"AttributeName": "g", "AttributeType": "S"}],
                    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                               {"AttributeName": "sk", "KeyType": "RANGE"}],
                    BillingMode="PAY_PER_REQUEST")

        def create(**kw):
            args = dict(base, TableName="ix-" + uuid.uuid4().hex[:10])
            args.update(kw)
            return self.err(self.ddb.create_table, **args)

        code, msg = create()  # g defined but unused, no index
        self.assertEqual(code, "ValidationException")
        self.assertIn("Number of attributes in KeySchema does not exactly match", msg)
        code, msg = create(GlobalSecondaryIndexes=[self.gsi("idx1", "pk")])
        self.assertEqual(code, "ValidationException")
        self.assertIn("Some AttributeDefinitions are not used", msg)
        code, msg = create(GlobalSecondaryIndexes=[self.gsi("idx1", "undefined")])
        self.assertIn("not defined in AttributeDefinitions", msg)
        code, msg = create(GlobalSecondaryIndexes=[self.gsi("idx1", "g"), self.gsi("idx1", "g")])
        self.assertIn("Duplicate index name", msg)
        code, msg = create(LocalSecondaryIndexes=[{
            "IndexName": "lsi1", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"},
                                             {"AttributeName": "sk", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"}}])
        self.assertIn("same leading hash key", msg)
        code, msg = create(GlobalSecondaryIndexes=[self.gsi("idx1", "g", proj="KEYS_ONLY",
                                                            nonkey=["a"])])
        self.assertIn("NonKeyAttributes is specified", msg)
        code, msg = create(GlobalSecondaryIndexes=[self.gsi("idx1", "g", proj="INCLUDE")])
        self.assertIn("NonKeyAttributes is not specified", msg)
        # a name listed twice in NonKeyAttributes is refused, naming it
        code, msg = create(GlobalSecondaryIndexes=[self.gsi("idx1", "g", proj="INCLUDE",
                                                            nonkey=["a", "b", "a"])])
        self.assertEqual(code, "ValidationException")
        self.assertIn("Duplicate attribute name in NonKeyAttributes: a", msg)
        # a number among NonKeyAttributes is a wrong JSON type: SerializationException
        raw = self.server.boto3(parameter_validation=False)
        name = "ix-" + uuid.uuid4().hex[:10]
        with self.assertRaises(raw.exceptions.ClientError) as cm:
            raw.create_table(TableName=name, **dict(base, GlobalSecondaryIndexes=[
                self.gsi("idx1", "g", proj="INCLUDE", nonkey=["a", 123])]))
        self.assertEqual(cm.exception.response["Error"]["Code"], "SerializationException")
        self.assertNotIn(name, self.ddb.list_tables()["TableNames"])
        code, msg = create(BillingMode="PROVISIONED",
                           ProvisionedThroughput={"ReadCapacityUnits": 1,
                                                  "WriteCapacityUnits": 1},
                           GlobalSecondaryIndexes=[self.gsi("idx1", "g")])
        self.assertIn("ProvisionedThroughput must be specified for index", msg)

    def test_property_index_matches_model(self):
        t, _ = self.new_table(gsis=[self.gsi("gix", "grp", "val")],
                              extra_defs=[("grp", "S"), ("val", "N")])
        rnd = random.Random(7)
        model = {}
        for step in range(150):
            k = ("p%d" % rnd.randrange(6), rnd.randrange(5))
            key = {"pk": S(k[0]), "sk": N(k[1])}
            op = rnd.random()
            if op < 0.5:
                item = dict(key)
                if rnd.random() < 0.8:
                    item["grp"] = S(rnd.choice("ab"))
                    item["val"] = N(rnd.randrange(10))
                self.ddb.put_item(TableName=t, Item=item)
                model[k] = item
            elif op < 0.8:
                self.ddb.delete_item(TableName=t, Key=key)
                model.pop(k, None)
            else:
                g = rnd.choice("ab")
                self.ddb.update_item(TableName=t, Key=key, UpdateExpression="SET grp = :g, val = :v",
                                     ExpressionAttributeValues={":g": S(g), ":v": N(step % 10)})
                item = dict(model.get(k, key))
                item.update({"grp": S(g), "val": N(step % 10)})
                model[k] = item
        for g in "ab":
            items, _ = self.all_pages(self.ddb.query, TableName=t, IndexName="gix",
                                      KeyConditionExpression="grp = :g",
                                      ExpressionAttributeValues={":g": S(g)}, Limit=4)
            got = [int(i["val"]["N"]) for i in items]
            self.assertEqual(got, sorted(got))
            want = sorted((int(v["val"]["N"]), kk) for kk, v in model.items()
                          if v.get("grp") == S(g))
            self.assertEqual(sorted((int(i["val"]["N"]), (i["pk"]["S"], int(i["sk"]["N"])))
                                    for i in items), want)

    def test_cli(self):
        t, _ = self.new_table(gsis=[self.gsi("gix", "color")], extra_defs=[("color", "S")])
        self.ddb.put_item(TableName=t, Item={"pk": S("a"), "sk": N(1), "color": S("red")})
        env = self.server.env()
        p = subprocess.run(["aws", "--endpoint-url", env["TANDEM_ENDPOINT"], "--output", "json",
                            "dynamodb", "query", "--table-name", t, "--index-name", "gix",
                            "--key-condition-expression", "color = :c",
                            "--expression-attribute-values", json.dumps({":c": S("red")})],
                           env=env, capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout)["Count"], 1)


class ReplicatedIndexes(unittest.TestCase):
    """A global table's replica has the table's indexes, kept by replicated writes."""

    @classmethod
    def setUpClass(cls):
        cls.east, cls.west = deployment(["us-east-1", "us-west-2"], start=False)
        cls.addClassCleanup(cls.east.cleanup)
        cls.addClassCleanup(cls.west.cleanup)
        cls.east.start()
        cls.west.start()
        cls.e = cls.east.boto3()
        cls.w = cls.west.boto3()

    @classmethod
    def tearDownClass(cls):
        cls.east.stop()
        cls.west.stop()

    def test_replica_index_follows_writes(self):
        t = "gix-" + uuid.uuid4().hex[:8]
        self.e.create_table(
            TableName=t, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                  {"AttributeName": "color", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            GlobalSecondaryIndexes=[{"IndexName": "by_color",
                                     "KeySchema": [{"AttributeName": "color",
                                                    "KeyType": "HASH"}],
                                     "Projection": {"ProjectionType": "ALL"}}],
            StreamSpecification={"StreamEnabled": True,
                                 "StreamViewType": "NEW_AND_OLD_IMAGES"})
        for i in range(5):
            self.e.put_item(TableName=t, Item={"pk": S("seed%d" % i), "color": S("red")})
        self.e.update_table(TableName=t, ReplicaUpdates=[{"Create": {"RegionName": "us-west-2"}}])

        def reds(c):
            return sorted(i["pk"]["S"] for i in c.query(
                TableName=t, IndexName="by_color", KeyConditionExpression="color = :c",
                ExpressionAttributeValues={":c": S("red")})["Items"])

        want = ["seed%d" % i for i in range(5)]
        wait_until(lambda: reds(self.w) == want, what="seeded replica index")
        self.e.update_item(TableName=t, Key={"pk": S("seed0")}, UpdateExpression="SET color = :b",
                           ExpressionAttributeValues={":b": S("blue")})
        self.e.delete_item(TableName=t, Key={"pk": S("seed1")})
        self.w.put_item(TableName=t, Item={"pk": S("west"), "color": S("red")})
        want = ["seed2", "seed3", "seed4", "west"]
        wait_until(lambda: reds(self.w) == want and reds(self.e) == want,
                   what="indexes in both regions")

    def test_replica_keeps_a_multi_attribute_index(self):
        """A global index of several key attributes (test_ddb_gsi_multikey) in both regions."""
        t = "mkr-" + uuid.uuid4().hex[:8]
        schema = [{"AttributeName": "a", "KeyType": "HASH"},
                  {"AttributeName": "b", "KeyType": "HASH"},
                  {"AttributeName": "c", "KeyType": "RANGE"},
                  {"AttributeName": "d", "KeyType": "RANGE"}]
        self.e.create_table(
            TableName=t, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": ty} for n, ty in
                                  (("pk", "S"), ("a", "S"), ("b", "N"), ("c", "S"), ("d", "N"))],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            GlobalSecondaryIndexes=[{"IndexName": "mkix", "KeySchema": schema,
                                     "Projection": {"ProjectionType": "ALL"}}])
        for i in range(4):
            self.e.put_item(TableName=t, Item={"pk": S("s%d" % i), "a": S("x"), "b": N(1),
                                               "c": S("c"), "d": N(i)})
        self.e.update_table(TableName=t, ReplicaUpdates=[{"Create": {"RegionName": "us-west-2"}}])

        def ds(c):
            return [int(i["d"]["N"]) for i in c.query(
                TableName=t, IndexName="mkix", KeyConditionExpression="a = :a AND b = :b AND "
                "c = :c AND d >= :d", ExpressionAttributeValues={
                    ":a": S("x"), ":b": N(1), ":c": S("c"), ":d": N(1)})["Items"]]

        wait_until(lambda: ds(self.w) == [1, 2, 3], what="seeded replica index")
        self.assertEqual(self.w.describe_table(TableName=t)["Table"]["GlobalSecondaryIndexes"]
                         [0]["KeySchema"], schema)
        self.e.put_item(TableName=t, Item={"pk": S("s9"), "a": S("x"), "b": N(1), "c": S("c"),
                                           "d": N(9)})
        self.w.delete_item(TableName=t, Key={"pk": S("s2")})
        wait_until(lambda: ds(self.w) == [1, 3, 9] and ds(self.e) == [1, 3, 9],
                   what="indexes in both regions")

if __name__ == "__main__":
    unittest.main()
