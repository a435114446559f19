/* api_conf.c - the configuration around a function, in the Lambda REST API:
 * its resource policy (AddPermission, RemovePermission, GetPolicy), its URL
 * configuration (Create/Get/Update/Delete/ListFunctionUrlConfig(s)), its tags,
 * the download of its package (GetFunction's Code.Location) and its logs.
 * Routed from api.c (fn_handle_api), which checks the caller's permission
 * (logs checks its own). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "api_int.h"
#include "fn_int.h"
#include "mem.h"

/* ---- resource policy ---- */

/* policy_holder - the version or alias (or the function) whose policy @o
 * changes; NULL after failing @o as Lambda does: a missing alias is "Cannot
 * find alias arn: ...", a missing version "Function not found: ...", a
 * missing function @gone (its text differs between Add and Remove). */
static cJSON *policy_holder(struct op *o, cJSON *doc, const char *gone)
{
    cJSON *h;

    if (!doc) {
        fnapi_op_fail(o, E_NOT_FOUND, "%s%s", gone, fnapi_arn(o->f, o->r->arena, o->name, NULL));
        return NULL;
    }
    if ((h = fnapi_holder(doc, o->qual)))
        return h;
    fnapi_op_fail(o, E_NOT_FOUND, "%s: %s",
                  fn_qualifier_kind(o->qual) == FN_QUAL_ALIAS ? "Cannot find alias arn"
                                                              : "Function not found",
                  fnapi_arn(o->f, o->r->arena, o->name, o->qual));
    return NULL;
}

/* principal_ok - whether Lambda takes @p as a Principal: "*", an account,
 * an ARN or a service (NAME.amazonaws.com, NAME.amazon.com) */
static bool principal_ok(const char *p)
{
    size_t n = strlen(p), i;
    static const char *const svc[] = {".amazonaws.com", ".amazonaws.com.cn", ".amazon.com", NULL};

    if (strcmp(p, "*") == 0 || strncmp(p, "arn:", 4) == 0)
        return true;
    for (i = 0; i < n && p[i] >= '0' && p[i] <= '9'; i++)
        ;
    if (n == 12 && i == n)
        return true;
    for (i = 0; svc[i]; i++) {
        size_t k = strlen(svc[i]);
        if (n > k && strcmp(p + n - k, svc[i]) == 0)
            return true;
    }
    return false;
}

