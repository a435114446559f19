"""S3 object operations as S3 answers them, beyond test_s3.py: reading a
multipart object part by part (GetObject/HeadObject partNumber), strict
x-amz-copy-source-range, DeleteObjects' entries for removed delete markers,
malformed version ids, user metadata (the 2 KB limit, empty values,
non-ASCII values sent back RFC 2047-encoded), COMPOSITE checksums of uploads
in parts, GetObjectAttributes, tags from x-amz-tagging (multipart uploads,
CopyObject's REPLACE), If-None-Match on writes. Real server, boto3."""

import base64
import hashlib
import os
import unittest
import zlib

from test_s3 import S3Case

MIB = 1 << 20


class Objects(S3Case):
    server_args = {}

    def upload(self, c, b, key, sizes, numbers=None):
        """a multipart object of parts of @sizes (numbered @numbers), its body"""
        up = c.create_multipart_upload(Bucket=b, Key=key)["UploadId"]
        parts, body = [], b""
        for n, size in zip(numbers or range(1, len(sizes) + 1), sizes):
            chunk = os.urandom(size)
            p = c.upload_part(Bucket=b, Key=key, UploadId=up, PartNumber=n, Body=chunk)
            # boto3 adds a CRC32 to each part; S3 wants it listed back
            parts.append({"PartNumber": n, "ETag": p["ETag"], "ChecksumCRC32": p["ChecksumCRC32"]})
            body += chunk
        c.complete_multipart_upload(Bucket=b, Key=key, UploadId=up,
                                    MultipartUpload={"Parts": parts})
        return body

    def test_get_and_head_by_part_number(self):
        c = self.s3()
        b = self.bucket(c)
        body = self.upload(c, b, "even", [5 * MIB, 5 * MIB, 123])
        offs = [0, 5 * MIB, 10 * MIB, len(body)]
        for n in (1, 2, 3):
            r = c.get_object(Bucket=b, Key="even", PartNumber=n)
            self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 206)
            self.assertEqual(r["PartsCount"], 3)
            self.assertEqual(r["ContentRange"], "bytes %d-%d/%d" % (offs[n - 1], offs[n] - 1,
                                                                    len(body)))
            self.assertEqual(r["Body"].read(), body[offs[n - 1]:offs[n]])
        h = c.head_object(Bucket=b, Key="even", PartNumber=3)
        self.assertEqual((h["ContentLength"], h["PartsCount"]), (123, 3))
        self.assertEqual(h["ETag"], c.head_object(Bucket=b, Key="even")["ETag"])
        e = self.assertCode("InvalidPartNumber", c.get_object, Bucket=b, Key="even", PartNumber=4)
        self.assertEqual(e["ResponseMetadata"]["HTTPStatusCode"], 416)
        self.assertCode("InvalidArgument", c.get_object, Bucket=b, Key="even", PartNumber=0)
        self.assertCode("InvalidRequest", c.get_object, Bucket=b, Key="even", PartNumber=1,
                        Range="bytes=0-9")

        # parts of differing sizes, numbered with gaps: a part is found by its number
        odd = self.upload(c, b, "odd", [6 * MIB, 5 * MIB, 7], numbers=[2, 5, 9])
        r = c.get_object(Bucket=b, Key="odd", PartNumber=5)
        self.assertEqual(r["Body"].read(), odd[6 * MIB:11 * MIB])
        self.assertEqual(c.get_object(Bucket=b, Key="odd", PartNumber=9)["Body"].read(),
                         odd[11 * MIB:])
        self.assertCode("InvalidPartNumber", c.get_object, Bucket=b, Key="odd", PartNumber=1)

        # an object not uploaded in parts is its own part 1
        c.put_object(Bucket=b, Key="plain", Body=b"whole thing")
        r = c.get_object(Bucket=b, Key="plain", PartNumber=1)
        self.assertEqual(r["Body"].read(), b"whole thing")
        e = self.assertCode("416", c.head_object, Bucket=b, Key="plain", PartNumber=2)  # no body
        self.assertEqual(e["ResponseMetadata"]["HTTPStatusCode"], 416)

    def test_copy_source_range_is_strict(self):
        c = self.s3()
        b = self.bucket(c)
        c.put_object(Bucket=b, Key="src", Body=b"0123456789")
        up = c.create_multipart_upload(Bucket=b, Key="dst")["UploadId"]
        for rg in ("bytes=2-3-4", "bytes=-3", "bytes=4-", "bytes=5-2", "2-3", "bytes= 1-2",
                   "bytes=1-2x"):
            self.assertCode("InvalidArgument", c.upload_part_copy, Bucket=b, Key="dst",
                            UploadId=up, PartNumber=1, CopySource={"Bucket": b, "Key": "src"},
                            CopySourceRange=rg)
        e = self.assertCode("InvalidArgument", c.upload_part_copy, Bucket=b, Key="dst",
                            UploadId=up, PartNumber=1, CopySource={"Bucket": b, "Key": "src"},
                            CopySourceRange="bytes=0-10")
        self.assertIn("size: 10", e["Error"]["Message"])
        self.assertNotIn("Parts", c.list_parts(Bucket=b, Key="dst", UploadId=up))
        r = c.upload_part_copy(Bucket=b, Key="dst", UploadId=up, PartNumber=1,
                               CopySource={"Bucket": b, "Key": "src"}, CopySourceRange="bytes=3-5")
        c.complete_multipart_upload(Bucket=b, Key="dst", UploadId=up, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": r["CopyPartResult"]["ETag"]}]})
        self.assertEqual(c.get_object(Bucket=b, Key="dst")["Body"].read(), b"345")

    def test_delete_objects_names_removed_markers(self):
        c = self.s3()
        b = self.bucket(c)
        c.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
        v = c.put_object(Bucket=b, Key="doc", Body=b"v1")["VersionId"]
        marker = c.delete_object(Bucket=b, Key="doc")["VersionId"]
        r = c.delete_objects(Bucket=b, Delete={"Objects": [
            {"Key": "doc", "VersionId": marker}, {"Key": "doc", "VersionId": v}]})
        by_vid = {d["VersionId"]: d for d in r["Deleted"]}
        self.assertEqual(by_vid[marker]["DeleteMarker"], True)
        self.assertEqual(by_vid[marker]["DeleteMarkerVersionId"], marker)
        self.assertNotIn("DeleteMarker", by_vid[v])
        self.assertNotIn("Versions", c.list_object_versions(Bucket=b))
        # a new marker made by a key-only entry is named too
        r = c.delete_objects(Bucket=b, Delete={"Objects": [{"Key": "other"}]})
        made = r["Deleted"][0]
        self.assertTrue(made["DeleteMarker"])
        self.assertEqual(c.list_object_versions(Bucket=b)["DeleteMarkers"][0]["VersionId"],
                         made["DeleteMarkerVersionId"])

    def test_delete_with_malformed_version_id(self):
        c = self.s3()
        b = self.bucket(c)
        c.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
        c.put_object(Bucket=b, Key="k", Body=b"kept")
        e = self.assertCode("InvalidArgument", c.delete_object, Bucket=b, Key="k",
                            VersionId="not-a-version")
        self.assertEqual(e["Error"]["ArgumentName"], "versionId")
        self.assertEqual(c.get_object(Bucket=b, Key="k")["Body"].read(), b"kept")
        # well formed but unknown: nothing to delete, and that succeeds
        r = c.delete_object(Bucket=b, Key="k", VersionId="0" * 32)
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 204)
        self.assertEqual(len(c.list_object_versions(Bucket=b)["Versions"]), 1)

    def test_user_metadata_limit(self):
        c = self.s3()
        b = self.bucket(c)
        fits = {"a": "x" * 1000, "b": "y" * 1046}  # 2048 bytes with the names
        c.put_object(Bucket=b, Key="k", Body=b"1", Metadata=fits)
        self.assertEqual(c.head_object(Bucket=b, Key="k")["Metadata"], fits)
        over = {"a": "x" * 1000, "b": "y" * 1047}
        e = self.assertCode("MetadataTooLarge", c.put_object, Bucket=b, Key="k", Body=b"2",
                            Metadata=over)
        self.assertEqual(e["ResponseMetadata"]["HTTPStatusCode"], 400)
        self.assertCode("MetadataTooLarge", c.create_multipart_upload, Bucket=b, Key="m",
                        Metadata=over)
        self.assertCode("MetadataTooLarge", c.copy_object, Bucket=b, Key="c",
                        CopySource={"Bucket": b, "Key": "k"}, Metadata=over,
                        MetadataDirective="REPLACE")
        self.assertEqual(c.get_object(Bucket=b, Key="k")["Body"].read(), b"1")
        self.assertNotIn("Uploads", c.list_multipart_uploads(Bucket=b))

    def test_composite_checksums(self):
        c = self.s3()
        b = self.bucket(c)
        p1, p2 = os.urandom(5 * MIB), b"the last part"
        for alg, h in (("SHA256", lambda d: hashlib.sha256(d).digest()),
                       ("CRC32", lambda d: zlib.crc32(d).to_bytes(4, "big"))):
            key = "obj-" + alg
            r = c.create_multipart_upload(Bucket=b, Key=key, ChecksumAlgorithm=alg)
            self.assertEqual(r["ResponseMetadata"]["HTTPHeaders"]["x-amz-checksum-algorithm"], alg)
            self.assertEqual(r["ChecksumType"], "COMPOSITE")
            up = r["UploadId"]
            parts = []
            for n, body in ((1, p1), (2, p2)):
                pr = c.upload_part(Bucket=b, Key=key, UploadId=up, PartNumber=n, Body=body,
                                   ChecksumAlgorithm=alg)
                self.assertEqual(pr["Checksum" + alg], base64.b64encode(h(body)).decode())
                parts.append({"PartNumber": n, "ETag": pr["ETag"],
                              "Checksum" + alg: pr["Checksum" + alg]})
            listed = c.list_parts(Bucket=b, Key=key, UploadId=up)["Parts"]
            self.assertEqual([p["Checksum" + alg] for p in listed],
                             [p["Checksum" + alg] for p in parts])
            # a part named with another checksum than the one it came with
            wrong = [dict(parts[0]), parts[1]]
            wrong[0]["Checksum" + alg] = parts[1]["Checksum" + alg]
            self.assertCode("InvalidPart", c.complete_multipart_upload, Bucket=b, Key=key,
                            UploadId=up, MultipartUpload={"Parts": wrong})
            done = c.complete_multipart_upload(Bucket=b, Key=key, UploadId=up,
                                               MultipartUpload={"Parts": parts})
            want = base64.b64encode(h(h(p1) + h(p2))).decode() + "-2"
            self.assertEqual((done["Checksum" + alg], done["ChecksumType"]), (want, "COMPOSITE"))
            g = c.get_object(Bucket=b, Key=key, ChecksumMode="ENABLED")
            self.assertEqual((g["Checksum" + alg], g["ChecksumType"]), (want, "COMPOSITE"))
            self.assertEqual(g["Body"].read(), p1 + p2)
        # a whole-object checksum is FULL_OBJECT
        c.put_object(Bucket=b, Key="single", Body=b"x", ChecksumAlgorithm="SHA256")
        h = c.head_object(Bucket=b, Key="single", ChecksumMode="ENABLED")
        self.assertEqual(h["ChecksumType"], "FULL_OBJECT")
        self.assertCode("InvalidRequest", c.create_multipart_upload, Bucket=b, Key="k",
                        ChecksumAlgorithm="MD5")
        self.assertNotIn("Uploads", c.list_multipart_uploads(Bucket=b))

    def test_non_ascii_metadata_is_rfc2047_encoded(self):
        c = self.s3()
        b = self.bucket(c)
        sent = "caf\u00e9 \u2713".encode("utf-8")
        c.put_object(Bucket=b, Key="k", Body=b"1", Metadata={"plain": "ascii stays"})
        # botocore refuses non-ASCII metadata, and re-encodes header text: the
        # UTF-8 bytes go as they are, through a presigned URL
        url = self.s3(signature_version="s3v4").generate_presigned_url(
            "put_object", Params={"Bucket": b, "Key": "k"}, ExpiresIn=300)
        conn = self.server.connection()
        try:
            conn.putrequest("PUT", url[url.index("/", 8):], skip_accept_encoding=True)
            conn.putheader("Content-Length", "1")
            conn.putheader("x-amz-meta-plain", "ascii stays")
            conn.putheader("x-amz-meta-note", sent)
            conn.endheaders(b"1")
            r = conn.getresponse()
            r.read()
            self.assertEqual(r.status, 200)
        finally:
            conn.close()
        # the bytes are read as ISO-8859-1, then sent back as UTF-8, base64, RFC 2047
        want = "=?UTF-8?B?%s?=" % base64.b64encode(sent.decode("latin-1").encode()).decode()
        for m in (c.head_object(Bucket=b, Key="k")["Metadata"],
                  c.get_object(Bucket=b, Key="k")["Metadata"]):
            self.assertEqual(m, {"plain": "ascii stays", "note": want})

        # values sent RFC 2047-encoded are decoded when kept, encoded again when sent
        def enc(text):
            return "=?UTF-8?B?%s?=" % base64.b64encode(text.encode()).decode()
        sent = {"b": enc("caf\u00e9 \u2713"), "q": "=?utf-8?Q?hello_world=21?=",
                "latin": "=?ISO-8859-1?Q?caf=E9?=", "two": "=?UTF-8?Q?a?= =?UTF-8?B?Yg==?=",
                "other": "=?KOI8-R?B?wcI=?=", "broken": "=?UTF-8?B?not base64?="}
        c.put_object(Bucket=b, Key="enc", Body=b"1", Metadata=sent)
        self.assertEqual(c.head_object(Bucket=b, Key="enc")["Metadata"], {
            "b": sent["b"], "q": "hello world!", "latin": enc("caf\u00e9"), "two": "ab",
            "other": sent["other"], "broken": sent["broken"]})

    def test_empty_metadata_value_comes_back(self):
        c = self.s3()
        b = self.bucket(c)
        c.put_object(Bucket=b, Key="k", Body=b"1", Metadata={"empty": "", "full": "v"})
        self.assertEqual(c.head_object(Bucket=b, Key="k")["Metadata"], {"empty": "", "full": "v"})
        c.put_object(Bucket=b, Key="k", Body=b"2", Metadata={"empty": ""})
        self.assertEqual(c.get_object(Bucket=b, Key="k")["Metadata"], {"empty": ""})

    def test_get_object_attributes(self):
        c = self.s3()
        b = self.bucket(c)
        c.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
        one = c.put_object(Bucket=b, Key="one", Body=b"hello", ChecksumAlgorithm="SHA256")
        r = c.get_object_attributes(Bucket=b, Key="one", ObjectAttributes=[
            "ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"])
        self.assertEqual(r["ETag"], one["ETag"].strip('"'))
        self.assertEqual(r["Checksum"], {"ChecksumSHA256": one["ChecksumSHA256"],
                                         "ChecksumType": "FULL_OBJECT"})
        self.assertNotIn("ObjectParts", r)
        self.assertEqual((r["StorageClass"], r["ObjectSize"], r["VersionId"]),
                         ("STANDARD", 5, one["VersionId"]))
        self.assertEqual(c.get_object_attributes(Bucket=b, Key="one", ObjectAttributes=["ObjectSize"],
                                                 VersionId=one["VersionId"])["ObjectSize"], 5)

        up = c.create_multipart_upload(Bucket=b, Key="mp", ChecksumAlgorithm="SHA256")["UploadId"]
        bodies, parts = [os.urandom(5 * MIB), os.urandom(5 * MIB), b"end"], []
        for n, body in enumerate(bodies, 1):
            pr = c.upload_part(Bucket=b, Key="mp", UploadId=up, PartNumber=n, Body=body,
                               ChecksumAlgorithm="SHA256")
            parts.append({"PartNumber": n, "ETag": pr["ETag"], "ChecksumSHA256": pr["ChecksumSHA256"]})
        c.complete_multipart_upload(Bucket=b, Key="mp", UploadId=up, MultipartUpload={"Parts": parts})
        r = c.get_object_attributes(Bucket=b, Key="mp", ObjectAttributes=["ObjectParts"], MaxParts=2)
        op = r["ObjectParts"]
        self.assertEqual((op["TotalPartsCount"], op["MaxParts"], op["IsTruncated"],
                          op["NextPartNumberMarker"]), (3, 2, True, 2))
        self.assertEqual([(p["PartNumber"], p["Size"], p["ChecksumSHA256"]) for p in op["Parts"]],
                         [(n, len(bodies[n - 1]), parts[n - 1]["ChecksumSHA256"]) for n in (1, 2)])
        op = c.get_object_attributes(Bucket=b, Key="mp", ObjectAttributes=["ObjectParts"],
                                     PartNumberMarker=2)["ObjectParts"]
        self.assertEqual(([p["PartNumber"] for p in op["Parts"]], op["IsTruncated"]), ([3], False))
        # a part read by its number comes with its own checksum
        g = c.get_object(Bucket=b, Key="mp", PartNumber=3, ChecksumMode="ENABLED")
        self.assertEqual((g["ChecksumSHA256"], g["Body"].read()), (parts[2]["ChecksumSHA256"], b"end"))

        self.assertCode("InvalidArgument", c.get_object_attributes, Bucket=b, Key="one",
                        ObjectAttributes=["Colour"])
        self.assertCode("NoSuchKey", c.get_object_attributes, Bucket=b, Key="none",
                        ObjectAttributes=["ETag"])
        c.delete_object(Bucket=b, Key="one")
        e = self.assertCode("NoSuchKey", c.get_object_attributes, Bucket=b, Key="one",
                            ObjectAttributes=["ETag"])
        self.assertEqual(e["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"], "true")

    def test_tags_from_headers(self):
        c = self.s3()
        b = self.bucket(c)

        def tags(key):
            return sorted((t["Key"], t["Value"])
                          for t in c.get_object_tagging(Bucket=b, Key=key)["TagSet"])
        # CreateMultipartUpload's tags are the completed object's
        up = c.create_multipart_upload(Bucket=b, Key="mp", Tagging="team=blue&note=a%20b&e=")
        part = c.upload_part(Bucket=b, Key="mp", UploadId=up["UploadId"], PartNumber=1, Body=b"p")
        c.complete_multipart_upload(Bucket=b, Key="mp", UploadId=up["UploadId"], MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": part["ETag"],
                       "ChecksumCRC32": part["ChecksumCRC32"]}]})
        self.assertEqual(tags("mp"), [("e", ""), ("note", "a b"), ("team", "blue")])
        # CopyObject: COPY keeps the source's, REPLACE takes the request's
        c.copy_object(Bucket=b, Key="kept", CopySource={"Bucket": b, "Key": "mp"})
        self.assertEqual(tags("kept"), tags("mp"))
        c.copy_object(Bucket=b, Key="new", CopySource={"Bucket": b, "Key": "mp"},
                      TaggingDirective="REPLACE", Tagging="only=this")
        self.assertEqual(tags("new"), [("only", "this")])
        c.copy_object(Bucket=b, Key="none", CopySource={"Bucket": b, "Key": "mp"},
                      TaggingDirective="REPLACE")
        self.assertEqual(tags("none"), [])
        self.assertCode("InvalidArgument", c.copy_object, Bucket=b, Key="x",
                        CopySource={"Bucket": b, "Key": "mp"}, TaggingDirective="MERGE")
        # refused before anything is written
        for bad in ("&".join("k%d=v" % i for i in range(11)), "a=1&a=2", "=v",
                    "k=" + "v" * 257, "k" * 129 + "=v"):
            self.assertCode("InvalidTag", c.put_object, Bucket=b, Key="bad", Body=b"x",
                            Tagging=bad)
            self.assertCode("InvalidTag", c.create_multipart_upload, Bucket=b, Key="bad",
                            Tagging=bad)
        self.assertCode("InvalidTag", c.copy_object, Bucket=b, Key="bad",
                        CopySource={"Bucket": b, "Key": "mp"}, TaggingDirective="REPLACE",
                        Tagging="a=1&a=2")
        listed = [o["Key"] for o in c.list_objects_v2(Bucket=b)["Contents"]]
        self.assertNotIn("bad", listed)
        self.assertNotIn("Uploads", c.list_multipart_uploads(Bucket=b))

    def test_if_none_match_takes_only_a_star(self):
        c = self.s3()
        b = self.bucket(c)
        etag = c.put_object(Bucket=b, Key="k", Body=b"first")["ETag"]
        for value in (etag, '"another"'):
            e = self.assertCode("NotImplemented", c.put_object, Bucket=b, Key="k", Body=b"second",
                                IfNoneMatch=value)
            self.assertEqual(e["ResponseMetadata"]["HTTPStatusCode"], 501)
        up = c.create_multipart_upload(Bucket=b, Key="k")["UploadId"]
        part = c.upload_part(Bucket=b, Key="k", UploadId=up, PartNumber=1, Body=b"p")
        self.assertCode("NotImplemented", c.complete_multipart_upload, Bucket=b, Key="k",
                        UploadId=up, IfNoneMatch=etag, MultipartUpload={
                            "Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
        self.assertEqual(c.get_object(Bucket=b, Key="k")["Body"].read(), b"first")
        self.assertCode("PreconditionFailed", c.put_object, Bucket=b, Key="k", Body=b"x",
                        IfNoneMatch="*")
        c.put_object(Bucket=b, Key="fresh", Body=b"new", IfNoneMatch="*")

    def test_crc64nvme_checksums(self):
        table = []
        for k in range(256):
            v = k
            for _ in range(8):
                v = (v >> 1) ^ 0x9A6C9329AC4BC9B5 if v & 1 else v >> 1
            table.append(v)

        def crc64(data):
            v = 0xFFFFFFFFFFFFFFFF
            for byte in data:
                v = table[(v ^ byte) & 0xFF] ^ (v >> 8)
            return base64.b64encode((v ^ 0xFFFFFFFFFFFFFFFF).to_bytes(8, "big")).decode()
        self.assertEqual(crc64(b"123456789"), base64.b64encode(
            (0xAE8B14860A799888).to_bytes(8, "big")).decode())  # CRC-64/NVME's check value

        c = self.s3()
        b = self.bucket(c)
        sent = {}

        def header(request, **kw):  # this botocore computes no CRC64NVME itself
            for h in list(request.headers.keys()):
                if h.lower().startswith("x-amz-checksum-") or \
                        h.lower() == "x-amz-sdk-checksum-algorithm":
                    del request.headers[h]
            request.headers["x-amz-checksum-crc64nvme"] = sent["v"]
        c.meta.events.register("before-sign.s3.PutObject", header)
        c.meta.events.register("before-sign.s3.UploadPart", header)
        body = os.urandom(100000)
        sent["v"] = crc64(body)
        r = c.put_object(Bucket=b, Key="k", Body=body)
        self.assertEqual(r["ResponseMetadata"]["HTTPHeaders"]["x-amz-checksum-crc64nvme"],
                         sent["v"])
        h = c.head_object(Bucket=b, Key="k", ChecksumMode="ENABLED")
        self.assertEqual((h["ResponseMetadata"]["HTTPHeaders"]["x-amz-checksum-crc64nvme"],
                          h["ChecksumType"]), (sent["v"], "FULL_OBJECT"))
        sent["v"] = crc64(b"something else")
        self.assertCode("BadDigest", c.put_object, Bucket=b, Key="bad", Body=body)
        self.assertNotIn("bad", [o["Key"] for o in c.list_objects_v2(Bucket=b)["Contents"]])
        # an upload in parts: each part's checked and answered, the whole object's
        # CRC made from the parts' (CRC64NVME is FULL_OBJECT only)
        up = c.create_multipart_upload(Bucket=b, Key="mp", ChecksumAlgorithm="CRC64NVME")
        self.assertEqual(up["ChecksumType"], "FULL_OBJECT")
        sent["v"] = crc64(body)
        p = c.upload_part(Bucket=b, Key="mp", UploadId=up["UploadId"], PartNumber=1, Body=body)
        self.assertEqual(p["ResponseMetadata"]["HTTPHeaders"]["x-amz-checksum-crc64nvme"],
                         sent["v"])
        c.complete_multipart_upload(Bucket=b, Key="mp", UploadId=up["UploadId"],
                                    MultipartUpload={"Parts": [{"PartNumber": 1,
                                                                "ETag": p["ETag"]}]})
        self.assertEqual(c.get_object(Bucket=b, Key="mp")["Body"].read(), body)
        h = c.head_object(Bucket=b, Key="mp", ChecksumMode="ENABLED")
        self.assertEqual((h["ResponseMetadata"]["HTTPHeaders"]["x-amz-checksum-crc64nvme"],
                          h["ChecksumType"]), (crc64(body), "FULL_OBJECT"))

    def test_form_upload_with_refused_tags_stores_nothing(self):
        from test_s3_policy import form_body
        c = self.s3(signature_version="s3v4")
        b = self.bucket(c)
        tagging = "<Tagging><TagSet>%s</TagSet></Tagging>" % "".join(
            "<Tag><Key>k%d</Key><Value>v</Value></Tag>" % i for i in range(11))
        p = c.generate_presigned_post(b, "form", Fields={"tagging": tagging},
                                      Conditions=[{"tagging": tagging}], ExpiresIn=300)
        body, ctype = form_body(list(p["fields"].items()) + [("file", ("f.txt", "data"))])
        conn = self.server.connection()
        try:
            conn.request("POST", "/" + b, body=body, headers={"Content-Type": ctype})
            r = conn.getresponse()
            status, answer = r.status, r.read()
        finally:
            conn.close()
        self.assertEqual((status, b"<Code>InvalidTag</Code>" in answer), (400, True), answer)
        self.assertNotIn("Contents", c.list_objects_v2(Bucket=b))
        c.put_object(Bucket=b, Key="alive", Body=b"yes")  # and the region still serves


if __name__ == "__main__":
    unittest.main()
