/* registry.c - function documents: in memory for the request threads, in the
 * store (META "fn/NAME" -> JSON) for restarts. Writes go through the store's
 * group commit; the in-memory copy changes only once the write is durable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fn_int.h"
#include "mem.h"

#define KEY_PREFIX "fn/"

enum err_code fn_store_scan(struct fn *f, const char *prefix, fn_scan_fn *each, void *arg,
                            struct err *e)
{
    struct store_txn *t = NULL;
    struct store_cursor *c = NULL;
    struct slice k, v;
    size_t pl = strlen(prefix);
    enum err_code rc = store_read_begin(f->store, &t, e);

    if (rc)
        return rc;
    rc = store_cursor_open(t, STORE_DB_META, &c, e);
    if (rc == ERR_OK)
        rc = store_cursor_seek(c, slice_str(prefix), &k, &v, e);
    for (; rc == ERR_OK && k.len > pl && memcmp(k.ptr, prefix, pl) == 0;
         rc = store_cursor_next(c, &k, &v, e)) {
        char *rest = xstrndup((const char *)k.ptr + pl, k.len - pl);
        cJSON *doc = cJSON_ParseWithLength((const char *)v.ptr, v.len);

        if (doc)
            each(arg, rest, doc);
        free(rest);
    }
    store_cursor_close(c);
    store_txn_abort(t);
    return rc == ERR_NOTFOUND ? ERR_OK : rc;
}

static void load_one(void *arg, const char *name, cJSON *doc)
{
    struct fn *f = arg;

    cJSON_AddItemToObject(f->docs, name, doc);
}

enum err_code fn_reg_load(struct fn *f, struct err *e)
{
    return fn_store_scan(f, KEY_PREFIX, load_one, f, e);
}

cJSON *fn_reg_get(struct fn *f, const char *name)
{
    cJSON *d, *copy = NULL;

    pthread_mutex_lock(&f->mu);
    d = cJSON_GetObjectItemCaseSensitive(f->docs, name);
    if (d)
        copy = cJSON_Duplicate(d, 1);
    pthread_mutex_unlock(&f->mu);
    return copy;
}

int fn_reg_reserved(struct fn *f, const char *name)
{
    const cJSON *v;
    int n = -1;

    pthread_mutex_lock(&f->mu);
    v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(f->docs, name),
                                         "_Reserved");
    if (cJSON_IsNumber(v))
        n = v->valueint;
    pthread_mutex_unlock(&f->mu);
    return n;
}

static bool has_url(const cJSON *holder, const char *id)
{
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(holder, "_Url");
    const char *uid = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(u, "UrlId"));

    return uid && strcmp(uid, id) == 0;
}

cJSON *fn_reg_by_url(struct fn *f, const char *id, char *alias, size_t cap)
{
    cJSON *d, *a, *copy = NULL;

    alias[0] = '\0';
    pthread_mutex_lock(&f->mu);
    cJSON_ArrayForEach(d, f->docs)
    {
        if (has_url(d, id)) {
            copy = cJSON_Duplicate(d, 1);
            break;
        }
        cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(d, "_Aliases"))
        {
            if (has_url(a, id)) {
                snprintf(alias, cap, "%s", a->string);
                copy = cJSON_Duplicate(d, 1);
                break;
            }
        }
        if (copy)
            break;
    }
    pthread_mutex_unlock(&f->mu);
    return copy;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

cJSON *fn_reg_names(struct fn *f)
{
    cJSON *d, *out = cJSON_CreateArray();
    char **names;
    size_t n = 0, i;

    pthread_mutex_lock(&f->mu);
    names = xcalloc((size_t)cJSON_GetArraySize(f->docs) + 1, sizeof(*names));
    cJSON_ArrayForEach(d, f->docs) names[n++] = xstrdup(d->string);
    pthread_mutex_unlock(&f->mu);
    qsort(names, n, sizeof(*names), cmp_str);
    for (i = 0; i < n; i++) {
        cJSON_AddItemToArray(out, cJSON_CreateString(names[i]));
        free(names[i]);
    }
    free(names);
    return out;
}

struct upd {
    struct fn *f;
    char *name;
    fn_reg_mutate_fn *mutate;
    void *mutate_arg;
    cJSON *doc; /* the document written (NULL: deleted), for the in-memory copy */
    fn_reg_done_fn *done;
    void *arg;
};

enum err_code fn_store_rmw(struct store_txn *t, const char *key, fn_reg_mutate_fn *mutate,
                           void *arg, cJSON **written, struct err *e)
{
    char *text = NULL;
    struct slice v;
    cJSON *doc = NULL;
    bool existed;
    enum err_code rc = store_get(t, STORE_DB_META, slice_str(key), &v, e);

    if (rc && rc != ERR_NOTFOUND)
        return rc;
    existed = rc == ERR_OK;
    if (existed && !(doc = cJSON_ParseWithLength((const char *)v.ptr, v.len)))
        return err_set(e, ERR_IO, "%s: stored document is corrupt", key);
    rc = mutate(arg, &doc, e);
    if (rc == ERR_OK && doc) {
        text = cJSON_PrintUnformatted(doc);
        rc = store_put(t, STORE_DB_META, slice_str(key), slice_str(text), e);
    } else if (rc == ERR_OK && existed) {
        rc = store_del(t, STORE_DB_META, slice_str(key), e);
    }
    if (rc == ERR_OK) {
        *written = doc;
        doc = NULL;
    }
    cJSON_Delete(doc);
    free(text);
    return rc;
}

/* upd_apply - the read-modify-write, all inside the writer's transaction, so
 * two changes of one function never overwrite each other. */
static enum err_code upd_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct upd *p = arg;
    char *key = xmalloc(strlen(p->name) + 4);
    enum err_code rc;

    memcpy(key, KEY_PREFIX, 3);
    strcpy(key + 3, p->name);
    rc = fn_store_rmw(t, key, p->mutate, p->mutate_arg, &p->doc, e);
    free(key);
    return rc;
}

static void upd_done(void *arg, enum err_code rc, const struct err *e)
{
    struct upd *p = arg;

    if (rc == ERR_OK) {
        pthread_mutex_lock(&p->f->mu);
        cJSON_DeleteItemFromObjectCaseSensitive(p->f->docs, p->name);
        if (p->doc) {
            cJSON_AddItemToObject(p->f->docs, p->name, p->doc);
            p->doc = NULL;
        }
        pthread_mutex_unlock(&p->f->mu);
    }
    p->done(p->arg, rc, e);
    cJSON_Delete(p->doc);
    free(p->name);
    free(p);
}

void fn_reg_update(struct fn *f, const char *name, fn_reg_mutate_fn *mutate, void *mutate_arg,
                   fn_reg_done_fn *done, void *arg)
{
    struct upd *p = xcalloc(1, sizeof(*p));

    p->f = f;
    p->name = xstrdup(name);
    p->mutate = mutate;
    p->mutate_arg = mutate_arg;
    p->done = done;
    p->arg = arg;
    store_submit(f->store, upd_apply, upd_done, p);
}
