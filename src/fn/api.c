/* api.c - the Lambda REST API (lambda/2015-03-31 model), the one table of
 * errors, and the function URL front door. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include "clock.h"
#include "codec.h"
#include "fn_int.h"
#include "log.h"
#include "mem.h"

#define PAYLOAD_MAX       (6u * 1024 * 1024)
#define EVENT_PAYLOAD_MAX (256u * 1024)

/* ---- errors: one table ---- */

enum fn_error {
    E_NOT_FOUND,
    E_CONFLICT,
    E_INVALID_PARAM,
    E_INVALID_CONTENT,
    E_TOO_LARGE,
    E_SERVICE,
    E_DENIED,
    E_UNKNOWN_OP,
    E_PRECONDITION,
};

static const struct {
    const char *type;
    int status;
} errors[] = {
    [E_NOT_FOUND] = {"ResourceNotFoundException", 404},
    [E_CONFLICT] = {"ResourceConflictException", 409},
    [E_INVALID_PARAM] = {"InvalidParameterValueException", 400},
    [E_INVALID_CONTENT] = {"InvalidRequestContentException", 400},
    [E_TOO_LARGE] = {"RequestTooLargeException", 413},
    [E_SERVICE] = {"ServiceException", 500},
    [E_DENIED] = {"AccessDeniedException", 403},
    [E_UNKNOWN_OP] = {"UnknownOperationException", 404},
    [E_PRECONDITION] = {"PreconditionFailedException", 412},
};

static void answer_json(struct http_req *r, int status, cJSON *doc)
{
    char *t = doc ? cJSON_PrintUnformatted(doc) : NULL;

    http_resp_header(r, "Content-Type", "application/json");
    http_resp_header(r, "x-amzn-RequestId", arena_sprintf(r->arena, "%08x", (unsigned)rand()));
    http_respond(r, status, t ? t : "", t ? strlen(t) : 0);
    free(t);
    cJSON_Delete(doc);
}

static void answer_error(struct http_req *r, enum fn_error k, const char *msg)
{
    cJSON *o = cJSON_CreateObject();

    cJSON_AddStringToObject(o, "Type", errors[k].status >= 500 ? "Service" : "User");
    cJSON_AddStringToObject(o, "message", msg);
    http_resp_header(r, "X-Amzn-ErrorType", errors[k].type);
    answer_json(r, errors[k].status, o);
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

static char *fn_arn(struct fn *f, struct arena *a, const char *name)
{
    return arena_sprintf(a, "arn:aws:lambda:%s:%s:function:%s", f->region, f->account, name);
}

static void now_iso(char *out, size_t cap)
{
    int64_t ms = clock_wall_ms();
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    char b[24];

    gmtime_r(&s, &tm);
    strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, cap, "%.19s.%03d+0000", b, (int)(ms % 1000));
}

static void new_uuid(char *out)
{
    unsigned char b[16];
    char h[33];

    if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
        memset(b, 7, sizeof(b));
    hex_encode(b, sizeof(b), h);
    snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
}

/* pct-decode a path segment (arena); NULL if malformed */
static char *seg_decode(struct arena *a, const char *s, size_t n)
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

/* name_of - the function name of a FunctionName path parameter (name, ARN or partial ARN). */
static const char *name_of(const char *p)
{
    const char *f = strstr(p, "function:");
    const char *n = f ? f + 9 : p;
    const char *colon = strchr(n, ':');

    (void)colon;
    return n;
}

static bool valid_name(const char *n)
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

static bool runtime_supported(const char *rt)
{
    static const char *const ok[] = {"provided.al2023", "provided.al2", "provided", "nodejs18.x",
                                     "nodejs20.x",      "nodejs22.x",   NULL};
    size_t i;

    for (i = 0; ok[i]; i++)
        if (strcmp(rt, ok[i]) == 0)
            return true;
    return false;
}

static bool authorize(struct fn *f, struct http_req *r, const struct creds_identity *who,
                      const char *action, const char *name)
{
    struct err e = {0};
    struct authz_request q = {
        .who = who,
        .action = action,
        .resource = name ? fn_arn(f, r->arena, name)
                         : arena_sprintf(r->arena, "arn:aws:lambda:%s:%s:function:*", f->region,
                                         f->account),
    };

    if (authz_check(f->authz, &q, &e) == ERR_OK)
        return true;
    answer_error(r, E_DENIED, e.msg[0] ? e.msg : "Access denied");
    return false;
}

/* public_config - the GetFunctionConfiguration shape of @doc (owned). */
static cJSON *public_config(const cJSON *doc)
{
    cJSON *o = cJSON_Duplicate(doc, 1), *it, *next;

    for (it = o->child; it; it = next) {
        next = it->next;
        if (it->string && it->string[0] == '_')
            cJSON_Delete(cJSON_DetachItemViaPointer(o, it));
    }
    return o;
}

static cJSON *parse_body(struct http_req *r)
{
    cJSON *b =
        cJSON_ParseWithLength(r->body.ptr ? r->body.ptr : "{}", r->body.ptr ? r->body.len : 2);

    if (!cJSON_IsObject(b)) {
        cJSON_Delete(b);
        answer_error(r, E_INVALID_CONTENT,
                     "Could not parse request body into json: Could not "
                     "parse payload into json");
        return NULL;
    }
    return b;
}

static void rev(cJSON *doc)
{
    char u[37], t[40];

    new_uuid(u);
    now_iso(t, sizeof(t));
    cJSON_DeleteItemFromObject(doc, "RevisionId");
    cJSON_AddStringToObject(doc, "RevisionId", u);
    cJSON_DeleteItemFromObject(doc, "LastModified");
    cJSON_AddStringToObject(doc, "LastModified", t);
}

static void set_str(cJSON *o, const char *k, const char *v)
{
    cJSON_DeleteItemFromObjectCaseSensitive(o, k);
    cJSON_AddStringToObject(o, k, v);
}

