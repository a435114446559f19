/* import.c - ImportTable, DescribeImport, ListImports and the import's run
 * on the export thread (export.h).
 *
 * ImportTable creates the table through CreateTable's own path
 * (table_create_filled) with "_importing" in its descriptor (DescribeTable:
 * CREATING; DeleteTable refused) and TKEY_RESTORING in its key record (its
 * items are not served before it is ACTIVE; a table whose import a restart
 * cut off is removed at the next start, as a restore's is, see backup.h),
 * and records the import, IN_PROGRESS, in the same store write. The thread
 * then lists the objects under S3KeyPrefix (DYNAMODB_JSON, ION or CSV),
 * reads each as its body arrives, decompressing it (GZIP, ZSTD or NONE) and
 * cutting it into lines as the pieces come (import_read.h: only the
 * unfinished line is held), and writes its good lines as items, a piece (backup_piece_items items
 * or 4 MiB) per store write, keeping the table's counters and indexes; a line that is not an item
 * of the table counts in ErrorCount. At the end the table becomes ACTIVE and the import COMPLETED
 * (no object under the prefix: an empty table), or FAILED with ItemValidationError when lines
 * were skipped (the table, with the items that passed, is kept); when S3 fails the import is
 * FAILED and the table removed. */
#include "export.h"
#include "import_read.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "backup.h"
#include "clock.h"
#include "item.h"
#include "log.h"
#include "mem.h"
#include "table.h"

/* ---- one line ---- */

enum err_code import_parse_line(const struct import_format *f, const struct table_keys *k,
                                const char *line, size_t n, cJSON **out, struct err *e)
{
    cJSON *root = NULL, *item = NULL;
    struct buf key;
    enum err_code rc;

    *out = NULL;
    if (f->csv) {
        rc = import_csv_item(f, k, line, n, &item, e);
        if (rc)
            return rc;
    } else {
        if (f->ion)
            export_ion_parse(line, n, &root, e);
        else
            root = cJSON_ParseWithLength(line, n);
        if (!cJSON_IsObject(root) ||
            !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(root, "Item"))) {
            cJSON_Delete(root);
            return err_set(e, ERR_INVALID, "not a DynamoDB JSON item line");
        }
        item = cJSON_DetachItemFromObjectCaseSensitive(root, "Item");
        cJSON_Delete(root);
    }
    rc = attr_validate_item(item, e);
    /* an attribute without a name is no item: DynamoDB counts the line an error */
    if (!rc && cJSON_GetObjectItemCaseSensitive(item, ""))
        rc = err_set(e, ERR_INVALID, "an attribute name is empty");
    buf_init(&key, 0);
    if (!rc)
        rc = item_key_build(k, item, false, &key, e);
    buf_free(&key);
    if (!rc && attr_item_size(item) > DDB_ITEM_MAX)
        rc = err_set(e, ERR_INVALID, "Item size has exceeded the maximum allowed size");
    if (rc) {
        cJSON_Delete(item);
        return rc;
    }
    *out = item;
    return ERR_OK;
}

/* csv_field - the next field of @line at *@pos (quoted fields with ""
 * escapes) into @out; false at the end of the line. */
static bool csv_field(const char *line, size_t n, size_t *pos, char delim, struct buf *out,
                      bool *bad)
{
    size_t i = *pos;

    buf_reset(out);
    if (i > n)
        return false;
    if (i < n && line[i] == '"') {
        for (i++;; i++) {
            if (i >= n) {
                *bad = true; /* no closing quote */
                break;
            }
            if (line[i] == '"') {
                if (i + 1 < n && line[i + 1] == '"') {
                    buf_putc(out, '"');
                    i++;
                    continue;
                }
                i++;
                break;
            }
            buf_putc(out, line[i]);
        }
        if (i < n && line[i] != delim)
            *bad = true;
    } else {
        while (i < n && line[i] != delim)
            buf_putc(out, line[i++]);
    }
    *pos = i + 1; /* past the delimiter, or past the end */
    buf_putc(out, '\0');
    return true;
}

/* csv_split - the fields of @line (owned strings into @v, at most @max). */
static size_t csv_split(const struct import_format *f, const char *line, size_t n, char **v,
                        size_t max, bool *bad)
{
    struct buf fb;
    size_t pos = 0, cnt = 0;

    buf_init(&fb, 0);
    while (csv_field(line, n, &pos, f->delim, &fb, bad)) {
        if (cnt == max) {
            *bad = true;
            break;
        }
        v[cnt++] = xstrdup(fb.ptr);
    }
    buf_free(&fb);
    return cnt;
}

