"""Function instances die with their region: a region killed hard (SIGKILL, as
a crash would end it) leaves no instance running, even one whose `provided`
bootstrap retries the Runtime API without end. Instances are forked from one
thread the runtime owns (their PR_SET_PDEATHSIG follows that thread), so an
instance outlives the request thread that started it. A root region gives
each instance its own PID namespace, so the processes an instance starts (a
handler's background child) die with it too. Loopback only; every loop is
bounded; whatever a failure leaves behind is killed by its marker."""

import json
import os
import shutil
import signal
import time
import unittest

from tandem_harness import Server
from test_lambda import ROLE, shell_bootstrap, zip_of

# Answers every invocation with its own pid and asks for the next one for
# ever, ignoring every error (so nothing but a signal ends it).
LOOPER = (
    'api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation"\n'
    'while true; do\n'
    '  id=$(curl -s -D - -o /dev/null "$api/next" | tr -d "\\r" |'
    ' sed -n "s/^[Ll]ambda-[Rr]untime-[Aa]ws-[Rr]equest-[Ii]d: //p")\n'
    '  curl -s -X POST --data "{\\"pid\\":$$}" "$api/$id/response" >/dev/null\n'
    'done\n')


def marked(marker):
    """pids of live (non-zombie) processes whose environment holds @marker."""
    needle = ("ORPHAN_MARKER=" + marker).encode()
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/environ" % pid, "rb") as f:
                env = f.read().split(b"\0")
            with open("/proc/%s/stat" % pid) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if needle in env and state != "Z":
            out.append(int(pid))
    return out


# LOOPER that also leaves a child running: not the instance's own process, so
# it does not die with the region.
PARENT = (
    'api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation"\n'
    'sleep 300 &\n'
    'while true; do\n'
    '  id=$(curl -s -D - -o /dev/null "$api/next" | tr -d "\\r" |'
    ' sed -n "s/^[Ll]ambda-[Rr]untime-[Aa]ws-[Rr]equest-[Ii]d: //p")\n'
    '  curl -s -X POST --data "{\\"pid\\":$$}" "$api/$id/response" >/dev/null\n'
    'done\n')


# A handler that leaves grandchildren with its namespace's init: a long one
# (`sleep 300`) and a short one that ends at once (init must reap it).
SPAWNER_PY = (
    "import os, subprocess, tempfile\n"
    "def handler(event, context):\n"
    "    subprocess.run('sleep 300 & sleep 0.1 &', shell=True, check=True)\n"
    "    path = os.path.join(tempfile.gettempdir(), 'probe')\n"
    "    with open(path, 'w') as f:\n"
    "        f.write('ok')\n"
    "    return {'pid': os.getpid(), 'ppid': os.getppid(), 'uid': os.getuid(), 'tmp': path,\n"
    "            'function': os.environ['AWS_LAMBDA_FUNCTION_NAME']}\n")

# The same from a custom bootstrap, which forks them before its first /next.
SPAWNER_SH = (
    'api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation"\n'
    "sh -c 'sleep 300 & sleep 0.1 &'\n"
    'echo ok > "$TMPDIR/probe"\n'
    'while true; do\n'
    '  id=$(curl -s -D - -o /dev/null "$api/next" | tr -d "\\r" |'
    ' sed -n "s/^[Ll]ambda-[Rr]untime-[Aa]ws-[Rr]equest-[Ii]d: //p")\n'
    '  body=$(printf \'{"pid":%d,"ppid":%d,"uid":%d,"tmp":"%s","function":"%s"}\' $$ $PPID'
    ' "$(id -u)" "$TMPDIR/probe" "$AWS_LAMBDA_FUNCTION_NAME")\n'
    '  curl -s -X POST --data "$body" "$api/$id/response" >/dev/null\n'
    'done\n')


