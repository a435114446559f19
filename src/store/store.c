/* store.c - see store.h.
 *
 * One writer thread owns every write transaction. It takes up to max_batch
 * queued intents, runs each in a nested transaction of one parent (the first
 * that succeeds runs in the parent itself, which holds nothing before it: a
 * failure there throws the parent away and begins it again), commits
 * the parent once (no flush), appends the batch's changes to the write-ahead
 * log and calls the done callbacks once the log has made the commit durable
 * (see "Durability" in ckpt.c). Read transactions are pooled: a finished one is reset
 * and kept (it keeps its reader slot), and the next store_read_begin renews
 * it, which skips LMDB's reader-table mutex and an allocation. */

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "mem.h"
#include "store_int.h"

enum {
    DEFAULT_MAX_BATCH = 1024,
    MAX_KEY = 511,  /* LMDB's default mdb_env_get_maxkeysize() */
    READ_POOL = 64, /* reset read transactions kept for reuse */
    DEFAULT_CHECKPOINT_MS = 1000,
};

/* The reserved counter key in STORE_DB_META (a leading 0x00 keeps it apart
 * from readable catalog keys). */
static const char NEXT_ID_KEY[] = "\0next_id";

struct store_cursor {
    struct store_txn *t;
    MDB_cursor *c;
    enum store_db db;
};

/* A queued write. store_submit allocates it; store_write keeps it on the
 * caller's stack. The writer never touches it after calling @done. */
struct intent {
    struct intent *next;
    store_apply_fn *apply;
    void *apply_arg;
    store_done_fn *done;
    void *done_arg;
    bool heap;
    enum err_code rc;
    struct err err;
    uint64_t need; /* reported once durable_id >= need */
};

enum err_code store_lmdb_err(struct err *e, int rc, const char *what)
{
    if (rc == MDB_MAP_FULL)
        return err_set(e, ERR_IO, "storage is full");
    return err_set(e, ERR_IO, "%s: %s", what, mdb_strerror(rc));
}

bool store_injected(atomic_uint *n)
{
    unsigned v = atomic_load_explicit(n, memory_order_relaxed);

    while (v && !atomic_compare_exchange_weak(n, &v, v - 1))
        ;
    return v != 0;
}

uint64_t store_last_txn_id(struct store *s)
{
    MDB_envinfo info;

    if (mdb_env_info(s->env, &info) != 0)
        return s->last_id;
    return (uint64_t)info.me_last_txnid;
}

static enum err_code not_writable(struct err *e)
{
    return err_set(e, ERR_INTERNAL, "write in a read-only transaction");
}

/* log_op - add a change the writer made to this batch's log record: db,
 * kind, key length (2 bytes, little-endian), value length (4), key, value. */
static void log_op(struct store *s, enum store_db db, int kind, const MDB_val *k, const MDB_val *v)
{
    size_t vlen = v ? v->mv_size : 0, need = OP_HDR + k->mv_size + vlen;
    unsigned char *p;

    if (!s->wal)
        return;
    if (s->rec_len + need > s->rec_cap) {
        size_t cap = s->rec_cap ? s->rec_cap : 4096;

        while (cap < s->rec_len + need)
            cap *= 2;
        s->rec = xrealloc(s->rec, cap);
        s->rec_cap = cap;
    }
    p = s->rec + s->rec_len;
    p[0] = (unsigned char)db;
    p[1] = (unsigned char)kind;
    p[2] = (unsigned char)k->mv_size;
    p[3] = (unsigned char)(k->mv_size >> 8);
    for (int i = 0; i < 4; i++)
        p[4 + i] = (unsigned char)(vlen >> (8 * i));
    memcpy(p + OP_HDR, k->mv_data, k->mv_size);
    if (vlen)
        memcpy(p + OP_HDR + k->mv_size, v->mv_data, vlen);
    s->rec_len += need;
}

/* ---- writer ---- */

