/* authz.c - the authorizer: identity-based policies of IAM users and of
 * assumed-role sessions, evaluated as the IAM User Guide's "Policy
 * evaluation logic" describes for requests within one account: an explicit
 * Deny wins; else an Allow in an identity policy or a resource policy that
 * names the caller itself; else an implicit deny. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "iam_int.h"
#include "mem.h"

enum { MAX_CTX = 96 };

struct ctx {
    struct authz_kv *kv; /* MAX_CTX for the principal's keys + the request's */
    size_t cap;
    size_t n;
    char now[32], epoch[24]; /* aws:CurrentTime, aws:EpochTime */
};

static void ctx_init(struct ctx *c, const struct authz_request *q)
{
    c->cap = MAX_CTX + q->ncontext;
    c->kv = xcalloc(c->cap, sizeof(*c->kv));
    c->n = 0;
}

static void ctx_add(struct ctx *c, const char *k, const char *v)
{
    if (c->n < c->cap && k && v) {
        c->kv[c->n].key = k;
        c->kv[c->n].value = v;
        c->n++;
    }
}

/* ctx_request - completes @c, after the principal's own keys, with
 * aws:PrincipalType @kind, the time and @q's context keys, and readies @ir
 * (zeroed first) with @q's action, resource and @c. Returns @q's resource
 * policy, owned (NULL: none, or not a valid one). */
static struct iam_policy *ctx_request(struct ctx *c, const struct authz_request *q,
                                      const char *kind, struct iam_request *ir)
{
    struct iam_policy *rp = NULL;

    iam_now_iso(c->now, 0);
    snprintf(c->epoch, sizeof(c->epoch), "%lld", (long long)clock_wall_s());
    ctx_add(c, "aws:PrincipalType", kind);
    ctx_add(c, "aws:CurrentTime", c->now);
    ctx_add(c, "aws:EpochTime", c->epoch);
    for (size_t i = 0; i < q->ncontext; i++)
        ctx_add(c, q->context[i].key, q->context[i].value);
    memset(ir, 0, sizeof(*ir));
    ir->action = q->action;
    ir->resource = q->resource;
    ir->ctx = c->kv;
    ir->nctx = c->n;
    if (q->resource_policy)
        iam_policy_parse(q->resource_policy, strlen(q->resource_policy), IAM_POLICY_RESOURCE, &rp,
                         NULL);
    return rp;
}

struct arena_like {
    char *mem[64];
    size_t n;
};

static const char *keep(struct arena_like *a, char *s)
{
    if (a->n < 64) {
        a->mem[a->n++] = s;
        return s;
    }
    free(s);
    return NULL;
}

static void ctx_tags(struct ctx *c, const cJSON *doc, struct arena_like *a)
{
    const cJSON *t;

    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(doc, "Tags"))
    {
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(t, "Key"),
                    *v = cJSON_GetObjectItemCaseSensitive(t, "Value");
        size_t n;
        char *key;
        if (!cJSON_IsString(k) || !cJSON_IsString(v))
            continue;
        n = strlen(k->valuestring) + 18;
        key = xmalloc(n);
        snprintf(key, n, "aws:PrincipalTag/%s", k->valuestring);
        ctx_add(c, keep(a, key), v->valuestring);
    }
}

/* policy_word - how AWS's denial messages name a policy kind ("an
 * identity-based policy"); without the article past @article's length. */
static const char *policy_word(enum iam_denier by, bool article)
{
    const char *w = by == IAM_BY_BOUNDARY   ? "a permissions boundary"
                    : by == IAM_BY_SESSION  ? "a session policy"
                    : by == IAM_BY_RESOURCE ? "a resource-based policy"
                                            : "an identity-based policy";

    return article ? w : strchr(w, ' ') + 1;
}

/* anonymous - an unsigned request: only a resource policy whose Principal is
 * "*" (or {"AWS": "*"}) can allow it, and any matching Deny refuses it
 * ("Policy evaluation logic": the anonymous principal has no identity policies). */
static enum err_code anonymous(const struct authz_request *q, struct err *e)
{
    struct ctx ctx = {0};
    struct iam_policy *rp;
    struct iam_request ir;
    enum iam_decision rd = IAM_IMPLICIT_DENY;
    bool direct = false;

