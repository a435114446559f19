"""The harness's diagnostics for failures and hangs: a failed test prints its
servers' stderr tail; a call that times out dumps the server's threads (gdb).
And its start-up: ready on the server's own signal, every listener included; a
port taken before the server listened is retried; a failed start shows why."""

import io
import os
import shutil
import signal
import socket
import time
import unittest

import tandem_harness
from tandem_harness import Server, ServerTestCase


def load_tests(loader, tests, pattern):
    """Only Diagnostics: _Failing fails on purpose, run by Diagnostics."""
    suite = loader.loadTestsFromTestCase(Diagnostics)
    suite.addTests(loader.loadTestsFromTestCase(StartUp))
    return suite


class _Failing(ServerTestCase):
    """Run by the tests below with a server of its own."""

    def test_fails(self):
        self.assertEqual(self.server.health()[0], 200)
        self.fail("on purpose")

    def test_times_out(self):
        # a stopped process accepts (the kernel does) but never answers; the
        # stop reaches each thread in its own time, so wait until the kernel
        # reports every one stopped (state T), or a busy machine lets a
        # thread answer first
        pid = self.server.proc.pid
        os.kill(pid, signal.SIGSTOP)
        for _ in range(500):
            states = []
            for tid in os.listdir("/proc/%d/task" % pid):
                try:
                    with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                        states.append(f.read().rsplit(")", 1)[1].split()[0])
                except FileNotFoundError:  # a thread that ended meanwhile
                    pass
            if all(st == "T" for st in states):
                break
            time.sleep(0.01)
        try:
            self.server.raw("ListTables", "{}", timeout=1)
        finally:
            os.kill(pid, signal.SIGCONT)

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


class StartUp(unittest.TestCase):
    def test_ready_means_every_listener_answers(self):
        srv = Server(tls=True).start()
        self.addCleanup(srv.cleanup)
        # no wait of the test's own: HTTPS is bound after HTTP, before event=ready
        self.assertEqual(srv.health(tls=True)[0], 200)
        self.assertEqual(srv.health()[0], 200)
        self.assertIn(" event=ready ", srv.stderr())
        srv.stop()

    def test_taken_port_starts_again_on_another(self):
        taken = socket.socket()
        self.addCleanup(taken.close)
        taken.bind(("127.0.0.1", tandem_harness.free_port()))
        taken.listen()
        given = [taken.getsockname()[1]]
        real = tandem_harness.free_port

        def first_the_taken_one():
            return given.pop() if given else real()

        tandem_harness.free_port = first_the_taken_one
        err = io.StringIO()
        real_err, tandem_harness.sys.stderr = tandem_harness.sys.stderr, err
        try:
            srv = Server()
            self.addCleanup(srv.cleanup)
            srv.start()
        finally:
            tandem_harness.free_port = real
            tandem_harness.sys.stderr = real_err
        self.assertEqual(srv.starts, 2)
        self.assertNotEqual(srv.port, taken.getsockname()[1])
        self.assertIn("port %d was taken" % taken.getsockname()[1], err.getvalue())
        self.assertEqual(srv.health()[0], 200)
        srv.stop()

    def test_failed_start_shows_the_servers_words(self):
        srv = Server(extra_args=["--no-such-flag"])
        self.addCleanup(srv.cleanup)
        with self.assertRaises(tandem_harness.ServerError) as cm:
            srv.start(timeout=30)
        msg = str(cm.exception)
        self.assertIn("exited with", msg)
        self.assertIn("no-such-flag", msg)  # the server's own words
        self.assertEqual(srv.starts, 1)  # not a port problem: not started again

    def test_no_ready_in_time_is_a_timeout_with_the_log(self):
        srv = Server()
        self.addCleanup(srv.cleanup)
        err = io.StringIO()
        real, tandem_harness.sys.stderr = tandem_harness.sys.stderr, err
        srv.spawn()
        os.kill(srv.proc.pid, signal.SIGSTOP)  # never ready
        try:
            with self.assertRaises(tandem_harness.ServerError) as cm:
                srv.wait_healthy(timeout=1)
        finally:
            tandem_harness.sys.stderr = real
        self.assertIn("after 1s", str(cm.exception))
        self.assertIsNone(srv.proc)  # killed


if __name__ == "__main__":
    unittest.main()
