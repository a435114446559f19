/* sigv4.c - see sigv4.h.
 *
 * Follows "Signature Version 4 signing process" (AWS General Reference) and,
 * for S3, "Authenticating Requests (AWS Signature Version 4)" in the S3 API
 * reference. Messages are AWS's own wording so that SDK users recognise them. */
#include "sigv4.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "codec.h"
#include "mem.h"

#define SIGV4_ALGORITHM    "AWS4-HMAC-SHA256"
#define SIGV4_TERMINATOR   "aws4_request"
#define SIGV4_MAX_SKEW     (15 * 60)
#define SIGV4_MAX_EXPIRES  604800
#define SIGV4_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static const char sigv4_mismatch_msg[] =
    "The request signature we calculated does not match the signature you provided. Check "
    "your AWS Secret Access Key and signing method. Consult the service documentation for "
    "details.";

/* ---- hashing ---------------------------------------------------------- */

/* SHA-256 fetched once: EVP_sha256() and HMAC() look the algorithm up again on
 * every call (a lock and a hash table), which cost more than the hashing of a
 * small request. The fetched method lives for the process; each thread keeps
 * one digest context (freed when the thread ends), reset by every use. */
static EVP_MD *sigv4_md_fetched;
static pthread_once_t sigv4_md_once = PTHREAD_ONCE_INIT;
static pthread_key_t sigv4_ctx_key;

static void sigv4_ctx_free(void *p)
{
    EVP_MD_CTX_free(p);
}

/* A thread's HMAC state for the last signing key it verified with: the
 * digest of the key's inner and outer pad blocks, so each signature hashes
 * the string to sign and the inner digest only (two pad blocks fewer). */
struct sigv4_mac_state {
    bool ready;
    unsigned char key[32];
    EVP_MD_CTX *in, *out;
};

static pthread_key_t sigv4_mac_key;

static void sigv4_mac_free(void *p)
{
    struct sigv4_mac_state *m = p;

    EVP_MD_CTX_free(m->in);
    EVP_MD_CTX_free(m->out);
    OPENSSL_cleanse(m->key, sizeof(m->key));
    free(m);
}

static void sigv4_md_init(void)
{
    sigv4_md_fetched = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (pthread_key_create(&sigv4_ctx_key, sigv4_ctx_free) != 0 ||
        pthread_key_create(&sigv4_mac_key, sigv4_mac_free) != 0) {
        fputs("sigv4: pthread_key_create failed\n", stderr);
        abort();
    }
}

static const EVP_MD *sigv4_md(void)
{
    pthread_once(&sigv4_md_once, sigv4_md_init);
    return sigv4_md_fetched ? sigv4_md_fetched : EVP_sha256();
}

/* sigv4_ctx - this thread's digest context (never nested: every user
 * finishes its digest before the next one starts). */
static EVP_MD_CTX *sigv4_ctx(void)
{
    EVP_MD_CTX *ctx;

    pthread_once(&sigv4_md_once, sigv4_md_init);
    ctx = pthread_getspecific(sigv4_ctx_key);
    if (!ctx) {
        ctx = EVP_MD_CTX_new();
        if (!ctx || pthread_setspecific(sigv4_ctx_key, ctx) != 0) {
            fputs("out of memory (EVP_MD_CTX_new)\n", stderr);
            abort();
        }
    }
    return ctx;
}

static void sigv4_digest(EVP_MD_CTX *ctx, const void *p, size_t n, unsigned char md[32])
{
    unsigned int len = 32;

    EVP_DigestInit_ex(ctx, sigv4_md(), NULL);
    EVP_DigestUpdate(ctx, p, n);
    EVP_DigestFinal_ex(ctx, md, &len);
}

void sigv4_sha256_hex(const void *p, size_t n, char out[65])
{
    EVP_MD_CTX *ctx = sigv4_ctx();
    unsigned char md[32];

    sigv4_digest(ctx, p ? p : "", p ? n : 0, md);
    hex_encode(md, sizeof(md), out);
}

/* sigv4_hmac - HMAC-SHA256 (RFC 2104) over the fetched digest, in @ctx. */
static void sigv4_hmac(EVP_MD_CTX *ctx, const void *key, size_t klen, const char *msg, size_t mlen,
                       unsigned char out[32])
{
    unsigned char k[64], pad[64], inner[32];
    unsigned int len = 32;

    memset(k, 0, sizeof(k));
    if (klen > sizeof(k))
        sigv4_digest(ctx, key, klen, k);
    else
        memcpy(k, key, klen);
    for (size_t i = 0; i < sizeof(pad); i++)
        pad[i] = k[i] ^ 0x36;
    EVP_DigestInit_ex(ctx, sigv4_md(), NULL);
    EVP_DigestUpdate(ctx, pad, sizeof(pad));
    EVP_DigestUpdate(ctx, msg, mlen);
    EVP_DigestFinal_ex(ctx, inner, &len);
    for (size_t i = 0; i < sizeof(pad); i++)
        pad[i] = k[i] ^ 0x5c;
    EVP_DigestInit_ex(ctx, sigv4_md(), NULL);
    EVP_DigestUpdate(ctx, pad, sizeof(pad));
    EVP_DigestUpdate(ctx, inner, sizeof(inner));
    EVP_DigestFinal_ex(ctx, out, &len);
    OPENSSL_cleanse(k, sizeof(k));
    OPENSSL_cleanse(pad, sizeof(pad));
    OPENSSL_cleanse(inner, sizeof(inner));
}

static void sigv4_derive_key(const char *secret, const char *date, const char *region,
                             const char *service, unsigned char out[32])
{
    EVP_MD_CTX *ctx = sigv4_ctx();
    size_t slen = strlen(secret);
    char *k = xmalloc(slen + 5);
    unsigned char a[32], b[32];

    memcpy(k, "AWS4", 4);
    memcpy(k + 4, secret, slen + 1);
    sigv4_hmac(ctx, k, slen + 4, date, strlen(date), a);
    sigv4_hmac(ctx, a, 32, region, strlen(region), b);
    sigv4_hmac(ctx, b, 32, service, strlen(service), a);
    sigv4_hmac(ctx, a, 32, SIGV4_TERMINATOR, strlen(SIGV4_TERMINATOR), out);
    OPENSSL_cleanse(k, slen + 4);
    OPENSSL_cleanse(a, sizeof(a));
    OPENSSL_cleanse(b, sizeof(b));
    free(k);
}

