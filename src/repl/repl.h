/* repl.h - replication between regions: the runtime of one region.
 *
 * For every peer (tandem server --peer REGION=URL) a thread streams the
 * peer's log (rlog.h) from the position last applied here, with a GET on the
 * peer's internal endpoint answered by a chunked stream of batches, signed
 * with SigV4 (service "tandem", the peer's region, this region's root
 * credentials: every region of one deployment shares them). An applier
 * thread applies what has arrived last-writer-wins (ddb_repl_apply) in one
 * store apply that also records the new position, so a crash re-applies
 * nothing twice and loses nothing. Unreachable peers are retried with
 * backoff (100 ms doubling to 5 s).
 *
 * Internal endpoints (authenticated root requests with scope service
 * "tandem"), served by repl_handle():
 *   GET  /_tandem/repl/log?from=SEQ&max=N&wait_ms=MS   a batch of this
 *        region's log from SEQ; waits up to MS for entries when there are
 *        none. Headers X-Tandem-Log-First/-Last; 410 when SEQ was trimmed.
 *        With stream=1 instead: a chunked answer of records (u64 the log's
 *        last seq, u64 an HLC floor: every entry logged after this record
 *        is stamped later, 0 while more entries are due; u32 length, a
 *        batch) sent as entries commit, an empty
 *        batch each second when idle, for 25 s.
 *   POST /_tandem/repl/replica  {"Action":"Create","Spec":..,"Replicas":[..]}
 *        | {"Action":"SetReplicas","TableName":..,"Replicas":[..]}
 *        | {"Action":"Delete","TableName":..}
 *        | {"Action":"SeedFrom","TableName":..,"Replicas":[..]} (copy the
 *          table from snapshots of those peers)
 *   POST /_tandem/repl/seed     a batch of snapshot entries, applied LWW
 *   GET  /_tandem/repl/snapshot?table=T[&after=HEX]  a batch of T's items
 *   GET  /_tandem/repl/digest?table=T[&bucket=XX]    range hashes / keys
 *   GET  /_tandem/metrics       Prometheus text (src/server/metrics.c; repl_metrics)
 */
#ifndef TANDEM_REPL_H
#define TANDEM_REPL_H

#include <stdbool.h>
#include <stddef.h>

#include "ddb.h"
#include "err.h"
#include "http.h"
#include "store.h"

struct repl;

struct repl_peer_opt {
    const char *region; /* e.g. "us-west-2" */
    const char *url;    /* http(s)://HOST:PORT */
};

struct repl_opts {
    struct store *store; /* borrowed */
    struct ddb *ddb;     /* borrowed; replication plugs itself into it */
    const char *region;
    const char *access_key, *secret; /* root credentials, shared by all regions */
    const struct repl_peer_opt *peers;
    size_t npeers;
    const char *ca_file; /* for https peers; NULL: $AWS_CA_BUNDLE or the system's */
};

/* repl_open - start replication (owned, repl_close()); peers may be down. */
enum err_code repl_open(const struct repl_opts *o, struct repl **out, struct err *e);

/* repl_stop - stop the threads, answer the waiting long-polls and end the
 * log streams; requests
 * that still arrive are answered at once (call before stopping HTTP). NULL ok. */
void repl_stop(struct repl *r);

/* repl_close - repl_stop if not done, then free (after HTTP has stopped). NULL ok. */
void repl_close(struct repl *r);

/* repl_handle - serve an authenticated request under /_tandem/repl/. */
void repl_handle(struct repl *r, struct http_req *req);

/* repl_metrics - append replication's metrics (Prometheus text) to @b, for
 * the region's GET /_tandem/metrics (src/server/metrics.c). */
void repl_metrics(struct repl *r, struct buf *b);

/* repl_parse_peer - split "REGION=URL" into @out (pointing into @s, which is
 * modified). ERR_INVALID with a message. */
enum err_code repl_parse_peer(char *s, struct repl_peer_opt *out, struct err *e);

#endif
