"""Global identity across peered regions on loopback (docs/iam.md, "Global
identity"): IAM data made in the home region (us-east-1) authenticates and
authorizes in the other regions within a bounded time; IAM writes made
elsewhere are forwarded to home; with home killed the others keep
authenticating and authorizing from their copy while IAM writes fail with
ServiceUnavailable; home restarted, writes work and propagate again; STS
credentials from one region work in another; a deleted access key stops
everywhere. Driven with boto3 (and the aws CLI for one call)."""
import json
import os
import socket
import subprocess
import threading
import time
import unittest

from repl_helpers import deployment
from tandem_harness import find_clients, free_port, tandem_bin

ACCOUNT = "123456789012"
BOUND = 5.0  # seconds: loopback propagation is well under one


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def code_of(exc):
    return getattr(exc, "response", {}).get("Error", {}).get("Code", str(exc))


def eventually(fn, timeout=BOUND, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            r = fn()
            if r is not False:
                return r
        except Exception as e:  # noqa: BLE001 - retried until the deadline
            last = e
        time.sleep(0.05)
    raise AssertionError("%s not reached within %ss (last: %r)" % (what, timeout, last))


def session_client(region, c):
    """A DynamoDB client of @region with STS credentials @c."""
    import boto3
    import botocore.config
    return boto3.session.Session().client(
        "dynamodb", region_name=region.region, endpoint_url=region.url(),
        aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
        aws_session_token=c["SessionToken"],
        config=botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"}))


class GlobalIdentity(unittest.TestCase):
    names = ("us-east-1", "us-west-2")

    def setUp(self):
        self.regions = deployment(self.names, start=False)
        for r in self.regions:
            r.account = ACCOUNT
            r.start()
        for r in self.regions:
            self.addCleanup(r.cleanup)
        self.home, self.west = self.regions[0], self.regions[1]
        for r in self.regions:
            ddb = r.boto3()
            ddb.create_table(TableName="g-" + r.region, BillingMode="PAY_PER_REQUEST",
                             AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                             KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
            ddb.put_item(TableName="g-" + r.region, Item={"pk": {"S": "1"}})

    def tearDown(self):
        for r in self.regions:
            if r.proc is not None:
                r.stop()

    def iam(self, region, **kw):
        return region.boto3("iam", **kw)

    def table_arn(self, region):
        return "arn:aws:dynamodb:%s:%s:table/g-%s" % (region.region, ACCOUNT, region.region)

    def get_item(self, region, keys):
        ddb = region.boto3(access_key=keys[0], secret_key=keys[1])
        return ddb.get_item(TableName="g-" + region.region, Key={"pk": {"S": "1"}})

    def reader(self, name):
        """A user in home allowed dynamodb:GetItem on the west table only."""
        iam = self.iam(self.home)
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName="read", PolicyDocument=policy(
            {"Effect": "Allow", "Action": "dynamodb:GetItem",
             "Resource": self.table_arn(self.west)}))
        k = iam.create_access_key(UserName=name)["AccessKey"]
        return k["AccessKeyId"], k["SecretAccessKey"]

    def test_user_from_home_works_everywhere_and_home_loss(self):
        t0 = time.monotonic()
        keys = self.reader("alice")
        eventually(lambda: self.get_item(self.west, keys), what="alice's key in us-west-2")
        self.assertLess(time.monotonic() - t0, BOUND + 3)
        # the replicated policy decides: the east table is not allowed anywhere
        with self.assertRaises(Exception) as cm:
            self.west.boto3(access_key=keys[0], secret_key=keys[1]).put_item(
                TableName="g-us-west-2", Item={"pk": {"S": "2"}})
        self.assertEqual(code_of(cm.exception), "AccessDeniedException")
        self.assertEqual(self.iam(self.west).get_user(UserName="alice")["User"]["UserName"],
                         "alice")

        # home dies: the west keeps authenticating and authorizing from its copy
        self.home.kill()
        self.get_item(self.west, keys)
        with self.assertRaises(Exception) as cm:
            self.west.boto3(access_key=keys[0], secret_key=keys[1]).delete_item(
                TableName="g-us-west-2", Key={"pk": {"S": "1"}})
        self.assertEqual(code_of(cm.exception), "AccessDeniedException")
        with self.assertRaises(Exception) as cm:
            self.iam(self.west).create_user(UserName="bob")
        self.assertEqual(code_of(cm.exception), "ServiceUnavailable")
        self.assertIn("us-east-1", str(cm.exception))
        self.assertEqual(len(self.iam(self.west).list_users()["Users"]), 1)

        # home back: writes through the west work and propagate both ways
        self.home.start()
        eventually(lambda: self.iam(self.west).create_user(UserName="bob"),
                   timeout=15, what="a write through us-west-2 after home came back")
        self.assertEqual(self.iam(self.home).get_user(UserName="bob")["User"]["UserName"], "bob")
        self.iam(self.home).create_user(UserName="carol")
        eventually(lambda: self.iam(self.west).get_user(UserName="carol"),
                   what="carol in us-west-2")
        for r in self.regions:
            self.assertEqual(r.sanitizer_report(), "")

    def test_role_via_west_forwarded_and_assume_role_everywhere(self):
        west = self.iam(self.west)
        trust = policy({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % ACCOUNT},
                        "Action": "sts:AssumeRole"})
        arn = west.create_role(RoleName="app", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
        # read-your-writes in the region written through, and home has it
        self.assertEqual(west.get_role(RoleName="app")["Role"]["Arn"], arn)
        self.assertEqual(self.iam(self.home).get_role(RoleName="app")["Role"]["Arn"], arn)
        west.put_role_policy(RoleName="app", PolicyName="read", PolicyDocument=policy(
            {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*"}))

        # a user allowed to assume it (keys created through the west)
        west.create_user(UserName="dev")
        west.put_user_policy(UserName="dev", PolicyName="assume", PolicyDocument=policy(
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": arn}))
        k = west.create_access_key(UserName="dev")["AccessKey"]
        dev = (k["AccessKeyId"], k["SecretAccessKey"])
        # the forwarding region waited for the change: the key works there at once
        self.west.boto3("sts", access_key=dev[0], secret_key=dev[1]).get_caller_identity()
        eventually(lambda: self.home.boto3("sts", access_key=dev[0], secret_key=dev[1])
                   .get_caller_identity(), what="dev's key in us-east-1")

        # the caller's own permissions are evaluated (at home) for forwarded writes
        with self.assertRaises(Exception) as cm:
            self.iam(self.west, access_key=dev[0], secret_key=dev[1]).create_user(UserName="x")
        self.assertEqual(code_of(cm.exception), "AccessDenied")

        # credentials issued by the west work in home, and the other way round
        for issuer, other in ((self.west, self.home), (self.home, self.west)):
            c = issuer.boto3("sts", access_key=dev[0], secret_key=dev[1]).assume_role(
                RoleArn=arn, RoleSessionName="s-" + issuer.region)["Credentials"]
            ddb = session_client(other, c)
            eventually(lambda: ddb.get_item(TableName="g-" + other.region,
                                            Key={"pk": {"S": "1"}}),
                       what="%s's session in %s" % (issuer.region, other.region))
            with self.assertRaises(Exception) as cm:
                ddb.put_item(TableName="g-" + other.region, Item={"pk": {"S": "9"}})
            self.assertEqual(code_of(cm.exception), "AccessDeniedException")

    def test_groups_boundaries_and_session_policies_everywhere(self):
        west = self.iam(self.west)
        # a group made through the west (forwarded to home) decides in both regions
        west.create_group(GroupName="readers")
        west.put_group_policy(GroupName="readers", PolicyName="read", PolicyDocument=policy(
            {"Effect": "Allow", "Action": ["dynamodb:GetItem", "sts:AssumeRole"],
             "Resource": "*"}))
        west.create_user(UserName="gus")
        k = west.create_access_key(UserName="gus")["AccessKey"]
        gus = (k["AccessKeyId"], k["SecretAccessKey"])
        with self.assertRaises(Exception) as cm:
            self.get_item(self.west, gus)
        self.assertEqual(code_of(cm.exception), "AccessDeniedException")
        west.add_user_to_group(GroupName="readers", UserName="gus")
        self.get_item(self.west, gus)
        eventually(lambda: self.get_item(self.home, gus), what="gus's group in us-east-1")
        self.assertEqual([u["UserName"] for u in
                          self.iam(self.home).get_group(GroupName="readers")["Users"]], ["gus"])
        # a boundary set through home caps gus in the west
        self.iam(self.home).put_user_permissions_boundary(
            UserName="gus", PermissionsBoundary="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")

        def capped():
            try:
                self.get_item(self.west, gus)
            except Exception as e:  # noqa: BLE001
                return code_of(e) == "AccessDeniedException"
            return False
        eventually(capped, what="gus's boundary in us-west-2")
        self.iam(self.home).delete_user_permissions_boundary(UserName="gus")
        eventually(lambda: self.get_item(self.west, gus), what="gus's boundary gone in us-west-2")
        # a session policy set in the west limits the session in home too
        trust = policy({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % ACCOUNT},
                        "Action": "sts:AssumeRole"})
        arn = west.create_role(RoleName="wide", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
        west.put_role_policy(RoleName="wide", PolicyName="all", PolicyDocument=policy(
            {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}))
        c = self.west.boto3("sts", access_key=gus[0], secret_key=gus[1]).assume_role(
            RoleArn=arn, RoleSessionName="narrow", Policy=policy(
                {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*"}))["Credentials"]
        for r in (self.west, self.home):
            ddb = session_client(r, c)
            eventually(lambda: ddb.get_item(TableName="g-" + r.region, Key={"pk": {"S": "1"}}),
                       what="the narrow session in %s" % r.region)
            with self.assertRaises(Exception) as cm:
                ddb.put_item(TableName="g-" + r.region, Item={"pk": {"S": "9"}})
            self.assertEqual(code_of(cm.exception), "AccessDeniedException")

    def test_session_issued_while_home_down_reaches_home(self):
        west = self.iam(self.west)
        west.create_user(UserName="nomad")
        k = west.create_access_key(UserName="nomad")["AccessKey"]
        nomad = (k["AccessKeyId"], k["SecretAccessKey"])
        trust = policy({"Effect": "Allow", "Action": "sts:AssumeRole",
                        "Principal": {"AWS": "arn:aws:iam::%s:user/nomad" % ACCOUNT}})
        arn = west.create_role(RoleName="reader", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
        west.put_role_policy(RoleName="reader", PolicyName="all", PolicyDocument=policy(
            {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}))
        self.home.kill()
        # issued in the west while home is down, with a session policy
        c = self.west.boto3("sts", access_key=nomad[0], secret_key=nomad[1]).assume_role(
            RoleArn=arn, RoleSessionName="offline", Policy=policy(
                {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*"}))["Credentials"]
        ddb = session_client(self.west, c)
        ddb.get_item(TableName="g-us-west-2", Key={"pk": {"S": "1"}})
        with self.assertRaises(Exception) as cm:
            ddb.put_item(TableName="g-us-west-2", Item={"pk": {"S": "9"}})
        self.assertEqual(code_of(cm.exception), "AccessDeniedException")
        # home back: the credentials become known there, session policy included
        self.home.start()
        east = session_client(self.home, c)
        eventually(lambda: east.get_item(TableName="g-us-east-1", Key={"pk": {"S": "1"}}),
                   timeout=15, what="the offline session in us-east-1")
        with self.assertRaises(Exception) as cm:
            east.put_item(TableName="g-us-east-1", Item={"pk": {"S": "9"}})
        self.assertEqual(code_of(cm.exception), "AccessDeniedException")
        # and still in the west, after home's copy came back
        ddb.get_item(TableName="g-us-west-2", Key={"pk": {"S": "1"}})
        with self.assertRaises(Exception) as cm:
            ddb.put_item(TableName="g-us-west-2", Item={"pk": {"S": "9"}})
        self.assertEqual(code_of(cm.exception), "AccessDeniedException")

    def test_silent_home_holds_no_request_thread(self):
        """Home cut off by a firewall that drops its packets (its connections
        are taken and never answered): the IAM writes and STS sessions made in
        the west wait for home on workers, not on the two threads that serve
        every other request of the region."""
        west = self.iam(self.west)
        west.create_user(UserName="walker")  # forwarded while home answers
        k = west.create_access_key(UserName="walker")["AccessKey"]
        trust = policy({"Effect": "Allow", "Action": "sts:AssumeRole",
                        "Principal": {"AWS": "arn:aws:iam::%s:user/walker" % ACCOUNT}})
        arn = west.create_role(RoleName="walk", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
        hole = socket.socket()
        self.addCleanup(hole.close)
        hole.bind(("127.0.0.1", free_port()))
        hole.listen(64)  # never accepted: the kernel takes the connections, nobody answers
        self.west.stop()
        self.west.peers = [("us-east-1", "http://127.0.0.1:%d" % hole.getsockname()[1])]
        self.west.start()
        results = {}

        def call(name, fn):
            t0 = time.monotonic()
            try:
                results[name] = ("ok", fn(), time.monotonic() - t0)
            except Exception as e:  # noqa: BLE001 - the code is what is checked
                results[name] = (code_of(e), None, time.monotonic() - t0)

        def create_user(i):
            return self.west.boto3("iam", read_timeout=60).create_user(UserName="late%d" % i)

        def assume(i):
            return self.west.boto3("sts", access_key=k["AccessKeyId"],
                                   secret_key=k["SecretAccessKey"], read_timeout=60).assume_role(
                RoleArn=arn, RoleSessionName="s%d" % i)

        threads = [threading.Thread(target=call, args=("user%d" % i, lambda i=i: create_user(i)))
                   for i in range(4)]
        threads += [threading.Thread(target=call, args=("session%d" % i, lambda i=i: assume(i)))
                    for i in range(2)]
        for t in threads:
            t.start()
        ddb, sts, iam = self.west.boto3(), self.west.boto3("sts"), self.iam(self.west)
        time.sleep(1.0)  # all six are waiting on home by now
        t0 = time.monotonic()
        ddb.list_tables()
        ddb.get_item(TableName="g-us-west-2", Key={"pk": {"S": "1"}})
        sts.get_caller_identity()
        iam.get_user(UserName="walker")
        # held behind the calls to home, they would wait as long as those (10 s
        # and more); the bound leaves room for a loaded machine
        self.assertLess(time.monotonic() - t0, 5.0, "requests waited behind the calls to home")
        self.assertEqual(len(results), 0, results)
        # what an operator sees meanwhile
        text = self.west.metrics()[1]
        self.assertIn('tandem_iam_home_reachable{home="us-east-1"} 0\n', text)
        waiting = [line for line in text.splitlines()
                   if line.startswith("tandem_iam_home_calls_waiting ")]
        self.assertEqual(len(waiting), 1, text)
        self.assertGreaterEqual(int(waiting[0].split()[1]), 4, text)
        env = dict(os.environ, TANDEM_ACCESS_KEY_ID=self.west.access_key,
                   TANDEM_SECRET_ACCESS_KEY=self.west.secret_key)
        p = subprocess.run([tandem_bin(), "status", "--endpoint", "us-west-2=" + self.west.url()],
                           capture_output=True, text=True, env=env, timeout=60)
        self.assertRegex(p.stdout, r"identity: home us-east-1 UNREACHABLE, \d+ calls waiting",
                         p.stdout + p.stderr)
        hole.close()  # now refused at once: what waits on it fails
        for t in threads:
            t.join(60)
        for i in range(4):  # home never answered: 503
            self.assertEqual(results["user%d" % i][0], "ServiceUnavailable", results)
        for i in range(2):  # issued here, kept for home until it answers
            self.assertEqual(results["session%d" % i][0], "ok", results)
            self.assertTrue(results["session%d" % i][1]["Credentials"]["SessionToken"])

    def test_deleted_key_stops_everywhere(self):
        keys = self.reader("erin")
        eventually(lambda: self.get_item(self.west, keys), what="erin's key in us-west-2")
        self.iam(self.home).delete_access_key(UserName="erin", AccessKeyId=keys[0])

        def refused():
            try:
                self.get_item(self.west, keys)
                return False
            except Exception as e:  # noqa: BLE001
                return code_of(e) == "UnrecognizedClientException"
        eventually(refused, what="erin's deleted key refused in us-west-2")
        # and a key deleted through the west stops in home too
        keys2 = self.iam(self.west).create_access_key(UserName="erin")["AccessKey"]
        eventually(lambda: self.home.boto3("sts", access_key=keys2["AccessKeyId"],
                                           secret_key=keys2["SecretAccessKey"])
                   .get_caller_identity(), what="erin's second key in us-east-1")
        self.iam(self.west).delete_access_key(UserName="erin",
                                              AccessKeyId=keys2["AccessKeyId"])
        # (checked with DynamoDB: the shared SigV4 step answers in its shape)
        with self.assertRaises(Exception) as cm:
            self.home.boto3(access_key=keys2["AccessKeyId"],
                            secret_key=keys2["SecretAccessKey"]).list_tables()
        self.assertEqual(code_of(cm.exception), "UnrecognizedClientException")

    def test_internal_endpoints_need_root(self):
        keys = self.reader("frank")
        st, _, _ = self.home.internal("GET", "/_tandem/iam/changes", "since=0")
        self.assertEqual(st, 200)
        st, _, body = self.west.internal("GET", "/_tandem/iam/changes", "since=0")
        self.assertEqual(st, 421, body)  # only home serves changes
        self.home.access_key = keys[0]
        st, _, _ = self.home.internal("GET", "/_tandem/iam/changes", "since=0",
                                      secret=keys[1])
        self.assertEqual(st, 403)


    def test_no_changes_yet_is_waited_for_not_copied_again(self):
        """Home with no IAM changes at all: a region that has its snapshot
        (seq 0, home's epoch) long-polls; it is not sent the snapshot again
        at once, in a loop of commits."""
        st, _, body = self.home.internal("GET", "/_tandem/iam/changes", "since=0")
        self.assertEqual(st, 200, body)
        first = json.loads(body)
        self.assertTrue(first["snapshot"])
        self.assertEqual(first["seq"], 0)
        t0 = time.monotonic()
        st, _, body = self.home.internal(
            "GET", "/_tandem/iam/changes", "since=0&epoch=%s&wait_ms=1000" % first["epoch"])
        waited = time.monotonic() - t0
        self.assertEqual(st, 200, body)
        ans = json.loads(body)
        self.assertFalse(ans["snapshot"])
        self.assertEqual((ans["seq"], ans["changes"]), (0, []))
        self.assertGreater(waited, 0.8)  # the long-poll waited for a change
        # us-west-2, idle, applies home's snapshot once, not hundreds of times
        synced = lambda: self.west.stderr().count("event=iam_synced")  # noqa: E731
        before = synced()
        time.sleep(2.5)
        self.assertLessEqual(synced() - before, 2, self.west.stderr()[-2000:])


class ThreeRegions(unittest.TestCase):
    def test_three_regions_and_cli(self):
        regions = deployment(("us-west-2", "us-east-1", "eu-west-1"), start=False)
        for r in regions:
            r.account = ACCOUNT
            r.start()
            self.addCleanup(r.cleanup)
        west, home, eu = regions
        iam = home.boto3("iam")
        iam.create_user(UserName="ops")
        k = iam.create_access_key(UserName="ops")["AccessKey"]
        for r in (west, eu):
            eventually(lambda r=r: r.boto3("sts", access_key=k["AccessKeyId"],
                                           secret_key=k["SecretAccessKey"])
                       .get_caller_identity(), what="ops's key in " + r.region)
        # a write through eu-west-1 reaches the third region too (aws CLI)
        cli = [c.argv for c in find_clients() if c.kind == "cli" and not c.missing]
        if cli:
            p = subprocess.run(cli[0] + ["iam", "create-role", "--role-name", "eu-role",
                                         "--assume-role-policy-document", policy(
                                             {"Effect": "Allow", "Principal": {
                                                 "Service": "lambda.amazonaws.com"},
                                              "Action": "sts:AssumeRole"}),
                                         "--endpoint-url", eu.url()],
                               env=eu.env(), capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
        else:
            eu.boto3("iam").create_role(RoleName="eu-role", AssumeRolePolicyDocument=policy(
                {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                 "Action": "sts:AssumeRole"}))
        eventually(lambda: west.boto3("iam").get_role(RoleName="eu-role"),
                   what="eu-role in us-west-2")
        for r in regions:
            r.stop()


if __name__ == "__main__":
    unittest.main()
