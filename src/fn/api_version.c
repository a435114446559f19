/* api_version.c - versions and aliases of the Lambda REST API: qualifiers
 * (NAME:QUALIFIER, ?Qualifier=), resolving one to a configuration,
 * PublishVersion, ListVersionsByFunction, deleting a version, and
 * Create/Get/Update/Delete/ListAliases.
 *
 * A function's document (registry.c) holds them all, so they change in the
 * same read-modify-write as the function and go with it: "_Versions" (version
 * number -> the configuration published, with its package "_Dir"),
 * "_NextVersion" (numbers are never reused) and "_Aliases" (name -> the alias
 * as GetAlias shows it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "api_int.h"
#include "mem.h"

bool fnapi_qualifier(struct http_req *r, char *seg, const char **qual)
{
    const char *q = fnapi_query_param(r, "Qualifier");
    char *colon = strchr(seg, ':');
    const char *inpath = NULL;

    *qual = NULL;
    if (colon) {
        *colon = '\0';
        inpath = colon + 1;
    }
    if (q && !*q)
        q = NULL;
    if (inpath && q && strcmp(inpath, q) != 0) {
        fnapi_answer_error(r, E_INVALID_PARAM,
                           "The derived qualifier from the function name does not match the "
                           "specified qualifier.");
        return false;
    }
    if (!q)
        q = inpath;
    /* the model's pattern; what it takes but names nothing ("a$b", eleven
     * digits) is not found later, as in Lambda */
    if (q && (strlen(q) > 128 ||
              strspn(q, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789$_-") !=
                  strlen(q))) {
        fnapi_answer_error(
            r, E_VALIDATION,
            arena_sprintf(r->arena,
                          "1 validation error detected: Value '%s' at 'qualifier' failed to "
                          "satisfy constraint: Member must satisfy regular expression pattern: "
                          "(|[a-zA-Z0-9$_-]+)",
                          q));
        return false;
    }
    *qual = q;
    return true;
}

static void strip_collections(cJSON *d)
{
    cJSON_DeleteItemFromObjectCaseSensitive(d, "_Versions");
    cJSON_DeleteItemFromObjectCaseSensitive(d, "_NextVersion");
    cJSON_DeleteItemFromObjectCaseSensitive(d, "_Aliases");
}

static const cJSON *version_of(const cJSON *doc, const char *v)
{
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "_Versions"), v);
}

static cJSON *alias_of(const cJSON *doc, const char *a)
{
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "_Aliases"), a);
}

static double uniform(void)
{
    uint32_t x = 0;

    if (getrandom(&x, sizeof(x), 0) != (ssize_t)sizeof(x))
        x = (uint32_t)rand();
    return (double)x / 4294967296.0;
}

/* fail_not_found - record Lambda's 404 for the version or alias @q of @o's function. */
static void fail_not_found(struct op *o, const char *q)
{
    fnapi_op_fail(o, E_NOT_FOUND, "Function not found: arn:aws:lambda:%s:%s:function:%s:%s",
                  o->f->region, o->f->account, o->name, q);
}

cJSON *fnapi_pick(cJSON *d, const char *qual, bool route)
{
    const char *ver = qual;
    cJSON *out = NULL;

    if (qual && fn_qualifier_kind(qual) == FN_QUAL_ALIAS) {
        const cJSON *a = alias_of(d, qual);
        ver = a ? (route ? fn_alias_pick(a, uniform()) : fnapi_str(a, "FunctionVersion")) : NULL;
    }
    if (!qual || (ver && strcmp(ver, "$LATEST") == 0)) {
        out = d;
        d = NULL;
        strip_collections(out);
    } else if (ver && version_of(d, ver)) {
        out = cJSON_Duplicate(version_of(d, ver), 1);
    }
    cJSON_Delete(d);
    return out;
}

