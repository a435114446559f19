"""The DynamoDB table operations through boto3 (CreateTable, DescribeTable,
UpdateTable, DeleteTable): what the service answers for each setting, and
that a refused request changes nothing."""

import re
import unittest
import uuid

from tandem_harness import ServerTestCase

HASH = [{"AttributeName": "id", "KeyType": "HASH"}]
HASH_S = [{"AttributeName": "id", "AttributeType": "S"}]


class DdbTables(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # as the service's own test suites do: the server, not boto3, checks input
        cls.ddb = cls.server.boto3(parameter_validation=False)

    def name(self):
        return "tbl-" + uuid.uuid4().hex[:12]

    def create(self, **kw):
        args = {"TableName": self.name(), "KeySchema": HASH, "AttributeDefinitions": HASH_S,
                "BillingMode": "PAY_PER_REQUEST"}
        args.update(kw)
        args = {k: v for k, v in args.items() if v is not None}  # None: leave it out
        out = self.ddb.create_table(**args)["TableDescription"]
        self.addCleanup(self.drop, args["TableName"])
        return args["TableName"], out

    def drop(self, name):
        try:
            self.ddb.delete_table(TableName=name)
        except self.ddb.exceptions.ResourceNotFoundException:
            pass

    def describe(self, name):
        return self.ddb.describe_table(TableName=name)["Table"]

    def assertRefused(self, code, pattern, fn, **kw):
        with self.assertRaises(self.ddb.exceptions.ClientError) as cm:
            fn(**kw)
        err = cm.exception.response["Error"]
        self.assertEqual(err["Code"], code, err)
        self.assertRegex(err["Message"], pattern)

    # -- CreateTable ------------------------------------------------------------

    def test_key_name_bytes(self):
        """A key attribute name is at most 255 bytes: 200 two-byte letters
        (400 bytes) are refused, 127 of them (254 bytes) taken."""
        long_name = "é" * 200
        self.assertRefused("ValidationException",
                           r"at 'keySchema.1.member.attributeName' failed to satisfy constraint: "
                           r"Member must have length less than or equal to 255",
                           self.ddb.create_table, TableName=self.name(),
                           KeySchema=[{"AttributeName": long_name, "KeyType": "HASH"}],
                           AttributeDefinitions=[{"AttributeName": long_name,
                                                  "AttributeType": "S"}],
                           BillingMode="PAY_PER_REQUEST")
        ok = "é" * 127
        name, _ = self.create(KeySchema=[{"AttributeName": ok, "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": ok, "AttributeType": "S"}])
        self.ddb.put_item(TableName=name, Item={ok: {"S": "k"}})
        self.assertEqual(self.ddb.get_item(TableName=name, Key={ok: {"S": "k"}})["Item"],
                         {ok: {"S": "k"}})

    def test_attribute_defined_twice(self):
        name = self.name()
        self.assertRefused("ValidationException", r"^Attribute Name is duplicated: sku$",
                           self.ddb.create_table, TableName=name,
                           KeySchema=[{"AttributeName": "sku", "KeyType": "HASH"}],
                           AttributeDefinitions=[{"AttributeName": "sku", "AttributeType": "N"},
                                                 {"AttributeName": "sku", "AttributeType": "B"}],
                           BillingMode="PAY_PER_REQUEST")
        self.assertNotIn(name, self.ddb.list_tables()["TableNames"])

    def test_on_demand_since_creation(self):
        name, _ = self.create()
        got = self.describe(name)
        self.assertEqual(got["BillingModeSummary"]["LastUpdateToPayPerRequestDateTime"],
                         got["CreationDateTime"])

    # -- DeleteTable ------------------------------------------------------------

    def test_provisioned_without_billing_mode(self):
        # a table made without BillingMode is described without a
        # BillingModeSummary, as DynamoDB answers; naming the mode keeps it
        pt = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
        name, out = self.create(BillingMode=None, ProvisionedThroughput=pt)
        self.assertNotIn("BillingModeSummary", out)
        self.assertNotIn("BillingModeSummary", self.describe(name))
        self.assertEqual(out["ProvisionedThroughput"],
                         {"NumberOfDecreasesToday": 0, "ReadCapacityUnits": 5,
                          "WriteCapacityUnits": 5})
        named, out = self.create(BillingMode="PROVISIONED", ProvisionedThroughput=pt)
        self.assertEqual(out["BillingModeSummary"]["BillingMode"], "PROVISIONED")
        # switching to on-demand and back is summarised from then on
        self.ddb.update_table(TableName=name, BillingMode="PAY_PER_REQUEST")
        self.assertEqual(self.describe(name)["BillingModeSummary"]["BillingMode"],
                         "PAY_PER_REQUEST")

    def test_delete_answer_leaves_out_the_schema(self):
        name, _ = self.create(
            KeySchema=[{"AttributeName": "shop", "KeyType": "HASH"},
                       {"AttributeName": "order", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": "shop", "AttributeType": "S"},
                                  {"AttributeName": "order", "AttributeType": "N"},
                                  {"AttributeName": "courier", "AttributeType": "S"}],
            GlobalSecondaryIndexes=[{"IndexName": "by-courier",
                                     "KeySchema": [{"AttributeName": "courier",
                                                    "KeyType": "HASH"}],
                                     "Projection": {"ProjectionType": "KEYS_ONLY"}}],
            LocalSecondaryIndexes=[{"IndexName": "by-courier-local",
                                    "KeySchema": [{"AttributeName": "shop", "KeyType": "HASH"},
                                                  {"AttributeName": "courier",
                                                   "KeyType": "RANGE"}],
                                    "Projection": {"ProjectionType": "ALL"}}])
        self.ddb.put_item(TableName=name, Item={"shop": {"S": "north"}, "order": {"N": "7"}})
        described = self.describe(name)
        got = self.ddb.delete_table(TableName=name)["TableDescription"]
        for member in ("KeySchema", "AttributeDefinitions", "CreationDateTime",
                       "GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            self.assertIn(member, described)
            self.assertNotIn(member, got)
        self.assertEqual(got["TableName"], name)
        self.assertEqual(got["TableStatus"], "DELETING")
        self.assertEqual(got["TableId"], described["TableId"])
        self.assertEqual(got["TableArn"], described["TableArn"])
        self.assertEqual(got["ItemCount"], 1)
        self.assertGreater(got["TableSizeBytes"], 0)
        self.assertEqual(got["BillingModeSummary"], described["BillingModeSummary"])
        self.assertEqual(got["ProvisionedThroughput"],
                         {"NumberOfDecreasesToday": 0, "ReadCapacityUnits": 0,
                          "WriteCapacityUnits": 0})
        self.assertRefused("ResourceNotFoundException", "not found", self.ddb.describe_table,
                           TableName=name)

    # -- TableClass ---------------------------------------------------------------

    def test_table_class(self):
        plain, _ = self.create()
        self.assertNotIn("TableClassSummary", self.describe(plain))
        name, out = self.create(TableClass="STANDARD_INFREQUENT_ACCESS")
        self.assertEqual(out["TableClassSummary"], {"TableClass": "STANDARD_INFREQUENT_ACCESS"})
        self.assertEqual(self.describe(name)["TableClassSummary"],
                         {"TableClass": "STANDARD_INFREQUENT_ACCESS"})
        out = self.ddb.update_table(TableName=name, TableClass="STANDARD")["TableDescription"]
        self.assertEqual(out["TableStatus"], "UPDATING")
        got = self.describe(name)["TableClassSummary"]
        self.assertEqual(got["TableClass"], "STANDARD")
        self.assertIn("LastUpdateDateTime", got)  # set by UpdateTable only

    def test_table_class_unknown(self):
        wrong = "Invalid table-class parameter provided. Please try again with a valid " \
                "table-class value: \\[STANDARD, STANDARD_INFREQUENT_ACCESS\\]."
        name = self.name()
        for tc in ("infrequent", "standard"):
            self.assertRefused("ValidationException", wrong, self.ddb.create_table,
                               TableName=name, KeySchema=HASH, AttributeDefinitions=HASH_S,
                               BillingMode="PAY_PER_REQUEST", TableClass=tc)
        self.assertNotIn(name, self.ddb.list_tables()["TableNames"])
        name, _ = self.create(TableClass="STANDARD_INFREQUENT_ACCESS")
        self.assertRefused("ValidationException", wrong, self.ddb.update_table, TableName=name,
                           TableClass="ARCHIVE")
        self.assertEqual(self.describe(name)["TableClassSummary"],
                         {"TableClass": "STANDARD_INFREQUENT_ACCESS"})

    # -- WarmThroughput -----------------------------------------------------------

    def test_warm_throughput_baseline(self):
        name, out = self.create()
        base = {"ReadUnitsPerSecond": 12000, "WriteUnitsPerSecond": 4000, "Status": "ACTIVE"}
        self.assertEqual(out["WarmThroughput"], base)
        self.assertEqual(self.describe(name)["WarmThroughput"], base)

    def test_warm_throughput_raised(self):
        name, out = self.create(WarmThroughput={"ReadUnitsPerSecond": 15000})
        self.assertEqual(out["WarmThroughput"], {"ReadUnitsPerSecond": 15000,
                                                 "WriteUnitsPerSecond": 4000,
                                                 "Status": "ACTIVE"})
        # an UpdateTable carrying nothing else is a change of its own
        self.ddb.update_table(TableName=name, WarmThroughput={"WriteUnitsPerSecond": 9000})
        self.assertEqual(self.describe(name)["WarmThroughput"],
                         {"ReadUnitsPerSecond": 15000, "WriteUnitsPerSecond": 9000,
                          "Status": "ACTIVE"})

    def test_warm_throughput_refused(self):
        name = self.name()
        for units, which in (({"ReadUnitsPerSecond": 500, "WriteUnitsPerSecond": 4000},
                              "ReadUnitsPerSecond"),
                             ({"WriteUnitsPerSecond": 0}, "WriteUnitsPerSecond")):
            self.assertRefused("ValidationException", which + ".* lower than the minimum",
                               self.ddb.create_table, TableName=name, KeySchema=HASH,
                               AttributeDefinitions=HASH_S, BillingMode="PAY_PER_REQUEST",
                               WarmThroughput=units)
        self.assertNotIn(name, self.ddb.list_tables()["TableNames"])
        name, _ = self.create(WarmThroughput={"ReadUnitsPerSecond": 20000,
                                              "WriteUnitsPerSecond": 6000})
        self.assertRefused("ValidationException",
                           "WriteUnitsPerSecond .* lower than current WarmThroughput",
                           self.ddb.update_table, TableName=name,
                           WarmThroughput={"ReadUnitsPerSecond": 25000,
                                           "WriteUnitsPerSecond": 5000})
        self.assertRefused("ValidationException", "WarmThroughput needs", self.ddb.update_table,
                           TableName=name, WarmThroughput={})
        # neither unit moved, though the read one alone was acceptable
        self.assertEqual(self.describe(name)["WarmThroughput"],
                         {"ReadUnitsPerSecond": 20000, "WriteUnitsPerSecond": 6000,
                          "Status": "ACTIVE"})
    def test_index_warm_throughput_and_maximums(self):
        defs = HASH_S + [{"AttributeName": "zone", "AttributeType": "S"},
                         {"AttributeName": "depot", "AttributeType": "S"}]
        name, out = self.create(
            AttributeDefinitions=defs[:2],
            GlobalSecondaryIndexes=[{"IndexName": "by-zone",
                                     "KeySchema": [{"AttributeName": "zone", "KeyType": "HASH"}],
                                     "Projection": {"ProjectionType": "KEYS_ONLY"},
                                     "WarmThroughput": {"WriteUnitsPerSecond": 4500},
                                     "OnDemandThroughput": {"MaxWriteRequestUnits": 90}}])
        for gsi in (out["GlobalSecondaryIndexes"][0],
                    self.describe(name)["GlobalSecondaryIndexes"][0]):
            self.assertEqual(gsi["WarmThroughput"], {"ReadUnitsPerSecond": 12000,
                                                     "WriteUnitsPerSecond": 4500,
                                                     "Status": "ACTIVE"})
            self.assertEqual(gsi["OnDemandThroughput"], {"MaxReadRequestUnits": -1,
                                                         "MaxWriteRequestUnits": 90})
        self.assertRefused("ValidationException", "ReadUnitsPerSecond .* lower than the minimum",
                           self.ddb.update_table, TableName=name, AttributeDefinitions=defs,
                           GlobalSecondaryIndexUpdates=[{"Create": {
                               "IndexName": "by-depot",
                               "KeySchema": [{"AttributeName": "depot", "KeyType": "HASH"}],
                               "Projection": {"ProjectionType": "ALL"},
                               "WarmThroughput": {"ReadUnitsPerSecond": 100}}}])
        self.ddb.update_table(TableName=name, AttributeDefinitions=defs,
                              GlobalSecondaryIndexUpdates=[{"Create": {
                                  "IndexName": "by-depot",
                                  "KeySchema": [{"AttributeName": "depot", "KeyType": "HASH"}],
                                  "Projection": {"ProjectionType": "ALL"}}}])
        got = {g["IndexName"]: g for g in self.describe(name)["GlobalSecondaryIndexes"]}
        self.assertEqual(got["by-depot"]["WarmThroughput"]["ReadUnitsPerSecond"], 12000)
        self.assertNotIn("OnDemandThroughput", got["by-depot"])
        # an index's Update raises its warm throughput and sets its maximums, never lowers
        self.ddb.update_table(TableName=name, GlobalSecondaryIndexUpdates=[{"Update": {
            "IndexName": "by-depot", "WarmThroughput": {"ReadUnitsPerSecond": 16000},
            "OnDemandThroughput": {"MaxReadRequestUnits": 300}}}])
        self.assertRefused("ValidationException", "lower than current WarmThroughput",
                           self.ddb.update_table, TableName=name,
                           GlobalSecondaryIndexUpdates=[{"Update": {
                               "IndexName": "by-zone",
                               "OnDemandThroughput": {"MaxReadRequestUnits": 50},
                               "WarmThroughput": {"WriteUnitsPerSecond": 4100}}}])
        got = {g["IndexName"]: g for g in self.describe(name)["GlobalSecondaryIndexes"]}
        self.assertEqual(got["by-depot"]["WarmThroughput"]["ReadUnitsPerSecond"], 16000)
        self.assertEqual(got["by-depot"]["OnDemandThroughput"],
                         {"MaxReadRequestUnits": 300, "MaxWriteRequestUnits": -1})
        self.assertEqual(got["by-zone"]["OnDemandThroughput"]["MaxReadRequestUnits"], -1)
        self.assertEqual(got["by-zone"]["WarmThroughput"]["WriteUnitsPerSecond"], 4500)


    # -- SSESpecification, OnDemandThroughput -------------------------------------

    def test_encryption_with_a_kms_key(self):
        plain, _ = self.create(SSESpecification={"Enabled": False})
        self.assertNotIn("SSEDescription", self.describe(plain))
        name, out = self.create(SSESpecification={"Enabled": True})
        managed = out["SSEDescription"]
        self.assertEqual(managed["Status"], "ENABLED")
        self.assertEqual(managed["SSEType"], "KMS")
        self.assertRegex(managed["KMSMasterKeyArn"],
                         r"^arn:aws:kms:us-east-1:\d{12}:key/[-0-9a-f]{36}$")
        self.assertEqual(self.describe(name)["SSEDescription"], managed)
        # UpdateTable changes the key, then goes back to the service's own key
        mine = "arn:aws:kms:us-east-1:111122223333:key/0b5e0c47-3a5b-4c5e-9e39-6a3a1c1a2b3c"
        out = self.ddb.update_table(TableName=name,
                                    SSESpecification={"Enabled": True, "SSEType": "KMS",
                                                      "KMSMasterKeyId": mine})["TableDescription"]
        self.assertEqual(out["TableStatus"], "UPDATING")
        self.assertEqual(self.describe(name)["SSEDescription"]["KMSMasterKeyArn"], mine)
        self.assertRefused("ValidationException", "KMSMasterKeyId can only be specified",
                           self.ddb.update_table, TableName=name,
                           SSESpecification={"Enabled": False, "KMSMasterKeyId": mine})
        self.assertRefused("ValidationException", r"enum value set: \[AES256, KMS\]",
                           self.ddb.update_table, TableName=name,
                           SSESpecification={"Enabled": True, "SSEType": "RSA"})
        self.assertEqual(self.describe(name)["SSEDescription"]["KMSMasterKeyArn"], mine)
        # a key id longer than KMS takes (2048) is refused with the length wording
        self.assertRefused("ValidationException",
                           r"at 'sSESpecification.kMSMasterKeyId' failed to satisfy constraint: "
                           r"Member must have length less than or equal to 2048$",
                           self.ddb.update_table, TableName=name,
                           SSESpecification={"Enabled": True, "SSEType": "KMS",
                                             "KMSMasterKeyId": "alias/" + "k" * 2043})
        self.assertEqual(self.describe(name)["SSEDescription"]["KMSMasterKeyArn"], mine)
        # turning SSE off answers the key being left, UPDATING (as DynamoDB
        # does), and the table is then described without SSEDescription
        out = self.ddb.update_table(TableName=name, SSESpecification={"Enabled": False})
        self.assertEqual(out["TableDescription"]["SSEDescription"],
                         {"Status": "UPDATING", "SSEType": "KMS", "KMSMasterKeyArn": mine})
        self.assertNotIn("SSEDescription", self.describe(name))
        out = self.ddb.update_table(TableName=plain, SSESpecification={"Enabled": False})
        self.assertNotIn("SSEDescription", out["TableDescription"])

    def test_on_demand_maximums(self):
        name, out = self.create(OnDemandThroughput={"MaxReadRequestUnits": 250})
        self.assertEqual(out["OnDemandThroughput"],
                         {"MaxReadRequestUnits": 250, "MaxWriteRequestUnits": -1})
        self.ddb.update_table(TableName=name, OnDemandThroughput={"MaxWriteRequestUnits": 40})
        self.assertEqual(self.describe(name)["OnDemandThroughput"],
                         {"MaxReadRequestUnits": 250, "MaxWriteRequestUnits": 40})
        for bad, said in (({"MaxReadRequestUnits": 0}, "MaxReadRequestUnits must be -1"),
                          ({"MaxReadRequestUnits": 9, "MaxWriteRequestUnits": -5},
                           "MaxWriteRequestUnits must be -1"),
                          ({}, "OnDemandThroughput needs")):
            self.assertRefused("ValidationException", said, self.ddb.update_table,
                               TableName=name, OnDemandThroughput=bad)
        self.assertEqual(self.describe(name)["OnDemandThroughput"],
                         {"MaxReadRequestUnits": 250, "MaxWriteRequestUnits": 40})
        self.ddb.update_table(TableName=name, OnDemandThroughput={"MaxReadRequestUnits": -1})
        self.assertEqual(self.describe(name)["OnDemandThroughput"]["MaxReadRequestUnits"], -1)

    # -- a table's ARN in TableName -------------------------------------------------

    def test_table_arn_as_name(self):
        name, out = self.create()
        arn = out["TableArn"]
        self.assertEqual(self.ddb.describe_table(TableName=arn)["Table"]["TableName"], name)
        self.ddb.put_item(TableName=arn, Item={"id": {"S": "crate-9"}, "kg": {"N": "12"}})
        got = self.ddb.get_item(TableName=name, Key={"id": {"S": "crate-9"}})["Item"]
        self.assertEqual(got["kg"], {"N": "12"})
        self.ddb.update_table(TableName=arn, DeletionProtectionEnabled=True)
        self.assertTrue(self.describe(name)["DeletionProtectionEnabled"])
        self.ddb.update_table(TableName=arn, DeletionProtectionEnabled=False)
        # another region's table is not this region's, even with the same name
        elsewhere = arn.replace(":us-east-1:", ":eu-west-3:")
        self.assertRefused("ResourceNotFoundException", "not found", self.ddb.put_item,
                           TableName=elsewhere, Item={"id": {"S": "crate-10"}})
        self.assertRefused("ResourceNotFoundException", "not found", self.ddb.delete_table,
                           TableName=elsewhere)
        self.assertEqual(self.ddb.scan(TableName=name)["Count"], 1)
        # CreateTable takes a name only
        self.assertRefused("ValidationException", "tableName", self.ddb.create_table,
                           TableName=arn.replace(name, self.name()), KeySchema=HASH,
                           AttributeDefinitions=HASH_S, BillingMode="PAY_PER_REQUEST")
        self.assertEqual(self.ddb.delete_table(TableName=arn)["TableDescription"]["TableName"],
                         name)
        self.assertNotIn(name, self.ddb.list_tables()["TableNames"])

    # -- ProvisionedThroughput changes ----------------------------------------------

    def test_throughput_increases_and_decreases(self):
        name, out = self.create(BillingMode="PROVISIONED",
                                ProvisionedThroughput={"ReadCapacityUnits": 8,
                                                       "WriteCapacityUnits": 4})
        self.assertEqual(out["ProvisionedThroughput"], {"NumberOfDecreasesToday": 0,
                                                        "ReadCapacityUnits": 8,
                                                        "WriteCapacityUnits": 4})
        self.ddb.update_table(TableName=name, ProvisionedThroughput={"ReadCapacityUnits": 20,
                                                                     "WriteCapacityUnits": 4})
        got = self.describe(name)["ProvisionedThroughput"]
        self.assertIn("LastIncreaseDateTime", got)
        self.assertNotIn("LastDecreaseDateTime", got)
        self.assertEqual(got["NumberOfDecreasesToday"], 0)
        for r, w in ((20, 2), (6, 2)):
            self.ddb.update_table(TableName=name,
                                  ProvisionedThroughput={"ReadCapacityUnits": r,
                                                         "WriteCapacityUnits": w})
        got = self.describe(name)["ProvisionedThroughput"]
        self.assertEqual((got["ReadCapacityUnits"], got["WriteCapacityUnits"]), (6, 2))
        self.assertIn(got["NumberOfDecreasesToday"], (1, 2))  # 1 if a UTC day began between
        self.assertGreaterEqual(got["LastDecreaseDateTime"], got["LastIncreaseDateTime"])


if __name__ == "__main__":
    unittest.main()
