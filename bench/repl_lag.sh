#!/bin/bash
# repl_lag.sh - replication lag and the cost of replication, on loopback.
#
#   bench/repl_lag.sh [BUILD_DIR]      (default: build-bench under the repository)
#
# Starts two regions (us-east-1, us-west-2) peered with each other, creates a
# global table, and measures:
#   1. lag: a steady write load (bench_loadgen put with few connections,
#      about 1,000 writes/s) into us-east-1 for 20 s; us-west-2's histogram
#      tandem_repl_entry_lag_ms (each entry's apply time here minus its HLC
#      write time in the origin, both on this machine's clock) gives p50/p90.
#   2. the cost of replication: ROUNDS (5) short rounds of ROUND_S (3) s each,
#      interleaved (odd rounds unreplicated first, even ones replicated
#      first), of bench_loadgen put with 32 connections into a table without
#      a replica and one with a replica, same region: each round's throughput
#      ratio (replicated / unreplicated), their median and range, and the
#      server CPU per request from /proc/PID/stat over the measured window:
#      us-east-1's alone for the unreplicated table, us-east-1's plus
#      us-west-2's (which applies the entries) for the replicated one.
#   3. catch-up: us-west-2 stopped, 20,000 writes into us-east-1, us-west-2
#      started again: entries applied per second until its backlog is 0.
# With DELAY_MS=50 us-west-2 reaches us-east-1 through a proxy that delays each
# direction by 50 ms (tests/integration/netns/delay_proxy.py; no netem here).
# Prints one JSON object. Not a test: run by hand, record in docs/benchmarks.md.
# The throughput aim (replicated / unreplicated above 0.8) is measured by
# bench/repl_ratio.sh (pinned CPUs, more and longer rounds, the peer's CPU).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build-bench}
TANDEM=$BUILD/src/cli/tandem
LOADGEN=$BUILD/bench/bench_loadgen
CONNS=${LAG_CONNECTIONS:-4}
TMP=$(mktemp -d /tmp/tandem-repl-bench.XXXXXX)
export TANDEM_ACCESS_KEY_ID=AKIDREPLBENCH$RANDOM TANDEM_SECRET_ACCESS_KEY=secret$RANDOM$RANDOM
export AWS_ACCESS_KEY_ID=$TANDEM_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$TANDEM_SECRET_ACCESS_KEY
PA=$((20000 + RANDOM % 20000)); PB=$((PA + 1))
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
REGION_FLAGS=(--log-level warn)
start() { # region port peer-region peer-port
    start_region "$1" "$2" "$TMP/$1" "$3" "$4" "$TMP/$1.log"
    wait_up "$2" || exit 1
}
PEER_A=$PA
if [ -n "${DELAY_MS:-}" ]; then
    PP=$((PB + 1))
    python3 "$ROOT/tests/integration/netns/delay_proxy.py" "127.0.0.1:$PP" "127.0.0.1:$PA" "$DELAY_MS" &
    pids+=($!)
    PEER_A=$PP
fi
start us-east-1 $PA us-west-2 $PB
PID_A=${pids[-1]}
start us-west-2 $PB us-east-1 $PEER_A
PID_B=${pids[-1]}
stream_tables "$PA" +lag plain +repl
lg() { "$LOADGEN" --port $PA --mode put --region us-east-1 --access-key "$AWS_ACCESS_KEY_ID" \
        --secret-key "$AWS_SECRET_ACCESS_KEY" "$@"; }
metrics() { curl -sf "http://127.0.0.1:$PB/_tandem/metrics"; }
before=$(metrics)
steady=$(lg --table lag --connections "$CONNS" --duration 20 --warmup 1 --key-prefix lag)
sleep 2
after=$(metrics)
ROUNDS=${ROUNDS:-5}; ROUND_S=${ROUND_S:-3}
round_plain() { lg --table plain --connections 32 --duration "$ROUND_S" --warmup 0.5 \
    --key-prefix "p$1-" --pid "$PID_A"; }
round_repl() { lg --table repl --connections 32 --duration "$ROUND_S" --warmup 0.5 \
    --key-prefix "r$1-" --pid "$PID_A" --pid2 "$PID_B"; }
