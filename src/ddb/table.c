/* table.c - the table catalog (see table.h for the storage layout). */
#include "table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zlib.h>

#include "backup.h"
#include "clock.h"
#include "codec.h"
#include "ddb_repl.h"
#include "index.h"
#include "log.h"
#include "mem.h"
#include "streams.h"
#include "tags.h"

static const char *const key_types[] = {"HASH", "RANGE", NULL};
static const char *const attr_types[] = {"S", "N", "B", NULL};
static const char *const attr_types_listed[] = {"B", "N", "S", NULL}; /* attr_types reversed */

/* ---- storage helpers ---- */

static void put_be64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)(v & 0xff);
}

static uint64_t get_be64(const unsigned char *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

static void meta_key(struct buf *k, const char *prefix, const char *name)
{
    buf_init(k, 0);
    buf_puts(k, prefix);
    buf_puts(k, name);
}

static struct slice stat_key(unsigned char k[14], uint64_t id)
{
    memcpy(k, "tstat/", 6);
    put_be64(k + 6, id);
    return slice_of(k, 14);
}

static enum err_code stats_get(struct store_txn *t, uint64_t id, uint64_t *count, uint64_t *bytes,
                               struct err *e)
{
    unsigned char k[14];
    struct slice v;
    enum err_code rc = store_get(t, STORE_DB_META, stat_key(k, id), &v, e);

    *count = *bytes = 0;
    if (rc == ERR_NOTFOUND)
        return ERR_OK;
    if (rc)
        return rc;
    if (v.len != 16)
        return err_set(e, ERR_INTERNAL, "corrupt table counters");
    *count = get_be64(v.ptr);
    *bytes = get_be64((const unsigned char *)v.ptr + 8);
    return ERR_OK;
}

enum err_code table_stats_add(struct store_txn *t, uint64_t id, int64_t dcount, int64_t dbytes,
                              struct err *e)
{
    unsigned char k[14], v[16];
    uint64_t count, bytes;
    enum err_code rc;

    if (dcount == 0 && dbytes == 0) /* an overwrite of the same size */
        return ERR_OK;
    rc = stats_get(t, id, &count, &bytes, e);
    if (rc)
        return rc;
    count += (uint64_t)dcount;
    bytes += (uint64_t)dbytes;
    put_be64(v, count);
    put_be64(v + 8, bytes);
    return store_put(t, STORE_DB_META, stat_key(k, id), slice_of(v, 16), e);
}

enum err_code table_keys_get(struct store_txn *t, const char *name, struct table_keys *out,
                             struct err *e)
{
    enum err_code rc = table_keys_get_any(t, name, out, e);

    if (!rc && out->restoring) /* not served before ACTIVE */
        return err_set(e, ERR_NOTFOUND, "Requested resource not found");
    return rc;
}

enum err_code table_keys_get_any(struct store_txn *t, const char *name, struct table_keys *out,
                                 struct err *e)
{
    struct buf k;
    struct slice v;
    enum err_code rc;
    const unsigned char *p;
    size_t hl, rl;

    meta_key(&k, "tkey/", name);
    rc = store_get(t, STORE_DB_META, slice_of(k.ptr, k.len), &v, e);
    buf_free(&k);
    if (rc == ERR_NOTFOUND)
        return err_set(e, ERR_NOTFOUND, "Requested resource not found");
    if (rc)
        return rc;
    p = v.ptr;
    if (v.len < 12)
        return err_set(e, ERR_INTERNAL, "corrupt key schema of table %s", name);
    out->id = get_be64(p);
    out->htype = (enum keys_type)p[8];
    out->has_range = p[9] != 0xff;
    out->rtype = out->has_range ? (enum keys_type)p[9] : KEYS_S;
    hl = strnlen((const char *)p + 10, v.len - 10);
    if (hl >= sizeof(out->hash) || 10 + hl + 1 >= v.len)
        return err_set(e, ERR_INTERNAL, "corrupt key schema of table %s", name);
    memcpy(out->hash, p + 10, hl + 1);
    rl = strnlen((const char *)p + 11 + hl, v.len - 11 - hl);
    if (rl >= sizeof(out->range) || 11 + hl + rl >= v.len)
        return err_set(e, ERR_INTERNAL, "corrupt key schema of table %s", name);
    memcpy(out->range, p + 11 + hl, rl + 1);
    out->replicated = v.len > 12 + hl + rl && (p[12 + hl + rl] & TKEY_REPLICATED);
    out->nul0 = v.len > 12 + hl + rl && (p[12 + hl + rl] & TKEY_NUL0);
    out->pitr = v.len > 12 + hl + rl && (p[12 + hl + rl] & TKEY_PITR);
    out->restoring = v.len > 12 + hl + rl && (p[12 + hl + rl] & TKEY_RESTORING);
    return ERR_OK;
}

uint32_t table_keys_schema(const struct table_keys *k)
{
    unsigned char types[2] = {(unsigned char)k->htype,
                              k->has_range ? (unsigned char)k->rtype : 0xff};
    uLong crc = crc32(0L, types, 2);

    crc = crc32(crc, (const Bytef *)k->hash, (uInt)strlen(k->hash) + 1);
    crc = crc32(crc, (const Bytef *)k->range, (uInt)strlen(k->range) + 1);
    if (k->nul0) /* older tables keep the CRC they always had */
        crc = crc32(crc, (const Bytef *)"nul0", 4);
    return (uint32_t)crc;
}

/* tkey_set_flag - set or clear @flag of @name's tkey record, keeping its
 * other flags. */
static enum err_code tkey_set_flag(struct store_txn *t, const char *name, int flag, bool on,
                                   struct err *e)
{
    struct buf k, nv;
    struct slice v;
    const unsigned char *p;
    size_t hl, rl;
    enum err_code rc;

    meta_key(&k, "tkey/", name);
    buf_init(&nv, 0);
    rc = store_get(t, STORE_DB_META, slice_of(k.ptr, k.len), &v, e);
    if (rc)
        goto out;
    p = v.ptr;
    hl = strnlen((const char *)p + 10, v.len - 10);
    rl = strnlen((const char *)p + 11 + hl, v.len - 11 - hl);
    buf_append(&nv, p, 12 + hl + rl);
    buf_putc(&nv, (char)((v.len > 12 + hl + rl ? p[12 + hl + rl] & ~flag : 0) | (on ? flag : 0)));
    rc = store_put(t, STORE_DB_META, slice_of(k.ptr, k.len), slice_of(nv.ptr, nv.len), e);
out:
    buf_free(&k);
    buf_free(&nv);
    return rc;
}

static enum err_code tkey_set_replicated(struct store_txn *t, const char *name, bool replicated,
                                         struct err *e)
{
    return tkey_set_flag(t, name, TKEY_REPLICATED, replicated, e);
}

enum err_code table_keys_set_pitr(struct store_txn *t, const char *name, bool on, struct err *e)
{
    return tkey_set_flag(t, name, TKEY_PITR, on, e);
}

enum err_code table_keys_set_restoring(struct store_txn *t, const char *name, bool on,
                                       struct err *e)
{
    return tkey_set_flag(t, name, TKEY_RESTORING, on, e);
}

static enum err_code desc_get(struct store_txn *t, const char *name, cJSON **out, struct err *e)
{
    struct buf k;
    struct slice v;
    enum err_code rc;

    meta_key(&k, "table/", name);
    rc = store_get(t, STORE_DB_META, slice_of(k.ptr, k.len), &v, e);
    buf_free(&k);
    if (rc == ERR_NOTFOUND)
        return err_set(e, ERR_NOTFOUND, "Requested resource not found: Table: %s not found", name);
    if (rc)
        return rc;
    *out = cJSON_ParseWithLength(v.ptr, v.len);
    if (!*out)
        return err_set(e, ERR_INTERNAL, "corrupt descriptor of table %s", name);
    return ERR_OK;
}

static enum err_code desc_put(struct store_txn *t, const char *name, const cJSON *desc,
                              struct err *e)
{
    struct buf k;
    char *text = cJSON_PrintUnformatted(desc);
    enum err_code rc;

    meta_key(&k, "table/", name);
    rc = store_put(t, STORE_DB_META, slice_of(k.ptr, k.len), slice_str(text), e);
    buf_free(&k);
    free(text);
    return rc;
}

enum err_code table_desc_get(struct store_txn *t, const char *name, cJSON **out, struct err *e)
{
    return desc_get(t, name, out, e);
}

enum err_code table_desc_put(struct store_txn *t, const char *name, const cJSON *desc,
                             struct err *e)
{
    return desc_put(t, name, desc, e);
}

static uint64_t desc_id(const cJSON *desc)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(desc, "_id");

    return cJSON_IsNumber(id) ? (uint64_t)id->valuedouble : 0;
}

