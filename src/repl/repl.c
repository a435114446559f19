/* repl.c - see repl.h. */
#include "repl.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "awsc.h"
#include "clock.h"
#include "codec.h"
#include "ddb_repl.h"
#include "hlc.h"
#include "log.h"
#include "mem.h"
#include "rlog.h"
#include "sigv4.h"
#include "url.h"

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

/* Log retention and how often to trim; $TANDEM_REPL_RETENTION_MS and
 * $TANDEM_REPL_TRIM_EVERY_MS override them (tests of the resync path). */
static int64_t log_retention_ms = 24LL * 3600 * 1000;
static int64_t trim_every_ms = TRIM_EVERY_MS;
/* Tombstones are kept at least this long, and until every peer's log is
 * applied past them with this margin (for writes stamped but not yet
 * committed when a peer sent its floor); $TANDEM_REPL_TOMBSTONE_MS. */
static int64_t tombstone_ms = 24LL * 3600 * 1000;
enum { GC_MARGIN_MS = 60 * 1000, GC_SCAN = 20000 };

/* upper bounds (ms) of the per-entry lag histogram; the last bucket is +Inf */
static const int64_t lag_bounds[] = {1,  2,  3,  5,   7,   10,  15,  20,  30,   40,   50,  55,
                                     60, 65, 75, 100, 150, 200, 300, 500, 1000, 2000, 5000};
enum { LAG_BUCKETS = sizeof(lag_bounds) / sizeof(lag_bounds[0]) + 1 };

static int lag_bucket(int64_t ms)
{
    int i = 0;

    while (i < LAG_BUCKETS - 1 && ms > lag_bounds[i])
        i++;
    return i;
}

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
    atomic_int jobs; /* replica-management threads running */
    bool stopped;
};

/* ---- small helpers ---- */

static void sleep_ms(struct repl *r, int64_t ms)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&r->mu);
    while (!atomic_load(&r->stop))
        if (pthread_cond_timedwait(&r->cv, &r->mu, &ts) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&r->mu);
}

static struct peer *peer_find(struct repl *r, const char *region)
{
    for (size_t i = 0; i < r->npeers; i++)
        if (strcmp(r->peers[i].region, region) == 0)
            return &r->peers[i];
    return NULL;
}

/* query_param - the value of @name in query @q, copied into @out; false if absent. */
static bool query_param(const char *q, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    const char *p = q;

    while (p && *p) {
        if (strncmp(p, name, nl) == 0 && p[nl] == '=') {
            size_t n = 0;

            p += nl + 1;
            while (p[n] && p[n] != '&')
                n++;
            if (n >= cap)
                n = cap - 1;
            memcpy(out, p, n);
            out[n] = '\0';
            return true;
        }
        p = strchr(p, '&');
        if (p)
            p++;
    }
    return false;
}

static void respond_json_error(struct http_req *req, int status, const char *type, const char *msg)
{
    struct buf b;

    buf_init(&b, 0);
    buf_puts(&b, "{\"__type\":");
    buf_json_str(&b, type, strlen(type));
    buf_puts(&b, ",\"message\":");
    buf_json_str(&b, msg, strlen(msg));
    buf_putc(&b, '}');
    http_resp_header(req, "Content-Type", "application/json");
    http_respond_buf(req, status, &b);
}

static int status_of(enum err_code rc)
{
    switch (rc) {
    case ERR_INVALID:
        return 400;
    case ERR_NOTFOUND:
        return 404;
    case ERR_IN_USE:
    case ERR_CONFLICT:
        return 409;
    case ERR_DENIED:
        return 403;
    default:
        return 500;
    }
}

/* peer_call - a signed call to @p's internal endpoint. */
static enum err_code peer_call(struct repl *r, const char *url, const char *region,
                               const char *method, const char *path, const char *query,
                               const void *body, size_t len, long timeout_ms,
                               struct awsc_resp *resp, struct err *e)
{
    struct awsc_header h = {"content-type", "application/octet-stream"};
    struct awsc_req q = {
        .method = method,
        .endpoint = url,
        .path = path,
        .query = query,
        .region = region,
        .service = "tandem",
        .headers = &h,
        .nheaders = body ? 1 : 0,
        .body = body,
        .body_len = len,
        .timeout_ms = timeout_ms,
        .ca_file = r->ca_file,
    };
    enum err_code rc = awsc_call(&r->creds, &q, resp, e);

    if (rc == ERR_OK && resp->status != 200) {
        rc = err_set(e, resp->status == 404 ? ERR_NOTFOUND : ERR_IO, "%s %s: HTTP %ld: %.150s",
                     method, path, resp->status, resp->body.ptr ? resp->body.ptr : "");
        if (resp->status >= 400 && resp->status < 500 && resp->status != 404)
            e->code = rc = ERR_INVALID;
    }
    return rc;
}

/* hex_decode - @n hex digits into @out; false when odd or not hex. */
static bool hex_decode(const char *s, size_t n, unsigned char *out, size_t *outlen)
{
    if (n % 2)
        return false;
    for (size_t i = 0; i < n; i += 2) {
        int hi = url_hexval(s[i]), lo = url_hexval(s[i + 1]);

        if (hi < 0 || lo < 0)
            return false;
        out[i / 2] = (unsigned char)(hi << 4 | lo);
    }
    *outlen = n / 2;
    return true;
}

/* ---- applying batches ---- */

static uint64_t get_be(const unsigned char *q, int n)
{
    uint64_t v = 0;

    for (int i = 0; i < n; i++)
        v = v << 8 | q[i];
    return v;
}

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

static struct table_stat *ctx_table(struct apply_ctx *x, const char *name)
{
    for (size_t i = 0; i < x->nlocal; i++)
        if (strcmp(x->local[i].name, name) == 0)
            return &x->local[i];
    if (x->nlocal == sizeof(x->local) / sizeof(x->local[0]))
        return NULL;
    memset(&x->local[x->nlocal], 0, sizeof(x->local[0]));
    snprintf(x->local[x->nlocal].name, sizeof(x->local[0].name), "%s", name);
    return &x->local[x->nlocal++];
}

struct apply_txn {
    struct store_txn *t;
    struct apply_ctx *x;
};

static enum err_code apply_one_txn(const struct repl_entry *en, void *arg, struct err *e)
{
    struct apply_txn *at = arg;
    struct apply_ctx *x = at->x;
    struct ddb_repl_result res;
    struct table_stat *ts;
    enum err_code rc;

    if (x->p && en->seq <= x->skip)
        return ERR_OK; /* already applied (a stream that was asked again) */
    rc = ddb_repl_apply(at->t, en, &res, e);
    if (rc)
        return rc;
    x->last_seq = en->seq;
    x->last_ts = en->ts;
    if (res.outcome == DDB_REPL_NO_TABLE || res.outcome == DDB_REPL_SAME)
        return ERR_OK;
    ts = ctx_table(x, en->table);
    if (res.outcome == DDB_REPL_APPLIED) {
        int64_t lag = clock_wall_ms() - repl_hlc_ms(en->ts);

        lag = lag < 0 ? 0 : lag;
        x->lag_hist[lag_bucket(lag)]++;
        x->lag_sum_ms += (uint64_t)lag;
        x->applied++;
        if (ts)
            ts->applied++;
    } else if (res.outcome == DDB_REPL_LOST) {
        char hex[2 * 64 + 1];
        size_t n = en->key_len > 64 ? 64 : en->key_len;

        hex_encode(en->key, n, hex);
        x->conflicts++;
        if (ts)
            ts->conflicts++;
        log_warn("event=repl_conflict table=%s key=%s%s incoming_ts=%" PRId64 ".%u "
                 "incoming_origin=%s stored_ts=%" PRId64 ".%u stored_origin=%s kept=stored",
                 en->table, hex, en->key_len > 64 ? "..." : "", repl_hlc_ms(en->ts),
                 repl_hlc_logical(en->ts), en->origin, repl_hlc_ms(res.stored_ts),
                 repl_hlc_logical(res.stored_ts), res.stored_origin);
    }
    return ERR_OK;
}

static enum err_code batch_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct apply_ctx *x = arg;
    struct apply_txn at = {.t = t, .x = x};
    size_t n;
    enum err_code rc;

    x->applied = x->conflicts = 0;
    x->nlocal = 0;
    memset(x->lag_hist, 0, sizeof(x->lag_hist));
    x->lag_sum_ms = 0;
    x->last_seq = 0;
    if (!x->records) {
        rc = repl_batch_decode(x->body, x->len, apply_one_txn, &at, &n, e);
    } else {
        const unsigned char *q = x->body;

        rc = ERR_OK;
        for (size_t off = 0; !rc && off + REC_HDR <= x->len;) {
            size_t len = (size_t)get_be(q + off + 16, 4);

            rc = repl_batch_decode(q + off + REC_HDR, len, apply_one_txn, &at, &n, e);
            off += REC_HDR + len;
        }
    }
    if (!rc && x->p && x->last_seq)
        rc = repl_pos_put(t, x->p->region, x->last_seq, e);
    return rc;
}