: >"$TMP/rounds"
for i in $(seq "$ROUNDS"); do
    if [ $((i % 2)) -eq 1 ]; then
        p=$(round_plain "$i"); r=$(round_repl "$i")
    else
        r=$(round_repl "$i"); p=$(round_plain "$i")
    fi
    echo "[$p,$r]" >>"$TMP/rounds"
done
sleep 3
# catch-up: stop us-west-2, write while it is down, start it and time the backlog
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true; unset 'pids[-1]'
lg --table lag --connections 32 --requests 20000 --key-prefix down >/dev/null
last=$(curl -sf "http://127.0.0.1:$PA/_tandem/metrics" | sed -n 's/^tandem_repl_log_last_seq{[^}]*} //p')
t0=$(date +%s.%N)
start us-west-2 $PB us-east-1 $PEER_A
start_pos=""
for _ in $(seq 1200); do
    pos=$(metrics | sed -n 's/^tandem_repl_position{peer="us-east-1"} //p')
    [ -z "$start_pos" ] && start_pos=${pos:-0}
    [ "${pos:-0}" -ge "$last" ] && break
    sleep 0.05
done
t1=$(date +%s.%N)
catchup=$(python3 -c "print(round(($last - $start_pos) / max($t1 - $t0, 1e-3)))")
python3 - "$before" "$after" "$steady" "$TMP/rounds" "$catchup" "${DELAY_MS:-0}" <<'PY'
import json, re, statistics, sys
def hist(text):
    h = {}
    for m in re.finditer(r'tandem_repl_entry_lag_ms_bucket\{peer="us-east-1",le="([^"]+)"\} (\d+)', text):
        h[m.group(1)] = int(m.group(2))
    return h
b, a = hist(sys.argv[1]), hist(sys.argv[2])
les = list(a.keys())
cum = [(le, a[le] - b.get(le, 0)) for le in les]
total = cum[-1][1]
def pct(p):
    want, prev_le, prev_c = p * total, 0.0, 0
    for le, c in cum:
        hi = float("inf") if le == "+Inf" else float(le)
        if c >= want:
            if hi == float("inf"):
                return "> %g" % prev_le
            frac = (want - prev_c) / max(c - prev_c, 1)
            return round(prev_le + frac * (hi - prev_le), 1)
        prev_le, prev_c = hi, c
steady = json.loads(sys.argv[3])
rounds = [json.loads(line) for line in open(sys.argv[4])]
ratios = [r["ops_per_s"] / max(p["ops_per_s"], 1) for p, r in rounds]
cpu_plain = [p["server_cpu_us_per_req"] for p, r in rounds if p.get("server_cpu_us_per_req")]
cpu_repl = [r["server_cpu_us_per_req"] for p, r in rounds if r.get("server_cpu_us_per_req")]
med = lambda xs: round(statistics.median(xs), 3) if xs else None
print(json.dumps({
    "steady_writes_per_s": round(steady.get("ops_per_s", 0)),
    "entries_measured": total,
    "lag_ms_p50": pct(0.5), "lag_ms_p90": pct(0.9), "lag_ms_p99": pct(0.99),
    "lag_histogram_ms": {le: c for le, c in cum},
    "rounds": len(rounds),
    "unreplicated_puts_per_s": [round(p["ops_per_s"]) for p, r in rounds],
    "replicated_puts_per_s": [round(r["ops_per_s"]) for p, r in rounds],
    "throughput_ratios": [round(x, 3) for x in ratios],
    "throughput_ratio_median": med(ratios),
    "throughput_ratio_range": [round(min(ratios), 3), round(max(ratios), 3)],
    "cpu_us_per_put_unreplicated_writer": [round(x, 1) for x in cpu_plain],
    "cpu_us_per_put_replicated_both_regions": [round(x, 1) for x in cpu_repl],
    "cpu_per_put_ratio_median": med([r / p for p, r in zip(cpu_plain, cpu_repl) if p]),
    "catch_up_entries_per_s": int(sys.argv[5]),
    "proxy_delay_ms_one_way": int(sys.argv[6]),
}, indent=1))
PY
