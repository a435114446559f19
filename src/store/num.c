/* num.c - see num.h.
 *
 * A valid number is 0.d1d2...dn x 10^exp with d1 != 0, dn != 0, n <= 38, so
 * its magnitude lies in [10^(exp-1), 10^exp). DynamoDB's range 1E-130 ..
 * 9.99...E+125 is therefore exactly -129 <= exp <= 126. */
#include "num.h"

#include <gmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum {
    NUM_EXP_MIN = -129,
    NUM_EXP_MAX = 126,
    /* key encoding: exp + NUM_KEY_EXP_BIAS is 0..255 */
    NUM_KEY_EXP_BIAS = 129,
    NUM_KEY_NEG = 0x01,
    NUM_KEY_ZERO = 0x02,
    NUM_KEY_POS = 0x03,
};

/* Exponents in the text are clamped to this, far outside any valid range but
 * small enough that adding the digit count cannot overflow a long long. */
#define EXP_CLAMP 1000000000LL

static const char MSG_DIGITS[] = "Attempting to store more than 38 significant digits in a Number";
static const char MSG_OVERFLOW[] =
    "Number overflow. Attempting to store a number with magnitude larger than supported range";
static const char MSG_UNDERFLOW[] =
    "Number underflow. Attempting to store a number with magnitude smaller than supported range";

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static enum err_code bad_text(const char *s, size_t len, struct err *e)
{
    return err_set(e, ERR_INVALID, "The parameter cannot be converted to a numeric value: %.*s",
                   (int)(len > 200 ? 200 : len), s);
}

/* check_range - the precision and range checks shared by parse and arithmetic.
 * @arith: a sum or difference, whose need for more than 38 digits DynamoDB
 * reports as an overflow whatever its magnitude (1E+50 - 1 is "Number
 * overflow"); a number as written gets the significant-digits message. */
static enum err_code check_range(unsigned long long ndigits, long long exp, bool arith,
                                 struct err *e)
{
    /* Range first: DynamoDB reports 9.99..9E+125 + 1E+125 (39 digits, too
     * large) as an overflow. */
    if (exp > NUM_EXP_MAX)
        return err_set(e, ERR_INVALID, "%s", MSG_OVERFLOW);
    if (exp < NUM_EXP_MIN)
        return err_set(e, ERR_INVALID, "%s", MSG_UNDERFLOW);
    if (ndigits > NUM_MAX_DIGITS)
        return err_set(e, ERR_INVALID, "%s", arith ? MSG_OVERFLOW : MSG_DIGITS);
    return ERR_OK;
}

static void set_zero(struct num *out)
{
    out->sign = 0;
    out->exp = 0;
    out->ndigits = 0;
    out->digits[0] = '\0';
}

enum err_code num_parse(const char *s, size_t len, struct num *out, struct err *e)
{
    size_t i = 0, mstart, mend;
    int sign = 1;
    long long intdigits = 0, nmant = 0, first = -1, last = -1, x = 0;
    bool seen_point = false;

    if (i < len && (s[i] == '+' || s[i] == '-')) {
        sign = s[i] == '-' ? -1 : 1;
        i++;
    }
    mstart = i;
    /* Mantissa: digits with at most one point; index digits as they come,
     * skipping the point, and note the first and last nonzero ones. */
    for (; i < len; i++) {
        if (is_digit(s[i])) {
            if (s[i] != '0') {
                if (first < 0)
                    first = nmant;
                last = nmant;
            }
            nmant++;
            if (!seen_point)
                intdigits++;
        } else if (s[i] == '.' && !seen_point) {
            seen_point = true;
        } else {
            break;
        }
    }
    mend = i;
    if (nmant == 0)
        return bad_text(s, len, e);
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        int xsign = 1;
        size_t xdigits = 0;

        i++;
        if (i < len && (s[i] == '+' || s[i] == '-')) {
            xsign = s[i] == '-' ? -1 : 1;
            i++;
        }
        for (; i < len && is_digit(s[i]); i++, xdigits++) {
            if (x < EXP_CLAMP)
                x = x * 10 + (s[i] - '0');
        }
        if (xdigits == 0)
            return bad_text(s, len, e);
        if (x > EXP_CLAMP)
            x = EXP_CLAMP;
        x *= xsign;
    }
    if (i != len)
        return bad_text(s, len, e);
    if (first < 0) {
        set_zero(out);
        return ERR_OK;
    }

    unsigned long long nsig = (unsigned long long)(last - first + 1);
    long long exp = intdigits - first + x;
    enum err_code rc = check_range(nsig, exp, false, e);
    if (rc)
        return rc;

    /* Copy digits first..last (mantissa indexes), skipping the point. */
    long long idx = 0;
    unsigned n = 0;
    for (size_t j = mstart; j < mend && idx <= last; j++) {
        if (s[j] == '.')
            continue;
        if (idx >= first)
            out->digits[n++] = s[j];
        idx++;
    }
    out->digits[n] = '\0';
    out->ndigits = n;
    out->sign = sign;
    out->exp = (int)exp;
    return ERR_OK;
}

enum err_code num_format(const struct num *n, struct buf *out)
{
    enum err_code rc;

