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
 * policy is an anonymous upload.
 *
 * The body streams (form.c): the fields before the file are parsed as they
 * arrive; when the file begins they are checked, and the file's bytes go
 * straight into the upload's temporary file (body.c) as a PutObject's would,
 * up to S3's 5 GiB, with content-length-range's maximum enforced as they come;
 * fields after the file are ignored, as S3 does. A refusal is kept and the
 * rest of the body discarded; the answer comes once the body is read. The
 * object is then written as a PutObject by the caller the form names, and the
 * answer follows success_action_redirect (303) or success_action_status (200,
 * 201 with a PostResponse document, else 204). */
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
#include "s3_form.h"
#include "s3_int.h"
#include "s3_xml.h"
#include "sigv4.h"
#include "url.h"

/* a form upload's state (q->post), in the request's arena */
struct s3_post {
    struct s3_form fm;
    struct http_req *r;
    /* the first refusal, answered once the body is read */
    bool failed;
    enum s3_code code;
    const char *msg, *arg, *argval;
    /* content-length-range of the policy, when it has one */
    bool ranged;
    double min, max;
    /* what the checks made of the fields when the file began */
    const char *key;
    struct http_header *hs;
    size_t nh;
    EVP_MD_CTX *sha256; /* the whole body's, when its hash was signed */
    char want_sha256[65];
};

#define form_get(fm, n) s3_form_get(fm, n)
#define form_str(fm, n) s3_form_str(fm, n)

/* keep the first refusal; the request is answered with it at the end */
static void deny_arg(struct http_req *r, enum s3_code code, const char *msg, const char *arg,
                     const char *val)
{
    struct s3_post *p = s3_req_of(r)->post;

    if (p->failed)
        return;
    p->failed = true;
    p->code = code;
    p->msg = msg;
    p->arg = arg;
    p->argval = val;
}

