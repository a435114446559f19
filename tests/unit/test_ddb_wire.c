/* test_ddb_wire.c - DynamoDB's body encodings, through wire.h: the choice an
 * Accept-Encoding value makes, gzip request bodies decoded or refused, and
 * answers that decompress to what was compressed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "wire.h"

static void accept_choices(void **state)
{
    static const struct {
        const char *header;
        enum ddb_wire_enc want;
    } cases[] = {
        {NULL, DDB_WIRE_IDENTITY},
        {"", DDB_WIRE_IDENTITY},
        {"identity", DDB_WIRE_IDENTITY},
        {"compress, br", DDB_WIRE_IDENTITY},
        {"gzip", DDB_WIRE_GZIP},
        {"DEFLATE", DDB_WIRE_DEFLATE},
        {"deflate, gzip", DDB_WIRE_DEFLATE},
        {"gzip;q=0.2, deflate;q=0.3", DDB_WIRE_DEFLATE},
        {"gzip;q=0", DDB_WIRE_IDENTITY},
        {"*", DDB_WIRE_GZIP},
        {"*, deflate", DDB_WIRE_DEFLATE},
        {"*;q=0.9, gzip;q=0.5", DDB_WIRE_DEFLATE},
        {"*;q=0", DDB_WIRE_IDENTITY},
        {"deflate;q=9, gzip;q=4", DDB_WIRE_DEFLATE}, /* both 1: the first named */
        {"deflate;q=0.5, gzip;q=zero", DDB_WIRE_GZIP},
        {"gzip;q=-3, deflate;q=0.01", DDB_WIRE_DEFLATE},
        {"gzip ; x=1 ; q = 0 ", DDB_WIRE_IDENTITY},
        {"gzip;q=0.1;q=0", DDB_WIRE_GZIP},
        {"gzip;q=0, gzip;q=0.5", DDB_WIRE_GZIP},
        {",, gzip ,", DDB_WIRE_GZIP},
        {"\"gzip\"", DDB_WIRE_IDENTITY},
        {"gzip deflate", DDB_WIRE_IDENTITY},
        {"gzip;q", DDB_WIRE_GZIP},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (ddb_wire_accept(cases[i].header) != cases[i].want)
            fail_msg("Accept-Encoding: %s", cases[i].header ? cases[i].header : "(none)");
    }
}

static void gzip_of(const char *text, struct buf *out)
{
    buf_init(out, 0);
    buf_append(out, text, strlen(text));
    assert_true(ddb_wire_encode(out, DDB_WIRE_GZIP));
}

static void decode_gzip(void **state)
{
    struct buf a, b;
    struct err e = {0};

    (void)state;
    gzip_of("{\"TableName\":", &a);
    gzip_of("\"orders\"}", &b);
    buf_append(&a, b.ptr, b.len); /* two members, one after the other */
    assert_int_equal(ddb_wire_decode(&a, " gzip ", &e), ERR_OK);
    assert_string_equal(a.ptr, "{\"TableName\":\"orders\"}");
    assert_int_equal(ddb_wire_decode(&a, "identity", &e), ERR_OK);
    assert_string_equal(a.ptr, "{\"TableName\":\"orders\"}");
    buf_free(&a);

    /* cut short, followed by garbage, not gzip at all, empty, unknown */
    gzip_of("{\"TableName\":\"orders\"}", &a);
    a.len -= 4;
    assert_int_equal(ddb_wire_decode(&a, "gzip", &e), ERR_INVALID);
    a.len += 4;
    buf_append(&a, "tail", 4);
    assert_int_equal(ddb_wire_decode(&a, "gzip", &e), ERR_INVALID);
    assert_int_equal(ddb_wire_decode(&b, "gzip", &e), ERR_OK);
    assert_int_equal(ddb_wire_decode(&b, "gzip", &e), ERR_INVALID);
    assert_int_equal(ddb_wire_decode(&b, "br", &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "br"));
    buf_reset(&b);
    assert_int_equal(ddb_wire_decode(&b, "gzip", &e), ERR_INVALID);
    buf_free(&a);
    buf_free(&b);
}

static void decode_limit(void **state)
{
    struct buf a;
    struct err e = {0};
    size_t n = DDB_WIRE_MAX_BODY + 1;

    (void)state;
    buf_init(&a, 0);
    assert_int_equal(buf_reserve(&a, n), ERR_OK);
    memset(a.ptr, ' ', n);
    a.len = n;
    a.ptr[n] = '\0';
    assert_true(ddb_wire_encode(&a, DDB_WIRE_GZIP));
    assert_true(a.len < 100000);
    assert_int_equal(ddb_wire_decode(&a, "gzip", &e), ERR_TOO_LARGE);
    buf_free(&a);
}

static void encode_deflate(void **state)
{
    struct buf a;
    char text[6000], back[6000];
    uLongf blen = sizeof(back);

    (void)state;
    for (size_t i = 0; i < sizeof(text); i++)
        text[i] = (char)('a' + i % 7);
    buf_init(&a, 0);
    buf_append(&a, text, sizeof(text));
    assert_true(ddb_wire_encode(&a, DDB_WIRE_DEFLATE));
    assert_true(a.len < sizeof(text) / 10);
    assert_int_equal(uncompress((Bytef *)back, &blen, (const Bytef *)a.ptr, a.len), Z_OK);
    assert_int_equal(blen, sizeof(text));
    assert_memory_equal(back, text, sizeof(text));
    buf_free(&a);
}

static void utf8_checked(void **state)
{
    static const struct {
        const char *text;
        size_t bad; /* offset of the first bad byte; SIZE_MAX: none */
    } cases[] = {
        {"plain ascii", SIZE_MAX},
        {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", SIZE_MAX},
        {"\xef\xbf\xbf\xf4\x8f\xbf\xbf", SIZE_MAX}, /* U+FFFF, U+10FFFF */
        {"ab\xff", 2},
        {"a\xc0\x80", 1},        /* overlong NUL */
        {"\xc1\xbf", 0},         /* overlong */
        {"\xe0\x9f\xbf", 0},     /* overlong */
        {"x\xed\xa0\x80", 1},    /* surrogate */
        {"\xf0\x8f\xbf\xbf", 0}, /* overlong */
        {"\xf4\x90\x80\x80", 0}, /* past U+10FFFF */
        {"\xf5\x80\x80\x80", 0},
        {"ok\xe2\x82", 2}, /* cut short */
        {"\xe2(\xac", 0},
        {"\x80", 0},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = strlen(cases[i].text);
        size_t want = cases[i].bad == SIZE_MAX ? n : cases[i].bad;

        if (ddb_wire_utf8_bad(cases[i].text, n) != want)
            fail_msg("case %zu: %zu, want %zu", i, ddb_wire_utf8_bad(cases[i].text, n), want);
    }
    assert_int_equal(ddb_wire_utf8_bad(NULL, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accept_choices), cmocka_unit_test(decode_gzip),
        cmocka_unit_test(decode_limit),   cmocka_unit_test(encode_deflate),
        cmocka_unit_test(utf8_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