/* ---- pulling a peer's log ---- */

static enum err_code pos_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct apply_ctx *x = arg;

    return repl_pos_put(t, x->p->region, x->last_seq, e);
}

/* snapshot_pull - copy @table from snapshots of @p (pages of SEED_PAGE,
 * tombstones included), applied last-writer-wins; @pages (NULL ok) counts the
 * pages. A table @p no longer has is skipped. */
static enum err_code snapshot_pull(struct repl *r, struct peer *p, const char *table, size_t *pages,
                                   struct err *e)
{
    char after[1100] = "";
    enum err_code rc = ERR_OK;

    for (;;) {
        char query[1500];
        struct awsc_resp resp;
        struct apply_ctx x;
        const char *next;

        if (atomic_load(&r->stop))
            return err_set(e, ERR_IO, "stopping");
        snprintf(query, sizeof(query), "%s%s%stable=%s", after[0] ? "after=" : "", after,
                 after[0] ? "&" : "", table);
        rc = peer_call(r, p->url, p->region, "GET", "/_tandem/repl/snapshot", query, NULL, 0, 60000,
                       &resp, e);
        if (rc == ERR_NOTFOUND) { /* the peer has no such table any more */
            awsc_resp_free(&resp);
            return ERR_OK;
        }
        if (!rc) {
            memset(&x, 0, sizeof(x));
            x.r = r;
            x.body = resp.body.ptr;
            x.len = resp.body.len;
            rc = store_write(r->store, batch_apply, &x, e);
        }
        next = rc ? NULL : awsc_resp_header(&resp, "x-tandem-next");
        snprintf(after, sizeof(after), "%s", next ? next : "");
        awsc_resp_free(&resp);
        if (pages)
            (*pages)++;
        if (rc || !after[0])
            return rc;
    }
}

/* resync - our position in @p's log was trimmed away: copy every table we
 * share with @p from snapshots of @p (last-writer-wins, tombstones included),
 * then continue from @p's log position @remote_last, seen before the snapshots. */
static enum err_code resync(struct peer *p, uint64_t remote_last, struct err *e)
{
    struct repl *r = p->r;
    struct buf names;
    cJSON *arr = NULL;
    const cJSON *it;
    struct apply_ctx x;
    size_t tables = 0, pages = 0;
    enum err_code rc;

    log_warn("event=repl_resync_start peer=%s reason=position_trimmed remote_last=%" PRIu64,
             p->region, remote_last);
    buf_init(&names, 0);
    rc = ddb_repl_tables_with(r->store, p->region, &names, e);
    if (!rc)
        arr = cJSON_ParseWithLength(names.ptr, names.len);
    buf_free(&names);
    cJSON_ArrayForEach(it, arr)
    {
        tables++;
        rc = snapshot_pull(r, p, it->valuestring, &pages, e);
        if (rc)
            break;
    }
    cJSON_Delete(arr);
    if (!rc) {
        memset(&x, 0, sizeof(x));
        x.p = p;
        x.last_seq = remote_last;
        rc = store_write(r->store, pos_apply, &x, e);
    }
    if (!rc)
        log_warn("event=repl_resync_done peer=%s tables=%zu pages=%zu pos=%" PRIu64, p->region,
                 tables, pages, remote_last);
    return rc;
}

static void peer_error(struct peer *p, const struct err *e)
{
    struct repl *r = p->r;
    bool changed;

    pthread_mutex_lock(&r->mu);
    changed = strcmp(p->last_error, e->msg) != 0 || p->up;
    snprintf(p->last_error, sizeof(p->last_error), "%s", e->msg);
    p->last_error_ms = clock_wall_ms();
    p->up = false;
    p->errors++;
    pthread_mutex_unlock(&r->mu);
    if (changed)
        log_warn("event=repl_peer_error peer=%s error=\"%s\"", p->region, e->msg);
}

static void peer_record(struct peer *p, struct apply_ctx *x, uint64_t remote_last)
{
    struct repl *r = p->r;
    int64_t now = clock_wall_ms();

    pthread_mutex_lock(&r->mu);
    if (!p->up && p->last_error[0])
        log_info("event=repl_peer_up peer=%s pos=%" PRIu64, p->region, p->pos);
    p->up = true;
    if (x->last_seq > p->pos)
        p->pos = x->last_seq;
    if (remote_last)
        p->remote_last = remote_last;
    if (x->last_ts) {
        int64_t lag = now - repl_hlc_ms(x->last_ts);

        p->lag_ms = lag > 0 ? (uint64_t)lag : 0;
    } else if (p->remote_last <= p->pos) {
        p->lag_ms = 0;
    }
    for (int i = 0; i < LAG_BUCKETS; i++)
        p->lag_hist[i] += x->lag_hist[i];
    p->lag_sum_ms += x->lag_sum_ms;
    for (size_t i = 0; i < x->nlocal; i++) {
        struct table_stat *ts = NULL;

        for (size_t j = 0; j < p->ntables; j++)
            if (strcmp(p->tables[j].name, x->local[i].name) == 0)
                ts = &p->tables[j];
        if (!ts && p->ntables < MAX_TABLES) {
            ts = &p->tables[p->ntables++];
            memset(ts, 0, sizeof(*ts));
            snprintf(ts->name, sizeof(ts->name), "%s", x->local[i].name);
        }
        if (ts) {
            ts->applied += x->local[i].applied;
            ts->conflicts += x->local[i].conflicts;
            ts->lag_ms = p->lag_ms;
        }
    }
    pthread_mutex_unlock(&r->mu);
}

/* A peer's puller: its thread reads the log stream (pull_data, called by the
 * HTTP client as bytes arrive) and hands complete records to an applier
 * thread, which applies whatever has arrived meanwhile in one store apply
 * (one commit for many small records, as they come one chunk at a time). */
struct pull {
    struct peer *p;
    struct buf in; /* the reading thread's: bytes of an incomplete record */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* under mu */
    uint64_t pos;     /* applied */
    struct buf ready; /* complete records for the applier */
    size_t entries;   /* in @ready */
    uint64_t remote_last;
    uint64_t floor; /* the peer's HLC floor of the last record in @ready (0: none) */
    bool busy;      /* applying */
    bool refused;   /* a batch was refused: @e says why; the stream is asked again */
    bool quit;
    struct err e;
};

enum { READY_MAX = 16 << 20 }; /* the reader waits when this much is not applied yet */

/* pull_data - bytes of the stream (awsc on_data): complete records go to the
 * applier; false ends the stream (stopping, or a batch was refused). */
static bool pull_data(void *ud, const void *data, size_t n)
{
    struct pull *pl = ud;
    struct repl *r = pl->p->r;
    const unsigned char *q;
    size_t off = 0, entries = 0;
    uint64_t remote_last = 0, floor = 0;
    bool ok;

    if (atomic_load(&r->stop))
        return false; /* heartbeats come every HEARTBEAT_MS: stopping stays quick */
    buf_append(&pl->in, data, n);
    q = (const unsigned char *)pl->in.ptr;
    while (pl->in.len - off >= REC_HDR) {
        size_t len = (size_t)get_be(q + off + 16, 4);

        if (len > PULL_MAX_BYTES * 2 || len < 8) {
            pthread_mutex_lock(&pl->mu);
            err_set(&pl->e, ERR_INVALID, "batch from %s refused: record of %zu bytes",
                    pl->p->region, len);
            pl->refused = true;
            pthread_mutex_unlock(&pl->mu);
            return false;
        }
        if (pl->in.len - off - REC_HDR < len)
            break;
        remote_last = get_be(q + off, 8);
        floor = get_be(q + off + 8, 8);
        entries += (size_t)get_be(q + off + REC_HDR + 4, 4);
        off += REC_HDR + len;
    }
    if (!off)
        return true;
    pthread_mutex_lock(&pl->mu);
    while (pl->ready.len > READY_MAX && !pl->refused && !atomic_load(&r->stop))
        pthread_cond_wait(&pl->cv, &pl->mu);
    ok = !pl->refused;
    if (ok) {
        buf_append(&pl->ready, q, off);
        pl->entries += entries;
        pl->remote_last = remote_last;
        if (floor > pl->floor)
            pl->floor = floor;
        pthread_cond_broadcast(&pl->cv);
    }
    pthread_mutex_unlock(&pl->mu);
    memmove(pl->in.ptr, pl->in.ptr + off, pl->in.len - off);
    pl->in.len -= off;
    return ok;
}

/* peer_floor - every entry of @p's log stamped before @ts is applied here
 * (its log is in timestamp order, and a floor it sends is past everything it
 * logged before): tombstones older than that may go (tombstone_gc). */
static void peer_floor(struct peer *p, uint64_t ts)
{
    pthread_mutex_lock(&p->r->mu);
    if (ts > p->floor)
        p->floor = ts;
    pthread_mutex_unlock(&p->r->mu);
}

