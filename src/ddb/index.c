/* index.c - secondary indexes (see index.h). */
#include "index.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "index_keys.h"
#include "item.h"
#include "keys.h"
#include "mem.h"
#include "sigv4.h"

enum {
    LSI_MAX = 5,
    GSI_MAX = 20,
    NONKEY_MAX = 100,
    KEY_LIMIT = 511, /* store_put's limit */
};

static const char *const proj_names[] = {"ALL", "KEYS_ONLY", "INCLUDE", NULL};
static const char *const type_names[] = {"S", "N", "B", NULL};

/* ---- the record ---- */

static void tidx_key(unsigned char k[13], uint64_t id)
{
    memcpy(k, "tidx/", 5);
    for (int i = 0; i < 8; i++)
        k[5 + i] = (unsigned char)(id >> (56 - 8 * i));
}

static void def_from_json(struct index_def *d, const cJSON *o)
{
    const char *r = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "r"));

    memset(d, 0, sizeof(*d));
    snprintf(d->name, sizeof(d->name), "%s",
             cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "n")));
    d->global = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "g"));
    d->k.id = (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, "id"));
    snprintf(d->k.hash, sizeof(d->k.hash), "%s",
             cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "h")));
    d->k.htype = (enum keys_type)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, "ht"));
    if (r) {
        d->k.has_range = true;
        snprintf(d->k.range, sizeof(d->k.range), "%s", r);
        d->k.rtype =
            (enum keys_type)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, "rt"));
    }
    d->proj = (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, "p"));
    d->k.nul0 = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "z"));
    d->include = cJSON_GetObjectItemCaseSensitive(o, "inc");
    index_keys_load(d, o);
}

static enum err_code record_get(struct store_txn *t, uint64_t table_id, cJSON **out, struct err *e)
{
    unsigned char k[13];
    struct slice v;
    enum err_code rc;

    *out = NULL;
    tidx_key(k, table_id);
    rc = store_get(t, STORE_DB_META, slice_of(k, sizeof(k)), &v, e);
    if (rc == ERR_NOTFOUND)
        return ERR_OK;
    if (rc)
        return rc;
    *out = cJSON_ParseWithLength(v.ptr, v.len);
    return *out ? ERR_OK : err_set(e, ERR_INTERNAL, "corrupt index record");
}

static enum err_code record_put(struct store_txn *t, uint64_t table_id, const cJSON *rec,
                                struct err *e)
{
    unsigned char k[13];
    char *text;
    enum err_code rc;

    tidx_key(k, table_id);
    if (!cJSON_GetArraySize(rec)) {
        rc = store_del(t, STORE_DB_META, slice_of(k, sizeof(k)), e);
        return rc == ERR_NOTFOUND ? ERR_OK : rc;
    }
    text = cJSON_PrintUnformatted(rec);
    rc = store_put(t, STORE_DB_META, slice_of(k, sizeof(k)), slice_str(text), e);
    free(text);
    return rc;
}

enum err_code index_load(struct store_txn *t, uint64_t table_id, struct index_set *out,
                         struct err *e)
{
    const cJSON *o;
    size_t i = 0;
    enum err_code rc;

    memset(out, 0, sizeof(*out));
    rc = record_get(t, table_id, &out->json, e);
    if (rc || !out->json)
        return rc;
    out->n = (size_t)cJSON_GetArraySize(out->json);
    out->v = xcalloc(out->n ? out->n : 1, sizeof(*out->v));
    cJSON_ArrayForEach(o, out->json)
    {
        def_from_json(&out->v[i++], o);
    }
    return ERR_OK;
}

void index_set_free(struct index_set *s)
{
    free(s->v);
    cJSON_Delete(s->json);
    memset(s, 0, sizeof(*s));
}

const struct index_def *index_find(const struct index_set *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i].name, name) == 0)
            return &s->v[i];
    return NULL;
}

/* ---- keys ---- */

enum err_code index_bound(const struct index_def *ix, const cJSON *hash_av, const cJSON *range_av,
                          struct buf *out, struct err *e)
{
    enum err_code rc;

    keys_append_table(out, ix->k.id);
    rc = index_keys_value(out, ix->k.htype, ix->k.nul0, hash_av, e);
    if (!rc && range_av && ix->k.has_range)
        rc = index_keys_value(out, ix->k.rtype, ix->k.nul0, range_av, e);
    if (rc == ERR_NOTFOUND)
        rc = err_set(e, ERR_INVALID,
                     "One or more parameter values were invalid: Condition parameter type does "
                     "not match schema type");
    return rc;
}

enum err_code index_entry_key(const struct index_def *ix, const cJSON *item,
                              const struct buf *base_key, struct buf *out, struct err *e)
{
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(item, ix->k.hash);
    const cJSON *r = ix->k.has_range ? cJSON_GetObjectItemCaseSensitive(item, ix->k.range) : NULL;
    enum err_code rc;

    if (ix->multi) {
        rc = index_keys_entry(ix, item, out, e);
    } else {
        if (!h || (ix->k.has_range && !r))
            return ERR_NOTFOUND;
        keys_append_table(out, ix->k.id);
        rc = index_keys_value(out, ix->k.htype, ix->k.nul0, h, e);
        if (!rc && r)
            rc = index_keys_value(out, ix->k.rtype, ix->k.nul0, r, e);
    }
    if (rc)
        return rc;
    if (out->len + base_key->len - 8 <= KEY_LIMIT) {
        buf_append(out, base_key->ptr + 8, base_key->len - 8);
    } else {
        char hex[65];

        sigv4_sha256_hex(base_key->ptr + 8, base_key->len - 8, hex);
        buf_append(out, hex, 64);
    }
    return ERR_OK;
}

static void add_attr(cJSON *dst, const cJSON *src, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(src, name);

    if (v && !cJSON_GetObjectItemCaseSensitive(dst, name))
        cJSON_AddItemToObject(dst, name, cJSON_Duplicate(v, true));
}

/* project - the item as index @ix keeps it (owned). */
static cJSON *project(const struct index_def *ix, const struct table_keys *base, const cJSON *item)
{
    cJSON *o;
    const cJSON *a;

    if (ix->proj == INDEX_PROJ_ALL)
        return cJSON_Duplicate(item, true);
    o = cJSON_CreateObject();
    add_attr(o, item, base->hash);
    if (base->has_range)
        add_attr(o, item, base->range);
    for (unsigned i = 0; i < ix->nkeys; i++)
        add_attr(o, item, ix->keys[i].name);
    if (ix->proj == INDEX_PROJ_INCLUDE)
        cJSON_ArrayForEach(a, ix->include)
        {
            if (cJSON_IsString(a))
                add_attr(o, item, a->valuestring);
        }
    return o;
}

