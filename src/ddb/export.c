/* export.c - ExportTableToPointInTime, DescribeExport, ListExports, what
 * exports and imports share (records, ClientTokens, the Describe and List
 * calls) and the background thread that runs them (export.h; an export's
 * run is export_run.c, an import's import.c). */
#include "export.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backup.h"
#include "clock.h"
#include "log.h"
#include "mem.h"
#include "table.h"
#include "worker.h"

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

enum err_code xp_each(struct store_txn *t, const struct xp_kind *kind, const char *after, bool desc,
                      xp_rec_fn *fn, void *arg, struct err *e)
{
    struct store_cursor *cur = NULL;
    struct slice k = {0}, v = {0};
    char *start = xp_strf("%s%s", kind->prefix, after ? after : "");
    size_t plen = strlen(kind->prefix), slen = strlen(start);
    enum err_code rc = store_cursor_open(t, STORE_DB_META, &cur, e);

    if (desc && !after) /* past the prefix's last key: its last byte, one up */
        start[plen - 1]++;
    if (!rc && desc)
        rc = store_cursor_seek_le(cur, slice_of(start, slen), &k, &v, e);
    else if (!rc)
        rc = store_cursor_seek(cur, slice_of(start, slen), &k, &v, e);
    if (!rc && after && k.len == slen && memcmp(k.ptr, start, k.len) == 0)
        rc = desc ? store_cursor_prev(cur, &k, &v, e) : store_cursor_next(cur, &k, &v, e);
    while (!rc && k.len > plen && memcmp(k.ptr, kind->prefix, plen) == 0) {
        cJSON *rec = cJSON_ParseWithLength(v.ptr, v.len);
        bool more = rec ? fn(arg, rec) : true;

        cJSON_Delete(rec);
        if (!more)
            break;
        rc = desc ? store_cursor_prev(cur, &k, &v, e) : store_cursor_next(cur, &k, &v, e);
    }
    store_cursor_close(cur);
    free(start);
    return rc == ERR_NOTFOUND ? ERR_OK : rc;
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

/* A ClientToken is idempotent for 8 hours after the request that first used
 * it (ExportTableToPointInTime's and ImportTable's ClientToken);
 * TANDEM_DDB_CLIENT_TOKEN_SECONDS shortens that window for tests. */
static int64_t token_window_ms = 8 * 3600 * 1000;

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
    if ((double)clock_wall_ms() - json_num(old, "StartTime") * 1000.0 >= (double)token_window_ms)
        rc = ERR_NOTFOUND; /* past its window: a new request, which takes the token over */
    else if (strcmp(json_str(old, "_params") ? json_str(old, "_params") : "", params) != 0)
        rc = err_set(e, ERR_CONFLICT, "Duplicate request detected with conflicting parameters");
    else if (kind == &xp_import && strcmp(json_str(old, kind->status) ?: "", "IN_PROGRESS") != 0)
        rc = ERR_NOTFOUND; /* an import that ended made its table: that answers first */
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
    struct worker *worker;
    pthread_mutex_t mu; /* guards the queue */
    struct qent *head, *tail;
};

/* the first queued entry, taken out (owned); NULL when none, or to peek with !@take */
static struct qent *dequeue(struct export_jobs *j, bool take)
{
    struct qent *q;

    pthread_mutex_lock(&j->mu);
    q = j->head;
    if (q && take) {
        j->head = q->next;
        if (!j->head)
            j->tail = NULL;
    }
    pthread_mutex_unlock(&j->mu);
    return q;
}

