/* test_ddb_index.c - secondary index keys (index_keys.h): KeySchema rules of
 * multi-attribute global index keys, the order and shape of their entry
 * keys, and the records single-attribute indexes keep unchanged; then the
 * whole path through the API on a real store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "buf.h"
#include "ddb_fixture.h"
#include "index.h"
#include "index_keys.h"

/* schema - a KeySchema from "h:a,r:b,..." (h HASH, r RANGE, x another type). */
static cJSON *schema(const char *spec)
{
    cJSON *ks = cJSON_CreateArray();
    char buf[256], *save = NULL;

    snprintf(buf, sizeof(buf), "%s", spec);
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        cJSON *el = cJSON_CreateObject();

        cJSON_AddStringToObject(el, "AttributeName", tok + 2);
        cJSON_AddStringToObject(el, "KeyType",
                                tok[0] == 'h'   ? "HASH"
                                : tok[0] == 'r' ? "RANGE"
                                                : "OTHER");
        cJSON_AddItemToArray(ks, el);
    }
    return ks;
}

/* check - index_keys_schema of @spec; @words NULL: accepted, else in the message. */
static void check(const char *spec, bool global, const char *words)
{
    cJSON *ks = schema(spec);
    char msg[400] = "";
    bool ok = index_keys_schema(ks, global, msg, sizeof(msg));

    if (!words && !ok)
        fail_msg("%s refused: %s", spec, msg);
    if (words && ok)
        fail_msg("%s accepted", spec);
    if (words && !strstr(msg, words))
        fail_msg("%s: '%s' lacks '%s'", spec, msg, words);
    cJSON_Delete(ks);
}

static void test_schema_rules(void **state)
{
    (void)state;
    check("h:a", true, NULL);
    check("h:a,r:b", true, NULL);
    check("h:a,h:b", true, NULL);
    check("h:a,h:b,h:c,h:d,r:e,r:f,r:g,r:h", true, NULL);
    check("r:a", true, "first KeySchemaElement is not a HASH");
    check("r:a,h:b", true, "or the second is not a RANGE");
    check("h:a,r:b,h:c", true, "before the RANGE");
    check("h:a,x:b", true, "not HASH or RANGE");
    check("h:a,h:b,h:c,h:d,h:e", true, "at most 4 HASH");
    check("h:a,r:b,r:c,r:d,r:e,r:f", true, "at most 4 RANGE");
    check("h:a,r:a", true, "Both the Hash Key and the Range Key");
    check("h:a,h:a", true, "Duplicate attribute name in KeySchema: a");
    check("h:a,r:b,r:c,r:b", true, "Duplicate attribute name in KeySchema: b");
    /* local indexes: HASH then RANGE only */
    check("h:a,r:b", false, NULL);
    check("h:a,h:b", false, "or the second is not a RANGE");
}

/* def - an index of @nhash HASH and @nrange RANGE attributes k0, k1, ...
 * typed by @types ("SNB..."), as a record entry loads it. */
static void def(struct index_def *d, cJSON **rec, const char *types, int nhash, int nrange)
{
    cJSON *ks = cJSON_CreateArray(), *defs = cJSON_CreateArray(), *o = cJSON_CreateObject();

    for (int i = 0; i < nhash + nrange; i++) {
        char n[16], t[2] = {types[i], 0};
        cJSON *el = cJSON_CreateObject(), *ad = cJSON_CreateObject();

        snprintf(n, sizeof(n), "k%d", i);
        cJSON_AddStringToObject(el, "AttributeName", n);
        cJSON_AddStringToObject(el, "KeyType", i < nhash ? "HASH" : "RANGE");
        cJSON_AddItemToArray(ks, el);
        cJSON_AddStringToObject(ad, "AttributeName", n);
        cJSON_AddStringToObject(ad, "AttributeType", t);
        cJSON_AddItemToArray(defs, ad);
    }
    index_keys_record(o, ks, defs);
    memset(d, 0, sizeof(*d));
    d->k.id = 77;
    d->k.nul0 = true;
    snprintf(d->k.hash, sizeof(d->k.hash), "k0");
    d->k.htype = (enum keys_type)index_type_of((char[]){types[0], 0});
    if (nrange) {
        snprintf(d->k.range, sizeof(d->k.range), "k%d", nhash);
        d->k.has_range = true;
        d->k.rtype = (enum keys_type)index_type_of((char[]){types[nhash], 0});
    }
    index_keys_load(d, o);
    cJSON_Delete(ks);
    cJSON_Delete(defs);
    *rec = o;
}

