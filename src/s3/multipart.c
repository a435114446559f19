/* multipart.c - CreateMultipartUpload, UploadPart, CompleteMultipartUpload,
 * AbortMultipartUpload, ListParts, ListMultipartUploads.
 *
 * Each part is a body file of its own; completing the upload concatenates the
 * parts into one new file (copy_file_range, so the kernel copies without
 * passing the bytes through us), fsyncs it, and commits the new version, the
 * removal of the upload and of its part records in one intent. The copying
 * and flushing of CompleteMultipartUpload and UploadPartCopy run on a flush
 * thread (s3_defer), not on the request thread. The part files
 * are unlinked once that commit is durable. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "clock.h"
#include "codec.h"
#include "log.h"
#include "s3_int.h"
#include "s3_xml.h"

cJSON *s3_copy_source(struct http_req *r, const char **sbucket, const char **skey);
bool s3_copy_range(struct http_req *r, const cJSON *v, long long off, long long len, char **rel,
                   char **abs, char hex[33], int alg);

enum { MIN_PART = 5 * 1024 * 1024, MAX_PARTS = 10000 };

/* 'U' bucket 0 key 0 upload-id */
static struct slice upload_key(struct arena *a, const char *bucket, const char *key, const char *id)
{
    struct slice p = s3_key_obj_prefix(a, bucket, key);
    size_t il = strlen(id);
    char *k = arena_alloc(a, p.len + il + 1);

    memcpy(k, p.ptr, p.len);
    k[0] = 'U';
    k[p.len] = 0;
    memcpy(k + p.len + 1, id, il);
    return slice_of(k, p.len + 1 + il);
}

/* 'P' upload-id 0 part(4 BE); @part 0 gives the prefix of every part */
static struct slice part_key(struct arena *a, const char *id, unsigned part, bool prefix_only)
{
    size_t il = strlen(id);
    unsigned char *k = arena_alloc(a, il + 6);

    k[0] = 'P';
    memcpy(k + 1, id, il);
    k[il + 1] = 0;
    if (prefix_only)
        return slice_of(k, il + 2);
    k[il + 2] = (unsigned char)(part >> 24);
    k[il + 3] = (unsigned char)(part >> 16);
    k[il + 4] = (unsigned char)(part >> 8);
    k[il + 5] = (unsigned char)part;
    return slice_of(k, il + 6);
}

static bool upload_id_ok(const char *id)
{
    size_t n = strlen(id);
    return n == 32 && strspn(id, "0123456789abcdef") == n;
}

/* ---- CreateMultipartUpload ---- */

struct createw {
    struct s3_w w;
    char id[33];
    char *json;
    cJSON *sse;      /* the request's encryption, arena-owned: {"sse","kms"} or {} */
    const char *cka; /* x-amz-checksum-algorithm, lower case, or NULL */
    bool full;       /* x-amz-checksum-type FULL_OBJECT */
};

/* ---- checksums of uploads in parts ----
 * An upload created with a checksum algorithm keeps "cka" (its lower case
 * name) and "ckt" FULL_OBJECT when the whole object's checksum is the CRC of
 * all its bytes, made from the parts' CRCs and sizes (s3_crc_combine); without
 * "ckt" it is COMPOSITE, the checksum of the parts' checksums. */

static const char *const ck_lower[] = {"crc32", "crc32c", "sha1", "sha256", "crc64nvme"};

/* the upload's checksum type, NULL when it has no algorithm */
static const char *up_type(const cJSON *up)
{
    if (!json_str_ci(up, "cka"))
        return NULL;
    return json_str_ci(up, "ckt") ? json_str_ci(up, "ckt") : "COMPOSITE";
}

static bool up_full(const cJSON *up)
{
    const char *t = up_type(up);
    return t && strcmp(t, "FULL_OBJECT") == 0;
}

/* enum s3_ck of a lower case name */
static int ck_enum(const char *alg)
{
    for (int i = 0; i < 5; i++)
        if (strcmp(alg, ck_lower[i]) == 0)
            return i + 1;
    return CK_NONE;
}

/* the algorithm of x-amz-checksum-algorithm (lower case) and *full for
 * x-amz-checksum-type FULL_OBJECT (CRC64NVME's only and default type), NULL
 * when none; NULL and *why (InvalidRequest's message) for what S3 refuses */
static const char *upload_ck(struct http_req *r, bool *full, const char **why)
{
    const char *a = http_req_header(r, "x-amz-checksum-algorithm");
    const char *t = http_req_header(r, "x-amz-checksum-type");
    size_t i;

    *why = NULL;
    *full = false;
    if (t && strcasecmp(t, "COMPOSITE") != 0 && strcasecmp(t, "FULL_OBJECT") != 0) {
        *why = "Value for x-amz-checksum-type header is invalid.";
        return NULL;
    }
    if (!a) {
        if (t)
            *why = "The x-amz-checksum-type header can only be used with the "
                   "x-amz-checksum-algorithm header.";
        return NULL;
    }
    for (i = 0; i < 5 && strcasecmp(a, ck_lower[i]) != 0; i++)
        ;
    if (i == 5) {
        *why = "Checksum algorithm provided is unsupported. Please try again with any of the "
               "valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]";
        return NULL;
    }
    *full = t ? strcasecmp(t, "FULL_OBJECT") == 0 : i + 1 == CK_CRC64NVME;
    if ((*full && (i + 1 == CK_SHA1 || i + 1 == CK_SHA256)) || (!*full && i + 1 == CK_CRC64NVME))
        *why = arena_sprintf(r->arena,
                             "The %s checksum type cannot be used with the %s checksum algorithm.",
                             *full ? "FULL_OBJECT" : "COMPOSITE", ck_lower[i]);
    return *why ? NULL : ck_lower[i];
}

/* the CRC in base64 @v (4 or 8 bytes, big-endian) into *out */
static bool crc_decode(const char *v, int alg, uint64_t *out)
{
    unsigned char raw[16];
    size_t n = 0, want = alg == CK_CRC64NVME ? 8 : 4;

    if (!v || strlen(v) > 16 || !base64_decode(v, strlen(v), raw, &n) || n != want)
        return false;
    *out = 0;
    for (size_t i = 0; i < n; i++)
        *out = *out << 8 | raw[i];
    return true;
}

static char *crc_encode(struct arena *a, int alg, uint64_t crc)
{
    unsigned char d[8];
    size_t n = alg == CK_CRC64NVME ? 8 : 4;
    char *out = arena_alloc(a, base64_encoded_len(n) + 1);

    for (size_t i = 0; i < n; i++)
        d[i] = (unsigned char)(crc >> (8 * (n - 1 - i)));
    base64_encode(d, n, out);
    return out;
}

/* the whole object's CRC of algorithm @alg made from the parts' CRCs and
 * sizes (FULL_OBJECT); NULL when a part has none of that algorithm. NULL @alg:
 * the CRC64NVME of an upload with no algorithm, from the CRC each part was
 * given when it came without a checksum ("dck"): S3's default checksum. */
static char *full_ck(struct arena *a, const char *alg, cJSON **parts, unsigned n)
{
    int e = alg ? ck_enum(alg) : CK_CRC64NVME;
    uint64_t whole = 0, c;

    for (unsigned i = 0; i < n; i++) {
        const char *nm = json_str_ci(parts[i], "ckn");
        if (alg ? !nm || strcmp(nm, alg) != 0 || !crc_decode(json_str_ci(parts[i], "ckv"), e, &c)
                : !crc_decode(json_str_ci(parts[i], "dck"), e, &c))
            return NULL;
        whole = i ? s3_crc_combine(e, whole, c, (uint64_t)json_num_ci(parts[i], "size")) : c;
    }
    return crc_encode(a, e, whole);
}

