/* streams.h - DynamoDB Streams (X-Amz-Target DynamoDBStreams_20120810.*):
 * the change records of tables with a stream, and ListStreams,
 * DescribeStream, GetShardIterator, GetRecords.
 *
 * A table's stream is what its descriptor says (table.h): StreamSpecification
 * (enabled, view type) and LatestStreamArn/LatestStreamLabel. Every item
 * write (item_write_in_apply, PutItem, DeleteItem and replicated applies)
 * calls streams_on_write() in the same store apply as the write, so a record
 * is durable and visible exactly when the write is, and a rolled-back write
 * leaves none.
 *
 * Layout in STORE_DB_STREAM:
 *   "q"                       u64: the region's last sequence number (every
 *                             stream draws from it, so numbers increase)
 *   "a" <stream ARN>          u64: the stream's number (store_next_id)
 *   "s" <num8>                stream meta JSON {"arn","table","view","keys",
 *                             "start"[,"closed","end"]}
 *   "r" <num8> <seq8>         a record: u64 wall ms, then the record's JSON
 *                             exactly as GetRecords returns it
 *   "x" <num8>                u64: records up to this sequence were trimmed
 * A stream gets its number and meta at its first record, or when it closes
 * (UpdateTable disabling it, DeleteTable). Numbers are big-endian.
 *
 * Each stream has one shard (the service splits shards every few hours; one
 * open shard per stream is what a single-process region needs). Records are
 * kept 24 hours: each append trims a few expired records of its stream, and
 * reads treat older records as trimmed. Shard iterators are opaque strings
 * "<stream ARN>|1|<base64 position>", valid 15 minutes. */
#ifndef TANDEM_STREAMS_H
#define TANDEM_STREAMS_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "ddb_int.h"
#include "table.h"

/*
 * streams_on_write - inside a store apply: the item at @k's key of table
 * @table changes from @old (NULL: none) to @new_json (the item's JSON text,
 * NULL: deleted). When the table's stream is enabled, append one record
 * (INSERT, MODIFY or REMOVE; nothing for a delete of no item). @new_item:
 * @new_json parsed, when the caller has it (NULL: parsed here only when the
 * table has an enabled stream); it must print as @new_json. @service: a
 * deletion made by the service (TTL), recorded with userIdentity
 * {"Type":"Service","PrincipalId":"dynamodb.amazonaws.com"} (the
 * member names of botocore's model; Lambda events spell them in lower case).
 * Returns ERR_OK, ERR_IO, ERR_INTERNAL for a corrupt descriptor.
 */
enum err_code streams_on_write(struct store_txn *t, const char *table, const struct table_keys *k,
                               const cJSON *old, const cJSON *new_item, const char *new_json,
                               size_t new_len, bool service, struct err *e);

/*
 * streams_table_closing - inside a store apply, before table descriptor
 * @desc loses its enabled stream (UpdateTable disabling it, DeleteTable):
 * remember the stream with its view type, closing sequence and time, so
 * DescribeStream shows it DISABLED with an EndingSequenceNumber for 24 hours.
 * No-op when @desc has no enabled stream.
 */
enum err_code streams_table_closing(struct store_txn *t, const cJSON *desc, struct err *e);

/* streams_op - the handler of DynamoDB Streams operation @name, NULL when
 * there is none. */
ddb_op_fn *streams_op(const char *name);

/* streams_auth_resource - the resource that authorizes streams call @c:
 * "*" for ListStreams, the stream ARN for the others (GetRecords: the one
 * inside the iterator; "" when unreadable); NULL when @c is no streams call.
 * Arena string. */
const char *streams_auth_resource(struct ddb_call *c);

/* streams_set_retention_ms - records older than this are trimmed (default
 * 24 hours; unit tests shorten it). Not thread-safe: call before serving. */
void streams_set_retention_ms(int64_t ms);

#endif