/* apply_main - a peer's applier thread (see struct pull). */
static void *apply_main(void *arg)
{
    struct pull *pl = arg;
    struct peer *p = pl->p;
    struct buf work;

    buf_init(&work, 0);
    pthread_mutex_lock(&pl->mu);
    for (;;) {
        struct apply_ctx x;
        struct buf tmp;
        size_t entries;
        uint64_t remote_last, floor;
        struct err e = {0};
        enum err_code rc = ERR_OK;

        while (!pl->ready.len && !pl->quit)
            pthread_cond_wait(&pl->cv, &pl->mu);
        if (pl->quit)
            break;
        tmp = pl->ready;
        pl->ready = work;
        work = tmp;
        buf_reset(&pl->ready);
        entries = pl->entries;
        pl->entries = 0;
        remote_last = pl->remote_last;
        floor = pl->floor;
        pl->floor = 0;
        memset(&x, 0, sizeof(x));
        x.r = p->r;
        x.p = p;
        x.body = work.ptr;
        x.len = work.len;
        x.records = true;
        x.skip = pl->pos;
        pl->busy = true;
        pthread_cond_broadcast(&pl->cv); /* room for the reader */
        pthread_mutex_unlock(&pl->mu);
        if (entries) /* heartbeats alone need no apply */
            rc = store_write(p->r->store, batch_apply, &x, &e);
        if (!rc) {
            peer_record(p, &x, remote_last);
            peer_floor(p, floor > x.last_ts ? floor : x.last_ts);
        }
        pthread_mutex_lock(&pl->mu);
        pl->busy = false;
        if (rc) {
            err_set(&pl->e, rc, "batch from %s refused: %s", p->region, e.msg);
            pl->refused = true;
            buf_reset(&pl->ready);
            pl->entries = 0;
        } else if (x.last_seq > pl->pos) {
            pl->pos = x.last_seq;
        }
        pthread_cond_broadcast(&pl->cv);
    }
    pthread_mutex_unlock(&pl->mu);
    buf_free(&work);
    return NULL;
}

/* pull_quiet - wait until the applier has applied (or refused) everything
 * handed to it; the position to ask from next. With pl->mu held. */
static uint64_t pull_quiet(struct pull *pl)
{
    while (pl->busy || (pl->ready.len && !pl->refused))
        pthread_cond_wait(&pl->cv, &pl->mu);
    buf_reset(&pl->ready);
    pl->entries = 0;
    return pl->pos;
}

/* pull_main - a peer's puller: streams the peer's log from the position
 * applied here (GET repl/log?stream=1), the applier applying each batch as it
 * arrives, so an entry is applied about one network delay after it commits;
 * when a stream ends it asks again from where it is. */
static void *pull_main(void *arg)
{
    struct peer *p = arg;
    struct repl *r = p->r;
    int64_t backoff = BACKOFF_MIN_MS;
    struct pull pl = {.p = p};
    pthread_t applier;
    bool applier_started;

    buf_init(&pl.in, 0);
    buf_init(&pl.ready, 0);
    pthread_mutex_init(&pl.mu, NULL);
    pthread_cond_init(&pl.cv, NULL);
    pthread_mutex_lock(&r->mu);
    pl.pos = p->pos;
    pthread_mutex_unlock(&r->mu);
    applier_started = pthread_create(&applier, NULL, apply_main, &pl) == 0;
    if (!applier_started)
        log_err("event=repl_peer_error peer=%s error=\"cannot start a thread\"", p->region);
    while (applier_started && !atomic_load(&r->stop)) {
        struct awsc_resp resp;
        char query[160];
        struct awsc_req q = {
            .method = "GET",
            .endpoint = p->url,
            .path = "/_tandem/repl/log",
            .query = query,
            .region = p->region,
            .service = "tandem",
            .timeout_ms = STREAM_MS + 15000,
            .ca_file = r->ca_file,
            .on_data = pull_data,
            .data_ud = &pl,
        };
        struct err e = {0};
        uint64_t pos;
        enum err_code rc;

        pthread_mutex_lock(&pl.mu);
        pos = pull_quiet(&pl);
        pl.refused = false;
        memset(&pl.e, 0, sizeof(pl.e));
        pthread_mutex_unlock(&pl.mu);
        snprintf(query, sizeof(query), "from=%" PRIu64 "&max=%d&stream=1", pos + 1, PULL_MAX);
        buf_reset(&pl.in);
        rc = awsc_call(&r->creds, &q, &resp, &e);
        pthread_mutex_lock(&pl.mu);
        pos = pull_quiet(&pl);
        if (pl.refused) {
            e = pl.e;
            rc = e.code ? e.code : ERR_INVALID;
        }
        pthread_mutex_unlock(&pl.mu);
        if (!rc && resp.status == 410) {
            const char *last = awsc_resp_header(&resp, "x-tandem-log-last");
            uint64_t l = last ? strtoull(last, NULL, 10) : 0;

            memset(&e, 0, sizeof(e));
            if (l > pos && resync(p, l, &e) == ERR_OK) {
                pthread_mutex_lock(&pl.mu);
                pl.pos = l;
                pthread_mutex_unlock(&pl.mu);
                pthread_mutex_lock(&r->mu);
                p->pos = l;
                pthread_mutex_unlock(&r->mu);
                awsc_resp_free(&resp);
                backoff = BACKOFF_MIN_MS;
                continue;
            }
            if (!e.msg[0])
                err_set(&e, ERR_IO, "position %" PRIu64 " trimmed from the peer's log", pos);
            rc = e.code ? e.code : ERR_IO;
        } else if (!rc && resp.status != 200) {
            rc = err_set(&e, ERR_IO, "GET /_tandem/repl/log: HTTP %ld: %.150s", resp.status,
                         resp.body.ptr ? resp.body.ptr : "");
        }
        awsc_resp_free(&resp);
        if (rc) {
            peer_error(p, &e);
            sleep_ms(r, backoff);
            backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
            continue;
        }
        backoff = BACKOFF_MIN_MS;
    }
    if (applier_started) {
        pthread_mutex_lock(&pl.mu);
        pl.quit = true;
        pthread_cond_broadcast(&pl.cv);
        pthread_mutex_unlock(&pl.mu);
        pthread_join(applier, NULL);
    }
    pthread_mutex_destroy(&pl.mu);
    pthread_cond_destroy(&pl.cv);
    buf_free(&pl.in);
    buf_free(&pl.ready);
    return NULL;
}

/* ---- serving the log ---- */

/* durable_bounds - the log's bounds in @t, the last one capped at the newest
 * entry known to be durable: writers call repl_log_committed() only once their
 * commit is flushed, and commits become durable in order, so a peer never gets
 * an entry a power loss could take back (a read transaction also sees the
 * newest commit before its flush; store.h). */
static enum err_code durable_bounds(struct store_txn *t, uint64_t *first, uint64_t *last,
                                    struct err *e)
{
    enum err_code rc = repl_log_bounds(t, first, last, e);
    uint64_t durable = repl_log_wait(0, 0);

    if (!rc && *last > durable)
        *last = durable;
    return rc;
}

/* up_to - how many entries from @from to @last, at most @max (@last >= @from) */
static size_t up_to(uint64_t from, uint64_t last, size_t max)
{
    return last - from < (uint64_t)max ? (size_t)(last - from + 1) : max;
}

/* serve_log - answer @req with the entries from @from; false (nothing sent)
 * when there are none and @final is false. */
static bool serve_log(struct repl *r, struct http_req *req, uint64_t from, size_t max, bool final)
{
    struct store_txn *t = NULL;
    struct buf b;
    struct err e = {0};
    uint64_t first = 0, last = 0, lastseq = 0;
    size_t count = 0;
    char num[32];
    enum err_code rc = store_read_begin(r->store, &t, &e);

    buf_init(&b, 0);
    if (!rc)
        rc = durable_bounds(t, &first, &last, &e);
    if (!rc && last >= from && first > from) {
        store_txn_abort(t);
        buf_free(&b);
        snprintf(num, sizeof(num), "%" PRIu64, first);
        http_resp_header(req, "X-Tandem-Log-First", num);
        snprintf(num, sizeof(num), "%" PRIu64, last);
        http_resp_header(req, "X-Tandem-Log-Last", num);
        respond_json_error(req, 410, "LogTrimmed",
                           "the requested position is older than the retained log");
        return true;
    }
    if (!rc && last >= from)
        rc = repl_log_read(t, from, up_to(from, last, max), PULL_MAX_BYTES, &b, &count, &lastseq,
                           &e);
    store_txn_abort(t);
    if (rc) {
        buf_free(&b);
        respond_json_error(req, 500, "InternalError", e.msg);
        return true;
    }
    if (count == 0 && !final) {
        buf_free(&b);
        return false;
    }
    if (count == 0) {
        buf_reset(&b);
        repl_batch_begin(&b);
        repl_batch_end(&b);
    }
    snprintf(num, sizeof(num), "%" PRIu64, last);
    http_resp_header(req, "X-Tandem-Log-Last", num);
    snprintf(num, sizeof(num), "%" PRIu64, first);
    http_resp_header(req, "X-Tandem-Log-First", num);
    http_resp_header(req, "Content-Type", "application/octet-stream");
    http_respond_buf(req, 200, &b);
    return true;
}

