/* streams.c - DynamoDB Streams: records written with the items, and the
 * four read operations (see streams.h). */
#include "streams.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zlib.h>

#include "attr.h"
#include "backup.h"
#include "clock.h"
#include "codec.h"
#include "json.h"
#include "mem.h"

enum {
    SEQ_DIGITS = 21,
    ITER_TTL_MS = 15 * 60 * 1000,
    TRIM_PER_WRITE = 16,
    RECORDS_MAX = 1000,
    PAGE_BYTES = 1024 * 1024,
    LIST_MAX = 100,
    DESC_CACHE = 8,
    ARN_MAX = 500,
};

static int64_t retention_ms = 24LL * 3600 * 1000;

void streams_set_retention_ms(int64_t ms)
{
    retention_ms = ms;
}

/* ---- keys ---- */

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static struct slice key_num(unsigned char out[9], char tag, uint64_t num)
{
    out[0] = (unsigned char)tag;
    put_u64(out + 1, num);
    return slice_of(out, 9);
}

static struct slice key_rec(unsigned char out[17], uint64_t num, uint64_t seq)
{
    out[0] = 'r';
    put_u64(out + 1, num);
    put_u64(out + 9, seq);
    return slice_of(out, 17);
}

/* get_u64_at - the u64 value at @key (0 when absent). */
static enum err_code get_u64_at(struct store_txn *t, struct slice key, uint64_t *out, struct err *e)
{
    struct slice v;
    enum err_code rc = store_get(t, STORE_DB_STREAM, key, &v, e);

    *out = 0;
    if (rc == ERR_NOTFOUND)
        return ERR_OK;
    if (rc)
        return rc;
    if (v.len != 8)
        return err_set(e, ERR_INTERNAL, "corrupt stream counter");
    *out = get_u64(v.ptr);
    return ERR_OK;
}

static enum err_code put_u64_at(struct store_txn *t, struct slice key, uint64_t val, struct err *e)
{
    unsigned char b[8];

    put_u64(b, val);
    return store_put(t, STORE_DB_STREAM, key, slice_of(b, 8), e);
}

static struct slice key_arn(struct buf *b, const char *arn)
{
    buf_init(b, 0);
    buf_putc(b, 'a');
    buf_puts(b, arn);
    return slice_of(b->ptr, b->len);
}

/* stream_num - the number of stream @arn, 0 when it has none yet. */
static enum err_code stream_num(struct store_txn *t, const char *arn, uint64_t *num, struct err *e)
{
    struct buf k;
    enum err_code rc;

    if (strlen(arn) > 500) { /* store keys stop at 511 bytes */
        *num = 0;
        return ERR_OK;
    }
    rc = get_u64_at(t, key_arn(&k, arn), num, e);
    buf_free(&k);
    return rc;
}

static enum err_code meta_get(struct store_txn *t, uint64_t num, cJSON **out, struct err *e)
{
    unsigned char k[9];
    struct slice v;
    enum err_code rc = store_get(t, STORE_DB_STREAM, key_num(k, 's', num), &v, e);

    *out = NULL;
    if (rc)
        return rc;
    *out = cJSON_ParseWithLength(v.ptr, v.len);
    return *out ? ERR_OK : err_set(e, ERR_INTERNAL, "corrupt stream meta");
}

static enum err_code meta_put(struct store_txn *t, uint64_t num, const cJSON *meta, struct err *e)
{
    unsigned char k[9];
    char *text = cJSON_PrintUnformatted(meta);
    enum err_code rc =
        store_put(t, STORE_DB_STREAM, key_num(k, 's', num), slice_of(text, strlen(text)), e);

    free(text);
    return rc;
}

/* stream_register - the number of the stream @desc currently has, creating
 * its meta when needed (write txn). */
static enum err_code stream_register(struct store_txn *t, const cJSON *desc, const char *view,
                                     uint64_t *num, struct err *e)
{
    const char *arn = json_str(desc, "LatestStreamArn");
    cJSON *meta;
    struct buf k;
    uint64_t q;
    enum err_code rc;

    if (!arn || strlen(arn) > 500)
        return err_set(e, ERR_INTERNAL, "table descriptor without a usable stream ARN");
    rc = stream_num(t, arn, num, e);
    if (rc || *num)
        return rc;
    rc = store_next_id(t, num, e);
    if (!rc)
        rc = get_u64_at(t, slice_of("q", 1), &q, e);
    if (rc)
        return rc;
    rc = put_u64_at(t, key_arn(&k, arn), *num, e);
    buf_free(&k);
    if (rc)
        return rc;
    meta = cJSON_CreateObject();
    cJSON_AddStringToObject(meta, "arn", arn);
    cJSON_AddStringToObject(meta, "table",
                            json_str(desc, "TableName") ? json_str(desc, "TableName") : "");
    cJSON_AddStringToObject(meta, "view", view);
    cJSON_AddItemToObject(meta, "keys",
                          cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(desc, "KeySchema"), 1));
    cJSON_AddNumberToObject(meta, "start", (double)(q + 1));
    rc = meta_put(t, *num, meta, e);
    cJSON_Delete(meta);
    return rc;
}

/* enabled_view - the view type of @desc's enabled stream, NULL when none. */
static const char *enabled_view(const cJSON *desc)
{
    const cJSON *ss = cJSON_GetObjectItemCaseSensitive(desc, "StreamSpecification");

    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ss, "StreamEnabled")))
        return NULL;
    return json_str(ss, "StreamViewType");
}

/* ---- writing records ---- */

static void seq_text(char out[SEQ_DIGITS + 1], uint64_t seq)
{
    for (int i = SEQ_DIGITS - 1; i >= 0; i--) {
        out[i] = (char)('0' + seq % 10);
        seq /= 10;
    }
    out[SEQ_DIGITS] = '\0';
}

