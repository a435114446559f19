/* backup_job.c - the background thread of backups and restores: it copies
 * a CreateBackup's snapshot and fills a restore's target table in pieces,
 * each its own store write, and clears what a deleted backup or a restore
 * that did not finish leaves (backup.h).
 *
 * One thread serves every job, a piece at a time, round robin; a new
 * CreateBackup goes first, so it is answered after at most one piece of
 * another job. A job keeps its snapshot (a read transaction) from its first
 * step to its last: LMDB cannot reuse the pages that snapshot still sees
 * meanwhile, so the file may grow by what is rewritten during a copy. */
#include "backup.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "clock.h"
#include "index.h"
#include "item.h"
#include "keys.h"
#include "log.h"
#include "mem.h"
#include "worker.h"

size_t backup_piece_items = 1000;
static long pause_ms;

/* ---- pieces ---- */

void backup_piece_add(struct backup_piece *p, char op, const void *k, size_t kl, const void *v,
                      size_t vl)
{
    struct backup_ent *x;

    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 64;
        p->v = xrealloc(p->v, p->cap * sizeof(*p->v));
    }
    x = &p->v[p->n++];
    x->op = op;
    x->k = kl ? xmemdup(k, kl) : NULL;
    x->kl = kl;
    x->v = xmemdup(v, vl);
    x->vl = vl;
    p->bytes += kl + vl;
}

void backup_piece_clear(struct backup_piece *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->v[i].k);
        free(p->v[i].v);
    }
    free(p->v);
    memset(p, 0, sizeof(*p));
}

bool backup_piece_full(const struct backup_piece *p)
{
    return p->n >= backup_piece_items || p->bytes >= BACKUP_PIECE_BYTES;
}

static bool in_prefix(struct slice k, const struct buf *prefix)
{
    return k.len >= prefix->len && memcmp(k.ptr, prefix->ptr, prefix->len) == 0;
}

enum err_code backup_collect(struct store_txn *t, uint64_t id, uint64_t to, struct buf *pos,
                             struct backup_piece *p, uint64_t *bytes, struct err *e)
{
    struct buf prefix, key;
    struct store_cursor *cur = NULL;
    struct slice k = {0}, v = {0};
    bool resume = pos->len > 0;
    enum err_code rc;

    buf_init(&prefix, 0);
    buf_init(&key, 0);
    keys_append_table(&prefix, id);
    if (!resume)
        buf_append(pos, prefix.ptr, prefix.len);
    rc = store_cursor_open(t, STORE_DB_DATA, &cur, e);
    if (!rc)
        rc = store_cursor_seek(cur, slice_of(pos->ptr, pos->len), &k, &v, e);
    if (!rc && resume && k.len == pos->len && memcmp(k.ptr, pos->ptr, pos->len) == 0)
        rc = store_cursor_next(cur, &k, &v, e);
    while (!rc && in_prefix(k, &prefix) && !backup_piece_full(p)) {
        const char *json;
        size_t n;

        rc = item_decode(v, &json, &n, e);
        if (rc == ERR_OK && to) { /* the backup's own id before the key */
            cJSON *item = cJSON_ParseWithLength(json, n);

            if (!item) {
                rc = err_set(e, ERR_INTERNAL, "corrupt item");
                break;
            }
            *bytes += attr_item_size(item);
            cJSON_Delete(item);
            buf_reset(&key);
            keys_append_table(&key, to);
            buf_append(&key, (const char *)k.ptr + prefix.len, k.len - prefix.len);
            buf_reset(&prefix); /* reused for the value, then set back */
            buf_putc(&prefix, DDB_ITEM_FMT_JSON);
            buf_append(&prefix, json, n);
            backup_piece_add(p, 'P', key.ptr, key.len, prefix.ptr, prefix.len);
            buf_reset(&prefix);
            keys_append_table(&prefix, id);
        } else if (rc == ERR_OK) {
            backup_piece_add(p, 'I', NULL, 0, json, n);
        }
        if (rc && rc != ERR_NOTFOUND) /* ERR_NOTFOUND: a replicated table's tombstone */
            break;
        buf_reset(pos);
        buf_append(pos, k.ptr, k.len);
        rc = store_cursor_next(cur, &k, &v, e);
    }
    if (rc == ERR_NOTFOUND)
        rc = ERR_OK;
    store_cursor_close(cur);
    buf_free(&prefix);
    buf_free(&key);
    return rc;
}

/* ---- the catalog side ---- */

