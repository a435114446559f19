/* store.h - a region's durable state: one LMDB environment, group commit,
 * a write-ahead log.
 *
 * Reads run in read-only transactions on the calling thread (MDB_NOTLS, so
 * any thread may begin one; it must end on the thread that began it).
 * Writes never run on request threads: callers submit a write intent, the one
 * writer thread applies a batch of queued intents in one LMDB transaction
 * (each intent in a nested transaction, so a failed intent leaves no trace
 * and later intents in the batch see what earlier ones wrote), commits once,
 * and reports each intent's outcome only once that commit is on disk. That is
 * group commit: concurrent writers share one flush, and an acknowledged write
 * is durable (it survives kill -9 and power loss). A commit costs one flush
 * of the write-ahead log; the log's files are flushed side by side, so a
 * batch starts its flush while the previous one's is under way, and LMDB is
 * flushed only by checkpoints, about once a second (ckpt.c, "Durability").
 *
 * The data directory holds data.mdb and lock.mdb (LMDB), tandem.lock, the
 * log's files wal-LANE-P and wal-checkpoint; copy it only whole, from a
 * stopped region (docs/operations.md).
 *
 * Read transactions see every commit, including the newest one whose flush
 * has not happened yet (kill -9 cannot take it back, a power loss can).
 * Whatever leaves the region as a durable fact is read through
 * store_read_durable() (seed pages, the S3 replication queue: background
 * threads, which may wait), capped at a durable sequence number without
 * waiting (DynamoDB Streams records: store_seq_durable()), or capped at what
 * done callbacks have reported (the replication log).
 *
 * The data directory is held with an exclusive flock on DIR/tandem.lock;
 * a second process opening the same directory gets ERR_IN_USE. */
#ifndef TANDEM_STORE_H
#define TANDEM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "slice.h"

struct store;
struct store_txn;
struct store_cursor;

/* The named databases inside the environment. Keys are opaque bytes ordered
 * by memcmp (LMDB's default order). */
enum store_db {
    STORE_DB_META,   /* catalogs: table descriptors, counters, settings */
    STORE_DB_DATA,   /* items: table id + order-preserving key encoding */
    STORE_DB_LOG,    /* change logs (streams, replication) */
    STORE_DB_S3,     /* buckets, object versions, multipart uploads (src/s3) */
    STORE_DB_STREAM, /* DynamoDB Streams records and stream metadata (ddb/streams.h) */
    STORE_DB__COUNT
};

struct store_opts {
    const char *dir;          /* data directory, created if missing */
    size_t map_size;          /* LMDB map size in bytes; 0 = default (64 GiB, sparse) */
    unsigned max_batch;       /* most intents per commit; 0 = default (1024) */
    bool nosync;              /* skip fsync (benchmarks of the floor only; never in production) */
    unsigned wal_lanes;       /* log files flushed side by side; 0 = TANDEM_WAL_LANES or 2 */
    unsigned checkpoint_ms;   /* checkpoint interval; 0 = default (1000) */
    int (*log_flush)(int fd); /* the log's flush; NULL = fdatasync (tests: a disk they control) */
};

/*
 * store_open - open (creating if needed) the environment in @o->dir, take the
 * directory lock and start the writer thread.
 *
 * @out  owned, store_close().
 * Returns ERR_OK; ERR_IN_USE if another process holds the directory; ERR_IO
 * with a message in @e for any other failure.
 */
enum err_code store_open(const struct store_opts *o, struct store **out, struct err *e);

/*
 * store_close - finish queued intents (each still gets its done callback),
 * stop the writer thread, close the environment, release the lock. NULL ok.
 * No read transaction may be open.
 */
void store_close(struct store *s);

/*
 * store_read_begin - a read-only snapshot of everything committed so far.
 *
 * @out  owned; end it with store_txn_abort() on the same thread.
 * Returns ERR_OK or ERR_IO.
 */
enum err_code store_read_begin(struct store *s, struct store_txn **out, struct err *e);

/*
 * store_read_durable - like store_read_begin, but the snapshot holds only
 * commits that are on disk: it waits (about one flush at most) until the
 * log holds everything the snapshot sees. Never call it on the
 * writer thread (from a store_apply_fn or store_done_fn).
 */
enum err_code store_read_durable(struct store *s, struct store_txn **out, struct err *e);

/*
 * Durable sequences, for readers that must not wait on the disk (request
 * threads). A caller that numbers the entries it writes, with numbers that
 * grow with commits (every entry of a later commit has a larger number),
 * notes each number it writes inside its store_apply_fn; a reader then learns
 * up to which number every entry it can see is durable, and stops there.
 */
enum store_seq {
    STORE_SEQ_STREAM, /* DynamoDB Streams record numbers (ddb/streams.c) */
    STORE_SEQ__COUNT
};

/* store_seq_note - inside a store_apply_fn: this commit writes entry @n of
 * sequence @q. A note of an intent that fails later stays: it only makes
 * store_seq_durable() more careful until that commit id is durable. */
void store_seq_note(struct store_txn *t, enum store_seq q, uint64_t n);

