/* stack_invoke.c - getPolicyDocument, getCallerIdentity, getRegion, getPartition, and the
 * table of the data sources read from a region (stack_invoke_data). */
#include "stack_invoke.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "mem.h"

/* aws:iam/getPolicyDocument:getPolicyDocument -> aws:iam:getPolicyDocument,
 * aws:index/getRegion:getRegion and aws:index:getRegion -> aws:getRegion. */
static void short_token(const char *token, char *out, size_t cap)
{
    const char *c1 = strchr(token, ':'), *slash = c1 ? strchr(c1, '/') : NULL;
    const char *c2 = slash ? strchr(slash, ':') : NULL;
    if (slash && c2)
        snprintf(out, cap, "%.*s%s", (int)(slash - token), token, c2);
    else
        snprintf(out, cap, "%s", token);
    if (!strncmp(out, "aws:index:", 10))
        memmove(out + 4, out + 10, strlen(out + 10) + 1);
}

static const char *const known[] = {"aws:iam:getPolicyDocument", "aws:getCallerIdentity",
                                    "aws:getRegion", "aws:getPartition", NULL};

/* The provider's data sources Tandem answers by reading the resource they name from a
 * region: the resource type whose read answers, and the argument that is its id. */
static const struct {
    const char *token, *type, *id_arg;
} data_sources[] = {
    {"aws:dynamodb:getTable", "aws:dynamodb:Table", "name"},
    {"aws:s3:getBucket", "aws:s3:Bucket", "bucket"},
    {"aws:lambda:getFunction", "aws:lambda:Function", "functionName"},
    {"aws:iam:getRole", "aws:iam:Role", "name"},
    {"aws:iam:getUser", "aws:iam:User", "userName"},
};

bool stack_invoke_data(const char *token, const char **type, const char **id_arg)
{
    char t[160];
    short_token(token, t, sizeof(t));
    for (size_t i = 0; i < sizeof(data_sources) / sizeof(data_sources[0]); i++)
        if (!strcmp(data_sources[i].token, t)) {
            *type = data_sources[i].type;
            *id_arg = data_sources[i].id_arg;
            return true;
        }
    return false;
}

bool stack_invoke_known(const char *token)
{
    char t[160];
    short_token(token, t, sizeof(t));
    for (size_t i = 0; known[i]; i++)
        if (!strcmp(known[i], t))
            return true;
    return false;
}

/* ---- getPolicyDocument ---- */

static int rev_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)b, *(char *const *)a);
}

/* A list of strings as the provider writes it: one value alone, several
 * sorted as the provider's sets come out (descending). NULL when absent. */
static enum err_code string_list(const cJSON *v, const char *what, cJSON **out, struct err *e)
{
    const cJSON *it;
    char **s;
    size_t n = 0;

    *out = NULL;
    if (!v || cJSON_IsNull(v))
        return ERR_OK;
    if (cJSON_IsString(v)) {
        *out = cJSON_CreateString(v->valuestring);
        return ERR_OK;
    }
    if (!cJSON_IsArray(v))
        return err_set(e, ERR_INVALID, "getPolicyDocument: %s must be a list of strings", what);
    if (cJSON_GetArraySize(v) == 0)
        return ERR_OK;
    s = xcalloc((size_t)cJSON_GetArraySize(v), sizeof(*s));
    cJSON_ArrayForEach(it, v)
    {
        if (!cJSON_IsString(it)) {
            free(s);
            return err_set(e, ERR_INVALID, "getPolicyDocument: %s must be a list of strings", what);
        }
        s[n++] = it->valuestring;
    }
    if (n == 1) {
        *out = cJSON_CreateString(s[0]);
    } else {
        qsort(s, n, sizeof(*s), rev_cmp);
        *out = cJSON_CreateArray();
        for (size_t i = 0; i < n; i++)
            if (i == 0 || strcmp(s[i], s[i - 1]))
                cJSON_AddItemToArray(*out, cJSON_CreateString(s[i]));
    }
    free(s);
    return ERR_OK;
}

static enum err_code principals(const cJSON *v, const char *what, cJSON **out, struct err *e)
{
    const cJSON *p;
    enum err_code rc;

