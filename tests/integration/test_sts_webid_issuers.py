"""STS AssumeRoleWithWebIdentity and the issuer's server: trusted through a
certificate authority (no thumbprint matches) when the server's CA store holds
it (`--oidc-ca-file`, a CA this test makes: the machine's own store is never
touched), and ServiceUnavailable when every worker waits on a stalled issuer
and the queue behind them is full. Real servers, boto3 and curl."""
import json
import shutil
import subprocess
import tempfile
import threading
import time
import unittest

import botocore.exceptions

from tandem_harness import Server, ServerTestCase, tandem_bin
from test_sts_webid import ACCOUNT, CLIENT, TRUST, Issuer, TestCA, x509

WRONG_THUMBPRINT = "ab" * 20


def trust_for(provider, host):
    trust = json.loads(json.dumps(TRUST).replace("{p}", host))
    trust["Statement"][0]["Principal"]["Federated"] = provider
    return json.dumps(trust)


def register(server, issuer, role):
    """A provider for @issuer (a thumbprint that matches none of its
    certificates) and a role @role trusting it; returns the role's ARN."""
    iam = server.boto3("iam")
    provider = iam.create_open_id_connect_provider(
        Url=issuer.url(), ClientIDList=[CLIENT],
        ThumbprintList=[WRONG_THUMBPRINT])["OpenIDConnectProviderArn"]
    return iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust_for(
        provider, "127.0.0.1:%d" % issuer.port))["Role"]["Arn"]


@unittest.skipIf(x509 is None, "python3 cryptography is not installed")
class SystemCaTrust(ServerTestCase):
    """The issuer's certificate is signed by a CA in the server's CA store:
    trusted without a thumbprint; the same issuer self-signed is not."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tandem-oidc-ca-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.ca = TestCA(cls.tmp)
        cls.server_args = {"account": ACCOUNT, "extra_args": ["--oidc-ca-file", cls.ca.path]}
        super().setUpClass()
        cls.signed = Issuer(ca=cls.ca)
        cls.addClassCleanup(cls.signed.stop)
        cls.self_signed = Issuer()
        cls.addClassCleanup(cls.self_signed.stop)
        cls.signed_role = register(cls.server, cls.signed, "by-ca")
        cls.self_signed_role = register(cls.server, cls.self_signed, "by-self")

    def assume(self, server, role, token, session="ca-run"):
        return server.boto3("sts").assume_role_with_web_identity(
            RoleArn=role, RoleSessionName=session, WebIdentityToken=token)

    def test_issuer_signed_by_a_trusted_ca(self):
        r = self.assume(self.server, self.signed_role, self.signed.token())
        self.assertEqual(r["AssumedRoleUser"]["Arn"],
                         "arn:aws:sts::%s:assumed-role/by-ca/ca-run" % ACCOUNT)
        self.assertTrue(r["Credentials"]["AccessKeyId"].startswith("ASIA"))
        # trusted through the store, not the (wrong) thumbprint
        self.assertNotIn("event=oidc_thumbprint_trust", self.server.stderr())

    def test_self_signed_issuer_needs_its_thumbprint(self):
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.assume(self.server, self.self_signed_role, self.self_signed.token())
        err = cm.exception.response["Error"]
        self.assertEqual(err["Code"], "InvalidIdentityToken")
        self.assertIn("thumbprint", err["Message"])

    def test_ca_outside_the_store_is_not_trusted(self):
        """A server with the system's store alone does not know the test's CA."""
        other = Server(account=ACCOUNT)
        self.addCleanup(other.cleanup)
        other.start()
        self.addCleanup(other.stop)
        role = register(other, self.signed, "by-ca")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.assume(other, role, self.signed.token())
        self.assertEqual(cm.exception.response["Error"]["Code"], "InvalidIdentityToken")
        self.assertIn("thumbprint", cm.exception.response["Error"]["Message"])


@unittest.skipIf(x509 is None, "python3 cryptography is not installed")
class FullWorkerQueue(ServerTestCase):
    """One worker and one waiting place: while the worker waits on an issuer
    that never answers and a second call waits for it, a third call is
    answered ServiceUnavailable at once; once they are done, calls are served
    again."""

    server_args = {"account": ACCOUNT,
                   "extra_args": ["--sts-webid-workers", "1", "--sts-webid-queue", "1"]}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.issuer = Issuer()
        cls.addClassCleanup(cls.issuer.stop)
        cls.role = register(cls.server, cls.issuer, "stalled")

    def call(self, token, out, name):
        sts = self.server.boto3("sts", read_timeout=60)
        try:
            sts.assume_role_with_web_identity(RoleArn=self.role, RoleSessionName=name,
                                              WebIdentityToken=token)
            out[name] = ("ok", 200)
        except botocore.exceptions.ClientError as e:
            out[name] = (e.response["Error"]["Code"],
                         e.response["ResponseMetadata"]["HTTPStatusCode"])

    def test_service_unavailable_when_the_queue_is_full(self):
        token = self.issuer.token()
        self.issuer.stall()
        out = {}
        first = threading.Thread(target=self.call, args=(token, out, "first"))
        first.start()
        deadline = time.time() + 10
        while not self.issuer.stalled:  # the worker is in the issuer's hands
            self.assertLess(time.time(), deadline, "the server never reached the issuer")
            time.sleep(0.05)
        second = threading.Thread(target=self.call, args=(token, out, "second"))
        second.start()
        time.sleep(0.5)  # queued behind the first
        # the third, by curl: the GET form, unsigned
        t0 = time.time()
        res = subprocess.run(
            ["curl", "-sS", "-w", "\n%{http_code}", "-G", self.server.url() + "/",
             "--data-urlencode", "Action=AssumeRoleWithWebIdentity",
             "--data-urlencode", "Version=2011-06-15",
             "--data-urlencode", "RoleArn=" + self.role,
             "--data-urlencode", "RoleSessionName=third",
             "--data-urlencode", "WebIdentityToken=" + token],
            capture_output=True, text=True, timeout=30, check=True)
        body, _, status = res.stdout.rpartition("\n")
        self.assertEqual(status, "503", body)
        self.assertIn("<Code>ServiceUnavailable</Code>", body)
        self.assertIn("Too many calls are waiting for their identity providers", body)
        self.assertLess(time.time() - t0, 3)  # answered at once, not after the issuer
        first.join(60)
        second.join(60)
        self.assertEqual(out["first"], ("IDPCommunicationError", 400))
        self.assertEqual(out["second"], ("IDPCommunicationError", 400))
        # the queue has drained: a call is served (the issuer's failure, remembered)
        self.call(token, out, "fourth")
        self.assertEqual(out["fourth"], ("IDPCommunicationError", 400))


class Flags(unittest.TestCase):
    def test_bad_worker_and_queue_sizes_are_refused(self):
        for flag in ("--sts-webid-workers", "--sts-webid-queue"):
            for value in ("0", "x", "100001"):
                with self.subTest(flag=flag, value=value):
                    out = subprocess.run(
                        [tandem_bin(), "server", "--region", "us-east-1", "--data",
                         "/nonexistent", "--listen", "127.0.0.1:0", flag, value],
                        capture_output=True, text=True, timeout=30)
                    self.assertEqual(out.returncode, 2, out.stderr)
                    self.assertIn("%s must be a whole number from 1 to 100000" % flag, out.stderr)


if __name__ == "__main__":
    unittest.main()
