/* website.c - a bucket's website endpoint, served from its stored website
 * configuration as S3's website endpoints serve it.
 *
 * Addressing (api.c): Host BUCKET.s3-website.REGION.localhost[:port] or
 * BUCKET.s3-website-REGION.<anything>, or the path form /_website/BUCKET/KEY
 * on the region's own address. Requests are anonymous whatever they carry
 * (a website endpoint ignores credentials), only GET and HEAD are served, and
 * reading an object is governed exactly as an anonymous REST GetObject: the
 * bucket policy (with Block Public Access) or a public-read object ACL.
 *
 * A path that is empty or ends in "/" takes the IndexDocument suffix; a key
 * KEY that is missing while KEY/INDEX exists is redirected (302) to KEY/. A
 * refused (403) or missing (404) object answers the ErrorDocument with that
 * status when one is configured and readable, else an HTML error page. The
 * whole site may redirect (RedirectAllRequestsTo); RoutingRules redirect on
 * KeyPrefixEquals and/or HttpErrorCodeReturnedEquals; an object stored with
 * x-amz-website-redirect-location answers 301 to it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "s3_int.h"
#include "s3_xml.h"
#include "store.h"
#include "xmlw.h"

/* whether object @key of the bucket may be read anonymously: 0 yes, 403, 404; its
 * website redirect location in *@wrl (arena) when asked and there */
static int probe(struct http_req *r, struct store_txn *t, const char *key, const char **wrl)
{
    struct s3_req *q = s3_req_of(r);
    cJSON *v = s3_find_version(t, r->arena, q->bucket, key, NULL, NULL);
    bool exists = v && !cJSON_IsTrue(cJSON_GetObjectItem(v, "dm"));
    bool allowed = s3_may(r, "s3:GetObject", q->bucket, key); /* policy or ACL */
    int st = !allowed ? 403 : !exists ? 404 : 0;

    if (wrl && !st && json_str_ci(v, "wrl"))
        *wrl = arena_strdup(r->arena, json_str_ci(v, "wrl"));
    cJSON_Delete(v);
    return st;
}

/* answer a redirect to @proto://@host@path (@host NULL: this endpoint) */
static void redirect(struct http_req *r, int status, const char *proto, const char *host,
                     const char *path)
{
    struct s3_req *q = s3_req_of(r);
    const char *loc;

    if (host && *host)
        loc = arena_sprintf(r->arena, "%s://%s%s", proto && *proto ? proto : "http", host, path);
    else if (strncmp(path, "http://", 7) == 0 || strncmp(path, "https://", 8) == 0)
        loc = path;
    else
        loc = arena_sprintf(r->arena, "%s%s", q->web_base, path);
    q->answered = true;
    http_resp_header(r, "x-amz-request-id", q->request_id);
    http_resp_header(r, "Server", "AmazonS3");
    http_resp_header(r, "Location", loc);
    http_respond(r, status, "", 0);
}

/* a rule's Redirect applied to @key: answers and returns true */
static bool apply_rule(struct http_req *r, const struct s3_xml *rule, const char *key)
{
    const struct s3_xml *c = s3_xml_child(rule, "Condition"), *rd = s3_xml_child(rule, "Redirect");
    const char *pre = s3_xml_text(c, "KeyPrefixEquals");
    const char *rkw = s3_xml_text(rd, "ReplaceKeyWith");
    const char *rkp = s3_xml_text(rd, "ReplaceKeyPrefixWith");
    const char *code = s3_xml_text(rd, "HttpRedirectCode");
    const char *path, *host;
    int status = code ? atoi(code) : 301;

    if (!rd)
        return false;
    if (rkw)
        path = arena_sprintf(r->arena, "/%s", rkw);
    else if (rkp)
        path = arena_sprintf(r->arena, "/%s%s", rkp, key + (pre ? strlen(pre) : 0));
    else
        path = arena_sprintf(r->arena, "/%s", key);
    path = url_encode(r->arena, path, true);
    host = s3_xml_text(rd, "HostName");
    if (!host || !*host) { /* this endpoint, by the name the client used, as S3 answers */
        host = http_req_header(r, "host");
        path = arena_sprintf(r->arena, "%s%s", s3_req_of(r)->web_base, path);
    }
    redirect(r, status >= 300 && status < 400 ? status : 301, s3_xml_text(rd, "Protocol"), host,
             path);
    return true;
}

