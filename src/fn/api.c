/* api.c - the Lambda REST API (lambda/2015-03-31 model): the one table of
 * errors, the read-modify-write of a function's document, packages, the core
 * operations (create, get, list, delete, update), invoke, and the routing of
 * every request. The configuration around a function (resource policy, URL
 * configuration, tags, code download, logs) is in api_conf.c; versions and
 * aliases in api_version.c; serving function URLs is in url_serve.c; what
 * they share is api_int.h. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include "clock.h"
#include "codec.h"
#include "api_int.h"
#include "async_int.h"
#include "esm_int.h"
#include "fn_int.h"
#include "jobs.h"
#include "log.h"
#include "mem.h"

#define EVENT_PAYLOAD_MAX  (256u * 1024)
#define CLIENT_CONTEXT_MAX 3583 /* bytes of base64 in X-Amz-Client-Context */
#define PKG_WORKERS        2    /* threads fetching and unpacking packages */
#define PKG_QUEUED         1024 /* packages waiting for them, at most */

/* ---- errors: one table ---- */

/* member: the text's member in the body, spelt as the model's shape has it
 * (botocore lambda/2015-03-31: ResourceNotFoundException has "Message",
 * InvalidParameterValueException "message"), as Lambda writes it */
static const struct {
    const char *type;
    int status;
    const char *member;
} errors[] = {
    [E_NOT_FOUND] = {"ResourceNotFoundException", 404, "Message"},
    [E_CONFLICT] = {"ResourceConflictException", 409, "message"},
    [E_INVALID_PARAM] = {"InvalidParameterValueException", 400, "message"},
    [E_INVALID_CONTENT] = {"InvalidRequestContentException", 400, "message"},
    [E_TOO_LARGE] = {"RequestTooLargeException", 413, "message"},
    [E_SERVICE] = {"ServiceException", 500, "Message"},
    [E_DENIED] = {"AccessDeniedException", 403, "Message"},
    [E_UNKNOWN_OP] = {"UnknownOperationException", 404, "Message"},
    [E_PRECONDITION] = {"PreconditionFailedException", 412, "message"},
    [E_INVALID_RUNTIME] = {"InvalidRuntimeException", 502, "Message"},
    [E_IN_USE] = {"ResourceInUseException", 400, "Message"},
    [E_TOO_MANY] = {"TooManyRequestsException", 429, "message"},
    [E_VALIDATION] = {"ValidationException", 400, "message"},
};

void fnapi_answer_json(struct http_req *r, int status, cJSON *doc)
{
    char *t = doc ? cJSON_PrintUnformatted(doc) : NULL;

    http_resp_header(r, "Content-Type", "application/json");
    http_resp_header(r, "x-amzn-RequestId", arena_sprintf(r->arena, "%08x", (unsigned)rand()));
    http_respond(r, status, t ? t : "", t ? strlen(t) : 0);
    free(t);
    cJSON_Delete(doc);
}

void fnapi_answer_error(struct http_req *r, enum fn_error k, const char *msg)
{
    cJSON *o = cJSON_CreateObject();

    cJSON_AddStringToObject(o, "Type", errors[k].status >= 500 ? "Service" : "User");
    cJSON_AddStringToObject(o, errors[k].member, msg);
    http_resp_header(r, "X-Amzn-ErrorType", errors[k].type);
    fnapi_answer_json(r, errors[k].status, o);
}

static enum fn_error code_error(enum err_code c)
{
    switch (c) {
    case ERR_INVALID:
        return E_INVALID_PARAM;
    case ERR_NOTFOUND:
        return E_NOT_FOUND;
    case ERR_CONFLICT:
        return E_CONFLICT;
    case ERR_TOO_LARGE:
        return E_TOO_LARGE;
    case ERR_DENIED:
        return E_DENIED;
    default:
        return E_SERVICE;
    }
}

/* ---- helpers ---- */

char *fnapi_arn(struct fn *f, struct arena *a, const char *name, const char *qual)
{
    return arena_sprintf(a, "arn:aws:lambda:%s:%s:function:%s%s%s", f->region, f->account, name,
                         qual ? ":" : "", qual ? qual : "");
}

const char *fnapi_str(const cJSON *o, const char *k)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

void fnapi_now_iso(char *out, size_t cap)
{
    int64_t ms = clock_wall_ms();
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    char b[24];

    gmtime_r(&s, &tm);
    strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, cap, "%.19s.%03d+0000", b, (int)(ms % 1000));
}

void fnapi_uuid(char *out)
{
    unsigned char b[16];
    char h[33];

    if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
        memset(b, 7, sizeof(b));
    hex_encode(b, sizeof(b), h);
    snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
}

/* pct-decode a path segment (arena); NULL if malformed */
char *fnapi_seg_decode(struct arena *a, const char *s, size_t n)
{
    char *out = arena_alloc(a, n + 1), *o = out;
    size_t i;

    for (i = 0; i < n; i++) {
        if (s[i] == '%') {
            unsigned v;
            if (i + 2 >= n)
                return NULL;
            if (sscanf(s + i + 1, "%2x", &v) != 1)
                return NULL;
            *o++ = (char)v;
            i += 2;
        } else
            *o++ = s[i];
    }
    *o = '\0';
    return out;
}

/* fnapi_name_of - the function name of a FunctionName path parameter (name, ARN or partial ARN). */
const char *fnapi_name_of(const char *p)
{
    const char *f = strstr(p, "function:");
    const char *n = f ? f + 9 : p;
    const char *colon = strchr(n, ':');

    (void)colon;
    return n;
}

/* ---- FunctionName's pattern ---- */

/* the model's patterns as Lambda quotes them (FunctionName, and
 * NamespacedFunctionName, which takes '.' in the name) */
#define NAME_PATTERN_HEAD                                                                          \
    "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\\d{1}:)?(\\d{12}:)?"     \
    "(function:)?"
#define NAME_PATTERN       NAME_PATTERN_HEAD "([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?"
#define NAMESPACED_PATTERN NAME_PATTERN_HEAD "([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?"

static bool all_of(const char *t, size_t n, const char *set)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (!strchr(set, t[i]) || !t[i])
            return false;
    return true;
}

#define WORD_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"

/* region_token - [a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\d{1} */
static bool region_token(const char *t, size_t n)
{
    static const char *const mid[] = {"", "-gov", "-iso", "-isob", NULL};
    size_t i, k;

    if (n < 2 || !all_of(t, 2, "abcdefghijklmnopqrstuvwxyz"))
        return false;
    for (i = 0; mid[i]; i++) {
        size_t m = strlen(mid[i]), p = 2 + m, q;
        if (p > n || strncmp(t + 2, mid[i], m) != 0 || p >= n || t[p] != '-')
            continue;
        for (q = p + 1; q < n && t[q] >= 'a' && t[q] <= 'z'; q++)
            ;
        k = q - p - 1;
        if (k >= 1 && q + 2 == n && t[q] == '-' && t[q + 1] >= '0' && t[q + 1] <= '9')
            return true;
    }
    return false;
}

/* name_pattern_ok - whether @s matches the FunctionName pattern (@dots: the
 * NamespacedFunctionName one): its ':'-separated parts tried with and
 * without each optional prefix, as the regular expression does */
