/* list.c - ListObjects (v1, v2) and ListObjectVersions: one walk of the
 * bucket's version records in store order (util.c's store keys). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "s3_int.h"
#include "s3_xml.h"

/* the key of a version entry: from the store key, or from the record when the
 * store key holds a hash of a long key */
static const char *full_key(struct http_req *r, struct slice k, struct slice v, size_t bl)
{
    const char *key = s3_key_name(r->arena, k, bl);
    cJSON *j;

    if (!s3_key_hashed(key))
        return key;
    j = cJSON_ParseWithLength(v.ptr, v.len);
    if (j && json_str_ci(j, "k"))
        key = arena_strdup(r->arena, json_str_ci(j, "k"));
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

/* put_checksum - the ChecksumAlgorithm and ChecksumType of a version kept
 * with a checksum, in S3's names (CRC32, CRC32C, SHA1, SHA256; FULL_OBJECT, or
 * COMPOSITE for an upload in parts); nothing for one without */
static void put_checksum(struct buf *b, const cJSON *j)
{
    const char *n = json_str_ci(j, "ckn"), *t = json_str_ci(j, "ckt");
    char up[16];
    size_t i;

    if (!n)
        return;
    for (i = 0; n[i] && i + 1 < sizeof(up); i++)
        up[i] = (char)toupper((unsigned char)n[i]);
    up[i] = '\0';
    xmlw_elem(b, "ChecksumAlgorithm", up, XMLW_CTRL);
    xmlw_elem(b, "ChecksumType", t ? t : "FULL_OBJECT", XMLW_CTRL);
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

/* A prefix or common prefix longer than S3_KEY_SORTED cannot be sought: keys
 * over S3_KEY_INLINE bytes are stored under their first S3_KEY_SORTED bytes and
 * a hash. So a long prefix bounds the walk by its first S3_KEY_SORTED bytes and
 * each key is checked against the whole of it, and the keys under a long
 * common prefix are stepped over one by one, the prefixes already answered
 * remembered so that none comes twice. */
struct seen_cp {
    const char *cp;
    struct seen_cp *next;
};

static bool cp_seen(const struct seen_cp *l, const char *cp)
{
    for (; l; l = l->next)
        if (strcmp(l->cp, cp) == 0)
            return true;
    return false;
}

static void cp_remember(struct arena *a, struct seen_cp **l, const char *cp)
{
    struct seen_cp *n;

    if (cp_seen(*l, cp))
        return;
    n = arena_alloc(a, sizeof(*n));
    n->cp = cp;
    n->next = *l;
    *l = n;
}

/* range_of - the store prefix under which every key starting with @prefix lies */
static struct slice range_of(struct arena *a, const char *bucket, const char *prefix)
{
    if (strlen(prefix) > S3_KEY_SORTED)
        prefix = arena_strndup(a, prefix, S3_KEY_SORTED);
    return s3_key_obj_prefix(a, bucket, prefix);
}

/* store_before - @k sorts before @start in the store */
static bool store_before(struct slice k, struct slice start)
{
    size_t n = k.len < start.len ? k.len : start.len;
    int d = memcmp(k.ptr, start.ptr, n);
    return d < 0 || (d == 0 && k.len < start.len);
}

/* seen_before - remember the long common prefixes (under @prefix, cut at
 * @delim) of the keys stored before @start among those sharing the sorted part
 * of @marker: a page resuming at @start answered them already, and keys under
 * them may still come after it. */
static void seen_before(struct http_req *r, struct store_cursor *c, const char *prefix,
                        const char *delim, const char *marker, struct slice start,
                        struct seen_cp **seen)
{
    struct s3_req *q = s3_req_of(r);
    size_t bl = strlen(q->bucket), plen = strlen(prefix);
    struct slice g, k, v;
    enum err_code rc;

    if (!delim || strlen(marker) <= S3_KEY_SORTED)
        return;
    g = range_of(r->arena, q->bucket, marker);
    for (rc = store_cursor_seek(c, g, &k, &v, NULL);
         rc == ERR_OK && k.len >= g.len && memcmp(k.ptr, g.ptr, g.len) == 0 &&
         store_before(k, start);
         rc = store_cursor_next(c, &k, &v, NULL)) {
        const char *key = full_key(r, k, v, bl), *d;
        char *cp;
        if (strncmp(key, prefix, plen) != 0 || !(d = strstr(key + plen, delim)))
            continue;
        cp = arena_strndup(r->arena, key, (size_t)(d - key) + strlen(delim));
        if (strlen(cp) > S3_KEY_SORTED)
            cp_remember(r->arena, seen, cp);
    }
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
    size_t bl = strlen(q->bucket), pl, plen;
    struct seen_cp *seen = NULL;
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
            if (!*token || !base64_decode(token, strlen(token), d, &dl)) { /* "" too, as S3 */
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
    pre = range_of(r->arena, q->bucket, prefix);
    plen = strlen(prefix);
    pl = pre.len;
    store_cursor_open(t, STORE_DB_S3, &c, NULL);
    if (marker && *marker && strcmp(marker, prefix) >= 0) {
        struct slice start = key_after(r->arena, q->bucket, marker, false);
        seen_before(r, c, prefix, delim, marker, start, &seen);
        rc = store_cursor_seek(c, start, &k, &v, NULL);
    } else
        rc = store_cursor_seek(c, pre, &k, &v, NULL);
    while (rc == ERR_OK && k.len >= pl && memcmp(k.ptr, pre.ptr, pl) == 0 && max > 0) {
        const char *key = full_key(r, k, v, bl);
        const char *d;
        cJSON *j;
        if (strncmp(key, prefix, plen) != 0) { /* only past a long prefix's sorted part */
            rc = store_cursor_seek(c, key_after(r->arena, q->bucket, key, false), &k, &v, NULL);
            continue;
        }
        d = delim ? strstr(key + plen, delim) : NULL;
        if (d) {
            char *cp = arena_strndup(r->arena, key, (size_t)(d - key) + strlen(delim));
            bool lng = strlen(cp) > S3_KEY_SORTED;
            /* a marker inside the prefix still lists it (keys after the
             * marker roll up into it); the prefix itself as marker, as a
             * page ending on it hands back, does not */
            if (!(marker && strcmp(cp, marker) == 0) && !(lng && cp_seen(seen, cp))) {
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
            if (lng)
                cp_remember(r->arena, &seen, cp);
            rc = store_cursor_seek(c, key_after(r->arena, q->bucket, lng ? key : cp, !lng), &k, &v,
                                   NULL);
            continue;
        }
        j = cJSON_ParseWithLength(v.ptr, v.len);
        if (j && !json_true_ci(j, "dm")) {
            char when[32];
            if (count == max) {
                cJSON_Delete(j);
                truncated = true;
                break;
            }
            s3_time_iso((int64_t)json_num_ci(j, "lm"), when);
            buf_puts(&items, "<Contents>");
            put_key(&items, r, "Key", key, url);
            xmlw_elem(&items, "LastModified", when, XMLW_CTRL);
            xmlw_elem(&items, "ETag", json_str_ci(j, "etag"), XMLW_CTRL);
            put_checksum(&items, j);
            buf_printf(&items, "<Size>%.0f</Size>", json_num_ci(j, "size"));
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
    size_t bl = strlen(q->bucket), pl, plen;
    struct seen_cp *seen = NULL;
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
    if (vm && !s3_vid_ok(vm)) {
        s3_error_arg(r, S3E_INVALID_ARGUMENT, "Invalid version id specified", "version-id-marker",
                     vm);
        return;
    }
    if (!bucket_read(r, &t))
        return;
    buf_init(&items, 0);
    pre = range_of(r->arena, q->bucket, prefix);
    plen = strlen(prefix);
    pl = pre.len;
    store_cursor_open(t, STORE_DB_S3, &c, NULL);
    /* with a version-id-marker, resume inside the marker's key after that version */
    skipping = km && vm;
    if (km && strcmp(km, prefix) >= 0) {
        struct slice start = skipping ? s3_key_obj_prefix(r->arena, q->bucket, km)
                                      : key_after(r->arena, q->bucket, km, false);
        seen_before(r, c, prefix, delim, km, start, &seen);
        rc = store_cursor_seek(c, start, &k, &v, NULL);
    } else
        rc = store_cursor_seek(c, pre, &k, &v, NULL);
    while (rc == ERR_OK && k.len >= pl && memcmp(k.ptr, pre.ptr, pl) == 0) {
        const char *key = full_key(r, k, v, bl);
        const char *d;
        bool latest = strcmp(key, prev_key) != 0;
        cJSON *j;
        prev_key = key;
        if (strncmp(key, prefix, plen) != 0) { /* only past a long prefix's sorted part */
            rc = store_cursor_next(c, &k, &v, NULL);
            continue;
        }
        d = delim ? strstr(key + plen, delim) : NULL;
        if (d) {
            char *cp = arena_strndup(r->arena, key, (size_t)(d - key) + strlen(delim));
            bool lng = strlen(cp) > S3_KEY_SORTED;
            /* as in s3_list_objects */
            if (!(km && strcmp(cp, km) == 0) && !(lng && cp_seen(seen, cp))) {
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
            if (lng) {
                cp_remember(r->arena, &seen, cp);
                rc = store_cursor_next(c, &k, &v, NULL);
            } else {
                rc = store_cursor_seek(c, key_after(r->arena, q->bucket, cp, true), &k, &v, NULL);
            }
            continue;
        }
        j = cJSON_ParseWithLength(v.ptr, v.len);
        if (skipping) {
            if (strcmp(key, km) != 0) {
                skipping = false;
            } else {
                if (j && strcmp(json_str_ci(j, "vid"), vm) == 0)
                    skipping = false;
                cJSON_Delete(j);
                rc = store_cursor_next(c, &k, &v, NULL);
                continue;
            }
        }
        if (j) {
            char when[32];
            bool dm = json_true_ci(j, "dm");
            if (count == max) {
                cJSON_Delete(j);
                truncated = true;
                break;
            }
            s3_time_iso((int64_t)json_num_ci(j, "lm"), when);
            buf_puts(&items, dm ? "<DeleteMarker>" : "<Version>");
            put_key(&items, r, "Key", key, url);
            xmlw_elem(&items, "VersionId", json_str_ci(j, "vid"), XMLW_CTRL);
            buf_printf(&items, "<IsLatest>%s</IsLatest>", latest ? "true" : "false");
            xmlw_elem(&items, "LastModified", when, XMLW_CTRL);
            if (!dm) {
                xmlw_elem(&items, "ETag", json_str_ci(j, "etag"), XMLW_CTRL);
                put_checksum(&items, j);
                buf_printf(&items, "<Size>%.0f</Size>", json_num_ci(j, "size"));
                buf_puts(&items, "<StorageClass>STANDARD</StorageClass>");
            }
            buf_puts(&items, "<Owner>");
            xmlw_elem(&items, "ID", q->s3->account, XMLW_CTRL);
            xmlw_elem(&items, "DisplayName", "root", XMLW_CTRL);
            buf_puts(&items, "</Owner>");
            buf_puts(&items, dm ? "</DeleteMarker>" : "</Version>");
            count++;
            last_key = key;
            last_vid = arena_strdup(r->arena, json_str_ci(j, "vid"));
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
