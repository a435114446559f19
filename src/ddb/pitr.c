/* pitr.c - point-in-time recovery: UpdateContinuousBackups,
 * DescribeContinuousBackups, RestoreTableToPointInTime and the history of
 * before-images the writes of a table with PITR keep (backup.h). */
#include "backup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "item.h"
#include "mem.h"

enum { PITR_DAYS_MAX = 35, PITR_TRIM_PER_WRITE = 8 };

static int64_t day_ms = 86400000;

void pitr_configure(void)
{
    const char *s = getenv("TANDEM_DDB_PITR_DAY_SECONDS");

    if (s && atoll(s) > 0)
        day_ms = atoll(s) * 1000;
}

static void put_be64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)v;
}

static uint64_t get_be64(const unsigned char *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* ---- the setting: "pitr/<id8>" ---- */

struct pitr {
    int64_t since; /* ms */
    int64_t days;
};

static struct slice set_key(unsigned char k[13], uint64_t id)
{
    memcpy(k, "pitr/", 5);
    put_be64(k + 5, id);
    return slice_of(k, 13);
}

/* pitr_get - ERR_NOTFOUND when PITR is off for table @id. */
static enum err_code pitr_get(struct store_txn *t, uint64_t id, struct pitr *out, struct err *e)
{
    unsigned char k[13];
    struct slice v;
    enum err_code rc = store_get(t, STORE_DB_META, set_key(k, id), &v, e);

    if (rc)
        return rc;
    if (v.len != 16)
        return err_set(e, ERR_INTERNAL, "corrupt PITR setting");
    out->since = (int64_t)get_be64(v.ptr);
    out->days = (int64_t)get_be64((const unsigned char *)v.ptr + 8);
    return ERR_OK;
}

static enum err_code pitr_put(struct store_txn *t, uint64_t id, const struct pitr *p, struct err *e)
{
    unsigned char k[13], v[16];

    put_be64(v, (uint64_t)p->since);
    put_be64(v + 8, (uint64_t)p->days);
    return store_put(t, STORE_DB_META, set_key(k, id), slice_of(v, 16), e);
}

/* earliest - the earliest restorable time (ms) of @p at @now. */
static int64_t earliest(const struct pitr *p, int64_t now)
{
    int64_t floor = now - p->days * day_ms;

    return p->since > floor ? p->since : floor;
}

/* ---- the history: "p" <id8> <commit8> <n4> ---- */

static void hist_prefix(unsigned char k[9], uint64_t id)
{
    k[0] = 'p';
    put_be64(k + 1, id);
}

static bool in_table(struct slice k, const unsigned char prefix[9])
{
    return k.len == 21 && memcmp(k.ptr, prefix, 9) == 0;
}

/* hist_drop - remove records of table @id: all of them, or only those older
 * than @before (ms) up to @max of them. */
static enum err_code hist_drop(struct store_txn *t, uint64_t id, int64_t before, size_t max,
                               struct err *e)
{
    unsigned char prefix[9];
    struct store_cursor *cur = NULL;
    struct slice k = {0}, v = {0};
    size_t n = 0;
    enum err_code rc;

    hist_prefix(prefix, id);
    rc = store_cursor_open(t, STORE_DB_LOG, &cur, e);
    while (!rc && n < max) {
        rc = store_cursor_seek(cur, slice_of(prefix, 9), &k, &v, e);
        if (rc == ERR_NOTFOUND || (!rc && !in_table(k, prefix))) {
            rc = ERR_OK;
            break;
        }
        if (!rc && before && (v.len < 8 || (int64_t)get_be64(v.ptr) >= before))
            break;
        if (!rc)
            rc = store_cursor_del(cur, e);
        n++;
    }
    store_cursor_close(cur);
    return rc;
}

/* the writer thread alone runs applies: these order a commit's records */
static uint64_t last_commit;
static uint32_t seq;

/* ---- history cleared in the background: "bkhist/<id8>" = the last
 * record's commit id (8) and number (4): every record up to it goes ---- */

static struct slice forget_key(unsigned char k[15], uint64_t id)
{
    memcpy(k, "bkhist/", 7);
    put_be64(k + 7, id);
    return slice_of(k, 15);
}

/* hist_forget - the history of table @id written so far is to go (pieces). */
static enum err_code hist_forget(struct store_txn *t, uint64_t id, struct err *e)
{
    unsigned char k[15], v[12];
    uint64_t commit = store_txn_id(t);
    uint32_t n = commit == last_commit ? seq : 0;

    put_be64(v, commit);
    for (int i = 0; i < 4; i++)
        v[8 + i] = (unsigned char)(n >> (24 - 8 * i));
    return store_put(t, STORE_DB_META, forget_key(k, id), slice_of(v, 12), e);
}

enum err_code pitr_hist_clear(struct store_txn *t, uint64_t id, size_t max, bool *finished,
                              struct err *e)
{
    unsigned char k[15], prefix[9], upto[21];
    struct store_cursor *cur = NULL;
    struct slice v, ck = {0}, cv = {0};
    size_t n = 0;
    enum err_code rc = store_get(t, STORE_DB_META, forget_key(k, id), &v, e);

    *finished = true;
    if (rc == ERR_NOTFOUND)
        return ERR_OK;
    if (!rc && v.len != 12)
        rc = err_set(e, ERR_INTERNAL, "corrupt PITR clearing record");
    if (rc)
        return rc;
    hist_prefix(prefix, id);
    memcpy(upto, prefix, 9);
    memcpy(upto + 9, v.ptr, 12);
    rc = store_cursor_open(t, STORE_DB_LOG, &cur, e);
    while (!rc && n < max) {
        rc = store_cursor_seek(cur, slice_of(prefix, 9), &ck, &cv, e);
        if (!rc && (!in_table(ck, prefix) || memcmp(ck.ptr, upto, 21) > 0))
            rc = ERR_NOTFOUND;
        if (!rc)
            rc = store_cursor_del(cur, e);
        n++;
    }
    store_cursor_close(cur);
    *finished = rc == ERR_NOTFOUND;
    if (rc == ERR_NOTFOUND)
        rc = store_del(t, STORE_DB_META, forget_key(k, id), e);
    return rc;
}

enum err_code pitr_on_write(struct store_txn *t, const struct table_keys *k, const cJSON *old,
                            const cJSON *new_item, const char *new_json, size_t new_len,
                            struct err *e)
{
    static int64_t last_ms;
    unsigned char key[21];
    struct pitr p;
    struct buf v;
    cJSON *parsed = NULL;
    int64_t now = clock_wall_ms();
    uint64_t commit = store_txn_id(t);
    enum err_code rc;

    if (!old && !new_json)
        return ERR_OK;
    rc = pitr_get(t, k->id, &p, e);
    if (rc == ERR_NOTFOUND)
        return ERR_OK;
    if (rc)
        return rc;
    if (now < last_ms)
        now = last_ms;
    last_ms = now;
    if (commit != last_commit) {
        last_commit = commit;
        seq = 0;
    }
    /* trimming rides on the writes: a few expired records each time */
    rc = hist_drop(t, k->id, now - p.days * day_ms, PITR_TRIM_PER_WRITE, e);
    if (rc)
        return rc;
    hist_prefix(key, k->id);
    put_be64(key + 9, commit);
    seq++;
    for (int i = 0; i < 4; i++)
        key[17 + i] = (unsigned char)(seq >> (24 - 8 * i));
    buf_init(&v, 0);
    buf_append(&v, "\0\0\0\0\0\0\0\0", 8);
    put_be64((unsigned char *)v.ptr, (uint64_t)now);
    if (old) {
        char *text = cJSON_PrintUnformatted(old);

        buf_putc(&v, 'I');
        buf_puts(&v, text);
        free(text);
    } else {
        if (!new_item)
            new_item = parsed = cJSON_ParseWithLength(new_json, new_len);
        if (!new_item) {
            buf_free(&v);
            return err_set(e, ERR_INTERNAL, "PITR: new image is not JSON");
        }
        buf_putc(&v, 'K');
        item_key_json(&v, k, new_item);
    }
    rc = store_put(t, STORE_DB_LOG, slice_of(key, 21), slice_of(v.ptr, v.len), e);
    buf_free(&v);
    cJSON_Delete(parsed);
    return rc;
}

/* sweep_apply - trim the expired history of every table with PITR, up to
 * PITR_SWEEP_MAX records each (the rest at the next pass). */
enum { PITR_SWEEP_MAX = 4096 };

static enum err_code sweep_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct store_cursor *cur = NULL;
    struct slice k = {0}, v = {0};
    unsigned char pos[13];
    int64_t now = clock_wall_ms();
    enum err_code rc;

    (void)arg;
    memcpy(pos, "pitr/", 5);
    memset(pos + 5, 0, 8);
    for (;;) {
        uint64_t id;
        int64_t days;

        rc = store_cursor_open(t, STORE_DB_META, &cur, e);
        if (!rc)
            rc = store_cursor_seek(cur, slice_of(pos, 13), &k, &v, e);
        if (!rc && k.len == 13 && memcmp(k.ptr, pos, 13) == 0)
            rc = store_cursor_next(cur, &k, &v, e);
        if (rc == ERR_NOTFOUND || (!rc && (k.len != 13 || memcmp(k.ptr, "pitr/", 5) != 0))) {
            rc = ERR_OK;
            break;
        }
        if (rc)
            break;
        memcpy(pos, k.ptr, 13);
        id = get_be64(pos + 5);
        days = v.len == 16 ? (int64_t)get_be64((const unsigned char *)v.ptr + 8) : PITR_DAYS_MAX;
        store_cursor_close(cur);
        cur = NULL;
        rc = hist_drop(t, id, now - days * day_ms, PITR_SWEEP_MAX, e);
        if (rc)
            break;
    }
    store_cursor_close(cur);
    return rc;
}

