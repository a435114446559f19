/* post.c - browser-based uploads: POST Object with an HTML form
 * (multipart/form-data) to the bucket's URL, as S3 serves them.
 *
 * The form's fields name the key (with ${filename} replaced by the file's
 * name), the object's headers (Content-Type, Cache-Control, x-amz-meta-*,
 * acl, tagging, ...) and, for a signed form, a base64 policy document and its
 * signature: SigV2 (AWSAccessKeyId, signature = base64 HMAC-SHA1 of the
 * policy) or SigV4 (x-amz-algorithm, x-amz-credential, x-amz-date,
 * x-amz-signature = hex HMAC-SHA256 with the signing key). The policy's
 * expiration and conditions (exact matches, starts-with, content-length-range)
 * are checked against every field, and every field but the signature's own,
 * the file and x-ignore-* ones must be named by a condition. A form without a
 * policy is an anonymous upload. The file (the last field S3 reads) is then
 * written as a PutObject by the caller the form names, and the answer follows
 * success_action_redirect (303) or success_action_status (200, 201 with a
 * PostResponse document, else 204). The body is buffered: uploads are limited
 * to the server's request body limit (16 MiB). */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cJSON.h"
#include "codec.h"
#include "s3_int.h"
#include "s3_xml.h"
#include "sigv4.h"
#include "url.h"

struct field {
    char *name; /* lower-case, arena */
    const char *value;
    size_t len;
    const char *filename; /* the file's part only */
};

struct form {
    struct field f[64];
    size_t n;
    const struct field *file;
};

static const struct field *form_get(const struct form *fm, const char *lname)
{
    for (size_t i = 0; i < fm->n; i++)
        if (strcmp(fm->f[i].name, lname) == 0)
            return &fm->f[i];
    return NULL;
}

static const char *form_str(const struct form *fm, const char *lname)
{
    const struct field *f = form_get(fm, lname);
    return f ? f->value : NULL;
}

static const char *mem_find(const char *h, size_t hl, const char *n, size_t nl)
{
    if (nl > hl)
        return NULL;
    for (size_t i = 0; i + nl <= hl; i++)
        if (h[i] == n[0] && memcmp(h + i, n, nl) == 0)
            return h + i;
    return NULL;
}

/* the quoted (or bare) parameter @p of a Content-Disposition line, arena */
static char *disp_param(struct arena *a, const char *line, size_t len, const char *p)
{
    size_t pl = strlen(p);
    for (size_t i = 0; i + pl + 1 < len; i++) {
        const char *s = line + i, *e;
        if ((i && line[i - 1] != ';' && line[i - 1] != ' ') || strncasecmp(s, p, pl) != 0 ||
            s[pl] != '=')
            continue;
        s += pl + 1;
        if (*s == '"') {
            e = memchr(s + 1, '"', (size_t)(line + len - s - 1));
            if (!e)
                return NULL;
            return arena_strndup(a, s + 1, (size_t)(e - s - 1));
        }
        for (e = s; e < line + len && *e != ';'; e++)
            ;
        return arena_strndup(a, s, (size_t)(e - s));
    }
    return NULL;
}