static bool name_pattern_ok(const char *s, bool dots)
{
    const char *tok[8];
    size_t len[8], n = 0, i;
    const char *p = s;
    unsigned mask;

    for (;;) {
        const char *c = strchr(p, ':');
        if (n == 8)
            return false;
        tok[n] = p;
        len[n] = c ? (size_t)(c - p) : strlen(p);
        n++;
        if (!c)
            break;
        p = c + 1;
    }
    for (mask = 0; mask < 16; mask++) {
        i = 0;
        if (mask & 1) { /* arn:(aws[a-zA-Z-]*)?:lambda: */
            if (n < i + 3 || len[i] != 3 || strncmp(tok[i], "arn", 3) != 0 ||
                (len[i + 1] &&
                 (len[i + 1] < 3 || strncmp(tok[i + 1], "aws", 3) != 0 ||
                  !all_of(tok[i + 1] + 3, len[i + 1] - 3,
                          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-"))) ||
                len[i + 2] != 6 || strncmp(tok[i + 2], "lambda", 6) != 0)
                continue;
            i += 3;
        }
        if (mask & 2) {
            if (i >= n || !region_token(tok[i], len[i]))
                continue;
            i++;
        }
        if (mask & 4) {
            if (i >= n || len[i] != 12 || !all_of(tok[i], 12, "0123456789"))
                continue;
            i++;
        }
        if (mask & 8) {
            if (i >= n || len[i] != 8 || strncmp(tok[i], "function", 8) != 0)
                continue;
            i++;
        }
        if (i >= n || !len[i] || !all_of(tok[i], len[i], dots ? WORD_CHARS "." : WORD_CHARS))
            continue;
        i++;
        if (i == n)
            return true;
        if (i + 1 == n && len[i] &&
            ((len[i] == 7 && strncmp(tok[i], "$LATEST", 7) == 0) ||
             all_of(tok[i], len[i], WORD_CHARS)))
            return true;
    }
    return false;
}

bool fnapi_name_pattern(const char *p)
{
    return name_pattern_ok(p, false);
}

bool fnapi_name_ok(struct http_req *r, const char *p, bool dots)
{
    if (name_pattern_ok(p, dots))
        return true;
    fnapi_answer_error(r, E_VALIDATION,
                       arena_sprintf(r->arena,
                                     "1 validation error detected: Value '%s' at 'functionName' "
                                     "failed to satisfy constraint: Member must satisfy regular "
                                     "expression pattern: %s",
                                     p, dots ? NAMESPACED_PATTERN : NAME_PATTERN));
    return false;
}

bool fnapi_region_reachable(struct fn *f, struct http_req *r, const char *p)
{
    const char *reg, *end;

    if (strncmp(p, "arn:", 4) != 0)
        return true;
    /* arn:PARTITION:lambda:REGION:... */
    reg = strchr(p + 4, ':');
    reg = reg ? strchr(reg + 1, ':') : NULL;
    end = reg ? strchr(reg + 1, ':') : NULL;
    if (!end || (size_t)(end - reg - 1) == 0 ||
        ((size_t)(end - reg - 1) == strlen(f->region) &&
         strncmp(reg + 1, f->region, strlen(f->region)) == 0))
        return true;
    fnapi_answer_error(r, E_NOT_FOUND,
                       arena_sprintf(r->arena,
                                     "Functions from '%.*s' are not reachable in this region "
                                     "('%s')",
                                     (int)(end - reg - 1), reg + 1, f->region));
    return false;
}

bool fnapi_valid_name(const char *n)
{
    size_t i, len = strlen(n);

    if (len == 0 || len > 64)
        return false;
    for (i = 0; i < len; i++) {
        char c = n[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

size_t fnapi_context(const struct fn *f, const struct http_req *r, struct authz_kv *kv)
{
    size_t n = 0;

    if (r->remote_addr && *r->remote_addr)
        kv[n++] = (struct authz_kv){"aws:SourceIp", r->remote_addr};
    kv[n++] = (struct authz_kv){"aws:SecureTransport", r->tls ? "true" : "false"};
    kv[n++] = (struct authz_kv){"aws:RequestedRegion", f->region};
    return n;
}

static bool authorize(struct fn *f, struct http_req *r, const struct creds_identity *who,
                      const char *action, const char *name)
{
    struct err e = {0};
    struct authz_kv kv[FNAPI_CONTEXT_MAX];
    struct authz_request q = {
        .who = who,
        .action = action,
        .resource = name ? fnapi_arn(f, r->arena, name, NULL)
                         : arena_sprintf(r->arena, "arn:aws:lambda:%s:%s:function:*", f->region,
                                         f->account),
        .context = kv,
        .ncontext = fnapi_context(f, r, kv),
    };

    if (authz_check(f->authz, &q, &e) == ERR_OK)
        return true;
    fnapi_answer_error(r, E_DENIED, e.msg[0] ? e.msg : "Access denied");
    return false;
}

cJSON *fnapi_public_config(const cJSON *doc)
{
    cJSON *o = cJSON_Duplicate(doc, 1), *it, *next;

    for (it = o->child; it; it = next) {
        next = it->next;
        if (it->string && it->string[0] == '_')
            cJSON_Delete(cJSON_DetachItemViaPointer(o, it));
    }
    /* a function's configuration: the members Lambda always shows, with the
     * values of a function that sets none (no SnapStart, text logs to the
     * function's own group) */
    if (cJSON_GetObjectItemCaseSensitive(o, "CodeSha256")) {
        if (!cJSON_GetObjectItemCaseSensitive(o, "SnapStart")) {
            cJSON *s = cJSON_AddObjectToObject(o, "SnapStart");
            cJSON_AddStringToObject(s, "ApplyOn", "None");
            cJSON_AddStringToObject(s, "OptimizationStatus", "Off");
        }
        if (!cJSON_GetObjectItemCaseSensitive(o, "LoggingConfig")) {
            cJSON *l = cJSON_AddObjectToObject(o, "LoggingConfig");
            const char *name = fnapi_str(o, "FunctionName");
            char group[96];
            snprintf(group, sizeof(group), "/aws/lambda/%s", name ? name : "");
            cJSON_AddStringToObject(l, "LogFormat", "Text");
            cJSON_AddStringToObject(l, "LogGroup", group);
        }
    }
    return o;
}

/* as_creating - the answer @c (taken, returned) as Lambda answers a function
 * or version it has just made: State Pending, being created, and no
 * LastUpdateStatus yet. Here it is ready once answered: GetFunction says
 * Active, as Lambda does a moment later. */
static cJSON *as_creating(cJSON *c)
{
    cJSON_DeleteItemFromObjectCaseSensitive(c, "LastUpdateStatus");
    fnapi_set_str(c, "State", "Pending");
    fnapi_set_str(c, "StateReason", "The function is being created.");
    fnapi_set_str(c, "StateReasonCode", "Creating");
    return c;
}

/* as_updating - the answer @c (taken, returned) as Lambda answers a change of
 * $LATEST: its LastUpdateStatus InProgress (Successful once read back). */
static cJSON *as_updating(cJSON *c)
{
    fnapi_set_str(c, "LastUpdateStatus", "InProgress");
    fnapi_set_str(c, "LastUpdateStatusReason", "The function is being created.");
    fnapi_set_str(c, "LastUpdateStatusReasonCode", "Creating");
    return c;
}

cJSON *fnapi_listed_config(const cJSON *doc)
{
    static const char *const state[] = {"State",
                                        "StateReason",
                                        "StateReasonCode",
                                        "LastUpdateStatus",
                                        "LastUpdateStatusReason",
                                        "LastUpdateStatusReasonCode",
                                        NULL};
    cJSON *o = fnapi_public_config(doc);
    size_t i;

    for (i = 0; state[i]; i++)
        cJSON_DeleteItemFromObjectCaseSensitive(o, state[i]);
    return o;
}

cJSON *fnapi_parse_body(struct http_req *r)
{
    cJSON *b =
        cJSON_ParseWithLength(r->body.ptr ? r->body.ptr : "{}", r->body.ptr ? r->body.len : 2);

    if (!cJSON_IsObject(b)) {
        cJSON_Delete(b);
        fnapi_answer_error(r, E_INVALID_CONTENT,
                           "Could not parse request body into json: Could not "
                           "parse payload into json");
        return NULL;
    }
    return b;
}

void fnapi_rev(cJSON *doc)
{
    char u[37], t[40];

    fnapi_uuid(u);
    fnapi_now_iso(t, sizeof(t));
    cJSON_DeleteItemFromObject(doc, "RevisionId");
    cJSON_AddStringToObject(doc, "RevisionId", u);
    cJSON_DeleteItemFromObject(doc, "LastModified");
    cJSON_AddStringToObject(doc, "LastModified", t);
}

void fnapi_rev_id(cJSON *doc)
{
    char u[37];

    fnapi_uuid(u);
    cJSON_DeleteItemFromObject(doc, "RevisionId");
    cJSON_AddStringToObject(doc, "RevisionId", u);
}

void fnapi_set_str(cJSON *o, const char *k, const char *v)
{
    cJSON *n = cJSON_CreateString(v); /* first: @v may be @o's own member @k */

    if (cJSON_GetObjectItemCaseSensitive(o, k))
        cJSON_ReplaceItemInObjectCaseSensitive(o, k, n);
    else
        cJSON_AddItemToObject(o, k, n);
}

static void set_num(cJSON *o, const char *k, double v)
{
    cJSON_DeleteItemFromObjectCaseSensitive(o, k);
    cJSON_AddNumberToObject(o, k, v);
}

/* ---- changes: one read-modify-write of the stored document per request ---- */

void fnapi_wait_idle(struct fn *f)
{
    pthread_mutex_lock(&f->mu);
    while (f->busy)
        pthread_cond_wait(&f->idle, &f->mu);
    pthread_mutex_unlock(&f->mu);
}

struct op *fnapi_op_new(struct fn *f, struct http_req *r, const char *name, fnapi_op_fn *change)
{
    struct op *o = xcalloc(1, sizeof(*o));

    o->f = f;
    o->r = r;
    snprintf(o->name, sizeof(o->name), "%s", name);
    o->change = change;
    pthread_mutex_lock(&f->mu);
    f->busy++;
    pthread_mutex_unlock(&f->mu);
    return o;
}

static void op_free(struct op *o)
{
    struct fn *f = o->f;

    cJSON_Delete(o->body);
    cJSON_Delete(o->newdoc);
    cJSON_Delete(o->answer);
    if (o->dir)
        fn_pkg_settled(f, o->dir);
    free(o->dir);
    free(o);
    pthread_mutex_lock(&f->mu);
    if (--f->busy == 0)
        pthread_cond_broadcast(&f->idle);
    pthread_mutex_unlock(&f->mu);
}

void fnapi_op_fail(struct op *o, enum fn_error k, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(o->msg, sizeof(o->msg), fmt, ap);
    va_end(ap);
    o->failed = true;
    o->kind = k;
}

/* fnapi_op_reject - answer a refusal found on the request thread and free @o. */
void fnapi_op_reject(struct op *o)
{
    fnapi_answer_error(o->r, o->kind, o->msg);
    op_free(o);
}

static enum err_code op_mutate(void *arg, cJSON **doc, struct err *e)
{
    struct op *o = arg;

    if (o->change(o, doc))
        return ERR_OK;
    return err_set(e, ERR_CONFLICT, "%s", o->msg);
}

static void op_done(void *arg, enum err_code rc, const struct err *e)
{
    struct op *o = arg;

    if (rc == ERR_OK) {
        if (o->forget)
            fn_rt_forget(o->f, o->name, o->forget_version);
        if (o->purge)
            fn_pkg_purge(o->f, o->name);
        if (o->gc)
            fn_pkg_gc(o->f, o->name);
        fnapi_answer_json(o->r, o->status, o->answer);
        o->answer = NULL;
    } else if (o->failed) {
        fnapi_answer_error(o->r, o->kind, o->msg);
    } else {
        fnapi_answer_error(o->r, code_error(rc), e && e->msg[0] ? e->msg : "write failed");
    }
    op_free(o);
}

/* fnapi_op_submit - run @o's change in one store apply; answered from the writer. */
void fnapi_op_submit(struct op *o)
{
    fn_reg_update(o->f, o->name, op_mutate, o, op_done, o);
}

bool fnapi_revision_ok(struct op *o, const char *want, const cJSON *have)
{
    const char *rev = fnapi_str(have, "RevisionId");

    if (!want || !rev || strcmp(want, rev) == 0)
        return true;
    fnapi_op_fail(o, E_PRECONDITION,
                  "The Revision Id provided does not match the latest Revision Id. Call the "
                  "GetFunction/GetAlias API to retrieve the latest Revision Id");
    return false;
}

/* fnapi_op_exists - the not-found refusal shared by every change of an existing function. */
bool fnapi_op_exists(struct op *o, const cJSON *doc)
{
    if (doc)
        return true;
    fnapi_op_fail(o, E_NOT_FOUND, "Function not found: arn:aws:lambda:%s:%s:function:%s",
                  o->f->region, o->f->account, o->name);
    return false;
}

/* apply_config - copy the configurable members of @b into @doc; false
 * (fnapi_op_fail) on bad input. */
static bool apply_config(struct op *o, const cJSON *b, cJSON *doc)
{
    static const struct {
        const char *member, *what;
    } absent[] = {
        /* what a region cannot honour: refused rather than kept and ignored */
        {"Layers", "Layers are"},
        {"FileSystemConfigs", "File systems are"},
    };
    const cJSON *v;

    for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
        v = cJSON_GetObjectItemCaseSensitive(b, absent[i].member);
        if (cJSON_GetArraySize(v) > 0) {
            fnapi_op_fail(o, E_INVALID_PARAM, "%s not supported by this region (%s).",
                          absent[i].what, absent[i].member);
            return false;
        }
    }
    v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(b, "DeadLetterConfig"),
                                         "TargetArn");
    if (cJSON_IsString(v) && *v->valuestring) {
        fnapi_op_fail(o, E_INVALID_PARAM,
                      "Dead-letter queues are not supported by this region (it has no SQS or "
                      "SNS): use an on-failure destination (PutFunctionEventInvokeConfig).");
        return false;
    }

    if ((v = cJSON_GetObjectItemCaseSensitive(b, "Runtime"))) {
        if (!cJSON_IsString(v) || !fn_runtime_known(v->valuestring)) {
            fnapi_op_fail(o, E_INVALID_PARAM,
                          "Value %s at 'runtime' failed to satisfy constraint: "
                          "Member must satisfy enum value set: " FN_RUNTIMES " or be a valid ARN",
                          cJSON_IsString(v) ? v->valuestring : "null");
            return false;
        }
        if (!fn_rt_runtime_ready(o->f, v->valuestring)) {
            fnapi_op_fail(o, E_INVALID_PARAM,
                          "The runtime parameter of %s is no longer supported for creating or "
                          "updating AWS Lambda functions. We recommend you use a supported "
                          "runtime while creating or updating functions.",
                          v->valuestring);
            return false;
        }
        fnapi_set_str(doc, "Runtime", v->valuestring);
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(b, "Role"))) {
        if (!cJSON_IsString(v) || strncmp(v->valuestring, "arn:", 4) != 0 ||
            !strstr(v->valuestring, ":role/")) {
            fnapi_op_fail(o, E_VALIDATION,
                          "1 validation error detected: Value '%s' at 'role' failed to satisfy "
                          "constraint: Member must satisfy regular expression pattern: "
                          "arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+",
                          cJSON_IsString(v) ? v->valuestring : "null");
            return false;
        }
        fnapi_set_str(doc, "Role", v->valuestring);
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(b, "Handler"))) {
        if (!cJSON_IsString(v) || strlen(v->valuestring) > 128) {
            fnapi_op_fail(o, E_INVALID_PARAM, "Value at 'handler' failed to satisfy constraint");
            return false;
        }
        fnapi_set_str(doc, "Handler", v->valuestring);
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(b, "Description")) && cJSON_IsString(v))
        fnapi_set_str(doc, "Description", v->valuestring);
    if ((v = cJSON_GetObjectItemCaseSensitive(b, "Timeout"))) {
        if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 900) {
            fnapi_op_fail(o, E_INVALID_PARAM,
                          "1 validation error detected: Value at 'timeout' failed to satisfy "
                          "constraint: Member must have value less than or equal to 900");
            return false;
        }
        set_num(doc, "Timeout", v->valueint);
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(b, "MemorySize"))) {
        if (!cJSON_IsNumber(v) || v->valuedouble < 128 || v->valuedouble > 10240) {
            fnapi_op_fail(o, E_INVALID_PARAM,
                          "1 validation error detected: Value at 'memorySize' failed to satisfy "
                          "constraint: Member must have value greater than or equal to 128");
            return false;
        }
        set_num(doc, "MemorySize", v->valueint);
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(b, "Environment"))) {
        const cJSON *vars = cJSON_GetObjectItemCaseSensitive(v, "Variables"), *it;
        cJSON *env;
        cJSON_ArrayForEach(it, vars)
        {
            if (!cJSON_IsString(it)) {
                fnapi_op_fail(o, E_INVALID_CONTENT, "Environment variable values must be strings");
                return false;
            }
            if (strncmp(it->string, "AWS_", 4) == 0 &&
                strcmp(it->string, "AWS_ENDPOINT_URL") != 0) {
                fnapi_op_fail(o, E_INVALID_PARAM,
                              "Lambda was unable to configure your environment "
                              "variables because the environment variables you have "
                              "provided contains reserved keys that are currently "
                              "not supported for modification. Reserved keys used "
                              "in this request: %s",
                              it->string);
                return false;
            }
        }
        cJSON_DeleteItemFromObjectCaseSensitive(doc, "Environment");
        env = cJSON_AddObjectToObject(doc, "Environment");
        cJSON_AddItemToObject(env, "Variables",
                              vars ? cJSON_Duplicate(vars, 1) : cJSON_CreateObject());
    }
    return true;
}

