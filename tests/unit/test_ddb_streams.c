/* test_ddb_streams.c - DynamoDB Streams through ddb_handle/ddb_streams_handle
 * on a real store in a temp dir: records per write kind, no record for a
 * failed condition or a delete of nothing, TTL service deletions, trimming
 * after the retention (TrimmedDataAccessException), iterator errors. */
#include <semaphore.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "buf.h"
#include "ddb.h"
#include "ddb_fixture.h"
#include "http.h"
#include "store.h"
#include "streams.h"
#include "ttl.h"

static int setup(void **state)
{
    *state = ddb_fixture_open(NULL);
    streams_set_retention_ms(24LL * 3600 * 1000);
    return 0;
}

/* setup_flushed - setup, but the store flushes (a commit is durable one flush
 * later) and commits one intent at a time. */
static int setup_flushed(void **state)
{
    struct store_opts so = {.max_batch = 1};

    setup(state);
    ddb_fixture_reopen(*state, &so);
    return 0;
}

static cJSON *ok(struct ddb_fixture *f, bool streams, const char *op, const char *body)
{
    cJSON *j;
    int st = ddb_fixture_call(f, streams, op, body, &j);

    if (st != 200)
        fail_msg("%s %s -> %d %s", op, body, st, cJSON_PrintUnformatted(j));
    return j;
}

static void expect_err(struct ddb_fixture *f, bool streams, const char *op, const char *body,
                       const char *type)
{
    cJSON *j;
    int st = ddb_fixture_call(f, streams, op, body, &j);
    const char *t = cJSON_GetStringValue(cJSON_GetObjectItem(j, "__type"));

    assert_int_equal(st, 400);
    assert_non_null(t);
    if (!strstr(t, type))
        fail_msg("%s: %s, wanted %s", op, cJSON_PrintUnformatted(j), type);
    cJSON_Delete(j);
}

/* create - a table with a stream of @view; its stream ARN (static buffer). */
static const char *create(struct ddb_fixture *f, const char *name, const char *view)
{
    static char arn[600];
    char b[600];
    cJSON *j;

    snprintf(b, sizeof(b),
             "{\"TableName\":\"%s\",\"AttributeDefinitions\":[{\"AttributeName\":\"pk\","
             "\"AttributeType\":\"S\"}],\"KeySchema\":[{\"AttributeName\":\"pk\",\"KeyType\":"
             "\"HASH\"}],\"BillingMode\":\"PAY_PER_REQUEST\",\"StreamSpecification\":{"
             "\"StreamEnabled\":true,\"StreamViewType\":\"%s\"}}",
             name, view);
    j = ok(f, false, "CreateTable", b);
    snprintf(arn, sizeof(arn), "%s",
             cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "TableDescription"),
                                                      "LatestStreamArn")));
    cJSON_Delete(j);
    return arn;
}

/* iterator - a TRIM_HORIZON (or @type with @seq) iterator of @arn (static buffer). */
static const char *iterator(struct ddb_fixture *f, const char *arn, const char *type,
                            const char *seq)
{
    static char it[2100];
    char b[1200];
    cJSON *j;
    const char *sid;

    snprintf(b, sizeof(b), "{\"StreamArn\":\"%s\"}", arn);
    j = ok(f, true, "DescribeStream", b);
    sid = cJSON_GetStringValue(cJSON_GetObjectItem(
        cJSON_GetArrayItem(
            cJSON_GetObjectItem(cJSON_GetObjectItem(j, "StreamDescription"), "Shards"), 0),
        "ShardId"));
    assert_non_null(sid);
    snprintf(b, sizeof(b),
             "{\"StreamArn\":\"%s\",\"ShardId\":\"%s\",\"ShardIteratorType\":\"%s\"%s%s%s}", arn,
             sid, type, seq ? ",\"SequenceNumber\":\"" : "", seq ? seq : "", seq ? "\"" : "");
    cJSON_Delete(j);
    j = ok(f, true, "GetShardIterator", b);
    snprintf(it, sizeof(it), "%s", cJSON_GetStringValue(cJSON_GetObjectItem(j, "ShardIterator")));
    cJSON_Delete(j);
    return it;
}

