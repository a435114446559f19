/* backup.c - on-demand backups: CreateBackup, DescribeBackup, ListBackups,
 * DeleteBackup, RestoreTableFromBackup (backup.h). */
#include "backup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "clock.h"
#include "index.h"
#include "item.h"
#include "json.h"
#include "keys.h"
#include "mem.h"

enum { BACKUP_PAGE_MAX = 100 };

/* ---- shared helpers ---- */

const char *backup_table_name(struct ddb_call *c, const char *s)
{
    const char *p;

    if (!s || strncmp(s, "arn:", 4) != 0 || !(p = strstr(s, ":table/")))
        return s;
    p += 7;
    return arena_strndup(c->a, p, strcspn(p, "/"));
}

void backup_reply_done(struct ddb_call *c, enum err_code rc, const struct err *e,
                       const char *notfound, const char *member, char *out)
{
    struct buf b;

    if (rc == ERR_NOTFOUND) {
        ddb_reply_type(c, notfound, "%s", e->msg);
    } else if (rc) {
        ddb_reply_err(c, rc, e->msg);
    } else {
        buf_init(&b, 0);
        buf_printf(&b, "{\"%s\":%s}", member, out);
        ddb_reply(c, &b);
    }
    free(out);
}

static void meta_key(struct buf *k, const char *arn)
{
    buf_init(k, 0);
    buf_puts(k, "backup/");
    buf_puts(k, arn);
}

enum err_code backup_meta_get(struct store_txn *t, const char *arn, cJSON **out, struct err *e)
{
    struct buf k;
    struct slice v;
    enum err_code rc;

    *out = NULL;
    if (strlen(arn) > 400)
        return err_set(e, ERR_NOTFOUND, "Backup not found: %.400s", arn);
    meta_key(&k, arn);
    rc = store_get(t, STORE_DB_META, slice_of(k.ptr, k.len), &v, e);
    buf_free(&k);
    if (rc == ERR_NOTFOUND)
        return err_set(e, ERR_NOTFOUND, "Backup not found: %s", arn);
    if (rc)
        return rc;
    *out = cJSON_ParseWithLength(v.ptr, v.len);
    return *out ? ERR_OK : err_set(e, ERR_INTERNAL, "corrupt backup record %s", arn);
}

enum err_code backup_meta_put(struct store_txn *t, const cJSON *meta, struct err *e)
{
    const char *arn = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta, "BackupArn"));
    char *text = cJSON_PrintUnformatted(meta);
    struct buf k;
    enum err_code rc;

    meta_key(&k, arn ? arn : "");
    rc = store_put(t, STORE_DB_META, slice_of(k.ptr, k.len), slice_of(text, strlen(text)), e);
    buf_free(&k);
    free(text);
    return rc;
}

enum err_code backup_meta_del(struct store_txn *t, const char *arn, struct err *e)
{
    struct buf k;
    enum err_code rc;

    meta_key(&k, arn);
    rc = store_del(t, STORE_DB_META, slice_of(k.ptr, k.len), e);
    buf_free(&k);
    return rc;
}

static uint64_t num_of(const cJSON *o, const char *name)
{
    double n = json_num(o, name);

    return n > 0 ? (uint64_t)n : 0;
}

/* ---- item copies ---- */

enum err_code backup_item_set(struct store_txn *t, const struct table_keys *k, const char *json,
                              size_t n, const cJSON *item, struct err *e)
{
    struct buf key, val;
    cJSON *old = NULL;
    size_t old_size;
    enum err_code rc;

    buf_init(&key, 0);
    buf_init(&val, 0);
    rc = item_key_build(k, item, json == NULL, &key, e);
    if (!rc)
        rc = item_read(t, &key, &old, e);
    if (rc)
        goto out;
    old_size = old ? attr_item_size(old) : 0;
    if (json) {
        buf_putc(&val, DDB_ITEM_FMT_JSON);
        buf_append(&val, json, n);
        rc = store_put(t, STORE_DB_DATA, slice_of(key.ptr, key.len), slice_of(val.ptr, val.len), e);
        if (!rc)
            rc = table_stats_add(t, k->id, old ? 0 : 1,
                                 (int64_t)attr_item_size(item) - (int64_t)old_size, e);
    } else if (old) {
        rc = store_del(t, STORE_DB_DATA, slice_of(key.ptr, key.len), e);
        if (!rc)
            rc = table_stats_add(t, k->id, -1, -(int64_t)old_size, e);
    }
    if (!rc && (json || old))
        rc = index_maintain(t, k, &key, old, json, json ? n : 0, NULL, e);
out:
    cJSON_Delete(old);
    buf_free(&key);
    buf_free(&val);
    return rc;
}

