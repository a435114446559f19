"""Functions, part two: concurrent changes of one function (none lost), memory
limits that leave V8 working (fetch at 128 MB; a function past its MemorySize
is stopped and reported), `tandem logs --endpoint`, packages from S3, and the
instance flags (--fn-max-instances, --fn-idle-seconds: idle reaping)."""

import base64
import concurrent.futures
import json
import os
import shutil
import subprocess
import time
import unittest

from tandem_harness import ServerTestCase, tandem_bin
from test_lambda import ROLE, shell_bootstrap, zip_of

# A bootstrap answering every invocation with its own pid, so tests can see
# which instance ran and whether it still exists: the pid the machine knows
# it by (its /proc/self/stat, read by the shell itself), as $$ is 2 in the
# instance's PID namespace.
PID_BOOTSTRAP = shell_bootstrap(
    'api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation"\n'
    'read -r pid _ < /proc/self/stat\n'
    'while true; do\n'
    '  id=$(curl -s -D - -o /dev/null "$api/next" | tr -d "\\r" |'
    ' sed -n "s/^[Ll]ambda-[Rr]untime-[Aa]ws-[Rr]equest-[Ii]d: //p")\n'
    '  sleep "${SLEEP:-0}"\n'
    '  curl -s -X POST --data "{\\"pid\\":$pid}" "$api/$id/response" >/dev/null\n'
    'done\n')


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is gone as far as the function is concerned
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class ConcurrentChangesTest(ServerTestCase):
    """Every change of a function's record is one read-modify-write in the
    store's writer: concurrent AddPermission, CreateFunctionUrlConfig,
    TagResource and UpdateFunctionConfiguration calls all land."""

    def test_no_change_is_lost(self):
        lam = self.server.boto3("lambda", max_attempts=1, read_timeout=60,
                                max_pool_connections=16)
        lam.create_function(FunctionName="busy", Runtime="provided.al2023", Role=ROLE,
                            Handler="bootstrap", Code={"ZipFile": PID_BOOTSTRAP})
        arn = lam.get_function(FunctionName="busy")["Configuration"]["FunctionArn"]
        n = 24
        calls = [lambda: lam.create_function_url_config(FunctionName="busy", AuthType="NONE"),
                 lambda: lam.update_function_configuration(FunctionName="busy",
                                                           Description="changed"),
                 lambda: lam.update_function_configuration(FunctionName="busy", Timeout=7),
                 lambda: lam.update_function_configuration(
                     FunctionName="busy", Environment={"Variables": {"A": "1"}})]
        for i in range(n):
            calls.append(lambda i=i: lam.add_permission(
                FunctionName="busy", StatementId="s%d" % i, Action="lambda:InvokeFunction",
                Principal="arn:aws:iam::123456789012:root"))
            calls.append(lambda i=i: lam.tag_resource(Resource=arn, Tags={"k%d" % i: "v%d" % i}))
        # interleave the kinds, then fire them all from 12 threads
        calls = calls[:4] + [c for pair in zip(calls[4::2], calls[5::2]) for c in pair]
        with concurrent.futures.ThreadPoolExecutor(max_workers=12) as ex:
            for f in [ex.submit(c) for c in calls]:
                f.result(timeout=60)
        cfg = lam.get_function_configuration(FunctionName="busy")
        self.assertEqual(cfg["Description"], "changed")
        self.assertEqual(cfg["Timeout"], 7)
        self.assertEqual(cfg["Environment"]["Variables"], {"A": "1"})
        self.assertTrue(lam.get_function_url_config(FunctionName="busy")["FunctionUrl"])
        sids = {s["Sid"] for s in json.loads(lam.get_policy(FunctionName="busy")["Policy"])
                ["Statement"]}
        self.assertEqual(sids, {"s%d" % i for i in range(n)})
        self.assertEqual(lam.list_tags(Resource=arn)["Tags"],
                         {"k%d" % i: "v%d" % i for i in range(n)})
        # the second URL config and a repeated statement id are refused, not lost
        with self.assertRaises(lam.exceptions.ResourceConflictException):
            lam.create_function_url_config(FunctionName="busy", AuthType="NONE")
        with self.assertRaises(lam.exceptions.ResourceConflictException):
            lam.add_permission(FunctionName="busy", StatementId="s0",
                               Action="lambda:InvokeFunction", Principal="*")
        # a change of a function deleted meanwhile is a 404, not a resurrection
        lam.delete_function(FunctionName="busy")
        with self.assertRaises(lam.exceptions.ResourceNotFoundException):
            lam.tag_resource(Resource=arn, Tags={"late": "1"})
        with self.assertRaises(lam.exceptions.ResourceNotFoundException):
            lam.get_function(FunctionName="busy")


