/* query.c - Query and Scan (see query.h). */
#include "query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "dp.h"
#include "expr_int.h"
#include "index.h"
#include "index_keys.h"
#include "item.h"
#include "keys.h"
#include "mem.h"

enum { PAGE_MAX = 1024 * 1024 };

/* in the order DynamoDB lists them when refusing another value */
static const char *const select_vals[] = {"SPECIFIC_ATTRIBUTES", "COUNT", "ALL_ATTRIBUTES",
                                          "ALL_PROJECTED_ATTRIBUTES", NULL};
enum { SEL_SPECIFIC, SEL_COUNT, SEL_ALL, SEL_PROJECTED };

unsigned ddb_scan_segment(const char *pk_json, unsigned total)
{
    uint64_t h = 1469598103934665603ull;

    for (const unsigned char *p = (const unsigned char *)pk_json; *p; p++) {
        h ^= *p;
        h *= 1099511628211ull;
    }
    return total ? (unsigned)(h % total) : 0;
}

/* The common arguments and the page being built. */
struct page {
    struct ddb_call *c;
    const char *table;
    struct table_keys k;
    struct dp_exprs ex;
    cJSON *esk;
    int64_t limit;
    int sel, cap;
    bool consistent;
    /* IndexName: k is then the index's key schema, base the table's */
    const char *index;
    struct index_set ixs;
    const struct index_def *ix;
    struct table_keys base;
    bool fetch;        /* a local index without ALL projection asked for all or named attributes */
    bool query_filter; /* the filter came from a QueryFilter (errors name it) */
    int nkeyconds;     /* the KeyConditions given (read as a KeyConditionExpression) */
    /* output */
    struct buf b, lek;
    size_t count, scanned, total;
    bool more;
};

static bool has_arg(const cJSON *in, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, name);

    return v && !cJSON_IsNull(v);
}

/* keycond_names_values - a Query with KeyConditions (read as a
 * KeyConditionExpression below) may give ExpressionAttributeNames and
 * ExpressionAttributeValues only for the expressions it has itself. */
static bool keycond_names_values(struct ddb_call *c, const cJSON *in)
{
    bool filter = has_arg(in, "FilterExpression");

    return dp_expr_args_check(c, ddb_arg_obj(c, in, "ExpressionAttributeNames"),
                              ddb_arg_obj(c, in, "ExpressionAttributeValues"),
                              filter || has_arg(in, "ProjectionExpression"), filter);
}

