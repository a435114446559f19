#!/usr/bin/env bash
# walkthrough.sh TANDEM_BIN - the acceptance walkthrough of DESIGN.md section 1 on the
# stack deployed from examples/tap: both function URLs answer, both regions hold the same
# items, an object put in the primary bucket shows up in the secondary. Run it from any
# folder after `tandem up`; exits non-zero at the first step that does not hold.
set -euo pipefail
t="$1"
cd "$(dirname "$0")/../examples/tap"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

step "tandem output"
"$t" output

for url in primaryLambdaUrl secondaryLambdaUrl; do
    step "curl \"\$(tandem output $url)\""
    curl -fsS "$("$t" output "$url")"
    echo
done

eval "$("$t" endpoint us-east-1 --env)"
E1="$("$t" endpoint us-east-1)"
W2="$("$t" endpoint us-west-2)"
table="$("$t" output globalTableName)"
ids() { aws dynamodb scan --table-name "$table" --region "$1" --endpoint-url "$2" \
        --query 'Items[].id.S' --output text | tr '\t' '\n' | sort; }
step "aws dynamodb scan --table-name $table (us-east-1, then us-west-2)"
for _ in $(seq 50); do
    [ "$(ids us-east-1 "$E1")" = "$(ids us-west-2 "$W2")" ] && break
    sleep 0.2
done
echo "us-east-1: $(ids us-east-1 "$E1" | tr '\n' ' ')"
echo "us-west-2: $(ids us-west-2 "$W2" | tr '\n' ' ')"
[ "$(ids us-east-1 "$E1")" = "$(ids us-west-2 "$W2")" ]

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "disaster recovery, $(date -u +%FT%TZ)" >"$tmp/file.txt"
step "aws s3 cp file.txt s3://$("$t" output primaryBucketName)/"
aws s3 cp "$tmp/file.txt" "s3://$("$t" output primaryBucketName)/" --region us-east-1 \
    --endpoint-url "$E1"
step "aws s3api head-object --bucket $("$t" output secondaryBucketName) --key file.txt"
for i in $(seq 100); do
    if aws s3api head-object --bucket "$("$t" output secondaryBucketName)" --key file.txt \
        --region us-west-2 --endpoint-url "$W2" --output json 2>/dev/null; then
        break
    fi
    [ "$i" -lt 100 ] || { echo "file.txt did not reach the secondary bucket" >&2; exit 1; }
    sleep 0.2
done
printf '\nThe walkthrough holds.\n'
