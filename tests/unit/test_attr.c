/* test_attr.c - AttributeValue validation, normalization, size and comparison, through attr.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "attr.h"
#include "keys.h"

/* As CI runs the sanitized tests (scripts/setup.sh): ASan checks every
 * string a libc search is given as a whole, so a search per character is
 * quadratic here too. Ignored without ASan; ASAN_OPTIONS adds to it. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "strict_string_checks=1";
}

struct validate_case {
    const char *in;
    const char *out; /* normalized JSON when valid, NULL when invalid */
    const char *err; /* substring of the message when invalid */
};

static const struct validate_case validate_cases[] = {
    {"{\"S\":\"x\"}", "{\"S\":\"x\"}", NULL},
    {"{\"S\":\"\"}", "{\"S\":\"\"}", NULL},
    {"{\"N\":\"1.50\"}", "{\"N\":\"1.5\"}", NULL},
    {"{\"N\":\"1e2\"}", "{\"N\":\"100\"}", NULL},
    {"{\"N\":\"-0\"}", "{\"N\":\"0\"}", NULL},
    {"{\"N\":\"007\"}", "{\"N\":\"7\"}", NULL},
    {"{\"N\":\"abc\"}", NULL, "The parameter cannot be converted to a numeric value"},
    {"{\"N\":\"1234567890123456789012345678901234567890\"}", NULL, "38 significant digits"},
    {"{\"N\":1}", NULL, "NUMBER_VALUE can not be converted to String"},
    {"{\"S\":true}", NULL, "VALUE_TRUE can not be converted to String"},
    {"{\"B\":false}", NULL, "VALUE_FALSE can not be converted to String"},
    {"{\"S\":[\"x\"]}", NULL, "Invalid value for AttributeValue of type S"},
    {"{\"B\":\"AQID\"}", "{\"B\":\"AQID\"}", NULL},
    {"{\"B\":\"\"}", "{\"B\":\"\"}", NULL},
    {"{\"B\":\"not base64!\"}", NULL, "of type B"},
    {"{\"BOOL\":false}", "{\"BOOL\":false}", NULL},
    {"{\"BOOL\":\"true\"}", NULL, "of type BOOL"},
    {"{\"NULL\":true}", "{\"NULL\":true}", NULL},
    /* AWS accepts NULL false since 2026-06 (conformance captures) and reads it as true */
    {"{\"NULL\":false}", "{\"NULL\":true}", NULL},
    {"{\"NULL\":\"x\"}", NULL, "Null attribute value types must have the value of true"},
    {"{}", NULL,
     "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"},
    {"{\"X\":\"y\"}", NULL, "Supplied AttributeValue is empty"},
    {"{\"S\":null}", NULL, "Supplied AttributeValue is empty"},
    {"\"S\"", NULL, "Supplied AttributeValue is empty"},
    {"{\"S\":\"x\",\"N\":\"1\"}", NULL,
     "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the "
     "supported datatypes"},
    {"{\"S\":\"x\",\"junk\":1}", "{\"S\":\"x\"}", NULL},
    {"{\"SS\":[\"a\",\"b\"]}", "{\"SS\":[\"a\",\"b\"]}", NULL},
    {"{\"SS\":[]}", NULL,
     "One or more parameter values were invalid: An string set  may not be empty"},
    {"{\"NS\":[]}", NULL,
     "One or more parameter values were invalid: An number set  may not be empty"},
    {"{\"BS\":[]}", NULL,
     "One or more parameter values were invalid: Binary sets should not be empty"},
    {"{\"SS\":[\"a\",\"a\"]}", NULL,
     "One or more parameter values were invalid: Input collection [a, a] contains duplicates."},
    {"{\"SS\":[\"a\",1]}", NULL, "of type SS"},
    {"{\"SS\":\"a\"}", NULL, "of type SS"},
    {"{\"NS\":[\"1\",\"2.0\",\"3e1\"]}", "{\"NS\":[\"1\",\"2\",\"30\"]}", NULL},
    {"{\"NS\":[\"1\",\"1.0\"]}", NULL, "contains duplicates."},
    {"{\"NS\":[\"1\",\"x\"]}", NULL, "cannot be converted to a numeric value"},
    {"{\"BS\":[\"AQI=\",\"AwQ=\"]}", "{\"BS\":[\"AQI=\",\"AwQ=\"]}", NULL},
    {"{\"BS\":[\"AQI=\",\"AQI=\"]}", NULL,
     "One or more parameter values were invalid: Input collection [AQI=, AQI=]of type BS contains "
     "duplicates."},
    {"{\"BS\":[\"AQI\"]}", NULL, "of type BS"},
    {"{\"M\":{}}", "{\"M\":{}}", NULL},
    {"{\"M\":{\"a\":{\"N\":\"01\"},\"b\":{\"L\":[{\"N\":\"2.00\"}]}}}",
     "{\"M\":{\"a\":{\"N\":\"1\"},\"b\":{\"L\":[{\"N\":\"2\"}]}}}", NULL},
    {"{\"M\":{\"a\":{}}}", NULL, "Supplied AttributeValue is empty"},
    {"{\"M\":[]}", NULL, "of type M"},
    {"{\"L\":[]}", "{\"L\":[]}", NULL},
    {"{\"L\":[{\"SS\":[]}]}", NULL, "An string set  may not be empty"},
    {"{\"L\":{}}", NULL, "of type L"},
};

