/* txn.c - TransactWriteItems and TransactGetItems (see txn.h). */
#include "txn.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "index.h"
#include "clock.h"
#include "dp.h"
#include "item.h"
#include "mem.h"
#include "rlog.h"

enum {
    TXN_MAX = 100,
    TXN_BYTES_MAX = 4 * 1024 * 1024,
    TOKEN_MAX = 36,
    TOKEN_TTL_MS = 10 * 60 * 1000,
};

enum { A_CHECK, A_PUT, A_UPDATE, A_DELETE };
static const char *const action_names[] = {"ConditionCheck", "Put", "Update", "Delete"};
static const char *const action_paths[] = {"conditionCheck", "put", "update", "delete"};
static const char *const rvf_vals[] = {"ALL_OLD", "NONE", NULL};
static const char *const ricm_vals[] = {"SIZE", "NONE", NULL};

static const char *const dup_msg =
    "Transaction request cannot include multiple operations on one item";

/* ---- idempotency tokens ---- */

struct token {
    const struct ddb *d;
    char token[TOKEN_MAX + 1];
    char *req; /* owned: the request's JSON text */
    int64_t at_ms;
    bool done;
    char *resp; /* owned: the successful response body */
    struct token *next;
};

static pthread_mutex_t tok_mu = PTHREAD_MUTEX_INITIALIZER;
static struct token *toks;

static void token_free(struct token *t)
{
    free(t->req);
    free(t->resp);
    free(t);
}

static int member_cmp(const void *a, const void *b)
{
    return strcmp((*(const cJSON *const *)a)->string, (*(const cJSON *const *)b)->string);
}

/* req_canon - @v as JSON with every object's members in name order: the
 * request an idempotency token is compared by, so that a retry that lists an
 * item's attributes in another order is the same request, as in DynamoDB. */
static void req_canon(struct buf *b, const cJSON *v)
{
    const cJSON *m;
    size_t n = 0, i = 0;

    if (cJSON_IsObject(v)) {
        const cJSON **ms;

        cJSON_ArrayForEach(m, v) n++;
        ms = xmalloc((n ? n : 1) * sizeof(*ms));
        cJSON_ArrayForEach(m, v) ms[i++] = m;
        qsort(ms, n, sizeof(*ms), member_cmp);
        buf_putc(b, '{');
        for (i = 0; i < n; i++) {
            if (i)
                buf_putc(b, ',');
            buf_json_str(b, ms[i]->string, strlen(ms[i]->string));
            buf_putc(b, ':');
            req_canon(b, ms[i]);
        }
        buf_putc(b, '}');
        free(ms);
    } else if (cJSON_IsArray(v)) {
        buf_putc(b, '[');
        cJSON_ArrayForEach(m, v)
        {
            if (i++)
                buf_putc(b, ',');
            req_canon(b, m);
        }
        buf_putc(b, ']');
    } else {
        char *t = cJSON_PrintUnformatted(v);

        buf_puts(b, t ? t : "null");
        free(t);
    }
}

/* token_claim - 0: new (registered as in progress); 1: replay (@resp owned
 * copy); 2: mismatch; 3: in progress. Entries older than 10 minutes go. */
static int token_claim(const struct ddb *d, const char *token, const char *req, char **resp)
{
    int64_t now = clock_wall_ms();
    struct token **pp, *t;
    int out = 0;

    pthread_mutex_lock(&tok_mu);
    for (pp = &toks; (t = *pp);) {
        if (t->done && now - t->at_ms > TOKEN_TTL_MS) {
            *pp = t->next;
            token_free(t);
            continue;
        }
        if (t->d == d && strcmp(t->token, token) == 0)
            break;
        pp = &t->next;
    }
    if (t) {
        if (strcmp(t->req, req) != 0)
            out = 2;
        else if (!t->done)
            out = 3;
        else {
            out = 1;
            *resp = xstrdup(t->resp);
        }
    } else {
        t = xcalloc(1, sizeof(*t));
        t->d = d;
        snprintf(t->token, sizeof(t->token), "%s", token);
        t->req = xstrdup(req);
        t->at_ms = now;
        t->next = toks;
        toks = t;
    }
    pthread_mutex_unlock(&tok_mu);
    return out;
}

