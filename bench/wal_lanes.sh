#!/usr/bin/env bash
# bench/wal_lanes.sh - durable PutItem under several write-ahead log settings.
#
# Runs bench/run.sh --targets tandem --ops put once per setting, one after the
# other on the same disk, and prints one line each: PutItem/s, p50/p90, server
# CPU per request, PutItems per flush (perf), fsyncs/s measured next to it and
# its median single-file flush time, and the share of fsyncs/s x connections
# reached (each round's rate against the disk measured right before it). A
# setting is LANES:GATHER (TANDEM_WAL_LANES, TANDEM_WAL_GATHER), or "bin=PATH"
# for another tandem binary (e.g. a build of an older tree) with its defaults.
#
# Usage: bench/wal_lanes.sh [--rounds N] [--duration S] SETTING...
#   e.g. bench/wal_lanes.sh 3:0 1:1 2:1 3:1 bin=/tmp/old/build/src/cli/tandem
# Env: BUILD (default build-bench; run bench/run.sh once first to build it).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=2
DURATION=3
while [ $# -gt 0 ]; do
    case "$1" in
    --rounds) ROUNDS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    *) break ;;
    esac
done
[ $# -gt 0 ] || { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2; }

printf '| setting | PutItem/s | p50 µs | p90 µs | CPU µs/req | PutItems per flush | fsyncs/s | fsync p50 µs | %% of fsyncs/s x conns |\n'
printf '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n'
for setting in "$@"; do
    envs=()
    case "$setting" in
    bin=*) envs+=(TANDEM_BIN="${setting#bin=}") ;;
    *:*) envs+=(TANDEM_WAL_LANES="${setting%%:*}" TANDEM_WAL_GATHER="${setting##*:}") ;;
    *) echo "wal_lanes.sh: bad setting $setting" >&2; exit 2 ;;
    esac
    before=$(ls "$ROOT/bench/results" 2>/dev/null | sort | tail -n 1 || true)
    env "${envs[@]}" "$ROOT/bench/run.sh" --no-build --targets tandem --ops put \
        --rounds "$ROUNDS" --duration "$DURATION" >/dev/null
    latest=$(ls "$ROOT/bench/results" | sort | tail -n 1)
    [ "$latest" != "$before" ] || { echo "wal_lanes.sh: no result for $setting" >&2; exit 1; }
    python3 - "$ROOT/bench/results/$latest" "$setting" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
put = r.get("summary", {}).get("tandem/put", {})
rt = r.get("ratios", {})
def f(v, nd=0):
    return "-" if v is None else f"{v:,.{nd}f}"
share = rt.get("put_ops_vs_disk")
print(f"| {sys.argv[2]} | {f(put.get('ops_per_s'))} | {f(put.get('p50_us'))} | "
      f"{f(put.get('p90_us'))} | {f(put.get('server_cpu_us_per_req'), 1)} | "
      f"{f(rt.get('puts_per_flush'), 1)} | {f(r.get('fsync', {}).get('fsyncs_per_s'))} | "
      f"{f(r.get('fsync', {}).get('p50_us'))} | "
      f"{'-' if share is None else f'{100 * share:.1f} %'} |")
EOF
done