static void set_num(cJSON *o, const char *k, double v)
{
    cJSON_DeleteItemFromObjectCaseSensitive(o, k);
    cJSON_AddNumberToObject(o, k, v);
}

/* apply_config - copy the configurable members of @b into @doc; false (answered) on bad input. */
static bool apply_config(struct http_req *r, const cJSON *b, cJSON *doc)
{
    const cJSON *v;

    if ((v = cJSON_GetObjectItemCaseSensitive(b, "Runtime"))) {
        if (!cJSON_IsString(v) || !runtime_supported(v->valuestring)) {
            answer_error(r, E_INVALID_PARAM,
                         arena_sprintf(r->arena,
                                       "Value %s at 'runtime' failed to satisfy constraint: "
                                       "Member must satisfy enum value set: [nodejs18.x, "
                                       "nodejs20.x, nodejs22.x, provided, provided.al2, "
                                       "provided.al2023]",
                                       cJSON_IsString(v) ? v->valuestring : "null"));
            return false;
        }
        set_str(doc, "Runtime", v->valuestring);
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(b, "Role"))) {
        if (!cJSON_IsString(v) || strncmp(v->valuestring, "arn:", 4) != 0 ||
            !strstr(v->valuestring, ":role/")) {
            answer_error(r, E_INVALID_PARAM,
                         "1 validation error detected: Value at 'role' failed to satisfy "
                         "constraint: Member must satisfy regular expression pattern: "
                         "arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+");
            return false;
        }
        set_str(doc, "Role", v->valuestring);
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(b, "Handler"))) {
        if (!cJSON_IsString(v) || strlen(v->valuestring) > 128) {
            answer_error(r, E_INVALID_PARAM, "Value at 'handler' failed to satisfy constraint");
            return false;
        }
        set_str(doc, "Handler", v->valuestring);
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(b, "Description")) && cJSON_IsString(v))
        set_str(doc, "Description", v->valuestring);
    if ((v = cJSON_GetObjectItemCaseSensitive(b, "Timeout"))) {
        if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 900) {
            answer_error(r, E_INVALID_PARAM,
                         "1 validation error detected: Value at 'timeout' failed to satisfy "
                         "constraint: Member must have value less than or equal to 900");
            return false;
        }
        set_num(doc, "Timeout", v->valueint);
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(b, "MemorySize"))) {
        if (!cJSON_IsNumber(v) || v->valuedouble < 128 || v->valuedouble > 10240) {
            answer_error(r, E_INVALID_PARAM,
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
                answer_error(r, E_INVALID_CONTENT, "Environment variable values must be strings");
                return false;
            }
            if (strncmp(it->string, "AWS_", 4) == 0 &&
                strcmp(it->string, "AWS_ENDPOINT_URL") != 0) {
                answer_error(r, E_INVALID_PARAM,
                             arena_sprintf(r->arena,
                                           "Lambda was unable to configure your environment "
                                           "variables because the environment variables you have "
                                           "provided contains reserved keys that are currently "
                                           "not supported for modification. Reserved keys used "
                                           "in this request: %s",
                                           it->string));
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

/* ---- asynchronous answers after a registry write ---- */

struct pending {
    struct http_req *r;
    int status;
    cJSON *answer; /* owned */
    char *name;
    bool forget;
    struct fn *f;
};

static void pending_done(void *arg, enum err_code rc, const struct err *e)
{
    struct pending *p = arg;

    if (rc) {
        cJSON_Delete(p->answer);
        answer_error(p->r, code_error(rc), e && e->msg[0] ? e->msg : "write failed");
    } else {
        if (p->forget)
            fn_rt_forget(p->f, p->name);
        if (p->answer || p->status != 204)
            answer_json(p->r, p->status, p->answer);
        else
            answer_json(p->r, 204, NULL);
    }
    free(p->name);
    free(p);
}

/* save - store @doc (takes) for @name, then answer @status with @answer (takes). */
static void save(struct fn *f, struct http_req *r, const char *name, cJSON *doc, int status,
                 cJSON *answer, bool forget)
{
    struct pending *p = xcalloc(1, sizeof(*p));

    p->r = r;
    p->status = status;
    p->answer = answer;
    p->name = xstrdup(name);
    p->forget = forget;
    p->f = f;
    fn_reg_put(f, name, doc, pending_done, p);
}

static cJSON *get_or_404(struct fn *f, struct http_req *r, const char *name)
{
    cJSON *d = fn_reg_get(f, name);

    if (!d)
        answer_error(r, E_NOT_FOUND,
                     arena_sprintf(r->arena, "Function not found: %s", fn_arn(f, r->arena, name)));
    return d;
}

/* code_from - the zip bytes of a Code / UpdateFunctionCode body (owned) or NULL (answered). */
static unsigned char *code_from(struct http_req *r, const cJSON *code, size_t *len)
{
    const cJSON *z = cJSON_GetObjectItemCaseSensitive(code, "ZipFile");
    unsigned char *bytes;
    size_t n;

    if (cJSON_GetObjectItemCaseSensitive(code, "S3Bucket") ||
        cJSON_GetObjectItemCaseSensitive(code, "ImageUri")) {
        answer_error(r, E_INVALID_PARAM,
                     "Only ZipFile packages are supported by this region (S3Bucket and ImageUri "
                     "are not yet)");
        return NULL;
    }
    if (!cJSON_IsString(z)) {
        answer_error(r, E_INVALID_PARAM, "Please provide a source for function code.");
        return NULL;
    }
    n = strlen(z->valuestring);
    bytes = xmalloc(n / 4 * 3 + 3);
    if (!base64_decode(z->valuestring, n, bytes, len)) {
        free(bytes);
        answer_error(r, E_INVALID_CONTENT,
                     "Could not parse request body into json: ZipFile is "
                     "not valid base64");
        return NULL;
    }
    return bytes;
}

static bool install(struct fn *f, struct http_req *r, const char *name, const unsigned char *zip,
                    size_t len, cJSON *doc)
{
    char sha[48], *dir = NULL;
    struct err e = {0};

    if (fn_pkg_install(f, name, zip, len, sha, &dir, &e)) {
        answer_error(r, code_error(e.code), e.msg);
        return false;
    }
    set_str(doc, "CodeSha256", sha);
    set_num(doc, "CodeSize", (double)len);
    set_str(doc, "_Dir", dir);
    free(dir);
    return true;
}

/* ---- operations ---- */

static void create_function(struct fn *f, struct http_req *r, const struct creds_identity *who)
{
    cJSON *b = parse_body(r), *doc = NULL;
    const cJSON *name, *rt;
    unsigned char *zip = NULL;
    size_t zlen = 0;

    if (!b)
        return;
    name = cJSON_GetObjectItemCaseSensitive(b, "FunctionName");
    rt = cJSON_GetObjectItemCaseSensitive(b, "Runtime");
    if (!cJSON_IsString(name) || !valid_name(name_of(name->valuestring))) {
        answer_error(r, E_INVALID_PARAM,
                     "1 validation error detected: Value at 'functionName' failed to satisfy "
                     "constraint: Member must satisfy regular expression pattern: "
                     "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?"
                     "(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?");
        goto out;
    }
    if (!authorize(f, r, who, "lambda:CreateFunction", name_of(name->valuestring)))
        goto out;
    if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(b, "Role"))) {
        answer_error(r, E_INVALID_PARAM,
                     "The role defined for the function cannot be assumed "
                     "by Lambda.");
        goto out;
    }
    if (!cJSON_IsString(rt)) {
        answer_error(r, E_INVALID_PARAM, "The runtime parameter is required for zip packages");
        goto out;
    }
    if (strncmp(rt->valuestring, "provided", 8) != 0 &&
        !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(b, "Handler"))) {
        answer_error(r, E_INVALID_PARAM,
                     "Handler is required for zip packages with runtime "
                     "other than provided");
        goto out;
    }
    {
        cJSON *existing = fn_reg_get(f, name_of(name->valuestring));
        if (existing) {
            cJSON_Delete(existing);
            answer_error(
                r, E_CONFLICT,
                arena_sprintf(r->arena, "Function already exist: %s", name_of(name->valuestring)));
            goto out;
        }
    }
    doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "FunctionName", name_of(name->valuestring));
    cJSON_AddStringToObject(doc, "FunctionArn", fn_arn(f, r->arena, name_of(name->valuestring)));
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
    if (!apply_config(r, b, doc))
        goto out;
    if (!cJSON_GetObjectItemCaseSensitive(doc, "Environment"))
        cJSON_AddItemToObject(cJSON_AddObjectToObject(doc, "Environment"), "Variables",
                              cJSON_CreateObject());
    zip = code_from(r, cJSON_GetObjectItemCaseSensitive(b, "Code"), &zlen);
    if (!zip)
        goto out;
    if (!install(f, r, name_of(name->valuestring), zip, zlen, doc))
        goto out;
    {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(b, "Tags");
        if (cJSON_IsObject(t))
            cJSON_AddItemToObject(doc, "_Tags", cJSON_Duplicate(t, 1));
    }
    rev(doc);
    {
        const char *nm = name_of(name->valuestring);
        cJSON *ans = public_config(doc);
        save(f, r, nm, doc, 201, ans, false);
        doc = NULL;
    }
