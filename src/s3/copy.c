/* copy.c - CopyObject, the source side of UploadPartCopy, and object tagging.
 *
 * A copy reads the source version's file and writes a new body file (hashing
 * it for the ETag) on a flush thread (s3_defer: the request thread checks the
 * request and returns, the connection waits suspended), makes it durable
 * there, then commits the new version like PutObject. The source file cannot vanish under us: it is
 * opened before it is read, and an unlinked open file stays readable. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "codec.h"
#include "log.h"
#include "mem.h"
#include "s3_int.h"
#include "s3_repl.h"
#include "s3_xml.h"

/*
 * s3_copy_source - resolve x-amz-copy-source ("[/]bucket/key[?versionId=V]",
 * percent-encoded) to a version record (arena-owned) and check the
 * x-amz-copy-source-if-* conditions. Answers the error itself and returns NULL.
 */
cJSON *s3_copy_source(struct http_req *r, const char **sbucket, const char **skey);
cJSON *s3_copy_source(struct http_req *r, const char **sbucket, const char **skey)
{
    struct s3_req *q = s3_req_of(r);
    const char *src = http_req_header(r, "x-amz-copy-source"), *qm, *slash, *vid = NULL;
    struct store_txn *t = NULL;
    cJSON *b, *v = NULL;
    char *path;
    int64_t tm;
    const char *h;

    if (*src == '/')
        src++;
    qm = strstr(src, "?versionId=");
    path = url_decode(r->arena, src, qm ? (size_t)(qm - src) : strlen(src));
    if (qm)
        vid = url_decode(r->arena, qm + 11, strlen(qm + 11));
    slash = strchr(path, '/');
    if (!slash || slash == path || !slash[1]) {
        s3_error(r, S3E_INVALID_ARGUMENT, "Invalid copy source object key");
        return NULL;
    }
    *sbucket = arena_strndup(r->arena, path, (size_t)(slash - path));
    *skey = slash + 1;
    if (!s3_allow(r, vid ? "s3:GetObjectVersion" : "s3:GetObject", *sbucket, *skey))
        return NULL;
    if (store_read_begin(q->s3->store, &t, NULL) != ERR_OK) {
        s3_error(r, S3E_INTERNAL, NULL);
        return NULL;
    }
    b = s3_bucket_get(t, r->arena, *sbucket);
    if (b)
        v = s3_find_version(t, r->arena, *sbucket, *skey, vid, NULL);
    store_txn_abort(t);
    if (!b) {
        s3_error(r, S3E_NO_SUCH_BUCKET, NULL);
        return NULL;
    }
    cJSON_Delete(b);
    if (!v) {
        s3_error(r, vid ? S3E_NO_SUCH_VERSION : S3E_NO_SUCH_KEY, NULL);
        return NULL;
    }
    arena_on_free(r->arena, s3_json_free, v);
    if (cJSON_IsTrue(cJSON_GetObjectItem(v, "dm"))) {
        if (vid)
            s3_error(r, S3E_INVALID_REQUEST,
                     "The source of a copy request may not specifically refer to a delete "
                     "marker by version id.");
        else
            s3_error(r, S3E_NO_SUCH_KEY, NULL);
        return NULL;
    }
    /* every failed copy-source condition is a 412 naming it, as S3's */
    {
        const char *etag = json_str_ci(v, "etag");
        int64_t lm = (int64_t)json_num_ci(v, "lm") / 1000 * 1000;
        const char *failed = NULL;
        if ((h = http_req_header(r, "x-amz-copy-source-if-match")) && !s3_etag_in(h, etag))
            failed = "x-amz-copy-source-If-Match";
        else if ((h = http_req_header(r, "x-amz-copy-source-if-none-match")) && s3_etag_in(h, etag))
            failed = "x-amz-copy-source-If-None-Match";
        else if ((h = http_req_header(r, "x-amz-copy-source-if-unmodified-since")) &&
                 !http_req_header(r, "x-amz-copy-source-if-match") && s3_time_parse_http(h, &tm) &&
                 lm > tm)
            failed = "x-amz-copy-source-If-Unmodified-Since";
        else if ((h = http_req_header(r, "x-amz-copy-source-if-modified-since")) &&
                 !http_req_header(r, "x-amz-copy-source-if-none-match") &&
                 s3_time_parse_http(h, &tm) &&
                 tm <= clock_wall_ms() && /* S3 lets a date in the future pass, as HTTP does */
                 lm <= tm)
            failed = "x-amz-copy-source-If-Modified-Since";
        if (failed) {
            s3_req_of(r)->condition = failed;
            s3_error(r, S3E_PRECONDITION_FAILED, NULL);
            return NULL;
        }
    }
    if (vid)
        http_resp_header(r, "x-amz-copy-source-version-id", vid);
    return v;
}

