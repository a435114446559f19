"""The `import` resource option as Pulumi's: `tandem up` adopts an existing resource only
when the inputs the program gives match what the region reads back; otherwise the import
fails with "inputs to import do not match the existing resource", naming the option's
position and each differing property with both values, and nothing is written."""
import json
import unittest

from stack_helpers import Project

PREFIX = """name: adopt
runtime: yaml
resources:
  rnd:
    type: random:RandomPet
"""

LEDGER = """  ledger:
    type: aws:dynamodb:Table
    properties:
      name: ledger
      billingMode: PROVISIONED
      readCapacity: {read}
      writeCapacity: 5
      hashKey: id
      rangeKey: ts
      attributes:
        - name: ts
          type: N
        - name: id
          type: S
        - name: user
          type: S
      globalSecondaryIndexes:
        - name: byUser
          hashKey: user
          projectionType: KEYS_ONLY
          readCapacity: 5
          writeCapacity: 5
      ttl:
        attributeName: {ttl}
        enabled: true
      tags:
        Team: pay
    options:
      import: ledger
"""

DEPLOYER = """  deployer:
    type: aws:iam:Role
    properties:
      name: deployer
      description: CI deployer
      assumeRolePolicy:
        fn::toJSON:
          Statement:
            - Principal:
                Service: {service}
              Effect: Allow
              Action: [sts:AssumeRole]
          Version: 2012-10-17
      inlinePolicies:
        - name: read-all
          policy: '{{ "Version": "2012-10-17", "Statement": [ {{ "Resource": "*", "Effect": "Allow", "Action": [ "s3:ListBucket", "s3:GetObject" ] }} ] }}'
    options:
      import: deployer
"""

EXPORTS = """  exports:
    type: aws:s3:BucketV2
    properties:
      bucket: ledger-exports
      tags:
        Team: {team}
    options:
      import: ledger-exports
  exportsVersions:
    type: aws:s3:BucketVersioningV2
    properties:
      bucket: ledger-exports
      versioningConfiguration:
        status: {versions}
    options:
      import: ledger-exports
"""

READER = """  reader:
    type: aws:iam:Policy
    properties:
      name: reader
      description: {desc}
      policy:
        Version: 2012-10-17
        Statement:
          - Effect: Allow
            Action: dynamodb:GetItem
            Resource: "*"
    options:
      import: {arn}
{ignore}"""


def ops(result):
    return {s["name"]: s["op"] for s in result["steps"]}