static void thread_main(struct worker *w, void *arg)
{
    struct export_jobs *j = arg;

    /* xp_enqueue queues, then kicks: a kick this thread consumed while it ran an
     * entry (xp_stopping's pause) leaves the entry queued, hence the peek */
    while (worker_wait(w, dequeue(j, false) ? 0 : -1)) {
        struct qent *q = dequeue(j, true);

        if (!q)
            continue;
        if (q->kind == &xp_export)
            export_run(j->d, q->arn);
        else
            import_run(j->d, q->arn);
        free(q->arn);
        free(q);
    }
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
    pthread_mutex_unlock(&j->mu);
    worker_kick(j->worker);
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
    const char *st = json_str(rec, x->kind->status);

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
        rc = xp_each(t, x->kind, NULL, false, collect_cut, x, e);
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
    if (getenv("TANDEM_DDB_CLIENT_TOKEN_SECONDS") &&
        atoll(getenv("TANDEM_DDB_CLIENT_TOKEN_SECONDS")) > 0)
        token_window_ms = atoll(getenv("TANDEM_DDB_CLIENT_TOKEN_SECONDS")) * 1000;
    j = xcalloc(1, sizeof(*j));
    j->d = d;
    pthread_mutex_init(&j->mu, NULL);
    j->worker = worker_start(thread_main, j);
    if (!j->worker) {
        pthread_mutex_destroy(&j->mu);
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
    worker_stop(j->worker);
    while (j->head) {
        struct qent *q = j->head;

        j->head = q->next;
        free(q->arn);
        free(q);
    }
    pthread_mutex_destroy(&j->mu);
    free(j);
    d->exports = NULL;
}

bool xp_stopping(struct ddb *d, bool pause)
{
    struct export_jobs *j = d->exports;

    if (pause && pause_ms > 0) /* woken early by a stop, or by an entry queued */
        return !worker_wait(j->worker, pause_ms);
    return worker_stopping(j->worker);
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
                  "ExportTime %.3f is not within the point in time recovery window of the "
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
                            json_str(desc, "TableId") ? json_str(desc, "TableId") : "");
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
        ddb_reply_type(x->c, x->etype, "%s", x->emsg);
    } else if (rc) {
        ddb_reply_err(x->c, rc, e->msg);
    } else {
        if (!x->existing)
            xp_enqueue(x->c->d, &xp_export, json_str(rec, "ExportArn"));
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

void xp_check_bucket(struct ddb_call *c, const char *b, const char *path)
{
    static const char alnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    size_t n = b ? strlen(b) : 0;

    ddb_check_len(c, b, path, 0, 255, true);
    if (b && (n < 2 || !strchr(alnum, b[0]) || !strchr(alnum, b[n - 1]) ||
              strspn(b, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != n))
        ddb_verr(c,
                 "Value '%.300s' at '%s' failed to satisfy constraint: Member must satisfy "
                 "regular expression pattern: ^[a-z0-9A-Z]+[\\.\\-\\w]*[a-z0-9A-Z]+$",
                 b, path);
}

void xp_check_owner(struct ddb_call *c, const char *owner, const char *path)
{
    if (owner && (strlen(owner) != 12 || strspn(owner, "0123456789") != 12))
        ddb_verr(c,
                 "Value '%.300s' at '%s' failed to satisfy constraint: Member must satisfy "
                 "regular expression pattern: [0-9]{12}",
                 owner, path);
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
    xp_check_bucket(c, bucket, "s3Bucket");
    xp_check_owner(c, owner, "s3BucketOwner");
    /* the model gives no minimum, but DynamoDB refuses an empty prefix */
    ddb_check_len(c, prefix, "s3Prefix", 1, 1024, false);
    ddb_check_len(c, kms, "s3SseKmsKeyId", 1, 2048, false);
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
            ddb_reply_type(c, "ValidationException", "Invalid TableArn: %s", tarn);
        else
            ddb_reply_type(c, "TableNotFoundException", "Table not found: %s", tarn);
        return;
    }
    if (x->incr) {
        if (!spec || !has_from || !has_to) {
            ddb_reply_type(c, "ValidationException",
                           "IncrementalExportSpecification with ExportFromTime and "
                           "ExportToTime is required for an INCREMENTAL_EXPORT");
            return;
        }
        if (x->has_time) {
            ddb_reply_type(c, "ValidationException",
                           "ExportTime cannot be given for an INCREMENTAL_EXPORT");
            return;
        }
        if (x->to <= x->from) {
            ddb_reply_type(c, "ValidationException", "ExportFromTime must be before ExportToTime");
            return;
        }
        /* DynamoDB answers a period out of bounds as an export time problem */
        if (x->to - x->from < min_ms || x->to - x->from > max_ms) {
            ddb_reply_type(c, "InvalidExportTimeException",
                           "Difference between export period from time and to time must be "
                           "at least 15 minutes and at most 24 hours");
            return;
        }
    } else if (spec) {
        ddb_reply_type(c, "ValidationException",
                       "IncrementalExportSpecification can only be given for an "
                       "INCREMENTAL_EXPORT");
        return;
    }
    if (kms && sse != 1) {
        ddb_reply_type(c, "ValidationException",
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

/* arn_ok - @arn is arn:...:table/NAME/import/ID (export/ID for exports) with
 * NAME a table name (3-255 of [a-zA-Z0-9_.-]) and an ID */
static bool arn_ok(const struct xp_kind *kind, const char *arn)
{
    const char *seg = kind == &xp_import ? "/import/" : "/export/";
    const char *t = strstr(arn, ":table/"), *id = t ? strstr(t + 7, seg) : NULL;
    size_t n = id ? (size_t)(id - (t + 7)) : 0;

    return strncmp(arn, "arn:", 4) == 0 && id && n >= 3 && n <= 255 &&
           strspn(t + 7, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") ==
               n &&
           id[8];
}

/* arn_ours - @arn (arn:...) is arn:aws:dynamodb:REGION:ACCOUNT: of this region */
static bool arn_ours(const struct ddb *d, const char *arn)
{
    char *mine = xp_strf("arn:aws:dynamodb:%s:%s:", d->region, d->account);
    bool ok = strncmp(arn, mine, strlen(mine)) == 0;

    free(mine);
    return ok;
}

void xp_describe_call(struct ddb_call *c, const struct xp_kind *kind, const char *member,
                      const char *notfound)
{
    const char *arn = ddb_arg_str(c, c->in, kind->arn);
    struct store_txn *t = NULL;
    struct err e = {0};
    cJSON *rec = NULL;
    struct buf b;
    char *out, path[32];
    enum err_code rc;

    /* the member's name as DynamoDB's messages spell it: ExportArn, exportArn */
    snprintf(path, sizeof(path), "%c%s", kind->arn[0] + 'a' - 'A', kind->arn + 1);
    ddb_check_len(c, arn, path, DDB_ARN_MIN, DDB_ARN_MAX, true);
    if (ddb_args_failed(c))
        return;
    /* an ARN of another partition, service, region or account names nothing
     * the caller may read here: DynamoDB answers that before its shape */
    if (strncmp(arn, "arn:", 4) == 0 && !arn_ours(c->d, arn)) {
        ddb_reply_type(c, "AccessDeniedException",
                       "User: %s is not authorized to perform: dynamodb:%s on resource: %s",
                       c->who ? c->who->arn : "anonymous", c->op, arn);
        return;
    }
    if (!arn_ok(kind, arn)) {
        ddb_reply_type(c, "ValidationException", "Invalid %s ARN: %s",
                       kind == &xp_import ? "Import" : "Export", arn);
        return;
    }
    rc = store_read_begin(c->d->store, &t, &e);
    if (!rc)
        rc = xp_meta_get(t, kind->prefix, arn, &rec, &e);
    store_txn_abort(t);
    if (rc == ERR_NOTFOUND) {
        ddb_reply_type(c, notfound, "%s not found: %s", kind == &xp_export ? "Export" : "Import",
                       arn);
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
    double tid; /* exports by TableArn: the id of the table it names now (0: none) */
};

static bool list_one(void *arg, const cJSON *rec)
{
    struct list *x = arg;
    cJSON *s;

    if (x->table_arn && strcmp(x->table_arn, json_str(rec, "TableArn")) != 0)
        return true;
    /* DynamoDB lists a table's exports while that table exists, not a
     * deleted one's (DescribeExport still answers for them) */
    if (x->table_arn && x->kind == &xp_export && json_num(rec, "_tid") != x->tid)
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
    /* an export asked for without ExportType is still listed as FULL_EXPORT */
    if (x->kind == &xp_export && !cJSON_GetObjectItemCaseSensitive(s, "ExportType"))
        cJSON_AddStringToObject(s, "ExportType", "FULL_EXPORT");
    cJSON_AddItemToArray(x->out, s);
    free(x->last);
    x->last = xstrdup(json_str(rec, x->kind->arn));
    return true;
}

/* ImportNextToken is 112-1024 characters of ([0-9a-f]{16})+ in the model, and
 * botocore checks the minimum itself: ListImports' token is the last ARN
 * listed in hex, NUL bytes after it up to a whole 16 characters and at least
 * 112. (ExportNextToken has no constraints: ListExports' is the ARN itself.) */
#define NEXT_MIN 112

static char *next_encode(const char *arn)
{
    size_t n = strlen(arn) * 2, len = n < NEXT_MIN ? NEXT_MIN : (n + 15) / 16 * 16;
    char *out = xmalloc(len + 1);

    for (size_t i = 0; arn[i]; i++)
        snprintf(out + 2 * i, 3, "%02x", (unsigned char)arn[i]);
    memset(out + n, '0', len - n);
    out[len] = '\0';
    return out;
}

/* next_decode - the ARN @tok names (arena), NULL when it is not one of ours. */
static const char *next_decode(struct ddb_call *c, const char *tok)
{
    size_t n = strlen(tok);
    char *arn = arena_alloc(c->a, n / 2 + 1), *end = arn;

    if (n < NEXT_MIN || n % 16 || strspn(tok, "0123456789abcdef") != n)
        return NULL;
    for (size_t i = 0; i < n; i += 2) {
        unsigned v;

        sscanf(tok + i, "%2x", &v);
        if (!v) /* the padding: nothing but NULs after it */
            return strspn(tok + i, "0") == n - i && arn_ok(&xp_import, arn) ? arn : NULL;
        *end++ = (char)v;
        *end = '\0';
    }
    return NULL;
}

void xp_list(struct ddb_call *c, const struct xp_kind *kind, const char *max_member,
             const char *list_member, const char *const *members)
{
    struct list x = {.kind = kind, .members = members};
    const char *next = ddb_arg_str(c, c->in, "NextToken");
    bool has_max = ddb_arg_int(c, c->in, max_member, &x.max);
    char path[32];
    struct store_txn *t = NULL;
    struct err e = {0};
    cJSON *o;
    char *text;
    struct buf b;
    enum err_code rc;

    x.table_arn = ddb_arg_str(c, c->in, "TableArn");
    /* the member's name as DynamoDB's messages spell it: MaxResults, maxResults */
    snprintf(path, sizeof(path), "%c%s", max_member[0] + 'a' - 'A', max_member + 1);
    ddb_check_range(c, has_max, x.max, path, 1, 25);
    if (ddb_args_failed(c))
        return;
    if (next && (kind == &xp_import ? !(next = next_decode(c, next)) : !arn_ok(kind, next))) {
        ddb_reply_type(c, "ValidationException", "Invalid NextToken");
        return;
    }
    if (!has_max)
        x.max = 25;
    x.out = cJSON_CreateArray();
    rc = store_read_begin(c->d->store, &t, &e);
    if (!rc && x.table_arn && kind == &xp_export) {
        const char *name = ddb_table_name(c->d, x.table_arn);
        struct table_keys k;

        rc = name && name != x.table_arn ? table_keys_get(t, name, &k, &e) : ERR_NOTFOUND;
        if (!rc)
            x.tid = (double)k.id;
        else if (rc == ERR_NOTFOUND)
            rc = ERR_OK;
    }
    if (!rc)
        /* DynamoDB lists exports newest first (their ARNs descending) */
        rc = xp_each(t, kind, next, kind == &xp_export, list_one, &x, &e);
    store_txn_abort(t);
    if (rc) {
        cJSON_Delete(x.out);
        free(x.last);
        ddb_reply_err(c, rc, e.msg);
        return;
    }
    o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, list_member, x.out);
    if (x.more && x.last && kind == &xp_import) {
        char *tok = next_encode(x.last);

        cJSON_AddStringToObject(o, "NextToken", tok);
        free(tok);
    } else if (x.more && x.last) {
        cJSON_AddStringToObject(o, "NextToken", x.last);
    }
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
