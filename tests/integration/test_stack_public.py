"""Public Pulumi YAML programs (tests/integration/pulumi_public/*, each modelled on a
program of Pulumi's repositories or registry docs, named in its first lines) run
unchanged with `tandem up` on local regions: outputs are there, a second up makes
no write call, `tandem destroy` leaves nothing behind. Programs that need what
Tandem does not run (unsupported-*) fail at once with a file:line:col diagnostic
naming what is missing, and create nothing."""
import base64
import hashlib
import json
import os
import re
import subprocess
import time
import unittest
import zipfile

from stack_helpers import Project

HERE = os.path.dirname(os.path.abspath(__file__))
PUBLIC = os.path.join(HERE, "pulumi_public")


def ops(result):
    return {s["name"]: s["op"] for s in result["steps"]}


class PublicPrograms(unittest.TestCase):
    def project(self, name):
        p = Project(copy_from=os.path.join(PUBLIC, name))
        self.addCleanup(p.cleanup)
        return p

    def run_unchanged(self, name, outputs):
        """up, up again (no writes), destroy (nothing left); returns up's outputs."""
        p = self.project(name)
        up = p.json("up", "--yes")
        for s in up["steps"]:
            self.assertEqual(s["op"], "create", s)
        out = p.json("output", "--show-secrets")
        for k in outputs:
            self.assertIn(k, out)
            self.assertNotEqual(out[k], "", k)
        again = p.json("up", "--yes")
        self.assertEqual(set(ops(again).values()) - {"same"}, set(), again["steps"])
        self.assertEqual(again["writes"], 0)
        d = p.json("destroy", "--yes", "--keep-regions")
        self.assertEqual(set(ops(d).values()) - {"delete"}, set())
        self.assertEqual(p.state()["resources"], [])
        return p, out, up

    def fails_at_once(self, name, pattern):
        p = self.project(name)
        r = p.run("up", "--yes", check=2)
        self.assertRegex(r.stderr, r"Pulumi\.yaml:\d+:\d+: .*" + pattern)
        self.assertEqual(p.state()["resources"], [])

    # ---- programs that run ----

    def test_aws_yaml_template(self):
        _, out, _ = self.run_unchanged("aws-yaml-template", ["bucketName"])
        self.assertRegex(out["bucketName"], r"^my-bucket-[0-9a-f]{7}$")

    def test_random_password_full_token(self):
        _, out, _ = self.run_unchanged("random-password", ["password"])
        self.assertEqual(len(out["password"]), 20)
        self.assertRegex(out["password"], r"^[A-Za-z0-9_%@]+$")

    def test_random_string_non_ascii_special(self):
        _, out, _ = self.run_unchanged("random-string", ["value"])
        self.assertEqual(len(out["value"]), 16)  # characters, "£" is one
        self.assertRegex(out["value"], r"^[A-Za-z0-9/@£$]+$")

    def test_pulumi_variables_main_folder(self):
        p, out, _ = self.run_unchanged("pulumi-variable", ["cwd", "stack", "project"])
        self.assertEqual(out["stack"], "dev")
        self.assertEqual(out["project"], "public-pulumi-variable")
        self.assertIn("organization", out)

    def test_readme_outputs(self):
        _, out, _ = self.run_unchanged("readme-outputs", ["strVar", "arrVar", "readme"])
        self.assertEqual(out["arrVar"], ["one", "two"])
        self.assertIn("its README is an output", out["readme"])

    def test_dynamodb_gamescores(self):
        p = self.project("dynamodb-gamescores")
        p.json("up", "--yes")
        ddb = p.client("dynamodb", "us-east-1")
        t = ddb.describe_table(TableName="GameScores")["Table"]
        self.assertEqual(t["ProvisionedThroughput"]["ReadCapacityUnits"], 20)
        g = t["GlobalSecondaryIndexes"][0]
        self.assertEqual(g["IndexName"], "GameTitleIndex")
        self.assertEqual(g["Projection"], {"ProjectionType": "INCLUDE",
                                           "NonKeyAttributes": ["UserId"]})
        ttl = ddb.describe_time_to_live(TableName="GameScores")["TimeToLiveDescription"]
        self.assertEqual(ttl["AttributeName"], "TimeToExist")
        again = p.json("up", "--yes")
        self.assertEqual(again["writes"], 0)
        p.json("destroy", "--yes", "--keep-regions")
        self.assertEqual(ddb.list_tables()["TableNames"], [])

    def test_dynamodb_table_item_name_field(self):
        # `name: example` beside type: the logical name; ${exampleTable...} still the key
        p, out, up = self.run_unchanged("dynamodb-table-item", ["tableName"])
        self.assertEqual(out["tableName"], "example-name")

    def test_iam_user_access_key_policy_document(self):
        _, out, _ = self.run_unchanged("iam-user-access-key", ["userArn", "accessKeyId"])
        self.assertTrue(out["userArn"].endswith(":user/system/loadbalancer"))

    def test_iam_user_policy_to_json_unquoted_version(self):
        p = self.project("iam-user-policy-tojson")
        p.json("up", "--yes")
        iam = p.client("iam", "us-east-1")
        doc = iam.get_user_policy(UserName="loadbalancer2", PolicyName="test")["PolicyDocument"]
        self.assertEqual(doc["Version"], "2012-10-17")  # a YAML date stays the string
        self.assertEqual(p.json("up", "--yes")["writes"], 0)
        p.json("destroy", "--yes", "--keep-regions")
        self.assertEqual([u["UserName"] for u in iam.list_users()["Users"]], [])

    def test_iam_role_policy(self):
        _, out, _ = self.run_unchanged("iam-role-policy", ["roleArn"])
        self.assertTrue(out["roleArn"].endswith(":role/test_role"))

    def fetch(self, url):
        """(status, body) of a plain curl GET of @url, as a reader of the site would."""
        r = subprocess.run(["curl", "-s", "-o", "-", "-w", "\n%{http_code}", url],
                           capture_output=True, timeout=60)
        body, _, status = r.stdout.rpartition(b"\n")
        return int(status), body

    def check_site(self, name, resources):
        p = self.project(name)
        up = p.json("up", "--yes")
        self.assertEqual(sorted(ops(up)), sorted(resources))
        out = p.json("output", "--show-secrets")
        self.assertRegex(out["bucketName"], r"^my-bucket-[0-9a-f]{7}$")
        self.assertTrue(out["url"].startswith("http://" + out["bucketName"]), out["url"])
        with open(os.path.join(PUBLIC, name, "index.html"), "rb") as f:
            page = f.read()
        self.assertEqual(self.fetch(out["url"]), (200, page))
        self.assertEqual(self.fetch(out["url"] + "/index.html"), (200, page))
        st, body = self.fetch(out["url"] + "/missing.html")
        self.assertEqual(st, 403, body)  # no s3:ListBucket for the public: 403, as S3
        s3 = p.client("s3", "us-east-1")
        grants = s3.get_object_acl(Bucket=out["bucketName"], Key="index.html")["Grants"]
        self.assertIn("http://acs.amazonaws.com/groups/global/AllUsers",
                      [g["Grantee"].get("URI") for g in grants])
        again = p.json("up", "--yes")
        self.assertEqual(set(ops(again).values()) - {"same"}, set(), again["steps"])
        self.assertEqual(again["writes"], 0)
        self.assertEqual(p.json("output", "--show-secrets")["url"], out["url"])
        d = p.json("destroy", "--yes", "--keep-regions")
        self.assertEqual(set(ops(d).values()) - {"delete"}, set())
        self.assertEqual(p.state()["resources"], [])
        self.assertEqual(self.fetch(out["url"])[0], 404)

    def test_getting_started_website_inline(self):
        self.check_site("getting-started-website",
                        ["my-bucket", "ownership-controls", "public-access-block", "index.html"])

    def test_getting_started_website_configuration_v2(self):
        self.check_site("getting-started-website-v2",
                        ["my-bucket", "website", "ownership-controls", "public-access-block",
                         "index.html"])

    def test_s3_bucket_policy_capitalised_invoke(self):
        p = self.project("s3-bucket-policy")
        p.json("up", "--yes")
        s3 = p.client("s3", "us-east-1")
        pol = s3.get_bucket_policy(Bucket="my-tf-test-bucket")["Policy"]
        self.assertIn("arn:aws:s3:::my-tf-test-bucket/*", pol)
        self.assertEqual(p.json("up", "--yes")["writes"], 0)
        p.json("destroy", "--yes", "--keep-regions")
        self.assertEqual(s3.list_buckets()["Buckets"], [])

    def test_s3_object_etag_from_std_filemd5(self):
        p, out, _ = self.run_unchanged("s3-object-etag-std", ["key", "etag"])
        # destroyed by run_unchanged: up again, then change the file
        up = p.json("up", "--yes")
        self.assertEqual(out["key"], "new-object-key")
        s3 = p.client("s3", "us-east-1")
        head = s3.head_object(Bucket="examplebuckettftest", Key="new-object-key")
        md5 = hashlib.md5(b"first version\n").hexdigest()
        self.assertEqual((head["ETag"], out["etag"]), ('"%s"' % md5, md5))
        tags = s3.get_object_tagging(Bucket="examplebuckettftest", Key="new-object-key")
        self.assertEqual(tags["TagSet"], [{"Key": "Name", "Value": "EXAMPLEBUCKETTFTEST"}])
        with open(os.path.join(p.dir, "path", "to", "file"), "w") as f:
            f.write("second version\n")
        up = p.json("up", "--yes")
        self.assertEqual(ops(up)["object"], "update", up["steps"])
        body = s3.get_object(Bucket="examplebuckettftest", Key="new-object-key")["Body"].read()
        self.assertEqual(body, b"second version\n")
        self.assertEqual(p.json("output")["etag"], hashlib.md5(body).hexdigest())
        p.json("destroy", "--yes", "--keep-regions")
        self.assertEqual(s3.list_buckets()["Buckets"], [])

    def test_s3_bucket_notification_to_lambda(self):
        p, out, _ = self.run_unchanged("s3-bucket-notification-lambda", ["bucket", "notification"])
        # destroyed by run_unchanged: up again and watch events arrive
        p.json("up", "--yes")
        s3 = p.client("s3", "us-east-1")
        conf = s3.get_bucket_notification_configuration(Bucket="your-bucket-name")
        fns = conf["LambdaFunctionConfigurations"]
        self.assertEqual(len(fns), 1)
        self.assertEqual(fns[0]["Events"], ["s3:ObjectCreated:*"])
        self.assertEqual(
            sorted((r["Name"].lower(), r["Value"]) for r in fns[0]["Filter"]["Key"]["FilterRules"]),
            [("prefix", "AWSLogs/"), ("suffix", ".log")])
        s3.put_object(Bucket="your-bucket-name", Key="AWSLogs/a.log", Body=b"x")
        s3.put_object(Bucket="your-bucket-name", Key="other/b.log", Body=b"x")
        deadline = time.time() + 60
        seen = []
        while time.time() < deadline and not seen:
            seen = [o["Key"] for o in s3.list_objects_v2(
                Bucket="your-bucket-name", Prefix="seen/").get("Contents", [])]
            time.sleep(0.3)
        self.assertEqual(seen, ["seen/AWSLogs/a.log"])
        body = s3.get_object(Bucket="your-bucket-name", Key="seen/AWSLogs/a.log")["Body"].read()
        self.assertEqual(body, b"ObjectCreated:Put")
        p.run("refresh", "--yes", check=0)
        self.assertEqual(p.json("up", "--yes")["writes"], 0)
        # destroy takes the notification away (an empty configuration); the bucket goes
        # once emptied, as on S3 (the program does not set forceDestroy)
        for k in ("AWSLogs/a.log", "other/b.log", "seen/AWSLogs/a.log"):
            s3.delete_object(Bucket="your-bucket-name", Key=k)
        p.json("destroy", "--yes", "--keep-regions")
        self.assertEqual(s3.list_buckets()["Buckets"], [])

    def test_s3_bucket_notification_queues_refused(self):
        p = self.project("s3-bucket-notification-lambda")
        text = open(os.path.join(p.dir, "Pulumi.yaml")).read().replace(
            "      lambdaFunctions:", "      queues:\n        - queueArn: arn:aws:sqs:us-east-1:1:q\n"
            "          events: [s3:ObjectCreated:*]\n      lambdaFunctions:")
        with open(os.path.join(p.dir, "Pulumi.yaml"), "w") as f:
            f.write(text)
        r = p.run("up", "--yes", check=2)
        self.assertRegex(r.stderr, r"Pulumi\.yaml:\d+:\d+: aws:s3:BucketNotification: property "
                                   r"'queues' is valid in Pulumi but Tandem does not support it yet")
        self.assertEqual(p.state()["resources"], [])

    def test_lambda_serverless_dependson_partition(self):
        p = self.project("lambda-serverless")
        p.json("up", "--yes")
        out = p.json("output")
        self.assertRegex(out["functionName"], r"^fn-[0-9a-f]{7}$")
        lam = p.client("lambda", "us-east-1")
        cfg = lam.get_function(FunctionName=out["functionName"])["Configuration"]
        self.assertEqual(cfg["Runtime"], "nodejs20.x")
        role = cfg["Role"].rsplit("/", 1)[1]
        att = p.client("iam", "us-east-1").list_attached_role_policies(RoleName=role)
        self.assertEqual([a["PolicyArn"] for a in att["AttachedPolicies"]],
                         ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"])
        self.assertEqual(p.json("up", "--yes")["writes"], 0)
        p.json("destroy", "--yes", "--keep-regions")
        self.assertEqual(lam.list_functions()["Functions"], [])

    def test_aws_serverless_python(self):
        # the guide's Python 3.9 function, run by the region's python3
        p = self.project("aws-serverless-python")
        p.json("up", "--yes")
        name = p.json("output")["functionName"]
        lam = p.client("lambda", "us-east-1")
        cfg = lam.get_function(FunctionName=name)["Configuration"]
        self.assertEqual((cfg["Runtime"], cfg["Handler"]), ("python3.9", "handler.handler"))
        r = lam.invoke(FunctionName=name, Payload=b"{}")
        self.assertNotIn("FunctionError", r)
        self.assertEqual(json.loads(r["Payload"].read()), {"statusCode": 200})
        self.assertEqual(p.json("up", "--yes")["writes"], 0)
        p.json("destroy", "--yes", "--keep-regions")
        self.assertEqual(lam.list_functions()["Functions"], [])

    def test_lambda_function_archive_get_file(self):
        # the registry's example: archive:getFile zips lambda.js, the function deploys
        # fn::FileArchive of the zip with sourceCodeHash from the archive's digest
        p = self.project("lambda-function-archive")
        up = p.json("up", "--yes")
        self.assertEqual(set(ops(up).values()), {"create"}, up["steps"])
        zpath = os.path.join(p.dir, "lambda_function_payload.zip")
        with open(zpath, "rb") as f:
            first = f.read()
        out = p.json("output")
        self.assertEqual(out["zipSha"], hashlib.sha1(first).hexdigest())
        self.assertEqual(out["sourceCodeHash"],
                         base64.b64encode(hashlib.sha256(first).digest()).decode())
        with zipfile.ZipFile(zpath) as z:
            self.assertEqual([(i.filename, i.date_time) for i in z.infolist()],
                             [("lambda.js", (1981, 1, 1, 0, 0, 0))])
        lam = p.client("lambda", "us-east-1")
        cfg = lam.get_function(FunctionName="lambda_function_name")["Configuration"]
        self.assertEqual((cfg["Runtime"], cfg["Handler"]), ("nodejs18.x", "lambda.test"))
        self.assertTrue(cfg["Role"].endswith(":role/iam_for_lambda"))
        self.assertEqual(cfg["CodeSha256"], out["sourceCodeHash"])

        def invoke():
            r = lam.invoke(FunctionName="lambda_function_name", Payload=b"{}")
            self.assertNotIn("FunctionError", r)
            return json.loads(r["Payload"].read())

        self.assertEqual(invoke(), {"version": 1, "foo": "bar"})
        # the zip is written again, byte for byte: nothing to change
        again = p.json("up", "--yes")
        self.assertEqual(set(ops(again).values()), {"same"}, again["steps"])
        self.assertEqual(again["writes"], 0)
        with open(zpath, "rb") as f:
            self.assertEqual(f.read(), first)
        # a changed source file: the function's code is updated, nothing else
        with open(os.path.join(p.dir, "lambda.js"), "w") as f:
            f.write("exports.test = async () => ({ version: 2, foo: process.env.foo });\n")
        up = p.json("up", "--yes")
        self.assertEqual(ops(up), {"iamForLambda": "same", "testLambda": "update"},
                         up["steps"])
        self.assertEqual(invoke(), {"version": 2, "foo": "bar"})
        cfg = lam.get_function(FunctionName="lambda_function_name")["Configuration"]
        self.assertEqual(cfg["CodeSha256"], p.json("output")["sourceCodeHash"])
        self.assertNotEqual(cfg["CodeSha256"], out["sourceCodeHash"])
        p.json("destroy", "--yes", "--keep-regions")
        self.assertEqual(p.state()["resources"], [])
        self.assertEqual(lam.list_functions()["Functions"], [])
        iam = p.client("iam", "us-east-1")
        self.assertEqual([r["RoleName"] for r in iam.list_roles()["Roles"]
                          if r["RoleName"] == "iam_for_lambda"], [])

    # ---- programs that need what Tandem does not run ----

    def test_aws_native_refused(self):
        self.fails_at_once("unsupported-native-website", "aws-native:s3:Bucket")

    def test_table_export_refused(self):
        self.fails_at_once("unsupported-table-export", "aws:dynamodb:TableExport")

    def test_legacy_global_table_refused_naming_replicas(self):
        # the 2017.11.29 API it calls is refused by DynamoDB and the regions alike
        self.fails_at_once("unsupported-global-table",
                           r"resource type 'aws:dynamodb:GlobalTable' is not supported: .*"
                           r"2017\.11\.29.*aws:dynamodb:Table replicas")
        p = self.project("unsupported-global-table")
        p.run("up", "--yes", check=2)
        self.assertFalse(os.path.exists(os.path.join(p.dir, ".tandem", "regions")))

    def test_pgp_encrypted_secret_refused(self):
        self.fails_at_once("unsupported-pgp-key", "encryptedSecret")


    def test_getting_started_2022_public_acl_refused_as_s3_does(self):
        # written before S3 turned ACLs off for new buckets: the object's
        # public-read ACL is refused as S3 refuses it (AccessControlListNotSupported)
        p = self.project("getting-started-2022")
        r = p.run("up", "--yes", check=1)
        self.assertIn("AccessControlListNotSupported", r.stderr)
        p.json("destroy", "--yes", "--keep-regions")
        self.assertEqual(p.state()["resources"], [])


class PublicFormsInPrograms(unittest.TestCase):
    """The forms the public programs use, each on its own (no region needed)."""

    def project(self, text):
        p = Project(text=text)
        self.addCleanup(p.cleanup)
        return p

    def test_object_key_defaults_to_name_and_dotted_names(self):
        p = self.project("""name: objkey
runtime: yaml
resources:
  b:
    type: aws:s3:BucketV2
  index.html:
    type: aws:s3:BucketObject
    properties:
      bucket: ${b}
      source:
        Fn::StringAsset: <p>hi</p>
      contentType: text/html
outputs:
  bucket: ${b.id}
""")
        p.json("up", "--yes")
        bucket = p.json("output")["bucket"]
        s3 = p.client("s3", "us-east-1")
        obj = s3.get_object(Bucket=bucket, Key="index.html")
        self.assertEqual(obj["Body"].read(), b"<p>hi</p>")
        self.assertEqual(p.json("up", "--yes")["writes"], 0)
        p.json("destroy", "--yes", "--keep-regions")
        self.assertEqual(s3.list_buckets()["Buckets"], [])

    def test_website_forms_routing_rules_redirects_and_removal(self):
        prog = """name: webforms
runtime: yaml
resources:
  site:
    type: aws:s3:Bucket
    properties:
      bucket: webforms-site
      website:
        indexDocument: index.html
        errorDocument: error.html
        routingRules: |
          [{"Condition": {"KeyPrefixEquals": "docs/"},
            "Redirect": {"ReplaceKeyPrefixWith": "documents/"}}]
  moved:
    type: aws:s3:Bucket
    properties:
      bucket: webforms-moved
      website:
        redirectAllRequestsTo: https://example.com
  v2:
    type: aws:s3:BucketV2
    properties:
      bucket: webforms-v2
  old-page:
    type: aws:s3:BucketObject
    properties:
      bucket: ${site.id}
      key: old.html
      content: ""
      websiteRedirect: /index.html
  v2-site:
    type: aws:s3:BucketWebsiteConfigurationV2
    properties:
      bucket: ${v2.id}
      indexDocument:
        suffix: home.html
      errorDocument:
        key: oops.html
      routingRules:
        - condition:
            httpErrorCodeReturnedEquals: "403"
          redirect:
            hostName: example.org
            httpRedirectCode: "302"
            protocol: https
outputs:
  site: ${site.websiteEndpoint}
  moved: ${moved.websiteDomain}
  v2: ${v2-site.websiteEndpoint}
  plain: ${v2.websiteEndpoint}
"""
        p = self.project(prog)
        p.json("up", "--yes")
        out = p.json("output")
        self.assertRegex(out["site"], r"^webforms-site\.s3-website\.us-east-1\.localhost:\d+$")
        self.assertRegex(out["moved"], r"^s3-website\.us-east-1\.localhost:\d+$")
        self.assertEqual(out["plain"], "")
        s3 = p.client("s3", "us-east-1")
        w = s3.get_bucket_website(Bucket="webforms-site")
        self.assertEqual(w["IndexDocument"], {"Suffix": "index.html"})
        self.assertEqual(w["ErrorDocument"], {"Key": "error.html"})
        self.assertEqual(w["RoutingRules"], [{"Condition": {"KeyPrefixEquals": "docs/"},
                                              "Redirect": {"ReplaceKeyPrefixWith": "documents/"}}])
        self.assertEqual(s3.head_object(Bucket="webforms-site", Key="old.html")
                         ["WebsiteRedirectLocation"], "/index.html")
        self.assertEqual(s3.get_bucket_website(Bucket="webforms-moved")["RedirectAllRequestsTo"],
                         {"HostName": "example.com", "Protocol": "https"})
        w = s3.get_bucket_website(Bucket="webforms-v2")
        self.assertEqual(w["IndexDocument"], {"Suffix": "home.html"})
        self.assertEqual(w["RoutingRules"][0]["Redirect"],
                         {"HostName": "example.org", "HttpRedirectCode": "302",
                          "Protocol": "https"})
        # a private bucket: every lookup is 403, which the rule redirects
        r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
                            "http://%s/gone" % out["v2"]], capture_output=True, timeout=60)
        self.assertEqual(r.stdout.decode(), "302 https://example.org/gone")
        self.assertEqual(p.json("up", "--yes")["writes"], 0)
        # the inline website taken out: DeleteBucketWebsite
        p.write(prog.replace("""      website:
        redirectAllRequestsTo: https://example.com
""", "").replace("  moved: ${moved.websiteDomain}\n", ""))
        p.json("up", "--yes")
        with self.assertRaises(Exception) as cm:
            s3.get_bucket_website(Bucket="webforms-moved")
        self.assertIn("NoSuchWebsiteConfiguration", str(cm.exception))
        p.json("destroy", "--yes", "--keep-regions")
        with self.assertRaises(Exception):
            s3.get_bucket_website(Bucket="webforms-v2")

    def test_name_field_starts_the_auto_name(self):
        p = self.project("""name: logical
runtime: yaml
resources:
  myTable:
    type: aws:dynamodb:Table
    name: orders
    properties:
      hashKey: id
      billingMode: PAY_PER_REQUEST
      attributes:
        - name: id
          type: S
outputs:
  table: ${myTable.name}
""")
        p.json("up", "--yes")
        self.assertRegex(p.json("output")["table"], r"^orders-[0-9a-f]{7}$")
        p.json("destroy", "--yes", "--keep-regions")

    def test_name_field_must_be_a_string(self):
        p = self.project("""name: badname
runtime: yaml
resources:
  t:
    type: random:RandomPet
    name: [a]
""")
        r = p.run("preview", check=2)
        self.assertRegex(r.stderr, r"Tandem\.yaml:6:\d+: resource 't': name must be")

    def test_archive_get_file_error_and_preview_writes_the_zip(self):
        text = """name: zipit
runtime: yaml
variables:
  pkg:
    fn::invoke:
      function: archive:getFile
      arguments:
        type: zip
        sourceDir: %s
        outputPath: build/pkg.zip
resources:
  pet:
    type: random:RandomPet
    properties:
      keepers:
        code: ${pkg.outputBase64sha256}
"""
        p = self.project(text % "missing")
        r = p.run("preview", check=2)
        self.assertRegex(r.stderr, r"Tandem\.yaml:6:\d+: fn::invoke archive:getFile: "
                                   r"could not archive missing directory: missing")
        os.makedirs(os.path.join(p.dir, "src"))
        with open(os.path.join(p.dir, "src", "a.txt"), "w") as f:
            f.write("a\n")
        p.write(text % "src")
        pv = p.json("preview")
        self.assertEqual(ops(pv), {"pet": "create"})
        with open(os.path.join(p.dir, "build", "pkg.zip"), "rb") as f:
            digest = base64.b64encode(hashlib.sha256(f.read()).digest()).decode()
        self.assertEqual(pv["steps"][0]["inputs"]["keepers"]["code"], digest)


