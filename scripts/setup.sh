#!/usr/bin/env bash
# setup.sh - install, build, run and test Tandem on Debian 12.
#
#   sudo scripts/setup.sh run    build (Release) and deploy the seed's stack
#                                (examples/tap: tandem up --yes) until Ctrl-C;
#                                while it cannot deploy yet (or TANDEM_RUN=regions),
#                                two local regions (us-east-1, us-west-2)
#   sudo scripts/setup.sh test   every gate: format, cppcheck, -Werror release
#                                build, sanitized unit + integration tests,
#                                coverage >= 85 %, fuzzing; non-zero on failure
#
# Packages come from Debian (apt-get, only what is missing) and tests/js from
# npm (npm ci). Environment: JOBS (default 2), TANDEM_BASE_PORT (run: default
# 8100; us-east-1 listens on base+1, us-west-2 on base+2), COVERAGE_MIN (85).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
JOBS="${JOBS:-2}"
COVERAGE_MIN="${COVERAGE_MIN:-85}"

PACKAGES=(build-essential cmake pkg-config libmicrohttpd-dev liblmdb-dev libcjson-dev
          libgmp-dev libcmocka-dev libssl-dev zlib1g-dev libzstd-dev zstd libcurl4-openssl-dev libexpat1-dev
          libyaml-dev libzip-dev zip gcovr awscli python3-boto3 clang clang-format clang-tidy cppcheck
          libclang-rt-14-dev iproute2 curl openssl wrk procps)

say() { printf '\n==> %s\n' "$*"; }
die() { printf 'setup.sh: %s\n' "$*" >&2; exit 1; }

installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }

install_packages() {
    local missing=() p
    for p in "${PACKAGES[@]}"; do
        installed "$p" || missing+=("$p")
    done
    # node and npm may come from Debian (nodejs + npm) or from another
    # packaging of nodejs that bundles npm: only the commands matter.
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        installed nodejs || missing+=(nodejs)
        command -v npm >/dev/null || missing+=(npm)
    fi
    if [ "${#missing[@]}" -eq 0 ]; then
        echo "packages: all present"
        return
    fi
    [ "$(id -u)" -eq 0 ] || die "missing packages (${missing[*]}): run as root (sudo $0 ...)"
    say "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y "${missing[@]}"
}

install_js() {
    local dir="$ROOT/tests/js"
    if [ -d "$dir/node_modules/@aws-sdk/client-dynamodb" ] &&
        [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]; then
        echo "tests/js: node_modules up to date"
        return
    fi
    say "npm ci (tests/js)"
    # a registry download can stall without failing (seen once for 10+
    # minutes): bound each try and try again, rather than hang the run
    local try
    for try in 1 2 3; do
        if (cd "$dir" && timeout 300 npm ci --no-audit --no-fund); then
            return
        fi
        echo "npm ci: try $try failed or stalled" >&2
    done
    return 1
}

prepare() {
    install_packages
    install_js
}

# configure DIR ARGS... - cmake configure (again) with these options.
configure() {
    local dir="$1"
    shift
    mkdir -p "$ROOT/$dir"
    cmake -S "$ROOT" -B "$ROOT/$dir" "$@" >"$ROOT/$dir/configure.log" 2>&1 || {
        cat "$ROOT/$dir/configure.log"
        return 1
    }
}

build_release() {
    configure build -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG -D_FORTIFY_SOURCE=2" -DTANDEM_WERROR=ON \
        -DTANDEM_SANITIZE=OFF -DTANDEM_COVERAGE=OFF -DTANDEM_FUZZ=OFF
    cmake --build build -j"$JOBS"
}

# ---------------------------------------------------------------------------
# run: the seed's stack (examples/tap) with `tandem up --yes`; while it cannot
# deploy yet, two local regions until Ctrl-C

