#!/bin/bash
# repl_ratio.sh - write throughput of a replicated table as a ratio of an
# unreplicated one (the global tables aim: above 0.8), in interleaved rounds.
#
#   bench/repl_ratio.sh [BUILD_DIR]      (default: build-bench under the repository)
#
# Two regions on loopback, us-east-1 (the writer) and us-west-2, peered; in
# us-east-1 a table `plain` and a global table `repl` (replica in us-west-2),
# both with a NEW_AND_OLD_IMAGES stream, so the only difference is the
# replica. Each round runs bench_loadgen put (CONNS connections, new keys,
# WARMUP_S s warm-up then ROUND_S s measured) once into each table, the order
# alternating (odd rounds `plain` first); after each arm the script waits
# until us-west-2 has applied all of us-east-1's log, so one arm's backlog is
# never applied during the next. Per round it reports both arms' puts/s and
# their ratio (replicated / unreplicated), and CPU per put from
# /proc/PID/stat: us-east-1's over each measured window (the writer's cost,
# same region in both arms) and us-west-2's from the start of the replicated
# arm until it has caught up, per entry applied (the second region's cost,
# which is not hidden: "pair" is the two added). At the end: medians, ranges,
# rounds above 0.8.
#
# Env:
#   ROUNDS (12), ROUND_S (6), WARMUP_S (1), CONNS (32)
#   PIN (1): pin with taskset, us-east-1 alone on CPU 0, us-west-2 and the
#       load generator on CPU 1, so the writer region has the same CPU in both
#       arms (the peer's apply competes with the client, not with the writer);
#       PIN=0 lets the scheduler place everything.
#   PEER_DATA (empty): a directory under which us-west-2 keeps its data; by
#       default it is beside us-east-1's (mktemp under /tmp), on the same disk,
#       so its commits' flushes compete with the writer's. us-west-2 models
#       another host with its own disk: PEER_DATA=/dev/shm gives it one (tmpfs:
#       its fdatasyncs cost nothing, its CPU is still counted).
# Prints one JSON object. Not a test: run by hand, record in docs/benchmarks.md.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build-bench}
TANDEM=$BUILD/src/cli/tandem
LOADGEN=$BUILD/bench/bench_loadgen
ROUNDS=${ROUNDS:-12}
ROUND_S=${ROUND_S:-6}
WARMUP_S=${WARMUP_S:-1}
CONNS=${CONNS:-32}
PIN=${PIN:-1}
[ "$(nproc)" -ge 2 ] || PIN=0
TMP=$(mktemp -d /tmp/tandem-repl-ratio.XXXXXX)
PEER_TMP=$TMP
[ -n "${PEER_DATA:-}" ] && PEER_TMP=$(mktemp -d "$PEER_DATA/tandem-repl-ratio.XXXXXX")
export TANDEM_ACCESS_KEY_ID=AKIDREPLBENCH$RANDOM TANDEM_SECRET_ACCESS_KEY=secret$RANDOM$RANDOM
export AWS_ACCESS_KEY_ID=$TANDEM_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$TANDEM_SECRET_ACCESS_KEY
PA=$((20000 + RANDOM % 20000))
PB=$((PA + 1))
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$TMP" "$PEER_TMP"
}
trap cleanup EXIT
pin=() # taskset execs the command: $! stays the server's pid
pin_client=()
[ "$PIN" = 1 ] && pin_client=(taskset -c 1)
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
REGION_FLAGS=(--log-level warn)
start() { # cpu region port data-dir peer-region peer-port
    [ "$PIN" = 1 ] && pin=(taskset -c "$1")
    start_region "$2" "$3" "$4/$2" "$5" "$6" "$TMP/$2.log" "${pin[@]}"
    wait_up "$3" || exit 1
}
start 0 us-east-1 "$PA" "$TMP" us-west-2 "$PB"
PID_A=${pids[-1]}
start 1 us-west-2 "$PB" "$PEER_TMP" us-east-1 "$PA"
PID_B=${pids[-1]}
stream_tables "$PA" plain +repl
metric() { region_metric "$@"; }
cpu_us() { # pid: utime+stime in microseconds
    awk -v hz="$(getconf CLK_TCK)" '{sub(/.*\) /, ""); print ($12 + $13) * 1000000 / hz}' "/proc/$1/stat"
}
caught_up() { # wait until us-west-2 applied us-east-1's whole log; prints the seconds waited
    local last pos t0
    t0=$(date +%s.%N)
    last=$(metric "$PA" 'tandem_repl_log_last_seq{region="us-east-1"}')
    for _ in $(seq 1200); do
        pos=$(metric "$PB" 'tandem_repl_position{peer="us-east-1"}')
        [ "${pos:-0}" -ge "${last:-0}" ] && break
        sleep 0.05
    done
    python3 -c "print(round($(date +%s.%N) - $t0, 2))"
}
lg() { # table key-prefix
    "${pin_client[@]}" "$LOADGEN" --port "$PA" --mode put --region us-east-1 --access-key "$AWS_ACCESS_KEY_ID" \
        --secret-key "$AWS_SECRET_ACCESS_KEY" --table "$1" --connections "$CONNS" \
        --duration "$ROUND_S" --warmup "$WARMUP_S" --key-prefix "$2" --pid "$PID_A"
}
arm() { # table round: one JSON object
    local b0 a0 out drain b1 a1 applied
    b0=$(cpu_us "$PID_B")
    a0=$(metric "$PB" 'tandem_repl_applied_total{peer="us-east-1",table="repl"}')
    out=$(lg "$1" "$1$2-")
    drain=$(caught_up)
    b1=$(cpu_us "$PID_B")
    a1=$(metric "$PB" 'tandem_repl_applied_total{peer="us-east-1",table="repl"}')
    applied=$((${a1:-0} - ${a0:-0}))
    echo "{\"table\":\"$1\",\"lg\":$out,\"peer_cpu_us\":$(python3 -c "print($b1 - $b0)"),\"applied\":$applied,\"drain_s\":$drain}"
}
arm repl 0 >/dev/null # warm both paths
arm plain 0 >/dev/null
: >"$TMP/rounds"
for i in $(seq "$ROUNDS"); do
    if [ $((i % 2)) -eq 1 ]; then
        p=$(arm plain "$i")
        r=$(arm repl "$i")
    else
        r=$(arm repl "$i")
        p=$(arm plain "$i")
    fi
    echo "[$p,$r]" >>"$TMP/rounds"
    echo "round $i: $(python3 -c "import json,sys; p,r=json.loads(sys.argv[1]); print('%.0f vs %.0f puts/s, ratio %.3f' % (p['lg']['ops_per_s'], r['lg']['ops_per_s'], r['lg']['ops_per_s']/p['lg']['ops_per_s']))" "[$p,$r]")" >&2
