#!/usr/bin/env bash
# bench/callgrind_apply.sh - instructions per replicated entry applied by the
# receiving region, under callgrind.
#
# Starts us-west-2 under valgrind --tool=callgrind (instrumentation off until
# measured) peered with us-east-1 (not instrumented), creates a global table
# `repl` in us-east-1 (replica in us-west-2), warms up, then zeroes us-west-2's
# counters, sends exactly N PutItems of new keys into us-east-1 with
# bench_loadgen (4 connections), waits until us-west-2's position reaches
# us-east-1's log head, dumps, and prints instructions per applied entry
# (Ir / N) over all of us-west-2's threads (the puller, the applier and their HTTP client; also its idle heartbeat and the
# metrics polls that tell when it is done, a few thousand instructions a
# second). It also prints how many store commits carried those entries (calls
# of repl_apply_batch) and the top functions.
# Usage: bench/callgrind_apply.sh BUILD_DIR [N] (default 2000); needs valgrind.
# MODE=live (default): us-west-2 applies while us-east-1 takes the writes;
# MODE=catchup: us-west-2's instrumentation starts after the N writes are all
# in us-east-1's log, so it applies a backlog (large batches).
# Output files stay in BUILD_DIR/callgrind-apply/ (callgrind.out.*, annotate.txt).
set -euo pipefail
BUILD=$(cd "${1:?usage: bench/callgrind_apply.sh BUILD_DIR [N]}" && pwd)
N=${2:-2000}
MODE=${MODE:-live}
TANDEM=$BUILD/src/cli/tandem
LOADGEN=$BUILD/bench/bench_loadgen
OUT=$BUILD/callgrind-apply
AK=AKIDTANDEMBENCH00001
SK=tandem-bench-secret-key-0000000000000000
rm -rf "$OUT" && mkdir -p "$OUT/a" "$OUT/b"
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
PA=$(free_port)
PB=$(free_port)
pids=()
REGION_FLAGS=(--access-key "$AK" --secret-key "$SK" --map-size $((1 << 30)))
start_region us-east-1 "$PA" "$OUT/a" us-west-2 "$PB" "$OUT/a.log"
start_region us-west-2 "$PB" "$OUT/b" us-east-1 "$PA" "$OUT/b.log" \
    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$OUT/callgrind.out.%p"
VPID=$REGION_PID
trap 'stop_pids "${pids[@]}"' EXIT
wait_up "$PA" 600
wait_up "$PB" 600
AWS_ACCESS_KEY_ID=$AK AWS_SECRET_ACCESS_KEY=$SK stream_tables "$PA" +repl
lg() { "$LOADGEN" --port "$PA" --connections 4 --region us-east-1 --access-key "$AK" \
    --secret-key "$SK" --timeout 600 "$@"; }
metric() { region_metric "$@"; }
caught_up() { # wait until us-west-2 applied us-east-1's whole log
    local last pos
    last=$(metric "$PA" 'tandem_repl_log_last_seq{region="us-east-1"}')
    [ -n "$last" ] || last=$(curl -s "http://127.0.0.1:$PA/_tandem/metrics" |
        sed -n 's/^tandem_repl_log_last_seq[^ ]* //p' | head -n 1)
    for _ in $(seq 1200); do
        pos=$(metric "$PB" 'tandem_repl_position{peer="us-east-1"}')
        [ "${pos:-0}" -ge "$last" ] && return 0
        sleep 0.5
    done
    echo "us-west-2 did not catch up (pos ${pos:-?} of $last)" >&2
    return 1
}
lg --mode put --table repl --requests 500 --key-prefix w >/dev/null # warm
caught_up
if [ "$MODE" = catchup ]; then
    kill -STOP "$VPID"
    lg --mode put --table repl --requests "$N" --key-prefix m >/dev/null
    callgrind_control --instr=on "$VPID" >/dev/null 2>&1 &
    kill -CONT "$VPID"
    wait $! || true
    callgrind_control -z "$VPID" >/dev/null 2>&1
else
    callgrind_control --instr=on "$VPID" >/dev/null 2>&1
    callgrind_control -z "$VPID" >/dev/null 2>&1
    lg --mode put --table repl --requests "$N" --key-prefix m >/dev/null
fi
caught_up
callgrind_control -d apply "$VPID" >/dev/null 2>&1
callgrind_control --instr=off "$VPID" >/dev/null 2>&1
sleep 1
f=$(ls -t "$OUT"/callgrind.out.*.[0-9]* | head -n 1)
callgrind_annotate --inclusive=yes "$f" >"$OUT/annotate.txt" 2>/dev/null || true
ir=$(grep -m1 -E '^[0-9,]+ .*PROGRAM TOTALS' "$OUT/annotate.txt" | awk '{gsub(",","",$1); print $1}')
commits=$(python3 - "$f" <<'PY'
import re, sys
# calls of repl_apply_batch: sum the calls= lines under any cfn= naming it
n, want, names = 0, False, {}
for line in open(sys.argv[1]):
    m = re.match(r"(c?)fn=\((\d+)\)(?: (.*))?", line)
    if m:
        if m.group(3):
            names[m.group(2)] = m.group(3).strip()
        want = m.group(1) == "c" and names.get(m.group(2), "") == "repl_apply_batch"
        continue
    if want and line.startswith("calls="):
        n += int(line[6:].split()[0])
        want = False
print(n)
PY
)
fn_ir() { # inclusive Ir of function @1 (0 when absent)
    grep -m1 -E "^ *[0-9,]+ .*[:/]$1 \[" "$OUT/annotate.txt" | awk '{gsub(",","",$1); print $1}'
}
apply_ir=$(fn_ir ddb_repl_apply)
stream_ir=$(fn_ir streams_on_write)
echo "apply ($MODE): $N entries, $ir Ir, $((ir / N)) Ir/entry, $commits store applies;" \
    "per entry: ddb_repl_apply $((${apply_ir:-0} / N)) (of it streams_on_write" \
    "$((${stream_ir:-0} / N))) ($f)"
grep -E '^ *[0-9,]+ ' "$OUT/annotate.txt" | sed -n 2,40p
