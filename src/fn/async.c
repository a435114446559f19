/* async.c - delivery of asynchronous (Event) invocations, as Lambda does it:
 * the event is queued durably before Invoke answers 202; a worker runs it;
 * a function error or timeout is retried up to MaximumRetryAttempts (default
 * 2) after 1 minute, then 2 minutes; an event older than
 * MaximumEventAgeInSeconds (default 6 hours) is dropped; then the OnSuccess
 * or OnFailure destination function, when configured (api_async.c), is
 * invoked the same way with Lambda's invocation record.
 *
 * Each queued event is one document in the store (META "fnq/SEQ", SEQ a
 * zero-padded counter, so the queue loads in arrival order):
 *   Name, Qualifier (absent: unqualified), Payload (the event, JSON text),
 *   RequestId, Enqueued (Unix ms), Attempts (made so far), Due (Unix ms).
 * The outcome of a try is written in ONE store apply: the event removed (or
 * its Attempts and Due updated for a retry) and the destination's event
 * added, so a crash between the two never loses or doubles one. An event
 * under way when the region stops stays queued and runs again after the
 * restart (at least once, as Lambda). The in-memory list is the store's copy
 * and changes only once a write is durable. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "async_int.h"
#include "clock.h"
#include "log.h"
#include "mem.h"
#include "worker.h"

#define KEY_PREFIX       "fnq/"
#define QUEUE_MAX        10000 /* events queued (in memory and in the store), at most */
#define QUEUE_BYTES_MAX  (256u * 1024 * 1024) /* ... and the bytes of their payloads */
#define RUN_MAX          8                    /* events running at once */
#define RETRIES_DEFAULT  2                    /* MaximumRetryAttempts when not configured */
#define AGE_DEFAULT_S    21600                /* MaximumEventAgeInSeconds when not configured */
#define RETRY_MS_DEFAULT 60000 /* the first retry's delay; the second waits twice it */

struct ev {
    struct ev *next;
    uint64_t seq;
    cJSON *doc; /* as stored */
    int64_t due;
    bool running;
};

struct fn_async {
    pthread_mutex_t mu;
    pthread_cond_t idle; /* busy reached 0 */
    struct ev *head, *tail;
    size_t count;  /* events in the list or being written to it */
    size_t bytes;  /* their payloads' bytes */
    unsigned runs; /* events running */
    unsigned busy; /* writes and invocations not yet finished */
    uint64_t next_seq;
    int64_t retry_ms;
    struct worker *w;
    bool stopping;
};

/* one try of an event, from its start to the write of its outcome */
struct run {
    struct fn *f;
    struct ev *ev;
    int retries;
    char *on_success, *on_failure; /* destination ARNs (owned) or NULL */
    char version[16];
    char *arn; /* the qualified ARN invoked (owned) */
    /* the outcome to write */
    cJSON *next_doc; /* a retry: the event's new document (owned) */
    cJSON *dest_doc; /* the destination's event (owned), or NULL */
    uint64_t dest_seq;
    struct ev *dest_ev;
};

static void key_of(uint64_t seq, char *out, size_t cap)
{
    snprintf(out, cap, KEY_PREFIX "%020" PRIu64, seq);
}

static void busy_add(struct fn_async *q, int d)
{
    pthread_mutex_lock(&q->mu);
    q->busy += (unsigned)d;
    if (q->busy == 0)
        pthread_cond_broadcast(&q->idle);
    pthread_mutex_unlock(&q->mu);
}

/* account - count @doc's event in (@d 1) or out (@d -1) of the queue (caller holds mu). */
static void account(struct fn_async *q, const cJSON *doc, int d)
{
    const char *p = fnapi_str(doc, "Payload");
    size_t n = p ? strlen(p) : 0;

    q->count += (size_t)(ssize_t)d;
    q->bytes = d > 0 ? q->bytes + n : q->bytes - n;
}

/* kick - wake the worker (caller holds mu; none once stopping). */
static void kick(struct fn_async *q)
{
    if (!q->stopping)
        worker_kick(q->w);
}

/* link - append @ev to the list (caller holds mu). */
static void link_ev(struct fn_async *q, struct ev *ev)
{
    ev->next = NULL;
    if (q->tail)
        q->tail->next = ev;
    else
        q->head = ev;
    q->tail = ev;
}

static void unlink_ev(struct fn_async *q, struct ev *ev)
{
    struct ev **p = &q->head, *prev = NULL;

    while (*p && *p != ev) {
        prev = *p;
        p = &(*p)->next;
    }
    if (!*p)
        return;
    *p = ev->next;
    if (q->tail == ev)
        q->tail = prev;
}