enum err_code pitr_sweep(struct store *s, struct err *e)
{
    return store_write(s, sweep_apply, NULL, e);
}

/* ---- UpdateContinuousBackups / DescribeContinuousBackups ---- */

/* describe - ContinuousBackupsDescription: continuous backups (on-demand
 * backups) are ENABLED on every table, as DynamoDB describes them once a
 * table is created; point-in-time recovery is what the table has. */
static char *describe(const struct pitr *p, bool on, int64_t now)
{
    struct buf b;

    buf_init(&b, 0);
    if (!on) {
        buf_puts(&b, "{\"ContinuousBackupsStatus\":\"ENABLED\",\"PointInTimeRecoveryDescription\":"
                     "{\"PointInTimeRecoveryStatus\":\"DISABLED\"}}");
        return b.ptr;
    }
    buf_printf(&b,
               "{\"ContinuousBackupsStatus\":\"ENABLED\",\"PointInTimeRecoveryDescription\":{"
               "\"PointInTimeRecoveryStatus\":\"ENABLED\",\"RecoveryPeriodInDays\":%lld,"
               "\"EarliestRestorableDateTime\":%.3f,\"LatestRestorableDateTime\":%.3f}}",
               (long long)p->days, (double)earliest(p, now) / 1000.0, (double)now / 1000.0);
    return b.ptr;
}