class MemoryTest(ServerTestCase):
    """Memory is bounded by the process group's resident memory, not by an
    address-space limit, so V8 (fetch, WebAssembly) works at 128 MB."""

    def setUp(self):
        if not shutil.which("node"):
            self.skipTest("no node on PATH")
        self.lam = self.server.boto3("lambda", max_attempts=1, read_timeout=120)

    def test_node_fetch_at_128_mb(self):
        code = zip_of({"index.mjs": (
            "export const handler = async () => {\n"
            "  const r = await fetch(process.env.AWS_ENDPOINT_URL + '/');\n"
            "  return {status: r.status, text: await r.text()};\n"
            "};\n", 0o644)})
        self.lam.create_function(FunctionName="fetcher", Runtime="nodejs20.x", Role=ROLE,
                                 Handler="index.handler", MemorySize=128,
                                 Code={"ZipFile": code})
        r = self.lam.invoke(FunctionName="fetcher", Payload=b"{}", LogType="Tail")
        body = json.loads(r["Payload"].read())
        self.assertNotIn("FunctionError", r, body)
        self.assertEqual(body["status"], 200, body)
        self.assertIn("healthy", body["text"])
        log = base64.b64decode(r["LogResult"]).decode()
        self.assertIn("Memory Size: 128 MB", log)

    def test_past_memory_size_is_stopped(self):
        code = zip_of({"index.js": (
            "exports.handler = async (event) => {\n"
            "  const keep = [];\n"
            "  for (let i = 0; i < event.mb; i++) keep.push(Buffer.alloc(1 << 20, i & 255));\n"
            "  await new Promise(r => setTimeout(r, 3000));\n"
            "  return {held: keep.length};\n"
            "};\n", 0o644)})
        self.lam.create_function(FunctionName="hog", Runtime="nodejs20.x", Role=ROLE,
                                 Handler="index.handler", MemorySize=128, Timeout=30,
                                 Code={"ZipFile": code})
        t0 = time.monotonic()
        r = self.lam.invoke(FunctionName="hog", Payload=b'{"mb": 400}')
        self.assertLess(time.monotonic() - t0, 20)
        self.assertEqual(r["FunctionError"], "Unhandled")
        err = json.loads(r["Payload"].read())
        self.assertEqual(err["errorType"], "Runtime.OutOfMemory", err)
        self.assertIn("Runtime exited with error: signal: killed", err["errorMessage"])
        # the function still works within its memory
        r = self.lam.invoke(FunctionName="hog", Payload=b'{"mb": 10}')
        self.assertNotIn("FunctionError", r)
        self.assertEqual(json.loads(r["Payload"].read()), {"held": 10})

    def test_provided_runtime_children_count(self):
        # the whole process group counts: a child process that holds the memory
        code = shell_bootstrap(
            'api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation"\n'
            'id=$(curl -s -D - -o /dev/null "$api/next" | tr -d "\\r" |'
            ' sed -n "s/^[Ll]ambda-[Rr]untime-[Aa]ws-[Rr]equest-[Ii]d: //p")\n'
            'python3 -c "import time; x = b\\"y\\" * (300 << 20); time.sleep(20)"\n'
            'curl -s -X POST --data "{}" "$api/$id/response"\n')
        self.lam.create_function(FunctionName="childhog", Runtime="provided.al2023",
                                 Role=ROLE, Handler="bootstrap", MemorySize=256, Timeout=30,
                                 Code={"ZipFile": code})
        r = self.lam.invoke(FunctionName="childhog", Payload=b"{}")
        err = json.loads(r["Payload"].read())
        self.assertEqual(err.get("errorType"), "Runtime.OutOfMemory", err)


