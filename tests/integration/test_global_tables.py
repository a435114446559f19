"""Global tables (version 2019.11.21) across two and three regions on loopback:
replica management through UpdateTable, writes anywhere converging, LWW
conflicts, tombstones, crash and restart, peers down, refused peers and
batches, metrics, and `tandem verify`."""

import json
import os
import shutil
import http.client
import socket
import struct
import subprocess
import threading
import time
import unittest

from repl_helpers import (Region, canon, decode_batch, deployment, encode_batch, hlc,
                          scan_all, sign_v4, tandem, wait_until)
from tandem_harness import find_clients, fresh_credentials, tandem_bin

KEY_SCHEMA = [{"AttributeName": "pk", "KeyType": "HASH"}]
ATTRS = [{"AttributeName": "pk", "AttributeType": "S"}]
STREAM = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}


def create_table(client, name, stream=True):
    kw = dict(TableName=name, KeySchema=KEY_SCHEMA, AttributeDefinitions=ATTRS,
              BillingMode="PAY_PER_REQUEST")
    if stream:
        kw["StreamSpecification"] = STREAM
    client.create_table(**kw)


def add_replica(client, name, region):
    return client.update_table(TableName=name,
                               ReplicaUpdates=[{"Create": {"RegionName": region}}])


def converged(clients, table):
    scans = [canon(scan_all(c, table)) for c in clients]
    return scans if all(s == scans[0] for s in scans) else None


