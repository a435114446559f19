/* update.c - UpdateItem (see update.h). */
#include "update.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "index.h"
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
    struct index_cost *icost; /* when capacity is asked for */
    uint64_t logged;
    const char *icm; /* the ItemCollectionMetrics member to answer, or NULL */
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
    if (!old && expr_update_only_removes(x->ex->upd)) {
        /* Removals from a missing item remove nothing, whatever their paths
         * (REMOVE a.b is not an invalid path there), and create nothing. */
        x->units_bytes = attr_item_size(item);
        goto out;
    }
    rc = expr_apply_update(x->ex->upd, item, e);
    if (rc)
        goto out;
    new_size = attr_item_size(item);
    if (new_size > DDB_ITEM_MAX) {
        rc = err_set(e, ERR_INVALID, "Item size to update has exceeded the maximum allowed size");
        goto out;
    }
    /* an UpdateExpression's empty index key has its own wording */
    rc = index_check_item(t, x->id, item, true, e);
    if (rc)
        goto out;
    rc = item_replace_in_apply(t, x->c->d, x->table, x->id, &x->key, old, true, item, &x->logged,
                               x->icost, e);
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
        ddb_error_open_with(&b, "ConditionalCheckFailedException", e->msg);
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
        buf_puts(&b, "\"ConsumedCapacity\":");
        dp_capacity_units(&b, x->cap, x->table, dp_write_units(x->units_bytes), x->icost, NULL);
    }
    if (x->icm) {
        if (b.len > 1)
            buf_putc(&b, ',');
        buf_puts(&b, x->icm);
    }
    buf_putc(&b, '}');
    ddb_reply(c, &b);
}

/* action_takes - whether AttributeUpdates' ADD (numbers, sets, lists) or
 * DELETE with a value (sets) takes @val's type; if not, DynamoDB's message in
 * @msg. A value of no known type is left to the value checks. */
static bool action_takes(const cJSON *val, const char *action, char *msg, size_t size)
{
    enum attr_type t = attr_type_of(val);
    bool ok = t == ATTR_INVALID || t == ATTR_SS || t == ATTR_NS || t == ATTR_BS ||
              (action[0] == 'A' && (t == ATTR_N || t == ATTR_L));

    if (!ok)
        snprintf(msg, size,
                 "One or more parameter values were invalid: Action %s is not supported for the "
                 "type %s",
                 action, attr_type_name(t));
    return ok;
}

/* legacy_updates - rewrite a request's AttributeUpdates into the equivalent
 * UpdateExpression with generated ExpressionAttributeNames/Values, so both
 * forms share one evaluator. PUT is SET, DELETE without a value is REMOVE,
 * DELETE with a value removes set members, ADD adds numbers and set members
 * and appends to lists. Replies and returns false on bad input. Call
 * dp_legacy_mix (naming AttributeUpdates) first: the request has no
 * expression parameters of its own. */
