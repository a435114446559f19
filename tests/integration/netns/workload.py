"""Random writes and deletes against one region for a bounded time, run
inside that region's namespace. Writes the acknowledged operations as JSON.

usage: workload.py URL REGION SECONDS SEED OUT"""

import json
import os
import random
import sys
import time

import boto3
import botocore.config

url, region, seconds, seed, out = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
c = boto3.session.Session().client(
    "dynamodb", region_name=region, endpoint_url=url,
    aws_access_key_id=os.environ["TANDEM_ACCESS_KEY_ID"],
    aws_secret_access_key=os.environ["TANDEM_SECRET_ACCESS_KEY"],
    config=botocore.config.Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=10))
rnd = random.Random(seed)
acked, n, deadline = [], 0, time.time() + seconds
while time.time() < deadline and n < 20000:
    n += 1
    try:
        if rnd.random() < 0.5:
            # a key only this region writes: must exist everywhere at the end
            k = "u-%s-%05d" % (region, n)
            c.put_item(TableName="chaos", Item={"pk": {"S": k}, "r": {"S": region}})
            acked.append(["unique", k])
        elif rnd.random() < 0.7:
            k = "shared-%03d" % rnd.randrange(100)
            c.put_item(TableName="chaos", Item={"pk": {"S": k}, "r": {"S": region}, "n": {"N": str(n)}})
            acked.append(["put", k])
        else:
            k = "shared-%03d" % rnd.randrange(100)
            c.delete_item(TableName="chaos", Key={"pk": {"S": k}})
            acked.append(["del", k])
    except Exception as e:  # not acknowledged: not counted
        acked.append(["error", str(e)[:200]])
with open(out, "w") as f:
    json.dump(acked, f)