ROLE_AND_KEY = """name: inplace
runtime: yaml
resources:
  role:
    type: aws:iam:Role
    properties:
      name: inplace-role
      description: %s
      maxSessionDuration: %d
      assumeRolePolicy:
        fn::toJSON:
          Version: 2012-10-17
          Statement:
            - Action: sts:AssumeRole
              Effect: Allow
              Principal:
                Service: lambda.amazonaws.com
  user:
    type: aws:iam:User
    properties:
      name: inplace-user
  userPolicy:
    type: aws:iam:UserPolicy
    properties:
      user: ${user.name}
      policy:
        fn::toJSON:
          Version: 2012-10-17
          Statement:
            - Action: dynamodb:ListTables
              Effect: Allow
              Resource: '*'
  key:
    type: aws:iam:AccessKey
    properties:
      user: ${user.name}
      status: %s
outputs:
  keyId: ${key.id}
  keySecret: ${key.secret}
"""


class InPlaceIamChanges(unittest.TestCase):
    """A role's description and maxSessionDuration and an access key's status change in
    place (UpdateRole, UpdateAccessKey); an inactive key stops authenticating."""

    def test_role_and_key_update_in_place(self):
        p = Project(text=ROLE_AND_KEY % ("first", 3600, "Active"))
        self.addCleanup(p.cleanup)
        p.json("up", "--yes")
        out = p.json("output", "--show-secrets")
        iam = p.client("iam", "us-east-1")
        ep = p.endpoint("us-east-1")

        def key_ddb():
            import boto3
            from botocore.config import Config
            return boto3.client("dynamodb", region_name="us-east-1", endpoint_url=ep,
                                aws_access_key_id=out["keyId"],
                                aws_secret_access_key=out["keySecret"],
                                config=Config(retries={"max_attempts": 1}))

        key_ddb().list_tables()
        p.write(ROLE_AND_KEY % ("second", 7200, "Inactive"))
        up = p.json("up", "--yes")
        self.assertEqual({n: o for n, o in ops(up).items() if o != "same"},
                         {"role": "update", "key": "update"})
        r = iam.get_role(RoleName="inplace-role")["Role"]
        self.assertEqual((r["Description"], r["MaxSessionDuration"]), ("second", 7200))
        meta = iam.list_access_keys(UserName="inplace-user")["AccessKeyMetadata"]
        self.assertEqual(meta[0]["Status"], "Inactive")
        import botocore.exceptions
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            key_ddb().list_tables()
        self.assertEqual(cm.exception.response["Error"]["Code"], "UnrecognizedClientException")
        self.assertEqual(p.json("up", "--yes")["writes"], 0)

        p.write(ROLE_AND_KEY % ("second", 7200, "Active"))
        up = p.json("up", "--yes")
        self.assertEqual({n: o for n, o in ops(up).items() if o != "same"}, {"key": "update"})
        key_ddb().list_tables()
        p.json("destroy", "--yes", "--keep-regions")
        self.assertEqual(iam.list_users()["Users"], [])
        self.assertEqual(iam.list_roles()["Roles"], [])


if __name__ == "__main__":
    unittest.main()