static void id_key(unsigned char *k, const char *prefix, size_t plen, uint64_t id)
{
    memcpy(k, prefix, plen);
    for (int i = 0; i < 8; i++)
        k[plen + i] = (unsigned char)(id >> (56 - 8 * i));
}

enum err_code backup_drop_mark(struct store_txn *t, uint64_t id, struct err *e)
{
    unsigned char k[15];

    id_key(k, "bkdrop/", 7, id);
    return store_put(t, STORE_DB_META, slice_of(k, 15), slice_of("", 0), e);
}

bool backup_restoring(const cJSON *desc)
{
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(desc, "RestoreSummary");

    /* an import (export.h) fills its table the same way */
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rs, "RestoreInProgress")) ||
           cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(desc, "_importing"));
}

static enum err_code del_key(struct store_txn *t, const void *k, size_t n, struct err *e)
{
    enum err_code rc = store_del(t, STORE_DB_META, slice_of(k, n), e);

    return rc == ERR_NOTFOUND ? ERR_OK : rc;
}

enum err_code backup_table_data_drop(struct store_txn *t, uint64_t id, bool keep_items,
                                     uint64_t *ids, size_t *nids, struct err *e)
{
    struct index_set s;
    unsigned char k[14];
    enum err_code rc = index_load(t, id, &s, e);

    *nids = 0;
    if (!rc) {
        id_key(k, "tidx/", 5, id);
        rc = del_key(t, k, 13, e);
    }
    for (size_t i = 0; !rc && i <= s.n && *nids < BACKUP_IDS_MAX; i++) {
        uint64_t x = i ? s.v[i - 1].k.id : id;

        id_key(k, "tstat/", 6, x);
        rc = del_key(t, k, 14, e);
        if (!rc && (i || !keep_items)) {
            rc = backup_drop_mark(t, x, e);
            ids[(*nids)++] = x;
        }
    }
    index_set_free(&s);
    return rc;
}

enum err_code backup_table_remove(struct store_txn *t, const char *name, uint64_t id, uint64_t *ids,
                                  size_t *nids, struct err *e)
{
    static const char *const by_name[] = {"table/", "tkey/", "ttl/"};
    struct buf nk;
    enum err_code rc = ERR_OK;

    *nids = 0;
    buf_init(&nk, 0);
    for (size_t i = 0; !rc && i < 3; i++) {
        buf_reset(&nk);
        buf_puts(&nk, by_name[i]);
        buf_puts(&nk, name);
        rc = del_key(t, nk.ptr, nk.len, e);
    }
    buf_free(&nk);
    return rc ? rc : backup_table_data_drop(t, id, false, ids, nids, e);
}

/* ---- jobs ---- */

enum kind { JOB_BACKUP, JOB_RESTORE, JOB_DROP, JOB_HIST };
enum phase { PH_START, PH_COPY, PH_UNDO, PH_FINISH, PH_DONE };

struct backup_job {
    struct backup_job *next;
    enum kind kind;
    enum phase phase;
    bool ready;
    struct ddb_call *c;       /* CreateBackup until answered */
    char *table, *name, *arn; /* owned */
    uint64_t src, to;         /* JOB_BACKUP: the table's id, the backup's data id */
    bool pitr;
    int64_t when;
    struct store_txn *snap;
    struct buf pos;
    uint64_t count, bytes;
    uint64_t ids[BACKUP_IDS_MAX]; /* JOB_DROP: what is left to clear */
    size_t nids;
};

struct backup_jobs {
    struct ddb *d;
    struct worker *worker; /* the thread; NULL once quiesced */
    pthread_mutex_t mu;    /* guards what follows, and worker */
    bool closed;           /* shutting down: no job is queued or made ready */
    struct backup_job *head;
};

static struct backup_job *job_new(enum kind kind)
{
    struct backup_job *j = xcalloc(1, sizeof(*j));

    j->kind = kind;
    buf_init(&j->pos, 0);
    return j;
}

static void job_free(struct backup_job *j)
{
    store_txn_abort(j->snap);
    buf_free(&j->pos);
    free(j->table);
    free(j->name);
    free(j->arn);
    free(j);
}

/* job_add - queue @j; false when it was dropped instead (freed). */
static bool job_add(struct ddb *d, struct backup_job *j)
{
    struct backup_jobs *J = d->jobs;
    struct backup_job **p;

    if (!J) { /* no thread: the next start clears what is left */
        job_free(j);
        return false;
    }
    pthread_mutex_lock(&J->mu);
    if (J->closed) { /* shutting down: the next start clears what is left */
        pthread_mutex_unlock(&J->mu);
        job_free(j);
        return false;
    }
    for (p = &J->head; *p; p = &(*p)->next)
        ;
    *p = j;
    worker_kick(J->worker);
    pthread_mutex_unlock(&J->mu);
    return true;
}

