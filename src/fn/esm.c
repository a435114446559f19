/* esm.c - Lambda event source mappings (lambda/2015-03-31:
 * Create/Get/Update/Delete/ListEventSourceMappings) for the DynamoDB streams
 * of the region, and their documents in the store (esm_int.h). The poller
 * that delivers the records is esm_poll.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "api_int.h"
#include "buf.h"
#include "clock.h"
#include "codec.h"
#include "esm_int.h"
#include "json.h"
#include "mem.h"

#define KEY_PREFIX   "esm/"
#define LIST_DEFAULT 100

/* ---- documents ---- */

static char *key_of(const char *uuid)
{
    size_t n = strlen(uuid) + sizeof(KEY_PREFIX);
    char *k = xmalloc(n);

    snprintf(k, n, "%s%s", KEY_PREFIX, uuid);
    return k;
}

static enum err_code load(struct fn *f, struct err *e)
{
    struct store_txn *t = NULL;
    struct store_cursor *c = NULL;
    struct slice k, v;
    size_t pl = strlen(KEY_PREFIX);
    enum err_code rc = store_read_begin(f->store, &t, e);

    if (rc)
        return rc;
    rc = store_cursor_open(t, STORE_DB_META, &c, e);
    if (rc == ERR_OK)
        rc = store_cursor_seek(c, slice_str(KEY_PREFIX), &k, &v, e);
    for (; rc == ERR_OK && k.len > pl && memcmp(k.ptr, KEY_PREFIX, pl) == 0;
         rc = store_cursor_next(c, &k, &v, e)) {
        cJSON *doc = cJSON_ParseWithLength((const char *)v.ptr, v.len);
        char *uuid = xstrndup((const char *)k.ptr + pl, k.len - pl);

        if (doc)
            cJSON_AddItemToObject(f->esm->maps, uuid, doc);
        free(uuid);
    }
    store_cursor_close(c);
    store_txn_abort(t);
    return rc == ERR_NOTFOUND ? ERR_OK : rc;
}

cJSON *fnesm_get(struct fn *f, const char *uuid)
{
    cJSON *d, *copy = NULL;

    pthread_mutex_lock(&f->esm->mu);
    d = cJSON_GetObjectItemCaseSensitive(f->esm->maps, uuid);
    if (d)
        copy = cJSON_Duplicate(d, 1);
    pthread_mutex_unlock(&f->esm->mu);
    return copy;
}

static int cmp_item(const void *a, const void *b)
{
    return strcmp((*(cJSON *const *)a)->valuestring, (*(cJSON *const *)b)->valuestring);
}

cJSON *fnesm_uuids(struct fn *f)
{
    cJSON *d, *out = cJSON_CreateArray(), **v;
    size_t n = 0, i;

    pthread_mutex_lock(&f->esm->mu);
    v = xcalloc((size_t)cJSON_GetArraySize(f->esm->maps) + 1, sizeof(*v));
    cJSON_ArrayForEach(d, f->esm->maps) v[n++] = cJSON_CreateString(d->string);
    pthread_mutex_unlock(&f->esm->mu);
    qsort(v, n, sizeof(*v), cmp_item);
    for (i = 0; i < n; i++)
        cJSON_AddItemToArray(out, v[i]);
    free(v);
    return out;
}

struct upd {
    struct fn *f;
    char uuid[40];
    fnesm_mutate_fn *mutate;
    void *arg;
    cJSON *doc; /* written (NULL: deleted), for the in-memory copy */
    bool refused;
    /* the answer: an HTTP request, or a waiting thread */
    void (*done)(struct upd *p, enum err_code rc, const struct err *e);
    void *done_arg;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool finished;
    enum err_code rc;
};

/* upd_mutate - the mutator of fn_store_rmw: @p's, a refusal noted. */
static enum err_code upd_mutate(void *arg, cJSON **doc, struct err *e)
{
    struct upd *p = arg;

    if (p->mutate(p->arg, doc))
        return ERR_OK;
    p->refused = true;
    return err_set(e, ERR_CONFLICT, "refused");
}

static enum err_code upd_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct upd *p = arg;
    char *key = key_of(p->uuid);
    enum err_code rc = fn_store_rmw(t, key, upd_mutate, p, &p->doc, e);

    free(key);
    return rc;
}

static void upd_done(void *arg, enum err_code rc, const struct err *e)
{
    struct upd *p = arg;
    struct fn_esm *m = p->f->esm;

    if (rc == ERR_OK) {
        pthread_mutex_lock(&m->mu);
        cJSON_DeleteItemFromObjectCaseSensitive(m->maps, p->uuid);
        if (p->doc)
            cJSON_AddItemToObject(m->maps, p->uuid, p->doc);
        p->doc = NULL;
        pthread_mutex_unlock(&m->mu);
    }
    cJSON_Delete(p->doc);
    p->doc = NULL;
    p->done(p, rc, e);
}