struct update {
    struct ddb_call *c;
    const char *table;
    uint64_t forget; /* the table whose history goes after the answer */
    bool on;
    int64_t days; /* 0: not given */
    char *out;    /* owned */
};

static enum err_code update_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct update *x = arg;
    struct table_keys k;
    struct pitr p = {0};
    unsigned char sk[13];
    int64_t now = clock_wall_ms();
    enum err_code rc = table_keys_get(t, x->table, &k, e);

    x->forget = 0;
    if (rc == ERR_NOTFOUND)
        return err_set(e, ERR_NOTFOUND, "Table not found: %s", x->table);
    if (rc)
        return rc;
    rc = pitr_get(t, k.id, &p, e);
    if (rc && rc != ERR_NOTFOUND)
        return rc;
    if (x->on) {
        if (rc == ERR_NOTFOUND) {
            p.since = now;
            p.days = PITR_DAYS_MAX;
        }
        if (x->days)
            p.days = x->days;
        rc = pitr_put(t, k.id, &p, e);
    } else {
        rc = store_del(t, STORE_DB_META, set_key(sk, k.id), e);
        if (rc == ERR_NOTFOUND)
            rc = ERR_OK;
        if (!rc) /* turning PITR off discards the history, in pieces */
            rc = hist_forget(t, k.id, e);
        x->forget = rc == ERR_OK ? k.id : 0;
    }
    if (!rc)
        rc = table_keys_set_pitr(t, x->table, x->on, e);
    free(x->out);
    x->out = describe(&p, x->on, now);
    return rc;
}

