"""Function isolation: a region running as root runs function instances as an
unprivileged user (--fn-user, default nobody; or one uid per function with
--fn-uid-base), with a private TMPDIR, the store and other functions' files
unreadable, and RLIMIT_NPROC containing a fork bomb while the region keeps
serving DynamoDB and other functions. Loopback only; the bomb is bounded
(RLIMIT_NPROC, a 4 s timeout, then a sweep of its uid)."""

import json
import os
import threading
import time
import unittest

from tandem_harness import ServerTestCase
from test_lambda import ROLE, shell_bootstrap, zip_of

UID_BASE = 3100000

# Answers one invocation with what the instance may and may not do.
PROBE = (
    'api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation"\n'
    'id=$(curl -s -D - -o /dev/null "$api/next" | tr -d "\\r" |'
    ' sed -n "s/^[Ll]ambda-[Rr]untime-[Aa]ws-[Rr]equest-[Ii]d: //p")\n'
    'try() { if out=$(head -c1 "$1" 2>&1 >/dev/null); then echo ok; else echo "$out"; fi; }\n'
    'cd "$TMPDIR" || exit 3\n'
    'echo x > probe.txt && w=ok || w=fail\n'
    'touch "$LAMBDA_TASK_ROOT/x" 2>/dev/null && pw=writable || pw=readonly\n'
    'ls "$DATA_DIR/functions" >/dev/null 2>&1 && l=listed || l=denied\n'
    'printf \'{"uid":"%s","gid":"%s","groups":"%s","tmp":"%s","tmpw":"%s","task":"%s",'
    '"list":"%s","store":"%s","other_pkg":"%s","other_zip":"%s","other_log":"%s",'
    '"own":"%s"}\' "$(id -u)" "$(id -g)" "$(id -G)" "$TMPDIR" "$w" "$pw" "$l" '
    '"$(try "$DATA_DIR/data.mdb")" "$(try "$OTHER_PKG/bootstrap")" "$(try "$OTHER_PKG.zip")" '
    '"$(try "$OTHER_LOG")" "$(try "$LAMBDA_TASK_ROOT/bootstrap")" > out.json\n'
    'curl -s -X POST --data-binary @out.json "$api/$id/response" >/dev/null\n'
    'sleep 60\n')

# Refuses to run as root (so a broken privilege drop can never bomb the
# machine), takes one invocation and forks without end.
BOMB = (
    '[ "$(id -u)" != 0 ] || exit 1\n'
    'curl -s -o /dev/null "http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation/next"\n'
    'b() { b | b & }\n'
    'b\n'
    'sleep 100\n')

PONG = (
    'api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation"\n'
    'while true; do\n'
    '  id=$(curl -s -D - -o /dev/null "$api/next" | tr -d "\\r" |'
    ' sed -n "s/^[Ll]ambda-[Rr]untime-[Aa]ws-[Rr]equest-[Ii]d: //p")\n'
    '  curl -s -X POST --data "{\\"uid\\":\\"$(id -u)\\"}" "$api/$id/response" >/dev/null\n'
    'done\n')


def procs_of(uids):
    """pid -> (uid, state) of live (non-zombie) processes whose real uid is in @uids."""
    out = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/status" % pid) as f:
                st = f.read()
        except OSError:
            continue
        uid = int(st.split("\nUid:")[1].split()[0])
        state = st.split("\nState:")[1].split()[0]
        if uid in uids and state != "Z":
            out[int(pid)] = (uid, state)
    return out