/* page_args - the arguments Query and Scan share; false when answered. */
static bool page_args(struct ddb_call *c, struct page *pg, unsigned exprs)
{
    const cJSON *in = c->in;
    const char *index;
    struct err e = {0};
    char msg[300];
    bool kc, atg, has_limit;
    /* DynamoDB words Select's refusals as validation errors for Query only */
    const char *pre = exprs ? "1 validation error detected: " : "";

    pg->c = c;
    pg->table = ddb_arg_str(c, in, "TableName");
    pg->esk = ddb_arg_obj(c, in, "ExclusiveStartKey");
    index = ddb_arg_str(c, in, "IndexName");
    ddb_check_table_name(c, pg->table, "tableName");
    has_limit = ddb_arg_int(c, in, "Limit", &pg->limit);
    ddb_check_range(c, has_limit, pg->limit, "limit", 1, DDB_NO_MAX);
    pg->sel = ddb_arg_enum(c, in, "Select", "select", select_vals);
    pg->cap = dp_capacity_arg(c);
    ddb_arg_bool(c, in, "ConsistentRead", &pg->consistent);
    if (ddb_args_failed(c))
        return false;
    /* DynamoDB takes KeyConditions with a FilterExpression or a
     * ProjectionExpression; only with a KeyConditionExpression is it a mix */
    kc = has_arg(in, "KeyConditions") && !has_arg(in, "KeyConditionExpression");
    if (kc)
        pg->nkeyconds = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(in, "KeyConditions"));
    if (!dp_legacy_mix(c, in,
                       (const char *const[]){"AttributesToGet", "QueryFilter", "ScanFilter",
                                             "ConditionalOperator", kc ? NULL : "KeyConditions",
                                             NULL}))
        return false;
    if (kc && exprs && !keycond_names_values(c, in))
        return false;
    pg->query_filter = exprs && has_arg(in, "QueryFilter");
    atg = has_arg(in, "AttributesToGet");
    if (!dp_attrs_to_get(c, c->in) ||
        (exprs && !dp_legacy_conds(c, c->in, "KeyConditions", "KeyConditionExpression", true)) ||
        !dp_legacy_conds(c, c->in, exprs ? "QueryFilter" : "ScanFilter", "FilterExpression", false))
        return false;
    if (dp_legacy(c, (const char *const[]){exprs ? "ScanFilter" : "QueryFilter",
                                           "ConditionalOperator", NULL}))
        return false;
    pg->index = index;
    if (!dp_exprs_parse(c, c->in, exprs | DP_FILTER | DP_PROJ, &pg->ex))
        return false;
    if (pg->sel == SEL_PROJECTED && !index) {
        snprintf(msg, sizeof(msg),
                 "%sALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName",
                 pre);
        ddb_reply_err(c, ERR_INVALID, msg);
        return false;
    }
    if (pg->ex.proj && pg->sel != SEL_SPECIFIC && pg->sel >= 0) {
        snprintf(msg, sizeof(msg), "%sCannot specify the %s when choosing to get %s", pre,
                 atg ? "AttributesToGet" : "ProjectionExpression",
                 pg->sel == SEL_COUNT ? "only the Count" : select_vals[pg->sel]);
        ddb_reply_err(c, ERR_INVALID, msg);
        return false;
    }
    if (pg->sel == SEL_SPECIFIC && !pg->ex.proj) {
        snprintf(msg, sizeof(msg),
                 "%sMust specify the AttributesToGet or ProjectionExpression when choosing to get "
                 "SPECIFIC_ATTRIBUTES",
                 pre);
        ddb_reply_err(c, ERR_INVALID, msg);
        return false;
    }
    if (pg->esk && attr_validate_item(pg->esk, &e)) {
        ddb_reply_err(c, ERR_INVALID, e.msg);
        return false;
    }
    buf_init(&pg->b, 0);
    buf_init(&pg->lek, 0);
    buf_puts(&pg->b, pg->sel == SEL_COUNT ? "{" : "{\"Items\":[");
    return true;
}

/* page_item - one item read (@it parsed from @p/@pn); true when the page is full. */
static bool page_item(struct page *pg, const cJSON *it, const char *p, size_t pn, enum err_code *rc,
                      struct err *e)
{
    bool match = true;

    pg->total += attr_item_size(it);
    pg->scanned++;
    if (pg->ex.filter)
        *rc = expr_eval_condition(pg->ex.filter, it, &match, e);
    if (!*rc && match) {
        if (pg->sel != SEL_COUNT) {
            if (pg->count)
                buf_putc(&pg->b, ',');
            if (pg->ex.proj) {
                cJSON *pr = expr_project(pg->ex.proj, it);

                dp_put_json(&pg->b, pr);
                cJSON_Delete(pr);
            } else {
                buf_append(&pg->b, p, pn);
            }
        }
        pg->count++;
    }
    if (!*rc && ((pg->limit && (int64_t)pg->scanned >= pg->limit) || pg->total >= PAGE_MAX)) {
        if (pg->ix)
            index_key_json(&pg->lek, pg->ix, &pg->base, it);
        else
            item_key_json(&pg->lek, &pg->k, it);
        pg->more = true;
    }
    return pg->more;
}

