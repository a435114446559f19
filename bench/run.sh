#!/usr/bin/env bash
# bench/run.sh - the DynamoDB item path of `tandem server` against its floor and dynalite.
#
# Builds Release, then starts side by side on loopback: bench_floor (hello-world
# libmicrohttpd, same options as the server), `tandem server` on a fresh data
# dir, and dynalite (in-memory, from bench/node_modules). Creates table "bench"
# (hash key id, S) in both DynamoDB servers, preloads keys, then runs in
# rounds, each contender in turn
# (rotated every round to spread machine noise):
#   GET / -> floor, and the floor answering the very same signed GetItem and
#   PutItem requests (same client cost, same bytes on the wire),
#   GetItem -> tandem, GetItem -> dynalite,
#   PutItem -> tandem (durable), PutItem -> dynalite (memory only, never fsyncs)
# and, every round right before tandem's PutItems, the disk's fsyncs/s under
# the data dir (bench_fsync_rate); during tandem's PutItems, its fdatasync calls
# (perf's syscall tracepoint, when available), i.e. PutItems per flush.
# With --ops, the data plane too: query (Query pages of 100 items from table
# "benchq", hash id + sort key sk, QPARTS partitions of 150 items), update
# (UpdateItem with a condition on the preloaded keys), txn (TransactWriteItems
# of 4 PutItems), each against floor, tandem and dynalite (bench/report_dataplane.py).
# Prints a Markdown table and writes bench/results/<time>.json (gitignored).
#
# Usage: bench/run.sh [--duration S] [--warmup S] [--rounds N] [--connections N]
#                     [--preload N] [--targets floor,tandem,dynalite] [--no-build]
#                     [--ops get,put,query,update,txn] (default get,put)
# Env: BUILD (build dir, default build-bench), TANDEM_BIN, LOADGEN_THREADS (1).
# Every process it starts is stopped on exit; every run is bounded in time.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH="$ROOT/bench"
BUILD=${BUILD:-$ROOT/build-bench}
DURATION=3
WARMUP=1
ROUNDS=3
CONNS=32
PRELOAD=10000
FSYNC_SECONDS=2
TARGETS=floor,tandem,dynalite
OPS=get,put
QPARTS=20
DO_BUILD=1
LOADGEN_THREADS=${LOADGEN_THREADS:-1}
REGION=us-east-1
AK=AKIDTANDEMBENCH00001
SK=tandem-bench-secret-key-0000000000000000

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit 2
}
while [ $# -gt 0 ]; do
    case "$1" in
    --duration) DURATION=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --connections) CONNS=$2; shift 2 ;;
    --preload) PRELOAD=$2; shift 2 ;;
    --targets) TARGETS=$2; shift 2 ;;
    --ops) OPS=$2; shift 2 ;;
    --no-build) DO_BUILD=0; shift ;;
    *) usage ;;
    esac
done
want() { [[ ",$TARGETS," == *",$1,"* ]]; }
want_op() { [[ ",$OPS," == *",$1,"* ]]; }

log() { echo "run.sh: $*" >&2; }

# --- build -------------------------------------------------------------------
if [ "$DO_BUILD" = 1 ]; then
    log "building Release in $BUILD"
    mkdir -p "$BUILD"
    targets=(bench_floor bench_fsync_rate bench_loadgen)
    want tandem && targets+=(tandem)
    if ! { cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release &&
        cmake --build "$BUILD" -j2 --target "${targets[@]}"; } >"$BUILD/bench-build.log" 2>&1; then
        grep -E 'error|Error' "$BUILD/bench-build.log" | head -n 20 >&2
        log "build failed: see $BUILD/bench-build.log"
        exit 1
    fi
fi
FLOOR=${FLOOR_BIN:-$BUILD/bench/bench_floor}
LOADGEN=${LOADGEN_BIN:-$BUILD/bench/bench_loadgen}
FSYNC_RATE=${FSYNC_RATE_BIN:-$BUILD/bench/bench_fsync_rate}
if want tandem && [ -z "${TANDEM_BIN:-}" ]; then
    TANDEM_BIN=$(find "$BUILD/src" -name tandem -type f -perm -u+x | head -n 1)
