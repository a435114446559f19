/* test_url.c - percent-decoding and -encoding, query strings (common/url.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arena.h"
#include "buf.h"
#include "url.h"

static void hexval_digits(void **state)
{
    (void)state;
    assert_int_equal(url_hexval('0'), 0);
    assert_int_equal(url_hexval('9'), 9);
    assert_int_equal(url_hexval('a'), 10);
    assert_int_equal(url_hexval('F'), 15);
    assert_int_equal(url_hexval('g'), -1);
    assert_int_equal(url_hexval('%'), -1);
}

static void decode_form(void **state)
{
    (void)state;
    struct arena *a = arena_new();
    static const char bin[] = "a%00b";

    assert_string_equal(url_decode(a, "a%20b+c%2fd%2F", 14), "a b c/d/");
    assert_string_equal(url_decode(a, "%zz%4", 5), "%zz%4"); /* not two hex digits: kept */
    assert_string_equal(url_decode(a, "100%", 4), "100%");
    assert_string_equal(url_decode(a, "%41%42", 6), "AB");
    assert_string_equal(url_decode(a, "abc", 2), "ab"); /* only @n bytes */
    assert_string_equal(url_decode(a, "", 0), "");
    assert_memory_equal(url_decode(a, bin, 5), "a\0b", 4);
    arena_free(a);
}

static void decode_into_buffer(void **state)
{
    (void)state;
    char out[4];

    assert_true(url_decode_to("a+b", 3, out, sizeof(out)));
    assert_string_equal(out, "a b");
    assert_true(url_decode_to("%41%42%43", 9, out, sizeof(out)));
    assert_string_equal(out, "ABC");
    assert_false(url_decode_to("abcd", 4, out, sizeof(out))); /* no room for the NUL */
    assert_true(url_decode_to("", 0, out, 1));
    assert_string_equal(out, "");
    assert_false(url_decode_to("", 0, out, 0));
}

static void encode(void **state)
{
    (void)state;
    struct arena *a = arena_new();
    struct buf b;

    assert_string_equal(url_encode(a, "AZaz09-_.~", false), "AZaz09-_.~");
    assert_string_equal(url_encode(a, "a b/c+\xc3\xa9", false), "a%20b%2Fc%2B%C3%A9");
    assert_string_equal(url_encode(a, "dir/a b", true), "dir/a%20b");
    assert_string_equal(url_encode(a, "", true), "");
    buf_init(&b, 0);
    url_encode_buf(&b, "{\"a\":1}", false);
    url_encode_buf(&b, NULL, false);
    assert_int_equal(b.len, 17);
    assert_memory_equal(b.ptr, "%7B%22a%22%3A1%7D", 17);
    buf_free(&b);
    arena_free(a);
}

static void query_pairs(void **state)
{
    (void)state;
    const char *q = "&a=1&&flag&b=x%3Dy&=v&c=";
    size_t pos = 0, len = strlen(q);
    struct url_param p;

    assert_true(url_query_next(q, len, &pos, &p));
    assert_int_equal(p.key_len, 1);
    assert_memory_equal(p.key, "a", 1);
    assert_true(p.has_val);
    assert_int_equal(p.val_len, 1);
    assert_memory_equal(p.val, "1", 1);

    assert_true(url_query_next(q, len, &pos, &p)); /* the empty pair is skipped */
    assert_int_equal(p.key_len, 4);
    assert_memory_equal(p.key, "flag", 4);
    assert_false(p.has_val);
    assert_int_equal(p.val_len, 0);

    assert_true(url_query_next(q, len, &pos, &p));
    assert_memory_equal(p.key, "b", 1);
    assert_int_equal(p.val_len, 5);
    assert_memory_equal(p.val, "x%3Dy", 5);

    assert_true(url_query_next(q, len, &pos, &p));
    assert_int_equal(p.key_len, 0);
    assert_int_equal(p.val_len, 1);

    assert_true(url_query_next(q, len, &pos, &p));
    assert_memory_equal(p.key, "c", 1);
    assert_true(p.has_val);
    assert_int_equal(p.val_len, 0);

    assert_false(url_query_next(q, len, &pos, &p));
    assert_false(url_query_next(q, len, &pos, &p));

    pos = 0; /* a length shorter than the string bounds the pairs */
    assert_true(url_query_next("x=12&y=3", 3, &pos, &p));
    assert_int_equal(p.val_len, 1);
    assert_false(url_query_next("x=12&y=3", 3, &pos, &p));
}

static void query_find(void **state)
{
    (void)state;
    struct url_param p;

    assert_true(url_query_find("versionId=v1&uploads&prefix=a%2Fb", "prefix", &p));
    assert_int_equal(p.val_len, 5);
    assert_memory_equal(p.val, "a%2Fb", 5);
    assert_true(url_query_find("versionId=v1&uploads&prefix=a", "uploads", &p));
    assert_false(p.has_val);
    assert_false(url_query_find("versionIdx=1&version=2", "versionId", &p)); /* whole names only */
    assert_false(url_query_find("a=1", "b", &p));
    assert_false(url_query_find("", "a", &p));
    assert_false(url_query_find(NULL, "a", &p));
    assert_true(url_query_find("a=1&a=2", "a", &p)); /* the first one */
    assert_memory_equal(p.val, "1", 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hexval_digits),      cmocka_unit_test(decode_form),
        cmocka_unit_test(decode_into_buffer), cmocka_unit_test(encode),
        cmocka_unit_test(query_pairs),        cmocka_unit_test(query_find),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
