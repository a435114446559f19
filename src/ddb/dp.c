/* dp.c - see dp.h. */
#include "dp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "index.h"

static const char *const rcc_vals[] = {"INDEXES", "TOTAL", "NONE", NULL};

int dp_capacity_arg(struct ddb_call *c)
{
    int i = ddb_arg_enum(c, c->in, "ReturnConsumedCapacity", "returnConsumedCapacity", rcc_vals);

    return i == 0 ? 2 : i == 1 ? 1 : 0;
}

const char *dp_item_collection(struct ddb_call *c, int ricm, const struct table_keys *k,
                               const cJSON *obj)
{
    const cJSON *hv = cJSON_GetObjectItemCaseSensitive(obj, k->hash);
    struct store_txn *t = NULL;
    struct index_set s = {0};
    struct err e = {0};
    bool local = false;
    const char *out;
    struct buf b;
    char *txt;

    if (ricm != 0 || !hv)
        return NULL;
    if (store_read_begin(c->d->store, &t, &e) == ERR_OK && index_load(t, k->id, &s, &e) == ERR_OK)
        for (size_t i = 0; i < s.n && !local; i++)
            local = !s.v[i].global;
    index_set_free(&s);
    store_txn_abort(t);
    if (!local)
        return NULL;
    buf_init(&b, 0);
    buf_puts(&b, "\"ItemCollectionMetrics\":{\"ItemCollectionKey\":{");
    buf_json_str(&b, k->hash, strlen(k->hash));
    buf_putc(&b, ':');
    txt = cJSON_PrintUnformatted(hv);
    buf_puts(&b, txt);
    free(txt);
    buf_puts(&b, "},\"SizeEstimateRangeGB\":[0.0,1.0]}");
    out = arena_strdup(c->a, b.ptr);
    buf_free(&b);
    return out;
}

double dp_read_units(size_t bytes, bool consistent)
{
    size_t blocks = (bytes + 4095) / 4096;

    if (!blocks)
        blocks = 1;
    return (double)blocks * (consistent ? 1.0 : 0.5);
}

double dp_write_units(size_t bytes)
{
    size_t blocks = (bytes + 1023) / 1024;

    return blocks ? (double)blocks : 1.0;
}

void dp_capacity_entry(struct buf *b, int mode, const char *table, double units)
{
    dp_capacity_units(b, mode, table, units, NULL, NULL);
}

void dp_capacity_units(struct buf *b, int mode, const char *table, double units,
                       const struct index_cost *ic, const char *split)
{
    double total = units + index_cost_total(ic);

    buf_puts(b, "{\"TableName\":");
    buf_json_str(b, table, strlen(table));
    buf_printf(b, ",\"CapacityUnits\":%.1f", total);
    if (split)
        buf_printf(b, ",\"%s\":%.1f", split, total);
    if (mode == 2) {
        buf_printf(b, ",\"Table\":{\"CapacityUnits\":%.1f", units);
        if (split)
            buf_printf(b, ",\"%s\":%.1f", split, units);
        buf_putc(b, '}');
        for (int global = 1; global >= 0; global--) {
            bool first = true;

            for (size_t i = 0; ic && i < ic->n; i++) {
                if (ic->v[i].global != global)
                    continue;
                buf_puts(b, first ? (global ? ",\"GlobalSecondaryIndexes\":{"
                                            : ",\"LocalSecondaryIndexes\":{")
                                  : ",");
                first = false;
                buf_json_str(b, ic->v[i].name, strlen(ic->v[i].name));
                buf_printf(b, ":{\"CapacityUnits\":%.1f}", ic->v[i].units);
            }
            if (!first)
                buf_putc(b, '}');
        }
    }
    buf_putc(b, '}');
}

void dp_put_json(struct buf *b, const cJSON *v)
{
    char *t = cJSON_PrintUnformatted(v);

    buf_puts(b, t ? t : "null");
    free(t);
}

void dp_put_item(struct buf *b, const struct expr_proj *proj, const cJSON *item)
{
    if (proj) {
        cJSON *pr = expr_project(proj, item);

        dp_put_json(b, pr);
        cJSON_Delete(pr);
    } else {
        dp_put_json(b, item);
    }
}

