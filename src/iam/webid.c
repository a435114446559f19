/* webid.c - STS AssumeRoleWithWebIdentity against the account's OpenID
 * Connect providers (oidc.c).
 *
 * The call is unsigned: the web identity token (an OIDC ID token, a JWT) is
 * the credential. It is accepted as the STS API Reference and the IAM User
 * Guide ("Creating OpenID Connect (OIDC) identity providers") describe:
 *   - its "iss", without the https:// scheme and trailing slashes, names a
 *     provider of this account (META iam/oidc/<that>), else InvalidIdentityToken;
 *   - its "azp", or one of its "aud" values, is in the provider's ClientIDList,
 *     else InvalidIdentityToken "Incorrect token audience";
 *   - "exp" is in the future (else ExpiredTokenException), "nbf"/"iat" are
 *     not (beyond CLOCK_SKEW_S);
 *   - its signature verifies with the issuer's key named by the header's
 *     "kid" (jwks.c fetches the issuer's keys; jwt.c checks the signature);
 *   - the role's trust policy allows sts:AssumeRoleWithWebIdentity to
 *     Principal {"Federated": "<provider ARN>"} with the condition keys
 *     <provider>:aud (the audience above), <provider>:oaud (the "aud"
 *     values when "azp" is present), <provider>:sub, <provider>:amr (each
 *     value), aws:FederatedProvider, sts:RoleSessionName and
 *     sts:SourceIdentity, else AccessDenied.
 * The session is a role session like AssumeRole's (same ARN form, same
 * session policies, same storage), so its credentials work everywhere
 * AssumeRole's do. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "iam_int.h"
#include "jwt.h"
#include "log.h"
#include "mem.h"

enum {
    CLOCK_SKEW_S = 300,
    MAX_CTX = 256,
    MAX_SESSION_TAGS = 50,
};

#define SOURCE_IDENTITY_CLAIM "https://aws.amazon.com/source_identity"
#define TAGS_CLAIM            "https://aws.amazon.com/tags"
#define NOT_AUTHORIZED        "Not authorized to perform sts:AssumeRoleWithWebIdentity"
#define NO_KEY                                                                                     \
    "Couldn't retrieve verification key from your identity provider,  please reference "           \
    "AssumeRoleWithWebIdentity documentation for requirements"

static void invalid(struct iam_call *c, const char *msg)
{
    iam_fail(c, 400, "InvalidIdentityToken", "%s", msg);
}

/* check_params - the request's shapes as STS validates them; false after answering. */
static bool check_params(struct iam_call *c, const char *arn, const char *session,
                         const char *token)
{
    const char *pid = iam_param(c, "ProviderId");

    if (!arn || !session || !token) {
        iam_fail(c, 400, "ValidationError",
                 "1 validation error detected: Value null at '%s' failed to satisfy constraint: "
                 "Member must not be null",
                 !arn       ? "roleArn"
                 : !session ? "roleSessionName"
                            : "webIdentityToken");
        return false;
    }
    if (!iam_sts_name_ok(c, session, "roleSessionName", 2, 64) ||
        !iam_sts_arn_ok(c, arn, "roleArn"))
        return false;
    if (strlen(token) < 4 || strlen(token) > JWT_MAX_LEN) {
        iam_fail(c, 400, "ValidationError",
                 "1 validation error detected: Value at 'webIdentityToken' failed to satisfy "
                 "constraint: Member must have length %s",
                 strlen(token) < 4 ? "greater than or equal to 4" : "less than or equal to 20000");
        return false;
    }
    if (pid && (strlen(pid) < 4 || strlen(pid) > 2048)) {
        iam_fail(c, 400, "ValidationError",
                 "1 validation error detected: Value '%.200s' at 'providerId' failed to satisfy "
                 "constraint: Member must have length between 4 and 2048",
                 pid);
        return false;
    }
    return true;
}

static bool listed(const cJSON *list, const char *s)
{
    const cJSON *x;

    cJSON_ArrayForEach(x,
                       list) if (cJSON_IsString(x) && strcmp(x->valuestring, s) == 0) return true;
    return false;
}

/* audience - the token's audience the provider knows: "azp" when listed,
 * else the first listed "aud" value; NULL when none is. */
