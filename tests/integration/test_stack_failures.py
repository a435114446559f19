"""Failures of `tandem up`: a region down in the middle of a run (clear error,
consistent state, a later up finishes), a region slower than the program's
customTimeouts, stack files with errors (file:line:col, exit status 2), a
protected resource."""
import json
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from stack_helpers import Project
from tandem_harness import Server

REMOTE = """\
name: remote
runtime: yaml
config:
  eastUrl:
    type: string
  westUrl:
    type: string
resources:
  east:
    type: pulumi:providers:aws
    properties:
      region: us-east-1
      endpoints:
        - dynamodb: ${eastUrl}
  west:
    type: pulumi:providers:aws
    properties:
      region: us-west-2
      endpoints:
        - dynamodb: ${westUrl}
  first:
    type: aws:dynamodb:Table
    properties:
      name: first
      billingMode: PAY_PER_REQUEST
      hashKey: id
      attributes: [{name: id, type: S}]
    options:
      provider: ${east}
  second:
    type: aws:dynamodb:Table
    properties:
      name: second-${first.name}
      billingMode: PAY_PER_REQUEST
      hashKey: id
      attributes: [{name: id, type: S}]
    options:
      provider: ${west}
  third:
    type: aws:dynamodb:Table
    properties:
      name: third
      billingMode: PAY_PER_REQUEST
      hashKey: id
      attributes: [{name: id, type: S}]
    options:
      provider: ${east}
      dependsOn:
        - ${second}
outputs:
  second: ${second.arn}
"""


class RegionDown(unittest.TestCase):
    """Two regions on `tandem server`s the stack names by endpoint."""

    def setUp(self):
        self.east = Server(region="us-east-1")
        self.west = Server(region="us-west-2")
        self.west.access_key, self.west.secret_key = self.east.access_key, self.east.secret_key
        for s in (self.east, self.west):
            s.start()
            self.addCleanup(s.cleanup)
        self.p = Project(REMOTE, env={"TANDEM_ACCESS_KEY_ID": self.east.access_key,
                                      "TANDEM_SECRET_ACCESS_KEY": self.east.secret_key})
        self.addCleanup(self.p.cleanup)
        self.p.run("config", "set", "eastUrl", self.east.url(), check=0)
        self.p.run("config", "set", "westUrl", self.west.url(), check=0)

    def test_region_down_then_up_finishes(self):
        p = self.p
        self.west.stop()
        r = p.run("up", "--yes", check=1)
        self.assertIn("us-west-2", r.stderr)
        self.assertIn("unreachable", r.stderr)
        st = {x["name"]: x for x in p.state()["resources"]}
        self.assertEqual(st["first"]["status"], "created")
        # nothing recorded for what could not start, nor for what depends on it
        self.assertTrue("second" not in st or st["second"]["status"] == "creating", st)
        self.assertNotIn("third", st)
        self.assertEqual(self.east.boto3().list_tables()["TableNames"], ["first"])
        self.assertEqual(p.state()["outputs"], {})

        # the region comes back (at another port: only the state learns it)
        self.west.start()
        p.run("config", "set", "westUrl", self.west.url(), check=0)
        res = p.json("up", "--yes")
        changes = {s["name"]: s["op"] for s in res["steps"]
                   if s["op"] != "same" and not s["type"].startswith("pulumi:providers")}
        self.assertEqual(changes, {"second": "create", "third": "create"})
        self.assertEqual(self.west.boto3().list_tables()["TableNames"], ["second-first"])
        self.assertEqual(sorted(self.east.boto3().list_tables()["TableNames"]),
                         ["first", "third"])
        self.assertTrue(res["outputs"]["second"].endswith(":table/second-first"))
        self.assertEqual(p.json("up", "--yes")["writes"], 0)

        # destroy with a region down: the rest is deleted, the state keeps the rest
        self.west.stop()
        r = p.run("destroy", "--yes", check=1)
        self.assertIn("unreachable", r.stderr)
        left = {x["name"] for x in p.state()["resources"]}
        self.assertIn("second", left)
        self.assertNotIn("third", left)  # deleted before its dependency failed
        self.west.start()
        p.run("config", "set", "westUrl", self.west.url(), check=0)
        # destroy reads endpoints from the state: the up above recorded the old port,
        # so refresh the address through a no-op up first
        p.run("up", "--yes", check=0)
        p.run("destroy", "--yes", check=0)
        self.assertEqual(p.state()["resources"], [])
        self.assertEqual(self.west.boto3().list_tables()["TableNames"], [])
        self.assertEqual(self.east.boto3().list_tables()["TableNames"], [])