/* ---- CreateBackup ---- */

/* ttl_of - the TimeToLiveDescription of table @name (id @id). */
static cJSON *ttl_of(struct store_txn *t, const char *name, uint64_t id)
{
    struct buf k;
    struct slice v;
    cJSON *rec = NULL, *out = cJSON_CreateObject();

    buf_init(&k, 0);
    buf_puts(&k, "ttl/");
    buf_puts(&k, name);
    if (store_get(t, STORE_DB_META, slice_of(k.ptr, k.len), &v, NULL) == ERR_OK)
        rec = cJSON_ParseWithLength(v.ptr, v.len);
    buf_free(&k);
    if (num_of(rec, "id") == id && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "on"))) {
        cJSON_AddStringToObject(out, "TimeToLiveStatus", "ENABLED");
        cJSON_AddStringToObject(out, "AttributeName",
                                cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "attr"))
                                    ?: "");
    } else {
        cJSON_AddStringToObject(out, "TimeToLiveStatus", "DISABLED");
    }
    cJSON_Delete(rec);
    return out;
}

cJSON *backup_meta_new(struct store_txn *t, const char *table, const struct table_keys *k,
                       cJSON *desc, const char *name, const char *type, const char *status)
{
    const char *tarn = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(desc, "TableArn"));
    char arn[1200], id[37];
    int64_t now = clock_wall_ms();
    cJSON *m = cJSON_CreateObject();

    ddb_uuid(id);
    snprintf(arn, sizeof(arn), "%s/backup/%013lld-%.8s", tarn ? tarn : "", (long long)now, id);
    cJSON_AddStringToObject(m, "BackupArn", arn);
    cJSON_AddStringToObject(m, "BackupName", name);
    cJSON_AddStringToObject(m, "BackupStatus", status);
    cJSON_AddStringToObject(m, "BackupType", type);
    cJSON_AddNumberToObject(m, "BackupCreationDateTime", (double)now / 1000.0);
    cJSON_AddNumberToObject(m, "_data", 0);
    cJSON_AddNumberToObject(m, "_count", 0);
    cJSON_AddStringToObject(m, "_table", table);
    cJSON_AddItemToObject(m, "_ttl", ttl_of(t, table, k->id));
    cJSON_DeleteItemFromObjectCaseSensitive(desc, "_tags");
    cJSON_DeleteItemFromObjectCaseSensitive(desc, "_replicas");
    cJSON_DeleteItemFromObjectCaseSensitive(desc, "_replica_settings");
    cJSON_AddItemToObject(m, "_desc", desc);
    return m;
}

enum err_code backup_adopt_in_apply(struct store_txn *t, const char *table, const char *name,
                                    const char *type, struct err *e)
{
    struct table_keys k;
    cJSON *desc = NULL, *m;
    uint64_t count = 0, bytes = 0;
    enum err_code rc = table_keys_get(t, table, &k, e);

    if (!rc)
        rc = table_desc_get(t, table, &desc, e);
    if (!rc)
        rc = table_stats_get(t, k.id, &count, &bytes, e);
    if (rc) {
        cJSON_Delete(desc);
        return rc;
    }
    m = backup_meta_new(t, table, &k, desc, name, type, "AVAILABLE");
    cJSON_AddNumberToObject(m, "BackupSizeBytes", (double)bytes);
    cJSON_ReplaceItemInObjectCaseSensitive(m, "_data", cJSON_CreateNumber((double)k.id));
    cJSON_ReplaceItemInObjectCaseSensitive(m, "_count", cJSON_CreateNumber((double)count));
    rc = backup_meta_put(t, m, e);
    cJSON_Delete(m);
    return rc;
}

