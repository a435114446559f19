/* partiql_exec.c - the plan of each PartiQL statement (partiql_int.h) and
 * ExecuteStatement (see partiql_exec.h); partiql_batch.c runs
 * BatchExecuteStatement and ExecuteTransaction with the same plans.
 *
 * A statement becomes one request of the item API:
 *   SELECT with the partition key pinned by =     Query (a sort key condition
 *                                                 =, <, <=, >, >=, BETWEEN or
 *                                                 begins_with goes with it)
 *   other SELECTs                                 Scan with the WHERE as filter
 *   INSERT                                        PutItem, attribute_not_exists
 *   UPDATE                                        UpdateItem, attribute_exists
 *   DELETE                                        DeleteItem
 *   EXISTS(SELECT ...) (transactions)             ConditionCheck
 * and a transaction one TransactWriteItems or TransactGetItems, so every
 * statement gets the checks, conditions, capacity, indexes, streams and
 * replication of the operation it stands for. */
#include "partiql_exec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "clock.h"
#include "codec.h"
#include "dp.h"
#include "index.h"
#include "item.h"
#include "partiql.h"
#include "partiql_int.h"
#include "sigv4.h"
#include "table.h"

enum { TERMS_MAX = 64, PAGE_BYTES = 1024 * 1024 };

/* A NextToken is good for an hour, as DynamoDB's ("Given NextToken has
 * already expired"). */
static const int64_t token_ttl_ms = 3600 * 1000;

const char partiql_dup_msg[] = "Duplicate primary key exists in table";

static void json_free(void *p)
{
    cJSON_Delete(p);
}

bool partiql_op(const char *op)
{
    return strcmp(op, "ExecuteStatement") == 0 || strcmp(op, "BatchExecuteStatement") == 0 ||
           strcmp(op, "ExecuteTransaction") == 0;
}

/* ---- building the request ---- */

static void plan_fail(struct partiql_plan *pl, enum err_code code, const char *fmt, const char *arg)
{
    pl->code = code;
    snprintf(pl->msg, sizeof(pl->msg), fmt, arg);
}

/* What a SELECT of an index may name: the index's projection. */
struct ix_proj {
    bool on; /* the statement reads an index */
    bool global;
    int proj;       /* INDEX_PROJ_* */
    cJSON *include; /* INDEX_PROJ_INCLUDE: the names (the request's arena) */
    const char *name;
    struct table_keys tk, ik; /* the table's keys and the index's */
    /* an index keyed on several attributes: every one in KeySchema order,
     * nhash HASH then RANGE (nkeys = 0 for a one-attribute key) */
    unsigned nkeys, nhash;
    const char *keys[INDEX_KEYS_MAX];
};

/* key_schema - the keys of the statement's table, or of its index (and
 * then its projection in @xp). */
static bool key_schema(struct ddb_call *c, const struct pql_stmt *st, struct table_keys *k,
                       struct ix_proj *xp, struct partiql_plan *pl)
{
    struct store_txn *t = NULL;
    struct index_set ixs = {0};
    const struct index_def *ix;
    struct err e = {0};
    enum err_code rc;

    if ((rc = store_read_begin(c->d->store, &t, &e)) == ERR_OK)
        rc = table_keys_get(t, st->table, k, &e);
    if (rc == ERR_OK && st->index && (rc = index_load(t, k->id, &ixs, &e)) == ERR_OK) {
        if ((ix = index_find(&ixs, st->index)) != NULL) {
            xp->on = true;
            xp->global = ix->global;
            xp->proj = ix->proj;
            xp->name = st->index;
            xp->tk = *k;
            xp->ik = ix->k;
            if (ix->multi) {
                xp->nkeys = ix->nkeys;
                xp->nhash = ix->nhash;
                for (unsigned i = 0; i < ix->nkeys; i++)
                    xp->keys[i] = arena_strdup(c->a, ix->keys[i].name);
            }
            if (ix->include) {
                xp->include = cJSON_Duplicate(ix->include, 1);
                arena_on_free(c->a, json_free, xp->include);
            }
            *k = ix->k;
        } else {
            /* PartiQL's wording: Query and Scan name the index, this does not */
            rc = ERR_INVALID;
            snprintf(e.msg, sizeof(e.msg), "The table does not have the specified index");
        }
        index_set_free(&ixs);
    }
    store_txn_abort(t);
    if (rc) {
        pl->code = rc;
        snprintf(pl->msg, sizeof(pl->msg), "%s", e.msg);
        return false;
    }
    return true;
}

static bool is_key_of(const struct table_keys *k, const char *attr)
{
    return strcmp(k->hash, attr) == 0 || (k->has_range && strcmp(k->range, attr) == 0);
}

/* projects - whether the index @xp holds attribute @attr. */
static bool projects(const struct ix_proj *xp, const char *attr)
{
    const cJSON *n;

    if (xp->proj == INDEX_PROJ_ALL || is_key_of(&xp->tk, attr) || is_key_of(&xp->ik, attr))
        return true;
    for (unsigned i = 0; i < xp->nkeys; i++)
        if (strcmp(xp->keys[i], attr) == 0)
            return true;
    cJSON_ArrayForEach(n, xp->include)
    {
        if (cJSON_IsString(n) && strcmp(n->valuestring, attr) == 0)
            return true;
    }
    return false;
}

/* unprojected - the attributes expression @text names at its top level
 * (#pN not after a '.') that index @xp does not hold, as "a, b" in @out;
 * false when there are none. */
static bool unprojected(const struct pql_stmt *st, const struct ix_proj *xp, const char *text,
                        struct buf *out)
{
    cJSON *seen = cJSON_CreateArray();

