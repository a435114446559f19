/* list.c - ListObjects (v1, v2) and ListObjectVersions: one walk of the
 * bucket's version records in store order (util.c's store keys). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "s3_int.h"
#include "s3_xml.h"

static bool jtrue(const cJSON *o, const char *name)
{
    return cJSON_IsTrue(cJSON_GetObjectItem(o, name));
}

/* the key of a version entry: from the store key, or from the record when the
 * store key holds a hash of a long key */
static const char *full_key(struct http_req *r, struct slice k, struct slice v, size_t bl)
{
    const char *key = s3_key_name(r->arena, k, bl);
    cJSON *j;

    if (!s3_key_hashed(key))
        return key;
    j = cJSON_ParseWithLength(v.ptr, v.len);
    if (j && s3_jstr(j, "k"))
        key = arena_strdup(r->arena, s3_jstr(j, "k"));
    cJSON_Delete(j);
    return key;
}

static int max_keys(struct http_req *r, bool *bad)
{
    const char *mk = s3_query(r, "max-keys");
    char *end;
    long n;

    *bad = false;
    if (!mk)
        return 1000;
    n = strtol(mk, &end, 10);
    if (*end || end == mk || n < 0) {
        *bad = true;
        return 0;
    }
    return n > 1000 ? 1000 : (int)n;
}

/* bad_max_keys - the answer to a max-keys that max_keys() refused. */
static void bad_max_keys(struct http_req *r)
{
    s3_error_arg(r, S3E_INVALID_ARGUMENT,
                 "Provided max-keys not an integer or within integer range", "max-keys",
                 s3_query(r, "max-keys"));
}

static void put_key(struct buf *b, struct http_req *r, const char *tag, const char *v, bool url)
{
    xmlw_elem(b, tag, url ? url_encode(r->arena, v, true) : v, XMLW_CTRL);
}

/* the first store key after every version of @key (or every key under the
 * common prefix @key when @all_under) */
static struct slice key_after(struct arena *a, const char *bucket, const char *key, bool all_under)
{
    struct slice p = s3_key_obj_prefix(a, bucket, key);
    unsigned char *k = arena_alloc(a, p.len + 10);

    memcpy(k, p.ptr, p.len);
    if (all_under) {
        memset(k + p.len, 0xff, 4);
        return slice_of(k, p.len + 4);
    }
    k[p.len] = 0;
    memset(k + p.len + 1, 0xff, 9);
    return slice_of(k, p.len + 10);
}

/* bucket_read - a read transaction (*@t, to abort) in which the bucket of
 * @r exists; false when @r was answered. */
static bool bucket_read(struct http_req *r, struct store_txn **t)
{
    struct s3_req *q = s3_req_of(r);
    cJSON *bj;

    if (store_read_begin(q->s3->store, t, NULL) != ERR_OK) {
        s3_error(r, S3E_INTERNAL, NULL);
        return false;
    }
    if (!(bj = s3_bucket_get(*t, r->arena, q->bucket))) {
        store_txn_abort(*t);
        s3_error(r, S3E_NO_SUCH_BUCKET, NULL);
        return false;
    }
    cJSON_Delete(bj);
    return true;
}

