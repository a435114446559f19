/* fn.h - the Lambda service of a region: functions from zip packages, run as
 * local processes speaking the Lambda Runtime API, invoked through the REST
 * API (/2015-03-31/functions, /2021-10-31/functions/{name}/url) and through
 * function URLs.
 *
 * Function metadata lives in the region's store (META, keys "fn/NAME"), the
 * packages under DATA/functions/NAME/, the logs in DATA/functions/NAME/log.
 * Invocations never block the HTTP threads: a request is answered from the
 * runtime's thread when the function answers (http_respond). */
#ifndef TANDEM_FN_H
#define TANDEM_FN_H

#include <stdbool.h>
#include <stddef.h>

#include "authz.h"
#include "creds.h"
#include "err.h"
#include "http.h"
#include "store.h"

struct fn;
struct buf;
struct cJSON;

/* fn_s3_get_fn - read BUCKET/KEY of the region's S3 into @out (for
 * Code.S3Bucket/S3Key packages). Blocks; called from a worker thread. Returns
 * the HTTP status; on anything but 200, @code gets S3's error code (e.g.
 * "NoSuchKey") and @msg its message. */
typedef int fn_s3_get_fn(void *ud, const char *bucket, const char *key, struct buf *out, char *code,
                         size_t code_cap, char *msg, size_t msg_cap);

/* fn_stream_call_fn - a DynamoDB Streams read of the region's own streams
 * (ListStreams, DescribeStream, GetShardIterator, GetRecords) with request
 * @in (JSON), for event source mappings: the HTTP status, the body in @out
 * (initialized by the caller). Never waits on the disk. */
typedef int fn_stream_call_fn(void *ud, const char *op, const char *in, struct buf *out);
/* fn_stream_seq_fn - the SequenceNumber after which shard iterator @iter
 * reads (@seq, cap >= 22); false when it names no position yet. */
typedef bool fn_stream_seq_fn(const char *iter, char *seq, size_t cap);

struct fn_opts {
    struct store *store;       /* borrowed; outlives the fn */
    struct creds *creds;       /* borrowed: execution-role keys are added here */
    const struct authz *authz; /* borrowed, NULL = allow everything */
    const char *region;        /* e.g. "us-east-1" */
    const char *account;       /* 12-digit account id, for ARNs */
    const char *data_dir;      /* the region's data directory */
    unsigned max_instances;    /* per function; 0 = 10 */
    unsigned idle_seconds;     /* reap an idle instance after this; 0 = 300 */
    /* Who instances run as when the region runs as root (docs/lambda.md):
     * run_user (NULL = "nobody", with its primary group), or, when
     * run_uid_base > 0, a distinct uid = gid = run_uid_base + N per function
     * (N counts the functions run since start). A non-root region runs them
     * as itself. */
    const char *run_user;
    unsigned run_uid_base;
    fn_s3_get_fn *s3_get; /* NULL: S3 packages are refused */
    void *s3_ud;
    fn_stream_call_fn *stream_call; /* NULL: no event source mappings */
    fn_stream_seq_fn *stream_seq;
    void *stream_ud;
};

/* fn_open - load the functions from the store and start the reaper
 * (owned, fn_close()). ERR_IO when the data directory is unusable. */
enum err_code fn_open(const struct fn_opts *o, struct fn **out, struct err *e);

/* fn_close - kill every instance, answer every pending invocation, free. NULL ok. */
void fn_close(struct fn *f);

/* fn_set_endpoint - the region's own URL (e.g. "http://127.0.0.1:8101"), given
 * to functions as AWS_ENDPOINT_URL; @public_url (NULL: same) is the base of
 * the FunctionUrl values handed out. Call before serving requests. */
void fn_set_endpoint(struct fn *f, const char *url, const char *public_url);

/*
 * fn_handle_api - serve one authenticated Lambda REST request (path under
 * /2015-03-31/, /2021-10-31/ or /2017-03-31/tags/). Answers @r, possibly later
 * from another thread. @who is borrowed for the call only.
 */
void fn_handle_api(struct fn *f, struct http_req *r, const struct creds_identity *who);

/*
 * fn_url_match - whether @r is a function URL request, by path
 * (/lambda-url/URLID/...) or by host (URLID.lambda-url.REGION.*). On true,
 * @id gets the URL id and @raw_path the path the function sees (arena).
 */
bool fn_url_match(const struct http_req *r, char *id, size_t cap, const char **raw_path);

/* fn_handle_url - serve a function URL request. @who: the SigV4-verified caller,
 * or NULL for an unsigned request (allowed only with AuthType NONE). */
void fn_handle_url(struct fn *f, struct http_req *r, const char *id, const char *raw_path,
                   const struct creds_identity *who);

/* ---- pure helpers, exported for unit tests and fuzzing ---- */

/* fn_url_event - the payload format 2.0 event for @r (owned, free()).
 * @raw_path: the path the function sees; @url_id names the URL. Returns NULL
 * with ERR_INVALID in @e for input AWS refuses (e.g. a malformed cookie). */
char *fn_url_event(const struct http_req *r, const char *url_id, const char *raw_path,
                   const char *account, struct err *e);

