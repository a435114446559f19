#!/usr/bin/env bash
# stack_up.sh - how long `tandem up` takes for the seed's stack (examples/tap):
# from nothing (local regions started, every resource created), a second up that
# changes nothing, and destroy (every resource deleted, regions stopped).
#
#   bench/stack_up.sh [ROUNDS]      (TANDEM_BIN: the tandem to time; default build/)
#
# While a service the stack needs is missing from the regions, the resources that
# need it are left out (printed as "without: ..."), so the numbers cover what
# deploys today. Prints one line per round and the median of each phase.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${TANDEM_BIN:-$ROOT/build/src/cli/tandem}"
ROUNDS="${1:-5}"
[ -x "$BIN" ] || { echo "no tandem at $BIN (set TANDEM_BIN)" >&2; exit 1; }

work="$(mktemp -d /tmp/tandem-bench-stack.XXXXXX)"
cleanup() { (cd "$work" && "$BIN" destroy --yes >/dev/null 2>&1) || true; rm -rf "$work"; }
trap cleanup EXIT
cp -r "$ROOT/examples/tap/." "$work/"
rm -rf "$work/.tandem"
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_ENDPOINT_URL
export ENVIRONMENT_SUFFIX=bench

now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }

# Probe: one up; drop the resource types whose operation is not served yet.
cd "$work"
if ! "$BIN" up --yes --json >"$work/probe.json" 2>/dev/null; then
    failed="$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(" ".join(sorted({s["name"] for s in d["steps"] if s.get("error")})))' "$work/probe.json")"
    echo "without: $failed (not served by the regions yet)"
    python3 - "$work/Tandem.yaml" $failed <<'PYEOF'
import re, sys
path, drop = sys.argv[1], set(sys.argv[2:])
text = open(path).read()
out, skip = [], False
for line in text.splitlines(keepends=True):
    m = re.match(r"^  (\w+):\s*$", line)
    if m:
        skip = m.group(1) in drop
    elif not line.startswith("   ") and line.strip():
        skip = False
    if not skip:
        out.append(line)
text = "".join(out)
for name in drop:   # dependsOn entries naming what was dropped
    text = re.sub(r"\n\s*- \$\{%s\}" % name, "", text)
open(path, "w").write(text)
PYEOF
fi
"$BIN" destroy --yes >/dev/null

ups=() noops=() destroys=()
for i in $(seq 1 "$ROUNDS"); do
    t=$(now); "$BIN" up --yes >/dev/null; ups+=("$(since "$t")")
    t=$(now); "$BIN" up --yes --json >"$work/noop.json"; noops+=("$(since "$t")")
    writes=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["writes"])' "$work/noop.json")
    t=$(now); "$BIN" destroy --yes >/dev/null; destroys+=("$(since "$t")")
    n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["steps"]))' "$work/noop.json")
    printf 'round %d: %d resources  up %.2fs  no-change up %.2fs (%s writes)  destroy %.2fs\n' \
        "$i" "$n" "${ups[-1]}" "${noops[-1]}" "$writes" "${destroys[-1]}"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf 'median: up %.2fs  no-change up %.2fs  destroy %.2fs\n' \
    "$(median "${ups[@]}")" "$(median "${noops[@]}")" "$(median "${destroys[@]}")"