/* entry - the entry key of the item @json in @d (the base key "base"). */
static int entry(const struct index_def *d, const char *json, struct buf *out)
{
    cJSON *it = cJSON_Parse(json);
    struct buf bk;
    struct err e = {0};
    int rc;

    assert_non_null(it);
    buf_init(&bk, 0);
    buf_append(&bk, "\0\0\0\0\0\0\0\1base", 12);
    buf_init(out, 0);
    rc = (int)index_entry_key(d, it, &bk, out, &e);
    buf_free(&bk);
    cJSON_Delete(it);
    return rc;
}

static int cmp(const struct buf *a, const struct buf *b)
{
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->ptr, b->ptr, n);

    return c ? c : (a->len > b->len) - (a->len < b->len);
}

static void test_record(void **state)
{
    struct index_def d;
    cJSON *rec;

    (void)state;
    def(&d, &rec, "SN", 1, 1); /* one of each: no "mk", as before */
    assert_null(cJSON_GetObjectItem(rec, "mk"));
    cJSON_Delete(rec);
    def(&d, &rec, "SNB", 2, 1);
    assert_true(d.multi);
    assert_int_equal(d.nkeys, 3);
    assert_int_equal(d.nhash, 2);
    assert_string_equal(d.keys[2].name, "k2");
    assert_int_equal(d.keys[1].type, KEYS_N);
    assert_int_equal(d.keys[2].type, KEYS_B);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(rec, "mk")), 3);
    cJSON_Delete(rec);
}

/* the entries of one partition sort by each sort attribute in turn, each in
 * its own type's order */
static void test_entry_order(void **state)
{
    static const char *const items[] = {
        /* in index order */
        "{\"k0\":{\"S\":\"p\"},\"k1\":{\"N\":\"1\"},\"k2\":{\"S\":\"a\"},\"k3\":{\"N\":\"-10\"}}",
        "{\"k0\":{\"S\":\"p\"},\"k1\":{\"N\":\"1\"},\"k2\":{\"S\":\"a\"},\"k3\":{\"N\":\"-2.5\"}}",
        "{\"k0\":{\"S\":\"p\"},\"k1\":{\"N\":\"1\"},\"k2\":{\"S\":\"a\"},\"k3\":{\"N\":\"3\"}}",
        ("{\"k0\":{\"S\":\"p\"},\"k1\":{\"N\":\"1\"},\"k2\":{\"S\":\"a\xc0\x80\"},\"k3\":{\"N\":"
         "\"0\"}}"),
        "{\"k0\":{\"S\":\"p\"},\"k1\":{\"N\":\"1\"},\"k2\":{\"S\":\"ab\"},\"k3\":{\"N\":\"-99\"}}",
        "{\"k0\":{\"S\":\"p\"},\"k1\":{\"N\":\"1\"},\"k2\":{\"S\":\"b\"},\"k3\":{\"N\":\"-99\"}}",
    };
    struct index_def d;
    struct buf prev, cur, part;
    cJSON *rec;

    (void)state;
    def(&d, &rec, "SNSN", 2, 2);
    assert_int_equal(entry(&d, items[0], &prev), ERR_OK);
    /* numbers are keys by value: 1.0 is 1 */
    assert_int_equal(entry(&d,
                           "{\"k0\":{\"S\":\"p\"},\"k1\":{\"N\":\"1.0\"},\"k2\":{\"S\":\"a\"},"
                           "\"k3\":{\"N\":\"-1e1\"}}",
                           &cur),
                     ERR_OK);
    assert_int_equal(cmp(&prev, &cur), 0);
    for (size_t i = 1; i < sizeof(items) / sizeof(items[0]); i++) {
        struct buf b;

        assert_int_equal(entry(&d, items[i], &b), ERR_OK);
        if (cmp(&prev, &b) >= 0)
            fail_msg("item %zu does not sort after item %zu", i, i - 1);
        buf_free(&prev);
        prev = b;
    }
    /* missing any attribute, or one of another type: not in the index */
    assert_int_equal(
        entry(&d, "{\"k0\":{\"S\":\"p\"},\"k1\":{\"N\":\"1\"},\"k2\":{\"S\":\"a\"}}", &part),
        ERR_NOTFOUND);
    buf_free(&part);
    assert_int_equal(entry(&d,
                           "{\"k0\":{\"S\":\"p\"},\"k1\":{\"S\":\"1\"},\"k2\":{\"S\":\"a\"},"
                           "\"k3\":{\"N\":\"1\"}}",
                           &part),
                     ERR_NOTFOUND);
    buf_free(&part);
    buf_free(&prev);
    buf_free(&cur);
    cJSON_Delete(rec);
}