void import_csv_header(struct import_format *f, const char *line, size_t n)
{
    bool bad = false;

    f->ncols = csv_split(f, line, n, f->cols, IMPORT_COLS_MAX, &bad);
}

void import_format_free(struct import_format *f)
{
    for (size_t i = 0; i < f->ncols; i++)
        free(f->cols[i]);
    f->ncols = 0;
}

enum err_code import_csv_item(const struct import_format *f, const struct table_keys *k,
                              const char *line, size_t n, cJSON **out, struct err *e)
{
    char *v[IMPORT_COLS_MAX];
    bool bad = false;
    size_t cnt = csv_split(f, line, n, v, IMPORT_COLS_MAX, &bad);
    cJSON *item = cJSON_CreateObject();

    if (cnt != f->ncols)
        bad = true;
    for (size_t i = 0; i < cnt && !bad; i++) {
        const char *type = "S";

        if (strcmp(f->cols[i], k->hash) == 0)
            type = k->htype == KEYS_N ? "N" : k->htype == KEYS_B ? "B" : "S";
        else if (k->has_range && strcmp(f->cols[i], k->range) == 0)
            type = k->rtype == KEYS_N ? "N" : k->rtype == KEYS_B ? "B" : "S";
        if (!v[i][0] && strcmp(type, "S") == 0 && strcmp(f->cols[i], k->hash) != 0 &&
            !(k->has_range && strcmp(f->cols[i], k->range) == 0))
            continue; /* an empty value: no attribute */
        cJSON *av = cJSON_AddObjectToObject(item, f->cols[i]);

        if (!av) /* the same column twice */
            bad = true;
        else
            cJSON_AddStringToObject(av, type, v[i]);
    }
    for (size_t i = 0; i < cnt; i++)
        free(v[i]);
    if (bad) {
        cJSON_Delete(item);
        return err_set(e, ERR_INVALID, "the CSV line does not match the header");
    }
    *out = item;
    return ERR_OK;
}

/* ---- the run ---- */

struct imp {
    struct ddb *d;
    cJSON *rec;
    struct table_keys k;
    struct import_format f;
    struct backup_piece piece; /* op 'I': item JSON */
    uint64_t processed, imported, errors, bytes;
    bool header; /* the object's next line is its CSV header */
    char fail_code[64], fail_msg[400];
};

static enum err_code piece_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct imp *x = arg;
    struct table_keys k;
    enum err_code rc = table_keys_get_any(t, json_str(x->rec, "_table"), &k, e);

    if (!rc && k.id != x->k.id)
        rc = err_set(e, ERR_NOTFOUND, "the table is gone");
    for (size_t i = 0; !rc && i < x->piece.n; i++) {
        const struct backup_ent *en = &x->piece.v[i];
        cJSON *item = cJSON_ParseWithLength(en->v, en->vl);

        rc = item ? backup_item_set(t, &k, en->v, en->vl, item, e)
                  : err_set(e, ERR_INTERNAL, "corrupt item");
        cJSON_Delete(item);
    }
    return rc;
}

static bool flush(struct imp *x)
{
    struct err e = {0};

    if (!x->piece.n)
        return true;
    if (store_write(x->d->store, piece_apply, x, &e)) {
        snprintf(x->fail_code, sizeof(x->fail_code), "InternalServerError");
        snprintf(x->fail_msg, sizeof(x->fail_msg), "%s", e.msg);
    } else {
        x->imported += x->piece.n;
    }
    backup_piece_clear(&x->piece);
    return !x->fail_code[0] && !xp_stopping(x->d, true);
}

/* one_line - a line of the object (import_line_fn); @line NULL: a line
 * longer than any item's, @n bytes, one error. */