static void update_done(void *arg, enum err_code rc, const struct err *e)
{
    struct update *x = arg;

    if (rc == ERR_OK && x->forget)
        backup_job_forget(x->c->d, x->forget);
    backup_reply_done(x->c, rc, e, "TableNotFoundException", "ContinuousBackupsDescription",
                      x->out);
}

static const char *table_arg(struct ddb_call *c, const char *member, const char *path)
{
    const char *s = ddb_arg_str(c, c->in, member);

    ddb_check_len(c, s, path, 1, DDB_TABLE_ARG_MAX, true);
    return backup_table_name(c, s);
}

void pitr_update(struct ddb_call *c)
{
    const char *table = table_arg(c, "TableName", "tableName");
    const cJSON *spec = ddb_arg_obj(c, c->in, "PointInTimeRecoverySpecification");
    struct update *x = arena_calloc(c->a, sizeof(*x));
    bool has_days = false;

    if (!spec) {
        ddb_verr_null(c, "pointInTimeRecoverySpecification");
    } else {
        if (!ddb_arg_bool(c, spec, "PointInTimeRecoveryEnabled", &x->on))
            ddb_verr_null(c, "pointInTimeRecoverySpecification.pointInTimeRecoveryEnabled");
        has_days = ddb_arg_int(c, spec, "RecoveryPeriodInDays", &x->days);
        ddb_check_range(c, has_days, x->days,
                        "pointInTimeRecoverySpecification.recoveryPeriodInDays", 1, PITR_DAYS_MAX);
    }
    if (ddb_args_failed(c))
        return;
    if (has_days && !x->on) {
        ddb_reply_err(c, ERR_INVALID,
                      "RecoveryPeriodInDays can only be set when PointInTimeRecoveryEnabled "
                      "is true");
        return;
    }
    x->c = c;
    x->table = table;
    store_submit(c->d->store, update_apply, update_done, x);
}

void pitr_describe(struct ddb_call *c)
{
    const char *table = table_arg(c, "TableName", "tableName");
    struct store_txn *t = NULL;
    struct table_keys k;
    struct pitr p = {0};
    struct err e = {0};
    struct buf b;
    char *out;
    enum err_code rc;

    if (ddb_args_failed(c))
        return;
    rc = store_read_begin(c->d->store, &t, &e);
    if (!rc)
        rc = table_keys_get(t, table, &k, &e);
    if (rc == ERR_NOTFOUND) {
        store_txn_abort(t);
        ddb_reply_type(c, "TableNotFoundException", "Table not found: %s", table);
        return;
    }
    if (!rc)
        rc = pitr_get(t, k.id, &p, &e);
    store_txn_abort(t);
    if (rc && rc != ERR_NOTFOUND) {
        ddb_reply_err(c, rc, e.msg);
        return;
    }
    out = describe(&p, rc == ERR_OK, clock_wall_ms());
    buf_init(&b, 0);
    buf_printf(&b, "{\"ContinuousBackupsDescription\":%s}", out);
    free(out);
    ddb_reply(c, &b);
}

/* ---- RestoreTableToPointInTime ---- */

struct restore {
    struct backup_source b; /* first: the fill's arg is either */
    const char *source;
};

