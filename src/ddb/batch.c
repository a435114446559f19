/* batch.c - BatchGetItem and BatchWriteItem (see batch.h). */
#include "batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "index.h"
#include "dp.h"
#include "item.h"
#include "mem.h"
#include "rlog.h"

enum { GET_MAX = 100, WRITE_MAX = 25, RESPONSE_MAX = 16 * 1024 * 1024 };

static const char *const ricm_vals[] = {"SIZE", "NONE", NULL};

static bool dup_key(struct buf *keys, size_t n, const struct buf *k)
{
    for (size_t i = 0; i < n; i++)
        if (keys[i].len == k->len && memcmp(keys[i].ptr, k->ptr, k->len) == 0)
            return true;
    return false;
}

/* ---- BatchGetItem ---- */

/* mixes_projections - one table of @req asks for AttributesToGet and another
 * for a ProjectionExpression: DynamoDB refuses the request as a whole, as it
 * refuses both in one table (nubo-db/dynamodb-conformance, against AWS). */
static bool mixes_projections(const cJSON *req)
{
    const cJSON *tab;
    bool atg = false, pe = false;

    cJSON_ArrayForEach(tab, req)
    {
        atg = atg || cJSON_GetObjectItemCaseSensitive(tab, "AttributesToGet");
        pe = pe || cJSON_GetObjectItemCaseSensitive(tab, "ProjectionExpression");
    }
    return atg && pe;
}