static const char *audience(const struct jwt *t, const cJSON *client_ids)
{
    const char *azp = jwt_claim_str(t, "azp");
    const cJSON *aud = cJSON_GetObjectItemCaseSensitive(t->claims, "aud"), *x;
    const cJSON *auds = cJSON_IsArray(aud) ? aud : NULL;

    if (azp && listed(client_ids, azp))
        return azp;
    if (cJSON_IsString(aud))
        return listed(client_ids, aud->valuestring) ? aud->valuestring : NULL;
    cJSON_ArrayForEach(x, auds)
    {
        if (cJSON_IsString(x) && listed(client_ids, x->valuestring))
            return x->valuestring;
    }
    return NULL;
}

/* check_times - exp, nbf and iat against now; false after answering. */
static bool check_times(struct iam_call *c, const struct jwt *t)
{
    long long now = (long long)clock_wall_s(), exp, nbf, iat;

    if (!jwt_claim_time(t, "exp", &exp)) {
        invalid(c, "The token has no valid exp claim.");
        return false;
    }
    if (now >= exp) {
        iam_fail(c, 400, "ExpiredTokenException",
                 "Token expired: current date/time %lld must be before the expiration date/time "
                 "%lld",
                 now, exp);
        return false;
    }
    if (jwt_claim_time(t, "nbf", &nbf) && nbf > now + CLOCK_SKEW_S) {
        invalid(c, "The token is not yet valid (nbf is in the future).");
        return false;
    }
    if (jwt_claim_time(t, "iat", &iat) && iat > now + CLOCK_SKEW_S) {
        invalid(c, "The token was issued in the future (iat).");
        return false;
    }
    return true;
}

/* check_signature - with the issuer's key the token names; false after answering. */
static bool check_signature(struct iam_call *c, const struct jwt *t, const char *iss,
                            const cJSON *provider)
{
    const cJSON *thumbs = cJSON_GetObjectItemCaseSensitive(provider, "ThumbprintList");
    enum iam_jwks_rc rc;
    char why[700];
    cJSON *jwks;
    const cJSON *key;
    bool ok;

    why[0] = 0;
    if (!(jwks = iam_jwks_get(c->iam, iss, thumbs, false, &rc, why, sizeof(why))))
        goto failed;
    if (!(key = jwt_find_key(jwks, t))) { /* perhaps a key the issuer rotated in */
        cJSON_Delete(jwks);
        if (!(jwks = iam_jwks_get(c->iam, iss, thumbs, true, &rc, why, sizeof(why))))
            goto failed;
        if (!(key = jwt_find_key(jwks, t))) {
            cJSON_Delete(jwks);
            invalid(c, NO_KEY);
            return false;
        }
    }
    ok = jwt_verify(t, key);
    cJSON_Delete(jwks);
    if (!ok)
        invalid(c, "The web identity token that was passed could not be validated by AWS: its "
                   "signature does not verify with the identity provider's key. Get a new "
                   "identity token from the identity provider and then retry the request.");
    return ok;
failed:
    if (rc == IAM_JWKS_UNTRUSTED)
        invalid(c, "OpenIDConnect provider's HTTPS certificate doesn't match configured "
                   "thumbprint");
    else if (rc == IAM_JWKS_UNREACHABLE)
        iam_fail(c, 400, "IDPCommunicationError",
                 "The request could not be fulfilled because the identity provider (IDP) that "
                 "was asked to verify the incoming identity token could not be reached. Retry "
                 "the request a few times; if it still fails, the IDP is down or not reachable "
                 "from this region.");
    else
        invalid(c, NO_KEY);
    return false;
}

struct ctx {
    struct authz_kv kv[MAX_CTX];
    size_t n;
};

static void ctx_add(struct iam_call *c, struct ctx *x, const char *name, const char *key,
                    const char *value)
{
    if (x->n < MAX_CTX && value)
        x->kv[x->n++] = (struct authz_kv){arena_sprintf(c->r->arena, "%s:%s", name, key), value};
}

/* trusted - whether the trust policy of @role lets the token's identity in
 * (and, when the token carries session tags @tags, tag its session). */