/* check_keys - @item's index key attributes, when present, must have the
 * index's types and not be empty (the service refuses the write); the HASH
 * values may take 2048 bytes together, the RANGE ones 1024. @update: an
 * UpdateExpression made the item, and DynamoDB words an empty value without
 * naming the index. */
static enum err_code check_keys_as(const struct index_def *ix, const cJSON *item, bool update,
                                   struct err *e)
{
    static const enum attr_type want[] = {ATTR_S, ATTR_N, ATTR_B};
    size_t sum[2] = {0, 0};

    for (unsigned i = 0; i < ix->nkeys; i++) {
        const char *name = ix->keys[i].name;
        enum keys_type type = ix->keys[i].type;
        const cJSON *av = cJSON_GetObjectItemCaseSensitive(item, name);
        const cJSON *p = attr_payload(av);
        int range = i >= ix->nhash;

        if (!av)
            continue;
        if (attr_type_of(av) != want[type])
            return err_set(e, ERR_INVALID,
                           "One or more parameter values were invalid: Type mismatch for Index "
                           "Key %s Expected: %s Actual: %s IndexName: %s",
                           name, type_names[type], attr_type_name(attr_type_of(av)), ix->name);
        if (type != KEYS_N && cJSON_IsString(p) && !*p->valuestring && update)
            return err_set(e, ERR_INVALID,
                           "One or more parameter values are not valid. The update expression "
                           "attempted to update a secondary index key to a value that is not "
                           "supported. The AttributeValue for a key attribute cannot contain an "
                           "empty %s value.",
                           type == KEYS_S ? "string" : "binary");
        if (type != KEYS_N && cJSON_IsString(p) && !*p->valuestring)
            return err_set(e, ERR_INVALID,
                           "One or more parameter values are not valid. A value specified for a "
                           "secondary index key is not supported. The AttributeValue for a key "
                           "attribute cannot contain an empty %s value. IndexName: %s, IndexKey: "
                           "%s",
                           type == KEYS_S ? "string" : "binary", ix->name, name);
        if (type != KEYS_N && cJSON_IsString(p)) {
            /* DynamoDB's key size limits: 2048 bytes for a hash key, 1024 for a range key */
            size_t n = type == KEYS_S ? attr_str_len(p->valuestring) : strlen(p->valuestring);

            if (type == KEYS_B) /* base64 text: the decoded length */
                n = n / 4 * 3 - (n >= 1 && p->valuestring[n - 1] == '=') -
                    (n >= 2 && p->valuestring[n - 2] == '=');
            sum[range] += n;
            if (sum[range] > (range ? 1024u : 2048u))
                return err_set(e, ERR_INVALID,
                               range ? "One or more parameter values were invalid: Aggregated "
                                       "size of all range keys has exceeded the size limit of "
                                       "1024 bytes"
                                     : "One or more parameter values were invalid: Size of "
                                       "hashkey has exceeded the maximum size limit of 2048 bytes");
        }
    }
    return ERR_OK;
}

static enum err_code check_keys(const struct index_def *ix, const cJSON *item, struct err *e)
{
    return check_keys_as(ix, item, false, e);
}

/* check_all - check_keys for every index of @s, in index name order: of two
 * indexes keyed on one attribute DynamoDB names the first by name (a table
 * with gsi1 and lsi1 on one attribute names gsi1, whatever their kinds). */
static enum err_code check_all(const struct index_set *s, const cJSON *item, bool update,
                               struct err *e)
{
    const char *last = NULL;

    for (size_t n = 0; n < s->n; n++) {
        const struct index_def *next = NULL;
        enum err_code rc;

        for (size_t i = 0; i < s->n; i++)
            if ((!last || strcmp(s->v[i].name, last) > 0) &&
                (!next || strcmp(s->v[i].name, next->name) < 0))
                next = &s->v[i];
        if (!next)
            break;
        rc = check_keys_as(next, item, update, e);
        if (rc)
            return rc;
        last = next->name;
    }
    return ERR_OK;
}

enum err_code index_check_item(struct store_txn *t, uint64_t table_id, const cJSON *item,
                               bool update, struct err *e)
{
    struct index_set s;
    enum err_code rc = index_load(t, table_id, &s, e);

    if (!rc)
        rc = check_all(&s, item, update, e);
    index_set_free(&s);
    return rc;
}

/* entry_put / entry_del - one index's entry for @item, with its counters. */
static enum err_code entry_put(struct store_txn *t, const struct index_def *ix,
                               const struct table_keys *base, const struct buf *base_key,
                               const cJSON *item, struct err *e)
{
    struct buf k, v;
    cJSON *p;
    char *text;
    enum err_code rc;

    rc = check_keys(ix, item, e);
    if (rc)
        return rc;
    buf_init(&k, 0);
    rc = index_entry_key(ix, item, base_key, &k, e);
    if (rc) {
        buf_free(&k);
        return rc == ERR_NOTFOUND ? ERR_OK : rc;
    }
    p = project(ix, base, item);
    text = cJSON_PrintUnformatted(p);
    buf_init(&v, 0);
    buf_putc(&v, DDB_ITEM_FMT_JSON);
    buf_puts(&v, text);
    rc = store_put(t, STORE_DB_DATA, slice_of(k.ptr, k.len), slice_of(v.ptr, v.len), e);
    if (!rc)
        rc = table_stats_add(t, ix->k.id, 1, (int64_t)attr_item_size(p), e);
    free(text);
    cJSON_Delete(p);
    buf_free(&v);
    buf_free(&k);
    return rc;
}

static enum err_code entry_del(struct store_txn *t, const struct index_def *ix,
                               const struct table_keys *base, const struct buf *base_key,
                               const cJSON *item, struct err *e)
{
    struct buf k;
    cJSON *p;
    enum err_code rc;

    buf_init(&k, 0);
    rc = index_entry_key(ix, item, base_key, &k, e);
    if (rc) {
        buf_free(&k);
        return rc == ERR_NOTFOUND ? ERR_OK : rc;
    }
    rc = store_del(t, STORE_DB_DATA, slice_of(k.ptr, k.len), e);
    buf_free(&k);
    if (rc == ERR_NOTFOUND)
        return ERR_OK;
    if (rc)
        return rc;
    p = project(ix, base, item);
    rc = table_stats_add(t, ix->k.id, -1, -(int64_t)attr_item_size(p), e);
    cJSON_Delete(p);
    return rc;
}

