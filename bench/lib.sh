# bench/lib.sh - helpers the benchmark scripts share (source it).
# shellcheck shell=bash

# stop_pids PID... - ask each process to stop, give it up to 5 s, then insist,
# and reap it.
stop_pids() {
    local pid
    for pid in "$@"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "$@"; do
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
}

# free_port - a TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_http NAME PORT PID [TRIES] - until 127.0.0.1:PORT answers HTTP at all
# (any status, which it prints), trying every 0.1 s up to TRIES times (default
# 200). If process PID exits first, or the port never answers, it says so with
# the caller's log() and the tail of $WORK/NAME.log, and exits.
wait_http() {
    local code tries=${4:-200}
    for _ in $(seq "$tries"); do
        if ! kill -0 "$3" 2>/dev/null; then
            log "$1 exited; its log:"
            tail -n 30 "$WORK/$1.log" >&2
            exit 1
        fi
        code=$(curl -s -o /dev/null -m 1 -w '%{http_code}' "http://127.0.0.1:$2/" || true)
        if [ -n "$code" ] && [ "$code" != 000 ]; then
            echo "$code"
            return 0
        fi
        sleep 0.1
    done
    log "$1 did not answer on port $2 within $((tries / 10)) s; its log:"
    tail -n 30 "$WORK/$1.log" >&2
    exit 1
}

# start_region REGION PORT DATA PEER_REGION PEER_PORT LOG [WRAPPER...] - start
# `$TANDEM server` for REGION on 127.0.0.1:PORT with its data in DATA, peered
# with PEER_REGION at 127.0.0.1:PEER_PORT, its output in LOG, its command line
# run by WRAPPER when given (valgrind ..., taskset -c N: $! stays the server's
# pid). Further server flags come from the array REGION_FLAGS. Sets REGION_PID
# and appends it to the array pids; does not wait (see wait_up).
start_region() {
    local region=$1 port=$2 data=$3 peer=$4 peer_port=$5 log=$6
    shift 6
    "$@" "$TANDEM" server --region "$region" --data "$data" --listen "127.0.0.1:$port" \
        --peer "$peer=http://127.0.0.1:$peer_port" ${REGION_FLAGS[@]+"${REGION_FLAGS[@]}"} >"$log" 2>&1 &
    REGION_PID=$!
    pids+=("$REGION_PID")
}

# wait_up PORT [TRIES] - wait until the region on 127.0.0.1:PORT answers, trying
# every 0.1 s up to TRIES times (default 100); fails with a message otherwise.
wait_up() {
    for _ in $(seq "${2:-100}"); do
        curl -s -o /dev/null -m 1 "http://127.0.0.1:$1/" && return 0
        sleep 0.1
    done
    echo "the region on port $1 did not start" >&2
    return 1
}

# region_metric PORT NAME - the value of NAME (with its labels, as printed) in
# the region's /_tandem/metrics.
region_metric() {
    curl -s -m 30 "http://127.0.0.1:$1/_tandem/metrics" | awk -v m="$2" '$1 == m {print $2}'
}

# stream_tables PORT TABLE... - create each TABLE (hash key id, a string; a
# NEW_AND_OLD_IMAGES stream) in the region on PORT (us-east-1) with boto3; a
# TABLE written +NAME also gets a replica in us-west-2. Uses the environment's
# AWS credentials.
stream_tables() {
    python3 - "$@" <<'PY'
import sys, boto3
c = boto3.client("dynamodb", region_name="us-east-1", endpoint_url="http://127.0.0.1:" + sys.argv[1])
for t in sys.argv[2:]:
    name = t.lstrip("+")
    c.create_table(TableName=name, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                   AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                   BillingMode="PAY_PER_REQUEST",
                   StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    if t.startswith("+"):
        c.update_table(TableName=name, ReplicaUpdates=[{"Create": {"RegionName": "us-west-2"}}])
PY
}
