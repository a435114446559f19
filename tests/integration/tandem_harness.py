"""tandem_harness - start real `tandem server` processes for integration tests.

Standard library only. A test does:

    srv = Server(tls=True).start()      # free ports, temp data dir, fresh keys;
                                         # returns once the server logged event=ready
    ...                                  # srv.url(), srv.url(tls=True), srv.env()
    srv.stop()                           # SIGTERM, exit status 0, nothing from ASan

The binary is $TANDEM_BIN (set by ctest), else build-ci/, build/ or
build-integ/ under the repository. Clients (the aws CLI v1 and v2, boto3 from
each python3, the AWS SDK for JavaScript v3) are found by find_clients(); a
missing one is reported with a reason so the test can skip it.

Diagnostics: any test (of a process importing this module) that fails or
errors prints the stderr tail of each server that ran for it; when the
failure is a timed-out call, every running server's threads (gdb backtraces)
first. `with srv.dump_on_timeout(): ...` dumps at the moment a call inside
times out; srv.report_hang() dumps on demand.
"""

import atexit
import datetime
import functools
import hashlib
import hmac
import http.client
import json
import os
import random
import shutil
import signal
import socket
import ssl
import string
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
JS_DIR = os.path.join(ROOT, "tests", "js")
DDB_TARGET = "DynamoDB_20120810."
DDB_CONTENT_TYPE = "application/x-amz-json-1.0"
# In-process clients (boto3) must not pick up the machine's AWS profile, config
# file or endpoint overrides: every client here is configured explicitly.
for _k in [k for k in os.environ if k.startswith("AWS_")]:
    del os.environ[_k]
