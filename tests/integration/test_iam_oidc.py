"""IAM OpenID Connect providers with boto3: create (https URLs only, one
provider per URL), get (the URL without its scheme, client ids, thumbprints,
tags), list, add and remove client ids, replace thumbprints, delete; bad
input is refused and changes nothing."""
import unittest

import botocore.exceptions

from tandem_harness import ServerTestCase

ACCOUNT = "123456789012"
PRINT_A = "0123456789abcdef0123456789abcdef01234567"
PRINT_B = "fedcba9876543210fedcba9876543210fedcba98"


class IamOidcProviders(ServerTestCase):
    server_args = {"account": ACCOUNT}

    def setUp(self):
        self.iam = self.server.boto3("iam")

    def error(self, fn, **kw):
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            fn(**kw)
        return cm.exception.response["Error"]["Code"]

    def arns(self):
        return [p["Arn"] for p in
                self.iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]]

    def test_provider_lifecycle(self):
        r = self.iam.create_open_id_connect_provider(
            Url="https://login.harbor.test/realms/docks", ClientIDList=["dock-app"],
            ThumbprintList=[PRINT_A], Tags=[{"Key": "team", "Value": "ops"}])
        arn = r["OpenIDConnectProviderArn"]
        self.assertEqual(arn, "arn:aws:iam::%s:oidc-provider/login.harbor.test/realms/docks"
                         % ACCOUNT)
        self.assertEqual(r["Tags"], [{"Key": "team", "Value": "ops"}])
        self.assertEqual(self.arns(), [arn])
        g = self.iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
        self.assertEqual((g["Url"], g["ClientIDList"], g["ThumbprintList"], g["Tags"]),
                         ("login.harbor.test/realms/docks", ["dock-app"], [PRINT_A],
                          [{"Key": "team", "Value": "ops"}]))
        self.assertIn("CreateDate", g)
        # one provider per URL
        self.assertEqual(self.error(self.iam.create_open_id_connect_provider,
                                    Url="https://login.harbor.test/realms/docks",
                                    ClientIDList=["other"]), "EntityAlreadyExists")
        self.iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn,
                                                           ClientID="crane-app")
        self.iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn,
                                                           ClientID="crane-app")
        self.iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=arn,
                                                                ClientID="dock-app")
        self.iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=arn,
                                                            ThumbprintList=[PRINT_B, PRINT_A])
        g = self.iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
        self.assertEqual((g["ClientIDList"], g["ThumbprintList"]),
                         (["crane-app"], [PRINT_B, PRINT_A]))
        self.iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
        self.assertEqual(self.arns(), [])
        self.assertEqual(self.error(self.iam.get_open_id_connect_provider,
                                    OpenIDConnectProviderArn=arn), "NoSuchEntity")
        self.assertEqual(self.error(self.iam.delete_open_id_connect_provider,
                                    OpenIDConnectProviderArn=arn), "NoSuchEntity")
        self.assertEqual(self.error(self.iam.add_client_id_to_open_id_connect_provider,
                                    OpenIDConnectProviderArn=arn, ClientID="x"),
                         "NoSuchEntity")

    def test_bad_input(self):
        self.assertEqual(self.error(self.iam.create_open_id_connect_provider,
                                    Url="http://plain.harbor.test", ClientIDList=["a"]),
                         "InvalidInput")
        self.assertEqual(self.error(self.iam.create_open_id_connect_provider,
                                    Url="https://q.harbor.test/?x=1", ClientIDList=["a"]),
                         "InvalidInput")
        raw = self.server.boto3("iam", parameter_validation=False)
        self.assertEqual(self.error(raw.create_open_id_connect_provider,
                                    Url="https://short.harbor.test", ThumbprintList=["abc"]),
                         "ValidationError")
        self.assertEqual(self.error(raw.create_open_id_connect_provider,
                                    Url="https://many.harbor.test",
                                    ThumbprintList=[PRINT_A[:-1] + str(i) for i in range(6)]),
                         "LimitExceeded")
        self.assertEqual(self.arns(), [])


if __name__ == "__main__":
    unittest.main()
