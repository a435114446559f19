/* backup.h - on-demand backups (backup.c) and point-in-time recovery
 * (pitr.c) of DynamoDB tables: CreateBackup, DescribeBackup, ListBackups,
 * DeleteBackup, RestoreTableFromBackup, UpdateContinuousBackups,
 * DescribeContinuousBackups, RestoreTableToPointInTime.
 *
 * A backup is a copy of the table's items at one consistent snapshot (a
 * store read transaction). CreateBackup answers at once with BackupStatus
 * CREATING; a background thread (backup_job.c) copies the snapshot's items
 * in pieces, each its own store write of at most backup_piece_items items
 * (1,000; TANDEM_DDB_BACKUP_PIECE_ITEMS) or 4 MiB, so other writes go on,
 * then flips the backup to AVAILABLE. Layout:
 *   STORE_DB_META "backup/<BackupArn>"  JSON: BackupDetails' members, plus
 *                 "_data" (the id its items are kept under), "_count",
 *                 "_table" (the source table's name), "_desc" (the source's
 *                 descriptor as it was) and "_ttl" (its TimeToLiveDescription)
 *   STORE_DB_DATA keys_append_table(_data) + the item's key encoding:
 *                 DDB_ITEM_FMT_JSON + the item's JSON (never a tombstone)
 *   STORE_DB_META "bkdrop/<id8>"  entries under keys_append_table(id) that
 *                 the background thread removes in pieces (a deleted table's
 *                 or backup's items, a restore that did not finish), then
 *                 this record.
 *   STORE_DB_META "bkhist/<id8>"  a history key's commit id (8) and number
 *                 (4): the PITR records of table id up to it are cleared the
 *                 same way (pitr.c: PITR turned off, the table deleted).
 * A backup outlives its table. A restore creates the target table through
 * CreateTable's own path (table_create_filled) with RestoreSummary
 * RestoreInProgress true (DescribeTable: TableStatus CREATING); the thread
 * fills it in pieces, indexes kept by each item write, then sets
 * RestoreInProgress false (ACTIVE).
 *
 * A backup or restore cut off (kill -9, power loss, a failed write) never
 * shows as AVAILABLE or ACTIVE: at the next start (backup_jobs_start) a
 * CREATING backup is removed, and so is a table whose restore had not
 * finished; their items go in pieces in the background.
 *
 * Point-in-time recovery keeps, while it is on, the before-image of every
 * change to the table:
 *   STORE_DB_META "pitr/<id8>"   16 bytes: enabled since (ms, big-endian),
 *                                recovery period in days (big-endian u64)
 *   STORE_DB_LOG  "p" <id8> <commit id8> <n4>   u64 wall ms of the change,
 *                 then 'I' + the item's JSON before the change, or 'K' +
 *                 the key of an item that did not exist before it
 * The table's key record carries TKEY_PITR, so a write to a table without
 * PITR costs nothing more. History past the recovery period is trimmed a
 * few records per write and by pitr_sweep() in the background. A restore to T copies the table's
 * items as of one snapshot and undoes, newest first, every change the same
 * snapshot's history holds after T, both in pieces. */
#ifndef TANDEM_BACKUP_H
#define TANDEM_BACKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "ddb_int.h"
#include "table.h"

ddb_op_fn backup_create, backup_describe, backup_list, backup_delete, backup_restore;
ddb_op_fn pitr_update, pitr_describe, pitr_restore;

/* backup_auth_resource - the resource that authorizes backup or PITR call
 * @c (a table or backup ARN; "*" for ListBackups), NULL for other calls. */
const char *backup_auth_resource(struct ddb_call *c);

/* backup_target_action - a restore also needs, as DynamoDB asks, read and
 * write actions on its target table: the @i-th of them (from 0) with its
 * @resource, NULL past the last one or for other calls. */
const char *backup_target_action(struct ddb_call *c, size_t i, const char **resource);

/* ---- shared by backup.c and pitr.c ---- */

/* backup_table_name - the table name in @s, a name or a table ARN (arena). */
const char *backup_table_name(struct ddb_call *c, const char *s);

/* backup_reply_done - answer @c for a store write's outcome @rc: ERR_NOTFOUND
 * as DynamoDB error @notfound, another failure as its err, success as
 * {"@member": @out}. Frees @out (JSON text) either way. */
void backup_reply_done(struct ddb_call *c, enum err_code rc, const struct err *e,
                       const char *notfound, const char *member, char *out);

/* backup_adopt_in_apply - inside DeleteTable's apply: back up table @table
 * (@type "SYSTEM", named @name) by keeping its items where they are: the
 * backup's data id is the table's. ERR_NOTFOUND when there is no such table. */
