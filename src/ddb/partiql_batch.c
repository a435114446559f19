/* partiql_batch.c - BatchExecuteStatement and ExecuteTransaction (see
 * partiql_exec.h): each statement planned as ExecuteStatement plans it
 * (partiql_int.h); a batch runs them side by side, a transaction as one
 * TransactWriteItems or TransactGetItems. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "dp.h"
#include "partiql_exec.h"
#include "partiql_int.h"

/* ---- BatchExecuteStatement ---- */

/*
 * The statements of a batch run side by side, as DynamoDB runs them: the
 * request thread starts every one, each in an arena of its own (a write's
 * answer comes on the store's writer thread while the request thread may
 * still be starting the next), and whichever thread finishes the last one
 * answers. Nothing is started from the writer thread.
 */
struct batch_stmt {
    struct batch *x;
    size_t i;
};

struct batch {
    struct ddb_call *c;
    size_t n;
    struct partiql_plan pl[PARTIQL_BATCH_MAX];
    struct batch_stmt stmt[PARTIQL_BATCH_MAX];
    struct buf out[PARTIQL_BATCH_MAX]; /* each statement's response */
    cJSON *cc[PARTIQL_BATCH_MAX];      /* each statement's ConsumedCapacity */
    double failed[PARTIQL_BATCH_MAX];  /* the write units of a statement whose condition failed */
    atomic_size_t running;             /* statements under way, +1 while they are started */
};

static void batch_free(void *p)
{
    struct batch *x = p;

    for (size_t i = 0; i < PARTIQL_BATCH_MAX; i++) {
        buf_free(&x->out[i]);
        buf_free(&x->pl[i].key);
        cJSON_Delete(x->cc[i]);
    }
}

static void arena_free_cb(void *p)
{
    arena_free(p);
}

/* The BatchStatementError codes of the errors a statement may meet. */
static const char *batch_code(const char *type)
{
    static const char *const map[][2] = {
        {"ConditionalCheckFailedException", "ConditionalCheckFailed"},
        {"DuplicateItemException", "DuplicateItem"},
        {"ResourceNotFoundException", "ResourceNotFound"},
        {"AccessDeniedException", "AccessDenied"},
        {"ValidationException", "ValidationError"},
        {"SerializationException", "ValidationError"},
        {"TransactionConflictException", "TransactionConflict"},
        {"ItemCollectionSizeLimitExceededException", "ItemCollectionSizeLimitExceeded"},
        {"ProvisionedThroughputExceededException", "ProvisionedThroughputExceeded"},
    };

    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(type, map[i][0]) == 0)
            return map[i][1];
    return "InternalServerError";
}

static void batch_error(struct buf *b, const struct partiql_plan *pl, const char *code,
                        const char *msg, const cJSON *item)
{
    buf_printf(b, "{\"Error\":{\"Code\":\"%s\",\"Message\":", code);
    buf_json_str(b, msg, strlen(msg));
    partiql_put_member(b, "Item", item);
    buf_putc(b, '}');
    if (pl->st) {
        buf_puts(b, ",\"TableName\":");
        buf_json_str(b, pl->st->table, strlen(pl->st->table));
    }
    buf_putc(b, '}');
}

/* capacity_failed - the @units of a statement whose condition failed, to
 * its table's totals in @all (not to the Table or index parts, and nothing
 * when no statement of the table succeeded), as DynamoDB is said to count. */
static void capacity_failed(cJSON *all, const char *table, double units)
{
    cJSON *e, *m;

    cJSON_ArrayForEach(e, all)
    {
        const char *et = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "TableName"));

        if (!et || strcmp(et, table) != 0)
            continue;
        if (cJSON_IsNumber(m = cJSON_GetObjectItemCaseSensitive(e, "CapacityUnits")))
            cJSON_SetNumberValue(m, m->valuedouble + units);
        if (cJSON_IsNumber(m = cJSON_GetObjectItemCaseSensitive(e, "WriteCapacityUnits")))
            cJSON_SetNumberValue(m, m->valuedouble + units);
    }
}

/* batch_answer - the answer once every statement has one. */
static void batch_answer(struct batch *x)
{
    struct ddb_call *c = x->c;
    cJSON *cc = cJSON_CreateArray();
    struct buf b;

    buf_init(&b, 0);
    buf_puts(&b, "{\"Responses\":[");
    for (size_t i = 0; i < x->n; i++) {
        if (i)
            buf_putc(&b, ',');
        buf_append(&b, x->out[i].ptr, x->out[i].len);
        if (x->cc[i])
            partiql_capacity_add(cc, x->cc[i]);
    }
    for (size_t i = 0; i < x->n; i++)
        if (x->failed[i] > 0)
            capacity_failed(cc, x->pl[i].st->table, x->failed[i]);
    buf_putc(&b, ']');
    if (cJSON_GetObjectItemCaseSensitive(c->in, "ReturnConsumedCapacity") && cc->child)
        partiql_put_member(&b, "ConsumedCapacity", cc);
    buf_putc(&b, '}');
    cJSON_Delete(cc);
    ddb_reply(c, &b);
}

