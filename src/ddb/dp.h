/* dp.h - what the data-plane operations (update.c, query.c) share: argument
 * helpers and the parsing of a request's expressions. */
#ifndef TANDEM_DP_H
#define TANDEM_DP_H

#include <stdbool.h>
#include <stddef.h>

#include "ddb_int.h"
#include "expr.h"
#include "table.h"

/* Which expressions a request may carry (dp_exprs_parse @which). */
enum {
    DP_COND = 1,    /* ConditionExpression */
    DP_FILTER = 2,  /* FilterExpression */
    DP_KEYCOND = 4, /* KeyConditionExpression */
    DP_PROJ = 8,    /* ProjectionExpression */
    DP_UPDATE = 16, /* UpdateExpression */
};

struct dp_exprs {
    struct expr_ctx ctx;
    struct expr_cond *cond, *filter, *keycond;
    struct expr_proj *proj;
    struct expr_update *upd;
};

/* dp_expr_args_check - ExpressionAttributeNames/@names and
 * ExpressionAttributeValues/@values (either may be NULL) checked as DynamoDB
 * checks them: present only when an expression that may use them is
 * (@names_used, @values_used), not empty, names strings, values valid
 * AttributeValues. False when @c was answered. */
bool dp_expr_args_check(struct ddb_call *c, cJSON *names, cJSON *values, bool names_used,
                        bool values_used);

/* dp_exprs_parse - the expressions of @in (the request or one of its
 * members), checked as DynamoDB checks them; false when @c was answered. */
bool dp_exprs_parse(struct ddb_call *c, cJSON *in, unsigned which, struct dp_exprs *x);

/* dp_capacity_arg - ReturnConsumedCapacity: 0 none, 1 TOTAL, 2 INDEXES. */
int dp_capacity_arg(struct ddb_call *c);

/* dp_item_collection - the member `"ItemCollectionMetrics":{...}` (in @c's
 * arena) a write to table @k of the item or key @obj answers when @ricm
 * (ReturnItemCollectionMetrics' index) is SIZE and the table has a local
 * secondary index, else NULL: DynamoDB answers none for other tables. Tandem
 * does not measure item collections; the estimate is DynamoDB's least, 0 to
 * 1 GB. */
const char *dp_item_collection(struct ddb_call *c, int ricm, const struct table_keys *k,
                               const cJSON *obj);

/* dp_legacy - answer and return true when a legacy parameter of @names is present. */
bool dp_legacy(struct ddb_call *c, const char *const *names);

/*
 * dp_attrs_to_get - the legacy AttributesToGet of @in (the request or one
 * BatchGetItem table), checked as DynamoDB does (non-empty, no duplicates, not
 * beside ProjectionExpression or ExpressionAttributeNames) and turned in place
 * into the equivalent ProjectionExpression with ExpressionAttributeNames, so
 * the rest of the request reads as if written with expressions. False when
 * answered.
 */
bool dp_attrs_to_get(struct ddb_call *c, cJSON *in);

/* dp_legacy_mix - refuse (answer, false) a request naming both one of the
 * @legacy parameters (NULL-terminated) and an expression parameter. */
bool dp_legacy_mix(struct ddb_call *c, const cJSON *in, const char *const *legacy);

/*
 * dp_legacy_conds - the legacy condition map @param of @in (KeyConditions,
 * QueryFilter or ScanFilter: {"attr": {"ComparisonOperator": ..,
 * "AttributeValueList": [..]}}) checked as DynamoDB does and turned in place
 * into the equivalent @expr_name (KeyConditionExpression, FilterExpression or
 * ConditionExpression), joined by ConditionalOperator (AND unless OR; only
 * with two conditions or more), with its names and values added to
 * ExpressionAttributeNames/Values. Each operator takes DynamoDB's argument
 * count and types; Expected also takes its Value/Exists form. @key: only the
 * operators a key condition allows. Call dp_legacy_mix first: names and values present are
 * an earlier conversion's, or (KeyConditions) the request's own for its
 * FilterExpression or ProjectionExpression; generated placeholders (#lcN,
 * :lcN) skip names already there. False when answered.
 */
bool dp_legacy_conds(struct ddb_call *c, cJSON *in, const char *param, const char *expr_name,
                     bool key);

/* dp_lookup_keys - the table's key schema from a fresh snapshot; false when answered. */
bool dp_lookup_keys(struct ddb_call *c, const char *table, struct table_keys *k);

double dp_read_units(size_t bytes, bool consistent);
double dp_write_units(size_t bytes);

/* dp_capacity_entry - append one ConsumedCapacity object for @table (the
 * per-table entries of BatchGetItem, BatchWriteItem and the transactions):
 * TableName and CapacityUnits, and with @mode 2 (INDEXES) the Table's share. */
void dp_capacity_entry(struct buf *b, int mode, const char *table, double units);

/* dp_capacity_units - dp_capacity_entry for @units of the table itself plus
 * what its indexes took (@ic, may be NULL): CapacityUnits is the sum, and
 * with @mode 2 (INDEXES) the table's and each index's share follow. @split
 * (NULL, "ReadCapacityUnits" or "WriteCapacityUnits"): the transactions'
 * read or write half, given beside CapacityUnits at the top and in Table, as
 * DynamoDB reports it for transactions alone. */
struct index_cost;
void dp_capacity_units(struct buf *b, int mode, const char *table, double units,
                       const struct index_cost *ic, const char *split);

/* dp_put_json - append @v's JSON text. */
void dp_put_json(struct buf *b, const cJSON *v);

/* dp_put_item - append @item's JSON text, only its paths in @proj when not NULL. */
void dp_put_item(struct buf *b, const struct expr_proj *proj, const cJSON *item);

#endif
