/* notify_send.c - S3's event records (eventVersion 2.1) and their delivery.
 *
 * notify.c records each event a write selects in the write's own commit
 * ('N' seq -> {"arn", "ev", "n", "at"}, s3_int.h). One worker thread
 * (worker.h) reads the pending entries that are on disk and hands each to
 * the invoker (up to NOTIFY_INFLIGHT at once), which queues it as its
 * function's asynchronous invocation (src/server/s3_fn_hook.c: the function's
 * own queue then retries it and sends it to destinations, as Lambda does);
 * each hand-over that ends wakes the worker, and it settles those that ended
 * (removes the delivered entries, reschedules the failed) in one commit.
 * A failed hand-over (no such function, a full queue) is tried again after
 * NOTIFY_BACKOFF_MS, doubled each time, NOTIFY_TRIES times in all, then
 * dropped and logged (event=s3_notify_dropped). Delivery is at least once:
 * an entry goes only after its hand-over ended, so a crash or stop in between
 * hands it over again. No S3 request ever waits on a function. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "codec.h"
#include "log.h"
#include "mem.h"
#include "s3_int.h"
#include "worker.h"

#define NOTIFY_INFLIGHT   16
#define NOTIFY_TRIES      3
#define NOTIFY_BACKOFF_MS 1000
#define NOTIFY_IDLE_MS    5000 /* look again this often when nothing wakes the worker */

/* An invocation in flight, or ended and not yet settled. */
struct item {
    struct item *next;
    struct hub *h;
    unsigned char key[9];
    char *arn, *ev; /* owned */
    int n;          /* attempts made before this one */
    bool done, ok;
};

/* What the worker shares with the invocations' ends; outlives the notifier
 * while invocations are in flight. */
struct hub {
    pthread_mutex_t mu;
    int refs;           /* the notifier's and one per invocation not yet ended */
    struct worker *w;   /* woken when an invocation ends; NULL once stopping */
    struct item *items; /* in flight or ended, not yet settled */
    int count;
};

struct s3_notifier {
    struct s3 *s3;
    struct s3_invoker inv;
    struct worker *w;
    struct hub *hub;
};

/* ---- the event record ---- */

/* key_encoded - @key as S3's events carry it: URL-encoded, '/' kept, a
 * space as '+' (arena) */
