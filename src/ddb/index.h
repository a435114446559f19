/* index.h - local and global secondary indexes.
 *
 * The indexes of a table are in STORE_DB_META under "tidx/<table id, 8 bytes
 * big-endian>": a JSON array of {"n":name,"id":index id,"g":global,"h":hash
 * attribute,"ht":type,"r":range attribute (optional),"rt":type,"p":projection
 * (0 ALL, 1 KEYS_ONLY, 2 INCLUDE),"inc":[non-key attributes]}, and for a key
 * of several attributes (index_keys.h) "mk":[{"a":name,"t":type,"r":true for
 * RANGE}...] in KeySchema order, "h"/"r" then naming the first of each. Their public
 * descriptions (DescribeTable's LocalSecondaryIndexes / GlobalSecondaryIndexes)
 * are in the table descriptor; ItemCount and IndexSizeBytes come from the
 * index's own "tstat/<index id>" record, kept like a table's.
 *
 * An index entry lives in STORE_DB_DATA under keys_append_table(index id),
 * the index hash key (delimited), the index range key (delimited, so the
 * base key can follow), then the base item's storage key after its table
 * prefix (a SHA-256 of it when the whole key would pass LMDB's limit). Its
 * value is DDB_ITEM_FMT_JSON + the projected item, which always holds the
 * index and the table keys. Items without the index key attributes (or with
 * another type) have no entry: sparse indexes.
 *
 * index_maintain() runs inside item_write_in_apply (PutItem, DeleteItem,
 * UpdateItem, batches, transactions, TTL): the index and the base item change
 * in the same transaction. */
#ifndef TANDEM_INDEX_H
#define TANDEM_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "ddb_int.h"
#include "table.h"

enum { INDEX_PROJ_ALL, INDEX_PROJ_KEYS, INDEX_PROJ_INCLUDE };

/* A global index's key may be made of up to INDEX_PART_MAX partition (HASH)
 * attributes followed by up to INDEX_PART_MAX sort (RANGE) attributes
 * (index_keys.h); tables and local indexes have one of each at most. */
enum { INDEX_PART_MAX = 4, INDEX_KEYS_MAX = 2 * INDEX_PART_MAX };

struct index_attr {
    char name[256];
    enum keys_type type;
};

struct index_def {
    char name[256];
    bool global;
    struct table_keys k; /* id: the index id; hash/range: the first of each */
    int proj;
    const cJSON *include; /* borrowed from the set: array of attribute names */
    /* every key attribute in KeySchema order: nhash HASH, then nkeys - nhash RANGE */
    unsigned nkeys, nhash;
    struct index_attr keys[INDEX_KEYS_MAX];
    bool multi; /* more than one HASH or more than one RANGE attribute */
};

struct index_set {
    size_t n;
    struct index_def *v; /* owned */
    cJSON *json;         /* owned: the record the defs borrow from */
};

/* index_load - the indexes of table @table_id (n = 0 when none). */
enum err_code index_load(struct store_txn *t, uint64_t table_id, struct index_set *out,
                         struct err *e);
void index_set_free(struct index_set *s);
/* index_find - the index named @name, or NULL. */
const struct index_def *index_find(const struct index_set *s, const char *name);

/* index_cost - the write capacity units the indexes of a table took for
 * writes to it (ReturnConsumedCapacity): per index written, as DynamoDB
 * counts them: one write of the index entry (rounded up to 1 KB) where an
 * item enters, leaves or changes in the index without its index key
 * changing, two (the old and the new entry) where the index key changes,
 * none where the item is in the index neither before nor after, or its
 * entry is unchanged. */
enum { INDEX_COST_MAX = 25 };
struct index_cost {
    size_t n;
    struct {
        char name[256];
        bool global;
        double units;
    } v[INDEX_COST_MAX];
};

/* index_cost_add - add @from's units into @into, index by index. */
void index_cost_add(struct index_cost *into, const struct index_cost *from);

/* index_cost_total - the units of every index in @c (NULL: 0). */
double index_cost_total(const struct index_cost *c);

/* index_maintain - update every index of the table @base for the item at
 * storage key @base_key going from @old (NULL: none) to the item whose JSON
 * text is @new_json/@new_len (NULL: a delete). Write txn; a table without
 * indexes costs one lookup. @cost (may be NULL) is set to this write's
 * index_cost. */
enum err_code index_maintain(struct store_txn *t, const struct table_keys *base,
                             const struct buf *base_key, const cJSON *old, const char *new_json,
                             size_t new_len, struct index_cost *cost, struct err *e);

/* index_check_item - check @item's secondary index key attributes against
 * every index of table @table_id, in index name order, as a write of it
 * would. @update: the item is an UpdateExpression's result (an empty key
 * value is then worded as DynamoDB words it for updates). Read or write txn.
 * Returns ERR_OK, or ERR_INVALID with DynamoDB's message in @e. */
enum err_code index_check_item(struct store_txn *t, uint64_t table_id, const cJSON *item,
                               bool update, struct err *e);

/* index_entry_key - the storage key of @item's entry in @ix (@base_key: the
 * item's storage key). ERR_NOTFOUND when the item is not in the index. */
enum err_code index_entry_key(const struct index_def *ix, const cJSON *item,
                              const struct buf *base_key, struct buf *out, struct err *e);

/* index_bound - keys_append_table(index) + the hash key @hash_av, and when
 * @range_av is not NULL its range key: the start of a partition or a range
 * bound for Query. ERR_INVALID when a value does not fit the key schema. */
enum err_code index_bound(const struct index_def *ix, const cJSON *hash_av, const cJSON *range_av,
                          struct buf *out, struct err *e);

/* index_key_json - append the LastEvaluatedKey of @item in @ix: the index keys
 * and the table keys. */
void index_key_json(struct buf *b, const struct index_def *ix, const struct table_keys *base,
                    const cJSON *item);

/* CreateTable: validate LocalSecondaryIndexes / GlobalSecondaryIndexes of
 * @in against the table's KeySchema and AttributeDefinitions (already in
 * @desc), and add their descriptions (IndexArn under @table_arn) to @desc.
 * False when @c was answered. */
bool index_create_args(struct ddb_call *c, const cJSON *in, cJSON *desc, const char *table_arn,
                       bool provisioned);
/* index_create_apply - in CreateTable's apply: give the indexes in @desc
 * their ids and write the table's index record and counters. */
enum err_code index_create_apply(struct store_txn *t, const cJSON *desc, uint64_t table_id,
                                 struct err *e);
/* index_describe_fill - the live ItemCount / IndexSizeBytes of @desc's indexes. */
enum err_code index_describe_fill(struct store_txn *t, cJSON *desc, struct err *e);

/* index_check_key_name - record the validation error of a key attribute name
 * (table or index KeySchema, AttributeDefinitions) at @path unless it is 1 to
 * KEY_NAME_MAX bytes long. */
enum { KEY_NAME_MAX = 255 };
void index_check_key_name(struct ddb_call *c, const char *name, const char *path);

/* index_update_table - UpdateTable with GlobalSecondaryIndexUpdates (Create,
 * Delete, Update): answers @c. A created index is backfilled from the
 * table's items in the same apply. */
void index_update_table(struct ddb_call *c, const char *table, const cJSON *updates);

#endif
