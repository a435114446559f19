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

import botocore
import botocore.exceptions

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
        # a bucket policy refusing SigV2 refuses a SigV2 form too
        c.put_bucket_policy(Bucket=b, Policy=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
                           "Resource": "arn:aws:s3:::%s/*" % b,
                           "Condition": {"StringEquals": {"s3:signatureversion": "AWS"}}}]}))
        status, _, body = self.post(b, self.signed_fields(b, conds, [("key", "v2"),
                                                                     ("file", "x")]))
        self.assertEqual((status, b"AccessDenied" in body), (403, True), body)
        c.delete_bucket_policy(Bucket=b)
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


def code_of(fn, *a, **kw):
    try:
        fn(*a, **kw)
        return "OK"
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"]


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


GUEST = {}


def allow(action, resource, cond=None, effect="Allow"):
    """a statement for the guest user (Allow) or for everyone (Deny)"""
    who = {"AWS": GUEST["arn"]} if effect == "Allow" else "*"
    s = {"Effect": effect, "Principal": who, "Action": action, "Resource": resource}
    if cond:
        s["Condition"] = cond
    return s


class ConditionKeys(S3Case):
    """Bucket policy conditions on S3's own keys, for an IAM user of the
    account that no identity policy lets in (the bucket policy decides)."""
    server_args = {}

    def setUp(self):
        super().setUp()
        iam = self.server.boto3("iam")
        name = "guest" + th.random_key(5).lower()
        GUEST["arn"] = iam.create_user(UserName=name)["User"]["Arn"]
        k = iam.create_access_key(UserName=name)["AccessKey"]
        self.guest_key = (k["AccessKeyId"], k["SecretAccessKey"])
        self.guest = self.server.boto3("s3", access_key=k["AccessKeyId"],
                                       secret_key=k["SecretAccessKey"],
                                       s3={"addressing_style": "path"})
        self.c = self.s3()

    def test_existing_and_request_object_tags(self):
        c, g = self.c, self.guest
        b = self.bucket(c)
        objs = "arn:aws:s3:::%s/*" % b
        c.put_bucket_policy(Bucket=b, Policy=policy(
            allow(["s3:GetObject", "s3:PutObjectTagging"], objs,
                  {"StringEquals": {"s3:ExistingObjectTag/stage": "released"}}),
            allow("s3:PutObject", objs, {"StringEquals": {"s3:RequestObjectTag/owner": "web"}})))
        c.put_object(Bucket=b, Key="out", Body=b"1", Tagging="stage=released&x=y")
        c.put_object(Bucket=b, Key="draft", Body=b"2", Tagging="stage=draft")
        c.put_object(Bucket=b, Key="bare", Body=b"3")
        self.assertEqual(g.get_object(Bucket=b, Key="out")["Body"].read(), b"1")
        for k in ("draft", "bare"):
            self.assertEqual(code_of(g.get_object, Bucket=b, Key=k), "AccessDenied")
        # re-tagging is decided on the tags the object has, not the new ones
        self.assertEqual(code_of(g.put_object_tagging, Bucket=b, Key="draft", Tagging={
            "TagSet": [{"Key": "stage", "Value": "released"}]}), "AccessDenied")
        g.put_object_tagging(Bucket=b, Key="out",
                             Tagging={"TagSet": [{"Key": "stage", "Value": "draft"}]})
        self.assertEqual(code_of(g.get_object, Bucket=b, Key="out"), "AccessDenied")
        self.assertEqual(code_of(g.put_object, Bucket=b, Key="n", Body=b"x"), "AccessDenied")
        g.put_object(Bucket=b, Key="n", Body=b"x", Tagging="owner=web")
        self.assertEqual(c.get_object_tagging(Bucket=b, Key="n")["TagSet"],
                         [{"Key": "owner", "Value": "web"}])

    def test_existing_object_tag_for_anonymous_callers(self):
        c = self.c
        b = self.bucket(c)
        c.delete_public_access_block(Bucket=b)
        c.put_object(Bucket=b, Key="shared", Body=b"s", Tagging="share=yes")
        c.put_object(Bucket=b, Key="kept", Body=b"k")
        c.put_bucket_policy(Bucket=b, Policy=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                           "Resource": "arn:aws:s3:::%s/*" % b,
                           "Condition": {"StringEquals": {"s3:ExistingObjectTag/share": "yes"}}}]}))
        anon = self.s3(signature_version=botocore.UNSIGNED)
        self.assertEqual(anon.get_object(Bucket=b, Key="shared")["Body"].read(), b"s")
        self.assertEqual(code_of(anon.get_object, Bucket=b, Key="kept"), "AccessDenied")

    def test_copy_source_metadata_directive_and_prefix(self):
        c, g = self.c, self.guest
        src = self.bucket(c)
        for k in ("pub/a", "priv/a"):
            c.put_object(Bucket=src, Key=k, Body=k.encode())
        c.put_bucket_policy(Bucket=src, Policy=policy(
            allow("s3:GetObject", "arn:aws:s3:::%s/*" % src),
            allow("s3:ListBucket", "arn:aws:s3:::" + src,
                  {"StringEquals": {"s3:prefix": "pub/"}})))
        dst = self.bucket(c)
        c.put_bucket_policy(Bucket=dst, Policy=policy(allow(
            "s3:PutObject", "arn:aws:s3:::%s/*" % dst,
            {"StringLike": {"s3:x-amz-copy-source": src + "/pub/*"},
             "StringEqualsIfExists": {"s3:x-amz-metadata-directive": "COPY"}})))
        g.copy_object(Bucket=dst, Key="a", CopySource={"Bucket": src, "Key": "pub/a"})
        self.assertEqual(c.get_object(Bucket=dst, Key="a")["Body"].read(), b"pub/a")
        for kw in ({"CopySource": {"Bucket": src, "Key": "priv/a"}},
                   {"CopySource": {"Bucket": src, "Key": "pub/a"},
                    "MetadataDirective": "REPLACE", "Metadata": {"m": "1"}}):
            self.assertEqual(code_of(g.copy_object, Bucket=dst, Key="b", **kw), "AccessDenied")
        self.assertEqual(code_of(g.put_object, Bucket=dst, Key="c", Body=b"x"), "AccessDenied")
        self.assertEqual([o["Key"] for o in g.list_objects_v2(Bucket=src, Prefix="pub/")[
            "Contents"]], ["pub/a"])
        for kw in ({"Prefix": "priv/"}, {}):
            self.assertEqual(code_of(g.list_objects_v2, Bucket=src, **kw), "AccessDenied")

    def test_deny_unencrypted_and_public_uploads_binds_the_root_too(self):
        c, g = self.c, self.guest
        b = self.bucket(c)
        c.delete_public_access_block(Bucket=b)
        c.put_bucket_ownership_controls(Bucket=b, OwnershipControls={
            "Rules": [{"ObjectOwnership": "ObjectWriter"}]})
        objs = "arn:aws:s3:::%s/*" % b
        c.put_bucket_policy(Bucket=b, Policy=policy(
            allow("s3:PutObject", objs),
            allow("s3:PutObject", objs,
                  {"StringNotEquals": {"s3:x-amz-server-side-encryption": "AES256"}}, "Deny"),
            allow("s3:PutObject", objs, {"StringLike": {"s3:x-amz-acl": "public*"}}, "Deny")))
        g.put_object(Bucket=b, Key="ok", Body=b"x", ServerSideEncryption="AES256")
        c.put_object(Bucket=b, Key="ok2", Body=b"x", ServerSideEncryption="AES256")
        for who in (g, c):
            self.assertEqual(code_of(who.put_object, Bucket=b, Key="plain", Body=b"x"),
                             "AccessDenied")
            self.assertEqual(code_of(who.put_object, Bucket=b, Key="p", Body=b"x",
                                     ServerSideEncryption="AES256", ACL="public-read"),
                             "AccessDenied")
        self.assertEqual(sorted(o["Key"] for o in c.list_objects_v2(Bucket=b)["Contents"]),
                         ["ok", "ok2"])
        # a policy denying the root everything still lets it manage the policy
        c.put_bucket_policy(Bucket=b, Policy=policy(allow("s3:*", ["arn:aws:s3:::" + b, objs],
                                                          effect="Deny")))
        self.assertEqual(code_of(c.list_objects_v2, Bucket=b), "AccessDenied")
        self.assertIn("Deny", c.get_bucket_policy(Bucket=b)["Policy"])
        c.delete_bucket_policy(Bucket=b)
        self.assertEqual(len(c.list_objects_v2(Bucket=b)["Contents"]), 2)

    def test_referer_if_exists(self):
        c = self.c
        b = self.bucket(c)
        c.put_object(Bucket=b, Key="page", Body=b"p")
        c.put_bucket_policy(Bucket=b, Policy=policy(allow(
            "s3:GetObject", "arn:aws:s3:::%s/*" % b,
            {"StringLikeIfExists": {"aws:Referer": "https://site.example/*"}})))

        def get(referer):
            s = self.server.boto3("s3", access_key=self.guest_key[0],
                                  secret_key=self.guest_key[1], s3={"addressing_style": "path"})
            if referer:
                s.meta.events.register("before-call.s3.GetObject",
                                       lambda **kw: kw["params"]["headers"].update(
                                           {"Referer": referer}))
            return code_of(s.get_object, Bucket=b, Key="page")
        self.assertEqual(get("https://site.example/a.html"), "OK")
        self.assertEqual(get(None), "OK")
        self.assertEqual(get("https://elsewhere.example/"), "AccessDenied")


class PresignedLimits(S3Case):
    """X-Amz-Expires out of S3's range is AuthorizationQueryParametersError;
    an expired URL is AccessDenied."""
    server_args = {}

    def test_expires_range(self):
        c = self.s3(signature_version="s3v4")
        b = self.bucket(c)
        c.put_object(Bucket=b, Key="k", Body=b"v")

        def get(expires):
            url = c.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "k"},
                                           ExpiresIn=expires)
            u = urllib.parse.urlsplit(url)
            conn = self.server.connection()
            try:
                conn.request("GET", u.path + "?" + u.query)
                r = conn.getresponse()
                return r.status, r.read()
            finally:
                conn.close()
        self.assertEqual(get(604800), (200, b"v"))
        for expires, msg in ((604801, b"less than a week"), (-5, b"must be non-negative")):
            status, body = get(expires)
            self.assertEqual(status, 400, body)
            self.assertIn(b"<Code>AuthorizationQueryParametersError</Code>", body)
            self.assertIn(msg, body)


if __name__ == "__main__":
    unittest.main()