static bool trusted(struct iam_call *c, const cJSON *role, const char *arn, const cJSON *provider,
                    const struct jwt *t, const char *aud, const cJSON *tags)
{
    const char *name = iam_jstr(provider, "Url"), *parn = iam_jstr(provider, "Arn");
    const char *tj = iam_jstr(role, "AssumeRolePolicyDocument");
    const cJSON *amr = cJSON_GetObjectItemCaseSensitive(t->claims, "amr"), *x;
    const cJSON *amrs = cJSON_IsArray(amr) ? amr : NULL;
    struct iam_policy *trust = NULL;
    struct iam_request q;
    struct ctx cx = {.n = 0};
    enum iam_decision d;
    bool direct = false;

    ctx_add(c, &cx, name, "aud", aud);
    if (jwt_claim_str(t, "azp")) { /* the token's own aud, when azp stood in for it */
        const cJSON *oaud = cJSON_GetObjectItemCaseSensitive(t->claims, "aud");
        if (cJSON_IsString(oaud))
            ctx_add(c, &cx, name, "oaud", oaud->valuestring);
        for (x = cJSON_IsArray(oaud) ? oaud->child : NULL; x; x = x->next)
            if (cJSON_IsString(x))
                ctx_add(c, &cx, name, "oaud", x->valuestring);
    }
    ctx_add(c, &cx, name, "sub", jwt_claim_str(t, "sub"));
    if (cJSON_IsString(amr))
        ctx_add(c, &cx, name, "amr", amr->valuestring);
    cJSON_ArrayForEach(x, amrs)
    {
        if (cJSON_IsString(x))
            ctx_add(c, &cx, name, "amr", x->valuestring);
    }
    {
        struct authz_kv g[IAM_CONTEXT_MAX];
        size_t ng = iam_call_context(c, g);
        for (size_t i = 0; i < ng && cx.n < MAX_CTX; i++)
            cx.kv[cx.n++] = g[i];
    }
    ctx_add(c, &cx, "aws", "FederatedProvider", parn);
    ctx_add(c, &cx, "sts", "RoleSessionName", iam_param(c, "RoleSessionName"));
    ctx_add(c, &cx, "sts", "SourceIdentity", jwt_claim_str(t, SOURCE_IDENTITY_CLAIM));
    cJSON_ArrayForEach(x, tags)
    {
        ctx_add(c, &cx, "aws", arena_sprintf(c->r->arena, "RequestTag/%s", iam_jstr(x, "Key")),
                iam_jstr(x, "Value"));
        ctx_add(c, &cx, "aws", "TagKeys", iam_jstr(x, "Key"));
    }
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(role, "Tags"))
    {
        const char *k = arena_sprintf(c->r->arena, "ResourceTag/%s", iam_jstr(x, "Key"));
        ctx_add(c, &cx, "aws", k, iam_jstr(x, "Value"));
        ctx_add(c, &cx, "iam", k, iam_jstr(x, "Value"));
    }
    if (iam_policy_parse(tj, strlen(tj), IAM_POLICY_TRUST, &trust, NULL) != ERR_OK)
        return false;
    memset(&q, 0, sizeof(q));
    q.action = "sts:AssumeRoleWithWebIdentity";
    q.resource = arn;
    q.federated = parn;
    q.star_indirect = false;
    q.ctx = cx.kv;
    q.nctx = cx.n;
    d = iam_policy_eval(trust, &q, &direct);
    if (d == IAM_ALLOW && direct && cJSON_GetArraySize(tags) > 0) {
        /* IAM User Guide, "Passing session tags in AWS STS": sts:TagSession too */
        q.action = "sts:TagSession";
        direct = false;
        d = iam_policy_eval(trust, &q, &direct);
    }
    iam_policy_free(trust);
    return d == IAM_ALLOW && direct;
}

/* tag_value - a principal tag's value: a string, or an array of exactly one
 * (the form IAM documents); NULL otherwise. */
static const char *tag_value(const cJSON *v)
{
    if (cJSON_IsArray(v) && cJSON_GetArraySize(v) == 1)
        v = v->child;
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* session_tags - the token's session tags claim, {"principal_tags": {KEY:
 * [VALUE]}, "transitive_tag_keys": [KEY...]}, as [{"Key", "Value"}] in
 * @out and the transitive ones' keys (as the tags spell them) in @keys
 * (both owned; NULL without the claim); false after answering when it is
 * not well formed or exceeds IAM's limits (50 tags, keys 1..128 and values
 * 0..256 characters, keys unique without regard to case). */