/* token_finish - record the outcome: @resp (NULL: the call failed, the token
 * is forgotten so a retry runs again). */
static void token_finish(const struct ddb *d, const char *token, const char *resp)
{
    struct token **pp, *t;

    pthread_mutex_lock(&tok_mu);
    for (pp = &toks; (t = *pp); pp = &t->next)
        if (t->d == d && strcmp(t->token, token) == 0 && !t->done)
            break;
    if (t) {
        if (resp) {
            t->done = true;
            t->resp = xstrdup(resp);
            t->at_ms = clock_wall_ms();
        } else {
            *pp = t->next;
            token_free(t);
        }
    }
    pthread_mutex_unlock(&tok_mu);
}

/* ---- TransactWriteItems ---- */

enum { R_NONE, R_COND, R_VALIDATION };

struct tw_one {
    int kind;
    const char *table;
    uint64_t id;
    struct buf key;
    cJSON *obj; /* borrowed: the Put's Item or the Key */
    struct dp_exprs ex;
    bool old_on_fail;
    size_t size;
    /* results of the apply */
    size_t units_bytes;       /* the larger of the old and the new item, for the capacity */
    struct index_cost *icost; /* owned: what its table's indexes took, when asked for */
    int code;
    char *msg;    /* owned: the ValidationError message */
    char *old;    /* owned: the item for ReturnValuesOnConditionCheckFailure */
    cJSON *nitem; /* owned: an Update's new item */
};

struct tw {
    struct ddb_call *c;
    struct tw_one ops[TXN_MAX];
    size_t n;
    const char *token;
    int cap;
    bool canceled;
    uint64_t logged;
};

static void tw_reset(struct tw *x)
{
    for (size_t i = 0; i < x->n; i++) {
        struct tw_one *o = &x->ops[i];

        o->code = R_NONE;
        free(o->msg);
        free(o->old);
        cJSON_Delete(o->nitem);
        free(o->icost);
        o->msg = o->old = NULL;
        o->nitem = NULL;
        o->icost = NULL;
    }
    x->canceled = false;
    x->logged = 0;
}

/* tw_check - evaluate action @o against the current state (@old may be NULL). */
static enum err_code tw_check(struct tw_one *o, const cJSON *old, struct err *e)
{
    bool ok = true;
    enum err_code rc;
    size_t nsize;

    if (o->ex.cond) {
        rc = expr_eval_condition(o->ex.cond, old, &ok, e);
        if (rc)
            return rc;
        if (!ok) {
            o->code = R_COND;
            if (o->old_on_fail && old)
                o->old = cJSON_PrintUnformatted(old);
            return ERR_OK;
        }
    }
    if (o->kind != A_UPDATE)
        return ERR_OK;
    o->nitem = cJSON_Duplicate(old ? old : o->obj, true);
    rc = expr_apply_update(o->ex.upd, o->nitem, e);
    if (rc) {
        o->code = R_VALIDATION;
        o->msg = xstrdup(e->msg);
        *e = (struct err){0};
        return ERR_OK;
    }
    nsize = attr_item_size(o->nitem);
    if (nsize > DDB_ITEM_MAX) {
        o->code = R_VALIDATION;
        o->msg = xstrdup("Item size to update has exceeded the maximum allowed size");
    }
    o->size = nsize;
    return ERR_OK;
}

/* tw_check_indexes - the secondary index keys of the item action @o writes.
 * DynamoDB cancels the transaction with a ValidationError reason for an index
 * key of another type, and refuses the request for an empty one (the
 * conformance suite's captures from AWS, 2026-06). */
static enum err_code tw_check_indexes(struct store_txn *t, struct tw_one *o, struct err *e)
{
    const cJSON *item = o->kind == A_PUT ? o->obj : o->nitem;
    struct err ie = {0};

