/* ddb_int.h - what the DynamoDB API files (api.c, table.c, item.c) share.
 *
 * A request is a struct ddb_call in the request's arena. Its handler answers
 * exactly once, with ddb_reply() or ddb_reply_err(), either on the request
 * thread or from a store done callback on the writer thread. After the reply
 * the call (and its arena) may be gone: reply last. */
#ifndef TANDEM_DDB_INT_H
#define TANDEM_DDB_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "arena.h"
#include "buf.h"
#include "ddb.h"
#include "err.h"
#include "http.h"
#include "store.h"

struct ddb_replicator;
struct ddb_s3;
struct ddb_call;
struct creds_identity;

/* ddb_hook_fn - where the answer of a call made inside another one goes
 * (ddb_subcall): @status and @body (borrowed for the call's duration). */
typedef void ddb_hook_fn(struct ddb_call *c, int status, struct buf *body);

struct ddb {
    struct store *store;               /* borrowed */
    const struct ddb_replicator *repl; /* borrowed; NULL: no replication (ddb_repl.h) */
    char region[64];
    char account[16];
    struct backup_jobs *jobs;    /* backups' and restores' background copies (backup.h) */
    const struct ddb_s3 *s3;     /* borrowed; NULL: no S3 for exports and imports (ddb_s3.h) */
    struct export_jobs *exports; /* exports' and imports' background thread (export.h) */
};

struct ddb_call {
    struct ddb *d;
    struct http_req *r;
    struct arena *a; /* the request's arena */
    const char *op;
    cJSON *in;    /* the request body, arena */
    char rid[53]; /* x-amzn-RequestId */
    /* argument problems collected before answering */
    bool serial; /* wrong JSON type: SerializationException */
    char serial_msg[160];
    unsigned nverr; /* "N validation errors detected: ..." */
    struct buf verr;
    const struct creds_identity *who; /* the caller; NULL: not authenticated */
    ddb_hook_fn *hook;                /* not NULL: a call inside another (ddb_subcall) */
    void *hook_arg;
};

/* Item values in STORE_DB_DATA start with a format byte. Format 1: the item's
 * canonical JSON text follows. (Replication adds a format carrying a hybrid
 * logical clock timestamp and the origin region before the JSON.) */
enum { DDB_ITEM_FMT_JSON = 1 };

enum { DDB_ITEM_MAX = 400 * 1024 };

/* Length constraints shared by several operations (botocore's shapes):
 * TableArn (a table's name or ARN, where the backup, PITR and import/export
 * operations take either), and the 37 to 1024 characters of BackupArn,
 * ExportArn, ImportArn and StreamArn. */
enum { DDB_TABLE_ARG_MAX = 1024, DDB_ARN_MIN = 37, DDB_ARN_MAX = 1024 };

/* JSON member lookups. The member @name of @obj with the JSON type asked for,
 * or NULL when absent or null; a member of another type marks the call with a
 * SerializationException (reported by ddb_args_failed). */
const char *ddb_arg_str(struct ddb_call *c, const cJSON *obj, const char *name);
cJSON *ddb_arg_obj(struct ddb_call *c, const cJSON *obj, const char *name);
cJSON *ddb_arg_arr(struct ddb_call *c, const cJSON *obj, const char *name);
/* ddb_arg_int - false when absent; wrong type or a non-integer marks the call. */
bool ddb_arg_int(struct ddb_call *c, const cJSON *obj, const char *name, int64_t *out);
/* ddb_arg_bool - false when absent. */
bool ddb_arg_bool(struct ddb_call *c, const cJSON *obj, const char *name, bool *out);
/* ddb_arg_enum - index of the member's value in @vals (NULL-terminated), -1
 * when absent; a value outside the set records a validation error for @path. */
int ddb_arg_enum(struct ddb_call *c, const cJSON *obj, const char *name, const char *path,
                 const char *const *vals);

