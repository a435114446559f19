/* ttl.c - Time to Live (see ttl.h). */
#include "ttl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup.h"
#include "clock.h"
#include "item.h"
#include "keys.h"
#include "log.h"
#include "mem.h"
#include "rlog.h"
#include "table.h"
#include "worker.h"

enum {
    SWEEP_BATCH = 256,                  /* deletes per store apply */
    FIVE_YEARS_S = 5 * 365 * 24 * 3600, /* older expiry times are left alone */
};

/* ---- the setting ---- */

struct ttl_rec {
    bool set; /* a record for the table's current id exists */
    bool on;
    char attr[256];
};

static void ttl_key(struct buf *k, const char *table)
{
    buf_init(k, 0);
    buf_puts(k, "ttl/");
    buf_puts(k, table);
}

static enum err_code ttl_get(struct store_txn *t, const char *table, uint64_t id,
                             struct ttl_rec *out, struct err *e)
{
    struct buf k;
    struct slice v;
    cJSON *j;
    enum err_code rc;

    memset(out, 0, sizeof(*out));
    ttl_key(&k, table);
    rc = store_get(t, STORE_DB_META, slice_of(k.ptr, k.len), &v, e);
    buf_free(&k);
    if (rc == ERR_NOTFOUND)
        return ERR_OK;
    if (rc)
        return rc;
    j = cJSON_ParseWithLength(v.ptr, v.len);
    if (!j)
        return err_set(e, ERR_INTERNAL, "corrupt TTL setting of table %s", table);
    if ((uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, "id")) == id) {
        const char *a = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "attr"));

        out->set = true;
        out->on = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "on"));
        snprintf(out->attr, sizeof(out->attr), "%s", a ? a : "");
    }
    cJSON_Delete(j);
    return ERR_OK;
}

/* ---- UpdateTimeToLive ---- */

struct ttl_update {
    struct ddb_call *c;
    const char *table;
    const char *attr;
    bool on;
};

static enum err_code update_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct ttl_update *x = arg;
    struct table_keys k;
    struct ttl_rec cur;
    struct buf key;
    cJSON *j;
    char *text;
    enum err_code rc = table_keys_get(t, x->table, &k, e);

    if (rc == ERR_NOTFOUND)
        return err_set(e, ERR_NOTFOUND, "Requested resource not found: Table: %s not found",
                       x->table);
    if (!rc)
        rc = ttl_get(t, x->table, k.id, &cur, e);
    if (rc)
        return rc;
    if (x->on && cur.on)
        return err_set(e, ERR_INVALID, "TimeToLive is already enabled");
    if (!x->on && !cur.on)
        return err_set(e, ERR_INVALID, "TimeToLive is already disabled");
    if (!x->on && strcmp(cur.attr, x->attr) != 0)
        return err_set(e, ERR_INVALID,
                       "TimeToLive is active on a different AttributeName: current "
                       "AttributeName is %s",
                       cur.attr);
    j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "id", (double)k.id);
    cJSON_AddStringToObject(j, "attr", x->attr);
    cJSON_AddBoolToObject(j, "on", x->on);
    text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    ttl_key(&key, x->table);
    rc = store_put(t, STORE_DB_META, slice_of(key.ptr, key.len), slice_str(text), e);
    buf_free(&key);
    free(text);
    return rc;
}

static void update_done(void *arg, enum err_code rc, const struct err *e)
{
    struct ttl_update *x = arg;
    struct buf b;

    if (rc) {
        ddb_reply_err(x->c, rc, e->msg);
        return;
    }
    buf_init(&b, 0);
    buf_puts(&b, "{\"TimeToLiveSpecification\":{\"AttributeName\":");
    buf_json_str(&b, x->attr, strlen(x->attr));
    buf_printf(&b, ",\"Enabled\":%s}}", x->on ? "true" : "false");
    ddb_reply(x->c, &b);
}

void ddb_ttl_update(struct ddb_call *c)
{
    struct ttl_update *x = arena_calloc(c->a, sizeof(*x));
    cJSON *spec = ddb_arg_obj(c, c->in, "TimeToLiveSpecification");
    bool has_on;

    x->c = c;
    x->table = ddb_arg_str(c, c->in, "TableName");
    ddb_check_table_name(c, x->table, "tableName");
    if (!spec && !c->serial)
        ddb_verr_null(c, "timeToLiveSpecification");
    if (spec) {
        x->attr = ddb_arg_str(c, spec, "AttributeName");
        has_on = ddb_arg_bool(c, spec, "Enabled", &x->on);
        if (!has_on && !c->serial)
            ddb_verr_null(c, "timeToLiveSpecification.enabled");
        if (!x->attr && !c->serial)
            ddb_verr_null(c, "timeToLiveSpecification.attributeName");
        else
            ddb_check_len(c, x->attr, "timeToLiveSpecification.attributeName", 1, 255, false);
    }
    if (ddb_args_failed(c))
        return;
    store_submit(c->d->store, update_apply, update_done, x);
}

