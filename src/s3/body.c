/* body.c - the body an upload streams in (PutObject, UploadPart, a form's
 * file): a temporary file written as the bytes arrive (aws-chunked decoded on
 * the way), the digests the request names (Content-MD5, the payload's SHA-256,
 * an x-amz-checksum-* algorithm, from a header or a trailer) computed on the
 * way, and the checks once it is complete (s3_body_finish). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "codec.h"
#include "log.h"
#include "s3_int.h"

static const unsigned long long max_object = 5ULL << 30; /* PutObject, UploadPart: 5 GiB */

static void md_free(void *p)
{
    EVP_MD_CTX_free(p);
}

static EVP_MD_CTX *md_new(struct http_req *r, const EVP_MD *md)
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    EVP_DigestInit_ex(c, md, NULL);
    arena_on_free(r->arena, md_free, c);
    return c;
}

static const char *const ck_names[] = {"", "CRC32", "CRC32C", "SHA1", "SHA256", "CRC64NVME"};
static const char *const ck_headers[] = {"",
                                         "x-amz-checksum-crc32",
                                         "x-amz-checksum-crc32c",
                                         "x-amz-checksum-sha1",
                                         "x-amz-checksum-sha256",
                                         "x-amz-checksum-crc64nvme"};

const char *s3_ck_name(int alg)
{
    return ck_names[alg];
}

const char *s3_ck_lower(int alg)
{
    static const char *const lower[] = {"", "crc32", "crc32c", "sha1", "sha256", "crc64nvme"};
    return lower[alg];
}

static int ck_from_header_name(const char *h)
{
    for (int i = 1; i <= CK_CRC64NVME; i++)
        if (strcasecmp(h, ck_headers[i]) == 0)
            return i;
    return CK_NONE;
}

/* the algorithm the client asks us to check, from headers only */
static int ck_requested(struct http_req *r)
{
    const char *t = http_req_header(r, "x-amz-trailer");
    const char *a = http_req_header(r, "x-amz-sdk-checksum-algorithm");

    for (int i = 1; i <= CK_CRC64NVME; i++)
        if (http_req_header(r, ck_headers[i]))
            return i;
    if (t)
        return ck_from_header_name(t);
    return s3_ck_parse(a);
}

void s3_ck_start(struct http_req *r, int alg)
{
    struct s3_req *q = s3_req_of(r);

    q->ck_alg = alg;
    q->crc = 0;
    q->crc64 = 0;
    q->ck = NULL;
    if (alg == CK_SHA1)
        q->ck = md_new(r, EVP_sha1());
    else if (alg == CK_SHA256)
        q->ck = md_new(r, EVP_sha256());
}

void s3_ck_update(struct s3_req *q, const void *data, size_t n)
{
    if (q->ck_alg == CK_CRC32)
        q->crc = (uint32_t)crc32(q->crc, data, (uInt)n);
    else if (q->ck_alg == CK_CRC32C)
        q->crc = s3_crc32c(q->crc, data, n);
    else if (q->ck_alg == CK_CRC64NVME || q->ck_alg == CK_NONE) /* NONE: the default one */
        q->crc64 = s3_crc64nvme(q->crc64, data, n);
    else if (q->ck)
        EVP_DigestUpdate(q->ck, data, n);
}

int s3_ck_parse(const char *name)
{
    for (int i = 1; name && i <= CK_CRC64NVME; i++)
        if (strcasecmp(name, ck_names[i]) == 0)
            return i;
    return CK_NONE;
}

static enum err_code sink_decoded(void *ud, const void *data, size_t n, struct err *e)
{
    struct http_req *r = ud;
    struct s3_req *q = s3_req_of(r);
    const char *p = data;
    size_t left = n;

