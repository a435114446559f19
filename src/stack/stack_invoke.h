/* stack_invoke.h - the provider functions a Pulumi YAML program calls with fn::invoke.
 *
 * aws:iam:getPolicyDocument (a policy document built from statements, as
 * the provider renders it: `json`, `minifiedJson`), aws:getCallerIdentity,
 * aws:getRegion and aws:getPartition. None calls a region: the answers
 * follow from the arguments, the caller the engine found and the provider's region.
 * Pulumi's long tokens (aws:iam/getPolicyDocument:getPolicyDocument,
 * aws:index/getRegion:getRegion) name the same functions. */
#ifndef TANDEM_STACK_INVOKE_H
#define TANDEM_STACK_INVOKE_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "err.h"

/*
 * stack_invoke_data - whether @token is a data source of the provider that reads an
 * existing resource from a region (aws:dynamodb:getTable, aws:s3:getBucket,
 * aws:lambda:getFunction, aws:iam:getRole, aws:iam:getUser): then *@type is the resource
 * type whose read answers it and *@id_arg the argument naming the resource. The caller
 * (the engine) makes the read; stack_invoke does not answer these.
 */
bool stack_invoke_data(const char *token, const char **type, const char **id_arg);

/* stack_invoke_known - @token names a function stack_invoke answers. */
bool stack_invoke_known(const char *token);

/*
 * stack_invoke - call @token with @args (an object, NULL for none).
 * @region: the provider's region. @caller: who the stack's keys are, {account, arn,
 * userId} (NULL: the root user of account 000000000000).
 * @out owned. ERR_NOTFOUND for an unknown function, ERR_INVALID for bad
 * arguments (the message says which).
 */
enum err_code stack_invoke(const char *token, const cJSON *args, const char *region,
                           const cJSON *caller, cJSON **out, struct err *e);

#endif