void store_inject_failures(struct store *s, unsigned commits, unsigned flushes)
{
    atomic_store(&s->fail_commits, commits);
    atomic_store(&s->fail_flushes, flushes);
}

static void set_durable(struct store *s, uint64_t id)
{
    pthread_mutex_lock(&s->mu);
    if (id > s->durable_id) {
        s->durable_id = id;
        pthread_cond_broadcast(&s->durable_cv);
    }
    pthread_mutex_unlock(&s->mu);
}

/* report - run the done callbacks of @list (linked by next). */
static void report(struct intent *list)
{
    struct intent *it, *next;

    for (it = list; it; it = next) {
        bool heap = it->heap;

        next = it->next;
        it->done(it->done_arg, it->rc, &it->err);
        if (heap)
            free(it);
    }
}

/* report_durable - report the owed intents that depend on nothing newer than
 * @durable (writer thread). */
static void report_durable(struct store *s, uint64_t durable)
{
    struct intent *ready = s->owed, *last = NULL, *it;

    for (it = s->owed; it && it->need <= durable; it = it->next)
        last = it;
    if (!last)
        return;
    s->owed = last->next;
    if (!s->owed)
        s->owed_tail = NULL;
    last->next = NULL;
    report(ready);
}

/* fail_owed - the owed intents cannot be promised (their log records may
 * never become durable): report them with ERR_IO, outcome unknown. */
static void fail_owed(struct store *s, int rc)
{
    struct intent *it;

    for (it = s->owed; it; it = it->next)
        if (it->rc == ERR_OK)
            it->rc = store_lmdb_err(&it->err, rc, "flush");
    report_durable(s, UINT64_MAX);
}

/* wal_advance - report what the log has made durable; after a failed write
 * or flush, fail the intents waiting on it and make everything durable with
 * a checkpoint before anything later is reported (writer thread). */
static void wal_advance(struct store *s)
{
    bool failed;
    uint64_t d = wal_durable(s->wal, &failed);
    struct err e = {0};
    uint64_t upto;

    if (d > s->durable_id) {
        set_durable(s, d);
        report_durable(s, d);
    }
    if (!failed)
        return;
    fail_owed(s, EIO);
    store_ckpt_finish(s, true);
    upto = s->last_id;
    if (store_ckpt_now(s, wal_gen(s->wal), &e) != ERR_OK) {
        log_err("event=store_checkpoint_failed error=\"%s\"", e.msg);
        s->broken = true;
        usleep(100 * 1000);
        return;
    }
    s->broken = false;
    wal_reset(s->wal, upto);
    set_durable(s, upto);
    report_durable(s, upto);
}

/* publish_notes - make this batch's sequence notes visible to readers before
 * its commit @id is, so no reader sees the entries without their note
 * (writer thread). */
static void publish_notes(struct store *s, uint64_t id)
{
    pthread_mutex_lock(&s->mu);
    for (int q = 0; q < STORE_SEQ__COUNT; q++) {
        struct seq_pending *p = s->seq_pend[q];
        unsigned n = 0;

        if (s->batch_min[q] == UINT64_MAX)
            continue;
        for (unsigned i = 0; i < s->seq_npend[q]; i++)
            if (p[i].id > s->durable_id)
                p[n++] = p[i];
        if (n == SEQ_PENDING) {
            n--;
            p[n].min = p[n].min < s->batch_min[q] ? p[n].min : s->batch_min[q];
        } else {
            p[n].min = s->batch_min[q];
        }
        p[n].id = id;
        s->seq_npend[q] = n + 1;
        s->batch_min[q] = UINT64_MAX;
    }
    s->batch_noted = false;
    pthread_mutex_unlock(&s->mu);
}

/* relabel_notes - commit @id did not happen (it failed, or every noting
 * intent failed and it changed nothing): what it noted belongs to no commit
 * newer than @before, the newest real one (writer thread). */