    if (q->size + n > q->limit)
        return err_set(e, ERR_TOO_LARGE, "too large");
    EVP_DigestUpdate(q->md5, data, n);
    s3_ck_update(q, data, n);
    while (left) {
        ssize_t w = write(q->fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return err_set(e, ERR_IO, "write: %s", strerror(errno));
        p += w;
        left -= (size_t)w;
    }
    q->size += n;
    /* start writeback every 8 MiB so the final fsync is short and dirty pages
     * do not pile up in the page cache */
    if (q->size - q->synced >= (8u << 20)) {
        sync_file_range(q->fd, (off_t)q->synced, (off_t)(q->size - q->synced),
                        SYNC_FILE_RANGE_WRITE);
        q->synced = q->size;
    }
    return ERR_OK;
}

enum err_code s3_body_feed(struct http_req *r, const void *data, size_t n)
{
    struct s3_req *q = s3_req_of(r);
    struct err e = {0};
    enum err_code rc;

    if (q->body_failed)
        return ERR_INVALID;
    if (q->sha256)
        EVP_DigestUpdate(q->sha256, data, n);
    if (q->chunked)
        rc = s3_chunked_feed(&q->ch, data, n, sink_decoded, r, &e);
    else
        rc = sink_decoded(r, data, n, &e);
    if (rc) {
        q->body_failed = true;
        snprintf(q->body_msg, sizeof(q->body_msg), "%s", e.msg);
        q->body_fail = rc == ERR_TOO_LARGE   ? S3E_ENTITY_TOO_LARGE
                       : rc == ERR_IO        ? S3E_INTERNAL
                       : q->ch.bad_signature ? S3E_SIGNATURE_MISMATCH
                                             : S3E_INCOMPLETE_BODY;
    }
    return rc;
}

static void close_tmp(void *p)
{
    struct s3_req *q = p;
    if (q->fd >= 0) {
        close(q->fd);
        unlink(q->tmp_path);
        q->fd = -1;
    }
}

/* a checksum header must be base64 of its algorithm's length, else S3 answers
 * InvalidRequest before it reads the body (a wrong value is BadDigest after) */
static bool ck_headers_ok(struct http_req *r)
{
    static const size_t bytes[] = {0, 4, 4, 20, 32, 8};
    unsigned char raw[48];
    size_t n;

    for (int i = 1; i <= CK_CRC64NVME; i++) {
        const char *v = http_req_header(r, ck_headers[i]);
        if (v && (strlen(v) > 44 || !base64_decode(v, strlen(v), raw, &n) || n != bytes[i])) {
            s3_error(r, S3E_INVALID_REQUEST,
                     arena_sprintf(r->arena, "Value for %s header is invalid.", ck_headers[i]));
            return false;
        }
    }
    return true;
}

bool s3_body_start(struct http_req *r, struct s3_req *q)
{
    const char *cl = http_req_header(r, "content-length");
    const char *dl = http_req_header(r, "x-amz-decoded-content-length");
    unsigned long long len = cl ? strtoull(cl, NULL, 10) : 0;

    if (dl)
        len = strtoull(dl, NULL, 10);
    if (!cl && !http_req_header(r, "transfer-encoding")) {
        /* S3 takes an upload's length from Content-Length only */
        s3_error(r, S3E_MISSING_CONTENT_LENGTH, NULL);
        return false;
    }
    if (len > max_object) {
        s3_error(r, S3E_ENTITY_TOO_LARGE, NULL);
        return false;
    }
    if (!ck_headers_ok(r))
        return false;
    q->limit = max_object;
    q->fd = s3_make_tmp(q->s3, r->arena, &q->tmp_path);
    if (q->fd < 0) {
        log_err("event=s3_tmp_failed error=\"%s\"", strerror(errno));
        s3_error(r, S3E_INTERNAL, NULL);
        return false;
    }
    arena_on_free(r->arena, close_tmp, q);
    q->md5 = md_new(r, EVP_md5());
    if (strlen(q->payload_hash) == 64)
        q->sha256 = md_new(r, EVP_sha256());
    s3_ck_start(r, ck_requested(r));
    q->streaming = true;
    return true;
}

const char *s3_ck_value(struct http_req *r, int alg)
{
    struct s3_req *q = s3_req_of(r);
    unsigned char d[32];
    unsigned int n = 0;
    char *out;

    if (alg == CK_CRC32 || alg == CK_CRC32C) {
        d[0] = (unsigned char)(q->crc >> 24);
        d[1] = (unsigned char)(q->crc >> 16);
        d[2] = (unsigned char)(q->crc >> 8);
        d[3] = (unsigned char)q->crc;
        n = 4;
    } else if (alg == CK_CRC64NVME) {
        for (n = 0; n < 8; n++)
            d[n] = (unsigned char)(q->crc64 >> (56 - 8 * n));
    } else if (q->ck) {
        EVP_DigestFinal_ex(q->ck, d, &n);
    }
    out = arena_alloc(r->arena, base64_encoded_len(n) + 1);
    base64_encode(d, n, out);
    return out;
}

bool s3_body_finish(struct http_req *r)
{
    struct s3_req *q = s3_req_of(r);
    struct err e = {0};
    const char *md5h = http_req_header(r, "content-md5");
    unsigned char md[32];
    unsigned int n = 0;
    char hex[65];

    if (q->body_failed) {
        s3_error(r, q->body_fail, q->body_fail == S3E_INCOMPLETE_BODY ? q->body_msg : NULL);
        return false;
    }
    if (q->chunked && s3_chunked_finish(&q->ch, &e) != ERR_OK) {
        s3_error(r, q->ch.bad_signature ? S3E_SIGNATURE_MISMATCH : S3E_INCOMPLETE_BODY,
                 q->ch.bad_signature ? NULL : e.msg);
        return false;
    }
    {
        const char *dl = http_req_header(r, "x-amz-decoded-content-length");
        if (q->chunked && dl && strtoull(dl, NULL, 10) != q->size) {
            s3_error(r, S3E_INCOMPLETE_BODY, NULL);
            return false;
        }
    }
    if (q->sha256) {
        EVP_DigestFinal_ex(q->sha256, md, &n);
        hex_encode(md, 32, hex);
        if (strcasecmp(hex, q->payload_hash) != 0) {
            s3_error(r, S3E_SHA256_MISMATCH, NULL);
            return false;
        }
    }
    /* MD5 is finished by the caller through q->md5 */
    if (md5h) {
        unsigned char want[64], have[16];
        size_t wl = 0;
        EVP_MD_CTX *c = EVP_MD_CTX_new();
        EVP_MD_CTX_copy_ex(c, q->md5);
        EVP_DigestFinal_ex(c, have, &n);
        EVP_MD_CTX_free(c);
        if (strlen(md5h) > 80 || !base64_decode(md5h, strlen(md5h), want, &wl) || wl != 16) {
            s3_error_elems(r, S3E_INVALID_DIGEST, NULL, (const char *const[]){"Content-MD5", md5h},
                           1);
            return false;
        }
        if (memcmp(want, have, 16) != 0) {
            s3_error(r, S3E_BAD_DIGEST, NULL);
            return false;
        }
    }
    if (q->ck_alg) {
        const char *want = http_req_header(r, ck_headers[q->ck_alg]);
        const char *have = s3_ck_value(r, q->ck_alg);
        if (!want && q->chunked && strcmp(q->ch.trailer_name, ck_headers[q->ck_alg]) == 0)
            want = q->ch.trailer_value;
        if (want && strcmp(want, have) != 0) {
            s3_error(r, S3E_BAD_DIGEST,
                     arena_sprintf(r->arena,
                                   "The %s you specified did not match the calculated checksum.",
                                   ck_names[q->ck_alg]));
            return false;
        }
        /* keep the value for the response and the record */
        q->body_msg[0] = '\0';
        snprintf(q->body_msg, sizeof(q->body_msg), "%s", have);
    }
    return true;
}