static bool change_add_permission(struct op *o, cJSON **doc)
{
    const cJSON *b = o->body;
    const char *sid, *action, *principal, *fua;
    cJSON *pol, *sts, *st, *it, *h;
    char *text;

    if (!(h = policy_holder(o, *doc, "Function not found: ")))
        return false;
    if (!fnapi_revision_ok(o, fnapi_str(b, "RevisionId"), h))
        return false;
    sid = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(b, "StatementId"));
    action = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(b, "Action"));
    principal = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(b, "Principal"));
    fua = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(b, "FunctionUrlAuthType"));
    pol = cJSON_GetObjectItemCaseSensitive(h, "_Policy");
    if (!pol) {
        pol = cJSON_AddObjectToObject(h, "_Policy");
        cJSON_AddStringToObject(pol, "Version", "2012-10-17");
        cJSON_AddStringToObject(pol, "Id", "default");
        cJSON_AddArrayToObject(pol, "Statement");
    }
    sts = cJSON_GetObjectItemCaseSensitive(pol, "Statement");
    cJSON_ArrayForEach(it, sts)
    {
        if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(it, "Sid")) ?: "", sid) == 0) {
            fnapi_op_fail(o, E_CONFLICT,
                          "The statement id (%s) provided already exists. Please provide a new "
                          "statement id, or remove the existing statement.",
                          sid);
            return false;
        }
    }
    st = cJSON_CreateObject();
    cJSON_AddStringToObject(st, "Sid", sid);
    cJSON_AddStringToObject(st, "Effect", "Allow");
    if (strcmp(principal, "*") == 0)
        cJSON_AddStringToObject(st, "Principal", "*");
    else if (strchr(principal, '.') && strncmp(principal, "arn:", 4) != 0)
        cJSON_AddStringToObject(cJSON_AddObjectToObject(st, "Principal"), "Service", principal);
    else if (strncmp(principal, "arn:", 4) != 0) /* an account: its root, as Lambda writes it */
        cJSON_AddStringToObject(cJSON_AddObjectToObject(st, "Principal"), "AWS",
                                arena_sprintf(o->r->arena, "arn:aws:iam::%s:root", principal));
    else
        cJSON_AddStringToObject(cJSON_AddObjectToObject(st, "Principal"), "AWS", principal);
    cJSON_AddStringToObject(st, "Action", action);
    cJSON_AddStringToObject(st, "Resource", fnapi_holder_arn(h));
    {
        /* as Lambda writes them, in its order: FunctionUrlAuthType,
         * PrincipalOrgID, SourceAccount and EventSourceToken as StringEquals,
         * SourceArn as ArnLike */
        const char *sacct = fnapi_str(b, "SourceAccount"), *sarn = fnapi_str(b, "SourceArn");
        const char *org = fnapi_str(b, "PrincipalOrgID"), *tok = fnapi_str(b, "EventSourceToken");
        cJSON *cond = NULL, *eq = NULL;
        if (fua || sacct || sarn || org || tok)
            cond = cJSON_AddObjectToObject(st, "Condition");
        if (fua || sacct || org || tok)
            eq = cJSON_AddObjectToObject(cond, "StringEquals");
        if (fua)
            cJSON_AddStringToObject(eq, "lambda:FunctionUrlAuthType", fua);
        if (org)
            cJSON_AddStringToObject(eq, "aws:PrincipalOrgID", org);
        if (sacct)
            cJSON_AddStringToObject(eq, "AWS:SourceAccount", sacct);
        if (tok)
            cJSON_AddStringToObject(eq, "lambda:EventSourceToken", tok);
        if (sarn)
            cJSON_AddStringToObject(cJSON_AddObjectToObject(cond, "ArnLike"), "AWS:SourceArn",
                                    sarn);
    }
    text = cJSON_PrintUnformatted(st);
    cJSON_AddItemToArray(sts, st);
    o->answer = cJSON_CreateObject();
    cJSON_AddStringToObject(o->answer, "Statement", text);
    free(text);
    /* the policy's RevisionId is its holder's: a version's or alias's changes too */
    if (h == *doc)
        fnapi_rev(*doc);
    else
        fnapi_rev_id(h);
    o->status = 201;
    return true;
}

void fnapi_add_permission(struct fn *f, struct http_req *r, const char *name, const char *qual)
{
    cJSON *b = fnapi_parse_body(r);
    struct op *o;
    const char *sid;

    if (!b)
        return;
    o = fnapi_op_new(f, r, name, change_add_permission);
    o->body = b;
    o->qual = qual;
    if (!cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(b, "StatementId")) ||
        !cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(b, "Action")) ||
        !cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(b, "Principal"))) {
        fnapi_op_fail(o, E_INVALID_PARAM, "StatementId, Action and Principal are required");
        fnapi_op_reject(o);
        return;
    }
    sid = fnapi_str(b, "StatementId");
    if (!*sid || strlen(sid) > 100 ||
        strspn(sid, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                    "0123456789-_") != strlen(sid)) {
        fnapi_op_fail(o, E_VALIDATION,
                      "1 validation error detected: Value '%s' at 'statementId' failed to "
                      "satisfy constraint: Member must satisfy regular expression pattern: "
                      "([a-zA-Z0-9-_]+)",
                      sid);
        fnapi_op_reject(o);
        return;
    }
    if (qual && fn_qualifier_kind(qual) == FN_QUAL_LATEST) {
        fnapi_op_fail(o, E_INVALID_PARAM,
                      "We currently do not support adding policies for $LATEST.");
        fnapi_op_reject(o);
        return;
    }
    if (!principal_ok(fnapi_str(b, "Principal"))) {
        fnapi_op_fail(o, E_INVALID_PARAM,
                      "The provided principal was invalid. Please check the principal and try "
                      "again.");
        fnapi_op_reject(o);
        return;
    }
    fnapi_op_submit(o);
}

