"""DynamoDB expressions through boto3: the legacy AttributeUpdates form of
UpdateItem (rewritten into an UpdateExpression), and corner cases of
ConditionExpression, UpdateExpression, ProjectionExpression and
FilterExpression that applications meet."""

import unittest
import uuid

from tandem_harness import ServerTestCase


class Expressions(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ddb = cls.server.boto3()
        cls.table = "ex-" + uuid.uuid4().hex[:12]
        cls.ddb.create_table(TableName=cls.table,
                             AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                             KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                             BillingMode="PAY_PER_REQUEST")

    def key(self):
        return {"pk": {"S": uuid.uuid4().hex}}

    def get(self, k):
        return self.ddb.get_item(TableName=self.table, Key=k, ConsistentRead=True).get("Item")

    def err(self, fn, *args, **kw):
        with self.assertRaises(self.ddb.exceptions.ClientError) as cm:
            fn(*args, **kw)
        e = cm.exception.response
        return e["Error"]["Code"], e["Error"]["Message"]

    def update(self, k, **kw):
        return self.ddb.update_item(TableName=self.table, Key=k, **kw)

    # -- AttributeUpdates ---------------------------------------------------

    def test_attribute_updates_put_add_delete(self):
        k = self.key()
        out = self.update(k, ReturnValues="ALL_NEW", AttributeUpdates={
            "s": {"Value": {"S": "x"}, "Action": "PUT"},
            "n": {"Value": {"N": "2"}},  # PUT is the default action
            "gone": {"Action": "DELETE"},
            "ss": {"Value": {"SS": ["a", "b", "c"]}, "Action": "ADD"},
            "l": {"Value": {"L": [{"N": "1"}]}, "Action": "ADD"}})
        self.assertEqual(out["Attributes"]["s"], {"S": "x"})
        self.assertEqual(out["Attributes"]["n"], {"N": "2"})
        self.assertEqual(out["Attributes"]["l"], {"L": [{"N": "1"}]})
        self.update(k, AttributeUpdates={
            "n": {"Value": {"N": "-5"}, "Action": "ADD"},
            "ss": {"Value": {"SS": ["a", "zz"]}, "Action": "DELETE"},
            "l": {"Value": {"L": [{"S": "two"}]}, "Action": "ADD"},
            "s": {"Action": "DELETE"}})
        item = self.get(k)
        self.assertEqual(item["n"], {"N": "-3"})
        self.assertEqual(sorted(item["ss"]["SS"]), ["b", "c"])
        self.assertEqual(item["l"], {"L": [{"N": "1"}, {"S": "two"}]})
        self.assertNotIn("s", item)
        # many attributes in one request
        many = {"m%d" % i: {"Value": {"N": str(i)}} for i in range(250)}
        self.update(k, AttributeUpdates=many)
        item = self.get(k)
        self.assertEqual([item["m%d" % i]["N"] for i in (0, 249)], ["0", "249"])
        # an empty map only creates the item
        k2 = self.key()
        self.update(k2, AttributeUpdates={})
        self.assertEqual(self.get(k2), k2)

    def test_attribute_updates_errors(self):
        k = self.key()
        self.update(k, AttributeUpdates={"a": {"Value": {"N": "1"}, "Action": "PUT"}})
        code, msg = self.err(self.update, k,
                             AttributeUpdates={"a": {"Value": {"N": "2"}, "Action": "PUT"}},
                             ConditionExpression="a = :v",
                             ExpressionAttributeValues={":v": {"N": "1"}})
        self.assertEqual(code, "ValidationException")
        self.assertIn("Non-expression parameters: {AttributeUpdates}", msg)
        self.assertIn("ConditionExpression", msg)
        code, msg = self.err(self.update, k, AttributeUpdates={"a": {"Action": "PUT"}})
        self.assertEqual(code, "ValidationException")
        self.assertIn("Only DELETE action is allowed", msg)
        code, msg = self.err(self.update, k,
                             AttributeUpdates={"a": {"Value": {"N": "1"}, "Action": "SWAP"}})
        self.assertEqual(code, "ValidationException")
        self.assertIn("ADD, PUT, DELETE", msg)
        code, _ = self.err(self.update, k,
                           AttributeUpdates={"pk": {"Value": {"S": "other"}, "Action": "PUT"}})
        self.assertEqual(code, "ValidationException")
        # the types ADD and DELETE take, and a value of another type than the attribute's
        self.update(k, AttributeUpdates={"ss": {"Value": {"SS": ["1"]}},
                                         "ns": {"Value": {"NS": ["1"]}}})
        for attr, action, value, msg in [
                ("a", "ADD", {"S": "x"}, "Action ADD is not supported for the type S"),
                ("a", "ADD", {"B": b"x"}, "Action ADD is not supported for the type B"),
                ("a", "ADD", {"BOOL": True}, "Action ADD is not supported for the type BOOL"),
                ("a", "ADD", {"M": {}}, "Action ADD is not supported for the type M"),
                ("a", "DELETE", {"S": "x"}, "Action DELETE is not supported for the type S"),
                ("a", "DELETE", {"N": "1"}, "Action DELETE is not supported for the type N"),
                ("a", "DELETE", {"L": []}, "Action DELETE is not supported for the type L")]:
            code, got = self.err(self.update, k,
                                 AttributeUpdates={attr: {"Value": value, "Action": action}})
            self.assertEqual((code, got), ("ValidationException",
                                           "One or more parameter values were invalid: " + msg))
        for attr, action, value in [("ss", "DELETE", {"NS": ["1"]}), ("a", "DELETE", {"NS": ["1"]}),
                                    ("ss", "ADD", {"NS": ["2"]}), ("ns", "ADD", {"N": "2"}),
                                    ("ss", "ADD", {"L": [{"S": "x"}]}),
                                    ("a", "ADD", {"L": [{"N": "2"}]})]:
            code, got = self.err(self.update, k,
                                 AttributeUpdates={attr: {"Value": value, "Action": action}})
            self.assertEqual((code, got), ("ValidationException",
                                           "Type mismatch for attribute to update"))
        # an empty set is refused in its own words, not as a generated placeholder's
        for action in ("PUT", "ADD", "DELETE"):
            code, got = self.err(self.update, k,
                                 AttributeUpdates={"ns": {"Value": {"NS": []}, "Action": action}})
            self.assertEqual((code, got), ("ValidationException", "One or more parameter values "
                                           "were invalid: An number set  may not be empty"))
        # the same mismatch written as an UpdateExpression keeps that form's wording
        code, got = self.err(self.update, k, UpdateExpression="ADD ss :v",
                             ExpressionAttributeValues={":v": {"NS": ["2"]}})
        self.assertEqual((code, got), ("ValidationException", "An operand in the update "
                                       "expression has an incorrect data type"))
        # nothing changed by the refused requests
        self.assertEqual(self.get(k), {**k, "a": {"N": "1"}, "ss": {"SS": ["1"]},
                                       "ns": {"NS": ["1"]}})

    # -- ConditionExpression ------------------------------------------------

    def test_attribute_type_operands(self):
        k = self.key()
        self.update(k, AttributeUpdates={"a": {"Value": {"N": "1"}}, "t": {"Value": {"S": "N"}}})
        # the first operand may be a value; the type name must be a value
        self.update(k, UpdateExpression="SET c = :v", ConditionExpression="attribute_type(:v, :t)",
                    ExpressionAttributeValues={":v": {"N": "0"}, ":t": {"S": "N"}})
        self.assertEqual(self.get(k)["c"], {"N": "0"})
        code, msg = self.err(self.update, k, UpdateExpression="SET c = :v",
                             ConditionExpression="attribute_type(a, t)",
                             ExpressionAttributeValues={":v": {"N": "1"}})
        self.assertEqual(code, "ValidationException")
        self.assertIn("attribute_type", msg)
        self.assertEqual(self.get(k)["c"], {"N": "0"})

    def test_one_path_as_both_operands_is_refused(self):
        k = self.key()
        self.update(k, AttributeUpdates={"a": {"Value": {"SS": ["x"]}},
                                         "m": {"Value": {"M": {"l": {"L": [{"S": "y"}]}}}}})
        distinct = ("Invalid {}: The first operand must be distinct from the remaining operands "
                    "for this operator or function; operator: {}, first operand: {}")
        for cond, op, path in [("contains(a, a)", "contains", "[a]"),
                               ("contains(m.l[0], #m.l[0])", "contains", "[m, l, [0]]"),
                               ("begins_with(a, #a)", "begins_with", "[a]"),
                               ("attribute_type(a, a)", "attribute_type", "[a]"),
                               ("a = a", "=", "[a]"),
                               ("attribute_exists(a) AND #a <> a", "<>", "[a]")]:
            names = {"#a": "a"} if "#a" in cond else ({"#m": "m"} if "#m" in cond else None)
            kw = {"ExpressionAttributeNames": names} if names else {}
            code, msg = self.err(self.update, k, UpdateExpression="SET c = :v",
                                 ConditionExpression=cond,
                                 ExpressionAttributeValues={":v": {"N": "1"}}, **kw)
            self.assertEqual((code, msg),
                             ("ValidationException",
                              distinct.format("ConditionExpression", op, path)), cond)
            code, msg = self.err(self.ddb.scan, TableName=self.table, FilterExpression=cond, **kw)
            self.assertEqual((code, msg),
                             ("ValidationException",
                              distinct.format("FilterExpression", op, path)), cond)
        self.assertNotIn("c", self.get(k))
        # two values, or a path and one of its parts, are accepted
        self.update(k, UpdateExpression="SET c = :v",
                    ConditionExpression=":v = :v AND contains(m.l, m.l[0])",
                    ExpressionAttributeValues={":v": {"N": "1"}})
        self.assertEqual(self.get(k)["c"], {"N": "1"})

    # -- UpdateExpression ---------------------------------------------------

    def test_list_elements_set_past_the_end_append_in_index_order(self):
        k = self.key()
        self.ddb.put_item(TableName=self.table,
                          Item={**k, "l": {"L": [{"S": "one"}, {"S": "two"}]}})
        self.update(k, UpdateExpression="SET l[84] = :a, l[37] = :b, l[17] = :c, l[1] = :d",
                    ExpressionAttributeValues={":a": {"S": "84"}, ":b": {"S": "37"},
                                               ":c": {"S": "17"}, ":d": {"S": "1"}})
        self.assertEqual(self.get(k)["l"], {"L": [{"S": "one"}, {"S": "1"}, {"S": "17"},
                                                  {"S": "37"}, {"S": "84"}]})

    def test_names_start_with_a_letter(self):
        k = self.key()
        for expr in ["SET _a = :v", "SET 1a = :v", "SET a-b = :v"]:
            code, msg = self.err(self.update, k, UpdateExpression=expr,
                                 ExpressionAttributeValues={":v": {"N": "1"}})
            self.assertEqual(code, "ValidationException", expr)
            self.assertIn("Syntax error", msg)
        # letters, digits and '_' after the first letter; any #reference name
        self.update(k, UpdateExpression="SET a_1 = :v, #_ = :v",
                    ExpressionAttributeNames={"#_": "_x"},
                    ExpressionAttributeValues={":v": {"N": "1"}})
        item = self.get(k)
        self.assertEqual((item["a_1"], item["_x"]), ({"N": "1"}, {"N": "1"}))

    def test_nested_removals_from_a_missing_item(self):
        # nothing to remove and nothing created, whatever the paths say
        k = self.key()
        for expr in ["REMOVE x.y", "REMOVE x[0]", "REMOVE x.y[2], z"]:
            out = self.update(k, UpdateExpression=expr, ReturnValues="ALL_NEW")
            self.assertNotIn("Attributes", out)
            self.assertIsNone(self.get(k))
        # on an item without x, the same paths are invalid
        self.update(k, UpdateExpression="SET a = :v", ExpressionAttributeValues={":v": {"N": "1"}})
        for expr in ["REMOVE x.y", "REMOVE x[0]"]:
            code, msg = self.err(self.update, k, UpdateExpression=expr)
            self.assertEqual(code, "ValidationException")
            self.assertIn("document path provided in the update expression is invalid", msg)
        self.assertEqual(self.get(k), {**k, "a": {"N": "1"}})

    # -- FilterExpression ---------------------------------------------------

    def test_query_filter_refuses_key_attributes(self):
        t = "exq-" + uuid.uuid4().hex[:12]
        self.ddb.create_table(TableName=t, BillingMode="PAY_PER_REQUEST",
                              AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                                    {"AttributeName": "sk", "AttributeType": "N"}],
                              KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                         {"AttributeName": "sk", "KeyType": "RANGE"}])
        for i in range(3):
            self.ddb.put_item(TableName=t, Item={"pk": {"S": "p"}, "sk": {"N": str(i)},
                                                 "n": {"N": str(i)}, "m": {"N": "1"}})
        v = {":p": {"S": "p"}, ":v": {"N": "1"}}
        for filt, key in [("pk = :p", "pk"), ("sk = :v", "sk"), ("n = sk", "sk"),
                          ("n = :v OR size(pk) > :v", "pk"), ("n IN (:v, sk)", "sk")]:
            vals = v if ":v" in filt else {":p": v[":p"]}
            code, msg = self.err(self.ddb.query, TableName=t, KeyConditionExpression="pk = :p",
                                 FilterExpression=filt, ExpressionAttributeValues=vals)
            self.assertEqual(code, "ValidationException", filt)
            self.assertEqual(msg, "Filter Expression can only contain non-primary key "
                                  "attributes: Primary key attribute: " + key)
        # other attributes filter as usual, and Scan may filter on keys
        out = self.ddb.query(TableName=t, KeyConditionExpression="pk = :p",
                             FilterExpression="n = m", ExpressionAttributeValues={":p": v[":p"]})
        self.assertEqual([x["sk"]["N"] for x in out["Items"]], ["1"])
        out = self.ddb.scan(TableName=t, FilterExpression="sk = :v",
                            ExpressionAttributeValues={":v": v[":v"]})
        self.assertEqual([x["sk"]["N"] for x in out["Items"]], ["1"])


if __name__ == "__main__":
    unittest.main()