/* describe - the TableDescription text of @desc (modified), owned (free()). */
static char *describe(cJSON *desc, const char *status, uint64_t count, uint64_t bytes)
{
    cJSON *reps = cJSON_DetachItemFromObjectCaseSensitive(desc, "_replicas");

    cJSON_DeleteItemFromObjectCaseSensitive(desc, "_id");
    cJSON_DeleteItemFromObjectCaseSensitive(desc, "_tags");
    if (cJSON_GetArraySize(reps) > 0) {
        cJSON *arr = cJSON_AddArrayToObject(desc, "Replicas"), *r;

        cJSON_AddStringToObject(desc, "GlobalTableVersion", "2019.11.21");
        cJSON_ArrayForEach(r, reps)
        {
            cJSON *o = cJSON_CreateObject();

            cJSON_AddStringToObject(o, "RegionName", cJSON_GetStringValue(r));
            cJSON_AddStringToObject(o, "ReplicaStatus", "ACTIVE");
            if (cJSON_IsString(r))
                replica_describe(o, desc, r->valuestring);
            cJSON_AddItemToArray(arr, o);
        }
    }
    cJSON_DeleteItemFromObjectCaseSensitive(desc, "_replica_settings");
    cJSON_Delete(reps);
    table_warm_describe(desc);
    table_throughput_describe(desc, (double)clock_wall_ms() / 1000.0);
    cJSON_AddStringToObject(desc, "TableStatus", status);
    cJSON_AddNumberToObject(desc, "ItemCount", (double)count);
    cJSON_AddNumberToObject(desc, "TableSizeBytes", (double)bytes);
    return cJSON_PrintUnformatted(desc);
}

enum err_code table_stats_get(struct store_txn *t, uint64_t id, uint64_t *count, uint64_t *bytes,
                              struct err *e)
{
    return stats_get(t, id, count, bytes, e);
}

enum err_code table_description(struct store_txn *t, cJSON *desc, const char *status, char **out,
                                struct err *e)
{
    uint64_t count = 0, bytes = 0;
    enum err_code rc = stats_get(t, desc_id(desc), &count, &bytes, e);

    if (!rc)
        *out = describe(desc, status, count, bytes);
    return rc;
}

static void reply_desc(struct ddb_call *c, const char *member, const char *text)
{
    struct buf b;

    buf_init(&b, 0);
    buf_printf(&b, "{\"%s\":%s}", member, text);
    ddb_reply(c, &b);
}

/* ---- CreateTable ---- */

struct create {
    struct ddb_call *c;
    const char *name;
    cJSON *desc;                   /* owned, freed in done */
    struct buf key;                /* the tkey record without its id */
    char *out;                     /* TableDescription, owned */
    const struct table_fill *fill; /* NULL: a plain CreateTable */
};

static enum err_code create_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct create *x = arg;
    struct buf k;
    struct slice v;
    uint64_t id;
    unsigned char sk[14], zero[16] = {0};
    enum err_code rc;

    meta_key(&k, "table/", x->name);
    rc = store_get(t, STORE_DB_META, slice_of(k.ptr, k.len), &v, e);
    buf_free(&k);
    if (rc == ERR_OK)
        return err_set(e, ERR_IN_USE, "Table already exists: %s", x->name);
    if (rc != ERR_NOTFOUND)
        return rc;
    rc = store_next_id(t, &id, e);
    if (rc)
        return rc;
    cJSON_AddNumberToObject(x->desc, "_id", (double)id);
    rc = index_create_apply(t, x->desc, id, e);
    if (!rc)
        rc = desc_put(t, x->name, x->desc, e);
    if (rc)
        return rc;
    put_be64((unsigned char *)x->key.ptr, id);
    meta_key(&k, "tkey/", x->name);
    rc = store_put(t, STORE_DB_META, slice_of(k.ptr, k.len), slice_of(x->key.ptr, x->key.len), e);
    buf_free(&k);
    if (rc)
        return rc;
    rc = store_put(t, STORE_DB_META, stat_key(sk, id), slice_of(zero, 16), e);
    if (rc)
        return rc;
    if (x->fill) { /* a restore: the items come in the same transaction */
        rc = x->fill->fill(t, x->fill->arg, x->name, x->desc, e);
        if (!rc)
            rc = desc_put(t, x->name, x->desc, e);
        if (rc)
            return rc;
    }
    free(x->out);
    x->out = describe(x->desc, "CREATING", 0, 0);
    return ERR_OK;
}

/* reply_description - answer {"TableDescription": @out} (takes @out), or
 * the error when @rc is not ERR_OK. */
