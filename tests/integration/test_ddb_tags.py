"""Table tags through boto3 and the aws CLI: TagResource, UntagResource,
ListTagsOfResource, tags from CreateTable, the 50-tag and length limits and
the service's errors."""

import json
import subprocess
import unittest
import uuid

from tandem_harness import ServerTestCase


class Tags(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ddb = cls.server.boto3()
        cls.raw = cls.server.boto3(parameter_validation=False)

    def new_table(self, tags=None):
        name = "tag-" + uuid.uuid4().hex[:12]
        kw = {"Tags": tags} if tags else {}
        out = self.ddb.create_table(TableName=name,
                                    AttributeDefinitions=[{"AttributeName": "pk",
                                                           "AttributeType": "S"}],
                                    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                                    BillingMode="PAY_PER_REQUEST", **kw)
        return out["TableDescription"]["TableArn"]

    def err(self, fn, **kw):
        with self.assertRaises(self.ddb.exceptions.ClientError) as cm:
            fn(**kw)
        e = cm.exception.response
        return e["Error"]["Code"], e["Error"]["Message"]

    def tags(self, arn):
        return {t["Key"]: t["Value"] for t in
                self.ddb.list_tags_of_resource(ResourceArn=arn)["Tags"]}

    def test_tag_untag_list(self):
        arn = self.new_table(tags=[{"Key": "env", "Value": "test"}])
        self.assertEqual(self.tags(arn), {"env": "test"})
        self.ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "team", "Value": "db"},
                                                     {"Key": "env", "Value": "prod"},
                                                     {"Key": "empty", "Value": ""}])
        self.assertEqual(self.tags(arn), {"env": "prod", "team": "db", "empty": ""})
        self.ddb.untag_resource(ResourceArn=arn, TagKeys=["team", "not-there"])
        self.assertEqual(self.tags(arn), {"env": "prod", "empty": ""})
        # tags are not part of DescribeTable
        name = arn.rsplit("/", 1)[1]
        self.assertNotIn("_tags", self.ddb.describe_table(TableName=name)["Table"])

    def test_limits_and_errors(self):
        arn = self.new_table()
        many = [{"Key": "k%d" % i, "Value": "v"} for i in range(50)]
        self.ddb.tag_resource(ResourceArn=arn, Tags=many)
        self.ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "k0", "Value": "replaced"}])
        # going past 50 tags on the resource is a ValidationException (as
        # DynamoDB answers), and changes none of them
        code, msg = self.err(self.ddb.tag_resource, ResourceArn=arn,
                             Tags=[{"Key": "k1", "Value": "changed"},
                                   {"Key": "one-more", "Value": "v"}])
        self.assertEqual(code, "ValidationException")
        self.assertIn("exceeds the maximum of 50", msg)
        self.assertEqual(len(self.tags(arn)), 50)
        self.assertEqual(self.tags(arn)["k1"], "v")
        code, msg = self.err(self.ddb.tag_resource, ResourceArn=arn,
                             Tags=[{"Key": "k" * 129, "Value": "v"}])
        self.assertEqual(code, "ValidationException")
        self.assertIn("Member must have length less than or equal to 128", msg)
        code, msg = self.err(self.ddb.tag_resource, ResourceArn=arn,
                             Tags=[{"Key": "k", "Value": "v" * 257}])
        self.assertEqual(code, "ValidationException")
        self.assertIn("less than or equal to 256", msg)
        code, _ = self.err(self.ddb.tag_resource, ResourceArn=arn,
                           Tags=[{"Key": "aws:reserved", "Value": "v"}])
        self.assertEqual(code, "ValidationException")
        # lengths count characters, not bytes: 128 and 256 two-byte letters fit
        self.ddb.untag_resource(ResourceArn=arn, TagKeys=["k%d" % i for i in range(50)])
        self.ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "é" * 128, "Value": "ж" * 256}])
        self.assertEqual(self.tags(arn), {"é" * 128: "ж" * 256})
        # a letter outside the BMP counts two, as the service counts lengths
        wide = "\U0001D400"  # MATHEMATICAL BOLD CAPITAL A
        self.ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": wide * 64, "Value": wide * 128}])
        for tag, at, bound in (({"Key": wide * 65, "Value": "v"}, "key", "less than or equal to 128"),
                               ({"Key": "k", "Value": wide * 129}, "value",
                                "less than or equal to 256"),
                               ({"Key": "", "Value": "v"}, "key", "greater than or equal to 1")):
            code, msg = self.err(self.raw.tag_resource, ResourceArn=arn, Tags=[tag])
            self.assertEqual(code, "ValidationException")
            self.assertTrue(msg.endswith("at 'tags.1.member.%s' failed to satisfy constraint: "
                                         "Member must have length %s" % (at, bound)), msg)
        self.assertEqual(self.tags(arn)[wide * 64], wide * 128)
        self.ddb.untag_resource(ResourceArn=arn, TagKeys=[wide * 64])
        # only letters, digits, whitespace and + - = . _ : / @ may appear
        self.ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "a+b-c=d._:/ @", "Value": "ok 1"}])
        for k, v in (("hi!", "v"), ("k", "d%g"), ('"q"', "v"), ("k", "<>")):
            code, msg = self.err(self.ddb.tag_resource, ResourceArn=arn,
                                 Tags=[{"Key": k, "Value": v}])
            self.assertEqual(code, "ValidationException")
            self.assertIn("regular expression pattern", msg)
        self.assertEqual(len(self.tags(arn)), 2)
        code, msg = self.err(self.ddb.tag_resource, ResourceArn="I_do_not_exist",
                             Tags=[{"Key": "a", "Value": "b"}])
        self.assertEqual(code, "ValidationException")
        self.assertIn("ARNs must start with 'arn:'", msg)
        code, msg = self.err(self.ddb.tag_resource, ResourceArn=arn, Tags=[])
        self.assertEqual(code, "ValidationException")
        self.assertIn("at 'tags' failed to satisfy constraint", msg)
        missing = arn + "-missing"
        code, msg = self.err(self.ddb.list_tags_of_resource, ResourceArn=missing)
        self.assertEqual(code, "ResourceNotFoundException")
        self.assertIn(missing, msg)
        code, _ = self.err(self.ddb.tag_resource, ResourceArn=missing,
                           Tags=[{"Key": "a", "Value": "b"}])
        self.assertEqual(code, "ResourceNotFoundException")
        code, _ = self.err(self.ddb.untag_resource, ResourceArn=missing, TagKeys=["a"])
        self.assertEqual(code, "ResourceNotFoundException")
        code, _ = self.err(self.ddb.list_tags_of_resource, ResourceArn="not-an-arn")
        self.assertEqual(code, "ValidationException")
        code, msg = self.err(self.ddb.create_table, TableName="tag-" + uuid.uuid4().hex[:8],
                             AttributeDefinitions=[{"AttributeName": "pk",
                                                    "AttributeType": "S"}],
                             KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                             BillingMode="PAY_PER_REQUEST",
                             Tags=[{"Key": "k%d" % i, "Value": "v"} for i in range(51)])
        self.assertEqual(code, "ValidationException")

    def test_cli(self):
        arn = self.new_table()
        env = self.server.env()

        def aws(*args):
            return subprocess.run(["aws", "--endpoint-url", env["TANDEM_ENDPOINT"], "--output",
                                   "json", "dynamodb", *args], env=env, capture_output=True,
                                  text=True, timeout=120)

        p = aws("tag-resource", "--resource-arn", arn, "--tags", "Key=a,Value=1")
        self.assertEqual(p.returncode, 0, p.stderr)
        p = aws("list-tags-of-resource", "--resource-arn", arn)
        self.assertEqual(json.loads(p.stdout)["Tags"], [{"Key": "a", "Value": "1"}])
        p = aws("untag-resource", "--resource-arn", arn, "--tag-keys", "a")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.tags(arn), {})


if __name__ == "__main__":
    unittest.main()
