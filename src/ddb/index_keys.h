/* index_keys.h - key attributes of secondary indexes, and global indexes
 * whose keys are made of several attributes.
 *
 * A global index's KeySchema may list up to INDEX_PART_MAX HASH attributes
 * followed by up to INDEX_PART_MAX RANGE attributes, each with its own type
 * (S, N or B). An item is in such an index only when it has every one of
 * them. Its entry key is the index id, then every key attribute in KeySchema
 * order, each encoded self-delimiting and order-preserving (keys_append with
 * delimited), then the base item's key (index.h): so the entries of one
 * partition (the same values of all HASH attributes) are contiguous and
 * sorted by the first RANGE attribute, then the second, and so on, each in
 * its own type's order. To keep every entry key within LMDB's limit, a string
 * or binary value whose encoding passes its share of the key (index_keys.c)
 * keeps its first bytes followed by a SHA-256 of the whole value: order then
 * holds on those first bytes.
 *
 * Indexes with one HASH and at most one RANGE attribute keep the encoding of
 * index.h unchanged.
 *
 * A Query on such an index gives = on every HASH attribute and conditions on
 * RANGE attributes from the first on without skipping one; each is = except
 * the last given, which may also be <, <=, >, >=, BETWEEN or begins_with. */
#ifndef TANDEM_INDEX_KEYS_H
#define TANDEM_INDEX_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "err.h"
#include "index.h"

struct expr_cond;

/* index_type_of - the keys_type of AttributeType @s ("S", "N", "B"), -1.
 * index_def_type - the type of @name in AttributeDefinitions @defs, -1. */
int index_type_of(const char *s);
int index_def_type(const cJSON *defs, const char *name);

/* index_keys_value - append the key attribute @av of type @t (@nul0: U+0000
 * in a string as 0x00, table.h) self-delimiting; ERR_NOTFOUND when @av is
 * absent or of another type. */
enum err_code index_keys_value(struct buf *out, enum keys_type t, bool nul0, const cJSON *av,
                               struct err *e);

/* index_keys_load - fill @d->keys (and nkeys, nhash, multi) from record
 * entry @o once @d->k is read. */
void index_keys_load(struct index_def *d, const cJSON *o);

/* index_keys_record - add "mk" to record entry @o when KeySchema @ks (types
 * from AttributeDefinitions @defs) has several HASH or RANGE attributes. */
void index_keys_record(cJSON *o, const cJSON *ks, const cJSON *defs);

/* index_keys_schema - check the order and counts of KeySchema @ks (its
 * elements have AttributeName and KeyType) of index @name: for a global
 * index up to INDEX_PART_MAX HASH then up to INDEX_PART_MAX RANGE, no name
 * twice; for a local one HASH then RANGE. False with the ValidationException
 * message in @msg. */
bool index_keys_schema(const cJSON *ks, bool global, char *msg, size_t n);

/* index_keys_entry - append index @ix's id and its key attributes of @item
 * (a multi-attribute key); ERR_NOTFOUND when one is missing or of another
 * type (the item is not in the index). */
enum err_code index_keys_entry(const struct index_def *ix, const cJSON *item, struct buf *out,
                               struct err *e);

/* ---- Query ---- */

/* The key condition on a multi-attribute index, one condition per key
 * attribute (by position in ix->keys). */
struct index_keycond {
    const struct expr_cond *cond[INDEX_KEYS_MAX];
    const cJSON *val[INDEX_KEYS_MAX]; /* its value (the first, for BETWEEN) */
    int op[INDEX_KEYS_MAX];           /* COND_CMP: the operator, the key on its left */
    const char *other;                /* a condition on an attribute not in the key */
};

/* index_keys_leaf - file the condition @x on attribute @name (@op: its
 * operator with the key on the left, @value: its first value) in @kc. */
enum err_code index_keys_leaf(const struct index_def *ix, const char *name,
                              const struct expr_cond *x, int op, const cJSON *value,
                              struct index_keycond *kc, struct err *e);

/* index_keys_plan - check @kc against the rules above and give the range of
 * entry keys to walk: @prefix (every entry matching starts with it: the
 * index id, the HASH values and the RANGE values given with =), @lo and @hi
 * (forward and backward start keys), and in *@range the condition the
 * entries are still checked against (NULL: none). */
enum err_code index_keys_plan(const struct index_def *ix, const struct index_keycond *kc,
                              struct buf *prefix, struct buf *lo, struct buf *hi,
                              const struct expr_cond **range, struct err *e);

#endif
