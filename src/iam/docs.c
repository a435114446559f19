/* docs.c - IAM documents in the store: one JSON document per entity under
 * META "iam/<kind>/<name>", and the policies that apply to a user or role.
 * See iam_int.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "clock.h"
#include "iam_int.h"
#include "json.h"
#include "log.h"
#include "mem.h"

/* ---- documents in the store ---- */

static char *doc_key(const char *kind, const char *name)
{
    size_t n = strlen(kind) + strlen(name) + 6;
    char *k = xmalloc(n);

    snprintf(k, n, "iam/%s/%s", kind, name);
    return k;
}

/* IAM finds users, roles and groups by name without regard to case. */
struct any_case {
    const char *field, *want;
    cJSON *found;
};

static void find_any_case(cJSON *doc, void *arg)
{
    struct any_case *ac = arg;

    if (!ac->found && strcasecmp(iam_jstr(doc, ac->field), ac->want) == 0)
        ac->found = cJSON_Duplicate(doc, true);
}

static enum err_code get_any_case(struct store_txn *t, const char *kind, const char *name,
                                  cJSON **out, struct err *e)
{
    struct any_case ac = {strcmp(kind, "user") == 0   ? "UserName"
                          : strcmp(kind, "role") == 0 ? "RoleName"
                                                      : "GroupName",
                          name, NULL};
    enum err_code rc = iam_txn_doc_each(t, kind, find_any_case, &ac, e);

    if (rc) {
        cJSON_Delete(ac.found);
        return rc;
    }
    *out = ac.found;
    return ac.found ? ERR_OK : err_set(e, ERR_NOTFOUND, "no %s %s", kind, name);
}

enum err_code iam_txn_doc_get(struct store_txn *t, const char *kind, const char *name, cJSON **out,
                              struct err *e)
{
    char *k = doc_key(kind, name);
    struct slice v;
    enum err_code rc = store_get(t, STORE_DB_META, slice_str(k), &v, e);

    free(k);
    *out = NULL;
    if (rc == ERR_NOTFOUND &&
        (strcmp(kind, "user") == 0 || strcmp(kind, "role") == 0 || strcmp(kind, "group") == 0))
        return get_any_case(t, kind, name, out, e);
    if (rc)
        return rc;
    *out = cJSON_ParseWithLength(v.ptr, v.len);
    return *out ? ERR_OK : err_set(e, ERR_INTERNAL, "corrupt IAM document %s/%s", kind, name);
}

enum err_code iam_txn_doc_put(struct store_txn *t, const char *kind, const char *name,
                              const cJSON *doc, struct err *e)
{
    char *k = doc_key(kind, name), *v = cJSON_PrintUnformatted(doc);
    enum err_code rc = store_put(t, STORE_DB_META, slice_str(k), slice_str(v), e);

    if (rc == ERR_OK)
        rc = iam_txn_log(t, k, v, e);
    free(k);
    free(v);
    return rc;
}

enum err_code iam_txn_doc_del(struct store_txn *t, const char *kind, const char *name,
                              struct err *e)
{
    char *k = doc_key(kind, name);
    enum err_code rc = store_del(t, STORE_DB_META, slice_str(k), e);

    if (rc == ERR_OK)
        rc = iam_txn_log(t, k, NULL, e);
    free(k);
    return rc;
}

enum err_code iam_doc_get(struct iam *iam, const char *kind, const char *name, cJSON **out,
                          struct err *e)
{
    struct store_txn *t = NULL;
    enum err_code rc = store_read_begin(iam->store, &t, e);

    *out = NULL;
    if (rc)
        return rc;
    rc = iam_txn_doc_get(t, kind, name, out, e);
    store_txn_abort(t);
    return rc;
}

