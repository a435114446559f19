/* test_ddb_txn.c - transactions, TTL, tags and secondary indexes through
 * ddb_handle on a real store in a temp dir; the TTL sweep is driven directly
 * (ttl.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "buf.h"
#include "ddb.h"
#include "ddb_fixture.h"
#include "ddb_int.h"
#include "http.h"
#include "store.h"
#include "ttl.h"

/* setup - the TTL thread starts and stops, but never sweeps by itself: the
 * tests drive the sweeps. */
static int setup(void **state)
{
    struct ddb_opts dop = {.ttl_interval_s = 3600};

    *state = ddb_fixture_open(&dop);
    return 0;
}

static void ok(struct ddb_fixture *f, const char *op, const char *body)
{
    cJSON *j;
    int st = ddb_fixture_call(f, false, op, body, &j);

    if (st != 200)
        fail_msg("%s %s -> %d %s", op, body, st, cJSON_PrintUnformatted(j));
    cJSON_Delete(j);
}

/* ok_empty - @op answers 200 with no body at all (TagResource, UntagResource). */
static void ok_empty(struct ddb_fixture *f, const char *op, const char *body)
{
    struct http_req *r = http_req_new("POST", "/");
    const char *rb;
    size_t rlen;

    buf_append(&r->body, body, strlen(body));
    ddb_handle(f->ddb, r, op, NULL);
    assert_int_equal(http_req_wait(r, &rb, &rlen), 200);
    assert_int_equal(rlen, 0);
    assert_string_equal(http_req_resp_header(r, "x-amz-crc32"), "0");
    http_req_free(r);
}

/* err - the error's short type; the body stays in @out when non-NULL. */
static void expect_err(struct ddb_fixture *f, const char *op, const char *body, const char *type,
                       const char *msg_part, cJSON **out)
{
    cJSON *j;
    int st = ddb_fixture_call(f, false, op, body, &j);
    const char *t = cJSON_GetStringValue(cJSON_GetObjectItem(j, "__type"));
    const char *m = cJSON_GetStringValue(cJSON_GetObjectItem(j, "message"));

    assert_int_equal(st, 400);
    assert_non_null(t);
    assert_non_null(strstr(t, type));
    if (msg_part) {
        assert_non_null(m);
        if (!strstr(m, msg_part))
            fail_msg("message '%s' lacks '%s'", m, msg_part);
    }
    if (out)
        *out = j;
    else
        cJSON_Delete(j);
}

static void create(struct ddb_fixture *f, const char *name)
{
    char b[512];

    snprintf(b, sizeof(b),
             "{\"TableName\":\"%s\",\"AttributeDefinitions\":[{\"AttributeName\":\"pk\","
             "\"AttributeType\":\"S\"}],\"KeySchema\":[{\"AttributeName\":\"pk\",\"KeyType\":"
             "\"HASH\"}],\"BillingMode\":\"PAY_PER_REQUEST\"}",
             name);
    ok(f, "CreateTable", b);
}

/* item_n - the N attribute @attr of item @pk in "ttt", or -1 when absent. */
static long item_n(struct ddb_fixture *f, const char *pk, const char *attr)
{
    char b[256];
    cJSON *j, *it;
    long v = -1;

    snprintf(b, sizeof(b), "{\"TableName\":\"ttt\",\"Key\":{\"pk\":{\"S\":\"%s\"}}}", pk);
    assert_int_equal(ddb_fixture_call(f, false, "GetItem", b, &j), 200);
    it = cJSON_GetObjectItem(j, "Item");
    if (it) {
        const char *n =
            cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(it, attr), "N"));
        v = n ? atol(n) : 0;
    }
    cJSON_Delete(j);
    return v;
}

