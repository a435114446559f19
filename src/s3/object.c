/* object.c - PutObject, CopyObject, GetObject/HeadObject, DeleteObject(s),
 * object tagging; the commit of a new version shared with
 * CompleteMultipartUpload. The listings are in list.c. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "codec.h"
#include "log.h"
#include "s3_int.h"
#include "s3_repl.h"
#include "s3_xml.h"

char *s3_parse_tagging(struct http_req *r, size_t max);
void s3_write_tagging(struct buf *b, cJSON *tags);

static const char *const sys_headers[] = {
    "content-type",  "content-encoding", "content-disposition",
    "cache-control", "expires",          "content-language"};
static const char *const sys_names[] = {"Content-Type",  "Content-Encoding", "Content-Disposition",
                                        "Cache-Control", "Expires",          "Content-Language"};
enum { NSYS = 6 };

/* ISO-8859-1 bytes @s (@n of them) as UTF-8 at @out (room for 2n); its length */
static size_t latin1_utf8(const unsigned char *s, size_t n, unsigned char *out)
{
    size_t i, o = 0;

    for (i = 0; i < n; i++) {
        if (s[i] < 0x80) {
            out[o++] = s[i];
        } else {
            out[o++] = (unsigned char)(0xc0 | s[i] >> 6);
            out[o++] = (unsigned char)(0x80 | (s[i] & 0x3f));
        }
    }
    return o;
}

/* @v made only of RFC 2047 encoded-words (B or Q; charset UTF-8, ISO-8859-1 or
 * US-ASCII; whitespace between them) decoded to UTF-8, else NULL */
static char *rfc2047_decode(struct arena *a, const char *v)
{
    size_t len = strlen(v), n = 0;
    unsigned char *out = arena_alloc(a, 2 * len + 1), *tmp = arena_alloc(a, len + 1);
    const char *p = v;

    while (*p) {
        const char *cs = p + 2, *q, *text, *end;
        size_t tl = 0, cl;
        bool latin;
        char enc;
        if (strncmp(p, "=?", 2) != 0 || !(q = strchr(cs, '?')) || !q[1] || q[2] != '?' ||
            !(end = strstr(q + 3, "?=")))
            return NULL;
        cl = (size_t)(q - cs);
        enc = (char)toupper((unsigned char)q[1]);
        text = q + 3;
        latin = (cl == 10 && strncasecmp(cs, "iso-8859-1", 10) == 0);
        if (!latin && !(cl == 5 && strncasecmp(cs, "utf-8", 5) == 0) &&
            !(cl == 8 && strncasecmp(cs, "us-ascii", 8) == 0))
            return NULL;
        if (enc == 'B') {
            if (!base64_decode(text, (size_t)(end - text), tmp, &tl))
                return NULL;
        } else if (enc == 'Q') {
            for (const char *c = text; c < end; c++) {
                unsigned x;
                if (*c == '_') {
                    tmp[tl++] = ' ';
                } else if (*c == '=' && end - c > 2 && isxdigit((unsigned char)c[1]) &&
                           isxdigit((unsigned char)c[2]) && sscanf(c + 1, "%2x", &x) == 1) {
                    tmp[tl++] = (unsigned char)x;
                    c += 2;
                } else {
                    tmp[tl++] = (unsigned char)*c;
                }
            }
        } else {
            return NULL;
        }
        if (latin) {
            n += latin1_utf8(tmp, tl, out + n);
        } else {
            memcpy(out + n, tmp, tl);
            n += tl;
        }
        for (p = end + 2; *p == ' ' || *p == '\t'; p++)
            ;
    }
    out[n] = 0;
    return n || len ? (char *)out : NULL;
}

/* a metadata value as S3 keeps it: RFC 2047 encoded-words decoded, other
 * bytes read as ISO-8859-1, as UTF-8 */
static const char *meta_stored(struct arena *a, const char *v)
{
    const unsigned char *p;
    char *d;
    size_t n;

    if (strncmp(v, "=?", 2) == 0 && (d = rfc2047_decode(a, v)))
        return d;
    for (p = (const unsigned char *)v; *p && *p < 0x80; p++)
        ;
    if (!*p)
        return v;
    n = strlen(v);
    d = arena_alloc(a, 2 * n + 1);
    d[latin1_utf8((const unsigned char *)v, n, (unsigned char *)d)] = 0;
    return d;
}

/* @v, a Content-Encoding list, without aws-chunked (the transfer framing,
 * not the object's encoding): "gzip, aws-chunked" is "gzip"; NULL when
 * nothing is left */
static const char *without_aws_chunked(struct arena *a, const char *v)
{
    char *out = arena_alloc(a, strlen(v) + 1), *o = out;

    while (*v) {
        size_t n;
        while (*v == ',' || *v == ' ' || *v == '\t')
            v++;
        n = strcspn(v, ",");
        while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
            n--;
        if (n && !(n == 11 && strncasecmp(v, "aws-chunked", 11) == 0)) {
            if (o != out)
                *o++ = ',';
            memcpy(o, v, n);
            o += n;
        }
        v += n;
        while (*v && *v != ',')
            v++;
    }
    *o = 0;
    return *out ? out : NULL;
}

