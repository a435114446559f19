/* ddb_s3_hook.c - the S3 that DynamoDB's exports and imports reach
 * (ddb_s3.h): the region's own S3 endpoint over HTTP, signed with the
 * deployment's root credentials, and, for a bucket this region does not
 * have, each peer region's endpoint in turn. */
#include "ddb_s3_hook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "awsc.h"
#include "mem.h"
#include "url.h"

enum { HOOK_PEERS = 16 };

struct ddb_s3_hook {
    struct ddb_s3 hook;
    char *region, *self_url;
    struct awsc_creds creds;
    size_t npeers;
    char *peer_region[HOOK_PEERS], *peer_url[HOOK_PEERS];
};

/* xml_text - the text of the first <TAG>...</TAG> after @from in @s into @out. */
static const char *xml_text(const char *s, const char *tag, char *out, size_t cap)
{
    char open[40], close[40];
    const char *b, *e;

    out[0] = '\0';
    snprintf(open, sizeof(open), "<%s>", tag);
    snprintf(close, sizeof(close), "</%s>", tag);
    b = strstr(s, open);
    e = b ? strstr(b, close) : NULL;
    if (!b || !e)
        return NULL;
    b += strlen(open);
    snprintf(out, cap, "%.*s", (int)(e - b), b);
    return e + strlen(close);
}

