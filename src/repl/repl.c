/* repl.c - see repl.h: the region's replication runtime, its lifecycle
 * (repl_open/stop/close), the internal endpoints' dispatch, the metrics, and
 * the small helpers the other parts share (repl_int.h). Pulling and applying
 * a peer's log is in repl_pull.c, serving this region's log in repl_serve.c,
 * replica management in repl_replica.c. */
#include "repl_int.h"

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
#include "jobs.h"
#include "log.h"
#include "mem.h"
#include "rlog.h"
#include "sigv4.h"
#include "url.h"

/* Log retention and how often to trim; $TANDEM_REPL_RETENTION_MS and
 * $TANDEM_REPL_TRIM_EVERY_MS override them (tests of the resync path). */
int64_t repl_log_retention_ms = 24LL * 3600 * 1000;
int64_t repl_trim_every_ms = TRIM_EVERY_MS;
/* Tombstones are kept at least this long, and until every peer's log is
 * applied past them with this margin (for writes stamped but not yet
 * committed when a peer sent its floor); $TANDEM_REPL_TOMBSTONE_MS. */
int64_t repl_tombstone_ms = 24LL * 3600 * 1000;

/* upper bounds (ms) of the per-entry lag histogram; the last bucket is +Inf */
static const int64_t lag_bounds[] = {1,  2,  3,  5,   7,   10,  15,  20,  30,   40,   50,  55,
                                     60, 65, 75, 100, 150, 200, 300, 500, 1000, 2000, 5000};
_Static_assert(sizeof(lag_bounds) / sizeof(lag_bounds[0]) + 1 == LAG_BUCKETS, "LAG_BUCKETS");

int repl_lag_bucket(int64_t ms)
{
    int i = 0;

    while (i < LAG_BUCKETS - 1 && ms > lag_bounds[i])
        i++;
    return i;
}

void repl_sleep_ms(struct repl *r, int64_t ms)
{
    struct timespec ts = clock_deadline_ms(ms);

    pthread_mutex_lock(&r->mu);
    while (!atomic_load(&r->stop))
        if (pthread_cond_timedwait(&r->cv, &r->mu, &ts) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&r->mu);
}

struct peer *repl_peer_find(struct repl *r, const char *region)
{
    for (size_t i = 0; i < r->npeers; i++)
        if (strcmp(r->peers[i].region, region) == 0)
            return &r->peers[i];
    return NULL;
}

/* repl_query_param - the value of @name in query @q, copied into @out; false if absent. */
bool repl_query_param(const char *q, const char *name, char *out, size_t cap)
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

void repl_respond_json_error(struct http_req *req, int status, const char *type, const char *msg)
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

int repl_status_of(enum err_code rc)
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

/* repl_peer_call - a signed call to @p's internal endpoint. */
enum err_code repl_peer_call(struct repl *r, const char *url, const char *region,
                             const char *method, const char *path, const char *query,
                             const void *body, size_t len, long timeout_ms, struct awsc_resp *resp,
                             struct err *e)
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

/* repl_hex_decode - @n hex digits into @out; false when odd or not hex. */
bool repl_hex_decode(const char *s, size_t n, unsigned char *out, size_t *outlen)
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

