"""DynamoDB limits and consumed capacity through boto3: BatchWriteItem and
BatchGetItem request limits and their ConsumedCapacity per table, the
transactions' ConsumedCapacity per table, attribute name lengths wherever a
name is given, and the expression operator limit."""

import unittest
import uuid

from tandem_harness import ServerTestCase


class Limits(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ddb = cls.server.boto3()
        # requests that break the model's own limits, to see the service's answer
        cls.raw = cls.server.boto3(parameter_validation=False)

    def new_table(self, sort_key=None):
        name = "lim-" + uuid.uuid4().hex[:12]
        attrs = [{"AttributeName": "pk", "AttributeType": "S"}]
        keys = [{"AttributeName": "pk", "KeyType": "HASH"}]
        if sort_key:
            attrs.append({"AttributeName": "sk", "AttributeType": sort_key})
            keys.append({"AttributeName": "sk", "KeyType": "RANGE"})
        self.ddb.create_table(TableName=name, AttributeDefinitions=attrs, KeySchema=keys,
                              BillingMode="PAY_PER_REQUEST")
        return name

    def err(self, fn, **kw):
        with self.assertRaises(self.ddb.exceptions.ClientError) as cm:
            fn(**kw)
        e = cm.exception.response
        return e["Error"]["Code"], e["Error"]["Message"]

    def get(self, t, key):
        return self.ddb.get_item(TableName=t, Key=key, ConsistentRead=True).get("Item")

    @staticmethod
    def units(resp):
        return {c["TableName"]: c["CapacityUnits"] for c in resp["ConsumedCapacity"]}

    # -- BatchWriteItem / BatchGetItem -------------------------------------

    def test_batch_write_capacity_per_table(self):
        orders, users = self.new_table(), self.new_table("N")
        self.ddb.put_item(TableName=users, Item={"pk": {"S": "u1"}, "sk": {"N": "1"},
                                                 "bio": {"S": "b" * 3000}})
        out = self.ddb.batch_write_item(RequestItems={
            orders: [{"PutRequest": {"Item": {"pk": {"S": f"o{i}"}}}} for i in range(3)]
            + [{"PutRequest": {"Item": {"pk": {"S": "o9"}, "note": {"S": "n" * 1500}}}}],
            users: [{"DeleteRequest": {"Key": {"pk": {"S": "u1"}, "sk": {"N": "1"}}}},
                    {"DeleteRequest": {"Key": {"pk": {"S": "nobody"}, "sk": {"N": "1"}}}}],
        }, ReturnConsumedCapacity="TOTAL")
        self.assertEqual(out["UnprocessedItems"], {})
        # three small puts and one of 2 KB; a 3 KB item deleted and a missing one
        self.assertEqual(self.units(out), {orders: 5.0, users: 4.0})
        self.assertEqual([c["TableName"] for c in out["ConsumedCapacity"]], [orders, users])
        self.assertIsNone(self.get(users, {"pk": {"S": "u1"}, "sk": {"N": "1"}}))
        # a put over a larger item costs the larger one
        self.ddb.put_item(TableName=orders, Item={"pk": {"S": "big"}, "x": {"S": "x" * 2500}})
        out = self.ddb.batch_write_item(
            RequestItems={orders: [{"PutRequest": {"Item": {"pk": {"S": "big"}}}}]},
            ReturnConsumedCapacity="INDEXES")
        self.assertEqual(out["ConsumedCapacity"],
                         [{"TableName": orders, "CapacityUnits": 3.0,
                           "Table": {"CapacityUnits": 3.0}}])
        out = self.ddb.batch_write_item(
            RequestItems={orders: [{"PutRequest": {"Item": {"pk": {"S": "c"}}}}]},
            ReturnConsumedCapacity="NONE")
        self.assertNotIn("ConsumedCapacity", out)

    def test_batch_get_capacity_per_table(self):
        a, b = self.new_table(), self.new_table()
        for i in range(4):
            self.ddb.put_item(TableName=a, Item={"pk": {"S": f"k{i}"}})
        self.ddb.put_item(TableName=b, Item={"pk": {"S": "k0"}, "v": {"S": "v" * 5000}})
        out = self.ddb.batch_get_item(RequestItems={
            a: {"Keys": [{"pk": {"S": f"k{i}"}} for i in range(4)], "ConsistentRead": True},
            # the same key in another table is not a duplicate; a missing
            # item costs the minimum
            b: {"Keys": [{"pk": {"S": "k0"}}, {"pk": {"S": "gone"}}]},
        }, ReturnConsumedCapacity="TOTAL")
        self.assertEqual(len(out["Responses"][a]), 4)
        self.assertEqual(len(out["Responses"][b]), 1)
        self.assertEqual(self.units(out), {a: 4.0, b: 1.5})
        self.assertEqual(out["UnprocessedKeys"], {})

    def test_batch_get_over_16mb_hands_back_the_request_parameters(self):
        # a response stops short of 16 MB; the keys left over come back with the
        # table's own read parameters, legacy AttributesToGet kept as written
        t = self.new_table()
        for i in range(45):
            self.ddb.put_item(TableName=t, Item={"pk": {"S": "k%02d" % i}, "a": {"S": "x" * 390000},
                                                 "b": {"N": str(i)}})
        want = {"Keys": [{"pk": {"S": "k%02d" % i}} for i in range(45)],
                "AttributesToGet": ["a", "b"], "ConsistentRead": True}
        out = self.ddb.batch_get_item(RequestItems={t: want})
        left = out["UnprocessedKeys"][t]
        self.assertTrue(left["Keys"])
        self.assertEqual({k: v for k, v in left.items() if k != "Keys"},
                         {"AttributesToGet": ["a", "b"], "ConsistentRead": True})
        got = out["Responses"][t] + self.ddb.batch_get_item(RequestItems={t: left})["Responses"][t]
        self.assertEqual(sorted(int(i["b"]["N"]) for i in got), list(range(45)))
        self.assertEqual({frozenset(i) for i in got}, {frozenset(["a", "b"])})

    def test_batch_request_limits(self):
        t = self.new_table("N")
        code, msg = self.err(self.raw.batch_write_item, RequestItems={
            t: [{"PutRequest": {"Item": {"pk": {"S": "a"}, "sk": {"N": str(i)}}}}
                for i in range(26)]})
        self.assertEqual(code, "ValidationException")
        self.assertIn("Member must have length less than or equal to 25", msg)
        code, msg = self.err(self.raw.batch_write_item, RequestItems={t: []})
        self.assertIn("Member must have length greater than or equal to 1", msg)
        other = self.new_table()
        code, msg = self.err(self.raw.batch_write_item, RequestItems={
            t: [{"PutRequest": {"Item": {"pk": {"S": "a"}, "sk": {"N": str(i)}}}}
                for i in range(20)],
            other: [{"DeleteRequest": {"Key": {"pk": {"S": str(i)}}}} for i in range(6)]})
        self.assertEqual(msg, "Too many items requested for the BatchWriteItem call")
        self.assertEqual(self.ddb.scan(TableName=t)["Count"], 0)
        code, msg = self.err(self.raw.batch_write_item, RequestItems={
            t: [{"PutRequest": {"Item": {"pk": {"S": "a"}, "sk": {"N": "1"}}}}]},
            ReturnItemCollectionMetrics="ALL")
        self.assertIn("returnItemCollectionMetrics", msg)
        self.assertEqual(self.ddb.scan(TableName=t)["Count"], 0)
        code, msg = self.err(self.raw.batch_get_item, RequestItems={
            t: {"Keys": [{"pk": {"S": "a"}, "sk": {"N": str(i)}} for i in range(101)]}})
        self.assertEqual(code, "ValidationException")
        self.assertIn("Member must have length less than or equal to 100", msg)
        code, msg = self.err(self.raw.batch_get_item, RequestItems={t: {"Keys": []}})
        self.assertIn("Member must have length greater than or equal to 1", msg)
        code, msg = self.err(self.raw.batch_get_item, RequestItems={
            t: {"Keys": [{"pk": {"S": "a"}, "sk": {"N": str(i)}} for i in range(60)]},
            other: {"Keys": [{"pk": {"S": str(i)}} for i in range(41)]}})
        self.assertEqual(msg, "Too many items requested for the BatchGetItem call")

    # -- attribute names ------------------------------------------------

    def test_number_cost_at_the_item_size_gate(self):
        # what AWS charges a number, measured by an item of exactly 400 KB
        # accepted and one a byte over refused (nubo-db/dynamodb-conformance,
        # captured against eu-west-2 2026-08-18): digits each side of the point
        # are halved and rounded up apart, the exponent costs nothing, a minus
        # sign a byte
        t = self.new_table()
        for literal, cost in [("3.14159", 5), ("123456", 4), ("100.5", 4), ("1E125", 2),
                              ("-42", 3), ("0.0000001", 2), ("1234", 3)]:
            for total, ok in [(400 * 1024, True), (400 * 1024 + 1, False)]:
                with self.subTest(literal=literal, total=total):
                    key = "n" + literal
                    pad = total - (2 + len(key)) - 1 - cost - 1
                    item = {"pk": {"S": key}, "n": {"N": literal}, "p": {"S": "x" * pad}}
                    if ok:
                        self.ddb.put_item(TableName=t, Item=item)
                    else:
                        self.assertEqual(self.err(self.ddb.put_item, TableName=t, Item=item),
                                         ("ValidationException",
                                          "Item size has exceeded the maximum allowed size"))

    def test_transaction_item_size_put_refused_update_cancelled(self):
        # a Put's size is known from the request, so a transacted Put over
        # 400 KB is a ValidationException before the transaction opens; an
        # Update's depends on the stored item and cancels it
        # (nubo-db/dynamodb-conformance, captured against eu-west-2 2026-08-18)
        t = self.new_table()
        max_item = 400 * 1024
        ok = {"pk": {"S": "at"}, "p": {"S": "x" * (max_item - 2 - 2 - 1)}}
        self.ddb.transact_write_items(TransactItems=[{"Put": {"TableName": t, "Item": ok}}])
        self.assertEqual(self.get(t, {"pk": {"S": "at"}}), ok)
        over = {"pk": {"S": "ov"}, "p": {"S": "x" * (max_item + 1 - 2 - 2 - 1)}}
        self.assertEqual(
            self.err(self.ddb.transact_write_items,
                     TransactItems=[{"Put": {"TableName": t, "Item": over}}]),
            ("ValidationException", "Item size has exceeded the maximum allowed size"))
        self.assertIsNone(self.get(t, {"pk": {"S": "ov"}}))
        with self.assertRaises(self.ddb.exceptions.TransactionCanceledException) as cm:
            self.ddb.transact_write_items(TransactItems=[{"Update": {
                "TableName": t, "Key": {"pk": {"S": "ov"}}, "UpdateExpression": "SET p = :p",
                "ExpressionAttributeValues": {":p": over["p"]}}}])
        self.assertEqual(cm.exception.response["CancellationReasons"],
                         [{"Code": "ValidationError", "Message":
                           "Item size to update has exceeded the maximum allowed size"}])

    def test_attribute_name_length_everywhere(self):
        t = self.new_table()
        key = {"pk": {"S": "n"}}
        ok, too_long = "q" * 65535, "q" * 65536
        self.ddb.put_item(TableName=t, Item={**key, ok: {"N": "1"}})
        self.assertEqual(self.ddb.get_item(TableName=t, Key=key, ConsistentRead=True,
                                           AttributesToGet=[ok])["Item"], {ok: {"N": "1"}})
        self.ddb.update_item(TableName=t, Key=key, UpdateExpression="SET #n = #n + :one",
                             ConditionExpression="#n = :one",
                             ExpressionAttributeNames={"#n": ok},
                             ExpressionAttributeValues={":one": {"N": "1"}})
        self.assertEqual(self.get(t, key)[ok], {"N": "2"})
        calls = [
            (self.ddb.get_item, dict(ProjectionExpression="#n",
                                     ExpressionAttributeNames={"#n": too_long})),
            (self.ddb.get_item, dict(AttributesToGet=[too_long])),
            (self.ddb.update_item, dict(AttributeUpdates={
                too_long: {"Value": {"N": "5"}, "Action": "PUT"}})),
            (self.ddb.update_item, dict(UpdateExpression="SET #n = :v",
                                        ExpressionAttributeNames={"#n": too_long},
                                        ExpressionAttributeValues={":v": {"N": "5"}})),
            (self.ddb.update_item, dict(UpdateExpression="SET other = :v",
                                        ConditionExpression="attribute_not_exists(#n)",
                                        ExpressionAttributeNames={"#n": too_long},
                                        ExpressionAttributeValues={":v": {"N": "5"}})),
            (self.ddb.delete_item, dict(ConditionExpression="attribute_not_exists(#n)",
                                        ExpressionAttributeNames={"#n": too_long})),
        ]
        for fn, kw in calls:
            code, msg = self.err(fn, TableName=t, Key=key, **kw)
            self.assertEqual(code, "ValidationException")
            self.assertIn("must be less than 65536 bytes", msg)
        # nothing changed
        self.assertEqual(self.get(t, key), {**key, ok: {"N": "2"}})

    # -- key attribute names ---------------------------------------------

    def test_key_attribute_names_at_most_255_bytes(self):
        long, short = "k" * 256, "k" * 255
        S = lambda n: {"AttributeName": n, "AttributeType": "S"}
        H = lambda n: {"AttributeName": n, "KeyType": "HASH"}
        R = lambda n: {"AttributeName": n, "KeyType": "RANGE"}
        proj = {"ProjectionType": "ALL"}

        def create(**kw):
            return self.ddb.create_table(TableName="lim-" + uuid.uuid4().hex[:12],
                                         BillingMode="PAY_PER_REQUEST", **kw)
        bad = [
            # a long name refused before the definitions are compared with the keys
            (dict(KeySchema=[H("a")], AttributeDefinitions=[S(long)]),
             "attributeDefinitions.1.member.attributeName"),
            (dict(KeySchema=[H("a"), R("b")], AttributeDefinitions=[S("a"), S("b")],
                  GlobalSecondaryIndexes=[{"IndexName": "gix", "KeySchema": [H(long)],
                                           "Projection": proj}]),
             "globalSecondaryIndexes.1.member.keySchema.1.member.attributeName"),
            (dict(KeySchema=[H("a"), R("b")], AttributeDefinitions=[S("a"), S("b"), S("c")],
                  LocalSecondaryIndexes=[{"IndexName": "lix", "KeySchema": [H("a"), R(long)],
                                          "Projection": proj}]),
             "localSecondaryIndexes.1.member.keySchema.2.member.attributeName"),
            (dict(KeySchema=[H("a"), R("b")], AttributeDefinitions=[S("a"), S("b"), S("c")],
                  GlobalSecondaryIndexes=[{"IndexName": "gix", "KeySchema": [H("c")],
                                           "Projection": {"ProjectionType": "INCLUDE",
                                                          "NonKeyAttributes": [long]}}]),
             "globalSecondaryIndexes.1.member.projection.nonKeyAttributes"),
        ]
        before = set(self.ddb.list_tables()["TableNames"])
        for kw, path in bad:
            code, msg = self.err(create, **kw)
            self.assertEqual(code, "ValidationException")
            self.assertIn("at '%s' failed to satisfy constraint" % path, msg)
            self.assertIn("less than or equal to 255", msg)
        self.assertEqual(set(self.ddb.list_tables()["TableNames"]), before)
        # 255 bytes is fine, and a projected attribute with a longer name is too
        name = create(KeySchema=[H(short)], AttributeDefinitions=[S(short), S("g")],
                      GlobalSecondaryIndexes=[{"IndexName": "gix", "KeySchema": [H("g")],
                                               "Projection": proj}])["TableDescription"]["TableName"]
        self.ddb.put_item(TableName=name, Item={short: {"S": "x"}, "g": {"S": "y"},
                                                long: {"S": "z"}})
        got = self.ddb.query(TableName=name, IndexName="gix", KeyConditionExpression="g = :g",
                             ExpressionAttributeValues={":g": {"S": "y"}})["Items"]
        self.assertEqual(got, [{short: {"S": "x"}, "g": {"S": "y"}, long: {"S": "z"}}])
        code, msg = self.err(self.ddb.update_table, TableName=name,
                             AttributeDefinitions=[S(long)],
                             GlobalSecondaryIndexUpdates=[{"Create": {
                                 "IndexName": "gix2", "KeySchema": [H("other")],
                                 "Projection": proj}}])
        self.assertIn("at 'attributeDefinitions.1.member.attributeName' failed", msg)
        code, msg = self.err(self.ddb.update_table, TableName=name,
                             AttributeDefinitions=[S("other")],
                             GlobalSecondaryIndexUpdates=[{"Create": {
                                 "IndexName": "gix2", "KeySchema": [H(long)],
                                 "Projection": proj}}])
        self.assertIn("globalSecondaryIndexUpdates.1.member.create.keySchema.1.member."
                      "attributeName", msg)
        desc = self.ddb.describe_table(TableName=name)["Table"]
        self.assertEqual([g["IndexName"] for g in desc["GlobalSecondaryIndexes"]], ["gix"])

    # -- expressions -----------------------------------------------------

    def test_expression_operator_limit(self):
        t = self.new_table()
        key = {"pk": {"S": "e"}}
        self.ddb.put_item(TableName=t, Item={**key, "a": {"N": "1"}, "b": {"N": "2"}})

        def update(cond, mark):
            return self.ddb.update_item(TableName=t, Key=key, UpdateExpression="SET m = :m",
                                        ConditionExpression=cond,
                                        ExpressionAttributeValues={":m": {"N": str(mark)}})
        # 150 levels of parentheses holding 299 operators are fine
        update("a < b" + " or (a < b" * 149 + ")" * 149, 1)
        self.assertEqual(self.get(t, key)["m"], {"N": "1"})
        update("not " * 298 + "a < b", 2)  # 298 NOTs and a comparison: 299
        self.assertEqual(self.get(t, key)["m"], {"N": "2"})
        for cond in ["a < b" + " or a < b" * 300,
                     "a < b" + " and (a < b" * 200 + ")" * 200,
                     "not " * 300 + "a < b"]:
            code, msg = self.err(update, cond=cond, mark=3)
            self.assertEqual(msg, "Invalid ConditionExpression: The expression contains too "
                                  "many operators; operator count: 301")
        code, msg = self.err(self.ddb.scan, TableName=t,
                             FilterExpression="a between b and b" + " or a in (b)" * 300)
        self.assertIn("Invalid FilterExpression: The expression contains too many operators", msg)
        self.assertEqual(self.get(t, key)["m"], {"N": "2"})

    def test_index_writes_and_reads_in_capacity(self):
        name = "lim-" + uuid.uuid4().hex[:12]
        S = lambda n: {"AttributeName": n, "AttributeType": "S"}
        self.ddb.create_table(
            TableName=name, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[S("pk"), S("sk"), S("g"), S("l")],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                       {"AttributeName": "sk", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[{"IndexName": "by-g", "Projection": {"ProjectionType": "KEYS_ONLY"},
                                     "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}]}],
            LocalSecondaryIndexes=[{"IndexName": "by-l", "Projection": {"ProjectionType": "ALL"},
                                    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                                  {"AttributeName": "l", "KeyType": "RANGE"}]}])
        key = {"pk": {"S": "p"}, "sk": {"S": "s"}}

        def cc(resp):
            return resp["ConsumedCapacity"]
        # a new item entering both indexes: one write each
        out = self.ddb.put_item(TableName=name, Item={**key, "g": {"S": "g1"}, "l": {"S": "l1"}},
                                ReturnConsumedCapacity="INDEXES")
        self.assertEqual(cc(out), {"TableName": name, "CapacityUnits": 3.0,
                                   "Table": {"CapacityUnits": 1.0},
                                   "GlobalSecondaryIndexes": {"by-g": {"CapacityUnits": 1.0}},
                                   "LocalSecondaryIndexes": {"by-l": {"CapacityUnits": 1.0}}})
        # the global index key changes: its old entry deleted and a new one put
        out = self.ddb.update_item(TableName=name, Key=key, UpdateExpression="SET g = :g",
                                   ExpressionAttributeValues={":g": {"S": "g2"}},
                                   ReturnConsumedCapacity="INDEXES")
        self.assertEqual(cc(out)["GlobalSecondaryIndexes"], {"by-g": {"CapacityUnits": 2.0}})
        self.assertEqual(cc(out)["LocalSecondaryIndexes"], {"by-l": {"CapacityUnits": 1.0}})
        self.assertEqual(cc(out)["CapacityUnits"], 4.0)
        # an attribute the global index does not keep: only the local one writes
        out = self.ddb.update_item(TableName=name, Key=key, UpdateExpression="SET v = :v",
                                   ExpressionAttributeValues={":v": {"S": "v" * 1500}},
                                   ReturnConsumedCapacity="TOTAL")
        self.assertEqual(cc(out), {"TableName": name, "CapacityUnits": 4.0})
        # reads of an index are the index's
        out = self.ddb.query(TableName=name, IndexName="by-g", KeyConditionExpression="g = :g",
                             ExpressionAttributeValues={":g": {"S": "g2"}},
                             ReturnConsumedCapacity="INDEXES")
        self.assertEqual(cc(out), {"TableName": name, "CapacityUnits": 0.5,
                                   "Table": {"CapacityUnits": 0.0},
                                   "GlobalSecondaryIndexes": {"by-g": {"CapacityUnits": 0.5}}})
        # an item outside both indexes costs the table only; a delete of an
        # indexed item one write per index
        out = self.ddb.batch_write_item(RequestItems={name: [
            {"PutRequest": {"Item": {"pk": {"S": "p"}, "sk": {"S": "plain"}}}},
            {"DeleteRequest": {"Key": key}}]}, ReturnConsumedCapacity="INDEXES")
        self.assertEqual(cc(out), [{"TableName": name, "CapacityUnits": 6.0,
                                    "Table": {"CapacityUnits": 3.0},
                                    "GlobalSecondaryIndexes": {"by-g": {"CapacityUnits": 1.0}},
                                    "LocalSecondaryIndexes": {"by-l": {"CapacityUnits": 2.0}}}])

    # -- transactions ---------------------------------------------------

    def test_transact_get_capacity_per_table(self):
        a, b = self.new_table(), self.new_table()
        self.ddb.put_item(TableName=a, Item={"pk": {"S": "x"}, "v": {"S": "v" * 4500}})
        self.ddb.put_item(TableName=b, Item={"pk": {"S": "x"}})
        out = self.ddb.transact_get_items(TransactItems=[
            {"Get": {"TableName": a, "Key": {"pk": {"S": "x"}}}},
            {"Get": {"TableName": b, "Key": {"pk": {"S": "x"}}}},
            {"Get": {"TableName": b, "Key": {"pk": {"S": "y"}}}},
        ], ReturnConsumedCapacity="TOTAL")
        # two units per 4 KB of each item read, a missing item costing the minimum
        self.assertEqual(self.units(out), {a: 4.0, b: 4.0})
        # a transaction gives the read half of the split, in Table too
        # (nubo-db/dynamodb-conformance transactions/transactGet, passing
        # against AWS); a plain GetItem gives none
        out = self.ddb.transact_get_items(TransactItems=[
            {"Get": {"TableName": b, "Key": {"pk": {"S": "x"}}}}], ReturnConsumedCapacity="INDEXES")
        self.assertEqual(out["ConsumedCapacity"], [
            {"TableName": b, "CapacityUnits": 2.0, "ReadCapacityUnits": 2.0,
             "Table": {"CapacityUnits": 2.0, "ReadCapacityUnits": 2.0}}])
        out = self.ddb.transact_get_items(TransactItems=[
            {"Get": {"TableName": b, "Key": {"pk": {"S": "x"}}}}], ReturnConsumedCapacity="TOTAL")
        self.assertEqual(out["ConsumedCapacity"], [
            {"TableName": b, "CapacityUnits": 2.0, "ReadCapacityUnits": 2.0}])
        out = self.ddb.get_item(TableName=b, Key={"pk": {"S": "x"}}, ReturnConsumedCapacity="INDEXES")
        self.assertEqual(out["ConsumedCapacity"], {"TableName": b, "CapacityUnits": 0.5,
                                                   "Table": {"CapacityUnits": 0.5}})

    def test_transact_write_capacity(self):
        a = self.new_table()
        name = "lim-" + uuid.uuid4().hex[:12]
        self.ddb.create_table(
            TableName=name, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                  {"AttributeName": "g", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            GlobalSecondaryIndexes=[{"IndexName": "by-g", "Projection": {"ProjectionType": "ALL"},
                                     "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}]}])
        self.ddb.put_item(TableName=a, Item={"pk": {"S": "old"}, "v": {"S": "v" * 2500}})
        out = self.ddb.transact_write_items(TransactItems=[
            # deleting a 2.5 KB item costs that item, twice
            {"Delete": {"TableName": a, "Key": {"pk": {"S": "old"}}}},
            {"Put": {"TableName": name, "Item": {"pk": {"S": "n"}, "g": {"S": "x"}}}},
        ], ReturnConsumedCapacity="INDEXES")
        self.assertEqual(out["ConsumedCapacity"], [
            {"TableName": a, "CapacityUnits": 6.0, "WriteCapacityUnits": 6.0,
             "Table": {"CapacityUnits": 6.0, "WriteCapacityUnits": 6.0}},
            {"TableName": name, "CapacityUnits": 4.0, "WriteCapacityUnits": 4.0,
             "Table": {"CapacityUnits": 2.0, "WriteCapacityUnits": 2.0},
             "GlobalSecondaryIndexes": {"by-g": {"CapacityUnits": 2.0}}}])


if __name__ == "__main__":
    unittest.main()
