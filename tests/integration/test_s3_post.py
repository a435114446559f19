"""POST Object (a browser's form upload) streams its file: a file larger than
the server's 16 MiB request-body buffer is written whole with the server's
memory not growing with it; the fields before the file are checked before any
of it is kept (a refused form leaves no object), content-length-range is
enforced as the bytes arrive (too large: EntityTooLarge, the rest discarded;
too small: EntityTooSmall), fields after the file are ignored as S3 does, a
body sent a few bytes at a time (the closing delimiter split across pieces,
file bytes that begin like a delimiter) is parsed the same, and a body cut
short is MalformedPOSTRequest. Real server; boto3's presigned POST, raw HTTP."""

import hashlib
import os
import socket
import unittest
import uuid

from test_s3 import S3Case
from test_s3_memory import rss_kib

MIB = 1 << 20


def form_parts(fields, file_name, boundary):
    """the bytes before the file, and after it (the closing delimiter)"""
    head = b""
    for name, value in fields:
        head += ('--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n'
                 % (boundary, name, value)).encode()
    head += ('--%s\r\nContent-Disposition: form-data; name="file"; filename="%s"\r\n'
             'Content-Type: application/octet-stream\r\n\r\n' % (boundary, file_name)).encode()
    return head, ("\r\n--%s--\r\n" % boundary).encode()


