/* repl_int.h - what the parts of the replication runtime (repl.c,
 * repl_pull.c, repl_serve.c, repl_replica.c) share: the runtime's structs,
 * its limits and tunables, and the functions one part calls in another.
 * Not for use outside src/repl. */
#ifndef TANDEM_REPL_INT_H
#define TANDEM_REPL_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "awsc.h"
#include "buf.h"
#include "err.h"
#include "ddb_repl.h"
#include "http.h"
#include "repl.h"
#include "rlog.h"

enum {
    PULL_MAX = 1000,          /* entries per batch */
    PULL_MAX_BYTES = 4 << 20, /* about this many bytes per batch */
    PULL_WAIT_MS = 1000,      /* long-poll */
    STREAM_MS = 25000,        /* a log stream ends after this; the puller asks again */
    REC_HDR = 20,             /* a stream record: u64 log last, u64 HLC floor, u32 length */
    HEARTBEAT_MS = 1000,      /* an idle stream sends an empty batch this often */
    BACKOFF_MIN_MS = 100,
    BACKOFF_MAX_MS = 5000,
    SEED_PAGE = 500,
    MAX_TABLES = 64, /* per-table counters kept per peer */
    TRIM_EVERY_MS = 60 * 1000,
};

/* Log retention and how often to trim ($TANDEM_REPL_RETENTION_MS,
 * $TANDEM_REPL_TRIM_EVERY_MS), and how long tombstones are kept at least
 * ($TANDEM_REPL_TOMBSTONE_MS); set by repl_open, defined in repl.c. */
extern int64_t repl_log_retention_ms, repl_trim_every_ms, repl_tombstone_ms;
enum { GC_MARGIN_MS = 60 * 1000, GC_SCAN = 20000 };

/* buckets of the per-entry lag histogram; their bounds are in repl.c */
enum { LAG_BUCKETS = 24 };

struct table_stat {
    char name[REPL_TABLE_MAX + 1];
    uint64_t applied, conflicts, lag_ms;
};

struct peer {
    struct repl *r;
    char region[REPL_REGION_MAX + 1];
    char url[512];
    pthread_t thread;
    bool started;
    /* metrics, under r->mu */
    uint64_t pos, remote_last;
    bool up;
    char last_error[256];
    int64_t last_error_ms;
    uint64_t lag_ms;
    uint64_t errors;
    struct table_stat tables[MAX_TABLES];
    size_t ntables;
    uint64_t lag_hist[LAG_BUCKETS]; /* per applied entry: apply time - origin's HLC time */
    uint64_t lag_sum_ms;
    uint64_t floor; /* see peer_floor; 0 until known */
};

struct waiter {
    struct http_req *req;
    uint64_t from;
    size_t max;
    uint64_t order; /* arrival */
    int64_t deadline_us;
    struct waiter *next;
};

/* A log stream (GET repl/log?stream=1): a chunked answer that carries
 * records (u64 the log's last sequence number, u64 HLC floor, u32 length,
 * a batch), one
 * whenever entries commit, an empty one every HEARTBEAT_MS when idle. */
struct stream {
    struct repl *r;
    struct http_stream *hs;
    uint64_t from; /* the next sequence number to send */
    int64_t deadline_us, sent_us;
    struct buf pending; /* records not yet taken by the connection */
    size_t off;
    bool done; /* end once @pending is sent */
    struct stream *next;
};

struct jobs;

struct repl {
    struct store *store;
    struct ddb *ddb;
    char region[REPL_REGION_MAX + 1];
    struct awsc_creds creds;
    char *access_key, *secret, *ca_file;
    struct peer *peers;
    size_t npeers;
    struct ddb_replicator hooks;
    atomic_bool stop;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* signalled on stop and new waiters */
    struct waiter *waiters;
    uint64_t waiter_order;
    struct stream *streams;
    /* tombstone collection (serve thread only): where each table's walk is */
    struct {
        char table[REPL_TABLE_MAX + 1];
        struct buf next;
    } gc[MAX_TABLES];
    size_t ngc;
    atomic_ullong gc_total;
    pthread_t serve_thread;
    bool serve_started;
    struct jobs *jobs; /* replica management: UpdateTable's replica changes, seeding */
    bool stopped;
};

