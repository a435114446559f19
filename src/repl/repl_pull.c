/* repl_pull.c - pulling a peer's log and applying it: one puller thread per
 * peer streams the peer's log (GET /_tandem/repl/log?stream=1) and an applier
 * thread applies what has arrived last-writer-wins, recording the new
 * position in the same store apply; plus the snapshot copy used to resync
 * after the peer trimmed its log, and to seed a new replica. */
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
#include "log.h"
#include "mem.h"
#include "rlog.h"
#include "sigv4.h"
#include "url.h"

/* ---- applying batches ---- */

static uint64_t get_be(const unsigned char *q, int n)
{
    uint64_t v = 0;

    for (int i = 0; i < n; i++)
        v = v << 8 | q[i];
    return v;
}

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
    struct ddb_repl_batch *b;
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
    rc = ddb_repl_apply(at->b, en, &res, e);
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
        x->lag_hist[repl_lag_bucket(lag)]++;
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

enum err_code repl_apply_batch(struct store_txn *t, void *arg, struct err *e)
{
    struct apply_ctx *x = arg;
    struct apply_txn at = {.b = ddb_repl_batch_begin(t), .x = x};
    size_t n;
    enum err_code rc, rc2;

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
    rc2 = ddb_repl_batch_end(at.b, rc == ERR_OK, e);
    if (!rc)
        rc = rc2;
    /* the position commits with the entries it covers */
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

/* repl_snapshot_pull - copy @table from snapshots of @p (pages of SEED_PAGE,
 * tombstones included), applied last-writer-wins; @pages (NULL ok) counts the
 * pages. A table @p no longer has is skipped. */
enum err_code repl_snapshot_pull(struct repl *r, struct peer *p, const char *table, size_t *pages,
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
        rc = repl_peer_call(r, p->url, p->region, "GET", "/_tandem/repl/snapshot", query, NULL, 0,
                            60000, &resp, e);
        if (rc == ERR_NOTFOUND) { /* the peer has no such table any more */
            awsc_resp_free(&resp);
            return ERR_OK;
        }
        if (!rc) {
            memset(&x, 0, sizeof(x));
            x.r = r;
            x.body = resp.body.ptr;
            x.len = resp.body.len;
            rc = store_write(r->store, repl_apply_batch, &x, e);
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
        rc = repl_snapshot_pull(r, p, it->valuestring, &pages, e);
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
            rc = store_write(p->r->store, repl_apply_batch, &x, &e);
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

/* repl_pull_main - a peer's puller: streams the peer's log from the position
 * applied here (GET repl/log?stream=1), the applier applying each batch as it
 * arrives, so an entry is applied about one network delay after it commits;
 * when a stream ends it asks again from where it is. */
void *repl_pull_main(void *arg)
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
            repl_sleep_ms(r, backoff);
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
