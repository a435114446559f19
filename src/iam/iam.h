/* iam.h - the identity service of a region: the IAM API (query protocol,
 * 2010-05-08, XML), STS (2011-06-15) and the authorizer every service asks.
 *
 * IAM data lives in the region's store under META keys "iam/..." (users,
 * roles, customer managed policies, access keys), so created access keys
 * authenticate at once (registered in the region's creds) and again after a
 * restart (iam_open loads them). STS credentials live in creds only and end
 * with the process or their expiry, whichever comes first.
 *
 * IAM and STS are global services in AWS; here each region keeps its own
 * copy. Replicating identity data between regions is not done yet. */
#ifndef TANDEM_IAM_H
#define TANDEM_IAM_H

#include "authz.h"
#include "creds.h"
#include "err.h"
#include "http.h"
#include "store.h"

struct iam;

struct iam_opts {
    struct store *store; /* borrowed; outlives the iam */
    struct creds *creds; /* borrowed; access keys are added and removed here */
    const char *region;
    const char *account;  /* 12-digit account id */
    int sts_min_duration; /* STS DurationSeconds minimum; 0 = AWS's 900 (tests shorten it) */
};

/* iam_open - (owned, iam_close()); registers every stored access key in
 * @o->creds. ERR_IO if the store cannot be read. */
enum err_code iam_open(const struct iam_opts *o, struct iam **out, struct err *e);
void iam_close(struct iam *iam); /* NULL ok */

/* iam_handle / iam_sts_handle - serve one authenticated query-protocol
 * request (form body Action=...&Version=...). Answers @r before returning. */
void iam_handle(struct iam *iam, struct http_req *r, const struct creds_identity *who);
void iam_sts_handle(struct iam *iam, struct http_req *r, const struct creds_identity *who);

/* iam_authz - the authorizer for the other services: identity policies of
 * IAM users and of assumed-role sessions (role inline + attached managed
 * policies), evaluated with iam_policy. Valid while @iam is open. */
struct authz iam_authz(struct iam *iam);

/* iam_respond_error - answer @r in the query protocol's XML error shape
 * (<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>) in the
 * IAM or STS namespace. */
void iam_respond_error(struct http_req *r, bool sts, int status, const char *code, const char *msg);

#endif
