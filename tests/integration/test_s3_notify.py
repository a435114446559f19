"""S3 event notifications to Lambda functions: Put/GetBucketNotificationConfiguration
through boto3 (round trip, S3's refusals, nothing changed by a refused one), and
delivery to a real python function that writes every record it gets to a sink
table: the event's shape, prefix/suffix filters, Put, Copy, multipart, Delete,
DeleteMarkerCreated, a pending event delivered after kill -9 and restart, and the
function's asynchronous invocation settings (retries, destinations) followed."""

import json
import os
import shutil
import time
import unittest

from tandem_harness import ServerTestCase
from test_lambda import zip_of
from test_s3_post import form_parts

ACCOUNT = "123456789012"
SINK = "s3n-sink"
ROLE = "arn:aws:iam::%s:role/s3n-role" % ACCOUNT

HANDLER = '''\
import json
import os
import time

import boto3

ddb = boto3.client("dynamodb", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
SINK = os.environ["SINK"]


def handler(event, context):
    if "requestContext" in event:  # a destination's invocation record
        key = event["requestPayload"]["Records"][0]["s3"]["object"]["key"]
        ddb.put_item(TableName=SINK, Item={"id": {"S": "dest/" + key},
                                           "rec": {"S": json.dumps(event)}})
        return {}
    for r in event["Records"]:
        o = r["s3"]["object"]
        if "failalways" in o["key"]:
            ddb.update_item(TableName=SINK, Key={"id": {"S": "tries/" + o["key"]}},
                            UpdateExpression="ADD tries :one",
                            ExpressionAttributeValues={":one": {"N": "1"}})
            raise RuntimeError("asked to fail")
        if "sleepfirst" in o["key"]:
            out = ddb.update_item(TableName=SINK, Key={"id": {"S": "tries/" + o["key"]}},
                                  UpdateExpression="ADD tries :one",
                                  ExpressionAttributeValues={":one": {"N": "1"}},
                                  ReturnValues="UPDATED_NEW")
            if out["Attributes"]["tries"]["N"] == "1":
                time.sleep(120)
        ddb.put_item(TableName=SINK, Item={
            "id": {"S": "ev/%s/%s/%s" % (r["s3"]["bucket"]["name"], o["sequencer"],
                                         r["s3"]["configurationId"])},
            "rec": {"S": json.dumps(r)}})
    return {"ok": True}
'''