static bool change_remove_permission(struct op *o, cJSON **doc)
{
    cJSON *sts, *it, *h;
    int i = 0;

    if (!(h = policy_holder(o, *doc, "No policy found for: ")))
        return false;
    sts = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(h, "_Policy"),
                                           "Statement");
    if (!cJSON_GetArraySize(sts)) {
        fnapi_op_fail(o, E_NOT_FOUND, "No policy is associated with the given resource.");
        return false;
    }
    if (!fnapi_revision_ok(o, o->rev, h))
        return false;
    cJSON_ArrayForEach(it, sts)
    {
        if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(it, "Sid")) ?: "", o->arg) == 0) {
            cJSON_DeleteItemFromArray(sts, i);
            if (h == *doc)
                fnapi_rev(*doc);
            else
                fnapi_rev_id(h);
            o->status = 204;
            return true;
        }
        i++;
    }
    fnapi_op_fail(o, E_NOT_FOUND, "Statement %s is not found in resource policy.", o->arg);
    return false;
}

void fnapi_remove_permission(struct fn *f, struct http_req *r, const char *name, const char *qual,
                             const char *sid)
{
    struct op *o = fnapi_op_new(f, r, name, change_remove_permission);

    o->arg = sid;
    o->qual = qual;
    o->rev = fnapi_query_param(r, "RevisionId");
    fnapi_op_submit(o);
}

/* holder_or_404 - a copy of NAME's document and, in @h, @qual's holder in
 * it; NULL after answering ResourceNotFoundException. */
static cJSON *holder_or_404(struct fn *f, struct http_req *r, const char *name, const char *qual,
                            cJSON **h)
{
    cJSON *d = fnapi_get_or_404(f, r, name);

    if (!d)
        return NULL;
    if ((*h = fnapi_holder(d, qual)))
        return d;
    cJSON_Delete(d);
    fnapi_answer_error(r, E_NOT_FOUND, "The resource you requested does not exist.");
    return NULL;
}

void fnapi_get_policy(struct fn *f, struct http_req *r, const char *name, const char *qual)
{
    cJSON *h, *d = holder_or_404(f, r, name, qual, &h), *pol, *o;
    char *t;

    if (!d)
        return;
    pol = cJSON_GetObjectItemCaseSensitive(h, "_Policy");
    if (!pol || !cJSON_GetArraySize(cJSON_GetObjectItem(pol, "Statement"))) {
        cJSON_Delete(d);
        fnapi_answer_error(r, E_NOT_FOUND, "The resource you requested does not exist.");
        return;
    }
    t = cJSON_PrintUnformatted(pol);
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "Policy", t);
    cJSON_AddStringToObject(o, "RevisionId",
                            cJSON_GetStringValue(cJSON_GetObjectItem(h, "RevisionId")));
    free(t);
    cJSON_Delete(d);
    fnapi_answer_json(r, 200, o);
}

/* fnapi_url_allows_public - whether the resource policy grants lambda:InvokeFunctionUrl
 * to Principal "*" (what AWS requires for AuthType NONE). */
bool fnapi_url_allows_public(const cJSON *d)
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
    cJSON_AddStringToObject(o, "FunctionArn", fnapi_holder_arn(d));
    return o;
}

static bool url_fields(struct op *o, const cJSON *b, cJSON *u, bool need_auth)
{
    const char *auth = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(b, "AuthType"));
    const cJSON *cors = cJSON_GetObjectItemCaseSensitive(b, "Cors");

    if ((need_auth && !auth) ||
        (auth && strcmp(auth, "NONE") != 0 && strcmp(auth, "AWS_IAM") != 0)) {
        fnapi_op_fail(o, E_INVALID_PARAM,
                      "1 validation error detected: Value at 'authType' failed to satisfy "
                      "constraint: Member must satisfy enum value set: [AWS_IAM, NONE]");
        return false;
    }
    if (auth)
        fnapi_set_str(u, "AuthType", auth);
    if (cors) {
        cJSON_DeleteItemFromObjectCaseSensitive(u, "Cors");
        cJSON_AddItemToObject(u, "Cors", cJSON_Duplicate(cors, 1));
    }
    return true;
}

