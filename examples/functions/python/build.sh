#!/bin/sh
# build.sh OUT.zip - package the Python example (app.py alone: boto3 is the
# interpreter's, as on AWS Lambda, which bundles it).
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
out="$(realpath -m "$1")"
rm -f "$out"
(cd "$here" && zip -q "$out" app.py)