/* fn_url_result - map a function's result (@res, @len) to an HTTP answer on @r
 * (status and headers set; body in @out, owned by the caller: buf_free()). */
int fn_url_result(struct http_req *r, const char *res, size_t len, struct buf *out);

enum fn_rapi_op {
    FN_RAPI_BAD = 0,
    FN_RAPI_NEXT,       /* GET  /2018-06-01/runtime/invocation/next */
    FN_RAPI_RESPONSE,   /* POST /2018-06-01/runtime/invocation/ID/response */
    FN_RAPI_ERROR,      /* POST /2018-06-01/runtime/invocation/ID/error */
    FN_RAPI_INIT_ERROR, /* POST /2018-06-01/runtime/init/error */
};

/* fn_rapi_parse - which Runtime API call @method @path is; @id (cap >= 64)
 * gets the request id for RESPONSE and ERROR. */
enum fn_rapi_op fn_rapi_parse(const char *method, const char *path, char *id, size_t cap);

/* ---- versions and aliases (version.c), pure ---- */

enum fn_qual {
    FN_QUAL_BAD = 0, /* not a qualifier Lambda takes */
    FN_QUAL_LATEST,  /* "$LATEST" */
    FN_QUAL_VERSION, /* a version number */
    FN_QUAL_ALIAS,   /* an alias name (not all digits) */
};
/* fn_qualifier_kind - what the Qualifier @q names (NULL or "": FN_QUAL_BAD). */
enum fn_qual fn_qualifier_kind(const char *q);
/* fn_version_same - whether the configuration documents @latest and @v have
 * the same code and configuration (every member but RevisionId,
 * LastModified, Version, FunctionArn, Description and the private "_" ones,
 * except the package "_Dir"): publishing @latest again would change nothing. */
bool fn_version_same(const struct cJSON *latest, const struct cJSON *v);
/* fn_routing_check - whether @routing (an alias's RoutingConfig; NULL: none)
 * is one Lambda takes for an alias of version @primary: NULL if so, else the
 * message (a constant, or written to @msg): a ValidationException's when it
 * starts "1 validation error detected", else an InvalidParameterValueException's. */
const char *fn_routing_check(const struct cJSON *routing, const char *primary, char *msg,
                             size_t cap);
/* fn_alias_pick - the version an invocation of the alias @alias (its
 * FunctionVersion and RoutingConfig) runs, for @u drawn uniformly from [0,1):
 * the additional version when @u is below its weight (borrowed from @alias). */
const char *fn_alias_pick(const struct cJSON *alias, double u);

/* FN_INIT_COMMAND - the hidden `tandem` subcommand an instance's child runs:
 * the region execs its own binary (/proc/self/exe) with it, so every program
 * that runs function instances must hand argv[1] == FN_INIT_COMMAND to
 * fn_init_main first thing in main(). */
#define FN_INIT_COMMAND "__fn-init"
/* fn_init_main - `tandem __fn-init NS UID GID AS_MB NPROC REGION DIR EXE
 * ARGV...` (runtime_init.c): start a function's runtime EXE (argv ARGV...,
 * environment as received) in a PID namespace of its own when NS is 1 and
 * one can be made, else in place; as UID:GID unless UID is -1, in DIR
 * unless it is empty, with RLIMIT_AS AS_MB MiB (0: none) and RLIMIT_NPROC.
 * @argv[0] is the subcommand. Never returns. */
int fn_init_main(int argc, char **argv) __attribute__((noreturn));

/* ---- invocations by the region's other services (event.c) ---- */

/* fn_event_policy - for S3 event notifications: whether @arn (a function ARN,
 * optionally qualified) names a function of this region and account, and the
 * resource policy of what it names as JSON text (owned, free(); NULL: none).
 * @holder_arn (cap >= 256) gets the ARN the policy's statements are about (the
 * function's, or its alias's). *@exists is false when there is no such
 * function, version or alias. */
char *fn_event_policy(struct fn *f, const char *arn, char *holder_arn, size_t cap, bool *exists);
/* fn_event_done_fn - the end of an Event invocation: @ok unless the function
 * failed (an unhandled error, a timeout, a crash) or could not run. */
typedef void fn_event_done_fn(void *ud, bool ok);
/* fn_invoke_event - invoke @arn asynchronously (an Event invocation, as
 * Invoke with X-Amz-Invocation-Type: Event runs it) on @payload (copied); @done
 * runs once from another thread when the function has finished. Never blocks.
 * False when @arn names no function that can run here (@done is not called). */
bool fn_invoke_event(struct fn *f, const char *arn, const void *payload, size_t len,
                     fn_event_done_fn *done, void *ud);
/* fn_queue_event - hand @payload (copied) to @arn's asynchronous invocation, as S3 hands
 * its event notifications to Lambda: queued durably, then run, retried and sent to
 * destinations as the function's (or its version's, alias's) EventInvokeConfig says, as an
 * Invoke with X-Amz-Invocation-Type: Event is. @done runs once from another thread with
 * whether the event was queued. False when @arn names no function of this region or the
 * queue is full (@done is not called). Never blocks. */
bool fn_queue_event(struct fn *f, const char *arn, const void *payload, size_t len,
                    fn_event_done_fn *done, void *ud);

#endif