static enum err_code trim_apply(struct store_txn *t, void *arg, struct err *e)
{
    size_t *n = arg;

    return repl_log_trim(t, clock_wall_ms() - log_retention_ms, 10000, n, e);
}

/* take_ready - the longest-waiting waiter that can be answered (entries past
 * its position committed, its time up, or stopping), unlinked; NULL if none. */
static struct waiter *take_ready(struct repl *r, uint64_t seen, int64_t now)
{
    struct waiter *w, **pw, **pbest = NULL;

    pthread_mutex_lock(&r->mu);
    for (pw = &r->waiters; (w = *pw); pw = &w->next)
        if ((seen >= w->from || now >= w->deadline_us || atomic_load(&r->stop)) &&
            (!pbest || w->order < (*pbest)->order))
            pbest = pw;
    w = pbest ? *pbest : NULL;
    if (w)
        *pbest = w->next;
    pthread_mutex_unlock(&r->mu);
    return w;
}

/* stream_fill - with r->mu held: queue the entries from @st->from (or, when
 * there are none and it is time, a heartbeat) as one record; true when
 * something was queued. Only when the previous record has been taken. */
static bool stream_fill(struct repl *r, struct stream *st, int64_t now)
{
    struct store_txn *t = NULL;
    struct err e = {0};
    uint64_t first = 0, last = 0, lastseq = 0, floor;
    size_t count = 0, at;
    struct buf b;
    enum err_code rc;

    if (st->done || st->off < st->pending.len)
        return false;
    buf_reset(&st->pending);
    st->off = 0;
    buf_init(&b, 0);
    floor = repl_hlc_now(); /* entries logged from now on are stamped later */
    rc = store_read_begin(r->store, &t, &e);
    if (!rc)
        rc = durable_bounds(t, &first, &last, &e);
    if (!rc && last >= st->from && first > st->from) {
        rc = err_set(&e, ERR_IO, "trimmed"); /* the puller asks again and gets 410 */
    } else if (!rc && last >= st->from) {
        rc = repl_log_read(t, st->from, up_to(st->from, last, PULL_MAX), PULL_MAX_BYTES, &b, &count,
                           &lastseq, &e);
    }
    store_txn_abort(t);
    if (rc) {
        buf_free(&b);
        st->done = true;
        return true;
    }
    if (count == 0 && now - st->sent_us < HEARTBEAT_MS * 1000LL) {
        buf_free(&b);
        return false;
    }
    if (count == 0) {
        buf_reset(&b);
        repl_batch_begin(&b);
        repl_batch_end(&b);
    } else {
        st->from = lastseq + 1;
    }
    if (st->from <= last)
        floor = 0; /* more to send: no floor yet */
    at = st->pending.len;
    buf_append(&st->pending, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", REC_HDR);
    for (int i = 0; i < 8; i++) {
        st->pending.ptr[at + i] = (char)(last >> (56 - 8 * i));
        st->pending.ptr[at + 8 + i] = (char)(floor >> (56 - 8 * i));
    }
    for (int i = 0; i < 4; i++)
        st->pending.ptr[at + 16 + i] = (char)((uint64_t)b.len >> (24 - 8 * i));
    buf_append(&st->pending, b.ptr, b.len);
    buf_free(&b);
    st->sent_us = now;
    return true;
}

/* stream_read - the connection takes bytes of the stream (http_stream_fn). */
static long stream_read(void *ud, char *out, size_t max)
{
    struct stream *st = ud;
    struct repl *r = st->r;
    long n;

    pthread_mutex_lock(&r->mu);
    if (st->off == st->pending.len && repl_log_wait(0, 0) >= st->from)
        stream_fill(r, st, clock_mono_us()); /* behind: the next batch at once */
    n = (long)(st->pending.len - st->off < max ? st->pending.len - st->off : max);
    if (n > 0) {
        memcpy(out, st->pending.ptr + st->off, (size_t)n);
        st->off += (size_t)n;
    } else if (st->done) {
        n = -1;
    }
    pthread_mutex_unlock(&r->mu);
    return n;
}

/* stream_done - the connection is finished with the stream. */
static void stream_done(void *ud)
{
    struct stream *st = ud;
    struct repl *r = st->r;

    pthread_mutex_lock(&r->mu);
    for (struct stream **ps = &r->streams; *ps; ps = &(*ps)->next)
        if (*ps == st) {
            *ps = st->next;
            break;
        }
    pthread_mutex_unlock(&r->mu);
    buf_free(&st->pending);
    free(st);
}

/* streams_run - queue what each stream has to send and wake its connection;
 * end those whose time is up (all of them when stopping). */
static void streams_run(struct repl *r, uint64_t seen, int64_t now)
{
    pthread_mutex_lock(&r->mu);
    for (struct stream *st = r->streams; st; st = st->next) {
        bool wake = false;

        if (!st->done && (now >= st->deadline_us || atomic_load(&r->stop))) {
            st->done = true;
            wake = true;
        }
        if ((seen >= st->from || now - st->sent_us >= HEARTBEAT_MS * 1000LL) &&
            stream_fill(r, st, now))
            wake = true;
        if (wake)
            http_stream_wake(st->hs);
    }
    pthread_mutex_unlock(&r->mu);
}

struct gc_ctx {
    const char *table;
    struct buf *next; /* in: where to continue (empty: the start); out: the same */
    uint64_t before;
    size_t deleted;
};

static enum err_code gc_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct gc_ctx *g = arg;
    struct buf after;
    struct slice a;
    enum err_code rc;

    buf_init(&after, 0);
    buf_append(&after, g->next->ptr, g->next->len);
    a = slice_of(after.ptr, after.len);
    rc = ddb_repl_gc(t, g->table, after.len ? &a : NULL, GC_SCAN, g->before, &g->deleted, g->next,
                     e);
    buf_free(&after);
    return rc;
}

/* tombstone_gc - delete tombstones older than tombstone_ms that every peer
 * is past (peer_floor, less GC_MARGIN_MS, or tombstone_ms when shorter):
 * an older write still on its way from a peer then meets the tombstone and
 * loses. A peer not heard from since keeps them. GC_SCAN values per table
 * per call, continuing where the last call stopped. */
static void tombstone_gc(struct repl *r)
{
    int64_t margin = tombstone_ms < GC_MARGIN_MS ? tombstone_ms : GC_MARGIN_MS;
    int64_t cut = clock_wall_ms() - tombstone_ms;
    struct buf names;
    cJSON *arr = NULL;
    const cJSON *it;
    struct err e = {0};

    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < r->npeers; i++) {
        int64_t f = r->peers[i].floor ? repl_hlc_ms(r->peers[i].floor) - margin : 0;

        if (f < cut)
            cut = f;
    }
    pthread_mutex_unlock(&r->mu);
    if (cut <= 0)
        return;
    buf_init(&names, 0);
    if (ddb_repl_tables_with(r->store, r->region, &names, &e) == ERR_OK)
        arr = cJSON_ParseWithLength(names.ptr, names.len);
    buf_free(&names);
    cJSON_ArrayForEach(it, arr)
    {
        struct gc_ctx g = {.table = it->valuestring, .before = (uint64_t)cut << 16};
        size_t i;

        for (i = 0; i < r->ngc && strcmp(r->gc[i].table, it->valuestring) != 0; i++)
            ;
        if (i == r->ngc) {
            if (r->ngc == MAX_TABLES)
                continue;
            snprintf(r->gc[i].table, sizeof(r->gc[i].table), "%s", it->valuestring);
            buf_init(&r->gc[i].next, 0);
            r->ngc++;
        }
        g.next = &r->gc[i].next;
        if (store_write(r->store, gc_apply, &g, &e) != ERR_OK) {
            buf_reset(g.next);
            continue;
        }
        if (g.deleted) {
            atomic_fetch_add(&r->gc_total, g.deleted);
            log_info("event=repl_tombstones_collected table=%s count=%zu before_ms=%" PRId64,
                     it->valuestring, g.deleted, cut);
        }
    }
    cJSON_Delete(arr);
}

/* serve_main - answers the waiting long-polls when entries commit or their
 * time is up; trims the log now and then. */