os.environ.update({"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                   "AWS_EC2_METADATA_DISABLED": "true"})

SANITIZER_MARKS = (
    "ERROR: AddressSanitizer",
    "ERROR: LeakSanitizer",
    "runtime error:",
    "SUMMARY: UndefinedBehaviorSanitizer",
    "SUMMARY: AddressSanitizer",
)


def tandem_bin():
    env = os.environ.get("TANDEM_BIN")
    if env:
        return env
    for d in ("build-ci", "build", "build-integ"):
        p = os.path.join(ROOT, d, "src", "cli", "tandem")
        if os.access(p, os.X_OK):
            return p
    raise unittest.SkipTest("no tandem binary: set TANDEM_BIN or build first")


_GIVEN_PORTS = set()


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port():
    """A port on 127.0.0.1 that nothing holds now, for a server started later.

    It comes from below the kernel's ephemeral range, so that a socket bound
    to port 0 (a test's proxy) or a client's outgoing connection can never be
    given it in the meantime, and it is never handed out twice by one test
    process. $TANDEM_TEST_PORTS ("LOW-HIGH") narrows the choice to that range,
    for a developer who shares the machine and was given ports to use."""
    low = _ephemeral_low()
    first = max(1024, low - 12000)
    if os.environ.get("TANDEM_TEST_PORTS"):
        first, low = (int(x) for x in os.environ["TANDEM_TEST_PORTS"].split("-"))
        low += 1
    rnd = random.SystemRandom()
    for _ in range(500):
        port = rnd.randrange(first, low)
        if port in _GIVEN_PORTS:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _GIVEN_PORTS.add(port)
        return port
    raise RuntimeError("no free port below %d on 127.0.0.1" % low)


def random_key(n, alphabet=string.ascii_uppercase + string.digits):
    rnd = random.SystemRandom()
    return "".join(rnd.choice(alphabet) for _ in range(n))


def fresh_credentials():
    """A new (access key id, secret access key) pair, shaped like AWS's."""
    return ("AKIA" + random_key(16),
            random_key(40, string.ascii_letters + string.digits + "/+"))


@functools.lru_cache(maxsize=None)
def tls_material():
    """(cert path, key path): a self-signed cert for CN=localhost with SANs
    IP:127.0.0.1 and DNS:localhost, made once per test process (removed when
    it exits)."""
    d = tempfile.mkdtemp(prefix="tandem-tls-")
    atexit.register(shutil.rmtree, d, True)  # the test process's servers are gone by then
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256",
         "-days", "2", "-keyout", key, "-out", cert, "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign",
         "-addext", "extendedKeyUsage=serverAuth"],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


class ServerError(AssertionError):
    pass


_RUNNING = set()  # servers still running when the test process exits get SIGKILL
_SPAWNED = []  # every server started, in order (a failing test reports the ones it ran)
STDERR_TAIL_LINES = 80
# how long a server may take to be ready (a loaded machine, ASan: seconds, not
# the usual fraction of one), and how often start() tries a new port
START_TIMEOUT = float(os.environ.get("TANDEM_TEST_START_TIMEOUT") or 60)
START_ATTEMPTS = 3
# what a client's exception or a traceback says when the server did not answer in time
TIMEOUT_MARKS = ("ReadTimeoutError", "ConnectTimeoutError", "Read timed out", "timed out",
                 "TimeoutExpired", "TimeoutError")


@atexit.register
def _kill_leftovers():
    for s in list(_RUNNING):
        s.kill()


class Server:
    """One `tandem server` process. Every argument is optional."""

    def __init__(self, region="us-east-1", tls=False, data_dir=None,
                 credentials_file=None, account="123456789012", extra_args=(),
                 threads=None, log_level="info", keys_in_env=False):
        self.region = region
        self.tls = tls
        self.account = account
        self.tmp = tempfile.mkdtemp(prefix="tandem-it-")
        self.data_dir = data_dir or os.path.join(self.tmp, "data")
        self.access_key, self.secret_key = fresh_credentials()
        self.credentials_file = credentials_file
        self.extra_args = list(extra_args)
        self.threads = threads
        self.log_level = log_level
        self.keys_in_env = keys_in_env
        self.proc = None
        self.port = self.tls_port = None
        self.stderr_path = None
        self.starts = 0
        self.last_tail = ""  # the stderr tail kept by cleanup(), which removes the file
        self.dumps = 0  # thread dumps written (report_hang)

    # -- lifecycle -----------------------------------------------------------

    def command(self):
        cmd = [tandem_bin(), "server", "--region", self.region, "--data", self.data_dir,
               "--listen", "127.0.0.1:%d" % self.port,
               "--account", self.account, "--log-level", self.log_level]
        if not self.keys_in_env:
            cmd += ["--access-key", self.access_key, "--secret-key", self.secret_key]
        if self.tls:
            cert, key = tls_material()
            cmd += ["--tls-listen", "127.0.0.1:%d" % self.tls_port,
                    "--tls-cert", cert, "--tls-key", key]
        if self.credentials_file:
            cmd += ["--credentials", self.credentials_file]
        if self.threads:
            cmd += ["--threads", str(self.threads)]
        return cmd + self.extra_args

    def spawn(self):
        """Start the process without waiting for it (new ports each time)."""
        self.port = free_port()
        self.tls_port = free_port() if self.tls else None
        self.starts += 1
        self.stderr_path = os.path.join(self.tmp, "stderr.%d.log" % self.starts)
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:strict_string_checks=1")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
        env.pop("TANDEM_ACCESS_KEY_ID", None)
        env.pop("TANDEM_SECRET_ACCESS_KEY", None)
        if self.keys_in_env:
            env["TANDEM_ACCESS_KEY_ID"] = self.access_key
            env["TANDEM_SECRET_ACCESS_KEY"] = self.secret_key
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL,
                                         stdout=err, stderr=err, env=env)
        _RUNNING.add(self)
        _SPAWNED.append(self)
        return self

    def start(self, timeout=None):
        """spawn() and wait_healthy(). A server that could not listen because
        another process took its port after free_port() chose it (other test
        processes pick ports from the same range) is started again on new
        ports, at most START_ATTEMPTS times in all."""
        for attempt in range(1, START_ATTEMPTS + 1):
            self.spawn()
            try:
                self.wait_healthy(timeout)
                return self
            except ServerError:
                if attempt == START_ATTEMPTS or not self.lost_port():
                    raise
                sys.stderr.write("tandem server: port %s was taken before it listened; "
                                 "starting it again on new ports\n" % self.port)
        return self

    def lost_port(self):
        """The server exited because its port was taken (its fatal error)."""
        return (self.proc is None or self.proc.poll() is not None) and \
            "Address already in use" in self.stderr_tail(lines=5)

    def wait_healthy(self, timeout=None):
        """Wait until the server is ready, on its own signal: the `event=ready`
        line it logs once every listener (HTTPS too) is bound and every module
        is open, then GET / answering "healthy" (a server whose log level hides
        that line: GET / on each of its ports). Waits at most @timeout seconds
        (START_TIMEOUT: 60, or $TANDEM_TEST_START_TIMEOUT); polls every few ms
        at first, so a quick start is seen at once. When the server exits or
        the time is up, raises ServerError with its stderr tail (and, when it
        hangs, its threads' backtraces), and the hung server is killed."""
        timeout = timeout or START_TIMEOUT
        started = time.monotonic()
        deadline = started + timeout
        ready, offset, pause = self.log_level not in ("debug", "info"), 0, 0.005
        while True:
            if self.proc.poll() is not None:
                raise ServerError("tandem server exited with %s before it was ready "
                                  "(after %.1fs); its stderr, last %d lines:\n%s"
                                  % (self.proc.returncode, time.monotonic() - started,
                                     STDERR_TAIL_LINES, self.stderr_tail()))
            if not ready:
                ready, offset = self._logged_ready(offset)
            if ready and self._answers_health():
                return
            if time.monotonic() > deadline:
                what = ("not healthy" if ready else "no event=ready") + \
                    " after %ss (port %s)" % (timeout, self.port)
                self.report_hang("tandem server not ready: " + what)
                self.kill()
                raise ServerError("tandem server %s; its stderr, last %d lines:\n%s"
                                  % (what, STDERR_TAIL_LINES, self.stderr_tail()))
            time.sleep(pause)
            pause = min(pause * 2, 0.05)

    def _logged_ready(self, offset):
        """(whether stderr has the `event=ready` line, where to read next):
        reads what came after @offset, up to its last complete line."""
        try:
            with open(self.stderr_path, "rb") as f:
                f.seek(offset)
                text = f.read()
        except OSError:
            return False, offset
        end = text.rfind(b"\n") + 1
        return b" event=ready " in text[:end], offset + end

    def _answers_health(self):
        ports = [False, True] if self.tls and self.log_level not in ("debug", "info") else [False]
        try:
            for tls in ports:
                status, body = self.health(tls=tls)
                if status != 200 or not body.startswith("healthy"):
                    return False
            return True
        except (OSError, http.client.HTTPException):
            return False

    def health(self, tls=False):
        conn = self.connection(tls=tls, timeout=5)
        try:
            conn.request("GET", "/")
            r = conn.getresponse()
            return r.status, r.read().decode("utf-8", "replace")
        finally:
            conn.close()

    def stderr(self):
        if not self.stderr_path or not os.path.exists(self.stderr_path):
            return ""
        with open(self.stderr_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stderr_tail(self, lines=STDERR_TAIL_LINES, max_bytes=64 * 1024):
        """The last @lines lines of the current stderr log (reads at most
        @max_bytes from its end), or what cleanup() kept of it."""
        if not self.stderr_path or not os.path.exists(self.stderr_path):
            return self.last_tail
        with open(self.stderr_path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - max_bytes))
            text = f.read().decode("utf-8", "replace")
        return "\n".join(text.splitlines()[-lines:])

    def pid(self):
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else None

    def thread_dump(self, timeout=90):
        """Every thread's backtrace of the running server (gdb attaches for a
        moment and detaches), as text; a reason instead when there is none."""
        pid = self.pid()
        if pid is None:
            return "(no running tandem server to attach to)"
        gdb = shutil.which("gdb")
        if not gdb:
            return "(gdb is not installed: no thread dump of pid %d)" % pid
        try:
            p = subprocess.run([gdb, "-p", str(pid), "-batch", "-nx", "-q",
                                "-ex", "set pagination off", "-ex", "thread apply all bt"],
                               stdin=subprocess.DEVNULL, capture_output=True, text=True,
                               timeout=timeout)
            return p.stdout + (("\n" + p.stderr) if p.returncode else "")
        except subprocess.TimeoutExpired:
            return "(gdb did not finish within %ss)" % timeout
        except OSError as e:
            return "(gdb failed: %s)" % e

    def report_hang(self, what="a client call timed out", out=None):
        """Write the server's thread backtraces and its stderr tail to @out
        (stderr: ctest shows it with the failure)."""
        out = out or sys.stderr
        self.dumps += 1
        out.write("\n===== %s: tandem server pid %s (port %s), all threads =====\n%s\n"
                  % (what, self.pid(), self.port, self.thread_dump()))
        out.write("===== its stderr, last %d lines =====\n%s\n===== end =====\n"
                  % (STDERR_TAIL_LINES, self.stderr_tail()))
        out.flush()

    def dump_on_timeout(self):
        """Context manager around client calls: when one times out (botocore,
        http.client, subprocess), dump the server's threads, then re-raise.

            with self.server.dump_on_timeout():
                self.ddb.put_item(...)
        """
        return _DumpOnTimeout(self)

    def sanitizer_report(self):
        text = self.stderr()
        return text if any(m in text for m in SANITIZER_MARKS) else ""

    def stop(self, timeout=30):
        """SIGTERM; the server must exit 0 with no sanitizer report."""
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        _RUNNING.discard(self)
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                raise ServerError("tandem server ignored SIGTERM for %ss:\n%s"
                                  % (timeout, self.stderr()))
        report = self.sanitizer_report()
        if report:
            raise ServerError("sanitizer report from tandem server:\n" + report)
        if proc.returncode != 0:
            raise ServerError("tandem server exited with %s after SIGTERM:\n%s"
                              % (proc.returncode, self.stderr()))

    def kill(self):
        """SIGKILL (a crash): no exit status or leak check."""
        _RUNNING.discard(self)
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def cleanup(self):
        self.last_tail = self.stderr_tail()
        self.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- addressing ----------------------------------------------------------

    def url(self, tls=False):
        if tls:
            return "https://127.0.0.1:%d" % self.tls_port
        return "http://127.0.0.1:%d" % self.port

    def metrics(self):
        """(status, text) of GET /_tandem/metrics (unsigned: from loopback)."""
        conn = self.connection(timeout=10)
        try:
            conn.request("GET", "/_tandem/metrics")
            r = conn.getresponse()
            return r.status, r.read().decode()
        finally:
            conn.close()

    def connection(self, tls=False, timeout=30):
        if tls:
            cert, _ = tls_material()
            ctx = ssl.create_default_context(cafile=cert)
            return http.client.HTTPSConnection("127.0.0.1", self.tls_port, timeout=timeout,
                                               context=ctx)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def env(self, tls=False, access_key=None, secret_key=None):
        """Environment for a client process talking to this server."""
        env = client_env(self.region, access_key or self.access_key,
                         secret_key or self.secret_key, self.tmp)
        env["TANDEM_ENDPOINT"] = self.url(tls)
        if tls:
            cert, _ = tls_material()
            env["AWS_CA_BUNDLE"] = cert
            env["NODE_EXTRA_CA_CERTS"] = cert
        return env

    def boto3(self, service="dynamodb", tls=False, access_key=None, secret_key=None,
              **config):
        """An in-process boto3 client (skips the test when boto3 is absent)."""
        try:
            import boto3
            import botocore.config
        except ImportError:
            raise unittest.SkipTest("boto3 is not importable from %s" % sys.executable)
        cfg = botocore.config.Config(retries={"max_attempts": config.pop("max_attempts", 1),
                                              "mode": "standard"}, **config)
        verify = tls_material()[0] if tls else None
        return boto3.session.Session().client(
            service, region_name=self.region, endpoint_url=self.url(tls),
            aws_access_key_id=access_key or self.access_key,
            aws_secret_access_key=secret_key or self.secret_key,
            config=cfg, verify=verify)

    def session_boto3(self, service, creds, **config):
        """A boto3 client with temporary credentials @creds (STS's Credentials:
        AccessKeyId, SecretAccessKey, SessionToken)."""
        import boto3
        import botocore.config
        cfg = botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"}, **config)
        return boto3.session.Session().client(
            service, region_name=self.region, endpoint_url=self.url(),
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"], config=cfg)

    # -- raw, hand-signed requests -------------------------------------------

    def raw(self, op=None, body=b"", headers=None, sign=True, access_key=None,
            secret_key=None, when=None, content_type=DDB_CONTENT_TYPE, target=None,
            tls=False, timeout=30):
        """POST / with @body; returns (status, headers dict, body bytes)."""
        if isinstance(body, str):
            body = body.encode()
        h = {"Host": "127.0.0.1:%d" % (self.tls_port if tls else self.port)}
        if content_type is not None:
            h["Content-Type"] = content_type
        if target is None and op is not None:
            target = DDB_TARGET + op
        if target is not None:
            h["X-Amz-Target"] = target
        if sign:
            h = sigv4_sign("POST", "/", h, body, access_key or self.access_key,
                           secret_key or self.secret_key, self.region, "dynamodb", when)
        h.update(headers or {})
        conn = self.connection(tls=tls, timeout=timeout)
        try:
            conn.request("POST", "/", body=body, headers=h)
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()


def is_timeout(exc_or_text):
    """True when an exception (or a formatted traceback) says a call timed out."""
    if isinstance(exc_or_text, (socket.timeout, TimeoutError, subprocess.TimeoutExpired)):
        return True
    return any(m in str(exc_or_text) or m in type(exc_or_text).__name__ for m in TIMEOUT_MARKS)


class _DumpOnTimeout:
    def __init__(self, server):
        self.server = server

    def __enter__(self):
        return self.server

    def __exit__(self, typ, exc, tb):
        if exc is not None and is_timeout(exc):
            self.server.report_hang("%s: %s" % (typ.__name__, exc))
        return False


def client_env(region, access_key, secret_key, tmp):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AWS_") and k not in ("NODE_EXTRA_CA_CERTS",)}
    env.update({
        "AWS_ACCESS_KEY_ID": access_key,
        "AWS_SECRET_ACCESS_KEY": secret_key,
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "AWS_CONFIG_FILE": os.path.join(tmp, "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(tmp, "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_PAGER": "",
        "AWS_MAX_ATTEMPTS": "2",
    })
    return env


# -- SigV4 by hand (stdlib), for raw requests and a skewed clock ---------------

def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def sigv4_sign(method, path, headers, body, access_key, secret_key, region, service,
               when=None):
    """Return @headers plus X-Amz-Date and Authorization (SigV4, header form)."""
    when = when or datetime.datetime.now(datetime.timezone.utc)
    amz_date = when.strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    h = dict(headers)
    h["X-Amz-Date"] = amz_date
    canon = sorted((k.lower(), " ".join(str(v).split())) for k, v in h.items())
    signed = ";".join(k for k, _ in canon)
    creq = "\n".join([method, path, "",
                      "".join("%s:%s\n" % kv for kv in canon), signed,
                      hashlib.sha256(body).hexdigest()])
    scope = "%s/%s/%s/aws4_request" % (day, region, service)
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                     hashlib.sha256(creq.encode()).hexdigest()])
    k = _hmac(("AWS4" + secret_key).encode(), day)
    k = _hmac(_hmac(_hmac(k, region), service), "aws4_request")
    sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    h["Authorization"] = ("AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s"
                          % (access_key, scope, signed, sig))
    return h


