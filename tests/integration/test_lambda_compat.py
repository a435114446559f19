"""Functions: the control-plane answers Lambda gives, each asserted exactly
(error code, HTTP status, message text, which body members are there): the
body member of 404s ("Message") and 400s ("message"), ValidationException for
members breaking their model constraint, another region's ARN, not-found
texts of GetFunction, URL configurations and resource policies, AddPermission
and RemovePermission checks (statement id, principal, $LATEST, RevisionId),
the statements they write, aliases' routing weights, CreateFunction's
Architectures and Role. The expected answers are what AWS answered to the
same requests (docs/lambda.md, "LocalStack's Lambda snapshot tests")."""

import io
import json
import unittest
import zipfile

import botocore.config
import botocore.exceptions

from tandem_harness import ServerTestCase

ACCOUNT = "123456789012"
ROLE = "arn:aws:iam::%s:role/lambda-role" % ACCOUNT
NOT_THERE = "The resource you requested does not exist."
ARN_PATTERN_QUAL = ("1 validation error detected: Value '%s' at 'qualifier' failed to satisfy "
                    "constraint: Member must satisfy regular expression pattern: "
                    "((?!^\\d+$)^[0-9a-zA-Z-_]+$)")


def py_zip(extra=""):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        z.writestr("index.py", "def handler(event, context):\n    return event\n" + extra)
    return b.getvalue()