cJSON *fnapi_resolve(struct fn *f, struct http_req *r, const char *name, const char *qual,
                     bool route)
{
    cJSON *d = fn_reg_get(f, name), *out;

    /* the ARN in the message is qualified as asked, $LATEST too, whether the
     * function or only its version is missing */
    out = d ? fnapi_pick(d, qual, route) : NULL;
    if (!out) {
        fnapi_answer_error(
            r, E_NOT_FOUND,
            arena_sprintf(r->arena, "Function not found: %s", fnapi_arn(f, r->arena, name, qual)));
        return NULL;
    }
    if (qual)
        fnapi_set_str(out, "FunctionArn", fnapi_arn(f, r->arena, name, qual));
    return out;
}

cJSON *fnapi_holder(cJSON *doc, const char *qual)
{
    if (!doc)
        return NULL;
    if (!qual)
        return doc;
    switch (fn_qualifier_kind(qual)) {
    case FN_QUAL_VERSION:
        return (cJSON *)version_of(doc, qual);
    case FN_QUAL_ALIAS:
        return alias_of(doc, qual);
    case FN_QUAL_LATEST:
        return doc;
    default:
        return NULL; /* e.g. "a$b": the pattern takes it, nothing has that name */
    }
}

const char *fnapi_holder_arn(const cJSON *h)
{
    return fnapi_str(h, "AliasArn") ? fnapi_str(h, "AliasArn") : fnapi_str(h, "FunctionArn");
}

cJSON *fnapi_op_holder(struct op *o, cJSON *doc)
{
    cJSON *h;

    if (!fnapi_op_exists(o, doc))
        return NULL;
    if ((h = fnapi_holder(doc, o->qual)))
        return h;
    fail_not_found(o, o->qual);
    return NULL;
}

/* ---- versions ---- */

/* latest_version - the highest version number of @doc, 0 when none. */
static unsigned long latest_version(const cJSON *doc)
{
    const cJSON *it;
    unsigned long top = 0;

    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(doc, "_Versions"))
    {
        unsigned long v = strtoul(it->string, NULL, 10);
        if (v > top)
            top = v;
    }
    return top;
}

const cJSON *fnapi_publish(struct fn *f, cJSON *doc, const char *description)
{
    cJSON *vs = cJSON_GetObjectItemCaseSensitive(doc, "_Versions"), *v, *it, *next;
    const cJSON *nv = cJSON_GetObjectItemCaseSensitive(doc, "_NextVersion");
    unsigned long top = latest_version(doc), n;
    char num[24], arn[256];

    snprintf(num, sizeof(num), "%lu", top);
    if (top && fn_version_same(doc, version_of(doc, num)))
        return version_of(doc, num);
    n = cJSON_IsNumber(nv) ? (unsigned long)nv->valuedouble : top + 1;
    if (n <= top)
        n = top + 1;
    snprintf(num, sizeof(num), "%lu", n);
    v = cJSON_Duplicate(doc, 1);
    for (it = v->child; it; it = next) {
        next = it->next;
        if (it->string[0] == '_' && strcmp(it->string, "_Dir") != 0)
            cJSON_Delete(cJSON_DetachItemViaPointer(v, it));
    }
    fnapi_set_str(v, "Version", num);
    snprintf(arn, sizeof(arn), "arn:aws:lambda:%s:%s:function:%s:%s", f->region, f->account,
             fnapi_str(doc, "FunctionName"), num);
    fnapi_set_str(v, "FunctionArn", arn);
    if (description)
        fnapi_set_str(v, "Description", description);
    fnapi_rev(v);
    if (!vs)
        vs = cJSON_AddObjectToObject(doc, "_Versions");
    cJSON_AddItemToObject(vs, num, v);
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "_NextVersion");
    cJSON_AddNumberToObject(doc, "_NextVersion", (double)(n + 1));
    fnapi_rev_id(doc); /* publishing changes $LATEST's RevisionId too, as in Lambda */
    return v;
}

