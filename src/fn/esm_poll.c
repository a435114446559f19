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
 * it first when BisectBatchOnFunctionError is set. Never on an HTTP thread.
 *
 * ParallelizationFactor N (docs/lambda.md): a round reads up to N batches'
 * worth of records after the checkpoint and deals them to N lanes by a hash
 * of the record's partition key (so one key's records are always in one
 * lane, in order); each lane's batch is invoked at once, all N in flight
 * together, and the round waits for all of them. The checkpoint moves past
 * the records every lane has finished; records finished beyond it (a lane
 * that did well while another failed) are remembered so the next rounds skip
 * them (in memory: after a restart they are delivered again, at least once).
 * The round stays on its job thread: no thread is added per lane. */
#include <stdint.h>
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

#define POLL_MS          250  /* between rounds, as Lambda polls a shard 4 times a second */
#define READ_MAX         1000 /* records one GetRecords returns at most */
#define PAYLOAD_MAX      (6u * 1024 * 1024) /* a synchronous invocation's payload */
#define BACKOFF_MS       250                /* the first retry's delay, doubled each time */
#define BACKOFF_MAX      (8 * 1000)
#define THROTTLE_WAIT_MS 1000  /* a throttled round is run again after this */
#define STEP_THREADS     4     /* mappings served at once */
#define STEP_QUEUED      4096  /* mappings waiting for a thread, at most */
#define LANES_MAX        10    /* ParallelizationFactor's bound */
#define WINDOW_MAX       10000 /* records one round reads at most, over all its lanes */

/* the poller's own state of one mapping */
struct esm_run {
    struct esm_run *next;
    char uuid[40];
    unsigned attempts; /* failed invocations of the batch at the checkpoint */
    long limit;        /* bisected batch size to try next; 0: BatchSize */
    int64_t next_ms;   /* no attempt before this (retry backoff) */
    bool busy;         /* a job is serving the mapping (guarded by fn_esm.mu) */
    char **done;       /* SequenceNumbers past the checkpoint already processed, ascending */
    size_t ndone;
};

static void run_free(struct esm_run *r)
{
    size_t i;

    for (i = 0; i < r->ndone; i++)
        free(r->done[i]);
    free(r->done);
    free(r);
}

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
            run_free(r);
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

/* passes - whether record @r matches a filter of @d's FilterCriteria (none: all pass). */
static bool passes(const cJSON *d, const cJSON *r)
{
    const cJSON *fl = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(d, "FilterCriteria"), "Filters");
    const cJSON *f;
    bool keep = false;

    if (cJSON_GetArraySize(fl) == 0)
        return true;
    cJSON_ArrayForEach(f, fl)
    {
        cJSON *p = cJSON_Parse(json_str(f, "Pattern") ? json_str(f, "Pattern") : "");

        keep = keep || pattern_match(r, p);
        cJSON_Delete(p);
    }
    return keep;
}

/* ---- invoking ---- */

struct inv {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int refs; /* the poller and the runtime */
    bool done;
    int error;
    bool throttled; /* its reserved concurrency had no room: it did not run */
    char *body;     /* the function's answer */
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
    v->throttled = res->throttled;
    v->body = xstrndup(res->body ? res->body : "", res->len);
    pthread_cond_signal(&v->cv);
    pthread_mutex_unlock(&v->mu);
    inv_unref(v);
}

/* inv_start - run @fn on @payload; inv_wait for its end. */
static struct inv *inv_start(struct fn *f, const cJSON *fn, const char *payload, size_t len)
{
    struct inv *v = xcalloc(1, sizeof(*v));

    pthread_mutex_init(&v->mu, NULL);
    pthread_cond_init(&v->cv, NULL);
    v->refs = 2;
    fn_rt_invoke(f, fn, payload, len, inv_done, v);
    return v;
}

/* inv_wait - wait for @v (and free it): 1 the function returned (its answer
 * in *@answer, owned), 0 a function error, -1 the poller is stopping or the
 * function was throttled (the batch is not done). */
