"""Event source mappings on a global table: two peered regions, a replica in
the second, a function and a mapping of the table's stream in each region.
Each region's function gets every change, whichever region it was written
in (replicated writes are recorded in the replica's own stream)."""

import json
import shutil
import unittest

from repl_helpers import deployment, scan_all, wait_until
from test_fn_esm import HANDLER
from test_lambda import zip_of

ACCOUNT = "123456789012"
TABLE = "esm-global"
SINK = "esm-sink"
REGIONS = ("us-east-1", "us-west-2")
BOUND = 60
TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
    "Action": "sts:AssumeRole"}]}
ACTIONS = ["dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:DescribeStream",
           "dynamodb:ListStreams", "dynamodb:PutItem", "dynamodb:UpdateItem"]


class GlobalTableMappingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not shutil.which("python3"):
            raise unittest.SkipTest("no python3 for python functions")
        cls.regions = deployment(list(REGIONS), start=False)
        for r in cls.regions:
            cls.addClassCleanup(r.cleanup)
            r.start()
        east = cls.regions[0].boto3()
        east.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                          StreamSpecification={"StreamEnabled": True,
                                               "StreamViewType": "NEW_AND_OLD_IMAGES"})
        east.update_table(TableName=TABLE,
                          ReplicaUpdates=[{"Create": {"RegionName": REGIONS[1]}}])
        west = cls.regions[1].boto3()
        wait_until(lambda: west.describe_table(TableName=TABLE)["Table"]["TableStatus"]
                   == "ACTIVE", timeout=BOUND, what="the replica")
        iam = cls.regions[0].boto3("iam")
        iam.create_role(RoleName="esm-global-role", AssumeRolePolicyDocument=json.dumps(TRUST))
        iam.put_role_policy(RoleName="esm-global-role", PolicyName="p",
                            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                                {"Effect": "Allow", "Action": ACTIONS, "Resource": "*"}]}))
        wiam = cls.regions[1].boto3("iam")
        wait_until(lambda: any(r["RoleName"] == "esm-global-role"
                               for r in wiam.list_roles()["Roles"]),
                   timeout=BOUND, what="the role in the second region")

    def test_each_region_sees_every_write(self):
        code = zip_of({"app.py": (HANDLER, 0o644)})
        uuids = []
        for r in self.regions:
            ddb, lam = r.boto3(), r.boto3("lambda", read_timeout=60)
            ddb.create_table(TableName=SINK, BillingMode="PAY_PER_REQUEST",
                             KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                             AttributeDefinitions=[{"AttributeName": "id",
                                                    "AttributeType": "S"}])
            lam.create_function(FunctionName="esm-global-fn", Runtime="python3.12",
                                Role="arn:aws:iam::%s:role/esm-global-role" % ACCOUNT,
                                Handler="app.handler", Timeout=30, Code={"ZipFile": code},
                                Environment={"Variables": {"SINK": SINK}})
            arn = ddb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
            self.assertIn(":%s:" % r.region, arn)
            m = lam.create_event_source_mapping(FunctionName="esm-global-fn",
                                                EventSourceArn=arn,
                                                StartingPosition="TRIM_HORIZON")
            uuids.append(m["UUID"])
            wait_until(lambda: lam.get_event_source_mapping(UUID=m["UUID"])["State"]
                       == "Enabled", timeout=BOUND, what="the mapping enabled")
        east, west = self.regions[0].boto3(), self.regions[1].boto3()
        east.put_item(TableName=TABLE, Item={"pk": {"S": "from-east"}})
        west.put_item(TableName=TABLE, Item={"pk": {"S": "from-west"}})
        for r in self.regions:
            ddb = r.boto3()

            def seen(ddb=ddb):
                recs = [json.loads(i["rec"]["S"]) for i in scan_all(ddb, SINK)
                        if "rec" in i]
                return sorted(x["dynamodb"]["Keys"]["pk"]["S"] for x in recs
                              if x["eventName"] == "INSERT")
            wait_until(lambda: seen() == ["from-east", "from-west"], timeout=BOUND,
                       what="both writes delivered in %s" % r.region)
            for i in scan_all(ddb, SINK):
                if "rec" in i:
                    rec = json.loads(i["rec"]["S"])
                    self.assertEqual(rec["awsRegion"], r.region)
                    self.assertIn(":%s:" % r.region, rec["eventSourceARN"])


if __name__ == "__main__":
    unittest.main()