void s3_rec_headers(struct http_req *r, cJSON *rec)
{
    cJSON *h = cJSON_AddObjectToObject(rec, "h"), *m = cJSON_AddObjectToObject(rec, "m");
    size_t i;

    for (i = 0; i < NSYS; i++) {
        const char *v = http_req_header(r, sys_headers[i]);
        if (v && i == 1 && strstr(v, "aws-chunked"))
            v = without_aws_chunked(r->arena, v);
        if (v)
            cJSON_AddStringToObject(h, sys_headers[i], v);
    }
    if (!cJSON_GetObjectItem(h, "content-type"))
        cJSON_AddStringToObject(h, "content-type", "binary/octet-stream");
    for (i = 0; i < r->nheaders; i++)
        if (strncmp(r->headers[i].name, "x-amz-meta-", 11) == 0)
            cJSON_AddStringToObject(m, r->headers[i].name + 11,
                                    meta_stored(r->arena, r->headers[i].value));
    s3_sse_from_request(r, rec);
    s3_rec_acl(r, rec);
    if (http_req_header(r, "x-amz-website-redirect-location"))
        cJSON_AddStringToObject(rec, "wrl", http_req_header(r, "x-amz-website-redirect-location"));
}

cJSON *s3_header_tags(struct http_req *r, bool *bad)
{
    const char *tg = http_req_header(r, "x-amz-tagging");
    char *dup, *save = NULL, *p;
    cJSON *arr;
    size_t n = 0;
    int names;

    *bad = false;
    if (!tg || !*tg)
        return NULL;
    arr = cJSON_CreateArray();
    dup = arena_strdup(r->arena, tg);
    for (p = strtok_r(dup, "&", &save); p; p = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(p, '=');
        const char *k, *v, *why;
        if (eq)
            *eq = '\0';
        k = url_decode(r->arena, p, strlen(p));
        v = eq ? url_decode(r->arena, eq + 1, strlen(eq + 1)) : "";
        if ((why = s3_tag_add(arr, k, v, ++n, 10, &names))) {
            cJSON_Delete(arr);
            *bad = true;
            if (names && strncmp(k, "aws:", 4) != 0) /* a repeated key or a stray character */
                s3_error_arg(r, S3E_INVALID_ARGUMENT,
                             "The header 'x-amz-tagging' shall be encoded as UTF-8 then "
                             "URLEncoded URL query parameters without tag name duplicates.",
                             "x-amz-tagging", tg);
            else
                s3_tag_error(r, why, names, k, v);
            return NULL;
        }
    }
    return arr;
}

/* ---- committing a new version ---- */

static enum err_code del_version_key(struct store_txn *t, struct s3_newver *nv, struct slice k,
                                     const cJSON *old, struct err *e)
{
    const char *f = json_str_ci(old, "file");
    if (f)
        s3_newver_old(nv, f);
    return store_del(t, STORE_DB_S3, k, e);
}

void s3_newver_old(struct s3_newver *nv, const char *rel)
{
    if (nv->nold == nv->capold) {
        int cap = nv->capold ? nv->capold * 2 : 8;
        char **n = arena_alloc(nv->r->arena, (size_t)cap * sizeof(*n));
        if (nv->nold)
            memcpy(n, nv->old_files, (size_t)nv->nold * sizeof(*n));
        nv->old_files = n;
        nv->capold = cap;
    }
    nv->old_files[nv->nold++] = s3_abs_path(s3_req_of(nv->r)->s3, nv->r->arena, rel);
}

/* find the version @vid of bucket/key: its store key copied into the arena */
cJSON *s3_find_version(struct store_txn *t, struct arena *a, const char *bucket, const char *key,
                       const char *vid, struct slice *found)
{
    struct slice p = s3_key_obj_prefix(a, bucket, key), k, v;
    struct store_cursor *c = NULL;
    cJSON *j = NULL;
    char *pp = arena_alloc(a, p.len + 1);
    enum err_code rc;

    memcpy(pp, p.ptr, p.len);
    pp[p.len] = 0;
    if (store_cursor_open(t, STORE_DB_S3, &c, NULL) != ERR_OK)
        return NULL;
    for (rc = store_cursor_seek(c, slice_of(pp, p.len + 1), &k, &v, NULL);
         rc == ERR_OK && k.len == p.len + 9 && memcmp(k.ptr, pp, p.len + 1) == 0;
         rc = store_cursor_next(c, &k, &v, NULL)) {
        cJSON *x = cJSON_ParseWithLength(v.ptr, v.len);
        if (!vid || (x && strcmp(json_str_ci(x, "vid") ? json_str_ci(x, "vid") : "", vid) == 0)) {
            j = x;
            if (found)
                *found = slice_of(arena_memdup(a, k.ptr, k.len), k.len);
            break;
        }
        cJSON_Delete(x);
    }
    store_cursor_close(c);
    return j;
}

