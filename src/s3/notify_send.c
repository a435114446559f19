/* notify_send.c - S3's event records (eventVersion 2.1) and their delivery.
 *
 * notify.c records each event a write selects in the write's own commit
 * ('N' seq -> {"arn", "ev", "n", "at"}, s3_int.h). One worker thread
 * (worker.h) reads the pending entries that are on disk, invokes their
 * functions asynchronously (Event invocations, up to NOTIFY_BATCH at once),
 * waits for them to finish, then removes the delivered entries in one commit.
 * A failed invocation (the function failed, timed out, or cannot run) is
 * tried again after NOTIFY_BACKOFF_MS, doubled each time, NOTIFY_TRIES times
 * in all (one attempt and two retries, as Lambda's asynchronous invocations),
 * then dropped and logged (event=s3_notify_dropped). Delivery is at least
 * once: an entry goes only after its function finished, so a crash or stop
 * in between delivers it again. No S3 request ever waits on a function. */
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

#define NOTIFY_BATCH      16
#define NOTIFY_TRIES      3
#define NOTIFY_BACKOFF_MS 1000
#define NOTIFY_IDLE_MS    5000 /* look again this often when nothing wakes the worker */
#define NOTIFY_POLL_MS    200  /* how often a wait for functions checks for a stop */

struct s3_notifier {
    struct s3 *s3;
    struct s3_invoker inv;
    struct worker *w;
    atomic_bool fresh; /* a commit may have recorded events since the worker looked */
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

struct item {
    unsigned char key[9];
    char *arn, *ev; /* owned */
    int n;
    bool done, ok;
};

struct batch {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int refs;    /* the worker's and one per invocation not yet finished */
    int waiting; /* invocations not yet finished */
    int count;
    struct item items[NOTIFY_BATCH];
};

struct call {
    struct batch *b;
    int i;
};

static void batch_unref(struct batch *b)
{
    bool last;

    pthread_mutex_lock(&b->mu);
    last = --b->refs == 0;
    pthread_mutex_unlock(&b->mu);
    if (!last)
        return;
    for (int i = 0; i < b->count; i++) {
        free(b->items[i].arn);
        free(b->items[i].ev);
    }
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->cv);
    free(b);
}

static void call_done(void *arg, bool ok)
{
    struct call *c = arg;
    struct batch *b = c->b;

    pthread_mutex_lock(&b->mu);
    b->items[c->i].done = true;
    b->items[c->i].ok = ok;
    b->waiting--;
    pthread_cond_signal(&b->cv);
    pthread_mutex_unlock(&b->mu);
    free(c);
    batch_unref(b);
}

/* load - the due entries (at most NOTIFY_BATCH) into @b; returns the ms until
 * the next entry not yet due (NOTIFY_IDLE_MS at most) */
static int64_t load(struct s3_notifier *n, struct batch *b)
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
    for (rc = store_cursor_seek(c, slice_str("N"), &k, &v, &e);
         rc == ERR_OK && k.len == 9 && ((const char *)k.ptr)[0] == 'N' && b->count < NOTIFY_BATCH;
         rc = store_cursor_next(c, &k, &v, &e)) {
        cJSON *j = cJSON_ParseWithLength(v.ptr, v.len);
        int64_t at = (int64_t)json_num_ci(j, "at");
        const char *arn = json_str_ci(j, "arn"), *ev = json_str_ci(j, "ev");
        if (at > now) {
            if (at - now < next)
                next = at - now;
        } else if (arn && ev) {
            struct item *it = &b->items[b->count++];
            memcpy(it->key, k.ptr, 9);
            it->arn = xstrdup(arn);
            it->ev = xstrdup(ev);
            it->n = (int)json_num_ci(j, "n");
        }
        cJSON_Delete(j);
    }
    store_cursor_close(c);
    store_txn_abort(t);
    return b->count == NOTIFY_BATCH ? 0 : next;
}

static enum err_code settle_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct batch *b = arg;
    int64_t now = clock_wall_ms();
    enum err_code rc = ERR_OK;

    for (int i = 0; i < b->count && rc == ERR_OK; i++) {
        struct item *it = &b->items[i];
        struct slice k = slice_of(it->key, 9);
        if (!it->done)
            continue;
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

/* round - deliver the due entries; the ms to sleep before the next round */
static int64_t round_(struct s3_notifier *n)
{
    struct batch *b = xcalloc(1, sizeof(*b));
    int64_t next;
    struct err e = {0};
    bool stopped = false;

    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    b->refs = 1;
    next = load(n, b);
    for (int i = 0; i < b->count; i++) {
        struct call *c = xcalloc(1, sizeof(*c));
        struct item *it = &b->items[i];
        c->b = b;
        c->i = i;
        pthread_mutex_lock(&b->mu);
        b->refs++;
        b->waiting++;
        pthread_mutex_unlock(&b->mu);
        if (!n->inv.invoke(n->inv.ud, it->arn, it->ev, strlen(it->ev), call_done, c))
            call_done(c, false);
    }
    pthread_mutex_lock(&b->mu);
    while (b->waiting > 0 && !(stopped = worker_stopping(n->w))) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += NOTIFY_POLL_MS * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&b->cv, &b->mu, &ts);
    }
    pthread_mutex_unlock(&b->mu);
    /* stopped: what finished is settled, the rest stays for the next start */
    if (b->count && store_write(n->s3->store, settle_apply, b, &e))
        log_err("event=s3_notify_settle_failed error=%s msg=\"%s\"", err_name(e.code), e.msg);
    batch_unref(b);
    return stopped ? -1 : next;
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
    if (!s->notifier)
        return;
    worker_stop(s->notifier->w);
    free(s->notifier);
    s->notifier = NULL;
}

void s3_set_invoker(struct s3 *s, const struct s3_invoker *inv)
{
    s3_notify_stop(s);
    if (!inv)
        return;
    s->notifier = xcalloc(1, sizeof(*s->notifier));
    s->notifier->s3 = s;
    s->notifier->inv = *inv;
    s->notifier->w = worker_start(run, s->notifier);
    if (!s->notifier->w) {
        log_err("event=s3_notify_start_failed");
        free(s->notifier);
        s->notifier = NULL;
    }
}