static void wait_done(struct upd *p, enum err_code rc, const struct err *e)
{
    (void)e;
    pthread_mutex_lock(&p->mu);
    p->rc = rc;
    p->finished = true;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

enum err_code fnesm_update_wait(struct fn *f, const char *uuid, fnesm_mutate_fn *mutate, void *arg)
{
    struct upd p = {.f = f, .mutate = mutate, .arg = arg, .done = wait_done};
    enum err_code rc;

    snprintf(p.uuid, sizeof(p.uuid), "%s", uuid);
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.cv, NULL);
    store_submit(f->store, upd_apply, upd_done, &p);
    pthread_mutex_lock(&p.mu);
    while (!p.finished)
        pthread_cond_wait(&p.cv, &p.mu);
    rc = p.rc;
    pthread_mutex_unlock(&p.mu);
    pthread_cond_destroy(&p.cv);
    pthread_mutex_destroy(&p.mu);
    return rc;
}

bool fnesm_stream_shard(struct fn *f, const char *arn, char *out, size_t cap, char *hash_key,
                        size_t hcap)
{
    struct buf b;
    cJSON *in = cJSON_CreateObject(), *res = NULL;
    char *text;
    const cJSON *sh;
    int st;

    cJSON_AddStringToObject(in, "StreamArn", arn);
    text = cJSON_PrintUnformatted(in);
    cJSON_Delete(in);
    buf_init(&b, 0);
    st = f->esm->call(f->esm->ud, "DescribeStream", text, &b);
    free(text);
    if (st == 200)
        res = cJSON_ParseWithLength(b.ptr ? b.ptr : "", b.len);
    buf_free(&b);
    sh = cJSON_GetArrayItem(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(res, "StreamDescription"),
                                         "Shards"),
        0);
    sh = cJSON_GetObjectItemCaseSensitive(sh, "ShardId");
    if (out && cap)
        snprintf(out, cap, "%s", cJSON_IsString(sh) ? sh->valuestring : "");
    if (hash_key && hcap) {
        const cJSON *k;
        hash_key[0] = '\0';
        cJSON_ArrayForEach(
            k, cJSON_GetObjectItemCaseSensitive(
                   cJSON_GetObjectItemCaseSensitive(res, "StreamDescription"), "KeySchema"))
        {
            if (json_str(k, "KeyType") && strcmp(json_str(k, "KeyType"), "HASH") == 0)
                snprintf(hash_key, hcap, "%s",
                         json_str(k, "AttributeName") ? json_str(k, "AttributeName") : "");
        }
    }
    cJSON_Delete(res);
    return st == 200;
}

/* ---- the API ---- */

struct req {
    struct fn *f;
    struct http_req *r;
    cJSON *body;   /* owned */
    cJSON *newdoc; /* CreateEventSourceMapping's document (owned) */
    enum fn_error kind;
    char msg[1024];
    int status;
    cJSON *answer;     /* owned */
    char reserved[40]; /* a create's UUID in fn_esm.pending */
};

static void busy(struct fn *f, int d)
{
    pthread_mutex_lock(&f->mu);
    f->busy = (unsigned)((int)f->busy + d);
    if (f->busy == 0)
        pthread_cond_broadcast(&f->idle);
    pthread_mutex_unlock(&f->mu);
}

static void refuse(struct req *q, enum fn_error k, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void refuse(struct req *q, enum fn_error k, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(q->msg, sizeof(q->msg), fmt, ap);
    va_end(ap);
    q->kind = k;
}

static void req_done(struct upd *p, enum err_code rc, const struct err *e)
{
    struct req *q = p->done_arg;
    struct fn *f = q->f;

    if (q->reserved[0]) {
        pthread_mutex_lock(&f->esm->mu);
        cJSON_DeleteItemFromObjectCaseSensitive(f->esm->pending, q->reserved);
        pthread_mutex_unlock(&f->esm->mu);
    }
    if (rc == ERR_OK) {
        fnapi_answer_json(q->r, q->status, q->answer);
        q->answer = NULL;
        fnesm_poll_kick(f);
    } else if (p->refused) {
        fnapi_answer_error(q->r, q->kind, q->msg);
    } else {
        fnapi_answer_error(q->r, E_SERVICE, e && e->msg[0] ? e->msg : "write failed");
    }
    cJSON_Delete(q->body);
    cJSON_Delete(q->newdoc);
    cJSON_Delete(q->answer);
    free(q);
    free(p);
    busy(f, -1);
}

/* submit - run @mutate on @uuid's document for @q, answered from the writer. */
static void submit(struct req *q, const char *uuid, fnesm_mutate_fn *mutate)
{
    struct upd *p = xcalloc(1, sizeof(*p));

    p->f = q->f;
    snprintf(p->uuid, sizeof(p->uuid), "%s", uuid);
    p->mutate = mutate;
    p->arg = q;
    p->done = req_done;
    p->done_arg = q;
    busy(q->f, 1);
    store_submit(q->f->store, upd_apply, upd_done, p);
}

static void set_num(cJSON *o, const char *k, double v)
{
    cJSON_DeleteItemFromObjectCaseSensitive(o, k);
    cJSON_AddNumberToObject(o, k, v);
}

static void set_state(cJSON *d, const char *state, const char *reason)
{
    fnapi_set_str(d, "State", state);
    fnapi_set_str(d, "StateTransitionReason", reason);
    set_num(d, "LastModified", (double)clock_wall_ms() / 1000.0);
}

/* int_member - the integer member @k of @b in [@lo, @hi] into the document
 * as @k; false (refused as Lambda words it, path @path) when out of range. */
static bool int_member(struct req *q, cJSON *doc, const char *k, const char *path, long lo, long hi)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(q->body, k);

    if (!v)
        return true;
    if (!cJSON_IsNumber(v) || v->valuedouble != (double)(long long)v->valuedouble) {
        refuse(q, E_INVALID_CONTENT, "Could not parse request body into json: %s is not an integer",
               k);
        return false;
    }
    if (v->valuedouble < (double)lo || v->valuedouble > (double)hi) {
        refuse(q, E_INVALID_PARAM,
               "1 validation error detected: Value '%.0f' at '%s' failed to satisfy constraint: "
               "Member must have value %s %ld",
               v->valuedouble, path,
               v->valuedouble < (double)lo ? "greater than or equal to" : "less than or equal to",
               v->valuedouble < (double)lo ? lo : hi);
        return false;
    }
    set_num(doc, k, v->valuedouble);
    return true;
}