    for (const char *p = text; (p = strstr(p, "#p")) != NULL; p += 2) {
        char ph[24];
        size_t n = 2 + strspn(p + 2, "0123456789");
        const char *attr;
        const cJSON *x;
        bool dup = false;

        if ((p > text && p[-1] == '.') || n >= sizeof(ph))
            continue;
        memcpy(ph, p, n);
        ph[n] = '\0';
        attr = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st->names, ph));
        if (!attr || projects(xp, attr))
            continue;
        cJSON_ArrayForEach(x, seen) dup = dup || strcmp(x->valuestring, attr) == 0;
        if (dup)
            continue;
        cJSON_AddItemToArray(seen, cJSON_CreateString(attr));
        buf_printf(out, "%s%s", out->len ? ", " : "", attr);
    }
    cJSON_Delete(seen);
    return out->len > 0;
}

/* index_reads - a SELECT of an index names only what the index holds: a
 * global index refuses to project anything else, and a read keyed on the
 * index's partition key to filter on it, as DynamoDB's PartiQL refuses them
 * (a local index fetches the rest from the table; an unkeyed read is a
 * Scan, whose filter then matches nothing). */
static bool index_reads(const struct pql_stmt *st, const struct ix_proj *xp,
                        struct partiql_plan *pl)
{
    struct buf b;
    bool ok = true;

    buf_init(&b, 0);
    if (xp->global && st->proj && unprojected(st, xp, st->proj, &b)) {
        snprintf(pl->msg, sizeof(pl->msg),
                 "One or more parameter values were invalid: Global secondary index %s does not "
                 "project [%.300s]",
                 xp->name, b.ptr);
        ok = false;
    } else if (strcmp(pl->op, "Query") == 0 && st->where &&
               unprojected(st, xp, st->where->text, &b)) {
        snprintf(pl->msg, sizeof(pl->msg),
                 "One or more parameter values were invalid: Secondary index %s does not project "
                 "one or more filter attributes: [%.300s]",
                 xp->name, b.ptr);
        ok = false;
    }
    buf_free(&b);
    if (!ok)
        pl->code = ERR_INVALID;
    return ok;
}

/* add_names_values - the request's ExpressionAttributeNames and
 * ExpressionAttributeValues: those of the statement its expressions (@exprs,
 * NULL-terminated; NULLs inside are skipped up to @n) use, and @extra_name
 * as #k0 and #k1 (the key attributes' names) when used. */
static void add_names_values(cJSON *in, const struct pql_stmt *st, const char *const *exprs,
                             size_t n, const struct table_keys *k)
{
    cJSON *names = cJSON_CreateObject(), *values = cJSON_CreateObject();
    const cJSON *x;

    cJSON_ArrayForEach(x, st->names)
    {
        for (size_t i = 0; i < n; i++)
            if (exprs[i] && pql_uses(exprs[i], x->string)) {
                cJSON_AddItemToObject(names, x->string, cJSON_CreateString(x->valuestring));
                break;
            }
    }
    for (size_t i = 0; i < n; i++) {
        if (exprs[i] && pql_uses(exprs[i], "#k0") && !cJSON_GetObjectItem(names, "#k0"))
            cJSON_AddItemToObject(names, "#k0", cJSON_CreateString(k->hash));
    }
    cJSON_ArrayForEach(x, st->values)
    {
        for (size_t i = 0; i < n; i++)
            if (exprs[i] && pql_uses(exprs[i], x->string)) {
                cJSON_AddItemToObject(values, x->string, cJSON_Duplicate(x, 1));
                break;
            }
    }
    if (names->child)
        cJSON_AddItemToObject(in, "ExpressionAttributeNames", names);
    else
        cJSON_Delete(names);
    if (values->child)
        cJSON_AddItemToObject(in, "ExpressionAttributeValues", values);
    else
        cJSON_Delete(values);
}

/* join - the terms of @t not taken (NULL), ANDed; NULL when none. */
static char *join(struct ddb_call *c, struct pql_cond **t, size_t n)
{
    struct buf b;
    char *out;
    size_t k = 0;

    buf_init(&b, 0);
    for (size_t i = 0; i < n; i++)
        if (t[i])
            buf_printf(&b, t[i]->prec == 2 ? "%s(%s)" : "%s%s", k++ ? " AND " : "", t[i]->text);
    out = k ? arena_strndup(c->a, b.ptr, b.len) : NULL;
    buf_free(&b);
    return out;
}

/* full_key - the item key the WHERE pins with = on every key attribute,
 * into @in's Key; those terms are taken out of @t. */
static bool full_key(const struct table_keys *k, cJSON *in, struct pql_cond **t, size_t n)
{
    cJSON *key = cJSON_CreateObject();
    int hi = -1, ri = -1;

    for (size_t i = 0; i < n; i++) {
        if (t[i]->kind != PQL_C_CMP || t[i]->op != PQL_EQ || !t[i]->attr || !t[i]->v1)
            continue;
        if (strcmp(t[i]->attr, k->hash) == 0)
            hi = hi == -1 ? (int)i : -2;
        else if (k->has_range && strcmp(t[i]->attr, k->range) == 0)
            ri = ri == -1 ? (int)i : -2;
    }
    if (hi < 0 || (k->has_range && ri < 0)) {
        cJSON_Delete(key);
        return false;
    }
    cJSON_AddItemToObject(key, k->hash, cJSON_Duplicate(t[hi]->v1, 1));
    if (k->has_range)
        cJSON_AddItemToObject(key, k->range, cJSON_Duplicate(t[ri]->v1, 1));
    t[hi] = NULL;
    if (ri >= 0)
        t[ri] = NULL;
    cJSON_AddItemToObject(in, "Key", key);
    return true;
}

/* find_eq - the term pinning top-level attribute @attr with =, -1 when none. */
static int find_eq(const char *attr, struct pql_cond **t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (t[i] && t[i]->kind == PQL_C_CMP && t[i]->op == PQL_EQ && t[i]->attr && t[i]->v1 &&
            strcmp(t[i]->attr, attr) == 0)
            return (int)i;
    return -1;
}

