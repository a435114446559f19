/* item.c - PutItem, GetItem, DeleteItem, Scan (see item.h). */
#include "item.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "codec.h"
#include "ddb_repl.h"
#include "dp.h"
#include "expr.h"
#include "hlc.h"
#include "index.h"
#include "keys.h"
#include "log.h"
#include "mem.h"
#include "rlog.h"
#include "sigv4.h"
#include "streams.h"
#include "table.h"

enum {
    KEY_HASH_MAX = 2048,
    KEY_RANGE_MAX = 1024,
    SCAN_PAGE_MAX = 1024 * 1024,
    STORE_KEY_MAX = 511 /* store_put's limit */
};

static const char *const rv_vals[] = {"NONE",    "ALL_OLD",     "UPDATED_OLD",
                                      "ALL_NEW", "UPDATED_NEW", NULL};
static const char *const rvf_vals[] = {"ALL_OLD", "NONE", NULL};
static const char *const ricm_vals[] = {"SIZE", "NONE", NULL};

/* legacy_arg - reply and return true when one of the legacy parameters is present. */
static bool legacy_arg(struct ddb_call *c, const char *const *names)
{
    char msg[200];

    for (int i = 0; names[i]; i++) {
        if (cJSON_GetObjectItemCaseSensitive(c->in, names[i]) &&
            !cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(c->in, names[i]))) {
            snprintf(msg, sizeof(msg),
                     "The legacy parameter %s is not supported; use expressions instead", names[i]);
            ddb_reply_err(c, ERR_INVALID, msg);
            return true;
        }
    }
    return false;
}

/* ---- keys ---- */

enum key_mode { KEY_ITEM, KEY_KEY };

static const char *const key_mismatch = "The provided key element does not match the schema";

const char item_key_empty_msg[] = "One or more parameter values are not valid. The AttributeValue "
                                  "for a key attribute cannot contain an empty";

/* key_part - append key attribute @name of type @t (@nul0: U+0000 in a
 * string as 0x00, table.h), checked against DynamoDB's key rules. */
static enum err_code key_part(const char *name, enum keys_type t, bool nul0, const cJSON *av,
                              bool hash, enum key_mode mode, struct buf *key, struct err *e)
{
    static const enum attr_type want[] = {ATTR_S, ATTR_N, ATTR_B};
    enum attr_type at = attr_type_of(av);
    const cJSON *p = attr_payload(av);
    const char *s;
    size_t n, max = hash ? KEY_HASH_MAX : KEY_RANGE_MAX;
    unsigned char *raw = NULL;
    enum err_code rc;

    if (at != want[t]) {
        if (mode == KEY_KEY)
            return err_set(e, ERR_INVALID, "%s", key_mismatch);
        return err_set(e, ERR_INVALID,
                       "One or more parameter values were invalid: Type mismatch for key %.100s "
                       "expected: %s actual: %s",
                       name, attr_type_name(want[t]), attr_type_name(at));
    }
    if (!cJSON_IsString(p))
        return err_set(e, ERR_INVALID, "%s", key_mismatch);
    s = p->valuestring;
    n = strlen(s);
    if (t == KEYS_S && nul0) {
        raw = xmalloc(n + 1);
        n = attr_str_bytes(s, n, (char *)raw);
        s = (const char *)raw;
    } else if (t == KEYS_B) {
        size_t rawlen = 0;

        raw = xmalloc(n / 4 * 3 + 4);
        if (!base64_decode(s, n, raw, &rawlen)) {
            free(raw);
            return err_set(e, ERR_INVALID, "Invalid binary value for key %.100s", name);
        }
        s = (const char *)raw;
        n = rawlen;
    }
    if (n == 0 && t != KEYS_N) {
        free(raw);
        return err_set(e, ERR_INVALID, "%s %s value. Key: %.100s", item_key_empty_msg,
                       t == KEYS_S ? "string" : "binary", name);
    }
    if ((t == KEYS_S && !nul0 ? attr_str_len(s) : n) > max) {
        free(raw);
        if (hash)
            return err_set(e, ERR_INVALID,
                           "One or more parameter values were invalid: Size of hashkey has "
                           "exceeded the maximum size limit of2048 bytes");
        return err_set(e, ERR_INVALID,
                       "One or more parameter values were invalid: Aggregated size of all range "
                       "keys has exceeded the size limit of 1024 bytes");
    }
    rc = keys_append(key, t, s, n, hash, e);
    free(raw);
    return rc;
}

/* build_key - the storage key of the item or Key @obj (validated AttributeValues). */
static enum err_code build_key(const struct table_keys *k, const cJSON *obj, enum key_mode mode,
                               struct buf *key, struct err *e)
{
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(obj, k->hash);
    const cJSON *r = k->has_range ? cJSON_GetObjectItemCaseSensitive(obj, k->range) : NULL;
    enum err_code rc;