static void *serve_main(void *arg)
{
    struct repl *r = arg;
    int64_t next_trim = clock_mono_us() + (trim_every_ms < 10000 ? trim_every_ms : 10000) * 1000LL;
    uint64_t seen = 0;

    while (!atomic_load(&r->stop)) {
        struct waiter *w;
        int64_t now;
        bool any;

        pthread_mutex_lock(&r->mu);
        any = r->waiters != NULL || r->streams != NULL;
        pthread_mutex_unlock(&r->mu);
        if (!any) {
            sleep_ms(r, 20);
            seen = repl_log_wait(0, 0);
        } else {
            seen = repl_log_wait(seen, 20);
        }
        now = clock_mono_us();
        while ((w = take_ready(r, seen, now))) {
            serve_log(r, w->req, w->from, w->max, true);
            free(w);
        }
        streams_run(r, seen, now);
        if (now >= next_trim) {
            size_t n = 0;
            struct err e = {0};

            next_trim = now + trim_every_ms * 1000LL;
            if (store_write(r->store, trim_apply, &n, &e) == ERR_OK && n)
                log_info("event=repl_log_trimmed entries=%zu", n);
            tombstone_gc(r);
        }
    }
    /* answer whoever is left, end the streams */
    streams_run(r, 0, clock_mono_us());
    for (;;) {
        struct waiter *w;

        pthread_mutex_lock(&r->mu);
        w = r->waiters;
        if (w)
            r->waiters = w->next;
        pthread_mutex_unlock(&r->mu);
        if (!w)
            break;
        serve_log(r, w->req, w->from, w->max, true);
        free(w);
    }
    return NULL;
}

/* stream_start - answer @req with a log stream from @from; false (nothing
 * sent) when @from was trimmed (the caller answers 410 then). */
static bool stream_start(struct repl *r, struct http_req *req, uint64_t from)
{
    struct store_txn *t = NULL;
    struct err e = {0};
    uint64_t first = 0, last = 0;
    struct stream *st;
    char num[32];

    if (store_read_begin(r->store, &t, &e) == ERR_OK)
        repl_log_bounds(t, &first, &last, &e);
    store_txn_abort(t);
    if (last >= from && first > from)
        return false;
    st = xcalloc(1, sizeof(*st));
    st->r = r;
    st->from = from;
    st->deadline_us = clock_mono_us() + STREAM_MS * 1000LL;
    buf_init(&st->pending, 0);
    st->hs = http_stream_new(req, stream_read, stream_done, st);
    pthread_mutex_lock(&r->mu);
    st->next = r->streams;
    r->streams = st;
    st->done = atomic_load(&r->stop); /* serve_main may have ended the others already */
    pthread_mutex_unlock(&r->mu);
    snprintf(num, sizeof(num), "%" PRIu64, first);
    http_resp_header(req, "X-Tandem-Log-First", num);
    http_resp_header(req, "Content-Type", "application/vnd.tandem.log-stream");
    http_respond_stream(req, 200, st->hs);
    return true;
}

static void handle_log(struct repl *r, struct http_req *req)
{
    char v[32];
    uint64_t from = 1;
    size_t max = PULL_MAX;
    int64_t wait_ms = 0;
    struct waiter *w;

    if (query_param(req->query, "from", v, sizeof(v)))
        from = strtoull(v, NULL, 10);
    if (query_param(req->query, "max", v, sizeof(v)))
        max = (size_t)strtoull(v, NULL, 10);
    if (query_param(req->query, "wait_ms", v, sizeof(v)))
        wait_ms = strtoll(v, NULL, 10);
    if (from < 1)
        from = 1;
    if (max < 1 || max > 10000)
        max = PULL_MAX;
    if (wait_ms < 0)
        wait_ms = 0;
    if (wait_ms > 30000)
        wait_ms = 30000;
    if (query_param(req->query, "stream", v, sizeof(v)) && strcmp(v, "1") == 0 &&
        !atomic_load(&r->stop) && stream_start(r, req, from))
        return;
    if (serve_log(r, req, from, max, wait_ms == 0 || atomic_load(&r->stop)))
        return;
    w = xcalloc(1, sizeof(*w));
    w->req = req;
    w->from = from;
    w->max = max;
    w->deadline_us = clock_mono_us() + wait_ms * 1000;
    pthread_mutex_lock(&r->mu);
    if (atomic_load(&r->stop)) { /* the serving thread may be gone: answer now */
        pthread_mutex_unlock(&r->mu);
        free(w);
        serve_log(r, req, from, max, true);
        return;
    }
    w->order = ++r->waiter_order;
    w->next = r->waiters;
    r->waiters = w;
    pthread_mutex_unlock(&r->mu);
}

/* ---- replica management, receiving side ---- */

static void handle_seed(struct repl *r, struct http_req *req)
{
    struct apply_ctx x = {.r = r, .body = req->body.ptr, .len = req->body.len};
    struct err e = {0};
    int64_t t0 = clock_mono_us();
    enum err_code rc = store_write(r->store, batch_apply, &x, &e);
    char *msg;

    log_debug("event=repl_seed_applied bytes=%zu us=%lld", x.len,
              (long long)(clock_mono_us() - t0));

    if (rc) {
        log_warn("event=repl_seed_refused error=\"%s\"", e.msg);
        respond_json_error(req, status_of(rc), "SeedRefused", e.msg);
        return;
    }
    msg = arena_sprintf(req->arena, "{\"Applied\":%zu,\"Conflicts\":%zu}", x.applied, x.conflicts);
    http_respond(req, 200, msg, strlen(msg));
}

/* seed_from - a new replica of @table copies it from snapshots of each of
 * @regions too (every replica but the one that seeded it): a write another
 * replica made before this one existed, which the seeding region had not
 * applied yet, was passed over here as an entry of an unknown table. */
static enum err_code seed_from(struct repl *r, const char *table, const cJSON *regions,
                               struct err *e)
{
    const cJSON *it;

    cJSON_ArrayForEach(it, regions)
    {
        struct peer *p = cJSON_IsString(it) ? peer_find(r, it->valuestring) : NULL;
        size_t pages = 0;
        enum err_code rc;

        if (!p)
            return err_set(e, ERR_INVALID, "SeedFrom: %s is not a peer of this region",
                           cJSON_IsString(it) ? it->valuestring : "(not a string)");
        rc = snapshot_pull(r, p, table, &pages, e);
        if (rc)
            return rc;
        log_info("event=repl_seeded_from table=%s peer=%s pages=%zu", table, p->region, pages);
    }
    return ERR_OK;
}

static void handle_replica(struct repl *r, struct http_req *req)
{
    cJSON *in = cJSON_ParseWithLength(req->body.ptr ? req->body.ptr : "", req->body.len);
    const char *action = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(in, "Action"));
    const cJSON *reps = cJSON_GetObjectItemCaseSensitive(in, "Replicas");
    const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(in, "TableName"));
    struct err e = {0};
    enum err_code rc;

    if (!action) {
        rc = err_set(&e, ERR_INVALID, "Action is required");
    } else if (strcmp(action, "Create") == 0) {
        rc = ddb_repl_table_create(r->ddb, cJSON_GetObjectItemCaseSensitive(in, "Spec"), reps, &e);
    } else if (strcmp(action, "SetReplicas") == 0 && name && cJSON_IsArray(reps)) {
        rc = ddb_repl_table_set_replicas(r->ddb, name, reps, &e);
    } else if (strcmp(action, "Delete") == 0 && name) {
        rc = ddb_repl_table_drop(r->ddb, name, &e);
    } else if (strcmp(action, "ReplicaSettings") == 0 && name) {
        rc = ddb_repl_table_set_settings(
            r->store, name,
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(in, "RegionName")),
            cJSON_GetObjectItemCaseSensitive(in, "Settings"), &e);
    } else if (strcmp(action, "SeedFrom") == 0 && name && cJSON_IsArray(reps)) {
        rc = seed_from(r, name, reps, &e);
    } else {
        rc = err_set(&e, ERR_INVALID, "unknown Action or missing members");
    }
    cJSON_Delete(in);
    if (rc) {
        log_warn("event=repl_replica_refused action=%s error=\"%s\"", action ? action : "-", e.msg);
        respond_json_error(req, status_of(rc),
                           rc == ERR_IN_USE ? "ResourceInUseException" : "ValidationException",
                           e.msg);
        return;
    }
    http_respond(req, 200, "{}", 2);
}

static void handle_snapshot(struct repl *r, struct http_req *req)
{
    char table[REPL_TABLE_MAX + 1], after[1100];
    unsigned char raw[520];
    size_t rawlen = 0;
    struct slice a;
    struct store_txn *t = NULL;
    struct buf b, next;
    struct err e = {0};
    bool has_after;
    enum err_code rc;

    if (!query_param(req->query, "table", table, sizeof(table))) {
        respond_json_error(req, 400, "ValidationException", "table is required");
        return;
    }
    has_after = query_param(req->query, "after", after, sizeof(after));
    if (has_after &&
        (strlen(after) / 2 > sizeof(raw) || !hex_decode(after, strlen(after), raw, &rawlen))) {
        respond_json_error(req, 400, "ValidationException", "bad after");
        return;
    }
    a = slice_of(raw, rawlen);
    buf_init(&b, 0);
    buf_init(&next, 0);
    rc = store_read_durable(r->store, &t, &e);
    if (!rc)
        rc =
            ddb_repl_snapshot(t, table, r->region, has_after ? &a : NULL, SEED_PAGE, &b, &next, &e);
    store_txn_abort(t);
    if (rc) {
        buf_free(&b);
        buf_free(&next);
        respond_json_error(req, status_of(rc), "ValidationException", e.msg);
        return;
    }
    if (next.len) {
        char *hex = arena_alloc(req->arena, next.len * 2 + 1);

        hex_encode(next.ptr, next.len, hex);
        http_resp_header(req, "X-Tandem-Next", hex);
    }
    buf_free(&next);
    http_respond_buf(req, 200, &b);
}

