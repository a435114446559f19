"""Global secondary indexes whose keys are made of several attributes (up to 4
HASH then up to 4 RANGE) through boto3 and the aws CLI v2: CreateTable and
UpdateTable (with backfill) making them, DescribeTable echoing them, the
KeySchema refusals, sparse indexing, Query with every allowed and refused key
condition shape, the order of entries by each attribute's own type, paging
with LastEvaluatedKey, Scan, and backups keeping the index definitions
(global-table replicas: test_ddb_indexes.ReplicatedIndexes)."""

import json
import subprocess
import unittest
import uuid

from repl_helpers import wait_until
from tandem_harness import ServerTestCase


def S(v):
    return {"S": v}


def N(v):
    return {"N": str(v)}


def B(v):
    return {"B": v}


def ks(hashes, ranges=()):
    return ([{"AttributeName": a, "KeyType": "HASH"} for a in hashes] +
            [{"AttributeName": a, "KeyType": "RANGE"} for a in ranges])


# the index of most tests: partition (trn S, area N), sort (rnd S, sq N, tg B)
MK = ks(["trn", "area"], ["rnd", "sq", "tg"])
MK_DEFS = [("trn", "S"), ("area", "N"), ("rnd", "S"), ("sq", "N"), ("tg", "B")]


class MultiKey(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ddb = cls.server.boto3()

    def err(self, fn, *args, **kw):
        with self.assertRaises(self.ddb.exceptions.ClientError) as cm:
            fn(*args, **kw)
        e = cm.exception.response
        return e["Error"]["Code"], e["Error"]["Message"]

    def table_args(self, gsis=(), defs=MK_DEFS, lsis=None):
        name = "mk-" + uuid.uuid4().hex[:12]
        kw = dict(TableName=name, BillingMode="PAY_PER_REQUEST",
                  AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                        {"AttributeName": "sk", "AttributeType": "N"}] +
                  [{"AttributeName": a, "AttributeType": t} for a, t in defs],
                  KeySchema=ks(["pk"], ["sk"]))
        if gsis:
            kw["GlobalSecondaryIndexes"] = [
                {"IndexName": n, "KeySchema": k, "Projection": {"ProjectionType": "ALL"}}
                for n, k in gsis]
        if lsis:
            kw["LocalSecondaryIndexes"] = lsis
        return kw

    def new_table(self, gsis=(("mkix", MK),), defs=MK_DEFS):
        kw = self.table_args(gsis, defs)
        out = self.ddb.create_table(**kw)
        return kw["TableName"], out["TableDescription"]

    def q(self, t, cond, values, **kw):
        return self.ddb.query(TableName=t, IndexName="mkix", KeyConditionExpression=cond,
                              ExpressionAttributeValues=values, **kw)

    def seed(self, t):
        """24 items in partition (t1, 1) and a few elsewhere; returns the
        partition's items in index order as (rnd, sq, tg) tuples."""
        rows = []
        n = 0
        for rnd in ("final", "quarter", "semi"):
            for sq in (-5, 0.5, 2, 10):
                for tg in (b"\x00", b"\x01\xff"):
                    n += 1
                    self.ddb.put_item(TableName=t, Item={
                        "pk": S("p%02d" % n), "sk": N(n), "trn": S("t1"), "area": N(1),
                        "rnd": S(rnd), "sq": N(sq), "tg": B(tg), "nt": S("x%d" % n)})
                    rows.append((rnd, sq, tg))
        # other partitions: same trn, other area; other trn, same area
        self.ddb.put_item(TableName=t, Item={"pk": S("o1"), "sk": N(1), "trn": S("t1"),
                                             "area": N(2), "rnd": S("final"), "sq": N(1),
                                             "tg": B(b"a")})
        self.ddb.put_item(TableName=t, Item={"pk": S("o2"), "sk": N(1), "trn": S("t2"),
                                             "area": N(1), "rnd": S("final"), "sq": N(1),
                                             "tg": B(b"a")})
        return sorted(rows)

    @staticmethod
    def rows(items):
        return [(i["rnd"]["S"], float(i["sq"]["N"]), i["tg"]["B"]) for i in items]

    def test_partiql_select_on_the_index(self):
        t, _ = self.new_table()
        rows = self.seed(t)

        def select(stmt, params=None):
            kw = {"Statement": stmt, "ReturnConsumedCapacity": "TOTAL"}
            if params:
                kw["Parameters"] = params
            items, token = [], None
            while True:
                if token:
                    kw["NextToken"] = token
                out = self.ddb.execute_statement(**kw)
                items += out["Items"]
                token = out.get("NextToken")
                if not token:
                    return items

        base = 'SELECT * FROM "%s"."mkix" WHERE trn = ? AND area = ?' % t
        p = [S("t1"), N(1)]
        # the whole partition, in the index's order
        self.assertEqual(self.rows(select(base, p)), rows)
        # = on the sort attributes from the first, a range on the last given
        got = select(base + " AND rnd = ? AND sq BETWEEN ? AND ?", p + [S("semi"), N(0), N(5)])
        self.assertEqual(self.rows(got), [r for r in rows if r[0] == "semi" and 0 <= r[1] <= 5])
        got = select(base + " AND rnd = ? AND sq = ? AND tg > ?",
                     p + [S("final"), N(2), B(b"\x00")])
        self.assertEqual(self.rows(got), [("final", 2.0, b"\x01\xff")])
        got = select(base + " AND begins_with(rnd, ?) AND nt <> ?", p + [S("qu"), S("x9")])
        self.assertEqual(self.rows(got), [r for r in rows if r[0] == "quarter"
                                          and r != ("quarter", -5.0, b"\x00")])
        # a sort attribute skipped, or half the partition: still answered, by a Scan
        got = select(base + " AND sq = ?", p + [N(10)])
        self.assertEqual(sorted(self.rows(got)), [r for r in rows if r[1] == 10])
        got = select('SELECT * FROM "%s"."mkix" WHERE area = ?' % t, [N(2)])
        self.assertEqual([i["pk"]["S"] for i in got], ["o1"])
        # ORDER BY a key attribute: the first sort attribute, or a later one
        # when those before it are pinned with =; DESC reads backwards
        self.assertEqual(self.rows(select(base + " ORDER BY rnd", p)), rows)
        self.assertEqual(self.rows(select(base + " ORDER BY rnd DESC", p)), rows[::-1])
        self.assertEqual(self.rows(select(base + " ORDER BY trn DESC", p)), rows[::-1])
        got = select(base + " AND rnd = ? ORDER BY sq DESC", p + [S("semi")])
        self.assertEqual(self.rows(got), [r for r in rows if r[0] == "semi"][::-1])
        got = select(base + " AND rnd = ? AND sq > ? ORDER BY sq", p + [S("final"), N(0)])
        self.assertEqual(self.rows(got), [r for r in rows if r[0] == "final" and r[1] > 0])
        # pages of an ordered read keep the order
        out = self.ddb.execute_statement(Statement=base + " ORDER BY rnd DESC", Parameters=p,
                                         Limit=5)
        self.assertEqual(self.rows(out["Items"]), rows[::-1][:5])
        self.assertIn("NextToken", out)
        for stmt, params, want in (
                # a later sort attribute whose predecessors are not all pinned
                (base + " ORDER BY sq", p, "needs = on each sort key attribute before it"),
                (base + " AND rnd > ? ORDER BY tg", p + [S("a")],
                 "needs = on each sort key attribute before it"),
                (base + " ORDER BY nt", p, "is not a key attribute"),
                # a Scan has no order to give
                ('SELECT * FROM "%s"."mkix" WHERE area = ? ORDER BY rnd' % t, [N(1)],
                 "Must have WHERE clause")):
            with self.subTest(stmt=stmt):
                code, msg = self.err(self.ddb.execute_statement, Statement=stmt,
                                     Parameters=params)
                self.assertEqual(code, "ValidationException")
                self.assertIn(want, msg)
        # a KEYS_ONLY index holds every key attribute, the later ones too
        k, _ = self.new_table(gsis=(), defs=())
        self.ddb.update_table(TableName=k, AttributeDefinitions=[
            {"AttributeName": a, "AttributeType": ty} for a, ty in MK_DEFS],
            GlobalSecondaryIndexUpdates=[{"Create": {
                "IndexName": "mkix", "KeySchema": MK,
                "Projection": {"ProjectionType": "KEYS_ONLY"}}}])
        wait_until(lambda: self.ddb.describe_table(TableName=k)["Table"]
                   ["GlobalSecondaryIndexes"][0]["IndexStatus"] == "ACTIVE", 30)
        self.seed(k)
        got = select('SELECT trn, area, rnd, sq, tg FROM "%s"."mkix" WHERE trn = ? AND area = ? '
                     'AND rnd = ?' % k, p + [S("semi")])
        self.assertEqual(self.rows(got), [r for r in rows if r[0] == "semi"])

    def test_create_describe_and_limits(self):
        t, desc = self.new_table()
        g = desc["GlobalSecondaryIndexes"][0]
        self.assertEqual(g["KeySchema"], MK)
        self.assertEqual(self.ddb.describe_table(TableName=t)["Table"]
                         ["GlobalSecondaryIndexes"][0]["KeySchema"], MK)
        # four of each is the most
        defs = [("h%d" % i, "S") for i in range(4)] + [("r%d" % i, "N") for i in range(4)]
        t8, d8 = self.new_table(gsis=[("mkix", ks(["h0", "h1", "h2", "h3"],
                                               ["r0", "r1", "r2", "r3"]))], defs=defs)
        self.assertEqual(len(d8["GlobalSecondaryIndexes"][0]["KeySchema"]), 8)
        item = {"pk": S("a"), "sk": N(1)}
        item.update({"h%d" % i: S("v%d" % i) for i in range(4)})
        item.update({"r%d" % i: N(i) for i in range(4)})
        self.ddb.put_item(TableName=t8, Item=item)
        out = self.ddb.query(TableName=t8, IndexName="mkix",
                             KeyConditionExpression="h0 = :a AND h1 = :b AND h2 = :c AND "
                                                    "h3 = :d AND r0 = :z AND r1 = :o AND "
                                                    "r2 = :t AND r3 BETWEEN :t AND :th",
                             ExpressionAttributeValues={":a": S("v0"), ":b": S("v1"),
                                                        ":c": S("v2"), ":d": S("v3"),
                                                        ":z": N(0), ":o": N(1), ":t": N(2),
                                                        ":th": N(3)})
        self.assertEqual(out["Count"], 1)

    def test_keyschema_refusals(self):
        cases = [
            (ks([], ["rnd"]), "HASH"),                                     # RANGE only
            ([{"AttributeName": "trn", "KeyType": "HASH"},
              {"AttributeName": "rnd", "KeyType": "RANGE"},
              {"AttributeName": "area", "KeyType": "HASH"}], "before"),    # HASH after RANGE
            (ks(["trn", "trn"], ["rnd"]), "Duplicate"),
            ([{"AttributeName": "trn", "KeyType": "HASH"},
              {"AttributeName": "rnd", "KeyType": "SORT"}],
             "Value 'SORT' at 'globalSecondaryIndexes.1.member.keySchema.2.member.keyType' "
             "failed to satisfy constraint: Member must satisfy enum value set: [HASH, RANGE]"),
            (ks(["trn"], ["rnd", "sq", "rnd"]), "Duplicate"),
            (ks(["trn", "nodef"], ["rnd"]), "AttributeDefinitions"),
            (ks(["trn", "area", "a", "b", "c"]), "at most 4 HASH"),
            (ks(["trn"], ["rnd", "sq", "tg", "d", "e"]), "at most 4 RANGE"),
        ]
        defs = MK_DEFS + [(a, "S") for a in ("a", "b", "c", "d", "e")]
        for schema, words in cases:
            with self.subTest(schema=schema):
                code, msg = self.err(self.ddb.create_table,
                                     **self.table_args([("mkix", schema)], defs))
                self.assertEqual(code, "ValidationException")
                self.assertIn(words, msg)
        # nine elements: too many for any KeySchema
        code, msg = self.err(self.ddb.create_table, **self.table_args(
            [("mkix", ks(["trn", "a", "b", "c"], ["rnd", "sq", "tg", "d", "e"]))], defs))
        self.assertEqual(code, "ValidationException")
        self.assertIn("less than or equal to 8", msg)
        # local indexes keep one HASH (the table's) and one RANGE
        lsi = [{"IndexName": "lsi", "KeySchema": ks(["pk"], ["rnd", "sq"]),
                "Projection": {"ProjectionType": "ALL"}}]
        code, msg = self.err(self.ddb.create_table, **self.table_args(defs=MK_DEFS, lsis=lsi))
        self.assertEqual(code, "ValidationException")
        lsi[0]["KeySchema"] = ks(["pk", "trn"])
        code, msg = self.err(self.ddb.create_table, **self.table_args(defs=MK_DEFS, lsis=lsi))
        self.assertEqual(code, "ValidationException")
        # a single-attribute GSI still has its own words
        code, msg = self.err(self.ddb.create_table,
                             **self.table_args([("mkix", ks(["trn"], ["trn"]))], MK_DEFS[:1]))
        self.assertIn("Both the Hash Key and the Range Key", msg)

    def test_sparse_and_types(self):
        t, _ = self.new_table()
        full = {"pk": S("a"), "sk": N(1), "trn": S("t1"), "area": N(1), "rnd": S("r"),
                "sq": N(1), "tg": B(b"x")}
        self.ddb.put_item(TableName=t, Item=full)
        for i, missing in enumerate(["trn", "area", "rnd", "sq", "tg"]):
            item = {k: v for k, v in full.items() if k != missing}
            item["pk"] = S("miss-" + missing)
            self.ddb.put_item(TableName=t, Item=item)
        out = self.q(t, "trn = :t AND area = :r", {":t": S("t1"), ":r": N(1)})
        self.assertEqual([i["pk"]["S"] for i in out["Items"]], ["a"])
        self.assertEqual(self.ddb.scan(TableName=t, IndexName="mkix")["Count"], 1)
        self.assertEqual(self.ddb.describe_table(TableName=t)["Table"]
                         ["GlobalSecondaryIndexes"][0]["ItemCount"], 1)
        # a key attribute of another type is refused, whichever it is
        for attr, bad in (("area", S("1")), ("sq", S("x")), ("tg", N(1))):
            with self.subTest(attr=attr):
                item = dict(full, pk=S("bad"))
                item[attr] = bad
                code, msg = self.err(self.ddb.put_item, TableName=t, Item=item)
                self.assertEqual(code, "ValidationException")
                self.assertIn("Type mismatch for Index Key %s" % attr, msg)
        code, msg = self.err(self.ddb.put_item, TableName=t, Item=dict(full, rnd=S("")))
        self.assertIn("empty string value", msg)
        # an update moving the item out of the index and back
        self.ddb.update_item(TableName=t, Key={"pk": S("a"), "sk": N(1)},
                             UpdateExpression="REMOVE sq")
        self.assertEqual(self.ddb.scan(TableName=t, IndexName="mkix")["Count"], 0)
        self.ddb.update_item(TableName=t, Key={"pk": S("a"), "sk": N(1)},
                             UpdateExpression="SET sq = :s", ExpressionAttributeValues={
                                 ":s": N(7)}, ReturnConsumedCapacity="INDEXES")
        self.assertEqual(self.ddb.scan(TableName=t, IndexName="mkix")["Items"][0]["sq"], N(7))
        out = self.ddb.put_item(TableName=t, Item=dict(full, pk=S("c")),
                                ReturnConsumedCapacity="INDEXES")
        self.assertIn("mkix", out["ConsumedCapacity"]["GlobalSecondaryIndexes"])

    def test_query_shapes(self):
        t, _ = self.new_table()
        want = self.seed(t)
        p = {":t": S("t1"), ":r": N(1)}
        base = "trn = :t AND area = :r"

        def rows(cond, values, **kw):
            out = self.q(t, base + cond, dict(p, **values), **kw)
            return self.rows(out["Items"])

        w = [(r, float(s), g) for r, s, g in want]
        self.assertEqual(rows("", {}), w)
        self.assertEqual(rows("", {}, ScanIndexForward=False), w[::-1])
        self.assertEqual(rows(" AND rnd = :a", {":a": S("semi")}),
                         [x for x in w if x[0] == "semi"])
        for op, fn in (("<", lambda a, b: a < b), ("<=", lambda a, b: a <= b),
                       (">", lambda a, b: a > b), (">=", lambda a, b: a >= b)):
            with self.subTest(op=op):
                self.assertEqual(rows(" AND rnd %s :a" % op, {":a": S("quarter")}),
                                 [x for x in w if fn(x[0], "quarter")])
                got = rows(" AND rnd = :a AND sq %s :s" % op, {":a": S("final"), ":s": N(2)})
                self.assertEqual(got, [x for x in w if x[0] == "final" and fn(x[1], 2)])
                got = rows(" AND rnd = :a AND sq = :s AND tg %s :g" % op,
                           {":a": S("final"), ":s": N(2), ":g": B(b"\x01")})
                self.assertEqual(got, [x for x in w if x[:2] == ("final", 2) and
                                       fn(x[2], b"\x01")])
                got = rows(" AND rnd = :a AND sq %s :s" % op, {":a": S("final"), ":s": N(2)},
                           ScanIndexForward=False)
                self.assertEqual(got, [x for x in w if x[0] == "final" and fn(x[1], 2)][::-1])
        self.assertEqual(rows(" AND rnd = :a AND sq BETWEEN :lo AND :hi",
                              {":a": S("semi"), ":lo": N(0), ":hi": N(2)}),
                         [x for x in w if x[0] == "semi" and 0 <= x[1] <= 2])
        self.assertEqual(rows(" AND begins_with(rnd, :a)", {":a": S("s")}),
                         [x for x in w if x[0].startswith("s")])
        self.assertEqual(rows(" AND begins_with(rnd, :a)", {":a": S("s")},
                              ScanIndexForward=False),
                         [x for x in w if x[0].startswith("s")][::-1])
        self.assertEqual(rows(" AND rnd = :a AND sq = :s AND begins_with(tg, :g)",
                              {":a": S("semi"), ":s": N(10), ":g": B(b"\x01")}),
                         [("semi", 10.0, b"\x01\xff")])
        # the conditions in any order and grouping, the key on either side
        self.assertEqual(rows(" AND (:s < sq AND rnd = :a)", {":a": S("final"), ":s": N(2)}),
                         [x for x in w if x[0] == "final" and x[1] > 2])
        # the legacy KeyConditions
        out = self.ddb.query(TableName=t, IndexName="mkix", KeyConditions={
            "trn": {"ComparisonOperator": "EQ", "AttributeValueList": [S("t1")]},
            "area": {"ComparisonOperator": "EQ", "AttributeValueList": [N(1)]},
            "rnd": {"ComparisonOperator": "EQ", "AttributeValueList": [S("final")]},
            "sq": {"ComparisonOperator": "GT", "AttributeValueList": [N(0)]}})
        self.assertEqual(self.rows(out["Items"]),
                         [x for x in w if x[0] == "final" and x[1] > 0])
        # a filter on other attributes, a projection, Select COUNT
        out = self.q(t, base, dict(p, **{":n": S("x1")}), FilterExpression="nt = :n")
        self.assertEqual((out["Count"], out["ScannedCount"]), (1, 24))
        out = self.q(t, base, p, Select="COUNT")
        self.assertEqual(out["Count"], 24)
        # the other partitions
        self.assertEqual(self.q(t, base, {":t": S("t1"), ":r": N(2)})["Count"], 1)
        self.assertEqual(self.q(t, base, {":t": S("t2"), ":r": N(1)})["Count"], 1)
        self.assertEqual(self.q(t, base, {":t": S("t3"), ":r": N(1)})["Count"], 0)

    def test_query_refusals(self):
        t, _ = self.new_table(gsis=(("mkix", MK), ("one", ks(["trn"], ["rnd"]))))
        p = {":t": S("t1"), ":r": N(1)}
        cases = [
            ("trn = :t", {":t": S("t1")}, "missed key schema element: area"),
            ("trn = :t AND area > :r", p, "not supported"),
            ("trn = :t AND area = :r AND sq = :s", dict(p, **{":s": N(1)}),
             "missed key schema element: rnd"),
            ("trn = :t AND area = :r AND rnd = :a AND tg = :g",
             dict(p, **{":a": S("a"), ":g": B(b"a")}), "missed key schema element: sq"),
            ("trn = :t AND area = :r AND rnd > :a AND sq = :s",
             dict(p, **{":a": S("a"), ":s": N(1)}), "only the last sort key attribute"),
            ("trn = :t AND area = :r AND begins_with(rnd, :a) AND sq = :s",
             dict(p, **{":a": S("a"), ":s": N(1)}), "only the last sort key attribute"),
            ("trn = :t AND area = :r AND rnd = :a AND rnd = :a",
             dict(p, **{":a": S("a")}), "one condition per key"),
            ("trn = :t AND area = :r AND rnd = :a", dict(p, **{":a": N(1)}),
             "does not match schema type"),
            ("trn = :t AND area = :r AND rnd = :a AND begins_with(sq, :s)",
             dict(p, **{":a": S("a"), ":s": N(1)}), "begins_with, operand type: N"),
            # a string prefix on the number key: still the begins_with refusal
            ("trn = :t AND area = :r AND rnd = :a AND begins_with(sq, :s)",
             dict(p, **{":a": S("a"), ":s": S("1")}), "begins_with, operand type: N"),
            ("trn = :t AND area = :r AND nt = :a", dict(p, **{":a": S("a")}),
             "missed key schema element: rnd"),
            ("trn = :t AND area = :r OR rnd = :a", dict(p, **{":a": S("a")}), "OR"),
        ]
        for cond, values, words in cases:
            with self.subTest(cond=cond):
                code, msg = self.err(self.q, t, cond, values)
                self.assertEqual(code, "ValidationException")
                self.assertIn(words, msg)
        # KeyConditions: up to 8 on a multi-attribute index, 2 elsewhere
        conds = {n: {"ComparisonOperator": "EQ", "AttributeValueList": [v]} for n, v in (
            ("trn", S("t1")), ("area", N(1)), ("rnd", S("a")))}
        for index in ("one", None):
            kw = {"IndexName": index} if index else {}
            code, msg = self.err(self.ddb.query, TableName=t, KeyConditions=conds, **kw)
            self.assertEqual(msg, "Conditions can be of length 1 or 2 only")
        many = dict(conds, **{"x%d" % i: conds["trn"] for i in range(6)})
        code, msg = self.err(self.ddb.query, TableName=t, IndexName="mkix", KeyConditions=many)
        self.assertEqual(msg, "Conditions can be of length 1 or 2 only")
        out = self.ddb.query(TableName=t, IndexName="mkix", KeyConditions=conds)
        self.assertEqual(out["Count"], 0)
        # no key attribute of the index in a filter, sort attributes too
        for attr in ("trn", "sq", "tg"):
            code, msg = self.err(self.q, t, "trn = :t AND area = :r", p,
                                 FilterExpression="attribute_exists(%s)" % attr)
            self.assertEqual(code, "ValidationException")
            self.assertIn("Primary key attribute: %s" % attr, msg)
        # a start key outside the condition
        code, msg = self.err(self.q, t, "trn = :t AND area = :r AND rnd = :a",
                             dict(p, **{":a": S("semi")}), ExclusiveStartKey={
                                 "pk": S("x"), "sk": N(1), "trn": S("t1"), "area": N(1),
                                 "rnd": S("final"), "sq": N(1), "tg": B(b"a")})
        self.assertIn("outside query boundaries", msg)
        code, msg = self.err(self.q, t, "trn = :t AND area = :r", p, ExclusiveStartKey={
            "pk": S("x"), "sk": N(1), "trn": S("t1"), "area": N(1)})
        self.assertIn("The provided starting key is invalid", msg)

    def test_other_write_paths_and_capacity(self):
        t, _ = self.new_table()

        def item(pk, sq):
            return {"pk": S(pk), "sk": N(0), "trn": S("t"), "area": N(1), "rnd": S("r"),
                    "sq": N(sq), "tg": B(b"g")}

        def sqs():
            out = self.q(t, "trn = :t AND area = :a", {":t": S("t"), ":a": N(1)},
                         ReturnConsumedCapacity="INDEXES")
            self.assertIn("mkix", out["ConsumedCapacity"]["GlobalSecondaryIndexes"])
            return [int(i["sq"]["N"]) for i in out["Items"]]

        self.ddb.batch_write_item(RequestItems={t: [{"PutRequest": {"Item": item("b%d" % i, i)}}
                                                    for i in (3, 1, 2)]})
        self.assertEqual(sqs(), [1, 2, 3])
        self.ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": t, "Item": item("x", 0)}},
            {"Delete": {"TableName": t, "Key": {"pk": S("b2"), "sk": N(0)}}},
            {"Update": {"TableName": t, "Key": {"pk": S("b3"), "sk": N(0)},
                        "UpdateExpression": "SET sq = :s",
                        "ExpressionAttributeValues": {":s": N(9)}}}])
        self.assertEqual(sqs(), [0, 1, 9])
        # a refused write in a transaction changes neither the table nor the index
        code, _ = self.err(self.ddb.transact_write_items, TransactItems=[
            {"Put": {"TableName": t, "Item": item("y", 5)}},
            {"Put": {"TableName": t, "Item": dict(item("z", 6), tg=S("not binary"))}}])
        self.assertIn(code, ("ValidationException", "TransactionCanceledException"))
        self.assertEqual(sqs(), [0, 1, 9])

    def test_paging(self):
        t, _ = self.new_table()
        # items that differ only in the last sort attribute, and in the table key
        for i in range(12):
            self.ddb.put_item(TableName=t, Item={
                "pk": S("p%d" % (i % 3)), "sk": N(i), "trn": S("t"), "area": N(0),
                "rnd": S("r"), "sq": N(1), "tg": B(bytes([i % 4]))})
        for forward in (True, False):
            for limit in (1, 5):
                with self.subTest(forward=forward, limit=limit):
                    got, kw, pages = [], {}, 0
                    while True:
                        out = self.q(t, "trn = :t AND area = :r AND rnd = :a AND sq = :s",
                                     {":t": S("t"), ":r": N(0), ":a": S("r"), ":s": N(1)},
                                     Limit=limit, ScanIndexForward=forward, **kw)
                        got += out["Items"]
                        pages += 1
                        if "LastEvaluatedKey" not in out:
                            break
                        lek = out["LastEvaluatedKey"]
                        self.assertEqual(set(lek), {"pk", "sk", "trn", "area", "rnd",
                                                    "sq", "tg"})
                        kw["ExclusiveStartKey"] = lek
                    self.assertEqual(len(got), 12)
                    keys = [(i["tg"]["B"], i["pk"]["S"], int(i["sk"]["N"])) for i in got]
                    self.assertEqual(len(set(keys)), 12)
                    tags = [k[0] for k in keys]
                    self.assertEqual(tags, sorted(tags, reverse=not forward))
                    self.assertGreaterEqual(pages, 12 // limit)
        # Scan of the index pages the same way
        got, kw = [], {}
        while True:
            out = self.ddb.scan(TableName=t, IndexName="mkix", Limit=5, **kw)
            got += out["Items"]
            if "LastEvaluatedKey" not in out:
                break
            kw["ExclusiveStartKey"] = out["LastEvaluatedKey"]
        self.assertEqual(len(got), 12)
        # parallel segments of the index cover each entry once
        segs = [self.ddb.scan(TableName=t, IndexName="mkix", Segment=i, TotalSegments=3)["Items"]
                for i in range(3)]
        self.assertEqual(sorted(int(i["sk"]["N"]) for seg in segs for i in seg), list(range(12)))

    def test_number_and_binary_order(self):
        t, _ = self.new_table(gsis=[("mkix", ks(["g"], ["n", "b"]))], defs=[
            ("g", "S"), ("n", "N"), ("b", "B")])
        nums = ["-1e10", "-3.5", "-3", "0", "0.001", "2", "10", "1e20"]
        bins = [b"", b"\x00", b"\x00\x00", b"\x01", b"\xff"]
        i = 0
        for n in nums:
            for b in bins[1:]:
                i += 1
                self.ddb.put_item(TableName=t, Item={"pk": S("k%d" % i), "sk": N(0), "g": S("g"),
                                                     "n": N(n), "b": B(b)})
        out = self.ddb.query(TableName=t, IndexName="mkix", KeyConditionExpression="g = :g",
                             ExpressionAttributeValues={":g": S("g")})
        got = [(float(x["n"]["N"]), x["b"]["B"]) for x in out["Items"]]
        self.assertEqual(got, sorted(got))
        self.assertEqual(len(got), len(nums) * 4)
        out = self.ddb.query(TableName=t, IndexName="mkix",
                             KeyConditionExpression="g = :g AND n = :n AND b < :b",
                             ExpressionAttributeValues={":g": S("g"), ":n": N("-3"),
                                                        ":b": B(b"\x01")})
        self.assertEqual([x["b"]["B"] for x in out["Items"]], [b"\x00", b"\x00\x00"])

    def test_long_values(self):
        # long strings in every attribute still index, query and page
        defs = [("h%d" % i, "S") for i in range(4)] + [("r%d" % i, "S") for i in range(4)]
        t, _ = self.new_table(gsis=[("mkix", ks(["h0", "h1", "h2", "h3"],
                                              ["r0", "r1", "r2", "r3"]))], defs=defs)
        for i in range(6):
            item = {"pk": S("p%d" % i), "sk": N(i)}
            item.update({"h%d" % j: S("H" * 500 + str(j)) for j in range(4)})
            item.update({"r%d" % j: S("R" * 200 + str(j)) for j in range(3)})
            item["r3"] = S("%d" % i + "x" * 250)
            self.ddb.put_item(TableName=t, Item=item)
        vals = {":h%d" % j: S("H" * 500 + str(j)) for j in range(4)}
        vals.update({":r%d" % j: S("R" * 200 + str(j)) for j in range(3)})
        cond = " AND ".join(["h%d = :h%d" % (j, j) for j in range(4)] +
                            ["r%d = :r%d" % (j, j) for j in range(3)])
        got, kw = [], {}
        while True:
            out = self.ddb.query(TableName=t, IndexName="mkix", KeyConditionExpression=cond,
                                 ExpressionAttributeValues=vals, Limit=2, **kw)
            got += [x["pk"]["S"] for x in out["Items"]]
            if "LastEvaluatedKey" not in out:
                break
            kw["ExclusiveStartKey"] = out["LastEvaluatedKey"]
        self.assertEqual(sorted(got), ["p%d" % i for i in range(6)])
        vals[":x"] = S("3")
        out = self.ddb.query(TableName=t, IndexName="mkix",
                             KeyConditionExpression=cond + " AND begins_with(r3, :x)",
                             ExpressionAttributeValues=vals)
        self.assertEqual([x["pk"]["S"] for x in out["Items"]], ["p3"])
        # the sum of the sort values passes 1024 bytes
        item = {"pk": S("big"), "sk": N(0)}
        item.update({"h%d" % j: S("h") for j in range(4)})
        item.update({"r%d" % j: S("r" * 300) for j in range(4)})
        code, msg = self.err(self.ddb.put_item, TableName=t, Item=item)
        self.assertIn("Aggregated size of all range keys", msg)

    def test_update_table_create_and_delete(self):
        t, _ = self.new_table(gsis=(), defs=())
        for i in range(10):
            item = {"pk": S("p%d" % i), "sk": N(i), "trn": S("t"), "area": N(i % 2),
                    "rnd": S("r%d" % (i % 3)), "sq": N(i), "tg": B(b"x")}
            if i == 9:
                del item["tg"]  # not indexed
            self.ddb.put_item(TableName=t, Item=item)
        out = self.ddb.update_table(
            TableName=t,
            AttributeDefinitions=[{"AttributeName": a, "AttributeType": ty} for a, ty in MK_DEFS],
            GlobalSecondaryIndexUpdates=[{"Create": {"IndexName": "mkix", "KeySchema": MK,
                                                     "Projection": {"ProjectionType": "ALL"}}}])
        g = out["TableDescription"]["GlobalSecondaryIndexes"][0]
        self.assertEqual(g["KeySchema"], MK)
        self.assertEqual(g["ItemCount"], 9)
        out = self.q(t, "trn = :t AND area = :r AND rnd = :a",
                     {":t": S("t"), ":r": N(0), ":a": S("r0")})
        self.assertEqual([x["pk"]["S"] for x in out["Items"]], ["p0", "p6"])
        # a refused schema changes nothing
        code, _ = self.err(self.ddb.update_table, TableName=t, AttributeDefinitions=[
            {"AttributeName": "trn", "AttributeType": "S"}],
            GlobalSecondaryIndexUpdates=[{"Create": {
                "IndexName": "bad", "KeySchema": ks(["trn", "trn"]),
                "Projection": {"ProjectionType": "ALL"}}}])
        self.assertEqual(code, "ValidationException")
        code, msg = self.err(self.ddb.update_table, TableName=t, AttributeDefinitions=[
            {"AttributeName": "trn", "AttributeType": "S"}],
            GlobalSecondaryIndexUpdates=[{"Create": {
                "IndexName": "bad", "KeySchema": ks(["trn", "area"]),
                "Projection": {"ProjectionType": "ALL"}}}])
        self.assertIn("AttributeDefinitions", msg)
        out = self.ddb.update_table(TableName=t, GlobalSecondaryIndexUpdates=[
            {"Delete": {"IndexName": "mkix"}}])
        self.assertNotIn("GlobalSecondaryIndexes", out["TableDescription"])
        code, _ = self.err(self.q, t, "trn = :t", {":t": S("t")})
        self.assertEqual(code, "ValidationException")

    def test_backup_restore_keeps_the_index(self):
        t, _ = self.new_table()
        self.seed(t)
        arn = self.ddb.create_backup(TableName=t, BackupName="bkp")["BackupDetails"]["BackupArn"]
        wait_until(lambda: self.ddb.describe_backup(BackupArn=arn)["BackupDescription"]
                   ["BackupDetails"]["BackupStatus"] == "AVAILABLE", what="backup")
        r = t + "-r"
        self.ddb.restore_table_from_backup(TargetTableName=r, BackupArn=arn)
        wait_until(lambda: self.ddb.describe_table(TableName=r)["Table"]["TableStatus"] ==
                   "ACTIVE", what="restore")
        g = self.ddb.describe_table(TableName=r)["Table"]["GlobalSecondaryIndexes"][0]
        self.assertEqual(g["KeySchema"], MK)
        out = self.ddb.query(TableName=r, IndexName="mkix",
                             KeyConditionExpression="trn = :t AND area = :r AND rnd = :a",
                             ExpressionAttributeValues={":t": S("t1"), ":r": N(1),
                                                        ":a": S("semi")})
        self.assertEqual(out["Count"], 8)

    def test_cli_v2(self):
        env = self.server.env()
        t = "mk-cli-" + uuid.uuid4().hex[:8]

        def aws(*args):
            p = subprocess.run(["/usr/bin/aws", "--endpoint-url", env["TANDEM_ENDPOINT"],
                                "--output", "json", "dynamodb"] + list(args),
                               env=env, capture_output=True, text=True, timeout=120)
            return p.returncode, p.stdout, p.stderr

        rc, out, err = aws("create-table", "--table-name", t, "--billing-mode", "PAY_PER_REQUEST",
                           "--attribute-definitions", json.dumps(
                               [{"AttributeName": "pk", "AttributeType": "S"},
                                {"AttributeName": "a", "AttributeType": "S"},
                                {"AttributeName": "b", "AttributeType": "N"},
                                {"AttributeName": "c", "AttributeType": "N"}]),
                           "--key-schema", json.dumps(ks(["pk"])),
                           "--global-secondary-indexes", json.dumps(
                               [{"IndexName": "mkix", "KeySchema": ks(["a", "b"], ["c"]),
                                 "Projection": {"ProjectionType": "KEYS_ONLY"}}]))
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)["TableDescription"]["GlobalSecondaryIndexes"][0]
                         ["KeySchema"], ks(["a", "b"], ["c"]))
        for i in range(3):
            self.ddb.put_item(TableName=t, Item={"pk": S("p%d" % i), "a": S("x"), "b": N(1),
                                                 "c": N(3 - i), "d": S("no")})
        rc, out, err = aws("query", "--table-name", t, "--index-name", "mkix",
                           "--key-condition-expression", "a = :a AND b = :b AND c >= :c",
                           "--expression-attribute-values",
                           json.dumps({":a": S("x"), ":b": N(1), ":c": N(2)}))
        self.assertEqual(rc, 0, err)
        items = json.loads(out)["Items"]
        self.assertEqual([i["c"]["N"] for i in items], ["2", "3"])
        self.assertNotIn("d", items[0])
        rc, out, err = aws("query", "--table-name", t, "--index-name", "mkix",
                           "--key-condition-expression", "a = :a AND c = :c",
                           "--expression-attribute-values", json.dumps({":a": S("x"), ":c": N(2)}))
        self.assertNotEqual(rc, 0)
        self.assertIn("ValidationException", err)
        self.assertIn("missed key schema element: b", err)


if __name__ == "__main__":
    unittest.main()