static struct ev *ev_new(uint64_t seq, cJSON *doc)
{
    struct ev *ev = xcalloc(1, sizeof(*ev));

    ev->seq = seq;
    ev->doc = doc;
    ev->due = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(doc, "Due"));
    return ev;
}

/* event_doc - a new event of NAME:@qual carrying @payload (@len bytes). */
static cJSON *event_doc(const char *name, const char *qual, const char *payload, size_t len)
{
    cJSON *d = cJSON_CreateObject();
    char *p = xstrndup(payload, len), id[40];
    int64_t now = clock_wall_ms();

    fnapi_uuid(id);
    cJSON_AddStringToObject(d, "Name", name);
    if (qual)
        cJSON_AddStringToObject(d, "Qualifier", qual);
    cJSON_AddStringToObject(d, "Payload", p);
    cJSON_AddStringToObject(d, "RequestId", id);
    cJSON_AddNumberToObject(d, "Enqueued", (double)now);
    cJSON_AddNumberToObject(d, "Attempts", 0);
    cJSON_AddNumberToObject(d, "Due", (double)now);
    free(p);
    return d;
}

static enum err_code put_doc(struct store_txn *t, uint64_t seq, const cJSON *doc, struct err *e)
{
    char key[32], *text = cJSON_PrintUnformatted(doc);
    enum err_code rc;

    key_of(seq, key, sizeof(key));
    rc = store_put(t, STORE_DB_META, slice_str(key), slice_str(text), e);
    free(text);
    return rc;
}

/* ---- queueing an Event invocation ---- */

struct enq {
    struct fn *f;
    struct http_req *r;     /* an Invoke to answer, or NULL: */
    fn_event_done_fn *done; /* told whether the event is queued */
    void *ud;
    struct ev *ev;
};

static enum err_code enq_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct enq *q = arg;

    return put_doc(t, q->ev->seq, q->ev->doc, e);
}

static void enq_done(void *arg, enum err_code rc, const struct err *e)
{
    struct enq *p = arg;
    struct fn_async *q = p->f->async;

    if (rc == ERR_OK && p->r) { /* answered first: once linked, the event may run and go */
        http_resp_header(p->r, "x-amzn-RequestId", fnapi_str(p->ev->doc, "RequestId"));
        http_respond(p->r, 202, "", 0);
    } else if (p->done) {
        p->done(p->ud, rc == ERR_OK);
    }
    pthread_mutex_lock(&q->mu);
    if (rc == ERR_OK) {
        link_ev(q, p->ev);
        kick(q);
    } else {
        account(q, p->ev->doc, -1);
    }
    pthread_mutex_unlock(&q->mu);
    if (rc != ERR_OK) {
        if (p->r)
            fnapi_answer_error(p->r, E_SERVICE, e && e->msg[0] ? e->msg : "write failed");
        cJSON_Delete(p->ev->doc);
        free(p->ev);
    }
    free(p);
    busy_add(q, -1);
}

/* enqueue - queue @payload (@len bytes) as an Event invocation of NAME:@qual; its end is
 * @r's answer (202 once durable) or, without @r, @done's call. False (and @r answered 429)
 * when the queue is full or stopping. */
static bool enqueue(struct fn *f, struct http_req *r, const char *name, const char *qual,
                    const char *payload, size_t len, fn_event_done_fn *done, void *ud)
{
    struct fn_async *q = f->async;
    cJSON *doc = event_doc(name, qual, payload, len);
    struct enq *p;
    uint64_t seq;

    pthread_mutex_lock(&q->mu);
    if (q->count >= QUEUE_MAX || q->bytes + len > QUEUE_BYTES_MAX || q->stopping) {
        pthread_mutex_unlock(&q->mu);
        cJSON_Delete(doc);
        if (r)
            fnapi_answer_error(r, E_TOO_MANY, "Rate Exceeded.");
        return false;
    }
    account(q, doc, 1);
    q->busy++;
    seq = q->next_seq++;
    pthread_mutex_unlock(&q->mu);
    p = xcalloc(1, sizeof(*p));
    p->f = f;
    p->r = r;
    p->done = done;
    p->ud = ud;
    p->ev = ev_new(seq, doc);
    store_submit(f->store, enq_apply, enq_done, p);
    return true;
}

void fnasync_enqueue(struct fn *f, struct http_req *r, const char *name, const char *qual)
{
    (void)enqueue(f, r, name, qual, r->body.len ? r->body.ptr : "{}", r->body.len ? r->body.len : 2,
                  NULL, NULL);
}