static bool one_line(void *arg, const char *line, size_t n)
{
    struct imp *x = arg;
    cJSON *item = NULL;
    struct err e = {0};
    char *text;
    size_t blank = 0;

    /* an empty or blank line is no line at all, as DynamoDB counts them */
    while (line && blank < n && (line[blank] == ' ' || line[blank] == '\t' || line[blank] == '\r'))
        blank++;
    if (line && blank == n)
        return true;
    if (line && line[n - 1] == '\r')
        n--;
    if (x->header) { /* a CSV file's first line names its columns */
        import_format_free(&x->f);
        if (line)
            import_csv_header(&x->f, line, n);
        x->header = false;
        return true;
    }
    x->processed++;
    if (!line || import_parse_line(&x->f, &x->k, line, n, &item, &e)) {
        x->errors++;
        return true;
    }
    text = cJSON_PrintUnformatted(item);
    cJSON_Delete(item);
    backup_piece_add(&x->piece, 'I', NULL, 0, text, strlen(text));
    free(text);
    return !backup_piece_full(&x->piece) || flush(x);
}

/* the FailureCode of an import that skipped lines which are not items */
#define ITEM_VALIDATION "ItemValidationError"

static void fail(struct imp *x, const char *code, const char *msg)
{
    if (x->fail_code[0])
        return;
    snprintf(x->fail_code, sizeof(x->fail_code), "%s", code);
    snprintf(x->fail_msg, sizeof(x->fail_msg), "%s", msg);
}

/* object_data - a piece of the object's body (ddb_s3.get). */
static bool object_data(void *arg, const void *p, size_t n)
{
    return import_reader_feed(arg, p, n);
}

static bool one_object(struct imp *x, const char *bucket, const char *key, char comp)
{
    struct import_reader rd;
    struct ddb_s3_err er = {0};
    bool ok = true;
    int st;

    x->header = x->f.csv && !x->f.header_given;
    import_reader_init(&rd, comp, one_line, x);
    st = x->d->s3->get(x->d->s3->ud, bucket, key, object_data, &rd, &er);
    if (rd.stopped) { /* the store failed, or the server is stopping */
        ok = false;
    } else if (st != 200 && !rd.bad) {
        char msg[400];

        snprintf(msg, sizeof(msg), "%s: %s%s%s", key, er.code[0] ? er.code : "unreachable",
                 er.msg[0] ? ": " : "", er.msg);
        fail(x, export_s3_fail(st, &er), msg);
        ok = false;
    } else if (!import_reader_end(&rd)) {
        if (rd.stopped)
            ok = false;
        else /* not gzip or zstd, or cut short: what is left of the object is one error */
            x->errors++;
    }
    x->bytes += rd.bytes; /* ProcessedSizeBytes: the object's bytes, uncompressed */
    import_reader_free(&rd);
    return ok;
}

struct fin {
    struct imp *x;
    const char *arn;
    uint64_t ids[BACKUP_IDS_MAX];
    size_t nids;
};

static enum err_code fin_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct fin *f = arg;
    struct imp *x = f->x;
    const char *name = json_str(x->rec, "_table");
    cJSON *rec = NULL, *desc = NULL;
    struct table_keys k;
    enum err_code rc = xp_meta_get(t, xp_import.prefix, f->arn, &rec, e);

    f->nids = 0;
    if (rc)
        return rc;
    xp_set_num(rec, "EndTime", (double)clock_wall_ms() / 1000.0);
    xp_set_num(rec, "ProcessedItemCount", (double)x->processed);
    xp_set_num(rec, "ImportedItemCount", (double)x->imported);
    xp_set_num(rec, "ErrorCount", (double)x->errors);
    if (x->bytes) /* absent until something was read, as DynamoDB answers */
        xp_set_num(rec, "ProcessedSizeBytes", (double)x->bytes);
    xp_set_str(rec, "ImportStatus", x->fail_code[0] ? "FAILED" : "COMPLETED");
    if (x->fail_code[0]) {
        xp_set_str(rec, "FailureCode", x->fail_code);
        xp_set_str(rec, "FailureMessage", x->fail_msg);
    }
    rc = xp_rec_put(t, &xp_import, rec, e);
    cJSON_Delete(rec);
    if (!rc)
        rc = table_keys_get_any(t, name, &k, e);
    if (rc == ERR_NOTFOUND || (!rc && k.id != x->k.id))
        return ERR_OK;
    /* a failed import leaves no table, but one whose items did not all pass
     * keeps what did (ItemValidationError), as DynamoDB does */
    if (!rc && x->fail_code[0] && strcmp(x->fail_code, ITEM_VALIDATION) != 0)
        return backup_table_remove(t, name, k.id, f->ids, &f->nids, e);
    if (!rc)
        rc = table_desc_get(t, name, &desc, e);
    if (!rc) {
        cJSON_DeleteItemFromObjectCaseSensitive(desc, "_importing");
        rc = table_desc_put(t, name, desc, e);
    }
    if (!rc)
        rc = table_keys_set_restoring(t, name, false, e);
    cJSON_Delete(desc);
    return rc;
}

