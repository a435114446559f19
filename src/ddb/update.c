/* update.c - UpdateItem (see update.h). */
#include "update.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "dp.h"
#include "item.h"
#include "mem.h"
#include "rlog.h"

static const char *const rv_vals[] = {"NONE",    "ALL_OLD",     "UPDATED_OLD",
                                      "ALL_NEW", "UPDATED_NEW", NULL};
static const char *const rvf_vals[] = {"ALL_OLD", "NONE", NULL};
static const char *const ricm_vals[] = {"SIZE", "NONE", NULL};

enum { RV_NONE, RV_ALL_OLD, RV_UPDATED_OLD, RV_ALL_NEW, RV_UPDATED_NEW };

struct update {
    struct ddb_call *c;
    const char *table;
    uint64_t id;
    struct buf key;
    const cJSON *keyobj; /* the request's Key */
    struct dp_exprs *ex;
    int rv, cap;
    bool old_on_fail;
    /* results, filled by the apply */
    char *attrs; /* owned: the Attributes to return, or the old item on a failed condition */
    size_t units_bytes;
    uint64_t logged;
};

static char *print(const cJSON *v)
{
    return cJSON_PrintUnformatted(v);
}

static enum err_code update_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct update *x = arg;
    cJSON *old = NULL, *item = NULL, *ret = NULL;
    size_t old_size = 0, new_size;
    bool ok = true;
    enum err_code rc;

    free(x->attrs);
    x->attrs = NULL;
    x->logged = 0;
    rc = item_read(t, &x->key, &old, e);
    if (rc)
        return rc;
    if (old)
        old_size = attr_item_size(old);
    if (x->ex->cond) {
        rc = expr_eval_condition(x->ex->cond, old, &ok, e);
        if (rc)
            goto out;
        if (!ok) {
            if (x->old_on_fail && old)
                x->attrs = print(old);
            rc = err_set(e, ERR_CONFLICT, "The conditional request failed");
            goto out;
        }
    }
    item = old ? cJSON_Duplicate(old, true) : cJSON_Duplicate(x->keyobj, true);
    rc = expr_apply_update(x->ex->upd, item, e);
    if (rc)
        goto out;
    new_size = attr_item_size(item);
    if (new_size > DDB_ITEM_MAX) {
        rc = err_set(e, ERR_INVALID, "Item size to update has exceeded the maximum allowed size");
        goto out;
    }
    rc =
        item_replace_in_apply(t, x->c->d, x->table, x->id, &x->key, old, true, item, &x->logged, e);
    if (rc)
        goto out;
    x->units_bytes = new_size > old_size ? new_size : old_size;
    switch (x->rv) {
    case RV_ALL_OLD:
        if (old)
            x->attrs = print(old);
        break;
    case RV_ALL_NEW:
        x->attrs = print(item);
        break;
    case RV_UPDATED_OLD:
    case RV_UPDATED_NEW:
        ret = expr_update_project(x->ex->upd, x->rv == RV_UPDATED_OLD ? old : item);
        if (ret && ret->child)
            x->attrs = print(ret);
        break;
    default:
        break;
    }
out:
    cJSON_Delete(ret);
    cJSON_Delete(item);
    cJSON_Delete(old);
    return rc;
}

static void update_done(void *arg, enum err_code rc, const struct err *e)
{
    struct update *x = arg;
    struct ddb_call *c = x->c;
    struct buf b;

    buf_free(&x->key);
    if (rc == ERR_OK && x->logged)
        repl_log_committed(x->logged);
    buf_init(&b, 0);
    if (rc == ERR_CONFLICT && x->attrs) {
        ddb_error_open(&b, "ConditionalCheckFailedException", e->msg);
        buf_puts(&b, ",\"Item\":");
        buf_puts(&b, x->attrs);
        buf_putc(&b, '}');
        free(x->attrs);
        ddb_reply_status(c, 400, &b);
        return;
    }
    if (rc) {
        free(x->attrs);
        buf_free(&b);
        ddb_reply_err(c, rc, e->msg);
        return;
    }
    buf_putc(&b, '{');
    if (x->attrs) {
        buf_puts(&b, "\"Attributes\":");
        buf_puts(&b, x->attrs);
        free(x->attrs);
    }
    if (x->cap) {
        if (b.len > 1)
            buf_putc(&b, ',');
        ddb_capacity(&b, x->cap, x->table, dp_write_units(x->units_bytes));
    }
    buf_putc(&b, '}');
    ddb_reply(c, &b);
}

void ddb_update_item(struct ddb_call *c)
{
    const char *table = ddb_arg_str(c, c->in, "TableName");
    cJSON *key = ddb_arg_obj(c, c->in, "Key");
    struct update *x = arena_calloc(c->a, sizeof(*x));
    struct dp_exprs *ex = arena_calloc(c->a, sizeof(*ex));
    struct table_keys k;
    struct err e = {0};
    const char *touched;
    char msg[400];
    int rvf;

    x->c = c;
    ddb_check_table_name(c, table, "tableName");
    if (!key && !c->serial)
        ddb_verr_null(c, "key");
    x->rv = ddb_arg_enum(c, c->in, "ReturnValues", "returnValues", rv_vals);
    rvf = ddb_arg_enum(c, c->in, "ReturnValuesOnConditionCheckFailure",
                       "returnValuesOnConditionCheckFailure", rvf_vals);
    x->cap = dp_capacity_arg(c);
    ddb_arg_enum(c, c->in, "ReturnItemCollectionMetrics", "returnItemCollectionMetrics", ricm_vals);
    if (ddb_args_failed(c))
        return;
    if (dp_legacy(
            c, (const char *const[]){"AttributeUpdates", "Expected", "ConditionalOperator", NULL}))
        return;
    if (x->rv < 0)
        x->rv = RV_NONE;
    x->old_on_fail = rvf == 0;
    if (attr_validate_item(key, &e)) {
        ddb_reply_err(c, ERR_INVALID, e.msg);
        return;
    }
    if (!dp_exprs_parse(c, c->in, DP_COND | DP_UPDATE, ex))
        return;
    if (!dp_lookup_keys(c, table, &k))
        return;
    buf_init(&x->key, 0);
    if (item_key_build(&k, key, true, &x->key, &e)) {
        buf_free(&x->key);
        ddb_reply_err(c, ERR_INVALID, e.msg);
        return;
    }
    touched = expr_update_key_touched(ex->upd, k.hash, k.has_range ? k.range : NULL);
    if (touched) {
        buf_free(&x->key);
        snprintf(msg, sizeof(msg),
                 "One or more parameter values were invalid: Cannot update attribute %.200s. "
                 "This attribute is part of the key",
                 touched);
        ddb_reply_err(c, ERR_INVALID, msg);
        return;
    }
    x->table = table;
    x->id = k.id;
    x->keyobj = key;
    x->ex = ex;
    store_submit(c->d->store, update_apply, update_done, x);
}
