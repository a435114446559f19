"""S3 bucket names and listings as S3 answers them: bucket naming rules,
ListObjects / ListObjectsV2 / ListObjectVersions resuming inside a common
prefix, and ListBuckets pages (max-buckets, continuation-token, prefix,
bucket-region). Real server, boto3."""

import datetime
import unittest

import botocore

import tandem_harness as th
from test_s3 import S3Case


def keys(r):
    return [o["Key"] for o in r.get("Contents", [])]


def prefixes(r):
    return [p["Prefix"] for p in r.get("CommonPrefixes", [])]


class BucketNames(S3Case):
    server_args = {}

    def test_labels_begin_and_end_with_letter_or_digit(self):
        c = self.s3()
        tail = th.random_key(6).lower()
        # (names ending in --x-s3 are refused too, but botocore sends those to
        # S3 Express with its own signing, so they are checked by the unit test)
        for bad in ("reports-.%s" % tail, "reports.-%s" % tail, "amzn-s3-demo-%s" % tail,
                    "%s.mrap" % tail):
            r = self.assertCode("InvalidBucketName", c.create_bucket, Bucket=bad)
            self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 400)
        names = [b["Name"] for b in c.list_buckets()["Buckets"]]
        self.assertFalse([n for n in names if tail in n], names)  # nothing was created
        for good in ("rep-1.eu-2.%s" % tail, "%s.x-s3" % tail):
            c.create_bucket(Bucket=good)
            h = c.head_bucket(Bucket=good)
            self.assertEqual((h["BucketRegion"], h["AccessPointAlias"]),
                             (self.server.region, False))


class MarkerInsideCommonPrefix(S3Case):
    """A marker that falls inside a common prefix still lists that prefix when
    keys after the marker roll up into it; a marker equal to the prefix (the
    NextMarker of a page that ended on it) skips it."""
    server_args = {}

    def test_objects_v1_and_v2(self):
        c = self.s3()
        b = self.bucket(c)
        for k in ("docs/intro", "docs/setup", "img/logo", "readme"):
            c.put_object(Bucket=b, Key=k, Body=k.encode())
        r = c.list_objects(Bucket=b, Delimiter="/", Marker="docs/intro")
        self.assertEqual((prefixes(r), keys(r)), (["docs/", "img/"], ["readme"]))
        r = c.list_objects_v2(Bucket=b, Delimiter="/", StartAfter="docs/intro")
        self.assertEqual((prefixes(r), keys(r)), (["docs/", "img/"], ["readme"]))
        self.assertEqual(r["KeyCount"], 3)
        # past the last key under the prefix: nothing of it is left
        r = c.list_objects(Bucket=b, Delimiter="/", Marker="docs/setup")
        self.assertEqual((prefixes(r), keys(r)), (["img/"], ["readme"]))
        # the prefix itself as marker: skipped, as when paging by NextMarker
        r = c.list_objects(Bucket=b, Delimiter="/", Marker="docs/")
        self.assertEqual((prefixes(r), keys(r)), (["img/"], ["readme"]))
        pages, marker = [], ""
        for _ in range(10):
            r = c.list_objects(Bucket=b, Delimiter="/", MaxKeys=1, Marker=marker)
            pages.append(prefixes(r) + keys(r))
            if not r["IsTruncated"]:
                break
            marker = r["NextMarker"]
        self.assertEqual(pages, [["docs/"], ["img/"], ["readme"]])

    def test_versions(self):
        c = self.s3()
        b = self.bucket(c)
        c.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
        for k in ("logs/a", "logs/b", "logs/b", "zeta"):
            c.put_object(Bucket=b, Key=k, Body=b"v")
        r = c.list_object_versions(Bucket=b, Delimiter="/", KeyMarker="logs/a")
        self.assertEqual(prefixes(r), ["logs/"])
        self.assertEqual([v["Key"] for v in r["Versions"]], ["zeta"])
        r = c.list_object_versions(Bucket=b, Delimiter="/", KeyMarker="logs/")
        self.assertEqual(prefixes(r), [])
        r = c.list_object_versions(Bucket=b, Delimiter="/", MaxKeys=1)
        self.assertTrue(r["IsTruncated"])
        self.assertEqual((prefixes(r), r["NextKeyMarker"]), (["logs/"], "logs/"))


