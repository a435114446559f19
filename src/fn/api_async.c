/* api_async.c - the configuration of asynchronous invocation (lambda/2015-03-31:
 * Put/Update/Get/Delete/ListFunctionEventInvokeConfigs under
 * /2019-09-25/functions/NAME/event-invoke-config).
 *
 * A configuration belongs to $LATEST, a version or an alias ("holder", see
 * api_version.c) and is kept in it as the private member "_Async"
 * (MaximumRetryAttempts, MaximumEventAgeInSeconds, DestinationConfig and
 * LastModified in Unix seconds), so it is written in the same
 * read-modify-write as the function's document and goes with the function,
 * version or alias. Publishing a version does not copy it (private members
 * are not published). The delivery that reads it is async.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "async_int.h"
#include "clock.h"
#include "mem.h"

#define CONFIG_MEMBER "_Async"
#define LIST_MAX      50

/* qual_arn - the ARN a configuration shows: qualified, $LATEST when @qual is NULL. */
static char *qual_arn(struct fn *f, struct arena *a, const char *name, const char *qual)
{
    return fnapi_arn(f, a, name, qual ? qual : "$LATEST");
}

/* shown - the configuration @c of @arn as the API answers it (owned). */
static cJSON *shown(const cJSON *c, const char *arn)
{
    cJSON *o = cJSON_CreateObject(), *dc;
    const cJSON *v;
    const char *k;

    cJSON_AddNumberToObject(
        o, "LastModified",
        cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(c, "LastModified")));
    cJSON_AddStringToObject(o, "FunctionArn", arn);
    if ((v = cJSON_GetObjectItemCaseSensitive(c, "MaximumRetryAttempts")))
        cJSON_AddNumberToObject(o, "MaximumRetryAttempts", v->valuedouble);
    if ((v = cJSON_GetObjectItemCaseSensitive(c, "MaximumEventAgeInSeconds")))
        cJSON_AddNumberToObject(o, "MaximumEventAgeInSeconds", v->valuedouble);
    dc = cJSON_AddObjectToObject(o, "DestinationConfig");
    cJSON_AddObjectToObject(dc, "OnSuccess");
    cJSON_AddObjectToObject(dc, "OnFailure");
    if ((k = fnasync_destination(c, true)))
        cJSON_AddStringToObject(cJSON_GetObjectItem(dc, "OnSuccess"), "Destination", k);
    if ((k = fnasync_destination(c, false)))
        cJSON_AddStringToObject(cJSON_GetObjectItem(dc, "OnFailure"), "Destination", k);
    return o;
}

const char *fnasync_destination(const cJSON *c, bool success)
{
    const cJSON *dc = cJSON_GetObjectItemCaseSensitive(c, "DestinationConfig");
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(dc, success ? "OnSuccess" : "OnFailure");
    const char *d = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(w, "Destination"));

    return d && *d ? d : NULL;
}

const cJSON *fnasync_config_of(const cJSON *holder)
{
    return cJSON_GetObjectItemCaseSensitive(holder, CONFIG_MEMBER);
}

/* ---- checking a request ---- */

/* int_member - @b's integer member @k within [@lo, @hi] (absent: fine); false
 * after answering @r as Lambda refuses it at @path. */
static bool int_member(struct http_req *r, const cJSON *b, const char *k, const char *path, long lo,
                       long hi)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(b, k);

    if (!v || cJSON_IsNull(v))
        return true;
    if (!cJSON_IsNumber(v) || v->valuedouble != (double)(long long)v->valuedouble) {
        fnapi_answer_error(
            r, E_INVALID_CONTENT,
            arena_sprintf(r->arena, "Could not parse request body into json: %s is not an integer",
                          k));
        return false;
    }
    if (v->valuedouble >= (double)lo && v->valuedouble <= (double)hi)
        return true;
    fnapi_answer_error(
        r, E_INVALID_PARAM,
        arena_sprintf(r->arena,
                      "1 validation error detected: Value '%.0f' at '%s' failed to satisfy "
                      "constraint: Member must have value %s %ld",
                      v->valuedouble, path,
                      v->valuedouble < (double)lo ? "greater than or equal to"
                                                  : "less than or equal to",
                      v->valuedouble < (double)lo ? lo : hi));
    return false;
}

/* arn_shaped - whether @d matches DestinationArn's pattern
 * arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:(region)?:(\d{12})?:(.*), and the
 * service it names into @svc. */
