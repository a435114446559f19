"""`aws:lambda:EventSourceMapping` from a stack: a table's stream mapped to a
python function by `tandem up` on a `tandem server` named by endpoint. The
function copies what it gets into a sink table, which shows delivery; a
changed batch size and filter are updated in place (same UUID), `enabled:
false` disables the mapping, refresh and a no-change up find nothing to do,
and destroy removes it. Settings a region does not carry out are refused at
plan time, at their position."""
import json
import time
import unittest

from stack_helpers import region_project

PROGRAM = """\
name: esmstack
runtime: yaml
config:
  url:
    type: string
resources:
  region:
    type: pulumi:providers:aws
    properties:
      region: us-east-1
      endpoints:
        - dynamodb: ${url}
          lambda: ${url}
          iam: ${url}
  orders:
    type: aws:dynamodb:Table
    properties:
      name: orders
      billingMode: PAY_PER_REQUEST
      hashKey: id
      attributes:
        - name: id
          type: S
      streamEnabled: true
      streamViewType: NEW_AND_OLD_IMAGES
    options:
      provider: ${region}
  sink:
    type: aws:dynamodb:Table
    properties:
      name: sink
      billingMode: PAY_PER_REQUEST
      hashKey: id
      attributes:
        - name: id
          type: S
    options:
      provider: ${region}
  role:
    type: aws:iam:Role
    properties:
      name: esm-stack-role
      assumeRolePolicy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
    options:
      provider: ${region}
  access:
    type: aws:iam:RolePolicy
    properties:
      role: ${role.id}
      policy:
        fn::toJSON:
          Version: 2012-10-17
          Statement:
            - Effect: Allow
              Action: [dynamodb:DescribeStream, dynamodb:GetRecords, dynamodb:GetShardIterator, dynamodb:ListStreams]
              Resource: ${orders.streamArn}
            - Effect: Allow
              Action: dynamodb:PutItem
              Resource: ${sink.arn}
    options:
      provider: ${region}
  copier:
    type: aws:lambda:Function
    properties:
      name: copier
      role: ${role.arn}
      runtime: python3.11
      handler: app.handler
      timeout: 30
      environment:
        variables:
          SINK: ${sink.name}
      code:
        fn::assetArchive:
          app.py:
            fn::stringAsset: |
              import os
              import boto3
              ddb = boto3.client("dynamodb", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
              def handler(event, context):
                  for r in event["Records"]:
                      ddb.put_item(TableName=os.environ["SINK"], Item={
                          "id": r["dynamodb"]["Keys"]["id"],
                          "batch": {"N": str(len(event["Records"]))}})
                  return len(event["Records"])
    options:
      provider: ${region}
  feed:
    type: aws:lambda:EventSourceMapping
    properties:
      eventSourceArn: ${orders.streamArn}
      functionName: ${copier.arn}
      startingPosition: TRIM_HORIZON
%(settings)s
    options:
      provider: ${region}
outputs:
  uuid: ${feed.uuid}
  mappingArn: ${feed.arn}
  state: ${feed.state}
  functionArn: ${feed.functionArn}
"""

FIRST = """\
      batchSize: 10
      tags:
        Name: dynamodb-stream-mapping
        team: dr"""
SECOND = """\
      batchSize: 5
      tags:
        Name: dynamodb-stream-mapping
        cost: "42"
      maximumRetryAttempts: 2
      filterCriteria:
        filters:
          - pattern: '{"dynamodb":{"Keys":{"id":{"S":[{"prefix":"keep"}]}}}}'"""
DISABLED = SECOND + "\n      enabled: false"