static void page_finish(struct page *pg, enum err_code rc, const struct err *e)
{
    struct buf *b = &pg->b;
    struct index_cost ic = {0}; /* a read of an index is the index's, not the table's */

    if (pg->ix) {
        snprintf(ic.v[0].name, sizeof(ic.v[0].name), "%s", pg->ix->name);
        ic.v[0].global = pg->ix->global;
        ic.n = 1;
    }
    index_set_free(&pg->ixs);
    if (rc) {
        buf_free(&pg->lek);
        buf_free(b);
        ddb_reply_err(pg->c, rc, e->msg);
        return;
    }
    if (pg->sel != SEL_COUNT)
        buf_puts(b, "],");
    buf_printf(b, "\"Count\":%zu,\"ScannedCount\":%zu", pg->count, pg->scanned);
    if (pg->more) {
        buf_puts(b, ",\"LastEvaluatedKey\":");
        buf_append(b, pg->lek.ptr, pg->lek.len);
    }
    buf_free(&pg->lek);
    if (pg->cap) {
        double units = dp_read_units(pg->total, pg->consistent);

        buf_puts(b, ",\"ConsumedCapacity\":");
        ic.v[0].units = units;
        dp_capacity_units(b, pg->cap, pg->table, ic.n ? 0 : units, ic.n ? &ic : NULL, NULL);
    }
    buf_putc(b, '}');
    ddb_reply(pg->c, b);
}

static bool has_prefix(struct slice k, const struct buf *p)
{
    return k.len >= p->len && memcmp(k.ptr, p->ptr, p->len) == 0;
}

/* next_item - the item of stored value @cv, parsed (NULL: a tombstone). */
static enum err_code parse_item(struct slice cv, const char **p, size_t *pn, cJSON **it,
                                struct err *e)
{
    enum err_code rc = item_decode(cv, p, pn, e);

    *it = NULL;
    if (rc == ERR_NOTFOUND)
        return ERR_OK;
    if (rc)
        return rc;
    *it = cJSON_ParseWithLength(*p, *pn);
    return *it ? ERR_OK : err_set(e, ERR_INTERNAL, "corrupt item");
}

/* page_open - begin the read (*@t, aborted by the caller even on failure),
 * read the table's key schema and resolve IndexName: pg->k becomes the
 * index's key schema (pg->base keeps the table's). */
static enum err_code page_open(struct page *pg, struct store *st, struct store_txn **t,
                               struct err *e)
{
    enum err_code rc = store_read_begin(st, t, e);

    if (!rc)
        rc = table_keys_get(*t, pg->table, &pg->k, e);
    if (rc || !pg->index)
        return rc;
    rc = index_load(*t, pg->k.id, &pg->ixs, e);
    if (rc)
        return rc;
    pg->ix = index_find(&pg->ixs, pg->index);
    if (!pg->ix)
        return err_set(e, ERR_INVALID, "The table does not have the specified index: %.200s",
                       pg->index);
    if (pg->ix->global && pg->consistent)
        return err_set(e, ERR_INVALID,
                       "Consistent reads are not supported on global secondary indexes");
    if (pg->sel == SEL_ALL && pg->ix->proj != INDEX_PROJ_ALL) {
        if (pg->ix->global)
            return err_set(e, ERR_INVALID,
                           "One or more parameter values were invalid: Select type ALL_ATTRIBUTES "
                           "is not supported for global secondary index %s because its "
                           "projection type is not ALL",
                           pg->ix->name);
        pg->fetch = true;
    }
    /* a local index reads any attribute through the table: a projection
     * naming attributes the index does not hold reads the table's item */
    if (!pg->ix->global && pg->ix->proj != INDEX_PROJ_ALL && pg->ex.proj)
        pg->fetch = true;
    pg->base = pg->k;
    pg->k = pg->ix->k;
    return ERR_OK;
}

/* start_key - the storage key of ExclusiveStartKey (in the table or the
 * index); ERR_INVALID "The provided starting key is invalid: ..." when it is not. */
