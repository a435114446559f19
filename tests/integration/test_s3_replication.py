"""S3 cross-region replication between two regions on loopback, each started
with --peer to the other: the configuration API (aws CLI and boto3) and its
errors, versions and delete markers copied with their ids, statuses moving
PENDING -> COMPLETED, a destination that is down and comes back, kill -9 of
either side mid-copy, two-way rules that do not loop, replicate-existing,
FAILED versions (destination without versioning) retried by the command."""

import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import tandem_harness as th  # noqa: E402
from repl_helpers import deployment  # noqa: E402

try:
    import boto3  # noqa: F401
    from botocore.exceptions import ClientError
except ImportError:
    boto3 = None

ROLE = "s3-crr"
POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObjectVersionForReplication",
                                       "s3:ReplicateObject", "s3:ReplicateDelete",
                                       "s3:ReplicateTags"],
         "Resource": "arn:aws:s3:::*"}]}
TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
    "Action": "sts:AssumeRole"}]}


def make_role(regions):
    """The replication role in every region (IAM data may already be shared
    between regions: a role made in one then exists in the other)."""
    arns = {}
    for r in regions:
        iam = r.boto3("iam")
        try:
            iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(TRUST))
        except ClientError as e:
            if code_of(e) != "EntityAlreadyExists":
                raise
        iam.put_role_policy(RoleName=ROLE, PolicyName="crr", PolicyDocument=json.dumps(POLICY))
        arns[r.region] = iam.get_role(RoleName=ROLE)["Role"]["Arn"]
    return arns


def code_of(exc):
    return exc.response["Error"]["Code"]


def wait_for(fn, what, timeout=30, interval=0.1):
    deadline = time.monotonic() + timeout
    while True:
        got = fn()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(interval)


