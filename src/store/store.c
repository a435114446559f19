/* store.c - see store.h.
 *
 * One writer thread owns every write transaction. It takes up to max_batch
 * queued intents, runs each in a nested transaction of one parent (the first
 * that succeeds runs in the parent itself, which holds nothing before it: a
 * failure there throws the parent away and begins it again), commits
 * the parent once (no flush), appends the batch's changes to the write-ahead
 * log and calls the done callbacks once the log has made the commit durable
 * (see "Durability"). Read transactions are pooled: a finished one is reset
 * and kept (it keeps its reader slot), and the next store_read_begin renews
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
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "mem.h"
#include "wal.h"

enum {
    DEFAULT_MAX_BATCH = 1024,
    MAX_KEY = 511, /* LMDB's default mdb_env_get_maxkeysize() */
    MAX_READERS = 1024,
    READ_POOL = 64,  /* reset read transactions kept for reuse */
    SEQ_PENDING = 4, /* noting commits kept apart per sequence (the rest merge) */
    DEFAULT_LANES = 2,
    DEFAULT_GATHER = 1,
    DEFAULT_CHECKPOINT_MS = 1000,
    OP_HDR = 8, /* a logged change: db, kind, key length (2), value length (4) */
    OP_PUT = 1,
    OP_DEL = 2,
};
#define CHECKPOINT_BYTES ((uint64_t)64 << 20) /* of log since the last checkpoint */
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

    /* The write-ahead log (NULL with nosync) and checkpoints; see
     * "Durability". Writer thread only, but for the ckpt_* handoff (mu). */
    struct wal *wal;
    char *dir;
    unsigned psize;     /* LMDB's page size */
    unsigned char *rec; /* this batch's changes, encoded */
    size_t rec_len, rec_cap;
    bool draining;              /* (mu) take no batch: a checkpoint waits for the log */
    bool broken;                /* the last recovery checkpoint failed */
    MDB_txn *ckpt_reader;       /* holds the durable checkpoint's pages */
    uint64_t ckpt_id, ckpt_gen; /* the durable checkpoint */
    int64_t ckpt_at_us;         /* when the last checkpoint began */
    unsigned ckpt_ms;
    pthread_t ckpt_thread;
    pthread_cond_t ckpt_cv; /* (mu) a job is handed over, or stop */
    bool ckpt_busy, ckpt_done, ckpt_started, ckpt_stop;
    enum err_code ckpt_rc;
    struct ckpt_job {
        MDB_txn *r; /* a read transaction on the checkpoint's commit */
        struct wal_ckpt c;
    } job;
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