/* parse the multipart body; fields after the file are ignored, as S3 does */
static bool form_parse(struct http_req *r, struct form *fm)
{
    const char *ct = http_req_header(r, "content-type"), *b, *p, *end;
    char *bnd, *delim;
    size_t dl;

    b = ct ? strcasestr(ct, "boundary=") : NULL;
    if (!b || !r->body.ptr)
        return false;
    p = r->body.ptr;
    end = p + r->body.len;
    bnd = disp_param(r->arena, b, strlen(b), "boundary");
    if (!bnd || !*bnd || strlen(bnd) > 200)
        return false;
    delim = arena_sprintf(r->arena, "--%s", bnd);
    dl = strlen(delim);
    p = mem_find(p, (size_t)(end - p), delim, dl);
    while (p && !fm->file) {
        const char *hs, *he, *next;
        struct field *f;
        p += dl;
        if (end - p >= 2 && p[0] == '-' && p[1] == '-')
            break;
        if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
            return false;
        hs = p + 2;
        he = mem_find(hs, (size_t)(end - hs), "\r\n\r\n", 4);
        if (!he)
            return false;
        next = mem_find(he + 4, (size_t)(end - he - 4), delim, dl);
        if (!next || next - (he + 4) < 2 || fm->n == sizeof(fm->f) / sizeof(fm->f[0]))
            return false;
        f = &fm->f[fm->n];
        memset(f, 0, sizeof(*f));
        for (const char *l = hs; l < he;) {
            const char *le = mem_find(l, (size_t)(he - l), "\r\n", 2);
            size_t ll = le ? (size_t)(le - l) : (size_t)(he - l);
            if (ll > 20 && strncasecmp(l, "content-disposition:", 20) == 0) {
                f->name = disp_param(r->arena, l + 20, ll - 20, "name");
                f->filename = disp_param(r->arena, l + 20, ll - 20, "filename");
            }
            l += ll + 2;
        }
        if (!f->name)
            return false;
        for (char *c = f->name; *c; c++)
            *c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
        f->len = (size_t)(next - 2 - (he + 4));
        f->value = arena_strndup(r->arena, he + 4, f->len);
        if (strcmp(f->name, "file") == 0)
            fm->file = f;
        if (!form_get(fm, f->name)) /* the first of a name counts */
            fm->n++;
        p = next;
    }
    return true;
}

static void deny(struct http_req *r, enum s3_code code, const char *msg)
{
    s3_error(r, code, msg);
}

static bool bad_policy(struct http_req *r, const char *why)
{
    deny(r, S3E_INVALID_POLICY_DOC, arena_sprintf(r->arena, "Invalid Policy: %s", why));
    return false;
}

/* ISO 8601 "YYYY-MM-DDTHH:MM:SS[.fff]Z" into Unix seconds */
static bool iso_time(const char *s, time_t *out)
{
    struct tm tm = {0};
    int n = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &n) != 6 ||
        n != 19)
        return false;
    s += n;
    if (*s == '.')
        for (s++; *s >= '0' && *s <= '9'; s++)
            ;
    if (strcmp(s, "Z") != 0 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
        tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
        return false;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *out = timegm(&tm);
    return true;
}

/* the value a condition on @name sees: the form's field, or the bucket */
static const char *cond_value(struct http_req *r, const struct form *fm, const char *name)
{
    if (strcasecmp(name, "bucket") == 0)
        return s3_req_of(r)->bucket;
    for (size_t i = 0; i < fm->n; i++)
        if (strcasecmp(fm->f[i].name, name) == 0)
            return fm->f[i].value;
    return NULL;
}

static bool cond_failed(struct http_req *r, const cJSON *c)
{
    char *s = cJSON_PrintUnformatted(c);
    deny(r, S3E_ACCESS_DENIED,
         arena_sprintf(r->arena, "Invalid according to Policy: Policy Condition failed: %s", s));
    free(s);
    return false;
}

static void mark(const struct form *fm, bool *named, const char *name)
{
    for (size_t i = 0; i < fm->n; i++)
        if (strcasecmp(fm->f[i].name, name) == 0)
            named[i] = true;
}

