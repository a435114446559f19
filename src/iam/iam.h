/* iam.h - the identity service of a region: the IAM API (query protocol,
 * 2010-05-08, XML), STS (2011-06-15) and the authorizer every service asks.
 *
 * IAM data lives in the region's store under META keys "iam/..." (users,
 * roles, customer managed policies, access keys), so created access keys
 * authenticate at once (registered in the region's creds) and again after a
 * restart (iam_open loads them). STS credentials live in creds only and end
 * with the process or their expiry, whichever comes first.
 *
 * IAM and STS are global services: one region of the deployment is the
 * home of identity (iam_opts.home). Every region serves IAM and STS; reads,
 * authentication and authorization use the region's own copy of the data;
 * IAM writes made elsewhere are forwarded to home (signed with the shared
 * root credentials, naming the original caller, whom home authorizes) and
 * answered with home's answer. Home keeps a change log (a sequence bumped in
 * the same apply as every IAM write); every other region long-polls it
 * (GET /_tandem/iam/changes), applies the changes (or a full snapshot) in
 * one store apply and updates its creds, so access keys and STS credentials
 * created or deleted anywhere work or stop everywhere. With home down IAM
 * writes fail (ServiceFailure) and everything else keeps working. See
 * docs/iam.md, "Global identity". */
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
    const char *home;     /* the home region of identity; NULL or == region: this one */
    const char *home_url; /* http(s)://HOST:PORT of home; required when home is another region */
    const char *access_key, *secret; /* root credentials shared by every region (peer calls) */
    const char *oidc_ca_file; /* PEM CAs for OIDC issuers' servers; NULL: the system's store */
    unsigned webid_workers;   /* AssumeRoleWithWebIdentity fetches at once; 0: 4 */
    unsigned webid_queue;     /* such calls waiting, beyond which ServiceUnavailable; 0: 128 */
};

/* iam_open - (owned, iam_close()); registers every stored access key and
 * unexpired STS credential in @o->creds and starts the sync thread (home:
 * expires parked long-polls; elsewhere: pulls from home, which may be down).
 * ERR_IO if the store cannot be read, ERR_INVALID for bad options. */
enum err_code iam_open(const struct iam_opts *o, struct iam **out, struct err *e);

/* iam_stop - stop the sync thread and answer the parked long-polls; call
 * before stopping HTTP. NULL ok, idempotent. */
void iam_stop(struct iam *iam);

/* iam_metrics - append identity's metrics (Prometheus text) to @b: whether
 * this region reaches the home region, and how many calls wait for it. */
void iam_metrics(struct iam *iam, struct buf *b);
void iam_close(struct iam *iam); /* iam_stop if needed, then free. NULL ok */

/* iam_internal_handle - serve an authenticated root request under
 * /_tandem/iam/ from another region of the deployment:
 *   GET  /_tandem/iam/changes?since=SEQ&epoch=E&wait_ms=MS  home's changes
 *        after SEQ as JSON {"epoch","seq","snapshot","changes":[{"k","v"}]}
 *        (a full snapshot when SEQ is 0, trimmed or of another epoch);
 *        waits up to MS (at most 30000) when there are none.
 *   POST /_tandem/iam/call     an IAM request forwarded on behalf of the
 *        caller named in X-Tandem-Iam-Caller ({"arn","user","account","root"}).
 *   POST /_tandem/iam/session  STS credentials issued by another region.
 * Anything else: 404. Only home serves these (elsewhere: 421). */
void iam_internal_handle(struct iam *iam, struct http_req *r);

/* iam_home_region - the home region of identity (borrowed). */
const char *iam_home_region(const struct iam *iam);

/* iam_handle / iam_sts_handle - serve one authenticated query-protocol
 * request (form body Action=...&Version=...). Answers @r before returning.
 * iam_sts_handle takes @who NULL for an unsigned request, which may only be
 * AssumeRoleWithWebIdentity (anything else: MissingAuthenticationToken). */
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
