#!/usr/bin/env bash
# bench/slowdisk_run.sh - durable PutItem on a disk whose flushes are the limit.
#
# A slow disk two ways (--rig): fuse (the default) builds bench/slowdisk.c (a FUSE
# passthrough whose fsync/fdatasync sleep a fixed time first) with a direct cc call
# and mounts it over a fresh directory; preload uses a fresh directory on the real
# disk and loads bench/slowsync.c (LD_PRELOAD) into the probe and the server, so
# that each of their flushes sleeps that time first, with no FUSE daemon taking CPU
# and no round trip per write. Release tandem/bench tools are built with CMake.
# For each flush time: makes the slow directory, starts `tandem server --data`
# in it, creates table "bench", then runs ROUNDS rounds of
#   the disk's fsyncs/s on the mount (bench_fsync_rate, 1 writer), then
#   PutItem with CONNS closed-loop connections (bench_loadgen), counting the
#   server's flushes (its tandem_store_flushes_total; for a server without it,
#   its fdatasync calls from perf's syscall tracepoint, when available).
# Per round it prints fsyncs/s, PutItem/s, PutItem/s as % of fsyncs/s x CONNS
# (what the disk allows), PutItems per log flush, and server (and slowdisk daemon)
# CPU per request (fuse). With OLD_TANDEM_BIN set (e.g. the store before the log), each
# round also measures that server on its own mount of the same flush time. With
# CONFIGS="NAME:VAR=V VAR=V;NAME:..." each round measures tandem once per named
# setting of its environment (e.g. TANDEM_WAL_LANES), each on its own mount.
# --writeback mounts with FUSE's writeback cache: writes stay in the kernel's
# page cache until written back or flushed, as on a local disk (without it each
# write is a round trip to the slowdisk daemon, as on a write-through network
# file system). --delay-only makes a flush the sleep alone, without the real
# disk's flush underneath (whose time, shared with the rest of the machine, is
# then no part of the measure; nothing is durable then), with either rig.
# --serial (preload only) lets one flush run at a time, as on a disk whose cache
# flushes queue behind each other; without it flushes of different files overlap.
#
# Usage: bench/slowdisk_run.sh [--flush-ms 2,5] [--rounds N] [--duration S]
#                              [--warmup S] [--connections N] [--writeback]
#                              [--delay-only] [--rig fuse|preload] [--serial]
#                              [--no-build]
# Env: BUILD (default build-bench), TANDEM_BIN, OLD_TANDEM_BIN, CONFIGS.
# fuse needs root (or fuse group), /dev/fuse, libfuse3-dev and fuse3. Every process it
# starts is stopped and every mount unmounted on exit; every run is bounded in time.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH="$ROOT/bench"
BUILD=${BUILD:-$ROOT/build-bench}
FLUSH_LIST=2,5
ROUNDS=3
DURATION=5
WARMUP=1
CONNS=32
FSYNC_SECONDS=2
DO_BUILD=1
SDOPTS=()
RIG=fuse
DELAY_ONLY=0
SERIAL=0
REGION=us-east-1
AK=AKIDTANDEMBENCH00001
SK=tandem-bench-secret-key-0000000000000000

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit 2
}
while [ $# -gt 0 ]; do
    case "$1" in
    --flush-ms) FLUSH_LIST=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --connections) CONNS=$2; shift 2 ;;
    --no-build) DO_BUILD=0; shift ;;
    --writeback) SDOPTS+=(--writeback); shift ;;
    --delay-only) SDOPTS+=(--delay-only); DELAY_ONLY=1; shift ;;
    --rig) RIG=$2; shift 2 ;;
    --serial) SERIAL=1; shift ;;
    *) usage ;;
    esac
done
log() { echo "slowdisk_run.sh: $*" >&2; }
case "$RIG" in
fuse | preload) ;;
*) usage ;;
esac
[ "$SERIAL" = 1 ] && [ "$RIG" != preload ] && usage

# --- build -------------------------------------------------------------------
mkdir -p "$BUILD/bench"
SLOWDISK=$BUILD/bench/bench_slowdisk
if [ "$RIG" = fuse ] && { [ "$DO_BUILD" = 1 ] || [ ! -x "$SLOWDISK" ]; }; then
    # shellcheck disable=SC2046
    cc -O2 -std=c11 -Wall -Wextra -Wshadow -Werror "$BENCH/slowdisk.c" \
        $(pkg-config --cflags --libs fuse3) -o "$SLOWDISK"
fi
if [ "$DO_BUILD" = 1 ]; then
    log "building Release in $BUILD"
    if ! { cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release &&
        cmake --build "$BUILD" -j2 --target tandem bench_fsync_rate bench_loadgen bench_slowsync; } \
        >"$BUILD/bench-build.log" 2>&1; then
        log "build failed: see $BUILD/bench-build.log"
        exit 1
    fi