class ImportMatches(unittest.TestCase):
    def setUp(self):
        self.p = Project(PREFIX)
        self.addCleanup(self.p.cleanup)
        self.p.run("up", "--yes", check=0)  # starts the region
        self.ddb, self.iam, self.s3 = (self.p.client(s, "us-east-1")
                                       for s in ("dynamodb", "iam", "s3"))

    def make_existing(self):
        """What was made before the program: a table, a role, a bucket and a policy."""
        ddb, iam, s3 = self.ddb, self.iam, self.s3
        ddb.create_table(
            TableName="ledger", BillingMode="PROVISIONED",
            ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": t}
                                  for n, t in (("id", "S"), ("ts", "N"), ("user", "S"))],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"},
                       {"AttributeName": "ts", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[{
                "IndexName": "byUser",
                "KeySchema": [{"AttributeName": "user", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
                "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}}],
            Tags=[{"Key": "Team", "Value": "pay"}])
        ddb.update_time_to_live(TableName="ledger", TimeToLiveSpecification={
            "AttributeName": "expires", "Enabled": True})
        # the trust policy written compactly, in another key order than the program
        iam.create_role(RoleName="deployer", Description="CI deployer",
                        AssumeRolePolicyDocument=json.dumps({
                            "Version": "2012-10-17", "Statement": [{
                                "Effect": "Allow", "Action": "sts:AssumeRole",
                                "Principal": {"Service": "codebuild.amazonaws.com"}}]},
                            separators=(",", ":")))
        iam.put_role_policy(RoleName="deployer", PolicyName="read-all",
                            PolicyDocument=json.dumps({
                                "Version": "2012-10-17", "Statement": [{
                                    "Effect": "Allow", "Resource": "*",
                                    "Action": ["s3:GetObject", "s3:ListBucket"]}]}))
        s3.create_bucket(Bucket="ledger-exports")
        s3.put_bucket_tagging(Bucket="ledger-exports",
                              Tagging={"TagSet": [{"Key": "Team", "Value": "pay"}]})
        s3.put_bucket_versioning(Bucket="ledger-exports",
                                 VersioningConfiguration={"Status": "Suspended"})
        return iam.create_policy(PolicyName="reader", Description="read the ledger",
                                 PolicyDocument=json.dumps({
                                     "Version": "2012-10-17", "Statement": [{
                                         "Effect": "Allow", "Action": ["dynamodb:GetItem"],
                                         "Resource": "*"}]}))["Policy"]["Arn"]

    def program(self, arn, read=5, ttl="expires", service="codebuild.amazonaws.com",
                team="pay", desc="read the ledger", ignore="", versions="Suspended"):
        return (PREFIX + LEDGER.format(read=read, ttl=ttl) +
                DEPLOYER.format(service=service) + EXPORTS.format(team=team, versions=versions) +
                READER.format(desc=desc, arn=arn, ignore=ignore))

    def region_unchanged(self):
        tb = self.ddb.describe_table(TableName="ledger")["Table"]
        self.assertEqual(tb["ProvisionedThroughput"]["ReadCapacityUnits"], 5)
        ttl = self.ddb.describe_time_to_live(TableName="ledger")["TimeToLiveDescription"]
        self.assertEqual(ttl["AttributeName"], "expires")
        trust = self.iam.get_role(RoleName="deployer")["Role"]["AssumeRolePolicyDocument"]
        self.assertEqual(trust["Statement"][0]["Principal"],
                         {"Service": "codebuild.amazonaws.com"})
        tags = self.s3.get_bucket_tagging(Bucket="ledger-exports")["TagSet"]
        self.assertEqual(tags, [{"Key": "Team", "Value": "pay"}])
        self.assertEqual([r["name"] for r in self.p.state()["resources"]], ["rnd"])

    def position(self, text, value):
        """line:col of the value of `import: VALUE` in the program."""
        for n, line in enumerate(text.split("\n"), 1):
            if line.strip() == "import: " + value:
                return "%d:%d" % (n, line.index(value) + 1)
        raise AssertionError(value)

    def test_differences_refused_then_fixed_program_imports(self):
        arn = self.make_existing()
        # a scalar and a nested block (table), a policy document (role), tags (bucket),
        # a scalar (policy): each refused, naming the option's position and both values
        text = self.program(arn, read=10, ttl="expiresAt", service="lambda.amazonaws.com",
                            team="ops", desc="reads", versions="Enabled")
        self.p.write(text)
        r = self.p.run("up", "--yes", check=1)
        out = r.stdout + r.stderr
        msg = "Tandem.yaml:%s: inputs to import do not match the existing resource %s %s: %s"
        self.assertIn(msg % (self.position(text, "ledger"), "aws:dynamodb:Table", "ledger",
                             'readCapacity: program 10, existing 5; ttl.attributeName: '
                             'program "expiresAt", existing "expires"'), out)
        self.assertIn(msg % (self.position(text, "deployer"), "aws:iam:Role", "deployer",
                             'assumeRolePolicy.Statement[0].Principal.Service: program '
                             '"lambda.amazonaws.com", existing "codebuild.amazonaws.com"'), out)
        self.assertIn(msg % (self.position(text, "ledger-exports"), "aws:s3:BucketV2",
                             "ledger-exports", 'tags.Team: program "ops", existing "pay"'), out)
        self.assertIn(msg % (self.position(text, arn), "aws:iam:Policy", arn,
                             'description: program "reads", existing "read the ledger"'), out)
        self.assertIn('inputs to import do not match the existing resource '
                      'aws:s3:BucketVersioningV2 ledger-exports: versioningConfiguration.status: '
                      'program "Enabled", existing "Suspended"', out)
        self.assertNotIn("imported", out)
        res = self.p.json("up", "--yes", check=1)
        self.assertEqual(res["writes"], 0)
        self.assertEqual({s["name"] for s in res["steps"] if s.get("error")},
                         {"ledger", "deployer", "exports", "reader", "exportsVersions"})
        self.region_unchanged()

        # the others made to match (the policies as semantically equal JSON with other
        # spacing, key order and list order; the policy's description ignored, which takes
        # the existing value as Pulumi does): imported, no write call; the bucket's tags
        # still differ and it is still refused
        ignore = "      ignoreChanges: [description]\n"
        self.p.write(self.program(arn, team="ops", desc="anything", ignore=ignore))
        res = self.p.json("up", "--yes", check=1)
        self.assertEqual({s["name"] for s in res["steps"] if s.get("error")}, {"exports"})
        self.assertEqual(ops(res), {"rnd": "same", "ledger": "import", "deployer": "import",
                                    "exports": "import", "reader": "import",
                                    "exportsVersions": "import"})
        self.assertEqual(res["writes"], 0)
        state = {r["name"]: r for r in self.p.state()["resources"]}
        self.assertEqual(set(state), {"rnd", "ledger", "deployer", "reader", "exportsVersions"})
        self.assertEqual(state["reader"]["inputs"]["description"], "read the ledger")
        self.assertEqual(state["ledger"]["id"], "ledger")
        self.assertEqual(state["reader"]["id"], arn)

        # the program fixed: the bucket imported too, then nothing left to do
        self.p.write(self.program(arn, desc="anything", ignore=ignore))
        res = self.p.json("up", "--yes")
        self.assertEqual(ops(res), {"rnd": "same", "ledger": "same", "deployer": "same",
                                    "exports": "import", "reader": "same",
                                    "exportsVersions": "same"})
        self.assertEqual(res["writes"], 0)
        again = self.p.json("up", "--yes")
        self.assertEqual(set(ops(again).values()), {"same"})
        self.assertEqual(again["writes"], 0)
        self.region_unchanged_after_import()

    def region_unchanged_after_import(self):
        tb = self.ddb.describe_table(TableName="ledger")["Table"]
        self.assertEqual(tb["ProvisionedThroughput"]["ReadCapacityUnits"], 5)
        self.assertEqual(self.iam.get_role(RoleName="deployer")["Role"]["Description"],
                         "CI deployer")

    def test_nested_and_listed_settings_compared(self):
        """A GSI's projection, an inline policy's document and a function's environment."""
        self.make_existing()
        text = (PREFIX + LEDGER.format(read=5, ttl="expires")
                .replace("projectionType: KEYS_ONLY", "projectionType: ALL") +
                DEPLOYER.format(service="codebuild.amazonaws.com")
                .replace('"s3:GetObject"', '"s3:PutObject"'))
        self.p.write(text)
        out = self.p.run("up", "--yes", check=1).stdout
        self.assertIn('globalSecondaryIndexes[byUser].projectionType: program "ALL", '
                      'existing "KEYS_ONLY"', out)
        self.assertIn('inlinePolicies[read-all].policy.Statement[0].Action: program '
                      '["s3:ListBucket","s3:PutObject"], existing ["s3:GetObject","s3:ListBucket"]', out)
        self.assertEqual([r["name"] for r in self.p.state()["resources"]], ["rnd"])


SITE = """  site:
    type: aws:s3:BucketV2
    properties:
      bucket: site-assets
      acl: private
    options:
      import: site-assets
  siteBlock:
    type: aws:s3:BucketPublicAccessBlock
    properties:
      bucket: site-assets
      blockPublicAcls: true
      ignorePublicAcls: true
      blockPublicPolicy: {block}
      restrictPublicBuckets: true
    options:
      import: site-assets
  siteOwner:
    type: aws:s3:BucketOwnershipControls
    properties:
      bucket: site-assets
      rule:
        objectOwnership: BucketOwnerEnforced
    options:
      import: site-assets
  sitePolicy:
    type: aws:s3:BucketPolicy
    properties:
      bucket: site-assets
      policy:
        Version: 2012-10-17
        Statement:
          - Sid: Read
            Effect: Allow
            Principal:
              AWS: arn:aws:iam::{account}:root
            Action: s3:GetObject
            Resource: arn:aws:s3:::site-assets/*
    options:
      import: site-assets
  siteCors:
    type: aws:s3:BucketCorsConfigurationV2
    properties:
      bucket: site-assets
      corsRules:
        - allowedMethods: [{methods}]
          allowedOrigins: ["https://example.com"]
          maxAgeSeconds: 300
    options:
      import: site-assets
  siteWeb:
    type: aws:s3:BucketWebsiteConfigurationV2
    properties:
      bucket: site-assets
      indexDocument:
        suffix: {index}
      errorDocument:
        key: error.html
    options:
      import: site-assets
  siteRules:
    type: aws:s3:BucketLifecycleConfigurationV2
    properties:
      bucket: site-assets
      rules:
        - id: tmp
          status: Enabled
          filter:
            prefix: tmp/
          expiration:
            days: {days}
    options:
      import: site-assets
  siteVersions:
    type: aws:s3:BucketVersioningV2
    properties:
      bucket: site-assets
      versioningConfiguration:
        status: Enabled
    options:
      import: site-assets
  ci:
    type: aws:iam:User
    properties:
      name: ci
      path: /system/
      tags:
        Team: {team}
    options:
      import: ci
  ciKey:
    type: aws:iam:AccessKey
    properties:
      user: ci
      status: {status}
    options:
      import: {key}
  ciPolicy:
    type: aws:iam:UserPolicy
    properties:
      user: ci
      name: upload
      policy: '{{"Statement":[{{"Action":"s3:PutObject","Effect":"Allow","Resource":"*"}}],"Version":"2012-10-17"}}'
    options:
      import: ci:upload
  devs:
    type: aws:iam:Group
    properties:
      name: devs
      path: {gpath}
    options:
      import: devs
  devsMembers:
    type: aws:iam:GroupMembership
    properties:
      name: devs-members
      group: devs
      users: [ci]
    options:
      import: devs-members
  kv:
    type: aws:dynamodb:Table
    properties:
      name: kvs
      billingMode: PAY_PER_REQUEST
      hashKey: k
      attributes:
        - name: k
          type: S
    options:
      import: kvs
  kvItem:
    type: aws:dynamodb:TableItem
    properties:
      tableName: kvs
      hashKey: k
      item: '{{"k": {{"S": "greeting"}}, "v": {{"S": "{greeting}"}}}}'
    options:
      import: kvs|greeting
  fnRole:
    type: aws:iam:Role
    properties:
      name: fn-role
      assumeRolePolicy: '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Service":"lambda.amazonaws.com"}},"Action":"sts:AssumeRole"}}]}}'
    options:
      import: fn-role
  hello:
    type: aws:lambda:Function
    properties:
      name: hello
      role: ${{fnRole.arn}}
      runtime: nodejs20.x
      handler: index.handler
      timeout: 10
      memorySize: 256
      environment:
        variables:
          MODE: {mode}
      tags:
        App: hello
    options:
      import: hello
  helloUrl:
    type: aws:lambda:FunctionUrl
    properties:
      functionName: hello
      authorizationType: NONE
    options:
      import: hello
  helloPublic:
    type: aws:lambda:Permission
    properties:
      statementId: public
      function: hello
      action: lambda:InvokeFunctionUrl
      principal: "*"
      functionUrlAuthType: {fua}
    options:
      import: public
  siteReaders:
    type: aws:iam:PolicyAttachment
    properties:
      name: site-readers
      policyArn: {reader}
      users: [{users}]
      groups: [devs]
    options:
      import: site-readers
  siteIndex:
    type: aws:s3:BucketObject
    properties:
      bucket: site-assets
      key: index.html
      content: <h1>{page}</h1>
      contentType: text/html
      cacheControl: max-age=60
    options:
      import: index.html
  siteReplica:
    type: aws:s3:BucketReplicationConfig
    properties:
      bucket: site-assets
      role: ${{fnRole.arn}}
      rules:
        - id: all
          status: {repl}
          filter:
            prefix: ""
          deleteMarkerReplication:
            status: Disabled
          destination:
            bucket: arn:aws:s3:::site-replica
    options:
      import: site-assets
"""


class ImportEveryKind(unittest.TestCase):
    """Bucket configurations, a user with its key, policy and group, a table item, a
    function and its URL: each read back and compared."""

    def setUp(self):
        self.p = Project(PREFIX)
        self.addCleanup(self.p.cleanup)
        self.p.run("up", "--yes", check=0)

    def make_existing(self):
        import io
        import zipfile
        s3, iam, ddb, fn, sts = (self.p.client(s, "us-east-1")
                                 for s in ("s3", "iam", "dynamodb", "lambda", "sts"))
        account = sts.get_caller_identity()["Account"]
        b = "site-assets"
        s3.create_bucket(Bucket=b)
        s3.put_public_access_block(Bucket=b, PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True})
        s3.put_bucket_ownership_controls(Bucket=b, OwnershipControls={
            "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
        s3.put_bucket_policy(Bucket=b, Policy=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Sid": "Read", "Effect": "Allow", "Action": ["s3:GetObject"],
                "Principal": {"AWS": "arn:aws:iam::%s:root" % account},
                "Resource": "arn:aws:s3:::site-assets/*"}]}, indent=2))
        s3.put_bucket_cors(Bucket=b, CORSConfiguration={"CORSRules": [{
            "AllowedMethods": ["PUT", "GET"], "AllowedOrigins": ["https://example.com"],
            "MaxAgeSeconds": 300}]})
        s3.put_bucket_website(Bucket=b, WebsiteConfiguration={
            "IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "error.html"}})
        s3.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": [{
            "ID": "tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
            "Expiration": {"Days": 7}}]})
        s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
        s3.put_object(Bucket=b, Key="index.html", Body=b"<h1>hi</h1>", ContentType="text/html",
                      CacheControl="max-age=60")
        iam.create_user(UserName="ci", Path="/system/", Tags=[{"Key": "Team", "Value": "ops"}])
        key = iam.create_access_key(UserName="ci")["AccessKey"]["AccessKeyId"]
        iam.put_user_policy(UserName="ci", PolicyName="upload", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": {
                "Effect": "Allow", "Action": ["s3:PutObject"], "Resource": "*"}}))
        iam.create_group(GroupName="devs", Path="/teams/")
        iam.add_user_to_group(GroupName="devs", UserName="ci")
        ddb.create_table(TableName="kvs", BillingMode="PAY_PER_REQUEST",
                         AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}])
        ddb.put_item(TableName="kvs", Item={"k": {"S": "greeting"}, "v": {"S": "hi"}})
        role = iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("index.js", "exports.handler = async () => 'hi';\n")
        fn.create_function(FunctionName="hello", Runtime="nodejs20.x", Role=role,
                           Handler="index.handler", Code={"ZipFile": buf.getvalue()},
                           Timeout=10, MemorySize=256, Tags={"App": "hello"},
                           Environment={"Variables": {"MODE": "prod"}})
        fn.create_function_url_config(FunctionName="hello", AuthType="NONE")
        fn.add_permission(FunctionName="hello", StatementId="public",
                          Action="lambda:InvokeFunctionUrl", Principal="*",
                          FunctionUrlAuthType="NONE")
        reader = iam.create_policy(PolicyName="site-reader", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}))
        reader = reader["Policy"]["Arn"]
        iam.attach_user_policy(UserName="ci", PolicyArn=reader)
        iam.attach_group_policy(GroupName="devs", PolicyArn=reader)
        s3.create_bucket(Bucket="site-replica")
        s3.put_bucket_versioning(Bucket="site-replica",
                                 VersioningConfiguration={"Status": "Enabled"})
        s3.put_bucket_replication(Bucket=b, ReplicationConfiguration={"Role": role, "Rules": [{
            "ID": "all", "Status": "Enabled", "Priority": 1, "Filter": {"Prefix": ""},
            "DeleteMarkerReplication": {"Status": "Disabled"},
            "Destination": {"Bucket": "arn:aws:s3:::site-replica"}}]})
        self.reader = reader
        return account, key

    def program(self, account, key, block="true", methods='"GET", "PUT"', index="index.html",
                days=7, team="ops", status="Active", gpath="/teams/", greeting="hi",
                mode="prod", fua="NONE", users="ci", repl="Enabled", page="hi"):
        return PREFIX + SITE.format(account=account, key=key, block=block, methods=methods,
                                    index=index, days=days, team=team, status=status,
                                    gpath=gpath, greeting=greeting, mode=mode, fua=fua,
                                    reader=self.reader, users=users, repl=repl, page=page)

    def test_every_kind_compared(self):
        account, key = self.make_existing()
        text = self.program(account, key, block="false", methods='"GET"', index="home.html",
                            days=30, team="dev", status="Inactive", gpath="/", greeting="hello",
                            mode="debug", fua="AWS_IAM", users="ci, ghost", repl="Disabled",
                            page="bye")
        self.p.write(text)
        res = self.p.json("up", "--yes", check=1)
        self.assertEqual(res["writes"], 0)
        errors = {s["name"]: s["error"] for s in res["steps"] if s.get("error")}
        want = {
            "siteBlock": "blockPublicPolicy: program false, existing true",
            "siteCors": 'corsRules[0].allowedMethods: program ["GET"], existing ["PUT","GET"]',
            "siteWeb": 'indexDocument.suffix: program "home.html", existing "index.html"',
            "siteRules": "rules[tmp].expiration.days: program 30, existing 7",
            "ci": 'tags.Team: program "dev", existing "ops"',
            "ciKey": 'status: program "Inactive", existing "Active"',
            "devs": 'path: program "/", existing "/teams/"',
            "kvItem": 'item.v.S: program "hello", existing "hi"',
            "hello": 'environment.variables.MODE: program "debug", existing "prod"',
            "helloPublic": 'functionUrlAuthType: program "AWS_IAM", existing "NONE"',
            "siteReaders": 'users: program ["ci","ghost"], existing ["ci"]',
            "siteReplica": 'rules[all].status: program "Disabled", existing "Enabled"',
            "siteIndex": 'content: program "<h1>bye</h1>", existing "(other content, ETag '
                         '\\"',
        }
        self.assertEqual(set(errors), set(want), errors)
        for name, part in want.items():
            self.assertIn("inputs to import do not match the existing resource", errors[name])
            self.assertIn(part, errors[name])
        # what matched was imported meanwhile; nothing was written to the region
        s3 = self.p.client("s3", "us-east-1")
        self.assertTrue(s3.get_public_access_block(Bucket="site-assets")[
            "PublicAccessBlockConfiguration"]["BlockPublicPolicy"])
        self.assertEqual(s3.get_bucket_website(Bucket="site-assets")["IndexDocument"],
                         {"Suffix": "index.html"})
        self.assertNotIn("siteCors", {r["name"] for r in self.p.state()["resources"]})

        self.p.write(self.program(account, key))
        res = self.p.json("up", "--yes")
        self.assertEqual({s["name"]: s["op"] for s in res["steps"] if s["op"] != "same"},
                         {n: "import" for n in want})
        self.assertEqual(res["writes"], 0)
        again = self.p.json("up", "--yes")
        self.assertEqual(set(ops(again).values()), {"same"})
        self.assertEqual(again["writes"], 0)
        # refresh reads the same properties back: nothing changed outside the stack
        ref = self.p.json("refresh", "--yes")
        self.assertEqual([s["name"] for s in ref["steps"] if s.get("error")], [])
        self.assertEqual({s["name"]: s["changed"] for s in ref["steps"] if s["changed"]}, {})
        # a setting changed outside the stack: refresh names it
        iam = self.p.client("iam", "us-east-1")
        iam.tag_user(UserName="ci", Tags=[{"Key": "Team", "Value": "platform"}])
        self.p.client("s3", "us-east-1").put_bucket_cors(
            Bucket="site-assets", CORSConfiguration={"CORSRules": [{
                "AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}]})
        ref = self.p.json("refresh", "--yes")
        self.assertEqual({s["name"]: s["changed"] for s in ref["steps"] if s["changed"]},
                         {"ci": ["tags"], "siteCors": ["corsRules"]})
        ref = self.p.json("refresh", "--yes")
        self.assertEqual({s["name"]: s["changed"] for s in ref["steps"] if s["changed"]}, {})


RANDOM = """name: randoms
runtime: yaml
resources:
  token:
    type: random:RandomString
    properties:
      length: 8
      special: {special}
    options:
      import: abcDEF12
  secret:
    type: random:RandomPassword
    properties:
      length: 6
    options:
      import: pa$$w0
  dice:
    type: random:RandomInteger
    properties:
      min: 1
      max: {max}
    options:
      import: 7,1,10
  tag:
    type: random:RandomId
    properties:
      byteLength: 4
      prefix: p-
    options:
      import: p-,AAECAw
{pet}outputs:
  token: ${{token.result}}
  dice: ${{dice.result}}
  hex: ${{tag.hex}}
  dec: ${{tag.dec}}
"""

PET = """  pet:
    type: random:RandomPet
    options:
      import: happy-cat
"""


class ImportRandom(unittest.TestCase):
    """Random values take their value from the import id, as the random provider's import
    does, and the inputs that implies are compared like any other."""

    def test_random_values_imported(self):
        p = Project(RANDOM.format(special="false", max=6, pet=PET))
        self.addCleanup(p.cleanup)
        res = p.json("up", "--yes", check=1)
        errors = {s["name"]: s["error"] for s in res["steps"] if s.get("error")}
        self.assertIn("special: program false, existing true", errors["token"])
        self.assertIn("max: program 6, existing 10", errors["dice"])
        self.assertIn("import: random:RandomPet does not support import", errors["pet"])
        self.assertEqual(set(errors), {"token", "dice", "pet"})
        p.write(RANDOM.format(special="true", max=10, pet=""))
        res = p.json("up", "--yes")
        self.assertEqual(res["outputs"], {"token": "abcDEF12", "dice": 7, "hex": "p-00010203",
                                          "dec": "66051"})
        state = {r["name"]: r for r in p.state()["resources"]}
        self.assertEqual(state["secret"]["id"], "none")
        self.assertEqual(state["tag"]["id"], "AAECAw")
        self.assertEqual(p.json("output", "--show-secrets").get("token"), "abcDEF12")
        again = p.json("up", "--yes")
        self.assertEqual(set(ops(again).values()), {"same"})


if __name__ == "__main__":
    unittest.main()