/* url_holder - @o's holder (the function or its alias) in @doc; NULL after
 * failing @o with @msg, the text Lambda's URL operations give whether the
 * function or only the alias is missing ("Function does not exist" to
 * Create/Update, "The resource you requested does not exist." to Delete) */
static cJSON *url_holder(struct op *o, cJSON *doc, const char *msg)
{
    cJSON *h = doc ? fnapi_holder(doc, o->qual) : NULL;

    if (!h)
        fnapi_op_fail(o, E_NOT_FOUND, "%s", msg);
    return h;
}

static bool url_missing(struct op *o, const cJSON *u)
{
    if (u)
        return false;
    fnapi_op_fail(o, E_NOT_FOUND, "The resource you requested does not exist.");
    return true;
}

static bool change_url_delete(struct op *o, cJSON **doc)
{
    cJSON *h = url_holder(o, *doc, "The resource you requested does not exist.");

    if (!h || url_missing(o, cJSON_GetObjectItemCaseSensitive(h, "_Url")))
        return false;
    cJSON_DeleteItemFromObjectCaseSensitive(h, "_Url");
    o->status = 204;
    return true;
}

static bool change_url_create(struct op *o, cJSON **doc)
{
    char id[33], t[40];
    unsigned char rb[32];
    cJSON *u, *h;
    size_t i;

    if (!(h = url_holder(o, *doc, "Function does not exist")))
        return false;
    if (cJSON_GetObjectItemCaseSensitive(h, "_Url")) {
        fnapi_op_fail(
            o, E_CONFLICT,
            "Failed to create function url config for [functionArn = %s]. Error message:  "
            "FunctionUrlConfig exists for this Lambda function",
            fnapi_holder_arn(h));
        return false;
    }
    u = cJSON_CreateObject();
    if (!url_fields(o, o->body, u, true)) {
        cJSON_Delete(u);
        return false;
    }
    if (getrandom(rb, sizeof(rb), 0) != (ssize_t)sizeof(rb))
        memset(rb, 1, sizeof(rb));
    for (i = 0; i < 32; i++)
        id[i] = "abcdefghijklmnopqrstuvwxyz234567"[rb[i] % 32];
    id[32] = '\0';
    fnapi_now_iso(t, sizeof(t));
    cJSON_AddStringToObject(u, "UrlId", id);
    cJSON_AddStringToObject(u, "CreationTime", t);
    cJSON_AddStringToObject(u, "LastModifiedTime", t);
    cJSON_AddStringToObject(u, "InvokeMode", "BUFFERED");
    cJSON_AddItemToObject(h, "_Url", u);
    o->status = 201;
    o->answer = url_shape(o->f, h, false);
    return true;
}

static bool change_url_update(struct op *o, cJSON **doc)
{
    cJSON *u, *h;
    char t[40];

    if (!(h = url_holder(o, *doc, "Function does not exist")))
        return false;
    u = cJSON_GetObjectItemCaseSensitive(h, "_Url");
    if (url_missing(o, u) || !url_fields(o, o->body, u, false))
        return false;
    fnapi_now_iso(t, sizeof(t));
    fnapi_set_str(u, "LastModifiedTime", t);
    o->status = 200;
    o->answer = url_shape(o->f, h, true);
    return true;
}