/* ddb_verr - record one "Value ... at '<path>' failed to satisfy constraint: ..." */
void ddb_verr(struct ddb_call *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* ddb_verr_null - "Value null at '@path' failed to satisfy constraint: Member must not be null" */
void ddb_verr_null(struct ddb_call *c, const char *path);
/* ddb_chars - the length of UTF-8 @s as the service counts a member's
 * length: in UTF-16 units (a character outside the BMP counts two). */
size_t ddb_chars(const char *s);
/* ddb_check_len - a string member's length constraints, as DynamoDB words
 * them: NULL is "must not be null" when @required, else fine; a length in
 * bytes outside [@min, @max] records "Member must have length ..." for
 * @path. True when it recorded an error. Bytes bound what callers copy: use
 * it for members whose pattern is ASCII or whose value goes into a buffer.
 * ddb_check_chars - the same in characters (ddb_chars), as the service
 * counts them, for members of any text kept whole (tags, statements). */
bool ddb_check_len(struct ddb_call *c, const char *s, const char *path, size_t min, size_t max,
                   bool required);
bool ddb_check_chars(struct ddb_call *c, const char *s, const char *path, size_t min, size_t max,
                     bool required);
/* DDB_NO_MAX - the @max of a member the model gives no maximum */
#define DDB_NO_MAX INT64_MAX
/* ddb_check_count - a list member's length constraints: when @list is
 * present and has fewer than @min or more than @max elements, records
 * "Member must have length ..." for @path, the value shown as '[]' when
 * empty, else '[...]'. */
void ddb_check_count(struct ddb_call *c, const cJSON *list, const char *path, int64_t min,
                     int64_t max);
/* ddb_check_range - an integer member's value constraints: when @has and
 * @v lies outside [@min, @max] (@max DDB_NO_MAX: no maximum), records
 * "Member must have value ..." for @path. */
void ddb_check_range(struct ddb_call *c, bool has, int64_t v, const char *path, int64_t min,
                     int64_t max);
/* ddb_check_table_name - the TableName constraints (NULL: must not be null). */
void ddb_check_table_name(struct ddb_call *c, const char *name, const char *path);
/* ddb_table_name - the table @s names: @s itself, or for the ARN of one of
 * this region's tables (arn:aws:dynamodb:REGION:ACCOUNT:table/NAME) its NAME,
 * pointing into @s. NULL for a table ARN of another region or account. */
const char *ddb_table_name(const struct ddb *d, const char *s);
/* ddb_args_failed - if anything was recorded, answer with it and return true. */
bool ddb_args_failed(struct ddb_call *c);

/* ddb_reply - answer 200 with @body (taken), adding the DynamoDB headers. */
void ddb_reply(struct ddb_call *c, struct buf *body);
/* ddb_reply_err - answer with the DynamoDB error for @code (the table in api.c). */
void ddb_reply_err(struct ddb_call *c, enum err_code code, const char *msg);
/* ddb_reply_type - answer 400 with DynamoDB error @type (a short name, or
 * namespaced with '#') and the formatted message. */
void ddb_reply_type(struct ddb_call *c, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* ddb_reply_status - answer @status with @body (taken) as is. */
void ddb_reply_status(struct ddb_call *c, int status, struct buf *body);
/* ddb_error_open - append {"__type":...,"message":... without the closing brace. */
void ddb_error_open(struct buf *b, const char *type, const char *msg);

/* ddb_error_open_with - ddb_error_open naming the text "Message", as DynamoDB
 * does where its service model names the member so (TransactionCanceledException,
 * IdempotentParameterMismatchException, TransactionInProgressException) and in
 * a ConditionalCheckFailedException that carries the Item (AWS answers no
 * top-level "message" there, though the model says "message"). */
void ddb_error_open_with(struct buf *b, const char *type, const char *msg);

/* random identifiers */
void ddb_uuid(char out[37]);

/* an operation's handler: answers @c exactly once */
typedef void ddb_op_fn(struct ddb_call *c);

/* ddb_op_find - the handler of operation @op, NULL when none. */
ddb_op_fn *ddb_op_find(const char *op);

/*
 * ddb_subcall - a call of operation @op with request @in (taken: freed with
 * @parent's arena) inside @parent: same region, caller and arena, answered to
 * @hook (with @arg in hook_arg) instead of the client. Run it with
 * ddb_op_find(@op)(call); the hook may run before that returns (reads,
 * refusals) or later on the store's writer thread (writes). Authorization
 * is the caller's business (ddb_authorize).
 */
struct ddb_call *ddb_subcall(struct ddb_call *parent, const char *op, cJSON *in, ddb_hook_fn *hook,
                             void *arg);

/*
 * ddb_authorize - whether @c's caller may do dynamodb:@action on @table (its
 * index @index when not NULL), with the global condition keys, those of @in
 * (a request naming Key/Item, as ddb_authz_keys reads it) and the @extra
 * key/value pairs (NULL-terminated, may be NULL). False with the
 * AccessDeniedException message in @msg; answers nothing.
 */
bool ddb_authorize(struct ddb_call *c, const char *action, const char *table, const char *index,
                   const cJSON *in, const char *const *extra, char *msg, size_t n);

#endif