/* "ChecksumSHA256" for "sha256" */
static const char *ck_elem(struct arena *a, const char *alg)
{
    char *e = arena_sprintf(a, "Checksum%s", alg), *p;

    for (p = e + 8; *p; p++)
        *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    return e;
}

/* the checksum of the parts' checksums, "-N" after it, as S3 computes a
 * COMPOSITE checksum; NULL when a part has none of algorithm @alg */
static char *composite_ck(struct arena *a, const char *alg, cJSON **parts, unsigned n)
{
    bool crc = strncmp(alg, "crc", 3) == 0;
    EVP_MD_CTX *h = NULL;
    unsigned char raw[64], d[32];
    unsigned int dl = 0, i;
    uint32_t c = 0;
    size_t rl;
    char *out;

    if (!crc) {
        h = EVP_MD_CTX_new();
        EVP_DigestInit_ex(h, strcmp(alg, "sha1") == 0 ? EVP_sha1() : EVP_sha256(), NULL);
    }
    for (i = 0; i < n; i++) {
        const char *v = json_str_ci(parts[i], "ckv"), *nm = json_str_ci(parts[i], "ckn");
        if (!v || !nm || strcmp(nm, alg) != 0 || strlen(v) > 64 ||
            !base64_decode(v, strlen(v), raw, &rl)) {
            EVP_MD_CTX_free(h);
            return NULL;
        }
        if (!crc)
            EVP_DigestUpdate(h, raw, rl);
        else if (strcmp(alg, "crc32") == 0)
            c = (uint32_t)crc32(c, raw, (uInt)rl);
        else
            c = s3_crc32c(c, raw, rl);
    }
    if (crc) {
        d[0] = (unsigned char)(c >> 24);
        d[1] = (unsigned char)(c >> 16);
        d[2] = (unsigned char)(c >> 8);
        d[3] = (unsigned char)c;
        dl = 4;
    } else {
        EVP_DigestFinal_ex(h, d, &dl);
        EVP_MD_CTX_free(h);
    }
    out = arena_alloc(a, base64_encoded_len(dl) + 16);
    base64_encode(d, dl, out);
    snprintf(out + strlen(out), 16, "-%u", n);
    return out;
}

/* the whole object's checksum of upload @up (FULL_OBJECT or COMPOSITE), NULL
 * when it has no algorithm or a part lacks its checksum */
static char *upload_whole_ck(struct arena *a, const cJSON *up, cJSON **parts, unsigned n)
{
    const char *cka = json_str_ci(up, "cka");

    if (!cka)
        return full_ck(a, NULL, parts, n);
    return up_full(up) ? full_ck(a, cka, parts, n) : composite_ck(a, cka, parts, n);
}

static enum err_code create_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct createw *c = arg;
    struct s3_req *q = s3_req_of(c->w.r);
    cJSON *b = s3_bucket_get(t, c->w.r->arena, q->bucket);

    if (!b) {
        c->w.fail = S3E_NO_SUCH_BUCKET;
        return ERR_CONFLICT;
    }
    if (s3_acl_write_refused(c->w.r, b, &c->w.fail)) { /* refused before any part */
        cJSON_Delete(b);
        return ERR_CONFLICT;
    }
    cJSON_Delete(b);
    return store_put(t, STORE_DB_S3, upload_key(c->w.r->arena, q->bucket, q->key, c->id),
                     slice_str(c->json), e);
}

static void create_ok(struct s3_w *w)
{
    struct createw *c = (struct createw *)w;
    struct s3_req *q = s3_req_of(w->r);
    struct buf b;

    s3_xml_start(&b, "InitiateMultipartUploadResult");
    xmlw_elem(&b, "Bucket", q->bucket, XMLW_CTRL);
    xmlw_elem(&b, "Key", q->key, XMLW_CTRL);
    xmlw_elem(&b, "UploadId", c->id, XMLW_CTRL);
    buf_puts(&b, "</InitiateMultipartUploadResult>");
    s3_sse_headers(w->r, c->sse);
    if (c->cka) {
        http_resp_header(w->r, "x-amz-checksum-algorithm", ck_elem(w->r->arena, c->cka) + 8);
        http_resp_header(w->r, "x-amz-checksum-type", c->full ? "FULL_OBJECT" : "COMPOSITE");
    }
    s3_ok(w->r, 200, &b);
}

void s3_create_upload(struct http_req *r)
{
    struct s3_req *q = s3_req_of(r);
    struct createw *c = arena_calloc(r->arena, sizeof(*c));
    cJSON *rec;
    char *s;
    const char *why;
    bool bad;

    if (!s3_allow(r, "s3:PutObject", q->bucket, q->key))
        return;
    c->cka = upload_ck(r, &c->full, &why);
    if (why) {
        s3_error(r, S3E_INVALID_REQUEST, why);
        return;
    }
    s3_new_id(c->id);
    rec = cJSON_CreateObject();
    cJSON_AddNumberToObject(rec, "init", (double)clock_wall_ms());
    cJSON_AddStringToObject(rec, "k", q->key);
    s3_rec_headers(r, rec); /* the object to be's headers, as PutObject keeps them */
    s3_lock_from_request(r, rec);
    if (c->cka)
        cJSON_AddStringToObject(rec, "cka", c->cka);
    if (c->full)
        cJSON_AddStringToObject(rec, "ckt", "FULL_OBJECT");
    {
        cJSON *tags = s3_header_tags(r, &bad); /* checked with the request's headers */
        if (tags)                              /* the object's when the upload completes */
            cJSON_AddItemToObject(rec, "tags", tags);
    }
    c->sse = cJSON_CreateObject();
    s3_sse_from_request(r, c->sse);
    arena_on_free(r->arena, s3_json_free, c->sse);
    s = cJSON_PrintUnformatted(rec);
    c->json = arena_strdup(r->arena, s);
    free(s);
    cJSON_Delete(rec);
    c->w.r = r;
    c->w.apply = create_apply;
    c->w.ok = create_ok;
    s3_submit(&c->w);
}

/* read the upload record (arena-owned JSON) or answer NoSuchUpload */
static cJSON *upload_or_404(struct http_req *r, const char *id)
{
    struct s3_req *q = s3_req_of(r);
    struct store_txn *t = NULL;
    struct slice v;
    cJSON *j = NULL, *b = NULL;

    if (store_read_begin(q->s3->store, &t, NULL) != ERR_OK) {
        s3_error(r, S3E_INTERNAL, NULL);
        return NULL;
    }
    b = s3_bucket_get(t, r->arena, q->bucket);
    if (b && upload_id_ok(id) &&
        store_get(t, STORE_DB_S3, upload_key(r->arena, q->bucket, q->key, id), &v, NULL) == ERR_OK)
        j = cJSON_ParseWithLength(v.ptr, v.len);
    store_txn_abort(t);
    if (!b) {
        s3_error(r, S3E_NO_SUCH_BUCKET, NULL);
        return NULL;
    }
    cJSON_Delete(b);
    if (!j) {
        s3_error(r, S3E_NO_SUCH_UPLOAD, NULL);
        return NULL;
    }
    arena_on_free(r->arena, s3_json_free, j);
    return j;
}

