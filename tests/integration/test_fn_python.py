"""Python functions (python3.9 ... python3.14, run by the machine's python3
through Tandem's own bootstrap): handlers in modules, packages and folders,
the context object and environment, results (decimal.Decimal), errors as
Lambda's Python runtime reports them (import, syntax, missing handler,
exceptions, sys.exit, crashes, timeouts), logs (print, logging, LogType
Tail), warm starts, Event invocations, function URLs through curl, the aws
CLI, and a region without python3."""

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from tandem_harness import ROOT, ServerTestCase, find_clients
from test_lambda import ROLE, public_url, wait_fn_log, zip_of

HAVE_PYTHON = bool(shutil.which("python3"))


def py_zip(files):
    """A zip of {name: source} (0644 files)."""
    return zip_of({name: (text, 0o644) for name, text in files.items()})


APP = '''\
import decimal
import logging
import os
import sys

import helper

logger = logging.getLogger()
COUNT = 0


def handler(event, context):
    global COUNT
    COUNT += 1
    if event.get("fail"):
        raise RuntimeError("asked to")
    print("hello from", context.function_name, "héllo")
    logger.warning("a warning")
    logger.info("not shown: the root logger is at WARNING")
    env = {k: os.environ.get(k) for k in (
        "_HANDLER", "LAMBDA_TASK_ROOT", "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_REGION",
        "AWS_EXECUTION_ENV", "AWS_LAMBDA_RUNTIME_API", "_X_AMZN_TRACE_ID", "TZ",
        "AWS_ACCESS_KEY_ID", "MY_VAR")}
    left = context.get_remaining_time_in_millis()
    return {
        "event": event,
        "count": COUNT,
        "helper": helper.NAME,
        "cwd": os.getcwd(),
        "path0": sys.path[0],
        "env": env,
        "remaining_ok": 0 < left <= 5000,
        "context": {
            "function_name": context.function_name,
            "function_version": context.function_version,
            "invoked_function_arn": context.invoked_function_arn,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "aws_request_id": context.aws_request_id,
            "log_group_name": context.log_group_name,
            "log_stream_name": context.log_stream_name,
            "client_context": context.client_context,
            "identity_id": context.identity.cognito_identity_id,
        },
        "price": decimal.Decimal("1.10"),
        "qty": decimal.Decimal("3"),
        "text": "héllo",
        "unbuffered": sys.stdout.write_through or not sys.stdout.line_buffering,
    }


def boom(event, context):
    raise ValueError("boom: %s" % event.get("why"))


def bye(event, context):
    sys.exit(event.get("code", 0))


def crash(event, context):
    os.abort()


def slow(event, context):
    import time
    print("sleeping")
    time.sleep(30)


def count(event, context):
    return COUNT


def web(event, context):
    return {"statusCode": 201, "headers": {"content-type": "text/plain", "x-who": "python"},
            "body": "%s %s %s" % (event["requestContext"]["http"]["method"],
                                  event["rawPath"], event.get("rawQueryString", ""))}


def plain(event, context):
    return "just a string"


def unserializable(event, context):
    return {"when": {1, 2}}


def raw(event, context):
    return b"raw bytes, not JSON"
'''


