/* test_fn_version.c - the pure rules of Lambda versions and aliases (fn.h):
 * qualifier kinds, "nothing changed since the last
 * version", routing configuration checks and the weighted pick. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "fn.h"

static void test_qualifier_kind(void **state)
{
    char long_alias[140];

    (void)state;
    assert_int_equal(fn_qualifier_kind("$LATEST"), FN_QUAL_LATEST);
    assert_int_equal(fn_qualifier_kind("1"), FN_QUAL_VERSION);
    assert_int_equal(fn_qualifier_kind("0042"), FN_QUAL_VERSION);
    assert_int_equal(fn_qualifier_kind("12345678901"), FN_QUAL_BAD); /* too large */
    assert_int_equal(fn_qualifier_kind("live"), FN_QUAL_ALIAS);
    assert_int_equal(fn_qualifier_kind("v-1_b"), FN_QUAL_ALIAS);
    assert_int_equal(fn_qualifier_kind("1a"), FN_QUAL_ALIAS);
    assert_int_equal(fn_qualifier_kind("$latest"), FN_QUAL_BAD);
    assert_int_equal(fn_qualifier_kind("a.b"), FN_QUAL_BAD);
    assert_int_equal(fn_qualifier_kind(""), FN_QUAL_BAD);
    assert_int_equal(fn_qualifier_kind(NULL), FN_QUAL_BAD);
    memset(long_alias, 'a', sizeof(long_alias) - 1);
    long_alias[sizeof(long_alias) - 1] = '\0';
    assert_int_equal(fn_qualifier_kind(long_alias), FN_QUAL_BAD);
    long_alias[128] = '\0';
    assert_int_equal(fn_qualifier_kind(long_alias), FN_QUAL_ALIAS);
}

static void test_version_same(void **state)
{
    cJSON *latest = cJSON_Parse("{\"FunctionName\":\"f\",\"CodeSha256\":\"A\",\"Timeout\":3,"
                                "\"Version\":\"$LATEST\",\"RevisionId\":\"r1\","
                                "\"Description\":\"d\",\"_Dir\":\"/x/A\",\"_Tags\":{}}");
    cJSON *v = cJSON_Parse("{\"FunctionName\":\"f\",\"CodeSha256\":\"A\",\"Timeout\":3,"
                           "\"Version\":\"1\",\"RevisionId\":\"r2\",\"FunctionArn\":\"x:1\","
                           "\"Description\":\"other\",\"_Dir\":\"/x/A\"}");

    (void)state;
    assert_true(fn_version_same(latest, v));
    cJSON_ReplaceItemInObject(latest, "Timeout", cJSON_CreateNumber(4));
    assert_false(fn_version_same(latest, v));
    cJSON_ReplaceItemInObject(latest, "Timeout", cJSON_CreateNumber(3));
    cJSON_ReplaceItemInObject(v, "_Dir", cJSON_CreateString("/x/B"));
    assert_false(fn_version_same(latest, v)); /* another package */
    cJSON_ReplaceItemInObject(v, "_Dir", cJSON_CreateString("/x/A"));
    cJSON_AddItemToObject(latest, "Environment", cJSON_Parse("{\"Variables\":{}}"));
    assert_false(fn_version_same(latest, v)); /* a member only one side has */
    assert_false(fn_version_same(v, latest));
    assert_false(fn_version_same(latest, NULL));
    cJSON_Delete(latest);
    cJSON_Delete(v);
}

static const char *check(const char *routing, const char *primary, char *msg, size_t cap)
{
    cJSON *r = routing ? cJSON_Parse(routing) : NULL;
    const char *out = fn_routing_check(r, primary, msg, cap);

    cJSON_Delete(r);
    return out;
}

