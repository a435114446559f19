"""A resource's own `region`, as the Pulumi AWS provider v7 gives every resource
of a regional service: one provider (here the default, us-east-1) deploys to
several regions. The resource goes to its region (a local one started when
needed, or the endpoint a provider of the program names for it), preview
predicts its ARN there, a changed region replaces it (created in the new region,
deleted from the old), and IAM resources, which are global, have no region."""
import unittest

from stack_helpers import Project

PROGRAM = """\
name: regions
runtime: yaml
resources:
  here:
    type: aws:dynamodb:Table
    properties:
      name: here
      billingMode: PAY_PER_REQUEST
      hashKey: id
      attributes:
        - name: id
          type: S
  there:
    type: aws:dynamodb:Table
    properties:
      name: there
      region: %(region)s
      billingMode: PAY_PER_REQUEST
      hashKey: id
      attributes:
        - name: id
          type: S
  far:
    type: aws:s3:Bucket
    properties:
      bucket: far-away
      region: us-west-2
      forceDestroy: true
outputs:
  hereArn: ${here.arn}
  thereArn: ${there.arn}
"""


def ops(result):
    return {s["name"]: s["op"] for s in result["steps"]}


class ResourceRegion(unittest.TestCase):
    def setUp(self):
        self.p = Project(PROGRAM % {"region": "us-west-2"})
        self.addCleanup(self.p.cleanup)

    def tables(self, region):
        return self.p.client("dynamodb", region).list_tables()["TableNames"]

    def test_resources_in_their_own_regions(self):
        p = self.p
        pv = p.json("preview")
        self.assertEqual(pv["outputs"]["thereArn"],
                         "arn:aws:dynamodb:us-west-2:000000000000:table/there")
        self.assertEqual({s["name"]: s["region"] for s in pv["steps"]},
                         {"here": "us-east-1", "there": "us-west-2", "far": "us-west-2"})
        p.run("up", "--yes", check=0)
        out = p.json("output")
        self.assertEqual(out["hereArn"], "arn:aws:dynamodb:us-east-1:000000000000:table/here")
        self.assertEqual(out["thereArn"], "arn:aws:dynamodb:us-west-2:000000000000:table/there")
        self.assertEqual(self.tables("us-east-1"), ["here"])
        self.assertEqual(self.tables("us-west-2"), ["there"])
        west_s3 = p.client("s3", "us-west-2")
        self.assertEqual(west_s3.get_bucket_location(Bucket="far-away")["LocationConstraint"],
                         "us-west-2")
        again = p.json("up", "--yes")
        self.assertEqual(set(ops(again).values()), {"same"})

        p.write(PROGRAM % {"region": "eu-west-1"})
        self.assertEqual(ops(p.json("preview"))["there"], "replace")
        p.run("up", "--yes", check=0)
        self.assertEqual(self.tables("eu-west-1"), ["there"])
        self.assertEqual(self.tables("us-west-2"), [])
        self.assertEqual(p.json("output")["thereArn"],
                         "arn:aws:dynamodb:eu-west-1:000000000000:table/there")

        p.run("destroy", "--yes", check=0)
        self.assertFalse(p.server_pids())

    def test_iam_resources_have_no_region(self):
        p = self.p
        p.write("name: x\nresources:\n  r:\n    type: aws:iam:Role\n    properties:\n"
                "      region: us-west-2\n      assumeRolePolicy: '{}'\n")
        r = p.run("preview")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("Tandem.yaml:6:7: aws:iam:Role has no property 'region'", r.stderr)


if __name__ == "__main__":
    unittest.main()