/* records - GetRecords of @it (owned array). */
static cJSON *records(struct ddb_fixture *f, const char *it)
{
    struct buf b;
    cJSON *j, *recs;

    buf_init(&b, 0);
    buf_puts(&b, "{\"ShardIterator\":");
    buf_json_str(&b, it, strlen(it));
    buf_putc(&b, '}');
    j = ok(f, true, "GetRecords", b.ptr);
    buf_free(&b);
    recs = cJSON_DetachItemFromObject(j, "Records");
    cJSON_Delete(j);
    return recs;
}

static const char *event(const cJSON *recs, int i)
{
    return cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(recs, i), "eventName"));
}

static const cJSON *image(const cJSON *recs, int i, const char *which)
{
    return cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(recs, i), "dynamodb"), which);
}

static const char *rec_pk(const cJSON *recs, int i)
{
    const cJSON *keys =
        cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(recs, i), "dynamodb"), "Keys");

    return cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(keys, "pk"), "S"));
}

/* An intent that holds the store's writer until released. */
struct gate {
    sem_t entered, release;
};

static enum err_code apply_gate(struct store_txn *t, void *arg, struct err *e)
{
    struct gate *g = arg;

    (void)t;
    (void)e;
    sem_post(&g->entered);
    sem_wait(&g->release);
    return ERR_OK;
}

static void done_gate(void *arg, enum err_code rc, const struct err *e)
{
    (void)arg;
    (void)rc;
    (void)e;
}

/* A record whose commit is not flushed past yet is not handed out, and
 * reading does not wait for that flush: GetRecords answers at once without
 * it, LATEST starts before it, and it comes with the next call once durable. */
static void records_wait_for_durable(void **state)
{
    struct ddb_fixture *f = *state;
    const char *arn = create(f, "held", "KEYS_ONLY");
    char stored[600], it[2100], latest[2100], next[2100], held_pk[16];
    struct gate g0, g1;
    struct http_req *r;
    const char *rb;
    size_t rlen;
    cJSON *recs, *j;
    struct buf b;
    int held_n;

    snprintf(stored, sizeof(stored), "%s", arn);
    cJSON_Delete(
        ok(f, false, "PutItem", "{\"TableName\":\"held\",\"Item\":{\"pk\":{\"S\":\"a\"}}}"));
    snprintf(it, sizeof(it), "%s", iterator(f, stored, "TRIM_HORIZON", NULL));
    sem_init(&g0.entered, 0, 0);
    sem_init(&g0.release, 0, 0);
    sem_init(&g1.entered, 0, 0);
    sem_init(&g1.release, 0, 0);
    /* commits of one intent each: [g0], [put b], [g1]; g1 holds the writer
     * after b's commit and before the flush that makes it durable */
    store_submit(f->store, apply_gate, done_gate, &g0);
    sem_wait(&g0.entered);
    r = http_req_new("POST", "/");
    buf_puts(&r->body, "{\"TableName\":\"held\",\"Item\":{\"pk\":{\"S\":\"b\"}}}");
    ddb_handle(f->ddb, r, "PutItem", NULL);
    store_submit(f->store, apply_gate, done_gate, &g1);
    sem_post(&g0.release);
    sem_wait(&g1.entered);

    /* answered while the writer is held; checked once it is released, so a
     * failure cannot leave the store stuck */
    buf_init(&b, 0);
    buf_puts(&b, "{\"ShardIterator\":");
    buf_json_str(&b, it, strlen(it));
    buf_putc(&b, '}');
    j = ok(f, true, "GetRecords", b.ptr);
    buf_free(&b);
    recs = cJSON_GetObjectItem(j, "Records");
    held_n = cJSON_GetArraySize(recs);
    snprintf(held_pk, sizeof(held_pk), "%s", held_n > 0 ? rec_pk(recs, 0) : "");
    snprintf(next, sizeof(next), "%s",
             cJSON_GetStringValue(cJSON_GetObjectItem(j, "NextShardIterator")));
    cJSON_Delete(j);
    snprintf(latest, sizeof(latest), "%s", iterator(f, stored, "LATEST", NULL));

    sem_post(&g1.release);
    assert_int_equal(http_req_wait(r, &rb, &rlen), 200);
    http_req_free(r);
    assert_int_equal(held_n, 1);
    assert_string_equal(held_pk, "a");
    recs = records(f, next);
    assert_int_equal(cJSON_GetArraySize(recs), 1);
    assert_string_equal(rec_pk(recs, 0), "b");
    cJSON_Delete(recs);
    recs = records(f, latest);
    assert_int_equal(cJSON_GetArraySize(recs), 1);
    assert_string_equal(rec_pk(recs, 0), "b");
    cJSON_Delete(recs);
    sem_destroy(&g0.entered);
    sem_destroy(&g0.release);
    sem_destroy(&g1.entered);
    sem_destroy(&g1.release);
}

