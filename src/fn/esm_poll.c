/* esm_poll.c - the poller of the event source mappings (esm_int.h): a
 * worker thread that, every round, hands each mapping no thread is serving
 * to a few job threads. A round of a mapping moves its State along
 * (Creating, Updating, Enabling, Disabling: to Enabled or Disabled;
 * Deleting: gone), or, enabled, reads its stream's shard in order from the
 * checkpoint, invokes the function synchronously with a batch of records as
 * the Lambda DynamoDB event, and moves the checkpoint past the batch once the
 * function returned (at-least-once: a batch under way at a stop or crash is
 * delivered again). A function error retries the batch,
 * MaximumRetryAttempts times at most (-1: until its records expire), halving
 * it first when BisectBatchOnFunctionError is set. Never on an HTTP thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "buf.h"
#include "clock.h"
#include "esm_int.h"
#include "jobs.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "worker.h"

#define POLL_MS      250  /* between rounds, as Lambda polls a shard 4 times a second */
#define READ_MAX     1000 /* records one GetRecords returns at most */
#define PAYLOAD_MAX  (6u * 1024 * 1024) /* a synchronous invocation's payload */
#define BACKOFF_MS   250                /* the first retry's delay, doubled each time */
#define BACKOFF_MAX  (8 * 1000)
#define STEP_THREADS 4    /* mappings served at once */
#define STEP_QUEUED  4096 /* mappings waiting for a thread, at most */

/* the poller's own state of one mapping */
struct esm_run {
    struct esm_run *next;
    char uuid[40];
    unsigned attempts; /* failed invocations of the batch at the checkpoint */
    long limit;        /* bisected batch size to try next; 0: BatchSize */
    int64_t next_ms;   /* no attempt before this (retry backoff) */
    bool busy;         /* a job is serving the mapping (guarded by fn_esm.mu) */
};

/* run_of - @uuid's state, made when new; under fn_esm.mu. */
static struct esm_run *run_of(struct fn_esm *m, const char *uuid)
{
    struct esm_run *r;

    for (r = m->run; r; r = r->next)
        if (strcmp(r->uuid, uuid) == 0)
            return r;
    r = xcalloc(1, sizeof(*r));
    snprintf(r->uuid, sizeof(r->uuid), "%s", uuid);
    r->next = m->run;
    m->run = r;
    return r;
}

/* run_drop - forget @run; under fn_esm.mu. */
static void run_drop(struct fn_esm *m, const struct esm_run *run)
{
    struct esm_run **p, *r;

    for (p = &m->run; (r = *p); p = &r->next) {
        if (r == run) {
            *p = r->next;
            free(r);
            return;
        }
    }
}

static long jnum(const cJSON *o, const char *k, long dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

    return cJSON_IsNumber(v) ? (long)v->valuedouble : dflt;
}

/* ---- changes of the document ---- */

struct chg {
    const char *from;   /* the State the change expects (NULL: any but Deleting) */
    const char *state;  /* the new State, NULL: keep */
    const char *after;  /* a new checkpoint, NULL: keep */
    const char *result; /* a new LastProcessingResult, NULL: keep */
    bool started;
    bool remove;
};

static bool mutate(void *arg, cJSON **doc)
{
    const struct chg *c = arg;
    const char *st = *doc ? json_str(*doc, "State") : NULL;

    if (!*doc || !st || (c->from ? strcmp(st, c->from) != 0 : strcmp(st, "Deleting") == 0))
        return false;
    if (c->remove) {
        cJSON_Delete(*doc);
        *doc = NULL;
        return true;
    }
    if (c->state) {
        fnapi_set_str(*doc, "State", c->state);
        fnapi_set_str(*doc, "StateTransitionReason", "User action");
        cJSON_DeleteItemFromObjectCaseSensitive(*doc, "LastModified");
        cJSON_AddNumberToObject(*doc, "LastModified", (double)clock_wall_ms() / 1000.0);
    }
    if (c->after)
        fnapi_set_str(*doc, "_After", c->after);
    if (c->started && !cJSON_GetObjectItemCaseSensitive(*doc, "_Started"))
        cJSON_AddTrueToObject(*doc, "_Started");
    if (c->result)
        fnapi_set_str(*doc, "LastProcessingResult", c->result);
    return true;
}