void fnapi_url_config(struct fn *f, struct http_req *r, const char *name, const char *qual)
{
    struct op *o;
    cJSON *b = NULL;

    if (qual && fn_qualifier_kind(qual) != FN_QUAL_ALIAS) {
        fnapi_answer_error(
            r, E_VALIDATION,
            arena_sprintf(r->arena,
                          "1 validation error detected: Value '%s' at 'qualifier' failed to "
                          "satisfy constraint: Member must satisfy regular expression pattern: "
                          "((?!^\\d+$)^[0-9a-zA-Z-_]+$)",
                          qual));
        return;
    }
    if (strcmp(r->method, "GET") == 0) {
        cJSON *d = fn_reg_get(f, name), *h = d ? fnapi_holder(d, qual) : NULL;
        if (!h || !cJSON_GetObjectItemCaseSensitive(h, "_Url"))
            fnapi_answer_error(r, E_NOT_FOUND, "The resource you requested does not exist.");
        else
            fnapi_answer_json(r, 200, url_shape(f, h, true));
        cJSON_Delete(d);
        return;
    }
    if (strcmp(r->method, "DELETE") == 0) {
        o = fnapi_op_new(f, r, name, change_url_delete);
        o->qual = qual;
        fnapi_op_submit(o);
        return;
    }
    if (strcmp(r->method, "POST") != 0 && strcmp(r->method, "PUT") != 0) {
        fnapi_answer_error(r, E_UNKNOWN_OP, "Unknown operation");
        return;
    }
    b = fnapi_parse_body(r);
    if (!b)
        return;
    o = fnapi_op_new(f, r, name,
                     strcmp(r->method, "POST") == 0 ? change_url_create : change_url_update);
    o->body = b;
    o->qual = qual;
    fnapi_op_submit(o);
}

void fnapi_list_urls(struct fn *f, struct http_req *r, const char *name)
{
    cJSON *d = fn_reg_get(f, name), *o, *arr, *a;

    if (!d) {
        fnapi_answer_error(r, E_NOT_FOUND, "Function does not exist");
        return;
    }
    o = cJSON_CreateObject();
    arr = cJSON_AddArrayToObject(o, "FunctionUrlConfigs");
    if (cJSON_GetObjectItemCaseSensitive(d, "_Url"))
        cJSON_AddItemToArray(arr, url_shape(f, d, true));
    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(d, "_Aliases"))
    {
        if (cJSON_GetObjectItemCaseSensitive(a, "_Url"))
            cJSON_AddItemToArray(arr, url_shape(f, a, true));
    }
    cJSON_Delete(d);
    fnapi_answer_json(r, 200, o);
}

/* ---- tags ---- */

static cJSON *tags_of(cJSON *doc)
{
    cJSON *t = cJSON_GetObjectItemCaseSensitive(doc, "_Tags");

    return t ? t : cJSON_AddObjectToObject(doc, "_Tags");
}

void fnapi_tags_merge(cJSON *doc, const cJSON *body)
{
    const cJSON *it;
    cJSON *t = tags_of(doc);

    cJSON_ArrayForEach(it, cJSON_GetObjectItem(body, "Tags"))
    {
        if (cJSON_IsString(it))
            fnapi_set_str(t, it->string, it->valuestring);
    }
}

void fnapi_tags_remove(cJSON *doc, struct arena *a, const char *query)
{
    const char *p = query;
    cJSON *t = tags_of(doc);

    while (p && *p) { /* tagKeys=a&tagKeys=b */
        const char *amp = strchr(p, '&');
        size_t n = amp ? (size_t)(amp - p) : strlen(p);
        if (n > 8 && strncmp(p, "tagKeys=", 8) == 0) {
            char *k = fnapi_seg_decode(a, p + 8, n - 8);
            if (k)
                cJSON_DeleteItemFromObjectCaseSensitive(t, k);
        }
        if (!amp)
            break;
        p = amp + 1;
    }
}

cJSON *fnapi_tags_answer(cJSON *doc)
{
    cJSON *out = cJSON_CreateObject();

    cJSON_AddItemToObject(out, "Tags", cJSON_Duplicate(tags_of(doc), 1));
    return out;
}

static bool change_tag(struct op *o, cJSON **doc)
{
    if (!fnapi_op_exists(o, *doc))
        return false;
    fnapi_tags_merge(*doc, o->body);
    if (cJSON_GetArraySize(tags_of(*doc)) > 50) {
        fnapi_op_fail(o, E_INVALID_PARAM, "Number of tags exceeds resource tag limit.");
        return false;
    }
    fnapi_rev_id(*doc);
    o->status = 204;
    return true;
}

