#!/bin/sh
# build.sh OUT.zip - package the Node.js example with its dependencies from
# npm (npm install into a temporary copy; node_modules is never committed).
# Offline, NODE_MODULES_FROM=DIR copies an existing node_modules instead
# (the tests use tests/js/node_modules, installed by npm ci).
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
out="$(realpath -m "$1")"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cp "$here/index.mjs" "$here/package.json" "$tmp/"
if [ -n "${NODE_MODULES_FROM:-}" ]; then
    cp -r "$NODE_MODULES_FROM" "$tmp/node_modules"
else
    (cd "$tmp" && npm install --omit=dev --no-audit --no-fund --silent)
fi
(cd "$tmp" && rm -f "$out" && zip -qr "$out" index.mjs package.json node_modules)
