/* export.c - ExportTableToPointInTime, DescribeExport, ListExports and the
 * background thread that writes exports into S3 (export.h). */
#include "export.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "attr.h"
#include "backup.h"
#include "clock.h"
#include "codec.h"
#include "item.h"
#include "log.h"
#include "mem.h"
#include "table.h"

/* data files end at this many items or uncompressed bytes */
enum { FILE_ITEMS = 100000, FILE_BYTES = 32 << 20 };

/* a pause after each piece read (TANDEM_DDB_EXPORT_PAUSE_MS: tests and tuning) */
static long pause_ms;

char *xp_strf(const char *fmt, ...)
{
    va_list ap;
    int n;
    char *s;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    s = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

void ddb_set_s3(struct ddb *d, const struct ddb_s3 *s)
{
    d->s3 = s;
}

void export_iso_time(int64_t ms, char out[48])
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;

    gmtime_r(&s, &tm);
    snprintf(out, 48, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

const char *export_s3_fail(int st, const struct ddb_s3_err *er)
{
    if (st == 0)
        return "S3Unreachable";
    if (strcmp(er->code, "NoSuchBucket") == 0)
        return "S3NoSuchBucket";
    if (strcmp(er->code, "AccessDenied") == 0 || st == 403)
        return "S3AccessDenied";
    if (strcmp(er->code, "NoSuchKey") == 0)
        return "S3NoSuchKey";
    return "S3Error";
}

/* ---- records ---- */

const struct xp_kind xp_export = {"export/", "exporttok/", "ExportArn", "ExportStatus"};
const struct xp_kind xp_import = {"import/", "importtok/", "ImportArn", "ImportStatus"};

enum err_code xp_meta_get(struct store_txn *t, const char *prefix, const char *name, cJSON **out,
                          struct err *e)
{
    char *k = xp_strf("%s%s", prefix, name);
    struct slice v;
    enum err_code rc = store_get(t, STORE_DB_META, slice_of(k, strlen(k)), &v, e);

    free(k);
    if (rc)
        return rc;
    *out = cJSON_ParseWithLength(v.ptr, v.len);
    return *out ? ERR_OK : err_set(e, ERR_INTERNAL, "corrupt export record");
}

enum err_code xp_rec_put(struct store_txn *t, const struct xp_kind *kind, const cJSON *rec,
                         struct err *e)
{
    const cJSON *arn = cJSON_GetObjectItemCaseSensitive(rec, kind->arn);
    char *k = xp_strf("%s%s", kind->prefix, arn->valuestring);
    char *v = cJSON_PrintUnformatted(rec);
    enum err_code rc =
        store_put(t, STORE_DB_META, slice_of(k, strlen(k)), slice_of(v, strlen(v)), e);

    free(k);
    free(v);
    return rc;
}

char *xp_describe(const cJSON *rec)
{
    cJSON *o = cJSON_CreateObject();
    const cJSON *m;
    char *s;

    cJSON_ArrayForEach(m, rec)
    {
        if (m->string[0] != '_')
            cJSON_AddItemToObject(o, m->string, cJSON_Duplicate(m, true));
    }
    s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

enum err_code xp_each(struct store_txn *t, const struct xp_kind *kind, const char *after,
                      xp_rec_fn *fn, void *arg, struct err *e)
{
    struct store_cursor *cur = NULL;
    struct slice k = {0}, v = {0};
    char *start = xp_strf("%s%s", kind->prefix, after ? after : "");
    size_t plen = strlen(kind->prefix);
    enum err_code rc = store_cursor_open(t, STORE_DB_META, &cur, e);

    if (!rc)
        rc = store_cursor_seek(cur, slice_of(start, strlen(start)), &k, &v, e);
    if (!rc && after && k.len == strlen(start) && memcmp(k.ptr, start, k.len) == 0)
        rc = store_cursor_next(cur, &k, &v, e);
    while (!rc && k.len > plen && memcmp(k.ptr, kind->prefix, plen) == 0) {
        cJSON *rec = cJSON_ParseWithLength(v.ptr, v.len);
        bool more = rec ? fn(arg, rec) : true;

        cJSON_Delete(rec);
        if (!more)
            break;
        rc = store_cursor_next(cur, &k, &v, e);
    }
    store_cursor_close(cur);
    free(start);
    return rc == ERR_NOTFOUND ? ERR_OK : rc;
}

const char *xp_str(const cJSON *rec, const char *name)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(rec, name);

    return cJSON_IsString(m) ? m->valuestring : NULL;
}

double xp_num(const cJSON *rec, const char *name)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(rec, name);

    return cJSON_IsNumber(m) ? m->valuedouble : 0;
}

void xp_set_num(cJSON *o, const char *name, double v)
{
    cJSON_DeleteItemFromObjectCaseSensitive(o, name);
    cJSON_AddNumberToObject(o, name, v);
}

void xp_set_str(cJSON *o, const char *name, const char *v)
{
    cJSON_DeleteItemFromObjectCaseSensitive(o, name);
    cJSON_AddStringToObject(o, name, v);
}

enum err_code xp_token_find(struct store_txn *t, const struct xp_kind *kind, const char *token,
                            const char *params, char **out, struct err *e)
{
    char *k = xp_strf("%s%s", kind->tok, token);
    struct slice v;
    cJSON *old = NULL;
    enum err_code rc = store_get(t, STORE_DB_META, slice_of(k, strlen(k)), &v, e);

    free(k);
    if (!rc) {
        char *a = xstrndup(v.ptr, v.len);

        rc = xp_meta_get(t, kind->prefix, a, &old, e);
        free(a);
    }
    if (rc)
        return rc;
    if (strcmp(xp_str(old, "_params") ? xp_str(old, "_params") : "", params) != 0)
        rc = err_set(e, ERR_CONFLICT,
                     "There is already an %s with the same ClientToken and different "
                     "parameters: %s",
                     kind == &xp_export ? "export" : "import", xp_str(old, kind->arn));
    else
        *out = xp_describe(old);
    cJSON_Delete(old);
    return rc;
}

enum err_code xp_token_put(struct store_txn *t, const struct xp_kind *kind, const char *token,
                           const char *arn, struct err *e)
{
    char *k = xp_strf("%s%s", kind->tok, token);
    enum err_code rc =
        store_put(t, STORE_DB_META, slice_of(k, strlen(k)), slice_of(arn, strlen(arn)), e);

    free(k);
    return rc;
}

/* ---- the thread ---- */

struct qent {
    struct qent *next;
    const struct xp_kind *kind;
    char *arn;
};

struct export_jobs {
    struct ddb *d;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    struct qent *head, *tail;
};

static void run_export(struct ddb *d, const char *arn);

static void *thread_main(void *arg)
{
    struct export_jobs *j = arg;

    pthread_mutex_lock(&j->mu);
    for (;;) {
        struct qent *q;

        while (!j->stop && !j->head)
            pthread_cond_wait(&j->cv, &j->mu);
        if (j->stop)
            break;
        q = j->head;
        j->head = q->next;
        if (!j->head)
            j->tail = NULL;
        pthread_mutex_unlock(&j->mu);
        if (q->kind == &xp_export)
            run_export(j->d, q->arn);
        else
            import_run(j->d, q->arn);
        free(q->arn);
        free(q);
        pthread_mutex_lock(&j->mu);
    }
    pthread_mutex_unlock(&j->mu);
    return NULL;
}

void xp_enqueue(struct ddb *d, const struct xp_kind *kind, const char *arn)
{
    struct export_jobs *j = d->exports;
    struct qent *q = xcalloc(1, sizeof(*q));

    q->kind = kind;
    q->arn = xstrdup(arn);
    pthread_mutex_lock(&j->mu);
    if (j->tail)
        j->tail->next = q;
    else
        j->head = q;
    j->tail = q;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
}

/* cut-off exports and imports: collected, then marked FAILED in the same apply */
struct cut {
    const struct xp_kind *kind;
    cJSON *recs;
    int n;
};

static bool collect_cut(void *arg, const cJSON *rec)
{
    struct cut *x = arg;
    const char *st = xp_str(rec, x->kind->status);

    if (st && strcmp(st, "IN_PROGRESS") == 0)
        cJSON_AddItemToArray(x->recs, cJSON_Duplicate(rec, true));
    return true;
}

static enum err_code cut_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct cut *x = arg;
    enum err_code rc = ERR_OK;

    x->n = 0;
    for (int i = 0; i < 2 && !rc; i++) {
        cJSON *rec;

        x->kind = i ? &xp_import : &xp_export;
        cJSON_Delete(x->recs);
        x->recs = cJSON_CreateArray();
        rc = xp_each(t, x->kind, NULL, collect_cut, x, e);
        cJSON_ArrayForEach(rec, x->recs)
        {
            if (rc)
                break;
            xp_set_str(rec, x->kind->status, "FAILED");
            xp_set_str(rec, "FailureCode", "InternalServerError");
            xp_set_str(rec, "FailureMessage",
                       i ? "The import was cut off by a restart of the region; import again"
                         : "The export was cut off by a restart of the region; export the "
                           "table again");
            xp_set_num(rec, "EndTime", (double)clock_wall_ms() / 1000.0);
            rc = xp_rec_put(t, x->kind, rec, e);
            x->n++;
        }
    }
    return rc;
}