/* ---- UploadPart ---- */

struct partw {
    struct s3_newver nv; /* for its old-file list and keep_file */
    const char *id;
    unsigned part;
    char *json;
    char etag[40];
    struct buf out;  /* UploadPartCopy's CopyPartResult */
    const char *ckn; /* the checksum the part came with (lower case name), or NULL */
    const char *ckv;
    const char *dck; /* its CRC64NVME when its upload has no algorithm, for the
                      * object's default checksum */
};

static enum err_code part_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct partw *p = arg;
    struct s3_req *q = s3_req_of(p->nv.r);
    struct arena *a = p->nv.r->arena;
    struct slice pk = part_key(a, p->id, p->part, false), v;

    if (store_get(t, STORE_DB_S3, upload_key(a, q->bucket, q->key, p->id), &v, NULL) != ERR_OK) {
        p->nv.w.fail = S3E_NO_SUCH_UPLOAD;
        return ERR_CONFLICT;
    }
    if (store_get(t, STORE_DB_S3, pk, &v, NULL) == ERR_OK) {
        cJSON *old = cJSON_ParseWithLength(v.ptr, v.len);
        if (old && json_str_ci(old, "file"))
            s3_newver_old(&p->nv, json_str_ci(old, "file"));
        cJSON_Delete(old);
    }
    return store_put(t, STORE_DB_S3, pk, slice_str(p->json), e);
}

static void part_ok(struct s3_w *w)
{
    struct partw *p = (struct partw *)w;
    int i;

    for (i = 0; i < p->nv.nold; i++)
        unlink(p->nv.old_files[i]);
    if (p->nv.keep_file)
        *p->nv.keep_file = true;
    if (p->out.len) {
        s3_ok(w->r, 200, &p->out);
        return;
    }
    http_resp_header(w->r, "ETag", p->etag);
    if (p->ckn)
        http_resp_header(w->r, arena_sprintf(w->r->arena, "x-amz-checksum-%s", p->ckn), p->ckv);
    else if (p->dck) /* a part of an upload with no algorithm: S3's own CRC64NVME */
        http_resp_header(w->r, "x-amz-checksum-crc64nvme", p->dck);
    s3_ok(w->r, 200, NULL);
}

static void buf_free_cb(void *b)
{
    buf_free(b);
}

static bool part_number(struct http_req *r, unsigned *out)
{
    const char *pn = s3_query(r, "partNumber");
    char *end;
    long n;

    n = pn ? strtol(pn, &end, 10) : 0;
    if (!pn || *end || end == pn || n < 1 || n > MAX_PARTS) {
        s3_error_arg(r, S3E_INVALID_ARGUMENT,
                     "Part number must be an integer between 1 and 10000, inclusive", "partNumber",
                     pn);
        return false;
    }
    *out = (unsigned)n;
    return true;
}

/* the part's record into the store, its body file durable at @rel / @abs */
static void part_record(struct http_req *r, struct partw *p, struct buf cb, const char *hex,
                        char *rel, char *abs, long long size)
{
    struct s3_orphan *o;
    char *s;
    cJSON *rec;

    snprintf(p->etag, sizeof(p->etag), "\"%s\"", hex);
    p->out = cb;
    arena_on_free(r->arena, buf_free_cb, &p->out); /* emptied when answered */
    o = arena_calloc(r->arena, sizeof(*o));
    o->path = abs;
    arena_on_free(r->arena, s3_orphan_free, o);
    rec = cJSON_CreateObject();
    cJSON_AddStringToObject(rec, "etag", p->etag);
    cJSON_AddStringToObject(rec, "md5", hex);
    cJSON_AddNumberToObject(rec, "size", (double)size);
    cJSON_AddNumberToObject(rec, "lm", (double)clock_wall_ms());
    cJSON_AddStringToObject(rec, "file", rel);
    if (p->ckn) {
        cJSON_AddStringToObject(rec, "ckn", p->ckn);
        cJSON_AddStringToObject(rec, "ckv", p->ckv);
    }
    if (p->dck)
        cJSON_AddStringToObject(rec, "dck", p->dck);
    s = cJSON_PrintUnformatted(rec);
    p->json = arena_strdup(r->arena, s);
    free(s);
    cJSON_Delete(rec);
    p->nv.r = r;
    p->nv.keep_file = &o->keep;
    p->nv.w.r = r;
    p->nv.w.apply = part_apply;
    p->nv.w.ok = part_ok;
    s3_submit(&p->nv.w);
}

/* the algorithm of upload @id of the request's key (lower case, arena), NULL
 * when it has none (or is gone); *full when its type is FULL_OBJECT */
static const char *upload_alg(struct http_req *r, const char *id, bool *full)
{
    struct s3_req *q = s3_req_of(r);
    struct store_txn *t = NULL;
    struct slice v;
    const char *alg = NULL;

    *full = false;
    if (store_read_begin(q->s3->store, &t, NULL) != ERR_OK)
        return NULL;
    if (store_get(t, STORE_DB_S3, upload_key(r->arena, q->bucket, q->key, id), &v, NULL) ==
        ERR_OK) {
        cJSON *up = cJSON_ParseWithLength(v.ptr, v.len);
        if (up && json_str_ci(up, "cka")) {
            alg = arena_strdup(r->arena, json_str_ci(up, "cka"));
            *full = up_full(up);
        }
        cJSON_Delete(up);
    }
    store_txn_abort(t);
    return alg;
}

/* the CRC of algorithm @e (CK_CRC32, CK_CRC32C or CK_CRC64NVME) of the body
 * file @abs, just written (base64, arena), or NULL when it cannot be read */