class StackEventSourceMapping(unittest.TestCase):
    def setUp(self):
        self.server, self.p = region_project(self, PROGRAM % {"settings": FIRST})
        self.ddb = self.server.boto3("dynamodb", max_attempts=1)
        self.lam = self.server.boto3("lambda", max_attempts=1, read_timeout=60)

    def sink_ids(self):
        items = self.ddb.scan(TableName="sink", ConsistentRead=True)["Items"]
        return sorted(i["id"]["S"] for i in items)

    def wait_sink(self, want, timeout=90):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.sink_ids() == want:
                return
            time.sleep(0.3)
        self.assertEqual(self.sink_ids(), want)

    def put(self, *ids):
        for i in ids:
            self.ddb.put_item(TableName="orders", Item={"id": {"S": i}})

    def test_map_update_disable_destroy(self):
        p = self.p
        up = p.json("up", "--yes", check=None)
        self.assertTrue(up["ok"], up)
        out = p.json("output")
        uuid = out["uuid"]
        m = self.lam.get_event_source_mapping(UUID=uuid)
        stream = self.ddb.describe_table(TableName="orders")["Table"]["LatestStreamArn"]
        self.assertEqual((m["EventSourceArn"], m["BatchSize"], m["State"]),
                         (stream, 10, "Enabled"))
        self.assertEqual(out["functionArn"],
                         "arn:aws:lambda:us-east-1:123456789012:function:copier")
        self.assertEqual(out["mappingArn"], m["EventSourceMappingArn"])
        self.assertEqual(self.lam.list_tags(Resource=out["mappingArn"])["Tags"],
                         {"Name": "dynamodb-stream-mapping", "team": "dr"})
        self.assertEqual(out["state"], "Enabled")
        self.put("a1", "a2", "keep-1")
        self.wait_sink(["a1", "a2", "keep-1"])
        # nothing changed: nothing written; reading it back finds it as the program says
        self.assertEqual(p.json("up", "--yes")["writes"], 0)
        p.run("refresh", "--yes", check=0)
        self.assertEqual(p.json("up", "--yes")["writes"], 0)
        # batch size, retries and a filter changed in place: the same mapping
        p.write(PROGRAM % {"settings": SECOND})
        up = p.json("up", "--yes", check=None)
        self.assertTrue(up["ok"], up)
        self.assertEqual(p.json("output")["uuid"], uuid)
        m = self.lam.get_event_source_mapping(UUID=uuid)
        self.assertEqual((m["BatchSize"], m["MaximumRetryAttempts"]), (5, 2))
        self.assertEqual(len(m["FilterCriteria"]["Filters"]), 1)
        self.assertEqual(self.lam.list_tags(Resource=m["EventSourceMappingArn"])["Tags"],
                         {"Name": "dynamodb-stream-mapping", "cost": "42"})
        self.put("drop-1", "keep-2")
        self.wait_sink(["a1", "a2", "keep-1", "keep-2"])
        time.sleep(1)
        self.assertNotIn("drop-1", self.sink_ids())
        # disabled in place; the program's enabled: false reads back as such
        p.write(PROGRAM % {"settings": DISABLED})
        up = p.json("up", "--yes", check=None)
        self.assertTrue(up["ok"], up)
        self.assertEqual(self.lam.get_event_source_mapping(UUID=uuid)["State"], "Disabled")
        self.assertEqual(p.json("output")["state"], "Disabled")
        p.run("refresh", "--yes", check=0)
        self.assertEqual(p.json("up", "--yes")["writes"], 0)
        # taking the settings out puts the service's defaults back
        p.write(PROGRAM % {"settings": ""})
        up = p.json("up", "--yes", check=None)
        self.assertTrue(up["ok"], up)
        m = self.lam.get_event_source_mapping(UUID=uuid)
        self.assertEqual((m["BatchSize"], m["MaximumRetryAttempts"], m["State"]),
                         (100, -1, "Enabled"))
        self.assertFalse(m.get("FilterCriteria", {}).get("Filters"))
        p.run("destroy", "--yes", check=0)
        self.assertEqual(self.lam.list_event_source_mappings()["EventSourceMappings"], [])
        self.assertEqual(self.lam.list_functions()["Functions"], [])

    def test_refused_at_plan_time(self):
        for setting, where in (("      tumblingWindowInSeconds: 60", "tumblingWindowInSeconds"),
                               ("      destinationConfig: {onFailure: {destinationArn: x}}",
                                "destinationConfig"),
                               ("      queues: [q]", "queues"),
                               ("      startingPositionTimestamp: '2026-01-01T00:00:00Z'",
                                "startingPositionTimestamp")):
            self.p.write(PROGRAM % {"settings": setting})
            r = self.p.run("preview", check=None)
            self.assertNotEqual(r.returncode, 0, r.stdout)
            self.assertIn("property '%s' is valid in Pulumi but Tandem does not support it yet"
                          % where, r.stderr + r.stdout)
        self.p.write((PROGRAM % {"settings": ""}).replace("TRIM_HORIZON", "AT_TIMESTAMP"))
        r = self.p.run("preview", check=None)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("AT_TIMESTAMP", r.stderr + r.stdout)
        self.assertIn("Tandem.yaml:", r.stderr + r.stdout)
        # nothing was made
        self.assertEqual(self.lam.list_event_source_mappings()["EventSourceMappings"], [])
        self.assertEqual(json.dumps(self.p.state()["resources"]), "[]")


if __name__ == "__main__":
    unittest.main()