/*
 * Durability. LMDB commits with MDB_NOSYNC: a commit writes its pages and
 * its meta page into the page cache and returns, so it is visible at once
 * and survives kill -9, but a power loss could tear it. What makes a commit
 * durable is the write-ahead log (wal.h): every change the writer makes
 * (store_put, store_del, store_cursor_del, and store_next_id through
 * store_put) is also encoded into the batch's record as a physical change
 * (database, put or delete, key, value); an intent that fails is truncated
 * off again, so the record holds exactly what the commit holds. After the
 * commit the record (commit id, the id it was built on, CRC-32) is appended
 * to one of several log files ("lanes"), each flushed by a thread of its own:
 * a record starts flushing as soon as it is written, even while another
 * lane's flush is under way, so flushes overlap (two files flushed side by
 * side give ~1.7x one file's rate on the development disk). The writer
 * reports intents in commit order, once their record and every earlier one
 * is flushed (wal_durable); durable_id is that point.
 *
 * LMDB itself is kept power-safe by checkpoints (every checkpoint_ms, 1 s by
 * default, or 64 MiB of log, and at close): the writer opens a read
 * transaction on the newest commit C and copies LMDB's two meta pages (pages
 * 0 and 1 of data.mdb) as they are; a checkpoint thread then fdatasyncs
 * data.mdb (all of C's pages are written before its meta page, so C's tree is
 * on disk) and saves C, the log generation and the meta pages in
 * DIR/wal-checkpoint (write, flush, rename, flush the directory). The read
 * transaction stays open until the next checkpoint is durable: LMDB never
 * reuses a page a live reader can see, so C's tree stays intact on disk
 * however far later commits go. Opening a directory puts the saved meta
 * pages back into data.mdb when they differ (both of them, exactly as they
 * were on disk after the flush, so LMDB picks C's, the newer, and the other
 * one's tree is older and intact too), then replays the records after C in
 * commit order, each as one commit, up to the first torn, corrupt or missing
 * one, then takes a checkpoint of the result and starts a new log
 * generation. No knowledge of LMDB's meta layout is needed: the pages are
 * copied whole.
 *
 * The log's files are rewritten in place: a checkpoint first switches the
 * lanes to the next generation's files (once every record of the current
 * ones is flushed: the writer takes no new batch for that moment, about one
 * flush a second), and the files of the generation before are rewritten only
 * after a checkpoint that follows them is durable. A record names its
 * generation, so stale records after the newest ones are never read.
 *
 * Failure cases:
 * - kill -9 at any moment: LMDB's commits are in the page cache and reach
 *   the file; reopening restores C's meta pages and replays the log, which
 *   holds every reported commit (and maybe later ones). The result is the
 *   state before the kill up to the last record written.
 * - power loss or kernel crash: data.mdb may hold any mix of pages written
 *   after C, but C's tree is intact and its meta pages come back from the
 *   checkpoint file; every reported commit's record was flushed, so the
 *   replay brings back every acknowledged write. A torn record was never
 *   reported, and neither was any later one.
 * - A crash during replay or before the open's checkpoint is durable: the
 *   open holds a read transaction on C while replaying, so the next open
 *   starts from C again.
 * - A data.mdb put in place from a copy (another inode) is never written
 *   with the checkpoint's meta pages: the open refuses (docs/operations.md).
 * - A failed log write or flush (EIO): the intents waiting on it get ERR_IO
 *   (outcome unknown: their commits stay), then the writer takes a
 *   checkpoint on its own thread, which makes every commit durable, before
 *   it reports anything later; a failing checkpoint is retried.
 * - Readers: a read transaction sees every commit, durable or not yet.
 *   Anything a peer or a stream reader consumes must stop at the durable
 *   point: seeding and the S3 replication queue (background threads) read
 *   through store_read_durable(), which only hands out snapshots at or before
 *   durable_id; DynamoDB Streams (request threads, which must not wait on the
 *   disk) stop at store_seq_durable(), the last record number below every
 *   commit past durable_id; the replication log is shipped up to the newest
 *   entry whose done callback has run (src/repl). So no region ever ships an
 *   entry a power loss could take back.
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

/* fail_owed - the owed intents cannot be promised (their log records may
 * never become durable): report them with ERR_IO, outcome unknown. */
static void fail_owed(struct store *s, int rc)
{
    struct intent *it;

    for (it = s->owed; it; it = it->next)
        if (it->rc == ERR_OK)
            it->rc = lmdb_err(&it->err, rc, "flush");
    report_durable(s, UINT64_MAX);
}

/* ---- checkpoints ---- */

/* ckpt_take - a read transaction on the newest commit and a copy of LMDB's
 * meta pages as they are now (writer thread, between commits, so both
 * describe the same commit). */
static enum err_code ckpt_take(struct store *s, struct ckpt_job *j, uint64_t gen, struct err *e)
{
    size_t len = 2 * (size_t)s->psize, got = 0;
    int fd = -1, rc;