static const char *file_crc(struct http_req *r, int e, const char *abs)
{
    int fd = open(abs, O_RDONLY | O_CLOEXEC);
    enum { CHUNK = 1 << 20 };
    unsigned char *b = fd >= 0 ? malloc(CHUNK) : NULL;
    uint64_t crc = 0;
    ssize_t n = -1;

    while (b && (n = read(fd, b, CHUNK)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        crc = e == CK_CRC32    ? (uint32_t)crc32((uLong)crc, b, (uInt)n)
              : e == CK_CRC32C ? s3_crc32c((uint32_t)crc, b, (size_t)n)
                               : s3_crc64nvme(crc, b, (size_t)n);
    }
    free(b);
    if (fd >= 0)
        close(fd);
    if (n != 0) {
        log_err("event=s3_part_crc_failed error=\"%s\"", strerror(errno));
        return NULL;
    }
    return crc_encode(r->arena, e, crc);
}

/* an uploaded part, on a flush thread once its body is durable (the upload
 * id and part number were checked before). A part of an upload with no
 * algorithm keeps its CRC64NVME ("dck") for the object's default checksum,
 * also when it came with a checksum of its own; a part of a FULL_OBJECT
 * upload that came without the upload's CRC gets it from its file. */
static void part_kept(struct http_req *r, const char *hex, char *rel, char *abs)
{
    struct s3_req *q = s3_req_of(r);
    struct partw *p = arena_calloc(r->arena, sizeof(*p));
    struct buf cb = {0};
    const char *alg;
    bool full;

    p->id = s3_query(r, "uploadId");
    if (!part_number(r, &p->part))
        return;
    alg = upload_alg(r, p->id, &full);
    if (q->ck_alg) {
        p->ckn = ck_lower[q->ck_alg - 1];
        p->ckv = arena_strdup(r->arena, q->body_msg);
        if (!alg)
            p->dck = q->ck_alg == CK_CRC64NVME ? p->ckv : file_crc(r, CK_CRC64NVME, abs);
    } else if (!alg) {
        p->dck = s3_ck_value(r, CK_CRC64NVME); /* computed as the body came */
    } else if (full && (p->ckv = file_crc(r, ck_enum(alg), abs))) {
        p->ckn = alg;
    }
    part_record(r, p, cb, hex, rel, abs, (long long)q->size);
}

struct partcopyw {
    struct partw *p;
    const cJSON *v;  /* the source version */
    const char *alg; /* the upload's algorithm, or NULL */
    long long off, len;
};

/* UploadPartCopy's copy, its flush and the part's record, on a flush thread:
 * the copy computes the upload's checksum of the part (S3 gives a copied part
 * one, of either type), or the CRC64NVME of an upload with no algorithm */
static void part_copy_work(struct http_req *r, void *arg)
{
    struct partcopyw *c = arg;
    int e = c->alg ? ck_enum(c->alg) : CK_NONE;
    char hex[33], *abs, *rel, when[32];
    struct buf cb;

    if (!s3_copy_range(r, c->v, c->off, c->len, &rel, &abs, hex, e))
        return;
    s3_time_iso(clock_wall_ms(), when);
    s3_xml_start(&cb, "CopyPartResult");
    xmlw_elem(&cb, "LastModified", when, XMLW_CTRL);
    xmlw_elem(&cb, "ETag", arena_sprintf(r->arena, "\"%s\"", hex), XMLW_CTRL);
    if (c->alg) {
        c->p->ckn = c->alg;
        c->p->ckv = s3_ck_value(r, e);
        xmlw_elem(&cb, ck_elem(r->arena, c->alg), c->p->ckv, XMLW_CTRL);
    } else {
        c->p->dck = s3_ck_value(r, CK_CRC64NVME);
        xmlw_elem(&cb, "ChecksumCRC64NVME", c->p->dck, XMLW_CTRL);
    }
    buf_puts(&cb, "</CopyPartResult>");
    part_record(r, c->p, cb, hex, rel, abs, c->len);
}

/* x-amz-copy-source-range: exactly bytes=FIRST-LAST, digits only, FIRST <= LAST */
static bool copy_range(const char *rg, long long *a, long long *z)
{
    char *end;

    if (strncmp(rg, "bytes=", 6) != 0 || !isdigit((unsigned char)rg[6]))
        return false;
    *a = strtoll(rg + 6, &end, 10);
    if (*end != '-' || !isdigit((unsigned char)end[1]))
        return false;
    *z = strtoll(end + 1, &end, 10);
    return *end == 0 && *z >= *a;
}

void s3_upload_part(struct http_req *r)
{
    struct s3_req *q = s3_req_of(r);
    struct partw *p = arena_calloc(r->arena, sizeof(*p));
    const cJSON *up;

    if (!s3_allow(r, "s3:PutObject", q->bucket, q->key))
        return;
    p->id = s3_query(r, "uploadId");
    if (!part_number(r, &p->part) || !(up = upload_or_404(r, p->id)))
        return;
    s3_sse_headers(r, up); /* the upload's encryption, on whichever thread answers */
    if (http_req_header(r, "x-amz-copy-source")) {
        /* UploadPartCopy: the part's bytes come from an existing object */
        const char *sb, *sk, *rg = http_req_header(r, "x-amz-copy-source-range");
        long long off = 0, len, a = 0, z = 0;
        cJSON *v = s3_copy_source(r, &sb, &sk);
        struct partcopyw *c;
        if (!v)
            return;
        len = (long long)json_num_ci(v, "size");
        if (rg) {
            if (!copy_range(rg, &a, &z)) {
                s3_error_arg(r, S3E_INVALID_ARGUMENT,
                             "The x-amz-copy-source-range value must be of the form "
                             "bytes=first-last where first and last are the zero-based offsets "
                             "of the first and last bytes to copy",
                             "x-amz-copy-source-range", rg);
                return;
            }
            if (a >= len) { /* S3 words a range starting past the end otherwise */
                s3_error(r, S3E_INVALID_REQUEST,
                         "The specified copy range is invalid for the source object size");
                return;
            }
            if (z >= len) {
                s3_error_arg(r, S3E_INVALID_ARGUMENT,
                             arena_sprintf(r->arena,
                                           "Range specified is not valid for source object of "
                                           "size: %lld",
                                           len),
                             "x-amz-copy-source-range", rg);
                return;
            }
            off = a;
            len = z - a + 1;
        }
        c = arena_calloc(r->arena, sizeof(*c));
        c->p = p;
        c->v = v;
        c->alg = json_str_ci(up, "cka");
        c->off = off;
        c->len = len;
        s3_defer(r, part_copy_work, c);
        return;
    }
    if (!q->streaming) {
        s3_error(r, S3E_INTERNAL, NULL);
        return;
    }
    if (json_str_ci(up, "cka") &&
        (q->ck_alg ? strcmp(ck_lower[q->ck_alg - 1], json_str_ci(up, "cka")) : !up_full(up))) {
        /* a part's checksum is of its upload's algorithm, and a part of a
         * COMPOSITE upload brings it (S3 computes only FULL_OBJECT ones) */
        s3_error(r, S3E_INVALID_REQUEST,
                 arena_sprintf(r->arena,
                               "Checksum Type mismatch occurred, expected checksum Type: %s, "
                               "actual checksum Type: %s",
                               json_str_ci(up, "cka"),
                               q->ck_alg ? ck_lower[q->ck_alg - 1] : "null"));
        return;
    }
    s3_body_keep(r, "s3_part_commit_failed", part_kept);
}

/* ---- removing an upload (Complete and Abort) ---- */

enum err_code s3_upload_drop(struct store_txn *t, struct s3_newver *nv, struct err *e)
{
    struct arena *a = nv->r->arena;
    struct slice uk = upload_key(a, nv->bucket, nv->key, nv->upload_id), v, k;
    struct slice pre = part_key(a, nv->upload_id, 0, true);
    struct store_cursor *c = NULL;
    enum err_code rc;

    if (store_get(t, STORE_DB_S3, uk, &v, NULL) != ERR_OK) {
        nv->w.fail = S3E_NO_SUCH_UPLOAD;
        return ERR_CONFLICT;
    }
    rc = store_del(t, STORE_DB_S3, uk, e);
    if (rc)
        return rc;
    rc = store_cursor_open(t, STORE_DB_S3, &c, e);
    if (rc)
        return rc;
    while (store_cursor_seek(c, pre, &k, &v, NULL) == ERR_OK && k.len >= pre.len &&
           memcmp(k.ptr, pre.ptr, pre.len) == 0) {
        cJSON *j = cJSON_ParseWithLength(v.ptr, v.len);
        if (j && json_str_ci(j, "file"))
            s3_newver_old(nv, json_str_ci(j, "file"));
        cJSON_Delete(j);
        rc = store_cursor_del(c, e);
        if (rc)
            break;
    }
    store_cursor_close(c);
    return rc;
}

static enum err_code abort_apply(struct store_txn *t, void *arg, struct err *e)
{
    return s3_upload_drop(t, arg, e);
}

static void abort_ok(struct s3_w *w)
{
    struct s3_newver *nv = (struct s3_newver *)w;

    for (int i = 0; i < nv->nold; i++)
        unlink(nv->old_files[i]);
    s3_ok(w->r, 204, NULL);
}

void s3_abort_upload(struct http_req *r)
{
    struct s3_req *q = s3_req_of(r);
    struct s3_newver *nv = arena_calloc(r->arena, sizeof(*nv));

    if (!s3_allow(r, "s3:AbortMultipartUpload", q->bucket, q->key))
        return;
    nv->upload_id = s3_query(r, "uploadId");
    if (!upload_or_404(r, nv->upload_id))
        return;
    nv->r = r;
    nv->bucket = q->bucket;
    nv->key = q->key;
    nv->w.r = r;
    nv->w.apply = abort_apply;
    nv->w.ok = abort_ok;
    s3_submit(&nv->w);
}

/* ---- CompleteMultipartUpload ---- */

static const char *unquote(struct arena *a, const char *s)
{
    size_t n = strlen(s);
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"')
        return arena_strndup(a, s + 1, n - 2);
    return s;
}

static bool copy_all(int out, int in, long long len)
{
    loff_t off = 0;

    while (len > 0) {
        ssize_t n = copy_file_range(in, &off, out, NULL, (size_t)len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL)) {
            char buf[65536];
            ssize_t m = pread(in, buf, sizeof(buf), (off_t)off);
            if (m <= 0 || write(out, buf, (size_t)m) != m)
                return false;
            off += m;
            len -= m;
            continue;
        }
        if (n <= 0)
            return false;
        len -= n;
    }
    return true;
}

