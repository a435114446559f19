"""S3 copies off the request threads: CopyObject, UploadPartCopy and
CompleteMultipartUpload copy and flush on the flush threads while the
connection waits, so large copies do not stall small reads, and every
acknowledged copy survives kill -9. Real server, boto3."""

import concurrent.futures
import hashlib
import os
import threading
import time
import unittest

from test_s3 import S3Case

BIG = 96 << 20  # bytes of each large copy


class Copies(S3Case):
    server_args = {}

    def test_large_copies_do_not_stall_small_gets(self):
        c = self.s3(max_pool_connections=16)
        b = self.bucket(c)
        src = os.urandom(BIG)
        c.put_object(Bucket=b, Key="src", Body=src)
        c.put_object(Bucket=b, Key="small", Body=b"small body")
        up = c.create_multipart_upload(Bucket=b, Key="mp")["UploadId"]
        done = threading.Event()

        took = []

        def copy(i):
            t = time.monotonic()
            r = c.copy_object(Bucket=b, Key="copy%d" % i,
                              CopySource={"Bucket": b, "Key": "src"})["CopyObjectResult"]
            took.append(time.monotonic() - t)
            return r

        def part_copy(n):
            t = time.monotonic()
            r = c.upload_part_copy(Bucket=b, Key="mp", UploadId=up, PartNumber=n,
                                   CopySource={"Bucket": b, "Key": "src"})["CopyPartResult"]
            took.append(time.monotonic() - t)
            return r

        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            jobs = [ex.submit(copy, i) for i in range(4)] + \
                   [ex.submit(part_copy, n) for n in (1, 2)]
            threading.Thread(target=lambda: (concurrent.futures.wait(jobs), done.set()),
                             daemon=True).start()
            time.sleep(0.2)  # the copies are under way
            lat = []
            g = self.s3()
            while not done.is_set() and len(lat) < 2000:
                t = time.monotonic()
                self.assertEqual(g.get_object(Bucket=b, Key="small")["Body"].read(),
                                 b"small body")
                lat.append(time.monotonic() - t)
            results = [j.result() for j in jobs]
        copies_took = time.monotonic() - started
        etag = '"%s"' % hashlib.md5(src).hexdigest()
        for r in results:
            self.assertEqual(r["ETag"], etag)
        lat.sort()
        print("copies %.2fs (each %.2f-%.2fs), %d small GETs meanwhile, p50 %.1f ms, max %.1f ms"
              % (copies_took, min(took), max(took), len(lat),
                 lat[len(lat) // 2] * 1e3 if lat else -1, lat[-1] * 1e3 if lat else -1))
        # Tolerant: with the copies on the request threads (2 here, one per
        # core) the reads waited for whole copies; now they keep being served.
        if copies_took > 1.0:
            self.assertGreaterEqual(len(lat), 3)
            self.assertLess(lat[len(lat) // 2], copies_took / 4)
        for i in range(4):
            self.assertEqual(c.head_object(Bucket=b, Key="copy%d" % i)["ETag"], etag)
        self.assertEqual(c.get_object(Bucket=b, Key="copy3")["Body"].read(), src)
        parts = [{"PartNumber": n, "ETag": r["ETag"]} for n, r in zip((1, 2), results[4:])]
        done_mp = c.complete_multipart_upload(Bucket=b, Key="mp", UploadId=up,
                                              MultipartUpload={"Parts": parts})
        self.assertTrue(done_mp["ETag"].endswith('-2"'))
        self.assertEqual(c.head_object(Bucket=b, Key="mp")["ContentLength"], 2 * BIG)
        got = c.get_object(Bucket=b, Key="mp")["Body"].read()
        self.assertEqual(hashlib.md5(got).digest(), hashlib.md5(src + src).digest())

    def test_copy_errors_still_answered(self):
        c = self.s3()
        b = self.bucket(c)
        self.assertCode("NoSuchKey", c.copy_object, Bucket=b, Key="d",
                        CopySource={"Bucket": b, "Key": "missing"})
        up = c.create_multipart_upload(Bucket=b, Key="mp")["UploadId"]
        self.assertCode("InvalidPart", c.complete_multipart_upload, Bucket=b, Key="mp",
                        UploadId=up, MultipartUpload={"Parts": [{"PartNumber": 1,
                                                                 "ETag": '"00"'}]})
        self.assertCode("404", c.head_object, Bucket=b, Key="mp")

    def test_acknowledged_copies_survive_kill(self):
        c = self.s3(max_pool_connections=16)
        b = self.bucket(c)
        src = os.urandom(4 << 20)
        c.put_object(Bucket=b, Key="src", Body=src)
        part = os.urandom(5 << 20)
        up = c.create_multipart_upload(Bucket=b, Key="mp")["UploadId"]
        pr = c.upload_part(Bucket=b, Key="mp", UploadId=up, PartNumber=1, Body=part)
        pe = pr["ETag"]
        fast = self.s3(max_pool_connections=16, max_attempts=1,
                       connect_timeout=5, read_timeout=30)
        acked, lock = {}, threading.Lock()

        def copy(i):
            try:
                if i % 8 == 7:
                    r = fast.upload_part_copy(Bucket=b, Key="mp", UploadId=up,
                                              PartNumber=2 + i // 8,
                                              CopySource={"Bucket": b, "Key": "src"})
                    with lock:
                        acked["part%d" % (2 + i // 8)] = r["CopyPartResult"]["ETag"]
                    return
                fast.copy_object(Bucket=b, Key="c%03d" % i, CopySource={"Bucket": b, "Key": "src"})
                with lock:
                    acked["c%03d" % i] = True
            except Exception:  # the server went away: this copy was not acknowledged
                pass

        with concurrent.futures.ThreadPoolExecutor(12) as ex:
            jobs = [ex.submit(copy, i) for i in range(64)]
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                with lock:
                    if len(acked) >= 8:
                        break
                time.sleep(0.01)
            self.server.kill()
            concurrent.futures.wait(jobs, timeout=120)
        self.assertGreaterEqual(len(acked), 8)
        self.server.start()
        c = self.s3()
        keys = [k for k in acked if k.startswith("c")]
        for k in keys:
            self.assertEqual(c.get_object(Bucket=b, Key=k)["Body"].read(), src, k)
        # copies cut short are absent or whole, never partial
        listed = c.list_objects_v2(Bucket=b).get("Contents", [])
        for o in listed:
            if o["Key"].startswith("c"):
                self.assertEqual(o["Size"], len(src), o["Key"])
        objects = os.path.join(self.server.data_dir, "objects")
        self.assertEqual(os.listdir(os.path.join(objects, "tmp")), [])
        # an acknowledged part copy is a part of the upload after the restart
        listed_parts = {p["PartNumber"]: p["ETag"]
                        for p in c.list_parts(Bucket=b, Key="mp", UploadId=up)["Parts"]}
        self.assertEqual(listed_parts[1], pe)
        for k, etag in acked.items():
            if k.startswith("part"):
                self.assertEqual(listed_parts[int(k[4:])], etag)
        # and the upload completes with the first part and an acknowledged copy
        parts = [{"PartNumber": 1, "ETag": pe, "ChecksumCRC32": pr["ChecksumCRC32"]}]
        copied = sorted(int(k[4:]) for k in acked if k.startswith("part"))
        if copied:
            parts.append({"PartNumber": copied[0], "ETag": acked["part%d" % copied[0]]})
        c.complete_multipart_upload(Bucket=b, Key="mp", UploadId=up,
                                    MultipartUpload={"Parts": parts})
        got = c.get_object(Bucket=b, Key="mp")["Body"].read()
        self.assertEqual(got, part + (src if copied else b""))


if __name__ == "__main__":
    unittest.main()
