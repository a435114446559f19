"""Helpers for the stack-engine suites: a project folder, the tandem CLI, clients."""
import json
import os
import shutil
import signal
import subprocess
import tempfile

import boto3
from botocore.config import Config

from tandem_harness import tandem_bin

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Project:
    """A temporary project folder holding a Tandem.yaml, driven by `tandem`."""

    def __init__(self, text=None, copy_from=None, env=None):
        self.dir = tempfile.mkdtemp(prefix="tandem-stack-")
        if copy_from:
            shutil.copytree(copy_from, self.dir, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns(".tandem"))
        if text is not None:
            self.write(text)
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("AWS_") and k not in ("ENVIRONMENT_SUFFIX",
                                                              "TANDEM_ACCESS_KEY_ID",
                                                              "TANDEM_SECRET_ACCESS_KEY")}
        self.env.setdefault("ASAN_OPTIONS", "detect_leaks=1:strict_string_checks=1")
        self.env.update(env or {})

    def write(self, text):
        with open(os.path.join(self.dir, "Tandem.yaml"), "w") as f:
            f.write(text)

    def run(self, *args, check=None, timeout=300):
        p = subprocess.run([tandem_bin()] + list(args), cwd=self.dir, env=self.env,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=timeout)
        if check is not None and p.returncode != check:
            raise AssertionError("tandem %s exited %d, wanted %d\nstdout:\n%s\nstderr:\n%s"
                                 % (" ".join(args), p.returncode, check, p.stdout, p.stderr))
        return p

    def json(self, *args, check=0):
        p = self.run(*(list(args) + ["--json"]), check=check)
        return json.loads(p.stdout)

    def state(self, stack="dev"):
        path = os.path.join(self.dir, ".tandem", "stacks", stack, "state.json")
        if not os.path.exists(path):
            return {"resources": [], "outputs": {}}
        with open(path) as f:
            return json.load(f)

    def credentials(self):
        with open(os.path.join(self.dir, ".tandem", "credentials.json")) as f:
            c = json.load(f)
        return c["accessKeyId"], c["secretAccessKey"]

    def endpoint(self, region):
        return self.run("endpoint", region, check=0).stdout.strip()

    def client(self, service, region, endpoint=None):
        ak, sk = self.credentials()
        return boto3.client(service, region_name=region,
                            endpoint_url=endpoint or self.endpoint(region),
                            aws_access_key_id=ak, aws_secret_access_key=sk,
                            config=Config(retries={"max_attempts": 1},
                                          s3={"addressing_style": "path"}))

    def server_pids(self, stack="dev"):
        pids = []
        d = os.path.join(self.dir, ".tandem", "stacks", stack, "regions")
        if os.path.isdir(d):
            for r in os.listdir(d):
                p = os.path.join(d, r, "pid")
                if os.path.exists(p):
                    with open(p) as f:
                        pids.append(int(f.read().strip() or 0))
        return pids

    def cleanup(self):
        """Stop local regions left running by a failed test, then remove the folder."""
        for pid in self.server_pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)


def alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:  # a zombie is not alive
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split()[2] != "Z"
    except OSError:
        return False


def region_project(test, program, region="us-east-1"):
    """A started `tandem server` for @region and a Project of @program whose config
    `url` names it, both cleaned up with @test; returns (server, project)."""
    from tandem_harness import Server

    server = Server(region=region)
    server.start()
    test.addCleanup(server.cleanup)
    p = Project(program, env={"TANDEM_ACCESS_KEY_ID": server.access_key,
                              "TANDEM_SECRET_ACCESS_KEY": server.secret_key})
    test.addCleanup(p.cleanup)
    p.run("config", "set", "url", server.url(), check=0)
    return server, p