static void cost_put(struct index_cost *c, const struct index_def *ix, double units)
{
    size_t i = 0;

    while (i < c->n && strcmp(c->v[i].name, ix->name) != 0)
        i++;
    if (i == c->n) {
        if (c->n == INDEX_COST_MAX)
            return;
        snprintf(c->v[i].name, sizeof(c->v[i].name), "%s", ix->name);
        c->v[i].global = ix->global;
        c->v[i].units = 0;
        c->n++;
    }
    c->v[i].units += units;
}

void index_cost_add(struct index_cost *into, const struct index_cost *from)
{
    for (size_t i = 0; from && i < from->n; i++) {
        struct index_def d;

        memset(&d, 0, sizeof(d));
        snprintf(d.name, sizeof(d.name), "%s", from->v[i].name);
        d.global = from->v[i].global;
        cost_put(into, &d, from->v[i].units);
    }
}

double index_cost_total(const struct index_cost *c)
{
    double u = 0;

    for (size_t i = 0; c && i < c->n; i++)
        u += c->v[i].units;
    return u;
}

/* entry_units - the write units of index entry @p (1 KB blocks, at least one). */
static double entry_units(const cJSON *p)
{
    size_t n = attr_item_size(p);

    return n ? (double)((n + 1023) / 1024) : 1.0;
}

/* index_cost_one - what one item write costs in @ix (index_cost). */
static void index_cost_one(struct index_cost *c, const struct index_def *ix,
                           const struct table_keys *base, const struct buf *base_key,
                           const cJSON *old, const cJSON *item)
{
    struct buf ko, kn;
    struct err e = {0};
    bool in_old, in_new;
    cJSON *po = NULL, *pn = NULL;
    double u = 0;

    buf_init(&ko, 0);
    buf_init(&kn, 0);
    in_old = old && index_entry_key(ix, old, base_key, &ko, &e) == ERR_OK;
    in_new = item && index_entry_key(ix, item, base_key, &kn, &e) == ERR_OK;
    if (in_old)
        po = project(ix, base, old);
    if (in_new)
        pn = project(ix, base, item);
    if (in_old && in_new && ko.len == kn.len && memcmp(ko.ptr, kn.ptr, ko.len) == 0) {
        if (!cJSON_Compare(po, pn, true)) {
            double a = entry_units(po), b = entry_units(pn);

            u = a > b ? a : b;
        }
    } else {
        if (in_old)
            u += entry_units(po);
        if (in_new)
            u += entry_units(pn);
    }
    if (u > 0)
        cost_put(c, ix, u);
    cJSON_Delete(po);
    cJSON_Delete(pn);
    buf_free(&ko);
    buf_free(&kn);
}

enum err_code index_maintain(struct store_txn *t, const struct table_keys *base,
                             const struct buf *base_key, const cJSON *old, const char *new_json,
                             size_t new_len, struct index_cost *cost, struct err *e)
{
    struct index_set s;
    cJSON *new_item = NULL;
    enum err_code rc = index_load(t, base->id, &s, e);

    if (cost)
        cost->n = 0;
    if (!rc && s.n && new_json) {
        new_item = cJSON_ParseWithLength(new_json, new_len);
        if (!new_item)
            rc = err_set(e, ERR_INTERNAL, "corrupt item");
    }
    if (!rc && new_item)
        rc = check_all(&s, new_item, false, e);
    for (size_t i = 0; !rc && i < s.n; i++) {
        if (cost)
            index_cost_one(cost, &s.v[i], base, base_key, old, new_item);
        if (old)
            rc = entry_del(t, &s.v[i], base, base_key, old, e);
        if (!rc && new_item)
            rc = entry_put(t, &s.v[i], base, base_key, new_item, e);
    }
    cJSON_Delete(new_item);
    index_set_free(&s);
    return rc;
}

void index_key_json(struct buf *b, const struct index_def *ix, const struct table_keys *base,
                    const cJSON *item)
{
    const char *names[2 + INDEX_KEYS_MAX] = {base->hash, base->has_range ? base->range : NULL};
    bool first = true;

    for (unsigned i = 0; i < ix->nkeys; i++)
        names[2 + i] = ix->keys[i].name;
    buf_putc(b, '{');
    for (unsigned i = 0; i < 2 + ix->nkeys; i++) {
        char *av;
        bool dup = false;

        if (!names[i])
            continue;
        for (unsigned j = 0; j < i; j++)
            dup = dup || (names[j] && strcmp(names[j], names[i]) == 0);
        if (dup)
            continue;
        av = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(item, names[i]));
        if (!first)
            buf_putc(b, ',');
        first = false;
        buf_json_str(b, names[i], strlen(names[i]));
        buf_putc(b, ':');
        buf_puts(b, av ? av : "null");
        free(av);
    }
    buf_putc(b, '}');
}

/* ---- definitions (CreateTable, UpdateTable) ---- */

/* key_names - the names of the first HASH and the first RANGE element of
 * KeySchema @ks (range NULL: none). */
static void key_names(const cJSON *ks, const char **h, const char **r)
{
    const cJSON *el;

    *h = cJSON_GetStringValue(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(ks, 0), "AttributeName"));
    *r = NULL;
    cJSON_ArrayForEach(el, ks)
    {
        const char *kt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(el, "KeyType"));

        if (!*r && el != ks->child && kt && strcmp(kt, "RANGE") == 0)
            *r = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(el, "AttributeName"));
    }
}

/* key_list - the names of KeySchema @ks's elements into @kn (at most
 * INDEX_KEYS_MAX); their count. */
static int key_list(const cJSON *ks, const char **kn)
{
    const cJSON *el;
    int n = 0;

    cJSON_ArrayForEach(el, ks)
    {
        if (n < INDEX_KEYS_MAX)
            kn[n++] = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(el, "AttributeName"));
    }
    return n;
}

void index_check_key_name(struct ddb_call *c, const char *name, const char *path)
{
    ddb_check_len(c, name, path, 1, KEY_NAME_MAX, false);
}

/* index_spec - check one index of a request (@path: "globalSecondaryIndexes.1.member")
 * and return its description (owned), or NULL when @c was answered. */
