#!/usr/bin/env bash
# fn_url.sh - function URL throughput and cold starts.
#
#   bench/fn_url.sh [--duration 5] [--connections 32] [--no-build]
#
# Builds tandem and bench_floor (Release, build-bench-fn/) unless --no-build
# (then TANDEM_BIN and BENCH_FLOOR name them), starts the floor and one region
# on free loopback ports, and measures with wrk (32 connections, keep-alive):
#   1. GET / on the floor (hello world on the region's HTTP stack);
#   2. GET on the URL of the trivial C function (examples/functions/c), warm;
#   3. cold starts: the first URL request after a configuration change (which
#      retires the warm instances) for the C example and the Node.js example
#      (examples/functions/node, bundled from tests/js/node_modules), 5 each.
# Prints a Markdown section; every process started is stopped on exit.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DURATION=5
CONNS=32
BUILD=1
while [ $# -gt 0 ]; do
    case "$1" in
    --duration) DURATION="$2"; shift 2 ;;
    --connections) CONNS="$2"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    *) echo "usage: $0 [--duration S] [--connections N] [--no-build]" >&2; exit 2 ;;
    esac
done
if [ "$BUILD" = 1 ]; then
    cmake -S "$ROOT" -B "$ROOT/build-bench-fn" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$ROOT/build-bench-fn" -j2 --target tandem bench_floor >/dev/null
    TANDEM_BIN="$ROOT/build-bench-fn/src/cli/tandem"
    BENCH_FLOOR="$ROOT/build-bench-fn/bench/bench_floor"
fi
: "${TANDEM_BIN:?set TANDEM_BIN}" "${BENCH_FLOOR:?set BENCH_FLOOR}"
command -v wrk >/dev/null || { echo "fn_url.sh: needs wrk" >&2; exit 1; }

TMP="$(mktemp -d)"
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$TMP"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

FPORT=$(free_port)
"$BENCH_FLOOR" --listen "127.0.0.1:$FPORT" --threads 2 >"$TMP/floor.log" 2>&1 &
PIDS+=($!)
TPORT=$(free_port)
export AWS_ACCESS_KEY_ID=AKIABENCHFN000000000 AWS_SECRET_ACCESS_KEY=benchsecretbenchsecretbenchsecret00000000
"$TANDEM_BIN" server --region us-east-1 --data "$TMP/data" --listen "127.0.0.1:$TPORT" \
    --access-key "$AWS_ACCESS_KEY_ID" --secret-key "$AWS_SECRET_ACCESS_KEY" \
    --account 123456789012 --threads 2 --log-level warn >"$TMP/server.log" 2>&1 &
PIDS+=($!)
"$ROOT/examples/functions/c/build.sh" "$TMP/c.zip"
NODE_ZIP=""
if [ -d "$ROOT/tests/js/node_modules/@aws-sdk/client-dynamodb" ] && command -v node >/dev/null; then
    NODE_MODULES_FROM="$ROOT/tests/js/node_modules" "$ROOT/examples/functions/node/build.sh" "$TMP/node.zip"
    NODE_ZIP="$TMP/node.zip"
fi

python3 - "$TPORT" "$FPORT" "$DURATION" "$CONNS" "$TMP" "$NODE_ZIP" <<'PY'
import json, re, statistics, subprocess, sys, time, urllib.request
import boto3, botocore.config
tport, fport, dur, conns, tmp, node_zip = sys.argv[1:7]
ep = "http://127.0.0.1:%s" % tport
for _ in range(200):
    try:
        urllib.request.urlopen(ep + "/", timeout=1).read(); break
    except Exception:
        time.sleep(0.05)
cfg = botocore.config.Config(retries={"max_attempts": 1}, read_timeout=120)
lam = boto3.client("lambda", endpoint_url=ep, region_name="us-east-1", config=cfg)
ddb = boto3.client("dynamodb", endpoint_url=ep, region_name="us-east-1", config=cfg)
ROLE = "arn:aws:iam::123456789012:role/bench"

def mk(name, zpath, runtime, handler, env=None):
    lam.create_function(FunctionName=name, Runtime=runtime, Role=ROLE, Handler=handler,
                        Code={"ZipFile": open(zpath, "rb").read()}, Timeout=30,
                        MemorySize=256, Environment={"Variables": env or {}})
    url = lam.create_function_url_config(FunctionName=name, AuthType="NONE")["FunctionUrl"]
    lam.add_permission(FunctionName=name, StatementId="pub", Action="lambda:InvokeFunctionUrl",
                       Principal="*", FunctionUrlAuthType="NONE")
    return url

def wrk(url):
    out = subprocess.run(["wrk", "-t2", "-c" + conns, "-d%ss" % dur, "--latency", url],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    def pct(p):
        m = re.search(r"\s%s%%\s+([\d.]+)(us|ms|s)" % p, out)
        v, u = float(m.group(1)), m.group(2)
        return v / 1000 if u == "us" else v * 1000 if u == "s" else v
    errs = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, pct(50), pct(90), int(errs.group(1)) if errs else 0

def cold(name, url, n=5):
    times = []
    for i in range(n):
        lam.update_function_configuration(FunctionName=name, Description="round %d" % i)
        t0 = time.monotonic()
        with urllib.request.urlopen(url, timeout=60) as r:
            r.read()
        times.append((time.monotonic() - t0) * 1000)
    return statistics.median(times), min(times), max(times)

curl_url = mk("bench-c", tmp + "/c.zip", "provided.al2023", "bootstrap")
urllib.request.urlopen(curl_url, timeout=30).read()
floor = wrk("http://127.0.0.1:%s/" % fport)
fn = wrk(curl_url)
c_cold = cold("bench-c", curl_url)
rows = [("floor `GET /`", floor), ("function URL, C example", fn)]
print("## Functions: function URLs and cold starts\n")
print("`bench/fn_url.sh` (wrk, %s connections, %s s, 2 server threads; Release build)\n"
      % (conns, dur))
print("| target | requests/s | p50 ms | p90 ms | non-2xx | vs floor |")
print("|---|---:|---:|---:|---:|---:|")
for name, (rps, p50, p90, e) in rows:
    print("| %s | %.0f | %.2f | %.2f | %d | %.3f |" % (name, rps, p50, p90, e, rps / floor[0]))
print()
print("| cold start (first URL request on a new instance) | median ms | min ms | max ms |")
print("|---|---:|---:|---:|")
print("| C (`provided.al2023`) | %.1f | %.1f | %.1f |" % c_cold)
if node_zip:
    ddb.create_table(TableName="bench-fn", BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    try:  # the execution role, where the region enforces IAM
        iam = boto3.client("iam", endpoint_url=ep, region_name="us-east-1", config=cfg)
        iam.create_role(RoleName="bench", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                    "Principal": {"Service": "lambda.amazonaws.com"}}]}))
        iam.put_role_policy(RoleName="bench", PolicyName="t", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "dynamodb:*",
                                                    "Resource": "*"}]}))
    except Exception:
        pass
    nurl = mk("bench-node", node_zip, "nodejs20.x", "index.handler", {"TABLE_NAME": "bench-fn"})
    n_cold = cold("bench-node", nurl)
    print("| Node.js 20 (`nodejs20.x`, AWS SDK v3, PutItem + DescribeTable) | %.1f | %.1f | %.1f |"
          % n_cold)
PY