/* response_types - FunctionResponseTypes (at most one: ReportBatchItemFailures,
 * the function's partial batch answer) from the body into @doc. */
static bool response_types(struct req *q, cJSON *doc)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(q->body, "FunctionResponseTypes"), *t;

    if (!v)
        return true;
    if (!cJSON_IsArray(v)) {
        refuse(q, E_INVALID_CONTENT,
               "Could not parse request body into json: FunctionResponseTypes is not a list");
        return false;
    }
    cJSON_ArrayForEach(t, v) if (!cJSON_IsString(t) ||
                                 strcmp(t->valuestring, "ReportBatchItemFailures") != 0)
    {
        refuse(q, E_INVALID_PARAM,
               "1 validation error detected: Value '[%.100s]' at 'functionResponseTypes' failed "
               "to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum "
               "value set: [ReportBatchItemFailures]]",
               cJSON_IsString(t) ? t->valuestring : "null");
        return false;
    }
    if (cJSON_GetArraySize(v) > 1) {
        refuse(q, E_INVALID_PARAM,
               "1 validation error detected: Value at 'functionResponseTypes' failed to satisfy "
               "constraint: Member must have length less than or equal to 1");
        return false;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "FunctionResponseTypes");
    cJSON_AddItemToObject(doc, "FunctionResponseTypes", cJSON_Duplicate(v, 1));
    return true;
}

/* unsupported - refuses what the region's mappings cannot do rather than
 * accept it and act otherwise: a tumbling window (its state passing), an
 * on-failure destination (discarded records would not reach it). */
static bool unsupported(struct req *q)
{
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(q->body, "TumblingWindowInSeconds");
    const cJSON *dst = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(q->body, "DestinationConfig"), "OnFailure"),
        "Destination");

    if (cJSON_IsNumber(w) && w->valuedouble != 0) {
        refuse(q, E_INVALID_PARAM,
               "TumblingWindowInSeconds is not supported by this region's event source mappings.");
        return false;
    }
    if (cJSON_IsString(dst) && *dst->valuestring) {
        refuse(q, E_INVALID_PARAM,
               "DestinationConfig.OnFailure is not supported by this region's event source "
               "mappings.");
        return false;
    }
    return true;
}

/* settings - the members Create and Update share, from the body into @doc. */
static bool settings(struct req *q, cJSON *doc)
{
    const cJSON *v;

    if (!int_member(q, doc, "BatchSize", "batchSize", 1, 10000) ||
        !int_member(q, doc, "ParallelizationFactor", "parallelizationFactor", 1, 10) ||
        !int_member(q, doc, "MaximumBatchingWindowInSeconds", "maximumBatchingWindowInSeconds", 0,
                    300) ||
        !int_member(q, doc, "MaximumRetryAttempts", "maximumRetryAttempts", -1, 10000) ||
        !int_member(q, doc, "MaximumRecordAgeInSeconds", "maximumRecordAgeInSeconds", -1, 604800))
        return false;
    v = cJSON_GetObjectItemCaseSensitive(doc, "MaximumRecordAgeInSeconds");
    if (v && v->valueint != -1 && v->valueint < 60) {
        refuse(q, E_INVALID_PARAM,
               "1 validation error detected: Value '%d' at 'maximumRecordAgeInSeconds' failed to "
               "satisfy constraint: Member must have value greater than or equal to 60",
               v->valueint);
        return false;
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(q->body, "BisectBatchOnFunctionError"))) {
        if (!cJSON_IsBool(v)) {
            refuse(q, E_INVALID_CONTENT,
                   "Could not parse request body into json: BisectBatchOnFunctionError is not a "
                   "boolean");
            return false;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(doc, "BisectBatchOnFunctionError");
        cJSON_AddBoolToObject(doc, "BisectBatchOnFunctionError", cJSON_IsTrue(v));
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(q->body, "Enabled"))) {
        if (!cJSON_IsBool(v)) {
            refuse(q, E_INVALID_CONTENT,
                   "Could not parse request body into json: Enabled is not a boolean");
            return false;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(doc, "_Enabled");
        cJSON_AddBoolToObject(doc, "_Enabled", cJSON_IsTrue(v));
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(q->body, "FilterCriteria"))) {
        const cJSON *fl = cJSON_GetObjectItemCaseSensitive(v, "Filters"), *it;

        cJSON_ArrayForEach(it, fl)
        {
            const char *pat = json_str(it, "Pattern");
            cJSON *pj = pat ? cJSON_Parse(pat) : NULL;
            bool ok = cJSON_IsObject(pj);

            cJSON_Delete(pj);
            if (!ok) {
                refuse(q, E_INVALID_PARAM, "Invalid filter pattern definition.");
                return false;
            }
        }
        cJSON_DeleteItemFromObjectCaseSensitive(doc, "FilterCriteria");
        if (cJSON_GetArraySize(fl) > 0)
            cJSON_AddItemToObject(doc, "FilterCriteria", cJSON_Duplicate(v, 1));
    }
    return response_types(q, doc) && unsupported(q);
}

