"""aws:lambda:Function with its code in a bucket (s3Bucket, s3Key), as programs
that publish a package to S3 first write it: `tandem up` puts the package with
aws:s3:BucketObjectv2 and creates the function from it (CreateFunction's
Code.S3Bucket/S3Key); a new key updates the code in place (UpdateFunctionCode);
code and s3Bucket together are refused."""
import io
import json
import os
import unittest
import zipfile

from stack_helpers import Project

PROGRAM = """\
name: s3code
runtime: yaml
resources:
  artifacts:
    type: aws:s3:BucketV2
    properties:
      bucket: artifacts
      forceDestroy: true
  package:
    type: aws:s3:BucketObjectv2
    properties:
      bucket: ${artifacts.id}
      key: fn/%(ver)s.zip
      source:
        fn::fileAsset: ./%(ver)s.zip
  role:
    type: aws:iam:Role
    properties:
      assumeRolePolicy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
  fn:
    type: aws:lambda:Function
    properties:
      name: from-s3
      role: ${role.arn}
      runtime: python3.11
      handler: app.handler
      s3Bucket: ${artifacts.id}
      s3Key: ${package.key}
%(extra)s"""


def package(text):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        z.writestr("app.py", "def handler(event, context):\n    return %r\n" % text)
    return b.getvalue()


class FunctionCodeFromS3(unittest.TestCase):
    def setUp(self):
        self.p = Project(PROGRAM % {"ver": "v1", "extra": ""})
        self.addCleanup(self.p.cleanup)
        for v in ("v1", "v2"):
            with open(os.path.join(self.p.dir, v + ".zip"), "wb") as f:
                f.write(package("code " + v))

    def invoke(self):
        r = self.p.client("lambda", "us-east-1").invoke(FunctionName="from-s3", Payload=b"{}")
        return json.loads(r["Payload"].read())

    def test_code_from_a_bucket(self):
        p = self.p
        p.run("up", "--yes", check=0)
        self.assertEqual(self.invoke(), "code v1")
        p.write(PROGRAM % {"ver": "v2", "extra": ""})
        pv = p.json("preview")
        self.assertEqual({s["name"]: s["op"] for s in pv["steps"]}["fn"], "update")
        p.run("up", "--yes", check=0)
        self.assertEqual(self.invoke(), "code v2")
        p.run("destroy", "--yes", check=0)

    def test_code_and_s3bucket_are_exclusive(self):
        p = self.p
        p.write(PROGRAM % {"ver": "v1", "extra": "      code:\n        fn::fileArchive: ./v1.zip\n"})
        r = p.run("up", "--yes")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("aws:lambda:Function takes its code from code or from s3Bucket and s3Key, "
                      "not both", r.stdout + r.stderr)
        p.run("destroy", "--yes", check=0)


if __name__ == "__main__":
    unittest.main()
