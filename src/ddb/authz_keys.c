/* authz_keys.c - DynamoDB's condition keys for the authorizer. See authz_keys.h. */
#include "authz_keys.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mem.h"
#include "store.h"
#include "table.h"

void ddb_kvs_add(struct ddb_call *c, struct ddb_kvs *l, const char *key, const char *value)
{
    for (size_t i = 0; i < l->n; i++) /* a value once per key */
        if (strcmp(l->kv[i].key, key) == 0 && strcmp(l->kv[i].value, value) == 0)
            return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct authz_kv *kv = arena_alloc(c->a, cap * sizeof(*kv));
        if (l->n)
            memcpy(kv, l->kv, l->n * sizeof(*kv));
        l->kv = kv;
        l->cap = cap;
    }
    l->kv[l->n++] = (struct authz_kv){key, value};
}

/* scalar - the text of a scalar AttributeValue ({"S": "x"} -> "x"), or NULL. */
static const char *scalar(const cJSON *av)
{
    const cJSON *v = av ? av->child : NULL;

    if (!v || !cJSON_IsString(v) ||
        (strcmp(v->string, "S") != 0 && strcmp(v->string, "N") != 0 && strcmp(v->string, "B") != 0))
        return NULL;
    return v->valuestring;
}

/* name_of - @tok (len @len) resolved through ExpressionAttributeNames. */
static const char *name_of(struct ddb_call *c, const cJSON *in, const char *tok, size_t len)
{
    char *s = arena_sprintf(c->a, "%.*s", (int)len, tok);

    if (*s == '#') {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(in, "ExpressionAttributeNames"), s);
        return cJSON_IsString(v) ? v->valuestring : NULL;
    }
    return s;
}

static bool keyword(const char *s, size_t len)
{
    static const char *const kw[] = {"SET", "REMOVE", "ADD",     "DELETE", "AND",
                                     "OR",  "NOT",    "BETWEEN", "IN"};

    for (size_t i = 0; i < sizeof(kw) / sizeof(kw[0]); i++)
        if (strlen(kw[i]) == len && strncasecmp(s, kw[i], len) == 0)
            return true;
    return false;
}

/* expr_names - every top-level attribute name expression @text names: each
 * path's first element, not function names, keywords or :values. When
 * @hash is set, also the value of "@hash = :v" into *@hash_value. */
static void expr_names(struct ddb_call *c, const cJSON *in, const char *text, struct ddb_kvs *l,
                       const char *hash, const char **hash_value)
{
    const char *p = text;
    char prev = ',';

    while (p && *p) {
        const char *s = p, *q;
        const char *name;
        size_t len;
        if (isspace((unsigned char)*p)) {
            p++;
            continue;
        }
        if (*p == ':' || isdigit((unsigned char)*p)) { /* a value or an index */
            for (p++; *p && (isalnum((unsigned char)*p) || *p == '_'); p++)
                ;
            prev = 'v';
            continue;
        }
        if (!(*p == '#' || *p == '_' || isalpha((unsigned char)*p))) {
            prev = *p++;
            continue;
        }
        for (p++; *p && (isalnum((unsigned char)*p) || *p == '_'); p++)
            ;
        len = (size_t)(p - s);
        for (q = p; isspace((unsigned char)*q); q++)
            ;
        if (prev == '.' || *q == '(' || keyword(s, len)) {
            prev = 'w';
            continue;
        }
        prev = 'w';
        if (!(name = name_of(c, in, s, len)))
            continue;
        ddb_kvs_add(c, l, "dynamodb:Attributes", name);
        if (hash && hash_value && strcmp(name, hash) == 0 && q[0] == '=' && q[1] != '=') {
            const char *v = q + 1, *e;
            while (isspace((unsigned char)*v))
                v++;
            for (e = v + 1; *v == ':' && (isalnum((unsigned char)*e) || *e == '_'); e++)
                ;
            if (*v == ':') {
                char *ph = arena_sprintf(c->a, "%.*s", (int)(e - v), v);
                *hash_value = scalar(cJSON_GetObjectItemCaseSensitive(
                    cJSON_GetObjectItemCaseSensitive(in, "ExpressionAttributeValues"), ph));
            }
        }
    }
}