static void write_kinds(void **state)
{
    struct ddb_fixture *f = *state;
    const char *arn = create(f, "kinds", "NEW_AND_OLD_IMAGES");
    cJSON *recs;
    char stored[600];

    snprintf(stored, sizeof(stored), "%s", arn);
    cJSON_Delete(
        ok(f, false, "PutItem", "{\"TableName\":\"kinds\",\"Item\":{\"pk\":{\"S\":\"a\"}}}"));
    cJSON_Delete(
        ok(f, false, "PutItem", "{\"TableName\":\"kinds\",\"Item\":{\"pk\":{\"S\":\"a\"}}}"));
    expect_err(f, false, "PutItem",
               "{\"TableName\":\"kinds\",\"Item\":{\"pk\":{\"S\":\"a\"}},"
               "\"ConditionExpression\":\"attribute_not_exists(pk)\"}",
               "ConditionalCheckFailedException");
    cJSON_Delete(
        ok(f, false, "DeleteItem", "{\"TableName\":\"kinds\",\"Key\":{\"pk\":{\"S\":\"a\"}}}"));
    cJSON_Delete(
        ok(f, false, "DeleteItem", "{\"TableName\":\"kinds\",\"Key\":{\"pk\":{\"S\":\"z\"}}}"));
    cJSON_Delete(
        ok(f, false, "PutItem",
           "{\"TableName\":\"kinds\",\"Item\":{\"pk\":{\"S\":\"a\"},\"v\":{\"N\":\"1\"}}}"));
    cJSON_Delete(
        ok(f, false, "DeleteItem", "{\"TableName\":\"kinds\",\"Key\":{\"pk\":{\"S\":\"a\"}}}"));
    /* the second PutItem of the same item changed nothing: no record */
    recs = records(f, iterator(f, stored, "TRIM_HORIZON", NULL));
    assert_int_equal(cJSON_GetArraySize(recs), 4);
    assert_string_equal(event(recs, 0), "INSERT");
    assert_string_equal(event(recs, 1), "REMOVE");
    assert_string_equal(event(recs, 2), "INSERT");
    assert_string_equal(event(recs, 3), "REMOVE");
    assert_null(image(recs, 0, "OldImage"));
    assert_non_null(image(recs, 1, "OldImage"));
    assert_null(image(recs, 1, "NewImage"));
    assert_non_null(image(recs, 2, "NewImage"));
    assert_null(cJSON_GetObjectItem(cJSON_GetArrayItem(recs, 3), "userIdentity"));
    cJSON_Delete(recs);
}

/* Records follow each table's current descriptor while many tables with
 * streams are written in turn (more than the settings remembered at once),
 * and when a table's stream is disabled and enabled again with another view;
 * TransactWriteItems records the items it replaced. */