cJSON *fnesm_function(struct fn *f, const char *name_or_arn, bool route, char *arn, size_t cap)
{
    char name[300];
    char *colon;
    cJSON *d;

    snprintf(name, sizeof(name), "%s", fnapi_name_of(name_or_arn));
    if ((colon = strchr(name, ':')))
        *colon++ = '\0';
    if (!fnapi_valid_name(name) || !(d = fn_reg_get(f, name)))
        return NULL;
    if (arn)
        snprintf(arn, cap, "arn:aws:lambda:%s:%s:function:%s%s%s", f->region, f->account, name,
                 colon ? ":" : "", colon ? colon : "");
    return fnapi_pick(d, colon, route);
}

/* function_of - the function (version, alias) @name_or_arn names (its
 * configuration, owned; its ARN in @arn, cap 256), or NULL after refusing. */
static cJSON *function_of(struct req *q, const char *name_or_arn, char *arn)
{
    cJSON *d = fnesm_function(q->f, name_or_arn, false, arn, 256);

    if (!d)
        refuse(q, E_NOT_FOUND, "Function does not exist");
    return d;
}

/* role_may_read - whether @fn's execution role may read stream @arn, as
 * Lambda requires of the role before it maps a stream to the function. */
static bool role_may_read(struct req *q, const cJSON *fn, const char *arn)
{
    static const char *const actions[] = {"dynamodb:GetRecords", "dynamodb:GetShardIterator",
                                          "dynamodb:DescribeStream", "dynamodb:ListStreams"};
    const char *role = json_str(fn, "Role");
    const char *name = json_str(fn, "FunctionName");
    const char *rn = role ? strrchr(role, '/') : NULL;
    struct creds_identity id;

    memset(&id, 0, sizeof(id));
    snprintf(id.account, sizeof(id.account), "%.12s", q->f->account);
    snprintf(id.user, sizeof(id.user), "%s", name ? name : "function");
    snprintf(id.arn, sizeof(id.arn), "arn:aws:sts::%s:assumed-role/%s/%s", q->f->account,
             rn ? rn + 1 : "unknown", name ? name : "function");
    snprintf(id.access_key, sizeof(id.access_key), "ASIAEVENTSOURCEMAPPING");
    for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
        struct err e = {0};
        struct authz_request r = {.who = &id, .action = actions[i], .resource = arn};

        if (authz_check(q->f->authz, &r, &e) != ERR_OK) {
            refuse(q, E_INVALID_PARAM,
                   "Cannot access stream %s. Please ensure the role can perform the GetRecords, "
                   "GetShardIterator, DescribeStream, and ListStreams Actions on your stream in "
                   "IAM.",
                   arn);
            return false;
        }
    }
    return true;
}

/* stream_ok - @arn names a stream of this region that exists. */
static bool stream_ok(struct req *q, const char *arn)
{
    char prefix[128];
    size_t n = (size_t)snprintf(prefix, sizeof(prefix), "arn:aws:dynamodb:%s:%s:table/",
                                q->f->region, q->f->account);

    if (strncmp(arn, "arn:aws:dynamodb:", 17) != 0 || !strstr(arn, "/stream/")) {
        refuse(q, E_INVALID_PARAM,
               "Unsupported event source type: %s. This region maps DynamoDB streams only.", arn);
        return false;
    }
    if (strncmp(arn, prefix, n) != 0 || !fnesm_stream_shard(q->f, arn, NULL, 0, NULL, 0)) {
        refuse(q, E_INVALID_PARAM, "Stream not found: %s", arn);
        return false;
    }
    return true;
}

static bool change_create(void *arg, cJSON **doc)
{
    struct req *q = arg;

    if (*doc) {
        refuse(q, E_CONFLICT, "The event source mapping already exists");
        return false;
    }
    *doc = cJSON_Duplicate(q->newdoc, 1);
    q->status = 202;
    q->answer = fnapi_public_config(*doc);
    return true;
}