out:
    free(zip);
    cJSON_Delete(doc);
    cJSON_Delete(b);
}

static void get_function(struct fn *f, struct http_req *r, const char *name, bool config_only)
{
    cJSON *d = get_or_404(f, r, name), *o;

    if (!d)
        return;
    if (config_only) {
        answer_json(r, 200, public_config(d));
    } else {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(d, "_Tags");
        const char *sha = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "_Dir"));
        cJSON *code;
        o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "Configuration", public_config(d));
        code = cJSON_AddObjectToObject(o, "Code");
        cJSON_AddStringToObject(code, "RepositoryType", "S3");
        cJSON_AddStringToObject(
            code, "Location",
            arena_sprintf(r->arena, "%s/2015-03-31/functions/%s/code-download/%s",
                          f->public_url ? f->public_url : "", name,
                          sha && strrchr(sha, '/') ? strrchr(sha, '/') + 1 : ""));
        if (t)
            cJSON_AddItemToObject(o, "Tags", cJSON_Duplicate(t, 1));
        answer_json(r, 200, o);
    }
    cJSON_Delete(d);
}

static const char *query_param(struct http_req *r, const char *k)
{
    size_t kl = strlen(k);
    const char *p = r->query;

    while (p && *p) {
        const char *amp = strchr(p, '&');
        size_t n = amp ? (size_t)(amp - p) : strlen(p);
        if (n > kl && strncmp(p, k, kl) == 0 && p[kl] == '=')
            return seg_decode(r->arena, p + kl + 1, n - kl - 1);
        if (!amp)
            break;
        p = amp + 1;
    }
    return NULL;
}

static void list_functions(struct fn *f, struct http_req *r)
{
    cJSON *names = fn_reg_names(f), *o = cJSON_CreateObject(), *arr, *it;
    const char *marker = query_param(r, "Marker"), *mi = query_param(r, "MaxItems");
    int max = mi ? atoi(mi) : 50, n = 0;

    if (max < 1 || max > 10000) {
        cJSON_Delete(names);
        cJSON_Delete(o);
        answer_error(r, E_INVALID_PARAM,
                     "1 validation error detected: Value at 'maxItems' "
                     "failed to satisfy constraint: Member must have value "
                     "between 1 and 10000");
        return;
    }
    arr = cJSON_AddArrayToObject(o, "Functions");
    cJSON_ArrayForEach(it, names)
    {
        cJSON *d;
        if (marker && *marker && strcmp(it->valuestring, marker) < 0)
            continue;
        if (n == max) {
            cJSON_AddStringToObject(o, "NextMarker", it->valuestring);
            break;
        }
        d = fn_reg_get(f, it->valuestring);
        if (d) {
            cJSON_AddItemToArray(arr, public_config(d));
            cJSON_Delete(d);
            n++;
        }
    }
    cJSON_Delete(names);
    answer_json(r, 200, o);
}

