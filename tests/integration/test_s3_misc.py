"""S3 answers a real program meets beside the main operations: a bucket that
is not there is NoSuchBucket to anonymous callers too, GetObjectTorrent is
NotImplemented (never the object's bytes), response-* overrides on reads,
keys of punctuation, concurrent (and conditional) writers of one key and of versions, the
checksums of uploads in parts (each part's named on completion, the whole
object's checked, the algorithm listed). Real server, boto3."""

import base64
import hashlib
import json
import threading
import unittest
import urllib.parse

import botocore

from test_s3 import S3Case


class Misc(S3Case):
    server_args = {}

    def anon(self):
        return self.s3(signature_version=botocore.UNSIGNED)

    def test_missing_bucket_is_no_such_bucket_to_anonymous_callers(self):
        c, a = self.s3(), self.anon()
        b = self.bucket(c)
        c.put_object(Bucket=b, Key="notes.txt", Body=b"private")
        # the bucket exists: the anonymous caller learns nothing more than Access Denied
        self.assertCode("AccessDenied", a.get_object, Bucket=b, Key="notes.txt")
        self.assertCode("AccessDenied", a.get_object, Bucket=b, Key="absent.txt")
        c.delete_object(Bucket=b, Key="notes.txt")
        c.delete_bucket(Bucket=b)
        for fn, kw in ((a.get_object, {"Key": "notes.txt"}),
                       (a.put_object, {"Key": "notes.txt", "Body": b"x"}),
                       (a.list_objects_v2, {})):
            e = self.assertCode("NoSuchBucket", fn, Bucket=b, **kw)
            self.assertEqual(e["ResponseMetadata"]["HTTPStatusCode"], 404)
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            a.head_object(Bucket=b, Key="notes.txt")
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 404)
        # and the anonymous PUT created nothing
        self.assertNotIn(b, [x["Name"] for x in c.list_buckets()["Buckets"]])

    def test_object_torrent_is_not_implemented(self):
        c = self.s3()
        b = self.bucket(c)
        c.put_object(Bucket=b, Key="film.mpg", Body=b"F" * 4096)
        e = self.assertCode("NotImplemented", c.get_object_torrent, Bucket=b, Key="film.mpg")
        self.assertEqual(e["ResponseMetadata"]["HTTPStatusCode"], 501)
        self.assertEqual(c.get_object(Bucket=b, Key="film.mpg")["Body"].read(), b"F" * 4096)

    def test_response_overrides_and_punctuation_keys(self):
        c = self.s3()
        b = self.bucket(c)
        keys = [" ", "'", '"', "$", "%", "&", "<", ">", "_", "_ ", "_ _", "__", "a+b", "q?s"]
        for k in keys:
            c.put_object(Bucket=b, Key=k, Body=k.encode(), ContentType="text/plain")
        self.assertEqual([o["Key"] for o in c.list_objects_v2(Bucket=b)["Contents"]],
                         sorted(keys))
        self.assertEqual([o["Key"] for o in c.list_objects(Bucket=b)["Contents"]], sorted(keys))
        for k in keys:
            self.assertEqual(c.get_object(Bucket=b, Key=k)["Body"].read(), k.encode())
        r = c.get_object(Bucket=b, Key="&", ResponseContentType="application/x-report",
                         ResponseContentDisposition='attachment; filename="r 1.txt"',
                         ResponseContentLanguage="fr", ResponseCacheControl="max-age=60",
                         ResponseContentEncoding="identity")
        h = r["ResponseMetadata"]["HTTPHeaders"]
        self.assertEqual((h["content-type"], h["content-disposition"], h["content-language"],
                          h["cache-control"], h["content-encoding"]),
                         ("application/x-report", 'attachment; filename="r 1.txt"', "fr",
                          "max-age=60", "identity"))
        # the stored headers are unchanged
        self.assertEqual(c.head_object(Bucket=b, Key="&")["ContentType"], "text/plain")

    def test_concurrent_writers(self):
        c = self.s3()
        b = self.bucket(c)
        size = 1 << 20

        def write(ch):
            for _ in range(3):
                c.put_object(Bucket=b, Key="shared", Body=ch * size)

        ts = [threading.Thread(target=write, args=(ch,)) for ch in (b"x", b"y", b"z")]
        for t in ts:
            t.start()
        for t in ts:
            t.join(60)
        body = c.get_object(Bucket=b, Key="shared")["Body"].read()
        self.assertEqual(body, body[:1] * size)  # one writer's whole body, never a mix

        c.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
        ts = [threading.Thread(target=c.put_object, kwargs={"Bucket": b, "Key": "v%d" % (i % 2),
                                                            "Body": b"%d" % i})
              for i in range(8)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(60)
        vs = c.list_object_versions(Bucket=b, Prefix="v")["Versions"]
        self.assertEqual(len({v["VersionId"] for v in vs}), 8)
        objs = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in vs]
        ts = [threading.Thread(target=c.delete_objects,
                               kwargs={"Bucket": b, "Delete": {"Objects": objs}})
              for _ in range(3)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(60)
        self.assertNotIn("Versions", c.list_object_versions(Bucket=b, Prefix="v"))

    def test_upload_checksums_on_completion(self):
        c = self.s3()
        b = self.bucket(c)

        def sha(data):
            return hashlib.sha256(data).digest()

        first, last = b"p" * (5 << 20), b"q" * 321
        whole = base64.b64encode(sha(sha(first) + sha(last))).decode()
        up = c.create_multipart_upload(Bucket=b, Key="big", ChecksumAlgorithm="SHA256")["UploadId"]
        listed = c.list_multipart_uploads(Bucket=b)["Uploads"][0]
        self.assertEqual((listed["ChecksumAlgorithm"], listed["ChecksumType"]),
                         ("SHA256", "COMPOSITE"))
        parts = []
        for n, body in ((1, first), (2, last)):
            r = c.upload_part(Bucket=b, Key="big", UploadId=up, PartNumber=n, Body=body,
                              ChecksumAlgorithm="SHA256")
            parts.append({"PartNumber": n, "ETag": r["ETag"],
                          "ChecksumSHA256": r["ChecksumSHA256"]})
        lp = c.list_parts(Bucket=b, Key="big", UploadId=up)
        self.assertEqual((lp["ChecksumAlgorithm"], lp["ChecksumType"]), ("SHA256", "COMPOSITE"))

        # a part without its checksum, or a whole-object checksum that is not
        # the parts', is refused and completes nothing
        bare = [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in parts]
        e = self.assertCode("InvalidRequest", c.complete_multipart_upload, Bucket=b, Key="big",
                            UploadId=up, MultipartUpload={"Parts": bare})
        self.assertIn("missing for part 1", e["Error"]["Message"])
        wrong = base64.b64encode(sha(first)).decode()
        self.assertCode("BadDigest", c.complete_multipart_upload, Bucket=b, Key="big",
                        UploadId=up, ChecksumSHA256=wrong, MultipartUpload={"Parts": parts})
        self.assertCode("NoSuchKey", c.get_object, Bucket=b, Key="big")

        r = c.complete_multipart_upload(Bucket=b, Key="big", UploadId=up,
                                        ChecksumSHA256=whole + "-2",
                                        MultipartUpload={"Parts": parts})
        self.assertEqual(r["ChecksumSHA256"], whole + "-2")
        h = c.head_object(Bucket=b, Key="big", ChecksumMode="ENABLED")
        self.assertEqual((h["ChecksumSHA256"], h["ContentLength"]),
                         (whole + "-2", len(first) + 321))

        # the value without its "-N" is taken too
        up = c.create_multipart_upload(Bucket=b, Key="one", ChecksumAlgorithm="SHA256")["UploadId"]
        r = c.upload_part(Bucket=b, Key="one", UploadId=up, PartNumber=1, Body=last,
                          ChecksumAlgorithm="SHA256")
        one = base64.b64encode(sha(sha(last))).decode()
        c.complete_multipart_upload(Bucket=b, Key="one", UploadId=up, ChecksumSHA256=one,
                                    MultipartUpload={"Parts": [
                                        {"PartNumber": 1, "ETag": r["ETag"],
                                         "ChecksumSHA256": r["ChecksumSHA256"]}]})
        self.assertEqual(c.get_object(Bucket=b, Key="one")["Body"].read(), last)

    def test_malformed_checksum_value_is_invalid_request(self):
        c = self.s3()
        b = self.bucket(c)
        for name, value in (("ChecksumCRC32", "not-base64"), ("ChecksumCRC32", "AAAAAAAA"),
                            ("ChecksumSHA256", "AAAA"), ("ChecksumCRC64NVME", "AAAAAA==")):
            e = self.assertCode("InvalidRequest", c.put_object, Bucket=b, Key="doc",
                                Body=b"body", **{name: value})
            self.assertIn("header is invalid", e["Error"]["Message"])
        self.assertCode("NoSuchKey", c.get_object, Bucket=b, Key="doc")
        up = c.create_multipart_upload(Bucket=b, Key="doc")["UploadId"]
        self.assertCode("InvalidRequest", c.upload_part, Bucket=b, Key="doc", UploadId=up,
                        PartNumber=1, Body=b"part", ChecksumSHA1="x")
        self.assertNotIn("Parts", c.list_parts(Bucket=b, Key="doc", UploadId=up))
        # a well-formed value that does not match is still BadDigest
        self.assertCode("BadDigest", c.put_object, Bucket=b, Key="doc", Body=b"body",
                        ChecksumCRC32="AAAAAA==")

    def test_response_overrides_need_a_signed_request(self):
        c, a = self.s3(), self.anon()
        b = self.bucket(c)
        c.put_object(Bucket=b, Key="page.html", Body=b"<p>hi</p>", ContentType="text/html")
        c.delete_public_access_block(Bucket=b)
        c.put_bucket_policy(Bucket=b, Policy=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                           "Resource": "arn:aws:s3:::%s/*" % b}]}))
        self.assertEqual(a.get_object(Bucket=b, Key="page.html")["Body"].read(), b"<p>hi</p>")
        e = self.assertCode("InvalidRequest", a.get_object, Bucket=b, Key="page.html",
                            ResponseContentType="text/plain")
        self.assertIn("anonymous GET", e["Error"]["Message"])
        # signed, directly or presigned, they apply
        self.assertEqual(c.get_object(Bucket=b, Key="page.html",
                                      ResponseContentType="text/plain")["ContentType"],
                         "text/plain")
        url = c.generate_presigned_url("get_object", Params={
            "Bucket": b, "Key": "page.html", "ResponseContentDisposition": "attachment"})
        st, headers, body = self.fetch(url)
        self.assertEqual((st, headers.get("content-disposition"), body),
                         (200, "attachment", b"<p>hi</p>"))

    def fetch(self, url):
        conn = self.server.connection()
        u = urllib.parse.urlsplit(url)
        try:
            conn.request("GET", u.path + "?" + u.query)
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()

    def test_aws_chunked_is_not_kept_as_content_encoding(self):
        c = self.s3()
        b = self.bucket(c)
        for sent, kept in (("aws-chunked", None), ("aws-chunked,gzip", "gzip"),
                           ("gzip,aws-chunked", "gzip"), ("gzip, aws-chunked, br", "gzip,br"),
                           ("br", "br")):
            c.put_object(Bucket=b, Key="enc", Body=b"data", ContentEncoding=sent)
            self.assertEqual(c.head_object(Bucket=b, Key="enc").get("ContentEncoding"), kept, sent)

    def test_restore_a_version_by_copying_it_onto_its_key(self):
        c = self.s3()
        b = self.bucket(c)
        c.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
        first = c.put_object(Bucket=b, Key="report", Body=b"draft 1",
                             Metadata={"rev": "1"})["VersionId"]
        c.put_object(Bucket=b, Key="report", Body=b"draft 2")
        r = c.copy_object(Bucket=b, Key="report",
                          CopySource={"Bucket": b, "Key": "report", "VersionId": first})
        self.assertEqual(r["CopySourceVersionId"], first)
        self.assertNotEqual(r["VersionId"], first)
        g = c.get_object(Bucket=b, Key="report")
        self.assertEqual((g["Body"].read(), g["Metadata"], g["VersionId"]),
                         (b"draft 1", {"rev": "1"}, r["VersionId"]))
        self.assertEqual(len(c.list_object_versions(Bucket=b, Prefix="report")["Versions"]), 3)
        # naming no version and changing nothing is still refused
        self.assertCode("InvalidRequest", c.copy_object, Bucket=b, Key="report",
                        CopySource={"Bucket": b, "Key": "report"})

    def test_racing_conditional_writes_have_one_winner(self):
        c = self.s3()
        b = self.bucket(c)
        etag = c.put_object(Bucket=b, Key="ledger", Body=b"0" * 65536)["ETag"]
        outcomes = []

        def put(body, **cond):
            try:
                c.put_object(Bucket=b, Key="ledger", Body=body, **cond)
                outcomes.append("written")
            except botocore.exceptions.ClientError as e:
                outcomes.append(e.response["Error"]["Code"])

        for cond in ({"IfMatch": etag}, {"IfNoneMatch": "*"}):
            if "IfNoneMatch" in cond:
                c.delete_object(Bucket=b, Key="ledger")
            outcomes.clear()
            ts = [threading.Thread(target=put, args=(ch * 65536,), kwargs=cond)
                  for ch in (b"a", b"b", b"c")]
            for t in ts:
                t.start()
            for t in ts:
                t.join(60)
            self.assertEqual(outcomes.count("written"), 1, outcomes)
            self.assertTrue(set(outcomes) <= {"written", "PreconditionFailed",
                                              "ConditionalRequestConflict"}, outcomes)
            body = c.get_object(Bucket=b, Key="ledger")["Body"].read()
            self.assertIn(body, (b"a" * 65536, b"b" * 65536, b"c" * 65536))


if __name__ == "__main__":
    unittest.main()
