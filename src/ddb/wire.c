/* wire.c - gzip requests, gzip and deflate answers. See wire.h. */
#include "wire.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <zlib.h>

/* ---- Accept-Encoding ---- */

static bool is_space(char ch)
{
    return ch == ' ' || ch == '\t';
}

/* trim - narrow [*b, *e) past blanks on both sides. */
static void trim(const char **b, const char **e)
{
    while (*b < *e && is_space(**b))
        (*b)++;
    while (*e > *b && is_space((*e)[-1]))
        (*e)--;
}

static bool token_is(const char *b, const char *e, const char *word)
{
    size_t n = strlen(word);

    return (size_t)(e - b) == n && strncasecmp(b, word, n) == 0;
}

/* weight - the value of a q parameter; 1 when it is not a number, as
 * DynamoDB reads it. */
static double weight(const char *b, const char *e)
{
    char tmp[32], *end;
    double q;
    size_t n = (size_t)(e - b);

    if (n == 0 || n >= sizeof(tmp) || !(b[0] == '-' || b[0] == '.' || (b[0] >= '0' && b[0] <= '9')))
        return 1;
    memcpy(tmp, b, n);
    tmp[n] = '\0';
    q = strtod(tmp, &end);
    if (*end)
        return 1;
    if (!(q > 0))
        return 0;
    return q > 1 ? 1 : q;
}

/* entry_weight - the weight of one list entry [b, e) whose parameters start
 * at @params (after the token): its first q, else 1. */
static double entry_weight(const char *params, const char *e)
{
    const char *p = params;

    while (p < e) {
        const char *pe = memchr(p, ';', (size_t)(e - p));
        const char *eq, *nb = p, *ne;

        if (!pe)
            pe = e;
        eq = memchr(p, '=', (size_t)(pe - p));
        ne = eq ? eq : pe;
        trim(&nb, &ne);
        if (eq && token_is(nb, ne, "q")) {
            const char *vb = eq + 1, *ve = pe;

            trim(&vb, &ve);
            return weight(vb, ve);
        }
        p = pe + (pe < e);
    }
    return 1;
}

enum ddb_wire_enc ddb_wire_accept(const char *accept)
{
    static const char *const names[] = {"gzip", "deflate"};
    double own[2] = {-1, -1}, star = -1;
    int pos[2] = {0, 0}, n = 0, best = -1;
    double best_q = 0;
    bool best_own = false;
    const char *p = accept;

    while (p && *p) {
        const char *e = strchr(p, ','), *tb = p, *te;
        double q;

        if (!e)
            e = p + strlen(p);
        te = memchr(p, ';', (size_t)(e - p));
        if (!te)
            te = e;
        trim(&tb, &te);
        n++;
        if (tb < te) {
            q = entry_weight(te, e);
            if (token_is(tb, te, "*") && q > star)
                star = q;
            for (int i = 0; i < 2; i++) {
                if (!token_is(tb, te, names[i]))
                    continue;
                if (own[i] < 0)
                    pos[i] = n;
                if (q > own[i])
                    own[i] = q;
            }
        }
        p = *e ? e + 1 : e;
    }
    for (int i = 0; i < 2; i++) {
        bool named = own[i] >= 0;
        double q = named ? own[i] : star;

        if (q <= 0)
            continue;
        if (best < 0 || q > best_q || (q == best_q && named && !best_own) ||
            (q == best_q && named && best_own && pos[i] < pos[best])) {
            best = i;
            best_q = q;
            best_own = named;
        }
    }
    return best < 0 ? DDB_WIRE_IDENTITY : best == 0 ? DDB_WIRE_GZIP : DDB_WIRE_DEFLATE;
}

/* ---- request bodies ---- */

enum err_code ddb_wire_decode(struct buf *body, const char *enc, struct err *e)
{
    const char *b = enc, *end = enc + strlen(enc);
    z_stream zs;
    struct buf out;
    unsigned char chunk[16384];
    int zr = Z_OK;
    enum err_code rc = ERR_OK;