/* range_cond - the sort key condition term @t as a key condition, or NULL. */
static char *range_cond(struct ddb_call *c, const struct pql_stmt *st, const struct table_keys *k,
                        const struct pql_cond *t)
{
    static const char *const ops[] = {"=", "<>", "<", "<=", ">", ">="};
    const char *ph;

    if (!k->has_range || !t->attr || strcmp(t->attr, k->range) != 0)
        return NULL;
    ph = pql_name_ph(st, k->range);
    if (t->kind == PQL_C_CMP && t->op != PQL_NE && t->v1)
        return arena_sprintf(c->a, "%s %s %s", ph, ops[t->op], t->v1->string);
    if (t->kind == PQL_C_BETWEEN && t->v1 && t->v2)
        return arena_sprintf(c->a, "%s BETWEEN %s AND %s", ph, t->v1->string, t->v2->string);
    if (t->kind == PQL_C_BEGINS && t->v1)
        return arena_sprintf(c->a, "begins_with(%s, %s)", ph, t->v1->string);
    return NULL;
}

static bool uses_key(const struct pql_stmt *st, const struct table_keys *k, const char *text)
{
    const char *h = pql_name_ph(st, k->hash), *r = k->has_range ? pql_name_ph(st, k->range) : NULL;

    return (h && pql_uses(text, h)) || (r && pql_uses(text, r));
}

/* fan_value - the partition key value @i of a pk IN Query as its :k0. */
static void fan_value(cJSON *in, const struct pql_cond *fan, size_t i)
{
    cJSON *values = cJSON_GetObjectItemCaseSensitive(in, "ExpressionAttributeValues");

    if (!values)
        values = cJSON_AddObjectToObject(in, "ExpressionAttributeValues");
    cJSON_DeleteItemFromObjectCaseSensitive(values, ":k0");
    cJSON_AddItemToObject(values, ":k0", cJSON_Duplicate(fan->vals[i], 1));
}

/* select_as - a SELECT as a Query with key condition @kc, the terms of @t
 * left (not NULL) as its filter; or, @kc NULL, as a Scan filtered by the
 * whole WHERE. Fills exprs[1] and exprs[2] with what the request uses. */
static void select_as(struct ddb_call *c, const struct pql_stmt *st, struct partiql_plan *pl,
                      const char *kc, struct pql_cond **t, size_t n, const char **exprs)
{
    cJSON *in = pl->in;

    if (kc) {
        pl->op = "Query";
        exprs[1] = kc;
        exprs[2] = join(c, t, n);
        cJSON_AddStringToObject(in, "KeyConditionExpression", kc);
        if (exprs[2])
            cJSON_AddStringToObject(in, "FilterExpression", exprs[2]);
    } else {
        pl->op = "Scan";
        exprs[1] = st->where ? st->where->text : NULL;
        if (exprs[1])
            cJSON_AddStringToObject(in, "FilterExpression", exprs[1]);
    }
}

/* order_fail - refuse an ORDER BY that the read (@query: a Query; @pinned:
 * the WHERE pins the partition key) cannot answer in key order (@key: it
 * names a key attribute); false when it did. */
static bool order_fail(const struct pql_stmt *st, bool query, bool pinned, bool key,
                       struct partiql_plan *pl)
{
    if (!query && !pinned)
        plan_fail(pl, ERR_INVALID, "%s",
                  "Must have WHERE clause in the statement when using ORDER BY clause.");
    else if (!key)
        plan_fail(pl, ERR_INVALID,
                  "Variable reference [%s] is not a key attribute; ORDER BY takes a key "
                  "attribute",
                  st->order_attr);
    else if (!query)
        plan_fail(pl, ERR_INVALID, "%s",
                  "ORDER BY needs a WHERE clause that pins the partition key and "
                  "conditions on the sort key that make a key condition");
    else
        return true;
    return false;
}

/* order_multi - ORDER BY on an index keyed on several attributes: a key
 * attribute of a Query, where the sort attributes before it are pinned with
 * = (@eq: how many key attributes are, from the first), so that the index's
 * order is that attribute's order. False when refused. */
static bool order_multi(const struct pql_stmt *st, const struct ix_proj *xp, bool query,
                        unsigned eq, struct partiql_plan *pl)
{
    unsigned i = 0;

    while (i < xp->nkeys && strcmp(xp->keys[i], st->order_attr) != 0)
        i++;
    if (!order_fail(st, query, eq >= xp->nhash, i < xp->nkeys, pl))
        return false;
    if (i > eq) {
        plan_fail(pl, ERR_INVALID,
                  "ORDER BY [%s] needs = on each sort key attribute before it in the index's "
                  "key schema",
                  st->order_attr);
        return false;
    }
    if (st->order_desc)
        cJSON_AddFalseToObject(pl->in, "ScanIndexForward");
    return true;
}

/* plan_multi - a SELECT of an index keyed on several attributes: a Query
 * when = pins every partition attribute and the conditions on the sort
 * attributes make a key condition (= on each from the first, the last given
 * may be a range), as DynamoDB takes them; anything else on a key attribute
 * makes it a Scan, since a Query's filter may name none of them. */
static bool plan_multi(struct ddb_call *c, const struct pql_stmt *st, const struct ix_proj *xp,
                       struct pql_cond **t, size_t n, struct partiql_plan *pl)
{
    cJSON *in = pl->in;
    const char *exprs[3] = {st->proj, NULL, NULL};
    struct pql_cond **q = arena_alloc(c->a, (n ? n : 1) * sizeof(*q));
    struct buf kc;
    unsigned eq = 0; /* the key attributes pinned with =, from the first */
    bool query = true;