    memset(j, 0, sizeof(*j));
    rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &j->r);
    if (rc) {
        j->r = NULL;
        return lmdb_err(e, rc, "begin checkpoint");
    }
    j->c.id = (uint64_t)mdb_txn_id(j->r);
    j->c.gen = gen;
    j->c.psize = s->psize;
    j->c.meta = xmalloc(len);
    rc = mdb_env_get_fd(s->env, &fd);
    if (!rc) {
        struct stat st;

        if (fstat(fd, &st) != 0)
            rc = errno;
        else
            j->c.ino = (uint64_t)st.st_ino;
    }
    while (!rc && got < len) {
        ssize_t r = pread(fd, j->c.meta + got, len - got, (off_t)got);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            rc = r < 0 ? errno : EIO;
        else
            got += (size_t)r;
    }
    if (rc) {
        mdb_txn_abort(j->r);
        free(j->c.meta);
        memset(j, 0, sizeof(*j));
        return lmdb_err(e, rc, "read meta pages");
    }
    return ERR_OK;
}

/* ckpt_write - make the job's commit durable in data.mdb and save its meta
 * pages (any thread). */
static enum err_code ckpt_write(struct store *s, const struct ckpt_job *j, struct err *e)
{
    int rc = injected(&s->fail_flushes) ? EIO : mdb_env_sync(s->env, 1);

    pthread_mutex_lock(&s->mu);
    s->stats.syncs++;
    pthread_mutex_unlock(&s->mu);
    if (rc)
        return lmdb_err(e, rc, "flush");
    return wal_ckpt_write(s->dir, &j->c, e);
}

/* ckpt_adopt - the job's checkpoint is durable (@ok) or not: keep the reader
 * of the durable one, drop the other (writer thread). */
static void ckpt_adopt(struct store *s, struct ckpt_job *j, bool ok)
{
    if (ok) {
        if (s->ckpt_reader)
            mdb_txn_abort(s->ckpt_reader);
        s->ckpt_reader = j->r;
        s->ckpt_id = j->c.id;
        s->ckpt_gen = j->c.gen;
    } else if (j->r) {
        mdb_txn_abort(j->r);
    }
    free(j->c.meta);
    memset(j, 0, sizeof(*j));
}