/*
 * s3_copy_range - copy @len bytes from @off of the source version @v into a
 * new body file; @rel (arena) is its path under objects/, @hex its MD5, and
 * the copy's checksum of algorithm @alg (CK_NONE: CRC64NVME) is then
 * s3_ck_value(r, @alg). Answers InternalError itself and returns false.
 */
bool s3_copy_range(struct http_req *r, const cJSON *v, long long off, long long len, char **rel,
                   char **abs, char hex[33], int alg);
bool s3_copy_range(struct http_req *r, const cJSON *v, long long off, long long len, char **rel,
                   char **abs, char hex[33], int alg)
{
    struct s3_req *q = s3_req_of(r);
    int in = -1, out = -1;
    char *tmp = NULL, *blk = NULL;
    EVP_MD_CTX *md = NULL;
    unsigned char d[16];
    unsigned int dl = 0;
    struct err e = {0};
    bool ok = false;

    in = open(s3_abs_path(q->s3, r->arena, json_str_ci(v, "file")), O_RDONLY | O_CLOEXEC);
    out = s3_make_tmp(q->s3, r->arena, &tmp);
    if (in < 0 || out < 0)
        goto out;
    md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_md5(), NULL);
    s3_ck_start(r, alg);
    blk = xmalloc(1 << 20);
    while (len > 0) {
        ssize_t n = pread(in, blk, len < (1 << 20) ? (size_t)len : (1 << 20), (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || write(out, blk, (size_t)n) != n)
            goto out;
        EVP_DigestUpdate(md, blk, (size_t)n);
        s3_ck_update(q, blk, (size_t)n);
        off += n;
        len -= n;
    }
    EVP_DigestFinal_ex(md, d, &dl);
    hex_encode(d, 16, hex);
    *rel = s3_new_body_path(q->s3, r->arena, abs);
    ok = s3_commit_file(q->s3, r->arena, out, tmp, *rel, &e) == ERR_OK;
    out = -1; /* closed by s3_commit_file */
    tmp = NULL;
out:
    if (in >= 0)
        close(in);
    if (out >= 0) {
        close(out);
        unlink(tmp);
    }
    EVP_MD_CTX_free(md);
    free(blk);
    if (!ok) {
        log_err("event=s3_copy_failed error=\"%s\"", e.msg[0] ? e.msg : strerror(errno));
        s3_error(r, S3E_INTERNAL, NULL);
    }
    return ok;
}

struct copyw {
    const cJSON *v;   /* the source version */
    const char *tdir; /* x-amz-tagging-directive */
    bool replace;     /* x-amz-metadata-directive: REPLACE */
    int alg;          /* x-amz-checksum-algorithm, else CK_NONE */
};

/* the copy's checksum into @rec: the source's (its type too) unless the copy
 * names an algorithm, else the copy's bytes' (FULL_OBJECT), CRC64NVME when the
 * source has none (S3's default), as S3 does */
static void copy_checksum(struct http_req *r, const struct copyw *c, cJSON *rec)
{
    const cJSON *v = c->v;

    if (!c->alg && json_str_ci(v, "ckn") && json_str_ci(v, "ckv")) {
        cJSON_AddStringToObject(rec, "ckn", json_str_ci(v, "ckn"));
        cJSON_AddStringToObject(rec, "ckv", json_str_ci(v, "ckv"));
        if (json_str_ci(v, "ckt"))
            cJSON_AddStringToObject(rec, "ckt", json_str_ci(v, "ckt"));
        return;
    }
    cJSON_AddStringToObject(rec, "ckn", s3_ck_lower(c->alg ? c->alg : CK_CRC64NVME));
    cJSON_AddStringToObject(rec, "ckv", s3_ck_value(r, c->alg ? c->alg : CK_CRC64NVME));
}

