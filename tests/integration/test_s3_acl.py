"""S3 access control lists as S3 has them: canned ACLs, x-amz-grant-* headers
and AccessControlPolicy bodies on buckets and objects, what GetBucketAcl and
GetObjectAcl answer, and what the grants allow to another account, to any
signed caller and to anonymous ones, next to bucket policies, Block Public
Access and ObjectOwnership. Real server; boto3, the aws CLI and raw HTTP."""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

import botocore

import tandem_harness as th
from test_s3 import S3Case
from test_s3_policy import code_of

OTHER = "210987654321"  # another account: its root and one of its users
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTH_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"


def grants_of(acl):
    """{(permission, grantee id or group uri)} of a Get*Acl answer"""
    return {(g["Permission"], g["Grantee"].get("ID") or g["Grantee"].get("URI"))
            for g in acl["Grants"]}


class AclCase(S3Case):
    server_args = {}

    @classmethod
    def setUpClass(cls):
        cls.other_root = th.fresh_credentials()
        cls.other_user = th.fresh_credentials()
        cls.tmpdir = tempfile.mkdtemp(prefix="tandem-acl-")
        cls.addClassCleanup(shutil.rmtree, cls.tmpdir, True)  # also when skipped
        path = os.path.join(cls.tmpdir, "credentials.json")
        with open(path, "w") as f:
            json.dump({"credentials": [
                {"accessKeyId": cls.other_root[0], "secretAccessKey": cls.other_root[1],
                 "account": OTHER, "user": "root", "root": True},
                {"accessKeyId": cls.other_user[0], "secretAccessKey": cls.other_user[1],
                 "account": OTHER, "user": "carol", "root": False}]}, f)
        cls.server_args = {"credentials_file": path}
        super().setUpClass()

    def setUp(self):
        super().setUp()
        self.c = self.s3()
        self.acct = self.server.account
        self.other = self.server.boto3("s3", access_key=self.other_root[0],
                                       secret_key=self.other_root[1],
                                       s3={"addressing_style": "path"})
        self.carol = self.server.boto3("s3", access_key=self.other_user[0],
                                       secret_key=self.other_user[1],
                                       s3={"addressing_style": "path"})
        self.anon = self.s3(signature_version=botocore.UNSIGNED)

    def acl_bucket(self, ownership="ObjectWriter", public=False):
        """a bucket whose ACLs count (and, @public, Block Public Access off)"""
        name = "acl-" + th.random_key(10).lower()
        self.c.create_bucket(Bucket=name, ObjectOwnership=ownership)
        if public:
            self.c.delete_public_access_block(Bucket=name)
        return name