/* digest: 256 buckets by the first byte of SHA-256(key); a bucket's hash is
 * the XOR of SHA-256(key || item hash) of its items, so order does not matter. */
struct digest {
    unsigned char bucket[256][32];
    unsigned counts[256];
    int want; /* -1: all buckets; else list the keys of this bucket */
    struct buf *out;
};

static void digest_item(void *arg, const void *key, size_t key_len, const char hash[65])
{
    struct digest *d = arg;
    char kh[65], mix[65];
    struct buf m;
    unsigned char bin[32] = {0};
    size_t bl = 0;
    int bkt;

    sigv4_sha256_hex(key, key_len, kh);
    hex_decode(kh, 2, bin, &bl);
    bkt = bin[0];
    if (d->want >= 0) {
        char *hex;

        if (bkt != d->want)
            return;
        hex = xmalloc(key_len * 2 + 1);
        hex_encode(key, key_len, hex);
        buf_printf(d->out, "%s %s\n", hex, hash);
        free(hex);
        return;
    }
    buf_init(&m, 0);
    buf_append(&m, key, key_len);
    buf_append(&m, hash, 64);
    sigv4_sha256_hex(m.ptr, m.len, mix);
    buf_free(&m);
    hex_decode(mix, 64, bin, &bl);
    for (int i = 0; i < 32; i++)
        d->bucket[bkt][i] ^= bin[i];
    d->counts[bkt]++;
}

static void handle_digest(struct repl *r, struct http_req *req)
{
    char table[REPL_TABLE_MAX + 1], v[8];
    struct digest *d = xcalloc(1, sizeof(*d));
    struct store_txn *t = NULL;
    struct buf b;
    struct err e = {0};
    enum err_code rc;

    buf_init(&b, 0);
    d->out = &b;
    d->want = -1;
    if (!query_param(req->query, "table", table, sizeof(table))) {
        free(d);
        respond_json_error(req, 400, "ValidationException", "table is required");
        return;
    }
    if (query_param(req->query, "bucket", v, sizeof(v)))
        d->want = (int)strtol(v, NULL, 16) & 0xff;
    rc = store_read_begin(r->store, &t, &e);
    if (!rc)
        rc = ddb_repl_digest(t, table, digest_item, d, &e);
    store_txn_abort(t);
    if (!rc && d->want < 0) {
        for (int i = 0; i < 256; i++) {
            char hex[65];

            hex_encode(d->bucket[i], 32, hex);
            buf_printf(&b, "%02x %u %s\n", i, d->counts[i], hex);
        }
    }
    free(d);
    if (rc) {
        buf_free(&b);
        respond_json_error(req, status_of(rc), "ResourceNotFoundException", e.msg);
        return;
    }
    http_resp_header(req, "Content-Type", "text/plain");
    http_respond_buf(req, 200, &b);
}

void repl_handle(struct repl *r, struct http_req *req)
{
    const char *p = req->path;

    if (strcmp(p, "/_tandem/repl/log") == 0 && strcmp(req->method, "GET") == 0)
        handle_log(r, req);
    else if (strcmp(p, "/_tandem/repl/seed") == 0 && strcmp(req->method, "POST") == 0)
        handle_seed(r, req);
    else if (strcmp(p, "/_tandem/repl/replica") == 0 && strcmp(req->method, "POST") == 0)
        handle_replica(r, req);
    else if (strcmp(p, "/_tandem/repl/snapshot") == 0 && strcmp(req->method, "GET") == 0)
        handle_snapshot(r, req);
    else if (strcmp(p, "/_tandem/repl/digest") == 0 && strcmp(req->method, "GET") == 0)
        handle_digest(r, req);
    else if (strcmp(p, "/_tandem/metrics") == 0)
        repl_metrics(r, req);
    else
        respond_json_error(req, 404, "UnknownOperationException", "no such internal endpoint");
}

/* ---- replica management, the asking side (UpdateTable ReplicaUpdates) ---- */

struct job {
    struct repl *r;
    void *call; /* UpdateTable's call, or NULL */
    char table[REPL_TABLE_MAX + 1];
    cJSON *updates;  /* owned */
    cJSON *replicas; /* owned: for a deletion notice */
};

static bool set_has(const cJSON *set, const char *region)
{
    const cJSON *it;

    cJSON_ArrayForEach(it, set)
    {
        if (cJSON_IsString(it) && strcmp(it->valuestring, region) == 0)
            return true;
    }
    return false;
}

static void set_remove(cJSON *set, const char *region)
{
    int i = 0;
    const cJSON *it;

    cJSON_ArrayForEach(it, set)
    {
        if (cJSON_IsString(it) && strcmp(it->valuestring, region) == 0) {
            cJSON_DeleteItemFromArray(set, i);
            return;
        }
        i++;
    }
}

static enum err_code post_json(struct repl *r, struct peer *p, const char *path, const cJSON *o,
                               struct err *e)
{
    char *text = cJSON_PrintUnformatted(o);
    struct awsc_resp resp;
    enum err_code rc =
        peer_call(r, p->url, p->region, "POST", path, NULL, text, strlen(text), 30000, &resp, e);

    free(text);
    awsc_resp_free(&resp);
    return rc;
}

/* notify_set - tell every member of @set but this region and @skip the new set. */
static void notify_set(struct repl *r, const char *table, const cJSON *set, const char *skip)
{
    const cJSON *it;

    cJSON_ArrayForEach(it, set)
    {
        struct peer *p;
        cJSON *o;
        struct err e = {0};

        if (!cJSON_IsString(it) || strcmp(it->valuestring, r->region) == 0 ||
            (skip && strcmp(it->valuestring, skip) == 0))
            continue;
        p = peer_find(r, it->valuestring);
        if (!p)
            continue;
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "Action", "SetReplicas");
        cJSON_AddStringToObject(o, "TableName", table);
        cJSON_AddItemToObject(o, "Replicas", cJSON_Duplicate(set, 1));
        if (post_json(r, p, "/_tandem/repl/replica", o, &e))
            log_warn("event=repl_notify_failed peer=%s table=%s error=\"%s\"", p->region, table,
                     e.msg);
        cJSON_Delete(o);
    }
}

static enum err_code current_set(struct repl *r, const char *table, cJSON **out, struct err *e)
{
    struct buf b;
    enum err_code rc;

    buf_init(&b, 0);
    rc = ddb_repl_table_replicas(r->store, table, &b, e);
    *out = rc ? NULL : cJSON_ParseWithLength(b.ptr, b.len);
    buf_free(&b);
    if (!rc && !*out)
        rc = err_set(e, ERR_INTERNAL, "corrupt replica set");
    if (!rc && cJSON_GetArraySize(*out) == 0)
        cJSON_AddItemToArray(*out, cJSON_CreateString(r->region));
    return rc;
}

/* seed - send @table's items to @p, page by page, each from a fresh snapshot.
 * Writes made meanwhile are logged and shipped too; LWW makes the order moot. */
static enum err_code seed(struct repl *r, struct peer *p, const char *table, struct err *e)
{
    struct buf b, next;
    struct store_txn *t = NULL;
    size_t pages = 0;
    enum err_code rc = ERR_OK;

    buf_init(&b, 0);
    buf_init(&next, 0);
    for (;;) {
        struct slice after = slice_of(next.ptr, next.len);
        struct awsc_resp resp;
        bool more;

        buf_reset(&b);
        rc = store_read_durable(r->store, &t, e);
        if (!rc)
            rc = ddb_repl_snapshot(t, table, r->region, pages ? &after : NULL, SEED_PAGE, &b, &next,
                                   e);
        store_txn_abort(t);
        t = NULL;
        if (rc)
            break;
        more = next.len > 0;
        log_debug("event=repl_seed_page table=%s peer=%s bytes=%zu", table, p->region, b.len);
        rc = peer_call(r, p->url, p->region, "POST", "/_tandem/repl/seed", NULL, b.ptr, b.len,
                       60000, &resp, e);
        awsc_resp_free(&resp);
        if (rc)
            break;
        pages++;
        if (!more)
            break;
        /* next holds the last key sent; keep it as the start of the next page */
    }
    buf_free(&b);
    buf_free(&next);
    if (!rc)
        log_info("event=repl_seeded table=%s peer=%s pages=%zu", table, p->region, pages);
    return rc;
}

/* seed_others - ask the new replica @p to copy @table from every other
 * replica of @set too (see seed_from). */