static void relabel_notes(struct store *s, uint64_t id, uint64_t before)
{
    pthread_mutex_lock(&s->mu);
    for (int q = 0; q < STORE_SEQ__COUNT; q++)
        for (unsigned i = 0; i < s->seq_npend[q]; i++)
            if (s->seq_pend[q][i].id == id)
                s->seq_pend[q][i].id = before;
    pthread_mutex_unlock(&s->mu);
}

void store_seq_note(struct store_txn *t, enum store_seq q, uint64_t n)
{
    struct store *s = t->s;

    assert(!t->rdonly && (unsigned)q < STORE_SEQ__COUNT);
    if (n < s->batch_min[q])
        s->batch_min[q] = n;
    s->batch_noted = true;
}

uint64_t store_seq_durable(struct store *s, enum store_seq q)
{
    uint64_t cap = UINT64_MAX;

    assert((unsigned)q < STORE_SEQ__COUNT);
    pthread_mutex_lock(&s->mu);
    for (unsigned i = 0; i < s->seq_npend[q]; i++) {
        const struct seq_pending *p = &s->seq_pend[q][i];

        if (p->id > s->durable_id && (p->min ? p->min - 1 : 0) < cap)
            cap = p->min ? p->min - 1 : 0;
    }
    pthread_mutex_unlock(&s->mu);
    return cap;
}

static void run_batch(struct store *s, struct intent *batch, unsigned n)
{
    MDB_txn *parent = NULL;
    struct intent *it, *last = NULL;
    bool committed = false, applied = false;
    uint64_t before = s->last_id, need, noted = 0;
    int rc;

    rc = mdb_txn_begin(s->env, NULL, 0, &parent);
    if (rc) {
        for (it = batch; it; it = it->next)
            it->rc = store_lmdb_err(&it->err, rc, "begin write transaction");
        goto done;
    }
    s->rec_len = 0;
    for (it = batch; it; it = it->next) {
        MDB_txn *child = NULL;
        size_t mark = s->rec_len;
        /* The batch's first intent that succeeds needs no nested transaction
         * while the parent holds nothing yet: should it fail, the parent is
         * thrown away and begun again (see below). (An apply that ignores a
         * failed call there fails its whole batch, at the commit.) */
        bool direct = !applied;

        if (!direct && (rc = mdb_txn_begin(s->env, parent, 0, &child)) != 0) {
            it->rc = store_lmdb_err(&it->err, rc, "begin nested transaction");
            continue;
        }
        struct store_txn t = {.s = s, .txn = direct ? parent : child, .rdonly = false};
        it->err.code = ERR_OK;
        it->err.msg[0] = '\0';
        it->rc = it->apply(&t, it->apply_arg, &it->err);
        if (direct) {
            if (it->rc == ERR_OK) {
                applied = true;
                continue;
            }
            it->err.code = it->rc;
            s->rec_len = mark;
            mdb_txn_abort(parent);
            parent = NULL;
            rc = mdb_txn_begin(s->env, NULL, 0, &parent);
            if (rc) {
                for (it = it->next; it; it = it->next)
                    it->rc = store_lmdb_err(&it->err, rc, "begin write transaction");
                goto done;
            }
            continue;
        }
        if (it->rc == ERR_OK) {
            /* Fails (and aborts the child) if a call inside apply failed
             * and apply ignored it. */
            rc = mdb_txn_commit(child);
            if (rc) {
                it->rc = store_lmdb_err(&it->err, rc, "commit nested transaction");
                s->rec_len = mark;
            }
        } else {
            /* A failed intent leaves no trace; MDB_MAP_FULL inside it poisons
             * only the child, so the rest of the batch goes on. */
            mdb_txn_abort(child);
            it->err.code = it->rc;
            s->rec_len = mark; /* its logged changes go with it */
        }
    }
    if (s->batch_noted) {
        noted = (uint64_t)mdb_txn_id(parent);
        publish_notes(s, noted);
    }
    if (store_injected(&s->fail_commits)) {
        mdb_txn_abort(parent); /* what a failed data flush leaves */
        rc = EIO;
    } else {
        rc = mdb_txn_commit(parent);
    }
    if (rc) {
        log_err("event=store_commit_failed intents=%u error=\"%s\"", n, mdb_strerror(rc));
        for (it = batch; it; it = it->next)
            it->rc = store_lmdb_err(&it->err, rc, "commit");
    } else {
        committed = true;
    }
done:
    pthread_mutex_lock(&s->mu);
    if (committed)
        s->stats.commits++;
    s->stats.intents += n;
    if (n > s->stats.max_batch_seen)
        s->stats.max_batch_seen = n;
    pthread_mutex_unlock(&s->mu);
    if (!committed) {
        if (noted)
            relabel_notes(s, noted, before);
        report(batch); /* nothing of it happened; nothing to wait for */
        return;
    }
    /* A commit that changed nothing writes nothing (no flush, same id); its
     * intents still saw the newest commit, so they wait for it too. */
    s->last_id = store_last_txn_id(s);
    need = s->last_id;
    if (noted && s->last_id == before)
        relabel_notes(s, noted, before);
    if (s->nosync) {
        set_durable(s, need);
    } else if (s->last_id != before) {
        struct err e = {0};

        /* Durable once the log has flushed its record (wal_advance); a
         * failed write shows there too. */
        if (wal_append(s->wal, s->last_id, before, s->rec, s->rec_len, n, &e) != ERR_OK)
            log_err("event=wal_append_failed error=\"%s\"", e.msg);
    }
    s->rec_len = 0;
    for (it = batch; it; it = it->next) {
        it->need = need;
        last = it;
    }
    if (s->owed_tail)
        s->owed_tail->next = batch;
    else
        s->owed = batch;
    s->owed_tail = last;
    report_durable(s, s->durable_id);
}