    memcpy(q, t, n * sizeof(*q));
    buf_init(&kc, 0);
    for (unsigned i = 0; query && i < xp->nkeys; i++) {
        int j = find_eq(xp->keys[i], q, n);
        const char *cond = NULL;

        if (j >= 0 && eq == i)
            eq++;
        if (j >= 0) {
            cond = arena_sprintf(c->a, "%s = %s", pql_name_ph(st, xp->keys[i]), q[j]->v1->string);
        } else if (i < xp->nhash) {
            query = false; /* a partition attribute not pinned */
        } else {
            struct table_keys one = {.has_range = true};

            snprintf(one.range, sizeof(one.range), "%s", xp->keys[i]);
            for (size_t m = 0; !cond && m < n; m++)
                if (q[m] && (cond = range_cond(c, st, &one, q[m])) != NULL)
                    j = (int)m;
        }
        if (!cond)
            break;
        buf_printf(&kc, "%s%s", kc.len ? " AND " : "", cond);
        q[j] = NULL;
        if (i >= xp->nhash && !strstr(cond, " = "))
            break; /* a range ends the key condition */
    }
    for (size_t m = 0; query && m < n; m++)
        for (unsigned i = 0; q[m] && i < xp->nkeys; i++)
            if (pql_name_ph(st, xp->keys[i]) && pql_uses(q[m]->text, pql_name_ph(st, xp->keys[i])))
                query = false;
    if (st->order_attr && !order_multi(st, xp, query, eq, pl)) {
        buf_free(&kc);
        return false;
    }
    select_as(c, st, pl, query ? arena_strndup(c->a, kc.ptr, kc.len) : NULL, q, n, exprs);
    buf_free(&kc);
    add_names_values(in, st, exprs, 3, &xp->ik);
    return true;
}

/* in_fits - an IN on the partition key (of the table, or of the index read)
 * lists at most PQL_IN_KEY_MAX values, as DynamoDB takes; false when
 * refused. */
static bool in_fits(const struct table_keys *k, const struct ix_proj *xp, struct pql_cond **t,
                    size_t n, struct partiql_plan *pl)
{
    for (size_t i = 0; i < n; i++) {
        bool part = t[i]->kind == PQL_C_IN && t[i]->attr && t[i]->nin > PQL_IN_KEY_MAX &&
                    strcmp(t[i]->attr, k->hash) == 0;

        for (unsigned j = 0; !part && t[i]->kind == PQL_C_IN && t[i]->attr && j < xp->nhash; j++)
            part = t[i]->nin > PQL_IN_KEY_MAX && strcmp(t[i]->attr, xp->keys[j]) == 0;
        if (part) {
            snprintf(pl->msg, sizeof(pl->msg),
                     "IN operator on the partition key [%s] has %zu values; at most %d are "
                     "allowed",
                     t[i]->attr, t[i]->nin, PQL_IN_KEY_MAX);
            pl->code = ERR_INVALID;
            return false;
        }
    }
    return true;
}

/* plan_select - Query when the partition key is pinned, else Scan. */
static bool plan_select(struct ddb_call *c, const struct pql_stmt *st, const struct table_keys *k,
                        const struct ix_proj *xp, struct pql_cond **t, size_t n,
                        enum partiql_mode mode, struct partiql_plan *pl)
{
    cJSON *in = pl->in;
    const char *exprs[3] = {st->proj, NULL, NULL};
    int hi = -1, ri = -1;
    bool query = true;

    pl->read = true;
    if (st->proj)
        cJSON_AddStringToObject(in, "ProjectionExpression", st->proj);
    if (st->index)
        cJSON_AddStringToObject(in, "IndexName", st->index);
    if (mode == PARTIQL_TXN) { /* a Get: the key and nothing else */
        pl->op = "Get";
        if (st->index) {
            pl->in_stmt = true;
            plan_fail(pl, ERR_INVALID, "%s",
                      "Reads on indices are not supported within transactions.");
            return false;
        }
        if (st->order_attr || !full_key(k, in, t, n) || join(c, t, n)) {
            plan_fail(pl, ERR_INVALID, "%s",
                      "Select statements within ExecuteTransaction must specify an equality "
                      "condition on all key attributes of a table and no other condition");
            return false;
        }
        add_names_values(in, st, exprs, 1, k);
        return true;
    }
    if (!in_fits(k, xp, t, n, pl))
        return false;
    if (xp->nkeys && mode == PARTIQL_EXEC)
        return plan_multi(c, st, xp, t, n, pl);
    hi = find_eq(k->hash, t, n);
    if (mode == PARTIQL_BATCH) { /* at most one item: the full key */
        ri = k->has_range ? find_eq(k->range, t, n) : -1;
        if (st->index || hi < 0 || (k->has_range && ri < 0)) {
            plan_fail(pl, ERR_INVALID, "%s",
                      "Select statements within BatchExecuteStatement must specify an "
                      "equality condition on all key attributes of a table");
            return false;
        }
        pl->ikey = cJSON_CreateObject();
        arena_on_free(c->a, json_free, pl->ikey);
        cJSON_AddItemToObject(pl->ikey, k->hash, cJSON_Duplicate(t[hi]->v1, 1));
        if (ri >= 0)
            cJSON_AddItemToObject(pl->ikey, k->range, cJSON_Duplicate(t[ri]->v1, 1));
    } else {
        /* "pk IN [v, ...]" pins the partition key too: one Query per value */
        for (size_t i = 0; hi < 0 && i < n; i++)
            if (t[i]->kind == PQL_C_IN && t[i]->vals && t[i]->attr &&
                strcmp(t[i]->attr, k->hash) == 0) {
                hi = (int)i;
                pl->fan = t[i];
            }
        for (size_t i = 0; ri < 0 && i < n; i++)
            if ((int)i != hi && range_cond(c, st, k, t[i]))
                ri = (int)i;
    }
    for (size_t i = 0; hi >= 0 && i < n; i++)
        if ((int)i != hi && (int)i != ri && uses_key(st, k, t[i]->text))
            query = false; /* a Query's filter cannot name a key attribute */
    if (hi < 0)
        query = false;
    if (st->order_attr) {
        if (!order_fail(st, query, hi >= 0, is_key_of(k, st->order_attr), pl))
            return false;
        if (pl->fan) {
            plan_fail(pl, ERR_INVALID, "%s",
                      "ORDER BY needs the partition key pinned with =, not IN");
            return false;
        }
        if (st->order_desc)
            cJSON_AddFalseToObject(in, "ScanIndexForward");
    }
    if (!query)
        pl->fan = NULL;
    if (query) {
        const char *kc = arena_sprintf(c->a, "%s = %s", pql_name_ph(st, k->hash),
                                       pl->fan ? ":k0" : t[hi]->v1->string);

        if (ri >= 0)
            kc = arena_sprintf(c->a, "%s AND %s", kc, range_cond(c, st, k, t[ri]));
        t[hi] = NULL;
        if (ri >= 0)
            t[ri] = NULL;
        select_as(c, st, pl, kc, t, n, exprs);
    } else {
        select_as(c, st, pl, NULL, t, n, exprs);
    }
    add_names_values(in, st, exprs, 3, k);
    if (pl->fan)
        fan_value(in, pl->fan, 0);
    return true;
}