void import_run(struct ddb *d, const char *arn)
{
    struct imp x = {.d = d};
    struct store_txn *t = NULL;
    struct err e = {0};
    struct buf keys;
    struct ddb_s3_err er = {0};
    struct fin f = {.x = &x, .arn = arn};
    const cJSON *src, *csv;
    const char *bucket, *prefix, *owner, *comp;
    enum err_code rc = store_read_begin(d->store, &t, &e);

    if (!rc)
        rc = xp_meta_get(t, xp_import.prefix, arn, &x.rec, &e);
    if (!rc)
        rc = table_keys_get_any(t, json_str(x.rec, "_table"), &x.k, &e);
    store_txn_abort(t);
    if (rc || (double)x.k.id != json_num(x.rec, "_tid")) {
        log_warn("event=ddb_import_lost arn=%s err=%s", arn, e.msg);
        cJSON_Delete(x.rec);
        return;
    }
    src = cJSON_GetObjectItemCaseSensitive(x.rec, "S3BucketSource");
    bucket = json_str(src, "S3Bucket");
    prefix = json_str(src, "S3KeyPrefix");
    owner = json_str(src, "S3BucketOwner");
    comp = json_str(x.rec, "InputCompressionType");
    csv = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(x.rec, "InputFormatOptions"), "Csv");
    import_format_init(&x.f, json_str(x.rec, "InputFormat"), csv);
    buf_init(&keys, 0);
    if (!d->s3) {
        fail(&x, "S3Unreachable", "S3 is not available to DynamoDB in this region");
    } else if (owner && strcmp(owner, d->account) != 0) {
        fail(&x, "S3AccessDenied", "Access Denied: the bucket is not owned by that account");
    } else {
        int st = d->s3->list(d->s3->ud, bucket, prefix ? prefix : "", &keys, &er);

        if (st != 200) {
            char msg[400];

            snprintf(msg, sizeof(msg), "%s%s%s", er.code[0] ? er.code : "S3 is unreachable",
                     er.msg[0] ? ": " : "", er.msg);
            fail(&x, export_s3_fail(st, &er), msg);
        }
        /* no object under the prefix is an import of nothing: the empty table
         * is kept and the import COMPLETED, as DynamoDB does */
    }
    for (size_t i = 0; !x.fail_code[0] && i < keys.len;) {
        const char *key = keys.ptr + i;

        if (!one_object(&x, bucket, key,
                        !comp || strcmp(comp, "NONE") == 0 ? 0
                        : comp[0] == 'G'                   ? 'g'
                                                           : 'z'))
            break;
        i += strlen(key) + 1;
    }
    if (!x.fail_code[0])
        flush(&x);
    if (!x.fail_code[0] && x.errors)
        fail(&x, ITEM_VALIDATION,
             "Some of the items failed validation checks and were not imported.");
    backup_piece_clear(&x.piece);
    if (xp_stopping(d, false)) {
        log_info("event=ddb_import_stopped arn=%s", arn);
    } else {
        rc = store_write(d->store, fin_apply, &f, &e);
        if (!rc && f.nids)
            for (size_t i = 0; i < f.nids; i++)
                backup_job_drop(d, f.ids[i]);
        log_info("event=ddb_import_done arn=%s status=%s items=%llu errors=%llu code=%s", arn,
                 x.fail_code[0] ? "FAILED" : "COMPLETED", (unsigned long long)x.imported,
                 (unsigned long long)x.errors, x.fail_code);
        if (rc)
            log_warn("event=ddb_import_record_failed arn=%s err=%s", arn, e.msg);
    }
    import_format_free(&x.f);
    buf_free(&keys);
    cJSON_Delete(x.rec);
}

void import_format_init(struct import_format *f, const char *format, const cJSON *opts)
{
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(opts, "HeaderList"), *col;
    const char *d = json_str(opts, "Delimiter");

    memset(f, 0, sizeof(*f));
    f->csv = strcmp(format, "CSV") == 0;
    f->ion = strcmp(format, "ION") == 0;
    f->delim = d && *d ? *d : ',';
    cJSON_ArrayForEach(col, h)
    {
        if (cJSON_IsString(col) && f->ncols < IMPORT_COLS_MAX)
            f->cols[f->ncols++] = xstrdup(col->valuestring);
    }
    f->header_given = f->ncols > 0;
}

