/* test_ddb_backup.c - the point-in-time recovery history (backup.h) on a real
 * store in a temp dir, through ddb_handle: one record per committed change
 * (none for a failed condition), the records of one transaction in order,
 * trimming past the recovery period as the table is written and by the
 * background sweep (a day of one second), and the history gone when PITR is turned off or the table
 * is deleted. */
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

#include "backup.h"
#include "ddb.h"
#include "ddb_fixture.h"
#include "store.h"

/* setup - a day of PITR history is one second here. */
static int setup(void **state)
{
    setenv("TANDEM_DDB_PITR_DAY_SECONDS", "1", 1);
    *state = ddb_fixture_open(NULL);
    return 0;
}

static int call(struct ddb_fixture *f, const char *op, const char *body)
{
    cJSON *j;
    int status = ddb_fixture_call(f, false, op, body, &j);

    if (status != 200 && strcmp(op, "PutItem") != 0)
        fail_msg("%s %s -> %d %s", op, body, status, cJSON_PrintUnformatted(j));
    cJSON_Delete(j);
    return status;
}

/* history - the PITR records in the store: their count, and in @kinds (when
 * not NULL) the before-images' kinds in key order ('I' or 'K'). */
static size_t history(struct ddb_fixture *f, char *kinds, size_t cap)
{
    struct store_txn *t = NULL;
    struct store_cursor *c = NULL;
    struct slice k, v;
    struct err e = {0};
    size_t n = 0;
    enum err_code rc;

    assert_int_equal(store_read_begin(f->store, &t, &e), ERR_OK);
    assert_int_equal(store_cursor_open(t, STORE_DB_LOG, &c, &e), ERR_OK);
    for (rc = store_cursor_seek(c, slice_of("p", 1), &k, &v, &e);
         rc == ERR_OK && k.len == 21 && ((const char *)k.ptr)[0] == 'p';
         rc = store_cursor_next(c, &k, &v, &e)) {
        assert_true(v.len > 9);
        if (kinds && n + 1 < cap)
            kinds[n] = ((const char *)v.ptr)[8];
        n++;
    }
    if (kinds)
        kinds[n < cap ? n : cap - 1] = '\0';
    store_cursor_close(c);
    store_txn_abort(t);
    return n;
}

static void put(struct ddb_fixture *f, const char *pk, const char *v)
{
    char b[256];

    snprintf(b, sizeof(b),
             "{\"TableName\":\"hist\",\"Item\":{\"pk\":{\"S\":\"%s\"},\"v\":{\"S\":\"%s\"}}}", pk,
             v);
    assert_int_equal(call(f, "PutItem", b), 200);
}

static void create_table(struct ddb_fixture *f)
{
    call(f, "CreateTable",
         "{\"TableName\":\"hist\",\"AttributeDefinitions\":[{\"AttributeName\":\"pk\","
         "\"AttributeType\":\"S\"}],\"KeySchema\":[{\"AttributeName\":\"pk\",\"KeyType\":"
         "\"HASH\"}],\"BillingMode\":\"PAY_PER_REQUEST\"}");
}

static void create(struct ddb_fixture *f, int days)
{
    char b[256];

    create_table(f);
    snprintf(b, sizeof(b),
             "{\"TableName\":\"hist\",\"PointInTimeRecoverySpecification\":{"
             "\"PointInTimeRecoveryEnabled\":true,\"RecoveryPeriodInDays\":%d}}",
             days);
    call(f, "UpdateContinuousBackups", b);
}

/* history_cleared - a dropped history goes in pieces in the background
 * (backup_job.c): the records left once it is done (5 s at most). */
static size_t history_cleared(struct ddb_fixture *f)
{
    size_t n = history(f, NULL, 0);

    for (int i = 0; n && i < 500; i++) {
        usleep(10 * 1000);
        n = history(f, NULL, 0);
    }
    return n;
}

