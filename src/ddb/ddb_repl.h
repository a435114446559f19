/* ddb_repl.h - what replication (src/repl) needs of the DynamoDB tables.
 *
 * A table with replicas ("global table", version 2019.11.21) has "_replicas"
 * in its descriptor (every region holding a replica, this one included) and
 * its tkey record carries a replicated flag. Writes to it store format-2
 * values (rlog.h) stamped with the region's HLC, leave tombstones for deletes
 * and append a log entry in the same apply; ddb_repl_apply() is the other
 * side: an entry from a peer, applied last-writer-wins. */
#ifndef TANDEM_DDB_REPL_H
#define TANDEM_DDB_REPL_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "ddb.h"
#include "err.h"
#include "rlog.h"
#include "store.h"

/* What replication plugs into the API (ddb_set_replicator). Both run on a
 * request thread or the writer thread and must return quickly. */
struct ddb_replicator {
    void *ud;
    /* UpdateTable with ReplicaUpdates, validated (the table exists, has a
     * NEW_AND_OLD_IMAGES stream; @updates is the request's array). Finish with
     * ddb_repl_update_done(@call, ...) exactly once, from any thread. */
    void (*replica_updates)(void *ud, void *call, const char *table, const cJSON *updates);
    /* A replicated table was deleted here; @replicas (JSON array text) is the
     * replica set it had. */
    void (*table_deleted)(void *ud, const char *table, const char *replicas);
};

/* ddb_set_replicator - @r borrowed, outlives @d; NULL turns replica updates off. */
void ddb_set_replicator(struct ddb *d, const struct ddb_replicator *r);

/* ddb_repl_update_done - answer the UpdateTable @call: on ERR_OK with the
 * table's description, else with the error for @rc and @msg. */
void ddb_repl_update_done(void *call, enum err_code rc, const char *msg);

/* ddb_repl_table_export - what another region needs to create a replica of
 * @table: a JSON object {"TableName","Desc","TKey"(base64),"Replicas":[...]}
 * appended to @out. ERR_NOTFOUND when there is no such table. */
enum err_code ddb_repl_table_export(struct store *s, const char *table, struct buf *out,
                                    struct err *e);

/* ddb_repl_table_create - create the replica described by @spec (an export
 * from another region) in this region, with replica set @replicas. A table
 * of that name with the same key schema that is already a replica is updated
 * (idempotent); any other existing table: ERR_IN_USE. A key schema mismatch:
 * ERR_INVALID. */
enum err_code ddb_repl_table_create(struct ddb *d, const cJSON *spec, const cJSON *replicas,
                                    struct err *e);

/* ddb_repl_table_set_replicas - set the replica set of @table to @replicas
 * (array of region names; with this region alone or empty, the table stops
 * being replicated). ERR_NOTFOUND. */
enum err_code ddb_repl_table_set_replicas(struct ddb *d, const char *table, const cJSON *replicas,
                                          struct err *e);

/* Per-replica settings (UpdateTable ReplicaUpdates Update), the same in
 * every region: ddb_repl_settings_merge - @region's stored settings with
 * @update (the request's Update member, checked) applied, as a new object
 * (owned) in DescribeTable's Replicas shape; ddb_repl_table_set_settings -
 * store them as @region's. ERR_NOTFOUND. */
enum err_code ddb_repl_settings_merge(struct store *s, const char *table, const char *region,
                                      const cJSON *update, cJSON **out, struct err *e);
enum err_code ddb_repl_table_set_settings(struct store *s, const char *table, const char *region,
                                          const cJSON *settings, struct err *e);

/* ddb_repl_table_drop - delete table @table of this region with its items
 * (the replica's removal asked by another region). ERR_NOTFOUND. */
enum err_code ddb_repl_table_drop(struct ddb *d, const char *table, struct err *e);