static void reply_description(struct ddb_call *c, enum err_code rc, const struct err *e, char *out)
{
    struct buf b;

    if (rc) {
        free(out);
        ddb_reply_err(c, rc, e->msg);
        return;
    }
    buf_init(&b, 0);
    buf_printf(&b, "{\"TableDescription\":%s}", out);
    free(out);
    ddb_reply(c, &b);
}

static void create_done(void *arg, enum err_code rc, const struct err *e)
{
    struct create *x = arg;
    struct ddb_call *c = x->c;
    char *out = x->out;

    cJSON_Delete(x->desc);
    buf_free(&x->key);
    if (x->fill && x->fill->done)
        x->fill->done(x->fill->arg);
    if (x->fill && rc == ERR_IN_USE) { /* RestoreTable*: DynamoDB's own error */
        free(out);
        ddb_reply_type(c, "TableAlreadyExistsException", "%s", e->msg);
        return;
    }
    reply_description(c, rc, e, out);
}

/* key_schema_arg - validate KeySchema and AttributeDefinitions; fill @x->key
 * (without id) and copy both into @desc. False when a reply was sent. */
static bool key_schema_arg(struct ddb_call *c, const cJSON *in, cJSON *desc, struct buf *key)
{
    const cJSON *ks = ddb_arg_arr(c, in, "KeySchema");
    const cJSON *ad = ddb_arg_arr(c, in, "AttributeDefinitions");
    const char *kname[2] = {NULL, NULL}, *dname[64];
    int ktype[2] = {-1, -1}, dtype[64], nk = 0, nd = 0;
    const cJSON *it;
    char msg[1024];
    cJSON *arr;

    if (!ks)
        ddb_verr_null(c, "keySchema");
    if (!ad)
        ddb_verr_null(c, "attributeDefinitions");
    if (ks) {
        nk = cJSON_GetArraySize(ks);
        if (nk < 1 || nk > 2)
            ddb_verr(c,
                     "Value '%s' at 'keySchema' failed to satisfy constraint: Member must have "
                     "length %s",
                     nk < 1 ? "[]" : "[...]",
                     nk < 1 ? "greater than or equal to 1" : "less than or equal to 2");
        for (int i = 0; i < nk && i < 2; i++) {
            char path[64];
            const char *n;

            it = cJSON_GetArrayItem(ks, i);
            n = ddb_arg_str(c, it, "AttributeName");
            snprintf(path, sizeof(path), "keySchema.%d.member.attributeName", i + 1);
            ddb_check_len(c, n, path, 1, KEY_NAME_MAX, true);
            kname[i] = n;
            snprintf(path, sizeof(path), "keySchema.%d.member.keyType", i + 1);
            ktype[i] = ddb_arg_enum(c, it, "KeyType", path, key_types);
            if (ktype[i] == -1)
                ddb_verr_null(c, path);
        }
    }
    if (ad) {
        nd = cJSON_GetArraySize(ad);
        for (int i = 0; i < nd && i < 64; i++) {
            char path[80];

            it = cJSON_GetArrayItem(ad, i);
            dname[i] = ddb_arg_str(c, it, "AttributeName");
            snprintf(path, sizeof(path), "attributeDefinitions.%d.member.attributeName", i + 1);
            if (!dname[i])
                ddb_verr_null(c, path);
            else
                index_check_key_name(c, dname[i], path);
            snprintf(path, sizeof(path), "attributeDefinitions.%d.member.attributeType", i + 1);
            /* DynamoDB lists the types as [B, N, S] when it refuses one */
            dtype[i] = ddb_arg_enum(c, it, "AttributeType", path, attr_types_listed);
            if (dtype[i] >= 0)
                dtype[i] = 2 - dtype[i];
            else if (dtype[i] == -1)
                ddb_verr_null(c, path);
        }
    }
    if (ddb_args_failed(c))
        return false;
    if (ktype[0] != 0) {
        ddb_reply_err(c, ERR_INVALID,
                      "Invalid KeySchema: The first KeySchemaElement is not a "
                      "HASH key type");
        return false;
    }
    if (nk == 2 && ktype[1] != 1) {
        ddb_reply_err(c, ERR_INVALID,
                      "Invalid KeySchema: The second KeySchemaElement is not a "
                      "RANGE key type");
        return false;
    }
    if (nk == 2 && strcmp(kname[0], kname[1]) == 0) {
        ddb_reply_err(c, ERR_INVALID,
                      "Invalid KeySchema: Both the Hash Key and the Range Key "
                      "element in the KeySchema have the same name");
        return false;
    }
    if (nd > 64) {
        ddb_reply_err(c, ERR_INVALID,
                      "One or more parameter values were invalid: Number of attributes in "
                      "KeySchema does not exactly match number of attributes defined in "
                      "AttributeDefinitions");
        return false;
    }
    for (int i = 0; i < nd; i++)
        for (int j = 0; j < i; j++)
            if (strcmp(dname[i], dname[j]) == 0) {
                snprintf(msg, sizeof(msg), "Attribute Name is duplicated: %.255s", dname[i]);
                ddb_reply_err(c, ERR_INVALID, msg);
                return false;
            }
    int kdef[2] = {-1, -1};
    for (int i = 0; i < nk; i++)
        for (int j = 0; j < nd; j++)
            if (strcmp(kname[i], dname[j]) == 0)
                kdef[i] = j;
    if (kdef[0] < 0 || (nk == 2 && kdef[1] < 0)) {
        struct buf keys, defs;

        buf_init(&keys, 0);
        buf_init(&defs, 0);
        for (int i = 0; i < nk; i++)
            buf_printf(&keys, "%s%s", i ? ", " : "", kname[i]);
        for (int j = 0; j < nd; j++)
            buf_printf(&defs, "%s%s", j ? ", " : "", dname[j]);
        snprintf(msg, sizeof(msg),
                 "One or more parameter values were invalid: Some index key attributes are not "
                 "defined in AttributeDefinitions. Keys: [%.400s], AttributeDefinitions: [%.400s]",
                 keys.ptr, defs.ptr ? defs.ptr : "");
        buf_free(&keys);
        buf_free(&defs);
        ddb_reply_err(c, ERR_INVALID, msg);
        return false;
    }
    if (nd != nk && !cJSON_GetObjectItemCaseSensitive(in, "LocalSecondaryIndexes") &&
        !cJSON_GetObjectItemCaseSensitive(in, "GlobalSecondaryIndexes")) { /* else index.c */
        ddb_reply_err(c, ERR_INVALID,
                      "One or more parameter values were invalid: Number of attributes in "
                      "KeySchema does not exactly match number of attributes defined in "
                      "AttributeDefinitions");
        return false;
    }
    /* the compact record: id placeholder, types, names */
    unsigned char hdr[10] = {0};
    static const enum keys_type kt[] = {KEYS_S, KEYS_N, KEYS_B};
    hdr[8] = (unsigned char)kt[dtype[kdef[0]]];
    hdr[9] = nk == 2 ? (unsigned char)kt[dtype[kdef[1]]] : 0xff;
    buf_init(key, 0);
    buf_append(key, hdr, sizeof(hdr));
    buf_append(key, kname[0], strlen(kname[0]) + 1);
    buf_append(key, nk == 2 ? kname[1] : "", nk == 2 ? strlen(kname[1]) + 1 : 1);
    buf_putc(key, TKEY_NUL0); /* a new table: U+0000 in string keys is the byte 0x00 */

    arr = cJSON_AddArrayToObject(desc, "AttributeDefinitions");
    for (int j = 0; j < nd; j++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "AttributeName", dname[j]);
        cJSON_AddStringToObject(o, "AttributeType", attr_types[dtype[j]]);
        cJSON_AddItemToArray(arr, o);
    }
    arr = cJSON_AddArrayToObject(desc, "KeySchema");
    for (int i = 0; i < nk; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "AttributeName", kname[i]);
        cJSON_AddStringToObject(o, "KeyType", key_types[ktype[i]]);
        cJSON_AddItemToArray(arr, o);
    }
    return true;
}

