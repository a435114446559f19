"""Whole-object (FULL_OBJECT) checksums of uploads in parts, as current SDKs
ask for them: CreateMultipartUpload with x-amz-checksum-type FULL_OBJECT (CRC32,
CRC32C; CRC64NVME's only type), the parts' CRCs combined into the CRC of every
byte of the object, a whole-object checksum sent on completion checked
(BadDigest, the upload kept), ChecksumType answered by every operation that
names it (CreateMultipartUpload, ListParts, ListMultipartUploads,
CompleteMultipartUpload, HeadObject and GetObject with ChecksumMode, GetObjectAttributes,
ListObjectsV2), the refused combinations (InvalidRequest). Real server; boto3,
the AWS SDK for JavaScript v3 (tests/js/s3_checksums.mjs) and the aws CLI."""

import base64
import hashlib
import json
import os
import subprocess
import tempfile
import unittest
import zlib

import botocore.config
import botocore.exceptions

import tandem_harness as th
from test_s3 import S3Case

MIB = 1024 * 1024


def _table(poly, bits=32):
    t = []
    for k in range(256):
        c = k
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        t.append(c)
    return t


_T32C = _table(0x82F63B78)
_T64 = _table(0x9A6C9329AC4BC9B5)


def crc(alg, data):
    """base64 of the big-endian CRC of @data, as S3's checksum headers carry it."""
    if alg == "CRC32":
        return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    table, ones, n = (_T32C, 0xFFFFFFFF, 4) if alg == "CRC32C" else (_T64, (1 << 64) - 1, 8)
    v = ones
    for byte in data:
        v = table[(v ^ byte) & 0xFF] ^ (v >> 8)
    return base64.b64encode((v ^ ones).to_bytes(n, "big")).decode()