def error_type(body):
    """The short error name of an AWS JSON error body ("ValidationException")."""
    doc = json.loads(body)
    return doc["__type"].rsplit("#", 1)[-1]


# -- the client matrix ----------------------------------------------------------

def _kebab(op):
    out = ""
    for i, c in enumerate(op):
        if c.isupper() and i:
            out += "-"
        out += c.lower()
    return out


class ClientFailed(Exception):
    def __init__(self, code, message):
        super().__init__("%s: %s" % (code, message))
        self.code = code


class Client:
    """A way to call DynamoDB from a separate process: call(server, tls, op, params)
    returns the response as a dict (DynamoDB JSON) or raises ClientFailed."""

    def __init__(self, name, argv, kind, missing=None):
        self.name, self.argv, self.kind, self.missing = name, argv, kind, missing

    def call(self, server, tls, op, params):
        env = server.env(tls)
        if self.kind == "cli":
            cmd = self.argv + ["dynamodb", _kebab(op), "--endpoint-url", server.url(tls),
                               "--output", "json", "--cli-input-json", json.dumps(params)]
        else:
            cmd = self.argv + [op, json.dumps(params)]
        p = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=120)
        if p.returncode != 0:
            out = p.stdout.strip()
            if self.kind != "cli" and out.startswith("{"):
                err = json.loads(out)
                raise ClientFailed(err.get("error"), err.get("message"))
            text = p.stderr
            code = "unknown"
            if "An error occurred (" in text:
                code = text.split("An error occurred (", 1)[1].split(")", 1)[0]
            raise ClientFailed(code, "%s failed (%d): %s %s"
                               % (" ".join(cmd[:4]), p.returncode, text, p.stdout))
        out = p.stdout.strip()
        return json.loads(out) if out else {}


