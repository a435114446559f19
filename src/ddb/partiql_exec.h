/* partiql_exec.h - ExecuteStatement, BatchExecuteStatement and
 * ExecuteTransaction: each PartiQL statement (partiql.h) becomes the request
 * of the item operation that does it (Query, Scan, GetItem, PutItem,
 * UpdateItem, DeleteItem, TransactWriteItems, TransactGetItems), run through
 * that operation's own handler as a call inside the PartiQL one
 * (ddb_subcall), whose answer is then reshaped into PartiQL's. */
#ifndef TANDEM_PARTIQL_EXEC_H
#define TANDEM_PARTIQL_EXEC_H

#include <stdbool.h>

#include "ddb_int.h"

ddb_op_fn ddb_partiql_execute;
ddb_op_fn ddb_partiql_batch;
ddb_op_fn ddb_partiql_transaction;

/* partiql_op - whether @op is one of the three (they authorize per
 * statement: dynamodb:PartiQLSelect/Insert/Update/Delete on its table). */
bool partiql_op(const char *op);

#endif