/* unescape - XML's five entities, in place. */
static void unescape(char *s)
{
    static const char *const ent[][2] = {
        {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&apos;", "'"}};
    char *w = s;

    while (*s) {
        size_t i;

        for (i = 0; i < 5; i++)
            if (strncmp(s, ent[i][0], strlen(ent[i][0])) == 0)
                break;
        if (i < 5) {
            *w++ = ent[i][1][0];
            s += strlen(ent[i][0]);
        } else {
            *w++ = *s++;
        }
    }
    *w = '\0';
}

/* a 200 answer's body handed over as it arrives (hook_get) */
struct sink {
    bool (*fn)(void *arg, const void *p, size_t n);
    void *arg;
    bool got; /* pieces were handed over */
};

static bool sink_data(void *ud, const void *p, size_t n)
{
    struct sink *s = ud;

    s->got = true;
    return s->fn(s->arg, p, n);
}

/* call - @method on BUCKET[/KEY] in the region that has the bucket: this
 * one first, then each peer while the answer is NoSuchBucket. With @sink a
 * 200 answer's body goes to it instead of @out. */
static int call(struct ddb_s3_hook *h, const char *method, const char *bucket, const char *key,
                const char *query, const struct awsc_header *hd, size_t nhd, const void *body,
                size_t len, struct sink *sink, struct awsc_resp *out, struct ddb_s3_err *er)
{
    struct arena *a = arena_new();
    char *path = arena_sprintf(a, "/%s%s%s", url_encode(a, bucket, false), key ? "/" : "",
                               key ? url_encode(a, key, true) : "");
    int st = 0;

    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i <= h->npeers; i++) {
        const char *ep = i ? h->peer_url[i - 1] : h->self_url;
        const char *rg = i ? h->peer_region[i - 1] : h->region;
        struct awsc_req r = {.method = method,
                             .endpoint = ep,
                             .path = path,
                             .query = query,
                             .region = rg,
                             .service = "s3",
                             .headers = hd,
                             .nheaders = nhd,
                             .body = body,
                             .body_len = len,
                             .unsigned_payload = true,
                             /* a streamed body arrives as fast as it is imported */
                             .timeout_ms = sink ? 6 * 3600 * 1000L : 120000,
                             .on_data = sink ? sink_data : NULL,
                             .data_ud = sink};
        struct err e = {0};
        char code[64] = "";

        if (!ep)
            continue;
        awsc_resp_free(out);
        if (awsc_call(&h->creds, &r, out, &e) != ERR_OK) {
            st = 0;
            snprintf(er->code, sizeof(er->code), "%s", "ServiceUnavailable");
            snprintf(er->msg, sizeof(er->msg), "%s", e.msg);
            if (sink && sink->got)
                break; /* cut off mid-body: not another region's object */
            continue;
        }
        st = (int)out->status;
        if (st / 100 == 2)
            break;
        buf_putc(&out->body, '\0');
        xml_text(out->body.ptr, "Code", code, sizeof(code));
        snprintf(er->code, sizeof(er->code), "%s", code);
        xml_text(out->body.ptr, "Message", er->msg, sizeof(er->msg));
        if (strcmp(code, "NoSuchBucket") != 0)
            break;
    }
    arena_free(a);
    return st / 100 == 2 ? 200 : st;
}

static int hook_put(void *ud, const char *bucket, const char *key, const void *body, size_t len,
                    const char *sse, const char *kms_key, struct ddb_s3_err *er)
{
    struct awsc_header hd[2];
    size_t n = 0;
    struct awsc_resp resp;
    int st;

    if (sse)
        hd[n++] = (struct awsc_header){"x-amz-server-side-encryption", sse};
    if (kms_key)
        hd[n++] = (struct awsc_header){"x-amz-server-side-encryption-aws-kms-key-id", kms_key};
    st = call(ud, "PUT", bucket, key, NULL, hd, n, body, len, NULL, &resp, er);
    awsc_resp_free(&resp);
    return st;
}

static int hook_get(void *ud, const char *bucket, const char *key,
                    bool (*on_data)(void *arg, const void *p, size_t n), void *arg,
                    struct ddb_s3_err *er)
{
    struct sink sink = {on_data, arg, false};
    struct awsc_resp resp;
    int st = call(ud, "GET", bucket, key, NULL, NULL, 0, NULL, 0, &sink, &resp, er);

    awsc_resp_free(&resp);
    return st;
}

static int hook_list(void *ud, const char *bucket, const char *prefix, struct buf *keys,
                     struct ddb_s3_err *er)
{
    char *token = NULL;
    int st;

    for (int pages = 0; pages < 100000; pages++) {
        struct arena *a = arena_new();
        char *q =
            arena_sprintf(a, "%s%s%slist-type=2&prefix=%s", token ? "continuation-token=" : "",
                          token ? url_encode(a, token, false) : "", token ? "&" : "",
                          url_encode(a, prefix, false));
        struct awsc_resp resp;
        const char *p;
        char *key = xmalloc(2048), more[16];

        st = call(ud, "GET", bucket, NULL, q, NULL, 0, NULL, 0, NULL, &resp, er);
        free(token);
        token = NULL;
        if (st == 200) {
            buf_putc(&resp.body, '\0');
            p = resp.body.ptr;
            while ((p = strstr(p, "<Contents>")) && (p = xml_text(p, "Key", key, 2048))) {
                unescape(key);
                buf_append(keys, key, strlen(key) + 1);
            }
            xml_text(resp.body.ptr, "IsTruncated", more, sizeof(more));
            if (strcmp(more, "true") == 0 &&
                xml_text(resp.body.ptr, "NextContinuationToken", key, 2048)) {
                unescape(key);
                token = xstrdup(key);
            }
        }
        free(key);
        awsc_resp_free(&resp);
        arena_free(a);
        if (st != 200 || !token)
            break;
    }
    free(token);
    return st;
}

struct ddb_s3_hook *ddb_s3_hook_new(const char *region, const char *access_key, const char *secret,
                                    const char *const *peer_regions, const char *const *peer_urls,
                                    size_t npeers)
{
    struct ddb_s3_hook *h = xcalloc(1, sizeof(*h));

    h->hook = (struct ddb_s3){.ud = h, .put = hook_put, .get = hook_get, .list = hook_list};
    h->region = xstrdup(region);
    h->creds.access_key = xstrdup(access_key);
    h->creds.secret = xstrdup(secret);
    for (size_t i = 0; i < npeers && i < HOOK_PEERS; i++) {
        h->peer_region[i] = xstrdup(peer_regions[i]);
        h->peer_url[i] = xstrdup(peer_urls[i]);
        h->npeers++;
    }
    return h;
}

void ddb_s3_hook_set_self(struct ddb_s3_hook *h, const char *url)
{
    free(h->self_url);
    h->self_url = xstrdup(url);
}

const struct ddb_s3 *ddb_s3_hook_get(const struct ddb_s3_hook *h)
{
    return &h->hook;
}

void ddb_s3_hook_free(struct ddb_s3_hook *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->npeers; i++) {
        free(h->peer_region[i]);
        free(h->peer_url[i]);
    }
    free((char *)h->creds.access_key);
    free((char *)h->creds.secret);
    free(h->region);
    free(h->self_url);
    free(h);
}
