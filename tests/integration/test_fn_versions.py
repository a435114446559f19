"""Functions: versions and aliases through boto3 and the aws CLI (v1 and v2):
PublishVersion (immutable snapshots, unchanged code and configuration gives
the latest version back, CodeSha256 and RevisionId checks), `Publish` on
CreateFunction and UpdateFunctionCode, ListVersionsByFunction, DeleteFunction
with a Qualifier, aliases with weighted routing, Invoke with a qualifier
(X-Amz-Executed-Version), function URLs on an alias, resource-policy
statements and IAM policies on qualified ARNs, errors, and a restart."""

import base64
import json
import os
import subprocess
import time
import unittest

import botocore.exceptions

from tandem_harness import ServerTestCase, find_clients
from test_lambda import ROLE, shell_bootstrap


def tagged_bootstrap(tag):
    """A function answering {"tag": TAG, "version": its AWS_LAMBDA_FUNCTION_VERSION,
    "color": $COLOR, "arn": the invoked function ARN it was given}."""
    return shell_bootstrap(
        'api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation"\n'
        'while true; do\n'
        # the region gone (even killed): stop rather than spin
        '  h=$(curl -s -D - -o /dev/null "$api/next") || exit 1\n'
        '  h=$(echo "$h" | tr -d "\\r")\n'
        '  id=$(echo "$h" | sed -n "s/^[Ll]ambda-[Rr]untime-[Aa]ws-[Rr]equest-[Ii]d: //p")\n'
        '  arn=$(echo "$h" |'
        ' sed -n "s/^[Ll]ambda-[Rr]untime-[Ii]nvoked-[Ff]unction-[Aa]rn: //p")\n'
        '  curl -s -X POST --data "{\\"tag\\":\\"%s\\",\\"version\\":'
        '\\"$AWS_LAMBDA_FUNCTION_VERSION\\",\\"color\\":\\"$COLOR\\",\\"arn\\":\\"$arn\\"}"'
        ' "$api/$id/response" >/dev/null\n'
        'done\n' % tag)


CODE_A = tagged_bootstrap("A")
CODE_B = tagged_bootstrap("B")


