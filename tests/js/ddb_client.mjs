// ddb_client.mjs - one DynamoDB call through the AWS SDK for JavaScript v3,
// for Tandem's client matrix (tests/integration/test_ddb_clients.py).
//
// Usage: node ddb_client.mjs OPERATION 'JSON PARAMS'
// Endpoint from $TANDEM_ENDPOINT; credentials and region from the usual AWS_*
// variables; extra CAs from NODE_EXTRA_CA_CERTS. Prints the response (without
// $metadata) as JSON; on a service error prints {"error","message"}, exits 1.
import * as ddb from "@aws-sdk/client-dynamodb";

const [op, json] = process.argv.slice(2);
const Command = ddb[`${op}Command`];
if (!Command) {
  console.log(JSON.stringify({ error: "NoSuchCommand", message: op }));
  process.exit(2);
}
const client = new ddb.DynamoDBClient({
  endpoint: process.env.TANDEM_ENDPOINT,
  region: process.env.AWS_REGION,
  maxAttempts: 2,
});
try {
  const out = await client.send(new Command(JSON.parse(json || "{}")));
  delete out.$metadata;
  console.log(JSON.stringify(out));
} catch (e) {
  console.log(JSON.stringify({ error: e.name, message: String(e.message) }));
  process.exitCode = 1;
} finally {
  client.destroy();
}