    if (mode == KEY_KEY &&
        (!h || (k->has_range && !r) || cJSON_GetArraySize(obj) != (k->has_range ? 2 : 1)))
        return err_set(e, ERR_INVALID, "%s", key_mismatch);
    if (!h)
        return err_set(e, ERR_INVALID,
                       "One or more parameter values were invalid: Missing the key %.100s in the "
                       "item",
                       k->hash);
    if (k->has_range && !r)
        return err_set(e, ERR_INVALID,
                       "One or more parameter values were invalid: Missing the key %.100s in the "
                       "item",
                       k->range);
    keys_append_table(key, k->id);
    rc = key_part(k->hash, k->htype, k->nul0, h, true, mode, key, e);
    if (!rc && k->has_range)
        rc = key_part(k->range, k->rtype, k->nul0, r, false, mode, key, e);
    /* keys.h keeps every encoding under LMDB's 511 bytes (store.h) */
    if (!rc && key->len > STORE_KEY_MAX)
        rc = err_set(e, ERR_INTERNAL, "key encoding of %zu bytes is too long", key->len);
    return rc;
}

/* key_json - append {"hash":AV[,"range":AV]} taken from @item. */
static void key_json(struct buf *b, const struct table_keys *k, const cJSON *item)
{
    const char *names[2] = {k->hash, k->has_range ? k->range : NULL};

    buf_putc(b, '{');
    for (int i = 0; i < 2 && names[i]; i++) {
        char *av = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(item, names[i]));

        if (i)
            buf_putc(b, ',');
        buf_json_str(b, names[i], strlen(names[i]));
        buf_putc(b, ':');
        buf_puts(b, av ? av : "null");
        free(av);
    }
    buf_putc(b, '}');
}

/* ---- expressions ---- */

struct exprs {
    struct expr_ctx ctx;
    struct expr_cond *cond;
    struct expr_proj *proj;
};

/* exprs_parse - the request's expressions; false when a reply was sent. */
static bool exprs_parse(struct ddb_call *c, const char *cond_name, bool with_values, bool with_proj,
                        struct exprs *x)
{
    cJSON *names = ddb_arg_obj(c, c->in, "ExpressionAttributeNames");
    cJSON *values = with_values ? ddb_arg_obj(c, c->in, "ExpressionAttributeValues") : NULL;
    const char *ctext = cond_name ? ddb_arg_str(c, c->in, cond_name) : NULL;
    const char *ptext = with_proj ? ddb_arg_str(c, c->in, "ProjectionExpression") : NULL;
    struct err e = {0};

    memset(x, 0, sizeof(*x));
    if (ddb_args_failed(c))
        return false;
    if (!dp_expr_args_check(c, names, values, ctext || ptext, ctext))
        return false;
    expr_ctx_init(&x->ctx, c->a, names, values);
    if (ctext && expr_parse_condition(&x->ctx, ctext, cond_name, &x->cond, &e)) {
        ddb_reply_err(c, e.code ? e.code : ERR_INVALID, e.msg);
        return false;
    }
    if (ptext && expr_parse_projection(&x->ctx, ptext, &x->proj, &e)) {
        ddb_reply_err(c, e.code ? e.code : ERR_INVALID, e.msg);
        return false;
    }
    if (expr_check_unused(&x->ctx, &e)) {
        ddb_reply_err(c, e.code ? e.code : ERR_INVALID, e.msg);
        return false;
    }
    return true;
}

/* ---- PutItem and DeleteItem ---- */

struct write {
    struct ddb_call *c;
    const char *table;
    uint64_t id;
    struct buf key;
    char *val; /* owned: format byte + JSON; NULL for a delete */
    size_t vlen;
    size_t size;
    const struct expr_cond *cond;
    bool ret_old, old_on_fail;
    int cap;
    /* results */
    char *old; /* owned: the old item's JSON text, when asked for */
    size_t oldlen, old_size;
    uint64_t logged; /* the replication log entry appended, 0: none */
    bool service;    /* a deletion by the service itself (TTL), for the stream */
    /* the live item, when the caller read it in this transaction already */
    bool old_known;
    const cJSON *known_old;   /* borrowed; NULL: absent */
    const cJSON *item;        /* borrowed: the item @val holds, when parsed already */
    struct index_cost *icost; /* NULL, or filled with what the indexes took (capacity) */
    int ricm;                 /* ReturnItemCollectionMetrics: 0 SIZE */
    const char *icm;          /* the ItemCollectionMetrics member to answer, or NULL */
};

/* item_value - the item in stored value @v: ERR_OK with @json/@n, ERR_NOTFOUND
 * for a tombstone, ERR_INTERNAL for a value of no known format. */
static enum err_code item_value(struct slice v, const char **json, size_t *n, struct err *e)
{
    struct repl_val rv;
    enum err_code rc = repl_val_decode(v, &rv, e);

    if (rc)
        return rc;
    if (rv.deleted)
        return ERR_NOTFOUND;
    *json = rv.json;
    *n = rv.json_len;
    return ERR_OK;
}

/* copy_name - @src into @dst of @cap bytes, cut to fit (snprintf's "%s"
 * without its formatting cost, on every replicated write). */
static void copy_name(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);

    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* write_replicated - the write of @x to a table with replicas: a format-2
 * value stamped with the region's clock (a tombstone for a delete) and its
 * log entry, in the same transaction. */