void ddb_batch_get(struct ddb_call *c)
{
    cJSON *req = ddb_arg_obj(c, c->in, "RequestItems");
    cJSON *tab, *atg = NULL; /* the table's AttributesToGet, as asked */
    size_t total = 0;
    int cap;
    struct store_txn *t = NULL;
    struct buf b, un, cc, keys[GET_MAX];
    size_t nkeys = 0;
    struct err e = {0};
    enum err_code rc = ERR_OK;
    bool first_tab = true, first_un = true;

    if (!req && !c->serial)
        ddb_verr_null(c, "requestItems");
    cap = dp_capacity_arg(c);
    if (ddb_args_failed(c))
        return;
    cJSON_ArrayForEach(tab, req)
    {
        cJSON *ks = ddb_arg_arr(c, tab, "Keys");
        int n = cJSON_GetArraySize(ks);
        char path[1100];

        ddb_check_table_name(c, ddb_table_name(c->d, tab->string), "requestItems.key");
        snprintf(path, sizeof(path), "requestItems.%.1024s.member.keys", tab->string);
        if (!ks)
            ddb_verr_null(c, "requestItems.member.keys");
        else
            ddb_check_count(c, ks, path, 1, GET_MAX);
        total += (size_t)n;
    }
    if (req && !req->child)
        ddb_verr(c, "Value '{}' at 'requestItems' failed to satisfy constraint: Member must have "
                    "length greater than or equal to 1");
    if (ddb_args_failed(c))
        return;
    if (total > GET_MAX) {
        ddb_reply_err(c, ERR_INVALID, "Too many items requested for the BatchGetItem call");
        return;
    }
    if (mixes_projections(req)) {
        ddb_reply_err(c, ERR_INVALID,
                      "Can not use both expression and non-expression parameters in the same "
                      "request: Non-expression parameters: {AttributesToGet} Expression "
                      "parameters: {ProjectionExpression}");
        return;
    }
    buf_init(&b, 0);
    buf_init(&un, 0);
    buf_init(&cc, 0);
    buf_puts(&b, "{\"Responses\":{");
    rc = store_read_begin(c->d->store, &t, &e);
    cJSON_ArrayForEach(tab, req)
    {
        struct dp_exprs ex;
        struct table_keys k;
        const cJSON *key;
        bool first = true, consistent = false, un_open = false;
        size_t tab_start = nkeys; /* a key may be asked once per table */
        double units = 0;

        if (rc)
            break;
        cJSON_Delete(atg);
        atg = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(tab, "AttributesToGet"), true);
        if (!dp_attrs_to_get(c, tab) || !dp_exprs_parse(c, tab, DP_PROJ, &ex)) {
            rc = ERR_INVALID;
            e.code = ERR_OK; /* already answered */
            break;
        }
        ddb_arg_bool(c, tab, "ConsistentRead", &consistent);
        rc = table_keys_get(t, ddb_table_name(c->d, tab->string), &k, &e);
        if (rc)
            break;
        if (!first_tab)
            buf_putc(&b, ',');
        first_tab = false;
        buf_json_str(&b, tab->string, strlen(tab->string));
        buf_puts(&b, ":[");
        cJSON_ArrayForEach(key, cJSON_GetObjectItemCaseSensitive(tab, "Keys"))
        {
            cJSON *it = NULL;

            buf_init(&keys[nkeys], 0);
            if (attr_validate_item((cJSON *)key, &e) ||
                item_key_build(&k, key, true, &keys[nkeys], &e)) {
                rc = ERR_INVALID;
                nkeys++;
                break;
            }
            if (dup_key(keys + tab_start, nkeys - tab_start, &keys[nkeys])) {
                nkeys++;
                rc = err_set(&e, ERR_INVALID, "Provided list of item keys contains duplicates");
                break;
            }
            if (b.len > RESPONSE_MAX) { /* the rest is left for the next call */
                if (!un_open) {
                    if (!first_un)
                        buf_putc(&un, ',');
                    first_un = false;
                    buf_json_str(&un, tab->string, strlen(tab->string));
                    buf_puts(&un, ":{\"Keys\":[");
                    un_open = true;
                } else {
                    buf_putc(&un, ',');
                }
                dp_put_json(&un, key);
                nkeys++;
                continue;
            }
            rc = item_read(t, &keys[nkeys], &it, &e);
            nkeys++;
            if (rc)
                break;
            /* each key is read as one GetItem: its item rounded up to 4 KB, a missing one
             * costing the minimum */
            units += dp_read_units(it ? attr_item_size(it) : 0, consistent);
            if (it) {
                if (!first)
                    buf_putc(&b, ',');
                first = false;
                dp_put_item(&b, ex.proj, it);
                cJSON_Delete(it);
            }
        }
        buf_putc(&b, ']');
        if (cc.len)
            buf_putc(&cc, ',');
        dp_capacity_entry(&cc, cap ? cap : 1, tab->string, units);
        if (un_open) {
            buf_puts(&un, "]");
            if (atg) { /* handed back as the caller wrote it */
                buf_puts(&un, ",\"AttributesToGet\":");
                dp_put_json(&un, atg);
            } else if (ex.proj) {
                const cJSON *names =
                    cJSON_GetObjectItemCaseSensitive(tab, "ExpressionAttributeNames");

                buf_printf(&un, ",\"ProjectionExpression\":");
                dp_put_json(&un, cJSON_GetObjectItemCaseSensitive(tab, "ProjectionExpression"));
                if (names) {
                    buf_printf(&un, ",\"ExpressionAttributeNames\":");
                    dp_put_json(&un, names);
                }
            }
            if (consistent)
                buf_puts(&un, ",\"ConsistentRead\":true");
            buf_putc(&un, '}');
        }
    }
    cJSON_Delete(atg);
    store_txn_abort(t);
    for (size_t i = 0; i < nkeys; i++)
        buf_free(&keys[i]);
    if (rc) {
        buf_free(&b);
        buf_free(&un);
        buf_free(&cc);
        if (e.code || *e.msg)
            ddb_reply_err(c, rc, e.msg);
        return;
    }
    buf_puts(&b, "},\"UnprocessedKeys\":{");
    if (un.len)
        buf_append(&b, un.ptr, un.len);
    buf_putc(&b, '}');
    buf_free(&un);
    if (cap) {
        buf_puts(&b, ",\"ConsumedCapacity\":[");
        buf_append(&b, cc.ptr, cc.len);
        buf_putc(&b, ']');
    }
    buf_free(&cc);
    buf_putc(&b, '}');
    ddb_reply(c, &b);
}

/* ---- BatchWriteItem ---- */

