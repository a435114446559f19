/* backup.h - on-demand backups (backup.c) and point-in-time recovery
 * (pitr.c) of DynamoDB tables: CreateBackup, DescribeBackup, ListBackups,
 * DeleteBackup, RestoreTableFromBackup, UpdateContinuousBackups,
 * DescribeContinuousBackups, RestoreTableToPointInTime.
 *
 * A backup is a copy of the table's items taken in one store apply (the
 * writer's transaction: a consistent snapshot, durable when answered).
 * Layout:
 *   STORE_DB_META "backup/<BackupArn>"  JSON: BackupDetails' members, plus
 *                 "_data" (the id its items are kept under), "_count",
 *                 "_table" (the source table's name), "_desc" (the source's
 *                 descriptor as it was) and "_ttl" (its TimeToLiveDescription)
 *   STORE_DB_DATA keys_append_table(_data) + the item's key encoding:
 *                 DDB_ITEM_FMT_JSON + the item's JSON (never a tombstone)
 * A backup outlives its table. A restore creates the target table through
 * CreateTable's own path (table_create_filled) and fills it in the same
 * transaction, secondary indexes included.
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
 * items and undoes, newest first, every change recorded after T. */
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

/* backup_reply_error - answer @c with DynamoDB error @type (400). */
void backup_reply_error(struct ddb_call *c, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* backup_reply_done - answer @c for a store write's outcome @rc: ERR_NOTFOUND
 * as DynamoDB error @notfound, another failure as its err, success as
 * {"@member": @out}. Frees @out (JSON text) either way. */
void backup_reply_done(struct ddb_call *c, enum err_code rc, const struct err *e,
                       const char *notfound, const char *member, char *out);

/* backup_make_in_apply - inside a store apply: back up table @table (@type
 * "USER" or "SYSTEM", named @name) as of this transaction; @meta (owned)
 * gets the backup's record. ERR_NOTFOUND when there is no such table. */
enum err_code backup_make_in_apply(struct store_txn *t, const char *table, const char *name,
                                   const char *type, cJSON **meta, struct err *e);

/* backup_each_item - call @fn with every live item of table (or backup
 * data) @id in key order; @fn may write to the store. */
typedef enum err_code backup_item_fn(struct store_txn *t, void *arg, const char *json, size_t n,
                                     struct err *e);
enum err_code backup_each_item(struct store_txn *t, uint64_t id, backup_item_fn *fn, void *arg,
                               struct err *e);

/* backup_item_set - in a restore: item @json (@n bytes; parsed @item) into
 * table @k, or when @json is NULL delete the item with key @item, keeping
 * the table's counters and indexes. */
enum err_code backup_item_set(struct store_txn *t, const struct table_keys *k, const char *json,
                              size_t n, const cJSON *item, struct err *e);

/* backup_restore_start - create table TargetTableName of request @c from
 * source descriptor @src and the request's overrides, filled by @fill. */
void backup_restore_start(struct ddb_call *c, const cJSON *src, const struct table_fill *fill);

/* ---- PITR hooks (pitr.c) ---- */

/* pitr_on_write - inside the apply of a write to table @k (k->pitr set):
 * record the item's state before it (@old, NULL: absent; the new item
 * @new_item or @new_json gives the key then). */
enum err_code pitr_on_write(struct store_txn *t, const struct table_keys *k, const cJSON *old,
                            const cJSON *new_item, const char *new_json, size_t new_len,
                            struct err *e);

/* pitr_table_dropping - in DeleteTable's apply, before table @name (@desc,
 * id @id) loses its items: with PITR on, keep a SYSTEM backup of it and drop
 * its history. */
enum err_code pitr_table_dropping(struct store_txn *t, const char *name, const cJSON *desc,
                                  uint64_t id, struct err *e);

/* pitr_sweep - trim the history past its recovery period of every table
 * with PITR (the TTL sweeper's thread runs it each pass; never on the
 * writer thread). */
enum err_code pitr_sweep(struct store *s, struct err *e);

/* pitr_configure - read TANDEM_DDB_PITR_DAY_SECONDS (the length of a day
 * of the recovery period, for tests) once, before serving. */
void pitr_configure(void);

#endif