static void validate_table(void **state)
{
    int failures = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(validate_cases) / sizeof(validate_cases[0]); i++) {
        const struct validate_case *tc = &validate_cases[i];
        cJSON *av = cJSON_Parse(tc->in);
        struct err e = {0};
        enum err_code rc;

        assert_non_null(av);
        rc = attr_validate(av, &e);
        if (tc->out) {
            cJSON *want = cJSON_Parse(tc->out);
            if (rc != ERR_OK || !cJSON_Compare(av, want, true)) {
                char *s = cJSON_PrintUnformatted(av);
                print_error("case %zu %s: rc=%d %s got %s\n", i, tc->in, rc, e.msg, s);
                free(s);
                failures++;
            }
            cJSON_Delete(want);
        } else if (rc != ERR_INVALID || !strstr(e.msg, tc->err)) {
            print_error("case %zu %s: want \"%s\" got rc=%d \"%s\"\n", i, tc->in, tc->err, rc,
                        e.msg);
            failures++;
        }
        cJSON_Delete(av);
    }
    assert_int_equal(failures, 0);
}

static void attribute_name_limit(void **state)
{
    struct err e = {0};
    cJSON *item;
    char *name = malloc(65537);

    (void)state;
    /* 65535 bytes of name are fine, 65536 are not */
    for (size_t len = 65535; len <= 65536; len++) {
        memset(name, 'n', len);
        name[len] = '\0';
        item = cJSON_CreateObject();
        cJSON_AddItemToObject(item, name, cJSON_Parse("{\"S\":\"v\"}"));
        assert_int_equal(attr_validate_item(item, &e), len == 65535 ? ERR_OK : ERR_INVALID);
        if (len == 65536)
            assert_non_null(strstr(e.msg, "Attribute name is too large, must be less than 65536"));
        cJSON_Delete(item);
    }
    free(name);
}

static void nesting_limit(void **state)
{
    char in[1024] = "", *p = in;
    struct err e = {0};
    cJSON *av;

    (void)state;
    /* 32 levels of L are fine, 33 are not. */
    for (int depth = 32; depth <= 33; depth++) {
        p = in;
        for (int i = 1; i < depth; i++)
            p += sprintf(p, "{\"L\":[");
        p += sprintf(p, "{\"S\":\"x\"}");
        for (int i = 1; i < depth; i++)
            p += sprintf(p, "]}");
        av = cJSON_Parse(in);
        assert_non_null(av);
        assert_int_equal(attr_validate(av, &e), depth == 32 ? ERR_OK : ERR_INVALID);
        if (depth == 33)
            assert_non_null(strstr(e.msg, "Nesting Levels have exceeded supported limits"));
        cJSON_Delete(av);
    }
}

