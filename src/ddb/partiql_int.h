/* partiql_int.h - what the PartiQL files share: partiql_exec.c plans each
 * statement and runs ExecuteStatement, partiql_batch.c runs
 * BatchExecuteStatement and ExecuteTransaction with the same plans. */
#ifndef TANDEM_PARTIQL_INT_H
#define TANDEM_PARTIQL_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "ddb_int.h"
#include "partiql.h"

enum { PARTIQL_BATCH_MAX = 25, PARTIQL_TXN_MAX = 100 };

/* How a statement is run: alone, in a batch, in a transaction. */
enum partiql_mode { PARTIQL_EXEC, PARTIQL_BATCH, PARTIQL_TXN };

/* One statement made a request. */
struct partiql_plan {
    const struct pql_stmt *st;
    const char *op; /* the operation that runs it */
    cJSON *in;      /* its request */
    const char *action;
    bool read;
    /* pk IN [values]: one Query per value, the value as :k0 */
    const struct pql_cond *fan;
    /* a batch's statement: the storage key of the item it names (empty when
     * it names none), on table @tid, to refuse two on one item */
    cJSON *ikey;
    struct buf key;
    uint64_t tid;
    bool rvf_old; /* ReturnValuesOnConditionCheckFailure ALL_OLD was asked for */
    /* on failure */
    enum err_code code;
    char msg[512];
    bool in_stmt; /* @msg is about one of TransactStatements: its caller names which */
};

/* "Duplicate primary key exists in table": an INSERT's key is taken */
extern const char partiql_dup_msg[];

/* ReturnValuesOnConditionCheckFailure's values */
extern const char *const partiql_rvf_vals[];

/*
 * partiql_plan_make - statement @one (a ParameterizedStatement: Statement,
 * Parameters, ConsistentRead, ReturnValuesOnConditionCheckFailure) into @pl
 * for @mode. False with pl->code and pl->msg when it cannot run (syntax, a
 * missing table or index, the key). Its JSON lives in @c's arena.
 */
bool partiql_plan_make(struct ddb_call *c, const cJSON *one, enum partiql_mode mode,
                       struct partiql_plan *pl);

/* partiql_authorize - @c's caller may run @pl (dynamodb:PartiQL<verb> with
 * PartiQL's condition keys); false with pl->code and pl->msg when not. */
bool partiql_authorize(struct ddb_call *c, struct partiql_plan *pl);

/* partiql_statement_arg - the constraints of a statement's Statement and
 * Parameters members (@path names Statement), recorded on @c. */
void partiql_statement_arg(struct ddb_call *c, const cJSON *one, const char *path);

/* partiql_err_type - the error type of an answer body (after the '#'). */
const char *partiql_err_type(const cJSON *body);

/* partiql_sub_error - the error type of a statement's failed operation @op
 * (its answer @out) as PartiQL answers it, its message in @msg (borrowed
 * from @out or static). */
const char *partiql_sub_error(const char *op, const cJSON *out, const char **msg);

/* partiql_reply_sub_error - answer @c with that error, keeping its Item. */
void partiql_reply_sub_error(struct ddb_call *c, const char *op, int status, const cJSON *out);

/* partiql_put_member - append ,"@name":<@v's JSON> when @v is not NULL. */
void partiql_put_member(struct buf *b, const char *name, const cJSON *v);

/* partiql_capacity_add - add ConsumedCapacity @cc to @all's entry for its
 * table (a new entry when there is none). */
void partiql_capacity_add(cJSON *all, const cJSON *cc);

#endif
