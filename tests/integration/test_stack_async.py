"""`aws:lambda:FunctionEventInvokeConfig` from a stack: a function's Event
invocations with no retries and an on-failure destination (another function of
the stack, which writes down the record it gets), deployed by `tandem up` on a
`tandem server` named by endpoint. A failing Event invocation reaches the
destination with Lambda's record; changing the settings updates them in place,
refresh and a no-change up find nothing to do, and destroy removes the
configuration."""
import json
import time
import unittest

from stack_helpers import region_project

PROGRAM = """\
name: asyncstack
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
  records:
    type: aws:dynamodb:Table
    properties:
      name: records
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
      name: async-role
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
              Action: dynamodb:PutItem
              Resource: ${records.arn}
            - Effect: Allow
              Action: lambda:InvokeFunction
              Resource: ${onFailure.arn}
    options:
      provider: ${region}
  flaky:
    type: aws:lambda:Function
    properties:
      name: flaky
      role: ${role.arn}
      runtime: python3.11
      handler: app.handler
      reservedConcurrentExecutions: %(rce)d
      code:
        fn::assetArchive:
          app.py:
            fn::stringAsset: |
              def handler(event, context):
                  raise RuntimeError("always fails: " + event["id"])
    options:
      provider: ${region}
  onFailure:
    type: aws:lambda:Function
    properties:
      name: on-failure
      role: ${role.arn}
      runtime: python3.11
      handler: app.handler
      code:
        fn::assetArchive:
          app.py:
            fn::stringAsset: |
              import json
              import os
              import boto3
              ddb = boto3.client("dynamodb", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
              def handler(event, context):
                  ddb.put_item(TableName="records", Item={
                      "id": {"S": event["requestPayload"]["id"]},
                      "record": {"S": json.dumps(event)}})
    options:
      provider: ${region}
  asyncConfig:
    type: aws:lambda:FunctionEventInvokeConfig
    properties:
      functionName: ${flaky.name}
      maximumRetryAttempts: %(retries)d
      maximumEventAgeInSeconds: %(age)d
      destinationConfig:
        onFailure:
          destination: ${onFailure.arn}
    options:
      provider: ${region}
outputs:
  configId: ${asyncConfig.id}
"""


class StackEventInvokeConfig(unittest.TestCase):
    def setUp(self):
        self.server, self.p = region_project(self, PROGRAM % {"retries": 0, "age": 600, "rce": 5})
        self.lam = self.server.boto3("lambda", max_attempts=1, read_timeout=60)
        self.ddb = self.server.boto3("dynamodb", max_attempts=1)

    def record(self, key, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            item = self.ddb.get_item(TableName="records", Key={"id": {"S": key}},
                                     ConsistentRead=True).get("Item")
            if item:
                return json.loads(item["record"]["S"])
            time.sleep(0.3)
        self.fail("no destination record for %s within %d s" % (key, timeout))

    def test_config_destination_update_destroy(self):
        p = self.p
        up = p.json("up", "--yes", check=None)
        self.assertTrue(up["ok"], up)
        self.assertEqual(p.json("output")["configId"], "flaky")
        conf = self.lam.get_function_event_invoke_config(FunctionName="flaky")
        fail_arn = "arn:aws:lambda:us-east-1:123456789012:function:on-failure"
        self.assertEqual((conf["MaximumRetryAttempts"], conf["MaximumEventAgeInSeconds"]),
                         (0, 600))
        self.assertEqual(conf["DestinationConfig"]["OnFailure"]["Destination"], fail_arn)
        self.assertEqual(self.lam.get_function(FunctionName="flaky")["Concurrency"],
                         {"ReservedConcurrentExecutions": 5})
        # no retries: one failed try, then the record goes to the destination
        r = self.lam.invoke(FunctionName="flaky", InvocationType="Event",
                            Payload=json.dumps({"id": "one"}).encode())
        self.assertEqual(r["StatusCode"], 202)
        rec = self.record("one")
        self.assertEqual(rec["requestContext"]["condition"], "RetriesExhausted")
        self.assertEqual(rec["requestContext"]["approximateInvokeCount"], 1)
        self.assertEqual(rec["requestPayload"], {"id": "one"})
        self.assertEqual(rec["responseContext"]["functionError"], "Unhandled")
        # nothing changed: nothing written
        p.run("refresh", "--yes", check=0)
        self.assertEqual(p.json("up", "--yes")["writes"], 0)
        # the settings change in place
        p.write(PROGRAM % {"retries": 1, "age": 3600, "rce": 2})
        up = p.json("up", "--yes", check=None)
        self.assertTrue(up["ok"], up)
        self.assertEqual({s["name"]: s["op"] for s in up["steps"]}["asyncConfig"], "update")
        conf = self.lam.get_function_event_invoke_config(FunctionName="flaky")
        self.assertEqual((conf["MaximumRetryAttempts"], conf["MaximumEventAgeInSeconds"]),
                         (1, 3600))
        # reservedConcurrentExecutions: set at create (5), updated in place (2)
        self.assertEqual({s["name"]: s["op"] for s in up["steps"]}["flaky"], "update")
        self.assertEqual(self.lam.get_function_concurrency(FunctionName="flaky")[
            "ReservedConcurrentExecutions"], 2)
        self.assertNotIn("Concurrency", self.lam.get_function(FunctionName="on-failure"))
        p.run("refresh", "--yes", check=0)
        self.assertEqual(p.json("up", "--yes")["writes"], 0)
        p.run("destroy", "--yes", check=0)
        self.assertEqual(self.lam.list_functions()["Functions"], [])

    def test_config_removed_outside_is_recreated(self):
        p = self.p
        self.assertTrue(p.json("up", "--yes", check=None)["ok"])
        self.lam.delete_function_event_invoke_config(FunctionName="flaky")
        p.run("refresh", "--yes", check=0)
        up = p.json("up", "--yes", check=None)
        self.assertTrue(up["ok"], up)
        self.assertEqual({s["name"]: s["op"] for s in up["steps"]}["asyncConfig"], "create")
        conf = self.lam.get_function_event_invoke_config(FunctionName="flaky")
        self.assertEqual(conf["MaximumRetryAttempts"], 0)
        p.run("destroy", "--yes", check=0)


if __name__ == "__main__":
    unittest.main()