bool dp_legacy(struct ddb_call *c, const char *const *names)
{
    char msg[200];

    for (int i = 0; names[i]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->in, names[i]);

        if (v && !cJSON_IsNull(v)) {
            snprintf(msg, sizeof(msg),
                     "The legacy parameter %s is not supported; use expressions instead", names[i]);
            ddb_reply_err(c, ERR_INVALID, msg);
            return true;
        }
    }
    return false;
}

bool dp_attrs_to_get(struct ddb_call *c, cJSON *in)
{
    cJSON *atg = ddb_arg_arr(c, in, "AttributesToGet");
    cJSON *m, *names;
    struct buf proj;
    char msg[400], ph[24];
    int i = 0;

    if (ddb_args_failed(c))
        return false;
    if (!atg)
        return true;
    if (!atg->child) {
        ddb_check_count(c, atg, "attributesToGet", 1, DDB_NO_MAX);
        ddb_args_failed(c);
        return false;
    }
    for (m = atg->child; m; m = m->next) {
        if (!cJSON_IsString(m)) {
            c->serial = true;
            snprintf(c->serial_msg, sizeof(c->serial_msg),
                     "Unexpected value type in AttributesToGet");
            ddb_args_failed(c);
            return false;
        }
        if (strlen(m->valuestring) > ATTR_NAME_MAX) {
            ddb_reply_err(c, ERR_INVALID,
                          "One or more parameter values were invalid: " ATTR_NAME_TOO_LONG);
            return false;
        }
        for (const cJSON *o = atg->child; o != m; o = o->next)
            if (strcmp(o->valuestring, m->valuestring) == 0) {
                snprintf(msg, sizeof(msg),
                         "One or more parameter values were invalid: Duplicate value in "
                         "attribute name: %.200s",
                         m->valuestring);
                ddb_reply_err(c, ERR_INVALID, msg);
                return false;
            }
    }
    for (i = 0; i < 2; i++) {
        const char *ep = i ? "ExpressionAttributeNames" : "ProjectionExpression";
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, ep);

        if (v && !cJSON_IsNull(v)) {
            snprintf(msg, sizeof(msg),
                     "Can not use both expression and non-expression parameters in the same "
                     "request: Non-expression parameters: {AttributesToGet} Expression "
                     "parameters: {%s}",
                     ep);
            ddb_reply_err(c, ERR_INVALID, msg);
            return false;
        }
    }
    cJSON_DeleteItemFromObjectCaseSensitive(in, "ExpressionAttributeNames");
    cJSON_DeleteItemFromObjectCaseSensitive(in, "ProjectionExpression");
    names = cJSON_AddObjectToObject(in, "ExpressionAttributeNames");
    buf_init(&proj, 64);
    i = 0;
    for (m = atg->child; m; m = m->next, i++) {
        snprintf(ph, sizeof(ph), "#atg%d", i);
        buf_printf(&proj, "%s%s", i ? ", " : "", ph);
        cJSON_AddStringToObject(names, ph, m->valuestring);
    }
    cJSON_AddStringToObject(in, "ProjectionExpression", proj.ptr);
    buf_free(&proj);
    cJSON_DeleteItemFromObjectCaseSensitive(in, "AttributesToGet");
    return true;
}

/* Type letters an AttributeValueList member may have (avl_types). */
#define LT_SNB "S N B"
#define LT_SB  "S B"

/* The legacy comparison operators: argument count (-1: one or more), the
 * types their arguments may have (NULL: any) and how the expression reads
 * (%1$s the name placeholder, then the values). */
static const struct {
    const char *op;
    int nargs;
    bool key;       /* allowed in KeyConditions */
    const char *fn; /* function form, or NULL for an infix operator */
    const char *infix;
    const char *types; /* space-separated AttributeValue types allowed, NULL: any */
} legacy_ops[] = {
    {"EQ", 1, true, NULL, " = ", NULL},
    {"NE", 1, false, NULL, " <> ", NULL},
    {"LE", 1, true, NULL, " <= ", LT_SNB},
    {"LT", 1, true, NULL, " < ", LT_SNB},
    {"GE", 1, true, NULL, " >= ", LT_SNB},
    {"GT", 1, true, NULL, " > ", LT_SNB},
    {"BEGINS_WITH", 1, true, "begins_with", NULL, LT_SB},
    {"CONTAINS", 1, false, "contains", NULL, LT_SNB},
    {"NOT_CONTAINS", 1, false, "NOT contains", NULL, LT_SNB},
    {"BETWEEN", 2, true, NULL, " BETWEEN ", LT_SNB},
    {"IN", -1, false, NULL, " IN ", LT_SNB},
    {"NULL", 0, false, "attribute_not_exists", NULL, NULL},
    {"NOT_NULL", 0, false, "attribute_exists", NULL, NULL},
};