void ddb_authz_keys(struct ddb_call *c, const cJSON *in, const char *table, struct ddb_kvs *l)
{
    static const char *const exprs[] = {"ProjectionExpression", "UpdateExpression",
                                        "KeyConditionExpression"};
    struct table_keys k;
    struct store_txn *t = NULL;
    bool have_keys = false;
    const cJSON *x, *obj;
    const char *lead = NULL;

    memset(&k, 0, sizeof(k));
    /* the key schema, only when the request names key values */
    if (table &&
        (cJSON_GetObjectItemCaseSensitive(in, "Key") ||
         cJSON_GetObjectItemCaseSensitive(in, "Item") ||
         cJSON_GetObjectItemCaseSensitive(in, "KeyConditionExpression")) &&
        store_read_begin(c->d->store, &t, NULL) == ERR_OK) {
        have_keys = table_keys_get(t, table, &k, NULL) == ERR_OK;
        store_txn_abort(t);
    }
    /* Key (GetItem, UpdateItem, DeleteItem) or Item (PutItem) */
    obj = cJSON_GetObjectItemCaseSensitive(in, "Key");
    if (!cJSON_IsObject(obj))
        obj = cJSON_GetObjectItemCaseSensitive(in, "Item");
    if (cJSON_IsObject(obj)) {
        cJSON_ArrayForEach(x, obj)
        {
            ddb_kvs_add(c, l, "dynamodb:Attributes", x->string);
            if (have_keys && strcmp(x->string, k.hash) == 0 && (lead = scalar(x)))
                ddb_kvs_add(c, l, "dynamodb:LeadingKeys", lead);
        }
    }
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(in, "AttributesToGet"))
    {
        if (cJSON_IsString(x))
            ddb_kvs_add(c, l, "dynamodb:Attributes", x->valuestring);
    }
    for (size_t i = 0; i < sizeof(exprs) / sizeof(exprs[0]); i++) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(in, exprs[i]);
        lead = NULL;
        if (!cJSON_IsString(e))
            continue;
        expr_names(c, in, e->valuestring, l, i == 2 && have_keys ? k.hash : NULL, &lead);
        if (lead)
            ddb_kvs_add(c, l, "dynamodb:LeadingKeys", lead);
    }
    if (cJSON_IsString(x = cJSON_GetObjectItemCaseSensitive(in, "Select")))
        ddb_kvs_add(c, l, "dynamodb:Select", x->valuestring);
    if (cJSON_IsString(x = cJSON_GetObjectItemCaseSensitive(in, "ReturnValues")))
        ddb_kvs_add(c, l, "dynamodb:ReturnValues", x->valuestring);
}

void ddb_authz_select_default(struct ddb_call *c, const cJSON *in, struct ddb_kvs *l)
{
    const char *sel = "ALL_ATTRIBUTES";

    if (cJSON_GetObjectItemCaseSensitive(in, "Select"))
        return;
    /* QueryRequest.Select: "If neither Select nor ProjectionExpression are
     * specified, DynamoDB defaults to ALL_ATTRIBUTES when accessing a table, and
     * ALL_PROJECTED_ATTRIBUTES when accessing an index"; a projection alone is
     * SPECIFIC_ATTRIBUTES */
    if (cJSON_GetObjectItemCaseSensitive(in, "ProjectionExpression") ||
        cJSON_GetObjectItemCaseSensitive(in, "AttributesToGet"))
        sel = "SPECIFIC_ATTRIBUTES";
    else if (cJSON_GetObjectItemCaseSensitive(in, "IndexName"))
        sel = "ALL_PROJECTED_ATTRIBUTES";
    ddb_kvs_add(c, l, "dynamodb:Select", sel);
}
