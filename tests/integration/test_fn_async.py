"""Event (asynchronous) invocations through boto3 against a real region: a
python function that records each try in a DynamoDB sink table is retried
after errors (TANDEM_FN_ASYNC_RETRY_MS shortens Lambda's 1 and 2 minute
delays), its OnSuccess and OnFailure destination functions get Lambda's
invocation record, and an event acknowledged before a kill -9 runs after the
restart."""

import json
import os
import shutil
import threading
import time
import unittest

import botocore.exceptions

from tandem_harness import ServerTestCase
from test_lambda import zip_of

ACCOUNT = "123456789012"
ROLE = "arn:aws:iam::%s:role/async-run" % ACCOUNT
ARN = "arn:aws:lambda:us-east-1:%s:function:" % ACCOUNT
SINK = "async-sink"
RETRY_MS = 300

HANDLER = '''\
import json
import os
import time

import boto3

ddb = boto3.client("dynamodb", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
SINK = os.environ["SINK"]


def handler(event, context):
    if "requestContext" in event:  # a destination's invocation record
        ddb.put_item(TableName=SINK, Item={
            "id": {"S": "dest/" + event["requestContext"]["requestId"]},
            "rec": {"S": json.dumps(event)}})
        return {}
    key = event["key"]
    out = ddb.update_item(TableName=SINK, Key={"id": {"S": "tries/" + key}},
                          UpdateExpression="ADD tries :one",
                          ExpressionAttributeValues={":one": {"N": "1"}},
                          ReturnValues="UPDATED_NEW")
    tries = int(out["Attributes"]["tries"]["N"])
    if event.get("sleep") and tries == 1:
        time.sleep(event["sleep"])
    if tries <= event.get("failtimes", 0):
        raise RuntimeError("asked to fail %s (try %d)" % (key, tries))
    ddb.put_item(TableName=SINK, Item={"id": {"S": "done/" + key},
                                       "tries": {"N": str(tries)},
                                       "rid": {"S": context.aws_request_id}})
    return {"key": key, "tries": tries}
'''