struct apply_ctx {
    struct repl *r;
    struct peer *p; /* NULL for a seed */
    const void *body;
    size_t len;
    bool records;  /* @body is stream records (REC_HDR, batch) rather than a batch */
    uint64_t skip; /* entries up to this sequence number are already applied */
    uint64_t last_seq;
    /* per-batch outcome for the metrics */
    size_t applied, conflicts;
    uint64_t last_ts;
    struct table_stat local[8];
    size_t nlocal;
    uint64_t lag_hist[LAG_BUCKETS];
    uint64_t lag_sum_ms;
};

/* ---- repl.c: shared helpers ---- */

/* repl_lag_bucket - the lag histogram bucket of @ms. */
int repl_lag_bucket(int64_t ms);
/* repl_sleep_ms - wait @ms, or less when the runtime stops. */
void repl_sleep_ms(struct repl *r, int64_t ms);
/* repl_peer_find - the peer named @region, or NULL; borrowed from @r. */
struct peer *repl_peer_find(struct repl *r, const char *region);
/* repl_query_param - the value of @name in query @q, copied into @out; false if absent. */
bool repl_query_param(const char *q, const char *name, char *out, size_t cap);
/* repl_respond_json_error - answer @req with a DynamoDB-shaped JSON error. */
void repl_respond_json_error(struct http_req *req, int status, const char *type, const char *msg);
/* repl_status_of - the HTTP status of @rc. */
int repl_status_of(enum err_code rc);
/* repl_peer_call - a signed call to a peer's internal endpoint (see repl.c). */
enum err_code repl_peer_call(struct repl *r, const char *url, const char *region,
                             const char *method, const char *path, const char *query,
                             const void *body, size_t len, long timeout_ms, struct awsc_resp *resp,
                             struct err *e);
/* repl_hex_decode - @n hex digits into @out; false when odd or not hex. */
bool repl_hex_decode(const char *s, size_t n, unsigned char *out, size_t *outlen);

/* ---- repl_pull.c ---- */

/* repl_apply_batch - a store_write() callback: apply the batch (or records)
 * of the struct apply_ctx @arg last-writer-wins. */
enum err_code repl_apply_batch(struct store_txn *t, void *arg, struct err *e);
/* repl_snapshot_pull - copy @table from snapshots of @p, applied
 * last-writer-wins; @pages (NULL ok) counts the pages. */
enum err_code repl_snapshot_pull(struct repl *r, struct peer *p, const char *table, size_t *pages,
                                 struct err *e);
/* repl_pull_main - the thread of peer @arg (struct peer *): pulls and applies its log. */
void *repl_pull_main(void *arg);

/* ---- repl_serve.c ---- */

/* repl_serve_main - the serve thread of @arg (struct repl *). */
void *repl_serve_main(void *arg);
/* repl_handle_log - GET /_tandem/repl/log (repl.h). */
void repl_handle_log(struct repl *r, struct http_req *req);

/* ---- repl_replica.c ---- */

/* The internal endpoints of replica management (repl.h). */
void repl_handle_seed(struct repl *r, struct http_req *req);
void repl_handle_replica(struct repl *r, struct http_req *req);
void repl_handle_snapshot(struct repl *r, struct http_req *req);
void repl_handle_digest(struct repl *r, struct http_req *req);
/* The ddb_replicator hooks (ddb_repl.h): start a job thread. */
void repl_hook_updates(void *ud, void *call, const char *table, const cJSON *updates);
void repl_hook_deleted(void *ud, const char *table, const char *replicas);

#endif