/* ---- DescribeTimeToLive ---- */

void ddb_ttl_describe(struct ddb_call *c)
{
    const char *table = ddb_arg_str(c, c->in, "TableName");
    struct store_txn *t = NULL;
    struct table_keys k = {0};
    struct ttl_rec cur;
    struct err e = {0};
    struct buf b;
    enum err_code rc;

    ddb_check_table_name(c, table, "tableName");
    if (ddb_args_failed(c))
        return;
    rc = store_read_begin(c->d->store, &t, &e);
    if (!rc) {
        rc = table_keys_get(t, table, &k, &e);
        if (rc == ERR_NOTFOUND)
            rc = err_set(&e, ERR_NOTFOUND, "Requested resource not found: Table: %s not found",
                         table);
    }
    if (!rc)
        rc = ttl_get(t, table, k.id, &cur, &e);
    store_txn_abort(t);
    if (rc) {
        ddb_reply_err(c, rc, e.msg);
        return;
    }
    buf_init(&b, 0);
    buf_puts(&b, "{\"TimeToLiveDescription\":{");
    if (cur.on) {
        buf_puts(&b, "\"TimeToLiveStatus\":\"ENABLED\",\"AttributeName\":");
        buf_json_str(&b, cur.attr, strlen(cur.attr));
    } else {
        buf_puts(&b, "\"TimeToLiveStatus\":\"DISABLED\"");
    }
    buf_puts(&b, "}}");
    ddb_reply(c, &b);
}

/* ---- the sweeper ---- */

/* expired - whether @item's attribute @attr is a Number of epoch seconds
 * at or before @now_s (and not more than five years before). */
static bool expired(const cJSON *item, const char *attr, int64_t now_s)
{
    const cJSON *av = cJSON_GetObjectItemCaseSensitive(item, attr);
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(av, "N");
    double v;
    char *end;

    if (!cJSON_IsString(n))
        return false;
    v = strtod(n->valuestring, &end);
    if (*end || v != v)
        return false;
    return v <= (double)now_s && v >= (double)(now_s - FIVE_YEARS_S);
}

struct sweep {
    struct ddb *d;
    const char *table;
    uint64_t id;
    const char *attr;
    int64_t now_s;
    struct buf keys[SWEEP_BATCH];
    size_t n;
    size_t deleted;
    uint64_t logged; /* the last replication log entry appended, 0: none */
};

static enum err_code sweep_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct sweep *x = arg;
    enum err_code rc = ERR_OK;

    x->deleted = 0;
    x->logged = 0;
    for (size_t i = 0; !rc && i < x->n; i++) {
        cJSON *it = NULL;
        uint64_t lg = 0;

        rc = item_read(t, &x->keys[i], &it, e);
        if (!rc && it && expired(it, x->attr, x->now_s)) {
            /* a service deletion (principal dynamodb.amazonaws.com in the stream) */
            rc = item_service_delete_in_apply(t, x->d, x->table, x->id, &x->keys[i], &lg, e);
            if (!rc)
                x->deleted++;
            if (lg > x->logged)
                x->logged = lg;
        }
        cJSON_Delete(it);
    }
    if (rc == ERR_NOTFOUND) /* the table went away meanwhile */
        rc = ERR_OK;
    return rc;
}

static bool has_prefix(struct slice k, const struct buf *p)
{
    return k.len >= p->len && memcmp(k.ptr, p->ptr, p->len) == 0;
}

/* sweep_table - delete the expired items of one table, SWEEP_BATCH per apply. */
static enum err_code sweep_table(struct sweep *x, size_t *deleted, struct err *e)
{
    struct buf prefix, from;
    enum err_code rc = ERR_OK;
    bool more = true;