enum err_code export_jobs_start(struct ddb *d, struct err *e)
{
    struct export_jobs *j;
    struct cut x = {0};
    enum err_code rc = store_write(d->store, cut_apply, &x, e);

    if (!rc && x.n > 0)
        log_warn("event=ddb_exports_cut_off count=%d", x.n);
    cJSON_Delete(x.recs);
    if (rc)
        return rc;
    if (getenv("TANDEM_DDB_EXPORT_PAUSE_MS"))
        pause_ms = atol(getenv("TANDEM_DDB_EXPORT_PAUSE_MS"));
    j = xcalloc(1, sizeof(*j));
    j->d = d;
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->cv, NULL);
    if (pthread_create(&j->th, NULL, thread_main, j)) {
        pthread_mutex_destroy(&j->mu);
        pthread_cond_destroy(&j->cv);
        free(j);
        return err_set(e, ERR_INTERNAL, "cannot start the export thread");
    }
    d->exports = j;
    return ERR_OK;
}

void export_jobs_stop(struct ddb *d)
{
    struct export_jobs *j = d ? d->exports : NULL;

    if (!j)
        return;
    pthread_mutex_lock(&j->mu);
    j->stop = true;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
    pthread_join(j->th, NULL);
    while (j->head) {
        struct qent *q = j->head;

        j->head = q->next;
        free(q->arn);
        free(q);
    }
    pthread_mutex_destroy(&j->mu);
    pthread_cond_destroy(&j->cv);
    free(j);
    d->exports = NULL;
}

bool xp_stopping(struct ddb *d, bool pause)
{
    struct export_jobs *j = d->exports;
    bool s;

    pthread_mutex_lock(&j->mu);
    if (pause && pause_ms > 0 && !j->stop) {
        struct timespec until = clock_deadline_ms(pause_ms);

        pthread_cond_timedwait(&j->cv, &j->mu, &until);
    }
    s = j->stop;
    pthread_mutex_unlock(&j->mu);
    return s;
}

/* ---- an export's run ---- */

/* A data file being written: gzip of its lines, in memory. */
struct dfile {
    z_stream z;
    bool open;
    struct buf gz;
    size_t items, raw;
};

struct run {
    struct ddb *d;
    cJSON *rec;
    const char *bucket, *sse, *kms;
    char *base; /* <prefix>/AWSDynamoDB/<ExportId> */
    struct dfile f;
    struct buf manifest; /* manifest-files.json */
    bool ion;            /* ExportFormat ION */
    uint64_t items, bytes;
    char fail_code[64], fail_msg[400];
};

