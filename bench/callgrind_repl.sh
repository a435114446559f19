#!/usr/bin/env bash
# bench/callgrind_repl.sh - instructions per PutItem into a replicated and an
# unreplicated table of the same region, under callgrind.
#
# Starts us-east-1 under valgrind --tool=callgrind (instrumentation off until
# measured) peered with us-west-2 (not instrumented), creates a table with a
# replica in us-west-2 and one without, then for each zeroes the counters,
# sends exactly N PutItems with bench_loadgen (4 connections), dumps, and
# prints instructions per request (Ir / N) over all of us-east-1's threads:
# the writer's path plus the thread serving its log to us-west-2.
# Usage: bench/callgrind_repl.sh BUILD_DIR [N] (default 2000); needs valgrind.
# Output files stay in BUILD_DIR/callgrind-repl/ (callgrind.out.*, annotate-*.txt).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:?usage: bench/callgrind_repl.sh BUILD_DIR [N]}" && pwd)
N=${2:-2000}
TANDEM=$BUILD/src/cli/tandem
LOADGEN=$BUILD/bench/bench_loadgen
OUT=$BUILD/callgrind-repl
AK=AKIDTANDEMBENCH00001
SK=tandem-bench-secret-key-0000000000000000
rm -rf "$OUT" && mkdir -p "$OUT/a" "$OUT/b"
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
PA=$(free_port)
PB=$(free_port)
pids=()
REGION_FLAGS=(--access-key "$AK" --secret-key "$SK" --map-size $((1 << 30)))
start_region us-east-1 "$PA" "$OUT/a" us-west-2 "$PB" "$OUT/a.log" \
    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$OUT/callgrind.out.%p"
VPID=$REGION_PID
start_region us-west-2 "$PB" "$OUT/b" us-east-1 "$PA" "$OUT/b.log"
trap 'stop_pids "${pids[@]}"' EXIT
wait_up "$PA" 600
wait_up "$PB" 600
AWS_ACCESS_KEY_ID=$AK AWS_SECRET_ACCESS_KEY=$SK stream_tables "$PA" plain +repl
lg() { "$LOADGEN" --port "$PA" --connections 4 --region us-east-1 --access-key "$AK" \
    --secret-key "$SK" --timeout 600 "$@"; }
lg --mode put --table plain --requests 300 --key-prefix w >/dev/null # warm
lg --mode put --table repl --requests 300 --key-prefix w >/dev/null
for t in plain repl; do
    callgrind_control --instr=on "$VPID" >/dev/null 2>&1
    callgrind_control -z "$VPID" >/dev/null 2>&1
    lg --mode put --table "$t" --requests "$N" --key-prefix "$t" >/dev/null
    sleep 1 # the log served to us-west-2 counts too
    callgrind_control -d "$t" "$VPID" >/dev/null 2>&1
    callgrind_control --instr=off "$VPID" >/dev/null 2>&1
    sleep 1
    f=$(ls -t "$OUT"/callgrind.out.*.[0-9]* | head -n 1)
    callgrind_annotate --inclusive=yes "$f" >"$OUT/annotate-$t.txt" 2>/dev/null || true
    ir=$(grep -m1 -E '^[0-9,]+ .*PROGRAM TOTALS' "$OUT/annotate-$t.txt" | awk '{gsub(",","",$1); print $1}')
    echo "put $t: $N requests, $ir Ir, $((ir / N)) Ir/request ($f)"
done
