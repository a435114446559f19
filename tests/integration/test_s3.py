"""S3 API: buckets, objects, versioning, lists, multipart, checksums, presigned
URLs (SigV4 and SigV2), aws-chunked uploads over HTTPS, bad input. Real
servers, real clients (boto3, the aws CLI, curl)."""

import base64
import datetime
import hashlib
import http.client
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.parse
import zlib

import tandem_harness as th

try:
    import boto3  # noqa: F401
    import botocore
    import botocore.auth
    import botocore.awsrequest
    import botocore.config
    import botocore.credentials
    from botocore.exceptions import ClientError
except ImportError:  # pragma: no cover
    boto3 = None


def completed(n, part):
    """CompleteMultipartUpload's entry for part @n from UploadPart's answer
    @part: its ETag and the checksum the client added to it by itself (boto3
    >= 1.36 adds a CRC32), which S3 wants listed back"""
    e = {"PartNumber": n, "ETag": part["ETag"]}
    e.update((k, v) for k, v in part.items() if k.startswith("Checksum") and k != "ChecksumType")
    return e


def code_of(exc):
    return exc.response["Error"]["Code"]


class S3Case(th.ServerTestCase):
    server_args = {"tls": True}

    def s3(self, tls=False, **cfg):
        if boto3 is None:
            raise unittest.SkipTest("no boto3")
        cfg.setdefault("s3", {"addressing_style": "path"})
        return self.server.boto3("s3", tls=tls, **cfg)

    def bucket(self, c, name=None):
        name = name or "b-" + th.random_key(10).lower()
        c.create_bucket(Bucket=name)
        return name

    def assertCode(self, code, fn, *a, **kw):
        with self.assertRaises(ClientError) as cm:
            fn(*a, **kw)
        self.assertEqual(code_of(cm.exception), code, cm.exception.response)
        return cm.exception.response

    def signed_raw(self, method, url, body=b"", headers=None, send_body=None, tls=False):
        """SigV4-sign a request with botocore, send it to this server's port
        (whatever the URL's host), return (status, headers, body)."""
        creds = botocore.credentials.Credentials(self.server.access_key, self.server.secret_key)
        headers = dict(headers or {})
        headers["Host"] = urllib.parse.urlsplit(url).netloc
        req = botocore.awsrequest.AWSRequest(method=method, url=url, data=body,
                                             headers=dict(headers or {}))
        botocore.auth.S3SigV4Auth(creds, "s3", self.server.region).add_auth(req)
        conn = self.server.connection(tls=tls)
        u = urllib.parse.urlsplit(url)
        path = u.path + ("?" + u.query if u.query else "")
        try:
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for k, v in req.headers.items():
                conn.putheader(k, v)
            if "Content-Length" not in req.headers:
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body if send_body is None else send_body)
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()

    def curl(self, *args):
        p = subprocess.run(["curl", "-s", "-o", "-", "-w", "\n%{http_code}"] + list(args),
                           capture_output=True, timeout=60)
        out = p.stdout
        body, _, status = out.rpartition(b"\n")
        return int(status), body