/* ---- reading the stream ---- */

/* call - a Streams read with request @in (taken); the answer (owned) or NULL,
 * with the error's __type in @type. */
static cJSON *call(struct fn *f, const char *op, cJSON *in, char *type, size_t cap)
{
    char *text = cJSON_PrintUnformatted(in);
    struct buf b;
    cJSON *out;
    int st;

    cJSON_Delete(in);
    buf_init(&b, 0);
    st = f->esm->call(f->esm->ud, op, text, &b);
    free(text);
    out = cJSON_ParseWithLength(b.ptr ? b.ptr : "", b.len);
    buf_free(&b);
    if (st == 200)
        return out;
    snprintf(type, cap, "%s", json_str(out, "__type") ? json_str(out, "__type") : "");
    cJSON_Delete(out);
    return NULL;
}

/* iterator - a shard iterator of @arn's shard @shard after @after (NULL:
 * @type, TRIM_HORIZON or LATEST); owned, or NULL. A checkpoint whose records
 * were trimmed meanwhile reads from the trim horizon. */
static char *iterator(struct fn *f, const char *arn, const char *shard, const char *after,
                      const char *type)
{
    cJSON *in = cJSON_CreateObject(), *out;
    char err[160] = "", *it;

    cJSON_AddStringToObject(in, "StreamArn", arn);
    cJSON_AddStringToObject(in, "ShardId", shard);
    if (after && strspn(after, "0") != strlen(after)) {
        cJSON_AddStringToObject(in, "ShardIteratorType", "AFTER_SEQUENCE_NUMBER");
        cJSON_AddStringToObject(in, "SequenceNumber", after);
    } else {
        cJSON_AddStringToObject(in, "ShardIteratorType", after ? "TRIM_HORIZON" : type);
    }
    out = call(f, "GetShardIterator", in, err, sizeof(err));
    if (!out && strstr(err, "TrimmedDataAccess"))
        return iterator(f, arn, shard, NULL, "TRIM_HORIZON");
    it = json_str(out, "ShardIterator") ? xstrdup(json_str(out, "ShardIterator")) : NULL;
    cJSON_Delete(out);
    return it;
}

/* read_batch - up to @limit records after @after (an array, owned). */
static cJSON *read_batch(struct fn *f, const char *arn, const char *shard, const char *after,
                         long limit)
{
    cJSON *recs = cJSON_CreateArray();
    char *it = iterator(f, arn, shard, after, "TRIM_HORIZON"), err[160];
    long n = 0;

    while (it && n < limit) {
        cJSON *in = cJSON_CreateObject(), *out, *r;
        int got = 0;

        cJSON_AddStringToObject(in, "ShardIterator", it);
        cJSON_AddNumberToObject(in, "Limit", (double)(limit - n < READ_MAX ? limit - n : READ_MAX));
        out = call(f, "GetRecords", in, err, sizeof(err));
        free(it);
        it =
            json_str(out, "NextShardIterator") ? xstrdup(json_str(out, "NextShardIterator")) : NULL;
        while (
            (r = cJSON_DetachItemFromArray(cJSON_GetObjectItemCaseSensitive(out, "Records"), 0))) {
            cJSON_AddItemToArray(recs, r);
            got++;
        }
        cJSON_Delete(out);
        n += got;
        if (!got)
            break;
    }
    free(it);
    return recs;
}

/* ---- Lambda's DynamoDB event ---- */

/* lower_identity - userIdentity as Lambda events spell it ({"type","principalId"}). */
static void lower_identity(cJSON *rec)
{
    cJSON *u = cJSON_GetObjectItemCaseSensitive(rec, "userIdentity");
    const char *t = json_str(u, "Type"), *p = json_str(u, "PrincipalId");
    cJSON *l;

    if (!u)
        return;
    l = cJSON_CreateObject();
    cJSON_AddStringToObject(l, "type", t ? t : "Service");
    cJSON_AddStringToObject(l, "principalId", p ? p : "dynamodb.amazonaws.com");
    cJSON_ReplaceItemInObjectCaseSensitive(rec, "userIdentity", l);
}

