#!/bin/sh
# build.sh OUT.zip - compile the C example into a provided.al2023 package.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
out="$(realpath -m "$1")"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
${CC:-cc} -O2 -Wall -Wextra -o "$tmp/bootstrap" "$here/hello.c" "$here/lambda_runtime.c"
(cd "$tmp" && rm -f "$out" && zip -q "$out" bootstrap)
