/* esm_int.h - Lambda event source mappings for the region's DynamoDB
 * streams: the REST API and the documents (esm.c), the poller that reads
 * each enabled mapping's stream and invokes its function (esm_poll.c).
 * Not for other folders.
 *
 * A mapping is one document in the region's store (META "esm/UUID"), as
 * GetEventSourceMapping shows it plus private members:
 *   "_Enabled"  whether the user wants it enabled (State follows it)
 *   "_After"    the checkpoint: the SequenceNumber of the last record the
 *               function processed (or skipped); absent: none yet
 *   "_Started"  the starting position is resolved (LATEST became an _After)
 * Every change (the API's, the poller's state changes and checkpoints) is a
 * read-modify-write inside ONE store apply, so none loses another's. The
 * in-memory copy changes only once the write is durable. */
#ifndef TANDEM_FN_ESM_INT_H
#define TANDEM_FN_ESM_INT_H

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdbool.h>

#include "fn_int.h"

struct worker;
struct jobs;
struct esm_run;

struct fn_esm {
    pthread_mutex_t mu;
    cJSON *maps;    /* object: UUID -> stored document */
    cJSON *pending; /* object: UUID -> {EventSourceArn, FunctionArn} of creates not yet written */
    fn_stream_call_fn *call;
    fn_stream_seq_fn *seq;
    void *ud;
    struct worker *w;    /* the poller (esm_poll.c) */
    struct jobs *jobs;   /* its threads serving one mapping each at a time */
    bool stopping;       /* atomic: invocations under way let go */
    struct esm_run *run; /* the poller's own state per mapping (list guarded by mu) */
};

/* ---- esm.c ---- */

/* fnesm_open - load the mappings and start the poller (when @o has a
 * stream_call); fnesm_close stops it and frees. */
enum err_code fnesm_open(struct fn *f, const struct fn_opts *o, struct err *e);
void fnesm_close(struct fn *f); /* NULL f->esm ok */
/* fnesm_handle - serve a request under /2015-03-31/event-source-mappings. */
void fnesm_handle(struct fn *f, struct http_req *r, const struct creds_identity *who);

/* fnesm_tags - TagResource (POST), UntagResource (DELETE) and ListTags (GET)
 * on mapping ARN @arn (/2017-03-31/tags/ARN), authorized on that ARN. */
void fnesm_tags(struct fn *f, struct http_req *r, const struct creds_identity *who,
                const char *arn);

/* fnesm_get - a copy of mapping @uuid's stored document (owned), or NULL. */
cJSON *fnesm_get(struct fn *f, const char *uuid);
/* fnesm_uuids - the mappings' UUIDs, sorted (owned cJSON array). */
cJSON *fnesm_uuids(struct fn *f);

/* A change of one mapping's document on the store's writer thread: @doc is
 * the document as stored now (NULL: none); change, replace or delete it (free
 * and set NULL). False refuses the change (nothing is written). */
typedef bool fnesm_mutate_fn(void *arg, cJSON **doc);
/* fnesm_update_wait - apply @mutate to @uuid's document durably and wait for
 * it (never from the writer thread or an HTTP thread). ERR_CONFLICT when the
 * mutator refused. */
enum err_code fnesm_update_wait(struct fn *f, const char *uuid, fnesm_mutate_fn *mutate, void *arg);
/* fnesm_function - the configuration an invocation of @name_or_arn (a name
 * or ARN, qualified or not) runs (owned; an alias's version drawn by its
 * weights when @route), and its ARN in @arn (NULL ok); NULL when it names
 * nothing. */
cJSON *fnesm_function(struct fn *f, const char *name_or_arn, bool route, char *arn, size_t cap);
/* fnesm_stream_shard - the ShardId of stream @arn's open (or last) shard
 * into @out (cap >= 80; NULL ok), and its table's partition key attribute
 * into @hash_key (NULL ok; "" when unknown); false when the region has no
 * such stream. */
bool fnesm_stream_shard(struct fn *f, const char *arn, char *out, size_t cap, char *hash_key,
                        size_t hcap);

/* ---- esm_poll.c ---- */

/* fnesm_poll_start - start the poller; fnesm_poll_stop ends it (an
 * invocation under way is abandoned: its records are delivered again). */
enum err_code fnesm_poll_start(struct fn *f, struct err *e);
void fnesm_poll_stop(struct fn *f);
/* fnesm_poll_kick - a mapping changed: look now. */
void fnesm_poll_kick(struct fn *f);

#endif
