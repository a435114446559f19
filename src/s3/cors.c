/* cors.c - Cross-Origin Resource Sharing of a bucket, as S3 does it.
 *
 * The configuration (Put/Get/DeleteBucketCors, ?cors) is stored by config.c
 * after s3_cors_check; here it is acted on. A browser's preflight (OPTIONS
 * with Origin and Access-Control-Request-Method, unsigned) is answered from
 * the first CORSRule whose AllowedOrigin, AllowedMethod and AllowedHeader
 * cover it, else 403 AccessForbidden "CORSResponse: ..."; a request with an
 * Origin header gets the matching rule's Access-Control-* headers (S3 User
 * Guide, "How does Amazon S3 evaluate the CORS configuration on a bucket?"). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "s3_int.h"
#include "s3_xml.h"

enum { MAX_RULES = 100 };

static const char *const methods[] = {"GET", "PUT", "POST", "DELETE", "HEAD", NULL};

bool s3_cors_check(const struct s3_xml *x, enum s3_code *code, char *msg, size_t cap)
{
    const struct s3_xml *rule, *n;
    int rules = 0;

    *code = S3E_MALFORMED_XML;
    msg[0] = '\0';
    if (strcmp(x->name, "CORSConfiguration") != 0)
        return false;
    for (rule = x->child; rule; rule = rule->next) {
        int origins = 0, nmethods = 0;
        if (strcmp(rule->name, "CORSRule") != 0 || ++rules > MAX_RULES)
            return false;
        for (n = rule->child; n; n = n->next) {
            if (strcmp(n->name, "AllowedOrigin") == 0) {
                const char *star = strchr(n->text, '*');
                if (star && strchr(star + 1, '*')) {
                    *code = S3E_INVALID_REQUEST;
                    snprintf(msg, cap,
                             "AllowedOrigin \"%.200s\" can not have more than one "
                             "wildcard.",
                             n->text);
                    return false;
                }
                origins++;
            } else if (strcmp(n->name, "AllowedMethod") == 0) {
                int i;
                for (i = 0; methods[i] && strcmp(methods[i], n->text) != 0; i++)
                    ;
                if (!methods[i]) {
                    *code = S3E_INVALID_REQUEST;
                    snprintf(msg, cap,
                             "Found unsupported HTTP method in CORS config. Unsupported method "
                             "is %.60s",
                             n->text);
                    return false;
                }
                nmethods++;
            } else if (strcmp(n->name, "AllowedHeader") == 0) {
                const char *star = strchr(n->text, '*');
                if (star && strchr(star + 1, '*')) {
                    *code = S3E_INVALID_REQUEST;
                    snprintf(msg, cap,
                             "AllowedHeader \"%.200s\" can not have more than one "
                             "wildcard.",
                             n->text);
                    return false;
                }
            } else if (strcmp(n->name, "MaxAgeSeconds") == 0) {
                if (!*n->text || strspn(n->text, "0123456789") != strlen(n->text) ||
                    strlen(n->text) > 9)
                    return false;
            } else if (strcmp(n->name, "ID") == 0) {
                if (strlen(n->text) > 255)
                    return false;
            } else if (strcmp(n->name, "ExposeHeader") != 0) {
                return false;
            }
        }
        if (!origins || !nmethods)
            return false;
    }
    return rules > 0;
}

/* one '*' matches any run of characters; @fold: ignore case */
static bool glob(const char *pat, const char *s, bool fold)
{
    const char *star = strchr(pat, '*');
    size_t pre, post, n = strlen(s);

    if (!star)
        return fold ? strcasecmp(pat, s) == 0 : strcmp(pat, s) == 0;
    pre = (size_t)(star - pat);
    post = strlen(star + 1);
    if (n < pre + post)
        return false;
    if (fold)
        return strncasecmp(pat, s, pre) == 0 && strcasecmp(star + 1, s + n - post) == 0;
    return strncmp(pat, s, pre) == 0 && strcmp(star + 1, s + n - post) == 0;
}

static bool has(const struct s3_xml *rule, const char *name, const char *v, bool fold)
{
    for (const struct s3_xml *n = rule->child; n; n = n->next)
        if (strcmp(n->name, name) == 0 && glob(n->text, v, fold))
            return true;
    return false;
}

/* every header of the comma-separated list @hdrs is allowed by @rule */
static bool headers_allowed(struct http_req *r, const struct s3_xml *rule, const char *hdrs)
{
    char *list = arena_strdup(r->arena, hdrs ? hdrs : ""), *save = NULL, *h;

    for (h = strtok_r(list, ",", &save); h; h = strtok_r(NULL, ",", &save)) {
        char *end;
        while (*h == ' ' || *h == '\t')
            h++;
        end = h + strlen(h);
        while (end > h && (end[-1] == ' ' || end[-1] == '\t'))
            *--end = '\0';
        if (*h && !has(rule, "AllowedHeader", h, true))
            return false;
    }
    return true;
}

/* the bucket's CORS rules (arena), NULL when it has none; *@exists whether the bucket does */
static struct s3_xml *rules_of(struct http_req *r, bool *exists)
{
    struct s3_req *q = s3_req_of(r);
    struct store_txn *t = NULL;
    struct s3_xml *x = NULL;
    const char *doc;
    cJSON *b = NULL;