static long rec_time(const cJSON *rec)
{
    return jnum(cJSON_GetObjectItemCaseSensitive(rec, "dynamodb"), "ApproximateCreationDateTime",
                0);
}

static const char *rec_seq(const cJSON *rec)
{
    return json_str(cJSON_GetObjectItemCaseSensitive(rec, "dynamodb"), "SequenceNumber");
}

/* ---- FilterCriteria (Lambda's event filtering; the subset: exact values,
 * "prefix", "exists", "anything-but") ---- */

static bool scalar_eq(const cJSON *a, const cJSON *b)
{
    if (cJSON_IsString(a) && cJSON_IsString(b))
        return strcmp(a->valuestring, b->valuestring) == 0;
    if (cJSON_IsNumber(a) && cJSON_IsNumber(b))
        return a->valuedouble == b->valuedouble;
    return (cJSON_IsTrue(a) && cJSON_IsTrue(b)) || (cJSON_IsFalse(a) && cJSON_IsFalse(b)) ||
           (cJSON_IsNull(a) && cJSON_IsNull(b));
}

/* any_of - whether member @m (NULL: absent) matches one of the rules @arr. */
static bool any_of(const cJSON *m, const cJSON *arr)
{
    const cJSON *a;

    cJSON_ArrayForEach(a, arr)
    {
        const cJSON *ex = cJSON_GetObjectItemCaseSensitive(a, "exists");
        const char *pre = json_str(a, "prefix");
        const cJSON *but = cJSON_GetObjectItemCaseSensitive(a, "anything-but");

        if (!cJSON_IsObject(a)) {
            if (m && scalar_eq(m, a))
                return true;
        } else if (ex) {
            if (cJSON_IsTrue(ex) == (m != NULL))
                return true;
        } else if (m && pre) {
            if (cJSON_IsString(m) && strncmp(m->valuestring, pre, strlen(pre)) == 0)
                return true;
        } else if (m && but) {
            if (!(cJSON_IsArray(but) ? any_of(m, but) : scalar_eq(m, but)))
                return true;
        }
    }
    return false;
}

/* pattern_match - whether @v matches the pattern object @p. */
static bool pattern_match(const cJSON *v, const cJSON *p)
{
    const cJSON *k;

    cJSON_ArrayForEach(k, p)
    {
        const cJSON *m = cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, k->string) : NULL;

        if (cJSON_IsArray(k) ? !any_of(m, k) : !cJSON_IsObject(k) || !m || !pattern_match(m, k))
            return false;
    }
    return true;
}

/* filtered - drop the records of @recs no filter of @d's FilterCriteria
 * matches (none: all pass). */
static void filtered(const cJSON *d, cJSON *recs)
{
    const cJSON *fl = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(d, "FilterCriteria"), "Filters");
    int i = 0;

    if (cJSON_GetArraySize(fl) == 0)
        return;
    while (i < cJSON_GetArraySize(recs)) {
        const cJSON *r = cJSON_GetArrayItem(recs, i), *f;
        bool keep = false;

        cJSON_ArrayForEach(f, fl)
        {
            cJSON *p = cJSON_Parse(json_str(f, "Pattern") ? json_str(f, "Pattern") : "");

            keep = keep || pattern_match(r, p);
            cJSON_Delete(p);
        }
        if (keep)
            i++;
        else
            cJSON_DeleteItemFromArray(recs, i);
    }
}

/* ---- invoking ---- */

struct inv {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int refs; /* the poller and the runtime */
    bool done;
    int error;
    char *body; /* the function's answer */
};

static void inv_unref(struct inv *v)
{
    bool last;

    pthread_mutex_lock(&v->mu);
    last = --v->refs == 0;
    pthread_mutex_unlock(&v->mu);
    if (!last)
        return;
    pthread_cond_destroy(&v->cv);
    pthread_mutex_destroy(&v->mu);
    free(v->body);
    free(v);
}