    buf_init(&prefix, 0);
    keys_append_table(&prefix, x->id);
    buf_init(&from, 0);
    buf_append(&from, prefix.ptr, prefix.len);
    while (!rc && more) {
        struct store_txn *t = NULL;
        struct store_cursor *cur = NULL;
        struct slice k, v;

        more = false;
        x->n = 0;
        rc = store_read_begin(x->d->store, &t, e);
        if (!rc)
            rc = store_cursor_open(t, STORE_DB_DATA, &cur, e);
        if (!rc)
            rc = store_cursor_seek(cur, slice_of(from.ptr, from.len), &k, &v, e);
        while (rc == ERR_OK && has_prefix(k, &prefix)) {
            const char *json;
            size_t n;

            if (k.len == from.len && memcmp(k.ptr, from.ptr, k.len) == 0 && from.len > prefix.len) {
                rc = store_cursor_next(cur, &k, &v, e);
                continue;
            }
            if (item_decode(v, &json, &n, e) == ERR_OK) {
                cJSON *it = cJSON_ParseWithLength(json, n);

                if (it && expired(it, x->attr, x->now_s)) {
                    buf_init(&x->keys[x->n], 0);
                    buf_append(&x->keys[x->n], k.ptr, k.len);
                    x->n++;
                }
                cJSON_Delete(it);
            }
            *e = (struct err){0};
            if (x->n == SWEEP_BATCH) {
                buf_reset(&from);
                buf_append(&from, k.ptr, k.len);
                more = true;
                break;
            }
            rc = store_cursor_next(cur, &k, &v, e);
        }
        if (rc == ERR_NOTFOUND)
            rc = ERR_OK;
        store_cursor_close(cur);
        store_txn_abort(t);
        if (!rc && x->n) {
            rc = store_write(x->d->store, sweep_apply, x, e);
            if (!rc && x->logged)
                repl_log_committed(x->logged);
            if (!rc)
                *deleted += x->deleted;
        }
        for (size_t i = 0; i < x->n; i++)
            buf_free(&x->keys[i]);
    }
    buf_free(&prefix);
    buf_free(&from);
    return rc;
}

enum err_code ddb_ttl_sweep(struct ddb *d, int64_t now_s, size_t *deleted, struct err *e)
{
    struct store_txn *t = NULL;
    struct store_cursor *cur = NULL;
    struct slice k, v;
    struct sweep *x = xcalloc(1, sizeof(*x));
    cJSON *todo = cJSON_CreateArray(), *one;
    size_t count = 0;
    enum err_code rc = store_read_begin(d->store, &t, e);

    /* the tables with TTL on, from one snapshot */
    if (!rc)
        rc = store_cursor_open(t, STORE_DB_META, &cur, e);
    if (!rc)
        rc = store_cursor_seek(cur, slice_str("ttl/"), &k, &v, e);
    while (rc == ERR_OK && k.len > 4 && memcmp(k.ptr, "ttl/", 4) == 0) {
        char *name = xstrndup((const char *)k.ptr + 4, k.len - 4);
        struct table_keys tk;
        struct ttl_rec r;

        if (table_keys_get(t, name, &tk, e) == ERR_OK && ttl_get(t, name, tk.id, &r, e) == ERR_OK &&
            r.on) {
            one = cJSON_CreateObject();
            cJSON_AddStringToObject(one, "t", name);
            cJSON_AddNumberToObject(one, "id", (double)tk.id);
            cJSON_AddStringToObject(one, "a", r.attr);
            cJSON_AddItemToArray(todo, one);
        }
        free(name);
        *e = (struct err){0};
        rc = store_cursor_next(cur, &k, &v, e);
    }
    if (rc == ERR_NOTFOUND)
        rc = ERR_OK;
    store_cursor_close(cur);
    store_txn_abort(t);
    cJSON_ArrayForEach(one, todo)
    {
        if (rc)
            break;
        x->d = d;
        x->table = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(one, "t"));
        x->id = (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(one, "id"));
        x->attr = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(one, "a"));
        x->now_s = now_s;
        rc = sweep_table(x, &count, e);
    }
    cJSON_Delete(todo);
    free(x);
    if (deleted)
        *deleted = count;
    return rc;
}

struct ddb_ttl {
    struct ddb *d;
    unsigned interval_s;
    struct worker *worker;
};

static void sweeper(struct worker *w, void *arg)
{
    struct ddb_ttl *s = arg;

    while (worker_wait(w, (int64_t)s->interval_s * 1000)) {
        struct err e = {0};
        size_t n = 0;

        if (ddb_ttl_sweep(s->d, clock_wall_s(), &n, &e))
            log_warn("event=ttl_sweep_failed code=%s msg=\"%s\"", err_name(e.code), e.msg);
        else if (n)
            log_info("event=ttl_sweep deleted=%zu", n);
        /* point-in-time recovery's history past its period goes too (backup.h) */
        if (pitr_sweep(s->d->store, &e))
            log_warn("event=pitr_sweep_failed code=%s msg=\"%s\"", err_name(e.code), e.msg);
    }
}

enum err_code ddb_ttl_start(struct ddb *d, unsigned interval_s, struct ddb_ttl **out, struct err *e)
{
    struct ddb_ttl *s = xcalloc(1, sizeof(*s));

    s->d = d;
    s->interval_s = interval_s ? interval_s : 60;
    s->worker = worker_start(sweeper, s);
    if (!s->worker) {
        free(s);
        return err_set(e, ERR_INTERNAL, "ttl: cannot start the sweeper thread");
    }
    *out = s;
    return ERR_OK;
}

void ddb_ttl_stop(struct ddb_ttl *s)
{
    if (!s)
        return;
    worker_stop(s->worker);
    free(s);
}