static void validate_item(void **state)
{
    cJSON *item = cJSON_Parse("{\"a\":{\"N\":\"1.0\"},\"b\":{\"S\":\"x\"}}");
    cJSON *bad = cJSON_Parse("{\"a\":{\"N\":\"1\"},\"b\":{}}");
    struct err e = {0};

    (void)state;
    assert_int_equal(attr_validate_item(item, &e), ERR_OK);
    assert_string_equal(cJSON_GetObjectItem(item, "a")->child->valuestring, "1");
    assert_int_equal(attr_validate_item(bad, &e), ERR_INVALID);
    cJSON_Delete(item);
    cJSON_Delete(bad);
}

static void types_and_payload(void **state)
{
    cJSON *av = cJSON_Parse("{\"NS\":[\"1\"]}");
    cJSON *two = cJSON_Parse("{\"S\":\"a\",\"N\":\"1\"}");
    cJSON *odd = cJSON_Parse("{\"Q\":\"a\"}");

    (void)state;
    assert_int_equal(attr_type_of(av), ATTR_NS);
    assert_string_equal(attr_type_name(ATTR_NS), "NS");
    assert_string_equal(attr_type_name(ATTR_BOOL), "BOOL");
    assert_string_equal(attr_type_name(ATTR_INVALID), "");
    assert_true(cJSON_IsArray(attr_payload(av)));
    assert_int_equal(attr_type_of(two), ATTR_INVALID);
    assert_int_equal(attr_type_of(odd), ATTR_INVALID);
    assert_int_equal(attr_type_of(NULL), ATTR_INVALID);
    assert_null(attr_payload(two));
    cJSON_Delete(av);
    cJSON_Delete(two);
    cJSON_Delete(odd);
}

struct size_case {
    const char *name;
    const char *av;
    size_t want;
};

static const struct size_case size_cases[] = {
    {NULL, "{\"S\":\"hello\"}", 5},
    {"ab", "{\"S\":\"hello\"}", 7},
    {NULL, "{\"S\":\"h\xc3\xa9\"}", 3},
    {NULL, "{\"S\":\"\"}", 0},
    {NULL, "{\"N\":\"1\"}", 2},
    {NULL, "{\"N\":\"12\"}", 2},
    {NULL, "{\"N\":\"123\"}", 3},
    {NULL, "{\"N\":\"1000000\"}", 2},
    {NULL, "{\"N\":\"0.0001234\"}", 3},
    /* nubo-db/dynamodb-conformance: each measured against AWS's 400 KB gate */
    {NULL, "{\"N\":\"0\"}", 1},
    {NULL, "{\"N\":\"1234\"}", 3},
    {NULL, "{\"N\":\"12345678901234567890123456789012345678\"}", 20},
    {NULL, "{\"N\":\"0042\"}", 2},
    {NULL, "{\"N\":\"100\"}", 2},
    {NULL, "{\"N\":\"1010\"}", 3},
    {NULL, "{\"N\":\"0.0000001\"}", 2},
    {NULL, "{\"N\":\"1E125\"}", 2},
    {NULL, "{\"N\":\"1E-100\"}", 2},
    {NULL, "{\"N\":\"1.5\"}", 3},
    {NULL, "{\"N\":\"15\"}", 2},
    {NULL, "{\"N\":\"1.2\"}", 3},
    {NULL, "{\"N\":\"1.200\"}", 3},
    {NULL, "{\"N\":\"1.234\"}", 4},
    {NULL, "{\"N\":\"3.14159\"}", 5},
    {NULL, "{\"N\":\"123456\"}", 4},
    {NULL, "{\"N\":\"100.5\"}", 4},
    {NULL, "{\"N\":\"0.15\"}", 2},
    {NULL, "{\"N\":\"-42\"}", 3},
    {NULL, "{\"N\":\"-0\"}", 1},
    {NULL, "{\"NS\":[\"-1.5\",\"3.14159\"]}", 4 + 5},
    {NULL, "{\"B\":\"AQIDBA==\"}", 4},
    {NULL, "{\"B\":\"AQID\"}", 3},
    {NULL, "{\"B\":\"AQI=\"}", 2},
    {NULL, "{\"SS\":[\"ab\",\"cde\"]}", 5},
    {NULL, "{\"NS\":[\"1\",\"123\"]}", 5},
    {NULL, "{\"BS\":[\"AQI=\",\"AQID\"]}", 5},
    {NULL, "{\"BOOL\":true}", 1},
    {"x", "{\"NULL\":true}", 2},
    {NULL, "{\"L\":[]}", 3},
    {NULL, "{\"L\":[{\"S\":\"ab\"},{\"BOOL\":true}]}", 3 + 2 + 1 + 1 + 1},
    {NULL, "{\"M\":{\"k\":{\"S\":\"ab\"}}}", 3 + 1 + 2 + 1},
    {"m", "{\"M\":{\"k\":{\"M\":{}}}}", 1 + 3 + (1 + 3) + 1},
};