    *out = NULL;
    if (!v || cJSON_GetArraySize(v) == 0)
        return ERR_OK;
    if (!cJSON_IsArray(v))
        return err_set(e, ERR_INVALID,
                       "getPolicyDocument: %s must be a list of {type, identifiers}", what);
    cJSON_ArrayForEach(p, v)
    {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(p, "type");
        cJSON *ids = NULL, *prev;
        if (!cJSON_IsString(type))
            return err_set(e, ERR_INVALID, "getPolicyDocument: each of %s needs a type", what);
        rc =
            string_list(cJSON_GetObjectItemCaseSensitive(p, "identifiers"), "identifiers", &ids, e);
        if (rc) {
            cJSON_Delete(*out);
            *out = NULL;
            return rc;
        }
        if (!ids) {
            cJSON_Delete(*out);
            *out = NULL;
            return err_set(e, ERR_INVALID, "getPolicyDocument: %s %s needs identifiers", what,
                           type->valuestring);
        }
        if (!strcmp(type->valuestring, "*") && cJSON_IsString(ids) &&
            !strcmp(ids->valuestring, "*") && !*out) {
            *out = ids; /* "Principal": "*" */
            continue;
        }
        if (!*out || !cJSON_IsObject(*out)) {
            cJSON_Delete(*out);
            *out = cJSON_CreateObject();
        }
        prev = cJSON_DetachItemFromObjectCaseSensitive(*out, type->valuestring);
        if (prev) { /* the same type twice: one list */
            cJSON *all = cJSON_CreateArray(), *x, *merged = NULL;
            const cJSON *parts[2] = {prev, ids};
            for (int k = 0; k < 2; k++) {
                if (cJSON_IsString(parts[k]))
                    cJSON_AddItemToArray(all, cJSON_CreateString(parts[k]->valuestring));
                else
                    cJSON_ArrayForEach(x, parts[k])
                        cJSON_AddItemToArray(all, cJSON_Duplicate(x, 1));
            }
            string_list(all, "identifiers", &merged, e);
            cJSON_Delete(all);
            cJSON_Delete(prev);
            cJSON_Delete(ids);
            ids = merged;
        }
        cJSON_AddItemToObject(*out, type->valuestring, ids);
    }
    return ERR_OK;
}

static enum err_code conditions(const cJSON *v, cJSON **out, struct err *e)
{
    const cJSON *c;
    *out = NULL;
    if (!v || cJSON_GetArraySize(v) == 0)
        return ERR_OK;
    *out = cJSON_CreateObject();
    cJSON_ArrayForEach(c, v)
    {
        const cJSON *test = cJSON_GetObjectItemCaseSensitive(c, "test");
        const cJSON *var = cJSON_GetObjectItemCaseSensitive(c, "variable");
        cJSON *vals = NULL, *t;
        const cJSON *it;
        if (!cJSON_IsString(test) || !cJSON_IsString(var))
            return err_set(e, ERR_INVALID,
                           "getPolicyDocument: each condition needs test, variable and values");
        vals = cJSON_CreateArray();
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(c, "values"))
        {
            if (cJSON_IsString(it))
                cJSON_AddItemToArray(vals, cJSON_CreateString(it->valuestring));
            else if (cJSON_IsBool(it))
                cJSON_AddItemToArray(vals, cJSON_CreateString(cJSON_IsTrue(it) ? "true" : "false"));
            else if (cJSON_IsNumber(it)) {
                char num[64];
                snprintf(num, sizeof(num), "%.15g", it->valuedouble);
                cJSON_AddItemToArray(vals, cJSON_CreateString(num));
            }
        }
        if (cJSON_GetArraySize(vals) == 0) {
            cJSON_Delete(vals);
            return err_set(e, ERR_INVALID, "getPolicyDocument: condition %s %s has no values",
                           test->valuestring, var->valuestring);
        }
        if (cJSON_GetArraySize(vals) == 1) {
            cJSON *one = cJSON_DetachItemFromArray(vals, 0);
            cJSON_Delete(vals);
            vals = one;
        }
        t = cJSON_GetObjectItemCaseSensitive(*out, test->valuestring);
        if (!t)
            t = cJSON_AddObjectToObject(*out, test->valuestring);
        cJSON_DeleteItemFromObjectCaseSensitive(t, var->valuestring);
        cJSON_AddItemToObject(t, var->valuestring, vals);
    }
    return ERR_OK;
}