class LongKeys(S3Case):
    """Keys over 400 bytes are stored under their first 335 bytes and a hash:
    prefixes and common prefixes longer than that still select and roll up
    every key under them, once."""
    server_args = {}

    def test_long_prefixes_and_common_prefixes(self):
        c = self.s3()
        b = self.bucket(c)
        c.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
        deep = "archive/" + "segment-" * 44 + "/"  # 361 bytes
        names = [deep + "m" * 120, deep + "n" * 90, deep + "o", deep + "part/" + "p" * 70,
                 deep + "part/q", "archive/top"]
        for n in names:
            for body in (b"one", b"two"):
                c.put_object(Bucket=b, Key=n, Body=body)
        under = sorted(n for n in names if n.startswith(deep))
        self.assertEqual(sorted(keys(c.list_objects_v2(Bucket=b, Prefix=deep))), under)
        self.assertEqual(keys(c.list_objects(Bucket=b, Prefix=deep + "m")), [names[0]])
        r = c.list_objects_v2(Bucket=b, Prefix="archive/", Delimiter="/")
        self.assertEqual((prefixes(r), keys(r)), ([deep], ["archive/top"]))
        r = c.list_objects_v2(Bucket=b, Prefix=deep, Delimiter="/")
        self.assertEqual(prefixes(r), [deep + "part/"])
        self.assertEqual(sorted(keys(r)), sorted(names[:3]))
        r = c.list_object_versions(Bucket=b, Prefix=deep, Delimiter="/")
        self.assertEqual(prefixes(r), [deep + "part/"])
        self.assertEqual(len(r["Versions"]), 6)
        self.assertEqual(len(c.list_object_versions(Bucket=b, Prefix=deep)["Versions"]), 10)
        # one entry per page: every key and the common prefix exactly once
        for op, field in (("list_objects", "Contents"), ("list_objects_v2", "Contents"),
                          ("list_object_versions", "Versions")):
            got = []
            pages = c.get_paginator(op).paginate(Bucket=b, Prefix=deep, Delimiter="/",
                                                 PaginationConfig={"PageSize": 1,
                                                                   "MaxItems": 50})
            for p in pages:
                got += [x["Key"] for x in p.get(field, [])] + prefixes(p)
            want = names[:3] + [deep + "part/"]
            if op == "list_object_versions":
                want = names[:3] * 2 + [deep + "part/"]
            self.assertEqual(sorted(got), sorted(want), op)


class ListedChecksums(S3Case):
    server_args = {}

    def test_algorithm_and_type_in_s3_names(self):
        c = self.s3()
        b = self.bucket(c)
        c.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
        c.put_object(Bucket=b, Key="sha", Body=b"payload", ChecksumAlgorithm="SHA256")
        c.put_object(Bucket=b, Key="crc", Body=b"payload", ChecksumAlgorithm="CRC32")
        up = c.create_multipart_upload(Bucket=b, Key="parts", ChecksumAlgorithm="SHA1")
        part = c.upload_part(Bucket=b, Key="parts", UploadId=up["UploadId"], PartNumber=1,
                             Body=b"only part", ChecksumAlgorithm="SHA1")
        c.complete_multipart_upload(
            Bucket=b, Key="parts", UploadId=up["UploadId"],
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"],
                                        "ChecksumSHA1": part["ChecksumSHA1"]}]})
        plain = self.s3(request_checksum_calculation="when_required")
        plain.put_object(Bucket=b, Key="plain", Body=b"payload")
        want = {"crc": (["CRC32"], "FULL_OBJECT"), "parts": (["SHA1"], "COMPOSITE"),
                "plain": (["CRC64NVME"], "FULL_OBJECT"), "sha": (["SHA256"], "FULL_OBJECT")}
        for r, field in ((c.list_objects(Bucket=b), "Contents"),
                         (c.list_objects_v2(Bucket=b), "Contents"),
                         (c.list_object_versions(Bucket=b), "Versions")):
            got = {o["Key"]: (o.get("ChecksumAlgorithm"), o.get("ChecksumType"))
                   for o in r[field]}
            self.assertEqual(got, want, field)