/* ---- ImportTable ---- */

struct req {
    struct ddb_call *c;
    struct table_fill fill; /* used by the store's writer thread: not on the stack */
    const char *token, *params;
    cJSON *rec;
    char *out; /* owned: ImportTableDescription */
};

static enum err_code req_fill(struct store_txn *t, void *arg, const char *name, cJSON *desc,
                              struct err *e)
{
    struct req *x = arg;
    char uuid[37], *arn;
    int64_t now = clock_wall_ms();
    enum err_code rc;

    ddb_uuid(uuid);
    arn = xp_strf("%s/import/%014lld-%.8s", json_str(desc, "TableArn"), (long long)now, uuid);
    cJSON_AddTrueToObject(desc, "_importing");
    rc = table_keys_set_restoring(t, name, true, e); /* its items not served till ACTIVE */
    if (rc) {
        free(arn);
        return rc;
    }
    xp_set_str(x->rec, "ImportArn", arn);
    xp_set_str(x->rec, "ImportStatus", "IN_PROGRESS");
    xp_set_str(x->rec, "TableArn", json_str(desc, "TableArn"));
    xp_set_str(x->rec, "TableId", json_str(desc, "TableId"));
    xp_set_num(x->rec, "StartTime", (double)now / 1000.0);
    xp_set_str(x->rec, "_table", name);
    xp_set_num(x->rec, "_tid", json_num(desc, "_id"));
    rc = xp_rec_put(t, &xp_import, x->rec, e);
    if (!rc)
        rc = xp_token_put(t, &xp_import, x->token, arn, e);
    free(x->out);
    x->out = rc ? NULL : xp_describe(x->rec);
    free(arn);
    return rc;
}

static void req_created(struct ddb_call *sub, int status, struct buf *body)
{
    struct req *x = sub->hook_arg;
    struct ddb_call *c = x->c;
    char *out = x->out;
    cJSON *rec = x->rec;
    struct buf b;

    buf_init(&b, 0);
    if (status == 200 && out) {
        xp_enqueue(c->d, &xp_import, json_str(rec, "ImportArn"));
        buf_printf(&b, "{\"ImportTableDescription\":%s}", out);
        ddb_reply(c, &b);
    } else if (memmem(body->ptr, body->len, "TableAlreadyExistsException", 27)) {
        /* CreateTable's words for a restore; ImportTable answers as CreateTable does */
        const cJSON *tcp = cJSON_GetObjectItemCaseSensitive(rec, "TableCreationParameters");

        buf_free(&b);
        ddb_reply_type(c, "ResourceInUseException", "Table already exists: %s",
                       json_str(tcp, "TableName"));
    } else {
        buf_append(&b, body->ptr, body->len);
        ddb_reply_status(c, status, &b);
    }
    free(out);
    cJSON_Delete(rec);
}

