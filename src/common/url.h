/* url.h - percent-encoding (RFC 3986) and query strings / HTML form bodies
 * (name=value pairs joined by '&'), as S3, IAM, STS and Lambda URLs send them.
 *
 * Decoding is form decoding: "%XX" (either case) is that byte, '+' is a space,
 * and a '%' not followed by two hex digits stays as it is. */
#ifndef TANDEM_URL_H
#define TANDEM_URL_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "buf.h"

/* url_hexval - the value of hex digit @c, or -1. */
int url_hexval(char c);

/* url_decode_to - form-decode @n bytes of @s into @out (@cap bytes, NUL
 * terminated). Returns false when the result and its NUL do not fit. */
bool url_decode_to(const char *s, size_t n, char *out, size_t cap);

/* url_decode - form-decode @n bytes of @s; NUL-terminated, arena. */
char *url_decode(struct arena *a, const char *s, size_t n);

/* url_encode_buf - append @s percent-encoded to @b: every byte but the
 * unreserved A-Z a-z 0-9 - _ . ~ (and '/' when @keep_slash) as "%XX",
 * uppercase hex. */
void url_encode_buf(struct buf *b, const char *s, bool keep_slash);

/* url_encode - url_encode_buf() into a NUL-terminated string, arena. */
char *url_encode(struct arena *a, const char *s, bool keep_slash);

/* One name[=value] pair of a query string, borrowed from it, still encoded. */
struct url_param {
    const char *key;
    size_t key_len; /* up to the first '=' */
    const char *val;
    size_t val_len; /* 0 and @val at the segment's end when there is no '=' */
    bool has_val;   /* the pair had an '=' */
};

/*
 * url_query_next - the next non-empty pair of the @len bytes at @s from byte
 * *@pos (start at 0); *@pos moves past it. Empty pairs ("a=1&&b=2") are
 * skipped. Returns false when there are no more.
 */
bool url_query_next(const char *s, size_t len, size_t *pos, struct url_param *p);

/* url_query_find - the first pair of NUL-terminated @query (may be NULL)
 * whose encoded name is exactly @name (not empty) into @p; false when none. */
bool url_query_find(const char *query, const char *name, struct url_param *p);

#endif