static void fail(struct run *x, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(struct run *x, const char *code, const char *fmt, ...)
{
    va_list ap;

    if (x->fail_code[0])
        return;
    snprintf(x->fail_code, sizeof(x->fail_code), "%s", code);
    va_start(ap, fmt);
    vsnprintf(x->fail_msg, sizeof(x->fail_msg), fmt, ap);
    va_end(ap);
}

static bool put(struct run *x, const char *name, const void *body, size_t len)
{
    struct ddb_s3_err er = {0};
    char *key = xp_strf("%s/%s", x->base, name);
    int st = x->d->s3->put(x->d->s3->ud, x->bucket, key, body, len, x->sse, x->kms, &er);

    free(key);
    if (st == 200)
        return true;
    fail(x, export_s3_fail(st, &er), "%s%s%s", er.code[0] ? er.code : "S3 could not be reached",
         er.msg[0] ? ": " : "", er.msg);
    return false;
}

static void md5(const void *p, size_t n, unsigned char out[16])
{
    unsigned int len = 16;

    EVP_Digest(p, n, out, &len, EVP_md5(), NULL);
}

static void md5_hex(const void *p, size_t n, char out[33])
{
    unsigned char d[16];

    md5(p, n, d);
    hex_encode(d, 16, out);
}

static void file_deflate(struct dfile *f, const void *p, size_t n, int flush)
{
    unsigned char out[16384];

    f->z.next_in = (unsigned char *)(uintptr_t)p;
    f->z.avail_in = (uInt)n;
    do {
        f->z.next_out = out;
        f->z.avail_out = sizeof(out);
        deflate(&f->z, flush);
        buf_append(&f->gz, out, sizeof(out) - f->z.avail_out);
    } while (f->z.avail_out == 0);
}

/* file_close - finish the data file, write it and its manifest line. */
static bool file_close(struct run *x)
{
    struct dfile *f = &x->f;
    char uuid[37], name[64], hex[33];
    unsigned char d[16];
    char b64[32];
    size_t j = 0;
    bool ok;

    if (!f->open)
        return true;
    file_deflate(f, "", 0, Z_FINISH);
    deflateEnd(&f->z);
    f->open = false;
    ddb_uuid(uuid);
    for (size_t i = 0; uuid[i] && j < 26; i++)
        if (uuid[i] != '-')
            name[j++] = uuid[i];
    name[j] = '\0';
    {
        char *key = xp_strf("data/%s.%s.gz", name, x->ion ? "ion" : "json");

        ok = put(x, key, f->gz.ptr, f->gz.len);
        free(key);
    }
    md5(f->gz.ptr, f->gz.len, d);
    hex_encode(d, 16, hex);
    base64_encode(d, 16, b64);
    if (ok)
        buf_printf(&x->manifest,
                   "{\"itemCount\":%zu,\"md5Checksum\":\"%s\",\"etag\":\"%s\","
                   "\"dataFileS3Key\":\"%s/data/%s.%s.gz\"}\n",
                   f->items, b64, hex, x->base, name, x->ion ? "ion" : "json");
    buf_free(&f->gz);
    return ok;
}

static void file_open(struct run *x)
{
    struct dfile *f = &x->f;

    memset(f, 0, sizeof(*f));
    buf_init(&f->gz, 0);
    deflateInit2(&f->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    f->open = true;
}

/* emit - one line (DynamoDB JSON; written as Ion for an ION export) into
 * the current data file (opened, closed when full). */
static bool emit(struct run *x, const char *line, size_t n)
{
    struct buf ion;

    buf_init(&ion, 0);
    if (x->ion) {
        export_ion_line(&ion, line, n);
        line = ion.ptr;
        n = ion.len;
    }
    if (!x->f.open)
        file_open(x);
    file_deflate(&x->f, line, n, Z_NO_FLUSH);
    buf_free(&ion); /* @line may be it */
    file_deflate(&x->f, "\n", 1, Z_NO_FLUSH);
    x->f.items++;
    x->f.raw += n + 1;
    x->items++;
    if (x->f.items >= FILE_ITEMS || x->f.raw >= FILE_BYTES)
        return file_close(x);
    return true;
}

/* ---- changes from the PITR history ---- */

/* One recorded change: the key's text, when it was made, the item before
 * it (NULL: absent). */
struct change {
    char *key;
    char *before; /* item JSON or NULL */
    int64_t ms;
    size_t seq;
};

struct changes {
    struct change *v;
    size_t n, cap;
};

static void changes_free(struct changes *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].key);
        free(c->v[i].before);
    }
    free(c->v);
    memset(c, 0, sizeof(*c));
}

static int change_cmp(const void *a, const void *b)
{
    const struct change *x = a, *y = b;
    int r = strcmp(x->key, y->key);

    return r ? r : (x->seq > y->seq ? -1 : x->seq < y->seq); /* seq: newest first */
}

/* key_text - the canonical text of the key of item @item (owned). */
static char *key_text(const struct table_keys *k, const cJSON *item)
{
    struct buf b;

    buf_init(&b, 0);
    item_key_json(&b, k, item);
    buf_putc(&b, '\0');
    return b.ptr;
}

/* load_changes - every change of table @k recorded after @after (ms), sorted
 * by key, oldest first for each key. */
static enum err_code load_changes(struct store_txn *t, const struct table_keys *k, int64_t after,
                                  struct changes *out, struct err *e)
{
    struct buf pos;
    enum err_code rc = ERR_OK;

    buf_init(&pos, 0);
    for (;;) {
        struct backup_piece p = {0};

        rc = pitr_collect_undo(t, k->id, after, &pos, &p, e);
        for (size_t i = 0; !rc && i < p.n; i++) {
            const struct backup_ent *en = &p.v[i];
            cJSON *img = cJSON_ParseWithLength(en->v, en->vl);
            struct change *c;

            if (!img) {
                rc = err_set(e, ERR_INTERNAL, "corrupt PITR record");
                break;
            }
            if (out->n == out->cap) {
                out->cap = out->cap ? out->cap * 2 : 64;
                out->v = xrealloc(out->v, out->cap * sizeof(*out->v));
            }
            c = &out->v[out->n];
            c->seq = out->n++;
            c->key = key_text(k, img);
            c->before = en->op == 'I' ? xstrndup(en->v, en->vl) : NULL;
            c->ms = 0;
            for (size_t b = 0; b < 8 && b < en->kl; b++)
                c->ms = c->ms << 8 | (unsigned char)en->k[b];
            cJSON_Delete(img);
        }
        bool more = p.n > 0;

        backup_piece_clear(&p);
        if (rc || !more)
            break;
    }
    buf_free(&pos);
    if (!rc && out->n)
        qsort(out->v, out->n, sizeof(*out->v), change_cmp);
    return rc;
}

/* find - the first change of key @key, or NULL. */
static struct change *find(const struct changes *c, const char *key)
{
    size_t lo = 0, hi = c->n;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;