#define N_LEGACY_OPS (sizeof(legacy_ops) / sizeof(legacy_ops[0]))

/* avl_type - the type name of AttributeValue @v ("S", "NS", ...), or NULL
 * when @v is not a one-member object (attr_validate reports it later). */
static const char *avl_type(const cJSON *v)
{
    return cJSON_IsObject(v) && v->child && !v->child->next ? v->child->string : NULL;
}

/* in_types - whether @t is one of the space-separated names in @list. */
static bool in_types(const char *list, const char *t)
{
    size_t n = strlen(t);

    for (const char *p = list; *p;) {
        size_t w = strcspn(p, " ");

        if (w == n && memcmp(p, t, n) == 0)
            return true;
        p += w;
        p += *p == ' ';
    }
    return false;
}

/* avl_check - the AttributeValueList @avl of legacy operator @i checked as
 * DynamoDB checks it: all of one type, a type the operator takes, and
 * BETWEEN's bounds in order. False when answered. */
static bool avl_check(struct ddb_call *c, size_t i, const cJSON *avl)
{
    const char *first = avl ? avl_type(avl->child) : NULL;
    const cJSON *v;
    char msg[200];
    bool ok;

    cJSON_ArrayForEach(v, avl)
    {
        const char *t = avl_type(v);

        if (first && t && strcmp(first, t) != 0) {
            ddb_reply_err(c, ERR_INVALID,
                          "One or more parameter values were invalid: AttributeValues inside "
                          "AttributeValueList must be of same type");
            return false;
        }
    }
    cJSON_ArrayForEach(v, avl)
    {
        const char *t = avl_type(v);

        if (t && legacy_ops[i].types && !in_types(legacy_ops[i].types, t)) {
            snprintf(msg, sizeof(msg),
                     "One or more parameter values were invalid: ComparisonOperator %s is not "
                     "valid for %.8s AttributeValue type",
                     legacy_ops[i].op, t);
            ddb_reply_err(c, ERR_INVALID, msg);
            return false;
        }
    }
    if (legacy_ops[i].nargs == 2 && attr_compare(avl->child, avl->child->next, &ok) > 0 && ok) {
        ddb_reply_err(c, ERR_INVALID,
                      "The BETWEEN condition was provided a range where the lower bound is "
                      "greater than the upper bound");
        return false;
    }
    return true;
}

/* values_valid - Expected's @val (may be NULL) and each member of @avl
 * checked as any AttributeValue is; false when answered. */
static bool values_valid(struct ddb_call *c, cJSON *val, cJSON *avl)
{
    struct err e = {0};
    cJSON *v;

    if (val && !cJSON_IsNull(val) && attr_validate(val, &e))
        goto bad;
    cJSON_ArrayForEach(v, avl)
    {
        if (attr_validate(v, &e))
            goto bad;
    }
    return true;
bad:
    ddb_reply_err(c, ERR_INVALID, e.msg);
    return false;
}

/* fresh - the next placeholder @prefix<N> that @map (the request's names or
 * values, which may hold the caller's own) does not hold yet. */
static void fresh(const cJSON *map, const char *prefix, int *n, char *ph, size_t size)
{
    do
        snprintf(ph, size, "%s%d", prefix, (*n)++);
    while (cJSON_GetObjectItemCaseSensitive(map, ph));
}

static void add_value(cJSON *values, struct buf *x, const cJSON *v, int *nv)
{
    char ph[24];

    fresh(values, ":lc", nv, ph, sizeof(ph));
    buf_puts(x, ph);
    cJSON_AddItemToObject(values, ph, cJSON_Duplicate(v, true));
}