static enum err_code write_replicated(struct store_txn *t, struct write *x,
                                      const struct table_keys *k, bool had_old, struct err *e)
{
    const char *region = x->c->d->region;
    struct repl_entry le;
    struct buf v;
    size_t prefix = 8; /* keys_append_table */
    enum err_code rc;

    memset(&le, 0, sizeof(le));
    le.ts = repl_hlc_now();
    le.del = x->val == NULL;
    copy_name(le.origin, sizeof(le.origin), region);
    copy_name(le.table, sizeof(le.table), x->table);
    le.table_id = x->id;
    le.schema = table_keys_schema(k);
    le.key = x->key.ptr + prefix;
    le.key_len = x->key.len - prefix;
    if (x->val) {
        le.image = x->val + 1;
        le.image_len = x->vlen - 1;
    }
    buf_init(&v, 0);
    buf_reserve(&v, 12 + REPL_REGION_MAX + le.image_len);
    repl_val_encode(&v, le.ts, region, le.image, le.image_len);
    rc = store_put(t, STORE_DB_DATA, slice_of(x->key.ptr, x->key.len), slice_of(v.ptr, v.len), e);
    buf_free(&v);
    if (!rc && x->val)
        rc = table_stats_add(t, x->id, had_old ? 0 : 1, (int64_t)x->size - (int64_t)x->old_size, e);
    else if (!rc && had_old)
        rc = table_stats_add(t, x->id, -1, -(int64_t)x->old_size, e);
    if (!rc)
        rc = repl_log_append(t, &le, e);
    if (!rc)
        x->logged = le.seq;
    return rc;
}

/* read_old - the live item at @x's key, parsed (owned; NULL when absent),
 * its size, and its text when @x returns it. */
static enum err_code read_old(struct store_txn *t, struct write *x, cJSON **out, struct err *e)
{
    struct slice v;
    const char *p;
    size_t n;
    enum err_code rc = store_get(t, STORE_DB_DATA, slice_of(x->key.ptr, x->key.len), &v, e);

    *out = NULL;
    if (rc == ERR_OK)
        rc = item_value(v, &p, &n, e);
    if (rc == ERR_NOTFOUND)
        return ERR_OK;
    if (rc)
        return rc;
    *out = cJSON_ParseWithLength(p, n);
    if (!*out)
        return err_set(e, ERR_INTERNAL, "corrupt item");
    x->old_size = attr_item_size(*out);
    if (x->ret_old || x->old_on_fail) {
        x->old = xmemdup(p, n);
        x->oldlen = n;
    }
    return ERR_OK;
}

static enum err_code write_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct write *x = arg;
    struct table_keys k;
    cJSON *parsed = NULL; /* owned: @old when read here */
    const cJSON *old;
    bool ok = true;
    enum err_code rc;

    x->old_size = 0;
    x->logged = 0;
    free(x->old);
    x->old = NULL;
    rc = table_keys_get(t, x->table, &k, e);
    if (rc)
        return rc;
    if (k.id != x->id)
        return err_set(e, ERR_NOTFOUND, "Requested resource not found");
    if (x->old_known) { /* item_replace_in_apply: no old image to return */
        old = x->known_old;
        x->old_size = old ? attr_item_size(old) : 0;
    } else {
        rc = read_old(t, x, &parsed, e);
        if (rc)
            return rc;
        old = parsed;
    }
    rc = ERR_OK;
    if (x->cond) {
        rc = expr_eval_condition(x->cond, old, &ok, e);
        if (rc)
            goto out;
        if (!ok) {
            if (!x->old_on_fail) {
                free(x->old);
                x->old = NULL;
            }
            rc = err_set(e, ERR_CONFLICT, "The conditional request failed");
            goto out;
        }
    }
    if (k.replicated) {
        rc = write_replicated(t, x, &k, old != NULL, e);
    } else if (!x->val) {
        if (old) {
            rc = store_del(t, STORE_DB_DATA, slice_of(x->key.ptr, x->key.len), e);
            if (!rc)
                rc = table_stats_add(t, x->id, -1, -(int64_t)x->old_size, e);
        }
    } else {
        rc = store_put(t, STORE_DB_DATA, slice_of(x->key.ptr, x->key.len),
                       slice_of(x->val, x->vlen), e);
        if (!rc)
            rc = table_stats_add(t, x->id, old ? 0 : 1, (int64_t)x->size - (int64_t)x->old_size, e);
    }
    /* secondary indexes change in the same transaction (index.h) */
    if (!rc)
        rc = index_maintain(t, &k, &x->key, old, x->val ? x->val + 1 : NULL,
                            x->val ? x->vlen - 1 : 0, x->icost, e);
    /* the stream record commits with the write (streams.h) */
    if (!rc)
        rc = streams_on_write(t, x->table, &k, old, x->item, x->val ? x->val + 1 : NULL,
                              x->val ? x->vlen - 1 : 0, x->service, e);
    if (!x->ret_old) {
        free(x->old);
        x->old = NULL;
    }
out:
    cJSON_Delete(parsed);
    return rc;
}