cJSON *fnapi_get_or_404(struct fn *f, struct http_req *r, const char *name)
{
    cJSON *d = fn_reg_get(f, name);

    if (!d)
        fnapi_answer_error(
            r, E_NOT_FOUND,
            arena_sprintf(r->arena, "Function not found: %s", fnapi_arn(f, r->arena, name, NULL)));
    return d;
}

/* ---- packages: fetched and unpacked by a worker thread, never an HTTP thread ---- */

/* code_check - whether @code (a Code member or an UpdateFunctionCode body)
 * names a package source we take, and for S3 whether @who may read it
 * (s3:GetObject, as Lambda requires of the caller); false with fnapi_op_fail(). */
static bool code_check(struct op *o, const cJSON *code, const struct creds_identity *who)
{
    const cJSON *z = cJSON_GetObjectItemCaseSensitive(code, "ZipFile");
    const cJSON *bk = cJSON_GetObjectItemCaseSensitive(code, "S3Bucket");
    const cJSON *key = cJSON_GetObjectItemCaseSensitive(code, "S3Key");

    if (cJSON_GetObjectItemCaseSensitive(code, "ImageUri")) {
        fnapi_op_fail(o, E_INVALID_PARAM,
                      "Only zip packages are supported by this region (ImageUri is not)");
        return false;
    }
    if (cJSON_IsString(z))
        return true;
    if (bk || key) {
        if (!cJSON_IsString(bk) || !cJSON_IsString(key) || !bk->valuestring[0] ||
            !key->valuestring[0]) {
            fnapi_op_fail(o, E_INVALID_PARAM,
                          "Please provide both S3Bucket and S3Key for the function code.");
            return false;
        }
        if (cJSON_GetObjectItemCaseSensitive(code, "S3ObjectVersion")) {
            fnapi_op_fail(
                o, E_INVALID_PARAM,
                "S3ObjectVersion is not supported by this region: give S3Bucket and S3Key");
            return false;
        }
        {
            struct err e = {0};
            struct authz_kv kv[FNAPI_CONTEXT_MAX];
            struct authz_request q = {
                .who = who,
                .action = "s3:GetObject",
                .resource = arena_sprintf(o->r->arena, "arn:aws:s3:::%s/%s", bk->valuestring,
                                          key->valuestring),
                .context = kv,
                .ncontext = fnapi_context(o->f, o->r, kv),
            };
            if (authz_check(o->f->authz, &q, &e) != ERR_OK) {
                fnapi_op_fail(o, E_DENIED,
                              "Your access has been denied by S3, please make sure your request "
                              "credentials have permission to GetObject for %s/%s. S3 Error Code: "
                              "AccessDenied. S3 Error Message: Access Denied",
                              bk->valuestring, key->valuestring);
                return false;
            }
        }
        return true;
    }
    fnapi_op_fail(o, E_INVALID_PARAM, "Please provide a source for function code.");
    return false;
}