struct bw_one {
    const char *table;
    const char *label; /* the table as the request names it (name or ARN) */
    uint64_t id;
    struct buf key;
    cJSON *item;              /* borrowed from the request; NULL: a delete */
    size_t units_bytes;       /* the larger of the old and the new item, for its capacity */
    struct index_cost *icost; /* owned: what its table's indexes took, when asked for */
};

struct bw {
    struct ddb_call *c;
    struct bw_one ops[WRITE_MAX];
    size_t n;
    uint64_t logged;
    int cap;
};

static enum err_code bw_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct bw *x = arg;
    enum err_code rc = ERR_OK;

    x->logged = 0;
    for (size_t i = 0; !rc && i < x->n; i++) {
        struct bw_one *o = &x->ops[i];
        uint64_t lg = 0;
        cJSON *old = NULL;
        size_t old_size, new_size;
        struct index_cost ic;

        rc = item_read(t, &o->key, &old, e);
        if (rc)
            break;
        old_size = old ? attr_item_size(old) : 0;
        new_size = o->item ? attr_item_size(o->item) : 0;
        o->units_bytes = new_size > old_size ? new_size : old_size;
        ic.n = 0;
        rc = item_replace_in_apply(t, x->c->d, o->table, o->id, &o->key, old, true, o->item, &lg,
                                   x->cap ? &ic : NULL, e);
        free(o->icost);
        o->icost = NULL;
        if (!rc && x->cap && ic.n) {
            o->icost = xmalloc(sizeof(ic));
            memcpy(o->icost, &ic, sizeof(ic));
        }
        cJSON_Delete(old);
        if (lg > x->logged)
            x->logged = lg;
    }
    return rc;
}

static void bw_done(void *arg, enum err_code rc, const struct err *e)
{
    struct bw *x = arg;
    struct buf b;

    for (size_t i = 0; i < x->n; i++)
        buf_free(&x->ops[i].key);
    if (rc) {
        for (size_t i = 0; i < x->n; i++)
            free(x->ops[i].icost);
        ddb_reply_err(x->c, rc, e->msg);
        return;
    }
    if (x->logged)
        repl_log_committed(x->logged);
    buf_init(&b, 0);
    buf_puts(&b, "{\"UnprocessedItems\":{}");
    if (x->cap) {
        /* one entry per table, in the order the tables first appear */
        buf_puts(&b, ",\"ConsumedCapacity\":[");
        for (size_t i = 0; i < x->n; i++) {
            struct index_cost ic = {0};
            double units = 0;
            bool seen = false;

            for (size_t j = 0; j < i && !seen; j++)
                seen = strcmp(x->ops[j].label, x->ops[i].label) == 0;
            if (seen)
                continue;
            for (size_t j = i; j < x->n; j++)
                if (strcmp(x->ops[j].label, x->ops[i].label) == 0) {
                    units += dp_write_units(x->ops[j].units_bytes);
                    index_cost_add(&ic, x->ops[j].icost);
                }
            if (i)
                buf_putc(&b, ',');
            dp_capacity_units(&b, x->cap, x->ops[i].label, units, &ic, NULL);
        }
        buf_putc(&b, ']');
    }
    for (size_t i = 0; i < x->n; i++)
        free(x->ops[i].icost);
    buf_putc(&b, '}');
    ddb_reply(x->c, &b);
}

/* put_key_typed - whether item @obj holds each key attribute of @k, of the
 * key's type. In a BatchWriteItem DynamoDB refuses a PutRequest's item that
 * does not with the generic "The provided key element does not match the
 * schema", where PutItem names the key ("Missing the key ...", "Type mismatch
 * for key ..."); an empty key value is worded as in PutItem. */
static bool put_key_typed(const struct table_keys *k, const cJSON *obj)
{
    static const enum attr_type want[] = {ATTR_S, ATTR_N, ATTR_B}; /* by keys_type */
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(obj, k->hash);
    const cJSON *r = k->has_range ? cJSON_GetObjectItemCaseSensitive(obj, k->range) : NULL;

    return h && attr_type_of(h) == want[k->htype] &&
           (!k->has_range || (r && attr_type_of(r) == want[k->rtype]));
}

