/* store.c - see store.h.
 *
 * One writer thread owns every write transaction. It takes up to max_batch
 * queued intents, runs each in a nested transaction of one parent, commits
 * the parent once (one flush for the batch) and calls the done callbacks once
 * a later flush has made the commit durable (see "Durability"). Read transactions are pooled: a
 * finished one is reset and kept (it keeps its reader slot), and the next store_read_begin renews
 * it, which skips LMDB's reader-table mutex and an allocation. */
#include "store.h"

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
#include <unistd.h>

#include "log.h"
#include "mem.h"

enum {
    DEFAULT_MAX_BATCH = 1024,
    MAX_KEY = 511, /* LMDB's default mdb_env_get_maxkeysize() */
    MAX_READERS = 1024,
    READ_POOL = 64,  /* reset read transactions kept for reuse */
    SEQ_PENDING = 4, /* noting commits kept apart per sequence (the rest merge) */
};
#define DEFAULT_MAP_SIZE ((size_t)64 << 30)

static const char *const db_names[STORE_DB__COUNT] = {"meta", "data", "log", "s3", "stream"};

/* The reserved counter key in STORE_DB_META (a leading 0x00 keeps it apart
 * from readable catalog keys). */
static const char NEXT_ID_KEY[] = "\0next_id";

struct store_txn {
    struct store *s;
    MDB_txn *txn;
    bool rdonly;
    struct store_txn *next; /* in the read pool */
};

struct store_cursor {
    struct store_txn *t;
    MDB_cursor *c;
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

struct store {
    MDB_env *env;
    MDB_dbi dbi[STORE_DB__COUNT];
    int lock_fd;
    unsigned max_batch;
    pthread_t writer;

    pthread_mutex_t mu; /* guards the queue, stopping and stats */
    pthread_cond_t cv;  /* signalled when an intent is queued or on stop */
    struct intent *head, *tail;
    bool stopping;
    struct store_stats stats;
    pthread_cond_t durable_cv; /* broadcast when durable_id grows */
    uint64_t durable_id;       /* every commit up to this id is on disk; set by the writer */

    /* writer thread only (last_id is read under mu too) */
    bool nosync;
    uint64_t last_id;                /* the newest commit's id */
    struct intent *owed, *owed_tail; /* applied and committed, waiting for durable_id */

    /* Durable sequences (guarded by mu): per sequence, the commits that
     * noted numbers and were not durable when the next one noted, each with
     * the lowest number it noted. When full, the newest two merge (the later
     * id, the lower number), which only makes readers more careful. */
    struct seq_pending {
        uint64_t id, min;
    } seq_pend[STORE_SEQ__COUNT][SEQ_PENDING];
    unsigned seq_npend[STORE_SEQ__COUNT];
    uint64_t batch_min[STORE_SEQ__COUNT]; /* writer only: this batch's notes */
    bool batch_noted;                     /* writer only */

    atomic_uint fail_commits, fail_flushes; /* store_inject_failures */

