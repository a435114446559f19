/* url.c - see url.h. */
#include "url.h"

#include <string.h>

int url_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool url_decode_to(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%' && i + 2 < n && url_hexval(s[i + 1]) >= 0 && url_hexval(s[i + 2]) >= 0) {
            c = (char)(url_hexval(s[i + 1]) * 16 + url_hexval(s[i + 2]));
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (o + 1 >= cap)
            return false;
        out[o++] = c;
    }
    if (!cap)
        return false;
    out[o] = '\0';
    return true;
}

char *url_decode(struct arena *a, const char *s, size_t n)
{
    char *out = arena_alloc(a, n + 1);

    url_decode_to(s, n, out, n + 1); /* decoding never lengthens */
    return out;
}

static bool unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

void url_encode_buf(struct buf *b, const char *s, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";

    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        if (unreserved(*p) || (keep_slash && *p == '/')) {
            buf_putc(b, (char)*p);
        } else {
            buf_putc(b, '%');
            buf_putc(b, hex[*p >> 4]);
            buf_putc(b, hex[*p & 15]);
        }
    }
}

char *url_encode(struct arena *a, const char *s, bool keep_slash)
{
    struct buf b;
    char *out;

    buf_init(&b, 0);
    url_encode_buf(&b, s, keep_slash);
    out = arena_strndup(a, b.ptr ? b.ptr : "", b.len);
    buf_free(&b);
    return out;
}

bool url_query_next(const char *s, size_t len, size_t *pos, struct url_param *p)
{
    size_t i = *pos;

    while (i < len) {
        size_t j = i, eq;
        while (j < len && s[j] != '&')
            j++;
        for (eq = i; eq < j && s[eq] != '='; eq++)
            ;
        if (j > i) {
            p->key = s + i;
            p->key_len = eq - i;
            p->has_val = eq < j;
            p->val = p->has_val ? s + eq + 1 : s + j;
            p->val_len = p->has_val ? j - eq - 1 : 0;
            *pos = j + 1;
            return true;
        }
        i = j + 1;
    }
    *pos = i;
    return false;
}

bool url_query_find(const char *query, const char *name, struct url_param *p)
{
    size_t pos = 0, len = query ? strlen(query) : 0, nl = strlen(name);

    while (url_query_next(query, len, &pos, p))
        if (p->key_len == nl && memcmp(p->key, name, nl) == 0)
            return true;
    return false;
}