class NotifyBase(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        if not shutil.which("python3"):  # before any server is started
            raise unittest.SkipTest("no python3 for python functions")
        # the functions' asynchronous retries (Lambda's 1 and 2 minutes) shortened, for every
        # start of the server, the restarts too
        os.environ["TANDEM_FN_ASYNC_RETRY_MS"] = "300"
        cls.addClassCleanup(os.environ.pop, "TANDEM_FN_ASYNC_RETRY_MS", None)
        super().setUpClass()
        cls.clients()
        cls.prepare()

    @classmethod
    def clients(cls):
        cls.s3 = cls.server.boto3("s3")
        cls.lam = cls.server.boto3("lambda", max_attempts=1, read_timeout=60)
        cls.ddb = cls.server.boto3("dynamodb")
        cls.iam = cls.server.boto3("iam")

    @classmethod
    def prepare(cls):
        trust = json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole"}]})
        cls.iam.create_role(RoleName="s3n-role", AssumeRolePolicyDocument=trust)
        cls.iam.put_role_policy(RoleName="s3n-role", PolicyName="p", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": ["dynamodb:PutItem", "dynamodb:UpdateItem"],
                "Resource": "*"}]}))
        cls.ddb.create_table(TableName=SINK, BillingMode="PAY_PER_REQUEST",
                             AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                             KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
        code = zip_of({"app.py": (HANDLER, 0o644)})
        for name in ("s3n-fn", "s3n-nopolicy", "s3n-other", "s3n-cfg", "s3n-dest"):
            cls.lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE,
                                    Handler="app.handler", Timeout=150,
                                    Environment={"Variables": {"SINK": SINK}},
                                    Code={"ZipFile": code})
        cls.lam.add_permission(FunctionName="s3n-fn", StatementId="s3",
                               Action="lambda:InvokeFunction", Principal="s3.amazonaws.com",
                               SourceArn="arn:aws:s3:::s3n-*", SourceAccount=ACCOUNT)
        cls.lam.add_permission(FunctionName="s3n-cfg", StatementId="s3",
                               Action="lambda:InvokeFunction", Principal="s3.amazonaws.com",
                               SourceArn="arn:aws:s3:::s3n-*", SourceAccount=ACCOUNT)
        cls.lam.add_permission(FunctionName="s3n-other", StatementId="s3",
                               Action="lambda:InvokeFunction", Principal="s3.amazonaws.com",
                               SourceArn="arn:aws:s3:::somebody-else", SourceAccount=ACCOUNT)

    def arn(self, name="s3n-fn"):
        return "arn:aws:lambda:us-east-1:%s:function:%s" % (ACCOUNT, name)

    def bucket(self, name, versioned=False):
        self.s3.create_bucket(Bucket=name)
        if versioned:
            self.s3.put_bucket_versioning(Bucket=name,
                                          VersioningConfiguration={"Status": "Enabled"})

    def configure(self, bucket, *configs):
        self.s3.put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration={"LambdaFunctionConfigurations": list(configs)})

    def conf(self, cid, events, prefix=None, suffix=None, fn="s3n-fn"):
        c = {"Id": cid, "LambdaFunctionArn": self.arn(fn), "Events": events}
        rules = [{"Name": n, "Value": v} for n, v in (("prefix", prefix), ("suffix", suffix)) if v]
        if rules:
            c["Filter"] = {"Key": {"FilterRules": rules}}
        return c

    def delivered(self, bucket):
        """The records the function got for @bucket, in sequencer order."""
        pages = self.ddb.get_paginator("scan").paginate(TableName=SINK, ConsistentRead=True)
        out = [json.loads(i["rec"]["S"]) for p in pages for i in p["Items"]
               if i["id"]["S"].startswith("ev/%s/" % bucket)]
        return sorted(out, key=lambda r: r["s3"]["object"]["sequencer"])

    def put_selected(self, bucket, events, key, fn="s3n-fn"):
        """a new bucket whose configuration "c" selects @events for @fn; @key put there"""
        self.bucket(bucket)
        self.configure(bucket, self.conf("c", events, fn=fn))
        self.s3.put_object(Bucket=bucket, Key=key, Body=b"x")

    def wait_until(self, cond, timeout=60):
        """poll @cond until it is true; fail with the server's log after @timeout s"""
        end = time.monotonic() + timeout
        while not cond():
            self.assertLess(time.monotonic(), end, self.server.stderr_tail())
            time.sleep(0.2)

    def wait_item(self, key, timeout=60):
        """the JSON record the sink holds under @key, once there"""
        got = {}

        def there():
            item = self.ddb.get_item(TableName=SINK, ConsistentRead=True,
                                     Key={"id": {"S": key}}).get("Item")
            if item:
                got.update(json.loads(item["rec"]["S"]))
            return bool(item)
        self.wait_until(there, timeout)
        return got

    def tries(self, key):
        """how often the function began on @key (keys it counts), 0 before it did"""
        item = self.ddb.get_item(TableName=SINK, ConsistentRead=True,
                                 Key={"id": {"S": "tries/" + key}}).get("Item")
        return int(item["tries"]["N"]) if item else 0

    def wait_delivered(self, bucket, n, timeout=90):
        deadline = time.monotonic() + timeout
        got = self.delivered(bucket)
        while len(got) < n and time.monotonic() < deadline:
            time.sleep(0.2)
            got = self.delivered(bucket)
        self.assertGreaterEqual(len(got), n, "events delivered: %d of %d: %s"
                                % (len(got), n, self.server.stderr_tail()))
        return got


