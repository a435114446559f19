"""Event source mappings of DynamoDB streams: the API (boto3 and the aws CLI),
its errors, and delivery through a real python function that writes every
record it gets to a sink table: order, event shape, disable/enable, delete,
restart (checkpoints in the store), LATEST, error retries, ParallelizationFactor
(batches of one shard in flight at once, one key's records in order)."""

import json
import shutil
import threading
import time
import unittest

from tandem_harness import ServerTestCase, find_clients
from test_lambda import zip_of

ACCOUNT = "123456789012"
ROLE = "arn:aws:iam::%s:role/esm-role" % ACCOUNT
NO_READ_ROLE = "arn:aws:iam::%s:role/esm-noread" % ACCOUNT
SINK = "esm-sink"

HANDLER = '''\
import json
import os
import time

import boto3

ddb = boto3.client("dynamodb", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
SINK = os.environ["SINK"]


def handler(event, context):
    recs = event["Records"]
    for r in recs:
        new = r["dynamodb"].get("NewImage", {})
        if "failtimes" in new:
            seq = r["eventSourceARN"].split("/")[1] + "/" + r["dynamodb"]["SequenceNumber"]
            out = ddb.update_item(TableName=SINK, Key={"id": {"S": "tries/" + seq}},
                                  UpdateExpression="ADD tries :one",
                                  ExpressionAttributeValues={":one": {"N": "1"}},
                                  ReturnValues="UPDATED_NEW")
            if int(out["Attributes"]["tries"]["N"]) <= int(new["failtimes"]["N"]):
                raise RuntimeError("asked to fail " + seq)
        if "sleepfirst" in new:
            seq = r["eventSourceARN"].split("/")[1] + "/" + r["dynamodb"]["SequenceNumber"]
            out = ddb.update_item(TableName=SINK, Key={"id": {"S": "tries/" + seq}},
                                  UpdateExpression="ADD tries :one",
                                  ExpressionAttributeValues={":one": {"N": "1"}},
                                  ReturnValues="UPDATED_NEW")
            if out["Attributes"]["tries"]["N"] == "1":
                time.sleep(int(new["sleepfirst"]["N"]))
    for i, r in enumerate(recs):
        table = r["eventSourceARN"].split("/")[1]
        ddb.put_item(TableName=SINK, Item={
            "id": {"S": table + "/" + r["dynamodb"]["SequenceNumber"]},
            "rec": {"S": json.dumps(r)},
            "batch": {"S": recs[0]["dynamodb"]["SequenceNumber"]},
            "pos": {"N": str(i)}})
    return {"records": len(recs)}
'''

PARTIAL_HANDLER = '''\
import os

import boto3

ddb = boto3.client("dynamodb", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
SINK = os.environ["SINK"]


def handler(event, context):
    """Counts each record it is given; the first time it sees one with
    failonce, reports it failed and leaves the rest of the batch alone."""
    for r in event["Records"]:
        pk = r["dynamodb"]["Keys"]["pk"]["S"]
        out = ddb.update_item(TableName=SINK, Key={"id": {"S": "partial/" + pk}},
                              UpdateExpression="ADD tries :one",
                              ExpressionAttributeValues={":one": {"N": "1"}},
                              ReturnValues="UPDATED_NEW")
        if "failonce" in r["dynamodb"].get("NewImage", {}) and \\
                out["Attributes"]["tries"]["N"] == "1":
            return {"batchItemFailures": [{"itemIdentifier": r["dynamodb"]["SequenceNumber"]}]}
    return {"batchItemFailures": []}
'''


PARALLEL_HANDLER = '''\
import json
import os
import time

import boto3

ddb = boto3.client("dynamodb", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
SINK = os.environ["SINK"]


def handler(event, context):
    """Records each batch: when it ran and the (key, n) of its records in order."""
    start = time.time()
    for r in event["Records"]:
        if "fail" in r["dynamodb"]["NewImage"]:  # fails its batch the first time
            out = ddb.update_item(
                TableName=SINK, Key={"id": {"S": "partries/" + r["dynamodb"]["SequenceNumber"]}},
                UpdateExpression="ADD tries :one", ExpressionAttributeValues={":one": {"N": "1"}},
                ReturnValues="UPDATED_NEW")
            if out["Attributes"]["tries"]["N"] == "1":
                raise RuntimeError("asked to fail once")
    time.sleep(float(os.environ.get("HOLD", "0.8")))
    recs = [(r["dynamodb"]["Keys"]["pk"]["S"], int(r["dynamodb"]["NewImage"]["n"]["N"]))
            for r in event["Records"]]
    ddb.put_item(TableName=SINK, Item={
        "id": {"S": "par/" + event["Records"][0]["dynamodb"]["SequenceNumber"] + "/" +
               context.aws_request_id},
        "recs": {"S": json.dumps(recs)},
        "start": {"N": repr(start)}, "end": {"N": repr(time.time())}})
'''


