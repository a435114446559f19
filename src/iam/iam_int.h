/* iam_int.h - what the files of the identity service share. */
#ifndef TANDEM_IAM_INT_H
#define TANDEM_IAM_INT_H

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "iam.h"
#include "iam_policy.h"
#include "xmlw.h"

#define IAM_NS "https://iam.amazonaws.com/doc/2010-05-08/"
#define STS_NS "https://sts.amazonaws.com/doc/2011-06-15/"

#define UPPER_ALNUM  "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
#define SECRET_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

/* IAM quotas (IAM User Guide, "IAM and AWS STS quotas"). */
enum {
    MAX_USER_INLINE = 2048,
    MAX_ROLE_INLINE = 10240,
    MAX_GROUP_INLINE = 5120,
    MAX_GROUPS_PER_USER = 10,
    MAX_MANAGED = 6144,
    MAX_TRUST = 2048,
    MAX_KEYS_PER_USER = 2,
    MAX_VERSIONS = 5,
    MAX_ATTACHED = 10,
    MAX_TAGS = 50,
    MAX_SESSION_POLICY = 2048, /* AssumeRole Policy, characters */
    MAX_SESSION_ARNS = 10,     /* AssumeRole PolicyArns */
    MAX_PACKED_POLICY = 2048,  /* session policies together, counted characters */
};

struct iam_waiter; /* sync.c: a parked long-poll of a peer */

enum { IAM_CACHE_SLOTS = 509 };
struct iam_cached;

struct jobs;
struct iam_jwks; /* jwks.c: OIDC issuers' key sets */

struct iam {
    struct store *store;
    struct creds *creds;
    char region[32];
    char account[13];
    int sts_min_duration;

    /* global identity (sync.c, forward.c) */
    bool home; /* this region is the home of identity */
    char home_region[32];
    char *home_url;   /* owned; NULL at home */
    char *access_key; /* owned: the root credentials, shared by every region */
    char *secret;
    struct jobs *jobs;  /* NULL at home: the calls that wait on home (iam_defer) */
    pthread_mutex_t mu; /* guards what follows */
    pthread_cond_t cv;  /* seq advanced, or stop */
    uint64_t seq;       /* home: last change; elsewhere: last change of home applied here */
    char epoch[40];     /* home's identity-data epoch */
    bool home_reachable;
    char home_error[256]; /* as long as a struct err message */
    bool stop;
    struct iam_waiter *waiters; /* home: parked long-polls */
    cJSON *local_sessions;      /* session policies of STS credentials issued here, by key id */
    cJSON *pending_sessions;    /* STS credentials issued here that home has not stored yet */
    pthread_t thread;           /* home: expires waiters; elsewhere: pulls from home */
    bool thread_started;

    /* cache.c: parsed policies of recent principals */
    uint64_t gen; /* identity data's generation (__atomic): bumped after each change */
    pthread_mutex_t cache_mu;
    struct iam_cached *cache[IAM_CACHE_SLOTS]; /* owned, one reference each */

    char *cred_report;       /* report.c: the last credential report (CSV, owned; under mu) */
    int64_t cred_report_at;  /* when it was made, Unix seconds */
    struct iam_jwks *jwks;   /* jwks.c, made on first use (under mu) */
    struct jobs *webid_jobs; /* home: AssumeRoleWithWebIdentity calls fetching keys */
    char *oidc_ca_file;      /* owned: CAs for issuers' servers; NULL: the system's store */
};

/* One query-protocol call. */
struct iam_call {
    struct iam *iam;
    struct http_req *r;
    const struct creds_identity *who;
    bool sts;
    bool forwarded;        /* home serving a write another region forwarded */
    const char *source_ip; /* the client's address and transport, as the region it */
    bool secure;           /* called saw them (forwarded with the call) */
    const char *action;
    char rid[37];
    size_t nparams;
    const char **keys, **vals; /* arena */
};

/* iam_call_init - parse the form body of @r; false when it answered @r. */
bool iam_call_init(struct iam_call *c, struct iam *iam, struct http_req *r,
                   const struct creds_identity *who, bool sts);
