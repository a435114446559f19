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

#include "ddb_int.h"

ddb_op_fn item_put, item_get, item_delete, item_scan;

#endif