/* plan_write - UPDATE, DELETE, EXISTS: the full key and a condition. */
static bool plan_write(struct ddb_call *c, const struct pql_stmt *st, const struct table_keys *k,
                       struct pql_cond **t, size_t n, enum partiql_mode mode,
                       struct partiql_plan *pl)
{
    cJSON *in = pl->in;
    const char *exprs[2] = {st->update, NULL};
    char *rest;

    if (!full_key(k, in, t, n)) {
        plan_fail(pl, ERR_INVALID, "%s",
                  "Where clause does not contain a mandatory equality on all key attributes");
        return false;
    }
    rest = join(c, t, n);
    if (st->kind == PQL_DELETE) {
        /* "If the DynamoDB table does not have any item with the same
         * primary key ..., SUCCESS is returned with 0 items deleted. If the
         * table has an item with same primary key, but the condition in the
         * WHERE clause ... evaluates to false, ConditionalCheckFailedException
         * is returned." (PartiQL delete statements for DynamoDB) */
        pl->op = "DeleteItem";
        exprs[1] = rest ? arena_sprintf(c->a, "attribute_not_exists(#k0) OR %s", rest) : NULL;
    } else {
        /* UPDATE and EXISTS need the item to be there */
        pl->op = st->kind == PQL_UPDATE ? "UpdateItem" : "ConditionCheck";
        exprs[1] = rest ? arena_sprintf(c->a, "attribute_exists(#k0) AND %s", rest)
                        : "attribute_exists(#k0)";
    }
    if (st->update)
        cJSON_AddStringToObject(in, "UpdateExpression", st->update);
    if (exprs[1])
        cJSON_AddStringToObject(in, "ConditionExpression", exprs[1]);
    if (st->returning) {
        if (mode == PARTIQL_TXN) {
            pl->in_stmt = true;
            plan_fail(pl, ERR_INVALID, "%s",
                      "RETURNING clause is not supported in ExecuteTransaction.");
            return false;
        }
        if (mode != PARTIQL_EXEC) {
            plan_fail(pl, ERR_INVALID, "%s", "RETURNING is supported by ExecuteStatement only");
            return false;
        }
        cJSON_AddStringToObject(in, "ReturnValues", st->returning);
    }
    add_names_values(in, st, exprs, 2, k);
    return true;
}

/* partiql_plan_make - see partiql_int.h. */
bool partiql_plan_make(struct ddb_call *c, const cJSON *one, enum partiql_mode mode,
                       struct partiql_plan *pl)
{
    const char *text = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(one, "Statement"));
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(one, "Parameters");
    const cJSON *rvf = cJSON_GetObjectItemCaseSensitive(one, "ReturnValuesOnConditionCheckFailure");
    const cJSON *cr = cJSON_GetObjectItemCaseSensitive(one, "ConsistentRead");
    struct pql_cond *t[TERMS_MAX];
    struct table_keys k;
    const struct pql_stmt *st;
    struct pql_stmt *pst;
    const char *name;
    const cJSON *p;
    struct err e = {0};
    struct ix_proj xp = {0};
    size_t n;
    bool ok;

    memset(pl, 0, sizeof(*pl));
    pl->code = ERR_INVALID;
    cJSON_ArrayForEach(p, params)
    {
        cJSON *copy = cJSON_Duplicate(p, 1);
        enum err_code rc = attr_validate(copy, &e);

        cJSON_Delete(copy);
        if (rc) {
            snprintf(pl->msg, sizeof(pl->msg), "%s", e.msg);
            return false;
        }
    }
    pst = pql_parse(c->a, text ? text : "", text ? strlen(text) : 0, params, mode == PARTIQL_TXN,
                    pl->msg, sizeof(pl->msg));
    if (!pst)
        return false;
    /* a table's ARN names the table, as TableName does */
    if (!(name = ddb_table_name(c->d, pst->table))) {
        plan_fail(pl, ERR_NOTFOUND, "Requested resource not found: Table: %.400s not found",
                  pst->table);
        return false;
    }
    pst->table = name;
    pl->st = st = pst;
    if (!key_schema(c, st, &k, &xp, pl))
        return false;
    if (xp.global && cJSON_IsTrue(cr) && mode == PARTIQL_EXEC) {
        plan_fail(pl, ERR_INVALID, "%s",
                  "Strongly consistent read is not supported on Global Secondary Indexes");
        return false;
    }
    if ((n = pql_terms(st->where, t, TERMS_MAX)) > TERMS_MAX) {
        plan_fail(pl, ERR_INVALID, "%s", "The WHERE clause has too many terms");
        return false;
    }
    pl->in = cJSON_CreateObject();
    arena_on_free(c->a, json_free, pl->in);
    cJSON_AddStringToObject(pl->in, "TableName", st->table);
    switch (st->kind) {
    case PQL_SELECT:
        pl->action = "PartiQLSelect";
        ok = plan_select(c, st, &k, &xp, t, n, mode, pl) && (!xp.on || index_reads(st, &xp, pl));
        if (ok && cJSON_IsBool(cr) && mode != PARTIQL_TXN)
            cJSON_AddBoolToObject(pl->in, "ConsistentRead", cJSON_IsTrue(cr));
        break;
    case PQL_INSERT:
        pl->action = "PartiQLInsert";
        pl->op = "PutItem";
        cJSON_AddItemToObject(pl->in, "Item", cJSON_Duplicate(st->item, 1));
        cJSON_AddStringToObject(pl->in, "ConditionExpression", "attribute_not_exists(#k0)");
        cJSON_AddItemToObject(pl->in, "ExpressionAttributeNames", cJSON_CreateObject());
        cJSON_AddStringToObject(cJSON_GetObjectItem(pl->in, "ExpressionAttributeNames"), "#k0",
                                k.hash);
        ok = true;
        break;
    case PQL_EXISTS:
        pl->action = "PartiQLSelect";
        ok = plan_write(c, st, &k, t, n, mode, pl);
        break;
    default:
        pl->action = st->kind == PQL_UPDATE ? "PartiQLUpdate" : "PartiQLDelete";
        ok = plan_write(c, st, &k, t, n, mode, pl);
        break;
    }
    if (ok && cJSON_IsString(rvf) && !pl->read) {
        cJSON_AddStringToObject(pl->in, "ReturnValuesOnConditionCheckFailure", rvf->valuestring);
        pl->rvf_old = strcmp(rvf->valuestring, "ALL_OLD") == 0;
    }
    if (ok && mode == PARTIQL_BATCH) {
        const cJSON *ik = pl->ikey ? pl->ikey
                          : st->kind == PQL_INSERT
                              ? st->item
                              : cJSON_GetObjectItemCaseSensitive(pl->in, "Key");

        pl->tid = k.id;
        if (ik && item_key_build(&k, ik, false, &pl->key, &e) != ERR_OK)
            buf_free(&pl->key); /* the operation will say what is wrong */
    }
    return ok;
}