static void delete_function(struct fn *f, struct http_req *r, const char *name)
{
    cJSON *d = get_or_404(f, r, name);

    if (!d)
        return;
    cJSON_Delete(d);
    save(f, r, name, NULL, 204, NULL, true);
}

static void update_config(struct fn *f, struct http_req *r, const char *name)
{
    cJSON *d = get_or_404(f, r, name), *b;

    if (!d)
        return;
    b = parse_body(r);
    if (!b || !apply_config(r, b, d)) {
        cJSON_Delete(b);
        cJSON_Delete(d);
        return;
    }
    {
        const char *want = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(b, "RevisionId"));
        const char *have = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "RevisionId"));
        if (want && have && strcmp(want, have) != 0) {
            answer_error(r, E_PRECONDITION,
                         "The Revision Id provided does not match the latest "
                         "Revision Id. Call the GetFunction/GetAlias API to "
                         "retrieve the latest Revision Id");
            cJSON_Delete(b);
            cJSON_Delete(d);
            return;
        }
    }
    cJSON_Delete(b);
    rev(d);
    save(f, r, name, d, 200, public_config(d), false);
}

static void update_code(struct fn *f, struct http_req *r, const char *name)
{
    cJSON *d = get_or_404(f, r, name), *b;
    unsigned char *zip;
    size_t zlen = 0;

    if (!d)
        return;
    b = parse_body(r);
    if (!b) {
        cJSON_Delete(d);
        return;
    }
    zip = code_from(r, b, &zlen);
    if (zip && install(f, r, name, zip, zlen, d)) {
        rev(d);
        save(f, r, name, d, 200, public_config(d), false);
        d = NULL;
    }
    free(zip);
    cJSON_Delete(b);
    cJSON_Delete(d);
}

/* ---- invoke ---- */

struct invoke_ctx {
    struct http_req *r;
    bool tail;
    bool url; /* answer as a function URL */
};

static void invoke_done(void *ud, const struct fn_result *res)
{
    struct invoke_ctx *c = ud;
    struct http_req *r = c->r;

    if (!r) { /* Event: nobody waits */
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
    http_resp_header(r, "X-Amz-Executed-Version", "$LATEST");
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

static void invoke(struct fn *f, struct http_req *r, const char *name,
                   const struct creds_identity *who)
{
    const char *type = http_req_header(r, "x-amz-invocation-type");
    const char *logt = http_req_header(r, "x-amz-log-type");
    struct invoke_ctx *c;
    cJSON *d;

    if (!authorize(f, r, who, "lambda:InvokeFunction", name))
        return;
    d = get_or_404(f, r, name);
    if (!d)
        return;
    if (!type)
        type = "RequestResponse";
    if (strcmp(type, "RequestResponse") && strcmp(type, "Event") && strcmp(type, "DryRun")) {
        answer_error(r, E_INVALID_PARAM,
                     "1 validation error detected: Value at 'invocationType' failed to satisfy "
                     "constraint: Member must satisfy enum value set: [Event, RequestResponse, "
                     "DryRun]");
        goto out;
    }
    if (r->body.len > (strcmp(type, "Event") == 0 ? EVENT_PAYLOAD_MAX : PAYLOAD_MAX)) {
        answer_error(r, E_TOO_LARGE,
                     arena_sprintf(r->arena,
                                   "Request must be smaller than %u bytes for the %s operation",
                                   strcmp(type, "Event") == 0 ? EVENT_PAYLOAD_MAX : PAYLOAD_MAX,
                                   "InvokeFunction"));
        goto out;
    }
    if (r->body.len) {
        cJSON *p = cJSON_ParseWithLength(r->body.ptr, r->body.len);
        if (!p) {
            answer_error(r, E_INVALID_CONTENT,
                         "Could not parse request body into json: Could not parse payload into "
                         "json: Unexpected character: was expecting a JSON value");
            goto out;
        }
        cJSON_Delete(p);
    }
    if (strcmp(type, "DryRun") == 0) {
        http_respond(r, 204, "", 0);
        goto out;
    }
    c = xcalloc(1, sizeof(*c));
    if (strcmp(type, "Event") == 0) {
        fn_rt_invoke(f, d, r->body.ptr ? r->body.ptr : "{}", r->body.len ? r->body.len : 2,
                     invoke_done, c);
        http_respond(r, 202, "", 0);
        goto out;
    }
    c->r = r;
    c->tail = logt && strcmp(logt, "Tail") == 0;
    fn_rt_invoke(f, d, r->body.ptr ? r->body.ptr : "{}", r->body.len ? r->body.len : 2, invoke_done,
                 c);
out:
    cJSON_Delete(d);
}

/* ---- resource policy ---- */

static void add_permission(struct fn *f, struct http_req *r, const char *name)
{
    cJSON *d = get_or_404(f, r, name), *b = NULL, *pol, *sts, *st, *it, *ans;
    const char *sid, *action, *principal, *fua;
    char *text;

    if (!d)
        return;
    b = parse_body(r);
    if (!b)
        goto out;
    sid = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(b, "StatementId"));
    action = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(b, "Action"));
    principal = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(b, "Principal"));
    fua = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(b, "FunctionUrlAuthType"));
    if (!sid || !action || !principal) {
        answer_error(r, E_INVALID_PARAM, "StatementId, Action and Principal are required");
        goto out;
    }
    pol = cJSON_GetObjectItemCaseSensitive(d, "_Policy");
    if (!pol) {
        pol = cJSON_AddObjectToObject(d, "_Policy");
        cJSON_AddStringToObject(pol, "Version", "2012-10-17");
        cJSON_AddStringToObject(pol, "Id", "default");
        cJSON_AddArrayToObject(pol, "Statement");
    }
    sts = cJSON_GetObjectItemCaseSensitive(pol, "Statement");
    cJSON_ArrayForEach(it, sts)
    {
        if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(it, "Sid")) ?: "", sid) == 0) {
            answer_error(r, E_CONFLICT,
                         arena_sprintf(r->arena,
                                       "The statement id (%s) provided already exists. Please "
                                       "provide a new statement id, or remove the existing "
                                       "statement.",
                                       sid));
            goto out;
        }
    }
    st = cJSON_CreateObject();
    cJSON_AddStringToObject(st, "Sid", sid);
    cJSON_AddStringToObject(st, "Effect", "Allow");
    if (strcmp(principal, "*") == 0)
        cJSON_AddStringToObject(st, "Principal", "*");
    else if (strchr(principal, '.'))
        cJSON_AddStringToObject(cJSON_AddObjectToObject(st, "Principal"), "Service", principal);
    else
        cJSON_AddStringToObject(cJSON_AddObjectToObject(st, "Principal"), "AWS", principal);
    cJSON_AddStringToObject(st, "Action", action);
    cJSON_AddStringToObject(st, "Resource", fn_arn(f, r->arena, name));
    if (fua)
        cJSON_AddStringToObject(
            cJSON_AddObjectToObject(cJSON_AddObjectToObject(st, "Condition"), "StringEquals"),
            "lambda:FunctionUrlAuthType", fua);
    text = cJSON_PrintUnformatted(st);
    cJSON_AddItemToArray(sts, st);
    ans = cJSON_CreateObject();
    cJSON_AddStringToObject(ans, "Statement", text);
    free(text);
    rev(d);
    save(f, r, name, d, 201, ans, false);
    d = NULL;