class FullObject(S3Case):
    server_args = {}

    def plain(self):
        """a client that adds no checksum of its own (the server computes the parts')"""
        return self.s3(request_checksum_calculation="when_required",
                       response_checksum_validation="when_required")

    def test_crc_helpers(self):
        self.assertEqual(crc("CRC32C", b"123456789"),
                         base64.b64encode((0xE3069283).to_bytes(4, "big")).decode())
        self.assertEqual(crc("CRC64NVME", b"123456789"),
                         base64.b64encode((0xAE8B14860A799888).to_bytes(8, "big")).decode())

    def test_crc32_full_object_through_boto3(self):
        c = self.s3()
        b = self.bucket(c)
        parts_data = [os.urandom(5 * MIB), os.urandom(5 * MIB), os.urandom(1234)]
        whole = b"".join(parts_data)
        r = c.create_multipart_upload(Bucket=b, Key="k", ChecksumAlgorithm="CRC32",
                                      ChecksumType="FULL_OBJECT")
        self.assertEqual((r["ChecksumAlgorithm"], r["ChecksumType"]), ("CRC32", "FULL_OBJECT"))
        up = r["UploadId"]
        ups = c.list_multipart_uploads(Bucket=b)["Uploads"]
        self.assertEqual([(u["ChecksumAlgorithm"], u["ChecksumType"]) for u in ups],
                         [("CRC32", "FULL_OBJECT")])
        parts = []
        for n, d in enumerate(parts_data, 1):
            p = c.upload_part(Bucket=b, Key="k", UploadId=up, PartNumber=n, Body=d,
                              ChecksumAlgorithm="CRC32")
            self.assertEqual(p["ChecksumCRC32"], crc("CRC32", d))
            parts.append({"PartNumber": n, "ETag": p["ETag"]})  # part checksums optional
        lp = c.list_parts(Bucket=b, Key="k", UploadId=up)
        self.assertEqual((lp["ChecksumAlgorithm"], lp["ChecksumType"]), ("CRC32", "FULL_OBJECT"))
        self.assertEqual([p["ChecksumCRC32"] for p in lp["Parts"]],
                         [crc("CRC32", d) for d in parts_data])
        want = crc("CRC32", whole)
        # a wrong whole-object checksum, a mode other than the upload's, a wrong
        # size: refused, the upload stays
        e = self.assertCode("BadDigest", c.complete_multipart_upload, Bucket=b, Key="k",
                            UploadId=up, MultipartUpload={"Parts": parts},
                            ChecksumCRC32=crc("CRC32", b"other"), ChecksumType="FULL_OBJECT")
        self.assertEqual(e["ResponseMetadata"]["HTTPStatusCode"], 400)
        self.assertCode("BadDigest", c.complete_multipart_upload, Bucket=b, Key="k",
                        UploadId=up, MultipartUpload={"Parts": parts}, ChecksumType="COMPOSITE")
        self.assertCode("InvalidRequest", c.complete_multipart_upload, Bucket=b, Key="k",
                        UploadId=up, MultipartUpload={"Parts": parts},
                        MpuObjectSize=len(whole) + 1)
        self.assertEqual(len(c.list_parts(Bucket=b, Key="k", UploadId=up)["Parts"]), 3)
        done = c.complete_multipart_upload(Bucket=b, Key="k", UploadId=up,
                                           MultipartUpload={"Parts": parts}, ChecksumCRC32=want,
                                           ChecksumType="FULL_OBJECT", MpuObjectSize=len(whole))
        self.assertEqual((done["ChecksumCRC32"], done["ChecksumType"]), (want, "FULL_OBJECT"))
        h = c.head_object(Bucket=b, Key="k", ChecksumMode="ENABLED")
        self.assertEqual((h["ChecksumCRC32"], h["ChecksumType"]), (want, "FULL_OBJECT"))
        g = c.get_object(Bucket=b, Key="k", ChecksumMode="ENABLED")  # botocore checks the body
        self.assertEqual((g["ChecksumCRC32"], g["ChecksumType"]), (want, "FULL_OBJECT"))
        self.assertEqual(g["Body"].read(), whole)
        a = c.get_object_attributes(Bucket=b, Key="k",
                                    ObjectAttributes=["Checksum", "ObjectParts", "ObjectSize"])
        self.assertEqual(a["Checksum"], {"ChecksumCRC32": want, "ChecksumType": "FULL_OBJECT"})
        self.assertEqual(a["ObjectSize"], len(whole))
        self.assertEqual([p.get("ChecksumCRC32") for p in a["ObjectParts"]["Parts"]],
                         [crc("CRC32", d) for d in parts_data])
        o = c.list_objects_v2(Bucket=b)["Contents"][0]
        self.assertEqual((o["ChecksumAlgorithm"], o["ChecksumType"]), (["CRC32"], "FULL_OBJECT"))
        # a part read by number: no checksum (S3 keeps none of a part once the
        # CRCs are combined; test_s3_checksums_mpu has the other cases)
        g = c.get_object(Bucket=b, Key="k", PartNumber=3, ChecksumMode="ENABLED")
        self.assertNotIn("ChecksumCRC32", g)
        self.assertEqual(g["Body"].read(), parts_data[2])

    def test_crc64nvme_and_crc32c_parts_without_checksums(self):
        """parts sent without a checksum get the upload's CRC from the server,
        and UploadPartCopy's too; the object's is the CRC of all its bytes"""
        c = self.plain()
        b = self.bucket(c)
        src = os.urandom(5 * MIB + 77)
        c.put_object(Bucket=b, Key="src", Body=src)
        tail = b"the tail of it"
        for alg, ctype in (("CRC64NVME", None), ("CRC32C", "FULL_OBJECT")):
            kw = {"ChecksumType": ctype} if ctype else {}
            r = c.create_multipart_upload(Bucket=b, Key=alg, ChecksumAlgorithm=alg, **kw)
            self.assertEqual(r["ChecksumType"], "FULL_OBJECT")
            up = r["UploadId"]
            p1 = c.upload_part_copy(Bucket=b, Key=alg, UploadId=up, PartNumber=1,
                                    CopySource={"Bucket": b, "Key": "src"})
            self.assertEqual(p1["CopyPartResult"]["Checksum" + alg], crc(alg, src))
            p2 = c.upload_part(Bucket=b, Key=alg, UploadId=up, PartNumber=2, Body=tail)
            self.assertEqual(p2["ResponseMetadata"]["HTTPHeaders"]["x-amz-checksum-" + alg.lower()],
                             crc(alg, tail))
            want = crc(alg, src + tail)
            done = c.complete_multipart_upload(
                Bucket=b, Key=alg, UploadId=up,
                MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": p1["CopyPartResult"]["ETag"]},
                                           {"PartNumber": 2, "ETag": p2["ETag"]}]},
                **{"Checksum" + alg: want})
            self.assertEqual((done["Checksum" + alg], done["ChecksumType"]), (want, "FULL_OBJECT"))
            h = c.head_object(Bucket=b, Key=alg, ChecksumMode="ENABLED")
            self.assertEqual((h["Checksum" + alg], h["ChecksumType"]), (want, "FULL_OBJECT"))
            a = c.get_object_attributes(Bucket=b, Key=alg, ObjectAttributes=["Checksum"])
            self.assertEqual(a["Checksum"], {"Checksum" + alg: want, "ChecksumType": "FULL_OBJECT"})
            self.assertEqual(c.get_object(Bucket=b, Key=alg)["Body"].read(), src + tail)

    def test_refused_combinations(self):
        c = self.plain()
        b = self.bucket(c)
        for alg, t in (("SHA256", "FULL_OBJECT"), ("SHA1", "FULL_OBJECT"),
                       ("CRC64NVME", "COMPOSITE"), (None, "FULL_OBJECT")):
            kw = {"ChecksumAlgorithm": alg} if alg else {}
            self.assertCode("InvalidRequest", c.create_multipart_upload, Bucket=b, Key="k",
                            ChecksumType=t, **kw)
        self.assertNotIn("Uploads", c.list_multipart_uploads(Bucket=b))
        # a part's checksum is of its upload's algorithm
        up = c.create_multipart_upload(Bucket=b, Key="k", ChecksumAlgorithm="CRC32C",
                                       ChecksumType="FULL_OBJECT")["UploadId"]
        self.assertCode("InvalidRequest", c.upload_part, Bucket=b, Key="k", UploadId=up,
                        PartNumber=1, Body=b"data", ChecksumCRC32=crc("CRC32", b"data"))
        self.assertNotIn("Parts", c.list_parts(Bucket=b, Key="k", UploadId=up))
        # a whole-object checksum that is not the CRC of the bytes: BadDigest, no object
        p = c.upload_part(Bucket=b, Key="k", UploadId=up, PartNumber=1, Body=b"data",
                          ChecksumCRC32C=crc("CRC32C", b"data"))
        self.assertCode("BadDigest", c.complete_multipart_upload, Bucket=b, Key="k", UploadId=up,
                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": p["ETag"]}]},
                        ChecksumCRC32C=crc("CRC32C", b"date"))
        self.assertNotIn("Contents", c.list_objects_v2(Bucket=b))
        # a COMPOSITE upload keeps its own answers
        r = c.create_multipart_upload(Bucket=b, Key="c", ChecksumAlgorithm="CRC32")
        self.assertEqual(r["ChecksumType"], "COMPOSITE")
        c.abort_multipart_upload(Bucket=b, Key="c", UploadId=r["UploadId"])
        c.abort_multipart_upload(Bucket=b, Key="k", UploadId=up)

    def test_put_object_answers_its_type(self):
        c = self.s3()
        b = self.bucket(c)
        r = c.put_object(Bucket=b, Key="one", Body=b"one piece", ChecksumAlgorithm="CRC32")
        self.assertEqual((r["ChecksumCRC32"], r["ChecksumType"]),
                         (crc("CRC32", b"one piece"), "FULL_OBJECT"))

    def test_js_sdk_v3(self):
        node = th.shutil.which("node")
        script = os.path.join(th.JS_DIR, "s3_checksums.mjs")
        if not node or not os.path.isdir(os.path.join(th.JS_DIR, "node_modules", "@aws-sdk",
                                                      "client-s3")):
            self.skipTest("no node or no @aws-sdk/client-s3 in tests/js/node_modules")
        c = self.s3()
        b = self.bucket(c)
        data = os.urandom(5 * MIB) + os.urandom(5 * MIB // 2)
        with tempfile.NamedTemporaryFile(dir=self.server.tmp, delete=False) as f:
            f.write(data)
        try:
            for alg in ("CRC32", "CRC32C", "CRC64NVME"):
                p = subprocess.run([node, script, b, "js-" + alg, alg, f.name, str(5 * MIB)],
                                   capture_output=True, text=True, timeout=120,
                                   env=self.server.env())
                out = json.loads(p.stdout or "{}")
                self.assertNotIn("error", out, (p.stdout, p.stderr[-2000:]))
                want = crc(alg, data)
                self.assertEqual(out["create"]["ChecksumType"], "FULL_OBJECT")
                for what in ("complete", "head", "get"):
                    self.assertEqual((out[what]["Checksum" + alg], out[what]["ChecksumType"]),
                                     (want, "FULL_OBJECT"), what)
                self.assertTrue(out["get"]["same"])
                self.assertEqual(out["attrs"]["Checksum"],
                                 {"Checksum" + alg: want, "ChecksumType": "FULL_OBJECT"})
                self.assertEqual(out["attrs"]["ObjectParts"]["TotalPartsCount"], 2)
        finally:
            os.unlink(f.name)

    def cli(self, name):
        cl = next(x for x in th.find_clients() if x.name == name)
        if cl.missing:
            self.skipTest(cl.missing)
        url = self.server.url()

        def run(*args):
            p = subprocess.run(cl.argv + list(args) + ["--endpoint-url", url, "--output", "json"],
                               env=self.server.env(), stdin=subprocess.DEVNULL,
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(p.returncode, 0, p.stderr[-2000:])
            return json.loads(p.stdout) if p.stdout.strip() else {}
        return run

    def upload_by_cli(self, run, b, key, alg, data, extra):
        """s3api calls, one a step, of an upload in two parts"""
        with tempfile.TemporaryDirectory(dir=self.server.tmp) as d:
            r = run("s3api", "create-multipart-upload", "--bucket", b, "--key", key,
                    "--checksum-algorithm", alg, *extra)
            parts = []
            for n, piece in ((1, data[:5 * MIB]), (2, data[5 * MIB:])):
                path = os.path.join(d, "p%d" % n)
                with open(path, "wb") as f:
                    f.write(piece)
                p = run("s3api", "upload-part", "--bucket", b, "--key", key, "--upload-id",
                        r["UploadId"], "--part-number", str(n), "--body", path)
                parts.append({"PartNumber": n, "ETag": p["ETag"]})
            with open(os.path.join(d, "parts.json"), "w") as f:
                json.dump({"Parts": parts}, f)
            return r, run("s3api", "complete-multipart-upload", "--bucket", b, "--key", key,
                          "--upload-id", r["UploadId"], "--multipart-upload",
                          "file://" + os.path.join(d, "parts.json"), *extra)

    def test_aws_cli_v1(self):
        run = self.cli("aws-cli-v1")
        b = self.bucket(self.s3())
        data = os.urandom(5 * MIB + 4321)
        want = crc("CRC32", data)
        r, done = self.upload_by_cli(run, b, "v1", "CRC32", data,
                                     ["--checksum-type", "FULL_OBJECT"])
        self.assertEqual(r["ChecksumType"], "FULL_OBJECT")
        self.assertEqual((done["ChecksumCRC32"], done["ChecksumType"]), (want, "FULL_OBJECT"))
        h = run("s3api", "head-object", "--bucket", b, "--key", "v1", "--checksum-mode", "ENABLED")
        self.assertEqual((h["ChecksumCRC32"], h["ChecksumType"]), (want, "FULL_OBJECT"))
        a = run("s3api", "get-object-attributes", "--bucket", b, "--key", "v1",
                "--object-attributes", "Checksum", "ObjectParts")
        self.assertEqual(a["Checksum"], {"ChecksumCRC32": want, "ChecksumType": "FULL_OBJECT"})
        # aws s3 cp of a file in parts, as the CLI chooses its checksum, and back
        with tempfile.TemporaryDirectory(dir=self.server.tmp) as d:
            src, back = os.path.join(d, "src"), os.path.join(d, "back")
            with open(src, "wb") as f:
                f.write(os.urandom(12 * MIB))
            run("s3", "cp", src, "s3://%s/cp" % b, "--only-show-errors")
            h = run("s3api", "head-object", "--bucket", b, "--key", "cp", "--checksum-mode",
                    "ENABLED")
            self.assertEqual(h["ContentLength"], 12 * MIB)
            run("s3", "cp", "s3://%s/cp" % b, back, "--only-show-errors")
            with open(src, "rb") as f1, open(back, "rb") as f2:
                self.assertEqual(f1.read(), f2.read())

    def test_aws_cli_v2(self):
        """this machine's CLI v2 names no checksum type: a CRC64NVME upload (whose only
        type is FULL_OBJECT) with parts it sends without checksums"""
        run = self.cli("aws-cli-v2")
        c = self.s3()
        b = self.bucket(c)
        data = os.urandom(5 * MIB + 999)
        self.upload_by_cli(run, b, "v2", "CRC64NVME", data, [])
        h = c.head_object(Bucket=b, Key="v2", ChecksumMode="ENABLED")
        self.assertEqual((h["ChecksumCRC64NVME"], h["ChecksumType"]),
                         (crc("CRC64NVME", data), "FULL_OBJECT"))


class DefaultChecksum(S3Case):
    """S3's default data-integrity checksum: a new object uploaded without a
    checksum gets the CRC64NVME of its bytes, kept as a FULL_OBJECT checksum
    and answered where a checksum is; a copy keeps its source's checksum and
    type, or computes the one it names."""
    server_args = {}
    cli = FullObject.cli
    plain = FullObject.plain

    def assert_default(self, c, b, key, data):
        want = crc("CRC64NVME", data)
        for r in (c.head_object(Bucket=b, Key=key, ChecksumMode="ENABLED"),
                  c.get_object(Bucket=b, Key=key, ChecksumMode="ENABLED")):
            self.assertEqual((r["ChecksumCRC64NVME"], r["ChecksumType"]), (want, "FULL_OBJECT"))
        a = c.get_object_attributes(Bucket=b, Key=key, ObjectAttributes=["Checksum"])
        self.assertEqual(a["Checksum"], {"ChecksumCRC64NVME": want, "ChecksumType": "FULL_OBJECT"})
        o = [x for x in c.list_objects_v2(Bucket=b)["Contents"] if x["Key"] == key][0]
        self.assertEqual((o["ChecksumAlgorithm"], o["ChecksumType"]), (["CRC64NVME"], "FULL_OBJECT"))

    def test_put_object_without_checksum(self):
        c = self.plain()
        b = self.bucket(c)
        data = os.urandom(3 * MIB + 77)  # more than one read of the body
        r = c.put_object(Bucket=b, Key="plain", Body=data)
        self.assertEqual((r["ChecksumCRC64NVME"], r["ChecksumType"]),
                         (crc("CRC64NVME", data), "FULL_OBJECT"))
        self.assert_default(c, b, "plain", data)
        c.put_object(Bucket=b, Key="empty", Body=b"")
        self.assert_default(c, b, "empty", b"")
        # an upload that carries another checksum keeps it
        r = c.put_object(Bucket=b, Key="sha", Body=data, ChecksumAlgorithm="SHA256")
        h = c.head_object(Bucket=b, Key="sha", ChecksumMode="ENABLED")
        self.assertEqual((h["ChecksumSHA256"], h["ChecksumType"]),
                         (r["ChecksumSHA256"], "FULL_OBJECT"))
        self.assertNotIn("ChecksumCRC64NVME", h)

    def test_post_object_without_checksum(self):
        c = self.s3()
        b = self.bucket(c)
        p = c.generate_presigned_post(b, "form", ExpiresIn=600)
        boundary = "----ck" + os.urandom(8).hex()
        body = b""
        for name, value in p["fields"].items():
            body += ('--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n'
                     % (boundary, name, value)).encode()
        data = os.urandom(100000)
        body += ('--%s\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n\r\n'
                 % boundary).encode() + data + ("\r\n--%s--\r\n" % boundary).encode()
        conn = self.server.connection(timeout=60)
        try:
            conn.request("POST", "/" + b, body=body,
                         headers={"Content-Type": "multipart/form-data; boundary=" + boundary})
            r = conn.getresponse()
            self.assertEqual(r.status, 204, r.read())
        finally:
            conn.close()
        self.assert_default(self.plain(), b, "form", data)

    def test_upload_in_parts_without_checksums(self):
        c = self.plain()
        b = self.bucket(c)
        src = os.urandom(6 * MIB)
        c.put_object(Bucket=b, Key="src", Body=src)
        first = os.urandom(5 * MIB + 3)
        up = c.create_multipart_upload(Bucket=b, Key="k")
        self.assertNotIn("ChecksumType", up)
        p1 = c.upload_part(Bucket=b, Key="k", UploadId=up["UploadId"], PartNumber=1, Body=first)
        p2 = c.upload_part_copy(Bucket=b, Key="k", UploadId=up["UploadId"], PartNumber=2,
                                CopySource={"Bucket": b, "Key": "src"},
                                CopySourceRange="bytes=100-199999")
        done = c.complete_multipart_upload(
            Bucket=b, Key="k", UploadId=up["UploadId"],
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": p1["ETag"]},
                                       {"PartNumber": 2, "ETag": p2["CopyPartResult"]["ETag"]}]})
        data = first + src[100:200000]
        self.assertEqual((done["ChecksumCRC64NVME"], done["ChecksumType"]),
                         (crc("CRC64NVME", data), "FULL_OBJECT"))
        self.assert_default(c, b, "k", data)

    def test_object_kept_without_checksum(self):
        """an object whose record has no checksum (written before default checksums,
        or replicated from a region that kept none) answers none, and a copy of it
        gets the default one"""
        c = self.plain()
        b = self.bucket(c)
        c.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
        data = b"written by an older release"
        rec = {"vid": "0" * 31 + "1", "lm": 1700000000000,
               "etag": '"%s"' % hashlib.md5(data).hexdigest()}
        hdr = base64.b64encode(json.dumps(rec).encode()).decode()

        def add(request, **_):
            request.headers["x-tandem-replica"] = hdr
        c.meta.events.register_first("before-sign.s3.PutObject", add)
        c.put_object(Bucket=b, Key="old", Body=data)
        c.meta.events.unregister("before-sign.s3.PutObject", add)
        h = c.head_object(Bucket=b, Key="old", ChecksumMode="ENABLED")
        self.assertFalse([k for k in h if k.startswith("Checksum")], h)
        g = c.get_object(Bucket=b, Key="old", ChecksumMode="ENABLED")
        self.assertEqual(g["Body"].read(), data)
        self.assertFalse([k for k in g if k.startswith("Checksum")], g)
        a = c.get_object_attributes(Bucket=b, Key="old", ObjectAttributes=["Checksum", "ETag"])
        self.assertNotIn("Checksum", a)
        o = c.list_objects_v2(Bucket=b)["Contents"][0]
        self.assertNotIn("ChecksumAlgorithm", o)
        r = c.copy_object(Bucket=b, Key="new", CopySource={"Bucket": b, "Key": "old"})
        self.assertEqual(r["CopyObjectResult"]["ChecksumCRC64NVME"], crc("CRC64NVME", data))
        self.assert_default(c, b, "new", data)

    def test_aws_cli_v1_head_object(self):
        run = self.cli("aws-cli-v1")
        c = self.plain()
        b = self.bucket(c)
        c.put_object(Bucket=b, Key="k", Body=b"from an old client")
        h = run("s3api", "head-object", "--bucket", b, "--key", "k", "--checksum-mode", "ENABLED")
        self.assertEqual((h["ChecksumCRC64NVME"], h["ChecksumType"]),
                         (crc("CRC64NVME", b"from an old client"), "FULL_OBJECT"))

    def test_copy_keeps_or_computes(self):
        c = self.plain()
        b = self.bucket(c)
        data = os.urandom(5 * MIB) + b"tail"
        c.put_object(Bucket=b, Key="plain", Body=data)
        r = c.copy_object(Bucket=b, Key="plain-copy", CopySource={"Bucket": b, "Key": "plain"})
        self.assertEqual((r["CopyObjectResult"]["ChecksumCRC64NVME"],
                          r["CopyObjectResult"]["ChecksumType"]),
                         (crc("CRC64NVME", data), "FULL_OBJECT"))
        self.assert_default(c, b, "plain-copy", data)
        # a COMPOSITE upload in parts: the copy keeps its value and its type
        up = c.create_multipart_upload(Bucket=b, Key="parts", ChecksumAlgorithm="SHA1")["UploadId"]
        parts = []
        for n, piece in ((1, data[:5 * MIB]), (2, data[5 * MIB:])):
            p = c.upload_part(Bucket=b, Key="parts", UploadId=up, PartNumber=n, Body=piece,
                              ChecksumAlgorithm="SHA1")
            parts.append({"PartNumber": n, "ETag": p["ETag"], "ChecksumSHA1": p["ChecksumSHA1"]})
        c.complete_multipart_upload(Bucket=b, Key="parts", UploadId=up,
                                    MultipartUpload={"Parts": parts})
        src = c.head_object(Bucket=b, Key="parts", ChecksumMode="ENABLED")
        self.assertEqual(src["ChecksumType"], "COMPOSITE")
        self.assertTrue(src["ChecksumSHA1"].endswith("-2"))
        r = c.copy_object(Bucket=b, Key="parts-copy", CopySource={"Bucket": b, "Key": "parts"})
        self.assertEqual((r["CopyObjectResult"]["ChecksumSHA1"],
                          r["CopyObjectResult"]["ChecksumType"]),
                         (src["ChecksumSHA1"], "COMPOSITE"))
        h = c.head_object(Bucket=b, Key="parts-copy", ChecksumMode="ENABLED")
        self.assertEqual((h["ChecksumSHA1"], h["ChecksumType"]), (src["ChecksumSHA1"], "COMPOSITE"))
        a = c.get_object_attributes(Bucket=b, Key="parts-copy", ObjectAttributes=["Checksum"])
        self.assertEqual(a["Checksum"]["ChecksumType"], "COMPOSITE")
        # a copy naming an algorithm gets that algorithm's FULL_OBJECT checksum of its bytes
        r = c.copy_object(Bucket=b, Key="crc32-copy", CopySource={"Bucket": b, "Key": "parts"},
                          ChecksumAlgorithm="CRC32")
        self.assertEqual((r["CopyObjectResult"]["ChecksumCRC32"],
                          r["CopyObjectResult"]["ChecksumType"]),
                         (crc("CRC32", data), "FULL_OBJECT"))
        h = c.head_object(Bucket=b, Key="crc32-copy", ChecksumMode="ENABLED")
        self.assertEqual((h["ChecksumCRC32"], h["ChecksumType"]), (crc("CRC32", data), "FULL_OBJECT"))
        self.assertNotIn("ChecksumSHA1", h)
        # onto itself: the way to give an object another checksum
        r = c.copy_object(Bucket=b, Key="plain", CopySource={"Bucket": b, "Key": "plain"},
                          ChecksumAlgorithm="SHA256")
        h = c.head_object(Bucket=b, Key="plain", ChecksumMode="ENABLED")
        self.assertEqual((h["ChecksumSHA256"], h["ChecksumType"]),
                         (base64.b64encode(hashlib.sha256(data).digest()).decode(), "FULL_OBJECT"))
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            c.copy_object(Bucket=b, Key="bad", CopySource={"Bucket": b, "Key": "plain"},
                          ChecksumAlgorithm="MD5")
        self.assertEqual(e.exception.response["Error"]["Code"], "InvalidRequest")
        self.assertNotIn("Contents", c.list_objects_v2(Bucket=b, Prefix="bad"))


if __name__ == "__main__":
    unittest.main()