/* details - BackupDetails (or a BackupSummary with @summary) of @meta. */
static cJSON *details(const cJSON *meta, bool summary)
{
    static const char *const members[] = {"BackupArn",    "BackupName", "BackupSizeBytes",
                                          "BackupStatus", "BackupType", "BackupCreationDateTime"};
    const cJSON *desc = cJSON_GetObjectItemCaseSensitive(meta, "_desc");
    cJSON *o = cJSON_CreateObject();

    if (summary) {
        static const char *const tm[] = {"TableName", "TableId", "TableArn"};

        for (size_t i = 0; i < 3; i++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(desc, tm[i]);
            if (v)
                cJSON_AddItemToObject(o, tm[i], cJSON_Duplicate(v, 1));
        }
    }
    for (size_t i = 0; i < sizeof(members) / sizeof(members[0]); i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(meta, members[i]);
        if (v)
            cJSON_AddItemToObject(o, members[i], cJSON_Duplicate(v, 1));
    }
    return o;
}

static cJSON *throughput_of(const cJSON *o)
{
    const cJSON *pt = cJSON_GetObjectItemCaseSensitive(o, "ProvisionedThroughput");
    cJSON *out = cJSON_CreateObject();

    cJSON_AddNumberToObject(out, "ReadCapacityUnits", (double)num_of(pt, "ReadCapacityUnits"));
    cJSON_AddNumberToObject(out, "WriteCapacityUnits", (double)num_of(pt, "WriteCapacityUnits"));
    return out;
}

static const char *billing_name(const cJSON *desc)
{
    return table_billing_of(desc) == TABLE_BILL_PPR ? "PAY_PER_REQUEST" : "PROVISIONED";
}

/* indexes_info - LocalSecondaryIndexInfo / GlobalSecondaryIndexInfo list of
 * @arr (the descriptor's index descriptions). */
static cJSON *indexes_info(const cJSON *arr, bool global)
{
    const cJSON *ix;
    cJSON *out = cJSON_CreateArray();

    cJSON_ArrayForEach(ix, arr)
    {
        cJSON *o = cJSON_CreateObject();
        static const char *const m[] = {"IndexName", "KeySchema", "Projection"};

        for (size_t i = 0; i < 3; i++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(ix, m[i]);
            if (v)
                cJSON_AddItemToObject(o, m[i], cJSON_Duplicate(v, 1));
        }
        if (global)
            cJSON_AddItemToObject(o, "ProvisionedThroughput", throughput_of(ix));
        cJSON_AddItemToArray(out, o);
    }
    return out;
}

/* description - the BackupDescription text of @meta (owned, free()). */
static char *description(const cJSON *meta)
{
    const cJSON *desc = cJSON_GetObjectItemCaseSensitive(meta, "_desc"), *v;
    cJSON *o = cJSON_CreateObject(), *src, *feat;
    char *out;

    cJSON_AddItemToObject(o, "BackupDetails", details(meta, false));
    src = cJSON_AddObjectToObject(o, "SourceTableDetails");
    static const char *const tm[] = {"TableName", "TableId", "TableArn"};
    for (size_t i = 0; i < 3; i++)
        if ((v = cJSON_GetObjectItemCaseSensitive(desc, tm[i])))
            cJSON_AddItemToObject(src, tm[i], cJSON_Duplicate(v, 1));
    cJSON_AddNumberToObject(src, "TableSizeBytes", (double)num_of(meta, "BackupSizeBytes"));
    if ((v = cJSON_GetObjectItemCaseSensitive(desc, "KeySchema")))
        cJSON_AddItemToObject(src, "KeySchema", cJSON_Duplicate(v, 1));
    if ((v = cJSON_GetObjectItemCaseSensitive(desc, "CreationDateTime")))
        cJSON_AddItemToObject(src, "TableCreationDateTime", cJSON_Duplicate(v, 1));
    cJSON_AddItemToObject(src, "ProvisionedThroughput", throughput_of(desc));
    if ((v = cJSON_GetObjectItemCaseSensitive(desc, "OnDemandThroughput")))
        cJSON_AddItemToObject(src, "OnDemandThroughput", cJSON_Duplicate(v, 1));
    cJSON_AddNumberToObject(src, "ItemCount", (double)num_of(meta, "_count"));
    cJSON_AddStringToObject(src, "BillingMode", billing_name(desc));
    feat = cJSON_AddObjectToObject(o, "SourceTableFeatureDetails");
    if ((v = cJSON_GetObjectItemCaseSensitive(desc, "LocalSecondaryIndexes")))
        cJSON_AddItemToObject(feat, "LocalSecondaryIndexes", indexes_info(v, false));
    if ((v = cJSON_GetObjectItemCaseSensitive(desc, "GlobalSecondaryIndexes")))
        cJSON_AddItemToObject(feat, "GlobalSecondaryIndexes", indexes_info(v, true));
    if ((v = cJSON_GetObjectItemCaseSensitive(desc, "StreamSpecification")))
        cJSON_AddItemToObject(feat, "StreamDescription", cJSON_Duplicate(v, 1));
    if ((v = cJSON_GetObjectItemCaseSensitive(meta, "_ttl")))
        cJSON_AddItemToObject(feat, "TimeToLiveDescription", cJSON_Duplicate(v, 1));
    if ((v = cJSON_GetObjectItemCaseSensitive(desc, "SSEDescription")))
        cJSON_AddItemToObject(feat, "SSEDescription", cJSON_Duplicate(v, 1));
    out = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return out;
}