    *exists = false;
    if (store_read_begin(q->s3->store, &t, NULL) != ERR_OK)
        return NULL;
    b = s3_bucket_get(t, r->arena, q->bucket);
    store_txn_abort(t);
    if (!b)
        return NULL;
    *exists = true;
    doc = s3_cfg_stored(b, "cors");
    if (doc && s3_xml_parse(r->arena, doc, strlen(doc), &x, NULL) != ERR_OK)
        x = NULL;
    cJSON_Delete(b);
    return x;
}

static void join(struct buf *b, const struct s3_xml *rule, const char *name)
{
    for (const struct s3_xml *n = rule->child; n; n = n->next) {
        if (strcmp(n->name, name) != 0)
            continue;
        if (b->len)
            buf_puts(b, ", ");
        buf_puts(b, n->text);
    }
}

/* the Access-Control-* headers of @rule for @origin */
static void allow(struct http_req *r, const struct s3_xml *rule, const char *origin,
                  const char *req_headers)
{
    bool any = false; /* AllowedOrigin "*": any origin, without credentials */
    struct buf b;
    const char *age = s3_xml_text(rule, "MaxAgeSeconds");

    for (const struct s3_xml *n = rule->child; n; n = n->next)
        if (strcmp(n->name, "AllowedOrigin") == 0 && strcmp(n->text, "*") == 0)
            any = true;
    http_resp_header(r, "Access-Control-Allow-Origin", any ? "*" : origin);
    buf_init(&b, 0);
    join(&b, rule, "AllowedMethod");
    http_resp_header(r, "Access-Control-Allow-Methods", b.ptr ? b.ptr : "");
    buf_free(&b);
    if (req_headers && *req_headers) {
        char *low = arena_strdup(r->arena, req_headers);
        for (char *p = low; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        http_resp_header(r, "Access-Control-Allow-Headers", low);
    }
    buf_init(&b, 0);
    join(&b, rule, "ExposeHeader");
    if (b.len)
        http_resp_header(r, "Access-Control-Expose-Headers", b.ptr);
    buf_free(&b);
    if (age)
        http_resp_header(r, "Access-Control-Max-Age", age);
    if (!any)
        http_resp_header(r, "Access-Control-Allow-Credentials", "true");
    http_resp_header(r, "Vary",
                     "Origin, Access-Control-Request-Headers, Access-Control-Request-Method");
}

static const struct s3_xml *matching(struct s3_xml *x, struct http_req *r, const char *origin,
                                     const char *method, const char *req_headers)
{
    for (const struct s3_xml *rule = x ? x->child : NULL; rule; rule = rule->next)
        if (has(rule, "AllowedOrigin", origin, false) &&
            has(rule, "AllowedMethod", method, false) && headers_allowed(r, rule, req_headers))
            return rule;
    return NULL;
}

void s3_cors_preflight(struct http_req *r)
{
    const char *origin = http_req_header(r, "origin");
    const char *method = http_req_header(r, "access-control-request-method");
    const char *hdrs = http_req_header(r, "access-control-request-headers");
    const struct s3_xml *rule;
    struct s3_xml *x;
    bool exists;

    if (!origin) {
        s3_error(r, S3E_BAD_REQUEST, "Insufficient information. Origin request header needed.");
        return;
    }
    /* S3 looks at the bucket and its configuration before the method (a
     * preflight without one is refused as any, naming OPTIONS) */
    x = rules_of(r, &exists);
    if (!exists) {
        /* a preflight on a bucket that does not exist: S3 answers the CORS
         * refusal, not NoSuchBucket */
        s3_error(r, S3E_CORS_FORBIDDEN, "CORSResponse: Bucket not found");
        return;
    }
    if (!x) {
        s3_error(r, S3E_CORS_FORBIDDEN, "CORSResponse: CORS is not enabled for this bucket.");
        return;
    }
    if (!method) {
        s3_error(r, S3E_BAD_REQUEST, "Invalid Access-Control-Request-Method: null");
        return;
    }
    if (!(rule = matching(x, r, origin, method, hdrs))) {
        /* only this refusal names an object path's resource as one */
        s3_req_of(r)->cors_object = s3_req_of(r)->key[0] != '\0';
        s3_error(r, S3E_CORS_FORBIDDEN,
                 "CORSResponse: This CORS request is not allowed. This is usually because the "
                 "evalution of Origin, request method / Access-Control-Request-Method or "
                 "Access-Control-Request-Headers are not whitelisted by the resource's CORS "
                 "spec.");
        return;
    }
    allow(r, rule, origin, hdrs);
    s3_ok(r, 200, NULL);
}

void s3_cors_headers(struct http_req *r)
{
    const char *origin = http_req_header(r, "origin");
    const char *acrm = http_req_header(r, "access-control-request-method"), *method = r->method;
    const struct s3_xml *rule;
    struct s3_xml *x;
    bool exists;

    if (!origin || !(x = rules_of(r, &exists)))
        return;
    /* an Access-Control-Request-Method names the method to match, as for a preflight */
    if (acrm && *acrm)
        method = acrm;
    if ((rule = matching(x, r, origin, method, NULL)))
        allow(r, rule, origin, NULL);
}