static char *key_encoded(struct arena *a, const char *key)
{
    char *s = url_encode(a, key, true), *o = s;

    for (const char *p = s; *p; p++) {
        if (strncmp(p, "%20", 3) == 0) {
            *o++ = '+';
            p += 2;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return s;
}

static char *event_json(struct arena *a, const struct s3_event_args *x)
{
    cJSON *root = cJSON_CreateObject(), *rec = cJSON_CreateObject(), *o, *s3, *b, *obj;
    char when[32], id2[80], seq[20], *out, *txt;
    unsigned char rnd[24];
    const char *etag;
    int64_t now = clock_wall_ms();

    cJSON_AddItemToArray(cJSON_AddArrayToObject(root, "Records"), rec);
    cJSON_AddStringToObject(rec, "eventVersion", "2.1");
    cJSON_AddStringToObject(rec, "eventSource", "aws:s3");
    cJSON_AddStringToObject(rec, "awsRegion", x->region);
    s3_time_iso(now, when);
    snprintf(when + 20, sizeof(when) - 20, "%03dZ", (int)(now % 1000)); /* to the millisecond */
    cJSON_AddStringToObject(rec, "eventTime", when);
    cJSON_AddStringToObject(rec, "eventName", x->name);
    o = cJSON_AddObjectToObject(rec, "userIdentity");
    cJSON_AddStringToObject(
        o, "principalId",
        !x->who ? "Anonymous"
        : x->who->root
            ? x->who->account
            : arena_sprintf(a, "AWS:%s", x->who->user[0] ? x->who->user : x->who->access_key));
    o = cJSON_AddObjectToObject(rec, "requestParameters");
    cJSON_AddStringToObject(o, "sourceIPAddress", x->ip ? x->ip : "127.0.0.1");
    o = cJSON_AddObjectToObject(rec, "responseElements");
    cJSON_AddStringToObject(o, "x-amz-request-id", x->request_id);
    for (int i = 0; i < 3; i++) {
        uint64_t v = s3_id_rand();
        memcpy(rnd + 8 * i, &v, sizeof(v));
    }
    base64_encode(rnd, sizeof(rnd), id2);
    cJSON_AddStringToObject(o, "x-amz-id-2", id2);
    s3 = cJSON_AddObjectToObject(rec, "s3");
    cJSON_AddStringToObject(s3, "s3SchemaVersion", "1.0");
    cJSON_AddStringToObject(s3, "configurationId", x->config_id);
    b = cJSON_AddObjectToObject(s3, "bucket");
    cJSON_AddStringToObject(b, "name", x->bucket);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(b, "ownerIdentity"), "principalId", x->account);
    cJSON_AddStringToObject(b, "arn", arena_sprintf(a, "arn:aws:s3:::%s", x->bucket));
    obj = cJSON_AddObjectToObject(s3, "object");
    cJSON_AddStringToObject(obj, "key", key_encoded(a, x->key));
    if (x->version) {
        cJSON_AddNumberToObject(obj, "size", json_num_ci(x->version, "size"));
        etag = json_str_ci(x->version, "etag");
        if (etag && *etag == '"')
            etag = arena_sprintf(a, "%.*s", (int)strlen(etag) - 2, etag + 1);
        cJSON_AddStringToObject(obj, "eTag", etag ? etag : "");
    }
    if (x->vid && strcmp(x->vid, "null") != 0)
        cJSON_AddStringToObject(obj, "versionId", x->vid);
    snprintf(seq, sizeof(seq), "%016llX", (unsigned long long)x->seq);
    cJSON_AddStringToObject(obj, "sequencer", seq);
    txt = cJSON_PrintUnformatted(root);
    out = arena_strdup(a, txt);
    free(txt);
    cJSON_Delete(root);
    return out;
}

static enum err_code put_entry(struct store_txn *t, struct slice k, const char *arn, const char *ev,
                               int n, int64_t at, struct err *e)
{
    cJSON *j = cJSON_CreateObject();
    enum err_code rc;
    char *s;

    cJSON_AddStringToObject(j, "arn", arn);
    cJSON_AddStringToObject(j, "ev", ev);
    cJSON_AddNumberToObject(j, "n", n);
    cJSON_AddNumberToObject(j, "at", (double)at);
    s = cJSON_PrintUnformatted(j);
    rc = store_put(t, STORE_DB_S3, k, slice_str(s), e);
    free(s);
    cJSON_Delete(j);
    return rc;
}

enum err_code s3_notify_queue(struct store_txn *t, const char *arn, const struct s3_event_args *a,
                              struct err *e)
{
    struct arena *ar = arena_new();
    enum err_code rc = put_entry(t, s3_key_seq(ar, 'N', a->seq), arn, event_json(ar, a), 0, 0, e);

    arena_free(ar);
    return rc;
}

/* ---- delivery ---- */

static void item_free(struct item *it)
{
    free(it->arn);
    free(it->ev);
    free(it);
}

static void hub_unref(struct hub *h)
{
    bool last;

    pthread_mutex_lock(&h->mu);
    last = --h->refs == 0;
    pthread_mutex_unlock(&h->mu);
    if (!last)
        return;
    while (h->items) {
        struct item *it = h->items;
        h->items = it->next;
        item_free(it);
    }
    pthread_mutex_destroy(&h->mu);
    free(h);
}

static void call_done(void *arg, bool ok)
{
    struct item *it = arg;
    struct hub *h = it->h;

    pthread_mutex_lock(&h->mu);
    it->done = true;
    it->ok = ok;
    worker_kick(h->w); /* under the lock: a stop clears it before freeing the worker */
    pthread_mutex_unlock(&h->mu);
    hub_unref(h);
}

struct settle {
    struct item *ended;
};

static enum err_code settle_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct settle *st = arg;
    int64_t now = clock_wall_ms();
    enum err_code rc = ERR_OK;

    for (struct item *it = st->ended; it && rc == ERR_OK; it = it->next) {
        struct slice k = slice_of(it->key, 9);
        if (it->ok || it->n + 1 >= NOTIFY_TRIES) {
            if (!it->ok)
                log_warn("event=s3_notify_dropped function=%s tries=%d", it->arn, it->n + 1);
            rc = store_del(t, STORE_DB_S3, k, e);
            if (rc == ERR_NOTFOUND)
                rc = ERR_OK;
        } else {
            rc = put_entry(t, k, it->arn, it->ev, it->n + 1,
                           now + ((int64_t)NOTIFY_BACKOFF_MS << it->n), e);
        }
    }
    return rc;
}

/* settle - the invocations that ended: delivered entries removed, failed ones
 * rescheduled (or dropped), in one commit */
static void settle(struct s3_notifier *n)
{
    struct hub *h = n->hub;
    struct settle st = {NULL};
    struct item **pp;
    struct err e = {0};

    pthread_mutex_lock(&h->mu);
    for (pp = &h->items; *pp;) {
        struct item *it = *pp;
        if (it->done) {
            *pp = it->next;
            it->next = st.ended;
            st.ended = it;
            h->count--;
        } else {
            pp = &it->next;
        }
    }
    pthread_mutex_unlock(&h->mu);
    if (st.ended && store_write(n->s3->store, settle_apply, &st, &e))
        log_err("event=s3_notify_settle_failed error=%s msg=\"%s\"", err_name(e.code), e.msg);
    while (st.ended) { /* a failed commit leaves them pending: tried again later */
        struct item *it = st.ended;
        st.ended = it->next;
        item_free(it);
    }
}

static bool in_flight(struct hub *h, const void *key)
{
    for (struct item *it = h->items; it; it = it->next)
        if (memcmp(it->key, key, 9) == 0)
            return true;
    return false;
}