/* op_index - @op's place in legacy_ops, or -1. */
static int op_index(const char *op)
{
    for (size_t i = 0; op && i < N_LEGACY_OPS; i++)
        if (strcmp(op, legacy_ops[i].op) == 0)
            return (int)i;
    return -1;
}

/* expected_form - Expected's {"Value": v} / {"Exists": false} form of
 * condition @m: 1 when appended to @x, 0 when @m is of the
 * ComparisonOperator form (a Value beside the operator, which DynamoDB takes
 * as its one argument, is moved into AttributeValueList), -1 when answered. */
static int expected_form(struct ddb_call *c, cJSON *m, struct buf *x, cJSON *names, cJSON *values,
                         const char *op_name, int *nn, int *nv)
{
    const cJSON *val = cJSON_GetObjectItemCaseSensitive(m, "Value");
    const cJSON *ex = cJSON_GetObjectItemCaseSensitive(m, "Exists");
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(m, "ComparisonOperator");
    const cJSON *avl = cJSON_GetObjectItemCaseSensitive(m, "AttributeValueList");
    bool exists = !cJSON_IsFalse(ex);
    char ph[24], msg[300], why[120];

    if (cJSON_IsNull(val))
        val = NULL;
    if (cJSON_IsNull(op))
        op = NULL;
    if (cJSON_IsNull(avl))
        avl = NULL;
    if (ex && !cJSON_IsBool(ex) && !cJSON_IsNull(ex)) {
        c->serial = true;
        snprintf(c->serial_msg, sizeof(c->serial_msg), "Unexpected value type in Exists");
        ddb_args_failed(c);
        return -1;
    }
    if (cJSON_IsNull(ex))
        ex = NULL;
    if (op && op_index(op->valuestring) < 0)
        return 0; /* the operator's own check answers */
    why[0] = '\0';
    if (val && avl)
        snprintf(why, sizeof(why), "Value and AttributeValueList cannot be used together");
    else if (avl && !op)
        snprintf(why, sizeof(why), "AttributeValueList can only be used with a ComparisonOperator");
    else if (op && ex)
        snprintf(why, sizeof(why), "Exists and ComparisonOperator cannot be used together");
    else if (op && !val && !avl && legacy_ops[op_index(op->valuestring)].nargs)
        snprintf(why, sizeof(why),
                 "Value or AttributeValueList must be used with ComparisonOperator: %s",
                 op->valuestring);
    else if (op && val) {
        cJSON *list = cJSON_AddArrayToObject(m, "AttributeValueList");

        cJSON_AddItemToArray(list, cJSON_Duplicate(val, true));
        return 0;
    } else if (op)
        return 0;
    else if (!val && exists)
        snprintf(why, sizeof(why), "Value must be provided when Exists is %s",
                 ex ? "true" : "null");
    else if (val && !exists)
        snprintf(why, sizeof(why), "Value cannot be used when Exists is false");
    if (why[0]) {
        snprintf(msg, sizeof(msg),
                 "One or more parameter values were invalid: %s for Attribute: %.100s", why,
                 m->string);
        ddb_reply_err(c, ERR_INVALID, msg);
        return -1;
    }
    fresh(names, "#lc", nn, ph, sizeof(ph));
    cJSON_AddStringToObject(names, ph, m->string);
    if (x->len)
        buf_puts(x, op_name && strcmp(op_name, "OR") == 0 ? " OR " : " AND ");
    if (!exists) {
        buf_printf(x, "(attribute_not_exists(%s))", ph);
    } else {
        buf_printf(x, "(%s = ", ph);
        add_value(values, x, val, nv);
        buf_putc(x, ')');
    }
    return 1;
}

/* name_index - where @name is in the NULL-terminated @names (at most 32),
 * or -1. */
static int name_index(const char *const *names, const char *name)
{
    for (int i = 0; i < 32 && names[i]; i++)
        if (names[i][0] == name[0] && strcmp(names[i], name) == 0)
            return i;
    return -1;
}