    if (!item || !index_check_item(t, o->id, item, o->kind == A_UPDATE, &ie))
        return ERR_OK;
    if (strstr(ie.msg, "Type mismatch for Index Key")) {
        o->code = R_VALIDATION;
        o->msg = xstrdup(ie.msg);
        return ERR_OK;
    }
    *e = ie;
    return e->code;
}

static enum err_code tw_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct tw *x = arg;
    cJSON *olds[TXN_MAX] = {0}; /* owned: each action's live item, read once */
    enum err_code rc = ERR_OK;

    tw_reset(x);
    for (size_t i = 0; !rc && i < x->n; i++) {
        struct tw_one *o = &x->ops[i];
        struct table_keys k;

        rc = table_keys_get(t, o->table, &k, e);
        if (!rc && k.id != o->id)
            rc = err_set(e, ERR_NOTFOUND, "Requested resource not found");
        if (!rc)
            rc = item_read(t, &o->key, &olds[i], e);
        if (!rc)
            rc = tw_check(o, olds[i], e);
        if (!rc && o->code == R_NONE && (o->kind == A_PUT || o->kind == A_UPDATE))
            rc = tw_check_indexes(t, o, e);
        if (!rc && o->code != R_NONE)
            x->canceled = true;
    }
    if (!rc && x->canceled)
        rc = err_set(e, ERR_CONFLICT, "Transaction cancelled");
    /* one action per item: no write below changes another action's item, so
     * the item each action read above is still the live one */
    for (size_t i = 0; !rc && i < x->n; i++) {
        struct tw_one *o = &x->ops[i];
        const cJSON *item = o->kind == A_PUT ? o->obj : o->kind == A_UPDATE ? o->nitem : NULL;
        size_t old_size = olds[i] ? attr_item_size(olds[i]) : 0;
        size_t new_size = item ? attr_item_size(item) : 0;
        struct index_cost ic;
        uint64_t lg = 0;

        o->units_bytes = o->size;
        if (o->kind == A_CHECK)
            continue;
        o->units_bytes = new_size > old_size ? new_size : old_size;
        ic.n = 0;
        rc = item_replace_in_apply(t, x->c->d, o->table, o->id, &o->key, olds[i], true, item, &lg,
                                   x->cap ? &ic : NULL, e);
        if (!rc && ic.n) {
            o->icost = xmalloc(sizeof(ic));
            memcpy(o->icost, &ic, sizeof(ic));
        }
        if (lg > x->logged)
            x->logged = lg;
    }
    for (size_t i = 0; i < x->n; i++)
        cJSON_Delete(olds[i]);
    return rc;
}

static void tw_free(struct tw *x)
{
    tw_reset(x);
    for (size_t i = 0; i < x->n; i++)
        buf_free(&x->ops[i].key);
}

/* tw_canceled - the TransactionCanceledException body into @b. */
static void tw_canceled(struct tw *x, struct buf *b)
{
    struct buf msg;

    buf_init(&msg, 0);
    buf_puts(&msg, "Transaction cancelled, please refer cancellation reasons for specific "
                   "reasons [");
    for (size_t i = 0; i < x->n; i++) {
        static const char *const codes[] = {"None", "ConditionalCheckFailed", "ValidationError"};

        buf_printf(&msg, "%s%s", i ? ", " : "", codes[x->ops[i].code]);
    }
    buf_putc(&msg, ']');
    ddb_error_open_with(b, "TransactionCanceledException", msg.ptr);
    buf_puts(b, ",\"CancellationReasons\":[");
    for (size_t i = 0; i < x->n; i++) {
        struct tw_one *o = &x->ops[i];

        if (i)
            buf_putc(b, ',');
        if (o->code == R_NONE) {
            buf_puts(b, "{\"Code\":\"None\"}");
        } else if (o->code == R_COND) {
            buf_puts(b, "{\"Code\":\"ConditionalCheckFailed\",\"Message\":\"The conditional "
                        "request failed\"");
            if (o->old)
                buf_printf(b, ",\"Item\":%s", o->old);
            buf_putc(b, '}');
        } else {
            buf_puts(b, "{\"Code\":\"ValidationError\",\"Message\":");
            buf_json_str(b, o->msg, strlen(o->msg));
            buf_putc(b, '}');
        }
    }
    buf_puts(b, "]}");
    buf_free(&msg);
}

