/* test_num.c - DynamoDB number parsing, canonical text, order, arithmetic and
 * the order-preserving key encoding, through num.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "num.h"

static const char MSG_CONVERT[] = "The parameter cannot be converted to a numeric value: ";
static const char MSG_DIGITS[] = "Attempting to store more than 38 significant digits in a Number";
static const char MSG_OVERFLOW[] =
    "Number overflow. Attempting to store a number with magnitude larger than supported range";
static const char MSG_UNDERFLOW[] =
    "Number underflow. Attempting to store a number with magnitude smaller than supported range";

/* rep - @c repeated @n times (static buffer per call site is not needed:
 * the caller frees). */
static char *rep(const char *prefix, char c, int n, const char *suffix)
{
    size_t pl = strlen(prefix), sl = strlen(suffix);
    char *s = malloc(pl + (size_t)n + sl + 1);

    memcpy(s, prefix, pl);
    memset(s + pl, c, (size_t)n);
    memcpy(s + pl + (size_t)n, suffix, sl + 1);
    return s;
}

static struct num parse_ok(const char *s)
{
    struct num n;
    struct err e = {0};

    if (num_parse(s, strlen(s), &n, &e) != ERR_OK)
        fail_msg("num_parse(\"%s\") failed: %s", s, e.msg);
    return n;
}

static char *fmt(const struct num *n)
{
    struct buf b;

    buf_init(&b, 0);
    assert_int_equal(num_format(n, &b), ERR_OK);
    return buf_detach(&b, NULL);
}

static void parse_valid(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"0", "0"},
        {"-0", "0"},
        {"+0", "0"},
        {"0.000", "0"},
        {"00", "0"},
        {".0", "0"},
        {"0e999", "0"},
        {"-0.0e-5000", "0"},
        {"1", "1"},
        {"+1", "1"},
        {"-1", "-1"},
        {"1.50", "1.5"},
        {"0.10", "0.1"},
        {"1E+2", "100"},
        {"1e2", "100"},
        {"1E2", "100"},
        {"-1.5e-3", "-0.0015"},
        {"1e-3", "0.001"},
        {"1E-0", "1"},
        {"1e0001", "10"},
        {"00012.3400", "12.34"},
        {".5", "0.5"},
        {"5.", "5"},
        {"-.5", "-0.5"},
        {"123.456e1", "1234.56"},
        {"123.456e3", "123456"},
        {"123.456e5", "12345600"},
        {"1.23e-1", "0.123"},
        {"12345678901234567890123456789012345678", "12345678901234567890123456789012345678"},
        {"-0.00012345678901234567890123456789012345678",
         "-0.00012345678901234567890123456789012345678"},
        {"1000000000000000000000000000000000000000000",
         "1000000000000000000000000000000000000000000"},
        {"1000000000000000000000000000000000000000000e-40", "100"},
        {"0.0000000000000000000000000000000000000000000000000000001",
         "0.0000000000000000000000000000000000000000000000000000001"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct num n = parse_ok(cases[i].in);
        char *s = fmt(&n);
        if (strcmp(s, cases[i].out) != 0)
            fail_msg("\"%s\": got \"%s\", want \"%s\"", cases[i].in, s, cases[i].out);
        free(s);
    }
}

static void parse_fields(void **state)
{
    struct num n;

    (void)state;
    n = parse_ok("-001.2300e2");
    assert_int_equal(n.sign, -1);
    assert_int_equal(n.exp, 3);
    assert_int_equal(n.ndigits, 3);
    assert_string_equal(n.digits, "123");
    n = parse_ok("0.000");
    assert_int_equal(n.sign, 0);
    assert_int_equal(n.ndigits, 0);
}

static void parse_range_boundaries(void **state)
{
    char *max = rep("9.", '9', 37, "E+125");
    char *max_text = rep("", '9', 38, "");
    char *max_want;
    char *min_want = rep("0.", '0', 129, "1");
    struct num n;
    char *s;

    (void)state;
    /* the largest magnitude: 38 nines then 88 zeros */
    max_want = malloc(127);
    memcpy(max_want, max_text, 38);
    memset(max_want + 38, '0', 88);
    max_want[126] = '\0';
    n = parse_ok(max);
    s = fmt(&n);
    assert_string_equal(s, max_want);
    free(s);

    n = parse_ok("1E-130");
    s = fmt(&n);
    assert_string_equal(s, min_want);
    assert_int_equal(strlen(s), 132);
    free(s);

    n = parse_ok("-1e-130");
    s = fmt(&n);
    assert_int_equal(s[0], '-');
    assert_string_equal(s + 1, min_want);
    free(s);

    n = parse_ok("1e125");
    s = fmt(&n);
    assert_int_equal(strlen(s), 126);
    assert_int_equal(s[0], '1');
    assert_int_equal(strspn(s + 1, "0"), 125);
    free(s);

    free(max);
    free(max_text);
    free(max_want);
    free(min_want);
}