bool dp_legacy_mix(struct ddb_call *c, const cJSON *in, const char *const *legacy)
{
    static const char *const exprs[] = {"KeyConditionExpression",    "FilterExpression",
                                        "ProjectionExpression",      "ConditionExpression",
                                        "UpdateExpression",          "ExpressionAttributeNames",
                                        "ExpressionAttributeValues", NULL};
    const char *l, *x;
    char msg[300];
    unsigned seen_l = 0, seen_x = 0;
    int li = -1, xi = -1;

    /* One pass over the request's members (a handful) instead of a lookup
     * per name; the first member of each name decides, as a lookup would. */
    for (const cJSON *m = in ? in->child : NULL; m; m = m->next) {
        int i;

        if (!m->string)
            continue;
        if ((i = name_index(legacy, m->string)) >= 0 && !(seen_l & 1u << i)) {
            seen_l |= 1u << i;
            if (!cJSON_IsNull(m) && (li < 0 || i < li))
                li = i;
        }
        if ((i = name_index(exprs, m->string)) >= 0 && !(seen_x & 1u << i)) {
            seen_x |= 1u << i;
            if (!cJSON_IsNull(m) && (xi < 0 || i < xi))
                xi = i;
        }
    }
    if (li < 0 || xi < 0)
        return true;
    l = legacy[li];
    x = exprs[xi];
    snprintf(msg, sizeof(msg),
             "Can not use both expression and non-expression parameters in the same request: "
             "Non-expression parameters: {%s} Expression parameters: {%s}",
             l, x);
    ddb_reply_err(c, ERR_INVALID, msg);
    return false;
}

/* conditional_operator - ConditionalOperator (@op_name) checked against the
 * @n conditions of @param as DynamoDB checks it; false when answered. */
static bool conditional_operator(struct ddb_call *c, const char *op_name, int n)
{
    if (!op_name)
        return true;
    if (strcmp(op_name, "AND") != 0 && strcmp(op_name, "OR") != 0) {
        ddb_verr(c,
                 "Value '%.40s' at 'conditionalOperator' failed to satisfy constraint: Member "
                 "must satisfy enum value set: [OR, AND]",
                 op_name);
        ddb_args_failed(c);
        return false;
    }
    if (n < 2) {
        ddb_reply_err(c, ERR_INVALID,
                      n ? "ConditionalOperator can only be used when Filter or Expected has two "
                          "or more elements"
                        : "ConditionalOperator cannot be used without Filter or Expected");
        return false;
    }
    return true;
}

/* lookup_op - legacy condition @m's ComparisonOperator, checked (known,
 * allowed in a key condition when @key, argument count and types) with
 * @param naming where it sits; its legacy_ops index, or -1 when answered. */
static int lookup_op(struct ddb_call *c, const cJSON *m, const char *op, const cJSON *avl,
                     const char *param, bool key)
{
    char msg[300], path[160];
    int i = op_index(op);
    int nargs = cJSON_GetArraySize(avl);

    snprintf(path, sizeof(path), "%c%s.%.80s.member.comparisonOperator", param[0] | 0x20, param + 1,
             m->string);
    if (!op) {
        ddb_verr_null(c, path);
        ddb_args_failed(c);
        return -1;
    }
    if (i < 0) {
        ddb_verr(c,
                 "Value '%.40s' at '%s' failed to satisfy constraint: Member must satisfy enum "
                 "value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, "
                 "BEGINS_WITH, GE, CONTAINS]",
                 op, path);
        ddb_args_failed(c);
        return -1;
    }
    if (key && !legacy_ops[i].key) {
        ddb_reply_err(c, ERR_INVALID,
                      "Attempted conditional constraint is not an indexable operation");
        return -1;
    }
    if (legacy_ops[i].nargs < 0 ? nargs < 1 : nargs != legacy_ops[i].nargs) {
        snprintf(msg, sizeof(msg),
                 "One or more parameter values were invalid: Invalid number of argument(s) for "
                 "the %s ComparisonOperator",
                 legacy_ops[i].op);
        ddb_reply_err(c, ERR_INVALID, msg);
        return -1;
    }
    return avl_check(c, (size_t)i, avl) ? i : -1;
}