static enum err_code start_key(struct page *pg, struct buf *start, struct err *e)
{
    struct buf bk;
    enum err_code rc;
    char msg[400];

    if (!pg->ix) {
        rc = item_key_build(&pg->k, pg->esk, true, start, e);
    } else {
        buf_init(&bk, 0);
        rc = item_key_build(&pg->base, pg->esk, false, &bk, e);
        if (!rc)
            rc = index_entry_key(pg->ix, pg->esk, &bk, start, e);
        if (rc == ERR_NOTFOUND)
            rc = err_set(e, ERR_INVALID, "The provided key element does not match the schema");
        buf_free(&bk);
    }
    if (rc) {
        snprintf(msg, sizeof(msg), "The provided starting key is invalid: %s", e->msg);
        rc = err_set(e, ERR_INVALID, "%s", msg);
    }
    return rc;
}

/* fetch_base - replace index entry @it by the table's item (@text owned). */
static enum err_code fetch_base(struct page *pg, struct store_txn *t, cJSON **it, char **text,
                                const char **p, size_t *pn, struct err *e)
{
    struct buf k;
    cJSON *full = NULL;
    enum err_code rc;

    buf_init(&k, 0);
    rc = item_key_build(&pg->base, *it, false, &k, e);
    if (!rc)
        rc = item_read(t, &k, &full, e);
    buf_free(&k);
    if (rc)
        return rc;
    cJSON_Delete(*it);
    *it = full;
    if (full) {
        *text = cJSON_PrintUnformatted(full);
        *p = *text;
        *pn = strlen(*text);
    }
    return ERR_OK;
}

/* ---- Scan ---- */

/* segment_of - the parallel-scan segment of @it (an item or a start key) out of @tot. */
static int64_t segment_of(const struct page *pg, const cJSON *it, int64_t tot)
{
    char *pk = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(it, pg->k.hash));
    unsigned s = ddb_scan_segment(pk ? pk : "", (unsigned)tot);

    free(pk);
    return s;
}

void ddb_scan(struct ddb_call *c)
{
    struct page *pg = arena_calloc(c->a, sizeof(*pg));
    int64_t seg = -1, tot = -1;
    bool has_seg, has_tot;
    struct store_txn *t = NULL;
    struct store_cursor *cur = NULL;
    struct buf prefix, start;
    struct slice ck, cv;
    struct err e = {0};
    enum err_code rc;
    char msg[300];

    has_seg = ddb_arg_int(c, c->in, "Segment", &seg);
    has_tot = ddb_arg_int(c, c->in, "TotalSegments", &tot);
    ddb_check_range(c, has_seg, seg, "segment", 0, 999999);
    ddb_check_range(c, has_tot, tot, "totalSegments", 1, 1000000);
    if (!page_args(c, pg, 0))
        return;
    if (has_seg && !has_tot) {
        buf_free(&pg->b);
        ddb_reply_err(c, ERR_INVALID,
                      "The TotalSegments parameter is required but was not present in the request "
                      "when Segment parameter is present");
        return;
    }
    if (has_tot && !has_seg) {
        buf_free(&pg->b);
        ddb_reply_err(c, ERR_INVALID,
                      "The Segment parameter is required but was not present in the request when "
                      "parameter TotalSegments is present");
        return;
    }
    if (has_seg && seg >= tot) {
        buf_free(&pg->b);
        snprintf(msg, sizeof(msg),
                 "The Segment parameter is zero-based and must be less than parameter "
                 "TotalSegments: Segment: %lld is not less than TotalSegments: %lld",
                 (long long)seg, (long long)tot);
        ddb_reply_err(c, ERR_INVALID, msg);
        return;
    }
    buf_init(&prefix, 0);
    buf_init(&start, 0);
    rc = page_open(pg, c->d->store, &t, &e);
    if (rc)
        goto out;
    keys_append_table(&prefix, pg->k.id);
    if (pg->esk) {
        rc = start_key(pg, &start, &e);
        if (!rc && has_tot && segment_of(pg, pg->esk, tot) != seg)
            rc = err_set(&e, ERR_INVALID,
                         "The provided Exclusive start key does not map to the provided Segment "
                         "and TotalSegments values.");
        if (rc)
            goto out;
    } else {
        buf_append(&start, prefix.ptr, prefix.len);
    }
    rc = store_cursor_open(t, STORE_DB_DATA, &cur, &e);
    if (!rc)
        rc = store_cursor_seek(cur, slice_of(start.ptr, start.len), &ck, &cv, &e);
    if (!rc && pg->esk && slice_eq(ck, slice_of(start.ptr, start.len)))
        rc = store_cursor_next(cur, &ck, &cv, &e);
    while (rc == ERR_OK && has_prefix(ck, &prefix)) {
        const char *p = NULL;
        size_t pn = 0;
        cJSON *it = NULL;
        char *text = NULL;
        bool full = false;

        rc = parse_item(cv, &p, &pn, &it, &e);
        if (!rc && it && pg->fetch)
            rc = fetch_base(pg, t, &it, &text, &p, &pn, &e);
        if (!rc && it && has_tot) {
            if (segment_of(pg, it, tot) != seg) {
                cJSON_Delete(it);
                it = NULL;
            }
        }
        if (!rc && it)
            full = page_item(pg, it, p, pn, &rc, &e);
        cJSON_Delete(it);
        free(text);
        if (rc || full)
            break;
        rc = store_cursor_next(cur, &ck, &cv, &e);
    }
    if (rc == ERR_NOTFOUND)
        rc = ERR_OK;
out:
    store_cursor_close(cur);
    store_txn_abort(t);
    buf_free(&prefix);
    buf_free(&start);
    page_finish(pg, rc, &e);
}