/* writer_idle - nothing for the writer to do (s->mu held). */
static bool writer_idle(struct store *s)
{
    bool failed = false;

    if ((s->head && !s->draining) || s->ckpt_done)
        return false;
    if (s->draining && s->durable_id >= s->last_id)
        return false; /* the checkpoint that waited can begin */
    /* stopping: go on once nothing is in flight (or the disk fails) */
    if (s->stopping && !s->draining && (!s->wal || s->durable_id >= s->last_id || s->broken))
        return false;
    if (!s->wal)
        return true;
    return wal_durable(s->wal, &failed) <= s->durable_id && !failed;
}

static void *writer_main(void *p)
{
    struct store *s = p;

    for (;;) {
        struct intent *batch = NULL, *last;
        unsigned n = 1;
        bool stopping;

        pthread_mutex_lock(&s->mu);
        while (writer_idle(s)) {
            struct timespec ts;

            if (!s->wal || s->last_id == s->ckpt_id) {
                pthread_cond_wait(&s->cv, &s->mu);
                continue;
            }
            ts = clock_deadline_ms(100); /* a checkpoint falls due with time */
            if (pthread_cond_timedwait(&s->cv, &s->mu, &ts) != 0)
                break;
        }
        if (s->head && !s->draining) {
            batch = last = s->head;
            while (last->next && n < s->max_batch) {
                last = last->next;
                n++;
            }
            s->head = last->next;
            if (!s->head)
                s->tail = NULL;
            last->next = NULL;
        }
        stopping = s->stopping && !s->head;
        pthread_mutex_unlock(&s->mu);
        if (s->wal) {
            store_ckpt_finish(s, false);
            wal_advance(s);
        }
        if (batch)
            run_batch(s, batch, n);
        if (s->wal)
            store_ckpt_maybe(s); /* also under load, where the queue never runs dry */
        if (batch)
            continue;
        /* stopping: the queue drained and everything reported (a failing
         * disk is retried, but not forever once the store is closing) */
        if (stopping && !s->draining && (s->durable_id >= s->last_id || s->broken))
            break;
    }
    if (s->wal) {
        struct err e = {0};

        store_ckpt_finish(s, true);
        if (!s->broken && s->durable_id >= s->last_id && store_ckpt_now(s, wal_gen(s->wal), &e))
            log_err("event=store_checkpoint_failed error=\"%s\"", e.msg);
    }
    return NULL;
}