/* CopyObjectResult's checksum: ChecksumType and Checksum<ALG> */
static void copy_result_checksum(struct http_req *r, const cJSON *rec, struct buf *b)
{
    const char *t = json_str_ci(rec, "ckt");
    int alg = s3_ck_parse(json_str_ci(rec, "ckn"));

    xmlw_elem(b, "ChecksumType", t ? t : "FULL_OBJECT", XMLW_CTRL);
    xmlw_elem(b, arena_sprintf(r->arena, "Checksum%s", s3_ck_name(alg)), json_str_ci(rec, "ckv"),
              XMLW_CTRL);
}

/* the copy, its flush and the new version's commit, on a flush thread */
static void copy_object_work(struct http_req *r, void *arg)
{
    struct s3_req *q = s3_req_of(r);
    struct copyw *c = arg;
    const cJSON *v = c->v;
    struct s3_newver *nv;
    struct s3_orphan *o;
    char hex[33], *rel, *abs, when[32];
    cJSON *rec;
    struct buf b;

    if (!s3_copy_range(r, v, 0, (long long)json_num_ci(v, "size"), &rel, &abs, hex, c->alg))
        return;
    o = arena_calloc(r->arena, sizeof(*o));
    o->path = abs;
    arena_on_free(r->arena, s3_orphan_free, o);
    rec = cJSON_CreateObject();
    cJSON_AddNumberToObject(rec, "size", json_num_ci(v, "size"));
    cJSON_AddStringToObject(rec, "etag", arena_sprintf(r->arena, "\"%s\"", hex));
    cJSON_AddNumberToObject(rec, "lm", (double)clock_wall_ms());
    cJSON_AddStringToObject(rec, "file", rel);
    if (c->replace) {
        s3_rec_headers(r, rec);
    } else {
        cJSON_AddItemToObject(rec, "h", cJSON_Duplicate(cJSON_GetObjectItem(v, "h"), 1));
        cJSON_AddItemToObject(rec, "m", cJSON_Duplicate(cJSON_GetObjectItem(v, "m"), 1));
        s3_sse_from_request(r, rec); /* else the bucket's default, as S3 does */
        s3_rec_acl(r, rec);          /* the source's ACL is not copied, as S3 does */
        /* the redirect is the object's own: not copied, and taken from the
         * request with either directive (CopyObject's API reference) */
        if (http_req_header(r, "x-amz-website-redirect-location"))
            cJSON_AddStringToObject(rec, "wrl",
                                    http_req_header(r, "x-amz-website-redirect-location"));
    }
    s3_lock_from_request(r, rec); /* the source's retention is not copied, as S3 does */
    copy_checksum(r, c, rec);
    if (c->tdir && strcmp(c->tdir, "REPLACE") == 0) {
        bool bad; /* checked with the request's headers */
        cJSON *tags = s3_header_tags(r, &bad);
        if (tags)
            cJSON_AddItemToObject(rec, "tags", tags);
    } else if (cJSON_GetObjectItem(v, "tags")) {
        cJSON_AddItemToObject(rec, "tags", cJSON_Duplicate(cJSON_GetObjectItem(v, "tags"), 1));
    }
    nv = arena_calloc(r->arena, sizeof(*nv));
    nv->r = r;
    nv->bucket = q->bucket;
    nv->key = q->key;
    nv->rec = rec;
    nv->kind = 1;
    nv->keep_file = &o->keep;
    s3_time_iso((int64_t)json_num_ci(rec, "lm"), when);
    s3_xml_start(&b, "CopyObjectResult");
    xmlw_elem(&b, "LastModified", when, XMLW_CTRL);
    xmlw_elem(&b, "ETag", json_str_ci(rec, "etag"), XMLW_CTRL);
    copy_result_checksum(r, rec, &b);
    buf_puts(&b, "</CopyObjectResult>");
    nv->out = b;
    s3_submit_version(nv);
}

/* encryption_put - whether @r's bucket has a default encryption put to it,
 * not only S3's own default */
