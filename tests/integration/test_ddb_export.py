"""DynamoDB table exports to S3 (ExportTableToPointInTime, DescribeExport,
ListExports) through boto3 and the aws CLI v2: the export runs in the
background and writes DynamoDB's documented layout into a bucket of the
region (_started, manifest-summary.json and .md5, manifest-files.json
and .md5, data/*.json.gz), read back here with the S3 API; an
ExportTime in the past gives the table as it was then (PITR history), an
incremental export the changes between two times; ClientToken idempotency,
the errors, and an export cut off by kill -9 (FAILED after the restart).
A short PITR 'day' (TANDEM_DDB_PITR_DAY_SECONDS) scales the 15-minute
minimum of an incremental export's period down to about a second."""

import base64
import concurrent.futures
import gzip
import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import time
import unittest
import uuid
import zlib
from unittest import mock

import botocore.handlers
from botocore.exceptions import ClientError

from repl_helpers import wait_until
from tandem_harness import ServerTestCase

AWS_V2 = "/usr/bin/aws"
DAY_SECONDS = 100  # 15 minutes of a 100-second day: about 1.04 s


def every_type(pk, n):
    return {"pk": {"S": pk}, "sk": {"N": str(n)},
            "s": {"S": "text é ✓"}, "n": {"N": "-12500"}, "b": {"B": b"\x00\x01\xff"},
            "bool": {"BOOL": True}, "null": {"NULL": True},
            "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2.5"]}, "bs": {"BS": [b"x", b"y"]},
            "l": {"L": [{"S": "x"}, {"N": "1"}, {"M": {"k": {"S": "v"}}}]},
            "m": {"M": {"inner": {"L": [{"BOOL": False}]}, "e": {"S": ""}}}}


def canon(item, raw=False):
    """@item with its sets sorted; with @raw, an item as boto3 gives it
    (bytes for B) made what DynamoDB JSON text holds (base64)."""
    def b(x):
        return base64.b64encode(x).decode() if raw else x

    def av(v):
        (t, x), = v.items()
        if t in ("SS", "NS", "BS"):
            return {t: sorted(b(e) if t == "BS" else e for e in x)}
        if t == "L":
            return {"L": [av(e) for e in x]}
        if t == "M":
            return {"M": {k: av(e) for k, e in x.items()}}
        return {t: b(x) if t == "B" else x}
    return {k: av(v) for k, v in item.items()}


def ion_line(text):
    """An Amazon Ion text line of an ION export, read back (the subset the
    export writes: structs, lists, strings, decimals, blobs, bools, null and
    the $dynamodb_ set annotations) as the DynamoDB JSON it stands for."""
    pos = [0]

    def ws():
        while pos[0] < len(text) and text[pos[0]].isspace():
            pos[0] += 1

    def eat(tok):
        ws()
        if text.startswith(tok, pos[0]):
            pos[0] += len(tok)
            return True
        return False

    def quoted(q):
        ws()
        assert text[pos[0]] == q, text[pos[0]:]
        j = pos[0] + 1
        out = []
        while text[j] != q:
            if text[j] == "\\":
                j += 1
                if text[j] == "x":
                    out.append(chr(int(text[j + 1:j + 3], 16)))
                    j += 2
                else:
                    out.append(text[j])
            else:
                out.append(text[j])
            j += 1
        pos[0] = j + 1
        return "".join(out)

    def symbol():
        ws()
        if text[pos[0]] == "'":
            return quoted("'")
        m = re.match(r"[A-Za-z_$][A-Za-z0-9_$]*", text[pos[0]:])
        pos[0] += m.end()
        return m.group(0)

    def number():
        ws()
        m = re.match(r"-?[0-9]+(\.[0-9]*)?(d-?[0-9]+)?", text[pos[0]:])
        pos[0] += m.end()
        assert "." in m.group(0) or "d" in m.group(0), "an Ion int, not a decimal"
        return m.group(0).rstrip(".").replace("d", "E")

    def blob():
        assert eat("{{")
        j = text.index("}}", pos[0])
        b = text[pos[0]:j].strip()
        pos[0] = j + 2
        return b

    def items(close, one):
        out = []
        if eat(close):
            return out
        while True:
            out.append(one())
            if eat(close):
                return out
            assert eat(","), text[pos[0]:]

    def struct():
        assert eat("{")
        def field():
            k = symbol()
            assert eat(":")
            return k, value()
        return dict(items("}", field))

    def value():
        ws()
        for t, one in (("SS", lambda: quoted('"')), ("NS", number), ("BS", blob)):
            if eat("$dynamodb_%s::" % t):
                assert eat("[")
                return {t: items("]", one)}
        if text.startswith("{{", pos[0]):
            return {"B": blob()}
        if text[pos[0]] == "{":
            return {"M": struct()}
        if eat("["):
            return {"L": items("]", value)}
        if text[pos[0]] == '"':
            return {"S": quoted('"')}
        for word, v in (("true", {"BOOL": True}), ("false", {"BOOL": False}),
                        ("null", {"NULL": True})):
            if eat(word):
                return v
        return {"N": number()}

    assert eat("$ion_1_0")
    assert eat("{")
    top = {}
    while True:
        k = symbol()
        assert eat(":")
        top[k] = struct()
        if eat("}"):
            break
        assert eat(",")
    ws()
    assert pos[0] == len(text), text[pos[0]:]
    return top


def mark():
    """A whole second (boto3 sends timestamps in whole seconds) just past:
    what was written before the call is before it, what is written after
    the call is after it."""
    t = math.ceil(time.time() + 0.05)
    time.sleep(max(0, t + 0.2 - time.time()))
    return t


