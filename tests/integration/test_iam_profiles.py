"""IAM instance profiles: a region runs no EC2 instance, but the IAM objects
are there as IAM keeps them, because tools that manage roles use them
(Terraform and the Pulumi AWS provider call ListInstanceProfilesForRole
before they delete a role). And the reads of what a region never has (MFA
devices, keys and certificates of other kinds, login profiles, aliases, a
password policy), which the same tools make before deleting a user and audits
make of every account: answered as IAM answers an account without them. boto3
and the aws CLI v2, against a real server."""
import json
import os
import subprocess
import unittest

import botocore.exceptions

from tandem_harness import ServerTestCase

ACCOUNT = "123456789012"
AWS_CLI = "/usr/bin/aws"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
    "Action": "sts:AssumeRole"}]})


class InstanceProfiles(ServerTestCase):
    server_args = {"account": ACCOUNT}

    def setUp(self):
        self.iam = self.server.boto3("iam")

    def refused(self, call, **kw):
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            call(**kw)
        e = cm.exception.response
        return e["Error"]["Code"], e["Error"]["Message"], e["ResponseMetadata"]["HTTPStatusCode"]

    def test_lifecycle_with_a_role(self):
        iam = self.iam
        iam.create_role(RoleName="web", AssumeRolePolicyDocument=TRUST)
        p = iam.create_instance_profile(InstanceProfileName="web-profile", Path="/app/",
                                        Tags=[{"Key": "env", "Value": "dev"}])["InstanceProfile"]
        self.assertEqual(p["Arn"], "arn:aws:iam::%s:instance-profile/app/web-profile" % ACCOUNT)
        self.assertTrue(p["InstanceProfileId"].startswith("AIPA"))
        self.assertEqual(p["Roles"], [])
        self.assertEqual(p["Tags"], [{"Key": "env", "Value": "dev"}])
        self.assertEqual(self.refused(iam.create_instance_profile,
                                      InstanceProfileName="web-profile"),
                         ("EntityAlreadyExists", "Instance Profile web-profile already exists.",
                          409))
        self.assertEqual(iam.list_instance_profiles_for_role(RoleName="web")["InstanceProfiles"],
                         [])
        iam.add_role_to_instance_profile(InstanceProfileName="web-profile", RoleName="web")
        got = iam.get_instance_profile(InstanceProfileName="web-profile")["InstanceProfile"]
        self.assertEqual([r["RoleName"] for r in got["Roles"]], ["web"])
        self.assertEqual(got["Roles"][0]["AssumeRolePolicyDocument"]["Statement"][0][
            "Principal"], {"Service": "ec2.amazonaws.com"})
        listed = iam.list_instance_profiles_for_role(RoleName="web")["InstanceProfiles"]
        self.assertEqual([x["InstanceProfileName"] for x in listed], ["web-profile"])
        # one role per profile; a role in a profile cannot be deleted, nor the profile
        iam.create_role(RoleName="other", AssumeRolePolicyDocument=TRUST)
        self.assertEqual(
            self.refused(iam.add_role_to_instance_profile, InstanceProfileName="web-profile",
                         RoleName="other"),
            ("LimitExceeded", "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1",
             409))
        conflict = ("DeleteConflict",
                    "Cannot delete entity, must remove roles from instance profile first.", 409)
        self.assertEqual(self.refused(iam.delete_role, RoleName="web"), conflict)
        self.assertEqual(self.refused(iam.delete_instance_profile,
                                      InstanceProfileName="web-profile"), conflict)
        # what a tool that deletes the role does
        for prof in iam.list_instance_profiles_for_role(RoleName="web")["InstanceProfiles"]:
            iam.remove_role_from_instance_profile(
                InstanceProfileName=prof["InstanceProfileName"], RoleName="web")
        self.assertEqual(
            self.refused(iam.remove_role_from_instance_profile,
                         InstanceProfileName="web-profile", RoleName="web"),
            ("NoSuchEntity", "The role with name web cannot be found.", 404))
        iam.delete_role(RoleName="web")
        iam.delete_role(RoleName="other")
        iam.delete_instance_profile(InstanceProfileName="web-profile")
        self.assertEqual(self.refused(iam.get_instance_profile,
                                      InstanceProfileName="web-profile"),
                         ("NoSuchEntity", "Instance Profile web-profile cannot be found.", 404))

    def test_lists_and_tags(self):
        iam = self.iam
        for name, path in (("p-a", "/team/"), ("p-b", "/"), ("p-c", "/team/")):
            iam.create_instance_profile(InstanceProfileName=name, Path=path)
        names = [p["InstanceProfileName"]
                 for p in iam.list_instance_profiles(PathPrefix="/team/")["InstanceProfiles"]]
        self.assertEqual(names, ["p-a", "p-c"])
        page = iam.list_instance_profiles(MaxItems=1)
        self.assertTrue(page["IsTruncated"])
        rest = iam.list_instance_profiles(Marker=page["Marker"])["InstanceProfiles"]
        self.assertIn("p-b", [p["InstanceProfileName"] for p in page["InstanceProfiles"] + rest])
        iam.tag_instance_profile(InstanceProfileName="p-a", Tags=[{"Key": "k", "Value": "v"}])
        self.assertEqual(iam.list_instance_profile_tags(InstanceProfileName="p-a")["Tags"],
                         [{"Key": "k", "Value": "v"}])
        iam.untag_instance_profile(InstanceProfileName="p-a", TagKeys=["k"])
        self.assertEqual(iam.list_instance_profile_tags(InstanceProfileName="p-a")["Tags"], [])
        self.assertEqual(self.refused(iam.list_instance_profiles_for_role, RoleName="ghost"),
                         ("NoSuchEntity", "The role with name ghost cannot be found.", 404))
        self.assertEqual(self.refused(iam.add_role_to_instance_profile, InstanceProfileName="p-b",
                                      RoleName="ghost"),
                         ("NoSuchEntity", "The role with name ghost cannot be found.", 404))
        # GetAccountAuthorizationDetails lists a role's profiles
        iam.create_role(RoleName="batch", AssumeRolePolicyDocument=TRUST)
        iam.add_role_to_instance_profile(InstanceProfileName="p-b", RoleName="batch")
        roles = {r["RoleName"]: r for r in
                 iam.get_account_authorization_details(Filter=["Role"])["RoleDetailList"]}
        self.assertEqual([p["InstanceProfileName"] for p in roles["batch"]["InstanceProfileList"]],
                         ["p-b"])
        for name in ("p-a", "p-c"):
            iam.delete_instance_profile(InstanceProfileName=name)

    def test_what_a_region_never_has(self):
        iam = self.iam
        iam.create_user(UserName="leaver")
        for call, member in ((iam.list_mfa_devices, "MFADevices"),
                             (iam.list_ssh_public_keys, "SSHPublicKeys"),
                             (iam.list_signing_certificates, "Certificates"),
                             (iam.list_service_specific_credentials,
                              "ServiceSpecificCredentials")):
            self.assertEqual(call(UserName="leaver")[member], [], member)
            code, _, status = self.refused(call, UserName="ghost")
            self.assertEqual((code, status), ("NoSuchEntity", 404))
        for call in (iam.get_login_profile, iam.delete_login_profile):
            self.assertEqual(self.refused(call, UserName="leaver"),
                             ("NoSuchEntity", "Login Profile for User leaver cannot be found.",
                              404))
        self.assertEqual(iam.list_account_aliases()["AccountAliases"], [])
        self.assertEqual(iam.list_virtual_mfa_devices()["VirtualMFADevices"], [])
        self.assertEqual(iam.list_saml_providers()["SAMLProviderList"], [])
        self.assertEqual(iam.list_server_certificates()["ServerCertificateMetadataList"], [])
        self.assertEqual(self.refused(iam.get_account_password_policy),
                         ("NoSuchEntity", "The Password Policy with domain name %s cannot be "
                          "found." % ACCOUNT, 404))
        iam.delete_user(UserName="leaver")

    def test_aws_cli_v2(self):
        if not os.access(AWS_CLI, os.X_OK):
            self.skipTest("the aws CLI v2 (Debian's awscli) is not installed")

        def aws(*args):
            out = subprocess.run([AWS_CLI, "iam", *args, "--endpoint-url", self.server.url(),
                                  "--output", "json"], env=self.server.env(),
                                 capture_output=True, text=True, timeout=120)
            self.assertEqual(out.returncode, 0, out.stderr)
            return json.loads(out.stdout) if out.stdout.strip() else None

        aws("create-instance-profile", "--instance-profile-name", "cli-profile")
        got = aws("get-instance-profile", "--instance-profile-name", "cli-profile")
        self.assertEqual(got["InstanceProfile"]["InstanceProfileName"], "cli-profile")
        aws("delete-instance-profile", "--instance-profile-name", "cli-profile")


if __name__ == "__main__":
    unittest.main()
