#!/bin/bash
# s3_repl_lag.sh - S3 cross-region replication lag for 1 KiB objects, on loopback.
#
#   bench/s3_repl_lag.sh [BUILD_DIR]     (default: build-bench under the repository)
#
# Starts two regions (us-east-1, us-west-2) peered with each other, a versioned
# bucket in each and a replication rule from us-east-1's into us-west-2's.
# A writer puts 1 KiB objects into the source at RATE per second (default 100)
# for SECONDS (default 20), noting when each PUT was acknowledged; a checker
# HEADs each key on the destination in order until it is there. Lag = first
# seen on the destination minus the source's acknowledgement (resolution: one
# HEAD round trip, about a millisecond here). Also: the time until the source
# shows COMPLETED for the last object. Prints one JSON object.
# Not a test: run by hand, record in docs/benchmarks.md.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build-bench}
TANDEM=$BUILD/src/cli/tandem
TMP=$(mktemp -d /tmp/tandem-s3repl-bench.XXXXXX)
export TANDEM_ACCESS_KEY_ID=AKIDS3REPLBENCH$RANDOM TANDEM_SECRET_ACCESS_KEY=secret$RANDOM$RANDOM
export AWS_ACCESS_KEY_ID=$TANDEM_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$TANDEM_SECRET_ACCESS_KEY
PA=$((20000 + RANDOM % 20000)); PB=$((PA + 1))
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
start() { # region port peer-region peer-port
    "$TANDEM" server --region "$1" --data "$TMP/$1" --listen "127.0.0.1:$2" \
        --peer "$3=http://127.0.0.1:$4" --log-level warn 2>"$TMP/$1.log" &
    pids+=($!)
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$2/" >/dev/null && return; sleep 0.1; done
    echo "region $1 did not start" >&2; exit 1
}
start us-east-1 $PA us-west-2 $PB
start us-west-2 $PB us-east-1 $PA
python3 - "$PA" "$PB" "${RATE:-100}" "${SECONDS_RUN:-20}" <<'PY'
import json, os, sys, threading, time
import boto3, botocore.config
pa, pb, rate, secs = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
cfg = botocore.config.Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1})
def client(port, region):
    return boto3.client("s3", region_name=region, endpoint_url="http://127.0.0.1:" + port,
                        config=cfg)
east, west = client(pa, "us-east-1"), client(pb, "us-west-2")
iam = boto3.client("iam", region_name="us-east-1", endpoint_url="http://127.0.0.1:" + pa)
try:
    iam.create_role(RoleName="bench-crr", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
        "Principal": {"Service": "s3.amazonaws.com"}}]}))
except iam.exceptions.EntityAlreadyExistsException:
    pass
iam.put_role_policy(RoleName="bench-crr", PolicyName="crr", PolicyDocument=json.dumps({
    "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*", "Action": [
        "s3:GetObjectVersionForReplication", "s3:ReplicateObject", "s3:ReplicateDelete"]}]}))
role = iam.get_role(RoleName="bench-crr")["Role"]["Arn"]
east.create_bucket(Bucket="src")
west.create_bucket(Bucket="dst", CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
for c, b in ((east, "src"), (west, "dst")):
    c.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
east.put_bucket_replication(Bucket="src", ReplicationConfiguration={"Role": role, "Rules": [{
    "ID": "all", "Priority": 1, "Status": "Enabled", "Filter": {},
    "DeleteMarkerReplication": {"Status": "Enabled"},
    "Destination": {"Bucket": "arn:aws:s3:::dst"}}]})
body = os.urandom(1024)
acked = {}
n = int(rate * secs)
def writer():
    c = client(pa, "us-east-1")
    t0 = time.monotonic()
    for i in range(n):
        due = t0 + i / rate
        d = due - time.monotonic()
        if d > 0:
            time.sleep(d)
        c.put_object(Bucket="src", Key="o%06d" % i, Body=body)
        acked[i] = time.monotonic()
lags = []
def checker():
    c = client(pb, "us-west-2")
    for i in range(n):
        while i not in acked:
            time.sleep(0.0005)
        while True:
            try:
                c.head_object(Bucket="dst", Key="o%06d" % i)
                break
            except Exception:
                pass
        lags.append((time.monotonic() - acked[i]) * 1000.0)
t_start = time.monotonic()
tw, tc = threading.Thread(target=writer), threading.Thread(target=checker)
tw.start(); tc.start(); tw.join(); tc.join()
elapsed = time.monotonic() - t_start
while east.head_object(Bucket="src", Key="o%06d" % (n - 1)).get("ReplicationStatus") != "COMPLETED":
    time.sleep(0.01)
lags.sort()
q = lambda p: round(lags[min(len(lags) - 1, int(p * len(lags)))], 1)
print(json.dumps({"objects": n, "object_bytes": 1024, "rate_per_s": rate,
                  "achieved_per_s": round(n / elapsed, 1),
                  "lag_ms": {"p50": q(0.50), "p90": q(0.90), "p99": q(0.99),
                             "max": round(lags[-1], 1)}}))
PY
