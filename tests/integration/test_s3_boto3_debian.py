"""The S3 suite again with the other boto3 on the machine (Debian's python3 and
its older botocore), so both SDK generations are held to the same behaviour."""

import os
import subprocess
import sys
import unittest

import tandem_harness as th

HERE = os.path.dirname(os.path.abspath(__file__))


class DebianBoto3(unittest.TestCase):
    def test_s3_suite_with_debian_boto3(self):
        py = "/usr/bin/python3"
        if not os.access(py, os.X_OK) or os.path.realpath(py) == os.path.realpath(sys.executable):
            raise unittest.SkipTest("no second python3 at /usr/bin/python3")
        if subprocess.run([py, "-c", "import boto3"], capture_output=True).returncode != 0:
            raise unittest.SkipTest("/usr/bin/python3 has no boto3")
        env = dict(os.environ, TANDEM_BIN=th.tandem_bin())
        # the CLI and memory tests gain nothing from a second SDK
        p = subprocess.run([py, "-m", "unittest", "test_s3.Buckets", "test_s3.Objects",
                            "test_s3.CopyAndTags", "test_s3.Listing", "test_s3.Versioning",
                            "test_s3.Multipart", "test_s3.Presigned", "test_s3.BadInput",
                            "test_s3.Configurations"],
                           cwd=HERE, env=env, capture_output=True, text=True, timeout=900)
        self.assertEqual(p.returncode, 0, p.stderr[-5000:])


if __name__ == "__main__":
    unittest.main()