struct completew {
    const char *id;
    const cJSON *up; /* the upload record */
    cJSON **parts;   /* the part records, in order */
    unsigned *nums;  /* their part numbers */
    unsigned n;
};

/* the parts' sizes, for GetObject's partNumber: "psz" one number when every
 * part but the last has that size and the numbers run 1..n (as SDKs upload),
 * else the list of sizes, and "pnum" the list of numbers when they skip */
static void rec_part_sizes(cJSON *rec, cJSON **parts, const unsigned *nums, unsigned n)
{
    bool uniform = true, dense = true;
    cJSON *sz, *pn;
    unsigned i;

    for (i = 0; i < n; i++) {
        if (nums[i] != i + 1)
            dense = false;
        if (i + 1 < n && json_num_ci(parts[i], "size") != json_num_ci(parts[0], "size"))
            uniform = false;
    }
    if (uniform && dense) {
        cJSON_AddNumberToObject(rec, "psz", json_num_ci(parts[0], "size"));
        return;
    }
    sz = cJSON_AddArrayToObject(rec, "psz");
    for (i = 0; i < n; i++)
        cJSON_AddItemToArray(sz, cJSON_CreateNumber(json_num_ci(parts[i], "size")));
    if (!dense) {
        pn = cJSON_AddArrayToObject(rec, "pnum");
        for (i = 0; i < n; i++)
            cJSON_AddItemToArray(pn, cJSON_CreateNumber(nums[i]));
    }
}

/* the parts concatenated into the object's body file, its flush and the new
 * version's commit, on a flush thread */
static void complete_work(struct http_req *r, void *arg)
{
    struct s3_req *q = s3_req_of(r);
    struct completew *c = arg;
    const cJSON *up = c->up;
    cJSON **parts = c->parts, *rec;
    unsigned n = c->n, i;
    /* the upload's algorithm and type, else S3's default: CRC64NVME, FULL_OBJECT */
    const char *cka = json_str_ci(up, "cka") ? json_str_ci(up, "cka") : "crc64nvme";
    const char *ckt = json_str_ci(up, "cka") ? up_type(up) : "FULL_OBJECT";
    struct s3_newver *nv;
    EVP_MD_CTX *md5;
    unsigned char md[16];
    unsigned int ml = 0;
    char hex[33], *tmp, *rel, *abs, *ck = NULL;
    long long total = 0;
    int fd;
    struct err e = {0};
    struct buf b;

    fd = s3_make_tmp(q->s3, r->arena, &tmp);
    if (fd < 0) {
        s3_error(r, S3E_INTERNAL, NULL);
        return;
    }
    md5 = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md5, EVP_md5(), NULL);
    for (i = 0; i < n; i++) {
        unsigned char pm[16];
        size_t pl = 0;
        const char *h = json_str_ci(parts[i], "md5");
        int in =
            open(s3_abs_path(q->s3, r->arena, json_str_ci(parts[i], "file")), O_RDONLY | O_CLOEXEC);
        long long sz = (long long)json_num_ci(parts[i], "size");
        bool ok = in >= 0 && copy_all(fd, in, sz);
        if (in >= 0)
            close(in);
        if (!ok) {
            EVP_MD_CTX_free(md5);
            close(fd);
            unlink(tmp);
            s3_error(r, S3E_INVALID_PART, NULL);
            return;
        }
        for (pl = 0; pl < 16 && h && h[2 * pl]; pl++) {
            unsigned v;
            sscanf(h + 2 * pl, "%2x", &v);
            pm[pl] = (unsigned char)v;
        }
        EVP_DigestUpdate(md5, pm, 16);
        total += sz;
    }
    EVP_DigestFinal_ex(md5, md, &ml);
    EVP_MD_CTX_free(md5);
    hex_encode(md, 16, hex);
    rel = s3_new_body_path(q->s3, r->arena, &abs);
    if (s3_commit_file(q->s3, r->arena, fd, tmp, rel, &e) != ERR_OK) {
        log_err("event=s3_complete_commit_failed msg=\"%s\"", e.msg);
        s3_error(r, S3E_INTERNAL, NULL);
        return;
    }
    {
        struct s3_orphan *o = arena_calloc(r->arena, sizeof(*o));
        o->path = abs;
        arena_on_free(r->arena, s3_orphan_free, o);
        nv = arena_calloc(r->arena, sizeof(*nv));
        nv->keep_file = &o->keep;
    }
    rec = cJSON_CreateObject();
    cJSON_AddNumberToObject(rec, "size", (double)total);
    cJSON_AddStringToObject(rec, "etag", arena_sprintf(r->arena, "\"%s-%u\"", hex, n));
    cJSON_AddNumberToObject(rec, "lm", (double)clock_wall_ms());
    cJSON_AddStringToObject(rec, "file", rel);
    cJSON_AddNumberToObject(rec, "parts", n);
    rec_part_sizes(rec, parts, c->nums, n);
    if ((ck = upload_whole_ck(r->arena, up, parts, n))) {
        cJSON_AddStringToObject(rec, "ckn", cka);
        cJSON_AddStringToObject(rec, "ckv", ck);
        cJSON_AddStringToObject(rec, "ckt", ckt);
        /* each part's checksum, for GetObjectAttributes' ObjectParts: the
         * upload's algorithm's, else the CRC64NVME S3 gave it */
        cJSON *pck = cJSON_AddArrayToObject(rec, "pck");
        for (i = 0; i < n; i++)
            cJSON_AddItemToArray(pck, cJSON_CreateString(json_str_ci(
                                          parts[i], json_str_ci(up, "cka") ? "ckv" : "dck")));
    }
    cJSON_AddItemToObject(rec, "h", cJSON_Duplicate(cJSON_GetObjectItem(up, "h"), 1));
    cJSON_AddItemToObject(rec, "m", cJSON_Duplicate(cJSON_GetObjectItem(up, "m"), 1));
    if (cJSON_GetObjectItem(up, "tags"))
        cJSON_AddItemToObject(rec, "tags", cJSON_Duplicate(cJSON_GetObjectItem(up, "tags"), 1));
    s3_lock_copy(rec, up);
    for (i = 0; i < 3; i++) { /* the ACL the upload was created with, and its writer */
        static const char *const acl_keys[] = {"acl", "grants", "own"};
        const cJSON *x = cJSON_GetObjectItem(up, acl_keys[i]);
        if (x)
            cJSON_AddItemToObject(rec, acl_keys[i], cJSON_Duplicate(x, 1));
    }
    if (json_str_ci(up, "sse")) /* else the bucket's default when it commits */
        cJSON_AddStringToObject(rec, "sse", json_str_ci(up, "sse"));
    if (json_str_ci(up, "kms"))
        cJSON_AddStringToObject(rec, "kms", json_str_ci(up, "kms"));
    nv->r = r;
    nv->bucket = q->bucket;
    nv->key = q->key;
    nv->rec = rec;
    nv->upload_id = c->id;
    nv->kind = 2;
    nv->since = (int64_t)json_num_ci(up, "init");
    s3_xml_start(&b, "CompleteMultipartUploadResult");
    xmlw_elem(&b, "Location",
              arena_sprintf(r->arena, "/%s/%s", q->bucket, url_encode(r->arena, q->key, true)),
              XMLW_CTRL);
    xmlw_elem(&b, "Bucket", q->bucket, XMLW_CTRL);
    xmlw_elem(&b, "Key", q->key, XMLW_CTRL);
    xmlw_elem(&b, "ETag", json_str_ci(rec, "etag"), XMLW_CTRL);
    if (ck) {
        xmlw_elem(&b, ck_elem(r->arena, cka), ck, XMLW_CTRL);
        xmlw_elem(&b, "ChecksumType", ckt, XMLW_CTRL);
    }
    buf_puts(&b, "</CompleteMultipartUploadResult>");
    nv->out = b;
    s3_submit_version(nv);
}