/* check the decoded policy document against the form */
static bool check_policy(struct http_req *r, const struct form *fm, const char *doc, size_t len,
                         bool *named, bool *bucket_named)
{
    cJSON *j = cJSON_ParseWithLength(doc, len), *exp, *conds, *c;
    time_t t;
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return bad_policy(r, "Invalid JSON.");
    }
    arena_on_free(r->arena, s3_json_free, j);
    exp = cJSON_GetObjectItemCaseSensitive(j, "expiration");
    conds = cJSON_GetObjectItemCaseSensitive(j, "conditions");
    if (!exp)
        return bad_policy(r, "Policy missing expiration.");
    if (!cJSON_IsString(exp) || !iso_time(exp->valuestring, &t))
        return bad_policy(r, "Invalid 'expiration' value.");
    if (!conds)
        return bad_policy(r, "Policy missing conditions.");
    if (!cJSON_IsArray(conds))
        return bad_policy(r, "Invalid 'conditions' value: must be a List.");
    for (c = j->child; c; c = c->next)
        if (strcmp(c->string, "expiration") != 0 && strcmp(c->string, "conditions") != 0)
            return bad_policy(r, arena_sprintf(r->arena, "Unexpected field: '%s'.", c->string));
    if (t < time(NULL)) {
        deny(r, S3E_ACCESS_DENIED, "Invalid according to Policy: Policy expired.");
        return false;
    }
    for (c = conds->child; c; c = c->next) {
        if (cJSON_IsObject(c)) {
            const cJSON *kv = c->child;
            const char *have;
            if (!kv || kv->next || !cJSON_IsString(kv))
                return bad_policy(r, "Invalid Simple-Condition: Simple-Conditions must have "
                                     "exactly one property specified.");
            have = cond_value(r, fm, kv->string);
            if (!have || strcmp(have, kv->valuestring) != 0)
                return cond_failed(r, c);
            mark(fm, named, kv->string);
            *bucket_named |= strcasecmp(kv->string, "bucket") == 0;
        } else if (cJSON_IsArray(c) && cJSON_GetArraySize(c) >= 1 && cJSON_IsString(c->child)) {
            const char *op = c->child->valuestring;
            const cJSON *a1 = c->child->next, *a2 = a1 ? a1->next : NULL;
            if (strcasecmp(op, "content-length-range") == 0) {
                size_t n = fm->file ? fm->file->len : 0;
                if (!cJSON_IsNumber(a1) || !cJSON_IsNumber(a2) || a2->next || a1->valuedouble < 0 ||
                    a2->valuedouble < a1->valuedouble)
                    return bad_policy(r, "Invalid content-length-range condition: it takes a "
                                         "minimum and a maximum, non-negative integers.");
                if ((double)n > a2->valuedouble) {
                    deny(r, S3E_ENTITY_TOO_LARGE,
                         "Your proposed upload exceeds the maximum allowed size");
                    return false;
                }
                if ((double)n < a1->valuedouble) {
                    deny(r, S3E_ENTITY_TOO_SMALL,
                         "Your proposed upload is smaller than the minimum allowed size");
                    return false;
                }
                continue;
            }
            if ((strcasecmp(op, "eq") != 0 && strcasecmp(op, "starts-with") != 0) ||
                !cJSON_IsString(a1) || !cJSON_IsString(a2) || a2->next || a1->valuestring[0] != '$')
                return bad_policy(r, arena_sprintf(r->arena,
                                                   "Invalid Condition: the operation '%s' with "
                                                   "its arguments is not one S3 takes.",
                                                   op));
            {
                const char *name = a1->valuestring + 1, *have = cond_value(r, fm, name);
                const char *want = a2->valuestring;
                if (!have)
                    have = "";
                if (strcasecmp(op, "eq") == 0 ? strcmp(have, want) != 0
                                              : strncmp(have, want, strlen(want)) != 0)
                    return cond_failed(r, c);
                mark(fm, named, name);
                *bucket_named |= strcasecmp(name, "bucket") == 0;
            }
        } else {
            return bad_policy(r, "Invalid Condition: a condition is an object or a list.");
        }
    }
    return true;
}