out:
    cJSON_Delete(b);
    cJSON_Delete(d);
}

static void remove_permission(struct fn *f, struct http_req *r, const char *name, const char *sid)
{
    cJSON *d = get_or_404(f, r, name), *sts, *it;
    int i = 0;

    if (!d)
        return;
    sts = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(d, "_Policy"),
                                           "Statement");
    cJSON_ArrayForEach(it, sts)
    {
        if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(it, "Sid")) ?: "", sid) == 0) {
            cJSON_DeleteItemFromArray(sts, i);
            rev(d);
            save(f, r, name, d, 204, NULL, false);
            return;
        }
        i++;
    }
    cJSON_Delete(d);
    answer_error(r, E_NOT_FOUND,
                 arena_sprintf(r->arena, "Statement %s is not found in resource policy.", sid));
}

static void get_policy(struct fn *f, struct http_req *r, const char *name)
{
    cJSON *d = get_or_404(f, r, name), *pol, *o;
    char *t;

    if (!d)
        return;
    pol = cJSON_GetObjectItemCaseSensitive(d, "_Policy");
    if (!pol || !cJSON_GetArraySize(cJSON_GetObjectItem(pol, "Statement"))) {
        cJSON_Delete(d);
        answer_error(r, E_NOT_FOUND, "The resource you requested does not exist.");
        return;
    }
    t = cJSON_PrintUnformatted(pol);
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "Policy", t);
    cJSON_AddStringToObject(o, "RevisionId",
                            cJSON_GetStringValue(cJSON_GetObjectItem(d, "RevisionId")));
    free(t);
    cJSON_Delete(d);
    answer_json(r, 200, o);
}

/* url_allows_public - whether the resource policy grants lambda:InvokeFunctionUrl
 * to Principal "*" (what AWS requires for AuthType NONE). */
static bool url_allows_public(const cJSON *d)
{
    const cJSON *sts = cJSON_GetObjectItemCaseSensitive(
                    cJSON_GetObjectItemCaseSensitive(d, "_Policy"), "Statement"),
                *it;

    cJSON_ArrayForEach(it, sts)
    {
        const char *a = cJSON_GetStringValue(cJSON_GetObjectItem(it, "Action"));
        const char *p = cJSON_GetStringValue(cJSON_GetObjectItem(it, "Principal"));
        if (a && p && strcmp(p, "*") == 0 &&
            (strcmp(a, "lambda:InvokeFunctionUrl") == 0 || strcmp(a, "lambda:*") == 0))
            return true;
    }
    return false;
}

/* ---- function URL configuration ---- */

/* url_shape - the FunctionUrlConfig of @d (owned). FunctionUrl is built from
 * the region's current address, so it stays right when the region moves. */
static cJSON *url_shape(struct fn *f, const cJSON *d, bool with_modified)
{
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(d, "_Url"), *it;
    cJSON *o = cJSON_CreateObject();
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(u, "UrlId"));
    size_t n = (f->public_url ? strlen(f->public_url) : 0) + (id ? strlen(id) : 0) + 16;
    char *url = xmalloc(n);

    snprintf(url, n, "%s/lambda-url/%s/", f->public_url ? f->public_url : "", id ? id : "");
    cJSON_AddStringToObject(o, "FunctionUrl", url);
    free(url);
    cJSON_ArrayForEach(it, u)
    {
        if (strcmp(it->string, "UrlId") == 0 || strcmp(it->string, "FunctionUrl") == 0 ||
            (!with_modified && strcmp(it->string, "LastModifiedTime") == 0))
            continue;
        cJSON_AddItemToObject(o, it->string, cJSON_Duplicate(it, 1));
    }
    cJSON_AddStringToObject(o, "FunctionArn",
                            cJSON_GetStringValue(cJSON_GetObjectItem(d, "FunctionArn")));
    return o;
}