bool dp_legacy_conds(struct ddb_call *c, cJSON *in, const char *param, const char *expr_name,
                     bool key)
{
    cJSON *conds = ddb_arg_obj(c, in, param), *names, *values, *m;
    const char *op_name = key ? NULL : ddb_arg_str(c, in, "ConditionalOperator");
    bool expected = strcmp(param, "Expected") == 0;
    struct buf x;
    char ph[24];
    int nn, nv;

    if (ddb_args_failed(c) || !conditional_operator(c, op_name, cJSON_GetArraySize(conds)))
        return false;
    if (!conds)
        return true;
    /* earlier conversions' placeholders are #lcN / :lcN with N below the count */
    names = cJSON_GetObjectItemCaseSensitive(in, "ExpressionAttributeNames");
    if (!names)
        names = cJSON_AddObjectToObject(in, "ExpressionAttributeNames");
    values = cJSON_GetObjectItemCaseSensitive(in, "ExpressionAttributeValues");
    if (!values)
        values = cJSON_AddObjectToObject(in, "ExpressionAttributeValues");
    nn = cJSON_GetArraySize(names);
    nv = cJSON_GetArraySize(values);
    buf_init(&x, 0);
    for (m = conds->child; m; m = m->next) {
        const char *op = ddb_arg_str(c, m, "ComparisonOperator");
        cJSON *avl = ddb_arg_arr(c, m, "AttributeValueList"), *v;
        int i;

        if (ddb_args_failed(c) ||
            !values_valid(c, expected ? cJSON_GetObjectItemCaseSensitive(m, "Value") : NULL, avl))
            goto fail;
        if (expected) {
            int f = expected_form(c, m, &x, names, values, op_name, &nn, &nv);

            if (f < 0)
                goto fail;
            if (f > 0)
                continue;
            avl = cJSON_GetObjectItemCaseSensitive(m, "AttributeValueList");
        }
        if ((i = lookup_op(c, m, op, avl, param, key)) < 0)
            goto fail;
        fresh(names, "#lc", &nn, ph, sizeof(ph));
        cJSON_AddStringToObject(names, ph, m->string);
        if (x.len)
            buf_puts(&x, op_name && strcmp(op_name, "OR") == 0 ? " OR " : " AND ");
        buf_putc(&x, '(');
        /* NOT_CONTAINS is false, as CONTAINS is, when the attribute is missing */
        if (strcmp(legacy_ops[i].op, "NOT_CONTAINS") == 0)
            buf_printf(&x, "attribute_exists(%s) AND ", ph);
        if (legacy_ops[i].fn) {
            buf_printf(&x, "%s(%s", legacy_ops[i].fn, ph);
            cJSON_ArrayForEach(v, avl)
            {
                buf_puts(&x, ", ");
                add_value(values, &x, v, &nv);
            }
            buf_putc(&x, ')');
        } else {
            buf_printf(&x, "%s%s", ph, legacy_ops[i].infix);
            if (legacy_ops[i].nargs < 0)
                buf_putc(&x, '(');
            cJSON_ArrayForEach(v, avl)
            {
                if (v != avl->child)
                    buf_puts(&x, legacy_ops[i].nargs == 2 ? " AND " : ", ");
                add_value(values, &x, v, &nv);
            }
            if (legacy_ops[i].nargs < 0)
                buf_putc(&x, ')');
        }
        buf_putc(&x, ')');
    }
    /* a global index's key may have up to 8 attributes (index_keys.h) */
    if (key && (!conds->child ||
                cJSON_GetArraySize(conds) >
                    (cJSON_GetObjectItemCaseSensitive(in, "IndexName") ? INDEX_KEYS_MAX : 2))) {
        ddb_reply_err(c, ERR_INVALID, "Conditions can be of length 1 or 2 only");
        goto fail;
    }
    if (!names->child)
        cJSON_DeleteItemFromObjectCaseSensitive(in, "ExpressionAttributeNames");
    if (!values->child)
        cJSON_DeleteItemFromObjectCaseSensitive(in, "ExpressionAttributeValues");
    if (x.len)
        cJSON_AddStringToObject(in, expr_name, x.ptr);
    buf_free(&x);
    cJSON_DeleteItemFromObjectCaseSensitive(in, param);
    if (!key)
        cJSON_DeleteItemFromObjectCaseSensitive(in, "ConditionalOperator");
    return true;
fail:
    buf_free(&x);
    return false;
}

bool dp_lookup_keys(struct ddb_call *c, const char *table, struct table_keys *k)
{
    struct store_txn *t = NULL;
    struct err e = {0};
    enum err_code rc = store_read_begin(c->d->store, &t, &e);

    if (!rc)
        rc = table_keys_get(t, table, k, &e);
    store_txn_abort(t);
    if (rc) {
        ddb_reply_err(c, rc, e.msg);
        return false;
    }
    return true;
}

