#!/usr/bin/env bash
# bench/s3_run.sh - S3 PutObject/GetObject of 1 KiB and 1 MiB objects: tandem against
# its floor, s3rver and moto, side by side in one run.
#
# Builds Release, then starts on loopback: two bench_floor servers (hello-world
# libmicrohttpd with the region's daemon options; one answers every GET with
# 1 KiB, the other with 1 MiB, and any PUT with a small body), `tandem server`
# on a fresh data dir, s3rver (npm, bench/node_modules, a temp directory) and
# moto's server (`python3 -m moto.server`, in memory). Creates bucket "bench"
# in the three S3 servers, preloads objects for the GETs (1,000 of 1 KiB, 100
# of 1 MiB), then runs in rounds, each contender in turn (the order rotated
# every round to spread machine noise), bench_loadgen with --connections
# keep-alive connections:
#   put1k: PutObject of 1 KiB to keys p1k-r<round>-<n mod 10000>
#   get1k: GetObject of a random preloaded 1 KiB object
#   put1m: PutObject of 1 MiB to keys p1m-<n mod 100> (overwrites: the disk stays bounded)
#   get1m: GetObject of a random preloaded 1 MiB object
# Tandem's requests are SigV4-signed with UNSIGNED-PAYLOAD (what the SDKs send
# over HTTPS); s3rver checks signatures too and is signed with its built-in
# key; moto accepts any. Right before tandem's put1k each round,
# bench_fsync_rate measures the disk under the data dir (tandem's PUTs are durable).
# Prints a Markdown report (bench/report_s3.py) and writes
# bench/results/<time>-s3.json (gitignored).
#
# Usage: bench/s3_run.sh [--duration S] [--warmup S] [--rounds N] [--connections N]
#                        [--targets floor,tandem,s3rver,moto] [--ops put1k,get1k,put1m,get1m]
#                        [--no-build]
# Env: BUILD (build dir, default build-bench), TANDEM_BIN.
# Every process it starts is stopped on exit; every run is bounded in time.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH="$ROOT/bench"
BUILD=${BUILD:-$ROOT/build-bench}
DURATION=3
WARMUP=1
ROUNDS=3
CONNS=32
FSYNC_SECONDS=2
TARGETS=floor,tandem,s3rver,moto
OPS=put1k,get1k,put1m,get1m
DO_BUILD=1
REGION=us-east-1
AK=AKIDTANDEMBENCH00001
SK=tandem-bench-secret-key-0000000000000000
KIB=1024
MIB=1048576
GET1K_KEYS=1000
GET1M_KEYS=100

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
    --targets) TARGETS=$2; shift 2 ;;
    --ops) OPS=$2; shift 2 ;;
    --no-build) DO_BUILD=0; shift ;;
    *) usage ;;
    esac