/* tags_arg - validate Tags; a copy for the descriptor (owned) or NULL. */
static cJSON *tags_arg(struct ddb_call *c, const cJSON *in)
{
    const cJSON *tags = ddb_arg_arr(c, in, "Tags");
    const cJSON *t;
    cJSON *out;
    int i = 0;

    if (!tags)
        return NULL;
    out = cJSON_CreateArray();
    cJSON_ArrayForEach(t, tags)
    {
        const char *k = ddb_arg_str(c, t, "Key"), *v = ddb_arg_str(c, t, "Value");

        tags_check(c, t, ++i);
        if (k && v) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "Key", k);
            cJSON_AddStringToObject(o, "Value", v);
            cJSON_AddItemToArray(out, o);
        }
    }
    ddb_check_count(c, tags, "tags", 0, 50);
    return out;
}

void table_create(struct ddb_call *c)
{
    table_create_filled(c, NULL);
}

void table_create_filled(struct ddb_call *c, const struct table_fill *fill)
{
    const cJSON *in = c->in;
    const char *name = ddb_arg_str(c, in, "TableName");
    const char *view;
    int billing, stream, tclass;
    bool billing_given;
    double now;
    int64_t rcu = 0, wcu = 0, warm[2], odt[2];
    bool has_pt, has_warm, has_odt, has_sse, delprot = false;
    struct table_sse sse;
    cJSON *desc = NULL, *tags = NULL;
    struct create *x;
    struct err e = {0};
    char arn[512], id[37];

    /* CreateTable words a missing TableName as DynamoDB's older checks do,
     * before any other check (the data plane says "Value null at ...") */
    if (!fill && !name && !c->serial) {
        ddb_reply_err(c, ERR_INVALID,
                      "The parameter 'TableName' is required but was not present in the request");
        return;
    }
    ddb_check_table_name(c, name, "tableName");
    billing = table_billing_arg(c, in);
    has_pt = table_throughput_arg(c, in, &rcu, &wcu);
    stream = table_stream_arg(c, in, &view);
    tclass = table_class_arg(c, in);
    has_warm = table_warm_arg(c, in, warm);
    has_odt = table_odt_arg(c, in, odt);
    has_sse = table_sse_arg(c, in, &sse);
    ddb_arg_bool(c, in, "DeletionProtectionEnabled", &delprot);
    tags = tags_arg(c, in);
    if (c->serial || c->nverr) {
        cJSON_Delete(tags);
        ddb_args_failed(c);
        if (fill && fill->done)
            fill->done(fill->arg);
        return;
    }
    desc = cJSON_CreateObject();
    x = arena_calloc(c->a, sizeof(*x));
    if (!key_schema_arg(c, in, desc, &x->key))
        goto fail_replied;
    if (tclass == -2) {
        table_class_refuse(c);
        goto fail_replied;
    }
    if ((has_warm && table_warm_set(desc, warm, &e)) || (has_odt && table_odt_set(desc, odt, &e)) ||
        (has_sse && table_sse_set(c->d, desc, &sse, &e))) {
        ddb_reply_err(c, e.code, e.msg);
        goto fail_replied;
    }
    billing_given = billing >= 0;
    if (billing < 0)
        billing = TABLE_BILL_PROVISIONED;
    if (billing == TABLE_BILL_PROVISIONED && !has_pt) {
        ddb_reply_err(c, ERR_INVALID,
                      "One or more parameter values were invalid: ReadCapacityUnits and "
                      "WriteCapacityUnits must both be specified when BillingMode is PROVISIONED");
        goto fail_replied;
    }
    if (billing == TABLE_BILL_PPR && has_pt) {
        ddb_reply_err(c, ERR_INVALID,
                      "One or more parameter values were invalid: Neither ReadCapacityUnits nor "
                      "WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST");
        goto fail_replied;
    }
    if (stream == 1 && !view) {
        ddb_reply_err(c, ERR_INVALID,
                      "One or more parameter values were invalid: StreamViewType is required "
                      "when StreamEnabled is true");
        goto fail_replied;
    }
    if (stream == 0 && view) {
        ddb_reply_err(c, ERR_INVALID,
                      "One or more parameter values were invalid: StreamViewType cannot be "
                      "specified when StreamEnabled is false");
        goto fail_replied;
    }

    cJSON_AddStringToObject(desc, "TableName", name);
    now = (double)clock_wall_ms() / 1000.0;
    cJSON_AddNumberToObject(desc, "CreationDateTime", now);
    table_throughput_set(desc, rcu, wcu);
    /* a table made without BillingMode is described without a
     * BillingModeSummary, as DynamoDB does (absent means PROVISIONED) */
    if (billing_given)
        table_billing_set(desc, billing, now);
    snprintf(arn, sizeof(arn), "arn:aws:dynamodb:%s:%s:table/%s", c->d->region, c->d->account,
             name);
    cJSON_AddStringToObject(desc, "TableArn", arn);
    if (!index_create_args(c, in, desc, arn, billing == TABLE_BILL_PROVISIONED))
        goto fail_replied;
    ddb_uuid(id);
    cJSON_AddStringToObject(desc, "TableId", id);
    if (stream == 1)
        table_stream_set(c->d, desc, name, view);
    cJSON_AddBoolToObject(desc, "DeletionProtectionEnabled", delprot);
    if (tclass >= 0)
        table_class_set(desc, tclass, 0);
    if (tags) {
        cJSON_AddItemToObject(desc, "_tags", tags);
        tags = NULL;
    }
    x->c = c;
    x->name = name;
    x->desc = desc;
    x->fill = fill;
    store_submit(c->d->store, create_apply, create_done, x);
    return;

fail_replied:
    cJSON_Delete(desc);
    cJSON_Delete(tags);
    buf_free(&x->key);
    if (fill && fill->done)
        fill->done(fill->arg);
}