static void new_uuid(char *out)
{
    unsigned char b[16];
    char h[33];

    if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
        memset(b, 7, sizeof(b));
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    hex_encode(b, sizeof(b), h);
    snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
}

/* find_pair - in @o (UUID -> mapping), the UUID mapping @arn to @fnarn, or NULL. */
static const char *find_pair(const cJSON *o, const char *arn, const char *fnarn)
{
    const cJSON *d;

    cJSON_ArrayForEach(d, o)
    {
        const char *a = json_str(d, "EventSourceArn"), *fa = json_str(d, "FunctionArn");

        if (a && fa && strcmp(a, arn) == 0 && strcmp(fa, fnarn) == 0)
            return d->string;
    }
    return NULL;
}

/* existing - the UUID of a mapping (or a create under way) of @arn to
 * @fnarn (arena), or NULL after reserving the pair for @uuid's create, so
 * two concurrent creates of one pair cannot both succeed (req_done frees it). */
static const char *existing(struct req *q, const char *arn, const char *fnarn, const char *uuid)
{
    struct fn_esm *m = q->f->esm;
    const char *found;

    pthread_mutex_lock(&m->mu);
    found = find_pair(m->maps, arn, fnarn);
    if (!found)
        found = find_pair(m->pending, arn, fnarn);
    if (found) {
        found = arena_strdup(q->r->arena, found);
    } else {
        cJSON *p = cJSON_AddObjectToObject(m->pending, uuid);

        cJSON_AddStringToObject(p, "EventSourceArn", arn);
        cJSON_AddStringToObject(p, "FunctionArn", fnarn);
        snprintf(q->reserved, sizeof(q->reserved), "%s", uuid);
    }
    pthread_mutex_unlock(&m->mu);
    return found;
}

/* taken - refuses a mapping of stream @arn to @fnarn when another one, @dup
 * (not @uuid itself), maps that pair already; false when free. */
static bool taken(struct req *q, const char *arn, const char *fnarn, const char *uuid)
{
    const char *dup = existing(q, arn, fnarn, uuid);

    if (!dup || strcmp(dup, uuid) == 0)
        return false;
    refuse(q, E_CONFLICT,
           "The event source arn (\" %s \") and function (\" %s \") provided mapping already "
           "exists. Please update or delete the existing mapping with UUID %s",
           arn, fnapi_name_of(fnarn), dup);
    return true;
}

/* tags_ok - the body's Tags: a map of strings, as Lambda takes them */
static bool tags_ok(struct req *q, const cJSON *tags)
{
    const cJSON *it;

    if (!tags)
        return true;
    if (!cJSON_IsObject(tags)) {
        refuse(q, E_INVALID_CONTENT, "Could not parse request body into json: Tags is not a map");
        return false;
    }
    cJSON_ArrayForEach(it, tags)
    {
        if (!cJSON_IsString(it)) {
            refuse(q, E_INVALID_CONTENT,
                   "Could not parse request body into json: the value of tag %.128s is not a "
                   "string",
                   it->string);
            return false;
        }
    }
    return true;
}

/* create - CreateEventSourceMapping: true once submitted (answered from the
 * writer), false after a refusal (to answer). */
