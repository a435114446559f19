"""The configuration of asynchronous invocation (Put/Update/Get/Delete/
ListFunctionEventInvokeConfigs) through boto3 and the aws CLI: defaults,
replace against merge, versions and aliases, validation, destinations, IAM
actions, durability across a restart and removal with the function."""

import datetime
import json
import unittest

from botocore.exceptions import ClientError

from tandem_harness import ServerTestCase, find_clients
from test_lambda import zip_of

ACCOUNT = "123456789012"
ROLE = "arn:aws:iam::%s:role/async-role" % ACCOUNT
ARN = "arn:aws:lambda:us-east-1:%s:function:" % ACCOUNT
BOOT = "#!/bin/sh\nexit 1\n"


class EventInvokeConfigTest(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.clients()
        code = zip_of({"bootstrap": (BOOT, 0o755)})
        for name in ("cfg-fn", "cfg-dest", "cfg-other"):
            cls.lam.create_function(FunctionName=name, Runtime="provided.al2023", Role=ROLE,
                                    Handler="x", Code={"ZipFile": code})

    @classmethod
    def clients(cls):
        cls.lam = cls.server.boto3("lambda", max_attempts=1)
        cls.raw = cls.server.boto3("lambda", max_attempts=1, parameter_validation=False)

    def error(self, call, code, message=None, **kw):
        with self.assertRaises(ClientError) as cm:
            call(**kw)
        self.assertEqual(cm.exception.response["Error"]["Code"], code, cm.exception.response)
        if message is not None:
            self.assertEqual(cm.exception.response["Error"]["Message"], message)
        return cm.exception.response

    def test_put_get_update_delete(self):
        lam = self.lam
        self.error(lam.get_function_event_invoke_config, "ResourceNotFoundException",
                   "The function %scfg-fn:$LATEST doesn't have an EventInvokeConfig" % ARN,
                   FunctionName="cfg-fn")
        put = lam.put_function_event_invoke_config(
            FunctionName="cfg-fn", MaximumRetryAttempts=1,
            DestinationConfig={"OnFailure": {"Destination": ARN + "cfg-dest"}})
        self.assertEqual(put["FunctionArn"], ARN + "cfg-fn:$LATEST")
        self.assertEqual(put["MaximumRetryAttempts"], 1)
        self.assertNotIn("MaximumEventAgeInSeconds", put)
        self.assertEqual(put["DestinationConfig"],
                         {"OnSuccess": {}, "OnFailure": {"Destination": ARN + "cfg-dest"}})
        self.assertIsInstance(put["LastModified"], datetime.datetime)
        now = datetime.datetime.now(datetime.timezone.utc)
        self.assertLess(abs((now - put["LastModified"]).total_seconds()), 60)
        got = lam.get_function_event_invoke_config(FunctionName="cfg-fn")
        del got["ResponseMetadata"], put["ResponseMetadata"]
        self.assertEqual(got, put)
        # Update merges: the destination stays
        up = lam.update_function_event_invoke_config(FunctionName=ARN + "cfg-fn",
                                                     MaximumEventAgeInSeconds=120)
        self.assertEqual((up["MaximumRetryAttempts"], up["MaximumEventAgeInSeconds"]), (1, 120))
        self.assertEqual(up["DestinationConfig"]["OnFailure"], {"Destination": ARN + "cfg-dest"})
        up = lam.update_function_event_invoke_config(
            FunctionName="cfg-fn",
            DestinationConfig={"OnSuccess": {"Destination": ARN + "cfg-dest:$LATEST"}})
        self.assertEqual(up["DestinationConfig"],
                         {"OnSuccess": {"Destination": ARN + "cfg-dest:$LATEST"},
                          "OnFailure": {}})
        self.assertEqual(up["MaximumEventAgeInSeconds"], 120)
        # Put replaces: what it leaves out is gone
        put = lam.put_function_event_invoke_config(FunctionName="cfg-fn",
                                                   MaximumEventAgeInSeconds=21600)
        self.assertNotIn("MaximumRetryAttempts", put)
        self.assertEqual(put["DestinationConfig"], {"OnSuccess": {}, "OnFailure": {}})
        lam.delete_function_event_invoke_config(FunctionName="cfg-fn")
        self.error(lam.delete_function_event_invoke_config, "ResourceNotFoundException",
                   "The function %scfg-fn:$LATEST doesn't have an EventInvokeConfig" % ARN,
                   FunctionName="cfg-fn")
        self.error(lam.update_function_event_invoke_config, "ResourceNotFoundException",
                   "The function %scfg-fn:$LATEST doesn't have an EventInvokeConfig" % ARN,
                   FunctionName="cfg-fn", MaximumRetryAttempts=0)

    def test_validation(self):
        raw = self.raw
        self.error(raw.put_function_event_invoke_config, "InvalidParameterValueException",
                   "You must specify at least one of error handling or destination setting.",
                   FunctionName="cfg-fn")
        self.error(raw.put_function_event_invoke_config, "InvalidParameterValueException",
                   "1 validation error detected: Value '3' at 'maximumRetryAttempts' failed to "
                   "satisfy constraint: Member must have value less than or equal to 2",
                   FunctionName="cfg-fn", MaximumRetryAttempts=3)
        self.error(raw.put_function_event_invoke_config, "InvalidParameterValueException",
                   "1 validation error detected: Value '59' at 'maximumEventAgeInSeconds' failed "
                   "to satisfy constraint: Member must have value greater than or equal to 60",
                   FunctionName="cfg-fn", MaximumEventAgeInSeconds=59)
        self.error(raw.put_function_event_invoke_config, "InvalidParameterValueException",
                   FunctionName="cfg-fn", MaximumEventAgeInSeconds=21601)
        self.error(raw.put_function_event_invoke_config, "ResourceNotFoundException",
                   "The function doesn't exist.", FunctionName="cfg-none",
                   MaximumRetryAttempts=0)
        self.error(raw.put_function_event_invoke_config, "ResourceNotFoundException",
                   "The function doesn't exist.", FunctionName="cfg-fn", Qualifier="7",
                   MaximumRetryAttempts=0)
        # destinations: only functions of this region; SQS, SNS, EventBridge, S3 are refused
        for dest in ("arn:aws:sqs:us-east-1:%s:q" % ACCOUNT,
                     "arn:aws:sns:us-east-1:%s:t" % ACCOUNT,
                     "arn:aws:events:us-east-1:%s:event-bus/default" % ACCOUNT,
                     "arn:aws:s3:::bucket",
                     ARN + "cfg-missing",
                     ARN + "cfg-dest:9",
                     "arn:aws:lambda:us-west-2:%s:function:cfg-dest" % ACCOUNT):
            self.error(raw.put_function_event_invoke_config, "InvalidParameterValueException",
                       "The destination ARN %s is invalid." % dest, FunctionName="cfg-fn",
                       DestinationConfig={"OnFailure": {"Destination": dest}})
        self.error(raw.put_function_event_invoke_config, "InvalidParameterValueException",
                   "You can't specify the function as a destination for itself.",
                   FunctionName="cfg-fn",
                   DestinationConfig={"OnSuccess": {"Destination": ARN + "cfg-fn"}})
        self.error(raw.put_function_event_invoke_config, "InvalidParameterValueException",
                   "The provided destination config DestinationConfig(onSuccess=null, onFailure="
                   "OnFailure(destination=arn:aws:dynamodb:us-east-1:%s:table/t)) is invalid."
                   % ACCOUNT, FunctionName="cfg-fn",
                   DestinationConfig={"OnFailure": {
                       "Destination": "arn:aws:dynamodb:us-east-1:%s:table/t" % ACCOUNT}})
        r = self.error(raw.put_function_event_invoke_config, "ValidationException",
                       FunctionName="cfg-fn",
                       DestinationConfig={"OnSuccess": {"Destination": "not-an-arn"}})
        self.assertIn("at 'destinationConfig.onSuccess.destination' failed to satisfy",
                      r["Error"]["Message"])
        self.error(raw.list_function_event_invoke_configs, "InvalidParameterValueException",
                   FunctionName="cfg-fn", MaxItems=51)
        self.error(raw.list_function_event_invoke_configs, "ResourceNotFoundException",
                   FunctionName="cfg-none")
        # nothing was written by any refusal
        self.assertEqual(self.lam.list_function_event_invoke_configs(
            FunctionName="cfg-fn")["FunctionEventInvokeConfigs"], [])

    def test_versions_aliases_list_and_removal(self):
        lam = self.lam
        code = zip_of({"bootstrap": (BOOT, 0o755)})
        lam.create_function(FunctionName="cfg-ver", Runtime="provided.al2023", Role=ROLE,
                            Handler="x", Code={"ZipFile": code})
        v = lam.publish_version(FunctionName="cfg-ver")["Version"]
        lam.create_alias(FunctionName="cfg-ver", Name="live", FunctionVersion=v)
        lam.put_function_event_invoke_config(FunctionName="cfg-ver", MaximumRetryAttempts=2)
        got = lam.put_function_event_invoke_config(FunctionName="cfg-ver", Qualifier=v,
                                                   MaximumRetryAttempts=1)
        self.assertEqual(got["FunctionArn"], ARN + "cfg-ver:" + v)
        got = lam.put_function_event_invoke_config(FunctionName="cfg-ver:live",
                                                   MaximumRetryAttempts=0)
        self.assertEqual(got["FunctionArn"], ARN + "cfg-ver:live")
        self.assertEqual(lam.get_function_event_invoke_config(
            FunctionName="cfg-ver", Qualifier="live")["MaximumRetryAttempts"], 0)
        self.assertEqual(lam.get_function_event_invoke_config(
            FunctionName="cfg-ver", Qualifier="$LATEST")["MaximumRetryAttempts"], 2)
        page = lam.list_function_event_invoke_configs(FunctionName="cfg-ver", MaxItems=2)
        self.assertEqual([c["FunctionArn"] for c in page["FunctionEventInvokeConfigs"]],
                         [ARN + "cfg-ver:$LATEST", ARN + "cfg-ver:" + v])
        rest = lam.list_function_event_invoke_configs(FunctionName="cfg-ver",
                                                      Marker=page["NextMarker"])
        self.assertEqual([c["FunctionArn"] for c in rest["FunctionEventInvokeConfigs"]],
                         [ARN + "cfg-ver:live"])
        self.assertNotIn("NextMarker", rest)
        # a new version does not take $LATEST's configuration
        lam.update_function_configuration(FunctionName="cfg-ver", Timeout=7)
        v2 = lam.publish_version(FunctionName="cfg-ver")["Version"]
        self.assertNotEqual(v2, v)
        self.error(lam.get_function_event_invoke_config, "ResourceNotFoundException",
                   FunctionName="cfg-ver", Qualifier=v2)
        # kept across a restart
        self.server.stop()
        self.server.start()
        self.clients()
        lam = self.lam
        self.assertEqual(len(lam.list_function_event_invoke_configs(
            FunctionName="cfg-ver")["FunctionEventInvokeConfigs"]), 3)
        lam.delete_alias(FunctionName="cfg-ver", Name="live")
        self.assertEqual(len(lam.list_function_event_invoke_configs(
            FunctionName="cfg-ver")["FunctionEventInvokeConfigs"]), 2)
        # removed with the function: a new one of the same name has none
        lam.delete_function(FunctionName="cfg-ver")
        lam.create_function(FunctionName="cfg-ver", Runtime="provided.al2023", Role=ROLE,
                            Handler="x", Code={"ZipFile": code})
        self.assertEqual(lam.list_function_event_invoke_configs(
            FunctionName="cfg-ver")["FunctionEventInvokeConfigs"], [])
        lam.delete_function(FunctionName="cfg-ver")

    def test_iam_actions(self):
        iam = self.server.boto3("iam")
        iam.create_user(UserName="cfg-user")
        iam.put_user_policy(UserName="cfg-user", PolicyName="p", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow",
                           "Action": ["lambda:GetFunctionEventInvokeConfig",
                                      "lambda:PutFunctionEventInvokeConfig"],
                           "Resource": ARN + "cfg-other:$LATEST"}]}))
        key = iam.create_access_key(UserName="cfg-user")["AccessKey"]
        user = self.server.boto3("lambda", access_key=key["AccessKeyId"],
                                 secret_key=key["SecretAccessKey"], max_attempts=1)
        user.put_function_event_invoke_config(FunctionName="cfg-other", Qualifier="$LATEST",
                                              MaximumRetryAttempts=0)
        self.assertEqual(user.get_function_event_invoke_config(
            FunctionName="cfg-other:$LATEST")["MaximumRetryAttempts"], 0)
        for call in (user.delete_function_event_invoke_config,
                     user.list_function_event_invoke_configs):
            self.error(call, "AccessDeniedException", FunctionName="cfg-other")
        self.error(user.update_function_event_invoke_config, "AccessDeniedException",
                   FunctionName="cfg-other", MaximumRetryAttempts=1)
        self.lam.delete_function_event_invoke_config(FunctionName="cfg-other")

    def test_cli(self):
        clis = [c for c in find_clients() if c.kind == "cli" and not c.missing]
        if not clis:
            self.skipTest("no aws CLI")
        for c in clis:
            out = self.aws_cli(c.argv, "lambda", "put-function-event-invoke-config",
                               "--function-name", "cfg-dest", "--maximum-retry-attempts", "0",
                               "--destination-config",
                               json.dumps({"OnSuccess": {"Destination": ARN + "cfg-other"}}))
            self.assertEqual(out["MaximumRetryAttempts"], 0)
            out = self.aws_cli(c.argv, "lambda", "update-function-event-invoke-config",
                               "--function-name", "cfg-dest", "--maximum-event-age-in-seconds",
                               "60")
            self.assertEqual(out["MaximumEventAgeInSeconds"], 60)
            out = self.aws_cli(c.argv, "lambda", "list-function-event-invoke-configs",
                               "--function-name", "cfg-dest")
            self.assertEqual(len(out["FunctionEventInvokeConfigs"]), 1)
            self.assertEqual(out["FunctionEventInvokeConfigs"][0]["DestinationConfig"]
                             ["OnSuccess"]["Destination"], ARN + "cfg-other")
            self.aws_cli(c.argv, "lambda", "delete-function-event-invoke-config",
                         "--function-name", "cfg-dest")
            self.assertEqual(self.aws_cli(c.argv, "lambda", "list-function-event-invoke-configs",
                                          "--function-name", "cfg-dest")
                             ["FunctionEventInvokeConfigs"], [])


if __name__ == "__main__":
    unittest.main()