/* ---- answers ---- */

/* err_type - the error type of an answer body (after the namespace's '#'). */
const char *partiql_err_type(const cJSON *body)
{
    const char *t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(body, "__type"));
    const char *h = t ? strrchr(t, '#') : NULL;

    return h ? h + 1 : t ? t : "InternalServerError";
}

/* put_member - append ,"@name":<@v's JSON> when @v is there. */
void partiql_put_member(struct buf *b, const char *name, const cJSON *v)
{
    if (!v)
        return;
    buf_printf(b, ",\"%s\":", name);
    dp_put_json(b, v);
}

/*
 * sub_error - the error type of a statement's failed operation (@op, its
 * answer @out), as PartiQL answers it, with its message in @msg: an INSERT's
 * failed condition is DuplicateItemException, and the expressions the
 * statement was made into are not named (the caller wrote none of them).
 */
const char *partiql_sub_error(const char *op, const cJSON *out, const char **msg)
{
    static const char *const exprs[] = {"Filter", "KeyCondition", "Condition", "Update",
                                        "Projection"};
    const char *type = partiql_err_type(out);
    const char *m = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(out, "message"));
    char pre[40];

    if (!m) /* an error with more members (ddb_error_open_with) */
        m = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(out, "Message"));

    if (op && strcmp(op, "PutItem") == 0 && strcmp(type, "ConditionalCheckFailedException") == 0) {
        *msg = partiql_dup_msg;
        return "DuplicateItemException";
    }
    for (size_t i = 0; m && i < sizeof(exprs) / sizeof(exprs[0]); i++) {
        size_t n = (size_t)snprintf(pre, sizeof(pre), "Invalid %sExpression: ", exprs[i]);

        if (strncmp(m, pre, n) == 0) {
            m += n;
            break;
        }
    }
    *msg = m ? m : "";
    return type;
}

/* reply_sub_error - answer @c with the error @out of its statement's
 * operation @op (partiql_sub_error), keeping the Item it may carry. */
void partiql_reply_sub_error(struct ddb_call *c, const char *op, int status, const cJSON *out)
{
    const char *msg, *type = partiql_sub_error(op, out, &msg);
    struct buf b;

    buf_init(&b, 0);
    if (cJSON_GetObjectItemCaseSensitive(out, "Message") && strcmp(type, "DuplicateItemException"))
        ddb_error_open_with(&b, type, msg); /* the name the operation gave it */
    else
        ddb_error_open(&b, type, msg);
    partiql_put_member(&b, "Item", cJSON_GetObjectItemCaseSensitive(out, "Item"));
    buf_putc(&b, '}');
    ddb_reply_status(c, status, &b);
}

/* authorize - the statement's PartiQL action on its table (or index), with
 * PartiQL's condition keys: dynamodb:EnclosingOperation (the operation
 * running the statement) and, for a SELECT, dynamodb:FullTableScan. */
bool partiql_authorize(struct ddb_call *c, struct partiql_plan *pl)
{
    const char *ix = pl->st->kind == PQL_SELECT ? pl->st->index : NULL;
    const char *extra[] = {"dynamodb:EnclosingOperation", c->op, NULL, NULL, NULL};

    if (pl->read && pl->st->kind == PQL_SELECT) {
        extra[2] = "dynamodb:FullTableScan";
        extra[3] = strcmp(pl->op, "Scan") == 0 ? "true" : "false";
    }
    /* a pk IN statement reads each value's partition: each is authorized
     * (dynamodb:LeadingKeys) */
    for (size_t i = 0; pl->fan && i < pl->fan->nin; i++) {
        fan_value(pl->in, pl->fan, i);
        if (!ddb_authorize(c, pl->action, pl->st->table, ix, pl->in, extra, pl->msg,
                           sizeof(pl->msg))) {
            pl->code = ERR_DENIED;
            return false;
        }
    }
    if (pl->fan)
        return true;
    if (ddb_authorize(c, pl->action, pl->st->table, ix, pl->in, extra, pl->msg, sizeof(pl->msg)))
        return true;
    pl->code = ERR_DENIED;
    return false;
}