static void enqueue(struct store *s, struct intent *it)
{
    it->next = NULL;
    pthread_mutex_lock(&s->mu);
    if (s->tail)
        s->tail->next = it;
    else
        s->head = it;
    s->tail = it;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

void store_submit(struct store *s, store_apply_fn *apply, store_done_fn *done, void *arg)
{
    struct intent *it = xmalloc(sizeof(*it));

    it->apply = apply;
    it->apply_arg = arg;
    it->done = done;
    it->done_arg = arg;
    it->heap = true;
    enqueue(s, it);
}

struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    enum err_code rc;
    struct err err;
};

static void write_done(void *arg, enum err_code rc, const struct err *e)
{
    struct waiter *w = arg;

    pthread_mutex_lock(&w->mu);
    w->rc = rc;
    if (rc && e)
        w->err = *e;
    w->done = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

enum err_code store_write(struct store *s, store_apply_fn *apply, void *arg, struct err *e)
{
    struct waiter w = {.done = false, .rc = ERR_OK};
    struct intent it = {
        .apply = apply, .apply_arg = arg, .done = write_done, .done_arg = &w, .heap = false};

    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    enqueue(s, &it);
    pthread_mutex_lock(&w.mu);
    while (!w.done)
        pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    pthread_cond_destroy(&w.cv);
    pthread_mutex_destroy(&w.mu);
    if (w.rc && e)
        *e = w.err;
    return w.rc;
}

void store_get_stats(struct store *s, struct store_stats *out)
{
    pthread_mutex_lock(&s->mu);
    *out = s->stats;
    out->durable_id = s->durable_id;
    pthread_mutex_unlock(&s->mu);
    if (s->wal)
        out->syncs += wal_flushes(s->wal);
}

/* ---- open / close ---- */

enum err_code store_open(const struct store_opts *o, struct store **out, struct err *e)
{
    struct store *s = xcalloc(1, sizeof(*s));
    size_t dlen = o->dir ? strlen(o->dir) : 0;
    char *path = NULL;
    enum err_code rc;

    *out = NULL;
    s->lock_fd = -1;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    pthread_cond_init(&s->durable_cv, NULL);
    pthread_cond_init(&s->ckpt_cv, NULL);
    pthread_mutex_init(&s->pool_mu, NULL);
    atomic_init(&s->fail_commits, 0);
    atomic_init(&s->fail_flushes, 0);
    for (int q = 0; q < STORE_SEQ__COUNT; q++)
        s->batch_min[q] = UINT64_MAX;
    s->ckpt_ms = o->checkpoint_ms ? o->checkpoint_ms : DEFAULT_CHECKPOINT_MS;
    if (dlen == 0) {
        rc = err_set(e, ERR_INVALID, "no data directory");
        goto fail;
    }
    s->dir = xstrdup(o->dir);
    if (mkdir(o->dir, 0755) != 0 && errno != EEXIST) {
        rc = err_set(e, ERR_IO, "create data directory %s: %s", o->dir, strerror(errno));
        goto fail;
    }
    path = xmalloc(dlen + sizeof("/tandem.lock"));
    memcpy(path, o->dir, dlen);
    memcpy(path + dlen, "/tandem.lock", sizeof("/tandem.lock"));
    s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (s->lock_fd < 0) {
        rc = err_set(e, ERR_IO, "open %s: %s", path, strerror(errno));
        goto fail;
    }
    /* flock locks belong to the open file description, so this also stops a
     * second store_open of the same directory inside this process, which
     * LMDB forbids (closing either would drop the other's fcntl locks). */
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK)
            rc = err_set(e, ERR_IN_USE, "data directory %s is in use by another process", o->dir);
        else
            rc = err_set(e, ERR_IO, "lock %s: %s", path, strerror(errno));
        goto fail;
    }
    rc = store_env_open(s, o, e);
    if (rc)
        goto fail;
    s->max_batch = o->max_batch ? o->max_batch : DEFAULT_MAX_BATCH;
    s->stats.syncs = 0; /* the checkpoint of the open is not the traffic's */
    if (s->wal) {
        if (pthread_create(&s->ckpt_thread, NULL, store_ckpt_main, s) != 0) {
            rc = err_set(e, ERR_IO, "start checkpoint thread");
            goto fail;
        }
        s->ckpt_started = true;
    }
    if (pthread_create(&s->writer, NULL, writer_main, s) != 0) {
        rc = err_set(e, ERR_IO, "start writer thread");
        goto fail;
    }
    free(path);
    log_info("event=store_open dir=%s nosync=%d", o->dir, (int)o->nosync);
    *out = s;
    return ERR_OK;
