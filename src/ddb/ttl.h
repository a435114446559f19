/* ttl.h - Time to Live: UpdateTimeToLive, DescribeTimeToLive and the sweeper
 * deleting expired items.
 *
 * The setting of a table lives in STORE_DB_META under "ttl/<name>": JSON
 * {"id":<table id>,"attr":"<AttributeName>","on":true|false}; a record whose
 * id is not the table's current id (a table deleted and created again) counts
 * as never set. An item expires when its TTL attribute is a Number of epoch
 * seconds in the past (at most five years in the past, as the service does);
 * the sweeper deletes it through item_write_in_apply, re-checking in the
 * apply that it is still expired. */
#ifndef TANDEM_TTL_H
#define TANDEM_TTL_H

#include <stddef.h>
#include <stdint.h>

#include "ddb_int.h"

ddb_op_fn ddb_ttl_update, ddb_ttl_describe;

struct ddb_ttl;

/* ddb_ttl_start - a thread sweeping every @interval_s seconds (owned,
 * ddb_ttl_stop()). */
enum err_code ddb_ttl_start(struct ddb *d, unsigned interval_s, struct ddb_ttl **out,
                            struct err *e);
void ddb_ttl_stop(struct ddb_ttl *t); /* NULL ok; waits for the thread */

/* ddb_ttl_sweep - one pass over every table with TTL enabled: delete the
 * items expired at @now_s (epoch seconds). @deleted (may be NULL) counts them. */
enum err_code ddb_ttl_sweep(struct ddb *d, int64_t now_s, size_t *deleted, struct err *e);

#endif