fi
if want dynalite && [ ! -x "$BENCH/node_modules/.bin/dynalite" ]; then
    log "installing dynalite into bench/node_modules (npm ci)"
    (cd "$BENCH" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

# --- processes -----------------------------------------------------------------
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
WORK=$(mktemp -d "$BUILD/bench-run.XXXXXX")
PIDS=()
cleanup() {
    stop_pids "${PIDS[@]}"
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM


declare -A PORT PID
if want floor; then
    PORT[floor]=$(free_port)
    "$FLOOR" --listen "127.0.0.1:${PORT[floor]}" >"$WORK/floor.log" 2>&1 &
    PID[floor]=$!
    PIDS+=("$!")
    wait_http floor "${PORT[floor]}" "${PID[floor]}" >/dev/null
fi
if want tandem; then
    mkdir -p "$WORK/tandem-data"
    PORT[tandem]=$(free_port)
    "$TANDEM_BIN" server --region "$REGION" --data "$WORK/tandem-data" \
        --listen "127.0.0.1:${PORT[tandem]}" --access-key "$AK" --secret-key "$SK" \
        >"$WORK/tandem.log" 2>&1 &
    PID[tandem]=$!
    PIDS+=("$!")
    code=$(wait_http tandem "${PORT[tandem]}" "${PID[tandem]}")
    [ "$code" = 200 ] || log "warning: tandem GET / answered $code, not 200"
fi
if want dynalite; then
    PORT[dynalite]=$(free_port)
    (cd "$BENCH" && exec node node_modules/.bin/dynalite --port "${PORT[dynalite]}") \
        >"$WORK/dynalite.log" 2>&1 &
    PID[dynalite]=$!
    PIDS+=("$!")
    wait_http dynalite "${PORT[dynalite]}" "${PID[dynalite]}" >/dev/null
fi

lg() { # lg TARGET ARGS...: one loadgen run against TARGET
    local t=$1
    shift
    "$LOADGEN" --port "${PORT[$t]}" --pid "${PID[$t]}" --connections "$CONNS" \
        --threads "$LOADGEN_THREADS" --region "$REGION" --access-key "$AK" --secret-key "$SK" "$@"
}

# --- setup: tables, disk, preload ----------------------------------------------
for t in tandem dynalite; do
    if want "$t"; then
        lg "$t" --mode create-table >/dev/null
    fi
done
for t in tandem dynalite; do
    if want "$t"; then
        log "preloading $PRELOAD items into $t"
        lg "$t" --mode put --requests "$PRELOAD" --key-prefix k --timeout 300 >"$WORK/preload-$t.json"
        if want_op query; then
            lg "$t" --mode create-table --table benchq --sort-key 1 >/dev/null
            lg "$t" --mode put --table benchq --sort-key 1 --keys "$QPARTS" --key-prefix q \
                --requests $((QPARTS * 150)) --timeout 300 >"$WORK/preload-q-$t.json"
        fi
    fi
done

# --- the rounds ------------------------------------------------------------------
# tandem's flushes while it takes PutItems: fdatasync calls counted by perf's
# syscall tracepoint (skipped where perf or the tracepoint is not available).
FLUSH_WATCH=0
if want tandem && command -v perf >/dev/null &&
    perf stat -e syscalls:sys_enter_fdatasync -- true >/dev/null 2>&1; then
    FLUSH_WATCH=1
fi
flush_watch_start() {
    [ "$FLUSH_WATCH" = 1 ] || return 0
    perf stat -x, -e syscalls:sys_enter_fdatasync -p "${PID[tandem]}" -o "$WORK/flush.txt" &
    FW_PID=$! # exits by itself when tandem does
    FW_T0=$(date +%s.%N)
}
flush_watch_stop() { # flush_watch_stop ROUND
    [ "$FLUSH_WATCH" = 1 ] || return 0
    local t1 n
    kill -INT "$FW_PID" 2>/dev/null || true
    wait "$FW_PID" 2>/dev/null || true
    t1=$(date +%s.%N)
    n=$(grep -m1 'sys_enter_fdatasync' "$WORK/flush.txt" | cut -d, -f1)
    [[ "$n" =~ ^[0-9]+$ ]] || return 0
    printf '{"round":%d,"fdatasyncs":%d,"seconds":%s}\n' "$1" "$n" \
        "$(awk "BEGIN { print $t1 - $FW_T0 }")" >>"$WORK/flush.jsonl"
}
JOBS=()
if want_op get; then
    want floor && JOBS+=("floor get")
    want tandem && JOBS+=("tandem get")
    want dynalite && JOBS+=("dynalite get")
fi
if want_op put; then
    want floor && JOBS+=("floor hello" "floor put")
    want tandem && JOBS+=("tandem put")
    want dynalite && JOBS+=("dynalite put")
fi
for op in query update txn; do
    if want_op "$op"; then
        for t in floor tandem dynalite; do
            want "$t" && JOBS+=("$t $op")
        done
    fi
done
: >"$WORK/runs.jsonl"
: >"$WORK/fsync.jsonl"
: >"$WORK/flush.jsonl"
for ((r = 0; r < ROUNDS; r++)); do
    n=${#JOBS[@]}
    for ((j = 0; j < n; j++)); do
        read -r t op <<<"${JOBS[$(((j + r) % n))]}"
        log "round $((r + 1))/$ROUNDS: $op -> $t"
        case "$op" in
        hello) out=$(lg "$t" --mode hello --duration "$DURATION" --warmup "$WARMUP" || true) ;;
        get) out=$(lg "$t" --mode get --keys "$PRELOAD" --key-prefix k \
            --duration "$DURATION" --warmup "$WARMUP" || true) ;;
        put)
            if [ "$t" = tandem ]; then
                # The disk is shared too: measure it right before the durable
                # writes, so the two are compared at the same moment.
                printf '{"round":%d,"result":%s}\n' "$r" \
                    "$("$FSYNC_RATE" --dir "$WORK" --seconds "$FSYNC_SECONDS")" >>"$WORK/fsync.jsonl"
                flush_watch_start
            fi
            out=$(lg "$t" --mode put --key-prefix "r$r-" \
                --duration "$DURATION" --warmup "$WARMUP" || true)
            [ "$t" = tandem ] && flush_watch_stop "$r"
            ;;
        query) out=$(lg "$t" --mode query --table benchq --keys "$QPARTS" --key-prefix q \
            --page 100 --duration "$DURATION" --warmup "$WARMUP" || true) ;;
        update) out=$(lg "$t" --mode update --keys "$PRELOAD" --key-prefix k \
            --duration "$DURATION" --warmup "$WARMUP" || true) ;;
        txn) out=$(lg "$t" --mode txn --key-prefix "x$r-" \
            --duration "$DURATION" --warmup "$WARMUP" || true) ;;
        esac
        if [ -z "$out" ]; then
            log "loadgen failed for $op -> $t"
            exit 1
        fi
        printf '{"round":%d,"target":"%s","op":"%s","result":%s}\n' "$r" "$t" "$op" "$out" \
            >>"$WORK/runs.jsonl"
    done
    if ! want tandem; then
        printf '{"round":%d,"result":%s}\n' "$r" \
            "$("$FSYNC_RATE" --dir "$WORK" --seconds "$FSYNC_SECONDS")" >>"$WORK/fsync.jsonl"
    fi
done

# --- report ----------------------------------------------------------------------
mkdir -p "$BENCH/results"
RESULT="$BENCH/results/$(date -u +%Y%m%dT%H%M%SZ).json"
if want_op query || want_op update || want_op txn; then
    python3 "$BENCH/report_dataplane.py" --runs "$WORK/runs.jsonl" --connections "$CONNS" \
        --duration "$DURATION" --rounds "$ROUNDS" \
        --commit "$(git -C "$ROOT" rev-parse --short HEAD)" --json-out "${RESULT%.json}-dataplane.json"
fi
want_op get || want_op put || exit 0
python3 "$BENCH/report.py" --runs "$WORK/runs.jsonl" --fsync "$WORK/fsync.jsonl" \
    --flushes "$WORK/flush.jsonl" \
    --connections "$CONNS" --duration "$DURATION" --warmup "$WARMUP" --rounds "$ROUNDS" \
    --loadgen-threads "$LOADGEN_THREADS" --commit "$(git -C "$ROOT" rev-parse --short HEAD)" \
    --json-out "$RESULT"
log "results: $RESULT"
