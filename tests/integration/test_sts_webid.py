"""STS AssumeRoleWithWebIdentity against the account's OpenID Connect
providers. The test runs its own OIDC issuer: an HTTPS server on 127.0.0.1
with a self-signed certificate (trusted by the SHA-1 thumbprint registered on
the provider, as IAM defines it), serving the discovery document and the key
set; tokens are signed here with RSA and EC keys. A good token gives role
credentials that work on DynamoDB and S3 (also after a restart), limited by
session policies; every kind of bad token gets STS's error; boto3 and the aws
CLI v2 both call it unsigned."""
import base64
import datetime
import hashlib
import http.server
import ipaddress
import json
import os
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import botocore.config
import botocore.exceptions

from tandem_harness import ServerTestCase, free_port

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
    from cryptography.x509.oid import NameOID
except ImportError:  # pragma: no cover
    x509 = None

ACCOUNT = "210987654321"
CLIENT = "harbor-deployer"
AWS_CLI = "/usr/bin/aws"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def int_bytes(n, size=None):
    size = size or (n.bit_length() + 7) // 8
    return n.to_bytes(size, "big")


class Issuer:
    """An OIDC issuer on 127.0.0.1 (HTTPS, self-signed, or signed by @ca, a
    TestCA): it serves /.well-known/openid-configuration and /keys under each
    of its paths."""

    def __init__(self, ca=None):
        self.port = free_port()
        self.tls_key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "harbor issuer")])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name)
                .issuer_name(ca.name if ca else name)
                .public_key(self.tls_key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(hours=1))
                .not_valid_after(now + datetime.timedelta(days=2))
                .add_extension(x509.SubjectAlternativeName(
                    [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
                .sign(ca.key if ca else self.tls_key, hashes.SHA256()))
        self.thumbprint = hashlib.sha1(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
        # the TLS context keeps what it loaded: the files live only for that
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with tempfile.TemporaryDirectory(prefix="tandem-oidc-") as d:
            cert_path, key_path = os.path.join(d, "c.pem"), os.path.join(d, "k.pem")
            with open(cert_path, "wb") as f:
                f.write(cert.public_bytes(serialization.Encoding.PEM))
            with open(key_path, "wb") as f:
                f.write(self.tls_key.private_bytes(serialization.Encoding.PEM,
                                                   serialization.PrivateFormat.PKCS8,
                                                   serialization.NoEncryption()))
            ctx.load_cert_chain(cert_path, key_path)
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP256R1())
        self.keys = [self.jwk_rsa("rsa-1", self.rsa), self.jwk_ec("ec-1", self.ec)]
        self.fetches = self.discoveries = 0
        issuer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                base = "https://127.0.0.1:%d" % issuer.port
                path = self.path
                prefix = path.rsplit("/.well-known/", 1)[0] if "/.well-known/" in path else \
                    path[:-len("/keys")] if path.endswith("/keys") else None
                if prefix is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                status = 200
                if path.endswith("/openid-configuration"):
                    issuer.discoveries += 1
                    body = {"issuer": base + prefix, "jwks_uri": base + prefix + "/keys",
                            "id_token_signing_alg_values_supported": ["RS256", "ES256"]}
                    # issuers that answer, but not as OpenID Connect says
                    if prefix == "/gone":
                        status = 404
                    elif prefix == "/no-jwks-uri":
                        del body["jwks_uri"]
                    elif prefix == "/plain-jwks-uri":
                        body["jwks_uri"] = "http://127.0.0.1:%d/keys" % issuer.port
                    elif prefix == "/not-json":
                        body = "<html>maintenance</html>"
                    elif prefix == "/huge":
                        body = {"padding": "x" * (1 << 20)}
                else:
                    issuer.fetches += 1
                    body = {"keys": issuer.keys} if prefix != "/no-keys" else {"key": []}
                data = json.dumps(body).encode() if not isinstance(body, str) else body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path=""):
        return "https://127.0.0.1:%d%s" % (self.port, path)

    def stall(self):
        """From now on accept connections on the issuer's port and never say
        a word (not even TLS's), until stop()."""
        import socket
        self.httpd.shutdown()
        self.httpd.server_close()
        self.stalled = []
        self.hold = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.hold.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.hold.bind(("127.0.0.1", self.port))
        self.hold.listen(16)

        def hold():
            while True:
                try:
                    conn, _ = self.hold.accept()
                except OSError:
                    return
                self.stalled.append(conn)

        threading.Thread(target=hold, daemon=True).start()

    def stop(self):
        if hasattr(self, "stalled"):
            import socket
            self.hold.shutdown(socket.SHUT_RDWR)
            self.hold.close()
            for conn in self.stalled:
                conn.close()
            return
        self.httpd.shutdown()
        self.httpd.server_close()

    @staticmethod
    def jwk_rsa(kid, key):
        n = key.public_key().public_numbers()
        return {"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
                "n": b64url(int_bytes(n.n)), "e": b64url(int_bytes(n.e))}

    @staticmethod
    def jwk_ec(kid, key):
        n = key.public_key().public_numbers()
        return {"kty": "EC", "kid": kid, "crv": "P-256",
                "x": b64url(int_bytes(n.x, 32)), "y": b64url(int_bytes(n.y, 32))}

    def token(self, path="", claims=None, kid="rsa-1", alg="RS256", key=None, drop=()):
        now = int(time.time())
        body = {"iss": self.url(path), "aud": CLIENT, "sub": "repo:harbor/cranes:ref:main",
                "iat": now - 5, "nbf": now - 5, "exp": now + 600}
        body.update(claims or {})
        for k in drop:
            body.pop(k, None)
        header = {"alg": alg, "typ": "JWT"}
        if kid is not None:
            header["kid"] = kid
        signing = (b64url(json.dumps(header).encode()) + "." +
                   b64url(json.dumps(body).encode())).encode()
        if alg == "ES256":
            r, s = decode_dss_signature((key or self.ec).sign(signing, ec.ECDSA(hashes.SHA256())))
            sig = int_bytes(r, 32) + int_bytes(s, 32)
        else:
            sig = (key or self.rsa).sign(signing, padding.PKCS1v15(), hashes.SHA256())
        return signing.decode() + "." + b64url(sig)


class TestCA:
    """A certificate authority made by the test, for issuers it signs."""

    def __init__(self, tmp):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tandem test CA")])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(self.name).issuer_name(self.name)
                .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(hours=1))
                .not_valid_after(now + datetime.timedelta(days=2))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(x509.KeyUsage(
                    digital_signature=True, key_cert_sign=True, crl_sign=True,
                    content_commitment=False, key_encipherment=False, data_encipherment=False,
                    key_agreement=False, encipher_only=False, decipher_only=False),
                    critical=True)
                .sign(self.key, hashes.SHA256()))
        self.path = os.path.join(tmp, "oidc-ca.pem")
        with open(self.path, "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))


TRUST = {
    "Version": "2012-10-17",
    "Statement": [{
        "Effect": "Allow",
        "Principal": {"Federated": None},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {"{p}:aud": CLIENT},
                      "StringLike": {"{p}:sub": "repo:harbor/cranes:*"}},
    }],
}