static bool fail(struct ddb_call *c, const struct err *e)
{
    ddb_reply_err(c, e->code ? e->code : ERR_INVALID, e->msg);
    return false;
}

bool dp_expr_args_check(struct ddb_call *c, cJSON *names, cJSON *values, bool names_used,
                        bool values_used)
{
    struct err e = {0};
    cJSON *v;
    char msg[400];

    if (names && !names_used) {
        ddb_reply_err(c, ERR_INVALID,
                      "ExpressionAttributeNames can only be specified when using expressions");
        return false;
    }
    if (values && !values_used) {
        ddb_reply_err(c, ERR_INVALID,
                      "ExpressionAttributeValues can only be specified when using expressions");
        return false;
    }
    if (names && !names->child) {
        ddb_reply_err(c, ERR_INVALID, "ExpressionAttributeNames must not be empty");
        return false;
    }
    if (values && !values->child) {
        ddb_reply_err(c, ERR_INVALID, "ExpressionAttributeValues must not be empty");
        return false;
    }
    cJSON_ArrayForEach(v, names)
    {
        if (!cJSON_IsString(v)) {
            c->serial = true;
            snprintf(c->serial_msg, sizeof(c->serial_msg),
                     "Unexpected value type in ExpressionAttributeNames");
            ddb_args_failed(c);
            return false;
        }
        if (strlen(v->valuestring) > ATTR_NAME_MAX) {
            snprintf(msg, sizeof(msg),
                     "ExpressionAttributeNames contains invalid value: " ATTR_NAME_TOO_LONG
                     " for key %.60s",
                     v->string);
            ddb_reply_err(c, ERR_INVALID, msg);
            return false;
        }
    }
    cJSON_ArrayForEach(v, values)
    {
        if (attr_validate(v, &e)) {
            snprintf(msg, sizeof(msg),
                     "ExpressionAttributeValues contains invalid value: %s for key %.60s", e.msg,
                     v->string);
            ddb_reply_err(c, ERR_INVALID, msg);
            return false;
        }
    }
    return true;
}

bool dp_exprs_parse(struct ddb_call *c, cJSON *in, unsigned which, struct dp_exprs *x)
{
    cJSON *names = ddb_arg_obj(c, in, "ExpressionAttributeNames");
    cJSON *values = ddb_arg_obj(c, in, "ExpressionAttributeValues");
    const char *cond = which & DP_COND ? ddb_arg_str(c, in, "ConditionExpression") : NULL;
    const char *filter = which & DP_FILTER ? ddb_arg_str(c, in, "FilterExpression") : NULL;
    const char *keycond = which & DP_KEYCOND ? ddb_arg_str(c, in, "KeyConditionExpression") : NULL;
    const char *proj = which & DP_PROJ ? ddb_arg_str(c, in, "ProjectionExpression") : NULL;
    const char *upd = which & DP_UPDATE ? ddb_arg_str(c, in, "UpdateExpression") : NULL;
    struct err e = {0};

    memset(x, 0, sizeof(*x));
    if (ddb_args_failed(c))
        return false;
    if (!dp_expr_args_check(c, names, values, cond || filter || keycond || proj || upd,
                            cond || filter || keycond || upd))
        return false;
    expr_ctx_init(&x->ctx, c->a, names, values);
    if (keycond &&
        expr_parse_condition(&x->ctx, keycond, "KeyConditionExpression", &x->keycond, &e))
        return fail(c, &e);
    if (upd && expr_parse_update(&x->ctx, upd, &x->upd, &e))
        return fail(c, &e);
    if (cond && expr_parse_condition(&x->ctx, cond, "ConditionExpression", &x->cond, &e))
        return fail(c, &e);
    if (filter && expr_parse_condition(&x->ctx, filter, "FilterExpression", &x->filter, &e))
        return fail(c, &e);
    if (proj && expr_parse_projection(&x->ctx, proj, &x->proj, &e))
        return fail(c, &e);
    if (expr_check_unused(&x->ctx, &e))
        return fail(c, &e);
    return true;
}
