/* test_keys.c - storage key encodings keep DynamoDB's order, through keys.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "keys.h"
#include "num.h"

struct bytes {
    const char *p;
    size_t len;
};
#define B(lit)                                                                                     \
    {                                                                                              \
        (lit), sizeof(lit) - 1                                                                     \
    }

static int sgn(int x)
{
    return (x > 0) - (x < 0);
}

static int bytes_cmp(const void *a, size_t alen, const void *b, size_t blen)
{
    size_t m = alen < blen ? alen : blen;
    int c = m ? memcmp(a, b, m) : 0;

    if (c)
        return sgn(c);
    return alen < blen ? -1 : alen > blen;
}

static void table_prefix(void **state)
{
    struct buf a, b;

    (void)state;
    buf_init(&a, 0);
    buf_init(&b, 0);
    assert_int_equal(keys_append_table(&a, 0x0102030405060708ULL), ERR_OK);
    assert_int_equal(a.len, 8);
    assert_memory_equal(a.ptr, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
    /* big-endian: table ids sort numerically */
    buf_reset(&a);
    assert_int_equal(keys_append_table(&a, 255), ERR_OK);
    assert_int_equal(keys_append_table(&b, 256), ERR_OK);
    assert_true(memcmp(a.ptr, b.ptr, 8) < 0);
    buf_free(&a);
    buf_free(&b);
}

static void exact_bytes(void **state)
{
    static const struct {
        struct bytes in;
        bool delimited;
        struct bytes out;
    } cases[] = {
        {B(""), true, B("\0\0")},
        {B("a"), true, B("a\0\0")},
        {B("a\0b"), true,
         B("a\0\xff"
           "b\0\0")},
        {B("\0"), true, B("\0\xff\0\0")},
        {B("\0\0"), true, B("\0\xff\0\xff\0\0")},
        {B("\xff"), true, B("\xff\0\0")},
        {B("a\0b"), false, B("a\0b")},
        {B(""), false, B("")},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (int t = KEYS_S; t <= KEYS_B; t += KEYS_B - KEYS_S) {
            struct buf b;

            buf_init(&b, 0);
            assert_int_equal(keys_append(&b, (enum keys_type)t, cases[i].in.p, cases[i].in.len,
                                         cases[i].delimited, NULL),
                             ERR_OK);
            assert_int_equal(b.len, cases[i].out.len);
            assert_memory_equal(b.ptr, cases[i].out.p, b.len);
            buf_free(&b);
        }
    }
}

static void number_keys(void **state)
{
    struct buf a, b;
    struct num n;
    struct err e = {0};

    (void)state;
    buf_init(&a, 0);
    buf_init(&b, 0);
    /* the same bytes in both positions, equal to num_encode_key */
    assert_int_equal(keys_append(&a, KEYS_N, "1.50", 4, true, NULL), ERR_OK);
    assert_int_equal(keys_append(&a, KEYS_N, "1.50", 4, false, NULL), ERR_OK);
    assert_int_equal(num_parse("15e-1", 5, &n, NULL), ERR_OK);
    assert_int_equal(num_encode_key(&n, &b), ERR_OK);
    assert_int_equal(num_encode_key(&n, &b), ERR_OK);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.ptr, b.ptr, a.len);

    buf_reset(&a);
    assert_int_equal(keys_append(&a, KEYS_N, "12x", 3, false, &e), ERR_INVALID);
    assert_string_equal(e.msg, "The parameter cannot be converted to a numeric value: 12x");
    assert_int_equal(keys_append(&a, KEYS_N, "1e200", 5, true, &e), ERR_INVALID);
    assert_string_equal(e.msg, "Number overflow. Attempting to store a number with magnitude "
                               "larger than supported range");
    buf_free(&a);
    buf_free(&b);
}

static void limit(void **state)
{
    struct buf b;
    struct err e = {0};

    (void)state;
    buf_init(&b, 4);
    assert_int_equal(keys_append(&b, KEYS_S, "abcdef", 6, false, &e), ERR_TOO_LARGE);
    assert_int_equal(keys_append(&b, KEYS_S, "a\0c", 3, true, &e), ERR_TOO_LARGE);
    assert_int_equal(e.code, ERR_TOO_LARGE);
    buf_free(&b);
}

struct item {
    uint64_t table;
    enum keys_type pkt, skt;
    struct bytes pk, sk;
    struct buf key;
};

