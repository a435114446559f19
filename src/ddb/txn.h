/* txn.h - TransactWriteItems and TransactGetItems.
 *
 * TransactWriteItems: up to 100 actions (ConditionCheck, Put, Update,
 * Delete), at most one per item, 4 MB in all. Every condition is evaluated
 * against the state inside ONE store apply, and either every write happens
 * there (through item_write_in_apply, so counters, indexes and the
 * replication log follow) or none does: TransactionCanceledException with
 * one CancellationReason per action, in request order (Code None,
 * ConditionalCheckFailed with the Item for ReturnValuesOnConditionCheckFailure
 * ALL_OLD, ValidationError). A ClientRequestToken makes the call idempotent
 * for 10 minutes: the same token with the same request answers as the first
 * call did without applying again; with a different request,
 * IdempotentParameterMismatchException; while the first is still running,
 * TransactionInProgressException.
 *
 * TransactGetItems: up to 100 Gets read from one snapshot. */
#ifndef TANDEM_TXN_H
#define TANDEM_TXN_H

#include "ddb_int.h"

ddb_op_fn ddb_transact_write, ddb_transact_get;

#endif
