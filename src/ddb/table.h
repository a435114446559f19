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
};

/* The flags byte of a table's stored key schema. */
enum { TKEY_REPLICATED = 1, TKEY_NUL0 = 2 };

/* table_keys_schema - a CRC of the key schema (names and types, and the
 * encoding of U+0000 when it is nul0), equal in every region whose replica
 * has the same key schema. */
uint32_t table_keys_schema(const struct table_keys *k);

/* table_keys_get - the key schema of table @name in @t. ERR_NOTFOUND with
 * "Requested resource not found" (DynamoDB's message for item operations),
 * ERR_IO. */
enum err_code table_keys_get(struct store_txn *t, const char *name, struct table_keys *out,
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

ddb_op_fn table_create, table_describe, table_list, table_delete, table_update;

#endif
