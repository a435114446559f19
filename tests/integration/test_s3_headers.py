"""S3 requests with missing, blank or unreadable headers, sent over raw HTTP
(an SDK's signer would replace them): SigV2 dates, a blank Authorization and
an upload without Content-Length get S3's error codes and change nothing."""

import base64
import datetime
import hashlib
import hmac
import http.client
import re
import time
import unittest
import uuid
from email.utils import formatdate

from tandem_harness import ServerTestCase, sigv4_sign


def _code(body):
    m = re.search(rb"<Code>([^<]*)</Code>", body)
    return m.group(1).decode() if m else ""


class S3Headers(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.s3 = cls.server.boto3("s3")
        cls.bucket = "hdr-" + uuid.uuid4().hex[:10]
        cls.s3.create_bucket(Bucket=cls.bucket)

    def send(self, method, path, headers, body=b""):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        try:
            conn.putrequest(method, path, skip_accept_encoding=True)
            for k, v in headers.items():
                conn.putheader(k, v)
            conn.endheaders()
            if body:
                conn.send(body)
            r = conn.getresponse()
            return r.status, r.read()
        finally:
            conn.close()

    def v2(self, method, path, headers, body=b"", empty_date_line=None):
        """A SigV2-signed request; the Date line is the Date header unless
        @empty_date_line (S3's documented form when x-amz-date is sent)."""
        amz = sorted((k.lower(), v) for k, v in headers.items() if k.lower().startswith("x-amz-"))
        date = "" if empty_date_line else headers.get("Date", "")
        sts = "\n".join([method, headers.get("Content-MD5", ""), headers.get("Content-Type", ""),
                         date] + ["%s:%s" % kv for kv in amz] + [path])
        sig = base64.b64encode(hmac.new(self.server.secret_key.encode(), sts.encode(),
                                        hashlib.sha1).digest()).decode()
        h = dict(headers)
        h["Authorization"] = "AWS %s:%s" % (self.server.access_key, sig)
        if "Content-Length" not in h:
            h["Content-Length"] = str(len(body))
        return self.send(method, path, {k: v for k, v in h.items() if v is not None}, body)

    def assertAbsent(self, key):
        with self.assertRaises(self.s3.exceptions.ClientError):
            self.s3.head_object(Bucket=self.bucket, Key=key)

    def test_sigv2_unreadable_dates_are_access_denied(self):
        now = formatdate(usegmt=True)
        path = "/%s/dated" % self.bucket
        for headers in ({"Date": now, "x-amz-date": "not a date"},
                        {"Date": now, "x-amz-date": ""},
                        {"Date": "yesterday-ish"},
                        {"x-amz-date": "Sat, 01 Jan 1955 10:00:00 GMT"},
                        {}):
            st, body = self.v2("PUT", path, headers, b"v")
            self.assertEqual(st, 403, (headers, body))
            self.assertEqual(_code(body), "AccessDenied", (headers, body))
            self.assertIn(b"valid Date or x-amz-date", body)
        # a new bucket is refused alike, and not made
        name = "hdr-" + uuid.uuid4().hex[:10]
        st, body = self.v2("PUT", "/" + name + "/", {"x-amz-date": "soon"})
        self.assertEqual((st, _code(body)), (403, "AccessDenied"), body)
        names = [b["Name"] for b in self.s3.list_buckets()["Buckets"]]
        self.assertNotIn(name, names)
        self.assertAbsent("dated")

    def test_sigv2_dates_outside_the_window_are_skewed(self):
        for d in ("Mon, 05 Mar 2012 08:30:00 GMT", "Fri, 03 Mar 2102 08:30:00 GMT"):
            st, body = self.v2("PUT", "/%s/skewed" % self.bucket, {"x-amz-date": d}, b"v")
            self.assertEqual((st, _code(body)), (403, "RequestTimeTooSkewed"), body)
        self.assertAbsent("skewed")

    def test_sigv2_x_amz_date_signed_either_way(self):
        now = formatdate(usegmt=True)
        for empty, key in ((False, "either-a"), (True, "either-b")):
            st, body = self.v2("PUT", "/%s/%s" % (self.bucket, key),
                               {"Date": now, "x-amz-date": now}, b"hello",
                               empty_date_line=empty)
            self.assertEqual(st, 200, body)
            got = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
            self.assertEqual(got, b"hello")
        # an ISO 8601 x-amz-date is read as well
        iso = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        st, body = self.v2("PUT", "/%s/either-c" % self.bucket, {"x-amz-date": iso}, b"hi")
        self.assertEqual(st, 200, body)
        st, body = self.v2("PUT", "/%s/either-d" % self.bucket, {"x-amz-date": iso + "junk"})
        self.assertEqual((st, _code(body)), (403, "AccessDenied"), body)

    def test_blank_authorization_is_anonymous(self):
        name = "hdr-" + uuid.uuid4().hex[:10]
        for path, body in (("/" + name, b""), ("/%s/blank" % self.bucket, b"abc")):
            st, out = self.send("PUT", path, {"Authorization": "",
                                              "Content-Length": str(len(body))}, body)
            self.assertEqual((st, _code(out)), (403, "AccessDenied"), out)
        names = [b["Name"] for b in self.s3.list_buckets()["Buckets"]]
        self.assertNotIn(name, names)
        self.assertAbsent("blank")

    def test_upload_without_content_length_is_411(self):
        now = formatdate(usegmt=True)
        st, body = self.v2("PUT", "/%s/nolen" % self.bucket,
                           {"Date": now, "Content-Length": None})
        self.assertEqual((st, _code(body)), (411, "MissingContentLength"), body)
        self.assertIn(b"Content-Length", body)
        self.assertAbsent("nolen")
        # an empty object with Content-Length: 0 is fine, and so is a bucket
        # made without a Content-Length
        st, body = self.v2("PUT", "/%s/empty" % self.bucket, {"Date": now})
        self.assertEqual(st, 200, body)
        name = "hdr-" + uuid.uuid4().hex[:10]
        st, body = self.v2("PUT", "/" + name + "/", {"Date": now, "Content-Length": None})
        self.assertEqual(st, 200, body)

    def test_sigv2_authorization_without_signature_is_invalid_argument(self):
        st, body = self.send("PUT", "/%s/bad-auth" % self.bucket,
                             {"Authorization": "AWS NOCOLON", "Date": formatdate(usegmt=True),
                              "Content-Length": "1"}, b"x")
        self.assertEqual((st, _code(body)), (400, "InvalidArgument"), body)
        self.assertAbsent("bad-auth")

    def v4(self, path, body=b"v", when=None, change=None):
        """A SigV4 PUT whose headers @change alters after signing."""
        h = {"Host": "127.0.0.1:%d" % self.server.port,
             "x-amz-content-sha256": hashlib.sha256(body).hexdigest()}
        h = sigv4_sign("PUT", path, h, body, self.server.access_key, self.server.secret_key,
                       self.server.region, "s3", when)
        h["Content-Length"] = str(len(body))
        for k, v in (change or {}).items():
            if v is None:
                h.pop(k, None)
            else:
                h[k] = v
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        try:
            conn.putrequest("PUT", path, skip_host=True, skip_accept_encoding=True)
            for k, v in h.items():
                conn.putheader(k, v)
            conn.endheaders()
            conn.send(body)
            r = conn.getresponse()
            return r.status, r.read()
        finally:
            conn.close()

    def test_sigv4_request_time(self):
        path = "/%s/v4dated" % self.bucket
        for change in ({"X-Amz-Date": "Bad Date"}, {"X-Amz-Date": ""}, {"X-Amz-Date": None},
                       {"X-Amz-Date": "19600101T000000Z"}):
            st, body = self.v4(path, change=change)
            self.assertEqual((st, _code(body)), (403, "AccessDenied"), (change, body))
            self.assertIn(b"valid Date or x-amz-date", body)
        old = datetime.datetime(2011, 2, 3, 4, 5, 6)
        for kw in ({"when": old}, {"change": {"X-Amz-Date": "20990101T000000Z"}}):
            st, body = self.v4(path, **kw)
            self.assertEqual((st, _code(body)), (403, "RequestTimeTooSkewed"), body)
            self.assertIn(b"difference between the request time", body)
        self.assertAbsent("v4dated")
        # a bad Date beside a good X-Amz-Date is not looked at
        st, body = self.v4(path, change={"Date": "whenever"})
        self.assertEqual(st, 200, body)

    def test_unknown_authorization_scheme_is_invalid_argument(self):
        for auth in ("AWS4 NOTASIGNATURE", "Bearer abc"):
            name = "hdr-" + uuid.uuid4().hex[:10]
            st, body = self.v4("/" + name, body=b"", change={"Authorization": auth})
            self.assertEqual((st, _code(body)), (400, "InvalidArgument"), (auth, body))
            self.assertIn(b"Unsupported Authorization Type", body)
            names = [b["Name"] for b in self.s3.list_buckets()["Buckets"]]
            self.assertNotIn(name, names)
        # a SigV4 Authorization whose credential has no scope is malformed
        st, body = self.v4("/%s/noscope" % self.bucket,
                           change={"Authorization": "AWS4-HMAC-SHA256 Credential=NOSCOPE"})
        self.assertEqual((st, _code(body)), (400, "AuthorizationHeaderMalformed"), body)
        self.assertAbsent("noscope")


if __name__ == "__main__":
    unittest.main()
