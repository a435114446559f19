/* num.h - DynamoDB numbers: up to 38 significant decimal digits, magnitude
 * between 1E-130 and 9.9999999999999999999999999999999999999E+125, or zero.
 *
 * A number is kept as sign, significant digits (no leading or trailing
 * zeros) and a decimal exponent; GMP does the arithmetic. num_format() gives
 * the canonical text DynamoDB returns ("1.50" -> "1.5", "1e2" -> "100",
 * "-0" -> "0"). */
#ifndef TANDEM_NUM_H
#define TANDEM_NUM_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

enum { NUM_MAX_DIGITS = 38 };

struct num {
    int sign;                        /* -1, 0 (the number is zero) or +1 */
    int exp;                         /* value = 0.d1d2d3... x 10^exp */
    unsigned ndigits;                /* 0 for zero, else 1..38 */
    char digits[NUM_MAX_DIGITS + 1]; /* ASCII digits, NUL-terminated, no trailing zeros */
};

/*
 * num_parse - parse the text of an N value as DynamoDB accepts it:
 * optional sign, digits with an optional point, optional exponent (e/E);
 * leading and trailing zeros do not count as significant.
 * Returns ERR_OK or ERR_INVALID with DynamoDB's message in @e:
 *   "The parameter cannot be converted to a numeric value: <text>",
 *   "Attempting to store more than 38 significant digits in a Number",
 *   "Number overflow. Attempting to store a number with magnitude larger than supported range",
 *   "Number underflow. Attempting to store a number with magnitude smaller than supported range".
 */
enum err_code num_parse(const char *s, size_t len, struct num *out, struct err *e);

/* num_format - append the canonical text of @n (plain notation, no exponent). */
enum err_code num_format(const struct num *n, struct buf *out);

/* num_cmp - <0, 0, >0 as @a is less than, equal to, greater than @b. */
int num_cmp(const struct num *a, const struct num *b);

/* num_add / num_sub - exact arithmetic; the result must again be a valid
 * DynamoDB number: ERR_INVALID with the underflow message, or with the
 * overflow message both for too large a magnitude and for a result that needs
 * more than 38 significant digits (1E+50 - 1), as DynamoDB answers. */
enum err_code num_add(const struct num *a, const struct num *b, struct num *out, struct err *e);
enum err_code num_sub(const struct num *a, const struct num *b, struct num *out, struct err *e);

/* num_encode_key - append an encoding whose memcmp order is numeric order.
 * The encoding is self-delimiting (it may be followed by other bytes). */
enum err_code num_encode_key(const struct num *n, struct buf *out);

#endif