void import_table(struct ddb_call *c)
{
    static const char *const fmts[] = {"DYNAMODB_JSON", "ION", "CSV", NULL};
    static const char *const comps[] = {"GZIP", "ZSTD", "NONE", NULL};
    struct req *x = arena_calloc(c->a, sizeof(*x));
    const cJSON *src = ddb_arg_obj(c, c->in, "S3BucketSource");
    const char *bucket = src ? ddb_arg_str(c, src, "S3Bucket") : NULL;
    const char *prefix = src ? ddb_arg_str(c, src, "S3KeyPrefix") : NULL;
    int fmt = ddb_arg_enum(c, c->in, "InputFormat", "inputFormat", fmts);
    int comp = ddb_arg_enum(c, c->in, "InputCompressionType", "inputCompressionType", comps);
    const cJSON *opts = ddb_arg_obj(c, c->in, "InputFormatOptions");
    const cJSON *tcp = ddb_arg_obj(c, c->in, "TableCreationParameters");
    const cJSON *csv = opts ? ddb_arg_obj(c, opts, "Csv") : NULL;
    const char *delim = csv ? ddb_arg_str(c, csv, "Delimiter") : NULL;
    struct store_txn *t = NULL;
    struct err e = {0};
    struct ddb_call *sub;
    enum err_code rc;

    x->token = ddb_arg_str(c, c->in, "ClientToken");
    if (!src)
        ddb_verr_null(c, "s3BucketSource");
    else
        xp_check_bucket(c, bucket, "s3BucketSource.s3Bucket");
    ddb_check_len(c, prefix, "s3BucketSource.s3KeyPrefix", 0, 1024, false);
    xp_check_owner(c, src ? ddb_arg_str(c, src, "S3BucketOwner") : NULL,
                   "s3BucketSource.s3BucketOwner");
    if (fmt < 0 && !cJSON_GetObjectItemCaseSensitive(c->in, "InputFormat"))
        ddb_verr_null(c, "inputFormat");
    if (!tcp)
        ddb_verr_null(c, "tableCreationParameters");
    ddb_check_len(c, delim, "inputFormatOptions.csv.delimiter", 1, 1, false);
    /* the model makes it optional and the SDKs always fill it in, but
     * DynamoDB refuses a request without one */
    if (!x->token)
        ddb_verr_null(c, "clientToken");
    xp_check_token(c, x->token);
    if (ddb_args_failed(c))
        return;
    if (csv && fmt != 2) { /* CSV options with another format: DynamoDB refuses them */
        ddb_reply_type(c, "ValidationException",
                       "InputFormatOptions.Csv can only be specified when InputFormat is CSV");
        return;
    }
    if (delim && !strchr(",\t:;| ", *delim)) {
        ddb_reply_type(c, "ValidationException",
                       "The CSV Delimiter must be one of comma, tab, colon, semicolon, pipe "
                       "or space");
        return;
    }
    /* what the token guards for an import: its table, nothing else (DynamoDB
     * answers the first import to a replay with another source or format) */
    x->params = arena_strdup(c->a, ddb_arg_str(c, tcp, "TableName") ?: "");
    if (x->token) {
        rc = store_read_begin(c->d->store, &t, &e);
        if (!rc)
            rc = xp_token_find(t, &xp_import, x->token, x->params, &x->out, &e);
        store_txn_abort(t);
        if (rc == ERR_CONFLICT) {
            ddb_reply_type(c, "ImportConflictException", "%s", e.msg);
            return;
        }
        if (rc == ERR_OK) {
            struct buf b;

            buf_init(&b, 0);
            buf_printf(&b, "{\"ImportTableDescription\":%s}", x->out);
            free(x->out);
            ddb_reply(c, &b);
            return;
        }
        if (rc != ERR_NOTFOUND) {
            ddb_reply_err(c, rc, e.msg);
            return;
        }
    }
    x->c = c;
    x->rec = cJSON_CreateObject();
    cJSON_AddStringToObject(x->rec, "ClientToken", x->token);
    cJSON_AddItemToObject(x->rec, "S3BucketSource", cJSON_Duplicate(src, true));
    cJSON_AddNumberToObject(x->rec, "ErrorCount", 0);
    cJSON_AddStringToObject(x->rec, "InputFormat", fmts[fmt]);
    if (opts)
        cJSON_AddItemToObject(x->rec, "InputFormatOptions", cJSON_Duplicate(opts, true));
    cJSON_AddStringToObject(x->rec, "InputCompressionType", comp < 0 ? "NONE" : comps[comp]);
    cJSON_AddItemToObject(x->rec, "TableCreationParameters", cJSON_Duplicate(tcp, true));
    cJSON_AddNumberToObject(x->rec, "ProcessedItemCount", 0);
    cJSON_AddNumberToObject(x->rec, "ImportedItemCount", 0);
    cJSON_AddStringToObject(x->rec, "_params", x->params);
    sub = ddb_subcall(c, "CreateTable", cJSON_Duplicate(tcp, true), req_created, x);
    x->fill = (struct table_fill){req_fill, NULL, x};
    table_create_filled(sub, &x->fill);
}

void import_describe(struct ddb_call *c)
{
    xp_describe_call(c, &xp_import, "ImportTableDescription", "ImportNotFoundException");
}

void import_list(struct ddb_call *c)
{
    static const char *const members[] = {
        "ImportArn",   "ImportStatus", "TableArn", "S3BucketSource",
        "InputFormat", "StartTime",    "EndTime",  NULL};

    xp_list(c, &xp_import, "PageSize", "ImportSummaryList", members);
}