static cJSON *index_spec(struct ddb_call *c, const cJSON *o, bool global, const char *path,
                         const cJSON *defs, const cJSON *table_ks, const char *table_arn,
                         bool provisioned)
{
    const char *name = ddb_arg_str(c, o, "IndexName");
    const cJSON *ks = ddb_arg_arr(c, o, "KeySchema");
    const cJSON *pr = ddb_arg_obj(c, o, "Projection");
    const cJSON *pt = global ? ddb_arg_obj(c, o, "ProvisionedThroughput") : NULL;
    const cJSON *nk = ddb_arg_arr(c, pr, "NonKeyAttributes"), *it;
    int64_t warm[2] = {0, 0}, odt[2] = {0, 0};
    bool has_warm = global && table_warm_arg(c, o, warm);
    bool has_odt = global && table_odt_arg(c, o, odt);
    struct err e = {0};
    const char *h, *r, *th, *tr;
    char p[200], msg[700];
    int proj, n = 0;
    cJSON *d, *arr;

    snprintf(p, sizeof(p), "%s.indexName", path);
    ddb_check_table_name(c, name, p);
    if (!ks && !c->serial) {
        snprintf(p, sizeof(p), "%s.keySchema", path);
        ddb_verr_null(c, p);
    }
    if (!pr && !c->serial) {
        snprintf(p, sizeof(p), "%s.projection", path);
        ddb_verr_null(c, p);
    }
    snprintf(p, sizeof(p), "%s.projection.projectionType", path);
    proj = ddb_arg_enum(c, pr, "ProjectionType", p, proj_names);
    cJSON_ArrayForEach(it, ks)
    {
        static const char *const key_types[] = {"HASH", "RANGE", NULL};
        const char *kt, *kn = ddb_arg_str(c, it, "AttributeName");

        n++;
        snprintf(p, sizeof(p), "%s.keySchema.%d.member.keyType", path, n);
        kt = ddb_arg_enum(c, it, "KeyType", p, key_types) == -1 ? NULL : "";
        if (!kn || !kt) {
            snprintf(p, sizeof(p), "%s.keySchema.%d.member.%s", path, n,
                     kt ? "attributeName" : "keyType");
            if (!c->serial)
                ddb_verr_null(c, p);
        }
        snprintf(p, sizeof(p), "%s.keySchema.%d.member.attributeName", path, n);
        if (kn)
            index_check_key_name(c, kn, p);
    }
    cJSON_ArrayForEach(it, nk)
    {
        size_t len = cJSON_IsString(it) ? strlen(it->valuestring) : 1;

        if (len > KEY_NAME_MAX) {
            ddb_verr(c,
                     "Value '[%.300s]' at '%s.projection.nonKeyAttributes' failed to satisfy "
                     "constraint: Member must satisfy constraint: [Member must have length less "
                     "than or equal to 255, Member must have length greater than or equal to 1]",
                     it->valuestring, path);
            break;
        }
    }
    /* a global index's key may have several attributes (index_keys.h) */
    if (ks && (n < 1 || n > (global ? INDEX_KEYS_MAX : 2)))
        ddb_verr(c,
                 "Value '[...]' at '%s.keySchema' failed to satisfy constraint: Member must have "
                 "length %s%d",
                 path, n < 1 ? "greater than or equal to " : "less than or equal to ",
                 n < 1    ? 1
                 : global ? INDEX_KEYS_MAX
                          : 2);
    if (ddb_args_failed(c))
        return NULL;
    if (!index_keys_schema(ks, global, msg, sizeof(msg))) {
        ddb_reply_err(c, ERR_INVALID, msg);
        return NULL;
    }
    key_names(ks, &h, &r);
    key_names(table_ks, &th, &tr);
    if (!global) {
        if (!tr) {
            ddb_reply_err(c, ERR_INVALID,
                          "One or more parameter values were invalid: Table KeySchema does not "
                          "have a range key, which is required when specifying a "
                          "LocalSecondaryIndex");
            return NULL;
        }
        if (strcmp(h, th) != 0) {
            snprintf(msg, sizeof(msg),
                     "One or more parameter values were invalid: Index KeySchema does not have "
                     "the same leading hash key as table KeySchema for index: %.255s. index hash "
                     "key: %.100s, table hash key: %.100s",
                     name, h, th);
            ddb_reply_err(c, ERR_INVALID, msg);
            return NULL;
        }
        if (!r) {
            snprintf(msg, sizeof(msg),
                     "One or more parameter values were invalid: Index KeySchema does not have "
                     "a range key for index: %.255s",
                     name);
            ddb_reply_err(c, ERR_INVALID, msg);
            return NULL;
        }
    }
    {
        bool undefined = false;
        struct buf kb;

        buf_init(&kb, 0);
        cJSON_ArrayForEach(it, ks)
        {
            const char *kn =
                cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "AttributeName"));

            undefined = undefined || index_def_type(defs, kn) < 0;
            buf_printf(&kb, "%s%.100s", kb.len ? ", " : "", kn);
        }
        if (undefined) {
            snprintf(msg, sizeof(msg),
                     "One or more parameter values were invalid: Some index key attributes are "
                     "not defined in AttributeDefinitions. Keys: [%.500s], AttributeDefinitions: "
                     "[...]",
                     kb.ptr);
            ddb_reply_err(c, ERR_INVALID, msg);
        }
        buf_free(&kb);
        if (undefined)
            return NULL;
    }
    if (proj < 0) {
        snprintf(msg, sizeof(msg),
                 "One or more parameter values were invalid: Unknown ProjectionType: null");
        ddb_reply_err(c, ERR_INVALID, msg);
        return NULL;
    }
    if (proj == INDEX_PROJ_INCLUDE && cJSON_GetArraySize(nk) == 0) {
        ddb_reply_err(c, ERR_INVALID,
                      "One or more parameter values were invalid: ProjectionType is INCLUDE, but "
                      "NonKeyAttributes is not specified");
        return NULL;
    }
    if (proj != INDEX_PROJ_INCLUDE && nk) {
        snprintf(msg, sizeof(msg),
                 "One or more parameter values were invalid: ProjectionType is %s, but "
                 "NonKeyAttributes is specified",
                 proj_names[proj]);
        ddb_reply_err(c, ERR_INVALID, msg);
        return NULL;
    }
    cJSON_ArrayForEach(it, nk)
    {
        if (!cJSON_IsString(it) && !c->serial) {
            /* a list of strings: another JSON type is a SerializationException */
            c->serial = true;
            snprintf(c->serial_msg, sizeof(c->serial_msg), "%s",
                     cJSON_IsNumber(it) ? "NUMBER_VALUE can not be converted to a String"
                     : cJSON_IsBool(it) ? "VALUE_TRUE can not be converted to a String"
                                        : "Unexpected value type in NonKeyAttributes");
        }
    }
    if (ddb_args_failed(c))
        return NULL;
    cJSON_ArrayForEach(it, nk)
    {
        if (!*it->valuestring) {
            ddb_reply_err(c, ERR_INVALID,
                          "One or more parameter values were invalid: NonKeyAttributes must be "
                          "non-empty strings");
            return NULL;
        }
        for (const cJSON *j = nk->child; j != it; j = j->next)
            if (strcmp(j->valuestring, it->valuestring) == 0) {
                snprintf(msg, sizeof(msg),
                         "One or more parameter values were invalid: Duplicate attribute name "
                         "in NonKeyAttributes: %.255s",
                         it->valuestring);
                ddb_reply_err(c, ERR_INVALID, msg);
                return NULL;
            }
    }
    if (global && provisioned && !pt) {
        snprintf(msg, sizeof(msg),
                 "One or more parameter values were invalid: ProvisionedThroughput must be "
                 "specified for index: %.255s",
                 name);
        ddb_reply_err(c, ERR_INVALID, msg);
        return NULL;
    }
    if (global && !provisioned && pt) {
        snprintf(msg, sizeof(msg),
                 "One or more parameter values were invalid: ProvisionedThroughput should not "
                 "be specified for index: %.255s when BillingMode is PAY_PER_REQUEST",
                 name);
        ddb_reply_err(c, ERR_INVALID, msg);
        return NULL;
    }
    d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "IndexName", name);
    arr = cJSON_AddArrayToObject(d, "KeySchema");
    cJSON_ArrayForEach(it, ks)
    {
        cJSON *k = cJSON_CreateObject();

        cJSON_AddStringToObject(
            k, "AttributeName",
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "AttributeName")));
        cJSON_AddStringToObject(
            k, "KeyType", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "KeyType")));
        cJSON_AddItemToArray(arr, k);
    }
    {
        cJSON *pj = cJSON_AddObjectToObject(d, "Projection");

        cJSON_AddStringToObject(pj, "ProjectionType", proj_names[proj]);
        if (nk)
            cJSON_AddItemToObject(pj, "NonKeyAttributes", cJSON_Duplicate(nk, true));
    }
    if (global) {
        cJSON *t = cJSON_AddObjectToObject(d, "ProvisionedThroughput");

        cJSON_AddStringToObject(d, "IndexStatus", "ACTIVE");
        cJSON_AddNumberToObject(t, "NumberOfDecreasesToday", 0);
        cJSON_AddNumberToObject(
            t, "ReadCapacityUnits",
            cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(pt, "ReadCapacityUnits")) > 0
                ? cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(pt, "ReadCapacityUnits"))
                : 0);
        cJSON_AddNumberToObject(
            t, "WriteCapacityUnits",
            cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(pt, "WriteCapacityUnits")) > 0
                ? cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(pt, "WriteCapacityUnits"))
                : 0);
    }
    /* a global index has its own warm throughput and on-demand maximums */
    if ((has_warm && table_warm_set(d, warm, &e)) || (has_odt && table_odt_set(d, odt, &e))) {
        cJSON_Delete(d);
        ddb_reply_err(c, e.code, e.msg);
        return NULL;
    }
    cJSON_AddNumberToObject(d, "IndexSizeBytes", 0);
    cJSON_AddNumberToObject(d, "ItemCount", 0);
    snprintf(msg, sizeof(msg), "%s/index/%s", table_arn, name);
    cJSON_AddStringToObject(d, "IndexArn", msg);
    return d;
}