/* batch_release - one statement (or the starting of them) is done; the last
 * to be done answers. */
static void batch_release(struct batch *x)
{
    if (atomic_fetch_sub(&x->running, 1) == 1)
        batch_answer(x);
}

static void batch_done(struct ddb_call *sc, int status, struct buf *body)
{
    struct batch_stmt *bs = sc->hook_arg;
    struct batch *x = bs->x;
    struct partiql_plan *pl = &x->pl[bs->i];
    struct buf *b = &x->out[bs->i];
    cJSON *out = cJSON_ParseWithLength(body->ptr, body->len);
    cJSON *cc = cJSON_DetachItemFromObjectCaseSensitive(out, "ConsumedCapacity");

    if (status != 200) {
        const cJSON *old = cJSON_GetObjectItemCaseSensitive(out, "Item");
        const char *msg, *type = partiql_sub_error(pl->op, out, &msg);

        /* a failed condition costs the write it attempted: the larger of the
         * item there and the one an INSERT brought */
        if (strcmp(partiql_err_type(out), "ConditionalCheckFailedException") == 0) {
            size_t there = old ? attr_item_size(old) : 0;
            size_t brought = pl->st->kind == PQL_INSERT ? attr_item_size(pl->st->item) : 0;

            x->failed[bs->i] = dp_write_units(there > brought ? there : brought);
        }
        batch_error(b, pl, batch_code(type), msg, pl->rvf_old ? old : NULL);
    } else {
        const cJSON *items = cJSON_GetObjectItemCaseSensitive(out, "Items");

        buf_puts(b, "{\"TableName\":");
        buf_json_str(b, pl->st->table, strlen(pl->st->table));
        if (pl->read && cJSON_GetArraySize(items) > 0)
            partiql_put_member(b, "Item", cJSON_GetArrayItem(items, 0));
        buf_putc(b, '}');
    }
    x->cc[bs->i] = cc;
    cJSON_Delete(out);
    batch_release(x);
}

/* batch_start - start every statement (the refused ones answer at once). */
static void batch_start(struct batch *x)
{
    struct ddb_call *c = x->c;
    const cJSON *cap = cJSON_GetObjectItemCaseSensitive(c->in, "ReturnConsumedCapacity");

    atomic_init(&x->running, 1);
    for (size_t i = 0; i < x->n; i++) {
        static const char *const types[] = {[ERR_INVALID] = "ValidationException",
                                            [ERR_DENIED] = "AccessDeniedException",
                                            [ERR_NOTFOUND] = "ResourceNotFoundException"};
        struct partiql_plan *pl = &x->pl[i];
        struct arena *sa;
        struct ddb_call *sc;
        cJSON *in;

        if (pl->code != ERR_OK) {
            const char *type =
                (size_t)pl->code < sizeof(types) / sizeof(types[0]) && types[pl->code]
                    ? types[pl->code]
                    : "InternalServerError";

            batch_error(&x->out[i], pl, batch_code(type), pl->msg, NULL);
            continue;
        }
        in = cJSON_Duplicate(pl->in, 1);
        if (cap)
            cJSON_AddItemToObject(in, "ReturnConsumedCapacity", cJSON_Duplicate(cap, 1));
        if (cap && !pl->read && !pl->rvf_old) { /* the item there sizes a failed write */
            cJSON_DeleteItemFromObjectCaseSensitive(in, "ReturnValuesOnConditionCheckFailure");
            cJSON_AddStringToObject(in, "ReturnValuesOnConditionCheckFailure", "ALL_OLD");
        }
        x->stmt[i].x = x;
        x->stmt[i].i = i;
        sc = ddb_subcall(c, pl->op, in, batch_done, &x->stmt[i]);
        /* freed before what ddb_subcall hung on the request's arena */
        sa = arena_new();
        arena_on_free(c->a, arena_free_cb, sa);
        sc->a = sa;
        atomic_fetch_add(&x->running, 1);
        ddb_op_find(pl->op)(sc); /* done in batch_done, here or on the writer thread */
    }
    batch_release(x);
}