class Replication(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if boto3 is None:
            raise unittest.SkipTest("no boto3")
        os.environ["TANDEM_S3_REPL_MAX_TRIES"] = "2"
        cls.east, cls.west = deployment(["us-east-1", "us-west-2"])
        cls.role_arn = make_role((cls.east, cls.west))

    @classmethod
    def tearDownClass(cls):
        for r in (cls.east, cls.west):
            r.stop()
            r.cleanup()
        os.environ.pop("TANDEM_S3_REPL_MAX_TRIES", None)

    def s3(self, region):
        return region.boto3("s3", s3={"addressing_style": "path"}, max_attempts=1)

    def bucket(self, region, versioning=True):
        c = self.s3(region)
        name = "r-" + th.random_key(10).lower()
        kw = {}
        if region.region != "us-east-1":
            kw["CreateBucketConfiguration"] = {"LocationConstraint": region.region}
        c.create_bucket(Bucket=name, **kw)
        if versioning:
            c.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        return name

    def rule_config(self, region, dest, prefix="", dm=True, **extra):
        rule = {"ID": "all", "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": prefix},
                "DeleteMarkerReplication": {"Status": "Enabled" if dm else "Disabled"},
                "Destination": {"Bucket": "arn:aws:s3:::" + dest, "StorageClass": "STANDARD"}}
        rule.update(extra)
        return {"Role": self.role_arn[region.region], "Rules": [rule]}

    def pair(self, dm=True):
        src, dst = self.bucket(self.east), self.bucket(self.west)
        self.s3(self.east).put_bucket_replication(
            Bucket=src, ReplicationConfiguration=self.rule_config(self.east, dst, dm=dm))
        return src, dst

    def status(self, region, bucket, key, vid=None):
        kw = {"VersionId": vid} if vid else {}
        try:
            return self.s3(region).head_object(Bucket=bucket, Key=key, **kw).get(
                "ReplicationStatus")
        except ClientError as e:
            return "missing:" + code_of(e)

    def versions(self, region, bucket):
        r = self.s3(region).list_object_versions(Bucket=bucket)
        v = [(x["Key"], x["VersionId"], x["ETag"], False) for x in r.get("Versions", [])]
        v += [(x["Key"], x["VersionId"], None, True) for x in r.get("DeleteMarkers", [])]
        return sorted(v)

    def wait_same(self, src, dst, timeout=30):
        wait_for(lambda: self.versions(self.west, dst) == self.versions(self.east, src) or None,
                 "the destination to hold the source's versions", timeout)

    # -- configuration ---------------------------------------------------------

    def test_configuration_api_and_errors(self):
        c = self.s3(self.east)
        src, dst = self.bucket(self.east), self.bucket(self.west)
        with self.assertRaises(ClientError) as cm:
            c.get_bucket_replication(Bucket=src)
        self.assertEqual(code_of(cm.exception), "ReplicationConfigurationNotFoundError")
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 404)
        with self.assertRaises(ClientError) as cm:
            c.delete_bucket_replication(Bucket=src)
        self.assertEqual(code_of(cm.exception), "ReplicationConfigurationNotFoundError")
        # versioning must be Enabled
        plain = self.bucket(self.east, versioning=False)
        with self.assertRaises(ClientError) as cm:
            c.put_bucket_replication(Bucket=plain,
                                     ReplicationConfiguration=self.rule_config(self.east, dst))
        self.assertEqual(code_of(cm.exception), "InvalidRequest")
        self.assertIn("Versioning must be 'Enabled'", cm.exception.response["Error"]["Message"])
        # a destination that is not a bucket ARN; an unknown role; malformed XML
        bad = self.rule_config(self.east, dst)
        bad["Rules"][0]["Destination"]["Bucket"] = "not-an-arn"
        with self.assertRaises(ClientError) as cm:
            c.put_bucket_replication(Bucket=src, ReplicationConfiguration=bad)
        self.assertEqual(code_of(cm.exception), "InvalidArgument")
        bad = self.rule_config(self.east, dst)
        bad["Role"] = "arn:aws:iam::123456789012:role/nobody"
        with self.assertRaises(ClientError) as cm:
            c.put_bucket_replication(Bucket=src, ReplicationConfiguration=bad)
        self.assertEqual(code_of(cm.exception), "InvalidArgument")
        bad = self.rule_config(self.east, dst)
        del bad["Rules"][0]["DeleteMarkerReplication"]
        with self.assertRaises(ClientError) as cm:
            c.put_bucket_replication(Bucket=src, ReplicationConfiguration=bad)
        self.assertEqual(code_of(cm.exception), "InvalidRequest")
        st, _, body = self.east.internal(
            "PUT", "/" + src, "replication", b"<ReplicationConfiguration><Rule>",
            service="s3")
        self.assertEqual(st, 400)
        self.assertIn(b"MalformedXML", body)
        # the aws CLI with a JSON file: an And filter (prefix and tags) and the
        # old-style rule with a top-level Prefix, both read back by boto3
        clients = [cl for cl in th.find_clients() if cl.kind == "cli" and not cl.missing]
        if not clients:
            raise unittest.SkipTest("no aws CLI")
        cfg = {"Role": self.role_arn["us-east-1"], "Rules": [
            {"ID": "tagged", "Priority": 2, "Status": "Enabled",
             "Filter": {"And": {"Prefix": "logs/", "Tags": [{"Key": "k", "Value": "v"}]}},
             "DeleteMarkerReplication": {"Status": "Disabled"},
             "Destination": {"Bucket": "arn:aws:s3:::" + dst, "StorageClass": "STANDARD_IA"},
             "SourceSelectionCriteria": {"ReplicaModifications": {"Status": "Enabled"}}},
            {"ID": "rest", "Priority": 1, "Status": "Disabled", "Filter": {"Prefix": "x/"},
             "DeleteMarkerReplication": {"Status": "Enabled"},
             "Destination": {"Bucket": "arn:aws:s3:::" + dst}}]}
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(cfg, f)
        try:
            p = subprocess.run(clients[0].argv + [
                "s3api", "put-bucket-replication", "--bucket", src,
                "--replication-configuration", "file://" + f.name,
                "--endpoint-url", self.east.url()], env=self.east.env(),
                capture_output=True, text=True, timeout=120)
            self.assertEqual(p.returncode, 0, p.stderr)
        finally:
            os.unlink(f.name)
        got = c.get_bucket_replication(Bucket=src)["ReplicationConfiguration"]
        self.assertEqual(got["Role"], cfg["Role"])
        self.assertEqual([r["ID"] for r in got["Rules"]], ["tagged", "rest"])
        self.assertEqual(got["Rules"][0]["Filter"]["And"]["Tags"], [{"Key": "k", "Value": "v"}])
        self.assertEqual(got["Rules"][0]["Destination"]["StorageClass"], "STANDARD_IA")
        old = {"Role": self.role_arn["us-east-1"], "Rules": [
            {"ID": "v1", "Prefix": "docs/", "Status": "Enabled",
             "Destination": {"Bucket": "arn:aws:s3:::" + dst}}]}
        c.put_bucket_replication(Bucket=src, ReplicationConfiguration=old)
        self.assertEqual(c.get_bucket_replication(Bucket=src)["ReplicationConfiguration"]
                         ["Rules"][0]["Prefix"], "docs/")
        # versioning cannot be suspended under a replication configuration
        with self.assertRaises(ClientError) as cm:
            c.put_bucket_versioning(Bucket=src, VersioningConfiguration={"Status": "Suspended"})
        self.assertEqual(code_of(cm.exception), "InvalidBucketState")
        # only docs/ is replicated by that rule
        c.put_object(Bucket=src, Key="docs/a", Body=b"a")
        c.put_object(Bucket=src, Key="other", Body=b"b")
        self.assertIsNone(self.status(self.east, src, "other"))
        wait_for(lambda: self.status(self.east, src, "docs/a") == "COMPLETED", "docs/a")
        c.delete_bucket_replication(Bucket=src)
        with self.assertRaises(ClientError) as cm:
            c.get_bucket_replication(Bucket=src)
        self.assertEqual(code_of(cm.exception), "ReplicationConfigurationNotFoundError")

    def test_tag_filter_selects(self):
        src, dst = self.bucket(self.east), self.bucket(self.west)
        cfg = self.rule_config(self.east, dst, dm=False)
        cfg["Rules"][0]["Filter"] = {"Tag": {"Key": "replicate", "Value": "yes"}}
        c = self.s3(self.east)
        c.put_bucket_replication(Bucket=src, ReplicationConfiguration=cfg)
        c.put_object(Bucket=src, Key="t1", Body=b"1", Tagging="replicate=yes")
        c.put_object(Bucket=src, Key="t2", Body=b"2", Tagging="replicate=no")
        wait_for(lambda: self.status(self.east, src, "t1") == "COMPLETED", "t1 replicated")
        self.assertIsNone(self.status(self.east, src, "t2"))
        self.assertEqual(self.status(self.west, dst, "t2"), "missing:404")
        tags = self.s3(self.west).get_object_tagging(Bucket=dst, Key="t1")["TagSet"]
        self.assertEqual(tags, [{"Key": "replicate", "Value": "yes"}])

    # -- copying ---------------------------------------------------------------

    def test_versions_and_markers_keep_ids_and_metadata(self):
        src, dst = self.pair()
        c, w = self.s3(self.east), self.s3(self.west)
        for cl, bk in ((c, src), (w, dst)):  # ACLs on: the object's canned ACL goes along
            cl.put_bucket_ownership_controls(Bucket=bk, OwnershipControls={
                "Rules": [{"ObjectOwnership": "ObjectWriter"}]})
            cl.delete_public_access_block(Bucket=bk)
        v1 = c.put_object(Bucket=src, Key="k", Body=b"one", Metadata={"color": "red"},
                          ContentType="text/plain", ChecksumAlgorithm="SHA256",
                          ACL="public-read")
        v2 = c.put_object(Bucket=src, Key="k", Body=b"two two")
        self.assertIn(self.status(self.east, src, "k", v1["VersionId"]),
                      ("PENDING", "COMPLETED"))
        d = c.delete_object(Bucket=src, Key="k")
        self.assertTrue(d["DeleteMarker"])
        self.wait_same(src, dst)
        for v in (v1, v2):
            wait_for(lambda: self.status(self.east, src, "k", v["VersionId"]) == "COMPLETED",
                     "COMPLETED on the source")
        h = w.head_object(Bucket=dst, Key="k", VersionId=v1["VersionId"], ChecksumMode="ENABLED")
        hs = c.head_object(Bucket=src, Key="k", VersionId=v1["VersionId"])
        self.assertEqual(h["ReplicationStatus"], "REPLICA")
        self.assertEqual(h["ETag"], v1["ETag"])
        self.assertEqual(h["Metadata"], {"color": "red"})
        self.assertEqual(h["ContentType"], "text/plain")
        self.assertEqual(h["LastModified"], hs["LastModified"])
        self.assertEqual(h.get("ChecksumSHA256"), v1.get("ChecksumSHA256"))
        grants = w.get_object_acl(Bucket=dst, Key="k", VersionId=v1["VersionId"])["Grants"]
        self.assertIn("http://acs.amazonaws.com/groups/global/AllUsers",
                      [g["Grantee"].get("URI") for g in grants])
        self.assertEqual(w.get_object(Bucket=dst, Key="k", VersionId=v2["VersionId"])
                         ["Body"].read(), b"two two")
        # the marker is the current version there too
        with self.assertRaises(ClientError) as cm:
            w.get_object(Bucket=dst, Key="k")
        self.assertEqual(code_of(cm.exception), "NoSuchKey")
        # deleting a specific version is not replicated
        c.delete_object(Bucket=src, Key="k", VersionId=v1["VersionId"])
        c.put_object(Bucket=src, Key="after", Body=b"x")
        wait_for(lambda: self.status(self.east, src, "after") == "COMPLETED", "after")
        self.assertEqual(w.head_object(Bucket=dst, Key="k", VersionId=v1["VersionId"])
                         ["ETag"], v1["ETag"])

    def test_markers_not_replicated_when_disabled_and_multipart(self):
        src, dst = self.pair(dm=False)
        c, w = self.s3(self.east), self.s3(self.west)
        up = c.create_multipart_upload(Bucket=src, Key="mp")
        p1 = c.upload_part(Bucket=src, Key="mp", UploadId=up["UploadId"], PartNumber=1,
                           Body=b"a" * (5 << 20))
        p2 = c.upload_part(Bucket=src, Key="mp", UploadId=up["UploadId"], PartNumber=2,
                           Body=b"b" * 1000)
        done = c.complete_multipart_upload(
            Bucket=src, Key="mp", UploadId=up["UploadId"],
            MultipartUpload={"Parts": [
                {"PartNumber": n, "ETag": p["ETag"], "ChecksumCRC32": p["ChecksumCRC32"]}
                for n, p in ((1, p1), (2, p2))]})
        wait_for(lambda: self.status(self.east, src, "mp") == "COMPLETED", "mp replicated")
        h = w.head_object(Bucket=dst, Key="mp")
        self.assertEqual(h["ETag"], done["ETag"])
        self.assertEqual(h["ContentLength"], (5 << 20) + 1000)
        c.delete_object(Bucket=src, Key="mp")
        c.put_object(Bucket=src, Key="later", Body=b"l")
        wait_for(lambda: self.status(self.east, src, "later") == "COMPLETED", "later")
        self.assertEqual(w.head_object(Bucket=dst, Key="mp")["ETag"], done["ETag"])

    def test_two_way_rules_do_not_loop(self):
        a, b = self.bucket(self.east), self.bucket(self.west)
        c, w = self.s3(self.east), self.s3(self.west)
        c.put_bucket_replication(Bucket=a, ReplicationConfiguration=self.rule_config(self.east, b))
        w.put_bucket_replication(Bucket=b, ReplicationConfiguration=self.rule_config(self.west, a))
        va = c.put_object(Bucket=a, Key="from-east", Body=b"e")
        vb = w.put_object(Bucket=b, Key="from-west", Body=b"w")
        wait_for(lambda: self.status(self.east, a, "from-east") == "COMPLETED", "east->west")
        wait_for(lambda: self.status(self.west, b, "from-west") == "COMPLETED", "west->east")
        self.assertEqual(self.status(self.east, a, "from-west"), "REPLICA")
        self.assertEqual(self.status(self.west, b, "from-east"), "REPLICA")
        time.sleep(1.5)
        self.assertEqual(self.versions(self.east, a), self.versions(self.west, b))
        self.assertEqual(len(self.versions(self.east, a)), 2)
        self.assertEqual(c.head_object(Bucket=a, Key="from-west")["VersionId"], vb["VersionId"])
        self.assertEqual(w.head_object(Bucket=b, Key="from-east")["VersionId"], va["VersionId"])

    def tags(self, region, bucket, key, vid):
        return {t["Key"]: t["Value"] for t in self.s3(region).get_object_tagging(
            Bucket=bucket, Key=key, VersionId=vid)["TagSet"]}

    def test_tag_changes_replicate(self):
        """PutObjectTagging / DeleteObjectTagging on a replicated version update
        the replica's tags (with s3:ReplicateTags); the replica's version stays."""
        src, dst = self.pair()
        c = self.s3(self.east)
        v = c.put_object(Bucket=src, Key="tagged", Body=b"t", Tagging="a=1")["VersionId"]
        wait_for(lambda: self.status(self.east, src, "tagged") == "COMPLETED", "replicated")
        self.assertEqual(self.tags(self.west, dst, "tagged", v), {"a": "1"})
        c.put_object_tagging(Bucket=src, Key="tagged", VersionId=v,
                             Tagging={"TagSet": [{"Key": "a", "Value": "2"},
                                                 {"Key": "b", "Value": "x y"}]})
        wait_for(lambda: self.tags(self.west, dst, "tagged", v) == {"a": "2", "b": "x y"},
                 "the new tags on the replica")
        c.delete_object_tagging(Bucket=src, Key="tagged")
        wait_for(lambda: self.tags(self.west, dst, "tagged", v) == {}, "tags deleted on the replica")
        self.assertEqual(self.status(self.east, src, "tagged"), "COMPLETED")
        self.assertEqual(self.status(self.west, dst, "tagged"), "REPLICA")
        self.assertEqual(len(self.versions(self.west, dst)), 1)
        # a version never replicated (no rule matched it then) sends nothing
        other = self.bucket(self.east)
        c.put_object(Bucket=other, Key="k", Body=b"k")
        c.put_bucket_replication(Bucket=other,
                                 ReplicationConfiguration=self.rule_config(self.east, dst))
        c.put_object_tagging(Bucket=other, Key="k", Tagging={"TagSet": [{"Key": "z",
                                                                         "Value": "1"}]})
        time.sleep(1)
        self.assertEqual(self.status(self.west, dst, "k"), "missing:404")
        # the replica header is the root's alone, even for a user allowed s3:*
        u = self.user_claiming_replica("tagger", "PutObjectTagging", "tags")
        with self.assertRaises(ClientError) as cm:
            u.put_object_tagging(Bucket=dst, Key="tagged", VersionId=v, Tagging={"TagSet": []})
        self.assertEqual(code_of(cm.exception), "AccessDenied")

    def two_way(self, acls=False):
        """Bucket a in us-east-1 replicating to b in us-west-2, and b back to a with
        ReplicaModifications Enabled (a's rule leaves it off); one version each
        side (key "e" in a, "w" in b), both replicated. With ACLS, ACLs are on in
        both buckets. Returns a, b, their clients and the two version ids."""
        a, b = self.bucket(self.east), self.bucket(self.west)
        if acls:
            self.acls_on((self.east, a), (self.west, b))
        c, w = self.s3(self.east), self.s3(self.west)
        c.put_bucket_replication(Bucket=a, ReplicationConfiguration=self.rule_config(self.east, b))
        w.put_bucket_replication(Bucket=b, ReplicationConfiguration=self.rule_config(
            self.west, a, SourceSelectionCriteria={"ReplicaModifications": {"Status": "Enabled"}}))
        va = c.put_object(Bucket=a, Key="e", Body=b"e")["VersionId"]
        vb = w.put_object(Bucket=b, Key="w", Body=b"w")["VersionId"]
        wait_for(lambda: self.status(self.east, a, "e") == "COMPLETED", "east->west")
        wait_for(lambda: self.status(self.west, b, "w") == "COMPLETED", "west->east")
        return a, b, c, w, va, vb

    def user_claiming_replica(self, name, operation, value):
        """An S3 client in us-west-2 for a new user allowed s3:*, whose OPERATION
        requests carry x-tandem-replica: VALUE (which only the root may send)."""
        iam = self.west.boto3("iam")
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName="all", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*",
                                                    "Resource": "*"}]}))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        u = self.west.boto3("s3", access_key=key["AccessKeyId"],
                            secret_key=key["SecretAccessKey"], s3={"addressing_style": "path"})
        u.meta.events.register("before-sign.s3." + operation,
                               lambda request, **kw: request.headers.add_header(
                                   "x-tandem-replica", value))
        return u

    def acls_on(self, *pairs):
        """ACLs enabled (ObjectOwnership BucketOwnerPreferred, no Block Public
        Access) on each (region, bucket)."""
        for region, bk in pairs:
            cl = self.s3(region)
            cl.put_bucket_ownership_controls(Bucket=bk, OwnershipControls={
                "Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]})
            cl.delete_public_access_block(Bucket=bk)

    def acl(self, region, bucket, key, vid):
        """The group grants of a version's ACL, as GetObjectAcl answers them."""
        r = self.s3(region).get_object_acl(Bucket=bucket, Key=key, VersionId=vid)
        return sorted((g["Grantee"]["URI"].rsplit("/", 1)[-1], g["Permission"])
                      for g in r["Grants"] if g["Grantee"]["Type"] == "Group")

    def test_acl_changes_replicate(self):
        """PutObjectAcl on a replicated version updates the replica's canned ACL
        (with s3:ReplicateObject); the replica's version and tags stay."""
        src, dst = self.pair()
        self.acls_on((self.east, src), (self.west, dst))
        c = self.s3(self.east)
        v = c.put_object(Bucket=src, Key="acl", Body=b"a", Tagging="t=1")["VersionId"]
        wait_for(lambda: self.status(self.east, src, "acl") == "COMPLETED", "replicated")
        self.assertEqual(self.acl(self.west, dst, "acl", v), [])
        c.put_object_acl(Bucket=src, Key="acl", VersionId=v, ACL="public-read")
        wait_for(lambda: self.acl(self.west, dst, "acl", v) == [("AllUsers", "READ")],
                 "the new ACL on the replica")
        c.put_object_acl(Bucket=src, Key="acl", ACL="authenticated-read")
        wait_for(lambda: self.acl(self.west, dst, "acl", v) == [("AuthenticatedUsers", "READ")],
                 "the next ACL on the replica")
        c.put_object_acl(Bucket=src, Key="acl", ACL="private")
        wait_for(lambda: self.acl(self.west, dst, "acl", v) == [], "private again on the replica")
        self.assertEqual(self.status(self.east, src, "acl"), "COMPLETED")
        self.assertEqual(self.status(self.west, dst, "acl"), "REPLICA")
        self.assertEqual(len(self.versions(self.west, dst)), 1)
        self.assertEqual(self.tags(self.west, dst, "acl", v), {"t": "1"})
        # the replica's own ACL write is not sent back (no rule on its bucket)
        self.s3(self.west).put_object_acl(Bucket=dst, Key="acl", VersionId=v, ACL="public-read")
        time.sleep(1.5)
        self.assertEqual(self.acl(self.east, src, "acl", v), [])
        self.assertEqual(len(self.versions(self.east, src)), 1)
        # a version never replicated (no rule matched it then) sends nothing
        other = self.bucket(self.east)
        self.acls_on((self.east, other))
        c.put_object(Bucket=other, Key="k", Body=b"k")
        c.put_bucket_replication(Bucket=other,
                                 ReplicationConfiguration=self.rule_config(self.east, dst))
        c.put_object_acl(Bucket=other, Key="k", ACL="public-read")
        time.sleep(1)
        self.assertEqual(self.status(self.west, dst, "k"), "missing:404")
        # the replica header is the root's alone, even for a user allowed s3:*
        u = self.user_claiming_replica("acler", "PutObjectAcl", "acl")
        with self.assertRaises(ClientError) as cm:
            u.put_object_acl(Bucket=dst, Key="acl", VersionId=v, ACL="private")
        self.assertEqual(code_of(cm.exception), "AccessDenied")

    def test_acl_change_needs_replicate_object(self):
        """An ACL entry is authorized as s3:ReplicateObject on the destination
        (s3:ReplicateTags is not enough): refused, it is dropped after
        TANDEM_S3_REPL_MAX_TRIES tries and the version's status stays."""
        src, dst = self.pair()
        self.acls_on((self.east, src), (self.west, dst))
        c = self.s3(self.east)
        v = c.put_object(Bucket=src, Key="r", Body=b"r")["VersionId"]
        wait_for(lambda: self.status(self.east, src, "r") == "COMPLETED", "replicated")
        iam = self.east.boto3("iam")
        try:
            iam.create_role(RoleName="crr-tags-only", AssumeRolePolicyDocument=json.dumps(TRUST))
        except ClientError as e:
            if code_of(e) != "EntityAlreadyExists":
                raise
        iam.put_role_policy(RoleName="crr-tags-only", PolicyName="tags", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": ["s3:GetObjectVersionForReplication",
                                              "s3:ReplicateTags"],
                "Resource": "arn:aws:s3:::*"}]}))
        cfg = self.rule_config(self.east, dst)
        cfg["Role"] = iam.get_role(RoleName="crr-tags-only")["Role"]["Arn"]
        c.put_bucket_replication(Bucket=src, ReplicationConfiguration=cfg)
        c.put_object_acl(Bucket=src, Key="r", VersionId=v, ACL="public-read")
        c.put_object_tagging(Bucket=src, Key="r", VersionId=v,
                             Tagging={"TagSet": [{"Key": "after", "Value": "acl"}]})
        wait_for(lambda: self.tags(self.west, dst, "r", v) == {"after": "acl"},
                 "the tag change (s3:ReplicateTags allowed) on the replica")
        time.sleep(2)
        self.assertEqual(self.acl(self.west, dst, "r", v), [])
        self.assertEqual(self.acl(self.east, src, "r", v), [("AllUsers", "READ")])
        self.assertEqual(self.status(self.east, src, "r"), "COMPLETED")

    def test_replica_acl_changes_sync_back_by_rule(self):
        """Two-way: ACL changes made on a replica go back to the source only
        where the replica's bucket has a rule with ReplicaModifications Enabled."""
        a, b, c, w, va, vb = self.two_way(acls=True)
        # a replica in west changed: west's rule syncs replica modifications back
        w.put_object_acl(Bucket=b, Key="e", VersionId=va, ACL="public-read")
        wait_for(lambda: self.acl(self.east, a, "e", va) == [("AllUsers", "READ")],
                 "the replica's ACL change back on the source")
        # a replica in east changed: east's rule does not sync replica modifications
        c.put_object_acl(Bucket=a, Key="w", VersionId=vb, ACL="public-read")
        time.sleep(1.5)
        self.assertEqual(self.acl(self.west, b, "w", vb), [])
        # nothing loops: statuses and version counts stay
        self.assertEqual(self.status(self.east, a, "e"), "COMPLETED")
        self.assertEqual(self.status(self.west, b, "e"), "REPLICA")
        self.assertEqual(self.versions(self.east, a), self.versions(self.west, b))
        self.assertEqual(len(self.versions(self.east, a)), 2)

    def test_replica_modifications_sync_back(self):
        """Two-way: tag changes made on a replica go back to the source only
        where the replica's bucket has a rule with ReplicaModifications Enabled."""
        a, b, c, w, va, vb = self.two_way()
        # a replica in west changed: west's rule syncs replica modifications back
        w.put_object_tagging(Bucket=b, Key="e", VersionId=va,
                             Tagging={"TagSet": [{"Key": "changed", "Value": "in-west"}]})
        wait_for(lambda: self.tags(self.east, a, "e", va) == {"changed": "in-west"},
                 "the replica's tag change back on the source")
        # a replica in east changed: east's rule does not sync replica modifications
        c.put_object_tagging(Bucket=a, Key="w", VersionId=vb,
                             Tagging={"TagSet": [{"Key": "changed", "Value": "in-east"}]})
        time.sleep(1.5)
        self.assertEqual(self.tags(self.west, b, "w", vb), {})
        # nothing loops: statuses and version counts stay
        self.assertEqual(self.status(self.east, a, "e"), "COMPLETED")
        self.assertEqual(self.status(self.west, b, "e"), "REPLICA")
        self.assertEqual(len(self.versions(self.east, a)), 2)
        self.assertEqual(self.versions(self.east, a), self.versions(self.west, b))

    def test_destination_without_versioning_fails_then_retry(self):
        src = self.bucket(self.east)
        dst = self.bucket(self.west, versioning=False)
        c = self.s3(self.east)
        c.put_bucket_replication(Bucket=src,
                                 ReplicationConfiguration=self.rule_config(self.east, dst))
        v = c.put_object(Bucket=src, Key="f", Body=b"f")
        wait_for(lambda: self.status(self.east, src, "f") == "FAILED", "FAILED", timeout=30)
        self.s3(self.west).put_bucket_versioning(
            Bucket=dst, VersioningConfiguration={"Status": "Enabled"})
        p = subprocess.run([th.tandem_bin(), "s3", "replicate-existing", "--bucket", src,
                            "--failed", "--endpoint", "us-east-1=" + self.east.url(),
                            "--access-key", self.east.access_key,
                            "--secret-key", self.east.secret_key],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("queued 1 version", p.stdout)
        wait_for(lambda: self.status(self.east, src, "f") == "COMPLETED", "retried")
        self.assertEqual(self.s3(self.west).head_object(Bucket=dst, Key="f")["VersionId"],
                         v["VersionId"])

    def test_several_destinations(self):
        """Rules with different destinations each get a copy (per destination
        the highest-priority rule); the source's status is PENDING until every
        destination is done, FAILED when one failed."""
        src = self.bucket(self.east)
        d1, d2 = self.bucket(self.west), self.bucket(self.east)
        d3 = self.bucket(self.west, versioning=False)
        c = self.s3(self.east)

        def rule(rid, prio, prefix, dest):
            return {"ID": rid, "Priority": prio, "Status": "Enabled",
                    "Filter": {"Prefix": prefix},
                    "DeleteMarkerReplication": {"Status": "Disabled"},
                    "Destination": {"Bucket": "arn:aws:s3:::" + dest}}
        c.put_bucket_replication(Bucket=src, ReplicationConfiguration={
            "Role": self.role_arn["us-east-1"],
            "Rules": [rule("to-d1", 1, "", d1), rule("to-d2", 2, "", d2),
                      rule("d1-again", 3, "two/", d1), rule("to-d3", 4, "bad/", d3)]})
        v = c.put_object(Bucket=src, Key="two/k", Body=b"both", Tagging="n=1")["VersionId"]
        wait_for(lambda: self.status(self.east, src, "two/k") == "COMPLETED", "both copies")
        for region, dest in ((self.west, d1), (self.east, d2)):
            self.assertEqual(self.s3(region).get_object(Bucket=dest, Key="two/k",
                                                        VersionId=v)["Body"].read(), b"both")
            self.assertEqual(self.status(region, dest, "two/k"), "REPLICA")
            self.assertEqual(len(self.versions(region, dest)), 1)
        # tag changes go to every destination the version went to
        c.put_object_tagging(Bucket=src, Key="two/k", VersionId=v,
                             Tagging={"TagSet": [{"Key": "n", "Value": "2"}]})
        wait_for(lambda: self.tags(self.west, d1, "two/k", v) == {"n": "2"} and
                 self.tags(self.east, d2, "two/k", v) == {"n": "2"}, "tags on both")
        # one destination refuses (no versioning): FAILED, the others have their copy
        w = c.put_object(Bucket=src, Key="bad/k", Body=b"x")["VersionId"]
        wait_for(lambda: self.status(self.east, src, "bad/k") == "FAILED", "FAILED", timeout=30)
        self.assertEqual(self.s3(self.west).head_object(Bucket=d1, Key="bad/k")["VersionId"], w)
        self.assertEqual(self.s3(self.east).head_object(Bucket=d2, Key="bad/k")["VersionId"], w)

    def test_existing_object_replication_rule(self):
        """ExistingObjectReplication Enabled: putting the configuration queues
        what the bucket already held (only for the rules that say so)."""
        src, dst = self.bucket(self.east), self.bucket(self.west)
        c = self.s3(self.east)
        old = c.put_object(Bucket=src, Key="before/a", Body=b"a1")["VersionId"]
        c.put_object(Bucket=src, Key="before/a", Body=b"a2")
        c.put_object(Bucket=src, Key="skip/b", Body=b"b")
        cfg = self.rule_config(self.east, dst, prefix="before/",
                               ExistingObjectReplication={"Status": "Enabled"})
        cfg["Rules"].append({"ID": "no-existing", "Priority": 2, "Status": "Enabled",
                             "Filter": {"Prefix": "skip/"},
                             "DeleteMarkerReplication": {"Status": "Disabled"},
                             "ExistingObjectReplication": {"Status": "Disabled"},
                             "Destination": {"Bucket": "arn:aws:s3:::" + dst}})
        c.put_bucket_replication(Bucket=src, ReplicationConfiguration=cfg)
        wait_for(lambda: self.status(self.east, src, "before/a") == "COMPLETED",
                 "existing objects replicated")
        wait_for(lambda: self.status(self.east, src, "before/a", old) == "COMPLETED",
                 "the older version too")
        self.assertEqual(self.s3(self.west).get_object(Bucket=dst, Key="before/a")["Body"].read(),
                         b"a2")
        self.assertIsNone(self.status(self.east, src, "skip/b"))
        self.assertEqual(self.status(self.west, dst, "skip/b"), "missing:404")
        got = self.s3(self.east).get_bucket_replication(Bucket=src)["ReplicationConfiguration"]
        self.assertEqual(got["Rules"][0]["ExistingObjectReplication"], {"Status": "Enabled"})

    def test_replicate_existing(self):
        src, dst = self.bucket(self.east), self.bucket(self.west)
        c = self.s3(self.east)
        for i in range(5):
            c.put_object(Bucket=src, Key="old%d" % i, Body=b"v1")
            c.put_object(Bucket=src, Key="old%d" % i, Body=b"v2")
        c.put_bucket_replication(Bucket=src,
                                 ReplicationConfiguration=self.rule_config(self.east, dst))
        self.assertIsNone(self.status(self.east, src, "old0"))
        p = subprocess.run([th.tandem_bin(), "s3", "replicate-existing", "--bucket", src,
                            "--endpoint", "us-east-1=" + self.east.url(),
                            "--access-key", self.east.access_key,
                            "--secret-key", self.east.secret_key],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("queued 10 version", p.stdout)
        self.wait_same(src, dst)
        # oldest first: the current version is the same on both sides
        self.assertEqual(self.s3(self.west).get_object(Bucket=dst, Key="old3")["Body"].read(),
                         b"v2")
        p = subprocess.run([th.tandem_bin(), "s3", "replicate-existing", "--bucket", src,
                            "--endpoint", "us-east-1=" + self.east.url(),
                            "--access-key", self.east.access_key,
                            "--secret-key", self.east.secret_key],
                           capture_output=True, text=True, timeout=60)
        self.assertIn("queued 0 version", p.stdout)
        # not for anyone but the root (the replica header too)
        st, _, body = self.east.internal("POST", "/" + src, "x-tandem-replicate=bogus",
                                         service="s3")
        self.assertEqual(st, 400)


class Outages(unittest.TestCase):
    """A destination down during writes; kill -9 of either side mid-copy."""

    def setUp(self):
        if boto3 is None:
            raise unittest.SkipTest("no boto3")
        self.east, self.west = deployment(["us-east-1", "us-west-2"])
        make_role((self.east, self.west))
        self.src, self.dst = "src-" + th.random_key(8).lower(), "dst-" + th.random_key(8).lower()
        self.s3(self.east).create_bucket(Bucket=self.src)
        self.s3(self.west).create_bucket(
            Bucket=self.dst, CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
        for r, b in ((self.east, self.src), (self.west, self.dst)):
            self.s3(r).put_bucket_versioning(Bucket=b,
                                             VersioningConfiguration={"Status": "Enabled"})
        self.s3(self.east).put_bucket_replication(Bucket=self.src, ReplicationConfiguration={
            "Role": "arn:aws:iam::123456789012:role/" + ROLE,
            "Rules": [{"ID": "all", "Priority": 1, "Status": "Enabled", "Filter": {},
                       "DeleteMarkerReplication": {"Status": "Enabled"},
                       "Destination": {"Bucket": "arn:aws:s3:::" + self.dst}}]})

    def tearDown(self):
        for r in (self.east, self.west):
            if r.proc is not None:
                r.stop()
            r.cleanup()

    def s3(self, region):
        return region.boto3("s3", s3={"addressing_style": "path"}, max_attempts=1)

    def source_versions(self):
        r = self.s3(self.east).list_object_versions(Bucket=self.src)
        return sorted([(v["Key"], v["VersionId"]) for v in r.get("Versions", [])] +
                      [(v["Key"], v["VersionId"]) for v in r.get("DeleteMarkers", [])])

    def dest_versions(self):
        try:
            r = self.s3(self.west).list_object_versions(Bucket=self.dst)
        except Exception:
            return None
        return sorted([(v["Key"], v["VersionId"]) for v in r.get("Versions", [])] +
                      [(v["Key"], v["VersionId"]) for v in r.get("DeleteMarkers", [])])

    def all_completed(self):
        c = self.s3(self.east)
        for k, vid in self.source_versions():
            try:
                h = c.head_object(Bucket=self.src, Key=k, VersionId=vid)
            except ClientError:
                continue  # a delete marker
            if h.get("ReplicationStatus") != "COMPLETED":
                return False
        return True

    def test_destination_down_then_back(self):
        self.west.stop()
        c = self.s3(self.east)
        for i in range(20):
            c.put_object(Bucket=self.src, Key="k%d" % (i % 7), Body=b"x" * 1024)
        c.delete_object(Bucket=self.src, Key="k0")
        self.assertEqual(c.head_object(Bucket=self.src, Key="k1")["ReplicationStatus"],
                         "PENDING")
        time.sleep(2)  # the worker retries against a region that is down
        self.assertEqual(c.head_object(Bucket=self.src, Key="k1")["ReplicationStatus"],
                         "PENDING")
        self.west.start()
        want = self.source_versions()
        wait_for(lambda: self.dest_versions() == want, "everything pending arrives", 60)
        wait_for(self.all_completed, "COMPLETED everywhere", 30)

    def test_same_region_destination_not_held_up_by_a_down_one(self):
        c = self.s3(self.east)
        local_src, local_dst = "ls-" + th.random_key(8).lower(), "ld-" + th.random_key(8).lower()
        for b in (local_src, local_dst):
            c.create_bucket(Bucket=b)
            c.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
        c.put_bucket_replication(Bucket=local_src, ReplicationConfiguration={
            "Role": "arn:aws:iam::123456789012:role/" + ROLE,
            "Rules": [{"ID": "srr", "Priority": 1, "Status": "Enabled", "Filter": {},
                       "DeleteMarkerReplication": {"Status": "Disabled"},
                       "Destination": {"Bucket": "arn:aws:s3:::" + local_dst}}]})
        self.west.stop()
        c.put_object(Bucket=self.src, Key="waits", Body=b"w")
        v = c.put_object(Bucket=local_src, Key="goes", Body=b"g")
        wait_for(lambda: c.head_object(Bucket=local_src, Key="goes")["ReplicationStatus"] ==
                 "COMPLETED", "same-region copy while the other region is down")
        h = c.head_object(Bucket=local_dst, Key="goes")
        self.assertEqual((h["VersionId"], h["ReplicationStatus"]), (v["VersionId"], "REPLICA"))
        self.assertEqual(c.head_object(Bucket=self.src, Key="waits")["ReplicationStatus"],
                         "PENDING")
        self.west.start()
        wait_for(self.all_completed, "the waiting one after the region is back", 30)

    def test_kill_source_mid_copy(self):
        c = self.s3(self.east)
        for i in range(60):
            c.put_object(Bucket=self.src, Key="s%d" % i, Body=os.urandom(1024))
        want = self.source_versions()
        self.east.kill()  # while the worker is copying
        self.east.start()
        wait_for(lambda: self.dest_versions() == want, "all versions after the restart", 60)
        wait_for(self.all_completed, "COMPLETED after the restart", 30)

    def test_kill_destination_mid_copy(self):
        c = self.s3(self.east)
        for i in range(60):
            c.put_object(Bucket=self.src, Key="d%d" % i, Body=os.urandom(1024))
        self.west.kill()
        for i in range(10):
            c.put_object(Bucket=self.src, Key="late%d" % i, Body=b"late")
        self.west.start()
        want = self.source_versions()
        wait_for(lambda: self.dest_versions() == want, "all versions after the restart", 60)
        wait_for(self.all_completed, "COMPLETED after the restart", 30)


if __name__ == "__main__":
    unittest.main()
