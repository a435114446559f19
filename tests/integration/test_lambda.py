"""Functions: the Lambda API through the aws CLI (v1 and v2) and boto3, the
Runtime API through real processes (the C example and the Node.js example with
the AWS SDK for JavaScript v3), function URLs through curl."""

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.parse

from tandem_harness import JS_DIR, ROOT, ServerTestCase, find_clients

EXAMPLES = os.path.join(ROOT, "examples", "functions")
ROLE = "arn:aws:iam::123456789012:role/tap-fn-role"


def zip_of(files):
    """A zip (bytes) of {name: (text, mode)}."""
    import io
    import zipfile
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        for name, (text, mode) in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o100000 | mode) << 16
            info.create_system = 3
            z.writestr(info, text)
    return b.getvalue()


def wait_fn_log(case, name, text, seconds=30):
    """Wait (bounded) until @text is in function @name's log file in @case's
    region; fail @case if it never comes."""
    path = os.path.join(case.server.data_dir, "functions", name, "log")
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with open(path, encoding="utf-8") as f:
                if text in f.read():
                    return
        except OSError:
            pass
        time.sleep(0.1)
    case.fail("%r never reached %s's log" % (text, name))


def public_url(lam, name):
    """A function URL of @name open to anyone (AuthType NONE and Principal "*")."""
    url = lam.create_function_url_config(FunctionName=name, AuthType="NONE")["FunctionUrl"]
    lam.add_permission(FunctionName=name, StatementId="public",
                       Action="lambda:InvokeFunctionUrl", Principal="*",
                       FunctionUrlAuthType="NONE")
    return url


def shell_bootstrap(script):
    return zip_of({"bootstrap": ("#!/bin/sh\n" + script, 0o755)})