fail:
    store_ckpt_stop(s);
    wal_stop(s->wal);
    if (s->ckpt_reader)
        mdb_txn_abort(s->ckpt_reader);
    if (s->env)
        mdb_env_close(s->env);
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    pthread_mutex_destroy(&s->pool_mu);
    pthread_cond_destroy(&s->ckpt_cv);
    pthread_cond_destroy(&s->durable_cv);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s->dir);
    free(path);
    free(s);
    return rc;
}

void store_close(struct store *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->writer, NULL);
    store_ckpt_stop(s);
    wal_stop(s->wal);
    log_info("event=store_close commits=%llu intents=%llu syncs=%llu max_batch=%llu",
             (unsigned long long)s->stats.commits, (unsigned long long)s->stats.intents,
             (unsigned long long)s->stats.syncs, (unsigned long long)s->stats.max_batch_seen);

    while (s->pool) {
        struct store_txn *t = s->pool;

        s->pool = t->next;
        mdb_txn_abort(t->txn);
        free(t);
    }
    if (s->ckpt_reader)
        mdb_txn_abort(s->ckpt_reader);
    mdb_env_close(s->env);
    close(s->lock_fd); /* releases the flock */
    pthread_mutex_destroy(&s->pool_mu);
    pthread_cond_destroy(&s->ckpt_cv);
    pthread_cond_destroy(&s->durable_cv);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s->rec);
    free(s->dir);
    free(s);
}

/* ---- transactions ---- */

enum err_code store_read_begin(struct store *s, struct store_txn **out, struct err *e)
{
    struct store_txn *t;
    MDB_txn *txn;
    int rc;

    *out = NULL;
    pthread_mutex_lock(&s->pool_mu);
    t = s->pool;
    if (t) {
        s->pool = t->next;
        s->pool_len--;
    }
    pthread_mutex_unlock(&s->pool_mu);
    if (t) {
        if (mdb_txn_renew(t->txn) == 0) {
            t->next = NULL;
            *out = t;
            return ERR_OK;
        }
        mdb_txn_abort(t->txn);
        free(t);
    }
    rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
    if (rc)
        return store_lmdb_err(e, rc, "begin read transaction");
    t = xmalloc(sizeof(*t));
    t->s = s;
    t->txn = txn;
    t->rdonly = true;
    t->next = NULL;
    *out = t;
    return ERR_OK;
}

enum err_code store_read_durable(struct store *s, struct store_txn **out, struct err *e)
{
    enum err_code rc = store_read_begin(s, out, e);
    uint64_t id;