class LogsEndpointTest(ServerTestCase):
    """`tandem logs FUNCTION --endpoint URL`: signed with the environment's keys."""

    def run_logs(self, *args, env=None):
        return subprocess.run([tandem_bin(), "logs"] + list(args), capture_output=True,
                              text=True, timeout=30, env=env or self.server.env())

    def test_logs_over_http(self):
        lam = self.server.boto3("lambda", max_attempts=1, read_timeout=60)
        lam.create_function(FunctionName="talky", Runtime="provided.al2023", Role=ROLE,
                            Handler="bootstrap", Code={"ZipFile": shell_bootstrap(
                                'api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/'
                                'invocation"\n'
                                'id=$(curl -s -D - -o /dev/null "$api/next" | tr -d "\\r" |'
                                ' sed -n "s/^[Ll]ambda-[Rr]untime-[Aa]ws-[Rr]equest-[Ii]d:'
                                ' //p")\n'
                                'echo "hello from talky"\n'
                                'curl -s -X POST --data "{}" "$api/$id/response"\n'
                                'sleep 60\n')})
        lam.invoke(FunctionName="talky", Payload=b"{}")
        p = self.run_logs("talky", "--endpoint", self.server.url())
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("hello from talky", p.stdout)
        self.assertIn("START RequestId:", p.stdout)
        self.assertIn("REPORT RequestId:", p.stdout)
        # the same text as reading the data directory
        q = self.run_logs("talky", "--data", self.server.data_dir)
        self.assertEqual(q.stdout, p.stdout)
        # --follow prints what comes later
        f = subprocess.Popen([tandem_bin(), "logs", "talky", "--endpoint", self.server.url(),
                              "--follow"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=self.server.env(), text=True)
        try:
            time.sleep(1.5)
            lam.invoke(FunctionName="talky", Payload=b"{}")
            time.sleep(2.5)
        finally:
            f.terminate()
            out, _ = f.communicate(timeout=10)
        self.assertEqual(out.count("hello from talky"), 2, out)
        # unknown function, wrong keys, no keys
        p = self.run_logs("nobody", "--endpoint", self.server.url())
        self.assertEqual(p.returncode, 1)
        self.assertIn("ResourceNotFoundException", p.stderr)
        env = self.server.env(access_key="AKIAWRONGWRONGWRONG1", secret_key="x" * 40)
        p = self.run_logs("talky", "--endpoint", self.server.url(), env=env)
        self.assertEqual(p.returncode, 1)
        self.assertIn("UnrecognizedClient", p.stderr)
        env = dict(self.server.env())
        del env["AWS_ACCESS_KEY_ID"]
        p = self.run_logs("talky", "--endpoint", self.server.url(), env=env)
        self.assertEqual(p.returncode, 1)
        self.assertIn("AWS_ACCESS_KEY_ID", p.stderr)

    def test_identity_needs_get_log_events(self):
        iam = self.server.boto3("iam", max_attempts=1)
        iam.create_user(UserName="reader")
        key = iam.create_access_key(UserName="reader")["AccessKey"]
        lam = self.server.boto3("lambda", max_attempts=1, read_timeout=60)
        lam.create_function(FunctionName="secret", Runtime="provided.al2023", Role=ROLE,
                            Handler="bootstrap", Code={"ZipFile": PID_BOOTSTRAP})
        env = self.server.env(access_key=key["AccessKeyId"],
                              secret_key=key["SecretAccessKey"])
        p = subprocess.run([tandem_bin(), "logs", "secret", "--endpoint", self.server.url()],
                           capture_output=True, text=True, timeout=30, env=env)
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertIn("AccessDeniedException", p.stderr)
        iam.put_user_policy(UserName="reader", PolicyName="logs", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "logs:GetLogEvents",
                           "Resource": "arn:aws:logs:*:*:log-group:/aws/lambda/secret:*"}]}))
        deadline = time.monotonic() + 10
        while True:
            p = subprocess.run([tandem_bin(), "logs", "secret", "--endpoint",
                                self.server.url()], capture_output=True, text=True,
                               timeout=30, env=env)
            if p.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        self.assertEqual(p.returncode, 0, p.stderr)