static void inv_done(void *ud, const struct fn_result *res)
{
    struct inv *v = ud;

    pthread_mutex_lock(&v->mu);
    v->done = true;
    v->error = res->error;
    v->body = xstrndup(res->body ? res->body : "", res->len);
    pthread_cond_signal(&v->cv);
    pthread_mutex_unlock(&v->mu);
    inv_unref(v);
}

/* invoke - run @fn on @payload and wait: 1 it returned (its answer in
 * *@answer, owned), 0 a function error, -1 the poller is stopping (the batch
 * is not done). */
static int invoke(struct fn *f, const cJSON *fn, const char *payload, size_t len, char **answer)
{
    struct inv *v = xcalloc(1, sizeof(*v));
    int out = -1;

    pthread_mutex_init(&v->mu, NULL);
    pthread_cond_init(&v->cv, NULL);
    v->refs = 2;
    fn_rt_invoke(f, fn, payload, len, inv_done, v);
    pthread_mutex_lock(&v->mu);
    while (!v->done && !__atomic_load_n(&f->esm->stopping, __ATOMIC_ACQUIRE)) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100 * 1000 * 1000;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&v->cv, &v->mu, &ts);
    }
    if (v->done) {
        out = v->error ? 0 : 1;
        if (v->error)
            log_warn("event=esm_function_error response=\"%.200s\"", v->body);
        else
            *answer = xstrdup(v->body);
    }
    pthread_mutex_unlock(&v->mu);
    inv_unref(v);
    return out;
}

/* ---- one mapping ---- */

static void checkpoint(struct fn *f, const char *uuid, const char *after, const char *result)
{
    struct chg c = {.after = after, .result = result};

    fnesm_update_wait(f, uuid, mutate, &c);
}

/* partial - how far a batch went by its function's @answer, for a mapping
 * with ReportBatchItemFailures (Lambda's "partial batch response"): 1 all of
 * it (no answer, null, or a null or empty batchItemFailures); 2 the records
 * of @recs before the first one named (@upto: the last of them); 0 none (the
 * first record failed, or an itemIdentifier empty, missing or naming no
 * record of the batch). */
static int partial(const cJSON *recs, const char *answer, char *upto, size_t cap)
{
    cJSON *a = answer && *answer ? cJSON_Parse(answer) : NULL;
    const cJSON *fails = cJSON_GetObjectItemCaseSensitive(a, "batchItemFailures"), *it;
    const cJSON *list = cJSON_IsArray(fails) ? fails : NULL;
    int first = -1, out;

    if (answer && *answer && !a)
        return 0; /* not JSON */
    cJSON_ArrayForEach(it, list)
    {
        const char *id = json_str(it, "itemIdentifier");
        int i = 0, at = -1;
        const cJSON *r;

        cJSON_ArrayForEach(r, recs)
        {
            if (id && strcmp(rec_seq(r), id) == 0)
                at = i;
            i++;
        }
        if (!id || !*id || at < 0) {
            first = 0;
            break;
        }
        if (first < 0 || at < first)
            first = at;
    }
    out = first < 0 ? 1 : first == 0 ? 0 : 2;
    if (out == 2)
        snprintf(upto, cap, "%s", rec_seq(cJSON_GetArrayItem(recs, first - 1)));
    cJSON_Delete(a);
    return out;
}