static void write_done(void *arg, enum err_code rc, const struct err *e)
{
    struct write *x = arg;
    struct ddb_call *c = x->c;
    struct buf b;
    size_t units_bytes = x->val ? (x->size > x->old_size ? x->size : x->old_size) : x->old_size;

    buf_free(&x->key);
    free(x->val);
    x->val = NULL;
    if (rc == ERR_OK && x->logged)
        repl_log_committed(x->logged);
    buf_init(&b, 0);
    if (rc == ERR_CONFLICT && x->old) {
        ddb_error_open_with(&b, "ConditionalCheckFailedException", e->msg);
        buf_puts(&b, ",\"Item\":");
        buf_append(&b, x->old, x->oldlen);
        buf_putc(&b, '}');
        free(x->old);
        ddb_reply_status(c, 400, &b);
        return;
    }
    if (rc) {
        free(x->old);
        buf_free(&b);
        ddb_reply_err(c, rc, e->msg);
        return;
    }
    buf_putc(&b, '{');
    if (x->old) {
        buf_puts(&b, "\"Attributes\":");
        buf_append(&b, x->old, x->oldlen);
        free(x->old);
    }
    if (x->cap) {
        if (b.len > 1)
            buf_putc(&b, ',');
        buf_puts(&b, "\"ConsumedCapacity\":");
        dp_capacity_units(&b, x->cap, x->table, dp_write_units(units_bytes), x->icost, NULL);
    }
    if (x->icm) {
        if (b.len > 1)
            buf_putc(&b, ',');
        buf_puts(&b, x->icm);
    }
    buf_putc(&b, '}');
    ddb_reply(c, &b);
}

/* write_common - the parts PutItem and DeleteItem share; false when replied. */
static bool write_args(struct ddb_call *c, struct write *x, int *rv)
{
    int rvf;

    x->c = c;
    *rv = ddb_arg_enum(c, c->in, "ReturnValues", "returnValues", rv_vals);
    rvf = ddb_arg_enum(c, c->in, "ReturnValuesOnConditionCheckFailure",
                       "returnValuesOnConditionCheckFailure", rvf_vals);
    x->cap = dp_capacity_arg(c);
    if (x->cap)
        x->icost = arena_calloc(c->a, sizeof(*x->icost));
    x->ricm = ddb_arg_enum(c, c->in, "ReturnItemCollectionMetrics", "returnItemCollectionMetrics",
                           ricm_vals);
    if (ddb_args_failed(c))
        return false;
    if (!dp_legacy_mix(c, c->in, (const char *const[]){"Expected", "ConditionalOperator", NULL}) ||
        !dp_legacy_conds(c, c->in, "Expected", "ConditionExpression", false))
        return false;
    if (legacy_arg(c, (const char *const[]){"ConditionalOperator", NULL}))
        return false;
    if (*rv > 1) {
        ddb_reply_err(c, ERR_INVALID, "ReturnValues can only be ALL_OLD or NONE");
        return false;
    }
    x->ret_old = *rv == 1;
    x->old_on_fail = rvf == 0;
    return true;
}

/* write_start - what PutItem and DeleteItem check first: the arguments, @obj
 * (the Item or the Key, by @mode), the condition and the table; fills @x's
 * table, id, condition and storage key. False when @c was answered. */
static bool write_start(struct ddb_call *c, struct write *x, const char *table, cJSON *obj,
                        enum key_mode mode)
{
    struct table_keys k;
    struct exprs *ex = arena_calloc(c->a, sizeof(*ex)); /* the condition refers to it */
    struct err e = {0};
    int rv;

    ddb_check_table_name(c, table, "tableName");
    if (!obj && !c->serial)
        ddb_verr_null(c, mode == KEY_ITEM ? "item" : "key");
    if (!write_args(c, x, &rv))
        return false;
    if (attr_validate_item(obj, &e)) {
        ddb_reply_err(c, ERR_INVALID, e.msg);
        return false;
    }
    if (!exprs_parse(c, "ConditionExpression", true, false, ex))
        return false;
    if (!dp_lookup_keys(c, table, &k))
        return false;
    buf_init(&x->key, 0);
    if (build_key(&k, obj, mode, &x->key, &e)) {
        buf_free(&x->key);
        ddb_reply_err(c, ERR_INVALID, e.msg);
        return false;
    }
    x->table = table;
    x->id = k.id;
    x->cond = ex->cond;
    x->icm = dp_item_collection(c, x->ricm, &k, obj);
    return true;
}

void item_put(struct ddb_call *c)
{
    const char *table = ddb_arg_str(c, c->in, "TableName");
    cJSON *item = ddb_arg_obj(c, c->in, "Item");
    struct write *x = arena_calloc(c->a, sizeof(*x));
    char *text;

    if (!write_start(c, x, table, item, KEY_ITEM))
        return;
    x->size = attr_item_size(item);
    if (x->size > DDB_ITEM_MAX) {
        buf_free(&x->key);
        ddb_reply_err(c, ERR_INVALID, "Item size has exceeded the maximum allowed size");
        return;
    }
    text = cJSON_PrintUnformatted(item);
    x->item = item;
    x->vlen = strlen(text) + 1;
    x->val = xmalloc(x->vlen);
    x->val[0] = DDB_ITEM_FMT_JSON;
    memcpy(x->val + 1, text, x->vlen - 1);
    free(text);
    store_submit(c->d->store, write_apply, write_done, x);
}