/* put_dec - append @v in decimal (what "%" PRIu64 prints). */
static void put_dec(struct buf *b, uint64_t v)
{
    char d[20];
    size_t n = 0;

    do {
        d[sizeof(d) - ++n] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    buf_append(b, d + sizeof(d) - n, n);
}

/* arn_region - the region inside an ARN "arn:aws:dynamodb:REGION:..." */
static void arn_region(const char *arn, char *out, size_t n)
{
    const char *p = arn;
    int colons = 0;
    size_t i = 0;

    while (*p && colons < 3)
        if (*p++ == ':')
            colons++;
    while (p[i] && p[i] != ':' && i + 1 < n) {
        out[i] = p[i];
        i++;
    }
    out[i] = '\0';
}

static void json_member(struct buf *b, const char *name, const cJSON *v)
{
    char *text = cJSON_PrintUnformatted(v);

    buf_printf(b, ",\"%s\":", name);
    buf_puts(b, text ? text : "null");
    free(text);
}

/* record_json - the record as GetRecords returns it. */
static void record_json(struct buf *b, const char *region, const char *view, uint64_t seq,
                        int64_t ms, const cJSON *keys, const cJSON *old, const cJSON *nw,
                        const char *new_json, size_t new_len, bool service)
{
    bool want_new = strcmp(view, "NEW_IMAGE") == 0 || strcmp(view, "NEW_AND_OLD_IMAGES") == 0;
    bool want_old = strcmp(view, "OLD_IMAGE") == 0 || strcmp(view, "NEW_AND_OLD_IMAGES") == 0;
    const char *name = !nw ? "REMOVE" : old ? "MODIFY" : "INSERT";
    size_t size = attr_item_size(keys);
    char id[37], eid[33], seqs[SEQ_DIGITS + 1];
    size_t j = 0;

    ddb_uuid(id);
    for (size_t i = 0; id[i] && j < 32; i++)
        if (id[i] != '-')
            eid[j++] = id[i];
    eid[j] = '\0';
    seq_text(seqs, seq);
    if (want_new && nw)
        size += attr_item_size(nw);
    if (want_old && old)
        size += attr_item_size(old);
    buf_puts(b, "{\"awsRegion\":");
    buf_json_str(b, region, strlen(region));
    buf_puts(b, ",\"dynamodb\":{\"ApproximateCreationDateTime\":");
    if (ms < 0) {
        buf_putc(b, '-');
        put_dec(b, (uint64_t)(-(ms / 1000)));
    } else {
        put_dec(b, (uint64_t)(ms / 1000));
    }
    json_member(b, "Keys", keys);
    if (want_new && nw) {
        buf_puts(b, ",\"NewImage\":");
        buf_append(b, new_json, new_len);
    }
    if (want_old && old)
        json_member(b, "OldImage", old);
    buf_puts(b, ",\"SequenceNumber\":\"");
    buf_append(b, seqs, SEQ_DIGITS);
    buf_puts(b, "\",\"SizeBytes\":");
    put_dec(b, size);
    buf_puts(b, ",\"StreamViewType\":\"");
    buf_puts(b, view);
    buf_puts(b, "\"},\"eventID\":\"");
    buf_puts(b, eid);
    buf_puts(b, "\",\"eventName\":\"");
    buf_puts(b, name);
    buf_puts(b, "\",\"eventSource\":\"aws:dynamodb\",\"eventVersion\":\"1.1\"");
    if (service)
        buf_puts(b, ",\"userIdentity\":{\"PrincipalId\":\"dynamodb.amazonaws.com\",\"Type\":"
                    "\"Service\"}");
    buf_putc(b, '}');
}

/* trim - drop up to TRIM_PER_WRITE expired records of stream @num. */
static enum err_code trim(struct store_txn *t, uint64_t num, int64_t now, struct err *e)
{
    struct store_cursor *cur = NULL;
    unsigned char first[17], xk[9];
    struct slice k, v;
    uint64_t last = 0;
    enum err_code rc = store_cursor_open(t, STORE_DB_STREAM, &cur, e);

    for (int i = 0; !rc && i < TRIM_PER_WRITE; i++) {
        rc = store_cursor_seek(cur, key_rec(first, num, 0), &k, &v, e);
        if (rc == ERR_NOTFOUND || (rc == ERR_OK && (k.len != 17 || memcmp(k.ptr, first, 9) != 0)))
            rc = ERR_NOTFOUND;
        if (rc)
            break;
        if (v.len < 8 || (int64_t)get_u64(v.ptr) >= now - retention_ms)
            break;
        last = get_u64((const unsigned char *)k.ptr + 9);
        rc = store_cursor_del(cur, e);
    }
    store_cursor_close(cur);
    if (rc == ERR_NOTFOUND)
        rc = ERR_OK;
    if (!rc && last)
        rc = put_u64_at(t, key_num(xk, 'x', num), last, e);
    return rc;
}

/* desc_raw - the stored descriptor text of @table (borrowed from @t). */
static enum err_code desc_raw(struct store_txn *t, const char *table, struct slice *v,
                              struct err *e)
{
    struct buf k;
    enum err_code rc;

    buf_init(&k, 0);
    buf_puts(&k, "table/");
    buf_puts(&k, table);
    rc = store_get(t, STORE_DB_META, slice_of(k.ptr, k.len), v, e);
    buf_free(&k);
    return rc;
}

/* The stream settings of table descriptors, remembered by the descriptor's
 * stored text (equal text, equal settings): a write into a table with a
 * stream reads its descriptor but parses it only when it changed. */
struct desc_info {
    char *raw; /* owned: the descriptor text */
    size_t len;
    char view[32]; /* the enabled stream's view type, "": none */
    char *arn;     /* owned: LatestStreamArn, NULL: none */
};
static struct desc_info desc_cache[DESC_CACHE];
static unsigned desc_next;
static pthread_mutex_t desc_mu = PTHREAD_MUTEX_INITIALIZER;

/* desc_settings - the view type (@view, "" when the stream is not enabled)
 * and stream ARN (@arn, "" when none; ERR_INTERNAL when too long) of the
 * descriptor stored as @v. */
static enum err_code desc_settings(const char *table, struct slice v, char view[32],
                                   char arn[ARN_MAX + 1], struct err *e)
{
    struct desc_info *d = NULL;
    enum err_code rc = ERR_OK;

    pthread_mutex_lock(&desc_mu);
    for (unsigned i = 0; i < DESC_CACHE && !d; i++)
        if (desc_cache[i].raw && desc_cache[i].len == v.len &&
            memcmp(desc_cache[i].raw, v.ptr, v.len) == 0)
            d = &desc_cache[i];
    if (!d) {
        cJSON *desc = cJSON_ParseWithLength(v.ptr, v.len);
        const char *vw = desc ? enabled_view(desc) : NULL,
                   *a = desc ? json_str(desc, "LatestStreamArn") : NULL;

        if (!desc) {
            pthread_mutex_unlock(&desc_mu);
            return err_set(e, ERR_INTERNAL, "corrupt descriptor of table %s", table);
        }
        d = &desc_cache[desc_next++ % DESC_CACHE];
        free(d->raw);
        free(d->arn);
        d->raw = xmemdup(v.ptr, v.len);
        d->len = v.len;
        snprintf(d->view, sizeof(d->view), "%s", vw && strlen(vw) < sizeof(d->view) ? vw : "");
        d->arn = a ? xstrdup(a) : NULL;
        cJSON_Delete(desc);
    }
    memcpy(view, d->view, sizeof(d->view));
    arn[0] = '\0';
    if (d->view[0] && d->arn) {
        size_t n = strlen(d->arn);

        if (n > ARN_MAX)
            rc = err_set(e, ERR_INTERNAL, "table descriptor without a usable stream ARN");
        else
            memcpy(arn, d->arn, n + 1);
    }
    pthread_mutex_unlock(&desc_mu);
    return rc;
}

/* same_item - @a and @b hold the same attributes, each attr_equal (a set's
 * members in any order). */
static bool same_item(const cJSON *a, const cJSON *b)
{
    const cJSON *x, *y;

    if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b))
        return false;
    cJSON_ArrayForEach(x, a)
    {
        y = cJSON_GetObjectItemCaseSensitive(b, x->string);
        if (!y || !attr_equal(x, y))
            return false;
    }
    return true;
}

