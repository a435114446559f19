/* attrs.c - the parts of objects uploaded in parts (GetObject's partNumber)
 * and GetObjectAttributes.
 *
 * CompleteMultipartUpload keeps in the version's record "psz", the parts'
 * sizes (one number when parts 1..n all have it but the last, else the list),
 * "pnum" the part numbers when they skip, and "pck" the parts' checksums when
 * the upload had a checksum algorithm. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3_int.h"
#include "s3_xml.h"

/* the number and size of the @i-th part (from 0) of version @v, false when
 * its sizes were not kept (completed before they were) */
static bool part_at(const cJSON *v, int i, long *num, long long *size)
{
    const cJSON *sz = cJSON_GetObjectItem(v, "psz"), *pn = cJSON_GetObjectItem(v, "pnum");
    long long total = (long long)json_num_ci(v, "size");
    int parts = (int)json_num_ci(v, "parts");

    if (cJSON_IsNumber(sz)) { /* parts 1..n of one size, the last the rest */
        long long p = (long long)sz->valuedouble;
        *num = i + 1;
        *size = i + 1 == parts ? total - p * (parts - 1) : p;
        return true;
    }
    if (cJSON_IsArray(sz) && i < cJSON_GetArraySize(sz)) {
        *num = pn ? (long)cJSON_GetArrayItem(pn, i)->valuedouble : i + 1;
        *size = (long long)cJSON_GetArrayItem(sz, i)->valuedouble;
        return true;
    }
    if (parts == 1 && i == 0) {
        *num = 1;
        *size = total;
        return true;
    }
    return false;
}

int s3_part_range(const cJSON *v, long num, long long *off, long long *len, int *idx)
{
    long long size = (long long)json_num_ci(v, "size"), at = 0, sz;
    int parts = (int)json_num_ci(v, "parts"), i;
    long n;

    if (parts <= 0 || size == 0)
        return num == 1 ? 0 : -1;
    for (i = 0; i < parts && part_at(v, i, &n, &sz); i++) {
        if (n == num) {
            *off = at;
            *len = sz;
            *idx = i;
            return 1;
        }
        at += sz;
    }
    return -1;
}

const char *s3_part_checksum(const cJSON *v, int idx)
{
    const cJSON *pck = cJSON_GetObjectItem(v, "pck"), *c;

    c = cJSON_IsArray(pck) ? cJSON_GetArrayItem(pck, idx) : NULL;
    return cJSON_IsString(c) ? c->valuestring : NULL;
}

/* ---- GetObjectAttributes ---- */

enum { A_ETAG = 1, A_CHECKSUM = 2, A_PARTS = 4, A_CLASS = 8, A_SIZE = 16 };

/* x-amz-object-attributes: a comma-separated list; 0 when empty or unknown */
static int attributes(const char *h)
{
    static const char *const names[] = {"ETag", "Checksum", "ObjectParts", "StorageClass",
                                        "ObjectSize"};
    int mask = 0;

    while (h && *h) {
        size_t n, i;
        while (*h == ' ' || *h == ',')
            h++;
        n = strcspn(h, ", ");
        if (!n)
            break;
        for (i = 0; i < 5; i++)
            if (strlen(names[i]) == n && strncmp(h, names[i], n) == 0)
                break;
        if (i == 5)
            return 0;
        mask |= 1 << i;
        h += n;
    }
    return mask;
}

/* ObjectParts: the parts after x-amz-part-number-marker, x-amz-max-parts of them */
static void object_parts(struct http_req *r, struct buf *b, const cJSON *v)
{
    const char *mh = http_req_header(r, "x-amz-max-parts");
    const char *pm = http_req_header(r, "x-amz-part-number-marker");
    long max = mh ? strtol(mh, NULL, 10) : 1000, marker = pm ? strtol(pm, NULL, 10) : 0, num;
    int parts = (int)json_num_ci(v, "parts"), i, count = 0;
    const char *ckn = json_str_ci(v, "ckn");
    long long size;
    bool truncated = false;
    struct buf items = {0};
    long last = 0;

    if (max < 0 || max > 1000)
        max = 1000;
    for (i = 0; i < parts && part_at(v, i, &num, &size); i++) {
        const char *ck = s3_part_checksum(v, i);
        if (num <= marker)
            continue;
        if (count == max) {
            truncated = true;
            break;
        }
        buf_printf(&items, "<Part><PartNumber>%ld</PartNumber><Size>%lld</Size>", num, size);
        if (ck && ckn) {
            char el[24];
            size_t k;
            snprintf(el, sizeof(el), "Checksum%s", ckn);
            for (k = 8; el[k]; k++)
                el[k] = (char)(el[k] >= 'a' && el[k] <= 'z' ? el[k] - 32 : el[k]);
            xmlw_elem(&items, el, ck, XMLW_CTRL);
        }
        buf_puts(&items, "</Part>");
        count++;
        last = num;
    }
    buf_printf(b, "<ObjectParts><PartsCount>%d</PartsCount>", parts);
    buf_printf(b, "<PartNumberMarker>%ld</PartNumberMarker>", marker);
    buf_printf(b, "<NextPartNumberMarker>%ld</NextPartNumberMarker>", last);
    buf_printf(b, "<MaxParts>%ld</MaxParts><IsTruncated>%s</IsTruncated>", max,
               truncated ? "true" : "false");
    if (items.len)
        buf_append(b, items.ptr, items.len);
    buf_puts(b, "</ObjectParts>");
    buf_free(&items);
}

