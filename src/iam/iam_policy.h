/* iam_policy.h - parse and evaluate IAM policy documents.
 *
 * Pure: no I/O, no globals, no clock (the caller supplies aws:CurrentTime and
 * every other context key), so AWS's documented examples run as a table test.
 * Evaluation follows the IAM User Guide's "Policy evaluation logic": an
 * explicit Deny in any policy wins, else any Allow allows, else the request is
 * implicitly denied. Within a statement: Action/NotAction (case-insensitive,
 * `*` and `?`), Resource/NotResource (case-sensitive, per ARN segment, policy
 * variables), Principal/NotPrincipal for resource and trust policies, and
 * Condition blocks (operators AND, keys AND, values OR). */
#ifndef TANDEM_IAM_POLICY_H
#define TANDEM_IAM_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "authz.h"
#include "err.h"

/* What a document is for; it decides which elements are required. */
enum iam_policy_kind {
    IAM_POLICY_IDENTITY, /* user/role inline or managed: Resource required, no Principal */
    IAM_POLICY_RESOURCE, /* bucket/function policy: Principal required */
    IAM_POLICY_TRUST,    /* role trust policy: Principal required, no Resource */
    IAM_POLICY_MANAGED,  /* parsing only: an identity policy that must be 2012-10-17 */
};

enum iam_decision {
    IAM_IMPLICIT_DENY = 0,
    IAM_ALLOW,
    IAM_EXPLICIT_DENY,
};

struct iam_policy;

/*
 * iam_policy_parse - validate @json (@len bytes) as a policy of @kind.
 *
 * @out  owned, iam_policy_free().
 * Returns ERR_OK, or ERR_INVALID with IAM's MalformedPolicyDocument message in
 * @e ("Syntax errors in policy.", "Policy statement must contain actions.",
 * "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
 * "Resource X must be in ARN format or \"*\".", ...).
 */
enum err_code iam_policy_parse(const char *json, size_t len, enum iam_policy_kind kind,
                               struct iam_policy **out, struct err *e);
void iam_policy_free(struct iam_policy *p); /* NULL ok */

/* iam_policy_size - the characters IAM counts against its size quotas: all
 * but whitespace (IAM User Guide, "IAM and STS quotas"). */
size_t iam_policy_size(const char *json);

/* The request as the evaluator sees it. Every string is borrowed. */
struct iam_request {
    const char *action;         /* "dynamodb:GetItem" */
    const char *resource;       /* ARN or "*" */
    const char *principal_arn;  /* the caller: user, root or assumed-role session ARN */
    const char *account;        /* the caller's 12-digit account */
    const char *role_arn;       /* for assumed-role sessions, the role's ARN; else NULL */
    const char *service;        /* for service principals ("lambda.amazonaws.com"); else NULL */
    const char *federated;      /* web identity: the OIDC provider's ARN (Principal "Federated") */
    const struct authz_kv *ctx; /* condition keys; a key may repeat (multi-valued) */
    size_t nctx;
    bool star_indirect; /* Principal "*" matches but does not name the caller (iam_decide) */
};

/*
 * iam_policy_eval - the decision of one policy for @q. For resource and trust
 * policies a statement applies only when its Principal matches the caller;
 * @direct (may be NULL) is set when an Allow named the caller itself (or its
 * role), not merely its account, which is when a resource policy grants on
 * its own within one account.
 */
enum iam_decision iam_policy_eval(const struct iam_policy *p, const struct iam_request *q,
                                  bool *direct);

/* iam_policy_explain - what the policy simulator reports of @p for @q: for
 * each statement (numbered from 0 in document order) whose principal,
 * actions and resources cover @q, @x->missing for each condition key it
 * names that @q's context lacks, then, when its conditions hold,
 * @x->matched with whether it is a Deny. Either callback may be NULL. */
struct iam_explain {
    void (*matched)(void *ud, int statement, bool deny);
    void (*missing)(void *ud, const char *key);
    void *ud;
};
void iam_policy_explain(const struct iam_policy *p, const struct iam_request *q,
                        const struct iam_explain *x);

/* iam_policy_keys - @fn for each condition key @p's statements name, in
 * document order (repeats included). */
void iam_policy_keys(const struct iam_policy *p, void (*fn)(void *ud, const char *key), void *ud);

/* iam_eval - the combined decision of identity policies @ps[0..n). */
enum iam_decision iam_eval(const struct iam_policy *const *ps, size_t n,
                           const struct iam_request *q);

/* Every policy that takes part in one decision (borrowed). */
struct iam_policy_set {
    const struct iam_policy *const *identity; /* inline + managed, of the entity and its groups */
    size_t nidentity;
    const struct iam_policy *boundary; /* the permissions boundary; NULL with has_boundary: none
                                        * could be read, so nothing is allowed */
    bool has_boundary;
    const struct iam_policy *const *session; /* a role session's session policies */
    size_t nsession;
    bool has_session;
    const struct iam_policy *resource; /* the resource-based policy, or NULL */
};

/* Which kind of policy decided a denial (for the error message). */
enum iam_denier {
    IAM_BY_NONE,
    IAM_BY_IDENTITY,
    IAM_BY_BOUNDARY,
    IAM_BY_SESSION,
    IAM_BY_RESOURCE,
};

/*
 * iam_decide - the decision for @q within one account, as the IAM User
 * Guide's "Policy evaluation logic" lays it out: an explicit Deny in any
 * policy (identity, boundary, session, resource) denies; a resource-based
 * policy that names the caller itself (the user, or the role session's own
 * ARN) allows on its own; otherwise the request needs an Allow from an
 * identity policy (or a resource policy naming the caller's role) AND, when
 * present, from the permissions boundary AND from the session policies -
 * the effective permissions are their intersection. @by tells which policy
 * kind denied.
 */
enum iam_decision iam_decide(const struct iam_policy_set *s, const struct iam_request *q,
                             enum iam_denier *by);

/* iam_match_action - case-insensitive `*`/`?` match of an action pattern. */
bool iam_match_action(const char *pattern, const char *action);

/* iam_match_arn - ARN match per colon-separated segment, case-sensitive, with
 * `*` and `?` inside each segment; "*" matches everything. */
bool iam_match_arn(const char *pattern, const char *arn);

/* iam_known_service - whether @prefix (e.g. "dynamodb") is a service vendor
 * prefix IAM knows. */
bool iam_known_service(const char *prefix, size_t len);

/* iam_policy_op_class - what condition operator @name (with its ForAnyValue:/
 * ForAllValues: prefix and IfExists suffix) is to the checks. */
enum { IAM_OP_UNKNOWN, IAM_OP_OTHER, IAM_OP_DATE };
int iam_policy_op_class(const char *name);

/* iam_policy_check_identity - @root as an identity policy (@managed: of a
 * managed policy, whose Version must be 2012-10-17), checked as IAM checks it
 * (policy_check.c); ERR_INVALID with IAM's message in @e. */
struct cJSON;
enum err_code iam_policy_check_identity(const struct cJSON *root, bool managed, struct err *e);

#endif