static void stream_settings_follow_descriptor(void **state)
{
    struct ddb_fixture *f = *state;
    char arns[12][600], b[400], name[16];
    const char *arn;
    cJSON *recs, *j;
    const cJSON *r, *d;

    for (int i = 0; i < 12; i++) {
        snprintf(name, sizeof(name), "many%d", i);
        snprintf(arns[i], sizeof(arns[i]), "%s", create(f, name, "NEW_AND_OLD_IMAGES"));
    }
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 12; i++) {
            snprintf(
                b, sizeof(b),
                "{\"TableName\":\"many%d\",\"Item\":{\"pk\":{\"S\":\"k%d\"},\"v\":{\"N\":\"%d\"}}}",
                i, i, round);
            cJSON_Delete(ok(f, false, "PutItem", b));
        }
    for (int i = 0; i < 12; i++) {
        char pk[8];

        snprintf(pk, sizeof(pk), "k%d", i);
        recs = records(f, iterator(f, arns[i], "TRIM_HORIZON", NULL));
        assert_int_equal(cJSON_GetArraySize(recs), 2);
        assert_string_equal(event(recs, 0), "INSERT");
        assert_string_equal(event(recs, 1), "MODIFY");
        assert_string_equal(rec_pk(recs, 1), pk);
        cJSON_Delete(recs);
    }

    snprintf(arns[2], sizeof(arns[2]), "%s", arns[0]);
    snprintf(arns[3], sizeof(arns[3]), "%s", arns[1]);

    /* one record in full: what GetRecords shows of a MODIFY */
    arn = create(f, "flip", "NEW_AND_OLD_IMAGES");
    snprintf(arns[0], sizeof(arns[0]), "%s", arn);
    cJSON_Delete(
        ok(f, false, "PutItem",
           "{\"TableName\":\"flip\",\"Item\":{\"pk\":{\"S\":\"a\"},\"n\":{\"N\":\"1\"}}}"));
    cJSON_Delete(
        ok(f, false, "PutItem",
           "{\"TableName\":\"flip\",\"Item\":{\"pk\":{\"S\":\"a\"},\"s\":{\"S\":\"xyz\"}}}"));
    recs = records(f, iterator(f, arns[0], "TRIM_HORIZON", NULL));
    assert_int_equal(cJSON_GetArraySize(recs), 2);
    r = cJSON_GetArrayItem(recs, 1);
    d = cJSON_GetObjectItem(r, "dynamodb");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(r, "awsRegion")), "us-east-1");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(r, "eventSource")),
                        "aws:dynamodb");
    {
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(r, "eventID"));

        /* a random (version 4) UUID's 32 lower-case hex digits */
        assert_int_equal(strlen(id), 32);
        assert_int_equal(strspn(id, "0123456789abcdef"), 32);
        assert_int_equal(id[12], '4');
        assert_non_null(strchr("89ab", id[16]));
    }
    assert_int_equal(strlen(cJSON_GetStringValue(cJSON_GetObjectItem(d, "SequenceNumber"))), 21);
    assert_true(cJSON_GetObjectItem(d, "ApproximateCreationDateTime")->valuedouble >
                (double)time(NULL) - 60);
    /* key (pk "a": 2+1) + new item (3 + s "xyz": 1+3) + old item (3 + n 1: 1+2, a
     * number being 1 byte plus 1 per 2 digits) */
    assert_int_equal(cJSON_GetObjectItem(d, "SizeBytes")->valueint, 3 + 7 + 6);
    {
        char *keys = cJSON_PrintUnformatted(cJSON_GetObjectItem(d, "Keys"));
        char *nw = cJSON_PrintUnformatted(cJSON_GetObjectItem(d, "NewImage"));
        char *old = cJSON_PrintUnformatted(cJSON_GetObjectItem(d, "OldImage"));

        assert_string_equal(keys, "{\"pk\":{\"S\":\"a\"}}");
        assert_string_equal(nw, "{\"pk\":{\"S\":\"a\"},\"s\":{\"S\":\"xyz\"}}");
        assert_string_equal(old, "{\"pk\":{\"S\":\"a\"},\"n\":{\"N\":\"1\"}}");
        free(keys);
        free(nw);
        free(old);
    }
    cJSON_Delete(recs);

    /* disabled: no record; enabled again as KEYS_ONLY: a new stream without images */
    cJSON_Delete(ok(f, false, "UpdateTable",
                    "{\"TableName\":\"flip\",\"StreamSpecification\":{\"StreamEnabled\":false}}"));
    cJSON_Delete(
        ok(f, false, "PutItem", "{\"TableName\":\"flip\",\"Item\":{\"pk\":{\"S\":\"b\"}}}"));
    recs = records(f, iterator(f, arns[0], "TRIM_HORIZON", NULL));
    assert_int_equal(cJSON_GetArraySize(recs), 2);
    cJSON_Delete(recs);
    j = ok(f, false, "UpdateTable",
           "{\"TableName\":\"flip\",\"StreamSpecification\":{\"StreamEnabled\":true,"
           "\"StreamViewType\":\"KEYS_ONLY\"}}");
    arn = cJSON_GetStringValue(
        cJSON_GetObjectItem(cJSON_GetObjectItem(j, "TableDescription"), "LatestStreamArn"));
    assert_non_null(arn);
    assert_string_not_equal(arn, arns[0]);
    snprintf(arns[1], sizeof(arns[1]), "%s", arn);
    cJSON_Delete(j);
    cJSON_Delete(
        ok(f, false, "PutItem",
           "{\"TableName\":\"flip\",\"Item\":{\"pk\":{\"S\":\"b\"},\"v\":{\"S\":\"2\"}}}"));
    /* a transaction over a live item and a new one */
    cJSON_Delete(
        ok(f, false, "TransactWriteItems",
           "{\"TransactItems\":[{\"Put\":{\"TableName\":\"many0\",\"Item\":{\"pk\":{\"S\":"
           "\"k0\"},\"v\":{\"N\":\"9\"}},\"ConditionExpression\":\"attribute_exists(pk)\"}},"
           "{\"Update\":{\"TableName\":\"many1\",\"Key\":{\"pk\":{\"S\":\"new\"}},"
           "\"UpdateExpression\":\"SET v = :v\",\"ExpressionAttributeValues\":{\":v\":{"
           "\"N\":\"7\"}}}}]}"));
    recs = records(f, iterator(f, arns[1], "TRIM_HORIZON", NULL));
    assert_int_equal(cJSON_GetArraySize(recs), 1);
    assert_string_equal(event(recs, 0), "MODIFY");
    assert_string_equal(rec_pk(recs, 0), "b");
    assert_null(image(recs, 0, "NewImage"));
    assert_null(image(recs, 0, "OldImage"));
    assert_string_equal(
        cJSON_GetStringValue(cJSON_GetObjectItem(
            cJSON_GetObjectItem(cJSON_GetArrayItem(recs, 0), "dynamodb"), "StreamViewType")),
        "KEYS_ONLY");
    cJSON_Delete(recs);
    recs = records(f, iterator(f, arns[2], "TRIM_HORIZON", NULL));
    assert_int_equal(cJSON_GetArraySize(recs), 3);
    assert_string_equal(event(recs, 2), "MODIFY");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(
                            cJSON_GetObjectItem(image(recs, 2, "OldImage"), "v"), "N")),
                        "1");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(
                            cJSON_GetObjectItem(image(recs, 2, "NewImage"), "v"), "N")),
                        "9");
    cJSON_Delete(recs);
    recs = records(f, iterator(f, arns[3], "TRIM_HORIZON", NULL));
    assert_int_equal(cJSON_GetArraySize(recs), 3);
    assert_string_equal(event(recs, 2), "INSERT");
    assert_string_equal(rec_pk(recs, 2), "new");
    assert_null(image(recs, 2, "OldImage"));
    cJSON_Delete(recs);
}

