#!/usr/bin/env bash
# bench/callgrind.sh - instructions per GetItem / PutItem in `tandem server`, under callgrind.
#
# Deterministic where the timed bench is noisy: starts `tandem server` under
# valgrind --tool=callgrind (instrumentation off until measured), preloads keys, then for each mode
# zeroes the counters, sends exactly N requests with bench_loadgen (4
# connections), dumps, and prints instructions per request (Ir / N) with the
# top functions (inclusive) of that dump.
# Usage: bench/callgrind.sh BUILD_DIR [N] (default 2000); needs valgrind.
# MODES (default "get put"): which to measure; "update" is the loadgen's
# conditional UpdateItem (SET c = if_not_exists(c, 0) + 1 IF attribute_exists(id))
# of the preloaded keys; "put-stream" is PutItem of new keys into a table with a
# NEW_AND_OLD_IMAGES stream (as every replicated table has); "txn" is
# TransactWriteItems of 4 Puts of new keys (per request: 4 items); "txn-again"
# (after "txn", with the same N) writes those same keys again, over live items.
# Output files stay in BUILD_DIR/callgrind/ (callgrind.out.*, annotate-*.txt).
set -euo pipefail
BUILD=$(cd "${1:?usage: bench/callgrind.sh BUILD_DIR [N]}" && pwd)
N=${2:-2000}
TANDEM=$(find "$BUILD/src" -name tandem -type f -perm -u+x | head -n 1)
LOADGEN=$BUILD/bench/bench_loadgen
OUT=$BUILD/callgrind
AK=AKIDTANDEMBENCH00001
SK=tandem-bench-secret-key-0000000000000000
rm -rf "$OUT" && mkdir -p "$OUT/data"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$OUT/callgrind.out.%p" \
    "$TANDEM" server --region us-east-1 --data "$OUT/data" --listen "127.0.0.1:$PORT" \
    --access-key "$AK" --secret-key "$SK" --map-size $((1 << 30)) >"$OUT/tandem.log" 2>&1 &
VPID=$!
trap 'kill $VPID 2>/dev/null || true; wait $VPID 2>/dev/null || true' EXIT
for _ in $(seq 600); do
    curl -s -o /dev/null -m 1 "http://127.0.0.1:$PORT/" && break
    sleep 0.1
done
lg() { "$LOADGEN" --port "$PORT" --connections 4 --region us-east-1 --access-key "$AK" \
    --secret-key "$SK" --timeout 600 "$@"; }
lg --mode create-table >/dev/null
lg --mode create-table --table bench_stream --stream NEW_AND_OLD_IMAGES >/dev/null
lg --mode put --requests 500 --key-prefix k >/dev/null
lg --mode get --requests 200 --keys 500 --key-prefix k >/dev/null # warm
for mode in ${MODES:-get put}; do
    callgrind_control --instr=on "$VPID" >/dev/null 2>&1
    callgrind_control -z "$VPID" >/dev/null 2>&1
    if [ "$mode" = get ] || [ "$mode" = update ]; then
        lg --mode "$mode" --requests "$N" --keys 500 --key-prefix k >/dev/null
    elif [ "$mode" = put-stream ]; then
        lg --mode put --table bench_stream --requests "$N" --key-prefix "s" >/dev/null
    elif [ "$mode" = txn ] || [ "$mode" = txn-again ]; then
        lg --mode txn --requests "$N" --key-prefix "x" >/dev/null
    else
        lg --mode put --requests "$N" --key-prefix "p" >/dev/null
    fi
    callgrind_control -d "$mode" "$VPID" >/dev/null 2>&1
    callgrind_control --instr=off "$VPID" >/dev/null 2>&1
    sleep 1
    f=$(ls -t "$OUT"/callgrind.out.*.[0-9]* | head -n 1)
    callgrind_annotate --inclusive=yes "$f" >"$OUT/annotate-$mode.txt" 2>/dev/null || true
    ir=$(grep -m1 -E '^[0-9,]+ .*PROGRAM TOTALS' "$OUT/annotate-$mode.txt" | awk '{gsub(",","",$1); print $1}')
    echo "$mode: $N requests, $ir Ir, $((ir / N)) Ir/request ($f)"
done

# The floor (bench_floor) answering the same signed GetItem, for comparison.
FPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$OUT/floor.out.%p" \
    "$BUILD/bench/bench_floor" --listen "127.0.0.1:$FPORT" >"$OUT/floor.log" 2>&1 &
FPID=$!
trap 'kill $VPID $FPID 2>/dev/null || true; wait $VPID $FPID 2>/dev/null || true' EXIT
for _ in $(seq 600); do
    curl -s -o /dev/null -m 1 "http://127.0.0.1:$FPORT/" && break
    sleep 0.1
done
PORT=$FPORT
lg --mode get --requests 200 --keys 500 --key-prefix k >/dev/null
callgrind_control --instr=on "$FPID" >/dev/null 2>&1
callgrind_control -z "$FPID" >/dev/null 2>&1
lg --mode get --requests "$N" --keys 500 --key-prefix k >/dev/null
callgrind_control -d floor "$FPID" >/dev/null 2>&1
sleep 1
f=$(ls -t "$OUT"/floor.out.*.[0-9]* | head -n 1)
callgrind_annotate --inclusive=yes "$f" >"$OUT/annotate-floor.txt" 2>/dev/null || true
ir=$(grep -m1 -E '^[0-9,]+ .*PROGRAM TOTALS' "$OUT/annotate-floor.txt" | awk '{gsub(",","",$1); print $1}')
echo "floor get: $N requests, $ir Ir, $((ir / N)) Ir/request ($f)"