static enum err_code newver_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct s3_newver *nv = arg;
    struct arena *a = nv->r->arena;
    cJSON *b = s3_bucket_get(t, a, nv->bucket), *old;
    const char *vs;
    uint64_t seq;
    struct slice k, in_place = {0};
    enum err_code rc;
    char *s;

    if (!b) {
        ((struct s3_w *)nv)->fail = S3E_NO_SUCH_BUCKET;
        return ERR_CONFLICT;
    }
    if (nv->want_vid &&
        !(json_str_ci(b, "versioning") && strcmp(json_str_ci(b, "versioning"), "Enabled") == 0)) {
        /* a replica needs versioning on the destination, as S3 does */
        cJSON_Delete(b);
        nv->w.fail = S3E_INVALID_REQUEST;
        snprintf(nv->w.msg, sizeof(nv->w.msg), "Destination bucket must have versioning enabled.");
        return ERR_CONFLICT;
    }
    if (!json_true_ci(nv->rec, "dm"))
        s3_sse_default(b, nv->rec);
    if (!s3_lock_on_version(nv->r, b, nv->rec, nv->kind == 0, nv->want_vid != NULL, &nv->w)) {
        cJSON_Delete(b);
        return ERR_CONFLICT;
    }
    if (s3_acl_write_refused(nv->r, b, &nv->w.fail)) {
        cJSON_Delete(b);
        return ERR_CONFLICT;
    }
    if (nv->kind != 1 && strcmp(nv->r->method, "DELETE") != 0) {
        /* conditional writes: If-None-Match: * (create only), If-Match: ETAG
         * against the current version, decided in the same transaction */
        const char *inm = http_req_header(nv->r, "if-none-match");
        const char *im = http_req_header(nv->r, "if-match");
        if (inm || im) {
            cJSON *cur = s3_find_version(t, a, nv->bucket, nv->key, NULL, NULL);
            bool live = cur && !json_true_ci(cur, "dm");
            enum s3_code fail = S3E_INTERNAL;
            if (inm && strcmp(inm, "*") == 0 && live) {
                fail = S3E_PRECONDITION_FAILED;
                s3_req_of(nv->r)->condition = "If-None-Match";
            } else if (im && !live) {
                fail = S3E_NO_SUCH_KEY;
            } else if (im && strcmp(im, "*") != 0 && !s3_etag_in(im, json_str_ci(cur, "etag"))) {
                fail = S3E_PRECONDITION_FAILED;
                s3_req_of(nv->r)->condition = "If-Match";
            } else if (nv->kind == 2 && cur && (int64_t)json_num_ci(cur, "lm") > nv->since) {
                /* the key was written (or a marker put) while the upload was
                 * open: S3 refuses a conditional completion as a conflict */
                fail = S3E_CONDITIONAL_CONFLICT;
                s3_req_of(nv->r)->condition = im ? "If-Match" : "If-None-Match";
            }
            cJSON_Delete(cur);
            if (fail != S3E_INTERNAL) {
                cJSON_Delete(b);
                nv->w.fail = fail;
                return ERR_CONFLICT;
            }
        }
    }
    vs = json_str_ci(b, "versioning");
    nv->versioned = vs && *vs;
    if (nv->want_vid) {
        snprintf(nv->vid, sizeof(nv->vid), "%s", nv->want_vid);
        old = s3_find_version(t, a, nv->bucket, nv->key, nv->vid, &k);
        if (old && s3_lock_holds(old, clock_wall_ms(), false)) {
            /* a protected version is never rewritten: the same copy again (a
             * retry after a crash) changes nothing, another one is refused */
            const char *was = json_str_ci(old, "etag"), *now = json_str_ci(nv->rec, "etag");
            bool same = was && now && strcmp(was, now) == 0;
            cJSON_Delete(old);
            cJSON_Delete(b);
            if (!same) {
                nv->w.fail = S3E_ACCESS_DENIED;
                snprintf(nv->w.msg, sizeof(nv->w.msg),
                         "Access Denied because object protected by object lock.");
                return ERR_CONFLICT;
            }
            if (json_str_ci(nv->rec, "file"))
                s3_newver_old(nv, json_str_ci(nv->rec, "file"));
            return ERR_OK;
        }
        if (old) {
            /* replaced where it stands: the order of versions does not change */
            rc = del_version_key(t, nv, k, old, e);
            cJSON_Delete(old);
            in_place = k;
            if (rc) {
                cJSON_Delete(b);
                return rc;
            }
        }
    } else if (vs && strcmp(vs, "Enabled") == 0) {
        s3_new_id(nv->vid);
    } else {
        snprintf(nv->vid, sizeof(nv->vid), "null");
        /* the null version is replaced */
        old = s3_find_version(t, a, nv->bucket, nv->key, "null", &k);
        if (old) {
            rc = del_version_key(t, nv, k, old, e);
            cJSON_Delete(old);
            if (rc) {
                cJSON_Delete(b);
                return rc;
            }
        }
    }
    rc = s3_repl_on_version(t, b, nv->bucket, nv->key, nv->vid, nv->rec, e);
    if (!rc)
        rc = s3_notify_created(t, nv, b, e);
    if (!json_true_ci(nv->rec, "dm"))
        nv->expiration = s3_lc_expiration(a, s3_req_of(nv->r)->s3, b, nv->key, nv->rec);
    cJSON_Delete(b);
    if (rc)
        return rc;
    if (nv->upload_id) {
        /* CompleteMultipartUpload: the upload and its part records go */
        rc = s3_upload_drop(t, nv, e);
        if (rc)
            return rc;
    }
    if (!in_place.len) {
        rc = store_next_id(t, &seq, e);
        if (rc)
            return rc;
        in_place = s3_key_version(a, nv->bucket, nv->key, seq);
    }
    cJSON_DeleteItemFromObject(nv->rec, "vid");
    cJSON_AddStringToObject(nv->rec, "vid", nv->vid);
    cJSON_DeleteItemFromObject(nv->rec, "k");
    if (strlen(nv->key) > 400) /* the store key holds a hash of it */
        cJSON_AddStringToObject(nv->rec, "k", nv->key);
    s = cJSON_PrintUnformatted(nv->rec);
    rc = store_put(t, STORE_DB_S3, in_place, slice_str(s), e);
    free(s);
    return rc;
}