void item_delete(struct ddb_call *c)
{
    const char *table = ddb_arg_str(c, c->in, "TableName");
    cJSON *key = ddb_arg_obj(c, c->in, "Key");
    struct write *x = arena_calloc(c->a, sizeof(*x));

    if (!write_start(c, x, table, key, KEY_KEY))
        return;
    store_submit(c->d->store, write_apply, write_done, x);
}

/* ---- GetItem ---- */

void item_get(struct ddb_call *c)
{
    const char *table = ddb_arg_str(c, c->in, "TableName");
    cJSON *key = ddb_arg_obj(c, c->in, "Key");
    bool consistent = false;
    int cap;
    struct table_keys k;
    struct exprs ex;
    struct store_txn *t = NULL;
    struct buf kb, b;
    struct slice v;
    struct err e = {0};
    enum err_code rc;
    size_t size = 0;

    ddb_check_table_name(c, table, "tableName");
    if (!key && !c->serial)
        ddb_verr_null(c, "key");
    ddb_arg_bool(c, c->in, "ConsistentRead", &consistent);
    cap = dp_capacity_arg(c);
    if (ddb_args_failed(c))
        return;
    if (!dp_attrs_to_get(c, c->in))
        return;
    if (attr_validate_item(key, &e)) {
        ddb_reply_err(c, ERR_INVALID, e.msg);
        return;
    }
    if (!exprs_parse(c, NULL, false, true, &ex))
        return;

    buf_init(&kb, 0);
    buf_init(&b, 0);
    buf_putc(&b, '{');
    rc = store_read_begin(c->d->store, &t, &e);
    if (!rc)
        rc = table_keys_get(t, table, &k, &e);
    if (!rc)
        rc = build_key(&k, key, KEY_KEY, &kb, &e);
    if (!rc) {
        rc = store_get(t, STORE_DB_DATA, slice_of(kb.ptr, kb.len), &v, &e);
        if (rc == ERR_OK) {
            const char *p = NULL;
            size_t n = 0;

            rc = item_value(v, &p, &n, &e);
            if (rc == ERR_NOTFOUND) {
                rc = ERR_OK; /* a tombstone reads as no item */
            } else if (rc) {
                /* reported below */
            } else if (!ex.proj && !cap) {
                buf_puts(&b, "\"Item\":");
                buf_append(&b, p, n);
            } else {
                cJSON *it = cJSON_ParseWithLength(p, n);

                if (!it) {
                    rc = err_set(&e, ERR_INTERNAL, "corrupt item");
                } else {
                    size = attr_item_size(it);
                    if (!ex.proj) {
                        buf_puts(&b, "\"Item\":");
                        buf_append(&b, p, n);
                    } else {
                        cJSON *pr = expr_project(ex.proj, it);
                        char *txt = cJSON_PrintUnformatted(pr);

                        buf_puts(&b, "\"Item\":");
                        buf_puts(&b, txt);
                        free(txt);
                        cJSON_Delete(pr);
                    }
                    cJSON_Delete(it);
                }
            }
        } else if (rc == ERR_NOTFOUND) {
            rc = ERR_OK;
        }
    }
    store_txn_abort(t);
    buf_free(&kb);
    if (rc) {
        buf_free(&b);
        ddb_reply_err(c, rc, e.msg);
        return;
    }
    if (cap) {
        if (b.len > 1)
            buf_putc(&b, ',');
        buf_puts(&b, "\"ConsumedCapacity\":");
        dp_capacity_entry(&b, cap, table, dp_read_units(size, consistent));
    }
    buf_putc(&b, '}');
    ddb_reply(c, &b);
}

/* ---- key prefixes ---- */

static bool has_prefix(struct slice k, const struct buf *p)
{
    return k.len >= p->len && memcmp(k.ptr, p->ptr, p->len) == 0;
}

/* ---- replication (ddb_repl.h) ---- */

struct batch_stat {
    uint64_t id;
    int64_t count, bytes;
};

struct ddb_repl_batch {
    struct store_txn *t;
    /* the table of the last entry */
    char table[REPL_TABLE_MAX + 1];
    enum err_code keys_rc; /* of table_keys_get; ERR_NOTFOUND: no such table */
    struct table_keys keys;
    uint32_t schema;
    /* item counter changes of the batch, written by ddb_repl_batch_end */
    struct batch_stat *stats;
    size_t nstats, cap;
    struct buf key, val; /* reused by each entry */
};

struct ddb_repl_batch *ddb_repl_batch_begin(struct store_txn *t)
{
    struct ddb_repl_batch *b = xcalloc(1, sizeof(*b));

    b->t = t;
    buf_init(&b->key, 0);
    buf_init(&b->val, 0);
    return b;
}

/* batch_keys - the key schema of @table (cached for the entries that follow:
 * the batch's txn changes no table definition). */