static void parse_invalid(void **state)
{
    static const struct {
        const char *in;
        size_t len; /* 0: strlen */
        const char *msg;
    } cases[] = {
        {"", 0, NULL},
        {"+", 0, NULL},
        {"-", 0, NULL},
        {".", 0, NULL},
        {"-.", 0, NULL},
        {"e5", 0, NULL},
        {".e1", 0, NULL},
        {"1e", 0, NULL},
        {"1e+", 0, NULL},
        {"1e-", 0, NULL},
        {"1.2.3", 0, NULL},
        {"1..2", 0, NULL},
        {" 1", 0, NULL},
        {"1 ", 0, NULL},
        {"0x10", 0, NULL},
        {"inf", 0, NULL},
        {"-Infinity", 0, NULL},
        {"nan", 0, NULL},
        {"NaN", 0, NULL},
        {"--1", 0, NULL},
        {"+-1", 0, NULL},
        {"1e2.5", 0, NULL},
        {"1e2e3", 0, NULL},
        {"1,000", 0, NULL},
        {"\xd9\xa1", 0, NULL},
        {"1\0", 2, NULL},
        {"123456789012345678901234567890123456789", 0, MSG_DIGITS},
        {"1.00000000000000000000000000000000000001", 0, MSG_DIGITS},
        {"-0.000123456789012345678901234567890123456789", 0, MSG_DIGITS},
        {"1e126", 0, MSG_OVERFLOW},
        {"1E+126", 0, MSG_OVERFLOW},
        {"-1e126", 0, MSG_OVERFLOW},
        {"10e125", 0, MSG_OVERFLOW},
        {"1e99999999999999999999999", 0, MSG_OVERFLOW},
        {"1e-131", 0, MSG_UNDERFLOW},
        {"0.99e-130", 0, MSG_UNDERFLOW},
        {"-1e-131", 0, MSG_UNDERFLOW},
        {"1e-99999999999999999999999", 0, MSG_UNDERFLOW},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].in);
        struct num n;
        struct err e = {0};

        if (num_parse(cases[i].in, len, &n, &e) != ERR_INVALID)
            fail_msg("\"%s\" was accepted", cases[i].in);
        assert_int_equal(e.code, ERR_INVALID);
        if (cases[i].msg) {
            if (strcmp(e.msg, cases[i].msg) != 0)
                fail_msg("\"%s\": message \"%s\"", cases[i].in, e.msg);
        } else {
            assert_memory_equal(e.msg, MSG_CONVERT, strlen(MSG_CONVERT));
            if (len == strlen(cases[i].in))
                assert_string_equal(e.msg + strlen(MSG_CONVERT), cases[i].in);
        }
    }
}

static void parse_long_inputs(void **state)
{
    /* many insignificant zeros are fine; many significant digits are not */
    char *zeros = rep("0.", '0', 100000, "1e+100000");
    char *digits = rep("0.", '1', 100000, "");
    struct num n;
    struct err e = {0};

    (void)state;
    n = parse_ok(zeros); /* 0.1 */
    assert_int_equal(n.exp, 0);
    assert_string_equal(n.digits, "1");
    assert_int_equal(num_parse(digits, strlen(digits), &n, &e), ERR_INVALID);
    assert_string_equal(e.msg, MSG_DIGITS);
    free(zeros);
    free(digits);
}

static void format_limit(void **state)
{
    struct num n = parse_ok("1e125");
    struct buf b;

    (void)state;
    buf_init(&b, 16);
    assert_int_equal(num_format(&n, &b), ERR_TOO_LARGE);
    buf_free(&b);
}

static int sgn(int x)
{
    return (x > 0) - (x < 0);
}

struct enc {
    unsigned char b[32];
    size_t len;
};

static struct enc encode(const struct num *n)
{
    struct enc r;
    struct buf b;

    buf_init(&b, 0);
    assert_int_equal(num_encode_key(n, &b), ERR_OK);
    assert_true(b.len <= sizeof(r.b));
    memcpy(r.b, b.ptr, b.len);
    r.len = b.len;
    buf_free(&b);
    return r;
}