static bool change_publish(struct op *o, cJSON **doc)
{
    const char *sha = fnapi_str(o->body, "CodeSha256");
    const cJSON *v;

    if (!fnapi_op_exists(o, *doc) || !fnapi_revision_ok(o, fnapi_str(o->body, "RevisionId"), *doc))
        return false;
    if (sha && strcmp(sha, fnapi_str(*doc, "CodeSha256") ? fnapi_str(*doc, "CodeSha256") : "")) {
        fnapi_op_fail(o, E_INVALID_PARAM,
                      "CodeSHA256 (%s) is different from current CodeSHA256 in $LATEST (%s). "
                      "Please try again with the CodeSHA256 in $LATEST.",
                      sha, fnapi_str(*doc, "CodeSha256"));
        return false;
    }
    v = fnapi_publish(o->f, *doc, fnapi_str(o->body, "Description"));
    o->status = 201;
    o->answer = fnapi_public_config(v);
    return true;
}

/* page_args - Marker and MaxItems (1 to 10000, default 50); false after answering. */
static bool page_args(struct http_req *r, const char **marker, int *max)
{
    const char *mi = fnapi_query_param(r, "MaxItems");

    *marker = fnapi_query_param(r, "Marker");
    *max = mi ? atoi(mi) : 50;
    if (*max >= 1 && *max <= 10000)
        return true;
    fnapi_answer_error(r, E_INVALID_PARAM,
                       "1 validation error detected: Value at 'maxItems' failed to satisfy "
                       "constraint: Member must have value between 1 and 10000");
    return false;
}

static int cmp_num(const void *a, const void *b)
{
    unsigned long x = strtoul((*(cJSON *const *)a)->string, NULL, 10);
    unsigned long y = strtoul((*(cJSON *const *)b)->string, NULL, 10);

    return x < y ? -1 : x > y;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp((*(cJSON *const *)a)->string, (*(cJSON *const *)b)->string);
}

/* sorted - the members of @o in @cmp order (owned array of borrowed pointers). */
static cJSON **sorted(const cJSON *o, int (*cmp)(const void *, const void *), size_t *n)
{
    cJSON **v = xcalloc((size_t)cJSON_GetArraySize(o) + 1, sizeof(*v)), *it;

    *n = 0;
    cJSON_ArrayForEach(it, o) v[(*n)++] = it;
    qsort(v, *n, sizeof(*v), cmp);
    return v;
}

/* a page of a listing: which members it takes (after Marker, filters) */
struct page {
    const char *marker;  /* NULL or "": from the start */
    const char *version; /* ListAliases' FunctionVersion filter, or NULL */
    bool numeric;        /* versions (by number) rather than aliases (by name) */
};

static bool page_keeps(const struct page *pg, const cJSON *it)
{
    const char *fv = fnapi_str(it, "FunctionVersion");

    if (pg->version && *pg->version && (!fv || strcmp(fv, pg->version) != 0))
        return false;
    if (!pg->marker || !*pg->marker || strcmp(pg->marker, "$LATEST") == 0)
        return true;
    if (pg->numeric)
        return strtoul(it->string, NULL, 10) >= strtoul(pg->marker, NULL, 10);
    return strcmp(it->string, pg->marker) >= 0;
}

/* list_page - answer ListVersionsByFunction (@numeric, member "_Versions",
 * $LATEST first) or ListAliases ("_Aliases"): sorted, from Marker, at most
 * MaxItems, with the NextMarker of the first one left out. */
