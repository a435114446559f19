"""A switch and one network namespace per region, for partition tests.

Every namespace and link is created here and deleted by teardown(), also
after a failure. Addresses are in 10.213.N.0/24 and exist only inside the
namespaces made here; nothing is added to the host's own namespace (veth
pairs are born there, unaddressed, and moved at once)."""

import os
import subprocess


def run(*args, check=True):
    return subprocess.run(list(args), capture_output=True, text=True, check=check, timeout=30)


def available():
    """None when `ip netns` works here, else the reason."""
    name = "tdmprobe%d" % os.getpid()
    try:
        p = run("ip", "netns", "add", name, check=False)
        if p.returncode != 0:
            return "ip netns add is not permitted: " + p.stderr.strip()
        p = run("ip", "-n", name, "link", "add", "br0", "type", "bridge", check=False)
        if p.returncode != 0:
            return "no bridge support in network namespaces: " + p.stderr.strip()
        return None
    except (OSError, subprocess.TimeoutExpired) as e:
        return "ip is not usable: %s" % e
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)


class Topology:
    def __init__(self, regions):
        tag = os.getpid() % 10000
        self.sw = "tdm%dsw" % tag
        self.subnet = 10 + os.getpid() % 200
        self.ns = {}
        self.addr = {}
        self.port = {}
        self.created = []
        try:
            run("ip", "netns", "add", self.sw)
            self.created.append(self.sw)
            run("ip", "-n", self.sw, "link", "add", "br0", "type", "bridge")
            run("ip", "-n", self.sw, "link", "set", "br0", "up")
            for i, r in enumerate(regions):
                ns = "tdm%dr%d" % (tag, i)
                run("ip", "netns", "add", ns)
                self.created.append(ns)
                a, b = "tv%d_%d" % (tag, i), "tp%d_%d" % (tag, i)
                run("ip", "link", "add", a, "type", "veth", "peer", "name", b)
                run("ip", "link", "set", a, "netns", ns)
                run("ip", "link", "set", b, "netns", self.sw)
                addr = "10.213.%d.%d" % (self.subnet, i + 1)
                run("ip", "-n", ns, "addr", "add", addr + "/24", "dev", a)
                run("ip", "-n", ns, "link", "set", a, "up")
                run("ip", "-n", ns, "link", "set", "lo", "up")
                run("ip", "-n", self.sw, "link", "set", b, "master", "br0")
                run("ip", "-n", self.sw, "link", "set", b, "up")
                self.ns[r] = ns
                self.addr[r] = addr
                self.port[r] = 8000 + i
                self.link = getattr(self, "link", {})
                self.link[r] = b
        except Exception:
            self.teardown()
            raise

    def partition(self, region):
        run("ip", "-n", self.sw, "link", "set", self.link[region], "down")

    def heal(self, region):
        run("ip", "-n", self.sw, "link", "set", self.link[region], "up")

    def url(self, region):
        return "http://%s:%d" % (self.addr[region], self.port[region])

    def exec_argv(self, region, argv):
        return ["ip", "netns", "exec", self.ns[region]] + list(argv)

    def teardown(self):
        for ns in reversed(self.created):
            subprocess.run(["ip", "netns", "pids", ns], capture_output=True)
            p = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True)
            for pid in p.stdout.split():
                subprocess.run(["kill", "-9", pid], capture_output=True)
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        self.created = []