char *backup_details(const cJSON *meta)
{
    cJSON *d = details(meta, false);
    char *out = cJSON_PrintUnformatted(d);

    cJSON_Delete(d);
    return out;
}

void backup_create(struct ddb_call *c)
{
    const char *table = ddb_arg_str(c, c->in, "TableName");
    const char *name = ddb_arg_str(c, c->in, "BackupName");

    ddb_check_len(c, table, "tableName", 1, DDB_TABLE_ARG_MAX, true);
    /* BackupName has TableName's constraints (3 to 255 of [a-zA-Z0-9_.-]) */
    ddb_check_table_name(c, name, "backupName");
    if (ddb_args_failed(c))
        return;
    backup_job_create(c, backup_table_name(c, table), name);
}

/* ---- DescribeBackup ---- */

static bool check_arn(struct ddb_call *c, const char *arn)
{
    ddb_check_len(c, arn, "backupArn", DDB_ARN_MIN, DDB_ARN_MAX, true);
    return !ddb_args_failed(c);
}

void backup_describe(struct ddb_call *c)
{
    const char *arn = ddb_arg_str(c, c->in, "BackupArn");
    struct store_txn *t = NULL;
    cJSON *meta = NULL;
    struct err e = {0};
    struct buf b;
    char *out;
    enum err_code rc;

    if (!check_arn(c, arn))
        return;
    rc = store_read_begin(c->d->store, &t, &e);
    if (!rc)
        rc = backup_meta_get(t, arn, &meta, &e);
    store_txn_abort(t);
    if (rc == ERR_NOTFOUND) {
        ddb_reply_type(c, "BackupNotFoundException", "%s", e.msg);
        return;
    }
    if (rc) {
        ddb_reply_err(c, rc, e.msg);
        return;
    }
    out = description(meta);
    cJSON_Delete(meta);
    buf_init(&b, 0);
    buf_printf(&b, "{\"BackupDescription\":%s}", out);
    free(out);
    ddb_reply(c, &b);
}

/* ---- DeleteBackup ---- */

struct del {
    struct ddb_call *c;
    const char *arn;
    uint64_t data; /* the items left to clear */
    char *out;     /* owned: BackupDescription text */
};

/* in_use - why backup @meta (@arn) cannot be deleted or restored now, or NULL. */
static const char *in_use(struct ddb *d, const cJSON *meta, const char *arn)
{
    const char *st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta, "BackupStatus"));

    if (st && strcmp(st, "CREATING") == 0)
        return "Backup is being created";
    if (d && backup_in_restore(d, arn))
        return "Backup is being restored to a table";
    return NULL;
}

