"""app.py - the DR function in Python: records the request and its region in
the DynamoDB table named by TABLE_NAME (the global table), and answers with
its region and the table's status. Uses boto3 as on AWS Lambda (which bundles
it): region and the execution role's credentials come from the environment;
the endpoint is AWS_ENDPOINT_URL_DYNAMODB, else AWS_ENDPOINT_URL (Tandem sets
it to the region's own address; unset on AWS, where boto3's default applies).
Handler: app.handler."""
import datetime
import json
import logging
import os

import boto3

logger = logging.getLogger()
logger.setLevel(logging.INFO)

# created once per instance and kept between invocations (warm starts)
DDB = boto3.client("dynamodb", endpoint_url=os.environ.get("AWS_ENDPOINT_URL_DYNAMODB")
                   or os.environ.get("AWS_ENDPOINT_URL"))


def handler(event, context):
    table = os.environ["TABLE_NAME"]
    region = os.environ["AWS_REGION"]
    path = (event or {}).get("rawPath", "")
    logger.info("request %s path=%s region=%s", context.aws_request_id, path, region)
    try:
        DDB.put_item(TableName=table, Item={
            "id": {"S": context.aws_request_id},
            "region": {"S": region},
            "path": {"S": path},
            "at": {"S": datetime.datetime.now(datetime.timezone.utc).isoformat()},
        })
        status = DDB.describe_table(TableName=table)["Table"]["TableStatus"]
    except DDB.exceptions.ClientError as e:
        err = e.response["Error"]
        return {"statusCode": 500, "headers": {"content-type": "application/json"},
                "body": json.dumps({"error": err.get("Code"), "message": err.get("Message")})}
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"region": region, "table": table, "tableStatus": status,
                            "id": context.aws_request_id}),
    }