void repl_handle(struct repl *r, struct http_req *req)
{
    const char *p = req->path;

    if (strcmp(p, "/_tandem/repl/log") == 0 && strcmp(req->method, "GET") == 0)
        repl_handle_log(r, req);
    else if (strcmp(p, "/_tandem/repl/seed") == 0 && strcmp(req->method, "POST") == 0)
        repl_handle_seed(r, req);
    else if (strcmp(p, "/_tandem/repl/replica") == 0 && strcmp(req->method, "POST") == 0)
        repl_handle_replica(r, req);
    else if (strcmp(p, "/_tandem/repl/snapshot") == 0 && strcmp(req->method, "GET") == 0)
        repl_handle_snapshot(r, req);
    else if (strcmp(p, "/_tandem/repl/digest") == 0 && strcmp(req->method, "GET") == 0)
        repl_handle_digest(r, req);
    else
        repl_respond_json_error(req, 404, "UnknownOperationException", "no such internal endpoint");
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

void repl_metrics(struct repl *r, struct buf *b)
{
    struct store_txn *t = NULL;
    struct err e = {0};
    uint64_t first = 0, last = 0;

    if (store_read_begin(r->store, &t, &e) == ERR_OK)
        repl_log_bounds(t, &first, &last, &e);
    store_txn_abort(t);
    buf_printf(b,
               "# HELP tandem_repl_log_last_seq Last sequence number of this region's log.\n"
               "# TYPE tandem_repl_log_last_seq gauge\n"
               "tandem_repl_log_last_seq{region=\"%s\"} %" PRIu64 "\n"
               "# HELP tandem_repl_tombstones_collected_total Tombstones deleted once old enough "
               "and every peer was past them.\n"
               "# TYPE tandem_repl_tombstones_collected_total counter\n"
               "tandem_repl_tombstones_collected_total %llu\n",
               r->region, last, (unsigned long long)atomic_load(&r->gc_total));
    buf_puts(b, "# TYPE tandem_repl_peer_up gauge\n# TYPE tandem_repl_lag_ms gauge\n"
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

        buf_printf(b, "tandem_repl_peer_up{peer=\"%s\"} %d\n", p->region, p->up ? 1 : 0);
        buf_printf(b, "tandem_repl_lag_ms{peer=\"%s\"} %" PRIu64 "\n", p->region, p->lag_ms);
        buf_printf(b, "tandem_repl_backlog_entries{peer=\"%s\"} %" PRIu64 "\n", p->region, backlog);
        buf_printf(b, "tandem_repl_position{peer=\"%s\"} %" PRIu64 "\n", p->region, p->pos);
        buf_printf(b, "tandem_repl_errors_total{peer=\"%s\"} %" PRIu64 "\n", p->region, p->errors);
        for (size_t j = 0; j < p->ntables; j++) {
            struct table_stat *ts = &p->tables[j];

            buf_printf(b, "tandem_repl_lag_ms{peer=\"%s\",table=\"", p->region);
            label_str(b, ts->name);
            buf_printf(b, "\"} %" PRIu64 "\n", ts->lag_ms);
            buf_printf(b, "tandem_repl_applied_total{peer=\"%s\",table=\"", p->region);
            label_str(b, ts->name);
            buf_printf(b, "\"} %" PRIu64 "\n", ts->applied);
            buf_printf(b, "tandem_repl_conflicts_total{peer=\"%s\",table=\"", p->region);
            label_str(b, ts->name);
            buf_printf(b, "\"} %" PRIu64 "\n", ts->conflicts);
        }
        {
            uint64_t cum = 0;

            for (int k = 0; k < LAG_BUCKETS; k++) {
                cum += p->lag_hist[k];
                if (k < LAG_BUCKETS - 1)
                    buf_printf(b,
                               "tandem_repl_entry_lag_ms_bucket{peer=\"%s\",le=\"%" PRId64
                               "\"} %" PRIu64 "\n",
                               p->region, lag_bounds[k], cum);
                else
                    buf_printf(
                        b, "tandem_repl_entry_lag_ms_bucket{peer=\"%s\",le=\"+Inf\"} %" PRIu64 "\n",
                        p->region, cum);
            }
            buf_printf(b, "tandem_repl_entry_lag_ms_sum{peer=\"%s\"} %" PRIu64 "\n", p->region,
                       p->lag_sum_ms);
            buf_printf(b, "tandem_repl_entry_lag_ms_count{peer=\"%s\"} %" PRIu64 "\n", p->region,
                       cum);
        }
        if (p->last_error[0]) {
            buf_printf(b, "tandem_repl_last_error_info{peer=\"%s\",error=\"", p->region);
            label_str(b, p->last_error);
            buf_printf(b, "\"} %" PRId64 "\n", p->last_error_ms);
        }
    }
    pthread_mutex_unlock(&r->mu);
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
    r->jobs = jobs_new("repl-replica", 4, 64);
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
        repl_log_retention_ms = strtoll(getenv("TANDEM_REPL_RETENTION_MS"), NULL, 10);
    if (getenv("TANDEM_REPL_TOMBSTONE_MS"))
        repl_tombstone_ms = strtoll(getenv("TANDEM_REPL_TOMBSTONE_MS"), NULL, 10);
    if (getenv("TANDEM_REPL_TRIM_EVERY_MS"))
        repl_trim_every_ms = strtoll(getenv("TANDEM_REPL_TRIM_EVERY_MS"), NULL, 10);
    if (repl_trim_every_ms < 10)
        repl_trim_every_ms = 10;
    r->hooks = (struct ddb_replicator){
        .ud = r, .replica_updates = repl_hook_updates, .table_deleted = repl_hook_deleted};
    ddb_set_replicator(r->ddb, &r->hooks);
    if (pthread_create(&r->serve_thread, NULL, repl_serve_main, r) != 0) {
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
        if (pthread_create(&p->thread, NULL, repl_pull_main, p) != 0) {
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
    /* a seed under way stops at its next page; a call to a peer that does
     * not answer is given 30 s */
    if (!jobs_drain_ms(r->jobs, 30000))
        log_warn("event=repl_stop_jobs_left pending=%u", jobs_pending(r->jobs));
}

void repl_close(struct repl *r)
{
    if (!r)
        return;
    repl_stop(r);
    if (jobs_pending(r->jobs))
        return; /* still used by a job: the process is ending, let it be */
    jobs_free(r->jobs);
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