class Buckets(S3Case):
    def test_create_head_list_location_delete(self):
        c = self.s3()
        name = self.bucket(c)
        c.head_bucket(Bucket=name)
        names = [b["Name"] for b in c.list_buckets()["Buckets"]]
        self.assertIn(name, names)
        self.assertIsNone(c.get_bucket_location(Bucket=name)["LocationConstraint"])
        # us-east-1 answers the owner's re-create with 200, as S3 does
        c.create_bucket(Bucket=name)
        c.put_object(Bucket=name, Key="k", Body=b"x")
        self.assertCode("BucketNotEmpty", c.delete_bucket, Bucket=name)
        c.delete_object(Bucket=name, Key="k")
        c.delete_bucket(Bucket=name)
        self.assertCode("404", c.head_bucket, Bucket=name)
        self.assertCode("NoSuchBucket", c.delete_bucket, Bucket=name)
        self.assertCode("NoSuchBucket", c.list_objects_v2, Bucket=name)

    def test_bucket_name_rules_and_location(self):
        c = self.s3()
        for bad in ("ab", "Upper-case", "a..b", "192.168.5.4", "-dash", "xn--abc", "a" * 64):
            self.assertCode("InvalidBucketName", c.create_bucket, Bucket=bad)
        r = self.assertCode("IllegalLocationConstraintException", c.create_bucket,
                            Bucket="loc-bucket-1",
                            CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        self.assertIn("The eu-west-1 location constraint is incompatible", r["Error"]["Message"])
        for loc in ("us-east-1", "Mars"):
            self.assertCode("InvalidLocationConstraint", c.create_bucket, Bucket="loc-bucket-1",
                            CreateBucketConfiguration={"LocationConstraint": loc})
        self.assertCode("NoSuchBucket", c.list_objects_v2, Bucket="loc-bucket-1")

    def test_malformed_xml(self):
        st, _, body = self.signed_raw("PUT", self.server.url() + "/xml-bucket-1",
                                      body=b"<CreateBucketConfiguration><oops")
        self.assertEqual(st, 400, body)
        self.assertIn(b"<Code>MalformedXML</Code>", body)
        st, _, body = self.signed_raw("PUT", self.server.url() + "/xml-bucket-1",
                                      body=b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>')
        self.assertIn(b"<Code>MalformedXML</Code>", body)
        self.assertCode("404", self.s3().head_bucket, Bucket="xml-bucket-1")

    def test_request_ids_on_every_response(self):
        c = self.s3()
        try:
            c.head_bucket(Bucket="no-such-bucket-xyz")
        except ClientError as e:
            h = e.response["ResponseMetadata"]["HTTPHeaders"]
            self.assertIn("x-amz-request-id", h)
            self.assertIn("x-amz-id-2", h)

    def test_anonymous_is_refused_and_health_still_answers(self):
        b = self.bucket(self.s3())
        st, body = self.curl(self.server.url() + "/%s/key" % b)
        self.assertEqual(st, 403)
        self.assertIn(b"AccessDenied", body)
        # a bucket that is not there is no secret, as at S3
        st, body = self.curl(self.server.url() + "/some-bucket/key")
        self.assertEqual(st, 404)
        self.assertIn(b"NoSuchBucket", body)
        st, body = self.curl(self.server.url() + "/")
        self.assertEqual(st, 200)


class PublicAccess(S3Case):
    """Unsigned requests are the anonymous principal: allowed exactly what the
    bucket policy grants to "*", unless Block Public Access says otherwise."""

    def anon(self, **cfg):
        return self.s3(signature_version=botocore.UNSIGNED, **cfg)

    def policy(self, bucket, *stmts):
        return json.dumps({"Version": "2012-10-17", "Statement": list(stmts)})

    def grant(self, bucket, action, resource, **extra):
        st = {"Effect": "Allow", "Principal": "*", "Action": action,
              "Resource": "arn:aws:s3:::%s/%s" % (bucket, resource) if resource is not None
              else "arn:aws:s3:::%s" % bucket}
        st.update(extra)
        return st

    def test_public_read_policy_and_block_public_access(self):
        c = self.s3()
        b = self.bucket(c)
        c.put_object(Bucket=b, Key="pub/a.txt", Body=b"public bytes")
        c.put_object(Bucket=b, Key="secret/s.txt", Body=b"secret")
        url = self.server.url() + "/%s/pub/a.txt" % b
        st, body = self.curl(url)
        self.assertEqual(st, 403)
        self.assertIn(b"<Code>AccessDenied</Code>", body)
        pol = self.policy(b, self.grant(b, "s3:GetObject", "*"),
                          {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
                           "Resource": "arn:aws:s3:::%s/secret/*" % b})
        # new buckets block public policies (S3's default since April 2023)
        r = self.assertCode("AccessDenied", c.put_bucket_policy, Bucket=b, Policy=pol)
        self.assertIn("BlockPublicPolicy", r["Error"]["Message"])
        self.assertCode("NoSuchBucketPolicy", c.get_bucket_policy_status, Bucket=b)
        c.put_public_access_block(Bucket=b, PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": False,
            "RestrictPublicBuckets": True})
        c.put_bucket_policy(Bucket=b, Policy=pol)
        self.assertTrue(c.get_bucket_policy_status(Bucket=b)["PolicyStatus"]["IsPublic"])
        st, body = self.curl(url)  # RestrictPublicBuckets: the public policy grants nothing
        self.assertEqual(st, 403, body)
        c.delete_public_access_block(Bucket=b)
        st, body = self.curl(url)
        self.assertEqual((st, body), (200, b"public bytes"))
        st, body = self.curl("-I", url)
        self.assertEqual(st, 200)
        self.assertIn(b"Content-Length: 12", body)
        a = self.anon()
        self.assertEqual(a.get_object(Bucket=b, Key="pub/a.txt")["Body"].read(), b"public bytes")
        self.assertEqual(a.head_object(Bucket=b, Key="pub/a.txt")["ContentLength"], 12)
        # an explicit Deny wins; what the policy does not grant stays refused
        self.assertCode("AccessDenied", a.get_object, Bucket=b, Key="secret/s.txt")
        # a missing key is not told apart from a refused one without s3:ListBucket
        self.assertCode("AccessDenied", a.get_object, Bucket=b, Key="pub/missing")
        self.assertCode("NoSuchKey", c.get_object, Bucket=b, Key="pub/missing")
        self.assertCode("AccessDenied", a.put_object, Bucket=b, Key="pub/new", Body=b"x")
        self.assertCode("AccessDenied", a.delete_object, Bucket=b, Key="pub/a.txt")
        self.assertCode("AccessDenied", a.list_objects_v2, Bucket=b)
        self.assertCode("AccessDenied", a.get_bucket_policy, Bucket=b)
        st, body = self.curl(self.server.url() + "/?x-id=ListBuckets")  # (bare GET / is health)
        self.assertEqual(st, 403, body)
        st, body = self.curl("-X", "DELETE", url)
        self.assertEqual(st, 403)
        self.assertEqual(c.get_object(Bucket=b, Key="pub/a.txt")["Body"].read(), b"public bytes")
        # RestrictPublicBuckets turned on again takes the access away
        c.put_public_access_block(Bucket=b, PublicAccessBlockConfiguration={
            "RestrictPublicBuckets": True})
        self.assertCode("AccessDenied", a.get_object, Bucket=b, Key="pub/a.txt")
        c.delete_bucket_policy(Bucket=b)
        c.delete_public_access_block(Bucket=b)
        self.assertCode("AccessDenied", a.get_object, Bucket=b, Key="pub/a.txt")

    def test_public_upload_prefix_and_listing(self):
        c = self.s3()
        b = self.bucket(c)
        c.delete_public_access_block(Bucket=b)
        c.put_bucket_policy(Bucket=b, Policy=self.policy(
            b, self.grant(b, "s3:PutObject", "drop/*"), self.grant(b, "s3:ListBucket", None)))
        a = self.anon()
        a.put_object(Bucket=b, Key="drop/one.txt", Body=b"from anyone")
        self.assertEqual(c.get_object(Bucket=b, Key="drop/one.txt")["Body"].read(),
                         b"from anyone")
        self.assertCode("AccessDenied", a.put_object, Bucket=b, Key="elsewhere", Body=b"x")
        st, body = self.curl("-X", "PUT", "--data-binary", "curl body",
                             self.server.url() + "/%s/drop/two.txt" % b)
        self.assertEqual(st, 200, body)
        self.assertEqual(c.get_object(Bucket=b, Key="drop/two.txt")["Body"].read(), b"curl body")
        self.assertCode("AccessDenied", a.get_object, Bucket=b, Key="drop/two.txt")
        c.put_bucket_policy(Bucket=b, Policy=self.policy(
            b, self.grant(b, "s3:PutObject", "drop/*"), self.grant(b, "s3:ListBucket", None),
            self.grant(b, "s3:GetObject", "drop/*")))
        self.assertCode("NoSuchKey", a.get_object, Bucket=b, Key="drop/missing")
        keys = [o["Key"] for o in a.list_objects_v2(Bucket=b)["Contents"]]
        self.assertEqual(keys, ["drop/one.txt", "drop/two.txt"])
        # virtual-host style: GET /?list-type=2 unsigned is S3, not the health check
        st, body = self.curl("-H", "Host: %s.localhost" % b,
                             self.server.url() + "/?list-type=2")
        self.assertEqual(st, 200, body)
        self.assertIn(b"<Key>drop/one.txt</Key>", body)
        st, body = self.curl(self.server.url() + "/")
        self.assertEqual(st, 200)
        self.assertTrue(body.startswith(b"healthy: "), body)

    def test_block_public_acls(self):
        c = self.s3()
        b = self.bucket(c)
        # ACLs disabled (the default): refused as such before Block Public Access
        self.assertCode("AccessControlListNotSupported", c.put_object, Bucket=b, Key="k",
                        Body=b"x", ACL="public-read")
        c.put_bucket_ownership_controls(Bucket=b, OwnershipControls={
            "Rules": [{"ObjectOwnership": "ObjectWriter"}]})
        self.assertCode("AccessDenied", c.put_object, Bucket=b, Key="k", Body=b"x",
                        ACL="public-read")
        self.assertCode("AccessDenied", c.put_object, Bucket=b, Key="k", Body=b"x",
                        GrantRead='uri="http://acs.amazonaws.com/groups/global/AllUsers"')
        self.assertCode("404", c.head_object, Bucket=b, Key="k")
        c.put_object(Bucket=b, Key="k", Body=b"x", ACL="private")
        self.assertCode("AccessDenied", c.put_object_acl, Bucket=b, Key="k",
                        ACL="public-read-write")
        c.put_public_access_block(Bucket=b, PublicAccessBlockConfiguration={
            "BlockPublicAcls": False, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True})
        c.put_object(Bucket=b, Key="k2", Body=b"y", ACL="public-read")
        c.put_object_acl(Bucket=b, Key="k2", ACL="public-read")
        # IgnorePublicAcls: a public ACL grants nothing to anonymous callers
        self.assertCode("AccessDenied", self.anon().get_object, Bucket=b, Key="k2")

    def test_delete_objects_authorized_per_key(self):
        c = self.s3()
        b = self.bucket(c)
        for k in ("drop/a", "drop/b", "keep/c"):
            c.put_object(Bucket=b, Key=k, Body=b"x")
        c.delete_public_access_block(Bucket=b)
        c.put_bucket_policy(Bucket=b, Policy=self.policy(b, self.grant(b, "s3:DeleteObject",
                                                                          "drop/*")))
        r = self.anon().delete_objects(Bucket=b, Delete={"Quiet": True, "Objects": [
            {"Key": "drop/a"}, {"Key": "keep/c"}, {"Key": "drop/b"}]})
        self.assertEqual(r.get("Deleted", []), [])
        self.assertEqual([(e["Key"], e["Code"]) for e in r["Errors"]], [("keep/c", "AccessDenied")])
        keys = [o["Key"] for o in c.list_objects_v2(Bucket=b)["Contents"]]
        self.assertEqual(keys, ["keep/c"])
        self.assertCode("NoSuchBucket", self.anon().delete_objects, Bucket="no-such-bucket-del",
                        Delete={"Objects": [{"Key": "k"}]})

    def test_non_public_policy_is_not_blocked(self):
        """A wildcard grant pinned to a source address is not public: allowed
        under BlockPublicPolicy and not restricted by RestrictPublicBuckets."""
        c = self.s3()
        b = self.bucket(c)
        c.put_object(Bucket=b, Key="k", Body=b"local only")
        c.put_bucket_policy(Bucket=b, Policy=self.policy(b, self.grant(
            b, "s3:GetObject", "*", Condition={"IpAddress": {"aws:SourceIp": "127.0.0.1/32"}})))
        self.assertFalse(c.get_bucket_policy_status(Bucket=b)["PolicyStatus"]["IsPublic"])
        self.assertEqual(self.anon().get_object(Bucket=b, Key="k")["Body"].read(), b"local only")
        c.put_bucket_policy(Bucket=b, Policy=self.policy(b, self.grant(
            b, "s3:GetObject", "*", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})))
        self.assertCode("AccessDenied", self.anon().get_object, Bucket=b, Key="k")
        self.assertCode("AccessDenied", c.put_bucket_policy, Bucket=b, Policy=self.policy(
            b, self.grant(b, "s3:GetObject", "*",
                          Condition={"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}})))


class Cors(S3Case):
    """Put/Get/DeleteBucketCors, browser preflights (unsigned OPTIONS) and the
    Access-Control-* headers on requests with an Origin."""

    RULES = [{"ID": "app", "AllowedOrigins": ["https://app.example.com", "https://*.example.org"],
              "AllowedMethods": ["GET", "PUT"], "AllowedHeaders": ["Content-Type", "x-amz-*"],
              "ExposeHeaders": ["ETag", "x-amz-version-id"], "MaxAgeSeconds": 600},
             {"AllowedOrigins": ["*"], "AllowedMethods": ["GET", "HEAD"]}]

    def options(self, path, headers):
        conn = self.server.connection()
        try:
            conn.request("OPTIONS", path, headers=headers)
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()

    def test_configuration_api_and_errors(self):
        c = self.s3()
        b = self.bucket(c)
        self.assertCode("NoSuchCORSConfiguration", c.get_bucket_cors, Bucket=b)
        c.put_bucket_cors(Bucket=b, CORSConfiguration={"CORSRules": self.RULES})
        got = c.get_bucket_cors(Bucket=b)["CORSRules"]
        self.assertEqual(got[0]["AllowedOrigins"], self.RULES[0]["AllowedOrigins"])
        self.assertEqual(got[0]["MaxAgeSeconds"], 600)
        self.assertEqual(got[1]["AllowedMethods"], ["GET", "HEAD"])
        r = self.assertCode("InvalidRequest", c.put_bucket_cors, Bucket=b, CORSConfiguration={
            "CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}]})
        self.assertIn("Unsupported method is PATCH", r["Error"]["Message"])
        self.assertCode("InvalidRequest", c.put_bucket_cors, Bucket=b, CORSConfiguration={
            "CORSRules": [{"AllowedOrigins": ["https://*.*.com"], "AllowedMethods": ["GET"]}]})
        st, _, body = self.signed_raw("PUT", self.server.url() + "/%s?cors" % b,
                                      body=b"<CORSConfiguration><CORSRule><AllowedMethod>GET"
                                           b"</AllowedMethod></CORSRule></CORSConfiguration>")
        self.assertEqual(st, 400, body)
        self.assertIn(b"MalformedXML", body)
        self.assertEqual(c.get_bucket_cors(Bucket=b)["CORSRules"][0]["ID"], "app")  # unchanged
        c.delete_bucket_cors(Bucket=b)
        self.assertCode("NoSuchCORSConfiguration", c.get_bucket_cors, Bucket=b)
        self.assertCode("NoSuchBucket", c.get_bucket_cors, Bucket="no-such-bucket-cors")

    def test_preflight_refusals_as_s3_records_them(self):
        # LocalStack's test_cors_http_options_no_config and
        # test_cors_http_options_non_existent_bucket snapshots: the bucket
        # and its configuration are looked at before the method, and a
        # preflight without one names OPTIONS; every error document repeats
        # x-amz-id-2 as HostId
        c = self.s3()
        b = self.bucket(c)
        c.put_object(Bucket=b, Key="k", Body=b"data")
        for path, msg in (("/%s/k" % b, b"CORSResponse: CORS is not enabled for this bucket."),
                          ("/no-such-bucket-cors2/k", b"CORSResponse: Bucket not found")):
            st, h, body = self.options(path, {"Origin": "whatever"})
            self.assertEqual(st, 403, body)
            self.assertIn(b"<Code>AccessForbidden</Code><Message>" + msg + b"</Message>"
                          b"<Method>OPTIONS</Method><ResourceType>BUCKET</ResourceType>", body)
            self.assertIn(b"<HostId>%s</HostId>" % h["x-amz-id-2"].encode(), body)
        st, _, body = self.options("/%s/k" % b, {})
        self.assertEqual(st, 400)
        self.assertIn(b"Insufficient information. Origin request header needed.", body)

    def test_preflight_and_response_headers(self):
        c = self.s3()
        b = self.bucket(c)
        c.put_object(Bucket=b, Key="k", Body=b"data")
        pre = {"Origin": "https://app.example.com", "Access-Control-Request-Method": "PUT",
               "Access-Control-Request-Headers": "Content-Type, X-Amz-Meta-Color"}
        st, h, body = self.options("/%s/k" % b, pre)
        self.assertEqual(st, 403, body)
        self.assertIn(b"<Code>AccessForbidden</Code>", body)
        self.assertIn(b"CORS is not enabled for this bucket", body)
        # S3's CORS refusals name the method asked about and the resource type
        self.assertIn(b"<Method>PUT</Method><ResourceType>BUCKET</ResourceType>", body)
        c.put_bucket_cors(Bucket=b, CORSConfiguration={"CORSRules": self.RULES})
        st, h, body = self.options("/%s/k" % b, pre)
        self.assertEqual(st, 200, body)
        self.assertEqual(h["access-control-allow-origin"], "https://app.example.com")
        self.assertEqual(h["access-control-allow-methods"], "GET, PUT")
        self.assertEqual(h["access-control-allow-headers"], "content-type, x-amz-meta-color")
        self.assertEqual(h["access-control-max-age"], "600")
        self.assertEqual(h["access-control-expose-headers"], "ETag, x-amz-version-id")
        self.assertEqual(h["access-control-allow-credentials"], "true")
        self.assertIn("Origin", h["vary"])
        # wildcard origin of the first rule
        st, h, _ = self.options("/%s/k" % b, {"Origin": "https://a.example.org",
                                             "Access-Control-Request-Method": "GET"})
        self.assertEqual((st, h["access-control-allow-origin"]), (200, "https://a.example.org"))
        # any origin, GET/HEAD only, by the second rule
        st, h, _ = self.options("/%s/k" % b, {"Origin": "https://else.test",
                                             "Access-Control-Request-Method": "HEAD"})
        self.assertEqual((st, h["access-control-allow-origin"]), (200, "*"))
        self.assertNotIn("access-control-allow-credentials", h)
        for bad in ({"Origin": "https://else.test", "Access-Control-Request-Method": "PUT"},
                    {"Origin": "https://app.example.com", "Access-Control-Request-Method": "PUT",
                     "Access-Control-Request-Headers": "authorization-x"},
                    {"Origin": "https://app.example.com",
                     "Access-Control-Request-Method": "DELETE"}):
            st, h, body = self.options("/%s/k" % b, bad)
            self.assertEqual(st, 403, bad)
            self.assertIn(b"This CORS request is not allowed", body)
            # a key's preflight no rule allows names the OBJECT (LocalStack's
            # test_cors_match_origins snapshot, recorded against S3)
            self.assertIn(b"<Method>%s</Method><ResourceType>OBJECT</ResourceType>"
                          % bad["Access-Control-Request-Method"].encode(), body)
            self.assertNotIn("access-control-allow-origin", h)
        st, _, body = self.options("/%s/k" % b, {"Access-Control-Request-Method": "GET"})
        self.assertEqual(st, 400)
        self.assertIn(b"Origin request header needed", body)
        st, _, body = self.options("/%s/k" % b, {"Origin": "https://app.example.com"})
        self.assertEqual(st, 400)
        # a preflight on a bucket that does not exist is S3's CORS refusal, 403
        for path in ("/no-such-bucket-cors/k", "/no-such-bucket-cors"):
            st, _, body = self.options(path, pre)
            self.assertEqual(st, 403, body)
            self.assertIn(b"<Code>AccessForbidden</Code>", body)
            self.assertIn(b"<Message>CORSResponse: Bucket not found</Message>", body)
            self.assertIn(b"<Method>PUT</Method><ResourceType>BUCKET</ResourceType>", body)
            self.assertNotIn(b"BucketName", body)
        # the actual request: a signed GET with an Origin gets the headers
        st, h, body = self.signed_raw("GET", self.server.url() + "/%s/k" % b,
                                      headers={"Origin": "https://app.example.com"})
        self.assertEqual((st, body), (200, b"data"))
        self.assertEqual(h["access-control-allow-origin"], "https://app.example.com")
        self.assertEqual(h["access-control-expose-headers"], "ETag, x-amz-version-id")
        st, h, _ = self.signed_raw("GET", self.server.url() + "/%s/k" % b)
        self.assertNotIn("access-control-allow-origin", h)
        st, h, _ = self.signed_raw("GET", self.server.url() + "/%s/k" % b,
                                   headers={"Origin": "https://evil.test.com"})
        self.assertEqual(st, 200)
        self.assertEqual(h["access-control-allow-origin"], "*")  # the second rule


class Encryption(S3Case):
    def test_default_encryption_configuration(self):
        c = self.s3()
        b = self.bucket(c)
        rule = c.get_bucket_encryption(Bucket=b)["ServerSideEncryptionConfiguration"]["Rules"][0]
        self.assertEqual(rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"], "AES256")
        self.assertFalse(rule["BucketKeyEnabled"])
        c.put_bucket_encryption(Bucket=b, ServerSideEncryptionConfiguration={"Rules": [{
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms",
                                                   "KMSMasterKeyID": "alias/my-key"},
            "BucketKeyEnabled": True}]})
        rule = c.get_bucket_encryption(Bucket=b)["ServerSideEncryptionConfiguration"]["Rules"][0]
        self.assertEqual(rule["ApplyServerSideEncryptionByDefault"],
                         {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/my-key"})
        self.assertTrue(rule["BucketKeyEnabled"])
        self.assertCode("MalformedXML", c.put_bucket_encryption, Bucket=b,
                        ServerSideEncryptionConfiguration={"Rules": [{
                            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "DES"}}]})
        c.delete_bucket_encryption(Bucket=b)
        rule = c.get_bucket_encryption(Bucket=b)["ServerSideEncryptionConfiguration"]["Rules"][0]
        self.assertEqual(rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"], "AES256")
        self.assertCode("NoSuchBucket", c.get_bucket_encryption, Bucket="no-such-bucket-enc")

    def test_objects_report_their_encryption(self):
        c = self.s3()
        b = self.bucket(c)
        self.assertEqual(c.put_object(Bucket=b, Key="a", Body=b"a")["ServerSideEncryption"],
                         "AES256")
        self.assertEqual(c.head_object(Bucket=b, Key="a")["ServerSideEncryption"], "AES256")
        self.assertEqual(c.get_object(Bucket=b, Key="a")["ServerSideEncryption"], "AES256")
        r = c.put_object(Bucket=b, Key="k", Body=b"k", ServerSideEncryption="aws:kms",
                         SSEKMSKeyId="alias/obj-key")
        self.assertEqual((r["ServerSideEncryption"], r["SSEKMSKeyId"]), ("aws:kms", "alias/obj-key"))
        h = c.head_object(Bucket=b, Key="k")
        self.assertEqual((h["ServerSideEncryption"], h["SSEKMSKeyId"]), ("aws:kms", "alias/obj-key"))
        self.assertCode("InvalidArgument", c.put_object, Bucket=b, Key="bad", Body=b"x",
                        ServerSideEncryption="DES")
        self.assertCode("404", c.head_object, Bucket=b, Key="bad")
        c.put_bucket_encryption(Bucket=b, ServerSideEncryptionConfiguration={"Rules": [{
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms",
                                                   "KMSMasterKeyID": "alias/bucket-key"}}]})
        r = c.put_object(Bucket=b, Key="d", Body=b"d")
        self.assertEqual((r["ServerSideEncryption"], r["SSEKMSKeyId"]),
                         ("aws:kms", "alias/bucket-key"))
        self.assertEqual(c.get_object(Bucket=b, Key="d")["SSEKMSKeyId"], "alias/bucket-key")
        self.assertEqual(c.head_object(Bucket=b, Key="a")["ServerSideEncryption"], "AES256")
        r = c.copy_object(Bucket=b, Key="a2", CopySource={"Bucket": b, "Key": "a"},
                          ServerSideEncryption="AES256")
        self.assertEqual(r["ServerSideEncryption"], "AES256")
        self.assertEqual(c.head_object(Bucket=b, Key="a2")["ServerSideEncryption"], "AES256")
        up = c.create_multipart_upload(Bucket=b, Key="mp", ServerSideEncryption="aws:kms",
                                       SSEKMSKeyId="alias/mp-key")
        self.assertEqual(up["ServerSideEncryption"], "aws:kms")
        part = c.upload_part(Bucket=b, Key="mp", UploadId=up["UploadId"], PartNumber=1,
                             Body=b"p")
        self.assertEqual((part["ServerSideEncryption"], part["SSEKMSKeyId"]),
                         ("aws:kms", "alias/mp-key"))
        r = c.complete_multipart_upload(Bucket=b, Key="mp", UploadId=up["UploadId"],
                                        MultipartUpload={"Parts": [completed(1, part)]})
        self.assertEqual((r["ServerSideEncryption"], r["SSEKMSKeyId"]), ("aws:kms", "alias/mp-key"))
        self.assertEqual(c.head_object(Bucket=b, Key="mp")["SSEKMSKeyId"], "alias/mp-key")


class RegionalBuckets(S3Case):
    server_args = {"region": "us-west-2"}

    def test_location_constraint_must_match(self):
        c = self.s3()
        r = self.assertCode("IllegalLocationConstraintException", c.create_bucket,
                            Bucket="west-bucket-1")
        self.assertIn("The unspecified location constraint is incompatible",
                      r["Error"]["Message"])
        c.create_bucket(Bucket="west-bucket-1",
                        CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
        self.assertEqual(c.get_bucket_location(Bucket="west-bucket-1")["LocationConstraint"],
                         "us-west-2")
        self.assertCode("BucketAlreadyOwnedByYou", c.create_bucket, Bucket="west-bucket-1",
                        CreateBucketConfiguration={"LocationConstraint": "us-west-2"})


class Objects(S3Case):
    def test_put_get_head_metadata_and_headers(self):
        c = self.s3()
        b = self.bucket(c)
        r = c.put_object(Bucket=b, Key="dir/a.txt", Body=b"hello world", ContentType="text/plain",
                         Metadata={"color": "blue"}, CacheControl="max-age=60",
                         ContentDisposition="inline", ContentEncoding="identity")
        self.assertEqual(r["ETag"], '"%s"' % hashlib.md5(b"hello world").hexdigest())
        g = c.get_object(Bucket=b, Key="dir/a.txt")
        self.assertEqual(g["Body"].read(), b"hello world")
        self.assertEqual(g["ContentType"], "text/plain")
        self.assertEqual(g["Metadata"], {"color": "blue"})
        self.assertEqual(g["CacheControl"], "max-age=60")
        self.assertEqual(g["ContentDisposition"], "inline")
        self.assertEqual(g["ContentLength"], 11)
        self.assertIsInstance(g["LastModified"], datetime.datetime)
        h = c.head_object(Bucket=b, Key="dir/a.txt")
        self.assertEqual(h["ContentLength"], 11)
        self.assertEqual(h["ETag"], r["ETag"])
        g = c.get_object(Bucket=b, Key="dir/a.txt", ResponseContentType="application/x-foo",
                         ResponseContentDisposition="attachment")
        self.assertEqual(g["ContentType"], "application/x-foo")
        self.assertEqual(g["ContentDisposition"], "attachment")
        self.assertCode("NoSuchKey", c.get_object, Bucket=b, Key="missing")
        self.assertCode("404", c.head_object, Bucket=b, Key="missing")
        self.assertCode("NoSuchBucket", c.get_object, Bucket="no-such-bucket-q", Key="k")
        c.put_object(Bucket=b, Key="empty", Body=b"")
        self.assertEqual(c.get_object(Bucket=b, Key="empty")["Body"].read(), b"")

    def test_ranges(self):
        c = self.s3()
        b = self.bucket(c)
        c.put_object(Bucket=b, Key="r", Body=b"0123456789")
        g = c.get_object(Bucket=b, Key="r", Range="bytes=2-5")
        self.assertEqual(g["Body"].read(), b"2345")
        self.assertEqual(g["ContentRange"], "bytes 2-5/10")
        self.assertEqual(g["ResponseMetadata"]["HTTPStatusCode"], 206)
        self.assertEqual(c.get_object(Bucket=b, Key="r", Range="bytes=-3")["Body"].read(), b"789")
        self.assertEqual(c.get_object(Bucket=b, Key="r", Range="bytes=7-")["Body"].read(), b"789")
        self.assertEqual(c.get_object(Bucket=b, Key="r", Range="bytes=8-100")["Body"].read(),
                         b"89")
        self.assertCode("InvalidRange", c.get_object, Bucket=b, Key="r", Range="bytes=10-")
        # an unparsable range is ignored: the whole object
        self.assertEqual(c.get_object(Bucket=b, Key="r", Range="junk")["Body"].read(),
                         b"0123456789")

    def test_conditionals(self):
        c = self.s3()
        b = self.bucket(c)
        etag = c.put_object(Bucket=b, Key="c", Body=b"v")["ETag"]
        past = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)
        future = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
        c.get_object(Bucket=b, Key="c", IfMatch=etag)
        self.assertCode("PreconditionFailed", c.get_object, Bucket=b, Key="c", IfMatch='"nope"')
        self.assertCode("304", c.get_object, Bucket=b, Key="c", IfNoneMatch=etag)
        # a date in the future holds nothing back: S3 ignores it (LocalStack's
        # test_s3_get_object_preconditions, recorded against S3)
        self.assertEqual(c.get_object(Bucket=b, Key="c", IfModifiedSince=future)["ETag"], etag)
        self.assertCode("304", c.get_object, Bucket=b, Key="c",
                        IfModifiedSince=datetime.datetime.now(datetime.timezone.utc))
        self.assertCode("PreconditionFailed", c.get_object, Bucket=b, Key="c",
                        IfUnmodifiedSince=past)
        # If-Match true wins over If-Unmodified-Since false (S3's precedence)
        c.get_object(Bucket=b, Key="c", IfMatch=etag, IfUnmodifiedSince=past)
        # If-None-Match false wins over If-Modified-Since true
        self.assertCode("304", c.get_object, Bucket=b, Key="c", IfNoneMatch=etag,
                        IfModifiedSince=past)
        self.assertCode("412", c.head_object, Bucket=b, Key="c", IfMatch='"x"')

    def test_conditional_writes(self):
        c = self.s3()
        b = self.bucket(c)
        members = c.meta.service_model.operation_model("PutObject").input_shape.members
        if "IfNoneMatch" not in members:  # an older botocore
            raise unittest.SkipTest("botocore has no conditional writes")
        c.put_object(Bucket=b, Key="once", Body=b"1", IfNoneMatch="*")
        self.assertCode("PreconditionFailed", c.put_object, Bucket=b, Key="once", Body=b"2",
                        IfNoneMatch="*")
        self.assertEqual(c.get_object(Bucket=b, Key="once")["Body"].read(), b"1")
        if "IfMatch" in members:
            etag = c.head_object(Bucket=b, Key="once")["ETag"]
            c.put_object(Bucket=b, Key="once", Body=b"3", IfMatch=etag)
            self.assertCode("PreconditionFailed", c.put_object, Bucket=b, Key="once",
                            Body=b"4", IfMatch=etag)
            self.assertCode("NoSuchKey", c.put_object, Bucket=b, Key="never", Body=b"4",
                            IfMatch=etag)

    def test_content_md5(self):
        c = self.s3()
        b = self.bucket(c)
        good = base64.b64encode(hashlib.md5(b"data").digest()).decode()
        c.put_object(Bucket=b, Key="m", Body=b"data", ContentMD5=good)
        wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
        self.assertCode("BadDigest", c.put_object, Bucket=b, Key="m2", Body=b"data",
                        ContentMD5=wrong)
        # S3 names the value it could not read (LocalStack's test_s3.py
        # snapshot, test_s3_invalid_content_md5, recorded against AWS)
        for bad in ("notbase64!", "__invalid__", "000", "MTIz"):
            err = self.assertCode("InvalidDigest", c.put_object, Bucket=b, Key="m2",
                                  Body=b"data", ContentMD5=bad)["Error"]
            self.assertEqual(err, {"Code": "InvalidDigest", "Content-MD5": bad,
                                   "Message": "The Content-MD5 you specified was invalid."})
        self.assertCode("NoSuchKey", c.get_object, Bucket=b, Key="m2")

    def test_checksums_http_and_https(self):
        for tls in (False, True):
            c = self.s3(tls=tls)
            b = self.bucket(c)
            body = os.urandom(300000)
            algs = ["CRC32", "SHA1", "SHA256"]
            try:
                import awscrt  # noqa: F401  (botocore needs it for CRC32C)
                algs.append("CRC32C")
            except ImportError:
                pass
            for alg in algs:
                r = c.put_object(Bucket=b, Key="ck-" + alg, Body=body, ChecksumAlgorithm=alg)
                self.assertIn("Checksum" + alg, r)
                g = c.get_object(Bucket=b, Key="ck-" + alg, ChecksumMode="ENABLED")
                self.assertEqual(g["Body"].read(), body)
                self.assertEqual(g["Checksum" + alg], r["Checksum" + alg])
            want = base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()
            self.assertEqual(c.head_object(Bucket=b, Key="ck-CRC32",
                                           ChecksumMode="ENABLED")["ChecksumCRC32"], want)
            self.assertCode("BadDigest", c.put_object, Bucket=b, Key="bad", Body=b"abc",
                            ChecksumCRC32="AAAAAA==")
            self.assertCode("NoSuchKey", c.get_object, Bucket=b, Key="bad")

    def test_path_traversal_keys_are_keys(self):
        c = self.s3()
        b = self.bucket(c)
        for k in ("../x", "../../etc/passwd", "a/../../b", "./.", "%2e%2e/y", "sp ace+plus"):
            c.put_object(Bucket=b, Key=k, Body=k.encode())
            self.assertEqual(c.get_object(Bucket=b, Key=k)["Body"].read(), k.encode())
        keys = [o["Key"] for o in c.list_objects_v2(Bucket=b)["Contents"]]
        self.assertIn("../x", keys)
        data = self.server.data_dir
        self.assertFalse(os.path.exists(os.path.join(data, "x")))
        self.assertFalse(os.path.exists(os.path.join(os.path.dirname(data), "x")))
        for root, _, files in os.walk(os.path.join(data, "objects")):
            for f in files:
                self.assertRegex(f, r"^[0-9a-f]{32}$")

    def test_long_keys_up_to_1024_bytes(self):
        c = self.s3()
        b = self.bucket(c)
        c.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
        k1 = "p/" + "a" * 1022
        k2 = "p/" + "a" * 1000 + "b"
        for k in (k1, k2, "p/short"):
            c.put_object(Bucket=b, Key=k, Body=k.encode())
            c.put_object(Bucket=b, Key=k, Body=k.encode() + b"2")
        self.assertEqual(c.get_object(Bucket=b, Key=k1)["Body"].read(), k1.encode() + b"2")
        self.assertEqual(c.get_object(Bucket=b, Key=k2)["Body"].read(), k2.encode() + b"2")
        keys = [o["Key"] for o in c.list_objects_v2(Bucket=b, Prefix="p/")["Contents"]]
        self.assertEqual(sorted(keys), sorted([k1, k2, "p/short"]))
        r = c.list_object_versions(Bucket=b)
        self.assertEqual(sorted(v["Key"] for v in r["Versions"]), sorted([k1, k1, k2, k2,
                                                                           "p/short", "p/short"]))
        c.delete_object(Bucket=b, Key=k1)
        self.assertCode("NoSuchKey", c.get_object, Bucket=b, Key=k1)
        up = c.create_multipart_upload(Bucket=b, Key=k2)["UploadId"]
        self.assertEqual(c.list_multipart_uploads(Bucket=b)["Uploads"][0]["Key"], k2)
        c.abort_multipart_upload(Bucket=b, Key=k2, UploadId=up)
        self.assertCode("KeyTooLongError", c.put_object, Bucket=b, Key="x" * 1025, Body=b"")

    def test_delete_objects(self):
        c = self.s3()
        b = self.bucket(c)
        for i in range(5):
            c.put_object(Bucket=b, Key="d%d" % i, Body=b"x")
        r = c.delete_objects(Bucket=b, Delete={"Objects": [{"Key": "d%d" % i}
                                                           for i in range(3)] + [{"Key": "nope"}]})
        self.assertEqual(sorted(d["Key"] for d in r["Deleted"]), ["d0", "d1", "d2", "nope"])
        self.assertEqual([o["Key"] for o in c.list_objects_v2(Bucket=b)["Contents"]],
                         ["d3", "d4"])
        c.delete_object(Bucket=b, Key="never-existed")

    def test_virtual_host_addressing(self):
        c = self.s3()
        b = self.bucket(c)
        c.put_object(Bucket=b, Key="vh/key", Body=b"virtual")
        url = "http://%s.localhost:%d/vh/key" % (b, self.server.port)
        st, h, body = self.signed_raw("GET", url)
        self.assertEqual((st, body), (200, b"virtual"))
        url = "http://%s.s3.localhost:%d/?list-type=2" % (b, self.server.port)
        st, h, body = self.signed_raw("GET", url)
        self.assertEqual(st, 200)
        self.assertIn(b"<Key>vh/key</Key>", body)


class CopyAndTags(S3Case):
    def test_copy_object(self):
        c = self.s3()
        b = self.bucket(c)
        b2 = self.bucket(c)
        src = c.put_object(Bucket=b, Key="src", Body=b"copy me", ContentType="text/x-a",
                           Metadata={"a": "1"}, Tagging="t=1")
        r = c.copy_object(Bucket=b2, Key="dst", CopySource={"Bucket": b, "Key": "src"})
        self.assertEqual(r["CopyObjectResult"]["ETag"], src["ETag"])
        g = c.get_object(Bucket=b2, Key="dst")
        self.assertEqual(g["Body"].read(), b"copy me")
        self.assertEqual(g["ContentType"], "text/x-a")
        self.assertEqual(g["Metadata"], {"a": "1"})
        self.assertEqual(c.get_object_tagging(Bucket=b2, Key="dst")["TagSet"],
                         [{"Key": "t", "Value": "1"}])
        c.copy_object(Bucket=b2, Key="dst2", CopySource="%s/src" % b,
                      MetadataDirective="REPLACE", ContentType="text/x-b",
                      Metadata={"b": "2"})
        g = c.head_object(Bucket=b2, Key="dst2")
        self.assertEqual((g["ContentType"], g["Metadata"]), ("text/x-b", {"b": "2"}))
        self.assertCode("InvalidRequest", c.copy_object, Bucket=b, Key="src",
                        CopySource={"Bucket": b, "Key": "src"})
        c.copy_object(Bucket=b, Key="src", CopySource={"Bucket": b, "Key": "src"},
                      MetadataDirective="REPLACE", Metadata={"new": "yes"})
        self.assertEqual(c.head_object(Bucket=b, Key="src")["Metadata"], {"new": "yes"})
        self.assertCode("NoSuchKey", c.copy_object, Bucket=b2, Key="x",
                        CopySource={"Bucket": b, "Key": "missing"})
        self.assertCode("NoSuchBucket", c.copy_object, Bucket=b2, Key="x",
                        CopySource={"Bucket": "no-such-bucket-c", "Key": "k"})
        self.assertCode("PreconditionFailed", c.copy_object, Bucket=b2, Key="x",
                        CopySource={"Bucket": b, "Key": "src"}, CopySourceIfMatch='"nope"')
        self.assertCode("PreconditionFailed", c.copy_object, Bucket=b2, Key="x",
                        CopySource={"Bucket": b, "Key": "src"},
                        CopySourceIfNoneMatch=c.head_object(Bucket=b, Key="src")["ETag"])

    def test_copy_a_version_and_upload_part_copy(self):
        c = self.s3()
        b = self.bucket(c)
        c.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
        v1 = c.put_object(Bucket=b, Key="k", Body=b"A" * (5 << 20))["VersionId"]
        c.put_object(Bucket=b, Key="k", Body=b"new")
        r = c.copy_object(Bucket=b, Key="old", CopySource={"Bucket": b, "Key": "k",
                                                             "VersionId": v1})
        self.assertEqual(r["CopySourceVersionId"], v1)
        self.assertEqual(c.head_object(Bucket=b, Key="old")["ContentLength"], 5 << 20)
        up = c.create_multipart_upload(Bucket=b, Key="pc")["UploadId"]
        p1 = c.upload_part_copy(Bucket=b, Key="pc", UploadId=up, PartNumber=1,
                                CopySource={"Bucket": b, "Key": "k", "VersionId": v1})
        p2 = c.upload_part_copy(Bucket=b, Key="pc", UploadId=up, PartNumber=2,
                                CopySource={"Bucket": b, "Key": "k", "VersionId": v1},
                                CopySourceRange="bytes=0-9")
        c.complete_multipart_upload(Bucket=b, Key="pc", UploadId=up, MultipartUpload={"Parts": [
            {"PartNumber": 1, "ETag": p1["CopyPartResult"]["ETag"]},
            {"PartNumber": 2, "ETag": p2["CopyPartResult"]["ETag"]}]})
        self.assertEqual(c.head_object(Bucket=b, Key="pc")["ContentLength"], (5 << 20) + 10)
        up = c.create_multipart_upload(Bucket=b, Key="pc2")["UploadId"]
        self.assertCode("InvalidArgument", c.upload_part_copy, Bucket=b, Key="pc2", UploadId=up,
                        PartNumber=1, CopySource={"Bucket": b, "Key": "k"},
                        CopySourceRange="bytes=5-1")

    def test_object_and_bucket_tagging(self):
        c = self.s3()
        b = self.bucket(c)
        c.put_object(Bucket=b, Key="t", Body=b"x", Tagging="a=1&b=two%20words")
        self.assertEqual(c.head_object(Bucket=b, Key="t")["ResponseMetadata"]["HTTPHeaders"]
                         ["x-amz-tagging-count"], "2")
        tags = c.get_object_tagging(Bucket=b, Key="t")["TagSet"]
        self.assertEqual(sorted((t["Key"], t["Value"]) for t in tags),
                         [("a", "1"), ("b", "two words")])
        c.put_object_tagging(Bucket=b, Key="t", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
        self.assertEqual(c.get_object_tagging(Bucket=b, Key="t")["TagSet"],
                         [{"Key": "k", "Value": "v"}])
        c.delete_object_tagging(Bucket=b, Key="t")
        self.assertEqual(c.get_object_tagging(Bucket=b, Key="t")["TagSet"], [])
        self.assertCode("InvalidTag", c.put_object_tagging, Bucket=b, Key="t", Tagging={
            "TagSet": [{"Key": "k%d" % i, "Value": "v"} for i in range(11)]})
        self.assertCode("InvalidTag", c.put_object_tagging, Bucket=b, Key="t", Tagging={
            "TagSet": [{"Key": "k", "Value": "v"}, {"Key": "k", "Value": "w"}]})
        self.assertCode("NoSuchKey", c.get_object_tagging, Bucket=b, Key="missing")
        self.assertCode("NoSuchTagSet", c.get_bucket_tagging, Bucket=b)
        c.put_bucket_tagging(Bucket=b, Tagging={"TagSet": [{"Key": "env", "Value": "dev"}]})
        self.assertEqual(c.get_bucket_tagging(Bucket=b)["TagSet"],
                         [{"Key": "env", "Value": "dev"}])
        c.delete_bucket_tagging(Bucket=b)
        self.assertCode("NoSuchTagSet", c.get_bucket_tagging, Bucket=b)


class Authorization(S3Case):
    def test_iam_policies_decide(self):
        import json
        iam = self.server.boto3("iam")
        iam.create_user(UserName="reader")
        k = iam.create_access_key(UserName="reader")["AccessKey"]
        c = self.s3()
        b = self.bucket(c)
        c.put_object(Bucket=b, Key="k", Body=b"v")
        iam.put_user_policy(UserName="reader", PolicyName="read", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
                "Resource": ["arn:aws:s3:::%s" % b, "arn:aws:s3:::%s/*" % b]}]}))
        u = self.server.boto3("s3", access_key=k["AccessKeyId"], secret_key=k["SecretAccessKey"],
                              s3={"addressing_style": "path"})
        deadline = time.time() + 10
        while True:  # the new key reaches the region's key table
            try:
                self.assertEqual(u.get_object(Bucket=b, Key="k")["Body"].read(), b"v")
                break
            except ClientError:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        self.assertEqual([o["Key"] for o in u.list_objects_v2(Bucket=b)["Contents"]], ["k"])
        r = self.assertCode("AccessDenied", u.put_object, Bucket=b, Key="x", Body=b"1")
        self.assertIn("s3:PutObject", r["Error"]["Message"])
        self.assertCode("AccessDenied", u.get_object, Bucket=b, Key="k", VersionId="null")
        self.assertCode("AccessDenied", u.delete_object, Bucket=b, Key="k")
        self.assertCode("AccessDenied", u.create_bucket, Bucket="denied-bucket-1")
        self.assertCode("NoSuchKey", c.get_object, Bucket=b, Key="x")


class Configurations(S3Case):
    def test_ownership_public_access_block_and_acls(self):
        c = self.s3()
        b = self.bucket(c)
        own = c.get_bucket_ownership_controls(Bucket=b)["OwnershipControls"]
        self.assertEqual(own["Rules"][0]["ObjectOwnership"], "BucketOwnerEnforced")
        pab = c.get_public_access_block(Bucket=b)["PublicAccessBlockConfiguration"]
        self.assertTrue(all(pab.values()), pab)
        self.assertCode("AccessControlListNotSupported", c.put_object, Bucket=b, Key="k",
                        Body=b"x", ACL="public-read")
        c.put_object(Bucket=b, Key="k", Body=b"x", ACL="bucket-owner-full-control")
        self.assertEqual(c.get_object_acl(Bucket=b, Key="k")["Grants"][0]["Permission"],
                         "FULL_CONTROL")
        self.assertCode("AccessControlListNotSupported", c.put_bucket_acl, Bucket=b,
                        ACL="public-read")
        self.assertCode("InvalidBucketAclWithObjectOwnership", c.create_bucket,
                        Bucket="acl-bucket-x", ACL="public-read")
        c.delete_public_access_block(Bucket=b)
        self.assertCode("NoSuchPublicAccessBlockConfiguration", c.get_public_access_block,
                        Bucket=b)
        c.put_public_access_block(Bucket=b, PublicAccessBlockConfiguration={
            "BlockPublicAcls": False, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True})
        self.assertFalse(c.get_public_access_block(Bucket=b)
                         ["PublicAccessBlockConfiguration"]["BlockPublicAcls"])
        c.put_bucket_ownership_controls(Bucket=b, OwnershipControls={
            "Rules": [{"ObjectOwnership": "ObjectWriter"}]})
        c.put_object(Bucket=b, Key="k2", Body=b"x", ACL="private")
        c.delete_bucket_ownership_controls(Bucket=b)
        self.assertCode("OwnershipControlsNotFoundError", c.get_bucket_ownership_controls,
                        Bucket=b)
        self.assertCode("MalformedXML", c.put_bucket_ownership_controls, Bucket=b,
                        OwnershipControls={"Rules": [{"ObjectOwnership": "Nobody"}]})

    def test_unknown_canned_acl_refused(self):
        """An x-amz-acl that is no canned ACL is InvalidArgument, and changes nothing."""
        c = self.s3()
        b = self.bucket(c)
        c.delete_public_access_block(Bucket=b)
        c.put_bucket_ownership_controls(Bucket=b, OwnershipControls={
            "Rules": [{"ObjectOwnership": "ObjectWriter"}]})
        self.assertCode("InvalidArgument", c.put_object, Bucket=b, Key="k", Body=b"x",
                        ACL="public")
        self.assertCode("NoSuchKey", c.get_object, Bucket=b, Key="k")
        c.put_object(Bucket=b, Key="k", Body=b"x", ACL="public-read")
        self.assertCode("InvalidArgument", c.put_object_acl, Bucket=b, Key="k", ACL="privat")
        grants = c.get_object_acl(Bucket=b, Key="k")["Grants"]
        self.assertIn("READ", [g["Permission"] for g in grants])
        self.assertCode("InvalidArgument", c.copy_object, Bucket=b, Key="k2",
                        CopySource={"Bucket": b, "Key": "k"}, ACL="Private")
        self.assertCode("InvalidArgument", c.create_multipart_upload, Bucket=b, Key="k3",
                        ACL="everyone")
        self.assertEqual(c.list_multipart_uploads(Bucket=b).get("Uploads", []), [])
        self.assertCode("InvalidArgument", c.create_bucket, Bucket=b + "-x", ACL="nobody")
        self.assertCode("404", c.head_bucket, Bucket=b + "-x")
        self.assertEqual([o["Key"] for o in c.list_objects_v2(Bucket=b)["Contents"]], ["k"])

    def test_invalid_argument_names_the_argument(self):
        """InvalidArgument says which argument was at fault and its value, as S3 does."""
        c = self.s3()
        b = self.bucket(c)
        c.put_object(Bucket=b, Key="k", Body=b"x")
        up = c.create_multipart_upload(Bucket=b, Key="m")["UploadId"]
        cases = [
            ("x-amz-acl", "public", c.put_object,
             dict(Bucket=b, Key="k2", Body=b"x", ACL="public")),
            ("max-keys", "-1", c.list_objects_v2, dict(Bucket=b, MaxKeys=-1)),
            ("max-keys", "-5", c.list_object_versions, dict(Bucket=b, MaxKeys=-5)),
            ("encoding-type", "xml", c.list_objects, dict(Bucket=b, EncodingType="xml")),
            ("continuation-token", "!!", c.list_objects_v2,
             dict(Bucket=b, ContinuationToken="!!")),
            ("partNumber", "0", c.upload_part,
             dict(Bucket=b, Key="m", UploadId=up, PartNumber=0, Body=b"x")),
            ("versionId", "bogus", c.get_object, dict(Bucket=b, Key="k", VersionId="bogus")),
            ("x-amz-metadata-directive", "MOVE", c.copy_object,
             dict(Bucket=b, Key="k3", CopySource={"Bucket": b, "Key": "k"},
                  MetadataDirective="MOVE")),
            ("x-amz-server-side-encryption", "AES512", c.put_object,
             dict(Bucket=b, Key="k4", Body=b"x", ServerSideEncryption="AES512")),
            ("x-amz-website-redirect-location", "elsewhere", c.put_object,
             dict(Bucket=b, Key="k5", Body=b"x", WebsiteRedirectLocation="elsewhere")),
        ]
        for name, value, fn, kw in cases:
            with self.subTest(argument=name):
                err = self.assertCode("InvalidArgument", fn, **kw)["Error"]
                self.assertEqual(err.get("ArgumentName"), name, err)
                self.assertEqual(err.get("ArgumentValue"), value, err)
        # S3 names this one's value in the message, not in ArgumentValue
        # (LocalStack's test_bucket_ownership_controls_exc snapshot)
        err = self.assertCode("InvalidArgument", c.create_bucket, Bucket=b + "-o",
                              ObjectOwnership="Anyone")["Error"]
        self.assertEqual(err, {"Code": "InvalidArgument", "ArgumentName": "x-amz-object-ownership",
                               "Message": "Invalid x-amz-object-ownership header: Anyone"})
        self.assertEqual(sorted(o["Key"] for o in c.list_objects_v2(Bucket=b)["Contents"]),
                         ["k"])  # nothing written

    def test_website_logging_lifecycle_stored(self):
        c = self.s3()
        b = self.bucket(c)
        self.assertCode("NoSuchWebsiteConfiguration", c.get_bucket_website, Bucket=b)
        c.put_bucket_website(Bucket=b, WebsiteConfiguration={
            "IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "err.html"}})
        w = c.get_bucket_website(Bucket=b)
        self.assertEqual(w["IndexDocument"]["Suffix"], "index.html")
        self.assertEqual(w["ErrorDocument"]["Key"], "err.html")
        c.delete_bucket_website(Bucket=b)
        self.assertCode("NoSuchWebsiteConfiguration", c.get_bucket_website, Bucket=b)
        self.assertNotIn("LoggingEnabled", c.get_bucket_logging(Bucket=b))
        c.put_bucket_logging(Bucket=b, BucketLoggingStatus={"LoggingEnabled": {
            "TargetBucket": b, "TargetPrefix": "logs/"}})
        self.assertEqual(c.get_bucket_logging(Bucket=b)["LoggingEnabled"]["TargetPrefix"],
                         "logs/")
        self.assertCode("NoSuchLifecycleConfiguration", c.get_bucket_lifecycle_configuration,
                        Bucket=b)
        c.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": [{
            "ID": "expire", "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
            "Expiration": {"Days": 1},
            "NoncurrentVersionExpiration": {"NoncurrentDays": 2},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 3}}]})
        rules = c.get_bucket_lifecycle_configuration(Bucket=b)["Rules"]
        self.assertEqual(rules[0]["ID"], "expire")
        self.assertEqual(rules[0]["Expiration"]["Days"], 1)
        c.delete_bucket_lifecycle(Bucket=b)
        self.assertCode("NoSuchLifecycleConfiguration", c.get_bucket_lifecycle_configuration,
                        Bucket=b)


class Listing(S3Case):
    def test_list_v2_delimiter_pagination_encoding(self):
        c = self.s3()
        b = self.bucket(c)
        keys = ["a/1", "a/2", "b/x/1", "c", "d e", "photos/2024/jan.jpg", "photos/2025/feb.jpg"]
        for k in keys:
            c.put_object(Bucket=b, Key=k, Body=b"1")
        r = c.list_objects_v2(Bucket=b)
        self.assertEqual([o["Key"] for o in r["Contents"]], sorted(keys))
        self.assertEqual(r["KeyCount"], len(keys))
        r = c.list_objects_v2(Bucket=b, Delimiter="/")
        self.assertEqual([o["Key"] for o in r["Contents"]], ["c", "d e"])
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], ["a/", "b/", "photos/"])
        r = c.list_objects_v2(Bucket=b, Prefix="photos/", Delimiter="/")
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]],
                         ["photos/2024/", "photos/2025/"])
        seen, token = [], None
        while True:
            kw = {"ContinuationToken": token} if token else {}
            r = c.list_objects_v2(Bucket=b, MaxKeys=2, Delimiter="/", **kw)
            seen += [o["Key"] for o in r.get("Contents", [])]
            seen += [p["Prefix"] for p in r.get("CommonPrefixes", [])]
            if not r["IsTruncated"]:
                break
            token = r["NextContinuationToken"]
        self.assertEqual(sorted(seen), ["a/", "b/", "c", "d e", "photos/"])
        r = c.list_objects_v2(Bucket=b, StartAfter="c")
        self.assertEqual(r["Contents"][0]["Key"], "d e")
        r = c.list_objects_v2(Bucket=b, FetchOwner=True, MaxKeys=1)
        self.assertIn("Owner", r["Contents"][0])
        # encoding-type=url asked for by the caller: botocore leaves the keys encoded
        r = c.list_objects_v2(Bucket=b, Prefix="d", EncodingType="url")
        self.assertEqual(r["Contents"][0]["Key"], "d%20e")
        self.assertCode("InvalidArgument", c.list_objects_v2, Bucket=b, MaxKeys=-1)

    def test_list_v1_markers(self):
        c = self.s3()
        b = self.bucket(c)
        for k in ("k1", "k2", "k3", "p/q"):
            c.put_object(Bucket=b, Key=k, Body=b"1")
        r = c.list_objects(Bucket=b, MaxKeys=2)
        self.assertTrue(r["IsTruncated"])
        self.assertEqual([o["Key"] for o in r["Contents"]], ["k1", "k2"])
        r = c.list_objects(Bucket=b, Marker="k2")
        self.assertEqual([o["Key"] for o in r["Contents"]], ["k3", "p/q"])
        r = c.list_objects(Bucket=b, Delimiter="/", MaxKeys=3)
        self.assertEqual(r["NextMarker"], "k3")
        r = c.list_objects(Bucket=b, Delimiter="/", Marker="k3")
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], ["p/"])