ROLE_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["dynamodb:*", "s3:*"], "Resource": "*"}]})


@unittest.skipIf(x509 is None, "python3 cryptography is not installed")
class StsWebIdentity(ServerTestCase):
    server_args = {"account": ACCOUNT}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.issuer = Issuer()
        cls.addClassCleanup(cls.issuer.stop)
        iam = cls.server.boto3("iam")
        cls.host = "127.0.0.1:%d" % cls.issuer.port
        cls.provider = iam.create_open_id_connect_provider(
            Url=cls.issuer.url(), ClientIDList=[CLIENT, "other-client"],
            ThumbprintList=[cls.issuer.thumbprint])["OpenIDConnectProviderArn"]
        # the same server under another path, registered with a wrong thumbprint
        iam.create_open_id_connect_provider(Url=cls.issuer.url("/untrusted"),
                                            ClientIDList=[CLIENT], ThumbprintList=["ab" * 20])
        # issuers whose documents are not usable
        for path in ("/gone", "/no-jwks-uri", "/plain-jwks-uri", "/not-json", "/huge",
                     "/no-keys"):
            iam.create_open_id_connect_provider(Url=cls.issuer.url(path), ClientIDList=[CLIENT],
                                                ThumbprintList=[cls.issuer.thumbprint])
        # an issuer nobody answers for
        cls.dead_port = free_port()
        iam.create_open_id_connect_provider(Url="https://127.0.0.1:%d" % cls.dead_port,
                                            ClientIDList=[CLIENT],
                                            ThumbprintList=[cls.issuer.thumbprint])
        trust = json.loads(json.dumps(TRUST).replace("{p}", cls.host))
        trust["Statement"][0]["Principal"]["Federated"] = cls.provider
        cls.role_arn = iam.create_role(RoleName="deployer",
                                       AssumeRolePolicyDocument=json.dumps(trust),
                                       MaxSessionDuration=7200)["Role"]["Arn"]
        iam.put_role_policy(RoleName="deployer", PolicyName="work", PolicyDocument=ROLE_POLICY)
        # a role whose trust policy names another provider's ARN only
        other = json.loads(json.dumps(trust))
        other["Statement"][0]["Principal"]["Federated"] = (
            "arn:aws:iam::%s:oidc-provider/elsewhere.example" % ACCOUNT)
        iam.create_role(RoleName="elsewhere", AssumeRolePolicyDocument=json.dumps(other))
        # a role trusting the provider on its amr claim
        amr = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Federated": cls.provider},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"ForAnyValue:StringEquals": {cls.host + ":amr": "mfa"}}}]}
        iam.create_role(RoleName="mfa-only", AssumeRolePolicyDocument=json.dumps(amr))
        # a role trusting the token's original aud when azp is the audience
        oaud = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Federated": cls.provider},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {cls.host + ":aud": CLIENT,
                                           cls.host + ":oaud": "mobile-app"}}}]}
        iam.create_role(RoleName="by-oaud", AssumeRolePolicyDocument=json.dumps(oaud))
        # a role for named sessions with a source identity only
        named = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Federated": cls.provider},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringLike": {"sts:RoleSessionName": "ci-*",
                                         "sts:SourceIdentity": "dock*"}}}]}
        iam.create_role(RoleName="named", AssumeRolePolicyDocument=json.dumps(named))

    def setUp(self):
        self.sts = self.server.boto3("sts")

    def assume(self, token, role=None, **kw):
        return self.sts.assume_role_with_web_identity(
            RoleArn=role or self.role_arn, RoleSessionName=kw.pop("session", "ci-run"),
            WebIdentityToken=token, **kw)

    def error(self, token, role=None, **kw):
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.assume(token, role, **kw)
        e = cm.exception.response["Error"]
        return e["Code"], e.get("Message", ""), \
            cm.exception.response["ResponseMetadata"]["HTTPStatusCode"]

    def session_client(self, service, creds):
        return self.server.session_boto3(service, creds)

    def test_good_token_gives_working_credentials(self):
        r = self.assume(self.issuer.token())
        self.assertEqual(r["SubjectFromWebIdentityToken"], "repo:harbor/cranes:ref:main")
        self.assertEqual(r["AssumedRoleUser"]["Arn"],
                         "arn:aws:sts::%s:assumed-role/deployer/ci-run" % ACCOUNT)
        self.assertTrue(r["AssumedRoleUser"]["AssumedRoleId"].endswith(":ci-run"))
        self.assertEqual(r["Provider"], self.provider)
        self.assertEqual(r["Audience"], CLIENT)
        self.assertNotIn("PackedPolicySize", r)
        creds = r["Credentials"]
        self.assertTrue(creds["AccessKeyId"].startswith("ASIA"))
        left = creds["Expiration"].timestamp() - time.time()
        self.assertTrue(3000 < left <= 3700, left)
        me = self.session_client("sts", creds).get_caller_identity()
        self.assertEqual(me["Arn"], r["AssumedRoleUser"]["Arn"])
        ddb = self.session_client("dynamodb", creds)
        ddb.create_table(TableName="webid-cranes",
                         KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST")
        ddb.put_item(TableName="webid-cranes", Item={"id": {"S": "c1"}})
        self.assertEqual(ddb.get_item(TableName="webid-cranes",
                                      Key={"id": {"S": "c1"}})["Item"]["id"]["S"], "c1")
        s3 = self.session_client("s3", creds)
        s3.create_bucket(Bucket="webid-cranes")
        s3.put_object(Bucket="webid-cranes", Key="manifest", Body=b"crane 1")
        self.assertEqual(s3.get_object(Bucket="webid-cranes", Key="manifest")["Body"].read(),
                         b"crane 1")
        # the credentials survive a restart, as AssumeRole's do
        self.server.stop()
        self.server.start()
        ddb = self.session_client("dynamodb", creds)
        self.assertEqual(ddb.get_item(TableName="webid-cranes",
                                      Key={"id": {"S": "c1"}})["Item"]["id"]["S"], "c1")

    def test_es256_audience_list_azp_and_source_identity(self):
        r = self.assume(self.issuer.token(alg="ES256", kid="ec-1", claims={
            "aud": ["unknown-client", CLIENT],
            "https://aws.amazon.com/source_identity": "dockhand"}), DurationSeconds=7200)
        self.assertEqual(r["Audience"], CLIENT)
        self.assertEqual(r["SourceIdentity"], "dockhand")
        left = r["Credentials"]["Expiration"].timestamp() - time.time()
        self.assertTrue(7000 < left <= 7300, left)
        # azp, when the provider knows it, is the audience (and the trust policy's aud)
        r = self.assume(self.issuer.token(claims={"aud": "unknown-client", "azp": CLIENT}))
        self.assertEqual(r["Audience"], CLIENT)

    def test_session_policies_limit_the_session(self):
        policy = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "dynamodb:ListTables", "Resource": "*"}]})
        r = self.assume(self.issuer.token(), Policy=policy, session="narrow")
        self.assertGreaterEqual(r["PackedPolicySize"], 0)
        self.session_client("dynamodb", r["Credentials"]).list_tables()
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.session_client("s3", r["Credentials"]).create_bucket(Bucket="webid-narrow")
        self.assertEqual(cm.exception.response["Error"]["Code"], "AccessDenied")

    def test_token_failures(self):
        t = self.issuer.token
        code, msg, status = self.error(t(claims={"exp": int(time.time()) - 30}))
        self.assertEqual((code, status), ("ExpiredTokenException", 400))
        self.assertIn("Token expired", msg)
        self.assertEqual(self.error(t(claims={"aud": "stranger"}))[:2],
                         ("InvalidIdentityToken", "Incorrect token audience"))
        code, msg, _ = self.error(t(claims={"iss": "https://issuer.elsewhere.example"}))
        self.assertEqual(code, "InvalidIdentityToken")
        self.assertIn("No OpenIDConnect provider found in your account for "
                      "https://issuer.elsewhere.example", msg)
        forged = t(key=rsa.generate_private_key(public_exponent=65537, key_size=2048))
        self.assertEqual(self.error(forged)[0], "InvalidIdentityToken")
        tampered = t().split(".")
        tampered[1] = b64url(json.dumps({"iss": self.issuer.url(), "aud": CLIENT,
                                         "sub": "repo:harbor/cranes:x",
                                         "exp": int(time.time()) + 60}).encode())
        self.assertEqual(self.error(".".join(tampered))[0], "InvalidIdentityToken")
        fetches = self.issuer.fetches
        code, msg, _ = self.error(t(kid="rotated-away"))
        self.assertEqual(code, "InvalidIdentityToken")
        self.assertIn("Couldn't retrieve verification key", msg)
        self.assertLessEqual(self.issuer.fetches - fetches, 1)
        for bad in ("not-a-token", "a.b.c", t().rsplit(".", 1)[0],
                    b64url(b'{"alg":"none"}') + "." + b64url(b'{}') + ".AAAA",
                    b64url(b'{"alg":"HS256"}') + "." + t().split(".")[1] + ".AAAA"):
            self.assertEqual(self.error(bad)[0], "InvalidIdentityToken", bad)
        self.assertEqual(self.error(t(drop=("sub",)))[0], "InvalidIdentityToken")
        self.assertEqual(self.error(t(drop=("exp",)))[0], "InvalidIdentityToken")
        self.assertEqual(self.error(t(claims={"nbf": int(time.time()) + 3600}))[0],
                         "InvalidIdentityToken")
        self.assertEqual(self.error(t(claims={"iat": int(time.time()) + 3600}))[0],
                         "InvalidIdentityToken")
        self.assertEqual(self.error(t(claims={"https://aws.amazon.com/source_identity": "x"}))[0],
                         "InvalidIdentityToken")

    def test_trust_policy_decides(self):
        denied = ("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity", 403)
        self.assertEqual(self.error(self.issuer.token(claims={"sub": "repo:harbor/boats:main"})),
                         denied)
        # "other-client" is a client of the provider, but the role wants CLIENT
        self.assertEqual(self.error(self.issuer.token(claims={"aud": "other-client"})), denied)
        arn = "arn:aws:iam::%s:role/" % ACCOUNT
        self.assertEqual(self.error(self.issuer.token(), role=arn + "elsewhere"), denied)
        self.assertEqual(self.error(self.issuer.token(), role=arn + "no-such-role"), denied)
        self.assertEqual(self.error(self.issuer.token(), role="arn:aws:iam::000000000000:role/x"),
                         denied)
        self.assertEqual(self.error(self.issuer.token(), role=arn + "mfa-only"), denied)
        self.assertEqual(self.error(self.issuer.token(claims={"aud": "mobile-app"}),
                                    role=arn + "by-oaud"), ("InvalidIdentityToken",
                                                            "Incorrect token audience", 400))
        self.assertEqual(self.error(self.issuer.token(), role=arn + "by-oaud"), denied)
        r = self.assume(self.issuer.token(claims={"aud": ["mobile-app", "x"], "azp": CLIENT}),
                        role=arn + "by-oaud")
        self.assertEqual(r["Audience"], CLIENT)
        si = {"https://aws.amazon.com/source_identity": "dockhand"}
        self.assertEqual(self.error(self.issuer.token(), role=arn + "named"), denied)
        self.assertEqual(self.error(self.issuer.token(claims=si), role=arn + "named",
                                    session="cd-run"), denied)
        r = self.assume(self.issuer.token(claims=si), role=arn + "named", session="ci-7")
        self.assertEqual(r["SourceIdentity"], "dockhand")
        r = self.assume(self.issuer.token(claims={"amr": ["pwd", "mfa"]}), role=arn + "mfa-only")
        self.assertEqual(r["AssumedRoleUser"]["Arn"],
                         "arn:aws:sts::%s:assumed-role/mfa-only/ci-run" % ACCOUNT)

    def test_issuer_trust_and_reachability(self):
        code, msg, _ = self.error(self.issuer.token(path="/untrusted"))
        self.assertEqual(code, "InvalidIdentityToken")
        self.assertIn("thumbprint", msg)
        dead = self.issuer.token(claims={"iss": "https://127.0.0.1:%d" % self.dead_port})
        self.assertEqual(self.error(dead)[0], "IDPCommunicationError")

    def test_session_tags(self):
        """The token's https://aws.amazon.com/tags claim: aws:RequestTag and
        aws:TagKeys in the trust policy (which must allow sts:TagSession too),
        then aws:PrincipalTag of the session, over the role's own tags."""
        iam = self.server.boto3("iam")
        trust = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Federated": self.provider},
            "Action": ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"],
            "Condition": {"StringEquals": {"aws:RequestTag/team": ["cranes", "docks"],
                                           "iam:ResourceTag/tier": "batch"},
                          "ForAllValues:StringEquals": {"aws:TagKeys": ["team", "tier"]}}}]}
        arn = iam.create_role(RoleName="tagged", AssumeRolePolicyDocument=json.dumps(trust),
                              Tags=[{"Key": "tier", "Value": "batch"},
                                    {"Key": "Team", "Value": "roles-own"}])["Role"]["Arn"]
        iam.put_role_policy(RoleName="tagged", PolicyName="by-team", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": "dynamodb:ListTables", "Resource": "*",
                "Condition": {"StringEquals": {"aws:PrincipalTag/team": "cranes",
                                               "aws:PrincipalTag/tier": "batch"}}}]}))

        def tags(**t):
            return {"https://aws.amazon.com/tags": {
                "principal_tags": {k: [v] for k, v in t.items()},
                "transitive_tag_keys": list(t)}}

        r = self.assume(self.issuer.token(claims=tags(team="cranes")), role=arn, session="tg")
        # the session's team tag wins over the role's Team tag
        self.session_client("dynamodb", r["Credentials"]).list_tables()
        r2 = self.assume(self.issuer.token(claims=tags(team="docks")), role=arn, session="tg2")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.session_client("dynamodb", r2["Credentials"]).list_tables()
        self.assertEqual(cm.exception.response["Error"]["Code"], "AccessDeniedException")
        denied = ("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity", 403)
        self.assertEqual(self.error(self.issuer.token(claims=tags(team="boats")), role=arn),
                         denied)
        self.assertEqual(self.error(self.issuer.token(claims=tags(team="cranes", dept="x")),
                                    role=arn), denied)
        # tags need sts:TagSession in the trust policy: "deployer" allows only the call
        self.assertEqual(self.error(self.issuer.token(claims=tags(team="cranes"))), denied)
        for bad in ({"principal_tags": {"team": ["a", "b"]}},
                    {"principal_tags": {"team": 5}},
                    {"principal_tags": {"team": ["a"], "TEAM": ["b"]}},
                    {"principal_tags": {"k%d" % i: ["v"] for i in range(51)}},
                    {"principal_tags": {"team": ["a"]}, "transitive_tag_keys": ["other"]},
                    {"principal_tags": ["team"]},
                    "tags"):
            code = self.error(self.issuer.token(claims={"https://aws.amazon.com/tags": bad}),
                              role=arn)[0]
            self.assertEqual(code, "InvalidIdentityToken", bad)
        # the session keeps its tags across a restart
        self.server.stop()
        self.server.start()
        self.session_client("dynamodb", r["Credentials"]).list_tables()

    def tag_any_role(self, name, **role):
        """A role the provider's tokens may assume with any session tags."""
        trust = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Federated": self.provider},
            "Action": ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"]}]}
        return self.server.boto3("iam").create_role(
            RoleName=name, AssumeRolePolicyDocument=json.dumps(trust), **role)["Role"]["Arn"]

    def test_packed_size_counts_session_tags(self):
        """PackedPolicySize covers the session policies and the session tags
        together, and PackedPolicyTooLarge refuses them together."""
        arn = self.tag_any_role("tag-any")

        def tags(n, size):
            return {"https://aws.amazon.com/tags": {
                "principal_tags": {"k%02d" % i: ["v" * size] for i in range(n)}}}

        policy = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "dynamodb:ListTables", "Resource": "*"}]})
        plain = self.assume(self.issuer.token(), role=arn, Policy=policy)["PackedPolicySize"]
        r = self.assume(self.issuer.token(claims=tags(4, 100)), role=arn, Policy=policy)
        self.assertGreaterEqual(r["PackedPolicySize"], plain + 15)
        # tags alone are packed too
        r = self.assume(self.issuer.token(claims=tags(4, 100)), role=arn)
        self.assertGreaterEqual(r["PackedPolicySize"], 15)
        # each fits alone; together they are too large
        big = tags(7, 256)
        self.assertLess(self.assume(self.issuer.token(claims=big), role=arn)["PackedPolicySize"],
                        100)
        wide = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "dynamodb:ListTables",
             "Resource": "arn:aws:dynamodb:us-east-1:%s:table/t%03d" % (ACCOUNT, i)}
            for i in range(8)]})
        self.assertLess(self.assume(self.issuer.token(), role=arn,
                                    Policy=wide)["PackedPolicySize"], 100)
        code, msg, status = self.error(self.issuer.token(claims=big), role=arn, Policy=wide)
        self.assertEqual((code, status), ("PackedPolicyTooLarge", 400), msg)
        self.assertIn("of allotted space", msg)

    def test_transitive_tags_pass_along_a_role_chain(self):
        """The token's transitive tags pass on when its session assumes
        another role (which must allow sts:TagSession), and on again from
        there; its other tags stay behind."""
        iam = self.server.boto3("iam")
        first = self.tag_any_role("chain-first")
        iam.put_role_policy(RoleName="chain-first", PolicyName="chain", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}))

        def trusting(name, who, actions):
            return iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({
                "Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Principal": {"AWS": who},
                    "Action": actions}]}))["Role"]["Arn"]

        tagged_work = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "dynamodb:ListTables", "Resource": "*",
             "Condition": {"StringEquals": {"aws:PrincipalTag/team": "cranes"}}},
            {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*",
             "Condition": {"StringEquals": {"aws:PrincipalTag/dept": "docks"}}},
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}
        second = trusting("chain-second", first, ["sts:AssumeRole", "sts:TagSession"])
        iam.put_role_policy(RoleName="chain-second", PolicyName="work",
                            PolicyDocument=json.dumps(tagged_work))
        third = trusting("chain-third", second, ["sts:AssumeRole", "sts:TagSession"])
        iam.put_role_policy(RoleName="chain-third", PolicyName="work",
                            PolicyDocument=json.dumps(tagged_work))
        untagged = trusting("chain-untagged", first, "sts:AssumeRole")
        claims = {"https://aws.amazon.com/tags": {
            "principal_tags": {"team": ["cranes"], "dept": ["docks"]},
            "transitive_tag_keys": ["team"]}}
        r1 = self.assume(self.issuer.token(claims=claims), role=first, session="hop1")
        sts1 = self.session_client("sts", r1["Credentials"])
        r2 = sts1.assume_role(RoleArn=second, RoleSessionName="hop2")
        self.session_client("dynamodb", r2["Credentials"]).list_tables()  # team came along
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.session_client("s3", r2["Credentials"]).list_buckets()  # dept did not
        self.assertEqual(cm.exception.response["Error"]["Code"], "AccessDenied")
        # and on again: still transitive
        r3 = self.session_client("sts", r2["Credentials"]).assume_role(
            RoleArn=third, RoleSessionName="hop3")
        self.session_client("dynamodb", r3["Credentials"]).list_tables()
        if os.access(AWS_CLI, os.X_OK):  # the same hop by the aws CLI v2
            env = self.server.env()
            env.update({"AWS_ACCESS_KEY_ID": r1["Credentials"]["AccessKeyId"],
                        "AWS_SECRET_ACCESS_KEY": r1["Credentials"]["SecretAccessKey"],
                        "AWS_SESSION_TOKEN": r1["Credentials"]["SessionToken"]})
            out = subprocess.run(
                [AWS_CLI, "sts", "assume-role", "--endpoint-url", self.server.url(),
                 "--role-arn", second, "--role-session-name", "hop2-cli", "--output", "json"],
                env=env, capture_output=True, text=True, timeout=120)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.session_client("dynamodb", json.loads(out.stdout)["Credentials"]).list_tables()
        # a role that does not allow sts:TagSession cannot take the tags
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            sts1.assume_role(RoleArn=untagged, RoleSessionName="hop2")
        err = cm.exception.response["Error"]
        self.assertEqual(err["Code"], "AccessDenied")
        self.assertIn("sts:TagSession", err["Message"])
        # a session without transitive tags needs no sts:TagSession there
        plain = {"https://aws.amazon.com/tags": {"principal_tags": {"team": ["cranes"]}}}
        r1 = self.assume(self.issuer.token(claims=plain), role=first, session="hop1b")
        r2 = self.session_client("sts", r1["Credentials"]).assume_role(
            RoleArn=untagged, RoleSessionName="hop2b")
        self.assertTrue(r2["AssumedRoleUser"]["Arn"].endswith(":assumed-role/chain-untagged/hop2b"))
        r2 = self.session_client("sts", r1["Credentials"]).assume_role(
            RoleArn=second, RoleSessionName="hop2c")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.session_client("dynamodb", r2["Credentials"]).list_tables()  # team stayed
        self.assertEqual(cm.exception.response["Error"]["Code"], "AccessDeniedException")

    def test_unusable_issuer_documents(self):
        for path in ("/gone", "/no-jwks-uri", "/plain-jwks-uri", "/not-json", "/huge",
                     "/no-keys"):
            code, msg, _ = self.error(self.issuer.token(path=path))
            self.assertEqual(code, "InvalidIdentityToken", path)
            self.assertIn("Couldn't retrieve verification key", msg)
        # a failed fetch is remembered for a while: the issuer is not asked again
        asked = self.issuer.discoveries
        self.assertEqual(self.error(self.issuer.token(path="/gone"))[0], "InvalidIdentityToken")
        self.assertEqual(self.issuer.discoveries, asked)

    def test_keys_cached_and_rotated(self):
        self.assume(self.issuer.token(), session="warm")
        fetches = self.issuer.fetches
        for i in range(3):
            self.assume(self.issuer.token(), session="cached-%d" % i)
        self.assertEqual(self.issuer.fetches, fetches)  # from the cache
        # the issuer rotates a new key in: found once the refetch pause is over
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.issuer.keys.append(self.issuer.jwk_rsa("rsa-2", key))
        deadline = time.time() + 30
        while True:
            try:
                r = self.assume(self.issuer.token(kid="rsa-2", key=key), session="rotated")
                break
            except botocore.exceptions.ClientError as e:
                self.assertEqual(e.response["Error"]["Code"], "InvalidIdentityToken")
                self.assertLess(time.time(), deadline, "the rotated key was never found")
                time.sleep(1)
        self.assertEqual(r["AssumedRoleUser"]["Arn"],
                         "arn:aws:sts::%s:assumed-role/deployer/rotated" % ACCOUNT)
        # at most one fetch per pause, however many tokens name an unknown key
        self.assertLessEqual(self.issuer.fetches - fetches, 4)

    def test_bad_parameters(self):
        self.assertEqual(self.error(self.issuer.token(), DurationSeconds=7201)[0],
                         "ValidationError")
        self.assertEqual(self.error(self.issuer.token(), session="bad name")[0],
                         "ValidationError")
        self.assertEqual(self.error(self.issuer.token(), Policy="{")[0],
                         "MalformedPolicyDocument")
        self.assertEqual(self.error(self.issuer.token(), PolicyArns=[
            {"arn": "arn:aws:iam::%s:policy/absent" % ACCOUNT}])[0], "MalformedPolicyDocument")
        raw = self.server.boto3("sts", parameter_validation=False)
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            raw.assume_role_with_web_identity(RoleArn=self.role_arn, RoleSessionName="x1",
                                              WebIdentityToken=self.issuer.token(),
                                              DurationSeconds=100)
        self.assertEqual(cm.exception.response["Error"]["Code"], "ValidationError")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            raw.assume_role_with_web_identity(RoleArn=self.role_arn, RoleSessionName="x1",
                                              WebIdentityToken="")
        self.assertEqual(cm.exception.response["Error"]["Code"], "ValidationError")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            raw.assume_role_with_web_identity(RoleArn="arn:short", RoleSessionName="x1",
                                              WebIdentityToken="abcd")
        self.assertEqual(cm.exception.response["Error"]["Code"], "ValidationError")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            raw.assume_role_with_web_identity(RoleArn=self.role_arn, RoleSessionName="x1",
                                              WebIdentityToken=self.issuer.token(),
                                              ProviderId="ab")
        self.assertEqual(cm.exception.response["Error"]["Code"], "ValidationError")

    def test_unsigned_calls_are_only_web_identity(self):
        """Another STS action without a signature is refused; the web identity
        call itself goes unsigned (as botocore sends it)."""
        import urllib.request
        for body, code in ((b"Action=GetCallerIdentity&Version=2011-06-15", 403),):
            req = urllib.request.Request(self.server.url(), data=body, headers={
                "Content-Type": "application/x-www-form-urlencoded"})
            with self.assertRaises(urllib.error.HTTPError) as cm:
                urllib.request.urlopen(req, timeout=30)
            self.assertEqual(cm.exception.code, code)
            self.assertIn(b"MissingAuthenticationToken", cm.exception.read())
        # a body naming web identity and another action is still only web identity
        form = ("Action=AssumeRoleWithWebIdentity&Action=GetCallerIdentity&Version=2011-06-15"
                "&RoleArn=%s&RoleSessionName=s1&WebIdentityToken=%s" % (
                    self.role_arn, self.issuer.token()))
        req = urllib.request.Request(self.server.url(), data=form.encode(), headers={
            "Content-Type": "application/x-www-form-urlencoded"})
        try:
            body = urllib.request.urlopen(req, timeout=30).read()
        except urllib.error.HTTPError as e:
            body = e.read()
        self.assertNotIn(b"GetCallerIdentityResult", body)

    def test_unsigned_get_form(self):
        """STS takes the call as a GET too, its parameters in the query string
        (curl, no credentials): the same answers as the POST form."""
        def get(token, session="get-run"):
            res = subprocess.run(
                ["curl", "-sS", "-w", "\n%{http_code}", "-G", self.server.url() + "/",
                 "--data-urlencode", "Action=AssumeRoleWithWebIdentity",
                 "--data-urlencode", "Version=2011-06-15",
                 "--data-urlencode", "RoleArn=" + self.role_arn,
                 "--data-urlencode", "RoleSessionName=" + session,
                 "--data-urlencode", "DurationSeconds=1800",
                 "--data-urlencode", "WebIdentityToken=" + token],
                capture_output=True, text=True, timeout=60, check=True)
            body, _, status = res.stdout.rpartition("\n")
            return int(status), body

        import xml.etree.ElementTree as ET
        status, body = get(self.issuer.token())
        self.assertEqual(status, 200, body)
        ns = {"s": "https://sts.amazonaws.com/doc/2011-06-15/"}
        doc = ET.fromstring(body)
        result = doc.find("s:AssumeRoleWithWebIdentityResult", ns)
        self.assertEqual(result.findtext("s:AssumedRoleUser/s:Arn", namespaces=ns),
                         "arn:aws:sts::%s:assumed-role/deployer/get-run" % ACCOUNT)
        creds = {k: result.findtext("s:Credentials/s:" + k, namespaces=ns)
                 for k in ("AccessKeyId", "SecretAccessKey", "SessionToken")}
        me = self.session_client("sts", creds).get_caller_identity()
        self.assertEqual(me["Arn"], "arn:aws:sts::%s:assumed-role/deployer/get-run" % ACCOUNT)
        status, body = get(self.issuer.token(claims={"aud": "stranger"}))
        self.assertEqual(status, 400, body)
        self.assertIn("<Code>InvalidIdentityToken</Code>", body)
        # another action by GET without a signature is not STS's to answer
        res = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                              self.server.url() + "/?Action=GetCallerIdentity&"
                              "Version=2011-06-15"],
                             capture_output=True, text=True, timeout=30, check=True)
        self.assertNotEqual(res.stdout, "200")

    def test_sdk_web_identity_credentials(self):
        """boto3's own credential chain, as a CI job or a Kubernetes pod uses
        it: AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN, no keys."""
        token_file = os.path.join(self.server.tmp, "webid-token")
        with open(token_file, "w") as f:
            f.write(self.issuer.token())
        env = self.server.env()
        for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            env.pop(k)
        env.update({"AWS_WEB_IDENTITY_TOKEN_FILE": token_file, "AWS_ROLE_ARN": self.role_arn,
                    "AWS_ROLE_SESSION_NAME": "pod-1", "AWS_ENDPOINT_URL": self.server.url()})
        script = ("import boto3; s = boto3.session.Session(); "
                  "print(s.client('sts').get_caller_identity()['Arn']); "
                  "print(s.client('dynamodb').list_tables()['TableNames'] is not None)")
        out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                             text=True, timeout=120)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout.split(),
                         ["arn:aws:sts::%s:assumed-role/deployer/pod-1" % ACCOUNT, "True"])

    @unittest.skipUnless(os.access(AWS_CLI, os.X_OK), "no aws CLI v2")
    def test_aws_cli_v2(self):
        env = self.server.env()
        for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            env.pop(k)  # the call needs no credentials
        out = subprocess.run(
            [AWS_CLI, "sts", "assume-role-with-web-identity", "--endpoint-url", self.server.url(),
             "--role-arn", self.role_arn, "--role-session-name", "cli-run",
             "--web-identity-token", self.issuer.token(), "--output", "json"],
            env=env, capture_output=True, text=True, timeout=120)
        self.assertEqual(out.returncode, 0, out.stderr)
        r = json.loads(out.stdout)
        self.assertEqual(r["AssumedRoleUser"]["Arn"],
                         "arn:aws:sts::%s:assumed-role/deployer/cli-run" % ACCOUNT)
        out = subprocess.run(
            [AWS_CLI, "sts", "assume-role-with-web-identity", "--endpoint-url", self.server.url(),
             "--role-arn", self.role_arn, "--role-session-name", "cli-run",
             "--web-identity-token", self.issuer.token(claims={"aud": "stranger"})],
            env=env, capture_output=True, text=True, timeout=120)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("InvalidIdentityToken", out.stderr)