/* names_used - append the key names of @ks to @names (JSON array of strings). */
static void names_used(cJSON *names, const cJSON *ks)
{
    const cJSON *el;

    cJSON_ArrayForEach(el, ks)
    {
        cJSON_AddItemToArray(names, cJSON_CreateString(cJSON_GetStringValue(
                                        cJSON_GetObjectItemCaseSensitive(el, "AttributeName"))));
    }
}

static bool name_in(const cJSON *names, const char *n)
{
    const cJSON *x;

    cJSON_ArrayForEach(x, names)
    {
        if (strcmp(x->valuestring, n) == 0)
            return true;
    }
    return false;
}

bool index_create_args(struct ddb_call *c, const cJSON *in, cJSON *desc, const char *table_arn,
                       bool provisioned)
{
    const cJSON *defs = cJSON_GetObjectItemCaseSensitive(desc, "AttributeDefinitions");
    const cJSON *tks = cJSON_GetObjectItemCaseSensitive(desc, "KeySchema"), *d;
    static const char *const members[2] = {"LocalSecondaryIndexes", "GlobalSecondaryIndexes"};
    static const char *const paths[2] = {"localSecondaryIndexes", "globalSecondaryIndexes"};
    cJSON *used = cJSON_CreateArray(), *all = cJSON_CreateArray();
    struct buf dn, un;
    char path[96], msg[1200];
    bool ok = true;

    names_used(used, tks);
    for (int g = 0; ok && g < 2; g++) {
        const cJSON *arr = ddb_arg_arr(c, in, members[g]), *o;
        cJSON *out;
        int i = 0;

        if (ddb_args_failed(c)) {
            ok = false;
            break;
        }
        if (!arr)
            continue;
        if (!arr->child) {
            snprintf(msg, sizeof(msg),
                     "One or more parameter values were invalid: List of %s is empty", members[g]);
            ddb_reply_err(c, ERR_INVALID, msg);
            ok = false;
            break;
        }
        if (cJSON_GetArraySize(arr) > (g ? GSI_MAX : LSI_MAX)) {
            snprintf(msg, sizeof(msg),
                     "One or more parameter values were invalid: Number of %s exceeds per-table "
                     "limit of %d",
                     g ? "GlobalSecondaryIndexes" : "LocalSecondaryIndexes", g ? GSI_MAX : LSI_MAX);
            ddb_reply_err(c, g ? ERR_LIMIT : ERR_INVALID, msg);
            ok = false;
            break;
        }
        out = cJSON_AddArrayToObject(desc, members[g]);
        cJSON_ArrayForEach(o, arr)
        {
            cJSON *spec;
            const char *name;

            snprintf(path, sizeof(path), "%s.%d.member", paths[g], ++i);
            spec = index_spec(c, o, g == 1, path, defs, tks, table_arn, provisioned);
            if (!spec) {
                ok = false;
                break;
            }
            name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(spec, "IndexName"));
            if (name_in(all, name)) {
                snprintf(msg, sizeof(msg),
                         "One or more parameter values were invalid: Duplicate "
                         "index name: %.255s",
                         name);
                ddb_reply_err(c, ERR_INVALID, msg);
                cJSON_Delete(spec);
                ok = false;
                break;
            }
            cJSON_AddItemToArray(all, cJSON_CreateString(name));
            names_used(used, cJSON_GetObjectItemCaseSensitive(spec, "KeySchema"));
            cJSON_AddItemToArray(out, spec);
        }
    }
    if (ok) {
        int nkey = 0;
        bool unused = false;

        buf_init(&dn, 0);
        buf_init(&un, 0);
        cJSON_ArrayForEach(d, defs)
        {
            const char *n =
                cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "AttributeName"));

            buf_printf(&dn, "%s%s", dn.len ? ", " : "", n);
            unused = unused || !name_in(used, n);
        }
        cJSON_ArrayForEach(d, used)
        {
            bool seen = false;

            for (const cJSON *p = used->child; p != d; p = p->next)
                seen = seen || strcmp(p->valuestring, d->valuestring) == 0;
            if (!seen)
                buf_printf(&un, "%s%s", nkey++ ? ", " : "", d->valuestring);
        }
        if (unused) {
            snprintf(msg, sizeof(msg),
                     "One or more parameter values were invalid: Some AttributeDefinitions are "
                     "not used. AttributeDefinitions: [%.400s], keys used: [%.400s]",
                     dn.ptr, un.ptr);
            ddb_reply_err(c, ERR_INVALID, msg);
            ok = false;
        }
        buf_free(&dn);
        buf_free(&un);
    }
    cJSON_Delete(used);
    cJSON_Delete(all);
    return ok;
}