static void tw_done(void *arg, enum err_code rc, const struct err *e)
{
    struct tw *x = arg;
    struct ddb_call *c = x->c;
    struct buf b;

    if (rc == ERR_OK && x->logged)
        repl_log_committed(x->logged);
    if (rc) {
        if (x->token)
            token_finish(c->d, x->token, NULL);
        if (rc == ERR_CONFLICT && x->canceled) {
            buf_init(&b, 0);
            tw_canceled(x, &b);
            tw_free(x);
            ddb_reply_status(c, 400, &b);
        } else {
            tw_free(x);
            ddb_reply_err(c, rc, e->msg);
        }
        return;
    }
    buf_init(&b, 0);
    buf_putc(&b, '{');
    if (x->cap) {
        buf_puts(&b, "\"ConsumedCapacity\":[");
        for (size_t i = 0; i < x->n; i++) {
            struct index_cost ic = {0};
            bool seen = false;
            double units = 0;

            for (size_t j = 0; j < i; j++)
                seen = seen || strcmp(x->ops[j].table, x->ops[i].table) == 0;
            if (seen)
                continue;
            /* a transaction writes each item, and its index entries, twice */
            for (size_t j = i; j < x->n; j++)
                if (strcmp(x->ops[j].table, x->ops[i].table) == 0) {
                    units += 2 * dp_write_units(x->ops[j].units_bytes);
                    index_cost_add(&ic, x->ops[j].icost);
                    index_cost_add(&ic, x->ops[j].icost);
                }
            if (b.len > 22)
                buf_putc(&b, ',');
            dp_capacity_units(&b, x->cap, x->ops[i].table, units, &ic, "WriteCapacityUnits");
        }
        buf_putc(&b, ']');
    }
    buf_putc(&b, '}');
    if (x->token)
        token_finish(c->d, x->token, b.ptr);
    tw_free(x);
    ddb_reply(c, &b);
}

/* tw_action - decode TransactItems[@i] into @o: TW_OK, TW_ANSWERED when @c was
 * answered, or TW_INVALID when the action's key or item is invalid (the message
 * kept in @o: DynamoDB cancels the transaction with a ValidationError reason). */
enum { TW_ANSWERED, TW_OK, TW_INVALID };