class Versioning(S3Case):
    def test_versions_markers_and_null(self):
        c = self.s3()
        b = self.bucket(c)
        self.assertNotIn("Status", c.get_bucket_versioning(Bucket=b))
        c.put_object(Bucket=b, Key="k", Body=b"null-version")
        c.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
        self.assertEqual(c.get_bucket_versioning(Bucket=b)["Status"], "Enabled")
        v1 = c.put_object(Bucket=b, Key="k", Body=b"one")["VersionId"]
        v2 = c.put_object(Bucket=b, Key="k", Body=b"two")["VersionId"]
        self.assertNotEqual(v1, v2)
        self.assertEqual(c.get_object(Bucket=b, Key="k")["Body"].read(), b"two")
        self.assertEqual(c.get_object(Bucket=b, Key="k", VersionId=v1)["Body"].read(), b"one")
        self.assertEqual(c.get_object(Bucket=b, Key="k", VersionId="null")["Body"].read(),
                         b"null-version")
        d = c.delete_object(Bucket=b, Key="k")
        self.assertTrue(d["DeleteMarker"])
        self.assertCode("NoSuchKey", c.get_object, Bucket=b, Key="k")
        self.assertCode("MethodNotAllowed", c.get_object, Bucket=b, Key="k",
                        VersionId=d["VersionId"])
        self.assertCode("NoSuchVersion", c.get_object, Bucket=b, Key="k",
                        VersionId="0" * 32)
        r = c.list_object_versions(Bucket=b)
        self.assertEqual([v["VersionId"] for v in r["Versions"]], [v2, v1, "null"])
        self.assertEqual([m["VersionId"] for m in r["DeleteMarkers"]], [d["VersionId"]])
        self.assertTrue(r["DeleteMarkers"][0]["IsLatest"])
        self.assertFalse(any(v["IsLatest"] for v in r["Versions"]))
        # pages of one entry with key and version-id markers
        seen, km, vm = [], None, None
        while True:
            kw = {"KeyMarker": km, "VersionIdMarker": vm} if km else {}
            r = c.list_object_versions(Bucket=b, MaxKeys=1, **kw)
            seen += [v["VersionId"] for v in r.get("Versions", []) + r.get("DeleteMarkers", [])]
            if not r["IsTruncated"]:
                break
            km, vm = r["NextKeyMarker"], r["NextVersionIdMarker"]
        self.assertEqual(seen, [d["VersionId"], v2, v1, "null"])
        # removing the marker brings the previous version back
        c.delete_object(Bucket=b, Key="k", VersionId=d["VersionId"])
        self.assertEqual(c.get_object(Bucket=b, Key="k")["Body"].read(), b"two")
        c.delete_object(Bucket=b, Key="k", VersionId=v2)
        self.assertEqual(c.get_object(Bucket=b, Key="k")["Body"].read(), b"one")
        # Suspended: writes replace the null version
        c.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Suspended"})
        r = c.put_object(Bucket=b, Key="k", Body=b"s1")
        self.assertEqual(r.get("VersionId"), "null")
        c.put_object(Bucket=b, Key="k", Body=b"s2")
        r = c.list_object_versions(Bucket=b, Prefix="k")
        self.assertEqual([v["VersionId"] for v in r["Versions"]], ["null", v1])
        self.assertEqual(c.get_object(Bucket=b, Key="k", VersionId="null")["Body"].read(), b"s2")
        self.assertCode("MalformedXML", c.put_bucket_versioning, Bucket=b,
                        VersioningConfiguration={"Status": "Bogus"})


