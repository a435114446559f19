"""`tandem up` end to end with DynamoDB tables in two local regions: preview,
up, a no-change up that writes nothing, in-place updates and replacements of
exactly what changed, a removed resource deleted, destroy leaving nothing."""
import json
import os
import time
import unittest

from stack_helpers import Project, alive

# the two local regions' providers, as every program here names them
PROVIDERS = """\
  east:
    type: pulumi:providers:aws
    properties:
      region: us-east-1
  west:
    type: pulumi:providers:aws
    properties:
      region: us-west-2
"""

TWO_TABLES = """\
name: twotables
runtime: yaml
config:
  environmentSuffix:
    type: string
    default: dev
resources:
%(providers)s  orders:
    type: aws:dynamodb:Table
    properties:
      name: orders-${environmentSuffix}
      billingMode: %(billing)s
      hashKey: id
      attributes:
        - name: id
          type: S
      tags:
        Environment: ${environmentSuffix}
    options:
      provider: ${east}
  audit:
    type: aws:dynamodb:Table
    properties:
      name: audit-${environmentSuffix}-${orders.name}
      billingMode: PAY_PER_REQUEST
      hashKey: %(audit_key)s
      attributes:
        - name: %(audit_key)s
          type: S
    options:
      provider: ${west}
%(extra)s
outputs:
  ordersName: ${orders.name}
  ordersArn: ${orders.arn}
  auditArn: ${audit.arn}
"""

EXTRA = """\
  scratch:
    type: aws:dynamodb:Table
    properties:
      name: scratch-${environmentSuffix}
      billingMode: PAY_PER_REQUEST
      hashKey: k
      attributes:
        - name: k
          type: S
"""


def program(billing="PAY_PER_REQUEST", audit_key="pk", extra=EXTRA):
    return TWO_TABLES % {"billing": billing, "audit_key": audit_key, "extra": extra,
                         "providers": PROVIDERS}


def ops(result):
    return {s["name"]: s["op"] for s in result["steps"]}