# run_stack BIN - deploy examples/tap, show the walkthrough, destroy on Ctrl-C.
# Returns 1 (after cleaning up) when the stack does not deploy.
run_stack() {
    local bin="$1" dir="$ROOT/examples/tap"
    export ENVIRONMENT_SUFFIX="${ENVIRONMENT_SUFFIX:-dev}"
    say "tandem up --yes (examples/tap, ENVIRONMENT_SUFFIX=$ENVIRONMENT_SUFFIX)"
    if ! (cd "$dir" && "$bin" up --yes); then
        say "the stack does not deploy yet (error above): destroying what was made"
        (cd "$dir" && "$bin" destroy --yes >/dev/null 2>&1) || true
        return 1
    fi
    # shellcheck disable=SC2317  # invoked by the trap
    destroy_stack() {
        trap - INT TERM HUP
        say "tandem destroy --yes" 2>/dev/null || true
        (cd "$dir" && "$bin" destroy --yes) || exit 1
        exit 0
    }
    trap destroy_stack INT TERM HUP
    "$ROOT/scripts/walkthrough.sh" "$bin" || say "the walkthrough did not hold (see above)"
    printf '\nThe seed'"'"'s stack is up (examples/tap/Tandem.yaml). Walk through it:\n'
    printf '  cd examples/tap; t=%s\n' "$bin"
    printf '  curl "$($t output primaryLambdaUrl)"; curl "$($t output secondaryLambdaUrl)"\n'
    printf '  eval "$($t endpoint us-east-1 --env)"\n'
    printf '  aws dynamodb scan --table-name "$($t output globalTableName)" --region us-west-2 --endpoint-url "$($t endpoint us-west-2)"\n'
    printf '\nCtrl-C runs tandem destroy --yes (deletes everything, stops the regions).\n'
    while :; do
        sleep 3600 &
        wait $! || true
    done
}

cmd_run() {
    prepare
    say "building (Release) in build/"
    build_release
    local bin="$ROOT/build/src/cli/tandem" state="$ROOT/.tandem" base="${TANDEM_BASE_PORT:-8100}"
    mkdir -p "$state"
    chmod 700 "$state"
    if [ ! -s "$state/credentials.env" ]; then
        local ak sk
        ak="AKIA$(openssl rand -hex 8 | tr 'a-f' 'A-F')"
        sk="$(openssl rand -base64 30 | tr -d '\n')"
        # the keys alone are private: a umask left at 077 would reach the regions started
        # below, whose function packages their function users must read
        (umask 077 && printf 'AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\n' "$ak" "$sk" \
            >"$state/credentials.env")
    fi
    # shellcheck disable=SC1091
    . "$state/credentials.env"
    export TANDEM_ACCESS_KEY_ID="$AWS_ACCESS_KEY_ID" TANDEM_SECRET_ACCESS_KEY="$AWS_SECRET_ACCESS_KEY"
    export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
    if [ "${TANDEM_RUN:-stack}" = stack ] && run_stack "$bin"; then
        return
    fi

    local regions=(us-east-1 us-west-2) pids=() i port
    # shellcheck disable=SC2317  # invoked by the trap
    stop_regions() {
        trap - INT TERM HUP
        trap '' PIPE
        say "stopping regions" 2>/dev/null || true
        local p rc=0
        for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
        for p in "${pids[@]}"; do wait "$p" 2>/dev/null || rc=$?; done
        echo "stopped (status $rc); data kept in .tandem/" 2>/dev/null || true
        exit "$rc"
    }
    trap stop_regions INT TERM HUP
    for i in "${!regions[@]}"; do
        port=$((base + i + 1))
        if ss -Hltn "sport = :$port" 2>/dev/null | grep -q .; then
            die "port $port is in use (set TANDEM_BASE_PORT)"
        fi
        # own session: Ctrl-C reaches this script, which stops them with SIGTERM
        setsid "$bin" server --region "${regions[$i]}" --data "$state/${regions[$i]}" \
            --listen "127.0.0.1:$port" 2>>"$state/${regions[$i]}.log" &
        pids+=($!)
    done
    for i in "${!regions[@]}"; do
        port=$((base + i + 1))
        local tries=0
        until curl -fsS "http://127.0.0.1:$port/" >/dev/null 2>&1; do
            tries=$((tries + 1))
            if ! kill -0 "${pids[$i]}" 2>/dev/null || [ "$tries" -gt 100 ]; then
                tail -20 "$state/${regions[$i]}.log" >&2 || true
                for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
                die "region ${regions[$i]} did not start (log: $state/${regions[$i]}.log)"
            fi
            sleep 0.1
        done
    done

    say "Tandem regions running (data and logs under $state/)"
    for i in "${!regions[@]}"; do
        printf '  %-10s http://127.0.0.1:%d   log: .tandem/%s.log\n' "${regions[$i]}" \
            $((base + i + 1)) "${regions[$i]}"
    done
    cat <<EOF

Credentials (the root user of account 000000000000), also in .tandem/credentials.env:
  export AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID
  export AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY

Try:
  aws dynamodb list-tables --region us-east-1 --endpoint-url http://127.0.0.1:$((base + 1))
  aws dynamodb list-tables --region us-west-2 --endpoint-url http://127.0.0.1:$((base + 2))

Ctrl-C stops both regions; their data stays in .tandem/.
EOF
    # wait until Ctrl-C, or until a region dies on its own
    local rc=0
    wait -n "${pids[@]}" || rc=$?
    echo "a region exited on its own (status $rc); see .tandem/*.log" >&2
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    wait || true
    exit 1
}