/* long values keep every entry key within LMDB's limit, and stay distinct */
static void test_long_values(void **state)
{
    struct index_def d;
    cJSON *rec;
    char *big = malloc(3000), *json = malloc(30000);
    struct buf a, b;

    (void)state;
    def(&d, &rec, "SSSSBBBB", 4, 4);
    memset(big, 'x', 2000);
    big[2000] = 0;
    snprintf(json, 30000,
             "{\"k0\":{\"S\":\"%s\"},\"k1\":{\"S\":\"%s\"},\"k2\":{\"S\":\"%s\"},\"k3\":{\"S\":"
             "\"%s1\"},\"k4\":{\"B\":\"AAAA\"},\"k5\":{\"B\":\"AAA=\"},\"k6\":{\"B\":\"AA==\"},"
             "\"k7\":{\"B\":\"AQ==\"}}",
             big, big, big, big);
    assert_int_equal(entry(&d, json, &a), ERR_OK);
    assert_true(a.len <= 511);
    json[strstr(json, "1\"}") - json] = '2';
    assert_int_equal(entry(&d, json, &b), ERR_OK);
    assert_true(b.len <= 511);
    assert_int_not_equal(cmp(&a, &b), 0);
    buf_free(&a);
    buf_free(&b);
    free(big);
    free(json);
    cJSON_Delete(rec);
}

/* the single-attribute encoding is unchanged: id, hash, range, base key */
static void test_single_unchanged(void **state)
{
    struct index_def d;
    struct buf k, want;
    struct err e = {0};
    cJSON *rec, *h = cJSON_Parse("{\"S\":\"ab\"}"), *r = cJSON_Parse("{\"N\":\"5\"}");

    (void)state;
    def(&d, &rec, "SN", 1, 1);
    assert_false(d.multi);
    assert_int_equal(d.nkeys, 2);
    assert_int_equal(entry(&d, "{\"k0\":{\"S\":\"ab\"},\"k1\":{\"N\":\"5\"}}", &k), ERR_OK);
    buf_init(&want, 0);
    assert_int_equal(index_bound(&d, h, r, &want, &e), ERR_OK);
    buf_append(&want, "base", 4);
    assert_int_equal(k.len, want.len);
    assert_memory_equal(k.ptr, want.ptr, k.len);
    assert_memory_equal(k.ptr + 8, "ab\0\0", 4);
    buf_free(&k);
    buf_free(&want);
    cJSON_Delete(h);
    cJSON_Delete(r);
    cJSON_Delete(rec);
}

/* ---- through the API ---- */

static cJSON *ok(struct ddb_fixture *f, const char *op, const char *body)
{
    cJSON *out = NULL;
    int st = ddb_fixture_call(f, false, op, body, &out);

    if (st != 200) {
        char *s = cJSON_PrintUnformatted(out);

        fail_msg("%s: %d %s", op, st, s);
    }
    return out;
}

static void refused(struct ddb_fixture *f, const char *op, const char *body, const char *words)
{
    cJSON *out = NULL;
    int st = ddb_fixture_call(f, false, op, body, &out);
    const char *m = cJSON_GetStringValue(cJSON_GetObjectItem(out, "message"));

    assert_int_equal(st, 400);
    if (!m || !strstr(m, words))
        fail_msg("%s: '%s' lacks '%s'", op, m ? m : "", words);
    cJSON_Delete(out);
}