        if (strcmp(c->v[mid].key, key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < c->n && strcmp(c->v[lo].key, key) == 0 ? &c->v[lo] : NULL;
}

static bool emit_item(struct run *x, const char *json, size_t n)
{
    struct buf line;
    cJSON *item = cJSON_ParseWithLength(json, n);
    bool ok;

    if (item)
        x->bytes += attr_item_size(item);
    cJSON_Delete(item);
    buf_init(&line, 0);
    buf_puts(&line, "{\"Item\":");
    buf_append(&line, json, n);
    buf_putc(&line, '}');
    ok = emit(x, line.ptr, line.len);
    buf_free(&line);
    return ok;
}

/* full - the table's items as of @when (ms): the snapshot's items, those
 * changed after @when replaced by what they were then. */
static enum err_code full(struct run *x, struct store_txn *t, const struct table_keys *k,
                          int64_t when, struct err *e)
{
    struct changes ch = {0};
    struct buf pos;
    uint64_t dummy = 0;
    bool *seen = NULL;
    enum err_code rc = load_changes(t, k, when, &ch, e);

    buf_init(&pos, 0);
    if (ch.n)
        seen = xcalloc(ch.n, sizeof(*seen));
    while (!rc && !x->fail_code[0] && !xp_stopping(x->d, x->items > 0)) {
        struct backup_piece p = {0};

        rc = backup_collect(t, k->id, 0, &pos, &p, &dummy, e);
        for (size_t i = 0; !rc && i < p.n && !x->fail_code[0]; i++) {
            const struct backup_ent *en = &p.v[i];
            struct change *c = NULL;

            if (ch.n) {
                cJSON *item = cJSON_ParseWithLength(en->v, en->vl);
                char *key = item ? key_text(k, item) : NULL;

                c = key ? find(&ch, key) : NULL;
                free(key);
                cJSON_Delete(item);
            }
            if (!c)
                emit_item(x, en->v, en->vl);
            else if ((seen[c - ch.v] = true, c->before))
                emit_item(x, c->before, strlen(c->before));
        }
        bool more = p.n > 0;

        backup_piece_clear(&p);
        if (!more)
            break;
    }
    /* items deleted since */
    for (size_t i = 0; !rc && i < ch.n && !x->fail_code[0]; i++)
        if ((i == 0 || strcmp(ch.v[i - 1].key, ch.v[i].key) != 0) && !seen[i] && ch.v[i].before)
            emit_item(x, ch.v[i].before, strlen(ch.v[i].before));
    free(seen);
    changes_free(&ch);
    buf_free(&pos);
    return rc;
}

/* current - the snapshot's item whose key text is @key (owned), or NULL. */
static cJSON *current(struct store_txn *t, const struct table_keys *k, const char *key)
{
    cJSON *kj = cJSON_Parse(key), *item = NULL;
    struct buf sk;
    struct err e = {0};

    buf_init(&sk, 0);
    if (kj && item_key_build(k, kj, true, &sk, &e) == ERR_OK)
        item_read(t, &sk, &item, &e);
    buf_free(&sk);
    cJSON_Delete(kj);
    return item;
}

/* incremental - every item changed in (@from, @to]: its keys, its image at
 * @to (NewImage) and, with @old, at @from (OldImage). */
static enum err_code incremental(struct run *x, struct store_txn *t, const struct table_keys *k,
                                 int64_t from, int64_t to, bool old, struct err *e)
{
    struct changes ch = {0};
    enum err_code rc = load_changes(t, k, from, &ch, e);

    for (size_t i = 0; !rc && i < ch.n && !x->fail_code[0];) {
        size_t j = i, last = i;
        const struct change *after = NULL; /* the first change after @to */
        struct buf line;
        cJSON *now = NULL;
        const char *img = NULL;

        while (j < ch.n && strcmp(ch.v[j].key, ch.v[i].key) == 0) {
            if (ch.v[j].ms <= to)
                last = j;
            else if (!after)
                after = &ch.v[j];
            j++;
        }
        if (ch.v[i].ms > to) { /* changed only after the window */
            i = j;
            continue;
        }
        if (after) {
            img = after->before;
        } else {
            now = current(t, k, ch.v[i].key);
            if (now)
                img = cJSON_PrintUnformatted(now);
        }
        buf_init(&line, 0);
        buf_printf(&line, "{\"Metadata\":{\"WriteTimeMicros\":{\"N\":\"%lld000\"}},\"Keys\":%s",
                   (long long)ch.v[last].ms, ch.v[i].key);
        if (old && ch.v[i].before) {
            buf_printf(&line, ",\"OldImage\":%s", ch.v[i].before);
            x->bytes += strlen(ch.v[i].before);
        }
        if (img) {
            buf_printf(&line, ",\"NewImage\":%s", img);
            x->bytes += strlen(img);
        }
        buf_putc(&line, '}');
        emit(x, line.ptr, line.len);
        buf_free(&line);
        if (now)
            free((char *)img);
        cJSON_Delete(now);
        i = j;
    }
    changes_free(&ch);
    return rc;
}

static char *summary(struct run *x, int64_t end_ms)
{
    cJSON *s = cJSON_CreateObject();
    const cJSON *inc = cJSON_GetObjectItemCaseSensitive(x->rec, "IncrementalExportSpecification");
    char t[48], *text;
    char *mkey = xp_strf("%s/manifest-files.json", x->base);

    cJSON_AddStringToObject(s, "version", "2020-06-30");
    cJSON_AddStringToObject(s, "exportArn", xp_str(x->rec, "ExportArn"));
    export_iso_time((int64_t)(xp_num(x->rec, "StartTime") * 1000 + 0.5), t);
    cJSON_AddStringToObject(s, "startTime", t);
    export_iso_time(end_ms, t);
    cJSON_AddStringToObject(s, "endTime", t);
    cJSON_AddStringToObject(s, "tableArn", xp_str(x->rec, "TableArn"));
    cJSON_AddStringToObject(s, "tableId", xp_str(x->rec, "TableId"));
    if (inc) {
        export_iso_time((int64_t)(xp_num(inc, "ExportFromTime") * 1000 + 0.5), t);
        cJSON_AddStringToObject(s, "exportFromTime", t);
        export_iso_time((int64_t)(xp_num(inc, "ExportToTime") * 1000 + 0.5), t);
        cJSON_AddStringToObject(s, "exportToTime", t);
    } else {
        export_iso_time((int64_t)(xp_num(x->rec, "ExportTime") * 1000 + 0.5), t);
        cJSON_AddStringToObject(s, "exportTime", t);
    }
    cJSON_AddStringToObject(s, "s3Bucket", x->bucket);
    if (xp_str(x->rec, "S3Prefix"))
        cJSON_AddStringToObject(s, "s3Prefix", xp_str(x->rec, "S3Prefix"));
    else
        cJSON_AddNullToObject(s, "s3Prefix");
    cJSON_AddStringToObject(s, "s3SseAlgorithm", xp_str(x->rec, "S3SseAlgorithm"));
    if (x->kms)
        cJSON_AddStringToObject(s, "s3SseKmsKeyId", x->kms);
    else
        cJSON_AddNullToObject(s, "s3SseKmsKeyId");
    cJSON_AddStringToObject(s, "manifestFilesS3Key", mkey);
    cJSON_AddNumberToObject(s, "billedSizeBytes", (double)x->bytes);
    cJSON_AddNumberToObject(s, "itemCount", (double)x->items);
    cJSON_AddStringToObject(s, "outputFormat", x->ion ? "ION" : "DYNAMODB_JSON");
    if (inc) {
        cJSON_AddStringToObject(s, "outputView", xp_str(inc, "ExportViewType"));
        cJSON_AddStringToObject(s, "exportType", "INCREMENTAL_EXPORT");
    }
    text = cJSON_PrintUnformatted(s);
    cJSON_Delete(s);
    free(mkey);
    return text;
}

struct finish {
    const char *arn;
    struct run *x;
    int64_t end;
};

static enum err_code finish_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct finish *f = arg;
    cJSON *rec = NULL;
    enum err_code rc = xp_meta_get(t, xp_export.prefix, f->arn, &rec, e);

    if (rc)
        return rc;
    xp_set_num(rec, "EndTime", (double)f->end / 1000.0);
    if (f->x->fail_code[0]) {
        xp_set_str(rec, "ExportStatus", "FAILED");
        xp_set_str(rec, "FailureCode", f->x->fail_code);
        xp_set_str(rec, "FailureMessage", f->x->fail_msg);
    } else {
        char *m = xp_strf("%s/manifest-summary.json", f->x->base);

        xp_set_str(rec, "ExportStatus", "COMPLETED");
        xp_set_str(rec, "ExportManifest", m);
        xp_set_num(rec, "ItemCount", (double)f->x->items);
        xp_set_num(rec, "BilledSizeBytes", (double)f->x->bytes);
        free(m);
    }
    rc = xp_rec_put(t, &xp_export, rec, e);
    cJSON_Delete(rec);
    return rc;
}

static void write_manifests(struct run *x)
{
    char hex[33];
    char *s;
    int64_t end = clock_wall_ms();

    if (x->fail_code[0])
        return;
    md5_hex(x->manifest.ptr ? x->manifest.ptr : "", x->manifest.len, hex);
    if (!put(x, "manifest-files.json", x->manifest.ptr ? x->manifest.ptr : "", x->manifest.len) ||
        !put(x, "manifest-files.checksum", hex, 32))
        return;
    s = summary(x, end);
    md5_hex(s, strlen(s), hex);
    if (put(x, "manifest-summary.json", s, strlen(s)))
        put(x, "manifest-summary.checksum", hex, 32);
    free(s);
}

static void run_export(struct ddb *d, const char *arn)
{
    struct run x = {.d = d};
    struct store_txn *t = NULL;
    struct table_keys k;
    struct err e = {0};
    const char *prefix, *id, *owner;
    const cJSON *inc;
    struct finish f = {.arn = arn, .x = &x};
    enum err_code rc = store_read_begin(d->store, &t, &e);

    if (!rc)
        rc = xp_meta_get(t, xp_export.prefix, arn, &x.rec, &e);
    store_txn_abort(t);
    t = NULL;
    if (rc) {
        log_warn("event=ddb_export_lost arn=%s err=%s", arn, e.msg);
        return;
    }
    buf_init(&x.manifest, 0);
    x.bucket = xp_str(x.rec, "S3Bucket");
    prefix = xp_str(x.rec, "S3Prefix");
    owner = xp_str(x.rec, "S3BucketOwner");
    x.kms = xp_str(x.rec, "S3SseKmsKeyId");
    x.sse = strcmp(xp_str(x.rec, "S3SseAlgorithm"), "KMS") == 0 ? "aws:kms" : "AES256";
    x.ion = strcmp(xp_str(x.rec, "ExportFormat"), "ION") == 0;
    id = strstr(arn, "/export/") + 8;
    x.base = prefix && *prefix ? xp_strf("%s%sAWSDynamoDB/%s", prefix,
                                         prefix[strlen(prefix) - 1] == '/' ? "" : "/", id)
                               : xp_strf("AWSDynamoDB/%s", id);
    inc = cJSON_GetObjectItemCaseSensitive(x.rec, "IncrementalExportSpecification");
    if (!d->s3)
        fail(&x, "S3Unreachable", "S3 is not available to DynamoDB in this region");
    else if (owner && strcmp(owner, d->account) != 0)
        fail(&x, "S3AccessDenied", "Access Denied: bucket %s is not owned by account %s", x.bucket,
             owner);
    else if (put(&x, "_started", "", 0)) {
        rc = store_read_begin(d->store, &t, &e);
        if (!rc)
            rc = table_keys_get(t, xp_str(x.rec, "_table"), &k, &e);
        if (rc == ERR_NOTFOUND || (!rc && (double)k.id != xp_num(x.rec, "_tid")))
            fail(&x, "TableNotFound", "The table was deleted during the export");
        else if (!rc && inc)
            rc = incremental(&x, t, &k, (int64_t)(xp_num(inc, "ExportFromTime") * 1000 + 0.5),
                             (int64_t)(xp_num(inc, "ExportToTime") * 1000 + 0.5),
                             strcmp(xp_str(inc, "ExportViewType"), "NEW_AND_OLD_IMAGES") == 0, &e);
        else if (!rc)
            rc = full(&x, t, &k, (int64_t)(xp_num(x.rec, "ExportTime") * 1000 + 0.5), &e);
        store_txn_abort(t);
        if (rc && rc != ERR_NOTFOUND)
            fail(&x, "InternalServerError", "%s", e.msg);
        if (!x.fail_code[0] && x.items == 0)
            file_open(&x); /* an empty table still gets one (empty) data file */
        if (!x.fail_code[0])
            file_close(&x);
        write_manifests(&x);
    }
    if (x.f.open) {
        deflateEnd(&x.f.z);
        buf_free(&x.f.gz);
    }
    if (xp_stopping(d, false)) { /* left IN_PROGRESS: FAILED at the next start */
        log_info("event=ddb_export_stopped arn=%s", arn);
    } else {
        f.end = clock_wall_ms();
        rc = store_write(d->store, finish_apply, &f, &e);
        log_info("event=ddb_export_done arn=%s status=%s items=%llu code=%s", arn,
                 x.fail_code[0] ? "FAILED" : "COMPLETED", (unsigned long long)x.items, x.fail_code);
        if (rc)
            log_warn("event=ddb_export_record_failed arn=%s err=%s", arn, e.msg);
    }
    cJSON_Delete(x.rec);
    buf_free(&x.manifest);
    free(x.base);
}

/* ---- ExportTableToPointInTime ---- */

struct req {
    struct ddb_call *c;
    const char *table, *table_arn, *token, *params;
    cJSON *rec; /* the new record (taken) */
    bool has_time, incr;
    int64_t time, from, to, now;
    const char *etype; /* an error to answer with */
    char emsg[400];
    char *out; /* owned: ExportDescription */
    bool existing;
};

bool xp_get_time(struct ddb_call *c, const cJSON *obj, const char *name, int64_t *ms)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, name);

    if (!m || cJSON_IsNull(m))
        return false;
    if (!cJSON_IsNumber(m)) {
        c->serial = true;
        snprintf(c->serial_msg, sizeof(c->serial_msg),
                 "class java.lang.String can not be converted to an Long");
        return false;
    }
    *ms = (int64_t)(m->valuedouble * 1000.0 + 0.5);
    return true;
}

