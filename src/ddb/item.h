/* item.h - the item operations: PutItem, GetItem, DeleteItem, Scan.
 *
 * An item lives in STORE_DB_DATA under keys_append_table(id) + the
 * partition key (delimited) + the sort key (when the table has one); the
 * value is DDB_ITEM_FMT_JSON followed by the item's canonical JSON text
 * (AttributeValues normalized by attr_validate), so reads splice it into
 * responses without re-encoding. Writes run in store apply callbacks, where
 * conditions are evaluated against the latest state and the table's item
 * count and byte total (table.h) are updated in the same transaction. */
#ifndef TANDEM_ITEM_H
#define TANDEM_ITEM_H

#include <stdbool.h>
#include <stdint.h>

#include "ddb_int.h"
#include "table.h"

struct index_cost;

ddb_op_fn item_put, item_get, item_delete;

/* What the other item operations (update.c, query.c, batch.c, txn.c, ttl.c)
 * share with PutItem/DeleteItem. */

/* item_key_empty_msg - how the message of item_key_build for an empty S or B
 * key value starts ("... cannot contain an empty string value. Key: pk"). */
extern const char item_key_empty_msg[];

/* item_key_build - the storage key of item @obj (@is_key: @obj is a Key and
 * must hold exactly the key attributes). ERR_INVALID with DynamoDB's message. */
enum err_code item_key_build(const struct table_keys *k, const cJSON *obj, bool is_key,
                             struct buf *key, struct err *e);

/* item_key_json - append {"hash":AV[,"range":AV]} taken from @item. */
void item_key_json(struct buf *b, const struct table_keys *k, const cJSON *item);

/* item_read - the live item at storage key @key (owned, NULL when absent or a
 * tombstone). */
enum err_code item_read(struct store_txn *t, const struct buf *key, cJSON **out, struct err *e);

/* item_decode - the item JSON text inside stored value @v (borrowed like @v);
 * ERR_NOTFOUND for a tombstone. */
enum err_code item_decode(struct slice v, const char **json, size_t *n, struct err *e);

/*
 * item_write_in_apply - THE write primitive (the one PutItem and DeleteItem
 * run): inside a store apply, store @item (NULL: delete) at @key of table
 * @table (id @id, ERR_NOTFOUND when the table is gone or replaced), keeping the
 * table's counters and, for a replicated table, the format-2 value and its
 * log entry in the same transaction. @logged (may be NULL) gets the log
 * sequence appended (0: none): pass it to repl_log_committed() once durable.
 */
enum err_code item_write_in_apply(struct store_txn *t, struct ddb *d, const char *table,
                                  uint64_t id, const struct buf *key, const cJSON *item,
                                  uint64_t *logged, struct err *e);

/* item_replace_in_apply - item_write_in_apply for a caller that, when
 * @old_known, has read the live item at @key in this same transaction
 * (item_read): @old (borrowed; NULL: absent) is taken as it instead of being
 * read and parsed again (UpdateItem). @cost (may be NULL) gets what the
 * table's indexes took (index_cost). */
enum err_code item_replace_in_apply(struct store_txn *t, struct ddb *d, const char *table,
                                    uint64_t id, const struct buf *key, const cJSON *old,
                                    bool old_known, const cJSON *item, uint64_t *logged,
                                    struct index_cost *cost, struct err *e);

/* item_service_delete_in_apply - item_write_in_apply(..., NULL item, ...) for
 * a deletion the service itself makes (the TTL sweeper): its stream record
 * carries userIdentity {"Type":"Service","PrincipalId":"dynamodb.amazonaws.com"}. */
enum err_code item_service_delete_in_apply(struct store_txn *t, struct ddb *d, const char *table,
                                           uint64_t id, const struct buf *key, uint64_t *logged,
                                           struct err *e);

#endif