static void *ckpt_main(void *p)
{
    struct store *s = p;

    pthread_mutex_lock(&s->mu);
    for (;;) {
        struct err e = {0};
        enum err_code rc;

        while (!s->ckpt_stop && !(s->ckpt_busy && !s->ckpt_done))
            pthread_cond_wait(&s->ckpt_cv, &s->mu);
        if (!(s->ckpt_busy && !s->ckpt_done))
            break;
        pthread_mutex_unlock(&s->mu);
        rc = ckpt_write(s, &s->job, &e);
        if (rc)
            log_err("event=store_checkpoint_failed error=\"%s\"", e.msg);
        pthread_mutex_lock(&s->mu);
        s->ckpt_rc = rc;
        s->ckpt_done = true;
        pthread_cond_signal(&s->cv);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

static void stop_ckpt_thread(struct store *s)
{
    if (!s->ckpt_started)
        return;
    pthread_mutex_lock(&s->mu);
    s->ckpt_stop = true;
    pthread_cond_signal(&s->ckpt_cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->ckpt_thread, NULL);
    s->ckpt_started = false;
}

/* ckpt_finish - adopt the checkpoint thread's result, if it has one; with
 * @wait, wait for it first (writer thread). */
static void ckpt_finish(struct store *s, bool wait)
{
    bool done;

    pthread_mutex_lock(&s->mu);
    while (wait && s->ckpt_busy && !s->ckpt_done)
        pthread_cond_wait(&s->cv, &s->mu);
    done = s->ckpt_busy && s->ckpt_done;
    if (done)
        s->ckpt_busy = s->ckpt_done = false;
    pthread_mutex_unlock(&s->mu);
    if (done)
        ckpt_adopt(s, &s->job, s->ckpt_rc == ERR_OK);
}

/* ckpt_now - a checkpoint of the newest commit, on this thread; the log's
 * pending records are covered by it (writer thread, or store_open). */
static enum err_code ckpt_now(struct store *s, uint64_t gen, struct err *e)
{
    struct ckpt_job j;
    enum err_code rc = ckpt_take(s, &j, gen, e);

    if (rc)
        return rc;
    rc = ckpt_write(s, &j, e);
    ckpt_adopt(s, &j, rc == ERR_OK);
    s->ckpt_at_us = clock_mono_us();
    return rc;
}

static void set_draining(struct store *s, bool on)
{
    if (s->draining == on)
        return;
    pthread_mutex_lock(&s->mu);
    s->draining = on;
    pthread_mutex_unlock(&s->mu);
}

/* maybe_checkpoint - start a checkpoint when one is due (writer thread). */
static void maybe_checkpoint(struct store *s)
{
    struct err e = {0};
    bool rotate;
    uint64_t gen;

    if (s->ckpt_busy || s->last_id == s->ckpt_id || s->broken ||
        (clock_mono_us() - s->ckpt_at_us < (int64_t)s->ckpt_ms * 1000 &&
         wal_bytes(s->wal) < CHECKPOINT_BYTES)) {
        set_draining(s, false);
        return;
    }
    /* The log's files of the generation before the current one can be
     * rewritten once a durable checkpoint follows them; switching files needs
     * every record of the current ones durable first. */
    gen = wal_gen(s->wal);
    rotate = s->ckpt_gen == gen;
    set_draining(s, rotate && s->durable_id < s->last_id);
    if (s->draining)
        return;
    if (rotate) {
        if (wal_rotate(s->wal, s->last_id, &e) == ERR_OK)
            gen++;
        else
            log_err("event=wal_rotate_failed error=\"%s\"", e.msg);
    }
    s->ckpt_at_us = clock_mono_us();
    if (ckpt_take(s, &s->job, gen, &e) != ERR_OK) {
        log_err("event=store_checkpoint_failed error=\"%s\"", e.msg);
        return;
    }
    pthread_mutex_lock(&s->mu);
    s->ckpt_busy = true;
    s->ckpt_done = false;
    pthread_cond_signal(&s->ckpt_cv);
    pthread_mutex_unlock(&s->mu);
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
    ckpt_finish(s, true);
    upto = s->last_id;
    if (ckpt_now(s, wal_gen(s->wal), &e) != ERR_OK) {
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
            it->rc = lmdb_err(&it->err, rc, "begin write transaction");
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
            it->rc = lmdb_err(&it->err, rc, "begin nested transaction");
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
                    it->rc = lmdb_err(&it->err, rc, "begin write transaction");
                goto done;
            }
            continue;
        }
        if (it->rc == ERR_OK) {
            /* Fails (and aborts the child) if a call inside apply failed
             * and apply ignored it. */
            rc = mdb_txn_commit(child);
            if (rc) {
                it->rc = lmdb_err(&it->err, rc, "commit nested transaction");
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
            ckpt_finish(s, false);
            wal_advance(s);
        }
        if (batch)
            run_batch(s, batch, n);
        if (s->wal)
            maybe_checkpoint(s); /* also under load, where the queue never runs dry */
        if (batch)
            continue;
        /* stopping: the queue drained and everything reported (a failing
         * disk is retried, but not forever once the store is closing) */
        if (stopping && !s->draining && (s->durable_id >= s->last_id || s->broken))
            break;
    }
    if (s->wal) {
        struct err e = {0};

        ckpt_finish(s, true);
        if (!s->broken && s->durable_id >= s->last_id && ckpt_now(s, wal_gen(s->wal), &e))
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

/* replay_record - apply one log record's changes as one commit. */
static enum err_code replay_record(void *arg, uint64_t id, const unsigned char *ops, size_t len,
                                   struct err *e)
{
    struct store *s = arg;
    MDB_txn *txn = NULL;
    size_t off = 0;
    int rc = mdb_txn_begin(s->env, NULL, 0, &txn);

    if (rc)
        return lmdb_err(e, rc, "begin replay");
    while (!rc && off < len) {
        const unsigned char *p = ops + off;
        MDB_val k, v;
        size_t vlen;

        if (len - off < OP_HDR || p[0] >= STORE_DB__COUNT || (p[1] != OP_PUT && p[1] != OP_DEL))
            break;
        k.mv_size = (size_t)p[2] | (size_t)p[3] << 8;
        vlen = (size_t)p[4] | (size_t)p[5] << 8 | (size_t)p[6] << 16 | (size_t)p[7] << 24;
        if (k.mv_size == 0 || len - off - OP_HDR < k.mv_size ||
            len - off - OP_HDR - k.mv_size < vlen)
            break;
        k.mv_data = (void *)(p + OP_HDR);
        v.mv_size = vlen;
        v.mv_data = (void *)(p + OP_HDR + k.mv_size);
        if (p[1] == OP_PUT) {
            rc = mdb_put(txn, s->dbi[p[0]], &k, &v, 0);
        } else {
            rc = mdb_del(txn, s->dbi[p[0]], &k, NULL);
            if (rc == MDB_NOTFOUND)
                rc = 0;
        }
        off += OP_HDR + k.mv_size + vlen;
    }
    if (!rc && off != len) {
        mdb_txn_abort(txn);
        return err_set(e, ERR_IO, "write-ahead log record %llu is malformed",
                       (unsigned long long)id);
    }
    if (rc) {
        mdb_txn_abort(txn);
        return lmdb_err(e, rc, "replay");
    }
    rc = mdb_txn_commit(txn);
    return rc ? lmdb_err(e, rc, "commit replay") : ERR_OK;
}

/* env_uint - a tuning knob from the environment, or @dflt. */
static unsigned env_uint(const char *name, unsigned dflt)
{
    const char *v = getenv(name);
    char *end;
    unsigned long n;

    if (!v || !*v)
        return dflt;
    n = strtoul(v, &end, 10);
    return *end || n > 64 ? dflt : (unsigned)n;
}

static void wal_notify(void *arg)
{
    struct store *s = arg;

    pthread_mutex_lock(&s->mu);
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* recover - bring the environment to the newest logged commit: replay the
 * records after the checkpoint @ck (when @found), then take a checkpoint of
 * the result and start a new log generation. */
static enum err_code recover(struct store *s, const struct store_opts *o, const struct wal_ckpt *ck,
                             bool found, struct err *e)
{
    MDB_txn *hold = NULL;
    uint64_t max_gen = 0;
    unsigned replayed = 0;
    enum err_code rc = ERR_OK;
    int mrc;

    if (found) {
        /* Replay commits without flushes; until the checkpoint below is
         * durable, a crash restarts from @ck again, so its pages are held. */
        mrc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &hold);
        if (mrc)
            return lmdb_err(e, mrc, "begin read transaction");
        rc = wal_replay(o->dir, ck->gen, ck->id, replay_record, s, &max_gen, &replayed, e);
        if (replayed)
            log_info("event=store_replay dir=%s records=%u from_txn=%llu", o->dir, replayed,
                     (unsigned long long)ck->id);
    }
    s->last_id = s->durable_id = last_txn_id(s);
    if (rc == ERR_OK && o->nosync) {
        /* no log in this mode: the next durable open starts from data.mdb */
        if ((mrc = mdb_env_sync(s->env, 1)) != 0)
            rc = lmdb_err(e, mrc, "flush");
        else
            rc = wal_discard(o->dir, e);
    } else if (rc == ERR_OK) {
        uint64_t gen = (max_gen > ck->gen ? max_gen : ck->gen) + 1;
        struct wal_opts wo = {.dir = o->dir,
                              .lanes = o->wal_lanes ? o->wal_lanes
                                                    : env_uint("TANDEM_WAL_LANES", DEFAULT_LANES),
                              .gather = env_uint("TANDEM_WAL_GATHER", DEFAULT_GATHER) != 0,
                              .gen = gen,
                              .fail_flushes = &s->fail_flushes,
                              .notify = wal_notify,
                              .notify_arg = s,
                              .flush = o->log_flush};

        rc = ckpt_now(s, gen, e);
        if (rc == ERR_OK)
            rc = wal_start(&wo, &s->wal, e);
    }
    if (hold)
        mdb_txn_abort(hold);
    return rc;
}

static enum err_code open_env(struct store *s, const struct store_opts *o, struct err *e)
{
    MDB_txn *txn = NULL;
    /* LMDB commits without flushes once open (MDB_NOSYNC): the log makes
     * them durable; see "Durability" above. */
    unsigned flags = MDB_NOTLS | (o->nosync ? MDB_NOSYNC : MDB_NOMETASYNC);
    struct wal_ckpt ck;
    bool found = false;
    MDB_stat st;
    enum err_code erc;
    int rc;

    erc = wal_ckpt_read(o->dir, &ck, &found, e);
    if (erc)
        return erc;
    if (found && (erc = wal_ckpt_restore(o->dir, &ck, e)) != ERR_OK)
        goto out;
    erc = ERR_IO;
    rc = mdb_env_create(&s->env);
    if (rc) {
        s->env = NULL;
        lmdb_err(e, rc, "create environment");
        goto out;
    }
    if ((rc = mdb_env_set_mapsize(s->env, o->map_size ? o->map_size : DEFAULT_MAP_SIZE)) ||
        (rc = mdb_env_set_maxdbs(s->env, STORE_DB__COUNT)) ||
        (rc = mdb_env_set_maxreaders(s->env, MAX_READERS))) {
        lmdb_err(e, rc, "configure environment");
        goto out;
    }
    rc = mdb_env_open(s->env, o->dir, flags, 0644);
    if (rc) {
        err_set(e, ERR_IO, "open data directory %s: %s", o->dir, mdb_strerror(rc));
        goto out;
    }
    rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (rc) {
        lmdb_err(e, rc, "begin write transaction");
        goto out;
    }
    for (int i = 0; i < STORE_DB__COUNT; i++) {
        rc = mdb_dbi_open(txn, db_names[i], MDB_CREATE, &s->dbi[i]);
        if (rc) {
            mdb_txn_abort(txn);
            err_set(e, ERR_IO, "open database %s: %s", db_names[i], mdb_strerror(rc));
            goto out;
        }
    }
    rc = mdb_txn_commit(txn);
    if (rc) {
        lmdb_err(e, rc, "commit");
        goto out;
    }
    if ((rc = mdb_env_stat(s->env, &st)) != 0) {
        lmdb_err(e, rc, "stat");
        goto out;
    }
    s->psize = st.ms_psize;
    s->nosync = o->nosync;
    if (found && (ck.psize != s->psize || last_txn_id(s) != ck.id)) {
        err_set(e, ERR_IO,
                "data.mdb in %s is not the one wal-checkpoint describes (commit %llu, found "
                "%llu)",
                o->dir, (unsigned long long)ck.id, (unsigned long long)last_txn_id(s));
        goto out;
    }
    if ((rc = mdb_env_set_flags(s->env, MDB_NOSYNC, 1)) != 0) {
        lmdb_err(e, rc, "set flags");
        goto out;
    }
    erc = recover(s, o, &ck, found, e);
out:
    free(ck.meta);
    return erc;
}

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
    rc = open_env(s, o, e);
    if (rc)
        goto fail;
    s->max_batch = o->max_batch ? o->max_batch : DEFAULT_MAX_BATCH;
    s->stats.syncs = 0; /* the checkpoint of the open is not the traffic's */
    if (s->wal) {
        if (pthread_create(&s->ckpt_thread, NULL, ckpt_main, s) != 0) {
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
    stop_ckpt_thread(s);
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
    stop_ckpt_thread(s);
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
        return lmdb_err(e, rc, "delete");
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
        return lmdb_err(e, rc, "open cursor");
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

    struct store *s = c->t->s;
    MDB_val k, v;
    size_t mark = s->rec_len;

    if (c->t->rdonly)
        return not_writable(e);
    rc = mdb_cursor_get(c->c, &k, &v, MDB_GET_CURRENT);
    if (rc)
        return lmdb_err(e, rc, "cursor delete");
    log_op(s, c->db, OP_DEL, &k, NULL); /* now: the key lives in the page */
    rc = mdb_cursor_del(c->c, 0);
    if (rc) {
        s->rec_len = mark;
        return lmdb_err(e, rc, "cursor delete");
    }
    return ERR_OK;
}
