"""`aws:dynamodb:TableReplica` from a stack: the provider's other way to make a
global table (one resource per replica, in the replica's region, naming the
table by its ARN). `tandem up` on two local regions adds the replica through
UpdateTable in the table's region; items written in the main region reach the
replica; the replica's own settings (point-in-time recovery, deletion
protection, tags) are set in its region; preview predicts its id and ARN; a
no-change up writes nothing; changed tags update in place; refresh reads it
back; destroy removes the replica before the table."""
import time
import unittest

from stack_helpers import Project

PROGRAM = """\
name: replicas
runtime: yaml
resources:
  west:
    type: pulumi:providers:aws
    properties:
      region: us-west-2
  orders:
    type: aws:dynamodb:Table
    properties:
      name: orders
      billingMode: PAY_PER_REQUEST
      hashKey: id
      attributes:
        - name: id
          type: S
      streamEnabled: true
      streamViewType: NEW_AND_OLD_IMAGES
    options:
      ignoreChanges: [replicas]
  ordersWest:
    type: aws:dynamodb:TableReplica
    properties:
      globalTableArn: ${orders.arn}
      pointInTimeRecovery: true
      deletionProtectionEnabled: false
      tags:
        role: %(role)s
    options:
      provider: ${west}
outputs:
  replicaArn: ${ordersWest.arn}
  replicaId: ${ordersWest.id}
"""


def ops(result):
    return {s["name"]: s["op"] for s in result["steps"]}


