"""Time to Live through boto3 and the aws CLI: UpdateTimeToLive /
DescribeTimeToLive with the service's validations, and the sweeper
(--ttl-interval 1) deleting expired items within a bounded time."""

import json
import subprocess
import time
import unittest
import uuid

from tandem_harness import ServerTestCase


class TimeToLive(ServerTestCase):
    server_args = {"extra_args": ["--ttl-interval", "1"]}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ddb = cls.server.boto3()

    def new_table(self):
        name = "ttl-" + uuid.uuid4().hex[:12]
        self.ddb.create_table(TableName=name,
                              AttributeDefinitions=[{"AttributeName": "pk",
                                                     "AttributeType": "S"}],
                              KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                              BillingMode="PAY_PER_REQUEST")
        return name

    def err(self, fn, **kw):
        with self.assertRaises(self.ddb.exceptions.ClientError) as cm:
            fn(**kw)
        e = cm.exception.response
        return e["Error"]["Code"], e["Error"]["Message"]

    def test_update_and_describe(self):
        t = self.new_table()
        d = self.ddb.describe_time_to_live(TableName=t)["TimeToLiveDescription"]
        self.assertEqual(d, {"TimeToLiveStatus": "DISABLED"})
        out = self.ddb.update_time_to_live(
            TableName=t, TimeToLiveSpecification={"AttributeName": "exp", "Enabled": True})
        self.assertEqual(out["TimeToLiveSpecification"], {"AttributeName": "exp", "Enabled": True})
        d = self.ddb.describe_time_to_live(TableName=t)["TimeToLiveDescription"]
        self.assertEqual(d, {"TimeToLiveStatus": "ENABLED", "AttributeName": "exp"})
        self.assertEqual(self.err(self.ddb.update_time_to_live, TableName=t,
                                  TimeToLiveSpecification={"AttributeName": "exp",
                                                           "Enabled": True}),
                         ("ValidationException", "TimeToLive is already enabled"))
        code, msg = self.err(self.ddb.update_time_to_live, TableName=t,
                             TimeToLiveSpecification={"AttributeName": "other",
                                                      "Enabled": False})
        self.assertEqual(code, "ValidationException")
        self.assertIn("different AttributeName", msg)
        self.ddb.update_time_to_live(
            TableName=t, TimeToLiveSpecification={"AttributeName": "exp", "Enabled": False})
        self.assertEqual(self.err(self.ddb.update_time_to_live, TableName=t,
                                  TimeToLiveSpecification={"AttributeName": "exp",
                                                           "Enabled": False}),
                         ("ValidationException", "TimeToLive is already disabled"))
        code, _ = self.err(self.ddb.describe_time_to_live, TableName="missing-" + t)
        self.assertEqual(code, "ResourceNotFoundException")
        code, _ = self.err(self.ddb.update_time_to_live, TableName="missing-" + t,
                           TimeToLiveSpecification={"AttributeName": "exp", "Enabled": True})
        self.assertEqual(code, "ResourceNotFoundException")
        # a table created again under the same name starts without TTL
        self.ddb.update_time_to_live(
            TableName=t, TimeToLiveSpecification={"AttributeName": "exp", "Enabled": True})
        self.ddb.delete_table(TableName=t)
        self.ddb.create_table(TableName=t,
                              AttributeDefinitions=[{"AttributeName": "pk",
                                                     "AttributeType": "S"}],
                              KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                              BillingMode="PAY_PER_REQUEST")
        d = self.ddb.describe_time_to_live(TableName=t)["TimeToLiveDescription"]
        self.assertEqual(d["TimeToLiveStatus"], "DISABLED")

    def test_sweeper_deletes_expired_items(self):
        t = self.new_table()
        now = int(time.time())
        items = {
            "past": {"N": str(now - 10)},
            "future": {"N": str(now + 3600)},
            "string": {"S": str(now - 10)},
            "ancient": {"N": str(now - 6 * 365 * 24 * 3600)},
        }
        for pk, v in items.items():
            self.ddb.put_item(TableName=t, Item={"pk": {"S": pk}, "exp": v})
        self.ddb.put_item(TableName=t, Item={"pk": {"S": "none"}})
        self.ddb.update_time_to_live(
            TableName=t, TimeToLiveSpecification={"AttributeName": "exp", "Enabled": True})
        deadline = time.time() + 15
        while time.time() < deadline:
            if "Item" not in self.ddb.get_item(TableName=t, Key={"pk": {"S": "past"}}):
                break
            time.sleep(0.2)
        left = sorted(i["pk"]["S"] for i in self.ddb.scan(TableName=t)["Items"])
        self.assertEqual(left, ["ancient", "future", "none", "string"])
        self.assertEqual(self.ddb.describe_table(TableName=t)["Table"]["ItemCount"], 4)

    def test_validation_and_cli(self):
        t = self.new_table()
        env = self.server.env()
        p = subprocess.run(["aws", "--endpoint-url", env["TANDEM_ENDPOINT"], "--output", "json",
                            "dynamodb", "update-time-to-live", "--table-name", t,
                            "--time-to-live-specification", "Enabled=true,AttributeName=ttl"],
                           env=env, capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        p = subprocess.run(["aws", "--endpoint-url", env["TANDEM_ENDPOINT"], "--output", "json",
                            "dynamodb", "describe-time-to-live", "--table-name", t],
                           env=env, capture_output=True, text=True, timeout=120)
        self.assertIn('"ENABLED"', p.stdout)
        status, _, body = self.server.raw("UpdateTimeToLive", json.dumps({"TableName": t}))
        self.assertAwsError(status, body, "ValidationException")
        self.assertIn(b"timeToLiveSpecification", body)
        status, _, body = self.server.raw("UpdateTimeToLive", json.dumps(
            {"TableName": t, "TimeToLiveSpecification": {"AttributeName": "", "Enabled": True}}))
        self.assertAwsError(status, body, "ValidationException")
        status, _, body = self.server.raw("UpdateTimeToLive", json.dumps(
            {"TableName": t, "TimeToLiveSpecification": {"AttributeName": "a", "Enabled": "x"}}))
        self.assertAwsError(status, body, "SerializationException")


if __name__ == "__main__":
    unittest.main()