    if (rc)
        return rc;
    id = (uint64_t)mdb_txn_id((*out)->txn);
    /* The writer flushes as soon as it is idle, or with its next commit. */
    pthread_mutex_lock(&s->mu);
    while (s->durable_id < id)
        pthread_cond_wait(&s->durable_cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
    return ERR_OK;
}

uint64_t store_txn_id(const struct store_txn *t)
{
    return (uint64_t)mdb_txn_id(t->txn);
}

void store_txn_abort(struct store_txn *t)
{
    struct store *s;

    if (!t)
        return;
    assert(t->rdonly);
    s = t->s;
    mdb_txn_reset(t->txn);
    pthread_mutex_lock(&s->pool_mu);
    if (s->pool_len < READ_POOL) {
        t->next = s->pool;
        s->pool = t;
        s->pool_len++;
        t = NULL;
    }
    pthread_mutex_unlock(&s->pool_mu);
    if (t) {
        mdb_txn_abort(t->txn);
        free(t);
    }
}

static MDB_dbi dbi_of(struct store_txn *t, enum store_db db)
{
    assert((unsigned)db < STORE_DB__COUNT);
    return t->s->dbi[db];
}

enum err_code store_get(struct store_txn *t, enum store_db db, struct slice key, struct slice *val,
                        struct err *e)
{
    MDB_val k = {key.len, (void *)key.ptr}, v;
    int rc;

    /* No stored key has such a size. */
    if (key.len == 0 || key.len > MAX_KEY)
        return err_set(e, ERR_NOTFOUND, "not found");
    rc = mdb_get(t->txn, dbi_of(t, db), &k, &v);
    if (rc == MDB_NOTFOUND)
        return err_set(e, ERR_NOTFOUND, "not found");
    if (rc)
        return store_lmdb_err(e, rc, "get");
    *val = slice_of(v.mv_data, v.mv_size);
    return ERR_OK;
}

enum err_code store_put(struct store_txn *t, enum store_db db, struct slice key, struct slice val,
                        struct err *e)
{
    MDB_val k = {key.len, (void *)key.ptr}, v = {val.len, (void *)val.ptr};
    int rc;

    if (t->rdonly)
        return not_writable(e);
    if (key.len == 0 || key.len > MAX_KEY)
        return err_set(e, ERR_INVALID, "key of %zu bytes: keys are 1 to %d bytes", key.len,
                       MAX_KEY);
    rc = mdb_put(t->txn, dbi_of(t, db), &k, &v, 0);
    if (rc)
        return store_lmdb_err(e, rc, "put");
    log_op(t->s, db, OP_PUT, &k, &v);
    return ERR_OK;
}

enum err_code store_del(struct store_txn *t, enum store_db db, struct slice key, struct err *e)
{
    MDB_val k = {key.len, (void *)key.ptr};
    int rc;

    if (t->rdonly)
        return not_writable(e);
    if (key.len == 0 || key.len > MAX_KEY)
        return err_set(e, ERR_NOTFOUND, "not found");
    rc = mdb_del(t->txn, dbi_of(t, db), &k, NULL);
    if (rc == MDB_NOTFOUND)
        return err_set(e, ERR_NOTFOUND, "not found");
    if (rc)
        return store_lmdb_err(e, rc, "delete");
    log_op(t->s, db, OP_DEL, &k, NULL);
    return ERR_OK;
}

enum err_code store_next_id(struct store_txn *t, uint64_t *id, struct err *e)
{
    struct slice key = slice_of(NEXT_ID_KEY, sizeof(NEXT_ID_KEY) - 1), v = {NULL, 0};
    unsigned char b[8];
    uint64_t cur = 0;
    enum err_code rc;

    if (t->rdonly)
        return not_writable(e);
    rc = store_get(t, STORE_DB_META, key, &v, e);
    if (rc == ERR_OK) {
        if (v.len != sizeof(b))
            return err_set(e, ERR_INTERNAL, "corrupt id counter (%zu bytes)", v.len);
        for (int i = 0; i < 8; i++)
            cur = cur << 8 | ((const unsigned char *)v.ptr)[i];
    } else if (rc != ERR_NOTFOUND) {
        return rc;
    }
    cur++;
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(cur >> (56 - 8 * i));
    rc = store_put(t, STORE_DB_META, key, slice_of(b, sizeof(b)), e);
    if (rc)
        return rc;
    *id = cur;
    return ERR_OK;
}

/* ---- cursors ---- */

enum err_code store_cursor_open(struct store_txn *t, enum store_db db, struct store_cursor **out,
                                struct err *e)
{
    MDB_cursor *c;
    int rc;