static enum err_code seed_others(struct repl *r, struct peer *p, const char *table,
                                 const cJSON *set, struct err *e)
{
    cJSON *o = cJSON_CreateObject(), *from = cJSON_AddArrayToObject(o, "Replicas");
    const cJSON *it;
    enum err_code rc = ERR_OK;

    cJSON_ArrayForEach(it, set)
    {
        if (cJSON_IsString(it) && strcmp(it->valuestring, r->region) != 0 &&
            strcmp(it->valuestring, p->region) != 0)
            cJSON_AddItemToArray(from, cJSON_CreateString(it->valuestring));
    }
    if (cJSON_GetArraySize(from) > 0) {
        char *text;
        struct awsc_resp resp;

        cJSON_AddStringToObject(o, "Action", "SeedFrom");
        cJSON_AddStringToObject(o, "TableName", table);
        text = cJSON_PrintUnformatted(o);
        rc = peer_call(r, p->url, p->region, "POST", "/_tandem/repl/replica", NULL, text,
                       strlen(text), 600000, &resp, e);
        free(text);
        awsc_resp_free(&resp);
    }
    cJSON_Delete(o);
    return rc;
}

/* do_settings - ReplicaUpdates Update (checked by the API): the replica's
 * settings merged here, stored, and sent to every other replica. A replica
 * that cannot be told is logged (event=repl_notify_failed), not waited for. */
static enum err_code do_settings(struct repl *r, const char *table, const cJSON *up, struct err *e)
{
    const char *region = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(up, "RegionName"));
    cJSON *settings = NULL, *set = NULL;
    const cJSON *it;
    enum err_code rc;

    if (!region)
        return err_set(e, ERR_INVALID, "RegionName is required");
    rc = ddb_repl_settings_merge(r->store, table, region, up, &settings, e);
    if (!rc)
        rc = ddb_repl_table_set_settings(r->store, table, region, settings, e);
    if (!rc)
        rc = current_set(r, table, &set, e);
    if (rc) {
        cJSON_Delete(settings);
        cJSON_Delete(set);
        return rc;
    }
    cJSON_ArrayForEach(it, set)
    {
        struct peer *p = cJSON_IsString(it) ? peer_find(r, it->valuestring) : NULL;
        cJSON *o;
        struct err e2 = {0};

        if (!p)
            continue;
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "Action", "ReplicaSettings");
        cJSON_AddStringToObject(o, "TableName", table);
        cJSON_AddStringToObject(o, "RegionName", region);
        cJSON_AddItemToObject(o, "Settings", cJSON_Duplicate(settings, 1));
        if (post_json(r, p, "/_tandem/repl/replica", o, &e2))
            log_warn("event=repl_notify_failed peer=%s table=%s error=\"%s\"", p->region, table,
                     e2.msg);
        cJSON_Delete(o);
    }
    log_info("event=replica_updated table=%s region=%s", table, region);
    cJSON_Delete(settings);
    cJSON_Delete(set);
    return ERR_OK;
}

static enum err_code do_update(struct repl *r, const char *table, const cJSON *u, struct err *e)
{
    const cJSON *cr = cJSON_GetObjectItemCaseSensitive(u, "Create");
    const cJSON *dl = cJSON_GetObjectItemCaseSensitive(u, "Delete");
    const char *region =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cr ? cr : dl, "RegionName"));
    struct peer *p = region ? peer_find(r, region) : NULL;
    cJSON *set = NULL, *o = NULL;
    struct buf spec;
    enum err_code rc;

    if (cJSON_GetObjectItemCaseSensitive(u, "Update"))
        return do_settings(r, table, cJSON_GetObjectItemCaseSensitive(u, "Update"), e);
    buf_init(&spec, 0);
    if (!p)
        return err_set(e, ERR_INVALID,
                       "One or more parameter values were invalid: Region %s is not a peer of "
                       "this region (tandem server --peer %s=URL)",
                       region ? region : "(null)", region ? region : "REGION");
    rc = current_set(r, table, &set, e);
    if (rc)
        goto out;
    if (cr) {
        if (set_has(set, region)) {
            rc = err_set(e, ERR_INVALID,
                         "Failed to create a the new replica of table with name: '%s' because "
                         "one or more replicas already existed as tables.",
                         table);
            goto out;
        }
        cJSON_AddItemToArray(set, cJSON_CreateString(region));
        rc = ddb_repl_table_export(r->store, table, &spec, e);
        if (rc)
            goto out;
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "Action", "Create");
        cJSON_AddItemToObject(o, "Spec", cJSON_ParseWithLength(spec.ptr, spec.len));
        cJSON_AddItemToObject(o, "Replicas", cJSON_Duplicate(set, 1));
        rc = post_json(r, p, "/_tandem/repl/replica", o, e);
        if (rc)
            goto out;
        /* from here on this region logs the table's writes */
        rc = ddb_repl_table_set_replicas(r->ddb, table, set, e);
        if (rc)
            goto out;
        notify_set(r, table, set, region);
        rc = seed(r, p, table, e);
        if (!rc)
            rc = seed_others(r, p, table, set, e);
    } else {
        if (!set_has(set, region)) {
            rc = err_set(e, ERR_INVALID, "Replica does not exist in region %s for table %s", region,
                         table);
            goto out;
        }
        set_remove(set, region);
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "Action", "Delete");
        cJSON_AddStringToObject(o, "TableName", table);
        rc = post_json(r, p, "/_tandem/repl/replica", o, e);
        if (rc == ERR_NOTFOUND)
            rc = ERR_OK;
        if (rc)
            goto out;
        rc = ddb_repl_table_set_replicas(r->ddb, table, set, e);
        if (!rc)
            notify_set(r, table, set, region);
    }
    if (!rc)
        log_info("event=replica_%s table=%s region=%s", cr ? "created" : "deleted", table, region);
out:
    buf_free(&spec);
    cJSON_Delete(set);
    cJSON_Delete(o);
    return rc;
}

static void *job_main(void *arg)
{
    struct job *j = arg;
    struct repl *r = j->r;
    struct err e = {0};
    enum err_code rc = ERR_OK;
    const cJSON *u;

    if (j->call) {
        cJSON_ArrayForEach(u, j->updates)
        {
            rc = do_update(r, j->table, u, &e);
            if (rc)
                break;
        }
        if (rc)
            log_warn("event=replica_update_failed table=%s error=\"%s\"", j->table, e.msg);
        ddb_repl_update_done(j->call, rc == ERR_NOTFOUND ? ERR_INVALID : rc, e.msg);
    } else if (j->replicas) {
        /* this region's replica was deleted: the others drop it from their sets */
        set_remove(j->replicas, r->region);
        notify_set(r, j->table, j->replicas, NULL);
    }
    cJSON_Delete(j->updates);
    cJSON_Delete(j->replicas);
    free(j);
    atomic_fetch_sub(&r->jobs, 1);
    return NULL;
}

static void job_start(struct job *j)
{
    pthread_t th;
    pthread_attr_t at;

    atomic_fetch_add(&j->r->jobs, 1);
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&th, &at, job_main, j) != 0) {
        atomic_fetch_sub(&j->r->jobs, 1);
        if (j->call)
            ddb_repl_update_done(j->call, ERR_IO, "cannot start a thread");
        cJSON_Delete(j->updates);
        cJSON_Delete(j->replicas);
        free(j);
    }
    pthread_attr_destroy(&at);
}

static void hook_updates(void *ud, void *call, const char *table, const cJSON *updates)
{
    struct job *j = xcalloc(1, sizeof(*j));

    j->r = ud;
    j->call = call;
    snprintf(j->table, sizeof(j->table), "%s", table);
    j->updates = cJSON_Duplicate(updates, 1);
    job_start(j);
}

static void hook_deleted(void *ud, const char *table, const char *replicas)
{
    struct job *j = xcalloc(1, sizeof(*j));

    j->r = ud;
    snprintf(j->table, sizeof(j->table), "%s", table);
    j->replicas = cJSON_Parse(replicas);
    job_start(j);
}

/* ---- metrics ---- */

static void label_str(struct buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            buf_putc(b, '\\');
        if (*s == '\n')
            buf_puts(b, "\\n");
        else
            buf_putc(b, *s);
    }
}