static void newver_ok(struct s3_w *w)
{
    struct s3_newver *nv = (struct s3_newver *)w;
    struct http_req *r = w->r;
    int i;

    for (i = 0; i < nv->nold; i++)
        unlink(nv->old_files[i]);
    if (nv->keep_file)
        *nv->keep_file = true;
    if (nv->versioned)
        http_resp_header(r, "x-amz-version-id", nv->vid);
    if (json_true_ci(nv->rec, "dm")) {
        http_resp_header(r, "x-amz-delete-marker", "true");
        s3_ok(r, 204, NULL);
        return;
    }
    if (nv->kind == 0)
        http_resp_header(r, "ETag", json_str_ci(nv->rec, "etag"));
    s3_sse_headers(r, nv->rec);
    if (nv->expiration)
        http_resp_header(r, "x-amz-expiration", nv->expiration);
    {
        const char *ckn = json_str_ci(nv->rec, "ckn"), *ckv = json_str_ci(nv->rec, "ckv");
        if (ckn && ckv && nv->kind == 0) { /* a PutObject's is of the whole body */
            http_resp_header(r, arena_sprintf(r->arena, "x-amz-checksum-%s", ckn), ckv);
            http_resp_header(r, "x-amz-checksum-type", "FULL_OBJECT");
        }
    }
    s3_ok(r, nv->status ? nv->status : 200, nv->out.len ? &nv->out : NULL);
}

static void newver_free(void *p)
{
    struct s3_newver *nv = p;
    cJSON_Delete(nv->rec);
    buf_free(&nv->out);
}

void s3_submit_version(struct s3_newver *nv)
{
    struct s3_w *w = (struct s3_w *)nv;

    arena_on_free(nv->r->arena, newver_free, nv);
    w->r = nv->r;
    w->apply = newver_apply;
    w->ok = newver_ok;
    s3_submit(w);
}

/* ---- PutObject ---- */

/* the rest of a PutObject, on a flush thread once its body is durable */
static void put_kept(struct http_req *r, const char *hex, char *rel, char *abs)
{
    struct s3_req *q = s3_req_of(r);
    struct s3_newver *nv;
    cJSON *rec;

    if (http_req_header(r, "x-tandem-replica")) {
        const char *want = NULL;
        struct s3_orphan *o = arena_calloc(r->arena, sizeof(*o));
        o->path = abs;
        arena_on_free(r->arena, s3_orphan_free, o);
        rec = s3_repl_replica_rec(r, hex, rel, &want);
        if (!rec)
            return;
        nv = arena_calloc(r->arena, sizeof(*nv));
        nv->r = r;
        nv->bucket = q->bucket;
        nv->key = q->key;
        nv->rec = rec;
        nv->want_vid = want;
        if (!json_true_ci(rec, "dm"))
            nv->keep_file = &o->keep; /* a replicated marker has no body */
        s3_submit_version(nv);
        return;
    }
    rec = cJSON_CreateObject();
    cJSON_AddNumberToObject(rec, "size", (double)q->size);
    cJSON_AddStringToObject(rec, "etag", arena_sprintf(r->arena, "\"%s\"", hex));
    cJSON_AddNumberToObject(rec, "lm", (double)clock_wall_ms());
    cJSON_AddStringToObject(rec, "file", rel);
    /* the checksum asked for, else S3's default: the body's CRC64NVME */
    cJSON_AddStringToObject(rec, "ckn", s3_ck_lower(q->ck_alg ? q->ck_alg : CK_CRC64NVME));
    cJSON_AddStringToObject(rec, "ckv", q->ck_alg ? q->body_msg : s3_ck_value(r, CK_CRC64NVME));
    s3_rec_headers(r, rec);
    s3_lock_from_request(r, rec);
    {
        struct s3_orphan *o = arena_calloc(r->arena, sizeof(*o));
        bool bad; /* a request's are checked with its headers; a form's here */
        cJSON *tags = s3_header_tags(r, &bad);
        o->path = abs;
        arena_on_free(r->arena, s3_orphan_free, o); /* the body goes unless kept */
        if (bad) {
            cJSON_Delete(rec);
            return;
        }
        if (tags)
            cJSON_AddItemToObject(rec, "tags", tags);
        nv = arena_calloc(r->arena, sizeof(*nv));
        nv->keep_file = &o->keep;
    }
    nv->r = r;
    nv->bucket = q->bucket;
    nv->key = q->key;
    nv->rec = rec;
    s3_submit_version(nv);
}

void s3_put_object(struct http_req *r)
{
    struct s3_req *q = s3_req_of(r);

    if (!s3_allow(r, "s3:PutObject", q->bucket, q->key))
        return;
    if (s3_repl_claimed(r) < 0)
        return;
    s3_body_keep(r, "s3_body_commit_failed", put_kept);
}

/* ---- GetObject / HeadObject ---- */

/* read the version asked for (latest when no versionId) in @t, where the
 * bucket's record is @b (NULL: no such bucket); answers errors itself */
cJSON *s3_read_version(struct http_req *r, struct store_txn *t, const cJSON *b, const char *vid,
                       bool *is_latest)
{
    struct s3_req *q = s3_req_of(r);
    cJSON *v = NULL;

    if (!b) {
        s3_error(r, S3E_NO_SUCH_BUCKET, NULL);
        return NULL;
    }
    v = s3_find_version(t, r->arena, q->bucket, q->key, NULL, NULL);
    if (vid && v && strcmp(json_str_ci(v, "vid"), vid) != 0) {
        cJSON_Delete(v);
        v = s3_find_version(t, r->arena, q->bucket, q->key, vid, NULL);
        if (is_latest)
            *is_latest = false;
    } else if (is_latest) {
        *is_latest = true;
    }
    if (v)
        arena_on_free(r->arena, s3_json_free, v);
    if (!v) {
        if (vid)
            if (s3_vid_ok(vid))
                s3_error(r, S3E_NO_SUCH_VERSION, NULL);
            else
                s3_error_arg(r, S3E_INVALID_ARGUMENT, "Invalid version id specified", "versionId",
                             vid);
        else /* S3 says whether a key exists only to callers who may list the bucket */
            s3_error(r,
                     s3_may(r, "s3:ListBucket", q->bucket, NULL) ? S3E_NO_SUCH_KEY
                                                                 : S3E_ACCESS_DENIED,
                     NULL);
    }
    return v;
}

