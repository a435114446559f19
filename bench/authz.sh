#!/bin/bash
# authz.sh - what authorizing a request costs: GetItem (100-byte items, 8
# connections) as the account root (never evaluated), as an IAM user allowed
# dynamodb:GetItem on the table by an inline policy, and as one whose policy
# also has a dynamodb:LeadingKeys condition (ForAllValues:StringLike "k*",
# so the key schema is read and the key values extracted for every request).
#
#   bench/authz.sh [BUILD_DIR]      (default: build-bench under the repository)
#
# Prints one JSON line per caller and round: ops/s, the server's CPU
# microseconds per request, latency p50. Not a test: run by hand, record in
# docs/benchmarks.md ("Authorization").
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build-bench}
TANDEM=$BUILD/src/cli/tandem
LOADGEN=$BUILD/bench/bench_loadgen
TMP=$(mktemp -d /tmp/tandem-authz-bench.XXXXXX)
export AWS_ACCESS_KEY_ID=AKIDAUTHZBENCH$RANDOM AWS_SECRET_ACCESS_KEY=secret$RANDOM$RANDOM
export AWS_DEFAULT_REGION=us-east-1
PORT=$((20000 + RANDOM % 20000))
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
"$TANDEM" server --region us-east-1 --data "$TMP/data" --listen 127.0.0.1:$PORT \
    --account 123456789012 --access-key "$AWS_ACCESS_KEY_ID" \
    --secret-key "$AWS_SECRET_ACCESS_KEY" --log-level warn >"$TMP/server.log" 2>&1 &
PID=$!
for _ in $(seq 100); do ss -ltn | grep -q ":$PORT " && break; sleep 0.1; done
ROOTK=(--access-key "$AWS_ACCESS_KEY_ID" --secret-key "$AWS_SECRET_ACCESS_KEY")
"$LOADGEN" --port $PORT --mode create-table --table bench "${ROOTK[@]}" >/dev/null
"$LOADGEN" --port $PORT --mode put --requests 2000 --table bench --connections 8 "${ROOTK[@]}" \
    >/dev/null
PORT=$PORT python3 - "$TMP/keys" <<'PY'
import json, os, sys
import boto3
iam = boto3.client("iam", endpoint_url="http://127.0.0.1:%s" % os.environ["PORT"])
arn = "arn:aws:dynamodb:us-east-1:123456789012:table/bench"
out = {}
for name, cond in (("user", None),
                   ("leadingkeys", {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["k*"]}})):
    iam.create_user(UserName=name)
    st = {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": arn}
    if cond:
        st["Condition"] = cond
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [st]}))
    k = iam.create_access_key(UserName=name)["AccessKey"]
    out[name] = [k["AccessKeyId"], k["SecretAccessKey"]]
json.dump(out, open(sys.argv[1], "w"))
PY
for round in 1 2 3; do
    for who in root user leadingkeys; do
        if [ "$who" = root ]; then K=("${ROOTK[@]}"); else
            K=(--access-key "$(python3 -c "import json;print(json.load(open('$TMP/keys'))['$who'][0])")"
               --secret-key "$(python3 -c "import json;print(json.load(open('$TMP/keys'))['$who'][1])")")
        fi
        "$LOADGEN" --port $PORT --mode get --keys 2000 --table bench --connections 8 \
            --duration 4 --warmup 1 --pid $PID "${K[@]}" |
            python3 -c "import json,sys;j=json.load(sys.stdin);print(json.dumps({'round':$round,'caller':'$who','ops_per_s':j['ops_per_s'],'server_cpu_us_per_req':j['server_cpu_us_per_req'],'p50_us':j['latency_us']['p50'],'errors':j['errors']}))"
    done
done