/* start - the due entries not in flight, as new items (at most @room), into
 * *@out; returns the ms until the next entry not yet due (NOTIFY_IDLE_MS at
 * most; 0 when more are due than there was room for) */
static int64_t start(struct s3_notifier *n, int room, struct item **out)
{
    struct store_txn *t = NULL;
    struct store_cursor *c = NULL;
    struct slice k, v;
    struct err e = {0};
    int64_t now = clock_wall_ms(), next = NOTIFY_IDLE_MS;
    enum err_code rc;

    if (store_read_durable(n->s3->store, &t, &e) || store_cursor_open(t, STORE_DB_S3, &c, &e)) {
        store_txn_abort(t);
        return NOTIFY_IDLE_MS;
    }
    pthread_mutex_lock(&n->hub->mu);
    for (rc = store_cursor_seek(c, slice_str("N"), &k, &v, &e);
         rc == ERR_OK && k.len == 9 && ((const char *)k.ptr)[0] == 'N';
         rc = store_cursor_next(c, &k, &v, &e)) {
        cJSON *j;
        int64_t at;
        const char *arn, *ev;
        if (in_flight(n->hub, k.ptr))
            continue;
        j = cJSON_ParseWithLength(v.ptr, v.len);
        at = (int64_t)json_num_ci(j, "at");
        arn = json_str_ci(j, "arn");
        ev = json_str_ci(j, "ev");
        if (at > now) {
            if (at - now < next)
                next = at - now;
        } else if (arn && ev && room == 0) {
            next = 0;
        } else if (arn && ev) {
            struct item *it = xcalloc(1, sizeof(*it));
            memcpy(it->key, k.ptr, 9);
            it->h = n->hub;
            it->arn = xstrdup(arn);
            it->ev = xstrdup(ev);
            it->n = (int)json_num_ci(j, "n");
            it->next = *out;
            *out = it;
            room--;
        }
        cJSON_Delete(j);
        if (next == 0)
            break;
    }
    pthread_mutex_unlock(&n->hub->mu);
    store_cursor_close(c);
    store_txn_abort(t);
    return next;
}

/* round - settle what ended, start what is due; the ms to sleep before the
 * next round unless an invocation's end or a write wakes the worker */
static int64_t round_(struct s3_notifier *n)
{
    struct hub *h = n->hub;
    struct item *fresh = NULL;
    int room;
    int64_t next;

    settle(n);
    pthread_mutex_lock(&h->mu);
    room = NOTIFY_INFLIGHT - h->count;
    pthread_mutex_unlock(&h->mu);
    next = start(n, room, &fresh);
    while (fresh) {
        struct item *it = fresh;
        fresh = it->next;
        pthread_mutex_lock(&h->mu);
        it->next = h->items;
        h->items = it;
        h->count++;
        h->refs++;
        pthread_mutex_unlock(&h->mu);
        if (!n->inv.invoke(n->inv.ud, it->arn, it->ev, strlen(it->ev), call_done, it))
            call_done(it, false);
    }
    /* more due than room: an invocation's end wakes the worker for them */
    return next == 0 ? NOTIFY_IDLE_MS : next;
}

static void run(struct worker *w, void *arg)
{
    struct s3_notifier *n = arg;
    int64_t wait = 0;

    while (worker_wait(w, wait)) {
        atomic_store(&n->s3->ntf_fresh, false);
        wait = round_(n);
    }
}

const struct s3_invoker *s3_notify_invoker(struct s3 *s)
{
    return s->notifier ? &s->notifier->inv : NULL;
}

void s3_notify_kick(struct s3 *s)
{
    if (s->notifier && atomic_exchange(&s->ntf_fresh, false))
        worker_kick(s->notifier->w);
}

void s3_notify_stop(struct s3 *s)
{
    struct s3_notifier *n = s->notifier;

    if (!n)
        return;
    pthread_mutex_lock(&n->hub->mu);
    n->hub->w = NULL; /* invocations ending from now on wake nobody */
    pthread_mutex_unlock(&n->hub->mu);
    worker_stop(n->w);
    /* what is in flight or ended unsettled stays pending: delivered again */
    hub_unref(n->hub);
    free(n);
    s->notifier = NULL;
}

void s3_set_invoker(struct s3 *s, const struct s3_invoker *inv)
{
    struct s3_notifier *n;

    s3_notify_stop(s);
    if (!inv)
        return;
    n = xcalloc(1, sizeof(*n));
    n->s3 = s;
    n->inv = *inv;
    n->hub = xcalloc(1, sizeof(*n->hub));
    pthread_mutex_init(&n->hub->mu, NULL);
    n->hub->refs = 1;
    pthread_mutex_lock(&n->hub->mu);
    n->w = worker_start(run, n);
    n->hub->w = n->w;
    pthread_mutex_unlock(&n->hub->mu);
    if (!n->w) {
        log_err("event=s3_notify_start_failed");
        hub_unref(n->hub);
        free(n);
        return;
    }
    s->notifier = n;
}