class Stored(AclCase):
    """What PutBucketAcl / PutObjectAcl keep and Get*Acl returns."""

    def test_defaults_name_the_account_as_owner(self):
        b = self.acl_bucket()
        acl = self.c.get_bucket_acl(Bucket=b)
        self.assertEqual(acl["Owner"]["ID"], self.acct)
        self.assertEqual(acl["Owner"]["ID"], self.c.list_buckets()["Owner"]["ID"])
        self.assertEqual(grants_of(acl), {("FULL_CONTROL", self.acct)})
        self.assertEqual(acl["Grants"][0]["Grantee"]["Type"], "CanonicalUser")
        self.c.put_object(Bucket=b, Key="k", Body=b"x")
        self.assertEqual(grants_of(self.c.get_object_acl(Bucket=b, Key="k")),
                         {("FULL_CONTROL", self.acct)})

    def test_canned_bucket_acls(self):
        b = self.acl_bucket(public=True)
        want = {
            "private": set(),
            "public-read": {("READ", ALL_USERS)},
            "public-read-write": {("READ", ALL_USERS), ("WRITE", ALL_USERS)},
            "authenticated-read": {("READ", AUTH_USERS)},
            "log-delivery-write": {("WRITE", "http://acs.amazonaws.com/groups/s3/LogDelivery"),
                                   ("READ_ACP", "http://acs.amazonaws.com/groups/s3/LogDelivery")},
        }
        for canned, extra in want.items():
            self.c.put_bucket_acl(Bucket=b, ACL=canned)
            self.assertEqual(grants_of(self.c.get_bucket_acl(Bucket=b)),
                             {("FULL_CONTROL", self.acct)} | extra, canned)

    def test_grant_headers_on_bucket_and_object(self):
        b = self.acl_bucket(public=True)
        self.c.put_bucket_acl(Bucket=b, GrantRead='id="%s", uri="%s"' % (OTHER, AUTH_USERS),
                              GrantFullControl="id=" + self.acct)
        self.assertEqual(grants_of(self.c.get_bucket_acl(Bucket=b)),
                         {("READ", OTHER), ("READ", AUTH_USERS), ("FULL_CONTROL", self.acct)})
        self.c.put_object(Bucket=b, Key="k", Body=b"x", GrantRead="id=" + OTHER,
                          GrantReadACP="id=" + OTHER, GrantFullControl="id=" + self.acct)
        self.assertEqual(grants_of(self.c.get_object_acl(Bucket=b, Key="k")),
                         {("READ", OTHER), ("READ_ACP", OTHER), ("FULL_CONTROL", self.acct)})
        # spaces around names, values and commas are allowed, quotes optional
        self.c.put_object_acl(Bucket=b, Key="k", GrantRead=' id = "%s" ,id=%s ' % (OTHER, self.acct))
        self.assertEqual(grants_of(self.c.get_object_acl(Bucket=b, Key="k")),
                         {("READ", OTHER), ("READ", self.acct)})
        # headers replace the whole list: the owner keeps only what is granted
        self.c.put_object_acl(Bucket=b, Key="k", GrantWriteACP="id=" + OTHER)
        self.assertEqual(grants_of(self.c.get_object_acl(Bucket=b, Key="k")),
                         {("WRITE_ACP", OTHER)})

    def test_body_acl(self):
        b = self.acl_bucket()
        self.c.put_object(Bucket=b, Key="k", Body=b"x")
        policy = {"Owner": {"ID": self.acct},
                  "Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": self.acct},
                              "Permission": "FULL_CONTROL"},
                             {"Grantee": {"Type": "CanonicalUser", "ID": OTHER},
                              "Permission": "READ"}]}
        self.c.put_object_acl(Bucket=b, Key="k", AccessControlPolicy=policy)
        acl = self.c.get_object_acl(Bucket=b, Key="k")
        self.assertEqual(grants_of(acl), {("FULL_CONTROL", self.acct), ("READ", OTHER)})
        self.assertEqual(acl["Owner"]["ID"], self.acct)
        # what Get returns, Put takes back unchanged
        self.c.put_bucket_acl(Bucket=b, AccessControlPolicy={
            "Owner": acl["Owner"], "Grants": acl["Grants"]})
        self.assertEqual(grants_of(self.c.get_bucket_acl(Bucket=b)),
                         {("FULL_CONTROL", self.acct), ("READ", OTHER)})

    def test_grants_on_create_copy_and_multipart(self):
        name = "acl-" + th.random_key(10).lower()
        self.c.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter",
                             GrantRead="id=" + OTHER, GrantFullControl="id=" + self.acct)
        self.assertEqual(grants_of(self.c.get_bucket_acl(Bucket=name)),
                         {("READ", OTHER), ("FULL_CONTROL", self.acct)})
        self.c.put_object(Bucket=name, Key="src", Body=b"s", GrantRead="id=" + OTHER)
        self.c.copy_object(Bucket=name, Key="dst", CopySource={"Bucket": name, "Key": "src"},
                           GrantReadACP="id=" + OTHER)
        self.assertEqual(grants_of(self.c.get_object_acl(Bucket=name, Key="dst")),
                         {("READ_ACP", OTHER)})
        up = self.c.create_multipart_upload(Bucket=name, Key="mp", GrantRead="id=" + OTHER,
                                            GrantFullControl="id=" + self.acct)
        p = self.c.upload_part(Bucket=name, Key="mp", UploadId=up["UploadId"], PartNumber=1,
                               Body=b"p")
        self.c.complete_multipart_upload(
            Bucket=name, Key="mp", UploadId=up["UploadId"],
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": p["ETag"],
                                        "ChecksumCRC32": p["ChecksumCRC32"]}]})
        self.assertEqual(grants_of(self.c.get_object_acl(Bucket=name, Key="mp")),
                         {("READ", OTHER), ("FULL_CONTROL", self.acct)})
        self.assertEqual(self.other.get_object(Bucket=name, Key="mp")["Body"].read(), b"p")

    def test_versions_keep_their_own_acl(self):
        b = self.acl_bucket()
        self.c.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
        v1 = self.c.put_object(Bucket=b, Key="k", Body=b"1")["VersionId"]
        self.c.put_object(Bucket=b, Key="k", Body=b"2")
        self.c.put_object_acl(Bucket=b, Key="k", VersionId=v1, GrantRead="id=" + OTHER)
        self.assertEqual(grants_of(self.c.get_object_acl(Bucket=b, Key="k", VersionId=v1)),
                         {("READ", OTHER)})
        self.assertEqual(grants_of(self.c.get_object_acl(Bucket=b, Key="k")),
                         {("FULL_CONTROL", self.acct)})
        self.assertEqual(self.other.get_object(Bucket=b, Key="k", VersionId=v1)["Body"].read(),
                         b"1")
        self.assertEqual(code_of(self.other.get_object, Bucket=b, Key="k"), "AccessDenied")

    def test_aws_cli_grants(self):
        cl = next(x for x in th.find_clients() if x.name == "aws-cli-v1")
        if cl.missing:
            self.skipTest(cl.missing)
        b = self.acl_bucket()

        def run(*args):
            p = subprocess.run(cl.argv + list(args) + ["--endpoint-url", self.server.url(),
                                                       "--output", "json"],
                               env=self.server.env(), stdin=subprocess.DEVNULL,
                               capture_output=True, text=True, timeout=120)
            return p.returncode, p.stdout, p.stderr
        rc, _, err = run("s3api", "put-bucket-acl", "--bucket", b,
                         "--grant-read", "id=" + OTHER, "--grant-write-acp", "id=" + OTHER)
        self.assertEqual(rc, 0, err)
        rc, out, err = run("s3api", "get-bucket-acl", "--bucket", b)
        self.assertEqual(rc, 0, err)
        self.assertEqual(grants_of(json.loads(out)), {("READ", OTHER), ("WRITE_ACP", OTHER)})
        rc, _, err = run("s3api", "put-bucket-acl", "--bucket", b, "--acl", "private",
                         "--grant-read", "id=" + OTHER)
        self.assertNotEqual(rc, 0)
        self.assertIn("InvalidRequest", err)