/* to_drop - make @j a job clearing @ids. */
static void to_drop(struct backup_job *j, const uint64_t *ids, size_t n)
{
    store_txn_abort(j->snap);
    j->snap = NULL;
    j->kind = JOB_DROP;
    j->phase = PH_START;
    memcpy(j->ids, ids, n * sizeof(*ids));
    j->nids = n;
}

/* ---- clearing ---- */

struct drop {
    uint64_t id;
    bool finished;
};

static enum err_code drop_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct drop *x = arg;
    struct buf prefix;
    struct store_cursor *cur = NULL;
    struct slice k = {0}, v = {0};
    unsigned char mk[15];
    size_t n = 0;
    enum err_code rc;

    x->finished = false;
    buf_init(&prefix, 0);
    keys_append_table(&prefix, x->id);
    rc = store_cursor_open(t, STORE_DB_DATA, &cur, e);
    while (!rc && n < backup_piece_items) {
        rc = store_cursor_seek(cur, slice_of(prefix.ptr, prefix.len), &k, &v, e);
        if (!rc && !in_prefix(k, &prefix))
            rc = ERR_NOTFOUND;
        if (!rc)
            rc = store_cursor_del(cur, e);
        n++;
    }
    store_cursor_close(cur);
    buf_free(&prefix);
    if (rc == ERR_NOTFOUND) {
        x->finished = true;
        id_key(mk, "bkdrop/", 7, x->id);
        rc = del_key(t, mk, 15, e);
    }
    return rc;
}

static bool drop_step(struct ddb *d, struct backup_job *j)
{
    struct drop x = {.id = j->ids[0]};
    struct err e = {0};

    if (!j->nids)
        return true;
    if (store_write(d->store, drop_apply, &x, &e)) {
        log_warn("event=backup_clear_failed id=%llu code=%s msg=\"%s\"", (unsigned long long)x.id,
                 err_name(e.code), e.msg);
        return true; /* the record stays: the next start goes on */
    }
    if (x.finished) {
        memmove(j->ids, j->ids + 1, (j->nids - 1) * sizeof(*j->ids));
        j->nids--;
    }
    return j->nids == 0;
}

struct hist {
    uint64_t id;
    bool finished;
};

static enum err_code hist_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct hist *x = arg;

    return pitr_hist_clear(t, x->id, backup_piece_items, &x->finished, e);
}

/* hist_step - a piece of a table's PITR history goes; whether all has. */
static bool hist_step(struct ddb *d, struct backup_job *j)
{
    struct hist x = {.id = j->src};
    struct err e = {0};

    if (store_write(d->store, hist_apply, &x, &e)) {
        log_warn("event=pitr_clear_failed id=%llu code=%s msg=\"%s\"", (unsigned long long)x.id,
                 err_name(e.code), e.msg);
        return true; /* the record stays: the next start goes on */
    }
    return x.finished;
}

void backup_job_forget(struct ddb *d, uint64_t id)
{
    struct backup_job *j = job_new(JOB_HIST);

    j->ready = true;
    j->src = id;
    job_add(d, j);
}

void backup_job_drop(struct ddb *d, uint64_t id)
{
    struct backup_job *j = job_new(JOB_DROP);

    j->ready = true;
    to_drop(j, &id, 1);
    job_add(d, j);
}

/* ---- CreateBackup ---- */

struct bk {
    const char *arn, *table;
    uint64_t src, to;
    cJSON *meta;
    struct backup_piece *p;
    uint64_t count, bytes;
    bool done;
};

static enum err_code bk_start_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct bk *x = arg;
    struct table_keys k;
    enum err_code rc = table_keys_get(t, x->table, &k, e);

    if (!rc && k.id != x->src)
        rc = ERR_NOTFOUND;
    if (rc == ERR_NOTFOUND)
        return err_set(e, ERR_NOTFOUND, "Table not found: %s", x->table);
    if (!rc)
        rc = store_next_id(t, &x->to, e);
    if (rc)
        return rc;
    cJSON_ReplaceItemInObjectCaseSensitive(x->meta, "_data", cJSON_CreateNumber((double)x->to));
    return backup_meta_put(t, x->meta, e);
}