    trim(&b, &end);
    if (token_is(b, end, "identity"))
        return ERR_OK;
    if (!token_is(b, end, "gzip"))
        return err_set(e, ERR_INVALID, "Unsupported Content-Encoding: %.40s", enc);
    if (body->len == 0)
        return err_set(e, ERR_INVALID, "The request body is not valid gzip data");
    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, 15 + 16) != Z_OK) /* gzip wrapper only */
        return err_set(e, ERR_INTERNAL, "Cannot decode the request body");
    buf_init(&out, DDB_WIRE_MAX_BODY);
    zs.next_in = (Bytef *)body->ptr;
    zs.avail_in = (uInt)body->len;
    /* one gzip member after another, until the input ends at a member's end */
    while (rc == ERR_OK) {
        zs.next_out = chunk;
        zs.avail_out = sizeof(chunk);
        zr = inflate(&zs, Z_NO_FLUSH);
        if (zr != Z_OK && zr != Z_STREAM_END) {
            rc = err_set(e, ERR_INVALID, "The request body is not valid gzip data");
            break;
        }
        if (buf_append(&out, chunk, sizeof(chunk) - zs.avail_out) != ERR_OK) {
            rc = err_set(e, ERR_TOO_LARGE, "Request payload size exceeded the limit");
            break;
        }
        if (zr == Z_STREAM_END) {
            if (zs.avail_in == 0)
                break;
            inflateReset(&zs);
        } else if (zs.avail_in == 0 && zs.avail_out != 0) {
            rc = err_set(e, ERR_INVALID, "The request body is not valid gzip data");
        }
    }
    inflateEnd(&zs);
    if (rc != ERR_OK) {
        buf_free(&out);
        return rc;
    }
    if (!out.ptr)
        buf_append(&out, "", 0);
    buf_free(body);
    *body = out;
    body->limit = 0;
    return ERR_OK;
}

size_t ddb_wire_utf8_bad(const char *p, size_t n)
{
    const unsigned char *s = (const unsigned char *)p;
    size_t i = 0;

    while (i < n) {
        unsigned c = s[i], need, lo = 0x80, hi = 0xBF;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            if (c == 0xE0)
                lo = 0xA0; /* overlong */
            else if (c == 0xED)
                hi = 0x9F; /* surrogates */
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            if (c == 0xF0)
                lo = 0x90; /* overlong */
            else if (c == 0xF4)
                hi = 0x8F; /* past U+10FFFF */
        } else {
            return i;
        }
        if (n - i <= need || s[i + 1] < lo || s[i + 1] > hi)
            return i;
        for (unsigned k = 2; k <= need; k++) {
            if (s[i + k] < 0x80 || s[i + k] > 0xBF)
                return i;
        }
        i += need + 1;
    }
    return n;
}

/* ---- answers ---- */

bool ddb_wire_encode(struct buf *body, enum ddb_wire_enc enc)
{
    z_stream zs;
    struct buf out;
    uLong cap;
    int zr;

    memset(&zs, 0, sizeof(zs));
    /* the fastest level: answers are compressed on the request threads */
    if (deflateInit2(&zs, 1, Z_DEFLATED, enc == DDB_WIRE_GZIP ? 15 + 16 : 15, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK)
        return false;
    cap = deflateBound(&zs, (uLong)body->len) + 32; /* + the gzip header and trailer */
    buf_init(&out, 0);
    if (buf_reserve(&out, cap) != ERR_OK) {
        deflateEnd(&zs);
        return false;
    }
    zs.next_in = (Bytef *)body->ptr;
    zs.avail_in = (uInt)body->len;
    zs.next_out = (Bytef *)out.ptr;
    zs.avail_out = (uInt)cap;
    zr = deflate(&zs, Z_FINISH);
    if (zr != Z_STREAM_END) {
        deflateEnd(&zs);
        buf_free(&out);
        return false;
    }
    out.len = zs.total_out;
    out.ptr[out.len] = '\0';
    deflateEnd(&zs);
    buf_free(body);
    *body = out;
    return true;
}
