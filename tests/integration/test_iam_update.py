"""IAM UpdateRole (Description, MaxSessionDuration) and UpdateAccessKey (Status) with
boto3: the changes show in GetRole / ListAccessKeys, an inactive key fails
authentication in IAM, DynamoDB and S3 with each service's error (also after a
restart), an active one works again, and bad input is refused changing nothing."""
import unittest

import botocore.exceptions

from tandem_harness import ServerTestCase

ACCOUNT = "123456789012"
TRUST = ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":'
         '{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}')
ALL = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'


class IamUpdates(ServerTestCase):
    server_args = {"account": ACCOUNT}

    def setUp(self):
        self.iam = self.server.boto3("iam")

    def code(self, fn, **kw):
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            fn(**kw)
        return cm.exception.response["Error"]["Code"]

    def test_update_role(self):
        self.iam.create_role(RoleName="upd-role", AssumeRolePolicyDocument=TRUST,
                             Description="first")
        self.addCleanup(self.iam.delete_role, RoleName="upd-role")
        self.iam.update_role(RoleName="upd-role", Description="second",
                             MaxSessionDuration=7200)
        r = self.iam.get_role(RoleName="upd-role")["Role"]
        self.assertEqual(r["Description"], "second")
        self.assertEqual(r["MaxSessionDuration"], 7200)
        # only what is given changes
        self.iam.update_role(RoleName="upd-role", MaxSessionDuration=43200)
        r = self.iam.get_role(RoleName="upd-role")["Role"]
        self.assertEqual((r["Description"], r["MaxSessionDuration"]), ("second", 43200))
        self.iam.update_role(RoleName="upd-role", Description="")
        r = self.iam.get_role(RoleName="upd-role")["Role"]
        self.assertNotIn("Description", r)
        # bad input changes nothing (sent past boto3's own checks)
        raw = self.server.boto3("iam", parameter_validation=False)
        self.assertEqual(self.code(raw.update_role, RoleName="upd-role",
                                   MaxSessionDuration=3599), "ValidationError")
        self.assertEqual(self.code(raw.update_role, RoleName="upd-role",
                                   Description="x" * 1001), "ValidationError")
        self.assertEqual(self.iam.get_role(RoleName="upd-role")["Role"]["MaxSessionDuration"],
                         43200)
        self.assertEqual(self.code(self.iam.update_role, RoleName="no-such-role",
                                   Description="d"), "NoSuchEntity")

    def test_update_access_key_status(self):
        self.iam.create_user(UserName="upd-user")
        self.iam.put_user_policy(UserName="upd-user", PolicyName="all", PolicyDocument=ALL)
        key = self.iam.create_access_key(UserName="upd-user")["AccessKey"]
        ak, sk = key["AccessKeyId"], key["SecretAccessKey"]

        def clients():
            return (self.server.boto3("iam", access_key=ak, secret_key=sk),
                    self.server.boto3("dynamodb", access_key=ak, secret_key=sk),
                    self.server.boto3("s3", access_key=ak, secret_key=sk))

        uiam, uddb, us3 = clients()
        uiam.get_user()
        uddb.list_tables()
        us3.list_buckets()

        self.iam.update_access_key(UserName="upd-user", AccessKeyId=ak, Status="Inactive")
        meta = self.iam.list_access_keys(UserName="upd-user")["AccessKeyMetadata"]
        self.assertEqual([(m["AccessKeyId"], m["Status"]) for m in meta], [(ak, "Inactive")])
        self.assertEqual(self.code(uiam.get_user), "InvalidClientTokenId")
        self.assertEqual(self.code(uddb.list_tables), "UnrecognizedClientException")
        self.assertEqual(self.code(us3.list_buckets), "InvalidAccessKeyId")

        # still inactive after a restart
        self.server.stop()
        self.server.start()
        uiam, uddb, us3 = clients()
        self.assertEqual(self.code(uddb.list_tables), "UnrecognizedClientException")

        self.iam = self.server.boto3("iam")
        self.iam.update_access_key(UserName="upd-user", AccessKeyId=ak, Status="Active")
        uiam.get_user()
        uddb.list_tables()
        us3.list_buckets()
        meta = self.iam.list_access_keys(UserName="upd-user")["AccessKeyMetadata"]
        self.assertEqual(meta[0]["Status"], "Active")

        # bad input changes nothing
        raw = self.server.boto3("iam", parameter_validation=False)
        self.assertEqual(self.code(raw.update_access_key, UserName="upd-user",
                                   AccessKeyId=ak, Status="Paused"), "ValidationError")
        self.assertEqual(self.code(raw.update_access_key, UserName="upd-user",
                                   AccessKeyId=ak), "ValidationError")
        self.assertEqual(self.code(self.iam.update_access_key, UserName="upd-user",
                                   AccessKeyId="AKIANOSUCHKEY0000000", Status="Inactive"),
                         "NoSuchEntity")
        self.iam.create_user(UserName="upd-other")
        self.assertEqual(self.code(self.iam.update_access_key, UserName="upd-other",
                                   AccessKeyId=ak, Status="Inactive"), "NoSuchEntity")
        uddb.list_tables()
        # a user may change the status of its own key (UserName defaults to the caller)
        uiam.update_access_key(AccessKeyId=ak, Status="Inactive")
        self.assertEqual(self.code(uddb.list_tables), "UnrecognizedClientException")
        self.iam.update_access_key(UserName="upd-user", AccessKeyId=ak, Status="Active")
        self.iam.delete_access_key(UserName="upd-user", AccessKeyId=ak)

    def test_root_manages_its_own_keys(self):
        # the account root, without UserName, manages the root's own access keys
        self.assertEqual(self.code(self.iam.update_access_key,
                                   AccessKeyId="AKIANOSUCHROOTKEY000", Status="Active"),
                         "NoSuchEntity")
        self.assertEqual(self.code(self.iam.delete_access_key,
                                   AccessKeyId="AKIANOSUCHROOTKEY000"), "NoSuchEntity")
        key = self.iam.create_access_key()["AccessKey"]
        ak, sk = key["AccessKeyId"], key["SecretAccessKey"]
        self.assertEqual(key["Status"], "Active")
        self.assertNotIn("UserName", key)
        listed = self.iam.list_access_keys()["AccessKeyMetadata"]
        self.assertEqual([m["AccessKeyId"] for m in listed], [ak])
        # it is a root key: allowed everything, in every service, also after a restart
        sts = self.server.boto3("sts", access_key=ak, secret_key=sk)
        self.assertEqual(sts.get_caller_identity()["Arn"], "arn:aws:iam::%s:root" % ACCOUNT)
        self.server.stop()
        self.server.start()
        self.iam = self.server.boto3("iam")
        rootiam = self.server.boto3("iam", access_key=ak, secret_key=sk)
        rootiam.create_user(UserName="made-by-root-key")
        self.server.boto3("s3", access_key=ak, secret_key=sk).list_buckets()
        # not a user's key, and a user's key is not the root's
        self.iam.create_user(UserName="keyless")
        self.assertEqual(self.code(self.iam.delete_access_key, UserName="keyless",
                                   AccessKeyId=ak), "NoSuchEntity")
        self.assertEqual(self.iam.list_access_keys(UserName="keyless")["AccessKeyMetadata"], [])
        self.iam.update_access_key(AccessKeyId=ak, Status="Inactive")
        self.assertEqual(self.code(rootiam.list_users), "InvalidClientTokenId")
        self.assertEqual(self.iam.list_access_keys()["AccessKeyMetadata"][0]["Status"],
                         "Inactive")
        self.iam.delete_access_key(AccessKeyId=ak)
        self.assertEqual(self.code(self.iam.delete_access_key, AccessKeyId=ak), "NoSuchEntity")
        self.assertEqual(self.iam.list_access_keys()["AccessKeyMetadata"], [])