static enum err_code delete_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct del *x = arg;
    cJSON *meta = NULL;
    const char *why;
    enum err_code rc = backup_meta_get(t, x->arn, &meta, e);

    if (rc)
        return rc;
    if ((why = in_use(x->c->d, meta, x->arn))) {
        cJSON_Delete(meta);
        return err_set(e, ERR_IN_USE, "%s: %s", why, x->arn);
    }
    /* the items go in pieces in the background (backup_job.c) */
    x->data = num_of(meta, "_data");
    rc = backup_drop_mark(t, x->data, e);
    if (!rc)
        rc = backup_meta_del(t, x->arn, e);
    cJSON_ReplaceItemInObjectCaseSensitive(meta, "BackupStatus", cJSON_CreateString("DELETED"));
    free(x->out);
    x->out = description(meta);
    cJSON_Delete(meta);
    return rc;
}

static void delete_done(void *arg, enum err_code rc, const struct err *e)
{
    struct del *x = arg;

    if (rc == ERR_OK)
        backup_job_drop(x->c->d, x->data);
    if (rc == ERR_IN_USE) {
        free(x->out);
        ddb_reply_type(x->c, "BackupInUseException", "%s", e->msg);
        return;
    }
    backup_reply_done(x->c, rc, e, "BackupNotFoundException", "BackupDescription", x->out);
}

void backup_delete(struct ddb_call *c)
{
    const char *arn = ddb_arg_str(c, c->in, "BackupArn");
    struct del *x;

    if (!check_arn(c, arn))
        return;
    x = arena_calloc(c->a, sizeof(*x));
    x->c = c;
    x->arn = arn;
    store_submit(c->d->store, delete_apply, delete_done, x);
}

/* ---- ListBackups ---- */

static bool time_arg(struct ddb_call *c, const char *name, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->in, name);

    if (!v || cJSON_IsNull(v))
        return false;
    if (!cJSON_IsNumber(v)) {
        c->serial = true;
        snprintf(c->serial_msg, sizeof(c->serial_msg),
                 "class java.lang.String can not be "
                 "converted to milliseconds since epoch");
        return false;
    }
    *out = v->valuedouble;
    return true;
}

void backup_list(struct ddb_call *c)
{
    static const char *const types[] = {"USER", "SYSTEM", "AWS_BACKUP", "ALL", NULL};
    const char *table = ddb_arg_str(c, c->in, "TableName");
    const char *start = ddb_arg_str(c, c->in, "ExclusiveStartBackupArn");
    int type = ddb_arg_enum(c, c->in, "BackupType", "backupType", types);
    int64_t limit = BACKUP_PAGE_MAX;
    bool has_limit = ddb_arg_int(c, c->in, "Limit", &limit);
    double lo = 0, hi = 0;
    bool has_lo = time_arg(c, "TimeRangeLowerBound", &lo);
    bool has_hi = time_arg(c, "TimeRangeUpperBound", &hi);
    struct store_txn *t = NULL;
    struct store_cursor *cur = NULL;
    struct slice k = {0}, v = {0};
    struct buf pos, b;
    struct err e = {0};
    cJSON *out = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(out, "BackupSummaries");
    char *last = NULL, *text;
    int64_t n = 0;
    enum err_code rc;

    ddb_check_range(c, has_limit, limit, "limit", 1, 100);
    if (table)
        ddb_check_len(c, table, "tableName", 1, DDB_TABLE_ARG_MAX, true);
    if (ddb_args_failed(c)) {
        cJSON_Delete(out);
        return;
    }
    if (has_lo && has_hi && lo > hi) {
        cJSON_Delete(out);
        ddb_reply_err(c, ERR_INVALID,
                      "TimeRangeUpperBound cannot be less than or equal to TimeRangeLowerBound");
        return;
    }
    table = backup_table_name(c, table);
    meta_key(&pos, start ? start : "");
    rc = store_read_begin(c->d->store, &t, &e);
    if (!rc)
        rc = store_cursor_open(t, STORE_DB_META, &cur, &e);
    if (!rc)
        rc = store_cursor_seek(cur, slice_of(pos.ptr, pos.len), &k, &v, &e);
    if (!rc && start && k.len == pos.len && memcmp(k.ptr, pos.ptr, pos.len) == 0)
        rc = store_cursor_next(cur, &k, &v, &e);
    for (; rc == ERR_OK && k.len > 7 && memcmp(k.ptr, "backup/", 7) == 0;
         rc = store_cursor_next(cur, &k, &v, &e)) {
        cJSON *meta = cJSON_ParseWithLength(v.ptr, v.len);
        const char *bt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta, "BackupType"));
        const char *tn = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta, "_table"));
        double when =
            cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(meta, "BackupCreationDateTime"));
        bool keep = meta && (!table || (tn && strcmp(tn, table) == 0)) &&
                    (type == 3 || strcmp(bt ? bt : "", types[type < 0 ? 0 : type]) == 0) &&
                    (!has_lo || when >= lo) && (!has_hi || when < hi);

        if (keep && n == limit) { /* one more there: this page ends */
            cJSON_Delete(meta);
            break;
        }
        if (keep) {
            free(last);
            last = xstrdup(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta, "BackupArn"))
                               ?: "");
            cJSON_AddItemToArray(list, details(meta, true));
            n++;
        }
        cJSON_Delete(meta);
    }
    store_cursor_close(cur);
    store_txn_abort(t);
    buf_free(&pos);
    if (rc != ERR_OK && rc != ERR_NOTFOUND) {
        free(last);
        cJSON_Delete(out);
        ddb_reply_err(c, rc, e.msg);
        return;
    }
    if (rc == ERR_OK && n == limit && last)
        cJSON_AddStringToObject(out, "LastEvaluatedBackupArn", last);
    free(last);
    text = cJSON_PrintUnformatted(out);
    cJSON_Delete(out);
    buf_init(&b, 0);
    buf_puts(&b, text);
    free(text);
    ddb_reply(c, &b);
}