    ctx_init(&ctx, q);
    if ((rp = ctx_request(&ctx, q, "Anonymous", &ir)))
        rd = iam_policy_eval(rp, &ir, &direct);
    iam_policy_free(rp);
    free(ctx.kv);
    if (rd == IAM_ALLOW && direct)
        return ERR_OK;
    if (q->explicit_deny)
        *q->explicit_deny = rd == IAM_EXPLICIT_DENY;
    return err_set(
        e, ERR_DENIED, "Anonymous users are not authorized to perform: %s on resource: %s%s",
        q->action, q->resource ? q->resource : "*",
        rd == IAM_EXPLICIT_DENY ? " with an explicit deny in a resource-based policy" : "");
}

/* The principal's own condition keys, as principal_keys finds them. */
struct principal {
    char role_arn[300], role_name[128], userid[200];
    const char *kind;    /* aws:PrincipalType */
    const char *assumed; /* the session name, when the caller is a role session */
};

/* principal_keys - adds @who's keys to @c (aws:username, aws:PrincipalTag/KEY
 * from @doc, its user or role document with a session's tags merged in,
 * aws:userid, aws:PrincipalArn, aws:PrincipalAccount) and fills @p; the tag
 * keys' strings go to @a. */
static void principal_keys(struct ctx *c, const struct creds_identity *who, const cJSON *doc,
                           struct arena_like *a, struct principal *p)
{
    memset(p, 0, sizeof(*p));
    p->kind = "User";
    if ((p->assumed = iam_session_role(who->arn, p->role_name))) {
        snprintf(p->role_arn, sizeof(p->role_arn), "arn:aws:iam::%s:role/%s", who->account,
                 p->role_name);
        p->kind = "AssumedRole";
        if (doc) {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(doc, "RoleId"),
                        *arn = cJSON_GetObjectItemCaseSensitive(doc, "Arn"),
                        *src = cJSON_GetObjectItemCaseSensitive(doc, "SourceIdentity");
            if (cJSON_IsString(src)) /* set by the session's AssumeRole (cache.c) */
                ctx_add(c, "aws:SourceIdentity", src->valuestring);
            if (cJSON_IsString(arn))
                snprintf(p->role_arn, sizeof(p->role_arn), "%s", arn->valuestring);
            snprintf(p->userid, sizeof(p->userid), "%s:%s",
                     cJSON_IsString(id) ? id->valuestring : "", p->assumed);
        }
    } else if (iam_federated_name(who->arn)) {
        /* a federated user session: its own ARN, "ACCOUNT:NAME" as its id */
        p->kind = "FederatedUser";
        snprintf(p->userid, sizeof(p->userid), "%s:%s", who->account, iam_federated_name(who->arn));
    } else if (strstr(who->arn, ":user/") && doc) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(doc, "UserId");
        snprintf(p->userid, sizeof(p->userid), "%s", cJSON_IsString(id) ? id->valuestring : "");
        ctx_add(c, "aws:username", who->user);
    }
    if (doc)
        ctx_tags(c, doc, a);
    ctx_add(c, "aws:userid", p->userid[0] ? p->userid : NULL);
    ctx_add(c, "aws:PrincipalArn", p->role_arn[0] ? p->role_arn : who->arn);
    ctx_add(c, "aws:PrincipalAccount", who->account);
}

struct authz_kv *iam_principal_context(struct iam *iam, const struct creds_identity *who,
                                       struct arena *a, size_t *n)
{
    const struct authz_request none = {0};
    struct ctx ctx = {0};
    struct arena_like keepers = {0};
    const struct iam_policies *ps, *sess;
    const struct iam_cached *cached;
    const cJSON *doc;
    bool has_session;
    struct principal p;
    struct authz_kv *kv;