void ddb_batch_write(struct ddb_call *c)
{
    cJSON *req = ddb_arg_obj(c, c->in, "RequestItems");
    struct bw *x = arena_calloc(c->a, sizeof(*x));
    cJSON *tab, *w;
    size_t total = 0;
    struct err e = {0};

    x->c = c;
    if (!req && !c->serial)
        ddb_verr_null(c, "requestItems");
    x->cap = dp_capacity_arg(c);
    ddb_arg_enum(c, c->in, "ReturnItemCollectionMetrics", "returnItemCollectionMetrics", ricm_vals);
    if (ddb_args_failed(c))
        return;
    cJSON_ArrayForEach(tab, req)
    {
        int n = cJSON_GetArraySize(tab);

        ddb_check_table_name(c, ddb_table_name(c->d, tab->string), "requestItems.key");
        if (!cJSON_IsArray(tab)) {
            c->serial = true;
            snprintf(c->serial_msg, sizeof(c->serial_msg), "Unexpected value type in RequestItems");
        } else if (n < 1 || n > WRITE_MAX) {
            ddb_verr(c,
                     "Value '{%s=[%s]}' at 'requestItems' failed to satisfy constraint: Map value "
                     "must satisfy constraint: [Member must have length less than or equal to "
                     "25, Member must have length greater than or equal to 1]",
                     tab->string, n ? "..." : "");
        }
        total += (size_t)n;
    }
    if (req && !req->child)
        ddb_verr(c, "Value '{}' at 'requestItems' failed to satisfy constraint: Member must have "
                    "length greater than or equal to 1");
    if (ddb_args_failed(c))
        return;
    if (total > WRITE_MAX) {
        ddb_reply_err(c, ERR_INVALID, "Too many items requested for the BatchWriteItem call");
        return;
    }
    cJSON_ArrayForEach(tab, req)
    {
        struct table_keys k;

        if (!dp_lookup_keys(c, ddb_table_name(c->d, tab->string), &k))
            goto fail;
        cJSON_ArrayForEach(w, tab)
        {
            cJSON *put = ddb_arg_obj(c, w, "PutRequest");
            cJSON *del = ddb_arg_obj(c, w, "DeleteRequest");
            struct bw_one *o = &x->ops[x->n];
            cJSON *obj = put   ? ddb_arg_obj(c, put, "Item")
                         : del ? ddb_arg_obj(c, del, "Key")
                               : NULL;

            if (ddb_args_failed(c))
                goto fail;
            if ((!put == !del) || !obj) {
                ddb_reply_err(c, ERR_INVALID,
                              "Supplied AttributeValue has more than one datatypes set, must "
                              "contain exactly one of the supported datatypes");
                goto fail;
            }
            buf_init(&o->key, 0);
            x->n++;
            if (attr_validate_item(obj, &e)) {
                ddb_reply_err(c, ERR_INVALID, e.msg);
                goto fail;
            }
            if (put && !put_key_typed(&k, obj)) {
                ddb_reply_err(c, ERR_INVALID, "The provided key element does not match the schema");
                goto fail;
            }
            if (item_key_build(&k, obj, del != NULL, &o->key, &e)) {
                ddb_reply_err(c, ERR_INVALID, e.msg);
                goto fail;
            }
            if (put && attr_item_size(obj) > DDB_ITEM_MAX) {
                ddb_reply_err(c, ERR_INVALID, "Item size has exceeded the maximum allowed size");
                goto fail;
            }
            for (size_t i = 0; i + 1 < x->n; i++)
                if (x->ops[i].id == k.id && x->ops[i].key.len == o->key.len &&
                    memcmp(x->ops[i].key.ptr, o->key.ptr, o->key.len) == 0) {
                    ddb_reply_err(c, ERR_INVALID, "Provided list of item keys contains duplicates");
                    goto fail;
                }
            o->table = ddb_table_name(c->d, tab->string);
            o->label = tab->string;
            o->id = k.id;
            o->item = put ? obj : NULL;
        }
    }
    store_submit(c->d->store, bw_apply, bw_done, x);
    return;
fail:
    for (size_t i = 0; i < x->n; i++)
        buf_free(&x->ops[i].key);
}