/* ---- DescribeTable ---- */

void table_describe(struct ddb_call *c)
{
    const char *name = ddb_arg_str(c, c->in, "TableName");
    struct store_txn *t = NULL;
    cJSON *desc = NULL;
    uint64_t count, bytes;
    char *out = NULL;
    struct err e = {0};
    enum err_code rc;

    ddb_check_table_name(c, name, "tableName");
    if (ddb_args_failed(c))
        return;
    rc = store_read_begin(c->d->store, &t, &e);
    if (!rc)
        rc = desc_get(t, name, &desc, &e);
    if (!rc)
        rc = stats_get(t, desc_id(desc), &count, &bytes, &e);
    if (!rc)
        rc = index_describe_fill(t, desc, &e);
    store_txn_abort(t);
    if (rc) {
        cJSON_Delete(desc);
        ddb_reply_err(c, rc, e.msg);
        return;
    }
    out = describe(desc, backup_restoring(desc) ? "CREATING" : "ACTIVE", count, bytes);
    cJSON_Delete(desc);
    reply_desc(c, "Table", out);
    free(out);
}

/* ---- ListTables ---- */

void table_list(struct ddb_call *c)
{
    const char *start = ddb_arg_str(c, c->in, "ExclusiveStartTableName");
    int64_t limit = 100;
    bool has_limit;
    struct store_txn *t = NULL;
    struct store_cursor *cur = NULL;
    struct slice k, v;
    struct buf seek, b;
    struct err e = {0};
    enum err_code rc;
    int64_t n = 0;
    const char *last = NULL;
    size_t lastlen = 0;
    bool more = false;

    has_limit = ddb_arg_int(c, c->in, "Limit", &limit);
    ddb_check_range(c, has_limit, limit, "limit", 1, 100);
    if (start)
        ddb_check_table_name(c, start, "exclusiveStartTableName");
    if (ddb_args_failed(c))
        return;

    buf_init(&b, 0);
    buf_puts(&b, "{\"TableNames\":[");
    meta_key(&seek, "table/", start ? start : "");
    rc = store_read_begin(c->d->store, &t, &e);
    if (!rc)
        rc = store_cursor_open(t, STORE_DB_META, &cur, &e);
    if (!rc)
        rc = store_cursor_seek(cur, slice_of(seek.ptr, seek.len), &k, &v, &e);
    while (rc == ERR_OK && k.len > 6 && memcmp(k.ptr, "table/", 6) == 0) {
        const char *nm = (const char *)k.ptr + 6;
        size_t nl = k.len - 6;

        if (start && nl == strlen(start) && memcmp(nm, start, nl) == 0) {
            rc = store_cursor_next(cur, &k, &v, &e);
            continue;
        }
        if (n == limit) {
            more = true;
            break;
        }
        buf_puts(&b, n ? "," : "");
        buf_json_str(&b, nm, nl);
        last = nm;
        lastlen = nl;
        n++;
        rc = store_cursor_next(cur, &k, &v, &e);
    }
    if (rc == ERR_NOTFOUND)
        rc = ERR_OK;
    buf_putc(&b, ']');
    if (more) {
        buf_puts(&b, ",\"LastEvaluatedTableName\":");
        buf_json_str(&b, last, lastlen);
    }
    buf_putc(&b, '}');
    store_cursor_close(cur);
    store_txn_abort(t);
    buf_free(&seek);
    if (rc) {
        buf_free(&b);
        ddb_reply_err(c, rc, e.msg);
        return;
    }
    ddb_reply(c, &b);
}

/* ---- DeleteTable ---- */

struct drop {
    struct ddb_call *c;
    const char *name;
    char *out;                      /* owned */
    char *replicas;                 /* owned: the replica set the table had, JSON text */
    uint64_t drops[BACKUP_IDS_MAX]; /* its items and index entries, cleared in pieces */
    size_t ndrops;
    uint64_t forget; /* the table whose PITR history is cleared in pieces, or 0 */
};

static const char *const drop_omits[] = {"KeySchema", "AttributeDefinitions", "CreationDateTime",
                                         "GlobalSecondaryIndexes", "LocalSecondaryIndexes"};

static enum err_code drop_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct drop *x = arg;
    cJSON *desc = NULL;
    const cJSON *dp;
    struct buf k;
    unsigned char sk[14];
    uint64_t id, count = 0, bytes = 0;
    bool kept = false;
    enum err_code rc;

    x->ndrops = 0;
    x->forget = 0;
    rc = desc_get(t, x->name, &desc, e);
    if (rc)
        goto out;
    dp = cJSON_GetObjectItemCaseSensitive(desc, "DeletionProtectionEnabled");
    if (cJSON_IsTrue(dp)) {
        rc = err_set(e, ERR_INVALID,
                     "Resource cannot be deleted as it is currently protected against deletion. "
                     "Disable deletion protection first.");
        goto out;
    }
    rc = streams_table_closing(t, desc, e); /* its stream closes (streams.h) */
    if (rc)
        goto out;
    id = desc_id(desc);
    rc = pitr_table_dropping(t, x->name, desc, id, &kept, e); /* PITR leaves a system backup */
    if (rc)
        goto out;
    rc = stats_get(t, id, &count, &bytes, e);
    if (rc)
        goto out;
    free(x->replicas);
    x->replicas = NULL;
    if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(desc, "_replicas")) > 0)
        x->replicas = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(desc, "_replicas"));
    meta_key(&k, "table/", x->name);
    rc = store_del(t, STORE_DB_META, slice_of(k.ptr, k.len), e);
    buf_free(&k);
    if (rc)
        goto out;
    meta_key(&k, "tkey/", x->name);
    rc = store_del(t, STORE_DB_META, slice_of(k.ptr, k.len), e);
    buf_free(&k);
    if (rc && rc != ERR_NOTFOUND)
        goto out;
    rc = store_del(t, STORE_DB_META, stat_key(sk, id), e);
    if (rc && rc != ERR_NOTFOUND)
        goto out;
    /* the items, index entries and history go in pieces after the answer (backup.h) */
    x->forget = kept ? id : 0;
    rc = backup_table_data_drop(t, id, kept, x->drops, &x->ndrops, e);
    if (rc)
        goto out;
    /* DeleteTable's TableDescription leaves out the schema and the creation time */
    for (size_t i = 0; i < sizeof(drop_omits) / sizeof(drop_omits[0]); i++)
        cJSON_DeleteItemFromObjectCaseSensitive(desc, drop_omits[i]);
    x->out = describe(desc, "DELETING", count, bytes);