/* code_bytes - the zip of @code (owned) or NULL with fnapi_op_fail(). Blocks (S3). */
static unsigned char *code_bytes(struct op *o, const cJSON *code, size_t *len)
{
    const cJSON *z = cJSON_GetObjectItemCaseSensitive(code, "ZipFile");
    unsigned char *bytes;
    size_t n;

    if (!cJSON_IsString(z)) {
        const char *bk = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(code, "S3Bucket"));
        const char *key = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(code, "S3Key"));
        struct buf b;
        char scode[64] = "", smsg[256] = "";
        int st;
        if (!o->f->s3_get) {
            fnapi_op_fail(o, E_INVALID_PARAM,
                          "Error occurred while GetObject. S3 Error Code: NoSuchBucket. S3 Error "
                          "Message: The specified bucket does not exist");
            return NULL;
        }
        buf_init(&b, 0);
        st = o->f->s3_get(o->f->s3_ud, bk, key, &b, scode, sizeof(scode), smsg, sizeof(smsg));
        if (st != 200) {
            buf_free(&b);
            fnapi_op_fail(o, st >= 500 ? E_SERVICE : E_INVALID_PARAM,
                          "Error occurred while GetObject. S3 Error Code: %s. S3 Error Message: %s",
                          scode[0] ? scode : "InternalError", smsg[0] ? smsg : "unknown error");
            return NULL;
        }
        return (unsigned char *)buf_detach(&b, len);
    }
    n = strlen(z->valuestring);
    bytes = xmalloc(n / 4 * 3 + 3);
    if (!base64_decode(z->valuestring, n, bytes, len)) {
        free(bytes);
        fnapi_op_fail(o, E_INVALID_CONTENT,
                      "Could not parse request body into json: ZipFile is not valid base64");
        return NULL;
    }
    return bytes;
}

/* code_worker - fetch and unpack the package of @o (its body's Code, or the
 * body itself for UpdateFunctionCode), then submit @o's change. */
static void code_worker(struct op *o)
{
    const cJSON *code = o->newdoc ? cJSON_GetObjectItemCaseSensitive(o->body, "Code") : o->body;
    unsigned char *zip;
    size_t len = 0;
    struct err e = {0};

    zip = code_bytes(o, code, &len);
    if (!zip) {
        fnapi_op_reject(o);
        return;
    }
    if (fn_pkg_install(o->f, o->name, zip, len, o->sha, &o->dir, &e)) {
        free(zip);
        fnapi_op_fail(o, code_error(e.code), "%s", e.msg);
        fnapi_op_reject(o);
        return;
    }
    free(zip);
    o->code_len = len;
    fnapi_op_submit(o);
}

static void code_job(void *arg)
{
    code_worker(arg);
}

/* code_start - hand @o to a package worker (at most PKG_WORKERS run at once);
 * it is answered from there. */
static void code_start(struct op *o)
{
    if (jobs_run(o->f->pkg, code_job, o))
        return;
    fnapi_op_fail(o, E_SERVICE, "too many packages are waiting to be unpacked; retry later");
    fnapi_op_reject(o);
}

static void set_code(struct op *o, cJSON *doc)
{
    fnapi_set_str(doc, "CodeSha256", o->sha);
    set_num(doc, "CodeSize", (double)o->code_len);
    fnapi_set_str(doc, "_Dir", o->dir);
}

/* ---- operations ---- */

/* published - with "Publish": true in the request, the version published
 * from @doc ($LATEST, as stored now); else @doc. */
static const cJSON *published(struct op *o, cJSON *doc)
{
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o->body, "Publish")))
        return fnapi_publish(o->f, doc, NULL);
    return doc;
}

static bool change_create(struct op *o, cJSON **doc)
{
    if (*doc) {
        fnapi_op_fail(o, E_CONFLICT, "Function already exist: %s", o->name);
        return false;
    }
    *doc = cJSON_Duplicate(o->newdoc, 1);
    set_code(o, *doc);
    fnapi_rev(*doc);
    o->status = 201;
    o->answer = as_creating(fnapi_public_config(published(o, *doc)));
    return true;
}

/* architectures_ok - whether CreateFunction's Architectures (if any) is one
 * Lambda takes (one of x86_64, arm64), kept in @doc; else false with Lambda's
 * ValidationException. The region runs either on the machine it runs on. */
static bool architectures_ok(struct op *o, const cJSON *b, cJSON *doc)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(b, "Architectures"), *it;
    char list[256] = "";
    size_t n = 0;
    bool known = true;

    if (!a || cJSON_IsNull(a))
        return true;
    cJSON_ArrayForEach(it, a)
    {
        const char *v = cJSON_IsString(it) ? it->valuestring : "null";
        n += (size_t)snprintf(list + n, n < sizeof(list) ? sizeof(list) - n : 0, "%s%s",
                              n ? ", " : "", v);
        known = known && (strcmp(v, "x86_64") == 0 || strcmp(v, "arm64") == 0);
        if (n >= sizeof(list))
            n = sizeof(list) - 1;
    }
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != 1) {
        fnapi_op_fail(o, E_VALIDATION,
                      "1 validation error detected: Value '[%s]' at 'architectures' failed to "
                      "satisfy constraint: Member must have length %s",
                      list,
                      cJSON_GetArraySize(a) > 1 ? "less than or equal to 1"
                                                : "greater than or equal to 1");
        return false;
    }
    if (!known) {
        fnapi_op_fail(o, E_VALIDATION,
                      "1 validation error detected: Value '[%s]' at 'architectures' failed to "
                      "satisfy constraint: Member must satisfy constraint: [Member must satisfy "
                      "enum value set: [x86_64, arm64], Member must not be null]",
                      list);
        return false;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "Architectures");
    cJSON_AddItemToObject(doc, "Architectures", cJSON_Duplicate(a, 1));
    return true;
}

/* create_name_ok - whether CreateFunction's FunctionName @v is one Lambda
 * takes, in its order: the model's length and pattern (ValidationException),
 * the ARN's region (404) and account (403), the name's 64 characters;
 * false after answering */
static bool create_name_ok(struct fn *f, struct http_req *r, const char *v)
{
    const char *name;
    const char *acct;

    if (strlen(v) > 140) {
        fnapi_answer_error(r, E_VALIDATION,
                           arena_sprintf(r->arena,
                                         "1 validation error detected: Value '%s' at "
                                         "'functionName' failed to satisfy constraint: Member "
                                         "must have length less than or equal to 140",
                                         v));
        return false;
    }
    if (!fnapi_name_ok(r, v, false) || !fnapi_region_reachable(f, r, v))
        return false;
    name = fnapi_name_of(v);
    /* NAME, ACCOUNT:function:NAME or arn:...:ACCOUNT:function:NAME */
    acct = strstr(v, ":function:") ? strstr(v, ":function:") : NULL;
    if (acct && acct - v >= 12 && strncmp(acct - 12, f->account, 12) != 0) {
        fnapi_answer_error(r, E_DENIED, "Access denied");
        return false;
    }
    if (strchr(name, ':')) /* NAME:QUALIFIER: no function is created under a qualifier */
        return fnapi_name_ok(r, "", false);
    if (strlen(name) > 64) {
        fnapi_answer_error(r, E_INVALID_PARAM,
                           arena_sprintf(r->arena,
                                         "1 validation error detected: Value '%s' at "
                                         "'functionName' failed to satisfy constraint: Member "
                                         "must have length less than or equal to 64",
                                         v));
        return false;
    }
    return true;
}

