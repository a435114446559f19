/* index_keys.c - key attributes of secondary indexes (see index_keys.h). */
#include "index_keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "attr.h"
#include "codec.h"
#include "expr_int.h"
#include "keys.h"
#include "mem.h"

enum {
    /* the bytes the key attributes of a multi-attribute entry key may take
     * together: with the index id and a hashed base key (64) it stays within
     * LMDB's 511 */
    PARTS_BUDGET = 430,
    PART_TAIL = 2 + SHA256_DIGEST_LENGTH, /* the marker 0x00 0x01 and the hash */
    KEY_MAX = 511,
};

static const char *const type_names[] = {"S", "N", "B", NULL};
static const enum attr_type want_attr[] = {ATTR_S, ATTR_N, ATTR_B};

int index_type_of(const char *s)
{
    for (int i = 0; type_names[i]; i++)
        if (s && strcmp(s, type_names[i]) == 0)
            return i;
    return -1;
}

int index_def_type(const cJSON *defs, const char *name)
{
    const cJSON *d;

    cJSON_ArrayForEach(d, defs)
    {
        const char *n = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "AttributeName"));

        if (n && name && strcmp(n, name) == 0)
            return index_type_of(
                cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "AttributeType")));
    }
    return -1;
}

/* key_raw - the bytes of key attribute @av of type @t (*@raw owned): S its
 * UTF-8 (with U+0000 as 0x00 when @nul0), N its text, B decoded. False when
 * @av is absent or of another type. */
static bool key_raw(enum keys_type t, bool nul0, const cJSON *av, unsigned char **raw, size_t *len)
{
    const cJSON *p = attr_payload(av);
    size_t n;

    *raw = NULL;
    if (!av || attr_type_of(av) != want_attr[t] || !cJSON_IsString(p))
        return false;
    n = strlen(p->valuestring);
    *raw = xmalloc(n + 4);
    if (t == KEYS_B) {
        if (base64_decode(p->valuestring, n, *raw, len))
            return true;
        free(*raw);
        *raw = NULL;
        return false;
    }
    if (t == KEYS_S && nul0) {
        *len = attr_str_bytes(p->valuestring, n, (char *)*raw);
    } else {
        memcpy(*raw, p->valuestring, n);
        *len = n;
    }
    return true;
}

enum err_code index_keys_value(struct buf *out, enum keys_type t, bool nul0, const cJSON *av,
                               struct err *e)
{
    unsigned char *raw;
    size_t len = 0;
    enum err_code rc;

    if (!key_raw(t, nul0, av, &raw, &len))
        return ERR_NOTFOUND;
    rc = keys_append(out, t, raw, len, true, e);
    free(raw);
    return rc;
}

/* ---- the record ---- */

void index_keys_load(struct index_def *d, const cJSON *o)
{
    const cJSON *mk = cJSON_GetObjectItemCaseSensitive(o, "mk"), *a;

    d->nkeys = d->nhash = 0;
    d->multi = false;
    if (!cJSON_IsArray(mk)) {
        snprintf(d->keys[0].name, sizeof(d->keys[0].name), "%s", d->k.hash);
        d->keys[0].type = d->k.htype;
        d->nkeys = d->nhash = 1;
        if (d->k.has_range) {
            snprintf(d->keys[1].name, sizeof(d->keys[1].name), "%s", d->k.range);
            d->keys[1].type = d->k.rtype;
            d->nkeys = 2;
        }
        return;
    }
    cJSON_ArrayForEach(a, mk)
    {
        struct index_attr *x = &d->keys[d->nkeys];

        if (d->nkeys == INDEX_KEYS_MAX)
            break;
        snprintf(x->name, sizeof(x->name), "%s",
                 cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "a")));
        x->type = (enum keys_type)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(a, "t"));
        d->nkeys++;
        if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "r")))
            d->nhash++;
    }
    d->multi = true;
}