/* ---- restores ---- */

static void add_names(cJSON *used, const cJSON *ks)
{
    const cJSON *x;

    cJSON_ArrayForEach(x, ks)
    {
        const char *n = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "AttributeName"));
        if (n && !cJSON_GetObjectItemCaseSensitive(used, n))
            cJSON_AddTrueToObject(used, n);
    }
}

static void json_free(void *p)
{
    cJSON_Delete(p);
}

void backup_restore_start(struct ddb_call *c, const cJSON *src, const struct table_fill *fill)
{
    const cJSON *in = c->in, *v, *x;
    cJSON *req = cJSON_CreateObject(), *used = cJSON_CreateObject(), *defs;
    const char *bm = ddb_arg_str(c, in, "BillingModeOverride");
    bool ppr;

    arena_on_free(c->a, json_free, req);
    arena_on_free(c->a, json_free, used);
    cJSON_AddItemToObject(
        req, "TableName",
        cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(in, "TargetTableName"), 1));
    v = cJSON_GetObjectItemCaseSensitive(src, "KeySchema");
    cJSON_AddItemToObject(req, "KeySchema", cJSON_Duplicate(v, 1));
    add_names(used, v);
    if (bm)
        cJSON_AddStringToObject(req, "BillingMode", bm);
    else
        cJSON_AddStringToObject(req, "BillingMode", billing_name(src));
    ppr = strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req, "BillingMode")),
                 "PAY_PER_REQUEST") == 0;
    if ((v = cJSON_GetObjectItemCaseSensitive(in, "ProvisionedThroughputOverride")))
        cJSON_AddItemToObject(req, "ProvisionedThroughput", cJSON_Duplicate(v, 1));
    else if (!ppr && table_billing_of(src) != TABLE_BILL_PPR)
        cJSON_AddItemToObject(req, "ProvisionedThroughput", throughput_of(src));
    if ((v = cJSON_GetObjectItemCaseSensitive(in, "OnDemandThroughputOverride")))
        cJSON_AddItemToObject(req, "OnDemandThroughput", cJSON_Duplicate(v, 1));
    if ((v = cJSON_GetObjectItemCaseSensitive(in, "GlobalSecondaryIndexOverride"))) {
        if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > 0) /* []: none */
            cJSON_AddItemToObject(req, "GlobalSecondaryIndexes", cJSON_Duplicate(v, 1));
    } else if ((v = cJSON_GetObjectItemCaseSensitive(src, "GlobalSecondaryIndexes"))) {
        cJSON *arr = cJSON_AddArrayToObject(req, "GlobalSecondaryIndexes");
        const cJSON *pt = cJSON_GetObjectItemCaseSensitive(req, "ProvisionedThroughput");

        cJSON_ArrayForEach(x, v)
        {
            cJSON *o = cJSON_CreateObject();

            cJSON_AddItemToObject(
                o, "IndexName",
                cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(x, "IndexName"), 1));
            cJSON_AddItemToObject(
                o, "KeySchema",
                cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(x, "KeySchema"), 1));
            cJSON_AddItemToObject(
                o, "Projection",
                cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(x, "Projection"), 1));
            if (!ppr)
                cJSON_AddItemToObject(o, "ProvisionedThroughput",
                                      table_billing_of(src) == TABLE_BILL_PPR && pt
                                          ? cJSON_Duplicate(pt, 1)
                                          : throughput_of(x));
            cJSON_AddItemToArray(arr, o);
        }
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(in, "LocalSecondaryIndexOverride"))) {
        if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > 0)
            cJSON_AddItemToObject(req, "LocalSecondaryIndexes", cJSON_Duplicate(v, 1));
    } else if ((v = cJSON_GetObjectItemCaseSensitive(src, "LocalSecondaryIndexes"))) {
        cJSON *arr = cJSON_AddArrayToObject(req, "LocalSecondaryIndexes");

        cJSON_ArrayForEach(x, v)
        {
            cJSON *o = cJSON_CreateObject();
            static const char *const m[] = {"IndexName", "KeySchema", "Projection"};

            for (size_t i = 0; i < 3; i++)
                cJSON_AddItemToObject(
                    o, m[i], cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(x, m[i]), 1));
            cJSON_AddItemToArray(arr, o);
        }
    }
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(req, "GlobalSecondaryIndexes"))
        add_names(used, cJSON_GetObjectItemCaseSensitive(x, "KeySchema"));
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(req, "LocalSecondaryIndexes"))
        add_names(used, cJSON_GetObjectItemCaseSensitive(x, "KeySchema"));
    /* the attribute definitions the restored keys use, as CreateTable wants */
    defs = cJSON_AddArrayToObject(req, "AttributeDefinitions");
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(src, "AttributeDefinitions"))
    {
        const char *n = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "AttributeName"));
        if (n && cJSON_GetObjectItemCaseSensitive(used, n))
            cJSON_AddItemToArray(defs, cJSON_Duplicate(x, 1));
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(in, "SSESpecificationOverride"))) {
        cJSON_AddItemToObject(req, "SSESpecification", cJSON_Duplicate(v, 1));
    } else if ((v = cJSON_GetObjectItemCaseSensitive(src, "SSEDescription"))) {
        cJSON *sse = cJSON_AddObjectToObject(req, "SSESpecification");
        const char *key =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v, "KMSMasterKeyArn"));

        cJSON_AddTrueToObject(sse, "Enabled");
        cJSON_AddStringToObject(sse, "SSEType", "KMS");
        if (key)
            cJSON_AddStringToObject(sse, "KMSMasterKeyId", key);
    }
    c->in = req;
    table_create_filled(c, fill);
}