static bool legacy_updates(struct ddb_call *c, bool *converted)
{
    cJSON *au = cJSON_GetObjectItemCaseSensitive(c->in, "AttributeUpdates");
    cJSON *names, *values, *u;
    struct buf set, rm, add, del;
    char nm[32], vn[32], msg[300];
    struct err ve = {0};
    int i = 0;

    if (!au || cJSON_IsNull(au))
        return true;
    if (!cJSON_IsObject(au)) {
        c->serial = true;
        snprintf(c->serial_msg, sizeof(c->serial_msg), "Unexpected value type in AttributeUpdates");
        ddb_args_failed(c);
        return false;
    }
    if (!au->child) {
        cJSON_DeleteItemFromObjectCaseSensitive(c->in, "AttributeUpdates");
        return true;
    }
    names = cJSON_CreateObject();
    values = cJSON_CreateObject();
    buf_init(&set, 0);
    buf_init(&rm, 0);
    buf_init(&add, 0);
    buf_init(&del, 0);
    cJSON_ArrayForEach(u, au)
    {
        const cJSON *act = cJSON_GetObjectItemCaseSensitive(u, "Action");
        const cJSON *val = cJSON_GetObjectItemCaseSensitive(u, "Value");
        const char *a = cJSON_IsString(act) ? act->valuestring : "PUT";
        struct buf *to;

        if (!cJSON_IsObject(u) || (act && !cJSON_IsNull(act) && !cJSON_IsString(act))) {
            snprintf(msg, sizeof(msg), "Invalid AttributeUpdates entry for attribute %.60s",
                     u->string);
            goto bad;
        }
        if (val && cJSON_IsNull(val))
            val = NULL;
        if (val && cJSON_IsObject(val) && attr_validate((cJSON *)val, &ve)) {
            snprintf(msg, sizeof(msg), "%s", ve.msg); /* "An number set  may not be empty" */
            goto bad;
        }
        if (strlen(u->string) > ATTR_NAME_MAX) {
            snprintf(msg, sizeof(msg),
                     "One or more parameter values were invalid: " ATTR_NAME_TOO_LONG);
            goto bad;
        }
        snprintf(nm, sizeof(nm), "#u%d", i);
        snprintf(vn, sizeof(vn), ":u%d", i);
        i++;
        cJSON_AddStringToObject(names, nm, u->string);
        if (strcmp(a, "PUT") == 0) {
            if (!val) {
                snprintf(msg, sizeof(msg),
                         "One or more parameter values were invalid: Only DELETE action is "
                         "allowed when no attribute value is specified");
                goto bad;
            }
            to = &set;
        } else if (strcmp(a, "DELETE") == 0) {
            if (val && !action_takes(val, "DELETE", msg, sizeof(msg)))
                goto bad;
            to = val ? &del : &rm;
        } else if (strcmp(a, "ADD") == 0) {
            if (!val) {
                snprintf(msg, sizeof(msg),
                         "One or more parameter values were invalid: Only DELETE action is "
                         "allowed when no attribute value is specified");
                goto bad;
            }
            if (!action_takes(val, "ADD", msg, sizeof(msg)))
                goto bad;
            to = cJSON_GetObjectItemCaseSensitive(val, "L") ? &set : &add;
        } else {
            snprintf(msg, sizeof(msg),
                     "1 validation error detected: Value '%.40s' at "
                     "'attributeUpdates.%.60s.member.action' failed to satisfy constraint: Member "
                     "must satisfy enum value set: [ADD, PUT, DELETE]",
                     a, u->string);
            goto bad;
        }
        if (val)
            cJSON_AddItemToObject(values, vn, cJSON_Duplicate(val, true));
        buf_puts(to, to->len ? ", " : "");
        buf_puts(to, nm);
        if (to == &set && strcmp(a, "ADD") == 0) {
            /* ADD of a list appends to the list (or starts one) */
            buf_puts(to, " = list_append(if_not_exists(");
            buf_puts(to, nm);
            buf_puts(to, ", :e), ");
            buf_puts(to, vn);
            buf_putc(to, ')');
            if (!cJSON_GetObjectItemCaseSensitive(values, ":e"))
                cJSON_AddItemToObject(values, ":e", cJSON_Parse("{\"L\":[]}"));
        } else if (to == &set) {
            buf_puts(to, " = ");
            buf_puts(to, vn);
        } else if (to != &rm) {
            buf_putc(to, ' ');
            buf_puts(to, vn);
        }
    }
    {
        struct buf ue;

        buf_init(&ue, 0);
        if (set.len) {
            buf_puts(&ue, "SET ");
            buf_append(&ue, set.ptr, set.len);
        }
        if (rm.len) {
            buf_puts(&ue, ue.len ? " REMOVE " : "REMOVE ");
            buf_append(&ue, rm.ptr, rm.len);
        }
        if (add.len) {
            buf_puts(&ue, ue.len ? " ADD " : "ADD ");
            buf_append(&ue, add.ptr, add.len);
        }
        if (del.len) {
            buf_puts(&ue, ue.len ? " DELETE " : "DELETE ");
            buf_append(&ue, del.ptr, del.len);
        }
        buf_putc(&ue, '\0');
        cJSON_AddStringToObject(c->in, "UpdateExpression", ue.ptr);
        buf_free(&ue);
    }
    cJSON_AddItemToObject(c->in, "ExpressionAttributeNames", names);
    if (values->child)
        cJSON_AddItemToObject(c->in, "ExpressionAttributeValues", values);
    else
        cJSON_Delete(values);
    cJSON_DeleteItemFromObjectCaseSensitive(c->in, "AttributeUpdates");
    *converted = true;
    buf_free(&set);
    buf_free(&rm);
    buf_free(&add);
    buf_free(&del);
    return true;
bad:
    cJSON_Delete(names);
    cJSON_Delete(values);
    buf_free(&set);
    buf_free(&rm);
    buf_free(&add);
    buf_free(&del);
    ddb_reply_err(c, ERR_INVALID, msg);
    return false;
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
    bool legacy = false;
    int rvf, ricm;

    x->c = c;
    ddb_check_table_name(c, table, "tableName");
    if (!key && !c->serial)
        ddb_verr_null(c, "key");
    x->rv = ddb_arg_enum(c, c->in, "ReturnValues", "returnValues", rv_vals);
    rvf = ddb_arg_enum(c, c->in, "ReturnValuesOnConditionCheckFailure",
                       "returnValuesOnConditionCheckFailure", rvf_vals);
    x->cap = dp_capacity_arg(c);
    if (x->cap)
        x->icost = arena_calloc(c->a, sizeof(*x->icost));
    ricm = ddb_arg_enum(c, c->in, "ReturnItemCollectionMetrics", "returnItemCollectionMetrics",
                        ricm_vals);
    if (ddb_args_failed(c))
        return;
    if (!dp_legacy_mix(
            c, c->in,
            (const char *const[]){"Expected", "ConditionalOperator", "AttributeUpdates", NULL}))
        return;
    if (!legacy_updates(c, &legacy) ||
        !dp_legacy_conds(c, c->in, "Expected", "ConditionExpression", false))
        return;
    if (dp_legacy(c, (const char *const[]){"ConditionalOperator", NULL}))
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
    if (legacy)
        expr_update_set_legacy(ex->upd);
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
    x->icm = dp_item_collection(c, ricm, &k, key);
    x->keyobj = key;
    x->ex = ex;
    store_submit(c->d->store, update_apply, update_done, x);
}