static bool session_tags(struct iam_call *c, const struct jwt *t, cJSON **out, cJSON **keys)
{
    const cJSON *claim = cJSON_GetObjectItemCaseSensitive(t->claims, TAGS_CLAIM);
    const cJSON *pt = cJSON_GetObjectItemCaseSensitive(claim, "principal_tags");
    const cJSON *tk = cJSON_GetObjectItemCaseSensitive(claim, "transitive_tag_keys"), *x, *y;
    cJSON *tags, *transitive;

    *out = *keys = NULL;
    if (!claim)
        return true;
    if (!cJSON_IsObject(claim) || (pt && !cJSON_IsObject(pt)) || (tk && !cJSON_IsArray(tk)) ||
        cJSON_GetArraySize(pt) > MAX_SESSION_TAGS) {
        invalid(c, "The session tags claim of the token is malformed: principal_tags must be an "
                   "object of at most 50 tags, transitive_tag_keys an array of their keys.");
        return false;
    }
    tags = cJSON_CreateArray();
    cJSON_ArrayForEach(x, pt)
    {
        const char *v = tag_value(x);
        size_t kl = strlen(x->string);
        bool dup = false;
        cJSON_ArrayForEach(y, tags) dup |= strcasecmp(iam_jstr(y, "Key"), x->string) == 0;
        if (!v || kl < 1 || kl > 128 || strlen(v) > 256 || dup) {
            cJSON_Delete(tags);
            iam_fail(c, 400, "InvalidIdentityToken",
                     "The session tag %.128s of the token is not valid: each tag needs a unique "
                     "key of 1 to 128 characters and one value of at most 256 characters.",
                     x->string);
            return false;
        }
        cJSON *tag = cJSON_CreateObject();
        cJSON_AddStringToObject(tag, "Key", x->string);
        cJSON_AddStringToObject(tag, "Value", v);
        cJSON_AddItemToArray(tags, tag);
    }
    transitive = cJSON_CreateArray();
    cJSON_ArrayForEach(x, tk)
    {
        const char *found = NULL;
        cJSON_ArrayForEach(y, tags)
        {
            if (cJSON_IsString(x) && strcasecmp(iam_jstr(y, "Key"), x->valuestring) == 0)
                found = iam_jstr(y, "Key");
        }
        if (!found) {
            cJSON_Delete(tags);
            cJSON_Delete(transitive);
            invalid(c, "A transitive tag key of the token is not one of its principal tags.");
            return false;
        }
        cJSON_AddItemToArray(transitive, cJSON_CreateString(found));
    }
    *out = tags;
    *keys = transitive;
    return true;
}

/* source_identity - the token's source identity claim, or NULL; false after
 * answering when it is not a valid SourceIdentity. */
static bool source_identity(struct iam_call *c, const struct jwt *t, const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(t->claims, SOURCE_IDENTITY_CLAIM);
    size_t n;

    *out = NULL;
    if (!v)
        return true;
    if (!cJSON_IsString(v) || (n = strlen(v->valuestring)) < 2 || n > 64 ||
        strspn(v->valuestring,
               "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+=,.@-_") != n) {
        invalid(c, "The source identity claim of the token must be 2 to 64 characters of "
                   "[\\w+=,.@-].");
        return false;
    }
    *out = v->valuestring;
    return true;
}

/* provider_of - the provider document that @iss names (owned), or NULL after answering. */
static cJSON *provider_of(struct iam_call *c, const char *iss)
{
    const char *u = iss;
    char *name;
    size_t n;
    cJSON *doc = NULL;

    if (strncmp(u, "https://", 8) == 0)
        u += 8;
    name = arena_sprintf(c->r->arena, "%.255s", u);
    for (n = strlen(name); n > 0 && name[n - 1] == '/'; n--)
        name[n - 1] = 0;
    if (!*name || strlen(u) > 255 || iam_doc_get(c->iam, "oidc", name, &doc, NULL) != ERR_OK) {
        iam_fail(c, 400, "InvalidIdentityToken",
                 "No OpenIDConnect provider found in your account for %.300s", iss);
        return NULL;
    }
    return doc;
}

static void answer(struct iam_call *c, struct creds_identity *id, long secs, const cJSON *role,
                   const char *session, const cJSON *policies, int packed, const struct jwt *t,
                   const char *provider_arn, const char *aud, const char *src)
{
    struct buf b;

    buf_init(&b, 0);
    if (iam_sts_issue(c, id, secs, &b, false, cJSON_GetArraySize(policies) ? policies : NULL)) {
        xmlw_elem(&b, "SubjectFromWebIdentityToken", jwt_claim_str(t, "sub"), 0);
        buf_puts(&b, "<AssumedRoleUser>");
        buf_puts(&b, "<AssumedRoleId>");
        xmlw_text(&b, iam_jstr(role, "RoleId"), 0);
        buf_putc(&b, ':');
        xmlw_text(&b, session, 0);
        buf_puts(&b, "</AssumedRoleId>");
        xmlw_elem(&b, "Arn", id->arn, 0);
        buf_puts(&b, "</AssumedRoleUser>");
        if (packed >= 0)
            buf_printf(&b, "<PackedPolicySize>%d</PackedPolicySize>", packed);
        xmlw_elem(&b, "Provider", provider_arn, 0);
        xmlw_elem(&b, "Audience", aud, 0);
        if (src)
            xmlw_elem(&b, "SourceIdentity", src, 0);
        /* logged first: once answered, a deferred call's request is gone */
        log_info("event=sts_web_identity role=%s session=%s provider=%s",
                 iam_jstr(role, "RoleName"), session, provider_arn);
        iam_reply(c, b.ptr);
    }
    buf_free(&b);
}

