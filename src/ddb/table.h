/* table.h - the table catalog of a region: CreateTable, DescribeTable,
 * ListTables, DeleteTable, UpdateTable, and what item operations need of it.
 *
 * Layout in STORE_DB_META:
 *   "table/<name>"   the descriptor: JSON with every DescribeTable member
 *                    except the live ones (TableStatus, ItemCount,
 *                    TableSizeBytes), plus "_id" (the numeric table id from
 *                    store_next_id) and "_tags".
 *   "tkey/<name>"    the key schema in compact form, read by every item
 *                    request: 8-byte id (big-endian), hash type, range type
 *                    (0xff: none), hash name NUL, range name NUL, then an
 *                    optional flags byte (1: the table has replicas, see
 *                    ddb_repl.h; absent: 0).
 *   "tstat/<id8>"    item count and total item bytes, 8 bytes each, big-endian;
 *                    updated in the same apply as the item write. */
#ifndef TANDEM_TABLE_H
#define TANDEM_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "ddb_int.h"
#include "err.h"
#include "keys.h"
#include "store.h"

struct table_keys {
    uint64_t id;
    char hash[256];
    enum keys_type htype;
    bool has_range;
    char range[256];
    enum keys_type rtype;
    bool replicated; /* the table has replicas in other regions */
    /* String key values hold U+0000 as the byte 0x00, so it sorts first as
     * in DynamoDB (tables and indexes made since that change); before, it
     * stayed the two bytes C0 80 the API layer reads it as (api.c), and such
     * tables keep that encoding so their stored keys stay valid. */
    bool nul0;
    bool pitr;      /* point-in-time recovery is on: writes keep history (backup.h) */
    bool restoring; /* a restore is filling it (backup.h); only table_keys_get_any */
};

/* The flags byte of a table's stored key schema. */
enum { TKEY_REPLICATED = 1, TKEY_NUL0 = 2, TKEY_PITR = 4, TKEY_RESTORING = 8 };

/* table_keys_schema - a CRC of the key schema (names and types, and the
 * encoding of U+0000 when it is nul0), equal in every region whose replica
 * has the same key schema. */
uint32_t table_keys_schema(const struct table_keys *k);

/* table_keys_get - the key schema of table @name in @t. ERR_NOTFOUND with
 * "Requested resource not found" (DynamoDB's message for item operations),
 * also while a restore is filling the table (TableStatus CREATING), ERR_IO.
 * table_keys_get_any - the same, a table being restored included. */
enum err_code table_keys_get(struct store_txn *t, const char *name, struct table_keys *out,
                             struct err *e);
enum err_code table_keys_get_any(struct store_txn *t, const char *name, struct table_keys *out,
                                 struct err *e);

/* table_stats_add - add to the table's item count and byte total (write txn). */
enum err_code table_stats_add(struct store_txn *t, uint64_t id, int64_t dcount, int64_t dbytes,
                              struct err *e);

/* replica_update_check - UpdateTable ReplicaUpdates Update number @i (@up) of
 * table @name described by @desc: false after answering @c with the error
 * (replica.c). replica_describe - add @region's settings to its entry of
 * DescribeTable's Replicas. */
bool replica_update_check(struct ddb_call *c, const char *table, const cJSON *desc, const cJSON *up,
                          int i);
void replica_describe(cJSON *replica, const cJSON *desc, const char *region);

/* table_replica_updates - answer UpdateTable of table @name whose request has
 * ReplicaUpdates @ups (@others: it also asks for other changes, which AWS
 * refuses): checks them, then hands them to the replicator (table_replica.c). */
void table_replica_updates(struct ddb_call *c, const char *name, const cJSON *ups, bool others);
/* table_global_legacy - the global tables API of version 2017.11.29
 * (CreateGlobalTable, UpdateGlobalTable, DescribeGlobalTable,
 * DescribeGlobalTableSettings, UpdateGlobalTableSettings, ListGlobalTables),
 * answered as DynamoDB answers it now that only version 2019.11.21 (replicas
 * through UpdateTable) makes new global tables: no legacy global table exists. */
void table_global_legacy(struct ddb_call *c);

/* table_desc_get - the stored descriptor of table @name (owned, cJSON_Delete);
 * ERR_NOTFOUND "Requested resource not found: Table: <name> not found".
 * table_desc_put - replace it (write txn). */
enum err_code table_desc_get(struct store_txn *t, const char *name, cJSON **out, struct err *e);
enum err_code table_desc_put(struct store_txn *t, const char *name, const cJSON *desc,
                             struct err *e);

/* table_stats_get - the item count and byte total of table (or index) @id. */
enum err_code table_stats_get(struct store_txn *t, uint64_t id, uint64_t *count, uint64_t *bytes,
                              struct err *e);
/* table_description - the TableDescription text of @desc (modified) with
 * status @status and its live counters (@out owned, free()). */
enum err_code table_description(struct store_txn *t, cJSON *desc, const char *status, char **out,
                                struct err *e);

/* ---- table settings shared by CreateTable and UpdateTable (table_settings.c) ---- */

enum { TABLE_BILL_PROVISIONED = 0, TABLE_BILL_PPR = 1 };

