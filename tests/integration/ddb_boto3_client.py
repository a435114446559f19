"""ddb_boto3_client - one DynamoDB call through boto3, for the client matrix.

Usage: python3 ddb_boto3_client.py OPERATION 'JSON PARAMS'
Endpoint from $TANDEM_ENDPOINT, credentials and region from the usual AWS_*
variables, CA bundle from AWS_CA_BUNDLE. Prints the response (without
ResponseMetadata) as JSON; on a service error prints {"error", "message"} and
exits 1.
"""

import json
import os
import re
import sys

import boto3
import botocore.exceptions


def main():
    op, params = sys.argv[1], json.loads(sys.argv[2])
    client = boto3.session.Session().client("dynamodb", endpoint_url=os.environ["TANDEM_ENDPOINT"])
    method = re.sub(r"(?<!^)([A-Z])", r"_\1", op).lower()
    try:
        out = getattr(client, method)(**params)
    except botocore.exceptions.ClientError as e:
        print(json.dumps({"error": e.response["Error"]["Code"],
                          "message": e.response["Error"].get("Message", "")}))
        return 1
    out.pop("ResponseMetadata", None)
    print(json.dumps(out, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