static void transact_write(void **state)
{
    struct ddb_fixture *f = *state;
    cJSON *j, *reasons;

    create(f, "ttt");
    ok(f, "PutItem", "{\"TableName\":\"ttt\",\"Item\":{\"pk\":{\"S\":\"a\"},\"n\":{\"N\":\"1\"}}}");
    ok(f, "TransactWriteItems",
       "{\"TransactItems\":[{\"Put\":{\"TableName\":\"ttt\",\"Item\":{\"pk\":{\"S\":\"b\"},"
       "\"n\":{\"N\":\"7\"}}}},{\"Update\":{\"TableName\":\"ttt\",\"Key\":{\"pk\":{\"S\":\"a\"}},"
       "\"UpdateExpression\":\"ADD n "
       ":o\",\"ExpressionAttributeValues\":{\":o\":{\"N\":\"1\"}}}}]}");
    assert_int_equal(item_n(f, "a", "n"), 2);
    assert_int_equal(item_n(f, "b", "n"), 7);
    /* a failed condition cancels the whole transaction, reasons in order */
    expect_err(
        f, "TransactWriteItems",
        "{\"TransactItems\":[{\"Delete\":{\"TableName\":\"ttt\",\"Key\":{\"pk\":{\"S\":"
        "\"b\"}}}},{\"ConditionCheck\":{\"TableName\":\"ttt\",\"Key\":{\"pk\":{\"S\":\"a\"}},"
        "\"ConditionExpression\":\"n = :x\",\"ExpressionAttributeValues\":{\":x\":{\"N\":"
        "\"5\"}},\"ReturnValuesOnConditionCheckFailure\":\"ALL_OLD\"}}]}",
        "TransactionCanceledException", "[None, ConditionalCheckFailed]", &j);
    reasons = cJSON_GetObjectItem(j, "CancellationReasons");
    assert_int_equal(cJSON_GetArraySize(reasons), 2);
    assert_string_equal(
        cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(reasons, 0), "Code")), "None");
    assert_non_null(cJSON_GetObjectItem(cJSON_GetArrayItem(reasons, 1), "Item"));
    cJSON_Delete(j);
    assert_int_equal(item_n(f, "b", "n"), 7); /* not deleted */
    expect_err(f, "TransactWriteItems",
               "{\"TransactItems\":[{\"Delete\":{\"TableName\":\"ttt\",\"Key\":{\"pk\":{\"S\":"
               "\"b\"}}}},{\"Put\":{\"TableName\":\"ttt\",\"Item\":{\"pk\":{\"S\":\"b\"}}}}]}",
               "ValidationException", "multiple operations on one item", NULL);
    expect_err(f, "TransactWriteItems",
               "{\"TransactItems\":[{\"Delete\":{\"TableName\":\"ttt\",\"Key\":{\"pk\":{\"S\":"
               "\"b\"}}},\"Put\":{\"TableName\":\"ttt\",\"Item\":{\"pk\":{\"S\":\"c\"}}}}]}",
               "ValidationException", "only contain one of", NULL);
    expect_err(f, "TransactWriteItems",
               "{\"TransactItems\":[{\"ConditionCheck\":{\"TableName\":\"ttt\",\"Key\":{\"pk\":"
               "{\"S\":\"b\"}}}}]}",
               "ValidationException", "conditionExpression", NULL);
    expect_err(f, "TransactWriteItems", "{\"TransactItems\":[]}", "ValidationException",
               "greater than or equal to 1", NULL);
    expect_err(f, "TransactWriteItems", "{}", "ValidationException", "transactItems", NULL);
    expect_err(f, "TransactWriteItems", "{\"TransactItems\":{}}", "SerializationException", NULL,
               NULL);
}

