"""Checksums of uploads in parts in the cases S3 words for itself: an upload
created with no algorithm (S3's default CRC64NVME, FULL_OBJECT, kept for the
object, each part's answered and listed; ListParts names the type "null"), its
parts carrying checksums of their own (accepted, answered, listed, checked on
completion; the object's checksum still the CRC64NVME of all its bytes), a
COMPOSITE upload's part sent without a checksum (InvalidRequest before the
body; a copied part gets one from the server), and a part read by number
(partNumber) of a FULL_OBJECT or COMPOSITE object. Real server; boto3 (a client
that adds no checksum of its own, and the default one that adds CRC32) and
SigV4-signed raw requests."""

import base64
import hashlib
import os
import unittest

from test_s3 import S3Case
from test_s3_checksums import crc

MIB = 1024 * 1024


def sha(name, data):
    return base64.b64encode(hashlib.new(name, data).digest()).decode()


class UploadsInParts(S3Case):
    server_args = {}

    def plain(self):
        """a client that adds no checksum of its own"""
        return self.s3(request_checksum_calculation="when_required",
                       response_checksum_validation="when_required")

    def raw_part(self, b, key, up, n, body, headers=None):
        """UploadPart as a SigV4-signed request carrying exactly @headers"""
        url = "%s/%s/%s?partNumber=%d&uploadId=%s" % (self.server.url(), b, key, n, up)
        return self.signed_raw("PUT", url, body, headers or {})

    def test_no_algorithm_default_crc64nvme(self):
        c = self.plain()
        b = self.bucket(c)
        first, last = os.urandom(5 * MIB + 11), b"the end"
        up = c.create_multipart_upload(Bucket=b, Key="k")["UploadId"]
        # UploadPart answers the CRC64NVME S3 gives each part
        st, hd, _ = self.raw_part(b, "k", up, 1, first)
        self.assertEqual((st, hd["x-amz-checksum-crc64nvme"]), (200, crc("CRC64NVME", first)))
        p2 = c.upload_part(Bucket=b, Key="k", UploadId=up, PartNumber=2, Body=last)
        self.assertEqual(p2["ChecksumCRC64NVME"], crc("CRC64NVME", last))
        # ListParts lists it, the algorithm and type "null" as S3 answers them
        lp = c.list_parts(Bucket=b, Key="k", UploadId=up)
        self.assertEqual((lp["ChecksumAlgorithm"], lp["ChecksumType"]), ("null", "null"))
        self.assertEqual([p.get("ChecksumCRC64NVME") for p in lp["Parts"]],
                         [crc("CRC64NVME", first), crc("CRC64NVME", last)])
        # a copied part too (CopyPartResult), then replaced by an uploaded one
        c.put_object(Bucket=b, Key="src", Body=b"copied")
        cp = c.upload_part_copy(Bucket=b, Key="k", UploadId=up, PartNumber=3,
                                CopySource={"Bucket": b, "Key": "src"})["CopyPartResult"]
        self.assertEqual(cp["ChecksumCRC64NVME"], crc("CRC64NVME", b"copied"))
        c.abort_multipart_upload(Bucket=b, Key="k", UploadId=up)
        up = c.create_multipart_upload(Bucket=b, Key="k")["UploadId"]
        st, hd, _ = self.raw_part(b, "k", up, 1, first)
        p2 = c.upload_part(Bucket=b, Key="k", UploadId=up, PartNumber=2, Body=last)
        # ListMultipartUploads names no algorithm for it
        self.assertEqual([sorted(k for k in u if k.startswith("Checksum"))
                          for u in c.list_multipart_uploads(Bucket=b)["Uploads"]], [[]])
        # a part named with another CRC64NVME than its own: InvalidPart
        self.assertCode("InvalidPart", c.complete_multipart_upload, Bucket=b, Key="k",
                        UploadId=up, MultipartUpload={"Parts": [
                            {"PartNumber": 1, "ETag": hd["etag"],
                             "ChecksumCRC64NVME": crc("CRC64NVME", b"x")},
                            {"PartNumber": 2, "ETag": p2["ETag"]}]})
        parts = [{"PartNumber": 1, "ETag": hd["etag"]}, {"PartNumber": 2, "ETag": p2["ETag"]}]
        want = crc("CRC64NVME", first + last)
        # a checksum type named on completion is not the upload's ("null"): BadDigest
        for t in ("FULL_OBJECT", "COMPOSITE"):
            e = self.assertCode("BadDigest", c.complete_multipart_upload, Bucket=b, Key="k",
                                UploadId=up, MultipartUpload={"Parts": parts}, ChecksumType=t)
            self.assertEqual(e["Error"]["Message"], "The upload was created using the null "
                             "checksum mode. The complete request must use the same checksum "
                             "mode.")
        # a whole-object checksum sent for an upload with no algorithm is not checked
        done = c.complete_multipart_upload(Bucket=b, Key="k", UploadId=up,
                                           MultipartUpload={"Parts": parts},
                                           ChecksumCRC64NVME=crc("CRC64NVME", b"other"))
        self.assertEqual((done["ChecksumCRC64NVME"], done["ChecksumType"]), (want, "FULL_OBJECT"))
        for fn in (c.head_object, c.get_object):
            r = fn(Bucket=b, Key="k", ChecksumMode="ENABLED")
            self.assertEqual((r["ChecksumCRC64NVME"], r["ChecksumType"]), (want, "FULL_OBJECT"))
            # a part of several: no checksum
            r = fn(Bucket=b, Key="k", ChecksumMode="ENABLED", PartNumber=1)
            self.assertEqual(r["PartsCount"], 2)
            self.assertFalse([k for k in r if k.startswith("Checksum")], r)
        a = c.get_object_attributes(Bucket=b, Key="k", ObjectAttributes=["Checksum", "ObjectParts"])
        self.assertEqual(a["Checksum"], {"ChecksumCRC64NVME": want, "ChecksumType": "FULL_OBJECT"})
        # ObjectParts: each part with its CRC64NVME
        self.assertEqual([(p["PartNumber"], p["Size"], p.get("ChecksumCRC64NVME"))
                          for p in a["ObjectParts"]["Parts"]],
                         [(1, len(first), crc("CRC64NVME", first)),
                          (2, len(last), crc("CRC64NVME", last))])

    def test_no_algorithm_parts_with_their_own_checksums(self):
        c = self.s3()  # boto3 adds a CRC32 to each part by itself
        b = self.bucket(c)
        first, mid, last = os.urandom(5 * MIB), os.urandom(5 * MIB + 5), b"tail"
        up = c.create_multipart_upload(Bucket=b, Key="k")["UploadId"]
        p1 = c.upload_part(Bucket=b, Key="k", UploadId=up, PartNumber=1, Body=first)
        self.assertEqual(p1["ChecksumCRC32"], crc("CRC32", first))
        p2 = c.upload_part(Bucket=b, Key="k", UploadId=up, PartNumber=2, Body=mid,
                           ChecksumAlgorithm="SHA256")
        self.assertEqual(p2["ChecksumSHA256"], sha("sha256", mid))
        # a raw request with a CRC64NVME of its own, and a wrong one (BadDigest)
        st, _, body = self.raw_part(b, "k", up, 3, last,
                                    {"x-amz-checksum-crc64nvme": crc("CRC64NVME", b"x")})
        self.assertEqual(st, 400)
        self.assertIn(b"<Code>BadDigest</Code>", body)
        st, hd, _ = self.raw_part(b, "k", up, 3, last,
                                  {"x-amz-checksum-crc64nvme": crc("CRC64NVME", last)})
        self.assertEqual((st, hd["x-amz-checksum-crc64nvme"]), (200, crc("CRC64NVME", last)))
        lp = c.list_parts(Bucket=b, Key="k", UploadId=up)
        self.assertEqual((lp["ChecksumAlgorithm"], lp["ChecksumType"]), ("null", "null"))
        self.assertEqual([(p.get("ChecksumCRC32"), p.get("ChecksumSHA256"),
                           p.get("ChecksumCRC64NVME")) for p in lp["Parts"]],
                         [(crc("CRC32", first), None, None), (None, sha("sha256", mid), None),
                          (None, None, crc("CRC64NVME", last))])
        parts = [{"PartNumber": 1, "ETag": p1["ETag"], "ChecksumCRC32": p1["ChecksumCRC32"]},
                 {"PartNumber": 2, "ETag": p2["ETag"], "ChecksumSHA256": p2["ChecksumSHA256"]},
                 {"PartNumber": 3, "ETag": hd["etag"],
                  "ChecksumCRC64NVME": crc("CRC64NVME", last)}]
        # a part named with a checksum other than its own, or without the one it
        # came with (as a client that adds a CRC32 by itself and lists only
        # numbers and ETags): InvalidPart, the upload stays
        bad = [dict(parts[0], ChecksumCRC32=crc("CRC32", b"x"))] + parts[1:]
        self.assertCode("InvalidPart", c.complete_multipart_upload, Bucket=b, Key="k",
                        UploadId=up, MultipartUpload={"Parts": bad})
        bare = [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in parts]
        self.assertCode("InvalidPart", c.complete_multipart_upload, Bucket=b, Key="k",
                        UploadId=up, MultipartUpload={"Parts": bare})
        self.assertCode("InvalidPart", c.complete_multipart_upload, Bucket=b, Key="k",
                        UploadId=up, MultipartUpload={"Parts": parts[:2] + bare[2:]})
        self.assertEqual(len(c.list_parts(Bucket=b, Key="k", UploadId=up)["Parts"]), 3)
        done = c.complete_multipart_upload(Bucket=b, Key="k", UploadId=up,
                                           MultipartUpload={"Parts": parts})
        want = crc("CRC64NVME", first + mid + last)
        self.assertEqual((done["ChecksumCRC64NVME"], done["ChecksumType"]), (want, "FULL_OBJECT"))
        self.assertNotIn("ChecksumCRC32", done)
        h = c.head_object(Bucket=b, Key="k", ChecksumMode="ENABLED")
        self.assertEqual((h["ChecksumCRC64NVME"], h["ChecksumType"]), (want, "FULL_OBJECT"))
        g = c.get_object(Bucket=b, Key="k", ChecksumMode="ENABLED")  # botocore checks it
        self.assertEqual(g["Body"].read(), first + mid + last)

    def test_composite_part_without_checksum(self):
        c = self.plain()
        b = self.bucket(c)
        src = os.urandom(5 * MIB + 300)
        c.put_object(Bucket=b, Key="src", Body=src)
        tail = b"last part"
        r = c.create_multipart_upload(Bucket=b, Key="k", ChecksumAlgorithm="SHA256")
        self.assertEqual(r["ChecksumType"], "COMPOSITE")
        up = r["UploadId"]
        e = self.assertCode("InvalidRequest", c.upload_part, Bucket=b, Key="k", UploadId=up,
                            PartNumber=1, Body=tail)
        self.assertEqual(e["Error"]["Message"], "Checksum Type mismatch occurred, expected "
                         "checksum Type: sha256, actual checksum Type: null")
        st, _, body = self.raw_part(b, "k", up, 2, tail)
        self.assertEqual(st, 400)
        self.assertIn(b"actual checksum Type: null", body)
        self.assertNotIn("Parts", c.list_parts(Bucket=b, Key="k", UploadId=up))
        # a copied part gets the upload's checksum from the server
        p1 = c.upload_part_copy(Bucket=b, Key="k", UploadId=up, PartNumber=1,
                                CopySource={"Bucket": b, "Key": "src"})["CopyPartResult"]
        self.assertEqual(p1["ChecksumSHA256"], sha("sha256", src))
        p2 = c.upload_part(Bucket=b, Key="k", UploadId=up, PartNumber=2, Body=tail,
                           ChecksumSHA256=sha("sha256", tail))
        lp = c.list_parts(Bucket=b, Key="k", UploadId=up)
        self.assertEqual([p["ChecksumSHA256"] for p in lp["Parts"]],
                         [sha("sha256", src), sha("sha256", tail)])
        done = c.complete_multipart_upload(Bucket=b, Key="k", UploadId=up, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": p1["ETag"], "ChecksumSHA256": p1["ChecksumSHA256"]},
                      {"PartNumber": 2, "ETag": p2["ETag"],
                       "ChecksumSHA256": p2["ChecksumSHA256"]}]})
        raw = hashlib.sha256(src).digest() + hashlib.sha256(tail).digest()
        want = base64.b64encode(hashlib.sha256(raw).digest()).decode() + "-2"
        self.assertEqual((done["ChecksumSHA256"], done["ChecksumType"]), (want, "COMPOSITE"))
        # a part read by number answers that part's own checksum
        h = c.head_object(Bucket=b, Key="k", ChecksumMode="ENABLED", PartNumber=2)
        self.assertEqual((h["ChecksumSHA256"], h["ChecksumType"]), (sha("sha256", tail),
                                                                    "COMPOSITE"))

    def test_parts_of_a_checksum_upload_are_listed_from_one_on(self):
        c = self.plain()
        b = self.bucket(c)
        for alg in ("CRC32", "CRC64NVME"):
            up = c.create_multipart_upload(Bucket=b, Key=alg, ChecksumAlgorithm=alg)["UploadId"]
            listed = {}
            for n in (1, 2, 3):
                r = c.upload_part(Bucket=b, Key=alg, UploadId=up, PartNumber=n,
                                  Body=b"%d" % n, **{"Checksum" + alg: crc(alg, b"%d" % n)})
                listed[n] = {"PartNumber": n, "ETag": r["ETag"],
                             "Checksum" + alg: r["Checksum" + alg]}
            for nums in ((1, 3), (2, 3), (2,)):
                self.assertCode("InvalidPartOrder", c.complete_multipart_upload, Bucket=b,
                                Key=alg, UploadId=up,
                                MultipartUpload={"Parts": [listed[n] for n in nums]})
            done = c.complete_multipart_upload(Bucket=b, Key=alg, UploadId=up,
                                               MultipartUpload={"Parts": [listed[1]]})
            self.assertEqual(done["ChecksumType"], "COMPOSITE" if alg == "CRC32" else "FULL_OBJECT")
            if alg == "CRC64NVME":
                self.assertEqual(done["ChecksumCRC64NVME"], crc(alg, b"1"))
        # an upload with no algorithm may skip numbers
        up = c.create_multipart_upload(Bucket=b, Key="plain")["UploadId"]
        r = c.upload_part(Bucket=b, Key="plain", UploadId=up, PartNumber=7, Body=b"7")
        done = c.complete_multipart_upload(Bucket=b, Key="plain", UploadId=up, MultipartUpload={
            "Parts": [{"PartNumber": 7, "ETag": r["ETag"]}]})
        self.assertEqual(done["ChecksumCRC64NVME"], crc("CRC64NVME", b"7"))

    def test_part_numbers_of_full_object_checksums(self):
        c = self.plain()
        b = self.bucket(c)
        one = os.urandom(1000)
        # an upload of one part: the part is the object, its CRC the object's
        up = c.create_multipart_upload(Bucket=b, Key="one", ChecksumAlgorithm="CRC32",
                                       ChecksumType="FULL_OBJECT")["UploadId"]
        p = c.upload_part(Bucket=b, Key="one", UploadId=up, PartNumber=1, Body=one)
        c.complete_multipart_upload(Bucket=b, Key="one", UploadId=up,
                                    MultipartUpload={"Parts": [{"PartNumber": 1,
                                                                "ETag": p["ETag"]}]})
        g = c.get_object(Bucket=b, Key="one", ChecksumMode="ENABLED", PartNumber=1)
        self.assertEqual((g["ChecksumCRC32"], g["ChecksumType"], g["PartsCount"]),
                         (crc("CRC32", one), "FULL_OBJECT", 1))
        self.assertEqual(g["Body"].read(), one)
        # an object put whole: part 1 is all of it
        c.put_object(Bucket=b, Key="put", Body=one)
        h = c.head_object(Bucket=b, Key="put", ChecksumMode="ENABLED", PartNumber=1)
        self.assertEqual((h["ChecksumCRC64NVME"], h["ChecksumType"]),
                         (crc("CRC64NVME", one), "FULL_OBJECT"))
        # several parts: none, also through the raw request
        up = c.create_multipart_upload(Bucket=b, Key="two", ChecksumAlgorithm="CRC32C",
                                       ChecksumType="FULL_OBJECT")["UploadId"]
        first = os.urandom(5 * MIB)
        e1 = c.upload_part(Bucket=b, Key="two", UploadId=up, PartNumber=1, Body=first)["ETag"]
        e2 = c.upload_part(Bucket=b, Key="two", UploadId=up, PartNumber=2, Body=one)["ETag"]
        c.complete_multipart_upload(Bucket=b, Key="two", UploadId=up, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
        url = "%s/%s/two?partNumber=2" % (self.server.url(), b)
        st, hd, body = self.signed_raw("GET", url, headers={"x-amz-checksum-mode": "ENABLED"})
        self.assertEqual((st, body, hd.get("x-amz-mp-parts-count")), (206, one, "2"))
        self.assertFalse([k for k in hd if k.lower().startswith("x-amz-checksum")], hd)
        h = c.head_object(Bucket=b, Key="two", ChecksumMode="ENABLED")
        self.assertEqual(h["ChecksumCRC32C"], crc("CRC32C", first + one))


if __name__ == "__main__":
    unittest.main()