enum err_code streams_on_write(struct store_txn *t, const char *table, const struct table_keys *k,
                               const cJSON *old, const cJSON *new_item, const char *new_json,
                               size_t new_len, bool service, struct err *e)
{
    static const char spec[] = "\"StreamSpecification\"";
    struct slice v;
    cJSON *parsed = NULL, *keys = NULL;
    const cJSON *nw = new_json ? new_item : NULL;
    char view[32], arn[ARN_MAX + 1];
    char region[64];
    unsigned char rk[17];
    uint64_t num = 0, seq = 0;
    int64_t now = clock_wall_ms();
    struct buf rec;
    enum err_code rc;

    if (!old && !new_json)
        return ERR_OK;
    if (k->pitr) { /* point-in-time recovery keeps the before-image (backup.h) */
        rc = pitr_on_write(t, k, old, new_item, new_json, new_len, e);
        if (rc)
            return rc;
    }
    rc = desc_raw(t, table, &v, e);
    if (rc == ERR_NOTFOUND)
        return ERR_OK;
    /* most tables have no stream: decide that without parsing */
    if (rc || !memmem(v.ptr, v.len, spec, sizeof(spec) - 1))
        return rc;
    rc = desc_settings(table, v, view, arn, e);
    if (rc || !view[0] || !arn[0])
        return rc;
    if (new_json && !nw) {
        nw = parsed = cJSON_ParseWithLength(new_json, new_len);
        if (!nw)
            return err_set(e, ERR_INTERNAL, "stream: new image is not JSON");
    }
    /* a write that leaves the item as it was makes no record (DynamoDB) */
    if (old && nw && same_item(old, nw)) {
        cJSON_Delete(parsed);
        return ERR_OK;
    }
    keys = cJSON_CreateObject();
    {
        const cJSON *src = nw ? nw : old;
        const cJSON *h = cJSON_GetObjectItemCaseSensitive(src, k->hash);
        const cJSON *r = k->has_range ? cJSON_GetObjectItemCaseSensitive(src, k->range) : NULL;

        if (h)
            cJSON_AddItemToObject(keys, k->hash, cJSON_Duplicate(h, 1));
        if (r)
            cJSON_AddItemToObject(keys, k->range, cJSON_Duplicate(r, 1));
    }
    rc = stream_num(t, arn, &num, e);
    if (!rc && !num) { /* the stream's first record: register it */
        cJSON *desc = cJSON_ParseWithLength(v.ptr, v.len);

        rc = desc ? stream_register(t, desc, view, &num, e)
                  : err_set(e, ERR_INTERNAL, "corrupt descriptor of table %s", table);
        cJSON_Delete(desc);
    }
    if (!rc)
        rc = get_u64_at(t, slice_of("q", 1), &seq, e);
    if (rc)
        goto out;
    seq++;
    store_seq_note(t, STORE_SEQ_STREAM, seq);
    rc = put_u64_at(t, slice_of("q", 1), seq, e);
    if (rc)
        goto out;
    arn_region(arn, region, sizeof(region));
    buf_init(&rec, 0);
    {
        unsigned char ms[8];

        put_u64(ms, (uint64_t)now);
        buf_append(&rec, ms, 8);
    }
    record_json(&rec, region, view, seq, now, keys, old, nw, new_json, new_len, service);
    rc = store_put(t, STORE_DB_STREAM, key_rec(rk, num, seq), slice_of(rec.ptr, rec.len), e);
    buf_free(&rec);
    if (!rc)
        rc = trim(t, num, now, e);
out:
    cJSON_Delete(keys);
    cJSON_Delete(parsed);
    return rc;
}

