/* sigv2.c - see s3_sigv2.h. */
#include "s3_sigv2.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "buf.h"
#include "codec.h"
#include "mem.h"
#include "url.h"

/* The query parameters that are part of the signed resource (botocore's
 * HmacV1Auth.QSAOfInterest), in sorted order. */
static const char *const subresources[] = {
    "accelerate",
    "acl",
    "cors",
    "defaultObjectAcl",
    "delete",
    "lifecycle",
    "location",
    "logging",
    "notification",
    "partNumber",
    "policy",
    "requestPayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "storageClass",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
    "object-lock",
    "replication",
    "ownershipControls",
    "publicAccessBlock",
    "encryption",
};

bool s3_sigv2_query_param(const char *query, const char *name, char *out, size_t cap)
{
    struct url_param p;

    if (!url_query_find(query, name, &p))
        return false;
    return url_decode_to(p.val, p.val_len, out, cap);
}

static int cmp_hdr(const void *a, const void *b)
{
    const struct s3_sigv2_header *x = a, *y = b;
    return strcmp(x->name, y->name);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const char *find(const struct s3_sigv2_header *h, size_t nh, const char *name)
{
    size_t i;
    for (i = 0; i < nh; i++)
        if (strcmp(h[i].name, name) == 0)
            return h[i].value;
    return NULL;
}

static void put_trimmed(struct buf *b, const char *v)
{
    size_t n;
    while (*v == ' ' || *v == '\t')
        v++;
    n = strlen(v);
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    buf_append(b, v, n);
}

char *s3_sigv2_string_to_sign(const char *method, const struct s3_sigv2_header *h, size_t nh,
                              const char *date, const char *resource, const char *query)
{
    struct buf b;
    struct s3_sigv2_header *amz;
    size_t i, n = 0;
    const char *v;
    bool first = true;
    struct url_param p;

    buf_init(&b, 0);
    buf_puts(&b, method);
    buf_putc(&b, '\n');
    if ((v = find(h, nh, "content-md5")))
        put_trimmed(&b, v);
    buf_putc(&b, '\n');
    if ((v = find(h, nh, "content-type")))
        put_trimmed(&b, v);
    buf_putc(&b, '\n');
    buf_puts(&b, date ? date : "");
    buf_putc(&b, '\n');
    amz = xcalloc(nh ? nh : 1, sizeof(*amz));
    for (i = 0; i < nh; i++)
        if (strncmp(h[i].name, "x-amz-", 6) == 0)
            amz[n++] = h[i];
    qsort(amz, n, sizeof(*amz), cmp_hdr);
    for (i = 0; i < n; i++) {
        if (i && strcmp(amz[i].name, amz[i - 1].name) == 0) {
            buf_putc(&b, ',');
        } else {
            if (i)
                buf_putc(&b, '\n');
            buf_puts(&b, amz[i].name);
            buf_putc(&b, ':');
        }
        put_trimmed(&b, amz[i].value);
    }
    if (n)
        buf_putc(&b, '\n');
    free(amz);
    buf_puts(&b, resource);
    {
        const char *found[sizeof(subresources) / sizeof(subresources[0])];
        size_t nf = 0;
        for (i = 0; i < sizeof(subresources) / sizeof(subresources[0]); i++)
            if (url_query_find(query, subresources[i], &p))
                found[nf++] = subresources[i];
        qsort(found, nf, sizeof(found[0]), cmp_str);
        for (i = 0; i < nf; i++) {
            /* the value decoded, however long (decoding never lengthens) */
            char *val;
            url_query_find(query, found[i], &p);
            val = xmalloc(p.val_len + 1);
            url_decode_to(p.val, p.val_len, val, p.val_len + 1);
            buf_putc(&b, first ? '?' : '&');
            first = false;
            buf_puts(&b, found[i]);
            if (val[0]) {
                buf_putc(&b, '=');
                buf_puts(&b, val);
            }
            free(val);
        }
    }
    return buf_detach(&b, NULL);
}

void s3_sigv2_sign(const char *secret, const char *sts, char out[29])
{
    unsigned char mac[20];
    unsigned int len = sizeof(mac);

    HMAC(EVP_sha1(), secret, (int)strlen(secret), (const unsigned char *)sts, strlen(sts), mac,
         &len);
    base64_encode(mac, 20, out);
}