void iam_sts_web_identity(struct iam_call *c)
{
    const char *arn = iam_param(c, "RoleArn"), *session = iam_param(c, "RoleSessionName");
    const char *token = iam_param(c, "WebIdentityToken"), *iss, *aud, *src, *role_name;
    char *prefix;
    struct jwt t;
    struct err e = {0};
    cJSON *provider = NULL, *role = NULL, *policies = NULL, *tags = NULL, *tkeys = NULL;
    const cJSON *m;
    struct creds_identity id;
    long secs, max = 3600;
    int packed = -1;

    memset(&t, 0, sizeof(t));
    if (!check_params(c, arn, session, token))
        return;
    if (jwt_parse(token, strlen(token), &t, &e) != ERR_OK) {
        invalid(c, strstr(e.msg, "algorithm") ? "Unsupported signing algorithm: the token must be "
                                                "signed with RS256/384/512, PS256/384/512, "
                                                "ES256 or ES384."
                                              : "The ID Token provided is not a valid JWT. (You "
                                                "may see this error if you sent an Access Token)");
        return;
    }
    if (!(iss = jwt_claim_str(&t, "iss"))) {
        invalid(c, "The token has no iss claim.");
        goto out;
    }
    if (!(provider = provider_of(c, iss)))
        goto out;
    if (!(aud = audience(&t, cJSON_GetObjectItemCaseSensitive(provider, "ClientIDList")))) {
        invalid(c, "Incorrect token audience");
        goto out;
    }
    if (!jwt_claim_str(&t, "sub")) {
        invalid(c, "The token has no sub claim.");
        goto out;
    }
    if (!check_times(c, &t) || !source_identity(c, &t, &src) || !session_tags(c, &t, &tags, &tkeys))
        goto out;
    if (!check_signature(
            c, &t,
            strncmp(iss, "https://", 8) == 0 ? iss : arena_sprintf(c->r->arena, "https://%s", iss),
            provider))
        goto out;
    prefix = arena_sprintf(c->r->arena, "arn:aws:iam::%s:role/", c->iam->account);
    role_name = strrchr(arn, '/');
    role_name = role_name ? role_name + 1 : "";
    if (strncmp(arn, prefix, strlen(prefix)) != 0 ||
        iam_doc_get(c->iam, "role", role_name, &role, NULL) != ERR_OK ||
        strcmp(iam_jstr(role, "Arn"), arn) != 0 ||
        !trusted(c, role, arn, provider, &t, aud, tags)) {
        iam_fail(c, 403, "AccessDenied", NOT_AUTHORIZED);
        goto out;
    }
    if ((m = cJSON_GetObjectItemCaseSensitive(role, "MaxSessionDuration")))
        max = (long)m->valuedouble;
    secs = iam_sts_duration(c, c->iam->sts_min_duration, max, 3600,
                            "The requested DurationSeconds exceeds the MaxSessionDuration set for "
                            "this role.");
    if (secs < 0 || !(policies = iam_sts_session_policies(c, tags, &packed)))
        goto out;
    if (tags) { /* kept with the session's policies: they become its principal tags */
        cJSON_AddItemToObject(policies, "Tags", tags);
        tags = NULL;
    }
    if (cJSON_GetArraySize(tkeys) > 0) { /* passed on when the session assumes a role */
        cJSON_AddItemToObject(policies, "TransitiveTagKeys", tkeys);
        tkeys = NULL;
    }
    if (src) /* aws:SourceIdentity of its requests, passed on along a role chain */
        cJSON_AddStringToObject(policies, "SourceIdentity", src);
    memset(&id, 0, sizeof(id));
    snprintf(id.user, sizeof(id.user), "%.64s", session);
    snprintf(id.arn, sizeof(id.arn), "arn:aws:sts::%s:assumed-role/%s/%s", c->iam->account,
             iam_jstr(role, "RoleName"), session);
    answer(c, &id, secs, role, session, policies, packed, &t, iam_jstr(provider, "Arn"), aud, src);
out:
    jwt_free(&t);
    cJSON_Delete(provider);
    cJSON_Delete(role);
    cJSON_Delete(policies);
    cJSON_Delete(tags);
    cJSON_Delete(tkeys);
}