static void create_function(struct fn *f, struct http_req *r, const struct creds_identity *who)
{
    cJSON *b = fnapi_parse_body(r), *doc;
    const cJSON *name, *rt;
    struct op *o;

    if (!b)
        return;
    name = cJSON_GetObjectItemCaseSensitive(b, "FunctionName");
    rt = cJSON_GetObjectItemCaseSensitive(b, "Runtime");
    if (!cJSON_IsString(name) || !create_name_ok(f, r, name->valuestring)) {
        if (!cJSON_IsString(name))
            fnapi_answer_error(r, E_VALIDATION,
                               "1 validation error detected: Value null at 'functionName' "
                               "failed to satisfy constraint: Member must not be null");
        cJSON_Delete(b);
        return;
    }
    if (!authorize(f, r, who, "lambda:CreateFunction", fnapi_name_of(name->valuestring))) {
        cJSON_Delete(b);
        return;
    }
    o = fnapi_op_new(f, r, fnapi_name_of(name->valuestring), change_create);
    o->body = b;
    if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(b, "Role"))) {
        fnapi_op_fail(o, E_INVALID_PARAM,
                      "The role defined for the function cannot be assumed by "
                      "Lambda.");
        fnapi_op_reject(o);
        return;
    }
    if (!cJSON_IsString(rt)) {
        fnapi_op_fail(o, E_INVALID_PARAM, "The runtime parameter is required for zip packages");
        fnapi_op_reject(o);
        return;
    }
    if (strncmp(rt->valuestring, "provided", 8) != 0 &&
        !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(b, "Handler"))) {
        fnapi_op_fail(o, E_INVALID_PARAM,
                      "Handler is required for zip packages with runtime other than provided");
        fnapi_op_reject(o);
        return;
    }
    {
        /* a quick answer before unpacking; the apply checks again */
        cJSON *existing = fn_reg_get(f, o->name);
        if (existing) {
            cJSON_Delete(existing);
            fnapi_op_fail(o, E_CONFLICT, "Function already exist: %s", o->name);
            fnapi_op_reject(o);
            return;
        }
    }
    doc = o->newdoc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "FunctionName", o->name);
    cJSON_AddStringToObject(doc, "FunctionArn", fnapi_arn(f, r->arena, o->name, NULL));
    cJSON_AddStringToObject(doc, "Runtime", "provided.al2023");
    cJSON_AddStringToObject(doc, "Role", "");
    cJSON_AddStringToObject(doc, "Handler", "");
    cJSON_AddStringToObject(doc, "Description", "");
    cJSON_AddNumberToObject(doc, "Timeout", 3);
    cJSON_AddNumberToObject(doc, "MemorySize", 128);
    cJSON_AddStringToObject(doc, "Version", "$LATEST");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(doc, "TracingConfig"), "Mode", "PassThrough");
    cJSON_AddStringToObject(doc, "State", "Active");
    cJSON_AddStringToObject(doc, "LastUpdateStatus", "Successful");
    cJSON_AddStringToObject(doc, "PackageType", "Zip");
    cJSON_AddItemToArray(cJSON_AddArrayToObject(doc, "Architectures"),
                         cJSON_CreateString("x86_64"));
    cJSON_AddNumberToObject(cJSON_AddObjectToObject(doc, "EphemeralStorage"), "Size", 512);
    if (!apply_config(o, b, doc) || !architectures_ok(o, b, doc) ||
        !code_check(o, cJSON_GetObjectItemCaseSensitive(b, "Code"), who)) {
        fnapi_op_reject(o);
        return;
    }
    /* no Environment given: none shown, as Lambda answers */
    {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(b, "Tags");
        if (cJSON_IsObject(t))
            cJSON_AddItemToObject(doc, "_Tags", cJSON_Duplicate(t, 1));
    }
    code_start(o);
}

static void get_function(struct fn *f, struct http_req *r, const char *name, const char *qual,
                         bool config_only)
{
    cJSON *d = fnapi_resolve(f, r, name, qual, false), *o;

    if (!d)
        return;
    if (config_only) {
        fnapi_answer_json(r, 200, fnapi_public_config(d));
    } else {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(d, "_Tags");
        const char *sha = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "_Dir"));
        cJSON *code;
        o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "Configuration", fnapi_public_config(d));
        code = cJSON_AddObjectToObject(o, "Code");
        cJSON_AddStringToObject(code, "RepositoryType", "S3");
        cJSON_AddStringToObject(
            code, "Location",
            arena_sprintf(r->arena, "%s/2015-03-31/functions/%s/code-download/%s",
                          f->public_url ? f->public_url : "", name,
                          sha && strrchr(sha, '/') ? strrchr(sha, '/') + 1 : ""));
        if (cJSON_GetArraySize(t) > 0) /* none (any more): no Tags member, as in Lambda */
            cJSON_AddItemToObject(o, "Tags", cJSON_Duplicate(t, 1));
        if (fn_reg_reserved(f, name) >= 0) /* api_conc.c */
            cJSON_AddNumberToObject(cJSON_AddObjectToObject(o, "Concurrency"),
                                    "ReservedConcurrentExecutions", fn_reg_reserved(f, name));
        fnapi_answer_json(r, 200, o);
    }
    cJSON_Delete(d);
}

const char *fnapi_query_param(struct http_req *r, const char *k)
{
    size_t kl = strlen(k);
    const char *p = r->query;

    while (p && *p) {
        const char *amp = strchr(p, '&');
        size_t n = amp ? (size_t)(amp - p) : strlen(p);
        if (n > kl && strncmp(p, k, kl) == 0 && p[kl] == '=')
            return fnapi_seg_decode(r->arena, p + kl + 1, n - kl - 1);
        if (!amp)
            break;
        p = amp + 1;
    }
    return NULL;
}

/* list_entries - what ListFunctions shows of function @d: its $LATEST
 * configuration, and with @all (FunctionVersion=ALL) each version after it,
 * appended to @arr with their markers ("NAME" for $LATEST, "NAME:N") in
 * @marks. */
static void list_entries(struct fn *f, struct arena *a, const cJSON *d, bool all, cJSON *arr,
                         cJSON *marks)
{
    const char *name = fnapi_str(d, "FunctionName");
    cJSON *latest = fnapi_listed_config(d), *it;

    if (all)
        fnapi_set_str(latest, "FunctionArn", fnapi_arn(f, a, name, "$LATEST"));
    cJSON_AddItemToArray(arr, latest);
    cJSON_AddItemToArray(marks, cJSON_CreateString(name));
    if (!all)
        return;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(d, "_Versions"))
    {
        cJSON_AddItemToArray(arr, fnapi_listed_config(it));
        cJSON_AddItemToArray(marks,
                             cJSON_CreateString(arena_sprintf(a, "%s:%s", name, it->string)));
    }
}

static void list_functions(struct fn *f, struct http_req *r)
{
    cJSON *names = fn_reg_names(f), *o = cJSON_CreateObject(), *arr, *it;
    const char *marker = fnapi_query_param(r, "Marker"), *mi = fnapi_query_param(r, "MaxItems");
    const char *fv = fnapi_query_param(r, "FunctionVersion");
    int max = mi ? atoi(mi) : 50, n = 0;
    bool started = !marker || !*marker;
    /* the marker's function: "NAME", or "NAME:N" for a version with ALL */
    const char *mname = started ? "" : arena_strndup(r->arena, marker, strcspn(marker, ":"));

    if (fv && strcmp(fv, "ALL") != 0) {
        cJSON_Delete(names);
        cJSON_Delete(o);
        fnapi_answer_error(r, E_VALIDATION,
                           arena_sprintf(r->arena,
                                         "1 validation error detected: Value '%s' at "
                                         "'functionVersion' failed to satisfy constraint: Member "
                                         "must satisfy enum value set: [ALL]",
                                         fv));
        return;
    }
    if (max < 1 || max > 10000) {
        cJSON_Delete(names);
        cJSON_Delete(o);
        fnapi_answer_error(r, E_INVALID_PARAM,
                           "1 validation error detected: Value at 'maxItems' "
                           "failed to satisfy constraint: Member must have value "
                           "between 1 and 10000");
        return;
    }
    arr = cJSON_AddArrayToObject(o, "Functions");
    cJSON_ArrayForEach(it, names)
    {
        cJSON *d, *entries, *marks, *e, *m;
        if (!started && strcmp(it->valuestring, mname) < 0)
            continue;
        if (!started && strcmp(it->valuestring, mname) > 0)
            started = true; /* the marker's function is gone: go on after it */
        if (!(d = fn_reg_get(f, it->valuestring)))
            continue;
        entries = cJSON_CreateArray();
        marks = cJSON_CreateArray();
        list_entries(f, r->arena, d, fv != NULL, entries, marks);
        cJSON_Delete(d);
        for (e = entries->child, m = marks->child; e && m && n <= max; e = e->next, m = m->next) {
            if (!started && strcmp(m->valuestring, marker) != 0)
                continue;
            started = true;
            if (n == max) {
                cJSON_AddStringToObject(o, "NextMarker", m->valuestring);
                n++;
                break;
            }
            cJSON_AddItemToArray(arr, cJSON_Duplicate(e, 1));
            n++;
        }
        cJSON_Delete(entries);
        cJSON_Delete(marks);
        if (n > max)
            break;
        started = true; /* a marker naming a version gone since: go on after it */
    }
    cJSON_Delete(names);
    fnapi_answer_json(r, 200, o);
}

static bool change_delete(struct op *o, cJSON **doc)
{
    if (!fnapi_op_exists(o, *doc))
        return false;
    cJSON_Delete(*doc);
    *doc = NULL;
    o->status = 204;
    o->forget = true;
    o->purge = true;
    return true;
}

static void delete_function(struct fn *f, struct http_req *r, const char *name, const char *qual)
{
    if (qual)
        fnapi_delete_version(f, r, name, qual);
    else
        fnapi_op_submit(fnapi_op_new(f, r, name, change_delete));
}

static bool change_config(struct op *o, cJSON **doc)
{
    if (!fnapi_op_exists(o, *doc) || !apply_config(o, o->body, *doc) ||
        !fnapi_revision_ok(o, fnapi_str(o->body, "RevisionId"), *doc))
        return false;
    fnapi_rev(*doc);
    o->status = 200;
    o->answer = as_updating(fnapi_public_config(*doc));
    return true;
}

static void update_config(struct fn *f, struct http_req *r, const char *name)
{
    cJSON *b = fnapi_parse_body(r);
    struct op *o;

    if (!b)
        return;
    o = fnapi_op_new(f, r, name, change_config);
    o->body = b;
    fnapi_op_submit(o);
}