static void idempotency(void **state)
{
    struct ddb_fixture *f = *state;
    const char *req = "{\"ClientRequestToken\":\"tok-1\",\"TransactItems\":[{\"Update\":{"
                      "\"TableName\":\"ttt\",\"Key\":{\"pk\":{\"S\":\"c\"}},\"UpdateExpression\":"
                      "\"ADD n :o\",\"ExpressionAttributeValues\":{\":o\":{\"N\":\"1\"}}}}]}";

    create(f, "ttt");
    ok(f, "TransactWriteItems", req);
    ok(f, "TransactWriteItems", req);
    assert_int_equal(item_n(f, "c", "n"), 1);
    expect_err(f, "TransactWriteItems",
               "{\"ClientRequestToken\":\"tok-1\",\"TransactItems\":[{\"Put\":{\"TableName\":"
               "\"ttt\",\"Item\":{\"pk\":{\"S\":\"d\"}}}}]}",
               "IdempotentParameterMismatchException", NULL, NULL);
    expect_err(f, "TransactWriteItems",
               "{\"ClientRequestToken\":\"0123456789012345678901234567890123456789\","
               "\"TransactItems\":[{\"Put\":{\"TableName\":\"ttt\",\"Item\":{\"pk\":{\"S\":\"d\"}}"
               "}}]}",
               "ValidationException", "less than or equal to 36", NULL);
}

static void transact_get(void **state)
{
    struct ddb_fixture *f = *state;
    cJSON *j;

    create(f, "ttt");
    ok(f, "PutItem", "{\"TableName\":\"ttt\",\"Item\":{\"pk\":{\"S\":\"a\"},\"n\":{\"N\":\"1\"}}}");
    assert_int_equal(
        ddb_fixture_call(f, false, "TransactGetItems",
                         "{\"TransactItems\":[{\"Get\":{\"TableName\":\"ttt\",\"Key\":{\"pk\":"
                         "{\"S\":\"a\"}}}},{\"Get\":{\"TableName\":\"ttt\",\"Key\":{\"pk\":{\"S\":"
                         "\"zz\"}}}}]}",
                         &j),
        200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "Responses")), 2);
    assert_non_null(
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "Responses"), 0), "Item"));
    assert_null(
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "Responses"), 1), "Item"));
    cJSON_Delete(j);
    expect_err(f, "TransactGetItems",
               "{\"TransactItems\":[{\"Get\":{\"TableName\":\"nope\",\"Key\":{\"pk\":{\"S\":"
               "\"a\"}}}}]}",
               "ResourceNotFoundException", NULL, NULL);
}

static void ttl_sweep(void **state)
{
    struct ddb_fixture *f = *state;
    struct err e = {0};
    size_t n = 0;

    create(f, "ttt");
    ok(f, "PutItem",
       "{\"TableName\":\"ttt\",\"Item\":{\"pk\":{\"S\":\"old\"},\"e\":{\"N\":\"100\"}}}");
    ok(f, "PutItem",
       "{\"TableName\":\"ttt\",\"Item\":{\"pk\":{\"S\":\"new\"},\"e\":{\"N\":\"900\"}}}");
    ok(f, "PutItem",
       "{\"TableName\":\"ttt\",\"Item\":{\"pk\":{\"S\":\"str\"},\"e\":{\"S\":\"1\"}}}");
    /* not enabled yet: nothing goes */
    assert_int_equal(ddb_ttl_sweep(f->ddb, 500, &n, &e), ERR_OK);
    assert_int_equal(n, 0);
    ok(f, "UpdateTimeToLive",
       "{\"TableName\":\"ttt\",\"TimeToLiveSpecification\":{\"AttributeName\":\"e\","
       "\"Enabled\":true}}");
    expect_err(f, "UpdateTimeToLive",
               "{\"TableName\":\"ttt\",\"TimeToLiveSpecification\":{\"AttributeName\":\"e\","
               "\"Enabled\":true}}",
               "ValidationException", "TimeToLive is already enabled", NULL);
    assert_int_equal(ddb_ttl_sweep(f->ddb, 500, &n, &e), ERR_OK);
    assert_int_equal(n, 1);
    assert_int_equal(item_n(f, "old", "e"), -1);
    assert_int_equal(item_n(f, "new", "e"), 900);
    assert_int_equal(item_n(f, "str", "e"), 0);
    ok(f, "UpdateTimeToLive",
       "{\"TableName\":\"ttt\",\"TimeToLiveSpecification\":{\"AttributeName\":\"e\","
       "\"Enabled\":false}}");
    assert_int_equal(ddb_ttl_sweep(f->ddb, 1000, &n, &e), ERR_OK);
    assert_int_equal(n, 0);
}