static bool create(struct req *q)
{
    const cJSON *fname = cJSON_GetObjectItemCaseSensitive(q->body, "FunctionName");
    const cJSON *arn = cJSON_GetObjectItemCaseSensitive(q->body, "EventSourceArn");
    const cJSON *pos = cJSON_GetObjectItemCaseSensitive(q->body, "StartingPosition");
    cJSON *fn = NULL, *d;
    char uuid[37], fnarn[256];

    if (!cJSON_IsString(fname) || !fname->valuestring[0]) {
        refuse(q, E_INVALID_PARAM,
               "1 validation error detected: Value null at 'functionName' failed to satisfy "
               "constraint: Member must not be null");
        return false;
    }
    if (!cJSON_IsString(arn)) {
        refuse(q, E_INVALID_PARAM, "Unrecognized event source.");
        return false;
    }
    if (pos && (!cJSON_IsString(pos) ||
                (strcmp(pos->valuestring, "TRIM_HORIZON") && strcmp(pos->valuestring, "LATEST") &&
                 strcmp(pos->valuestring, "AT_TIMESTAMP")))) {
        refuse(q, E_VALIDATION,
               "1 validation error detected: Value '%s' at 'startingPosition' failed to satisfy "
               "constraint: Member must satisfy enum value set: [LATEST, AT_TIMESTAMP, "
               "TRIM_HORIZON]",
               cJSON_IsString(pos) ? pos->valuestring : "null");
        return false;
    }
    if (cJSON_GetObjectItemCaseSensitive(q->body, "StartingPositionTimestamp") &&
        (!pos || strcmp(pos->valuestring, "AT_TIMESTAMP") != 0)) {
        refuse(q, E_INVALID_PARAM, "Timestamp only valid with StartingPosition AT_TIMESTAMP");
        return false;
    }
    new_uuid(uuid);
    d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "UUID", uuid);
    cJSON_AddStringToObject(d, "StartingPosition",
                            cJSON_GetStringValue(pos) ? pos->valuestring : "");
    cJSON_AddNumberToObject(d, "BatchSize", 100);
    cJSON_AddNumberToObject(d, "MaximumBatchingWindowInSeconds", 0);
    cJSON_AddNumberToObject(d, "ParallelizationFactor", 1);
    cJSON_AddStringToObject(d, "EventSourceArn", arn->valuestring);
    cJSON_AddStringToObject(d, "FunctionArn", "");
    cJSON_AddNumberToObject(d, "LastModified", 0);
    cJSON_AddStringToObject(d, "LastProcessingResult", "No records processed");
    cJSON_AddStringToObject(d, "State", "Creating");
    cJSON_AddStringToObject(d, "StateTransitionReason", "User action");
    cJSON_AddObjectToObject(cJSON_AddObjectToObject(d, "DestinationConfig"), "OnFailure");
    cJSON_AddNumberToObject(d, "MaximumRecordAgeInSeconds", -1);
    cJSON_AddBoolToObject(d, "BisectBatchOnFunctionError", false);
    cJSON_AddNumberToObject(d, "MaximumRetryAttempts", -1);
    cJSON_AddNumberToObject(d, "TumblingWindowInSeconds", 0);
    cJSON_AddArrayToObject(d, "FunctionResponseTypes");
    cJSON_AddStringToObject(d, "EventSourceMappingArn",
                            arena_sprintf(q->r->arena,
                                          "arn:aws:lambda:%s:%s:event-source-mapping:%s",
                                          q->f->region, q->f->account, uuid));
    cJSON_AddBoolToObject(d, "_Enabled", true);
    q->newdoc = d;
    if (!tags_ok(q, cJSON_GetObjectItemCaseSensitive(q->body, "Tags")))
        return false;
    fnapi_tags_merge(d, q->body);
    if (!settings(q, d)) /* the model's constraints come first */
        return false;
    if (!stream_ok(q, arn->valuestring))
        return false;
    if (!pos) {
        refuse(q, E_INVALID_PARAM,
               "1 validation error detected: Value null at 'startingPosition' failed to satisfy "
               "constraint: Member must not be null.");
        return false;
    }
    if (strcmp(pos->valuestring, "AT_TIMESTAMP") == 0) { /* streams of tables have no time */
        refuse(q, E_INVALID_PARAM, "Unsupported starting position for arn type: %s",
               arn->valuestring);
        return false;
    }
    if (!(fn = function_of(q, fname->valuestring, fnarn)))
        return false;
    if (!role_may_read(q, fn, arn->valuestring))
        goto out;
    if (taken(q, arn->valuestring, fnarn, uuid))
        goto out;
    fnapi_set_str(d, "FunctionArn", fnarn);
    set_state(d, "Creating", "User action");
    cJSON_Delete(fn);
    submit(q, uuid, change_create);
    return true;
out:
    cJSON_Delete(fn);
    return false;
}

/* in_use - whether @d is in a state no change may start from. */
static bool in_use(struct req *q, const cJSON *d)
{
    const char *s = json_str(d, "State");

    if (s && (strcmp(s, "Enabled") == 0 || strcmp(s, "Disabled") == 0))
        return false;
    refuse(q, E_IN_USE, "Cannot update the event source mapping because it is in use.");
    return true;
}

static bool exists(struct req *q, const cJSON *d)
{
    if (d)
        return true;
    refuse(q, E_NOT_FOUND, "The resource you requested does not exist.");
    return false;
}

static bool change_update(void *arg, cJSON **doc)
{
    struct req *q = arg;
    bool was, now;
    const cJSON *v;

    if (!exists(q, *doc) || in_use(q, *doc))
        return false;
    was = json_true(*doc, "_Enabled");
    if (!settings(q, *doc))
        return false;
    if ((v = cJSON_GetObjectItemCaseSensitive(q->newdoc, "FunctionArn")))
        fnapi_set_str(*doc, "FunctionArn", v->valuestring);
    now = json_true(*doc, "_Enabled");
    set_state(*doc, was == now ? "Updating" : now ? "Enabling" : "Disabling", "User action");
    q->status = 202;
    q->answer = fnapi_public_config(*doc);
    return true;
}

static bool change_delete(void *arg, cJSON **doc)
{
    struct req *q = arg;
    const char *s;

    if (!exists(q, *doc))
        return false;
    s = json_str(*doc, "State");
    if (s && strcmp(s, "Deleting") == 0) {
        refuse(q, E_IN_USE, "Cannot delete the event source mapping because it is in use.");
        return false;
    }
    set_state(*doc, "Deleting", "User action");
    q->status = 202;
    q->answer = fnapi_public_config(*doc);
    return true;
}