/* rec_entry - the record entry of index description @d. */
static cJSON *rec_entry(const cJSON *d, const cJSON *defs, bool global, uint64_t id)
{
    const cJSON *ks = cJSON_GetObjectItemCaseSensitive(d, "KeySchema");
    const cJSON *pj = cJSON_GetObjectItemCaseSensitive(d, "Projection");
    const cJSON *nk = cJSON_GetObjectItemCaseSensitive(pj, "NonKeyAttributes");
    const char *h, *r,
        *pt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(pj, "ProjectionType"));
    cJSON *o = cJSON_CreateObject();
    int p = 0;

    key_names(ks, &h, &r);
    for (int i = 0; proj_names[i]; i++)
        if (pt && strcmp(pt, proj_names[i]) == 0)
            p = i;
    cJSON_AddStringToObject(o, "n",
                            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "IndexName")));
    cJSON_AddNumberToObject(o, "id", (double)id);
    cJSON_AddBoolToObject(o, "g", global);
    cJSON_AddStringToObject(o, "h", h);
    cJSON_AddNumberToObject(o, "ht", index_def_type(defs, h));
    if (r) {
        cJSON_AddStringToObject(o, "r", r);
        cJSON_AddNumberToObject(o, "rt", index_def_type(defs, r));
    }
    cJSON_AddNumberToObject(o, "p", p);
    cJSON_AddItemToObject(o, "inc", nk ? cJSON_Duplicate(nk, true) : cJSON_CreateArray());
    cJSON_AddBoolToObject(o, "z", true); /* U+0000 in string keys as 0x00 (table.h nul0) */
    index_keys_record(o, ks, defs);
    return o;
}

enum err_code index_create_apply(struct store_txn *t, const cJSON *desc, uint64_t table_id,
                                 struct err *e)
{
    const cJSON *defs = cJSON_GetObjectItemCaseSensitive(desc, "AttributeDefinitions"), *d;
    static const char *const members[2] = {"LocalSecondaryIndexes", "GlobalSecondaryIndexes"};
    cJSON *rec = cJSON_CreateArray();
    enum err_code rc = ERR_OK;

    for (int g = 0; !rc && g < 2; g++) {
        cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(desc, members[g]))
        {
            uint64_t id;

            rc = store_next_id(t, &id, e);
            if (rc)
                break;
            cJSON_AddItemToArray(rec, rec_entry(d, defs, g == 1, id));
        }
    }
    if (!rc && cJSON_GetArraySize(rec))
        rc = record_put(t, table_id, rec, e);
    cJSON_Delete(rec);
    return rc;
}

enum err_code index_describe_fill(struct store_txn *t, cJSON *desc, struct err *e)
{
    static const char *const members[2] = {"LocalSecondaryIndexes", "GlobalSecondaryIndexes"};
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(desc, "_id");
    struct index_set s;
    enum err_code rc;
    cJSON *d;

    if (!cJSON_IsNumber(id))
        return ERR_OK;
    rc = index_load(t, (uint64_t)id->valuedouble, &s, e);
    for (int g = 0; !rc && g < 2; g++) {
        cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(desc, members[g]))
        {
            const struct index_def *ix = index_find(
                &s, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "IndexName")));
            uint64_t count = 0, bytes = 0;

            if (ix)
                rc = table_stats_get(t, ix->k.id, &count, &bytes, e);
            if (rc)
                break;
            cJSON_ReplaceItemInObjectCaseSensitive(d, "ItemCount",
                                                   cJSON_CreateNumber((double)count));
            cJSON_ReplaceItemInObjectCaseSensitive(d, "IndexSizeBytes",
                                                   cJSON_CreateNumber((double)bytes));
            if (g == 1)
                table_warm_describe(d);
        }
    }
    index_set_free(&s);
    return rc;
}

/* drop_entries - delete every entry of index @iid. */
static enum err_code drop_entries(struct store_txn *t, uint64_t iid, struct err *e)
{
    struct store_cursor *cur = NULL;
    struct buf prefix;
    struct slice ck, cv;
    uint64_t count = 0, bytes = 0;
    enum err_code rc;

    buf_init(&prefix, 0);
    keys_append_table(&prefix, iid);
    rc = store_cursor_open(t, STORE_DB_DATA, &cur, e);
    while (!rc) {
        rc = store_cursor_seek(cur, slice_of(prefix.ptr, prefix.len), &ck, &cv, e);
        if (rc == ERR_NOTFOUND ||
            (!rc && (ck.len < prefix.len || memcmp(ck.ptr, prefix.ptr, prefix.len) != 0))) {
            rc = ERR_OK;
            break;
        }
        if (!rc)
            rc = store_cursor_del(cur, e);
    }
    store_cursor_close(cur);
    buf_free(&prefix);
    if (!rc)
        rc = table_stats_get(t, iid, &count, &bytes, e);
    if (!rc && count)
        rc = table_stats_add(t, iid, -(int64_t)count, -(int64_t)bytes, e);
    return rc;
}

/* ---- UpdateTable GlobalSecondaryIndexUpdates ---- */

struct gsi_update {
    struct ddb_call *c;
    const char *table;
    int op;                 /* 0 Create, 1 Update, 2 Delete */
    const char *name;       /* the index */
    cJSON *spec;            /* owned: Create's description */
    const cJSON *defs;      /* borrowed: the request's AttributeDefinitions */
    char *out;              /* owned: the TableDescription */
    bool has_warm, has_odt; /* Update: WarmThroughput, OnDemandThroughput given */
    int64_t warm[2], odt[2];
};