/* S3's precedence: If-Match over If-Unmodified-Since (412), If-None-Match over
 * If-Modified-Since (304). Returns 0, 304 or 412. */
static int conditionals(struct http_req *r, const char *etag, int64_t lm)
{
    const char *im = http_req_header(r, "if-match"), *inm = http_req_header(r, "if-none-match");
    const char *ius = http_req_header(r, "if-unmodified-since");
    const char *ims = http_req_header(r, "if-modified-since");
    int64_t t;
    int64_t lms = lm / 1000 * 1000;

    if (im) {
        if (!s3_etag_in(im, etag)) {
            s3_req_of(r)->condition = "If-Match"; /* S3's 412 names it */
            return 412;
        }
    } else if (ius && s3_time_parse_http(ius, &t) && lms > t) {
        s3_req_of(r)->condition = "If-Unmodified-Since";
        return 412;
    }
    if (inm) {
        if (s3_etag_in(inm, etag))
            return 304;
    } else if (ims && s3_time_parse_http(ims, &t) && t <= clock_wall_ms() && lms <= t) {
        return 304; /* a date in the future is ignored, as HTTP and S3 do */
    }
    return 0;
}

/* parse "bytes=a-b", "bytes=a-", "bytes=-n"; 0 none/ignored, 1 ok, -1 unsatisfiable */
static int parse_range(const char *h, long long size, long long *off, long long *len)
{
    long long a, b;
    char *end;

    if (!h || strncmp(h, "bytes=", 6) != 0 || strchr(h, ','))
        return 0;
    h += 6;
    if (*h == '-') {
        b = strtoll(h + 1, &end, 10);
        if (*end || end == h + 1)
            return 0;
        if (b == 0)
            return -1;
        if (b > size)
            b = size;
        *off = size - b;
        *len = b;
        return size ? 1 : -1;
    }
    a = strtoll(h, &end, 10);
    if (end == h || *end != '-')
        return 0;
    h = end + 1;
    if (*h) {
        b = strtoll(h, &end, 10);
        if (*end || b < a)
            return 0;
    } else {
        b = size - 1;
    }
    if (a >= size)
        return -1;
    if (b >= size)
        b = size - 1;
    *off = a;
    *len = b - a + 1;
    return 1;
}

/* a user metadata value as S3 sends it back: as kept when it is ASCII, else
 * its UTF-8 RFC 2047-encoded (=?UTF-8?B?...?=) */
static const char *meta_value(struct arena *a, const char *v)
{
    const unsigned char *p;
    size_t n = strlen(v);
    char *out;

    if (!*v) /* libmicrohttpd sends no empty header; a client reads this one as "" */
        return " ";
    for (p = (const unsigned char *)v; *p && *p < 0x80; p++)
        ;
    if (!*p)
        return v;
    out = arena_alloc(a, base64_encoded_len(n) + 13);
    memcpy(out, "=?UTF-8?B?", 10);
    base64_encode(v, n, out + 10);
    strcat(out, "?=");
    return out;
}

static const char *const overrides[] = {
    "response-content-type",  "response-content-encoding", "response-content-disposition",
    "response-cache-control", "response-expires",          "response-content-language"};

/* whether the request asks for a response-* header override (signed
 * requests only, at S3) */
static bool has_override(struct http_req *r)
{
    for (size_t i = 0; i < sizeof(overrides) / sizeof(overrides[0]); i++)
        if (s3_query(r, overrides[i]))
            return true;
    return false;
}

static void object_headers(struct http_req *r, const cJSON *v, bool versioned_bucket, int part,
                           bool whole)
{
    char when[40];
    const cJSON *h = cJSON_GetObjectItem(v, "h"), *m = cJSON_GetObjectItem(v, "m"), *e;
    size_t i;

    (void)versioned_bucket;
    s3_time_http((int64_t)json_num_ci(v, "lm"), when);
    http_resp_header(r, "Last-Modified", when);
    http_resp_header(r, "ETag", json_str_ci(v, "etag"));
    http_resp_header(r, "Accept-Ranges", "bytes");
    s3_sse_headers(r, v);
    if (strcmp(json_str_ci(v, "vid"), "null") != 0 || versioned_bucket)
        http_resp_header(r, "x-amz-version-id", json_str_ci(v, "vid"));
    for (i = 0; i < NSYS; i++) {
        const char *o = s3_query(r, overrides[i]);
        const char *val = o ? o : json_str_ci(h, sys_headers[i]);
        if (val)
            http_resp_header(r, sys_names[i], val);
    }
    for (e = m ? m->child : NULL; e; e = e->next)
        http_resp_header(r, arena_sprintf(r->arena, "x-amz-meta-%s", e->string),
                         meta_value(r->arena, e->valuestring));
    if (json_str_ci(v, "wrl"))
        http_resp_header(r, "x-amz-website-redirect-location", json_str_ci(v, "wrl"));
    if (json_num_ci(v, "parts") > 0)
        http_resp_header(r, "x-amz-mp-parts-count",
                         arena_sprintf(r->arena, "%d", (int)json_num_ci(v, "parts")));
    {
        const cJSON *tags = cJSON_GetObjectItem(v, "tags");
        if (tags && cJSON_GetArraySize(tags) > 0)
            http_resp_header(r, "x-amz-tagging-count",
                             arena_sprintf(r->arena, "%d", cJSON_GetArraySize(tags)));
    }
    if (json_str_ci(v, "rs"))
        http_resp_header(r, "x-amz-replication-status", json_str_ci(v, "rs"));
    s3_lock_headers(r, v);
    {
        const char *mode = http_req_header(r, "x-amz-checksum-mode");
        const char *ckn = json_str_ci(v, "ckn"), *ckv = json_str_ci(v, "ckv");
        bool composite = json_str_ci(v, "ckt") && strcmp(json_str_ci(v, "ckt"), "COMPOSITE") == 0;
        /* the whole object's checksum; with partNumber a COMPOSITE object's
         * part's, a FULL_OBJECT one's only when it is one part (the part is
         * the object), none of a part of several (S3 keeps no part CRC once
         * combined); none for a range, unless it covers the whole object,
         * as S3 answers bytes=0-100 of 10 bytes */
        if (part >= 0 && (composite || json_num_ci(v, "parts") > 1))
            ckv = composite ? s3_part_checksum(v, part) : NULL;
        if (mode && strcasecmp(mode, "ENABLED") == 0 && ckn && ckv && whole) {
            http_resp_header(r, arena_sprintf(r->arena, "x-amz-checksum-%s", ckn), ckv);
            http_resp_header(r, "x-amz-checksum-type",
                             json_str_ci(v, "ckt") ? json_str_ci(v, "ckt") : "FULL_OBJECT");
        }
    }
}