enum err_code pitr_enabled(struct store_txn *t, uint64_t id, struct err *e)
{
    struct pitr p;

    return pitr_get(t, id, &p, e);
}

enum err_code pitr_collect_undo(struct store_txn *t, uint64_t id, int64_t when, struct buf *pos,
                                struct backup_piece *p, struct err *e)
{
    unsigned char prefix[9];
    struct store_cursor *cur = NULL;
    struct slice k = {0}, v = {0};
    enum err_code rc;

    hist_prefix(prefix, id);
    if (!pos->len) { /* from the newest */
        buf_append(pos, prefix, 9);
        buf_append(pos, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 12);
    }
    rc = store_cursor_open(t, STORE_DB_LOG, &cur, e);
    if (!rc)
        rc = store_cursor_seek_le(cur, slice_of(pos->ptr, pos->len), &k, &v, e);
    if (!rc && k.len == pos->len && memcmp(k.ptr, pos->ptr, pos->len) == 0)
        rc = store_cursor_prev(cur, &k, &v, e);
    while (!rc && in_table(k, prefix) && !backup_piece_full(p)) {
        if (v.len < 10) {
            rc = err_set(e, ERR_INTERNAL, "corrupt PITR record");
            break;
        }
        if ((int64_t)get_be64(v.ptr) <= when)
            break;
        backup_piece_add(p, ((const char *)v.ptr)[8] == 'I' ? 'I' : 'K', v.ptr, 8,
                         (const char *)v.ptr + 9, v.len - 9);
        buf_reset(pos);
        buf_append(pos, k.ptr, k.len);
        rc = store_cursor_prev(cur, &k, &v, e);
    }
    store_cursor_close(cur);
    return rc == ERR_NOTFOUND ? ERR_OK : rc;
}

static enum err_code restore_fill(struct store_txn *t, void *arg, const char *name, cJSON *desc,
                                  struct err *e)
{
    struct restore *x = arg;
    struct table_keys src;
    struct pitr p;
    enum err_code rc = table_keys_get(t, x->source, &src, e);

    if (!rc && src.id != x->b.src)
        rc = err_set(e, ERR_NOTFOUND, "Table not found: %s", x->source);
    if (!rc)
        rc = pitr_get(t, x->b.src, &p, e);
    if (rc == ERR_NOTFOUND)
        return err_set(e, ERR_INVALID, "Point in time recovery is not enabled for table '%s'",
                       x->source);
    return rc ? rc : backup_restore_fill(t, &x->b, name, desc, e);
}

static void json_free(void *p)
{
    cJSON_Delete(p);
}