static bool change_code(struct op *o, cJSON **doc)
{
    const cJSON *v;

    if (!fnapi_op_exists(o, *doc) || !fnapi_revision_ok(o, fnapi_str(o->body, "RevisionId"), *doc))
        return false;
    set_code(o, *doc);
    fnapi_rev(*doc);
    o->status = 200;
    /* with Publish, the new version is answered as one just made */
    v = published(o, *doc);
    o->answer =
        v == *doc ? as_updating(fnapi_public_config(v)) : as_creating(fnapi_public_config(v));
    o->gc = true; /* the package $LATEST had may be unused now */
    return true;
}

static void update_code(struct fn *f, struct http_req *r, const char *name,
                        const struct creds_identity *who)
{
    cJSON *b = fnapi_parse_body(r), *d;
    struct op *o;

    if (!b)
        return;
    o = fnapi_op_new(f, r, name, change_code);
    o->body = b;
    d = fn_reg_get(f, name);
    if (!fnapi_op_exists(o, d) || !code_check(o, b, who)) {
        cJSON_Delete(d);
        fnapi_op_reject(o);
        return;
    }
    cJSON_Delete(d);
    code_start(o);
}

/* ---- invoke ---- */

void fnapi_invoke_done(void *ud, const struct fn_result *res)
{
    struct fnapi_invoke_ctx *c = ud;
    struct http_req *r = c->r;

    if (!r) { /* Event: nobody waits */
        free(c);
        return;
    }
    if (res->throttled) { /* as Lambda answers an invocation its reserved concurrency refuses */
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "Reason", "ReservedFunctionConcurrentInvocationLimitExceeded");
        cJSON_AddStringToObject(o, "Type", "User");
        cJSON_AddStringToObject(o, c->url ? "Message" : "message", "Rate Exceeded.");
        http_resp_header(r, "X-Amzn-ErrorType", "TooManyRequestsException");
        fnapi_answer_json(r, 429, o);
        free(c);
        return;
    }
    if (c->url) {
        struct buf out;
        int status;
        if (res->error) {
            http_resp_header(r, "Content-Type", "application/json");
            http_respond(r, 502, "{\"Message\":\"Internal Server Error\"}", 35);
        } else {
            status = fn_url_result(r, res->body, res->len, &out);
            http_respond_buf(r, status, &out);
            buf_free(&out);
        }
        free(c);
        return;
    }
    http_resp_header(r, "X-Amz-Executed-Version", c->version);
    if (res->error)
        http_resp_header(r, "X-Amz-Function-Error", "Unhandled");
    if (c->tail) {
        char *b64 = arena_alloc(r->arena, base64_encoded_len(res->log_len) + 1);
        base64_encode(res->log ? res->log : "", res->log_len, b64);
        http_resp_header(r, "X-Amz-Log-Result", b64);
    }
    http_resp_header(r, "Content-Type", "application/json");
    http_respond(r, 200, res->body, res->len);
    free(c);
}

/* ascii_json - @s (UTF-8 JSON text printed on one line) with every byte past
 * 0x7e written as \u escapes, in @r's arena, so it fits an HTTP header any
 * runtime reads; NULL if @s is not valid UTF-8. */