enum err_code backup_adopt_in_apply(struct store_txn *t, const char *table, const char *name,
                                    const char *type, struct err *e);

/* backup_item_set - in a restore: item @json (@n bytes; parsed @item) into
 * table @k, or when @json is NULL delete the item with key @item, keeping
 * the table's counters and indexes. */
enum err_code backup_item_set(struct store_txn *t, const struct table_keys *k, const char *json,
                              size_t n, const cJSON *item, struct err *e);

/* backup_source - a restore's source, for its fill (table_create_filled):
 * backup_restore_fill - in the creating apply: RestoreSummary (in progress)
 * into @desc and the background job that fills table @name; fill->done is
 * backup_restore_ready, which lets the job start. */
struct backup_source {
    struct ddb *d;
    const char *backup_arn; /* SourceBackupArn; NULL: point in time */
    const char *table_arn;  /* SourceTableArn */
    int64_t when;           /* RestoreDateTime, ms */
    uint64_t src;           /* the backup's data id or the source table's id */
    struct backup_job *job;
};
enum err_code backup_restore_fill(struct store_txn *t, struct backup_source *x, const char *name,
                                  cJSON *desc, struct err *e);
void backup_restore_ready(void *arg);

/* backup_restore_start - create table TargetTableName of request @c from
 * source descriptor @src and the request's overrides, filled by @fill. */
void backup_restore_start(struct ddb_call *c, const cJSON *src, const struct table_fill *fill);

/* ---- background copies (backup_job.c) ---- */

/* A piece: what one store write of a copy does. 'P': put @v under storage
 * key @k as is; 'I': item JSON @v into the target table; 'K': delete the
 * item whose key attributes @v (JSON) holds from the target table. */
struct backup_ent {
    char op;
    char *k, *v; /* owned */
    size_t kl, vl;
};
struct backup_piece {
    size_t n, cap, bytes;
    struct backup_ent *v;
};
extern size_t backup_piece_items; /* most items per piece */
enum { BACKUP_PIECE_BYTES = 4 << 20 };
void backup_piece_add(struct backup_piece *p, char op, const void *k, size_t kl, const void *v,
                      size_t vl);
void backup_piece_clear(struct backup_piece *p);
bool backup_piece_full(const struct backup_piece *p);

/* backup_jobs_start - clear what a cut-off backup or restore left (see
 * above), then start the background thread; @d->jobs. Reads
 * TANDEM_DDB_BACKUP_PIECE_ITEMS and TANDEM_DDB_BACKUP_PIECE_PAUSE_MS (a
 * pause after each piece: tests and tuning). backup_jobs_stop - stop it: a
 * copy under way is abandoned (cleared at the next start). NULL ok. */
enum err_code backup_jobs_start(struct ddb *d, struct err *e);
void backup_jobs_stop(struct ddb *d);

/* backup_jobs_quiesce - stop the thread, keeping what later calls need: a
 * job queued after it is dropped (cleared at the next start); a CreateBackup
 * not yet begun is answered InternalServerError. NULL ok; idempotent. */
void backup_jobs_quiesce(struct ddb *d);

/* backup_job_create - CreateBackup of table @table named @name for @c,
 * which the thread answers once the backup is recorded as CREATING. */
void backup_job_create(struct ddb_call *c, const char *table, const char *name);

/* backup_job_restore - inside the apply that creates restore target @target
 * (id @to): a job filling it from the items under @src (a backup's data id,
 * @arn the backup) or, with @pitr, from table @src's items undone down to
 * @when (ms). It starts once backup_job_ready() is called (the creation's
 * done callback, whatever its outcome: a job whose table is not there ends). */
struct backup_job;
struct backup_job *backup_job_restore(struct ddb *d, const char *target, uint64_t to, uint64_t src,
                                      const char *arn, bool pitr, int64_t when);
void backup_job_ready(struct ddb *d, struct backup_job *j);

/* backup_job_drop - after a commit that wrote "bkdrop/<id>": remove those
 * entries in the background. */
void backup_job_drop(struct ddb *d, uint64_t id);

/* backup_job_forget - after a commit that set the PITR history of table
 * @id to go (pitr.c "bkhist/<id8>"): clear it in the background.
 * pitr_hist_clear - in an apply: up to @max of those records go; @finished
 * when none is left (the record "bkhist/<id8>" goes too). */
void backup_job_forget(struct ddb *d, uint64_t id);
enum err_code pitr_hist_clear(struct store_txn *t, uint64_t id, size_t max, bool *finished,
                              struct err *e);

/* backup_in_restore - whether a restore from backup @arn is under way. */
bool backup_in_restore(struct ddb *d, const char *arn);

