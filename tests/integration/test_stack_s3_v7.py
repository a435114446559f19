"""A bucket as the Pulumi AWS provider v7 writes it: its side-by-side resources
under their v7 names (aws:s3:BucketVersioning, BucketServerSideEncryptionConfiguration,
BucketLifecycleConfiguration, BucketCorsConfiguration, BucketWebsiteConfiguration;
the V2 names are v7's deprecated aliases of the same resources), deployed by
`tandem up` on a local region and checked with boto3: default encryption with a
KMS key and a bucket key reaches new objects, a no-change up writes nothing,
refresh finds no drift, a changed rule updates in place and destroy removes it
all."""
import json
import unittest

from stack_helpers import Project

PROGRAM = """\
name: v7names
runtime: yaml
resources:
  logs:
    type: aws:s3:Bucket
    properties:
      bucket: v7-logs
      forceDestroy: true
  versioning:
    type: aws:s3/bucketVersioning:BucketVersioning
    properties:
      bucket: ${logs.id}
      versioningConfiguration:
        status: Enabled
  encryption:
    type: aws:s3:BucketServerSideEncryptionConfiguration
    properties:
      bucket: ${logs.id}
      rules:
        - applyServerSideEncryptionByDefault:
            sseAlgorithm: %(alg)s
            kmsMasterKeyId: %(key)s
          bucketKeyEnabled: true
  lifecycle:
    type: aws:s3:BucketLifecycleConfiguration
    properties:
      bucket: ${logs.id}
      rules:
        - id: expire
          status: Enabled
          filter:
            prefix: tmp/
          expiration:
            days: 30
  cors:
    type: aws:s3:BucketCorsConfiguration
    properties:
      bucket: ${logs.id}
      corsRules:
        - allowedMethods: [GET]
          allowedOrigins: ["*"]
  site:
    type: aws:s3:BucketWebsiteConfiguration
    properties:
      bucket: ${logs.id}
      indexDocument:
        suffix: index.html
"""

ACLS = """\
name: acls
runtime: yaml
resources:
  plain:
    type: aws:s3:Bucket
    properties:
      bucket: acl-plain
  plainAcl:
    type: aws:s3:BucketAcl
    properties:
      bucket: ${plain.id}
      acl: private
  shared:
    type: aws:s3:BucketV2
    properties:
      bucket: acl-shared
  ownership:
    type: aws:s3:BucketOwnershipControls
    properties:
      bucket: ${shared.id}
      rule:
        objectOwnership: BucketOwnerPreferred
  open:
    type: aws:s3:BucketPublicAccessBlock
    properties:
      bucket: ${shared.id}
      blockPublicAcls: false
      ignorePublicAcls: false
  sharedAcl:
    type: aws:s3:BucketAclV2
    properties:
      bucket: ${shared.id}
      accessControlPolicy:
        grants:
          - grantee:
              type: Group
              uri: http://acs.amazonaws.com/groups/global/AllUsers
            permission: %(perm)s
    options:
      dependsOn:
        - ${ownership}
        - ${open}
outputs:
  plainAclId: ${plainAcl.id}
"""

KEY = "arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def ops(result):
    return {s["name"]: s["op"] for s in result["steps"]}


class V7Names(unittest.TestCase):
    def setUp(self):
        self.p = Project(PROGRAM % {"alg": "aws:kms", "key": KEY})
        self.addCleanup(self.p.cleanup)

    def test_v7_bucket_resources(self):
        p = self.p
        p.run("up", "--yes", check=0)
        s3 = p.client("s3", "us-east-1")
        self.assertEqual(s3.get_bucket_versioning(Bucket="v7-logs")["Status"], "Enabled")
        rule = s3.get_bucket_encryption(Bucket="v7-logs")[
            "ServerSideEncryptionConfiguration"]["Rules"][0]
        self.assertEqual(rule["ApplyServerSideEncryptionByDefault"],
                         {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KEY})
        self.assertTrue(rule["BucketKeyEnabled"])
        put = s3.put_object(Bucket="v7-logs", Key="a.txt", Body=b"x")
        self.assertEqual(put["ServerSideEncryption"], "aws:kms")
        self.assertEqual(put["SSEKMSKeyId"], KEY)
        lc = s3.get_bucket_lifecycle_configuration(Bucket="v7-logs")["Rules"]
        self.assertEqual([(r["ID"], r["Expiration"]["Days"]) for r in lc], [("expire", 30)])
        self.assertEqual(s3.get_bucket_cors(Bucket="v7-logs")["CORSRules"][0]["AllowedMethods"],
                         ["GET"])
        self.assertEqual(s3.get_bucket_website(Bucket="v7-logs")["IndexDocument"],
                         {"Suffix": "index.html"})

        again = p.json("up", "--yes")
        self.assertEqual(set(ops(again).values()), {"same"})
        self.assertEqual(again["writes"], 0)
        ref = p.json("refresh", "--yes")
        self.assertEqual([s["name"] for s in ref["steps"] if s.get("error")], [])
        self.assertEqual({s["name"]: s["changed"] for s in ref["steps"] if s["changed"]}, {},
                         json.dumps(ref["steps"]))
        # default encryption changed outside the stack: refresh names it
        s3.put_bucket_encryption(Bucket="v7-logs", ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
        ref = p.json("refresh", "--yes")
        self.assertEqual({s["name"]: s["changed"] for s in ref["steps"] if s["changed"]},
                         {"encryption": ["rules"]})

        p.write(PROGRAM % {"alg": "AES256", "key": '""'})
        self.assertEqual(ops(p.json("preview"))["encryption"], "update")
        p.run("up", "--yes", check=0)
        rule = s3.get_bucket_encryption(Bucket="v7-logs")[
            "ServerSideEncryptionConfiguration"]["Rules"][0]
        self.assertEqual(rule["ApplyServerSideEncryptionByDefault"], {"SSEAlgorithm": "AES256"})
        put = s3.put_object(Bucket="v7-logs", Key="b.txt", Body=b"x")
        self.assertEqual(put["ServerSideEncryption"], "AES256")

        p.run("destroy", "--yes", check=0)
        self.assertFalse(p.server_pids())

    def test_bucket_acls(self):
        p = self.p
        p.write(ACLS % {"perm": "READ"})
        p.run("up", "--yes", check=0)
        self.assertEqual(p.json("output")["plainAclId"], "acl-plain,private")
        s3 = p.client("s3", "us-east-1")
        grants = s3.get_bucket_acl(Bucket="acl-shared")["Grants"]
        everyone = [g["Permission"] for g in grants
                    if g["Grantee"].get("URI", "").endswith("/global/AllUsers")]
        self.assertEqual(everyone, ["READ"])
        # the owner's own grant is gone: the policy given is the whole ACL
        self.assertEqual(len(grants), 1, grants)
        ref = p.json("refresh", "--yes")
        self.assertEqual({s["name"]: s["changed"] for s in ref["steps"] if s["changed"]}, {})
        p.write(ACLS % {"perm": "WRITE"})
        self.assertEqual(ops(p.json("preview"))["sharedAcl"], "update")
        p.run("up", "--yes", check=0)
        grants = s3.get_bucket_acl(Bucket="acl-shared")["Grants"]
        self.assertEqual([g["Permission"] for g in grants], ["WRITE"])
        p.run("destroy", "--yes", check=0)


if __name__ == "__main__":
    unittest.main()