bool s3_website_check(const struct s3_xml *x, enum s3_code *code, char *msg, size_t cap)
{
    const struct s3_xml *rules = s3_xml_child(x, "RoutingRules"), *n, *rd;
    const char *p;

    msg[0] = 0;
    *code = S3E_INVALID_REQUEST;
    for (n = rules ? rules->child : NULL; n; n = n->next) {
        const char *c;
        rd = s3_xml_child(n, "Redirect");
        c = s3_xml_text(rd, "HttpRedirectCode");
        if (c && strcmp(c, "301") != 0 && strcmp(c, "302") != 0 && strcmp(c, "303") != 0 &&
            strcmp(c, "304") != 0 && strcmp(c, "305") != 0 && strcmp(c, "307") != 0 &&
            strcmp(c, "308") != 0) {
            snprintf(msg, cap,
                     "The provided HTTP redirect code (%.16s) is not valid. Valid codes are 3XX "
                     "except 300.",
                     c);
            return false;
        }
        if ((p = s3_xml_text(rd, "Protocol")) && strcmp(p, "http") != 0 && strcmp(p, "https") != 0)
            break;
    }
    p = n ? "" : s3_xml_text(s3_xml_child(x, "RedirectAllRequestsTo"), "Protocol");
    if (n || (p && strcmp(p, "http") != 0 && strcmp(p, "https") != 0)) {
        snprintf(msg, cap,
                 "Invalid protocol, protocol can be http or https. If not defined the "
                 "protocol will be selected automatically.");
        return false;
    }
    return true;
}

/* the first routing rule matching @key and @status (0: before the lookup,
 * so rules with an error-code condition do not match); answers when found */
static bool route_rules(struct http_req *r, const struct s3_xml *cfg, const char *key, int status)
{
    const struct s3_xml *rules = s3_xml_child(cfg, "RoutingRules"), *n;

    for (n = rules ? rules->child : NULL; n; n = n->next) {
        const struct s3_xml *c = s3_xml_child(n, "Condition");
        const char *pre = s3_xml_text(c, "KeyPrefixEquals");
        const char *err = s3_xml_text(c, "HttpErrorCodeReturnedEquals");
        if (strcmp(n->name, "RoutingRule") != 0)
            continue;
        if (pre && strncmp(key, pre, strlen(pre)) != 0)
            continue;
        if (err ? atoi(err) != status : status != 0)
            continue;
        return apply_rule(r, n, key);
    }
    return false;
}