static void req_error(struct req *x, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void req_error(struct req *x, const char *type, const char *fmt, ...)
{
    va_list ap;

    x->etype = type;
    va_start(ap, fmt);
    vsnprintf(x->emsg, sizeof(x->emsg), fmt, ap);
    va_end(ap);
}

static enum err_code req_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct req *x = arg;
    struct table_keys k;
    cJSON *desc = NULL;
    int64_t earliest;
    enum err_code rc;
    char id[40];
    const char *arn;

    if (x->token) {
        rc = xp_token_find(t, &xp_export, x->token, x->params, &x->out, e);
        if (rc == ERR_CONFLICT)
            req_error(x, "ExportConflictException", "%s", e->msg);
        if (rc != ERR_NOTFOUND) {
            x->existing = true;
            return rc;
        }
    }
    rc = table_keys_get(t, x->table, &k, e);
    if (rc == ERR_NOTFOUND) {
        req_error(x, "TableNotFoundException", "Table not found: %s", x->table_arn);
        return rc;
    }
    if (!rc)
        rc = pitr_window(t, k.id, x->now, &earliest, e);
    if (rc == ERR_NOTFOUND) {
        req_error(x, "PointInTimeRecoveryUnavailableException",
                  "Point in time recovery is not enabled for table '%s'", x->table);
        return rc;
    }
    if (rc)
        return rc;
    if (!x->incr && (x->time < earliest || x->time > x->now)) {
        req_error(x, "InvalidExportTimeException",
                  "Export time %.3f is not within the point in time recovery window of the "
                  "table (%.3f to %.3f)",
                  (double)x->time / 1000.0, (double)earliest / 1000.0, (double)x->now / 1000.0);
        return err_set(e, ERR_INVALID, "time");
    }
    if (x->incr && (x->from < earliest || x->to > x->now)) {
        req_error(x, "InvalidExportTimeException",
                  "The export period %.3f to %.3f is not within the point in time recovery "
                  "window of the table (%.3f to %.3f)",
                  (double)x->from / 1000.0, (double)x->to / 1000.0, (double)earliest / 1000.0,
                  (double)x->now / 1000.0);
        return err_set(e, ERR_INVALID, "time");
    }
    rc = table_desc_get(t, x->table, &desc, e);
    if (rc)
        return rc;
    {
        char uuid[37];

        ddb_uuid(uuid);
        snprintf(id, sizeof(id), "%014lld-%.8s", (long long)x->now, uuid);
    }
    arn = arena_sprintf(x->c->a, "%s/export/%s", x->table_arn, id);
    cJSON_AddStringToObject(x->rec, "ExportArn", arn);
    cJSON_AddStringToObject(x->rec, "ExportStatus", "IN_PROGRESS");
    cJSON_AddNumberToObject(x->rec, "StartTime", (double)x->now / 1000.0);
    cJSON_AddStringToObject(x->rec, "TableArn", x->table_arn);
    cJSON_AddStringToObject(x->rec, "TableId",
                            xp_str(desc, "TableId") ? xp_str(desc, "TableId") : "");
    cJSON_Delete(desc);
    if (!x->incr)
        cJSON_AddNumberToObject(x->rec, "ExportTime", (double)x->time / 1000.0);
    cJSON_AddStringToObject(x->rec, "ClientToken", x->token);
    cJSON_AddStringToObject(x->rec, "_table", x->table);
    cJSON_AddNumberToObject(x->rec, "_tid", (double)k.id);
    cJSON_AddStringToObject(x->rec, "_params", x->params);
    rc = xp_rec_put(t, &xp_export, x->rec, e);
    if (!rc)
        rc = xp_token_put(t, &xp_export, x->token, arn, e);
    if (!rc)
        x->out = xp_describe(x->rec);
    return rc;
}