class Multipart(S3Case):
    def test_multipart_and_its_errors(self):
        c = self.s3()
        b = self.bucket(c)
        up = c.create_multipart_upload(Bucket=b, Key="mp", ContentType="video/mp4",
                                       Metadata={"m": "1"})["UploadId"]
        p1 = os.urandom(5 * 1024 * 1024)
        p2 = b"tail"
        # boto3 >= 1.36 adds a CRC32 to each part, which S3 then wants listed back
        r1 = c.upload_part(Bucket=b, Key="mp", UploadId=up, PartNumber=1, Body=p1)
        r2 = c.upload_part(Bucket=b, Key="mp", UploadId=up, PartNumber=2, Body=p2)
        e1, e2 = r1["ETag"], r2["ETag"]
        parts = c.list_parts(Bucket=b, Key="mp", UploadId=up)["Parts"]
        self.assertEqual([(p["PartNumber"], p["Size"]) for p in parts], [(1, len(p1)), (2, 4)])
        ups = c.list_multipart_uploads(Bucket=b)["Uploads"]
        self.assertEqual([u["UploadId"] for u in ups], [up])
        self.assertCode("InvalidPartOrder", c.complete_multipart_upload, Bucket=b, Key="mp",
                        UploadId=up, MultipartUpload={"Parts": [
                            completed(2, r2), completed(1, r1)]})
        self.assertCode("InvalidPart", c.complete_multipart_upload, Bucket=b, Key="mp",
                        UploadId=up, MultipartUpload={"Parts": [
                            {"PartNumber": 1, "ETag": '"0000"'}]})
        # both faults in one list: the order is S3's answer, wherever the
        # unknown part stands (a wrong ETag first, a part never uploaded first)
        for bad in ([{"PartNumber": 1, "ETag": '"0000"'}, completed(3, r2), completed(2, r2)],
                    [{"PartNumber": 7, "ETag": e1}, completed(1, r1)]):
            self.assertCode("InvalidPartOrder", c.complete_multipart_upload, Bucket=b, Key="mp",
                            UploadId=up, MultipartUpload={"Parts": bad})
        if "ChecksumCRC32" in r1:  # left out of the list
            self.assertCode("InvalidPart", c.complete_multipart_upload, Bucket=b, Key="mp",
                            UploadId=up, MultipartUpload={"Parts": [
                                {"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
        r = c.complete_multipart_upload(Bucket=b, Key="mp", UploadId=up, MultipartUpload={
            "Parts": [completed(1, r1), completed(2, r2)]})
        want = hashlib.md5(hashlib.md5(p1).digest() + hashlib.md5(p2).digest()).hexdigest()
        self.assertEqual(r["ETag"], '"%s-2"' % want)
        g = c.get_object(Bucket=b, Key="mp")
        self.assertEqual(g["Body"].read(), p1 + p2)
        self.assertEqual(g["ContentType"], "video/mp4")
        self.assertEqual(g["Metadata"], {"m": "1"})
        self.assertCode("NoSuchUpload", c.list_parts, Bucket=b, Key="mp", UploadId=up)
        # EntityTooSmall: a part other than the last under 5 MiB
        up = c.create_multipart_upload(Bucket=b, Key="small")["UploadId"]
        r1 = c.upload_part(Bucket=b, Key="small", UploadId=up, PartNumber=1, Body=b"a")
        r2 = c.upload_part(Bucket=b, Key="small", UploadId=up, PartNumber=2, Body=b"b")
        self.assertCode("EntityTooSmall", c.complete_multipart_upload, Bucket=b, Key="small",
                        UploadId=up, MultipartUpload={"Parts": [
                            completed(1, r1), completed(2, r2)]})
        c.abort_multipart_upload(Bucket=b, Key="small", UploadId=up)
        self.assertCode("NoSuchUpload", c.upload_part, Bucket=b, Key="small", UploadId=up,
                        PartNumber=3, Body=b"c")
        self.assertCode("NoSuchUpload", c.abort_multipart_upload, Bucket=b, Key="small",
                        UploadId="f" * 32)
        self.assertCode("InvalidArgument", c.upload_part, Bucket=b, Key="small", UploadId=up,
                        PartNumber=10001, Body=b"c")
        self.assertNotIn("Uploads", c.list_multipart_uploads(Bucket=b))

    def test_list_multipart_uploads_markers_and_delimiter(self):
        c = self.s3()
        b = self.bucket(c)
        ids = {}
        for k in ("a/1", "a/2", "b", "b", "c"):
            ids.setdefault(k, []).append(c.create_multipart_upload(Bucket=b, Key=k)["UploadId"])
        seen, km, um = [], None, None
        while True:
            kw = {"KeyMarker": km, "UploadIdMarker": um or ""} if km else {}
            r = c.list_multipart_uploads(Bucket=b, MaxUploads=2, **kw)
            seen += [(u["Key"], u["UploadId"]) for u in r.get("Uploads", [])]
            if not r["IsTruncated"]:
                break
            km, um = r["NextKeyMarker"], r.get("NextUploadIdMarker")
        self.assertEqual(sorted(seen), sorted((k, i) for k, l in ids.items() for i in l))
        r = c.list_multipart_uploads(Bucket=b, Delimiter="/")
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], ["a/"])
        self.assertEqual(sorted(u["Key"] for u in r["Uploads"]), ["b", "b", "c"])
        r = c.list_multipart_uploads(Bucket=b, Prefix="a/")
        self.assertEqual([u["Key"] for u in r["Uploads"]], ["a/1", "a/2"])


class Presigned(S3Case):
    def test_presigned_sigv4_and_sigv2_with_curl(self):
        for sv in ("s3v4", "s3"):
            c = self.s3(signature_version=sv)
            b = self.bucket(c)
            put = c.generate_presigned_url("put_object", Params={"Bucket": b, "Key": "p k"},
                                           ExpiresIn=300)
            # no Content-Type: SigV2 signs it, and the URL was signed without one
            st, body = self.curl("-X", "PUT", "-H", "Content-Type:", "--data-binary",
                                 "presigned body", put)
            self.assertEqual(st, 200, (sv, put, body))
            get = c.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "p k"},
                                           ExpiresIn=300)
            st, body = self.curl(get)
            self.assertEqual((st, body), (200, b"presigned body"), (sv, get))
            if sv == "s3":
                self.assertIn("AWSAccessKeyId=", get)
                self.assertIn("Signature=", get)
            # a long signed override (SigV2 signs response-* subresources by value)
            name = "attachment; filename=" + "f" * 6000
            get = c.generate_presigned_url("get_object", Params={
                "Bucket": b, "Key": "p k", "ResponseContentDisposition": name}, ExpiresIn=300)
            st, body = self.curl("-D", "-", get)
            self.assertEqual(st, 200, (sv, body[:300]))
            self.assertIn(name.encode(), body)
            # tampered signature
            st, body = self.curl(get.replace("Signature=", "Signature=AA"))
            self.assertEqual(st, 403)
            self.assertIn(b"SignatureDoesNotMatch", body)
            # expired
            old = c.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "p k"},
                                           ExpiresIn=1)
            time.sleep(2.1)
            st, body = self.curl(old)
            self.assertEqual(st, 403)
            self.assertIn(b"Request has expired", body)

    def test_presigned_sigv4_refuses_unsigned_amz_headers(self):
        # S3 answers x-amz-* headers a presigned URL did not sign with
        # AccessDenied naming them (LocalStack's
        # test_put_object_with_md5_and_chunk_signature_bad_headers); a
        # presigned SigV2 URL signs no such header and is refused on its
        # signature
        c = self.s3(signature_version="s3v4")
        b = self.bucket(c)
        put = c.generate_presigned_url("put_object", Params={"Bucket": b, "Key": "p"},
                                       ExpiresIn=300)
        st, body = self.curl("-X", "PUT", "-H", "Content-Type:", "-H",
                             "X-Amz-Content-Sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
                             "-H", "X-Amz-Date: 20211122T191045Z", "--data-binary", "test", put)
        self.assertEqual(st, 403)
        self.assertIn(b"<Code>AccessDenied</Code><Message>There were headers present in the "
                      b"request which were not signed</Message><HeadersNotSigned>"
                      b"x-amz-content-sha256, x-amz-date</HeadersNotSigned>", body)
        self.assertCode("NoSuchKey", c.get_object, Bucket=b, Key="p")
        # signed ones pass
        put = c.generate_presigned_url("put_object", Params={
            "Bucket": b, "Key": "p", "Metadata": {"m": "1"}}, ExpiresIn=300)
        st, body = self.curl("-X", "PUT", "-H", "Content-Type:", "-H", "x-amz-meta-m: 1",
                             "--data-binary", "test", put)
        self.assertEqual(st, 200, body)

    def test_sigv2_header_auth(self):
        c = self.s3(signature_version="s3")
        b = self.bucket(c)
        c.put_object(Bucket=b, Key="v2", Body=b"sigv2 header")
        self.assertEqual(c.get_object(Bucket=b, Key="v2")["Body"].read(), b"sigv2 header")
        bad = self.server.boto3("s3", secret_key="wrong" * 8, signature_version="s3",
                                s3={"addressing_style": "path"})
        self.assertCode("SignatureDoesNotMatch", bad.get_object, Bucket=b, Key="v2")
        other = self.server.boto3("s3", access_key="AKIDNOTREAL0000", signature_version="s3",
                                  s3={"addressing_style": "path"})
        self.assertCode("InvalidAccessKeyId", other.get_object, Bucket=b, Key="v2")