static bool url_fields(struct http_req *r, const cJSON *b, cJSON *u, bool need_auth)
{
    const char *auth = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(b, "AuthType"));
    const cJSON *cors = cJSON_GetObjectItemCaseSensitive(b, "Cors");

    if ((need_auth && !auth) ||
        (auth && strcmp(auth, "NONE") != 0 && strcmp(auth, "AWS_IAM") != 0)) {
        answer_error(r, E_INVALID_PARAM,
                     "1 validation error detected: Value at 'authType' failed to satisfy "
                     "constraint: Member must satisfy enum value set: [AWS_IAM, NONE]");
        return false;
    }
    if (auth)
        set_str(u, "AuthType", auth);
    if (cors) {
        cJSON_DeleteItemFromObjectCaseSensitive(u, "Cors");
        cJSON_AddItemToObject(u, "Cors", cJSON_Duplicate(cors, 1));
    }
    return true;
}

static void url_config(struct fn *f, struct http_req *r, const char *name)
{
    cJSON *d = get_or_404(f, r, name), *b = NULL, *u;
    char t[40];

    if (!d)
        return;
    u = cJSON_GetObjectItemCaseSensitive(d, "_Url");
    now_iso(t, sizeof(t));
    if (strcmp(r->method, "GET") == 0) {
        if (!u)
            answer_error(r, E_NOT_FOUND, "The resource you requested does not exist.");
        else
            answer_json(r, 200, url_shape(f, d, true));
    } else if (strcmp(r->method, "DELETE") == 0) {
        if (!u) {
            answer_error(r, E_NOT_FOUND, "The resource you requested does not exist.");
        } else {
            cJSON_DeleteItemFromObjectCaseSensitive(d, "_Url");
            save(f, r, name, d, 204, NULL, false);
            d = NULL;
        }
    } else if (strcmp(r->method, "POST") == 0) {
        char id[33];
        unsigned char rb[32];
        size_t i;
        if (u) {
            answer_error(r, E_CONFLICT,
                         arena_sprintf(r->arena,
                                       "Failed to create function url config for "
                                       "[functionArn = %s]. Error message:  FunctionUrlConfig "
                                       "exists for this Lambda function",
                                       fn_arn(f, r->arena, name)));
            goto out;
        }
        b = parse_body(r);
        if (!b)
            goto out;
        u = cJSON_CreateObject();
        if (!url_fields(r, b, u, true)) {
            cJSON_Delete(u);
            goto out;
        }
        if (getrandom(rb, sizeof(rb), 0) != (ssize_t)sizeof(rb))
            memset(rb, 1, sizeof(rb));
        for (i = 0; i < 32; i++)
            id[i] = "abcdefghijklmnopqrstuvwxyz234567"[rb[i] % 32];
        id[32] = '\0';
        cJSON_AddStringToObject(u, "UrlId", id);
        cJSON_AddStringToObject(
            u, "FunctionUrl",
            arena_sprintf(r->arena, "%s/lambda-url/%s/", f->public_url ? f->public_url : "", id));
        cJSON_AddStringToObject(u, "CreationTime", t);
        cJSON_AddStringToObject(u, "LastModifiedTime", t);
        cJSON_AddStringToObject(u, "InvokeMode", "BUFFERED");
        cJSON_AddItemToObject(d, "_Url", u);
        save(f, r, name, d, 201, url_shape(f, d, false), false);
        d = NULL;
    } else if (strcmp(r->method, "PUT") == 0) {
        if (!u) {
            answer_error(r, E_NOT_FOUND, "The resource you requested does not exist.");
            goto out;
        }
        b = parse_body(r);
        if (!b || !url_fields(r, b, u, false))
            goto out;
        set_str(u, "LastModifiedTime", t);
        save(f, r, name, d, 200, url_shape(f, d, true), false);
        d = NULL;
    } else
        answer_error(r, E_UNKNOWN_OP, "Unknown operation");
out:
    cJSON_Delete(b);
    cJSON_Delete(d);
}

static void list_urls(struct fn *f, struct http_req *r, const char *name)
{
    cJSON *d = get_or_404(f, r, name), *o, *arr;

    if (!d)
        return;
    o = cJSON_CreateObject();
    arr = cJSON_AddArrayToObject(o, "FunctionUrlConfigs");
    if (cJSON_GetObjectItemCaseSensitive(d, "_Url"))
        cJSON_AddItemToArray(arr, url_shape(f, d, true));
    cJSON_Delete(d);
    answer_json(r, 200, o);
}

/* ---- tags ---- */

static void tags(struct fn *f, struct http_req *r, const char *arn)
{
    const char *name = name_of(arn);
    cJSON *d = get_or_404(f, r, name), *t, *b = NULL;

    if (!d)
        return;
    t = cJSON_GetObjectItemCaseSensitive(d, "_Tags");
    if (!t)
        t = cJSON_AddObjectToObject(d, "_Tags");
    if (strcmp(r->method, "GET") == 0) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "Tags", cJSON_Duplicate(t, 1));
        answer_json(r, 200, o);
    } else if (strcmp(r->method, "POST") == 0) {
        const cJSON *it;
        b = parse_body(r);
        if (!b)
            goto out;
        cJSON_ArrayForEach(it, cJSON_GetObjectItem(b, "Tags"))
        {
            if (cJSON_IsString(it))
                set_str(t, it->string, it->valuestring);
        }
        save(f, r, name, d, 204, NULL, false);
        d = NULL;
    } else if (strcmp(r->method, "DELETE") == 0) {
        const char *p = r->query;
        while (p && *p) { /* tagKeys=a&tagKeys=b */
            const char *amp = strchr(p, '&');
            size_t n = amp ? (size_t)(amp - p) : strlen(p);
            if (n > 8 && strncmp(p, "tagKeys=", 8) == 0) {
                char *k = seg_decode(r->arena, p + 8, n - 8);
                if (k)
                    cJSON_DeleteItemFromObjectCaseSensitive(t, k);
            }
            if (!amp)
                break;
            p = amp + 1;
        }
        save(f, r, name, d, 204, NULL, false);
        d = NULL;
    }