class TableReplica(unittest.TestCase):
    def setUp(self):
        self.p = Project(PROGRAM % {"role": "standby"})
        self.addCleanup(self.p.cleanup)

    def wait_for(self, what, fn, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            got = fn()
            if got or time.monotonic() > deadline:
                return got
            time.sleep(0.2)

    def test_replica_lifecycle(self):
        p = self.p
        pv = p.json("preview")
        self.assertEqual(ops(pv)["ordersWest"], "create")
        self.assertEqual(pv["writes"], 0)

        p.run("up", "--yes", check=0)
        out = p.json("output")
        self.assertEqual(out["replicaArn"], "arn:aws:dynamodb:us-west-2:000000000000:table/orders")
        self.assertEqual(out["replicaId"], "orders:us-east-1")
        east, west = p.client("dynamodb", "us-east-1"), p.client("dynamodb", "us-west-2")
        reps = east.describe_table(TableName="orders")["Table"]["Replicas"]
        self.assertIn("us-west-2", [r["RegionName"] for r in reps])

        # the replica is a global table's: what the main region takes, it gets
        east.put_item(TableName="orders", Item={"id": {"S": "o-1"}, "qty": {"N": "3"}})
        got = self.wait_for("replicated item", lambda: west.get_item(
            TableName="orders", Key={"id": {"S": "o-1"}}).get("Item"))
        self.assertEqual(got, {"id": {"S": "o-1"}, "qty": {"N": "3"}})

        # its own settings, in its region
        pitr = west.describe_continuous_backups(TableName="orders")[
            "ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
        self.assertEqual(pitr["PointInTimeRecoveryStatus"], "ENABLED")
        tags = west.list_tags_of_resource(ResourceArn=out["replicaArn"])["Tags"]
        self.assertEqual(tags, [{"Key": "role", "Value": "standby"}])

        again = p.json("up", "--yes")
        self.assertEqual(set(ops(again).values()), {"same"})
        self.assertEqual(again["writes"], 0)

        p.write(PROGRAM % {"role": "primary-standby"})
        pv = p.json("preview")
        self.assertEqual(ops(pv)["ordersWest"], "update")
        p.run("up", "--yes", check=0)
        tags = west.list_tags_of_resource(ResourceArn=out["replicaArn"])["Tags"]
        self.assertEqual(tags, [{"Key": "role", "Value": "primary-standby"}])

        ref = p.json("refresh", "--yes")
        self.assertEqual([s["name"] for s in ref["steps"] if s.get("error")], [])
        self.assertEqual({s["name"]: s["changed"] for s in ref["steps"] if s["changed"]}, {})
        # the replica's tags changed in its region: refresh names them
        west.tag_resource(ResourceArn=out["replicaArn"], Tags=[{"Key": "extra", "Value": "1"}])
        ref = p.json("refresh", "--yes")
        self.assertEqual({s["name"]: s["changed"] for s in ref["steps"] if s["changed"]},
                         {"ordersWest": ["tags"]})

        p.run("destroy", "--yes", check=0)
        self.assertFalse(p.server_pids(), "destroy stops the local regions")

    def test_replica_in_the_tables_own_region_is_refused(self):
        p = self.p
        p.write(PROGRAM.replace("    options:\n      provider: ${west}\n", "") % {"role": "x"})
        r = p.run("up", "--yes")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("a replica of table orders must be in another region than the table "
                      "(us-east-1)", r.stdout + r.stderr)
        p.run("destroy", "--yes", check=0)


if __name__ == "__main__":
    unittest.main()


NAMED = """\
name: named
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
  orders:
    type: aws:dynamodb:Table
    properties:
      name: orders
      billingMode: PAY_PER_REQUEST
      hashKey: id
      attributes:
        - name: id
          type: S
      streamEnabled: true
      streamViewType: NEW_AND_OLD_IMAGES
    options:
      provider: ${east}
      ignoreChanges: [replicas]
  ordersWest:
    type: aws:dynamodb:TableReplica
    properties:
      globalTableArn: ${orders.arn}
    options:
      provider: ${west}
outputs:
  replicaArn: ${ordersWest.arn}
"""


class TableReplicaNamedRegions(unittest.TestCase):
    """Regions on other hosts, named by endpoint: the replica's calls to its table's region
    go to the endpoint the program's provider for that region names."""

    def test_replica_between_regions_named_by_endpoint(self):
        from repl_helpers import deployment
        east, west = deployment(["us-east-1", "us-west-2"])
        for r in (east, west):
            self.addCleanup(r.cleanup)
        p = Project(NAMED, env={"TANDEM_ACCESS_KEY_ID": east.access_key,
                                "TANDEM_SECRET_ACCESS_KEY": east.secret_key})
        self.addCleanup(p.cleanup)
        p.run("config", "set", "eastUrl", east.url(), check=0)
        p.run("config", "set", "westUrl", west.url(), check=0)
        p.run("up", "--yes", check=0)
        self.assertFalse(p.server_pids(), "no local region: both are named by endpoint")
        reps = east.boto3("dynamodb").describe_table(TableName="orders")["Table"]["Replicas"]
        self.assertIn("us-west-2", [r["RegionName"] for r in reps])
        self.assertEqual(p.json("output")["replicaArn"],
                         west.boto3("dynamodb").describe_table(TableName="orders")["Table"]["TableArn"])
        p.run("destroy", "--yes", check=0)
        self.assertEqual(west.boto3("dynamodb").list_tables()["TableNames"], [])
        self.assertEqual(east.boto3("dynamodb").list_tables()["TableNames"], [])


INLINE = """\
name: inline
runtime: yaml
resources:
  orders:
    type: aws:dynamodb:Table
    properties:
      name: orders
      billingMode: PAY_PER_REQUEST
      hashKey: id
      attributes:
        - name: id
          type: S
      streamEnabled: true
      tags:
        team: %(team)s
      replicas:
        - regionName: us-west-2
          pointInTimeRecovery: true
          propagateTags: true
%(extra)s"""


class ReplicaSettings(unittest.TestCase):
    """A table's `replicas` entries with settings of their own: point-in-time recovery and
    the table's tags (propagateTags) are set on the replica in its region."""

    def setUp(self):
        self.p = Project(INLINE % {"team": "payments", "extra": ""})
        self.addCleanup(self.p.cleanup)

    def test_replica_settings_reach_the_replica(self):
        p = self.p
        p.run("up", "--yes", check=0)
        west = p.client("dynamodb", "us-west-2")
        arn = west.describe_table(TableName="orders")["Table"]["TableArn"]
        pitr = west.describe_continuous_backups(TableName="orders")[
            "ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
        self.assertEqual(pitr["PointInTimeRecoveryStatus"], "ENABLED")
        self.assertEqual(west.list_tags_of_resource(ResourceArn=arn)["Tags"],
                         [{"Key": "team", "Value": "payments"}])
        east = p.client("dynamodb", "us-east-1")
        east_pitr = east.describe_continuous_backups(TableName="orders")[
            "ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
        self.assertEqual(east_pitr["PointInTimeRecoveryStatus"], "DISABLED")  # per region

        p.write(INLINE % {"team": "ledger", "extra": ""})
        p.run("up", "--yes", check=0)
        self.assertEqual(west.list_tags_of_resource(ResourceArn=arn)["Tags"],
                         [{"Key": "team", "Value": "ledger"}])
        p.run("destroy", "--yes", check=0)

    def test_strong_consistency_and_replica_keys_are_refused(self):
        p = self.p
        p.write((INLINE % {"team": "x", "extra": ""}).replace(
            "          propagateTags: true\n",
            "          propagateTags: true\n          consistencyMode: STRONG\n"))
        r = p.run("preview")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("replicas[].consistencyMode STRONG (multi-Region strong consistency) is "
                      "not one Tandem runs", r.stderr)
        self.assertFalse(p.server_pids())
