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
        # a URL IAM does not take is ValidationError (LocalStack's test_iam_oidc snapshot,
        # recorded against AWS, for "example.org")
        self.assertEqual(self.error(self.iam.create_open_id_connect_provider,
                                    Url="http://plain.harbor.test", ClientIDList=["a"]),
                         "ValidationError")
        self.assertEqual(self.error(self.iam.create_open_id_connect_provider,
                                    Url="https://q.harbor.test/?x=1", ClientIDList=["a"]),
                         "ValidationError")
        raw = self.server.boto3("iam", parameter_validation=False)
        self.assertEqual(self.error(raw.create_open_id_connect_provider,
                                    Url="https://short.harbor.test", ThumbprintList=["abc"]),
                         "ValidationError")
        self.assertEqual(self.error(raw.create_open_id_connect_provider,
                                    Url="https://many.harbor.test",
                                    ThumbprintList=[PRINT_A[:-1] + str(i) for i in range(6)]),
                         "InvalidInput")
        self.assertEqual(self.arns(), [])

    def test_answers_as_iam(self):
        """Errors and members as IAM answers them (LocalStack's test_iam_oidc snapshots,
        recorded against AWS)."""
        import botocore.exceptions

        def fails(fn, **kw):
            with self.assertRaises(botocore.exceptions.ClientError) as cm:
                fn(**kw)
            r = cm.exception.response
            return (r["Error"]["Code"], r["Error"]["Message"],
                    r["ResponseMetadata"]["HTTPStatusCode"])
        raw = self.server.boto3("iam", parameter_validation=False)
        self.assertEqual(fails(raw.create_open_id_connect_provider, Url="example.org",
                               ThumbprintList=[PRINT_A]),
                         ("ValidationError", "Invalid Open ID Connect Provider URL", 400))
        self.assertEqual(fails(raw.create_open_id_connect_provider,
                               Url="https://t.harbor.test",
                               ThumbprintList=[PRINT_A[:-1] + str(i) for i in range(6)]),
                         ("InvalidInput", "Thumbprint list must contain fewer than 5 entries.",
                          400))
        self.assertEqual(fails(raw.create_open_id_connect_provider,
                               Url="https://c.harbor.test", ThumbprintList=[PRINT_A],
                               ClientIDList=[str(i) for i in range(101)]),
                         ("LimitExceeded",
                          "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: 100", 409))
        self.assertEqual(fails(raw.create_open_id_connect_provider, Url="b" * 256,
                               ThumbprintList=["b" * 41], ClientIDList=["b" * 256]),
                         ("ValidationError",
                          "3 validation errors detected: Value at 'clientIDList' failed to "
                          "satisfy constraint: Member must satisfy constraint: [Member must have "
                          "length less than or equal to 255, Member must have length greater "
                          "than or equal to 1]; Value at 'thumbprintList' failed to satisfy "
                          "constraint: Member must satisfy constraint: [Member must have length "
                          "less than or equal to 40, Member must have length greater than or "
                          "equal to 40]; Value at 'url' failed to satisfy constraint: Member "
                          "must have length less than or equal to 255", 400))
        arn = self.iam.create_open_id_connect_provider(
            Url="https://tags.harbor.test", ThumbprintList=[PRINT_A])["OpenIDConnectProviderArn"]
        self.assertEqual(self.iam.get_open_id_connect_provider(
            OpenIDConnectProviderArn=arn)["Tags"], [])
        self.iam.tag_open_id_connect_provider(
            OpenIDConnectProviderArn=arn, Tags=[{"Key": "k%02d" % i, "Value": "v"}
                                                for i in range(10)])
        self.iam.untag_open_id_connect_provider(OpenIDConnectProviderArn=arn, TagKeys=["k09"])
        page = self.iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=arn,
                                                           MaxItems=4)
        rest = self.iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=arn,
                                                           Marker=page["Marker"])
        self.assertEqual([t["Key"] for t in page["Tags"] + rest["Tags"]],
                         ["k%02d" % i for i in range(9)])
        self.assertNotIn("Marker", rest)
        self.iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
        self.assertEqual(fails(self.iam.delete_open_id_connect_provider,
                               OpenIDConnectProviderArn=arn),
                         ("NoSuchEntity", "OpenId connect Provider %s cannot be found." % arn, 404))
        self.assertEqual(fails(self.iam.get_open_id_connect_provider,
                               OpenIDConnectProviderArn=arn),
                         ("NoSuchEntity", "OpenIDConnect Provider not found for arn %s" % arn,
                          404))


if __name__ == "__main__":
    unittest.main()