static char *ascii_json(struct http_req *r, const char *s)
{
    size_t n = strlen(s);
    char *out = arena_alloc(r->arena, n * 6 + 1), *o = out;

    while (*s) {
        unsigned char c = (unsigned char)*s;
        unsigned long cp;
        int more, i;
        if (c < 0x7f) {
            *o++ = *s++;
            continue;
        }
        more = c == 0x7f                         ? 0
               : (c & 0xe0) == 0xc0              ? 1
               : (c & 0xf0) == 0xe0              ? 2
               : (c & 0xf8) == 0xf0 && c <= 0xf4 ? 3
                                                 : -1;
        if (more < 0)
            return NULL;
        cp = more == 0 ? c : c & (0x3fu >> more);
        for (i = 1; i <= more; i++) {
            if (((unsigned char)s[i] & 0xc0) != 0x80)
                return NULL;
            cp = (cp << 6) | ((unsigned char)s[i] & 0x3f);
        }
        if ((more == 1 && cp < 0x80) || (more == 2 && cp < 0x800) || (more == 3 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return NULL; /* overlong, out of range or a surrogate */
        if (cp >= 0x10000) {
            cp -= 0x10000;
            o += sprintf(o, "\\u%04lx\\u%04lx", 0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
        } else {
            o += sprintf(o, "\\u%04lx", cp);
        }
        s += more + 1;
    }
    *o = '\0';
    return out;
}

/* client_context - check Invoke's X-Amz-Client-Context as Lambda does and
 * set *@out to the JSON the function's context gets (NULL: no header); false
 * after answering @r with Lambda's refusal: longer than CLIENT_CONTEXT_MAX,
 * or not the base64 of a JSON object. */
static bool client_context(struct http_req *r, const char **out)
{
    const char *b64 = http_req_header(r, "x-amz-client-context");
    size_t len, n = 0;
    unsigned char *raw;
    cJSON *j = NULL;

    *out = NULL;
    if (!b64)
        return true;
    len = strlen(b64);
    if (len > CLIENT_CONTEXT_MAX) {
        fnapi_answer_error(
            r, E_INVALID_PARAM,
            "1 validation error detected: Value at 'clientContext' failed to satisfy "
            "constraint: Member must have length less than or equal to 3583");
        return false;
    }
    raw = arena_alloc(r->arena, len / 4 * 3 + 1);
    if (base64_decode(b64, len, raw, &n)) {
        raw[n] = '\0';
        if (strlen((char *)raw) == n)
            j = cJSON_ParseWithOpts((char *)raw, NULL, 1);
    }
    if (cJSON_IsObject(j)) {
        char *p = cJSON_PrintUnformatted(j);
        *out = ascii_json(r, p);
        free(p);
    }
    cJSON_Delete(j);
    if (*out)
        return true;
    fnapi_answer_error(r, E_INVALID_CONTENT,
                       "Client context must be a valid Base64-encoded JSON object.");
    return false;
}

/* invoke - Invoke of @name (@qual), as X-Amz-Invocation-Type asks, or as
 * @type when not NULL (InvokeAsync: Event). */
static void invoke(struct fn *f, struct http_req *r, const char *name, const char *qual,
                   const char *type)
{
    const char *logt = http_req_header(r, "x-amz-log-type");
    struct fnapi_invoke_ctx *c;
    const char *cctx;
    cJSON *d;

    d = fnapi_resolve(f, r, name, qual, true);
    if (!d)
        return;
    if (!type)
        type = http_req_header(r, "x-amz-invocation-type");
    if (!type)
        type = "RequestResponse";
    if (strcmp(type, "RequestResponse") && strcmp(type, "Event") && strcmp(type, "DryRun")) {
        fnapi_answer_error(
            r, E_INVALID_PARAM,
            "1 validation error detected: Value at 'invocationType' failed to satisfy "
            "constraint: Member must satisfy enum value set: [Event, RequestResponse, "
            "DryRun]");
        goto out;
    }
    if (r->body.len > (strcmp(type, "Event") == 0 ? EVENT_PAYLOAD_MAX : FNAPI_PAYLOAD_MAX)) {
        fnapi_answer_error(
            r, E_TOO_LARGE,
            arena_sprintf(r->arena, "Request must be smaller than %u bytes for the %s operation",
                          strcmp(type, "Event") == 0 ? EVENT_PAYLOAD_MAX : FNAPI_PAYLOAD_MAX,
                          "InvokeFunction"));
        goto out;
    }
    if (r->body.len) {
        cJSON *p = cJSON_ParseWithLength(r->body.ptr, r->body.len);
        if (!p) {
            fnapi_answer_error(
                r, E_INVALID_CONTENT,
                "Could not parse request body into json: Could not parse payload into "
                "json: Unexpected character: was expecting a JSON value");
            goto out;
        }
        cJSON_Delete(p);
    }
    if (!client_context(r, &cctx))
        goto out;
    if (strcmp(type, "DryRun") == 0) {
        http_respond(r, 204, "", 0);
        goto out;
    }
    if (!fn_rt_runtime_ready(f, cJSON_GetStringValue(cJSON_GetObjectItem(d, "Runtime")))) {
        fnapi_answer_error(r, E_INVALID_RUNTIME,
                           "The runtime or runtime version for this function is not supported");
        goto out;
    }
    c = xcalloc(1, sizeof(*c));
    snprintf(c->version, sizeof(c->version), "%s",
             fnapi_str(d, "Version") ? fnapi_str(d, "Version") : "$LATEST");
    if (strcmp(type, "Event") == 0) { /* queued; Lambda passes no client context to these */
        free(c);
        fnasync_enqueue(f, r, name, qual);
        goto out;
    }
    c->r = r;
    c->tail = logt && strcmp(logt, "Tail") == 0;
    fn_rt_invoke_ctx(f, d, r->body.ptr ? r->body.ptr : "{}", r->body.len ? r->body.len : 2, cctx,
                     fnapi_invoke_done, c);
out:
    cJSON_Delete(d);
}

/* ---- routing ---- */

/* takes_qualifier - whether the operation at @seg (@n segments) by @m takes
 * a version or alias qualifier; the others act on $LATEST only. */
static bool takes_qualifier(int n, char *const *seg, const char *m, bool v2021, bool v2019)
{
    if (v2019)
        return n == 2; /* event-invoke-config */
    if (v2021)
        return n == 2 && strcmp(seg[1], "url") == 0;
    if (n == 1)
        return true; /* GetFunction, DeleteFunction */
    if (n >= 2 && strcmp(seg[1], "policy") == 0)
        return true; /* AddPermission, GetPolicy, RemovePermission */
    return n == 2 && ((strcmp(seg[1], "configuration") == 0 && strcmp(m, "GET") == 0) ||
                      strcmp(seg[1], "invocations") == 0);
}

/* route_event_config - the asynchronous invocation configuration under
 * /2019-09-25/functions/NAME/event-invoke-config (api_async.c). */
static void route_event_config(struct fn *f, struct http_req *r, const struct creds_identity *who,
                               int n, char *const *seg, const char *qual)
{
    const char *m = r->method;

    if (n == 3 && strcmp(seg[1], "event-invoke-config") == 0 && strcmp(seg[2], "list") == 0 &&
        strcmp(m, "GET") == 0) {
        if (authorize(f, r, who, "lambda:ListFunctionEventInvokeConfigs", seg[0]))
            fnapi_event_config_list(f, r, seg[0]);
        return;
    }
    if (n != 2 || strcmp(seg[1], "event-invoke-config") != 0 ||
        (strcmp(m, "GET") && strcmp(m, "PUT") && strcmp(m, "POST") && strcmp(m, "DELETE"))) {
        fnapi_answer_error(r, E_UNKNOWN_OP, "Unknown operation");
        return;
    }
    if (authorize(f, r, who,
                  strcmp(m, "GET") == 0    ? "lambda:GetFunctionEventInvokeConfig"
                  : strcmp(m, "PUT") == 0  ? "lambda:PutFunctionEventInvokeConfig"
                  : strcmp(m, "POST") == 0 ? "lambda:UpdateFunctionEventInvokeConfig"
                                           : "lambda:DeleteFunctionEventInvokeConfig",
                  qual ? arena_sprintf(r->arena, "%s:%s", seg[0], qual) : seg[0]))
        fnapi_event_config(f, r, seg[0], qual);
}

/* route_unconfigured - the reads of settings Tandem's functions never have,
 * answered as Lambda answers them for a function without them (tools such
 * as Terraform read them after every GetFunction): GetFunctionCodeSigningConfig
 * (/2020-06-30, @signing; no configuration) and ListProvisionedConcurrencyConfigs
 * (none). */
static void route_unconfigured(struct fn *f, struct http_req *r, const struct creds_identity *who,
                               int n, char *const *seg, bool signing)
{
    const char *m = r->method, *action;
    cJSON *d, *o;

    action = n != 2 || strcmp(m, "GET") != 0 ? NULL
             : signing && strcmp(seg[1], "code-signing-config") == 0
                 ? "lambda:GetFunctionCodeSigningConfig"
             : !signing && strcmp(seg[1], "provisioned-concurrency") == 0
                 ? "lambda:ListProvisionedConcurrencyConfigs"
                 : NULL;
    if (!action) {
        fnapi_answer_error(r, E_UNKNOWN_OP, "Unknown operation");
        return;
    }
    if (!authorize(f, r, who, action, seg[0]) || !(d = fnapi_resolve(f, r, seg[0], NULL, false)))
        return;
    o = cJSON_CreateObject();
    if (signing) {
        cJSON_AddStringToObject(o, "CodeSigningConfigArn", "");
        cJSON_AddStringToObject(o, "FunctionName", seg[0]);
    } else if (strcmp(seg[1], "provisioned-concurrency") == 0) {
        cJSON_AddArrayToObject(o, "ProvisionedConcurrencyConfigs");
    }
    fnapi_answer_json(r, 200, o);
    cJSON_Delete(d);
}

void fn_handle_api(struct fn *f, struct http_req *r, const struct creds_identity *who)
{
    const char *p = r->path, *m = r->method;
    char *seg[4] = {0};
    int n = 0;
    const char *s, *qual = NULL, *target;
    bool v2015, v2014, v2017, v2020, v2019c, v2021, v2019, tagsv;

    v2015 = strncmp(p, "/2015-03-31/functions", 21) == 0;
    v2014 = strncmp(p, "/2014-11-13/functions/", 22) == 0;  /* InvokeAsync */
    v2020 = strncmp(p, "/2020-06-30/functions/", 22) == 0;  /* code signing */
    v2019c = strncmp(p, "/2019-09-30/functions/", 22) == 0; /* concurrency */
    v2017 = strncmp(p, "/2017-10-31/functions/", 22) == 0;  /* Put/DeleteFunctionConcurrency */
    v2021 = strncmp(p, "/2021-10-31/functions/", 22) == 0;
    v2019 = strncmp(p, "/2019-09-25/functions/", 22) == 0;
    tagsv = strncmp(p, "/2017-03-31/tags/", 17) == 0;
    /* what no region has yet: layers and code signing configurations (the
     * lists are empty; publishing either is an unknown operation) */
    if (strcmp(m, "GET") == 0 &&
        (strcmp(p, "/2018-10-31/layers") == 0 || strcmp(p, "/2018-10-31/layers/") == 0)) {
        if (authorize(f, r, who, "lambda:ListLayers", NULL))
            fnapi_answer_json(r, 200, cJSON_Parse("{\"Layers\":[]}"));
        return;
    }
    if (strcmp(m, "GET") == 0 && (strcmp(p, "/2020-04-22/code-signing-configs") == 0 ||
                                  strcmp(p, "/2020-04-22/code-signing-configs/") == 0)) {
        if (authorize(f, r, who, "lambda:ListCodeSigningConfigs", NULL))
            fnapi_answer_json(r, 200, cJSON_Parse("{\"CodeSigningConfigs\":[]}"));
        return;
    }
    if (strcmp(p, "/2016-08-19/account-settings") == 0 ||
        strcmp(p, "/2016-08-19/account-settings/") == 0) {
        if (strcmp(m, "GET") != 0)
            fnapi_answer_error(r, E_UNKNOWN_OP, "Unknown operation");
        else if (authorize(f, r, who, "lambda:GetAccountSettings", NULL))
            fnapi_account_settings(f, r);
        return;
    }
    if (strncmp(p, "/2015-03-31/event-source-mappings", 33) == 0) {
        fnesm_handle(f, r, who);
        return;
    }
    if (tagsv) {
        char *arn = fnapi_seg_decode(r->arena, p + 17, strlen(p + 17));
        if (!arn) {
            fnapi_answer_error(r, E_INVALID_PARAM, "bad resource ARN");
            return;
        }
        if (strstr(arn, ":event-source-mapping:")) {
            fnesm_tags(f, r, who, arn);
            return;
        }
        if (!authorize(f, r, who,
                       strcmp(m, "GET") == 0    ? "lambda:ListTags"
                       : strcmp(m, "POST") == 0 ? "lambda:TagResource"
                                                : "lambda:UntagResource",
                       fnapi_name_of(arn)))
            return;
        fnapi_tags(f, r, arn);
        return;
    }
    if (!v2015 && !v2014 && !v2017 && !v2020 && !v2019c && !v2021 && !v2019) {
        fnapi_answer_error(r, E_UNKNOWN_OP, "Unknown operation");
        return;
    }
    s = p + 21; /* every prefix is 21 bytes before the first '/' */
    while (*s == '/' && n < 4) {
        const char *e = strchr(s + 1, '/');
        size_t len = e ? (size_t)(e - s - 1) : strlen(s + 1);
        if (len == 0)
            break;
        seg[n] = fnapi_seg_decode(r->arena, s + 1, len);
        if (!seg[n]) {
            fnapi_answer_error(r, E_INVALID_PARAM, "malformed path");
            return;
        }
        n++;
        s += len + 1;
    }
    if (*s && strcmp(s, "/") != 0) {
        fnapi_answer_error(r, E_UNKNOWN_OP, "Unknown operation");
        return;
    }
    if (r->body_too_large) {
        fnapi_answer_error(r, E_TOO_LARGE,
                           "Request must be smaller than 70167211 bytes for the "
                           "CreateFunction operation");
        return;
    }
    if (n >= 1) {
        if (!fnapi_name_ok(r, seg[0], true) || !fnapi_region_reachable(f, r, seg[0]))
            return;
        seg[0] = (char *)fnapi_name_of(seg[0]);
        if (!fnapi_qualifier(r, seg[0], &qual))
            return;
    }
    /* what authorization sees: the qualified ARN when a qualifier is given */
    target = n >= 1 && qual ? arena_sprintf(r->arena, "%s:%s", seg[0], qual) : seg[0];
    if (qual && strcmp(qual, "$LATEST") != 0 && !takes_qualifier(n, seg, m, v2021, v2019)) {
        fnapi_answer_error(r, E_INVALID_PARAM,
                           "Current operation does not support versions other than $LATEST. "
                           "Please set version to $LATEST or do not set a version in your "
                           "request.");
        return;
    }
    if (v2021) {
        if (n == 2 && strcmp(seg[1], "url") == 0) {
            if (!authorize(f, r, who,
                           strcmp(m, "GET") == 0    ? "lambda:GetFunctionUrlConfig"
                           : strcmp(m, "POST") == 0 ? "lambda:CreateFunctionUrlConfig"
                           : strcmp(m, "PUT") == 0  ? "lambda:UpdateFunctionUrlConfig"
                                                    : "lambda:DeleteFunctionUrlConfig",
                           target))
                return;
            fnapi_url_config(f, r, seg[0], qual);
            return;
        }
        if (n == 2 && strcmp(seg[1], "urls") == 0 && strcmp(m, "GET") == 0) {
            if (authorize(f, r, who, "lambda:ListFunctionUrlConfigs", seg[0]))
                fnapi_list_urls(f, r, seg[0]);
            return;
        }
        fnapi_answer_error(r, E_UNKNOWN_OP, "Unknown operation");
        return;
    }
    if (v2019) {
        route_event_config(f, r, who, n, seg, qual);
        return;
    }
    if (n == 2 && strcmp(seg[1], "concurrency") == 0 &&
        ((v2017 && (strcmp(m, "PUT") == 0 || strcmp(m, "DELETE") == 0)) ||
         (v2019c && strcmp(m, "GET") == 0))) {
        if (authorize(f, r, who,
                      strcmp(m, "PUT") == 0      ? "lambda:PutFunctionConcurrency"
                      : strcmp(m, "DELETE") == 0 ? "lambda:DeleteFunctionConcurrency"
                                                 : "lambda:GetFunctionConcurrency",
                      seg[0]))
            fnapi_concurrency(f, r, seg[0]);
        return;
    }
    if (v2020 || v2019c) {
        route_unconfigured(f, r, who, n, seg, v2020);
        return;
    }
    if (v2017) {
        fnapi_answer_error(r, E_UNKNOWN_OP, "Unknown operation");
        return;
    }
    if (v2014) { /* InvokeAsync (deprecated): an Event invocation of $LATEST */
        if (n == 2 && strcmp(seg[1], "invoke-async") == 0 && strcmp(m, "POST") == 0) {
            if (authorize(f, r, who, "lambda:InvokeAsync", target))
                invoke(f, r, seg[0], qual, "Event");
            return;
        }
        fnapi_answer_error(r, E_UNKNOWN_OP, "Unknown operation");
        return;
    }
    if (n == 0 && strcmp(m, "POST") == 0) {
        create_function(f, r, who);
        return;
    }
    if (n == 0 && strcmp(m, "GET") == 0) {
        if (authorize(f, r, who, "lambda:ListFunctions", NULL))
            list_functions(f, r);
        return;
    }
    if (n == 1 && strcmp(m, "GET") == 0) {
        if (authorize(f, r, who, "lambda:GetFunction", target))
            get_function(f, r, seg[0], qual, false);
        return;
    }
    if (n == 1 && strcmp(m, "DELETE") == 0) {
        if (authorize(f, r, who, "lambda:DeleteFunction", target))
            delete_function(f, r, seg[0], qual);
        return;
    }
    if (n == 2 && strcmp(seg[1], "versions") == 0 &&
        (strcmp(m, "GET") == 0 || strcmp(m, "POST") == 0)) {
        if (authorize(f, r, who,
                      strcmp(m, "GET") == 0 ? "lambda:ListVersionsByFunction"
                                            : "lambda:PublishVersion",
                      seg[0]))
            fnapi_versions(f, r, seg[0]);
        return;
    }
    if (n == 2 && strcmp(seg[1], "aliases") == 0 &&
        (strcmp(m, "GET") == 0 || strcmp(m, "POST") == 0)) {
        if (authorize(f, r, who,
                      strcmp(m, "GET") == 0 ? "lambda:ListAliases" : "lambda:CreateAlias", seg[0]))
            fnapi_aliases(f, r, seg[0]);
        return;
    }
    if (n == 3 && strcmp(seg[1], "aliases") == 0 &&
        (strcmp(m, "GET") == 0 || strcmp(m, "PUT") == 0 || strcmp(m, "DELETE") == 0)) {
        if (authorize(f, r, who,
                      strcmp(m, "GET") == 0   ? "lambda:GetAlias"
                      : strcmp(m, "PUT") == 0 ? "lambda:UpdateAlias"
                                              : "lambda:DeleteAlias",
                      arena_sprintf(r->arena, "%s:%s", seg[0], seg[2])))
            fnapi_alias(f, r, seg[0], seg[2]);
        return;
    }
    if (n == 2 && strcmp(seg[1], "configuration") == 0) {
        if (strcmp(m, "GET") == 0) {
            if (authorize(f, r, who, "lambda:GetFunctionConfiguration", target))
                get_function(f, r, seg[0], qual, true);
            return;
        }
        if (strcmp(m, "PUT") == 0) {
            if (authorize(f, r, who, "lambda:UpdateFunctionConfiguration", seg[0]))
                update_config(f, r, seg[0]);
            return;
        }
    }
    if (n == 2 && strcmp(seg[1], "code") == 0 && strcmp(m, "PUT") == 0) {
        if (authorize(f, r, who, "lambda:UpdateFunctionCode", seg[0]))
            update_code(f, r, seg[0], who);
        return;
    }
    if (n == 3 && strcmp(seg[1], "code-download") == 0 && strcmp(m, "GET") == 0) {
        if (authorize(f, r, who, "lambda:GetFunction", seg[0]))
            fnapi_code_download(f, r, seg[0], seg[2]);
        return;
    }
    if (n == 2 && strcmp(seg[1], "logs") == 0 && strcmp(m, "GET") == 0) {
        fnapi_logs(f, r, seg[0], who);
        return;
    }
    if (n == 2 && strcmp(seg[1], "invocations") == 0 && strcmp(m, "POST") == 0) {
        if (authorize(f, r, who, "lambda:InvokeFunction", target))
            invoke(f, r, seg[0], qual, NULL);
        return;
    }
    if (n == 2 && strcmp(seg[1], "policy") == 0) {
        if (strcmp(m, "POST") == 0) {
            if (authorize(f, r, who, "lambda:AddPermission", target))
                fnapi_add_permission(f, r, seg[0], qual);
            return;
        }
        if (strcmp(m, "GET") == 0) {
            if (authorize(f, r, who, "lambda:GetPolicy", target))
                fnapi_get_policy(f, r, seg[0], qual);
            return;
        }
    }
    if (n == 3 && strcmp(seg[1], "policy") == 0 && strcmp(m, "DELETE") == 0) {
        if (authorize(f, r, who, "lambda:RemovePermission", target))
            fnapi_remove_permission(f, r, seg[0], qual, seg[2]);
        return;
    }
    fnapi_answer_error(r, E_UNKNOWN_OP, "Unknown operation");
}

/* ---- lifecycle ---- */

enum err_code fn_open(const struct fn_opts *o, struct fn **out, struct err *e)
{
    struct fn *f = xcalloc(1, sizeof(*f));
    size_t n = strlen(o->data_dir) + 16;
    enum err_code rc;

    f->store = o->store;
    f->creds = o->creds;
    f->authz = o->authz;
    snprintf(f->region, sizeof(f->region), "%s", o->region);
    snprintf(f->account, sizeof(f->account), "%s", o->account);
    f->data_dir = xstrdup(o->data_dir);
    f->fn_dir = xmalloc(n);
    snprintf(f->fn_dir, n, "%s/functions", o->data_dir);
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->idle, NULL);
    f->pkg = jobs_new("fn-pkg", PKG_WORKERS, PKG_QUEUED);
    f->s3_get = o->s3_get;
    f->s3_ud = o->s3_ud;
    f->docs = cJSON_CreateObject();
    f->pending = cJSON_CreateArray();
    if (mkdir(f->fn_dir, 0755) && errno != EEXIST) {
        rc = err_set(e, ERR_IO, "mkdir %s: %s", f->fn_dir, strerror(errno));
        goto fail;
    }
    rc = fn_reg_load(f, e);
    if (rc == ERR_OK)
        rc = fn_rt_start(f, o, e);
    if (rc == ERR_OK)
        rc = fnesm_open(f, o, e);
    if (rc == ERR_OK)
        rc = fnasync_open(f, e);
    if (rc)
        goto fail;
    *out = f;
    return ERR_OK;
fail:
    fn_close(f);
    return rc;
}

void fn_set_endpoint(struct fn *f, const char *url, const char *public_url)
{
    free(f->endpoint);
    free(f->public_url);
    f->endpoint = xstrdup(url);
    f->public_url = xstrdup(public_url ? public_url : url);
}

void fn_close(struct fn *f)
{
    if (!f)
        return;
    fnesm_close(f);  /* the poller first: it invokes functions */
    fnasync_stop(f); /* so does the queue of Event invocations */
    /* changes in flight (unpacking, or queued in the store) finish first */
    jobs_free(f->pkg);
    fnapi_wait_idle(f);
    fn_rt_stop(f);
    fnasync_close(f); /* its writes and invocations under way end */
    cJSON_Delete(f->docs);
    cJSON_Delete(f->pending);
    pthread_cond_destroy(&f->idle);
    pthread_mutex_destroy(&f->mu);
    free(f->data_dir);
    free(f->fn_dir);
    free(f->endpoint);
    free(f->public_url);
    free(f);
}