/* update - UpdateEventSourceMapping: true once submitted, false after a refusal. */
static bool update(struct req *q, const char *uuid)
{
    const cJSON *fname = cJSON_GetObjectItemCaseSensitive(q->body, "FunctionName");
    char fnarn[256];
    cJSON *fn;

    q->newdoc = cJSON_CreateObject();
    /* checked here too, so refusals come before the write; and first (the
     * model's constraints), so nothing is refused after taken() reserved */
    if (!settings(q, q->newdoc))
        return false;
    if (fname) {
        cJSON *cur = fnesm_get(q->f, uuid);
        bool ok;

        if (!cJSON_IsString(fname) || !(fn = function_of(q, fname->valuestring, fnarn))) {
            cJSON_Delete(cur);
            return false;
        }
        /* the new function's role must read the stream too, and no other
         * mapping may map the stream to it already */
        ok = !cur || (role_may_read(q, fn, json_str(cur, "EventSourceArn")) &&
                      !taken(q, json_str(cur, "EventSourceArn"), fnarn, uuid));
        cJSON_Delete(cur);
        cJSON_Delete(fn);
        if (!ok)
            return false;
        cJSON_AddStringToObject(q->newdoc, "FunctionArn", fnarn);
    }
    submit(q, uuid, change_update);
    return true;
}

/* matches - whether mapping @d is listed for the filters @arn and @name. */
static bool matches(const cJSON *d, const char *arn, const char *name)
{
    const char *a = json_str(d, "EventSourceArn");
    const char *fa = json_str(d, "FunctionArn");

    if (arn && (!a || strcmp(a, arn) != 0))
        return false;
    return !name || (fa && strcmp(fnapi_name_of(fa), fnapi_name_of(name)) == 0);
}

/* list - ListEventSourceMappings; false after a refusal (to answer). */
static bool list(struct req *q)
{
    const char *arn = fnapi_query_param(q->r, "EventSourceArn");
    const char *name = fnapi_query_param(q->r, "FunctionName");
    const char *marker = fnapi_query_param(q->r, "Marker");
    const char *maxs = fnapi_query_param(q->r, "MaxItems");
    long max = maxs ? strtol(maxs, NULL, 10) : LIST_DEFAULT;
    cJSON *ids = fnesm_uuids(q->f), *id, *out = cJSON_CreateObject(), *arr;
    long n = 0;

    if (max < 1 || max > 10000) {
        refuse(q, E_INVALID_PARAM,
               "1 validation error detected: Value '%s' at 'maxItems' failed to satisfy "
               "constraint: Member must have value %s",
               maxs, max < 1 ? "greater than or equal to 1" : "less than or equal to 10000");
        cJSON_Delete(ids);
        cJSON_Delete(out);
        return false;
    }
    arr = cJSON_AddArrayToObject(out, "EventSourceMappings");
    cJSON_ArrayForEach(id, ids)
    {
        cJSON *d;

        if (marker && strcmp(id->valuestring, marker) <= 0)
            continue;
        d = fnesm_get(q->f, id->valuestring);
        if (d && matches(d, arn, name)) {
            if (n == max) {
                cJSON_Delete(d);
                cJSON_AddStringToObject(
                    out, "NextMarker",
                    cJSON_GetStringValue(cJSON_GetArrayItem(arr, (int)n - 1)->child));
                break;
            }
            cJSON_AddItemToArray(arr, fnapi_public_config(d));
            n++;
        }
        cJSON_Delete(d);
    }
    cJSON_Delete(ids);
    fnapi_answer_json(q->r, 200, out);
    return true;
}

/* allowed - whether the caller may do lambda:@action on @resource. */
static bool allowed(struct req *q, const struct creds_identity *who, const char *action,
                    const char *resource)
{
    struct err e = {0};
    struct authz_kv kv[FNAPI_CONTEXT_MAX];
    struct authz_request a = {.who = who,
                              .action = action,
                              .resource = resource,
                              .context = kv,
                              .ncontext = fnapi_context(q->f, q->r, kv)};

    if (authz_check(q->f->authz, &a, &e) == ERR_OK)
        return true;
    refuse(q, E_DENIED, "%s", e.msg[0] ? e.msg : "Access denied");
    return false;
}

/* ---- tags: TagResource, UntagResource and ListTags on a mapping's ARN ---- */

static bool change_tag(void *arg, cJSON **doc)
{
    struct req *q = arg;

    if (!exists(q, *doc))
        return false;
    fnapi_tags_merge(*doc, q->body);
    q->status = 204;
    return true;
}

static bool change_untag(void *arg, cJSON **doc)
{
    struct req *q = arg;

    if (!exists(q, *doc))
        return false;
    fnapi_tags_remove(*doc, q->r->arena, q->r->query);
    q->status = 204;
    return true;
}