class StreamedPost(S3Case):
    server_args = {}

    def presigned(self, c, b, key, conditions=None, fields=None):
        conditions = list(conditions or []) + [{k: v} for k, v in (fields or {}).items()]
        p = c.generate_presigned_post(b, key, Fields=fields, Conditions=conditions, ExpiresIn=600)
        return list(p["fields"].items())

    def send(self, b, head, pieces, tail, after=b"", step=None, probe=None):
        """POST head + the file's pieces + tail + after; @step: write the whole
        body that many bytes at a time. Returns (status, headers, body)."""
        boundary = head.split(b"\r\n", 1)[0][2:].decode()
        total = len(head) + sum(len(p) for p in pieces) + len(tail) + len(after)
        conn = self.server.connection(timeout=300)
        try:
            conn.putrequest("POST", "/" + b)
            conn.putheader("Content-Type", "multipart/form-data; boundary=" + boundary)
            conn.putheader("Content-Length", str(total))
            conn.endheaders()
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            data = [head] + list(pieces) + [tail, after]
            try:
                if step:
                    whole = b"".join(data)
                    for i in range(0, len(whole), step):
                        conn.send(whole[i:i + step])
                else:
                    for d in data:
                        conn.send(d)
                        if probe:
                            probe()
            except (BrokenPipeError, ConnectionResetError):
                pass  # a refused upload may be answered before all of it is sent
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()

    def test_file_larger_than_the_body_buffer(self):
        c = self.s3(signature_version="s3v4")
        b = self.bucket(c)
        pid = self.server.proc.pid
        boundary = "----big" + uuid.uuid4().hex
        fields = self.presigned(c, b, "big/${filename}",
                                [["starts-with", "$key", "big/"],
                                 ["content-length-range", 1, 64 * MIB]],
                                {"success_action_status": "201"})
        head, tail = form_parts(fields, "f.bin", boundary)
        # warm up the server's paths once so only growth with size remains
        self.send(b, *form_parts(self.presigned(c, b, "warm"), "w", boundary)[:1],
                  [b"w" * MIB], form_parts([], "w", boundary)[1])
        before = rss_kib(pid)
        block = os.urandom(MIB)
        peak = [before]
        status, _, body = self.send(b, head, [block] * 48, tail,
                                    probe=lambda: peak.append(rss_kib(pid)))
        peak = max(peak + [rss_kib(pid)])
        self.assertEqual(status, 201, body)
        want = hashlib.md5(block * 48).hexdigest()
        self.assertIn(("<ETag>&quot;%s&quot;</ETag>" % want).encode(), body)
        h = c.head_object(Bucket=b, Key="big/f.bin")
        self.assertEqual((h["ContentLength"], h["ETag"]), (48 * MIB, '"%s"' % want))
        got = hashlib.md5(c.get_object(Bucket=b, Key="big/f.bin")["Body"].read()).hexdigest()
        self.assertEqual(got, want)
        # 48 MiB went through: memory did not follow it (tolerant: half of it)
        self.assertLess(peak - before, 24 * 1024, (before, peak))

    def test_content_length_range_while_streaming(self):
        c = self.s3(signature_version="s3v4")
        b = self.bucket(c)
        boundary = "----rng" + uuid.uuid4().hex
        fields = self.presigned(c, b, "r", [["content-length-range", 10, 2 * MIB]])
        head, tail = form_parts(fields, "f", boundary)
        status, _, body = self.send(b, head, [os.urandom(MIB)] * 20, tail)
        self.assertEqual(status, 400, body)
        self.assertIn(b"<Code>EntityTooLarge</Code>", body)
        status, _, body = self.send(b, head, [b"tiny"], tail)
        self.assertEqual(status, 400, body)
        self.assertIn(b"<Code>EntityTooSmall</Code>", body)
        self.assertNotIn("Contents", c.list_objects_v2(Bucket=b))
        # at the maximum exactly: written
        status, _, body = self.send(b, head, [b"m" * (2 * MIB)], tail)
        self.assertEqual(status, 204, body)
        self.assertEqual(c.head_object(Bucket=b, Key="r")["ContentLength"], 2 * MIB)

    def test_refused_form_keeps_nothing(self):
        c = self.s3(signature_version="s3v4")
        b = self.bucket(c)
        boundary = "----no" + uuid.uuid4().hex
        fields = self.presigned(c, b, "k", [["starts-with", "$Content-Type", "image/"]])
        head, tail = form_parts(fields + [("Content-Type", "text/plain")], "f", boundary)
        status, _, body = self.send(b, head, [os.urandom(MIB)] * 20, tail)
        self.assertEqual(status, 403, body)
        self.assertIn(b"Policy Condition failed", body)
        self.assertNotIn("Contents", c.list_objects_v2(Bucket=b))
        # an anonymous form to a private bucket: AccessDenied, nothing written
        head, tail = form_parts([("key", "anon")], "f", boundary)
        status, _, body = self.send(b, head, [b"x" * MIB], tail)
        self.assertEqual(status, 403, body)
        self.assertNotIn("Contents", c.list_objects_v2(Bucket=b))

    def test_fields_after_the_file_are_ignored_and_pieces_of_any_size(self):
        c = self.s3(signature_version="s3v4")
        b = self.bucket(c)
        boundary = "----tiny" + uuid.uuid4().hex
        fields = self.presigned(c, b, "t", [])
        head, tail = form_parts(fields, "f", boundary)
        # file bytes that begin like the delimiter, at and across piece edges
        tricky = (b"a\r\n--" + boundary[:10].encode() + b"b\r\n" + b"\r\n--" +
                  boundary.encode()[:-1] + b"Z" + os.urandom(3000) + b"\r\n-")
        after = ('--%s\r\nContent-Disposition: form-data; name="key"\r\n\r\nother\r\n--%s--\r\n'
                 % (boundary, boundary)).encode()
        for step in (1, 7, 64, 1000):
            status, _, body = self.send(b, head, [tricky], tail[:-4] + b"\r\n", after, step=step)
            self.assertEqual(status, 204, (step, body))
            self.assertEqual(c.get_object(Bucket=b, Key="t")["Body"].read(), tricky, step)
        self.assertEqual([o["Key"] for o in c.list_objects_v2(Bucket=b)["Contents"]], ["t"])

    def test_cut_short_and_large_fields(self):
        c = self.s3(signature_version="s3v4")
        b = self.bucket(c)
        boundary = "----cut" + uuid.uuid4().hex
        head, _ = form_parts(self.presigned(c, b, "cut", []), "f", boundary)
        status, _, body = self.send(b, head, [b"no closing delimiter"], b"")
        self.assertEqual(status, 400, body)
        self.assertIn(b"<Code>MalformedPOSTRequest</Code>", body)
        # the fields before the file are limited (1 MiB), the file is not
        head, tail = form_parts([("x-ignore-pad", "p" * (2 * MIB))], "f", boundary)
        status, _, body = self.send(b, head, [b"data"], tail)
        self.assertEqual(status, 400, body)
        self.assertIn(b"<Code>MaxPostPreDataLengthExceeded</Code>", body)
        self.assertNotIn("Contents", c.list_objects_v2(Bucket=b))


if __name__ == "__main__":
    unittest.main()