static bool arn_shaped(const char *d, char *svc, size_t cap)
{
    const char *p, *e;
    size_t n;

    if (strncmp(d, "arn:aws", 7) != 0)
        return false;
    p = strchr(d + 4, ':');
    if (!p)
        return false;
    e = strchr(++p, ':');
    n = e ? (size_t)(e - p) : 0;
    if (!n || n >= cap ||
        strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") < n)
        return false;
    memcpy(svc, p, n);
    svc[n] = '\0';
    p = strchr(e + 1, ':'); /* past the region */
    if (!p)
        return false;
    e = strchr(p + 1, ':'); /* past the account */
    if (!e || !(e - p - 1 == 0 || (e - p - 1 == 12 && strspn(p + 1, "0123456789") == 12)))
        return false;
    return true;
}

/* destination_ok - whether @d (a Destination of @which, "onSuccess" or
 * "onFailure") is one this region can deliver to: a function of this region
 * and account that exists, not @name itself; false after answering @r. */
static bool destination_ok(struct fn *f, struct http_req *r, const char *name, const char *which,
                           const char *d, const cJSON *b)
{
    char svc[64], want[128], fname[72], qual[130] = "";
    const char *rest;
    cJSON *doc;
    bool ok;

    if (!*d)
        return true;
    if (strlen(d) > 350 || !arn_shaped(d, svc, sizeof(svc))) {
        fnapi_answer_error(
            r, E_VALIDATION,
            arena_sprintf(r->arena,
                          "1 validation error detected: Value '%s' at 'destinationConfig.%s."
                          "destination' failed to satisfy constraint: Member must satisfy regular "
                          "expression pattern: $|kafka://([^.]([a-zA-Z0-9\\-_.]{0,248}))|arn:(aws["
                          "a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+"
                          "-\\d{1})?:(\\d{12})?:(.*)",
                          d, which));
        return false;
    }
    if (strcmp(svc, "lambda") && strcmp(svc, "sqs") && strcmp(svc, "sns") &&
        strcmp(svc, "events") && strcmp(svc, "s3")) {
        const char *s = fnapi_str(cJSON_GetObjectItem(b, "OnSuccess"), "Destination");
        const char *fl = fnapi_str(cJSON_GetObjectItem(b, "OnFailure"), "Destination");
        fnapi_answer_error(
            r, E_INVALID_PARAM,
            arena_sprintf(r->arena,
                          "The provided destination config DestinationConfig(onSuccess=%s%s%s, "
                          "onFailure=%s%s%s) is invalid.",
                          s && *s ? "OnSuccess(destination=" : "null", s && *s ? s : "",
                          s && *s ? ")" : "", fl && *fl ? "OnFailure(destination=" : "null",
                          fl && *fl ? fl : "", fl && *fl ? ")" : ""));
        return false;
    }
    /* SQS, SNS, EventBridge and S3 are not services of this region: no such
     * queue, topic, bus or bucket exists, which Lambda answers like this */
    snprintf(want, sizeof(want), "arn:aws:lambda:%s:%s:function:", f->region, f->account);
    ok = strcmp(svc, "lambda") == 0 && strncmp(d, want, strlen(want)) == 0;
    rest = d + strlen(want);
    if (ok) {
        size_t n = strcspn(rest, ":");
        ok = n > 0 && n < sizeof(fname);
        if (ok) {
            memcpy(fname, rest, n);
            fname[n] = '\0';
            if (rest[n] == ':')
                snprintf(qual, sizeof(qual), "%s", rest + n + 1);
            ok = fnapi_valid_name(fname) && (!*qual || fn_qualifier_kind(qual) != FN_QUAL_BAD);
        }
    }
    if (ok && strcmp(fname, name) == 0) {
        fnapi_answer_error(r, E_INVALID_PARAM,
                           "You can't specify the function as a destination for itself.");
        return false;
    }
    if (ok) {
        doc = fn_reg_get(f, fname);
        ok = fnapi_holder(doc, *qual ? qual : NULL) != NULL;
        cJSON_Delete(doc);
    }
    if (!ok)
        fnapi_answer_error(r, E_INVALID_PARAM,
                           arena_sprintf(r->arena, "The destination ARN %s is invalid.", d));
    return ok;
}

/* body_ok - check a Put or Update body; false after answering @r. */
static bool body_ok(struct fn *f, struct http_req *r, const char *name, const cJSON *b)
{
    const cJSON *dc = cJSON_GetObjectItemCaseSensitive(b, "DestinationConfig");
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(dc, "OnSuccess");
    const cJSON *fl = cJSON_GetObjectItemCaseSensitive(dc, "OnFailure");
    const char *sd = fnapi_str(s, "Destination"), *fd = fnapi_str(fl, "Destination");

    if (!int_member(r, b, "MaximumRetryAttempts", "maximumRetryAttempts", 0, 2) ||
        !int_member(r, b, "MaximumEventAgeInSeconds", "maximumEventAgeInSeconds", 60, 21600))
        return false;
    if ((dc && !cJSON_IsNull(dc) && !cJSON_IsObject(dc)) || (s && !cJSON_IsObject(s)) ||
        (fl && !cJSON_IsObject(fl)) || (cJSON_GetObjectItem(s, "Destination") && !sd) ||
        (cJSON_GetObjectItem(fl, "Destination") && !fd)) {
        fnapi_answer_error(r, E_INVALID_CONTENT,
                           "Could not parse request body into json: DestinationConfig is not "
                           "an object of OnSuccess and OnFailure destinations");
        return false;
    }
    if (!cJSON_GetObjectItem(b, "MaximumRetryAttempts") &&
        !cJSON_GetObjectItem(b, "MaximumEventAgeInSeconds") && (!dc || cJSON_IsNull(dc))) {
        fnapi_answer_error(
            r, E_INVALID_PARAM,
            "You must specify at least one of error handling or destination setting.");
        return false;
    }
    return (!sd || destination_ok(f, r, name, "onSuccess", sd, dc)) &&
           (!fd || destination_ok(f, r, name, "onFailure", fd, dc));
}

/* ---- changes ---- */

static void set_member(cJSON *c, const char *k, const cJSON *v)
{
    cJSON_DeleteItemFromObjectCaseSensitive(c, k);
    if (v && !cJSON_IsNull(v))
        cJSON_AddItemToObject(c, k, cJSON_Duplicate(v, 1));
}

/* change_config - Put (o->arg "put": replace) or Update (merge) the holder's configuration. */
static bool change_config(struct op *o, cJSON **doc)
{
    bool put = strcmp(o->arg, "put") == 0;
    cJSON *h = fnapi_holder(*doc, o->qual), *c, *dc;
    const cJSON *bd = cJSON_GetObjectItemCaseSensitive(o->body, "DestinationConfig");
    const char *arn = qual_arn(o->f, o->r->arena, o->name, o->qual);
    static const char *const ints[] = {"MaximumRetryAttempts", "MaximumEventAgeInSeconds"};
    int i;

    if (!h) {
        fnapi_op_fail(o, E_NOT_FOUND, "The function doesn't exist.");
        return false;
    }
    c = cJSON_GetObjectItemCaseSensitive(h, CONFIG_MEMBER);
    if (!put && !c) {
        fnapi_op_fail(o, E_NOT_FOUND, "The function %s doesn't have an EventInvokeConfig", arn);
        return false;
    }
    if (put || !c) {
        cJSON_DeleteItemFromObjectCaseSensitive(h, CONFIG_MEMBER);
        c = cJSON_AddObjectToObject(h, CONFIG_MEMBER);
    }
    for (i = 0; i < 2; i++) { /* Update leaves what it does not name */
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o->body, ints[i]);
        if (put || (v && !cJSON_IsNull(v)))
            set_member(c, ints[i], v);
    }
    if (put || (bd && !cJSON_IsNull(bd))) {
        cJSON_DeleteItemFromObjectCaseSensitive(c, "DestinationConfig");
        dc = cJSON_AddObjectToObject(c, "DestinationConfig");
        set_member(dc, "OnSuccess", cJSON_GetObjectItemCaseSensitive(bd, "OnSuccess"));
        set_member(dc, "OnFailure", cJSON_GetObjectItemCaseSensitive(bd, "OnFailure"));
    }
    cJSON_DeleteItemFromObjectCaseSensitive(c, "LastModified");
    cJSON_AddNumberToObject(c, "LastModified", (double)clock_wall_ms() / 1000.0);
    o->status = 200;
    o->answer = shown(c, arn);
    return true;
}

