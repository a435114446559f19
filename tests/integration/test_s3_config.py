"""Bucket configurations checked as S3 checks them: lifecycle rules (IDs,
days, dates, an action per rule; IDs made for rules without one), the
x-amz-expiration header that tells when a rule will expire an object, the
target of bucket logging and reserved bucket tags. Bad input gets S3's error
and leaves what was stored unchanged."""

import datetime
import email.utils
import re
import unittest

import tandem_harness as th


class BucketConfig(th.ServerTestCase):
    def setUp(self):
        try:
            import boto3  # noqa: F401
        except ImportError:
            raise unittest.SkipTest("no boto3")
        self.c = self.server.boto3("s3", s3={"addressing_style": "path"})

    def bucket(self, name):
        self.c.create_bucket(Bucket=name)
        return name

    def error(self, fn, **kw):
        from botocore.exceptions import ClientError
        with self.assertRaises(ClientError) as cm:
            fn(**kw)
        e = cm.exception.response
        return e["ResponseMetadata"]["HTTPStatusCode"], e["Error"]["Code"], e["Error"]["Message"]

    def rule(self, **kw):
        r = {"Status": "Enabled", "Filter": {"Prefix": "photos/"}}
        r.update(kw)
        return r

    def test_versioning_encryption_and_tags_as_s3_answers(self):
        # LocalStack's test_s3_api.py snapshots, recorded against S3
        b = self.bucket("config-ls-answers")
        self.assertEqual(self.error(self.c.put_bucket_versioning, Bucket=b,
                                    VersioningConfiguration={}),
                         (400, "IllegalVersioningConfigurationException",
                          "The Versioning element must be specified"))
        self.assertEqual(self.error(self.c.put_bucket_versioning, Bucket=b,
                                    VersioningConfiguration={"Status": "enabled"})[1],
                         "MalformedXML")
        # a missing bucket is named before the document is looked at
        self.assertEqual(self.error(self.c.put_bucket_encryption, Bucket="config-ls-nobucket",
                                    ServerSideEncryptionConfiguration={"Rules": []}),
                         (404, "NoSuchBucket", "The specified bucket does not exist"))
        self.assertEqual(self.error(self.c.put_bucket_encryption, Bucket=b,
                                    ServerSideEncryptionConfiguration={"Rules": []})[1],
                         "MalformedXML")
        from botocore.exceptions import ClientError
        with self.assertRaises(ClientError) as cm:
            self.c.put_bucket_encryption(Bucket=b, ServerSideEncryptionConfiguration={"Rules": [
                {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256",
                                                        "KMSMasterKeyID": "randomkeyid"}}]})
        self.assertEqual(cm.exception.response["Error"], {
            "Code": "InvalidArgument", "ArgumentName": "ApplyServerSideEncryptionByDefault",
            "Message": "a KMSMasterKeyID is not applicable if the default sse algorithm is not "
                       "aws:kms or aws:kms:dsse"})
        # NoSuchTagSet names the bucket; an empty TagSet put leaves none
        with self.assertRaises(ClientError) as cm:
            self.c.get_bucket_tagging(Bucket=b)
        self.assertEqual(cm.exception.response["Error"], {
            "Code": "NoSuchTagSet", "Message": "The TagSet does not exist", "BucketName": b})
        self.c.put_bucket_tagging(Bucket=b, Tagging={"TagSet": [{"Key": "a", "Value": "1"}]})
        r = self.c.put_bucket_tagging(Bucket=b, Tagging={"TagSet": []})
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 204)
        self.assertEqual(self.error(self.c.get_bucket_tagging, Bucket=b),
                         (404, "NoSuchTagSet", "The TagSet does not exist"))

    def test_missing_configurations_name_the_bucket(self):
        # as S3 answers (LocalStack's test_s3_api.py snapshots)
        from botocore.exceptions import ClientError
        b = self.bucket("config-ls-names")
        self.c.delete_bucket_ownership_controls(Bucket=b)
        self.c.delete_public_access_block(Bucket=b)
        for fn, code in ((self.c.get_object_lock_configuration,
                          "ObjectLockConfigurationNotFoundError"),
                         (self.c.get_bucket_ownership_controls, "OwnershipControlsNotFoundError"),
                         (self.c.get_public_access_block, "NoSuchPublicAccessBlockConfiguration"),
                         (self.c.get_bucket_policy, "NoSuchBucketPolicy"),
                         (self.c.get_bucket_cors, "NoSuchCORSConfiguration"),
                         (self.c.get_bucket_lifecycle_configuration,
                          "NoSuchLifecycleConfiguration"),
                         (self.c.get_bucket_website, "NoSuchWebsiteConfiguration")):
            with self.assertRaises(ClientError) as cm:
                fn(Bucket=b)
            err = cm.exception.response["Error"]
            self.assertEqual((err["Code"], err.get("BucketName")), (code, b))

    def test_ownership_and_policy_refused_as_s3_refuses_them(self):
        from botocore.exceptions import ClientError
        b = self.bucket("config-ls-own")
        self.assertEqual(self.error(self.c.put_bucket_ownership_controls, Bucket=b,
                                    OwnershipControls={"Rules": [
                                        {"ObjectOwnership": "BucketOwnerEnforced"},
                                        {"ObjectOwnership": "BucketOwnerPreferred"}]})[:2],
                         (400, "MalformedXML"))
        for value in ("RandomValue", ""):
            with self.assertRaises(ClientError) as cm:
                self.c.create_bucket(Bucket="config-ls-own-bad", ObjectOwnership=value)
            self.assertEqual(cm.exception.response["Error"], {
                "Code": "InvalidArgument", "ArgumentName": "x-amz-object-ownership",
                "Message": "Invalid x-amz-object-ownership header: " + value})
        self.assertEqual(self.error(self.c.put_bucket_policy, Bucket=b, Policy="{}"),
                         (400, "MalformedPolicy", "Missing required field Statement"))
        self.assertEqual(self.error(self.c.put_bucket_policy, Bucket=b, Policy="random")[2],
                         "Policies must be valid JSON and the first byte must be '{'")

    def test_create_bucket_with_tags(self):
        # CreateBucketConfiguration's Tags become the bucket's tag set, checked
        # as PutBucketTagging's (LocalStack's test_create_bucket_with_tags*,
        # test_create_bucket_with_empty_tags); an empty list leaves none
        from botocore.exceptions import ClientError
        self.c.create_bucket(Bucket="config-ls-tagged", CreateBucketConfiguration={
            "Tags": [{"Key": "tag1", "Value": "value1"}]})
        self.assertEqual(self.c.get_bucket_tagging(Bucket="config-ls-tagged")["TagSet"],
                         [{"Key": "tag1", "Value": "value1"}])
        self.c.create_bucket(Bucket="config-ls-untagged", CreateBucketConfiguration={"Tags": []})
        self.assertEqual(self.error(self.c.get_bucket_tagging, Bucket="config-ls-untagged")[1],
                         "NoSuchTagSet")
        for tag, err in (({"Key": "aws:test", "Value": "v"},
                          {"Message": "System tags cannot be added/updated by requester",
                           "TagKey": "aws:test"}),
                         ({"Key": "test", "Value": "value1,value2"},
                          {"Message": "The TagValue you have provided is invalid",
                           "TagKey": "test", "TagValue": "value1,value2"})):
            with self.assertRaises(ClientError) as cm:
                self.c.create_bucket(Bucket="config-ls-badtags",
                                     CreateBucketConfiguration={"Tags": [tag]})
            self.assertEqual(cm.exception.response["Error"], dict(err, Code="InvalidTag"))
        self.assertEqual(self.error(self.c.head_bucket, Bucket="config-ls-badtags")[0], 404)

    def test_lifecycle_rules_refused_as_s3_refuses_them(self):
        b = self.bucket("config-lc-refused")
        put = self.c.put_bucket_lifecycle_configuration
        kept = {"Rules": [self.rule(ID="kept", Expiration={"Days": 30})]}
        put(Bucket=b, LifecycleConfiguration=kept)
        cases = [
            ([self.rule(ID="n" * 256, Expiration={"Days": 3})], "InvalidArgument",
             "ID length should not exceed allowed limit of 255"),
            ([self.rule(ID="twice", Expiration={"Days": 3}),
              self.rule(ID="twice", Expiration={"Days": 9}, Filter={"Prefix": "docs/"})],
             "InvalidArgument", "Rule ID must be unique. Found same ID for more than one rule"),
            ([self.rule(ID="zero", Expiration={"Days": 0})], "InvalidArgument",
             "'Days' for Expiration action must be a positive integer"),
            ([self.rule(ID="noon", Expiration={"Date": "2031-03-04T12:00:00Z"})],
             "InvalidArgument", "'Date' must be at midnight GMT"),
            ([self.rule(ID="noon-move", Transitions=[
                {"Date": "2031-03-04T06:30:00Z", "StorageClass": "GLACIER"}])],
             "InvalidArgument", "'Date' must be at midnight GMT"),
            ([self.rule(ID="old", NoncurrentVersionExpiration={"NoncurrentDays": 0})],
             "InvalidArgument",
             "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer"),
            ([self.rule(ID="mpu", AbortIncompleteMultipartUpload={"DaysAfterInitiation": 0})],
             "InvalidArgument", "'DaysAfterInitiation' for AbortIncompleteMultipartUpload "
             "action must be a positive integer"),
            ([self.rule(ID="markers-too", Expiration={"Days": 3,
                                                      "ExpiredObjectDeleteMarker": True})],
             "MalformedXML", None),
            ([self.rule(ID="cold", Transitions=[{"Days": 30, "StorageClass": "FREEZER"}])],
             "MalformedXML", None),
            ([self.rule(ID="idle")], "InvalidRequest",
             "At least one action needs to be specified in a rule"),
            ([self.rule(ID="lower", Status="enabled", Expiration={"Days": 3})], "MalformedXML",
             None),
            # a Filter is one of Prefix, Tag, ObjectSize*, And
            ([self.rule(ID="two", Filter={"Prefix": "a/", "Tag": {"Key": "k", "Value": "v"}},
                        Expiration={"Days": 3})], "MalformedXML", None),
            ([self.rule(ID="both", Expiration={"Days": 3, "Date": "2031-03-04T00:00:00Z"})],
             "MalformedXML", None),
            ([self.rule(ID="tagged-mpu", Filter={"Tag": {"Key": "k", "Value": "v"}},
                        AbortIncompleteMultipartUpload={"DaysAfterInitiation": 2})],
             "InvalidRequest", "AbortIncompleteMultipartUpload cannot be specified with Tags."),
            ([self.rule(ID="keep-many", NoncurrentVersionExpiration={
                "NoncurrentDays": 3, "NewerNoncurrentVersions": 101})], "InvalidArgument", None),
        ]
        for rules, code, msg in cases:
            st, got, text = self.error(put, Bucket=b, LifecycleConfiguration={"Rules": rules})
            self.assertEqual((st, got), (400, code), rules)
            if msg:
                self.assertEqual(text, msg)
        self.assertEqual(self.c.get_bucket_lifecycle_configuration(Bucket=b)["Rules"],
                         kept["Rules"])
        # the limits themselves are fine
        ok = [self.rule(ID="m" * 255, Expiration={"Date": "2031-03-04T00:00:00Z"}),
              self.rule(ID="one", Expiration={"Days": 1}, Filter={"Prefix": "docs/"})]
        put(Bucket=b, LifecycleConfiguration={"Rules": ok})
        got = self.c.get_bucket_lifecycle_configuration(Bucket=b)["Rules"]
        self.assertEqual([r["ID"] for r in got], ["m" * 255, "one"])

    def test_rules_without_an_id_get_one(self):
        b = self.bucket("config-lc-ids")
        rules = [{"Status": "Enabled", "Prefix": "a/", "Expiration": {"Days": 7}},
                 {"Status": "Disabled", "Filter": {"And": {"Prefix": "b/", "Tags": [
                     {"Key": "kind", "Value": "<draft & old>"}]}},
                  "NoncurrentVersionExpiration": {"NoncurrentDays": 4}}]
        self.c.put_bucket_lifecycle_configuration(Bucket=b,
                                                  LifecycleConfiguration={"Rules": rules})
        got = self.c.get_bucket_lifecycle_configuration(Bucket=b)["Rules"]
        self.assertEqual(len(got), 2)
        ids = [r.pop("ID") for r in got]
        self.assertTrue(all(ids) and ids[0] != ids[1], ids)
        self.assertEqual(got, rules)

    def put_raw(self, bucket, sub, xml):
        import requests
        from botocore.auth import S3SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        req = AWSRequest(method="PUT", url="%s/%s?%s" % (self.server.url(), bucket, sub),
                         data=xml.encode())
        S3SigV4Auth(Credentials(self.server.access_key, self.server.secret_key), "s3",
                    self.server.region).add_auth(req)
        r = requests.put(req.url, data=xml.encode(), headers=dict(req.headers), timeout=10)
        return r.status_code, r.text

    def test_lifecycle_dates_as_sent(self):
        b = self.bucket("config-lc-dates")
        doc = ("<LifecycleConfiguration><Rule><ID>%s</ID><Filter><Prefix>%s</Prefix></Filter>"
               "<Status>Enabled</Status><Expiration><Date>%s</Date></Expiration></Rule>"
               "</LifecycleConfiguration>")
        st, text = self.put_raw(b, "lifecycle", doc % ("soon", "a/", "next week"))
        self.assertEqual(st, 400)
        self.assertIn("<Code>MalformedXML</Code>", text)
        # a plain ISO 8601 date is midnight GMT
        st, text = self.put_raw(b, "lifecycle", doc % ("day", "a/", "2041-02-03"))
        self.assertEqual(st, 200, text)
        got = self.expiry(self.c.put_object(Bucket=b, Key="a/x", Body=b"1"))
        self.assertEqual(got, (datetime.datetime(2041, 2, 3, tzinfo=datetime.timezone.utc),
                               "day"))

    def expiry(self, resp):
        h = resp["ResponseMetadata"]["HTTPHeaders"].get("x-amz-expiration")
        if h is None:
            return None
        m = re.fullmatch(r'expiry-date="([^"]+)", rule-id="([^"]*)"', h)
        self.assertIsNotNone(m, h)
        return email.utils.parsedate_to_datetime(m.group(1)), m.group(2)

    def test_expiration_header_says_when_a_rule_expires_the_object(self):
        b = self.bucket("config-lc-header")
        self.c.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": [
            {"ID": "week", "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
             "Expiration": {"Days": 7}},
            {"ID": "fortnight", "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
             "Expiration": {"Days": 14}},
            {"ID": "tagged", "Status": "Enabled",
             "Filter": {"Tag": {"Key": "scratch", "Value": "yes"}}, "Expiration": {"Days": 2}},
            {"ID": "fixed", "Status": "Enabled", "Filter": {"Prefix": "report/"},
             "Expiration": {"Date": "2040-06-01T00:00:00Z"}},
            {"ID": "off", "Status": "Disabled", "Filter": {"Prefix": "keep/"},
             "Expiration": {"Days": 1}},
        ]})
        put = self.c.put_object(Bucket=b, Key="tmp/a", Body=b"data")
        when, rule = self.expiry(put)
        lm = self.c.head_object(Bucket=b, Key="tmp/a")["LastModified"]
        # seven days after the write, rounded up to the next midnight UTC
        start = datetime.datetime(lm.year, lm.month, lm.day, tzinfo=datetime.timezone.utc)
        self.assertEqual((rule, when), ("week", start + datetime.timedelta(days=8)))
        self.assertEqual(self.expiry(self.c.head_object(Bucket=b, Key="tmp/a")), (when, rule))
        self.assertEqual(self.expiry(self.c.get_object(Bucket=b, Key="tmp/a")), (when, rule))
        # by tags, once they are there
        self.c.put_object(Bucket=b, Key="misc/x", Body=b"1")
        self.assertIsNone(self.expiry(self.c.head_object(Bucket=b, Key="misc/x")))
        self.c.put_object_tagging(Bucket=b, Key="misc/x",
                                  Tagging={"TagSet": [{"Key": "scratch", "Value": "yes"}]})
        self.assertEqual(self.expiry(self.c.head_object(Bucket=b, Key="misc/x"))[1], "tagged")
        self.assertEqual(self.expiry(self.c.put_object(Bucket=b, Key="misc/y", Body=b"1",
                                                       Tagging="scratch=yes"))[1], "tagged")
        # a date rule answers its date; a disabled rule or no match, nothing
        self.assertEqual(self.expiry(self.c.put_object(Bucket=b, Key="report/q1", Body=b"1")),
                         (datetime.datetime(2040, 6, 1, tzinfo=datetime.timezone.utc), "fixed"))
        self.assertIsNone(self.expiry(self.c.put_object(Bucket=b, Key="keep/a", Body=b"1")))
        # copies and completed uploads are new objects the rules apply to
        cp = self.c.copy_object(Bucket=b, Key="tmp/copy",
                                CopySource={"Bucket": b, "Key": "report/q1"})
        self.assertEqual(self.expiry(cp)[1], "week")
        up = self.c.create_multipart_upload(Bucket=b, Key="tmp/big")["UploadId"]
        p = self.c.upload_part(Bucket=b, Key="tmp/big", UploadId=up, PartNumber=1, Body=b"z")
        done = self.c.complete_multipart_upload(
            Bucket=b, Key="tmp/big", UploadId=up,
            MultipartUpload={"Parts": [{"ETag": p["ETag"], "PartNumber": 1,
                                        "ChecksumCRC32": p["ChecksumCRC32"]}]})
        self.assertEqual(self.expiry(done)[1], "week")
        # without a configuration, none
        self.c.delete_bucket_lifecycle(Bucket=b)
        self.assertIsNone(self.expiry(self.c.head_object(Bucket=b, Key="tmp/a")))

    def test_logging_needs_an_existing_target_bucket(self):
        b = self.bucket("config-logged")
        logs = self.bucket("config-logs")
        st, code, msg = self.error(self.c.put_bucket_logging, Bucket=b, BucketLoggingStatus={
            "LoggingEnabled": {"TargetBucket": "config-no-such-logs", "TargetPrefix": "l/"}})
        self.assertEqual((st, code), (400, "InvalidTargetBucketForLogging"))
        self.assertEqual(msg, "The target bucket for logging does not exist")
        self.assertNotIn("LoggingEnabled", self.c.get_bucket_logging(Bucket=b))
        st, code, _ = self.error(self.c.put_bucket_logging, Bucket=b, BucketLoggingStatus={
            "LoggingEnabled": {"TargetBucket": logs, "TargetPrefix": "l/",
                               "TargetObjectKeyFormat": {"PartitionedPrefix": {
                                   "PartitionDateSource": "Yesterday"}}}})
        self.assertEqual((st, code), (400, "MalformedXML"))
        self.c.put_bucket_logging(Bucket=b, BucketLoggingStatus={
            "LoggingEnabled": {"TargetBucket": logs, "TargetPrefix": "l/"}})
        self.assertEqual(self.c.get_bucket_logging(Bucket=b)["LoggingEnabled"]["TargetBucket"],
                         logs)

    def test_mfa_delete_refused_not_ignored(self):
        b = self.bucket("config-mfa")
        st, code, _ = self.error(self.c.put_bucket_versioning, Bucket=b, MFA="arn:x 123456",
                                 VersioningConfiguration={"Status": "Enabled",
                                                          "MFADelete": "Enabled"})
        self.assertEqual((st, code), (501, "NotImplemented"))
        self.assertNotIn("Status", self.c.get_bucket_versioning(Bucket=b))
        self.c.put_bucket_versioning(Bucket=b, VersioningConfiguration={
            "Status": "Enabled", "MFADelete": "Disabled"})
        self.assertEqual(self.c.get_bucket_versioning(Bucket=b)["Status"], "Enabled")

    def test_bucket_tags_reserved_and_counted(self):
        b = self.bucket("config-tags")
        self.c.put_bucket_tagging(Bucket=b, Tagging={"TagSet": [{"Key": "team", "Value": "a"}]})
        st, code, msg = self.error(self.c.put_bucket_tagging, Bucket=b, Tagging={"TagSet": [
            {"Key": "aws:cloudformation:stack-name", "Value": "x"}]})
        self.assertEqual((st, code, msg),
                         (400, "InvalidTag", "System tags cannot be added/updated by requester"))
        st, code, msg = self.error(self.c.put_bucket_tagging, Bucket=b, Tagging={"TagSet": [
            {"Key": "t%d" % i, "Value": "v"} for i in range(51)]})
        self.assertEqual((code, msg), ("InvalidTag", "Bucket tag count cannot be greater than 50"))
        self.assertEqual(self.c.get_bucket_tagging(Bucket=b)["TagSet"],
                         [{"Key": "team", "Value": "a"}])

    def test_cors_headers_on_refusals_too(self):
        import json
        import urllib.error
        import urllib.request
        b = self.bucket("config-cors-refused")
        self.c.delete_public_access_block(Bucket=b)
        self.c.put_bucket_policy(Bucket=b, Policy=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject", "s3:ListBucket"],
                "Resource": ["arn:aws:s3:::%s" % b, "arn:aws:s3:::%s/*" % b]}]}))
        self.c.put_bucket_cors(Bucket=b, CORSConfiguration={"CORSRules": [
            {"AllowedMethods": ["GET"], "AllowedOrigins": ["https://read.example"]},
            {"AllowedMethods": ["PUT"], "AllowedOrigins": ["https://write.example"]}]})

        def call(method, origin, **extra):
            headers = {"Origin": origin}
            headers.update(extra)
            req = urllib.request.Request("%s/%s/no-such-page" % (self.server.url(), b),
                                         data=b"" if method == "PUT" else None,
                                         method=method, headers=headers)
            try:
                with urllib.request.urlopen(req, timeout=10) as resp:
                    st, h = resp.status, resp.headers
            except urllib.error.HTTPError as e:
                st, h = e.code, e.headers
            return st, h.get("Access-Control-Allow-Origin"), h.get("Access-Control-Allow-Methods")

        # an anonymous write refused by the policy still tells the browser its rule
        self.assertEqual(call("PUT", "https://write.example"),
                         (403, "https://write.example", "PUT"))
        self.assertEqual(call("PUT", "https://read.example"), (403, None, None))
        # a missing object as well
        self.assertEqual(call("GET", "https://read.example"), (404, "https://read.example", "GET"))
        # Access-Control-Request-Method names the method to match
        self.assertEqual(call("PUT", "https://read.example", **{
            "Access-Control-Request-Method": "GET"}), (403, "https://read.example", "GET"))


if __name__ == "__main__":
    unittest.main()