void s3_get_object(struct http_req *r, bool head)
{
    struct s3_req *q = s3_req_of(r);
    const char *vid = s3_query(r, "versionId");
    cJSON *v = NULL, *b;
    const char *expiration = NULL;
    long long size, off = 0, len;
    int cond, rg, fd;
    bool latest = true;
    const char *pn = s3_query(r, "partNumber");
    struct store_txn *t = NULL;
    int part = -1;

    if (q->anonymous && !q->website && has_override(r)) {
        s3_error(r, S3E_INVALID_REQUEST,
                 "Request specific response headers cannot be used for anonymous GET requests.");
        return;
    }
    /* one snapshot and one parse of the bucket's record for both the policy
     * and the version lookup */
    if (store_read_begin(q->s3->store, &t, NULL) != ERR_OK) {
        s3_error(r, S3E_INTERNAL, NULL);
        return;
    }
    b = s3_bucket_get(t, r->arena, q->bucket);
    q->bucket_known = true;
    q->bucket_rec = b;
    /* policies first, then the object's ACL (s3_acl_allows) */
    if (s3_allow(r, vid ? "s3:GetObjectVersion" : "s3:GetObject", q->bucket, q->key))
        v = s3_read_version(r, t, b, vid, &latest);
    q->bucket_known = false;
    q->bucket_rec = NULL;
    store_txn_abort(t);
    if (v && latest)
        expiration = s3_lc_expiration(r->arena, q->s3, b, q->key, v);
    cJSON_Delete(b);
    if (!v)
        return;
    if (json_true_ci(v, "dm")) {
        http_resp_header(r, "x-amz-delete-marker", "true");
        http_resp_header(r, "x-amz-version-id", json_str_ci(v, "vid"));
        if (vid) {
            char when[40];
            s3_time_http((int64_t)json_num_ci(v, "lm"), when);
            http_resp_header(r, "Last-Modified", when);
            http_resp_header(r, "Allow", "DELETE");
            s3_req_of(r)->on_marker = true;
            s3_error(r, S3E_METHOD_NOT_ALLOWED, NULL);
        } else {
            s3_error(r, S3E_NO_SUCH_KEY, NULL);
        }
        return;
    }
    cond = conditionals(r, json_str_ci(v, "etag"), (int64_t)json_num_ci(v, "lm"));
    if (cond == 412) {
        s3_error(r, S3E_PRECONDITION_FAILED, NULL);
        return;
    }
    if (cond == 304) {
        char when[40];
        s3_time_http((int64_t)json_num_ci(v, "lm"), when);
        http_resp_header(r, "ETag", json_str_ci(v, "etag"));
        http_resp_header(r, "Last-Modified", when);
        s3_error(r, S3E_NOT_MODIFIED, NULL);
        return;
    }
    size = (long long)json_num_ci(v, "size");
    len = size;
    if (pn) {
        char *end;
        long num = strtol(pn, &end, 10);
        if (!isdigit((unsigned char)*pn) || *end || num < 1 || num > 10000) {
            s3_error_arg(r, S3E_INVALID_ARGUMENT,
                         "Part number must be an integer between 1 and 10000, inclusive",
                         "partNumber", pn);
            return;
        }
        if (http_req_header(r, "range")) {
            s3_error(r, S3E_INVALID_REQUEST,
                     "Cannot specify both Range header and partNumber query parameter");
            return;
        }
        if ((rg = s3_part_range(v, num, &off, &len, &part)) < 0) {
            s3_error(r, S3E_INVALID_PART_NUMBER, NULL);
            return;
        }
    } else {
        rg = parse_range(http_req_header(r, "range"), size, &off, &len);
    }
    if (rg < 0) {
        http_resp_header(r, "Content-Range", arena_sprintf(r->arena, "bytes */%lld", size));
        s3_error_elems(r, S3E_INVALID_RANGE, NULL,
                       (const char *const[]){"RangeRequested", http_req_header(r, "range"),
                                             "ActualObjectSize",
                                             arena_sprintf(r->arena, "%lld", size)},
                       2);
        return;
    }
    fd = open(s3_abs_path(q->s3, r->arena, json_str_ci(v, "file")), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        /* overwritten and removed between our read and the open */
        s3_error(r, S3E_NO_SUCH_KEY, NULL);
        return;
    }
    object_headers(r, v, !latest || strcmp(json_str_ci(v, "vid"), "null") != 0, part,
                   pn || rg == 0 || (off == 0 && len == size));
    if (expiration)
        http_resp_header(r, "x-amz-expiration", expiration);
    if (rg > 0)
        http_resp_header(r, "Content-Range",
                         arena_sprintf(r->arena, "bytes %lld-%lld/%lld", off, off + len - 1, size));
    (void)head; /* libmicrohttpd sends HEAD answers without the body */
    s3_ok_fd(r, q->web_status ? q->web_status : rg > 0 ? 206 : 200, fd, off, len);
}

