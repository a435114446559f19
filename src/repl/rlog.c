/* rlog.c - see rlog.h. */
#include "rlog.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <zlib.h>

#include "clock.h"
#include "hlc.h"

static void put_be(unsigned char *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)(v & 0xff);
}

static uint64_t get_be(const unsigned char *p, int n)
{
    uint64_t v = 0;

    for (int i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

static void buf_be(struct buf *b, uint64_t v, int n)
{
    unsigned char t[8];

    put_be(t, v, n);
    buf_append(b, t, (size_t)n);
}

/* ---- item values ---- */

void repl_val_encode(struct buf *out, uint64_t ts, const char *origin, const char *json,
                     size_t json_len)
{
    size_t ol = strlen(origin);

    if (ol > REPL_REGION_MAX)
        ol = REPL_REGION_MAX;
    buf_putc(out, REPL_FMT_HLC);
    buf_putc(out, json ? 0 : 1);
    buf_be(out, ts, 8);
    buf_putc(out, (char)ol);
    buf_append(out, origin, ol);
    if (json)
        buf_append(out, json, json_len);
}

enum err_code repl_val_decode(struct slice v, struct repl_val *out, struct err *e)
{
    const unsigned char *p = v.ptr;
    size_t ol;

    memset(out, 0, sizeof(*out));
    if (v.len >= 2 && p[0] == REPL_FMT_JSON) {
        out->fmt = REPL_FMT_JSON;
        out->json = (const char *)p + 1;
        out->json_len = v.len - 1;
        return ERR_OK;
    }
    if (v.len < 11 || p[0] != REPL_FMT_HLC || p[1] > 1)
        return err_set(e, ERR_INTERNAL, "corrupt item");
    ol = p[10];
    if (ol > REPL_REGION_MAX || 11 + ol > v.len)
        return err_set(e, ERR_INTERNAL, "corrupt item");
    out->fmt = REPL_FMT_HLC;
    out->deleted = p[1] == 1;
    out->ts = get_be(p + 2, 8);
    memcpy(out->origin, p + 11, ol);
    out->origin[ol] = '\0';
    out->json = (const char *)p + 11 + ol;
    out->json_len = v.len - 11 - ol;
    if (out->deleted ? out->json_len != 0 : out->json_len < 2)
        return err_set(e, ERR_INTERNAL, "corrupt item");
    if (out->deleted)
        out->json = NULL;
    return ERR_OK;
}

bool repl_val_newer(uint64_t ts_a, const char *origin_a, uint64_t ts_b, const char *origin_b)
{
    if (ts_a != ts_b)
        return ts_a > ts_b;
    return strcmp(origin_a, origin_b) > 0;
}

/* ---- entries ---- */

void repl_entry_encode(struct buf *out, const struct repl_entry *x)
{
    size_t ol = strlen(x->origin), tl = strlen(x->table);

    buf_putc(out, 1);
    buf_putc(out, x->del ? 2 : 1);
    buf_be(out, x->ts, 8);
    buf_putc(out, (char)ol);
    buf_append(out, x->origin, ol);
    buf_be(out, tl, 2);
    buf_append(out, x->table, tl);
    buf_be(out, x->table_id, 8);
    buf_be(out, x->schema, 4);
    buf_be(out, x->key_len, 2);
    buf_append(out, x->key, x->key_len);
    if (!x->del) {
        buf_be(out, x->image_len, 4);
        buf_append(out, x->image, x->image_len);
    }
}

enum err_code repl_entry_decode(const void *data, size_t n, struct repl_entry *out, struct err *e)
{
    const unsigned char *p = data, *end = p + n;
    size_t l;

    memset(out, 0, sizeof(*out));
#define NEED(k)                                                                                    \
    do {                                                                                           \
        if ((size_t)(end - p) < (size_t)(k))                                                       \
            return err_set(e, ERR_INVALID, "log entry truncated");                                 \
    } while (0)
    NEED(11);
    if (p[0] != 1)
        return err_set(e, ERR_INVALID, "log entry version %u unknown", p[0]);
    if (p[1] != 1 && p[1] != 2)
        return err_set(e, ERR_INVALID, "log entry op %u unknown", p[1]);
    out->del = p[1] == 2;
    out->ts = get_be(p + 2, 8);
    l = p[10];
    p += 11;
    if (l == 0 || l > REPL_REGION_MAX)
        return err_set(e, ERR_INVALID, "log entry origin of %zu bytes", l);
    NEED(l + 2);
    memcpy(out->origin, p, l);
    p += l;
    l = (size_t)get_be(p, 2);
    p += 2;
    if (l == 0 || l > REPL_TABLE_MAX)
        return err_set(e, ERR_INVALID, "log entry table name of %zu bytes", l);
    NEED(l + 14);
    memcpy(out->table, p, l);
    p += l;
    out->table_id = get_be(p, 8);
    out->schema = (uint32_t)get_be(p + 8, 4);
    l = (size_t)get_be(p + 12, 2);
    p += 14;
    if (l == 0 || l > 511)
        return err_set(e, ERR_INVALID, "log entry key of %zu bytes", l);
    NEED(l);
    out->key = p;
    out->key_len = l;
    p += l;
    if (!out->del) {
        NEED(4);
        l = (size_t)get_be(p, 4);
        p += 4;
        if (l < 2)
            return err_set(e, ERR_INVALID, "log entry image of %zu bytes", l);
        NEED(l);
        out->image = (const char *)p;
        out->image_len = l;
        p += l;
    }
#undef NEED
    if (p != end)
        return err_set(e, ERR_INVALID, "log entry has %zu trailing bytes", (size_t)(end - p));
    return ERR_OK;
}

/* ---- the log in the store ---- */

static const char seq_key[] = "repl/seq";

static struct slice log_key(unsigned char k[9], uint64_t seq)
{
    k[0] = 'r';
    put_be(k + 1, seq, 8);
    return slice_of(k, 9);
}

static enum err_code last_seq(struct store_txn *t, uint64_t *seq, struct err *e)
{
    struct slice v;
    enum err_code rc = store_get(t, STORE_DB_META, SLICE(seq_key), &v, e);

    *seq = 0;
    if (rc == ERR_NOTFOUND)
        return ERR_OK;
    if (rc)
        return rc;
    if (v.len != 8)
        return err_set(e, ERR_INTERNAL, "corrupt replication sequence counter");
    *seq = get_be(v.ptr, 8);
    return ERR_OK;
}

enum err_code repl_log_append(struct store_txn *t, struct repl_entry *x, struct err *e)
{
    unsigned char k[9], sv[8];
    struct buf b;
    uint64_t seq;
    enum err_code rc = last_seq(t, &seq, e);

    if (rc)
        return rc;
    x->seq = ++seq;
    put_be(sv, seq, 8);
    rc = store_put(t, STORE_DB_META, SLICE(seq_key), slice_of(sv, 8), e);
    if (rc)
        return rc;
    buf_init(&b, 0);
    /* the fixed fields, origin, table and key are well under 1 KiB */
    buf_reserve(&b, 1024 + x->key_len + x->image_len);
    repl_entry_encode(&b, x);
    rc = store_put(t, STORE_DB_LOG, log_key(k, seq), slice_of(b.ptr, b.len), e);
    buf_free(&b);
    return rc;
}

enum err_code repl_log_bounds(struct store_txn *t, uint64_t *first, uint64_t *last, struct err *e)
{
    struct store_cursor *c = NULL;
    struct slice k, v;
    unsigned char kb[9];
    enum err_code rc = last_seq(t, last, e);

    if (rc)
        return rc;
    *first = *last + 1;
    if (*last == 0) {
        *first = 0;
        return ERR_OK;
    }
    rc = store_cursor_open(t, STORE_DB_LOG, &c, e);
    if (!rc)
        rc = store_cursor_seek(c, log_key(kb, 0), &k, &v, e);
    if (rc == ERR_OK && k.len == 9 && ((const unsigned char *)k.ptr)[0] == 'r')
        *first = get_be((const unsigned char *)k.ptr + 1, 8);
    if (rc == ERR_NOTFOUND)
        rc = ERR_OK;
    store_cursor_close(c);
    return rc;
}

enum err_code repl_log_read(struct store_txn *t, uint64_t from, size_t max, size_t max_bytes,
                            struct buf *batch, size_t *count, uint64_t *last, struct err *e)
{
    struct store_cursor *c = NULL;
    struct slice k, v;
    unsigned char kb[9];
    enum err_code rc;

    *count = 0;
    *last = 0;
    repl_batch_begin(batch);
    rc = store_cursor_open(t, STORE_DB_LOG, &c, e);
    if (!rc)
        rc = store_cursor_seek(c, log_key(kb, from), &k, &v, e);
    while (rc == ERR_OK && k.len == 9 && ((const unsigned char *)k.ptr)[0] == 'r' && *count < max &&
           batch->len < max_bytes) {
        uint64_t seq = get_be((const unsigned char *)k.ptr + 1, 8);

        repl_batch_add(batch, seq, v.ptr, v.len);
        *last = seq;
        (*count)++;
        rc = store_cursor_next(c, &k, &v, e);
    }
    if (rc == ERR_NOTFOUND)
        rc = ERR_OK;
    store_cursor_close(c);
    repl_batch_end(batch);
    return rc;
}

enum err_code repl_log_trim(struct store_txn *t, int64_t before_ms, size_t max, size_t *n,
                            struct err *e)
{
    struct store_cursor *c = NULL;
    struct slice k, v;
    unsigned char kb[9];
    struct repl_entry x;
    struct err ignore;
    enum err_code rc;

    *n = 0;
    rc = store_cursor_open(t, STORE_DB_LOG, &c, e);
    while (!rc && *n < max) {
        rc = store_cursor_seek(c, log_key(kb, 0), &k, &v, e);
        if (rc || k.len != 9 || ((const unsigned char *)k.ptr)[0] != 'r')
            break;
        if (repl_entry_decode(v.ptr, v.len, &x, &ignore) == ERR_OK &&
            repl_hlc_ms(x.ts) >= before_ms)
            break;
        rc = store_cursor_del(c, e);
        if (!rc)
            (*n)++;
    }
    if (rc == ERR_NOTFOUND)
        rc = ERR_OK;
    store_cursor_close(c);
    return rc;
}

/* ---- batches ---- */

void repl_batch_begin(struct buf *b)
{
    buf_append(b, "TRB1\0\0\0\0", 8);
}

void repl_batch_add(struct buf *b, uint64_t seq, const void *entry, size_t len)
{
    unsigned char *cnt = (unsigned char *)b->ptr + 4;
    uint64_t n = get_be(cnt, 4);

    put_be(cnt, n + 1, 4);
    buf_be(b, seq, 8);
    buf_be(b, len, 4);
    buf_append(b, entry, len);
}

void repl_batch_end(struct buf *b)
{
    uLong crc = crc32(0L, (const Bytef *)b->ptr, (uInt)b->len);

    buf_be(b, (uint64_t)crc, 4);
}

enum err_code repl_batch_decode(const void *data, size_t n, repl_entry_fn *fn, void *arg,
                                size_t *count, struct err *e)
{
    const unsigned char *p = data, *q, *end;
    struct repl_entry x;
    uint64_t cnt, prev = 0;
    enum err_code rc;

    *count = 0;
    if (n < 12 || memcmp(p, "TRB1", 4) != 0)
        return err_set(e, ERR_INVALID, "replication batch: bad magic or truncated header");
    end = p + n - 4;
    if ((uint32_t)crc32(0L, p, (uInt)(n - 4)) != (uint32_t)get_be(end, 4))
        return err_set(e, ERR_INVALID,
                       "replication batch: checksum mismatch (corrupt or "
                       "truncated)");
    cnt = get_be(p + 4, 4);
    /* pass 1: check everything; pass 2: deliver */
    for (int pass = 0; pass < 2; pass++) {
        q = p + 8;
        prev = 0;
        for (uint64_t i = 0; i < cnt; i++) {
            uint64_t seq;
            size_t len;

            if ((size_t)(end - q) < 12)
                return err_set(e, ERR_INVALID, "replication batch: frame %llu truncated",
                               (unsigned long long)i);
            seq = get_be(q, 8);
            len = (size_t)get_be(q + 8, 4);
            q += 12;
            if ((size_t)(end - q) < len)
                return err_set(e, ERR_INVALID, "replication batch: entry %llu truncated",
                               (unsigned long long)seq);
            if (seq <= prev)
                return err_set(e, ERR_INVALID,
                               "replication batch: sequence numbers not "
                               "ascending");
            prev = seq;
            rc = repl_entry_decode(q, len, &x, e);
            if (rc)
                return rc;
            x.seq = seq;
            if (pass == 1) {
                rc = fn(&x, arg, e);
                if (rc)
                    return rc;
            }
            q += len;
        }
        if (q != end)
            return err_set(e, ERR_INVALID, "replication batch: trailing bytes");
    }
    *count = (size_t)cnt;
    return ERR_OK;
}

/* ---- positions ---- */

static void pos_key(struct buf *k, const char *peer)
{
    buf_init(k, 0);
    buf_puts(k, "repl/pos/");
    buf_puts(k, peer);
}

enum err_code repl_pos_get(struct store_txn *t, const char *peer, uint64_t *seq, struct err *e)
{
    struct buf k;
    struct slice v;
    enum err_code rc;

    pos_key(&k, peer);
    rc = store_get(t, STORE_DB_META, slice_of(k.ptr, k.len), &v, e);
    buf_free(&k);
    *seq = 0;
    if (rc == ERR_NOTFOUND)
        return ERR_OK;
    if (rc)
        return rc;
    if (v.len != 8)
        return err_set(e, ERR_INTERNAL, "corrupt replication position of %s", peer);
    *seq = get_be(v.ptr, 8);
    return ERR_OK;
}

enum err_code repl_pos_put(struct store_txn *t, const char *peer, uint64_t seq, struct err *e)
{
    struct buf k;
    unsigned char v[8];
    enum err_code rc;

    pos_key(&k, peer);
    put_be(v, seq, 8);
    rc = store_put(t, STORE_DB_META, slice_of(k.ptr, k.len), slice_of(v, 8), e);
    buf_free(&k);
    return rc;
}

/* ---- commit notification ---- */

static pthread_mutex_t note_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t note_cv = PTHREAD_COND_INITIALIZER;
static uint64_t note_seq;

void repl_log_committed(uint64_t seq)
{
    pthread_mutex_lock(&note_mu);
    if (seq > note_seq)
        note_seq = seq;
    pthread_cond_broadcast(&note_cv);
    pthread_mutex_unlock(&note_mu);
}

uint64_t repl_log_wait(uint64_t after, int64_t timeout_ms)
{
    struct timespec ts = clock_deadline_ms(timeout_ms);
    uint64_t s;

    pthread_mutex_lock(&note_mu);
    while (note_seq <= after && timeout_ms > 0) {
        if (pthread_cond_timedwait(&note_cv, &note_mu, &ts) != 0)
            break;
    }
    s = note_seq;
    pthread_mutex_unlock(&note_mu);
    return s;
}