class PythonFunctionTest(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.lam = cls.server.boto3("lambda", max_attempts=1, read_timeout=120)
        cls.tmp = tempfile.mkdtemp(prefix="tandem-fnpy-")
        cls.app = py_zip({"app.py": APP, "helper.py": "NAME = 'helper'\n"})

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    def setUp(self):
        if not HAVE_PYTHON:
            self.skipTest("no python3 on PATH")

    def create(self, name, code, handler="app.handler", runtime="python3.12", **kw):
        return self.lam.create_function(FunctionName=name, Runtime=runtime, Role=ROLE,
                                        Handler=handler, Code={"ZipFile": code}, **kw)

    def invoke(self, name, payload=None, tail=False):
        kw = {"LogType": "Tail"} if tail else {}
        r = self.lam.invoke(FunctionName=name,
                            Payload=json.dumps(payload if payload is not None else {}), **kw)
        body = json.loads(r["Payload"].read())
        log = base64.b64decode(r["LogResult"]).decode() if tail else ""
        return r, body, log

    def task_root(self, name):
        code = self.lam.get_function_configuration(FunctionName=name)
        return os.path.join(self.server.data_dir, "functions", name,
                            base64.b64decode(code["CodeSha256"]).hex())

    def curl(self, url, *args):
        p = subprocess.run(["curl", "-s", "-D", "-", "--max-time", "60"] + list(args) + [url],
                           capture_output=True, timeout=90)
        head, _, body = p.stdout.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])}
        return int(lines[0].split()[1]), headers, body

    # ---- handlers, context, environment, results, logs, warm starts ----

    def test_context_environment_result_logs_and_warm_start(self):
        cfg = self.create("py-app", self.app, MemorySize=256, Timeout=5,
                          Environment={"Variables": {"MY_VAR": "mine"}})
        self.assertEqual(cfg["Runtime"], "python3.12")
        r, out, log = self.invoke("py-app", {"k": ["v", 1]}, tail=True)
        self.assertNotIn("FunctionError", r, out)
        self.assertEqual(out["event"], {"k": ["v", 1]})
        self.assertEqual(out["count"], 1)
        self.assertEqual(out["helper"], "helper")
        self.assertEqual(out["path0"], out["cwd"])  # the task root first on sys.path
        env = out["env"]
        expected = {"_HANDLER": "app.handler", "LAMBDA_TASK_ROOT": out["cwd"],
                    "AWS_LAMBDA_FUNCTION_NAME": "py-app", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
                    "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/py-app",
                    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12", "AWS_REGION": "us-east-1",
                    "TZ": ":UTC", "MY_VAR": "mine"}
        self.assertEqual({k: env[k] for k in expected}, expected)
        self.assertTrue(env["AWS_ACCESS_KEY_ID"].startswith("ASIA"))
        self.assertTrue(env["_X_AMZN_TRACE_ID"].startswith("Root=1-"))
        self.assertTrue(env["AWS_LAMBDA_RUNTIME_API"].startswith("127.0.0.1:"))
        ctx = out["context"]
        self.assertEqual(ctx["function_name"], "py-app")
        self.assertEqual(ctx["function_version"], "$LATEST")
        self.assertEqual(ctx["invoked_function_arn"], cfg["FunctionArn"])
        self.assertEqual(ctx["memory_limit_in_mb"], "256")  # a string, as in Lambda
        self.assertRegex(ctx["aws_request_id"], r"^[0-9a-f]{8}-[0-9a-f]{4}-")
        self.assertEqual(ctx["log_group_name"], "/aws/lambda/py-app")
        self.assertEqual(ctx["log_stream_name"], env["AWS_LAMBDA_LOG_STREAM_NAME"])
        self.assertIsNone(ctx["client_context"])
        self.assertIsNone(ctx["identity_id"])
        self.assertTrue(out["remaining_ok"])
        self.assertTrue(out["unbuffered"])
        self.assertEqual(out["text"], "héllo")
        # Decimal as its own digits, as Lambda's encoder writes it
        self.assertEqual(out["price"], 1.10)
        self.assertEqual(out["qty"], 3)
        # the log: print and logging (Lambda's format), START/END/REPORT
        self.assertIn("hello from py-app héllo", log)
        self.assertRegex(log, r"\[WARNING\]\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t%s\t"
                              r"a warning" % ctx["aws_request_id"])
        self.assertNotIn("not shown", log)
        self.assertIn("START RequestId: %s" % ctx["aws_request_id"], log)
        self.assertIn("REPORT RequestId: %s" % ctx["aws_request_id"], log)
        # the raw payload: Decimal digits kept exactly
        raw = self.lam.invoke(FunctionName="py-app", Payload=b"{}")["Payload"].read()
        self.assertIn(b'"price": 1.10', raw)
        self.assertIn(b'"qty": 3', raw)
        # warm: the module stays loaded in the instance
        self.assertEqual(json.loads(raw)["count"], 2)
        _, out, _ = self.invoke("py-app")
        self.assertEqual(out["count"], 3)
        # an exception leaves the instance warm
        r, err, _ = self.invoke("py-app", {"fail": True})
        self.assertEqual(r["FunctionError"], "Unhandled")
        self.assertEqual(err["errorType"], "RuntimeError")
        self.assertEqual(self.invoke("py-app")[1]["count"], 5)
        # a new configuration: a new instance, the module imported again
        self.lam.update_function_configuration(FunctionName="py-app", Handler="app.count")
        self.assertEqual(self.invoke("py-app")[1], 0)

    def test_handlers_in_packages_and_folders(self):
        code = py_zip({
            "pkg/__init__.py": "",
            "pkg/sub/__init__.py": "",
            "pkg/sub/mod.py": "from pkg import util\n"
                              "def handler(event, context):\n"
                              "    return {'from': __name__, 'util': util.X}\n",
            "pkg/util.py": "X = 42\n",
            "folder/plain.py": "def go(event, context):\n    return __name__\n",
        })
        for i, handler in enumerate(["pkg/sub/mod.handler", "pkg.sub.mod.handler"]):
            self.create("py-pkg-%d" % i, code, handler=handler, runtime="python3.11")
            r, out, _ = self.invoke("py-pkg-%d" % i)
            self.assertNotIn("FunctionError", r, out)
            self.assertEqual(out, {"from": "pkg.sub.mod", "util": 42})
        # a folder without __init__.py (a namespace package), as Lambda allows
        self.create("py-folder", code, handler="folder/plain.go", runtime="python3.13")
        self.assertEqual(self.invoke("py-folder")[1], "folder.plain")

    def test_every_python_runtime_name(self):
        for rt in ["python3.9", "python3.10", "python3.11", "python3.12", "python3.13",
                   "python3.14"]:
            name = "py-" + rt.replace(".", "-")
            self.create(name, self.app, handler="app.count", runtime=rt)
            r, out, _ = self.invoke(name)
            self.assertNotIn("FunctionError", r, out)
            self.assertEqual(out, 0)
        for rt in ["python3.8", "python2.7", "python3.99", "python"]:
            with self.assertRaises(self.lam.exceptions.InvalidParameterValueException) as cm:
                self.create("py-old", self.app, runtime=rt)
            self.assertIn("Value %s at 'runtime' failed to satisfy constraint" % rt,
                          str(cm.exception))
            self.assertIn("python3.13", str(cm.exception))
        with self.assertRaises(self.lam.exceptions.InvalidParameterValueException):
            self.lam.create_function(FunctionName="py-nohandler", Runtime="python3.12",
                                     Role=ROLE, Code={"ZipFile": self.app})

    # ---- errors as Lambda's Python runtime reports them ----

    def assert_error(self, name, handler, error_type, message, payload=None, code=None,
                     trace=None):
        self.create(name, code or self.app, handler=handler)
        r, err, log = self.invoke(name, payload, tail=True)
        self.assertEqual(r["StatusCode"], 200)
        self.assertEqual(r["FunctionError"], "Unhandled", err)
        self.assertEqual(err["errorType"], error_type, err)
        self.assertEqual(err["errorMessage"], message, err)
        self.assertEqual(sorted(err), ["errorMessage", "errorType", "requestId", "stackTrace"])
        if trace is not None:
            self.assertEqual(err["stackTrace"], trace)
        self.assertIn("[ERROR] %s: %s" % (error_type, message), log)
        return err, log

    def test_init_errors(self):
        self.assert_error("py-noimport", "nope.handler", "Runtime.ImportModuleError",
                          "Unable to import module 'nope': No module named 'nope'", trace=[])
        dep = py_zip({"app.py": "import not_installed_anywhere\n"
                                "def handler(e, c):\n    return 1\n"})
        err, _ = self.assert_error(
            "py-nodep", "app.handler", "Runtime.ImportModuleError",
            "Unable to import module 'app': No module named 'not_installed_anywhere'",
            code=dep, trace=[])
        self.assertEqual(err["requestId"], "")
        bad = py_zip({"app.py": "def handler(e, c):\n    return (1\n"})
        err, _ = self.assert_error(
            "py-syntax", "app.handler", "Runtime.UserCodeSyntaxError",
            "Syntax error in module 'app': '(' was never closed (app.py, line 2)", code=bad)
        self.assertEqual(len(err["stackTrace"]), 1)
        self.assertRegex(err["stackTrace"][0], r'^  File "/.*/app\.py" Line 2\n    ')
        self.assert_error("py-malformed", "nodot", "Runtime.MalformedHandlerName",
                          "Bad handler 'nodot': not enough values to unpack "
                          "(expected 2, got 1)", trace=[])
        self.assert_error("py-builtin", "sys.handler", "Runtime.BuiltInModuleConflict",
                          "Cannot use built-in module sys as a handler module", trace=[])
        # an exception while importing: its own type and traceback
        raising = py_zip({"app.py": "X = 1 / 0\n"})
        err, log = self.assert_error("py-initraise", "app.handler", "ZeroDivisionError",
                                     "division by zero", code=raising)
        # importlib's frames, then the module's (none of the runtime's own)
        self.assertEqual(err["stackTrace"][-1],
                         '  File "%s/app.py", line 1, in <module>\n    X = 1 / 0\n'
                         % self.task_root("py-initraise"), err)
        for line in err["stackTrace"][:-1]:
            self.assertIn("importlib", line)
        self.assertIn("[ERROR] ZeroDivisionError: division by zero\n"
                      "Traceback (most recent call last):\n  File ", log)

    def test_invocation_errors(self):
        # a missing handler: the init succeeds, each invocation reports it
        err, _ = self.assert_error("py-missing", "app.nothere", "Runtime.HandlerNotFound",
                                   "Handler 'nothere' missing on module 'app'", trace=[])
        self.assertRegex(err["requestId"], r"^[0-9a-f]{8}-")
        err, log = self.assert_error("py-boom", "app.boom", "ValueError", "boom: why not",
                                     payload={"why": "why not"})
        self.assertEqual(len(err["stackTrace"]), 1)
        self.assertRegex(err["stackTrace"][0], r'^  File "/.*/app\.py", line \d+, in boom\n'
                                               r'    raise ValueError\("boom: %s" % '
                                               r'event.get\("why"\)\)\n$')
        self.assertIn("Traceback (most recent call last):", log)
        self.assertIn("LAMBDA_WARNING: Unhandled exception.", log)
        self.assertIn(err["requestId"], log)
        # sys.exit and crashes end the runtime: Runtime.ExitError
        for name, payload, msg in [("py-exit3", {"code": 3}, "with error: exit status 3"),
                                   ("py-exit0", {"code": 0}, "without providing a reason")]:
            self.create(name, self.app, handler="app.bye")
            r, err, _ = self.invoke(name, payload)
            self.assertEqual(r["FunctionError"], "Unhandled")
            self.assertEqual(err["errorType"], "Runtime.ExitError", err)
            self.assertRegex(err["errorMessage"],
                             r"^RequestId: [0-9a-f-]{36} Error: Runtime exited %s$" % msg)
        # a result that is not JSON: Runtime.MarshalError; bytes go as they are
        self.assert_error("py-marshal", "app.unserializable", "Runtime.MarshalError",
                          "Unable to marshal response: Object of type set is not JSON "
                          "serializable", trace=[])
        self.create("py-raw", self.app, handler="app.raw")
        r = self.lam.invoke(FunctionName="py-raw", Payload=b"{}")
        self.assertNotIn("FunctionError", r)
        self.assertEqual(r["Payload"].read(), b"raw bytes, not JSON")
        self.create("py-crash", self.app, handler="app.crash")
        r, err, _ = self.invoke("py-crash")
        self.assertEqual(err["errorType"], "Runtime.ExitError", err)
        self.assertTrue(err["errorMessage"].endswith("Runtime exited with error: signal: "
                                                     "aborted"), err)
        # the next invocation gets a new instance
        r, err, _ = self.invoke("py-crash")
        self.assertEqual(err["errorType"], "Runtime.ExitError", err)

    def test_timeout(self):
        self.create("py-slow", self.app, handler="app.slow", Timeout=1)
        t0 = time.monotonic()
        r, err, log = self.invoke("py-slow", tail=True)
        self.assertLess(time.monotonic() - t0, 15)
        self.assertEqual(r["FunctionError"], "Unhandled")
        self.assertIn("Task timed out after 1.00 seconds", err["errorMessage"])
        self.assertIn("sleeping", log)

    # ---- Event invocations, URLs, the aws CLI ----

    def wait_log(self, name, text, seconds=30):
        wait_fn_log(self, name, text, seconds)

    def test_event_invocation(self):
        self.create("py-event", py_zip({"app.py": "def handler(event, context):\n"
                                                  "    print('got', event['n'])\n"}))
        r = self.lam.invoke(FunctionName="py-event", InvocationType="Event",
                            Payload=b'{"n": 7}')
        self.assertEqual(r["StatusCode"], 202)
        self.wait_log("py-event", "got 7")

    def public_url(self, name, handler):
        """A function of APP with @handler and a public URL (AuthType NONE)."""
        self.create(name, self.app, handler=handler)
        return public_url(self.lam, name)

    def test_function_urls(self):
        status, headers, body = self.curl(self.public_url("py-web", "app.web") +
                                          "some/path?a=1", "-X", "POST", "-d", "x")
        self.assertEqual(status, 201, body)
        self.assertEqual(headers["content-type"], "text/plain")
        self.assertEqual(headers["x-who"], "python")
        self.assertEqual(body, b"POST /some/path a=1")
        status, headers, body = self.curl(self.public_url("py-plain", "app.plain"))
        self.assertEqual(status, 200, body)
        self.assertEqual(headers["content-type"], "application/json")
        self.assertEqual(body, b'"just a string"')

    def test_aws_cli(self):
        clis = [c for c in find_clients() if c.kind == "cli" and not c.missing]
        if not clis:
            self.skipTest("no aws CLI")
        zpath = os.path.join(self.tmp, "app.zip")
        with open(zpath, "wb") as f:
            f.write(self.app)
        payload = os.path.join(self.tmp, "payload.json")
        with open(payload, "wb") as f:
            f.write(b'{"from": "cli"}')
        for i, client in enumerate(clis):
            name = "py-cli-%d" % i

            def cli(*args):
                return self.aws_cli(client.argv, "lambda", *args)

            cfg = cli("create-function", "--function-name", name, "--runtime", "python3.12",
                      "--handler", "app.handler", "--role", ROLE,
                      "--zip-file", "fileb://" + zpath)
            self.assertEqual(cfg["Runtime"], "python3.12")
            out = os.path.join(self.tmp, "out-%d.json" % i)
            res = cli("invoke", "--function-name", name, "--payload", "fileb://" + payload,
                      "--log-type", "Tail", out)
            self.assertEqual(res["StatusCode"], 200)
            self.assertNotIn("FunctionError", res)
            self.assertIn("hello from %s" % name, base64.b64decode(res["LogResult"]).decode())
            with open(out) as f:
                self.assertEqual(json.load(f)["event"], {"from": "cli"})
            res = cli("invoke", "--function-name", name, "--invocation-type", "Event",
                      "--payload", "fileb://" + payload, out)
            self.assertEqual(res["StatusCode"], 202)
            self.wait_log(name, "hello from %s" % name)