/* is_range - whether KeySchema element @el is a RANGE key. */
static bool is_range(const cJSON *el)
{
    const char *kt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(el, "KeyType"));

    return kt && strcmp(kt, "RANGE") == 0;
}

void index_keys_record(cJSON *o, const cJSON *ks, const cJSON *defs)
{
    const cJSON *el;
    cJSON *mk;
    int nr = 0, n = cJSON_GetArraySize(ks);

    cJSON_ArrayForEach(el, ks)
    {
        nr += is_range(el);
    }
    if (n - nr <= 1 && nr <= 1)
        return;
    mk = cJSON_AddArrayToObject(o, "mk");
    cJSON_ArrayForEach(el, ks)
    {
        const char *an =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(el, "AttributeName"));
        cJSON *a = cJSON_CreateObject();

        cJSON_AddStringToObject(a, "a", an);
        cJSON_AddNumberToObject(a, "t", index_def_type(defs, an));
        if (is_range(el))
            cJSON_AddTrueToObject(a, "r");
        cJSON_AddItemToArray(mk, a);
    }
}

bool index_keys_schema(const cJSON *ks, bool global, char *msg, size_t n)
{
    const cJSON *el;
    int nh = 0, nr = 0, i = 0, total = cJSON_GetArraySize(ks);

    cJSON_ArrayForEach(el, ks)
    {
        const char *kt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(el, "KeyType"));
        bool hash = kt && strcmp(kt, "HASH") == 0;

        if ((i == 0 && !hash) || (!global && i == 1 && !is_range(el))) {
            snprintf(msg, n,
                     "Invalid KeySchema: The first KeySchemaElement is not a HASH key type%s",
                     total == 2 ? " or the second is not a RANGE key type" : "");
            return false;
        }
        if (!hash && !is_range(el)) {
            snprintf(msg, n,
                     "Invalid KeySchema: KeySchemaElement %d has KeyType %.40s, not HASH or "
                     "RANGE",
                     i + 1, kt ? kt : "null");
            return false;
        }
        if (hash && nr) {
            snprintf(msg, n,
                     "Invalid KeySchema: every HASH KeySchemaElement must come before the RANGE "
                     "ones");
            return false;
        }
        nh += hash;
        nr += !hash;
        i++;
    }
    if (nh > INDEX_PART_MAX || nr > INDEX_PART_MAX) {
        snprintf(msg, n,
                 "Invalid KeySchema: a global secondary index key may have at most %d %s "
                 "KeySchemaElements; found %d",
                 INDEX_PART_MAX, nh > INDEX_PART_MAX ? "HASH" : "RANGE",
                 nh > INDEX_PART_MAX ? nh : nr);
        return false;
    }
    cJSON_ArrayForEach(el, ks)
    {
        const char *an =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(el, "AttributeName"));

        for (const cJSON *p = ks->child; p != el; p = p->next)
            if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "AttributeName")),
                       an) == 0) {
                if (total == 2 && nh == 1)
                    snprintf(msg, n,
                             "Invalid KeySchema: Both the Hash Key and the Range Key element in "
                             "the KeySchema have the same name");
                else
                    snprintf(msg, n,
                             "Invalid KeySchema: Duplicate attribute name in KeySchema: %.255s",
                             an);
                return false;
            }
    }
    return true;
}

/* ---- entry keys ---- */

/* part_cap - the most bytes one key attribute of @ix takes inline. */
static size_t part_cap(const struct index_def *ix)
{
    size_t cap = PARTS_BUDGET / (ix->nkeys ? ix->nkeys : 1);

    return cap > KEYS_PK_INLINE ? KEYS_PK_INLINE : cap;
}

/* head_len - how many of @raw's @len bytes fit @room bytes escaped
 * (0x00 takes two). */
static size_t head_len(const unsigned char *raw, size_t len, size_t room)
{
    size_t i = 0, used = 0;

    while (i < len && used + (raw[i] ? 1u : 2u) <= room)
        used += raw[i++] ? 1u : 2u;
    return i;
}