enum err_code iam_txn_doc_each(struct store_txn *t, const char *kind, iam_doc_each_fn *fn,
                               void *arg, struct err *e)
{
    struct store_cursor *cur = NULL;
    char prefix[32];
    size_t plen;
    struct slice k, v;
    enum err_code rc;

    plen = (size_t)snprintf(prefix, sizeof(prefix), "iam/%s/", kind);
    rc = store_cursor_open(t, STORE_DB_META, &cur, e);
    if (rc)
        return rc;
    for (rc = store_cursor_seek(cur, slice_str(prefix), &k, &v, e); rc == ERR_OK;
         rc = store_cursor_next(cur, &k, &v, e)) {
        cJSON *doc;
        if (k.len < plen || memcmp(k.ptr, prefix, plen) != 0)
            break;
        doc = cJSON_ParseWithLength(v.ptr, v.len);
        if (doc) {
            fn(doc, arg);
            cJSON_Delete(doc);
        }
    }
    store_cursor_close(cur);
    return rc == ERR_NOTFOUND ? ERR_OK : rc;
}

enum err_code iam_doc_each(struct iam *iam, const char *kind, iam_doc_each_fn *fn, void *arg,
                           struct err *e)
{
    struct store_txn *t = NULL;
    enum err_code rc = store_read_begin(iam->store, &t, e);

    if (rc)
        return rc;
    rc = iam_txn_doc_each(t, kind, fn, arg, e);
    store_txn_abort(t);
    return rc;
}

const char *iam_jstr(const cJSON *doc, const char *name)
{
    const char *s = json_str(doc, name);

    return s ? s : "";
}

cJSON *iam_jobj(cJSON *doc, const char *name)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, name);

    if (!v) {
        v = cJSON_CreateObject();
        cJSON_AddItemToObject(doc, name, v);
    }
    return v;
}

cJSON *iam_jarr(cJSON *doc, const char *name)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, name);

    if (!v) {
        v = cJSON_CreateArray();
        cJSON_AddItemToObject(doc, name, v);
    }
    return v;
}

/* ---- the policies that apply to a user or role ---- */

void iam_policies_free(struct iam_policies *ps)
{
    for (size_t i = 0; i < ps->n; i++)
        iam_policy_free(ps->p[i]);
    free(ps->p);
    iam_policy_free(ps->boundary);
    ps->p = NULL;
    ps->n = 0;
    ps->boundary = NULL;
    ps->has_boundary = false;
}

static void add_policy(struct iam_policies *ps, const char *doc)
{
    struct iam_policy *p = NULL;

    if (iam_policy_parse(doc, strlen(doc), IAM_POLICY_IDENTITY, &p, NULL) != ERR_OK)
        return;
    ps->p = xrealloc(ps->p, (ps->n + 1) * sizeof(*ps->p));
    ps->p[ps->n++] = p;
}

const char *iam_policy_name_of(const char *arn)
{
    const char *slash = strrchr(arn, '/');

    return slash ? slash + 1 : arn;
}

/* default_version_doc - the document of @pol's default version (borrowed). */
static const char *default_version_doc(const cJSON *pol)
{
    const cJSON *v, *vers = cJSON_GetObjectItemCaseSensitive(pol, "Versions");
    const char *def = iam_jstr(pol, "DefaultVersionId");

    cJSON_ArrayForEach(v, vers) if (strcmp(iam_jstr(v, "VersionId"), def) ==
                                    0) return iam_jstr(v, "Document");
    return NULL;
}

char *iam_policy_doc_of(struct iam *iam, const char *arn)
{
    const struct iam_managed *m = iam_managed_find(arn);
    cJSON *pol = NULL;
    char *out = NULL;

    if (m)
        return xstrdup(m->document);
    if (iam_doc_get(iam, "policy", iam_policy_name_of(arn), &pol, NULL) == ERR_OK &&
        strcmp(iam_jstr(pol, "Arn"), arn) == 0) {
        const char *d = default_version_doc(pol);
        if (d)
            out = xstrdup(d);
    }
    cJSON_Delete(pol);
    return out;
}