static enum err_code batch_keys(struct ddb_repl_batch *b, const char *table, struct err *e)
{
    if (b->table[0] && strcmp(b->table, table) == 0)
        return b->keys_rc;
    b->table[0] = '\0';
    b->keys_rc = table_keys_get(b->t, table, &b->keys, e);
    if (b->keys_rc && b->keys_rc != ERR_NOTFOUND)
        return b->keys_rc; /* not cached */
    if (!b->keys_rc)
        b->schema = table_keys_schema(&b->keys);
    snprintf(b->table, sizeof(b->table), "%s", table);
    return b->keys_rc;
}

/* batch_stats - add to table @id's item counters (written at the end). */
static void batch_stats(struct ddb_repl_batch *b, uint64_t id, int64_t count, int64_t bytes)
{
    size_t i;

    for (i = 0; i < b->nstats && b->stats[i].id != id; i++)
        ;
    if (i == b->nstats) {
        if (b->nstats == b->cap) {
            b->cap = b->cap ? 2 * b->cap : 4;
            b->stats = xrealloc(b->stats, b->cap * sizeof(*b->stats));
        }
        b->stats[i] = (struct batch_stat){.id = id};
        b->nstats++;
    }
    b->stats[i].count += count;
    b->stats[i].bytes += bytes;
}

enum err_code ddb_repl_batch_end(struct ddb_repl_batch *b, bool write, struct err *e)
{
    enum err_code rc = ERR_OK;

    for (size_t i = 0; write && !rc && i < b->nstats; i++)
        rc = table_stats_add(b->t, b->stats[i].id, b->stats[i].count, b->stats[i].bytes, e);
    buf_free(&b->key);
    buf_free(&b->val);
    free(b->stats);
    free(b);
    return rc;
}

enum err_code ddb_repl_apply(struct ddb_repl_batch *b, const struct repl_entry *x,
                             struct ddb_repl_result *out, struct err *e)
{
    struct store_txn *t = b->t;
    const struct table_keys *k = &b->keys;
    struct buf *key = &b->key, *v = &b->val;
    struct slice sv;
    struct repl_val old;
    cJSON *old_item = NULL; /* the live item replaced, for the stream */
    cJSON *new_item = NULL; /* the image written, for the stream */
    bool had_live = false;
    size_t old_size = 0, new_size = 0;
    enum err_code rc;

    memset(out, 0, sizeof(*out));
    rc = batch_keys(b, x->table, e);
    if (rc == ERR_NOTFOUND || (rc == ERR_OK && !k->replicated)) {
        out->outcome = DDB_REPL_NO_TABLE;
        return ERR_OK;
    }
    if (rc)
        return rc;
    if (b->schema != x->schema)
        return err_set(e, ERR_INVALID, "the key schema of table %s differs from the origin's",
                       x->table);
    repl_hlc_observe(x->ts);
    buf_reset(key);
    buf_reset(v);
    keys_append_table(key, k->id);
    buf_append(key, x->key, x->key_len);
    if (key->len > STORE_KEY_MAX)
        return err_set(e, ERR_INVALID, "replicated key too long");
    rc = store_get(t, STORE_DB_DATA, slice_of(key->ptr, key->len), &sv, e);
    if (rc == ERR_OK) {
        rc = repl_val_decode(sv, &old, e);
        if (rc)
            return rc;
        out->stored_ts = old.ts;
        snprintf(out->stored_origin, sizeof(out->stored_origin), "%s", old.origin);
        if (old.ts == x->ts && strcmp(old.origin, x->origin) == 0) {
            out->outcome = DDB_REPL_SAME;
            return ERR_OK;
        }
        if (old.fmt == REPL_FMT_HLC && !repl_val_newer(x->ts, x->origin, old.ts, old.origin)) {
            out->outcome = DDB_REPL_LOST;
            return ERR_OK;
        }
        if (!old.deleted) {
            old_item = cJSON_ParseWithLength(old.json, old.json_len);
            if (!old_item)
                return err_set(e, ERR_INTERNAL, "corrupt item");
            had_live = true;
            old_size = attr_item_size(old_item);
        }
    } else if (rc != ERR_NOTFOUND) {
        return rc;
    }
    if (!x->del) {
        new_item = cJSON_ParseWithLength(x->image, x->image_len);
        if (!cJSON_IsObject(new_item)) {
            rc = err_set(e, ERR_INVALID, "replicated image of table %s is not an item", x->table);
            goto out;
        }
        new_size = attr_item_size(new_item);
    }
    /* the image is stored as the origin sent it, behind the value header */
    repl_val_encode(v, x->ts, x->origin, x->del ? NULL : x->image, x->image_len);
    rc = store_put(t, STORE_DB_DATA, slice_of(key->ptr, key->len), slice_of(v->ptr, v->len), e);
    if (!rc)
        batch_stats(b, k->id, (x->del ? 0 : 1) - (had_live ? 1 : 0),
                    (int64_t)new_size - (int64_t)old_size);
    /* secondary indexes follow the replicated write (index.h) */
    if (!rc)
        rc = index_maintain(t, k, key, old_item, x->del ? NULL : x->image,
                            x->del ? 0 : x->image_len, NULL, e);
    /* the receiving region's stream shows the change with the origin's images */
    if (!rc)
        rc = streams_on_write(t, x->table, k, old_item, new_item, x->del ? NULL : x->image,
                              x->del ? 0 : x->image_len, false, e);
    if (!rc)
        out->outcome = DDB_REPL_APPLIED;
out:
    cJSON_Delete(old_item);
    cJSON_Delete(new_item);
    return rc;
}