/* ---- RestoreTableFromBackup ---- */

enum err_code backup_restore_fill(struct store_txn *t, struct backup_source *x, const char *name,
                                  cJSON *desc, struct err *e)
{
    struct table_keys k;
    cJSON *rs;
    enum err_code rc = table_keys_get(t, name, &k, e);

    if (!rc) /* its items are not served before it is filled */
        rc = table_keys_set_restoring(t, name, true, e);
    if (rc)
        return rc;
    rs = cJSON_AddObjectToObject(desc, "RestoreSummary");
    if (x->backup_arn)
        cJSON_AddStringToObject(rs, "SourceBackupArn", x->backup_arn);
    if (x->table_arn)
        cJSON_AddStringToObject(rs, "SourceTableArn", x->table_arn);
    cJSON_AddNumberToObject(rs, "RestoreDateTime", (double)x->when / 1000.0);
    cJSON_AddTrueToObject(rs, "RestoreInProgress");
    if (!x->job) /* filled by the background thread, from when the table is there */
        x->job =
            backup_job_restore(x->d, name, k.id, x->src, x->backup_arn, !x->backup_arn, x->when);
    return ERR_OK;
}

void backup_restore_ready(void *arg)
{
    struct backup_source *x = arg;

    backup_job_ready(x->d, x->job);
    x->job = NULL;
}