    *out = NULL;
    rc = mdb_cursor_open(t->txn, dbi_of(t, db), &c);
    if (rc)
        return store_lmdb_err(e, rc, "open cursor");
    *out = xmalloc(sizeof(**out));
    (*out)->t = t;
    (*out)->c = c;
    (*out)->db = db;
    return ERR_OK;
}

void store_cursor_close(struct store_cursor *c)
{
    if (!c)
        return;
    mdb_cursor_close(c->c);
    free(c);
}

static enum err_code cursor_get(struct store_cursor *c, MDB_val *key, MDB_cursor_op op,
                                struct slice *k, struct slice *v, struct err *e)
{
    MDB_val mk = {0, NULL}, mv;
    int rc;

    if (!key)
        key = &mk;
    rc = mdb_cursor_get(c->c, key, &mv, op);
    if (rc == MDB_NOTFOUND)
        return err_set(e, ERR_NOTFOUND, "no such entry");
    if (rc)
        return store_lmdb_err(e, rc, "cursor");
    *k = slice_of(key->mv_data, key->mv_size);
    *v = slice_of(mv.mv_data, mv.mv_size);
    return ERR_OK;
}

enum err_code store_cursor_seek(struct store_cursor *c, struct slice key, struct slice *k,
                                struct slice *v, struct err *e)
{
    MDB_val mk = {key.len, (void *)key.ptr};

    /* LMDB refuses an empty key; every key is >= it. */
    if (key.len == 0)
        return cursor_get(c, NULL, MDB_FIRST, k, v, e);
    return cursor_get(c, &mk, MDB_SET_RANGE, k, v, e);
}

enum err_code store_cursor_seek_le(struct store_cursor *c, struct slice key, struct slice *k,
                                   struct slice *v, struct err *e)
{
    MDB_val mk = {key.len, (void *)key.ptr};
    enum err_code rc;

    if (key.len == 0)
        return err_set(e, ERR_NOTFOUND, "no such entry");
    rc = cursor_get(c, &mk, MDB_SET_RANGE, k, v, e);
    if (rc == ERR_NOTFOUND)
        return cursor_get(c, NULL, MDB_LAST, k, v, e); /* every key is < @key */
    if (rc)
        return rc;
    if (slice_eq(*k, key))
        return ERR_OK;
    return cursor_get(c, NULL, MDB_PREV, k, v, e);
}

enum err_code store_cursor_next(struct store_cursor *c, struct slice *k, struct slice *v,
                                struct err *e)
{
    return cursor_get(c, NULL, MDB_NEXT, k, v, e);
}

enum err_code store_cursor_prev(struct store_cursor *c, struct slice *k, struct slice *v,
                                struct err *e)
{
    return cursor_get(c, NULL, MDB_PREV, k, v, e);
}

enum err_code store_cursor_del(struct store_cursor *c, struct err *e)
{
    int rc;

    struct store *s = c->t->s;
    MDB_val k, v;
    size_t mark = s->rec_len;

    if (c->t->rdonly)
        return not_writable(e);
    rc = mdb_cursor_get(c->c, &k, &v, MDB_GET_CURRENT);
    if (rc)
        return store_lmdb_err(e, rc, "cursor delete");
    log_op(s, c->db, OP_DEL, &k, NULL); /* now: the key lives in the page */
    rc = mdb_cursor_del(c->c, 0);
    if (rc) {
        s->rec_len = mark;
        return store_lmdb_err(e, rc, "cursor delete");
    }
    return ERR_OK;
}
