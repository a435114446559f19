/* query.c - the query protocol IAM and STS speak: form parameters, XML
 * text, error and result envelopes. See iam_int.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "clock.h"
#include "iam_int.h"
#include "log.h"
#include "mem.h"
#include "url.h"

/* ---- small helpers shared with sts.c and authz.c ---- */

void iam_random_id(char *out, const char *prefix, size_t n, const char *alphabet)
{
    unsigned char rnd[128];
    size_t plen = strlen(prefix), alen = strlen(alphabet);

    if (n > sizeof(rnd))
        n = sizeof(rnd);
    if (getrandom(rnd, n, 0) != (ssize_t)n)
        for (size_t i = 0; i < n; i++)
            rnd[i] = (unsigned char)rand();
    memcpy(out, prefix, plen);
    for (size_t i = 0; i < n; i++)
        out[plen + i] = alphabet[rnd[i] % alen];
    out[plen + n] = '\0';
}

void iam_now_iso(char out[32], long long offset_s)
{
    time_t t = clock_wall_s() + (time_t)offset_s;
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Policy documents travel URL-encoded inside IAM's XML (RFC 3986). */
void iam_xml_urlenc(struct buf *b, const char *name, const char *json)
{
    buf_printf(b, "<%s>", name);
    url_encode_buf(b, json, false);
    buf_printf(b, "</%s>", name);
}

static void parse_form(struct iam_call *c, const char *s, size_t len)
{
    size_t cap = 1, pos = 0;
    struct url_param p;

    for (size_t i = 0; i < len; i++)
        cap += s[i] == '&';
    c->keys = arena_alloc(c->r->arena, cap * sizeof(*c->keys));
    c->vals = arena_alloc(c->r->arena, cap * sizeof(*c->vals));
    c->nparams = 0;
    while (url_query_next(s, len, &pos, &p)) {
        c->keys[c->nparams] = url_decode(c->r->arena, p.key, p.key_len);
        c->vals[c->nparams] = url_decode(c->r->arena, p.val, p.val_len);
        c->nparams++;
    }
}

const char *iam_param(const struct iam_call *c, const char *name)
{
    for (size_t i = 0; i < c->nparams; i++)
        if (strcmp(c->keys[i], name) == 0)
            return c->vals[i];
    return NULL;
}

void iam_respond_error(struct http_req *r, bool sts, int status, const char *code, const char *msg)
{
    struct buf b;
    char rid[40];

    iam_random_id(rid, "", 32, "0123456789abcdef");
    buf_init(&b, 0);
    buf_printf(&b,
               "<ErrorResponse xmlns=\"%s\">\n  <Error>\n    <Type>%s</Type>\n    <Code>%s</Code>\n"
               "    <Message>",
               sts ? STS_NS : IAM_NS, status >= 500 ? "Receiver" : "Sender", code);
    xmlw_text(&b, msg, 0);
    buf_printf(&b, "</Message>\n  </Error>\n  <RequestId>%s</RequestId>\n</ErrorResponse>\n", rid);
    http_resp_header(r, "Content-Type", "text/xml");
    http_resp_header(r, "x-amzn-RequestId", rid);
    http_respond_buf(r, status, &b);
    buf_free(&b);
}

void iam_fail(struct iam_call *c, int status, const char *code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    iam_respond_error(c->r, c->sts, status, code, msg);
}

/* IAM's error codes for what the store operations return. ERR_CONFLICT is a
 * DeleteConflict, ERR_IN_USE an EntityAlreadyExists. */
void iam_fail_err(struct iam_call *c, enum err_code rc, const struct err *e)
{
    static const struct {
        enum err_code code;
        int status;
        const char *name;
    } map[] = {
        {ERR_INVALID, 400, "ValidationError"},    {ERR_NOTFOUND, 404, "NoSuchEntity"},
        {ERR_IN_USE, 409, "EntityAlreadyExists"}, {ERR_CONFLICT, 409, "DeleteConflict"},
        {ERR_LIMIT, 409, "LimitExceeded"},        {ERR_TOO_LARGE, 409, "LimitExceeded"},
        {ERR_DENIED, 403, "AccessDenied"},
    };

    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (map[i].code == rc) {
            iam_fail(c, map[i].status, map[i].name, "%s", e->msg);
            return;
        }
    }
    log_err("event=iam_error action=%s code=%s msg=\"%s\"", c->action, err_name(rc), e->msg);
    iam_fail(c, 500, "ServiceFailure", "%s", e->msg[0] ? e->msg : "Internal error");
}

void iam_reply(struct iam_call *c, const char *result)
{
    struct buf b;

    buf_init(&b, 0);
    buf_printf(&b, "<%sResponse xmlns=\"%s\">\n", c->action, c->sts ? STS_NS : IAM_NS);
    if (result)
        buf_printf(&b, "  <%sResult>%s</%sResult>\n", c->action, result, c->action);
    buf_printf(&b,
               "  <ResponseMetadata>\n    <RequestId>%s</RequestId>\n  </ResponseMetadata>\n"
               "</%sResponse>\n",
               c->rid, c->action);
    http_resp_header(c->r, "Content-Type", "text/xml");
    http_resp_header(c->r, "x-amzn-RequestId", c->rid);
    if (c->forwarded) { /* the forwarding region waits until it has applied this change */
        char seq[24];
        pthread_mutex_lock(&c->iam->mu);
        snprintf(seq, sizeof(seq), "%llu", (unsigned long long)c->iam->seq);
        pthread_mutex_unlock(&c->iam->mu);
        http_resp_header(c->r, "X-Tandem-Iam-Seq", seq);
    }
    http_respond_buf(c->r, 200, &b);
    buf_free(&b);
}