def stat_of(pid):
    """(state, ppid) of @pid, or None once it is gone."""
    text = read_or_empty("/proc/%s/stat" % pid).decode(errors="replace")
    if ")" not in text:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return fields[0], int(fields[1])


def zombies_of(parents):
    """pids of zombies whose parent is one of @parents."""
    out = []
    for pid in os.listdir("/proc"):
        st = stat_of(pid) if pid.isdigit() else None
        if st and st[0] == "Z" and st[1] in parents:
            out.append(int(pid))
    return out


def pgid_or_none(pid):
    try:
        return os.getpgid(pid)
    except OSError:
        return None


def is_sleep(pid):
    return read_or_empty("/proc/%d/cmdline" % pid).startswith(b"sleep\0")


def read_or_empty(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""


class UnprivilegedServer(Server):
    """A region run as nobody: it may not make PID namespaces."""

    def command(self):
        return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + super().command()


class OrphanTest(unittest.TestCase):
    def setUp(self):
        self.marker = "%d-%d" % (os.getpid(), time.monotonic_ns())
        self.addCleanup(self.kill_marked)
        self.server = Server()
        self.addCleanup(self.server.cleanup)
        self.server.start()
        self.lam = self.server.boto3("lambda", max_attempts=1, read_timeout=60)

    def kill_marked(self):
        for pid in marked(self.marker):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

    def create_looper(self, name):
        self.lam.create_function(FunctionName=name, Runtime="provided.al2023", Role=ROLE,
                                 Handler="bootstrap", Code={"ZipFile": shell_bootstrap(LOOPER)},
                                 Environment={"Variables": {"ORPHAN_MARKER": self.marker}})

    def invoke(self, name):
        r = self.lam.invoke(FunctionName=name, Payload=b"{}")
        out = json.loads(r["Payload"].read())
        self.assertNotIn("FunctionError", r, out)
        return out["pid"]

    def wait_none(self, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            left = marked(self.marker)
            if not left:
                return []
            time.sleep(0.1)
        return marked(self.marker)

    def namespaced(self):
        return "event=fn_pid_namespaces" in self.server.stderr()

    def test_instances_die_with_a_killed_region(self):
        self.create_looper("looper")
        pid = self.invoke("looper")
        left = marked(self.marker)
        self.assertTrue(left)
        groups = {pgid_or_none(p) for p in left} - {None}
        self.assertEqual(len(groups), 1, left)  # one process group, led by an instance's process
        self.assertIn(groups.pop(), left)
        if self.namespaced():
            self.assertEqual(pid, 2)  # its namespace's init is PID 1
        else:
            self.assertIn(pid, left)
        self.server.kill()
        self.assertEqual(self.wait_none(5), [], "instance processes outlived the region")

    def check_grandchildren_die(self, name, runtime, handler, code):
        # a handler's own children run in the instance's PID namespace: init
        # reaps the ones that end, and a region killed hard takes every one
        # of them along (without --fn-uid-base, so no uid sweep helps)
        if not self.namespaced():
            self.skipTest("no PID namespaces here (the region is not root)")
        self.lam.create_function(FunctionName=name, Runtime=runtime, Role=ROLE, Handler=handler,
                                 Code={"ZipFile": code}, Timeout=30,
                                 Environment={"Variables": {"ORPHAN_MARKER": self.marker}})
        for _ in range(2):
            r = self.lam.invoke(FunctionName=name, Payload=b"{}")
            out = json.loads(r["Payload"].read())
            self.assertNotIn("FunctionError", r, out)
            self.assertEqual((out["pid"], out["ppid"]), (2, 1))  # under our init, PID 1
            self.assertEqual(out["function"], name)
            self.assertEqual(out["uid"], 65534)  # --fn-user's default, nobody
            self.assertTrue(out["tmp"].startswith(
                os.path.join(self.server.data_dir, "functions", ".tmp", name + "-")), out)
            with open(out["tmp"]) as f:
                self.assertEqual(f.read().strip(), "ok")
        deadline = time.monotonic() + 10
        while True:  # the long grandchildren run; the short ones were reaped
            left = marked(self.marker)
            sleeps = [p for p in left if read_or_empty("/proc/%d/cmdline" % p) == b"sleep\x00300\x00"]
            zombies = zombies_of(set(left))
            if sleeps and not zombies:
                break
            self.assertLess(time.monotonic(), deadline, (left, sleeps, zombies))
            time.sleep(0.1)
        self.server.kill()
        self.assertEqual(self.wait_none(5), [], "a handler's children outlived the region")

    def test_python_handler_children_die_with_a_killed_region(self):
        self.check_grandchildren_die("py-spawner", "python3.12", "app.handler",
                                     zip_of({"app.py": (SPAWNER_PY, 0o644)}))

    def test_bootstrap_children_die_with_a_killed_region(self):
        self.check_grandchildren_die("sh-spawner", "provided.al2023", "bootstrap",
                                     shell_bootstrap(SPAWNER_SH))

    def test_a_region_without_namespaces_runs_instances_as_before(self):
        # the fallback: logged once, the runtime is the region's own child
        # (its pid is the machine's), and it still dies with a killed region
        if os.geteuid() != 0 or not shutil.which("setpriv"):
            self.skipTest("needs root and setpriv to run a region as nobody")
        self.server.stop()
        srv = UnprivilegedServer()
        self.addCleanup(srv.cleanup)
        os.chmod(srv.tmp, 0o711)
        os.makedirs(srv.data_dir)
        os.chown(srv.data_dir, 65534, 65534)
        srv.start()
        self.assertIn("event=fn_no_pid_namespace", srv.stderr())
        lam = srv.boto3("lambda", max_attempts=1, read_timeout=60)
        lam.create_function(FunctionName="plain", Runtime="python3.12", Role=ROLE,
                            Handler="app.handler",
                            Environment={"Variables": {"ORPHAN_MARKER": self.marker}},
                            Code={"ZipFile": zip_of({"app.py": (
                                "import os\n"
                                "def handler(event, context):\n"
                                "    return {'pid': os.getpid(), 'uid': os.getuid()}\n",
                                0o644)})})
        r = lam.invoke(FunctionName="plain", Payload=b"{}")
        out = json.loads(r["Payload"].read())
        self.assertNotIn("FunctionError", r, out)
        self.assertEqual(out["uid"], 65534)
        self.assertEqual(marked(self.marker), [out["pid"]])  # one process, no shim
        self.assertEqual(os.getpgid(out["pid"]), out["pid"])
        srv.kill()
        self.assertEqual(self.wait_none(5), [], "the instance outlived the region")

    def test_a_restarted_region_sweeps_what_instances_left(self):
        # with one uid per function, the uid of a function is swept before its
        # first instance in a new run of the region: a child an instance left
        # behind when the region was killed does not outlive that
        if os.geteuid() != 0:
            self.skipTest("per-function uids need a root region")
        self.server.stop()
        self.server.extra_args += ["--fn-uid-base", "3200000"]
        self.server.start()
        self.lam = self.server.boto3("lambda", max_attempts=1, read_timeout=60)
        self.lam.create_function(FunctionName="parent", Runtime="provided.al2023", Role=ROLE,
                                 Handler="bootstrap", Code={"ZipFile": shell_bootstrap(PARENT)},
                                 Environment={"Variables": {"ORPHAN_MARKER": self.marker}})
        self.invoke("parent")
        self.server.kill()
        deadline = time.monotonic() + 5
        while True:  # until only the child is left (nothing, in a PID namespace)
            left = marked(self.marker)
            if all(is_sleep(p) for p in left):
                break
            self.assertLess(time.monotonic(), deadline, left)
            time.sleep(0.1)
        if self.namespaced():
            self.assertEqual(left, [])
        self.server.start()
        self.lam = self.server.boto3("lambda", max_attempts=1, read_timeout=60)
        self.invoke("parent")
        self.assertEqual([p for p in marked(self.marker) if p in left], [])

    def test_handler_mid_invocation_dies_with_a_killed_region(self):
        self.lam.create_function(
            FunctionName="sleeper", Runtime="python3.12", Role=ROLE, Handler="app.handler",
            Timeout=300, Environment={"Variables": {"ORPHAN_MARKER": self.marker}},
            Code={"ZipFile": zip_of({"app.py": ("import time\n"
                                                "def handler(event, context):\n"
                                                "    print('sleeping', flush=True)\n"
                                                "    time.sleep(600)\n", 0o644)})})
        r = self.lam.invoke(FunctionName="sleeper", InvocationType="Event", Payload=b"{}")
        self.assertEqual(r["StatusCode"], 202)
        log = os.path.join(self.server.data_dir, "functions", "sleeper", "log")
        deadline = time.monotonic() + 30
        while b"sleeping" not in read_or_empty(log):
            self.assertLess(time.monotonic(), deadline, self.server.stderr_tail())
            time.sleep(0.1)
        self.assertTrue(marked(self.marker))
        self.server.kill()
        self.assertEqual(self.wait_none(5), [], "instance processes outlived the region")

    def test_instance_outlives_the_thread_that_started_it(self):
        # each invocation comes on a new connection (its own request thread,
        # which may end); the instance started by the first serves the later ones
        self.create_looper("keeper")
        first = self.invoke("keeper")
        for _ in range(3):
            time.sleep(0.5)
            self.assertEqual(self.invoke("keeper"), first)
        self.lam.close()
        self.lam = self.server.boto3("lambda", max_attempts=1, read_timeout=60)
        self.assertEqual(self.invoke("keeper"), first)
        self.server.stop()  # a clean shutdown still ends it, with no sanitizer report
        self.assertEqual(self.wait_none(5), [])

    def test_instance_outlives_the_pool_thread_that_started_it(self):
        # an event source mapping invokes from a job-pool thread, which ends
        # once its batch is done; the instance it started must live on
        iam = self.server.boto3("iam")
        ddb = self.server.boto3("dynamodb")
        iam.create_role(RoleName="orphan-esm", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole"}]}))
        iam.put_role_policy(RoleName="orphan-esm", PolicyName="p", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*", "Action": [
                "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:DescribeStream",
                "dynamodb:ListStreams"]}]}))
        arn = ddb.create_table(
            TableName="orphan-src", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
        )["TableDescription"]["LatestStreamArn"]
        self.lam.create_function(
            FunctionName="esm-keeper", Runtime="python3.12", Handler="app.handler",
            Role="arn:aws:iam::%s:role/orphan-esm" % self.server.account,
            Code={"ZipFile": zip_of({"app.py": ("def handler(event, context):\n"
                                                "    return None\n", 0o644)})},
            Environment={"Variables": {"ORPHAN_MARKER": self.marker}})
        uuid = self.lam.create_event_source_mapping(
            FunctionName="esm-keeper", EventSourceArn=arn, StartingPosition="TRIM_HORIZON",
            BatchSize=1)["UUID"]
        ddb.put_item(TableName="orphan-src", Item={"pk": {"S": "a"}})
        deadline = time.monotonic() + 30
        while self.lam.get_event_source_mapping(UUID=uuid)["LastProcessingResult"] != "OK":
            self.assertLess(time.monotonic(), deadline, self.server.stderr_tail())
            time.sleep(0.1)
        started = sorted(marked(self.marker))
        self.assertTrue(started)
        time.sleep(2)  # the pool thread has long ended
        self.assertEqual(sorted(marked(self.marker)), started)
        self.server.kill()
        self.assertEqual(self.wait_none(5), [], "instance processes outlived the region")


if __name__ == "__main__":
    unittest.main()
