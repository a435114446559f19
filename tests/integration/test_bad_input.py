"""Hostile and broken requests over raw HTTP: each gets an AWS-shaped 4xx
JSON error (or, when the client is gone, nothing), and the server keeps
serving afterwards."""

import gzip
import http.client
import json
import os
import re
import resource
import socket
import time
import unittest

from tandem_harness import DDB_CONTENT_TYPE, ServerTestCase, error_type, sigv4_sign


class BadInput(ServerTestCase):
    server_args = {"tls": True}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ddb = cls.server.boto3()
        ddb.create_table(TableName="bad-input", BillingMode="PAY_PER_REQUEST",
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
        ddb.get_waiter("table_exists").wait(TableName="bad-input",
                                            WaiterConfig={"Delay": 1, "MaxAttempts": 30})

    def tearDown(self):
        # after every case the server still answers, over HTTP and HTTPS
        for tls in (False, True):
            self.assertEqual(self.server.health(tls=tls)[0], 200)
        status, _, body = self.server.raw("GetItem", json.dumps(
            {"TableName": "bad-input", "Key": {"pk": {"S": "x"}}}))
        self.assertEqual(status, 200, body)

    def assertAwsShaped(self, status, headers, body, codes=None, statuses=range(400, 500)):
        self.assertIn(status, statuses, body[:300])
        doc = json.loads(body)
        self.assertIn("__type", doc)
        self.assertTrue("message" in doc or "Message" in doc, doc)
        self.assertIn("x-amzn-requestid", headers)
        if codes:
            self.assertIn(error_type(body), codes, body)

    def signed_headers(self, body, target="DynamoDB_20120810.PutItem",
                       content_type=DDB_CONTENT_TYPE, length=None):
        h = {"Host": "127.0.0.1:%d" % self.server.port, "X-Amz-Target": target}
        if content_type:
            h["Content-Type"] = content_type
        h = sigv4_sign("POST", "/", h, body, self.server.access_key, self.server.secret_key,
                       self.server.region, "dynamodb")
        h["Content-Length"] = str(len(body) if length is None else length)
        return h

    def raw_socket(self, head, body_chunks, shut=False, timeout=30):
        """Send @head then each chunk; return the raw response bytes (b"" if none)."""
        s = socket.create_connection(("127.0.0.1", self.server.port), timeout=timeout)
        try:
            s.sendall(head)
            try:
                for c in body_chunks:
                    s.sendall(c)
            except (BrokenPipeError, ConnectionResetError):
                pass
            if shut:
                s.shutdown(socket.SHUT_WR)
            out = b""
            try:
                while True:
                    d = s.recv(65536)
                    if not d:
                        break
                    out += d
            except (ConnectionResetError, socket.timeout):
                pass
            return out
        finally:
            s.close()

    def head(self, headers):
        return ("POST / HTTP/1.1\r\n" + "".join("%s: %s\r\n" % kv for kv in headers.items())
                + "\r\n").encode()

    # -- the cases --------------------------------------------------------------

    def test_malformed_json(self):
        for body in (b"{", b"not json", b'{"TableName": "bad-input", "Item": ', b"[1, 2]",
                     b'{"TableName": 5, "Item": {}}', b'{"TableName": "bad-input", "Item": 7}',
                     b'{"TableName": "bad-input", "Item": {"pk": {"S": 1}}}',
                     b"\xff\xfe\x00garbage", b""):
            with self.subTest(body=body):
                status, headers, out = self.server.raw("PutItem", body)
                self.assertAwsShaped(status, headers, out,
                                     ("SerializationException", "ValidationException"))

    def test_attribute_value_not_a_string(self):
        # S, N and B carry their value as JSON text; a JSON number or boolean
        # there is unreadable (SerializationException), wherever the value sits,
        # and nothing is written
        cases = [
            ("PutItem", {"TableName": "bad-input", "Item": {"pk": {"S": "num"}, "n": {"N": 123}}},
             "NUMBER_VALUE can not be converted to String"),
            ("PutItem", {"TableName": "bad-input", "Item": {"pk": {"S": True}}},
             "VALUE_TRUE can not be converted to String"),
            ("GetItem", {"TableName": "bad-input", "Key": {"pk": {"B": False}}},
             "VALUE_FALSE can not be converted to String"),
            ("UpdateItem", {"TableName": "bad-input", "Key": {"pk": {"S": "num"}},
                            "UpdateExpression": "SET a = :v",
                            "ExpressionAttributeValues": {":v": {"N": 7}}},
             "NUMBER_VALUE can not be converted to String"),
            ("UpdateItem", {"TableName": "bad-input", "Key": {"pk": {"S": "num"}},
                            "UpdateExpression": "SET a = :ok", "ConditionExpression": "a < :bad",
                            "ExpressionAttributeValues": {":ok": {"N": "1"}, ":bad": {"N": 7}}},
             "NUMBER_VALUE can not be converted to String"),
        ]
        for op, body, msg in cases:
            with self.subTest(op=op, body=body):
                status, headers, out = self.server.raw(op, json.dumps(body))
                self.assertAwsShaped(status, headers, out, ("SerializationException",))
                self.assertEqual(json.loads(out).get("message", json.loads(out).get("Message")), msg)
        # an attribute name is at most 65535 bytes
        status, headers, out = self.server.raw("PutItem", json.dumps(
            {"TableName": "bad-input", "Item": {"pk": {"S": "num"}, "n" * 65536: {"S": "v"}}}))
        self.assertAwsShaped(status, headers, out, ("ValidationException",))
        self.assertIn("Attribute name is too large", json.loads(out)["message"])
        # a list where text belongs stays a bad value of the type
        status, headers, out = self.server.raw("PutItem", json.dumps(
            {"TableName": "bad-input", "Item": {"pk": {"S": ["num"]}}}))
        self.assertAwsShaped(status, headers, out, ("ValidationException",))
        status, _, out = self.server.raw("GetItem", json.dumps(
            {"TableName": "bad-input", "Key": {"pk": {"S": "num"}}, "ConsistentRead": True}))
        self.assertEqual((status, json.loads(out)), (200, {}))

    def test_truncated_json_with_matching_length(self):
        full = json.dumps({"TableName": "bad-input", "Item": {"pk": {"S": "t"}}}).encode()
        status, headers, out = self.server.raw("PutItem", full[: len(full) // 2])
        self.assertAwsShaped(status, headers, out, ("SerializationException",))

    def test_connection_closed_mid_body(self):
        body = json.dumps({"TableName": "bad-input", "Item": {"pk": {"S": "mid"}}}).encode()
        h = self.signed_headers(body, length=len(body) + 1000)
        out = self.raw_socket(self.head(h), [body], shut=True, timeout=15)
        if out:  # a server may answer before closing; then it is a 4xx
            self.assertRegex(out.split(b"\r\n", 1)[0], rb"^HTTP/1\.[01] 4\d\d ")
        # and the item was not written
        status, _, got = self.server.raw("GetItem", json.dumps(
            {"TableName": "bad-input", "Key": {"pk": {"S": "mid"}}}))
        self.assertNotIn("Item", json.loads(got))

    def test_oversized_body(self):
        size = 17 * 1024 * 1024
        h = self.signed_headers(b"", length=size)
        chunk = b"x" * (1024 * 1024)
        out = self.raw_socket(self.head(h), [chunk] * 17, timeout=60)
        self.assertTrue(out, "no response to a 17 MiB body")
        head, _, body = out.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        headers = dict(l.decode().split(": ", 1) for l in head.split(b"\r\n")[1:])
        headers = {k.lower(): v for k, v in headers.items()}
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = _unchunk(body)
        self.assertAwsShaped(status, headers, body, statuses=(400, 413))

    def test_just_over_limit_via_http_client(self):
        body = b'{"TableName": "bad-input", "Item": {"pk": {"S": "' + b"y" * (16 * 1024 * 1024) \
            + b'"}}}'
        try:
            status, headers, out = self.server.raw("PutItem", body, timeout=60)
        except (BrokenPipeError, ConnectionResetError):
            return  # the server answered early and closed; tearDown checks it still serves
        self.assertAwsShaped(status, headers, out, statuses=(400, 413))

    def test_wrong_content_type(self):
        body = json.dumps({"TableName": "bad-input"}).encode()
        for ct in ("text/plain", "application/xml", None):
            with self.subTest(content_type=ct):
                status, headers, out = self.server.raw("DescribeTable", body, content_type=ct)
                self.assertAwsShaped(status, headers, out)
        # the service also takes plain application/json (some SDKs send it)
        status, _, out = self.server.raw("DescribeTable", body, content_type="application/json")
        self.assertEqual(status, 200, out)

    def test_unknown_target(self):
        for target in ("DynamoDB_20120810.FooBar", "DynamoDB_20120810.", "Nope.PutItem"):
            with self.subTest(target=target):
                status, headers, out = self.server.raw(body=b"{}", target=target)
                self.assertAwsShaped(status, headers, out, ("UnknownOperationException",))

    def test_body_not_utf8(self):
        # JSON is UTF-8: a body with other bytes is a SerializationException and
        # stores nothing, wherever the bytes sit (a value, a key, a name)
        cases = {
            "latin1": b'"note": {"S": "caf\xe9"}',
            "overlong-nul": b'"note": {"S": "a\xc0\x80b"}',
            "surrogate": b'"note": {"S": "\xed\xa0\x80"}',
            "cut-short": b'"note": {"S": "\xe2\x82"}',
            "in-a-name": b'"n\xffte": {"S": "x"}',
        }
        for label, attr in cases.items():
            with self.subTest(label):
                pk = "utf8-" + label
                body = b'{"TableName": "bad-input", "Item": {"pk": {"S": "' + pk.encode() + \
                    b'"}, ' + attr + b'}}'
                status, headers, out = self.server.raw("PutItem", body)
                self.assertAwsShaped(status, headers, out, ("SerializationException",))
                self.assertIn("UTF-8", json.loads(out)["message"])
                _, _, got = self.server.raw("GetItem", json.dumps(
                    {"TableName": "bad-input", "Key": {"pk": {"S": pk}}, "ConsistentRead": True}))
                self.assertNotIn("Item", json.loads(got))
        # well-formed multi-byte text goes through unchanged
        text = "caf\u00e9 \u20ac \U0001f600"
        status, _, out = self.server.raw("PutItem", json.dumps(
            {"TableName": "bad-input", "Item": {"pk": {"S": "utf8-ok"}, "note": {"S": text}}},
            ensure_ascii=False).encode())
        self.assertEqual(status, 200, out)
        _, _, got = self.server.raw("GetItem", json.dumps(
            {"TableName": "bad-input", "Key": {"pk": {"S": "utf8-ok"}}, "ConsistentRead": True}))
        self.assertEqual(json.loads(got)["Item"]["note"]["S"], text)

    def test_bad_compressed_bodies(self):
        # DynamoDB answers a body it cannot decode with 500 InternalServerError
        # (the SDKs retry it) and writes nothing
        def put(pk):
            return json.dumps({"TableName": "bad-input", "Item": {"pk": {"S": pk}}}).encode()

        cases = [
            ("brotli", put("enc-unknown"), "enc-unknown"),
            ("gzip", put("enc-plain"), "enc-plain"),  # says gzip, is not
            ("gzip", gzip.compress(put("enc-cut"))[:-3], "enc-cut"),
            ("gzip", gzip.compress(put("enc-tail")) + b"trailing", "enc-tail"),
            ("gzip", b"", None),
        ]
        for enc, body, pk in cases:
            with self.subTest(encoding=enc, pk=pk, size=len(body)):
                status, headers, out = self.server.raw("PutItem", body,
                                                       headers={"Content-Encoding": enc})
                self.assertAwsShaped(status, headers, out, ("InternalServerError",),
                                     statuses=(500,))
                if pk:
                    _, _, got = self.server.raw("GetItem", json.dumps(
                        {"TableName": "bad-input", "Key": {"pk": {"S": pk}},
                         "ConsistentRead": True}))
                    self.assertNotIn("Item", json.loads(got))
        # a small body that inflates past the 16 MiB request limit
        big = b'{"TableName": "bad-input", "Item": {"pk": {"S": "enc-bomb"}}' + \
            b" " * (17 * 1024 * 1024) + b"}"
        status, headers, out = self.server.raw("PutItem", gzip.compress(big),
                                               headers={"Content-Encoding": "gzip"})
        self.assertAwsShaped(status, headers, out, ("RequestEntityTooLargeException",),
                             statuses=(413,))

    def test_missing_target(self):
        status, headers, out = self.server.raw(body=b"{}", target=None)
        self.assertAwsShaped(status, headers, out)

    def test_bad_signatures(self):
        body = b'{"TableName": "bad-input"}'
        base = self.signed_headers(body, target="DynamoDB_20120810.DescribeTable")
        auth = base["Authorization"]
        variants = {
            "flipped signature": auth[:-1] + ("0" if auth[-1] != "0" else "1"),
            "no signature": auth.split(", Signature=")[0],
            "garbage": "AWS4-HMAC-SHA256 garbage",
            "other scheme": "Basic dXNlcjpwYXNz",
            "bad scope": auth.replace("/dynamodb/", "/dynamo/"),
            "empty": "",
        }
        for what, value in variants.items():
            with self.subTest(what):
                h = dict(base, Authorization=value)
                status, headers, out = self.server.raw(body=body, sign=False, headers=h,
                                                       target="DynamoDB_20120810.DescribeTable")
                self.assertAwsShaped(status, headers, out)
        h = dict(base)
        h["X-Amz-Date"] = "20990101T000000Z"
        status, headers, out = self.server.raw(body=body, sign=False, headers=h,
                                               target="DynamoDB_20120810.DescribeTable")
        self.assertAwsShaped(status, headers, out, ("InvalidSignatureException",))

    def test_wrong_method_and_path(self):
        for method, path in (("PUT", "/"), ("DELETE", "/"), ("POST", "/nope")):
            with self.subTest(method=method, path=path):
                conn = self.server.connection()
                try:
                    conn.request(method, path, body=b"{}",
                                 headers={"X-Amz-Target": "DynamoDB_20120810.ListTables",
                                          "Content-Type": DDB_CONTENT_TYPE})
                    r = conn.getresponse()
                    r.read()
                    self.assertGreaterEqual(r.status, 400)
                    self.assertLess(r.status, 500)
                finally:
                    conn.close()

    def test_large_header_section(self):
        """16 KiB of headers are read (the connection's memory pool holds them,
        on a kept-alive connection too); a far larger section is refused."""
        body = json.dumps({"TableName": "bad-input", "Key": {"pk": {"S": "x"}}}).encode()
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        try:
            for pad in (0, 16, 0, 16):
                h = self.signed_headers(body, target="DynamoDB_20120810.GetItem")
                h.update({"X-Pad-%d" % i: "p" * 1000 for i in range(pad)})
                conn.request("POST", "/", body=body, headers=h)
                r = conn.getresponse()
                self.assertEqual(r.status, 200, (pad, r.read()[:300]))
                r.read()
        finally:
            conn.close()
        h = self.signed_headers(body, target="DynamoDB_20120810.GetItem")
        h.update({"X-Pad-%d" % i: "p" * 1000 for i in range(64)})
        out = self.raw_socket(self.head(h), [body])
        if out:
            self.assertRegex(out.split(b"\r\n", 1)[0], rb"^HTTP/1\.[01] 4\d\d ")

    def test_many_bad_requests_in_a_row(self):
        deadline = time.monotonic() + 30
        for i in range(200):
            status, _, out = self.server.raw("PutItem", b"{" * (i % 50 + 1))
            self.assertEqual(status, 400, out)
            if time.monotonic() > deadline:
                break


class OutOfDescriptors(ServerTestCase):
    """A region that runs out of file descriptors says so once, keeps the
    connections it has, and takes new ones again once some close."""

    def test_descriptor_exhaustion(self):
        pid = self.server.proc.pid
        self.assertEqual(self.server.health()[0], 200)
        in_use = len(os.listdir("/proc/%d/fd" % pid))
        old = resource.prlimit(pid, resource.RLIMIT_NOFILE)
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (in_use + 16, old[1]))
        held = []
        try:
            for _ in range(40):  # more than the 16 descriptors left
                held.append(socket.create_connection(("127.0.0.1", self.server.port), timeout=10))
            deadline = time.monotonic() + 20
            while "http_accept_failed" not in self.server.stderr():
                self.assertLess(time.monotonic(), deadline, self.server.stderr()[-2000:])
                time.sleep(0.05)
            time.sleep(1.0)  # ten retries later: one warning per time it ran out
            events = re.findall(r"event=http_accept_(failed|resumed)", self.server.stderr())
            self.assertEqual(events[::2], ["failed"] * len(events[::2]), events)
            self.assertEqual(events[1::2], ["resumed"] * len(events[1::2]), events)
            self.assertLessEqual(events.count("failed"), 4, events)
            # a connection it took still answers
            held[0].sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertIn(b"200", held[0].recv(4096).split(b"\r\n")[0])
        finally:
            for c in held:
                c.close()
            resource.prlimit(pid, resource.RLIMIT_NOFILE, old)
        deadline = time.monotonic() + 20
        while True:
            try:
                if self.server.health()[0] == 200:
                    break
            except OSError:
                pass
            self.assertLess(time.monotonic(), deadline, self.server.stderr()[-2000:])
            time.sleep(0.1)
        self.assertIsNone(self.server.proc.poll())
        deadline = time.monotonic() + 10
        while "event=http_accept_resumed" not in self.server.stderr():
            self.assertLess(time.monotonic(), deadline, self.server.stderr()[-2000:])
            time.sleep(0.05)


def _unchunk(data):
    out = b""
    while data:
        size, _, rest = data.partition(b"\r\n")
        n = int(size.split(b";")[0], 16)
        if n == 0:
            break
        out += rest[:n]
        data = rest[n + 2:]
    return out


if __name__ == "__main__":
    unittest.main()