bool fnasync_enqueue_event(struct fn *f, const char *name, const char *qual, const char *payload,
                           size_t len, fn_event_done_fn *done, void *ud)
{
    return enqueue(f, NULL, name, qual, payload, len, done, ud);
}

/* ---- the outcome of a try ---- */

static void run_free(struct run *u)
{
    free(u->on_success);
    free(u->on_failure);
    free(u->arn);
    cJSON_Delete(u->next_doc);
    cJSON_Delete(u->dest_doc);
    free(u);
}

static enum err_code out_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct run *u = arg;
    char key[32];
    enum err_code rc;

    if (u->next_doc) {
        rc = put_doc(t, u->ev->seq, u->next_doc, e);
    } else {
        key_of(u->ev->seq, key, sizeof(key));
        rc = store_del(t, STORE_DB_META, slice_str(key), e);
        if (rc == ERR_NOTFOUND)
            rc = ERR_OK;
    }
    if (rc == ERR_OK && u->dest_doc)
        rc = put_doc(t, u->dest_seq, u->dest_doc, e);
    return rc;
}

static void out_done(void *arg, enum err_code rc, const struct err *e)
{
    struct run *u = arg;
    struct fn_async *q = u->f->async;
    struct ev *ev = u->ev;

    pthread_mutex_lock(&q->mu);
    q->runs--;
    ev->running = false;
    if (rc != ERR_OK) {
        /* nothing changed: try the event again later */
        log_warn("event=fn_async_write_failed function=%s error=\"%s\"", fnapi_str(ev->doc, "Name"),
                 e && e->msg[0] ? e->msg : "write failed");
        ev->due = clock_wall_ms() + q->retry_ms;
        if (u->dest_doc)
            account(q, u->dest_doc, -1);
    } else if (u->next_doc) {
        cJSON_Delete(ev->doc);
        ev->doc = u->next_doc;
        u->next_doc = NULL;
        ev->due = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(ev->doc, "Due"));
    } else {
        unlink_ev(q, ev);
        account(q, ev->doc, -1);
        cJSON_Delete(ev->doc);
        free(ev);
    }
    if (rc == ERR_OK && u->dest_doc) {
        link_ev(q, ev_new(u->dest_seq, u->dest_doc));
        u->dest_doc = NULL;
    }
    kick(q);
    pthread_mutex_unlock(&q->mu);
    run_free(u);
    busy_add(q, -1);
}

/* json_or_string - @s (@len bytes) parsed as JSON, or as a string when it is not. */
static cJSON *json_or_string(const char *s, size_t len)
{
    cJSON *j = cJSON_ParseWithLength(s, len);
    char *copy;

    if (j)
        return j;
    copy = xstrndup(s, len);
    j = cJSON_CreateString(copy);
    free(copy);
    return j;
}

/* record - Lambda's invocation record of @u's event for a destination
 * (@res NULL: the function did not run). */
static cJSON *record(const struct run *u, const char *condition, int attempts,
                     const struct fn_result *res)
{
    cJSON *r = cJSON_CreateObject(), *c;
    const char *payload = fnapi_str(u->ev->doc, "Payload");
    char ts[40];

    fnapi_now_iso(ts, sizeof(ts)); /* ...05.678+0000; records say ...05.678Z */
    strcpy(ts + 23, "Z");
    cJSON_AddStringToObject(r, "version", "1.0");
    cJSON_AddStringToObject(r, "timestamp", ts);
    c = cJSON_AddObjectToObject(r, "requestContext");
    cJSON_AddStringToObject(c, "requestId", fnapi_str(u->ev->doc, "RequestId"));
    cJSON_AddStringToObject(c, "functionArn", u->arn);
    cJSON_AddStringToObject(c, "condition", condition);
    cJSON_AddNumberToObject(c, "approximateInvokeCount", attempts);
    cJSON_AddItemToObject(r, "requestPayload",
                          json_or_string(payload ? payload : "{}", payload ? strlen(payload) : 2));
    if (res) {
        c = cJSON_AddObjectToObject(r, "responseContext");
        cJSON_AddNumberToObject(c, "statusCode", 200);
        cJSON_AddStringToObject(c, "executedVersion", u->version);
        if (res->error)
            cJSON_AddStringToObject(c, "functionError", "Unhandled");
        cJSON_AddItemToObject(
            r, "responsePayload",
            json_or_string(res->body ? res->body : "null", res->body ? res->len : 4));
    }
    return r;
}

/* destine - the event of destination @arn (a function ARN, checked when
 * configured) carrying @rec (taken) into @u, with its sequence number. */