out:
    cJSON_Delete(desc);
    return rc;
}

static void drop_done(void *arg, enum err_code rc, const struct err *e)
{
    struct drop *x = arg;
    struct ddb_call *c = x->c;
    char *out = x->out;

    if (rc == ERR_OK && x->replicas && c->d->repl && c->d->repl->table_deleted)
        c->d->repl->table_deleted(c->d->repl->ud, x->name, x->replicas);
    for (size_t i = 0; rc == ERR_OK && i < x->ndrops; i++)
        backup_job_drop(c->d, x->drops[i]);
    if (rc == ERR_OK && x->forget)
        backup_job_forget(c->d, x->forget);
    free(x->replicas);
    x->replicas = NULL;
    reply_description(c, rc, e, out);
}

void table_delete(struct ddb_call *c)
{
    const char *name = ddb_arg_str(c, c->in, "TableName");
    struct drop *x;

    ddb_check_table_name(c, name, "tableName");
    if (ddb_args_failed(c))
        return;
    x = arena_calloc(c->a, sizeof(*x));
    x->c = c;
    x->name = name;
    store_submit(c->d->store, drop_apply, drop_done, x);
}

/* ---- UpdateTable ---- */

struct update {
    struct ddb_call *c;
    const char *name;
    int billing; /* -1: unchanged */
    bool has_pt;
    int64_t rcu, wcu;
    int stream; /* -1 absent, 0 disable, 1 enable */
    const char *view;
    bool has_delprot, delprot;
    int tclass;
    bool has_warm, has_odt, has_sse;
    int64_t warm[2], odt[2];
    struct table_sse sse;
    char *out; /* owned */
};

static enum err_code update_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct update *x = arg;
    cJSON *desc = NULL, *old_sse = NULL;
    const cJSON *pt, *ss;
    uint64_t count, bytes;
    int cur;
    bool changing = false;
    enum err_code rc;

    rc = desc_get(t, x->name, &desc, e);
    if (!rc && x->has_warm)
        rc = table_warm_set(desc, x->warm, e);
    if (!rc && x->has_odt)
        rc = table_odt_set(desc, x->odt, e);
    if (!rc && x->has_sse && !x->sse.enabled)
        old_sse = cJSON_DetachItemFromObjectCaseSensitive(desc, "SSEDescription");
    if (!rc && x->has_sse)
        rc = table_sse_set(x->c->d, desc, &x->sse, e);
    if (rc)
        goto out;
    cur = table_billing_of(desc);
    int nb = x->billing >= 0 ? x->billing : cur;
    if (nb == TABLE_BILL_PPR && x->has_pt) {
        rc = err_set(e, ERR_INVALID,
                     "One or more parameter values were invalid: Neither ReadCapacityUnits nor "
                     "WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST");
        goto out;
    }
    if (nb == TABLE_BILL_PROVISIONED && cur == TABLE_BILL_PPR && !x->has_pt) {
        rc = err_set(e, ERR_INVALID,
                     "One or more parameter values were invalid: ProvisionedThroughput must be "
                     "specified when BillingMode is PROVISIONED");
        goto out;
    }
    pt = cJSON_GetObjectItemCaseSensitive(desc, "ProvisionedThroughput");
    if (x->has_pt && cur == TABLE_BILL_PROVISIONED) {
        int64_t r0 = (int64_t)cJSON_GetNumberValue(
                    cJSON_GetObjectItemCaseSensitive(pt, "ReadCapacityUnits")),
                w0 = (int64_t)cJSON_GetNumberValue(
                    cJSON_GetObjectItemCaseSensitive(pt, "WriteCapacityUnits"));
        if (r0 == x->rcu && w0 == x->wcu && x->stream < 0 && !x->has_delprot && x->tclass < 0 &&
            !x->has_warm && !x->has_odt && !x->has_sse) {
            rc = err_set(e, ERR_INVALID,
                         "The provisioned throughput for the table will not change. The "
                         "requested value equals the current value. Current ReadCapacityUnits "
                         "provisioned for the table: %lld. Requested ReadCapacityUnits: %lld. "
                         "Current WriteCapacityUnits provisioned for the table: %lld. Requested "
                         "WriteCapacityUnits: %lld.",
                         (long long)r0, (long long)x->rcu, (long long)w0, (long long)x->wcu);
            goto out;
        }
    }
    ss = cJSON_GetObjectItemCaseSensitive(desc, "StreamSpecification");
    if (x->stream == 1 && ss) {
        rc = err_set(e, ERR_INVALID, "Table already has an enabled stream: TableName: %s", x->name);
        goto out;
    }
    if (x->stream == 0 && cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(desc, "_replicas"))) {
        rc = err_set(e, ERR_INVALID,
                     "One or more parameter values were invalid: Disabling Stream is not allowed "
                     "for a Global Table replica.");
        goto out;
    }
    if (x->stream == 0 && !ss) {
        rc = err_set(e, ERR_INVALID, "Table already has stream disabled: TableName: %s", x->name);
        goto out;
    }
    if (nb != cur) {
        table_billing_set(desc, nb, (double)clock_wall_ms() / 1000.0);
        if (nb == TABLE_BILL_PPR)
            table_throughput_set(desc, 0, 0);
        changing = true;
    }
    if (x->has_pt) {
        table_throughput_change(desc, x->rcu, x->wcu, (double)clock_wall_ms() / 1000.0);
        changing = true;
    }
    if (x->stream == 1)
        table_stream_set(x->c->d, desc, x->name, x->view);
    if (x->stream == 0) {
        rc = streams_table_closing(t, desc, e); /* the shard closes (streams.h) */
        if (rc)
            goto out;
        cJSON_DeleteItemFromObjectCaseSensitive(desc, "StreamSpecification");
    }
    changing |= x->stream >= 0 || x->tclass >= 0 || x->has_sse; /* DynamoDB: UPDATING */
    if (x->has_delprot) {
        cJSON_DeleteItemFromObjectCaseSensitive(desc, "DeletionProtectionEnabled");
        cJSON_AddBoolToObject(desc, "DeletionProtectionEnabled", x->delprot);
    }
    if (x->tclass >= 0)
        table_class_set(desc, x->tclass, (double)clock_wall_ms() / 1000.0);
    rc = desc_put(t, x->name, desc, e);
    if (!rc)
        rc = stats_get(t, desc_id(desc), &count, &bytes, e);
    if (!rc && old_sse) {
        /* SSE turned off: DynamoDB answers the KMS key being left, UPDATING,
         * and describes no SSEDescription once done */
        cJSON_ReplaceItemInObjectCaseSensitive(old_sse, "Status", cJSON_CreateString("UPDATING"));
        cJSON_AddItemToObject(desc, "SSEDescription", old_sse);
        old_sse = NULL;
    }
    if (!rc)
        x->out = describe(desc, changing ? "UPDATING" : "ACTIVE", count, bytes);