static void req_done(void *arg, enum err_code rc, const struct err *e)
{
    struct req *x = arg;
    cJSON *rec = x->rec; /* the reply frees @x with the call's arena */
    char *out = x->out;
    struct buf b;

    if (x->etype) {
        backup_reply_error(x->c, x->etype, "%s", x->emsg);
    } else if (rc) {
        ddb_reply_err(x->c, rc, e->msg);
    } else {
        if (!x->existing)
            xp_enqueue(x->c->d, &xp_export, xp_str(rec, "ExportArn"));
        buf_init(&b, 0);
        buf_printf(&b, "{\"ExportDescription\":%s}", out);
        ddb_reply(x->c, &b);
    }
    cJSON_Delete(rec);
    free(out);
}

void xp_check_token(struct ddb_call *c, const char *token)
{
    if (token && (!*token || strchr(token, '$')))
        ddb_verr(c,
                 "Value '%.300s' at 'clientToken' failed to satisfy constraint: Member must "
                 "satisfy regular expression pattern: ^[^\\$]+$",
                 token);
}

const char *xp_params(struct ddb_call *c)
{
    cJSON *p = cJSON_Duplicate(c->in, true);
    char *ps;
    const char *out;

    cJSON_DeleteItemFromObjectCaseSensitive(p, "ClientToken");
    ps = cJSON_PrintUnformatted(p);
    out = arena_strdup(c->a, ps);
    free(ps);
    cJSON_Delete(p);
    return out;
}

void xp_add_opt(cJSON *o, const char *name, const char *v)
{
    if (v)
        cJSON_AddStringToObject(o, name, v);
}

