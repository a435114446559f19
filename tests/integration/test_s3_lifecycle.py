"""Lifecycle rules carried out by the sweeper, with a shortened day
(TANDEM_S3_DAY_SECONDS=1) and sweep interval: expired current versions get a
delete marker, noncurrent versions and lone delete markers go, abandoned
multipart uploads are aborted, and nothing outside the rules' filters is
touched."""

import os
import time
import unittest

import tandem_harness as th


class Lifecycle(th.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        old = {k: os.environ.get(k) for k in ("TANDEM_S3_SWEEP_SECONDS", "TANDEM_S3_DAY_SECONDS")}
        os.environ["TANDEM_S3_SWEEP_SECONDS"] = "0.3"
        os.environ["TANDEM_S3_DAY_SECONDS"] = "1"
        try:
            super().setUpClass()
        finally:
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    def wait_for(self, what, fn, timeout=20):
        deadline = time.time() + timeout
        while True:
            if fn():
                return
            if time.time() > deadline:
                self.fail("not within %ss: %s" % (timeout, what))
            time.sleep(0.2)

    def test_rules_expire_what_they_say_and_nothing_else(self):
        try:
            import boto3  # noqa: F401
        except ImportError:
            raise unittest.SkipTest("no boto3")
        c = self.server.boto3("s3", s3={"addressing_style": "path"})
        b = "lifecycle-bucket"
        c.create_bucket(Bucket=b)
        c.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
        c.put_object(Bucket=b, Key="tmp/a", Body=b"1")
        c.put_object(Bucket=b, Key="keep/a", Body=b"1")
        c.put_object(Bucket=b, Key="logs/a", Body=b"1", Tagging="t=x")
        c.put_object(Bucket=b, Key="logs/b", Body=b"1")
        c.put_object(Bucket=b, Key="big/a", Body=b"x" * 2000)
        c.put_object(Bucket=b, Key="big/b", Body=b"x" * 10)
        c.put_object(Bucket=b, Key="dm/x", Body=b"1")
        c.delete_object(Bucket=b, Key="dm/x")
        up = c.create_multipart_upload(Bucket=b, Key="up/a")["UploadId"]
        keep_up = c.create_multipart_upload(Bucket=b, Key="other/a")["UploadId"]
        c.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": [
            {"ID": "tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
             "Expiration": {"Days": 2}, "NoncurrentVersionExpiration": {"NoncurrentDays": 2}},
            {"ID": "tagged-logs", "Status": "Enabled",
             "Filter": {"And": {"Prefix": "logs/", "Tags": [{"Key": "t", "Value": "x"}]}},
             "Expiration": {"Days": 1}},
            {"ID": "big", "Status": "Enabled", "Filter": {"ObjectSizeGreaterThan": 1000},
             "Expiration": {"Days": 1}},
            {"ID": "uploads", "Status": "Enabled", "Filter": {"Prefix": "up/"},
             "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}},
            {"ID": "markers", "Status": "Enabled", "Filter": {"Prefix": "dm/"},
             "Expiration": {"ExpiredObjectDeleteMarker": True},
             "NoncurrentVersionExpiration": {"NoncurrentDays": 1}},
            {"ID": "off", "Status": "Disabled", "Filter": {"Prefix": "keep/"},
             "Expiration": {"Days": 1}},
        ]})

        def versions(prefix):
            r = c.list_object_versions(Bucket=b, Prefix=prefix)
            return ([v["VersionId"] for v in r.get("Versions", [])],
                    [m["VersionId"] for m in r.get("DeleteMarkers", [])])

        def gone(key):
            try:
                c.head_object(Bucket=b, Key=key)
                return False
            except c.exceptions.ClientError:
                return True

        self.wait_for("logs/a expired", lambda: gone("logs/a"))
        self.wait_for("big/a expired", lambda: gone("big/a"))
        self.wait_for("upload aborted", lambda: [u["UploadId"] for u in c.list_multipart_uploads(
            Bucket=b).get("Uploads", [])] == [keep_up])
        self.wait_for("dm/ emptied", lambda: versions("dm/") == ([], []))
        self.wait_for("tmp/a: marker only", lambda: (lambda v: v[0] == [] and len(v[1]) == 1)(
            versions("tmp/")))
        # untouched: other prefixes, untagged logs, small objects, disabled rules
        for k in ("keep/a", "logs/b", "big/b"):
            self.assertEqual(c.get_object(Bucket=b, Key=k)["Body"].read()[:1], b"1"
                             if k != "big/b" else b"x")
        self.assertEqual(len(versions("logs/a")[0]), 1)  # expiry made a marker, kept the data
        self.assertIn("s3_lifecycle_swept", self.server.stderr())
        del up

    def test_newer_noncurrent_versions_are_kept(self):
        try:
            import boto3  # noqa: F401
        except ImportError:
            raise unittest.SkipTest("no boto3")
        c = self.server.boto3("s3", s3={"addressing_style": "path"})
        b = "lifecycle-newer"
        c.create_bucket(Bucket=b)
        c.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
        made = {}
        for key in ("keep2/doc", "all/doc"):
            made[key] = [c.put_object(Bucket=b, Key=key, Body=b"v%d" % i)["VersionId"]
                         for i in range(5)]
        c.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": [
            {"ID": "two-back", "Status": "Enabled", "Filter": {"Prefix": "keep2/"},
             "NoncurrentVersionExpiration": {"NoncurrentDays": 1, "NewerNoncurrentVersions": 2}},
            {"ID": "none-back", "Status": "Enabled", "Filter": {"Prefix": "all/"},
             "NoncurrentVersionExpiration": {"NoncurrentDays": 1}}]})

        def ids(key):
            return [v["VersionId"] for v in c.list_object_versions(
                Bucket=b, Prefix=key).get("Versions", [])]

        self.wait_for("all/doc: current only", lambda: ids("all/doc") == made["all/doc"][-1:])
        self.wait_for("keep2/doc: current and two", lambda: ids("keep2/doc") == list(
            reversed(made["keep2/doc"][-3:])))
        time.sleep(1.5)  # more sweeps take nothing more
        self.assertEqual(ids("keep2/doc"), list(reversed(made["keep2/doc"][-3:])))


if __name__ == "__main__":
    unittest.main()