void s3_website(struct http_req *r)
{
    struct s3_req *q = s3_req_of(r);
    bool head = strcmp(r->method, "HEAD") == 0;
    const struct s3_xml *all, *idx;
    const char *x, *suffix, *errdoc, *key = q->key, *wrl = NULL;
    struct store_txn *t = NULL;
    struct s3_xml *cfg;
    cJSON *b;
    int st;

    if (!head && strcmp(r->method, "GET") != 0) {
        s3_error(r, S3E_METHOD_NOT_ALLOWED, NULL);
        return;
    }
    if (store_read_begin(q->s3->store, &t, NULL) != ERR_OK) {
        s3_error(r, S3E_INTERNAL, NULL);
        return;
    }
    b = s3_bucket_get(t, r->arena, q->bucket);
    x = b ? s3_cfg_stored(b, "website") : NULL;
    if (!b || !x || s3_xml_parse(r->arena, x, strlen(x), &cfg, NULL) != ERR_OK) {
        store_txn_abort(t);
        cJSON_Delete(b);
        s3_error(r, b ? S3E_NO_SUCH_WEBSITE : S3E_NO_SUCH_BUCKET, NULL);
        return;
    }
    if ((all = s3_xml_child(cfg, "RedirectAllRequestsTo"))) {
        store_txn_abort(t);
        cJSON_Delete(b);
        redirect(r, 301, s3_xml_text(all, "Protocol"), s3_xml_text(all, "HostName"),
                 url_encode(r->arena, arena_sprintf(r->arena, "/%s", q->key), true));
        return;
    }
    idx = s3_xml_child(cfg, "IndexDocument");
    suffix = s3_xml_text(idx, "Suffix");
    errdoc = s3_xml_text(s3_xml_child(cfg, "ErrorDocument"), "Key");
    if (route_rules(r, cfg, q->key, 0))
        goto done;
    if (suffix && (!*key || key[strlen(key) - 1] == '/'))
        key = arena_sprintf(r->arena, "%s%s", key, suffix);
    q->bucket_known = true;
    q->bucket_rec = b;
    st = probe(r, t, key, &wrl);
    if (wrl) { /* the object's x-amz-website-redirect-location */
        redirect(r, 301, NULL, NULL, wrl);
        goto done;
    }
    /* KEY missing but KEY/INDEX there: the folder's address, as S3 redirects */
    if (st == 404 && suffix && key == q->key &&
        probe(r, t, arena_sprintf(r->arena, "%s/%s", key, suffix), NULL) == 0) {
        redirect(r, 302, NULL, NULL,
                 url_encode(r->arena, arena_sprintf(r->arena, "/%s/", key), true));
        goto done;
    }
    if (st && route_rules(r, cfg, q->key, st))
        goto done;
    if (st && errdoc && probe(r, t, errdoc, NULL) == 0) {
        q->web_status = st;
        key = errdoc;
        st = 0;
    }
    q->bucket_known = false;
    q->bucket_rec = NULL;
    store_txn_abort(t);
    cJSON_Delete(b);
    if (st) {
        q->key = key;
        s3_error(r, st == 403 ? S3E_ACCESS_DENIED : S3E_NO_SUCH_KEY, NULL);
        return;
    }
    q->key = key;
    s3_get_object(r, head);
    return;
done:
    q->bucket_known = false;
    q->bucket_rec = NULL;
    store_txn_abort(t);
    cJSON_Delete(b);
}

static const char *reason(int status)
{
    switch (status) {
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 412:
        return "Precondition Failed";
    case 416:
        return "Requested Range Not Satisfiable";
    case 500:
        return "Internal Server Error";
    default:
        return "Error";
    }
}

void s3_website_error(struct http_req *r, int status, const char *code, const char *msg,
                      struct buf *b)
{
    struct s3_req *q = s3_req_of(r);

    buf_printf(b, "<html>\n<head><title>%d %s</title></head>\n<body>\n<h1>%d %s</h1>\n<ul>\n",
               status, reason(status), status, reason(status));
    buf_puts(b, "<li>Code: ");
    xmlw_text(b, code, XMLW_CTRL);
    buf_puts(b, "</li>\n<li>Message: ");
    xmlw_text(b, msg, XMLW_CTRL);
    buf_puts(b, "</li>\n");
    if (strcmp(code, "NoSuchBucket") == 0 || strcmp(code, "NoSuchWebsiteConfiguration") == 0) {
        buf_puts(b, "<li>BucketName: ");
        xmlw_text(b, q->bucket, XMLW_CTRL);
        buf_puts(b, "</li>\n");
    } else if (strcmp(code, "NoSuchKey") == 0) {
        buf_puts(b, "<li>Key: ");
        xmlw_text(b, q->key, XMLW_CTRL);
        buf_puts(b, "</li>\n");
    }
    buf_printf(b, "<li>RequestId: %s</li>\n</ul>\n<hr/>\n</body>\n</html>\n", q->request_id);
}