static bool encryption_put(struct http_req *r)
{
    cJSON *b = s3_bucket_or_404(r);
    cJSON *cfg = b ? cJSON_GetObjectItem(b, "cfg") : NULL;

    return cJSON_IsString(cJSON_GetObjectItem(cfg, "encryption"));
}

void s3_copy_object(struct http_req *r)
{
    struct s3_req *q = s3_req_of(r);
    const char *sb, *sk, *dir = http_req_header(r, "x-amz-metadata-directive");
    const char *tdir = http_req_header(r, "x-amz-tagging-directive");
    const char *cka = http_req_header(r, "x-amz-checksum-algorithm");
    bool replace = dir && strcmp(dir, "REPLACE") == 0;
    struct copyw *c;
    cJSON *v;

    if (dir && !replace && strcmp(dir, "COPY") != 0) {
        s3_error_arg(r, S3E_INVALID_ARGUMENT, "Unknown metadata directive.",
                     "x-amz-metadata-directive", dir);
        return;
    }
    if (tdir && strcmp(tdir, "COPY") != 0 && strcmp(tdir, "REPLACE") != 0) {
        s3_error_arg(r, S3E_INVALID_ARGUMENT, "Unknown tagging directive.",
                     "x-amz-tagging-directive", tdir);
        return;
    }
    if (cka && !s3_ck_parse(cka)) {
        s3_error(r, S3E_INVALID_REQUEST,
                 "Checksum algorithm provided is unsupported. Please try again with any of the "
                 "valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]");
        return;
    }
    if (!s3_allow(r, "s3:PutObject", q->bucket, q->key))
        return;
    if (!(v = s3_copy_source(r, &sb, &sk)))
        return;
    /* a copy naming the source's version onto its own key restores that
     * version: S3 takes it without any change asked; so it does a copy that
     * names a website redirect or an encryption (the same as before or not),
     * of an object not under SSE-S3, or into a bucket whose default
     * encryption was put (LocalStack's test_s3_copy_object_in_place_*
     * snapshots) */
    if (!replace && strcmp(sb, q->bucket) == 0 && strcmp(sk, q->key) == 0 &&
        !http_req_header(r, "x-amz-storage-class") && !tdir && !cka &&
        !http_req_header(r, "x-amz-website-redirect-location") &&
        !http_req_header(r, "x-amz-server-side-encryption") &&
        (!json_str_ci(v, "sse") || strcmp(json_str_ci(v, "sse"), "AES256") == 0) &&
        !encryption_put(r) && !strstr(http_req_header(r, "x-amz-copy-source"), "?versionId=")) {
        s3_error(r, S3E_INVALID_REQUEST,
                 "This copy request is illegal because it is trying to copy an object to itself "
                 "without changing the object's metadata, storage class, website redirect "
                 "location or encryption attributes.");
        return;
    }
    if (json_num_ci(v, "size") > 5368709120.0) {
        s3_error(r, S3E_INVALID_REQUEST,
                 "The specified copy source is larger than the maximum allowable size for a "
                 "copy source: 5368709120");
        return;
    }
    c = arena_calloc(r->arena, sizeof(*c));
    c->v = v;
    c->tdir = tdir;
    c->replace = replace;
    c->alg = s3_ck_parse(cka);
    s3_defer(r, copy_object_work, c);
}

/* ---- object tagging ---- */

struct tagw {
    struct s3_w w;
    const char *vid;
    char *tags; /* JSON array text, NULL to delete */
    char found_vid[40];
    bool versioned;
    bool replica; /* written by replication (x-tandem-replica: tags): not queued again */
};

