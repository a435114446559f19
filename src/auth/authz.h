/* authz.h - the question every API asks before it acts: may this identity
 * perform this action on this resource?
 *
 * The services (ddb, s3, fn, ...) only ask; the identity service answers by
 * evaluating IAM policies. The services hold a struct authz given by the
 * server, so they need not know how the answer is reached. */
#ifndef TANDEM_AUTHZ_H
#define TANDEM_AUTHZ_H

#include <stdbool.h>
#include <stddef.h>

#include "creds.h"
#include "err.h"

struct authz_kv {
    const char *key;   /* condition key, e.g. "aws:SourceIp", "s3:prefix" */
    const char *value; /* one value; repeat the key for multi-valued keys */
};

struct authz_request {
    const struct creds_identity *who; /* NULL: an anonymous (unsigned) request, which only a
                                       * resource policy granting Principal "*" can allow */
    const char *action;               /* "dynamodb:PutItem", "s3:GetObject", ... */
    const char *resource; /* ARN, e.g. "arn:aws:dynamodb:us-east-1:123456789012:table/t" */
    const struct authz_kv *context; /* request context for Condition blocks */
    size_t ncontext;
    const char *resource_policy; /* JSON of the resource's own policy (bucket, function) or NULL */
    bool *explicit_deny;         /* out, may be NULL: set when a Deny statement refused it */
};

/* Returns ERR_OK to allow, or ERR_DENIED with a message in @e (in the style of
 * "User: ARN is not authorized to perform: ACTION on resource: ARN"). */
typedef enum err_code authz_fn(void *ud, const struct authz_request *q, struct err *e);

struct authz {
    authz_fn *fn;
    void *ud;
};

/*
 * authz_check - ask @a. A NULL @a (no identity service) or a root identity
 * is allowed everything, as an account's root user is.
 */
enum err_code authz_check(const struct authz *a, const struct authz_request *q, struct err *e);

#endif
