"""DynamoDB Streams through the aws CLI (v1 and v2, whichever this machine has):
list-streams, describe-stream, get-shard-iterator and get-records see a table's
writes as the service shows them."""

import json
import subprocess
import unittest
import uuid

from tandem_harness import ServerTestCase, find_clients


def cli_clients():
    return [c for c in find_clients() if c.kind == "cli"]


class StreamsCli(ServerTestCase):
    def streams(self, client, op, **params):
        cmd = client.argv + ["dynamodbstreams", op, "--endpoint-url", self.server.url(False),
                             "--output", "json", "--cli-input-json", json.dumps(params)]
        p = subprocess.run(cmd, env=self.server.env(False), stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout) if p.stdout.strip() else {}

    def present_clis(self):
        """The aws CLIs this machine has (skips the test when none)."""
        clis = [c for c in cli_clients() if not c.missing]
        if not clis:
            self.skipTest("no aws CLI on this machine")
        return clis

    @staticmethod
    def new_table(ddb, view):
        """A table with a stream of @view: its name and the stream's ARN."""
        name = "cli-" + uuid.uuid4().hex[:10]
        arn = ddb.create_table(
            TableName=name, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": view},
        )["TableDescription"]["LatestStreamArn"]
        return name, arn

    def test_records_through_the_cli(self):
        ddb = self.server.boto3()
        for client in self.present_clis():
            with self.subTest(client=client.name):
                name, arn = self.new_table(ddb, "NEW_AND_OLD_IMAGES")
                ddb.put_item(TableName=name, Item={"id": {"S": "a"}, "n": {"N": "1"}})
                ddb.put_item(TableName=name, Item={"id": {"S": "a"}, "n": {"N": "2"}})
                ddb.delete_item(TableName=name, Key={"id": {"S": "a"}})

                listed = self.streams(client, "list-streams", TableName=name)
                self.assertEqual([s["StreamArn"] for s in listed["Streams"]], [arn])
                desc = self.streams(client, "describe-stream", StreamArn=arn)
                d = desc["StreamDescription"]
                self.assertEqual(d["StreamStatus"], "ENABLED")
                self.assertEqual(d["StreamViewType"], "NEW_AND_OLD_IMAGES")
                shard = d["Shards"][0]["ShardId"]
                it = self.streams(client, "get-shard-iterator", StreamArn=arn, ShardId=shard,
                                  ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
                recs = self.streams(client, "get-records", ShardIterator=it)["Records"]
                self.assertEqual([r["eventName"] for r in recs], ["INSERT", "MODIFY", "REMOVE"])
                self.assertEqual(recs[1]["dynamodb"]["OldImage"]["n"], {"N": "1"})
                self.assertEqual(recs[1]["dynamodb"]["NewImage"]["n"], {"N": "2"})
                self.assertEqual(recs[2]["dynamodb"]["Keys"], {"id": {"S": "a"}})
                seqs = [int(r["dynamodb"]["SequenceNumber"]) for r in recs]
                self.assertEqual(seqs, sorted(seqs))

    def test_over_long_values_are_the_services_validation_errors(self):
        """The CLI checks only minimum lengths itself: a maximum is the
        server's to enforce, with DynamoDB Streams' constraint message."""
        _, arn = self.new_table(self.server.boto3(), "KEYS_ONLY")
        for client in self.present_clis():
            with self.subTest(client=client.name):
                for op, params, want in (
                        ("describe-stream", {"StreamArn": arn, "ExclusiveStartShardId": "s" * 66},
                         "at 'exclusiveStartShardId' failed to satisfy constraint: Member must "
                         "have length less than or equal to 65"),
                        ("get-records", {"ShardIterator": "i" * 2049},
                         "at 'shardIterator' failed to satisfy constraint: Member must have "
                         "length less than or equal to 2048")):
                    cmd = client.argv + ["dynamodbstreams", op, "--endpoint-url",
                                         self.server.url(False), "--cli-input-json",
                                         json.dumps(params)]
                    p = subprocess.run(cmd, env=self.server.env(False), stdin=subprocess.DEVNULL,
                                       capture_output=True, text=True, timeout=120)
                    self.assertNotEqual(p.returncode, 0)
                    self.assertIn("(ValidationException)", p.stderr)
                    self.assertIn(want, p.stderr)


if __name__ == "__main__":
    unittest.main()