class Base(ServerTestCase):
    knobs = {"TANDEM_DDB_PITR_DAY_SECONDS": str(DAY_SECONDS)}

    @classmethod
    def setUpClass(cls):
        with mock.patch.dict(os.environ, cls.knobs):  # the server's environment
            super().setUpClass()
        cls.ddb = cls.server.boto3()
        cls.s3 = cls.server.boto3("s3")
        cls.bucket = "dr-" + uuid.uuid4().hex[:12]
        cls.s3.create_bucket(Bucket=cls.bucket)

    def new_table(self, pitr=True):
        name = "ex-" + uuid.uuid4().hex[:10]
        self.ddb.create_table(
            TableName=name, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                  {"AttributeName": "sk", "AttributeType": "N"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                       {"AttributeName": "sk", "KeyType": "RANGE"}])
        if pitr:
            self.ddb.update_continuous_backups(
                TableName=name,
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
        return name, self.ddb.describe_table(TableName=name)["Table"]

    def fill(self, table, n, prefix="p"):
        for start in range(0, n, 25):
            self.ddb.batch_write_item(RequestItems={table: [
                {"PutRequest": {"Item": every_type("%s%d" % (prefix, i % 7), i)}}
                for i in range(start, min(n, start + 25))]})

    def wait(self, arn, timeout=60):
        def done():
            d = self.ddb.describe_export(ExportArn=arn)["ExportDescription"]
            return d if d["ExportStatus"] != "IN_PROGRESS" else None
        return wait_until(done, timeout=timeout, what="export " + arn)

    def err(self, fn, **kw):
        with self.assertRaises(ClientError) as cm:
            fn(**kw)
        e = cm.exception.response["Error"]
        return e["Code"], e.get("Message", "")

    def get(self, key):
        return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def exported(self, desc):
        """(summary, manifest lines, every data line) of a COMPLETED export."""
        summary = json.loads(self.get(desc["ExportManifest"]))
        files = [json.loads(x) for x in self.get(summary["manifestFilesS3Key"]).splitlines()]
        lines = []
        for f in files:
            raw = self.get(f["dataFileS3Key"])
            self.assertEqual(base64.b64decode(f["md5Checksum"]), hashlib.md5(raw).digest())
            self.assertEqual(f["etag"], hashlib.md5(raw).hexdigest())
            read = ion_line if summary["outputFormat"] == "ION" else json.loads
            got = [read(x.decode()) for x in gzip.decompress(raw).splitlines()]
            self.assertEqual(len(got), f["itemCount"])
            lines += got
        return summary, files, lines

    def export(self, n=40):
        name, td = self.new_table()
        self.fill(name, n)
        d = self.ddb.export_table_to_point_in_time(
            TableArn=td["TableArn"], S3Bucket=self.bucket, S3Prefix="dr/" + name)[
            "ExportDescription"]
        d = self.wait(d["ExportArn"])
        self.assertEqual(d["ExportStatus"], "COMPLETED", d)
        return name, d["ExportManifest"].rsplit("/", 1)[0] + "/data/"

    def wait_import(self, ddb, arn, timeout=60):
        def done():
            d = ddb.describe_import(ImportArn=arn)["ImportTableDescription"]
            return d if d["ImportStatus"] != "IN_PROGRESS" else None
        return wait_until(done, timeout=timeout, what="import " + arn)


class Full(Base):
    def test_round_trip(self):
        name, td = self.new_table()
        self.fill(name, 60)
        before = time.time()
        out = self.ddb.export_table_to_point_in_time(
            TableArn=td["TableArn"], S3Bucket=self.bucket, S3Prefix="dr/full")
        d = out["ExportDescription"]
        self.assertEqual(d["ExportStatus"], "IN_PROGRESS")
        self.assertNotIn("ExportType", d)  # not given: DynamoDB leaves it out
        self.assertEqual(d["ExportFormat"], "DYNAMODB_JSON")
        self.assertEqual(d["TableArn"], td["TableArn"])
        self.assertEqual(d["TableId"], td["TableId"])
        self.assertEqual(d["S3Bucket"], self.bucket)
        self.assertEqual(d["S3Prefix"], "dr/full")
        self.assertTrue(d["ClientToken"])  # generated
        self.assertRegex(d["ExportArn"], r"^%s/export/\d{14}-[0-9a-f]{8}$" % td["TableArn"])
        self.assertLess(abs(d["ExportTime"].timestamp() - before), 5)
        d = self.wait(d["ExportArn"])
        self.assertEqual(d["ExportStatus"], "COMPLETED", d)
        self.assertEqual(d["ItemCount"], 60)
        self.assertGreater(d["BilledSizeBytes"], 60 * 50)
        self.assertGreaterEqual(d["EndTime"], d["StartTime"])
        export_id = d["ExportArn"].rsplit("/", 1)[1]
        base = "dr/full/AWSDynamoDB/%s/" % export_id
        self.assertEqual(d["ExportManifest"], base + "manifest-summary.json")
        keys = [o["Key"] for o in self.s3.list_objects_v2(Bucket=self.bucket, Prefix=base)
                ["Contents"]]
        for k in ("_started", "manifest-summary.json", "manifest-summary.md5",
                  "manifest-files.json", "manifest-files.md5"):
            self.assertIn(base + k, keys)
        self.assertTrue(any(k.startswith(base + "data/") and k.endswith(".json.gz")
                            for k in keys), keys)
        self.assertEqual(self.get(base + "_started"), b"")
        summary, files, lines = self.exported(d)
        # DynamoDB's names: manifest-*.md5, holding the base64 MD5
        self.assertEqual(self.get(base + "manifest-summary.md5"), base64.b64encode(
            hashlib.md5(self.get(base + "manifest-summary.json")).digest()))
        self.assertEqual(self.get(base + "manifest-files.md5"), base64.b64encode(
            hashlib.md5(self.get(base + "manifest-files.json")).digest()))
        self.assertEqual(summary["version"], "2020-06-30")
        self.assertEqual(summary["exportArn"], d["ExportArn"])
        self.assertEqual(summary["tableArn"], td["TableArn"])
        self.assertEqual(summary["itemCount"], 60)
        self.assertEqual(summary["outputFormat"], "DYNAMODB_JSON")
        self.assertEqual(summary["s3Bucket"], self.bucket)
        self.assertEqual(summary["manifestFilesS3Key"], base + "manifest-files.json")
        self.assertRegex(summary["exportTime"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertEqual(sum(f["itemCount"] for f in files), 60)
        got = sorted((canon(x["Item"]) for x in lines), key=json.dumps)
        want = sorted((canon(every_type("p%d" % (i % 7), i), raw=True) for i in range(60)),
                      key=json.dumps)
        self.assertEqual(got, want)
        self.assertTrue(all(list(x) == ["Item"] for x in lines))
        # ListExports: the table's filter, paging
        arns = []
        kw = {"TableArn": td["TableArn"], "MaxResults": 1}
        while True:
            page = self.ddb.list_exports(**kw)
            arns += [s["ExportArn"] for s in page["ExportSummaries"]]
            self.assertLessEqual(len(page["ExportSummaries"]), 1)
            if "NextToken" not in page:
                break
            kw["NextToken"] = page["NextToken"]
        self.assertEqual(arns, [d["ExportArn"]])
        self.assertEqual(self.ddb.list_exports(TableArn=td["TableArn"])["ExportSummaries"],
                         [{"ExportArn": d["ExportArn"], "ExportStatus": "COMPLETED",
                           "ExportType": "FULL_EXPORT"}])

    def test_empty_table(self):
        name, td = self.new_table()
        kms = "arn:aws:kms:us-east-1:123456789012:key/" + str(uuid.uuid4())
        d = self.ddb.export_table_to_point_in_time(
            TableArn=td["TableArn"], S3Bucket=self.bucket, ExportType="FULL_EXPORT",
            S3SseAlgorithm="KMS", S3SseKmsKeyId=kms)["ExportDescription"]
        self.assertEqual(d["ExportType"], "FULL_EXPORT")
        self.assertEqual((d["S3SseAlgorithm"], d["S3SseKmsKeyId"]), ("KMS", kms))
        d = self.wait(d["ExportArn"])
        self.assertEqual(d["ExportStatus"], "COMPLETED", d)
        self.assertEqual(d["ItemCount"], 0)
        self.assertTrue(d["ExportManifest"].startswith("AWSDynamoDB/"))
        summary, files, lines = self.exported(d)
        self.assertEqual(len(files), 1)  # an empty data file, as DynamoDB writes
        self.assertEqual(lines, [])
        self.assertIsNone(summary["s3Prefix"])
        self.assertEqual((summary["s3SseAlgorithm"], summary["s3SseKmsKeyId"]), ("KMS", kms))
        head = self.s3.head_object(Bucket=self.bucket, Key=files[0]["dataFileS3Key"])
        self.assertEqual(head["ServerSideEncryption"], "aws:kms")

    def test_past_export_time(self):
        name, td = self.new_table()
        self.fill(name, 30)
        then = mark()
        self.ddb.delete_item(TableName=name, Key={"pk": {"S": "p0"}, "sk": {"N": "0"}})
        self.ddb.put_item(TableName=name, Item={"pk": {"S": "new"}, "sk": {"N": "1"}})
        self.ddb.put_item(TableName=name, Item={"pk": {"S": "p1"}, "sk": {"N": "1"},
                                                "changed": {"S": "yes"}})
        d = self.ddb.export_table_to_point_in_time(
            TableArn=td["TableArn"], S3Bucket=self.bucket, S3Prefix="dr/past",
            ExportTime=then)["ExportDescription"]
        d = self.wait(d["ExportArn"])
        self.assertEqual(d["ExportStatus"], "COMPLETED", d)
        self.assertEqual(d["ItemCount"], 30)
        _, _, lines = self.exported(d)
        got = sorted((canon(x["Item"]) for x in lines), key=json.dumps)
        want = sorted((canon(every_type("p%d" % (i % 7), i), raw=True) for i in range(30)),
                      key=json.dumps)
        self.assertEqual(got, want)

    def test_client_token(self):
        name, td = self.new_table()
        kw = dict(TableArn=td["TableArn"], S3Bucket=self.bucket, S3Prefix="dr/tok",
                  ClientToken="tok-" + name)
        a = self.ddb.export_table_to_point_in_time(**kw)["ExportDescription"]
        b = self.ddb.export_table_to_point_in_time(**kw)["ExportDescription"]
        self.assertEqual(a["ExportArn"], b["ExportArn"])
        self.assertEqual(b["ClientToken"], "tok-" + name)
        kw["S3Prefix"] = "dr/other"
        code, msg = self.err(self.ddb.export_table_to_point_in_time, **kw)
        self.assertEqual((code, msg), ("ExportConflictException",
                                       "Duplicate request detected with conflicting parameters"))
        self.wait(a["ExportArn"])
        got = self.ddb.list_exports(TableArn=td["TableArn"])["ExportSummaries"]
        # asked for without ExportType, and listed as FULL_EXPORT (DescribeExport
        # answers ExportType only when the request gave it)
        self.assertEqual(got, [{"ExportArn": a["ExportArn"], "ExportStatus": "COMPLETED",
                                "ExportType": "FULL_EXPORT"}])
        # once the table is deleted, ListExports by its ARN lists none of its
        # exports (as DynamoDB does), and DescribeExport still answers
        self.ddb.delete_table(TableName=name)
        self.assertEqual(self.ddb.list_exports(TableArn=td["TableArn"])["ExportSummaries"], [])
        self.assertEqual(self.ddb.describe_export(ExportArn=a["ExportArn"])[
            "ExportDescription"]["ExportStatus"], "COMPLETED")

    def test_errors(self):
        name, td = self.new_table(pitr=False)
        code, msg = self.err(self.ddb.export_table_to_point_in_time, TableArn=td["TableArn"],
                             S3Bucket=self.bucket)
        self.assertEqual(code, "PointInTimeRecoveryUnavailableException")
        self.assertIn(name, msg)
        name, td = self.new_table()
        for when in (time.time() + 3600, time.time() - 3600):
            code, _ = self.err(self.ddb.export_table_to_point_in_time, TableArn=td["TableArn"],
                               S3Bucket=self.bucket, ExportTime=when)
            self.assertEqual(code, "InvalidExportTimeException")
        code, _ = self.err(self.ddb.export_table_to_point_in_time,
                           TableArn=td["TableArn"] + "x", S3Bucket=self.bucket)
        self.assertEqual(code, "TableNotFoundException")
        code, _ = self.err(self.ddb.export_table_to_point_in_time,
                           TableArn=td["TableArn"], S3Bucket=self.bucket,
                           ExportType="INCREMENTAL_EXPORT")
        self.assertEqual(code, "ValidationException")
        code, _ = self.err(self.ddb.describe_export,
                           ExportArn=td["TableArn"] + "/export/01234567890123-abcdef01")
        self.assertEqual(code, "ExportNotFoundException")
        # an ARN that is not an export's (a table's, or not an ARN at all)
        for bad in (td["TableArn"], "x" + td["TableArn"][1:] + "/export/0123-ab"):
            code, msg = self.err(self.ddb.describe_export, ExportArn=bad)
            self.assertEqual((code, msg), ("ValidationException", "Invalid Export ARN: " + bad))
        # one of another partition, service, region or account: not the caller's
        for part, other in ((1, "aws-cn"), (2, "s3"), (3, "eu-west-1"), (4, "999999999999")):
            bad = td["TableArn"].split(":")
            bad[part] = other
            bad = ":".join(bad) + "/export/01234567890123-abcdef01"
            code, msg = self.err(self.ddb.describe_export, ExportArn=bad)
            self.assertEqual(code, "AccessDeniedException", bad)
            self.assertTrue(msg.endswith("is not authorized to perform: "
                                         "dynamodb:DescribeExport on resource: " + bad), msg)
        code, _ = self.err(self.ddb.list_exports, MaxResults=26)
        self.assertEqual(code, "ValidationException")
        code, msg = self.err(self.ddb.list_exports, NextToken="0123456789abcdef" * 16)
        self.assertEqual((code, msg), ("ValidationException", "Invalid NextToken"))
        # an empty S3Prefix, an owner that is not an account id, an empty KMS key id
        for kw, want in (({"S3Prefix": ""}, "Value '' at 's3Prefix' failed to satisfy "
                                            "constraint: Member must have length greater than "
                                            "or equal to 1"),
                         ({"S3BucketOwner": "12345"}, "Value '12345' at 's3BucketOwner' failed "
                                                      "to satisfy constraint: Member must "
                                                      "satisfy regular expression pattern: "
                                                      "[0-9]{12}"),
                         ({"S3SseAlgorithm": "KMS", "S3SseKmsKeyId": ""},
                          "Value '' at 's3SseKmsKeyId' failed to satisfy constraint: Member "
                          "must have length greater than or equal to 1")):
            code, msg = self.err(self.server.boto3(parameter_validation=False)
                                 .export_table_to_point_in_time, TableArn=td["TableArn"],
                                 S3Bucket=self.bucket, **kw)
            self.assertEqual((code, msg), ("ValidationException",
                                           "1 validation error detected: " + want))
        # S3Bucket has no minimum length, only a pattern; at most 255 characters
        pat = "Member must satisfy regular expression pattern: " \
              "^[a-z0-9A-Z]+[\\.\\-\\w]*[a-z0-9A-Z]+$"
        for bucket, want in (
                ("", "1 validation error detected: Value '' at 's3Bucket' failed to satisfy "
                     "constraint: " + pat),
                ("-b-", "1 validation error detected: Value '-b-' at 's3Bucket' failed to "
                        "satisfy constraint: " + pat),
                ("b" * 256, "1 validation error detected: Value '%s' at 's3Bucket' failed to "
                            "satisfy constraint: Member must have length less than or equal to "
                            "255" % ("b" * 256))):
            code, msg = self.err(self.ddb.export_table_to_point_in_time,
                                 TableArn=td["TableArn"], S3Bucket=bucket)
            self.assertEqual((code, msg), ("ValidationException", want))
        raw = self.server.boto3(parameter_validation=False)
        code, msg = self.err(raw.describe_export, ExportArn="arn:short")
        self.assertEqual(msg, "1 validation error detected: Value 'arn:short' at 'exportArn' "
                              "failed to satisfy constraint: Member must have length greater "
                              "than or equal to 37")
        # a missing bucket and another owner: the export fails, as DynamoDB's does
        d = self.ddb.export_table_to_point_in_time(
            TableArn=td["TableArn"], S3Bucket="no-such-" + name)["ExportDescription"]
        d = self.wait(d["ExportArn"])
        self.assertEqual((d["ExportStatus"], d["FailureCode"]), ("FAILED", "S3NoSuchBucket"))
        self.assertTrue(d["FailureMessage"])
        d = self.ddb.export_table_to_point_in_time(
            TableArn=td["TableArn"], S3Bucket=self.bucket,
            S3BucketOwner="999999999999")["ExportDescription"]
        d = self.wait(d["ExportArn"])
        self.assertEqual((d["ExportStatus"], d["FailureCode"]), ("FAILED", "S3AccessDenied"))
        self.assertEqual(d["S3BucketOwner"], "999999999999")

    def test_incremental(self):
        name, td = self.new_table()
        self.fill(name, 10)
        t0 = mark()
        self.ddb.put_item(TableName=name, Item={"pk": {"S": "p1"}, "sk": {"N": "1"},
                                                "v": {"N": "1"}})
        self.ddb.put_item(TableName=name, Item={"pk": {"S": "p1"}, "sk": {"N": "1"},
                                                "v": {"N": "2"}})
        self.ddb.put_item(TableName=name, Item={"pk": {"S": "fresh"}, "sk": {"N": "0"}})
        self.ddb.delete_item(TableName=name, Key={"pk": {"S": "p2"}, "sk": {"N": "2"}})
        time.sleep(1.1)
        t1 = mark()
        # after the window: not part of it, and NewImage is the state at t1
        self.ddb.put_item(TableName=name, Item={"pk": {"S": "p1"}, "sk": {"N": "1"},
                                                "v": {"N": "3"}})
        self.ddb.put_item(TableName=name, Item={"pk": {"S": "p3"}, "sk": {"N": "3"}})
        d = self.ddb.export_table_to_point_in_time(
            TableArn=td["TableArn"], S3Bucket=self.bucket, S3Prefix="dr/inc",
            ExportType="INCREMENTAL_EXPORT",
            IncrementalExportSpecification={"ExportFromTime": t0, "ExportToTime": t1,
                                            "ExportViewType": "NEW_AND_OLD_IMAGES"})[
            "ExportDescription"]
        self.assertEqual(d["ExportType"], "INCREMENTAL_EXPORT")
        self.assertNotIn("ExportTime", d)
        spec = d["IncrementalExportSpecification"]
        self.assertEqual(spec["ExportViewType"], "NEW_AND_OLD_IMAGES")
        d = self.wait(d["ExportArn"])
        self.assertEqual(d["ExportStatus"], "COMPLETED", d)
        summary, _, lines = self.exported(d)
        self.assertEqual(summary["exportType"], "INCREMENTAL_EXPORT")
        self.assertEqual(d["ItemCount"], 3)
        by = {x["Keys"]["pk"]["S"]: x for x in lines}
        self.assertEqual(set(by), {"p1", "fresh", "p2"})
        self.assertEqual(by["p1"]["NewImage"]["v"], {"N": "2"})
        self.assertEqual(canon(by["p1"]["OldImage"]), canon(every_type("p1", 1), raw=True))
        self.assertEqual(by["fresh"]["NewImage"], {"pk": {"S": "fresh"}, "sk": {"N": "0"}})
        self.assertNotIn("OldImage", by["fresh"])
        self.assertNotIn("NewImage", by["p2"])
        self.assertEqual(by["p2"]["Keys"], {"pk": {"S": "p2"}, "sk": {"N": "2"}})
        for x in lines:
            us = int(x["Metadata"]["WriteTimeMicros"]["N"])
            self.assertTrue(t0 * 1e6 - 1e5 <= us <= t1 * 1e6 + 1e5, x)
        # NEW_IMAGE: no old images; a period too short is refused
        d = self.ddb.export_table_to_point_in_time(
            TableArn=td["TableArn"], S3Bucket=self.bucket, ExportType="INCREMENTAL_EXPORT",
            ExportFormat="ION",
            IncrementalExportSpecification={"ExportFromTime": t0, "ExportToTime": t1,
                                            "ExportViewType": "NEW_IMAGE"})["ExportDescription"]
        d = self.wait(d["ExportArn"])
        _, _, lines = self.exported(d)  # as Amazon Ion
        self.assertTrue(lines and all("OldImage" not in x for x in lines))
        self.assertEqual({x["Keys"]["pk"]["S"] for x in lines}, {"p1", "fresh", "p2"})
        self.assertEqual({x["Keys"]["pk"]["S"]: x.get("NewImage", {}).get("v") for x in lines},
                         {"p1": {"N": "2"}, "fresh": None, "p2": None})
        # a period too short is an export time problem, as DynamoDB answers it;
        # one ending before it starts a validation error
        code, msg = self.err(self.ddb.export_table_to_point_in_time, TableArn=td["TableArn"],
                             S3Bucket=self.bucket, ExportType="INCREMENTAL_EXPORT",
                             IncrementalExportSpecification={"ExportFromTime": t0,
                                                             "ExportToTime": t0 + 1})
        self.assertEqual(code, "InvalidExportTimeException")
        self.assertTrue(msg.startswith("Difference between export period"), msg)
        code, _ = self.err(self.ddb.export_table_to_point_in_time, TableArn=td["TableArn"],
                           S3Bucket=self.bucket, ExportType="INCREMENTAL_EXPORT",
                           IncrementalExportSpecification={"ExportFromTime": t1,
                                                           "ExportToTime": t0})
        self.assertEqual(code, "ValidationException")

    @unittest.skipUnless(os.access(AWS_V2, os.X_OK), "no aws CLI v2")
    def test_aws_cli_v2(self):
        name, td = self.new_table()
        self.fill(name, 5)
        out = subprocess.run(
            [AWS_V2, "--endpoint-url", self.server.url(), "--region", self.server.region,
             "--output", "json", "dynamodb", "export-table-to-point-in-time",
             "--table-arn", td["TableArn"], "--s3-bucket", self.bucket,
             "--s3-prefix", "cli", "--export-format", "DYNAMODB_JSON"],
            env=self.server.env(False), capture_output=True, text=True, timeout=120)
        self.assertEqual(out.returncode, 0, out.stderr)
        arn = json.loads(out.stdout)["ExportDescription"]["ExportArn"]
        d = self.wait(arn)
        self.assertEqual((d["ExportStatus"], d["ItemCount"]), ("COMPLETED", 5), d)
        out = subprocess.run(
            [AWS_V2, "--endpoint-url", self.server.url(), "--region", self.server.region,
             "--output", "json", "dynamodb", "describe-export", "--export-arn", arn],
            env=self.server.env(False), capture_output=True, text=True, timeout=120)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(json.loads(out.stdout)["ExportDescription"]["ExportStatus"],
                         "COMPLETED")
        # and back with the CLI's import-table
        data = d["ExportManifest"].rsplit("/", 1)[0] + "/data/"
        out = subprocess.run(
            [AWS_V2, "--endpoint-url", self.server.url(), "--region", self.server.region,
             "--output", "json", "dynamodb", "import-table",
             "--s3-bucket-source", "S3Bucket=%s,S3KeyPrefix=%s" % (self.bucket, data),
             "--input-format", "DYNAMODB_JSON", "--input-compression-type", "GZIP",
             "--table-creation-parameters", json.dumps(creation(name + "-cli"))],
            env=self.server.env(False), capture_output=True, text=True, timeout=120)
        self.assertEqual(out.returncode, 0, out.stderr)
        i = self.wait_import(self.ddb, json.loads(out.stdout)["ImportTableDescription"]
                             ["ImportArn"])
        self.assertEqual((i["ImportStatus"], i["ImportedItemCount"]), ("COMPLETED", 5), i)


def creation(name):
    return {"TableName": name, "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                     {"AttributeName": "sk", "AttributeType": "N"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                          {"AttributeName": "sk", "KeyType": "RANGE"}]}


def scan_all(ddb, table):
    items, kw = [], {"TableName": table}
    while True:
        page = ddb.scan(**kw)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return sorted((canon(x, raw=True) for x in items), key=json.dumps)
        kw["ExclusiveStartKey"] = page["LastEvaluatedKey"]


class Import(Base):
    def test_round_trip(self):
        name, data = self.export(60)
        target = name + "-imported"
        params = creation(target)  # with an index, filled as the items come
        params["AttributeDefinitions"].append({"AttributeName": "s", "AttributeType": "S"})
        params["GlobalSecondaryIndexes"] = [{
            "IndexName": "by-s", "KeySchema": [{"AttributeName": "s", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"}}]
        d = self.ddb.import_table(
            S3BucketSource={"S3Bucket": self.bucket, "S3KeyPrefix": data},
            InputFormat="DYNAMODB_JSON", InputCompressionType="GZIP",
            TableCreationParameters=params)["ImportTableDescription"]
        self.assertEqual(d["ImportStatus"], "IN_PROGRESS")
        self.assertTrue(d["ClientToken"])
        self.assertRegex(d["ImportArn"], r"table/%s/import/\d{14}-[0-9a-f]{8}$" % target)
        self.assertEqual(d["TableCreationParameters"]["TableName"], target)
        td = self.ddb.describe_table(TableName=target)["Table"]
        self.assertEqual(d["TableArn"], td["TableArn"])
        d = self.wait_import(self.ddb, d["ImportArn"])
        self.assertEqual(d["ImportStatus"], "COMPLETED", d)
        self.assertEqual((d["ImportedItemCount"], d["ProcessedItemCount"], d["ErrorCount"]),
                         (60, 60, 0))
        self.assertGreater(d["ProcessedSizeBytes"], 0)
        self.assertGreaterEqual(d["EndTime"], d["StartTime"])
        self.assertEqual(self.ddb.describe_table(TableName=target)["Table"]["TableStatus"],
                         "ACTIVE")
        self.assertEqual(scan_all(self.ddb, target), scan_all(self.ddb, name))
        self.assertEqual(self.ddb.query(
            TableName=target, IndexName="by-s", Select="COUNT",
            KeyConditionExpression="s = :s",
            ExpressionAttributeValues={":s": {"S": "text é ✓"}})["Count"], 60)
        self.assertEqual(scan_all(self.ddb, target), sorted(
            (canon(every_type("p%d" % (i % 7), i), raw=True) for i in range(60)),
            key=json.dumps))
        got = self.ddb.list_imports(TableArn=td["TableArn"], PageSize=5)["ImportSummaryList"]
        self.assertEqual([x["ImportArn"] for x in got], [d["ImportArn"]])
        self.assertEqual(got[0]["ImportStatus"], "COMPLETED")
        # the table exists now; the same ClientToken with other parameters
        code, _ = self.err(self.ddb.import_table,
                           S3BucketSource={"S3Bucket": self.bucket, "S3KeyPrefix": data},
                           InputFormat="DYNAMODB_JSON", InputCompressionType="GZIP",
                           TableCreationParameters=creation(target))
        self.assertEqual(code, "ResourceInUseException")
        code, _ = self.err(self.ddb.import_table, ClientToken=d["ClientToken"],
                           S3BucketSource={"S3Bucket": self.bucket, "S3KeyPrefix": "x"},
                           InputFormat="DYNAMODB_JSON",
                           TableCreationParameters=creation(target + "2"))
        self.assertEqual(code, "ImportConflictException")

    def test_ion_round_trip(self):
        name, td = self.new_table()
        self.fill(name, 20)
        odd = {"pk": {"S": "quote\" back\\ tab\t"}, "sk": {"N": "0.5"},
               "weird name": {"S": "x"}, "null": {"N": "-1"}, "big": {"N": "1E+100"}}
        self.ddb.put_item(TableName=name, Item=odd)
        d = self.ddb.export_table_to_point_in_time(
            TableArn=td["TableArn"], S3Bucket=self.bucket, S3Prefix="dr/ion",
            ExportFormat="ION")["ExportDescription"]
        self.assertEqual(d["ExportFormat"], "ION")
        d = self.wait(d["ExportArn"])
        self.assertEqual((d["ExportStatus"], d["ItemCount"]), ("COMPLETED", 21), d)
        summary = json.loads(self.get(d["ExportManifest"]))
        self.assertEqual(summary["outputFormat"], "ION")
        files = [json.loads(x) for x in self.get(summary["manifestFilesS3Key"]).splitlines()]
        self.assertTrue(all(f["dataFileS3Key"].endswith(".ion.gz") for f in files))
        text = [x for f in files
                for x in gzip.decompress(self.get(f["dataFileS3Key"])).decode().splitlines()]
        self.assertTrue(all(x.startswith("$ion_1_0 {Item:{") for x in text), text[:2])
        got = sorted((canon(ion_line(x)["Item"]) for x in text), key=json.dumps)
        self.assertEqual(got, scan_all(self.ddb, name))
        # and back, through ImportTable's ION reader
        target = name + "-ion"
        i = self.ddb.import_table(
            S3BucketSource={"S3Bucket": self.bucket,
                            "S3KeyPrefix": d["ExportManifest"].rsplit("/", 1)[0] + "/data/"},
            InputFormat="ION", InputCompressionType="GZIP",
            TableCreationParameters=creation(target))["ImportTableDescription"]
        i = self.wait_import(self.ddb, i["ImportArn"])
        self.assertEqual((i["ImportStatus"], i["ImportedItemCount"], i["ErrorCount"]),
                         ("COMPLETED", 21, 0), i)
        self.assertEqual(scan_all(self.ddb, target), scan_all(self.ddb, name))

    def test_bad_lines_and_csv(self):
        pre = "raw & <odd>-" + uuid.uuid4().hex[:8] + "/"  # XML-escaped in S3's listing
        good = [{"Item": {"pk": {"S": "a%d" % i}, "sk": {"N": str(i)}, "v": {"S": "x"}}}
                for i in range(3)]
        body = "\n".join([json.dumps(good[0]), "{not json", json.dumps(good[1]),
                          json.dumps({"Item": {"pk": {"S": "no sort key"}}}),
                          json.dumps({"Thing": {}}), "", json.dumps(good[2]), "   ",
                          json.dumps({"Item": {"pk": {"S": "e"}, "sk": {"N": "1"},
                                               "": {"S": "no name"}}})]) + "\n"
        self.s3.put_object(Bucket=self.bucket, Key=pre + "part1.json", Body=body.encode())
        target = "imp-" + uuid.uuid4().hex[:8]
        token = "tok-" + target
        kw = dict(ClientToken=token,
                  S3BucketSource={"S3Bucket": self.bucket, "S3KeyPrefix": pre},
                  InputFormat="DYNAMODB_JSON", TableCreationParameters=creation(target))
        # (a replay of the same request is checked in ImportTokens, on an import
        # slow enough not to have ended before it)
        arn = self.ddb.import_table(**kw)["ImportTableDescription"]["ImportArn"]
        d = self.wait_import(self.ddb, arn)
        # lines skipped: FAILED with ItemValidationError, the table kept with
        # the items that passed (as DynamoDB does); the empty and the blank
        # line are no lines; an attribute without a name makes no item
        self.assertEqual((d["ImportStatus"], d["FailureCode"]), ("FAILED", "ItemValidationError"),
                         d)
        self.assertTrue(d["FailureMessage"])
        self.assertEqual(d["InputCompressionType"], "NONE")
        self.assertEqual((d["ImportedItemCount"], d["ProcessedItemCount"], d["ErrorCount"]),
                         (3, 7, 4))
        self.assertEqual(d["ProcessedSizeBytes"], len(body.encode()))  # every byte, newlines too
        self.assertEqual(self.ddb.describe_table(TableName=target)["Table"]["TableStatus"],
                         "ACTIVE")
        self.assertEqual(len(scan_all(self.ddb, target)), 3)
        # CSV, with a header line; key attributes take the table's types
        pre = "csv-" + uuid.uuid4().hex[:8] + "/"
        self.s3.put_object(Bucket=self.bucket, Key=pre + "a.csv", Body=gzip.compress(
            b'pk,sk,color,note\nk1,1,red,"a, quoted ""note"""\nk2,2,,plain\nk3,x,blue,bad\n'
            b'k4,4,too,many,fields\n'))
        target = "csv-" + uuid.uuid4().hex[:8]
        d = self.ddb.import_table(
            S3BucketSource={"S3Bucket": self.bucket, "S3KeyPrefix": pre}, InputFormat="CSV",
            InputCompressionType="GZIP", InputFormatOptions={"Csv": {"Delimiter": ","}},
            TableCreationParameters=creation(target))["ImportTableDescription"]
        d = self.wait_import(self.ddb, d["ImportArn"])
        self.assertEqual((d["ImportStatus"], d["ImportedItemCount"], d["ErrorCount"]),
                         ("FAILED", 2, 2), d)
        items = {x["pk"]["S"]: x for x in self.ddb.scan(TableName=target)["Items"]}
        self.assertEqual(items["k1"], {"pk": {"S": "k1"}, "sk": {"N": "1"},
                                       "color": {"S": "red"}, "note": {"S": 'a, quoted "note"'}})
        self.assertEqual(items["k2"], {"pk": {"S": "k2"}, "sk": {"N": "2"},
                                       "note": {"S": "plain"}})

    def test_many_objects(self):
        """More objects than one page of S3's listing (1,000 keys)."""
        pre = "many-" + uuid.uuid4().hex[:8] + "/"
        s3 = self.server.boto3("s3", max_pool_connections=8)

        def put(i):
            s3.put_object(Bucket=self.bucket, Key="%s%04d.json" % (pre, i), Body=json.dumps(
                {"Item": {"pk": {"S": "m%d" % i}, "sk": {"N": "0"}}}).encode())
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(pool.map(put, range(1005)))
        target = "many-" + uuid.uuid4().hex[:8]
        d = self.ddb.import_table(
            S3BucketSource={"S3Bucket": self.bucket, "S3KeyPrefix": pre},
            InputFormat="DYNAMODB_JSON", TableCreationParameters=creation(target))[
            "ImportTableDescription"]
        d = self.wait_import(self.ddb, d["ImportArn"], timeout=120)
        self.assertEqual((d["ImportStatus"], d["ImportedItemCount"], d["ErrorCount"]),
                         ("COMPLETED", 1005, 0), d)

    @unittest.skipUnless(shutil.which("zstd"), "no zstd command")
    def test_zstd(self):
        pre = "zst-" + uuid.uuid4().hex[:8] + "/"
        frames = b""
        for part in range(2):  # two zstd frames one after another
            lines = "".join(json.dumps({"Item": {"pk": {"S": "z%d" % i}, "sk": {"N": str(part)}}})
                            + "\n" for i in range(10))
            frames += subprocess.run(["zstd", "-q", "-c"], input=lines.encode(),
                                     capture_output=True, check=True).stdout
        self.s3.put_object(Bucket=self.bucket, Key=pre + "a.json.zst", Body=frames)
        self.s3.put_object(Bucket=self.bucket, Key=pre + "b.json.zst", Body=b"not zstd at all")
        target = "zst-" + uuid.uuid4().hex[:8]
        d = self.ddb.import_table(
            S3BucketSource={"S3Bucket": self.bucket, "S3KeyPrefix": pre},
            InputFormat="DYNAMODB_JSON", InputCompressionType="ZSTD",
            TableCreationParameters=creation(target))["ImportTableDescription"]
        d = self.wait_import(self.ddb, d["ImportArn"])
        self.assertEqual((d["ImportStatus"], d["ImportedItemCount"], d["ErrorCount"]),
                         ("FAILED", 20, 1), d)
        self.assertEqual(self.ddb.describe_table(TableName=target)["Table"]["ItemCount"], 20)

    def test_cut_short(self):
        """A GZIP object cut short: the lines before the cut are imported as
        they arrived, the rest of the object is one error."""
        pre = "cut-" + uuid.uuid4().hex[:8] + "/"
        body = "".join(json.dumps({"Item": {"pk": {"S": "c%d" % i}, "sk": {"N": "1"},
                                            "v": {"S": uuid.uuid4().hex * 4}}}) + "\n"
                       for i in range(400)).encode()
        cut = gzip.compress(body)
        cut = cut[:len(cut) // 2]
        got = zlib.decompressobj(16 + 15).decompress(cut)  # what arrives before the cut
        whole = got.count(b"\n")
        self.assertTrue(0 < whole < 400)
        self.s3.put_object(Bucket=self.bucket, Key=pre + "a.json.gz", Body=cut)
        target = "cut-" + uuid.uuid4().hex[:8]
        d = self.ddb.import_table(
            S3BucketSource={"S3Bucket": self.bucket, "S3KeyPrefix": pre},
            InputFormat="DYNAMODB_JSON", InputCompressionType="GZIP",
            TableCreationParameters=creation(target))["ImportTableDescription"]
        d = self.wait_import(self.ddb, d["ImportArn"])
        self.assertEqual((d["ImportStatus"], d["ProcessedItemCount"], d["ImportedItemCount"],
                          d["ErrorCount"]), ("FAILED", whole, whole, 1), d)
        self.assertEqual(len(scan_all(self.ddb, target)), whole)

    def test_errors(self):
        target = "imp-" + uuid.uuid4().hex[:8]
        src = {"S3Bucket": self.bucket, "S3KeyPrefix": "nothing/"}
        code, msg = self.err(self.ddb.import_table, S3BucketSource=src, InputFormat="XML",
                             TableCreationParameters=creation(target))
        self.assertEqual(code, "ValidationException")
        code, _ = self.err(self.ddb.describe_import,
                           ImportArn="arn:aws:dynamodb:us-east-1:123456789012:table/xyz/import/"
                                     "01234567890123-abcdef01")
        self.assertEqual(code, "ImportNotFoundException")
        code, _ = self.err(self.ddb.list_imports, PageSize=30)
        self.assertEqual(code, "ValidationException")
        # the CSV delimiter is exactly one character (botocore checks the minimum itself)
        raw = self.server.boto3(parameter_validation=False)
        for delim, bound in (("", "greater than or equal to 1"), (",,", "less than or equal to 1")):
            code, msg = self.err(raw.import_table, S3BucketSource=src, InputFormat="CSV",
                                 InputFormatOptions={"Csv": {"Delimiter": delim}},
                                 TableCreationParameters=creation(target))
            self.assertEqual((code, msg), (
                "ValidationException",
                "1 validation error detected: Value '%s' at 'inputFormatOptions.csv.delimiter' "
                "failed to satisfy constraint: Member must have length %s" % (delim, bound)))
        # S3Bucket takes the model's pattern and length, S3KeyPrefix its length
        pattern = r"Member must satisfy regular expression pattern: ^[a-z0-9A-Z]+[\.\-\w]*[a-z0-9A-Z]+$"
        for bad, why in (("-bucket", "Value '-bucket' at 's3BucketSource.s3Bucket' failed to "
                                     "satisfy constraint: " + pattern),
                         ("b" * 256, "at 's3BucketSource.s3Bucket' failed to satisfy "
                                     "constraint: Member must have length less than or equal "
                                     "to 255")):
            code, msg = self.err(raw.import_table, S3BucketSource=dict(src, S3Bucket=bad),
                                 InputFormat="DYNAMODB_JSON",
                                 TableCreationParameters=creation(target))
            self.assertEqual(code, "ValidationException")
            self.assertIn(why, msg)
        code, msg = self.err(raw.import_table, S3BucketSource={"S3KeyPrefix": "p/"},
                             InputFormat="DYNAMODB_JSON", TableCreationParameters=creation(target))
        self.assertEqual((code, msg), (
            "ValidationException", "1 validation error detected: Value null at "
            "'s3BucketSource.s3Bucket' failed to satisfy constraint: Member must not be null"))
        code, msg = self.err(raw.import_table, S3BucketSource=dict(src, S3KeyPrefix="p" * 1025),
                             InputFormat="DYNAMODB_JSON", TableCreationParameters=creation(target))
        self.assertEqual(code, "ValidationException")
        self.assertIn("at 's3BucketSource.s3KeyPrefix' failed to satisfy constraint: Member must "
                      "have length less than or equal to 1024", msg)
        code, msg = self.err(raw.import_table, S3BucketSource=dict(src, S3BucketOwner="12"),
                             InputFormat="DYNAMODB_JSON", TableCreationParameters=creation(target))
        self.assertEqual((code, msg), (
            "ValidationException", "1 validation error detected: Value '12' at "
            "'s3BucketSource.s3BucketOwner' failed to satisfy constraint: Member must satisfy "
            "regular expression pattern: [0-9]{12}"))
        self.assertNotIn(target, self.ddb.list_tables()["TableNames"])
        # CSV options are for CSV only
        code, msg = self.err(self.ddb.import_table, S3BucketSource=src,
                             InputFormat="DYNAMODB_JSON",
                             InputFormatOptions={"Csv": {"Delimiter": ","}},
                             TableCreationParameters=creation(target))
        self.assertEqual(code, "ValidationException")
        self.assertIn("InputFormatOptions", msg)
        # a missing bucket: FAILED, and the table is gone
        d = self.ddb.import_table(S3BucketSource=dict(src, S3Bucket="no-such-" + target),
                                  InputFormat="DYNAMODB_JSON",
                                  TableCreationParameters=creation(target))[
            "ImportTableDescription"]
        self.assertNotIn("ProcessedSizeBytes", d)  # absent until something is read
        d = self.wait_import(self.ddb, d["ImportArn"])
        self.assertEqual((d["ImportStatus"], d["FailureCode"]), ("FAILED", "S3NoSuchBucket"), d)
        self.assertNotIn("ProcessedSizeBytes", d)
        wait_until(lambda: target not in self.ddb.list_tables()["TableNames"],
                   what="the failed import's table to go")
        # no object under the prefix: an import of nothing, COMPLETED, and the
        # empty table is kept (as DynamoDB does)
        d = self.ddb.import_table(S3BucketSource=src, InputFormat="DYNAMODB_JSON",
                                  TableCreationParameters=creation(target))[
            "ImportTableDescription"]
        d = self.wait_import(self.ddb, d["ImportArn"])
        self.assertEqual((d["ImportStatus"], d["ProcessedItemCount"], d["ErrorCount"]),
                         ("COMPLETED", 0, 0), d)
        self.assertNotIn("FailureCode", d)
        t = self.ddb.describe_table(TableName=target)["Table"]
        self.assertEqual((t["TableStatus"], t["ItemCount"]), ("ACTIVE", 0))
        self.ddb.delete_table(TableName=target)


class Authz(Base):
    """The caller needs the DynamoDB action on the table and the S3 actions
    on the bucket, asked of the region's IAM before anything is recorded."""

    def user(self, statements):
        iam = self.server.boto3("iam")
        name = "u" + uuid.uuid4().hex[:8]
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": statements}))
        k = iam.create_access_key(UserName=name)["AccessKey"]
        return self.server.boto3(access_key=k["AccessKeyId"], secret_key=k["SecretAccessKey"])

    def test_actions(self):
        name, data = self.export(3)
        arn = self.ddb.describe_table(TableName=name)["Table"]["TableArn"]
        table_only = self.user([{"Effect": "Allow", "Action": [
            "dynamodb:ExportTableToPointInTime", "dynamodb:ImportTable",
            "dynamodb:DescribeExport", "dynamodb:DescribeImport"], "Resource": "*"}])
        both = self.user([
            {"Effect": "Allow", "Action": ["dynamodb:ExportTableToPointInTime",
                                           "dynamodb:ImportTable", "dynamodb:DescribeExport",
                                           "dynamodb:DescribeImport", "dynamodb:ListExports"],
             "Resource": "*"},
            {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"],
             "Resource": "arn:aws:s3:::%s/dr/*" % self.bucket},
            {"Effect": "Allow", "Action": "s3:ListBucket",
             "Resource": "arn:aws:s3:::%s" % self.bucket}])

        def refused(client, fn, **kw):
            deadline = time.time() + 10
            while True:  # a new key may take a moment to be known
                try:
                    getattr(client, fn)(**kw)
                    return None
                except ClientError as e:
                    code = e.response["Error"]["Code"]
                    if code not in ("UnrecognizedClientException",
                                    "InvalidSignatureException") or time.time() > deadline:
                        return code
                    time.sleep(0.2)

        exp = dict(TableArn=arn, S3Bucket=self.bucket, S3Prefix="dr/authz")
        imp = dict(S3BucketSource={"S3Bucket": self.bucket, "S3KeyPrefix": data},
                   InputFormat="DYNAMODB_JSON", InputCompressionType="GZIP")
        self.assertEqual(refused(table_only, "export_table_to_point_in_time", **exp),
                         "AccessDeniedException")
        self.assertEqual(refused(table_only, "import_table",
                                 TableCreationParameters=creation(name + "-a"), **imp),
                         "AccessDeniedException")
        self.assertEqual(refused(both, "export_table_to_point_in_time",
                                 **dict(exp, S3Prefix="elsewhere")), "AccessDeniedException")
        self.assertIsNone(refused(both, "export_table_to_point_in_time", **exp))
        self.assertIsNone(refused(both, "import_table",
                                  TableCreationParameters=creation(name + "-b"), **imp))
        self.assertEqual(refused(both, "list_imports"), "AccessDeniedException")
        self.assertIsNone(refused(both, "list_exports"))


def rss_kib(pid, field="VmRSS"):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


class ImportMemory(Base):
    """ImportTable reads each object as it arrives: importing a 64 MiB+
    object (decompressed) grows the server's resident memory by far less
    than a quarter of the object, for GZIP and for ZSTD. (ASan's quarantine of freed
    blocks is kept small so it does not stand for memory the import holds.)"""

    knobs = dict(Base.knobs, ASAN_OPTIONS="detect_leaks=1:strict_string_checks=1:"
                 "quarantine_size_mb=8:thread_local_quarantine_size_kb=256")
    MIB = 1 << 20

    def big_object(self):
        """(lines, their sizes) of a 64 MiB+ object: 1 KiB items over 64
        keys, a bad line, a line with "\r\n", and a line longer than any item
        (one error, its bytes counted)."""
        pad = "x" * 1000
        lines = [json.dumps({"Item": {"pk": {"S": "k%d" % (i % 64)}, "sk": {"N": str(i % 3)},
                                      "v": {"S": pad}}}) for i in range(66000)]
        lines[100] = "{not json"
        lines[200] += "\r"
        lines[300] = json.dumps({"Item": {"pk": {"S": "y" * (20 * self.MIB)}}})
        size = sum(len(x) for x in lines)
        self.assertGreater(size, 64 * self.MIB)
        return ("\n".join(lines) + "\n").encode(), len(lines), size - 1

    def import_measured(self, key, body, comp):
        pre = "mem-%s-%s/" % (comp.lower(), uuid.uuid4().hex[:8])
        self.s3.put_object(Bucket=self.bucket, Key=pre + key, Body=body)
        pid = self.server.proc.pid
        target = "mem-" + uuid.uuid4().hex[:8]
        before = (rss_kib(pid), rss_kib(pid, "RssAnon"))
        d = self.ddb.import_table(
            S3BucketSource={"S3Bucket": self.bucket, "S3KeyPrefix": pre},
            InputFormat="DYNAMODB_JSON", InputCompressionType=comp,
            TableCreationParameters=creation(target))["ImportTableDescription"]
        peak = list(before)

        def done():
            peak[0] = max(peak[0], rss_kib(pid))
            peak[1] = max(peak[1], rss_kib(pid, "RssAnon"))
            x = self.ddb.describe_import(ImportArn=d["ImportArn"])["ImportTableDescription"]
            return x if x["ImportStatus"] != "IN_PROGRESS" else None
        d = wait_until(done, timeout=600, interval=0.2, what="the import")
        grew = (peak[0] - before[0]) * 1024, (peak[1] - before[1]) * 1024
        print("\nimport %s: RSS +%.1f MiB (anonymous +%.1f MiB)"
              % (comp, grew[0] / self.MIB, grew[1] / self.MIB))
        return d, target, grew

    def check(self, comp, compress):
        raw, nlines, size = self.big_object()
        body = compress(raw)
        # once to warm what an import holds whatever its objects' size (pieces of
        # store writes, the store's own buffers); then measured
        self.import_measured("warm.json", body, comp)
        d, target, grew = self.import_measured("big.json", body, comp)
        self.assertEqual((d["ImportStatus"], d["FailureCode"]), ("FAILED", "ItemValidationError"),
                         d)
        self.assertEqual((d["ProcessedItemCount"], d["ImportedItemCount"], d["ErrorCount"]),
                         (nlines, nlines - 2, 2))
        self.assertEqual(d["ProcessedSizeBytes"], len(raw))
        self.assertEqual(self.ddb.describe_table(TableName=target)["Table"]["ItemCount"], 64 * 3)
        self.assertLess(grew[0], len(raw) // 4, "RSS grew by %d bytes" % grew[0])

    def test_gzip(self):
        self.check("GZIP", lambda b: gzip.compress(b, compresslevel=1))

    @unittest.skipUnless(shutil.which("zstd"), "no zstd command")
    def test_zstd(self):
        self.check("ZSTD", lambda b: subprocess.run(["zstd", "-q", "-c", "-1"], input=b,
                                                    capture_output=True, check=True).stdout)


class TwoRegions(unittest.TestCase):
    """Export in us-east-1 into its bucket; import in us-west-2 of the same
    deployment from that bucket (reached through the peer list)."""

    def test_import_in_the_other_region(self):
        from repl_helpers import deployment
        with mock.patch.dict(os.environ, {"TANDEM_DDB_PITR_DAY_SECONDS": str(DAY_SECONDS)}):
            east, west = deployment(["us-east-1", "us-west-2"])
        self.addCleanup(west.cleanup)
        self.addCleanup(east.cleanup)
        self.addCleanup(west.stop)
        self.addCleanup(east.stop)
        ddb, s3 = east.boto3(), east.boto3("s3")
        bucket = "dr-east-" + uuid.uuid4().hex[:8]
        s3.create_bucket(Bucket=bucket)
        ddb.create_table(**creation("orders"))
        ddb.update_continuous_backups(
            TableName="orders",
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
        for i in range(30):
            ddb.put_item(TableName="orders", Item=every_type("o%d" % (i % 4), i))
        arn = ddb.describe_table(TableName="orders")["Table"]["TableArn"]
        d = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket)["ExportDescription"]
        d = wait_until(lambda: (lambda x: x if x["ExportStatus"] != "IN_PROGRESS" else None)(
            ddb.describe_export(ExportArn=d["ExportArn"])["ExportDescription"]),
            what="the export")
        self.assertEqual(d["ExportStatus"], "COMPLETED", d)
        wddb = west.boto3()
        i = wddb.import_table(
            S3BucketSource={"S3Bucket": bucket,
                            "S3KeyPrefix": d["ExportManifest"].rsplit("/", 1)[0] + "/data/"},
            InputFormat="DYNAMODB_JSON", InputCompressionType="GZIP",
            TableCreationParameters=creation("orders"))["ImportTableDescription"]
        self.assertTrue(i["ImportArn"].startswith("arn:aws:dynamodb:us-west-2:"))
        i = wait_until(lambda: (lambda x: x if x["ImportStatus"] != "IN_PROGRESS" else None)(
            wddb.describe_import(ImportArn=i["ImportArn"])["ImportTableDescription"]),
            what="the import")
        self.assertEqual((i["ImportStatus"], i["ImportedItemCount"]), ("COMPLETED", 30), i)
        self.assertEqual(scan_all(wddb, "orders"), scan_all(ddb, "orders"))


class TokenWindow(Base):
    """A ClientToken is idempotent for 8 hours after its first request, then
    a new request's (ExportTableToPointInTime's and ImportTable's
    ClientToken); TANDEM_DDB_CLIENT_TOKEN_SECONDS makes the window short."""

    WINDOW = 4
    knobs = dict(Base.knobs, TANDEM_DDB_CLIENT_TOKEN_SECONDS=str(WINDOW))

    def past_window(self, start):
        time.sleep(max(0.0, start + self.WINDOW + 0.5 - time.time()))

    def test_export_token_expires(self):
        name, td = self.new_table()
        self.fill(name, 5)
        kw = dict(TableArn=td["TableArn"], S3Bucket=self.bucket, S3Prefix="win/a",
                  ClientToken="win-" + name)
        a = self.ddb.export_table_to_point_in_time(**kw)["ExportDescription"]
        self.assertEqual(self.ddb.export_table_to_point_in_time(**kw)["ExportDescription"]
                         ["ExportArn"], a["ExportArn"])
        self.wait(a["ExportArn"])
        self.past_window(a["StartTime"].timestamp())
        # the same request again is a new export, and the token is now its
        b = self.ddb.export_table_to_point_in_time(**kw)["ExportDescription"]
        self.assertNotEqual(b["ExportArn"], a["ExportArn"])
        self.assertEqual(b["ExportStatus"], "IN_PROGRESS")
        self.assertEqual(self.ddb.export_table_to_point_in_time(**kw)["ExportDescription"]
                         ["ExportArn"], b["ExportArn"])
        code, msg = self.err(self.ddb.export_table_to_point_in_time,
                             **dict(kw, S3Prefix="win/other"))
        self.assertEqual(code, "ExportConflictException")
        self.wait(b["ExportArn"])
        # past the window, other parameters are no conflict either
        self.past_window(b["StartTime"].timestamp())
        c = self.ddb.export_table_to_point_in_time(**dict(kw, S3Prefix="win/other"))[
            "ExportDescription"]
        self.assertNotIn(c["ExportArn"], (a["ExportArn"], b["ExportArn"]))
        self.assertEqual(c["S3Prefix"], "win/other")
        self.wait(c["ExportArn"])
        # newest first, as DynamoDB lists a table's exports, a page at a time too
        arns = [x["ExportArn"] for x in
                self.ddb.list_exports(TableArn=td["TableArn"])["ExportSummaries"]]
        self.assertEqual(arns, [c["ExportArn"], b["ExportArn"], a["ExportArn"]])
        paged, kw = [], {"TableArn": td["TableArn"], "MaxResults": 1}
        for _ in range(5):
            page = self.ddb.list_exports(**kw)
            paged += [x["ExportArn"] for x in page["ExportSummaries"]]
            if "NextToken" not in page:
                break
            kw["NextToken"] = page["NextToken"]
        self.assertEqual(paged, arns)

    def test_import_token_expires(self):
        name, data = self.export(5)
        src = {"S3Bucket": self.bucket, "S3KeyPrefix": data}
        kw = dict(S3BucketSource=src, InputFormat="DYNAMODB_JSON", InputCompressionType="GZIP",
                  ClientToken="win-" + name, TableCreationParameters=creation(name + "-a"))
        a = self.ddb.import_table(**kw)["ImportTableDescription"]
        self.assertEqual(self.wait_import(self.ddb, a["ImportArn"])["ImportStatus"], "COMPLETED")
        # within the window too, a finished import's table answers a replay first
        self.assertEqual(self.err(self.ddb.import_table, **kw)[0], "ResourceInUseException")
        code, _ = self.err(self.ddb.import_table,
                           **dict(kw, TableCreationParameters=creation(name + "-b")))
        self.assertEqual(code, "ImportConflictException")
        self.past_window(a["StartTime"].timestamp())
        # past it, the same request is a new one: its table exists now
        code, msg = self.err(self.ddb.import_table, **kw)
        self.assertEqual(code, "ResourceInUseException")
        self.assertIn(name + "-a", msg)
        # and other parameters are no conflict: a new import
        b = self.ddb.import_table(**dict(kw, TableCreationParameters=creation(name + "-b")))[
            "ImportTableDescription"]
        self.assertNotEqual(b["ImportArn"], a["ImportArn"])
        self.assertEqual(self.wait_import(self.ddb, b["ImportArn"])["ImportStatus"], "COMPLETED")
        self.assertEqual(len(scan_all(self.ddb, name + "-b")), 5)


class ImportTokens(Base):
    """What an import's ClientToken guards (its table, nothing else), while it
    runs and after; ListImports' NextToken as the model shapes it; DescribeImport
    of an ARN that is not an import's. Pieces of 50 items 100 ms apart keep the
    import running while the replays are made."""

    knobs = dict(Base.knobs, TANDEM_DDB_BACKUP_PIECE_ITEMS="50",
                 TANDEM_DDB_EXPORT_PAUSE_MS="100")

    def test_replays_and_listing(self):
        pre = "tok-" + uuid.uuid4().hex[:8] + "/"
        body = "".join(json.dumps({"Item": {"pk": {"S": "t%d" % i}, "sk": {"N": "1"}}}) + "\n"
                       for i in range(600))
        self.s3.put_object(Bucket=self.bucket, Key=pre + "a.json", Body=body.encode())
        target = "tok-" + uuid.uuid4().hex[:8]
        src = {"S3Bucket": self.bucket, "S3KeyPrefix": pre}
        kw = dict(ClientToken="tok-" + target, S3BucketSource=src, InputFormat="DYNAMODB_JSON",
                  TableCreationParameters=creation(target))
        a = self.ddb.import_table(**kw)["ImportTableDescription"]
        # while it runs, a replay with another source, format or compression is
        # answered with the import as it was asked for first
        for change in ({"InputCompressionType": "GZIP"}, {"InputFormat": "ION"},
                       {"S3BucketSource": dict(src, S3KeyPrefix="elsewhere/")}):
            got = self.ddb.import_table(**dict(kw, **change))["ImportTableDescription"]
            self.assertEqual((got["ImportArn"], got["S3BucketSource"], got["InputFormat"]),
                             (a["ImportArn"], src, "DYNAMODB_JSON"), change)
        # another table is the one conflict
        code, msg = self.err(self.ddb.import_table,
                             **dict(kw, TableCreationParameters=creation(target + "-b")))
        self.assertEqual((code, msg), ("ImportConflictException",
                                       "Duplicate request detected with conflicting parameters"))
        self.assertEqual(self.ddb.describe_import(ImportArn=a["ImportArn"])[
            "ImportTableDescription"]["ImportStatus"], "IN_PROGRESS")
        self.assertEqual(self.wait_import(self.ddb, a["ImportArn"])["ImportStatus"], "COMPLETED")
        # once it ended, its table answers a replay first
        code, msg = self.err(self.ddb.import_table, **kw)
        self.assertEqual(code, "ResourceInUseException")
        self.assertIn(target, msg)
        # a request without a ClientToken at all (the SDKs always make one)
        bare = self.server.boto3()
        bare.meta.events.unregister("before-parameter-build",
                                    botocore.handlers.generate_idempotent_uuid)
        code, msg = self.err(bare.import_table, S3BucketSource=src, InputFormat="DYNAMODB_JSON",
                             TableCreationParameters=creation(target + "-c"))
        self.assertEqual((code, msg), (
            "ValidationException", "1 validation error detected: Value null at 'clientToken' "
            "failed to satisfy constraint: Member must not be null"))
        # ListImports pages through botocore's own checks of the model's
        # NextToken (112-1024 characters of hex): one import a page
        b = self.ddb.import_table(**dict(kw, ClientToken="tok2-" + target,
                                         TableCreationParameters=creation(target + "-d")))[
            "ImportTableDescription"]
        self.wait_import(self.ddb, b["ImportArn"])
        page = self.ddb.list_imports(PageSize=1)
        self.assertRegex(page["NextToken"], r"^([0-9a-f]{16}){7,}$")
        seen = [page["ImportSummaryList"][0]["ImportArn"]]
        while "NextToken" in page:
            page = self.ddb.list_imports(PageSize=1, NextToken=page["NextToken"])
            seen += [x["ImportArn"] for x in page["ImportSummaryList"]]
        self.assertEqual(sorted(seen), sorted({a["ImportArn"], b["ImportArn"]}))
        code, msg = self.err(self.ddb.list_imports, NextToken="0" * 112)
        self.assertEqual((code, msg), ("ValidationException", "Invalid NextToken"))
        # an import ARN whose table name is not a table name
        bad = a["ImportArn"].replace("table/" + target + "/", "table/x/")
        code, msg = self.err(self.ddb.describe_import, ImportArn=bad)
        self.assertEqual((code, msg), ("ValidationException", "Invalid Import ARN: " + bad))


class Crash(Base):
    """kill -9 in the middle of an export: after the restart it is FAILED,
    never left IN_PROGRESS; exporting again works."""

    knobs = dict(Base.knobs, TANDEM_DDB_BACKUP_PIECE_ITEMS="50",
                 TANDEM_DDB_EXPORT_PAUSE_MS="100")

    def restart(self):
        """Start the stopped server again (new port): the class's clients follow."""
        with mock.patch.dict(os.environ, self.knobs):
            self.server.start()
        self.__class__.ddb = self.server.boto3()
        self.__class__.s3 = self.server.boto3("s3")
        return self.ddb

    def test_kill_mid_export(self):
        name, td = self.new_table()
        self.fill(name, 1500)
        d = self.ddb.export_table_to_point_in_time(
            TableArn=td["TableArn"], S3Bucket=self.bucket)["ExportDescription"]
        wait_until(lambda: len(self.s3.list_objects_v2(
            Bucket=self.bucket, Prefix="AWSDynamoDB/").get("Contents", [])) > 0,
            what="the export's first object")
        self.server.kill()
        ddb = self.restart()
        got = ddb.describe_export(ExportArn=d["ExportArn"])["ExportDescription"]
        self.assertEqual(got["ExportStatus"], "FAILED", got)
        self.assertTrue(got["FailureMessage"])
        d = ddb.export_table_to_point_in_time(TableArn=td["TableArn"],
                                              S3Bucket=self.bucket)["ExportDescription"]
        d = self.wait(d["ExportArn"], timeout=120)
        self.assertEqual((d["ExportStatus"], d["ItemCount"]), ("COMPLETED", 1500), d)
        # kill -9 in the middle of an import of it: FAILED, its table gone
        target = name + "-imp"
        i = ddb.import_table(
            S3BucketSource={"S3Bucket": self.bucket,
                            "S3KeyPrefix": d["ExportManifest"].rsplit("/", 1)[0] + "/data/"},
            InputFormat="DYNAMODB_JSON", InputCompressionType="GZIP",
            TableCreationParameters=creation(target))["ImportTableDescription"]
        wait_until(lambda: ddb.describe_table(TableName=target)["Table"]["ItemCount"] > 0,
                   what="part of the import")
        self.assertEqual(ddb.describe_table(TableName=target)["Table"]["TableStatus"],
                         "CREATING")
        # an importing table is CREATING, and refused as DynamoDB refuses one
        code, msg = self.err(ddb.delete_table, TableName=target)
        self.assertEqual((code, msg), (
            "ResourceInUseException",
            "Attempt to change a resource which is still in use: Table is being created: "
            + target))
        code, _ = self.err(ddb.get_item, TableName=target,  # not served before ACTIVE
                           Key={"pk": {"S": "p0"}, "sk": {"N": "0"}})
        self.assertEqual(code, "ResourceNotFoundException")
        self.server.kill()
        ddb = self.restart()
        got = ddb.describe_import(ImportArn=i["ImportArn"])["ImportTableDescription"]
        self.assertEqual(got["ImportStatus"], "FAILED", got)
        wait_until(lambda: target not in ddb.list_tables()["TableNames"],
                   what="the cut-off import's table to go")


    def test_stop_mid_export(self):
        """A server stopped (SIGTERM) in the middle of an export: FAILED at
        the next start with the reason, not an S3 error of the shutdown."""
        name, td = self.new_table()
        self.fill(name, 1500)
        d = self.ddb.export_table_to_point_in_time(
            TableArn=td["TableArn"], S3Bucket=self.bucket, S3Prefix="stop")["ExportDescription"]
        wait_until(lambda: len(self.s3.list_objects_v2(
            Bucket=self.bucket, Prefix="stop/").get("Contents", [])) > 0,
            what="the export's first object")
        self.server.stop()
        got = self.restart().describe_export(ExportArn=d["ExportArn"])["ExportDescription"]
        self.assertEqual(got["ExportStatus"], "FAILED", got)
        self.assertIn("cut off by a restart", got["FailureMessage"])


if __name__ == "__main__":
    unittest.main()