/* add_own - the inline and attached managed policies of @doc. */
static void add_own(struct iam *iam, const cJSON *doc, struct iam_policies *out)
{
    const cJSON *x;

    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(doc, "Policies"))
    {
        if (cJSON_IsString(x))
            add_policy(out, x->valuestring);
    }
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(doc, "Attached"))
    {
        char *d = cJSON_IsString(x) ? iam_policy_doc_of(iam, x->valuestring) : NULL;
        if (d)
            add_policy(out, d);
        free(d);
    }
}

void iam_entity_policies(struct iam *iam, const cJSON *doc, struct iam_policies *out)
{
    const cJSON *g;
    const char *b = iam_jstr(doc, "PermissionsBoundary");

    memset(out, 0, sizeof(*out));
    add_own(iam, doc, out);
    cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(doc, "Groups"))
    {
        cJSON *gd = NULL;
        if (cJSON_IsString(g) && iam_doc_get(iam, "group", g->valuestring, &gd, NULL) == ERR_OK)
            add_own(iam, gd, out);
        cJSON_Delete(gd);
    }
    if (*b) {
        char *d = iam_policy_doc_of(iam, b);
        out->has_boundary = true;
        if (d)
            iam_policy_parse(d, strlen(d), IAM_POLICY_IDENTITY, &out->boundary, NULL);
        free(d);
    }
}

/* ---- session policies ---- */

void iam_session_keep(struct iam *iam, const cJSON *doc)
{
    int64_t now = (int64_t)clock_wall_s();
    cJSON *x, *next;

    pthread_mutex_lock(&iam->mu);
    for (x = iam->local_sessions->child; x; x = next) { /* forget the expired */
        const cJSON *exp = cJSON_GetObjectItemCaseSensitive(x, "Expiration");
        next = x->next;
        if (cJSON_IsNumber(exp) && exp->valuedouble < (double)now)
            cJSON_Delete(cJSON_DetachItemViaPointer(iam->local_sessions, x));
    }
    cJSON_DeleteItemFromObjectCaseSensitive(iam->local_sessions, iam_jstr(doc, "AccessKeyId"));
    cJSON_AddItemToObject(iam->local_sessions, iam_jstr(doc, "AccessKeyId"),
                          cJSON_Duplicate(doc, 1));
    pthread_mutex_unlock(&iam->mu);
    iam_gen_bump(iam); /* after the change is visible (cache.c) */
}

cJSON *iam_session_doc(struct iam *iam, const char *akid)
{
    cJSON *doc;

    pthread_mutex_lock(&iam->mu);
    doc = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(iam->local_sessions, akid), 1);
    pthread_mutex_unlock(&iam->mu);
    if (!doc && iam_doc_get(iam, "session", akid, &doc, NULL) != ERR_OK)
        return NULL;
    return doc;
}

bool iam_session_policies(struct iam *iam, const char *akid, struct iam_policies *out, cJSON **tags)
{
    cJSON *doc;
    const cJSON *x, *arns;
    const char *inl;

    memset(out, 0, sizeof(*out));
    *tags = NULL;
    if (!(doc = iam_session_doc(iam, akid)))
        return false;
    if (cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(doc, "Tags")))
        *tags = cJSON_DetachItemFromObjectCaseSensitive(doc, "Tags");
    inl = iam_jstr(doc, "Policy");
    arns = cJSON_GetObjectItemCaseSensitive(doc, "PolicyArns");
    if (!*inl && !cJSON_GetArraySize(arns)) {
        cJSON_Delete(doc);
        return false;
    }
    if (*inl)
        add_policy(out, inl);
    cJSON_ArrayForEach(x, arns)
    {
        char *d = cJSON_IsString(x) ? iam_policy_doc_of(iam, x->valuestring) : NULL;
        if (d)
            add_policy(out, d);
        free(d);
    }
    cJSON_Delete(doc);
    return true;
}