/* the checksum headers of CompleteMultipartUpload: x-amz-checksum-type, when
 * given, is the upload's (else BadDigest); x-amz-checksum-ALG, when the upload has that
 * algorithm, is the whole object's checksum (FULL_OBJECT: the CRC of all its
 * bytes; COMPOSITE: the checksum of the parts' checksums, with or without its
 * "-N"), else BadDigest; x-amz-mp-object-size, when given, is its size */
static bool whole_ck_ok(struct http_req *r, const cJSON *up, cJSON **parts, unsigned n)
{
    const char *cka = json_str_ci(up, "cka"), *said, *ck,
               *t = http_req_header(r, "x-amz-checksum-type");
    const char *ms = http_req_header(r, "x-amz-mp-object-size");
    size_t hl;

    /* BadDigest, as S3 documents it; an upload created with no algorithm has
     * the "null" mode, whatever the default checksum its object gets */
    if (t && (!cka || strcasecmp(t, up_type(up)) != 0)) {
        s3_error(r, S3E_BAD_DIGEST,
                 arena_sprintf(r->arena,
                               "The upload was created using the %s checksum mode. The complete "
                               "request must use the same checksum mode.",
                               cka ? up_type(up) : "null"));
        return false;
    }
    if (ms) {
        long long total = 0;
        char *end;
        long long want = strtoll(ms, &end, 10);
        for (unsigned i = 0; i < n; i++)
            total += (long long)json_num_ci(parts[i], "size");
        if (*end || end == ms || want != total) {
            s3_error(r, S3E_INVALID_REQUEST,
                     arena_sprintf(r->arena,
                                   "The provided 'x-amz-mp-object-size' header value %s does not "
                                   "match what was computed: %lld",
                                   ms, total));
            return false;
        }
    }
    if (!cka)
        return true;
    said = http_req_header(r, arena_sprintf(r->arena, "x-amz-checksum-%s", cka));
    if (!said || !(ck = upload_whole_ck(r->arena, up, parts, n)))
        return true;
    hl = strcspn(ck, "-");
    if (strcmp(said, ck) == 0 || (strlen(said) == hl && strncmp(said, ck, hl) == 0))
        return true;
    s3_error(r, S3E_BAD_DIGEST,
             arena_sprintf(r->arena, "The %s you specified did not match the calculated checksum.",
                           ck_elem(r->arena, cka) + 8));
    return false;
}

void s3_complete_upload(struct http_req *r)
{
    struct s3_req *q = s3_req_of(r);
    const char *id = s3_query(r, "uploadId");
    struct completew *c;
    struct s3_xml *x, *pe;
    struct store_txn *t = NULL;
    cJSON *up, **parts = NULL;
    unsigned prev = 0, n = 0, i, *nums;

    if (!s3_allow(r, "s3:PutObject", q->bucket, q->key))
        return;
    if (!(up = upload_or_404(r, id)))
        return;
    if (s3_xml_parse(r->arena, r->body.ptr ? r->body.ptr : "", r->body.len, &x, NULL) != ERR_OK ||
        strcmp(x->name, "CompleteMultipartUpload") != 0) {
        s3_error(r, S3E_MALFORMED_XML, NULL);
        return;
    }
    for (pe = x->child; pe; pe = pe->next)
        if (strcmp(pe->name, "Part") == 0)
            n++;
    if (n == 0) {
        s3_error(r, S3E_MALFORMED_XML,
                 "The XML you provided was not well-formed or did not validate against our "
                 "published schema");
        return;
    }
    if (n > MAX_PARTS) {
        s3_error(r, S3E_MALFORMED_XML, NULL);
        return;
    }
    parts = arena_calloc(r->arena, n * sizeof(*parts));
    nums = arena_calloc(r->arena, n * sizeof(*nums));
    /* the whole list's numbers first: a list out of order is InvalidPartOrder
     * whichever of its parts would be InvalidPart, as S3 answers */
    i = 0;
    for (pe = x->child; pe; pe = pe->next) {
        const char *pn = s3_xml_text(pe, "PartNumber");
        char *end;
        long num;
        if (strcmp(pe->name, "Part") != 0)
            continue;
        if (!pn || !s3_xml_text(pe, "ETag")) {
            s3_error(r, S3E_MALFORMED_XML, NULL);
            return;
        }
        num = strtol(pn, &end, 10);
        if (*end || num < 1 || num > MAX_PARTS) {
            s3_error(r, S3E_INVALID_ARGUMENT,
                     "Part number must be an integer between 1 and 10000, inclusive");
            return;
        }
        /* ascending; and 1, 2, 3... for an upload with a checksum algorithm,
         * whose parts each carry one (as S3 documents for CompletedPart) */
        if ((unsigned)num <= prev || (json_str_ci(up, "cka") && (unsigned)num != i + 1)) {
            s3_error(r, S3E_INVALID_PART_ORDER, NULL);
            return;
        }
        prev = nums[i++] = (unsigned)num;
    }
    if (store_read_begin(q->s3->store, &t, NULL) != ERR_OK) {
        s3_error(r, S3E_INTERNAL, NULL);
        return;
    }
    i = 0;
    for (pe = x->child; pe; pe = pe->next) {
        const char *et = s3_xml_text(pe, "ETag");
        unsigned num = nums[i];
        struct slice v;
        if (strcmp(pe->name, "Part") != 0)
            continue;
        if (store_get(t, STORE_DB_S3, part_key(r->arena, id, num, false), &v, NULL) != ERR_OK ||
            !(parts[i] = cJSON_ParseWithLength(v.ptr, v.len)) ||
            strcmp(unquote(r->arena, et), unquote(r->arena, json_str_ci(parts[i], "etag"))) != 0) {
            store_txn_abort(t);
            for (unsigned j = 0; j <= i && j < n; j++)
                cJSON_Delete(parts[j]);
            s3_error(r, S3E_INVALID_PART, NULL);
            return;
        }
        arena_on_free(r->arena, s3_json_free, parts[i]);
        if (json_str_ci(parts[i], "ckn")) {
            const char *said = s3_xml_text(pe, ck_elem(r->arena, json_str_ci(parts[i], "ckn")));
            const char *cka = json_str_ci(up, "cka");
            if (!said && cka && strcmp(cka, json_str_ci(parts[i], "ckn")) == 0 && !up_full(up)) {
                /* a COMPOSITE upload: each part names its own */
                store_txn_abort(t);
                s3_error(r, S3E_INVALID_REQUEST,
                         arena_sprintf(r->arena,
                                       "The upload was created using a %s checksum. The complete "
                                       "request must include the checksum for each part. It was "
                                       "missing for part %u in the request.",
                                       cka, num));
                return;
            }
            /* named, it is the part's own; a part that came with a checksum of
             * its own to an upload with no algorithm must be named with it (S3
             * answers InvalidPart, as to clients that add a CRC32 to each part
             * and leave it out of the list) */
            if (said ? strcmp(said, json_str_ci(parts[i], "ckv")) != 0 : !cka) {
                store_txn_abort(t);
                s3_error(r, S3E_INVALID_PART, NULL);
                return;
            }
        } else if (json_str_ci(parts[i], "dck") && s3_xml_text(pe, "ChecksumCRC64NVME") &&
                   strcmp(s3_xml_text(pe, "ChecksumCRC64NVME"), json_str_ci(parts[i], "dck"))) {
            /* named with the CRC64NVME S3 answered for it, it is that one */
            store_txn_abort(t);
            s3_error(r, S3E_INVALID_PART, NULL);
            return;
        }
        i++;
    }
    store_txn_abort(t);
    for (i = 0; i + 1 < n; i++)
        if (json_num_ci(parts[i], "size") < MIN_PART) {
            s3_error(r, S3E_ENTITY_TOO_SMALL, NULL);
            return;
        }
    if (!whole_ck_ok(r, up, parts, n))
        return;
    c = arena_calloc(r->arena, sizeof(*c));
    c->id = id;
    c->up = up;
    c->parts = parts;
    c->nums = nums;
    c->n = n;
    s3_defer(r, complete_work, c);
}

