/* wal.h - the store's write-ahead log (internal to src/store; see ckpt.c,
 * "Durability").
 *
 * A record is one committed batch: its commit id, the id it was built on
 * (prev), the generation of the segment it lives in, and the batch's changes
 * as opaque bytes (store.c encodes them), under a CRC-32. Records go to one
 * of several lanes; each lane is a segment file with a flusher thread of its
 * own, so a record starts flushing as soon as it is appended instead of
 * waiting for the flush under way. A record is durable once it and every
 * record before it (by id) has been flushed.
 *
 * Segment files are DIR/wal-LANE-P, P the parity of their generation: a
 * rotation to generation G+1 rewrites the files of generation G-1 in place
 * (a file grows by zero-filled stretches of 1 MiB and is rewritten in place
 * afterwards, so most flushes write no metadata).
 * Reading a file stops at the first record that is torn, fails its CRC,
 * belongs to another generation or does not follow the one before.
 *
 * The checkpoint file DIR/wal-checkpoint names the LMDB state every replay
 * starts from: its commit id, the first generation whose records follow it,
 * and a copy of LMDB's two meta pages taken at that commit. */
#ifndef TANDEM_WAL_H
#define TANDEM_WAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum { WAL_MAX_LANES = 8 };

struct wal;

struct wal_ckpt {
    uint64_t id;         /* the LMDB commit the meta pages describe */
    uint64_t gen;        /* replay records of this generation and later */
    uint32_t psize;      /* LMDB page size */
    uint64_t ino;        /* data.mdb's inode number (a copied file is another one) */
    unsigned char *meta; /* 2 * psize bytes: pages 0 and 1 of data.mdb; owned */
};

/* wal_ckpt_read - load DIR/wal-checkpoint. *found is false (and ERR_OK) when
 * there is none; ERR_IO when it exists but is unreadable or corrupt. */
enum err_code wal_ckpt_read(const char *dir, struct wal_ckpt *out, bool *found, struct err *e);

/* wal_ckpt_write - replace DIR/wal-checkpoint durably (write a temporary
 * file, flush it, rename it over, flush the directory). */
enum err_code wal_ckpt_write(const char *dir, const struct wal_ckpt *c, struct err *e);

/* wal_ckpt_restore - put the checkpoint's meta pages back into
 * DIR/data.mdb (and flush it) when they differ, so LMDB opens on the
 * checkpoint's commit: whatever later meta pages reached the disk may
 * describe pages that did not. ERR_IO, writing nothing, when data.mdb is
 * not the file the checkpoint was taken of (another inode). */
enum err_code wal_ckpt_restore(const char *dir, const struct wal_ckpt *c, struct err *e);

/* wal_discard - remove the checkpoint file and every segment file in @dir
 * (the environment is flushed and will be written without the log). */
enum err_code wal_discard(const char *dir, struct err *e);

/* wal_replay_fn - apply one record's changes (@ops, @len bytes). */
typedef enum err_code wal_replay_fn(void *arg, uint64_t id, const unsigned char *ops, size_t len,
                                    struct err *e);

/*
 * wal_replay - call @fn for the records of generation @gen and later that
 * continue from commit @from (the first one's prev is @from, each next one's
 * prev the id before it), in that order, up to the first one missing.
 * @max_gen gets the largest generation of any segment found (0: none), @n the
 * number of records replayed. A failing @fn stops it with that code.
 */
enum err_code wal_replay(const char *dir, uint64_t gen, uint64_t from, wal_replay_fn *fn, void *arg,
                         uint64_t *max_gen, unsigned *n, struct err *e);

struct wal_opts {
    const char *dir;
    unsigned lanes;            /* 1..WAL_MAX_LANES */
    uint64_t gen;              /* the generation to write */
    atomic_uint *fail_flushes; /* injected flush failures (store_inject_failures) */
    bool gather;               /* a lane waits for its usual load before flushing */
    void (*notify)(void *arg); /* after every flush, from a flusher thread */
    void *notify_arg;
    int (*flush)(int fd); /* NULL: fdatasync (tests put a disk of known speed here) */
};

/* wal_start - delete every segment file in @o->dir (call it only once a
 * checkpoint covers them), create the lane files of generation @o->gen and
 * start the flushers. */
enum err_code wal_start(const struct wal_opts *o, struct wal **out, struct err *e);

/* wal_stop - stop the flushers (their pending flushes are done first) and
 * close the files. NULL ok. */
void wal_stop(struct wal *w);

/* wal_append - write the record of commit @id (built on @prev) to a lane and
 * queue its flush; @weight: the intents waiting on it. One caller thread
 * only. ERR_IO on a write failure, which also marks the log failed (see
 * wal_durable). */
enum err_code wal_append(struct wal *w, uint64_t id, uint64_t prev, const void *ops, size_t len,
                         unsigned weight, struct err *e);

/* wal_durable - the largest id up to which every appended record is flushed
 * (the id given to the last wal_start/wal_rotate/wal_reset when none is).
 * *failed: a write or flush failed since the last wal_rotate/wal_reset; the
 * records after the returned id may never become durable. */
uint64_t wal_durable(struct wal *w, bool *failed);

/* wal_rotate - every appended record is durable: switch every lane to the
 * next generation's files, emptied. @id: the newest commit. */
enum err_code wal_rotate(struct wal *w, uint64_t id, struct err *e);

/* wal_reset - a checkpoint covers every record up to @id (the newest one):
 * forget the pending ones and a failure. */
void wal_reset(struct wal *w, uint64_t id);

uint64_t wal_gen(struct wal *w);
uint64_t wal_flushes(struct wal *w); /* flushes done (stats) */
uint64_t wal_bytes(struct wal *w);   /* bytes appended since the last rotation */

#endif