/* bk_apply - a piece of the copy (@x->p), or with @x->done its end. */
static enum err_code bk_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct bk *x = arg;
    cJSON *meta = NULL;
    const char *st;
    enum err_code rc = backup_meta_get(t, x->arn, &meta, e);

    st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta, "BackupStatus"));
    if (!rc && (!st || strcmp(st, "CREATING") != 0))
        rc = err_set(e, ERR_NOTFOUND, "Backup not found: %s", x->arn);
    for (size_t i = 0; !rc && x->p && i < x->p->n; i++)
        rc = store_put(t, STORE_DB_DATA, slice_of(x->p->v[i].k, x->p->v[i].kl),
                       slice_of(x->p->v[i].v, x->p->v[i].vl), e);
    if (!rc && x->done) {
        cJSON_ReplaceItemInObjectCaseSensitive(meta, "BackupStatus",
                                               cJSON_CreateString("AVAILABLE"));
        cJSON_DeleteItemFromObjectCaseSensitive(meta, "BackupSizeBytes");
        cJSON_AddNumberToObject(meta, "BackupSizeBytes", (double)x->bytes);
        cJSON_ReplaceItemInObjectCaseSensitive(meta, "_count",
                                               cJSON_CreateNumber((double)x->count));
        rc = backup_meta_put(t, meta, e);
    }
    cJSON_Delete(meta);
    return rc;
}

/* bk_abandon_apply - a backup that will not be AVAILABLE goes; its items
 * are cleared in the background. */
static enum err_code bk_abandon_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct bk *x = arg;
    cJSON *meta = NULL;
    enum err_code rc = backup_meta_get(t, x->arn, &meta, e);
    const char *st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta, "BackupStatus"));

    x->done = false; /* here: whether its items are to go */
    if (rc == ERR_NOTFOUND) {
        rc = ERR_OK;
        x->done = true;
    } else if (!rc && st && strcmp(st, "CREATING") == 0) {
        rc = backup_meta_del(t, x->arn, e);
        x->done = true;
    } /* else it did become AVAILABLE (its last commit's flush failed) */
    if (!rc && x->done)
        rc = backup_drop_mark(t, x->to, e);
    cJSON_Delete(meta);
    return rc;
}

static void bk_answer_error(struct backup_job *j, enum err_code rc, const struct err *e)
{
    if (rc == ERR_NOTFOUND)
        ddb_reply_type(j->c, "TableNotFoundException", "Table not found: %s", j->table);
    else
        ddb_reply_err(j->c, rc, e->msg);
    j->c = NULL;
    j->phase = PH_DONE;
}

static enum err_code bk_start(struct ddb *d, struct backup_job *j, struct err *e)
{
    struct table_keys k = {0};
    cJSON *desc = NULL;
    struct bk x = {.table = j->table};
    enum err_code rc = store_read_begin(d->store, &j->snap, e);

    if (!rc)
        rc = table_desc_get(j->snap, j->table, &desc, e);
    if (!rc && !backup_restoring(desc))
        rc = table_keys_get(j->snap, j->table, &k, e);
    if (rc) {
        cJSON_Delete(desc);
        bk_answer_error(j, rc, e);
        return ERR_OK;
    }
    if (backup_restoring(desc)) {
        cJSON_Delete(desc);
        ddb_reply_type(j->c, "TableInUseException", "Table is being restored: %s", j->table);
        j->c = NULL;
        j->phase = PH_DONE;
        return ERR_OK;
    }
    x.src = j->src = k.id;
    x.meta = backup_meta_new(j->snap, j->table, &k, desc, j->name, "USER", "CREATING");
    rc = store_write(d->store, bk_start_apply, &x, e);
    if (rc) {
        cJSON_Delete(x.meta);
        bk_answer_error(j, rc, e);
        return ERR_OK;
    }
    j->to = x.to;
    j->arn =
        xstrdup(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x.meta, "BackupArn")) ?: "");
    backup_reply_done(j->c, ERR_OK, e, "", "BackupDetails", backup_details(x.meta));
    cJSON_Delete(x.meta);
    j->c = NULL;
    j->phase = PH_COPY;
    log_info("event=backup_started arn=%s table=%s", j->arn, j->table);
    return ERR_OK;
}

static enum err_code bk_step(struct ddb *d, struct backup_job *j, struct err *e)
{
    struct backup_piece p = {0};
    struct bk x = {.arn = j->arn, .p = &p};
    enum err_code rc;