void s3_list_objects(struct http_req *r, int version)
{
    struct s3_req *q = s3_req_of(r);
    const char *prefix = s3_query(r, "prefix"), *delim = s3_query(r, "delimiter");
    const char *enc = s3_query(r, "encoding-type");
    const char *marker = NULL, *token = NULL, *start_after = NULL;
    bool url = enc && strcmp(enc, "url") == 0, bad, truncated = false;
    bool owner = version == 2 ? (s3_query(r, "fetch-owner") &&
                                 strcmp(s3_query(r, "fetch-owner"), "true") == 0)
                              : true;
    int max = max_keys(r, &bad), count = 0;
    struct store_txn *t = NULL;
    struct store_cursor *c = NULL;
    struct slice k, v, pre;
    const char *last = NULL;
    struct buf items, b;
    size_t bl = strlen(q->bucket), pl;
    enum err_code rc;

    if (!s3_allow(r, "s3:ListBucket", q->bucket, NULL))
        return;
    if (bad) {
        bad_max_keys(r);
        return;
    }
    if (enc && !url) {
        s3_error_arg(r, S3E_INVALID_ARGUMENT, "Invalid Encoding Method specified in Request",
                     "encoding-type", enc);
        return;
    }
    if (!prefix)
        prefix = "";
    if (delim && !*delim)
        delim = NULL;
    if (version == 2) {
        token = s3_query(r, "continuation-token");
        start_after = s3_query(r, "start-after");
        if (token) {
            unsigned char *d = arena_alloc(r->arena, strlen(token) + 4);
            size_t dl = 0;
            if (!base64_decode(token, strlen(token), d, &dl)) {
                s3_error_arg(r, S3E_INVALID_ARGUMENT,
                             "The continuation token provided is incorrect", "continuation-token",
                             token);
                return;
            }
            marker = arena_strndup(r->arena, (char *)d, dl);
        } else {
            marker = start_after;
        }
    } else {
        marker = s3_query(r, "marker");
    }
    if (!bucket_read(r, &t))
        return;
    buf_init(&items, 0);
    pre = s3_key_obj_prefix(r->arena, q->bucket, prefix);
    pl = pre.len;
    store_cursor_open(t, STORE_DB_S3, &c, NULL);
    if (marker && *marker && strcmp(marker, prefix) >= 0)
        rc = store_cursor_seek(c, key_after(r->arena, q->bucket, marker, false), &k, &v, NULL);
    else
        rc = store_cursor_seek(c, pre, &k, &v, NULL);
    while (rc == ERR_OK && k.len >= pl && memcmp(k.ptr, pre.ptr, pl) == 0 && max > 0) {
        const char *key = full_key(r, k, v, bl);
        const char *d = delim ? strstr(key + strlen(prefix), delim) : NULL;
        cJSON *j;
        if (d) {
            char *cp = arena_strndup(r->arena, key, (size_t)(d - key) + strlen(delim));
            /* a marker inside the prefix still lists it (keys after the
             * marker roll up into it); the prefix itself as marker, as a
             * page ending on it hands back, does not */
            if (!(marker && strcmp(cp, marker) == 0)) {
                if (count == max) {
                    truncated = true;
                    break;
                }
                buf_puts(&items, "<CommonPrefixes>");
                put_key(&items, r, "Prefix", cp, url);
                buf_puts(&items, "</CommonPrefixes>");
                count++;
                last = cp;
            }
            rc = store_cursor_seek(c, key_after(r->arena, q->bucket, cp, true), &k, &v, NULL);
            continue;
        }
        j = cJSON_ParseWithLength(v.ptr, v.len);
        if (j && !jtrue(j, "dm")) {
            char when[32];
            if (count == max) {
                cJSON_Delete(j);
                truncated = true;
                break;
            }
            s3_time_iso((int64_t)s3_jnum(j, "lm"), when);
            buf_puts(&items, "<Contents>");
            put_key(&items, r, "Key", key, url);
            xmlw_elem(&items, "LastModified", when, XMLW_CTRL);
            xmlw_elem(&items, "ETag", s3_jstr(j, "etag"), XMLW_CTRL);
            buf_printf(&items, "<Size>%.0f</Size>", s3_jnum(j, "size"));
            if (s3_jstr(j, "ckn"))
                buf_printf(&items, "<ChecksumAlgorithm>%s</ChecksumAlgorithm>", s3_jstr(j, "ckn"));
            if (owner) {
                buf_puts(&items, "<Owner>");
                xmlw_elem(&items, "ID", q->s3->account, XMLW_CTRL);
                xmlw_elem(&items, "DisplayName", "root", XMLW_CTRL);
                buf_puts(&items, "</Owner>");
            }
            buf_puts(&items, "<StorageClass>STANDARD</StorageClass></Contents>");
            count++;
            last = key;
        }
        cJSON_Delete(j);
        rc = store_cursor_seek(c, key_after(r->arena, q->bucket, key, false), &k, &v, NULL);
    }
    if (max == 0 && rc == ERR_OK && k.len >= pl && memcmp(k.ptr, pre.ptr, pl) == 0)
        truncated = false; /* S3 answers max-keys=0 with IsTruncated false */
    store_cursor_close(c);
    store_txn_abort(t);

    s3_xml_start(&b, "ListBucketResult");
    xmlw_elem(&b, "Name", q->bucket, XMLW_CTRL);
    put_key(&b, r, "Prefix", prefix, url);
    if (version == 1)
        put_key(&b, r, "Marker", marker ? marker : "", url);
    if (version == 1 && truncated && delim && last)
        put_key(&b, r, "NextMarker", last, url);
    if (version == 2) {
        buf_printf(&b, "<KeyCount>%d</KeyCount>", count);
        if (token)
            xmlw_elem(&b, "ContinuationToken", token, XMLW_CTRL);
        if (truncated && last) {
            char *tk = arena_alloc(r->arena, base64_encoded_len(strlen(last)) + 1);
            base64_encode(last, strlen(last), tk);
            xmlw_elem(&b, "NextContinuationToken", tk, XMLW_CTRL);
        }
        if (start_after)
            put_key(&b, r, "StartAfter", start_after, url);
    }
    buf_printf(&b, "<MaxKeys>%d</MaxKeys>", max);
    if (delim)
        put_key(&b, r, "Delimiter", delim, url);
    if (url)
        xmlw_elem(&b, "EncodingType", "url", XMLW_CTRL);
    buf_printf(&b, "<IsTruncated>%s</IsTruncated>", truncated ? "true" : "false");
    buf_append(&b, items.ptr ? items.ptr : "", items.len);
    buf_free(&items);
    buf_puts(&b, "</ListBucketResult>");
    s3_ok(r, 200, &b);
}