/* statements_args - the constraints of the list @stmts of
 * ParameterizedStatements (request member @member, 1 to @max of them) and of
 * each one, recorded on @c. */
static void statements_args(struct ddb_call *c, const cJSON *stmts, const char *member, int max)
{
    const cJSON *one;
    char path[96];
    int i = 0;

    snprintf(path, sizeof(path), "%c%s", member[0] - 'A' + 'a', member + 1);
    if (!stmts && !c->serial)
        ddb_verr_null(c, path);
    else
        ddb_check_count(c, stmts, path, 1, max);
    cJSON_ArrayForEach(one, stmts)
    {
        i++;
        if (!cJSON_IsObject(one)) {
            c->serial = true;
            snprintf(c->serial_msg, sizeof(c->serial_msg), "Unexpected value type in %s", member);
            continue;
        }
        snprintf(path, sizeof(path), "%c%s.%d.member.statement", member[0] - 'A' + 'a', member + 1,
                 i);
        partiql_statement_arg(c, one, path);
        snprintf(path, sizeof(path), "%c%s.%d.member.returnValuesOnConditionCheckFailure",
                 member[0] - 'A' + 'a', member + 1, i);
        ddb_arg_enum(c, one, "ReturnValuesOnConditionCheckFailure", path, partiql_rvf_vals);
    }
}

void ddb_partiql_batch(struct ddb_call *c)
{
    struct batch *x = arena_calloc(c->a, sizeof(*x));
    cJSON *stmts = ddb_arg_arr(c, c->in, "Statements");
    const cJSON *one;
    bool reads = false, writes = false;

    x->c = c;
    for (size_t i = 0; i < PARTIQL_BATCH_MAX; i++)
        buf_init(&x->out[i], 0);
    arena_on_free(c->a, batch_free, x);
    statements_args(c, stmts, "Statements", PARTIQL_BATCH_MAX);
    dp_capacity_arg(c);
    if (ddb_args_failed(c))
        return;
    x->n = 0;
    cJSON_ArrayForEach(one, stmts)
    {
        struct partiql_plan *pl = &x->pl[x->n++];

        if (partiql_plan_make(c, one, PARTIQL_BATCH, pl)) {
            reads = reads || pl->read;
            writes = writes || !pl->read;
            if (partiql_authorize(c, pl))
                pl->code = ERR_OK;
        } else if (pl->st) {
            reads = reads || pl->st->kind == PQL_SELECT;
            writes = writes || pl->st->kind != PQL_SELECT;
        }
    }
    /* "The entire batch must consist of either read statements or write
     * statements, you cannot mix both in one batch." */
    if (reads && writes) {
        ddb_reply_err(c, ERR_INVALID,
                      "Unsupported operation: A batch must consist of either read statements "
                      "or write statements, not both");
        return;
    }
    /* two statements on one item: refused as BatchWriteItem refuses them */
    for (size_t i = 0; i < x->n; i++)
        for (size_t j = 0; x->pl[i].key.len && j < i; j++)
            if (x->pl[j].tid == x->pl[i].tid && x->pl[j].key.len == x->pl[i].key.len &&
                memcmp(x->pl[j].key.ptr, x->pl[i].key.ptr, x->pl[i].key.len) == 0) {
                ddb_reply_err(c, ERR_INVALID, "Provided list of item keys contains duplicates");
                return;
            }
    batch_start(x);
}

/* ---- ExecuteTransaction ---- */

struct txn {
    struct ddb_call *c;
    size_t n;
    bool inserts[PARTIQL_TXN_MAX];
};

/* txn_canceled - the cancellation with INSERT conflicts as DuplicateItem. */
static void txn_canceled(struct txn *x, cJSON *out)
{
    cJSON *reasons = cJSON_GetObjectItemCaseSensitive(out, "CancellationReasons"), *r;
    struct buf msg, b;
    size_t i = 0;

    buf_init(&msg, 0);
    buf_puts(&msg, "Transaction cancelled, please refer cancellation reasons for specific "
                   "reasons [");
    cJSON_ArrayForEach(r, reasons)
    {
        const char *code = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "Code"));

        if (i < x->n && x->inserts[i] && code && strcmp(code, "ConditionalCheckFailed") == 0) {
            cJSON_ReplaceItemInObjectCaseSensitive(r, "Code", cJSON_CreateString("DuplicateItem"));
            cJSON_ReplaceItemInObjectCaseSensitive(r, "Message",
                                                   cJSON_CreateString(partiql_dup_msg));
            cJSON_DeleteItemFromObjectCaseSensitive(r, "Item");
            code = "DuplicateItem";
        }
        buf_printf(&msg, "%s%s", i ? ", " : "", code ? code : "None");
        i++;
    }
    buf_putc(&msg, ']');
    buf_init(&b, 0);
    ddb_error_open_with(&b, "TransactionCanceledException", msg.ptr);
    partiql_put_member(&b, "CancellationReasons", reasons);
    buf_putc(&b, '}');
    buf_free(&msg);
    ddb_reply_status(x->c, 400, &b);
}