void s3_get_object_attributes(struct http_req *r)
{
    struct s3_req *q = s3_req_of(r);
    const char *vid = s3_query(r, "versionId");
    int want = attributes(http_req_header(r, "x-amz-object-attributes"));
    struct store_txn *t = NULL;
    cJSON *b, *v;
    char when[40];
    struct buf x;

    if (!s3_allow(r, vid ? "s3:GetObjectVersionAttributes" : "s3:GetObjectAttributes", q->bucket,
                  q->key))
        return;
    if (!want) {
        s3_error_arg(r, S3E_INVALID_ARGUMENT,
                     http_req_header(r, "x-amz-object-attributes")
                         ? "Invalid attribute name specified."
                         : "The x-amz-object-attributes header specifying the attributes to be "
                           "retrieved is either missing or empty",
                     "x-amz-object-attributes", http_req_header(r, "x-amz-object-attributes"));
        return;
    }
    if (store_read_begin(q->s3->store, &t, NULL) != ERR_OK) {
        s3_error(r, S3E_INTERNAL, NULL);
        return;
    }
    b = s3_bucket_get(t, r->arena, q->bucket);
    v = s3_read_version(r, t, b, vid, NULL);
    store_txn_abort(t);
    cJSON_Delete(b);
    if (!v)
        return;
    s3_time_http((int64_t)json_num_ci(v, "lm"), when);
    http_resp_header(r, "Last-Modified", when);
    if (vid || strcmp(json_str_ci(v, "vid"), "null") != 0)
        http_resp_header(r, "x-amz-version-id", json_str_ci(v, "vid"));
    if (cJSON_IsTrue(cJSON_GetObjectItem(v, "dm"))) {
        http_resp_header(r, "x-amz-delete-marker", "true");
        s3_error(r, vid ? S3E_METHOD_NOT_ALLOWED : S3E_NO_SUCH_KEY, NULL);
        return;
    }
    s3_xml_start(&x, "GetObjectAttributesResponse");
    if (want & A_ETAG) { /* without its quotes, as S3 sends it here */
        const char *e = json_str_ci(v, "etag");
        size_t n = strlen(e);
        if (n >= 2 && e[0] == '"' && e[n - 1] == '"')
            e = arena_strndup(r->arena, e + 1, n - 2);
        xmlw_elem(&x, "ETag", e, XMLW_CTRL);
    }
    if ((want & A_CHECKSUM) && json_str_ci(v, "ckn") && json_str_ci(v, "ckv")) {
        char el[24];
        size_t k;
        snprintf(el, sizeof(el), "Checksum%s", json_str_ci(v, "ckn"));
        for (k = 8; el[k]; k++)
            el[k] = (char)(el[k] >= 'a' && el[k] <= 'z' ? el[k] - 32 : el[k]);
        buf_puts(&x, "<Checksum>");
        xmlw_elem(&x, el, json_str_ci(v, "ckv"), XMLW_CTRL);
        xmlw_elem(&x, "ChecksumType", json_str_ci(v, "ckt") ? json_str_ci(v, "ckt") : "FULL_OBJECT",
                  XMLW_CTRL);
        buf_puts(&x, "</Checksum>");
    }
    if ((want & A_PARTS) && json_num_ci(v, "parts") > 0)
        object_parts(r, &x, v);
    if (want & A_CLASS)
        buf_puts(&x, "<StorageClass>STANDARD</StorageClass>");
    if (want & A_SIZE)
        buf_printf(&x, "<ObjectSize>%.0f</ObjectSize>", json_num_ci(v, "size"));
    buf_puts(&x, "</GetObjectAttributesResponse>");
    s3_ok(r, 200, &x);
}