    ctx_init(&ctx, &none);
    cached = iam_cache_get(iam, who, &doc, &ps, &sess, &has_session);
    principal_keys(&ctx, who, doc, &keepers, &p);
    ctx_add(&ctx, "aws:PrincipalType", p.kind);
    kv = arena_alloc(a, (ctx.n + 1) * sizeof(*kv));
    for (size_t i = 0; i < ctx.n; i++)
        kv[i] = (struct authz_kv){arena_strdup(a, ctx.kv[i].key), arena_strdup(a, ctx.kv[i].value)};
    *n = ctx.n;
    iam_cache_put(iam, cached);
    for (size_t i = 0; i < keepers.n; i++)
        free(keepers.mem[i]);
    free(ctx.kv);
    return kv;
}

enum err_code iam_authorize(struct iam *iam, const struct authz_request *q, struct err *e)
{
    const struct creds_identity *who = q->who;
    struct ctx ctx = {0};
    struct arena_like keepers = {0};
    const struct iam_policies *ps, *sess;
    const struct iam_cached *cached;
    struct iam_policy *rp;
    struct iam_request ir;
    const cJSON *doc;
    bool has_session;
    struct principal p;
    struct iam_policy_set set = {0};
    enum iam_denier by = IAM_BY_NONE;
    enum iam_decision d;
    enum err_code rc = ERR_OK;

    if (!who)
        return anonymous(q, e);
    if (who->root)
        return ERR_OK;
    ctx_init(&ctx, q);
    cached = iam_cache_get(iam, who, &doc, &ps, &sess, &has_session);
    principal_keys(&ctx, who, doc, &keepers, &p);
    rp = ctx_request(&ctx, q, p.kind, &ir);
    ir.principal_arn = who->arn;
    ir.account = who->account;
    ir.role_arn = p.role_arn[0] ? p.role_arn : NULL;
    set.has_session = (p.assumed || iam_federated_name(who->arn)) && has_session;
    set.identity = (const struct iam_policy *const *)ps->p;
    set.nidentity = ps->n;
    set.boundary = ps->boundary;
    set.has_boundary = ps->has_boundary;
    set.session = (const struct iam_policy *const *)sess->p;
    set.nsession = sess->n;
    set.resource = rp;
    d = iam_decide(&set, &ir, &by);
    if (q->explicit_deny)
        *q->explicit_deny = d == IAM_EXPLICIT_DENY;
    if (d == IAM_EXPLICIT_DENY)
        rc = err_set(e, ERR_DENIED,
                     "User: %s is not authorized to perform: %s on resource: %s with an explicit "
                     "deny in %s",
                     who->arn, q->action, q->resource ? q->resource : "*", policy_word(by, true));
    else if (d != IAM_ALLOW)
        rc = err_set(e, ERR_DENIED,
                     "User: %s is not authorized to perform: %s on resource: %s because no %s "
                     "allows the %s action",
                     who->arn, q->action, q->resource ? q->resource : "*", policy_word(by, false),
                     q->action);
    iam_policy_free(rp);
    iam_cache_put(iam, cached);
    for (size_t i = 0; i < keepers.n; i++)
        free(keepers.mem[i]);
    free(ctx.kv);
    return rc;
}

static enum err_code authz_cb(void *ud, const struct authz_request *q, struct err *e)
{
    return iam_authorize(ud, q, e);
}

struct authz iam_authz(struct iam *iam)
{
    struct authz a = {authz_cb, iam};

    return a;
}

size_t iam_call_context(const struct iam_call *c, struct authz_kv *kv)
{
    size_t n = 0;

    if (c->source_ip && *c->source_ip)
        kv[n++] = (struct authz_kv){"aws:SourceIp", c->source_ip};
    kv[n++] = (struct authz_kv){"aws:SecureTransport", c->secure ? "true" : "false"};
    kv[n++] = (struct authz_kv){"aws:RequestedRegion", c->sts ? c->iam->region : "us-east-1"};
    return n;
}

bool iam_allowed(struct iam_call *c, const char *action, const char *resource)
{
    struct authz_kv kv[IAM_CONTEXT_MAX];
    struct authz_request q = {.who = c->who,
                              .action = action,
                              .resource = resource,
                              .context = kv,
                              .ncontext = iam_call_context(c, kv)};
    struct err e = {0};

    if (c->who->root)
        return true;
    if (iam_authorize(c->iam, &q, &e) == ERR_OK)
        return true;
    iam_fail(c, 403, "AccessDenied", "%s", e.msg);
    return false;
}