class EventSourceMappingTest(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not shutil.which("python3"):
            raise unittest.SkipTest("no python3 for python functions")
        cls.clients()

    @classmethod
    def clients(cls):
        cls.lam = cls.server.boto3("lambda", max_attempts=1, read_timeout=60)
        cls.ddb = cls.server.boto3("dynamodb")
        cls.iam = cls.server.boto3("iam")
        cls.raw = cls.server.boto3("lambda", parameter_validation=False)

    # -- helpers -------------------------------------------------------------

    def setUp(self):
        if getattr(type(self), "ready", False):
            return
        trust = json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole"}]})
        for name, actions in (("esm-role", ["dynamodb:GetRecords", "dynamodb:GetShardIterator",
                                            "dynamodb:DescribeStream", "dynamodb:ListStreams",
                                            "dynamodb:PutItem", "dynamodb:UpdateItem"]),
                              ("esm-noread", ["dynamodb:PutItem"])):
            self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)
            self.iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}))
        self.ddb.create_table(TableName=SINK, BillingMode="PAY_PER_REQUEST",
                              AttributeDefinitions=[{"AttributeName": "id",
                                                     "AttributeType": "S"}],
                              KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
        code = zip_of({"app.py": (HANDLER, 0o644)})
        for name, role in (("esm-fn", ROLE), ("esm-noread-fn", NO_READ_ROLE)):
            self.lam.create_function(FunctionName=name, Runtime="python3.12", Role=role,
                                     Handler="app.handler", Timeout=30,
                                     Environment={"Variables": {"SINK": SINK}},
                                     Code={"ZipFile": code})
        type(self).ready = True

    def source(self, name, view="NEW_AND_OLD_IMAGES"):
        """A table with a stream; its stream ARN."""
        d = self.ddb.create_table(
            TableName=name, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": view})
        return d["TableDescription"]["LatestStreamArn"]

    def cli(self, *args):
        clis = [c for c in find_clients() if c.kind == "cli" and not c.missing]
        if not clis:
            self.skipTest("no aws CLI")
        return self.aws_cli(clis[0].argv, "lambda", *args)

    def wait_state(self, uuid, state, timeout=20):
        end = time.monotonic() + timeout
        while True:
            got = self.lam.get_event_source_mapping(UUID=uuid)
            if got["State"] == state:
                return got
            self.assertLess(time.monotonic(), end, "still %s" % got["State"])
            time.sleep(0.1)

    def delivered(self, table):
        """The records the function wrote for @table, in sequence order."""
        items = []
        kw = {}
        while True:
            page = self.ddb.scan(TableName=SINK, ConsistentRead=True, **kw)
            items += page["Items"]
            if "LastEvaluatedKey" not in page:
                break
            kw["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        out = [json.loads(i["rec"]["S"]) for i in items if i["id"]["S"].startswith(table + "/")]
        return sorted(out, key=lambda r: r["dynamodb"]["SequenceNumber"])

    def wait_delivered(self, table, n, timeout=60):
        end = time.monotonic() + timeout
        while True:
            got = self.delivered(table)
            if len(got) >= n:
                return got
            self.assertLess(time.monotonic(), end, "%d of %d records delivered: %s"
                            % (len(got), n, self.server.stderr_tail()))
            time.sleep(0.2)

    def put(self, table, pk, **attrs):
        item = {"pk": {"S": pk}}
        item.update({k: ({"N": str(v)} if isinstance(v, int) else {"S": v})
                     for k, v in attrs.items()})
        self.ddb.put_item(TableName=table, Item=item)

    def error(self, fn, code, *args, **kw):
        with self.assertRaises(self.lam.exceptions.ClientError) as cm:
            fn(*args, **kw)
        self.assertEqual(cm.exception.response["Error"]["Code"], code,
                         cm.exception.response)
        return cm.exception.response["Error"]["Message"]

    # -- tests ---------------------------------------------------------------

    def test_api_and_errors(self):
        arn = self.source("esm-api")
        create = self.lam.create_event_source_mapping
        msg = self.error(create, "InvalidParameterValueException", FunctionName="esm-fn",
                         EventSourceArn="arn:aws:dynamodb:us-east-1:%s:table/nope/stream/"
                         "2024-01-01T00:00:00.000" % ACCOUNT, StartingPosition="LATEST")
        self.assertIn("Stream not found", msg)
        self.error(create, "InvalidParameterValueException", FunctionName="esm-fn",
                   EventSourceArn="arn:aws:sqs:us-east-1:%s:queue" % ACCOUNT)
        self.error(create, "ResourceNotFoundException", FunctionName="nobody-here",
                   EventSourceArn=arn, StartingPosition="LATEST")
        msg = self.error(create, "InvalidParameterValueException", FunctionName="esm-fn",
                         EventSourceArn=arn, StartingPosition="LATEST",
                         MaximumRecordAgeInSeconds=30)
        self.assertIn("'maximumRecordAgeInSeconds'", msg)
        self.error(create, "InvalidParameterValueException", FunctionName="esm-fn",
                   EventSourceArn=arn)
        msg = self.error(create, "InvalidParameterValueException", FunctionName="esm-noread-fn",
                         EventSourceArn=arn, StartingPosition="LATEST")
        self.assertEqual(msg, "Cannot access stream %s. Please ensure the role can perform the "
                         "GetRecords, GetShardIterator, DescribeStream, and ListStreams Actions "
                         "on your stream in IAM." % arn)
        self.assertEqual(self.lam.list_event_source_mappings(EventSourceArn=arn)
                         ["EventSourceMappings"], [])

        m = self.cli("create-event-source-mapping", "--function-name",
                     "arn:aws:lambda:us-east-1:%s:function:esm-fn" % ACCOUNT,
                     "--event-source-arn", arn, "--starting-position", "LATEST",
                     "--batch-size", "7", "--maximum-retry-attempts", "3")
        uuid = m["UUID"]
        self.assertEqual(m["State"], "Creating")
        self.assertEqual(m["BatchSize"], 7)
        self.assertEqual(m["MaximumRetryAttempts"], 3)
        self.assertEqual(m["FunctionArn"], "arn:aws:lambda:us-east-1:%s:function:esm-fn" % ACCOUNT)
        self.assertEqual(m["EventSourceMappingArn"],
                         "arn:aws:lambda:us-east-1:%s:event-source-mapping:%s" % (ACCOUNT, uuid))
        self.assertEqual(m["StartingPosition"], "LATEST")
        self.assertEqual(m["LastProcessingResult"], "No records processed")
        self.assertFalse(any(k.startswith("_") for k in m))
        got = self.wait_state(uuid, "Enabled")
        self.assertEqual(got["StateTransitionReason"], "User action")
        msg = self.error(create, "ResourceConflictException", FunctionName="esm-fn",
                         EventSourceArn=arn, StartingPosition="LATEST")
        self.assertIn(uuid, msg)

        listed = self.cli("list-event-source-mappings", "--function-name", "esm-fn")
        self.assertIn(uuid, [x["UUID"] for x in listed["EventSourceMappings"]])
        self.assertEqual(self.lam.list_event_source_mappings(FunctionName="esm-noread-fn")
                         ["EventSourceMappings"], [])

        up = self.lam.update_event_source_mapping(UUID=uuid, BatchSize=50, Enabled=False,
                                                  MaximumBatchingWindowInSeconds=1)
        self.assertEqual(up["State"], "Disabling")
        self.assertEqual(up["BatchSize"], 50)
        self.wait_state(uuid, "Disabled")
        msg = self.error(self.lam.update_event_source_mapping, "InvalidParameterValueException",
                         UUID=uuid, FunctionName="esm-noread-fn")
        self.assertIn("Cannot access stream", msg)
        msg = self.error(self.raw.update_event_source_mapping, "InvalidParameterValueException",
                         UUID=uuid, MaximumRetryAttempts=-2)
        self.assertEqual(msg, "1 validation error detected: Value '-2' at 'maximumRetryAttempts' "
                         "failed to satisfy constraint: Member must have value greater than or "
                         "equal to -1")
        for bad in (0, 10001):
            msg = self.error(self.raw.create_event_source_mapping,
                             "InvalidParameterValueException", FunctionName="esm-fn",
                             EventSourceArn=arn, StartingPosition="LATEST", BatchSize=bad)
            self.assertIn("'batchSize'", msg)
        self.error(self.raw.create_event_source_mapping, "ValidationException",
                   FunctionName="esm-fn", EventSourceArn=arn, StartingPosition="SOMEWHERE")
        self.error(self.raw.list_event_source_mappings, "InvalidParameterValueException",
                   MaxItems=0)
        self.error(self.lam.update_event_source_mapping, "ResourceNotFoundException",
                   UUID=uuid, FunctionName="nobody-here")
        self.error(self.lam.get_event_source_mapping, "ResourceNotFoundException",
                   UUID="00000000-0000-4000-8000-000000000000")
        self.error(self.lam.update_event_source_mapping, "ResourceNotFoundException",
                   UUID="00000000-0000-4000-8000-000000000000", BatchSize=5)
        gone = self.lam.delete_event_source_mapping(UUID=uuid)
        self.assertEqual(gone["State"], "Deleting")
        end = time.monotonic() + 20
        while True:
            try:
                self.lam.get_event_source_mapping(UUID=uuid)
            except self.lam.exceptions.ResourceNotFoundException:
                break
            self.assertLess(time.monotonic(), end)
            time.sleep(0.1)
        self.error(self.lam.delete_event_source_mapping, "ResourceNotFoundException", UUID=uuid)

    def test_concurrent_creates_of_one_pair(self):
        arn = self.source("esm-race")
        out = []

        def one():
            lam = self.server.boto3("lambda", max_attempts=1, read_timeout=60)
            try:
                out.append(lam.create_event_source_mapping(
                    FunctionName="esm-fn", EventSourceArn=arn, StartingPosition="LATEST",
                    Enabled=False)["UUID"])
            except lam.exceptions.ResourceConflictException:
                out.append("conflict")
        threads = [threading.Thread(target=one) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(len(out), 8)
        made = [u for u in out if u != "conflict"]
        self.assertEqual(len(made), 1, out)
        self.assertEqual([m["UUID"] for m in self.lam.list_event_source_mappings(
            EventSourceArn=arn)["EventSourceMappings"]], made)

    def test_starting_position_refusals(self):
        """StartingPosition's checks answer as Lambda does for a stream source."""
        arn = self.source("esm-startpos")
        create = self.raw.create_event_source_mapping
        self.assertEqual(
            self.error(create, "ValidationException", FunctionName="esm-fn", EventSourceArn=arn,
                       StartingPosition="0"),
            "1 validation error detected: Value '0' at 'startingPosition' failed to satisfy "
            "constraint: Member must satisfy enum value set: [LATEST, AT_TIMESTAMP, "
            "TRIM_HORIZON]")
        self.assertEqual(
            self.error(create, "InvalidParameterValueException", FunctionName="esm-fn",
                       EventSourceArn=arn, StartingPosition="LATEST",
                       StartingPositionTimestamp=1700000000),
            "Timestamp only valid with StartingPosition AT_TIMESTAMP")
        self.assertEqual(
            self.error(create, "InvalidParameterValueException", FunctionName="esm-fn",
                       EventSourceArn=arn, StartingPosition="AT_TIMESTAMP",
                       StartingPositionTimestamp=-1700000000),
            "Unsupported starting position for arn type: " + arn)
        self.assertEqual(
            self.error(create, "InvalidParameterValueException", FunctionName="esm-fn",
                       EventSourceArn=arn),
            "1 validation error detected: Value null at 'startingPosition' failed to satisfy "
            "constraint: Member must not be null.")
        self.assertEqual(self.error(create, "InvalidParameterValueException",
                                    FunctionName="esm-fn"), "Unrecognized event source.")
        # the 404s of an unknown UUID, in the body member ResourceNotFoundException has
        for fn, kw in ((self.raw.get_event_source_mapping, {}),
                       (self.raw.delete_event_source_mapping, {}),
                       (self.raw.update_event_source_mapping, {"Enabled": False})):
            with self.assertRaises(self.raw.exceptions.ResourceNotFoundException) as cm:
                fn(UUID="7ba25fd1-0d73-4d9d-b1bd-bd2ab5ed3e4c", **kw)
            self.assertEqual(cm.exception.response["Message"],
                             "The resource you requested does not exist.")
        self.assertEqual(self.lam.list_event_source_mappings(
            EventSourceArn="arn:aws:sqs:us-east-1:111111111111:somequeue")["EventSourceMappings"],
            [])

    def test_alias_mapping(self):
        arn = self.source("esm-alias")
        version = self.lam.publish_version(FunctionName="esm-fn")["Version"]
        self.lam.create_alias(FunctionName="esm-fn", Name="live", FunctionVersion=version)
        self.error(self.lam.create_event_source_mapping, "ResourceNotFoundException",
                   FunctionName="esm-fn:nope", EventSourceArn=arn, StartingPosition="LATEST")
        m = self.lam.create_event_source_mapping(FunctionName="esm-fn:live", EventSourceArn=arn,
                                                 StartingPosition="LATEST")
        self.assertEqual(m["FunctionArn"],
                         "arn:aws:lambda:us-east-1:%s:function:esm-fn:live" % ACCOUNT)
        self.wait_state(m["UUID"], "Enabled")
        self.put("esm-alias", "x")
        got = self.wait_delivered("esm-alias", 1)
        self.assertEqual(got[0]["dynamodb"]["Keys"]["pk"]["S"], "x")
        # a mapping moved to a function the stream is mapped to already
        plain = self.lam.create_event_source_mapping(FunctionName="esm-fn", EventSourceArn=arn,
                                                     StartingPosition="LATEST")["UUID"]
        self.wait_state(plain, "Enabled")
        msg = self.error(self.lam.update_event_source_mapping, "ResourceConflictException",
                         UUID=m["UUID"], FunctionName="esm-fn")
        self.assertIn(plain, msg)
        self.assertEqual(self.lam.get_event_source_mapping(UUID=m["UUID"])["FunctionArn"],
                         m["FunctionArn"])
        self.lam.delete_event_source_mapping(UUID=plain)

    def test_tags(self):
        arn = self.source("esm-tags")
        m = self.lam.create_event_source_mapping(FunctionName="esm-fn", EventSourceArn=arn,
                                                 StartingPosition="LATEST",
                                                 Tags={"team": "dr", "env": "test"})
        marn = m["EventSourceMappingArn"]
        self.assertNotIn("Tags", m)  # the mapping's answer does not carry them
        self.assertEqual(self.lam.list_tags(Resource=marn)["Tags"], {"team": "dr", "env": "test"})
        self.lam.tag_resource(Resource=marn, Tags={"env": "prod", "cost": "42"})
        self.lam.untag_resource(Resource=marn, TagKeys=["team"])
        self.assertEqual(self.lam.list_tags(Resource=marn)["Tags"], {"env": "prod", "cost": "42"})
        # the aws CLI reads them too
        self.assertEqual(self.cli("list-tags", "--resource", marn)["Tags"],
                         {"env": "prod", "cost": "42"})
        # kept across a restart
        self.server.stop()
        self.server.start()
        self.clients()
        self.assertEqual(self.lam.list_tags(Resource=marn)["Tags"], {"env": "prod", "cost": "42"})
        gone = marn[:-12] + "000000000000"
        self.error(self.lam.list_tags, "ResourceNotFoundException", Resource=gone)
        self.error(self.lam.tag_resource, "ResourceNotFoundException", Resource=gone,
                   Tags={"a": "b"})
        other = marn.replace("us-east-1", "us-west-2")
        self.error(self.lam.list_tags, "ResourceNotFoundException", Resource=other)
        self.error(self.raw.create_event_source_mapping, "InvalidRequestContentException",
                   FunctionName="esm-fn", EventSourceArn=arn, StartingPosition="LATEST",
                   Tags={"a": 1})
        self.lam.delete_event_source_mapping(UUID=m["UUID"])

    def raw_call(self, method, path):
        import urllib.error
        import urllib.request
        from tandem_harness import sigv4_sign
        host = "127.0.0.1:%d" % self.server.port
        h = sigv4_sign(method, path, {"Host": host}, b"", self.server.access_key,
                       self.server.secret_key, "us-east-1", "lambda")
        req = urllib.request.Request("http://" + host + path, headers=h, method=method)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.headers.get("x-amzn-errortype"), json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("x-amzn-errortype"), json.loads(e.read() or b"{}")

    def test_unknown_paths(self):
        for method, path in (("GET", "/2015-03-31/event-source-mappingsX"),
                             ("GET", "/2015-03-31/event-source-mappings/a/b"),
                             ("POST", "/2015-03-31/event-source-mappings/abc"),
                             ("PUT", "/2015-03-31/event-source-mappings")):
            status, kind, _ = self.raw_call(method, path)
            self.assertEqual((status, kind, method, path),
                             (404, "UnknownOperationException", method, path))
        status, _, body = self.raw_call("GET", "/2015-03-31/event-source-mappings/")
        self.assertEqual(status, 200)
        self.assertIn("EventSourceMappings", body)

    def test_function_deleted(self):
        arn = self.source("esm-orphan")
        self.lam.create_function(FunctionName="esm-gone", Runtime="python3.12", Role=ROLE,
                                 Handler="app.handler", Timeout=30,
                                 Environment={"Variables": {"SINK": SINK}},
                                 Code={"ZipFile": zip_of({"app.py": (HANDLER, 0o644)})})
        uuid = self.lam.create_event_source_mapping(
            FunctionName="esm-gone", EventSourceArn=arn, StartingPosition="LATEST")["UUID"]
        self.wait_state(uuid, "Enabled")
        self.lam.delete_function(FunctionName="esm-gone")
        self.put("esm-orphan", "x")
        self.wait_for_result(uuid, "PROBLEM: Function not found")
        self.assertEqual(self.delivered("esm-orphan"), [])
        self.lam.delete_event_source_mapping(UUID=uuid)

    def test_paging(self):
        uuids = []
        for i in range(3):
            arn = self.source("esm-page-%d" % i)
            uuids.append(self.lam.create_event_source_mapping(
                FunctionName="esm-fn", EventSourceArn=arn, StartingPosition="LATEST",
                Enabled=False)["UUID"])
        seen, marker = [], None
        while True:
            kw = {"Marker": marker} if marker else {}
            page = self.lam.list_event_source_mappings(FunctionName="esm-fn", MaxItems=1, **kw)
            self.assertLessEqual(len(page["EventSourceMappings"]), 1)
            seen += [m["UUID"] for m in page["EventSourceMappings"]]
            marker = page.get("NextMarker")
            if not marker:
                break
        for u in uuids:
            self.assertIn(u, seen)
            self.wait_state(u, "Disabled")
            self.lam.delete_event_source_mapping(UUID=u)

    def test_delivery_in_order(self):
        arn = self.source("esm-src")
        uuid = self.lam.create_event_source_mapping(
            FunctionName="esm-fn", EventSourceArn=arn, StartingPosition="TRIM_HORIZON",
            BatchSize=10)["UUID"]
        self.wait_state(uuid, "Enabled")
        self.put("esm-src", "a", v=1)
        self.put("esm-src", "b", v=2)
        self.put("esm-src", "a", v=3)
        self.ddb.delete_item(TableName="esm-src", Key={"pk": {"S": "b"}})
        got = self.wait_delivered("esm-src", 4)
        self.assertEqual([r["eventName"] for r in got], ["INSERT", "INSERT", "MODIFY", "REMOVE"])
        self.assertEqual([r["dynamodb"]["Keys"]["pk"]["S"] for r in got], ["a", "b", "a", "b"])
        r = got[2]
        self.assertEqual(r["eventSource"], "aws:dynamodb")
        self.assertEqual(r["eventVersion"], "1.1")
        self.assertEqual(r["awsRegion"], "us-east-1")
        self.assertEqual(r["eventSourceARN"], arn)
        self.assertEqual(r["dynamodb"]["StreamViewType"], "NEW_AND_OLD_IMAGES")
        self.assertEqual(r["dynamodb"]["NewImage"]["v"], {"N": "3"})
        self.assertEqual(r["dynamodb"]["OldImage"]["v"], {"N": "1"})
        self.assertGreater(r["dynamodb"]["SizeBytes"], 0)
        self.assertIsInstance(r["dynamodb"]["ApproximateCreationDateTime"], (int, float))
        self.assertEqual(got[3]["dynamodb"]["OldImage"]["v"], {"N": "2"})
        self.assertNotIn("NewImage", got[3]["dynamodb"])
        self.assertEqual(len(got), 4)
        self.wait_for_result(uuid, "OK")

        # disabled: nothing is delivered; enabled again: what was written meanwhile is
        self.lam.update_event_source_mapping(UUID=uuid, Enabled=False)
        self.wait_state(uuid, "Disabled")
        self.put("esm-src", "c", v=4)
        time.sleep(1.5)
        self.assertEqual(len(self.delivered("esm-src")), 4)
        self.lam.update_event_source_mapping(UUID=uuid, Enabled=True)
        self.wait_state(uuid, "Enabled")
        got = self.wait_delivered("esm-src", 5)
        self.assertEqual(got[4]["dynamodb"]["Keys"]["pk"]["S"], "c")

        # deleted: nothing more
        self.lam.delete_event_source_mapping(UUID=uuid)
        self.put("esm-src", "d", v=5)
        time.sleep(1.5)
        self.assertEqual(len(self.delivered("esm-src")), 5)

    def wait_for_result(self, uuid, result, timeout=20):
        end = time.monotonic() + timeout
        while self.lam.get_event_source_mapping(UUID=uuid)["LastProcessingResult"] != result:
            self.assertLess(time.monotonic(), end)
            time.sleep(0.1)

    def test_retries(self):
        arn = self.source("esm-retry", view="NEW_IMAGE")
        uuid = self.lam.create_event_source_mapping(
            FunctionName="esm-fn", EventSourceArn=arn, StartingPosition="LATEST",
            BatchSize=1, MaximumRetryAttempts=1)["UUID"]
        self.wait_state(uuid, "Enabled")
        self.put("esm-retry", "once", failtimes=1)    # fails once, then succeeds
        self.put("esm-retry", "never", failtimes=100)  # dropped after 1 retry
        self.put("esm-retry", "plain")
        got = self.wait_delivered("esm-retry", 2)
        self.assertEqual([r["dynamodb"]["Keys"]["pk"]["S"] for r in got], ["once", "plain"])
        self.assertNotIn("OldImage", got[0]["dynamodb"])
        tries = {i["id"]["S"]: int(i["tries"]["N"]) for i in
                 self.ddb.scan(TableName=SINK, ConsistentRead=True)["Items"]
                 if i["id"]["S"].startswith("tries/esm-retry/")}
        self.assertEqual(sorted(tries.values()), [2, 2])

    def test_report_batch_item_failures(self):
        """With ReportBatchItemFailures the records before the first one the
        function names are done, and the batch goes on from that one."""
        self.lam.create_function(FunctionName="esm-partial", Runtime="python3.12", Role=ROLE,
                                 Handler="app.handler", Timeout=30,
                                 Environment={"Variables": {"SINK": SINK}},
                                 Code={"ZipFile": zip_of({"app.py": (PARTIAL_HANDLER, 0o644)})})
        arn = self.source("esm-partial-src", view="NEW_IMAGE")
        self.error(self.raw.create_event_source_mapping, "InvalidParameterValueException",
                   FunctionName="esm-partial", EventSourceArn=arn, StartingPosition="LATEST",
                   FunctionResponseTypes=["Bogus"])
        self.error(self.raw.create_event_source_mapping, "InvalidParameterValueException",
                   FunctionName="esm-partial", EventSourceArn=arn, StartingPosition="LATEST",
                   TumblingWindowInSeconds=60)
        m = self.lam.create_event_source_mapping(
            FunctionName="esm-partial", EventSourceArn=arn, StartingPosition="LATEST",
            MaximumBatchingWindowInSeconds=2, FunctionResponseTypes=["ReportBatchItemFailures"])
        self.assertEqual(m["FunctionResponseTypes"], ["ReportBatchItemFailures"])
        self.wait_state(m["UUID"], "Enabled")
        for k in ("p1", "p2"):
            self.put("esm-partial-src", k)
        self.put("esm-partial-src", "p3", failonce=1)
        self.put("esm-partial-src", "p4")
        end = time.monotonic() + 60
        while True:
            tries = {i["id"]["S"][len("partial/"):]: int(i["tries"]["N"]) for i in
                     self.ddb.scan(TableName=SINK, ConsistentRead=True)["Items"]
                     if i["id"]["S"].startswith("partial/")}
            if "p4" in tries:
                break
            self.assertLess(time.monotonic(), end, tries)
            time.sleep(0.2)
        # one batch of 4 (the window): p1 and p2 done, p3 failed; then p3, p4
        self.assertEqual(tries, {"p1": 1, "p2": 1, "p3": 2, "p4": 1})
        self.lam.update_event_source_mapping(UUID=m["UUID"], FunctionResponseTypes=[])
        self.assertEqual(self.lam.get_event_source_mapping(UUID=m["UUID"])[
            "FunctionResponseTypes"], [])

    def test_batching_window_and_bisect(self):
        arn = self.source("esm-window")
        uuid = self.lam.create_event_source_mapping(
            FunctionName="esm-fn", EventSourceArn=arn, StartingPosition="LATEST",
            MaximumBatchingWindowInSeconds=2, BisectBatchOnFunctionError=True,
            MaximumRetryAttempts=3)["UUID"]
        self.wait_state(uuid, "Enabled")
        for k in ("w1", "w2", "w3"):
            self.put("esm-window", k)
        self.put("esm-window", "w4", failtimes=1)  # the whole batch fails once
        got = self.wait_delivered("esm-window", 4)
        seqs = [r["dynamodb"]["SequenceNumber"] for r in got]
        self.assertEqual([r["dynamodb"]["Keys"]["pk"]["S"] for r in got],
                         ["w1", "w2", "w3", "w4"])
        batch = {i["id"]["S"].split("/")[1]: (i["batch"]["S"], int(i["pos"]["N"]))
                 for i in self.ddb.scan(TableName=SINK, ConsistentRead=True)["Items"]
                 if i["id"]["S"].startswith("esm-window/")}
        # one batch of 4 (the window), failed, halved: [w1 w2] then [w3 w4]
        self.assertEqual([batch[s] for s in seqs],
                         [(seqs[0], 0), (seqs[0], 1), (seqs[2], 0), (seqs[2], 1)])

    def test_filter_criteria(self):
        arn = self.source("esm-filter")
        self.error(self.lam.create_event_source_mapping, "InvalidParameterValueException",
                   FunctionName="esm-fn", EventSourceArn=arn, StartingPosition="LATEST",
                   FilterCriteria={"Filters": [{"Pattern": "not json"}]})
        pattern = {"eventName": ["INSERT"],
                   "dynamodb": {"NewImage": {"kind": {"S": [{"prefix": "keep"}]}}}}
        removes = {"eventName": ["REMOVE"], "dynamodb": {
            "OldImage": {"kind": {"S": [{"anything-but": ["drop"]}]},
                         "gone": [{"exists": False}]},
            "Keys": {"pk": [{"exists": True}]}}}
        m = self.lam.create_event_source_mapping(
            FunctionName="esm-fn", EventSourceArn=arn, StartingPosition="LATEST",
            FilterCriteria={"Filters": [{"Pattern": json.dumps(pattern)},
                                        {"Pattern": json.dumps(removes)}]})
        self.assertEqual(json.loads(m["FilterCriteria"]["Filters"][0]["Pattern"]), pattern)
        self.wait_state(m["UUID"], "Enabled")
        self.put("esm-filter", "1", kind="keep-a")
        self.put("esm-filter", "2", kind="drop")
        self.put("esm-filter", "1", kind="keep-b")  # a MODIFY: filtered out
        self.put("esm-filter", "3", kind="keep-c")
        self.put("esm-filter", "4", kind="keep-d", gone="yes")
        for k in ("2", "3", "4"):
            self.ddb.delete_item(TableName="esm-filter", Key={"pk": {"S": k}})
        self.wait_delivered("esm-filter", 4)
        time.sleep(1)
        got = self.delivered("esm-filter")
        self.assertEqual([(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in got],
                         [("INSERT", "1"), ("INSERT", "3"), ("INSERT", "4"), ("REMOVE", "3")])

    def test_stop_during_an_invocation(self):
        arn = self.source("esm-stop")
        uuid = self.lam.create_event_source_mapping(
            FunctionName="esm-fn", EventSourceArn=arn, StartingPosition="LATEST")["UUID"]
        fast = self.lam.create_event_source_mapping(
            FunctionName="esm-fn", EventSourceArn=self.source("esm-fast"),
            StartingPosition="LATEST")["UUID"]
        self.wait_state(uuid, "Enabled")
        self.wait_state(fast, "Enabled")
        self.put("esm-stop", "slow", sleepfirst=25)
        end = time.monotonic() + 30
        while not any(i["id"]["S"].startswith("tries/esm-stop/") for i in
                      self.ddb.scan(TableName=SINK, ConsistentRead=True)["Items"]):
            self.assertLess(time.monotonic(), end)
            time.sleep(0.1)
        # another mapping is served meanwhile
        self.put("esm-fast", "quick")
        self.wait_delivered("esm-fast", 1, timeout=15)
        self.assertEqual(self.delivered("esm-stop"), [])
        t0 = time.monotonic()
        self.server.stop()  # the poller waits on the function: it lets go at once
        self.assertLess(time.monotonic() - t0, 15)
        self.server.start()
        self.clients()
        got = self.wait_delivered("esm-stop", 1)  # delivered again after the restart
        self.assertEqual(got[0]["dynamodb"]["Keys"]["pk"]["S"], "slow")

    def test_caller_permissions(self):
        arn = self.source("esm-iam")
        mine = self.lam.create_event_source_mapping(
            FunctionName="esm-fn", EventSourceArn=arn, StartingPosition="LATEST",
            Enabled=False)["UUID"]
        name = "esm-user"
        self.iam.create_user(UserName=name)
        self.iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "lambda:ListEventSourceMappings",
                 "Resource": "*"},
                {"Effect": "Allow", "Action": "lambda:GetEventSourceMapping",
                 "Resource": "arn:aws:lambda:us-east-1:%s:event-source-mapping:%s"
                 % (ACCOUNT, mine)}]}))
        k = self.iam.create_access_key(UserName=name)["AccessKey"]
        lam = self.server.boto3("lambda", access_key=k["AccessKeyId"],
                                secret_key=k["SecretAccessKey"])
        end = time.monotonic() + 20
        while True:  # the new key and policy settle
            try:
                self.assertEqual(lam.get_event_source_mapping(UUID=mine)["UUID"], mine)
                break
            except lam.exceptions.ClientError:
                self.assertLess(time.monotonic(), end)
                time.sleep(0.2)
        self.assertIn(mine, [m["UUID"] for m in
                             lam.list_event_source_mappings()["EventSourceMappings"]])
        for call, kw in ((lam.get_event_source_mapping,
                          {"UUID": "00000000-0000-4000-8000-000000000000"}),
                         (lam.update_event_source_mapping, {"UUID": mine, "BatchSize": 5}),
                         (lam.delete_event_source_mapping, {"UUID": mine}),
                         (lam.create_event_source_mapping,
                          {"FunctionName": "esm-fn", "EventSourceArn": arn,
                           "StartingPosition": "LATEST"})):
            with self.assertRaises(lam.exceptions.ClientError) as cm:
                call(**kw)
            self.assertEqual(cm.exception.response["Error"]["Code"], "AccessDeniedException")
        self.assertEqual(self.lam.get_event_source_mapping(UUID=mine)["BatchSize"], 100)

    def parallel_batches(self):
        items, kw = [], {}
        while True:
            page = self.ddb.scan(TableName=SINK, ConsistentRead=True, **kw)
            items += [i for i in page["Items"] if i["id"]["S"].startswith("par/")]
            if "LastEvaluatedKey" not in page:
                break
            kw["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return sorted(({"recs": [tuple(x) for x in json.loads(i["recs"]["S"])],
                        "start": float(i["start"]["N"]), "end": float(i["end"]["N"])}
                       for i in items), key=lambda b: b["start"])

    def wait_parallel(self, want, timeout=90):
        end = time.monotonic() + timeout
        while True:
            batches = self.parallel_batches()
            seen = {r for b in batches for r in b["recs"]}
            if want <= seen:
                return batches
            self.assertLess(time.monotonic(), end, "%d of %d records delivered: %s" % (
                len(seen & want), len(want), self.server.stderr_tail()))
            time.sleep(0.3)

    def test_parallelization_factor(self):
        self.lam.create_function(FunctionName="esm-par", Runtime="python3.12", Role=ROLE,
                                 Handler="app.handler", Timeout=30,
                                 Environment={"Variables": {"SINK": SINK}},
                                 Code={"ZipFile": zip_of({"app.py": (PARALLEL_HANDLER, 0o644)})})
        arn = self.source("esm-par-src", view="NEW_IMAGE")
        for bad in (0, 11):
            self.error(self.raw.create_event_source_mapping, "InvalidParameterValueException",
                       FunctionName="esm-par", EventSourceArn=arn, StartingPosition="LATEST",
                       ParallelizationFactor=bad)
        keys = ["k%d" % i for i in range(8)]
        # written before the mapping reads: its first rounds find full lanes
        for n in range(4):
            for k in keys:
                self.put("esm-par-src", k, n=n)
        m = self.lam.create_event_source_mapping(
            FunctionName="esm-par", EventSourceArn=arn, StartingPosition="TRIM_HORIZON",
            BatchSize=3, ParallelizationFactor=4)
        self.assertEqual(m["ParallelizationFactor"], 4)
        uuid = m["UUID"]
        want = {(k, n) for k in keys for n in range(4)}
        batches = self.wait_parallel(want)
        self.wait_for_result(uuid, "OK")
        # one key's records: in order, each once, and never in two batches at once
        for k in keys:
            self.assertEqual([n for b in batches for (kk, n) in b["recs"] if kk == k],
                             [0, 1, 2, 3], batches)
        overlapping = 0
        for i, a in enumerate(batches):
            for b in batches[i + 1:]:
                if b["start"] < a["end"] and a["start"] < b["end"]:
                    overlapping += 1
                    self.assertEqual({k for k, _ in a["recs"]} & {k for k, _ in b["recs"]},
                                     set(), (a, b))
        self.assertGreater(overlapping, 0, batches)  # more than one batch in flight at once
        self.assertLessEqual(max(len(b["recs"]) for b in batches), 3)
        self.assertLessEqual(len(batches), 32)

        # a region killed hard mid-round resumes from its checkpoint: every
        # record is delivered (at least once), each batch in key order
        more = {(k, n) for k in keys for n in range(4, 8)}
        for n in range(4, 8):
            for k in keys:
                self.put("esm-par-src", k, n=n)
        end = time.monotonic() + 60
        while not {r for b in self.parallel_batches() for r in b["recs"]} & more:
            self.assertLess(time.monotonic(), end, self.server.stderr_tail())
            time.sleep(0.1)
        self.server.kill()
        self.server.start()
        self.clients()
        batches = self.wait_parallel(want | more)
        for b in batches:
            for k in keys:
                ns = [n for (kk, n) in b["recs"] if kk == k]
                self.assertEqual(ns, sorted(ns), b)
        for k in keys:  # the last delivery of each record came in key order
            last = {}
            for i, b in enumerate(batches):
                for (kk, n) in b["recs"]:
                    if kk == k:
                        last[n] = i
            self.assertEqual(sorted(last, key=lambda n: last[n]), list(range(8)), batches)

        # one lane fails once: the others' records are not delivered again
        # while it retries, and the failed key's records come in order after
        arn = self.source("esm-par-fail", view="NEW_IMAGE")
        qkeys = ["q%d" % i for i in range(6)] + ["bad"]
        for n in range(3):
            for k in qkeys:
                if k == "bad" and n == 0:
                    self.put("esm-par-fail", k, n=n, fail=1)
                else:
                    self.put("esm-par-fail", k, n=n)
        uuid = self.lam.create_event_source_mapping(
            FunctionName="esm-par", EventSourceArn=arn, StartingPosition="TRIM_HORIZON",
            BatchSize=2, ParallelizationFactor=4)["UUID"]
        self.wait_parallel({(k, n) for k in qkeys for n in range(3)})
        self.wait_for_result(uuid, "OK")
        got = [r for b in self.parallel_batches() for r in b["recs"] if r[0] in qkeys]
        self.assertEqual(sorted(got), sorted((k, n) for k in qkeys for n in range(3)))
        self.assertEqual([n for k, n in got if k == "bad"], [0, 1, 2])

    def test_restart_resumes(self):
        arn = self.source("esm-restart")
        uuid = self.lam.create_event_source_mapping(
            FunctionName="esm-fn", EventSourceArn=arn, StartingPosition="LATEST")["UUID"]
        self.wait_state(uuid, "Enabled")
        self.put("esm-restart", "before")
        self.wait_delivered("esm-restart", 1)
        for i in range(5):
            self.put("esm-restart", "k%d" % i)
        self.server.stop()
        self.server.start()
        self.clients()
        got = self.wait_delivered("esm-restart", 6)
        keys = [r["dynamodb"]["Keys"]["pk"]["S"] for r in got]
        self.assertEqual(keys, ["before"] + ["k%d" % i for i in range(5)])
        self.assertEqual(self.lam.get_event_source_mapping(UUID=uuid)["State"], "Enabled")


if __name__ == "__main__":
    unittest.main()