class StackLifecycle(unittest.TestCase):
    def setUp(self):
        self.p = Project(program(), env={"ENVIRONMENT_SUFFIX": "it"})
        self.addCleanup(self.p.cleanup)

    def tables(self, region):
        return self.p.client("dynamodb", region).list_tables()["TableNames"]

    def test_lifecycle(self):
        p = self.p
        pv = p.json("preview")
        self.assertEqual(set(ops(pv).values()), {"create"})
        self.assertEqual(pv["writes"], 0)
        self.assertEqual(pv["outputs"]["ordersName"], "orders-it")
        self.assertFalse(p.server_pids(), "preview must not start regions")

        t0 = time.monotonic()
        up = p.run("up", "--yes", check=0)
        self.assertIn("created", up.stdout)
        self.assertIn("ordersArn", up.stdout)
        self.assertLess(time.monotonic() - t0, 60)
        out = p.json("output")
        self.assertEqual(out["ordersName"], "orders-it")
        self.assertTrue(out["ordersArn"].startswith("arn:aws:dynamodb:us-east-1:"))
        self.assertTrue(out["auditArn"].startswith("arn:aws:dynamodb:us-west-2:"))
        self.assertEqual(p.run("output", "ordersName", check=0).stdout.strip(), "orders-it")
        self.assertEqual(p.run("output", "nope").returncode, 1)
        self.assertIn("orders-it", self.tables("us-east-1"))
        self.assertIn("scratch-it", self.tables("us-east-1"))  # default provider: aws:region
        self.assertEqual(self.tables("us-west-2"), ["audit-it-orders-it"])
        desc = p.client("dynamodb", "us-east-1").describe_table(TableName="orders-it")["Table"]
        self.assertEqual(desc["BillingModeSummary"]["BillingMode"], "PAY_PER_REQUEST")
        for r in p.state()["resources"]:
            self.assertEqual(r["status"], "created", r)

        # no change: nothing planned, no write call
        again = p.json("up", "--yes")
        self.assertEqual(set(ops(again).values()), {"same"})
        self.assertEqual(again["writes"], 0)

        # one property that updates in place: exactly that resource, that property
        p.write(program(billing="PROVISIONED"))
        pv = p.json("preview")
        self.assertEqual(ops(pv)["orders"], "update")
        changed = [s for s in pv["steps"] if s["name"] == "orders"][0]["changed"]
        self.assertEqual(changed, ["billingMode"])
        self.assertEqual({n for n, o in ops(pv).items() if o != "same"}, {"orders"})
        res = p.json("up", "--yes")
        self.assertEqual({n for n, o in ops(res).items() if o != "same"}, {"orders"})
        desc = p.client("dynamodb", "us-east-1").describe_table(TableName="orders-it")["Table"]
        self.assertEqual(desc.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED"),
                         "PROVISIONED")

        # a key change replaces exactly that table
        p.write(program(billing="PROVISIONED", audit_key="pk2"))
        res = p.json("up", "--yes")
        self.assertEqual({n: o for n, o in ops(res).items() if o != "same"}, {"audit": "replace"})
        desc = p.client("dynamodb", "us-west-2").describe_table(
            TableName="audit-it-orders-it")["Table"]
        self.assertEqual(desc["KeySchema"][0]["AttributeName"], "pk2")

        # a resource dropped from the program is deleted
        p.write(program(billing="PROVISIONED", audit_key="pk2", extra=""))
        res = p.json("up", "--yes")
        self.assertEqual(ops(res)["scratch"], "delete")
        self.assertNotIn("scratch-it", self.tables("us-east-1"))

        pids = p.server_pids()
        self.assertEqual(len(pids), 2)
        d = p.json("destroy", "--yes")
        self.assertEqual(set(ops(d).values()), {"delete"})
        self.assertEqual(p.state()["resources"], [])
        for pid in pids:
            deadline = time.monotonic() + 10
            while alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertFalse(alive(pid), "destroy leaves a region running")
        self.assertFalse(os.path.exists(os.path.join(p.dir, ".tandem", "stacks", "dev",
                                                     "regions")))

    def test_up_needs_yes_without_a_terminal(self):
        r = self.p.run("up")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--yes", r.stderr)
        self.assertEqual(self.p.state()["resources"], [])

    def test_interrupted_create_is_adopted(self):
        """A run killed after CreateTable left status "creating": the next up
        adopts the table instead of failing on ResourceInUseException."""
        p = self.p
        p.run("up", "--yes", check=0)
        st = p.state()
        for r in st["resources"]:
            if r["name"] == "orders":
                r["status"] = "creating"
                r.pop("id", None)
                r["outputs"] = {}
        with open(os.path.join(p.dir, ".tandem", "stacks", "dev", "state.json"), "w") as f:
            json.dump(st, f)
        self.assertEqual(p.json("preview")["summary"].get("create"), 1)
        res = p.json("up", "--yes")
        self.assertEqual({n: o for n, o in ops(res).items() if o != "same"}, {"orders": "create"})
        r = [r for r in p.state()["resources"] if r["name"] == "orders"][0]
        self.assertEqual(r["status"], "created")
        self.assertTrue(r["outputs"]["arn"].endswith(":table/orders-it"))
        p.run("destroy", "--yes", check=0)

    def test_stacks_and_config(self):
        p = self.p
        p.run("stack", "init", "staging", check=0)
        self.assertIn("staging *", p.run("stack", "ls", check=0).stdout)
        p.run("config", "set", "environmentSuffix", "stg", check=0)
        p.env.pop("ENVIRONMENT_SUFFIX")
        self.assertEqual(p.run("config", "get", "environmentSuffix", check=0).stdout.strip(),
                         "stg")
        pv = p.json("preview")
        self.assertEqual(pv["outputs"]["ordersName"], "orders-stg")
        p.run("stack", "select", "dev", check=1)  # never initialized
        p.run("stack", "init", "dev", check=0)
        pv = p.json("preview")
        self.assertEqual(pv["outputs"]["ordersName"], "orders-dev")  # the default
        p.run("stack", "rm", "staging", check=0)
        self.assertNotIn("staging", p.run("stack", "ls", check=0).stdout)