void fnesm_tags(struct fn *f, struct http_req *r, const struct creds_identity *who, const char *arn)
{
    struct req *q = xcalloc(1, sizeof(*q));
    const char *m = r->method, *uuid = strstr(arn, ":event-source-mapping:");
    const char *action = strcmp(m, "GET") == 0      ? "lambda:ListTags"
                         : strcmp(m, "POST") == 0   ? "lambda:TagResource"
                         : strcmp(m, "DELETE") == 0 ? "lambda:UntagResource"
                                                    : NULL;
    char mine[256];
    cJSON *d;

    q->f = f;
    q->r = r;
    q->kind = E_UNKNOWN_OP;
    snprintf(q->msg, sizeof(q->msg), "Unknown operation");
    uuid += strlen(":event-source-mapping:");
    snprintf(mine, sizeof(mine), "arn:aws:lambda:%s:%s:event-source-mapping:%s", f->region,
             f->account, uuid);
    if (!action || !allowed(q, who, action, arn))
        goto answer;
    if (strcmp(mine, arn) != 0) { /* another region's or account's */
        refuse(q, E_NOT_FOUND, "The resource you requested does not exist.");
        goto answer;
    }
    if (strcmp(m, "GET") == 0) {
        if (!exists(q, d = fnesm_get(f, uuid)))
            goto answer;
        fnapi_answer_json(r, 200, fnapi_tags_answer(d));
        cJSON_Delete(d);
        free(q);
        return;
    }
    if (strcmp(m, "POST") == 0) {
        if (!(q->body = fnapi_parse_body(r))) {
            free(q);
            return;
        }
        if (!tags_ok(q, cJSON_GetObjectItemCaseSensitive(q->body, "Tags")))
            goto answer;
    }
    submit(q, uuid, strcmp(m, "POST") == 0 ? change_tag : change_untag);
    return;
answer:
    fnapi_answer_error(r, q->kind, q->msg);
    cJSON_Delete(q->body);
    free(q);
}

void fnesm_handle(struct fn *f, struct http_req *r, const struct creds_identity *who)
{
    const char *rest = r->path + 33, *m = r->method;
    struct req *q = xcalloc(1, sizeof(*q));
    char *uuid = NULL;

    q->f = f;
    q->r = r;
    q->kind = E_UNKNOWN_OP;
    snprintf(q->msg, sizeof(q->msg), "Unknown operation");
    if (*rest && *rest != '/')
        goto answer; /* e.g. /2015-03-31/event-source-mappingsX */
    if (*rest == '/')
        rest++;
    if (*rest) {
        uuid = fnapi_seg_decode(r->arena, rest, strlen(rest));
        if (!uuid || !*uuid)
            goto answer;
        if (uuid[strlen(uuid) - 1] == '/')
            uuid[strlen(uuid) - 1] = '\0';
    }
    if (!f->esm->call) {
        refuse(q, E_SERVICE, "Event source mappings are not available in this region");
        goto answer;
    }
    if (!uuid || !*uuid) {
        if (strcmp(m, "GET") == 0) {
            if (!allowed(q, who, "lambda:ListEventSourceMappings", "*") || !list(q))
                goto answer;
            free(q);
            return;
        }
        if (strcmp(m, "POST") != 0)
            goto answer;
        if (!allowed(q, who, "lambda:CreateEventSourceMapping", "*"))
            goto answer;
        if (!(q->body = fnapi_parse_body(r))) {
            free(q);
            return;
        }
        if (create(q))
            return; /* answered from the writer */
        goto answer;
    }
    {
        const char *arn = arena_sprintf(r->arena, "arn:aws:lambda:%s:%s:event-source-mapping:%s",
                                        f->region, f->account, uuid);
        const char *action = strcmp(m, "GET") == 0      ? "lambda:GetEventSourceMapping"
                             : strcmp(m, "PUT") == 0    ? "lambda:UpdateEventSourceMapping"
                             : strcmp(m, "DELETE") == 0 ? "lambda:DeleteEventSourceMapping"
                                                        : NULL;
        cJSON *d;

        if (!action || strchr(uuid, '/'))
            goto answer;
        if (!allowed(q, who, action, arn))
            goto answer;
        if (strcmp(m, "GET") == 0) {
            if (!exists(q, d = fnesm_get(f, uuid)))
                goto answer;
            fnapi_answer_json(r, 200, fnapi_public_config(d));
            cJSON_Delete(d);
            free(q);
            return;
        }
        if (!(q->body = fnapi_parse_body(r))) {
            free(q);
            return;
        }
        if (strcmp(m, "DELETE") == 0) {
            submit(q, uuid, change_delete);
            return;
        }
        if (update(q, uuid))
            return;
    }
answer:
    fnapi_answer_error(r, q->kind, q->msg);
    cJSON_Delete(q->body);
    cJSON_Delete(q->newdoc);
    free(q);
}

/* ---- lifecycle ---- */

enum err_code fnesm_open(struct fn *f, const struct fn_opts *o, struct err *e)
{
    struct fn_esm *m = xcalloc(1, sizeof(*m));
    enum err_code rc;

    pthread_mutex_init(&m->mu, NULL);
    m->maps = cJSON_CreateObject();
    m->pending = cJSON_CreateObject();
    m->call = o->stream_call;
    m->seq = o->stream_seq;
    m->ud = o->stream_ud;
    f->esm = m;
    rc = load(f, e);
    if (rc == ERR_OK && m->call)
        rc = fnesm_poll_start(f, e);
    return rc;
}

void fnesm_close(struct fn *f)
{
    struct fn_esm *m = f->esm;

    if (!m)
        return;
    fnapi_wait_idle(f); /* the API's changes in flight kick the poller */
    fnesm_poll_stop(f);
    cJSON_Delete(m->maps);
    cJSON_Delete(m->pending);
    pthread_mutex_destroy(&m->mu);
    free(m);
    f->esm = NULL;
}