/* the form's signature (SigV2 or SigV4) over the policy; sets the caller */
static bool check_signature(struct http_req *r, const struct form *fm, const char *policy)
{
    struct s3_req *q = s3_req_of(r);
    const char *alg = form_str(fm, "x-amz-algorithm");
    const char *ak, *sig, *tok;
    char want[129];

    if (alg) {
        const char *cred = form_str(fm, "x-amz-credential"), *date = form_str(fm, "x-amz-date");
        char akb[129], day[9], region[64], svc[16];
        unsigned char key[32], mac[32];
        unsigned int ml = 0;
        if (strcmp(alg, "AWS4-HMAC-SHA256") != 0) {
            s3_error_arg(r, S3E_INVALID_ARGUMENT, "Unsupported algorithm", "x-amz-algorithm", alg);
            return false;
        }
        if (!cred || !date || !(sig = form_str(fm, "x-amz-signature"))) {
            deny(r, S3E_INVALID_ARGUMENT,
                 !cred   ? "Bucket POST must contain a field named 'x-amz-credential'."
                 : !date ? "Bucket POST must contain a field named 'x-amz-date'."
                         : "Bucket POST must contain a field named 'x-amz-signature'.");
            return false;
        }
        if (sscanf(cred, "%128[^/]/%8[0-9]/%63[^/]/%15[^/]/aws4_request", akb, day, region, svc) !=
            4) {
            s3_error_arg(r, S3E_INVALID_ARGUMENT, "Invalid credential", "x-amz-credential", cred);
            return false;
        }
        if (!creds_lookup(q->s3->creds, akb, &q->who)) {
            deny(r, S3E_INVALID_ACCESS_KEY, NULL);
            return false;
        }
        sigv4_signing_key(q->who.secret, day, region, svc, key);
        HMAC(EVP_sha256(), key, 32, (const unsigned char *)policy, strlen(policy), mac, &ml);
        hex_encode(mac, 32, want);
    } else {
        unsigned char mac[20];
        unsigned int ml = 0;
        ak = form_str(fm, "awsaccesskeyid");
        sig = form_str(fm, "signature");
        if (!ak || !sig) {
            deny(r, S3E_INVALID_ARGUMENT,
                 !ak ? "Bucket POST must contain a field named 'AWSAccessKeyId'.  If it is "
                       "specified, please check the order of the fields."
                     : "Bucket POST must contain a field named 'Signature'.  If it is "
                       "specified, please check the order of the fields.");
            return false;
        }
        if (!creds_lookup(q->s3->creds, ak, &q->who)) {
            deny(r, S3E_INVALID_ACCESS_KEY, NULL);
            return false;
        }
        q->post_v2 = true;
        HMAC(EVP_sha1(), q->who.secret, (int)strlen(q->who.secret), (const unsigned char *)policy,
             strlen(policy), mac, &ml);
        base64_encode(mac, 20, want);
    }
    if (strlen(sig) != strlen(want) || CRYPTO_memcmp(sig, want, strlen(want)) != 0) {
        deny(r, S3E_SIGNATURE_MISMATCH, NULL);
        return false;
    }
    tok = form_str(fm, "x-amz-security-token");
    if (q->who.session_token[0] && (!tok || strcmp(tok, q->who.session_token) != 0)) {
        deny(r, S3E_TOKEN_INVALID, NULL);
        return false;
    }
    if (q->who.expires && q->who.expires < (int64_t)time(NULL)) {
        deny(r, S3E_TOKEN_EXPIRED, NULL);
        return false;
    }
    q->anonymous = false;
    return true;
}

/* fields that need no condition */
static bool exempt(const char *name)
{
    return strcmp(name, "policy") == 0 || strcmp(name, "awsaccesskeyid") == 0 ||
           strcmp(name, "signature") == 0 || strcmp(name, "x-amz-signature") == 0 ||
           strcmp(name, "file") == 0 || strncmp(name, "x-ignore-", 9) == 0;
}