/* The signing-key cache: kSigning depends only on (secret, date, region,
 * service), so a key signs every request of a day with the same four HMACs.
 * A fixed table of SIGV4_KEY_CACHE entries under one mutex, replaced round
 * robin; an entry matches only on all four strings, so a changed secret
 * (rotation, a new temporary key) or a new day derives afresh. Secrets or
 * names too long for an entry are derived every time. */
#define SIGV4_KEY_CACHE 64

struct sigv4_key_entry {
    bool used;
    char secret[129];
    char date[9];
    char region[32];
    char service[32];
    unsigned char key[32];
};

static struct sigv4_key_entry sigv4_keys[SIGV4_KEY_CACHE];
static size_t sigv4_keys_next;
static size_t sigv4_keys_hits;
static pthread_mutex_t sigv4_keys_mu = PTHREAD_MUTEX_INITIALIZER;

static bool sigv4_key_cacheable(const char *secret, const char *date, const char *region,
                                const char *service)
{
    const struct sigv4_key_entry *e = &sigv4_keys[0];

    return strlen(secret) < sizeof(e->secret) && strlen(date) < sizeof(e->date) &&
           strlen(region) < sizeof(e->region) && strlen(service) < sizeof(e->service);
}

void sigv4_signing_key(const char *secret, const char *date, const char *region,
                       const char *service, unsigned char out[32])
{
    struct sigv4_key_entry *e;
    bool cacheable = sigv4_key_cacheable(secret, date, region, service);

    if (cacheable) {
        pthread_mutex_lock(&sigv4_keys_mu);
        for (size_t i = 0; i < SIGV4_KEY_CACHE; i++) {
            e = &sigv4_keys[i];
            if (e->used && strcmp(e->date, date) == 0 && strcmp(e->service, service) == 0 &&
                strcmp(e->region, region) == 0 && strcmp(e->secret, secret) == 0) {
                memcpy(out, e->key, 32);
                sigv4_keys_hits++;
                pthread_mutex_unlock(&sigv4_keys_mu);
                return;
            }
        }
        pthread_mutex_unlock(&sigv4_keys_mu);
    }
    sigv4_derive_key(secret, date, region, service, out);
    if (!cacheable)
        return;
    pthread_mutex_lock(&sigv4_keys_mu);
    e = &sigv4_keys[sigv4_keys_next];
    sigv4_keys_next = (sigv4_keys_next + 1) % SIGV4_KEY_CACHE;
    OPENSSL_cleanse(e, sizeof(*e));
    e->used = true;
    strcpy(e->secret, secret);
    strcpy(e->date, date);
    strcpy(e->region, region);
    strcpy(e->service, service);
    memcpy(e->key, out, 32);
    pthread_mutex_unlock(&sigv4_keys_mu);
}

size_t sigv4_signing_key_cache_hits(void)
{
    size_t n;

    pthread_mutex_lock(&sigv4_keys_mu);
    n = sigv4_keys_hits;
    pthread_mutex_unlock(&sigv4_keys_mu);
    return n;
}

/* pad_digest - @c started on HMAC's pad block for @key: the key XOR @fill
 * (0x36 inner, 0x5c outer) over SHA-256's 64-byte block. */
static bool pad_digest(EVP_MD_CTX *c, const unsigned char key[32], unsigned char fill)
{
    unsigned char pad[64];
    bool ok;

    memset(pad, fill, sizeof(pad));
    for (size_t i = 0; i < 32; i++)
        pad[i] ^= key[i];
    ok = EVP_DigestInit_ex(c, sigv4_md(), NULL) && EVP_DigestUpdate(c, pad, sizeof(pad));
    OPENSSL_cleanse(pad, sizeof(pad));
    return ok;
}

/* sigv4_mac_state - this thread's pad digests for @key (computed when the
 * key differs from the last one), or NULL when out of memory. */
static struct sigv4_mac_state *sigv4_mac_state(const unsigned char key[32])
{
    struct sigv4_mac_state *m;

    pthread_once(&sigv4_md_once, sigv4_md_init);
    m = pthread_getspecific(sigv4_mac_key);
    if (!m) {
        m = calloc(1, sizeof(*m));
        if (!m)
            return NULL;
        m->in = EVP_MD_CTX_new();
        m->out = EVP_MD_CTX_new();
        if (!m->in || !m->out || pthread_setspecific(sigv4_mac_key, m) != 0) {
            sigv4_mac_free(m);
            return NULL;
        }
    }
    if (m->ready && CRYPTO_memcmp(m->key, key, 32) == 0)
        return m;
    m->ready = false;
    if (!pad_digest(m->in, key, 0x36) || !pad_digest(m->out, key, 0x5c))
        return NULL;
    memcpy(m->key, key, 32);
    m->ready = true;
    return m;
}

static void sigv4_signature_hex(const unsigned char key[32], const char *sts, char out[65])
{
    EVP_MD_CTX *ctx = sigv4_ctx();
    struct sigv4_mac_state *m = sigv4_mac_state(key);
    unsigned char mac[32], inner[32];
    unsigned int len = 32;

    /* HMAC (RFC 2104) resumed from the pad digests; the same result as
     * sigv4_hmac, which it falls back to should a copy fail */
    if (m && EVP_MD_CTX_copy_ex(ctx, m->in) && EVP_DigestUpdate(ctx, sts, strlen(sts)) &&
        EVP_DigestFinal_ex(ctx, inner, &len) && EVP_MD_CTX_copy_ex(ctx, m->out) &&
        EVP_DigestUpdate(ctx, inner, sizeof(inner)) && EVP_DigestFinal_ex(ctx, mac, &len)) {
        OPENSSL_cleanse(inner, sizeof(inner));
    } else {
        sigv4_hmac(ctx, key, 32, sts, strlen(sts), mac);
    }
    hex_encode(mac, sizeof(mac), out);
}