static void encode_item(struct item *it)
{
    buf_init(&it->key, 0);
    assert_int_equal(keys_append_table(&it->key, it->table), ERR_OK);
    assert_int_equal(keys_append(&it->key, it->pkt, it->pk.p, it->pk.len, true, NULL), ERR_OK);
    assert_int_equal(keys_append(&it->key, it->skt, it->sk.p, it->sk.len, false, NULL), ERR_OK);
}

static int num_text_cmp(const struct bytes *a, const struct bytes *b)
{
    struct num x, y;

    assert_int_equal(num_parse(a->p, a->len, &x, NULL), ERR_OK);
    assert_int_equal(num_parse(b->p, b->len, &y, NULL), ERR_OK);
    return sgn(num_cmp(&x, &y));
}

static int attr_cmp(enum keys_type t, const struct bytes *a, const struct bytes *b)
{
    if (t == KEYS_N)
        return num_text_cmp(a, b);
    return bytes_cmp(a->p, a->len, b->p, b->len);
}

/* DynamoDB's order: table, then partition key, then sort key. (Tables of one
 * id share key types; mixed types here only within distinct tables.) */
static int model_cmp(const struct item *a, const struct item *b)
{
    int c;

    if (a->table != b->table)
        return a->table < b->table ? -1 : 1;
    if ((c = attr_cmp(a->pkt, &a->pk, &b->pk)))
        return c;
    return attr_cmp(a->skt, &a->sk, &b->sk);
}

static void composite_order(void **state)
{
    static const struct bytes spk[] = {B(""),      B("\0"),  B("\0\0"),  B("\0\x01"),
                                       B("a"),     B("a\0"), B("a\0\0"), B("a\0\xff"),
                                       B("a\x01"), B("ab"),  B("b"),     B("\xff")};
    static const struct bytes ssk[] = {B(""),         B("\0"), B("\0\0"), B("\x01"), B("\xff"),
                                       B("\xff\xff"), B("a"),  B("ab"),   B("abc"),  B("b")};
    static const struct bytes nums[] = {B("-1e100"), B("-10"),    B("-1.5"), B("-1"), B("-0.5"),
                                        B("0"),      B("1e-130"), B("0.5"),  B("1"),  B("1.5"),
                                        B("10"),     B("100"),    B("1e125")};
    enum {
        NS = sizeof(spk) / sizeof(spk[0]),
        NK = sizeof(ssk) / sizeof(ssk[0]),
        NN = sizeof(nums) / sizeof(nums[0])
    };
    struct item *items = calloc(2 * NS * NK + 2 * NN * NN + 8, sizeof(*items));
    size_t n = 0;

    (void)state;
    /* table 7: S partition key, S sort key; table 8: B/B */
    for (int t = 0; t < 2; t++)
        for (size_t i = 0; i < NS; i++)
            for (size_t j = 0; j < NK; j++)
                items[n++] = (struct item){.table = 7 + (uint64_t)t,
                                           .pkt = t ? KEYS_B : KEYS_S,
                                           .skt = t ? KEYS_B : KEYS_S,
                                           .pk = spk[i],
                                           .sk = ssk[j]};
    /* table 9: N/N; table 10: S partition key from the numbers' text, N sort key */
    for (size_t i = 0; i < NN; i++)
        for (size_t j = 0; j < NN; j++) {
            items[n++] = (struct item){
                .table = 9, .pkt = KEYS_N, .skt = KEYS_N, .pk = nums[i], .sk = nums[j]};
            items[n++] = (struct item){
                .table = 10, .pkt = KEYS_S, .skt = KEYS_N, .pk = nums[i], .sk = nums[j]};
        }
    for (size_t i = 0; i < n; i++)
        encode_item(&items[i]);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            int want = model_cmp(&items[i], &items[j]);
            int got =
                bytes_cmp(items[i].key.ptr, items[i].key.len, items[j].key.ptr, items[j].key.len);
            if (want != got)
                fail_msg("items %zu and %zu (table %llu): model %d, encoding %d", i, j,
                         (unsigned long long)items[i].table, want, got);
        }
    }
    for (size_t i = 0; i < n; i++)
        buf_free(&items[i].key);
    free(items);
}

/* begins_with on an S/B sort key is a byte-prefix range on the full key, and
 * the range holds exactly the partition's items with that prefix. */