void pitr_restore(struct ddb_call *c)
{
    const char *target = ddb_arg_str(c, c->in, "TargetTableName");
    const char *sname = ddb_arg_str(c, c->in, "SourceTableName");
    const char *sarn = ddb_arg_str(c, c->in, "SourceTableArn");
    const cJSON *when = cJSON_GetObjectItemCaseSensitive(c->in, "RestoreDateTime");
    bool latest = false;
    struct store_txn *t = NULL;
    struct table_keys k;
    struct pitr p;
    cJSON *desc = NULL;
    struct restore *x;
    struct table_fill *fill;
    struct err e = {0};
    int64_t now, at;
    enum err_code rc;

    ddb_check_table_name(c, target, "targetTableName");
    if (sname)
        ddb_check_table_name(c, sname, "sourceTableName");
    ddb_arg_bool(c, c->in, "UseLatestRestorableTime", &latest);
    if (when && !cJSON_IsNull(when) && !cJSON_IsNumber(when)) {
        c->serial = true;
        snprintf(c->serial_msg, sizeof(c->serial_msg),
                 "class java.lang.String can not be converted to milliseconds since epoch");
    }
    if (ddb_args_failed(c))
        return;
    if (cJSON_IsNull(when))
        when = NULL;
    if (!sname == !sarn) {
        ddb_reply_err(c, ERR_INVALID,
                      sname ? "Only one of SourceTableName or SourceTableArn can be specified"
                            : "Either SourceTableName or SourceTableArn must be specified");
        return;
    }
    if (when && latest) {
        ddb_reply_err(c, ERR_INVALID,
                      "RestoreDateTime cannot be specified when UseLatestRestorableTime is true");
        return;
    }
    if (!when && !latest) {
        ddb_reply_err(c, ERR_INVALID,
                      "Either RestoreDateTime or UseLatestRestorableTime must be specified");
        return;
    }
    if (!sname)
        sname = backup_table_name(c, sarn);
    rc = store_read_begin(c->d->store, &t, &e);
    if (!rc)
        rc = table_keys_get(t, sname, &k, &e);
    if (!rc)
        rc = table_desc_get(t, sname, &desc, &e);
    if (rc == ERR_NOTFOUND) {
        store_txn_abort(t);
        ddb_reply_type(c, "TableNotFoundException", "Table not found: %s", sname);
        return;
    }
    if (!rc)
        rc = pitr_get(t, k.id, &p, &e);
    store_txn_abort(t);
    if (rc == ERR_NOTFOUND) {
        cJSON_Delete(desc);
        ddb_reply_type(c, "PointInTimeRecoveryUnavailableException",
                       "Point in time recovery is not enabled for table '%s'", sname);
        return;
    }
    if (rc) {
        cJSON_Delete(desc);
        ddb_reply_err(c, rc, e.msg);
        return;
    }
    arena_on_free(c->a, json_free, desc);
    now = clock_wall_ms();
    at = when ? (int64_t)(when->valuedouble * 1000.0 + 0.5) : now;
    if (at < earliest(&p, now) || at > now) {
        ddb_reply_type(c, "InvalidRestoreTimeException",
                       "Invalid restore time: RestoreDateTime must be between "
                       "EarliestRestorableDateTime (%.3f) and LatestRestorableDateTime (%.3f)",
                       (double)earliest(&p, now) / 1000.0, (double)now / 1000.0);
        return;
    }
    x = arena_calloc(c->a, sizeof(*x));
    x->source = sname;
    x->b.d = c->d;
    x->b.src = k.id;
    x->b.when = at;
    x->b.table_arn = arena_strdup(
        c->a, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(desc, "TableArn")) ?: "");
    fill = arena_calloc(c->a, sizeof(*fill));
    fill->fill = restore_fill;
    fill->done = backup_restore_ready;
    fill->arg = x;
    backup_restore_start(c, desc, fill);
}

/* ---- DeleteTable ---- */

enum err_code pitr_table_dropping(struct store_txn *t, const char *name, const cJSON *desc,
                                  uint64_t id, bool *kept, struct err *e)
{
    struct pitr p;
    unsigned char sk[13];
    char bname[300];
    enum err_code rc;

    *kept = false;
    /* a table being restored or imported is CREATING, and DynamoDB words it so */
    if (backup_restoring(desc))
        return err_set(e, ERR_IN_USE,
                       "Attempt to change a resource which is still in use: Table is being "
                       "created: %s",
                       name);
    rc = pitr_get(t, id, &p, e);
    if (rc == ERR_NOTFOUND)
        return ERR_OK;
    if (rc)
        return rc;
    /* DynamoDB keeps a system backup of a deleted table that had PITR */
    snprintf(bname, sizeof(bname), "%s$DeletedTableBackup", name);
    rc = backup_adopt_in_apply(t, name, bname, "SYSTEM", e);
    *kept = rc == ERR_OK;
    if (!rc)
        rc = store_del(t, STORE_DB_META, set_key(sk, id), e);
    if (!rc)
        rc = hist_forget(t, id, e);
    return rc;
}

enum err_code pitr_window(struct store_txn *t, uint64_t id, int64_t now, int64_t *from,
                          struct err *e)
{
    struct pitr p;
    enum err_code rc = pitr_get(t, id, &p, e);

    if (!rc)
        *from = earliest(&p, now);
    return rc;
}

int64_t pitr_day_ms(void)
{
    return day_ms;
}