/* ---- dates ------------------------------------------------------------ */

/* Days since 1970-01-01 of a proleptic Gregorian date and back (H. Hinnant's
 * "chrono-compatible low-level date algorithms"). gmtime_r and timegm take
 * glibc's time zone lock on every call; these are plain arithmetic. */
static int64_t sigv4_days_from_civil(int64_t y, int64_t m, int64_t d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void sigv4_civil_from_days(int64_t z, int64_t *y, int64_t *m, int64_t *d)
{
    int64_t era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yoe + era * 400 + (*m <= 2);
}

void sigv4_format_date(time_t t, char out[17])
{
    int64_t secs = (int64_t)t, days = secs / 86400, rem = secs % 86400, y, m, d;
    unsigned v[6];

    if (rem < 0) {
        rem += 86400;
        days--;
    }
    sigv4_civil_from_days(days, &y, &m, &d);
    v[0] = (unsigned)(y % 10000 + 10000) % 10000u;
    v[1] = (unsigned)m;
    v[2] = (unsigned)d;
    v[3] = (unsigned)(rem / 3600);
    v[4] = (unsigned)(rem / 60 % 60);
    v[5] = (unsigned)(rem % 60);
    /* YYYYMMDDTHHMMSSZ by hand: snprintf costs more than the rest of the check */
    out[0] = (char)('0' + v[0] / 1000);
    out[1] = (char)('0' + v[0] / 100 % 10);
    out[2] = (char)('0' + v[0] / 10 % 10);
    out[3] = (char)('0' + v[0] % 10);
    for (int i = 1, o = 4; i < 6; i++, o += 2) {
        if (i == 3)
            out[o++] = 'T';
        out[o] = (char)('0' + v[i] / 10);
        out[o + 1] = (char)('0' + v[i] % 10);
    }
    out[15] = 'Z';
    out[16] = '\0';
}

static int sigv4_digits(const char *s, int n)
{
    int v = 0;

    for (int i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/* sigv4_parse_amz_date - "YYYYMMDDTHHMMSSZ" exactly (ISO 8601 basic). */
static bool sigv4_parse_amz_date(const char *s, time_t *out)
{
    int year, mon, mday, hour, min, sec;

    if (!s || strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
        return false;
    for (int i = 0; i < 15; i++)
        if (i != 8 && !isdigit((unsigned char)s[i]))
            return false;
    year = sigv4_digits(s, 4);
    mon = sigv4_digits(s + 4, 2);
    mday = sigv4_digits(s + 6, 2);
    hour = sigv4_digits(s + 9, 2);
    min = sigv4_digits(s + 11, 2);
    sec = sigv4_digits(s + 13, 2);
    if (year < 1970 || mon < 1 || mon > 12 || mday < 1 || mday > 31 || hour > 23 || min > 59 ||
        sec > 60)
        return false;
    /* as timegm: a day past the month's end rolls into the next month */
    *out = (time_t)((sigv4_days_from_civil(year, mon, 1) + mday - 1) * 86400 + hour * 3600 +
                    min * 60 + sec);
    return true;
}

/* sigv4_parse_http_date - RFC 7231 IMF-fixdate, "Sun, 30 Aug 2015 12:36:00 GMT". */
static bool sigv4_parse_http_date(const char *s, time_t *out)
{
    struct tm tm;
    const char *end;

    memset(&tm, 0, sizeof(tm));
    end = strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!end || *end)
        return false;
    *out = timegm(&tm);
    return true;
}

/* ---- encoding --------------------------------------------------------- */

static bool sigv4_unreserved(unsigned char ch)
{
    return isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~';
}

/* sigv4_encode - RFC 3986 percent-encoding of every byte but the unreserved
 * ones (and '/' when @keep_slash), upper-case hex as AWS's UriEncode(). */
static void sigv4_encode(struct buf *b, const char *s, size_t n, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";

    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (sigv4_unreserved(ch) || (keep_slash && ch == '/')) {
            buf_putc(b, (char)ch);
        } else {
            char esc[3] = {'%', hex[ch >> 4], hex[ch & 15]};
            buf_append(b, esc, 3);
        }
    }
}

static int sigv4_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* sigv4_decode - percent-decode @n bytes into @b; a '%' not followed by two
 * hex digits stays literal. '+' means space in a query (form encoding). */
static void sigv4_decode(struct buf *b, const char *s, size_t n, bool plus_is_space)
{
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < n && (hi = sigv4_hexval(s[i + 1])) >= 0 &&
            (lo = sigv4_hexval(s[i + 2])) >= 0) {
            buf_putc(b, (char)(hi << 4 | lo));
            i += 2;
        } else if (s[i] == '+' && plus_is_space) {
            buf_putc(b, ' ');
        } else {
            buf_putc(b, s[i]);
        }
    }
}

/* ---- canonical URI ---------------------------------------------------- */

/* sigv4_normalize_path - RFC 3986 remove_dot_segments plus collapsing of
 * empty segments, as AWS does for every service but S3 (owned, free()). */
static char *sigv4_normalize_path(const char *path)
{
    size_t n = strlen(path);
    const char **segs = xmalloc((n / 2 + 2) * sizeof(*segs));
    size_t *lens = xmalloc((n / 2 + 2) * sizeof(*lens));
    size_t nseg = 0;
    bool trailing = false;
    const char *p = path;
    struct buf b;

    while (*p) {
        const char *start, *end;
        size_t len;
        while (*p == '/')
            p++;
        if (!*p) {
            trailing = true; /* path ended in '/' */
            break;
        }
        start = p;
        end = strchr(p, '/');
        if (!end)
            end = p + strlen(p);
        len = (size_t)(end - start);
        p = end;
        trailing = false;
        if (len == 1 && start[0] == '.') {
            trailing = true;
        } else if (len == 2 && start[0] == '.' && start[1] == '.') {
            if (nseg)
                nseg--;
            trailing = true;
        } else {
            segs[nseg] = start;
            lens[nseg] = len;
            nseg++;
        }
    }
    buf_init(&b, 0);
    buf_putc(&b, '/');
    for (size_t i = 0; i < nseg; i++) {
        buf_append(&b, segs[i], lens[i]);
        if (i + 1 < nseg || trailing)
            buf_putc(&b, '/');
    }
    free(segs);
    free(lens);
    return buf_detach(&b, NULL);
}