static void size_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(size_cases) / sizeof(size_cases[0]); i++) {
        cJSON *av = cJSON_Parse(size_cases[i].av);
        size_t got = attr_size(size_cases[i].name, av);
        if (got != size_cases[i].want)
            print_error("case %zu %s: got %zu want %zu\n", i, size_cases[i].av, got,
                        size_cases[i].want);
        assert_int_equal(got, size_cases[i].want);
        cJSON_Delete(av);
    }
}

static void item_size(void **state)
{
    cJSON *item = cJSON_Parse("{\"id\":{\"S\":\"abc\"},\"n\":{\"N\":\"12\"}}");

    (void)state;
    assert_int_equal(attr_item_size(item), 2 + 3 + 1 + 2);
    cJSON_Delete(item);
}

struct cmp_case {
    const char *a, *b;
    bool equal;
    int order; /* for S/N/B: sign of attr_compare; 2 = not comparable */
};

static const struct cmp_case cmp_cases[] = {
    {"{\"S\":\"a\"}", "{\"S\":\"a\"}", true, 0},
    {"{\"S\":\"a\"}", "{\"S\":\"b\"}", false, -1},
    {"{\"S\":\"b\"}", "{\"S\":\"ab\"}", false, 1},
    {"{\"S\":\"\xc3\xa9\"}", "{\"S\":\"z\"}", false, 1},
    {"{\"N\":\"10\"}", "{\"N\":\"9\"}", false, 1},
    {"{\"N\":\"1.0\"}", "{\"N\":\"1\"}", true, 0},
    {"{\"N\":\"-5\"}", "{\"N\":\"-10\"}", false, 1},
    {"{\"B\":\"AQI=\"}", "{\"B\":\"AQID\"}", false, -1},
    {"{\"B\":\"/w==\"}", "{\"B\":\"AQ==\"}", false, 1},
    {"{\"S\":\"1\"}", "{\"N\":\"1\"}", false, 2},
    {"{\"BOOL\":true}", "{\"BOOL\":true}", true, 2},
    {"{\"BOOL\":true}", "{\"BOOL\":false}", false, 2},
    {"{\"NULL\":true}", "{\"NULL\":true}", true, 2},
    {"{\"SS\":[\"a\",\"b\"]}", "{\"SS\":[\"b\",\"a\"]}", true, 2},
    {"{\"SS\":[\"a\",\"b\"]}", "{\"SS\":[\"a\"]}", false, 2},
    {"{\"NS\":[\"1\",\"2\"]}", "{\"NS\":[\"2.0\",\"1\"]}", true, 2},
    {"{\"BS\":[\"AQI=\"]}", "{\"BS\":[\"AQI=\"]}", true, 2},
    {"{\"L\":[{\"S\":\"a\"},{\"N\":\"1\"}]}", "{\"L\":[{\"S\":\"a\"},{\"N\":\"1.0\"}]}", true, 2},
    {"{\"L\":[{\"S\":\"a\"},{\"N\":\"1\"}]}", "{\"L\":[{\"N\":\"1\"},{\"S\":\"a\"}]}", false, 2},
    {"{\"L\":[{\"S\":\"a\"}]}", "{\"L\":[{\"S\":\"a\"},{\"S\":\"a\"}]}", false, 2},
    {"{\"M\":{\"a\":{\"S\":\"x\"},\"b\":{\"N\":\"1\"}}}",
     "{\"M\":{\"b\":{\"N\":\"1\"},\"a\":{\"S\":\"x\"}}}", true, 2},
    {"{\"M\":{\"a\":{\"S\":\"x\"}}}", "{\"M\":{\"a\":{\"S\":\"y\"}}}", false, 2},
    {"{\"M\":{\"a\":{\"S\":\"x\"}}}", "{\"M\":{\"b\":{\"S\":\"x\"}}}", false, 2},
};