/* fields that become the PutObject's headers, by their header name */
static const char *header_of(struct http_req *r, const char *name)
{
    static const char *const kept[] = {"cache-control",
                                       "content-type",
                                       "content-disposition",
                                       "content-encoding",
                                       "expires",
                                       "content-language",
                                       "x-amz-server-side-encryption",
                                       "x-amz-server-side-encryption-aws-kms-key-id",
                                       "x-amz-storage-class",
                                       "x-amz-website-redirect-location",
                                       "content-md5",
                                       NULL};
    if (strcmp(name, "acl") == 0)
        return "x-amz-acl";
    if (strncmp(name, "x-amz-meta-", 11) == 0)
        return name;
    for (int i = 0; kept[i]; i++)
        if (strcmp(name, kept[i]) == 0)
            return name;
    (void)r;
    return NULL;
}

/* the tagging field (a Tagging document) as an x-amz-tagging value */
static const char *tagging_header(struct http_req *r, const char *xml)
{
    struct s3_xml *x, *set, *tg;
    struct buf b;
    char *out;

    if (s3_xml_parse(r->arena, xml, strlen(xml), &x, NULL) != ERR_OK ||
        strcmp(x->name, "Tagging") != 0 || !(set = s3_xml_child(x, "TagSet"))) {
        s3_error(r, S3E_MALFORMED_XML, NULL);
        return NULL;
    }
    buf_init(&b, 0);
    for (tg = set->child; tg; tg = tg->next) {
        const char *k = s3_xml_text(tg, "Key"), *v = s3_xml_text(tg, "Value");
        if (strcmp(tg->name, "Tag") != 0 || !k || !v) {
            buf_free(&b);
            s3_error(r, S3E_MALFORMED_XML, NULL);
            return NULL;
        }
        if (b.len)
            buf_puts(&b, "&");
        url_encode_buf(&b, k, false);
        buf_puts(&b, "=");
        url_encode_buf(&b, v, false);
    }
    out = arena_strndup(r->arena, b.ptr ? b.ptr : "", b.len);
    buf_free(&b);
    return out;
}

void s3_post_object(struct http_req *r)
{
    struct s3_req *q = s3_req_of(r);
    struct form *fm = arena_calloc(r->arena, sizeof(*fm));
    const char *policy, *key, *status, *redirect;
    bool named[64] = {0}, bucket_named = false;
    struct http_header *hs;
    size_t nh = 0;
    char *k;

    if (!form_parse(r, fm)) {
        deny(r, S3E_MALFORMED_POST, NULL);
        return;
    }
    key = form_str(fm, "key");
    if (!key) {
        deny(r, S3E_INVALID_ARGUMENT,
             "Bucket POST must contain a field named 'key'.  If it is "
             "specified, please check the order of the fields.");
        return;
    }
    policy = form_str(fm, "policy");
    if (policy) {
        size_t pl = strlen(policy), dl = 0;
        unsigned char *doc = arena_alloc(r->arena, pl + 1);
        if (!check_signature(r, fm, policy))
            return;
        if (!base64_decode(policy, pl, doc, &dl)) {
            bad_policy(r, "Invalid Policy: the policy is not base64.");
            return;
        }
        if (!check_policy(r, fm, (const char *)doc, dl, named, &bucket_named))
            return;
        if (!bucket_named) {
            deny(r, S3E_ACCESS_DENIED, "Invalid according to Policy: Extra input fields: bucket");
            return;
        }
        for (size_t i = 0; i < fm->n; i++)
            if (!named[i] && !exempt(fm->f[i].name)) {
                deny(r, S3E_ACCESS_DENIED,
                     arena_sprintf(r->arena, "Invalid according to Policy: Extra input fields: %s",
                                   fm->f[i].name));
                return;
            }
    } else if (form_get(fm, "awsaccesskeyid") || form_get(fm, "signature") ||
               form_get(fm, "x-amz-signature") || form_get(fm, "x-amz-credential")) {
        deny(r, S3E_INVALID_ARGUMENT,
             "Bucket POST must contain a field named 'policy'.  If it "
             "is specified, please check the order of the fields.");
        return;
    }
    if (!fm->file) {
        deny(r, S3E_INVALID_ARGUMENT, "POST requires exactly one file upload per request.");
        return;
    }
    k = (char *)key;
    {
        const char *at = strstr(key, "${filename}");
        if (at)
            k = arena_sprintf(r->arena, "%.*s%s%s", (int)(at - key), key,
                              fm->file->filename ? fm->file->filename : "", at + 11);
    }
    if (!*k) {
        deny(r, S3E_INVALID_ARGUMENT, "User key must have a length greater than 0.");
        return;
    }
    if (strlen(k) > 1024) {
        deny(r, S3E_KEY_TOO_LONG, NULL);
        return;
    }
    /* the upload's headers come from the form only */
    hs = arena_calloc(r->arena, (fm->n + 2) * sizeof(*hs));
    for (size_t i = 0; i < fm->n; i++) {
        const char *h = header_of(r, fm->f[i].name);
        if (h) {
            hs[nh].name = h;
            hs[nh++].value = fm->f[i].value;
        } else if (strcmp(fm->f[i].name, "tagging") == 0) {
            const char *t = tagging_header(r, fm->f[i].value);
            if (!t)
                return;
            hs[nh].name = "x-amz-tagging";
            hs[nh++].value = t;
        }
    }
    hs[nh].name = "content-length";
    hs[nh++].value = arena_sprintf(r->arena, "%zu", fm->file->len);
    status = form_str(fm, "success_action_status");
    redirect = form_str(fm, "success_action_redirect");
    if (!redirect)
        redirect = form_str(fm, "redirect");
    q->post_status = status && strcmp(status, "200") == 0   ? 200
                     : status && strcmp(status, "201") == 0 ? 201
                                                            : 204;
    q->post_redirect = redirect && *redirect ? redirect : NULL;
    {
        unsigned char md[16];
        unsigned int ml = 0;
        char hex[33];
        EVP_Digest(fm->file->value, fm->file->len, md, &ml, EVP_md5(), NULL);
        hex_encode(md, 16, hex);
        q->post_etag = arena_sprintf(r->arena, "\"%s\"", hex);
    }
    s3_put_from_form(r, k, hs, nh, fm->file->value, fm->file->len);
}