class BadInput(S3Case):
    def _chunked(self, b, key, chunks, break_sig=False, tls=False):
        """A STREAMING-AWS4-HMAC-SHA256-PAYLOAD upload signed by hand."""
        now = datetime.datetime.now(datetime.timezone.utc)
        amz = now.strftime("%Y%m%dT%H%M%SZ")
        date = amz[:8]
        region = self.server.region
        total = sum(len(x) for x in chunks)
        framed_len = 0
        sig_len = len(";chunk-signature=") + 64
        for x in chunks + [b""]:
            framed_len += len("%x" % len(x)) + sig_len + 2 + len(x) + 2
        headers = {
            "Host": "127.0.0.1:%d" % self.server.port,
            "x-amz-date": amz,
            "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
            "x-amz-decoded-content-length": str(total),
            "content-encoding": "aws-chunked",
            "content-length": str(framed_len),
        }
        path = "/%s/%s" % (b, key)
        signed = sorted(k.lower() for k in headers)
        canon_headers = "".join("%s:%s\n" % (k, headers[[h for h in headers
                                                          if h.lower() == k][0]].strip())
                                for k in signed)
        creq = "\n".join(["PUT", path, "", canon_headers, ";".join(signed),
                          "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"])
        scope = "%s/%s/s3/aws4_request" % (date, region)
        sts = "\n".join(["AWS4-HMAC-SHA256", amz, scope,
                         hashlib.sha256(creq.encode()).hexdigest()])
        k = th._hmac(("AWS4" + self.server.secret_key).encode(), date)
        k = th._hmac(k, region)
        k = th._hmac(k, "s3")
        k = th._hmac(k, "aws4_request")
        import hmac as _h
        seed = _h.new(k, sts.encode(), hashlib.sha256).hexdigest()
        headers["Authorization"] = ("AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, "
                                    "Signature=%s" % (self.server.access_key, scope,
                                                      ";".join(signed), seed))
        prev, body = seed, b""
        for i, x in enumerate(chunks + [b""]):
            csts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz, scope, prev,
                              hashlib.sha256(b"").hexdigest(), hashlib.sha256(x).hexdigest()])
            sig = _h.new(k, csts.encode(), hashlib.sha256).hexdigest()
            if break_sig and i == 1:
                sig = "0" * 64
            body += b"%x;chunk-signature=%s\r\n%s\r\n" % (len(x), sig.encode(), x)
            prev = sig
        conn = self.server.connection()
        try:
            conn.putrequest("PUT", path, skip_host=True, skip_accept_encoding=True)
            for hk, hv in headers.items():
                conn.putheader(hk, hv)
            conn.endheaders(body)
            r = conn.getresponse()
            return r.status, r.read()
        finally:
            conn.close()

    def test_signed_chunks(self):
        c = self.s3()
        b = self.bucket(c)
        chunks = [os.urandom(65536), os.urandom(65536), os.urandom(1000)]
        st, body = self._chunked(b, "good", chunks)
        self.assertEqual(st, 200, body)
        self.assertEqual(c.get_object(Bucket=b, Key="good")["Body"].read(), b"".join(chunks))
        st, body = self._chunked(b, "bad", chunks, break_sig=True)
        self.assertEqual(st, 403, body)
        self.assertIn(b"SignatureDoesNotMatch", body)
        self.assertCode("NoSuchKey", c.get_object, Bucket=b, Key="bad")
        self.assertEqual(os.listdir(os.path.join(self.server.data_dir, "objects", "tmp")), [])

    def test_payload_hash_mismatch(self):
        c = self.s3()
        b = self.bucket(c)
        # signed for "xyz", sends "abc"
        st, _, body = self.signed_raw("PUT", "%s/%s/h" % (self.server.url(), b), body=b"xyz",
                                      send_body=b"abc")
        self.assertEqual(st, 400, body)
        self.assertIn(b"XAmzContentSHA256Mismatch", body)
        self.assertCode("NoSuchKey", c.get_object, Bucket=b, Key="h")

    def test_early_refusals_before_the_body(self):
        c = self.s3()
        b = self.bucket(c)
        # Expect: 100-continue with a bad signature: refused before the upload
        url = c.generate_presigned_url("put_object", Params={"Bucket": b, "Key": "e"},
                                       ExpiresIn=300).replace("Signature=", "Signature=00")
        u = urllib.parse.urlsplit(url)
        for headers in ({"Content-Length": str(10 << 20), "Expect": "100-continue"},
                        {"Content-Length": str(6 << 30), "Expect": "100-continue"}):
            conn = self.server.connection()
            try:
                conn.putrequest("PUT", u.path + "?" + u.query)
                for k, v in headers.items():
                    conn.putheader(k, v)
                conn.endheaders()
                r = conn.getresponse()  # no body was sent
                body = r.read()
                self.assertEqual(r.status, 403, body)
                self.assertIn(b"SignatureDoesNotMatch", body)
            finally:
                conn.close()
        # over 5 GiB: EntityTooLarge, also before the body
        url = c.generate_presigned_url("put_object", Params={"Bucket": b, "Key": "e"},
                                       ExpiresIn=300)
        u = urllib.parse.urlsplit(url)
        conn = self.server.connection()
        try:
            conn.putrequest("PUT", u.path + "?" + u.query)
            conn.putheader("Content-Length", str(6 << 30))
            conn.putheader("Expect", "100-continue")
            conn.endheaders()
            r = conn.getresponse()
            body = r.read()
            self.assertEqual(r.status, 400, body)
            self.assertIn(b"EntityTooLarge", body)
        finally:
            conn.close()
        self.assertCode("NoSuchKey", c.get_object, Bucket=b, Key="e")

    def test_huge_headers_and_still_serving(self):
        c = self.s3()
        b = self.bucket(c)
        conn = self.server.connection()
        try:
            conn.putrequest("GET", "/%s/k" % b)
            for i in range(200):
                conn.putheader("x-amz-meta-h%d" % i, "v" * 200)
            conn.endheaders()
            r = conn.getresponse()
            r.read()
            self.assertGreaterEqual(r.status, 400)
        except (ConnectionError, http.client.HTTPException):
            pass
        finally:
            conn.close()
        c.put_object(Bucket=b, Key="alive", Body=b"yes")
        self.assertEqual(c.get_object(Bucket=b, Key="alive")["Body"].read(), b"yes")


