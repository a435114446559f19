"""The DR function examples (examples/functions/c/dr.c and
examples/functions/node/index.mjs) deployed as the seed deploys them: two
peered regions, a global table with a replica in the second, a least-privilege
execution role (dynamodb:PutItem and dynamodb:DescribeTable on the table, and
nothing else), functions created with `aws lambda create-function --zip-file
fileb://...` (aws CLI v1 and v2 where present), public function URLs
(AuthType NONE plus the AddPermission statement AWS requires), called with
plain curl. The items land in the table in the function's region and appear
in the other; a role without dynamodb:PutItem gets a 500 naming
AccessDeniedException."""

import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from repl_helpers import deployment, scan_all, wait_until
from tandem_harness import JS_DIR, ROOT, find_clients

EXAMPLES = os.path.join(ROOT, "examples", "functions")
ACCOUNT = "123456789012"
TABLE = "tap-global"
REGIONS = ("us-east-1", "us-west-2")
BOUND = 30  # seconds: replication and IAM propagation on loopback take well under one
TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
    "Action": "sts:AssumeRole"}]}


def role_arn(name):
    return "arn:aws:iam::%s:role/%s" % (ACCOUNT, name)


def table_arn(region):
    return "arn:aws:dynamodb:%s:%s:table/%s" % (region, ACCOUNT, TABLE)


def curl(url, *args):
    """(status, body bytes) of a plain curl request."""
    p = subprocess.run(["curl", "-s", "-o", "-", "-w", "\n%{http_code}", "--max-time", "60"]
                       + list(args) + [url], capture_output=True, timeout=90)
    body, _, code = p.stdout.rpartition(b"\n")
    return int(code or 0), body


class DrExamplesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tandem-fnex-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.c_zip = os.path.join(cls.tmp, "dr-c.zip")
        subprocess.run([os.path.join(EXAMPLES, "c", "build.sh"), cls.c_zip, "dr"], check=True,
                       timeout=120)
        cls.node_zip = None
        nm = os.path.join(JS_DIR, "node_modules")
        if shutil.which("node") and os.path.isdir(os.path.join(nm, "@aws-sdk",
                                                               "client-dynamodb")):
            cls.node_zip = os.path.join(cls.tmp, "dr-node.zip")
            subprocess.run([os.path.join(EXAMPLES, "node", "build.sh"), cls.node_zip],
                           check=True, timeout=300, env=dict(os.environ, NODE_MODULES_FROM=nm))
        cls.east, cls.west = deployment(list(REGIONS), start=False)
        cls.addClassCleanup(cls.east.cleanup)
        cls.addClassCleanup(cls.west.cleanup)
        cls.east.start()
        cls.west.start()
        cls.e = cls.east.boto3()
        cls.w = cls.west.boto3()
        # the global table: created in the first region, replicated to the second
        cls.e.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                           KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                           AttributeDefinitions=[{"AttributeName": "id",
                                                  "AttributeType": "S"}],
                           StreamSpecification={"StreamEnabled": True,
                                                "StreamViewType": "NEW_AND_OLD_IMAGES"})
        cls.e.update_table(TableName=TABLE,
                           ReplicaUpdates=[{"Create": {"RegionName": REGIONS[1]}}])
        wait_until(lambda: cls.w.describe_table(TableName=TABLE)["Table"]["TableStatus"]
                   == "ACTIVE", timeout=BOUND, what="the replica")
        # least-privilege execution roles (IAM is global: made in the home region)
        iam = cls.east.boto3("iam")
        for name, actions in (("tap-dr-role", ["dynamodb:PutItem", "dynamodb:DescribeTable"]),
                              ("tap-dr-readonly", ["dynamodb:DescribeTable"])):
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))
            iam.put_role_policy(RoleName=name, PolicyName="table", PolicyDocument=json.dumps({
                "Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Action": actions,
                    "Resource": [table_arn(r) for r in REGIONS]}]}))
        wiam = cls.west.boto3("iam")
        wait_until(lambda: _has_role(wiam, "tap-dr-readonly"), timeout=BOUND,
                   what="the roles in the second region")
        cls.functions = []  # (region, name) for teardown

    @classmethod
    def tearDownClass(cls):
        for region, name in cls.functions:
            try:
                region.boto3("lambda").delete_function(FunctionName=name)
            except Exception:  # noqa: BLE001 - best effort; the servers stop next
                pass
        cls.east.stop()
        cls.west.stop()

    # -- helpers ---------------------------------------------------------------

    def clis(self):
        out = [c for c in find_clients() if c.kind == "cli" and not c.missing]
        if not out:
            self.skipTest("no aws CLI")
        return out

    def cli(self, client, region, *args):
        cmd = client.argv + ["lambda"] + list(args) + [
            "--endpoint-url", region.url(), "--output", "json"]
        p = subprocess.run(cmd, env=region.env(), capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, "%s: %s" % (client.name, p.stderr))
        return json.loads(p.stdout) if p.stdout.strip() else {}

    def deploy(self, client, region, name, zpath, runtime, handler, role="tap-dr-role"):
        """create-function --zip-file fileb://, a public URL; returns the URL."""
        cfg = self.cli(client, region, "create-function", "--function-name", name,
                       "--runtime", runtime, "--handler", handler,
                       "--role", role_arn(role), "--timeout", "30", "--memory-size", "256",
                       "--environment", "Variables={TABLE_NAME=%s}" % TABLE,
                       "--zip-file", "fileb://" + zpath)
        self.functions.append((region, name))
        self.assertEqual(cfg["FunctionName"], name)
        self.assertEqual(cfg["Runtime"], runtime)
        url = self.cli(client, region, "create-function-url-config", "--function-name", name,
                       "--auth-type", "NONE")["FunctionUrl"]
        self.cli(client, region, "add-permission", "--function-name", name,
                 "--statement-id", "FunctionURLAllowPublicAccess",
                 "--action", "lambda:InvokeFunctionUrl", "--principal", "*",
                 "--function-url-auth-type", "NONE")
        return url

    def item(self, client, item_id):
        return client.get_item(TableName=TABLE, Key={"id": {"S": item_id}},
                               ConsistentRead=True).get("Item")

    def check_call(self, url, region, path):
        """curl the URL: 200 with the region and ACTIVE; returns the answer."""
        t0 = time.monotonic()
        code, body = curl(url + path.lstrip("/"), "-H", "User-Agent: dr-test")
        took = time.monotonic() - t0
        self.assertEqual(code, 200, body)
        doc = json.loads(body)
        self.assertEqual(doc["region"], region.region, doc)
        self.assertEqual(doc["tableStatus"], "ACTIVE", doc)
        self.assertEqual(doc["table"], TABLE, doc)
        doc["_took"] = took
        return doc

    def check_replicated(self, item_id, region):
        """The item is in @region's table now, and in the other region within BOUND."""
        here, there = (self.e, self.w) if region is self.east else (self.w, self.e)
        got = self.item(here, item_id)
        self.assertIsNotNone(got, "item %s not in %s" % (item_id, region.region))
        self.assertEqual(got["region"]["S"], region.region)
        other = wait_until(lambda: self.item(there, item_id), timeout=BOUND,
                           what="item %s in the other region" % item_id)
        self.assertEqual(other, got)
        return got

    # -- tests -----------------------------------------------------------------

    def test_c_function_through_url_and_cli(self):
        for i, client in enumerate(self.clis()):
            name = "dr-c-%d" % i
            url = self.deploy(client, self.east, name, self.c_zip, "provided.al2023",
                              "bootstrap")
            doc = self.check_call(url, self.east, "/orders/%d?x=1" % i)
            self.assertEqual(sorted((r["region"], r["status"]) for r in doc["replicas"]),
                             [(r, "ACTIVE") for r in REGIONS], doc)
            item = self.check_replicated(doc["id"], self.east)
            self.assertEqual(item["path"]["S"], "/orders/%d" % i)
            self.assertEqual(item["method"]["S"], "GET")
            self.assertEqual(item["sourceIp"]["S"], "127.0.0.1")
            self.assertTrue(item["requestTime"]["S"])
            self.assertGreater(int(item["ttl"]["N"]), time.time())
            print("%s: C cold start through the URL %.2fs" % (client.name, doc["_took"]))
            # warm, and a POST
            code, body = curl(url + "again", "-X", "POST", "--data", "{}")
            self.assertEqual(code, 200, body)
            self.assertEqual(self.item(self.e, json.loads(body)["id"])["method"]["S"], "POST")
            # Invoke through the CLI: a direct event has no HTTP request to record
            out = os.path.join(self.tmp, "invoke-%d.json" % i)
            payload = os.path.join(self.tmp, "payload.json")
            with open(payload, "w") as f:
                f.write('{"source": "cli"}')
            res = self.cli(client, self.east, "invoke", "--function-name", name,
                           "--payload", "fileb://" + payload, out)
            self.assertEqual(res["StatusCode"], 200)
            self.assertNotIn("FunctionError", res)
            with open(out) as f:
                answer = json.load(f)
            self.assertEqual(answer["statusCode"], 200)
            body = json.loads(answer["body"])
            got = self.check_replicated(body["id"], self.east)
            self.assertNotIn("path", got)
            self.assertTrue(got["requestId"]["S"])

    def test_node_function_through_url(self):
        if not self.node_zip:
            self.skipTest("no node, or tests/js/node_modules missing (npm ci in tests/js)")
        for i, client in enumerate(self.clis()):
            name = "dr-node-%d" % i
            url = self.deploy(client, self.east, name, self.node_zip, "nodejs20.x",
                              "index.handler")
            doc = self.check_call(url, self.east, "/node/%d" % i)
            item = self.check_replicated(doc["id"], self.east)
            self.assertEqual(item["path"]["S"], "/node/%d" % i)
            print("%s: Node.js cold start through the URL %.2fs" % (client.name, doc["_took"]))

    def test_function_in_each_region(self):
        """The seed's shape: the same C function in the second region writes
        there, and its item reaches the first."""
        client = self.clis()[0]
        url = self.deploy(client, self.west, "dr-c-west", self.c_zip, "provided.al2023",
                          "bootstrap")
        doc = self.check_call(url, self.west, "/west")
        self.assertEqual(doc["region"], "us-west-2")
        item = self.check_replicated(doc["id"], self.west)
        self.assertEqual(item["path"]["S"], "/west")

    def test_role_without_put_item_answers_500(self):
        client = self.clis()[0]
        url = self.deploy(client, self.east, "dr-c-locked", self.c_zip, "provided.al2023",
                          "bootstrap", role="tap-dr-readonly")
        before = len(scan_all(self.e, TABLE))
        code, body = curl(url + "denied")
        self.assertEqual(code, 500, body)
        doc = json.loads(body)
        self.assertEqual(doc["error"], "AccessDeniedException", doc)
        self.assertEqual(doc["operation"], "PutItem", doc)
        self.assertIn("assumed-role/tap-dr-readonly/dr-c-locked", doc["message"])
        self.assertIn("dynamodb:PutItem", doc["message"])
        self.assertEqual(len(scan_all(self.e, TABLE)), before)
        # the instance is still serving: the same answer again, quickly
        code, body = curl(url + "denied-again")
        self.assertEqual(code, 500, body)


def _has_role(iam, name):
    try:
        iam.get_role(RoleName=name)
        return True
    except Exception:  # noqa: BLE001 - not there yet
        return False


if __name__ == "__main__":
    unittest.main()
