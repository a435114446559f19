"""Regions in their own network namespaces: one region is partitioned, or
killed (kill -9) and restarted, while every region takes random writes and
deletes; afterwards `tandem verify` finds no divergent item and no
acknowledged write is lost.

Needs root (ip netns, veth, bridge); skipped with the reason otherwise."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

from netns import topology
from repl_helpers import fresh_credentials
from tandem_harness import SANITIZER_MARKS, tandem_bin

REGIONS = ["us-east-1", "us-west-2", "eu-west-1"]
HERE = os.path.dirname(os.path.abspath(__file__))


class Partition(unittest.TestCase):
    def setUp(self):
        why = topology.available()
        if why:
            self.skipTest(why)
        self.tmp = tempfile.mkdtemp(prefix="tandem-netns-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.topo = topology.Topology(REGIONS)
        self.addCleanup(self.topo.teardown)
        self.ak, self.sk = fresh_credentials()
        self.env = dict(os.environ, TANDEM_ACCESS_KEY_ID=self.ak, TANDEM_SECRET_ACCESS_KEY=self.sk,
                        AWS_ACCESS_KEY_ID=self.ak, AWS_SECRET_ACCESS_KEY=self.sk)
        self.env.setdefault("ASAN_OPTIONS", "detect_leaks=1:strict_string_checks=1")
        self.procs = {}
        self.addCleanup(self.stop_all)
        for r in REGIONS:
            self.start(r)

    def start(self, r):
        t = self.topo
        cmd = [tandem_bin(), "server", "--region", r, "--data", os.path.join(self.tmp, r),
               "--listen", "0.0.0.0:%d" % t.port[r], "--threads", "2"]
        for o in REGIONS:
            if o != r:
                cmd += ["--peer", "%s=%s" % (o, t.url(o))]
        with open(os.path.join(self.tmp, r + ".log"), "ab") as err:
            self.procs[r] = subprocess.Popen(t.exec_argv(r, cmd), stdin=subprocess.DEVNULL,
                                             stdout=err, stderr=err, env=self.env)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.procs[r].poll() is not None:
                raise AssertionError("region %s exited with %s before it was ready:\n%s"
                                     % (r, self.procs[r].returncode, self.log_tail(r)))
            p = subprocess.run(t.exec_argv(r, ["curl", "-sf", "http://127.0.0.1:%d/" % t.port[r]]),
                               capture_output=True)
            if p.returncode == 0:
                return
            time.sleep(0.1)
        raise AssertionError("region %s did not start in 60 s:\n%s" % (r, self.log_tail(r)))

    def log_tail(self, r, lines=40):
        """The last @lines lines of region @r's log."""
        with open(os.path.join(self.tmp, r + ".log"), errors="replace") as f:
            return "".join(f.readlines()[-lines:])

    def stop_all(self):
        for r, p in self.procs.items():
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        for r in self.procs:
            with open(os.path.join(self.tmp, r + ".log"), errors="replace") as f:
                text = f.read()
            for m in SANITIZER_MARKS:
                if m in text:
                    raise AssertionError("sanitizer report from %s:\n%s" % (r, text[-4000:]))

    def aws(self, r, code):
        """Run boto3 @code inside region @r's namespace; returns its stdout."""
        pre = ("import boto3, json\nc = boto3.client('dynamodb', region_name=%r, "
               "endpoint_url='http://127.0.0.1:%d')\n" % (r, self.topo.port[r]))
        p = subprocess.run(self.topo.exec_argv(r, [sys.executable, "-c", pre + code]),
                           capture_output=True, text=True, env=self.env, timeout=300)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout

    def verify(self):
        cmd = [tandem_bin(), "verify", "--table", "chaos"]
        for r in REGIONS:
            cmd += ["--endpoint", "%s=%s" % (r, self.topo.url(r))]
        return subprocess.run(self.topo.exec_argv(REGIONS[0], cmd), capture_output=True,
                              text=True, env=self.env, timeout=120)

    def scan_keys(self, r):
        out = self.aws(r, "items, kw = [], {'TableName': 'chaos'}\n"
                          "while True:\n"
                          "    x = c.scan(**kw); items += x['Items']\n"
                          "    if 'LastEvaluatedKey' not in x: break\n"
                          "    kw['ExclusiveStartKey'] = x['LastEvaluatedKey']\n"
                          "print(json.dumps(sorted(i['pk']['S'] for i in items)))")
        return set(json.loads(out))

    def global_table(self):
        self.aws(REGIONS[0], "c.create_table(TableName='chaos', KeySchema=[{'AttributeName':'pk',"
                 "'KeyType':'HASH'}], AttributeDefinitions=[{'AttributeName':'pk',"
                 "'AttributeType':'S'}], BillingMode='PAY_PER_REQUEST', StreamSpecification="
                 "{'StreamEnabled':True,'StreamViewType':'NEW_AND_OLD_IMAGES'})\n"
                 "for r in %r:\n"
                 "    c.update_table(TableName='chaos', ReplicaUpdates=[{'Create':"
                 "{'RegionName':r}}])\n" % REGIONS[1:])

    def start_loads(self, seconds):
        loads = []
        for i, r in enumerate(REGIONS):
            out = os.path.join(self.tmp, "acked-%s.json" % r)
            loads.append((r, out, subprocess.Popen(
                self.topo.exec_argv(r, [sys.executable, os.path.join(HERE, "netns", "workload.py"),
                                        "http://127.0.0.1:%d" % self.topo.port[r], r, str(seconds),
                                        str(i + 1), out]), env=self.env)))
        return loads

    def check_converged(self, loads, min_acked):
        """Every load done; `tandem verify` at zero; every acknowledged write everywhere."""
        for _, _, p in loads:
            self.assertEqual(p.wait(120), 0)
        deadline = time.time() + 120
        while True:
            v = self.verify()
            if v.returncode == 0 or time.time() > deadline:
                break
            time.sleep(1)
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
        self.assertIn(" 0 divergent items", v.stdout)
        unique = set()
        for r, out, _ in loads:
            with open(out) as f:
                acked = json.load(f)
            unique |= {k for op, k in acked if op == "unique"}
            self.assertGreater(sum(1 for op, _ in acked if op != "error"), min_acked[r], r)
        for r in REGIONS:
            missing = unique - self.scan_keys(r)
            self.assertEqual(missing, set(), "acknowledged writes lost in %s" % r)

    def test_partition_during_random_writes_then_heal(self):
        self.global_table()
        loads = self.start_loads(12)
        time.sleep(2)
        self.topo.partition(REGIONS[2])  # eu-west-1 is cut off for a while
        time.sleep(6)
        self.topo.heal(REGIONS[2])
        self.check_converged(loads, {r: 20 for r in REGIONS})

    def test_kill9_mid_stream_then_restart(self):
        self.global_table()
        loads = self.start_loads(12)
        time.sleep(3)
        victim = REGIONS[1]
        self.procs[victim].kill()  # kill -9 while it streams to and from the others
        self.procs[victim].wait()
        time.sleep(3)  # the others keep taking writes meanwhile
        self.start(victim)
        with open(os.path.join(self.tmp, victim + ".log"), errors="replace") as f:
            self.assertEqual(f.read().count("event=repl_peer peer="), 4)  # 2 peers, 2 starts
        # us-west-2's own acknowledged writes from before the kill count too
        self.check_converged(loads, {r: 20 if r != victim else 5 for r in REGIONS})


if __name__ == "__main__":
    unittest.main()
