"""Failures of `tandem up`: a region down in the middle of a run (clear error,
consistent state, a later up finishes), stack files with errors (file:line:col,
exit status 2), a protected resource."""
import unittest

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
    ("name: x\nconfig:\n  needed:\n    type: string\nresources: {}\n",
     "Tandem.yaml:3:3: missing required configuration value 'needed'"),
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
