"""PartiQL for DynamoDB: ExecuteStatement (SELECT as Query or Scan, INSERT,
UPDATE, DELETE, parameters, paging, RETURNING), BatchExecuteStatement and
ExecuteTransaction, through boto3, the aws CLI v2 and the JS SDK v3, with
DynamoDB's errors and the PartiQL IAM actions."""

import base64
import json
import os
import subprocess
import threading
import time
import unittest
import uuid

from tandem_harness import ServerTestCase, find_clients

ACCOUNT = "123456789012"


class PartiQL(ServerTestCase):
    server_args = {"account": ACCOUNT}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ddb = cls.server.boto3(parameter_validation=False)

    def new_table(self, sort_key=None, gsi=False):
        name = "pq-" + uuid.uuid4().hex[:12]
        attrs = [{"AttributeName": "pk", "AttributeType": "S"}]
        keys = [{"AttributeName": "pk", "KeyType": "HASH"}]
        kw = {}
        if sort_key:
            attrs.append({"AttributeName": "sk", "AttributeType": sort_key})
            keys.append({"AttributeName": "sk", "KeyType": "RANGE"})
        if gsi:
            attrs.append({"AttributeName": "g", "AttributeType": "S"})
            kw["GlobalSecondaryIndexes"] = [{
                "IndexName": "by-g", "Projection": {"ProjectionType": "ALL"},
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}]}]
        self.ddb.create_table(TableName=name, AttributeDefinitions=attrs, KeySchema=keys,
                              BillingMode="PAY_PER_REQUEST", **kw)
        return name

    def x(self, stmt, **kw):
        return self.ddb.execute_statement(Statement=stmt, **kw)

    def pages(self, stmt, limit, max_pages=20, **kw):
        """Every page of @stmt read @limit at a time: (items, pages, last answer)."""
        items, tok = [], None
        for n in range(1, max_pages + 1):
            out = self.x(stmt, Limit=limit, **dict(kw, **({"NextToken": tok} if tok else {})))
            items += out["Items"]
            tok = out.get("NextToken")
            if not tok:
                return items, n, out
        self.fail("more than %d pages: %s" % (max_pages, stmt))

    def err(self, fn, **kw):
        with self.assertRaises(self.ddb.exceptions.ClientError) as cm:
            fn(**kw)
        e = cm.exception.response
        return e["Error"]["Code"], e["Error"]["Message"], e

    def raw_type(self, op, body):
        status, _, out = self.server.raw(op, json.dumps(body))
        self.assertEqual(status, 400)
        return json.loads(out)["__type"].split("#")[-1]

    def get(self, t, key):
        return self.ddb.get_item(TableName=t, Key=key, ConsistentRead=True).get("Item")

    def fill(self, t, n=6):
        for i in range(n):
            self.ddb.put_item(TableName=t, Item={"pk": {"S": "a" if i < 4 else "b"},
                                                 "sk": {"N": str(i)}, "v": {"S": "v%d" % i},
                                                 "tags": {"SS": ["t%d" % i, "all"]},
                                                 "m": {"M": {"l": {"L": [{"N": str(i)}]}}}})

    # -- SELECT ---------------------------------------------------------------

    def test_select_query_and_scan(self):
        t = self.new_table("N")
        self.fill(t)
        out = self.x('SELECT * FROM "%s" WHERE pk = \'a\'' % t)
        self.assertEqual([i["sk"]["N"] for i in out["Items"]], ["0", "1", "2", "3"])
        self.assertNotIn("NextToken", out)
        out = self.x('SELECT sk, m.l[0] FROM "%s" WHERE pk = ? AND sk BETWEEN 1 AND 2' % t,
                     Parameters=[{"S": "a"}])
        self.assertEqual(out["Items"], [{"sk": {"N": "1"}, "m": {"M": {"l": {"L": [{"N": "1"}]}}}},
                                        {"sk": {"N": "2"}, "m": {"M": {"l": {"L": [{"N": "2"}]}}}}])
        out = self.x('SELECT sk FROM "%s" WHERE pk = \'a\' AND sk >= 2 ORDER BY sk DESC' % t)
        self.assertEqual([i["sk"]["N"] for i in out["Items"]], ["3", "2"])
        out = self.x('select sk from "%s" where \'a\' = pk and 2 > sk' % t)
        self.assertEqual([i["sk"]["N"] for i in out["Items"]], ["0", "1"])
        # a filter beside the key condition
        out = self.x('SELECT v FROM "%s" WHERE pk = \'a\' AND contains(tags, \'t1\')' % t)
        self.assertEqual(out["Items"], [{"v": {"S": "v1"}}])
        # no partition key: a Scan with the WHERE as its filter
        out = self.x('SELECT sk FROM "%s" WHERE sk IN [1, 4, 5] OR v = \'v0\'' % t)
        self.assertEqual(sorted(int(i["sk"]["N"]) for i in out["Items"]), [0, 1, 4, 5])
        out = self.x('SELECT * FROM %s' % t if "-" not in t else 'SELECT * FROM "%s"' % t)
        self.assertEqual(len(out["Items"]), 6)
        out = self.x('SELECT sk FROM "%s" WHERE pk IN [\'b\'] AND begins_with(v, \'v5\')' % t)
        self.assertEqual(out["Items"], [{"sk": {"N": "5"}}])
        out = self.x('SELECT sk FROM "%s" WHERE pk = \'a\' AND sk = 3 AND v <> \'x\'' % t)
        self.assertEqual(out["Items"], [{"sk": {"N": "3"}}])
        # functions and operators
        out = self.x('SELECT sk FROM "%s" WHERE pk = \'a\' AND size(tags) = 2 AND '
                     'attribute_type(v, \'S\') AND NOT (sk < 3) AND extra IS MISSING' % t)
        self.assertEqual(out["Items"], [{"sk": {"N": "3"}}])
        out = self.x('SELECT sk FROM "%s" WHERE pk = \'a\' AND NOT (sk = 0 OR sk = 1) AND '
                     '(sk = 2 OR v = \'v3\' AND sk > 0)' % t)
        self.assertEqual([i["sk"]["N"] for i in out["Items"]], ["2", "3"])
        out = self.x('SELECT sk FROM "%s" WHERE v IS NOT MISSING AND sk > 4' % t)
        self.assertEqual(out["Items"], [{"sk": {"N": "5"}}])
        out = self.x('SELECT sk FROM "%s" WHERE pk = \'a\' AND begins_with(v, \'v2\')' % t,
                     ConsistentRead=True, ReturnConsumedCapacity="TOTAL")
        self.assertEqual(out["Items"], [{"sk": {"N": "2"}}])
        self.assertEqual(out["ConsumedCapacity"]["TableName"], t)

    def test_select_index_and_paging(self):
        t = self.new_table("N", gsi=True)
        for i in range(7):
            self.ddb.put_item(TableName=t, Item={"pk": {"S": "p"}, "sk": {"N": str(i)},
                                                 "g": {"S": "even" if i % 2 == 0 else "odd"}})
        out = self.x('SELECT sk FROM "%s"."by-g" WHERE g = \'odd\'' % t)
        self.assertEqual(sorted(int(i["sk"]["N"]) for i in out["Items"]), [1, 3, 5])
        items, n, _ = self.pages('SELECT sk FROM "%s" WHERE pk = \'p\'' % t, 3)
        self.assertEqual([int(i["sk"]["N"]) for i in items], list(range(7)))
        self.assertEqual(n, 3)
        self.assertIn("LastEvaluatedKey", self.x('SELECT sk FROM "%s" WHERE pk = \'p\'' % t,
                                                 Limit=3))
        # paging a Scan with a filter: pages may come back empty with a NextToken
        items, _, _ = self.pages('SELECT sk FROM "%s" WHERE g = \'even\' AND sk > 0' % t, 2)
        self.assertEqual(sorted(int(i["sk"]["N"]) for i in items), [2, 4, 6])
        # pk IN: one Query per value, paged across them
        self.ddb.put_item(TableName=t, Item={"pk": {"S": "q"}, "sk": {"N": "0"}})
        items, _, _ = self.pages('SELECT pk, sk FROM "%s" WHERE pk IN [\'q\', \'none\', \'p\'] '
                                 'AND sk < 6' % t, 2)
        self.assertEqual([(i["pk"]["S"], int(i["sk"]["N"])) for i in items],
                         [("q", 0), ("p", 0), ("p", 1), ("p", 2), ("p", 3), ("p", 4), ("p", 5)])
        # without a Limit, one call reads every value's partition
        out = self.x('SELECT pk, sk FROM "%s" WHERE pk IN [\'q\', \'none\', \'p\']' % t,
                     ReturnConsumedCapacity="TOTAL")
        self.assertEqual(len(out["Items"]), 8)
        self.assertNotIn("NextToken", out)
        self.assertEqual(out["ConsumedCapacity"]["TableName"], t)
        out = self.x('SELECT pk, sk FROM "%s" WHERE (pk = \'q\' OR pk = \'p\' OR pk = \'q\') '
                     'AND sk >= 5' % t)
        self.assertEqual(out["Items"], [{"pk": {"S": "p"}, "sk": {"N": "5"}},
                                        {"pk": {"S": "p"}, "sk": {"N": "6"}}])
        out = self.x('SELECT sk FROM "%s" WHERE pk IN (\'p\') AND sk BETWEEN 5 AND 9' % t)
        self.assertEqual(out["Items"], [{"sk": {"N": "5"}}, {"sk": {"N": "6"}}])
        code, msg, _ = self.err(self.x, stmt='SELECT * FROM "%s" WHERE pk IN [\'p\'] ORDER BY sk'
                                % t)
        self.assertEqual(code, "ValidationException")
        for bad in ("eyJpIjogOX0=", "eyJpIjogIngifQ==", "e30=", "eyJrIjogMX0="):
            code, msg, _ = self.err(self.x, stmt='SELECT * FROM "%s" WHERE pk IN [\'p\', \'q\']'
                                    % t, NextToken=bad)
            self.assertEqual((code, msg), ("ValidationException", "Invalid NextToken"))
        code, msg, _ = self.err(self.x, stmt='SELECT * FROM "%s"' % t, NextToken="eyJpIjogMX0=")
        self.assertEqual((code, msg), ("ValidationException", "Invalid NextToken"))
        code, msg, _ = self.err(self.x, stmt='SELECT * FROM "%s"' % t, NextToken="bm90IGpzb24=")
        self.assertEqual((code, msg), ("ValidationException", "Invalid NextToken"))
        code, msg, _ = self.err(self.x, stmt='SELECT * FROM "%s"."nope"' % t)
        self.assertEqual(code, "ValidationException")
        self.assertIn("index", msg)

    def test_in_list_limits_and_pages(self):
        """An IN on the partition key takes at most 50 values, one on another
        attribute 100; a partition key IN reads at most 10 values' partitions
        a page, the rest through NextToken ("PartiQL ... operators")."""
        t = self.new_table("N")
        for i in range(25):
            self.ddb.put_item(TableName=t, Item={"pk": {"S": "k%02d" % i}, "sk": {"N": "1"},
                                                 "v": {"N": str(i)}})
        keys = ", ".join("'k%02d'" % i for i in range(50))
        out = self.x('SELECT pk FROM "%s" WHERE pk IN [%s]' % (t, keys))
        self.assertEqual([i["pk"]["S"] for i in out["Items"]], ["k%02d" % i for i in range(10)])
        items, n, _ = self.pages('SELECT pk FROM "%s" WHERE pk IN [%s]' % (t, keys), 100)
        self.assertEqual([i["pk"]["S"] for i in items], ["k%02d" % i for i in range(25)])
        self.assertEqual(n, 5)  # 50 values, 10 a page
        # Limit still ends a page first
        out = self.x('SELECT pk FROM "%s" WHERE pk IN [%s]' % (t, keys), Limit=3)
        self.assertEqual(len(out["Items"]), 3)
        # 51 partition key values: refused, as parameters too
        more = keys + ", 'k50'"
        for stmt, kw in (('SELECT * FROM "%s" WHERE pk IN [%s]' % (t, more), {}),
                         ('SELECT * FROM "%s" WHERE pk IN [%s] AND v > 1' % (t, more), {}),
                         ('SELECT * FROM "%s" WHERE pk IN [%s]' % (t, ", ".join(["?"] * 51)),
                          {"Parameters": [{"S": "p%d" % i} for i in range(51)]})):
            with self.subTest(stmt=stmt[:60]):
                code, msg, _ = self.err(self.x, stmt=stmt, **kw)
                self.assertEqual(code, "ValidationException")
                self.assertIn("IN operator on the partition key [pk] has 51 values; at most 50",
                              msg)
        # 100 values of another attribute are a filter; 101 are refused
        vals = ", ".join(str(i) for i in range(100))
        out = self.x('SELECT pk FROM "%s" WHERE v IN [%s]' % (t, vals))
        self.assertEqual(len(out["Items"]), 25)
        code, msg, _ = self.err(self.x, stmt='SELECT pk FROM "%s" WHERE v IN [%s, 100]'
                                % (t, vals))
        self.assertEqual(code, "ValidationException")
        self.assertIn("too many operands", msg)

    def test_tokens_types_and_refusals(self):
        t = self.new_table("N", gsi=True)
        for i in range(4):
            self.ddb.put_item(TableName=t, Item={
                "pk": {"S": "p"}, "sk": {"N": str(i)}, "g": {"S": "x"},
                "v": [{"S": "s"}, {"N": "1"}, {"SS": ["a"]}, {"M": {}}][i]})
        stmt = 'SELECT * FROM "%s" WHERE pk = \'p\'' % t
        out = self.x(stmt, Limit=1)
        tok = out["NextToken"]
        # the same statement goes on, with another Limit or ConsistentRead
        self.assertEqual(len(self.x(stmt, Limit=2, NextToken=tok, ConsistentRead=True)["Items"]),
                         2)
        for other, kw in ((stmt + " AND sk > 0", {}),
                          ('SELECT * FROM "%s" WHERE pk = ?' % t, {"Parameters": [{"S": "p"}]}),
                          ('UPDATE "%s" SET n = 1 WHERE pk = \'p\' AND sk = 0' % t, {})):
            code, msg, _ = self.err(self.x, stmt=other, NextToken=tok, **kw)
            self.assertEqual((code, msg), ("ValidationException",
                                           "NextToken does not match request"), other)
        ptok = self.x('SELECT * FROM "%s" WHERE pk = ?' % t, Parameters=[{"S": "p"}],
                      Limit=1)["NextToken"]
        code, msg, _ = self.err(self.x, stmt='SELECT * FROM "%s" WHERE pk = ?' % t,
                                Parameters=[{"S": "q"}], NextToken=ptok)
        self.assertEqual(msg, "NextToken does not match request")
        # a token is good for an hour
        body = json.loads(base64.b64decode(tok))
        body["t"] -= 2 * 3600 * 1000
        code, msg, _ = self.err(self.x, stmt=stmt, NextToken=base64.b64encode(
            json.dumps(body).encode()).decode())
        self.assertEqual(msg, "Given NextToken has already expired")
        self.assertEqual(self.x(stmt + " AND sk = 0")["Items"][0]["v"], {"S": "s"})
        self.assertNotIn("NextToken", self.x(stmt + " AND sk = 0", Limit=5))
        # IS <type>: the DynamoDB type each PartiQL type stands for
        for pred, want in (("v IS STRING", [0]), ("v IS NUMBER", [1]), ("v IS DECIMAL", [1]),
                           ("v IS BAG", [2]), ("v IS TUPLE", [3]), ("v IS STRUCT", [3]),
                           ("v IS NOT BAG", [0, 1, 3]), ("NOT v IS STRING AND sk < 3", [1, 2]),
                           ("v IS NOT MISSING AND nope IS MISSING", [0, 1, 2, 3]),
                           ("v IS BOOL", []), ("v IS NULL", [])):
            out = self.x(stmt + " AND " + pred)
            self.assertEqual([int(i["sk"]["N"]) for i in out["Items"]], want, pred)
        # what PartiQL for DynamoDB refuses, with the service's words where known
        for bad, want in (
                ('SELECT COUNT(*) FROM "%s"', "Unexpected path component at 1:8:5"),
                ('SELECT v,\n size(v) FROM "%s"', "Unexpected path component at 2:2:4"),
                ('SELECT sk + 1 FROM "%s"', "arithmetic in a SELECT list"),
                ('SELECT * FROM "%s" WHERE sk < utcnow()', "function utcnow() is not supported"),
                ('SELECT * FROM "%s" WHERE v IS DATE', "MISSING, NULL or a type"),
                ('UPDATE "%s"."by-g" SET n = 1 WHERE pk = \'p\' AND sk = 0',
                 "This operation is not supported on an index"),
                ('DELETE FROM "%s"."by-g" WHERE pk = \'p\' AND sk = 0',
                 "This operation is not supported on an index"),
                ('INSERT INTO "%s"."by-g" VALUE {\'pk\': \'p\', \'sk\': 9}',
                 "This operation is not supported on an index"),
                ('DELETE FROM "%s" WHERE pk = \'p\' AND sk = 0 RETURNING ALL NEW *',
                 "Invalid returning clause: RETURNING ALL NEW *. Only RETURNING ALL OLD * is "
                 "allowed in DELETE statements."),
                ('SELECT * FROM "%s"."nope"', "The table does not have the specified index")):
            code, msg, _ = self.err(self.x, stmt=bad % t)
            self.assertEqual(code, "ValidationException", bad)
            self.assertIn(want, msg, bad)
        self.assertEqual(self.err(self.x, stmt='SELECT * FROM "%s"."nope"' % t)[1],
                         "The table does not have the specified index")
        # the expressions a statement becomes are not named in its errors
        for bad, want in (
                ('SELECT * FROM "%s" WHERE pk = \'p\' AND v < TRUE',
                 "Incorrect operand type for operator or function; operator or function: <, "
                 "operand type: BOOL"),
                ('SELECT * FROM "%s" WHERE v BETWEEN TRUE AND FALSE',
                 "Incorrect operand type for operator or function; operator or function: "
                 "BETWEEN, operand type: BOOL"),
                ('UPDATE "%s" SET n = v + \'x\' WHERE pk = \'p\' AND sk = 0',
                 "Incorrect operand type for operator or function; operator or function: +")):
            code, msg, _ = self.err(self.x, stmt=bad % t)
            self.assertEqual(code, "ValidationException", bad)
            self.assertTrue(msg.startswith(want), msg)
        r = self.ddb.batch_execute_statement(Statements=[{
            "Statement": 'UPDATE "%s" SET n = v + \'x\' WHERE pk = \'p\' AND sk = 0' % t}])
        self.assertEqual(r["Responses"][0]["Error"]["Code"], "ValidationError")
        self.assertTrue(r["Responses"][0]["Error"]["Message"].startswith("Incorrect operand"))
        code, msg, _ = self.err(self.x, stmt='SELECT * FROM "%s"."by-g" WHERE g = \'x\'' % t,
                                ConsistentRead=True)
        self.assertEqual((code, msg), ("ValidationException", "Strongly consistent read is "
                                       "not supported on Global Secondary Indexes"))
        self.assertEqual(len(self.get(t, {"pk": {"S": "p"}, "sk": {"N": "0"}})), 4)
        out = self.x('SELECT * FROM "%s"."by-g" WHERE g = \'x\'' % t,
                     ReturnConsumedCapacity="INDEXES")
        self.assertEqual(len(out["Items"]), 4)
        self.assertEqual(out["ConsumedCapacity"]["GlobalSecondaryIndexes"],
                         {"by-g": {"CapacityUnits": 0.5}})
        out = self.x('UPDATE "%s" SET n = 1 WHERE pk = \'p\' AND sk = 0' % t,
                     ReturnConsumedCapacity="INDEXES")
        self.assertEqual(out["ConsumedCapacity"]["Table"], {"CapacityUnits": 1.0})
        self.assertEqual(out["ConsumedCapacity"]["GlobalSecondaryIndexes"],
                         {"by-g": {"CapacityUnits": 1.0}})

    def test_index_projection(self):
        # a SELECT of an index names what the index holds (as DynamoDB's
        # PartiQL refuses otherwise); a local index fetches the rest
        t = "pq-" + uuid.uuid4().hex[:12]
        attrs = [{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "g", "l")]
        self.ddb.create_table(
            TableName=t, AttributeDefinitions=attrs, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                       {"AttributeName": "sk", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[
                {"IndexName": "g-keys", "Projection": {"ProjectionType": "KEYS_ONLY"},
                 "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}]},
                {"IndexName": "g-inc", "Projection": {"ProjectionType": "INCLUDE",
                                                      "NonKeyAttributes": ["v"]},
                 "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}]}],
            LocalSecondaryIndexes=[
                {"IndexName": "l-keys", "Projection": {"ProjectionType": "KEYS_ONLY"},
                 "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                               {"AttributeName": "l", "KeyType": "RANGE"}]}])
        self.ddb.put_item(TableName=t, Item={"pk": {"S": "p"}, "sk": {"S": "s"},
                                             "g": {"S": "x"}, "l": {"S": "y"},
                                             "v": {"S": "v"}, "w": {"S": "w"}})
        gproj = ("One or more parameter values were invalid: Global secondary index %s does "
                 "not project [%s]")
        fproj = ("One or more parameter values were invalid: Secondary index %s does not "
                 "project one or more filter attributes: [%s]")
        for stmt, want in (
                ('SELECT v FROM "%s"."g-keys" WHERE g = \'x\'', gproj % ("g-keys", "v")),
                ('SELECT pk, v.a, w, v FROM "%s"."g-keys"', gproj % ("g-keys", "v, w")),
                ('SELECT w FROM "%s"."g-inc" WHERE g = \'x\'', gproj % ("g-inc", "w")),
                ('SELECT * FROM "%s"."g-keys" WHERE g = \'x\' AND v = \'v\'',
                 fproj % ("g-keys", "v")),
                ('SELECT * FROM "%s"."g-inc" WHERE g IN [\'x\'] AND size(w) > 0',
                 fproj % ("g-inc", "w")),
                ('SELECT * FROM "%s"."l-keys" WHERE pk = \'p\' AND v = \'v\'',
                 fproj % ("l-keys", "v"))):
            code, msg, _ = self.err(self.x, stmt=stmt % t)
            self.assertEqual((code, msg), ("ValidationException", want), stmt)
        for stmt, want in (
                ('SELECT pk, sk, g FROM "%s"."g-keys" WHERE g = \'x\'',
                 [{"pk": {"S": "p"}, "sk": {"S": "s"}, "g": {"S": "x"}}]),
                ('SELECT v FROM "%s"."g-inc" WHERE g = \'x\' AND v = \'v\'',
                 [{"v": {"S": "v"}}]),
                ('SELECT * FROM "%s"."g-keys" WHERE v = \'v\'', []),  # a Scan: no match
                ('SELECT w FROM "%s"."l-keys" WHERE pk = \'p\'', [{"w": {"S": "w"}}])):
            self.assertEqual(self.x(stmt % t)["Items"], want, stmt)

    # -- INSERT, UPDATE, DELETE -------------------------------------------------

    def test_insert(self):
        t = self.new_table("N")
        out = self.x("INSERT INTO \"%s\" VALUE {'pk': 'k', 'sk': 1, 'n': -2.5, 'b': true, "
                     "'z': null, 'l': [1, 'two', [3]], 'ss': <<'x', 'y'>>, 'ns': <<1, 2>>, "
                     "'m': {'it''s': 'q'}, 'p': ?}" % t, Parameters=[{"B": b"\x00\x01"}])
        self.assertEqual(out["Items"], [])
        item = self.get(t, {"pk": {"S": "k"}, "sk": {"N": "1"}})
        self.assertEqual(item["n"], {"N": "-2.5"})
        self.assertEqual(item["b"], {"BOOL": True})
        self.assertEqual(item["z"], {"NULL": True})
        self.assertEqual(item["l"], {"L": [{"N": "1"}, {"S": "two"}, {"L": [{"N": "3"}]}]})
        self.assertEqual(sorted(item["ss"]["SS"]), ["x", "y"])
        self.assertEqual(sorted(item["ns"]["NS"]), ["1", "2"])
        self.assertEqual(item["m"], {"M": {"it's": {"S": "q"}}})
        self.assertEqual(item["p"], {"B": b"\x00\x01"})
        code, msg, _ = self.err(self.x, stmt="INSERT INTO \"%s\" VALUE {'pk': 'k', 'sk': 1}" % t)
        self.assertEqual((code, msg), ("DuplicateItemException",
                                       "Duplicate primary key exists in table"))
        code, _, _ = self.err(self.x, stmt="INSERT INTO \"%s\" VALUE {'pk': 'k'}" % t)
        self.assertEqual(code, "ValidationException")
        self.assertEqual(self.get(t, {"pk": {"S": "k"}, "sk": {"N": "1"}})["n"], {"N": "-2.5"})
        code, _, _ = self.err(self.x, stmt="INSERT INTO \"nope-%s\" VALUE {'pk': 'k'}" % t)
        self.assertEqual(code, "ResourceNotFoundException")
        code, _, _ = self.err(self.x, stmt="INSERT INTO \"%s\" VALUE 'x'" % t)
        self.assertEqual(code, "ValidationException")
        # a table's ARN names the table
        arn = self.ddb.describe_table(TableName=t)["Table"]["TableArn"]
        self.x("INSERT INTO \"%s\" VALUE {'pk': 'arn', 'sk': 2}" % arn)
        self.assertEqual(self.x("SELECT sk FROM \"%s\" WHERE pk = 'arn'" % arn)["Items"],
                         [{"sk": {"N": "2"}}])
        code, msg, _ = self.err(self.x, stmt="SELECT * FROM \"%s\"" %
                                arn.replace(":us-east-1:", ":eu-west-3:"))
        self.assertEqual(code, "ResourceNotFoundException")

    def test_update(self):
        t = self.new_table("N")
        self.fill(t, 2)
        k0 = {"pk": {"S": "a"}, "sk": {"N": "0"}}
        out = self.x('UPDATE "%s" SET n = 1 SET v = ? REMOVE m WHERE pk = \'a\' AND sk = 0' % t,
                     Parameters=[{"S": "new"}])
        self.assertEqual(out["Items"], [])
        item = self.get(t, k0)
        self.assertEqual((item["n"], item["v"]), ({"N": "1"}, {"S": "new"}))
        self.assertNotIn("m", item)
        self.x('UPDATE "%s" SET n = n + 5, l = list_append([0], [1]) SET tags = set_add(tags, '
               '<<\'z\'>>) WHERE pk = \'a\' AND sk = 0' % t)
        self.x('UPDATE "%s" SET l = list_append(l, [2]) SET tags = set_delete(tags, <<\'all\'>>) '
               'SET c = if_not_exists(c, 7) SET n = n - 1 WHERE pk = \'a\' AND sk = 0' % t)
        item = self.get(t, k0)
        self.assertEqual(item["n"], {"N": "5"})
        self.assertEqual(item["l"], {"L": [{"N": "0"}, {"N": "1"}, {"N": "2"}]})
        self.assertEqual(sorted(item["tags"]["SS"]), ["t0", "z"])
        self.assertEqual(item["c"], {"N": "7"})
        out = self.x('UPDATE "%s" SET n = 9 WHERE pk = \'a\' AND sk = 0 RETURNING ALL OLD *' % t)
        self.assertEqual(out["Items"][0]["n"], {"N": "5"})
        out = self.x('UPDATE "%s" SET n = 10 WHERE pk = \'a\' AND sk = 0 RETURNING MODIFIED NEW *'
                     % t)
        self.assertEqual(out["Items"], [{"n": {"N": "10"}}])
        # a condition beside the key
        self.x('UPDATE "%s" SET n = 11 WHERE pk = \'a\' AND sk = 0 AND n = 10' % t)
        code, msg, e = self.err(self.x, stmt='UPDATE "%s" SET n = 12 WHERE pk = \'a\' AND sk = 0 '
                                'AND n = 10' % t, ReturnValuesOnConditionCheckFailure="ALL_OLD")
        self.assertEqual(code, "ConditionalCheckFailedException")
        self.assertEqual(e["Item"]["n"], {"N": "11"})
        # a missing item is not created
        code, _, _ = self.err(self.x, stmt='UPDATE "%s" SET n = 1 WHERE pk = \'zz\' AND sk = 0' % t)
        self.assertEqual(code, "ConditionalCheckFailedException")
        self.assertIsNone(self.get(t, {"pk": {"S": "zz"}, "sk": {"N": "0"}}))
        # the key must be whole
        code, msg, _ = self.err(self.x, stmt='UPDATE "%s" SET n = 1 WHERE pk = \'a\'' % t)
        self.assertEqual((code, msg), (
            "ValidationException",
            "Where clause does not contain a mandatory equality on all key attributes"))
        code, msg, _ = self.err(self.x, stmt='UPDATE "%s" SET sk = 1 WHERE pk = \'a\' AND sk = 0' % t)
        self.assertEqual(code, "ValidationException")
        self.assertEqual(self.get(t, k0)["n"], {"N": "11"})

    def test_delete(self):
        t = self.new_table("N")
        self.fill(t, 3)
        out = self.x('DELETE FROM "%s" WHERE pk = \'a\' AND sk = 0' % t)
        self.assertEqual(out["Items"], [])
        self.assertIsNone(self.get(t, {"pk": {"S": "a"}, "sk": {"N": "0"}}))
        out = self.x('DELETE FROM "%s" WHERE pk = \'a\' AND sk = 1 RETURNING ALL OLD *' % t)
        self.assertEqual(out["Items"][0]["v"], {"S": "v1"})
        code, _, e = self.err(self.x, stmt='DELETE FROM "%s" WHERE pk = \'a\' AND sk = 2 AND '
                              'v = \'nope\'' % t)
        self.assertEqual(code, "ConditionalCheckFailedException")
        self.assertNotIn("Item", e)
        # the item as it stands comes back with the refusal when asked for
        code, _, e = self.err(self.x, stmt='DELETE FROM "%s" WHERE pk = \'a\' AND sk = 2 AND '
                              'v = \'nope\'' % t, ReturnValuesOnConditionCheckFailure="ALL_OLD")
        self.assertEqual(code, "ConditionalCheckFailedException")
        self.assertEqual(e["Item"]["v"], {"S": "v2"})
        self.assertIsNotNone(self.get(t, {"pk": {"S": "a"}, "sk": {"N": "2"}}))
        # deleting what is not there is not an error, whatever the WHERE says
        self.x('DELETE FROM "%s" WHERE pk = \'a\' AND sk = 99' % t)
        out = self.x('DELETE FROM "%s" WHERE pk = \'a\' AND sk = 99 AND v = \'x\' '
                     'RETURNING ALL OLD *' % t)
        self.assertEqual(out["Items"], [])
        self.x('DELETE FROM "%s" WHERE pk = \'a\' AND sk = 2 AND begins_with(v, \'v\')' % t)
        self.assertIsNone(self.get(t, {"pk": {"S": "a"}, "sk": {"N": "2"}}))
        code, _, _ = self.err(self.x, stmt='DELETE FROM "%s" WHERE pk = \'a\'' % t)
        self.assertEqual(code, "ValidationException")
        code, _, _ = self.err(self.x, stmt='DELETE FROM "%s" WHERE pk = \'a\' AND sk = 2 '
                              'RETURNING ALL NEW *' % t)
        self.assertEqual(code, "ValidationException")

    # -- errors ------------------------------------------------------------------

    def test_errors(self):
        t = self.new_table("N")
        self.fill(t, 1)
        bad = ["SELEC * FROM \"%s\"" % t, "SELECT * FROM", "SELECT * FROM \"%s\" WHERE" % t,
               "SELECT * FROM \"%s\" WHERE pk = 'unterminated" % t, "UPDATE \"%s\"" % t,
               "SELECT * FROM \"%s\" extra" % t, "DROP TABLE x", "SELECT * FROM \"%s\" WHERE "
               "pk = <<1, 'a'>>" % t, "SELECT * FROM \"%s\" WHERE pk = {'a': 1, 'a': 2}" % t,
               "INSERT INTO \"%s\".\"ix\" VALUE {'pk': 'a'}" % t, "SELECT * FROM \"%s\" WHERE "
               "a[x] = 1" % t, "SELECT * FROM \"%s\" WHERE pk = @" % t, "EXISTS(SELECT * FROM "
               "\"%s\" WHERE pk = 'a')" % t, "SELECT * FROM \"%s\" WHERE pk IS 3" % t,
               "UPDATE \"%s\" SET n = set_add(other, <<1>>) WHERE pk = 'a' AND sk = 0" % t,
               "SELECT * FROM \"%s\" WHERE " % t + "(" * 100 + "pk = 'a'" + ")" * 100,
               "SELECT * FROM \"\"", "SELECT * FROM \"%s\" WHERE pk = 'a' ORDER BY v" % t,
               "SELECT * FROM \"%s\" ORDER BY sk" % t]
        for stmt in bad:
            code, msg, _ = self.err(self.x, stmt=stmt)
            self.assertEqual(code, "ValidationException", stmt)
        code, msg, _ = self.err(self.x, stmt="SELEC * FROM x")
        self.assertTrue(msg.startswith("Statement wasn't well formed, can't be processed"), msg)
        code, msg, _ = self.err(self.x, stmt="SELECT * FROM \"%s\" WHERE pk = ?" % t)
        self.assertEqual(msg, "Number of parameters in request and statement don't match.")
        code, msg, _ = self.err(self.x, stmt="SELECT * FROM \"%s\" WHERE pk = ?" % t,
                                Parameters=[{"S": "a"}, {"S": "b"}])
        self.assertEqual(msg, "Number of parameters in request and statement don't match.")
        code, msg, _ = self.err(self.x, stmt="SELECT * FROM \"%s\" WHERE pk = ?" % t,
                                Parameters=[{"N": "not a number"}])
        self.assertEqual(code, "ValidationException")
        code, msg, _ = self.err(self.x, stmt="SELECT * FROM \"nope-%s\"" % t)
        self.assertEqual(code, "ResourceNotFoundException")
        code, msg, _ = self.err(self.x, stmt="x" * 8193)
        self.assertIn("Member must have length less than or equal to 8192", msg)
        # the 8192 are characters: a statement of 8192 two-byte ones is taken
        head = "SELECT * FROM \"%s\" WHERE pk = 'a' AND x = '" % t
        self.x(stmt=head + "é" * (8192 - len(head) - 1) + "'")
        code, msg, _ = self.err(self.x, stmt=head + "é" * (8192 - len(head)) + "'")
        self.assertTrue(msg.endswith("at 'statement' failed to satisfy constraint: Member must "
                                     "have length less than or equal to 8192"), msg)
        code, msg, _ = self.err(self.x, stmt="SELECT * FROM \"%s\"" % t, Limit=0)
        self.assertEqual(code, "ValidationException")
        code, msg, _ = self.err(self.x, stmt="SELECT * FROM \"%s\" WHERE pk = 'a' AND sk = 0"
                                % t, ReturnValuesOnConditionCheckFailure="SOME")
        self.assertEqual(code, "ValidationException")
        # ORDER BY needs a key condition; a filter naming the sort key makes a Scan
        code, msg, _ = self.err(self.x, stmt="SELECT * FROM \"%s\" WHERE pk = 'a' AND sk <> 1 "
                                "ORDER BY sk" % t)
        self.assertEqual(code, "ValidationException")
        self.assertEqual(self.x("SELECT sk FROM \"%s\" WHERE pk = 'a' AND sk <> 1" % t)["Items"],
                         [{"sk": {"N": "0"}}])
        # one key attribute pinned twice is no key
        code, msg, _ = self.err(self.x, stmt="DELETE FROM \"%s\" WHERE pk = 'a' AND pk = 'b' "
                                "AND sk = 0" % t)
        self.assertEqual(code, "ValidationException")
        code, msg, _ = self.err(self.x, stmt="SELECT * FROM \"%s\" WHERE " % t +
                                " AND ".join("a%d = 1" % i for i in range(70)))
        self.assertIn("too many terms", msg)
        self.assertEqual(self.raw_type("ExecuteStatement", {"Statement": 3}),
                         "SerializationException")
        self.assertEqual(self.raw_type("ExecuteStatement", {"Statement": "SELECT * FROM \"%s\""
                                                            % t, "Parameters": "x"}),
                         "SerializationException")
        code, msg, _ = self.err(self.ddb.execute_statement)
        self.assertEqual(code, "ValidationException")
        self.assertIn("statement", msg)
        code, msg, _ = self.err(self.x, stmt="SELECT * FROM \"%s\"" % t, Parameters=[])
        self.assertIn("Value '[]' at 'parameters' failed to satisfy constraint", msg)
        code, msg, _ = self.err(self.ddb.batch_execute_statement, Statements=[
            {"Statement": "SELECT * FROM \"%s\"" % t, "Parameters": []}])
        self.assertIn("at 'statements.1.member.parameters'", msg)
        code, msg, _ = self.err(self.ddb.execute_transaction, TransactStatements=[
            {"Statement": "DELETE FROM \"%s\" WHERE pk = 'a' AND sk = 0" % t,
             "ReturnValuesOnConditionCheckFailure": "SOME"}])
        self.assertIn("at 'transactStatements.1.member.returnValuesOnConditionCheckFailure'", msg)
        code, msg, _ = self.err(self.ddb.execute_transaction, TransactStatements=[
            {"Statement": "SELECT * FROM \"%s\" WHERE pk = 'a' AND sk = 0" % t}] * 101)
        self.assertIn("Value '[...]' at 'transactStatements' failed to satisfy constraint: "
                      "Member must have length less than or equal to 100", msg)

    # -- BatchExecuteStatement ------------------------------------------------------

    def test_path_components_and_transaction_refusals(self):
        t = self.new_table("N", gsi=True)
        for stmt, msg in [
                ('SELECT * FROM "" WHERE pk = \'p\'', "Path component cannot be an empty string"),
                ('SELECT * FROM "%s"."" WHERE pk = \'p\'' % t,
                 "Path component cannot be an empty string"),
                ('SELECT * FROM "%s"."by-g"."extra" WHERE pk = \'p\'' % t,
                 "A path may contain at most 2 components in the FROM clause")]:
            code, got, _ = self.err(self.x, stmt=stmt)
            self.assertEqual((code, got), ("ValidationException", msg), stmt)
        # a transaction names the statement it cannot run
        for stmts, msg in [
                (["UPDATE \"%s\" SET v = 'x' WHERE pk = 'a' AND sk = 0 RETURNING ALL NEW *" % t],
                 "Validation failed in TransactStatements[0]: RETURNING clause is not supported "
                 "in ExecuteTransaction."),
                (["SELECT * FROM \"%s\" WHERE pk = 'a' AND sk = 0" % t,
                  "SELECT * FROM \"%s\".\"by-g\" WHERE g = 'x'" % t],
                 "Validation failed in TransactStatements[1]: Reads on indices are not supported "
                 "within transactions.")]:
            code, got, _ = self.err(self.ddb.execute_transaction,
                                    TransactStatements=[{"Statement": x} for x in stmts])
            self.assertEqual((code, got), ("ValidationException", msg))

    def test_batch(self):
        t = self.new_table("N")
        self.fill(t, 5)
        out = self.ddb.batch_execute_statement(Statements=[
            {"Statement": "INSERT INTO \"%s\" VALUE {'pk': 'n', 'sk': 1}" % t},
            {"Statement": "INSERT INTO \"%s\" VALUE {'pk': 'b', 'sk': 4}" % t},
            {"Statement": "UPDATE \"%s\" SET v = 'w' WHERE pk = ? AND sk = 1" % t,
             "Parameters": [{"S": "a"}]},
            {"Statement": "UPDATE \"%s\" SET v = 'w' WHERE pk = 'a' AND sk = 2 AND v = 'q'" % t,
             "ReturnValuesOnConditionCheckFailure": "ALL_OLD"},
            {"Statement": "DELETE FROM \"%s\" WHERE pk = 'a' AND sk = 0" % t},
            {"Statement": "DELETE FROM \"%s\" WHERE pk = 'a'" % t},
            {"Statement": "NOT PARTIQL"},
        ], ReturnConsumedCapacity="TOTAL")
        r = out["Responses"]
        self.assertEqual(len(r), 7)
        self.assertEqual(r[0], {"TableName": t})
        self.assertEqual(r[1]["Error"]["Code"], "DuplicateItem")
        self.assertEqual(r[2], {"TableName": t})
        self.assertEqual(r[3]["Error"]["Code"], "ConditionalCheckFailed")
        self.assertEqual(r[3]["Error"]["Item"]["v"], {"S": "v2"})
        self.assertEqual(r[4], {"TableName": t})
        self.assertEqual(r[5]["Error"]["Code"], "ValidationError")
        self.assertEqual(r[6]["Error"]["Code"], "ValidationError")
        self.assertEqual([c["TableName"] for c in out["ConsumedCapacity"]], [t])
        self.assertIsNone(self.get(t, {"pk": {"S": "a"}, "sk": {"N": "0"}}))
        self.assertEqual(self.get(t, {"pk": {"S": "a"}, "sk": {"N": "1"}})["v"], {"S": "w"})
        self.assertIsNotNone(self.get(t, {"pk": {"S": "n"}, "sk": {"N": "1"}}))
        out = self.ddb.batch_execute_statement(Statements=[
            {"Statement": "SELECT v FROM \"%s\" WHERE pk = 'a' AND sk = 1" % t},
            {"Statement": "SELECT * FROM \"%s\" WHERE pk = 'a' AND sk = 0" % t},
            {"Statement": "SELECT * FROM \"%s\" WHERE pk = 'a'" % t},
            {"Statement": "SELECT * FROM \"nope-%s\" WHERE pk = 'a' AND sk = 1" % t},
            {"Statement": "SELECT v FROM \"%s\" WHERE pk = ? AND sk = ?" % t,
             "Parameters": [{"S": "a"}, {"N": "2"}], "ConsistentRead": True},
        ])
        r = out["Responses"]
        self.assertEqual(r[0], {"TableName": t, "Item": {"v": {"S": "w"}}})
        self.assertEqual(r[1], {"TableName": t})
        self.assertEqual(r[2]["Error"]["Code"], "ValidationError")
        self.assertEqual(r[3]["Error"]["Code"], "ResourceNotFound")
        self.assertEqual(r[4], {"TableName": t, "Item": {"v": {"S": "v2"}}})
        code, msg, _ = self.err(self.ddb.batch_execute_statement, Statements=[
            {"Statement": "SELECT v FROM \"%s\" WHERE pk = 'a' AND sk = 1" % t},
            {"Statement": "DELETE FROM \"%s\" WHERE pk = 'a' AND sk = 1" % t}])
        self.assertEqual(code, "ValidationException")
        self.assertIsNotNone(self.get(t, {"pk": {"S": "a"}, "sk": {"N": "1"}}))
        for n in (0, 26):
            code, msg, _ = self.err(self.ddb.batch_execute_statement, Statements=[
                {"Statement": "SELECT v FROM \"%s\" WHERE pk = 'a' AND sk = 1" % t}] * n)
            self.assertEqual(code, "ValidationException")
        code, msg, _ = self.err(self.ddb.batch_execute_statement, Statements=[{"Statement": ""}])
        self.assertEqual(code, "ValidationException")
        self.assertEqual(self.raw_type("BatchExecuteStatement", {"Statements": ["SELECT"]}),
                         "SerializationException")
        code, msg, _ = self.err(self.ddb.batch_execute_statement)
        self.assertEqual(code, "ValidationException")
        code, msg, _ = self.err(self.ddb.batch_execute_statement, Statements=[
            {"Statement": "DELETE FROM \"%s\" WHERE pk = 'a' AND sk = 1" % t,
             "ReturnValuesOnConditionCheckFailure": "SOME"}])
        self.assertEqual(code, "ValidationException")
        out = self.ddb.batch_execute_statement(Statements=[
            {"Statement": "SELECT * FROM \"%s\".\"ix\" WHERE pk = 'a' AND sk = 1" % t}])
        self.assertEqual(out["Responses"][0]["Error"]["Code"], "ValidationError")

    def test_batch_side_by_side(self):
        # 25 writes on two tables, from four callers at once: every statement
        # answers in its place, each table's capacity adds up
        t, u = self.new_table("N"), self.new_table()
        errors = []

        def one(c):
            try:
                stmts = [{"Statement": "INSERT INTO \"%s\" VALUE {'pk': 'c%d', 'sk': %d}"
                          % (t, c, i)} for i in range(20)]
                stmts += [{"Statement": "INSERT INTO \"%s\" VALUE {'pk': 'c%d-%d'}" % (u, c, i)}
                          for i in range(4)]
                stmts.append({"Statement": "INSERT INTO \"%s\" VALUE {'pk': 'pre', 'sk': %d}"
                              % (t, c)})
                out = self.ddb.batch_execute_statement(Statements=stmts,
                                                       ReturnConsumedCapacity="TOTAL")
                r = out["Responses"]
                self.assertEqual(r[:20], [{"TableName": t}] * 20)
                self.assertEqual(r[20:24], [{"TableName": u}] * 4)
                self.assertEqual(r[24]["Error"]["Code"], "DuplicateItem")
                cc = {e["TableName"]: e["CapacityUnits"] for e in out["ConsumedCapacity"]}
                self.assertEqual(cc[u], 4.0)
                self.assertEqual(cc[t], 21.0)  # 20 writes and the refused INSERT's
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)

        for c in range(4):
            self.ddb.put_item(TableName=t, Item={"pk": {"S": "pre"}, "sk": {"N": str(c)}})
        threads = [threading.Thread(target=one, args=(c,)) for c in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(60)
        self.assertEqual(errors, [])
        self.assertEqual(self.ddb.scan(TableName=t, Select="COUNT")["Count"], 84)
        # a failed condition costs the write it attempted, sized on the larger of
        # the item there and the one brought, on the table's total alone; a
        # table none of whose statements succeeded gets no entry
        self.ddb.put_item(TableName=t, Item={"pk": {"S": "big"}, "sk": {"N": "0"},
                                             "b": {"S": "x" * 2500}})
        out = self.ddb.batch_execute_statement(Statements=[
            {"Statement": "INSERT INTO \"%s\" VALUE {'pk': 'big', 'sk': 0}" % t},
            {"Statement": "INSERT INTO \"%s\" VALUE {'pk': 'big', 'sk': 1}" % t},
            {"Statement": "UPDATE \"%s\" SET n = 1 WHERE pk = 'pre' AND sk = 0 AND n = 5" % t},
            {"Statement": "INSERT INTO \"%s\" VALUE {'pk': 'c0-0'}" % u}],
            ReturnConsumedCapacity="INDEXES")
        self.assertEqual([r.get("Error", {}).get("Code") for r in out["Responses"]],
                         ["DuplicateItem", None, "ConditionalCheckFailed", "DuplicateItem"])
        self.assertNotIn("Item", out["Responses"][0]["Error"])
        self.assertEqual(out["ConsumedCapacity"], [
            {"TableName": t, "CapacityUnits": 5.0, "Table": {"CapacityUnits": 1.0}}])
        self.assertEqual(self.ddb.scan(TableName=u, Select="COUNT")["Count"], 16)

    def test_batch_one_item_twice(self):
        t = self.new_table("N")
        self.fill(t, 2)
        for stmts in (
                ["UPDATE \"%s\" SET v = 'x' WHERE pk = 'a' AND sk = 1",
                 "DELETE FROM \"%s\" WHERE sk = 1.0 AND pk = 'a'"],
                ["INSERT INTO \"%s\" VALUE {'pk': 'n', 'sk': 5}",
                 "UPDATE \"%s\" SET v = 'x' WHERE pk = 'n' AND sk = 5"],
                ["SELECT * FROM \"%s\" WHERE pk = 'a' AND sk = 0",
                 "SELECT v FROM \"%s\" WHERE pk = 'a' AND sk = 0"]):
            code, msg, _ = self.err(self.ddb.batch_execute_statement,
                                    Statements=[{"Statement": s % t} for s in stmts])
            self.assertEqual((code, msg), ("ValidationException",
                                           "Provided list of item keys contains duplicates"))
        self.assertEqual(self.get(t, {"pk": {"S": "a"}, "sk": {"N": "1"}})["v"], {"S": "v1"})
        self.assertIsNone(self.get(t, {"pk": {"S": "n"}, "sk": {"N": "5"}}))
        # the same key on another table, or a statement naming no item, is no duplicate
        u = self.new_table("N")
        out = self.ddb.batch_execute_statement(Statements=[
            {"Statement": "UPDATE \"%s\" SET v = 'x' WHERE pk = 'a' AND sk = 1" % t},
            {"Statement": "INSERT INTO \"%s\" VALUE {'pk': 'a', 'sk': 1}" % u},
            {"Statement": "INSERT INTO \"%s\" VALUE {'sk': 1}" % u},
            {"Statement": "INSERT INTO \"%s\" VALUE {'sk': 1}" % u}])
        self.assertEqual(out["Responses"][:2], [{"TableName": t}, {"TableName": u}])
        self.assertEqual(out["Responses"][2]["Error"]["Code"], "ValidationError")

    # -- ExecuteTransaction ---------------------------------------------------------

    def test_transaction(self):
        t, u = self.new_table("N"), self.new_table()
        self.fill(t, 2)
        self.ddb.put_item(TableName=u, Item={"pk": {"S": "acct"}, "bal": {"N": "10"}})
        self.ddb.execute_transaction(TransactStatements=[
            {"Statement": "INSERT INTO \"%s\" VALUE {'pk': 'n', 'sk': 5}" % t},
            {"Statement": "UPDATE \"%s\" SET bal = bal - ? WHERE pk = 'acct' AND bal >= ?" % u,
             "Parameters": [{"N": "4"}, {"N": "4"}]},
            {"Statement": "DELETE FROM \"%s\" WHERE pk = 'a' AND sk = 0" % t},
            {"Statement": "EXISTS(SELECT * FROM \"%s\" WHERE pk = 'a' AND sk = 1 AND v = 'v1')"
             % t},
        ], ClientRequestToken="tok-1")
        self.assertEqual(self.get(u, {"pk": {"S": "acct"}})["bal"], {"N": "6"})
        self.assertIsNone(self.get(t, {"pk": {"S": "a"}, "sk": {"N": "0"}}))
        # the same token and statements: answered again, not run again
        self.ddb.execute_transaction(TransactStatements=[
            {"Statement": "INSERT INTO \"%s\" VALUE {'pk': 'n', 'sk': 5}" % t},
            {"Statement": "UPDATE \"%s\" SET bal = bal - ? WHERE pk = 'acct' AND bal >= ?" % u,
             "Parameters": [{"N": "4"}, {"N": "4"}]},
            {"Statement": "DELETE FROM \"%s\" WHERE pk = 'a' AND sk = 0" % t},
            {"Statement": "EXISTS(SELECT * FROM \"%s\" WHERE pk = 'a' AND sk = 1 AND v = 'v1')"
             % t},
        ], ClientRequestToken="tok-1")
        self.assertEqual(self.get(u, {"pk": {"S": "acct"}})["bal"], {"N": "6"})
        code, _, e = self.err(self.ddb.execute_transaction, TransactStatements=[
            {"Statement": "DELETE FROM \"%s\" WHERE pk = 'a' AND sk = 1" % t}],
            ClientRequestToken="tok-1")
        self.assertEqual(code, "IdempotentParameterMismatchException")
        self.assertIn("Message", e)  # as the service model names it
        # all or nothing: a duplicate INSERT cancels the rest
        code, msg, e = self.err(self.ddb.execute_transaction, TransactStatements=[
            {"Statement": "UPDATE \"%s\" SET bal = 0 WHERE pk = 'acct'" % u},
            {"Statement": "INSERT INTO \"%s\" VALUE {'pk': 'n', 'sk': 5}" % t},
            {"Statement": "UPDATE \"%s\" SET v = 'x' WHERE pk = 'a' AND sk = 1 AND v = 'no'" % t,
             "ReturnValuesOnConditionCheckFailure": "ALL_OLD"},
        ])
        self.assertEqual(code, "TransactionCanceledException")
        reasons = e["CancellationReasons"]
        self.assertEqual([r["Code"] for r in reasons],
                         ["None", "DuplicateItem", "ConditionalCheckFailed"])
        self.assertEqual(reasons[2]["Item"]["v"], {"S": "v1"})
        self.assertIn("[None, DuplicateItem, ConditionalCheckFailed]", msg)
        self.assertEqual(self.get(u, {"pk": {"S": "acct"}})["bal"], {"N": "6"})
        # reads
        out = self.ddb.execute_transaction(TransactStatements=[
            {"Statement": "SELECT bal FROM \"%s\" WHERE pk = 'acct'" % u},
            {"Statement": "SELECT * FROM \"%s\" WHERE pk = 'a' AND sk = 0" % t},
        ], ReturnConsumedCapacity="TOTAL")
        self.assertEqual(out["Responses"], [{"Item": {"bal": {"N": "6"}}}, {}])
        self.assertIn("ConsumedCapacity", out)
        for stmts in ([{"Statement": "SELECT * FROM \"%s\" WHERE pk = 'a'" % t}],
                      [{"Statement": "SELECT * FROM \"%s\" WHERE pk = 'acct'" % u},
                       {"Statement": "DELETE FROM \"%s\" WHERE pk = 'acct'" % u}],
                      [{"Statement": "DELETE FROM \"%s\" WHERE pk = 'acct' RETURNING ALL OLD *"
                        % u}],
                      [{"Statement": "bad"}], [], [{"Statement": "x"}] * 101):
            code, _, _ = self.err(self.ddb.execute_transaction, TransactStatements=stmts)
            self.assertEqual(code, "ValidationException", stmts[:1])
        code, _, _ = self.err(self.ddb.execute_transaction, TransactStatements=[
            {"Statement": "DELETE FROM \"nope-%s\" WHERE pk = 'acct'" % u}])
        self.assertEqual(code, "ResourceNotFoundException")
        self.assertEqual(self.raw_type("ExecuteTransaction", {"TransactStatements": ["x"]}),
                         "SerializationException")
        code, _, _ = self.err(self.ddb.execute_transaction)
        self.assertEqual(code, "ValidationException")
        out = self.ddb.execute_transaction(TransactStatements=[
            {"Statement": "UPDATE \"%s\" SET n = 1 WHERE pk = 'acct'" % u},
            {"Statement": "INSERT INTO \"%s\" VALUE {'pk': 'other'}" % u}],
            ReturnConsumedCapacity="TOTAL")
        self.assertEqual([c["TableName"] for c in out["ConsumedCapacity"]], [u])
        self.assertEqual(out["Responses"], [])  # writes: an empty list, as DynamoDB answers
        self.assertIsNotNone(self.get(u, {"pk": {"S": "acct"}}))

    # -- other clients ---------------------------------------------------------------

    def client(self, name):
        c = next(c for c in find_clients() if c.name == name)
        if c.missing:
            self.skipTest(c.missing)
        return c

    def test_aws_cli_v2(self):
        c = self.client("aws-cli-v2")
        t = self.new_table()
        env = self.server.env()

        def cli(*args):
            p = subprocess.run(c.argv + ["--endpoint-url", env["TANDEM_ENDPOINT"], "--output",
                                         "json", "dynamodb", "execute-statement", "--statement"]
                               + list(args), env=env, capture_output=True, text=True,
                               timeout=120)
            return p.returncode, json.loads(p.stdout) if p.returncode == 0 else p.stderr

        rc, out = cli("INSERT INTO \"%s\" VALUE {'pk': 'cli', 'n': 1, 'l': [1, 2]}" % t)
        self.assertEqual(rc, 0, out)
        rc, out = cli("SELECT n FROM \"%s\" WHERE pk = ?" % t, "--parameters", '[{"S": "cli"}]')
        self.assertEqual((rc, out["Items"]), (0, [{"n": {"N": "1"}}]))
        rc, out = cli("SELECT l[1] FROM \"%s\" WHERE pk = 'cli' AND n IS NUMBER AND l IS LIST "
                      "AND nope IS MISSING" % t, "--return-consumed-capacity", "TOTAL")
        self.assertEqual((rc, out["Items"]), (0, [{"l": {"L": [{"N": "2"}]}}]))
        self.assertEqual(out["ConsumedCapacity"]["CapacityUnits"], 0.5)
        # a NextToken answers only the statement that made it
        rc, out = cli("SELECT * FROM \"%s\"" % t, "--limit", "1")
        self.assertEqual(rc, 0, out)
        rc, err = cli("SELECT pk FROM \"%s\"" % t, "--limit", "1", "--next-token",
                      out["NextToken"])
        self.assertNotEqual(rc, 0)
        self.assertIn("ValidationException", err)
        self.assertIn("NextToken does not match request", err)
        rc, err = cli("SELECT COUNT(*) FROM \"%s\"" % t)
        self.assertIn("ValidationException", err)
        self.assertIn("Unexpected path component at 1:8:5", err)
        # a partition key IN: 10 values' partitions a page; 51 values refused
        keys = ", ".join("'k%02d'" % i for i in range(51))
        rc, err = cli("SELECT pk FROM \"%s\" WHERE pk IN [%s]" % (t, keys))
        self.assertIn("ValidationException", err)
        self.assertIn("IN operator on the partition key [pk] has 51 values; at most 50", err)
        for i in range(12):
            self.ddb.put_item(TableName=t, Item={"pk": {"S": "k%02d" % i}})
        rc, out = cli("SELECT pk FROM \"%s\" WHERE pk IN [%s]" % (t, keys[:-7]))
        self.assertEqual(rc, 0, out)
        self.assertEqual([i["pk"]["S"] for i in out["Items"]], ["k%02d" % i for i in range(10)])
        self.assertIn("NextToken", out)

    def test_js_sdk_v3(self):
        c = self.client("js-sdk-v3")
        t = self.new_table()
        self.ddb.put_item(TableName=t, Item={"pk": {"S": "js"}, "n": {"N": "3"}})
        p = subprocess.run(c.argv + ["ExecuteStatement", json.dumps(
            {"Statement": "SELECT n FROM \"%s\" WHERE pk = ?" % t,
             "Parameters": [{"S": "js"}]})], env=self.server.env(), capture_output=True,
            text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(json.loads(p.stdout)["Items"], [{"n": {"N": "3"}}])


def first_allowed(c, stmt):
    """@stmt's answer once the caller's new policy is in force (within 10 s)."""
    deadline = time.time() + 10
    while True:
        try:
            return c.execute_statement(Statement=stmt)
        except c.exceptions.ClientError:
            if time.time() > deadline:
                raise
            time.sleep(0.2)


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


class PartiQLAuthz(ServerTestCase):
    server_args = {"account": ACCOUNT}

    def test_partiql_actions(self):
        ddb = self.server.boto3()
        for t in ("pq-a", "pq-b"):
            ddb.create_table(TableName=t, BillingMode="PAY_PER_REQUEST",
                             AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                             KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
            ddb.put_item(TableName=t, Item={"pk": {"S": "1"}})
        arn = "arn:aws:dynamodb:%s:%s:table/%%s" % (self.server.region, ACCOUNT)
        iam = self.server.boto3("iam")
        iam.create_user(UserName="pq")
        iam.put_user_policy(UserName="pq", PolicyName="p", PolicyDocument=policy(
            {"Effect": "Allow", "Action": ["dynamodb:PartiQLSelect", "dynamodb:PartiQLInsert"],
             "Resource": arn % "pq-a"}))
        k = iam.create_access_key(UserName="pq")["AccessKey"]
        c = self.server.boto3(access_key=k["AccessKeyId"], secret_key=k["SecretAccessKey"])
        out = first_allowed(c, "SELECT * FROM \"pq-a\"")
        self.assertEqual(out["Items"], [{"pk": {"S": "1"}}])
        c.execute_statement(Statement="INSERT INTO \"pq-a\" VALUE {'pk': '2'}")

        def denied(stmt):
            with self.assertRaises(c.exceptions.ClientError) as cm:
                c.execute_statement(Statement=stmt)
            self.assertEqual(cm.exception.response["Error"]["Code"], "AccessDeniedException")
            return cm.exception.response["Error"]["Message"]

        self.assertIn("dynamodb:PartiQLSelect", denied("SELECT * FROM \"pq-b\""))
        self.assertIn("dynamodb:PartiQLUpdate",
                      denied("UPDATE \"pq-a\" SET v = 1 WHERE pk = '1'"))
        self.assertIn("dynamodb:PartiQLDelete", denied("DELETE FROM \"pq-a\" WHERE pk = '1'"))
        # the plain item actions do not grant PartiQL, nor the reverse
        with self.assertRaises(c.exceptions.ClientError):
            c.get_item(TableName="pq-a", Key={"pk": {"S": "1"}})
        out = c.batch_execute_statement(Statements=[
            {"Statement": "INSERT INTO \"pq-a\" VALUE {'pk': '3'}"},
            {"Statement": "INSERT INTO \"pq-b\" VALUE {'pk': '3'}"}])
        self.assertEqual(out["Responses"][0], {"TableName": "pq-a"})
        self.assertEqual(out["Responses"][1]["Error"]["Code"], "AccessDenied")
        with self.assertRaises(c.exceptions.ClientError) as cm:
            c.execute_transaction(TransactStatements=[
                {"Statement": "INSERT INTO \"pq-a\" VALUE {'pk': '4'}"},
                {"Statement": "INSERT INTO \"pq-b\" VALUE {'pk': '4'}"}])
        self.assertEqual(cm.exception.response["Error"]["Code"], "AccessDeniedException")
        self.assertNotIn("Item", ddb.get_item(TableName="pq-a", Key={"pk": {"S": "4"}}))
        self.assertNotIn("Item", ddb.get_item(TableName="pq-b", Key={"pk": {"S": "3"}}))

    def test_partiql_condition_keys(self):
        # the documented policies: no full table scans, writes only in transactions
        ddb = self.server.boto3()
        ddb.create_table(TableName="pq-c", BillingMode="PAY_PER_REQUEST",
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
        ddb.put_item(TableName="pq-c", Item={"pk": {"S": "1"}})
        arn = "arn:aws:dynamodb:%s:%s:table/pq-c" % (self.server.region, ACCOUNT)
        iam = self.server.boto3("iam")
        iam.create_user(UserName="pqc")
        iam.put_user_policy(UserName="pqc", PolicyName="p", PolicyDocument=policy(
            {"Effect": "Allow", "Action": ["dynamodb:PartiQLSelect", "dynamodb:PartiQLInsert"],
             "Resource": arn},
            {"Effect": "Deny", "Action": "dynamodb:PartiQLSelect", "Resource": arn,
             "Condition": {"Bool": {"dynamodb:FullTableScan": "true"}}},
            {"Effect": "Deny", "Action": "dynamodb:PartiQLInsert", "Resource": arn,
             "Condition": {"StringNotEquals": {"dynamodb:EnclosingOperation":
                                               "ExecuteTransaction"}}}))
        k = iam.create_access_key(UserName="pqc")["AccessKey"]
        c = self.server.boto3(access_key=k["AccessKeyId"], secret_key=k["SecretAccessKey"])
        out = first_allowed(c, "SELECT * FROM \"pq-c\" WHERE pk = '1'")
        self.assertEqual(out["Items"], [{"pk": {"S": "1"}}])
        with self.assertRaises(c.exceptions.ClientError) as cm:
            c.execute_statement(Statement="SELECT * FROM \"pq-c\"")
        self.assertEqual(cm.exception.response["Error"]["Code"], "AccessDeniedException")
        with self.assertRaises(c.exceptions.ClientError) as cm:
            c.execute_statement(Statement="INSERT INTO \"pq-c\" VALUE {'pk': '2'}")
        self.assertEqual(cm.exception.response["Error"]["Code"], "AccessDeniedException")
        c.execute_transaction(TransactStatements=[
            {"Statement": "INSERT INTO \"pq-c\" VALUE {'pk': '2'}"}])
        self.assertIn("Item", ddb.get_item(TableName="pq-c", Key={"pk": {"S": "2"}}))
        # pk IN is no full table scan, nor is an OR of partition key values
        out = c.execute_statement(Statement="SELECT * FROM \"pq-c\" WHERE pk IN ['1', '2']")
        self.assertEqual(len(out["Items"]), 2)
        out = c.execute_statement(Statement="SELECT * FROM \"pq-c\" WHERE pk = '2' OR pk = '1' "
                                            "OR pk = '2'")
        self.assertEqual([i["pk"]["S"] for i in out["Items"]], ["2", "1"])
        with self.assertRaises(c.exceptions.ClientError) as cm:
            c.execute_statement(Statement="SELECT * FROM \"pq-c\" WHERE pk = '2' OR n = 1")
        self.assertEqual(cm.exception.response["Error"]["Code"], "AccessDeniedException")

    def test_partiql_leading_keys(self):
        ddb = self.server.boto3()
        ddb.create_table(TableName="pq-d", BillingMode="PAY_PER_REQUEST",
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
        for v in ("mine", "theirs"):
            ddb.put_item(TableName="pq-d", Item={"pk": {"S": v}})
        arn = "arn:aws:dynamodb:%s:%s:table/pq-d" % (self.server.region, ACCOUNT)
        iam = self.server.boto3("iam")
        iam.create_user(UserName="pqd")
        iam.put_user_policy(UserName="pqd", PolicyName="p", PolicyDocument=policy(
            {"Effect": "Allow", "Action": ["dynamodb:PartiQLSelect", "dynamodb:PartiQLUpdate"],
             "Resource": arn,
             "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["mine"]}}}))
        k = iam.create_access_key(UserName="pqd")["AccessKey"]
        c = self.server.boto3(access_key=k["AccessKeyId"], secret_key=k["SecretAccessKey"])
        out = first_allowed(c, "SELECT * FROM \"pq-d\" WHERE pk = 'mine'")
        self.assertEqual(out["Items"], [{"pk": {"S": "mine"}}])
        c.execute_statement(Statement="UPDATE \"pq-d\" SET n = 1 WHERE pk = 'mine'")
        for stmt in ("SELECT * FROM \"pq-d\" WHERE pk = 'theirs'",
                     "SELECT * FROM \"pq-d\" WHERE pk IN ['mine', 'theirs']",
                     "UPDATE \"pq-d\" SET n = 1 WHERE pk = 'theirs'"):
            with self.assertRaises(c.exceptions.ClientError) as cm:
                c.execute_statement(Statement=stmt)
            self.assertEqual(cm.exception.response["Error"]["Code"], "AccessDeniedException",
                             stmt)
        self.assertNotIn("n", ddb.get_item(TableName="pq-d", Key={"pk": {"S": "theirs"}})["Item"])


if __name__ == "__main__":
    unittest.main()
