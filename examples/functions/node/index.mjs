// index.mjs - the DR function in Node.js: records the request and its region
// in the DynamoDB table named by TABLE_NAME (the global table), and answers
// with its region and the table's status. Uses the AWS SDK for JavaScript v3
// exactly as on AWS Lambda: region, endpoint (AWS_ENDPOINT_URL) and the
// execution role's credentials all come from the environment.
import {DynamoDBClient, PutItemCommand, DescribeTableCommand} from '@aws-sdk/client-dynamodb';

const client = new DynamoDBClient({});

export const handler = async (event, context) => {
  const table = process.env.TABLE_NAME;
  const region = process.env.AWS_REGION;
  const id = context.awsRequestId;
  const path = (event && event.rawPath) || '';
  console.log(`request ${id} path=${path} region=${region}`);
  await client.send(new PutItemCommand({
    TableName: table,
    Item: {
      id: {S: id},
      region: {S: region},
      path: {S: path},
      at: {S: new Date().toISOString()},
    },
  }));
  const d = await client.send(new DescribeTableCommand({TableName: table}));
  return {
    statusCode: 200,
    headers: {'content-type': 'application/json'},
    body: JSON.stringify({region, table, tableStatus: d.Table.TableStatus, id}),
  };
};
