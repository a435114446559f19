"""Who the stack's keys are, in a region named by endpoint: `fn::invoke
aws:getCallerIdentity` with `options.provider` asks that region (STS
GetCallerIdentity) and answers its account, ARN and user id; the local regions'
answer stays the root user of account 000000000000. Preview's predicted ARNs use
the account of the region they go to, and a provider given as an invoke's
`options.provider` is the provider (its region), not its id. The provider's data
sources for existing resources (aws:dynamodb:getTable, aws:s3:getBucket,
aws:iam:getRole, aws:lambda:getFunction) read them from the region, in preview too,
and one naming nothing there is an error at the invoke."""
import json
import unittest

from stack_helpers import region_project

PROGRAM = """\
name: callers
runtime: yaml
config:
  url:
    type: string
variables:
  there:
    fn::invoke:
      function: aws:getCallerIdentity
      options:
        provider: ${east}
  here:
    fn::invoke:
      function: aws:getCallerIdentity
  westRegion:
    fn::invoke:
      function: aws:getRegion
      options:
        provider: ${west}
resources:
  east:
    type: pulumi:providers:aws
    properties:
      region: us-east-1
      endpoints:
        - iam: ${url}
          sts: ${url}
  west:
    type: pulumi:providers:aws
    properties:
      region: us-west-2
  role:
    type: aws:iam:Role
    properties:
      name: caller-role
      assumeRolePolicy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
    options:
      provider: ${east}
outputs:
  account: ${there.accountId}
  arn: ${there.arn}
  userId: ${there.userId}
  localAccount: ${here.accountId}
  localArn: ${here.arn}
  west: ${westRegion.name}
  roleArn: ${role.arn}
"""


class CallerIdentity(unittest.TestCase):
    def test_account_of_a_region_named_by_endpoint(self):
        server, p = region_project(self, PROGRAM)
        self.assertEqual(server.account, "123456789012")
        want = {
            "account": "123456789012",
            "arn": "arn:aws:iam::123456789012:root",
            "userId": "123456789012",
            "localAccount": "000000000000",
            "localArn": "arn:aws:iam::000000000000:root",
            "west": "us-west-2",
            "roleArn": "arn:aws:iam::123456789012:role/caller-role",
        }
        r = p.run("preview", "--json", check=0)
        self.assertEqual(json.loads(r.stdout)["outputs"], want)
        p.run("up", "--yes", check=0)
        r = p.run("output", "--json", check=0)
        self.assertEqual(json.loads(r.stdout), want)


if __name__ == "__main__":
    unittest.main()


LOOKUPS = """\
name: lookups
runtime: yaml
config:
  url:
    type: string
variables:
  orders:
    fn::invoke:
      function: aws:dynamodb:getTable
      arguments:
        name: orders
      options:
        provider: ${east}
  bucket:
    fn::invoke:
      function: aws:s3/getBucket:getBucket
      arguments:
        bucket: data-bucket
      options:
        provider: ${east}
  roleArn:
    fn::invoke:
      function: aws:iam:getRole
      arguments:
        name: data-role
      options:
        provider: ${east}
      return: arn
  fn:
    fn::invoke:
      function: aws:lambda:getFunction
      arguments:
        functionName: data-fn
      options:
        provider: ${east}
resources:
  east:
    type: pulumi:providers:aws
    properties:
      region: us-east-1
      endpoints:
        - dynamodb: ${url}
          s3: ${url}
          iam: ${url}
          lambda: ${url}
outputs:
  tableArn: ${orders.arn}
  streamArn: ${orders.streamArn}
  hashKey: ${orders.hashKey}
  bucketArn: ${bucket.arn}
  roleArn: ${roleArn}
  fnArn: ${fn.arn}
  fnRuntime: ${fn.runtime}
"""


class DataSources(unittest.TestCase):
    def test_existing_resources_read_from_the_region(self):
        import io
        import zipfile
        server, p = region_project(self, LOOKUPS)
        ddb, s3, iam, lam = (server.boto3(s) for s in ("dynamodb", "s3", "iam", "lambda"))
        t = ddb.create_table(TableName="orders", BillingMode="PAY_PER_REQUEST",
                             KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                             AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                             StreamSpecification={"StreamEnabled": True,
                                                  "StreamViewType": "NEW_AND_OLD_IMAGES"})
        s3.create_bucket(Bucket="data-bucket")
        role = iam.create_role(RoleName="data-role", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                    "Principal": {"Service": "lambda.amazonaws.com"}}]}))
        zb = io.BytesIO()
        with zipfile.ZipFile(zb, "w") as z:
            z.writestr("index.js", "exports.handler = async () => 1;\n")
        f = lam.create_function(FunctionName="data-fn", Runtime="nodejs20.x", Handler="index.handler",
                                Role=role["Role"]["Arn"], Code={"ZipFile": zb.getvalue()})
        want = {"tableArn": t["TableDescription"]["TableArn"],
                "streamArn": t["TableDescription"]["LatestStreamArn"],
                "hashKey": "id",
                "bucketArn": "arn:aws:s3:::data-bucket",
                "roleArn": role["Role"]["Arn"],
                "fnArn": f["FunctionArn"],
                "fnRuntime": "nodejs20.x"}
        r = p.run("preview", "--json", check=0)
        self.assertEqual(json.loads(r.stdout)["outputs"], want)
        p.run("up", "--yes", check=0)
        self.assertEqual(json.loads(p.run("output", "--json", check=0).stdout), want)

        # what is not there is an error at the invoke, naming what and where
        p.write(LOOKUPS.replace("name: orders", "name: nope"))
        r = p.run("preview")
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("fn::invoke aws:dynamodb:getTable: no aws:dynamodb:Table named 'nope' in "
                      "us-east-1", r.stderr)