class TwoRegions(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.east, cls.west = deployment(["us-east-1", "us-west-2"], start=False)
        cls.addClassCleanup(cls.east.cleanup)
        cls.addClassCleanup(cls.west.cleanup)
        cls.east.start()
        cls.west.start()
        cls.e = cls.east.boto3()
        cls.w = cls.west.boto3()

    @classmethod
    def tearDownClass(cls):
        cls.east.stop()
        cls.west.stop()

    def global_table(self, name, items=0):
        create_table(self.e, name)
        for i in range(items):
            self.e.put_item(TableName=name, Item={"pk": {"S": "seed%04d" % i},
                                                  "n": {"N": str(i)}})
        add_replica(self.e, name, "us-west-2")

    def test_replica_create_seeds_and_describes(self):
        self.global_table("seeded", items=1200)
        for c, region in ((self.e, "us-east-1"), (self.w, "us-west-2")):
            t = c.describe_table(TableName="seeded")["Table"]
            self.assertEqual(t["GlobalTableVersion"], "2019.11.21")
            self.assertEqual(sorted(r["RegionName"] for r in t["Replicas"]),
                             ["us-east-1", "us-west-2"])
            self.assertTrue(all(r["ReplicaStatus"] == "ACTIVE" for r in t["Replicas"]))
            self.assertIn(":%s:" % region, t["TableArn"])
        items = wait_until(lambda: converged([self.e, self.w], "seeded"), what="seeded")
        self.assertEqual(len(items[0]), 1200)
        self.assertEqual(self.w.describe_table(TableName="seeded")["Table"]["ItemCount"], 1200)

    def test_log_long_poll_and_stream(self):
        self.global_table("polled")
        last = int(self.east.internal("GET", "/_tandem/repl/log", "from=1&wait_ms=0")[1]
                   ["x-tandem-log-last"])
        t0 = time.monotonic()
        st, _, body = self.east.internal("GET", "/_tandem/repl/log",
                                         "from=%d&wait_ms=300" % (last + 1))
        self.assertEqual((st, decode_batch(body)), (200, []))  # nothing came: empty at the end
        self.assertGreaterEqual(time.monotonic() - t0, 0.25)
        got = {}

        def poll():
            got["r"] = self.east.internal("GET", "/_tandem/repl/log",
                                          "from=%d&wait_ms=20000" % (last + 1))
        th = threading.Thread(target=poll)
        th.start()
        time.sleep(0.3)
        t0 = time.monotonic()
        self.e.put_item(TableName="polled", Item={"pk": {"S": "p1"}})
        th.join(15)
        self.assertLess(time.monotonic() - t0, 10)  # answered by the commit, not the timeout
        st, _, body = got["r"]
        entries = decode_batch(body)
        self.assertEqual(st, 200)
        self.assertEqual([(e["seq"], e["table"]) for e in entries], [(last + 1, "polled")])
        # the stream: a chunked answer of records (u64 log last, u64 floor, u32 length, batch)
        q = "from=%d&stream=1" % (last + 1)
        h = sign_v4("GET", "/_tandem/repl/log", q, {"Host": "127.0.0.1:%d" % self.east.port},
                    b"", self.east.access_key, self.east.secret_key, "us-east-1", "tandem")
        conn = http.client.HTTPConnection("127.0.0.1", self.east.port, timeout=10)
        self.addCleanup(conn.close)
        conn.request("GET", "/_tandem/repl/log?" + q, headers=h)
        r = conn.getresponse()
        self.assertEqual((r.status, r.getheader("transfer-encoding")), (200, "chunked"))
        body, batches, t0 = b"", [], time.monotonic()
        while len(batches) < 3 and time.monotonic() - t0 < 10:
            body += r.read1(65536)
            while len(body) >= 20 and len(body) >= 20 + struct.unpack_from(">I", body, 16)[0]:
                log_last, floor, ln = struct.unpack_from(">QQI", body, 0)
                self.assertGreaterEqual(log_last, last + 1)
                batches.append([e["seq"] for e in decode_batch(body[20:20 + ln])])
                if not batches[-1]:  # a heartbeat carries the region's clock
                    self.assertGreater(floor >> 16, time.time() * 1000 - 60000)
                body = body[20 + ln:]
            if len(batches) == 1:  # a second entry while the stream is open
                self.e.put_item(TableName="polled", Item={"pk": {"S": "p2"}})
        seqs = [s for b in batches for s in b]
        self.assertEqual(seqs[:2], [last + 1, last + 2])
        self.assertIn([], batches)  # an idle stream sends heartbeats

    def test_replica_update_settings(self):
        self.e.create_table(
            TableName="tuned", KeySchema=KEY_SCHEMA,
            AttributeDefinitions=ATTRS + [{"AttributeName": "v", "AttributeType": "S"}],
            ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
            GlobalSecondaryIndexes=[{
                "IndexName": "byv", "KeySchema": [{"AttributeName": "v", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
                "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}}],
            StreamSpecification=STREAM)
        add_replica(self.e, "tuned", "us-west-2")
        before = time.time()
        self.e.update_table(TableName="tuned", ReplicaUpdates=[{"Update": {
            "RegionName": "us-west-2",
            "ProvisionedThroughputOverride": {"ReadCapacityUnits": 7},
            "GlobalSecondaryIndexes": [{"IndexName": "byv",
                                        "ProvisionedThroughputOverride": {"ReadCapacityUnits": 3}}],
            "TableClassOverride": "STANDARD_INFREQUENT_ACCESS"}}])
        # a later Update changes what it names and keeps the rest
        self.w.update_table(TableName="tuned", ReplicaUpdates=[{"Update": {
            "RegionName": "us-west-2", "GlobalSecondaryIndexes": [
                {"IndexName": "byv", "ProvisionedThroughputOverride": {"ReadCapacityUnits": 4}}]}}])

        def replicas(c):
            return {r["RegionName"]: r
                    for r in c.describe_table(TableName="tuned")["Table"]["Replicas"]}
        for c in (self.e, self.w):  # the same in every region
            reps = replicas(c)
            west = reps["us-west-2"]
            self.assertEqual(west["ProvisionedThroughputOverride"], {"ReadCapacityUnits": 7})
            self.assertEqual(west["GlobalSecondaryIndexes"], [
                {"IndexName": "byv", "ProvisionedThroughputOverride": {"ReadCapacityUnits": 4}}])
            self.assertEqual(west["ReplicaTableClassSummary"]["TableClass"],
                             "STANDARD_INFREQUENT_ACCESS")
            self.assertGreaterEqual(
                west["ReplicaTableClassSummary"]["LastUpdateDateTime"].timestamp(), before - 5)
            self.assertEqual(reps["us-east-1"], {"RegionName": "us-east-1",
                                                 "ReplicaStatus": "ACTIVE"})
        bad = [
            ({"RegionName": "us-west-2", "GlobalSecondaryIndexes": [{"IndexName": "nope"}]},
             "nope does not exist"),
            ({"RegionName": "eu-west-1", "TableClassOverride": "STANDARD"}, "does not exist"),
            ({"RegionName": "us-west-2", "TableClassOverride": "GLACIER"},
             "Member must satisfy enum value set"),
            ({"RegionName": "us-west-2", "KMSMasterKeyId": "alias/x"}, "KMSMasterKeyId"),
        ]
        for upd, msg in bad:
            with self.assertRaises(self.e.exceptions.ClientError) as cm:
                self.e.update_table(TableName="tuned", ReplicaUpdates=[{"Update": upd}])
            self.assertEqual(cm.exception.response["Error"]["Code"], "ValidationException")
            self.assertIn(msg, cm.exception.response["Error"]["Message"])
        self.global_table("ondemand")
        with self.assertRaises(self.e.exceptions.ClientError) as cm:
            self.e.update_table(TableName="ondemand", ReplicaUpdates=[{"Update": {
                "RegionName": "us-west-2",
                "ProvisionedThroughputOverride": {"ReadCapacityUnits": 7}}}])
        self.assertIn("PAY_PER_REQUEST", cm.exception.response["Error"]["Message"])
        self.assertEqual(replicas(self.w)["us-west-2"]["ProvisionedThroughputOverride"],
                         {"ReadCapacityUnits": 7})  # nothing changed by the refused ones

    def test_replica_gets_a_stream_unless_it_has_one(self):
        # without a stream: making it global turns on NEW_AND_OLD_IMAGES, in both regions
        create_table(self.e, "nostream", stream=False)
        self.e.get_waiter("table_exists").wait(TableName="nostream")
        self.assertNotIn("StreamSpecification", self.e.describe_table(TableName="nostream")["Table"])
        add_replica(self.e, "nostream", "us-west-2")
        for c in (self.e, self.w):
            t = c.describe_table(TableName="nostream")["Table"]
            self.assertEqual(t["StreamSpecification"], STREAM)
            self.assertTrue(t["LatestStreamArn"].startswith(
                "arn:aws:dynamodb:%s:" % c.meta.region_name))
            self.assertEqual(t["GlobalTableVersion"], "2019.11.21")
        # while global the stream stays: neither disabled nor changed
        with self.assertRaises(self.e.exceptions.ClientError) as cm:
            self.e.update_table(TableName="nostream", StreamSpecification={"StreamEnabled": False})
        self.assertEqual(cm.exception.response["Error"]["Code"], "ValidationException")
        self.assertIn("Disabling Stream is not allowed for a Global Table replica",
                      cm.exception.response["Error"]["Message"])
        with self.assertRaises(self.e.exceptions.ClientError) as cm:
            self.e.update_table(TableName="nostream", StreamSpecification={
                "StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
        self.assertIn("already has an enabled stream", cm.exception.response["Error"]["Message"])
        # a KEYS_ONLY stream is kept as it is, and replication works all the same
        self.e.create_table(TableName="keysonly", KeySchema=KEY_SCHEMA, AttributeDefinitions=ATTRS,
                            BillingMode="PAY_PER_REQUEST",
                            StreamSpecification={"StreamEnabled": True,
                                                 "StreamViewType": "KEYS_ONLY"})
        add_replica(self.e, "keysonly", "us-west-2")
        self.assertEqual(self.e.describe_table(TableName="keysonly")["Table"]["StreamSpecification"],
                         {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
        self.e.put_item(TableName="keysonly", Item={"pk": {"S": "k"}, "v": {"S": "east"}})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if "Item" in self.w.get_item(TableName="keysonly", Key={"pk": {"S": "k"}}):
                break
            time.sleep(0.2)
        self.assertEqual(self.w.get_item(TableName="keysonly", Key={"pk": {"S": "k"}})["Item"],
                         {"pk": {"S": "k"}, "v": {"S": "east"}})
        # the last replica gone, the table is regional again and keeps its stream,
        # which may then be turned off
        self.e.update_table(TableName="nostream",
                            ReplicaUpdates=[{"Delete": {"RegionName": "us-west-2"}}])
        t = self.e.describe_table(TableName="nostream")["Table"]
        self.assertNotIn("Replicas", t)
        self.assertNotIn("GlobalTableVersion", t)
        self.assertEqual(t["StreamSpecification"], STREAM)
        self.e.update_table(TableName="nostream", StreamSpecification={"StreamEnabled": False})
        self.assertNotIn("StreamSpecification", self.e.describe_table(TableName="nostream")["Table"])

    def test_the_local_region_is_no_replica_update(self):
        create_table(self.e, "local")
        for op in ("Create", "Delete"):
            with self.assertRaises(self.e.exceptions.ClientError) as cm:
                self.e.update_table(TableName="local",
                                    ReplicaUpdates=[{op: {"RegionName": "us-east-1"}}])
            self.assertEqual(cm.exception.response["Error"]["Code"], "ValidationException")
            self.assertIn("Cannot add or delete the local region through ReplicaUpdates",
                          cm.exception.response["Error"]["Message"])

    def test_legacy_global_tables_api(self):
        # version 2017.11.29 makes no new global tables; a 2019.11.21 one is not one of its
        self.global_table("legacy")
        with self.assertRaises(self.e.exceptions.ClientError) as cm:
            self.e.create_global_table(GlobalTableName="legacy",
                                       ReplicationGroup=[{"RegionName": "us-west-2"}])
        self.assertEqual(cm.exception.response["Error"]["Code"], "ValidationException")
        self.assertIn("2017.11.29 is not supported", cm.exception.response["Error"]["Message"])
        calls = [
            lambda n: self.e.describe_global_table(GlobalTableName=n),
            lambda n: self.e.describe_global_table_settings(GlobalTableName=n),
            lambda n: self.e.update_global_table(
                GlobalTableName=n, ReplicaUpdates=[{"Delete": {"RegionName": "us-west-2"}}]),
            lambda n: self.e.update_global_table_settings(GlobalTableName=n,
                                                          GlobalTableBillingMode="PAY_PER_REQUEST"),
        ]
        for call in calls:
            for name in ("legacy", "nosuch"):
                with self.assertRaises(self.e.exceptions.GlobalTableNotFoundException) as cm:
                    call(name)
                self.assertEqual(cm.exception.response["Error"]["Message"],
                                 "Global table with name '%s' does not exist." % name)
        self.assertEqual(self.e.list_global_tables()["GlobalTables"], [])
        self.assertEqual(self.w.list_global_tables(RegionName="us-west-2")["GlobalTables"], [])
        # the replicas are untouched by all that
        self.assertEqual(len(self.e.describe_table(TableName="legacy")["Table"]["Replicas"]), 2)

    def test_replica_unknown_region_and_duplicate(self):
        self.global_table("dups")
        for region in ("eu-west-1", "us-west-2"):
            with self.assertRaises(self.e.exceptions.ClientError) as cm:
                add_replica(self.e, "dups", region)
            self.assertEqual(cm.exception.response["Error"]["Code"], "ValidationException")

    def test_writes_anywhere_converge(self):
        self.global_table("anywhere")
        for i in range(100):
            (self.e if i % 2 else self.w).put_item(
                TableName="anywhere", Item={"pk": {"S": "k%03d" % i}, "v": {"N": str(i)}})
        for i in range(0, 100, 10):
            (self.w if i % 20 else self.e).delete_item(TableName="anywhere",
                                                      Key={"pk": {"S": "k%03d" % i}})
        items = wait_until(lambda: converged([self.e, self.w], "anywhere"), what="converge")
        self.assertEqual(len(items[0]), 90)
        got = self.w.get_item(TableName="anywhere", Key={"pk": {"S": "k001"}}, ConsistentRead=True)
        self.assertEqual(got["Item"]["v"], {"N": "1"})
        self.assertNotIn("Item", self.e.get_item(TableName="anywhere",
                                                 Key={"pk": {"S": "k010"}}))
        for c in (self.e, self.w):
            self.assertEqual(c.describe_table(TableName="anywhere")["Table"]["ItemCount"], 90)
        # the aws CLI sees identical scans in both regions
        cli = next((c for c in find_clients() if c.kind == "cli" and not c.missing), None)
        if cli:
            outs = []
            for srv in (self.east, self.west):
                p = subprocess.run(cli.argv + ["dynamodb", "scan", "--table-name", "anywhere",
                                               "--endpoint-url", srv.url(), "--output", "json"],
                                   capture_output=True, text=True, env=srv.env(), timeout=120)
                self.assertEqual(p.returncode, 0, p.stderr)
                outs.append(canon(json.loads(p.stdout)["Items"]))
            self.assertEqual(outs[0], outs[1])

    def test_concurrent_writes_same_key_converge(self):
        self.global_table("hot")

        def writer(client, tag):
            for i in range(60):
                client.put_item(TableName="hot", Item={"pk": {"S": "k%d" % (i % 3)},
                                                       "who": {"S": tag}, "i": {"N": str(i)}})
        ts = [threading.Thread(target=writer, args=(self.east.boto3(), "east")),
              threading.Thread(target=writer, args=(self.west.boto3(), "west"))]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        items = wait_until(lambda: converged([self.e, self.w], "hot"), what="converge")
        self.assertEqual(len(items[0]), 3)

    def snapshot_entry(self, region, table, pk):
        st, _, body = region.internal("GET", "/_tandem/repl/snapshot", "table=" + table)
        self.assertEqual(st, 200, body)
        for e in decode_batch(body):
            if json.loads(e["image"] or b"{}").get("pk", {}).get("S") == pk:
                return e
        raise AssertionError("no %s in snapshot" % pk)

    def test_delete_then_late_older_write_does_not_resurrect(self):
        self.global_table("tomb")
        self.e.put_item(TableName="tomb", Item={"pk": {"S": "gone"}, "v": {"S": "1"}})
        entry = self.snapshot_entry(self.east, "tomb", "gone")
        old_ts = entry["ts"]
        self.w.delete_item(TableName="tomb", Key={"pk": {"S": "gone"}})
        wait_until(lambda: "Item" not in self.e.get_item(TableName="tomb",
                                                         Key={"pk": {"S": "gone"}}),
                   what="delete replicated")
        # a write older than the delete arrives late, in both regions
        late = dict(entry, ts=old_ts + 1, origin="us-east-1",
                    image=b'{"pk":{"S":"gone"},"v":{"S":"late"}}')
        for region in (self.east, self.west):
            st, _, body = region.internal("POST", "/_tandem/repl/seed", body=encode_batch([late]))
            self.assertEqual(st, 200, body)
            self.assertEqual(json.loads(body)["Conflicts"], 1)
        for c in (self.e, self.w):
            self.assertNotIn("Item", c.get_item(TableName="tomb", Key={"pk": {"S": "gone"}},
                                                ConsistentRead=True))
        _, text = self.east.metrics()
        self.assertIn("tandem_repl_peer_up", text)

    def test_corrupt_and_truncated_batches_refused(self):
        self.global_table("corrupt")
        self.e.put_item(TableName="corrupt", Item={"pk": {"S": "a"}, "v": {"S": "1"}})
        entry = self.snapshot_entry(self.east, "corrupt", "a")
        newer = dict(entry, ts=hlc(int(time.time() * 1000) + 60000), origin="us-east-1",
                     image=b'{"pk":{"S":"a"},"v":{"S":"evil"}}')
        good = encode_batch([newer])
        bad_crc = good[:-5] + bytes([good[-5] ^ 1]) + good[-4:]
        truncated = good[:len(good) // 2]
        wrong_schema = encode_batch([dict(newer, schema=newer["schema"] ^ 1)])
        for body in (bad_crc, truncated, wrong_schema, b"", b"TRB1"):
            st, _, resp = self.west.internal("POST", "/_tandem/repl/seed", body=body)
            self.assertEqual(st, 400, resp)
        wait_until(lambda: converged([self.e, self.w], "corrupt"), what="converge")
        got = self.w.get_item(TableName="corrupt", Key={"pk": {"S": "a"}})["Item"]
        self.assertEqual(got["v"], {"S": "1"})

    def verify(self, table):
        env = dict(os.environ, TANDEM_ACCESS_KEY_ID=self.east.access_key,
                   TANDEM_SECRET_ACCESS_KEY=self.east.secret_key)
        return subprocess.run(
            [tandem_bin(), "verify", "--table", table,
             "--endpoint", "us-east-1=" + self.east.url(),
             "--endpoint", "us-west-2=" + self.west.url()],
            capture_output=True, text=True, env=env, timeout=120)

    def test_verify_and_status(self):
        self.global_table("verify", items=40)
        for i in range(40):
            (self.e if i % 2 else self.w).put_item(
                TableName="verify", Item={"pk": {"S": "v%02d" % i}, "n": {"N": str(i)}})
        wait_until(lambda: converged([self.e, self.w], "verify"), what="converge")
        p = self.verify("verify")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("80 items in 2 regions compared, 0 of 256 ranges differ, 0 divergent",
                      p.stdout)
        # write straight into us-west-2's data (an unlogged apply): a divergence
        entry = self.snapshot_entry(self.east, "verify", "v07")
        now = hlc(int(time.time() * 1000) + 1000)
        changed = dict(entry, ts=now, origin="us-west-2",
                       image=b'{"pk":{"S":"v07"},"n":{"N":"-1"}}')
        extra = dict(entry, ts=now, origin="us-west-2", key=b"only-west\x00\x00",
                     image=b'{"pk":{"S":"only-west"}}')
        st, _, body = self.west.internal("POST", "/_tandem/repl/seed",
                                         body=encode_batch([changed, extra]))
        self.assertEqual(st, 200, body)
        p = self.verify("verify")
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn('key="v07"', p.stdout)
        self.assertIn('key="only-west"', p.stdout)
        self.assertRegex(p.stdout, r'key="only-west".* us-east-1=absent')
        self.assertIn(", 2 divergent items", p.stdout)
        # a missing table is an error, not agreement
        self.assertEqual(self.verify("no-such-table").returncode, 2)
        env = dict(os.environ, TANDEM_ACCESS_KEY_ID=self.east.access_key,
                   TANDEM_SECRET_ACCESS_KEY=self.east.secret_key)
        p = subprocess.run([tandem_bin(), "status", "--endpoint", "us-east-1=" + self.east.url(),
                            "--endpoint", "us-west-2=" + self.west.url()],
                           capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("region us-east-1", p.stdout)
        self.assertIn("region us-west-2", p.stdout)
        self.assertRegex(p.stdout, r"peer us-west-2 +up +lag \d+ms +backlog 0")
        self.assertIn("region us-east-1 (%s): log at" % self.east.url(), p.stdout)
        self.assertRegex(p.stdout, r"(?m)^  identity: home$")  # us-east-1 is home
        self.assertIn("  identity: home us-east-1 reachable, 0 calls waiting for it", p.stdout)
        self.assertIn("table verify", p.stdout)
        p = subprocess.run([tandem_bin(), "status", "--endpoint", "us-east-1=" + self.east.url()],
                           capture_output=True, text=True, env=dict(env, TANDEM_SECRET_ACCESS_KEY="x"),
                           timeout=60)
        self.assertEqual(p.returncode, 1)
        self.assertIn("unreachable", p.stdout)

    def test_unauthenticated_and_wrongly_signed_peers_refused(self):
        st, _, _ = self.east.internal("GET", "/_tandem/repl/log", "from=1", sign=False)
        self.assertIn(st, (400, 403))
        st, _, body = self.east.internal("GET", "/_tandem/repl/log", "from=1", secret="wrong")
        self.assertIn(st, (400, 403))
        self.assertIn(b"Signature", body)
        st, _, _ = self.east.internal("GET", "/_tandem/repl/log", "from=1", service="dynamodb")
        self.assertEqual(st, 400)
        st, _, _ = self.east.internal("GET", "/_tandem/repl/log", "from=1", region="us-west-2")
        self.assertEqual(st, 400)
        st, _, _ = self.east.internal("GET", "/_tandem/repl/log", "from=1&wait_ms=0")
        self.assertEqual(st, 200)

    def test_delete_replica_stops_replication(self):
        self.global_table("dropme")
        self.e.put_item(TableName="dropme", Item={"pk": {"S": "a"}})
        wait_until(lambda: converged([self.e, self.w], "dropme"), what="converge")
        self.e.update_table(TableName="dropme",
                            ReplicaUpdates=[{"Delete": {"RegionName": "us-west-2"}}])
        with self.assertRaises(self.w.exceptions.ResourceNotFoundException):
            self.w.describe_table(TableName="dropme")
        t = self.e.describe_table(TableName="dropme")["Table"]
        self.assertNotIn("Replicas", t)
        self.e.put_item(TableName="dropme", Item={"pk": {"S": "b"}})
        self.assertEqual(len(scan_all(self.e, "dropme")), 2)

    def test_delete_table_in_one_region_deletes_that_replica(self):
        self.global_table("onedel")
        self.w.delete_table(TableName="onedel")
        wait_until(lambda: "Replicas" not in self.e.describe_table(TableName="onedel")["Table"],
                   what="replica set updated")
        self.e.put_item(TableName="onedel", Item={"pk": {"S": "still"}})


class Failures(unittest.TestCase):
    def tearDown(self):
        for r in getattr(self, "regions", []):
            r.cleanup()

    def test_peer_down_at_start_then_kill9_and_catch_up(self):
        self.regions = east, west = deployment(["us-east-1", "us-west-2"], start=False)
        east.start()  # its peer is not running yet
        e = east.boto3()
        create_table(e, "crash")
        with self.assertRaises(e.exceptions.ClientError):
            add_replica(e, "crash", "us-west-2")  # the peer is down: refused, nothing half-made
        west.start()
        add_replica(e, "crash", "us-west-2")
        w = west.boto3()
        stop = threading.Event()
        acked = []

        def writer():
            c = east.boto3()
            i = 0
            while not stop.is_set() and i < 3000:
                c.put_item(TableName="crash", Item={"pk": {"S": "k%05d" % i}})
                acked.append(i)
                i += 1
        t = threading.Thread(target=writer)
        t.start()
        time.sleep(0.5)
        west.kill()  # kill -9 mid-stream
        time.sleep(0.5)
        west.spawn()
        west.wait_healthy()
        time.sleep(0.5)
        stop.set()
        t.join()
        items = wait_until(lambda: converged([e, west.boto3()], "crash"), timeout=60,
                           what="catch up")
        self.assertEqual(len(items[0]), len(acked))
        _, text = west.metrics()
        self.assertIn('tandem_repl_backlog_entries{peer="us-east-1"} 0', text)
        east.stop()
        west.stop()
        del w

    def test_backlog_of_two_tables_applied_in_batches_keeps_item_counts(self):
        """A backlog applied in few commits, each entry of two tables mixed:
        new items, overwrites that grow and shrink an item, deletes of live
        and of absent items; the replica's ItemCount and TableSizeBytes come
        out as the origin's (the counters are written once per batch)."""
        self.regions = east, west = deployment(["us-east-1", "us-west-2"], start=False)
        east.start()
        west.start()
        e = east.boto3()
        for t in ("cnt-a", "cnt-b"):
            create_table(e, t)
            add_replica(e, t, "us-west-2")
        west.stop()
        for i in range(60):
            for t in ("cnt-a", "cnt-b"):
                e.put_item(TableName=t, Item={"pk": {"S": "k%02d" % i}, "v": {"S": "x" * i}})
        for i in range(0, 60, 3):  # overwrites: larger, then smaller again for some
            e.put_item(TableName="cnt-a", Item={"pk": {"S": "k%02d" % i}, "v": {"S": "y" * 300}})
            if i % 2:
                e.put_item(TableName="cnt-a", Item={"pk": {"S": "k%02d" % i}, "n": {"N": "1"}})
        for i in range(0, 60, 4):
            e.delete_item(TableName="cnt-b", Key={"pk": {"S": "k%02d" % i}})
            e.delete_item(TableName="cnt-b", Key={"pk": {"S": "absent%02d" % i}})
        west.start()
        w = west.boto3()
        for t, n in (("cnt-a", 60), ("cnt-b", 45)):
            wait_until(lambda t=t: converged([e, w], t), timeout=60, what="catch up " + t)
            want = e.describe_table(TableName=t)["Table"]
            got = w.describe_table(TableName=t)["Table"]
            self.assertEqual(want["ItemCount"], n)
            self.assertEqual((got["ItemCount"], got["TableSizeBytes"]),
                             (want["ItemCount"], want["TableSizeBytes"]), t)
        east.stop()
        west.stop()

    def test_writer_killed_continues_its_sequence(self):
        """us-east-1 killed (-9) right after acknowledged writes and started
        again gives its next writes new sequence numbers (one past its log's
        newest entry), so us-west-2, whose position is past the old ones,
        applies them all."""
        self.regions = east, west = deployment(["us-east-1", "us-west-2"], start=False)
        east.start()
        west.start()
        e = east.boto3()
        create_table(e, "seq")
        add_replica(e, "seq", "us-west-2")
        w = west.boto3()

        def last_seq():
            _, text = east.metrics()
            for line in text.splitlines():
                if line.startswith("tandem_repl_log_last_seq{"):
                    return int(line.split()[-1])
            return None

        for i in range(30):
            e.put_item(TableName="seq", Item={"pk": {"S": "a%02d" % i}})
        wait_until(lambda: converged([e, w], "seq"), timeout=60, what="first writes")
        before = last_seq()
        self.assertGreaterEqual(before, 30)
        east.kill()
        east.spawn()
        east.wait_healthy()
        self.assertEqual(last_seq(), before)
        e = east.boto3()
        for i in range(30):
            e.put_item(TableName="seq", Item={"pk": {"S": "b%02d" % i}})
        self.assertEqual(last_seq(), before + 30)
        items = wait_until(lambda: converged([e, w], "seq"), timeout=60, what="writes after kill")
        self.assertEqual(len(items[0]), 60)
        east.stop()
        west.stop()

    def test_position_trimmed_from_log_resyncs_from_snapshot(self):
        self.regions = east, west = deployment(["us-east-1", "us-west-2"], start=False)
        os.environ["TANDEM_REPL_RETENTION_MS"] = "300"
        os.environ["TANDEM_REPL_TRIM_EVERY_MS"] = "100"
        try:
            east.start()
        finally:
            del os.environ["TANDEM_REPL_RETENTION_MS"]
            del os.environ["TANDEM_REPL_TRIM_EVERY_MS"]
        west.start()
        e = east.boto3()
        create_table(e, "trimmed")
        for i in range(10):
            e.put_item(TableName="trimmed", Item={"pk": {"S": "old%d" % i}})
        add_replica(e, "trimmed", "us-west-2")
        wait_until(lambda: converged([e, west.boto3()], "trimmed"), what="seeded")
        west.stop()
        for i in range(700):  # more than one snapshot page, while us-west-2 is down
            e.put_item(TableName="trimmed", Item={"pk": {"S": "new%03d" % i}})
        for i in range(5):
            e.delete_item(TableName="trimmed", Key={"pk": {"S": "old%d" % i}})
        time.sleep(1.5)  # every entry is past the 300 ms retention and trimmed
        st, _, _ = east.internal("GET", "/_tandem/repl/log", "from=1&wait_ms=0")
        self.assertEqual(st, 410)
        west.spawn()
        west.wait_healthy()
        items = wait_until(lambda: converged([e, west.boto3()], "trimmed"), timeout=60,
                           what="resync")
        self.assertEqual(len(items[0]), 705)
        self.assertIn("event=repl_resync_done peer=us-east-1", west.stderr())
        e.put_item(TableName="trimmed", Item={"pk": {"S": "after"}})  # tailing again
        wait_until(lambda: "Item" in west.boto3().get_item(TableName="trimmed",
                                                           Key={"pk": {"S": "after"}}),
                   what="tail after resync")
        east.stop()
        west.stop()

    def test_bad_peer_flags_refused(self):
        for bad in ("us-west-2", "=http://x:1", "us-west-2=ftp://x:1"):
            p = tandem("server", "--region", "us-east-1", "--data", "/nonexistent",
                       "--listen", "127.0.0.1:0", "--access-key", "a", "--secret-key", "b",
                       "--peer", bad)
            self.assertEqual(p.returncode, 2, bad)
            self.assertIn("--peer", p.stderr)

    def test_three_regions(self):
        self.regions = deployment(["us-east-1", "us-west-2", "eu-west-1"])
        a, b, c = (r.boto3() for r in self.regions)
        create_table(a, "tri")
        a.put_item(TableName="tri", Item={"pk": {"S": "before"}})
        add_replica(a, "tri", "us-west-2")
        add_replica(a, "tri", "eu-west-1")
        for cl in (a, b, c):
            reps = cl.describe_table(TableName="tri")["Table"]["Replicas"]
            self.assertEqual(sorted(r["RegionName"] for r in reps),
                             ["eu-west-1", "us-east-1", "us-west-2"])
        for i, cl in enumerate((a, b, c) * 10):
            cl.put_item(TableName="tri", Item={"pk": {"S": "k%02d" % i}})
        items = wait_until(lambda: converged([a, b, c], "tri"), what="three converge")
        self.assertEqual(len(items[0]), 31)
        for r in self.regions:
            r.stop()

    def test_third_replica_gets_a_write_the_seeding_region_has_not_applied(self):
        keys = fresh_credentials()
        a, b, c = (Region(n, keys) for n in ("us-east-1", "us-west-2", "eu-west-1"))
        self.regions = [a, b, c]
        proxy = PausableProxy(b.fixed_port)  # us-east-1 reaches us-west-2 only through it
        self.addCleanup(proxy.close)
        a.peers = [("us-west-2", "http://127.0.0.1:%d" % proxy.port),
                   ("eu-west-1", "http://127.0.0.1:%d" % c.fixed_port)]
        b.peers = [(o.region, "http://127.0.0.1:%d" % o.fixed_port) for o in (a, c)]
        c.peers = [(o.region, "http://127.0.0.1:%d" % o.fixed_port) for o in (a, b)]
        for r in self.regions:
            r.start()
        ca, cb, cc = (r.boto3() for r in self.regions)
        create_table(ca, "late")
        ca.put_item(TableName="late", Item={"pk": {"S": "before"}})
        add_replica(ca, "late", "us-west-2")
        proxy.pause()  # us-east-1 stops hearing from us-west-2
        cb.put_item(TableName="late", Item={"pk": {"S": "from-west"}})

        def metric(region, name):
            for line in region.metrics()[1].splitlines():
                if line.startswith(name + " "):
                    return int(line.split()[-1])
            return 0
        last = metric(b, 'tandem_repl_log_last_seq{region="us-west-2"}')
        # eu-west-1 has read past that entry, then a table it did not have
        wait_until(lambda: metric(c, 'tandem_repl_position{peer="us-west-2"}') >= last,
                   what="eu-west-1 past us-west-2's entry")
        self.assertNotIn("Item", ca.get_item(TableName="late", Key={"pk": {"S": "from-west"}}))
        add_replica(ca, "late", "eu-west-1")
        got = cc.get_item(TableName="late", Key={"pk": {"S": "from-west"}}, ConsistentRead=True)
        self.assertIn("Item", got)  # copied from us-west-2 when the replica was made
        self.assertIn("event=repl_seeded_from table=late peer=us-west-2", c.stderr())
        proxy.resume()
        items = wait_until(lambda: converged([ca, cb, cc], "late"), timeout=60,
                           what="three converge")
        self.assertEqual([json.loads(i)["pk"]["S"] for i in items[0]], ["before", "from-west"])
        for r in self.regions:
            r.stop()

    def test_tombstones_collected_only_once_every_peer_is_past_them(self):
        keys = fresh_credentials()
        east, west = Region("us-east-1", keys), Region("us-west-2", keys)
        self.regions = [east, west]
        proxy = PausableProxy(west.fixed_port)  # us-east-1 hears us-west-2 only through it
        self.addCleanup(proxy.close)
        east.peers = [("us-west-2", "http://127.0.0.1:%d" % proxy.port)]
        west.peers = [("us-east-1", "http://127.0.0.1:%d" % east.fixed_port)]
        os.environ["TANDEM_REPL_TOMBSTONE_MS"] = "1500"
        os.environ["TANDEM_REPL_TRIM_EVERY_MS"] = "200"
        try:
            east.start()
            west.start()
        finally:
            del os.environ["TANDEM_REPL_TOMBSTONE_MS"]
            del os.environ["TANDEM_REPL_TRIM_EVERY_MS"]
        e, w = east.boto3(), west.boto3()
        create_table(e, "gcol")
        for k in ("a", "b", "c"):
            e.put_item(TableName="gcol", Item={"pk": {"S": k}})
        add_replica(e, "gcol", "us-west-2")
        wait_until(lambda: len(scan_all(w, "gcol")) == 3, what="seeded")

        def tombstones(region):
            st, _, body = region.internal("GET", "/_tandem/repl/snapshot", "table=gcol")
            self.assertEqual(st, 200, body)
            return sum(1 for x in decode_batch(body) if x["del"])

        # old enough and every peer past it: collected, in both regions
        e.delete_item(TableName="gcol", Key={"pk": {"S": "a"}})
        self.assertEqual(tombstones(east), 1)
        wait_until(lambda: tombstones(east) == 0 and tombstones(west) == 0, what="collected")
        self.assertIn("event=repl_tombstones_collected table=gcol", east.stderr())
        # us-east-1 cannot hear us-west-2, which writes b; then us-east-1 deletes b (later)
        proxy.pause()
        w.put_item(TableName="gcol", Item={"pk": {"S": "b"}, "v": {"S": "older"}})
        time.sleep(0.05)
        e.delete_item(TableName="gcol", Key={"pk": {"S": "b"}})
        time.sleep(4)  # well past the retention, many collection passes
        self.assertEqual(tombstones(east), 1)  # kept: us-west-2 may hold an older write
        proxy.resume()
        items = wait_until(lambda: converged([e, w], "gcol"), timeout=60, what="heal")
        self.assertEqual([json.loads(i)["pk"]["S"] for i in items[0]], ["c"])  # no resurrection
        wait_until(lambda: tombstones(east) == 0, what="collected after the heal")
        self.assertEqual(converged([e, w], "gcol"), items)
        _, text = east.metrics()
        self.assertRegex(text, r"tandem_repl_tombstones_collected_total [1-9]")
        self.assertRegex(text, r'tandem_repl_conflicts_total\{peer="us-west-2",table="gcol"\} 1')
        east.stop()
        west.stop()


class PausableProxy:
    """A TCP forwarder on 127.0.0.1 that can cut its connections and refuse new
    ones (a one-way partition between two regions) and let them through again."""

    def __init__(self, target_port):
        self.target = target_port
        self.paused = False
        self.conns = []
        self.lock = threading.Lock()
        self.ls = socket.socket()
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(64)
        self.port = self.ls.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                s, _ = self.ls.accept()
            except OSError:
                return
            with self.lock:
                if self.paused:
                    s.close()
                    continue
                try:
                    t = socket.create_connection(("127.0.0.1", self.target), timeout=5)
                except OSError:
                    s.close()
                    continue
                t.settimeout(None)
                self.conns += [s, t]
            threading.Thread(target=self._pump, args=(s, t), daemon=True).start()
            threading.Thread(target=self._pump, args=(t, s), daemon=True).start()

    def _pump(self, src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for x in (src, dst):
            try:
                x.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def pause(self):
        with self.lock:
            self.paused = True
            conns, self.conns = self.conns, []
        for x in conns:
            try:
                x.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            x.close()

    def resume(self):
        with self.lock:
            self.paused = False

    def close(self):
        self.closed = True
        self.pause()
        self.ls.close()


if __name__ == "__main__":
    unittest.main()
