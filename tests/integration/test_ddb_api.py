"""The DynamoDB item API through boto3: conditions, projections,
ReturnValues, pagination, filters and the exact error codes."""

import binascii
import gzip
import json
import unittest
import uuid
import zlib

from tandem_harness import ServerTestCase


class DdbApi(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ddb = cls.server.boto3()

    def new_table(self, sort_key=False):
        name = "api-" + uuid.uuid4().hex[:12]
        attrs = [{"AttributeName": "pk", "AttributeType": "S"}]
        keys = [{"AttributeName": "pk", "KeyType": "HASH"}]
        if sort_key:
            attrs.append({"AttributeName": "sk", "AttributeType": "N"})
            keys.append({"AttributeName": "sk", "KeyType": "RANGE"})
        self.ddb.create_table(TableName=name, AttributeDefinitions=attrs, KeySchema=keys,
                              BillingMode="PAY_PER_REQUEST")
        self.ddb.get_waiter("table_exists").wait(TableName=name,
                                                 WaiterConfig={"Delay": 1, "MaxAttempts": 30})
        return name

    def assertCode(self, code, fn, *args, **kwargs):
        with self.assertRaises(self.ddb.exceptions.ClientError) as cm:
            fn(*args, **kwargs)
        err = cm.exception.response
        self.assertEqual(err["Error"]["Code"], code, err)
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], 400, err)
        return err

    # -- responses carry the service's headers --------------------------------

    def test_response_headers(self):
        out = self.ddb.list_tables()
        h = out["ResponseMetadata"]["HTTPHeaders"]
        self.assertIn("x-amz-crc32", h)
        self.assertIn("x-amzn-requestid", h)
        self.assertTrue(h["content-type"].startswith("application/x-amz-json-1.0"), h)
        self.assertEqual(h.get("server"), "Server", h)  # as DynamoDB names itself

    def test_describe_endpoints(self):
        eps = self.ddb.describe_endpoints()["Endpoints"]
        self.assertEqual(eps, [{"Address": "127.0.0.1:%d" % self.server.port,
                                "CachePeriodInMinutes": 1440}])

    def test_describe_limits(self):
        # DynamoDB's default quotas; the aws CLI's describe-limits and the
        # conformance suite's account reads (nubo-db/dynamodb-conformance) call it
        out = self.ddb.describe_limits()
        del out["ResponseMetadata"]
        self.assertEqual(out, {"AccountMaxReadCapacityUnits": 80000,
                               "AccountMaxWriteCapacityUnits": 80000,
                               "TableMaxReadCapacityUnits": 40000,
                               "TableMaxWriteCapacityUnits": 40000})

    def test_tag_resource_answers_no_body(self):
        t = self.new_table()
        arn = self.ddb.describe_table(TableName=t)["Table"]["TableArn"]
        for op, body in (("TagResource", {"ResourceArn": arn,
                                          "Tags": [{"Key": "team", "Value": "blue"}]}),
                         ("UntagResource", {"ResourceArn": arn, "TagKeys": ["team"]})):
            with self.subTest(op=op):
                status, headers, out = self.server.raw(op, json.dumps(body))
                self.assertEqual((status, out), (200, b""))
                self.assertEqual(headers["x-amz-crc32"], "0")
        self.assertEqual(self.ddb.list_tags_of_resource(ResourceArn=arn)["Tags"], [])

    # -- compressed bodies ----------------------------------------------------

    def test_gzip_requests(self):
        t = self.new_table()
        for label, pk, enc, pack in (
                ("gzip", "one", "gzip", gzip.compress),
                ("two gzip members", "two", "gzip",
                 lambda b: gzip.compress(b[:7]) + gzip.compress(b[7:])),
                ("large", "big", "GZIP", gzip.compress),
                ("identity", "ident", "identity", lambda b: b)):
            with self.subTest(label):
                note = "n" * (20000 if pk == "big" else 5)
                body = json.dumps({"TableName": t, "Item": {"pk": {"S": pk},
                                                            "note": {"S": note}}}).encode()
                status, _, out = self.server.raw("PutItem", pack(body),
                                                 headers={"Content-Encoding": enc})
                self.assertEqual(status, 200, out)
                got = self.ddb.get_item(TableName=t, Key={"pk": {"S": pk}}, ConsistentRead=True)
                self.assertEqual(got["Item"]["note"]["S"], note)

    def test_compressed_answers(self):
        t = self.new_table()
        self.ddb.put_item(TableName=t, Item={"pk": {"S": "k"}, "doc": {"S": "ab" * 3000},
                                             "tiny": {"S": "t"}})
        get = json.dumps({"TableName": t, "Key": {"pk": {"S": "k"}}, "ConsistentRead": True})
        _, _, plain = self.server.raw("GetItem", get)
        self.assertGreater(len(plain), 4096)
        cases = [  # Accept-Encoding, the encoding of the answer
            (None, None), ("identity", None), ("br, zstd", None), ("x-gzip", None),
            ("gzip", "gzip"), ("deflate", "deflate"), ("Deflate, gzip", "deflate"),
            ("gzip;q=0.4, deflate;q=0.9", "deflate"), ("gzip;q=0", None),
            ("*", "gzip"), ("*, deflate", "deflate"), ("*, gzip;q=0.3", "deflate"),
            ("*;q=0", None), ("deflate;q=7, gzip", "deflate"), ("gzip;q=oops, deflate;q=0.5", "gzip"),
            ("deflate;q=-1, gzip;q=0.1", "gzip"), ("gzip;level=9;q=0", None),
            ("  , gzip ,", "gzip"), ("gzip deflate", None),
        ]
        for accept, want in cases:
            with self.subTest(accept=accept):
                status, headers, out = self.server.raw(
                    "GetItem", get, headers={"Accept-Encoding": accept} if accept else None)
                self.assertEqual(status, 200, out)
                self.assertEqual(headers.get("content-encoding"), want, headers)
                # the checksum is of the bytes sent, compressed or not
                self.assertEqual(int(headers["x-amz-crc32"]), binascii.crc32(out))
                if want == "gzip":
                    out = gzip.decompress(out)
                elif want == "deflate":
                    out = zlib.decompress(out)
                self.assertEqual(out, plain)
        # small answers and errors go as they are
        small = json.dumps({"TableName": t, "Key": {"pk": {"S": "k"}},
                            "ProjectionExpression": "tiny"})
        missing = json.dumps({"TableName": "no-such-" + t, "Key": {"pk": {"S": "k"}}})
        for body in (small, missing):
            status, headers, out = self.server.raw("GetItem", body,
                                                   headers={"Accept-Encoding": "gzip"})
            self.assertNotIn("content-encoding", headers)
            json.loads(out)

    # -- conditions ---------------------------------------------------------

    def test_condition_expressions(self):
        t = self.new_table()
        item = {"pk": {"S": "a"}, "n": {"N": "1"}, "s": {"S": "x"}}
        self.ddb.put_item(TableName=t, Item=item, ConditionExpression="attribute_not_exists(pk)")
        self.assertCode("ConditionalCheckFailedException", self.ddb.put_item, TableName=t,
                        Item=item, ConditionExpression="attribute_not_exists(pk)")
        cases = [  # (condition, names, values, holds)
            ("#n = :v", {"#n": "n"}, {":v": {"N": "1"}}, True),
            ("#n = :v", {"#n": "n"}, {":v": {"N": "2"}}, False),
            ("#n < :v AND begins_with(s, :p)", {"#n": "n"}, {":v": {"N": "5"}, ":p": {"S": "x"}},
             True),
            ("attribute_exists(zzz) OR s IN (:a, :b)", None, {":a": {"S": "y"},
                                                                  ":b": {"S": "x"}}, True),
            ("NOT attribute_type(n, :t)", None, {":t": {"S": "N"}}, False),
            ("size(s) = :one", None, {":one": {"N": "1"}}, True),
        ]
        for cond, names, values, holds in cases:
            with self.subTest(cond=cond, values=values):
                kw = {"TableName": t, "Item": item, "ConditionExpression": cond,
                      "ExpressionAttributeValues": values}
                if names:
                    kw["ExpressionAttributeNames"] = names
                if holds:
                    self.ddb.put_item(**kw)
                else:
                    self.assertCode("ConditionalCheckFailedException", self.ddb.put_item, **kw)
        self.assertCode("ConditionalCheckFailedException", self.ddb.delete_item, TableName=t,
                        Key={"pk": {"S": "a"}}, ConditionExpression="n = :v",
                        ExpressionAttributeValues={":v": {"N": "9"}})
        self.assertIn("Item", self.ddb.get_item(TableName=t, Key={"pk": {"S": "a"}}))
        self.ddb.delete_item(TableName=t, Key={"pk": {"S": "a"}}, ConditionExpression="n = :v",
                             ExpressionAttributeValues={":v": {"N": "1"}})
        self.assertNotIn("Item", self.ddb.get_item(TableName=t, Key={"pk": {"S": "a"}}))

    def test_condition_errors(self):
        t = self.new_table()
        item = {"pk": {"S": "a"}}
        for kw in (
            {"ConditionExpression": "a = = b"},
            {"ConditionExpression": "#x = :v", "ExpressionAttributeValues": {":v": {"S": "1"}}},
            {"ConditionExpression": "pk = :v", "ExpressionAttributeValues": {":v": {"S": "1"},
                                                                            ":unused": {"S": "2"}}},
        ):
            with self.subTest(kw=kw):
                self.assertCode("ValidationException", self.ddb.put_item, TableName=t, Item=item,
                                **kw)

    # -- projections ----------------------------------------------------------

    def test_projection_expressions(self):
        t = self.new_table()
        item = {"pk": {"S": "p"}, "a": {"S": "1"}, "b": {"N": "2"},
                "m": {"M": {"x": {"S": "in"}, "y": {"S": "out"}}},
                "l": {"L": [{"S": "l0"}, {"S": "l1"}]}}
        self.ddb.put_item(TableName=t, Item=item)
        cases = [
            ("a", None, {"a": {"S": "1"}}),
            ("#b, a", {"#b": "b"}, {"a": {"S": "1"}, "b": {"N": "2"}}),
            ("m.x", None, {"m": {"M": {"x": {"S": "in"}}}}),
            ("l[1]", None, {"l": {"L": [{"S": "l1"}]}}),
            ("nothere", None, {}),
        ]
        for proj, names, want in cases:
            with self.subTest(proj=proj):
                kw = {"TableName": t, "Key": {"pk": {"S": "p"}}, "ProjectionExpression": proj}
                if names:
                    kw["ExpressionAttributeNames"] = names
                self.assertEqual(self.ddb.get_item(**kw).get("Item", {}), want)
        scan = self.ddb.scan(TableName=t, ProjectionExpression="pk, b")
        self.assertEqual(scan["Items"], [{"pk": {"S": "p"}, "b": {"N": "2"}}])

    # -- ReturnValues -----------------------------------------------------------

    def test_return_values(self):
        t = self.new_table()
        key = {"pk": {"S": "r"}}
        out = self.ddb.put_item(TableName=t, Item=dict(key, v={"N": "1"}), ReturnValues="ALL_OLD")
        self.assertNotIn("Attributes", out)
        out = self.ddb.put_item(TableName=t, Item=dict(key, v={"N": "2"}), ReturnValues="ALL_OLD")
        self.assertEqual(out["Attributes"], dict(key, v={"N": "1"}))
        out = self.ddb.put_item(TableName=t, Item=dict(key, v={"N": "3"}), ReturnValues="NONE")
        self.assertNotIn("Attributes", out)
        self.assertCode("ValidationException", self.ddb.put_item, TableName=t,
                        Item=dict(key, v={"N": "4"}), ReturnValues="ALL_NEW")
        out = self.ddb.delete_item(TableName=t, Key=key, ReturnValues="ALL_OLD")
        self.assertEqual(out["Attributes"], dict(key, v={"N": "3"}))
        out = self.ddb.delete_item(TableName=t, Key=key, ReturnValues="ALL_OLD")
        self.assertNotIn("Attributes", out)
        err = self.assertCode("ConditionalCheckFailedException", self.ddb.put_item, TableName=t,
                              Item=dict(key, v={"N": "5"}), ConditionExpression="v = :x",
                              ExpressionAttributeValues={":x": {"N": "0"}})
        self.assertNotIn("Item", err)

    # -- Scan: pagination and filters -----------------------------------------

    def test_scan_pagination_and_filter(self):
        t = self.new_table(sort_key=True)
        for i in range(25):
            self.ddb.put_item(TableName=t, Item={"pk": {"S": "k%02d" % (i % 5)},
                                                 "sk": {"N": str(i)},
                                                 "even": {"BOOL": i % 2 == 0}})
        seen, pages, start = [], 0, None
        while True:
            kw = {"TableName": t, "Limit": 10}
            if start:
                kw["ExclusiveStartKey"] = start
            out = self.ddb.scan(**kw)
            pages += 1
            self.assertLessEqual(out["Count"], 10)
            seen += [(i["pk"]["S"], int(i["sk"]["N"])) for i in out["Items"]]
            start = out.get("LastEvaluatedKey")
            if not start:
                break
            self.assertEqual(set(start), {"pk", "sk"})
        self.assertEqual(sorted(seen), sorted(("k%02d" % (i % 5), i) for i in range(25)))
        self.assertEqual(len(seen), 25)
        self.assertGreaterEqual(pages, 3)
        # within a partition, items come in sort-key order
        for pk in {p for p, _ in seen}:
            sks = [s for p, s in seen if p == pk]
            self.assertEqual(sks, sorted(sks))

        pages = self.ddb.get_paginator("scan").paginate(
            TableName=t, FilterExpression="even = :t", ExpressionAttributeValues={":t": {"BOOL": True}},
            PaginationConfig={"PageSize": 7})
        count = scanned = 0
        for page in pages:
            count += page["Count"]
            scanned += page["ScannedCount"]
            self.assertTrue(all(i["even"]["BOOL"] for i in page["Items"]))
        self.assertEqual((count, scanned), (13, 25))
        out = self.ddb.scan(TableName=t, Select="COUNT")
        self.assertEqual(out["Count"], 25)
        self.assertNotIn("Items", out)

    # -- tables ---------------------------------------------------------------

    def test_create_table_without_table_name(self):
        # CreateTable alone keeps DynamoDB's older wording for a missing
        # TableName; PutItem says "Value null at 'tableName'"
        body = {"AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "BillingMode": "PAY_PER_REQUEST"}
        status, _, out = self.server.raw("CreateTable", json.dumps(body))
        self.assertEqual(status, 400)
        out = json.loads(out)
        self.assertEqual(out["__type"].split("#")[-1], "ValidationException")
        self.assertEqual(out["message"], "The parameter 'TableName' is required but was not "
                                         "present in the request")
        # a refused AttributeType lists the types as DynamoDB does
        bad = dict(body, TableName="api-badtype",
                   AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "INVALID"}])
        status, _, out = self.server.raw("CreateTable", json.dumps(bad))
        self.assertEqual(json.loads(out)["message"],
                         "1 validation error detected: Value 'INVALID' at "
                         "'attributeDefinitions.1.member.attributeType' failed to satisfy "
                         "constraint: Member must satisfy enum value set: [B, N, S]")
        status, _, out = self.server.raw("PutItem", json.dumps({"Item": {"pk": {"S": "a"}}}))
        self.assertEqual(json.loads(out)["message"],
                         "1 validation error detected: Value null at 'tableName' failed to "
                         "satisfy constraint: Member must not be null")

    def test_table_lifecycle_errors(self):
        t = self.new_table()
        desc = self.ddb.describe_table(TableName=t)["Table"]
        self.assertEqual(desc["KeySchema"], [{"AttributeName": "pk", "KeyType": "HASH"}])
        self.assertEqual(desc["BillingModeSummary"]["BillingMode"], "PAY_PER_REQUEST")
        self.assertCode("ResourceInUseException", self.ddb.create_table, TableName=t,
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                        BillingMode="PAY_PER_REQUEST")
        self.assertIn(t, self.ddb.list_tables()["TableNames"])
        self.ddb.delete_table(TableName=t)
        self.ddb.get_waiter("table_not_exists").wait(TableName=t,
                                                     WaiterConfig={"Delay": 1, "MaxAttempts": 30})
        for fn, kw in ((self.ddb.describe_table, {}),
                       (self.ddb.delete_table, {}),
                       (self.ddb.scan, {}),
                       (self.ddb.get_item, {"Key": {"pk": {"S": "a"}}}),
                       (self.ddb.put_item, {"Item": {"pk": {"S": "a"}}}),
                       (self.ddb.delete_item, {"Key": {"pk": {"S": "a"}}}),
                       (self.ddb.update_table, {"BillingMode": "PAY_PER_REQUEST"})):
            with self.subTest(op=fn.__name__):
                self.assertCode("ResourceNotFoundException", fn, TableName=t, **kw)

    def test_create_table_tags_checked_as_tag_resource(self):
        # CreateTable's Tags meet the same constraints as TagResource's:
        # lengths in characters, and only the characters a tag may hold
        name = "tags-" + uuid.uuid4().hex[:8]
        args = dict(TableName=name, BillingMode="PAY_PER_REQUEST",
                    AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
        for tag, where in [({"Key": "a" * 129, "Value": "v"}, "tags.1.member.key"),
                           ({"Key": "bad!key", "Value": "v"}, "tags.1.member.key"),
                           ({"Key": "k", "Value": "no#hash"}, "tags.1.member.value")]:
            with self.subTest(tag=tag):
                with self.assertRaises(self.ddb.exceptions.ClientError) as cm:
                    self.ddb.create_table(Tags=[tag], **args)
                err = cm.exception.response["Error"]
                self.assertEqual(err["Code"], "ValidationException")
                self.assertIn(where, err["Message"])
        self.assertNotIn(name, self.ddb.list_tables()["TableNames"])
        # 128 two-byte letters are 128 characters: allowed
        self.ddb.create_table(Tags=[{"Key": "\u00e9" * 128, "Value": "caf\u00e9 @ 1+1=2"}],
                              **args)
        arn = self.ddb.describe_table(TableName=name)["Table"]["TableArn"]
        self.assertEqual(self.ddb.list_tags_of_resource(ResourceArn=arn)["Tags"],
                         [{"Key": "\u00e9" * 128, "Value": "caf\u00e9 @ 1+1=2"}])

    def test_list_tables_pagination(self):
        names = sorted(self.new_table() for _ in range(3))
        seen, start = [], None
        while True:
            kw = {"Limit": 2}
            if start:
                kw["ExclusiveStartTableName"] = start
            out = self.ddb.list_tables(**kw)
            self.assertLessEqual(len(out["TableNames"]), 2)
            seen += out["TableNames"]
            start = out.get("LastEvaluatedTableName")
            if not start:
                break
        self.assertEqual(seen, sorted(seen))
        for n in names:
            self.assertIn(n, seen)

    def test_validation_errors(self):
        t = self.new_table(sort_key=True)
        cases = [
            ("missing sort key", self.ddb.put_item, {"Item": {"pk": {"S": "a"}}}),
            ("wrong key type", self.ddb.put_item, {"Item": {"pk": {"N": "1"}, "sk": {"N": "1"}}}),
            ("empty key string", self.ddb.put_item, {"Item": {"pk": {"S": ""}, "sk": {"N": "1"}}}),
            ("bad number", self.ddb.put_item, {"Item": {"pk": {"S": "a"}, "sk": {"N": "1x"}}}),
            ("extra key attribute", self.ddb.get_item,
             {"Key": {"pk": {"S": "a"}, "sk": {"N": "1"}, "z": {"S": "q"}}}),
            ("partial key", self.ddb.get_item, {"Key": {"pk": {"S": "a"}}}),
            ("bad ReturnValues", self.ddb.delete_item,
             {"Key": {"pk": {"S": "a"}, "sk": {"N": "1"}}, "ReturnValues": "ALL_NEW"}),
            ("duplicate set member", self.ddb.put_item,
             {"Item": {"pk": {"S": "a"}, "sk": {"N": "1"}, "s": {"SS": ["x", "x"]}}}),
        ]
        for what, fn, kw in cases:
            with self.subTest(what):
                self.assertCode("ValidationException", fn, TableName=t, **kw)
        self.assertCode("ValidationException", self.ddb.create_table, TableName="no-key-attr",
                        AttributeDefinitions=[{"AttributeName": "other", "AttributeType": "S"}],
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                        BillingMode="PAY_PER_REQUEST")
        # limits that botocore checks itself, sent raw
        for op, body in (("Scan", {"TableName": t, "Limit": 0}),
                         ("CreateTable", {"TableName": "x", "BillingMode": "PAY_PER_REQUEST",
                                          "AttributeDefinitions": [{"AttributeName": "pk",
                                                                    "AttributeType": "S"}],
                                          "KeySchema": [{"AttributeName": "pk",
                                                         "KeyType": "HASH"}]})):
            with self.subTest(op=op, body=body):
                status, _, out = self.server.raw(op, json.dumps(body))
                self.assertAwsError(status, out, "ValidationException")

    def test_numbers_round_trip(self):
        t = self.new_table(sort_key=True)
        for n, canon in (("1.50", "1.5"), ("-0", "0"), ("1E+2", "100"),
                         ("12345678901234567890123456789012345678",
                          "12345678901234567890123456789012345678"),
                         ("0.000001", "0.000001")):
            with self.subTest(n=n):
                self.ddb.put_item(TableName=t, Item={"pk": {"S": "n"}, "sk": {"N": n}})
                got = self.ddb.get_item(TableName=t, Key={"pk": {"S": "n"}, "sk": {"N": n}})
                self.assertEqual(got["Item"]["sk"], {"N": canon})

    def test_error_with_members_names_its_message_Message(self):
        # DynamoDB writes "Message" in the errors that carry more members (a
        # failed condition's Item, a canceled transaction's reasons) and
        # "message" in the others: boto3 then has no top-level "message"
        t = self.new_table()
        item = {"pk": {"S": "456"}, "price": {"N": "650"}, "product": {"S": "sporting goods"}}
        self.ddb.put_item(TableName=t, Item=item)
        cond = {"TableName": t, "Key": {"pk": {"S": "456"}},
                "ConditionExpression": "price between :lo and :hi",
                "ExpressionAttributeValues": {":lo": {"N": "500"}, ":hi": {"N": "600"}}}
        for op, fn in (("DeleteItem", self.ddb.delete_item), ("UpdateItem", self.ddb.update_item),
                       ("PutItem", self.ddb.put_item)):
            kw = dict(cond, ReturnValuesOnConditionCheckFailure="ALL_OLD")
            if op == "PutItem":
                kw["Item"] = kw.pop("Key")
            err = self.assertCode("ConditionalCheckFailedException", fn, **kw)
            self.assertEqual(err["Error"]["Message"], "The conditional request failed")
            self.assertEqual(err["Item"], item, op)
            self.assertNotIn("message", err, op)
            status, _, body = self.server.raw(op, json.dumps(kw))
            self.assertEqual(status, 400)
            self.assertEqual(json.loads(body)["Message"], "The conditional request failed")
            self.assertNotIn("message", json.loads(body))
        # without ReturnValuesOnConditionCheckFailure: "message", no Item
        status, _, body = self.server.raw("DeleteItem", json.dumps(cond))
        out = json.loads(body)
        self.assertEqual((status, out["message"]), (400, "The conditional request failed"))
        self.assertNotIn("Item", out)
        txn = {"TransactItems": [{"ConditionCheck": {
            "TableName": t, "Key": {"pk": {"S": "456"}},
            "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Delete": {"TableName": t, "Key": {"pk": {"S": "Bert"}}}}]}
        status, _, body = self.server.raw("TransactWriteItems", json.dumps(txn))
        out = json.loads(body)
        self.assertEqual(status, 400)
        self.assertEqual(out["Message"], "Transaction cancelled, please refer cancellation reasons "
                                         "for specific reasons [ConditionalCheckFailed, None]")
        self.assertNotIn("message", out)
        self.assertEqual([r["Code"] for r in out["CancellationReasons"]],
                         ["ConditionalCheckFailed", "None"])

    def test_binary_set_duplicates_name_the_type(self):
        # as DynamoDB words it: the binary set's type follows the members
        # with no space before "of"; other sets do not name theirs
        t = self.new_table()
        err = self.assertCode("ValidationException", self.ddb.put_item, TableName=t,
                              Item={"pk": {"S": "x"}, "b": {"BS": [b"\x01\x02", b"\x01\x02"]}})
        self.assertEqual(err["Error"]["Message"],
                         "One or more parameter values were invalid: Input collection "
                         "[AQI=, AQI=]of type BS contains duplicates.")
        err = self.assertCode("ValidationException", self.ddb.put_item, TableName=t,
                              Item={"pk": {"S": "x"}, "s": {"SS": ["", ""]}})
        self.assertEqual(err["Error"]["Message"],
                         "One or more parameter values were invalid: Input collection [, ] "
                         "contains duplicates.")


if __name__ == "__main__":
    unittest.main()