/*
 * store_seq_durable - the largest number N such that every entry of @q
 * numbered up to N that a read transaction begun before this call sees is
 * durable (UINT64_MAX: all of them are). Never waits. Call it after
 * store_read_begin(), never before: a commit between the two could be missed.
 */
uint64_t store_seq_durable(struct store *s, enum store_seq q);

/* store_txn_id - the commit a transaction reads (read transactions), or the
 * commit it will become (inside a store_apply_fn). Ids grow by one per commit
 * that changes anything. */
uint64_t store_txn_id(const struct store_txn *t);

/* store_txn_abort - end a read transaction. NULL is a no-op. Never call it on
 * the transaction passed to a store_apply_fn (the writer owns that one). */
void store_txn_abort(struct store_txn *t);

/*
 * store_get - read one value.
 *
 * @val  out, borrowed: points into the map and stays valid until the next
 *       write in @t or the end of @t. Copy it to keep it.
 * Returns ERR_OK, ERR_NOTFOUND, or ERR_IO.
 */
enum err_code store_get(struct store_txn *t, enum store_db db, struct slice key, struct slice *val,
                        struct err *e);

/* store_put - insert or overwrite (write transactions only).
 * Returns ERR_OK; ERR_INVALID for an empty key or one over 511 bytes; ERR_IO
 * (map full included) with a message. */
enum err_code store_put(struct store_txn *t, enum store_db db, struct slice key, struct slice val,
                        struct err *e);

/* store_del - remove a key (write transactions only). ERR_NOTFOUND if absent. */
enum err_code store_del(struct store_txn *t, enum store_db db, struct slice key, struct err *e);

/*
 * Cursors walk one database in key order. Positioning calls fill @k and @v
 * (borrowed, like store_get's @val) and return ERR_NOTFOUND when there is no
 * such entry. A cursor belongs to its transaction and must be closed before it
 * ends.
 */
enum err_code store_cursor_open(struct store_txn *t, enum store_db db, struct store_cursor **out,
                                struct err *e);
void store_cursor_close(struct store_cursor *c); /* NULL ok */
/* first entry with key >= @key */
enum err_code store_cursor_seek(struct store_cursor *c, struct slice key, struct slice *k,
                                struct slice *v, struct err *e);
/* last entry with key <= @key */
enum err_code store_cursor_seek_le(struct store_cursor *c, struct slice key, struct slice *k,
                                   struct slice *v, struct err *e);
enum err_code store_cursor_next(struct store_cursor *c, struct slice *k, struct slice *v,
                                struct err *e);
enum err_code store_cursor_prev(struct store_cursor *c, struct slice *k, struct slice *v,
                                struct err *e);
/* store_cursor_del - delete the entry under the cursor (write transactions only);
 * the cursor then sits on the following entry, which store_cursor_next would skip,
 * so callers re-read with store_cursor_seek. */
enum err_code store_cursor_del(struct store_cursor *c, struct err *e);

/*
 * A write intent. @apply runs on the writer thread inside a nested write
 * transaction @t: it may read, put and delete, and decides the outcome. If it
 * returns anything but ERR_OK its changes are rolled back and that code (with
 * @e) is what @done receives. It must not block on the network or take long:
 * the whole batch waits for it.
 *
 * @done runs on the writer thread after the batch's commit is durable (or has
 * failed: then every intent in the batch gets ERR_IO). An intent whose commit
 * changed nothing is reported once everything it may have read is durable. It must be quick:
 * typically it finishes the response and wakes the connection.
 */
typedef enum err_code store_apply_fn(struct store_txn *t, void *arg, struct err *e);
typedef void store_done_fn(void *arg, enum err_code rc, const struct err *e);

/* store_submit - queue an intent; returns at once. @arg is borrowed until @done. */
void store_submit(struct store *s, store_apply_fn *apply, store_done_fn *done, void *arg);

/* store_write - submit and wait until durable; returns the intent's outcome. */
enum err_code store_write(struct store *s, store_apply_fn *apply, void *arg, struct err *e);

/* store_next_id - a number unique in this environment, never reused
 * (write transactions only; survives restarts). Used for table ids. */
enum err_code store_next_id(struct store_txn *t, uint64_t *id, struct err *e);

/*
 * store_inject_failures - make the next @commits commits and the next
 * @flushes flushes of their own fail as a failing disk (EIO) makes them: the
 * commit is aborted (every intent of its batch gets ERR_IO and nothing of it
 * stays), the flush is not done (the intents waiting on it get ERR_IO, their
 * outcome unknown: the commit stays and is made durable by a checkpoint the
 * writer takes at once; checkpoints count as flushes too).
 * For tests of those paths; compiled in every build, set only by this call.
 */
void store_inject_failures(struct store *s, unsigned commits, unsigned flushes);

struct store_stats {
    uint64_t commits; /* batches committed */
    uint64_t intents; /* intents applied */
    uint64_t max_batch_seen;
    uint64_t syncs;      /* flushes since the open: of the log, and checkpoints' */
    uint64_t durable_id; /* every commit up to this id is on disk (in the log) */
};
void store_get_stats(struct store *s, struct store_stats *out);

#endif