/* deliver - one batch of enabled mapping @d. */
static void deliver(struct fn *f, const cJSON *d, struct esm_run *run)
{
    const char *uuid = json_str(d, "UUID"), *arn = json_str(d, "EventSourceArn");
    const char *fnarn = json_str(d, "FunctionArn"), *after = json_str(d, "_After");
    long size = jnum(d, "BatchSize", 100), window = jnum(d, "MaximumBatchingWindowInSeconds", 0);
    long retries = jnum(d, "MaximumRetryAttempts", -1),
         age = jnum(d, "MaximumRecordAgeInSeconds", -1);
    long now_s = (long)(clock_wall_ms() / 1000), n;
    cJSON *recs = NULL, *fn = NULL, *ev, *r, *types;
    char shard[80], *payload = NULL, *answer = NULL, last[48] = "", upto[48];
    int ok;

    if (clock_wall_ms() < run->next_ms || !fnesm_stream_shard(f, arn, shard, sizeof(shard)))
        return;
    recs = read_batch(f, arn, shard, after, run->limit ? run->limit : size);
    n = cJSON_GetArraySize(recs);
    if (n == 0)
        goto out;
    snprintf(last, sizeof(last), "%s", rec_seq(cJSON_GetArrayItem(recs, (int)n - 1)));
    if (window > 0 && n < size && now_s - rec_time(cJSON_GetArrayItem(recs, 0)) < window)
        goto out; /* the batching window is still open */
    /* records older than MaximumRecordAgeInSeconds are not delivered */
    while (age >= 0 && (r = cJSON_GetArrayItem(recs, 0)) && now_s - rec_time(r) > age)
        cJSON_DeleteItemFromArray(recs, 0);
    filtered(d, recs);
    if (cJSON_GetArraySize(recs) == 0) {
        checkpoint(f, uuid, last, NULL);
        goto out;
    }
    if (!(fn = fnesm_function(f, fnarn, true, NULL, 0))) {
        checkpoint(f, uuid, NULL, "PROBLEM: Function not found");
        run->next_ms = clock_wall_ms() + BACKOFF_MAX;
        goto out;
    }
    cJSON_ArrayForEach(r, recs)
    {
        lower_identity(r);
        cJSON_AddStringToObject(r, "eventSourceARN", arn);
    }
    ev = cJSON_CreateObject();
    cJSON_AddItemToObject(ev, "Records", recs);
    payload = cJSON_PrintUnformatted(ev);
    cJSON_DetachItemViaPointer(ev, recs);
    cJSON_Delete(ev);
    if (strlen(payload) > PAYLOAD_MAX && n > 1) { /* too big for one invocation: halve it */
        run->limit = n / 2;
        goto out;
    }
    ok = invoke(f, fn, payload, strlen(payload), &answer);
    if (ok < 0)
        goto out;
    types = cJSON_GetObjectItemCaseSensitive(d, "FunctionResponseTypes");
    if (ok && cJSON_GetArraySize(types) > 0 &&
        (ok = partial(recs, answer, upto, sizeof(upto))) == 2) {
        /* the records before the first failed one are done: from it again */
        run->attempts = 0;
        run->limit = 0;
        run->next_ms = 0;
        checkpoint(f, uuid, upto, "PROBLEM: Function call failed");
        goto out;
    }
    if (ok) {
        run->attempts = 0;
        run->limit = 0;
        run->next_ms = 0;
        checkpoint(f, uuid, last, "OK");
        goto out;
    }
    run->attempts++;
    if (retries >= 0 && run->attempts > (unsigned long)retries) {
        /* out of retries: the batch is dropped, as Lambda discards it */
        log_warn("event=esm_batch_dropped uuid=%s records=%ld attempts=%u", uuid, n, run->attempts);
        run->attempts = 0;
        run->limit = 0;
        checkpoint(f, uuid, last, "PROBLEM: Function call failed");
        goto out;
    }
    if (json_true(d, "BisectBatchOnFunctionError") && n > 1)
        run->limit = n / 2;
    {
        int64_t delay = BACKOFF_MS << (run->attempts < 6 ? run->attempts - 1 : 5);

        run->next_ms = clock_wall_ms() + (delay < BACKOFF_MAX ? delay : BACKOFF_MAX);
    }
    checkpoint(f, uuid, NULL, "PROBLEM: Function call failed");
out:
    free(payload);
    free(answer);
    cJSON_Delete(recs);
    cJSON_Delete(fn);
}

/* start_position - a new mapping's LATEST becomes a checkpoint now, so the
 * records written from here on are delivered even across a restart. */
static void start_position(struct fn *f, const cJSON *d, struct chg *c, char *after, size_t cap)
{
    const char *arn = json_str(d, "EventSourceArn");
    char shard[80], *it;

    c->started = true;
    if (strcmp(json_str(d, "StartingPosition") ? json_str(d, "StartingPosition") : "", "LATEST") !=
            0 ||
        !fnesm_stream_shard(f, arn, shard, sizeof(shard)))
        return;
    it = iterator(f, arn, shard, NULL, "LATEST");
    if (it && f->esm->seq(it, after, cap))
        c->after = after;
    free(it);
}

