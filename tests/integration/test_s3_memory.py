"""S3 streams bodies to and from disk: a 1 GiB upload and download leave the
server's resident memory growth under 64 MiB. (A longer test: ~1 GiB of disk.)"""

import hashlib
import os
import unittest
import urllib.parse

import tandem_harness as th

GIB = 1 << 30
CHUNK = 1 << 20


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Memory(th.ServerTestCase):
    def test_1gib_put_get_rss(self):
        try:
            import boto3  # noqa: F401
        except ImportError:
            raise unittest.SkipTest("no boto3")
        st = os.statvfs(self.server.tmp)
        if st.f_bavail * st.f_frsize < 3 * GIB:
            raise unittest.SkipTest("needs 3 GiB of free disk")
        c = self.server.boto3("s3", s3={"addressing_style": "path"})
        c.create_bucket(Bucket="memory-bucket")
        pid = self.server.proc.pid
        # warm up the connection paths once so only growth with size remains
        c.put_object(Bucket="memory-bucket", Key="small", Body=b"x" * CHUNK)
        c.get_object(Bucket="memory-bucket", Key="small")["Body"].read()
        before = rss_kib(pid)

        url = c.generate_presigned_url("put_object", Params={"Bucket": "memory-bucket",
                                                             "Key": "big"}, ExpiresIn=600)
        u = urllib.parse.urlsplit(url)
        block = os.urandom(CHUNK)
        want = hashlib.md5()
        conn = self.server.connection(timeout=300)
        conn.putrequest("PUT", u.path + "?" + u.query)
        conn.putheader("Content-Length", str(GIB))
        conn.endheaders()
        peak = before
        for i in range(GIB // CHUNK):
            conn.send(block)
            want.update(block)
            if i % 64 == 0:
                peak = max(peak, rss_kib(pid))
        r = conn.getresponse()
        body = r.read()
        conn.close()
        self.assertEqual(r.status, 200, body)
        self.assertEqual(r.getheader("ETag"), '"%s"' % want.hexdigest())
        peak = max(peak, rss_kib(pid))

        url = c.generate_presigned_url("get_object", Params={"Bucket": "memory-bucket",
                                                             "Key": "big"}, ExpiresIn=600)
        u = urllib.parse.urlsplit(url)
        conn = self.server.connection(timeout=300)
        conn.request("GET", u.path + "?" + u.query)
        r = conn.getresponse()
        self.assertEqual(r.status, 200)
        got, n, i = hashlib.md5(), 0, 0
        while True:
            piece = r.read(CHUNK)
            if not piece:
                break
            got.update(piece)
            n += len(piece)
            i += 1
            if i % 64 == 0:
                peak = max(peak, rss_kib(pid))
        conn.close()
        self.assertEqual(n, GIB)
        self.assertEqual(got.hexdigest(), want.hexdigest())
        growth_mib = (max(peak, rss_kib(pid)) - before) / 1024
        print("rss before %d KiB, peak growth %.1f MiB" % (before, growth_mib))
        self.assertLess(growth_mib, 64)
        c.delete_object(Bucket="memory-bucket", Key="big")


if __name__ == "__main__":
    unittest.main()
