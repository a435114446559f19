/* ddb.h - the DynamoDB API of a region (JSON 1.0, X-Amz-Target DynamoDB_20120810.*).
 *
 * Tables live in the region's store; every write goes through the store's
 * group commit, so a request is answered only once its change is durable. */
#ifndef TANDEM_DDB_H
#define TANDEM_DDB_H

#include <stdbool.h>
#include <stddef.h>

#include "authz.h"
#include "buf.h"
#include "creds.h"
#include "err.h"
#include "http.h"
#include "store.h"

struct ddb;

struct ddb_opts {
    struct store *store;       /* borrowed; outlives the ddb */
    const char *region;        /* e.g. "us-east-1" */
    const char *account;       /* 12-digit account id, for ARNs */
    const struct authz *authz; /* borrowed; asked before every operation (NULL: allow all) */
    unsigned ttl_interval_s;   /* TTL sweeper period in seconds (0: no sweeper thread) */
};

/* ddb_open - (owned, ddb_close()). */
enum err_code ddb_open(const struct ddb_opts *o, struct ddb **out, struct err *e);
void ddb_close(struct ddb *d); /* NULL ok */

/* ddb_quiesce - at shutdown, while the HTTP server still holds its open
 * connections: stop the background work (a backup or restore under way is
 * abandoned and cleared at the next start; a CreateBackup not yet begun is
 * answered InternalServerError; an export or import under way is FAILED at
 * the next start). NULL ok; ddb_close() does it too. */
void ddb_quiesce(struct ddb *d);

/*
 * ddb_handle - serve one authenticated request. @op is the operation name
 * after "DynamoDB_20120810." (e.g. "PutItem"). Before the operation runs,
 * @who must be allowed dynamodb:<op> on the table's ARN (ListTables: "*"),
 * else AccessDeniedException. Answers @r with
 * http_respond(), possibly later from the store's writer thread. Every
 * response carries x-amzn-RequestId and x-amz-crc32 (CRC32 of the body).
 */
void ddb_handle(struct ddb *d, struct http_req *r, const char *op,
                const struct creds_identity *who);

/* ddb_streams_handle - the same for DynamoDB Streams (X-Amz-Target
 * DynamoDBStreams_20120810.<op>; streams.h): dynamodb:<op> on the stream's
 * ARN (ListStreams: "*"). */
void ddb_streams_handle(struct ddb *d, struct http_req *r, const char *op,
                        const struct creds_identity *who);

/* ddb_streams_call - a DynamoDB Streams read (ListStreams, DescribeStream,
 * GetShardIterator, GetRecords) for a reader inside the region (Lambda's
 * event source mappings): request @in (JSON text), no caller and no
 * authorization (the reader checks its own). Answered before it returns,
 * without waiting on the disk: the HTTP status, and in @out (initialized by
 * the caller) the body a client would get. */
int ddb_streams_call(struct ddb *d, const char *op, const char *in, struct buf *out);

/* ddb_streams_iter_seq - the SequenceNumber (21 digits, @cap >= 22) after
 * which a shard iterator of this region reads; false for a TRIM_HORIZON
 * iterator that has read nothing yet, or a malformed one. */
bool ddb_streams_iter_seq(const char *iter, char *seq, size_t cap);

/* ddb_respond_error - answer @r with a DynamoDB error:
 * {"__type":"com.amazonaws.dynamodb.v20120810#<type>","message":"<msg>"}
 * (auth errors use the com.amazon.coral.service# namespace, as the service does:
 * pass the full __type then, i.e. a @type containing '#'). */
void ddb_respond_error(struct http_req *r, int status, const char *type, const char *msg);

#endif