class VersionsTest(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.lam = cls.server.boto3("lambda", max_attempts=1, read_timeout=60)

    def arn(self, name, qual=None):
        return "arn:aws:lambda:us-east-1:123456789012:function:%s%s" % (
            name, ":" + qual if qual else "")

    def create(self, name, code=CODE_A, **kw):
        return self.lam.create_function(FunctionName=name, Runtime="provided.al2023", Role=ROLE,
                                        Handler="bootstrap", Code={"ZipFile": code}, **kw)

    def run_it(self, name, qual=None):
        kw = {"Qualifier": qual} if qual else {}
        r = self.lam.invoke(FunctionName=name, Payload=b"{}", **kw)
        self.assertNotIn("FunctionError", r)
        body = json.loads(r["Payload"].read())
        self.last_arn = body.pop("arn")  # the ARN the function was told it was invoked by
        return r["ExecutedVersion"], body

    def error(self, code, fn, **kw):
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            fn(**kw)
        self.assertEqual(cm.exception.response["Error"]["Code"], code, cm.exception.response)
        return cm.exception.response["Error"]["Message"]

    def test_publish_invoke_and_delete_versions(self):
        lam = self.lam
        cfg = self.create("ver", Publish=True)
        self.assertEqual(cfg["Version"], "1")
        self.assertEqual(cfg["FunctionArn"], self.arn("ver", "1"))
        sha_a = cfg["CodeSha256"]
        self.assertEqual(lam.get_function_configuration(FunctionName="ver")["FunctionArn"],
                         self.arn("ver"))
        upd = lam.update_function_code(FunctionName="ver", ZipFile=CODE_B)
        self.assertEqual(upd["Version"], "$LATEST")
        self.assertEqual(self.error("InvalidParameterValueException", lam.publish_version,
                                    FunctionName="ver", CodeSha256=sha_a),
                         "CodeSHA256 (%s) is different from current CodeSHA256 in $LATEST (%s). "
                         "Please try again with the CodeSHA256 in $LATEST."
                         % (sha_a, upd["CodeSha256"]))
        self.error("PreconditionFailedException", lam.publish_version, FunctionName="ver",
                   RevisionId="0d6ff2e1-0000-0000-0000-000000000000")
        v2 = lam.publish_version(FunctionName="ver", Description="second",
                                 CodeSha256=upd["CodeSha256"], RevisionId=upd["RevisionId"])
        self.assertEqual((v2["Version"], v2["Description"]), ("2", "second"))
        self.assertEqual(v2["FunctionArn"], self.arn("ver", "2"))
        # nothing changed since version 2: publishing again answers version 2
        self.assertEqual(lam.publish_version(FunctionName="ver")["Version"], "2")
        # each qualifier runs its own code; the instance knows its version
        self.assertEqual(self.run_it("ver", "1"), ("1", {"tag": "A", "version": "1",
                                                         "color": ""}))
        self.assertEqual(self.run_it("ver", "2")[1]["tag"], "B")
        self.assertEqual(self.run_it("ver", "$LATEST"), ("$LATEST", {
            "tag": "B", "version": "$LATEST", "color": ""}))
        self.assertEqual(self.run_it("ver")[0], "$LATEST")
        self.assertEqual(self.run_it("ver:1")[1]["tag"], "A")
        self.assertEqual(self.run_it(self.arn("ver", "2"))[0], "2")
        # a version is immutable: a configuration change touches $LATEST only
        lam.update_function_configuration(FunctionName="ver",
                                          Environment={"Variables": {"COLOR": "red"}})
        self.assertEqual(self.run_it("ver")[1]["color"], "red")
        self.assertEqual(self.run_it("ver", "2")[1]["color"], "")
        v3 = lam.publish_version(FunctionName="ver")
        self.assertEqual(v3["Version"], "3")
        self.assertEqual(v3["Environment"]["Variables"], {"COLOR": "red"})
        got = lam.get_function(FunctionName="ver", Qualifier="1")
        self.assertEqual(got["Configuration"]["CodeSha256"], sha_a)
        self.assertEqual(got["Configuration"]["Version"], "1")
        self.assertEqual(got["Configuration"]["FunctionArn"], self.arn("ver", "1"))
        self.assertIn("/code-download/", got["Code"]["Location"])
        self.assertEqual(lam.get_function_configuration(FunctionName="ver:2")["Description"],
                         "second")
        self.assertEqual(lam.get_function_configuration(
            FunctionName="ver", Qualifier="$LATEST")["FunctionArn"], self.arn("ver", "$LATEST"))
        # listing, one page at a time
        seen, marker = [], None
        while True:
            kw = {"Marker": marker} if marker else {}
            page = lam.list_versions_by_function(FunctionName="ver", MaxItems=1, **kw)
            seen += [(v["Version"], v["FunctionArn"]) for v in page["Versions"]]
            marker = page.get("NextMarker")
            if not marker:
                break
        self.assertEqual(seen, [("$LATEST", self.arn("ver", "$LATEST"))] +
                         [(v, self.arn("ver", v)) for v in ("1", "2", "3")])
        # errors
        self.assertEqual(self.error("ResourceNotFoundException",
                                    lam.get_function_configuration, FunctionName="ver",
                                    Qualifier="9"),
                         "Function not found: " + self.arn("ver", "9"))
        self.error("ResourceNotFoundException", lam.invoke, FunctionName="ver", Qualifier="nope")
        self.assertEqual(self.error("InvalidParameterValueException", lam.invoke,
                                    FunctionName="ver:1", Qualifier="2"),
                         "The derived qualifier from the function name does not match the "
                         "specified qualifier.")
        self.error("ValidationException", lam.get_function, FunctionName="ver",
                   Qualifier="a.b")
        self.assertIn("does not support versions other than $LATEST",
                      self.error("InvalidParameterValueException",
                                 lam.update_function_configuration, FunctionName="ver:1",
                                 Timeout=5))
        self.assertEqual(self.error("InvalidParameterValueException", lam.delete_function,
                                    FunctionName="ver", Qualifier="$LATEST"),
                         "$LATEST version cannot be deleted without deleting the function.")
        # no such version: nothing deleted, 204 as Lambda answers
        lam.delete_function(FunctionName="ver", Qualifier="7")
        # an alias name (existing or not, also in the ARN): refused, nothing deleted
        lam.create_alias(FunctionName="ver", Name="current", FunctionVersion="2")
        for kw in ({"FunctionName": "ver", "Qualifier": "someday"},
                   {"FunctionName": "ver", "Qualifier": "current"},
                   {"FunctionName": self.arn("ver", "current")},
                   {"FunctionName": "nosuchfn", "Qualifier": "current"}):
            self.assertEqual(self.error("InvalidParameterValueException", lam.delete_function,
                                        **kw),
                             "Deletion of aliases is not currently supported.", kw)
        self.assertEqual(lam.get_alias(FunctionName="ver", Name="current")["FunctionVersion"], "2")
        lam.delete_alias(FunctionName="ver", Name="current")
        self.assertEqual(len(lam.list_versions_by_function(FunctionName="ver")["Versions"]), 4)
        # deleting a version; its number is never given again
        lam.delete_function(FunctionName="ver", Qualifier="3")
        self.error("ResourceNotFoundException", lam.invoke, FunctionName="ver", Qualifier="3")
        self.assertEqual(self.run_it("ver", "1")[1]["tag"], "A")
        lam.update_function_configuration(FunctionName="ver", Timeout=9)
        self.assertEqual(lam.publish_version(FunctionName="ver")["Version"], "4")
        upd = lam.update_function_code(FunctionName="ver", ZipFile=CODE_A, Publish=True)
        self.assertEqual((upd["Version"], upd["CodeSha256"]), ("5", sha_a))

    def test_aliases_and_weighted_routing(self):
        lam = self.lam
        self.create("ali", Publish=True)
        lam.update_function_code(FunctionName="ali", ZipFile=CODE_B)
        lam.publish_version(FunctionName="ali")
        a = lam.create_alias(FunctionName="ali", Name="live", FunctionVersion="1",
                             Description="prod")
        self.assertEqual(a["AliasArn"], self.arn("ali", "live"))
        self.assertEqual((a["Name"], a["FunctionVersion"], a["Description"]),
                         ("live", "1", "prod"))
        self.assertTrue(a["RevisionId"])
        self.assertEqual(lam.get_alias(FunctionName="ali", Name="live")["RevisionId"],
                         a["RevisionId"])
        self.assertEqual(self.error("ResourceConflictException", lam.create_alias,
                                    FunctionName="ali", Name="live", FunctionVersion="2"),
                         "Alias already exists: " + self.arn("ali", "live"))
        self.error("ValidationException", lam.create_alias, FunctionName="ali",
                   Name="123", FunctionVersion="1")
        self.error("InvalidParameterValueException", lam.create_alias, FunctionName="ali",
                   Name="x", FunctionVersion="one")
        self.assertEqual(self.error("ResourceNotFoundException", lam.create_alias,
                                    FunctionName="ali", Name="x", FunctionVersion="8"),
                         "Function not found: " + self.arn("ali", "8"))
        self.assertEqual(self.error("ResourceNotFoundException", lam.get_alias,
                                    FunctionName="ali", Name="gone"),
                         "Cannot find alias arn: " + self.arn("ali", "gone"))
        # an alias runs its version; the configuration shows the alias ARN
        self.assertEqual(self.run_it("ali", "live"), ("1", {"tag": "A", "version": "1",
                                                            "color": ""}))
        self.assertEqual(self.last_arn, self.arn("ali", "live"))
        self.run_it("ali", "1")
        self.assertEqual(self.last_arn, self.arn("ali", "1"))
        cfg = lam.get_function_configuration(FunctionName="ali", Qualifier="live")
        self.assertEqual((cfg["Version"], cfg["FunctionArn"]), ("1", self.arn("ali", "live")))
        # weighted routing between versions 1 and 2
        self.error("ValidationException", lam.update_alias, FunctionName="ali",
                   Name="live", RoutingConfig={"AdditionalVersionWeights": {"2": 1.5}})
        self.error("InvalidParameterValueException", lam.update_alias, FunctionName="ali",
                   Name="live", RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}})
        self.error("ResourceNotFoundException", lam.update_alias, FunctionName="ali",
                   Name="live", RoutingConfig={"AdditionalVersionWeights": {"6": 0.5}})
        self.error("PreconditionFailedException", lam.update_alias, FunctionName="ali",
                   Name="live", RevisionId="0d6ff2e1-0000-0000-0000-000000000000",
                   Description="x")
        self.assertEqual(self.error("ResourceNotFoundException", lam.update_alias,
                                    FunctionName="ali", Name="nope", Description="x"),
                         "Alias not found: " + self.arn("ali", "nope"))
        up = lam.update_alias(FunctionName="ali", Name="live", RevisionId=a["RevisionId"],
                              RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})
        self.assertEqual(up["RoutingConfig"], {"AdditionalVersionWeights": {"2": 0.5}})
        self.assertEqual(up["Description"], "prod")
        self.assertNotEqual(up["RevisionId"], a["RevisionId"])
        runs = [self.run_it("ali", "live") for _ in range(40)]
        self.assertEqual({v for v, _ in runs}, {"1", "2"})
        self.assertTrue(all(body["tag"] == ("A" if v == "1" else "B") for v, body in runs))
        # versions an alias points to cannot go
        self.assertEqual(self.error("ResourceConflictException", lam.delete_function,
                                    FunctionName="ali", Qualifier="2"),
                         "Unable to delete version because the following aliases reference "
                         "it: [live]")
        lam.create_alias(FunctionName="ali", Name="beta", FunctionVersion="2")
        lam.create_alias(FunctionName="ali", Name="edge", FunctionVersion="$LATEST")
        names, marker = [], None
        while True:
            kw = {"Marker": marker} if marker else {}
            page = lam.list_aliases(FunctionName="ali", MaxItems=2, **kw)
            names += [x["Name"] for x in page["Aliases"]]
            marker = page.get("NextMarker")
            if not marker:
                break
        self.assertEqual(names, ["beta", "edge", "live"])
        self.assertEqual([x["Name"] for x in lam.list_aliases(
            FunctionName="ali", FunctionVersion="2")["Aliases"]], ["beta"])
        self.assertEqual(self.run_it("ali", "edge")[0], "$LATEST")
        # back to one version, then delete
        lam.update_alias(FunctionName="ali", Name="live", RoutingConfig={})
        self.assertNotIn("RoutingConfig", lam.get_alias(FunctionName="ali", Name="live"))
        lam.delete_alias(FunctionName="ali", Name="beta")
        lam.delete_alias(FunctionName="ali", Name="beta")  # nothing left: still 204
        self.error("ResourceNotFoundException", lam.get_alias, FunctionName="ali", Name="beta")
        lam.delete_function(FunctionName="ali", Qualifier="2")
        self.error("ResourceNotFoundException", lam.invoke, FunctionName="ali", Qualifier="2")

    def test_list_functions_all_versions_and_tags(self):
        lam = self.lam
        self.create("lst-a", Publish=True)
        lam.update_function_configuration(FunctionName="lst-a", Timeout=5)
        lam.publish_version(FunctionName="lst-a")
        self.create("lst-b")
        mine = lambda fs: [(f["FunctionName"], f["Version"], f["FunctionArn"]) for f in fs
                           if f["FunctionName"].startswith("lst-")]
        plain = lam.list_functions()["Functions"]
        self.assertEqual(mine(plain), [("lst-a", "$LATEST", self.arn("lst-a")),
                                       ("lst-b", "$LATEST", self.arn("lst-b"))])
        want = [("lst-a", "$LATEST", self.arn("lst-a", "$LATEST")),
                ("lst-a", "1", self.arn("lst-a", "1")), ("lst-a", "2", self.arn("lst-a", "2")),
                ("lst-b", "$LATEST", self.arn("lst-b", "$LATEST"))]
        self.assertEqual(mine(lam.list_functions(FunctionVersion="ALL")["Functions"]), want)
        got, marker = [], None
        while True:  # one at a time: the marker may name a version
            kw = {"Marker": marker} if marker else {}
            page = lam.list_functions(FunctionVersion="ALL", MaxItems=1, **kw)
            self.assertLessEqual(len(page["Functions"]), 1)
            got += page["Functions"]
            marker = page.get("NextMarker")
            if not marker:
                break
        self.assertEqual(mine(got), want)
        self.error("ValidationException", lam.list_functions,
                   FunctionVersion="LATEST")
        # tags belong to the function, not to its versions or aliases
        lam.tag_resource(Resource=self.arn("lst-a"), Tags={"team": "x"})
        self.assertEqual(self.error("InvalidParameterValueException", lam.tag_resource,
                                    Resource=self.arn("lst-a", "1"), Tags={"k": "v"}),
                         "Tags on function aliases and versions are not supported. Please "
                         "specify a function ARN.")
        self.error("InvalidParameterValueException", lam.list_tags,
                   Resource=self.arn("lst-a", "1"))
        self.assertEqual(lam.list_tags(Resource=self.arn("lst-a"))["Tags"], {"team": "x"})

    def test_unused_packages_removed(self):
        lam = self.lam
        fdir = os.path.join(self.server.data_dir, "functions", "gc")
        kept = lambda: sorted(e for e in os.listdir(fdir) if not e.startswith("log"))
        sha_hex = lambda c: base64.b64decode(c["CodeSha256"]).hex()
        a = self.create("gc", Publish=True)  # A: $LATEST and version 1
        b = lam.update_function_code(FunctionName="gc", ZipFile=CODE_B, Publish=True)
        self.assertEqual(len(kept()), 4)  # each package: its folder and its zip
        lam.delete_function(FunctionName="gc", Qualifier="1")
        self.assertEqual(kept(), [sha_hex(b), sha_hex(b) + ".zip"])
        lam.update_function_code(FunctionName="gc", ZipFile=CODE_A)  # version 2 keeps B
        self.assertEqual(len(kept()), 4)
        c = lam.update_function_code(FunctionName="gc", ZipFile=tagged_bootstrap("C"))
        self.assertEqual(sorted(kept()), sorted([sha_hex(b), sha_hex(b) + ".zip",
                                                 sha_hex(c), sha_hex(c) + ".zip"]))
        self.assertNotIn(sha_hex(a), kept())
        lam.delete_function(FunctionName="gc", Qualifier="2")
        self.assertEqual(kept(), [sha_hex(c), sha_hex(c) + ".zip"])
        self.assertEqual(self.run_it("gc")[1]["tag"], "C")

    def curl(self, url):
        p = subprocess.run(["curl", "-s", "-o", "-", "-w", "\n%{http_code}", "--max-time", "60",
                            url], capture_output=True, timeout=90)
        body, _, code = p.stdout.rpartition(b"\n")
        return int(code), body

    def test_url_and_policy_on_alias(self):
        lam = self.lam
        self.create("web", Publish=True)
        lam.update_function_code(FunctionName="web", ZipFile=CODE_B, Publish=True)
        lam.create_alias(FunctionName="web", Name="live", FunctionVersion="1")
        cfg = lam.create_function_url_config(FunctionName="web", Qualifier="live",
                                             AuthType="NONE")
        self.assertEqual(cfg["FunctionArn"], self.arn("web", "live"))
        url = cfg["FunctionUrl"]
        self.assertEqual(lam.get_function_url_config(FunctionName="web",
                                                     Qualifier="live")["FunctionUrl"], url)
        self.error("ResourceNotFoundException", lam.get_function_url_config, FunctionName="web")
        self.error("ResourceConflictException", lam.create_function_url_config,
                   FunctionName="web:live", AuthType="NONE")
        self.error("ValidationException", lam.create_function_url_config,
                   FunctionName="web", Qualifier="1", AuthType="NONE")
        self.error("ValidationException", lam.create_function_url_config,
                   FunctionName="web", Qualifier="$LATEST", AuthType="NONE")
        self.assertEqual(self.error("ResourceNotFoundException", lam.create_function_url_config,
                                    FunctionName="web", Qualifier="nope", AuthType="NONE"),
                         "Function does not exist")
        self.assertEqual(self.curl(url)[0], 403)  # no statement for Principal "*" yet
        st = json.loads(lam.add_permission(
            FunctionName="web", Qualifier="live", StatementId="pub",
            Action="lambda:InvokeFunctionUrl", Principal="*",
            FunctionUrlAuthType="NONE")["Statement"])
        self.assertEqual(st["Resource"], self.arn("web", "live"))
        pol = json.loads(lam.get_policy(FunctionName="web", Qualifier="live")["Policy"])
        self.assertEqual([x["Sid"] for x in pol["Statement"]], ["pub"])
        self.error("ResourceNotFoundException", lam.get_policy, FunctionName="web")
        code, body = self.curl(url + "p")
        self.assertEqual((code, json.loads(body)["tag"]), (200, "A"), body)
        # the function's own URL runs $LATEST, with its own policy
        own = lam.create_function_url_config(FunctionName="web", AuthType="NONE")
        self.assertEqual(own["FunctionArn"], self.arn("web"))
        self.assertEqual(self.curl(own["FunctionUrl"])[0], 403)
        lam.add_permission(FunctionName="web", StatementId="pub",
                           Action="lambda:InvokeFunctionUrl", Principal="*",
                           FunctionUrlAuthType="NONE")
        code, body = self.curl(own["FunctionUrl"])
        self.assertEqual(json.loads(body), {"tag": "B", "version": "$LATEST", "color": "",
                                            "arn": self.arn("web")})
        urls = lam.list_function_url_configs(FunctionName="web")["FunctionUrlConfigs"]
        self.assertEqual(sorted(u["FunctionArn"] for u in urls),
                         [self.arn("web"), self.arn("web", "live")])
        # the alias moves: its URL follows
        lam.update_alias(FunctionName="web", Name="live", FunctionVersion="2")
        body = json.loads(self.curl(url)[1])
        self.assertEqual((body["version"], body["arn"]), ("2", self.arn("web", "live")))
        # a statement on a version
        st = json.loads(lam.add_permission(
            FunctionName="web", Qualifier="1", StatementId="v1",
            Action="lambda:InvokeFunction",
            Principal="arn:aws:iam::123456789012:root")["Statement"])
        self.assertEqual(st["Resource"], self.arn("web", "1"))
        self.assertEqual(json.loads(lam.get_policy(FunctionName="web:1")["Policy"])
                         ["Statement"][0]["Sid"], "v1")
        self.error("ResourceNotFoundException", lam.add_permission, FunctionName="web",
                   Qualifier="7", StatementId="x", Action="lambda:InvokeFunction",
                   Principal="*")
        lam.remove_permission(FunctionName="web", Qualifier="1", StatementId="v1")
        self.error("ResourceNotFoundException", lam.get_policy, FunctionName="web", Qualifier="1")
        self.error("ResourceNotFoundException", lam.remove_permission, FunctionName="web",
                   Qualifier="live", StatementId="v1")
        lam.remove_permission(FunctionName="web", Qualifier="live", StatementId="pub")
        self.assertEqual(self.curl(url)[0], 403)
        lam.update_function_url_config(FunctionName="web", Qualifier="live", AuthType="AWS_IAM")
        self.assertEqual(lam.get_function_url_config(FunctionName="web", Qualifier="live")
                         ["AuthType"], "AWS_IAM")
        lam.delete_function_url_config(FunctionName="web", Qualifier="live")
        self.assertEqual(self.curl(url)[0], 403)
        self.assertEqual(len(lam.list_function_url_configs(FunctionName="web")
                             ["FunctionUrlConfigs"]), 1)
        # an alias's URL goes with the alias
        url2 = lam.create_function_url_config(FunctionName="web", Qualifier="live",
                                              AuthType="NONE")["FunctionUrl"]
        lam.delete_alias(FunctionName="web", Name="live")
        self.assertEqual(self.curl(url2)[0], 403)

    def test_iam_on_qualified_arns(self):
        iam = self.server.boto3("iam", max_attempts=1)
        self.create("guarded", Publish=True)
        self.lam.create_alias(FunctionName="guarded", Name="live", FunctionVersion="1")
        iam.create_user(UserName="caller")
        key = iam.create_access_key(UserName="caller")["AccessKey"]
        iam.put_user_policy(UserName="caller", PolicyName="live", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "lambda:InvokeFunction",
                           "Resource": self.arn("guarded", "live")}]}))
        lam = self.server.boto3("lambda", max_attempts=1, read_timeout=60,
                                access_key=key["AccessKeyId"],
                                secret_key=key["SecretAccessKey"])
        deadline = time.monotonic() + 10
        while True:  # the new user's policy may take a moment to apply
            try:
                r = lam.invoke(FunctionName="guarded", Qualifier="live", Payload=b"{}")
                break
            except lam.exceptions.ClientError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        self.assertEqual(r["ExecutedVersion"], "1")
        self.assertEqual(lam.invoke(FunctionName=self.arn("guarded", "live"),
                                    Payload=b"{}")["StatusCode"], 200)
        for kw in ({}, {"Qualifier": "1"}, {"Qualifier": "$LATEST"}):
            with self.assertRaises(lam.exceptions.ClientError) as cm:
                lam.invoke(FunctionName="guarded", Payload=b"{}", **kw)
            self.assertEqual(cm.exception.response["Error"]["Code"], "AccessDeniedException")
        with self.assertRaises(lam.exceptions.ClientError) as cm:
            lam.get_alias(FunctionName="guarded", Name="live")
        self.assertEqual(cm.exception.response["Error"]["Code"], "AccessDeniedException")

    def test_cli_versions_and_aliases(self):
        clients = [c for c in find_clients() if c.kind == "cli" and not c.missing]
        if not clients:
            self.skipTest("no aws CLI")
        zpath = os.path.join(self.server.tmp, "b.zip")
        with open(zpath, "wb") as f:
            f.write(CODE_B)
        for i, client in enumerate(clients):
            name = "cli-ver-%d" % i
            self.create(name)

            def cli(*args):
                return self.aws_cli(client.argv, "lambda", *args)

            self.assertEqual(cli("publish-version", "--function-name", name)["Version"], "1")
            cli("update-function-code", "--function-name", name, "--zip-file",
                "fileb://" + zpath, "--publish")
            vs = cli("list-versions-by-function", "--function-name", name)["Versions"]
            self.assertEqual([v["Version"] for v in vs], ["$LATEST", "1", "2"])
            cli("create-alias", "--function-name", name, "--name", "live",
                "--function-version", "1", "--routing-config",
                '{"AdditionalVersionWeights":{"2":0.0}}')
            out = os.path.join(self.server.tmp, "out-%d.json" % i)
            res = cli("invoke", "--function-name", name, "--qualifier", "live", out)
            self.assertEqual(res["ExecutedVersion"], "1")
            with open(out) as f:
                self.assertEqual(json.load(f)["tag"], "A")
            self.assertEqual(cli("get-alias", "--function-name", name, "--name",
                                 "live")["FunctionVersion"], "1")
            self.assertEqual([a["Name"] for a in cli("list-aliases", "--function-name",
                                                     name)["Aliases"]], ["live"])
            url = cli("create-function-url-config", "--function-name", name, "--qualifier",
                      "live", "--auth-type", "NONE")["FunctionUrl"]
            cli("add-permission", "--function-name", name, "--qualifier", "live",
                "--statement-id", "pub", "--action", "lambda:InvokeFunctionUrl",
                "--principal", "*", "--function-url-auth-type", "NONE")
            pol = json.loads(cli("get-policy", "--function-name", name, "--qualifier",
                                 "live")["Policy"])
            self.assertEqual(pol["Statement"][0]["Resource"], self.arn(name, "live"))
            code, body = self.curl(url)
            self.assertEqual((code, json.loads(body)["tag"]), (200, "A"), body)
            cli("delete-alias", "--function-name", name, "--name", "live")
            cli("delete-function", "--function-name", name, "--qualifier", "1")
            vs = cli("list-versions-by-function", "--function-name", name)["Versions"]
            self.assertEqual([v["Version"] for v in vs], ["$LATEST", "2"])


