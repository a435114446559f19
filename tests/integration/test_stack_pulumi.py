"""Pulumi YAML programs as Pulumi's documentation writes them (examples/pulumi/*)
deployed with `tandem up` on local regions: each shows its outputs, a second up
makes no write call, a one-property change touches exactly that resource, and
`tandem destroy` leaves nothing behind."""
import json
import os
import unittest

from stack_helpers import Project, ROOT

EXAMPLES = os.path.join(ROOT, "examples", "pulumi")


def read(path, mode="r"):
    with open(path, mode) as f:
        return f.read()


def ops(result):
    return {s["name"]: s["op"] for s in result["steps"]}


def changed(result):
    return {n: o for n, o in ops(result).items() if o not in ("same", "refresh")}


class PulumiExamples(unittest.TestCase):
    def project(self, name):
        p = Project(copy_from=os.path.join(EXAMPLES, name))
        self.addCleanup(p.cleanup)
        return p

    def up_twice(self, p, show_secrets=False):
        up = p.run("up", "--yes", check=0)
        self.assertIn("Outputs:", up.stdout)
        again = p.json("up", "--yes")
        # unchanged; `get:` resources are read again (refresh), which writes nothing
        self.assertLessEqual(set(ops(again).values()), {"same", "refresh"}, again["steps"])
        self.assertEqual(again["writes"], 0)
        for r in p.state()["resources"]:
            self.assertEqual(r["status"], "created", r)
        return p.json("output", "--show-secrets") if show_secrets else p.json("output")

    def destroy(self, p):
        d = p.json("destroy", "--yes", "--keep-regions")
        self.assertEqual(set(ops(d).values()), {"delete"})
        self.assertEqual(p.state()["resources"], [])
        return d

    def test_buckets_tags_versioning_objects(self):
        p = self.project("s3-website-buckets")
        out = self.up_twice(p)
        logs, assets = out["logsBucket"], out["assetsBucket"]
        # auto-names: logical name, "-", seven hex characters
        self.assertRegex(logs, r"^logs-[0-9a-f]{7}$")
        self.assertRegex(assets, r"^assets-[0-9a-f]{7}$")
        self.assertEqual(out["logsArn"], "arn:aws:s3:::" + logs)
        s3 = p.client("s3", "us-east-1")
        self.assertEqual(s3.get_bucket_versioning(Bucket=logs)["Status"], "Enabled")
        self.assertEqual(s3.get_bucket_versioning(Bucket=assets)["Status"], "Enabled")
        tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=logs)["TagSet"]}
        self.assertEqual(tags, {"Environment": "dev", "Project": "s3-buckets", "Stack": "dev"})
        tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=assets)["TagSet"]}
        self.assertEqual(tags["Version"], "2")  # a number written where the schema wants a string
        rules = s3.get_bucket_lifecycle_configuration(Bucket=logs)["Rules"]
        self.assertEqual(rules[0]["Expiration"]["Days"], 30)
        self.assertEqual(rules[0]["NoncurrentVersionExpiration"]["NoncurrentDays"], 7)
        rules = s3.get_bucket_lifecycle_configuration(Bucket=assets)["Rules"]
        self.assertEqual(rules[0]["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"], 2)
        body = s3.get_object(Bucket=assets, Key="index.html")
        self.assertEqual(body["ContentType"], "text/html")
        self.assertIn(b"Hello from s3-buckets", body["Body"].read())
        self.assertEqual(out["indexEtag"], body["ETag"].strip('"'))
        self.assertEqual(s3.get_object(Bucket=assets, Key="docs/README.txt")["Body"].read(),
                         read(os.path.join(p.dir, "README.txt"), "rb"))

        # one property: exactly that resource, in place; the name stays
        path = os.path.join(p.dir, "Pulumi.yaml")
        text = read(path)
        with open(path, "w") as f:
            f.write(text.replace("Stack: ${pulumi.stack}", "Stack: renamed"))
        res = p.json("up", "--yes")
        self.assertEqual(changed(res), {"logs": "update"})
        self.assertEqual(p.json("output")["logsBucket"], logs)
        tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=logs)["TagSet"]}
        self.assertEqual(tags["Stack"], "renamed")
        # a config value flows to the one resource that uses it
        p.run("config", "set", "retentionDays", "45", check=0)
        res = p.json("up", "--yes")
        self.assertEqual(changed(res), {"logs": "update"})
        self.assertEqual(s3.get_bucket_lifecycle_configuration(Bucket=logs)["Rules"][0]
                         ["Expiration"]["Days"], 45)
        # a key change replaces exactly that object
        text = read(path)
        with open(path, "w") as f:
            f.write(text.replace("key: index.html", "key: home.html"))
        res = p.json("up", "--yes")
        self.assertEqual(changed(res), {"index": "replace"})
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=assets).get("Contents", [])]
        self.assertIn("home.html", keys)
        self.assertNotIn("index.html", keys)

        self.destroy(p)
        self.assertEqual(s3.list_buckets()["Buckets"], [])

    def test_iam_roles_with_policy_documents(self):
        p = self.project("iam-role-policies")
        out = self.up_twice(p)
        iam = p.client("iam", "us-east-1")
        role = iam.get_role(RoleName=out["roleName"])["Role"]
        self.assertEqual(role["Arn"], out["roleArn"])
        doc = role["AssumeRolePolicyDocument"]
        if isinstance(doc, str):
            doc = json.loads(doc)
        self.assertEqual(doc["Statement"][0]["Principal"], {"Service": "lambda.amazonaws.com"})
        self.assertEqual(doc["Statement"][0]["Action"], "sts:AssumeRole")
        names = iam.list_role_policies(RoleName=out["roleName"])["PolicyNames"]
        self.assertEqual(len(names), 1)
        self.assertRegex(names[0], r"^workerLogs-[0-9a-f]{7}$")  # auto-named, as Pulumi does
        inline = iam.get_role_policy(RoleName=out["roleName"], PolicyName=names[0])
        pdoc = inline["PolicyDocument"]
        if isinstance(pdoc, str):
            pdoc = json.loads(pdoc)
        self.assertEqual(pdoc["Version"], "2012-10-17")  # unquoted, still the date string
        attached = iam.list_attached_role_policies(RoleName=out["roleName"])["AttachedPolicies"]
        self.assertEqual([a["PolicyArn"] for a in attached], [out["policyArn"]])
        self.assertEqual(out["region"], "us-east-1")
        self.assertRegex(out["accountId"], r"^\d{12}$")
        self.destroy(p)
        self.assertEqual(iam.list_roles()["Roles"], [])
        self.assertEqual(iam.list_policies(Scope="Local")["Policies"], [])

    def test_role_policies_managed_exclusively(self):
        p = self.project("iam-role-exclusive-policies")
        out = self.up_twice(p)
        iam = p.client("iam", "us-east-1")

        def inline(role):
            names = iam.list_role_policies(RoleName=role)["PolicyNames"]
            docs = {}
            for n in names:
                d = iam.get_role_policy(RoleName=role, PolicyName=n)["PolicyDocument"]
                docs[n] = json.loads(d) if isinstance(d, str) else d
            return docs

        def attached(role):
            return sorted(a["PolicyArn"] for a in
                          iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"])

        docs = inline("yak_role")
        self.assertEqual(sorted(docs), ["my_inline_policy", "policy-8675309"])
        self.assertEqual(docs["my_inline_policy"]["Version"], "2012-10-17")
        self.assertEqual(docs["policy-8675309"]["Statement"][0]["Action"],
                         "ec2:DescribeAccountAttributes")
        self.assertEqual(attached("managed_role"), sorted([out["policyOneArn"],
                                                           out["policyTwoArn"]]))
        role = iam.get_role(RoleName="yak_role")["Role"]
        self.assertEqual(role["MaxSessionDuration"], 7200)
        self.assertEqual(iam.list_role_tags(RoleName="yak_role")["Tags"],
                         [{"Key": "Team", "Value": "platform"}])
        # what is added outside the program goes on the next change of the property
        iam.put_role_policy(RoleName="yak_role", PolicyName="stray",
                            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                                {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
        iam.attach_role_policy(RoleName="managed_role",
                               PolicyArn="arn:aws:iam::aws:policy/service-role/"
                               "AWSLambdaBasicExecutionRole")
        path = os.path.join(p.dir, "Pulumi.yaml")
        text = read(path)
        text = text.replace("        - name: policy-8675309\n          policy: ${inlinePolicy.json}\n",
                            "")
        text = text.replace("        - ${policyOne.arn}\n", "")
        text = text.replace("Team: platform", "Team: data")
        with open(path, "w") as f:
            f.write(text)
        res = p.json("up", "--yes")
        self.assertEqual(changed(res), {"example": "update", "managed": "update"})
        self.assertEqual(sorted(inline("yak_role")), ["my_inline_policy"])
        self.assertEqual(iam.list_role_tags(RoleName="yak_role")["Tags"],
                         [{"Key": "Team", "Value": "data"}])
        self.assertEqual(attached("managed_role"), [out["policyTwoArn"]])
        self.assertEqual(p.json("up", "--yes")["writes"], 0)
        # an empty list removes them all
        text = read(path).replace("      managedPolicyArns:\n        - ${policyTwo.arn}\n",
                                  "      managedPolicyArns: []\n")
        with open(path, "w") as f:
            f.write(text)
        self.assertEqual(changed(p.json("up", "--yes")), {"managed": "update"})
        self.assertEqual(attached("managed_role"), [])
        # forceDetachPolicies: destroy takes off what else the role has
        iam.put_role_policy(RoleName="managed_role", PolicyName="stray",
                            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                                {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
        self.destroy(p)
        self.assertEqual(iam.list_roles()["Roles"], [])
        self.assertEqual(iam.list_policies(Scope="Local")["Policies"], [])

    def test_merged_policy_documents_and_coerced_strings(self):
        p = self.project("policy-documents-merged")
        out = self.up_twice(p)
        iam = p.client("iam", "us-east-1")

        def doc(d):
            return json.loads(d) if isinstance(d, str) else d

        names = iam.list_role_policies(RoleName=out["roleName"])["PolicyNames"]
        scoped = doc(iam.get_role_policy(RoleName=out["roleName"],
                                         PolicyName=names[0])["PolicyDocument"])
        # the source's statements first, the one with the same Sid replaced in place
        self.assertEqual(scoped["Statement"], [
            {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"},
            {"Sid": "SidToOverride", "Effect": "Allow", "Action": "s3:*",
             "Resource": ["arn:aws:s3:::somebucket/*", "arn:aws:s3:::somebucket"]}])
        pol = iam.get_policy(PolicyArn=out["policyArn"])["Policy"]
        widened = doc(iam.get_policy_version(PolicyArn=out["policyArn"],
                                             VersionId=pol["DefaultVersionId"])
                      ["PolicyVersion"]["Document"])
        # the override's statement wins over the program's own
        self.assertEqual(widened["Statement"], [
            {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"},
            {"Sid": "SidToOverride", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}])
        lam = p.client("lambda", "us-east-1")
        env = lam.get_function_configuration(FunctionName=out["functionName"])["Environment"]
        self.assertEqual(env["Variables"], {"MAX_ITEMS": "25", "DEBUG": "false", "RATIO": "0.5"})
        r = lam.invoke(FunctionName=out["functionName"], Payload=b"{}")
        self.assertEqual(json.loads(r["Payload"].read()),
                         {"MAX_ITEMS": "25", "DEBUG": "false", "RATIO": "0.5"})
        # a number changed: exactly the function, in place
        path = os.path.join(p.dir, "Pulumi.yaml")
        text = read(path).replace("MAX_ITEMS: 25", "MAX_ITEMS: 50")
        with open(path, "w") as f:
            f.write(text)
        self.assertEqual(changed(p.json("up", "--yes")), {"worker": "update"})
        env = lam.get_function_configuration(FunctionName=out["functionName"])["Environment"]
        self.assertEqual(env["Variables"]["MAX_ITEMS"], "50")
        self.destroy(p)
        self.assertEqual(lam.list_functions()["Functions"], [])
        self.assertEqual(iam.list_roles()["Roles"], [])
        self.assertEqual(iam.list_policies(Scope="Local")["Policies"], [])

    def test_users_in_groups(self):
        p = self.project("iam-groups")
        out = self.up_twice(p, show_secrets=True)
        iam = p.client("iam", "us-east-1")
        g = iam.get_group(GroupName="developers")
        self.assertEqual(g["Group"]["Arn"], out["developersArn"])
        self.assertEqual(g["Group"]["Path"], "/users/")
        self.assertEqual(sorted(u["UserName"] for u in g["Users"]), ["alice", "bob"])
        self.assertEqual(sorted(x["GroupName"] for x in
                                iam.list_groups_for_user(UserName="bob")["Groups"]),
                         ["developers", "ops"])
        self.assertEqual(iam.list_group_policies(GroupName="developers")["PolicyNames"],
                         ["my_developer_policy"])
        self.assertEqual(sorted(a["PolicyArn"] for a in iam.list_attached_group_policies(
            GroupName="ops")["AttachedPolicies"]),
            sorted([out["opsPolicyArn"], out["auditPolicyArn"]]))
        # alice may list buckets through her group's inline policy, and nothing else
        import boto3
        from botocore.exceptions import ClientError
        alice = dict(region_name="us-east-1", endpoint_url=p.endpoint("us-east-1"),
                     aws_access_key_id=out["aliceKeyId"],
                     aws_secret_access_key=out["aliceSecret"])
        boto3.client("s3", **alice).list_buckets()
        with self.assertRaises(ClientError):
            boto3.client("dynamodb", **alice).list_tables()
        user = iam.get_user(UserName="alice")["User"]
        self.assertEqual(user["PermissionsBoundary"]["PermissionsBoundaryArn"],
                         out["boundaryArn"])
        # bob's ops group may list tables; alice's boundary keeps her out of IAM even
        # when a policy of hers would allow it
        iam.attach_user_policy(UserName="alice", PolicyArn=out["auditPolicyArn"])
        with self.assertRaises(ClientError):
            boto3.client("iam", **alice).list_users()
        iam.detach_user_policy(UserName="alice", PolicyArn=out["auditPolicyArn"])
        # bob leaves the developers: exactly the membership changes
        path = os.path.join(p.dir, "Pulumi.yaml")
        text = read(path).replace("        - ${alice.name}\n        - ${bob.name}\n",
                                  "        - ${alice.name}\n")
        # and alice's boundary goes, her tag changes
        text = text.replace("      permissionsBoundary: ${boundary.arn}\n", "")
        text = text.replace("Team: web", "Team: mobile")
        with open(path, "w") as f:
            f.write(text)
        self.assertEqual(changed(p.json("up", "--yes")), {"team": "update", "alice": "update"})
        self.assertNotIn("PermissionsBoundary", iam.get_user(UserName="alice")["User"])
        self.assertEqual(iam.list_user_tags(UserName="alice")["Tags"],
                         [{"Key": "Team", "Value": "mobile"}])
        self.assertEqual([u["UserName"] for u in iam.get_group(GroupName="developers")["Users"]],
                         ["alice"])
        self.assertEqual([x["GroupName"] for x in
                          iam.list_groups_for_user(UserName="bob")["Groups"]], ["ops"])
        self.destroy(p)
        self.assertEqual(iam.list_groups()["Groups"], [])
        self.assertEqual([u["UserName"] for u in iam.list_users()["Users"]
                          if u["UserName"] in ("alice", "bob")], [])
        self.assertEqual(iam.list_policies(Scope="Local")["Policies"], [])

    def test_table_with_items(self):
        p = self.project("dynamodb-table-items")
        out = self.up_twice(p)
        ddb = p.client("dynamodb", "us-east-1")
        item = ddb.get_item(TableName=out["tableName"],
                            Key={"pk": {"S": "flags"}, "sk": {"S": "new-checkout"}})["Item"]
        self.assertEqual(item["enabled"], {"BOOL": True})
        self.assertEqual(item["rollout"], {"N": "25"})
        item = ddb.get_item(TableName=out["tableName"],
                            Key={"pk": {"S": "texts"}, "sk": {"S": "greeting"}})["Item"]
        self.assertEqual(item["value"], {"S": "hello"})
        # a config change rewrites exactly that item
        p.run("config", "set", "greeting", "bonjour", check=0)
        res = p.json("up", "--yes")
        self.assertEqual(changed(res), {"greetingItem": "update"})
        item = ddb.get_item(TableName=out["tableName"],
                            Key={"pk": {"S": "texts"}, "sk": {"S": "greeting"}})["Item"]
        self.assertEqual(item["value"], {"S": "bonjour"})
        self.destroy(p)
        self.assertEqual(ddb.list_tables()["TableNames"], [])

    def test_table_indexes_ttl_and_stream(self):
        p = self.project("dynamodb-indexes-ttl")
        out = self.up_twice(p)
        ddb = p.client("dynamodb", "us-east-1")
        tb = ddb.describe_table(TableName="GameScores")["Table"]
        self.assertEqual(out["tableArn"], tb["TableArn"])
        self.assertEqual(out["streamArn"], tb["LatestStreamArn"])
        self.assertEqual(out["streamLabel"], tb["LatestStreamLabel"])
        self.assertEqual(tb["StreamSpecification"]["StreamViewType"], "NEW_AND_OLD_IMAGES")
        gsi = {g["IndexName"]: g for g in tb["GlobalSecondaryIndexes"]}
        self.assertEqual(list(gsi), ["GameTitleIndex"])
        g = gsi["GameTitleIndex"]
        self.assertEqual(g["KeySchema"], [{"AttributeName": "GameTitle", "KeyType": "HASH"},
                                          {"AttributeName": "TopScore", "KeyType": "RANGE"}])
        self.assertEqual(g["Projection"], {"ProjectionType": "INCLUDE",
                                           "NonKeyAttributes": ["UserId"]})
        self.assertEqual(g["ProvisionedThroughput"]["ReadCapacityUnits"], 10)
        lsi = tb["LocalSecondaryIndexes"]
        self.assertEqual([x["IndexName"] for x in lsi], ["PlayedAtIndex"])
        self.assertEqual(lsi[0]["KeySchema"][1], {"AttributeName": "PlayedAt",
                                                  "KeyType": "RANGE"})
        self.assertEqual(lsi[0]["Projection"]["ProjectionType"], "KEYS_ONLY")
        ttl = ddb.describe_time_to_live(TableName="GameScores")["TimeToLiveDescription"]
        self.assertEqual(ttl, {"TimeToLiveStatus": "ENABLED", "AttributeName": "TimeToExist"})
        # pointInTimeRecovery turned on through UpdateContinuousBackups
        pitr = ddb.describe_continuous_backups(TableName="GameScores")[
            "ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
        self.assertEqual(pitr["PointInTimeRecoveryStatus"], "ENABLED")
        self.assertEqual(pitr["RecoveryPeriodInDays"], 35)
        # the index answers queries
        ddb.put_item(TableName="GameScores", Item={
            "UserId": {"S": "u1"}, "GameTitle": {"S": "Galaxy"}, "TopScore": {"N": "90"},
            "PlayedAt": {"S": "2026-01-01"}})
        r = ddb.query(TableName="GameScores", IndexName="GameTitleIndex",
                      KeyConditionExpression="GameTitle = :g",
                      ExpressionAttributeValues={":g": {"S": "Galaxy"}})
        self.assertEqual(r["Items"][0]["UserId"], {"S": "u1"})

        # second up after a change: a new GSI, another capacity, TTL on another attribute
        path = os.path.join(p.dir, "Pulumi.yaml")
        text = read(path)
        text = text.replace("attributeName: TimeToExist", "attributeName: ExpiresAt")
        text = text.replace("""          nonKeyAttributes:
            - UserId
""", """          nonKeyAttributes:
            - UserId
        - name: PlayedAtByUser
          hashKey: PlayedAt
          projectionType: KEYS_ONLY
          readCapacity: 5
          writeCapacity: 5
""")
        text = text.replace("writeCapacity: 10\n          readCapacity: 10",
                            "writeCapacity: 10\n          readCapacity: 15")
        text = text.replace("pointInTimeRecovery:\n        enabled: true\n",
                            "pointInTimeRecovery:\n        enabled: true\n"
                            "        recoveryPeriodInDays: 7\n")
        # and the table protected from deletion, in the infrequent-access class
        text = text.replace("      streamEnabled: true\n",
                            "      streamEnabled: true\n      deletionProtectionEnabled: true\n"
                            "      tableClass: STANDARD_INFREQUENT_ACCESS\n")
        with open(path, "w") as f:
            f.write(text)
        res = p.json("up", "--yes")
        self.assertEqual(changed(res), {"basic-dynamodb-table": "update"})
        tb = ddb.describe_table(TableName="GameScores")["Table"]
        gsi = {g["IndexName"]: g for g in tb["GlobalSecondaryIndexes"]}
        self.assertEqual(sorted(gsi), ["GameTitleIndex", "PlayedAtByUser"])
        self.assertEqual(gsi["GameTitleIndex"]["ProvisionedThroughput"]["ReadCapacityUnits"], 15)
        self.assertEqual(gsi["PlayedAtByUser"]["Projection"]["ProjectionType"], "KEYS_ONLY")
        self.assertEqual(ddb.describe_continuous_backups(TableName="GameScores")[
            "ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"][
            "RecoveryPeriodInDays"], 7)
        r = ddb.query(TableName="GameScores", IndexName="PlayedAtByUser",  # backfilled
                      KeyConditionExpression="PlayedAt = :p",
                      ExpressionAttributeValues={":p": {"S": "2026-01-01"}})
        self.assertEqual(r["Count"], 1)
        ttl = ddb.describe_time_to_live(TableName="GameScores")["TimeToLiveDescription"]
        self.assertEqual(ttl, {"TimeToLiveStatus": "ENABLED", "AttributeName": "ExpiresAt"})
        self.assertTrue(tb["DeletionProtectionEnabled"])
        self.assertEqual(tb["TableClassSummary"]["TableClass"], "STANDARD_INFREQUENT_ACCESS")
        with self.assertRaises(ddb.exceptions.ClientError):
            ddb.delete_table(TableName="GameScores")
        self.assertEqual(p.json("up", "--yes")["writes"], 0)
        # the first index removed with the attribute only it used, TTL off
        text = read(path)
        start = text.index("        - name: GameTitleIndex")
        text = text[:start] + text[text.index("        - name: PlayedAtByUser"):]
        text = text.replace("enabled: true\n      globalSecondaryIndexes",
                            "enabled: false\n      globalSecondaryIndexes")
        text = text.replace("        - name: TopScore\n          type: N\n", "")
        text = text.replace("deletionProtectionEnabled: true", "deletionProtectionEnabled: false")
        text = text.replace("pointInTimeRecovery:\n        enabled: true\n",
                            "pointInTimeRecovery:\n        enabled: false\n")
        with open(path, "w") as f:
            f.write(text)
        res = p.json("up", "--yes")
        self.assertEqual(changed(res), {"basic-dynamodb-table": "update"})
        tb = ddb.describe_table(TableName="GameScores")["Table"]
        self.assertEqual([g["IndexName"] for g in tb["GlobalSecondaryIndexes"]],
                         ["PlayedAtByUser"])
        ttl = ddb.describe_time_to_live(TableName="GameScores")["TimeToLiveDescription"]
        self.assertEqual(ttl["TimeToLiveStatus"], "DISABLED")
        self.assertEqual(ddb.describe_continuous_backups(TableName="GameScores")[
            "ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"],
            {"PointInTimeRecoveryStatus": "DISABLED"})
        # a different local index replaces the table (DynamoDB fixes them at creation)
        text = read(path).replace("projectionType: KEYS_ONLY\n      pointInTimeRecovery",
                                  "projectionType: ALL\n      pointInTimeRecovery")
        with open(path, "w") as f:
            f.write(text)
        res = p.json("up", "--yes")
        self.assertEqual(changed(res), {"basic-dynamodb-table": "replace"})
        tb = ddb.describe_table(TableName="GameScores")["Table"]
        self.assertEqual(tb["LocalSecondaryIndexes"][0]["Projection"]["ProjectionType"], "ALL")
        # PITR on again, and a second table restored from the first's latest time
        ddb.put_item(TableName="GameScores", Item={
            "UserId": {"S": "u9"}, "GameTitle": {"S": "Comet"}, "TopScore": {"N": "7"},
            "PlayedAt": {"S": "2026-02-02"}})
        text = read(path).replace("pointInTimeRecovery:\n        enabled: false\n",
                                  "pointInTimeRecovery:\n        enabled: true\n")
        text = text.replace("outputs:\n", '''  restored:
    type: aws:dynamodb:Table
    properties:
      name: GameScoresRestored
      billingMode: PAY_PER_REQUEST
      hashKey: UserId
      rangeKey: GameTitle
      attributes:
        - name: UserId
          type: S
        - name: GameTitle
          type: S
      restoreSourceName: ${basic-dynamodb-table.name}
      restoreToLatestTime: true
      streamEnabled: true
      streamViewType: KEYS_ONLY
      tags:
        Restored: "yes"
outputs:
''')
        with open(path, "w") as f:
            f.write(text)
        res = p.json("up", "--yes")
        self.assertEqual(changed(res), {"basic-dynamodb-table": "update", "restored": "create"})
        rt = ddb.describe_table(TableName="GameScoresRestored")["Table"]
        self.assertEqual(rt["RestoreSummary"]["SourceTableArn"], tb["TableArn"])
        self.assertEqual(rt["BillingModeSummary"]["BillingMode"], "PAY_PER_REQUEST")
        self.assertEqual(rt["StreamSpecification"]["StreamViewType"], "KEYS_ONLY")
        self.assertEqual([g["IndexName"] for g in rt["GlobalSecondaryIndexes"]],
                         ["PlayedAtByUser"])
        self.assertEqual(ddb.list_tags_of_resource(ResourceArn=rt["TableArn"])["Tags"],
                         [{"Key": "Restored", "Value": "yes"}])
        got = ddb.get_item(TableName="GameScoresRestored",
                           Key={"UserId": {"S": "u9"}, "GameTitle": {"S": "Comet"}})
        self.assertEqual(got["Item"]["TopScore"], {"N": "7"})
        self.assertEqual(p.json("up", "--yes")["writes"], 0)
        self.destroy(p)
        self.assertEqual(ddb.list_tables()["TableNames"], [])

    def test_import_existing_resources(self):
        p = self.project("import-existing")
        r = p.run("up", "--yes", check=1)  # nothing to adopt yet: an error, nothing made
        self.assertIn("import: aws:dynamodb:Table orders-archive does not exist in us-east-1",
                      r.stdout)
        self.assertIn("import: aws:iam:Role ci-deployer does not exist", r.stdout)
        self.assertIn("get: aws:dynamodb:Table orders does not exist", r.stdout)
        self.assertEqual(p.state()["resources"], [])
        ddb, s3, iam = (p.client(x, "us-east-1") for x in ("dynamodb", "s3", "iam"))
        self.assertEqual(ddb.list_tables()["TableNames"], [])
        ddb.create_table(TableName="orders-archive", BillingMode="PAY_PER_REQUEST",
                         AttributeDefinitions=[{"AttributeName": "orderId",
                                                "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "orderId", "KeyType": "HASH"}],
                         Tags=[{"Key": "Owner", "Value": "data-team"}])
        ddb.put_item(TableName="orders-archive", Item={"orderId": {"S": "o-1"}})
        s3.create_bucket(Bucket="company-reports")
        ddb.create_table(TableName="orders", BillingMode="PAY_PER_REQUEST",
                         AttributeDefinitions=[{"AttributeName": "orderId",
                                                "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "orderId", "KeyType": "HASH"}],
                         StreamSpecification={"StreamEnabled": True,
                                              "StreamViewType": "NEW_IMAGE"})
        s3.create_bucket(Bucket="shared-artifacts")
        role = iam.create_role(RoleName="ci-deployer", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Action": "sts:AssumeRole", "Effect": "Allow",
                "Principal": {"Service": "codebuild.amazonaws.com"}}]}))["Role"]
        res = p.json("up", "--yes")
        self.assertEqual(ops(res), {"archive": "import", "reports": "import",
                                    "ciRole": "import", "orders": "refresh",
                                    "sharedArtifacts": "refresh"})
        self.assertEqual(res["writes"], 0)  # adopted, not made
        out = self.up_twice(p)
        self.assertEqual(out["ciRoleArn"], role["Arn"])
        self.assertEqual(out["reportsArn"], "arn:aws:s3:::company-reports")
        # get: read on every up, its properties and outputs usable, never changed
        self.assertEqual(out["ordersKey"], "orderId")
        self.assertEqual(out["ordersStream"],
                         ddb.describe_table(TableName="orders")["Table"]["LatestStreamArn"])
        self.assertEqual(out["sharedArtifactsArn"], "arn:aws:s3:::shared-artifacts")
        self.assertEqual(out["archiveArn"],
                         ddb.describe_table(TableName="orders-archive")["Table"]["TableArn"])
        self.assertEqual(ddb.get_item(TableName="orders-archive",
                                      Key={"orderId": {"S": "o-1"}})["Item"]["orderId"],
                         {"S": "o-1"})  # the same table, its items kept
        # from now on the program drives it
        path = os.path.join(p.dir, "Pulumi.yaml")
        text = read(path).replace("Owner: data-team", "Owner: platform-team")
        with open(path, "w") as f:
            f.write(text)
        self.assertEqual(changed(p.json("up", "--yes")), {"archive": "update"})
        tags = ddb.list_tags_of_resource(ResourceArn=out["archiveArn"])["Tags"]
        self.assertEqual(tags, [{"Key": "Owner", "Value": "platform-team"}])
        d = p.json("destroy", "--yes", "--keep-regions")
        self.assertEqual(changed(d), {"archive": "delete", "reports": "delete",
                                      "ciRole": "delete"})
        self.assertEqual(p.state()["resources"], [])
        # what the program only read stays
        self.assertEqual(ddb.list_tables()["TableNames"], ["orders"])
        self.assertEqual([b["Name"] for b in s3.list_buckets()["Buckets"]], ["shared-artifacts"])
        self.assertEqual(iam.list_roles()["Roles"], [])

    def test_user_with_access_key_and_policies(self):
        p = self.project("iam-user-keys")
        out = self.up_twice(p, show_secrets=True)
        # the key's secret is shown as Pulumi shows it, unless asked for
        self.assertEqual(p.json("output")["secretAccessKey"], "[secret]")
        self.assertEqual(p.run("output", "secretAccessKey", check=0).stdout.strip(), "[secret]")
        self.assertIn("[secret]", p.run("up", "--yes", check=0).stdout)
        iam = p.client("iam", "us-east-1")
        user = iam.get_user(UserName=out["userName"])["User"]
        self.assertEqual(user["Arn"], out["userArn"])
        self.assertEqual(user["Path"], "/system/")
        keys = iam.list_access_keys(UserName=out["userName"])["AccessKeyMetadata"]
        self.assertEqual([k["AccessKeyId"] for k in keys], [out["accessKeyId"]])
        names = iam.list_user_policies(UserName=out["userName"])["PolicyNames"]
        self.assertEqual(len(names), 1)
        self.assertRegex(names[0], r"^ciUpload-[0-9a-f]{7}$")
        attached = iam.list_attached_user_policies(UserName=out["userName"])["AttachedPolicies"]
        self.assertEqual(len(attached), 1)
        # the new key works against the region
        import boto3
        s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=p.endpoint("us-east-1"),
                          aws_access_key_id=out["accessKeyId"],
                          aws_secret_access_key=out["secretAccessKey"])
        s3.put_object(Bucket=out["bucket"], Key="build/1.txt", Body=b"artifact")
        self.destroy(p)
        self.assertEqual([u for u in iam.list_users()["Users"]
                          if u["UserName"] == out["userName"]], [])
        self.assertEqual(iam.list_policies(Scope="Local")["Policies"], [])
        self.assertEqual(p.client("s3", "us-east-1").list_buckets()["Buckets"], [])

    def test_random_values_are_kept(self):
        p = self.project("random-names")
        out = self.up_twice(p, show_secrets=True)
        self.assertRegex(out["pet"], r"^app-[a-z]+-[a-z]+$")
        self.assertTrue(out["bucket"].startswith(out["pet"] + "-"))
        self.assertTrue(1 <= out["shard"] <= 16)
        self.assertRegex(out["tokenHex"], r"^[0-9a-f]{16}$")
        self.assertEqual(len(out["password"]), 20)
        self.assertEqual(p.json("output", "--show-secrets"), out)  # made once, kept in the state
        self.assertEqual(p.json("output")["password"], "[secret]")
        self.destroy(p)
        self.assertEqual(p.client("s3", "us-east-1").list_buckets()["Buckets"], [])

    def test_program_in_main_folder(self):
        p = self.project("main-folder")
        out = self.up_twice(p)
        self.assertEqual(out["table"], "orders-dev")
        self.assertEqual(out["decoded"], "orders")
        self.assertEqual(out["count"], 1)
        self.assertEqual(out["second"], "b")
        self.assertEqual(out["length"], 3)
        self.destroy(p)

    def test_function_from_inline_assets(self):
        p = self.project("lambda-inline")
        out = self.up_twice(p)
        lam = p.client("lambda", "us-east-1")
        r = lam.invoke(FunctionName=out["functionName"], Payload=b'{"name": "tandem"}')
        self.assertEqual(json.loads(r["Payload"].read()), {"greeting": "hello tandem"})
        cfg = lam.get_function_configuration(FunctionName=out["functionName"])
        self.assertEqual(cfg["Environment"]["Variables"], {"STAGE": "dev"})
        role = cfg["Role"].split("/")[-1]
        attached = p.client("iam", "us-east-1").list_attached_role_policies(
            RoleName=role)["AttachedPolicies"]
        self.assertEqual([x["PolicyName"] for x in attached], ["AWSLambdaBasicExecutionRole"])
        # new inline code: exactly the function, updated in place
        path = os.path.join(p.dir, "Pulumi.yaml")
        text = read(path)
        with open(path, "w") as f:
            f.write(text.replace('"hello "', '"hi "'))
        res = p.json("up", "--yes")
        self.assertEqual(changed(res), {"hello": "update"})
        r = lam.invoke(FunctionName=out["functionName"], Payload=b'{"name": "tandem"}')
        self.assertEqual(json.loads(r["Payload"].read()), {"greeting": "hi tandem"})
        self.destroy(p)
        self.assertEqual(lam.list_functions()["Functions"], [])
        self.assertEqual(p.client("iam", "us-east-1").list_roles()["Roles"], [])

    def test_bucket_with_policy_block_and_ownership(self):
        p = self.project("bucket-policy")
        out = self.up_twice(p)
        s3 = p.client("s3", "us-east-1")
        bucket = out["bucketName"]
        pol = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
        self.assertEqual(pol["Statement"][0]["Sid"], "DenyInsecureTransport")
        self.assertEqual(pol["Statement"][0]["Resource"], [out["bucketArn"] + "/*"])
        # the policy binds the account root too, as on S3: no object over plain HTTP
        from botocore.exceptions import ClientError
        with self.assertRaises(ClientError) as cm:
            s3.put_object(Bucket=bucket, Key="plain.txt", Body=b"x")
        self.assertEqual(cm.exception.response["Error"]["Code"], "AccessDenied")
        self.assertIn("explicit deny", cm.exception.response["Error"]["Message"])
        own = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]
        self.assertEqual(own["Rules"][0]["ObjectOwnership"], "BucketOwnerEnforced")
        pab = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        self.assertTrue(all(pab.values()))
        rules = s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
        self.assertEqual(rules[0]["AllowedMethods"], ["PUT", "POST"])
        self.assertEqual(rules[0]["AllowedOrigins"], ["https://s3-website-test.domain.example"])
        self.assertEqual(rules[0]["ExposeHeaders"], ["ETag"])
        self.assertEqual(rules[0]["MaxAgeSeconds"], 3000)
        self.assertEqual(rules[1]["AllowedMethods"], ["GET"])
        # a browser's preflight is answered from the rules
        import urllib.request
        req = urllib.request.Request("%s/%s/x" % (p.endpoint("us-east-1"), bucket),
                                     method="OPTIONS", headers={
                                         "Origin": "https://s3-website-test.domain.example",
                                         "Access-Control-Request-Method": "PUT"})
        with urllib.request.urlopen(req, timeout=10) as r:
            self.assertEqual(r.headers["Access-Control-Allow-Origin"],
                             "https://s3-website-test.domain.example")
        # one rule changed: exactly the CORS configuration, in place
        path = os.path.join(p.dir, "Pulumi.yaml")
        text = read(path).replace("maxAgeSeconds: 3000", "maxAgeSeconds: 600")
        with open(path, "w") as f:
            f.write(text)
        self.assertEqual(changed(p.json("up", "--yes")), {"cors": "update"})
        self.assertEqual(s3.get_bucket_cors(Bucket=bucket)["CORSRules"][0]["MaxAgeSeconds"], 600)
        self.destroy(p)
        self.assertEqual(s3.list_buckets()["Buckets"], [])

    def test_bucket_policy_is_evaluated(self):
        """PutBucketPolicy / GetBucketPolicy / DeleteBucketPolicy, and the policy
        granting a user of the account what its own policies do not."""
        import boto3
        from botocore.exceptions import ClientError
        p = self.project("random-names")
        p.run("up", "--yes", check=0)
        bucket = p.json("output")["bucket"]
        s3 = p.client("s3", "us-east-1")
        iam = p.client("iam", "us-east-1")
        s3.put_object(Bucket=bucket, Key="shared.txt", Body=b"shared")
        with self.assertRaises(ClientError) as cm:
            s3.get_bucket_policy(Bucket=bucket)
        self.assertEqual(cm.exception.response["Error"]["Code"], "NoSuchBucketPolicy")
        with self.assertRaises(ClientError) as cm:
            s3.put_bucket_policy(Bucket=bucket, Policy="not json")
        self.assertEqual(cm.exception.response["Error"]["Code"], "MalformedPolicy")
        user = iam.create_user(UserName="reader")["User"]
        key = iam.create_access_key(UserName="reader")["AccessKey"]
        reader = boto3.client("s3", region_name="us-east-1", endpoint_url=p.endpoint("us-east-1"),
                              aws_access_key_id=key["AccessKeyId"],
                              aws_secret_access_key=key["SecretAccessKey"])
        with self.assertRaises(ClientError) as cm:
            reader.get_object(Bucket=bucket, Key="shared.txt")
        self.assertEqual(cm.exception.response["Error"]["Code"], "AccessDenied")
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": user["Arn"]},
                           "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s/*" % bucket}]}))
        self.assertEqual(reader.get_object(Bucket=bucket, Key="shared.txt")["Body"].read(),
                         b"shared")
        with self.assertRaises(ClientError):  # only what the policy grants
            reader.put_object(Bucket=bucket, Key="x", Body=b"x")
        s3.delete_bucket_policy(Bucket=bucket)
        with self.assertRaises(ClientError) as cm:
            reader.get_object(Bucket=bucket, Key="shared.txt")
        self.assertEqual(cm.exception.response["Error"]["Code"], "AccessDenied")
        s3.delete_object(Bucket=bucket, Key="shared.txt")
        iam.delete_access_key(UserName="reader", AccessKeyId=key["AccessKeyId"])
        iam.delete_user(UserName="reader")
        self.destroy(p)


class PulumiDiagnostics(unittest.TestCase):
    def test_errors_point_at_the_file(self):
        p = Project()
        self.addCleanup(p.cleanup)
        with open(os.path.join(p.dir, "Pulumi.yaml"), "w") as f:
            f.write("name: bad\nruntime: yaml\nresources:\n  b:\n    type: aws:s3:BucketV2\n"
                    "    properties:\n      buckt: x\n")
        r = p.run("up", "--yes")
        self.assertEqual(r.returncode, 2)
        self.assertIn("Pulumi.yaml:7:7: aws:s3:Bucket has no property 'buckt' "
                      "(did you mean 'bucket'?)", r.stderr)
        self.assertFalse(p.server_pids(), "a stack file error starts no region")
        with open(os.path.join(p.dir, "Pulumi.yaml"), "w") as f:
            f.write("name: bad\nruntime: yaml\noutputs:\n  x:\n"
                    "    fn::remoteAsset: https://example.com/a\n")
        r = p.run("preview")
        self.assertEqual(r.returncode, 2)
        self.assertIn("Pulumi.yaml:5:5: fn::remoteAsset is not supported", r.stderr)


if __name__ == "__main__":
    unittest.main()