def _python_has(python, module):
    try:
        return subprocess.run([python, "-c", "import " + module], capture_output=True,
                              timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _machine_python3():
    for p in (shutil.which("python3"), "/root/.pyenv/shims/python3", sys.executable):
        if p and os.access(p, os.X_OK):
            return p
    return None


@functools.lru_cache(maxsize=None)
def find_clients():
    """Every DynamoDB client on the machine, each with .missing set when absent."""
    clients = []
    py = _machine_python3()
    candidates = [p for p in (shutil.which("python3"), "/root/.pyenv/shims/python3")
                  if p and os.access(p, os.X_OK)]
    v1 = next((p for p in candidates if _python_has(p, "awscli")), None)
    clients.append(Client("aws-cli-v1", [v1, "-m", "awscli"] if v1 else None, "cli",
                          None if v1 else "no python3 on PATH has the awscli module"))
    v2, why = None, "no /usr/bin/aws (Debian's awscli package)"
    for p in ("/usr/bin/aws", shutil.which("aws")):
        if p and os.access(p, os.X_OK):
            try:
                out = subprocess.run([p, "--version"], capture_output=True, text=True,
                                     timeout=60, env=dict(os.environ, AWS_PAGER=""))
                if "aws-cli/2" in out.stdout + out.stderr:
                    v2 = p
                    break
                why = "%s is not aws-cli/2" % p
            except (OSError, subprocess.TimeoutExpired) as e:
                why = str(e)
    clients.append(Client("aws-cli-v2", [v2] if v2 else None, "cli", None if v2 else why))
    script = os.path.join(HERE, "ddb_boto3_client.py")
    for name, p in (("boto3-machine-python3", py), ("boto3-debian-python3", "/usr/bin/python3")):
        ok = p and os.access(p, os.X_OK) and _python_has(p, "boto3")
        clients.append(Client(name, [p, script] if ok else None, "sdk",
                              None if ok else "%s has no boto3" % p))
    node = shutil.which("node")
    sdk = os.path.join(JS_DIR, "node_modules", "@aws-sdk", "client-dynamodb")
    if not node:
        clients.append(Client("js-sdk-v3", None, "sdk", "no node on PATH"))
    elif not os.path.isdir(sdk):
        clients.append(Client("js-sdk-v3", None, "sdk",
                              "tests/js/node_modules missing: run npm ci in tests/js"))
    else:
        clients.append(Client("js-sdk-v3", [node, os.path.join(JS_DIR, "ddb_client.mjs")],
                              "sdk"))
    return clients


class ServerTestCase(unittest.TestCase):
    """One server per test class (setUpClass), stopped and checked at the end."""

    server_args = {}

    @classmethod
    def setUpClass(cls):
        cls.server = Server(**cls.server_args)
        # runs even when setUpClass fails after this point (then no tearDownClass)
        cls.addClassCleanup(cls.server.cleanup)
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()  # the class cleanup removes its files

    def aws_cli(self, argv, service, *args):
        """Run the aws CLI @argv (a find_clients() entry's argv) on @service
        against the server with its root keys; the test fails on a non-zero
        exit. Returns its JSON output ({} when it printed none)."""
        p = subprocess.run(list(argv) + [service] + list(args) + [
            "--endpoint-url", self.server.url(), "--output", "json"],
            env=self.server.env(), capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout) if p.stdout.strip() else {}

    def assertAwsError(self, status, body, code, http_status=400):
        self.assertEqual(status, http_status, body)
        self.assertEqual(error_type(body), code, body)


_unittest_run = unittest.TestCase.run


def _run_reporting(self, result=None):
    """unittest.TestCase.run for every test of a process that imports this
    module: a test that fails or errors gets the stderr tail of each server
    that ran for it (those still running, as a class's, and those it started)
    in its output; when the failure is a timed-out call, the running ones'
    thread backtraces (gdb) too. Passing tests cost nothing more."""
    if result is None or not hasattr(result, "failures"):
        return _unittest_run(self, result)
    seen = len(result.failures) + len(result.errors)
    mark = len(_SPAWNED)
    dumps = {id(s): s.dumps for s in _SPAWNED}
    out = _unittest_run(self, result)
    new = (result.failures + result.errors)[seen:]
    if new:
        servers = [s for i, s in enumerate(_SPAWNED) if i >= mark or s in _RUNNING]
        # a dump_on_timeout() block already dumped what hung
        dumped = any(s.dumps > dumps.get(id(s), 0) for s in servers)
        report_failure(self.id(), servers,
                       not dumped and any(is_timeout(text) for _, text in new))
    return out


unittest.TestCase.run = _run_reporting


def report_failure(test_id, servers, timed_out, out=None):
    """What a failed test prints about its servers: each one's stderr tail;
    after a timeout, each running one's thread backtraces first."""
    out = out or sys.stderr
    done = set()
    for srv in servers:
        if id(srv) in done:
            continue
        done.add(id(srv))
        if timed_out and srv.pid() is not None:
            srv.report_hang("%s timed out" % test_id, out)
            continue
        out.write("\n===== %s failed: tandem server (port %s), stderr, last %d lines =====\n"
                  "%s\n===== end =====\n" % (test_id, srv.port, STDERR_TAIL_LINES,
                                               srv.stderr_tail()))
    out.flush()