class Errors(AclCase):
    """Refusals as S3 words them; nothing changes."""

    def test_header_and_body_errors(self):
        b = self.acl_bucket()
        self.c.put_bucket_acl(Bucket=b, GrantRead="id=" + OTHER, GrantFullControl="id=" + self.acct)
        r = self.assertCode("InvalidRequest", self.c.put_bucket_acl, Bucket=b, ACL="private",
                            GrantRead="id=" + OTHER)
        self.assertIn("Canned ACLs and Header Grants", r["Error"]["Message"])
        r = self.assertCode("InvalidArgument", self.c.put_bucket_acl, Bucket=b,
                            GrantRead="id=_foo")
        self.assertEqual(r["Error"]["ArgumentName"], "CanonicalUser/ID")
        self.assertEqual(r["Error"]["ArgumentValue"], "_foo")
        self.assertCode("InvalidArgument", self.c.put_bucket_acl, Bucket=b,
                        GrantRead="uri=http://acs.amazonaws.com/groups/global/Nobody")
        self.assertCode("InvalidArgument", self.c.put_bucket_acl, Bucket=b, GrantRead="nope")
        self.assertCode("InvalidArgument", self.c.put_bucket_acl, Bucket=b,
                        GrantRead="name=x")
        for bad in ('id="%s' % OTHER, "id=", 'id="%s" x' % OTHER, " , "):
            self.assertCode("InvalidArgument", self.c.put_bucket_acl, Bucket=b, GrantRead=bad)
        self.assertCode("UnresolvableGrantByEmailAddress", self.c.put_bucket_acl, Bucket=b,
                        GrantRead='emailAddress="someone@example.com"')
        self.assertCode("InvalidArgument", self.c.put_object, Bucket=b, Key="k", Body=b"x",
                        GrantRead="id=bad")
        self.assertCode("NoSuchKey", self.c.get_object, Bucket=b, Key="k")
        owner = {"ID": self.acct}
        for grants in ([{"Grantee": {"Type": "CanonicalUser", "ID": OTHER},
                         "Permission": "EVERYTHING"}],
                       [{"Grantee": {"Type": "Group"}, "Permission": "READ"}]):
            self.assertCode("MalformedACLError", self.c.put_bucket_acl, Bucket=b,
                            AccessControlPolicy={"Owner": owner, "Grants": grants})
        self.assertCode("InvalidArgument", self.c.put_bucket_acl, Bucket=b, AccessControlPolicy={
            "Owner": owner, "Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": "_foo"},
                                        "Permission": "READ"}]})
        self.assertCode("UnresolvableGrantByEmailAddress", self.c.put_bucket_acl, Bucket=b,
                        AccessControlPolicy={"Owner": owner, "Grants": [{
                            "Grantee": {"Type": "AmazonCustomerByEmail",
                                        "EmailAddress": "a@example.com"},
                            "Permission": "READ"}]})
        # the ACL stands as it was
        self.assertEqual(grants_of(self.c.get_bucket_acl(Bucket=b)),
                         {("READ", OTHER), ("FULL_CONTROL", self.acct)})

    def test_raw_body_errors(self):
        b = self.acl_bucket()
        url = "%s/%s?acl" % (self.server.url(), b)
        body = (b'<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
                b"<Owner><ID>%s</ID></Owner><AccessControlList/></AccessControlPolicy>"
                % self.acct.encode())
        for hdrs, sent, code in (({"x-amz-acl": "private"}, body, b"UnexpectedContent"),
                                 ({"x-amz-grant-read": "id=" + OTHER}, body,
                                  b"UnexpectedContent"),
                                 ({}, b"<nope", b"MalformedACLError"),
                                 ({}, b"<Other/>", b"MalformedACLError"),
                                 ({}, b"", b"MissingSecurityHeader")):
            st, _, out = self.signed_raw("PUT", url, body=sent, headers=hdrs)
            self.assertEqual(st, 400, out)
            self.assertIn(b"<Code>%s</Code>" % code, out)
        # an empty list is an ACL that grants nothing
        st, _, out = self.signed_raw("PUT", url, body=body, headers={})
        self.assertEqual(st, 200, out)
        self.assertEqual(self.c.get_bucket_acl(Bucket=b)["Grants"], [])

    def test_ownership_and_block_public_access(self):
        enforced = "acl-" + th.random_key(10).lower()
        self.c.create_bucket(Bucket=enforced)
        self.assertCode("AccessControlListNotSupported", self.c.put_bucket_acl,
                        Bucket=enforced, GrantRead="id=" + OTHER)
        self.assertCode("AccessControlListNotSupported", self.c.put_object, Bucket=enforced,
                        Key="k", Body=b"x", GrantRead="id=" + OTHER)
        self.assertCode("InvalidBucketAclWithObjectOwnership", self.c.create_bucket,
                        Bucket="acl-" + th.random_key(10).lower(), GrantRead="id=" + OTHER)
        self.assertEqual(grants_of(self.c.get_bucket_acl(Bucket=enforced)),
                         {("FULL_CONTROL", self.acct)})
        # BlockPublicAcls (on by default) refuses public grants however given
        b = self.acl_bucket()
        self.assertCode("AccessDenied", self.c.put_bucket_acl, Bucket=b, GrantRead="uri=" + ALL_USERS)
        self.assertCode("AccessDenied", self.c.put_bucket_acl, Bucket=b, AccessControlPolicy={
            "Owner": {"ID": self.acct}, "Grants": [
                {"Grantee": {"Type": "Group", "URI": AUTH_USERS}, "Permission": "READ"}]})
        self.c.put_bucket_acl(Bucket=b, GrantRead="id=" + OTHER, GrantFullControl="id=" + self.acct)
        # an upload in parts is refused when it starts, before any part
        self.assertCode("AccessControlListNotSupported", self.c.create_multipart_upload,
                        Bucket=enforced, Key="mp", GrantRead="id=" + OTHER)
        self.assertCode("AccessDenied", self.c.create_multipart_upload, Bucket=b, Key="mp",
                        ACL="public-read")
        self.assertNotIn("Uploads", self.c.list_multipart_uploads(Bucket=b))
        self.assertNotIn("Uploads", self.c.list_multipart_uploads(Bucket=enforced))

    def test_grant_limit_owner_and_exec_read(self):
        b = self.acl_bucket()
        owner = {"ID": self.acct}

        def users(n):
            return [{"Grantee": {"Type": "CanonicalUser", "ID": "%012d" % (i + 1)},
                     "Permission": "READ"} for i in range(n)]
        # at most 100 grants (body or headers), else MalformedACLError
        self.c.put_bucket_acl(Bucket=b, AccessControlPolicy={"Owner": owner, "Grants": users(100)})
        self.assertEqual(len(self.c.get_bucket_acl(Bucket=b)["Grants"]), 100)
        self.assertCode("MalformedACLError", self.c.put_bucket_acl, Bucket=b,
                        AccessControlPolicy={"Owner": owner, "Grants": users(101)})
        self.assertCode("MalformedACLError", self.c.put_bucket_acl, Bucket=b,
                        GrantRead=",".join("id=%012d" % (i + 1) for i in range(101)))
        self.assertEqual(len(self.c.get_bucket_acl(Bucket=b)["Grants"]), 100)
        self.c.put_bucket_acl(Bucket=b, ACL="private")
        self.c.put_object(Bucket=b, Key="k", Body=b"x")
        # the body names the current owner: none is MalformedACLError, another
        # account AccessDenied (an ACL gives nothing away), the ACL unchanged
        url = "%s/%s?acl" % (self.server.url(), b)
        grant = (b'<AccessControlList><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/'
                 b'XMLSchema-instance" xsi:type="CanonicalUser"><ID>%s</ID></Grantee>'
                 b"<Permission>READ</Permission></Grant></AccessControlList>" % OTHER.encode())
        for owner_xml in (b"", b"<Owner></Owner>", b"<Owner><DisplayName>x</DisplayName></Owner>"):
            st, _, out = self.signed_raw("PUT", url, body=b'<AccessControlPolicy xmlns="http://'
                                         b's3.amazonaws.com/doc/2006-03-01/">' + owner_xml +
                                         grant + b"</AccessControlPolicy>")
            self.assertEqual(st, 400, out)
            self.assertIn(b"<Code>MalformedACLError</Code>", out)
        theirs = {"Owner": {"ID": OTHER}, "Grants": users(1)}
        self.assertCode("AccessDenied", self.c.put_bucket_acl, Bucket=b,
                        AccessControlPolicy=theirs)
        self.assertCode("AccessDenied", self.c.put_object_acl, Bucket=b, Key="k",
                        AccessControlPolicy=theirs)
        self.assertEqual(grants_of(self.c.get_bucket_acl(Bucket=b)), {("FULL_CONTROL", self.acct)})
        self.assertEqual(grants_of(self.c.get_object_acl(Bucket=b, Key="k")),
                         {("FULL_CONTROL", self.acct)})
        # aws-exec-read: the owner's FULL_CONTROL and Amazon EC2's READ
        ec2 = "6aa5a366c34c1cbe25dc49211496e913e0351eb0e8c37aa3477e40942ec6b97c"
        self.c.put_object(Bucket=b, Key="ami", Body=b"x", ACL="aws-exec-read")
        self.c.put_bucket_acl(Bucket=b, ACL="aws-exec-read")
        for acl in (self.c.get_object_acl(Bucket=b, Key="ami"), self.c.get_bucket_acl(Bucket=b)):
            self.assertEqual(grants_of(acl), {("FULL_CONTROL", self.acct), ("READ", ec2)})
            self.assertEqual([g["Grantee"].get("DisplayName") for g in acl["Grants"]
                              if g["Grantee"].get("ID") == ec2], ["za-team"])

    def test_public_acl_on_create_is_blocked(self):
        # a new bucket blocks public ACLs: CreateBucket with one is refused
        name = "acl-" + th.random_key(10).lower()
        for kw in ({"ACL": "public-read"}, {"GrantRead": "uri=" + ALL_USERS}):
            self.assertCode("AccessDenied", self.c.create_bucket, Bucket=name,
                            ObjectOwnership="ObjectWriter", **kw)
            self.assertCode("404", self.c.head_bucket, Bucket=name)
        # a grant to an account is no public one
        self.c.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter", ACL="aws-exec-read")
        self.assertEqual(len(self.c.get_bucket_acl(Bucket=name)["Grants"]), 2)


