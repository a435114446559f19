"""DynamoDB's pre-expression ("legacy") request parameters that older SDK code
and tools still send, through boto3: AttributesToGet on GetItem, Query, Scan
and BatchGetItem; KeyConditions, QueryFilter, ScanFilter and
ConditionalOperator on Query and Scan; Expected on PutItem, DeleteItem and UpdateItem; and UpdateItem's removals (legacy or expression) on a
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
                             ExpressionAttributeValues={":h": {"S": "h"}})
        self.assertEqual(code, "ValidationException")
        self.assertIn("Non-expression parameters: {AttributesToGet}", msg)
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
        out = self.ddb.query(TableName=self.table, KeyConditions={"pk": {
                                 "AttributeValueList": [{"S": "h"}], "ComparisonOperator": "EQ"}},
                             AttributesToGet=["sk", "colour"], Select="SPECIFIC_ATTRIBUTES")
        self.assertEqual(out["Items"], [{"sk": {"N": str(i)}, "colour": {"S": "red%d" % i}}
                                        for i in range(3)])
        # Scan pages of 2 (other cases add items of other colours: filtered out)
        items, start = [], {}
        for _ in range(50):
            out = self.ddb.scan(TableName=self.table, AttributesToGet=["colour"], Limit=2,
                                ScanFilter={"colour": {"ComparisonOperator": "BEGINS_WITH",
                                                       "AttributeValueList": [{"S": "red"}]}},
                                **start)
            items += out["Items"]
            if "LastEvaluatedKey" not in out:
                break
            start = {"ExclusiveStartKey": out["LastEvaluatedKey"]}
        self.assertEqual(sorted(it["colour"]["S"] for it in items), ["red0", "red1", "red2"])
        self.assertTrue(all(list(it) == ["colour"] for it in items), items)

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

    def query(self, **kw):
        items, pages = [], 0
        for page in self.ddb.get_paginator("query").paginate(TableName=self.table, **kw):
            items += page["Items"]
            pages += 1
            self.assertLess(pages, 50)
        return items

    def test_key_conditions_and_query_filter(self):
        pk = {"pk": {"AttributeValueList": [{"S": "h"}], "ComparisonOperator": "EQ"}}
        sks = lambda items: [int(it["sk"]["N"]) for it in items]  # noqa: E731
        self.assertEqual(sks(self.query(KeyConditions=pk)), [0, 1, 2])
        for op, args, want in [("EQ", ["1"], [1]), ("LT", ["1"], [0]), ("LE", ["1"], [0, 1]),
                               ("GT", ["1"], [2]), ("GE", ["1"], [1, 2]),
                               ("BETWEEN", ["1", "2"], [1, 2])]:
            with self.subTest(op=op):
                kc = dict(pk, sk={"AttributeValueList": [{"N": a} for a in args],
                                  "ComparisonOperator": op})
                self.assertEqual(sks(self.query(KeyConditions=kc, Limit=1)), want)
        # a filter, joined by OR, with AttributesToGet and descending order
        got = self.query(KeyConditions=pk, ScanIndexForward=False, AttributesToGet=["sk"],
                         QueryFilter={"colour": {"AttributeValueList": [{"S": "red0"},
                                                                        {"S": "red2"}],
                                                 "ComparisonOperator": "IN"},
                                      "shade": {"ComparisonOperator": "NOT_NULL"}},
                         ConditionalOperator="OR")
        self.assertEqual(got, [{"sk": {"N": "2"}}, {"sk": {"N": "0"}}])
        got = self.query(KeyConditions=pk, QueryFilter={
            "shade": {"ComparisonOperator": "NULL"},
            "colour": {"AttributeValueList": [{"S": "red"}], "ComparisonOperator": "BEGINS_WITH"},
            "nested": {"ComparisonOperator": "NOT_NULL"}})
        self.assertEqual(sks(got), [0, 1, 2])
        # what a key condition cannot say
        for kc, msg in [({"sk": {"AttributeValueList": [{"N": "1"}], "ComparisonOperator": "EQ"}},
                         "Query condition missed key schema element"),
                        (dict(pk, sk={"AttributeValueList": [{"N": "1"}],
                                      "ComparisonOperator": "NE"}),
                         "Attempted conditional constraint is not an indexable operation"),
                        (dict(pk, sk={"AttributeValueList": [{"N": "1"}],
                                      "ComparisonOperator": "BETWEEN"}),
                         "Invalid number of argument(s) for the BETWEEN ComparisonOperator"),
                        ({}, "Conditions can be of length 1 or 2 only"),
                        (dict(pk, sk={"AttributeValueList": [{"N": "1"}],
                                      "ComparisonOperator": "EQ"},
                              colour={"AttributeValueList": [{"S": "red1"}],
                                      "ComparisonOperator": "EQ"}),
                         "Conditions can be of length 1 or 2 only")]:
            with self.subTest(kc=kc):
                code, got = self.err(self.ddb.query, TableName=self.table, KeyConditions=kc)
                self.assertEqual(code, "ValidationException")
                self.assertIn(msg, got)
        # a filter cannot name a key attribute
        code, msg = self.err(self.ddb.query, TableName=self.table, KeyConditions=pk,
                             QueryFilter={"sk": {"AttributeValueList": [{"N": "1"}],
                                                 "ComparisonOperator": "EQ"}})
        self.assertEqual((code, msg), ("ValidationException", "QueryFilter can only contain "
                                       "non-primary key attributes: Primary key attribute: sk"))

    def test_key_conditions_with_expressions(self):
        # DynamoDB takes KeyConditions with a FilterExpression and a
        # ProjectionExpression; only a KeyConditionExpression beside it is a mix
        pk = {"pk": {"AttributeValueList": [{"S": "h"}], "ComparisonOperator": "EQ"}}
        got = self.query(KeyConditions=pk, FilterExpression="colour = :c",
                         ExpressionAttributeValues={":c": {"S": "red1"}})
        self.assertEqual([it["sk"] for it in got], [{"N": "1"}])
        got = self.query(KeyConditions=pk, ProjectionExpression="sk", Select="SPECIFIC_ATTRIBUTES")
        self.assertEqual(got, [{"sk": {"N": str(i)}} for i in range(3)])
        # the request's own names and values beside the generated ones, even
        # when they look like them
        kc = dict(pk, sk={"AttributeValueList": [{"N": "1"}], "ComparisonOperator": "GE"})
        got = self.query(KeyConditions=kc, ProjectionExpression="#lc0, #lc1.x",
                         FilterExpression="#lc2 <> :lc1",
                         ExpressionAttributeNames={"#lc0": "sk", "#lc1": "nested",
                                                   "#lc2": "colour"},
                         ExpressionAttributeValues={":lc1": {"S": "red2"}})
        self.assertEqual(got, [{"sk": {"N": "1"}, "nested": {"M": {"x": {"S": "y"}}}}])
        for kw, msg in [
                ({"KeyConditionExpression": "pk = :h",
                  "ExpressionAttributeValues": {":h": {"S": "h"}}},
                 "Can not use both expression and non-expression parameters in the same "
                 "request: Non-expression parameters: {KeyConditions} Expression parameters: "
                 "{KeyConditionExpression}"),
                ({"ProjectionExpression": "sk", "ExpressionAttributeValues": {":v": {"N": "1"}}},
                 "ExpressionAttributeValues can only be specified when using expressions"),
                ({"ExpressionAttributeNames": {"#s": "sk"}},
                 "ExpressionAttributeNames can only be specified when using expressions"),
                ({"ProjectionExpression": "sk", "AttributesToGet": ["sk"]},
                 "Can not use both expression and non-expression parameters in the same "
                 "request: Non-expression parameters: {AttributesToGet} Expression parameters: "
                 "{ProjectionExpression}"),
                ({"FilterExpression": "colour = :c", "ExpressionAttributeValues": {":c": {"S": "x"}},
                  "QueryFilter": {"size": {"AttributeValueList": [{"N": "4"}],
                                           "ComparisonOperator": "EQ"}}},
                 "Non-expression parameters: {QueryFilter}")]:
            with self.subTest(kw=kw):
                code, got = self.err(self.ddb.query, TableName=self.table, KeyConditions=pk, **kw)
                self.assertEqual(code, "ValidationException")
                self.assertIn(msg, got)

    def test_scan_filter(self):
        out = self.ddb.scan(TableName=self.table, ScanFilter={
            "colour": {"AttributeValueList": [{"S": "red1"}], "ComparisonOperator": "NE"},
            "size": {"AttributeValueList": [{"N": "4"}], "ComparisonOperator": "EQ"},
            "a.b": {"AttributeValueList": [{"S": "dot"}], "ComparisonOperator": "CONTAINS"}})
        self.assertEqual(sorted(it["sk"]["N"] for it in out["Items"]
                                if it["pk"]["S"] == "h"), ["0", "2"])
        out = self.ddb.scan(TableName=self.table, ScanFilter={
            "colour": {"AttributeValueList": [{"S": "red"}], "ComparisonOperator": "NOT_CONTAINS"}})
        self.assertEqual([it for it in out["Items"] if it["pk"]["S"] == "h"], [])

    def test_expected_on_put_and_delete(self):
        key = {"pk": {"S": "exp"}, "sk": {"N": "1"}}
        fail = self.ddb.exceptions.ConditionalCheckFailedException
        # create only if absent
        self.ddb.put_item(TableName=self.table, Item=dict(key, v={"N": "1"}),
                          Expected={"pk": {"Exists": False}})
        with self.assertRaises(fail):
            self.ddb.put_item(TableName=self.table, Item=dict(key, v={"N": "9"}),
                              Expected={"pk": {"Exists": False}})
        # optimistic locking on a version attribute
        self.ddb.put_item(TableName=self.table, Item=dict(key, v={"N": "2"}),
                          Expected={"v": {"Value": {"N": "1"}}})
        with self.assertRaises(fail):
            self.ddb.put_item(TableName=self.table, Item=dict(key, v={"N": "3"}),
                              Expected={"v": {"Value": {"N": "1"}, "Exists": True}})
        # comparison operators, joined by OR
        with self.assertRaises(fail):
            self.ddb.delete_item(TableName=self.table, Key=key, Expected={
                "v": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "5"}]}})
        self.assertIn("Item", self.ddb.get_item(TableName=self.table, Key=key,
                                                ConsistentRead=True))
        out = self.ddb.delete_item(TableName=self.table, Key=key, ReturnValues="ALL_OLD",
                                   ConditionalOperator="OR", Expected={
                                       "v": {"ComparisonOperator": "GT",
                                             "AttributeValueList": [{"N": "5"}]},
                                       "gone": {"ComparisonOperator": "NULL"}})
        self.assertEqual(out["Attributes"], dict(key, v={"N": "2"}))
        # UpdateItem, with AttributeUpdates or an UpdateExpression beside it
        self.ddb.update_item(TableName=self.table, Key=key, Expected={"pk": {"Exists": False}},
                             AttributeUpdates={"v": {"Action": "PUT", "Value": {"N": "1"}}})
        self.ddb.update_item(TableName=self.table, Key=key, Expected={"v": {"Value": {"N": "1"}}},
                             AttributeUpdates={"v": {"Action": "ADD", "Value": {"N": "1"}}})
        with self.assertRaises(fail):
            self.ddb.update_item(TableName=self.table, Key=key,
                                 Expected={"v": {"Value": {"N": "1"}}},
                                 AttributeUpdates={"v": {"Action": "ADD", "Value": {"N": "1"}}})
        self.assertEqual(self.ddb.get_item(TableName=self.table, Key=key,
                                           ConsistentRead=True)["Item"]["v"], {"N": "2"})
        code, msg = self.err(self.ddb.update_item, TableName=self.table, Key=key,
                             Expected={"v": {"Exists": False}}, UpdateExpression="SET w = :w",
                             ExpressionAttributeValues={":w": {"N": "1"}})
        self.assertEqual(code, "ValidationException")
        self.assertIn("Non-expression parameters: {Expected}", msg)
        code, msg = self.err(self.ddb.put_item, TableName=self.table, Item=key,
                             Expected={"v": {"Exists": False}},
                             ConditionExpression="attribute_not_exists(v)")
        self.assertEqual(code, "ValidationException")
        self.assertIn("Non-expression parameters: {Expected}", msg)

    def test_legacy_operator_checks(self):
        # each ComparisonOperator takes only the argument types DynamoDB lets
        # it take, and a refused request changes nothing
        key = {"pk": {"S": "ops"}, "sk": {"N": "1"}}
        item = dict(key, word={"S": "lantern"}, tags={"SS": ["x", "y"]}, n={"N": "7"})
        self.ddb.put_item(TableName=self.table, Item=item)
        bad = "One or more parameter values were invalid: "
        for op, args, msg in [
                ("CONTAINS", [{"L": [{"N": "1"}]}], "ComparisonOperator CONTAINS is not valid "
                 "for L AttributeValue type"),
                ("NOT_CONTAINS", [{"BOOL": True}], "ComparisonOperator NOT_CONTAINS is not "
                 "valid for BOOL AttributeValue type"),
                ("IN", [{"N": "7"}, {"S": "7"}], "AttributeValues inside AttributeValueList "
                 "must be of same type"),
                ("IN", [{"L": []}], "ComparisonOperator IN is not valid for L AttributeValue "
                 "type"),
                ("BETWEEN", [{"N": "1"}, {"S": "z"}], "AttributeValues inside "
                 "AttributeValueList must be of same type"),
                ("BETWEEN", [{"NS": ["1"]}, {"NS": ["2"]}], "ComparisonOperator BETWEEN is not "
                 "valid for NS AttributeValue type"),
                ("GE", [{"M": {}}], "ComparisonOperator GE is not valid for M AttributeValue "
                 "type"),
                ("BEGINS_WITH", [{"N": "7"}], "ComparisonOperator BEGINS_WITH is not valid for "
                 "N AttributeValue type")]:
            with self.subTest(op=op, args=args):
                cond = {"n": {"ComparisonOperator": op, "AttributeValueList": args}}
                self.assertEqual(self.err(self.ddb.put_item, TableName=self.table,
                                          Item=dict(key, n={"N": "8"}), Expected=cond),
                                 ("ValidationException", bad + msg))
                self.assertEqual(self.err(self.ddb.scan, TableName=self.table, ScanFilter=cond),
                                 ("ValidationException", bad + msg))
        # values are checked as any AttributeValue is, without naming the
        # placeholders the conversion made
        self.assertEqual(self.err(self.ddb.put_item, TableName=self.table, Item=key, Expected={
            "tags": {"ComparisonOperator": "EQ", "AttributeValueList": [{"SS": []}]}}),
            ("ValidationException", bad + "An string set  may not be empty"))
        self.assertEqual(self.err(self.ddb.put_item, TableName=self.table, Item=key, Expected={
            "tags": {"Value": {"NS": []}}}),
            ("ValidationException", bad + "An number set  may not be empty"))
        # the same check on a sort key condition
        code, msg = self.err(self.ddb.query, TableName=self.table, KeyConditions={
            "pk": {"AttributeValueList": [{"S": "ops"}], "ComparisonOperator": "EQ"},
            "sk": {"AttributeValueList": [{"N": "1"}], "ComparisonOperator": "BEGINS_WITH"}})
        self.assertEqual((code, msg), ("ValidationException", bad + "ComparisonOperator "
                                       "BEGINS_WITH is not valid for N AttributeValue type"))
        # operator names are the exact enum values
        code, msg = self.err(self.ddb.query, TableName=self.table, KeyConditions={
            "pk": {"AttributeValueList": [{"S": "ops"}], "ComparisonOperator": "eq"}})
        self.assertEqual(code, "ValidationException")
        self.assertEqual(msg, "1 validation error detected: Value 'eq' at "
                         "'keyConditions.pk.member.comparisonOperator' failed to satisfy "
                         "constraint: Member must satisfy enum value set: [IN, NULL, BETWEEN, "
                         "LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, "
                         "CONTAINS]")
        # (boto3 refuses a filter without an operator itself; over the wire too)
        status, _, body = self.server.raw("Scan", json.dumps(
            {"TableName": self.table, "ScanFilter": {"n": {"AttributeValueList": [{"N": "1"}]}}}))
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(body)["message"],
                         "1 validation error detected: Value null at "
                         "'scanFilter.n.member.comparisonOperator' failed to satisfy constraint: "
                         "Member must not be null")
        # NOT_CONTAINS, like CONTAINS, is false when the attribute is missing
        fail = self.ddb.exceptions.ConditionalCheckFailedException
        with self.assertRaises(fail):
            self.ddb.put_item(TableName=self.table, Item=dict(key, n={"N": "8"}), Expected={
                "absent": {"ComparisonOperator": "NOT_CONTAINS",
                           "AttributeValueList": [{"S": "q"}]}})
        self.ddb.put_item(TableName=self.table, Item=dict(item, n={"N": "8"}), Expected={
            "word": {"ComparisonOperator": "NOT_CONTAINS", "AttributeValueList": [{"S": "q"}]},
            "tags": {"ComparisonOperator": "NOT_CONTAINS", "AttributeValueList": [{"S": "z"}]}})
        out = self.ddb.scan(TableName=self.table, ScanFilter={
            "word": {"ComparisonOperator": "NOT_CONTAINS", "AttributeValueList": [{"S": "q"}]}})
        self.assertEqual([it["pk"]["S"] for it in out["Items"]], ["ops"])
        self.assertEqual(self.ddb.get_item(TableName=self.table, Key=key,
                                           ConsistentRead=True)["Item"]["n"], {"N": "8"})

    def test_expected_forms_and_conditional_operator(self):
        key = {"pk": {"S": "forms"}, "sk": {"N": "1"}}
        self.ddb.put_item(TableName=self.table, Item=dict(key, v={"N": "1"}))
        bad = "One or more parameter values were invalid: "
        for cond, msg in [
                ({"Exists": True, "ComparisonOperator": "NOT_NULL"},
                 "Exists and ComparisonOperator cannot be used together for Attribute: v"),
                ({"Exists": False, "ComparisonOperator": "EQ",
                  "AttributeValueList": [{"N": "1"}]},
                 "Exists and ComparisonOperator cannot be used together for Attribute: v"),
                ({"AttributeValueList": [{"N": "1"}]},
                 "AttributeValueList can only be used with a ComparisonOperator for "
                 "Attribute: v"),
                ({}, "Value must be provided when Exists is null for Attribute: v"),
                ({"Exists": True}, "Value must be provided when Exists is true for Attribute: v"),
                ({"Exists": False, "Value": {"N": "1"}},
                 "Value cannot be used when Exists is false for Attribute: v"),
                ({"Value": {"N": "1"}, "ComparisonOperator": "EQ",
                  "AttributeValueList": [{"N": "1"}]},
                 "Value and AttributeValueList cannot be used together for Attribute: v"),
                ({"ComparisonOperator": "EQ"},
                 "Value or AttributeValueList must be used with ComparisonOperator: EQ for "
                 "Attribute: v")]:
            with self.subTest(cond=cond):
                self.assertEqual(self.err(self.ddb.update_item, TableName=self.table, Key=key,
                                          Expected={"v": cond},
                                          AttributeUpdates={"v": {"Value": {"N": "5"}}}),
                                 ("ValidationException", bad + msg))
        self.assertEqual(self.err(self.ddb.update_item, TableName=self.table, Key=key,
                                  Expected={"v": {"ComparisonOperator": "BETWEEN",
                                                  "AttributeValueList": [{"N": "5"}, {"N": "4"}]}},
                                  AttributeUpdates={"v": {"Value": {"N": "5"}}}),
                         ("ValidationException", "The BETWEEN condition was provided a range "
                          "where the lower bound is greater than the upper bound"))
        # a Value beside a ComparisonOperator is the operator's one argument
        with self.assertRaises(self.ddb.exceptions.ConditionalCheckFailedException):
            self.ddb.update_item(TableName=self.table, Key=key, Expected={"v": {
                "Value": {"N": "1"}, "ComparisonOperator": "LT"}},
                AttributeUpdates={"v": {"Value": {"N": "2"}}})
        self.ddb.update_item(TableName=self.table, Key=key, Expected={"v": {
            "Value": {"N": "2"}, "ComparisonOperator": "LT"}},
            AttributeUpdates={"v": {"Value": {"N": "2"}}})
        # ConditionalOperator needs two conditions or more to join
        for kw, msg in [({"Expected": {}}, "ConditionalOperator cannot be used without Filter "
                         "or Expected"),
                        ({}, "ConditionalOperator cannot be used without Filter or Expected"),
                        ({"Expected": {"v": {"Value": {"N": "2"}}}}, "ConditionalOperator can "
                         "only be used when Filter or Expected has two or more elements")]:
            with self.subTest(kw=kw):
                self.assertEqual(self.err(self.ddb.update_item, TableName=self.table, Key=key,
                                          ConditionalOperator="OR",
                                          AttributeUpdates={"v": {"Value": {"N": "5"}}}, **kw),
                                 ("ValidationException", msg))
        self.assertEqual(self.err(self.ddb.scan, TableName=self.table, ConditionalOperator="AND"),
                         ("ValidationException",
                          "ConditionalOperator cannot be used without Filter or Expected"))
        self.assertEqual(self.err(self.ddb.query, TableName=self.table, ConditionalOperator="OR",
                                  KeyConditions={"pk": {"AttributeValueList": [{"S": "forms"}],
                                                        "ComparisonOperator": "EQ"}},
                                  QueryFilter={"v": {"ComparisonOperator": "NOT_NULL"}}),
                         ("ValidationException", "ConditionalOperator can only be used when "
                          "Filter or Expected has two or more elements"))
        # an empty Expected alone is no condition at all
        self.ddb.update_item(TableName=self.table, Key=key, Expected={},
                             AttributeUpdates={"w": {"Value": {"N": "3"}}})
        self.assertEqual(self.ddb.get_item(TableName=self.table, Key=key, ConsistentRead=True)
                         ["Item"], dict(key, v={"N": "2"}, w={"N": "3"}))

    def test_select_beside_attributes_to_get(self):
        # Query words these refusals as validation errors, Scan does not
        pk = {"pk": {"AttributeValueList": [{"S": "h"}], "ComparisonOperator": "EQ"}}
        for op, kw, pre in [(self.ddb.query, {"KeyConditions": pk}, "1 validation error detected: "),
                            (self.ddb.scan, {}, "")]:
            for extra, msg in [
                    ({"Select": "COUNT", "AttributesToGet": ["sk"]},
                     "Cannot specify the AttributesToGet when choosing to get only the Count"),
                    ({"Select": "ALL_ATTRIBUTES", "AttributesToGet": ["sk"]},
                     "Cannot specify the AttributesToGet when choosing to get ALL_ATTRIBUTES"),
                    ({"Select": "COUNT", "ProjectionExpression": "sk"},
                     "Cannot specify the ProjectionExpression when choosing to get only the "
                     "Count"),
                    ({"Select": "SPECIFIC_ATTRIBUTES"}, "Must specify the AttributesToGet or "
                     "ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES"),
                    ({"Select": "ALL_PROJECTED_ATTRIBUTES"}, "ALL_PROJECTED_ATTRIBUTES can be "
                     "used only when Querying using an IndexName")]:
                with self.subTest(op=op.__name__, extra=extra):
                    self.assertEqual(self.err(op, TableName=self.table, **kw, **extra),
                                     ("ValidationException", pre + msg))
            got = op(TableName=self.table, Select="SPECIFIC_ATTRIBUTES", AttributesToGet=["sk"],
                     **kw)
            self.assertTrue(got["Items"] and all(list(it) == ["sk"] for it in got["Items"]))
        self.assertEqual(self.err(self.ddb.scan, TableName=self.table, Select="count"),
                         ("ValidationException", "1 validation error detected: Value 'count' at "
                          "'select' failed to satisfy constraint: Member must satisfy enum value "
                          "set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, "
                          "ALL_PROJECTED_ATTRIBUTES]"))


if __name__ == "__main__":
    unittest.main()