class LambdaCompatTest(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.lam = cls.server.boto3("lambda", max_attempts=1, read_timeout=60)
        # no client-side checks: the server's own answers to bad input
        creds = cls.lam._request_signer._credentials
        import boto3
        cls.raw = boto3.client(
            "lambda", endpoint_url=cls.server.url(), region_name="us-east-1",
            aws_access_key_id=creds.access_key, aws_secret_access_key=creds.secret_key,
            config=botocore.config.Config(parameter_validation=False,
                                          retries={"max_attempts": 0}))

    def arn(self, name, qual=None):
        return "arn:aws:lambda:us-east-1:%s:function:%s%s" % (ACCOUNT, name,
                                                              ":" + qual if qual else "")

    def create(self, name, **kw):
        args = dict(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="index.handler",
                    Code={"ZipFile": py_zip()})
        args.update(kw)
        return self.lam.create_function(**args)

    def refused(self, fn, code, status, message, **kw):
        """Call @fn; assert Lambda's error @code, @status and exact @message,
        and the body member carrying it as the model's shape names it."""
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            fn(**kw)
        r = cm.exception.response
        self.assertEqual((r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"],
                          r["Error"]["Message"]), (code, status, message), r)
        if code == "ResourceNotFoundException":
            self.assertEqual((r.get("Message"), r.get("Type")), (message, "User"), r)
            self.assertNotIn("message", r)
        elif code in ("InvalidParameterValueException", "ResourceConflictException",
                      "PreconditionFailedException"):
            self.assertEqual((r.get("message"), r.get("Type")), (message, "User"), r)
        return r

    # ---- functions ----

    def test_not_found_members_and_qualified_texts(self):
        self.create("nf-fn")
        r = self.refused(self.raw.get_function, "ResourceNotFoundException", 404,
                         "Function not found: " + self.arn("nope"), FunctionName="nope")
        self.assertEqual(r["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"],
                         "ResourceNotFoundException")
        # a qualifier given, even $LATEST, is in the ARN of the answer
        for fn in (self.raw.get_function, self.raw.get_function_configuration):
            self.refused(fn, "ResourceNotFoundException", 404,
                         "Function not found: " + self.arn("some-function", "$LATEST"),
                         FunctionName=self.arn("some-function", "$LATEST"), Qualifier="$LATEST")
            self.refused(fn, "ResourceNotFoundException", 404,
                         "Function not found: " + self.arn("nf-fn", "1221"),
                         FunctionName="nf-fn", Qualifier="1221")
        # DeleteFunction of a missing function names it unqualified
        self.refused(self.raw.delete_function, "ResourceNotFoundException", 404,
                     "Function not found: " + self.arn("nope"), FunctionName="nope",
                     Qualifier="1233")

    def test_other_region_arn_is_not_reachable(self):
        self.create("reg-fn")
        other = "arn:aws:lambda:eu-central-1:%s:function:reg-fn" % ACCOUNT
        msg = "Functions from 'eu-central-1' are not reachable in this region ('us-east-1')"
        for fn in (self.raw.get_function, self.raw.get_function_configuration,
                   self.raw.get_function_url_config, self.raw.get_function_event_invoke_config,
                   self.raw.delete_function, self.raw.invoke):
            self.refused(fn, "ResourceNotFoundException", 404, msg, FunctionName=other)
        # and nothing was deleted
        self.lam.get_function(FunctionName="reg-fn")

    def test_create_validation(self):
        self.refused(self.raw.create_function, "ValidationException", 400,
                     "1 validation error detected: Value 'r1' at 'role' failed to satisfy "
                     "constraint: Member must satisfy regular expression pattern: "
                     "arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+",
                     FunctionName="inv-fn", Runtime="python3.12", Role="r1",
                     Handler="index.handler", Code={"ZipFile": py_zip()})
        self.create("upd-fn")
        self.refused(self.raw.update_function_configuration, "ValidationException", 400,
                     "1 validation error detected: Value 'r1' at 'role' failed to satisfy "
                     "constraint: Member must satisfy regular expression pattern: "
                     "arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+",
                     FunctionName="upd-fn", Role="r1")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.create("inv-fn", Runtime="PYTHON3.9")
        msg = cm.exception.response["Error"]["Message"]
        self.assertTrue(msg.startswith("Value PYTHON3.9 at 'runtime' failed to satisfy "
                                       "constraint: Member must satisfy enum value set: ["), msg)
        self.assertTrue(msg.endswith("] or be a valid ARN"), msg)
        self.refused(self.raw.create_function, "ValidationException", 400,
                     "1 validation error detected: Value '[x86_64, arm64]' at 'architectures' "
                     "failed to satisfy constraint: Member must have length less than or "
                     "equal to 1", FunctionName="inv-fn", Runtime="python3.12", Role=ROLE,
                     Handler="index.handler", Code={"ZipFile": py_zip()},
                     Architectures=["x86_64", "arm64"])
        self.refused(self.raw.create_function, "ValidationException", 400,
                     "1 validation error detected: Value '[X86_64]' at 'architectures' failed "
                     "to satisfy constraint: Member must satisfy constraint: [Member must "
                     "satisfy enum value set: [x86_64, arm64], Member must not be null]",
                     FunctionName="inv-fn", Runtime="python3.12", Role=ROLE,
                     Handler="index.handler", Code={"ZipFile": py_zip()},
                     Architectures=["X86_64"])
        self.refused(self.raw.create_function, "InvalidParameterValueException", 400,
                     "Could not unzip uploaded file. Please check your file, then try to "
                     "upload again.", FunctionName="inv-fn", Runtime="python3.12", Role=ROLE,
                     Handler="index.handler",
                     Code={"ZipFile": b"this is not a zipfile, just a random string"})
        self.assertEqual(self.create("arm-fn", Architectures=["arm64"])["Architectures"],
                         ["arm64"])
        self.refused(self.raw.list_functions, "ValidationException", 400,
                     "1 validation error detected: Value 'invalid' at 'functionVersion' failed "
                     "to satisfy constraint: Member must satisfy enum value set: [ALL]",
                     FunctionVersion="invalid")

    def test_function_name_checks(self):
        pattern = ("(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\\d{1}:)?"
                   "(\\d{12}:)?(function:)?")
        code = {"ZipFile": py_zip()}
        base = dict(Runtime="python3.12", Role=ROLE, Handler="index.handler", Code=code)
        self.refused(self.raw.create_function, "ValidationException", 400,
                     "1 validation error detected: Value 'invalid:function:name' at "
                     "'functionName' failed to satisfy constraint: Member must satisfy regular "
                     "expression pattern: " + pattern +
                     "([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?",
                     FunctionName="invalid:function:name", **base)
        self.refused(self.raw.create_function, "InvalidParameterValueException", 400,
                     "1 validation error detected: Value '%s' at 'functionName' failed to "
                     "satisfy constraint: Member must have length less than or equal to 64"
                     % ("a" * 65), FunctionName="a" * 65, **base)
        long_arn = self.arn("a" * (141 - len(self.arn(""))))
        self.refused(self.raw.create_function, "ValidationException", 400,
                     "1 validation error detected: Value '%s' at 'functionName' failed to "
                     "satisfy constraint: Member must have length less than or equal to 140"
                     % long_arn, FunctionName=long_arn, **base)
        self.refused(self.raw.create_function, "ResourceNotFoundException", 404,
                     "Functions from 'ap-southeast-1' are not reachable in this region "
                     "('us-east-1')",
                     FunctionName="arn:aws:lambda:ap-southeast-1:%s:function:x1" % ACCOUNT,
                     **base)
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.raw.create_function(
                FunctionName="arn:aws:lambda:us-east-1:111122223333:function:x1", **base)
        self.assertEqual((cm.exception.response["Error"]["Code"],
                          cm.exception.response["ResponseMetadata"]["HTTPStatusCode"]),
                         ("AccessDeniedException", 403))
        # an ARN and a partial ARN name the function
        self.assertEqual(self.create(self.arn("by-arn"))["FunctionName"], "by-arn")
        self.assertEqual(self.create("%s:function:by-partial" % ACCOUNT)["FunctionArn"],
                         self.arn("by-partial"))
        bad = "arn:aws:lambda:us-east-1:123400000000@function:myfn"
        self.refused(self.raw.invoke, "ValidationException", 400,
                     "1 validation error detected: Value '%s' at 'functionName' failed to "
                     "satisfy constraint: Member must satisfy regular expression pattern: %s"
                     "([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?" % (bad, pattern),
                     FunctionName=bad, Payload=b"{}")

    def test_states_answered_and_listed(self):
        made = self.create("st8-fn", MemorySize=256, Timeout=5)
        self.assertEqual((made["State"], made["StateReason"], made["StateReasonCode"]),
                         ("Pending", "The function is being created.", "Creating"))
        self.assertNotIn("LastUpdateStatus", made)
        self.assertEqual(made["SnapStart"], {"ApplyOn": "None", "OptimizationStatus": "Off"})
        self.assertEqual(made["LoggingConfig"],
                         {"LogFormat": "Text", "LogGroup": "/aws/lambda/st8-fn"})
        got = self.lam.get_function(FunctionName="st8-fn")["Configuration"]
        self.assertEqual((got["State"], got["LastUpdateStatus"]), ("Active", "Successful"))
        # no Environment given, none shown; one given is shown even when empty
        self.assertNotIn("Environment", made)
        self.assertNotIn("Environment", got)
        self.assertEqual(self.create("st8-env", Environment={"Variables": {}})["Environment"],
                         {"Variables": {}})
        for k in ("StateReason", "StateReasonCode", "LastUpdateStatusReason"):
            self.assertNotIn(k, got)
        upd = self.lam.update_function_configuration(FunctionName="st8-fn", Description="d")
        self.assertEqual((upd["State"], upd["LastUpdateStatus"], upd["LastUpdateStatusReason"],
                          upd["LastUpdateStatusReasonCode"]),
                         ("Active", "InProgress", "The function is being created.", "Creating"))
        got = self.lam.get_function_configuration(FunctionName="st8-fn")
        self.assertEqual(got["LastUpdateStatus"], "Successful")
        code = self.lam.update_function_code(FunctionName="st8-fn", ZipFile=py_zip())
        self.assertEqual(code["LastUpdateStatus"], "InProgress")
        # publishing makes a version and a new RevisionId of $LATEST
        rev = self.lam.get_function(FunctionName="st8-fn")["Configuration"]["RevisionId"]
        v1 = self.lam.publish_version(FunctionName="st8-fn")
        self.assertEqual((v1["State"], v1["LastUpdateStatus"]), ("Active", "Successful"))
        self.assertNotEqual(
            self.lam.get_function(FunctionName="st8-fn")["Configuration"]["RevisionId"], rev)
        # UpdateFunctionCode with Publish answers the new version as one being created
        pub = self.lam.update_function_code(FunctionName="st8-fn", ZipFile=py_zip("#2"),
                                            Publish=True)
        self.assertEqual((pub["Version"], pub["State"]), ("2", "Pending"))
        self.assertNotIn("LastUpdateStatus", pub)
        # lists leave the states out
        for item in (self.lam.list_versions_by_function(FunctionName="st8-fn")["Versions"] +
                     [f for f in self.lam.list_functions(FunctionVersion="ALL")["Functions"]
                      if f["FunctionName"] == "st8-fn"]):
            for k in ("State", "LastUpdateStatus"):
                self.assertNotIn(k, item)
            self.assertEqual(item["SnapStart"], {"ApplyOn": "None", "OptimizationStatus": "Off"})

    def test_tag_refusals_and_revisions(self):
        self.create("tag-fn")
        arn = self.arn("tag-fn")
        self.refused(self.raw.tag_resource, "ValidationException", 400,
                     "1 validation error detected: Value 'arn:aws:something' at 'resource' "
                     "failed to satisfy constraint: Member must satisfy regular expression "
                     "pattern: arn:(aws[a-zA-Z-]*)?:lambda:[a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-"
                     "\\d{1}:\\d{12}:(function:[a-zA-Z0-9-_]+(:(\\$LATEST|[a-zA-Z0-9-_]+))?|"
                     "layer:[a-zA-Z0-9-_]+)", Resource="arn:aws:something", Tags={"k": "v"})
        self.refused(self.raw.tag_resource, "ResourceNotFoundException", 404,
                     "Function not found: " + self.arn("doesnotexist"),
                     Resource=self.arn("doesnotexist"), Tags={"k": "v"})
        self.refused(self.raw.tag_resource, "InvalidParameterValueException", 400,
                     "Tags on function aliases and versions are not supported. Please specify "
                     "a function ARN.", Resource=arn + ":v1", Tags={"k": "v"})
        self.refused(self.raw.untag_resource, "ValidationException", 400,
                     "1 validation error detected: Value null at 'tagKeys' failed to satisfy "
                     "constraint: Member must not be null", Resource=arn, TagKeys=[])
        self.refused(self.raw.tag_resource, "InvalidParameterValueException", 400,
                     "An error occurred and the request cannot be processed.", Resource=arn,
                     Tags={})
        self.refused(self.raw.tag_resource, "InvalidParameterValueException", 400,
                     "Number of tags exceeds resource tag limit.", Resource=arn,
                     Tags={"%d_key" % k: "%d_value" % k for k in range(51)})
        self.lam.tag_resource(Resource=arn, Tags={"%d_key" % k: "v" for k in range(50)})
        self.refused(self.raw.tag_resource, "InvalidParameterValueException", 400,
                     "Number of tags exceeds resource tag limit.", Resource=arn,
                     Tags={"one_more": "v"})
        self.assertEqual(len(self.lam.list_tags(Resource=arn)["Tags"]), 50)
        # GetFunction shows Tags only while there are some
        self.create("tag-fn2")
        self.assertNotIn("Tags", self.lam.get_function(FunctionName="tag-fn2"))
        self.lam.tag_resource(Resource=self.arn("tag-fn2"), Tags={"a": "b"})
        self.assertEqual(self.lam.get_function(FunctionName="tag-fn2")["Tags"], {"a": "b"})
        self.lam.untag_resource(Resource=self.arn("tag-fn2"), TagKeys=["a"])
        self.assertNotIn("Tags", self.lam.get_function(FunctionName="tag-fn2"))
        # tagging and untagging are changes of the function: a new RevisionId
        rev = self.lam.get_function(FunctionName="tag-fn")["Configuration"]["RevisionId"]
        self.lam.untag_resource(Resource=arn, TagKeys=["0_key"])
        rev2 = self.lam.get_function(FunctionName="tag-fn")["Configuration"]["RevisionId"]
        self.assertNotEqual(rev, rev2)
        self.lam.tag_resource(Resource=arn, Tags={"0_key": "v"})
        self.assertNotEqual(
            self.lam.get_function(FunctionName="tag-fn")["Configuration"]["RevisionId"], rev2)

    # ---- aliases ----

    def test_alias_routing_weights(self):
        self.create("al-fn", Publish=True)
        self.lam.update_function_configuration(FunctionName="al-fn", Description="2")
        self.lam.publish_version(FunctionName="al-fn")
        for weight, shown in ((2, "2.0"), (-1, "-1.0"), (1.5, "1.5")):
            r = self.refused(
                self.raw.create_alias, "ValidationException", 400,
                "1 validation error detected: Value '{2=%s}' at "
                "'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map "
                "value must satisfy constraint: [Member must have value less than or equal to "
                "1.0, Member must have value greater than or equal to 0.0, Member must not be "
                "null]" % shown, FunctionName="al-fn", Name="custom", FunctionVersion="1",
                RoutingConfig={"AdditionalVersionWeights": {"2": weight}})
            self.assertEqual(r["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"],
                             "ValidationException")
        self.refused(self.raw.create_alias, "ValidationException", 400,
                     "1 validation error detected: Value '{$LATEST=0.5}' at "
                     "'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map "
                     "keys must satisfy constraint: [Member must have length less than or equal "
                     "to 1024, Member must have length greater than or equal to 1, Member must "
                     "satisfy regular expression pattern: [0-9]+, Member must not be null]",
                     FunctionName="al-fn", Name="custom", FunctionVersion="1",
                     RoutingConfig={"AdditionalVersionWeights": {"$LATEST": 0.5}})
        self.refused(self.raw.create_alias, "ValidationException", 400,
                     "1 validation error detected: Value '2024' at 'name' failed to satisfy "
                     "constraint: Member must satisfy regular expression pattern: "
                     "(?!^[0-9]+$)([a-zA-Z0-9-_]+)", FunctionName="al-fn", Name="2024",
                     FunctionVersion="1")
        self.lam.create_alias(FunctionName="al-fn", Name="2024-01-02", FunctionVersion="1")
        self.refused(self.raw.create_alias, "InvalidParameterValueException", 400,
                     "Number of items in AdditionalVersionWeights cannot be greater than 1",
                     FunctionName="al-fn", Name="custom", FunctionVersion="1",
                     RoutingConfig={"AdditionalVersionWeights": {"1": 0.8, "2": 0.2}})

    # ---- URL configurations ----

    def test_url_config_not_found_and_qualifier_texts(self):
        self.create("url-fn")
        self.lam.publish_version(FunctionName="url-fn")
        self.lam.create_alias(FunctionName="url-fn", Name="urlalias", FunctionVersion="1")
        for name in ("nope", self.arn("nope")):
            self.refused(self.raw.create_function_url_config, "ResourceNotFoundException", 404,
                         "Function does not exist", FunctionName=name, AuthType="NONE")
            self.refused(self.raw.update_function_url_config, "ResourceNotFoundException", 404,
                         "Function does not exist", FunctionName=name, AuthType="AWS_IAM")
            self.refused(self.raw.get_function_url_config, "ResourceNotFoundException", 404,
                         NOT_THERE, FunctionName=name)
            self.refused(self.raw.delete_function_url_config, "ResourceNotFoundException", 404,
                         NOT_THERE, FunctionName=name)
        self.refused(self.raw.create_function_url_config, "ResourceNotFoundException", 404,
                     "Function does not exist", FunctionName="url-fn", Qualifier="v1",
                     AuthType="NONE")
        self.refused(self.raw.get_function_url_config, "ResourceNotFoundException", 404,
                     NOT_THERE, FunctionName="url-fn", Qualifier="v1")
        self.refused(self.raw.list_function_url_configs, "ResourceNotFoundException", 404,
                     "Function does not exist", FunctionName="nope")
        for q in ("1", "2", "$LATEST"):
            for fn, kw in ((self.raw.create_function_url_config, {"AuthType": "NONE"}),
                           (self.raw.get_function_url_config, {}),
                           (self.raw.delete_function_url_config, {}),
                           (self.raw.update_function_url_config, {"AuthType": "AWS_IAM"})):
                r = self.refused(fn, "ValidationException", 400, ARN_PATTERN_QUAL % q,
                                 FunctionName="url-fn", Qualifier=q, **kw)
                self.assertNotIn("Type", r)

    # ---- resource policies ----

    def test_permission_refusals(self):
        self.create("pol-fn")
        add = self.raw.add_permission
        s3 = dict(Action="lambda:InvokeFunction", Principal="s3.amazonaws.com",
                  SourceArn="arn:aws:s3:::test-bucket")
        self.refused(add, "ValidationException", 400,
                     "1 validation error detected: Value 'example.com' at 'statementId' failed "
                     "to satisfy constraint: Member must satisfy regular expression pattern: "
                     "([a-zA-Z0-9-_]+)", FunctionName="pol-fn", StatementId="example.com", **s3)
        self.refused(add, "InvalidParameterValueException", 400,
                     "We currently do not support adding policies for $LATEST.",
                     FunctionName="pol-fn:$LATEST", Qualifier="$LATEST", StatementId="s3",
                     **s3)
        self.refused(add, "InvalidParameterValueException", 400,
                     "The provided principal was invalid. Please check the principal and try "
                     "again.", FunctionName="pol-fn", StatementId="lambda",
                     Action="lambda:InvokeFunction", Principal="invalid.nonaws.com",
                     SourceAccount=ACCOUNT)
        self.refused(self.raw.remove_permission, "ResourceNotFoundException", 404,
                     "No policy is associated with the given resource.", FunctionName="pol-fn",
                     StatementId="s3")
        self.refused(add, "ResourceNotFoundException", 404,
                     "Cannot find alias arn: " + self.arn("pol-fn", "alias-doesnotexist"),
                     FunctionName="pol-fn:alias-doesnotexist", StatementId="s3", **s3)
        self.refused(add, "ResourceNotFoundException", 404,
                     "Function not found: " + self.arn("pol-fn", "42"), FunctionName="pol-fn",
                     Qualifier="42", StatementId="s3", **s3)
        self.refused(add, "ValidationException", 400,
                     "1 validation error detected: Value 'invalid-qualifier-with-?-char' at "
                     "'qualifier' failed to satisfy constraint: Member must satisfy regular "
                     "expression pattern: (|[a-zA-Z0-9$_-]+)", FunctionName="pol-fn",
                     Qualifier="invalid-qualifier-with-?-char", StatementId="s3", **s3)
        self.refused(add, "ResourceNotFoundException", 404,
                     "Function not found: " + self.arn("pol-fn", "valid-with-$-but-doesnotexist"),
                     FunctionName="pol-fn", Qualifier="valid-with-$-but-doesnotexist",
                     StatementId="s3", **s3)
        self.refused(self.raw.remove_permission, "ResourceNotFoundException", 404,
                     "No policy found for: " + self.arn("doesnotexist"),
                     FunctionName="doesnotexist", StatementId="s3")
        self.refused(self.raw.remove_permission, "ResourceNotFoundException", 404,
                     "Cannot find alias arn: " + self.arn("pol-fn", "alias-doesnotexist"),
                     FunctionName="pol-fn", Qualifier="alias-doesnotexist", StatementId="s3")
        self.refused(self.raw.get_policy, "ResourceNotFoundException", 404, NOT_THERE,
                     FunctionName="pol-fn", Qualifier="77")
        # RevisionId is checked by both
        wrong = ("The Revision Id provided does not match the latest Revision Id. Call the "
                 "GetFunction/GetAlias API to retrieve the latest Revision Id")
        self.refused(add, "PreconditionFailedException", 412, wrong, FunctionName="pol-fn",
                     StatementId="s3", RevisionId="wrong", **s3)
        rev = self.lam.get_function(FunctionName="pol-fn")["Configuration"]["RevisionId"]
        self.lam.add_permission(FunctionName="pol-fn", StatementId="s3", RevisionId=rev, **s3)
        self.refused(self.raw.remove_permission, "PreconditionFailedException", 412, wrong,
                     FunctionName="pol-fn", StatementId="s3", RevisionId="wrong")
        rev = self.lam.get_policy(FunctionName="pol-fn")["RevisionId"]
        self.lam.remove_permission(FunctionName="pol-fn", StatementId="s3", RevisionId=rev)
        self.refused(self.raw.get_policy, "ResourceNotFoundException", 404, NOT_THERE,
                     FunctionName="pol-fn")

    def test_permission_statements(self):
        self.create("st-fn")

        def statement(**kw):
            return json.loads(self.lam.add_permission(FunctionName="st-fn",
                                                      **kw)["Statement"])
        self.assertEqual(statement(StatementId="account-id", Action="lambda:InvokeFunction",
                                   Principal=ACCOUNT)["Principal"],
                         {"AWS": "arn:aws:iam::%s:root" % ACCOUNT})
        st = statement(StatementId="urlPermission", Action="lambda:InvokeFunctionUrl",
                       Principal="*", SourceArn="arn:aws:s3:::test-bucket",
                       SourceAccount=ACCOUNT, PrincipalOrgID="o-1234567890",
                       FunctionUrlAuthType="NONE")
        self.assertEqual(st["Condition"], {
            "StringEquals": {"lambda:FunctionUrlAuthType": "NONE",
                             "aws:PrincipalOrgID": "o-1234567890",
                             "AWS:SourceAccount": ACCOUNT},
            "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::test-bucket"}})
        st = statement(StatementId="alexaSkill", Action="lambda:InvokeFunction", Principal="*",
                       EventSourceToken="amzn1.ask.skill.xxxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx")
        self.assertEqual(st["Condition"], {"StringEquals": {
            "lambda:EventSourceToken": "amzn1.ask.skill.xxxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"}})
        self.assertEqual(statement(StatementId="svc", Action="lambda:InvokeFunction",
                                   Principal="alexa-appkit.amazon.com")["Principal"],
                         {"Service": "alexa-appkit.amazon.com"})

    def test_policy_revisions_of_versions_and_aliases(self):
        self.create("prv-fn")
        v = self.lam.publish_version(FunctionName="prv-fn")
        a = self.lam.create_alias(FunctionName="prv-fn", Name="live", FunctionVersion="1")
        s3 = dict(Action="lambda:InvokeFunction", Principal="s3.amazonaws.com")
        self.lam.add_permission(FunctionName="prv-fn", Qualifier="1", StatementId="v", **s3)
        pol = self.lam.get_policy(FunctionName="prv-fn", Qualifier="1")
        self.assertNotEqual(pol["RevisionId"], v["RevisionId"])
        self.assertEqual(pol["RevisionId"], self.lam.get_function_configuration(
            FunctionName="prv-fn", Qualifier="1")["RevisionId"])
        self.lam.add_permission(FunctionName="prv-fn:live", Qualifier="live", StatementId="a",
                                RevisionId=a["RevisionId"], **s3)
        pol = self.lam.get_policy(FunctionName="prv-fn", Qualifier="live")
        self.assertNotEqual(pol["RevisionId"], a["RevisionId"])
        self.assertEqual(pol["RevisionId"],
                         self.lam.get_alias(FunctionName="prv-fn", Name="live")["RevisionId"])
        self.lam.remove_permission(FunctionName="prv-fn", Qualifier="live", StatementId="a",
                                   RevisionId=pol["RevisionId"])
        self.assertNotEqual(self.lam.get_alias(FunctionName="prv-fn", Name="live")["RevisionId"],
                            pol["RevisionId"])

    # ---- event invoke configurations ----

    def test_event_invoke_destination_pattern(self):
        self.create("ev-fn")
        self.refused(self.raw.put_function_event_invoke_config, "ValidationException", 400,
                     "1 validation error detected: Value 'arn:aws:_-/!lambda:us-east-1:%s:"
                     "function:ev-fn' at 'destinationConfig.onFailure.destination' failed to "
                     "satisfy constraint: Member must satisfy regular expression pattern: "
                     "$|kafka://([^.]([a-zA-Z0-9\\-_.]{0,248}))|arn:(aws[a-zA-Z0-9-]*):"
                     "([a-zA-Z0-9\\-])+:([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1})?:"
                     "(\\d{12})?:(.*)" % ACCOUNT, FunctionName="ev-fn",
                     DestinationConfig={"OnFailure": {
                         "Destination": self.arn("ev-fn").replace(":lambda:", ":_-/!lambda:")}})


if __name__ == "__main__":
    unittest.main()
