/* authz_keys.h - DynamoDB's own condition keys for the authorizer: what a
 * request touches, as IAM policies see it (DynamoDB Developer Guide, "Using
 * IAM policy conditions for fine-grained access control"):
 *
 *   dynamodb:LeadingKeys   the partition key values of the items the request
 *                          reads or writes (Key, Item, Query's key condition);
 *   dynamodb:Attributes    the top-level attribute names it names (Item,
 *                          Key, ProjectionExpression, UpdateExpression,
 *                          AttributesToGet);
 *   dynamodb:Select        its Select parameter; for a Query or Scan without
 *                          one, what DynamoDB reads: SPECIFIC_ATTRIBUTES
 *                          with a projection, else ALL_ATTRIBUTES (a table)
 *                          or ALL_PROJECTED_ATTRIBUTES (an index);
 *   dynamodb:ReturnValues  its ReturnValues parameter.
 *
 * Multi-valued keys repeat (authz_kv), for ForAllValues / ForAnyValue. */
#ifndef TANDEM_DDB_AUTHZ_KEYS_H
#define TANDEM_DDB_AUTHZ_KEYS_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "authz.h"
#include "ddb_int.h"

/* A growing list of condition keys in a request's arena. */
struct ddb_kvs {
    struct authz_kv *kv;
    size_t n, cap;
};

/* ddb_kvs_add - append @key=@value (once per pair). */
void ddb_kvs_add(struct ddb_call *c, struct ddb_kvs *l, const char *key, const char *value);

/* ddb_authz_keys - append the condition keys of @in (the request, or one
 * request of a batch or transaction) on table @table to @l; the strings live
 * in @c's arena. The key schema is read here; an unknown table adds no
 * LeadingKeys (the operation then answers ResourceNotFound). */
void ddb_authz_keys(struct ddb_call *c, const cJSON *in, const char *table, struct ddb_kvs *l);

/* ddb_authz_select_default - for a Query or Scan @in without Select, add
 * the dynamodb:Select DynamoDB applies (see above), so that a policy limiting
 * attributes with StringEqualsIfExists dynamodb:Select SPECIFIC_ATTRIBUTES (the
 * documented pattern) refuses a read of all attributes. */
void ddb_authz_select_default(struct ddb_call *c, const cJSON *in, struct ddb_kvs *l);

#endif
