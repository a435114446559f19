"""TransactWriteItems / TransactGetItems through boto3 and the aws CLI:
all-or-nothing, conditions against the state inside the transaction,
cancellation reasons in order, idempotency tokens, limits and errors."""

import json
import subprocess
import threading
import unittest
import uuid

from tandem_harness import ServerTestCase


class Transactions(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ddb = cls.server.boto3()

    def new_table(self, sort_key=False):
        name = "tx-" + uuid.uuid4().hex[:12]
        attrs = [{"AttributeName": "pk", "AttributeType": "S"}]
        keys = [{"AttributeName": "pk", "KeyType": "HASH"}]
        if sort_key:
            attrs.append({"AttributeName": "sk", "AttributeType": "N"})
            keys.append({"AttributeName": "sk", "KeyType": "RANGE"})
        self.ddb.create_table(TableName=name, AttributeDefinitions=attrs, KeySchema=keys,
                              BillingMode="PAY_PER_REQUEST")
        return name

    def err(self, fn, **kw):
        with self.assertRaises(self.ddb.exceptions.ClientError) as cm:
            fn(**kw)
        e = cm.exception.response
        return e["Error"]["Code"], e["Error"]["Message"], e

    def get(self, t, pk):
        return self.ddb.get_item(TableName=t, Key={"pk": {"S": pk}},
                                 ConsistentRead=True).get("Item")

    def count(self, t):
        return self.ddb.describe_table(TableName=t)["Table"]["ItemCount"]

    def test_write_all_actions_commit_together(self):
        t, u = self.new_table(), self.new_table()
        self.ddb.put_item(TableName=t, Item={"pk": {"S": "a"}, "n": {"N": "1"}})
        self.ddb.put_item(TableName=t, Item={"pk": {"S": "gone"}})
        self.ddb.put_item(TableName=u, Item={"pk": {"S": "check"}, "ok": {"BOOL": True}})
        self.ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": t, "Item": {"pk": {"S": "new"}, "v": {"S": "x"}},
                     "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Update": {"TableName": t, "Key": {"pk": {"S": "a"}},
                        "UpdateExpression": "SET n = n + :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}}}},
            {"Delete": {"TableName": t, "Key": {"pk": {"S": "gone"}}}},
            {"ConditionCheck": {"TableName": u, "Key": {"pk": {"S": "check"}},
                                "ConditionExpression": "ok = :t",
                                "ExpressionAttributeValues": {":t": {"BOOL": True}}}},
        ])
        self.assertEqual(self.get(t, "new")["v"], {"S": "x"})
        self.assertEqual(self.get(t, "a")["n"], {"N": "2"})
        self.assertIsNone(self.get(t, "gone"))
        self.assertEqual(self.count(t), 2)

    def test_cancel_writes_nothing_and_reasons_in_order(self):
        t = self.new_table()
        self.ddb.put_item(TableName=t, Item={"pk": {"S": "a"}, "n": {"N": "5"}})
        self.ddb.put_item(TableName=t, Item={"pk": {"S": "s"}, "str": {"S": "text"}})
        code, msg, e = self.err(self.ddb.transact_write_items, TransactItems=[
            {"Put": {"TableName": t, "Item": {"pk": {"S": "b"}}}},
            {"Update": {"TableName": t, "Key": {"pk": {"S": "a"}},
                        "UpdateExpression": "SET n = :z", "ConditionExpression": "n > :ten",
                        "ExpressionAttributeValues": {":ten": {"N": "10"}, ":z": {"N": "0"}},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
            {"Update": {"TableName": t, "Key": {"pk": {"S": "s"}},
                        "UpdateExpression": "SET str = str + :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}}}},
            {"Delete": {"TableName": t, "Key": {"pk": {"S": "zz"}},
                        "ConditionExpression": "attribute_exists(pk)"}},
        ])
        self.assertEqual(code, "TransactionCanceledException")
        self.assertIn("[None, ConditionalCheckFailed, ValidationError, ConditionalCheckFailed]",
                      msg)
        reasons = e["CancellationReasons"]
        self.assertEqual([r["Code"] for r in reasons],
                         ["None", "ConditionalCheckFailed", "ValidationError",
                          "ConditionalCheckFailed"])
        self.assertEqual(reasons[1]["Item"], {"pk": {"S": "a"}, "n": {"N": "5"}})
        self.assertEqual(reasons[1]["Message"], "The conditional request failed")
        self.assertNotIn("Item", reasons[3])
        self.assertIn("incorrect data type", reasons[2]["Message"])
        self.assertIsNone(self.get(t, "b"))  # nothing was written
        self.assertEqual(self.get(t, "a")["n"], {"N": "5"})

    def test_validation_errors(self):
        t = self.new_table()
        k = {"pk": {"S": "a"}}
        code, msg, _ = self.err(self.ddb.transact_write_items, TransactItems=[
            {"Put": {"TableName": t, "Item": k}},
            {"ConditionCheck": {"TableName": t, "Key": k,
                                "ConditionExpression": "attribute_exists(pk)"}}])
        self.assertEqual((code, msg), ("ValidationException",
                                       "Transaction request cannot include multiple operations "
                                       "on one item"))
        items = [{"Put": {"TableName": t, "Item": {"pk": {"S": str(i)}}}} for i in range(101)]
        code, msg, _ = self.err(self.ddb.transact_write_items, TransactItems=items)
        self.assertEqual(code, "ValidationException")
        self.assertIn("Member must have length less than or equal to 100", msg)
        code, msg, _ = self.err(self.ddb.transact_write_items, TransactItems=[
            {"Put": {"TableName": t + "-missing", "Item": k}}])
        self.assertEqual(code, "ResourceNotFoundException")
        code, msg, _ = self.err(self.ddb.transact_write_items, TransactItems=[
            {"Update": {"TableName": t, "Key": k, "UpdateExpression": "SET pk = :v",
                        "ExpressionAttributeValues": {":v": {"S": "b"}}}}])
        self.assertEqual(code, "ValidationException")
        self.assertIn("Cannot update attribute pk", msg)
        code, msg, _ = self.err(self.ddb.transact_write_items, TransactItems=[
            {"Put": {"TableName": t, "Item": {"pk": {"S": "x"}},
                     "ExpressionAttributeValues": {":unused": {"S": "v"}},
                     "ConditionExpression": "attribute_not_exists(pk)"}}])
        self.assertEqual(code, "ValidationException")
        self.assertIn("unused", msg)
        # 4 MB: eleven items of ~390 KB
        big = "x" * (390 * 1024)
        items = [{"Put": {"TableName": t, "Item": {"pk": {"S": str(i)}, "b": {"S": big}}}}
                 for i in range(11)]
        code, msg, _ = self.err(self.ddb.transact_write_items, TransactItems=items)
        self.assertEqual(code, "ValidationException")
        self.assertIn("4 MB", msg)
        self.assertIn("size cannot exceed", msg)
        self.assertEqual(self.count(t), 0)

    def test_invalid_key_cancels_with_validation_error(self):
        # A key of the wrong type (or a missing key attribute) cancels the
        # transaction with a ValidationError reason at that action; checking
        # stops there, so the actions after it, even one whose condition is
        # false, are listed with reason None, and nothing is written.
        t = self.new_table()
        code, msg, e = self.err(self.ddb.transact_write_items, TransactItems=[
            {"Put": {"TableName": t, "Item": {"pk": {"S": "first"}}}},
            {"Put": {"TableName": t, "Item": {"pk": {"N": "7"}}}},
            {"Delete": {"TableName": t, "Key": {"other": {"S": "x"}}}},
            {"Put": {"TableName": t, "Item": {"pk": {"S": "last"}},
                     "ConditionExpression": "attribute_exists(pk)"}},
        ])
        self.assertEqual(code, "TransactionCanceledException")
        self.assertIn("[None, ValidationError, None, None]", msg)
        reasons = e["CancellationReasons"]
        self.assertEqual([r["Code"] for r in reasons], ["None", "ValidationError", "None", "None"])
        self.assertIn("Type mismatch for key pk", reasons[1]["Message"])
        self.assertEqual([("Message" in r) for r in reasons], [False, True, False, False])
        self.assertEqual(self.count(t), 0)
        # a lone action with a missing key attribute: one ValidationError
        code, _, e = self.err(self.ddb.transact_write_items, TransactItems=[
            {"Update": {"TableName": t, "Key": {"other": {"S": "x"}},
                        "UpdateExpression": "SET v = :v",
                        "ExpressionAttributeValues": {":v": {"S": "b"}}}}])
        self.assertEqual(code, "TransactionCanceledException")
        self.assertEqual([r["Code"] for r in e["CancellationReasons"]], ["ValidationError"])
        self.assertIsNone(self.get(t, "first"))
        # a wrong-typed Key of Update/Delete/ConditionCheck: the schema mismatch
        for act in ({"Delete": {"TableName": t, "Key": {"pk": {"N": "5"}}}},
                    {"ConditionCheck": {"TableName": t, "Key": {"pk": {"L": [{"S": "x"}]}},
                                        "ConditionExpression": "attribute_not_exists(pk)"}}):
            code, _, e = self.err(self.ddb.transact_write_items, TransactItems=[act])
            self.assertEqual(code, "TransactionCanceledException")
            self.assertEqual(e["CancellationReasons"], [
                {"Code": "ValidationError",
                 "Message": "The provided key element does not match the schema"}])

    def test_empty_key_value_is_refused_before_the_transaction(self):
        # an empty S or B key value is refused as the request's own error, a
        # ValidationException, not as a cancellation reason (as DynamoDB does)
        t = self.new_table()
        empty = ("One or more parameter values are not valid. The AttributeValue for a key "
                 "attribute cannot contain an empty string value. Key: pk")
        for act in ({"Put": {"TableName": t, "Item": {"pk": {"S": ""}}}},
                    {"Update": {"TableName": t, "Key": {"pk": {"S": ""}},
                                "UpdateExpression": "SET v = :v",
                                "ExpressionAttributeValues": {":v": {"S": "b"}}}},
                    {"Delete": {"TableName": t, "Key": {"pk": {"S": ""}}}},
                    {"ConditionCheck": {"TableName": t, "Key": {"pk": {"S": ""}},
                                        "ConditionExpression": "attribute_not_exists(pk)"}}):
            code, msg, _ = self.err(self.ddb.transact_write_items, TransactItems=[
                {"Put": {"TableName": t, "Item": {"pk": {"S": "ok"}}}}, act])
            self.assertEqual((code, msg), ("ValidationException", empty), act)
        self.assertIsNone(self.get(t, "ok"))

    def test_index_key_of_another_type_cancels_with_validation_error(self):
        t = "tx-" + uuid.uuid4().hex[:12]
        self.ddb.create_table(
            TableName=t, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                  {"AttributeName": "g", "AttributeType": "S"},
                                  {"AttributeName": "b", "AttributeType": "B"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            GlobalSecondaryIndexes=[
                {"IndexName": "gix", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                 "Projection": {"ProjectionType": "ALL"}},
                {"IndexName": "bix", "KeySchema": [{"AttributeName": "b", "KeyType": "HASH"}],
                 "Projection": {"ProjectionType": "KEYS_ONLY"}}])
        mismatch = ("One or more parameter values were invalid: Type mismatch for Index Key g "
                    "Expected: S Actual: %s IndexName: gix")
        for action, actual in [
                ({"Put": {"TableName": t, "Item": {"pk": {"S": "a"}, "g": {"N": "5"}}}}, "N"),
                ({"Put": {"TableName": t, "Item": {"pk": {"S": "a"}, "g": {"L": [{"S": "x"}]}}}},
                 "L"),
                ({"Update": {"TableName": t, "Key": {"pk": {"S": "a"}},
                             "UpdateExpression": "SET g = :v",
                             "ExpressionAttributeValues": {":v": {"N": "5"}}}}, "N")]:
            code, msg, e = self.err(self.ddb.transact_write_items, TransactItems=[action])
            self.assertEqual(code, "TransactionCanceledException")
            self.assertEqual(msg, "Transaction cancelled, please refer cancellation reasons for "
                                  "specific reasons [ValidationError]")
            self.assertEqual(e["CancellationReasons"],
                             [{"Code": "ValidationError", "Message": mismatch % actual}])
        # an Update that empties an index key is refused before the transaction
        code, msg, e = self.err(self.ddb.transact_write_items, TransactItems=[
            {"Update": {"TableName": t, "Key": {"pk": {"S": "a"}},
                        "UpdateExpression": "SET b = :v",
                        "ExpressionAttributeValues": {":v": {"B": b""}}}}])
        self.assertEqual(code, "ValidationException")
        self.assertEqual(msg, "One or more parameter values are not valid. The update expression "
                              "attempted to update a secondary index key to a value that is not "
                              "supported. The AttributeValue for a key attribute cannot contain "
                              "an empty binary value.")
        self.assertNotIn("CancellationReasons", e)
        self.assertIsNone(self.get(t, "a"))

    def test_transact_get_key_not_fitting_cancels(self):
        t = self.new_table()
        self.ddb.put_item(TableName=t, Item={"pk": {"S": "a"}})
        for key in [{}, {"pk": {"N": "1"}}]:
            code, msg, e = self.err(self.ddb.transact_get_items, TransactItems=[
                {"Get": {"TableName": t, "Key": {"pk": {"S": "a"}}}},
                {"Get": {"TableName": t, "Key": key}}])
            self.assertEqual(code, "TransactionCanceledException")
            self.assertEqual(msg, "Transaction cancelled, please refer cancellation reasons for "
                                  "specific reasons [None, ValidationError]")
            self.assertEqual(e["CancellationReasons"], [
                {"Code": "None"},
                {"Code": "ValidationError",
                 "Message": "The provided key element does not match the schema"}])
        # an empty key value is still the request's own ValidationException
        code, msg, _ = self.err(self.ddb.transact_get_items, TransactItems=[
            {"Get": {"TableName": t, "Key": {"pk": {"S": ""}}}}])
        self.assertEqual(code, "ValidationException")
        self.assertIn("cannot contain an empty string value", msg)

    def test_idempotency_token(self):
        t = self.new_table()
        self.ddb.put_item(TableName=t, Item={"pk": {"S": "c"}, "n": {"N": "0"}})
        req = [{"Update": {"TableName": t, "Key": {"pk": {"S": "c"}},
                           "UpdateExpression": "ADD n :one",
                           "ExpressionAttributeValues": {":one": {"N": "1"}}}}]
        tok = uuid.uuid4().hex
        self.ddb.transact_write_items(TransactItems=req, ClientRequestToken=tok)
        self.ddb.transact_write_items(TransactItems=req, ClientRequestToken=tok)
        self.assertEqual(self.get(t, "c")["n"], {"N": "1"})  # applied once
        other = [{"Put": {"TableName": t, "Item": {"pk": {"S": "d"}}}}]
        code, _, _ = self.err(self.ddb.transact_write_items, TransactItems=other,
                              ClientRequestToken=tok)
        self.assertEqual(code, "IdempotentParameterMismatchException")
        self.ddb.transact_write_items(TransactItems=req, ClientRequestToken=uuid.uuid4().hex)
        self.assertEqual(self.get(t, "c")["n"], {"N": "2"})
        # the same request with an item's attributes in another order is the
        # same request, as DynamoDB compares them
        tok3 = uuid.uuid4().hex
        self.ddb.transact_write_items(ClientRequestToken=tok3, TransactItems=[
            {"Put": {"TableName": t, "Item": {"pk": {"S": "f"}, "v": {"S": "1"}}}}])
        self.ddb.transact_write_items(ClientRequestToken=tok3, TransactItems=[
            {"Put": {"Item": {"v": {"S": "1"}, "pk": {"S": "f"}}, "TableName": t}}])
        code, _, _ = self.err(self.ddb.transact_write_items, ClientRequestToken=tok3,
                              TransactItems=[{"Put": {"TableName": t, "Item": {
                                  "v": {"S": "2"}, "pk": {"S": "f"}}}}])
        self.assertEqual(code, "IdempotentParameterMismatchException")
        # the service model names this exception's text "Message"
        status, _, body = self.server.raw("TransactWriteItems", json.dumps(
            {"ClientRequestToken": tok3, "TransactItems": [{"Put": {"TableName": t, "Item": {
                "v": {"S": "3"}, "pk": {"S": "f"}}}}]}))
        self.assertEqual((status, json.loads(body)["Message"]),
                         (400, "Request parameters do not match the original request for the "
                               "idempotency token"))
        # a canceled transaction does not hold its token: the retry runs again
        cond = [{"ConditionCheck": {"TableName": t, "Key": {"pk": {"S": "e"}},
                                    "ConditionExpression": "attribute_exists(pk)"}}]
        tok2 = uuid.uuid4().hex
        code, _, _ = self.err(self.ddb.transact_write_items, TransactItems=cond,
                              ClientRequestToken=tok2)
        self.assertEqual(code, "TransactionCanceledException")
        self.ddb.put_item(TableName=t, Item={"pk": {"S": "e"}})
        self.ddb.transact_write_items(TransactItems=cond, ClientRequestToken=tok2)

    def test_concurrent_transfers_keep_the_sum(self):
        t = self.new_table()
        for pk in ("x", "y"):
            self.ddb.put_item(TableName=t, Item={"pk": {"S": pk}, "bal": {"N": "100"}})
        clients = [self.server.boto3() for _ in range(4)]

        def transfer(c, n):
            for i in range(n):
                src, dst = ("x", "y") if i % 2 else ("y", "x")
                try:
                    c.transact_write_items(TransactItems=[
                        {"Update": {"TableName": t, "Key": {"pk": {"S": src}},
                                    "UpdateExpression": "SET bal = bal - :a",
                                    "ConditionExpression": "bal >= :a",
                                    "ExpressionAttributeValues": {":a": {"N": "7"}}}},
                        {"Update": {"TableName": t, "Key": {"pk": {"S": dst}},
                                    "UpdateExpression": "SET bal = bal + :a",
                                    "ExpressionAttributeValues": {":a": {"N": "7"}}}}])
                except c.exceptions.TransactionCanceledException:
                    pass

        ths = [threading.Thread(target=transfer, args=(c, 25)) for c in clients]
        for th in ths:
            th.start()
        for th in ths:
            th.join()
        total = sum(int(self.get(t, pk)["bal"]["N"]) for pk in ("x", "y"))
        self.assertEqual(total, 200)

    def test_transact_get(self):
        t = self.new_table(sort_key=True)
        self.ddb.put_item(TableName=t, Item={"pk": {"S": "a"}, "sk": {"N": "1"},
                                             "v": {"S": "one"}, "w": {"S": "w"}})
        out = self.ddb.transact_get_items(TransactItems=[
            {"Get": {"TableName": t, "Key": {"pk": {"S": "a"}, "sk": {"N": "1"}},
                     "ProjectionExpression": "#v", "ExpressionAttributeNames": {"#v": "v"}}},
            {"Get": {"TableName": t, "Key": {"pk": {"S": "a"}, "sk": {"N": "2"}}}},
        ])
        self.assertEqual(out["Responses"], [{"Item": {"v": {"S": "one"}}}, {}])
        k = {"pk": {"S": "a"}, "sk": {"N": "1"}}
        code, msg, _ = self.err(self.ddb.transact_get_items, TransactItems=[
            {"Get": {"TableName": t, "Key": k}}, {"Get": {"TableName": t, "Key": k}}])
        self.assertEqual(code, "ValidationException")
        self.assertIn("multiple operations on one item", msg)
        # a Key missing the sort key cancels with a ValidationError reason
        code, _, e = self.err(self.ddb.transact_get_items, TransactItems=[
            {"Get": {"TableName": t, "Key": {"pk": {"S": "a"}}}}])
        self.assertEqual(code, "TransactionCanceledException")
        self.assertEqual([r["Code"] for r in e["CancellationReasons"]], ["ValidationError"])
        code, _, _ = self.err(self.ddb.transact_get_items, TransactItems=[
            {"Get": {"TableName": "nope-" + t, "Key": k}}])
        self.assertEqual(code, "ResourceNotFoundException")

    def test_table_arns(self):
        t, u = self.new_table(), self.new_table()
        at = self.ddb.describe_table(TableName=t)["Table"]["TableArn"]
        au = self.ddb.describe_table(TableName=u)["Table"]["TableArn"]
        self.ddb.put_item(TableName=u, Item={"pk": {"S": "check"}, "n": {"N": "1"}})
        self.ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": at, "Item": {"pk": {"S": "p"}}}},
            {"Update": {"TableName": au, "Key": {"pk": {"S": "check"}},
                        "UpdateExpression": "SET n = n + :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        ])
        self.assertIsNotNone(self.get(t, "p"))
        self.assertEqual(self.get(u, "check")["n"], {"N": "2"})
        self.ddb.transact_write_items(TransactItems=[
            {"Delete": {"TableName": at, "Key": {"pk": {"S": "p"}}}},
            {"ConditionCheck": {"TableName": au, "Key": {"pk": {"S": "check"}},
                                "ConditionExpression": "attribute_exists(pk)"}}])
        self.assertIsNone(self.get(t, "p"))
        out = self.ddb.transact_get_items(TransactItems=[
            {"Get": {"TableName": au, "Key": {"pk": {"S": "check"}}}},
            {"Get": {"TableName": t, "Key": {"pk": {"S": "p"}}}}])
        self.assertEqual(out["Responses"][0]["Item"]["n"], {"N": "2"})
        self.assertEqual(out["Responses"][1], {})
        # another region's table: not found here, and nothing is written
        other = at.replace(":us-east-1:", ":eu-west-3:")
        code, msg, _ = self.err(self.ddb.transact_write_items, TransactItems=[
            {"Put": {"TableName": u, "Item": {"pk": {"S": "q"}}}},
            {"Put": {"TableName": other, "Item": {"pk": {"S": "q"}}}}])
        self.assertEqual(code, "ResourceNotFoundException")
        self.assertIn(other, msg)
        self.assertIsNone(self.get(u, "q"))
        code, _, _ = self.err(self.ddb.transact_get_items, TransactItems=[
            {"Get": {"TableName": other, "Key": {"pk": {"S": "p"}}}}])
        self.assertEqual(code, "ResourceNotFoundException")

    def test_cli(self):
        t = self.new_table()
        env = self.server.env()
        items = [{"Put": {"TableName": t, "Item": {"pk": {"S": "cli"}}}},
                 {"Put": {"TableName": t, "Item": {"pk": {"S": "cli2"}}}}]
        p = subprocess.run(["aws", "--endpoint-url", env["TANDEM_ENDPOINT"], "--output", "json",
                            "dynamodb", "transact-write-items", "--transact-items",
                            json.dumps(items)], env=env, capture_output=True, text=True,
                           timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        p = subprocess.run(["aws", "--endpoint-url", env["TANDEM_ENDPOINT"], "--output", "json",
                            "dynamodb", "transact-write-items", "--transact-items",
                            json.dumps([{"ConditionCheck": {
                                "TableName": t, "Key": {"pk": {"S": "cli"}},
                                "ConditionExpression": "attribute_not_exists(pk)"}}])],
                           env=env, capture_output=True, text=True, timeout=120)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("TransactionCanceledException", p.stderr)
        self.assertEqual(self.count(t), 2)


if __name__ == "__main__":
    unittest.main()