/* cJSON's tabs as the provider's two-space indentation (raw tabs are only layout). */
static char *indent2(const cJSON *doc)
{
    char *s = cJSON_Print(doc), *o = xmalloc(strlen(s) * 2 + 1), *w = o;
    bool bol = false;
    for (const char *p = s; *p; p++) {
        if (*p == '\n') {
            bol = true;
            *w++ = *p;
        } else if (*p == '\t') {
            *w++ = ' ';
            if (bol)
                *w++ = ' ';
        } else {
            bol = false;
            *w++ = *p;
        }
    }
    *w = 0;
    free(s);
    return o;
}

/* A statement of a source or override document with its members in the order the provider
 * writes them. */
static cJSON *statement_ordered(const cJSON *st)
{
    static const char *const order[] = {"Sid",       "Effect",      "Action",    "NotAction",
                                        "Resource",  "NotResource", "Principal", "NotPrincipal",
                                        "Condition", NULL};
    cJSON *o = cJSON_CreateObject();
    const cJSON *m;
    for (size_t i = 0; order[i]; i++)
        if ((m = cJSON_GetObjectItemCaseSensitive(st, order[i])))
            cJSON_AddItemToObject(o, order[i], cJSON_Duplicate(m, 1));
    cJSON_ArrayForEach(m, st)
    {
        if (!cJSON_GetObjectItemCaseSensitive(o, m->string))
            cJSON_AddItemToObject(o, m->string, cJSON_Duplicate(m, 1));
    }
    return o;
}

struct merged {
    char version[32];
    char *id; /* owned or NULL */
    cJSON *sts;
};

/* The provider's merge: a newer Version wins, a given Id is adopted, a statement with a Sid
 * takes the place of the one with that Sid, the others are appended. Takes @sts. */
static void merge(struct merged *m, const char *version, const char *id, cJSON *sts)
{
    cJSON *st;
    if (version && strcmp(version, m->version) > 0)
        snprintf(m->version, sizeof(m->version), "%s", version);
    if (id && *id) {
        free(m->id);
        m->id = xstrdup(id);
    }
    while ((st = cJSON_DetachItemFromArray(sts, 0))) {
        const cJSON *sid = cJSON_GetObjectItemCaseSensitive(st, "Sid");
        int i = 0, at = -1;
        const cJSON *x;
        if (cJSON_IsString(sid) && *sid->valuestring)
            cJSON_ArrayForEach(x, m->sts)
            {
                const cJSON *xs = cJSON_GetObjectItemCaseSensitive(x, "Sid");
                if (at < 0 && cJSON_IsString(xs) && !strcmp(xs->valuestring, sid->valuestring))
                    at = i;
                i++;
            }
        if (at >= 0)
            cJSON_ReplaceItemInArray(m->sts, at, st);
        else
            cJSON_AddItemToArray(m->sts, st);
    }
    cJSON_Delete(sts);
}

/* A document of sourcePolicyDocuments / overridePolicyDocuments: its statements (owned),
 * Version and Id. @sids, when not NULL, collects Sids and refuses a repeated one. */
static enum err_code parse_doc(const cJSON *v, const char *what, int idx, cJSON *sids, cJSON **sts,
                               const char **version, const char **id, cJSON **doc, struct err *e)
{
    const cJSON *st, *list;
    int n = 0;
    *sts = NULL;
    *doc = cJSON_IsString(v)   ? cJSON_Parse(v->valuestring)
           : cJSON_IsObject(v) ? cJSON_Duplicate(v, 1)
                               : NULL;
    if (!cJSON_IsObject(*doc)) {
        cJSON_Delete(*doc);
        *doc = NULL;
        return err_set(e, ERR_INVALID,
                       "getPolicyDocument: %s item %d is not a JSON policy document", what, idx);
    }
    *version = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(*doc, "Version"));
    *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(*doc, "Id"));
    list = cJSON_GetObjectItemCaseSensitive(*doc, "Statement");
    *sts = cJSON_CreateArray();
    if (cJSON_IsObject(list)) { /* one statement may stand alone */
        cJSON_AddItemToArray(*sts, statement_ordered(list));
        list = NULL;
    }
    cJSON_ArrayForEach(st, list)
    {
        const cJSON *sid = cJSON_GetObjectItemCaseSensitive(st, "Sid");
        n++;
        if (!cJSON_IsObject(st)) {
            cJSON_Delete(*sts);
            *sts = NULL;
            return err_set(e, ERR_INVALID,
                           "getPolicyDocument: %s item %d: statement %d is not an object", what,
                           idx, n - 1);
        }
        if (sids && cJSON_IsString(sid) && *sid->valuestring) {
            const cJSON *x;
            cJSON_ArrayForEach(x, sids)
            {
                if (!strcmp(x->valuestring, sid->valuestring)) {
                    cJSON_Delete(*sts);
                    *sts = NULL;
                    return err_set(e, ERR_INVALID,
                                   "getPolicyDocument: duplicate Sid (%s) in %s (item %d; "
                                   "statement %d)",
                                   sid->valuestring, what, idx, n - 1);
                }
            }
            cJSON_AddItemToArray(sids, cJSON_CreateString(sid->valuestring));
        }
        cJSON_AddItemToArray(*sts, statement_ordered(st));
    }
    return ERR_OK;
}