/* ---- DeleteObject ---- */

struct delw {
    struct s3_newver nv; /* first: the delete marker, when one is made */
    const char *vid;     /* delete this version */
    bool marker;         /* a delete marker was made */
    bool was_marker;     /* the version removed was a marker */
    char out_vid[33];
    /* DeleteObjects */
    bool multi; /* an item of DeleteObjects */
    bool quiet;
    bool denied; /* the caller may not delete this one: an <Error> entry */
    bool bypass; /* GOVERNANCE retention bypassed (header and permission) */
    bool locked; /* DeleteObjects: protected by Object Lock, an <Error> entry */
    bool badvid; /* DeleteObjects: a version id S3 could not have made, NoSuchVersion */
};

static enum err_code del_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct delw *d = arg;
    struct s3_newver *nv = &d->nv;
    struct arena *a = nv->r->arena;
    cJSON *b = s3_bucket_get(t, a, nv->bucket), *old;
    const char *vs;
    struct slice k;
    enum err_code rc;

    if (!b) {
        nv->w.fail = S3E_NO_SUCH_BUCKET;
        return ERR_CONFLICT;
    }
    vs = json_str_ci(b, "versioning");
    nv->versioned = vs && *vs;
    if (d->vid) {
        old = s3_find_version(t, a, nv->bucket, nv->key, d->vid, &k);
        cJSON_Delete(b);
        snprintf(d->out_vid, sizeof(d->out_vid), "%s", d->vid);
        if (!old)
            return ERR_OK; /* deleting a missing version succeeds */
        if (s3_lock_holds(old, clock_wall_ms(), d->bypass)) {
            cJSON_Delete(old);
            if (d->multi) { /* DeleteObjects: this key's error, the others go on */
                d->locked = true;
                return ERR_OK;
            }
            nv->w.fail = S3E_ACCESS_DENIED;
            snprintf(nv->w.msg, sizeof(nv->w.msg),
                     "Access Denied because object protected by object lock.");
            return ERR_CONFLICT;
        }
        d->was_marker = json_true_ci(old, "dm");
        rc = del_version_key(t, nv, k, old, e);
        cJSON_Delete(old);
        return rc ? rc : s3_notify_removed(t, nv, d->vid, e);
    }
    if (!nv->versioned) {
        cJSON_Delete(b);
        old = s3_find_version(t, a, nv->bucket, nv->key, "null", &k);
        if (!old)
            return ERR_OK;
        rc = del_version_key(t, nv, k, old, e);
        cJSON_Delete(old);
        return rc ? rc : s3_notify_removed(t, nv, "null", e);
    }
    cJSON_Delete(b);
    /* Enabled or Suspended: a delete marker becomes the current version */
    d->marker = true;
    nv->rec = cJSON_CreateObject();
    cJSON_AddTrueToObject(nv->rec, "dm");
    cJSON_AddNumberToObject(nv->rec, "lm", (double)clock_wall_ms());
    rc = newver_apply(t, nv, e);
    snprintf(d->out_vid, sizeof(d->out_vid), "%s", nv->vid);
    return rc;
}

static void del_ok(struct s3_w *w)
{
    struct delw *d = (struct delw *)w;
    int i;

    for (i = 0; i < d->nv.nold; i++)
        unlink(d->nv.old_files[i]);
    if (d->vid || d->marker)
        http_resp_header(w->r, "x-amz-version-id", d->out_vid);
    if (d->marker || d->was_marker)
        http_resp_header(w->r, "x-amz-delete-marker", "true");
    s3_ok(w->r, 204, NULL);
}

static void delw_free(void *p)
{
    struct delw *d = p;
    cJSON_Delete(d->nv.rec);
}

/* bypass_refused - whether @r names x-amz-bypass-governance-retention (true
 * or false) for a bucket without Object Lock, which S3 refuses; answered */
static bool bypass_refused(struct http_req *r)
{
    cJSON *b;

    if (!http_req_header(r, "x-amz-bypass-governance-retention"))
        return false;
    if (!(b = s3_bucket_or_404(r)))
        return true;
    if (cJSON_GetObjectItem(b, "lock"))
        return false;
    s3_error_elem(r, S3E_INVALID_ARGUMENT,
                  "x-amz-bypass-governance-retention is only applicable to Object Lock enabled "
                  "buckets.",
                  "ArgumentName", "x-amz-bypass-governance-retention");
    return true;
}

void s3_delete_object(struct http_req *r)
{
    struct s3_req *q = s3_req_of(r);
    struct delw *d = arena_calloc(r->arena, sizeof(*d));

    d->vid = s3_query(r, "versionId");
    if (!s3_allow(r, d->vid ? "s3:DeleteObjectVersion" : "s3:DeleteObject", q->bucket, q->key))
        return;
    if (d->vid && !s3_vid_ok(d->vid)) {
        s3_error_arg(r, S3E_INVALID_ARGUMENT, "Invalid version id specified", "versionId", d->vid);
        return;
    }
    if (bypass_refused(r))
        return;
    arena_on_free(r->arena, delw_free, d);
    d->bypass = d->vid && s3_lock_bypass(r, q->key);
    d->nv.r = r;
    d->nv.bucket = q->bucket;
    d->nv.key = q->key;
    d->nv.w.r = r;
    d->nv.w.apply = del_apply;
    d->nv.w.ok = del_ok;
    s3_submit(&d->nv.w);
}