static void deny(struct http_req *r, enum s3_code code, const char *msg)
{
    deny_arg(r, code, msg, NULL, NULL);
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
static const char *cond_value(struct http_req *r, const struct s3_form *fm, const char *name)
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

static void mark(const struct s3_form *fm, bool *named, const char *name)
{
    for (size_t i = 0; i < fm->n; i++)
        if (strcasecmp(fm->f[i].name, name) == 0)
            named[i] = true;
}

/* check the decoded policy document against the form */
static bool check_policy(struct http_req *r, const struct s3_form *fm, const char *doc, size_t len,
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
                struct s3_post *p = s3_req_of(r)->post;
                if (!cJSON_IsNumber(a1) || !cJSON_IsNumber(a2) || a2->next || a1->valuedouble < 0 ||
                    a2->valuedouble < a1->valuedouble)
                    return bad_policy(r, "Invalid content-length-range condition: it takes a "
                                         "minimum and a maximum, non-negative integers.");
                /* checked as the file's bytes come (post_data) and at its end */
                p->ranged = true;
                p->min = a1->valuedouble;
                p->max = a2->valuedouble;
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
static bool check_signature(struct http_req *r, const struct s3_form *fm, const char *policy)
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
            deny_arg(r, S3E_INVALID_ARGUMENT, "Unsupported algorithm", "x-amz-algorithm", alg);
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
            deny_arg(r, S3E_INVALID_ARGUMENT, "Invalid credential", "x-amz-credential", cred);
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
        deny(r, S3E_MALFORMED_XML, NULL);
        return NULL;
    }
    buf_init(&b, 0);
    for (tg = set->child; tg; tg = tg->next) {
        const char *k = s3_xml_text(tg, "Key"), *v = s3_xml_text(tg, "Value");
        if (strcmp(tg->name, "Tag") != 0 || !k || !v) {
            buf_free(&b);
            deny(r, S3E_MALFORMED_XML, NULL);
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

/* the fields before the file (all of them when there is none): key,
 * signature, policy; on success the upload's key and headers into @p */
static bool check_form(struct http_req *r, struct s3_post *p)
{
    struct s3_req *q = s3_req_of(r);
    const struct s3_form *fm = &p->fm;
    const char *policy, *key, *status, *redirect;
    bool named[S3_FORM_FIELDS] = {0}, bucket_named = false;
    struct http_header *hs;
    size_t nh = 0;
    char *k;

    key = form_str(fm, "key");
    if (!key) {
        deny(r, S3E_INVALID_ARGUMENT,
             "Bucket POST must contain a field named 'key'.  If it is "
             "specified, please check the order of the fields.");
        return false;
    }
    policy = form_str(fm, "policy");
    if (policy) {
        size_t pl = strlen(policy), dl = 0;
        unsigned char *doc = arena_alloc(r->arena, pl + 1);
        if (!check_signature(r, fm, policy))
            return false;
        if (!base64_decode(policy, pl, doc, &dl))
            return bad_policy(r, "Invalid Policy: the policy is not base64.");
        if (!check_policy(r, fm, (const char *)doc, dl, named, &bucket_named))
            return false;
        if (!bucket_named) {
            deny(r, S3E_ACCESS_DENIED, "Invalid according to Policy: Extra input fields: bucket");
            return false;
        }
        for (size_t i = 0; i < fm->n; i++)
            if (!named[i] && !exempt(fm->f[i].name)) {
                deny(r, S3E_ACCESS_DENIED,
                     arena_sprintf(r->arena, "Invalid according to Policy: Extra input fields: %s",
                                   fm->f[i].name));
                return false;
            }
    } else if (form_get(fm, "awsaccesskeyid") || form_get(fm, "signature") ||
               form_get(fm, "x-amz-signature") || form_get(fm, "x-amz-credential")) {
        deny(r, S3E_INVALID_ARGUMENT,
             "Bucket POST must contain a field named 'policy'.  If it "
             "is specified, please check the order of the fields.");
        return false;
    }
    if (!fm->file) {
        deny(r, S3E_INVALID_ARGUMENT, "POST requires exactly one file upload per request.");
        return false;
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
        return false;
    }
    if (strlen(k) > 1024) {
        deny(r, S3E_KEY_TOO_LONG, NULL);
        return false;
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
                return false;
            hs[nh].name = "x-amz-tagging";
            hs[nh++].value = t;
        }
    }
    status = form_str(fm, "success_action_status");
    redirect = form_str(fm, "success_action_redirect");
    if (!redirect)
        redirect = form_str(fm, "redirect");
    q->post_status = status && strcmp(status, "200") == 0   ? 200
                     : status && strcmp(status, "201") == 0 ? 201
                                                            : 204;
    q->post_redirect = redirect && *redirect ? redirect : NULL;
    p->key = k;
    p->hs = hs;
    p->nh = nh;
    return true;
}

/* the file begins: the fields before it are checked before a byte of it is kept */
static bool post_start(void *ud)
{
    struct s3_post *p = ud;
    return check_form(p->r, p);
}

static enum err_code post_data(void *ud, const void *data, size_t n)
{
    struct s3_post *p = ud;

    if (p->ranged && (double)p->fm.file_len > p->max) {
        deny(p->r, S3E_ENTITY_TOO_LARGE, "Your proposed upload exceeds the maximum allowed size");
        return ERR_TOO_LARGE;
    }
    return s3_body_feed(p->r, data, n);
}

static void md_free(void *c)
{
    EVP_MD_CTX_free(c);
}

bool s3_post_begin(struct http_req *r)
{
    struct s3_req *q = s3_req_of(r);
    struct s3_post *p = arena_calloc(r->arena, sizeof(*p));

    p->r = r;
    q->post = p;
    if (strlen(q->payload_hash) == 64) { /* the whole body's hash was signed */
        memcpy(p->want_sha256, q->payload_hash, 65);
        p->sha256 = EVP_MD_CTX_new();
        EVP_DigestInit_ex(p->sha256, EVP_sha256(), NULL);
        arena_on_free(r->arena, md_free, p->sha256);
    }
    snprintf(q->payload_hash, sizeof(q->payload_hash), "UNSIGNED-PAYLOAD"); /* the file's */
    if (!s3_form_init(&p->fm, r->arena, http_req_header(r, "content-type"), post_start, post_data,
                      p))
        deny(r, S3E_MALFORMED_POST, NULL);
    /* the file streams into an upload's temporary file, as a PutObject's body */
    return s3_body_start(r, q);
}

enum err_code s3_post_feed(struct http_req *r, const void *data, size_t n)
{
    struct s3_post *p = s3_req_of(r)->post;

    if (p->sha256)
        EVP_DigestUpdate(p->sha256, data, n);
    if (p->failed)
        return ERR_INVALID;
    if (!s3_form_feed(&p->fm, data, n)) {
        if (p->fm.state == S3_FORM_BAD)
            deny(r, S3E_MALFORMED_POST, NULL);
        else if (p->fm.state == S3_FORM_TOO_LARGE)
            deny(r, S3E_POST_PREDATA, NULL);
        return ERR_INVALID;
    }
    return ERR_OK;
}

void s3_post_object(struct http_req *r)
{
    struct s3_req *q = s3_req_of(r);
    struct s3_post *p = q->post;

    if (!p) { /* a body that was not streamed (a request run in-process) */
        if (!s3_post_begin(r))
            return;
        p = q->post;
        s3_post_feed(r, r->body.ptr ? r->body.ptr : "", r->body.len);
    }
    if (!p->failed && p->sha256) {
        unsigned char md[32];
        unsigned int ml = 0;
        char hex[65];
        EVP_DigestFinal_ex(p->sha256, md, &ml);
        hex_encode(md, 32, hex);
        if (strcasecmp(hex, p->want_sha256) != 0)
            deny(r, S3E_SHA256_MISMATCH, NULL);
    }
    if (!p->failed) {
        switch (p->fm.state) {
        case S3_FORM_END: /* no file: the fields' own faults come first */
            check_form(r, p);
            break;
        case S3_FORM_DONE:
        case S3_FORM_STOPPED: /* the body's own failure: s3_body_finish answers it */
            if (p->ranged && (double)p->fm.file_len < p->min)
                deny(r, S3E_ENTITY_TOO_SMALL,
                     "Your proposed upload is smaller than the minimum allowed size");
            break;
        default: /* cut short, or not well-formed */
            deny(r, S3E_MALFORMED_POST, NULL);
        }
    }
    if (p->failed) {
        s3_error_arg(r, p->code, p->msg, p->arg, p->argval);
        return;
    }
    if (q->md5) {
        unsigned char md[16];
        unsigned int ml = 0;
        char hex[33];
        EVP_MD_CTX *c = EVP_MD_CTX_new();
        EVP_MD_CTX_copy_ex(c, q->md5);
        EVP_DigestFinal_ex(c, md, &ml);
        EVP_MD_CTX_free(c);
        hex_encode(md, 16, hex);
        q->post_etag = arena_sprintf(r->arena, "\"%s\"", hex);
    }
    p->hs[p->nh].name = "content-length";
    p->hs[p->nh++].value = arena_sprintf(r->arena, "%llu", (unsigned long long)p->fm.file_len);
    s3_put_from_form(r, p->key, p->hs, p->nh);
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