fi
LOADGEN=$BUILD/bench/bench_loadgen
FSYNC_RATE=$BUILD/bench/bench_fsync_rate
SLOWSYNC=$BUILD/bench/libbench_slowsync.so
TANDEM_BIN=${TANDEM_BIN:-$(find "$BUILD/src" -name tandem -type f -perm -u+x | head -n 1)}

# --- processes and mounts --------------------------------------------------------
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
WORK=$(mktemp -d "$BUILD/slowdisk-run.XXXXXX")
PIDS=()
MOUNTS=()
cleanup() {
    local m
    stop_pids "${PIDS[@]}"
    for m in "${MOUNTS[@]}"; do
        fusermount3 -u "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# mount_slow NAME MS: a fresh slow directory at $WORK/NAME.mnt; sets SD_PID (the
# slowdisk daemon, 0 with --rig preload) and SLOW_ENV (what a process working on
# the directory needs in its environment).
mount_slow() {
    local src=$WORK/$1.src mnt=$WORK/$1.mnt
    mkdir -p "$src" "$mnt"
    if [ "$RIG" = preload ]; then
        SD_PID=0
        SLOW_ENV=("LD_PRELOAD=$SLOWSYNC" "SLOWSYNC_MS=$2" "SLOWSYNC_DELAY_ONLY=$DELAY_ONLY"
            "SLOWSYNC_SERIAL=$SERIAL")
        return 0
    fi
    SLOW_ENV=()
    "$SLOWDISK" --source "$src" --flush-ms "$2" "${SDOPTS[@]}" "$mnt" -f >"$WORK/$1.slowdisk.log" 2>&1 &
    SD_PID=$!
    PIDS+=("$SD_PID")
    MOUNTS+=("$mnt")
    for _ in $(seq 100); do
        mountpoint -q "$mnt" && return 0
        sleep 0.1
    done
    log "slowdisk did not mount $mnt within 10 s"
    cat "$WORK/$1.slowdisk.log" >&2
    exit 1
}

# start_server NAME BIN DATA [VAR=V ...]: sets SRV_PORT, SRV_PID (VAR=V: its environment).
start_server() {
    SRV_PORT=$(free_port)
    env "${@:4}" "$2" server --region "$REGION" --data "$3" --listen "127.0.0.1:$SRV_PORT" \
        --access-key "$AK" --secret-key "$SK" >"$WORK/$1.log" 2>&1 &
    SRV_PID=$!
    PIDS+=("$SRV_PID")
    wait_http "$1" "$SRV_PORT" "$SRV_PID" >/dev/null
}

lg() { # lg PORT PID PID2 ARGS...
    local port=$1 pid=$2 pid2=$3
    shift 3
    timeout 120 "$LOADGEN" --port "$port" --pid "$pid" --pid2 "$pid2" --connections "$CONNS" \
        --region "$REGION" --access-key "$AK" --secret-key "$SK" "$@"
}

PERF=0
if command -v perf >/dev/null &&
    perf stat -e syscalls:sys_enter_fdatasync -- true >/dev/null 2>&1; then
    PERF=1
fi

# one_round LABEL MS ROUND PORT PID SDPID MNT [VAR=V ...]: prints one JSON line
# (VAR=V: the probe's environment).
one_round() {
    local label=$1 ms=$2 r=$3 port=$4 pid=$5 sdpid=$6 mnt=$7 fs out fw flushes=null t0 t1 m0 m1
    fs=$(env "${@:8}" timeout 60 "$FSYNC_RATE" --dir "$mnt" --seconds "$FSYNC_SECONDS")
    # the server's own count of its flushes (log and checkpoints), when it has one;
    # else (an older server) its fdatasync calls, from perf
    m0=$(region_metric "$port" tandem_store_flushes_total)
    if [ -z "$m0" ] && [ "$PERF" = 1 ]; then
        perf stat -x, -e syscalls:sys_enter_fdatasync -p "$pid" -o "$WORK/flush.txt" &
        fw=$!
    fi
    t0=$(date +%s.%N)
    out=$(lg "$port" "$pid" "$sdpid" --mode put --key-prefix "r$r-" \
        --duration "$DURATION" --warmup "$WARMUP")
    t1=$(date +%s.%N)
    m1=$(region_metric "$port" tandem_store_flushes_total)
    if [ -n "$m0" ] && [ -n "$m1" ]; then
        flushes=$((m1 - m0))
    elif [ "$PERF" = 1 ]; then
        kill -INT "$fw" 2>/dev/null || true
        wait "$fw" 2>/dev/null || true
        flushes=$(grep -m1 'sys_enter_fdatasync' "$WORK/flush.txt" | cut -d, -f1)
        [[ "$flushes" =~ ^[0-9]+$ ]] || flushes=null
    fi
    printf '{"label":"%s","flush_ms":%s,"round":%d,"fsync":%s,"put":%s,"fdatasyncs":%s,"flush_seconds":%s}\n' \
        "$label" "$ms" "$r" "$fs" "$out" "$flushes" "$(awk "BEGIN { print $t1 - $t0 }")"
}

: >"$WORK/rounds.jsonl"
IFS=, read -r -a FLUSHES <<<"$FLUSH_LIST"
for ms in "${FLUSHES[@]}"; do
    declare -A PORT=() PID=() SDP=() MNT=()
    declare -A SETTING=() ENVS=()
    LABELS=()
    if [ -n "${CONFIGS:-}" ]; then
        IFS=';' read -r -a CFG <<<"$CONFIGS"
        for c in "${CFG[@]}"; do
            LABELS+=("${c%%:*}")
            SETTING[${c%%:*}]=${c#*:}
        done
    else
        LABELS=(tandem)
    fi
    [ -n "${OLD_TANDEM_BIN:-}" ] && LABELS+=(old)
    for l in "${LABELS[@]}"; do
        bin=$TANDEM_BIN
        [ "$l" = old ] && bin=$OLD_TANDEM_BIN
        # shellcheck disable=SC2206 # VAR=V words, split on purpose
        settings=(${SETTING[$l]:-})
        mount_slow "$l-$ms" "$ms"
        SDP[$l]=$SD_PID
        MNT[$l]=$WORK/$l-$ms.mnt
        ENVS[$l]="${SLOW_ENV[*]}"
        mkdir -p "${MNT[$l]}/data"
        start_server "$l-$ms" "$bin" "${MNT[$l]}/data" "${SLOW_ENV[@]}" "${settings[@]}"
        PORT[$l]=$SRV_PORT
        PID[$l]=$SRV_PID
        lg "${PORT[$l]}" "${PID[$l]}" "${SDP[$l]}" --mode create-table >/dev/null
    done
    for ((r = 0; r < ROUNDS; r++)); do
        for l in "${LABELS[@]}"; do
            log "flush ${ms} ms, round $((r + 1))/$ROUNDS: $l"
            # shellcheck disable=SC2086 # VAR=V words, split on purpose
            one_round "$l" "$ms" "$r" "${PORT[$l]}" "${PID[$l]}" "${SDP[$l]}" "${MNT[$l]}" \
                ${ENVS[$l]} >>"$WORK/rounds.jsonl"
        done
    done
    for l in "${LABELS[@]}"; do # stop this flush time's servers before its mounts go
        kill "${PID[$l]}" 2>/dev/null || true
        wait "${PID[$l]}" 2>/dev/null || true
    done
done

mkdir -p "$BENCH/results"
RESULT="$BENCH/results/slowdisk-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
cp "$WORK/rounds.jsonl" "$RESULT"
python3 - "$WORK/rounds.jsonl" "$CONNS" <<'EOF'
import json, sys, statistics
conns = int(sys.argv[2])
rows = [json.loads(l) for l in open(sys.argv[1])]
print(f"| server | flush ms | round | fsyncs/s | PutItem/s | % of fsyncs/s x {conns} "
      "| PutItems per flush | server CPU us/req | slowdisk CPU us/req | p50 ms |")
print("|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    f, p = r["fsync"]["fsyncs_per_s"], r["put"]
    pct = 100.0 * p["ops_per_s"] / (f * conns)
    per = "n/a"
    if r["fdatasyncs"]:
        per = f'{p["ops_per_s"] / (r["fdatasyncs"] / r["flush_seconds"]):.1f}'
    dc = p.get("pid2_cpu_us_per_req")  # --pid2's share of server_cpu_us_per_req
    sc = p["server_cpu_us_per_req"]
    sc = sc if sc is None or dc is None else round(sc - dc, 1)
    print(f'| {r["label"]} | {r["flush_ms"]} | {r["round"] + 1} | {f:.0f} | {p["ops_per_s"]:.0f} '
          f'| {pct:.1f} % | {per} | {sc} | {dc} | {p["latency_us"]["p50"] / 1000:.1f} |')
by = {}
for r in rows:
    by.setdefault((r["label"], r["flush_ms"]), []).append(
        100.0 * r["put"]["ops_per_s"] / (r["fsync"]["fsyncs_per_s"] * conns))
for (l, ms), v in by.items():
    print(f"{l}, flush {ms} ms: median {statistics.median(v):.1f} % of fsyncs/s x {conns} "
          f"({len(v)} rounds, aim >= 80 %)")
EOF
log "results: $RESULT"