class LambdaTest(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="tandem-fn-")
        cls.c_zip = os.path.join(cls.tmp, "c.zip")
        subprocess.run([os.path.join(EXAMPLES, "c", "build.sh"), cls.c_zip], check=True)
        cls.lam = cls.server.boto3("lambda", max_attempts=1, read_timeout=120)
        cls.ddb = cls.server.boto3("dynamodb")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    # -- helpers ---------------------------------------------------------------

    def cli(self, client, *args):
        return self.aws_cli(client.argv, "lambda", *args)

    def clis(self):
        out = [c for c in find_clients() if c.kind == "cli" and not c.missing]
        if not out:
            self.skipTest("no aws CLI")
        return out

    def create(self, name, zip_bytes, runtime="provided.al2023", handler="bootstrap", **kw):
        return self.lam.create_function(FunctionName=name, Runtime=runtime, Role=ROLE,
                                        Handler=handler, Code={"ZipFile": zip_bytes}, **kw)

    def public_url(self, name):
        return public_url(self.lam, name)

    def curl(self, url, *args):
        p = subprocess.run(["curl", "-s", "-o", "-", "-w", "\n%{http_code}", "--max-time", "60"]
                           + list(args) + [url], capture_output=True, timeout=90)
        body, _, code = p.stdout.rpartition(b"\n")
        return int(code), body

    # -- tests ---------------------------------------------------------------

    def test_c_function_cli_invoke_and_url(self):
        for i, client in enumerate(self.clis()):
            name = "hello-c-%d" % i
            cfg = self.cli(client, "create-function", "--function-name", name,
                           "--runtime", "provided.al2023", "--handler", "bootstrap",
                           "--role", ROLE, "--zip-file", "fileb://" + self.c_zip)
            self.assertEqual(cfg["FunctionName"], name)
            # Lambda answers a new function as Pending; it is Active once read back
            self.assertEqual(cfg["State"], "Pending")
            self.assertEqual(self.lam.get_function(FunctionName=name)["Configuration"]["State"],
                             "Active")
            out = os.path.join(self.tmp, "out-%d.json" % i)
            payload = os.path.join(self.tmp, "payload.json")
            with open(payload, "wb") as f:
                f.write(b'{"k":"v"}')
            args = ["invoke", "--function-name", name, "--payload", "fileb://" + payload,
                    "--log-type", "Tail", out]
            res = self.cli(client, *args)
            self.assertEqual(res["StatusCode"], 200)
            self.assertEqual(res["ExecutedVersion"], "$LATEST")
            self.assertNotIn("FunctionError", res)
            log = base64.b64decode(res["LogResult"]).decode()
            self.assertIn("START RequestId:", log)
            self.assertIn("REPORT RequestId:", log)
            with open(out) as f:
                doc = json.load(f)
            self.assertEqual(doc["statusCode"], 200)
            self.assertEqual(json.loads(doc["body"])["region"], "us-east-1")
            # the URL, by path and by host name
            url = self.cli(client, "create-function-url-config", "--function-name", name,
                           "--auth-type", "NONE")["FunctionUrl"]
            code, _ = self.curl(url)
            self.assertEqual(code, 403)  # no resource policy for Principal "*" yet
            self.cli(client, "add-permission", "--function-name", name, "--statement-id",
                     "pub", "--action", "lambda:InvokeFunctionUrl", "--principal", "*",
                     "--function-url-auth-type", "NONE")
            code, body = self.curl(url + "some/path?a=1&a=2")
            self.assertEqual(code, 200, body)
            self.assertEqual(json.loads(body)["region"], "us-east-1")
            url_id = urllib.parse.urlparse(url).path.split("/")[2]
            code, body = self.curl(
                "http://%s.lambda-url.us-east-1.localhost:%d/x" % (url_id, self.server.port),
                "--resolve", "%s.lambda-url.us-east-1.localhost:%d:127.0.0.1"
                % (url_id, self.server.port))
            self.assertEqual(code, 200, body)

    def test_api_shapes_and_errors(self):
        with open(self.c_zip, "rb") as f:
            z = f.read()
        self.create("api-fn", z, Timeout=5, MemorySize=256,
                    Environment={"Variables": {"A": "1"}})
        got = self.lam.get_function(FunctionName="api-fn")
        self.assertEqual(got["Configuration"]["Timeout"], 5)
        self.assertIn("Location", got["Code"])
        status, _, body = self.raw_get(got["Code"]["Location"])
        self.assertEqual(status, 200)
        self.assertEqual(body, z)
        with self.assertRaises(self.lam.exceptions.ResourceConflictException):
            self.create("api-fn", z)
        with self.assertRaises(self.lam.exceptions.ResourceNotFoundException):
            self.lam.get_function(FunctionName="nope")
        with self.assertRaises(self.lam.exceptions.InvalidParameterValueException):
            self.create("bad-zip", b"this is not a zip")
        with self.assertRaises(self.lam.exceptions.InvalidParameterValueException):
            self.lam.create_function(FunctionName="no-handler", Runtime="nodejs20.x",
                                     Role=ROLE, Code={"ZipFile": z})
        with self.assertRaises(self.lam.exceptions.InvalidParameterValueException):
            self.create("bad-runtime", z, runtime="cobol85")
        with self.assertRaises(self.lam.exceptions.InvalidParameterValueException):
            self.lam.update_function_configuration(FunctionName="api-fn",
                                                   Environment={"Variables":
                                                                {"AWS_REGION": "x"}})
        upd = self.lam.update_function_configuration(FunctionName="api-fn", Timeout=7)
        self.assertEqual(upd["Timeout"], 7)
        self.assertEqual(self.lam.get_function_configuration(FunctionName="api-fn")["Timeout"], 7)
        # pagination
        for i in range(3):
            self.create("page-%d" % i, z)
        names, marker = [], None
        while True:
            kw = {"MaxItems": 2}
            if marker:
                kw["Marker"] = marker
            page = self.lam.list_functions(**kw)
            names += [f["FunctionName"] for f in page["Functions"]]
            marker = page.get("NextMarker")
            if not marker:
                break
        self.assertEqual(len(names), len(set(names)))
        self.assertTrue({"page-0", "page-1", "page-2", "api-fn"} <= set(names))
        # policy
        self.lam.add_permission(FunctionName="api-fn", StatementId="s1",
                                Action="lambda:InvokeFunction", Principal="s3.amazonaws.com")
        pol = json.loads(self.lam.get_policy(FunctionName="api-fn")["Policy"])
        self.assertEqual(pol["Statement"][0]["Sid"], "s1")
        with self.assertRaises(self.lam.exceptions.ResourceConflictException):
            self.lam.add_permission(FunctionName="api-fn", StatementId="s1",
                                    Action="lambda:InvokeFunction", Principal="*")
        self.lam.remove_permission(FunctionName="api-fn", StatementId="s1")
        with self.assertRaises(self.lam.exceptions.ResourceNotFoundException):
            self.lam.get_policy(FunctionName="api-fn")
        # tags
        arn = got["Configuration"]["FunctionArn"]
        self.lam.tag_resource(Resource=arn, Tags={"team": "dr"})
        self.assertEqual(self.lam.list_tags(Resource=arn)["Tags"], {"team": "dr"})
        self.lam.untag_resource(Resource=arn, TagKeys=["team"])
        self.assertEqual(self.lam.list_tags(Resource=arn)["Tags"], {})
        # invoke types
        r = self.lam.invoke(FunctionName="api-fn", InvocationType="DryRun")
        self.assertEqual(r["StatusCode"], 204)
        r = self.lam.invoke(FunctionName="api-fn", InvocationType="Event", Payload=b"{}")
        self.assertEqual(r["StatusCode"], 202)
        with self.assertRaises(self.lam.exceptions.InvalidRequestContentException):
            self.lam.invoke(FunctionName="api-fn", Payload=b"{not json")
        # URL configuration
        self.lam.create_function_url_config(FunctionName="api-fn", AuthType="AWS_IAM",
                                            Cors={"AllowOrigins": ["*"]})
        with self.assertRaises(self.lam.exceptions.ResourceConflictException):
            self.lam.create_function_url_config(FunctionName="api-fn", AuthType="NONE")
        u = self.lam.update_function_url_config(FunctionName="api-fn", AuthType="NONE")
        self.assertEqual(u["AuthType"], "NONE")
        self.assertEqual(len(self.lam.list_function_url_configs(
            FunctionName="api-fn")["FunctionUrlConfigs"]), 1)
        self.lam.delete_function_url_config(FunctionName="api-fn")
        with self.assertRaises(self.lam.exceptions.ResourceNotFoundException):
            self.lam.get_function_url_config(FunctionName="api-fn")
        self.lam.delete_function(FunctionName="api-fn")
        with self.assertRaises(self.lam.exceptions.ResourceNotFoundException):
            self.lam.get_function_configuration(FunctionName="api-fn")

    def raw_get(self, url):
        import urllib.request
        from tandem_harness import sigv4_sign
        u = urllib.parse.urlparse(url)
        h = sigv4_sign("GET", u.path, {"Host": u.netloc}, b"", self.server.access_key,
                       self.server.secret_key, "us-east-1", "lambda")
        req = urllib.request.Request(url, headers=h)
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read()

    def test_timeout_crash_env_and_logs(self):
        self.create("sleepy", shell_bootstrap(
            'api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation"\n'
            'while true; do\n'
            '  curl -s -D /tmp/h.$$ -o /dev/null "$api/next"\n'
            '  echo "sleeping"\n'
            '  sleep 30\n'
            'done\n'), Timeout=1)
        t0 = time.monotonic()
        r = self.lam.invoke(FunctionName="sleepy", Payload=b"{}")
        self.assertLess(time.monotonic() - t0, 10)
        self.assertEqual(r["StatusCode"], 200)
        self.assertEqual(r["FunctionError"], "Unhandled")
        msg = json.loads(r["Payload"].read())["errorMessage"]
        self.assertIn("Task timed out after 1.00 seconds", msg)

        self.create("crashy", shell_bootstrap('echo "dying" >&2\nexit 1\n'))
        r = self.lam.invoke(FunctionName="crashy", Payload=b"{}", LogType="Tail")
        self.assertEqual(r["FunctionError"], "Unhandled")
        err = json.loads(r["Payload"].read())
        self.assertEqual(err["errorType"], "Runtime.ExitError")
        self.assertIn("Runtime exited with error: exit status 1", err["errorMessage"])
        self.assertIn("dying", base64.b64decode(r["LogResult"]).decode())

        # environment: reserved variables, the user's, the role's keys
        self.create("envy", shell_bootstrap(
            'api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation"\n'
            'id=$(curl -s -D - -o /dev/null "$api/next" | tr -d "\\r" |'
            ' sed -n "s/^[Ll]ambda-[Rr]untime-[Aa]ws-[Rr]equest-[Ii]d: //p")\n'
            'cd "$TMPDIR"\n'
            'env | sort > env.txt\n'
            'python3 -c "import json,os; print(json.dumps(dict(os.environ)))" > env.json\n'
            'curl -s -X POST --data-binary @env.json "$api/$id/response"\n'
            'sleep 60\n'), Environment={"Variables": {"MY_VAR": "mine"}}, MemorySize=512)
        r = self.lam.invoke(FunctionName="envy", Payload=b"{}")
        env = json.loads(r["Payload"].read())
        self.assertEqual(env["MY_VAR"], "mine")
        self.assertEqual(env["AWS_REGION"], "us-east-1")
        self.assertEqual(env["AWS_DEFAULT_REGION"], "us-east-1")
        self.assertEqual(env["AWS_LAMBDA_FUNCTION_NAME"], "envy")
        self.assertEqual(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "512")
        self.assertEqual(env["AWS_LAMBDA_FUNCTION_VERSION"], "$LATEST")
        self.assertEqual(env["TZ"], ":UTC")
        self.assertEqual(env["AWS_ENDPOINT_URL"], self.server.url())
        self.assertTrue(env["AWS_ACCESS_KEY_ID"].startswith("ASIA"))
        self.assertTrue(env["AWS_SESSION_TOKEN"])
        self.assertTrue(os.path.isdir(env["LAMBDA_TASK_ROOT"]))
        # logs: the data dir and tandem logs
        log = os.path.join(self.server.data_dir, "functions", "crashy", "log")
        with open(log) as f:
            self.assertIn("dying", f.read())
        p = subprocess.run([os.environ.get("TANDEM_BIN") or self._bin(), "logs", "crashy",
                            "--data", self.server.data_dir], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("dying", p.stdout)

    def _bin(self):
        from tandem_harness import tandem_bin
        return tandem_bin()

    def test_url_bad_input(self):
        with open(self.c_zip, "rb") as f:
            self.create("url-bad", f.read())
        url = self.public_url("url-bad")
        code, _ = self.curl(url, "-X", "BREW")
        self.assertEqual(code, 400)
        code, _ = self.curl(url, "-H", "Cookie: =novalue; ;;x")
        self.assertEqual(code, 400)
        big = os.path.join(self.tmp, "big")
        with open(big, "wb") as f:
            f.write(b"x" * (7 * 1024 * 1024))
        code, _ = self.curl(url, "--data-binary", "@" + big)
        self.assertEqual(code, 413)
        binary = os.path.join(self.tmp, "binary")
        with open(binary, "wb") as f:
            f.write(b"\x00\xff binary")
        code, body = self.curl(url, "-H", "Content-Type: application/octet-stream",
                               "--data-binary", "@" + binary)
        self.assertEqual(code, 200, body)
        code, _ = self.curl(url.replace("/lambda-url/", "/lambda-url/zz") )
        self.assertEqual(code, 403)
        # the region still answers
        self.assertEqual(self.server.health()[0], 200)

    def test_concurrent_invokes_scale_out(self):
        import concurrent.futures
        self.create("slow", shell_bootstrap(
            'api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation"\n'
            'while true; do\n'
            '  id=$(curl -s -D - -o /dev/null "$api/next" | tr -d "\\r" |'
            ' sed -n "s/^[Ll]ambda-[Rr]untime-[Aa]ws-[Rr]equest-[Ii]d: //p")\n'
            '  sleep 1\n'  # TMPDIR names the instance (its pid is 2 in its PID namespace)
            '  curl -s -X POST --data "{\\"inst\\":\\"$TMPDIR\\"}" "$api/$id/response" >/dev/null\n'
            'done\n'), Timeout=20)
        lam = self.server.boto3("lambda", max_attempts=1, read_timeout=60,
                                max_pool_connections=8)
        with concurrent.futures.ThreadPoolExecutor(4) as ex:
            t0 = time.monotonic()
            insts = list(ex.map(lambda _: json.loads(lam.invoke(
                FunctionName="slow", Payload=b"{}")["Payload"].read())["inst"], range(4)))
            took = time.monotonic() - t0
        self.assertGreater(len(set(insts)), 1)  # scaled out
        self.assertLess(took, 4.5)
        # warm reuse
        again = json.loads(lam.invoke(FunctionName="slow", Payload=b"{}")["Payload"].read())
        self.assertIn(again["inst"], insts)

    def node_zip(self):
        if not shutil.which("node"):
            self.skipTest("no node on PATH")
        nm = os.path.join(JS_DIR, "node_modules")
        if not os.path.isdir(os.path.join(nm, "@aws-sdk", "client-dynamodb")):
            self.skipTest("tests/js/node_modules missing: run npm ci in tests/js")
        zpath = os.path.join(self.tmp, "node.zip")
        if not os.path.exists(zpath):
            subprocess.run([os.path.join(EXAMPLES, "node", "build.sh"), zpath], check=True,
                           env=dict(os.environ, NODE_MODULES_FROM=nm))
        return zpath

    def table(self, name):
        try:
            self.ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                                  AttributeDefinitions=[{"AttributeName": "id",
                                                         "AttributeType": "S"}],
                                  KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
        except self.ddb.exceptions.ResourceInUseException:
            pass

    def role(self, name, actions, table):
        """An execution role allowed @actions on @table; False if the region has no IAM."""
        try:
            iam = self.server.boto3("iam")
            iam.list_roles()
        except Exception:  # noqa: BLE001 - no IAM API in this region yet
            return False
        trust = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole"}]}
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
        iam.put_role_policy(RoleName=name, PolicyName="table", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": actions,
                "Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/" + table}]}))
        return True

    def test_node_function_writes_the_table(self):
        zpath = self.node_zip()
        self.table("tap-global")
        self.role("tap-dr-role", ["dynamodb:PutItem", "dynamodb:DescribeTable"], "tap-global")
        for client in self.clis()[:1]:
            self.cli(client, "create-function", "--function-name", "dr-node", "--runtime",
                     "nodejs20.x", "--handler", "index.handler", "--role",
                     "arn:aws:iam::123456789012:role/tap-dr-role",
                     "--timeout", "30", "--memory-size", "256",
                     "--environment", "Variables={TABLE_NAME=tap-global}",
                     "--zip-file", "fileb://" + zpath)
        url = self.public_url("dr-node")
        t0 = time.monotonic()
        code, body = self.curl(url + "hello")
        cold = time.monotonic() - t0
        self.assertEqual(code, 200, body)
        doc = json.loads(body)
        self.assertEqual(doc["region"], "us-east-1")
        self.assertEqual(doc["tableStatus"], "ACTIVE")
        item = self.ddb.get_item(TableName="tap-global", Key={"id": {"S": doc["id"]}})["Item"]
        self.assertEqual(item["region"]["S"], "us-east-1")
        self.assertEqual(item["path"]["S"], "/hello")
        code, body = self.curl(url)
        self.assertEqual(code, 200, body)
        self.assertEqual(self.ddb.scan(TableName="tap-global")["Count"], 2)
        print("node cold start through the URL: %.2fs" % cold)

    def test_role_without_put_item_is_denied(self):
        zpath = self.node_zip()
        self.table("tap-locked")
        if not self.role("tap-readonly-role", ["dynamodb:DescribeTable"], "tap-locked"):
            self.skipTest("the region has no IAM API yet: execution roles are not enforced")
        with open(zpath, "rb") as f:
            self.lam.create_function(FunctionName="locked-node", Runtime="nodejs20.x",
                                     Role="arn:aws:iam::123456789012:role/tap-readonly-role",
                                     Handler="index.handler", Timeout=30,
                                     Environment={"Variables": {"TABLE_NAME": "tap-locked"}},
                                     Code={"ZipFile": f.read()})
        r = self.lam.invoke(FunctionName="locked-node", Payload=b'{"rawPath":"/x"}')
        self.assertEqual(r["FunctionError"], "Unhandled")
        err = json.loads(r["Payload"].read())
        self.assertEqual(err["errorType"], "AccessDeniedException", err)
        self.assertIn("assumed-role/tap-readonly-role/locked-node", err["errorMessage"])
        self.assertEqual(self.ddb.scan(TableName="tap-locked")["Count"], 0)

    def test_endless_output_and_signed_urls(self):
        # a function that prints forever is stopped by its timeout; the region lives on
        self.create("chatty", shell_bootstrap(
            'curl -s -o /dev/null "http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/'
            'invocation/next"\nyes "spam spam spam spam"\n'), Timeout=2)
        r = self.lam.invoke(FunctionName="chatty", Payload=b"{}")
        self.assertEqual(r["FunctionError"], "Unhandled")
        self.assertIn("Task timed out", json.loads(r["Payload"].read())["errorMessage"])
        self.assertEqual(self.server.health()[0], 200)
        log = os.path.join(self.server.data_dir, "functions", "chatty", "log")
        self.assertLess(os.path.getsize(log), 17 * 1024 * 1024)
        # AWS_IAM: unsigned is refused, signed by an allowed caller goes through
        with open(self.c_zip, "rb") as f:
            self.create("iam-url", f.read())
        url = self.lam.create_function_url_config(FunctionName="iam-url",
                                                  AuthType="AWS_IAM")["FunctionUrl"]
        code, _ = self.curl(url)
        self.assertEqual(code, 403)
        import urllib.request
        from tandem_harness import sigv4_sign
        u = urllib.parse.urlparse(url)
        h = sigv4_sign("GET", u.path, {"Host": u.netloc}, b"", self.server.access_key,
                       self.server.secret_key, "us-east-1", "lambda")
        with urllib.request.urlopen(urllib.request.Request(url, headers=h), timeout=30) as r:
            self.assertEqual(r.status, 200)
            self.assertEqual(json.loads(r.read())["region"], "us-east-1")
        # CORS preflight
        self.lam.update_function_url_config(FunctionName="iam-url", AuthType="NONE",
                                            Cors={"AllowOrigins": ["https://a.example"],
                                                  "AllowMethods": ["GET"], "MaxAge": 60})
        p = subprocess.run(["curl", "-s", "-i", "-X", "OPTIONS", "-H",
                            "Origin: https://a.example", "-H",
                            "Access-Control-Request-Method: GET", url],
                           capture_output=True, text=True, timeout=30)
        self.assertIn("200", p.stdout.splitlines()[0])
        self.assertIn("access-control-allow-origin: https://a.example", p.stdout.lower())