static void ttl_is_a_service_deletion(void **state)
{
    struct ddb_fixture *f = *state;
    const char *arn = create(f, "expiring", "KEYS_ONLY");
    char stored[600], item[200];
    const cJSON *ui;
    cJSON *recs;
    struct err e = {0};
    size_t deleted = 0;

    snprintf(stored, sizeof(stored), "%s", arn);
    cJSON_Delete(ok(f, false, "UpdateTimeToLive",
                    "{\"TableName\":\"expiring\",\"TimeToLiveSpecification\":{\"AttributeName\":"
                    "\"exp\",\"Enabled\":true}}"));
    snprintf(item, sizeof(item),
             "{\"TableName\":\"expiring\",\"Item\":{\"pk\":{\"S\":\"a\"},\"exp\":{\"N\":\"%ld\"}}}",
             (long)time(NULL) - 100);
    cJSON_Delete(ok(f, false, "PutItem", item));
    assert_int_equal(ddb_ttl_sweep(f->ddb, time(NULL), &deleted, &e), ERR_OK);
    assert_int_equal(deleted, 1);
    recs = records(f, iterator(f, stored, "TRIM_HORIZON", NULL));
    assert_int_equal(cJSON_GetArraySize(recs), 2);
    assert_string_equal(event(recs, 1), "REMOVE");
    ui = cJSON_GetObjectItem(cJSON_GetArrayItem(recs, 1), "userIdentity");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(ui, "Type")), "Service");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(ui, "PrincipalId")),
                        "dynamodb.amazonaws.com");
    assert_null(image(recs, 1, "OldImage")); /* KEYS_ONLY */
    cJSON_Delete(recs);
}