/* A page's Marker is the position of its first item, as text ("p" and a
 * number): the lists come in a stable order (stored keys, then AWS's managed
 * policies), so a list that does not change pages the same way each time. */
static bool page_marker(const char *m, long *skip)
{
    char *end;
    long v;

    if (m[0] != 'p' || m[1] < '0' || m[1] > '9')
        return false;
    v = strtol(m + 1, &end, 10);
    if (*end || v < 0 || v > 100000000)
        return false;
    *skip = v;
    return true;
}

void iam_reply_page(struct iam_call *c, const char *result)
{
    static const char tail[] = "<IsTruncated>false</IsTruncated>";
    const char *max_s = iam_param(c, "MaxItems"), *marker = iam_param(c, "Marker");
    const char *p = result, *t;
    long max = 100, skip = 0, idx = 0;
    bool more = false;
    struct buf b;
    int depth = 0;

    if (max_s) {
        char *end;
        max = strtol(max_s, &end, 10);
        if (!*max_s || *end || max < 1 || max > 1000) {
            iam_fail(c, 400, "ValidationError",
                     "1 validation error detected: Value '%.40s' at 'maxItems' failed to satisfy "
                     "constraint: Member must have value %s",
                     max_s, max < 1 ? "greater than or equal to 1" : "less than or equal to 1000");
            return;
        }
    }
    if (marker && !page_marker(marker, &skip)) {
        iam_fail(c, 400, "ValidationError", "Invalid Marker.");
        return;
    }
    buf_init(&b, strlen(result) + 64);
    while (*p) {
        const char *open = strstr(p, "<member>"), *close = strstr(p, "</member>");
        const char *next = open && (!close || open < close) ? open : close;
        if (!next) {
            buf_puts(&b, p);
            break;
        }
        if (next == open && depth++ == 0) { /* an item begins */
            bool keep = idx >= skip && idx < skip + max;
            more = more || idx >= skip + max;
            idx++;
            buf_append(&b, p, (size_t)(open - p));
            if (!keep) { /* skip to the end of this item */
                int d = 1;
                const char *q = open + 8;
                while (d > 0 && *q) {
                    const char *o = strstr(q, "<member>"), *x = strstr(q, "</member>");
                    if (!x) {
                        q += strlen(q);
                        break;
                    }
                    if (o && o < x) {
                        d++;
                        q = o + 8;
                    } else {
                        d--;
                        q = x + 9;
                    }
                }
                depth = 0;
                p = q;
                continue;
            }
            buf_puts(&b, "<member>");
            p = open + 8;
            continue;
        }
        if (next == close)
            depth--;
        buf_append(&b, p, (size_t)(next - p) + (next == close ? 9 : 8));
        p = next + (next == close ? 9 : 8);
    }
    if (more && (t = strstr(b.ptr ? b.ptr : "", tail))) {
        struct buf o;
        buf_init(&o, b.len + 64);
        buf_append(&o, b.ptr, (size_t)(t - b.ptr));
        buf_printf(&o, "<IsTruncated>true</IsTruncated><Marker>p%ld</Marker>", skip + max);
        buf_puts(&o, t + sizeof(tail) - 1);
        iam_reply(c, o.ptr);
        buf_free(&o);
    } else {
        iam_reply(c, b.ptr ? b.ptr : "");
    }
    buf_free(&b);
}

bool iam_call_init(struct iam_call *c, struct iam *iam, struct http_req *r,
                   const struct creds_identity *who, bool sts)
{
    const char *version;

    memset(c, 0, sizeof(*c));
    c->iam = iam;
    c->r = r;
    c->source_ip = r->remote_addr;
    c->secure = r->tls;
    c->who = who;
    c->sts = sts;
    iam_random_id(c->rid, "", 32, "0123456789abcdef");
    if (strcmp(r->method, "POST") == 0)
        parse_form(c, r->body.ptr ? r->body.ptr : "", r->body.len);
    else
        parse_form(c, r->query, strlen(r->query));
    c->action = iam_param(c, "Action");
    version = iam_param(c, "Version");
    if (!c->action || !*c->action) {
        iam_respond_error(r, sts, 400, "MissingAction", "Missing Action");
        return false;
    }
    if (strspn(c->action, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") !=
            strlen(c->action) ||
        strlen(c->action) > 64) {
        iam_respond_error(r, sts, 400, "InvalidAction", "Invalid Action");
        c->action = NULL;
        return false;
    }
    if (version && strcmp(version, sts ? "2011-06-15" : "2010-05-08") != 0) {
        iam_fail(c, 400, "InvalidAction", "Could not find operation %s for version %s", c->action,
                 version);
        return false;
    }
    return true;
}