void repl_metrics(struct repl *r, struct http_req *req)
{
    struct buf b;
    struct store_txn *t = NULL;
    struct err e = {0};
    uint64_t first = 0, last = 0;

    buf_init(&b, 0);
    if (store_read_begin(r->store, &t, &e) == ERR_OK)
        repl_log_bounds(t, &first, &last, &e);
    store_txn_abort(t);
    buf_printf(&b,
               "# HELP tandem_repl_log_last_seq Last sequence number of this region's log.\n"
               "# TYPE tandem_repl_log_last_seq gauge\n"
               "tandem_repl_log_last_seq{region=\"%s\"} %" PRIu64 "\n"
               "# HELP tandem_repl_tombstones_collected_total Tombstones deleted once old enough "
               "and every peer was past them.\n"
               "# TYPE tandem_repl_tombstones_collected_total counter\n"
               "tandem_repl_tombstones_collected_total %llu\n",
               r->region, last, (unsigned long long)atomic_load(&r->gc_total));
    buf_puts(&b, "# TYPE tandem_repl_peer_up gauge\n# TYPE tandem_repl_lag_ms gauge\n"
                 "# TYPE tandem_repl_backlog_entries gauge\n"
                 "# TYPE tandem_repl_position gauge\n"
                 "# TYPE tandem_repl_errors_total counter\n"
                 "# TYPE tandem_repl_applied_total counter\n"
                 "# TYPE tandem_repl_conflicts_total counter\n"
                 "# TYPE tandem_repl_last_error_info gauge\n"
                 "# HELP tandem_repl_entry_lag_ms Per applied entry: the time from its write in "
                 "the origin region to its apply here.\n"
                 "# TYPE tandem_repl_entry_lag_ms histogram\n");
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < r->npeers; i++) {
        struct peer *p = &r->peers[i];
        uint64_t backlog = p->remote_last > p->pos ? p->remote_last - p->pos : 0;

        buf_printf(&b, "tandem_repl_peer_up{peer=\"%s\"} %d\n", p->region, p->up ? 1 : 0);
        buf_printf(&b, "tandem_repl_lag_ms{peer=\"%s\"} %" PRIu64 "\n", p->region, p->lag_ms);
        buf_printf(&b, "tandem_repl_backlog_entries{peer=\"%s\"} %" PRIu64 "\n", p->region,
                   backlog);
        buf_printf(&b, "tandem_repl_position{peer=\"%s\"} %" PRIu64 "\n", p->region, p->pos);
        buf_printf(&b, "tandem_repl_errors_total{peer=\"%s\"} %" PRIu64 "\n", p->region, p->errors);
        for (size_t j = 0; j < p->ntables; j++) {
            struct table_stat *ts = &p->tables[j];

            buf_printf(&b, "tandem_repl_lag_ms{peer=\"%s\",table=\"", p->region);
            label_str(&b, ts->name);
            buf_printf(&b, "\"} %" PRIu64 "\n", ts->lag_ms);
            buf_printf(&b, "tandem_repl_applied_total{peer=\"%s\",table=\"", p->region);
            label_str(&b, ts->name);
            buf_printf(&b, "\"} %" PRIu64 "\n", ts->applied);
            buf_printf(&b, "tandem_repl_conflicts_total{peer=\"%s\",table=\"", p->region);
            label_str(&b, ts->name);
            buf_printf(&b, "\"} %" PRIu64 "\n", ts->conflicts);
        }
        {
            uint64_t cum = 0;

            for (int k = 0; k < LAG_BUCKETS; k++) {
                cum += p->lag_hist[k];
                if (k < LAG_BUCKETS - 1)
                    buf_printf(&b,
                               "tandem_repl_entry_lag_ms_bucket{peer=\"%s\",le=\"%" PRId64
                               "\"} %" PRIu64 "\n",
                               p->region, lag_bounds[k], cum);
                else
                    buf_printf(&b,
                               "tandem_repl_entry_lag_ms_bucket{peer=\"%s\",le=\"+Inf\"} %" PRIu64
                               "\n",
                               p->region, cum);
            }
            buf_printf(&b, "tandem_repl_entry_lag_ms_sum{peer=\"%s\"} %" PRIu64 "\n", p->region,
                       p->lag_sum_ms);
            buf_printf(&b, "tandem_repl_entry_lag_ms_count{peer=\"%s\"} %" PRIu64 "\n", p->region,
                       cum);
        }
        if (p->last_error[0]) {
            buf_printf(&b, "tandem_repl_last_error_info{peer=\"%s\",error=\"", p->region);
            label_str(&b, p->last_error);
            buf_printf(&b, "\"} %" PRId64 "\n", p->last_error_ms);
        }
    }
    pthread_mutex_unlock(&r->mu);
    http_resp_header(req, "Content-Type", "text/plain; version=0.0.4");
    http_respond_buf(req, 200, &b);
}

/* ---- lifecycle ---- */

enum err_code repl_parse_peer(char *s, struct repl_peer_opt *out, struct err *e)
{
    char *eq = strchr(s, '=');

    if (!eq || eq == s || !eq[1])
        return err_set(e, ERR_INVALID, "--peer must be REGION=URL, got '%s'", s);
    *eq = '\0';
    if (strlen(s) > REPL_REGION_MAX)
        return err_set(e, ERR_INVALID, "--peer region name too long");
    if (strncmp(eq + 1, "http://", 7) != 0 && strncmp(eq + 1, "https://", 8) != 0)
        return err_set(e, ERR_INVALID, "--peer URL must start with http:// or https://");
    if (strlen(eq + 1) >= 500)
        return err_set(e, ERR_INVALID, "--peer URL too long");
    out->region = s;
    out->url = eq + 1;
    return ERR_OK;
}

enum err_code repl_open(const struct repl_opts *o, struct repl **out, struct err *e)
{
    struct repl *r;
    struct store_txn *t = NULL;
    uint64_t first = 0, last = 0;

    if (!o->store || !o->ddb || !o->region || !o->access_key || !o->secret)
        return err_set(e, ERR_INVALID, "repl_open: store, ddb, region and credentials needed");
    r = xcalloc(1, sizeof(*r));
    r->store = o->store;
    r->ddb = o->ddb;
    snprintf(r->region, sizeof(r->region), "%s", o->region);
    r->access_key = xstrdup(o->access_key);
    r->secret = xstrdup(o->secret);
    r->ca_file = o->ca_file ? xstrdup(o->ca_file) : NULL;
    r->creds.access_key = r->access_key;
    r->creds.secret = r->secret;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    r->npeers = o->npeers;
    r->peers = xcalloc(o->npeers ? o->npeers : 1, sizeof(*r->peers));
    for (size_t i = 0; i < o->npeers; i++) {
        struct peer *p = &r->peers[i];

        p->r = r;
        snprintf(p->region, sizeof(p->region), "%s", o->peers[i].region);
        snprintf(p->url, sizeof(p->url), "%s", o->peers[i].url);
        if (strcmp(p->region, r->region) == 0) {
            repl_close(r);
            return err_set(e, ERR_INVALID, "--peer %s names this region", o->peers[i].region);
        }
    }
    if (store_read_begin(r->store, &t, e) == ERR_OK)
        repl_log_bounds(t, &first, &last, e);
    store_txn_abort(t);
    repl_log_committed(last);
    if (getenv("TANDEM_REPL_RETENTION_MS"))
        log_retention_ms = strtoll(getenv("TANDEM_REPL_RETENTION_MS"), NULL, 10);
    if (getenv("TANDEM_REPL_TOMBSTONE_MS"))
        tombstone_ms = strtoll(getenv("TANDEM_REPL_TOMBSTONE_MS"), NULL, 10);
    if (getenv("TANDEM_REPL_TRIM_EVERY_MS"))
        trim_every_ms = strtoll(getenv("TANDEM_REPL_TRIM_EVERY_MS"), NULL, 10);
    if (trim_every_ms < 10)
        trim_every_ms = 10;
    r->hooks = (struct ddb_replicator){
        .ud = r, .replica_updates = hook_updates, .table_deleted = hook_deleted};
    ddb_set_replicator(r->ddb, &r->hooks);
    if (pthread_create(&r->serve_thread, NULL, serve_main, r) != 0) {
        repl_close(r);
        return err_set(e, ERR_IO, "cannot start the replication thread");
    }
    r->serve_started = true;
    for (size_t i = 0; i < r->npeers; i++) {
        struct peer *p = &r->peers[i];

        t = NULL;
        if (store_read_begin(r->store, &t, e) == ERR_OK)
            repl_pos_get(t, p->region, &p->pos, e);
        store_txn_abort(t);
        log_info("event=repl_peer peer=%s url=%s pos=%" PRIu64, p->region, p->url, p->pos);
        if (pthread_create(&p->thread, NULL, pull_main, p) != 0) {
            repl_close(r);
            return err_set(e, ERR_IO, "cannot start a replication thread");
        }
        p->started = true;
    }
    *out = r;
    return ERR_OK;
}

void repl_stop(struct repl *r)
{
    if (!r || r->stopped)
        return;
    r->stopped = true;
    ddb_set_replicator(r->ddb, NULL);
    atomic_store(&r->stop, true);
    pthread_mutex_lock(&r->mu);
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    repl_log_committed(0);
    for (size_t i = 0; i < r->npeers; i++)
        if (r->peers[i].started)
            pthread_join(r->peers[i].thread, NULL);
    if (r->serve_started)
        pthread_join(r->serve_thread, NULL);
    for (int i = 0; i < 600 && atomic_load(&r->jobs) > 0; i++) {
        struct timespec ts = {0, 50 * 1000000L};

        nanosleep(&ts, NULL);
    }
}

void repl_close(struct repl *r)
{
    if (!r)
        return;
    repl_stop(r);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    for (size_t i = 0; i < r->ngc; i++)
        buf_free(&r->gc[i].next);
    free(r->peers);
    free(r->access_key);
    free(r->secret);
    free(r->ca_file);
    free(r);
}