class Restart(S3Case):
    def test_kill_mid_upload_leaves_nothing_and_loses_nothing(self):
        c = self.s3()
        b = self.bucket(c)
        c.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
        kept = {}
        for i in range(5):
            body = os.urandom(100000 + i)
            kept["k%d" % i] = (c.put_object(Bucket=b, Key="k%d" % i, Body=body)["VersionId"],
                               body)
        c.put_object(Bucket=b, Key="k0", Body=b"overwritten")
        url = c.generate_presigned_url("put_object", Params={"Bucket": b, "Key": "half"},
                                       ExpiresIn=300)
        u = urllib.parse.urlsplit(url)
        conn = self.server.connection()
        conn.putrequest("PUT", u.path + "?" + u.query)
        conn.putheader("Content-Length", str(50 << 20))
        conn.endheaders()
        for _ in range(10):
            conn.send(os.urandom(1 << 20))
        time.sleep(0.3)
        objects = os.path.join(self.server.data_dir, "objects")
        self.assertTrue(os.listdir(os.path.join(objects, "tmp")))  # the upload in progress
        # a body whose metadata commit never happened
        os.makedirs(os.path.join(objects, "ff"), exist_ok=True)
        with open(os.path.join(objects, "ff", "f" * 32), "wb") as f:
            f.write(b"orphan")
        self.server.kill()
        conn.close()
        self.server.start()
        c = self.s3()
        self.assertCode("NoSuchKey", c.get_object, Bucket=b, Key="half")
        for k, (vid, body) in kept.items():
            self.assertEqual(c.get_object(Bucket=b, Key=k, VersionId=vid)["Body"].read(), body)
        self.assertEqual(c.get_object(Bucket=b, Key="k0")["Body"].read(), b"overwritten")
        self.assertEqual(os.listdir(os.path.join(objects, "tmp")), [])
        files = sum(len(fs) for root, _, fs in os.walk(objects))
        self.assertEqual(files, 6)  # five versions and the overwrite, nothing else
        self.assertIn("s3_orphans_removed", self.server.stderr())