    if (j->phase == PH_START)
        return bk_start(d, j, e);
    rc = backup_collect(j->snap, j->src, j->to, &j->pos, &p, &j->bytes, e);
    if (!rc) {
        j->count += p.n;
        x.done = p.n == 0;
        x.count = j->count;
        x.bytes = j->bytes;
        rc = store_write(d->store, bk_apply, &x, e);
    }
    backup_piece_clear(&p);
    if (!rc && x.done) {
        j->phase = PH_DONE;
        log_info("event=backup_available arn=%s items=%llu", j->arn, (unsigned long long)j->count);
    }
    return rc;
}

void backup_job_create(struct ddb_call *c, const char *table, const char *name)
{
    struct backup_job *j = job_new(JOB_BACKUP);

    j->c = c;
    j->table = xstrdup(table);
    j->name = xstrdup(name);
    j->ready = true;
    job_add(c->d, j);
}

/* ---- restores ---- */

struct rs {
    const char *table;
    uint64_t to;
    const struct backup_piece *p;
    bool done;
};

/* rs_apply - a piece of a restore into its target, or with @x->done its end. */
static enum err_code rs_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct rs *x = arg;
    struct table_keys k;
    cJSON *desc = NULL;
    enum err_code rc = table_keys_get_any(t, x->table, &k, e);

    if (!rc && k.id != x->to)
        rc = err_set(e, ERR_NOTFOUND, "the table being restored is gone: %s", x->table);
    for (size_t i = 0; !rc && x->p && i < x->p->n; i++) {
        const struct backup_ent *en = &x->p->v[i];
        cJSON *item = cJSON_ParseWithLength(en->v, en->vl);

        if (!item)
            return err_set(e, ERR_INTERNAL, "corrupt item in a restore's source");
        rc = backup_item_set(t, &k, en->op == 'K' ? NULL : en->v, en->vl, item, e);
        cJSON_Delete(item);
    }
    if (!rc && x->done) {
        rc = table_desc_get(t, x->table, &desc, e);
        if (!rc) {
            cJSON *sum = cJSON_GetObjectItemCaseSensitive(desc, "RestoreSummary");

            cJSON_ReplaceItemInObjectCaseSensitive(sum, "RestoreInProgress", cJSON_CreateFalse());
            rc = table_desc_put(t, x->table, desc, e);
            if (!rc)
                rc = table_keys_set_restoring(t, x->table, false, e);
        }
        cJSON_Delete(desc);
    }
    return rc;
}

struct rm {
    const char *table;
    uint64_t id;
    uint64_t ids[BACKUP_IDS_MAX];
    size_t nids;
};

/* rm_apply - a restore target that will not be ACTIVE goes. */
static enum err_code rm_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct rm *x = arg;
    struct table_keys k;
    cJSON *desc = NULL;
    enum err_code rc = table_keys_get_any(t, x->table, &k, e);

    x->nids = 0;
    if (!rc)
        rc = table_desc_get(t, x->table, &desc, e);
    /* gone, or it did become ACTIVE (its last commit's flush failed) */
    if (rc == ERR_NOTFOUND || (!rc && (k.id != x->id || !backup_restoring(desc))))
        rc = ERR_OK;
    else if (!rc)
        rc = backup_table_remove(t, x->table, x->id, x->ids, &x->nids, e);
    cJSON_Delete(desc);
    return rc;
}

/* rs_source_ok - whether the restore's source is there in its snapshot. */
static bool rs_source_ok(struct backup_job *j, struct err *e)
{
    cJSON *meta = NULL;
    bool ok;

    if (j->pitr)
        return pitr_enabled(j->snap, j->src, e) == ERR_OK;
    ok = backup_meta_get(j->snap, j->arn, &meta, e) == ERR_OK &&
         cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(meta, "_data")) == (double)j->src;
    cJSON_Delete(meta);
    return ok;
}

static enum err_code rs_step(struct ddb *d, struct backup_job *j, struct err *e)
{
    struct backup_piece p = {0};
    struct rs x = {.table = j->table, .to = j->to, .p = &p};
    enum err_code rc = ERR_OK;