enum err_code streams_table_closing(struct store_txn *t, const cJSON *desc, struct err *e)
{
    const char *view = enabled_view(desc);
    cJSON *meta = NULL;
    uint64_t num, q;
    enum err_code rc;

    if (!view || !json_str(desc, "LatestStreamArn"))
        return ERR_OK;
    rc = stream_register(t, desc, view, &num, e);
    if (!rc)
        rc = get_u64_at(t, slice_of("q", 1), &q, e);
    if (!rc)
        rc = meta_get(t, num, &meta, e);
    if (rc)
        return rc;
    cJSON_DeleteItemFromObjectCaseSensitive(meta, "closed");
    cJSON_DeleteItemFromObjectCaseSensitive(meta, "end");
    cJSON_AddNumberToObject(meta, "closed", (double)clock_wall_ms());
    cJSON_AddNumberToObject(meta, "end", (double)q);
    rc = meta_put(t, num, meta, e);
    cJSON_Delete(meta);
    return rc;
}

/* ---- reading: what a stream is now ---- */

struct stream {
    char arn[520];
    char table[256];
    char label[64];
    char view[32];
    uint64_t num; /* 0: no records and never closed */
    bool enabled;
    int64_t created_ms, closed_ms; /* closed_ms 0: open or unknown */
    uint64_t start, end;           /* end valid when !enabled */
    uint64_t trimmed;              /* records up to here were trimmed */
    cJSON *keys;                   /* owned: KeySchema */
};

static void stream_free(struct stream *s)
{
    cJSON_Delete(s->keys);
    s->keys = NULL;
}