class ListedTimes(S3Case):
    server_args = {}

    def test_listed_last_modified_is_the_objects_to_the_second(self):
        c = self.s3()
        b = self.bucket(c)
        c.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
        for i in range(5):
            c.put_object(Bucket=b, Key="k%d" % i, Body=b"x")
        up = c.create_multipart_upload(Bucket=b, Key="up")
        c.upload_part(Bucket=b, Key="up", UploadId=up["UploadId"], PartNumber=1, Body=b"p")
        heads = {"k%d" % i: c.head_object(Bucket=b, Key="k%d" % i)["LastModified"]
                 for i in range(5)}
        for r, field in ((c.list_objects(Bucket=b), "Contents"),
                         (c.list_objects_v2(Bucket=b), "Contents"),
                         (c.list_object_versions(Bucket=b), "Versions")):
            got = {o["Key"]: o["LastModified"] for o in r[field]}
            self.assertEqual(got, heads, field)
        copied = c.copy_object(Bucket=b, Key="copy", CopySource={"Bucket": b, "Key": "k0"})
        self.assertEqual(copied["CopyObjectResult"]["LastModified"],
                         c.head_object(Bucket=b, Key="copy")["LastModified"])
        for t in ([p["LastModified"] for p in c.list_parts(
                      Bucket=b, Key="up", UploadId=up["UploadId"])["Parts"]] +
                  [u["Initiated"] for u in c.list_multipart_uploads(Bucket=b)["Uploads"]] +
                  [x["CreationDate"] for x in c.list_buckets()["Buckets"]]):
            self.assertEqual(t.microsecond, 0)


class VersionListingArguments(S3Case):
    server_args = {}

    def test_bad_markers_and_encoding(self):
        c = self.s3()
        b = self.bucket(c)
        c.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
        vid = c.put_object(Bucket=b, Key="ledger", Body=b"1")["VersionId"]
        for kw, arg in (({"VersionIdMarker": vid}, "version-id-marker"),
                        ({"KeyMarker": "ledger", "VersionIdMarker": "v1"}, "version-id-marker"),
                        ({"EncodingType": "gzip"}, "encoding-type")):
            r = self.assertCode("InvalidArgument", c.list_object_versions, Bucket=b, **kw)
            self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 400)
            self.assertEqual(r["Error"]["ArgumentName"], arg)
        # well-formed markers still list
        r = c.list_object_versions(Bucket=b, KeyMarker="ledge", VersionIdMarker=vid)
        self.assertEqual([v["VersionId"] for v in r["Versions"]], [vid])

    def test_empty_continuation_token(self):
        # an empty token is no token to S3 but a wrong one (LocalStack's
        # test_list_objects_v2_continuation_start_after, recorded against S3)
        c = self.s3()
        b = self.bucket(c)
        c.put_object(Bucket=b, Key="k", Body=b"1")
        r = self.assertCode("InvalidArgument", c.list_objects_v2, Bucket=b, ContinuationToken="")
        self.assertEqual(r["Error"], {"Code": "InvalidArgument",
                                      "Message": "The continuation token provided is incorrect",
                                      "ArgumentName": "continuation-token", "ArgumentValue": None})


