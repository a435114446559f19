/* expr.h - DynamoDB expressions: parse once, evaluate against items.
 *
 * Grammar and semantics as the DynamoDB Developer Guide defines them
 * ("Condition and filter expressions, operators, and functions",
 * "Projection expressions", "Update expressions"). Items and values are
 * cJSON AttributeValues (attr.h). Everything parsed lives in the context's
 * arena. */
#ifndef TANDEM_EXPR_H
#define TANDEM_EXPR_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "arena.h"
#include "err.h"

/*
 * The expressions of one request share one context: it resolves #names and
 * :values and remembers which were used, because DynamoDB rejects a request
 * whose ExpressionAttributeNames or ExpressionAttributeValues hold entries that
 * none of its expressions uses.
 */
struct expr_ctx {
    struct arena *arena;
    const cJSON *names;  /* ExpressionAttributeNames object or NULL, borrowed */
    const cJSON *values; /* ExpressionAttributeValues object or NULL, borrowed (validated) */
    /* private */
    const char **used;
    size_t nused, capused;
};

void expr_ctx_init(struct expr_ctx *c, struct arena *a, const cJSON *names, const cJSON *values);

/* expr_check_unused - after every expression of the request is parsed:
 * ERR_INVALID "Value provided in ExpressionAttributeNames unused in
 * expressions: keys: {#a, #b}" (or ...Values...) when one was never used. */
enum err_code expr_check_unused(const struct expr_ctx *c, struct err *e);

struct expr_cond;

/*
 * expr_parse_condition - parse a condition (ConditionExpression, FilterExpression).
 *
 * @which  the parameter name, for messages: "ConditionExpression", ...
 * Comparators = <> < <= > >=, BETWEEN, IN (up to 100 operands), AND, OR, NOT,
 * parentheses; functions attribute_exists, attribute_not_exists,
 * attribute_type, begins_with, contains, size; paths with #names, nested
 * members (a.b) and list indexes (a[2]); reserved words rejected as DynamoDB
 * does. ERR_INVALID with DynamoDB's message ("Invalid ConditionExpression:
 * Syntax error; token: \"=\", near: \"a = =\"", "An expression attribute name
 * used in the document path is not defined; attribute name: #x", ...).
 */
enum err_code expr_parse_condition(struct expr_ctx *c, const char *text, const char *which,
                                   struct expr_cond **out, struct err *e);

/* expr_cond_key_used - the first of @hash / @range (NULL: none) that a path of
 * @x names at its top level, or NULL (Query refuses filters on key attributes). */
const char *expr_cond_key_used(const struct expr_cond *x, const char *hash, const char *range);

/* expr_eval_condition - evaluate against @item (NULL: the item does not exist). */
enum err_code expr_eval_condition(const struct expr_cond *x, const cJSON *item, bool *result,
                                  struct err *e);

/* expr_eval_key_condition - expr_eval_condition for a Query's sort-key
 * condition, comparing strings in the order the table stores its keys:
 * @nul_high for a table whose keys keep U+0000 as C0 80 (not nul0, table.h),
 * so the walk along the stored keys and the condition agree. */
enum err_code expr_eval_key_condition(const struct expr_cond *x, const cJSON *item, bool nul_high,
                                      bool *result, struct err *e);

struct expr_proj;

/* expr_parse_projection - parse a ProjectionExpression (comma-separated paths). */
enum err_code expr_parse_projection(struct expr_ctx *c, const char *text, struct expr_proj **out,
                                    struct err *e);

/* expr_project - a new item with only the projected paths of @item, nested
 * structure kept (owned, cJSON_Delete()). Paths absent from the item are skipped. */
cJSON *expr_project(const struct expr_proj *p, const cJSON *item);

struct expr_update;

/*
 * expr_parse_update - parse an UpdateExpression: SET path = value [, ...]
 * (value: operand [+|- operand], operands paths, :values, if_not_exists(path,
 * v), list_append(a, b)), REMOVE path [, ...], ADD path :v [, ...], DELETE
 * path :v [, ...]; each section at most once, in any order. Paths may not
 * overlap or conflict. ERR_INVALID with DynamoDB's message ("Invalid
 * UpdateExpression: ...").
 */
enum err_code expr_parse_update(struct expr_ctx *c, const char *text, struct expr_update **out,
                                struct err *e);

/* expr_update_only_removes - true when @u has actions and all are REMOVE or
 * DELETE (nothing an update of a missing item could create). */
bool expr_update_only_removes(const struct expr_update *u);

/* expr_update_key_touched - the first of @hash / @range (NULL: none) that an
 * action of @u updates (top-level name of its path), or NULL. */
const char *expr_update_key_touched(const struct expr_update *u, const char *hash,
                                    const char *range);

/*
 * expr_apply_update - apply @u to @item (an item object, changed in place;
 * operands read the item as it was before). ERR_INVALID with DynamoDB's
 * messages: "The provided expression refers to an attribute that does not
 * exist in the item", "An operand in the update expression has an incorrect
 * data type", "The document path provided in the update expression is
 * invalid for update", and num.h's number errors. @item may be half updated
 * on error: apply to a copy. @u NULL: no change. Thread-safe (no arena use).
 */
enum err_code expr_apply_update(const struct expr_update *u, cJSON *item, struct err *e);

/* expr_update_set_legacy - @u was read from UpdateItem's legacy
 * AttributeUpdates: an ADD or DELETE whose value's type is not the
 * attribute's then answers "Type mismatch for attribute to update", as
 * DynamoDB does for that form. @u may be NULL. */
void expr_update_set_legacy(struct expr_update *u);

/* expr_update_project - the parts of @item at the paths @u updates (owned):
 * ReturnValues UPDATED_OLD / UPDATED_NEW. */
cJSON *expr_update_project(const struct expr_update *u, const cJSON *item);

#endif