static bool change_delete(struct op *o, cJSON **doc)
{
    cJSON *h = fnapi_holder(*doc, o->qual);

    if (!cJSON_GetObjectItemCaseSensitive(h, CONFIG_MEMBER)) {
        fnapi_op_fail(o, E_NOT_FOUND, "The function %s doesn't have an EventInvokeConfig",
                      qual_arn(o->f, o->r->arena, o->name, o->qual));
        return false;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(h, CONFIG_MEMBER);
    o->status = 204;
    return true;
}

void fnapi_event_config(struct fn *f, struct http_req *r, const char *name, const char *qual)
{
    const char *m = r->method;
    struct op *o;
    cJSON *b;

    if (strcmp(m, "GET") == 0) {
        cJSON *doc = fn_reg_get(f, name);
        const cJSON *c = fnasync_config_of(fnapi_holder(doc, qual));
        if (c)
            fnapi_answer_json(r, 200, shown(c, qual_arn(f, r->arena, name, qual)));
        else
            fnapi_answer_error(r, E_NOT_FOUND,
                               arena_sprintf(r->arena,
                                             "The function %s doesn't have an EventInvokeConfig",
                                             qual_arn(f, r->arena, name, qual)));
        cJSON_Delete(doc);
        return;
    }
    if (strcmp(m, "DELETE") == 0) {
        o = fnapi_op_new(f, r, name, change_delete);
        o->qual = qual;
        fnapi_op_submit(o);
        return;
    }
    if (!(b = fnapi_parse_body(r)))
        return;
    if (!body_ok(f, r, name, b)) {
        cJSON_Delete(b);
        return;
    }
    o = fnapi_op_new(f, r, name, change_config);
    o->body = b;
    o->qual = qual;
    o->arg = strcmp(m, "PUT") == 0 ? "put" : "update";
    fnapi_op_submit(o);
}

/* add_shown - append @h's configuration, if any, as @name:@qual's to @arr. */
static void add_shown(struct fn *f, struct http_req *r, cJSON *arr, const cJSON *h,
                      const char *name, const char *qual)
{
    const cJSON *c = fnasync_config_of(h);

    if (c)
        cJSON_AddItemToArray(arr, shown(c, qual_arn(f, r->arena, name, qual)));
}

static int cmp_key(const void *a, const void *b)
{
    const cJSON *x = *(cJSON *const *)a, *y = *(cJSON *const *)b;
    unsigned long nx = strtoul(x->string, NULL, 10), ny = strtoul(y->string, NULL, 10);

    return nx != ny ? (nx < ny ? -1 : 1) : strcmp(x->string, y->string);
}

/* add_sorted - add_shown for each member of @coll (versions or aliases) in order. */
static void add_sorted(struct fn *f, struct http_req *r, cJSON *arr, const cJSON *coll,
                       const char *name)
{
    size_t n = 0, i;
    cJSON **v = xcalloc((size_t)cJSON_GetArraySize(coll) + 1, sizeof(*v)), *it;

    cJSON_ArrayForEach(it, coll) v[n++] = it;
    qsort(v, n, sizeof(*v), cmp_key);
    for (i = 0; i < n; i++)
        add_shown(f, r, arr, v[i], name, v[i]->string);
    free(v);
}

void fnapi_event_config_list(struct fn *f, struct http_req *r, const char *name)
{
    const char *marker = fnapi_query_param(r, "Marker"), *mi = fnapi_query_param(r, "MaxItems");
    long max = mi ? strtol(mi, NULL, 10) : LIST_MAX, from = marker ? strtol(marker, NULL, 10) : 0;
    cJSON *doc, *all, *out, *page;
    long i = 0, n;

    if (from < 0)
        from = 0;
    if (max < 1 || max > LIST_MAX) {
        fnapi_answer_error(
            r, E_INVALID_PARAM,
            arena_sprintf(r->arena,
                          "1 validation error detected: Value '%ld' at 'maxItems' failed to "
                          "satisfy constraint: Member must have value %s",
                          max,
                          max < 1 ? "greater than or equal to 1" : "less than or equal to 50"));
        return;
    }
    if (!(doc = fn_reg_get(f, name))) {
        fnapi_answer_error(r, E_NOT_FOUND, "The function doesn't exist.");
        return;
    }
    all = cJSON_CreateArray();
    add_shown(f, r, all, doc, name, NULL);
    add_sorted(f, r, all, cJSON_GetObjectItemCaseSensitive(doc, "_Versions"), name);
    add_sorted(f, r, all, cJSON_GetObjectItemCaseSensitive(doc, "_Aliases"), name);
    cJSON_Delete(doc);
    n = cJSON_GetArraySize(all);
    out = cJSON_CreateObject();
    page = cJSON_AddArrayToObject(out, "FunctionEventInvokeConfigs");
    while (cJSON_GetArraySize(all) > 0) {
        cJSON *it = cJSON_DetachItemFromArray(all, 0);
        if (i >= from && i < from + max)
            cJSON_AddItemToArray(page, it);
        else
            cJSON_Delete(it);
        i++;
    }
    if (from + max < n)
        cJSON_AddStringToObject(out, "NextMarker", arena_sprintf(r->arena, "%ld", from + max));
    cJSON_Delete(all);
    fnapi_answer_json(r, 200, out);
}