class VersionsRestartTest(ServerTestCase):
    """Versions and aliases live in the function's record: they survive a
    restart, and DeleteFunction takes them, their instances and packages."""

    def test_restart_keeps_versions_and_delete_removes_all(self):
        lam = self.server.boto3("lambda", max_attempts=1, read_timeout=60)
        lam.create_function(FunctionName="keepv", Runtime="provided.al2023", Role=ROLE,
                            Handler="bootstrap", Code={"ZipFile": CODE_A}, Publish=True)
        lam.update_function_code(FunctionName="keepv", ZipFile=CODE_B, Publish=True)
        lam.create_alias(FunctionName="keepv", Name="live", FunctionVersion="1")
        self.server.stop()
        self.server.start()
        lam = self.server.boto3("lambda", max_attempts=1, read_timeout=60)
        r = lam.invoke(FunctionName="keepv", Qualifier="live", Payload=b"{}")
        self.assertEqual(r["ExecutedVersion"], "1")
        self.assertEqual(json.loads(r["Payload"].read())["tag"], "A")
        r = lam.invoke(FunctionName="keepv", Qualifier="2", Payload=b"{}")
        self.assertEqual(json.loads(r["Payload"].read())["tag"], "B")
        self.assertEqual(lam.publish_version(FunctionName="keepv")["Version"], "2")
        fdir = os.path.join(self.server.data_dir, "functions", "keepv")
        self.assertEqual(len([e for e in os.listdir(fdir) if e.endswith(".zip")]), 2)
        lam.delete_function(FunctionName="keepv")
        self.assertEqual([e for e in os.listdir(fdir) if not e.startswith("log")], [])
        with self.assertRaises(lam.exceptions.ResourceNotFoundException):
            lam.get_alias(FunctionName="keepv", Name="live")
        # a new function of that name starts from nothing
        lam.create_function(FunctionName="keepv", Runtime="provided.al2023", Role=ROLE,
                            Handler="bootstrap", Code={"ZipFile": CODE_A})
        vs = lam.list_versions_by_function(FunctionName="keepv")["Versions"]
        self.assertEqual([v["Version"] for v in vs], ["$LATEST"])
        self.assertEqual(lam.list_aliases(FunctionName="keepv")["Aliases"], [])
        self.assertEqual(lam.publish_version(FunctionName="keepv")["Version"], "1")


if __name__ == "__main__":
    unittest.main()