static int enc_cmp(const struct enc *a, const struct enc *b)
{
    size_t m = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->b, b->b, m);

    if (c)
        return sgn(c);
    return a->len < b->len ? -1 : a->len > b->len;
}

/* check_pair - num_cmp and the encodings agree, and neither encoding of two
 * different numbers is a prefix of the other (self-delimiting). */
static void check_pair(const struct num *a, const struct num *b)
{
    struct enc ea = encode(a), eb = encode(b);
    int c = sgn(num_cmp(a, b));

    assert_int_equal(sgn(num_cmp(b, a)), -c);
    if (enc_cmp(&ea, &eb) != c) {
        char *sa = fmt(a), *sb = fmt(b);
        fail_msg("order of %s and %s: num_cmp %d, encoding %d", sa, sb, c, enc_cmp(&ea, &eb));
    }
    if (c != 0) {
        size_t m = ea.len < eb.len ? ea.len : eb.len;
        assert_true(memcmp(ea.b, eb.b, m) != 0);
    } else {
        assert_int_equal(ea.len, eb.len);
    }
}

static void order_table(void **state)
{
    static const char *const asc[] = {
        "-9.9999999999999999999999999999999999999E+125",
        "-1e125",
        "-1e100",
        "-123.45",
        "-123.4",
        "-100",
        "-99",
        "-12",
        "-11",
        "-10",
        "-1.0000000000000000000000000000000000001",
        "-1",
        "-0.11",
        "-0.10000000000000000000000000000000000001",
        "-0.1",
        "-1e-129",
        "-1e-130",
        "0",
        "1e-130",
        "1.5e-130",
        "1e-129",
        "0.01",
        "0.1",
        "0.10000000000000000000000000000000000001",
        "0.11",
        "0.9",
        "0.99",
        "1",
        "1.0000000000000000000000000000000000001",
        "1.01",
        "1.1",
        "9",
        "10",
        "10.5",
        "11",
        "12",
        "99",
        "99.99999999999999999999999999999999999",
        "100",
        "123.4",
        "123.45",
        "12345678901234567890123456789012345678",
        "1e100",
        "9.9999999999999999999999999999999999999E+125",
    };
    enum { N = sizeof(asc) / sizeof(asc[0]) };
    struct num n[N];

    (void)state;
    for (size_t i = 0; i < N; i++)
        n[i] = parse_ok(asc[i]);
    for (size_t i = 0; i < N; i++) {
        for (size_t j = 0; j < N; j++) {
            int want = i < j ? -1 : i > j;
            if (sgn(num_cmp(&n[i], &n[j])) != want)
                fail_msg("num_cmp(%s, %s) != %d", asc[i], asc[j], want);
            check_pair(&n[i], &n[j]);
        }
    }
}

