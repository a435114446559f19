/* update.h - UpdateItem: the UpdateExpression (expr.h) applied in the store's
 * apply, after the ConditionExpression, through the same write primitive as
 * PutItem (item_write_in_apply), so counters and replication see it. */
#ifndef TANDEM_UPDATE_H
#define TANDEM_UPDATE_H

#include "ddb_int.h"

ddb_op_fn ddb_update_item;

#endif