static void destine(struct run *u, const char *arn, cJSON *rec)
{
    const char *rest = strstr(arn, ":function:"), *colon;
    char name[72], *text;
    struct fn_async *q = u->f->async;

    if (!rest) {
        cJSON_Delete(rec);
        return;
    }
    rest += 10;
    colon = strchr(rest, ':');
    snprintf(name, sizeof(name), "%.*s", colon ? (int)(colon - rest) : (int)strlen(rest), rest);
    text = cJSON_PrintUnformatted(rec);
    cJSON_Delete(rec);
    u->dest_doc = event_doc(name, colon ? colon + 1 : NULL, text, strlen(text));
    free(text);
    pthread_mutex_lock(&q->mu);
    u->dest_seq = q->next_seq++;
    account(q, u->dest_doc, 1);
    pthread_mutex_unlock(&q->mu);
}

/* finish - write the outcome of @u's try: @condition NULL schedules a retry,
 * otherwise the event is done and its destination (if any) gets a record. */
static void finish(struct run *u, const char *condition, int attempts, const struct fn_result *res)
{
    const char *dest = NULL;

    if (!condition) {
        u->next_doc = cJSON_Duplicate(u->ev->doc, 1);
        cJSON_ReplaceItemInObjectCaseSensitive(u->next_doc, "Attempts",
                                               cJSON_CreateNumber(attempts));
        cJSON_ReplaceItemInObjectCaseSensitive(
            u->next_doc, "Due",
            cJSON_CreateNumber((double)(clock_wall_ms() + u->f->async->retry_ms * attempts)));
    } else {
        dest = strcmp(condition, "Success") == 0 ? u->on_success : u->on_failure;
        if (strcmp(condition, "Success"))
            log_info("event=fn_async_dropped function=%s request=%s condition=%s attempts=%d",
                     u->arn, fnapi_str(u->ev->doc, "RequestId"), condition, attempts);
    }
    if (dest)
        destine(u, dest, record(u, condition, attempts, res));
    store_submit(u->f->store, out_apply, out_done, u);
}

static void on_result(void *ud, const struct fn_result *res)
{
    struct run *u = ud;
    struct fn_async *q = u->f->async;
    int attempts =
        (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(u->ev->doc, "Attempts")) + 1;
    bool stopping;

    pthread_mutex_lock(&q->mu);
    stopping = q->stopping;
    if (stopping) { /* the event stays queued: it runs again after the restart */
        q->runs--;
        u->ev->running = false;
    }
    pthread_mutex_unlock(&q->mu);
    if (stopping) {
        run_free(u);
        busy_add(q, -1);
        return;
    }
    if (res->throttled) { /* not a try: run again later, as long as its age allows */
        u->next_doc = cJSON_Duplicate(u->ev->doc, 1);
        cJSON_ReplaceItemInObjectCaseSensitive(
            u->next_doc, "Due", cJSON_CreateNumber((double)(clock_wall_ms() + q->retry_ms)));
        store_submit(u->f->store, out_apply, out_done, u);
    } else if (!res->error)
        finish(u, "Success", attempts, res);
    else if (attempts <= u->retries)
        finish(u, NULL, attempts, res);
    else
        finish(u, "RetriesExhausted", attempts, res);
}

/* ---- running an event ---- */

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

/* start - run @ev (marked running; counted in runs and busy): resolve its
 * function and configuration now, as Lambda does for each try. */