static int tw_action(struct ddb_call *c, struct store_txn *t, cJSON *ti, size_t i, struct tw_one *o)
{
    cJSON *a = NULL;
    const char *table;
    struct table_keys k;
    struct err e = {0};
    int n = 0, rvf;
    char path[96], msg[400];

    for (int j = 0; j < 4; j++) {
        cJSON *v = ddb_arg_obj(c, ti, action_names[j]);

        if (v) {
            a = v;
            o->kind = j;
            n++;
        }
    }
    if (ddb_args_failed(c))
        return TW_ANSWERED;
    if (n != 1) {
        ddb_reply_err(c, ERR_INVALID,
                      "TransactItems can only contain one of Check, Put, Update or Delete");
        return TW_ANSWERED;
    }
    table = ddb_arg_str(c, a, "TableName");
    o->obj = ddb_arg_obj(c, a, o->kind == A_PUT ? "Item" : "Key");
    snprintf(path, sizeof(path), "transactItems.%zu.member.%s.tableName", i + 1,
             action_paths[o->kind]);
    ddb_check_table_name(c, table, path);
    if (!o->obj && !c->serial) {
        snprintf(path, sizeof(path), "transactItems.%zu.member.%s.%s", i + 1, action_paths[o->kind],
                 o->kind == A_PUT ? "item" : "key");
        ddb_verr_null(c, path);
    }
    if (o->kind == A_CHECK && !ddb_arg_str(c, a, "ConditionExpression") && !c->serial) {
        snprintf(path, sizeof(path), "transactItems.%zu.member.conditionCheck.conditionExpression",
                 i + 1);
        ddb_verr_null(c, path);
    }
    if (o->kind == A_UPDATE && !ddb_arg_str(c, a, "UpdateExpression") && !c->serial) {
        snprintf(path, sizeof(path), "transactItems.%zu.member.update.updateExpression", i + 1);
        ddb_verr_null(c, path);
    }
    snprintf(path, sizeof(path), "transactItems.%zu.member.%s.returnValuesOnConditionCheckFailure",
             i + 1, action_paths[o->kind]);
    rvf = ddb_arg_enum(c, a, "ReturnValuesOnConditionCheckFailure", path, rvf_vals);
    if (ddb_args_failed(c))
        return TW_ANSWERED;
    o->old_on_fail = rvf == 0;
    if (!dp_exprs_parse(c, a, DP_COND | (o->kind == A_UPDATE ? DP_UPDATE : 0), &o->ex))
        return TW_ANSWERED;
    if (attr_validate_item(o->obj, &e)) {
        ddb_reply_err(c, ERR_INVALID, e.msg);
        return TW_ANSWERED;
    }
    if (table_keys_get(t, table, &k, &e)) {
        ddb_reply_err(c, e.code, e.msg);
        return TW_ANSWERED;
    }
    if (item_key_build(&k, o->obj, o->kind != A_PUT, &o->key, &e)) {
        /* an empty key value fails DynamoDB's checks of the request itself:
         * a ValidationException, not one of the transaction's reasons */
        if (strncmp(e.msg, item_key_empty_msg, strlen(item_key_empty_msg)) == 0) {
            ddb_reply_err(c, ERR_INVALID, e.msg);
            return TW_ANSWERED;
        }
        o->code = R_VALIDATION;
        o->msg = xstrdup(e.msg);
        return TW_INVALID;
    }
    if (o->kind == A_UPDATE) {
        const char *touched =
            expr_update_key_touched(o->ex.upd, k.hash, k.has_range ? k.range : NULL);

        if (touched) {
            snprintf(msg, sizeof(msg),
                     "One or more parameter values were invalid: Cannot update attribute %.200s. "
                     "This attribute is part of the key",
                     touched);
            ddb_reply_err(c, ERR_INVALID, msg);
            return TW_ANSWERED;
        }
    }
    o->size = attr_item_size(o->obj);
    if (o->kind == A_PUT && o->size > DDB_ITEM_MAX) {
        /* a Put's size is known from the request: DynamoDB refuses it before
         * the transaction opens, where an Update's is a cancellation reason */
        ddb_reply_err(c, ERR_INVALID, "Item size has exceeded the maximum allowed size");
        return TW_ANSWERED;
    }
    o->table = table;
    o->id = k.id;
    return TW_OK;
}

/* items_arg - TransactItems' presence and count, checked as DynamoDB does
 * (failures recorded on @c). */
static void items_arg(struct ddb_call *c, const cJSON *items)
{
    if (!items && !c->serial)
        ddb_verr_null(c, "transactItems");
    ddb_check_count(c, items, "transactItems", 1, TXN_MAX);
}