/* repl_cursor_after - set @prefix to table @id's key prefix and open @cur on
 * its first item after key @after (from the table's first item when NULL),
 * with the entry in @ck/@cv. ERR_NOTFOUND when the store has nothing there;
 * the caller stops at the first @ck without @prefix and closes @cur. */
static enum err_code repl_cursor_after(struct store_txn *t, uint64_t id, const struct slice *after,
                                       struct buf *prefix, struct store_cursor **cur,
                                       struct slice *ck, struct slice *cv, struct err *e)
{
    struct buf start;
    enum err_code rc;

    buf_init(&start, 0);
    keys_append_table(prefix, id);
    buf_append(&start, prefix->ptr, prefix->len);
    if (after)
        buf_append(&start, after->ptr, after->len);
    rc = store_cursor_open(t, STORE_DB_DATA, cur, e);
    if (!rc)
        rc = store_cursor_seek(*cur, slice_of(start.ptr, start.len), ck, cv, e);
    if (!rc && after && slice_eq(*ck, slice_of(start.ptr, start.len)))
        rc = store_cursor_next(*cur, ck, cv, e);
    buf_free(&start);
    return rc;
}

enum err_code ddb_repl_snapshot(struct store_txn *t, const char *table, const char *region,
                                const struct slice *after, size_t max, struct buf *batch,
                                struct buf *next, struct err *e)
{
    struct table_keys k;
    struct store_cursor *cur = NULL;
    struct buf prefix, ent;
    struct slice ck, cv;
    size_t n = 0;
    enum err_code rc;

    rc = table_keys_get(t, table, &k, e);
    if (rc)
        return rc;
    buf_init(&prefix, 0);
    buf_init(&ent, 0);
    repl_batch_begin(batch);
    rc = repl_cursor_after(t, k.id, after, &prefix, &cur, &ck, &cv, e);
    buf_reset(next); /* only now: @after may point into it */
    while (rc == ERR_OK && has_prefix(ck, &prefix)) {
        struct repl_val rv;
        struct repl_entry x;

        rc = repl_val_decode(cv, &rv, e);
        if (rc)
            break;
        memset(&x, 0, sizeof(x));
        x.del = rv.deleted;
        x.ts = rv.ts;
        snprintf(x.origin, sizeof(x.origin), "%s", rv.fmt == REPL_FMT_HLC ? rv.origin : region);
        snprintf(x.table, sizeof(x.table), "%s", table);
        x.table_id = k.id;
        x.schema = table_keys_schema(&k);
        x.key = (const char *)ck.ptr + prefix.len;
        x.key_len = ck.len - prefix.len;
        x.image = rv.json;
        x.image_len = rv.json_len;
        buf_reset(&ent);
        repl_entry_encode(&ent, &x);
        repl_batch_add(batch, ++n, ent.ptr, ent.len);
        if (n == max) { /* more may follow: continue after this key */
            buf_append(next, x.key, x.key_len);
            break;
        }
        rc = store_cursor_next(cur, &ck, &cv, e);
    }
    if (rc == ERR_NOTFOUND)
        rc = ERR_OK;
    store_cursor_close(cur);
    repl_batch_end(batch);
    buf_free(&prefix);
    buf_free(&ent);
    return rc;
}

enum err_code ddb_repl_gc(struct store_txn *t, const char *table, const struct slice *after,
                          size_t max_scan, uint64_t before, size_t *deleted, struct buf *next,
                          struct err *e)
{
    struct table_keys k;
    struct store_cursor *cur = NULL;
    struct buf prefix, dead; /* dead: (u16 length, key) of each tombstone to delete */
    struct slice ck, cv;
    size_t n = 0;
    enum err_code rc;

    *deleted = 0;
    rc = table_keys_get(t, table, &k, e);
    if (rc)
        return rc;
    buf_init(&prefix, 0);
    buf_init(&dead, 0);
    rc = repl_cursor_after(t, k.id, after, &prefix, &cur, &ck, &cv, e);
    buf_reset(next); /* only now: @after may point into it */
    while (rc == ERR_OK && has_prefix(ck, &prefix)) {
        struct repl_val rv;

        rc = repl_val_decode(cv, &rv, e);
        if (rc)
            break;
        if (rv.fmt == REPL_FMT_HLC && rv.deleted && rv.ts < before) {
            unsigned char l[2] = {(unsigned char)(ck.len >> 8), (unsigned char)ck.len};

            buf_append(&dead, l, 2);
            buf_append(&dead, ck.ptr, ck.len);
        }
        if (++n == max_scan) { /* more may follow: continue after this key */
            buf_append(next, (const char *)ck.ptr + prefix.len, ck.len - prefix.len);
            break;
        }
        rc = store_cursor_next(cur, &ck, &cv, e);
    }
    if (rc == ERR_NOTFOUND)
        rc = ERR_OK;
    store_cursor_close(cur);
    for (size_t off = 0; !rc && off + 2 <= dead.len;) {
        const unsigned char *q = (const unsigned char *)dead.ptr + off;
        size_t len = (size_t)q[0] << 8 | q[1];

        rc = store_del(t, STORE_DB_DATA, slice_of(q + 2, len), e);
        if (!rc)
            (*deleted)++;
        off += 2 + len;
    }
    buf_free(&prefix);
    buf_free(&dead);
    return rc;
}