/* ddb_repl_table_replicas - the replica set of @table as a JSON array text
 * appended to @out ("[]" when not replicated). ERR_NOTFOUND. */
enum err_code ddb_repl_table_replicas(struct store *s, const char *table, struct buf *out,
                                      struct err *e);

/* ddb_repl_tables_with - the names of this region's tables whose replica set
 * includes @region, as a JSON array text appended to @out. */
enum err_code ddb_repl_tables_with(struct store *s, const char *region, struct buf *out,
                                   struct err *e);

/* The outcome of applying one replicated entry. */
enum ddb_repl_outcome {
    DDB_REPL_APPLIED,  /* it won and is stored */
    DDB_REPL_SAME,     /* already there (a duplicate delivery) */
    DDB_REPL_LOST,     /* the stored version is newer: a conflict */
    DDB_REPL_NO_TABLE, /* no replicated table of that name here */
};

struct ddb_repl_result {
    enum ddb_repl_outcome outcome;
    uint64_t stored_ts; /* the version that was stored before */
    char stored_origin[REPL_REGION_MAX + 1];
};

/* Entries are applied in batches, each inside one write txn: what the
 * entries of a batch share is done once per batch (a table's key schema is
 * read once, its item counters are written once, at the end), and the
 * buffers of one entry are reused by the next. */
struct ddb_repl_batch;

/* ddb_repl_batch_begin - a batch in write txn @t (owned: ddb_repl_batch_end). */
struct ddb_repl_batch *ddb_repl_batch_begin(struct store_txn *t);

/* ddb_repl_apply - apply @x (from a peer or a snapshot) in @b's txn:
 * last-writer-wins on (ts, origin), tombstones for deletes, item counters kept
 * (written by ddb_repl_batch_end), the region's HLC advanced past @x->ts.
 * Nothing is logged. ERR_INVALID when the table's key schema differs from the
 * entry's. */
enum err_code ddb_repl_apply(struct ddb_repl_batch *b, const struct repl_entry *x,
                             struct ddb_repl_result *out, struct err *e);

/* ddb_repl_batch_end - when @write, store what the batch's entries changed
 * in the item counters (every apply must have succeeded); free @b.
 * Without @write (an apply failed: the caller aborts the txn) only frees. */
enum err_code ddb_repl_batch_end(struct ddb_repl_batch *b, bool write, struct err *e);

/* ddb_repl_snapshot - the live items and tombstones of @table after storage
 * key suffix @after (NULL: from the start) as a batch of entries (seq 1, 2,
 * ...; format-1 items get timestamp 0 and origin @region), at most @max.
 * @next (owned buf, reset) gets the key suffix of the last entry when @max
 * were taken (more may follow), else stays empty. */
enum err_code ddb_repl_snapshot(struct store_txn *t, const char *table, const char *region,
                                const struct slice *after, size_t max, struct buf *batch,
                                struct buf *next, struct err *e);

/* ddb_repl_gc - delete @table's tombstones stamped before @before (an HLC
 * timestamp), looking at no more than @max_scan stored values after key
 * suffix @after (NULL: from the start); @deleted counts them. @next (owned
 * buf, reset) gets the key suffix to continue after when @max_scan were
 * looked at, else stays empty (the table's end). Write txn. ERR_NOTFOUND. */
enum err_code ddb_repl_gc(struct store_txn *t, const char *table, const struct slice *after,
                          size_t max_scan, uint64_t before, size_t *deleted, struct buf *next,
                          struct err *e);

/* ddb_repl_digest - for tandem verify: walk @table's items (live ones only)
 * and call @fn with each key suffix and the hex SHA-256 of its JSON text
 * (replicas store the very text the origin stored). */
typedef void ddb_repl_digest_fn(void *arg, const void *key, size_t key_len, const char hash[65]);
enum err_code ddb_repl_digest(struct store_txn *t, const char *table, ddb_repl_digest_fn *fn,
                              void *arg, struct err *e);

#endif