class PythonExampleTest(ServerTestCase):
    """examples/functions/python: the DR function with boto3 writes to a
    DynamoDB table of the same region, through its URL (curl)."""

    def test_example_through_url(self):
        if not HAVE_PYTHON:
            self.skipTest("no python3 on PATH")
        tmp = tempfile.mkdtemp(prefix="tandem-fnpy-")
        self.addCleanup(shutil.rmtree, tmp, True)
        zpath = os.path.join(tmp, "dr.zip")
        subprocess.run([os.path.join(ROOT, "examples", "functions", "python", "build.sh"),
                        zpath], check=True)
        ddb = self.server.boto3("dynamodb")
        ddb.create_table(TableName="dr-py", BillingMode="PAY_PER_REQUEST",
                         AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
        lam = self.server.boto3("lambda", max_attempts=1, read_timeout=120)
        with open(zpath, "rb") as f:
            lam.create_function(FunctionName="dr-py", Runtime="python3.12", Role=ROLE,
                                Handler="app.handler", Code={"ZipFile": f.read()},
                                Timeout=30, Environment={"Variables": {"TABLE_NAME": "dr-py"}})
        r = lam.invoke(FunctionName="dr-py", Payload=b'{"rawPath": "/direct"}', LogType="Tail")
        out = json.loads(r["Payload"].read())
        if "boto3" in out.get("errorMessage", ""):
            self.skipTest("the functions' python3 has no boto3: %s" % out["errorMessage"])
        # a role that may not write the table: 500 with DynamoDB's error
        self.assertNotIn("FunctionError", r, out)
        self.assertEqual(out["statusCode"], 500, out)
        self.assertEqual(json.loads(out["body"])["error"], "AccessDeniedException", out)
        self.assertIn("[INFO]", base64.b64decode(r["LogResult"]).decode())
        iam = self.server.boto3("iam")
        role = iam.create_role(RoleName="dr-py-role", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
        iam.put_role_policy(RoleName="dr-py-role", PolicyName="table",
                            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{
                                "Effect": "Allow",
                                "Action": ["dynamodb:PutItem", "dynamodb:DescribeTable"],
                                "Resource": "arn:aws:dynamodb:us-east-1:%s:table/dr-py"
                                % self.server.account}]}))
        lam.update_function_configuration(FunctionName="dr-py", Role=role)
        url = public_url(lam, "dr-py")
        p = subprocess.run(["curl", "-s", "--max-time", "60", url + "from/curl"],
                           capture_output=True, timeout=90)
        doc = json.loads(p.stdout)
        self.assertEqual(doc["region"], "us-east-1")
        self.assertEqual(doc["tableStatus"], "ACTIVE")
        item = ddb.get_item(TableName="dr-py", Key={"id": {"S": doc["id"]}})["Item"]
        self.assertEqual(item["path"]["S"], "/from/curl")
        self.assertEqual(item["region"]["S"], "us-east-1")