class Flushes(S3Case):
    def test_concurrent_uploads_acknowledged_survive_kill(self):
        # uploads wait for their flushes together on the flush threads; every
        # acknowledged one (objects and parts) is there after kill -9
        import concurrent.futures
        c = self.s3(max_pool_connections=16)
        b = self.bucket(c)
        up = c.create_multipart_upload(Bucket=b, Key="mp")["UploadId"]
        bodies = {"c%03d" % i: os.urandom(1000 + i) for i in range(96)}
        parts = {n: os.urandom(5 << 20) if n < 3 else b"tail" for n in range(1, 4)}

        def put(k):
            return c.put_object(Bucket=b, Key=k, Body=bodies[k])["ETag"]

        def part(n):
            return completed(n, c.upload_part(Bucket=b, Key="mp", UploadId=up, PartNumber=n,
                                              Body=parts[n]))

        with concurrent.futures.ThreadPoolExecutor(16) as ex:
            etags = dict(zip(bodies, ex.map(put, bodies)))
            part_etags = dict(zip(parts, ex.map(part, parts)))
        for k, body in bodies.items():
            self.assertEqual(etags[k], '"%s"' % hashlib.md5(body).hexdigest())
        self.server.kill()
        self.server.start()
        c = self.s3()
        for k, body in bodies.items():
            self.assertEqual(c.get_object(Bucket=b, Key=k)["Body"].read(), body)
        c.complete_multipart_upload(
            Bucket=b, Key="mp", UploadId=up,
            MultipartUpload={"Parts": [part_etags[n] for n in sorted(parts)]})
        self.assertEqual(c.get_object(Bucket=b, Key="mp")["Body"].read(),
                         b"".join(parts[n] for n in sorted(parts)))

    def test_body_folders_made_at_start_and_again_when_gone(self):
        objects = os.path.join(self.server.data_dir, "objects")
        folders = ["%02x" % i for i in range(256)]
        self.assertTrue(all(os.path.isdir(os.path.join(objects, d)) for d in folders))
        c = self.s3()
        b = self.bucket(c)
        for d in folders:  # an operator emptied the folder tree by hand
            if not os.listdir(os.path.join(objects, d)):
                os.rmdir(os.path.join(objects, d))
        for i in range(4):
            c.put_object(Bucket=b, Key="g%d" % i, Body=b"again %d" % i)
        for i in range(4):
            self.assertEqual(c.get_object(Bucket=b, Key="g%d" % i)["Body"].read(),
                             b"again %d" % i)
        self.server.kill()
        self.server.start()
        self.assertTrue(all(os.path.isdir(os.path.join(objects, d)) for d in folders))
        self.assertEqual(self.s3().get_object(Bucket=b, Key="g0")["Body"].read(), b"again 0")