/* table_billing_arg - the request's BillingMode: a TABLE_BILL_*, -1 absent,
 * -2 invalid (a validation error is recorded in @c). table_billing_of - the
 * mode of descriptor @desc. table_billing_set - set BillingModeSummary
 * (PAY_PER_REQUEST since @when, seconds since the epoch). */
int table_billing_arg(struct ddb_call *c, const cJSON *in);
int table_billing_of(const cJSON *desc);
void table_billing_set(cJSON *desc, int mode, double when);

/* table_throughput_arg - the request's ProvisionedThroughput, both members
 * checked (errors recorded in @c); false when absent. table_throughput_set -
 * set the descriptor's ProvisionedThroughput. */
bool table_throughput_arg(struct ddb_call *c, const cJSON *in, int64_t *rcu, int64_t *wcu);
void table_throughput_set(cJSON *desc, int64_t rcu, int64_t wcu);

/* table_throughput_change - UpdateTable's new ProvisionedThroughput at @when
 * (seconds since the epoch): LastIncreaseDateTime and LastDecreaseDateTime
 * of a provisioned table, and its NumberOfDecreasesToday (UTC days).
 * table_throughput_describe - NumberOfDecreasesToday is 0 on a later day than
 * the last decrease (@now). */
void table_throughput_change(cJSON *desc, int64_t rcu, int64_t wcu, double when);
void table_throughput_describe(cJSON *desc, double now);

/* table_stream_arg - the request's StreamSpecification: -1 absent, 0 disabled,
 * 1 enabled (@view set when a StreamViewType was given). table_stream_set - a
 * new stream for @desc of table @name: StreamSpecification, LatestStreamArn
 * and LatestStreamLabel. */
int table_stream_arg(struct ddb_call *c, const cJSON *in, const char **view);
void table_stream_set(struct ddb *d, cJSON *desc, const char *name, const char *view);

/* table_class_arg - the request's TableClass: an index for table_class_set,
 * -1 absent, -2 not a table class (answer with table_class_refuse once the
 * other members are checked). table_class_set - set TableClassSummary, with
 * LastUpdateDateTime @when (seconds since the epoch) unless it is 0 (a class
 * given at creation). */
int table_class_arg(struct ddb_call *c, const cJSON *in);
void table_class_refuse(struct ddb_call *c);
void table_class_set(cJSON *desc, int tclass, double when);

/* table_warm_arg - the request's WarmThroughput: false when absent; @units
 * the read and write units per second asked for (0: not given). A table
 * without its own warm throughput has DynamoDB's baseline, 12000 read and
 * 4000 write units, which is also the least a request may ask for; once
 * raised, a warm throughput cannot be lowered.
 * table_warm_set - apply @units to @desc: ERR_INVALID (nothing changed) for
 * a unit below the baseline or below the table's current value.
 * table_warm_describe - add the baseline to a @desc that has none. */
bool table_warm_arg(struct ddb_call *c, const cJSON *in, int64_t units[2]);
enum err_code table_warm_set(cJSON *desc, const int64_t units[2], struct err *e);
void table_warm_describe(cJSON *desc);

/* table_odt_arg - the request's OnDemandThroughput: false when absent;
 * @units its MaxReadRequestUnits and MaxWriteRequestUnits (0: not given).
 * table_odt_set - apply them to @desc (-1: no maximum, a unit not given
 * keeps its value); ERR_INVALID for a unit of 0 or below -1, or none. */
bool table_odt_arg(struct ddb_call *c, const cJSON *in, int64_t units[2]);
enum err_code table_odt_set(cJSON *desc, const int64_t units[2], struct err *e);

/* table_sse_arg - the request's SSESpecification: false when absent.
 * table_sse_set - apply it to @desc: SSEDescription (KMS, with the key given
 * or the region's managed key) when enabled, none when not (encryption with
 * a key the service owns); ERR_INVALID for a key given without enabling. */
struct table_sse {
    bool enabled;
    const char *key; /* KMSMasterKeyId, or NULL */
};
bool table_sse_arg(struct ddb_call *c, const cJSON *in, struct table_sse *out);
enum err_code table_sse_set(struct ddb *d, cJSON *desc, const struct table_sse *sse, struct err *e);

/* table_keys_set_pitr - set or clear TKEY_PITR of table @name (write txn).
 * table_keys_set_restoring - TKEY_RESTORING. */
enum err_code table_keys_set_pitr(struct store_txn *t, const char *name, bool on, struct err *e);
enum err_code table_keys_set_restoring(struct store_txn *t, const char *name, bool on,
                                       struct err *e);

/* table_create_filled - CreateTable of the request @c->in with items: @fill
 * (may be NULL: plain CreateTable) runs in the creating transaction once the
 * table, its key schema and its indexes exist, and may add to descriptor
 * @desc (stored again after it). @done (may be NULL) runs once, whatever
 * happens, before the answer. A table of that name already there is
 * answered TableAlreadyExistsException. RestoreTableFromBackup and
 * RestoreTableToPointInTime (backup.h) create tables through it. */
struct table_fill {
    enum err_code (*fill)(struct store_txn *t, void *arg, const char *name, cJSON *desc,
                          struct err *e);
    void (*done)(void *arg);
    void *arg;
};
void table_create_filled(struct ddb_call *c, const struct table_fill *fill);

ddb_op_fn table_create, table_describe, table_list, table_delete, table_update;

#endif
