"""Who the stack's keys are, in a region named by endpoint: `fn::invoke
aws:getCallerIdentity` with `options.provider` asks that region (STS
GetCallerIdentity) and answers its account, ARN and user id; the local regions'
answer stays the root user of account 000000000000. Preview's predicted ARNs use
the account of the region they go to, and a provider given as an invoke's
`options.provider` is the provider (its region), not its id."""
import json
import unittest

from stack_helpers import region_project

PROGRAM = """\
name: callers
runtime: yaml
config:
  url:
    type: string
variables:
  there:
    fn::invoke:
      function: aws:getCallerIdentity
      options:
        provider: ${east}
  here:
    fn::invoke:
      function: aws:getCallerIdentity
  westRegion:
    fn::invoke:
      function: aws:getRegion
      options:
        provider: ${west}
resources:
  east:
    type: pulumi:providers:aws
    properties:
      region: us-east-1
      endpoints:
        - iam: ${url}
          sts: ${url}
  west:
    type: pulumi:providers:aws
    properties:
      region: us-west-2
  role:
    type: aws:iam:Role
    properties:
      name: caller-role
      assumeRolePolicy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
    options:
      provider: ${east}
outputs:
  account: ${there.accountId}
  arn: ${there.arn}
  userId: ${there.userId}
  localAccount: ${here.accountId}
  localArn: ${here.arn}
  west: ${westRegion.name}
  roleArn: ${role.arn}
"""


class CallerIdentity(unittest.TestCase):
    def test_account_of_a_region_named_by_endpoint(self):
        server, p = region_project(self, PROGRAM)
        self.assertEqual(server.account, "123456789012")
        want = {
            "account": "123456789012",
            "arn": "arn:aws:iam::123456789012:root",
            "userId": "123456789012",
            "localAccount": "000000000000",
            "localArn": "arn:aws:iam::000000000000:root",
            "west": "us-west-2",
            "roleArn": "arn:aws:iam::123456789012:role/caller-role",
        }
        r = p.run("preview", "--json", check=0)
        self.assertEqual(json.loads(r.stdout)["outputs"], want)
        p.run("up", "--yes", check=0)
        r = p.run("output", "--json", check=0)
        self.assertEqual(json.loads(r.stdout), want)


if __name__ == "__main__":
    unittest.main()