@unittest.skipIf(x509 is None, "python3 cryptography is not installed")
class StsWebIdentityRegions(unittest.TestCase):
    """A token exchanged in a region that is not the home of identity: the
    call runs on that region's workers and its credentials work in both."""

    def setUp(self):
        from repl_helpers import deployment
        self.regions = deployment(("us-east-1", "us-west-2"), start=False)
        for r in self.regions:
            r.account = ACCOUNT
            r.start()
            self.addCleanup(r.cleanup)
        self.issuer = Issuer()
        self.addCleanup(self.issuer.stop)

    def tearDown(self):
        for r in self.regions:
            if r.proc is not None:
                r.stop()

    def test_token_in_another_region(self):
        home, west = self.regions
        iam = home.boto3("iam")
        provider = iam.create_open_id_connect_provider(
            Url=self.issuer.url(), ClientIDList=[CLIENT],
            ThumbprintList=[self.issuer.thumbprint])["OpenIDConnectProviderArn"]
        trust = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Federated": provider},
            "Action": "sts:AssumeRoleWithWebIdentity"}]}
        arn = iam.create_role(RoleName="roamer",
                              AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        iam.put_role_policy(RoleName="roamer", PolicyName="work", PolicyDocument=ROLE_POLICY)
        sts = west.boto3("sts")
        deadline = time.time() + 10
        while True:  # until us-west-2 has the role and the provider
            try:
                r = sts.assume_role_with_web_identity(RoleArn=arn, RoleSessionName="west",
                                                      WebIdentityToken=self.issuer.token())
                break
            except botocore.exceptions.ClientError:
                self.assertLess(time.time(), deadline)
                time.sleep(0.2)
        c = r["Credentials"]
        for region in (west, home):
            import boto3
            ddb = boto3.session.Session().client(
                "dynamodb", region_name=region.region, endpoint_url=region.url(),
                aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
                aws_session_token=c["SessionToken"],
                config=botocore.config.Config(retries={"max_attempts": 1}))
            deadline = time.time() + 10
            while True:  # the session reaches home, then replicates
                try:
                    ddb.list_tables()
                    break
                except botocore.exceptions.ClientError:
                    self.assertLess(time.time(), deadline, region.region)
                    time.sleep(0.2)
        code = None
        try:
            sts.assume_role_with_web_identity(RoleArn=arn, RoleSessionName="west",
                                              WebIdentityToken=self.issuer.token(
                                                  claims={"aud": "stranger"}))
        except botocore.exceptions.ClientError as e:
            code = e.response["Error"]["Code"]
        self.assertEqual(code, "InvalidIdentityToken")


if __name__ == "__main__":
    unittest.main()
