"""ACL grants (x-amz-grant-* headers and AccessControlPolicy bodies) follow a
replicated version to its replica, like canned ACLs do: with the version
itself and with each PutObjectAcl after it. Two real regions; boto3."""

import unittest

import test_s3_replication as tr

OTHER = "210987654321"


def grants(cl, bucket, key, vid):
    r = cl.get_object_acl(Bucket=bucket, Key=key, VersionId=vid)
    return sorted((g["Permission"], g["Grantee"].get("ID") or g["Grantee"].get("URI"))
                  for g in r["Grants"])


class AclGrantReplication(tr.Replication):
    def test_grants_replicate(self):
        src, dst = self.pair()
        self.acls_on((self.east, src), (self.west, dst))
        east, west = self.s3(self.east), self.s3(self.west)
        acct = east.list_buckets()["Owner"]["ID"]
        # a version written with grants arrives with them
        v = east.put_object(Bucket=src, Key="g", Body=b"g", GrantRead="id=" + OTHER,
                            GrantFullControl="id=" + acct)["VersionId"]
        want = [("FULL_CONTROL", acct), ("READ", OTHER)]
        tr.wait_for(lambda: self.status(self.east, src, "g") == "COMPLETED", "replicated")
        self.assertEqual(grants(west, dst, "g", v), want)
        # grants by header, then by body, then a canned ACL again
        east.put_object_acl(Bucket=src, Key="g", VersionId=v, GrantWriteACP="id=" + OTHER,
                            GrantRead="uri=http://acs.amazonaws.com/groups/global/AllUsers")
        want = sorted([("WRITE_ACP", OTHER),
                       ("READ", "http://acs.amazonaws.com/groups/global/AllUsers")])
        tr.wait_for(lambda: grants(west, dst, "g", v) == want, "header grants on the replica")
        east.put_object_acl(Bucket=src, Key="g", VersionId=v, AccessControlPolicy={
            "Owner": {"ID": acct}, "Grants": [
                {"Grantee": {"Type": "CanonicalUser", "ID": OTHER}, "Permission": "READ_ACP"}]})
        tr.wait_for(lambda: grants(west, dst, "g", v) == [("READ_ACP", OTHER)],
                 "body grants on the replica")
        # a body with no grant at all: the replica keeps none either
        east.put_object_acl(Bucket=src, Key="g", VersionId=v, AccessControlPolicy={
            "Owner": {"ID": acct}, "Grants": []})
        tr.wait_for(lambda: grants(west, dst, "g", v) == [], "no grants on the replica")
        east.put_object_acl(Bucket=src, Key="g", VersionId=v, ACL="private")
        tr.wait_for(lambda: grants(west, dst, "g", v) == [("FULL_CONTROL", acct)],
                 "private again on the replica")
        self.assertEqual(self.status(self.west, dst, "g"), "REPLICA")


# only the test above: the inherited ones run in test_s3_replication
for _name in dir(tr.Replication):
    if _name.startswith("test_"):
        setattr(AclGrantReplication, _name, None)

if __name__ == "__main__":
    unittest.main()
