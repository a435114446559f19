"""Invoke's ClientContext (X-Amz-Client-Context) through boto3 to Python and
Node.js functions: their context shows it (Python's context.client_context
with .client/.custom/.env, Node's context.clientContext), non-ASCII text and
a pretty-printed document arrive intact, Event invocations get none (as on
Lambda), and the refusals: not base64, not a JSON object, too long."""

import base64
import json
import shutil
import unittest

import botocore.exceptions

from tandem_harness import ServerTestCase
from test_lambda import ROLE, wait_fn_log, zip_of

PY_APP = '''\
def handler(event, context):
    cc = context.client_context
    out = None
    if cc is not None:
        client = None
        if cc.client is not None:
            client = {k: getattr(cc.client, k) for k in (
                "installation_id", "app_title", "app_version_name", "app_version_code",
                "app_package_name")}
        out = {"client": client, "custom": cc.custom, "env": cc.env}
    print("client_context=%s" % json.dumps(out, sort_keys=True))
    return {"client_context": out, "identity_id": context.identity.cognito_identity_id}


import json
'''

NODE_APP = '''\
exports.handler = async (event, context) => {
  console.log('clientContext=' + JSON.stringify(context.clientContext === undefined ?
    'undefined' : context.clientContext));
  return {clientContext: context.clientContext === undefined ? 'undefined' :
    context.clientContext, identity: context.identity === undefined ? 'undefined' :
    context.identity};
};
'''

DOC = {"client": {"installation_id": "inst-1", "app_title": "Field App",
                  "app_version_name": "2.1", "app_version_code": "21",
                  "app_package_name": "com.example.field"},
       "custom": {"site": "north", "n": 3, "tags": ["a", "b"]},
       "env": {"platform": "Android", "locale": "fr_FR"}}


def b64(doc):
    return base64.b64encode(json.dumps(doc).encode()).decode()


class ClientContextTest(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.lam = cls.server.boto3("lambda", max_attempts=1, read_timeout=120)
        cls.have = {"python": bool(shutil.which("python3")), "node": bool(shutil.which("node"))}
        if cls.have["python"]:
            cls.lam.create_function(FunctionName="cc-py", Runtime="python3.12", Role=ROLE,
                                    Handler="app.handler",
                                    Code={"ZipFile": zip_of({"app.py": (PY_APP, 0o644)})})
        if cls.have["node"]:
            cls.lam.create_function(FunctionName="cc-node", Runtime="nodejs20.x", Role=ROLE,
                                    Handler="index.handler",
                                    Code={"ZipFile": zip_of({"index.js": (NODE_APP, 0o644)})})

    def need(self, what):
        if not self.have[what]:
            self.skipTest("no %s on PATH" % what)

    def invoke(self, name, **kw):
        r = self.lam.invoke(FunctionName=name, Payload=b"{}", **kw)
        self.assertEqual(r["StatusCode"], 200)
        self.assertNotIn("FunctionError", r)
        return json.loads(r["Payload"].read())

    def refused(self, client_context, code, message):
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.lam.invoke(FunctionName="cc-py", Payload=b"{}", ClientContext=client_context)
        err = cm.exception.response
        self.assertEqual(err["Error"]["Code"], code)
        self.assertEqual(err["Error"]["Message"], message)
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], 400)

    def test_python_context(self):
        self.need("python")
        out = self.invoke("cc-py", ClientContext=b64(DOC))
        self.assertEqual(out["client_context"], DOC)
        self.assertIsNone(out["identity_id"])
        # without the header: None, as on Lambda
        self.assertIsNone(self.invoke("cc-py")["client_context"])
        # only custom: client and env are None
        out = self.invoke("cc-py", ClientContext=b64({"custom": {"k": "v"}}))
        self.assertEqual(out["client_context"], {"client": None, "custom": {"k": "v"},
                                                 "env": None})

    def test_node_context(self):
        self.need("node")
        out = self.invoke("cc-node", ClientContext=b64(DOC))
        self.assertEqual(out["clientContext"], DOC)
        self.assertEqual(out["identity"], "undefined")
        self.assertEqual(self.invoke("cc-node")["clientContext"], "undefined")

    def test_text_arrives_intact(self):
        """Non-ASCII text and a document written over several lines."""
        self.need("python")
        doc = {"custom": {"name": "h\u00e9llo \u20ac \U0001F600", "line": "a\nb"}}
        pretty = base64.b64encode(json.dumps(doc, indent=2, ensure_ascii=False)
                                  .encode()).decode()
        out = self.invoke("cc-py", ClientContext=pretty)
        self.assertEqual(out["client_context"]["custom"], doc["custom"])
        if self.have["node"]:
            out = self.invoke("cc-node", ClientContext=pretty)
            self.assertEqual(out["clientContext"], doc)

    def test_event_gets_no_client_context(self):
        self.need("python")
        r = self.lam.invoke(FunctionName="cc-py", InvocationType="Event", Payload=b"{}",
                            ClientContext=b64(DOC))
        self.assertEqual(r["StatusCode"], 202)
        wait_fn_log(self, "cc-py", "client_context=null")

    def test_refusals(self):
        msg = "Client context must be a valid Base64-encoded JSON object."
        self.refused("not base64!", "InvalidRequestContentException", msg)
        self.refused(base64.b64encode(b"hello").decode(), "InvalidRequestContentException", msg)
        self.refused(base64.b64encode(b"[1, 2]").decode(), "InvalidRequestContentException", msg)
        self.refused(base64.b64encode(b'{"a": 1} x').decode(), "InvalidRequestContentException",
                     msg)
        self.refused(base64.b64encode(b'{"a": "\xff"}').decode(),
                     "InvalidRequestContentException", msg)
        self.refused("", "InvalidRequestContentException", msg)
        # a DryRun is checked as well
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.lam.invoke(FunctionName="cc-py", InvocationType="DryRun", ClientContext="x")
        self.assertEqual(cm.exception.response["Error"]["Code"], "InvalidRequestContentException")

    def test_length_limit(self):
        # 3,580 bytes of base64 (the longest a padded value under 3,583 can be) pass
        doc = {"custom": {"pad": ""}}
        doc["custom"]["pad"] = "x" * (2685 - len(json.dumps(doc)))
        value = b64(doc)
        self.assertEqual(len(value), 3580)
        if self.have["python"]:
            self.assertEqual(self.invoke("cc-py", ClientContext=value)["client_context"]["custom"],
                             doc["custom"])
        doc["custom"]["pad"] += "xxx"
        self.refused(b64(doc), "InvalidParameterValueException",
                     "1 validation error detected: Value at 'clientContext' failed to satisfy "
                     "constraint: Member must have length less than or equal to 3583")


if __name__ == "__main__":
    unittest.main()
