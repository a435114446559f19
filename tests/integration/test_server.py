"""The server process: the data directory lock, SIGTERM, restarts, and
durability of acknowledged writes across kill -9 (and LMDB meta pages lost
as a power loss may lose them)."""

import os
import threading
import time
import unittest

from tandem_harness import Server

KEY = [{"AttributeName": "pk", "KeyType": "HASH"}]
ATTRS = [{"AttributeName": "pk", "AttributeType": "S"}]


def create_table(ddb, name):
    ddb.create_table(TableName=name, AttributeDefinitions=ATTRS, KeySchema=KEY,
                     BillingMode="PAY_PER_REQUEST")
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1,
                                                                      "MaxAttempts": 30})


def scan_all(ddb, table):
    items, start = [], None
    while True:
        kw = {"TableName": table, "ConsistentRead": True}
        if start:
            kw["ExclusiveStartKey"] = start
        out = ddb.scan(**kw)
        items += out["Items"]
        start = out.get("LastEvaluatedKey")
        if not start:
            return items


class ServerProcess(unittest.TestCase):
    def setUp(self):
        self.servers = []

    def tearDown(self):
        for s in self.servers:
            s.cleanup()

    def server(self, **kw):
        s = Server(**kw)
        self.servers.append(s)
        return s

    def test_second_server_on_same_data_dir_refuses(self):
        a = self.server().start()
        b = self.server(data_dir=a.data_dir).spawn()
        try:
            rc = b.proc.wait(30)
        except Exception:
            b.kill()
            self.fail("second server on %s did not exit:\n%s" % (a.data_dir, b.stderr()))
        b.proc = None
        self.assertNotEqual(rc, 0)
        self.assertTrue(b.stderr().strip(), "no message on stderr")
        self.assertFalse(b.sanitizer_report(), b.stderr())
        self.assertEqual(a.health()[0], 200)
        self.assertIn("TableNames", a.boto3().list_tables())
        a.stop()
        # once the first is gone the directory is free again
        b.start()
        b.stop()

    def test_bad_flag_values_refused(self):
        import subprocess
        from tandem_harness import tandem_bin
        bad = [["--threads", "0"], ["--threads", "two"], ["--map-size", "not-a-size"],
               ["--map-size", "64Q"], ["--map-size", "1K"], ["--map-size", "-1"],
               ["--ttl-interval", "5s"], ["--sts-min-duration", "x"], ["--log-level", "loud"],
               ["--fn-uid-base", "12"], ["--map-size", "99999999999999999999999"]]
        for args in bad:
            p = subprocess.run([tandem_bin(), "server", "--region", "us-east-1", "--data",
                                "/nonexistent", "--listen", "127.0.0.1:1"] + args,
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(p.returncode, 2, (args, p.stderr))
            self.assertIn(args[0], p.stderr, args)
        # sizes take K, M, G and T suffixes
        s = self.server(extra_args=["--map-size", "1G", "--threads", "2"]).start()
        self.assertEqual(s.health()[0], 200)
        create_table(s.boto3(), "sized")
        s.stop()

    def test_sigterm_exits_zero_and_data_persists(self):
        s = self.server(tls=True).start()
        ddb = s.boto3()
        create_table(ddb, "persist")
        ddb.put_item(TableName="persist", Item={"pk": {"S": "a"}, "v": {"N": "1"}})
        s.stop()  # asserts exit status 0 and a clean sanitizer report
        s.start()
        ddb = s.boto3()
        self.assertIn("persist", ddb.list_tables()["TableNames"])
        got = ddb.get_item(TableName="persist", Key={"pk": {"S": "a"}})
        self.assertEqual(got["Item"], {"pk": {"S": "a"}, "v": {"N": "1"}})
        s.stop()

    def test_logs_key_value_lines(self):
        s = self.server().start()
        s.boto3().list_tables()
        s.stop()
        lines = [l for l in s.stderr().splitlines() if l.strip()]
        self.assertTrue(lines, "server logged nothing")
        for l in lines:
            self.assertIn("=", l, "not a key=value line: %r" % l)

    def test_bad_arguments(self):
        for args in (["--region"], ["--no-such-flag"], ["--listen", "not-an-address"]):
            with self.subTest(args=args):
                s = self.server(extra_args=args).spawn()
                try:
                    rc = s.proc.wait(30)
                finally:
                    s.kill()
                self.assertNotEqual(rc, 0, s.stderr())
                self.assertFalse(s.sanitizer_report(), s.stderr())

    def test_metrics_count_writes_commits_and_flushes(self):
        s = self.server().start()
        ddb = s.boto3()
        create_table(ddb, "counted")
        before = self.store_metrics(s)
        n = 40

        def put(i):
            s.boto3().put_item(TableName="counted", Item={"pk": {"S": "k%d" % i}})

        threads = [threading.Thread(target=put, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        after = self.store_metrics(s)
        writes = after["tandem_store_writes_total"] - before["tandem_store_writes_total"]
        commits = after["tandem_store_commits_total"] - before["tandem_store_commits_total"]
        flushes = after["tandem_store_flushes_total"] - before["tandem_store_flushes_total"]
        self.assertGreaterEqual(writes, n)  # each PutItem, and anything the region wrote itself
        self.assertGreaterEqual(commits, 1)
        self.assertLessEqual(commits, writes)
        self.assertGreaterEqual(flushes, 1)  # every acknowledged write was flushed
        self.assertGreaterEqual(after["tandem_store_commit_writes_max"], 1)
        self.assertLessEqual(after["tandem_store_commit_writes_max"],
                             after["tandem_store_writes_total"])
        # a region alone is the home of identity: nothing waits for another
        text = s.metrics()[1]
        self.assertIn('tandem_iam_home_reachable{home="us-east-1"} 1\n', text)
        self.assertIn("tandem_iam_home_calls_waiting 0\n", text)

    @staticmethod
    def store_metrics(s):
        status, body = s.metrics()
        if status != 200:
            raise AssertionError("GET /_tandem/metrics: %d %s" % (status, body))
        out = {}
        for line in body.splitlines():
            if line.startswith("tandem_store_"):
                name, value = line.split()
                out[name] = int(value)
        return out

    def test_acknowledged_writes_survive_kill_9(self):
        self.kill_mid_writes()

    def test_acknowledged_writes_survive_lost_meta_pages(self):
        # What a power loss may leave of LMDB's meta pages, which it writes
        # without a flush: here nothing usable. The restart puts the last
        # checkpoint's back and replays the write-ahead log.
        def zero_meta_pages(s):
            psize = os.sysconf("SC_PAGESIZE")
            with open(os.path.join(s.data_dir, "data.mdb"), "r+b") as f:
                f.write(b"\0" * (2 * psize))
                f.flush()
                os.fsync(f.fileno())

        self.kill_mid_writes(after_kill=zero_meta_pages)

    def kill_mid_writes(self, after_kill=None):
        n, nthreads = 500, 8
        s = self.server().start()
        create_table(s.boto3(), "crash")
        acked, lock, done = [], threading.Lock(), threading.Event()

        def writer(t):
            ddb = s.boto3(connect_timeout=5, read_timeout=30)
            i = 0
            while not done.is_set():
                key = "t%d-%d" % (t, i)
                try:
                    ddb.put_item(TableName="crash", Item={"pk": {"S": key}, "i": {"N": str(i)}})
                except Exception:
                    return  # the server is gone: this write was never acknowledged
                with lock:
                    acked.append(key)
                    if len(acked) >= n:
                        done.set()
                i += 1

        threads = [threading.Thread(target=writer, args=(t,)) for t in range(nthreads)]
        for t in threads:
            t.start()
        if not done.wait(300):
            done.set()
            self.fail("only %d writes acknowledged in 300 s" % len(acked))
        s.kill()  # mid-stream: the other threads still have writes in flight
        for t in threads:
            t.join(60)
        with lock:
            want = set(acked)
        self.assertGreaterEqual(len(want), n)
        if after_kill:
            after_kill(s)

        s.start()
        got = {i["pk"]["S"] for i in scan_all(s.boto3(), "crash")}
        missing = want - got
        self.assertFalse(missing, "%d acknowledged writes lost, e.g. %s"
                         % (len(missing), sorted(missing)[:5]))
        s.stop()


if __name__ == "__main__":
    unittest.main()
