"""CORS on the region's own endpoint: a page in a browser calling DynamoDB,
STS or IAM straight from JavaScript needs the answers to carry
Access-Control-Allow-Origin (and its preflights granted), as DynamoDB's
endpoint does for any origin. Buckets keep answering from their own CORS
configuration."""

import json
import subprocess
import unittest

from tandem_harness import Server

CORS = ["access-control-allow-origin", "access-control-allow-credentials",
        "access-control-expose-headers", "access-control-max-age",
        "access-control-allow-methods", "access-control-allow-headers"]
ORIGIN = "https://app.example.com"


class RegionCors(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server(tls=True).start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def call(self, method, path="/", headers=None, body=None, tls=False):
        conn = self.srv.connection(tls=tls, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()

    def test_no_origin_no_cors_headers(self):
        for method in ("OPTIONS", "GET", "POST"):
            _, h, _ = self.call(method)
            for name in CORS:
                self.assertNotIn(name, h, method)
        status, h, _ = self.srv.raw("ListTables", "{}")
        self.assertEqual(status, 200)
        self.assertNotIn("access-control-allow-origin", h)

    def test_any_origin_is_allowed(self):
        for method in ("OPTIONS", "GET", "POST"):
            _, h, _ = self.call(method, headers={"Origin": ORIGIN})
            self.assertEqual(h.get("access-control-allow-origin"), "*", method)
            exposed = h.get("access-control-expose-headers", "").lower().split(",")
            for name in ("x-amzn-requestid", "x-amz-crc32", "x-amzn-errortype"):
                self.assertIn(name, exposed, method)
            # only a preflight says how long it may be cached
            self.assertEqual("access-control-max-age" in h, method == "OPTIONS", method)
        status, h, body = self.call("GET", headers={"Origin": ORIGIN})
        self.assertEqual(status, 200)
        self.assertTrue(body.startswith(b"healthy: "))

    def test_preflight_grants_what_it_asks(self):
        ask = {"Origin": ORIGIN, "Access-Control-Request-Method": "POST",
               "Access-Control-Request-Headers":
                   "authorization,content-type,x-amz-date,x-amz-target,x-amz-user-agent"}
        status, h, body = self.call("OPTIONS", headers=ask)
        self.assertEqual(status, 200)
        self.assertEqual(body, b"")
        self.assertEqual(h["access-control-allow-methods"], "POST")
        self.assertEqual(h["access-control-allow-headers"],
                         ask["Access-Control-Request-Headers"])
        self.assertEqual(int(h["access-control-max-age"]), 172800)
        # a request that is not a preflight does not echo them
        ask.pop("Access-Control-Request-Method")
        _, h, _ = self.call("POST", headers=ask)
        for name in ("access-control-allow-methods", "access-control-allow-headers",
                     "access-control-max-age"):
            self.assertNotIn(name, h)
        # over HTTPS too
        status, h, _ = self.call("OPTIONS", tls=True, headers={
            "Origin": ORIGIN, "Access-Control-Request-Method": "POST"})
        self.assertEqual(status, 200)
        self.assertEqual(h["access-control-allow-origin"], "*")

    def test_signed_calls_carry_cors(self):
        # a DynamoDB call as the SDK for JavaScript makes it from a page
        status, h, body = self.srv.raw("ListTables", "{}", headers={"Origin": ORIGIN})
        self.assertEqual(status, 200, body)
        self.assertIn("TableNames", json.loads(body))
        self.assertEqual(h["access-control-allow-origin"], "*")
        # its errors too, so the script can read what went wrong
        status, h, body = self.srv.raw("DescribeTable", '{"TableName": "nope"}',
                                       headers={"Origin": ORIGIN})
        self.assertEqual(status, 400)
        self.assertEqual(h["access-control-allow-origin"], "*")
        self.assertIn("x-amzn-errortype", h["access-control-expose-headers"].lower())
        # STS through boto3 with the header a browser adds
        sts = self.srv.boto3("sts")
        seen = {}

        def add_origin(request, **_):
            request.headers["Origin"] = ORIGIN

        def keep(http_response, **_):
            seen.update({k.lower(): v for k, v in http_response.headers.items()})

        sts.meta.events.register("before-sign.sts.*", add_origin)
        sts.meta.events.register("after-call.sts.*", keep)
        self.assertIn("Arn", sts.get_caller_identity())
        self.assertEqual(seen.get("access-control-allow-origin"), "*")

    def test_buckets_keep_their_own_cors(self):
        port = self.srv.port
        # a virtual-host preflight is the bucket's: no such bucket, so S3's refusal
        status, h, body = self.call("OPTIONS", headers={
            "Host": "nobucket.localhost:%d" % port, "Origin": ORIGIN,
            "Access-Control-Request-Method": "GET"})
        self.assertEqual(status, 403, body)
        self.assertIn(b"CORSResponse", body)
        self.assertNotIn("access-control-allow-origin", h)
        # a path-style bucket preflight too
        status, _, body = self.call("OPTIONS", path="/nobucket/key", headers={
            "Origin": ORIGIN, "Access-Control-Request-Method": "GET"})
        self.assertEqual(status, 403, body)

    def test_curl_preflight(self):
        out = subprocess.run(
            ["curl", "-s", "-i", "-X", "OPTIONS", "-H", "Origin: " + ORIGIN,
             "-H", "Access-Control-Request-Method: POST", self.srv.url() + "/"],
            capture_output=True, text=True, timeout=30, check=True).stdout.lower()
        self.assertIn("200 ok", out.splitlines()[0])
        self.assertIn("access-control-allow-origin: *", out)
        self.assertIn("access-control-allow-methods: post", out)


if __name__ == "__main__":
    unittest.main()