static bool change_untag(struct op *o, cJSON **doc)
{
    if (!fnapi_op_exists(o, *doc))
        return false;
    fnapi_tags_remove(*doc, o->r->arena, o->arg);
    fnapi_rev_id(*doc);
    o->status = 204;
    return true;
}

/* tag_arn_ok - whether @arn is a Lambda ARN the tag operations take (the
 * model's pattern: a function, optionally qualified, or a layer); false after
 * answering Lambda's ValidationException */
static bool tag_arn_ok(struct http_req *r, const char *arn)
{
    const char *fn = strstr(arn, ":function:"), *c;
    int colons = 0;

    for (c = arn; fn && c < fn; c++)
        colons += *c == ':';
    /* arn:PARTITION:lambda:REGION:ACCOUNT:function:..., region and account given */
    if (fn && colons == 4 && fnapi_name_pattern(arn))
        return true;
    fnapi_answer_error(r, E_VALIDATION,
                       arena_sprintf(r->arena,
                                     "1 validation error detected: Value '%s' at 'resource' "
                                     "failed to satisfy constraint: Member must satisfy regular "
                                     "expression pattern: arn:(aws[a-zA-Z-]*)?:lambda:[a-z]{2}"
                                     "((-gov)|(-iso(b?)))?-[a-z]+-\\d{1}:\\d{12}:(function:"
                                     "[a-zA-Z0-9-_]+(:(\\$LATEST|[a-zA-Z0-9-_]+))?|layer:"
                                     "[a-zA-Z0-9-_]+)",
                                     arn));
    return false;
}

void fnapi_tags(struct fn *f, struct http_req *r, const char *arn)
{
    const char *name = fnapi_name_of(arn);
    struct op *o;

    if (!tag_arn_ok(r, arn))
        return;
    if (strchr(name, ':')) { /* a version's or alias's ARN */
        fnapi_answer_error(r, E_INVALID_PARAM,
                           "Tags on function aliases and versions are not supported. Please "
                           "specify a function ARN.");
        return;
    }
    if (strcmp(r->method, "GET") == 0) {
        cJSON *d = fnapi_get_or_404(f, r, name), *out;
        if (!d)
            return;
        out = fnapi_tags_answer(d);
        cJSON_Delete(d);
        fnapi_answer_json(r, 200, out);
    } else if (strcmp(r->method, "POST") == 0) {
        cJSON *b = fnapi_parse_body(r);
        if (!b)
            return;
        if (!cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(b, "Tags"))) {
            cJSON_Delete(b);
            fnapi_answer_error(r, E_INVALID_PARAM,
                               "An error occurred and the request cannot be processed.");
            return;
        }
        o = fnapi_op_new(f, r, name, change_tag);
        o->body = b;
        fnapi_op_submit(o);
    } else if (strcmp(r->method, "DELETE") == 0) {
        if (!r->query || !strstr(r->query, "tagKeys=")) {
            fnapi_answer_error(r, E_VALIDATION,
                               "1 validation error detected: Value null at 'tagKeys' failed to "
                               "satisfy constraint: Member must not be null");
            return;
        }
        o = fnapi_op_new(f, r, name, change_untag);
        o->arg = r->query;
        fnapi_op_submit(o);
    } else
        fnapi_answer_error(r, E_UNKNOWN_OP, "Unknown operation");
}