static void start(struct fn *f, struct ev *ev)
{
    struct run *u = xcalloc(1, sizeof(*u));
    const char *name = fnapi_str(ev->doc, "Name"), *qual = fnapi_str(ev->doc, "Qualifier");
    const char *payload = fnapi_str(ev->doc, "Payload");
    cJSON *doc = fn_reg_get(f, name), *cfg;
    const cJSON *c = fnasync_config_of(fnapi_holder(doc, qual)), *v;
    int64_t age_s = AGE_DEFAULT_S;
    char arn[400];

    u->f = f;
    u->ev = ev;
    snprintf(arn, sizeof(arn), "arn:aws:lambda:%s:%s:function:%s:%s", f->region, f->account,
             name ? name : "", qual ? qual : "$LATEST");
    u->arn = xstrdup(arn);
    u->retries = RETRIES_DEFAULT;
    if ((v = cJSON_GetObjectItemCaseSensitive(c, "MaximumRetryAttempts")))
        u->retries = (int)cJSON_GetNumberValue(v);
    if ((v = cJSON_GetObjectItemCaseSensitive(c, "MaximumEventAgeInSeconds")))
        age_s = (int64_t)cJSON_GetNumberValue(v);
    u->on_success = dup_or_null(fnasync_destination(c, true));
    u->on_failure = dup_or_null(fnasync_destination(c, false));
    cfg = doc ? fnapi_pick(doc, qual, true) : NULL; /* takes doc */
    if (!cfg) { /* the function, version or alias is gone: so is its event */
        free(u->on_success);
        free(u->on_failure);
        u->on_success = u->on_failure = NULL;
        finish(u, "FunctionDeleted", 0, NULL);
        return;
    }
    snprintf(u->version, sizeof(u->version), "%s",
             fnapi_str(cfg, "Version") ? fnapi_str(cfg, "Version") : "$LATEST");
    if (clock_wall_ms() -
            (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(ev->doc, "Enqueued")) >
        age_s * 1000) {
        finish(u, "EventAgeExceeded",
               (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(ev->doc, "Attempts")),
               NULL);
    } else if (!fn_rt_runtime_ready(f, fnapi_str(cfg, "Runtime"))) {
        static const char why[] = "{\"errorType\":\"InvalidRuntimeException\",\"errorMessage\":"
                                  "\"The runtime or runtime version for this function is not "
                                  "supported\"}";
        struct fn_result res = {.error = 1, .body = why, .len = sizeof(why) - 1};
        on_result(u, &res);
    } else {
        fn_rt_invoke_as(f, cfg, payload ? payload : "{}", payload ? strlen(payload) : 2,
                        fnapi_str(ev->doc, "RequestId"), on_result, u);
    }
    cJSON_Delete(cfg);
}

/* dispatch - start the events that are due, as many as RUN_MAX allows;
 * returns the milliseconds until the next one is due (-1: none, or no room). */
static int64_t dispatch(struct fn *f)
{
    struct fn_async *q = f->async;
    struct ev *ev, *go[RUN_MAX];
    int n = 0, i;
    int64_t now = clock_wall_ms(), wait = -1;

    pthread_mutex_lock(&q->mu);
    for (ev = q->head; ev; ev = ev->next) {
        if (ev->running)
            continue;
        if (ev->due <= now && q->runs < RUN_MAX) {
            ev->running = true;
            q->runs++;
            q->busy++;
            go[n++] = ev;
        } else if (ev->due > now && (wait < 0 || ev->due - now < wait)) {
            wait = ev->due - now;
        }
    }
    pthread_mutex_unlock(&q->mu);
    for (i = 0; i < n; i++)
        start(f, go[i]);
    return wait;
}

static void run_worker(struct worker *w, void *arg)
{
    struct fn *f = arg;
    int64_t wait = 0;

    while (worker_wait(w, wait))
        wait = dispatch(f);
}

/* ---- lifecycle ---- */

static void load_one(void *arg, const char *num, cJSON *doc)
{
    struct fn_async *q = arg;
    uint64_t seq = strtoull(num, NULL, 10);

    if (seq >= q->next_seq)
        q->next_seq = seq + 1;
    link_ev(q, ev_new(seq, doc));
    account(q, doc, 1);
}

enum err_code fnasync_open(struct fn *f, struct err *e)
{
    struct fn_async *q = xcalloc(1, sizeof(*q));
    const char *ms = getenv("TANDEM_FN_ASYNC_RETRY_MS");
    enum err_code rc;

    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->idle, NULL);
    q->retry_ms = ms && atoll(ms) > 0 ? atoll(ms) : RETRY_MS_DEFAULT;
    q->next_seq = 1;
    f->async = q;
    rc = fn_store_scan(f, KEY_PREFIX, load_one, q, e);
    if (rc)
        return rc;
    if (!(q->w = worker_start(run_worker, f)))
        return err_set(e, ERR_IO, "cannot start the asynchronous invocation worker");
    return ERR_OK;
}

void fnasync_stop(struct fn *f)
{
    struct fn_async *q = f ? f->async : NULL;
    struct worker *w;

    if (!q)
        return;

    pthread_mutex_lock(&q->mu);
    q->stopping = true;
    w = q->w;
    q->w = NULL;
    pthread_mutex_unlock(&q->mu);
    worker_stop(w);
}

void fnasync_close(struct fn *f)
{
    struct fn_async *q = f ? f->async : NULL;
    struct ev *ev;

    if (!q)
        return;
    fnasync_stop(f);
    pthread_mutex_lock(&q->mu);
    while (q->busy)
        pthread_cond_wait(&q->idle, &q->mu);
    pthread_mutex_unlock(&q->mu);
    while ((ev = q->head)) {
        q->head = ev->next;
        cJSON_Delete(ev->doc);
        free(ev);
    }
    pthread_cond_destroy(&q->idle);
    pthread_mutex_destroy(&q->mu);
    free(q);
    f->async = NULL;
}