static void sigv4_canonical_uri(struct buf *out, const struct sigv4_request *r)
{
    const char *path = r->path && r->path[0] ? r->path : "/";

    if (r->s3_paths) {
        /* S3 signs the path encoded once and not normalized. Decoding each
         * escape and encoding it again gives that form whether the client
         * escaped every byte AWS escapes or left some raw; an escaped '/'
         * (%2F) stays escaped, it is part of a key, not a separator. */
        for (const char *p = path; *p; p++) {
            int hi, lo;
            if (*p == '%' && (hi = sigv4_hexval(p[1])) >= 0 && (lo = sigv4_hexval(p[2])) >= 0) {
                char ch = (char)(hi << 4 | lo);
                sigv4_encode(out, &ch, 1, false);
                p += 2;
            } else {
                sigv4_encode(out, p, 1, true);
            }
        }
    } else {
        /* Other services sign the normalized path as sent, encoded again:
         * "/a%20b" is signed as "/a%2520b" (AWS's double encoding). */
        char *norm = sigv4_normalize_path(path);
        sigv4_encode(out, norm, strlen(norm), true);
        free(norm);
    }
}

/* ---- query strings ---------------------------------------------------- */

struct sigv4_param {
    char *name; /* decoded (owned) */
    size_t nlen;
    char *value; /* decoded (owned) */
    size_t vlen;
    char *ename; /* re-encoded, canonical (owned) */
    char *evalue;
};

struct sigv4_params {
    struct sigv4_param *v; /* owned */
    size_t n;
};

static void sigv4_params_free(struct sigv4_params *ps)
{
    for (size_t i = 0; i < ps->n; i++) {
        free(ps->v[i].name);
        free(ps->v[i].value);
        free(ps->v[i].ename);
        free(ps->v[i].evalue);
    }
    free(ps->v);
    ps->v = NULL;
    ps->n = 0;
}

static char *sigv4_dup_encoded(const char *s, size_t n)
{
    struct buf b;

    buf_init(&b, 0);
    sigv4_encode(&b, s, n, false);
    if (!b.ptr)
        return xstrdup("");
    return buf_detach(&b, NULL);
}

static char *sigv4_dup_decoded(const char *s, size_t n, size_t *outlen)
{
    struct buf b;

    buf_init(&b, 0);
    sigv4_decode(&b, s, n, true);
    *outlen = b.len;
    if (!b.ptr)
        return xstrdup("");
    return buf_detach(&b, NULL);
}

static void sigv4_params_parse(const char *query, struct sigv4_params *ps)
{
    const char *p = query ? query : "";
    size_t cap = 1;

    for (const char *q = p; *q; q++)
        cap += *q == '&';
    ps->v = xcalloc(cap, sizeof(*ps->v));
    ps->n = 0;
    while (*p) {
        const char *amp = strchr(p, '&');
        const char *end = amp ? amp : p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (end > p) {
            struct sigv4_param *pr = &ps->v[ps->n++];
            const char *nend = eq ? eq : end;
            pr->name = sigv4_dup_decoded(p, (size_t)(nend - p), &pr->nlen);
            if (eq)
                pr->value = sigv4_dup_decoded(eq + 1, (size_t)(end - eq - 1), &pr->vlen);
            else
                pr->value = sigv4_dup_decoded("", 0, &pr->vlen);
            pr->ename = sigv4_dup_encoded(pr->name, pr->nlen);
            pr->evalue = sigv4_dup_encoded(pr->value, pr->vlen);
        }
        if (!amp)
            break;
        p = amp + 1;
    }
}

/* sigv4_param - the decoded value of the first parameter named @name, or NULL. */
static const char *sigv4_param(const struct sigv4_params *ps, const char *name)
{
    size_t n = strlen(name);

    for (size_t i = 0; i < ps->n; i++)
        if (ps->v[i].nlen == n && memcmp(ps->v[i].name, name, n) == 0)
            return ps->v[i].value;
    return NULL;
}

static int sigv4_param_cmp(const void *a, const void *b)
{
    const struct sigv4_param *x = *(const struct sigv4_param *const *)a;
    const struct sigv4_param *y = *(const struct sigv4_param *const *)b;
    int c = strcmp(x->ename, y->ename);

    return c ? c : strcmp(x->evalue, y->evalue);
}

static void sigv4_canonical_query(struct buf *out, const struct sigv4_request *r)
{
    struct sigv4_params ps;
    const struct sigv4_param **sorted;
    size_t n = 0;

    sigv4_params_parse(r->query, &ps);
    sorted = xcalloc(ps.n ? ps.n : 1, sizeof(*sorted));
    for (size_t i = 0; i < ps.n; i++)
        if (strcmp(ps.v[i].ename, "X-Amz-Signature") != 0)
            sorted[n++] = &ps.v[i];
    qsort(sorted, n, sizeof(*sorted), sigv4_param_cmp);
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_putc(out, '&');
        buf_puts(out, sorted[i]->ename);
        buf_putc(out, '=');
        buf_puts(out, sorted[i]->evalue);
    }
    free(sorted);
    sigv4_params_free(&ps);
}

/* ---- headers ---------------------------------------------------------- */

static bool sigv4_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* sigv4_put_value - trim and collapse runs of whitespace to one space. */
static void sigv4_put_value(struct buf *b, const char *v)
{
    bool pending = false, any = false;

    while (v && *v) {
        const char *run = v;
        if (sigv4_space(*v)) {
            pending = any;
            v++;
            continue;
        }
        if (pending)
            buf_putc(b, ' ');
        pending = false;
        any = true;
        while (*v && !sigv4_space(*v))
            v++;
        buf_append(b, run, (size_t)(v - run));
    }
}