/* capacity_add - add the ConsumedCapacity @cc of one statement to @all's
 * entry for its table. */
void partiql_capacity_add(cJSON *all, const cJSON *cc)
{
    const char *t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cc, "TableName"));
    cJSON *e, *m;

    cJSON_ArrayForEach(e, all)
    {
        const char *et = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "TableName"));

        if (t && et && strcmp(t, et) == 0)
            break;
    }
    if (!e) {
        cJSON_AddItemToArray(all, cJSON_Duplicate(cc, 1));
        return;
    }
    cJSON_ArrayForEach(m, cc)
    {
        cJSON *have = cJSON_GetObjectItemCaseSensitive(e, m->string);

        if (cJSON_IsNumber(m) && cJSON_IsNumber(have))
            cJSON_SetNumberValue(have, have->valuedouble + m->valuedouble);
    }
}

/* ---- ExecuteStatement ---- */

struct exec {
    struct ddb_call *c;
    struct partiql_plan pl;
    int64_t limit; /* Limit, 0: none */
    /* a SELECT's answer, gathered over the partitions of a pk IN */
    size_t part;  /* pk IN: the value whose partition is read */
    size_t first; /* pk IN: the first value this page reads (PQL_IN_PAGE of them at most) */
    cJSON *items;
    cJSON *cc; /* ConsumedCapacity: one entry */
    int64_t scanned;
    size_t bytes;
    char hash[65]; /* request_hash: what its NextTokens are bound to */
};

static void exec_free(void *p)
{
    struct exec *x = p;

    cJSON_Delete(x->items);
    cJSON_Delete(x->cc);
}

/* request_hash - what a NextToken is bound to: the statement and its
 * Parameters. Limit and ConsistentRead may change from page to page, as
 * DynamoDB allows; another statement or other parameters may not. */
static void request_hash(const cJSON *in, char out[65])
{
    const char *st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(in, "Statement"));
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(in, "Parameters");
    char *pt = params ? cJSON_PrintUnformatted(params) : NULL;
    struct buf b;

    buf_init(&b, 0);
    buf_puts(&b, st ? st : "");
    buf_append(&b, "", 1); /* the statement ends here */
    buf_puts(&b, pt ? pt : "");
    sigv4_sha256_hex(b.ptr, b.len, out);
    buf_free(&b);
    cJSON_free(pt);
}

/* put_token - the NextToken {"h": request hash, "t": when made (ms), "i":
 * partition of a pk IN, "k": LastEvaluatedKey} in base64; NULL @lek: the
 * start of partition @i. */
static void put_token(struct buf *b, const struct exec *x, size_t i, const cJSON *lek)
{
    cJSON *t = cJSON_CreateObject();
    char *text, *tok;
    size_t n;

    cJSON_AddStringToObject(t, "h", x->hash);
    cJSON_AddNumberToObject(t, "t", (double)clock_wall_ms());
    if (i)
        cJSON_AddNumberToObject(t, "i", (double)i);
    if (lek)
        cJSON_AddItemToObject(t, "k", cJSON_Duplicate(lek, 1));
    text = cJSON_PrintUnformatted(t);
    n = strlen(text);
    tok = malloc(base64_encoded_len(n) + 1);
    base64_encode(text, n, tok);
    buf_puts(b, ",\"NextToken\":");
    buf_json_str(b, tok, strlen(tok));
    free(tok);
    cJSON_free(text);
    cJSON_Delete(t);
}

static void exec_done(struct ddb_call *sc, int status, struct buf *body);

/* exec_launch - run the statement's request from @esk (taken; NULL: the
 * start), for a pk IN on partition x->part, with what is left of Limit. */
static void exec_launch(struct exec *x, cJSON *esk)
{
    struct ddb_call *c = x->c, *sc;
    cJSON *in = cJSON_Duplicate(x->pl.in, 1);
    const cJSON *cap = cJSON_GetObjectItemCaseSensitive(c->in, "ReturnConsumedCapacity");

    if (x->pl.read && x->limit)
        cJSON_AddNumberToObject(in, "Limit", (double)(x->limit - x->scanned));
    if (esk)
        cJSON_AddItemToObject(in, "ExclusiveStartKey", esk);
    if (x->pl.fan)
        fan_value(in, x->pl.fan, x->part);
    if (cap)
        cJSON_AddItemToObject(in, "ReturnConsumedCapacity", cJSON_Duplicate(cap, 1));
    sc = ddb_subcall(c, x->pl.op, in, exec_done, x);
    ddb_op_find(x->pl.op)(sc); /* answers through exec_done */
}

/* exec_read - one page of a SELECT: gathered; the next partition of a pk IN
 * is read at once while Limit, the 1 MB of a page and PQL_IN_PAGE
 * partitions a page allow. True when it went on to it. */
static bool exec_read(struct exec *x, cJSON *out)
{
    cJSON *items = cJSON_GetObjectItemCaseSensitive(out, "Items"), *it;
    const cJSON *cc = cJSON_GetObjectItemCaseSensitive(out, "ConsumedCapacity");
    const cJSON *scanned = cJSON_GetObjectItemCaseSensitive(out, "ScannedCount");

    while ((it = cJSON_DetachItemFromArray(items, 0)) != NULL) {
        x->bytes += attr_item_size(it);
        cJSON_AddItemToArray(x->items, it);
    }
    if (cJSON_IsNumber(scanned))
        x->scanned += (int64_t)scanned->valuedouble;
    if (cc)
        partiql_capacity_add(x->cc, cc);
    if (cJSON_GetObjectItemCaseSensitive(out, "LastEvaluatedKey") || !x->pl.fan ||
        x->part + 1 >= x->pl.fan->nin || (x->limit && x->scanned >= x->limit) ||
        x->bytes >= PAGE_BYTES || x->part + 1 - x->first >= PQL_IN_PAGE)
        return false;
    x->part++;
    exec_launch(x, NULL);
    return true;
}