static void trimmed_after_retention(void **state)
{
    struct ddb_fixture *f = *state;
    const char *arn = create(f, "trimmed", "NEW_IMAGE");
    char stored[600], it[2100], seq[64];
    cJSON *recs;

    snprintf(stored, sizeof(stored), "%s", arn);
    cJSON_Delete(
        ok(f, false, "PutItem", "{\"TableName\":\"trimmed\",\"Item\":{\"pk\":{\"S\":\"a\"}}}"));
    recs = records(f, iterator(f, stored, "TRIM_HORIZON", NULL));
    snprintf(seq, sizeof(seq), "%s", cJSON_GetStringValue(image(recs, 0, "SequenceNumber")));
    cJSON_Delete(recs);
    snprintf(it, sizeof(it), "%s", iterator(f, stored, "AT_SEQUENCE_NUMBER", seq));
    streams_set_retention_ms(200); /* what is written now is too old soon */
    usleep(300 * 1000);
    {
        char b[2200];

        snprintf(b, sizeof(b), "{\"ShardIterator\":\"%s\"}", it);
        expect_err(f, true, "GetRecords", b, "TrimmedDataAccessException");
    }
    /* the next write trims the old record for good */
    cJSON_Delete(
        ok(f, false, "PutItem", "{\"TableName\":\"trimmed\",\"Item\":{\"pk\":{\"S\":\"b\"}}}"));
    recs = records(f, iterator(f, stored, "TRIM_HORIZON", NULL));
    assert_int_equal(cJSON_GetArraySize(recs), 1);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(
                            cJSON_GetObjectItem(image(recs, 0, "Keys"), "pk"), "S")),
                        "b");
    cJSON_Delete(recs);
    expect_err(f, true, "GetShardIterator", "{}", "ValidationException");
    streams_set_retention_ms(24LL * 3600 * 1000);
}

static void errors(void **state)
{
    struct ddb_fixture *f = *state;
    const char *arn = create(f, "errs", "KEYS_ONLY");
    char b[1400];

    snprintf(b, sizeof(b),
             "{\"StreamArn\":\"%s\",\"ShardId\":\"shardId-00000000000000000000-00000000\","
             "\"ShardIteratorType\":\"LATEST\"}",
             arn);
    expect_err(f, true, "GetShardIterator", b, "ResourceNotFoundException");
    expect_err(f, true, "DescribeStream",
               "{\"StreamArn\":\"arn:aws:dynamodb:us-east-1:123456789012:table/none/stream/"
               "2024-01-01T00:00:00.000\"}",
               "ResourceNotFoundException");
    expect_err(f, true, "DescribeStream", "{}", "ValidationException");
    expect_err(f, true, "GetRecords", "{\"ShardIterator\":\"nonsense\"}", "ValidationException");
    expect_err(f, true, "ListStreams", "{\"TableName\":\"nosuch\"}", "ResourceNotFoundException");
    expect_err(f, true, "PutItem", "{}", "UnknownOperationException");
    expect_err(f, false, "GetRecords", "{}", "UnknownOperationException");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(write_kinds, setup, ddb_fixture_teardown),
        cmocka_unit_test_setup_teardown(stream_settings_follow_descriptor, setup,
                                        ddb_fixture_teardown),
        cmocka_unit_test_setup_teardown(records_wait_for_durable, setup_flushed,
                                        ddb_fixture_teardown),
        cmocka_unit_test_setup_teardown(ttl_is_a_service_deletion, setup, ddb_fixture_teardown),
        cmocka_unit_test_setup_teardown(trimmed_after_retention, setup, ddb_fixture_teardown),
        cmocka_unit_test_setup_teardown(errors, setup, ddb_fixture_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
