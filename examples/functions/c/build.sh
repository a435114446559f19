#!/bin/sh
# build.sh OUT.zip [FUNCTION] - compile a C example into a provided.al2023
# package (a zip holding the executable `bootstrap`). FUNCTION is hello
# (the default: hello.c, no dependencies) or dr (dr.c, the DR function:
# libcurl, libcrypto and cJSON, from Debian's libcurl4-openssl-dev,
# libssl-dev and libcjson-dev).
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
out="$(realpath -m "$1")"
fn="${2:-hello}"
case "$fn" in
hello) libs="" ;;
dr) libs="-lcurl -lcrypto -lcjson" ;;
*) echo "build.sh: unknown function $fn (hello or dr)" >&2; exit 2 ;;
esac
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# shellcheck disable=SC2086 # $libs is a list of flags
${CC:-cc} -O2 -Wall -Wextra -o "$tmp/bootstrap" "$here/$fn.c" "$here/lambda_runtime.c" $libs
(cd "$tmp" && rm -f "$out" && zip -q "$out" bootstrap)