    if (n->sign == 0)
        return buf_putc(out, '0');
    if (n->sign < 0 && (rc = buf_putc(out, '-')))
        return rc;
    if (n->exp <= 0) {
        if ((rc = buf_puts(out, "0.")))
            return rc;
        for (int i = 0; i < -n->exp; i++)
            if ((rc = buf_putc(out, '0')))
                return rc;
        return buf_append(out, n->digits, n->ndigits);
    }
    if ((unsigned)n->exp < n->ndigits) {
        if ((rc = buf_append(out, n->digits, (size_t)n->exp)) || (rc = buf_putc(out, '.')))
            return rc;
        return buf_append(out, n->digits + n->exp, n->ndigits - (unsigned)n->exp);
    }
    if ((rc = buf_append(out, n->digits, n->ndigits)))
        return rc;
    for (unsigned i = n->ndigits; i < (unsigned)n->exp; i++)
        if ((rc = buf_putc(out, '0')))
            return rc;
    return ERR_OK;
}

/* cmp_mag - compare magnitudes of two nonzero numbers. */
static int cmp_mag(const struct num *a, const struct num *b)
{
    if (a->exp != b->exp)
        return a->exp < b->exp ? -1 : 1;
    /* No trailing zeros, so a shorter digit string that is a prefix of the
     * longer one is the smaller value; strcmp orders '\0' before '0'. */
    int c = strcmp(a->digits, b->digits);
    return c < 0 ? -1 : c > 0;
}

int num_cmp(const struct num *a, const struct num *b)
{
    if (a->sign != b->sign)
        return a->sign < b->sign ? -1 : 1;
    if (a->sign == 0)
        return 0;
    return a->sign * cmp_mag(a, b);
}

/* to_mpz - set @z to the integer mantissa of @n scaled so @n = z x 10^@scale. */
static void to_mpz(mpz_t z, const struct num *n, int scale)
{
    mpz_set_ui(z, 0);
    if (n->sign == 0)
        return;
    mpz_set_str(z, n->digits, 10);
    /* n = digits x 10^(exp - ndigits) */
    int shift = n->exp - (int)n->ndigits - scale;
    if (shift > 0) {
        mpz_t p;
        mpz_init(p);
        mpz_ui_pow_ui(p, 10, (unsigned long)shift);
        mpz_mul(z, z, p);
        mpz_clear(p);
    }
    if (n->sign < 0)
        mpz_neg(z, z);
}

static int low_scale(const struct num *n)
{
    return n->sign == 0 ? 0 : n->exp - (int)n->ndigits;
}

static enum err_code add_signed(const struct num *a, const struct num *b, int bsign,
                                struct num *out, struct err *e)
{
    mpz_t za, zb;
    char *str = NULL;
    enum err_code rc = ERR_OK;
    int scale = 0;
    struct num bb = *b;

    bb.sign *= bsign;
    /* Align both mantissas to the smaller of the two lowest digit positions. */
    if (a->sign != 0)
        scale = low_scale(a);
    if (b->sign != 0 && (a->sign == 0 || low_scale(b) < scale))
        scale = low_scale(b);
    mpz_init(za);
    mpz_init(zb);
    to_mpz(za, a, scale);
    to_mpz(zb, &bb, scale);
    mpz_add(za, za, zb);

    int sign = mpz_sgn(za);
    if (sign == 0) {
        set_zero(out);
        goto out;
    }
    mpz_abs(za, za);
    str = mpz_get_str(NULL, 10, za);
    size_t len = strlen(str);
    size_t nz = len;
    while (nz > 0 && str[nz - 1] == '0')
        nz--;
    /* value = str x 10^scale = 0.str x 10^(len + scale) */
    long long exp = (long long)len + scale;
    rc = check_range(nz, exp, true, e);
    if (rc)
        goto out;
    memcpy(out->digits, str, nz);
    out->digits[nz] = '\0';
    out->ndigits = (unsigned)nz;
    out->exp = (int)exp;
    out->sign = sign;
out:
    if (str) {
        void (*freefn)(void *, size_t);
        mp_get_memory_functions(NULL, NULL, &freefn);
        freefn(str, strlen(str) + 1);
    }
    mpz_clear(za);
    mpz_clear(zb);
    return rc;
}

enum err_code num_add(const struct num *a, const struct num *b, struct num *out, struct err *e)
{
    return add_signed(a, b, 1, out, e);
}

enum err_code num_sub(const struct num *a, const struct num *b, struct num *out, struct err *e)
{
    return add_signed(a, b, -1, out, e);
}

/*
 * Layout: a sign byte (negative < zero < positive); for nonzero numbers the
 * biased exponent byte, then the digits in pairs as bytes 1..100 (a lone last
 * digit d as 10*d + 1), then a 0x00 terminator that sorts a prefix before its
 * extensions. For negatives every byte after the sign is complemented, so
 * larger magnitudes come first; the terminator becomes 0xFF, which no
 * complemented pair byte (155..254) equals, so it stays self-delimiting.
 */
enum err_code num_encode_key(const struct num *n, struct buf *out)
{
    unsigned char k[2 + (NUM_MAX_DIGITS + 1) / 2 + 1];
    size_t len = 0;

    if (n->sign == 0) {
        k[len++] = NUM_KEY_ZERO;
        return buf_append(out, k, len);
    }
    unsigned char flip = n->sign < 0 ? 0xFF : 0x00;
    k[len++] = n->sign < 0 ? NUM_KEY_NEG : NUM_KEY_POS;
    k[len++] = (unsigned char)(n->exp + NUM_KEY_EXP_BIAS) ^ flip;
    for (unsigned i = 0; i < n->ndigits; i += 2) {
        unsigned hi = (unsigned)(n->digits[i] - '0');
        unsigned lo = i + 1 < n->ndigits ? (unsigned)(n->digits[i + 1] - '0') : 0;
        k[len++] = (unsigned char)(hi * 10 + lo + 1) ^ flip;
    }
    k[len++] = 0x00 ^ flip;
    return buf_append(out, k, len);
}