class S3PackageTest(ServerTestCase):
    """Code.S3Bucket/S3Key from the same region's S3."""

    def test_create_and_update_from_s3(self):
        s3 = self.server.boto3("s3", max_attempts=1)
        lam = self.server.boto3("lambda", max_attempts=1, read_timeout=60)
        s3.create_bucket(Bucket="pkgs")
        s3.put_object(Bucket="pkgs", Key="fn/v1.zip", Body=PID_BOOTSTRAP)
        cfg = lam.create_function(FunctionName="froms3", Runtime="provided.al2023", Role=ROLE,
                                  Handler="bootstrap",
                                  Code={"S3Bucket": "pkgs", "S3Key": "fn/v1.zip"})
        self.assertEqual(cfg["CodeSize"], len(PID_BOOTSTRAP))
        r = lam.invoke(FunctionName="froms3", Payload=b"{}")
        self.assertNotIn("FunctionError", r)
        self.assertIn("pid", json.loads(r["Payload"].read()))
        v2 = zip_of({"bootstrap": ("#!/bin/sh\n" + (
            'api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation"\n'
            'id=$(curl -s -D - -o /dev/null "$api/next" | tr -d "\\r" |'
            ' sed -n "s/^[Ll]ambda-[Rr]untime-[Aa]ws-[Rr]equest-[Ii]d: //p")\n'
            'curl -s -X POST --data "{\\"v\\":2}" "$api/$id/response"\nsleep 60\n'), 0o755)})
        s3.put_object(Bucket="pkgs", Key="fn/v2 space.zip", Body=v2)
        cfg2 = lam.update_function_code(FunctionName="froms3", S3Bucket="pkgs",
                                        S3Key="fn/v2 space.zip")
        self.assertNotEqual(cfg2["CodeSha256"], cfg["CodeSha256"])
        r = lam.invoke(FunctionName="froms3", Payload=b"{}")
        self.assertEqual(json.loads(r["Payload"].read()), {"v": 2})
        # errors as Lambda words them
        for code, words in [({"S3Bucket": "pkgs", "S3Key": "missing.zip"},
                             "Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error "
                             "Message: The specified key does not exist."),
                            ({"S3Bucket": "nobucket", "S3Key": "x.zip"},
                             "Error occurred while GetObject. S3 Error Code: NoSuchBucket.")]:
            with self.assertRaises(lam.exceptions.InvalidParameterValueException) as cm:
                lam.create_function(FunctionName="bad-s3", Runtime="provided.al2023",
                                    Role=ROLE, Handler="bootstrap", Code=code)
            self.assertIn(words, cm.exception.response["Error"]["Message"])
        with self.assertRaises(lam.exceptions.InvalidParameterValueException):
            lam.update_function_code(FunctionName="froms3", S3Bucket="pkgs",
                                     S3Key="missing.zip")
        # an object that is not a zip
        s3.put_object(Bucket="pkgs", Key="notzip", Body=b"hello")
        with self.assertRaises(lam.exceptions.InvalidParameterValueException):
            lam.create_function(FunctionName="bad-s3", Runtime="provided.al2023", Role=ROLE,
                                Handler="bootstrap", Code={"S3Bucket": "pkgs", "S3Key": "notzip"})
        with self.assertRaises(lam.exceptions.ResourceNotFoundException):
            lam.get_function(FunctionName="bad-s3")


    def test_caller_needs_s3_get_object(self):
        s3 = self.server.boto3("s3", max_attempts=1)
        s3.create_bucket(Bucket="private-pkgs")
        s3.put_object(Bucket="private-pkgs", Key="p.zip", Body=PID_BOOTSTRAP)
        iam = self.server.boto3("iam", max_attempts=1)
        iam.create_user(UserName="deployer")
        key = iam.create_access_key(UserName="deployer")["AccessKey"]
        iam.put_user_policy(UserName="deployer", PolicyName="lambda", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "lambda:*", "Resource": "*"}]}))
        lam = self.server.boto3("lambda", max_attempts=1, read_timeout=60,
                                access_key=key["AccessKeyId"],
                                secret_key=key["SecretAccessKey"])

        def create():
            return lam.create_function(FunctionName="deployed", Runtime="provided.al2023",
                                       Role=ROLE, Handler="bootstrap",
                                       Code={"S3Bucket": "private-pkgs", "S3Key": "p.zip"})
        deadline = time.monotonic() + 10
        while True:
            try:
                create()
                self.fail("created without s3:GetObject")
            except lam.exceptions.ClientError as e:
                code = e.response["Error"]["Code"]
                if code == "AccessDeniedException" and "GetObject for private-pkgs/p.zip" in \
                        e.response["Error"]["Message"]:
                    break
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        iam.put_user_policy(UserName="deployer", PolicyName="read", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                           "Resource": "arn:aws:s3:::private-pkgs/*"}]}))
        deadline = time.monotonic() + 10
        while True:
            try:
                create()
                break
            except lam.exceptions.AccessDeniedException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        self.assertIn("FunctionArn", lam.get_function(FunctionName="deployed")["Configuration"])


