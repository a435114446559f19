/* batch.h - BatchGetItem (up to 100 keys, 16 MB per response: the rest comes
 * back in UnprocessedKeys) and BatchWriteItem (up to 25 puts and deletes,
 * applied in one store apply through item_write_in_apply; UnprocessedItems
 * is then always empty). */
#ifndef TANDEM_BATCH_H
#define TANDEM_BATCH_H

#include "ddb_int.h"

ddb_op_fn ddb_batch_get, ddb_batch_write;

#endif