static void list_page(struct fn *f, struct http_req *r, const char *name, bool numeric)
{
    struct page pg = {.numeric = numeric};
    int max;
    cJSON *d, *out, *arr, **items;
    size_t n, i;

    if (!page_args(r, &pg.marker, &max) || !(d = fnapi_get_or_404(f, r, name)))
        return;
    if (!numeric)
        pg.version = fnapi_query_param(r, "FunctionVersion");
    out = cJSON_CreateObject();
    arr = cJSON_AddArrayToObject(out, numeric ? "Versions" : "Aliases");
    if (numeric && (!pg.marker || !*pg.marker || strcmp(pg.marker, "$LATEST") == 0)) {
        cJSON *latest = fnapi_listed_config(d);
        fnapi_set_str(latest, "FunctionArn", fnapi_arn(f, r->arena, name, "$LATEST"));
        cJSON_AddItemToArray(arr, latest);
    }
    items = sorted(cJSON_GetObjectItemCaseSensitive(d, numeric ? "_Versions" : "_Aliases"),
                   numeric ? cmp_num : cmp_name, &n);
    for (i = 0; i < n; i++) {
        if (!page_keeps(&pg, items[i]))
            continue;
        if (cJSON_GetArraySize(arr) == max) {
            cJSON_AddStringToObject(out, "NextMarker", items[i]->string);
            break;
        }
        cJSON_AddItemToArray(arr, numeric ? fnapi_listed_config(items[i])
                                          : fnapi_public_config(items[i]));
    }
    free(items);
    cJSON_Delete(d);
    fnapi_answer_json(r, 200, out);
}

/* body_op - a change of NAME by @change carrying @r's JSON body, or NULL
 * after answering a malformed body. */
static struct op *body_op(struct fn *f, struct http_req *r, const char *name, fnapi_op_fn *change)
{
    cJSON *b = fnapi_parse_body(r);
    struct op *o;

    if (!b)
        return NULL;
    o = fnapi_op_new(f, r, name, change);
    o->body = b;
    return o;
}

void fnapi_versions(struct fn *f, struct http_req *r, const char *name)
{
    struct op *o;

    if (strcmp(r->method, "GET") == 0)
        list_page(f, r, name, true);
    else if ((o = body_op(f, r, name, change_publish)))
        fnapi_op_submit(o);
}

static bool change_delete_version(struct op *o, cJSON **doc)
{
    const cJSON *it;
    char refs[512] = "";
    size_t used = 0;

    if (!fnapi_op_exists(o, *doc))
        return false;
    o->status = 204;
    if (!version_of(*doc, o->arg))
        return true; /* no such version: nothing to delete, as Lambda answers */
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(*doc, "_Aliases"))
    {
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(it, "RoutingConfig"), "AdditionalVersionWeights");
        const char *fv = fnapi_str(it, "FunctionVersion");
        if ((fv && strcmp(fv, o->arg) == 0) || cJSON_GetObjectItemCaseSensitive(w, o->arg))
            used += (size_t)snprintf(refs + used, used < sizeof(refs) ? sizeof(refs) - used : 0,
                                     "%s%s", used ? ", " : "", it->string);
    }
    if (used) {
        fnapi_op_fail(o, E_CONFLICT,
                      "Unable to delete version because the following aliases reference it: [%s]",
                      refs);
        return false;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(*doc, "_Versions"),
                                            o->arg);
    o->forget = true;
    o->forget_version = o->arg;
    o->gc = true;
    return true;
}

void fnapi_delete_version(struct fn *f, struct http_req *r, const char *name, const char *qual)
{
    struct op *o = fnapi_op_new(f, r, name, change_delete_version);

    o->arg = qual;
    /* Lambda's DeleteFunction takes a version number only ("Specify a
     * version to delete"); an alias name is refused, never resolved to the
     * version behind it (DeleteAlias removes an alias) */
    if (fn_qualifier_kind(qual) == FN_QUAL_LATEST)
        fnapi_op_fail(o, E_INVALID_PARAM,
                      "$LATEST version cannot be deleted without deleting the function.");
    else if (fn_qualifier_kind(qual) == FN_QUAL_ALIAS)
        fnapi_op_fail(o, E_INVALID_PARAM, "Deletion of aliases is not currently supported.");
    else {
        fnapi_op_submit(o);
        return;
    }
    fnapi_op_reject(o);
}