/* ---- ListParts / ListMultipartUploads ---- */

void s3_list_parts(struct http_req *r)
{
    struct s3_req *q = s3_req_of(r);
    const char *id = s3_query(r, "uploadId"), *mp = s3_query(r, "max-parts"),
               *pm = s3_query(r, "part-number-marker");
    int max = mp ? atoi(mp) : 1000, count = 0;
    unsigned marker = pm ? (unsigned)atoi(pm) : 0, last = 0;
    struct store_txn *t = NULL;
    struct store_cursor *c = NULL;
    struct slice pre, k, v;
    enum err_code rc;
    bool truncated = false;
    struct buf b, items;
    const cJSON *up;

    if (!s3_allow(r, "s3:ListMultipartUploadParts", q->bucket, q->key))
        return;
    if (!(up = upload_or_404(r, id)))
        return;
    if (max < 0 || max > 1000)
        max = 1000;
    pre = part_key(r->arena, id, 0, true);
    buf_init(&items, 0);
    if (store_read_begin(q->s3->store, &t, NULL) == ERR_OK &&
        store_cursor_open(t, STORE_DB_S3, &c, NULL) == ERR_OK) {
        for (rc = store_cursor_seek(c, part_key(r->arena, id, marker + 1, false), &k, &v, NULL);
             rc == ERR_OK && k.len == pre.len + 4 && memcmp(k.ptr, pre.ptr, pre.len) == 0;
             rc = store_cursor_next(c, &k, &v, NULL)) {
            const unsigned char *u = (const unsigned char *)k.ptr + pre.len;
            unsigned num = (unsigned)u[0] << 24 | (unsigned)u[1] << 16 | (unsigned)u[2] << 8 | u[3];
            cJSON *j;
            char when[32];
            if (count == max) {
                truncated = true;
                break;
            }
            j = cJSON_ParseWithLength(v.ptr, v.len);
            s3_time_iso((int64_t)json_num_ci(j, "lm"), when);
            buf_printf(&items, "<Part><PartNumber>%u</PartNumber>", num);
            xmlw_elem(&items, "LastModified", when, XMLW_CTRL);
            xmlw_elem(&items, "ETag", json_str_ci(j, "etag"), XMLW_CTRL);
            if (json_str_ci(j, "ckn"))
                xmlw_elem(&items, ck_elem(r->arena, json_str_ci(j, "ckn")), json_str_ci(j, "ckv"),
                          XMLW_CTRL);
            else if (json_str_ci(j, "dck")) /* the default CRC64NVME S3 gave it */
                xmlw_elem(&items, "ChecksumCRC64NVME", json_str_ci(j, "dck"), XMLW_CTRL);
            buf_printf(&items, "<Size>%.0f</Size></Part>", json_num_ci(j, "size"));
            cJSON_Delete(j);
            count++;
            last = num;
        }
    }
    store_cursor_close(c);
    store_txn_abort(t);
    s3_xml_start(&b, "ListPartsResult");
    xmlw_elem(&b, "Bucket", q->bucket, XMLW_CTRL);
    xmlw_elem(&b, "Key", q->key, XMLW_CTRL);
    xmlw_elem(&b, "UploadId", id, XMLW_CTRL);
    buf_printf(&b, "<PartNumberMarker>%u</PartNumberMarker>", marker);
    if (last) /* S3 names the last part listed, truncated or not */
        buf_printf(&b, "<NextPartNumberMarker>%u</NextPartNumberMarker>", last);
    buf_printf(&b, "<MaxParts>%d</MaxParts><IsTruncated>%s</IsTruncated>", max,
               truncated ? "true" : "false");
    buf_puts(&b, "<Initiator>");
    xmlw_elem(&b, "ID", q->s3->account, XMLW_CTRL);
    xmlw_elem(&b, "DisplayName", "root", XMLW_CTRL);
    buf_puts(&b, "</Initiator><Owner>");
    xmlw_elem(&b, "ID", q->s3->account, XMLW_CTRL);
    xmlw_elem(&b, "DisplayName", "root", XMLW_CTRL);
    buf_puts(&b, "</Owner><StorageClass>STANDARD</StorageClass>");
    /* an upload created with no algorithm: "null" both, as S3 answers */
    xmlw_elem(&b, "ChecksumAlgorithm",
              json_str_ci(up, "cka") ? ck_elem(r->arena, json_str_ci(up, "cka")) + 8 : "null",
              XMLW_CTRL);
    xmlw_elem(&b, "ChecksumType", json_str_ci(up, "cka") ? up_type(up) : "null", XMLW_CTRL);
    buf_append(&b, items.ptr ? items.ptr : "", items.len);
    buf_free(&items);
    buf_puts(&b, "</ListPartsResult>");
    s3_ok(r, 200, &b);
}