static enum err_code restore_fill(struct store_txn *t, void *arg, const char *name, cJSON *desc,
                                  struct err *e)
{
    struct backup_source *x = arg;
    cJSON *meta = NULL;
    enum err_code rc = backup_meta_get(t, x->backup_arn, &meta, e);

    cJSON_Delete(meta);
    return rc ? rc : backup_restore_fill(t, x, name, desc, e);
}

void backup_restore(struct ddb_call *c)
{
    const char *target = ddb_arg_str(c, c->in, "TargetTableName");
    const char *arn = ddb_arg_str(c, c->in, "BackupArn");
    struct store_txn *t = NULL;
    cJSON *meta = NULL;
    const cJSON *src;
    const char *why;
    struct backup_source *x;
    struct table_fill *fill;
    struct err e = {0};
    enum err_code rc;

    ddb_check_table_name(c, target, "targetTableName");
    if (!check_arn(c, arn))
        return;
    rc = store_read_begin(c->d->store, &t, &e);
    if (!rc)
        rc = backup_meta_get(t, arn, &meta, &e);
    store_txn_abort(t);
    if (rc == ERR_NOTFOUND) {
        ddb_reply_type(c, "BackupNotFoundException", "%s", e.msg);
        return;
    }
    if (rc) {
        ddb_reply_err(c, rc, e.msg);
        return;
    }
    arena_on_free(c->a, json_free, meta);
    if ((why = in_use(NULL, meta, arn))) {
        ddb_reply_type(c, "BackupInUseException", "%s: %s", why, arn);
        return;
    }
    src = cJSON_GetObjectItemCaseSensitive(meta, "_desc");
    x = arena_calloc(c->a, sizeof(*x));
    x->d = c->d;
    x->backup_arn = arn;
    x->src = num_of(meta, "_data");
    x->table_arn = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(src, "TableArn"));
    x->when = (int64_t)(cJSON_GetNumberValue(
                            cJSON_GetObjectItemCaseSensitive(meta, "BackupCreationDateTime")) *
                            1000.0 +
                        0.5);
    fill = arena_calloc(c->a, sizeof(*fill));
    fill->fill = restore_fill;
    fill->done = backup_restore_ready;
    fill->arg = x;
    backup_restore_start(c, src, fill);
}

/* ---- authorization ---- */

const char *backup_auth_resource(struct ddb_call *c)
{
    static const char *const by_table[] = {"CreateBackup", "UpdateContinuousBackups",
                                           "DescribeContinuousBackups"};
    const char *s;

    if (strcmp(c->op, "ListBackups") == 0)
        return "*";
    if (strcmp(c->op, "DescribeBackup") == 0 || strcmp(c->op, "DeleteBackup") == 0 ||
        strcmp(c->op, "RestoreTableFromBackup") == 0) {
        s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c->in, "BackupArn"));
        return s ? s : "";
    }
    for (size_t i = 0; i < 3; i++)
        if (strcmp(c->op, by_table[i]) == 0) {
            s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c->in, "TableName"));
            goto table;
        }
    if (strcmp(c->op, "RestoreTableToPointInTime") != 0)
        return NULL;
    s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c->in, "SourceTableArn"));
    if (!s)
        s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c->in, "SourceTableName"));
table:
    if (s && strncmp(s, "arn:", 4) == 0)
        return s;
    return arena_sprintf(c->a, "arn:aws:dynamodb:%s:%s:table/%s", c->d->region, c->d->account,
                         s ? s : "");
}

const char *backup_target_action(struct ddb_call *c, size_t i, const char **resource)
{
    static const char *const acts[] = {
        "dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:GetItem",   "dynamodb:PutItem",
        "dynamodb:Query",          "dynamodb:Scan",       "dynamodb:UpdateItem"};
    const char *t;

    if (i >= sizeof(acts) / sizeof(acts[0]) || (strcmp(c->op, "RestoreTableFromBackup") != 0 &&
                                                strcmp(c->op, "RestoreTableToPointInTime") != 0))
        return NULL;
    t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c->in, "TargetTableName"));
    *resource = arena_sprintf(c->a, "arn:aws:dynamodb:%s:%s:table/%s", c->d->region, c->d->account,
                              t ? t : "");
    return acts[i];
}
