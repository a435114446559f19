/* store_int.h - what the files of the store module share (not a public
 * contract): the store's state and the few helpers both halves use.
 *
 * store.c is the writer thread, group commit, the write-ahead log's feeding
 * and reporting, read transactions and cursors; ckpt.c is checkpoints (what
 * keeps LMDB power-safe beside the log) and opening a data directory:
 * restoring the checkpoint, replaying the log, and the open's own checkpoint.
 * The design of both is "Durability" at the top of ckpt.c. */
#ifndef TANDEM_STORE_INT_H
#define TANDEM_STORE_INT_H

#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>

#include "store.h"
#include "wal.h"

enum {
    SEQ_PENDING = 4, /* noting commits kept apart per sequence (the rest merge) */
    OP_HDR = 8,      /* a logged change: db, kind, key length (2), value length (4) */
    OP_PUT = 1,
    OP_DEL = 2,
};

struct store_txn {
    struct store *s;
    MDB_txn *txn;
    bool rdonly;
    struct store_txn *next; /* in the read pool */
};

struct intent;

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

/* store_lmdb_err - set @e from LMDB's @rc (while doing @what); ERR_IO. */
enum err_code store_lmdb_err(struct err *e, int rc, const char *what);

/* store_injected - take one injected failure from @n (store_inject_failures),
 * if any is left. */
bool store_injected(atomic_uint *n);

/* store_last_txn_id - the id of the newest commit in the environment. */
uint64_t store_last_txn_id(struct store *s);

/* ---- ckpt.c ---- */

/* store_env_open - open the LMDB environment of @o->dir into @s: put the
 * checkpoint's meta pages back, replay the log after it, take a checkpoint of
 * the result and start the log (s->wal; none with nosync). On failure the
 * caller closes what is set in @s (env, wal, ckpt_reader). */
enum err_code store_env_open(struct store *s, const struct store_opts *o, struct err *e);

/* store_ckpt_main - the checkpoint thread: flushes the job the writer hands
 * over (s->job) and saves its meta pages. */
void *store_ckpt_main(void *p);

/* store_ckpt_stop - stop and join the checkpoint thread, if it runs. */
void store_ckpt_stop(struct store *s);

/* store_ckpt_finish - adopt the checkpoint thread's result, if it has one;
 * with @wait, wait for it first (writer thread). */
void store_ckpt_finish(struct store *s, bool wait);

/* store_ckpt_now - a checkpoint of the newest commit, on this thread; the
 * log's pending records are covered by it (writer thread, or store_open). */
enum err_code store_ckpt_now(struct store *s, uint64_t gen, struct err *e);

/* store_ckpt_maybe - start a checkpoint when one is due, switching the log to
 * its next generation first when that is needed (writer thread). */
void store_ckpt_maybe(struct store *s);

#endif