static void many_expired(void **state)
{
    struct ddb_fixture *f = *state;
    struct err e = {0};
    char b[256];
    size_t n = 0;

    create(f, "ttt");
    for (int i = 0; i < 600; i++) {
        snprintf(b, sizeof(b),
                 "{\"TableName\":\"ttt\",\"Item\":{\"pk\":{\"S\":\"k%04d\"},\"e\":{\"N\":\"%d\"}}}",
                 i, i % 3 ? 10 : 5000);
        ok(f, "PutItem", b);
    }
    ok(f, "UpdateTimeToLive",
       "{\"TableName\":\"ttt\",\"TimeToLiveSpecification\":{\"AttributeName\":\"e\","
       "\"Enabled\":true}}");
    assert_int_equal(ddb_ttl_sweep(f->ddb, 1000, &n, &e), ERR_OK);
    assert_int_equal(n, 400); /* more than one batch */
}

static void tags(void **state)
{
    struct ddb_fixture *f = *state;
    cJSON *j;

    create(f, "ttt");
    ok_empty(
        f, "TagResource",
        "{\"ResourceArn\":\"arn:aws:dynamodb:us-east-1:123456789012:table/ttt\",\"Tags\":[{\"Key\":"
        "\"a\",\"Value\":\"1\"}]}");
    assert_int_equal(
        ddb_fixture_call(f, false, "ListTagsOfResource",
                         "{\"ResourceArn\":\"arn:aws:dynamodb:us-east-1:123456789012:table/ttt\"}",
                         &j),
        200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "Tags")), 1);
    cJSON_Delete(j);
    expect_err(f, "UntagResource",
               "{\"ResourceArn\":\"arn:aws:dynamodb:us-east-1:123456789012:table/zz\","
               "\"TagKeys\":[\"a\"]}",
               "ResourceNotFoundException", "ResourcArn", NULL);
    expect_err(f, "UntagResource",
               "{\"ResourceArn\":\"arn:aws:dynamodb:eu-west-1:123456789012:table/ttt\","
               "\"TagKeys\":[\"a\"]}",
               "ValidationException", "Invalid TableArn", NULL);
    expect_err(f, "UntagResource", "{\"ResourceArn\":\"x\"}", "ValidationException", "tagKeys",
               NULL);
    ok_empty(f, "UntagResource",
             "{\"ResourceArn\":\"arn:aws:dynamodb:us-east-1:123456789012:table/"
             "ttt\",\"TagKeys\":[\"a\"]}");
}

/* count_of - the Count of a Query on index "gix" for color @color. */
static int count_of(struct ddb_fixture *f, const char *color)
{
    char b[400];
    cJSON *j;
    int n;

    snprintf(b, sizeof(b),
             "{\"TableName\":\"ttt\",\"IndexName\":\"gix\",\"KeyConditionExpression\":"
             "\"color = :c\",\"ExpressionAttributeValues\":{\":c\":{\"S\":\"%s\"}}}",
             color);
    assert_int_equal(ddb_fixture_call(f, false, "Query", b, &j), 200);
    n = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(j, "Count"));
    cJSON_Delete(j);
    return n;
}

