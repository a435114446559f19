"""DynamoDB on-demand backups and point-in-time recovery through boto3 and the
aws CLI v2: CreateBackup / DescribeBackup / ListBackups / DeleteBackup /
RestoreTableFromBackup, UpdateContinuousBackups / DescribeContinuousBackups /
RestoreTableToPointInTime; restores bring back items and indexes, a backup
outlives its table, PITR history survives a restart and is trimmed past the
recovery period (a short 'day' through TANDEM_DDB_PITR_DAY_SECONDS)."""

import json
import threading
import math
import os
import re
import shutil
import subprocess
import time
import unittest
import uuid

from repl_helpers import deployment, wait_until
from tandem_harness import ServerTestCase

AWS_V2 = "/usr/bin/aws"


def schema(name, gsi=False, lsi=False):
    kw = dict(TableName=name,
              AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                    {"AttributeName": "sk", "AttributeType": "N"}],
              KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                         {"AttributeName": "sk", "KeyType": "RANGE"}],
              BillingMode="PAY_PER_REQUEST")
    if gsi:
        kw["AttributeDefinitions"].append({"AttributeName": "color", "AttributeType": "S"})
        kw["GlobalSecondaryIndexes"] = [{
            "IndexName": "by-color",
            "KeySchema": [{"AttributeName": "color", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"}}]
    if lsi:
        kw["AttributeDefinitions"].append({"AttributeName": "size", "AttributeType": "N"})
        kw["LocalSecondaryIndexes"] = [{
            "IndexName": "by-size",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                          {"AttributeName": "size", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"}}]
    return kw


def settle(client, poller=None):
    """CreateBackup and the restores answer at once (BackupStatus CREATING,
    TableStatus CREATING) and copy in the background: after each such call,
    @client waits as a user would until the backup is AVAILABLE or the table
    ACTIVE (polled through @poller, which may describe them)."""
    poller = poller or client

    def backup(parsed, **_):
        arn = parsed.get("BackupDetails", {}).get("BackupArn")
        if arn:
            wait_until(lambda: poller.describe_backup(BackupArn=arn)["BackupDescription"]
                       ["BackupDetails"]["BackupStatus"] == "AVAILABLE", what="backup " + arn)

    def table(parsed, **_):
        name = parsed.get("TableDescription", {}).get("TableName")
        if name:
            wait_until(lambda: poller.describe_table(TableName=name)["Table"]["TableStatus"]
                       == "ACTIVE", what="restore of " + name)

    client.meta.events.register("after-call.dynamodb.CreateBackup", backup)
    client.meta.events.register("after-call.dynamodb.RestoreTableFromBackup", table)
    client.meta.events.register("after-call.dynamodb.RestoreTableToPointInTime", table)
    return client


class Base(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ddb = settle(cls.server.boto3())

    def new_table(self, **kw):
        name = "bk-" + uuid.uuid4().hex[:10]
        self.ddb.create_table(**schema(name, **kw))
        return name

    @staticmethod
    def boundary():
        """A whole second between the writes before this call and those after
        it (the SDKs send RestoreDateTime in whole seconds)."""
        t = math.floor(time.time()) + 1
        while time.time() < t + 0.02:
            time.sleep(0.01)
        return t

    def err(self, fn, **kw):
        with self.assertRaises(self.ddb.exceptions.ClientError) as cm:
            fn(**kw)
        e = cm.exception.response
        return e["Error"]["Code"], e["Error"]["Message"]

    def items(self, table):
        out = self.ddb.scan(TableName=table, ConsistentRead=True)["Items"]
        return sorted(out, key=lambda i: (i["pk"]["S"], int(i["sk"]["N"])))

    def color(self, table, color):
        out = self.ddb.query(TableName=table, IndexName="by-color",
                             KeyConditionExpression="color = :c",
                             ExpressionAttributeValues={":c": {"S": color}})["Items"]
        return sorted((i["pk"]["S"], int(i["sk"]["N"])) for i in out)

    def put(self, table, pk, sk, color=None, **more):
        item = {"pk": {"S": pk}, "sk": {"N": str(sk)}}
        if color:
            item["color"] = {"S": color}
        for k, v in more.items():
            item[k] = {"S": v}
        self.ddb.put_item(TableName=table, Item=item)

    def delete(self, table, pk, sk):
        self.ddb.delete_item(TableName=table, Key={"pk": {"S": pk}, "sk": {"N": str(sk)}})


class Backups(Base):
    def test_backup_delete_items_restore(self):
        t = self.new_table(gsi=True, lsi=True)
        for i in range(5):
            self.put(t, "p%d" % (i % 2), i, color="red" if i % 2 else "blue", note="n%d" % i)
        self.ddb.update_item(TableName=t, Key={"pk": {"S": "p0"}, "sk": {"N": "0"}},
                             UpdateExpression="SET #s = :s",
                             ExpressionAttributeNames={"#s": "size"},
                             ExpressionAttributeValues={":s": {"N": "7"}})
        before = self.items(t)
        d = self.ddb.create_backup(TableName=t, BackupName="nightly-1")["BackupDetails"]
        arn = d["BackupArn"]
        self.assertRegex(arn, r"^arn:aws:dynamodb:us-east-1:123456789012:table/%s/backup/"
                              r"\d{13}-[0-9a-f]{8}$" % re.escape(t))
        self.assertEqual(d["BackupStatus"], "CREATING")  # answered before the copy
        self.assertEqual(d["BackupType"], "USER")
        self.assertEqual(d["BackupName"], "nightly-1")
        self.assertGreater(self.ddb.describe_backup(BackupArn=arn)["BackupDescription"]
                           ["BackupDetails"]["BackupSizeBytes"], 0)
        self.assertLess(abs(d["BackupCreationDateTime"].timestamp() - time.time()), 60)
        # later writes are not in the backup
        for i in range(5):
            self.delete(t, "p%d" % (i % 2), i)
        self.put(t, "late", 1, color="red")
        desc = self.ddb.describe_backup(BackupArn=arn)["BackupDescription"]
        src = desc["SourceTableDetails"]
        self.assertEqual(src["TableName"], t)
        self.assertEqual(src["ItemCount"], 5)
        self.assertEqual(src["BillingMode"], "PAY_PER_REQUEST")
        self.assertEqual(src["KeySchema"][0], {"AttributeName": "pk", "KeyType": "HASH"})
        self.assertIn("ProvisionedThroughput", src)
        feat = desc["SourceTableFeatureDetails"]
        self.assertEqual([g["IndexName"] for g in feat["GlobalSecondaryIndexes"]], ["by-color"])
        self.assertEqual([g["IndexName"] for g in feat["LocalSecondaryIndexes"]], ["by-size"])
        self.assertEqual(feat["TimeToLiveDescription"], {"TimeToLiveStatus": "DISABLED"})
        # restore into a new table: the backup's items and indexes
        r = t + "-r"
        td = self.ddb.restore_table_from_backup(TargetTableName=r,
                                                BackupArn=arn)["TableDescription"]
        self.assertEqual(td["TableName"], r)
        self.assertEqual(td["RestoreSummary"]["SourceBackupArn"], arn)
        self.assertTrue(td["RestoreSummary"]["RestoreInProgress"])
        self.assertEqual(td["TableStatus"], "CREATING")
        self.assertFalse(self.ddb.describe_table(TableName=r)["Table"]["RestoreSummary"]
                         ["RestoreInProgress"])
        self.assertEqual(self.items(r), before)
        self.assertEqual(self.color(r, "red"), [("p1", 1), ("p1", 3)])
        out = self.ddb.query(TableName=r, IndexName="by-size",
                             KeyConditionExpression="pk = :p AND #s > :z",
                             ExpressionAttributeNames={"#s": "size"},
                             ExpressionAttributeValues={":p": {"S": "p0"}, ":z": {"N": "0"}})
        self.assertEqual(out["Count"], 1)
        dt = self.ddb.describe_table(TableName=r)["Table"]
        self.assertEqual(dt["ItemCount"], 5)
        self.assertEqual(dt["RestoreSummary"]["SourceTableArn"].split("/")[-1], t)
        # the restored table is an ordinary table
        self.put(r, "new", 1, color="red")
        self.assertEqual(len(self.items(r)), 6)
        # restoring into an existing name fails and changes nothing
        self.assertEqual(self.err(self.ddb.restore_table_from_backup, TargetTableName=t,
                                  BackupArn=arn)[0], "TableAlreadyExistsException")
        self.assertEqual(len(self.items(t)), 1)

    def test_backup_survives_delete_table_and_list(self):
        t = self.new_table()
        for i in range(3):
            self.put(t, "a", i)
        arn1 = self.ddb.create_backup(TableName=t, BackupName="one")["BackupDetails"]["BackupArn"]
        time.sleep(0.01)
        table_arn = self.ddb.describe_table(TableName=t)["Table"]["TableArn"]
        arn2 = self.ddb.create_backup(TableName=table_arn,
                                      BackupName="two")["BackupDetails"]["BackupArn"]
        self.ddb.delete_table(TableName=t)
        self.assertEqual(self.err(self.ddb.create_backup, TableName=t, BackupName="three")[0],
                         "TableNotFoundException")
        lst = self.ddb.list_backups(TableName=t)["BackupSummaries"]
        self.assertEqual(sorted(b["BackupArn"] for b in lst), sorted([arn1, arn2]))
        self.assertEqual({b["TableName"] for b in lst}, {t})
        page = self.ddb.list_backups(TableName=t, Limit=1)
        self.assertEqual(len(page["BackupSummaries"]), 1)
        rest = self.ddb.list_backups(TableName=t, Limit=1,
                                     ExclusiveStartBackupArn=page["LastEvaluatedBackupArn"])
        self.assertEqual(len(rest["BackupSummaries"]), 1)
        self.assertNotEqual(rest["BackupSummaries"][0]["BackupArn"],
                            page["BackupSummaries"][0]["BackupArn"])
        future = time.time() + 3600
        self.assertEqual(self.ddb.list_backups(TableName=t, TimeRangeLowerBound=future)
                         ["BackupSummaries"], [])
        self.assertEqual(self.ddb.list_backups(TableName=t, BackupType="SYSTEM")
                         ["BackupSummaries"], [])
        # the table comes back from its backup
        self.ddb.restore_table_from_backup(TargetTableName=t, BackupArn=arn1)
        self.assertEqual(len(self.items(t)), 3)
        gone = self.ddb.delete_backup(BackupArn=arn1)["BackupDescription"]
        self.assertEqual(gone["BackupDetails"]["BackupStatus"], "DELETED")
        for fn in (self.ddb.describe_backup, self.ddb.delete_backup):
            self.assertEqual(self.err(fn, BackupArn=arn1)[0], "BackupNotFoundException")
        self.assertEqual(self.err(self.ddb.restore_table_from_backup, TargetTableName=t + "x",
                                  BackupArn=arn1)[0], "BackupNotFoundException")
        self.ddb.delete_backup(BackupArn=arn2)

    def test_restore_overrides(self):
        t = self.new_table(gsi=True)
        self.put(t, "a", 1, color="red")
        arn = self.ddb.create_backup(TableName=t, BackupName="ovr")["BackupDetails"]["BackupArn"]
        r = t + "-p"
        self.ddb.restore_table_from_backup(
            TargetTableName=r, BackupArn=arn, BillingModeOverride="PROVISIONED",
            ProvisionedThroughputOverride={"ReadCapacityUnits": 3, "WriteCapacityUnits": 4},
            GlobalSecondaryIndexOverride=[],
            SSESpecificationOverride={"Enabled": True, "SSEType": "KMS"})
        dt = self.ddb.describe_table(TableName=r)["Table"]
        self.assertEqual(dt["ProvisionedThroughput"]["ReadCapacityUnits"], 3)
        self.assertEqual(dt.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED"),
                         "PROVISIONED")
        self.assertNotIn("GlobalSecondaryIndexes", dt)
        self.assertEqual(dt["SSEDescription"]["Status"], "ENABLED")
        self.assertEqual(len(self.items(r)), 1)
        # an override CreateTable would refuse is refused, and no table is made
        code, _ = self.err(self.ddb.restore_table_from_backup, TargetTableName=t + "-q",
                           BackupArn=arn, BillingModeOverride="PROVISIONED")
        self.assertEqual(code, "ValidationException")
        self.assertEqual(self.err(self.ddb.describe_table, TableName=t + "-q")[0],
                         "ResourceNotFoundException")

    def test_feature_details_and_provisioned_restore(self):
        t = "bkf-" + uuid.uuid4().hex[:8]
        kw = schema(t, gsi=True, lsi=True)
        del kw["BillingMode"]
        kw["ProvisionedThroughput"] = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 6}
        kw["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"] = {
            "ReadCapacityUnits": 2, "WriteCapacityUnits": 3}
        kw["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
        kw["SSESpecification"] = {"Enabled": True, "SSEType": "KMS"}
        self.ddb.create_table(**kw)
        self.ddb.update_time_to_live(TableName=t, TimeToLiveSpecification={
            "AttributeName": "exp", "Enabled": True})
        self.put(t, "a", 1, color="red")
        arn = self.ddb.create_backup(TableName=t, BackupName="feat")["BackupDetails"]["BackupArn"]
        d = self.ddb.describe_backup(BackupArn=arn)["BackupDescription"]
        self.assertEqual(d["SourceTableDetails"]["BillingMode"], "PROVISIONED")
        self.assertEqual(d["SourceTableDetails"]["ProvisionedThroughput"],
                         {"ReadCapacityUnits": 5, "WriteCapacityUnits": 6})
        f = d["SourceTableFeatureDetails"]
        self.assertEqual(f["StreamDescription"], {"StreamEnabled": True,
                                                  "StreamViewType": "KEYS_ONLY"})
        self.assertEqual(f["TimeToLiveDescription"], {"TimeToLiveStatus": "ENABLED",
                                                      "AttributeName": "exp"})
        self.assertEqual(f["SSEDescription"]["SSEType"], "KMS")
        self.assertEqual(f["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"],
                         {"ReadCapacityUnits": 2, "WriteCapacityUnits": 3})
        self.assertEqual(set(f["LocalSecondaryIndexes"][0]), {"IndexName", "KeySchema",
                                                              "Projection"})
        # the restore keeps billing, throughput and encryption, but no stream or TTL
        r = t + "-r"
        self.ddb.restore_table_from_backup(TargetTableName=r, BackupArn=arn,
                                           LocalSecondaryIndexOverride=[])
        dt = self.ddb.describe_table(TableName=r)["Table"]
        self.assertEqual(dt["ProvisionedThroughput"]["WriteCapacityUnits"], 6)
        self.assertEqual(dt["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"]
                         ["ReadCapacityUnits"], 2)
        self.assertNotIn("LocalSecondaryIndexes", dt)
        self.assertNotIn("StreamSpecification", dt)
        self.assertEqual(dt["SSEDescription"]["SSEType"], "KMS")
        self.assertEqual(self.ddb.describe_time_to_live(TableName=r)["TimeToLiveDescription"],
                         {"TimeToLiveStatus": "DISABLED"})
        self.assertEqual(self.color(r, "red"), [("a", 1)])
        # by the source table's ARN, to the latest time
        self.ddb.update_continuous_backups(TableName=t, PointInTimeRecoverySpecification={
            "PointInTimeRecoveryEnabled": True})
        self.put(t, "b", 2, color="red")
        self.ddb.restore_table_to_point_in_time(SourceTableArn="arn:aws:dynamodb:us-east-1:123456789012:table/" + t,
                                                TargetTableName=t + "-p",
                                                UseLatestRestorableTime=True,
                                                BillingModeOverride="PAY_PER_REQUEST")
        self.assertEqual(self.color(t + "-p", "red"), [("a", 1), ("b", 2)])
        self.assertEqual(self.ddb.describe_table(TableName=t + "-p")["Table"]
                         ["BillingModeSummary"]["BillingMode"], "PAY_PER_REQUEST")

    def test_validation(self):
        t = self.new_table()
        ddb, self.ddb = self.ddb, settle(self.server.boto3(parameter_validation=False))
        self.addCleanup(setattr, self, "ddb", ddb)
        for name in ("ab", "bad name!"):
            self.assertEqual(self.err(self.ddb.create_backup, TableName=t, BackupName=name)[0],
                             "ValidationException")
        self.assertEqual(self.err(self.ddb.describe_backup, BackupArn="short")[0],
                         "ValidationException")
        self.assertEqual(self.err(self.ddb.list_backups, Limit=0)[0], "ValidationException")
        self.assertEqual(self.err(self.ddb.list_backups, Limit=101)[0], "ValidationException")
        missing = "arn:aws:dynamodb:us-east-1:123456789012:table/%s/backup/0000000000000-00000000" % t
        self.assertEqual(self.err(self.ddb.describe_backup, BackupArn=missing)[0],
                         "BackupNotFoundException")
        self.assertEqual(self.err(self.ddb.restore_table_from_backup, TargetTableName="x",
                                  BackupArn=missing)[0], "ValidationException")
        self.assertEqual(self.err(self.ddb.create_backup, TableName=t)[0], "ValidationException")
        self.assertEqual(self.err(self.ddb.list_backups, TimeRangeLowerBound=2000000000,
                                  TimeRangeUpperBound=1000000000)[0], "ValidationException")


class PointInTime(Base):
    def test_describe_and_update(self):
        t = self.new_table()
        ddb, self.ddb = self.ddb, settle(self.server.boto3(parameter_validation=False))
        self.addCleanup(setattr, self, "ddb", ddb)
        d = self.ddb.describe_continuous_backups(TableName=t)["ContinuousBackupsDescription"]
        # backups are on for every table; PITR is off until turned on
        self.assertEqual(d, {"ContinuousBackupsStatus": "ENABLED",
                             "PointInTimeRecoveryDescription":
                                 {"PointInTimeRecoveryStatus": "DISABLED"}})
        arn = self.ddb.describe_table(TableName=t)["Table"]["TableArn"]
        self.assertEqual(self.ddb.describe_continuous_backups(TableName=arn)
                         ["ContinuousBackupsDescription"], d)
        self.assertEqual(self.err(self.ddb.describe_continuous_backups,
                                  TableName=t + "-none")[0], "TableNotFoundException")
        self.assertEqual(self.err(self.ddb.update_continuous_backups, TableName=t + "-none",
                                  PointInTimeRecoverySpecification={
                                      "PointInTimeRecoveryEnabled": True})[0],
                         "TableNotFoundException")
        for spec in (None, {}, {"PointInTimeRecoveryEnabled": False,
                                "RecoveryPeriodInDays": 3}):
            kw = {"PointInTimeRecoverySpecification": spec} if spec is not None else {}
            self.assertEqual(self.err(self.ddb.update_continuous_backups, TableName=t, **kw)[0],
                             "ValidationException")
        self.assertEqual(self.err(self.ddb.restore_table_to_point_in_time, SourceTableName=t,
                                  TargetTableName=t + "-x", UseLatestRestorableTime=True,
                                  RestoreDateTime=time.time())[0], "ValidationException")
        for days in (0, 36):
            self.assertEqual(self.err(self.ddb.update_continuous_backups, TableName=t,
                                      PointInTimeRecoverySpecification={
                                          "PointInTimeRecoveryEnabled": True,
                                          "RecoveryPeriodInDays": days})[0],
                             "ValidationException")
        out = self.ddb.update_continuous_backups(
            TableName=t, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
        p = out["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
        self.assertEqual(p["PointInTimeRecoveryStatus"], "ENABLED")
        self.assertEqual(p["RecoveryPeriodInDays"], 35)
        self.assertLessEqual(p["EarliestRestorableDateTime"], p["LatestRestorableDateTime"])
        out = self.ddb.update_continuous_backups(
            TableName=t, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True,
                                                           "RecoveryPeriodInDays": 7})
        self.assertEqual(out["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
                         ["RecoveryPeriodInDays"], 7)
        self.assertEqual(self.err(self.ddb.restore_table_to_point_in_time,
                                  SourceTableName=t, TargetTableName=t + "-x")[0],
                         "ValidationException")
        self.assertEqual(self.err(self.ddb.restore_table_to_point_in_time,
                                  SourceTableName=t, SourceTableArn=arn,
                                  TargetTableName=t + "-x", UseLatestRestorableTime=True)[0],
                         "ValidationException")
        self.assertEqual(self.err(self.ddb.restore_table_to_point_in_time,
                                  SourceTableName=t, TargetTableName=t + "-x",
                                  RestoreDateTime=time.time() - 3600)[0],
                         "InvalidRestoreTimeException")
        self.ddb.update_continuous_backups(
            TableName=t, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False})
        self.assertEqual(self.err(self.ddb.restore_table_to_point_in_time,
                                  SourceTableName=t, TargetTableName=t + "-x",
                                  UseLatestRestorableTime=True)[0],
                         "PointInTimeRecoveryUnavailableException")
        self.assertEqual(self.err(self.ddb.restore_table_to_point_in_time,
                                  SourceTableName=t + "-none", TargetTableName=t + "-x",
                                  UseLatestRestorableTime=True)[0],
                         "TableNotFoundException")

    def test_restore_to_point_in_time(self):
        t = self.new_table(gsi=True)
        self.put(t, "early", 1, color="red")  # before PITR: part of the base state
        self.ddb.update_continuous_backups(
            TableName=t, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
        for i in range(6):
            self.put(t, "k", i, color="red" if i % 2 else "blue", v="first")
        self.ddb.batch_write_item(RequestItems={t: [
            {"PutRequest": {"Item": {"pk": {"S": "b"}, "sk": {"N": "1"},
                                     "color": {"S": "blue"}}}}]})
        at_t = self.items(t)
        red_t, blue_t = self.color(t, "red"), self.color(t, "blue")
        when = self.boundary()
        # later: overwrites, deletes, new items, an update, a transaction
        self.put(t, "k", 0, color="red", v="second")
        self.put(t, "k", 0, color="green", v="third")
        self.delete(t, "k", 1)
        self.delete(t, "early", 1)
        self.put(t, "k", 99, color="blue")
        self.ddb.update_item(TableName=t, Key={"pk": {"S": "k"}, "sk": {"N": "2"}},
                             UpdateExpression="SET color = :c",
                             ExpressionAttributeValues={":c": {"S": "red"}})
        self.ddb.transact_write_items(TransactItems=[
            {"Delete": {"TableName": t, "Key": {"pk": {"S": "k"}, "sk": {"N": "3"}}}},
            {"Put": {"TableName": t, "Item": {"pk": {"S": "t"}, "sk": {"N": "1"}}}}])
        now_items = self.items(t)
        self.assertNotEqual(now_items, at_t)
        # a restart between the writes and the restore
        self.server.stop()
        self.server.start()
        self.ddb = settle(self.server.boto3())
        r = t + "-t"
        td = self.ddb.restore_table_to_point_in_time(
            SourceTableName=t, TargetTableName=r, RestoreDateTime=when)["TableDescription"]
        self.assertAlmostEqual(td["RestoreSummary"]["RestoreDateTime"].timestamp(), when,
                               delta=0.01)
        self.assertEqual(self.items(r), at_t)
        self.assertEqual(self.color(r, "red"), red_t)
        self.assertEqual(self.color(r, "blue"), blue_t)
        self.assertEqual(self.color(r, "green"), [])
        self.assertEqual(self.ddb.describe_table(TableName=r)["Table"]["ItemCount"], len(at_t))
        # the restored table is plain: no PITR of its own
        self.assertEqual(self.ddb.describe_continuous_backups(TableName=r)
                         ["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"],
                         {"PointInTimeRecoveryStatus": "DISABLED"})
        # the latest restorable time gives the table as it is
        r2 = t + "-l"
        self.ddb.restore_table_to_point_in_time(SourceTableName=t, TargetTableName=r2,
                                                UseLatestRestorableTime=True)
        self.assertEqual(self.items(r2), now_items)
        self.assertEqual(self.err(self.ddb.restore_table_to_point_in_time, SourceTableName=t,
                                  TargetTableName=r2, UseLatestRestorableTime=True)[0],
                         "TableAlreadyExistsException")
        # deleting a table with PITR leaves a SYSTEM backup of it
        self.ddb.delete_table(TableName=t)
        sys_b = self.ddb.list_backups(TableName=t, BackupType="SYSTEM")["BackupSummaries"]
        self.assertEqual(len(sys_b), 1)
        self.assertEqual(sys_b[0]["BackupType"], "SYSTEM")
        r3 = t + "-s"
        self.ddb.restore_table_from_backup(TargetTableName=r3, BackupArn=sys_b[0]["BackupArn"])
        self.assertEqual(self.items(r3), now_items)
        self.assertEqual(self.err(self.ddb.restore_table_to_point_in_time, SourceTableName=t,
                                  TargetTableName=t + "-z", UseLatestRestorableTime=True)[0],
                         "TableNotFoundException")

    def test_cli_v2(self):
        if not os.path.exists(AWS_V2):
            self.skipTest("no aws CLI v2")
        t = self.new_table()
        self.put(t, "a", 1)

        def cli(*args):
            p = subprocess.run([AWS_V2, "--endpoint-url", self.server.url(), "--output", "json",
                                "dynamodb"] + list(args), env=self.server.env(False),
                               stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
            self.assertEqual(p.returncode, 0, p.stderr)
            return json.loads(p.stdout) if p.stdout.strip() else {}

        made = cli("create-backup", "--table-name", t, "--backup-name", "cli-b")["BackupDetails"]
        self.assertEqual(made["BackupStatus"], "CREATING")
        arn = made["BackupArn"]
        wait_until(lambda: cli("describe-backup", "--backup-arn", arn)["BackupDescription"]
                   ["BackupDetails"]["BackupStatus"] == "AVAILABLE", what="backup")
        cli("update-continuous-backups", "--table-name", t,
            "--point-in-time-recovery-specification", "PointInTimeRecoveryEnabled=true")
        self.put(t, "a", 0)
        when = self.boundary()
        self.put(t, "a", 2)
        out = cli("restore-table-to-point-in-time", "--source-table-name", t,
                  "--target-table-name", t + "-c", "--restore-date-time", str(when))
        self.assertEqual(out["TableDescription"]["TableName"], t + "-c")
        self.assertEqual(out["TableDescription"]["TableStatus"], "CREATING")
        cli("wait", "table-exists", "--table-name", t + "-c")  # ACTIVE once filled
        self.assertEqual([i["sk"]["N"] for i in self.items(t + "-c")], ["0", "1"])
        cli("restore-table-from-backup", "--target-table-name", t + "-d", "--backup-arn", arn)
        cli("wait", "table-exists", "--table-name", t + "-d")
        self.assertEqual(len(self.items(t + "-d")), 1)


class Authz(Base):
    """Each action is checked on the table's ARN or the backup's, as IAM
    documents them (ListBackups on "*")."""

    def user(self, doc):
        iam = self.server.boto3("iam")
        name = "u" + uuid.uuid4().hex[:8]
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(doc))
        k = iam.create_access_key(UserName=name)["AccessKey"]
        return settle(self.server.boto3(access_key=k["AccessKeyId"],
                                        secret_key=k["SecretAccessKey"]), self.ddb)

    def denied(self, fn, **kw):
        self.assertEqual(self.err(fn, **kw)[0], "AccessDeniedException")

    def test_actions_and_resources(self):
        a, b = self.new_table(), self.new_table()
        arn_a = "arn:aws:dynamodb:us-east-1:123456789012:table/" + a
        c = self.user({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Resource": arn_a,
             "Action": ["dynamodb:CreateBackup", "dynamodb:UpdateContinuousBackups",
                        "dynamodb:DescribeContinuousBackups",
                        "dynamodb:RestoreTableToPointInTime"]},
            {"Effect": "Allow", "Resource": arn_a + "/backup/*",
             "Action": "dynamodb:DescribeBackup"},
            {"Effect": "Allow", "Resource": "*", "Action": "dynamodb:ListBackups"},
            {"Effect": "Allow", "Resource": arn_a + "-p",
             "Action": ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
                        "dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan",
                        "dynamodb:BatchWriteItem"]}]})
        bk = c.create_backup(TableName=a, BackupName="mine")["BackupDetails"]["BackupArn"]
        c.describe_backup(BackupArn=bk)
        self.assertEqual(len(c.list_backups(TableName=a)["BackupSummaries"]), 1)
        c.update_continuous_backups(TableName=arn_a, PointInTimeRecoverySpecification={
            "PointInTimeRecoveryEnabled": True})
        c.describe_continuous_backups(TableName=a)
        c.restore_table_to_point_in_time(SourceTableName=a, TargetTableName=a + "-p",
                                         UseLatestRestorableTime=True)
        # a restore also needs read and write actions on its target table
        self.denied(c.restore_table_to_point_in_time, SourceTableName=a,
                    TargetTableName=a + "-q", UseLatestRestorableTime=True)
        self.denied(c.create_backup, TableName=b, BackupName="theirs")
        self.denied(c.describe_continuous_backups, TableName=b)
        self.denied(c.update_continuous_backups, TableName=b,
                    PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
        self.denied(c.restore_table_to_point_in_time, SourceTableName=b,
                    TargetTableName=b + "-p", UseLatestRestorableTime=True)
        self.denied(c.delete_backup, BackupArn=bk)
        self.denied(c.restore_table_from_backup, TargetTableName=a + "-r", BackupArn=bk)
        self.ddb.delete_backup(BackupArn=bk)


class GlobalTable(unittest.TestCase):
    """Backups and PITR are per region: the replica's region records the
    changes that arrive from the other region, and restores a plain table."""

    @classmethod
    def setUpClass(cls):
        cls.east, cls.west = deployment(["us-east-1", "us-west-2"], start=False)
        cls.addClassCleanup(cls.east.cleanup)
        cls.addClassCleanup(cls.west.cleanup)
        cls.east.start()
        cls.west.start()
        cls.e = settle(cls.east.boto3())
        cls.w = settle(cls.west.boto3())

    @classmethod
    def tearDownClass(cls):
        cls.east.stop()
        cls.west.stop()

    def test_replica_pitr_and_backup(self):
        t = "gbk-" + uuid.uuid4().hex[:8]
        self.e.create_table(TableName=t, BillingMode="PAY_PER_REQUEST",
                            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                            StreamSpecification={"StreamEnabled": True,
                                                 "StreamViewType": "NEW_AND_OLD_IMAGES"})
        # PITR in one region is that region's own: the new replica has none
        self.e.update_continuous_backups(TableName=t, PointInTimeRecoverySpecification={
            "PointInTimeRecoveryEnabled": True})
        self.e.update_table(TableName=t, ReplicaUpdates=[{"Create": {"RegionName": "us-west-2"}}])

        def keys(c, table):
            return sorted((i["pk"]["S"], i.get("v", {}).get("S"))
                          for i in c.scan(TableName=table, ConsistentRead=True)["Items"])

        wait_until(lambda: t in self.w.list_tables()["TableNames"], what="replica")
        self.assertEqual(self.w.describe_continuous_backups(TableName=t)[
            "ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"],
            {"PointInTimeRecoveryStatus": "DISABLED"})
        self.w.update_continuous_backups(TableName=t, PointInTimeRecoverySpecification={
            "PointInTimeRecoveryEnabled": True})
        for i in range(3):
            self.e.put_item(TableName=t, Item={"pk": {"S": "k%d" % i}, "v": {"S": "one"}})
        want = [("k0", "one"), ("k1", "one"), ("k2", "one")]
        wait_until(lambda: keys(self.w, t) == want, what="writes in the replica")
        when = Base.boundary()
        self.e.put_item(TableName=t, Item={"pk": {"S": "k0"}, "v": {"S": "two"}})
        self.e.delete_item(TableName=t, Key={"pk": {"S": "k1"}})
        later = [("k0", "two"), ("k2", "one")]
        wait_until(lambda: keys(self.w, t) == later, what="later writes in the replica")
        td = self.w.restore_table_to_point_in_time(SourceTableName=t, TargetTableName=t + "-r",
                                                   RestoreDateTime=when)["TableDescription"]
        self.assertNotIn("Replicas", td)
        self.assertEqual(keys(self.w, t + "-r"), want)
        self.assertNotIn("Replicas", self.w.describe_table(TableName=t + "-r")["Table"])
        # a backup of the replica holds its live items (deleted ones are not kept)
        arn = self.w.create_backup(TableName=t, BackupName="west")["BackupDetails"]["BackupArn"]
        self.assertIn(":us-west-2:", arn)
        self.w.restore_table_from_backup(TargetTableName=t + "-b", BackupArn=arn)
        self.assertEqual(keys(self.w, t + "-b"), later)
        self.assertEqual(self.e.list_backups(TableName=t)["BackupSummaries"], [])
        self.assertEqual(self.e.describe_table(TableName=t)["Table"]["ItemCount"], 2)
        self.assertNotIn(t + "-r", self.e.list_tables()["TableNames"])
        # the origin's own history restores the same moment
        self.e.restore_table_to_point_in_time(SourceTableName=t, TargetTableName=t + "-e",
                                              RestoreDateTime=when)
        self.assertEqual(keys(self.e, t + "-e"), want)


class Trimming(Base):
    """A 'day' of one second: history past the recovery period goes."""

    @classmethod
    def setUpClass(cls):
        os.environ["TANDEM_DDB_PITR_DAY_SECONDS"] = "1"
        try:
            super().setUpClass()
        finally:
            os.environ.pop("TANDEM_DDB_PITR_DAY_SECONDS", None)

    def test_history_is_trimmed(self):
        t = self.new_table()
        self.ddb.update_continuous_backups(
            TableName=t, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True,
                                                           "RecoveryPeriodInDays": 2})
        self.put(t, "a", 1, v="old")
        t0 = time.time()
        self.put(t, "a", 1, v="newer")
        time.sleep(2.5)
        self.put(t, "a", 2)  # trims what is past the period
        p = self.ddb.describe_continuous_backups(TableName=t)["ContinuousBackupsDescription"]
        earliest = p["PointInTimeRecoveryDescription"]["EarliestRestorableDateTime"].timestamp()
        self.assertGreater(earliest, t0)
        self.assertEqual(self.err(self.ddb.restore_table_to_point_in_time, SourceTableName=t,
                                  TargetTableName=t + "-o", RestoreDateTime=t0)[0],
                         "InvalidRestoreTimeException")
        # a time inside the period still restores exactly
        mid = self.boundary()
        self.delete(t, "a", 1)
        self.ddb.restore_table_to_point_in_time(SourceTableName=t, TargetTableName=t + "-m",
                                                RestoreDateTime=mid)
        got = self.items(t + "-m")
        self.assertEqual([(i["pk"]["S"], i["sk"]["N"], i.get("v", {}).get("S")) for i in got],
                         [("a", "1", "newer"), ("a", "2", None)])


if __name__ == "__main__":
    unittest.main()


def fill(ddb, table, n, prefix="base"):
    """@n items of about 200 bytes, through BatchWriteItem."""
    for start in range(0, n, 25):
        ddb.batch_write_item(RequestItems={table: [
            {"PutRequest": {"Item": {"pk": {"S": "%s-%d" % (prefix, i % 50)},
                                     "sk": {"N": str(i)},
                                     "color": {"S": "red" if i % 3 else "blue"},
                                     "pad": {"S": "x" * 160}}}}
            for i in range(start, min(n, start + 25))]})


class Writer(threading.Thread):
    """PutItems one after another, each with when it was sent and answered."""

    def __init__(self, client, table):
        super().__init__(daemon=True)
        self.client, self.table = client, table
        self.done = threading.Event()
        self.log = []  # (key, sent, answered)

    def run(self):
        i = 0
        deadline = time.monotonic() + 120
        while not self.done.is_set() and time.monotonic() < deadline:
            key = "w-%d" % i
            sent = time.monotonic()
            self.client.put_item(TableName=self.table, Item={
                "pk": {"S": key}, "sk": {"N": "0"}, "color": {"S": "green"}})
            self.log.append((key, sent, time.monotonic()))
            i += 1

    def stop(self):
        self.done.set()
        self.join(30)


class Slow(Base):
    """A server whose backups and restores copy in small pieces with a pause
    after each (TANDEM_DDB_BACKUP_PIECE_ITEMS, TANDEM_DDB_BACKUP_PIECE_PAUSE_MS),
    so a copy of a few thousand items takes long enough to watch."""

    knobs = {}

    @classmethod
    def setUpClass(cls):
        # the server reads them at each start, restarts included
        os.environ.update(cls.knobs)
        cls.addClassCleanup(lambda: [os.environ.pop(k, None) for k in cls.knobs])
        super().setUpClass()
        cls.raw = cls.server.boto3()  # answers as they come, no waiting

    def keys(self, table):
        items, kw = [], {"TableName": table, "ConsistentRead": True}
        for _ in range(1000):
            page = self.raw.scan(**kw)
            items += page["Items"]
            if "LastEvaluatedKey" not in page:
                break
            kw["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return {(i["pk"]["S"], int(i["sk"]["N"])) for i in items}

    def status(self, arn):
        return self.raw.describe_backup(BackupArn=arn)["BackupDescription"]["BackupDetails"][
            "BackupStatus"]



class Pieces(Slow):
    """Pieces of 100 items: other writes are answered all along a backup or
    a restore, CREATING shows meanwhile."""

    knobs = {"TANDEM_DDB_BACKUP_PIECE_ITEMS": "100", "TANDEM_DDB_BACKUP_PIECE_PAUSE_MS": "25"}

    def test_backup_and_restore_while_writing(self):
        t = self.new_table(gsi=True)
        n = 3000
        fill(self.raw, t, n)
        w = Writer(self.server.boto3(), t)
        w.start()
        self.addCleanup(w.stop)
        wait_until(lambda: len(w.log) >= 20, what="writes before the backup")
        sent = time.monotonic()
        d = self.raw.create_backup(TableName=t, BackupName="busy")["BackupDetails"]
        answered = time.monotonic()
        arn = d["BackupArn"]
        self.assertEqual(d["BackupStatus"], "CREATING")
        self.assertLess(answered - sent, 5)
        # CREATING while the copy runs; what cannot be done to it meanwhile
        self.assertEqual(self.status(arn), "CREATING")
        lst = self.raw.list_backups(TableName=t)["BackupSummaries"]
        self.assertEqual([b["BackupStatus"] for b in lst], ["CREATING"])
        self.assertEqual(self.err(self.raw.delete_backup, BackupArn=arn)[0],
                         "BackupInUseException")
        self.assertEqual(self.err(self.raw.restore_table_from_backup, BackupArn=arn,
                                  TargetTableName=t + "-no")[0], "BackupInUseException")
        wait_until(lambda: self.status(arn) == "AVAILABLE", timeout=120, what="backup")
        copy = time.monotonic() - answered
        during = [x for x in w.log if x[1] > answered and x[2] < answered + copy]
        # other writes went on during the copy, none waited for it
        self.assertGreater(copy, 0.5)
        self.assertGreater(len(during), 10)
        worst = max(x[2] - x[1] for x in during)
        self.assertLess(worst, copy / 3, "a PutItem waited %.2fs of a %.2fs copy" % (worst, copy))
        # restore it while the writes go on: CREATING until filled
        r = t + "-r"
        td = self.raw.restore_table_from_backup(TargetTableName=r, BackupArn=arn)[
            "TableDescription"]
        self.assertEqual(td["TableStatus"], "CREATING")
        self.assertTrue(td["RestoreSummary"]["RestoreInProgress"])
        dt = self.raw.describe_table(TableName=r)["Table"]
        self.assertEqual(dt["TableStatus"], "CREATING")
        self.assertEqual(self.err(self.raw.delete_backup, BackupArn=arn)[0],
                         "BackupInUseException")
        # a table being restored is CREATING, and DeleteTable words it so
        self.assertEqual(self.err(self.raw.delete_table, TableName=r), (
            "ResourceInUseException",
            "Attempt to change a resource which is still in use: Table is being created: " + r))
        self.assertEqual(self.err(self.raw.create_backup, TableName=r, BackupName="x-y")[0],
                         "TableInUseException")
        # its items are not served before it is ACTIVE, as in DynamoDB
        self.assertEqual(self.err(self.raw.put_item, TableName=r, Item={
            "pk": {"S": "early"}, "sk": {"N": "1"}})[0], "ResourceNotFoundException")
        self.assertEqual(self.err(self.raw.get_item, TableName=r, Key={
            "pk": {"S": "base-0"}, "sk": {"N": "0"}})[0], "ResourceNotFoundException")
        start = time.monotonic()
        wait_until(lambda: self.raw.describe_table(TableName=r)["Table"]["TableStatus"] ==
                   "ACTIVE", timeout=120, what="restore")
        restore = time.monotonic() - start
        w.stop()
        during = [x for x in w.log if x[1] > start and x[2] < start + restore]
        self.assertGreater(len(during), 10)
        self.assertLess(max(x[2] - x[1] for x in during), max(restore / 3, 0.2))
        # the backup is the snapshot CreateBackup took: every write answered
        # before it was sent is there, none sent after it was answered
        got = self.keys(r)
        base = {("base-%d" % (i % 50), i) for i in range(n)}
        self.assertTrue(base <= got)
        before = {(k, 0) for k, s0, a0 in w.log if a0 < sent}
        after = {(k, 0) for k, s0, a0 in w.log if s0 > answered}
        self.assertTrue(before <= got, sorted(before - got)[:5])
        self.assertFalse(after & got, sorted(after & got)[:5])
        desc = self.raw.describe_backup(BackupArn=arn)["BackupDescription"]
        self.assertEqual(desc["SourceTableDetails"]["ItemCount"], len(got))
        self.assertEqual(self.raw.describe_table(TableName=r)["Table"]["ItemCount"], len(got))
        green = self.raw.query(TableName=r, IndexName="by-color", Select="COUNT",
                               KeyConditionExpression="color = :c",
                               ExpressionAttributeValues={":c": {"S": "green"}})["Count"]
        self.assertEqual(green, len(got) - n)
        self.raw.delete_backup(BackupArn=arn)

    def test_delete_table_during_its_backup(self):
        """DeleteTable while its backup is CREATING: the backup goes on from
        its snapshot and holds every item."""
        t = self.new_table(gsi=True)
        fill(self.raw, t, 1500)
        arn = self.raw.create_backup(TableName=t, BackupName="gone")["BackupDetails"]["BackupArn"]
        self.raw.delete_table(TableName=t)
        self.assertEqual(self.status(arn), "CREATING")
        wait_until(lambda: self.status(arn) == "AVAILABLE", timeout=120, what="backup")
        self.ddb.restore_table_from_backup(TargetTableName=t, BackupArn=arn)
        self.assertEqual(len(self.keys(t)), 1500)
        self.assertEqual(self.raw.describe_backup(BackupArn=arn)["BackupDescription"]
                         ["SourceTableDetails"]["ItemCount"], 1500)
        self.raw.delete_backup(BackupArn=arn)

    def test_delete_table_keeps_items_for_its_backup(self):
        """DeleteTable of a table with PITR answers without copying: its
        SYSTEM backup keeps the items where they are; without PITR they are
        cleared in pieces after the answer. A new table of the same name
        starts empty meanwhile."""
        t = self.new_table(gsi=True)
        self.raw.update_continuous_backups(
            TableName=t, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
        fill(self.raw, t, 1500)
        self.raw.delete_table(TableName=t)
        sys_b = self.raw.list_backups(TableName=t, BackupType="SYSTEM")["BackupSummaries"]
        self.assertEqual([b["BackupStatus"] for b in sys_b], ["AVAILABLE"])
        arn = sys_b[0]["BackupArn"]
        src = self.raw.describe_backup(BackupArn=arn)["BackupDescription"]["SourceTableDetails"]
        self.assertEqual(src["ItemCount"], 1500)
        self.ddb.create_table(**schema(t, gsi=True))
        self.assertEqual(self.keys(t), set())
        self.put(t, "again", 1, color="blue")
        self.ddb.restore_table_from_backup(TargetTableName=t + "-s", BackupArn=arn)
        self.assertEqual(len(self.keys(t + "-s")), 1500)
        self.assertEqual(self.raw.query(TableName=t + "-s", IndexName="by-color", Select="COUNT",
                                        KeyConditionExpression="color = :c",
                                        ExpressionAttributeValues={":c": {"S": "blue"}})["Count"],
                         500)
        self.assertEqual(self.keys(t), {("again", 1)})
        self.raw.delete_backup(BackupArn=arn)
        self.raw.delete_table(TableName=t)
        self.ddb.create_table(**schema(t, gsi=True))
        self.assertEqual(self.keys(t), set())
        self.assertEqual(self.color(t, "blue"), [])

    def test_pitr_off_and_on_while_history_clears(self):
        """Turning PITR off clears its history in pieces after the answer;
        turned on again meanwhile, the new history is whole."""
        t = self.new_table()
        pitr = lambda on: self.raw.update_continuous_backups(
            TableName=t, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": on})
        pitr(True)
        fill(self.raw, t, 1500)
        fill(self.raw, t, 1500)  # 3,000 records of history
        pitr(False)
        pitr(True)
        self.put(t, "after", 1)
        when = self.boundary()
        self.delete(t, "base-0", 0)
        self.put(t, "after", 2)
        r = t + "-a"
        self.ddb.restore_table_to_point_in_time(SourceTableName=t, TargetTableName=r,
                                                RestoreDateTime=when)
        got = self.keys(r)
        self.assertEqual(len(got), 1501)
        self.assertIn(("base-0", 0), got)
        self.assertNotIn(("after", 2), got)

    def test_point_in_time_in_pieces(self):
        t = self.new_table(gsi=True)
        self.raw.update_continuous_backups(
            TableName=t, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
        fill(self.raw, t, 1200)
        at_t = self.keys(t)
        when = self.boundary()
        # after the restore time: 450 items overwritten to green, 300 deleted, 300 new
        fill(self.raw, t, 300, prefix="new")
        for start in range(0, 750, 25):
            reqs = []
            for i in range(start, start + 25):
                key = {"pk": {"S": "base-%d" % (i % 50)}, "sk": {"N": str(i)}}
                if i < 450:
                    reqs.append({"PutRequest": {"Item": dict(key, color={"S": "green"})}})
                else:
                    reqs.append({"DeleteRequest": {"Key": key}})
            self.raw.batch_write_item(RequestItems={t: reqs})
        r = t + "-p"
        td = self.raw.restore_table_to_point_in_time(SourceTableName=t, TargetTableName=r,
                                                     RestoreDateTime=when)["TableDescription"]
        self.assertEqual(td["TableStatus"], "CREATING")
        self.assertEqual(self.raw.describe_table(TableName=r)["Table"]["TableStatus"], "CREATING")
        self.assertEqual(self.err(self.raw.delete_item, TableName=r, Key={
            "pk": {"S": "base-0"}, "sk": {"N": "0"}})[0], "ResourceNotFoundException")
        wait_until(lambda: self.raw.describe_table(TableName=r)["Table"]["TableStatus"] ==
                   "ACTIVE", timeout=120, what="restore")
        self.assertEqual(self.keys(r), at_t)
        green = self.raw.query(TableName=r, IndexName="by-color", Select="COUNT",
                               KeyConditionExpression="color = :c",
                               ExpressionAttributeValues={":c": {"S": "green"}})["Count"]
        self.assertEqual(green, 0)
        self.assertEqual(self.raw.describe_table(TableName=r)["Table"]["ItemCount"], 1200)


class Crash(Slow):
    """kill -9 in the middle of a backup and of a restore: after the restart
    neither shows as AVAILABLE or ACTIVE; both are gone, and asking again
    works."""

    knobs = {"TANDEM_DDB_BACKUP_PIECE_ITEMS": "50", "TANDEM_DDB_BACKUP_PIECE_PAUSE_MS": "50"}

    def setUp(self):
        # each test restarts the server, which then listens on new ports
        self.ddb = settle(self.server.boto3())
        self.raw = self.server.boto3()

    def test_kill_mid_copy(self):
        t = self.new_table(gsi=True)
        fill(self.raw, t, 1500)
        done = self.ddb.create_backup(TableName=t, BackupName="whole")["BackupDetails"][
            "BackupArn"]
        self.assertEqual(self.status(done), "AVAILABLE")
        r = t + "-r"
        self.raw.restore_table_from_backup(TargetTableName=r, BackupArn=done)
        half = self.raw.create_backup(TableName=t, BackupName="half")["BackupDetails"][
            "BackupArn"]
        wait_until(lambda: self.raw.describe_table(TableName=r)["Table"]["ItemCount"] > 0,
                   what="part of the restore")
        self.assertEqual(self.status(half), "CREATING")
        self.assertEqual(self.raw.describe_table(TableName=r)["Table"]["TableStatus"],
                         "CREATING")
        self.server.kill()
        self.server.start()
        raw = self.server.boto3()
        self.assertEqual(self.err(raw.describe_backup, BackupArn=half)[0],
                         "BackupNotFoundException")
        self.assertEqual(self.err(raw.describe_table, TableName=r)[0],
                         "ResourceNotFoundException")
        self.assertNotIn(r, raw.list_tables()["TableNames"])
        self.assertEqual([b["BackupArn"] for b in raw.list_backups(TableName=t)
                          ["BackupSummaries"]], [done])
        # asked again, both complete
        ddb = settle(self.server.boto3())
        ddb.restore_table_from_backup(TargetTableName=r, BackupArn=done)
        self.assertEqual(ddb.describe_table(TableName=r)["Table"]["ItemCount"], 1500)
        again = ddb.create_backup(TableName=t, BackupName="again")["BackupDetails"]["BackupArn"]
        self.assertEqual(raw.describe_backup(BackupArn=again)["BackupDescription"]
                         ["SourceTableDetails"]["ItemCount"], 1500)
        raw.delete_backup(BackupArn=again)
        raw.delete_backup(BackupArn=done)
        self.assertEqual(raw.list_backups(TableName=t)["BackupSummaries"], [])

    def test_kill_while_clearing(self):
        """kill -9 while a deleted table's items and a PITR history are being
        cleared in pieces: the next start goes on with both."""
        t, u = self.new_table(), self.new_table()
        self.raw.update_continuous_backups(
            TableName=u, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
        fill(self.raw, t, 1500)
        fill(self.raw, u, 1500)
        self.raw.delete_table(TableName=t)
        self.raw.update_continuous_backups(
            TableName=u, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False})
        self.server.kill()
        self.server.start()
        log = self.server.stderr()
        self.assertIn("what=items", log)
        self.assertIn("what=history", log)
        raw = self.server.boto3()
        self.assertNotIn(t, raw.list_tables()["TableNames"])
        self.assertEqual(raw.describe_table(TableName=u)["Table"]["ItemCount"], 1500)

    def test_stop_mid_copy(self):
        """SIGTERM during a backup and a point-in-time restore: the server
        stops cleanly (exit 0, no sanitizer report) without waiting for the
        copies, and neither is left behind."""
        t = self.new_table()
        self.raw.update_continuous_backups(
            TableName=t, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
        fill(self.raw, t, 1500)
        arn = self.raw.create_backup(TableName=t, BackupName="cut")["BackupDetails"]["BackupArn"]
        r = t + "-p"
        self.raw.restore_table_to_point_in_time(SourceTableName=t, TargetTableName=r,
                                                UseLatestRestorableTime=True)
        self.assertEqual(self.status(arn), "CREATING")
        self.assertEqual(self.raw.describe_table(TableName=r)["Table"]["TableStatus"],
                         "CREATING")
        started = time.monotonic()
        self.server.stop()
        self.assertLess(time.monotonic() - started, 10)
        log = self.server.stderr()
        self.server.start()
        self.raw = raw = self.server.boto3()
        self.assertNotIn("event=backup_available arn=" + arn, log)
        self.assertEqual(self.err(raw.describe_backup, BackupArn=arn)[0],
                         "BackupNotFoundException")
        self.assertNotIn(r, raw.list_tables()["TableNames"])
        self.assertEqual(raw.describe_table(TableName=t)["Table"]["ItemCount"], 1500)
