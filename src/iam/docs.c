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

enum err_code iam_txn_doc_get(struct store_txn *t, const char *kind, const char *name, cJSON **out,
                              struct err *e)
{
    char *k = doc_key(kind, name);
    struct slice v;
    enum err_code rc = store_get(t, STORE_DB_META, slice_str(k), &v, e);

    free(k);
    *out = NULL;
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
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, name);

    return cJSON_IsString(v) ? v->valuestring : "";
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
    ps->p = NULL;
    ps->n = 0;
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

void iam_entity_policies(struct iam *iam, const cJSON *doc, struct iam_policies *out)
{
    const cJSON *x, *inl = cJSON_GetObjectItemCaseSensitive(doc, "Policies");

    out->p = NULL;
    out->n = 0;
    cJSON_ArrayForEach(x, inl) if (cJSON_IsString(x)) add_policy(out, x->valuestring);
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(doc, "Attached"))
    {
        const struct iam_managed *m;
        cJSON *pol = NULL;

        if (!cJSON_IsString(x))
            continue;
        if ((m = iam_managed_find(x->valuestring))) {
            add_policy(out, m->document);
        } else if (iam_doc_get(iam, "policy", iam_policy_name_of(x->valuestring), &pol, NULL) ==
                       ERR_OK &&
                   strcmp(iam_jstr(pol, "Arn"), x->valuestring) == 0) {
            const char *d = default_version_doc(pol);
            if (d)
                add_policy(out, d);
        }
        cJSON_Delete(pol);
    }
}
