"""Every DynamoDB client on the machine, unchanged, over HTTP and HTTPS:
the aws CLI v1 and v2, boto3 from the machine's python3 and from Debian's,
and the AWS SDK for JavaScript v3. Each runs the table and item lifecycle
against one real `tandem server` and the responses are checked."""

import time
import unittest

from tandem_harness import ClientFailed, ServerTestCase, find_clients


def lifecycle(test, client, tls):
    srv = test.server
    table = "clients-%s-%s" % (client.name, "https" if tls else "http")

    def call(op, **params):
        return client.call(srv, tls, op, params)

    out = call("CreateTable", TableName=table,
               AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                     {"AttributeName": "sk", "AttributeType": "N"}],
               KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                          {"AttributeName": "sk", "KeyType": "RANGE"}],
               BillingMode="PAY_PER_REQUEST")
    desc = out["TableDescription"]
    test.assertEqual(desc["TableName"], table)
    test.assertIn(desc["TableStatus"], ("CREATING", "ACTIVE"))
    test.assertTrue(desc["TableArn"].startswith("arn:aws:dynamodb:%s:" % srv.region),
                    desc["TableArn"])

    deadline = time.monotonic() + 30
    while True:
        table_desc = call("DescribeTable", TableName=table)["Table"]
        if table_desc["TableStatus"] == "ACTIVE" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    test.assertEqual(table_desc["TableStatus"], "ACTIVE")
    test.assertEqual(sorted(k["AttributeName"] for k in table_desc["KeySchema"]), ["pk", "sk"])
    test.assertEqual(table_desc["ItemCount"], 0)

    test.assertIn(table, call("ListTables")["TableNames"])

    item = {"pk": {"S": "user#1"}, "sk": {"N": "42"}, "name": {"S": "Ada"},
            "tags": {"SS": ["a", "b"]}, "nested": {"M": {"n": {"N": "1.5"},
                                                          "l": {"L": [{"BOOL": True},
                                                                      {"NULL": True}]}}}}
    test.assertEqual(call("PutItem", TableName=table, Item=item), {})
    got = call("GetItem", TableName=table, Key={"pk": item["pk"], "sk": item["sk"]},
               ConsistentRead=True)
    got["Item"]["tags"]["SS"].sort()
    test.assertEqual(got["Item"], item)

    scan = call("Scan", TableName=table)
    test.assertEqual(scan["Count"], 1)
    test.assertEqual(scan["ScannedCount"], 1)
    test.assertEqual(scan["Items"][0]["name"], {"S": "Ada"})

    out = call("DeleteItem", TableName=table, Key={"pk": item["pk"], "sk": item["sk"]},
               ReturnValues="ALL_OLD")
    test.assertEqual(out["Attributes"]["name"], {"S": "Ada"})
    test.assertNotIn("Item", call("GetItem", TableName=table,
                                  Key={"pk": item["pk"], "sk": item["sk"]}))
    test.assertEqual(call("Scan", TableName=table)["Count"], 0)

    with test.assertRaises(ClientFailed) as cm:
        call("GetItem", TableName=table + "-missing", Key={"pk": {"S": "x"}})
    test.assertEqual(cm.exception.code, "ResourceNotFoundException")

    out = call("DeleteTable", TableName=table)
    test.assertEqual(out["TableDescription"]["TableName"], table)
    deadline = time.monotonic() + 30
    while table in call("ListTables")["TableNames"] and time.monotonic() < deadline:
        time.sleep(0.2)
    test.assertNotIn(table, call("ListTables")["TableNames"])


class ClientMatrix(ServerTestCase):
    server_args = {"tls": True}


def _make(client, tls):
    def test(self):
        if client.missing:
            self.skipTest("%s absent: %s" % (client.name, client.missing))
        lifecycle(self, client, tls)
    return test


for _c in find_clients():
    for _tls in (False, True):
        setattr(ClientMatrix, "test_%s_%s" % (_c.name.replace("-", "_"),
                                              "https" if _tls else "http"), _make(_c, _tls))


if __name__ == "__main__":
    unittest.main()
