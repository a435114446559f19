"""Authentication failures on IAM and STS requests, answered as those services
answer them: query-protocol XML (<ErrorResponse><Error><Type>Sender</Type>
<Code>...</Code>), HTTP 403, with the codes botocore and the aws CLI parse:
InvalidClientTokenId, SignatureDoesNotMatch (also for a skewed clock: "Signature
expired"), ExpiredToken, MissingAuthenticationToken."""

import datetime
import json
import subprocess
import time
import unittest
import urllib.parse
import xml.etree.ElementTree as ET

from tandem_harness import ServerTestCase, find_clients, fresh_credentials, sigv4_sign

ACCOUNT = "123456789012"
FORM = "application/x-www-form-urlencoded; charset=utf-8"
CALLS = {"iam": ("ListUsers", "2010-05-08", "https://iam.amazonaws.com/doc/2010-05-08/"),
         "sts": ("GetCallerIdentity", "2011-06-15",
                 "https://sts.amazonaws.com/doc/2011-06-15/")}


def aws_cli():
    for c in find_clients():
        if c.kind == "cli" and not c.missing:
            return c.argv
    return None


class IamAuth(ServerTestCase):
    server_args = {"account": ACCOUNT, "extra_args": ["--sts-min-duration", "2"]}

    def query(self, service, sign=True, when=None, access_key=None, secret_key=None,
              scope_region=None):
        """POST one query-protocol call to @service; returns (status, code, type, message)."""
        action, version, ns = CALLS[service]
        body = urllib.parse.urlencode({"Action": action, "Version": version}).encode()
        h = {"Host": "127.0.0.1:%d" % self.server.port, "Content-Type": FORM}
        if sign:
            h = sigv4_sign("POST", "/", h, body, access_key or self.server.access_key,
                           secret_key or self.server.secret_key, scope_region or self.server.region,
                           service, when)
        conn = self.server.connection()
        try:
            conn.request("POST", "/", body=body, headers=h)
            r = conn.getresponse()
            status, ctype, raw = r.status, r.getheader("Content-Type", ""), r.read()
        finally:
            conn.close()
        self.assertIn("xml", ctype, raw)
        root = ET.fromstring(raw)
        self.assertEqual(root.tag, "{%s}ErrorResponse" % ns, raw)
        err = root.find("{%s}Error" % ns)
        get = lambda n: err.find("{%s}%s" % (ns, n)).text
        self.assertIsNotNone(root.find("{%s}RequestId" % ns), raw)
        return status, get("Code"), get("Type"), get("Message")

    def boto_code(self, service, **kw):
        c = self.server.boto3(service, **kw)
        with self.assertRaises(c.exceptions.ClientError) as cm:
            if service == "iam":
                c.list_users()
            else:
                c.get_caller_identity()
        return (cm.exception.response["ResponseMetadata"]["HTTPStatusCode"],
                cm.exception.response["Error"]["Code"])

    def cli_code(self, service, access_key, secret_key, token=None):
        cli = aws_cli()
        if not cli:
            self.skipTest("no aws CLI on this machine")
        env = self.server.env(access_key=access_key, secret_key=secret_key)
        if token:
            env["AWS_SESSION_TOKEN"] = token
        args = ["iam", "list-users"] if service == "iam" else ["sts", "get-caller-identity"]
        p = subprocess.run(cli + args + ["--endpoint-url", self.server.url()], env=env,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=120)
        self.assertNotEqual(p.returncode, 0, p.stdout)
        self.assertIn("An error occurred (", p.stderr)
        return p.stderr.split("An error occurred (", 1)[1].split(")", 1)[0]

    def test_unknown_key(self):
        for service in CALLS:
            with self.subTest(service=service):
                status, code, typ, msg = self.query(service, access_key=fresh_credentials()[0])
                self.assertEqual((status, code, typ), (403, "InvalidClientTokenId", "Sender"))
                self.assertEqual(msg, "The security token included in the request is invalid.")
                self.assertEqual(self.boto_code(service, access_key="AKIAUNKNOWNUNKNOWN00"),
                                 (403, "InvalidClientTokenId"))
                self.assertEqual(self.cli_code(service, *fresh_credentials()),
                                 "InvalidClientTokenId")

    def test_wrong_secret(self):
        wrong = "wrong" + self.server.secret_key[5:]
        for service in CALLS:
            with self.subTest(service=service):
                status, code, typ, _ = self.query(service, secret_key=wrong)
                self.assertEqual((status, code, typ), (403, "SignatureDoesNotMatch", "Sender"))
                self.assertEqual(self.boto_code(service, secret_key=wrong),
                                 (403, "SignatureDoesNotMatch"))
                self.assertEqual(self.cli_code(service, self.server.access_key, wrong),
                                 "SignatureDoesNotMatch")

    def test_skewed_clock(self):
        """IAM and STS call a request signed over 15 minutes away from now
        SignatureDoesNotMatch with "Signature expired: ...", as AWS does."""
        now = datetime.datetime.now(datetime.timezone.utc)
        for service in CALLS:
            for minutes in (-20, 20):
                with self.subTest(service=service, minutes=minutes):
                    status, code, typ, msg = self.query(
                        service, when=now + datetime.timedelta(minutes=minutes))
                    self.assertEqual((status, code, typ),
                                     (403, "SignatureDoesNotMatch", "Sender"))
                    self.assertIn("Signature ", msg)

    def test_missing_authentication(self):
        """An unsigned call (no Authorization header, no presigned query) is
        MissingAuthenticationToken in the service's XML, not DynamoDB's JSON."""
        for service in CALLS:
            with self.subTest(service=service):
                status, code, typ, msg = self.query(service, sign=False)
                self.assertEqual((status, code, typ),
                                 (403, "MissingAuthenticationToken", "Sender"))
                self.assertEqual(msg, "Request is missing Authentication Token")

    def test_wrong_region_in_scope(self):
        for service in CALLS:
            with self.subTest(service=service):
                status, code, _, _ = self.query(service, scope_region="eu-west-9")
                self.assertEqual((status, code), (403, "SignatureDoesNotMatch"))

    def test_session_tokens(self):
        """A made-up session token is InvalidClientTokenId; a session past its
        expiry is ExpiredToken, through boto3 and the aws CLI."""
        iam = self.server.boto3("iam")
        iam.create_user(UserName="tok-user")
        k = iam.create_access_key(UserName="tok-user")["AccessKey"]
        caller = (k["AccessKeyId"], k["SecretAccessKey"])
        trust = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "sts:AssumeRole",
            "Principal": {"AWS": "arn:aws:iam::%s:user/tok-user" % ACCOUNT}}]}
        role = iam.create_role(RoleName="tok-role",
                               AssumeRolePolicyDocument=json.dumps(trust))["Role"]
        sts = self.server.boto3("sts", access_key=caller[0], secret_key=caller[1],
                                parameter_validation=False)
        deadline = time.time() + 30
        while True:  # a new key may take a moment to be usable; bounded
            try:
                cr = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="short",
                                     DurationSeconds=3)["Credentials"]
                break
            except sts.exceptions.ClientError:
                if time.time() > deadline:
                    raise
                time.sleep(0.5)
        import boto3
        import botocore.config
        cfg = botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"})

        def with_token(service, token):
            return boto3.session.Session().client(
                service, region_name=self.server.region, endpoint_url=self.server.url(),
                aws_access_key_id=cr["AccessKeyId"], aws_secret_access_key=cr["SecretAccessKey"],
                aws_session_token=token, config=cfg)

        self.assertEqual(with_token("sts", cr["SessionToken"]).get_caller_identity()["Arn"],
                         "arn:aws:sts::%s:assumed-role/tok-role/short" % ACCOUNT)
        for service in CALLS:
            with self.subTest(service=service, token="made up"):
                c = with_token(service, "bm90IGEgdG9rZW4=")
                with self.assertRaises(c.exceptions.ClientError) as cm:
                    c.list_users() if service == "iam" else c.get_caller_identity()
                self.assertEqual(cm.exception.response["Error"]["Code"], "InvalidClientTokenId")
                self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"],
                                 403)
        time.sleep(4)
        for service in CALLS:
            with self.subTest(service=service, token="expired"):
                c = with_token(service, cr["SessionToken"])
                with self.assertRaises(c.exceptions.ClientError) as cm:
                    c.list_users() if service == "iam" else c.get_caller_identity()
                self.assertEqual(cm.exception.response["Error"]["Code"], "ExpiredToken")
                self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"],
                                 403)
                self.assertEqual(self.cli_code(service, cr["AccessKeyId"],
                                               cr["SecretAccessKey"], cr["SessionToken"]),
                                 "ExpiredToken")


if __name__ == "__main__":
    unittest.main()