/* ---- aliases ---- */

static bool alias_name_ok(struct op *o, const char *n)
{
    if (n && fn_qualifier_kind(n) == FN_QUAL_ALIAS)
        return true;
    fnapi_op_fail(o, E_VALIDATION,
                  "1 validation error detected: Value '%s' at 'name' failed to satisfy "
                  "constraint: Member must satisfy regular expression pattern: "
                  "(?!^[0-9]+$)([a-zA-Z0-9-_]+)",
                  n ? n : "null");
    return false;
}

/* alias_target_ok - whether version @v (and the routing of @b, if any) exists in @doc. */
static bool alias_target_ok(struct op *o, const cJSON *doc, const char *v, const cJSON *routing)
{
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(routing, "AdditionalVersionWeights");
    char msg[512];
    const char *bad = fn_routing_check(routing, v, msg, sizeof(msg));

    if (bad) {
        fnapi_op_fail(o,
                      strncmp(bad, "1 validation error", 18) == 0 ? E_VALIDATION : E_INVALID_PARAM,
                      "%s", bad);
        return false;
    }
    if (strcmp(v, "$LATEST") != 0 && !version_of(doc, v)) {
        fail_not_found(o, v);
        return false;
    }
    if (cJSON_IsObject(w) && w->child && !version_of(doc, w->child->string)) {
        fail_not_found(o, w->child->string);
        return false;
    }
    return true;
}

/* set_routing - @a's RoutingConfig from @routing (an empty one removes it). */
static void set_routing(cJSON *a, const cJSON *routing)
{
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(routing, "AdditionalVersionWeights");

    cJSON_DeleteItemFromObjectCaseSensitive(a, "RoutingConfig");
    if (cJSON_IsObject(w) && w->child)
        cJSON_AddItemToObject(cJSON_AddObjectToObject(a, "RoutingConfig"),
                              "AdditionalVersionWeights", cJSON_Duplicate(w, 1));
}

static void alias_rev(cJSON *a)
{
    cJSON *t = cJSON_CreateObject();

    fnapi_rev(t); /* a fresh RevisionId (aliases have no LastModified) */
    fnapi_set_str(a, "RevisionId", fnapi_str(t, "RevisionId"));
    cJSON_Delete(t);
}

static bool change_alias_create(struct op *o, cJSON **doc)
{
    const char *name = fnapi_str(o->body, "Name"), *v = fnapi_str(o->body, "FunctionVersion");
    const char *desc = fnapi_str(o->body, "Description");
    const cJSON *routing = cJSON_GetObjectItemCaseSensitive(o->body, "RoutingConfig");
    cJSON *as, *a;
    char arn[512];

    if (!fnapi_op_exists(o, *doc))
        return false;
    snprintf(arn, sizeof(arn), "arn:aws:lambda:%s:%s:function:%s:%s", o->f->region, o->f->account,
             o->name, name);
    if (alias_of(*doc, name)) {
        fnapi_op_fail(o, E_CONFLICT, "Alias already exists: %s", arn);
        return false;
    }
    if (!alias_target_ok(o, *doc, v, routing))
        return false;
    if (!(as = cJSON_GetObjectItemCaseSensitive(*doc, "_Aliases")))
        as = cJSON_AddObjectToObject(*doc, "_Aliases");
    a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "AliasArn", arn);
    cJSON_AddStringToObject(a, "Name", name);
    cJSON_AddStringToObject(a, "FunctionVersion", v);
    cJSON_AddStringToObject(a, "Description", desc ? desc : "");
    set_routing(a, routing);
    alias_rev(a);
    cJSON_AddItemToObject(as, name, a);
    o->status = 201;
    o->answer = fnapi_public_config(a);
    return true;
}