class Evaluated(AclCase):
    """What the grants allow, and what takes it away."""

    def test_owner_without_grants(self):
        # the bucket owner that takes its own grants away (ceph/s3-tests'
        # test_bucket_acl_no_grants): it reads its objects (their ACLs) and
        # keeps READ_ACP/WRITE_ACP, but neither writes nor lists the bucket
        b = self.acl_bucket()
        self.c.put_object(Bucket=b, Key="foo", Body=b"bar")
        acl = self.c.get_bucket_acl(Bucket=b)
        self.c.put_bucket_acl(Bucket=b, AccessControlPolicy={"Owner": acl["Owner"], "Grants": []})
        self.assertEqual(self.c.get_object(Bucket=b, Key="foo")["Body"].read(), b"bar")
        self.assertCode("AccessDenied", self.c.put_object, Bucket=b, Key="baz", Body=b"a")
        self.assertCode("AccessDenied", self.c.delete_object, Bucket=b, Key="foo")
        self.assertCode("AccessDenied", self.c.list_objects_v2, Bucket=b)
        self.assertEqual(self.c.get_bucket_acl(Bucket=b)["Grants"], [])
        # a grant of READ alone lists but does not write
        self.c.put_bucket_acl(Bucket=b, GrantRead="id=" + self.acct)
        self.assertEqual([o["Key"] for o in self.c.list_objects_v2(Bucket=b)["Contents"]], ["foo"])
        self.assertCode("AccessDenied", self.c.put_object, Bucket=b, Key="baz", Body=b"a")
        self.c.put_bucket_acl(Bucket=b, ACL="private")
        self.c.put_object(Bucket=b, Key="baz", Body=b"a")
        # with ACLs off (BucketOwnerEnforced) the ACL no longer counts
        self.c.put_bucket_acl(Bucket=b, AccessControlPolicy={"Owner": acl["Owner"], "Grants": []})
        self.c.put_bucket_ownership_controls(Bucket=b, OwnershipControls={
            "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
        self.c.put_object(Bucket=b, Key="qux", Body=b"a")

    def test_bucket_grants_to_another_account(self):
        b = self.acl_bucket()
        self.c.put_object(Bucket=b, Key="k", Body=b"x")
        for cl in (self.other, self.carol):
            self.assertEqual(code_of(cl.list_objects_v2, Bucket=b), "AccessDenied")
            self.assertEqual(code_of(cl.put_object, Bucket=b, Key="o", Body=b"1"), "AccessDenied")
            self.assertEqual(code_of(cl.get_bucket_acl, Bucket=b), "AccessDenied")
        self.c.put_bucket_acl(Bucket=b, GrantRead="id=" + OTHER, GrantFullControl="id=" + self.acct)
        for cl in (self.other, self.carol):
            self.assertEqual([o["Key"] for o in cl.list_objects_v2(Bucket=b)["Contents"]], ["k"])
            cl.list_object_versions(Bucket=b)
            cl.list_multipart_uploads(Bucket=b)
            self.assertEqual(code_of(cl.put_object, Bucket=b, Key="o", Body=b"1"), "AccessDenied")
            self.assertEqual(code_of(cl.get_bucket_acl, Bucket=b), "AccessDenied")
            # bucket READ is not object READ
            self.assertEqual(code_of(cl.get_object, Bucket=b, Key="k"), "AccessDenied")
        self.c.put_bucket_acl(Bucket=b, GrantWrite="id=" + OTHER, GrantReadACP="id=" + OTHER,
                              GrantFullControl="id=" + self.acct)
        self.assertEqual(code_of(self.other.list_objects_v2, Bucket=b), "AccessDenied")
        self.other.put_object(Bucket=b, Key="theirs", Body=b"t")
        self.other.delete_object(Bucket=b, Key="k")
        self.c.put_object(Bucket=b, Key="k2", Body=b"x")
        out = self.other.delete_objects(Bucket=b, Delete={"Objects": [{"Key": "k2"}]})
        self.assertEqual([d["Key"] for d in out.get("Deleted", [])], ["k2"], out)
        up = self.other.create_multipart_upload(Bucket=b, Key="mp")
        self.other.abort_multipart_upload(Bucket=b, Key="mp", UploadId=up["UploadId"])
        self.other.get_bucket_acl(Bucket=b)
        self.assertEqual(code_of(self.other.put_bucket_acl, Bucket=b, ACL="private"),
                         "AccessDenied")
        # the writer from another account owns its object (ObjectWriter): the
        # bucket owner reads it, or its ACL, only once granted
        acl = self.other.get_object_acl(Bucket=b, Key="theirs")
        self.assertEqual(acl["Owner"]["ID"], OTHER)
        self.assertEqual(grants_of(acl), {("FULL_CONTROL", OTHER)})
        self.assertEqual(self.other.get_object(Bucket=b, Key="theirs")["Body"].read(), b"t")
        for call in (self.c.get_object, self.c.get_object_acl):
            self.assertEqual(code_of(call, Bucket=b, Key="theirs"), "AccessDenied")
        self.assertEqual(code_of(self.c.put_object_acl, Bucket=b, Key="theirs", ACL="private"),
                         "AccessDenied")
        self.other.put_object_acl(Bucket=b, Key="theirs", GrantRead="id=" + self.acct,
                                  GrantFullControl="id=" + OTHER)
        self.assertEqual(self.c.get_object(Bucket=b, Key="theirs")["Body"].read(), b"t")
        self.assertEqual(code_of(self.c.get_object_acl, Bucket=b, Key="theirs"), "AccessDenied")
        # its owner keeps its ACL's ACP however it was rewritten
        self.other.put_object_acl(Bucket=b, Key="theirs", GrantRead="id=" + self.acct)
        self.assertEqual(grants_of(self.other.get_object_acl(Bucket=b, Key="theirs")),
                         {("READ", self.acct)})
        self.assertEqual(code_of(self.other.get_object, Bucket=b, Key="theirs"), "AccessDenied")
        self.c.delete_object(Bucket=b, Key="theirs")  # the bucket's WRITE (FULL_CONTROL)
        self.c.put_bucket_acl(Bucket=b, GrantWriteACP="id=" + OTHER)
        self.other.put_bucket_acl(Bucket=b, GrantFullControl="id=" + OTHER)
        self.assertEqual(grants_of(self.other.get_bucket_acl(Bucket=b)),
                         {("FULL_CONTROL", OTHER)})

    def test_bucket_owner_full_control_from_another_account(self):
        b = self.acl_bucket(ownership="BucketOwnerPreferred")
        self.c.put_bucket_acl(Bucket=b, GrantWrite="id=" + OTHER)
        self.other.put_object(Bucket=b, Key="mine", Body=b"m")
        self.other.put_object(Bucket=b, Key="given", Body=b"g", ACL="bucket-owner-full-control")
        self.assertEqual(self.other.get_object_acl(Bucket=b, Key="mine")["Owner"]["ID"], OTHER)
        self.assertEqual(code_of(self.c.get_object, Bucket=b, Key="mine"), "AccessDenied")
        acl = self.c.get_object_acl(Bucket=b, Key="given")
        self.assertEqual(acl["Owner"]["ID"], self.acct)
        self.assertEqual(self.c.get_object(Bucket=b, Key="given")["Body"].read(), b"g")
        self.assertEqual(code_of(self.other.get_object, Bucket=b, Key="given"), "AccessDenied")
        # bucket-owner-read: the writer keeps it, the bucket owner may read it
        self.other.put_object(Bucket=b, Key="shown", Body=b"s", ACL="bucket-owner-read")
        self.assertEqual(grants_of(self.other.get_object_acl(Bucket=b, Key="shown")),
                         {("FULL_CONTROL", OTHER), ("READ", self.acct)})
        self.assertEqual(self.c.get_object(Bucket=b, Key="shown")["Body"].read(), b"s")

    def test_object_grants(self):
        b = self.acl_bucket()
        self.c.put_object(Bucket=b, Key="k", Body=b"x")
        self.assertEqual(code_of(self.other.get_object, Bucket=b, Key="k"), "AccessDenied")
        self.c.put_object_acl(Bucket=b, Key="k", GrantRead="id=" + OTHER)
        self.assertEqual(self.other.get_object(Bucket=b, Key="k")["Body"].read(), b"x")
        self.other.head_object(Bucket=b, Key="k")
        self.assertEqual(code_of(self.other.get_object_acl, Bucket=b, Key="k"), "AccessDenied")
        self.assertEqual(code_of(self.other.put_object_acl, Bucket=b, Key="k", ACL="private"),
                         "AccessDenied")
        self.c.put_object_acl(Bucket=b, Key="k", GrantReadACP="id=" + OTHER,
                              GrantWriteACP="id=" + OTHER)
        self.assertEqual(code_of(self.other.get_object, Bucket=b, Key="k"), "AccessDenied")
        self.other.get_object_acl(Bucket=b, Key="k")
        self.other.put_object_acl(Bucket=b, Key="k", GrantFullControl="id=" + OTHER)
        self.assertEqual(self.other.get_object(Bucket=b, Key="k")["Body"].read(), b"x")
        # the object's owner stays the bucket's, whoever rewrote its ACL
        self.assertEqual(self.c.get_object_acl(Bucket=b, Key="k")["Owner"]["ID"], self.acct)

    def test_public_read_and_authenticated_read(self):
        b = self.acl_bucket(public=True)
        self.c.put_object(Bucket=b, Key="k", Body=b"x")
        self.assertEqual(code_of(self.anon.list_objects, Bucket=b), "AccessDenied")
        self.c.put_bucket_acl(Bucket=b, ACL="public-read")
        self.assertEqual([o["Key"] for o in self.anon.list_objects(Bucket=b)["Contents"]], ["k"])
        self.assertEqual(code_of(self.anon.get_object, Bucket=b, Key="k"), "AccessDenied")
        self.assertEqual(code_of(self.anon.put_object, Bucket=b, Key="n", Body=b"1"),
                         "AccessDenied")
        self.c.put_bucket_acl(Bucket=b, ACL="public-read-write")
        self.anon.put_object(Bucket=b, Key="n", Body=b"1")
        self.c.put_object_acl(Bucket=b, Key="k", ACL="authenticated-read")
        self.assertEqual(code_of(self.anon.get_object, Bucket=b, Key="k"), "AccessDenied")
        self.assertEqual(self.carol.get_object(Bucket=b, Key="k")["Body"].read(), b"x")
        self.c.put_bucket_acl(Bucket=b, ACL="authenticated-read")
        self.assertEqual(code_of(self.anon.list_objects, Bucket=b), "AccessDenied")
        self.carol.list_objects(Bucket=b)
        self.c.put_object_acl(Bucket=b, Key="k", GrantRead="uri=" + ALL_USERS)
        self.assertEqual(self.anon.get_object(Bucket=b, Key="k")["Body"].read(), b"x")
        # IgnorePublicAcls takes the public grants away (they stay recorded)
        self.c.put_public_access_block(Bucket=b, PublicAccessBlockConfiguration={
            "BlockPublicAcls": False, "IgnorePublicAcls": True, "BlockPublicPolicy": False,
            "RestrictPublicBuckets": False})
        self.assertEqual(code_of(self.anon.get_object, Bucket=b, Key="k"), "AccessDenied")
        self.assertEqual(code_of(self.carol.list_objects, Bucket=b), "AccessDenied")
        self.assertIn(("READ", ALL_USERS), grants_of(self.c.get_object_acl(Bucket=b, Key="k")))
        # BucketOwnerEnforced takes every grant away; it needs a bucket ACL
        # that grants none but the owner
        self.c.delete_public_access_block(Bucket=b)
        self.assertEqual(self.anon.get_object(Bucket=b, Key="k")["Body"].read(), b"x")
        self.assertCode("InvalidBucketAclWithObjectOwnership",
                        self.c.put_bucket_ownership_controls, Bucket=b, OwnershipControls={
                            "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
        self.c.put_bucket_acl(Bucket=b, GrantFullControl="id=" + self.acct)
        self.c.put_bucket_ownership_controls(Bucket=b, OwnershipControls={
            "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
        self.assertEqual(code_of(self.anon.get_object, Bucket=b, Key="k"), "AccessDenied")
        self.assertEqual(grants_of(self.c.get_object_acl(Bucket=b, Key="k")),
                         {("FULL_CONTROL", self.acct)})

    def test_explicit_deny_wins_over_a_grant(self):
        b = self.acl_bucket(public=True)
        self.c.put_object(Bucket=b, Key="k", Body=b"x", ACL="public-read")
        self.c.put_bucket_acl(Bucket=b, GrantRead="id=" + OTHER)
        self.assertEqual(self.anon.get_object(Bucket=b, Key="k")["Body"].read(), b"x")
        self.other.list_objects(Bucket=b)
        self.c.put_bucket_policy(Bucket=b, Policy=json.dumps({
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
                 "Resource": "arn:aws:s3:::%s/*" % b},
                {"Effect": "Deny", "Principal": {"AWS": OTHER}, "Action": "s3:ListBucket",
                 "Resource": "arn:aws:s3:::" + b}]}))
        self.assertEqual(code_of(self.anon.get_object, Bucket=b, Key="k"), "AccessDenied")
        self.assertEqual(code_of(self.other.get_object, Bucket=b, Key="k"), "AccessDenied")
        self.assertEqual(code_of(self.other.list_objects, Bucket=b), "AccessDenied")

    def test_another_accounts_root_is_no_owner(self):
        b = self.acl_bucket()
        self.c.put_object(Bucket=b, Key="k", Body=b"x")
        for call, kw in ((self.other.get_object, {"Key": "k"}),
                         (self.other.delete_object, {"Key": "k"}),
                         (self.other.get_bucket_acl, {}),
                         (self.other.put_bucket_acl, {"ACL": "public-read"}),
                         (self.other.delete_bucket, {})):
            self.assertEqual(code_of(call, Bucket=b, **kw), "AccessDenied", call)
        self.assertEqual(self.c.get_object(Bucket=b, Key="k")["Body"].read(), b"x")
        # it lists its own buckets: none here; it makes none here either
        out = self.other.list_buckets()
        self.assertEqual((out["Buckets"], out["Owner"]["ID"]), ([], OTHER))
        self.assertIn(b, [x["Name"] for x in self.c.list_buckets()["Buckets"]])
        self.assertEqual(code_of(self.other.create_bucket, Bucket=b + "-x"), "AccessDenied")


if __name__ == "__main__":
    unittest.main()