class InstanceFlagsTest(ServerTestCase):
    """--fn-idle-seconds reaps idle instances; --fn-max-instances caps scale-out."""

    server_args = {"extra_args": ["--fn-idle-seconds", "1", "--fn-max-instances", "2"]}

    def test_idle_reaping_and_cap(self):
        lam = self.server.boto3("lambda", max_attempts=1, read_timeout=60,
                                max_pool_connections=8)
        lam.create_function(FunctionName="idler", Runtime="provided.al2023", Role=ROLE,
                            Handler="bootstrap", Code={"ZipFile": PID_BOOTSTRAP})
        pid = json.loads(lam.invoke(FunctionName="idler", Payload=b"{}")["Payload"].read())["pid"]
        self.assertTrue(alive(pid))
        # warm reuse right away
        again = json.loads(lam.invoke(FunctionName="idler",
                                      Payload=b"{}")["Payload"].read())["pid"]
        self.assertEqual(again, pid)
        deadline = time.monotonic() + 10
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        self.assertFalse(alive(pid), "idle instance still running after 10 s")
        fresh = json.loads(lam.invoke(FunctionName="idler", Payload=b"{}")["Payload"].read())
        self.assertNotEqual(fresh["pid"], pid)
        # six concurrent slow invocations share at most two instances
        lam.update_function_configuration(FunctionName="idler",
                                          Environment={"Variables": {"SLEEP": "1"}})
        with concurrent.futures.ThreadPoolExecutor(max_workers=6) as ex:
            outs = list(ex.map(lambda _: json.loads(lam.invoke(
                FunctionName="idler", Payload=b"{}")["Payload"].read()), range(6)))
        pids = {o["pid"] for o in outs}
        self.assertLessEqual(len(pids), 2, outs)

    def test_bad_flag_values(self):
        for args in (["--fn-idle-seconds", "0"], ["--fn-max-instances", "x"],
                     ["--fn-max-instances", ""]):
            p = subprocess.run([tandem_bin(), "server", "--data", "/nonexistent"] + args,
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertIn(args[0], p.stderr)


if __name__ == "__main__":
    unittest.main()
