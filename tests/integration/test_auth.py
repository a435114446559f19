"""Authentication: SigV4 as the service checks it, the error codes clients
see, the health check, and extra users from a --credentials file."""

import datetime
import hashlib
import json
import os
import re
import tempfile
import unittest

from tandem_harness import Server, ServerTestCase, error_type, fresh_credentials

LIST = json.dumps({})


class Auth(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        cls.alice = fresh_credentials()
        cls.bob = fresh_credentials()
        fd, cls.creds_path = tempfile.mkstemp(prefix="tandem-creds-", suffix=".json")
        with os.fdopen(fd, "w") as f:
            json.dump({"credentials": [
                {"accessKeyId": cls.alice[0], "secretAccessKey": cls.alice[1],
                 "account": "123456789012", "user": "alice", "root": False},
                {"accessKeyId": cls.bob[0], "secretAccessKey": cls.bob[1],
                 "account": "210987654321", "user": "bob", "root": True},
            ]}, f)
        cls.server_args = {"tls": True, "credentials_file": cls.creds_path}
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            os.unlink(cls.creds_path)

    def code(self, **raw):
        status, _, body = self.server.raw("ListTables", LIST, **raw)
        return status, body

    def test_signed_request_works(self):
        status, headers, body = self.server.raw("ListTables", LIST)
        self.assertEqual(status, 200, body)
        self.assertIn("TableNames", json.loads(body))
        self.assertIn("x-amz-crc32", headers)

    def test_wrong_secret(self):
        status, body = self.code(secret_key=fresh_credentials()[1])
        self.assertAwsError(status, body, "InvalidSignatureException")
        ddb = self.server.boto3(secret_key="wrong" + self.server.secret_key[5:])
        with self.assertRaises(ddb.exceptions.ClientError) as cm:
            ddb.list_tables()
        self.assertEqual(cm.exception.response["Error"]["Code"], "InvalidSignatureException")

    def test_errors_in_each_services_shape(self):
        """A bad signature is answered in the shape of the service asked, so
        each SDK parses the code: XML for IAM and STS, REST JSON for Lambda."""
        cases = [
            ("iam", lambda c: c.list_users(), "SignatureDoesNotMatch", "InvalidClientTokenId"),
            ("sts", lambda c: c.get_caller_identity(), "SignatureDoesNotMatch",
             "InvalidClientTokenId"),
            ("lambda", lambda c: c.list_functions(), "InvalidSignatureException",
             "UnrecognizedClientException"),
            ("dynamodb", lambda c: c.list_tables(), "InvalidSignatureException",
             "UnrecognizedClientException"),
        ]
        for service, call, bad_sig, bad_key in cases:
            with self.subTest(service=service):
                c = self.server.boto3(service, secret_key="wrong" + self.server.secret_key[5:])
                with self.assertRaises(c.exceptions.ClientError) as cm:
                    call(c)
                self.assertEqual(cm.exception.response["Error"]["Code"], bad_sig)
                c = self.server.boto3(service, access_key="AKIAUNKNOWNUNKNOWN00")
                with self.assertRaises(c.exceptions.ClientError) as cm:
                    call(c)
                self.assertEqual(cm.exception.response["Error"]["Code"], bad_key)

    def test_unknown_key(self):
        status, body = self.code(access_key=fresh_credentials()[0])
        self.assertAwsError(status, body, "UnrecognizedClientException")
        ddb = self.server.boto3(access_key="AKIAUNKNOWNUNKNOWN00")
        with self.assertRaises(ddb.exceptions.ClientError) as cm:
            ddb.list_tables()
        self.assertEqual(cm.exception.response["Error"]["Code"], "UnrecognizedClientException")

    def test_skewed_clock(self):
        now = datetime.datetime.now(datetime.timezone.utc)
        for minutes in (-20, 20, -60 * 24):
            with self.subTest(minutes=minutes):
                status, body = self.code(when=now + datetime.timedelta(minutes=minutes))
                self.assertAwsError(status, body, "InvalidSignatureException")
        for minutes in (-3, 3):  # within the service's 5 minute window
            with self.subTest(minutes=minutes):
                status, body = self.code(when=now + datetime.timedelta(minutes=minutes))
                self.assertEqual(status, 200, body)

    def test_stale_or_future_before_key_and_scope(self):
        """A request dated far from now is refused for its time, whatever key
        and scope it names, and the Authorization parts may be separated by
        spaces alone."""
        for date, words in (("20190315T080910Z", "Signature expired"),
                            ("29991231T235959Z", "Signature not yet current")):
            with self.subTest(date=date):
                status, _, body = self.server.raw(
                    "ListTables", LIST, sign=False,
                    headers={"X-Amz-Date": date,
                             "Authorization": "AWS4-HMAC-SHA256 Credential=nokey/1/a/b/"
                                              "aws4_request SignedHeaders=host;x-amz-date "
                                              "Signature=42"})
                self.assertAwsError(status, body, "InvalidSignatureException")
                self.assertIn(words, json.loads(body)["message"])

    def test_missing_or_garbled_date_is_incomplete(self):
        from tandem_harness import sigv4_sign
        h = sigv4_sign("POST", "/", {"Host": "127.0.0.1:%d" % self.server.port,
                                     "Content-Type": "application/x-amz-json-1.0",
                                     "X-Amz-Target": "DynamoDB_20120810.ListTables"},
                       b"{}", self.server.access_key, self.server.secret_key,
                       self.server.region, "dynamodb")
        del h["X-Amz-Date"]
        status, _, body = self.server.raw(body=b"{}", sign=False, headers=h,
                                          target="DynamoDB_20120810.ListTables")
        self.assertAwsError(status, body, "IncompleteSignatureException")
        self.assertTrue(json.loads(body)["message"].startswith(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' "
            "header. Authorization=AWS4-HMAC-SHA256 Credential="), body)
        h["X-Amz-Date"] = "2026-01-02T03:04:05Z"
        status, _, body = self.server.raw(body=b"{}", sign=False, headers=h,
                                          target="DynamoDB_20120810.ListTables")
        self.assertAwsError(status, body, "IncompleteSignatureException")
        self.assertIn("Date must be in ISO-8601 'basic format'", json.loads(body)["message"])

    def test_authorization_schemes(self):
        """An Authorization of another scheme than AWS4- counts as none; another
        AWS4 algorithm is named once the date is found current."""
        from tandem_harness import sigv4_sign
        h = sigv4_sign("POST", "/", {"Host": "127.0.0.1:%d" % self.server.port,
                                     "Content-Type": "application/x-amz-json-1.0",
                                     "X-Amz-Target": "DynamoDB_20120810.ListTables"},
                       b"{}", self.server.access_key, self.server.secret_key,
                       self.server.region, "dynamodb")
        for auth in ("Basic dXNlcjpwYXNz", "Bearer abc", "AWS " + self.server.access_key + ":x"):
            h["Authorization"] = auth
            status, _, body = self.server.raw(body=b"{}", sign=False, headers=h,
                                              target="DynamoDB_20120810.ListTables")
            self.assertAwsError(status, body, "MissingAuthenticationTokenException")
        signed = sigv4_sign("POST", "/", {"Host": "127.0.0.1:%d" % self.server.port,
                                          "Content-Type": "application/x-amz-json-1.0",
                                          "X-Amz-Target": "DynamoDB_20120810.ListTables"},
                            b"{}", self.server.access_key, self.server.secret_key,
                            self.server.region, "dynamodb")
        h["Authorization"] = signed["Authorization"].replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512")
        status, _, body = self.server.raw(body=b"{}", sign=False, headers=h,
                                          target="DynamoDB_20120810.ListTables")
        self.assertAwsError(status, body, "IncompleteSignatureException")
        self.assertEqual(json.loads(body)["message"], "Unsupported AWS 'algorithm': "
                         "'AWS4-HMAC-SHA512' (only AWS4-HMAC-SHA256 for now). ")

    def test_authorization_parts_without_spaces(self):
        from tandem_harness import sigv4_sign
        h = sigv4_sign("POST", "/", {"Host": "127.0.0.1:%d" % self.server.port,
                                     "Content-Type": "application/x-amz-json-1.0",
                                     "X-Amz-Target": "DynamoDB_20120810.ListTables"},
                       b"{}", self.server.access_key, self.server.secret_key,
                       self.server.region, "dynamodb")
        alg, rest = h["Authorization"].split(" ", 1)
        for auth in (alg + " " + rest.replace(" ", ""), alg + " " + rest.replace(",", "")):
            with self.subTest(auth=auth[:60]):
                h["Authorization"] = auth
                status, _, body = self.server.raw(body=b"{}", sign=False, headers=h,
                                                  target="DynamoDB_20120810.ListTables")
                self.assertEqual(status, 200, body)

    def test_unsigned(self):
        status, body = self.code(sign=False)
        self.assertAwsError(status, body, "MissingAuthenticationTokenException")

    def test_signature_over_other_body(self):
        from tandem_harness import sigv4_sign
        h = sigv4_sign("POST", "/", {"Host": "127.0.0.1:%d" % self.server.port,
                                     "Content-Type": "application/x-amz-json-1.0",
                                     "X-Amz-Target": "DynamoDB_20120810.ListTables"},
                       b"{}", self.server.access_key, self.server.secret_key,
                       self.server.region, "dynamodb")
        status, _, body = self.server.raw(body=b'{"Limit": 1}', sign=False, headers=h,
                                          target="DynamoDB_20120810.ListTables")
        self.assertAwsError(status, body, "InvalidSignatureException")

    def test_wrong_region_in_scope(self):
        from tandem_harness import sigv4_sign
        h = sigv4_sign("POST", "/", {"Host": "127.0.0.1:%d" % self.server.port,
                                     "Content-Type": "application/x-amz-json-1.0",
                                     "X-Amz-Target": "DynamoDB_20120810.ListTables"},
                       b"{}", self.server.access_key, self.server.secret_key,
                       "eu-west-9", "dynamodb")
        status, _, body = self.server.raw(body=b"{}", sign=False, headers=h,
                                          target="DynamoDB_20120810.ListTables")
        self.assertEqual(status, 400, body)
        self.assertIn(error_type(body), ("InvalidSignatureException",
                                         "UnrecognizedClientException"))

    def test_scope_checked_before_key_and_signature(self):
        """The scope's region and service are refused before the key and the
        signature are looked at, both named when both are wrong."""
        from tandem_harness import sigv4_sign
        cases = [
            ("nokey", self.server.secret_key, "eu-west-9", "dynamodb",
             "Credential should be scoped to a valid region, not 'eu-west-9'. "),
            (self.server.access_key, "wrong", "eu-west-9", "dynamodb",
             "Credential should be scoped to a valid region, not 'eu-west-9'. "),
            ("nokey", "x", "eu-west-9", "s3",
             "Credential should be scoped to a valid region, not 'eu-west-9'. "
             "Credential should be scoped to correct service: 'dynamodb'. "),
            (self.server.access_key, self.server.secret_key, self.server.region, "sqs",
             "Credential should be scoped to correct service: 'dynamodb'. "),
        ]
        for key, secret, region, service, want in cases:
            with self.subTest(key=key, region=region, service=service):
                h = sigv4_sign("POST", "/", {"Host": "127.0.0.1:%d" % self.server.port,
                                             "Content-Type": "application/x-amz-json-1.0",
                                             "X-Amz-Target": "DynamoDB_20120810.ListTables"},
                               b"{}", key, secret, region, service)
                status, _, body = self.server.raw(body=b"{}", sign=False, headers=h,
                                                  target="DynamoDB_20120810.ListTables")
                self.assertAwsError(status, body, "InvalidSignatureException")
                self.assertEqual(json.loads(body)["message"], want)

    # -- per-service answers: host unsigned, and the scope's day vs the key ----

    def curl(self, method, path, headers, body=b""):
        """(status, body text) of a request sent by curl with exactly @headers."""
        import subprocess
        cmd = ["curl", "-sS", "-o", "-", "-w", "\n%{http_code}", "-X", method,
               "-H", "Expect:", "-H", "Accept:", "-H", "User-Agent:"]
        for k, v in headers.items():
            if k.lower() != "host":
                cmd += ["-H", "%s: %s" % (k, v)]
        if body:
            cmd += ["--data-binary", "@-"]
        out = subprocess.run(cmd + [self.server.url() + path], input=body, capture_output=True,
                             timeout=30, check=True).stdout.decode()
        text, _, status = out.rpartition("\n")
        return int(status), text

    def signed(self, method, path, headers, body, service, host=True, key=None, day=None):
        """Headers signed for @service; "host" left out of SignedHeaders unless
        @host; the scope's day replaced by @day (the signature then stale)."""
        from tandem_harness import sigv4_sign
        h = dict(headers)
        if host:
            h["Host"] = "127.0.0.1:%d" % self.server.port
        h = sigv4_sign(method, path, h, body, key or self.server.access_key,
                       self.server.secret_key, self.server.region, service)
        if day:
            today = h["X-Amz-Date"][:8]
            h["Authorization"] = h["Authorization"].replace("/%s/" % today, "/%s/" % day)
        return h

    def query_error(self, text):
        import xml.etree.ElementTree as ET
        doc = ET.fromstring(text)
        ns = doc.tag[:doc.tag.index("}") + 1] if doc.tag.startswith("{") else ""
        err = doc.find("%sError" % ns)
        return err.findtext("%sCode" % ns), err.findtext("%sMessage" % ns)

    FORM = "application/x-www-form-urlencoded; charset=utf-8"
    HOST_MSG = "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."

    def test_host_not_signed_per_service(self):
        """A signature that leaves "host" out is refused in each service's
        words: DynamoDB InvalidSignatureException (400), IAM and STS
        SignatureDoesNotMatch (403), S3 403 without creating anything."""
        ddb = {"Content-Type": "application/x-amz-json-1.0",
               "X-Amz-Target": "DynamoDB_20120810.CreateTable"}
        body = json.dumps({"TableName": "unsigned-host", "BillingMode": "PAY_PER_REQUEST",
                           "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}],
                           "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}]}).encode()
        status, text = self.curl("POST", "/", self.signed("POST", "/", ddb, body, "dynamodb",
                                                          host=False), body)
        self.assertAwsError(status, text, "InvalidSignatureException")
        self.assertEqual(json.loads(text)["message"], self.HOST_MSG)
        self.assertNotIn("unsigned-host", self.server.boto3().list_tables()["TableNames"])
        # the same request with host signed is fine
        status, text = self.curl("POST", "/", self.signed("POST", "/", ddb, body, "dynamodb"), body)
        self.assertEqual(status, 200, text)
        self.server.boto3().delete_table(TableName="unsigned-host")

        for service, form in (("sts", b"Action=GetCallerIdentity&Version=2011-06-15"),
                              ("iam", b"Action=CreateUser&UserName=unsigned-host&"
                                      b"Version=2010-05-08")):
            with self.subTest(service=service):
                h = self.signed("POST", "/", {"Content-Type": self.FORM}, form, service,
                                host=False)
                status, text = self.curl("POST", "/", h, form)
                self.assertEqual(status, 403, text)
                self.assertEqual(self.query_error(text), ("SignatureDoesNotMatch", self.HOST_MSG))
        iam = self.server.boto3("iam")
        with self.assertRaises(iam.exceptions.NoSuchEntityException):
            iam.get_user(UserName="unsigned-host")

        empty = hashlib.sha256(b"").hexdigest()
        h = self.signed("PUT", "/unsigned-host-bucket", {"X-Amz-Content-Sha256": empty}, b"",
                        "s3", host=False)
        status, text = self.curl("PUT", "/unsigned-host-bucket", h)
        self.assertEqual(status, 403, text)
        self.assertIn("<Code>AccessDenied</Code>", text)
        self.assertIn("There were headers present in the request which were not signed", text)
        self.assertIn("<HeadersNotSigned>host</HeadersNotSigned>", text)
        s3 = self.server.boto3("s3")
        with self.assertRaises(s3.exceptions.ClientError) as cm:
            s3.head_bucket(Bucket="unsigned-host-bucket")
        self.assertEqual(cm.exception.response["Error"]["Code"], "404")

    def test_scope_day_and_key_order_per_service(self):
        """A scope of another day than X-Amz-Date: DynamoDB, IAM and STS refuse
        the scope before they look the key up (so an unknown key hears about
        the date); S3 looks the key up first, so an unknown key is
        InvalidAccessKeyId (the S3 test suites' expectation) and a known one
        gets AuthorizationHeaderMalformed."""
        day_msg = ("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
                   "date from HTTP: '20150930' != '%s', from '%s'.")
        ddb = {"Content-Type": "application/x-amz-json-1.0",
               "X-Amz-Target": "DynamoDB_20120810.ListTables"}
        for key in ("AKIAIGR7ZNNBHC5BKSUB", self.server.access_key):
            with self.subTest(service="dynamodb", key=key):
                h = self.signed("POST", "/", ddb, b"{}", "dynamodb", key=key, day="20150930")
                status, text = self.curl("POST", "/", h, b"{}")
                self.assertAwsError(status, text, "InvalidSignatureException")
                amz = h["X-Amz-Date"]
                self.assertEqual(json.loads(text)["message"], day_msg % (amz[:8], amz))
        # every wrong part of the scope named at once, the day last
        from tandem_harness import sigv4_sign
        h = sigv4_sign("POST", "/", dict(ddb, Host="127.0.0.1:%d" % self.server.port), b"{}",
                       "AKIAIGR7ZNNBHC5BKSUB", "x", "eu-west-9", "dynamodb")
        amz = h["X-Amz-Date"]
        h["Authorization"] = h["Authorization"].replace("/%s/" % amz[:8], "/20150930/")
        status, text = self.curl("POST", "/", h, b"{}")
        self.assertAwsError(status, text, "InvalidSignatureException")
        self.assertEqual(json.loads(text)["message"],
                         "Credential should be scoped to a valid region, not 'eu-west-9'. "
                         + day_msg % (amz[:8], amz))

        for service, form in (("sts", b"Action=GetCallerIdentity&Version=2011-06-15"),
                              ("iam", b"Action=ListUsers&Version=2010-05-08")):
            for key in ("AKIAIGR7ZNNBHC5BKSUB", self.server.access_key):
                with self.subTest(service=service, key=key):
                    h = self.signed("POST", "/", {"Content-Type": self.FORM}, form, service,
                                    key=key, day="20150930")
                    status, text = self.curl("POST", "/", h, form)
                    self.assertEqual(status, 403, text)
                    amz = h["X-Amz-Date"]
                    self.assertEqual(self.query_error(text),
                                     ("SignatureDoesNotMatch", day_msg % (amz[:8], amz)))

        # S3 through boto3, the Authorization replaced as the S3 test suites do
        s3 = self.server.boto3("s3")
        s3.create_bucket(Bucket="scope-day")

        def replace_auth(value):
            def hook(request, **_):
                auth = request.headers["Authorization"]
                request.headers["Authorization"] = value(
                    auth.decode() if isinstance(auth, bytes) else auth)
            return hook

        cases = [
            (lambda _: "AWS4-HMAC-SHA256 Credential=AKIAIGR7ZNNBHC5BKSUB/20150930/us-east-1/s3/"
                       "aws4_request,SignedHeaders=host;user-agent,"
                       "Signature=FWeDfwojDSdS2Ztmpfeubhd9isU=",
             403, "InvalidAccessKeyId", None),
            (lambda a: re.sub(r"(Credential=[^/]+)/\d{8}/", r"\1/20150930/", a),
             400, "AuthorizationHeaderMalformed",
             "The authorization header is malformed; Invalid credential date. Date is not the "
             "same as X-Amz-Date."),
        ]
        for value, status, code, msg in cases:
            with self.subTest(service="s3", code=code):
                c = self.server.boto3("s3")
                c.meta.events.register("before-send.s3.PutObject", replace_auth(value))
                with self.assertRaises(c.exceptions.ClientError) as cm:
                    c.put_object(Bucket="scope-day", Key="bar", Body=b"bar")
                err = cm.exception.response
                self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], status)
                self.assertEqual(err["Error"]["Code"], code)
                if msg:
                    self.assertEqual(err["Error"]["Message"], msg)
        self.assertEqual(s3.list_objects_v2(Bucket="scope-day")["KeyCount"], 0)
        s3.delete_bucket(Bucket="scope-day")

    def test_health(self):
        for tls in (False, True):
            with self.subTest(tls=tls):
                status, body = self.server.health(tls=tls)
                self.assertEqual(status, 200)
                self.assertTrue(body.startswith("healthy: "), body)

    def test_plain_http_on_https_port(self):
        """Plain HTTP sent to the HTTPS port gets a plain 400, and the HTTPS
        port still serves TLS 1.2 and 1.3, also to a client that connects and
        only speaks after a pause."""
        import http.client
        import socket
        import ssl
        import time
        conn = http.client.HTTPConnection("127.0.0.1", self.server.tls_port, timeout=10)
        try:
            conn.request("POST", "/", body=b"{}", headers={"X-Amz-Target": "DynamoDB_20120810.ListTables"})
            r = conn.getresponse()
            self.assertEqual(r.status, 400)
            self.assertIn(b"plain HTTP request was sent to HTTPS port", r.read())
        finally:
            conn.close()
        for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            with self.subTest(version=version):
                ctx = ssl.create_default_context()
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
                ctx.minimum_version = ctx.maximum_version = version
                with socket.create_connection(("127.0.0.1", self.server.tls_port), timeout=10) as raw:
                    time.sleep(1.5)  # longer than the server waits for a first byte
                    with ctx.wrap_socket(raw) as tls:
                        self.assertEqual(tls.version(), version.name.replace("v1_", "v1."))
                        tls.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                        self.assertTrue(tls.recv(100).startswith(b"HTTP/1.1 200"))
        status, body = self.server.health(tls=True)
        self.assertEqual(status, 200, body)

    def test_old_tls_refused(self):
        """A client that offers nothing newer than TLS 1.1 is refused at the
        handshake, as AWS's endpoints refuse it; the port keeps serving."""
        import socket
        import ssl
        for version in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1):
            with self.subTest(version=version):
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
                ctx.set_ciphers("DEFAULT@SECLEVEL=0")  # let the client offer the old versions
                ctx.minimum_version = ctx.maximum_version = version
                with socket.create_connection(("127.0.0.1", self.server.tls_port), timeout=10) as raw:
                    with self.assertRaises((ssl.SSLError, ConnectionError)) as cm:
                        ctx.wrap_socket(raw)
                    # the client did offer it: the refusal is the server's
                    self.assertNotIn("NO_CIPHERS_AVAILABLE", str(cm.exception))
                    self.assertNotIn("NO_PROTOCOLS_AVAILABLE", str(cm.exception))
        status, body = self.server.health(tls=True)
        self.assertEqual(status, 200, body)

    def test_https_boto3(self):
        ddb = self.server.boto3(tls=True)
        self.assertIn("TableNames", ddb.list_tables())

    def test_users_from_credentials_file(self):
        ddb = self.server.boto3(access_key=self.alice[0], secret_key=self.alice[1])
        # a non-root identity may do only what IAM policies allow: nothing yet
        with self.assertRaises(ddb.exceptions.ClientError) as cm:
            ddb.list_tables()
        self.assertEqual(cm.exception.response["Error"]["Code"], "AccessDeniedException")
        iam = self.server.boto3("iam")
        iam.create_user(UserName="alice")
        iam.put_user_policy(UserName="alice", PolicyName="ddb", PolicyDocument=json.dumps(
            {"Version": "2012-10-17",
             "Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}]}))
        ddb.create_table(TableName="alice-table", BillingMode="PAY_PER_REQUEST",
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
        ddb.put_item(TableName="alice-table", Item={"pk": {"S": "1"}})
        self.assertEqual(ddb.scan(TableName="alice-table")["Count"], 1)
        desc = ddb.describe_table(TableName="alice-table")["Table"]
        self.assertIn(":123456789012:table/alice-table", desc["TableArn"])
        root = self.server.boto3()
        self.assertIn("alice-table", root.list_tables()["TableNames"])
        bob = self.server.boto3(access_key=self.bob[0], secret_key=self.bob[1])
        self.assertIsInstance(bob.list_tables()["TableNames"], list)
        status, body = self.code(access_key=self.alice[0], secret_key=self.bob[1])
        self.assertAwsError(status, body, "InvalidSignatureException")


class KeysFromEnvironment(unittest.TestCase):
    def test_root_keys_from_env(self):
        srv = Server(keys_in_env=True).start()
        try:
            self.assertIn("TableNames", srv.boto3().list_tables())
            status, _, body = srv.raw("ListTables", LIST, access_key="AKIAOTHEROTHEROTHER0")
            self.assertEqual(error_type(body), "UnrecognizedClientException")
        finally:
            try:
                srv.stop()
            finally:
                srv.cleanup()


if __name__ == "__main__":
    unittest.main()