static bool version_arg_ok(struct op *o, const char *v)
{
    if (v && (fn_qualifier_kind(v) == FN_QUAL_LATEST || fn_qualifier_kind(v) == FN_QUAL_VERSION))
        return true;
    fnapi_op_fail(o, E_INVALID_PARAM,
                  "1 validation error detected: Value '%s' at 'functionVersion' failed to "
                  "satisfy constraint: Member must satisfy regular expression pattern: "
                  "(\\$LATEST|[0-9]+)",
                  v ? v : "null");
    return false;
}

static bool alias_not_found(struct op *o, const cJSON *a)
{
    if (a)
        return true;
    fnapi_op_fail(o, E_NOT_FOUND, "Alias not found: arn:aws:lambda:%s:%s:function:%s:%s",
                  o->f->region, o->f->account, o->name, o->arg);
    return false;
}

static bool change_alias_update(struct op *o, cJSON **doc)
{
    const char *v = fnapi_str(o->body, "FunctionVersion");
    const char *desc = fnapi_str(o->body, "Description");
    const cJSON *routing = cJSON_GetObjectItemCaseSensitive(o->body, "RoutingConfig");
    cJSON *a;

    if (!fnapi_op_exists(o, *doc) || !alias_not_found(o, a = alias_of(*doc, o->arg)) ||
        !fnapi_revision_ok(o, fnapi_str(o->body, "RevisionId"), a))
        return false;
    if (!v)
        v = fnapi_str(a, "FunctionVersion");
    if (!routing)
        routing = cJSON_GetObjectItemCaseSensitive(a, "RoutingConfig");
    if (!alias_target_ok(o, *doc, v, routing))
        return false;
    fnapi_set_str(a, "FunctionVersion", v);
    if (desc)
        fnapi_set_str(a, "Description", desc);
    if (routing != cJSON_GetObjectItemCaseSensitive(a, "RoutingConfig"))
        set_routing(a, routing);
    alias_rev(a);
    o->status = 200;
    o->answer = fnapi_public_config(a);
    return true;
}

static bool change_alias_delete(struct op *o, cJSON **doc)
{
    if (!fnapi_op_exists(o, *doc))
        return false;
    cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(*doc, "_Aliases"),
                                            o->arg);
    o->status = 204;
    return true;
}

void fnapi_aliases(struct fn *f, struct http_req *r, const char *name)
{
    struct op *o;

    if (strcmp(r->method, "GET") == 0) {
        list_page(f, r, name, false);
        return;
    }
    if (!(o = body_op(f, r, name, change_alias_create)))
        return;
    if (!alias_name_ok(o, fnapi_str(o->body, "Name")) ||
        !version_arg_ok(o, fnapi_str(o->body, "FunctionVersion"))) {
        fnapi_op_reject(o);
        return;
    }
    fnapi_op_submit(o);
}

void fnapi_alias(struct fn *f, struct http_req *r, const char *name, const char *alias)
{
    const char *m = r->method;
    struct op *o;

    if (strcmp(m, "GET") == 0) {
        cJSON *d = fnapi_get_or_404(f, r, name);
        const cJSON *a;
        if (!d)
            return;
        a = alias_of(d, alias);
        if (a)
            fnapi_answer_json(r, 200, fnapi_public_config(a));
        else
            fnapi_answer_error(r, E_NOT_FOUND,
                               arena_sprintf(r->arena, "Cannot find alias arn: %s",
                                             fnapi_arn(f, r->arena, name, alias)));
        cJSON_Delete(d);
        return;
    }
    if (strcmp(m, "DELETE") == 0)
        o = fnapi_op_new(f, r, name, change_alias_delete);
    else if (!(o = body_op(f, r, name, change_alias_update)))
        return;
    o->arg = alias;
    if (o->body && fnapi_str(o->body, "FunctionVersion") &&
        !version_arg_ok(o, fnapi_str(o->body, "FunctionVersion"))) {
        fnapi_op_reject(o);
        return;
    }
    fnapi_op_submit(o);
}
