"""The harness's diagnostics for failures and hangs: a failed test prints its
servers' stderr tail; a call that times out dumps the server's threads (gdb)."""

import io
import os
import shutil
import signal
import socket
import unittest

import tandem_harness
from tandem_harness import Server, ServerTestCase


def load_tests(loader, tests, pattern):
    """Only Diagnostics: _Failing fails on purpose, run by Diagnostics."""
    return loader.loadTestsFromTestCase(Diagnostics)


class _Failing(ServerTestCase):
    """Run by the tests below with a server of its own."""

    def test_fails(self):
        self.assertEqual(self.server.health()[0], 200)
        self.fail("on purpose")

    def test_times_out(self):
        # a stopped process accepts (the kernel does) but never answers
        os.kill(self.server.proc.pid, signal.SIGSTOP)
        try:
            self.server.raw("ListTables", "{}", timeout=1)
        finally:
            os.kill(self.server.proc.pid, signal.SIGCONT)

    def test_passes(self):
        self.assertEqual(self.server.health()[0], 200)


class _PlainFailing(unittest.TestCase):
    """Any test case: its own server, removed by a cleanup before the report."""

    def test_fails_with_own_server(self):
        srv = Server().start()
        self.addCleanup(srv.cleanup)
        self.assertEqual(srv.health()[0], 200)
        self.fail("on purpose")


def run_case(name, cls=_Failing):
    """Run cls.@name; (result, stderr text)."""
    err = io.StringIO()
    real, tandem_harness.sys.stderr = tandem_harness.sys.stderr, err
    try:
        suite = unittest.TestSuite([cls(name)])
        result = unittest.TestResult()
        suite.run(result)
    finally:
        tandem_harness.sys.stderr = real
    return result, err.getvalue()


class Diagnostics(unittest.TestCase):
    def test_failure_prints_stderr_tail(self):
        result, out = run_case("test_fails")
        self.assertEqual(len(result.failures), 1, result.failures)
        self.assertIn("test_fails failed: tandem server", out)
        self.assertIn("event=", out)  # the server's own log lines
        self.assertNotIn("all threads", out)  # no gdb for a plain failure

    def test_any_test_case_reports_the_servers_it_started(self):
        result, out = run_case("test_fails_with_own_server", _PlainFailing)
        self.assertEqual(len(result.failures), 1, result.failures)
        self.assertIn("test_fails_with_own_server failed: tandem server", out)
        self.assertIn("event=ready", out)  # kept by cleanup, which removed the file

    def test_pass_prints_nothing(self):
        result, out = run_case("test_passes")
        self.assertTrue(result.wasSuccessful(), result.errors + result.failures)
        self.assertEqual(out, "")

    def test_timeout_dumps_threads(self):
        if not shutil.which("gdb"):
            self.skipTest("no gdb")
        result, out = run_case("test_times_out")
        self.assertEqual(len(result.errors), 1, result.failures)
        if "Operation not permitted" in out:
            self.skipTest("gdb may not attach here (ptrace)")
        self.assertIn("timed out", result.errors[0][1])
        self.assertIn("all threads", out)
        self.assertIn("Thread 1", out)
        self.assertIn("main", out)  # a frame of the server's main thread

    def test_dump_on_timeout_reraises_after_the_dump(self):
        if not shutil.which("gdb"):
            self.skipTest("no gdb")
        srv = Server().start()
        self.addCleanup(srv.cleanup)
        err = io.StringIO()
        os.kill(srv.proc.pid, signal.SIGSTOP)
        real, tandem_harness.sys.stderr = tandem_harness.sys.stderr, err
        try:
            with self.assertRaises(socket.timeout):
                with srv.dump_on_timeout():
                    srv.raw("ListTables", "{}", timeout=1)
        finally:
            tandem_harness.sys.stderr = real
            os.kill(srv.proc.pid, signal.SIGCONT)
        self.assertEqual(srv.dumps, 1)
        # other errors pass through untouched, with no dump
        with self.assertRaises(ValueError):
            with srv.dump_on_timeout():
                raise ValueError("not a timeout")
        self.assertEqual(srv.dumps, 1)
        if "Operation not permitted" in err.getvalue():
            self.skipTest("gdb may not attach here (ptrace)")
        self.assertIn("timed out: tandem server pid %d" % srv.proc.pid, err.getvalue())
        self.assertIn("Thread ", err.getvalue())
        self.assertIn("event=", err.getvalue())  # and the stderr tail
        srv.stop()


if __name__ == "__main__":
    unittest.main()