/* backup_drop_mark - in an apply: record "bkdrop/<id>". */
enum err_code backup_drop_mark(struct store_txn *t, uint64_t id, struct err *e);

/* backup_table_remove - in an apply: remove restore target @name (id @id)
 * from the catalog, its items and index entries marked for the thread
 * (@ids gets the ids to pass to backup_job_drop, at most BACKUP_IDS_MAX). */
enum { BACKUP_IDS_MAX = 32 };
enum err_code backup_table_remove(struct store_txn *t, const char *name, uint64_t id, uint64_t *ids,
                                  size_t *nids, struct err *e);

/* backup_table_data_drop - in an apply that takes table @id out of the
 * catalog (DeleteTable, backup_table_remove): its index record and counters
 * go; its items (unless @keep_items: a backup keeps them) and its index
 * entries are marked for the thread, their ids in @ids as above. */
enum err_code backup_table_data_drop(struct store_txn *t, uint64_t id, bool keep_items,
                                     uint64_t *ids, size_t *nids, struct err *e);

/* backup_restoring - whether descriptor @desc is of a table still being restored. */
bool backup_restoring(const cJSON *desc);

/* backup_meta_* - the backup record of @arn (backup.c). */
enum err_code backup_meta_get(struct store_txn *t, const char *arn, cJSON **out, struct err *e);
enum err_code backup_meta_put(struct store_txn *t, const cJSON *meta, struct err *e);
enum err_code backup_meta_del(struct store_txn *t, const char *arn, struct err *e);

/* backup_meta_new - the record of a new backup (BackupStatus @status) named
 * @name of type @type of table @table (@desc, read in @t; taken). */
cJSON *backup_meta_new(struct store_txn *t, const char *table, const struct table_keys *k,
                       cJSON *desc, const char *name, const char *type, const char *status);

/* backup_details - BackupDetails text of @meta (owned). */
char *backup_details(const cJSON *meta);

/* backup_collect - the items of table (or backup data) @id after storage
 * key @pos (empty: from the first) in @t into @p, op 'P' (stored under
 * table @to: the same key after its prefix, the FMT_JSON value; @bytes adds
 * their sizes) or 'I' (@to 0: the item JSON). @pos moves to the last one. */
enum err_code backup_collect(struct store_txn *t, uint64_t id, uint64_t to, struct buf *pos,
                             struct backup_piece *p, uint64_t *bytes, struct err *e);

/* pitr_collect_undo - the history of table @id after @when (ms) in @t,
 * newest first, from before history key @pos (empty: the newest) into @p
 * (op 'I' or 'K'; k: the 8-byte big-endian time of the change); @pos moves. */
enum err_code pitr_collect_undo(struct store_txn *t, uint64_t id, int64_t when, struct buf *pos,
                                struct backup_piece *p, struct err *e);

/* pitr_enabled - ERR_OK when table @id has PITR on in @t, else ERR_NOTFOUND. */
enum err_code pitr_enabled(struct store_txn *t, uint64_t id, struct err *e);

/* pitr_window - the earliest restorable time (ms) at @now of table @id in
 * @from; ERR_NOTFOUND when PITR is off (exports: export.h). pitr_day_ms -
 * the length of a day of the recovery period (TANDEM_DDB_PITR_DAY_SECONDS). */
enum err_code pitr_window(struct store_txn *t, uint64_t id, int64_t now, int64_t *from,
                          struct err *e);
int64_t pitr_day_ms(void);

/* ---- PITR hooks (pitr.c) ---- */

/* pitr_on_write - inside the apply of a write to table @k (k->pitr set):
 * record the item's state before it (@old, NULL: absent; the new item
 * @new_item or @new_json gives the key then). */
enum err_code pitr_on_write(struct store_txn *t, const struct table_keys *k, const cJSON *old,
                            const cJSON *new_item, const char *new_json, size_t new_len,
                            struct err *e);

/* pitr_table_dropping - in DeleteTable's apply, before table @name (@desc,
 * id @id) loses its items: with PITR on, keep a SYSTEM backup of it (@kept:
 * it keeps the table's items, which must then stay) and drop its history.
 * ERR_IN_USE for a table still being restored. */
enum err_code pitr_table_dropping(struct store_txn *t, const char *name, const cJSON *desc,
                                  uint64_t id, bool *kept, struct err *e);

/* pitr_sweep - trim the history past its recovery period of every table
 * with PITR (the TTL sweeper's thread runs it each pass; never on the
 * writer thread). */
enum err_code pitr_sweep(struct store *s, struct err *e);

/* pitr_configure - read TANDEM_DDB_PITR_DAY_SECONDS (the length of a day
 * of the recovery period, for tests) once, before serving. */
void pitr_configure(void);

#endif