static void exec_done(struct ddb_call *sc, int status, struct buf *body)
{
    struct exec *x = sc->hook_arg;
    struct ddb_call *c = x->c;
    cJSON *out = cJSON_ParseWithLength(body->ptr, body->len);
    const cJSON *lek;
    struct buf b;

    if (status != 200) {
        partiql_reply_sub_error(c, x->pl.op, status, out);
        cJSON_Delete(out);
        return;
    }
    if (x->pl.read && exec_read(x, out)) {
        cJSON_Delete(out);
        return;
    }
    buf_init(&b, 0);
    buf_puts(&b, "{\"Items\":");
    if (x->pl.read) {
        dp_put_json(&b, x->items);
    } else if (cJSON_GetObjectItemCaseSensitive(out, "Attributes")) {
        buf_putc(&b, '[');
        dp_put_json(&b, cJSON_GetObjectItemCaseSensitive(out, "Attributes"));
        buf_putc(&b, ']');
    } else {
        buf_puts(&b, "[]");
    }
    if ((lek = cJSON_GetObjectItemCaseSensitive(out, "LastEvaluatedKey")) != NULL) {
        put_token(&b, x, x->part, lek);
        partiql_put_member(&b, "LastEvaluatedKey", lek);
    } else if (x->pl.fan && x->part + 1 < x->pl.fan->nin) {
        put_token(&b, x, x->part + 1, NULL); /* the next value's partition */
    }
    if (x->pl.read)
        partiql_put_member(&b, "ConsumedCapacity", x->cc->child);
    else
        partiql_put_member(&b, "ConsumedCapacity",
                           cJSON_GetObjectItemCaseSensitive(out, "ConsumedCapacity"));
    buf_putc(&b, '}');
    cJSON_Delete(out);
    ddb_reply(c, &b);
}

/* next_token - the NextToken of @c (put_token) as the ExclusiveStartKey
 * @esk (NULL: none) and, for a pk IN statement, the partition to read
 * (x->part). A token of another statement or other parameters is refused as
 * DynamoDB refuses it. False when answered. */
static bool next_token(struct ddb_call *c, struct exec *x, cJSON **esk)
{
    const char *tok = ddb_arg_str(c, c->in, "NextToken");
    const char *why = "Invalid NextToken";
    unsigned char *raw;
    size_t n = 0;
    cJSON *t = NULL;
    const cJSON *h, *made, *i, *k;

    if (!tok)
        return true;
    raw = arena_alloc(c->a, strlen(tok) / 4 * 3 + 1);
    if (base64_decode(tok, strlen(tok), raw, &n))
        t = cJSON_ParseWithLength((const char *)raw, n);
    h = cJSON_GetObjectItemCaseSensitive(t, "h");
    made = cJSON_GetObjectItemCaseSensitive(t, "t");
    i = cJSON_GetObjectItemCaseSensitive(t, "i");
    k = cJSON_GetObjectItemCaseSensitive(t, "k");
    if (!cJSON_IsObject(t) || !cJSON_IsString(h) || !cJSON_IsNumber(made))
        goto refuse;
    why = "NextToken does not match request";
    if (strcmp(h->valuestring, x->hash) != 0)
        goto refuse;
    why = "Given NextToken has already expired";
    if ((double)clock_wall_ms() - made->valuedouble >= (double)token_ttl_ms)
        goto refuse;
    why = "Invalid NextToken";
    if (!x->pl.read || (k && !cJSON_IsObject(k)) || (i && !cJSON_IsNumber(i)) || (!i && !k) ||
        (i && (!x->pl.fan || i->valuedouble < 1 || i->valuedouble >= (double)x->pl.fan->nin)))
        goto refuse;
    if (i)
        x->part = (size_t)i->valuedouble;
    if (k)
        *esk = cJSON_Duplicate(k, 1);
    cJSON_Delete(t);
    return true;
refuse:
    cJSON_Delete(t);
    ddb_reply_err(c, ERR_INVALID, why);
    return false;
}

/* statement_arg - the Statement member's constraints (@path names it). */
void partiql_statement_arg(struct ddb_call *c, const cJSON *one, const char *path)
{
    const char *s = ddb_arg_str(c, one, "Statement");
    char params[128];

    ddb_check_chars(c, s, path, 1, PQL_STATEMENT_MAX, true);
    /* Parameters: at least one when present (PreparedStatementParameters) */
    snprintf(params, sizeof(params), "%.*sparameters", (int)(strlen(path) - strlen("statement")),
             path);
    ddb_check_count(c, ddb_arg_arr(c, one, "Parameters"), params, 1, DDB_NO_MAX);
}

const char *const partiql_rvf_vals[] = {"ALL_OLD", "NONE", NULL};

void ddb_partiql_execute(struct ddb_call *c)
{
    struct exec *x = arena_calloc(c->a, sizeof(*x));
    cJSON *esk = NULL;
    bool has_limit;

    x->c = c;
    x->items = cJSON_CreateArray();
    x->cc = cJSON_CreateArray();
    arena_on_free(c->a, exec_free, x);
    partiql_statement_arg(c, c->in, "statement");
    has_limit = ddb_arg_int(c, c->in, "Limit", &x->limit);
    ddb_check_range(c, has_limit, x->limit, "limit", 1, DDB_NO_MAX);
    ddb_arg_enum(c, c->in, "ReturnValuesOnConditionCheckFailure",
                 "returnValuesOnConditionCheckFailure", partiql_rvf_vals);
    dp_capacity_arg(c);
    if (ddb_args_failed(c))
        return;
    if (!partiql_plan_make(c, c->in, PARTIQL_EXEC, &x->pl) || !partiql_authorize(c, &x->pl)) {
        ddb_reply_err(c, x->pl.code, x->pl.msg);
        return;
    }
    request_hash(c->in, x->hash);
    if (!next_token(c, x, &esk))
        return;
    x->first = x->part;
    exec_launch(x, esk);
}