static enum err_code tag_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct tagw *tw = arg;
    struct s3_req *q = s3_req_of(tw->w.r);
    struct arena *a = tw->w.r->arena;
    cJSON *b = s3_bucket_get(t, a, q->bucket), *v;
    struct slice k;
    enum err_code rc;

    if (!b) {
        tw->w.fail = S3E_NO_SUCH_BUCKET;
        return ERR_CONFLICT;
    }
    tw->versioned = json_str_ci(b, "versioning") && *json_str_ci(b, "versioning");
    v = s3_find_version(t, a, q->bucket, q->key, tw->vid, &k);
    if (!v || cJSON_IsTrue(cJSON_GetObjectItem(v, "dm"))) {
        /* a delete marker, named or current, has no tags: S3 answers 405 */
        tw->w.fail = v ? S3E_METHOD_NOT_ALLOWED : tw->vid ? S3E_NO_SUCH_VERSION : S3E_NO_SUCH_KEY;
        q->on_marker = v != NULL;
        cJSON_Delete(v);
        cJSON_Delete(b);
        return ERR_CONFLICT;
    }
    snprintf(tw->found_vid, sizeof(tw->found_vid), "%s", json_str_ci(v, "vid"));
    cJSON_DeleteItemFromObject(v, "tags");
    if (tw->tags)
        cJSON_AddItemToObject(v, "tags", cJSON_Parse(tw->tags));
    rc = s3_meta_put(t, b, tw->w.r, k, v, tw->replica ? NULL : "tags", e);
    cJSON_Delete(v);
    cJSON_Delete(b);
    return rc;
}

static void tag_ok(struct s3_w *w)
{
    struct tagw *tw = (struct tagw *)w;

    if (tw->versioned || strcmp(tw->found_vid, "null") != 0)
        http_resp_header(w->r, "x-amz-version-id", tw->found_vid);
    s3_ok(w->r, tw->tags ? 200 : 204, NULL);
}

void s3_object_tagging(struct http_req *r)
{
    struct s3_req *q = s3_req_of(r);
    const char *vid = s3_query(r, "versionId");
    struct tagw *tw;
    int replica;

    if (strcmp(r->method, "GET") == 0) {
        struct store_txn *t = NULL;
        cJSON *b = NULL, *v = NULL;
        struct buf out;
        if (!s3_allow(r, vid ? "s3:GetObjectVersionTagging" : "s3:GetObjectTagging", q->bucket,
                      q->key))
            return;
        if (store_read_begin(q->s3->store, &t, NULL) == ERR_OK) {
            b = s3_bucket_get(t, r->arena, q->bucket);
            if (b)
                v = s3_find_version(t, r->arena, q->bucket, q->key, vid, NULL);
            store_txn_abort(t);
        }
        if (!b) {
            s3_error(r, S3E_NO_SUCH_BUCKET, NULL);
            return;
        }
        cJSON_Delete(b);
        if (!v || cJSON_IsTrue(cJSON_GetObjectItem(v, "dm"))) {
            q->on_marker = v != NULL;
            /* S3's GetObjectTagging names a missing key as bucket/key */
            q->err_key = arena_sprintf(r->arena, "%s/%s", q->bucket, q->key);
            cJSON_Delete(v);
            s3_error(r,
                     q->on_marker ? S3E_METHOD_NOT_ALLOWED
                     : vid        ? S3E_NO_SUCH_VERSION
                                  : S3E_NO_SUCH_KEY,
                     NULL);
            return;
        }
        arena_on_free(r->arena, s3_json_free, v);
        if (strcmp(json_str_ci(v, "vid"), "null") != 0)
            http_resp_header(r, "x-amz-version-id", json_str_ci(v, "vid"));
        s3_write_tagging(&out, cJSON_GetObjectItem(v, "tags"));
        s3_ok(r, 200, &out);
        return;
    }
    if (strcmp(r->method, "PUT") != 0 && strcmp(r->method, "DELETE") != 0) {
        s3_error(r, S3E_METHOD_NOT_ALLOWED, NULL);
        return;
    }
    if (!s3_allow(r,
                  strcmp(r->method, "PUT") == 0
                      ? (vid ? "s3:PutObjectVersionTagging" : "s3:PutObjectTagging")
                      : (vid ? "s3:DeleteObjectVersionTagging" : "s3:DeleteObjectTagging"),
                  q->bucket, q->key))
        return;
    tw = arena_calloc(r->arena, sizeof(*tw));
    tw->vid = vid;
    if ((replica = s3_repl_claimed(r)) < 0)
        return;
    tw->replica = replica;
    if (strcmp(r->method, "PUT") == 0 && !(tw->tags = s3_parse_tagging(r, 10)))
        return;
    tw->w.r = r;
    tw->w.apply = tag_apply;
    tw->w.ok = tag_ok;
    s3_submit(&tw->w);
}