    if (j->phase == PH_START) {
        struct table_keys k = {0};
        cJSON *desc = NULL;

        rc = store_read_begin(d->store, &j->snap, e);
        if (!rc)
            rc = table_keys_get_any(j->snap, j->table, &k, e);
        if (!rc)
            rc = table_desc_get(j->snap, j->table, &desc, e);
        if (!rc && (k.id != j->to || !backup_restoring(desc)))
            rc = ERR_NOTFOUND;
        cJSON_Delete(desc);
        if (rc == ERR_NOTFOUND) { /* its creation did not happen */
            j->phase = PH_DONE;
            return ERR_OK;
        }
        if (!rc && !rs_source_ok(j, e))
            rc = err_set(e, ERR_NOTFOUND, "the restore's source is gone");
        if (!rc)
            j->phase = PH_COPY;
        return rc;
    }
    if (j->phase == PH_COPY)
        rc = backup_collect(j->snap, j->src, 0, &j->pos, &p, NULL, e);
    else if (j->phase == PH_UNDO)
        rc = pitr_collect_undo(j->snap, j->src, j->when, &j->pos, &p, e);
    if (!rc && p.n == 0) {
        buf_reset(&j->pos);
        j->phase = j->phase == PH_COPY && j->pitr ? PH_UNDO : PH_FINISH;
    }
    x.done = j->phase == PH_FINISH;
    if (!rc && (p.n || x.done))
        rc = store_write(d->store, rs_apply, &x, e);
    j->count += p.n;
    backup_piece_clear(&p);
    if (!rc && x.done) {
        j->phase = PH_DONE;
        log_info("event=restore_done table=%s writes=%llu", j->table, (unsigned long long)j->count);
    }
    return rc;
}

struct backup_job *backup_job_restore(struct ddb *d, const char *target, uint64_t to, uint64_t src,
                                      const char *arn, bool pitr, int64_t when)
{
    struct backup_job *j = job_new(JOB_RESTORE);

    j->table = xstrdup(target);
    j->arn = xstrdup(arn ? arn : "");
    j->to = to;
    j->src = src;
    j->pitr = pitr;
    j->when = when;
    /* listed (backup_in_restore), not run before ready */
    return job_add(d, j) ? j : NULL;
}

void backup_job_ready(struct ddb *d, struct backup_job *j)
{
    struct backup_jobs *J = d->jobs;

    if (!J || !j)
        return;
    pthread_mutex_lock(&J->mu);
    if (!J->closed) /* else the thread has freed it */
        j->ready = true;
    worker_kick(J->worker);
    pthread_mutex_unlock(&J->mu);
}

bool backup_in_restore(struct ddb *d, const char *arn)
{
    struct backup_jobs *J = d->jobs;
    bool found = false;

    if (!J)
        return false;
    pthread_mutex_lock(&J->mu);
    for (struct backup_job *j = J->head; j && !found; j = j->next)
        found = j->kind == JOB_RESTORE && !j->pitr && j->arn && strcmp(j->arn, arn) == 0;
    pthread_mutex_unlock(&J->mu);
    return found;
}

/* ---- the thread ---- */

/* fail - a copy that cannot go on: its backup or target table goes. */
static void fail(struct ddb *d, struct backup_job *j, const struct err *e)
{
    struct err e2 = {0};

    log_warn("event=%s_failed name=%s code=%s msg=\"%s\"",
             j->kind == JOB_BACKUP ? "backup" : "restore", j->arn ? j->arn : j->table,
             err_name(e->code), e->msg);
    if (j->kind == JOB_BACKUP) {
        struct bk x = {.arn = j->arn, .to = j->to};

        if (store_write(d->store, bk_abandon_apply, &x, &e2) == ERR_OK) {
            to_drop(j, &j->to, x.done ? 1 : 0);
            return;
        }
    } else {
        struct rm x = {.table = j->table, .id = j->to};

        if (store_write(d->store, rm_apply, &x, &e2) == ERR_OK) {
            to_drop(j, x.ids, x.nids);
            return;
        }
    }
    j->phase = PH_DONE; /* the next start clears it */
}

/* step - one piece of @j; whether @j is finished. */
static bool step(struct ddb *d, struct backup_job *j)
{
    struct err e = {0};
    enum err_code rc;

    if (j->kind == JOB_DROP)
        return drop_step(d, j);
    if (j->kind == JOB_HIST)
        return hist_step(d, j);
    rc = j->kind == JOB_BACKUP ? bk_step(d, j, &e) : rs_step(d, j, &e);
    if (rc == ERR_NOTFOUND && j->kind == JOB_RESTORE && j->phase != PH_START)
        return true; /* the target table is gone (refused while restoring) */
    if (rc) {
        fail(d, j, &e);
        return j->kind != JOB_DROP;
    }
    return j->phase == PH_DONE;
}