static void indexes(void **state)
{
    struct ddb_fixture *f = *state;
    cJSON *j, *g;

    ok(f, "CreateTable",
       "{\"TableName\":\"ttt\",\"AttributeDefinitions\":[{\"AttributeName\":\"pk\","
       "\"AttributeType\":\"S\"},{\"AttributeName\":\"color\",\"AttributeType\":\"S\"}],"
       "\"KeySchema\":[{\"AttributeName\":\"pk\",\"KeyType\":\"HASH\"}],\"BillingMode\":"
       "\"PAY_PER_REQUEST\",\"GlobalSecondaryIndexes\":[{\"IndexName\":\"gix\",\"KeySchema\":"
       "[{\"AttributeName\":\"color\",\"KeyType\":\"HASH\"}],\"Projection\":{"
       "\"ProjectionType\":\"KEYS_ONLY\"}}]}");
    ok(f, "PutItem",
       "{\"TableName\":\"ttt\",\"Item\":{\"pk\":{\"S\":\"a\"},\"color\":{\"S\":\"red\"},"
       "\"x\":{\"S\":\"1\"}}}");
    ok(f, "PutItem", "{\"TableName\":\"ttt\",\"Item\":{\"pk\":{\"S\":\"b\"}}}");
    assert_int_equal(count_of(f, "red"), 1);
    ok(f, "UpdateItem",
       "{\"TableName\":\"ttt\",\"Key\":{\"pk\":{\"S\":\"b\"}},\"UpdateExpression\":"
       "\"SET color = :c\",\"ExpressionAttributeValues\":{\":c\":{\"S\":\"red\"}}}");
    assert_int_equal(count_of(f, "red"), 2);
    ok(f, "DeleteItem", "{\"TableName\":\"ttt\",\"Key\":{\"pk\":{\"S\":\"a\"}}}");
    assert_int_equal(count_of(f, "red"), 1);
    assert_int_equal(ddb_fixture_call(f, false, "DescribeTable", "{\"TableName\":\"ttt\"}", &j),
                     200);
    g = cJSON_GetArrayItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(j, "Table"), "GlobalSecondaryIndexes"), 0);
    assert_int_equal((int)cJSON_GetNumberValue(cJSON_GetObjectItem(g, "ItemCount")), 1);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(g, "IndexStatus")), "ACTIVE");
    cJSON_Delete(j);
    expect_err(f, "PutItem",
               "{\"TableName\":\"ttt\",\"Item\":{\"pk\":{\"S\":\"c\"},\"color\":{\"N\":"
               "\"1\"}}}",
               "ValidationException", "Type mismatch for Index Key color", NULL);
    expect_err(f, "Query",
               "{\"TableName\":\"ttt\",\"IndexName\":\"nope\",\"KeyConditionExpression\":"
               "\"pk = :c\",\"ExpressionAttributeValues\":{\":c\":{\"S\":\"a\"}}}",
               "ValidationException", "does not have the specified index", NULL);
    /* a second index from UpdateTable, backfilled; then both dropped with the table */
    ok(f, "UpdateTable",
       "{\"TableName\":\"ttt\",\"AttributeDefinitions\":[{\"AttributeName\":\"x\","
       "\"AttributeType\":\"S\"}],\"GlobalSecondaryIndexUpdates\":[{\"Create\":{"
       "\"IndexName\":\"xix\",\"KeySchema\":[{\"AttributeName\":\"x\",\"KeyType\":"
       "\"HASH\"}],\"Projection\":{\"ProjectionType\":\"ALL\"}}}]}");
    ok(f, "UpdateTable",
       "{\"TableName\":\"ttt\",\"GlobalSecondaryIndexUpdates\":[{\"Delete\":{"
       "\"IndexName\":\"xix\"}}]}");
    ok(f, "DeleteTable", "{\"TableName\":\"ttt\"}");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(transact_write, setup, ddb_fixture_teardown),
        cmocka_unit_test_setup_teardown(idempotency, setup, ddb_fixture_teardown),
        cmocka_unit_test_setup_teardown(transact_get, setup, ddb_fixture_teardown),
        cmocka_unit_test_setup_teardown(ttl_sweep, setup, ddb_fixture_teardown),
        cmocka_unit_test_setup_teardown(many_expired, setup, ddb_fixture_teardown),
        cmocka_unit_test_setup_teardown(tags, setup, ddb_fixture_teardown),
        cmocka_unit_test_setup_teardown(indexes, setup, ddb_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
