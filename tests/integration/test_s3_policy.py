"""S3 access decisions as S3 makes them: browser-based POST uploads (form
fields, the signed policy document and its conditions, success answers),
bucket policies with S3's own condition keys, presigned URLs and anonymous
callers. Real server, boto3 and raw HTTP."""

import base64
import datetime
import hashlib
import hmac
import json
import unittest
import urllib.parse
import uuid

import tandem_harness as th
from test_s3 import S3Case


def form_body(fields):
    """multipart/form-data of [(name, value)] or [(name, (filename, value))]."""
    boundary = "----form" + uuid.uuid4().hex
    out = b""
    for name, value in fields:
        fn = None
        if isinstance(value, tuple):
            fn, value = value
        if isinstance(value, str):
            value = value.encode()
        disp = 'form-data; name="%s"' % name
        if fn is not None:
            disp += '; filename="%s"' % fn
        out += ("--%s\r\nContent-Disposition: %s\r\n\r\n" % (boundary, disp)).encode()
        out += value + b"\r\n"
    out += ("--%s--\r\n" % boundary).encode()
    return out, "multipart/form-data; boundary=" + boundary


def in_a_while(seconds=600):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


class PostObject(S3Case):
    server_args = {}

    def post(self, bucket, fields):
        body, ctype = form_body(fields)
        conn = self.server.connection()
        try:
            conn.request("POST", "/" + bucket, body=body, headers={"Content-Type": ctype})
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()

    def signed_fields(self, bucket, conditions, fields, secret=None, expiration=None):
        doc = {"expiration": expiration or in_a_while(), "conditions": conditions}
        pol = base64.b64encode(json.dumps(doc).encode())
        sig = base64.b64encode(hmac.new((secret or self.server.secret_key).encode(), pol,
                                        hashlib.sha1).digest())
        return ([("AWSAccessKeyId", self.server.access_key), ("policy", pol.decode()),
                 ("signature", sig.decode())] + fields)

    def test_signed_form_writes_the_object(self):
        c = self.s3()
        b = self.bucket(c)
        conds = [{"bucket": b}, ["starts-with", "$key", "uploads/"],
                 ["starts-with", "$Content-Type", "image/"], ["content-length-range", 1, 100],
                 ["starts-with", "$x-amz-meta-camera", ""], {"success_action_status": "201"}]
        fields = self.signed_fields(b, conds, [
            ("key", "uploads/${filename}"), ("Content-Type", "image/png"),
            ("x-amz-meta-camera", "pinhole"), ("success_action_status", "201"),
            ("x-ignore-note", "any"), ("file", ("cat.png", b"\x89PNG tiny"))])
        status, h, body = self.post(b, fields)
        self.assertEqual(status, 201, body)
        etag = '"%s"' % hashlib.md5(b"\x89PNG tiny").hexdigest()
        self.assertIn(b"<Key>uploads/cat.png</Key>", body)
        self.assertIn(("<ETag>%s</ETag>" % etag.replace('"', "&quot;")).encode(), body)
        self.assertTrue(h["location"].endswith("/%s/uploads/cat.png" % b), h)
        o = c.get_object(Bucket=b, Key="uploads/cat.png")
        self.assertEqual((o["Body"].read(), o["ContentType"], o["Metadata"], o["ETag"]),
                         (b"\x89PNG tiny", "image/png", {"camera": "pinhole"}, etag))

    def test_default_answer_and_redirect(self):
        c = self.s3()
        b = self.bucket(c)
        conds = [{"bucket": b}, ["starts-with", "$key", ""]]
        status, h, body = self.post(b, self.signed_fields(b, conds, [("key", "a"),
                                                                     ("file", "one")]))
        self.assertEqual((status, body), (204, b""))
        conds.append(["starts-with", "$success_action_redirect", "https://app.example/"])
        status, h, _ = self.post(b, self.signed_fields(b, conds, [
            ("key", "b c"), ("success_action_redirect", "https://app.example/done"),
            ("file", "two")]))
        self.assertEqual(status, 303)
        want = "https://app.example/done?bucket=%s&key=b%%20c&etag=%%22%s%%22" % (
            b, hashlib.md5(b"two").hexdigest())
        self.assertEqual(h["location"], want)
        self.assertEqual(c.get_object(Bucket=b, Key="b c")["Body"].read(), b"two")

    def test_policy_refusals_write_nothing(self):
        c = self.s3()
        b = self.bucket(c)
        base = [{"bucket": b}, ["starts-with", "$key", "in/"], ["content-length-range", 0, 5]]
        cases = [
            # (conditions, extra fields, key, status, code)
            (base, [], "out/x", 403, b"AccessDenied"),                  # condition failed
            (base, [("x-amz-meta-a", "1")], "in/x", 403, b"AccessDenied"),  # extra field
            (base[1:], [], "in/x", 403, b"AccessDenied"),               # bucket not named
            (base[:2] + [["content-length-range", 0, 2]], [], "in/x", 400, b"EntityTooLarge"),
            (base[:2] + [["content-length-range", 9, 20]], [], "in/x", 400, b"EntityTooSmall"),
            (base[:2] + [["content-length-range", 1]], [], "in/x", 400,
             b"InvalidPolicyDocument"),
            ([{}], [], "in/x", 400, b"InvalidPolicyDocument"),
        ]
        for conds, extra, key, want_status, want_code in cases:
            status, _, body = self.post(b, self.signed_fields(
                b, conds, [("key", key)] + extra + [("file", "abc")]))
            self.assertEqual(status, want_status, (conds, body))
            self.assertIn(b"<Code>" + want_code + b"</Code>", body)
        # the document itself: expired, no expiration, no conditions, a wrong signature
        status, _, body = self.post(b, self.signed_fields(
            b, base, [("key", "in/x"), ("file", "abc")], expiration="2001-01-01T00:00:00Z"))
        self.assertEqual(status, 403, body)
        for doc in ({"conditions": base}, {"expiration": in_a_while()},
                    {"expiration": "tomorrow", "conditions": base}):
            pol = base64.b64encode(json.dumps(doc).encode())
            sig = base64.b64encode(hmac.new(self.server.secret_key.encode(), pol,
                                            hashlib.sha1).digest())
            status, _, body = self.post(b, [("key", "in/x"),
                                            ("AWSAccessKeyId", self.server.access_key),
                                            ("policy", pol), ("signature", sig),
                                            ("file", "abc")])
            self.assertEqual((status, b"InvalidPolicyDocument" in body), (400, True), body)
        status, _, body = self.post(b, self.signed_fields(b, base, [("key", "in/x"),
                                                                   ("file", "abc")],
                                                          secret="not-the-secret"))
        self.assertEqual((status, b"SignatureDoesNotMatch" in body), (403, True), body)
        fields = self.signed_fields(b, base, [("file", "abc")])
        status, _, body = self.post(b, fields)  # no key field
        self.assertEqual((status, b"InvalidArgument" in body), (400, True), body)
        fields = [f for f in self.signed_fields(b, base, [("key", "in/x"), ("file", "abc")])
                  if f[0] != "signature"]
        status, _, body = self.post(b, fields)
        self.assertEqual((status, b"InvalidArgument" in body), (400, True), body)
        status, _, body = self.post(b, self.signed_fields(b, base, [("key", "in/x")]))
        self.assertEqual((status, b"InvalidArgument" in body), (400, True), body)  # no file
        conn = self.server.connection()
        try:
            conn.request("POST", "/" + b, body=b"--zz\r\nnot a part",
                         headers={"Content-Type": "multipart/form-data; boundary=zz"})
            r = conn.getresponse()
            self.assertEqual((r.status, b"MalformedPOSTRequest" in r.read()), (400, True))
        finally:
            conn.close()
        self.assertNotIn("Contents", c.list_objects_v2(Bucket=b))

    def test_sigv4_form_from_boto3_and_tags(self):
        c = self.s3(signature_version="s3v4")
        b = self.bucket(c)
        tagging = ("<Tagging><TagSet><Tag><Key>team</Key><Value>web</Value></Tag>"
                   "</TagSet></Tagging>")
        p = c.generate_presigned_post(b, "u/${filename}", Fields={"tagging": tagging},
                                      Conditions=[{"tagging": tagging}], ExpiresIn=300)
        self.assertIn("x-amz-signature", p["fields"])
        fields = list(p["fields"].items()) + [("file", ("notes.txt", "hello"))]
        status, _, body = self.post(b, fields)
        self.assertEqual(status, 204, body)
        self.assertEqual(c.get_object(Bucket=b, Key="u/notes.txt")["Body"].read(), b"hello")
        self.assertEqual(c.get_object_tagging(Bucket=b, Key="u/notes.txt")["TagSet"],
                         [{"Key": "team", "Value": "web"}])
        bad = [(k, "0" * 64 if k == "x-amz-signature" else v) for k, v in fields]
        status, _, body = self.post(b, bad)
        self.assertEqual((status, b"SignatureDoesNotMatch" in body), (403, True), body)

    def test_anonymous_form_follows_the_bucket_policy(self):
        c = self.s3()
        b = self.bucket(c)
        status, _, body = self.post(b, [("key", "drop"), ("file", "x")])
        self.assertEqual((status, b"AccessDenied" in body), (403, True), body)
        c.delete_public_access_block(Bucket=b)
        c.put_bucket_policy(Bucket=b, Policy=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:PutObject",
                           "Resource": "arn:aws:s3:::%s/inbox/*" % b}]}))
        status, _, body = self.post(b, [("key", "inbox/drop"), ("file", "x")])
        self.assertEqual(status, 204, body)
        status, _, body = self.post(b, [("key", "elsewhere"), ("file", "x")])
        self.assertEqual(status, 403, body)
        self.assertEqual([o["Key"] for o in c.list_objects_v2(Bucket=b)["Contents"]],
                         ["inbox/drop"])


if __name__ == "__main__":
    unittest.main()