out:
    cJSON_Delete(old_sse);
    cJSON_Delete(desc);
    return rc;
}

static void update_done(void *arg, enum err_code rc, const struct err *e)
{
    struct update *x = arg;
    struct drop d = {.c = x->c, .out = x->out};

    drop_done(&d, rc, e);
}

void table_update(struct ddb_call *c)
{
    const cJSON *in = c->in;
    const char *name = ddb_arg_str(c, in, "TableName");
    struct update *x = arena_calloc(c->a, sizeof(*x));

    ddb_check_table_name(c, name, "tableName");
    x->c = c;
    x->name = name;
    x->billing = table_billing_arg(c, in);
    x->has_pt = table_throughput_arg(c, in, &x->rcu, &x->wcu);
    x->stream = table_stream_arg(c, in, &x->view);
    x->has_delprot = ddb_arg_bool(c, in, "DeletionProtectionEnabled", &x->delprot);
    x->tclass = table_class_arg(c, in);
    x->has_warm = table_warm_arg(c, in, x->warm);
    x->has_odt = table_odt_arg(c, in, x->odt);
    x->has_sse = table_sse_arg(c, in, &x->sse);
    if (ddb_args_failed(c))
        return;
    if (x->tclass == -2) {
        table_class_refuse(c);
        return;
    }
    if (ddb_arg_arr(c, in, "GlobalSecondaryIndexUpdates")) {
        index_update_table(c, name, ddb_arg_arr(c, in, "GlobalSecondaryIndexUpdates"));
        return;
    }
    if (ddb_arg_arr(c, in, "ReplicaUpdates")) {
        table_replica_updates(c, name, ddb_arg_arr(c, in, "ReplicaUpdates"),
                              x->billing >= 0 || x->has_pt || x->stream >= 0 || x->has_delprot ||
                                  x->tclass >= 0 || x->has_warm || x->has_odt || x->has_sse);
        return;
    }
    if (ddb_args_failed(c))
        return;
    if (x->billing < 0 && !x->has_pt && x->stream < 0 && !x->has_delprot && x->tclass < 0 &&
        !x->has_warm && !x->has_odt && !x->has_sse) {
        /* ReplicaUpdates were handled above */
        ddb_reply_err(c, ERR_INVALID,
                      "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
                      "GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is "
                      "required");
        return;
    }
    if (x->stream == 1 && !x->view) {
        ddb_reply_err(c, ERR_INVALID,
                      "One or more parameter values were invalid: StreamViewType is required "
                      "when StreamEnabled is true");
        return;
    }
    store_submit(c->d->store, update_apply, update_done, x);
}

/* ---- replication (ddb_repl.h) ---- */

enum err_code ddb_repl_table_export(struct store *s, const char *table, struct buf *out,
                                    struct err *e)
{
    struct store_txn *t = NULL;
    cJSON *desc = NULL, *o = NULL, *reps;
    struct buf k;
    struct slice v;
    char *b64 = NULL, *text;
    enum err_code rc = store_read_begin(s, &t, e);

    buf_init(&k, 0);
    if (rc)
        goto out;
    rc = desc_get(t, table, &desc, e);
    if (rc)
        goto out;
    meta_key(&k, "tkey/", table);
    rc = store_get(t, STORE_DB_META, slice_of(k.ptr, k.len), &v, e);
    if (rc)
        goto out;
    b64 = xmalloc(v.len / 3 * 4 + 8);
    base64_encode(v.ptr, v.len, b64);
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "TableName", table);
    reps = cJSON_DetachItemFromObjectCaseSensitive(desc, "_replicas");
    cJSON_DeleteItemFromObjectCaseSensitive(desc, "_id");
    cJSON_AddItemToObject(o, "Replicas", reps ? reps : cJSON_CreateArray());
    cJSON_AddItemToObject(o, "Desc", desc);
    desc = NULL;
    cJSON_AddStringToObject(o, "TKey", b64);
    text = cJSON_PrintUnformatted(o);
    buf_puts(out, text);
    free(text);
out:
    store_txn_abort(t);
    buf_free(&k);
    free(b64);
    cJSON_Delete(desc);
    cJSON_Delete(o);
    return rc;
}

struct repl_create {
    struct ddb *d;
    const char *name;
    cJSON *desc;       /* owned */
    struct buf tkey;   /* without a valid id */
    const cJSON *reps; /* borrowed */
    bool set_only;     /* just set the replica set of an existing table */
};

static enum err_code repl_create_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct repl_create *x = arg;
    struct buf k;
    struct slice v;
    cJSON *cur = NULL;
    uint64_t id;
    unsigned char sk[14], zero[16] = {0};
    bool replicated = cJSON_GetArraySize(x->reps) > 1;
    enum err_code rc = desc_get(t, x->name, &cur, e);

    if (rc == ERR_OK) {
        struct table_keys have;
        const cJSON *r0 = cJSON_GetObjectItemCaseSensitive(cur, "_replicas");

        rc = table_keys_get(t, x->name, &have, e);
        if (rc)
            goto out;
        if (!x->set_only) {
            struct table_keys want;

            /* compare schemas by re-reading the exported tkey record */
            memset(&want, 0, sizeof(want));
            if (x->tkey.len < 12) {
                rc = err_set(e, ERR_INVALID, "bad replica key schema");
                goto out;
            }
            want.htype = (enum keys_type)((unsigned char *)x->tkey.ptr)[8];
            want.has_range = ((unsigned char *)x->tkey.ptr)[9] != 0xff;
            want.rtype =
                want.has_range ? (enum keys_type)((unsigned char *)x->tkey.ptr)[9] : KEYS_S;
            snprintf(want.hash, sizeof(want.hash), "%s", x->tkey.ptr + 10);
            snprintf(want.range, sizeof(want.range), "%s",
                     x->tkey.ptr + 11 + strnlen(x->tkey.ptr + 10, x->tkey.len - 10));
            {
                size_t fl = 12 + strlen(want.hash) + strlen(want.range);

                want.nul0 = x->tkey.len > fl && (((unsigned char *)x->tkey.ptr)[fl] & TKEY_NUL0);
            }
            if (table_keys_schema(&want) != table_keys_schema(&have)) {
                rc = err_set(e, ERR_INVALID,
                             "Table %s already exists in region with a different key schema",
                             x->name);
                goto out;
            }
            if (cJSON_GetArraySize(r0) == 0) {
                rc = err_set(e, ERR_IN_USE,
                             "Failed to create a the new replica of table with name: '%s' "
                             "because one or more replicas already existed as tables.",
                             x->name);
                goto out;
            }
        }
        cJSON_DeleteItemFromObjectCaseSensitive(cur, "_replicas");
        if (replicated)
            cJSON_AddItemToObject(cur, "_replicas", cJSON_Duplicate(x->reps, 1));
        rc = desc_put(t, x->name, cur, e);
        if (!rc)
            rc = tkey_set_replicated(t, x->name, replicated, e);
        goto out;
    }
    if (rc != ERR_NOTFOUND || x->set_only)
        goto out;
    rc = store_next_id(t, &id, e);
    if (rc)
        goto out;
    cJSON_DeleteItemFromObjectCaseSensitive(x->desc, "_replicas");
    cJSON_AddItemToObject(x->desc, "_replicas", cJSON_Duplicate(x->reps, 1));
    cJSON_AddNumberToObject(x->desc, "_id", (double)id);
    rc = index_create_apply(t, x->desc, id, e); /* the replica's own indexes */
    if (!rc)
        rc = desc_put(t, x->name, x->desc, e);
    if (rc)
        goto out;
    put_be64((unsigned char *)x->tkey.ptr, id);
    meta_key(&k, "tkey/", x->name);
    rc = store_put(t, STORE_DB_META, slice_of(k.ptr, k.len), slice_of(x->tkey.ptr, x->tkey.len), e);
    buf_free(&k);
    if (!rc)
        rc = tkey_set_replicated(t, x->name, replicated, e);
    if (!rc) /* PITR is the origin region's own setting (backup.h) */
        rc = tkey_set_flag(t, x->name, TKEY_PITR, false, e);
    if (!rc)
        rc = store_put(t, STORE_DB_META, stat_key(sk, id), slice_of(zero, 16), e);