static const char *sigv4_header(const struct sigv4_request *r, const char *name)
{
    for (size_t i = 0; i < r->nheaders; i++)
        if (r->headers[i].name && strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value ? r->headers[i].value : "";
    return NULL;
}

/* sigv4_canonical_headers - "name:v1,v2\n" for each name in @signed_headers,
 * values in the order received. */
static void sigv4_canonical_headers(struct buf *out, const struct sigv4_request *r,
                                    const char *signed_headers)
{
    const char *p = signed_headers;

    while (*p) {
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        bool first = true;
        size_t at = out->len;

        /* the name lower-cased in place, not a character at a time */
        if (buf_append(out, p, len) == ERR_OK)
            for (size_t i = at; i < out->len; i++)
                out->ptr[i] = (char)tolower((unsigned char)out->ptr[i]);
        buf_putc(out, ':');
        for (size_t i = 0; i < r->nheaders; i++) {
            const char *hn = r->headers[i].name;
            if (!hn || strlen(hn) != len || strncasecmp(hn, p, len) != 0)
                continue;
            if (!first)
                buf_putc(out, ',');
            first = false;
            sigv4_put_value(out, r->headers[i].value);
        }
        buf_putc(out, '\n');
        if (!end)
            break;
        p = end + 1;
    }
}

char *sigv4_canonical_request(const struct sigv4_request *r, const char *signed_headers,
                              const char *payload_hash)
{
    struct buf b;

    buf_init(&b, 0);
    buf_reserve(&b, 1024); /* a typical request's fits: no doublings */
    buf_puts(&b, r->method ? r->method : "");
    buf_putc(&b, '\n');
    sigv4_canonical_uri(&b, r);
    buf_putc(&b, '\n');
    sigv4_canonical_query(&b, r);
    buf_putc(&b, '\n');
    sigv4_canonical_headers(&b, r, signed_headers ? signed_headers : "");
    buf_putc(&b, '\n');
    buf_puts(&b, signed_headers ? signed_headers : "");
    buf_putc(&b, '\n');
    buf_puts(&b, payload_hash ? payload_hash : "");
    return buf_detach(&b, NULL);
}

char *sigv4_string_to_sign(const char *amz_date, const char *scope, const char *canonical_request)
{
    char hash[65];
    struct buf b;

    sigv4_sha256_hex(canonical_request, strlen(canonical_request), hash);
    buf_init(&b, 0);
    buf_reserve(&b, sizeof(SIGV4_ALGORITHM) + strlen(amz_date) + strlen(scope) + 68);
    buf_puts(&b, SIGV4_ALGORITHM "\n");
    buf_puts(&b, amz_date);
    buf_putc(&b, '\n');
    buf_puts(&b, scope);
    buf_putc(&b, '\n');
    buf_puts(&b, hash);
    return buf_detach(&b, NULL);
}

/* ---- signing (clients) ------------------------------------------------ */

static int sigv4_name_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

bool sigv4_sign(const struct sigv4_request *r, const char *access_key, const char *secret,
                const char *region, const char *service, const char *payload_hash, char *auth,
                size_t cap)
{
    const char *date = sigv4_header(r, "x-amz-date");
    char **names = NULL;
    size_t n = 0;
    struct buf sh;
    char *creq = NULL, *sts = NULL, scope[128], sig[65];
    unsigned char key[32];
    time_t t;
    int len;
    bool ok = false;

    buf_init(&sh, 0);
    if (!date || !sigv4_parse_amz_date(date, &t) || !sigv4_header(r, "host"))
        goto out;
    names = xcalloc(r->nheaders ? r->nheaders : 1, sizeof(*names));
    for (size_t i = 0; i < r->nheaders; i++) {
        char *lower = xstrdup(r->headers[i].name);
        bool dup = false;
        for (char *c = lower; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        for (size_t j = 0; j < n && !dup; j++)
            dup = strcmp(names[j], lower) == 0;
        if (dup)
            free(lower);
        else
            names[n++] = lower;
    }
    qsort(names, n, sizeof(*names), sigv4_name_cmp);
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_putc(&sh, ';');
        buf_puts(&sh, names[i]);
    }
    if (snprintf(scope, sizeof(scope), "%.8s/%s/%s/%s", date, region, service, SIGV4_TERMINATOR) >=
        (int)sizeof(scope))
        goto out;
    creq = sigv4_canonical_request(r, sh.ptr, payload_hash);
    sts = sigv4_string_to_sign(date, scope, creq);
    {
        char d8[9];
        memcpy(d8, date, 8);
        d8[8] = '\0';
        sigv4_signing_key(secret, d8, region, service, key);
    }
    sigv4_signature_hex(key, sts, sig);
    OPENSSL_cleanse(key, sizeof(key));
    len = snprintf(auth, cap, "%s Credential=%s/%s, SignedHeaders=%s, Signature=%s",
                   SIGV4_ALGORITHM, access_key, scope, sh.ptr, sig);
    ok = len >= 0 && (size_t)len < cap;
out:
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    free(creq);
    free(sts);
    buf_free(&sh);
    if (!ok && cap)
        auth[0] = '\0';
    return ok;
}

/* ---- verification ----------------------------------------------------- */

/* sigv4_copy - @src into @dst[@cap], cut to fit, always terminated (snprintf's
 * "%s" without its cost on the per-request path). */
static void sigv4_copy(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);

    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* What the client claims, from the Authorization header or the query. */
struct sigv4_claim {
    char *credential; /* owned */
    char *signed_headers;
    char *signature;
    const char *date; /* borrowed from @r or the params */
    const char *token;
    const char *expires;
    char alg[33]; /* an AWS4- algorithm other than AWS4-HMAC-SHA256, refused after the date */
    bool from_date_header;
};

static void sigv4_claim_free(struct sigv4_claim *c)
{
    free(c->credential);
    free(c->signed_headers);
    free(c->signature);
}

static bool sigv4_fail(struct sigv4_result *out, enum sigv4_fail f, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool sigv4_fail(struct sigv4_result *out, enum sigv4_fail f, const char *fmt, ...)
{
    va_list ap;

    out->fail = f;
    va_start(ap, fmt);
    vsnprintf(out->msg, sizeof(out->msg), fmt, ap);
    va_end(ap);
    return false;
}

/* sigv4_parse_header - split "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=...,
 * Signature=..." into @c. The parts may be separated by commas, whitespace or
 * both, as AWS accepts: none of their values holds either. */
static bool sigv4_parse_header(const char *auth, bool has_date, struct sigv4_claim *c,
                               struct sigv4_result *out)
{
    const char *p = auth;
    size_t alen;

    while (sigv4_space(*p))
        p++;
    alen = strcspn(p, " \t");
    if (alen < 5 || strncmp(p, "AWS4-", 5) != 0)
        return sigv4_fail(out, SIGV4_INCOMPLETE, "Unsupported Authorization Type");
    if (alen != strlen(SIGV4_ALGORITHM) || strncmp(p, SIGV4_ALGORITHM, alen) != 0)
        snprintf(c->alg, sizeof(c->alg), "%.*s", (int)(alen < 32 ? alen : 32), p);
    p += alen;
    while (*p) {
        const char *start, *end, *eq;
        size_t len;
        char **slot = NULL;

        while (sigv4_space(*p) || *p == ',')
            p++;
        if (!*p)
            break;
        start = p;
        while (*p && *p != ',' && !sigv4_space(*p))
            p++;
        end = p;
        len = (size_t)(end - start);
        eq = memchr(start, '=', len);
        if (!eq)
            return sigv4_fail(out, SIGV4_INCOMPLETE,
                              "'%.*s' not a valid key=value pair (missing equal-sign) in "
                              "Authorization header: '%.200s'.",
                              (int)(len > 200 ? 200 : len), start, auth);
        if ((size_t)(eq - start) == 10 && memcmp(start, "Credential", 10) == 0)
            slot = &c->credential;
        else if ((size_t)(eq - start) == 13 && memcmp(start, "SignedHeaders", 13) == 0)
            slot = &c->signed_headers;
        else if ((size_t)(eq - start) == 9 && memcmp(start, "Signature", 9) == 0)
            slot = &c->signature;
        if (slot && !*slot)
            *slot = xstrndup(eq + 1, (size_t)(start + len - eq - 1));
    }
    if (!c->credential || !c->signed_headers || !c->signature || !has_date) {
        struct buf m;
        buf_init(&m, 0);
        if (!c->credential)
            buf_puts(&m, "Authorization header requires 'Credential' parameter. ");
        if (!c->signature)
            buf_puts(&m, "Authorization header requires 'Signature' parameter. ");
        if (!c->signed_headers)
            buf_puts(&m, "Authorization header requires 'SignedHeaders' parameter. ");
        if (!has_date)
            buf_puts(&m, "Authorization header requires existence of either a 'X-Amz-Date' or "
                         "a 'Date' header. ");
        buf_printf(&m, "Authorization=%.300s", auth);
        sigv4_fail(out, SIGV4_INCOMPLETE, "%s", m.ptr);
        buf_free(&m);
        return false;
    }
    return true;
}

static bool sigv4_parse_query(const struct sigv4_params *ps, struct sigv4_claim *c,
                              struct sigv4_result *out)
{
    const char *alg = sigv4_param(ps, "X-Amz-Algorithm");
    const char *cred = sigv4_param(ps, "X-Amz-Credential");
    const char *sh = sigv4_param(ps, "X-Amz-SignedHeaders");
    const char *sig = sigv4_param(ps, "X-Amz-Signature");

    c->date = sigv4_param(ps, "X-Amz-Date");
    c->expires = sigv4_param(ps, "X-Amz-Expires");
    c->token = sigv4_param(ps, "X-Amz-Security-Token");
    if (!alg || !cred || !sh || !sig || !c->date || !c->expires)
        return sigv4_fail(out, SIGV4_INCOMPLETE,
                          "Query-string authentication version 4 requires the X-Amz-Algorithm, "
                          "X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, "
                          "and X-Amz-Expires parameters.");
    if (strcmp(alg, SIGV4_ALGORITHM) != 0)
        return sigv4_fail(out, SIGV4_INCOMPLETE,
                          "X-Amz-Algorithm only supports \"" SIGV4_ALGORITHM "\"");
    c->credential = xstrdup(cred);
    c->signed_headers = xstrdup(sh);
    c->signature = xstrdup(sig);
    return true;
}

/* sigv4_parse_scope - "AK/YYYYMMDD/region/service/aws4_request" into @out.
 * The date part is only copied into @date (its first 40 bytes): whether it is
 * one is checked after the request time, as AWS answers a stale request
 * "Signature expired" whatever its scope says. */
static bool sigv4_parse_scope(const char *cred, char *key, size_t keycap, char date[41],
                              struct sigv4_result *out)
{
    const char *parts[5];
    size_t lens[5];
    const char *p = cred;
    int n = 0;

    for (;;) {
        const char *slash = strchr(p, '/');
        if (n == 5)
            n = 6; /* too many */
        if (n < 5) {
            parts[n] = p;
            lens[n] = slash ? (size_t)(slash - p) : strlen(p);
        }
        n++;
        if (!slash || n > 5)
            break;
        p = slash + 1;
    }
    if (n != 5)
        return sigv4_fail(out, SIGV4_INCOMPLETE,
                          "Credential must have exactly 5 slash-delimited elements, e.g. "
                          "keyid/date/region/service/term, got '%.300s'",
                          cred);
    if (lens[4] != strlen(SIGV4_TERMINATOR) || memcmp(parts[4], SIGV4_TERMINATOR, lens[4]) != 0)
        return sigv4_fail(out, SIGV4_INCOMPLETE,
                          "Credential should be scoped with a valid terminator: 'aws4_request', "
                          "not '%.*s'.",
                          (int)(lens[4] > 100 ? 100 : lens[4]), parts[4]);
    if (lens[0] == 0 || lens[0] >= keycap)
        return sigv4_fail(out, SIGV4_UNKNOWN_KEY,
                          "The AWS Access Key Id you provided does not exist in our records.");
    if (lens[2] == 0 || lens[2] >= sizeof(out->region))
        return sigv4_fail(out, SIGV4_INCOMPLETE, "Credential should be scoped to a valid region. ");
    if (lens[3] == 0 || lens[3] >= sizeof(out->service))
        return sigv4_fail(out, SIGV4_INCOMPLETE,
                          "Credential should be scoped to correct service. ");
    memcpy(key, parts[0], lens[0]);
    key[lens[0]] = '\0';
    memcpy(date, parts[1], lens[1] > 40 ? 40 : lens[1]);
    date[lens[1] > 40 ? 40 : lens[1]] = '\0';
    if (lens[1] == 8)
        sigv4_copy(out->scope_date, sizeof(out->scope_date), date);
    memcpy(out->region, parts[2], lens[2]);
    out->region[lens[2]] = '\0';
    memcpy(out->service, parts[3], lens[3]);
    out->service[lens[3]] = '\0';
    return true;
}

/* sigv4_has_host - whether "host" is one of the ';'-separated names. */
static bool sigv4_has_host(const char *signed_headers)
{
    const char *p = signed_headers;

    while (p) {
        size_t len = strcspn(p, ";");
        if (len == 4 && strncasecmp(p, "host", 4) == 0)
            return true;
        p = p[len] ? p + len + 1 : NULL;
    }
    return false;
}

static bool sigv4_is_hex64(const char *s)
{
    if (strlen(s) != 64)
        return false;
    for (int i = 0; i < 64; i++)
        if (!isxdigit((unsigned char)s[i]))
            return false;
    return true;
}

/* sigv4_check_time - skew (header form) or expiry (presigned) at @now. */
static bool sigv4_check_time(const struct sigv4_claim *c, time_t t, time_t now, bool presigned,
                             struct sigv4_result *out)
{
    char d_req[17], d_lim[17], d_now[17];

    sigv4_format_date(t, d_req);
    sigv4_format_date(now, d_now);
    if (presigned) {
        char *end = NULL;
        long long exp;

        /* a sign, then digits only ("-60" is negative, not malformed) */
        if (!isdigit((unsigned char)c->expires[c->expires[0] == '-']))
            return sigv4_fail(out, SIGV4_INCOMPLETE, "X-Amz-Expires should be a number");
        exp = strtoll(c->expires, &end, 10);
        if (*end)
            return sigv4_fail(out, SIGV4_INCOMPLETE, "X-Amz-Expires should be a number");
        if (exp < 0)
            return sigv4_fail(out, SIGV4_INCOMPLETE, "X-Amz-Expires must be non-negative");
        if (exp > SIGV4_MAX_EXPIRES) /* S3's wording */
            return sigv4_fail(out, SIGV4_INCOMPLETE,
                              "X-Amz-Expires must be less than a week (in seconds); that is, "
                              "the given X-Amz-Expires must be less than 604800 seconds");
        if ((long long)now > (long long)t + exp)
            return sigv4_fail(out, SIGV4_EXPIRED, "Request has expired");
    } else if ((long long)t < (long long)now - SIGV4_MAX_SKEW) {
        sigv4_format_date(now - SIGV4_MAX_SKEW, d_lim);
        return sigv4_fail(out, SIGV4_SKEWED,
                          "Signature expired: %s is now earlier than %s (%s - 15 min.)", d_req,
                          d_lim, d_now);
    }
    if ((long long)t > (long long)now + SIGV4_MAX_SKEW) {
        sigv4_format_date(now + SIGV4_MAX_SKEW, d_lim);
        return sigv4_fail(out, SIGV4_SKEWED,
                          "Signature not yet current: %s is still later than %s (%s + 15 min.)",
                          d_req, d_lim, d_now);
    }
    return true;
}

static bool sigv4_check_token(const struct creds_identity *who, const char *token, time_t now,
                              struct sigv4_result *out)
{
    if (who->session_token[0]) {
        size_t want = strlen(who->session_token);
        if (!token || strlen(token) != want || CRYPTO_memcmp(token, who->session_token, want) != 0)
            return sigv4_fail(out, SIGV4_BAD_TOKEN,
                              "The security token included in the request is invalid.");
    } else if (token && token[0]) {
        return sigv4_fail(out, SIGV4_BAD_TOKEN,
                          "The security token included in the request is invalid.");
    }
    if (who->expires != 0 && (int64_t)now >= who->expires)
        return sigv4_fail(out, SIGV4_TOKEN_EXPIRED,
                          "The security token included in the request is expired");
    return true;
}

static bool sigv4_lookup(struct creds *cr, const char *key, struct sigv4_result *out)
{
    if (creds_lookup(cr, key, &out->who))
        return true;
    return sigv4_fail(out, SIGV4_UNKNOWN_KEY,
                      "The AWS Access Key Id you provided does not exist in our records.");
}

/* sigv4_check_scope_date - the credential scope's date (@sdate as sent) must
 * be the request's day; the message in S3's words when @s3. */
static bool sigv4_check_scope_date(const char *sdate, bool s3, struct sigv4_result *out)
{
    if (out->scope_date[0] && memcmp(out->scope_date, out->amz_date, 8) == 0)
        return true;
    if (s3)
        return sigv4_fail(out, SIGV4_BAD_DATE, "%s",
                          out->presigned
                              ? "Invalid credential date. Date is not the same as X-Amz-Date."
                              : "The authorization header is malformed; Invalid credential "
                                "date. Date is not the same as X-Amz-Date.");
    if (!out->scope_date[0])
        return sigv4_fail(out, SIGV4_BAD_DATE,
                          "Date in Credential scope does not match YYYYMMDD from ISO-8601 "
                          "version of date from HTTP: '%s' is not a date.",
                          sdate);
    return sigv4_fail(out, SIGV4_BAD_DATE,
                      "Date in Credential scope does not match YYYYMMDD from ISO-8601 "
                      "version of date from HTTP: '%s' != '%.8s', from '%s'.",
                      out->scope_date, out->amz_date, out->amz_date);
}

/* sigv4_check - the body of sigv4_verify once the claim is parsed. */
static bool sigv4_check(struct creds *cr, const struct sigv4_request *r, time_t now,
                        struct sigv4_claim *c, struct sigv4_result *out)
{
    char key[sizeof(out->who.access_key)], scope[128], sig[65], sdate[41];
    const char *sha = sigv4_header(r, "x-amz-content-sha256");
    char *creq = NULL, *sts = NULL;
    time_t t;
    bool ok;

    /* in AWS's order: the date and its skew, the signed headers, the
     * algorithm, the credential scope, the key (S3: the key, then the
     * scope's date), the signature (a missing
     * date was refused with the header's other missing parts) */
    if (c->from_date_header ? !sigv4_parse_http_date(c->date, &t)
                            : !sigv4_parse_amz_date(c->date, &t))
        return sigv4_fail(out, SIGV4_INCOMPLETE,
                          "Date must be in ISO-8601 'basic format'. Got '%.40s'. See "
                          "http://en.wikipedia.org/wiki/ISO_8601",
                          c->date);
    sigv4_format_date(t, out->amz_date);
    /* a signed header's time is checked before its scope and key (a stale
     * request is "Signature expired" whoever signed it); a presigned URL's
     * expiry after its key */
    if (!out->presigned && !sigv4_check_time(c, t, now, false, out))
        return false;
    if (!sigv4_has_host(c->signed_headers))
        return sigv4_fail(out, SIGV4_HOST_UNSIGNED, "%s",
                          r->s3_paths ? "There were headers present in the request which were "
                                        "not signed"
                                      : "'Host' or ':authority' must be a 'SignedHeader' in the "
                                        "AWS Authorization.");
    if (c->alg[0])
        return sigv4_fail(out, SIGV4_INCOMPLETE,
                          "Unsupported AWS 'algorithm': '%s' (only " SIGV4_ALGORITHM " for now). ",
                          c->alg);
    if (!sigv4_parse_scope(c->credential, key, sizeof(key), sdate, out))
        return false;
    /* S3 looks the key up before it compares the scope's date; the others
     * refuse the scope first */
    if (r->s3_paths && !sigv4_lookup(cr, key, out))
        return false;
    if (!sigv4_check_scope_date(sdate, r->s3_paths, out))
        return false;
    sigv4_copy(out->signature, sizeof(out->signature), c->signature);
    if (!r->s3_paths && !sigv4_lookup(cr, key, out))
        return false;
    if (out->presigned && !sigv4_check_time(c, t, now, true, out))
        return false;
    if (!sigv4_check_token(&out->who, c->token, now, out))
        return false;

    if (sha)
        sigv4_copy(out->payload_hash, sizeof(out->payload_hash), sha);
    else if (out->presigned)
        sigv4_copy(out->payload_hash, sizeof(out->payload_hash), "UNSIGNED-PAYLOAD");
    else
        sigv4_sha256_hex(r->body, r->body ? r->body_len : 0, out->payload_hash);

    /* date (8) + region and service (< 32 each) + terminator: fits scope[128] */
    {
        char *e = stpcpy(scope, out->scope_date);
        *e++ = '/';
        e = stpcpy(e, out->region);
        *e++ = '/';
        e = stpcpy(e, out->service);
        *e++ = '/';
        stpcpy(e, SIGV4_TERMINATOR);
    }
    creq = sigv4_canonical_request(r, c->signed_headers, sha ? sha : out->payload_hash);
    sts = sigv4_string_to_sign(out->amz_date, scope, creq);
    sigv4_signing_key(out->who.secret, out->scope_date, out->region, out->service,
                      out->signing_key);
    sigv4_signature_hex(out->signing_key, sts, sig);
    ok = strlen(c->signature) == 64 && CRYPTO_memcmp(sig, c->signature, 64) == 0;
    if (!ok) {
        int n = snprintf(out->msg, sizeof(out->msg),
                         "%s\n\nThe Canonical String for this request should have been\n'%s'\n\n"
                         "The String-to-Sign should have been\n'%s'\n",
                         sigv4_mismatch_msg, creq, sts);
        if (n < 0 || (size_t)n >= sizeof(out->msg))
            snprintf(out->msg, sizeof(out->msg), "%s", sigv4_mismatch_msg);
        out->fail = SIGV4_BAD_SIGNATURE;
    } else if (sha && sigv4_is_hex64(sha) && r->body) {
        char have[65];
        sigv4_sha256_hex(r->body, r->body_len, have);
        if (strcasecmp(have, sha) != 0) {
            ok = sigv4_fail(out, SIGV4_PAYLOAD_MISMATCH,
                            "The provided 'x-amz-content-sha256' header does not match what was "
                            "computed.");
        }
    }
    free(creq);
    free(sts);
    return ok;
}

bool sigv4_verify(struct creds *c, const struct sigv4_request *r, time_t now,
                  struct sigv4_result *out)
{
    const char *auth = sigv4_header(r, "authorization");
    struct sigv4_params ps;
    struct sigv4_claim claim;
    bool presigned, ok = false;

    memset(out, 0, sizeof(*out));
    memset(&claim, 0, sizeof(claim));
    sigv4_params_parse(r->query, &ps);
    presigned = sigv4_param(&ps, "X-Amz-Algorithm") || sigv4_param(&ps, "X-Amz-Credential") ||
                sigv4_param(&ps, "X-Amz-Signature");
    out->presigned = presigned;
    if (!auth && !presigned) {
        out->anonymous = true;
        sigv4_fail(out, SIGV4_MISSING, "Request is missing Authentication Token");
        goto out;
    }
    if (auth && presigned) {
        sigv4_fail(out, SIGV4_INCOMPLETE,
                   "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
                   "Signature query string parameter or the Authorization header should be "
                   "specified");
        goto out;
    }
    if (presigned) {
        if (!sigv4_parse_query(&ps, &claim, out))
            goto out;
    } else {
        claim.date = sigv4_header(r, "x-amz-date");
        if (!claim.date) {
            claim.date = sigv4_header(r, "date");
            claim.from_date_header = claim.date != NULL;
        }
        if (!sigv4_parse_header(auth, claim.date != NULL, &claim, out))
            goto out;
        claim.token = sigv4_header(r, "x-amz-security-token");
    }
    ok = sigv4_check(c, r, now, &claim, out);
out:
    if (ok)
        out->fail = SIGV4_OK;
    else
        OPENSSL_cleanse(out->signing_key, sizeof(out->signing_key));
    sigv4_claim_free(&claim);
    sigv4_params_free(&ps);
    return ok;
}