class AwsCli(S3Case):
    def test_cli_cp_multipart_100mib_and_s3api(self):
        clients = [cl for cl in th.find_clients() if cl.kind == "cli" and not cl.missing]
        if not clients:
            raise unittest.SkipTest("no aws CLI")
        tmp = tempfile.mkdtemp()
        try:
            src = os.path.join(tmp, "big")
            with open(src, "wb") as f:
                for _ in range(100):
                    f.write(os.urandom(1 << 20))
            for cl in clients:
                for tls in (False, True):
                    env = self.server.env(tls)
                    ep = ["--endpoint-url", self.server.url(tls)]
                    b = "cli-" + th.random_key(8).lower()

                    def run(*a):
                        quiet = ["--only-show-errors"] if a[1] in ("cp", "rm") else []
                        return subprocess.run(cl.argv + list(a) + ep + quiet, env=env,
                                              capture_output=True, text=True, timeout=300)
                    p = run("s3", "mb", "s3://" + b)
                    self.assertEqual(p.returncode, 0, p.stderr)
                    p = run("s3", "cp", src, "s3://%s/big" % b)
                    self.assertEqual(p.returncode, 0, (cl.name, tls, p.stderr))
                    p = run("s3api", "head-object", "--bucket", b, "--key", "big")
                    self.assertEqual(p.returncode, 0, p.stderr)
                    self.assertIn('-13\\""', p.stdout)  # 100 MiB in 8 MiB parts
                    dst = os.path.join(tmp, "back")
                    p = run("s3", "cp", "s3://%s/big" % b, dst)
                    self.assertEqual(p.returncode, 0, p.stderr)
                    with open(src, "rb") as f1, open(dst, "rb") as f2:
                        self.assertTrue(f1.read() == f2.read(), (cl.name, tls))
                    p = run("s3", "ls", "s3://%s/" % b)
                    self.assertIn("big", p.stdout)
                    p = run("s3api", "get-object", "--bucket", b, "--key", "nope", dst)
                    self.assertNotEqual(p.returncode, 0)
                    self.assertIn("NoSuchKey", p.stderr)
                    p = run("s3", "rm", "s3://%s/big" % b)
                    self.assertEqual(p.returncode, 0, p.stderr)
                    p = run("s3", "rb", "s3://" + b)
                    self.assertEqual(p.returncode, 0, p.stderr)
        finally:
            shutil.rmtree(tmp)


if __name__ == "__main__":
    unittest.main()
