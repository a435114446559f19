#!/usr/bin/env python3
"""bench/backup_hold.py - how long other writes wait while a table is backed
up and restored.

Starts `tandem server` on a fresh data dir (127.0.0.1:PORT), fills a table
with a GSI with N items of about 1 KB (BatchWriteItem), then, while one client
thread does PutItems one after another on another table, runs CreateBackup
until the backup is AVAILABLE and RestoreTableFromBackup until the table is
ACTIVE, then DeleteTable of the restored table. Prints, for each, the copy's time (from the request to
AVAILABLE/ACTIVE) and the longest and median PutItem latency during it: the
time other writes wait. Run it against a build before and after a change and
compare the ratios (docs/benchmarks.md). Bounded: every wait times out.

Usage: bench/backup_hold.py --bin build-rel/src/cli/tandem [--items 100000]
                            [--port 46100]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import boto3
from botocore.config import Config


def client(port):
    return boto3.client("dynamodb", endpoint_url="http://127.0.0.1:%d" % port,
                        region_name="us-east-1", aws_access_key_id="AKIDBENCH",
                        aws_secret_access_key="bench",
                        config=Config(retries={"max_attempts": 1}, read_timeout=120,
                                      connect_timeout=5))


def wait(fn, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if fn():
            return time.monotonic()
        time.sleep(0.02)
    raise SystemExit("timed out waiting for " + what)


class Writer(threading.Thread):
    def __init__(self, port, table):
        super().__init__(daemon=True)
        self.c, self.table = client(port), table
        self.stop = threading.Event()
        self.log = []

    def run(self):
        i = 0
        while not self.stop.is_set():
            t0 = time.monotonic()
            self.c.put_item(TableName=self.table, Item={"id": {"S": "w%d" % i}})
            self.log.append((t0, time.monotonic()))
            i += 1

    def during(self, a, b):
        lat = [y - x for x, y in self.log if x < b and y > a]
        return (max(lat), statistics.median(lat), len(lat)) if lat else (0, 0, 0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--items", type=int, default=100000)
    ap.add_argument("--port", type=int, default=46100)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="tandem-bench-backup-")
    err = open(os.path.join(tmp, "stderr.log"), "wb")
    proc = subprocess.Popen([a.bin, "server", "--region", "us-east-1", "--data",
                             os.path.join(tmp, "data"), "--listen", "127.0.0.1:%d" % a.port,
                             "--access-key", "AKIDBENCH", "--secret-key", "bench"], stdout=err, stderr=err,
                            stdin=subprocess.DEVNULL)
    try:
        c = client(a.port)
        wait(lambda: _up(c), 60, "the server")
        c.create_table(TableName="big", BillingMode="PAY_PER_REQUEST",
                       AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"},
                                             {"AttributeName": "g", "AttributeType": "S"}],
                       KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                       GlobalSecondaryIndexes=[{
                           "IndexName": "by-g",
                           "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                           "Projection": {"ProjectionType": "ALL"}}])
        c.create_table(TableName="other", BillingMode="PAY_PER_REQUEST",
                       AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                       KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
        pad = "x" * 1000
        t0 = time.monotonic()
        for s in range(0, a.items, 25):
            c.batch_write_item(RequestItems={"big": [
                {"PutRequest": {"Item": {"id": {"S": "k%07d" % i}, "g": {"S": "g%d" % (i % 97)},
                                         "pad": {"S": pad}}}}
                for i in range(s, min(a.items, s + 25))]})
        print("loaded %d items in %.1f s" % (a.items, time.monotonic() - t0))
        w = Writer(a.port, "other")
        w.start()
        time.sleep(1)
        rows = []
        start = time.monotonic()
        arn = c.create_backup(TableName="big", BackupName="bench-1")["BackupDetails"]["BackupArn"]
        answered = time.monotonic()
        end = wait(lambda: c.describe_backup(BackupArn=arn)["BackupDescription"]
                   ["BackupDetails"]["BackupStatus"] == "AVAILABLE", 600, "the backup")
        rows.append(("CreateBackup", answered - start, end - start, w.during(start, end)))
        time.sleep(1)
        start = time.monotonic()
        c.restore_table_from_backup(TargetTableName="big2", BackupArn=arn)
        answered = time.monotonic()
        end = wait(lambda: c.describe_table(TableName="big2")["Table"]["TableStatus"] ==
                   "ACTIVE", 600, "the restore")
        rows.append(("RestoreTableFromBackup", answered - start, end - start,
                     w.during(start, end)))
        time.sleep(1)
        start = time.monotonic()
        c.delete_table(TableName="big2")
        answered = time.monotonic()
        time.sleep(2)  # the items may still be going in the background
        rows.append(("DeleteTable (then 2 s)", answered - start, answered - start,
                     w.during(start, time.monotonic())))
        w.stop.set()
        w.join(30)
        print("| operation | answered in | copy done in | PutItems during it | "
              "longest PutItem | median PutItem |")
        print("|---|---|---|---|---|---|")
        for name, ans, total, (worst, med, n) in rows:
            print("| %s | %.3f s | %.2f s | %d | %.3f s | %.4f s |" % (name, ans, total, n, worst,
                                                                      med))
    finally:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
        err.close()
        shutil.rmtree(tmp, ignore_errors=True)


def _up(c):
    try:
        c.list_tables()
        return True
    except Exception:  # not listening yet
        return False


if __name__ == "__main__":
    sys.exit(main())