/* part_value - append key attribute @i of @ix with value @av: its
 * self-delimiting encoding, or when that passes part_cap its first bytes,
 * the marker 0x00 0x01 and its SHA-256. ERR_NOTFOUND: absent, another type. */
static enum err_code part_value(struct buf *out, const struct index_def *ix, unsigned i,
                                const cJSON *av, struct err *e)
{
    enum keys_type t = ix->keys[i].type;
    unsigned char *raw, md[SHA256_DIGEST_LENGTH];
    size_t len = 0, cap = part_cap(ix), head;
    enum err_code rc;

    if (!key_raw(t, ix->k.nul0, av, &raw, &len))
        return ERR_NOTFOUND;
    head = head_len(raw, len, cap - 2);
    if (t == KEYS_N || head == len) {
        rc = keys_append(out, t, raw, len, true, e);
    } else {
        head = head_len(raw, len, cap - 2 - PART_TAIL);
        rc = keys_append(out, t, raw, head, true, e);
        if (!rc) {
            out->len -= 2; /* the marker and the hash end it instead */
            SHA256(raw, len, md);
            buf_append(out, "\x00\x01", 2);
            buf_append(out, md, sizeof(md));
        }
    }
    free(raw);
    return rc;
}

enum err_code index_keys_entry(const struct index_def *ix, const cJSON *item, struct buf *out,
                               struct err *e)
{
    enum err_code rc = ERR_OK;

    for (unsigned i = 0; i < ix->nkeys; i++)
        if (!cJSON_GetObjectItemCaseSensitive(item, ix->keys[i].name))
            return ERR_NOTFOUND;
    keys_append_table(out, ix->k.id);
    for (unsigned i = 0; !rc && i < ix->nkeys; i++)
        rc = part_value(out, ix, i, cJSON_GetObjectItemCaseSensitive(item, ix->keys[i].name), e);
    return rc;
}

/* ---- Query ---- */

static const char *const unsupported = "Query key condition not supported";
static const char *const mismatch = "One or more parameter values were invalid: Condition "
                                    "parameter type does not match schema type";

enum err_code index_keys_leaf(const struct index_def *ix, const char *name,
                              const struct expr_cond *x, int op, const cJSON *value,
                              struct index_keycond *kc, struct err *e)
{
    unsigned i = 0;

    while (i < ix->nkeys && strcmp(ix->keys[i].name, name) != 0)
        i++;
    if (i == ix->nkeys) {
        if (!kc->other)
            kc->other = name;
        return ERR_OK;
    }
    if (kc->cond[i])
        return err_set(e, ERR_INVALID,
                       "KeyConditionExpressions must only contain one condition per key");
    if (i < ix->nhash && (x->kind != COND_CMP || op != TOK_EQ))
        return err_set(e, ERR_INVALID, "%s", unsupported);
    /* begins_with on a number key is refused whatever its value's type, as
     * DynamoDB answers it, before the value's type is compared with the key's */
    if (x->kind == COND_BEGINS && ix->keys[i].type == KEYS_N)
        return err_set(e, ERR_INVALID,
                       "Invalid KeyConditionExpression: Incorrect operand type for operator or "
                       "function; operator or function: begins_with, operand type: N");
    for (size_t a = 0; a < x->nargs; a++)
        if (x->args[a]->kind == OPND_VALUE &&
            attr_type_of(x->args[a]->value) != want_attr[ix->keys[i].type])
            return err_set(e, ERR_INVALID, "%s", mismatch);
    kc->cond[i] = x;
    kc->op[i] = op;
    kc->val[i] = value;
    return ERR_OK;
}

/* bound_part - append a bound for key attribute @i of @ix at value @av: for
 * N its encoding, for S and B the escaped bytes that every value at or
 * past @av (in the order of the encoding) starts with or passes, without
 * an end. */