/* pick - the next job to step: one that has not begun first (a CreateBackup
 * waits for its answer, a restore's snapshot is best taken soon), else the
 * first ready one. */
static struct backup_job **pick(struct backup_jobs *J)
{
    struct backup_job **p, **first = NULL;

    for (p = &J->head; *p; p = &(*p)->next) {
        if ((*p)->ready && (*p)->kind <= JOB_RESTORE && (*p)->phase == PH_START)
            return p;
        if ((*p)->ready && !first)
            first = p;
    }
    return first;
}

/* pause_piece - pause_ms between two pieces, ended early by a stop or by a job
 * that has not begun: it does not wait (J->mu not held). */
static void pause_piece(struct backup_jobs *J, struct worker *w)
{
    int64_t end = clock_mono_us() / 1000 + pause_ms, left;

    while ((left = end - clock_mono_us() / 1000) > 0 && worker_wait(w, left)) {
        struct backup_job **p;
        bool fresh;

        pthread_mutex_lock(&J->mu);
        p = pick(J);
        fresh = p && (*p)->phase == PH_START;
        pthread_mutex_unlock(&J->mu);
        if (fresh)
            break;
    }
}

/* abandon - free the queued jobs, once closed: the next start clears what
 * they left (J->mu held). */
static void abandon(struct backup_jobs *J)
{
    while (J->head) {
        struct backup_job *j = J->head;

        J->head = j->next;
        if (j->c) /* a CreateBackup not begun: nothing was written */
            ddb_reply_err(j->c, ERR_IO, "the region is shutting down; ask again");
        job_free(j);
    }
}

/* runner - step the queued jobs in turn until closed. Waits drop J->mu: job_add
 * and backup_job_ready kick under it, so no queued job is missed. */
static void runner(struct worker *w, void *arg)
{
    struct backup_jobs *J = arg;

    pthread_mutex_lock(&J->mu);
    while (!J->closed) {
        struct backup_job **p = pick(J), *j, **tail;
        bool done;

        if (!p) {
            pthread_mutex_unlock(&J->mu);
            worker_wait(w, -1);
            pthread_mutex_lock(&J->mu);
            continue;
        }
        j = *p;
        pthread_mutex_unlock(&J->mu);
        done = step(J->d, j);
        pthread_mutex_lock(&J->mu);
        for (p = &J->head; *p != j; p = &(*p)->next)
            ;
        *p = j->next; /* out; to the end unless finished: round robin */
        j->next = NULL;
        if (done) {
            job_free(j);
            continue;
        }
        for (tail = &J->head; *tail; tail = &(*tail)->next)
            ;
        *tail = j;
        if (pause_ms > 0 && !J->closed) {
            pthread_mutex_unlock(&J->mu);
            pause_piece(J, w);
            pthread_mutex_lock(&J->mu);
        }
    }
    abandon(J);
    pthread_mutex_unlock(&J->mu);
}

/* ---- start: what a cut-off run left ---- */

struct leftover {
    char kind; /* 'b' backup CREATING, 't' table being restored, 'd' bkdrop, 'h' bkhist */
    char *name;
    uint64_t id;
};

static enum err_code scan(struct store *s, struct leftover **out, size_t *n, struct err *e)
{
    static const char *const prefixes[] = {"backup/", "table/", "bkdrop/", "bkhist/"};
    struct store_txn *t = NULL;
    struct store_cursor *cur = NULL;
    struct slice k = {0}, v = {0};
    size_t cap = 0;
    enum err_code rc = store_read_begin(s, &t, e);

    *out = NULL;
    *n = 0;
    if (!rc)
        rc = store_cursor_open(t, STORE_DB_META, &cur, e);
    for (size_t i = 0; !rc && i < 4; i++) {
        size_t pl = strlen(prefixes[i]);

        for (rc = store_cursor_seek(cur, slice_of(prefixes[i], pl), &k, &v, e);
             !rc && k.len > pl && memcmp(k.ptr, prefixes[i], pl) == 0;
             rc = store_cursor_next(cur, &k, &v, e)) {
            cJSON *j = i < 2 ? cJSON_ParseWithLength(v.ptr, v.len) : NULL;
            const char *st =
                cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "BackupStatus"));
            struct leftover l = {"btdh"[i], NULL, 0};