#define AD(n, t) "{\"AttributeName\":\"" n "\",\"AttributeType\":\"" t "\"}"
#define KE(n, t) "{\"AttributeName\":\"" n "\",\"KeyType\":\"" t "\"}"

static void test_api(void **state)
{
    struct ddb_fixture *f = *state;
    cJSON *out;
    char body[512];

    out = ok(
        f, "CreateTable",
        "{\"TableName\":\"tmk\",\"BillingMode\":\"PAY_PER_REQUEST\","
        "\"AttributeDefinitions\":[" AD("pk", "S") "," AD("a", "S") "," AD("b", "N") "," AD("c", "N") "," AD(
            "d",
            "B") "],\"KeySchema\":[" KE("pk",
                                        "HASH") "],"
                                                "\"GlobalSecondaryIndexes\":[{\"IndexName\":"
                                                "\"gmk\","
                                                "\"KeySchema\":[" KE("a", "HASH") "," KE(
                                                    "b",
                                                    "HASH") "," KE("c",
                                                                   "RANGE") "," KE("d",
                                                                                   "RANGE") "],"
                                                                                            "\"Proj"
                                                                                            "ection"
                                                                                            "\":{"
                                                                                            "\"Proj"
                                                                                            "ection"
                                                                                            "Type\""
                                                                                            ":\"KEY"
                                                                                            "S_"
                                                                                            "ONLY\""
                                                                                            "}}]}");
    cJSON_Delete(out);
    for (int i = 0; i < 6; i++) {
        snprintf(body, sizeof(body),
                 "{\"TableName\":\"tmk\",\"Item\":{\"pk\":{\"S\":\"p%d\"},\"a\":{\"S\":\"x\"},"
                 "\"b\":{\"N\":\"1\"},\"c\":{\"N\":\"%d\"},\"d\":{\"B\":\"AA==\"},\"e\":{\"S\":"
                 "\"no\"}}}",
                 i, i % 3);
        cJSON_Delete(ok(f, "PutItem", body));
    }
    out = ok(f, "Query",
             "{\"TableName\":\"tmk\",\"IndexName\":\"gmk\",\"KeyConditionExpression\":\"a = :a "
             "AND b = :b AND c >= :c\",\"ExpressionAttributeValues\":{\":a\":{\"S\":\"x\"},"
             "\":b\":{\"N\":\"1\"},\":c\":{\"N\":\"1\"}},\"Limit\":3}");
    assert_int_equal(cJSON_GetObjectItem(out, "Count")->valueint, 3);
    assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(out, "LastEvaluatedKey"), "d"));
    assert_null(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(out, "Items"), 0), "e"));
    cJSON_Delete(out);
    refused(f, "Query",
            "{\"TableName\":\"tmk\",\"IndexName\":\"gmk\",\"KeyConditionExpression\":\"a = :a "
            "AND b = :b AND d = :d\",\"ExpressionAttributeValues\":{\":a\":{\"S\":\"x\"},"
            "\":b\":{\"N\":\"1\"},\":d\":{\"B\":\"AA==\"}}}",
            "missed key schema element: c");
    refused(f, "Query",
            "{\"TableName\":\"tmk\",\"IndexName\":\"gmk\",\"KeyConditionExpression\":\"a = :a "
            "AND b = :b AND c < :c AND d = :d\",\"ExpressionAttributeValues\":{\":a\":{\"S\":"
            "\"x\"},\":b\":{\"N\":\"1\"},\":c\":{\"N\":\"1\"},\":d\":{\"B\":\"AA==\"}}}",
            "only the last sort key attribute");
    refused(f, "PutItem",
            "{\"TableName\":\"tmk\",\"Item\":{\"pk\":{\"S\":\"q\"},\"b\":{\"S\":\"1\"}}}",
            "Type mismatch for Index Key b");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema_rules),
        cmocka_unit_test(test_record),
        cmocka_unit_test(test_entry_order),
        cmocka_unit_test(test_long_values),
        cmocka_unit_test(test_single_unchanged),
        cmocka_unit_test_setup_teardown(test_api, ddb_fixture_setup, ddb_fixture_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