/* the answer of a POST upload that was written (s3_ok's 200) */
void s3_post_answer(struct http_req *r)
{
    struct s3_req *q = s3_req_of(r);
    const char *host = http_req_header(r, "host");
    char *loc = arena_sprintf(r->arena, "%s://%s/%s/%s", r->tls ? "https" : "http",
                              host ? host : "localhost", url_encode(r->arena, q->bucket, false),
                              url_encode(r->arena, q->key, true));
    struct buf b;

    if (q->post_redirect) {
        buf_init(&b, 0);
        buf_puts(&b, q->post_redirect);
        buf_puts(&b, strchr(q->post_redirect, '?') ? "&bucket=" : "?bucket=");
        url_encode_buf(&b, q->bucket, false);
        buf_puts(&b, "&key=");
        url_encode_buf(&b, q->key, false);
        buf_puts(&b, "&etag=");
        url_encode_buf(&b, q->post_etag, false);
        http_resp_header(r, "Location", arena_strndup(r->arena, b.ptr, b.len));
        buf_free(&b);
        http_respond(r, 303, "", 0);
        return;
    }
    http_resp_header(r, "Location", loc);
    if (q->post_status != 201) {
        http_respond(r, q->post_status, "", 0);
        return;
    }
    buf_init(&b, 0);
    buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PostResponse>");
    xmlw_elem(&b, "Location", loc, XMLW_CTRL);
    xmlw_elem(&b, "Bucket", q->bucket, XMLW_CTRL);
    xmlw_elem(&b, "Key", q->key, XMLW_CTRL);
    xmlw_elem(&b, "ETag", q->post_etag, XMLW_CTRL);
    buf_puts(&b, "</PostResponse>");
    http_resp_header(r, "Content-Type", "application/xml");
    http_respond_buf(r, 201, &b);
}