void ddb_transact_write(struct ddb_call *c)
{
    cJSON *items = ddb_arg_arr(c, c->in, "TransactItems");
    const char *token = ddb_arg_str(c, c->in, "ClientRequestToken");
    struct tw *x = arena_calloc(c->a, sizeof(*x));
    struct store_txn *t = NULL;
    struct err e = {0};
    size_t total = 0;
    char *req, *resp = NULL;
    cJSON *ti;
    int claim, act;

    x->c = c;
    items_arg(c, items);
    ddb_check_len(c, token, "clientRequestToken", 1, TOKEN_MAX, false);
    x->cap = dp_capacity_arg(c);
    ddb_arg_enum(c, c->in, "ReturnItemCollectionMetrics", "returnItemCollectionMetrics", ricm_vals);
    if (ddb_args_failed(c))
        return;
    if (store_read_begin(c->d->store, &t, &e)) {
        ddb_reply_err(c, e.code, e.msg);
        return;
    }
    cJSON_ArrayForEach(ti, items)
    {
        struct tw_one *o = &x->ops[x->n];

        buf_init(&o->key, 0);
        x->n++;
        act = tw_action(c, t, ti, x->n - 1, o);
        if (act == TW_ANSWERED)
            goto fail;
        if (act == TW_INVALID) {
            /* validation stops at the first invalid action: the others are
             * listed with reason None */
            struct buf b;

            for (size_t j = x->n; j < (size_t)cJSON_GetArraySize(items); j++)
                buf_init(&x->ops[x->n++].key, 0);
            store_txn_abort(t);
            buf_init(&b, 0);
            tw_canceled(x, &b);
            tw_free(x);
            ddb_reply_status(c, 400, &b);
            return;
        }
        total += o->size;
        for (size_t j = 0; j + 1 < x->n; j++)
            if (x->ops[j].id == o->id && x->ops[j].key.len == o->key.len &&
                memcmp(x->ops[j].key.ptr, o->key.ptr, o->key.len) == 0) {
                ddb_reply_err(c, ERR_INVALID, dup_msg);
                goto fail;
            }
    }
    store_txn_abort(t);
    t = NULL;
    if (total > TXN_BYTES_MAX) {
        ddb_reply_err(c, ERR_INVALID,
                      "Transaction request size cannot exceed 4 MB (the aggregate size of "
                      "the items in the transaction exceeds it)");
        goto fail;
    }
    if (token) {
        struct buf canon;

        buf_init(&canon, 0);
        req_canon(&canon, c->in);
        buf_putc(&canon, '\0');
        req = buf_detach(&canon, NULL);
        claim = token_claim(c->d, token, req, &resp);
        free(req);
        if (claim == 1) {
            struct buf b;

            buf_init(&b, 0);
            buf_puts(&b, resp);
            free(resp);
            tw_free(x);
            ddb_reply(c, &b);
            return;
        }
        if (claim == 2 || claim == 3) {
            struct buf b;

            buf_init(&b, 0);
            if (claim == 2)
                ddb_error_open_with(&b, "IdempotentParameterMismatchException",
                                    "Request parameters do not match the original request for the "
                                    "idempotency token");
            else
                ddb_error_open_with(&b, "TransactionInProgressException",
                                    "Transaction is ongoing for the idempotency token");
            buf_putc(&b, '}');
            tw_free(x);
            ddb_reply_status(c, 400, &b);
            return;
        }
        x->token = arena_strdup(c->a, token);
    }
    store_submit(c->d->store, tw_apply, tw_done, x);
    return;
fail:
    store_txn_abort(t);
    tw_free(x);
}

/* ---- TransactGetItems ---- */

