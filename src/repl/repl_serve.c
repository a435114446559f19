/* repl_serve.c - serving this region's log to peers: long-polled batches
 * and chunked log streams (GET /_tandem/repl/log), answered from one serve
 * thread that also trims the log past its retention and collects tombstones
 * every peer has applied past. */
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
        repl_respond_json_error(req, 410, "LogTrimmed",
                                "the requested position is older than the retained log");
        return true;
    }
    if (!rc && last >= from)
        rc = repl_log_read(t, from, up_to(from, last, max), PULL_MAX_BYTES, &b, &count, &lastseq,
                           &e);
    store_txn_abort(t);
    if (rc) {
        buf_free(&b);
        repl_respond_json_error(req, 500, "InternalError", e.msg);
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

    return repl_log_trim(t, clock_wall_ms() - repl_log_retention_ms, 10000, n, e);
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

/* tombstone_gc - delete tombstones older than repl_tombstone_ms that every peer
 * is past (peer_floor, less GC_MARGIN_MS, or repl_tombstone_ms when shorter):
 * an older write still on its way from a peer then meets the tombstone and
 * loses. A peer not heard from since keeps them. GC_SCAN values per table
 * per call, continuing where the last call stopped. */
static void tombstone_gc(struct repl *r)
{
    int64_t margin = repl_tombstone_ms < GC_MARGIN_MS ? repl_tombstone_ms : GC_MARGIN_MS;
    int64_t cut = clock_wall_ms() - repl_tombstone_ms;
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

/* repl_serve_main - answers the waiting long-polls when entries commit or their
 * time is up; trims the log now and then. */
void *repl_serve_main(void *arg)
{
    struct repl *r = arg;
    int64_t next_trim =
        clock_mono_us() + (repl_trim_every_ms < 10000 ? repl_trim_every_ms : 10000) * 1000LL;
    uint64_t seen = 0;

    while (!atomic_load(&r->stop)) {
        struct waiter *w;
        int64_t now;
        bool any;

        pthread_mutex_lock(&r->mu);
        any = r->waiters != NULL || r->streams != NULL;
        pthread_mutex_unlock(&r->mu);
        if (!any) {
            repl_sleep_ms(r, 20);
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

            next_trim = now + repl_trim_every_ms * 1000LL;
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
    st->hs = http_stream_new(stream_read, stream_done, st);
    pthread_mutex_lock(&r->mu);
    st->next = r->streams;
    r->streams = st;
    st->done = atomic_load(&r->stop); /* repl_serve_main may have ended the others already */
    pthread_mutex_unlock(&r->mu);
    snprintf(num, sizeof(num), "%" PRIu64, first);
    http_resp_header(req, "X-Tandem-Log-First", num);
    http_resp_header(req, "Content-Type", "application/vnd.tandem.log-stream");
    http_respond_stream(req, 200, st->hs);
    return true;
}

void repl_handle_log(struct repl *r, struct http_req *req)
{
    char v[32];
    uint64_t from = 1;
    size_t max = PULL_MAX;
    int64_t wait_ms = 0;
    struct waiter *w;

    if (repl_query_param(req->query, "from", v, sizeof(v)))
        from = strtoull(v, NULL, 10);
    if (repl_query_param(req->query, "max", v, sizeof(v)))
        max = (size_t)strtoull(v, NULL, 10);
    if (repl_query_param(req->query, "wait_ms", v, sizeof(v)))
        wait_ms = strtoll(v, NULL, 10);
    if (from < 1)
        from = 1;
    if (max < 1 || max > 10000)
        max = PULL_MAX;
    if (wait_ms < 0)
        wait_ms = 0;
    if (wait_ms > 30000)
        wait_ms = 30000;
    if (repl_query_param(req->query, "stream", v, sizeof(v)) && strcmp(v, "1") == 0 &&
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