    pthread_mutex_t pool_mu;
    struct store_txn *pool; /* reset read transactions */
    unsigned pool_len;
};

static enum err_code lmdb_err(struct err *e, int rc, const char *what)
{
    if (rc == MDB_MAP_FULL)
        return err_set(e, ERR_IO, "storage is full");
    return err_set(e, ERR_IO, "%s: %s", what, mdb_strerror(rc));
}

static enum err_code not_writable(struct err *e)
{
    return err_set(e, ERR_INTERNAL, "write in a read-only transaction");
}

/* ---- writer ---- */

/*
 * Durability. The environment is opened with MDB_NOMETASYNC: a commit writes
 * its data pages, fdatasyncs them, then writes its meta page (the page that
 * makes the commit the current state) without a flush. LMDB keeps the two meta
 * pages alternating and never reuses the pages the previous meta refers to, so
 * whatever reaches the disk is a consistent state: the last durable meta's
 * tree, or (when the later meta made it too) the next one's, whose data pages
 * were already flushed before that meta was written.
 *
 * So one flush per commit suffices if an intent is reported only when a later
 * flush covers its commit's meta page: commit N is durable once commit N+1's
 * data flush has returned (the fdatasync flushes the whole file, meta N
 * included), or once mdb_env_sync() has. The writer keeps the reported-later
 * intents on s->owed with the transaction id they depend on, and reports them
 * when durable_id reaches it. Under load the next batch's commit is that
 * flush; when the queue runs dry the writer flushes once more by itself
 * (sync_idle), so nobody waits for new traffic.
 *
 * Failure cases:
 * - kill -9 of the region at any moment: every pwrite that returned is in the
 *   kernel's page cache and reaches the file; the region restarts on the last
 *   meta written. Nothing reported is lost, and nothing is torn.
 * - power loss or kernel crash: at worst the last commit's meta page is not on
 *   disk, and the region restarts on the commit before it. Every intent of
 *   that last commit was not reported yet (it waited for the next flush), so
 *   no acknowledged write is lost. A crash mid-flush of data pages is harmless:
 *   those pages are free pages of every durable meta.
 * - Readers: a read transaction sees every commit, durable or not yet.
 *   Anything a peer or a stream reader consumes must stop at the durable
 *   point: seeding and the S3 replication queue (background threads) read
 *   through store_read_durable(), which only hands out snapshots at or before
 *   durable_id; DynamoDB Streams (request threads, which must not wait on the
 *   disk) stop at store_seq_durable(), the last record number below every
 *   commit past durable_id; the replication log is shipped up to the newest
 *   entry whose done callback has run (src/repl). So no region ever ships an
 *   entry a power loss could take back.
 * - A failed flush (EIO) advances nothing: the intents waiting on it get
 *   ERR_IO, and the writer retries the flush before it reports anything later.
 */

void store_inject_failures(struct store *s, unsigned commits, unsigned flushes)
{
    atomic_store(&s->fail_commits, commits);
    atomic_store(&s->fail_flushes, flushes);
}

/* injected - take one injected failure from @n, if any is left. */
static bool injected(atomic_uint *n)
{
    unsigned v = atomic_load_explicit(n, memory_order_relaxed);

    while (v && !atomic_compare_exchange_weak(n, &v, v - 1))
        ;
    return v != 0;
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

/* last_txn_id - the id of the newest commit in the environment. */
static uint64_t last_txn_id(struct store *s)
{
    MDB_envinfo info;

    if (mdb_env_info(s->env, &info) != 0)
        return s->last_id;
    return (uint64_t)info.me_last_txnid;
}

/* sync_idle - the queue is empty and commits are waiting for a flush: make
 * everything committed durable now (writer thread). */
static bool sync_idle(struct store *s)
{
    uint64_t upto = s->last_id;
    int rc = injected(&s->fail_flushes) ? EIO : s->nosync ? 0 : mdb_env_sync(s->env, 1);

    pthread_mutex_lock(&s->mu);
    s->stats.syncs++;
    pthread_mutex_unlock(&s->mu);
    if (rc) {
        struct intent *it;

        log_err("event=store_sync_failed error=\"%s\"", mdb_strerror(rc));
        /* The owed intents cannot be promised; a later flush is retried
         * before anything newer is reported. */
        for (it = s->owed; it; it = it->next)
            if (it->rc == ERR_OK)
                it->rc = lmdb_err(&it->err, rc, "flush");
        report_durable(s, UINT64_MAX);
        usleep(100 * 1000);
        return false;
    }
    set_durable(s, upto);
    report_durable(s, upto);
    return true;
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
    bool committed = false;
    uint64_t before = s->last_id, need, noted = 0;
    int rc;

    rc = mdb_txn_begin(s->env, NULL, 0, &parent);
    if (rc) {
        for (it = batch; it; it = it->next)
            it->rc = lmdb_err(&it->err, rc, "begin write transaction");
        goto done;
    }
    for (it = batch; it; it = it->next) {
        MDB_txn *child = NULL;

        rc = mdb_txn_begin(s->env, parent, 0, &child);
        if (rc) {
            it->rc = lmdb_err(&it->err, rc, "begin nested transaction");
            continue;
        }
        struct store_txn t = {.s = s, .txn = child, .rdonly = false};
        it->err.code = ERR_OK;
        it->err.msg[0] = '\0';
        it->rc = it->apply(&t, it->apply_arg, &it->err);
        if (it->rc == ERR_OK) {
            /* Fails (and aborts the child) if a call inside apply failed
             * and apply ignored it. */
            rc = mdb_txn_commit(child);
            if (rc)
                it->rc = lmdb_err(&it->err, rc, "commit nested transaction");
        } else {
            /* A failed intent leaves no trace; MDB_MAP_FULL inside it poisons
             * only the child, so the rest of the batch goes on. */
            mdb_txn_abort(child);
            it->err.code = it->rc;
        }
    }
    if (s->batch_noted) {
        noted = (uint64_t)mdb_txn_id(parent);
        publish_notes(s, noted);
    }
    if (injected(&s->fail_commits)) {
        mdb_txn_abort(parent); /* what a failed data flush leaves */
        rc = EIO;
    } else {
        rc = mdb_txn_commit(parent);
    }
    if (rc) {
        log_err("event=store_commit_failed intents=%u error=\"%s\"", n, mdb_strerror(rc));
        for (it = batch; it; it = it->next)
            it->rc = lmdb_err(&it->err, rc, "commit");
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
    s->last_id = last_txn_id(s);
    need = s->last_id;
    if (noted && s->last_id == before)
        relabel_notes(s, noted, before);
    if (s->nosync) {
        set_durable(s, need);
    } else if (s->last_id != before) {
        /* This commit's data flush came after commit @before's meta page
         * was written, so it made @before durable. */
        set_durable(s, before);
    }
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

static void *writer_main(void *p)
{
    struct store *s = p;

    for (;;) {
        struct intent *batch, *last;
        unsigned n = 1;
        bool lagging;

        pthread_mutex_lock(&s->mu);
        while (!s->head && !s->stopping && s->durable_id >= s->last_id)
            pthread_cond_wait(&s->cv, &s->mu);
        lagging = s->durable_id < s->last_id;
        if (!s->head) {
            pthread_mutex_unlock(&s->mu);
            /* idle, with commits not yet flushed (a failing disk is
             * retried, but not forever once the store is closing) */
            if (lagging && (sync_idle(s) || !s->stopping))
                continue;
            break; /* stopping, the queue drained and everything durable */
        }
        batch = last = s->head;
        while (last->next && n < s->max_batch) {
            last = last->next;
            n++;
        }
        s->head = last->next;
        if (!s->head)
            s->tail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&s->mu);
        run_batch(s, batch, n);
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
}

/* ---- open / close ---- */

static enum err_code open_env(struct store *s, const struct store_opts *o, struct err *e)
{
    MDB_txn *txn = NULL;
    /* MDB_NOMETASYNC: one flush per commit; see "Durability" above. */
    unsigned flags = MDB_NOTLS | (o->nosync ? MDB_NOSYNC : MDB_NOMETASYNC);
    int rc;

    rc = mdb_env_create(&s->env);
    if (rc) {
        s->env = NULL;
        return lmdb_err(e, rc, "create environment");
    }
    if ((rc = mdb_env_set_mapsize(s->env, o->map_size ? o->map_size : DEFAULT_MAP_SIZE)) ||
        (rc = mdb_env_set_maxdbs(s->env, STORE_DB__COUNT)) ||
        (rc = mdb_env_set_maxreaders(s->env, MAX_READERS)))
        return lmdb_err(e, rc, "configure environment");
    rc = mdb_env_open(s->env, o->dir, flags, 0644);
    if (rc)
        return err_set(e, ERR_IO, "open data directory %s: %s", o->dir, mdb_strerror(rc));
    rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (rc)
        return lmdb_err(e, rc, "begin write transaction");
    for (int i = 0; i < STORE_DB__COUNT; i++) {
        rc = mdb_dbi_open(txn, db_names[i], MDB_CREATE, &s->dbi[i]);
        if (rc) {
            mdb_txn_abort(txn);
            return err_set(e, ERR_IO, "open database %s: %s", db_names[i], mdb_strerror(rc));
        }
    }
    rc = mdb_txn_commit(txn);
    if (rc)
        return lmdb_err(e, rc, "commit");
    /* The last commit of a previous run may not be flushed yet (it was killed
     * before its writer's next flush): everything found is made durable before
     * anyone reads it as durable. */
    if (!o->nosync && (rc = mdb_env_sync(s->env, 1)) != 0)
        return lmdb_err(e, rc, "flush");
    s->nosync = o->nosync;
    s->last_id = s->durable_id = last_txn_id(s);
    return ERR_OK;
}

enum err_code store_open(const struct store_opts *o, struct store **out, struct err *e)
{
    struct store *s = xcalloc(1, sizeof(*s));
    size_t dlen = o->dir ? strlen(o->dir) : 0;
    char *path = NULL;
    enum err_code rc;

    *out = NULL;
    s->lock_fd = -1;
    if (dlen == 0) {
        rc = err_set(e, ERR_INVALID, "no data directory");
        goto fail;
    }
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
    rc = open_env(s, o, e);
    if (rc)
        goto fail;
    s->max_batch = o->max_batch ? o->max_batch : DEFAULT_MAX_BATCH;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    pthread_cond_init(&s->durable_cv, NULL);
    pthread_mutex_init(&s->pool_mu, NULL);
    for (int q = 0; q < STORE_SEQ__COUNT; q++)
        s->batch_min[q] = UINT64_MAX;
    atomic_init(&s->fail_commits, 0);
    atomic_init(&s->fail_flushes, 0);
    if (pthread_create(&s->writer, NULL, writer_main, s) != 0) {
        rc = err_set(e, ERR_IO, "start writer thread");
        pthread_mutex_destroy(&s->pool_mu);
        pthread_cond_destroy(&s->durable_cv);
        pthread_cond_destroy(&s->cv);
        pthread_mutex_destroy(&s->mu);
        goto fail;
    }
    free(path);
    log_info("event=store_open dir=%s nosync=%d", o->dir, (int)o->nosync);
    *out = s;
    return ERR_OK;
fail:
    if (s->env)
        mdb_env_close(s->env);
    if (s->lock_fd >= 0)
        close(s->lock_fd);
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
    log_info("event=store_close commits=%llu intents=%llu syncs=%llu max_batch=%llu",
             (unsigned long long)s->stats.commits, (unsigned long long)s->stats.intents,
             (unsigned long long)s->stats.syncs, (unsigned long long)s->stats.max_batch_seen);

    while (s->pool) {
        struct store_txn *t = s->pool;

        s->pool = t->next;
        mdb_txn_abort(t->txn);
        free(t);
    }
    mdb_env_close(s->env);
    close(s->lock_fd); /* releases the flock */
    pthread_mutex_destroy(&s->pool_mu);
    pthread_cond_destroy(&s->durable_cv);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
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
        return lmdb_err(e, rc, "begin read transaction");
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
        return lmdb_err(e, rc, "get");
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
        return lmdb_err(e, rc, "put");
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
        return lmdb_err(e, rc, "delete");
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
        return lmdb_err(e, rc, "open cursor");
    *out = xmalloc(sizeof(**out));
    (*out)->t = t;
    (*out)->c = c;
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
        return lmdb_err(e, rc, "cursor");
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

    if (c->t->rdonly)
        return not_writable(e);
    rc = mdb_cursor_del(c->c, 0);
    if (rc)
        return lmdb_err(e, rc, "cursor delete");
    return ERR_OK;
}