            if ((i == 0 && st && strcmp(st, "CREATING") == 0) || (i == 1 && backup_restoring(j)) ||
                (i >= 2 && k.len == 15)) {
                l.name = xcalloc(1, k.len - pl + 1);
                memcpy(l.name, (const char *)k.ptr + pl, k.len - pl);
                if (i < 2)
                    l.id = (uint64_t)cJSON_GetNumberValue(
                        cJSON_GetObjectItemCaseSensitive(j, i == 0 ? "_data" : "_id"));
                for (size_t b = 0; i >= 2 && b < 8; b++)
                    l.id = l.id << 8 | ((const unsigned char *)k.ptr)[pl + b];
                if (*n == cap) {
                    cap = cap ? cap * 2 : 8;
                    *out = xrealloc(*out, cap * sizeof(**out));
                }
                (*out)[(*n)++] = l;
            }
            cJSON_Delete(j);
        }
        if (rc == ERR_NOTFOUND || (!rc && i < 2))
            rc = ERR_OK;
    }
    store_cursor_close(cur);
    store_txn_abort(t);
    return rc;
}

static enum err_code clear_leftovers(struct ddb *d, struct err *e)
{
    struct leftover *l = NULL;
    size_t n = 0;
    enum err_code rc = scan(d->store, &l, &n, e);

    for (size_t i = 0; i < n; i++) {
        struct backup_job *j = job_new(JOB_DROP);
        struct err e2 = {0};

        j->ready = true;
        if (l[i].kind == 'b') {
            struct bk x = {.arn = l[i].name, .to = l[i].id};

            if (store_write(d->store, bk_abandon_apply, &x, &e2))
                x.done = false; /* tried again at the next start */
            to_drop(j, &x.to, x.done ? 1 : 0);
            log_warn("event=backup_removed arn=%s why=\"cut off while CREATING\"", l[i].name);
        } else if (l[i].kind == 't') {
            struct rm x = {.table = l[i].name, .id = l[i].id};

            if (store_write(d->store, rm_apply, &x, &e2))
                x.nids = 0;
            to_drop(j, x.ids, x.nids);
            log_warn("event=restore_removed table=%s why=\"cut off while CREATING\"", l[i].name);
        } else if (l[i].kind == 'd') {
            to_drop(j, &l[i].id, 1);
        } else {
            j->kind = JOB_HIST;
            j->src = l[i].id;
        }
        if (l[i].kind == 'd' || l[i].kind == 'h')
            log_info("event=backup_clear_resumed id=%llu what=%s", (unsigned long long)l[i].id,
                     l[i].kind == 'd' ? "items" : "history");
        job_add(d, j);
    }
    for (size_t i = 0; i < n; i++)
        free(l[i].name);
    free(l);
    return rc;
}

enum err_code backup_jobs_start(struct ddb *d, struct err *e)
{
    struct backup_jobs *J = xcalloc(1, sizeof(*J));
    const char *s = getenv("TANDEM_DDB_BACKUP_PIECE_ITEMS");
    enum err_code rc;

    if (s && atol(s) > 0)
        backup_piece_items = (size_t)atol(s);
    s = getenv("TANDEM_DDB_BACKUP_PIECE_PAUSE_MS");
    if (s && atol(s) > 0)
        pause_ms = atol(s);
    J->d = d;
    pthread_mutex_init(&J->mu, NULL);
    d->jobs = J; /* the leftovers' clearing jobs queue up before the thread runs */
    rc = clear_leftovers(d, e);
    if (!rc) {
        struct worker *w = worker_start(runner, J);

        pthread_mutex_lock(&J->mu);
        J->worker = w;
        pthread_mutex_unlock(&J->mu);
        if (!w)
            rc = err_set(e, ERR_INTERNAL, "backup: cannot start the background thread");
    }
    if (rc) {
        J->closed = true;
        abandon(J); /* no thread: nothing else holds J */
        pthread_mutex_destroy(&J->mu);
        free(J);
        d->jobs = NULL;
    }
    return rc;
}

void backup_jobs_quiesce(struct ddb *d)
{
    struct backup_jobs *J = d ? d->jobs : NULL;
    struct worker *w;

    if (!J)
        return;
    pthread_mutex_lock(&J->mu);
    J->closed = true;
    w = J->worker;
    J->worker = NULL;
    pthread_mutex_unlock(&J->mu);
    worker_stop(w); /* NULL the second time */
}

void backup_jobs_stop(struct ddb *d)
{
    struct backup_jobs *J = d ? d->jobs : NULL;

    if (!J)
        return;
    backup_jobs_quiesce(d);
    pthread_mutex_destroy(&J->mu);
    free(J);
    d->jobs = NULL;
}