static void test_routing_check(void **state)
{
    char msg[512];

    (void)state;
    assert_null(check(NULL, "1", msg, sizeof(msg)));
    assert_null(check("{}", "1", msg, sizeof(msg)));
    assert_null(check("{\"AdditionalVersionWeights\":{}}", "$LATEST", msg, sizeof(msg)));
    assert_null(check("{\"AdditionalVersionWeights\":{\"2\":0.25}}", "1", msg, sizeof(msg)));
    assert_null(check("{\"AdditionalVersionWeights\":{\"2\":1}}", "1", msg, sizeof(msg)));
    assert_non_null(
        strstr(check("{\"AdditionalVersionWeights\":{\"2\":1.5}}", "1", msg, sizeof(msg)),
               "less than or equal to 1.0"));
    assert_non_null(
        strstr(check("{\"AdditionalVersionWeights\":{\"2\":-0.1}}", "1", msg, sizeof(msg)),
               "Map value must satisfy constraint"));
    assert_non_null(
        strstr(check("{\"AdditionalVersionWeights\":{\"2\":\"x\"}}", "1", msg, sizeof(msg)),
               "Map value must satisfy constraint"));
    assert_non_null(
        strstr(check("{\"AdditionalVersionWeights\":{\"b\":0.5}}", "1", msg, sizeof(msg)),
               "Map keys must satisfy constraint"));
    assert_string_equal(
        check("{\"AdditionalVersionWeights\":{\"2\":0.5,\"3\":0.1}}", "1", msg, sizeof(msg)),
        "Number of items in AdditionalVersionWeights cannot be greater than 1");
    assert_string_equal(
        check("{\"AdditionalVersionWeights\":{\"2\":0.5}}", "$LATEST", msg, sizeof(msg)),
        "$LATEST is not supported for an alias pointing to more than 1 version");
    assert_string_equal(check("{\"AdditionalVersionWeights\":{\"1\":0.5}}", "1", msg, sizeof(msg)),
                        "Invalid function version 1. Function version 1 is already included in "
                        "routing configuration.");
    assert_non_null(check("{\"AdditionalVersionWeights\":[1]}", "1", msg, sizeof(msg)));
}

/* the weight is quoted as Lambda (Java) writes a double: 2.0, -1.0, 1.5 */
static void test_routing_weight_text(void **state)
{
    static const struct {
        const char *weights, *quoted;
    } cases[] = {
        {"{\"2\":2}", "Value '{2=2.0}'"},     {"{\"2\":-1}", "Value '{2=-1.0}'"},
        {"{\"2\":1.5}", "Value '{2=1.5}'"},   {"{\"2\":-0.1}", "Value '{2=-0.1}'"},
        {"{\"2\":100}", "Value '{2=100.0}'"}, {"{\"$LATEST\":0.5}", "Value '{$LATEST=0.5}'"},
        {"{\"x\":1}", "Value '{x=1.0}'"},
    };
    char msg[512], doc[128];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *m;
        snprintf(doc, sizeof(doc), "{\"AdditionalVersionWeights\":%s}", cases[i].weights);
        m = check(doc, "1", msg, sizeof(msg));
        assert_non_null(m);
        assert_non_null(strstr(m, "1 validation error detected: "));
        if (!strstr(m, cases[i].quoted))
            fail_msg("%s: %s", cases[i].weights, m);
    }
}

static void test_alias_pick(void **state)
{
    cJSON *a = cJSON_Parse("{\"FunctionVersion\":\"1\",\"RoutingConfig\":"
                           "{\"AdditionalVersionWeights\":{\"2\":0.3}}}");
    cJSON *plain = cJSON_Parse("{\"FunctionVersion\":\"$LATEST\"}");
    int i, twos = 0;

    (void)state;
    assert_string_equal(fn_alias_pick(a, 0.0), "2");
    assert_string_equal(fn_alias_pick(a, 0.29), "2");
    assert_string_equal(fn_alias_pick(a, 0.3), "1");
    assert_string_equal(fn_alias_pick(a, 0.99), "1");
    for (i = 0; i < 100; i++)
        twos += strcmp(fn_alias_pick(a, i / 100.0), "2") == 0;
    assert_int_equal(twos, 30);
    assert_string_equal(fn_alias_pick(plain, 0.0), "$LATEST");
    cJSON_Delete(a);
    cJSON_Delete(plain);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qualifier_kind), cmocka_unit_test(test_version_same),
        cmocka_unit_test(test_routing_check),  cmocka_unit_test(test_routing_weight_text),
        cmocka_unit_test(test_alias_pick),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