# ---------------------------------------------------------------------------
# test: the gates, in order, failing fast

PASSED=0
FAILED=0
RESULTS=()

summary() {
    echo
    echo "==================== summary ===================="
    local r
    for r in "${RESULTS[@]}"; do echo "  $r"; done
    echo "gates: $PASSED passed, $FAILED failed"
}

# gate NAME FUNCTION - run one gate; stop at the first failure.
gate() {
    local name="$1" fn="$2" start rc=0
    start=$(date +%s)
    say "gate: $name"
    "$fn" || rc=$?
    local secs=$(($(date +%s) - start))
    if [ "$rc" -eq 0 ]; then
        PASSED=$((PASSED + 1))
        RESULTS+=("PASS  $name (${secs}s)")
    else
        FAILED=$((FAILED + 1))
        RESULTS+=("FAIL  $name (${secs}s, status $rc)")
        summary
        exit 1
    fi
}

c_sources() {
    local d
    for d in src tests bench; do
        [ -d "$d" ] && find "$d" -type f \( -name '*.c' -o -name '*.h' \) -not -path '*/corpus/*'
    done
    find . -maxdepth 1 -type f \( -name '*.c' -o -name '*.h' \)
}

gate_format() {
    local files
    mapfile -t files < <(c_sources | sort)
    [ "${#files[@]}" -gt 0 ] || return 0
    echo "${#files[@]} files"
    clang-format --dry-run --Werror "${files[@]}"
}

gate_cppcheck() {
    local incs=() d
    for d in src/*/; do incs+=(-I "${d%/}"); done
    cppcheck --enable=warning,performance,portability --error-exitcode=1 --inline-suppr \
        --std=c11 -D_GNU_SOURCE -j "$JOBS" -q "${incs[@]}" \
        --include="$ROOT/scripts/cppcheck-defs.h" --suppress=missingIncludeSystem src/
}

gate_release() {
    build_release
}

gate_sanitized_tests() {
    # atomic counters: threaded tests and servers would otherwise corrupt them
    configure build-ci -DCMAKE_BUILD_TYPE=Debug -DTANDEM_SANITIZE=ON -DTANDEM_COVERAGE=ON \
        -DTANDEM_FUZZ=OFF -DCMAKE_C_FLAGS="-fprofile-update=atomic"
    cmake --build build-ci -j"$JOBS"
    find build-ci -name '*.gcda' -delete
    export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:strict_string_checks=1"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
    (cd build-ci && ctest --output-on-failure -j"$JOBS" -LE fuzz)
}

gate_coverage() {
    # (gcovr 5.2 can hang with -j when gcov output trips its parser: run it serially)
    timeout 900 gcovr --root "$ROOT" --object-directory "$ROOT/build-ci" --filter "$ROOT/src/" \
        --gcov-ignore-parse-errors --print-summary --fail-under-line "$COVERAGE_MIN"
}

gate_fuzz() {
    local targets=() f
    for f in tests/fuzz/fuzz_*.c; do
        [ -e "$f" ] && targets+=("$(basename "$f" .c)")
    done
    if [ "${#targets[@]}" -eq 0 ]; then
        echo "no fuzz harnesses (tests/fuzz/fuzz_*.c) yet"
        return 0
    fi
    CC=clang configure build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DTANDEM_FUZZ=ON -DTANDEM_SANITIZE=OFF -DTANDEM_COVERAGE=OFF
    cmake --build build-fuzz -j"$JOBS" --target "${targets[@]}"
    (cd build-fuzz && ctest --output-on-failure -j"$JOBS" -L fuzz)
}

cmd_test() {
    prepare
    gate "clang-format" gate_format
    gate "cppcheck src/" gate_cppcheck
    gate "release build -O2 -D_FORTIFY_SOURCE=2 -Werror" gate_release
    gate "unit + integration tests (ASan+UBSan, coverage)" gate_sanitized_tests
    gate "line coverage of src/ >= ${COVERAGE_MIN}%" gate_coverage
    gate "fuzz harnesses (clang, libFuzzer)" gate_fuzz
    summary
}

case "${1:-}" in
run) cmd_run ;;
test) cmd_test ;;
*)
    echo "usage: $0 run|test" >&2
    exit 2
    ;;
esac
