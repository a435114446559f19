/* export_run.c - an export's run on the export thread (export.h): the
 * table read from one snapshot in pieces (as of ExportTime, undoing the PITR
 * history after it, or the changes of an incremental export's period),
 * written as gzip data files, then the manifests, then the record. */
#include "export.h"

#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "attr.h"
#include "backup.h"
#include "clock.h"
#include "codec.h"
#include "item.h"
#include "log.h"
#include "mem.h"

/* data files end at this many items or uncompressed bytes */
enum { FILE_ITEMS = 100000, FILE_BYTES = 32 << 20 };

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

/* md5_b64 - the base64 MD5 of @p: what a manifest's .md5 object holds */
static void md5_b64(const void *p, size_t n, char out[25])
{
    unsigned char d[16];

    md5(p, n, d);
    base64_encode(d, 16, out);
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
    cJSON_AddStringToObject(s, "exportArn", json_str(x->rec, "ExportArn"));
    export_iso_time((int64_t)(json_num(x->rec, "StartTime") * 1000 + 0.5), t);
    cJSON_AddStringToObject(s, "startTime", t);
    export_iso_time(end_ms, t);
    cJSON_AddStringToObject(s, "endTime", t);
    cJSON_AddStringToObject(s, "tableArn", json_str(x->rec, "TableArn"));
    cJSON_AddStringToObject(s, "tableId", json_str(x->rec, "TableId"));
    if (inc) {
        export_iso_time((int64_t)(json_num(inc, "ExportFromTime") * 1000 + 0.5), t);
        cJSON_AddStringToObject(s, "exportFromTime", t);
        export_iso_time((int64_t)(json_num(inc, "ExportToTime") * 1000 + 0.5), t);
        cJSON_AddStringToObject(s, "exportToTime", t);
    } else {
        export_iso_time((int64_t)(json_num(x->rec, "ExportTime") * 1000 + 0.5), t);
        cJSON_AddStringToObject(s, "exportTime", t);
    }
    cJSON_AddStringToObject(s, "s3Bucket", x->bucket);
    if (json_str(x->rec, "S3Prefix"))
        cJSON_AddStringToObject(s, "s3Prefix", json_str(x->rec, "S3Prefix"));
    else
        cJSON_AddNullToObject(s, "s3Prefix");
    cJSON_AddStringToObject(s, "s3SseAlgorithm", json_str(x->rec, "S3SseAlgorithm"));
    if (x->kms)
        cJSON_AddStringToObject(s, "s3SseKmsKeyId", x->kms);
    else
        cJSON_AddNullToObject(s, "s3SseKmsKeyId");
    cJSON_AddStringToObject(s, "manifestFilesS3Key", mkey);
    cJSON_AddNumberToObject(s, "billedSizeBytes", (double)x->bytes);
    cJSON_AddNumberToObject(s, "itemCount", (double)x->items);
    cJSON_AddStringToObject(s, "outputFormat", x->ion ? "ION" : "DYNAMODB_JSON");
    if (inc) {
        cJSON_AddStringToObject(s, "outputView", json_str(inc, "ExportViewType"));
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
    char b64[25];
    char *s;
    int64_t end = clock_wall_ms();

    if (x->fail_code[0])
        return;
    /* DynamoDB's names and contents: manifest-*.md5, the base64 MD5 */
    md5_b64(x->manifest.ptr ? x->manifest.ptr : "", x->manifest.len, b64);
    if (!put(x, "manifest-files.json", x->manifest.ptr ? x->manifest.ptr : "", x->manifest.len) ||
        !put(x, "manifest-files.md5", b64, strlen(b64)))
        return;
    s = summary(x, end);
    md5_b64(s, strlen(s), b64);
    if (put(x, "manifest-summary.json", s, strlen(s)))
        put(x, "manifest-summary.md5", b64, strlen(b64));
    free(s);
}

void export_run(struct ddb *d, const char *arn)
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
    x.bucket = json_str(x.rec, "S3Bucket");
    prefix = json_str(x.rec, "S3Prefix");
    owner = json_str(x.rec, "S3BucketOwner");
    x.kms = json_str(x.rec, "S3SseKmsKeyId");
    x.sse = strcmp(json_str(x.rec, "S3SseAlgorithm"), "KMS") == 0 ? "aws:kms" : "AES256";
    x.ion = strcmp(json_str(x.rec, "ExportFormat"), "ION") == 0;
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
            rc = table_keys_get(t, json_str(x.rec, "_table"), &k, &e);
        if (rc == ERR_NOTFOUND || (!rc && (double)k.id != json_num(x.rec, "_tid")))
            fail(&x, "TableNotFound", "The table was deleted during the export");
        else if (!rc && inc)
            rc =
                incremental(&x, t, &k, (int64_t)(json_num(inc, "ExportFromTime") * 1000 + 0.5),
                            (int64_t)(json_num(inc, "ExportToTime") * 1000 + 0.5),
                            strcmp(json_str(inc, "ExportViewType"), "NEW_AND_OLD_IMAGES") == 0, &e);
        else if (!rc)
            rc = full(&x, t, &k, (int64_t)(json_num(x.rec, "ExportTime") * 1000 + 0.5), &e);
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
