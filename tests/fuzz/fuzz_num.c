/* fuzz_num.c - arbitrary bytes through num_parse.
 *
 * The input is one number, and also (split at the first '|') a pair. For a
 * valid number: num_format -> num_parse gives the same number and the same
 * text. For a valid pair: the key encodings order like num_cmp, and
 * (a + b) - b == a whenever a + b is representable. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "num.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int sgn(int x)
{
    return (x > 0) - (x < 0);
}

static void check_round_trip(const struct num *n)
{
    struct buf a, b;
    struct num back;
    struct err e;

    buf_init(&a, 0);
    buf_init(&b, 0);
    if (num_format(n, &a) != ERR_OK)
        abort();
    if (num_parse(a.ptr, a.len, &back, &e) != ERR_OK)
        abort();
    if (num_cmp(n, &back) != 0 || back.exp != n->exp || back.ndigits != n->ndigits ||
        strcmp(back.digits, n->digits) != 0)
        abort();
    if (num_format(&back, &b) != ERR_OK || a.len != b.len || memcmp(a.ptr, b.ptr, a.len) != 0)
        abort();
    buf_free(&a);
    buf_free(&b);
}

static int key_cmp(const struct num *x, const struct num *y)
{
    struct buf a, b;
    int c;

    buf_init(&a, 0);
    buf_init(&b, 0);
    if (num_encode_key(x, &a) != ERR_OK || num_encode_key(y, &b) != ERR_OK)
        abort();
    size_t m = a.len < b.len ? a.len : b.len;
    c = sgn(memcmp(a.ptr, b.ptr, m));
    if (c == 0 && a.len != b.len) {
        /* self-delimiting: one encoding is a prefix of another only if equal */
        abort();
    }
    buf_free(&a);
    buf_free(&b);
    return c;
}

static void check_pair(const struct num *a, const struct num *b)
{
    struct num sum, back;
    struct err e;

    if (key_cmp(a, b) != sgn(num_cmp(a, b)) || sgn(num_cmp(a, b)) != -sgn(num_cmp(b, a)))
        abort();
    if (num_add(a, b, &sum, &e) == ERR_OK) {
        check_round_trip(&sum);
        if (num_sub(&sum, b, &back, &e) != ERR_OK || num_cmp(&back, a) != 0)
            abort();
        if (sgn(num_cmp(&sum, a)) != b->sign)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    const char *bar = memchr(s, '|', size);
    struct num n, a, b;
    struct err e;

    if (num_parse(s, size, &n, &e) == ERR_OK) {
        check_round_trip(&n);
        if (key_cmp(&n, &n) != 0)
            abort();
    }
    if (bar && num_parse(s, (size_t)(bar - s), &a, &e) == ERR_OK &&
        num_parse(bar + 1, size - (size_t)(bar - s) - 1, &b, &e) == ERR_OK) {
        check_pair(&a, &b);
        check_pair(&b, &a);
    }
    return 0;
}