/* backfill - entries of the new index @ix for every item of the table. */
static enum err_code backfill(struct store_txn *t, const struct index_def *ix,
                              const struct table_keys *base, struct err *e)
{
    struct store_cursor *cur = NULL;
    struct buf prefix, key;
    struct slice ck, cv;
    cJSON *items = cJSON_CreateArray(), *it;
    enum err_code rc;

    buf_init(&prefix, 0);
    keys_append_table(&prefix, base->id);
    rc = store_cursor_open(t, STORE_DB_DATA, &cur, e);
    if (!rc)
        rc = store_cursor_seek(cur, slice_of(prefix.ptr, prefix.len), &ck, &cv, e);
    /* collect first: writing while the cursor walks the same database is not allowed */
    while (!rc && ck.len >= prefix.len && memcmp(ck.ptr, prefix.ptr, prefix.len) == 0) {
        const char *p;
        size_t n;

        if (item_decode(cv, &p, &n, e) == ERR_OK) {
            cJSON *one = cJSON_ParseWithLength(p, n);

            if (one)
                cJSON_AddItemToArray(items, one);
        }
        *e = (struct err){0};
        rc = store_cursor_next(cur, &ck, &cv, e);
    }
    if (rc == ERR_NOTFOUND)
        rc = ERR_OK;
    store_cursor_close(cur);
    cJSON_ArrayForEach(it, items)
    {
        if (rc)
            break;
        if (check_keys(ix, it, e)) { /* not indexed: the service reports such items */
            *e = (struct err){0};
            continue;
        }
        buf_init(&key, 0);
        rc = item_key_build(base, it, false, &key, e);
        if (!rc)
            rc = entry_put(t, ix, base, &key, it, e);
        buf_free(&key);
    }
    cJSON_Delete(items);
    buf_free(&prefix);
    return rc;
}

static enum err_code gsi_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct gsi_update *x = arg;
    cJSON *desc = NULL, *rec = NULL, *arr, *d, *defs;
    struct table_keys base = {0};
    struct index_set s = {0};
    enum err_code rc = table_desc_get(t, x->table, &desc, e);
    int nglobal = 0;

    free(x->out);
    x->out = NULL;
    if (!rc)
        rc = table_keys_get(t, x->table, &base, e);
    if (!rc)
        rc = index_load(t, base.id, &s, e);
    if (!rc)
        rc = record_get(t, base.id, &rec, e);
    if (rc)
        goto out;
    if (!rec)
        rec = cJSON_CreateArray();
    arr = cJSON_GetObjectItemCaseSensitive(desc, "GlobalSecondaryIndexes");
    nglobal = cJSON_GetArraySize(arr);
    defs = cJSON_GetObjectItemCaseSensitive(desc, "AttributeDefinitions");
    if (x->op == 0) {
        const char *kn[INDEX_KEYS_MAX];
        uint64_t iid;
        struct index_def ix;
        int nk;

        if (index_find(&s, x->name)) {
            rc = err_set(e, ERR_INVALID,
                         "One or more parameter values were invalid: Index with name: %s already "
                         "exists",
                         x->name);
            goto out;
        }
        if (nglobal >= GSI_MAX) {
            rc = err_set(e, ERR_LIMIT,
                         "One or more parameter values were invalid: Number of "
                         "GlobalSecondaryIndexes exceeds per-table limit of %d",
                         GSI_MAX);
            goto out;
        }
        nk = key_list(cJSON_GetObjectItemCaseSensitive(x->spec, "KeySchema"), kn);
        for (int i = 0; i < nk; i++) {
            int have, want;

            if (!kn[i])
                continue;
            have = index_def_type(defs, kn[i]);
            want = index_def_type(x->defs, kn[i]);
            if (want < 0) {
                rc = err_set(e, ERR_INVALID,
                             "One or more parameter values were invalid: Some index key "
                             "attributes are not defined in AttributeDefinitions. Keys: [%s], "
                             "AttributeDefinitions: [...]",
                             kn[i]);
                goto out;
            }
            if (have >= 0 && have != want) {
                rc = err_set(e, ERR_INVALID,
                             "One or more parameter values were invalid: Attributes cannot be "
                             "redefined. Please check that your attribute has the same type as "
                             "previously defined. Attribute: %s",
                             kn[i]);
                goto out;
            }
            if (have < 0) {
                cJSON *nd = cJSON_CreateObject();

                cJSON_AddStringToObject(nd, "AttributeName", kn[i]);
                cJSON_AddStringToObject(nd, "AttributeType", type_names[want]);
                cJSON_AddItemToArray(defs, nd);
            }
        }
        rc = store_next_id(t, &iid, e);
        if (rc)
            goto out;
        cJSON_AddItemToArray(rec, rec_entry(x->spec, defs, true, iid));
        def_from_json(&ix, cJSON_GetArrayItem(rec, cJSON_GetArraySize(rec) - 1));
        rc = backfill(t, &ix, &base, e);
        if (rc)
            goto out;
        if (!arr)
            arr = cJSON_AddArrayToObject(desc, "GlobalSecondaryIndexes");
        cJSON_AddItemToArray(arr, cJSON_Duplicate(x->spec, true));
    } else {
        const struct index_def *ix = index_find(&s, x->name);
        int i = 0;

        if (!ix || !ix->global) {
            rc = err_set(e, ERR_NOTFOUND,
                         "Requested resource not found: Index: %s not found for table: %s", x->name,
                         x->table);
            goto out;
        }
        cJSON_ArrayForEach(d, arr)
        {
            if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "IndexName")),
                       x->name) == 0)
                break;
            i++;
        }
        if (x->op == 2) {
            rc = drop_entries(t, ix->k.id, e);
            if (rc)
                goto out;
            if (d)
                cJSON_DeleteItemFromArray(arr, i);
            i = 0;
            cJSON_ArrayForEach(d, rec)
            {
                if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "n")),
                           x->name) == 0)
                    break;
                i++;
            }
            cJSON_DeleteItemFromArray(rec, i);
            if (!cJSON_GetArraySize(arr))
                cJSON_DeleteItemFromObjectCaseSensitive(desc, "GlobalSecondaryIndexes");
        } else if (d && ((x->has_warm && (rc = table_warm_set(d, x->warm, e))) ||
                         (x->has_odt && (rc = table_odt_set(d, x->odt, e))))) {
            goto out;
        } else if (d && x->spec) {
            cJSON *pt = cJSON_GetObjectItemCaseSensitive(d, "ProvisionedThroughput");
            static const char *const units[2] = {"ReadCapacityUnits", "WriteCapacityUnits"};

            for (int u = 0; pt && u < 2; u++) {
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(x->spec, units[u]);

                if (cJSON_IsNumber(v))
                    cJSON_ReplaceItemInObjectCaseSensitive(pt, units[u],
                                                           cJSON_CreateNumber(v->valuedouble));
            }
        }
    }
    rc = record_put(t, base.id, rec, e);
    if (!rc)
        rc = table_desc_put(t, x->table, desc, e);
    if (!rc)
        rc = index_describe_fill(t, desc, e);
    if (!rc)
        rc = table_description(t, desc, "ACTIVE", &x->out, e);