class NodeCallbackTest(ServerTestCase):
    """The bundled Node.js bootstrap: callback handlers and thrown errors."""

    def test_callback_and_errors(self):
        if not shutil.which("node"):
            self.skipTest("no node on PATH")
        lam = self.server.boto3("lambda", max_attempts=1, read_timeout=60)
        code = zip_of({"cb.js": (
            "exports.handler = (event, context, callback) => {\n"
            "  if (event.fail) return callback(new Error('asked to fail'));\n"
            "  setTimeout(() => callback(null, {got: event, fn: context.functionName}), 10);\n"
            "};\n", 0o644)})
        lam.create_function(FunctionName="cb", Runtime="nodejs20.x", Role=ROLE,
                            Handler="cb.handler", Code={"ZipFile": code})
        r = lam.invoke(FunctionName="cb", Payload=b'{"a":1}')
        self.assertEqual(json.loads(r["Payload"].read()), {"got": {"a": 1}, "fn": "cb"})
        r = lam.invoke(FunctionName="cb", Payload=b'{"fail":true}')
        self.assertEqual(r["FunctionError"], "Unhandled")
        self.assertEqual(json.loads(r["Payload"].read())["errorMessage"], "asked to fail")
        lam.create_function(FunctionName="nohandler", Runtime="nodejs20.x", Role=ROLE,
                            Handler="missing.handler", Code={"ZipFile": code})
        r = lam.invoke(FunctionName="nohandler", Payload=b"{}")
        self.assertEqual(r["FunctionError"], "Unhandled")
        self.assertEqual(json.loads(r["Payload"].read())["errorType"],
                         "Runtime.ImportModuleError")


