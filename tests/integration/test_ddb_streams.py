"""DynamoDB Streams through boto3's dynamodbstreams client: records of every
kind of write for each view type, iterator types, expiry, closing and
re-enabling, a concurrent consumer seeing every write once and in order, TTL
deletions as service deletions, and a global table's replicated writes in
the receiving region's stream."""

import base64
import datetime
import struct
import threading
import time
import unittest
import uuid

from repl_helpers import deployment, wait_until
from tandem_harness import ServerTestCase

VIEWS = ["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"]


def read_all(streams, it, max_calls=50):
    """Records from iterator @it until a page comes back empty (or the shard ends)."""
    out = []
    for _ in range(max_calls):
        r = streams.get_records(ShardIterator=it)
        out += r["Records"]
        it = r.get("NextShardIterator")
        if not it or not r["Records"]:
            break
    return out, it


class Streams(ServerTestCase):
    server_args = {"extra_args": ["--ttl-interval", "1"]}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ddb = cls.server.boto3()
        cls.st = cls.server.boto3("dynamodbstreams")

    def table(self, view="NEW_AND_OLD_IMAGES", range_key=False):
        name = "st-" + uuid.uuid4().hex[:12]
        ks = [{"AttributeName": "pk", "KeyType": "HASH"}]
        ad = [{"AttributeName": "pk", "AttributeType": "S"}]
        if range_key:
            ks.append({"AttributeName": "sk", "KeyType": "RANGE"})
            ad.append({"AttributeName": "sk", "AttributeType": "N"})
        kw = dict(TableName=name, KeySchema=ks, AttributeDefinitions=ad,
                  BillingMode="PAY_PER_REQUEST")
        if view:
            kw["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": view}
        t = self.ddb.create_table(**kw)["TableDescription"]
        return name, t.get("LatestStreamArn")

    def shard(self, arn):
        return self.st.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]

    def iterator(self, arn, kind="TRIM_HORIZON", **kw):
        return self.st.get_shard_iterator(StreamArn=arn, ShardId=self.shard(arn)["ShardId"],
                                          ShardIteratorType=kind, **kw)["ShardIterator"]

    def err(self, fn, **kw):
        with self.assertRaises(Exception) as cm:
            fn(**kw)
        e = cm.exception.response
        return e["Error"]["Code"], e["Error"]["Message"]

    # -- records ---------------------------------------------------------------

    def test_event_names_and_images_for_each_view_type(self):
        for view in VIEWS:
            with self.subTest(view=view):
                name, arn = self.table(view)
                d = self.ddb
                d.put_item(TableName=name, Item={"pk": {"S": "a"}, "v": {"N": "1"}})
                # the same item again changes nothing: no record (DynamoDB)
                d.put_item(TableName=name, Item={"pk": {"S": "a"}, "v": {"N": "1.0"}})
                d.update_item(TableName=name, Key={"pk": {"S": "a"}},
                              UpdateExpression="SET v = :one",
                              ExpressionAttributeValues={":one": {"N": "1"}})
                d.update_item(TableName=name, Key={"pk": {"S": "a"}},
                              UpdateExpression="SET v = v + :one",
                              ExpressionAttributeValues={":one": {"N": "1"}})
                with self.assertRaises(d.exceptions.ConditionalCheckFailedException):
                    d.put_item(TableName=name, Item={"pk": {"S": "a"}},
                               ConditionExpression="attribute_not_exists(pk)")
                d.delete_item(TableName=name, Key={"pk": {"S": "a"}})
                d.delete_item(TableName=name, Key={"pk": {"S": "nothing"}})  # no record
                recs, _ = read_all(self.st, self.iterator(arn))
                self.assertEqual([r["eventName"] for r in recs], ["INSERT", "MODIFY", "REMOVE"])
                seqs = [int(r["dynamodb"]["SequenceNumber"]) for r in recs]
                self.assertEqual(seqs, sorted(set(seqs)))
                for r in recs:
                    self.assertEqual(r["eventVersion"], "1.1")
                    self.assertEqual(r["eventSource"], "aws:dynamodb")
                    self.assertEqual(r["awsRegion"], "us-east-1")
                    self.assertEqual(len(r["eventID"]), 32)
                    self.assertNotIn("userIdentity", r)
                    db = r["dynamodb"]
                    self.assertEqual(db["Keys"], {"pk": {"S": "a"}})
                    self.assertEqual(db["StreamViewType"], view)
                    self.assertGreaterEqual(len(db["SequenceNumber"]), 21)
                    self.assertGreater(db["SizeBytes"], 0)
                    self.assertIsInstance(db["ApproximateCreationDateTime"], datetime.datetime)
                    age = time.time() - db["ApproximateCreationDateTime"].timestamp()
                    self.assertLess(abs(age), 120)
                new = [r["dynamodb"].get("NewImage") for r in recs]
                old = [r["dynamodb"].get("OldImage") for r in recs]
                v1 = {"pk": {"S": "a"}, "v": {"N": "1"}}
                v2 = {"pk": {"S": "a"}, "v": {"N": "2"}}
                want_new = view in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES")
                want_old = view in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES")
                self.assertEqual(new, [v1, v2, None] if want_new else [None] * 3)
                self.assertEqual(old, [None, v1, v2] if want_old else [None] * 3)

    def test_unchanged_item_writes_no_record(self):
        # sets and lists inside maps compare as data: a set's members in
        # another order are the same set, a list's are not the same list
        name, arn = self.table("KEYS_ONLY")
        item = {"pk": {"S": "a"}, "m": {"M": {"s": {"SS": ["x", "y"]},
                                               "l": {"L": [{"N": "1"}, {"N": "2"}]}}}}
        self.ddb.put_item(TableName=name, Item=item)
        self.ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "m": {"M": {
            "s": {"SS": ["y", "x"]}, "l": {"L": [{"N": "1"}, {"N": "2"}]}}}})
        self.ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "m": {"M": {
            "s": {"SS": ["y", "x"]}, "l": {"L": [{"N": "2"}, {"N": "1"}]}}}})
        self.ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "m": {"M": {
            "s": {"SS": ["y", "z"]}, "l": {"L": [{"N": "2"}, {"N": "1"}]}}}})
        recs, _ = read_all(self.st, self.iterator(arn))
        self.assertEqual([r["eventName"] for r in recs], ["INSERT", "MODIFY", "MODIFY"])

    def test_batch_and_transaction_writes_are_recorded(self):
        name, arn = self.table("KEYS_ONLY", range_key=True)
        self.ddb.batch_write_item(RequestItems={name: [
            {"PutRequest": {"Item": {"pk": {"S": "b"}, "sk": {"N": str(i)}}}} for i in range(5)]})
        self.ddb.transact_write_items(TransactItems=[
            {"Delete": {"TableName": name, "Key": {"pk": {"S": "b"}, "sk": {"N": "0"}}}},
            {"Put": {"TableName": name, "Item": {"pk": {"S": "b"}, "sk": {"N": "1"},
                                                 "x": {"S": "y"}}}}])
        recs, _ = read_all(self.st, self.iterator(arn))
        self.assertEqual([(r["eventName"], r["dynamodb"]["Keys"]["sk"]["N"]) for r in recs],
                         [("INSERT", str(i)) for i in range(5)] +
                         [("REMOVE", "0"), ("MODIFY", "1")])

    def test_no_records_without_a_stream(self):
        name, arn = self.table(None)
        self.assertIsNone(arn)
        self.ddb.put_item(TableName=name, Item={"pk": {"S": "a"}})
        self.assertEqual(self.st.list_streams(TableName=name)["Streams"], [])

    # -- ListStreams, DescribeStream ---------------------------------------------

    def test_list_and_describe(self):
        name, arn = self.table("NEW_IMAGE", range_key=True)
        got = self.st.list_streams(TableName=name)["Streams"]
        label = arn.split("/stream/")[1]
        self.assertEqual(got, [{"StreamArn": arn, "TableName": name, "StreamLabel": label}])
        self.assertIn(arn, [s["StreamArn"] for s in self.st.list_streams()["Streams"]])
        d = self.st.describe_stream(StreamArn=arn)["StreamDescription"]
        self.assertEqual(d["StreamArn"], arn)
        self.assertEqual(d["StreamLabel"], label)
        self.assertEqual(d["StreamStatus"], "ENABLED")
        self.assertEqual(d["StreamViewType"], "NEW_IMAGE")
        self.assertEqual(d["TableName"], name)
        self.assertEqual(d["KeySchema"], [{"AttributeName": "pk", "KeyType": "HASH"},
                                          {"AttributeName": "sk", "KeyType": "RANGE"}])
        self.assertIsInstance(d["CreationRequestDateTime"], datetime.datetime)
        self.assertEqual(len(d["Shards"]), 1)
        sh = d["Shards"][0]
        self.assertRegex(sh["ShardId"], r"^shardId-\d{20}-[0-9a-f]{8}$")
        self.assertRegex(sh["SequenceNumberRange"]["StartingSequenceNumber"], r"^\d{21,40}$")
        self.assertNotIn("EndingSequenceNumber", sh["SequenceNumberRange"])
        self.assertEqual(self.st.describe_stream(StreamArn=arn, ExclusiveStartShardId=sh["ShardId"])
                         ["StreamDescription"]["Shards"], [])

    def test_list_streams_pages(self):
        arns = sorted(self.table("KEYS_ONLY")[1] for _ in range(3))
        seen, kw = [], {"Limit": 1}
        while True:
            r = self.st.list_streams(**kw)
            self.assertLessEqual(len(r["Streams"]), 1)
            seen += [s["StreamArn"] for s in r["Streams"]]
            if "LastEvaluatedStreamArn" not in r:
                break
            kw["ExclusiveStartStreamArn"] = r["LastEvaluatedStreamArn"]
        self.assertEqual(len(seen), len(set(seen)))
        for a in arns:
            self.assertIn(a, seen)

    def test_not_found_and_validation(self):
        name, arn = self.table("KEYS_ONLY")
        bogus = arn.replace(name, "nosuchtable")
        self.assertEqual(self.err(self.st.describe_stream, StreamArn=bogus)[0],
                         "ResourceNotFoundException")
        self.assertEqual(self.err(self.st.list_streams, TableName="nosuchtable")[0],
                         "ResourceNotFoundException")
        self.assertEqual(self.err(self.st.get_shard_iterator, StreamArn=arn,
                                  ShardId="shardId-00000000000000000000-00000000",
                                  ShardIteratorType="LATEST")[0],
                         "ResourceNotFoundException")
        sid = self.shard(arn)["ShardId"]
        code, msg = self.err(self.st.get_shard_iterator, StreamArn=arn, ShardId=sid,
                             ShardIteratorType="AT_SEQUENCE_NUMBER")
        self.assertEqual(code, "ValidationException")
        self.assertEqual(self.err(self.st.get_records, ShardIterator="garbage")[0],
                         "ValidationException")
        it = self.iterator(arn)
        code, msg = self.err(self.st.get_records, ShardIterator=it, Limit=1001)
        self.assertEqual(code, "ValidationException")
        self.assertIn("less than or equal to 1000", msg)
        # a value not shaped as a stream ARN is a ValidationException, not
        # "not found", wherever a stream ARN is taken
        junk = "sdfadfsdfnlfkajakfgjalksfgklasjklasdjfklasdfasdfgasf"
        for fn, kw in ((self.st.describe_stream, {"StreamArn": junk}),
                       (self.st.list_streams, {"ExclusiveStartStreamArn": junk}),
                       (self.st.get_shard_iterator, {"StreamArn": junk, "ShardId": sid,
                                                     "ShardIteratorType": "LATEST"})):
            code, msg = self.err(fn, **kw)
            self.assertEqual(code, "ValidationException")
            self.assertIn("Invalid StreamArn", msg)

    def test_model_length_and_range_constraints(self):
        """Every min/max of the dynamodbstreams model is the service's
        ValidationException (a client that skips botocore's own checks sends
        them, as an SDK without client-side validation would)."""
        st = self.server.boto3("dynamodbstreams", parameter_validation=False)
        name, arn = self.table("KEYS_ONLY")
        sid = self.shard(arn)["ShardId"]
        ge = "failed to satisfy constraint: Member must have length greater than or equal to %d"
        le = "failed to satisfy constraint: Member must have length less than or equal to %d"
        vge = "failed to satisfy constraint: Member must have value greater than or equal to 1"
        vle = "failed to satisfy constraint: Member must have value less than or equal to %d"
        cases = [
            (st.describe_stream, dict(StreamArn=arn, ExclusiveStartShardId="shardId-1"),
             "Value 'shardId-1' at 'exclusiveStartShardId' " + ge % 28),
            (st.describe_stream, dict(StreamArn=arn, ExclusiveStartShardId="s" * 66),
             "at 'exclusiveStartShardId' " + le % 65),
            (st.describe_stream, dict(StreamArn=arn, Limit=0), "Value '0' at 'limit' " + vge),
            (st.describe_stream, dict(StreamArn=arn, Limit=101),
             "Value '101' at 'limit' " + vle % 100),
            (st.describe_stream, dict(StreamArn=arn[:36]), "at 'streamArn' " + ge % 37),
            (st.describe_stream, dict(StreamArn=arn + "x" * 1024), "at 'streamArn' " + le % 1024),
            (st.describe_stream, dict(StreamArn=arn, ShardFilter={"Type": "PARENT"}),
             "Value 'PARENT' at 'shardFilter.type' failed to satisfy constraint: Member must "
             "satisfy enum value set: [CHILD_SHARDS]"),
            (st.describe_stream, dict(StreamArn=arn, ShardFilter={"Type": "CHILD_SHARDS",
                                                                  "ShardId": "x"}),
             "Value 'x' at 'shardFilter.shardId' " + ge % 28),
            (st.get_records, dict(ShardIterator=""), "Value '' at 'shardIterator' " + ge % 1),
            (st.get_records, dict(ShardIterator="i" * 2049), "at 'shardIterator' " + le % 2048),
            (st.get_records, dict(ShardIterator="garbage", Limit=0),
             "Value '0' at 'limit' " + vge),
            (st.get_records, dict(ShardIterator="garbage", Limit=1001),
             "Value '1001' at 'limit' " + vle % 1000),
            (st.get_shard_iterator, dict(StreamArn=arn, ShardId="", ShardIteratorType="LATEST"),
             "Value '' at 'shardId' " + ge % 28),
            (st.get_shard_iterator, dict(StreamArn=arn, ShardId=sid + "0" * 40,
                                         ShardIteratorType="LATEST"),
             "at 'shardId' " + le % 65),
            (st.get_shard_iterator, dict(StreamArn=arn, ShardId=sid,
                                         ShardIteratorType="AT_SEQUENCE_NUMBER",
                                         SequenceNumber="1" * 20),
             "Value '%s' at 'sequenceNumber' %s" % ("1" * 20, ge % 21)),
            (st.get_shard_iterator, dict(StreamArn=arn, ShardId=sid,
                                         ShardIteratorType="AT_SEQUENCE_NUMBER",
                                         SequenceNumber="1" * 41),
             "at 'sequenceNumber' " + le % 40),
            (st.get_shard_iterator, dict(StreamArn=arn, ShardId=sid, ShardIteratorType="FIRST"),
             "Value 'FIRST' at 'shardIteratorType' failed to satisfy constraint: Member must "
             "satisfy enum value set: [TRIM_HORIZON, LATEST, AT_SEQUENCE_NUMBER, "
             "AFTER_SEQUENCE_NUMBER]"),
            (st.list_streams, dict(Limit=0), "Value '0' at 'limit' " + vge),
            (st.list_streams, dict(Limit=101), "Value '101' at 'limit' " + vle % 100),
            (st.list_streams, dict(ExclusiveStartStreamArn="arn:aws:dynamodb"),
             "Value 'arn:aws:dynamodb' at 'exclusiveStartStreamArn' " + ge % 37),
            (st.list_streams, dict(TableName="ab"), "Value 'ab' at 'tableName' " + ge % 3),
        ]
        for fn, kw, want in cases:
            with self.subTest(op=fn.__name__, kw=sorted(kw)):
                with self.assertRaises(Exception) as cm:
                    fn(**kw)
                e = cm.exception.response
                self.assertEqual(e["Error"]["Code"], "ValidationException")
                self.assertTrue(e["Error"]["Message"].startswith("1 validation error detected: "),
                                e["Error"]["Message"])
                self.assertIn(want, e["Error"]["Message"])
        # two at once are counted and joined, as the service does
        with self.assertRaises(Exception) as cm:
            st.describe_stream(StreamArn=arn, Limit=0, ExclusiveStartShardId="x")
        self.assertIn("2 validation errors detected: ", cm.exception.response["Error"]["Message"])
        # the values at their bounds are accepted: a 28-character shard id
        # sorting before the shard lists it, one sorting after it lists none
        lo = "shardId-" + "0" * 20
        self.assertEqual(len(lo), 28)
        d = st.describe_stream(StreamArn=arn, ExclusiveStartShardId=lo, Limit=100)
        self.assertEqual([s["ShardId"] for s in d["StreamDescription"]["Shards"]], [sid])
        d = st.describe_stream(StreamArn=arn, ExclusiveStartShardId="z" * 65, Limit=1)
        self.assertEqual(d["StreamDescription"]["Shards"], [])
        # a shard here never splits: the children of its one shard are none
        d = st.describe_stream(StreamArn=arn, ShardFilter={"Type": "CHILD_SHARDS",
                                                           "ShardId": sid})
        self.assertEqual(d["StreamDescription"]["Shards"], [])
        r = st.get_records(ShardIterator=self.iterator(arn), Limit=1000)
        self.assertEqual(r["Records"], [])

    def test_empty_shard_reads_from_its_starting_sequence_number(self):
        # a shard with no record yet: iterators at (or after) its
        # StartingSequenceNumber are given, and the first write is read
        name, arn = self.table("KEYS_ONLY")
        start = self.shard(arn)["SequenceNumberRange"]["StartingSequenceNumber"]
        self.assertTrue(start.isdecimal())
        at = self.iterator(arn, "AT_SEQUENCE_NUMBER", SequenceNumber=start)
        after = self.iterator(arn, "AFTER_SEQUENCE_NUMBER", SequenceNumber=start)
        self.ddb.put_item(TableName=name, Item={"pk": {"S": "first"}})
        for it in (at, after):
            recs, _ = read_all(self.st, it)
            self.assertEqual([r["dynamodb"]["Keys"]["pk"]["S"] for r in recs], ["first"])
        # as in DynamoDB, a record's number is greater than its shard's start
        self.assertGreater(int(recs[0]["dynamodb"]["SequenceNumber"]), int(start))
        self.assertEqual(self.shard(arn)["SequenceNumberRange"]["StartingSequenceNumber"], start)

    # -- iterators ---------------------------------------------------------------

    def test_iterator_types(self):
        name, arn = self.table("NEW_IMAGE")
        for i in range(3):
            self.ddb.put_item(TableName=name, Item={"pk": {"S": "k%d" % i}})
        latest = self.iterator(arn, "LATEST")
        self.ddb.put_item(TableName=name, Item={"pk": {"S": "k3"}})
        recs, _ = read_all(self.st, latest)
        self.assertEqual([r["dynamodb"]["Keys"]["pk"]["S"] for r in recs], ["k3"])
        allr, _ = read_all(self.st, self.iterator(arn))
        self.assertEqual(len(allr), 4)
        s1 = allr[1]["dynamodb"]["SequenceNumber"]
        at, _ = read_all(self.st, self.iterator(arn, "AT_SEQUENCE_NUMBER", SequenceNumber=s1))
        self.assertEqual([r["dynamodb"]["SequenceNumber"] for r in at],
                         [r["dynamodb"]["SequenceNumber"] for r in allr[1:]])
        after, _ = read_all(self.st, self.iterator(arn, "AFTER_SEQUENCE_NUMBER",
                                                   SequenceNumber=s1))
        self.assertEqual(len(after), 2)
        # Limit and NextShardIterator continue exactly where the page stopped
        r = self.st.get_records(ShardIterator=self.iterator(arn), Limit=3)
        self.assertEqual(len(r["Records"]), 3)
        r2 = self.st.get_records(ShardIterator=r["NextShardIterator"])
        self.assertEqual([x["eventID"] for x in r["Records"] + r2["Records"]],
                         [x["eventID"] for x in allr])

    def test_expired_iterator(self):
        name, arn = self.table("KEYS_ONLY")
        it = self.iterator(arn)
        # the iterator carries its issue time: one issued 16 minutes ago
        head, b64 = it.rsplit("|", 1)
        raw = bytearray(base64.b64decode(b64))
        issued = struct.unpack(">Q", raw[8:16])[0]
        raw[8:16] = struct.pack(">Q", issued - 16 * 60 * 1000)
        old = head + "|" + base64.b64encode(bytes(raw)).decode()
        code, msg = self.err(self.st.get_records, ShardIterator=old)
        self.assertEqual(code, "ExpiredIteratorException")
        self.assertIn("Iterator expired", msg)
        self.st.get_records(ShardIterator=it)  # the fresh one still works

    # -- closing -----------------------------------------------------------------

    def test_disable_closes_the_shard_and_reenable_makes_a_new_stream(self):
        name, arn = self.table("NEW_AND_OLD_IMAGES")
        self.ddb.put_item(TableName=name, Item={"pk": {"S": "a"}})
        self.ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
        self.ddb.put_item(TableName=name, Item={"pk": {"S": "b"}})  # not recorded
        d = self.st.describe_stream(StreamArn=arn)["StreamDescription"]
        self.assertEqual(d["StreamStatus"], "DISABLED")
        rng = d["Shards"][0]["SequenceNumberRange"]
        self.assertIn("EndingSequenceNumber", rng)
        it = self.iterator(arn)
        r = self.st.get_records(ShardIterator=it)
        self.assertEqual([x["dynamodb"]["Keys"]["pk"]["S"] for x in r["Records"]], ["a"])
        self.assertNotIn("NextShardIterator", r)  # the closed shard is read to its end
        self.assertLessEqual(int(r["Records"][0]["dynamodb"]["SequenceNumber"]),
                             int(rng["EndingSequenceNumber"]))
        time.sleep(0.01)  # labels have millisecond precision
        t = self.ddb.update_table(TableName=name, StreamSpecification={
            "StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})["TableDescription"]
        arn2 = t["LatestStreamArn"]
        self.assertNotEqual(arn2, arn)
        self.ddb.put_item(TableName=name, Item={"pk": {"S": "c"}})
        recs, _ = read_all(self.st, self.iterator(arn2))
        self.assertEqual([x["dynamodb"]["Keys"]["pk"]["S"] for x in recs], ["c"])
        listed = [s["StreamArn"] for s in self.st.list_streams(TableName=name)["Streams"]]
        self.assertEqual(sorted(listed), sorted([arn, arn2]))

    def test_delete_table_closes_the_stream(self):
        name, arn = self.table("KEYS_ONLY")
        self.ddb.put_item(TableName=name, Item={"pk": {"S": "a"}})
        self.ddb.delete_table(TableName=name)
        d = self.st.describe_stream(StreamArn=arn)["StreamDescription"]
        self.assertEqual(d["StreamStatus"], "DISABLED")
        recs, _ = read_all(self.st, self.iterator(arn))
        self.assertEqual(len(recs), 1)

    # -- TTL ---------------------------------------------------------------------

    def test_ttl_deletions_are_service_deletions(self):
        name, arn = self.table("NEW_AND_OLD_IMAGES")
        self.ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={
            "AttributeName": "exp", "Enabled": True})
        past = str(int(time.time()) - 10)
        self.ddb.put_item(TableName=name, Item={"pk": {"S": "old"}, "exp": {"N": past}})
        self.ddb.put_item(TableName=name, Item={"pk": {"S": "user"}})
        self.ddb.delete_item(TableName=name, Key={"pk": {"S": "user"}})
        it = self.iterator(arn)
        recs = wait_until(lambda: [r for r in read_all(self.st, it)[0]
                                   if r["eventName"] == "REMOVE"
                                   and r["dynamodb"]["Keys"]["pk"]["S"] == "old"],
                          timeout=20, interval=0.2, what="the TTL deletion in the stream")
        self.assertEqual(recs[0]["userIdentity"],
                         {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"})
        self.assertEqual(recs[0]["dynamodb"]["OldImage"]["exp"], {"N": past})
        user = [r for r in read_all(self.st, it)[0] if r["eventName"] == "REMOVE"
                and r["dynamodb"]["Keys"]["pk"]["S"] == "user"]
        self.assertNotIn("userIdentity", user[0])

    # -- a consumer alongside a writer -------------------------------------------

    def test_concurrent_consumer_sees_every_write_once_in_order(self):
        name, arn = self.table("NEW_AND_OLD_IMAGES")
        it = self.iterator(arn, "LATEST")
        writers, per_writer, keys = 2, 150, 8
        expected = {}  # key -> [(eventName, v)] in the order the writer made them
        lock = threading.Lock()
        errors = []

        def writer(w):
            try:
                client = self.server.boto3()
                live = set()
                for i in range(per_writer):
                    k = "w%d-%d" % (w, i % keys)
                    if k in live and i % 5 == 4:
                        client.delete_item(TableName=name, Key={"pk": {"S": k}})
                        live.discard(k)
                        ev = ("REMOVE", None)
                    else:
                        client.put_item(TableName=name, Item={"pk": {"S": k}, "v": {"N": str(i)}})
                        ev = ("MODIFY" if k in live else "INSERT", str(i))
                        live.add(k)
                    with lock:
                        expected.setdefault(k, []).append(ev)
            except Exception as e:  # reported by the main thread
                errors.append(e)

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(writers)]
        for t in threads:
            t.start()
        got = {}
        seen_ids = set()
        total = writers * per_writer
        deadline = time.time() + 60
        n = 0
        last_seq = 0
        consumer = self.server.boto3("dynamodbstreams")
        while n < total and time.time() < deadline:
            r = consumer.get_records(ShardIterator=it, Limit=50)
            for rec in r["Records"]:
                self.assertNotIn(rec["eventID"], seen_ids)
                seen_ids.add(rec["eventID"])
                seq = int(rec["dynamodb"]["SequenceNumber"])
                self.assertGreater(seq, last_seq)
                last_seq = seq
                k = rec["dynamodb"]["Keys"]["pk"]["S"]
                ni = rec["dynamodb"].get("NewImage")
                got.setdefault(k, []).append((rec["eventName"], ni["v"]["N"] if ni else None))
                n += 1
            it = r["NextShardIterator"]
            if not r["Records"]:
                time.sleep(0.01)
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        # nothing more than the writes arrives later
        time.sleep(0.2)
        self.assertEqual(self.st.get_records(ShardIterator=it)["Records"], [])
        self.assertEqual(n, total)
        self.assertEqual(got, expected)


class ReplicatedStream(unittest.TestCase):
    """A write in us-east-1 appears in us-west-2's stream with the same images."""

    @classmethod
    def setUpClass(cls):
        cls.east, cls.west = deployment(["us-east-1", "us-west-2"], start=False)
        cls.addClassCleanup(cls.east.cleanup)
        cls.addClassCleanup(cls.west.cleanup)
        cls.east.start()
        cls.west.start()

    @classmethod
    def tearDownClass(cls):
        cls.east.stop()
        cls.west.stop()

    def test_replicated_writes_in_the_receiving_stream(self):
        e, w = self.east.boto3(), self.west.boto3()
        ws = self.west.boto3("dynamodbstreams")
        e.create_table(TableName="gst", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                       AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                       BillingMode="PAY_PER_REQUEST",
                       StreamSpecification={"StreamEnabled": True,
                                            "StreamViewType": "NEW_AND_OLD_IMAGES"})
        e.update_table(TableName="gst", ReplicaUpdates=[{"Create": {"RegionName": "us-west-2"}}])
        warn = wait_until(lambda: w.describe_table(TableName="gst")["Table"].get("LatestStreamArn"),
                          what="the replica's stream")
        self.assertIn(":us-west-2:", warn)
        sid = ws.describe_stream(StreamArn=warn)["StreamDescription"]["Shards"][0]["ShardId"]
        it = ws.get_shard_iterator(StreamArn=warn, ShardId=sid,
                                   ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        item = {"pk": {"S": "x"}, "n": {"N": "1"}, "s": {"SS": ["a", "b"]}}
        e.put_item(TableName="gst", Item=item)
        e.update_item(TableName="gst", Key={"pk": {"S": "x"}}, UpdateExpression="SET n = :two",
                      ExpressionAttributeValues={":two": {"N": "2"}})
        e.delete_item(TableName="gst", Key={"pk": {"S": "x"}})
        recs = []

        def three():
            nonlocal it
            r = ws.get_records(ShardIterator=it)
            recs.extend(r["Records"])
            it = r["NextShardIterator"]
            return len(recs) >= 3

        wait_until(three, what="replicated records in us-west-2's stream")
        self.assertEqual([r["eventName"] for r in recs], ["INSERT", "MODIFY", "REMOVE"])
        self.assertTrue(all(r["awsRegion"] == "us-west-2" for r in recs))
        item2 = dict(item, n={"N": "2"})
        self.assertEqual(recs[0]["dynamodb"]["NewImage"], item)
        self.assertEqual(recs[1]["dynamodb"]["OldImage"], item)
        self.assertEqual(recs[1]["dynamodb"]["NewImage"], item2)
        self.assertEqual(recs[2]["dynamodb"]["OldImage"], item2)
        # the origin's own stream has the same changes
        es = self.east.boto3("dynamodbstreams")
        earn = e.describe_table(TableName="gst")["Table"]["LatestStreamArn"]
        esid = es.describe_stream(StreamArn=earn)["StreamDescription"]["Shards"][0]["ShardId"]
        eit = es.get_shard_iterator(StreamArn=earn, ShardId=esid,
                                    ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        erecs = es.get_records(ShardIterator=eit)["Records"]
        self.assertEqual([r["eventName"] for r in erecs], ["INSERT", "MODIFY", "REMOVE"])
        self.assertEqual([r["dynamodb"].get("NewImage") for r in erecs],
                         [r["dynamodb"].get("NewImage") for r in recs])


if __name__ == "__main__":
    unittest.main()