out:
    index_set_free(&s);
    cJSON_Delete(rec);
    cJSON_Delete(desc);
    return rc;
}

static void gsi_done(void *arg, enum err_code rc, const struct err *e)
{
    struct gsi_update *x = arg;
    struct buf b;

    cJSON_Delete(x->spec);
    if (rc) {
        free(x->out);
        ddb_reply_err(x->c, rc, e->msg);
        return;
    }
    buf_init(&b, 0);
    buf_printf(&b, "{\"TableDescription\":%s}", x->out);
    free(x->out);
    ddb_reply(x->c, &b);
}

static void json_free(void *p)
{
    cJSON_Delete(p);
}

void index_update_table(struct ddb_call *c, const char *table, const cJSON *updates)
{
    struct gsi_update *x = arena_calloc(c->a, sizeof(*x));
    static const char *const ops[3] = {"Create", "Update", "Delete"};
    const cJSON *u = cJSON_GetArrayItem(updates, 0), *o = NULL;
    struct store_txn *t = NULL;
    cJSON *desc = NULL;
    struct err e = {0};
    int n = 0;

    x->c = c;
    x->table = table;
    x->defs = ddb_arg_arr(c, c->in, "AttributeDefinitions");
    cJSON_ArrayForEach(o, x->defs)
    {
        const char *dn = ddb_arg_str(c, o, "AttributeName");
        char p[64];

        snprintf(p, sizeof(p), "attributeDefinitions.%d.member.attributeName", ++n);
        if (dn)
            index_check_key_name(c, dn, p);
    }
    n = 0;
    if (ddb_args_failed(c))
        return;
    if (cJSON_GetArraySize(updates) != 1) {
        ddb_reply_err(c, cJSON_GetArraySize(updates) ? ERR_LIMIT : ERR_INVALID,
                      cJSON_GetArraySize(updates)
                          ? "Subscriber limit exceeded: Only 1 online index can be created or "
                            "deleted simultaneously per table"
                          : "One or more parameter values were invalid: List of "
                            "GlobalSecondaryIndexUpdates is empty");
        return;
    }
    for (int i = 0; i < 3; i++) {
        const cJSON *v = ddb_arg_obj(c, u, ops[i]);

        if (v) {
            o = v;
            x->op = i;
            n++;
        }
    }
    if (ddb_args_failed(c))
        return;
    if (n > 1) {
        ddb_reply_err(c, ERR_INVALID,
                      "One or more parameter values were invalid: only one of "
                      "GlobalSecondaryIndexUpdate.Create, GlobalSecondaryIndexUpdate.Update, or "
                      "GlobalSecondaryIndexUpdate.Delete may be specified in one update");
        return;
    }
    if (n != 1) {
        ddb_reply_err(
            c, ERR_INVALID,
            "One or more parameter values were invalid: One of GlobalSecondaryIndexUpdate."
            "Create, GlobalSecondaryIndexUpdate.Update, or "
            "GlobalSecondaryIndexUpdate.Delete must be specified");
        return;
    }
    x->name = ddb_arg_str(c, o, "IndexName");
    ddb_check_table_name(c, x->name, "globalSecondaryIndexUpdates.1.member.indexName");
    if (ddb_args_failed(c))
        return;
    if (x->op == 0) {
        bool provisioned;

        if (store_read_begin(c->d->store, &t, &e) == ERR_OK)
            table_desc_get(t, table, &desc, &e);
        store_txn_abort(t);
        if (!desc) {
            ddb_reply_err(c, e.code ? e.code : ERR_NOTFOUND, e.msg);
            return;
        }
        {
            const char *bm = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(desc, "BillingModeSummary"), "BillingMode"));

            provisioned = !bm || strcmp(bm, "PAY_PER_REQUEST") != 0;
        }
        {
            /* the index key definitions may come with the request */
            cJSON *defs = cJSON_Duplicate(
                x->defs ? x->defs : cJSON_GetObjectItemCaseSensitive(desc, "AttributeDefinitions"),
                true);
            const cJSON *dd;

            cJSON_ArrayForEach(dd, cJSON_GetObjectItemCaseSensitive(desc, "AttributeDefinitions"))
            {
                const char *dn =
                    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(dd, "AttributeName"));

                if (index_def_type(defs, dn) < 0)
                    cJSON_AddItemToArray(defs, cJSON_Duplicate(dd, true));
            }
            x->spec =
                index_spec(c, o, true, "globalSecondaryIndexUpdates.1.member.create", defs,
                           cJSON_GetObjectItemCaseSensitive(desc, "KeySchema"),
                           cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(desc, "TableArn")),
                           provisioned);
            if (x->spec) {
                const char *kn[INDEX_KEYS_MAX];
                const cJSON *asked = x->defs;
                int nk;

                /* the new index's key attributes must be defined in this
                 * request, even when the table already defines them */
                nk = key_list(cJSON_GetObjectItemCaseSensitive(x->spec, "KeySchema"), kn);
                for (int i = 0; i < nk && x->spec; i++)
                    if (kn[i] && index_def_type(asked, kn[i]) < 0) {
                        char msg[400];

                        snprintf(msg, sizeof(msg),
                                 "One or more parameter values were invalid: Some index key "
                                 "attributes are not defined in AttributeDefinitions. Keys: "
                                 "[%.100s], AttributeDefinitions: [...]",
                                 kn[i]);
                        ddb_reply_err(c, ERR_INVALID, msg);
                        cJSON_Delete(x->spec);
                        x->spec = NULL;
                    }
            }
            if (x->spec) {
                x->defs = defs;
                arena_on_free(c->a, json_free, defs);
            } else {
                cJSON_Delete(defs);
            }
        }
        cJSON_Delete(desc);
        if (!x->spec)
            return;
    } else if (x->op == 1) {
        /* Update: the index's new ProvisionedThroughput, WarmThroughput, OnDemandThroughput */
        const cJSON *pt = cJSON_GetObjectItemCaseSensitive(o, "ProvisionedThroughput");

        x->has_warm = table_warm_arg(c, o, x->warm);
        x->has_odt = table_odt_arg(c, o, x->odt);
        if (ddb_args_failed(c))
            return;
        if (cJSON_IsObject(pt))
            x->spec = cJSON_Duplicate(pt, true);
    }
    store_submit(c->d->store, gsi_apply, gsi_done, x);
}