class AsyncInvokeTest(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        if not shutil.which("python3"):
            raise unittest.SkipTest("no python3 for python functions")
        # for every start of the server, the restart too
        os.environ["TANDEM_FN_ASYNC_RETRY_MS"] = str(RETRY_MS)
        cls.addClassCleanup(os.environ.pop, "TANDEM_FN_ASYNC_RETRY_MS", None)
        super().setUpClass()
        cls.clients()
        trust = json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole"}]})
        iam = cls.server.boto3("iam")
        iam.create_role(RoleName="async-run", AssumeRolePolicyDocument=trust)
        iam.put_role_policy(RoleName="async-run", PolicyName="p", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Resource": "*",
                           "Action": ["dynamodb:PutItem", "dynamodb:UpdateItem"]}]}))
        cls.ddb.create_table(TableName=SINK, BillingMode="PAY_PER_REQUEST",
                             AttributeDefinitions=[{"AttributeName": "id",
                                                    "AttributeType": "S"}],
                             KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
        code = zip_of({"app.py": (HANDLER, 0o644)})
        for name in ("async-fn", "async-fail0", "async-ok", "async-dest"):
            cls.lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE,
                                    Handler="app.handler", Timeout=30,
                                    Environment={"Variables": {"SINK": SINK}},
                                    Code={"ZipFile": code})

    @classmethod
    def clients(cls):
        cls.lam = cls.server.boto3("lambda", max_attempts=1, read_timeout=60)
        cls.ddb = cls.server.boto3("dynamodb")

    def event(self, fn, payload, **kw):
        out = self.lam.invoke(FunctionName=fn, InvocationType="Event",
                              Payload=json.dumps(payload), **kw)
        self.assertEqual(out["StatusCode"], 202)
        self.assertEqual(out["Payload"].read(), b"")
        return out["ResponseMetadata"]["RequestId"]

    def item(self, key):
        got = self.ddb.get_item(TableName=SINK, Key={"id": {"S": key}}, ConsistentRead=True)
        return got.get("Item")

    def wait_item(self, key, timeout=60):
        end = time.monotonic() + timeout
        while True:
            it = self.item(key)
            if it:
                return it
            self.assertLess(time.monotonic(), end, "no %s: %s" % (key,
                                                                  self.server.stderr_tail()))
            time.sleep(0.2)

    def tries(self, key):
        it = self.item("tries/" + key)
        return int(it["tries"]["N"]) if it else 0

    def test_the_function_sees_the_request_id_of_the_202(self):
        """as Lambda: the id Invoke answered is the one the function's context has, on every
        try (a retry is the same request)"""
        rid = self.event("async-fn", {"key": "rid", "failtimes": 1})
        done = self.wait_item("done/rid")
        self.assertEqual(done["tries"]["N"], "2")
        self.assertEqual(done["rid"]["S"], rid)

    def test_invoke_async_is_an_event_invocation(self):
        """the deprecated InvokeAsync (POST /2014-11-13/functions/NAME/invoke-async):
        202, queued as an Event invocation; a body that is not JSON is refused as Invoke
        refuses it, a missing function is 404, and it needs lambda:InvokeAsync"""
        out = self.lam.invoke_async(FunctionName="async-fn",
                                    InvokeArgs=json.dumps({"key": "old-api"}))
        self.assertEqual(out["Status"], 202)
        rid = out["ResponseMetadata"]["RequestId"]
        self.assertEqual(self.wait_item("done/old-api")["rid"]["S"], rid)
        with self.assertRaises(self.lam.exceptions.InvalidRequestContentException):
            self.lam.invoke_async(FunctionName="async-fn", InvokeArgs=b"not json")
        with self.assertRaises(self.lam.exceptions.ResourceNotFoundException):
            self.lam.invoke_async(FunctionName="async-missing", InvokeArgs=b"{}")
        iam = self.server.boto3("iam")
        iam.create_user(UserName="invoker")
        iam.put_user_policy(UserName="invoker", PolicyName="p", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*",
                                                    "Action": "lambda:InvokeFunction"}]}))
        key = iam.create_access_key(UserName="invoker")["AccessKey"]
        lam = self.server.boto3("lambda", access_key=key["AccessKeyId"],
                                secret_key=key["SecretAccessKey"])
        with self.assertRaises(lam.exceptions.ClientError) as cm:
            lam.invoke_async(FunctionName="async-fn", InvokeArgs=b"{}")
        self.assertIn("lambda:InvokeAsync", cm.exception.response["Error"]["Message"])

    def test_reads_of_settings_functions_do_not_have(self):
        """what Terraform reads after GetFunction, answered as Lambda does for a function
        without them; a missing function is 404"""
        r = self.lam.get_function_code_signing_config(FunctionName="async-fn")
        self.assertEqual((r["CodeSigningConfigArn"], r["FunctionName"]), ("", "async-fn"))
        self.assertNotIn("ReservedConcurrentExecutions",
                         self.lam.get_function_concurrency(FunctionName="async-fn"))
        self.assertEqual(self.lam.list_provisioned_concurrency_configs(
            FunctionName="async-fn")["ProvisionedConcurrencyConfigs"], [])
        with self.assertRaises(self.lam.exceptions.ResourceNotFoundException):
            self.lam.get_function_code_signing_config(FunctionName="async-missing")
        # settings a region cannot honour are refused, not kept and ignored
        layer = "arn:aws:lambda:us-east-1:%s:layer:deps:1" % ACCOUNT
        with self.assertRaises(self.lam.exceptions.InvalidParameterValueException) as cm:
            self.lam.update_function_configuration(FunctionName="async-fn", Layers=[layer])
        self.assertIn("Layers are not supported", str(cm.exception))
        with self.assertRaises(self.lam.exceptions.InvalidParameterValueException) as cm:
            self.lam.create_function(
                FunctionName="async-dlq", Runtime="python3.12", Role=ROLE,
                Handler="app.handler", Code={"ZipFile": zip_of({"app.py": (HANDLER, 0o644)})},
                DeadLetterConfig={"TargetArn": "arn:aws:sqs:us-east-1:%s:dlq" % ACCOUNT})
        self.assertIn("on-failure destination", str(cm.exception))
        self.lam.update_function_configuration(FunctionName="async-fn", Layers=[])
        self.assertEqual(self.lam.list_layers()["Layers"], [])
        self.assertEqual(self.lam.list_code_signing_configs()["CodeSigningConfigs"], [])

    def test_reserved_concurrency(self):
        """PutFunctionConcurrency caps the invocations running or waiting at once: 0
        switches the function off (a synchronous call is throttled with Lambda's 429,
        an event waits), a cap of 1 throttles a second call while the first runs"""
        lam = self.lam
        lam.create_function(FunctionName="async-gated", Runtime="python3.12", Role=ROLE,
                            Handler="app.handler", Timeout=30,
                            Environment={"Variables": {"SINK": SINK}},
                            Code={"ZipFile": zip_of({"app.py": (HANDLER, 0o644)})})
        self.assertEqual(lam.put_function_concurrency(FunctionName="async-gated",
                                                      ReservedConcurrentExecutions=0)[
            "ReservedConcurrentExecutions"], 0)
        self.assertEqual(lam.get_function(FunctionName="async-gated")["Concurrency"],
                         {"ReservedConcurrentExecutions": 0})
        self.assertEqual(lam.get_function_concurrency(FunctionName="async-gated")[
            "ReservedConcurrentExecutions"], 0)
        with self.assertRaises(lam.exceptions.TooManyRequestsException) as cm:
            lam.invoke(FunctionName="async-gated", Payload=json.dumps({"key": "gated-sync"}))
        err = cm.exception.response
        self.assertEqual((err["Reason"], err["Error"]["Message"],
                          err["ResponseMetadata"]["HTTPStatusCode"]),
                         ("ReservedFunctionConcurrentInvocationLimitExceeded", "Rate Exceeded.",
                          429))
        self.event("async-gated", {"key": "gated-event"})
        time.sleep(1.5)  # several retry delays: it waits, untried
        self.assertIsNone(self.item("done/gated-event"))
        self.assertEqual(self.tries("gated-event"), 0)
        lam.delete_function_concurrency(FunctionName="async-gated")
        self.assertNotIn("Concurrency", lam.get_function(FunctionName="async-gated"))
        self.assertEqual(self.wait_item("done/gated-event")["tries"]["N"], "1")
        # a cap of 1: a second call while the first sleeps is throttled
        lam.put_function_concurrency(FunctionName="async-gated", ReservedConcurrentExecutions=1)
        slow = threading.Thread(target=lam.invoke, kwargs={
            "FunctionName": "async-gated", "Payload": json.dumps({"key": "slow", "sleep": 3})})
        slow.start()
        try:
            time.sleep(0.5)
            with self.assertRaises(lam.exceptions.TooManyRequestsException):
                lam.invoke(FunctionName="async-gated", Payload=json.dumps({"key": "second"}))
        finally:
            slow.join(60)
        lam.invoke(FunctionName="async-gated", Payload=json.dumps({"key": "after"}))
        # the account's view: 1 of its 1000 reserved, every function's code counted
        acct = lam.get_account_settings()
        self.assertEqual((acct["AccountLimit"]["ConcurrentExecutions"],
                          acct["AccountLimit"]["UnreservedConcurrentExecutions"]), (1000, 999))
        self.assertEqual(acct["AccountUsage"]["FunctionCount"],
                         len(lam.list_functions()["Functions"]))
        self.assertGreater(acct["AccountUsage"]["TotalCodeSize"], 0)
        # values Lambda refuses
        raw = self.server.boto3("lambda", parameter_validation=False)
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            raw.put_function_concurrency(FunctionName="async-gated",
                                         ReservedConcurrentExecutions=-1)
        self.assertEqual(cm.exception.response["Error"]["Code"], "ValidationException")
        with self.assertRaises(lam.exceptions.InvalidParameterValueException) as cm:
            lam.put_function_concurrency(FunctionName="async-gated",
                                         ReservedConcurrentExecutions=901)
        self.assertIn("below its minimum value of [100]", str(cm.exception))
        with self.assertRaises(lam.exceptions.ResourceNotFoundException):
            lam.put_function_concurrency(FunctionName="async-nobody",
                                         ReservedConcurrentExecutions=1)
        lam.delete_function(FunctionName="async-gated")

    def test_retried_until_success(self):
        t0 = time.monotonic()
        self.event("async-fn", {"key": "twice", "failtimes": 2})
        done = self.wait_item("done/twice")
        self.assertEqual(done["tries"]["N"], "3")
        # Lambda's backoff, scaled: RETRY_MS before the second try, twice it before the third
        self.assertGreaterEqual(time.monotonic() - t0, 3 * RETRY_MS / 1000.0)

    def test_retries_exhausted(self):
        """The default two retries, then the event is dropped (no destination)."""
        self.event("async-fn", {"key": "always", "failtimes": 99})
        end = time.monotonic() + 30
        while self.tries("always") < 3:
            self.assertLess(time.monotonic(), end)
            time.sleep(0.2)
        time.sleep(6 * RETRY_MS / 1000.0)
        self.assertEqual(self.tries("always"), 3)
        self.assertIsNone(self.item("done/always"))

    def test_no_retry_then_on_failure_destination(self):
        self.lam.put_function_event_invoke_config(
            FunctionName="async-fail0", MaximumRetryAttempts=0,
            DestinationConfig={"OnFailure": {"Destination": ARN + "async-dest"},
                               "OnSuccess": {"Destination": ARN + "async-dest"}})
        payload = {"key": "once", "failtimes": 5, "note": "ü"}
        rid = self.event("async-fail0", payload)
        rec = json.loads(self.wait_item("dest/" + rid)["rec"]["S"])
        self.assertEqual(self.tries("once"), 1)
        self.assertEqual(rec["version"], "1.0")
        self.assertRegex(rec["timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertEqual(rec["requestContext"], {
            "requestId": rid, "functionArn": ARN + "async-fail0:$LATEST",
            "condition": "RetriesExhausted", "approximateInvokeCount": 1})
        self.assertEqual(rec["requestPayload"], payload)
        self.assertEqual(rec["responseContext"], {"statusCode": 200,
                                                  "executedVersion": "$LATEST",
                                                  "functionError": "Unhandled"})
        self.assertEqual(rec["responsePayload"]["errorType"], "RuntimeError")
        self.assertIn("asked to fail once", rec["responsePayload"]["errorMessage"])

    def test_on_success_destination_of_a_version(self):
        v = self.lam.publish_version(FunctionName="async-ok")["Version"]
        self.lam.put_function_event_invoke_config(
            FunctionName="async-ok", Qualifier=v,
            DestinationConfig={"OnSuccess": {"Destination": ARN + "async-dest:$LATEST"}})
        rid = self.event("async-ok", {"key": "ok"}, Qualifier=v)
        rec = json.loads(self.wait_item("dest/" + rid)["rec"]["S"])
        self.assertEqual(rec["requestContext"], {
            "requestId": rid, "functionArn": ARN + "async-ok:" + v,
            "condition": "Success", "approximateInvokeCount": 1})
        self.assertEqual(rec["requestPayload"], {"key": "ok"})
        self.assertEqual(rec["responseContext"], {"statusCode": 200, "executedVersion": v})
        self.assertEqual(rec["responsePayload"], {"key": "ok", "tries": 1})
        # $LATEST has no configuration: its events reach no destination
        rid = self.event("async-ok", {"key": "ok-latest"})
        self.wait_item("done/ok-latest")
        time.sleep(1)
        self.assertIsNone(self.item("dest/" + rid))

    def test_event_age_exceeded(self):
        """A first try that outlasts MaximumEventAgeInSeconds (60, the least):
        its retry is not run; the OnFailure destination is told why."""
        code = zip_of({"app.py": (HANDLER, 0o644)})
        self.lam.create_function(FunctionName="async-old", Runtime="python3.12", Role=ROLE,
                                 Handler="app.handler", Timeout=90,
                                 Environment={"Variables": {"SINK": SINK}},
                                 Code={"ZipFile": code})
        self.lam.put_function_event_invoke_config(
            FunctionName="async-old", MaximumEventAgeInSeconds=60,
            DestinationConfig={"OnFailure": {"Destination": ARN + "async-dest"}})
        rid = self.event("async-old", {"key": "old", "failtimes": 99, "sleep": 61})
        rec = json.loads(self.wait_item("dest/" + rid, timeout=150)["rec"]["S"])
        self.assertEqual(rec["requestContext"], {
            "requestId": rid, "functionArn": ARN + "async-old:$LATEST",
            "condition": "EventAgeExceeded", "approximateInvokeCount": 1})
        self.assertEqual(rec["requestPayload"]["key"], "old")
        self.assertNotIn("responsePayload", rec)
        self.assertEqual(self.tries("old"), 1)

    def test_deleted_function_drops_its_events(self):
        code = zip_of({"app.py": (HANDLER, 0o644)})
        self.lam.create_function(FunctionName="async-gone", Runtime="python3.12", Role=ROLE,
                                 Handler="app.handler", Timeout=30,
                                 Environment={"Variables": {"SINK": SINK}},
                                 Code={"ZipFile": code})
        self.event("async-gone", {"key": "gone", "failtimes": 99, "sleep": 5})
        end = time.monotonic() + 30
        while self.tries("gone") < 1:
            self.assertLess(time.monotonic(), end)
            time.sleep(0.1)
        self.lam.delete_function(FunctionName="async-gone")  # during the first try
        end = time.monotonic() + 30
        while "condition=FunctionDeleted" not in self.server.stderr_tail():
            self.assertLess(time.monotonic(), end, self.server.stderr_tail())
            time.sleep(0.2)
        self.assertEqual(self.tries("gone"), 1)

    def test_kill_9_then_delivered_after_restart(self):
        keys = ["crash%d" % i for i in range(4)]
        for k in keys:
            self.event("async-fn", {"key": k, "sleep": 20})
        self.server.kill()  # acknowledged, not finished: the functions still sleep
        self.server.start()
        type(self).clients()
        for k in keys:
            self.assertGreaterEqual(int(self.wait_item("done/" + k)["tries"]["N"]), 1)


if __name__ == "__main__":
    unittest.main()