class RestartTest(ServerTestCase):
    """Functions, their URLs and policies survive a restart of the region."""

    def test_functions_survive_restart(self):
        tmp = tempfile.mkdtemp(prefix="tandem-fn-")
        try:
            zpath = os.path.join(tmp, "c.zip")
            subprocess.run([os.path.join(EXAMPLES, "c", "build.sh"), zpath], check=True)
            lam = self.server.boto3("lambda", max_attempts=1, read_timeout=60)
            with open(zpath, "rb") as f:
                lam.create_function(FunctionName="keep", Runtime="provided.al2023", Role=ROLE,
                                    Handler="bootstrap", Code={"ZipFile": f.read()})
            lam.create_function_url_config(FunctionName="keep", AuthType="NONE")
            lam.add_permission(FunctionName="keep", StatementId="pub",
                               Action="lambda:InvokeFunctionUrl", Principal="*",
                               FunctionUrlAuthType="NONE")
            self.server.stop()
            self.server.start()
            lam = self.server.boto3("lambda", max_attempts=1, read_timeout=60)
            r = lam.invoke(FunctionName="keep", Payload=b"{}")
            self.assertNotIn("FunctionError", r)
            url = lam.get_function_url_config(FunctionName="keep")["FunctionUrl"]
            self.assertTrue(url.startswith(self.server.url() + "/lambda-url/"), url)
            p = subprocess.run(["curl", "-s", "--max-time", "30", url], capture_output=True,
                               text=True, timeout=60)
            self.assertEqual(json.loads(p.stdout)["region"], "us-east-1", p.stdout)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