/* sourcePolicyDocuments (Sids unique across them) or overridePolicyDocuments, merged in. */
static enum err_code merge_docs(struct merged *m, const cJSON *list, const char *what, bool unique,
                                struct err *e)
{
    cJSON *sids = unique ? cJSON_CreateArray() : NULL;
    const cJSON *d;
    int idx = 0;
    enum err_code rc = ERR_OK;

    if (list && !cJSON_IsArray(list)) {
        cJSON_Delete(sids);
        return err_set(e, ERR_INVALID, "getPolicyDocument: %s must be a list of documents", what);
    }
    cJSON_ArrayForEach(d, list)
    {
        cJSON *sts, *doc;
        const char *ver = NULL, *id = NULL;
        if ((rc = parse_doc(d, what, idx++, sids, &sts, &ver, &id, &doc, e))) {
            cJSON_Delete(doc);
            break;
        }
        merge(m, ver, id, sts);
        cJSON_Delete(doc);
    }
    cJSON_Delete(sids);
    return rc;
}

static enum err_code policy_document(const cJSON *args, cJSON **out, struct err *e)
{
    const cJSON *st, *ver = cJSON_GetObjectItemCaseSensitive(args, "version");
    const cJSON *pid = cJSON_GetObjectItemCaseSensitive(args, "policyId");
    cJSON *doc = NULL, *sts = cJSON_CreateArray(), *sids = cJSON_CreateArray();
    struct merged m = {.version = "", .id = NULL, .sts = cJSON_CreateArray()};
    enum err_code rc;
    char *pretty, *mini;

    rc = merge_docs(&m, cJSON_GetObjectItemCaseSensitive(args, "sourcePolicyDocuments"),
                    "sourcePolicyDocuments", true, e);
    cJSON_ArrayForEach(st, cJSON_GetObjectItemCaseSensitive(args, "statements"))
    {
        static const struct {
            const char *in, *out;
        } lists[] = {{"actions", "Action"},
                     {"notActions", "NotAction"},
                     {"resources", "Resource"},
                     {"notResources", "NotResource"}};
        const cJSON *sid = cJSON_GetObjectItemCaseSensitive(st, "sid");
        const cJSON *eff = cJSON_GetObjectItemCaseSensitive(st, "effect");
        cJSON *s = cJSON_CreateObject(), *v;
        cJSON_AddItemToArray(sts, s);
        if (rc)
            break;
        if (cJSON_IsString(sid) && *sid->valuestring) {
            const cJSON *x;
            cJSON_ArrayForEach(x, sids)
            {
                if (!rc && !strcmp(x->valuestring, sid->valuestring))
                    rc = err_set(e, ERR_INVALID,
                                 "getPolicyDocument: duplicate sid (%s) in statements",
                                 sid->valuestring);
            }
            cJSON_AddItemToArray(sids, cJSON_CreateString(sid->valuestring));
            cJSON_AddStringToObject(s, "Sid", sid->valuestring);
        }
        if (!rc && eff &&
            !(cJSON_IsString(eff) &&
              (!strcmp(eff->valuestring, "Allow") || !strcmp(eff->valuestring, "Deny"))))
            rc = err_set(e, ERR_INVALID, "getPolicyDocument: effect must be Allow or Deny");
        if (rc)
            break;
        cJSON_AddStringToObject(s, "Effect", eff ? eff->valuestring : "Allow");
        for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]) && !rc; i++) {
            rc = string_list(cJSON_GetObjectItemCaseSensitive(st, lists[i].in), lists[i].in, &v, e);
            if (v)
                cJSON_AddItemToObject(s, lists[i].out, v);
        }
        if (!rc &&
            !(rc = principals(cJSON_GetObjectItemCaseSensitive(st, "principals"), "principals", &v,
                              e)) &&
            v)
            cJSON_AddItemToObject(s, "Principal", v);
        if (!rc &&
            !(rc = principals(cJSON_GetObjectItemCaseSensitive(st, "notPrincipals"),
                              "notPrincipals", &v, e)) &&
            v)
            cJSON_AddItemToObject(s, "NotPrincipal", v);
        if (!rc && !(rc = conditions(cJSON_GetObjectItemCaseSensitive(st, "conditions"), &v, e)) &&
            v)
            cJSON_AddItemToObject(s, "Condition", v);
        if (rc)
            break;
    }
    cJSON_Delete(sids);
    if (!rc) {
        merge(&m, cJSON_IsString(ver) ? ver->valuestring : "2012-10-17",
              cJSON_IsString(pid) ? pid->valuestring : NULL, sts);
        sts = NULL;
        rc = merge_docs(&m, cJSON_GetObjectItemCaseSensitive(args, "overridePolicyDocuments"),
                        "overridePolicyDocuments", false, e);
    }
    cJSON_Delete(sts);
    if (rc) {
        free(m.id);
        cJSON_Delete(m.sts);
        return rc;
    }
    doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "Version", m.version);
    if (m.id)
        cJSON_AddStringToObject(doc, "Id", m.id);
    cJSON_AddItemToObject(doc, "Statement", m.sts);
    free(m.id);
    pretty = indent2(doc);
    mini = cJSON_PrintUnformatted(doc);
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "id", "0");
    cJSON_AddStringToObject(*out, "json", pretty);
    cJSON_AddStringToObject(*out, "minifiedJson", mini);
    cJSON_AddItemToObject(*out, "statements",
                          cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(args, "statements"), 1));
    cJSON_AddStringToObject(*out, "version", cJSON_IsString(ver) ? ver->valuestring : "2012-10-17");
    free(pretty);
    free(mini);
    cJSON_Delete(doc);
    return ERR_OK;
}