/* step - one round of the mapping of @run; true when the mapping is gone. */
static bool step(struct fn *f, struct esm_run *run)
{
    cJSON *d = fnesm_get(f, run->uuid);
    const char *st = json_str(d, "State");
    bool want = json_true(d, "_Enabled"), gone = !d;
    struct chg c = {.from = st};
    char after[48];

    if (!d || !st || __atomic_load_n(&f->esm->stopping, __ATOMIC_ACQUIRE))
        goto out;
    if (strcmp(st, "Deleting") == 0) {
        c.remove = true;
        gone = fnesm_update_wait(f, run->uuid, mutate, &c) == ERR_OK;
    } else if (strcmp(st, "Enabled") == 0) {
        deliver(f, d, run);
    } else if (strcmp(st, "Disabled") != 0) { /* Creating, Updating, Enabling, Disabling */
        if (!cJSON_GetObjectItemCaseSensitive(d, "_Started"))
            start_position(f, d, &c, after, sizeof(after));
        c.state = want ? "Enabled" : "Disabled";
        fnesm_update_wait(f, run->uuid, mutate, &c);
        run->attempts = 0; /* a changed mapping starts its retries afresh */
        run->limit = 0;
        run->next_ms = 0;
    }
out:
    cJSON_Delete(d);
    return gone;
}

struct step_arg {
    struct fn *f;
    struct esm_run *run;
};

static void step_job(void *arg)
{
    struct step_arg *a = arg;
    struct fn_esm *m = a->f->esm;
    bool gone = step(a->f, a->run);

    pthread_mutex_lock(&m->mu);
    a->run->busy = false;
    if (gone)
        run_drop(m, a->run);
    pthread_mutex_unlock(&m->mu);
    free(a);
}

/* poller - each round hands every mapping no job is serving to a job: the
 * mappings run side by side, each one's batches one after another. */
static void poller(struct worker *w, void *arg)
{
    struct fn *f = arg;
    struct fn_esm *m = f->esm;

    while (worker_wait(w, POLL_MS)) {
        cJSON *ids = fnesm_uuids(f), *id;

        cJSON_ArrayForEach(id, ids)
        {
            struct step_arg *a;
            struct esm_run *r;

            if (worker_stopping(w))
                break;
            pthread_mutex_lock(&m->mu);
            r = run_of(m, id->valuestring);
            if (r->busy) {
                pthread_mutex_unlock(&m->mu);
                continue;
            }
            r->busy = true;
            pthread_mutex_unlock(&m->mu);
            a = xcalloc(1, sizeof(*a));
            a->f = f;
            a->run = r;
            if (!jobs_run(m->jobs, step_job, a)) {
                pthread_mutex_lock(&m->mu);
                r->busy = false;
                pthread_mutex_unlock(&m->mu);
                free(a);
            }
        }
        cJSON_Delete(ids);
    }
}

enum err_code fnesm_poll_start(struct fn *f, struct err *e)
{
    f->esm->jobs = jobs_new("fn-esm", STEP_THREADS, STEP_QUEUED);
    f->esm->w = worker_start(poller, f);
    if (!f->esm->w)
        return err_set(e, ERR_IO, "cannot start the event source mappings' poller");
    return ERR_OK;
}

void fnesm_poll_stop(struct fn *f)
{
    struct esm_run *r, *next;

    /* invocations under way let go; the poller stops handing out rounds;
     * the rounds under way end */
    __atomic_store_n(&f->esm->stopping, true, __ATOMIC_RELEASE);
    worker_stop(f->esm->w);
    f->esm->w = NULL;
    jobs_free(f->esm->jobs);
    f->esm->jobs = NULL;
    for (r = f->esm->run; r; r = next) {
        next = r->next;
        free(r);
    }
    f->esm->run = NULL;
}

void fnesm_poll_kick(struct fn *f)
{
    worker_kick(f->esm->w);
}