static void txn_done(struct ddb_call *sc, int status, struct buf *body)
{
    struct txn *x = sc->hook_arg;
    cJSON *out = cJSON_ParseWithLength(body->ptr, body->len);
    struct buf b;

    buf_init(&b, 0);
    if (status != 200 && strcmp(partiql_err_type(out), "TransactionCanceledException") == 0) {
        txn_canceled(x, out);
    } else if (status != 200) {
        partiql_reply_sub_error(x->c, NULL, status, out);
    } else {
        /* a transaction of writes answers an empty Responses list, as
         * DynamoDB does (TransactWriteItems itself answers none) */
        buf_puts(&b, "{\"Responses\":");
        if (cJSON_GetObjectItemCaseSensitive(out, "Responses"))
            dp_put_json(&b, cJSON_GetObjectItemCaseSensitive(out, "Responses"));
        else
            buf_puts(&b, "[]");
        if (cJSON_GetObjectItemCaseSensitive(out, "ConsumedCapacity")) {
            buf_puts(&b, ",\"ConsumedCapacity\":");
            dp_put_json(&b, cJSON_GetObjectItemCaseSensitive(out, "ConsumedCapacity"));
        }
        buf_putc(&b, '}');
        ddb_reply(x->c, &b);
    }
    if (!b.ptr || status != 200)
        buf_free(&b);
    cJSON_Delete(out);
}

void ddb_partiql_transaction(struct ddb_call *c)
{
    struct txn *x = arena_calloc(c->a, sizeof(*x));
    cJSON *stmts = ddb_arg_arr(c, c->in, "TransactStatements");
    const char *token = ddb_arg_str(c, c->in, "ClientRequestToken");
    const cJSON *one, *cap = cJSON_GetObjectItemCaseSensitive(c->in, "ReturnConsumedCapacity");
    cJSON *in, *items;
    struct ddb_call *sc;
    bool reads = false, writes = false;

    x->c = c;
    statements_args(c, stmts, "TransactStatements", PARTIQL_TXN_MAX);
    dp_capacity_arg(c);
    if (ddb_args_failed(c))
        return;
    in = cJSON_CreateObject();
    items = cJSON_AddArrayToObject(in, "TransactItems");
    x->n = 0;
    cJSON_ArrayForEach(one, stmts)
    {
        struct partiql_plan pl;
        cJSON *item;

        if (!partiql_plan_make(c, one, PARTIQL_TXN, &pl) || !partiql_authorize(c, &pl)) {
            char msg[600];

            /* DynamoDB names the statement a transaction cannot run */
            if (pl.in_stmt)
                snprintf(msg, sizeof(msg), "Validation failed in TransactStatements[%zu]: %s", x->n,
                         pl.msg);
            cJSON_Delete(in);
            ddb_reply_err(c, pl.code, pl.in_stmt ? msg : pl.msg);
            return;
        }
        reads = reads || pl.read;
        writes = writes || !pl.read;
        x->inserts[x->n++] = pl.st->kind == PQL_INSERT;
        item = cJSON_CreateObject();
        cJSON_AddItemToObject(item,
                              pl.read                            ? "Get"
                              : strcmp(pl.op, "PutItem") == 0    ? "Put"
                              : strcmp(pl.op, "UpdateItem") == 0 ? "Update"
                              : strcmp(pl.op, "DeleteItem") == 0 ? "Delete"
                                                                 : "ConditionCheck",
                              cJSON_Duplicate(pl.in, 1));
        cJSON_AddItemToArray(items, item);
    }
    if (reads && writes) {
        cJSON_Delete(in);
        ddb_reply_err(c, ERR_INVALID,
                      "Unsupported operation: A transaction must consist of either read "
                      "statements or write statements, not both");
        return;
    }
    if (token)
        cJSON_AddStringToObject(in, "ClientRequestToken", token);
    if (cap)
        cJSON_AddItemToObject(in, "ReturnConsumedCapacity", cJSON_Duplicate(cap, 1));
    sc = ddb_subcall(c, reads ? "TransactGetItems" : "TransactWriteItems", in, txn_done, x);
    ddb_op_find(sc->op)(sc); /* answers through txn_done */
}