class NotifyTest(NotifyBase):
    def refused(self, bucket, configs, code="InvalidArgument", raw=None):
        def now():
            got = self.s3.get_bucket_notification_configuration(Bucket=bucket)
            got.pop("ResponseMetadata")
            return got
        before = now()
        with self.assertRaises(self.s3.exceptions.ClientError) as cm:
            self.s3.put_bucket_notification_configuration(
                Bucket=bucket, NotificationConfiguration=raw or {
                    "LambdaFunctionConfigurations": configs})
        err = cm.exception.response["Error"]
        self.assertEqual(err["Code"], code, cm.exception.response)
        self.assertEqual(now(), before)
        return err["Message"]

    def test_config_round_trip(self):
        self.bucket("s3n-conf")
        got = self.s3.get_bucket_notification_configuration(Bucket="s3n-conf")
        self.assertNotIn("LambdaFunctionConfigurations", got)
        self.configure("s3n-conf",
                       self.conf("created", ["s3:ObjectCreated:*"], prefix="in/", suffix=".txt"),
                       {"LambdaFunctionArn": self.arn(), "Events": ["s3:ObjectRemoved:Delete",
                                                                    "s3:ObjectRemoved:DeleteMarkerCreated"]})
        got = self.s3.get_bucket_notification_configuration(Bucket="s3n-conf")
        confs = got["LambdaFunctionConfigurations"]
        self.assertEqual(len(confs), 2)
        self.assertEqual(confs[0]["Id"], "created")
        self.assertEqual(confs[0]["LambdaFunctionArn"], self.arn())
        self.assertEqual(confs[0]["Events"], ["s3:ObjectCreated:*"])
        self.assertEqual(sorted((r["Name"].lower(), r["Value"])
                                for r in confs[0]["Filter"]["Key"]["FilterRules"]),
                         [("prefix", "in/"), ("suffix", ".txt")])
        self.assertTrue(confs[1]["Id"])  # S3 names a configuration given no Id
        self.assertEqual(confs[1]["Events"], ["s3:ObjectRemoved:Delete",
                                              "s3:ObjectRemoved:DeleteMarkerCreated"])
        self.assertNotIn("Filter", confs[1])
        # the older GetBucketNotification shape reads the same document
        old = self.s3.get_bucket_notification(Bucket="s3n-conf")
        self.assertEqual(old["CloudFunctionConfiguration"]["CloudFunction"], self.arn())
        # an empty configuration removes them all
        self.s3.put_bucket_notification_configuration(Bucket="s3n-conf",
                                                      NotificationConfiguration={})
        got = self.s3.get_bucket_notification_configuration(Bucket="s3n-conf")
        self.assertNotIn("LambdaFunctionConfigurations", got)
        with self.assertRaises(self.s3.exceptions.NoSuchBucket):
            self.s3.get_bucket_notification_configuration(Bucket="s3n-nobody")

    def test_refusals(self):
        self.bucket("s3n-refuse")
        self.configure("s3n-refuse", self.conf("keep", ["s3:ObjectCreated:Put"], prefix="keep/"))
        msg = self.refused("s3n-refuse", [
            self.conf("a", ["s3:ObjectCreated:*"], prefix="images/"),
            self.conf("b", ["s3:ObjectCreated:Put"], prefix="images/jpg/")])
        self.assertIn("Configurations overlap", msg)
        self.refused("s3n-refuse", [self.conf("a", ["s3:ObjectCreated:*"], suffix=".jpg"),
                                    self.conf("b", ["s3:ObjectCreated:Copy"], suffix="x.jpg")])
        # not overlapping: other event types, or prefixes apart
        self.configure("s3n-refuse", self.conf("a", ["s3:ObjectCreated:*"], prefix="a/"),
                       self.conf("b", ["s3:ObjectCreated:*"], prefix="b/"),
                       self.conf("c", ["s3:ObjectRemoved:*"], prefix="a/"))
        self.configure("s3n-refuse", self.conf("keep", ["s3:ObjectCreated:Put"], prefix="keep/"))
        for fn in ("s3n-nobody", "s3n-nopolicy", "s3n-other"):
            msg = self.refused("s3n-refuse", [self.conf("x", ["s3:ObjectCreated:*"], fn=fn)])
            self.assertEqual(msg, "Unable to validate the following destination configurations")
        msg = self.refused("s3n-refuse", [], raw={"TopicConfigurations": [{
            "TopicArn": "arn:aws:sns:us-east-1:%s:t" % ACCOUNT,
            "Events": ["s3:ObjectCreated:*"]}]})
        self.assertEqual(msg, "Unable to validate the following destination configurations")
        self.refused("s3n-refuse", [], raw={"QueueConfigurations": [{
            "QueueArn": "arn:aws:sqs:us-east-1:%s:q" % ACCOUNT,
            "Events": ["s3:ObjectCreated:*"]}]})
        self.refused("s3n-refuse", [], raw={"EventBridgeConfiguration": {}})
        self.refused("s3n-refuse", [self.conf("x", ["s3:ObjectCreated:Nope"])])
        self.refused("s3n-refuse", [{
            "LambdaFunctionArn": self.arn(), "Events": ["s3:ObjectCreated:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "a"},
                                               {"Name": "prefix", "Value": "b"}]}}}])
        self.refused("s3n-refuse", [{
            "LambdaFunctionArn": self.arn(), "Events": ["s3:ObjectCreated:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": "a"},
                                               {"Name": "suffix", "Value": "b"}]}}}])
        self.refused("s3n-refuse", [{
            "LambdaFunctionArn": self.arn(), "Events": ["s3:ObjectCreated:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "middle", "Value": "a"}]}}}])
        self.refused("s3n-refuse", [{
            "LambdaFunctionArn": self.arn(), "Events": ["s3:ObjectCreated:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "a" * 1025}]}}}])
        self.refused("s3n-refuse", [self.conf("same", ["s3:ObjectCreated:*"], prefix="a/"),
                                    self.conf("same", ["s3:ObjectCreated:*"], prefix="b/")])
        self.refused("s3n-refuse", [self.conf("i" * 256, ["s3:ObjectCreated:*"])])
        self.refused("s3n-refuse", [{"LambdaFunctionArn": self.arn(), "Events": []}],
                     code="MalformedXML")
        got = self.s3.get_bucket_notification_configuration(Bucket="s3n-refuse")
        self.assertEqual([c["Id"] for c in got["LambdaFunctionConfigurations"]], ["keep"])
        # as in S3, the destinations go unchecked when the request asks so
        self.bucket("s3n-skip")
        self.s3.put_bucket_notification_configuration(
            Bucket="s3n-skip", SkipDestinationValidation=True, NotificationConfiguration={
                "LambdaFunctionConfigurations": [self.conf("x", ["s3:ObjectCreated:*"],
                                                           fn="s3n-nobody")]})
        got = self.s3.get_bucket_notification_configuration(Bucket="s3n-skip")
        self.assertEqual(got["LambdaFunctionConfigurations"][0]["LambdaFunctionArn"],
                         self.arn("s3n-nobody"))
        # bodies that are no NotificationConfiguration S3 reads
        for body in (b"<Nope/>", b"<NotificationConfiguration><Other/></NotificationConfiguration>",
                     b"<NotificationConfiguration><CloudFunctionConfiguration><Event>"
                     b"s3:ObjectCreated:*</Event></CloudFunctionConfiguration>"
                     b"</NotificationConfiguration>", b"not xml"):
            status, text = self.put_raw("s3n-refuse", body)
            self.assertEqual(status, 400, text)
            self.assertIn(b"<Code>MalformedXML</Code>", text)
        status, text = self.put_raw("s3n-refuse", b"", method="DELETE")
        self.assertEqual(status, 405, text)

    def put_raw(self, bucket, body, method="PUT"):
        """@method /@bucket?notification with @body, signed: (status, body)."""
        import hashlib
        import urllib.error
        import urllib.request
        from botocore.auth import S3SigV4Auth
        from botocore.awsrequest import AWSRequest
        req = AWSRequest(method=method, url="%s/%s?notification" % (self.server.url(), bucket),
                         data=body, headers={"x-amz-content-sha256":
                                             hashlib.sha256(body).hexdigest()})
        S3SigV4Auth(self.s3._request_signer._credentials, "s3", "us-east-1").add_auth(req)
        p = req.prepare()
        try:
            with urllib.request.urlopen(urllib.request.Request(
                    p.url, data=body or None, headers=dict(p.headers), method=method),
                    timeout=30) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def test_iam(self):
        """s3:PutBucketNotification and s3:GetBucketNotification decide for a user"""
        self.bucket("s3n-iam")
        self.iam.create_user(UserName="s3n-reader")
        self.iam.put_user_policy(UserName="s3n-reader", PolicyName="p", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": "s3:GetBucketNotification",
                "Resource": "arn:aws:s3:::s3n-iam"}]}))
        key = self.iam.create_access_key(UserName="s3n-reader")["AccessKey"]
        c = self.server.boto3("s3", access_key=key["AccessKeyId"],
                              secret_key=key["SecretAccessKey"])
        def reads():  # once the new key reaches the region's S3
            try:
                return bool(c.get_bucket_notification_configuration(Bucket="s3n-iam"))
            except c.exceptions.ClientError:
                return False
        self.wait_until(reads, 30)
        with self.assertRaises(c.exceptions.ClientError) as cm:
            c.put_bucket_notification_configuration(
                Bucket="s3n-iam", NotificationConfiguration={"LambdaFunctionConfigurations": [
                    self.conf("x", ["s3:ObjectCreated:*"])]})
        self.assertEqual(cm.exception.response["Error"]["Code"], "AccessDenied")

    def test_failing_function_retried_then_dropped(self):
        """the event is the function's asynchronous invocation: one try and Lambda's two
        retries, then dropped by the function's queue"""
        self.put_selected("s3n-fail", ["s3:ObjectCreated:Put"], "failalways.txt")
        self.wait_until(lambda: self.tries("failalways.txt") == 3)
        time.sleep(3)  # the third failure was the last: no fourth try comes
        self.assertEqual(self.tries("failalways.txt"), 3)
        self.assertRegex(self.server.stderr(),
                         r"event=fn_async_dropped function=%s(:\$LATEST)? request=\S+ "
                         r"condition=RetriesExhausted attempts=3" % self.arn())

    def test_event_invoke_config_is_followed(self):
        """the function's EventInvokeConfig decides: no retry, and the S3 event's record goes
        to the on-failure destination (another function, which files what it gets)"""
        self.lam.put_function_event_invoke_config(
            FunctionName="s3n-cfg", MaximumRetryAttempts=0,
            DestinationConfig={"OnFailure": {"Destination": self.arn("s3n-dest")}})
        self.put_selected("s3n-cfgd", ["s3:ObjectCreated:Put"], "failalways-cfg.txt", fn="s3n-cfg")
        self.wait_until(lambda: self.tries("failalways-cfg.txt") == 1)
        rec = self.wait_item("dest/failalways-cfg.txt")
        self.assertEqual(rec["requestContext"]["condition"], "RetriesExhausted")
        self.assertEqual(rec["requestContext"]["approximateInvokeCount"], 1)
        self.assertEqual(rec["requestContext"]["functionArn"], self.arn("s3n-cfg") + ":$LATEST")
        self.assertEqual(rec["requestPayload"]["Records"][0]["s3"]["object"]["key"],
                         "failalways-cfg.txt")
        time.sleep(2)
        self.assertEqual(self.tries("failalways-cfg.txt"), 1)

    def test_function_gone(self):
        """a function deleted after the configuration: tried, then dropped"""
        b = "s3n-gone"
        self.bucket(b)
        self.lam.create_function(FunctionName="s3n-gone", Runtime="python3.12", Role=ROLE,
                                 Handler="app.handler", Code={"ZipFile": zip_of(
                                     {"app.py": (HANDLER, 0o644)})})
        self.lam.add_permission(FunctionName="s3n-gone", StatementId="s3",
                                Action="lambda:InvokeFunction", Principal="s3.amazonaws.com")
        self.configure(b, self.conf("g", ["s3:ObjectCreated:*"], fn="s3n-gone"))
        self.lam.delete_function(FunctionName="s3n-gone")
        self.s3.put_object(Bucket=b, Key="k", Body=b"x")
        want = "event=s3_notify_dropped function=%s tries=3" % self.arn("s3n-gone")
        self.wait_until(lambda: want in self.server.stderr(), 30)
        self.assertEqual(self.delivered(b), [])

    def test_delivery(self):
        b = "s3n-deliver"
        self.bucket(b)
        self.configure(b, self.conf("created", ["s3:ObjectCreated:*"], prefix="in/",
                                    suffix=".txt"),
                       self.conf("removed", ["s3:ObjectRemoved:*"], prefix="in/"))
        self.s3.put_object(Bucket=b, Key="out/a.txt", Body=b"x")  # prefix does not match
        self.s3.put_object(Bucket=b, Key="in/a.bin", Body=b"x")   # suffix does not match
        put = self.s3.put_object(Bucket=b, Key="in/a b=c.txt", Body=b"hello")
        got = self.wait_delivered(b, 1)
        r = got[0]
        self.assertEqual(r["eventVersion"], "2.1")
        self.assertEqual(r["eventSource"], "aws:s3")
        self.assertEqual(r["awsRegion"], "us-east-1")
        self.assertEqual(r["eventName"], "ObjectCreated:Put")
        self.assertRegex(r["eventTime"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertTrue(r["userIdentity"]["principalId"])
        self.assertEqual(r["requestParameters"]["sourceIPAddress"], "127.0.0.1")
        self.assertEqual(r["responseElements"]["x-amz-request-id"],
                         put["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"])
        self.assertTrue(r["responseElements"]["x-amz-id-2"])
        s3 = r["s3"]
        self.assertEqual(s3["s3SchemaVersion"], "1.0")
        self.assertEqual(s3["configurationId"], "created")
        self.assertEqual(s3["bucket"], {"name": b, "ownerIdentity": {"principalId": ACCOUNT},
                                        "arn": "arn:aws:s3:::" + b})
        self.assertEqual(s3["object"]["key"], "in/a+b%3Dc.txt")
        self.assertEqual(s3["object"]["size"], 5)
        self.assertEqual(s3["object"]["eTag"], put["ETag"].strip('"'))
        self.assertNotIn("versionId", s3["object"])
        self.assertRegex(s3["object"]["sequencer"], r"^[0-9A-F]+$")

        self.s3.copy_object(Bucket=b, Key="in/copy.txt", CopySource={"Bucket": b,
                                                                   "Key": "in/a b=c.txt"})
        up = self.s3.create_multipart_upload(Bucket=b, Key="in/mp.txt")
        part = self.s3.upload_part(Bucket=b, Key="in/mp.txt", UploadId=up["UploadId"],
                                   PartNumber=1, Body=b"m" * 10)
        self.s3.complete_multipart_upload(Bucket=b, Key="in/mp.txt", UploadId=up["UploadId"],
                                          MultipartUpload={"Parts": [dict(
                                              {k: v for k, v in part.items()
                                               if k.startswith("Checksum")},
                                              PartNumber=1, ETag=part["ETag"])]})
        post = self.s3.generate_presigned_post(b, "in/post.txt", ExpiresIn=600)
        head, tail = form_parts(list(post["fields"].items()), "post.txt", "s3nboundary")
        conn = self.server.connection()
        try:
            conn.request("POST", "/" + b, body=head + b"posted" + tail,
                         headers={"Content-Type": "multipart/form-data; boundary=s3nboundary"})
            self.assertEqual(conn.getresponse().status, 204)
        finally:
            conn.close()
        self.s3.delete_object(Bucket=b, Key="in/copy.txt")
        self.s3.delete_object(Bucket=b, Key="out/a.txt")  # not selected
        got = self.wait_delivered(b, 5)
        self.assertEqual([(x["eventName"], x["s3"]["object"]["key"], x["s3"]["configurationId"])
                          for x in got],
                         [("ObjectCreated:Put", "in/a+b%3Dc.txt", "created"),
                          ("ObjectCreated:Copy", "in/copy.txt", "created"),
                          ("ObjectCreated:CompleteMultipartUpload", "in/mp.txt", "created"),
                          ("ObjectCreated:Post", "in/post.txt", "created"),
                          ("ObjectRemoved:Delete", "in/copy.txt", "removed")])
        self.assertEqual(got[2]["s3"]["object"]["size"], 10)
        self.assertEqual(got[3]["s3"]["object"]["size"], 6)
        self.assertNotIn("size", got[4]["s3"]["object"])
        time.sleep(1.5)  # nothing else arrives for the keys the filters leave out
        self.assertEqual(len(self.delivered(b)), 5)

    def test_versioned_deletes(self):
        b = "s3n-versions"
        self.bucket(b, versioned=True)
        self.configure(b, self.conf("all", ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]))
        put = self.s3.put_object(Bucket=b, Key="k", Body=b"v1")
        marker = self.s3.delete_object(Bucket=b, Key="k")
        self.s3.delete_objects(Bucket=b, Delete={"Objects": [
            {"Key": "k", "VersionId": put["VersionId"]}]})
        got = self.wait_delivered(b, 3)
        self.assertEqual([(x["eventName"], x["s3"]["object"].get("versionId")) for x in got],
                         [("ObjectCreated:Put", put["VersionId"]),
                          ("ObjectRemoved:DeleteMarkerCreated", marker["VersionId"]),
                          ("ObjectRemoved:Delete", put["VersionId"])])


class NotifyRestartTest(NotifyBase):
    def test_pending_after_kill(self):
        b = "s3n-kill"
        self.put_selected(b, ["s3:ObjectCreated:*"], "sleepfirst.txt")
        # the first invocation holds the event (its function sleeps): kill -9 the region then
        self.wait_until(lambda: self.tries("sleepfirst.txt") == 1)
        # a function still running holds up no other delivery
        self.s3.put_object(Bucket=b, Key="quick.txt", Body=b"q")
        got = self.wait_delivered(b, 1)
        self.assertEqual([r["s3"]["object"]["key"] for r in got], ["quick.txt"])
        self.server.kill()
        self.server.start()
        type(self).clients()
        got = self.wait_delivered(b, 2)
        self.assertEqual([(r["eventName"], r["s3"]["object"]["key"]) for r in got],
                         [("ObjectCreated:Put", "sleepfirst.txt"),
                          ("ObjectCreated:Put", "quick.txt")])
        self.assertEqual(self.tries("sleepfirst.txt"), 2)

    def test_pending_after_stop(self):
        """a region stopped (SIGTERM) while a function runs: answered and delivered again"""
        b = "s3n-stop"
        self.put_selected(b, ["s3:ObjectCreated:*"], "sleepfirst-stop.txt")
        self.wait_until(lambda: self.tries("sleepfirst-stop.txt") == 1)
        began = time.monotonic()
        self.server.stop()  # exits 0, no sanitizer report, without waiting for the function
        self.assertLess(time.monotonic() - began, 60)
        self.server.start()
        type(self).clients()
        got = self.wait_delivered(b, 1)
        self.assertEqual(got[0]["s3"]["object"]["key"], "sleepfirst-stop.txt")


class NotifyLifecycleTest(NotifyBase):
    """expirations by lifecycle rules are LifecycleExpiration events, which
    s3:ObjectRemoved:* does not select (a day lasts a second here)"""

    @classmethod
    def setUpClass(cls):
        old = {k: os.environ.get(k) for k in ("TANDEM_S3_SWEEP_SECONDS", "TANDEM_S3_DAY_SECONDS")}
        os.environ.update(TANDEM_S3_SWEEP_SECONDS="0.3", TANDEM_S3_DAY_SECONDS="1")
        try:
            super().setUpClass()
        finally:
            for k, v in old.items():
                os.environ.pop(k, None)
                if v is not None:
                    os.environ[k] = v

    def test_expirations(self):
        for b, versioned in (("s3n-lc", False), ("s3n-lc-versions", True)):
            self.bucket(b, versioned=versioned)
            self.configure(b, self.conf("lc", ["s3:LifecycleExpiration:*"], prefix="tmp/"),
                           self.conf("rm", ["s3:ObjectRemoved:*"]))
            self.s3.put_object(Bucket=b, Key="tmp/a", Body=b"x")
            self.s3.put_bucket_lifecycle_configuration(
                Bucket=b, LifecycleConfiguration={"Rules": [{
                    "ID": "tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
                    "Expiration": {"Days": 1}}]})
        got = self.wait_delivered("s3n-lc", 1) + self.wait_delivered("s3n-lc-versions", 1)
        self.assertEqual([(r["eventName"], r["s3"]["configurationId"]) for r in got],
                         [("LifecycleExpiration:Delete", "lc"),
                          ("LifecycleExpiration:DeleteMarkerCreated", "lc")])
        time.sleep(1)  # and nothing for the ObjectRemoved:* configuration
        self.assertEqual(len(self.delivered("s3n-lc") + self.delivered("s3n-lc-versions")), 2)


if __name__ == "__main__":
    unittest.main()