class SlowRegion(ThreadingHTTPServer):
    """A DynamoDB endpoint whose tables never leave CREATING (nor, with stuck_delete,
    DELETING): what a region under load looks like to a waiting client."""
    daemon_threads = True

    def __init__(self):
        self.tables, self.stuck_delete, self.calls = {}, False, []
        super().__init__(("127.0.0.1", 0), SlowHandler)

    def url(self):
        return "http://127.0.0.1:%d" % self.server_address[1]


class SlowHandler(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        req = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
        op = self.headers.get("X-Amz-Target", "").split(".")[-1]
        srv, name = self.server, req.get("TableName", "")
        srv.calls.append(op)
        desc = {"TableName": name, "TableArn": "arn:aws:dynamodb:us-east-1:000000000000:table/"
                + name, "TableStatus": srv.tables.get(name, "CREATING")}
        if op == "CreateTable":
            srv.tables[name] = "CREATING"
            self.reply(200, {"TableDescription": desc})
        elif op == "DescribeTable" and name in srv.tables:
            self.reply(200, {"Table": desc})
        elif op == "DeleteTable" and name in srv.tables:
            if srv.stuck_delete:
                srv.tables[name] = "DELETING"
            else:
                del srv.tables[name]
            desc["TableStatus"] = "DELETING"
            self.reply(200, {"TableDescription": desc})
        elif op in ("DescribeTable", "DeleteTable"):
            self.reply(400, {"__type": "com.amazonaws.dynamodb.v20120810#"
                             "ResourceNotFoundException", "message": "Table: %s not found" % name})
        else:
            self.reply(400, {"__type": "com.amazon.coral.validate#ValidationException",
                             "message": "not here"})


SLOW = """\
name: slow
runtime: yaml
config:
  url:
    type: string
resources:
  region:
    type: pulumi:providers:aws
    properties:
      region: us-east-1
      endpoints:
        - dynamodb: ${url}
  orders:
    type: aws:dynamodb:Table
    properties:
      name: orders
      billingMode: PAY_PER_REQUEST
      hashKey: id
      attributes: [{name: id, type: S}]
    options:
      provider: ${region}
      customTimeouts:
        create: 2s
        delete: 1500ms
"""


class CustomTimeouts(unittest.TestCase):
    def setUp(self):
        self.region = SlowRegion()
        threading.Thread(target=self.region.serve_forever, daemon=True).start()
        self.addCleanup(self.region.server_close)
        self.addCleanup(self.region.shutdown)
        self.p = Project(SLOW, env={"TANDEM_ACCESS_KEY_ID": "AKIAEXAMPLE",
                                    "TANDEM_SECRET_ACCESS_KEY": "secret"})
        self.addCleanup(self.p.cleanup)
        self.p.run("config", "set", "url", self.region.url(), check=0)

    def test_waits_end_at_the_custom_timeout(self):
        t0 = time.monotonic()
        r = self.p.run("up", "--yes", check=1)
        took = time.monotonic() - t0
        self.assertIn("table orders did not become ACTIVE within 2 s (customTimeouts)", r.stderr)
        self.assertGreaterEqual(took, 2)
        self.assertLess(took, 30)  # not the minute a wait takes by default
        st = {x["name"]: x for x in self.p.state()["resources"]}
        # the table exists: the state keeps it for the next run, with its delete timeout
        self.assertEqual((st["orders"]["status"], st["orders"]["id"]), ("creating", "orders"))
        self.assertEqual(st["orders"]["customTimeouts"], {"deleteMs": 1500})
        self.region.stuck_delete = True
        r = self.p.run("destroy", "--yes", check=1)
        self.assertIn("table orders was not deleted within 1.5 s (customTimeouts) after "
                      "DeleteTable", r.stderr)
        self.region.stuck_delete = False
        self.region.tables.pop("orders")
        self.p.run("destroy", "--yes", check=0)
        self.assertEqual(self.p.state()["resources"], [])


BAD = [
    ("name: x\nresources:\n  t:\n    type: aws:dynamodb:Table\n    propertie:\n      a: 1\n",
     "Tandem.yaml:5:5: unknown field 'propertie'"),
    ("name: x\nresources:\n  t:\n    type: aws:dynamodb:Tabel\n",
     "Tandem.yaml:4:11: unknown resource type 'aws:dynamodb:Tabel'"),
    ("name: x\nresources:\n  t:\n    type: aws:s3:BucketV2\n    properties:\n"
     "      bucket: ${missing.id}\n",
     "Tandem.yaml:6:15: unknown name 'missing'"),
    ("name: x\nresources:\n  t:\n    type: aws:s3:BucketV2\n      bad indent: 1\n",
     "Tandem.yaml:5:17:"),
    ("name: x\nresources:\n  t:\n    type: aws:s3:BucketV2\n    options:\n"
     "      provider: ${t}\n",
     "Tandem.yaml:6:17: 't' is a aws:s3:BucketV2, not a provider"),
    ("name: x\nresources:\n  t:\n    type: aws:s3:BucketV2\n    options:\n"
     "      customTimeouts: {create: soon}\n",
     "Tandem.yaml:6:32: customTimeouts.create must be a duration such as 30s, 5m or 1h"),
    ("name: x\nresources:\n  t:\n    type: aws:s3:BucketV2\n    options:\n"
     "      customTimeouts: {read: 5m}\n",
     "Tandem.yaml:6:24: unknown customTimeouts key 'read' (create, update or delete)"),
    ("name: x\nconfig:\n  needed:\n    type: string\nresources: {}\n",
     "Tandem.yaml:3:3: missing required configuration value 'needed'"),
    # a variable's error is told once, where the variable is written, not also where used
    ("name: x\nvariables:\n  v: ${missing.arn}\nresources:\n  t:\n    type: aws:s3:BucketV2\n"
     "    properties:\n      bucket: ${v}\n",
     "error: Tandem.yaml:3:6: unknown name 'missing'"),
    ("name: x\nvariables:\n  w:\n    fn::invoke:\n      function: std:file\n"
     "      arguments: {input: nope.txt}\nresources:\n  t:\n    type: aws:s3:BucketV2\n"
     "    properties:\n      bucket: ${w}\n",
     "error: Tandem.yaml:5:7: fn::invoke std:file: nope.txt: No such file or directory"),
]


class StackFileErrors(unittest.TestCase):
    def test_errors_point_at_line_and_column(self):
        for text, want in BAD:
            p = Project(text)
            try:
                for cmd in (["preview"], ["up", "--yes"]):
                    r = p.run(*cmd)
                    self.assertEqual(r.returncode, 2, (cmd, text, r.stdout, r.stderr))
                    self.assertIn(want, r.stderr, (cmd, text))
                self.assertFalse(p.server_pids(), "a bad stack file must not start regions")
            finally:
                p.cleanup()

    def test_no_stack_file(self):
        p = Project()
        try:
            r = p.run("up", "--yes")
            self.assertEqual(r.returncode, 2)
            self.assertIn("no Tandem.yaml or Pulumi.yaml", r.stderr)
        finally:
            p.cleanup()


if __name__ == "__main__":
    unittest.main()