GLOBAL = """\
name: globaltable
runtime: yaml
resources:
%(providers)s  orders:
    type: aws:dynamodb:Table
    properties:
      name: orders-global
      billingMode: PAY_PER_REQUEST
      hashKey: id
      attributes:
        - name: id
          type: S
%(stream)s      tags:
        Team: %(team)s
      replicas:
        - regionName: us-west-2
    options:
      provider: ${east}
"""


def global_program(stream="", team="a"):
    return GLOBAL % {"stream": stream, "team": team, "providers": PROVIDERS}


class GlobalTableStream(unittest.TestCase):
    """A table with replicas needs streamEnabled: true (NEW_AND_OLD_IMAGES):
    DynamoDB turns that stream on for the first replica and refuses to turn
    it off while replicas remain, so a program asking for no stream is
    refused before anything is made, at the property at fault; the table's
    stream is compared with the live one, so one the region already has is
    not asked for again."""

    def setUp(self):
        self.p = Project(global_program())
        self.addCleanup(self.p.cleanup)

    def line_of(self, text):
        with open(os.path.join(self.p.dir, "Tandem.yaml")) as f:
            return [i + 1 for i, ln in enumerate(f.read().splitlines()) if ln.strip() == text][0]

    def test_refused_up_front_then_deployed(self):
        p = self.p
        for stream, at in (("", "replicas:"),
                           ("      streamEnabled: false\n", "streamEnabled: false"),
                           ("      streamEnabled: true\n      streamViewType: KEYS_ONLY\n",
                            "streamViewType: KEYS_ONLY")):
            with self.subTest(stream=stream):
                p.write(global_program(stream))
                for args in (("preview",), ("up", "--yes")):
                    r = p.run(*args)
                    self.assertEqual(r.returncode, 2, r.stderr)
                    self.assertIn("Tandem.yaml:%d:7: aws:dynamodb:Table: a table with replicas "
                                  "needs stream" % self.line_of(at), r.stderr)
                self.assertEqual(p.state()["resources"], [])
                self.assertFalse(p.server_pids(), "a refused program starts no region")
        p.write(global_program("      streamEnabled: true\n"))
        p.run("up", "--yes", check=0)
        east = p.client("dynamodb", "us-east-1")
        t = east.describe_table(TableName="orders-global")["Table"]
        self.assertEqual(t["StreamSpecification"],
                         {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
        self.assertEqual(sorted(r["RegionName"] for r in t["Replicas"]),
                         ["us-east-1", "us-west-2"])
        self.assertEqual(ops(p.json("up", "--yes"))["orders"], "same")
        # a stack deployed when such programs were taken: its state says no
        # stream, the table has the one the region turned on; the program now
        # asking for it updates nothing on the table's stream
        st = p.state()
        for r in st["resources"]:
            if r["name"] == "orders":
                r["inputs"].pop("streamEnabled")
        with open(os.path.join(p.dir, ".tandem", "stacks", "dev", "state.json"), "w") as f:
            json.dump(st, f)
        p.write(global_program("      streamEnabled: true\n", team="b"))
        res = p.json("up", "--yes")
        self.assertEqual(ops(res)["orders"], "update")
        t2 = east.describe_table(TableName="orders-global")["Table"]
        self.assertEqual(t2["LatestStreamArn"], t["LatestStreamArn"])
        self.assertEqual(east.list_tags_of_resource(ResourceArn=t["TableArn"])["Tags"],
                         [{"Key": "Team", "Value": "b"}])
        p.run("destroy", "--yes", check=0)


if __name__ == "__main__":
    unittest.main()