static void records_per_change(void **state)
{
    struct ddb_fixture *f = *state;
    char kinds[16];

    create_table(f);
    put(f, "before", "x"); /* PITR not on yet: no record */
    assert_int_equal(history(f, NULL, 0), 0);
    call(f, "UpdateContinuousBackups",
         "{\"TableName\":\"hist\",\"PointInTimeRecoverySpecification\":{"
         "\"PointInTimeRecoveryEnabled\":true}}");
    put(f, "a", "1"); /* new item: its key */
    put(f, "a", "2"); /* overwrite: the old image */
    put(f, "b", "1");
    call(f, "DeleteItem", "{\"TableName\":\"hist\",\"Key\":{\"pk\":{\"S\":\"b\"}}}");
    call(f, "DeleteItem", "{\"TableName\":\"hist\",\"Key\":{\"pk\":{\"S\":\"zz\"}}}");
    assert_int_equal(history(f, kinds, sizeof(kinds)), 4);
    assert_string_equal(kinds, "KIKI");
    /* a failed condition changes nothing and records nothing */
    assert_int_equal(call(f, "PutItem",
                          "{\"TableName\":\"hist\",\"Item\":{\"pk\":{\"S\":\"a\"}},"
                          "\"ConditionExpression\":\"attribute_not_exists(pk)\"}"),
                     400);
    assert_int_equal(history(f, NULL, 0), 4);
    /* a transaction's changes: one record each, in the order applied */
    call(f, "TransactWriteItems",
         "{\"TransactItems\":[{\"Put\":{\"TableName\":\"hist\",\"Item\":{\"pk\":{\"S\":\"t1\"}}}},"
         "{\"Delete\":{\"TableName\":\"hist\",\"Key\":{\"pk\":{\"S\":\"a\"}}}}]}");
    assert_int_equal(history(f, kinds, sizeof(kinds)), 6);
    assert_string_equal(kinds, "KIKIKI");
    /* turning PITR off drops the history (in the background); DeleteTable too */
    call(f, "UpdateContinuousBackups",
         "{\"TableName\":\"hist\",\"PointInTimeRecoverySpecification\":{"
         "\"PointInTimeRecoveryEnabled\":false}}");
    assert_int_equal(history_cleared(f), 0);
    put(f, "c", "1");
    assert_int_equal(history(f, NULL, 0), 0);
    call(f, "UpdateContinuousBackups",
         "{\"TableName\":\"hist\",\"PointInTimeRecoverySpecification\":{"
         "\"PointInTimeRecoveryEnabled\":true}}");
    put(f, "c", "2");
    assert_int_equal(history(f, NULL, 0), 1);
    call(f, "DeleteTable", "{\"TableName\":\"hist\"}");
    assert_int_equal(history_cleared(f), 0);
}

static void trimmed_past_the_period(void **state)
{
    struct ddb_fixture *f = *state;
    char pk[16];

    create(f, 1); /* a day is a second here */
    for (int i = 0; i < 12; i++) {
        snprintf(pk, sizeof(pk), "k%d", i);
        put(f, pk, "1");
    }
    assert_int_equal(history(f, NULL, 0), 12);
    usleep(1300 * 1000);
    put(f, "k0", "2"); /* trims at most 8 expired records per write */
    assert_int_equal(history(f, NULL, 0), 12 - 8 + 1);
    put(f, "k1", "2");
    assert_int_equal(history(f, NULL, 0), 2);
}

static void swept_in_the_background(void **state)
{
    struct ddb_fixture *f = *state;
    struct err e = {0};
    char pk[16];

    create(f, 1);
    for (int i = 0; i < 20; i++) {
        snprintf(pk, sizeof(pk), "k%d", i);
        put(f, pk, "1");
    }
    assert_int_equal(pitr_sweep(f->store, &e), ERR_OK); /* nothing expired yet */
    assert_int_equal(history(f, NULL, 0), 20);
    usleep(1300 * 1000);
    assert_int_equal(pitr_sweep(f->store, &e), ERR_OK); /* no write needed */
    assert_int_equal(history(f, NULL, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(records_per_change, setup, ddb_fixture_teardown),
        cmocka_unit_test_setup_teardown(trimmed_past_the_period, setup, ddb_fixture_teardown),
        cmocka_unit_test_setup_teardown(swept_in_the_background, setup, ddb_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