void export_table(struct ddb_call *c)
{
    static const char *const sses[] = {"AES256", "KMS", NULL};
    static const char *const fmts[] = {"DYNAMODB_JSON", "ION", NULL};
    static const char *const types[] = {"FULL_EXPORT", "INCREMENTAL_EXPORT", NULL};
    static const char *const views[] = {"NEW_IMAGE", "NEW_AND_OLD_IMAGES", NULL};
    struct req *x = arena_calloc(c->a, sizeof(*x));
    const char *tarn = ddb_arg_str(c, c->in, "TableArn");
    const char *bucket = ddb_arg_str(c, c->in, "S3Bucket");
    const char *owner = ddb_arg_str(c, c->in, "S3BucketOwner");
    const char *prefix = ddb_arg_str(c, c->in, "S3Prefix");
    const char *kms = ddb_arg_str(c, c->in, "S3SseKmsKeyId");
    int sse = ddb_arg_enum(c, c->in, "S3SseAlgorithm", "s3SseAlgorithm", sses);
    int fmt = ddb_arg_enum(c, c->in, "ExportFormat", "exportFormat", fmts);
    int type = ddb_arg_enum(c, c->in, "ExportType", "exportType", types);
    const cJSON *spec = ddb_arg_obj(c, c->in, "IncrementalExportSpecification");
    int view = spec ? ddb_arg_enum(c, spec, "ExportViewType",
                                   "incrementalExportSpecification.exportViewType", views)
                    : -1;
    bool has_from = spec && xp_get_time(c, spec, "ExportFromTime", &x->from);
    bool has_to = spec && xp_get_time(c, spec, "ExportToTime", &x->to);
    int64_t min_ms = 15 * 60 * pitr_day_ms() / 86400, max_ms = pitr_day_ms();

    x->token = ddb_arg_str(c, c->in, "ClientToken");
    x->has_time = xp_get_time(c, c->in, "ExportTime", &x->time);
    if (!tarn)
        ddb_verr_null(c, "tableArn");
    if (!bucket)
        ddb_verr_null(c, "s3Bucket");
    else if (!*bucket || strlen(bucket) > 255)
        ddb_verr(c,
                 "Value '%.300s' at 's3Bucket' failed to satisfy constraint: Member must have "
                 "length less than or equal to 255",
                 bucket);
    if (prefix && strlen(prefix) > 1024)
        ddb_verr(c,
                 "Value '%.300s' at 's3Prefix' failed to satisfy constraint: Member must have "
                 "length less than or equal to 1024",
                 prefix);
    xp_check_token(c, x->token);
    if (ddb_args_failed(c))
        return;
    x->c = c;
    x->now = clock_wall_ms();
    x->incr = type == 1;
    x->table_arn = tarn;
    x->table = ddb_table_name(c->d, tarn);
    if (!x->table || x->table == tarn) {
        if (x->table)
            backup_reply_error(c, "ValidationException", "Invalid TableArn: %s", tarn);
        else
            backup_reply_error(c, "TableNotFoundException", "Table not found: %s", tarn);
        return;
    }
    if (x->incr) {
        if (!spec || !has_from || !has_to) {
            backup_reply_error(c, "ValidationException",
                               "IncrementalExportSpecification with ExportFromTime and "
                               "ExportToTime is required for an INCREMENTAL_EXPORT");
            return;
        }
        if (x->has_time) {
            backup_reply_error(c, "ValidationException",
                               "ExportTime cannot be given for an INCREMENTAL_EXPORT");
            return;
        }
        if (x->to <= x->from || x->to - x->from < min_ms || x->to - x->from > max_ms) {
            backup_reply_error(c, "ValidationException",
                               "The incremental export period must be at least 15 minutes and "
                               "at most 24 hours, ExportFromTime before ExportToTime");
            return;
        }
    } else if (spec) {
        backup_reply_error(c, "ValidationException",
                           "IncrementalExportSpecification can only be given for an "
                           "INCREMENTAL_EXPORT");
        return;
    }
    if (kms && sse != 1) {
        backup_reply_error(c, "ValidationException",
                           "S3SseKmsKeyId can only be given with S3SseAlgorithm KMS");
        return;
    }
    if (!x->has_time)
        x->time = x->now;
    /* what idempotency compares: the request's members but ClientToken */
    x->params = xp_params(c);
    if (!x->token) {
        char *u = arena_alloc(c->a, 37);

        ddb_uuid(u);
        x->token = u;
    }
    x->rec = cJSON_CreateObject();
    cJSON_AddStringToObject(x->rec, "S3Bucket", bucket);
    xp_add_opt(x->rec, "S3BucketOwner", owner);
    xp_add_opt(x->rec, "S3Prefix", prefix);
    cJSON_AddStringToObject(x->rec, "S3SseAlgorithm", sse == 1 ? "KMS" : "AES256");
    xp_add_opt(x->rec, "S3SseKmsKeyId", kms);
    cJSON_AddStringToObject(x->rec, "ExportFormat", fmts[fmt < 0 ? 0 : fmt]);
    if (type >= 0)
        cJSON_AddStringToObject(x->rec, "ExportType", types[type]);
    if (x->incr) {
        cJSON *s = cJSON_AddObjectToObject(x->rec, "IncrementalExportSpecification");

        cJSON_AddNumberToObject(s, "ExportFromTime", (double)x->from / 1000.0);
        cJSON_AddNumberToObject(s, "ExportToTime", (double)x->to / 1000.0);
        cJSON_AddStringToObject(s, "ExportViewType",
                                view == 0 ? "NEW_IMAGE" : "NEW_AND_OLD_IMAGES");
    }
    store_submit(c->d->store, req_apply, req_done, x);
}

/* ---- DescribeExport, ListExports ---- */