if __name__ == "__main__":
    unittest.main()


class IamAnswersAsAws(ServerTestCase):
    """Members and errors as IAM answers them (recorded against AWS): which
    members each role answer carries, tag validation, trust policy and
    permissions boundary errors."""
    server_args = {"account": ACCOUNT}

    def setUp(self):
        import botocore.config  # noqa: F401  (parameter_validation below)
        self.iam = self.server.boto3("iam", parameter_validation=False)

    def error(self, fn, **kw):
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            fn(**kw)
        r = cm.exception.response
        return r["Error"]["Code"], r["Error"]["Message"], r["ResponseMetadata"]["HTTPStatusCode"]

    def role(self, name, **kw):
        r = self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST, **kw)["Role"]
        self.addCleanup(self.iam.delete_role, RoleName=name)
        return r

    def test_role_members_per_call(self):
        base = {"Arn", "AssumeRolePolicyDocument", "CreateDate", "Path", "RoleId", "RoleName"}
        pol = self.iam.create_policy(PolicyName="shape-cap", PolicyDocument=ALL)["Policy"]["Arn"]
        self.addCleanup(self.iam.delete_policy, PolicyArn=pol)
        r = self.role("shape-role", Description="d", PermissionsBoundary=pol,
                      Tags=[{"Key": "k", "Value": "v"}])
        self.addCleanup(self.iam.delete_role_permissions_boundary, RoleName="shape-role")
        # CreateRole: no Description, MaxSessionDuration or RoleLastUsed
        self.assertEqual(set(r), base | {"PermissionsBoundary", "Tags"})
        self.assertEqual(r["PermissionsBoundary"],
                         {"PermissionsBoundaryArn": pol, "PermissionsBoundaryType": "Policy"})
        g = self.iam.get_role(RoleName="shape-role")["Role"]
        self.assertEqual(set(g), base | {"Description", "MaxSessionDuration", "RoleLastUsed",
                                         "PermissionsBoundary", "Tags"})
        self.assertEqual((g["RoleLastUsed"], g["MaxSessionDuration"]), ({}, 3600))
        # ListRoles: no RoleLastUsed, boundary or tags
        l = [x for x in self.iam.list_roles()["Roles"] if x["RoleName"] == "shape-role"]
        self.assertEqual(set(l[0]), base | {"Description", "MaxSessionDuration"})
        d = self.iam.update_role_description(RoleName="shape-role", Description="new")["Role"]
        self.assertEqual(set(d), base | {"Description", "PermissionsBoundary", "Tags"})
        self.assertEqual(d["Description"], "new")
        self.assertEqual(self.iam.get_role(RoleName="shape-role")["Role"]["Description"], "new")

    def test_tags_validated_and_kept_in_place(self):
        self.role("tags-role")
        msg = "1 validation error detected: Value at '%s' failed to satisfy constraint: Member must %s"
        pattern = "satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+"
        many = [{"Key": str(i), "Value": str(i)} for i in range(51)]
        cases = [
            (many, msg % ("tags", "have length less than or equal to 50")),
            ([{"Key": "k" * 129, "Value": "v"}],
             msg % ("tags.1.member.key", "have length less than or equal to 128")),
            ([{"Key": "a", "Value": "b"}, {"Key": "key", "Value": "v" * 257}],
             msg % ("tags.2.member.value", "have length less than or equal to 256")),
            ([{"Key": "invalid!key", "Value": "v"}], msg % ("tags.1.member.key", pattern)),
        ]
        for tags, text in cases:
            self.assertEqual(self.error(self.iam.create_role, RoleName="tags-new",
                                        AssumeRolePolicyDocument=TRUST, Tags=tags),
                             ("ValidationError", text, 400))
            self.assertEqual(self.error(self.iam.tag_role, RoleName="tags-role", Tags=tags),
                             ("ValidationError", text, 400))
        # checked before the role is looked for
        self.assertEqual(self.error(self.iam.tag_role, RoleName="nosuch", Tags=many)[0],
                         "ValidationError")
        dup = ("InvalidInput",
               "Duplicate tag keys found. Please note that Tag keys are case insensitive.", 400)
        for tags in ([{"Key": "dup", "Value": "1"}, {"Key": "dup", "Value": "2"}],
                     [{"Key": "mykey", "Value": "1"}, {"Key": "MyKey", "Value": "2"}]):
            self.assertEqual(self.error(self.iam.create_role, RoleName="tags-new",
                                        AssumeRolePolicyDocument=TRUST, Tags=tags), dup)
            self.assertEqual(self.error(self.iam.tag_role, RoleName="tags-role", Tags=tags), dup)
        keys_msg = ("1 validation error detected: Value at 'tagKeys' failed to satisfy "
                    "constraint: Member must satisfy constraint: [Member must have length less "
                    "than or equal to 128, Member must have length greater than or equal to 1, "
                    "Member must satisfy regular expression pattern: "
                    "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+, Member must not be null]")
        for keys in (["k" * 129], ["invalid!key"]):
            self.assertEqual(self.error(self.iam.untag_role, RoleName="tags-role", TagKeys=keys),
                             ("ValidationError", keys_msg, 400))
        self.assertEqual(self.error(self.iam.untag_role, RoleName="tags-role",
                                    TagKeys=[str(i) for i in range(51)]),
                         ("ValidationError", msg % ("tagKeys", "have length less than or equal "
                                                    "to 50"), 400))
        with self.assertRaises(botocore.exceptions.ClientError):
            self.iam.get_role(RoleName="tags-new")
        # a key tagged again keeps its place; an empty value is a value
        self.iam.tag_role(RoleName="tags-role", Tags=[{"Key": "a", "Value": "1"},
                                                      {"Key": "b", "Value": "2"}])
        self.iam.tag_role(RoleName="tags-role", Tags=[{"Key": "a", "Value": ""}])
        self.assertEqual(self.iam.list_role_tags(RoleName="tags-role")["Tags"],
                         [{"Key": "a", "Value": ""}, {"Key": "b", "Value": "2"}])

    def test_trust_policy_and_boundary_errors(self):
        self.role("trust-role")
        bad_action = ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":'
                      '{"Service":"ec2.amazonaws.com"},"Action":"sts:InvalidAction"}]}')
        self.assertEqual(self.error(self.iam.update_assume_role_policy, RoleName="trust-role",
                                    PolicyDocument="not valid json"),
                         ("MalformedPolicyDocument", "This policy contains invalid Json", 400))
        self.assertEqual(self.error(self.iam.update_assume_role_policy, RoleName="trust-role",
                                    PolicyDocument=bad_action),
                         ("MalformedPolicyDocument",
                          "AssumeRole policy may only specify STS AssumeRole actions.", 400))
        bad = "arn:aws:iam::%s:not_a_policy/invalid" % ACCOUNT
        want = ("InvalidInput", "ARN %s is not valid." % bad, 400)
        self.assertEqual(self.error(self.iam.put_role_permissions_boundary, RoleName="trust-role",
                                    PermissionsBoundary=bad), want)
        self.assertEqual(self.error(self.iam.create_role, RoleName="trust-new",
                                    AssumeRolePolicyDocument=TRUST, PermissionsBoundary=bad), want)

    def test_users_as_iam(self):
        self.iam.create_user(UserName="shape-user", Tags=[{"Key": "k", "Value": "v"}])
        self.addCleanup(self.iam.delete_user, UserName="shape-user")
        self.assertEqual(self.iam.get_user(UserName="shape-user")["User"]["Tags"],
                         [{"Key": "k", "Value": "v"}])
        # ListUsers (like ListRoles) leaves the tags out
        listed = [u for u in self.iam.list_users()["Users"] if u["UserName"] == "shape-user"]
        self.assertEqual(set(listed[0]), {"Arn", "CreateDate", "Path", "UserId", "UserName"})
        # removing a user who is not a member succeeds
        self.iam.create_group(GroupName="shape-group")
        self.addCleanup(self.iam.delete_group, GroupName="shape-group")
        self.iam.remove_user_from_group(GroupName="shape-group", UserName="shape-user")
        self.assertEqual(self.error(self.iam.remove_user_from_group, GroupName="nosuch-group",
                                    UserName="shape-user"),
                         ("NoSuchEntity", "The group with name nosuch-group cannot be found.", 404))
        # GetAccessKeyLastUsed: a key never used; a key that is not there is AccessDenied
        key = self.iam.create_access_key(UserName="shape-user")["AccessKey"]["AccessKeyId"]
        self.addCleanup(self.iam.delete_access_key, UserName="shape-user", AccessKeyId=key)
        r = self.iam.get_access_key_last_used(AccessKeyId=key)
        self.assertEqual((r["UserName"], r["AccessKeyLastUsed"]),
                         ("shape-user", {"ServiceName": "N/A", "Region": "N/A"}))
        caller = self.server.boto3("sts").get_caller_identity()["Arn"]
        self.assertEqual(self.error(self.iam.get_access_key_last_used,
                                    AccessKeyId="AKIAIOSFODNN7EXAMPLE"),
                         ("AccessDenied", "User: %s is not authorized to perform "
                          "iam:GetAccessKeyLastUsed on resource: access key "
                          "AKIAIOSFODNN7EXAMPLE" % caller, 403))

    def test_policy_documents_checked_as_iam(self):
        import json
        b = "arn:aws:s3:::example_bucket"

        def doc(ver="2012-10-17", **st):
            s = {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": b}
            s.update(st)
            d = {"Statement": {k: v for k, v in s.items() if v is not None}}
            if ver:
                d["Version"] = ver
            return json.dumps(d)
        legacy = "The policy failed legacy parsing"
        refused = [
            ("not json", "Syntax errors in policy."),
            (doc(ver=None), "Policy document must be version 2012-10-17 or greater."),
            (doc(ver="2008-10-17"), "Policy document must be version 2012-10-17 or greater."),
            (doc(ver="2013-10-17"), "Syntax errors in policy."),
            (doc(Effect="invalid"), "Syntax errors in policy."),
            (doc(Effect="denY"), legacy),
            (doc(Condition={"DateGreaterThan": {"a": "sdfdsf"}}), legacy),
            (doc(Condition={"x": {"a": "1"}}), "Syntax errors in policy."),
            (doc(Resource="arn:aws:s3::example_bucket"), legacy),
            (doc(Action="invalid", Resource=None), "Policy statement must contain resources."),
            (doc(Action=[]), "Policy statement must contain actions."),
            (doc(Action="a a:ListBucket"), "Vendor a a is not valid"),
            (doc(Action="s3:List:Bucket"), "Actions/Condition can contain only one colon."),
            (doc(Action="s:3:ListBucket", Resource="sdfsadf"),
             'Resource sdfsadf must be in ARN format or "*".'),
            (doc(Resource="aws:s3:::example_bucket"),
             'Partition "s3" is not valid for resource "arn:s3:::example_bucket:*".'),
            (doc(Resource="arn:aws"),
             "Resource vendor must be fully qualified and cannot contain regexes."),
            (doc(Resource="arn:aws:iam:us-east-1::example_bucket"),
             "IAM resource arn:aws:iam:us-east-1::example_bucket cannot contain region "
             "information."),
            (doc(Resource="arn:aws:s3:us-east-1::example_bucket"),
             "Resource arn:aws:s3:us-east-1::example_bucket can not contain region information."),
            (doc(Resource="arn:aws:iam:::example_bucket"),
             'IAM resource path must either be "*", root, or start with user/, federated-user/, '
             "role/, group/, instance-profile/, mfa/, server-certificate/, policy/, sms-mfa/, "
             "saml-provider/, oidc-provider/, report/, access-report/."),
        ]
        for i, (d, msg) in enumerate(refused):
            self.assertEqual(self.error(self.iam.create_policy, PolicyName="bad-%d" % i,
                                        PolicyDocument=d),
                             ("MalformedPolicyDocument", msg, 400), d)
        # IAM knows no list of vendors and takes condition keys without one
        taken = [doc(Action="fsx:ListBucket"), doc(Action="iam: asdf safdsf af "),
                 doc(Condition={"StringEqualsIfExists": {"a": "asf"}}),
                 doc(Condition={"x": {}, "DateGreaterThan": {"a": "01T"}}),
                 doc(Resource="arn:aws:s3:us-west-2:123456789012:accesspoint/ap")]
        for i, d in enumerate(taken):
            arn = self.iam.create_policy(PolicyName="good-%d" % i, PolicyDocument=d)
            self.iam.delete_policy(PolicyArn=arn["Policy"]["Arn"])
        # an inline policy may leave out its Version
        self.iam.create_user(UserName="doc-user")
        self.addCleanup(self.iam.delete_user, UserName="doc-user")
        self.iam.put_user_policy(UserName="doc-user", PolicyName="p", PolicyDocument=doc(ver=None))
        self.iam.delete_user_policy(UserName="doc-user", PolicyName="p")

    def test_managed_policy_members_versions_and_tags(self):
        import json
        pd = json.dumps({"Version": "2012-10-17",
                         "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
        base = {"Arn", "AttachmentCount", "CreateDate", "DefaultVersionId", "IsAttachable", "Path",
                "PermissionsBoundaryUsageCount", "PolicyId", "PolicyName", "UpdateDate"}
        p = self.iam.create_policy(PolicyName="shape-pol", PolicyDocument=pd, Description="d",
                                   Tags=[{"Key": "abc", "Value": "1"}, {"Key": "b", "Value": "2"},
                                         {"Key": "a", "Value": "3"}, {"Key": "A", "Value": "4"}])
        arn = p["Policy"]["Arn"]
        self.addCleanup(self.iam.delete_policy, PolicyArn=arn)
        self.assertEqual(set(p["Policy"]), base | {"Tags"})
        self.assertEqual(set(self.iam.get_policy(PolicyArn=arn)["Policy"]),
                         base | {"Tags", "Description"})
        listed = [x for x in self.iam.list_policies(Scope="Local")["Policies"]
                  if x["PolicyName"] == "shape-pol"]
        self.assertEqual(set(listed[0]), base)
        # a policy's tag keys are case sensitive; listed shortest first
        self.assertEqual([t["Key"] for t in self.iam.list_policy_tags(PolicyArn=arn)["Tags"]],
                         ["A", "a", "b", "abc"])
        self.assertEqual(self.error(self.iam.tag_policy, PolicyArn=arn,
                                    Tags=[{"Key": "0", "Value": ""}, {"Key": "0", "Value": ""}]),
                         ("InvalidInput", "Duplicate tag keys found.", 400))
        nope = "arn:aws:iam::%s:policy/NotAPolicy" % ACCOUNT
        self.assertEqual(self.error(self.iam.tag_policy, PolicyArn=nope,
                                    Tags=[{"Key": "k", "Value": "v"}]),
                         ("NoSuchEntity", "Policy %s was not found." % nope, 404))
        other = self.iam.create_policy(PolicyName="shape-pol2", PolicyDocument=pd)["Policy"]
        self.addCleanup(self.iam.delete_policy, PolicyArn=other["Arn"])
        self.assertEqual(self.iam.get_policy(PolicyArn=other["Arn"])["Policy"]["Tags"], [])
        # versions: newest first, without their documents
        self.iam.create_policy_version(PolicyArn=arn, PolicyDocument=pd, SetAsDefault=True)
        self.iam.create_policy_version(PolicyArn=arn, PolicyDocument=pd)
        vers = self.iam.list_policy_versions(PolicyArn=arn)["Versions"]
        self.assertEqual([(v["VersionId"], v["IsDefaultVersion"]) for v in vers],
                         [("v3", False), ("v2", True), ("v1", False)])
        self.assertNotIn("Document", vers[0])
        self.assertEqual(self.error(self.iam.get_policy_version, PolicyArn=nope, VersionId="v1"),
                         ("NoSuchEntity", "Policy %s version v1 does not exist or is not "
                          "attachable." % nope, 404))
        pattern = ("1 validation error detected: Value at 'versionId' failed to satisfy "
                   "constraint: Member must satisfy regular expression pattern: "
                   "v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?")
        self.assertEqual(self.error(self.iam.set_default_policy_version, PolicyArn=arn,
                                    VersionId="wrong_version_id"),
                         ("ValidationError", pattern, 400))
        for v in ("v3", "v1"):
            self.iam.delete_policy_version(PolicyArn=arn, VersionId=v)

    def test_role_session_must_name_the_user(self):
        import json
        self.iam.create_user(UserName="sess-admin")
        self.addCleanup(self.iam.delete_user, UserName="sess-admin")
        self.iam.put_user_policy(UserName="sess-admin", PolicyName="all", PolicyDocument=ALL)
        self.addCleanup(self.iam.delete_user_policy, UserName="sess-admin", PolicyName="all")
        key = self.iam.create_access_key(UserName="sess-admin")["AccessKey"]
        self.addCleanup(self.iam.delete_access_key, UserName="sess-admin",
                        AccessKeyId=key["AccessKeyId"])
        trust = json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "sts:AssumeRole",
            "Principal": {"AWS": "arn:aws:iam::%s:user/sess-admin" % ACCOUNT}}]})
        arn = self.iam.create_role(RoleName="sess-role", AssumeRolePolicyDocument=trust)["Role"]
        self.addCleanup(self.iam.delete_role, RoleName="sess-role")
        self.iam.put_role_policy(RoleName="sess-role", PolicyName="p", PolicyDocument=ALL)
        self.addCleanup(self.iam.delete_role_policy, RoleName="sess-role", PolicyName="p")
        sts = self.server.boto3("sts", access_key=key["AccessKeyId"],
                                secret_key=key["SecretAccessKey"])
        creds = sts.assume_role(RoleArn=arn["Arn"], RoleSessionName="s1")["Credentials"]
        as_role = self.server.session_boto3("iam", creds)
        want = ("ValidationError", "Must specify userName when calling with non-User credentials",
                400)
        self.assertEqual(self.error(as_role.get_user), want)
        self.assertEqual(self.error(as_role.create_access_key), want)