out:
    cJSON_Delete(b);
    cJSON_Delete(d);
}

/* code_download - GetFunction's Code.Location: the stored zip. */
static void code_download(struct fn *f, struct http_req *r, const char *name, const char *sha)
{
    char *path;
    FILE *in;
    struct buf b;
    char chunk[65536];
    size_t n;

    if (!valid_name(name) || strspn(sha, "0123456789abcdef") != 64 || sha[64]) {
        answer_error(r, E_NOT_FOUND, "No such package");
        return;
    }
    path = arena_sprintf(r->arena, "%s/%s/%s.zip", f->fn_dir, name, sha);
    in = fopen(path, "rb");
    if (!in) {
        answer_error(r, E_NOT_FOUND, "No such package");
        return;
    }
    buf_init(&b, 0);
    while ((n = fread(chunk, 1, sizeof(chunk), in)) > 0)
        buf_append(&b, chunk, n);
    fclose(in);
    http_resp_header(r, "Content-Type", "application/zip");
    http_respond_buf(r, 200, &b);
    buf_free(&b);
}

/* ---- routing ---- */

void fn_handle_api(struct fn *f, struct http_req *r, const struct creds_identity *who)
{
    const char *p = r->path, *m = r->method;
    char *seg[4] = {0};
    int n = 0;
    const char *s;
    bool v2015, v2021, tagsv;

    v2015 = strncmp(p, "/2015-03-31/functions", 21) == 0;
    v2021 = strncmp(p, "/2021-10-31/functions/", 22) == 0;
    tagsv = strncmp(p, "/2017-03-31/tags/", 17) == 0;
    if (tagsv) {
        char *arn = seg_decode(r->arena, p + 17, strlen(p + 17));
        if (!arn) {
            answer_error(r, E_INVALID_PARAM, "bad resource ARN");
            return;
        }
        if (!authorize(f, r, who,
                       strcmp(m, "GET") == 0    ? "lambda:ListTags"
                       : strcmp(m, "POST") == 0 ? "lambda:TagResource"
                                                : "lambda:UntagResource",
                       name_of(arn)))
            return;
        tags(f, r, arn);
        return;
    }
    if (!v2015 && !v2021) {
        answer_error(r, E_UNKNOWN_OP, "Unknown operation");
        return;
    }
    s = p + 21; /* both prefixes are 21 bytes before the first '/' */
    while (*s == '/' && n < 4) {
        const char *e = strchr(s + 1, '/');
        size_t len = e ? (size_t)(e - s - 1) : strlen(s + 1);
        if (len == 0)
            break;
        seg[n] = seg_decode(r->arena, s + 1, len);
        if (!seg[n]) {
            answer_error(r, E_INVALID_PARAM, "malformed path");
            return;
        }
        n++;
        s += len + 1;
    }
    if (*s && strcmp(s, "/") != 0) {
        answer_error(r, E_UNKNOWN_OP, "Unknown operation");
        return;
    }
    if (r->body_too_large) {
        answer_error(r, E_TOO_LARGE,
                     "Request must be smaller than 70167211 bytes for the "
                     "CreateFunction operation");
        return;
    }
    if (n >= 1)
        seg[0] = (char *)name_of(seg[0]);
    if (v2021) {
        if (n == 2 && strcmp(seg[1], "url") == 0) {
            if (!authorize(f, r, who,
                           strcmp(m, "GET") == 0    ? "lambda:GetFunctionUrlConfig"
                           : strcmp(m, "POST") == 0 ? "lambda:CreateFunctionUrlConfig"
                           : strcmp(m, "PUT") == 0  ? "lambda:UpdateFunctionUrlConfig"
                                                    : "lambda:DeleteFunctionUrlConfig",
                           seg[0]))
                return;
            url_config(f, r, seg[0]);
            return;
        }
        if (n == 2 && strcmp(seg[1], "urls") == 0 && strcmp(m, "GET") == 0) {
            if (authorize(f, r, who, "lambda:ListFunctionUrlConfigs", seg[0]))
                list_urls(f, r, seg[0]);
            return;
        }
        answer_error(r, E_UNKNOWN_OP, "Unknown operation");
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
        if (authorize(f, r, who, "lambda:GetFunction", seg[0]))
            get_function(f, r, seg[0], false);
        return;
    }
    if (n == 1 && strcmp(m, "DELETE") == 0) {
        if (authorize(f, r, who, "lambda:DeleteFunction", seg[0]))
            delete_function(f, r, seg[0]);
        return;
    }
    if (n == 2 && strcmp(seg[1], "configuration") == 0) {
        if (strcmp(m, "GET") == 0) {
            if (authorize(f, r, who, "lambda:GetFunctionConfiguration", seg[0]))
                get_function(f, r, seg[0], true);
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
            update_code(f, r, seg[0]);
        return;
    }
    if (n == 3 && strcmp(seg[1], "code-download") == 0 && strcmp(m, "GET") == 0) {
        if (authorize(f, r, who, "lambda:GetFunction", seg[0]))
            code_download(f, r, seg[0], seg[2]);
        return;
    }
    if (n == 2 && strcmp(seg[1], "invocations") == 0 && strcmp(m, "POST") == 0) {
        invoke(f, r, seg[0], who);
        return;
    }
    if (n == 2 && strcmp(seg[1], "policy") == 0) {
        if (strcmp(m, "POST") == 0) {
            if (authorize(f, r, who, "lambda:AddPermission", seg[0]))
                add_permission(f, r, seg[0]);
            return;
        }
        if (strcmp(m, "GET") == 0) {
            if (authorize(f, r, who, "lambda:GetPolicy", seg[0]))
                get_policy(f, r, seg[0]);
            return;
        }
    }
    if (n == 3 && strcmp(seg[1], "policy") == 0 && strcmp(m, "DELETE") == 0) {
        if (authorize(f, r, who, "lambda:RemovePermission", seg[0]))
            remove_permission(f, r, seg[0], seg[2]);
        return;
    }
    answer_error(r, E_UNKNOWN_OP, "Unknown operation");
}

/* ---- function URLs ---- */

static void url_answer(struct http_req *r, int status, const char *msg)
{
    char *b = arena_sprintf(r->arena, "{\"Message\":\"%s\"}", msg);

    http_resp_header(r, "Content-Type", "application/json");
    http_respond(r, status, b, strlen(b));
}

static void cors_headers(struct http_req *r, const cJSON *cors)
{
    const char *origin = http_req_header(r, "origin");
    const cJSON *it;
    bool ok = false;

    if (!cors || !origin)
        return;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(cors, "AllowOrigins"))
    {
        if (cJSON_IsString(it) &&
            (strcmp(it->valuestring, "*") == 0 || strcmp(it->valuestring, origin) == 0))
            ok = true;
    }
    if (!ok)
        return;
    http_resp_header(r, "Access-Control-Allow-Origin", origin);
    if (cJSON_IsTrue(cJSON_GetObjectItem(cors, "AllowCredentials")))
        http_resp_header(r, "Access-Control-Allow-Credentials", "true");
    {
        const char *keys[][2] = {{"AllowMethods", "Access-Control-Allow-Methods"},
                                 {"AllowHeaders", "Access-Control-Allow-Headers"},
                                 {"ExposeHeaders", "Access-Control-Expose-Headers"}};
        size_t i;
        for (i = 0; i < 3; i++) {
            const cJSON *a = cJSON_GetObjectItem(cors, keys[i][0]);
            char *j = NULL;
            cJSON_ArrayForEach(it, a)
            {
                if (!cJSON_IsString(it))
                    continue;
                j = j ? arena_sprintf(r->arena, "%s,%s", j, it->valuestring)
                      : arena_strdup(r->arena, it->valuestring);
            }
            if (j)
                http_resp_header(r, keys[i][1], j);
        }
    }
    it = cJSON_GetObjectItem(cors, "MaxAge");
    if (cJSON_IsNumber(it))
        http_resp_header(r, "Access-Control-Max-Age", arena_sprintf(r->arena, "%d", it->valueint));
}