const char *iam_param(const struct iam_call *c, const char *name);
void iam_fail(struct iam_call *c, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* iam_fail_err - answer with the error a store operation returned. */
void iam_fail_err(struct iam_call *c, enum err_code rc, const struct err *e);
/* iam_reply - <ActionResponse><ActionResult>@result</ActionResult>..., @result may be NULL. */
void iam_reply(struct iam_call *c, const char *result);
/* iam_reply_page - iam_reply for a List* answer: @result's items are its
 * top-level <member> elements (of every list in it, counted together) and it
 * holds one <IsTruncated>false</IsTruncated>. Answers the page the caller's
 * Marker and MaxItems (1..1000, default 100) ask for: the items after the
 * marker, at most MaxItems, and when more remain IsTruncated true with the
 * Marker of the next page. A bad MaxItems or Marker is a ValidationError. */
void iam_reply_page(struct iam_call *c, const char *result);

void iam_xml_urlenc(struct buf *b, const char *name, const char *json);
void iam_now_iso(char out[32], long long offset_s);
void iam_random_id(char *out, const char *prefix, size_t n, const char *alphabet);

/* docs.c - store documents: META "iam/<kind>/<name>" holds JSON, kinds
 * "user", "role", "policy", "key" (access keys), "session" (STS credentials).
 * iam_txn_doc_put/del also append the change to home's change log (sync.c)
 * in the same transaction: every IAM write goes through them. */
typedef void iam_doc_each_fn(cJSON *doc, void *arg);
enum err_code iam_doc_get(struct iam *iam, const char *kind, const char *name, cJSON **out,
                          struct err *e);
enum err_code iam_txn_doc_get(struct store_txn *t, const char *kind, const char *name, cJSON **out,
                              struct err *e);
enum err_code iam_txn_doc_put(struct store_txn *t, const char *kind, const char *name,
                              const cJSON *doc, struct err *e);
enum err_code iam_txn_doc_del(struct store_txn *t, const char *kind, const char *name,
                              struct err *e);
/* iam_txn_doc_each / iam_doc_each - call @fn on every document of @kind (in name order). */
enum err_code iam_txn_doc_each(struct store_txn *t, const char *kind, iam_doc_each_fn *fn,
                               void *arg, struct err *e);
enum err_code iam_doc_each(struct iam *iam, const char *kind, iam_doc_each_fn *fn, void *arg,
                           struct err *e);
const char *iam_jstr(const cJSON *doc, const char *name); /* "" when absent */
cJSON *iam_jobj(cJSON *doc, const char *name);            /* created when absent */
cJSON *iam_jarr(cJSON *doc, const char *name);            /* created when absent */
const char *iam_policy_name_of(const char *arn);

/* The policies that apply to an identity, parsed (owned, iam_policies_free). */
struct iam_policies {
    struct iam_policy **p;
    size_t n;
    struct iam_policy *boundary; /* the permissions boundary, if has_boundary (NULL: unreadable) */
    bool has_boundary;
};
void iam_policies_free(struct iam_policies *ps);
/* iam_policy_doc_of - the document of the default version of managed policy
 * @arn (AWS or this account's), owned; NULL when there is none. */
char *iam_policy_doc_of(struct iam *iam, const char *arn);
/* iam_session_policies - the session policies ("Policy", "PolicyArns") of
 * STS credentials @akid, from this region's own issues or the replicated
 * session documents; false when the session has none. @tags: its session
 * tags ([{"Key", "Value"}], owned), NULL when it has none. */
bool iam_session_policies(struct iam *iam, const char *akid, struct iam_policies *out,
                          cJSON **tags);
/* iam_session_doc - the stored document of STS credentials @akid (owned:
 * "Policy", "PolicyArns", "Tags", "TransitiveTagKeys", ...), NULL when
 * there is none. */
cJSON *iam_session_doc(struct iam *iam, const char *akid);
/* iam_session_keep - remember session document @doc (with session policies)
 * here, so they limit the session even when home never stored it. */
void iam_session_keep(struct iam *iam, const cJSON *doc);
/* iam_entity_policies - inline + attached managed policies of user/role doc
 * @doc and of the groups a user belongs to; its permissions boundary. */
void iam_entity_policies(struct iam *iam, const cJSON *doc, struct iam_policies *out);

/* cache.c - see there. iam_gen_bump: call after each change to identity data
 * is visible (committed, or in local_sessions). iam_cache_get: @who's
 * document (NULL if none), identity policies and session policies, shared and
 * read-only until iam_cache_put of the returned handle. iam_cache_free: at close. */
void iam_gen_bump(struct iam *iam);
/* iam_session_role - when @arn is a role session's
 * (arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION): ROLE in @role and
 * SESSION returned ("" when absent); NULL otherwise. */
const char *iam_session_role(const char *arn, char role[128]);
/* iam_federated_name - when @arn is a federated user session's
 * (arn:aws:sts::ACCOUNT:federated-user/NAME, from GetFederationToken): NAME;
 * NULL otherwise. */
const char *iam_federated_name(const char *arn);
/* The user a federated session of the account root names: no IAM user name
 * has a ':' (an empty one would make the session the root itself). */
#define IAM_FEDERATED_ROOT ":root"
const struct iam_cached *iam_cache_get(struct iam *iam, const struct creds_identity *who,
                                       const cJSON **doc, const struct iam_policies **ps,
                                       const struct iam_policies **sess, bool *has_session);
void iam_cache_put(struct iam *iam, const struct iam_cached *x);
void iam_cache_free(struct iam *iam);

/* profiles.c - the instance profile operations; false when @c's action is
 * none of them. */
bool iam_op_profiles(struct iam_call *c);
/* iam_xml_profile - instance profile @p, its roles and tags, in <@elem>. */
void iam_xml_profile(struct iam_call *c, struct buf *b, const cJSON *p, const char *elem);
/* absent.c - the reads of what a region never has (MFA devices, login
 * profiles, ...); false when @c's action is none of them. */
bool iam_op_absent(struct iam_call *c);
/* report.c - GenerateCredentialReport (@generate) or GetCredentialReport. */
void iam_op_credential_report(struct iam_call *c, bool generate);
/* report.c - GetAccountSummary. */
void iam_op_account_summary(struct iam_call *c);
/* authdetails.c - GetAccountAuthorizationDetails. */
void iam_op_authorization_details(struct iam_call *c);
/* simulate.c - SimulatePrincipalPolicy (@principal) or SimulateCustomPolicy. */
void iam_op_simulate(struct iam_call *c, bool principal);
/* GetContextKeysForPrincipalPolicy (@principal) or GetContextKeysForCustomPolicy. */
void iam_op_context_keys(struct iam_call *c, bool principal);

/* api.c: iam_dispatch - run the IAM operation @c names, here. */
void iam_dispatch(struct iam_call *c);

/* write.c - one IAM change, applied in one store write. */
enum iam_wop {
    W_CREATE,
    W_DELETE,
    W_PUT_INLINE,
    W_DEL_INLINE,
    W_ATTACH,
    W_DETACH,
    W_TAG,
    W_UNTAG,
    W_TRUST,
    W_NEW_VERSION,
    W_DEL_VERSION,
    W_SET_DEFAULT,
    W_KEY_CREATE,
    W_KEY_DELETE,
    W_ADD_MEMBER,   /* user @name joins group @a */
    W_DEL_MEMBER,   /* user @name leaves group @a */
    W_BOUNDARY,     /* user/role @name gets permissions boundary @a (a policy ARN) */
    W_BOUNDARY_DEL, /* user/role @name loses its permissions boundary */
    W_ROLE_UPDATE,  /* role @name: Description @a, MaxSessionDuration @b (NULL: unchanged) */
    W_KEY_STATUS,   /* access key @a of user @name gets Status @b */
    W_RENAME,       /* user/group @name gets name @a and path @b (NULL: unchanged) */
    W_OIDC,         /* provider @name (ARN @b): client id @a added (@flag: removed), or
                       thumbprints @doc */
    W_PROFILE_ROLE, /* instance profile @name gets role @a (@flag: loses it) */
};

struct iam_write {
    enum iam_wop op;
    const char *kind;  /* "user", "role", "group", "policy" */
    const char *name;  /* entity name */
    const char *a, *b; /* op arguments */
    bool flag;
    cJSON *doc;      /* W_CREATE: the new document; W_TAG: tags; W_UNTAG: keys (owned by caller) */
    char out[132];   /* W_NEW_VERSION: the version id; W_ADD_MEMBER: the group's own name */
    char canon[132]; /* the entity's own name, when @name differed from it in case */
};

/* iam_write - run @w (home only); answers @c on failure and returns false. */
bool iam_write(struct iam_call *c, struct iam_write *w);
enum err_code iam_missing(struct err *e, const char *kind, const char *name);
/* iam_name_taken - ERR_IN_USE (EntityAlreadyExists) when a user, role or group
 * other than @self (NULL: none) is called @name, compared without regard to
 * case as IAM does. */
enum err_code iam_name_taken(struct store_txn *t, const char *kind, const char *name,
                             const char *self, struct err *e);

/* rename.c - UpdateUser and UpdateGroup (a new name and/or path); the user's
 * access keys and the group's members follow the new name. */
void iam_op_update_entity(struct iam_call *c, const char *kind);
/* oidc.c - OpenID Connect providers (kind "oidc"); iam_oidc_dispatch runs
 * action @a when it is one of theirs (false: not theirs). */
bool iam_oidc_dispatch(struct iam_call *c, const char *a);
enum err_code iam_apply_oidc(const struct iam_write *w, cJSON *doc, struct err *e);
enum err_code iam_apply_rename(struct store_txn *t, const struct iam_write *w, cJSON *doc,
                               struct err *e);
struct iam_attach_count {
    const char *arn;
    int n;
};
void iam_count_attached(cJSON *doc, void *arg); /* @arg: struct iam_attach_count */
/* iam_attachments - users, roles and groups @arn is attached to;
 * iam_boundary_uses - users and roles it is the permissions boundary of. */
int iam_attachments(struct iam *iam, const char *arn);
int iam_boundary_uses(struct iam *iam, const char *arn);

/* api.c - validation and parameters shared by the operations. Each answers
 * @c and returns NULL/false when the input is refused. */
const char *iam_need_name(struct iam_call *c, const char *p, size_t max);
bool iam_check_doc(struct iam_call *c, const char *json, enum iam_policy_kind kind, size_t max,
                   const char *over_msg);
/* tags.c: Tags.member.N.Key/.Value and TagKeys.member.N, checked as IAM
 * checks them (ValidationError naming each member at fault, InvalidInput for
 * keys given twice in any case); NULL after answering. Owned: cJSON_Delete. */
cJSON *iam_parse_tags(struct iam_call *c, bool *bad);
/* iam_parse_policy_tags - as iam_parse_tags, keys case sensitive (a managed
 * policy may have "a" and "A") */
cJSON *iam_parse_policy_tags(struct iam_call *c, bool *bad);
cJSON *iam_parse_tag_keys(struct iam_call *c);
void iam_xml_tags(struct buf *b, const cJSON *doc, bool always);
const char *iam_caller_user(struct iam_call *c);
char *iam_arn_of(struct iam_call *c, const char *kind, const char *path, const char *name);
const char *iam_path_param(struct iam_call *c);
cJSON *iam_load(struct iam_call *c, const char *kind, const char *name);
void iam_xml_user(struct buf *b, const cJSON *u, const char *elem);
/* iam_xml_role_listed - role @r as ListRoles shows it, in <@elem>. */
void iam_xml_role_listed(struct buf *b, const cJSON *r, const char *elem);
/* iam_xml_boundary - the PermissionsBoundary of user or role @doc, if it has one. */
void iam_xml_boundary(struct buf *b, const cJSON *doc);
void iam_xml_group(struct buf *b, const cJSON *g, const char *elem);

/* groups.c - group operations beyond the ones users and roles share. */
void iam_op_get_group(struct iam_call *c);
void iam_op_membership(struct iam_call *c, bool add);
void iam_op_groups_for_user(struct iam_call *c);
void iam_op_entities_for_policy(struct iam_call *c);

/* policies.c - managed policy operations. */
/* What a managed policy looks like in each answer, as IAM gives it:
 * CreatePolicy without its description (tags only when it has some),
 * GetPolicy with both (Tags even when empty), ListPolicies with neither. */
enum iam_policy_view { IAM_POLICY_CREATED, IAM_POLICY_GOT, IAM_POLICY_LISTED };
void iam_xml_policy(struct iam *iam, struct buf *b, const cJSON *p, const char *elem,
                    enum iam_policy_view v);
void iam_op_list_policy_tags(struct iam_call *c);
void iam_op_create_policy(struct iam_call *c);
void iam_op_get_policy(struct iam_call *c);
void iam_op_policy_versions(struct iam_call *c, bool get);
void iam_op_policy_write(struct iam_call *c, enum iam_wop op, const char *action);
/* iam_policy_arn_ok - @arn has a managed policy's form,
 * arn:PARTITION:iam::ACCOUNT-OR-aws:policy/[PATH/]NAME */
bool iam_policy_arn_ok(const char *arn);
/* iam_boundary_param - the PermissionsBoundary parameter (*@out NULL when
 * absent); false after answering when it names no policy. */
bool iam_boundary_param(struct iam_call *c, const char **out);

/* managed.c: the AWS managed policies. */
struct iam_managed {
    const char *path; /* "/" or "/service-role/" */
    const char *name;
    const char *id;
    const char *version;
    const char *created;
    const char *updated;
    const char *description;
    const char *document;
};
const struct iam_managed *iam_managed_find(const char *arn);
const struct iam_managed *iam_managed_at(size_t i);  /* NULL past the end */
cJSON *iam_managed_doc(const struct iam_managed *m); /* as a policy document (owned) */

/* authz.c: the check the IAM and STS APIs make of their own callers.
 * Answers @c with AccessDenied and returns false when denied. */
bool iam_allowed(struct iam_call *c, const char *action, const char *resource);
/* iam_call_context - @c's global condition keys (aws:SourceIp,
 * aws:SecureTransport, aws:RequestedRegion: us-east-1 for IAM, a global
 * service, as AWS gives it, STS's own region) in @kv, which has room for
 * IAM_CONTEXT_MAX; returns how many. */
enum { IAM_CONTEXT_MAX = 3 };
size_t iam_call_context(const struct iam_call *c, struct authz_kv *kv);
enum err_code iam_authorize(struct iam *iam, const struct authz_request *q, struct err *e);

struct arena;

/* iam_principal_context - @who's condition keys as a principal, as a policy
 * evaluated for its requests sees them (aws:PrincipalTag/KEY, aws:username,
 * aws:userid, aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalType),
 * @n of them, copied into @a: for a role's trust policy, which the IAM User
 * Guide lets test the caller's tags. */
struct authz_kv *iam_principal_context(struct iam *iam, const struct creds_identity *who,
                                       struct arena *a, size_t *n);

/* sync.c - identity data from home to every region (see iam.h). */
enum err_code iam_sync_start(struct iam *iam, struct err *e);
/* iam_txn_log - append the change of META @key (@val NULL: deleted) to
 * home's change log and bump the sequence, in @t. */
enum err_code iam_txn_log(struct store_txn *t, const char *key, const char *val, struct err *e);
/* iam_sync_serve - GET /_tandem/iam/changes (iam.h), at home. */
void iam_sync_serve(struct iam *iam, struct http_req *r);
/* iam_sync_notify - after a committed IAM write at home: wake the parked
 * long-polls of the other regions. */
void iam_sync_notify(struct iam *iam);
/* iam_sync_wait - wait up to @ms until this region applied home's change @seq. */
bool iam_sync_wait(struct iam *iam, uint64_t seq, long ms);
/* iam_creds_of - the creds identity of access-key or session document @doc. */
void iam_creds_of(struct iam *iam, const cJSON *doc, struct creds_identity *out);

/* forward.c - writes made in a region that is not home. */
/* iam_defer - run @fn(@c) on one of the region's workers for calls that wait
 * on home (@c's request waits, suspended, until @fn answers it), never on the
 * HTTP thread, so that a home region that does not answer holds no thread
 * that serves other requests. At home it runs @fn here. When too many calls
 * wait already it answers 503 ServiceUnavailable. */
void iam_defer(struct iam_call *c, void (*fn)(struct iam_call *));
/* iam_defer_fetch - iam_defer for calls that wait on another server (an
 * identity provider): on the region's workers, at home on its own. */
void iam_defer_fetch(struct iam_call *c, void (*fn)(struct iam_call *));
/* iam_forward - send @c's request to home on behalf of its caller and relay
 * home's answer to @c (503 ServiceUnavailable when home cannot be reached). */
void iam_forward(struct iam_call *c);
/* iam_session_record - keep STS credentials @id at home (written there,
 * replicated everywhere). At home: a store write; elsewhere best effort:
 * when home is down the credentials work in this region only. */
void iam_session_record(struct iam *iam, const struct creds_identity *id, const cJSON *policies);
/* iam_sessions_flush - (not home, sync thread) send home the STS credentials
 * issued here while it could not be reached, once it can; the unexpired
 * ones it still cannot take stay pending. */
void iam_sessions_flush(struct iam *iam);
/* (@policies: NULL, or {"Policy": DOC, "PolicyArns": [ARN...]}, the session
 * policies; they are also kept in this region, iam_session_keep.) */

/* sts.c - what AssumeRole shares with AssumeRoleWithWebIdentity and
 * GetFederationToken.
 * iam_sts_duration: DurationSeconds within [@min, @max], @def when absent (at
 * most @max); -1 after answering (@over: the message when above @max).
 * iam_sts_session_policies: Policy and PolicyArns.member.N.arn as
 * {"Policy": DOC, "PolicyArns": [...]} (owned; empty: none), or NULL after
 * answering; @packed: the PackedPolicySize percentage of the policies and
 * the session tags @tags passed in the request ([{"Key", "Value"}] or
 * NULL) together, -1 without either; PackedPolicyTooLarge past the quota.
 * iam_sts_name_ok: @v, the value of member @member (a session or federated
 * user name), holds only [\w+=,.@-] and has @min..@max characters; false
 * after answering STS's ValidationError naming each constraint it breaks.
 * iam_sts_arn_ok: @arn, the value of member @member, has 20..2048
 * characters and an ARN's parts (arn:PARTITION:SERVICE:REGION:ACCOUNT:
 * RESOURCE, the partition, service and resource not empty); false after
 * answering ("X is invalid", as STS words it).
 * iam_sts_issue: new temporary credentials for @id (keys, token, expiry
 * filled in), registered, recorded at home, <Credentials> appended to @b. */
bool iam_sts_name_ok(struct iam_call *c, const char *v, const char *member, size_t min, size_t max);
bool iam_sts_arn_ok(struct iam_call *c, const char *arn, const char *member);
long iam_sts_duration(struct iam_call *c, long min, long max, long def, const char *over);
cJSON *iam_sts_session_policies(struct iam_call *c, const cJSON *tags, int *packed);
bool iam_sts_issue(struct iam_call *c, struct creds_identity *id, long secs, struct buf *b,
                   bool root_session, const cJSON *policies);

/* webid.c - AssumeRoleWithWebIdentity (answers @c). */
void iam_sts_web_identity(struct iam_call *c);

/* jwks.c - the JSON Web Key Set of OIDC issuer @iss (an https URL), fetched
 * trusting the system CAs or a certificate whose SHA-1 is in @thumbs (the
 * provider's ThumbprintList); cached. @refresh: the cached set lacked the
 * token's key, fetch again unless it was fetched a moment ago. Owned, or
 * NULL with @rc and a reason in @why. iam_jwks_free: at close. */
enum iam_jwks_rc {
    IAM_JWKS_OK,
    IAM_JWKS_UNREACHABLE, /* no answer: connection, TLS or timeout */
    IAM_JWKS_UNTRUSTED,   /* the server's certificate is neither CA- nor thumbprint-trusted */
    IAM_JWKS_INVALID,     /* an answer, but not a discovery document / key set */
};
cJSON *iam_jwks_get(struct iam *iam, const char *iss, const cJSON *thumbs, bool refresh,
                    enum iam_jwks_rc *rc, char *why, size_t whylen);
void iam_jwks_free(struct iam *iam);

#endif