done
want() { [[ ",$TARGETS," == *",$1,"* ]]; }
want_op() { [[ ",$OPS," == *",$1,"* ]]; }
log() { echo "s3_run.sh: $*" >&2; }

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
if want s3rver && [ ! -x "$BENCH/node_modules/.bin/s3rver" ]; then
    log "installing s3rver into bench/node_modules (npm ci)"
    (cd "$BENCH" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
if want moto && ! python3 -c 'import moto.server, flask, werkzeug' 2>/dev/null; then
    log "moto's server is not importable (python3 -m moto.server needs moto[server]: flask, werkzeug)"
    exit 1
fi

# --- processes -----------------------------------------------------------------
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
WORK=$(mktemp -d "$BUILD/s3-bench-run.XXXXXX")
PIDS=()
cleanup() {
    stop_pids "${PIDS[@]}"
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM


declare -A PORT PID KEY SECRET
start() { # start NAME COMMAND...: run in the background, remember its port (already in PORT) and pid
    local name=$1
    shift
    "$@" >"$WORK/$name.log" 2>&1 &
    PID[$name]=$!
    PIDS+=("$!")
    wait_http "$name" "${PORT[$name]}" "${PID[$name]}" 300 >/dev/null
}
if want floor; then
    PORT[floor1k]=$(free_port)
    start floor1k "$FLOOR" --listen "127.0.0.1:${PORT[floor1k]}" --body-size $KIB
    PORT[floor1m]=$(free_port)
    start floor1m "$FLOOR" --listen "127.0.0.1:${PORT[floor1m]}" --body-size $MIB
fi
if want tandem; then
    mkdir -p "$WORK/tandem-data"
    PORT[tandem]=$(free_port)
    KEY[tandem]=$AK SECRET[tandem]=$SK
    start tandem "$TANDEM_BIN" server --region "$REGION" --data "$WORK/tandem-data" \
        --listen "127.0.0.1:${PORT[tandem]}" --access-key "$AK" --secret-key "$SK"
fi
if want s3rver; then
    mkdir -p "$WORK/s3rver-data"
    PORT[s3rver]=$(free_port)
    KEY[s3rver]=S3RVER SECRET[s3rver]=S3RVER # its built-in key pair
    # exec: the pid is node's own, for its CPU time.
    start s3rver bash -c "cd '$BENCH' && exec node node_modules/.bin/s3rver -d '$WORK/s3rver-data' \
        -a 127.0.0.1 -p ${PORT[s3rver]} --silent"
fi
if want moto; then
    PORT[moto]=$(free_port)
    KEY[moto]=AKIDMOTOBENCH SECRET[moto]=moto-bench-secret
    start moto python3 -m moto.server -H 127.0.0.1 -p "${PORT[moto]}"
fi

lg() { # lg SERVER ARGS...: one loadgen run against SERVER (floor1k, floor1m, tandem, ...)
    local s=$1
    shift
    "$LOADGEN" --port "${PORT[$s]}" --pid "${PID[$s]}" --connections "$CONNS" --region "$REGION" \
        --access-key "${KEY[$s]:-AKIDFLOOR}" --secret-key "${SECRET[$s]:-floor}" --bucket bench "$@"
}

# --- setup: buckets, preload -----------------------------------------------------
for t in tandem s3rver moto; do
    want "$t" || continue
    lg "$t" --mode s3-create-bucket >/dev/null
    if want_op get1k; then
        log "preloading $GET1K_KEYS objects of 1 KiB into $t"
        lg "$t" --mode s3-put --value-size $KIB --key-prefix g1k- --keys $GET1K_KEYS \
            --requests $GET1K_KEYS --timeout 300 >"$WORK/preload-1k-$t.json"
    fi
    if want_op get1m; then
        log "preloading $GET1M_KEYS objects of 1 MiB into $t"
        lg "$t" --mode s3-put --value-size $MIB --key-prefix g1m- --keys $GET1M_KEYS \
            --requests $GET1M_KEYS --timeout 300 >"$WORK/preload-1m-$t.json"
    fi
done

# --- the rounds ------------------------------------------------------------------
JOBS=()
for op in put1k get1k put1m get1m; do
    want_op "$op" || continue
    for t in floor tandem s3rver moto; do
        want "$t" && JOBS+=("$t $op")
    done
done
: >"$WORK/runs.jsonl"
: >"$WORK/fsync.jsonl"
for ((r = 0; r < ROUNDS; r++)); do
    n=${#JOBS[@]}
    for ((j = 0; j < n; j++)); do
        read -r t op <<<"${JOBS[$(((j + r) % n))]}"
        log "round $((r + 1))/$ROUNDS: $op -> $t"
        s=$t
        [ "$t" = floor ] && { [[ $op == *1k ]] && s=floor1k || s=floor1m; }
        common=(--duration "$DURATION" --warmup "$WARMUP")
        case "$op" in
        put1k)
            if [ "$t" = tandem ]; then
                printf '{"round":%d,"result":%s}\n' "$r" \
                    "$("$FSYNC_RATE" --dir "$WORK" --seconds "$FSYNC_SECONDS")" >>"$WORK/fsync.jsonl"
            fi
            out=$(lg "$s" --mode s3-put --value-size $KIB --key-prefix "p1k-r$r-" --keys 10000 \
                "${common[@]}" || true) ;;
        get1k) out=$(lg "$s" --mode s3-get --value-size $KIB --key-prefix g1k- \
            --keys $GET1K_KEYS "${common[@]}" || true) ;;
        put1m) out=$(lg "$s" --mode s3-put --value-size $MIB --key-prefix p1m- --keys 100 \
            "${common[@]}" || true) ;;
        get1m) out=$(lg "$s" --mode s3-get --value-size $MIB --key-prefix g1m- \
            --keys $GET1M_KEYS "${common[@]}" || true) ;;
        esac
        if [ -z "$out" ]; then
            log "loadgen failed for $op -> $t"
            exit 1
        fi
        printf '{"round":%d,"target":"%s","op":"%s","result":%s}\n' "$r" "$t" "$op" "$out" \
            >>"$WORK/runs.jsonl"
    done
done

# --- report ----------------------------------------------------------------------
mkdir -p "$BENCH/results"
RESULT="$BENCH/results/$(date -u +%Y%m%dT%H%M%SZ)-s3.json"
python3 "$BENCH/report_s3.py" --runs "$WORK/runs.jsonl" --fsync "$WORK/fsync.jsonl" \
    --connections "$CONNS" --duration "$DURATION" --warmup "$WARMUP" --rounds "$ROUNDS" \
    --commit "$(git -C "$ROOT" rev-parse --short HEAD)" --json-out "$RESULT"
log "results: $RESULT"