/* label_ms - the epoch ms of a stream label "YYYY-MM-DDTHH:MM:SS.mmm". */
static int64_t label_ms(const char *label)
{
    struct tm tm;
    int ms = 0;

    memset(&tm, 0, sizeof(tm));
    if (sscanf(label, "%4d-%2d-%2dT%2d:%2d:%2d.%3d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) < 6)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm) * 1000 + ms;
}

/* arn_parse - table name and label of "arn:aws:dynamodb:R:A:table/T/stream/L"
 * when R and A are this region's. */
static bool arn_parse(const struct ddb *d, const char *arn, char *table, size_t tn, char *label,
                      size_t ln)
{
    char prefix[160];
    const char *p, *s;
    size_t n;

    snprintf(prefix, sizeof(prefix), "arn:aws:dynamodb:%s:%s:table/", d->region, d->account);
    n = strlen(prefix);
    if (strncmp(arn, prefix, n) != 0)
        return false;
    p = arn + n;
    s = strstr(p, "/stream/");
    if (!s || s == p || (size_t)(s - p) >= tn || strlen(s + 8) >= ln || !s[8])
        return false;
    memcpy(table, p, (size_t)(s - p));
    table[s - p] = '\0';
    strcpy(label, s + 8);
    return true;
}

/* last_seq - the sequence of stream @num's newest record, 0: none. */
static enum err_code last_seq(struct store_txn *t, uint64_t num, uint64_t *out, struct err *e)
{
    struct store_cursor *cur = NULL;
    unsigned char hi[17];
    struct slice k = {0}, v = {0};
    enum err_code rc = store_cursor_open(t, STORE_DB_STREAM, &cur, e);

    *out = 0;
    if (!rc)
        rc = store_cursor_seek_le(cur, key_rec(hi, num, UINT64_MAX), &k, &v, e);
    if (rc == ERR_OK && k.len == 17 && memcmp(k.ptr, hi, 9) == 0)
        *out = get_u64((const unsigned char *)k.ptr + 9);
    store_cursor_close(cur);
    return rc == ERR_NOTFOUND ? ERR_OK : rc;
}

/* stream_load - what stream @arn is: ERR_NOTFOUND when this region never had it. */
static enum err_code stream_load(struct ddb *d, struct store_txn *t, const char *arn,
                                 struct stream *s, struct err *e)
{
    cJSON *meta = NULL, *desc = NULL;
    bool current = false;
    uint64_t q;
    enum err_code rc;

    memset(s, 0, sizeof(*s));
    if (strlen(arn) >= sizeof(s->arn) ||
        !arn_parse(d, arn, s->table, sizeof(s->table), s->label, sizeof(s->label)))
        return err_set(e, ERR_NOTFOUND, "Requested resource not found: Stream: %.600s not found",
                       arn);
    strcpy(s->arn, arn);
    s->created_ms = label_ms(s->label);
    rc = stream_num(t, arn, &s->num, e);
    if (!rc && s->num)
        rc = meta_get(t, s->num, &meta, e);
    if (rc)
        goto out;
    rc = table_desc_get(t, s->table, &desc, e);
    if (rc == ERR_OK) {
        const char *latest = json_str(desc, "LatestStreamArn");

        current = latest && strcmp(latest, arn) == 0;
    } else if (rc != ERR_NOTFOUND) {
        goto out;
    }
    rc = ERR_OK;
    if (!meta && !current) {
        rc =
            err_set(e, ERR_NOTFOUND, "Requested resource not found: Stream: %.600s not found", arn);
        goto out;
    }
    s->enabled = current && enabled_view(desc) && !cJSON_GetObjectItemCaseSensitive(meta, "closed");
    {
        const char *view = meta ? json_str(meta, "view") : enabled_view(desc);
        snprintf(s->view, sizeof(s->view), "%s", view ? view : "NEW_AND_OLD_IMAGES");
    }
    s->keys = cJSON_Duplicate(
        cJSON_GetObjectItemCaseSensitive(meta ? meta : desc, meta ? "keys" : "KeySchema"), 1);
    rc = get_u64_at(t, slice_of("q", 1), &q, e);
    if (rc)
        goto out;
    s->start = meta
                   ? (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(meta, "start"))
                   : q + 1;
    if (meta && cJSON_GetObjectItemCaseSensitive(meta, "closed")) {
        s->closed_ms =
            (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(meta, "closed"));
        s->end = (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(meta, "end"));
    } else if (!s->enabled) {
        uint64_t last = 0; /* closed without notice (table gone or replaced) */

        if (s->num)
            rc = last_seq(t, s->num, &last, e);
        s->end = last ? last : s->start;
    }
    if (!rc && s->num) {
        unsigned char xk[9];

        rc = get_u64_at(t, key_num(xk, 'x', s->num), &s->trimmed, e);
    }
out:
    if (rc)
        stream_free(s);
    cJSON_Delete(meta);
    cJSON_Delete(desc);
    return rc;
}

static void shard_id(const struct stream *s, char out[64])
{
    uLong crc = crc32(0L, (const Bytef *)s->arn, (uInt)strlen(s->arn));

    snprintf(out, 64, "shardId-%020" PRId64 "-%08lx", s->created_ms, crc & 0xffffffffUL);
}

/* ---- the operations ---- */

/* read_begin - a snapshot, and in @cap the newest record number a power loss
 * cannot take back: readers never hand out a record past it (nor a position
 * that counts one), and never wait for the disk to get there (store.h). */
static bool read_begin(struct ddb_call *c, struct store_txn **t, uint64_t *cap)
{
    struct err e = {0};

    if (store_read_begin(c->d->store, t, &e)) {
        ddb_reply_err(c, e.code, e.msg);
        return false;
    }
    *cap = store_seq_durable(c->d->store, STORE_SEQ_STREAM);
    return true;
}

/* the dynamodbstreams model's length constraints */
enum {
    ARN_MIN = 37,
    ARN_LEN_MAX = 1024,
    SHARD_MIN = 28,
    SHARD_MAX = 65,
    SEQ_MIN = 21,
    SEQ_MAX = 40
};

/* bad_arn - @arn (may be NULL) is not shaped as a stream ARN: answers
 * ValidationException, as DynamoDB does, and true. A well-formed ARN naming no
 * stream is ResourceNotFoundException, answered later. */
static bool bad_arn(struct ddb_call *c, const char *arn)
{
    char msg[400];

    if (!arn || (strncmp(arn, "arn:", 4) == 0 && strstr(arn, ":table/") && strstr(arn, "/stream/")))
        return false;
    snprintf(msg, sizeof(msg), "Invalid StreamArn: %.300s", arn);
    ddb_reply_err(c, ERR_INVALID, msg);
    return true;
}

static void check_limit(struct ddb_call *c, bool has, int64_t v, int64_t max, const char *path)
{
    ddb_check_range(c, has, v, path, 1, max);
}

struct listed {
    char *arn, *table, *label; /* arena */
};

static int listed_cmp(const void *a, const void *b)
{
    return strcmp(((const struct listed *)a)->arn, ((const struct listed *)b)->arn);
}

static void list_add(struct ddb_call *c, struct listed **v, size_t *n, size_t *cap, const char *arn,
                     const char *table)
{
    const char *s = strstr(arn, "/stream/");

    for (size_t i = 0; i < *n; i++)
        if (strcmp((*v)[i].arn, arn) == 0)
            return;
    if (*n == *cap) {
        struct listed *nv = arena_alloc(c->a, (*cap * 2 + 16) * sizeof(**v));

        if (*n)
            memcpy(nv, *v, *n * sizeof(**v));
        *v = nv;
        *cap = *cap * 2 + 16;
    }
    (*v)[*n].arn = arena_strdup(c->a, arn);
    (*v)[*n].table = arena_strdup(c->a, table);
    (*v)[*n].label = arena_strdup(c->a, s ? s + 8 : "");
    (*n)++;
}

static void list_streams(struct ddb_call *c)
{
    const char *table = ddb_arg_str(c, c->in, "TableName");
    const char *from = ddb_arg_str(c, c->in, "ExclusiveStartStreamArn");
    int64_t limit = LIST_MAX;
    bool has_limit = ddb_arg_int(c, c->in, "Limit", &limit);
    struct store_txn *t = NULL;
    struct store_cursor *cur = NULL;
    struct listed *v = NULL;
    size_t n = 0, cap = 0, shown = 0;
    uint64_t durable = 0; /* ListStreams names streams, no record numbers */
    struct slice k, val;
    int64_t now = clock_wall_ms();
    bool table_seen = false;
    struct err e = {0};
    struct buf b;
    enum err_code rc;

    if (table)
        ddb_check_table_name(c, table, "tableName");
    ddb_check_len(c, from, "exclusiveStartStreamArn", ARN_MIN, ARN_LEN_MAX, false);
    check_limit(c, has_limit, limit, LIST_MAX, "limit");
    if (ddb_args_failed(c) || bad_arn(c, from) || !read_begin(c, &t, &durable))
        return;
    /* streams that have records or were closed */
    rc = store_cursor_open(t, STORE_DB_STREAM, &cur, &e);
    if (!rc)
        rc = store_cursor_seek(cur, slice_of("s", 1), &k, &val, &e);
    while (rc == ERR_OK && k.len == 9 && ((const char *)k.ptr)[0] == 's') {
        cJSON *meta = cJSON_ParseWithLength(val.ptr, val.len);
        const char *arn = json_str(meta, "arn"), *tn = json_str(meta, "table");
        const cJSON *closed = cJSON_GetObjectItemCaseSensitive(meta, "closed");

        if (arn && tn && (!table || strcmp(tn, table) == 0)) {
            table_seen = true;
            if (!closed || (int64_t)cJSON_GetNumberValue(closed) >= now - retention_ms)
                list_add(c, &v, &n, &cap, arn, tn);
        }
        cJSON_Delete(meta);
        rc = store_cursor_next(cur, &k, &val, &e);
    }
    store_cursor_close(cur);
    cur = NULL;
    if (rc == ERR_NOTFOUND)
        rc = ERR_OK;
    /* the tables' current streams (a stream without records has no meta yet) */
    if (!rc)
        rc = store_cursor_open(t, STORE_DB_META, &cur, &e);
    if (!rc)
        rc = store_cursor_seek(cur, slice_of("table/", 6), &k, &val, &e);
    while (rc == ERR_OK && k.len > 6 && memcmp(k.ptr, "table/", 6) == 0) {
        char *tn = arena_strndup(c->a, (const char *)k.ptr + 6, k.len - 6);

        if (!table || strcmp(tn, table) == 0) {
            cJSON *desc = cJSON_ParseWithLength(val.ptr, val.len);
            const char *arn = json_str(desc, "LatestStreamArn");

            table_seen = true;
            if (arn && enabled_view(desc))
                list_add(c, &v, &n, &cap, arn, tn);
            cJSON_Delete(desc);
        }
        rc = store_cursor_next(cur, &k, &val, &e);
    }
    store_cursor_close(cur);
    store_txn_abort(t);
    if (rc == ERR_NOTFOUND)
        rc = ERR_OK;
    if (rc) {
        ddb_reply_err(c, rc, e.msg);
        return;
    }
    if (table && !table_seen) {
        char msg[400];

        snprintf(msg, sizeof(msg), "Requested resource not found: Table: %s not found", table);
        ddb_reply_err(c, ERR_NOTFOUND, msg);
        return;
    }
    if (n)
        qsort(v, n, sizeof(*v), listed_cmp);
    buf_init(&b, 0);
    buf_puts(&b, "{\"Streams\":[");
    for (size_t i = 0; i < n; i++) {
        if (from && strcmp(v[i].arn, from) <= 0)
            continue;
        if ((int64_t)shown == limit) {
            buf_puts(&b, "],\"LastEvaluatedStreamArn\":");
            buf_json_str(&b, v[i - 1].arn, strlen(v[i - 1].arn));
            buf_putc(&b, '}');
            ddb_reply(c, &b);
            return;
        }
        if (shown++)
            buf_putc(&b, ',');
        buf_puts(&b, "{\"StreamArn\":");
        buf_json_str(&b, v[i].arn, strlen(v[i].arn));
        buf_puts(&b, ",\"StreamLabel\":");
        buf_json_str(&b, v[i].label, strlen(v[i].label));
        buf_puts(&b, ",\"TableName\":");
        buf_json_str(&b, v[i].table, strlen(v[i].table));
        buf_putc(&b, '}');
    }
    buf_puts(&b, "]}");
    ddb_reply(c, &b);
}

static const char *const filter_types[] = {"CHILD_SHARDS", NULL};

static void describe_stream(struct ddb_call *c)
{
    const char *arn = ddb_arg_str(c, c->in, "StreamArn");
    const char *after = ddb_arg_str(c, c->in, "ExclusiveStartShardId");
    int64_t limit = 100;
    bool has_limit = ddb_arg_int(c, c->in, "Limit", &limit);
    const cJSON *filter = ddb_arg_obj(c, c->in, "ShardFilter");
    int ftype = ddb_arg_enum(c, filter, "Type", "shardFilter.type", filter_types);
    const char *parent = ddb_arg_str(c, filter, "ShardId");
    struct store_txn *t = NULL;
    struct stream s;
    struct err e = {0};
    char sid[64], seq[SEQ_DIGITS + 1];
    uint64_t cap = 0;
    struct buf b;
    enum err_code rc;

    ddb_check_len(c, arn, "streamArn", ARN_MIN, ARN_LEN_MAX, true);
    check_limit(c, has_limit, limit, 100, "limit");
    ddb_check_len(c, after, "exclusiveStartShardId", SHARD_MIN, SHARD_MAX, false);
    ddb_check_len(c, parent, "shardFilter.shardId", SHARD_MIN, SHARD_MAX, false);
    if (ddb_args_failed(c) || bad_arn(c, arn) || !read_begin(c, &t, &cap))
        return;
    rc = stream_load(c->d, t, arn, &s, &e);
    store_txn_abort(t);
    if (rc) {
        ddb_reply_err(c, rc, e.msg);
        return;
    }
    shard_id(&s, sid);
    buf_init(&b, 0);
    buf_puts(&b, "{\"StreamDescription\":{\"CreationRequestDateTime\":");
    buf_printf(&b, "%.3f", (double)s.created_ms / 1000.0);
    json_member(&b, "KeySchema", s.keys);
    buf_puts(&b, ",\"Shards\":[");
    /* a stream here has one shard, never split: CHILD_SHARDS of any shard are none */
    if ((!after || strcmp(after, sid) < 0) && ftype != 0) {
        buf_printf(&b, "{\"SequenceNumberRange\":{");
        /* a shard whose last record is not durable yet is not closed yet */
        if (!s.enabled && s.end <= cap) {
            seq_text(seq, s.end < s.start ? s.start : s.end);
            buf_printf(&b, "\"EndingSequenceNumber\":\"%s\",", seq);
        }
        /* the number before the shard's first record: in DynamoDB every
         * record's number is greater than its shard's starting one */
        seq_text(seq, s.start - 1);
        buf_printf(&b, "\"StartingSequenceNumber\":\"%s\"},\"ShardId\":\"%s\"}", seq, sid);
    }
    buf_puts(&b, "],\"StreamArn\":");
    buf_json_str(&b, s.arn, strlen(s.arn));
    buf_puts(&b, ",\"StreamLabel\":");
    buf_json_str(&b, s.label, strlen(s.label));
    buf_printf(&b, ",\"StreamStatus\":\"%s\",\"StreamViewType\":\"%s\",\"TableName\":",
               s.enabled ? "ENABLED" : "DISABLED", s.view);
    buf_json_str(&b, s.table, strlen(s.table));
    buf_puts(&b, "}}");
    stream_free(&s);
    ddb_reply(c, &b);
}

/* ---- iterators ---- */

enum { ITER_HORIZON = 1 };

struct iter {
    char arn[520];
    uint64_t after; /* read records with a greater sequence */
    int64_t issued_ms;
    unsigned flags;
};

static char *iter_encode(struct ddb_call *c, const struct iter *it)
{
    unsigned char raw[17];
    char b64[32];

    put_u64(raw, it->after);
    put_u64(raw + 8, (uint64_t)it->issued_ms);
    raw[16] = (unsigned char)it->flags;
    base64_encode(raw, sizeof(raw), b64);
    return arena_sprintf(c->a, "%s|1|%s", it->arn, b64);
}

static bool iter_decode(const char *s, struct iter *it)
{
    const char *bar = strstr(s, "|1|");
    unsigned char raw[32];
    size_t n = 0;

    memset(it, 0, sizeof(*it));
    if (!bar || (size_t)(bar - s) >= sizeof(it->arn) || strlen(bar + 3) > 40 ||
        !base64_decode(bar + 3, strlen(bar + 3), raw, &n) || n != 17)
        return false;
    memcpy(it->arn, s, (size_t)(bar - s));
    it->after = get_u64(raw);
    it->issued_ms = (int64_t)get_u64(raw + 8);
    it->flags = raw[16];
    return true;
}

bool ddb_streams_iter_seq(const char *iter, char *seq, size_t cap)
{
    struct iter it;

    if (cap <= SEQ_DIGITS || !iter_decode(iter, &it) || (it.flags & ITER_HORIZON))
        return false;
    seq_text(seq, it.after);
    return true;
}

/* seq_parse - a SequenceNumber (21 to 40 characters, checked before): decimal digits. */
static bool seq_parse(const char *s, uint64_t *out)
{
    size_t n = strlen(s);
    uint64_t v = 0;

    if (n < 1 || n > 40 || strspn(s, "0123456789") != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (v > (UINT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return true;
}

static const char *const iter_types[] = {"TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER",
                                         "AFTER_SEQUENCE_NUMBER", NULL};

static void get_shard_iterator(struct ddb_call *c)
{
    const char *arn = ddb_arg_str(c, c->in, "StreamArn");
    const char *shard = ddb_arg_str(c, c->in, "ShardId");
    const char *seqs = ddb_arg_str(c, c->in, "SequenceNumber");
    int type = ddb_arg_enum(c, c->in, "ShardIteratorType", "shardIteratorType", iter_types);
    struct store_txn *t = NULL;
    struct stream s;
    struct iter it;
    struct err e = {0};
    char sid[64], msg[200];
    uint64_t seq = 0, q = 0, cap = 0;
    struct buf b;
    enum err_code rc;

    ddb_check_len(c, arn, "streamArn", ARN_MIN, ARN_LEN_MAX, true);
    ddb_check_len(c, shard, "shardId", SHARD_MIN, SHARD_MAX, true);
    ddb_check_len(c, seqs, "sequenceNumber", SEQ_MIN, SEQ_MAX, false);
    if (type == -1)
        ddb_verr_null(c, "shardIteratorType");
    if (ddb_args_failed(c) || bad_arn(c, arn))
        return;
    if (type >= 2 && !seqs) {
        ddb_reply_err(c, ERR_INVALID,
                      "Must specify SequenceNumber for shard iterator type AT_SEQUENCE_NUMBER or "
                      "AFTER_SEQUENCE_NUMBER");
        return;
    }
    if (type < 2 && seqs) {
        ddb_reply_err(c, ERR_INVALID,
                      "Must not specify SequenceNumber for shard iterator type LATEST or "
                      "TRIM_HORIZON");
        return;
    }
    if (seqs && !seq_parse(seqs, &seq)) {
        snprintf(msg, sizeof(msg), "Invalid SequenceNumber: %.60s", seqs);
        ddb_reply_err(c, ERR_INVALID, msg);
        return;
    }
    if (!read_begin(c, &t, &cap))
        return;
    rc = stream_load(c->d, t, arn, &s, &e);
    if (!rc)
        rc = get_u64_at(t, slice_of("q", 1), &q, &e);
    store_txn_abort(t);
    if (q > cap)
        q = cap;
    if (rc) {
        ddb_reply_err(c, rc, e.msg);
        return;
    }
    shard_id(&s, sid);
    memset(&it, 0, sizeof(it));
    snprintf(it.arn, sizeof(it.arn), "%s", s.arn);
    it.issued_ms = clock_wall_ms();
    if (strcmp(shard, sid) != 0) {
        stream_free(&s);
        ddb_reply_err(c, ERR_NOTFOUND, "Requested resource not found: Shard does not exist");
        return;
    }
    switch (type) {
    case 0:
        it.flags = ITER_HORIZON;
        break;
    case 1:
        it.after = s.enabled ? q : s.end < q ? s.end : q;
        break;
    default:
        if (s.trimmed && (seq <= s.trimmed || seq < s.start)) {
            stream_free(&s);
            ddb_reply_type(c, "TrimmedDataAccessException",
                           "Attempted to access data that has been trimmed");
            return;
        }
        /* q + 1 is the next record's number, which an iterator may start
         * from (an empty shard's StartingSequenceNumber is q) */
        if (seq > q + 1 || (!s.enabled && seq > s.end)) {
            stream_free(&s);
            snprintf(msg, sizeof(msg),
                     "Invalid SequenceNumber: %.60s is beyond the end of shard %s", seqs, sid);
            ddb_reply_err(c, ERR_INVALID, msg);
            return;
        }
        it.after = type == 2 && seq ? seq - 1 : seq; /* no record is numbered 0 */
    }
    stream_free(&s);
    buf_init(&b, 0);
    buf_puts(&b, "{\"ShardIterator\":");
    {
        const char *enc = iter_encode(c, &it);

        buf_json_str(&b, enc, strlen(enc));
    }
    buf_putc(&b, '}');
    ddb_reply(c, &b);
}

static void get_records(struct ddb_call *c)
{
    const char *iter = ddb_arg_str(c, c->in, "ShardIterator");
    int64_t limit = RECORDS_MAX;
    bool has_limit = ddb_arg_int(c, c->in, "Limit", &limit);
    struct store_txn *t = NULL;
    struct store_cursor *cur = NULL;
    struct stream s;
    struct iter it;
    struct err e = {0};
    unsigned char from[17];
    struct slice k, v;
    int64_t now = clock_wall_ms();
    size_t count = 0;
    uint64_t cap = 0;
    bool more = false, loaded = false;
    char msg[300];
    struct buf b;
    enum err_code rc;

    ddb_check_len(c, iter, "shardIterator", 1, 2048, true);
    check_limit(c, has_limit, limit, RECORDS_MAX, "limit");
    if (ddb_args_failed(c))
        return;
    if (!iter_decode(iter, &it)) {
        ddb_reply_err(c, ERR_INVALID, "Invalid ShardIterator");
        return;
    }
    if (now - it.issued_ms > ITER_TTL_MS) {
        snprintf(msg, sizeof(msg),
                 "Iterator expired. The iterator was created at time %" PRId64
                 " while right now it's time %" PRId64
                 " which is further in the future than the tolerated delay of %d milliseconds.",
                 it.issued_ms, now, ITER_TTL_MS);
        ddb_reply_type(c, "ExpiredIteratorException", "%s", msg);
        return;
    }
    if (!read_begin(c, &t, &cap))
        return;
    buf_init(&b, 0);
    rc = stream_load(c->d, t, it.arn, &s, &e);
    if (rc)
        goto out;
    loaded = true;
    if (!(it.flags & ITER_HORIZON) && it.after < s.trimmed) {
        rc = ERR_CONFLICT; /* reported as TrimmedDataAccessException below */
        goto out;
    }
    buf_puts(&b, "{\"Records\":[");
    if (s.num) {
        rc = store_cursor_open(t, STORE_DB_STREAM, &cur, &e);
        if (!rc)
            rc = store_cursor_seek(cur, key_rec(from, s.num, it.after + 1), &k, &v, &e);
        while (rc == ERR_OK && k.len == 17 && memcmp(k.ptr, from, 9) == 0) {
            uint64_t seq = get_u64((const unsigned char *)k.ptr + 9);

            if (v.len < 8)
                break;
            if (seq > cap) { /* not durable yet: the next call gets it */
                more = true;
                break;
            }
            if ((int64_t)get_u64(v.ptr) < now - retention_ms) { /* trimmed, not yet deleted */
                if (!(it.flags & ITER_HORIZON)) {
                    rc = ERR_CONFLICT;
                    goto out;
                }
                it.after = seq;
                rc = store_cursor_next(cur, &k, &v, &e);
                continue;
            }
            if ((int64_t)count == limit || (count && b.len + v.len > PAGE_BYTES)) {
                more = true;
                break;
            }
            if (count++)
                buf_putc(&b, ',');
            buf_append(&b, (const char *)v.ptr + 8, v.len - 8);
            it.after = seq;
            it.flags = 0;
            rc = store_cursor_next(cur, &k, &v, &e);
        }
        if (rc == ERR_NOTFOUND)
            rc = ERR_OK;
    }
    if (rc)
        goto out;
    buf_putc(&b, ']');
    /* a closed shard read to its end has no next iterator: the consumer is done */
    if (s.enabled || more) {
        const char *enc;

        it.issued_ms = now;
        enc = iter_encode(c, &it);
        buf_puts(&b, ",\"NextShardIterator\":");
        buf_json_str(&b, enc, strlen(enc));
    }
    buf_putc(&b, '}');
out:
    store_cursor_close(cur);
    store_txn_abort(t);
    if (loaded)
        stream_free(&s);
    if (rc == ERR_CONFLICT) {
        buf_free(&b);
        ddb_reply_type(c, "TrimmedDataAccessException",
                       "Attempted to access data that has been trimmed");
        return;
    }
    if (rc) {
        buf_free(&b);
        ddb_reply_err(c, rc, e.msg);
        return;
    }
    ddb_reply(c, &b);
}

/* ---- dispatch ---- */

static const struct {
    const char *name;
    ddb_op_fn *fn;
} ops[] = {
    {"ListStreams", list_streams},
    {"DescribeStream", describe_stream},
    {"GetShardIterator", get_shard_iterator},
    {"GetRecords", get_records},
};

ddb_op_fn *streams_op(const char *name)
{
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        if (strcmp(ops[i].name, name) == 0)
            return ops[i].fn;
    return NULL;
}

const char *streams_auth_resource(struct ddb_call *c)
{
    const cJSON *v;
    struct iter it;

    if (!streams_op(c->op))
        return NULL;
    if (strcmp(c->op, "ListStreams") == 0)
        return "*";
    if (strcmp(c->op, "GetRecords") == 0) {
        v = cJSON_GetObjectItemCaseSensitive(c->in, "ShardIterator");
        if (cJSON_IsString(v) && iter_decode(v->valuestring, &it))
            return arena_strdup(c->a, it.arn);
        return "";
    }
    v = cJSON_GetObjectItemCaseSensitive(c->in, "StreamArn");
    return cJSON_IsString(v) ? v->valuestring : "";
}