void xp_describe_call(struct ddb_call *c, const struct xp_kind *kind, const char *member,
                      const char *notfound)
{
    const char *arn = ddb_arg_str(c, c->in, kind->arn);
    struct store_txn *t = NULL;
    struct err e = {0};
    cJSON *rec = NULL;
    struct buf b;
    char *out;
    enum err_code rc;

    if (!arn)
        ddb_verr(c, "Value null at '%c%s' failed to satisfy constraint: Member must not be null",
                 kind->arn[0] + 'a' - 'A', kind->arn + 1);
    else if (strlen(arn) < 37 || strlen(arn) > 1024)
        ddb_verr(c,
                 "Value '%.300s' at '%c%s' failed to satisfy constraint: Member must have "
                 "length %s",
                 arn, kind->arn[0] + 'a' - 'A', kind->arn + 1,
                 strlen(arn) < 37 ? "greater than or equal to 37" : "less than or equal to 1024");
    if (ddb_args_failed(c))
        return;
    rc = store_read_begin(c->d->store, &t, &e);
    if (!rc)
        rc = xp_meta_get(t, kind->prefix, arn, &rec, &e);
    store_txn_abort(t);
    if (rc == ERR_NOTFOUND) {
        backup_reply_error(c, notfound, "%s not found: %s",
                           kind == &xp_export ? "Export" : "Import", arn);
        return;
    }
    if (rc) {
        ddb_reply_err(c, rc, e.msg);
        return;
    }
    out = xp_describe(rec);
    cJSON_Delete(rec);
    buf_init(&b, 0);
    buf_printf(&b, "{\"%s\":%s}", member, out);
    free(out);
    ddb_reply(c, &b);
}

void export_describe(struct ddb_call *c)
{
    xp_describe_call(c, &xp_export, "ExportDescription", "ExportNotFoundException");
}

struct list {
    const struct xp_kind *kind;
    const char *table_arn;
    const char *const *members;
    int64_t max;
    cJSON *out;
    char *last;
    bool more;
};

static bool list_one(void *arg, const cJSON *rec)
{
    struct list *x = arg;
    cJSON *s;

    if (x->table_arn && strcmp(x->table_arn, xp_str(rec, "TableArn")) != 0)
        return true;
    if (cJSON_GetArraySize(x->out) >= x->max) {
        x->more = true;
        return false;
    }
    s = cJSON_CreateObject();
    for (size_t i = 0; x->members[i]; i++) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(rec, x->members[i]);

        if (m)
            cJSON_AddItemToObject(s, x->members[i], cJSON_Duplicate(m, true));
    }
    cJSON_AddItemToArray(x->out, s);
    free(x->last);
    x->last = xstrdup(xp_str(rec, x->kind->arn));
    return true;
}

void xp_list(struct ddb_call *c, const struct xp_kind *kind, const char *max_member,
             const char *list_member, const char *const *members)
{
    struct list x = {.kind = kind, .members = members};
    const char *next = ddb_arg_str(c, c->in, "NextToken");
    bool has_max = ddb_arg_int(c, c->in, max_member, &x.max);
    struct store_txn *t = NULL;
    struct err e = {0};
    cJSON *o;
    char *text;
    struct buf b;
    enum err_code rc;

    x.table_arn = ddb_arg_str(c, c->in, "TableArn");
    if (has_max && (x.max < 1 || x.max > 25))
        ddb_verr(c,
                 "Value '%lld' at '%c%s' failed to satisfy constraint: Member must have "
                 "value %s",
                 (long long)x.max, max_member[0] + 'a' - 'A', max_member + 1,
                 x.max < 1 ? "greater than or equal to 1" : "less than or equal to 25");
    if (ddb_args_failed(c))
        return;
    if (!has_max)
        x.max = 25;
    x.out = cJSON_CreateArray();
    rc = store_read_begin(c->d->store, &t, &e);
    if (!rc)
        rc = xp_each(t, kind, next, list_one, &x, &e);
    store_txn_abort(t);
    if (rc) {
        cJSON_Delete(x.out);
        free(x.last);
        ddb_reply_err(c, rc, e.msg);
        return;
    }
    o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, list_member, x.out);
    if (x.more && x.last)
        cJSON_AddStringToObject(o, "NextToken", x.last);
    text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    free(x.last);
    buf_init(&b, 0);
    buf_puts(&b, text);
    free(text);
    ddb_reply(c, &b);
}

void export_list(struct ddb_call *c)
{
    static const char *const members[] = {"ExportArn", "ExportStatus", "ExportType", NULL};

    xp_list(c, &xp_export, "MaxResults", "ExportSummaries", members);
}

/* ---- authorization ---- */

const char *export_auth_resource(struct ddb_call *c)
{
    static const char *const ops[][2] = {{"ExportTableToPointInTime", "TableArn"},
                                         {"DescribeExport", "ExportArn"},
                                         {"ListExports", NULL},
                                         {"DescribeImport", "ImportArn"},
                                         {"ListImports", NULL}};

    if (strcmp(c->op, "ImportTable") == 0) {
        const cJSON *tcp = cJSON_GetObjectItemCaseSensitive(c->in, "TableCreationParameters");
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(tcp, "TableName");

        return arena_sprintf(c->a, "arn:aws:dynamodb:%s:%s:table/%s", c->d->region, c->d->account,
                             cJSON_IsString(n) ? n->valuestring : "");
    }
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        if (strcmp(c->op, ops[i][0]) == 0) {
            const cJSON *t = ops[i][1] ? cJSON_GetObjectItemCaseSensitive(c->in, ops[i][1]) : NULL;

            return cJSON_IsString(t) ? t->valuestring : "*";
        }
    return NULL;
}

const char *export_target_action(struct ddb_call *c, size_t i, const char **resource)
{
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(c->in, "S3BucketSource");
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(c->in, "S3Bucket");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(c->in, "S3Prefix");

    if (strcmp(c->op, "ImportTable") == 0) { /* s3:GetObject, s3:ListBucket */
        b = cJSON_GetObjectItemCaseSensitive(src, "S3Bucket");
        p = cJSON_GetObjectItemCaseSensitive(src, "S3KeyPrefix");
        if (i > 1 || !cJSON_IsString(b))
            return NULL;
        *resource = i ? arena_sprintf(c->a, "arn:aws:s3:::%s", b->valuestring)
                      : arena_sprintf(c->a, "arn:aws:s3:::%s/%s", b->valuestring,
                                      cJSON_IsString(p) ? p->valuestring : "");
        return i ? "s3:ListBucket" : "s3:GetObject";
    }
    if (strcmp(c->op, "ExportTableToPointInTime") != 0 || i > 0 || !cJSON_IsString(b))
        return NULL;
    *resource = arena_sprintf(c->a, "arn:aws:s3:::%s/%s%sAWSDynamoDB/", b->valuestring,
                              cJSON_IsString(p) ? p->valuestring : "",
                              cJSON_IsString(p) && *p->valuestring &&
                                      p->valuestring[strlen(p->valuestring) - 1] != '/'
                                  ? "/"
                                  : "");
    return "s3:PutObject";
}