/* ---- Query ---- */

/* The key condition taken apart: the partition key value and the optional
 * sort-key condition (evaluated per item). */
struct keycond {
    const cJSON *hash_av;
    const struct expr_cond *range; /* NULL: the whole partition */
    const cJSON *lo, *hi;          /* bounds for seeking (NULL: none) */
    bool other;                    /* a condition on an attribute that is not a key */
    struct index_keycond mk;       /* an index key of several attributes: all of it */
};

static const char *key_of(const struct expr_operand *o)
{
    if (o->kind != OPND_PATH || o->path.n != 1 || !o->path.elems[0].name)
        return NULL;
    return o->path.elems[0].name;
}

static enum err_code bad_op(const char *op, struct err *e)
{
    return err_set(e, ERR_INVALID, "Invalid operator used in KeyConditionExpression: %s", op);
}

static const char *const unsupported = "Query key condition not supported";

/* leaf - check one condition of the key condition and file it in @kc. */
static enum err_code leaf(const struct table_keys *k, const struct index_def *ix,
                          const struct expr_cond *x, struct keycond *kc, struct err *e)
{
    const char *name;
    const struct expr_operand *v = NULL, *ko, *vo;
    int op = x->op;

    switch (x->kind) {
    case COND_OR:
        return bad_op("OR", e);
    case COND_NOT:
        return bad_op("NOT", e);
    case COND_IN:
        return bad_op("IN", e);
    case COND_EXISTS:
        return bad_op("attribute_exists", e);
    case COND_NOT_EXISTS:
        return bad_op("attribute_not_exists", e);
    case COND_TYPE:
        return bad_op("attribute_type", e);
    case COND_CONTAINS:
        return bad_op("contains", e);
    case COND_AND:
        return err_set(e, ERR_INVALID,
                       "KeyConditionExpressions must only contain one condition per key");
    case COND_CMP:
        if (x->op == TOK_NE)
            return bad_op("<>", e);
        /* fall through */
    default:
        break;
    }
    if (x->nargs < 2)
        return err_set(e, ERR_INVALID, "%s", unsupported);
    ko = x->args[0];
    vo = x->args[1];
    /* a comparison may name the key on either side: ":v < c" is "c > :v" */
    if (x->kind == COND_CMP && !key_of(x->args[0]) && key_of(x->args[1]) &&
        x->args[0]->kind == OPND_VALUE) {
        ko = x->args[1];
        vo = x->args[0];
        op = x->op == TOK_LT   ? TOK_GT
             : x->op == TOK_GT ? TOK_LT
             : x->op == TOK_LE ? TOK_GE
             : x->op == TOK_GE ? TOK_LE
                               : x->op;
    }
    name = key_of(ko);
    if (!name && ko->kind == OPND_PATH)
        return err_set(e, ERR_INVALID,
                       "KeyConditionExpressions cannot have conditions on nested attributes");
    if (!name || vo->kind != OPND_VALUE ||
        (x->kind == COND_BETWEEN && x->args[2]->kind != OPND_VALUE))
        return err_set(e, ERR_INVALID, "%s", unsupported);
    if (ix && ix->multi)
        return index_keys_leaf(ix, name, x, op, vo->value, &kc->mk, e);
    if (strcmp(name, k->hash) == 0) {
        if (x->kind != COND_CMP || op != TOK_EQ)
            return err_set(e, ERR_INVALID, "%s", unsupported);
        if (kc->hash_av)
            return err_set(e, ERR_INVALID,
                           "KeyConditionExpressions must only contain one condition per key");
        kc->hash_av = vo->value;
        v = vo;
    } else if (k->has_range && strcmp(name, k->range) == 0) {
        static const enum attr_type want[] = {ATTR_S, ATTR_N, ATTR_B};

        if (kc->range)
            return err_set(e, ERR_INVALID,
                           "KeyConditionExpressions must only contain one condition per key");
        kc->range = x;
        for (size_t i = 0; i < x->nargs; i++)
            if (x->args[i] != ko && attr_type_of(x->args[i]->value) != want[k->rtype])
                return err_set(e, ERR_INVALID,
                               "One or more parameter values were invalid: Condition parameter "
                               "type does not match schema type");
        if (x->kind == COND_BEGINS && k->rtype == KEYS_N)
            return err_set(e, ERR_INVALID,
                           "Invalid KeyConditionExpression: Incorrect operand type for operator or "
                           "function; operator or function: begins_with, operand type: N");
        if (x->kind == COND_BETWEEN) {
            kc->lo = x->args[1]->value;
            kc->hi = x->args[2]->value;
        } else if (x->kind == COND_BEGINS) {
            kc->lo = x->args[1]->value;
        } else if (op == TOK_EQ) {
            kc->lo = kc->hi = vo->value;
        } else if (op == TOK_GT || op == TOK_GE) {
            kc->lo = vo->value;
        } else {
            kc->hi = vo->value;
        }
    } else {
        /* DynamoDB names the key element missing (below) */
        kc->other = true;
    }
    if (v) {
        static const enum attr_type want[] = {ATTR_S, ATTR_N, ATTR_B};

        if (attr_type_of(v->value) != want[k->htype])
            return err_set(e, ERR_INVALID,
                           "One or more parameter values were invalid: Condition parameter type "
                           "does not match schema type");
    }
    return ERR_OK;
}