void fn_handle_url(struct fn *f, struct http_req *r, const char *id, const char *raw_path,
                   const struct creds_identity *who)
{
    static const char *const methods[] = {"GET",    "POST", "PUT",     "PATCH",
                                          "DELETE", "HEAD", "OPTIONS", NULL};
    cJSON *d = fn_reg_by_url(f, id);
    const cJSON *u;
    const char *auth;
    struct invoke_ctx *c;
    struct err e = {0};
    char *event;
    size_t i;

    if (!d) {
        url_answer(r, 403, "Forbidden");
        return;
    }
    u = cJSON_GetObjectItemCaseSensitive(d, "_Url");
    auth = cJSON_GetStringValue(cJSON_GetObjectItem(u, "AuthType"));
    for (i = 0; methods[i] && strcmp(methods[i], r->method) != 0; i++)
        ;
    if (!methods[i]) {
        url_answer(r, 400, "Bad Request");
        goto out;
    }
    cors_headers(r, cJSON_GetObjectItem(u, "Cors"));
    if (strcmp(r->method, "OPTIONS") == 0 && cJSON_GetObjectItem(u, "Cors") &&
        http_req_header(r, "access-control-request-method")) {
        http_respond(r, 200, "", 0);
        goto out;
    }
    if (auth && strcmp(auth, "AWS_IAM") == 0) {
        struct authz_request q = {.who = who,
                                  .action = "lambda:InvokeFunctionUrl",
                                  .resource =
                                      cJSON_GetStringValue(cJSON_GetObjectItem(d, "FunctionArn"))};
        char *pol = cJSON_GetObjectItem(d, "_Policy")
                        ? cJSON_PrintUnformatted(cJSON_GetObjectItem(d, "_Policy"))
                        : NULL;
        bool ok;
        q.resource_policy = pol;
        ok = who && authz_check(f->authz, &q, &e) == ERR_OK;
        free(pol);
        if (!ok) {
            url_answer(r, 403, "Forbidden");
            goto out;
        }
    } else if (!url_allows_public(d)) {
        /* AWS: AuthType NONE still needs a resource-based policy statement
         * allowing lambda:InvokeFunctionUrl to Principal "*". */
        url_answer(r, 403, "Forbidden");
        goto out;
    }
    if (r->body_too_large || r->body.len > PAYLOAD_MAX) {
        url_answer(r, 413,
                   "Request must be smaller than 6291456 bytes for the InvokeFunction "
                   "operation");
        goto out;
    }
    event = fn_url_event(r, id, raw_path, f->account, &e);
    if (!event) {
        url_answer(r, 400, "Bad Request");
        goto out;
    }
    c = xcalloc(1, sizeof(*c));
    c->r = r;
    c->url = true;
    fn_rt_invoke(f, d, event, strlen(event), invoke_done, c);
    free(event);
out:
    cJSON_Delete(d);
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
    f->docs = cJSON_CreateObject();
    if (mkdir(f->fn_dir, 0755) && errno != EEXIST) {
        rc = err_set(e, ERR_IO, "mkdir %s: %s", f->fn_dir, strerror(errno));
        goto fail;
    }
    rc = fn_reg_load(f, e);
    if (rc == ERR_OK)
        rc = fn_rt_start(f, o->max_instances, o->idle_seconds, e);
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
    fn_rt_stop(f);
    cJSON_Delete(f->docs);
    pthread_mutex_destroy(&f->mu);
    free(f->data_dir);
    free(f->fn_dir);
    free(f->endpoint);
    free(f->public_url);
    free(f);
}