enum err_code ddb_repl_digest(struct store_txn *t, const char *table, ddb_repl_digest_fn *fn,
                              void *arg, struct err *e)
{
    struct table_keys k;
    struct store_cursor *cur = NULL;
    struct buf prefix;
    struct slice ck, cv;
    enum err_code rc = table_keys_get(t, table, &k, e);

    if (rc)
        return rc;
    buf_init(&prefix, 0);
    keys_append_table(&prefix, k.id);
    rc = store_cursor_open(t, STORE_DB_DATA, &cur, e);
    if (!rc)
        rc = store_cursor_seek(cur, slice_of(prefix.ptr, prefix.len), &ck, &cv, e);
    while (rc == ERR_OK && has_prefix(ck, &prefix)) {
        const char *p;
        size_t n;
        char hex[65];

        rc = item_value(cv, &p, &n, e);
        if (rc == ERR_OK) {
            sigv4_sha256_hex(p, n, hex);
            fn(arg, (const char *)ck.ptr + prefix.len, ck.len - prefix.len, hex);
        } else if (rc != ERR_NOTFOUND) {
            break;
        }
        rc = store_cursor_next(cur, &ck, &cv, e);
    }
    if (rc == ERR_NOTFOUND)
        rc = ERR_OK;
    store_cursor_close(cur);
    buf_free(&prefix);
    return rc;
}

/* ---- for the other item operations (item.h) ---- */

enum err_code item_key_build(const struct table_keys *k, const cJSON *obj, bool is_key,
                             struct buf *key, struct err *e)
{
    return build_key(k, obj, is_key ? KEY_KEY : KEY_ITEM, key, e);
}

void item_key_json(struct buf *b, const struct table_keys *k, const cJSON *item)
{
    key_json(b, k, item);
}

enum err_code item_read(struct store_txn *t, const struct buf *key, cJSON **out, struct err *e)
{
    struct slice v;
    const char *p;
    size_t n;
    enum err_code rc = store_get(t, STORE_DB_DATA, slice_of(key->ptr, key->len), &v, e);

    *out = NULL;
    if (rc == ERR_OK)
        rc = item_value(v, &p, &n, e);
    if (rc == ERR_NOTFOUND)
        return ERR_OK;
    if (rc)
        return rc;
    *out = cJSON_ParseWithLength(p, n);
    return *out ? ERR_OK : err_set(e, ERR_INTERNAL, "corrupt item");
}

enum err_code item_write_in_apply(struct store_txn *t, struct ddb *d, const char *table,
                                  uint64_t id, const struct buf *key, const cJSON *item,
                                  uint64_t *logged, struct err *e)
{
    return item_replace_in_apply(t, d, table, id, key, NULL, false, item, logged, NULL, e);
}

enum err_code item_replace_in_apply(struct store_txn *t, struct ddb *d, const char *table,
                                    uint64_t id, const struct buf *key, const cJSON *old,
                                    bool old_known, const cJSON *item, uint64_t *logged,
                                    struct index_cost *cost, struct err *e)
{
    struct ddb_call call = {.d = d, .op = "write"};
    struct write x;
    enum err_code rc;

    memset(&x, 0, sizeof(x));
    x.old_known = old_known;
    x.known_old = old;
    x.icost = cost;
    x.c = &call;
    x.table = table;
    x.id = id;
    x.key = *key; /* borrowed: not freed here */
    if (item) {
        char *text = cJSON_PrintUnformatted(item);

        x.vlen = strlen(text) + 1;
        x.val = xmalloc(x.vlen);
        x.val[0] = DDB_ITEM_FMT_JSON;
        memcpy(x.val + 1, text, x.vlen - 1);
        free(text);
        x.size = attr_item_size(item);
        x.item = item;
    }
    rc = write_apply(t, &x, e);
    free(x.val);
    free(x.old);
    if (logged)
        *logged = rc ? 0 : x.logged;
    return rc;
}

enum err_code item_service_delete_in_apply(struct store_txn *t, struct ddb *d, const char *table,
                                           uint64_t id, const struct buf *key, uint64_t *logged,
                                           struct err *e)
{
    struct ddb_call call = {.d = d, .op = "service delete"};
    struct write x;
    enum err_code rc;

    memset(&x, 0, sizeof(x));
    x.c = &call;
    x.table = table;
    x.id = id;
    x.key = *key; /* borrowed: not freed here */
    x.service = true;
    rc = write_apply(t, &x, e);
    free(x.old);
    if (logged)
        *logged = rc ? 0 : x.logged;
    return rc;
}

enum err_code item_decode(struct slice v, const char **json, size_t *n, struct err *e)
{
    return item_value(v, json, n, e);
}