/* multi_leaves - the conditions of @x on a key of several attributes, one
 * per key attribute joined by AND in any grouping. */
static enum err_code multi_leaves(const struct index_def *ix, const struct expr_cond *x,
                                  struct keycond *kc, struct err *e)
{
    enum err_code rc;

    if (x->kind != COND_AND)
        return leaf(&ix->k, ix, x, kc, e);
    rc = multi_leaves(ix, x->l, kc, e);
    return rc ? rc : multi_leaves(ix, x->r, kc, e);
}

static enum err_code keycond_split(const struct table_keys *k, const struct index_def *ix,
                                   const struct expr_cond *x, struct keycond *kc, struct err *e)
{
    enum err_code rc;

    memset(kc, 0, sizeof(*kc));
    if (ix && ix->multi)
        return multi_leaves(ix, x, kc, e); /* checked by index_keys_plan */
    if (x->kind == COND_AND) {
        rc = leaf(k, ix, x->l, kc, e);
        if (!rc)
            rc = leaf(k, ix, x->r, kc, e);
    } else {
        rc = leaf(k, ix, x, kc, e);
    }
    /* as DynamoDB: two conditions on a table without a sort key are not
     * supported; else a key not named is reported missing */
    if (!rc && kc->other && !k->has_range && x->kind == COND_AND)
        rc = err_set(e, ERR_INVALID, "%s", unsupported);
    else if (!rc && !kc->hash_av)
        rc = err_set(e, ERR_INVALID, "Query condition missed key schema element: %s", k->hash);
    else if (!rc && kc->other)
        rc = err_set(e, ERR_INVALID, "Query condition missed key schema element: %s", k->range);
    return rc;
}