static int inv_wait(struct fn *f, struct inv *v, char **answer)
{
    int out = -1;

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
    if (v->done && v->throttled) {
        out = -1; /* not a try: the round is run again later */
    } else if (v->done) {
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

/* ---- lanes (ParallelizationFactor) ---- */

/* seq_cmp - the order of two SequenceNumbers (decimal digits). */
static int seq_cmp(const char *a, const char *b)
{
    size_t la, lb;

    while (*a == '0' && a[1])
        a++;
    while (*b == '0' && b[1])
        b++;
    la = strlen(a);
    lb = strlen(b);
    if (la != lb)
        return la < lb ? -1 : 1;
    return strcmp(a, b);
}

static int seq_qsort(const void *a, const void *b)
{
    return seq_cmp(*(char *const *)a, *(char *const *)b);
}

/* done_merge - @run's done set becomes itself and @add (taken), without
 * what is at or before the checkpoint @after (NULL: none yet). */
static void done_merge(struct esm_run *run, char **add, size_t nadd, const char *after)
{
    size_t n = run->ndone + nadd, i, k = 0;
    char **all = xmalloc((n ? n : 1) * sizeof(*all));

    if (run->ndone)
        memcpy(all, run->done, run->ndone * sizeof(*all));
    if (nadd)
        memcpy(all + run->ndone, add, nadd * sizeof(*all));
    qsort(all, n, sizeof(*all), seq_qsort);
    for (i = 0; i < n; i++) {
        if ((after && seq_cmp(all[i], after) <= 0) || (k && seq_cmp(all[k - 1], all[i]) == 0))
            free(all[i]);
        else
            all[k++] = all[i];
    }
    free(run->done);
    run->done = all;
    run->ndone = k;
}

/* lane_of - the lane of record @rec: a hash (FNV-1a) of its partition key
 * attribute @key (the whole Keys when unknown), as Lambda hashes it. */
static unsigned lane_of(const cJSON *rec, const char *key, unsigned lanes)
{
    const cJSON *keys =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(rec, "dynamodb"), "Keys");
    const cJSON *pk = key[0] ? cJSON_GetObjectItemCaseSensitive(keys, key) : NULL;
    uint64_t h = 14695981039346656037ULL;
    char *text, *p;

    if (lanes <= 1)
        return 0;
    text = cJSON_PrintUnformatted(pk ? pk : keys);
    for (p = text; p && *p; p++) {
        h ^= (unsigned char)*p;
        h *= 1099511628211ULL;
    }
    free(text);
    return (unsigned)(h % lanes);
}

enum { REC_SKIP = -1, REC_LATER = -2 }; /* a record's place in a round, else its lane */

struct lane {
    cJSON *recs;   /* this round's batch, in order (owned) */
    struct inv *v; /* its invocation */
    int ok;        /* 1 all done, 2 done up to upto, 0 failed, -1 not done (stopping) */
    char upto[48];
};

/* rec_done - whether record @rec of a round (@where: REC_SKIP, REC_LATER or
 * its lane) was processed. */
static bool rec_done(const cJSON *rec, int where, const struct lane *lanes)
{
    const struct lane *l = where >= 0 ? &lanes[where] : NULL;

    if (where == REC_SKIP)
        return true;
    return l && (l->ok == 1 || (l->ok == 2 && seq_cmp(rec_seq(rec), l->upto) <= 0));
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

/* deal - the records of @recs to deliver this round into @lanes (copies), a
 * record's place into @where: already done (in @run's done set), too old or
 * filtered out is REC_SKIP; one whose lane is full is REC_LATER. The number
 * of records dealt. */
static long deal(const cJSON *d, const struct esm_run *run, const cJSON *recs, const char *key,
                 unsigned nlanes, long limit, int *where, struct lane *lanes)
{
    long age = jnum(d, "MaximumRecordAgeInSeconds", -1), now_s = (long)(clock_wall_ms() / 1000);
    long dealt = 0;
    size_t ds = 0;
    const cJSON *r;
    int i = 0;

    cJSON_ArrayForEach(r, recs)
    {
        const char *seq = rec_seq(r);
        unsigned k;

        while (ds < run->ndone && seq_cmp(run->done[ds], seq) < 0)
            ds++;
        if ((ds < run->ndone && seq_cmp(run->done[ds], seq) == 0) ||
            (age >= 0 && now_s - rec_time(r) > age) || !passes(d, r)) {
            where[i++] = REC_SKIP; /* records past MaximumRecordAgeInSeconds are not delivered */
            continue;
        }
        k = lane_of(r, key, nlanes);
        if (cJSON_GetArraySize(lanes[k].recs) >= limit) {
            where[i++] = REC_LATER;
            continue;
        }
        where[i++] = (int)k;
        cJSON_AddItemToArray(lanes[k].recs, cJSON_Duplicate(r, 1));
        dealt++;
    }
    return dealt;
}

/* settle - after a round: the checkpoint past every record done from the
 * start of @recs on (into @after, "" when none), the done ones beyond it to
 * @run's done set. */
static void settle(struct esm_run *run, const cJSON *recs, const int *where,
                   const struct lane *lanes, char *after, size_t cap)
{
    size_t n = (size_t)cJSON_GetArraySize(recs), nadd = 0;
    char **add = xmalloc((n ? n : 1) * sizeof(*add));
    bool prefix = true;
    const cJSON *r;
    int i = 0;

    after[0] = '\0';
    cJSON_ArrayForEach(r, recs)
    {
        bool done = rec_done(r, where[i++], lanes);

        if (done && prefix)
            snprintf(after, cap, "%s", rec_seq(r));
        else if (done)
            add[nadd++] = xstrdup(rec_seq(r));
        else
            prefix = false;
    }
    done_merge(run, add, nadd, after[0] ? after : NULL);
    free(add);
}

/* outcome - move @run's retry state along after a round whose lanes ended
 * as @lanes say; failed lanes out of retries count as done. Whether the
 * round was all "OK". */
static bool outcome(const cJSON *d, struct esm_run *run, struct lane *lanes, unsigned nlanes)
{
    long retries = jnum(d, "MaximumRetryAttempts", -1), worst = 0, dropped = 0;
    bool failed = false, part = false;
    unsigned k;

    for (k = 0; k < nlanes; k++) {
        long n = cJSON_GetArraySize(lanes[k].recs);
        if (n && lanes[k].ok == 0) {
            failed = true;
            worst = n > worst ? n : worst;
            dropped += n;
        }
        part |= n && lanes[k].ok == 2;
    }
    if (!failed) {
        run->attempts = 0;
        run->limit = 0;
        run->next_ms = 0;
        return !part;
    }
    run->attempts++;
    if (retries >= 0 && run->attempts > (unsigned long)retries) {
        /* out of retries: the batch is dropped, as Lambda discards it */
        log_warn("event=esm_batch_dropped uuid=%s records=%ld attempts=%u", json_str(d, "UUID"),
                 dropped, run->attempts);
        run->attempts = 0;
        run->limit = 0;
        for (k = 0; k < nlanes; k++)
            if (lanes[k].ok == 0)
                lanes[k].ok = 1;
        return false;
    }
    if (json_true(d, "BisectBatchOnFunctionError") && worst > 1)
        run->limit = worst / 2;
    {
        int64_t delay = BACKOFF_MS << (run->attempts < 6 ? run->attempts - 1 : 5);

        run->next_ms = clock_wall_ms() + (delay < BACKOFF_MAX ? delay : BACKOFF_MAX);
    }
    return false;
}

/* deliver - one round of enabled mapping @d: up to ParallelizationFactor
 * batches, one per lane, in flight at once. */
static void deliver(struct fn *f, const cJSON *d, struct esm_run *run)
{
    const char *uuid = json_str(d, "UUID"), *arn = json_str(d, "EventSourceArn");
    const char *fnarn = json_str(d, "FunctionArn"), *after = json_str(d, "_After");
    long size = jnum(d, "BatchSize", 100), window = jnum(d, "MaximumBatchingWindowInSeconds", 0);
    long factor = jnum(d, "ParallelizationFactor", 1), now_s = (long)(clock_wall_ms() / 1000);
    long limit = run->limit ? run->limit : size, want, n;
    unsigned nlanes = factor < 1 ? 1 : factor > LANES_MAX ? LANES_MAX : (unsigned)factor, k;
    struct lane lanes[LANES_MAX];
    const cJSON *types = cJSON_GetObjectItemCaseSensitive(d, "FunctionResponseTypes");
    cJSON *recs = NULL, *fn = NULL, *r;
    char shard[80], key[256], last[48] = "", ckpt[48], *payload[LANES_MAX] = {0};
    int *where = NULL;
    bool stopped = false, ok;

    memset(lanes, 0, sizeof(lanes));
    if (clock_wall_ms() < run->next_ms ||
        !fnesm_stream_shard(f, arn, shard, sizeof(shard), key, sizeof(key)))
        return;
    want = limit * (long)nlanes;
    recs = read_batch(f, arn, shard, after, want < WINDOW_MAX ? want : WINDOW_MAX);
    n = cJSON_GetArraySize(recs);
    if (n == 0)
        goto out;
    snprintf(last, sizeof(last), "%s", rec_seq(cJSON_GetArrayItem(recs, (int)n - 1)));
    if (window > 0 && n < size && now_s - rec_time(cJSON_GetArrayItem(recs, 0)) < window)
        goto out; /* the batching window is still open */
    for (k = 0; k < nlanes; k++)
        lanes[k].recs = cJSON_CreateArray();
    where = xcalloc((size_t)n, sizeof(*where));
    if (deal(d, run, recs, key, nlanes, limit, where, lanes) == 0) {
        done_merge(run, NULL, 0, last);
        checkpoint(f, uuid, last, NULL);
        goto out;
    }
    if (!(fn = fnesm_function(f, fnarn, true, NULL, 0))) {
        checkpoint(f, uuid, NULL, "PROBLEM: Function not found");
        run->next_ms = clock_wall_ms() + BACKOFF_MAX;
        goto out;
    }
    for (k = 0; k < nlanes; k++) {
        long ln = cJSON_GetArraySize(lanes[k].recs);
        cJSON *ev;

        if (!ln)
            continue;
        cJSON_ArrayForEach(r, lanes[k].recs)
        {
            lower_identity(r);
            cJSON_AddStringToObject(r, "eventSourceARN", arn);
        }
        ev = cJSON_CreateObject();
        cJSON_AddItemToObject(ev, "Records", lanes[k].recs);
        payload[k] = cJSON_PrintUnformatted(ev);
        cJSON_DetachItemViaPointer(ev, lanes[k].recs);
        cJSON_Delete(ev);
        if (strlen(payload[k]) > PAYLOAD_MAX && ln > 1) { /* too big for one invocation */
            run->limit = ln / 2;                          /* halve it; nothing is invoked */
            goto out;
        }
    }
    for (k = 0; k < nlanes; k++) /* all at once: the lanes run side by side */
        if (payload[k])
            lanes[k].v = inv_start(f, fn, payload[k], strlen(payload[k]));
    for (k = 0; k < nlanes; k++) {
        char *answer = NULL;

        if (!lanes[k].v)
            continue;
        lanes[k].ok = inv_wait(f, lanes[k].v, &answer);
        stopped |= lanes[k].ok < 0;
        if (lanes[k].ok == 1 && cJSON_GetArraySize(types) > 0)
            lanes[k].ok = partial(lanes[k].recs, answer, lanes[k].upto, sizeof(lanes[k].upto));
        free(answer);
    }
    if (stopped) { /* stopping, or throttled: the same records again in a while */
        run->next_ms = clock_wall_ms() + THROTTLE_WAIT_MS;
        goto out;
    }
    ok = outcome(d, run, lanes, nlanes);
    settle(run, recs, where, lanes, ckpt, sizeof(ckpt));
    checkpoint(f, uuid, ckpt[0] ? ckpt : NULL, ok ? "OK" : "PROBLEM: Function call failed");
out:
    for (k = 0; k < LANES_MAX; k++) {
        cJSON_Delete(lanes[k].recs);
        free(payload[k]);
    }
    free(where);
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
        !fnesm_stream_shard(f, arn, shard, sizeof(shard), NULL, 0))
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
        run_free(r);
    }
    f->esm->run = NULL;
}

void fnesm_poll_kick(struct fn *f)
{
    worker_kick(f->esm->w);
}