static void order_equal_spellings(void **state)
{
    static const char *const same[][2] = {
        {"1", "1.0"}, {"100", "1e2"}, {"-0", "0"}, {"0.5", "5e-1"}, {"-2.50", "-25E-1"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
        struct num a = parse_ok(same[i][0]), b = parse_ok(same[i][1]);
        struct enc ea = encode(&a), eb = encode(&b);

        assert_int_equal(num_cmp(&a, &b), 0);
        assert_int_equal(ea.len, eb.len);
        assert_memory_equal(ea.b, eb.b, ea.len);
    }
}

static struct num random_num(unsigned *seed)
{
    char text[64];
    char *p = text;
    int nd = 1 + rand_r(seed) % NUM_MAX_DIGITS;
    int exp = -129 + rand_r(seed) % 256;

    if (rand_r(seed) % 20 == 0)
        return parse_ok("0");
    /* few distinct digit lengths and exponents, so ties and shared prefixes occur */
    if (rand_r(seed) % 2)
        nd = 1 + rand_r(seed) % 3;
    if (rand_r(seed) % 2)
        exp = -2 + rand_r(seed) % 5;
    if (rand_r(seed) % 2)
        *p++ = '-';
    *p++ = '0';
    *p++ = '.';
    for (int i = 0; i < nd; i++) {
        int d = rand_r(seed) % 10;
        if ((i == 0 || i == nd - 1) && d == 0)
            d = 1 + rand_r(seed) % 9;
        *p++ = (char)('0' + d);
    }
    snprintf(p, sizeof(text) - (size_t)(p - text), "e%d", exp);
    return parse_ok(text);
}

static int cmp_nums(const void *a, const void *b)
{
    return num_cmp(a, b);
}

static void order_random(void **state)
{
    enum { N = 5000 };
    struct num *n = malloc(N * sizeof(*n));
    unsigned seed = 12345;

    (void)state;
    for (int i = 0; i < N; i++) {
        n[i] = random_num(&seed);
        /* round trip through the canonical text */
        char *s = fmt(&n[i]);
        struct num back = parse_ok(s);
        assert_int_equal(num_cmp(&back, &n[i]), 0);
        assert_string_equal(back.digits, n[i].digits);
        assert_int_equal(back.exp, n[i].exp);
        free(s);
    }
    qsort(n, N, sizeof(*n), cmp_nums);
    for (int i = 0; i + 1 < N; i++) {
        struct enc a = encode(&n[i]), b = encode(&n[i + 1]);
        int c = sgn(num_cmp(&n[i], &n[i + 1]));

        assert_true(c <= 0);
        assert_int_equal(enc_cmp(&a, &b), c);
    }
    for (int i = 0; i < 20000; i++)
        check_pair(&n[rand_r(&seed) % N], &n[rand_r(&seed) % N]);
    free(n);
}

static void arithmetic(void **state)
{
    char *max = rep("9.", '9', 37, "E+125");
    const struct {
        const char *a;
        char op;
        const char *b;
        const char *want; /* canonical result, or NULL */
        const char *msg;  /* error message when want is NULL */
    } cases[] = {
        {"1", '+', "2", "3", NULL},
        {"0.1", '+', "0.2", "0.3", NULL},
        {"0.3", '-', "0.1", "0.2", NULL},
        {"1", '-', "1", "0", NULL},
        {"-5", '+', "3", "-2", NULL},
        {"0", '+', "0", "0", NULL},
        {"0", '-', "7", "-7", NULL},
        {"7", '+', "0", "7", NULL},
        {"7", '-', "-0", "7", NULL},
        {"1.5", '+', "-1.5", "0", NULL},
        {"1e-5", '+', "1e5", "100000.00001", NULL},
        {"100000000000000000000.00000001", '-', "1", "99999999999999999999.00000001", NULL},
        {"99999999999999999999999999999999999999", '+', "1",
         "100000000000000000000000000000000000000", NULL},
        {"12345678901234567890123456789012345678", '+', "1",
         "12345678901234567890123456789012345679", NULL},
        {"-2", '-', "-3", "1", NULL},
        {"1e-130", '-', "1e-130", "0", NULL},
        {"1e125", '-', "1e125", "0", NULL},
        {max, '+', "1E+125", NULL, MSG_OVERFLOW}, /* 39 digits too: overflow wins */
        {"1e-130", '+', "1e-129",
         "0.00000000000000000000000000000000000000000000000000000000000"
         "00000000000000000000000000000000000000000000000000000000000"
         "000000000011",
         NULL},
        {"-1e125", '-', "9e125", NULL, MSG_OVERFLOW},
        {"1.1e-130", '-', "1e-130", NULL, MSG_UNDERFLOW},
        /* a result needing more than 38 digits is an overflow, whatever its size */
        {"1e20", '+', "1e-20", NULL, MSG_OVERFLOW},
        {"12345678901234567890123456789012345678", '+', "0.1", NULL, MSG_OVERFLOW},
        {"1e50", '-', "1", NULL, MSG_OVERFLOW},
        {"1e50", '+', "1", NULL, MSG_OVERFLOW},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct num a = parse_ok(cases[i].a), b = parse_ok(cases[i].b), r;
        struct err e = {0};
        enum err_code rc = cases[i].op == '+' ? num_add(&a, &b, &r, &e) : num_sub(&a, &b, &r, &e);

        if (cases[i].want) {
            if (rc != ERR_OK)
                fail_msg("%s %c %s: %s", cases[i].a, cases[i].op, cases[i].b, e.msg);
            char *s = fmt(&r);
            if (strcmp(s, cases[i].want) != 0)
                fail_msg("%s %c %s = %s, want %s", cases[i].a, cases[i].op, cases[i].b, s,
                         cases[i].want);
            free(s);
        } else {
            assert_int_equal(rc, ERR_INVALID);
            assert_string_equal(e.msg, cases[i].msg);
        }
    }
    free(max);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_valid),
        cmocka_unit_test(parse_fields),
        cmocka_unit_test(parse_range_boundaries),
        cmocka_unit_test(parse_invalid),
        cmocka_unit_test(parse_long_inputs),
        cmocka_unit_test(format_limit),
        cmocka_unit_test(order_table),
        cmocka_unit_test(order_equal_spellings),
        cmocka_unit_test(order_random),
        cmocka_unit_test(arithmetic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