/* bound_key - the storage key of (hash, @range_av); false when it cannot be built. */
static bool bound_key(const struct page *pg, const cJSON *hash_av, const cJSON *range_av,
                      bool upper, struct buf *out)
{
    const struct table_keys *k = &pg->k;
    cJSON *o;
    struct err e = {0};
    bool ok;

    if (pg->ix) { /* entries go on with the table's key: pass them all for an upper bound */
        ok = index_bound(pg->ix, hash_av, range_av, out, &e) == ERR_OK;
        if (ok && upper)
            buf_append(out, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 12);
        return ok;
    }
    o = cJSON_CreateObject();
    cJSON_AddItemReferenceToObject(o, k->hash, (cJSON *)hash_av);
    cJSON_AddItemReferenceToObject(o, k->range, (cJSON *)range_av);
    ok = item_key_build(k, o, false, out, &e) == ERR_OK;
    cJSON_Delete(o);
    return ok;
}

void ddb_query(struct ddb_call *c)
{
    struct page *pg = arena_calloc(c->a, sizeof(*pg));
    bool forward = true, passed = false;
    struct keycond kc;
    struct table_keys hk;
    struct store_txn *t = NULL;
    struct store_cursor *cur = NULL;
    struct buf prefix, start, lo, hi;
    struct slice ck, cv;
    struct err e = {0};
    enum err_code rc;
    bool multi;

    ddb_arg_bool(c, c->in, "ScanIndexForward", &forward);
    if (!page_args(c, pg, DP_KEYCOND))
        return;
    if (!pg->ex.keycond) {
        buf_free(&pg->b);
        ddb_reply_err(c, ERR_INVALID,
                      "Either the KeyConditions or KeyConditionExpression parameter must be "
                      "specified in the request.");
        return;
    }
    buf_init(&prefix, 0);
    buf_init(&start, 0);
    buf_init(&lo, 0);
    buf_init(&hi, 0);
    rc = page_open(pg, c->d->store, &t, &e);
    multi = !rc && pg->ix && pg->ix->multi;
    /* more than two only for an index key of several attributes (dp.c lets them pass) */
    if (!rc && !multi && pg->nkeyconds > 2)
        rc = err_set(&e, ERR_INVALID, "Conditions can be of length 1 or 2 only");
    if (!rc)
        rc = keycond_split(&pg->k, pg->ix, pg->ex.keycond, &kc, &e);
    if (!rc && multi)
        rc = index_keys_plan(pg->ix, &kc.mk, &prefix, &lo, &hi, &kc.range, &e);
    if (!rc) {
        const char *kn =
            expr_cond_key_used(pg->ex.filter, pg->k.hash, pg->k.has_range ? pg->k.range : NULL);

        /* no key attribute of the index in the filter, however many it has */
        for (unsigned i = 0; multi && !kn && i < pg->ix->nkeys; i++)
            kn = expr_cond_key_used(pg->ex.filter, pg->ix->keys[i].name, NULL);

        if (kn)
            rc = err_set(&e, ERR_INVALID,
                         "%s can only contain non-primary key attributes: Primary key "
                         "attribute: %s",
                         pg->query_filter ? "QueryFilter" : "Filter Expression", kn);
    }
    if (rc)
        goto out;
    /* the partition's prefix: the key with the partition key alone */
    hk = pg->k;
    hk.has_range = false;
    if (multi) {
        /* index_keys_plan made the prefix */
    } else if (pg->ix) {
        rc = index_bound(pg->ix, kc.hash_av, NULL, &prefix, &e);
        if (rc)
            goto out;
    } else {
        cJSON *o = cJSON_CreateObject();

        cJSON_AddItemReferenceToObject(o, pg->k.hash, (cJSON *)kc.hash_av);
        rc = item_key_build(&hk, o, false, &prefix, &e);
        cJSON_Delete(o);
        if (rc)
            goto out;
    }
    if (pg->esk) {
        rc = start_key(pg, &start, &e);
        if (rc)
            goto out;
        if (!has_prefix(slice_of(start.ptr, start.len), &prefix)) {
            rc = err_set(&e, ERR_INVALID,
                         "The provided starting key is outside query boundaries "
                         "based on provided conditions");
            goto out;
        }
        passed = true;
    } else if (multi) {
        buf_append(&start, forward ? lo.ptr : hi.ptr, forward ? lo.len : hi.len);
    } else if (forward && kc.lo && bound_key(pg, kc.hash_av, kc.lo, false, &start)) {
        /* seek to the lower bound */
    } else if (!forward && kc.hi && bound_key(pg, kc.hash_av, kc.hi, true, &start)) {
        /* seek back to the upper bound */
    } else {
        buf_reset(&start);
        buf_append(&start, prefix.ptr, prefix.len);
        if (!forward)
            buf_append(&start, "\xff\xff\xff\xff\xff\xff\xff\xff", 8);
    }
    rc = store_cursor_open(t, STORE_DB_DATA, &cur, &e);
    if (!rc && forward)
        rc = store_cursor_seek(cur, slice_of(start.ptr, start.len), &ck, &cv, &e);
    else if (!rc)
        rc = store_cursor_seek_le(cur, slice_of(start.ptr, start.len), &ck, &cv, &e);
    if (!rc && pg->esk && slice_eq(ck, slice_of(start.ptr, start.len)))
        rc = forward ? store_cursor_next(cur, &ck, &cv, &e) : store_cursor_prev(cur, &ck, &cv, &e);
    while (rc == ERR_OK && has_prefix(ck, &prefix)) {
        const char *p = NULL;
        size_t pn = 0;
        cJSON *it = NULL;
        char *text = NULL;
        bool full = false, in = true;

        rc = parse_item(cv, &p, &pn, &it, &e);
        if (!rc && it && pg->fetch)
            rc = fetch_base(pg, t, &it, &text, &p, &pn, &e);
        if (!rc && it && kc.range)
            rc = expr_eval_key_condition(kc.range, it, !pg->k.nul0, &in, &e);
        if (!rc && it && !in && passed) {
            cJSON_Delete(it);
            free(text);
            break; /* past the sort-key range */
        }
        if (!rc && it && in) {
            passed = true;
            full = page_item(pg, it, p, pn, &rc, &e);
        }
        cJSON_Delete(it);
        free(text);
        if (rc || full)
            break;
        rc = forward ? store_cursor_next(cur, &ck, &cv, &e) : store_cursor_prev(cur, &ck, &cv, &e);
    }
    if (rc == ERR_NOTFOUND)
        rc = ERR_OK;
out:
    store_cursor_close(cur);
    store_txn_abort(t);
    buf_free(&prefix);
    buf_free(&start);
    buf_free(&lo);
    buf_free(&hi);
    page_finish(pg, rc, &e);
}