static void bound_part(struct buf *out, const struct index_def *ix, unsigned i, const cJSON *av)
{
    unsigned char *raw;
    size_t len = 0, head;
    struct err e = {0};

    if (ix->keys[i].type == KEYS_N) {
        part_value(out, ix, i, av, &e);
        return;
    }
    if (!key_raw(ix->keys[i].type, ix->k.nul0, av, &raw, &len))
        return;
    head = head_len(raw, len, part_cap(ix) - 2 - PART_TAIL);
    for (size_t j = 0; j < head; j++) {
        buf_putc(out, (char)raw[j]);
        if (!raw[j])
            buf_putc(out, (char)0xff);
    }
    free(raw);
}

static bool is_eq(const struct index_keycond *kc, unsigned i)
{
    return kc->cond[i]->kind == COND_CMP && kc->op[i] == TOK_EQ;
}

enum err_code index_keys_plan(const struct index_def *ix, const struct index_keycond *kc,
                              struct buf *prefix, struct buf *lo, struct buf *hi,
                              const struct expr_cond **range, struct err *e)
{
    unsigned last = ix->nhash, i;
    const struct expr_cond *x;
    enum err_code rc = ERR_OK;

    *range = NULL;
    for (i = 0; i < ix->nhash; i++)
        if (!kc->cond[i])
            return err_set(e, ERR_INVALID, "Query condition missed key schema element: %s",
                           ix->keys[i].name);
    for (i = ix->nhash; i < ix->nkeys; i++)
        if (kc->cond[i])
            last = i + 1;
    /* the sort key attributes given go from the first on, without a gap */
    for (i = ix->nhash; i < last; i++)
        if (!kc->cond[i])
            return err_set(e, ERR_INVALID,
                           "Query condition missed key schema element: %s (the sort key "
                           "attributes of a condition go in KeySchema order without skipping "
                           "one)",
                           ix->keys[i].name);
    if (kc->other) {
        if (last < ix->nkeys)
            return err_set(e, ERR_INVALID, "Query condition missed key schema element: %s",
                           ix->keys[last].name);
        return err_set(e, ERR_INVALID, "%s", unsupported);
    }
    for (i = ix->nhash; i + 1 < last; i++)
        if (!is_eq(kc, i))
            return err_set(e, ERR_INVALID,
                           "Query key condition not supported: only the last sort key attribute "
                           "of the condition may use an operator other than =; %s is followed "
                           "by %s",
                           ix->keys[i].name, ix->keys[i + 1].name);
    keys_append_table(prefix, ix->k.id);
    for (i = 0; !rc && i < last; i++)
        if (i < ix->nhash || is_eq(kc, i))
            rc = part_value(prefix, ix, i, kc->val[i], e);
    if (rc == ERR_NOTFOUND)
        return err_set(e, ERR_INVALID, "%s", mismatch);
    if (rc)
        return rc;
    buf_append(lo, prefix->ptr, prefix->len);
    buf_append(hi, prefix->ptr, prefix->len);
    if (last > ix->nhash && !is_eq(kc, last - 1)) {
        x = *range = kc->cond[last - 1];
        i = last - 1;
        if (x->kind == COND_BETWEEN) {
            bound_part(lo, ix, i, x->args[1]->value);
            bound_part(hi, ix, i, x->args[2]->value);
        } else if (x->kind == COND_BEGINS) {
            bound_part(lo, ix, i, kc->val[i]);
            bound_part(hi, ix, i, kc->val[i]);
        } else if (kc->op[i] == TOK_GT || kc->op[i] == TOK_GE) {
            bound_part(lo, ix, i, kc->val[i]);
        } else {
            bound_part(hi, ix, i, kc->val[i]);
        }
    }
    /* past every entry key that starts with it */
    while (hi->len < KEY_MAX)
        buf_putc(hi, (char)0xff);
    return ERR_OK;
}
