"""S3 website endpoints and object ACLs that grant: a bucket's stored website
configuration served anonymously (index and error documents, redirects, HTML
errors) at BUCKET.s3-website.REGION.localhost and /_website/BUCKET/, governed
by the bucket policy and public-read object ACLs exactly as anonymous REST
reads are. Real server, real clients (boto3, curl)."""

import json
import subprocess
import unittest

import tandem_harness as th

try:
    import boto3  # noqa: F401
    import botocore
    from botocore.exceptions import ClientError
except ImportError:  # pragma: no cover
    boto3 = None


class Website(th.ServerTestCase):
    def s3(self, **cfg):
        if boto3 is None:
            raise unittest.SkipTest("no boto3")
        cfg.setdefault("s3", {"addressing_style": "path"})
        return self.server.boto3("s3", **cfg)

    def curl(self, *args):
        """(status, headers text, body) of one curl request."""
        p = subprocess.run(["curl", "-s", "-D", "/dev/stderr", "-o", "-", "-w",
                            "\n%{http_code}"] + list(args), capture_output=True, timeout=60)
        body, _, status = p.stdout.rpartition(b"\n")
        return int(status), p.stderr.decode("latin-1").lower(), body

    def web(self, bucket, path="/", *args):
        return self.curl(*args, "%s/_website/%s%s" % (self.server.url(), bucket, path))

    def vhost(self, bucket, path="/", *args):
        host = "%s.s3-website.%s.localhost:%d" % (bucket, self.server.region, self.server.port)
        return self.curl(*args, "http://127.0.0.1:%d%s" % (self.server.port, path),
                         "-H", "Host: " + host)

    def public_bucket(self, c, website=None):
        b = "web-" + th.random_key(10).lower()
        c.create_bucket(Bucket=b)
        c.delete_public_access_block(Bucket=b)
        c.put_bucket_policy(Bucket=b, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
             "Resource": "arn:aws:s3:::%s/*" % b}]}))
        if website:
            c.put_bucket_website(Bucket=b, WebsiteConfiguration=website)
        return b

    def test_index_error_documents_and_html_errors(self):
        c = self.s3()
        b = self.public_bucket(c, {"IndexDocument": {"Suffix": "index.html"},
                                   "ErrorDocument": {"Key": "error.html"}})
        c.put_object(Bucket=b, Key="index.html", Body=b"<h1>home</h1>", ContentType="text/html")
        c.put_object(Bucket=b, Key="docs/index.html", Body=b"docs home", ContentType="text/html")
        c.put_object(Bucket=b, Key="a.txt", Body=b"plain")
        for fetch in (self.web, self.vhost):
            st, h, body = fetch(b, "/")
            self.assertEqual((st, body), (200, b"<h1>home</h1>"), h)
            self.assertIn("content-type: text/html", h)
            st, _, body = fetch(b, "/docs/")
            self.assertEqual((st, body), (200, b"docs home"))
            st, _, body = fetch(b, "/a.txt")
            self.assertEqual((st, body), (200, b"plain"))
            # KEY missing, KEY/index.html there: redirected to the folder
            st, h, _ = fetch(b, "/docs")
            self.assertEqual(st, 302)
            self.assertIn("location: ", h)
            self.assertIn("/docs/\r\n", h)
            # no error document yet readable: S3's HTML error page with the status
            st, h, body = fetch(b, "/missing.html")
            self.assertEqual(st, 404)
            self.assertIn("content-type: text/html", h)
            self.assertIn(b"<h1>404 Not Found</h1>", body)
            self.assertIn(b"<li>Code: NoSuchKey</li>", body)
            self.assertIn(b"<li>Key: missing.html</li>", body)
            st, _, body = fetch(b, "/", "-X", "PUT")
            self.assertEqual(st, 405, body)
            self.assertIn(b"MethodNotAllowed", body)
            st, h, body = fetch(b, "/a.txt", "-I")
            self.assertEqual(st, 200)
            self.assertIn("content-length: 5", h)
        st, _, body = self.web(b, "")  # /_website/BUCKET: the index too
        self.assertEqual((st, body), (200, b"<h1>home</h1>"))
        c.put_object(Bucket=b, Key="error.html", Body=b"oops page", ContentType="text/html")
        st, _, body = self.web(b, "/missing.html")
        self.assertEqual((st, body), (404, b"oops page"))
        # credentials are ignored and nothing is written through a website endpoint
        st, _, _ = self.web(b, "/new.txt", "-X", "PUT", "--data-binary", "x")
        self.assertEqual(st, 405)
        with self.assertRaises(ClientError):
            c.head_object(Bucket=b, Key="new.txt")

    def test_no_website_no_bucket_and_refused(self):
        c = self.s3()
        b = self.public_bucket(c)
        c.put_object(Bucket=b, Key="index.html", Body=b"x")
        st, _, body = self.web(b, "/")
        self.assertEqual(st, 404)
        self.assertIn(b"<li>Code: NoSuchWebsiteConfiguration</li>", body)
        self.assertIn(b"<li>BucketName: %s</li>" % b.encode(), body)
        st, _, body = self.web("no-such-bucket-here", "/")
        self.assertEqual(st, 404)
        self.assertIn(b"<li>Code: NoSuchBucket</li>", body)
        # a private bucket with a website: 403, the error document with 403
        p = "web-" + th.random_key(10).lower()
        c.create_bucket(Bucket=p)
        c.put_bucket_website(Bucket=p, WebsiteConfiguration={
            "IndexDocument": {"Suffix": "index.html"}})
        c.put_object(Bucket=p, Key="index.html", Body=b"private")
        st, h, body = self.web(p, "/")
        self.assertEqual(st, 403)
        self.assertIn("content-type: text/html", h)
        self.assertIn(b"<li>Code: AccessDenied</li>", body)
        self.assertNotIn(b"private", body)

    def test_redirects(self):
        c = self.s3()
        b = self.public_bucket(c, {"RedirectAllRequestsTo": {"HostName": "example.com",
                                                             "Protocol": "https"}})
        st, h, _ = self.web(b, "/some/page.html")
        self.assertEqual(st, 301)
        self.assertIn("location: https://example.com/some/page.html\r\n", h)
        r = self.public_bucket(c, {
            "IndexDocument": {"Suffix": "index.html"},
            "RoutingRules": [
                {"Condition": {"KeyPrefixEquals": "old/"},
                 "Redirect": {"ReplaceKeyPrefixWith": "new/"}},
                {"Condition": {"HttpErrorCodeReturnedEquals": "404"},
                 "Redirect": {"HostName": "fallback.example.com", "HttpRedirectCode": "307"}}]})
        c.put_object(Bucket=r, Key="here.txt", Body=b"here")
        # a rule without HostName redirects to this endpoint by the name the
        # client used, as an absolute URL (so a Protocol alone can upgrade it)
        st, h, _ = self.web(r, "/old/x.html")
        self.assertEqual(st, 301)
        self.assertIn("location: %s/_website/%s/new/x.html\r\n" % (self.server.url(), r), h)
        st, h, _ = self.vhost(r, "/old/x.html")
        self.assertEqual(st, 301)
        self.assertIn("location: http://%s.s3-website.%s.localhost:%d/new/x.html\r\n" % (
            r, self.server.region, self.server.port), h)
        st, h, _ = self.web(r, "/gone.txt")
        self.assertEqual(st, 307)
        self.assertIn("location: http://fallback.example.com/gone.txt\r\n", h)
        st, _, body = self.web(r, "/here.txt")
        self.assertEqual((st, body), (200, b"here"))
        # an object's own redirect (x-amz-website-redirect-location)
        c.put_object(Bucket=r, Key="moved.html", Body=b"", WebsiteRedirectLocation="/here.txt")
        c.put_object(Bucket=r, Key="away.html", Body=b"",
                     WebsiteRedirectLocation="https://example.net/x")
        self.assertEqual(c.head_object(Bucket=r, Key="moved.html")["WebsiteRedirectLocation"],
                         "/here.txt")
        st, h, _ = self.vhost(r, "/moved.html")
        self.assertEqual(st, 301)
        self.assertIn("location: /here.txt\r\n", h)
        st, h, _ = self.web(r, "/moved.html")
        self.assertIn("location: /_website/%s/here.txt\r\n" % r, h)
        st, h, _ = self.web(r, "/away.html")
        self.assertEqual(st, 301)
        self.assertIn("location: https://example.net/x\r\n", h)
        with self.assertRaises(ClientError) as cm:
            c.put_object(Bucket=r, Key="bad.html", Body=b"", WebsiteRedirectLocation="nowhere")
        self.assertEqual(cm.exception.response["Error"]["Code"], "InvalidArgument")

    def test_routing_rules_checked_and_protocol_kept(self):
        c = self.s3()
        r = self.public_bucket(c, {
            "IndexDocument": {"Suffix": "index.html"},
            "RoutingRules": [{"Condition": {"KeyPrefixEquals": "docs/"},
                              "Redirect": {"Protocol": "https",
                                           "ReplaceKeyPrefixWith": "manual/"}}]})
        st, h, _ = self.vhost(r, "/docs/a.html")
        self.assertEqual(st, 301)
        self.assertIn("location: https://%s.s3-website.%s.localhost:%d/manual/a.html\r\n" % (
            r, self.server.region, self.server.port), h)
        for redirect, msg in [
                ({"HttpRedirectCode": "300", "ReplaceKeyWith": "x"},
                 "The provided HTTP redirect code (300) is not valid. Valid codes are 3XX "
                 "except 300."),
                ({"Protocol": "ftp", "ReplaceKeyWith": "x"},
                 "Invalid protocol, protocol can be http or https. If not defined the protocol "
                 "will be selected automatically.")]:
            with self.assertRaises(ClientError) as cm:
                c.put_bucket_website(Bucket=r, WebsiteConfiguration={
                    "IndexDocument": {"Suffix": "other.html"},
                    "RoutingRules": [{"Redirect": redirect}]})
            e = cm.exception.response["Error"]
            self.assertEqual((e["Code"], e["Message"]), ("InvalidRequest", msg))
        with self.assertRaises(ClientError) as cm:
            c.put_bucket_website(Bucket=r, WebsiteConfiguration={
                "RedirectAllRequestsTo": {"HostName": "example.com", "Protocol": "gopher"}})
        self.assertEqual(cm.exception.response["Error"]["Code"], "InvalidRequest")
        # nothing of the refused ones was kept
        self.assertEqual(c.get_bucket_website(Bucket=r)["IndexDocument"]["Suffix"], "index.html")

    def test_public_read_object_acl(self):
        c = self.s3()
        a = self.s3(signature_version=botocore.UNSIGNED)
        b = "acl-" + th.random_key(10).lower()
        c.create_bucket(Bucket=b)
        c.put_bucket_website(Bucket=b, WebsiteConfiguration={
            "IndexDocument": {"Suffix": "index.html"}})
        # ACLs disabled (BucketOwnerEnforced, the default): refused as S3 does
        with self.assertRaises(ClientError) as cm:
            c.put_object(Bucket=b, Key="index.html", Body=b"x", ACL="public-read")
        self.assertEqual(cm.exception.response["Error"]["Code"], "AccessControlListNotSupported")
        c.put_bucket_ownership_controls(Bucket=b, OwnershipControls={
            "Rules": [{"ObjectOwnership": "ObjectWriter"}]})
        c.put_public_access_block(Bucket=b, PublicAccessBlockConfiguration={
            "BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True})
        c.put_object(Bucket=b, Key="index.html", Body=b"<p>public</p>", ContentType="text/html",
                     ACL="public-read")
        c.put_object(Bucket=b, Key="private.html", Body=b"hidden")
        grants = c.get_object_acl(Bucket=b, Key="index.html")["Grants"]
        self.assertIn({"Grantee": {"Type": "Group",
                                   "URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
                       "Permission": "READ"}, grants)
        self.assertEqual(len(c.get_object_acl(Bucket=b, Key="private.html")["Grants"]), 1)
        self.assertEqual(a.get_object(Bucket=b, Key="index.html")["Body"].read(),
                         b"<p>public</p>")
        st, _, body = self.curl("%s/%s/index.html" % (self.server.url(), b))
        self.assertEqual((st, body), (200, b"<p>public</p>"))
        st, _, body = self.web(b, "/")
        self.assertEqual((st, body), (200, b"<p>public</p>"))
        with self.assertRaises(ClientError) as cm:
            a.get_object(Bucket=b, Key="private.html")
        self.assertEqual(cm.exception.response["Error"]["Code"], "AccessDenied")
        self.assertEqual(self.web(b, "/private.html")[0], 403)
        # CopyObject: the source's ACL is not copied; the request's is given
        c.copy_object(Bucket=b, Key="copy.html", CopySource={"Bucket": b, "Key": "index.html"})
        self.assertEqual(self.web(b, "/copy.html")[0], 403)
        c.copy_object(Bucket=b, Key="copy.html", CopySource={"Bucket": b, "Key": "index.html"},
                      ACL="public-read")
        self.assertEqual(self.web(b, "/copy.html")[2], b"<p>public</p>")
        # PutObjectAcl grants and takes away
        c.put_object_acl(Bucket=b, Key="private.html", ACL="public-read")
        self.assertEqual(self.web(b, "/private.html")[2], b"hidden")
        c.put_object_acl(Bucket=b, Key="private.html", ACL="private")
        self.assertEqual(self.web(b, "/private.html")[0], 403)
        # IgnorePublicAcls: the ACL grants nothing, the grant stays recorded
        c.put_public_access_block(Bucket=b, PublicAccessBlockConfiguration={
            "BlockPublicAcls": False, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True})
        self.assertEqual(self.web(b, "/")[0], 403)
        with self.assertRaises(ClientError):
            a.get_object(Bucket=b, Key="index.html")
        # ACLs disabled again: no ACL counts
        c.put_public_access_block(Bucket=b, PublicAccessBlockConfiguration={
            "BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True})
        self.assertEqual(self.web(b, "/")[0], 200)
        c.put_bucket_ownership_controls(Bucket=b, OwnershipControls={
            "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
        self.assertEqual(self.web(b, "/")[0], 403)
        self.assertEqual(len(c.get_object_acl(Bucket=b, Key="index.html")["Grants"]), 1)


if __name__ == "__main__":
    unittest.main()
