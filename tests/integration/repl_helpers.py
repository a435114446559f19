"""repl_helpers - several regions of one deployment for the global-table suites.

Regions share the root credentials (as every region of one deployment does)
and keep their port across restarts, so peers can name each other before any
of them runs. Standard library plus boto3 (through the harness).
"""

import datetime
import hashlib
import hmac
import http.client
import os
import struct
import subprocess
import time
import urllib.parse
import zlib

from tandem_harness import Server, fresh_credentials, free_port, tandem_bin


class Region(Server):
    def __init__(self, region, keys, **kw):
        kw.setdefault("threads", 2)
        kw.setdefault("log_level", os.environ.get("TANDEM_LOG_LEVEL", "info"))
        super().__init__(region=region, **kw)
        self.access_key, self.secret_key = keys
        self.fixed_port = free_port()
        self.peers = []  # (region, url)

    def command(self):
        cmd = super().command()
        for name, url in self.peers:
            cmd += ["--peer", "%s=%s" % (name, url)]
        return cmd

    def spawn(self):
        self.port = self.fixed_port
        self.tls_port = None
        self.starts += 1
        self.stderr_path = os.path.join(self.tmp, "stderr.%d.log" % self.starts)
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:strict_string_checks=1")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
        env.pop("TANDEM_ACCESS_KEY_ID", None)
        env.pop("TANDEM_SECRET_ACCESS_KEY", None)
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL,
                                         stdout=err, stderr=err, env=env)
        return self

    def internal(self, method, path, query="", body=b"", sign=True, secret=None,
                 service="tandem", region=None, timeout=30):
        """A request to an internal endpoint; returns (status, headers, body)."""
        h = {"Host": "127.0.0.1:%d" % self.port}
        if sign:
            h = sign_v4(method, path, query, h, body, self.access_key,
                        secret or self.secret_key, region or self.region, service)
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path + ("?" + query if query else ""), body=body, headers=h)
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()


def deployment(names, start=True):
    """Regions @names, each a peer of every other."""
    keys = fresh_credentials()
    regions = [Region(n, keys) for n in names]
    for r in regions:
        r.peers = [(o.region, "http://127.0.0.1:%d" % o.fixed_port) for o in regions if o is not r]
    if start:
        for r in regions:
            r.start()
    return regions


def sign_v4(method, path, query, headers, body, ak, sk, region, service):
    when = datetime.datetime.now(datetime.timezone.utc)
    amz_date = when.strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    h = dict(headers)
    h["X-Amz-Date"] = amz_date
    h["X-Amz-Content-Sha256"] = hashlib.sha256(body).hexdigest()
    canon = sorted((k.lower(), " ".join(str(v).split())) for k, v in h.items())
    signed = ";".join(k for k, _ in canon)
    pairs = sorted(urllib.parse.parse_qsl(query, keep_blank_values=True))
    cq = "&".join("%s=%s" % (urllib.parse.quote(k, safe="-_.~"), urllib.parse.quote(v, safe="-_.~"))
                  for k, v in pairs)
    creq = "\n".join([method, path, cq, "".join("%s:%s\n" % kv for kv in canon), signed,
                      hashlib.sha256(body).hexdigest()])
    scope = "%s/%s/%s/aws4_request" % (day, region, service)
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                     hashlib.sha256(creq.encode()).hexdigest()])

    def mac(k, m):
        return hmac.new(k, m.encode(), hashlib.sha256).digest()
    k = mac(mac(mac(mac(("AWS4" + sk).encode(), day), region), service), "aws4_request")
    sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    h["Authorization"] = ("AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s"
                          % (ak, scope, signed, sig))
    return h


# -- the replication batch format (src/repl/rlog.h) ---------------------------

def encode_entry(e):
    out = struct.pack(">BBQB", 1, 2 if e["del"] else 1, e["ts"], len(e["origin"]))
    out += e["origin"].encode()
    t = e["table"].encode()
    out += struct.pack(">H", len(t)) + t
    out += struct.pack(">QIH", e["table_id"], e["schema"], len(e["key"])) + e["key"]
    if not e["del"]:
        out += struct.pack(">I", len(e["image"])) + e["image"]
    return out


def decode_entry(b):
    ver, op, ts, ol = struct.unpack_from(">BBQB", b, 0)
    p = 11
    origin = b[p:p + ol].decode()
    p += ol
    (tl,) = struct.unpack_from(">H", b, p)
    p += 2
    table = b[p:p + tl].decode()
    p += tl
    tid, schema, kl = struct.unpack_from(">QIH", b, p)
    p += 14
    key = b[p:p + kl]
    p += kl
    image = None
    if op == 1:
        (il,) = struct.unpack_from(">I", b, p)
        image = b[p + 4:p + 4 + il]
    return {"del": op == 2, "ts": ts, "origin": origin, "table": table, "table_id": tid,
            "schema": schema, "key": key, "image": image}


def encode_batch(entries, first_seq=1):
    body = b"TRB1" + struct.pack(">I", len(entries))
    for i, e in enumerate(entries):
        raw = encode_entry(e)
        body += struct.pack(">QI", first_seq + i, len(raw)) + raw
    return body + struct.pack(">I", zlib.crc32(body) & 0xffffffff)


def decode_batch(b):
    assert b[:4] == b"TRB1", b[:16]
    (n,) = struct.unpack_from(">I", b, 4)
    assert zlib.crc32(b[:-4]) & 0xffffffff == struct.unpack(">I", b[-4:])[0]
    p, out = 8, []
    for _ in range(n):
        seq, ln = struct.unpack_from(">QI", b, p)
        p += 12
        e = decode_entry(b[p:p + ln])
        e["seq"] = seq
        out.append(e)
        p += ln
    return out


def hlc(ms, logical=0):
    return (ms << 16) | logical


# -- waiting and comparing -----------------------------------------------------

def wait_until(fn, timeout=30, interval=0.05, what="condition"):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError("timed out after %ss waiting for %s (last: %r)" % (timeout, what, last))


def scan_all(client, table):
    items, kw = [], {"TableName": table, "ConsistentRead": True}
    while True:
        r = client.scan(**kw)
        items += r["Items"]
        if "LastEvaluatedKey" not in r:
            return items
        kw["ExclusiveStartKey"] = r["LastEvaluatedKey"]


def canon(items):
    import json
    return sorted(json.dumps(i, sort_keys=True) for i in items)


def tandem(*args, timeout=120):
    return subprocess.run([tandem_bin()] + list(args), capture_output=True, text=True,
                          timeout=timeout)