/* the 'U' store key of bucket/@key with every upload of it behind it */
static struct slice uploads_after(struct arena *a, const char *bucket, const char *key,
                                  bool all_under)
{
    struct slice p = s3_key_obj_prefix(a, bucket, key);
    unsigned char *k = arena_alloc(a, p.len + 5);

    memcpy(k, p.ptr, p.len);
    k[0] = 'U';
    if (all_under) {
        memset(k + p.len, 0xff, 4);
        return slice_of(k, p.len + 4);
    }
    k[p.len] = 0;
    k[p.len + 1] = 0xff;
    return slice_of(k, p.len + 2);
}

void s3_list_uploads(struct http_req *r)
{
    struct s3_req *q = s3_req_of(r);
    const char *prefix = s3_query(r, "prefix"), *mu = s3_query(r, "max-uploads");
    const char *delim = s3_query(r, "delimiter"), *km = s3_query(r, "key-marker");
    const char *um = s3_query(r, "upload-id-marker"), *enc = s3_query(r, "encoding-type");
    bool url = enc && strcmp(enc, "url") == 0;
    int max = mu ? atoi(mu) : 1000, count = 0;
    struct store_txn *t = NULL;
    struct store_cursor *c = NULL;
    struct slice pre, k, v;
    size_t bl = strlen(q->bucket);
    enum err_code rc;
    bool truncated = false;
    struct buf b, items;
    cJSON *bj = NULL;
    char *pp;
    const char *next_key = NULL, *next_id = NULL;

    if (!s3_allow(r, "s3:ListBucketMultipartUploads", q->bucket, NULL))
        return;
    if (!prefix)
        prefix = "";
    if (delim && !*delim)
        delim = NULL;
    if (km && !*km)
        km = NULL;
    if (max < 0 || max > 1000)
        max = 1000;
    pre = s3_key_obj_prefix(r->arena, q->bucket, prefix);
    pp = arena_memdup(r->arena, pre.ptr, pre.len);
    pp[0] = 'U';
    pre.ptr = pp;
    buf_init(&items, 0);
    if (store_read_begin(q->s3->store, &t, NULL) == ERR_OK) {
        bj = s3_bucket_get(t, r->arena, q->bucket);
        if (bj && store_cursor_open(t, STORE_DB_S3, &c, NULL) == ERR_OK) {
            if (km && um && *um)
                rc = store_cursor_seek(c, upload_key(r->arena, q->bucket, km, um), &k, &v, NULL);
            else if (km && strcmp(km, prefix) >= 0)
                rc = store_cursor_seek(c, uploads_after(r->arena, q->bucket, km, false), &k, &v,
                                       NULL);
            else
                rc = store_cursor_seek(c, pre, &k, &v, NULL);
            while (rc == ERR_OK && k.len > pre.len && memcmp(k.ptr, pre.ptr, pre.len) == 0 &&
                   max > 0) {
                const char *kk = (const char *)k.ptr + bl + 2;
                size_t kl = strnlen(kk, k.len - bl - 2);
                const char *id = arena_strndup(r->arena, kk + kl + 1, k.len - bl - 3 - kl);
                cJSON *j = cJSON_ParseWithLength(v.ptr, v.len);
                const char *key = json_str_ci(j, "k") ? arena_strdup(r->arena, json_str_ci(j, "k"))
                                                      : arena_strndup(r->arena, kk, kl);
                const char *d = delim ? strstr(key + strlen(prefix), delim) : NULL;
                char when[32];
                if (km && um && *um && strcmp(key, km) == 0 && strcmp(id, um) <= 0) {
                    cJSON_Delete(j);
                    rc = store_cursor_next(c, &k, &v, NULL);
                    continue;
                }
                if (count == max) {
                    cJSON_Delete(j);
                    truncated = true;
                    break;
                }
                if (d) {
                    char *cp = arena_strndup(r->arena, key, (size_t)(d - key) + strlen(delim));
                    cJSON_Delete(j);
                    buf_puts(&items, "<CommonPrefixes>");
                    xmlw_elem(&items, "Prefix", url ? url_encode(r->arena, cp, true) : cp,
                              XMLW_CTRL);
                    buf_puts(&items, "</CommonPrefixes>");
                    count++;
                    next_key = cp;
                    next_id = NULL;
                    rc = store_cursor_seek(c, uploads_after(r->arena, q->bucket, cp, true), &k, &v,
                                           NULL);
                    continue;
                }
                s3_time_iso((int64_t)json_num_ci(j, "init"), when);
                buf_puts(&items, "<Upload>");
                xmlw_elem(&items, "Key", url ? url_encode(r->arena, key, true) : key, XMLW_CTRL);
                xmlw_elem(&items, "UploadId", id, XMLW_CTRL);
                buf_puts(&items, "<Initiator>");
                xmlw_elem(&items, "ID", q->s3->account, XMLW_CTRL);
                xmlw_elem(&items, "DisplayName", "root", XMLW_CTRL);
                buf_puts(&items, "</Initiator><Owner>");
                xmlw_elem(&items, "ID", q->s3->account, XMLW_CTRL);
                xmlw_elem(&items, "DisplayName", "root", XMLW_CTRL);
                buf_puts(&items, "</Owner><StorageClass>STANDARD</StorageClass>");
                if (json_str_ci(j, "cka")) {
                    xmlw_elem(&items, "ChecksumAlgorithm",
                              ck_elem(r->arena, json_str_ci(j, "cka")) + 8, XMLW_CTRL);
                    xmlw_elem(&items, "ChecksumType", up_type(j), XMLW_CTRL);
                }
                xmlw_elem(&items, "Initiated", when, XMLW_CTRL);
                buf_puts(&items, "</Upload>");
                cJSON_Delete(j);
                count++;
                next_key = key;
                next_id = id;
                rc = store_cursor_next(c, &k, &v, NULL);
            }
        }
    }
    store_cursor_close(c);
    store_txn_abort(t);
    if (!bj) {
        buf_free(&items);
        s3_error(r, S3E_NO_SUCH_BUCKET, NULL);
        return;
    }
    cJSON_Delete(bj);
    s3_xml_start(&b, "ListMultipartUploadsResult");
    xmlw_elem(&b, "Bucket", q->bucket, XMLW_CTRL);
    xmlw_elem(&b, "KeyMarker", km ? km : "", XMLW_CTRL);
    xmlw_elem(&b, "UploadIdMarker", um ? um : "", XMLW_CTRL);
    if (truncated && next_key) {
        xmlw_elem(&b, "NextKeyMarker", url ? url_encode(r->arena, next_key, true) : next_key,
                  XMLW_CTRL);
        if (next_id)
            xmlw_elem(&b, "NextUploadIdMarker", next_id, XMLW_CTRL);
    }
    xmlw_elem(&b, "Prefix", url ? url_encode(r->arena, prefix, true) : prefix, XMLW_CTRL);
    if (delim)
        xmlw_elem(&b, "Delimiter", delim, XMLW_CTRL);
    if (url)
        xmlw_elem(&b, "EncodingType", "url", XMLW_CTRL);
    buf_printf(&b, "<MaxUploads>%d</MaxUploads><IsTruncated>%s</IsTruncated>", max,
               truncated ? "true" : "false");
    buf_append(&b, items.ptr ? items.ptr : "", items.len);
    buf_free(&items);
    buf_puts(&b, "</ListMultipartUploadsResult>");
    s3_ok(r, 200, &b);
}