void s3_list_versions(struct http_req *r)
{
    struct s3_req *q = s3_req_of(r);
    const char *prefix = s3_query(r, "prefix"), *delim = s3_query(r, "delimiter");
    const char *enc = s3_query(r, "encoding-type");
    const char *km = s3_query(r, "key-marker"), *vm = s3_query(r, "version-id-marker");
    bool url = enc && strcmp(enc, "url") == 0, bad, truncated = false;
    int max = max_keys(r, &bad), count = 0;
    struct store_txn *t = NULL;
    struct store_cursor *c = NULL;
    struct slice k, v, pre;
    const char *last_key = NULL, *last_vid = NULL, *prev_key = "";
    struct buf items, b;
    size_t bl = strlen(q->bucket), pl;
    enum err_code rc;
    bool skipping;

    if (!s3_allow(r, "s3:ListBucketVersions", q->bucket, NULL))
        return;
    if (bad) {
        bad_max_keys(r);
        return;
    }
    if (!prefix)
        prefix = "";
    if (delim && !*delim)
        delim = NULL;
    if (km && !*km)
        km = NULL;
    if (vm && !*vm)
        vm = NULL;
    if (enc && !url) {
        s3_error_arg(r, S3E_INVALID_ARGUMENT, "Invalid Encoding Method specified in Request",
                     "encoding-type", enc);
        return;
    }
    if (vm && !km) {
        s3_error_arg(r, S3E_INVALID_ARGUMENT,
                     "A version-id marker cannot be specified without a key marker.",
                     "version-id-marker", vm);
        return;
    }
    if (vm && strlen(vm) != 32 && strcmp(vm, "null") != 0) {
        s3_error_arg(r, S3E_INVALID_ARGUMENT, "Invalid version id specified", "version-id-marker",
                     vm);
        return;
    }
    if (!bucket_read(r, &t))
        return;
    buf_init(&items, 0);
    pre = s3_key_obj_prefix(r->arena, q->bucket, prefix);
    pl = pre.len;
    store_cursor_open(t, STORE_DB_S3, &c, NULL);
    /* with a version-id-marker, resume inside the marker's key after that version */
    skipping = km && vm;
    if (km && strcmp(km, prefix) >= 0)
        rc = store_cursor_seek(c,
                               skipping ? s3_key_obj_prefix(r->arena, q->bucket, km)
                                        : key_after(r->arena, q->bucket, km, false),
                               &k, &v, NULL);
    else
        rc = store_cursor_seek(c, pre, &k, &v, NULL);
    while (rc == ERR_OK && k.len >= pl && memcmp(k.ptr, pre.ptr, pl) == 0) {
        const char *key = full_key(r, k, v, bl);
        const char *d = delim ? strstr(key + strlen(prefix), delim) : NULL;
        bool latest = strcmp(key, prev_key) != 0;
        cJSON *j;
        prev_key = key;
        if (d) {
            char *cp = arena_strndup(r->arena, key, (size_t)(d - key) + strlen(delim));
            if (!(km && strcmp(cp, km) == 0)) { /* as in s3_list_objects */
                if (count == max) {
                    truncated = true;
                    break;
                }
                buf_puts(&items, "<CommonPrefixes>");
                put_key(&items, r, "Prefix", cp, url);
                buf_puts(&items, "</CommonPrefixes>");
                count++;
                last_key = cp;
                last_vid = NULL;
            }
            rc = store_cursor_seek(c, key_after(r->arena, q->bucket, cp, true), &k, &v, NULL);
            continue;
        }
        j = cJSON_ParseWithLength(v.ptr, v.len);
        if (skipping) {
            if (strcmp(key, km) != 0) {
                skipping = false;
            } else {
                if (j && strcmp(s3_jstr(j, "vid"), vm) == 0)
                    skipping = false;
                cJSON_Delete(j);
                rc = store_cursor_next(c, &k, &v, NULL);
                continue;
            }
        }
        if (j) {
            char when[32];
            bool dm = jtrue(j, "dm");
            if (count == max) {
                cJSON_Delete(j);
                truncated = true;
                break;
            }
            s3_time_iso((int64_t)s3_jnum(j, "lm"), when);
            buf_puts(&items, dm ? "<DeleteMarker>" : "<Version>");
            put_key(&items, r, "Key", key, url);
            xmlw_elem(&items, "VersionId", s3_jstr(j, "vid"), XMLW_CTRL);
            buf_printf(&items, "<IsLatest>%s</IsLatest>", latest ? "true" : "false");
            xmlw_elem(&items, "LastModified", when, XMLW_CTRL);
            if (!dm) {
                xmlw_elem(&items, "ETag", s3_jstr(j, "etag"), XMLW_CTRL);
                buf_printf(&items, "<Size>%.0f</Size>", s3_jnum(j, "size"));
                buf_puts(&items, "<StorageClass>STANDARD</StorageClass>");
            }
            buf_puts(&items, "<Owner>");
            xmlw_elem(&items, "ID", q->s3->account, XMLW_CTRL);
            xmlw_elem(&items, "DisplayName", "root", XMLW_CTRL);
            buf_puts(&items, "</Owner>");
            buf_puts(&items, dm ? "</DeleteMarker>" : "</Version>");
            count++;
            last_key = key;
            last_vid = arena_strdup(r->arena, s3_jstr(j, "vid"));
        }
        cJSON_Delete(j);
        rc = store_cursor_next(c, &k, &v, NULL);
    }
    store_cursor_close(c);
    store_txn_abort(t);

    s3_xml_start(&b, "ListVersionsResult");
    xmlw_elem(&b, "Name", q->bucket, XMLW_CTRL);
    put_key(&b, r, "Prefix", prefix, url);
    put_key(&b, r, "KeyMarker", km ? km : "", url);
    xmlw_elem(&b, "VersionIdMarker", vm ? vm : "", XMLW_CTRL);
    if (truncated && last_key) {
        put_key(&b, r, "NextKeyMarker", last_key, url);
        if (last_vid)
            xmlw_elem(&b, "NextVersionIdMarker", last_vid, XMLW_CTRL);
    }
    buf_printf(&b, "<MaxKeys>%d</MaxKeys>", max);
    if (delim)
        put_key(&b, r, "Delimiter", delim, url);
    if (url)
        xmlw_elem(&b, "EncodingType", "url", XMLW_CTRL);
    buf_printf(&b, "<IsTruncated>%s</IsTruncated>", truncated ? "true" : "false");
    buf_append(&b, items.ptr ? items.ptr : "", items.len);
    buf_free(&items);
    buf_puts(&b, "</ListVersionsResult>");
    s3_ok(r, 200, &b);
}