static void compare_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cmp_cases) / sizeof(cmp_cases[0]); i++) {
        cJSON *a = cJSON_Parse(cmp_cases[i].a), *b = cJSON_Parse(cmp_cases[i].b);
        bool ok;
        int c = attr_compare(a, b, &ok);

        assert_non_null(a);
        assert_non_null(b);
        if (attr_equal(a, b) != cmp_cases[i].equal || attr_equal(b, a) != cmp_cases[i].equal)
            print_error("case %zu: equal mismatch\n", i);
        assert_int_equal(attr_equal(a, b), cmp_cases[i].equal);
        assert_int_equal(attr_equal(b, a), cmp_cases[i].equal);
        if (cmp_cases[i].order == 2) {
            assert_false(ok);
            assert_int_equal(c, 0);
        } else {
            assert_true(ok);
            assert_int_equal(c < 0 ? -1 : c > 0, cmp_cases[i].order);
        }
        cJSON_Delete(a);
        cJSON_Delete(b);
    }
}

/* U+0000 is held as C0 80 in strings. DynamoDB's order (UTF-8 bytes, so NUL
 * first) is attr_compare's, and the key encoding of attr_str_bytes' output
 * keeps it; the older raw encoding keeps attr_compare_nul_high's order. */
static const char *const nul_order[] = {
    "\xC0\x80",
    "\xC0\x80\xC0\x80",
    "\xC0\x80"
    "a",
    "\x01",
    "a",
    "a\xC0\x80",
    "a\xC0\x80\xC0\x80",
    "a\xC0\x80"
    "b",
    "a\x01",
    "a!",
    "a\x7f",
    "a\xC2\x80",
    "b",
};
enum { NNUL = sizeof(nul_order) / sizeof(nul_order[0]) };

static cJSON *s_av(const char *s)
{
    cJSON *o = cJSON_CreateObject();

    cJSON_AddStringToObject(o, "S", s);
    return o;
}

static void encode_s(struct buf *b, const char *s, bool raw, bool delimited)
{
    char tmp[32];
    size_t n = raw ? strlen(s) : attr_str_bytes(s, strlen(s), tmp);

    buf_reset(b);
    assert_int_equal(keys_append(b, KEYS_S, raw ? s : tmp, n, delimited, NULL), ERR_OK);
}

static int key_cmp(const struct buf *a, const struct buf *b)
{
    size_t m = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->ptr, b->ptr, m);

    if (c)
        return c < 0 ? -1 : 1;
    return a->len < b->len ? -1 : a->len > b->len;
}

