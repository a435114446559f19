"""What audits of least privilege call: IAM's policy simulator,
SimulatePrincipalPolicy and SimulateCustomPolicy (the same evaluator that
authorizes every request answers, per action and resource, allowed /
explicitDeny / implicitDeny, the statements that decided (policy id and type,
lines and columns in the document), the context keys the policies wanted and
were not given, and a permissions boundary's verdict),
GetAccountAuthorizationDetails and the credential report. boto3 and the aws
CLI v2, against a real server."""
import csv
import io
import json
import os
import subprocess
import unittest

import botocore.exceptions

from tandem_harness import ServerTestCase

ACCOUNT = "123456789012"
AWS_CLI = "/usr/bin/aws"

READS = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::docs/*"},
    {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::docs/secret/*"},
    {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*",
     "Condition": {"StringEquals": {"aws:PrincipalTag/team": "blue"}}}]}, indent=2)


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


class Simulator(ServerTestCase):
    server_args = {"account": ACCOUNT}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        iam = cls.iam = cls.server.boto3("iam")
        cls.user = iam.create_user(UserName="analyst")["User"]["Arn"]
        iam.put_user_policy(UserName="analyst", PolicyName="reads", PolicyDocument=READS)
        iam.create_group(GroupName="writers")
        iam.put_group_policy(GroupName="writers", PolicyName="puts", PolicyDocument=doc(
            {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}))
        iam.add_user_to_group(GroupName="writers", UserName="analyst")
        iam.attach_user_policy(UserName="analyst",
                               PolicyArn="arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess")
        bound = iam.create_policy(PolicyName="s3-only", PolicyDocument=doc(
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}))["Policy"]["Arn"]
        cls.role = iam.create_role(
            RoleName="worker", PermissionsBoundary=bound,
            AssumeRolePolicyDocument=doc({"Effect": "Allow", "Action": "sts:AssumeRole",
                                          "Principal": {"AWS": ACCOUNT}}))["Role"]["Arn"]
        iam.put_role_policy(RoleName="worker", PolicyName="broad", PolicyDocument=doc(
            {"Effect": "Allow", "Action": ["s3:*", "dynamodb:*"], "Resource": "*"}))
        # a user who may simulate nothing
        iam.create_user(UserName="nobody")
        key = iam.create_access_key(UserName="nobody")["AccessKey"]
        cls.nobody = (key["AccessKeyId"], key["SecretAccessKey"])

    def results(self, **kw):
        r = self.iam.simulate_principal_policy(**kw)
        self.assertFalse(r["IsTruncated"])
        return {(e["EvalActionName"], e["EvalResourceName"]): e for e in r["EvaluationResults"]}

    def test_a_users_policies_and_groups(self):
        res = self.results(PolicySourceArn=self.user,
                           ActionNames=["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                           ResourceArns=["arn:aws:s3:::docs/a", "arn:aws:s3:::docs/secret/b"])
        e = res[("s3:GetObject", "arn:aws:s3:::docs/a")]
        self.assertEqual(e["EvalDecision"], "allowed")
        self.assertEqual(e["MatchedStatements"], [{
            "SourcePolicyId": "reads", "SourcePolicyType": "user",
            "StartPosition": {"Line": 4, "Column": 5}, "EndPosition": {"Line": 8, "Column": 6}}])
        e = res[("s3:GetObject", "arn:aws:s3:::docs/secret/b")]
        self.assertEqual(e["EvalDecision"], "explicitDeny")
        self.assertEqual([(m["SourcePolicyId"], m["StartPosition"]["Line"])
                          for m in e["MatchedStatements"]], [("reads", 9)])
        e = res[("s3:PutObject", "arn:aws:s3:::docs/a")]
        self.assertEqual(e["EvalDecision"], "allowed")
        self.assertEqual([(m["SourcePolicyId"], m["SourcePolicyType"])
                          for m in e["MatchedStatements"]], [("puts", "group")])
        e = res[("s3:DeleteObject", "arn:aws:s3:::docs/a")]
        self.assertEqual((e["EvalDecision"], e["MatchedStatements"]), ("implicitDeny", []))

    def test_managed_policies_and_context(self):
        res = self.results(PolicySourceArn=self.user,
                           ActionNames=["dynamodb:GetItem", "dynamodb:PutItem"])
        e = res[("dynamodb:GetItem", "*")]
        self.assertEqual(e["EvalDecision"], "allowed")  # the AWS managed read-only policy
        self.assertIn(("AmazonDynamoDBReadOnlyAccess", "aws-managed"),
                      [(m["SourcePolicyId"], m["SourcePolicyType"])
                       for m in e["MatchedStatements"]])
        self.assertEqual(e["MissingContextValues"], ["aws:PrincipalTag/team"])
        self.assertEqual(res[("dynamodb:PutItem", "*")]["EvalDecision"], "implicitDeny")
        # the conditioned statement holds when the context says so
        self.iam.detach_user_policy(UserName="analyst",
                                    PolicyArn="arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess")
        try:
            res = self.results(PolicySourceArn=self.user, ActionNames=["dynamodb:GetItem"])
            self.assertEqual(res[("dynamodb:GetItem", "*")]["EvalDecision"], "implicitDeny")
            res = self.results(PolicySourceArn=self.user, ActionNames=["dynamodb:GetItem"],
                               ContextEntries=[{"ContextKeyName": "aws:PrincipalTag/team",
                                                "ContextKeyValues": ["blue"],
                                                "ContextKeyType": "string"}])
            e = res[("dynamodb:GetItem", "*")]
            self.assertEqual((e["EvalDecision"], e["MissingContextValues"]), ("allowed", []))
        finally:
            self.iam.attach_user_policy(
                UserName="analyst",
                PolicyArn="arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess")

    def test_a_roles_permissions_boundary(self):
        res = self.results(PolicySourceArn=self.role,
                           ActionNames=["s3:ListBucket", "dynamodb:Scan"])
        e = res[("s3:ListBucket", "*")]
        self.assertEqual(e["EvalDecision"], "allowed")
        self.assertEqual(e["PermissionsBoundaryDecisionDetail"],
                         {"AllowedByPermissionsBoundary": True})
        self.assertEqual([(m["SourcePolicyId"], m["SourcePolicyType"])
                          for m in e["MatchedStatements"]], [("broad", "role")])
        e = res[("dynamodb:Scan", "*")]
        self.assertEqual(e["EvalDecision"], "implicitDeny")
        self.assertEqual(e["PermissionsBoundaryDecisionDetail"],
                         {"AllowedByPermissionsBoundary": False})
        # extra policies, as if attached
        res = self.results(PolicySourceArn=self.role, ActionNames=["s3:ListBucket"],
                           PolicyInputList=[doc({"Effect": "Deny", "Action": "s3:*",
                                                 "Resource": "*"})])
        e = res[("s3:ListBucket", "*")]
        self.assertEqual(e["EvalDecision"], "explicitDeny")
        self.assertEqual([(m["SourcePolicyId"], m["SourcePolicyType"])
                          for m in e["MatchedStatements"]], [("PolicyInputList.1", "none")])

    def test_custom_policies_with_a_resource_policy(self):
        policy = json.dumps({"Version": "2012-10-17",
                             "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}})
        r = self.iam.simulate_custom_policy(PolicyInputList=[policy], ActionNames=["s3:ListBucket"])
        self.assertEqual(r["EvaluationResults"], [{
            "EvalActionName": "s3:ListBucket", "EvalResourceName": "*", "EvalDecision": "allowed",
            "MatchedStatements": [{"SourcePolicyId": "PolicyInputList.1",
                                   "SourcePolicyType": "none",
                                   "StartPosition": {"Line": 1, "Column": 40},
                                   "EndPosition": {"Line": 1, "Column": 94}}],
            "MissingContextValues": []}])
        # a resource policy naming the caller allows what no identity policy does
        bucket_policy = doc({"Effect": "Allow", "Action": "s3:GetObject",
                             "Principal": {"AWS": self.user},
                             "Resource": "arn:aws:s3:::shared/*"})
        r = self.iam.simulate_custom_policy(
            PolicyInputList=[doc({"Effect": "Allow", "Action": "sqs:*", "Resource": "*"})],
            ActionNames=["s3:GetObject"], ResourceArns=["arn:aws:s3:::shared/k"],
            ResourcePolicy=bucket_policy, CallerArn=self.user)
        e = r["EvaluationResults"][0]
        self.assertEqual(e["EvalDecision"], "allowed")
        self.assertEqual([(m["SourcePolicyId"], m["SourcePolicyType"])
                          for m in e["MatchedStatements"]], [("ResourcePolicy", "resource")])

    def test_positions_of_statements_with_tricky_text(self):
        """braces, brackets, quotes and the word Statement inside strings do not move
        the statements the simulator points at"""
        policy = ('{"Version":"2012-10-17","Statement":[\n'
                  ' {"Effect":"Deny","Action":"s3:PutObject","Resource":"*","Condition":'
                  '{"StringNotEquals":{"aws:UserAgent":"a{[\\"Statement\\":]}"}}},\n'
                  ' {"Sid":"second","Effect":"Allow","Action":"s3:*","Resource":"*",'
                  '"Condition":{"StringLike":{"aws:UserAgent":"x}{y"}}}]}')
        r = self.iam.simulate_custom_policy(
            PolicyInputList=[policy], ActionNames=["s3:GetObject", "s3:PutObject"],
            ContextEntries=[{"ContextKeyName": "aws:UserAgent", "ContextKeyValues": ["x}{y"],
                             "ContextKeyType": "string"}])
        got = {e["EvalActionName"]: (e["EvalDecision"], [
            (m["StartPosition"]["Line"], m["StartPosition"]["Column"], m["EndPosition"]["Line"])
            for m in e["MatchedStatements"]]) for e in r["EvaluationResults"]}
        self.assertEqual(got, {"s3:GetObject": ("allowed", [(3, 2, 3)]),
                               "s3:PutObject": ("explicitDeny", [(2, 2, 2)])})

    def test_context_keys(self):
        """the condition keys a simulation of these policies would want"""
        r = self.iam.get_context_keys_for_principal_policy(
            PolicySourceArn=self.user,
            PolicyInputList=[doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*",
                                  "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"},
                                                "StringEquals": {
                                                    "aws:principaltag/TEAM": "x"}}})])
        self.assertEqual(r["ContextKeyNames"], ["aws:PrincipalTag/team", "aws:SourceIp"])
        r = self.iam.get_context_keys_for_custom_policy(PolicyInputList=[READS])
        self.assertEqual(r["ContextKeyNames"], ["aws:PrincipalTag/team"])
        r = self.iam.get_context_keys_for_custom_policy(
            PolicyInputList=[doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})])
        self.assertEqual(r["ContextKeyNames"], [])

    def test_credential_report(self):
        iam = self.iam
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            iam.get_credential_report()
        self.assertEqual((cm.exception.response["Error"]["Code"],
                          cm.exception.response["ResponseMetadata"]["HTTPStatusCode"]),
                         ("ReportNotPresent", 410))
        self.assertEqual(iam.generate_credential_report()["State"], "STARTED")
        self.assertEqual(iam.generate_credential_report()["State"], "COMPLETE")
        r = iam.get_credential_report()
        self.assertEqual(r["ReportFormat"], "text/csv")
        rows = {row["user"]: row for row in csv.DictReader(io.StringIO(r["Content"].decode()))}
        self.assertEqual(rows["<root_account>"]["arn"], "arn:aws:iam::%s:root" % ACCOUNT)
        nobody = rows["nobody"]  # one access key, active
        self.assertEqual((nobody["arn"], nobody["password_enabled"], nobody["mfa_active"],
                          nobody["access_key_1_active"], nobody["access_key_2_active"]),
                         ("arn:aws:iam::%s:user/nobody" % ACCOUNT, "false", "false", "true",
                          "false"))
        self.assertTrue(nobody["access_key_1_last_rotated"].endswith("+00:00"))
        self.assertEqual(rows["analyst"]["access_key_1_active"], "false")  # no keys
        self.assertEqual(len(r["Content"].decode().splitlines()[0].split(",")), 22)

    def test_account_summary(self):
        m = self.iam.get_account_summary()["SummaryMap"]
        users = len(self.iam.list_users()["Users"])
        self.assertEqual((m["Users"], m["Groups"], m["AccountMFAEnabled"],
                          m["AccessKeysPerUserQuota"], m["VersionsPerPolicyQuota"]),
                         (users, 1, 0, 2, 5))
        self.assertGreaterEqual(m["Roles"], 1)
        self.assertGreaterEqual(m["Policies"], 1)

    def test_aws_managed_policies_for_stream_functions(self):
        """AWSLambdaDynamoDBExecutionRole, AWSLambdaRole and AWSLambdaVPCAccessExecutionRole,
        which functions' roles attach, with AWS's documents"""
        arn = self.iam.create_role(
            RoleName="stream-reader",
            AssumeRolePolicyDocument=doc({"Effect": "Allow", "Action": "sts:AssumeRole",
                                          "Principal": {"Service": "lambda.amazonaws.com"}}))[
            "Role"]["Arn"]
        names = ("service-role/AWSLambdaDynamoDBExecutionRole", "service-role/AWSLambdaRole",
                 "service-role/AWSLambdaVPCAccessExecutionRole")
        for name in names:
            self.iam.attach_role_policy(RoleName="stream-reader",
                                        PolicyArn="arn:aws:iam::aws:policy/" + name)
        pol = self.iam.get_policy(
            PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaDynamoDBExecutionRole")[
            "Policy"]
        self.assertEqual((pol["PolicyId"], pol["DefaultVersionId"], pol["AttachmentCount"]),
                         ("ANPAIP7WNAGMIPYNW4WQG", "v1", 1))
        res = self.results(PolicySourceArn=arn, ActionNames=[
            "dynamodb:GetRecords", "dynamodb:GetShardIterator", "lambda:InvokeFunction",
            "dynamodb:PutItem", "ec2:CreateNetworkInterface"])
        self.assertEqual({k[0]: v["EvalDecision"] for k, v in res.items()}, {
            "dynamodb:GetRecords": "allowed", "dynamodb:GetShardIterator": "allowed",
            "lambda:InvokeFunction": "allowed", "dynamodb:PutItem": "implicitDeny",
            "ec2:CreateNetworkInterface": "allowed"})
        for name in names:
            self.iam.detach_role_policy(RoleName="stream-reader",
                                        PolicyArn="arn:aws:iam::aws:policy/" + name)
        self.iam.delete_role(RoleName="stream-reader")

    def test_pages(self):
        seen = []
        kw = {"PolicySourceArn": self.user, "MaxItems": 2,
              "ActionNames": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]}
        for _ in range(3):
            r = self.iam.simulate_principal_policy(**kw)
            seen += [e["EvalActionName"] for e in r["EvaluationResults"]]
            if not r["IsTruncated"]:
                break
            kw["Marker"] = r["Marker"]
        self.assertEqual(seen, ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"])

    def test_refusals(self):
        def refused(call, **kw):
            with self.assertRaises(botocore.exceptions.ClientError) as cm:
                call(**kw)
            e = cm.exception.response
            return e["Error"]["Code"], e["Error"]["Message"], e["ResponseMetadata"][
                "HTTPStatusCode"]

        iam = self.server.boto3("iam", parameter_validation=False)
        self.assertEqual(
            refused(iam.simulate_principal_policy,
                    PolicySourceArn="arn:aws:iam::%s:user/ghost" % ACCOUNT,
                    ActionNames=["s3:GetObject"]),
            ("NoSuchEntity", "The user with name ghost cannot be found.", 404))
        code, _, status = refused(iam.simulate_principal_policy, PolicySourceArn="nonsense",
                                  ActionNames=["s3:GetObject"])
        self.assertEqual((code, status), ("InvalidInput", 400))
        code, msg, status = refused(iam.simulate_principal_policy, PolicySourceArn=self.user)
        self.assertEqual((code, status), ("ValidationError", 400))
        self.assertIn("'actionNames'", msg)
        code, msg, status = refused(iam.simulate_custom_policy, PolicyInputList=["{not json"],
                                    ActionNames=["s3:GetObject"])
        self.assertEqual((code, status), ("InvalidInput", 400))
        self.assertTrue(msg.startswith("PolicyInputList.1: "), msg)
        many = [doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})] * 257
        code, msg, status = refused(iam.simulate_custom_policy, PolicyInputList=many,
                                    ActionNames=["s3:GetObject"])
        self.assertEqual((code, status), ("InvalidInput", 400))
        self.assertIn("at most 256 policies", msg)
        nobody = self.server.boto3("iam", access_key=self.nobody[0], secret_key=self.nobody[1])
        code, msg, status = refused(nobody.simulate_principal_policy, PolicySourceArn=self.user,
                                    ActionNames=["s3:GetObject"])
        self.assertEqual((code, status), ("AccessDenied", 403))
        self.assertIn("iam:SimulatePrincipalPolicy", msg)

    def test_account_authorization_details(self):
        r = self.iam.get_account_authorization_details()
        self.assertFalse(r["IsTruncated"])
        users = {u["UserName"]: u for u in r["UserDetailList"]}
        u = users["analyst"]
        self.assertEqual(u["Arn"], self.user)
        self.assertEqual(u["GroupList"], ["writers"])
        self.assertEqual([(p["PolicyName"], json.loads(p["PolicyDocument"]) if isinstance(
            p["PolicyDocument"], str) else p["PolicyDocument"]) for p in u["UserPolicyList"]],
                         [("reads", json.loads(READS))])
        self.assertEqual(u["AttachedManagedPolicies"], [{
            "PolicyName": "AmazonDynamoDBReadOnlyAccess",
            "PolicyArn": "arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess"}])
        groups = {g["GroupName"]: g for g in r["GroupDetailList"]}
        self.assertEqual([p["PolicyName"] for p in groups["writers"]["GroupPolicyList"]], ["puts"])
        roles = {x["RoleName"]: x for x in r["RoleDetailList"]}
        w = roles["worker"]
        self.assertEqual(w["PermissionsBoundary"]["PermissionsBoundaryArn"],
                         "arn:aws:iam::%s:policy/s3-only" % ACCOUNT)
        self.assertEqual(w["AssumeRolePolicyDocument"]["Statement"][0]["Action"], "sts:AssumeRole")
        self.assertEqual([p["PolicyName"] for p in w["RolePolicyList"]], ["broad"])
        self.assertEqual(w["InstanceProfileList"], [])
        pols = {p["PolicyName"]: p for p in r["Policies"]}
        # the customer policy, and of AWS's only the one in use
        self.assertIn("s3-only", pols)
        self.assertEqual(pols["s3-only"]["PermissionsBoundaryUsageCount"], 1)
        self.assertEqual(pols["s3-only"]["PolicyVersionList"][0]["Document"]["Statement"][0][
            "Action"], "s3:*")
        self.assertTrue(pols["s3-only"]["PolicyVersionList"][0]["IsDefaultVersion"])
        self.assertIn("AmazonDynamoDBReadOnlyAccess", pols)
        self.assertNotIn("AdministratorAccess", pols)
        # filters, and pages over all the lists together
        r = self.iam.get_account_authorization_details(Filter=["Role"])
        self.assertEqual((r["UserDetailList"], r["GroupDetailList"], r["Policies"]), ([], [], []))
        self.assertEqual([x["RoleName"] for x in r["RoleDetailList"]], ["worker"])
        seen, kw = [], {"MaxItems": 1}
        for _ in range(20):
            r = self.iam.get_account_authorization_details(**kw)
            seen += [x.get("UserName") or x.get("GroupName") or x.get("RoleName") or
                     x["PolicyName"] for k in ("UserDetailList", "GroupDetailList",
                                               "RoleDetailList", "Policies") for x in r[k]]
            if not r["IsTruncated"]:
                break
            kw["Marker"] = r["Marker"]
        self.assertEqual(sorted(seen), sorted(["analyst", "nobody", "writers", "worker",
                                               "s3-only", "AmazonDynamoDBReadOnlyAccess"]))
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.server.boto3("iam", parameter_validation=False).get_account_authorization_details(
                Filter=["Bucket"])
        self.assertEqual(cm.exception.response["Error"]["Code"], "ValidationError")

    def test_aws_cli_v2(self):
        if not os.access(AWS_CLI, os.X_OK):
            self.skipTest("the aws CLI v2 (Debian's awscli) is not installed")
        out = subprocess.run([AWS_CLI, "iam", "simulate-principal-policy",
                              "--policy-source-arn", self.user,
                              "--action-names", "s3:GetObject", "s3:PutObject",
                              "--resource-arns", "arn:aws:s3:::docs/secret/x",
                              "--endpoint-url", self.server.url(), "--output", "json"],
                             env=self.server.env(), capture_output=True, text=True, timeout=120)
        self.assertEqual(out.returncode, 0, out.stderr)
        got = [(e["EvalActionName"], e["EvalDecision"])
               for e in json.loads(out.stdout)["EvaluationResults"]]
        self.assertEqual(got, [("s3:GetObject", "explicitDeny"), ("s3:PutObject", "allowed")])


if __name__ == "__main__":
    unittest.main()