enum err_code stack_invoke(const char *token, const cJSON *args, const char *region,
                           const cJSON *caller, cJSON **out, struct err *e)
{
    char t[160], buf[256];
    const char *account = caller ? json_str(caller, "account") : NULL;

    *out = NULL;
    short_token(token, t, sizeof(t));
    if (!region)
        region = "us-east-1";
    if (!account)
        account = "000000000000";
    if (args && !cJSON_IsObject(args))
        return err_set(e, ERR_INVALID, "%s: arguments must be a map", token);
    if (!strcmp(t, "aws:iam:getPolicyDocument"))
        return policy_document(args, out, e);
    *out = cJSON_CreateObject();
    if (!strcmp(t, "aws:getCallerIdentity")) {
        const char *arn = caller ? json_str(caller, "arn") : NULL;
        const char *uid = caller ? json_str(caller, "userId") : NULL;
        snprintf(buf, sizeof(buf), "arn:aws:iam::%s:root", account);
        cJSON_AddStringToObject(*out, "accountId", account);
        cJSON_AddStringToObject(*out, "arn", arn ? arn : buf);
        cJSON_AddStringToObject(*out, "id", account);
        cJSON_AddStringToObject(*out, "userId", uid ? uid : account);
        return ERR_OK;
    }
    if (!strcmp(t, "aws:getRegion")) {
        const cJSON *want = cJSON_GetObjectItemCaseSensitive(args, "name");
        const char *name = cJSON_IsString(want) ? want->valuestring : region;
        snprintf(buf, sizeof(buf), "ec2.%s.amazonaws.com", name);
        cJSON_AddStringToObject(*out, "name", name);
        cJSON_AddStringToObject(*out, "id", name);
        cJSON_AddStringToObject(*out, "region", name);
        cJSON_AddStringToObject(*out, "endpoint", buf);
        cJSON_AddStringToObject(*out, "description", name);
        return ERR_OK;
    }
    if (!strcmp(t, "aws:getPartition")) {
        cJSON_AddStringToObject(*out, "id", "aws");
        cJSON_AddStringToObject(*out, "partition", "aws");
        cJSON_AddStringToObject(*out, "dnsSuffix", "amazonaws.com");
        cJSON_AddStringToObject(*out, "reverseDnsPrefix", "com.amazonaws");
        return ERR_OK;
    }
    cJSON_Delete(*out);
    *out = NULL;
    return err_set(e, ERR_NOTFOUND,
                   "unknown function '%s' (Tandem answers aws:iam:getPolicyDocument, "
                   "aws:getCallerIdentity, aws:getRegion, aws:getPartition)",
                   token);
}