void ddb_transact_get(struct ddb_call *c)
{
    cJSON *items = ddb_arg_arr(c, c->in, "TransactItems");
    struct store_txn *t = NULL;
    struct buf keys[TXN_MAX], b;
    uint64_t ids[TXN_MAX];
    const char *tables[TXN_MAX];
    double units[TXN_MAX];
    size_t nkeys = 0, bytes = 0;
    struct err e = {0};
    enum err_code rc = ERR_OK;
    bool replied = false;
    long bad = -1; /* the Get whose Key does not fit its table */
    cJSON *ti;
    int cap;

    items_arg(c, items);
    cap = dp_capacity_arg(c);
    if (ddb_args_failed(c))
        return;
    buf_init(&b, 0);
    buf_puts(&b, "{\"Responses\":[");
    rc = store_read_begin(c->d->store, &t, &e);
    cJSON_ArrayForEach(ti, items)
    {
        cJSON *g = ddb_arg_obj(c, ti, "Get"), *key, *it = NULL;
        const char *table;
        struct table_keys k;
        struct dp_exprs ex;
        char path[80];

        if (rc)
            break;
        if (!g && !c->serial)
            ddb_verr_null(c, "transactItems.member.get");
        table = ddb_arg_str(c, g, "TableName");
        key = ddb_arg_obj(c, g, "Key");
        snprintf(path, sizeof(path), "transactItems.%zu.member.get.tableName", nkeys + 1);
        ddb_check_table_name(c, table, path);
        if (!key && !c->serial) {
            snprintf(path, sizeof(path), "transactItems.%zu.member.get.key", nkeys + 1);
            ddb_verr_null(c, path);
        }
        if (ddb_args_failed(c) || !dp_exprs_parse(c, g, DP_PROJ, &ex)) {
            replied = true;
            rc = ERR_INVALID;
            break;
        }
        buf_init(&keys[nkeys], 0);
        nkeys++;
        rc = table_keys_get(t, table, &k, &e);
        if (!rc && attr_validate_item(key, &e))
            rc = ERR_INVALID;
        if (!rc && item_key_build(&k, key, true, &keys[nkeys - 1], &e)) {
            rc = ERR_INVALID;
            /* a Key that does not fit the table cancels the transaction with
             * a ValidationError reason, as DynamoDB does; an empty key value
             * fails the request's own checks */
            if (strncmp(e.msg, item_key_empty_msg, strlen(item_key_empty_msg)) != 0)
                bad = (long)nkeys - 1;
        }
        if (rc)
            break;
        ids[nkeys - 1] = k.id;
        tables[nkeys - 1] = table;
        for (size_t j = 0; j + 1 < nkeys; j++)
            if (ids[j] == k.id && keys[j].len == keys[nkeys - 1].len &&
                memcmp(keys[j].ptr, keys[nkeys - 1].ptr, keys[j].len) == 0)
                rc = err_set(&e, ERR_INVALID, "%s", dup_msg);
        if (!rc)
            rc = item_read(t, &keys[nkeys - 1], &it, &e);
        if (rc)
            break;
        if (nkeys > 1)
            buf_putc(&b, ',');
        buf_putc(&b, '{');
        /* each read costs twice a consistent one, its item rounded up to 4 KB */
        units[nkeys - 1] = 2 * dp_read_units(it ? attr_item_size(it) : 0, true);
        if (it) {
            bytes += attr_item_size(it);
            buf_puts(&b, "\"Item\":");
            dp_put_item(&b, ex.proj, it);
            cJSON_Delete(it);
        }
        buf_putc(&b, '}');
    }
    store_txn_abort(t);
    for (size_t i = 0; i < nkeys; i++)
        buf_free(&keys[i]);
    if (!rc && bytes > TXN_BYTES_MAX)
        rc = err_set(&e, ERR_INVALID,
                     "Total size of the items in the transaction exceeds the 4 MB limit");
    if (rc && bad >= 0) {
        struct tw *x = arena_calloc(c->a, sizeof(*x));

        x->c = c;
        x->n = (size_t)cJSON_GetArraySize(items);
        x->ops[bad].code = R_VALIDATION;
        x->ops[bad].msg = xstrdup(e.msg);
        buf_free(&b);
        buf_init(&b, 0);
        tw_canceled(x, &b);
        tw_free(x);
        ddb_reply_status(c, 400, &b);
        return;
    }
    if (rc) {
        buf_free(&b);
        if (!replied)
            ddb_reply_err(c, rc, e.msg);
        return;
    }
    buf_putc(&b, ']');
    if (cap) {
        buf_puts(&b, ",\"ConsumedCapacity\":[");
        for (size_t i = 0; i < nkeys; i++) {
            double sum = 0;
            bool seen = false;

            for (size_t j = 0; j < i && !seen; j++)
                seen = strcmp(tables[j], tables[i]) == 0;
            if (seen)
                continue;
            for (size_t j = i; j < nkeys; j++)
                if (strcmp(tables[j], tables[i]) == 0)
                    sum += units[j];
            if (i)
                buf_putc(&b, ',');
            dp_capacity_units(&b, cap, tables[i], sum, NULL, "ReadCapacityUnits");
        }
        buf_putc(&b, ']');
    }
    buf_putc(&b, '}');
    ddb_reply(c, &b);
}