class SubresourcesNotImplemented(S3Case):
    """Bucket and object subresources Tandem does not have get an answer of
    their own instead of falling through to a listing, a bucket creation or
    deletion, or an object upload."""
    server_args = {}

    def test_bucket_subresources(self):
        c = self.s3()
        b = self.bucket(c)
        # DELETE ?analytics was DeleteBucket: the empty bucket stays
        r = self.assertCode("NotImplemented", c.delete_bucket_analytics_configuration,
                            Bucket=b, Id="daily")
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 501)
        c.head_bucket(Bucket=b)
        self.assertCode("NotImplemented", c.delete_bucket_metrics_configuration, Bucket=b,
                        Id="all")
        c.head_bucket(Bucket=b)
        r = self.assertCode("ObjectLockConfigurationNotFoundError",
                            c.get_object_lock_configuration, Bucket=b)
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 404)
        # Object Lock needs versioning Enabled first (test_s3_objectlock)
        self.assertCode("InvalidBucketState", c.put_object_lock_configuration, Bucket=b,
                        ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"})
        self.assertNotIn("Status", c.get_bucket_accelerate_configuration(Bucket=b))
        self.assertEqual(c.get_bucket_request_payment(Bucket=b)["Payer"], "BucketOwner")
        conf = c.get_bucket_notification_configuration(Bucket=b)
        self.assertEqual([k for k in conf if k != "ResponseMetadata"], [])
        st, _, body = self.signed_raw("DELETE", self.server.url() + "/%s/ledger?retention" % b)
        self.assertEqual(st, 405, body)
        self.assertCode("NotImplemented", c.put_bucket_accelerate_configuration, Bucket=b,
                        AccelerateConfiguration={"Status": "Enabled"})
        self.assertCode("NoSuchBucket", c.get_object_lock_configuration, Bucket=b + "-gone")
        # a bucket asked with Object Lock has it
        name = b + "-locked"
        c.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
        self.assertEqual(c.get_object_lock_configuration(Bucket=name)["ObjectLockConfiguration"],
                         {"ObjectLockEnabled": "Enabled"})

    def test_object_retention_and_legal_hold(self):
        c = self.s3()
        b = self.bucket(c)
        c.put_object(Bucket=b, Key="ledger", Body=b"kept as is")
        until = datetime.datetime(2031, 1, 1, tzinfo=datetime.timezone.utc)
        for fn, kw in ((c.put_object_retention,
                        {"Retention": {"Mode": "COMPLIANCE", "RetainUntilDate": until}}),
                       (c.put_object_legal_hold, {"LegalHold": {"Status": "ON"}}),
                       (c.get_object_retention, {}), (c.get_object_legal_hold, {})):
            r = self.assertCode("InvalidRequest", fn, Bucket=b, Key="ledger", **kw)
            self.assertEqual(r["Error"]["Message"], "Bucket is missing Object Lock Configuration")
        # the object is untouched (a PUT ?retention was an upload of its XML,
        # or ended the region)
        self.assertEqual(c.get_object(Bucket=b, Key="ledger")["Body"].read(), b"kept as is")


class ListBucketsPages(S3Case):
    server_args = {}

    def test_pages_prefix_and_region(self):
        c = self.s3()
        group = "lbp-" + th.random_key(6).lower()
        made = sorted("%s-%02d" % (group, i) for i in range(7))
        for n in made:
            c.create_bucket(Bucket=n)
        self.bucket(c)  # one outside the group

        # without parameters: every bucket, no region, no token
        r = c.list_buckets()
        self.assertNotIn("ContinuationToken", r)
        self.assertNotIn("BucketRegion", r["Buckets"][0])
        everything = [x["Name"] for x in r["Buckets"]]
        self.assertEqual(everything, sorted(everything))

        # pages of three within the prefix
        seen, token, calls = [], None, 0
        while calls < 10:
            kw = {"MaxBuckets": 3, "Prefix": group}
            if token:
                kw["ContinuationToken"] = token
            r = c.list_buckets(**kw)
            calls += 1
            self.assertEqual(r["Prefix"], group)
            self.assertLessEqual(len(r["Buckets"]), 3)
            self.assertTrue(all(x["BucketRegion"] == self.server.region for x in r["Buckets"]))
            seen += [x["Name"] for x in r["Buckets"]]
            token = r.get("ContinuationToken")
            if not token:
                break
        self.assertEqual((seen, calls), (made, 3))

        # the paginator walks every bucket once
        pg = c.get_paginator("list_buckets").paginate(PaginationConfig={"PageSize": 2})
        self.assertEqual([x["Name"] for p in pg for x in p["Buckets"]], everything)

        self.assertEqual(c.list_buckets(BucketRegion="ap-south-2")["Buckets"], [])
        self.assertEqual(len(c.list_buckets(BucketRegion=self.server.region)["Buckets"]),
                         len(everything))

    def test_owner_comes_before_buckets(self):
        # S3's order, which the AWS SDK for Java (v1) relies on (LocalStack's
        # test_response_structure)
        c = self.s3()
        self.bucket(c)
        status, _, body = self.signed_raw("GET", self.server.url() + "/")
        self.assertEqual(status, 200)
        self.assertLess(body.index(b"<Owner>"), body.index(b"<Buckets>"))
        self.assertTrue(body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>'))

    def test_unsigned_list_buckets_is_refused_and_health_check_stays(self):
        anon = self.s3(signature_version=botocore.UNSIGNED)
        r = self.assertCode("AccessDenied", anon.list_buckets)
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 403)
        st, body = self.curl(self.server.url() + "/")
        self.assertEqual(st, 200)
        self.assertTrue(body.startswith(b"healthy"), body)

    def test_bad_parameters(self):
        c = self.s3()
        for q in ("max-buckets=0", "max-buckets=10001", "max-buckets=ten"):
            st, _, body = self.signed_raw("GET", self.server.url() + "/?" + q)
            self.assertEqual(st, 400, body)
            self.assertIn(b"<Code>InvalidArgument</Code>", body)
            self.assertIn(b"<ArgumentName>max-buckets</ArgumentName>", body)
        r = self.assertCode("InvalidArgument", c.list_buckets, ContinuationToken="@@not-one@@")
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 400)


if __name__ == "__main__":
    unittest.main()