/* ---- DeleteObjects: every key in one intent ---- */

struct multidel {
    struct s3_w w;
    struct delw *items;
    int n;
    bool quiet;
};

static enum err_code multidel_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct multidel *m = arg;
    enum err_code rc;

    for (int i = 0; i < m->n; i++) {
        if (m->items[i].denied || m->items[i].badvid)
            continue;
        rc = del_apply(t, &m->items[i], e);
        if (rc == ERR_CONFLICT) {
            m->w.fail = m->items[i].nv.w.fail;
            return rc;
        }
        if (rc)
            return rc;
    }
    return ERR_OK;
}

static void multidel_ok(struct s3_w *w)
{
    struct multidel *m = (struct multidel *)w;
    struct buf b;

    s3_xml_start(&b, "DeleteResult");
    for (int i = 0; i < m->n; i++) {
        struct delw *d = &m->items[i];
        for (int j = 0; j < d->nv.nold; j++)
            unlink(d->nv.old_files[j]);
        if (d->badvid) { /* S3 lists it so, where DeleteObject says InvalidArgument */
            buf_puts(&b, "<Error>");
            xmlw_elem(&b, "Key", d->nv.key, XMLW_CTRL);
            xmlw_elem(&b, "VersionId", d->vid, XMLW_CTRL);
            buf_puts(&b, "<Code>NoSuchVersion</Code><Message>The specified version does not "
                         "exist.</Message></Error>");
            continue;
        }
        if (d->denied || d->locked) { /* errors are listed in Quiet mode too */
            buf_puts(&b, "<Error>");
            xmlw_elem(&b, "Key", d->nv.key, XMLW_CTRL);
            if (d->vid)
                xmlw_elem(&b, "VersionId", d->vid, XMLW_CTRL);
            buf_puts(&b, d->locked ? "<Code>AccessDenied</Code><Message>Access Denied because "
                                     "object protected by object lock.</Message></Error>"
                                   : "<Code>AccessDenied</Code><Message>Access Denied</Message>"
                                     "</Error>");
            continue;
        }
        if (m->quiet)
            continue;
        buf_puts(&b, "<Deleted>");
        xmlw_elem(&b, "Key", d->nv.key, XMLW_CTRL);
        if (d->vid)
            xmlw_elem(&b, "VersionId", d->vid, XMLW_CTRL);
        if (d->marker || d->was_marker) { /* made, or removed by its version id */
            buf_puts(&b, "<DeleteMarker>true</DeleteMarker>");
            xmlw_elem(&b, "DeleteMarkerVersionId", d->out_vid, XMLW_CTRL);
        }
        buf_puts(&b, "</Deleted>");
    }
    buf_puts(&b, "</DeleteResult>");
    s3_ok(w->r, 200, &b);
}

static void multidel_free(void *p)
{
    struct multidel *m = p;
    for (int i = 0; i < m->n; i++)
        cJSON_Delete(m->items[i].nv.rec);
}

void s3_delete_objects(struct http_req *r)
{
    struct s3_req *q = s3_req_of(r);
    struct multidel *m = arena_calloc(r->arena, sizeof(*m));
    struct s3_xml *x, *o;
    int n = 0, denied = 0;

    if (s3_xml_parse(r->arena, r->body.ptr ? r->body.ptr : "", r->body.len, &x, NULL) != ERR_OK ||
        strcmp(x->name, "Delete") != 0) {
        s3_error(r, S3E_MALFORMED_XML, NULL);
        return;
    }
    for (o = x->child; o; o = o->next)
        if (strcmp(o->name, "Object") == 0)
            n++;
    if (n == 0 || n > 1000) {
        s3_error(r, S3E_MALFORMED_XML, NULL);
        return;
    }
    if (bypass_refused(r))
        return;
    m->quiet = s3_xml_text(x, "Quiet") && strcmp(s3_xml_text(x, "Quiet"), "true") == 0;
    m->items = arena_calloc(r->arena, (size_t)n * sizeof(*m->items));
    for (o = x->child; o; o = o->next) {
        struct delw *d;
        const char *k;
        if (strcmp(o->name, "Object") != 0)
            continue;
        k = s3_xml_text(o, "Key");
        if (!k) {
            s3_error(r, S3E_MALFORMED_XML, NULL);
            return;
        }
        d = &m->items[m->n++];
        d->nv.r = r;
        d->nv.w.r = r;
        d->nv.bucket = q->bucket;
        d->nv.key = k;
        d->vid = s3_xml_text(o, "VersionId");
        /* each key is authorized on its own, as S3 does */
        d->denied = !s3_may(r, d->vid ? "s3:DeleteObjectVersion" : "s3:DeleteObject", q->bucket, k);
        d->bypass = d->vid && s3_lock_bypass(r, k);
        d->multi = true;
        d->badvid = !d->denied && d->vid && !s3_vid_ok(d->vid);
        denied += d->denied || d->badvid;
    }
    if (denied == m->n && !s3_bucket_or_404(r)) /* no write runs to find the bucket missing */
        return;
    arena_on_free(r->arena, multidel_free, m);
    m->w.r = r;
    m->w.apply = multidel_apply;
    m->w.ok = multidel_ok;
    s3_submit(&m->w);
}