class NoInterpreterTest(ServerTestCase):
    """A region whose PATH has no python3: python functions are refused at
    CreateFunction, UpdateFunctionConfiguration and Invoke, with the errors
    Lambda gives for a runtime it does not run."""

    def test_refused(self):
        if not HAVE_PYTHON:
            self.skipTest("no python3 on PATH")
        lam = self.server.boto3("lambda", max_attempts=1, read_timeout=60)
        code = py_zip({"app.py": "def handler(e, c):\n    return 1\n"})
        lam.create_function(FunctionName="had-py", Runtime="python3.12", Role=ROLE,
                            Handler="app.handler", Code={"ZipFile": code})
        self.assertEqual(json.loads(lam.invoke(FunctionName="had-py")["Payload"].read()), 1)
        # the same data, the region started again with no python3 on its PATH
        self.server.stop()
        path = os.environ.get("PATH", "")
        os.environ["PATH"] = "/nonexistent-tandem-path"
        try:
            self.server.start()
        finally:
            os.environ["PATH"] = path
        lam = self.server.boto3("lambda", max_attempts=1, read_timeout=60)
        with self.assertRaises(lam.exceptions.InvalidRuntimeException) as cm:
            lam.invoke(FunctionName="had-py", Payload=b"{}")
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 502)
        with self.assertRaises(lam.exceptions.InvalidParameterValueException) as cm:
            lam.create_function(FunctionName="nopy", Runtime="python3.12", Role=ROLE,
                                Handler="app.handler", Code={"ZipFile": code})
        self.assertIn("The runtime parameter of python3.12 is no longer supported",
                      str(cm.exception))
        with self.assertRaises(lam.exceptions.InvalidParameterValueException):
            lam.update_function_configuration(FunctionName="had-py", Runtime="python3.13")
        self.assertEqual(lam.get_function_configuration(FunctionName="had-py")["Runtime"],
                         "python3.12")
        # provided functions still run
        lam.update_function_configuration(FunctionName="had-py", Runtime="provided.al2023")
        self.assertEqual(lam.get_function_configuration(FunctionName="had-py")["Runtime"],
                         "provided.al2023")


if __name__ == "__main__":
    unittest.main()
