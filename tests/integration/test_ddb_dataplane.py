"""The DynamoDB data plane through boto3 and the aws CLI: UpdateItem (the
UpdateExpression grammar, ReturnValues, conditions), Query (key conditions,
order, pagination, filters, Select COUNT), parallel Scan, and a bounded
property test against an in-memory model."""

import json
import random
import shutil
import subprocess
import unittest
import uuid

from tandem_harness import ServerTestCase


class DataPlane(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ddb = cls.server.boto3()

    def new_table(self, sort_key=None):
        name = "dp-" + uuid.uuid4().hex[:12]
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
        return e["Error"]["Code"], e["Error"]["Message"], e

    def get(self, t, key):
        return self.ddb.get_item(TableName=t, Key=key, ConsistentRead=True).get("Item")

    def test_null_false_is_taken_as_null(self):
        # DynamoDB accepts {"NULL": false} since June 2026 and reads it back as
        # {"NULL": true} (conformance suite captures); it refused it before
        t = self.new_table()
        self.ddb.put_item(TableName=t, Item={"pk": {"S": "a"}, "n": {"NULL": False},
                                             "m": {"M": {"x": {"NULL": False}}}})
        self.assertEqual(self.get(t, {"pk": {"S": "a"}}),
                         {"pk": {"S": "a"}, "n": {"NULL": True}, "m": {"M": {"x": {"NULL": True}}}})
        self.ddb.update_item(TableName=t, Key={"pk": {"S": "a"}}, UpdateExpression="SET o = :v",
                             ExpressionAttributeValues={":v": {"NULL": False}})
        self.assertEqual(self.get(t, {"pk": {"S": "a"}})["o"], {"NULL": True})

    # -- UpdateItem ---------------------------------------------------------

    def test_update_set_arithmetic_and_functions(self):
        t = self.new_table()
        k = {"pk": {"S": "a"}}
        out = self.ddb.update_item(
            TableName=t, Key=k, ReturnValues="ALL_NEW",
            UpdateExpression="SET n = if_not_exists(n, :z) + :one, l = list_append(if_not_exists(l, :e), :l), m = :m",
            ExpressionAttributeValues={":z": {"N": "0"}, ":one": {"N": "1"}, ":e": {"L": []},
                                       ":l": {"L": [{"S": "x"}]}, ":m": {"M": {"cnt": {"N": "1"}}}})
        self.assertEqual(out["Attributes"], {"pk": {"S": "a"}, "n": {"N": "1"},
                                             "l": {"L": [{"S": "x"}]},
                                             "m": {"M": {"cnt": {"N": "1"}}}})
        # 38-digit precision through arithmetic
        self.ddb.update_item(TableName=t, Key=k, UpdateExpression="SET big = :b",
                             ExpressionAttributeValues={":b": {"N": "12345678901234567890123456789012345678"}})
        # 38 digits cannot hold that difference exactly: the service refuses,
        # calling it an overflow (as it does for 1e50 - 1)
        overflow = ("ValidationException", "Number overflow. Attempting to store a number with "
                    "magnitude larger than supported range")
        code, msg, _ = self.err(self.ddb.update_item, TableName=t, Key=k,
                                UpdateExpression="SET big = big - :b",
                                ExpressionAttributeValues={":b": {"N": "0.0000000000000000000000000000000000001"}})
        self.assertEqual((code, msg), overflow)
        for op in "+-":
            code, msg, _ = self.err(self.ddb.update_item, TableName=t, Key=k,
                                    UpdateExpression="SET big = :a %s :b" % op,
                                    ExpressionAttributeValues={":a": {"N": "1e50"}, ":b": {"N": "1"}})
            self.assertEqual((code, msg), overflow)
        # a number written with more than 38 digits keeps its own message
        code, msg, _ = self.err(self.ddb.update_item, TableName=t, Key=k,
                                UpdateExpression="SET big = :a",
                                ExpressionAttributeValues={":a": {"N": "1" * 39}})
        self.assertEqual(code, "ValidationException")
        self.assertIn("Attempting to store more than 38 significant digits in a Number", msg)
        out = self.ddb.update_item(TableName=t, Key=k, UpdateExpression="SET big = big + :b",
                                   ExpressionAttributeValues={":b": {"N": "1"}},
                                   ReturnValues="UPDATED_NEW")
        self.assertEqual(out["Attributes"], {"big": {"N": "12345678901234567890123456789012345679"}})
        # nested paths and list indexes
        out = self.ddb.update_item(TableName=t, Key=k, ReturnValues="UPDATED_NEW",
                                   UpdateExpression="SET m.cnt = m.cnt + :one, l[0] = :y, l[5] = :z",
                                   ExpressionAttributeValues={":one": {"N": "1"}, ":y": {"S": "y"},
                                                              ":z": {"S": "z"}})
        item = self.get(t, k)
        self.assertEqual(item["m"], {"M": {"cnt": {"N": "2"}}})
        self.assertEqual(item["l"], {"L": [{"S": "y"}, {"S": "z"}]})
        self.assertEqual(out["Attributes"]["m"], {"M": {"cnt": {"N": "2"}}})

    def test_update_remove_add_delete(self):
        t = self.new_table()
        k = {"pk": {"S": "b"}}
        self.ddb.put_item(TableName=t, Item={**k, "ss": {"SS": ["a", "b", "c"]}, "n": {"N": "5"},
                                             "l": {"L": [{"N": "0"}, {"N": "1"}, {"N": "2"}]},
                                             "x": {"S": "gone"}})
        out = self.ddb.update_item(
            TableName=t, Key=k, ReturnValues="UPDATED_OLD",
            UpdateExpression="REMOVE x, l[0], l[2] ADD n :d, ns :ns DELETE ss :del",
            ExpressionAttributeValues={":d": {"N": "-7.5"}, ":ns": {"NS": ["1", "2"]},
                                       ":del": {"SS": ["a", "zz"]}})
        self.assertEqual(out["Attributes"]["x"], {"S": "gone"})
        self.assertEqual(out["Attributes"]["n"], {"N": "5"})
        item = self.get(t, k)
        self.assertEqual(item["n"], {"N": "-2.5"})
        self.assertEqual(sorted(item["ss"]["SS"]), ["b", "c"])
        self.assertEqual(sorted(item["ns"]["NS"]), ["1", "2"])
        self.assertEqual(item["l"], {"L": [{"N": "1"}]})
        self.assertNotIn("x", item)
        # deleting every member removes the attribute
        self.ddb.update_item(TableName=t, Key=k, UpdateExpression="DELETE ss :d",
                             ExpressionAttributeValues={":d": {"SS": ["b", "c"]}})
        self.assertNotIn("ss", self.get(t, k))

    def test_update_creates_item_and_return_values(self):
        t = self.new_table("N")
        k = {"pk": {"S": "c"}, "sk": {"N": "1"}}
        out = self.ddb.update_item(TableName=t, Key=k, ReturnValues="ALL_OLD")
        self.assertNotIn("Attributes", out)
        self.assertEqual(self.get(t, k), k)
        out = self.ddb.update_item(TableName=t, Key=k, UpdateExpression="SET a = :a",
                                   ExpressionAttributeValues={":a": {"S": "1"}}, ReturnValues="ALL_OLD")
        self.assertEqual(out["Attributes"], k)
        out = self.ddb.update_item(TableName=t, Key=k, UpdateExpression="SET a = :a",
                                   ExpressionAttributeValues={":a": {"S": "2"}}, ReturnValues="NONE")
        self.assertNotIn("Attributes", out)

    def test_update_conditions(self):
        t = self.new_table()
        k = {"pk": {"S": "d"}}
        self.ddb.put_item(TableName=t, Item={**k, "v": {"N": "1"}})
        self.ddb.update_item(TableName=t, Key=k, UpdateExpression="SET v = v + :one",
                             ConditionExpression="v = :one",
                             ExpressionAttributeValues={":one": {"N": "1"}})
        code, msg, e = self.err(self.ddb.update_item, TableName=t, Key=k,
                                UpdateExpression="SET v = v + :one", ConditionExpression="v = :one",
                                ExpressionAttributeValues={":one": {"N": "1"}},
                                ReturnValuesOnConditionCheckFailure="ALL_OLD")
        self.assertEqual(code, "ConditionalCheckFailedException")
        self.assertEqual(msg, "The conditional request failed")
        self.assertEqual(e["Item"], {**k, "v": {"N": "2"}})
        code, _, _ = self.err(self.ddb.update_item, TableName=t, Key={"pk": {"S": "new"}},
                              UpdateExpression="SET a = :one", ConditionExpression="attribute_exists(pk)",
                              ExpressionAttributeValues={":one": {"N": "1"}})
        self.assertEqual(code, "ConditionalCheckFailedException")
        self.assertIsNone(self.get(t, {"pk": {"S": "new"}}))

    def test_update_errors(self):
        t = self.new_table()
        k = {"pk": {"S": "e"}}
        self.ddb.put_item(TableName=t, Item={**k, "s": {"S": "str"}, "m": {"M": {}}})
        cases = [
            ("SET a = :v SET b = :v", {":v": {"N": "1"}},
             'Invalid UpdateExpression: The "SET" section can only be used once in an update expression;'),
            ("SET a = :v, a.b = :v", {":v": {"N": "1"}},
             "Invalid UpdateExpression: Two document paths overlap with each other; must remove or "
             "rewrite one of these paths; path one: [a], path two: [a, b]"),
            ("SET a.b = :v, a[1] = :v", {":v": {"N": "1"}},
             "Invalid UpdateExpression: Two document paths conflict with each other; must remove or "
             "rewrite one of these paths; path one: [a, b], path two: [a, [1]]"),
            ("SET pk = :v", {":v": {"S": "1"}},
             "One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key"),
            ("ADD a :v", {":v": {"S": "1"}},
             "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: STRING"),
            ("DELETE a :v", {":v": {"N": "1"}},
             "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE, operand type: NUMBER"),
            ("SET a = :v + :w", {":v": {"S": "1"}, ":w": {"N": "1"}},
             "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: +, operand type: S"),
            ("SET a = list_append(:v)", {":v": {"L": []}},
             "Invalid UpdateExpression: Incorrect number of operands for operator or function; operator or function: list_append, number of operands: 1"),
            ("SET a = if_not_exists(:v, :v)", {":v": {"L": []}},
             "Invalid UpdateExpression: Operator or function requires a document path; operator or function: if_not_exists"),
            ("SET a = nope(:v)", {":v": {"L": []}},
             "Invalid UpdateExpression: Invalid function name; function: nope"),
            ("SET a = s + :v", {":v": {"N": "1"}},
             "An operand in the update expression has an incorrect data type"),
            ("SET a = absentattr", None,
             "The provided expression refers to an attribute that does not exist in the item"),
            ("SET nope.deeper = :v", {":v": {"N": "1"}},
             "The document path provided in the update expression is invalid for update"),
            ("SET a = :v", {":v": {"N": "1"}, ":w": {"N": "2"}},
             "Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}"),
            ("SET a = = :v", {":v": {"N": "1"}},
             'Invalid UpdateExpression: Syntax error; token: "=", near: "= = :v"'),
        ]
        for expr, values, want in cases:
            kw = dict(TableName=t, Key=k, UpdateExpression=expr)
            if values:
                kw["ExpressionAttributeValues"] = values
            code, msg, _ = self.err(self.ddb.update_item, **kw)
            self.assertEqual((code, msg), ("ValidationException", want), expr)
        code, _, _ = self.err(self.ddb.update_item, TableName="nope-" + t, Key=k,
                              UpdateExpression="SET a = :v", ExpressionAttributeValues={":v": {"N": "1"}})
        self.assertEqual(code, "ResourceNotFoundException")
        code, msg, _ = self.err(self.ddb.update_item, TableName=t, Key={"x": {"S": "1"}})
        self.assertEqual((code, msg), ("ValidationException",
                                       "The provided key element does not match the schema"))

    def cli(self, *args):
        env = self.server.env()
        p = subprocess.run(["aws", "--endpoint-url", env["TANDEM_ENDPOINT"], "--output", "json",
                            "dynamodb", *args], env=env, capture_output=True, text=True, timeout=120)
        return p.returncode, p.stdout, p.stderr

    def test_update_and_query_with_cli(self):
        if not shutil.which("aws"):
            self.skipTest("no aws CLI")
        t = self.new_table("N")
        rc, out, err = self.cli("update-item", "--table-name", t, "--key",
                                '{"pk":{"S":"c"},"sk":{"N":"1"}}', "--update-expression",
                                "ADD hits :one", "--expression-attribute-values",
                                '{":one":{"N":"1"}}', "--return-values", "ALL_NEW")
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)["Attributes"]["hits"], {"N": "1"})
        rc, out, err = self.cli("query", "--table-name", t, "--key-condition-expression",
                                "pk = :p", "--expression-attribute-values", '{":p":{"S":"c"}}')
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)["Count"], 1)
        rc, out, err = self.cli("update-item", "--table-name", t, "--key",
                                '{"pk":{"S":"c"},"sk":{"N":"1"}}', "--update-expression",
                                "SET hits = :one", "--condition-expression", "hits > :one",
                                "--expression-attribute-values", '{":one":{"N":"1"}}')
        self.assertNotEqual(rc, 0)
        self.assertIn("ConditionalCheckFailedException", err)

    def test_batches_transact_get_and_parallel_scan_with_cli(self):
        if not shutil.which("aws"):
            self.skipTest("no aws CLI")
        t = self.new_table("N")
        puts = [{"PutRequest": {"Item": {"pk": {"S": "b"}, "sk": {"N": str(i)}}}}
                for i in range(5)]
        rc, out, err = self.cli("batch-write-item", "--request-items", json.dumps({t: puts}))
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)["UnprocessedItems"], {})
        keys = [{"pk": {"S": "b"}, "sk": {"N": str(i)}} for i in range(5)]
        rc, out, err = self.cli("batch-get-item", "--request-items",
                                json.dumps({t: {"Keys": keys}}))
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(json.loads(out)["Responses"][t]), 5)
        rc, out, err = self.cli("transact-get-items", "--transact-items", json.dumps(
            [{"Get": {"TableName": t, "Key": keys[0]}}, {"Get": {"TableName": t, "Key": keys[4]}}]))
        self.assertEqual(rc, 0, err)
        self.assertEqual([r["Item"]["sk"]["N"] for r in json.loads(out)["Responses"]], ["0", "4"])
        seen = 0
        for seg in range(2):
            rc, out, err = self.cli("scan", "--table-name", t, "--segment", str(seg),
                                    "--total-segments", "2")
            self.assertEqual(rc, 0, err)
            seen += json.loads(out)["Count"]
        self.assertEqual(seen, 5)
        # error paths keep their exact codes through the CLI
        rc, out, err = self.cli("batch-write-item", "--request-items",
                                json.dumps({t: puts * 6}))  # 30 > 25 requests
        self.assertNotEqual(rc, 0)
        self.assertIn("ValidationException", err)
        rc, out, err = self.cli("batch-get-item", "--request-items",
                                json.dumps({t: {"Keys": [keys[0], keys[0]]}}))
        self.assertNotEqual(rc, 0)
        self.assertIn("ValidationException", err)

    # -- Query --------------------------------------------------------------

    def fill(self, t, pks=("p1", "p2"), n=20):
        for pk in pks:
            for i in range(n):
                self.ddb.put_item(TableName=t, Item={"pk": {"S": pk}, "sk": {"N": str(i)},
                                                     "odd": {"BOOL": i % 2 == 1}})

    def q(self, t, cond, values, **kw):
        return self.ddb.query(TableName=t, KeyConditionExpression=cond,
                              ExpressionAttributeValues=values, **kw)

    def test_query_key_conditions(self):
        t = self.new_table("N")
        self.fill(t)
        p = {":p": {"S": "p1"}}

        def sks(out):
            return [int(i["sk"]["N"]) for i in out["Items"]]

        self.assertEqual(sks(self.q(t, "pk = :p", p)), list(range(20)))
        self.assertEqual(sks(self.q(t, "pk = :p", p, ScanIndexForward=False)), list(range(19, -1, -1)))
        cases = [("sk = :v", [5]), ("sk < :v", list(range(5))), ("sk <= :v", list(range(6))),
                 ("sk > :v", list(range(6, 20))), ("sk >= :v", list(range(5, 20)))]
        for cond, want in cases:
            vals = {**p, ":v": {"N": "5"}}
            self.assertEqual(sks(self.q(t, "pk = :p AND " + cond, vals)), want, cond)
            self.assertEqual(sks(self.q(t, "pk = :p AND " + cond, vals, ScanIndexForward=False)),
                             want[::-1], cond)
        vals = {**p, ":a": {"N": "3"}, ":b": {"N": "7"}}
        self.assertEqual(sks(self.q(t, "pk = :p AND sk BETWEEN :a AND :b", vals)), [3, 4, 5, 6, 7])
        with self.assertRaises(self.ddb.exceptions.ClientError) as cm:
            self.q(t, "pk = :p AND sk.part < :v", {**p, ":v": {"N": "5"}})
        self.assertIn("cannot have conditions on nested attributes", str(cm.exception))
        # the key may stand on either side of a comparison: ":v < sk" is "sk > :v"
        for cond, want in [(":v = sk", [5]), (":v > sk", list(range(5))),
                           (":v >= sk", list(range(6))), (":v < sk", list(range(6, 20))),
                           (":v <= sk", list(range(5, 20)))]:
            vals = {**p, ":v": {"N": "5"}}
            self.assertEqual(sks(self.q(t, ":p = pk AND " + cond, vals)), want, cond)
            self.assertEqual(sks(self.q(t, "(" + cond + ") AND (:p = pk)", vals,
                                        ScanIndexForward=False)), want[::-1], cond)
        out = self.q(t, "pk = :p", {**p, ":t": {"BOOL": True}}, FilterExpression="odd = :t")
        self.assertEqual(out["Count"], 10)
        self.assertEqual(out["ScannedCount"], 20)
        out = self.q(t, "pk = :p", p, Select="COUNT")
        self.assertEqual(out["Count"], 20)
        self.assertNotIn("Items", out)
        out = self.q(t, "pk = :p", p, ProjectionExpression="sk", Limit=2)
        self.assertEqual(out["Items"], [{"sk": {"N": "0"}}, {"sk": {"N": "1"}}])
        self.assertEqual(out["LastEvaluatedKey"], {"pk": {"S": "p1"}, "sk": {"N": "1"}})

    def test_query_begins_with_strings(self):
        t = self.new_table("S")
        for s in ["a", "ab", "abc", "abd", "b", "ba"]:
            self.ddb.put_item(TableName=t, Item={"pk": {"S": "x"}, "sk": {"S": s}})
        out = self.q(t, "pk = :p AND begins_with(sk, :b)", {":p": {"S": "x"}, ":b": {"S": "ab"}})
        self.assertEqual([i["sk"]["S"] for i in out["Items"]], ["ab", "abc", "abd"])

    def test_query_pagination(self):
        t = self.new_table("N")
        self.fill(t, n=25)
        for forward in (True, False):
            got, esk, pages = [], None, 0
            while True:
                kw = {"Limit": 7, "ScanIndexForward": forward}
                if esk:
                    kw["ExclusiveStartKey"] = esk
                out = self.q(t, "pk = :p", {":p": {"S": "p2"}}, **kw)
                got += [int(i["sk"]["N"]) for i in out["Items"]]
                pages += 1
                esk = out.get("LastEvaluatedKey")
                if not esk:
                    break
            want = list(range(25)) if forward else list(range(24, -1, -1))
            self.assertEqual(got, want)
            self.assertEqual(pages, 4)

    def test_query_errors(self):
        t = self.new_table("N")
        cases = [
            ("sk = :v", {":v": {"N": "1"}}, "Query condition missed key schema element: pk"),
            ("pk = :p OR sk = :v", {":p": {"S": "a"}, ":v": {"N": "1"}},
             "Invalid operator used in KeyConditionExpression: OR"),
            ("pk < :p", {":p": {"S": "a"}}, "Query key condition not supported"),
            ("pk = :p AND zz = :v", {":p": {"S": "a"}, ":v": {"N": "1"}},
             "Query condition missed key schema element: sk"),
            ("zz = :v", {":v": {"N": "1"}}, "Query condition missed key schema element: pk"),
            ("zz = :v AND sk = :v", {":v": {"N": "1"}},
             "Query condition missed key schema element: pk"),
            ("pk = :p AND sk = :v", {":p": {"S": "a"}, ":v": {"S": "1"}},
             "One or more parameter values were invalid: Condition parameter type does not match schema type"),
        ]
        for cond, vals, want in cases:
            code, msg, _ = self.err(self.ddb.query, TableName=t, KeyConditionExpression=cond,
                                    ExpressionAttributeValues=vals)
            self.assertEqual((code, msg), ("ValidationException", want), cond)
        code, msg, _ = self.err(self.ddb.query, TableName=t)
        self.assertEqual(code, "ValidationException")
        # the legacy form names the missing key the same way
        code, msg, _ = self.err(self.ddb.query, TableName=t, KeyConditions={
            "pk": {"AttributeValueList": [{"S": "a"}], "ComparisonOperator": "EQ"},
            "zz": {"AttributeValueList": [{"N": "1"}], "ComparisonOperator": "EQ"}})
        self.assertEqual((code, msg), ("ValidationException",
                                       "Query condition missed key schema element: sk"))
        # without a sort key, a second condition is not supported
        h = self.new_table()
        for cond in ("pk = :v AND zz = :v", "yy = :v AND zz = :v"):
            code, msg, _ = self.err(self.ddb.query, TableName=h, KeyConditionExpression=cond,
                                    ExpressionAttributeValues={":v": {"S": "a"}})
            self.assertEqual((code, msg), ("ValidationException",
                                           "Query key condition not supported"), cond)
        code, msg, _ = self.err(self.ddb.query, TableName=h, KeyConditionExpression="zz = :v",
                                ExpressionAttributeValues={":v": {"S": "a"}})
        self.assertEqual(msg, "Query condition missed key schema element: pk")
        code, _, _ = self.err(self.ddb.query, TableName="zz-" + t, KeyConditionExpression="pk = :p",
                              ExpressionAttributeValues={":p": {"S": "a"}})
        self.assertEqual(code, "ResourceNotFoundException")

    # -- parallel Scan ------------------------------------------------------

    def test_parallel_scan(self):
        t = self.new_table()
        for i in range(60):
            self.ddb.put_item(TableName=t, Item={"pk": {"S": "k%d" % i}})
        seen = []
        for seg in range(4):
            esk = None
            while True:
                kw = {"Segment": seg, "TotalSegments": 4, "Limit": 5}
                if esk:
                    kw["ExclusiveStartKey"] = esk
                out = self.ddb.scan(TableName=t, **kw)
                seen += [i["pk"]["S"] for i in out["Items"]]
                esk = out.get("LastEvaluatedKey")
                if not esk:
                    break
                resume = (seg, esk)
        self.assertEqual(sorted(seen), sorted("k%d" % i for i in range(60)))
        # a start key from one segment's page does not belong to another segment
        seg, esk = resume
        code, msg, _ = self.err(self.ddb.scan, TableName=t, Segment=(seg + 1) % 4,
                                TotalSegments=4, ExclusiveStartKey=esk)
        self.assertEqual((code, msg), ("ValidationException",
                                       "The provided Exclusive start key does not map to the "
                                       "provided Segment and TotalSegments values."))
        out = self.ddb.scan(TableName=t, Segment=seg, TotalSegments=4, ExclusiveStartKey=esk)
        self.assertNotIn(esk["pk"]["S"], [i["pk"]["S"] for i in out["Items"]])
        code, msg, _ = self.err(self.ddb.scan, TableName=t, Segment=4, TotalSegments=4)
        self.assertEqual((code, msg), ("ValidationException",
                                       "The Segment parameter is zero-based and must be less than parameter "
                                       "TotalSegments: Segment: 4 is not less than TotalSegments: 4"))
        code, _, _ = self.err(self.ddb.scan, TableName=t, Segment=1)
        self.assertEqual(code, "ValidationException")

    # -- batches ------------------------------------------------------------

    def test_batch_write_and_get(self):
        t1, t2 = self.new_table(), self.new_table("N")
        reqs = {t1: [{"PutRequest": {"Item": {"pk": {"S": "k%d" % i}, "v": {"N": str(i)}}}}
                     for i in range(15)],
                t2: [{"PutRequest": {"Item": {"pk": {"S": "a"}, "sk": {"N": str(i)}}}}
                     for i in range(10)]}
        out = self.ddb.batch_write_item(RequestItems=reqs)
        self.assertEqual(out["UnprocessedItems"], {})
        out = self.ddb.batch_write_item(RequestItems={t1: [{"DeleteRequest": {"Key": {"pk": {"S": "k0"}}}}]})
        self.assertEqual(out["UnprocessedItems"], {})
        out = self.ddb.batch_get_item(RequestItems={
            t1: {"Keys": [{"pk": {"S": "k%d" % i}} for i in range(3)], "ProjectionExpression": "v"},
            t2: {"Keys": [{"pk": {"S": "a"}, "sk": {"N": "9"}}, {"pk": {"S": "a"}, "sk": {"N": "99"}}]}})
        self.assertEqual(sorted(int(i["v"]["N"]) for i in out["Responses"][t1]), [1, 2])
        self.assertEqual(out["Responses"][t2], [{"pk": {"S": "a"}, "sk": {"N": "9"}}])
        self.assertEqual(out["UnprocessedKeys"], {})
        # limits and errors
        too_many = {t1: [{"PutRequest": {"Item": {"pk": {"S": "x%d" % i}}}} for i in range(26)]}
        # over the limit in one table: the request's shape is refused; across
        # tables (test_ddb_limits): "Too many items requested"
        code, msg, _ = self.err(self.ddb.batch_write_item, RequestItems=too_many)
        self.assertEqual(code, "ValidationException")
        self.assertIn("Member must have length less than or equal to 25", msg)
        code, msg, _ = self.err(self.ddb.batch_get_item, RequestItems={
            t1: {"Keys": [{"pk": {"S": "x%d" % i}} for i in range(101)]}})
        self.assertEqual(code, "ValidationException")
        self.assertIn("Member must have length less than or equal to 100", msg)
        dup = {t1: [{"PutRequest": {"Item": {"pk": {"S": "d"}}}}, {"DeleteRequest": {"Key": {"pk": {"S": "d"}}}}]}
        code, msg, _ = self.err(self.ddb.batch_write_item, RequestItems=dup)
        self.assertEqual((code, msg), ("ValidationException", "Provided list of item keys contains duplicates"))
        code, msg, _ = self.err(self.ddb.batch_get_item, RequestItems={
            t1: {"Keys": [{"pk": {"S": "d"}}, {"pk": {"S": "d"}}]}})
        self.assertEqual((code, msg), ("ValidationException", "Provided list of item keys contains duplicates"))
        code, _, _ = self.err(self.ddb.batch_write_item, RequestItems={
            "nope-" + t1: [{"PutRequest": {"Item": {"pk": {"S": "d"}}}}]})
        self.assertEqual(code, "ResourceNotFoundException")
        code, _, _ = self.err(self.ddb.batch_get_item, RequestItems={
            "nope-" + t1: {"Keys": [{"pk": {"S": "d"}}]}})
        self.assertEqual(code, "ResourceNotFoundException")
        # a PutRequest's item without its key attributes, or with one of
        # another type or not a scalar: a mismatched key, not PutItem's
        # wording naming the key (as DynamoDB answers BatchWriteItem)
        for table, item in ((t1, {"other": {"S": "d"}}), (t2, {"pk": {"S": "d"}}),
                            (t1, {"pk": {"N": "1"}}), (t1, {"pk": {"SS": ["d"]}}),
                            (t2, {"pk": {"S": "d"}, "sk": {"S": "1"}})):
            code, msg, _ = self.err(self.ddb.batch_write_item, RequestItems={
                table: [{"PutRequest": {"Item": item}}]})
            self.assertEqual((code, msg), ("ValidationException",
                                           "The provided key element does not match the schema"),
                             item)
        code, msg, _ = self.err(self.ddb.put_item, TableName=t1, Item={"other": {"S": "d"}})
        self.assertEqual(msg, "One or more parameter values were invalid: Missing the key pk in "
                              "the item")
        code, msg, _ = self.err(self.ddb.put_item, TableName=t1, Item={"pk": {"N": "1"}})
        self.assertEqual(msg, "One or more parameter values were invalid: Type mismatch for key pk "
                              "expected: S actual: N")
        # an empty key value is worded as in PutItem
        code, msg, _ = self.err(self.ddb.batch_write_item, RequestItems={
            t1: [{"PutRequest": {"Item": {"pk": {"S": ""}}}}]})
        self.assertEqual(msg, "One or more parameter values are not valid. The AttributeValue for "
                              "a key attribute cannot contain an empty string value. Key: pk")
        # nothing of the failed batches was written
        self.assertIsNone(self.get(t1, {"pk": {"S": "d"}}))
        self.assertIsNone(self.get(t1, {"pk": {"S": "x0"}}))

    def test_batch_get_mixing_projections_across_tables(self):
        t, u = self.new_table(), self.new_table()
        code, msg, _ = self.err(self.ddb.batch_get_item, RequestItems={
            t: {"Keys": [{"pk": {"S": "a"}}], "ProjectionExpression": "pk"},
            u: {"Keys": [{"pk": {"S": "b"}}], "AttributesToGet": ["pk"]}})
        self.assertEqual(code, "ValidationException")
        self.assertEqual(msg, "Can not use both expression and non-expression parameters in the "
                              "same request: Non-expression parameters: {AttributesToGet} "
                              "Expression parameters: {ProjectionExpression}")
        # each kind alone, on every table, is answered
        out = self.ddb.batch_get_item(RequestItems={
            t: {"Keys": [{"pk": {"S": "a"}}], "AttributesToGet": ["pk"]},
            u: {"Keys": [{"pk": {"S": "b"}}], "AttributesToGet": ["pk"]}})
        self.assertEqual(out["Responses"], {t: [], u: []})

    def test_batch_table_arns(self):
        t1, t2 = self.new_table(), self.new_table("N")
        a1 = self.ddb.describe_table(TableName=t1)["Table"]["TableArn"]
        out = self.ddb.batch_write_item(RequestItems={
            a1: [{"PutRequest": {"Item": {"pk": {"S": "k%d" % i}, "v": {"N": str(i)}}}}
                 for i in range(3)],
            t2: [{"PutRequest": {"Item": {"pk": {"S": "a"}, "sk": {"N": "1"}}}}]},
            ReturnConsumedCapacity="TOTAL")
        self.assertEqual(out["UnprocessedItems"], {})
        # ConsumedCapacity names each table as the request did
        self.assertEqual(sorted(x["TableName"] for x in out["ConsumedCapacity"]), sorted([a1, t2]))
        self.assertEqual(self.get(t1, {"pk": {"S": "k2"}})["v"], {"N": "2"})
        out = self.ddb.batch_get_item(RequestItems={
            a1: {"Keys": [{"pk": {"S": "k%d" % i}} for i in range(2)], "ProjectionExpression": "v"},
            t2: {"Keys": [{"pk": {"S": "a"}, "sk": {"N": "1"}}]}}, ReturnConsumedCapacity="TOTAL")
        # Responses are keyed by the string the caller sent
        self.assertEqual(sorted(out["Responses"]), sorted([a1, t2]))
        self.assertEqual(sorted(int(i["v"]["N"]) for i in out["Responses"][a1]), [0, 1])
        self.assertEqual(sorted(x["TableName"] for x in out["ConsumedCapacity"]), sorted([a1, t2]))
        # the table by its name and by its ARN is one table: one key twice is a duplicate
        code, msg, _ = self.err(self.ddb.batch_write_item, RequestItems={
            a1: [{"PutRequest": {"Item": {"pk": {"S": "d"}}}}],
            t1: [{"DeleteRequest": {"Key": {"pk": {"S": "d"}}}}]})
        self.assertEqual((code, msg), ("ValidationException",
                                       "Provided list of item keys contains duplicates"))
        out = self.ddb.batch_write_item(RequestItems={
            a1: [{"DeleteRequest": {"Key": {"pk": {"S": "k0"}}}}]})
        self.assertIsNone(self.get(t1, {"pk": {"S": "k0"}}))
        # another region's or account's table is not found here; nothing is written
        for other in (a1.replace(":us-east-1:", ":eu-west-3:"),
                      a1.replace(":table/", "9:table/")):
            code, msg, _ = self.err(self.ddb.batch_write_item, RequestItems={
                t1: [{"PutRequest": {"Item": {"pk": {"S": "z"}}}}],
                other: [{"PutRequest": {"Item": {"pk": {"S": "z"}}}}]})
            self.assertEqual(code, "ResourceNotFoundException")
            self.assertIn(other, msg)
            code, _, _ = self.err(self.ddb.batch_get_item, RequestItems={
                other: {"Keys": [{"pk": {"S": "k1"}}]}})
            self.assertEqual(code, "ResourceNotFoundException")
        self.assertIsNone(self.get(t1, {"pk": {"S": "z"}}))
        # an ARN of a table that does not exist: the name's own answer
        code, _, _ = self.err(self.ddb.batch_get_item, RequestItems={
            a1.replace(t1, "nope-" + t1): {"Keys": [{"pk": {"S": "k1"}}]}})
        self.assertEqual(code, "ResourceNotFoundException")

    # -- property test ------------------------------------------------------

    def test_property_random_ops(self):
        """Random puts, updates with conditions and deletes applied to Tandem
        and to a dict model; queries (both orders, random limits) agree."""
        rng = random.Random(1234)
        t = self.new_table("N")
        model = {}  # (pk, sk) -> n
        for _ in range(300):
            pk, sk = rng.choice("ab"), rng.randrange(30)
            key = {"pk": {"S": pk}, "sk": {"N": str(sk)}}
            op = rng.random()
            if op < 0.4:
                n = rng.randrange(-5, 5)
                self.ddb.put_item(TableName=t, Item={**key, "n": {"N": str(n)}})
                model[(pk, sk)] = n
            elif op < 0.8:
                cond_v = rng.randrange(-5, 5)
                exists = (pk, sk) in model
                holds = exists and model[(pk, sk)] > cond_v
                try:
                    self.ddb.update_item(TableName=t, Key=key, UpdateExpression="SET n = n + :one",
                                         ConditionExpression="n > :c",
                                         ExpressionAttributeValues={":one": {"N": "1"}, ":c": {"N": str(cond_v)}})
                    self.assertTrue(holds)
                    model[(pk, sk)] += 1
                except self.ddb.exceptions.ConditionalCheckFailedException:
                    self.assertFalse(holds)
            else:
                self.ddb.delete_item(TableName=t, Key=key)
                model.pop((pk, sk), None)
        for pk in "ab":
            for forward in (True, False):
                limit = rng.randrange(1, 9)
                got, esk = [], None
                while True:
                    kw = {"Limit": limit, "ScanIndexForward": forward}
                    if esk:
                        kw["ExclusiveStartKey"] = esk
                    out = self.q(t, "pk = :p AND sk >= :lo", {":p": {"S": pk}, ":lo": {"N": "10"}}, **kw)
                    self.assertLessEqual(out["Count"], limit)
                    got += [(int(i["sk"]["N"]), int(i["n"]["N"])) for i in out["Items"]]
                    esk = out.get("LastEvaluatedKey")
                    if not esk:
                        break
                want = sorted(((s, n) for (p, s), n in model.items() if p == pk and s >= 10),
                              reverse=not forward)
                self.assertEqual(got, want)


if __name__ == "__main__":
    unittest.main()