/* fnapi_code_download - GetFunction's Code.Location: the stored zip. */
void fnapi_code_download(struct fn *f, struct http_req *r, const char *name, const char *sha)
{
    char *path;
    FILE *in;
    struct buf b;
    char chunk[65536];
    size_t n;

    if (!fnapi_valid_name(name) || strspn(sha, "0123456789abcdef") != 64 || sha[64]) {
        fnapi_answer_error(r, E_NOT_FOUND, "No such package");
        return;
    }
    path = arena_sprintf(r->arena, "%s/%s/%s.zip", f->fn_dir, name, sha);
    in = fopen(path, "rb");
    if (!in) {
        fnapi_answer_error(r, E_NOT_FOUND, "No such package");
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

/* ---- logs (a Tandem extension, for `tandem logs --endpoint`) ---- */

#define LOGS_CHUNK (4u * 1024 * 1024)

/* read_from - append @path's bytes from @off (at most @max) to @b; the file's size, or -1. */
static long long read_from(const char *path, long long off, size_t max, struct buf *b)
{
    FILE *in = fopen(path, "rb");
    char chunk[65536];
    long long size;
    size_t n;

    if (!in)
        return -1;
    fseek(in, 0, SEEK_END);
    size = ftell(in);
    if (off > size)
        off = 0; /* rotated since: start the new file */
    fseek(in, (long)off, SEEK_SET);
    while (max && (n = fread(chunk, 1, max < sizeof(chunk) ? max : sizeof(chunk), in)) > 0) {
        buf_append(b, chunk, n);
        max -= n;
    }
    fclose(in);
    return size;
}

/*
 * fnapi_logs - GET /2015-03-31/functions/NAME/logs[?offset=N]: the function's log
 * as `tandem logs` prints it. Without offset: the rotated log.1 then the log
 * (the last 4 MiB of each at most); with offset: the log from byte N (from 0
 * when the log has rotated below N), at most 4 MiB. X-Tandem-Log-Offset is
 * where the next call continues. Allowed to root and to identities allowed
 * logs:GetLogEvents on arn:aws:logs:REGION:ACCOUNT:log-group:/aws/lambda/NAME:*.
 */
void fnapi_logs(struct fn *f, struct http_req *r, const char *name,
                const struct creds_identity *who)
{
    struct err e = {0};
    struct authz_kv kv[FNAPI_CONTEXT_MAX];
    struct authz_request q = {
        .who = who,
        .action = "logs:GetLogEvents",
        .resource = arena_sprintf(r->arena, "arn:aws:logs:%s:%s:log-group:/aws/lambda/%s:*",
                                  f->region, f->account, name),
        .context = kv,
        .ncontext = fnapi_context(f, r, kv),
    };
    const char *off_s = fnapi_query_param(r, "offset");
    char *path, *old;
    long long off = 0, size, next;
    struct buf b;
    cJSON *d;

    if (authz_check(f->authz, &q, &e) != ERR_OK) {
        fnapi_answer_error(r, E_DENIED, e.msg[0] ? e.msg : "Access denied");
        return;
    }
    d = fnapi_get_or_404(f, r, name);
    if (!d)
        return;
    cJSON_Delete(d);
    if (off_s) {
        char *end = NULL;
        off = strtoll(off_s, &end, 10);
        if (!*off_s || *end || off < 0) {
            fnapi_answer_error(r, E_INVALID_PARAM, "offset must be a non-negative integer");
            return;
        }
    }
    path = fn_log_path(f, name);
    old = arena_sprintf(r->arena, "%s.1", path);
    buf_init(&b, 0);
    if (!off_s) {
        long long osize = read_from(old, 0, 0, &b);
        if (osize > (long long)LOGS_CHUNK)
            read_from(old, osize - LOGS_CHUNK, LOGS_CHUNK, &b);
        else if (osize > 0)
            read_from(old, 0, LOGS_CHUNK, &b);
        size = read_from(path, 0, 0, &b);
        off = size > (long long)LOGS_CHUNK ? size - LOGS_CHUNK : 0;
    }
    {
        size_t before = b.len;
        size = read_from(path, off, LOGS_CHUNK, &b);
        if (size < 0)
            next = 0;
        else
            next = (off > size ? 0 : off) + (long long)(b.len - before);
    }
    free(path);
    http_resp_header(r, "Content-Type", "text/plain; charset=utf-8");
    http_resp_header(r, "X-Tandem-Log-Offset", arena_sprintf(r->arena, "%lld", next));
    http_respond_buf(r, 200, &b);
    buf_free(&b);
}
