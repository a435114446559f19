"""Versions and aliases from a stack: `aws:lambda:Function` with `publish: true`
(`version`, `qualifiedArn`), `aws:lambda:Alias` on that version, and a URL and a
permission on the alias (`qualifier`), deployed by `tandem up` onto a
`tandem server` named by endpoint; a code change publishes version 2 and moves
the alias and its URL; destroy removes them."""
import json
import subprocess
import unittest

from stack_helpers import region_project

PROGRAM = """\
name: fnver
runtime: yaml
config:
  url:
    type: string
resources:
  region:
    type: pulumi:providers:aws
    properties:
      region: us-east-1
      endpoints:
        - lambda: ${url}
  role:
    type: aws:iam:Role
    properties:
      name: fnver-role
      assumeRolePolicy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
    options:
      provider: ${region}
  fn:
    type: aws:lambda:Function
    properties:
      name: verfn
      role: ${role.arn}
      runtime: nodejs20.x
      handler: index.handler
      publish: true
      code:
        fn::assetArchive:
          index.js:
            fn::stringAsset: |
              exports.handler = async () => ({ tag: "%(tag)s" });
    options:
      provider: ${region}
  live:
    type: aws:lambda:Alias
    properties:
      name: live
      functionName: ${fn.name}
      functionVersion: ${fn.version}
      description: production
    options:
      provider: ${region}
  liveUrl:
    type: aws:lambda:FunctionUrl
    properties:
      functionName: ${fn.name}
      qualifier: live
      authorizationType: NONE
    options:
      provider: ${region}
      dependsOn:
        - ${live}
  livePublic:
    type: aws:lambda:Permission
    properties:
      function: ${fn.name}
      qualifier: live
      statementId: public
      action: lambda:InvokeFunctionUrl
      principal: "*"
      functionUrlAuthType: NONE
    options:
      provider: ${region}
      dependsOn:
        - ${live}
outputs:
  version: ${fn.version}
  qualifiedArn: ${fn.qualifiedArn}
  aliasArn: ${live.arn}
  url: ${liveUrl.functionUrl}
  urlArn: ${liveUrl.functionArn}
"""


class StackVersions(unittest.TestCase):
    def setUp(self):
        self.server, self.p = region_project(self, PROGRAM % {"tag": "one"})

    def curl(self, url):
        p = subprocess.run(["curl", "-sS", "-m", "60", url], capture_output=True, text=True,
                           timeout=90)
        return json.loads(p.stdout)

    def test_publish_alias_url_and_destroy(self):
        p = self.p
        arn = "arn:aws:lambda:us-east-1:123456789012:function:verfn"
        up = p.json("up", "--yes", check=None)
        self.assertTrue(up["ok"], up)
        out = p.json("output")
        self.assertEqual((out["version"], out["qualifiedArn"]), ("1", arn + ":1"))
        self.assertEqual((out["aliasArn"], out["urlArn"]), (arn + ":live", arn + ":live"))
        self.assertEqual(self.curl(out["url"]), {"tag": "one"})
        lam = self.server.boto3("lambda", max_attempts=1, read_timeout=60)
        a = lam.get_alias(FunctionName="verfn", Name="live")
        self.assertEqual((a["FunctionVersion"], a["Description"]), ("1", "production"))
        pol = json.loads(lam.get_policy(FunctionName="verfn", Qualifier="live")["Policy"])
        self.assertEqual(pol["Statement"][0]["Resource"], arn + ":live")
        # reading every resource back finds the alias and the published version as they are
        p.run("refresh", "--yes", check=0)
        self.assertEqual(p.json("output")["version"], "1")
        # nothing changed: nothing written, no new version
        self.assertEqual(p.json("up", "--yes")["writes"], 0)
        self.assertEqual(len(lam.list_versions_by_function(FunctionName="verfn")["Versions"]), 2)
        # new code: version 2, the alias and its URL follow
        p.write(PROGRAM % {"tag": "two"})
        up = p.json("up", "--yes", check=None)
        self.assertTrue(up["ok"], up)
        out2 = p.json("output")
        self.assertEqual(out2["version"], "2")
        self.assertEqual(out2["url"], out["url"])
        self.assertEqual(lam.get_alias(FunctionName="verfn", Name="live")["FunctionVersion"], "2")
        self.assertEqual(self.curl(out["url"]), {"tag": "two"})
        r = lam.invoke(FunctionName="verfn", Qualifier="1", Payload=b"{}")
        self.assertEqual(json.loads(r["Payload"].read()), {"tag": "one"})
        p.run("destroy", "--yes", check=0)
        self.assertEqual(lam.list_functions()["Functions"], [])


if __name__ == "__main__":
    unittest.main()