static void sort_key_prefix(void **state)
{
    static const struct bytes pks[] = {B("a"), B("a\0"), B("ab")};
    static const struct bytes sks[] = {B("a"),       B("ab"), B("ab\0"), B("abc"),
                                       B("abd\xff"), B("ac"), B("b"),    B("")};
    struct buf prefix;

    (void)state;
    buf_init(&prefix, 0);
    assert_int_equal(keys_append_table(&prefix, 1), ERR_OK);
    assert_int_equal(keys_append(&prefix, KEYS_S, "a", 1, true, NULL), ERR_OK);
    assert_int_equal(keys_append(&prefix, KEYS_S, "ab", 2, false, NULL), ERR_OK);
    for (size_t i = 0; i < sizeof(pks) / sizeof(pks[0]); i++) {
        for (size_t j = 0; j < sizeof(sks) / sizeof(sks[0]); j++) {
            struct item it = {.table = 1, .pkt = KEYS_S, .skt = KEYS_S, .pk = pks[i], .sk = sks[j]};
            bool want = pks[i].len == 1 && sks[j].len >= 2 && memcmp(sks[j].p, "ab", 2) == 0;

            encode_item(&it);
            bool got = it.key.len >= prefix.len && memcmp(it.key.ptr, prefix.ptr, prefix.len) == 0;
            assert_int_equal(got, want);
            buf_free(&it.key);
        }
    }
    buf_free(&prefix);
}

/* Keys longer than LMDB allows are stored hashed: still unique, prefix-free,
 * and short enough; sort keys keep their order up to KEYS_SK_HEAD bytes. */
static void long_keys(void **state)
{
    (void)state;
    static char pk[2048], pk2[2048], sk[1024], sk2[1024];
    struct buf a, b, c;

    memset(pk, 'p', sizeof(pk));
    memcpy(pk2, pk, sizeof(pk));
    pk2[2047] = 'q'; /* differs only at the very end */
    memset(sk, 's', sizeof(sk));
    memcpy(sk2, sk, sizeof(sk));
    sk2[10] = 't'; /* sorts after sk within the kept head */
    buf_init(&a, 0);
    buf_init(&b, 0);
    buf_init(&c, 0);
    assert_int_equal(keys_append_table(&a, 1), ERR_OK);
    assert_int_equal(keys_append(&a, KEYS_S, pk, sizeof(pk), true, NULL), ERR_OK);
    assert_true(a.len <= 8 + KEYS_PK_INLINE);
    assert_int_equal(keys_append(&a, KEYS_B, sk, sizeof(sk), false, NULL), ERR_OK);
    assert_true(a.len < 511);
    assert_int_equal(keys_append_table(&b, 1), ERR_OK);
    assert_int_equal(keys_append(&b, KEYS_S, pk2, sizeof(pk2), true, NULL), ERR_OK);
    /* different partitions: the partition parts differ, neither prefixes the other */
    assert_true(memcmp(a.ptr, b.ptr, 8 + KEYS_PK_HEAD + 2 + 32) != 0);
    assert_int_equal(keys_append_table(&c, 1), ERR_OK);
    assert_int_equal(keys_append(&c, KEYS_S, pk, sizeof(pk), true, NULL), ERR_OK);
    size_t plen = c.len;
    assert_memory_equal(a.ptr, c.ptr, plen); /* same partition, same prefix */
    assert_int_equal(keys_append(&c, KEYS_B, sk2, sizeof(sk2), false, NULL), ERR_OK);
    assert_true(bytes_cmp(a.ptr, a.len, c.ptr, c.len) < 0);
    /* a short partition key equal to the long one's head stays distinct */
    buf_reset(&b);
    assert_int_equal(keys_append_table(&b, 1), ERR_OK);
    assert_int_equal(keys_append(&b, KEYS_S, pk, KEYS_PK_HEAD, true, NULL), ERR_OK);
    assert_true(memcmp(a.ptr, b.ptr, b.len) != 0);
    buf_free(&a);
    buf_free(&b);
    buf_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_prefix),    cmocka_unit_test(exact_bytes),
        cmocka_unit_test(number_keys),     cmocka_unit_test(limit),
        cmocka_unit_test(composite_order), cmocka_unit_test(sort_key_prefix),
        cmocka_unit_test(long_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
