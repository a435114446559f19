/* ckpt.c - checkpoints and opening a data directory (store_int.h).
 *
 * The writer (store.c) makes commits durable through the write-ahead log;
 * this file keeps LMDB itself power-safe beside it: it takes checkpoints (on
 * the writer's thread, flushed on a thread of its own), and at open puts the
 * durable checkpoint's meta pages back, replays the log after it and takes
 * the open's checkpoint. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "mem.h"
#include "store_int.h"

enum {
    MAX_READERS = 1024,
    DEFAULT_LANES = 2,
    DEFAULT_GATHER = 1,
};
#define CHECKPOINT_BYTES ((uint64_t)64 << 20) /* of log since the last checkpoint */
#define DEFAULT_MAP_SIZE ((size_t)64 << 30)

static const char *const db_names[STORE_DB__COUNT] = {"meta", "data", "log", "s3", "stream"};

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
        return store_lmdb_err(e, rc, "begin checkpoint");
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
        return store_lmdb_err(e, rc, "read meta pages");
    }
    return ERR_OK;
}

/* ckpt_write - make the job's commit durable in data.mdb and save its meta
 * pages (any thread). */
static enum err_code ckpt_write(struct store *s, const struct ckpt_job *j, struct err *e)
{
    int rc = store_injected(&s->fail_flushes) ? EIO : mdb_env_sync(s->env, 1);

    pthread_mutex_lock(&s->mu);
    s->stats.syncs++;
    pthread_mutex_unlock(&s->mu);
    if (rc)
        return store_lmdb_err(e, rc, "flush");
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

void *store_ckpt_main(void *p)
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

void store_ckpt_stop(struct store *s)
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

void store_ckpt_finish(struct store *s, bool wait)
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

enum err_code store_ckpt_now(struct store *s, uint64_t gen, struct err *e)
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

void store_ckpt_maybe(struct store *s)
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

/* ---- open ---- */

/* replay_record - apply one log record's changes as one commit. */
static enum err_code replay_record(void *arg, uint64_t id, const unsigned char *ops, size_t len,
                                   struct err *e)
{
    struct store *s = arg;
    MDB_txn *txn = NULL;
    size_t off = 0;
    int rc = mdb_txn_begin(s->env, NULL, 0, &txn);

    if (rc)
        return store_lmdb_err(e, rc, "begin replay");
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
        return store_lmdb_err(e, rc, "replay");
    }
    rc = mdb_txn_commit(txn);
    return rc ? store_lmdb_err(e, rc, "commit replay") : ERR_OK;
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
            return store_lmdb_err(e, mrc, "begin read transaction");
        rc = wal_replay(o->dir, ck->gen, ck->id, replay_record, s, &max_gen, &replayed, e);
        if (replayed)
            log_info("event=store_replay dir=%s records=%u from_txn=%llu", o->dir, replayed,
                     (unsigned long long)ck->id);
    }
    s->last_id = s->durable_id = store_last_txn_id(s);
    if (rc == ERR_OK && o->nosync) {
        /* no log in this mode: the next durable open starts from data.mdb */
        if ((mrc = mdb_env_sync(s->env, 1)) != 0)
            rc = store_lmdb_err(e, mrc, "flush");
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

        rc = store_ckpt_now(s, gen, e);
        if (rc == ERR_OK)
            rc = wal_start(&wo, &s->wal, e);
    }
    if (hold)
        mdb_txn_abort(hold);
    return rc;
}

enum err_code store_env_open(struct store *s, const struct store_opts *o, struct err *e)
{
    MDB_txn *txn = NULL;
    /* LMDB commits without flushes once open (MDB_NOSYNC): the log makes
     * them durable; see "Durability". */
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
        store_lmdb_err(e, rc, "create environment");
        goto out;
    }
    if ((rc = mdb_env_set_mapsize(s->env, o->map_size ? o->map_size : DEFAULT_MAP_SIZE)) ||
        (rc = mdb_env_set_maxdbs(s->env, STORE_DB__COUNT)) ||
        (rc = mdb_env_set_maxreaders(s->env, MAX_READERS))) {
        store_lmdb_err(e, rc, "configure environment");
        goto out;
    }
    rc = mdb_env_open(s->env, o->dir, flags, 0644);
    if (rc) {
        err_set(e, ERR_IO, "open data directory %s: %s", o->dir, mdb_strerror(rc));
        goto out;
    }
    rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (rc) {
        store_lmdb_err(e, rc, "begin write transaction");
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
        store_lmdb_err(e, rc, "commit");
        goto out;
    }
    if ((rc = mdb_env_stat(s->env, &st)) != 0) {
        store_lmdb_err(e, rc, "stat");
        goto out;
    }
    s->psize = st.ms_psize;
    s->nosync = o->nosync;
    if (found && (ck.psize != s->psize || store_last_txn_id(s) != ck.id)) {
        err_set(e, ERR_IO,
                "data.mdb in %s is not the one wal-checkpoint describes (commit %llu, found "
                "%llu)",
                o->dir, (unsigned long long)ck.id, (unsigned long long)store_last_txn_id(s));
        goto out;
    }
    if ((rc = mdb_env_set_flags(s->env, MDB_NOSYNC, 1)) != 0) {
        store_lmdb_err(e, rc, "set flags");
        goto out;
    }
    erc = recover(s, o, &ck, found, e);
out:
    free(ck.meta);
    return erc;
}