static void nul_strings(void **state)
{
    struct buf x, y;
    char tmp[16];

    (void)state;
    buf_init(&x, 0);
    buf_init(&y, 0);
    /* one byte each toward sizes; bytes as UTF-8 */
    assert_int_equal(attr_str_len("a\xC0\x80"
                                  "b"),
                     3);
    assert_int_equal(attr_str_len("\xC0\x80\xC0\x80"), 2);
    assert_int_equal(attr_str_len("\xC0\xC0\x80\xC0"), 3); /* a lone C0 is no NUL */
    assert_int_equal(attr_str_bytes("a\xC0\x80"
                                    "b\xC0",
                                    5, tmp),
                     4);
    assert_memory_equal(tmp, "a\0b\xC0", 4);
    {
        cJSON *av = s_av("\xC0\x80x\xC0\x80");

        assert_int_equal(attr_size("n\xC0\x80", av), 2 + 3);
        cJSON_Delete(av);
    }
    for (size_t i = 0; i < NNUL; i++) {
        for (size_t j = 0; j < NNUL; j++) {
            cJSON *a = s_av(nul_order[i]), *b = s_av(nul_order[j]);
            int want = i < j ? -1 : i > j, c, ch;
            bool ok, okh;

            c = attr_compare(a, b, &ok);
            ch = attr_compare_nul_high(a, b, &okh);
            assert_true(ok && okh);
            if ((c < 0 ? -1 : c > 0) != want)
                fail_msg("attr_compare %zu %zu: %d, want %d", i, j, c, want);
            for (int delimited = 0; delimited < 2; delimited++) {
                encode_s(&x, nul_order[i], false, delimited);
                encode_s(&y, nul_order[j], false, delimited);
                if (key_cmp(&x, &y) != want)
                    fail_msg("nul0 keys %zu %zu (delimited %d): %d", i, j, delimited,
                             key_cmp(&x, &y));
                encode_s(&x, nul_order[i], true, delimited);
                encode_s(&y, nul_order[j], true, delimited);
                if (key_cmp(&x, &y) != (ch < 0 ? -1 : ch > 0))
                    fail_msg("raw keys %zu %zu (delimited %d) against nul-high order", i, j,
                             delimited);
            }
            cJSON_Delete(a);
            cJSON_Delete(b);
        }
    }
    /* the NUL-high order differs: "a" + NUL after "a!" */
    {
        cJSON *a = s_av("a\xC0\x80"), *b = s_av("a!");
        bool ok;

        assert_true(attr_compare(a, b, &ok) < 0);
        assert_true(attr_compare_nul_high(a, b, &ok) > 0);
        cJSON_Delete(a);
        cJSON_Delete(b);
    }
    /* a sort-key prefix with a NUL is a byte prefix of the keys beginning with it */
    encode_s(&x, "a\xC0\x80", false, false);
    encode_s(&y,
             "a\xC0\x80"
             "b",
             false, false);
    assert_true(y.len > x.len && memcmp(x.ptr, y.ptr, x.len) == 0);
    encode_s(&y, "a\x01", false, false);
    assert_false(y.len >= x.len && memcmp(x.ptr, y.ptr, x.len) == 0);
    buf_free(&x);
    buf_free(&y);
}

static double cpu_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The largest item of U+0000s (409,591 of them, held as C0 80) is sized in
 * one pass: a string search per NUL once took minutes under ASan, longer
 * than any client waits for the PutItem's answer. */
static void nul_strings_sized_in_linear_time(void **state)
{
    enum { NULS = 400 * 1024 - 5 - 3 - 1 };
    char *v = malloc(2 * NULS + 2);
    cJSON *item = cJSON_CreateObject();
    double t0;

    (void)state;
    for (size_t i = 0; i < NULS; i++)
        memcpy(v + 2 * i, "\xC0\x80", 2);
    v[2 * NULS] = '\0';
    cJSON_AddItemToObject(item, "pk", s_av("big"));
    cJSON_AddItemToObject(item, "sk", s_av("s"));
    cJSON_AddItemToObject(item, "v", s_av(v));
    t0 = cpu_seconds();
    assert_int_equal(attr_str_len(v), NULS);
    assert_int_equal(attr_item_size(item), 400 * 1024);
    strcpy(v + 2 * NULS, "x"); /* one byte more */
    assert_int_equal(attr_str_len(v), NULS + 1);
    /* ~5 ms sanitized; the search per NUL took ~80 s */
    assert_true(cpu_seconds() - t0 < 5.0);
    cJSON_Delete(item);
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(validate_table),
        cmocka_unit_test(nesting_limit),
        cmocka_unit_test(attribute_name_limit),
        cmocka_unit_test(validate_item),
        cmocka_unit_test(types_and_payload),
        cmocka_unit_test(size_table),
        cmocka_unit_test(item_size),
        cmocka_unit_test(compare_table),
        cmocka_unit_test(nul_strings),
        cmocka_unit_test(nul_strings_sized_in_linear_time),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