out:
    (void)v;
    cJSON_Delete(cur);
    return rc;
}

enum err_code ddb_repl_table_create(struct ddb *d, const cJSON *spec, const cJSON *replicas,
                                    struct err *e)
{
    const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(spec, "TableName"));
    const char *tk = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(spec, "TKey"));
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(spec, "Desc");
    struct repl_create x = {.d = d, .name = name, .reps = replicas};
    unsigned char *raw;
    size_t rawlen = 0;
    char arn[600], id[37];
    const cJSON *ss;
    enum err_code rc;

    if (!name || !tk || !cJSON_IsObject(src) || !cJSON_IsArray(replicas))
        return err_set(e, ERR_INVALID, "replica spec needs TableName, Desc, TKey and Replicas");
    raw = xmalloc(strlen(tk) / 4 * 3 + 4);
    if (!base64_decode(tk, strlen(tk), raw, &rawlen) || rawlen < 12 || rawlen > 600) {
        free(raw);
        return err_set(e, ERR_INVALID, "replica spec: bad TKey");
    }
    buf_init(&x.tkey, 0);
    buf_append(&x.tkey, raw, rawlen);
    free(raw);
    x.desc = cJSON_Duplicate(src, 1);
    /* this region's own identity of the table */
    cJSON_DeleteItemFromObjectCaseSensitive(x.desc, "TableArn");
    snprintf(arn, sizeof(arn), "arn:aws:dynamodb:%s:%s:table/%s", d->region, d->account, name);
    cJSON_AddStringToObject(x.desc, "TableArn", arn);
    cJSON_DeleteItemFromObjectCaseSensitive(x.desc, "TableId");
    ddb_uuid(id);
    cJSON_AddStringToObject(x.desc, "TableId", id);
    cJSON_DeleteItemFromObjectCaseSensitive(x.desc, "_tags");
    ss = cJSON_GetObjectItemCaseSensitive(x.desc, "StreamSpecification");
    if (ss) {
        const char *vt =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ss, "StreamViewType"));
        char view[32];

        snprintf(view, sizeof(view), "%s", vt ? vt : "NEW_AND_OLD_IMAGES");
        table_stream_set(d, x.desc, name, view); /* this region's own stream */
    }
    rc = store_write(d->store, repl_create_apply, &x, e);
    cJSON_Delete(x.desc);
    buf_free(&x.tkey);
    if (!rc)
        log_info("event=replica_table table=%s replicas=%d", name, cJSON_GetArraySize(replicas));
    return rc;
}

enum err_code ddb_repl_table_set_replicas(struct ddb *d, const char *table, const cJSON *replicas,
                                          struct err *e)
{
    struct repl_create x = {.d = d, .name = table, .reps = replicas, .set_only = true};

    return store_write(d->store, repl_create_apply, &x, e);
}

enum err_code ddb_repl_table_replicas(struct store *s, const char *table, struct buf *out,
                                      struct err *e)
{
    struct store_txn *t = NULL;
    cJSON *desc = NULL;
    char *text;
    enum err_code rc = store_read_begin(s, &t, e);

    if (!rc)
        rc = desc_get(t, table, &desc, e);
    store_txn_abort(t);
    if (rc)
        return rc;
    text = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(desc, "_replicas"));
    buf_puts(out, text ? text : "[]");
    free(text);
    cJSON_Delete(desc);
    return ERR_OK;
}

enum err_code ddb_repl_table_drop(struct ddb *d, const char *table, struct err *e)
{
    struct drop x = {.c = NULL, .name = table};
    enum err_code rc = store_write(d->store, drop_apply, &x, e);

    free(x.out);
    free(x.replicas);
    if (!rc)
        log_info("event=replica_dropped table=%s", table);
    return rc;
}

enum err_code ddb_repl_tables_with(struct store *s, const char *region, struct buf *out,
                                   struct err *e)
{
    struct store_txn *t = NULL;
    struct store_cursor *cur = NULL;
    struct slice k, v;
    size_t n = 0;
    enum err_code rc = store_read_begin(s, &t, e);

    buf_putc(out, '[');
    if (!rc)
        rc = store_cursor_open(t, STORE_DB_META, &cur, e);
    if (!rc)
        rc = store_cursor_seek(cur, SLICE("table/"), &k, &v, e);
    while (rc == ERR_OK && k.len > 6 && memcmp(k.ptr, "table/", 6) == 0) {
        cJSON *desc = cJSON_ParseWithLength(v.ptr, v.len);
        const cJSON *r, *reps = cJSON_GetObjectItemCaseSensitive(desc, "_replicas");

        cJSON_ArrayForEach(r, reps)
        {
            if (cJSON_IsString(r) && strcmp(r->valuestring, region) == 0) {
                if (n++)
                    buf_putc(out, ',');
                buf_json_str(out, (const char *)k.ptr + 6, k.len - 6);
                break;
            }
        }
        cJSON_Delete(desc);
        rc = store_cursor_next(cur, &k, &v, e);
    }
    if (rc == ERR_NOTFOUND)
        rc = ERR_OK;
    buf_putc(out, ']');
    store_cursor_close(cur);
    store_txn_abort(t);
    return rc;
}