class IsolationBase(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("privilege drop needs a root region")
        super().setUpClass()
        cls.lam = cls.server.boto3("lambda", max_attempts=1, read_timeout=60)
        cls.ddb = cls.server.boto3("dynamodb")

    def create(self, name, script, **kw):
        return self.lam.create_function(FunctionName=name, Runtime="provided.al2023", Role=ROLE,
                                        Handler="bootstrap",
                                        Code={"ZipFile": shell_bootstrap(script)}, **kw)

    def invoke(self, name):
        r = self.lam.invoke(FunctionName=name, Payload=b"{}")
        return r, json.loads(r["Payload"].read())

    def pkg_of(self, name):
        d = os.path.join(self.server.data_dir, "functions", name)
        hexes = [x for x in os.listdir(d) if len(x) == 64]
        self.assertEqual(len(hexes), 1, hexes)
        return os.path.join(d, hexes[0])

    def probe(self, name, other):
        env = {"DATA_DIR": self.server.data_dir, "OTHER_PKG": self.pkg_of(other),
               "OTHER_LOG": os.path.join(self.server.data_dir, "functions", other, "log")}
        self.create(name, PROBE, Environment={"Variables": env})
        r, out = self.invoke(name)
        self.assertNotIn("FunctionError", r, out)
        return out

    def assertDenied(self, text):
        self.assertIn("Permission denied", text)


class DefaultUserTest(IsolationBase):
    """No flag: instances run as nobody with its primary group."""

    def test_runs_as_nobody_and_cannot_read_the_store(self):
        import pwd
        nobody = pwd.getpwnam("nobody")
        self.create("other", PONG)
        _, pong = self.invoke("other")  # it has run: its log exists
        self.assertEqual(int(pong["uid"]), nobody.pw_uid)
        out = self.probe("probe", "other")
        self.assertEqual(int(out["uid"]), nobody.pw_uid)
        self.assertEqual(int(out["gid"]), nobody.pw_gid)
        self.assertEqual(out["groups"].split(), [str(nobody.pw_gid)])  # no supplementary groups
        self.assertEqual(out["tmpw"], "ok")
        self.assertEqual(out["task"], "readonly")
        self.assertEqual(out["list"], "denied")
        self.assertEqual(out["own"], "ok")
        self.assertDenied(out["store"])
        self.assertDenied(out["other_zip"])
        self.assertDenied(out["other_log"])
        # the private TMPDIR: under the data dir, owned by the function user, gone with the instance
        tmp = out["tmp"]
        self.assertTrue(tmp.startswith(os.path.join(self.server.data_dir, "functions", ".tmp")))
        st = os.stat(tmp)
        self.assertEqual((st.st_uid, st.st_mode & 0o777), (nobody.pw_uid, 0o700))
        self.lam.delete_function(FunctionName="probe")
        deadline = time.time() + 10
        while os.path.exists(tmp) and time.time() < deadline:
            time.sleep(0.1)
        self.assertFalse(os.path.exists(tmp))
        # the store files are not readable by others at all
        self.assertEqual(os.stat(os.path.join(self.server.data_dir, "data.mdb")).st_mode & 0o7, 0)
        self.assertEqual(os.stat(self.server.data_dir).st_mode & 0o777, 0o711)


class RestrictiveUmaskTest(IsolationBase):
    """A region started with umask 077 (as a shell script that made a private file may leave
    it): its function users still read and run their packages, folders included."""

    @classmethod
    def setUpClass(cls):
        old = os.umask(0o077)
        try:
            super().setUpClass()
        finally:
            os.umask(old)

    def test_packages_are_readable_by_the_function_user(self):
        script = PONG.replace('{\\"uid\\":\\"$(id -u)\\"}', '{\\"said\\":\\"$(cat lib/said.txt)\\"}')
        self.assertNotEqual(script, PONG)
        code = zip_of({"bootstrap": ("#!/bin/sh\ncd \"$LAMBDA_TASK_ROOT\"\n" + script, 0o755),
                       "lib/said.txt": ("hello", 0o644)})
        self.lam.create_function(FunctionName="umask", Runtime="provided.al2023", Role=ROLE,
                                 Handler="bootstrap", Code={"ZipFile": code})
        r, out = self.invoke("umask")
        self.assertNotIn("FunctionError", r, out)
        self.assertEqual(out, {"said": "hello"})
        pkg = self.pkg_of("umask")
        self.assertEqual(os.stat(os.path.join(pkg, "bootstrap")).st_mode & 0o777, 0o755)
        self.assertEqual(os.stat(os.path.join(pkg, "lib")).st_mode & 0o777, 0o755)
        self.assertEqual(os.stat(os.path.join(pkg, "lib", "said.txt")).st_mode & 0o777, 0o644)


class UidPerFunctionTest(IsolationBase):
    server_args = {"extra_args": ["--fn-uid-base", str(UID_BASE)]}

    def test_other_functions_package_is_unreadable(self):
        self.create("pong-a", PONG)
        _, a = self.invoke("pong-a")
        out = self.probe("probe-b", "pong-a")
        self.assertNotEqual(out["uid"], a["uid"])
        self.assertEqual(out["uid"], out["gid"])
        self.assertGreaterEqual(int(out["uid"]), UID_BASE)
        self.assertDenied(out["other_pkg"])
        self.assertDenied(out["store"])
        self.assertEqual(out["own"], "ok")

    def test_fork_bomb_is_contained(self):
        self.ddb.create_table(TableName="bomb-t", BillingMode="PAY_PER_REQUEST",
                              AttributeDefinitions=[{"AttributeName": "k",
                                                     "AttributeType": "S"}],
                              KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}])
        self.ddb.put_item(TableName="bomb-t", Item={"k": {"S": "a"}, "v": {"S": "1"}})
        self.create("calm", PONG)
        _, calm = self.invoke("calm")
        self.assertNotEqual(calm["uid"], "0")  # never start a bomb as root
        self.create("bomb", BOMB, Timeout=4)
        uids = set(range(UID_BASE, UID_BASE + 16)) - {int(calm["uid"])}

        result = {}

        def bomb():
            try:
                result["r"] = self.invoke("bomb")
            except Exception as e:  # reported below
                result["e"] = e

        t = threading.Thread(target=bomb)
        t.start()
        lat, calls, peak = [], 0, 0
        try:
            while t.is_alive():
                t0 = time.time()
                item = self.ddb.get_item(TableName="bomb-t", Key={"k": {"S": "a"}})["Item"]
                lat.append(time.time() - t0)
                self.assertEqual(item["v"]["S"], "1")
                _, pong = self.invoke("calm")
                self.assertEqual(pong["uid"], calm["uid"])
                calls += 1
                peak = max(peak, len(procs_of(uids)))
                time.sleep(0.05)
        finally:
            t.join(30)
        self.assertNotIn("e", result)
        r, err = result["r"]
        self.assertEqual(r["FunctionError"], "Unhandled")
        self.assertTrue("Task timed out after 4.00 seconds" in err.get("errorMessage", "")
                        or err.get("errorType") == "Runtime.OutOfMemory", err)
        with open(os.path.join(self.server.data_dir, "functions", "bomb", "log")) as f:
            self.assertIn("Cannot fork", f.read())  # it ran into RLIMIT_NPROC
        self.assertLessEqual(peak, 256 + 8)  # held to it
        self.assertGreaterEqual(calls, 3)  # the region kept answering (4 s; fewer on a busy machine)
        lat.sort()
        self.assertLess(lat[len(lat) // 2], 1.0, lat)
        # nothing of the bomb's uid is left
        deadline = time.time() + 10
        left = procs_of(uids)
        while left and time.time() < deadline:
            time.sleep(0.2)
            left = procs_of(uids)
        self.assertEqual(left, {})
        print("fork bomb: peak %d processes, %d GetItem+Invoke rounds, GetItem p50 %.1f ms "
              "max %.1f ms" % (peak, calls, 1000 * lat[len(lat) // 2], 1000 * lat[-1]))
        # the region still works afterwards
        _, again = self.invoke("calm")
        self.assertEqual(again["uid"], calm["uid"])


if __name__ == "__main__":
    unittest.main()