done
same_disk=true
[ -n "${PEER_DATA:-}" ] && same_disk=false
python3 - "$TMP/rounds" "$PIN" "$same_disk" "${PEER_DATA:-}" "$ROUND_S" "$CONNS" <<'PY'
import json, statistics, sys
rounds = [json.loads(line) for line in open(sys.argv[1])]
med = lambda xs: round(statistics.median(xs), 3)
rng = lambda xs: [round(min(xs), 3), round(max(xs), 3)]
ratio, w_plain, w_repl, peer, pair, drains, peer_idle = [], [], [], [], [], [], []
for p, r in rounds:
    ratio.append(r["lg"]["ops_per_s"] / p["lg"]["ops_per_s"])
    w_plain.append(p["lg"]["server_cpu_us_per_req"])
    w_repl.append(r["lg"]["server_cpu_us_per_req"])
    peer.append(r["peer_cpu_us"] / max(r["applied"], 1))
    pair.append(w_repl[-1] + peer[-1])
    drains.append(r["drain_s"])
    peer_idle.append(p["peer_cpu_us"] / max(p["lg"]["requests"], 1))
out = {
    "rounds": len(rounds), "round_s": float(sys.argv[5]), "connections": int(sys.argv[6]),
    "pinned": sys.argv[2] == "1", "peer_data_same_disk": sys.argv[3] == "true",
    "peer_data": sys.argv[4] or "beside us-east-1's (same disk)",
    "unreplicated_puts_per_s": [round(p["lg"]["ops_per_s"]) for p, r in rounds],
    "replicated_puts_per_s": [round(r["lg"]["ops_per_s"]) for p, r in rounds],
    "throughput_ratios": [round(x, 3) for x in ratio],
    "throughput_ratio_median": med(ratio), "throughput_ratio_range": rng(ratio),
    "rounds_above_0.8": sum(x > 0.8 for x in ratio),
    "writer_cpu_us_per_put_unreplicated": [round(x, 1) for x in w_plain],
    "writer_cpu_us_per_put_replicated": [round(x, 1) for x in w_repl],
    "peer_cpu_us_per_applied_entry": [round(x, 1) for x in peer],
    "pair_cpu_us_per_replicated_put": [round(x, 1) for x in pair],
    "writer_cpu_ratio_median": med([r / p for p, r in zip(w_plain, w_repl)]),
    "pair_cpu_ratio_median": med([r / p for p, r in zip(w_plain, pair)]),
    "peer_cpu_us_per_put_during_unreplicated": [round(x, 2) for x in peer_idle],
    "client_cpu_us_per_put_unreplicated": [p["lg"]["client_cpu_us_per_req"] for p, r in rounds],
    "client_cpu_us_per_put_replicated": [r["lg"]["client_cpu_us_per_req"] for p, r in rounds],
    "peer_drain_s_after_replicated_window": drains,
}
print("{\n" + ",\n".join(" %s: %s" % (json.dumps(k), json.dumps(v)) for k, v in out.items()) + "\n}")
PY
