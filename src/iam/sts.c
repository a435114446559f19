/* sts.c - STS: AssumeRole, GetCallerIdentity, GetSessionToken, GetFederationToken.
 *
 * Temporary credentials (ASIA...) are registered in the region's creds with
 * their session token and expiry; SigV4 refuses them once expired
 * (ExpiredToken). They are also stored at home (iam_session_record), which
 * replicates them, so credentials issued by any region work in every region. Sessions of a role
 * carry the ARN arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION, which the authorizer resolves to
 * the role's policies; the function runtime registers its instances' credentials under the same
 * convention. A federated user session (GetFederationToken) carries
 * arn:aws:sts::ACCOUNT:federated-user/NAME and the calling user's name; it may
 * use what both the user's policies and its session policies allow. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "iam_int.h"
#include "mem.h"

/* iam_sts_duration - DurationSeconds within [min, max], default @def; -1 after answering. */
long iam_sts_duration(struct iam_call *c, long min, long max, long def, const char *over)
{
    const char *s = iam_param(c, "DurationSeconds");
    char *end;
    long d;

    if (!s)
        return def < max ? def : max;
    d = strtol(s, &end, 10);
    if (*end || !*s || d < min) {
        iam_fail(c, 400, "ValidationError",
                 "1 validation error detected: Value '%.40s' at 'durationSeconds' failed to "
                 "satisfy constraint: Member must have value greater than or equal to %ld",
                 s, min);
        return -1;
    }
    if (d > max) {
        iam_fail(c, 400, "ValidationError", "%s", over);
        return -1;
    }
    return d;
}

bool iam_sts_name_ok(struct iam_call *c, const char *v, const char *member, size_t min, size_t max)
{
    size_t n = strlen(v);
    bool pattern = strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                             "_+=,.@-") == n;
    bool length = n >= min && n <= max;
    char len[64];

    if (pattern && length)
        return true;
    snprintf(len, sizeof(len), "Member must have length %s %zu",
             n < min ? "greater than or equal to" : "less than or equal to", n < min ? min : max);
    if (!pattern && !length)
        iam_fail(c, 400, "ValidationError",
                 "2 validation errors detected: Value '%.200s' at '%s' failed to satisfy "
                 "constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*; "
                 "Value '%.200s' at '%s' failed to satisfy constraint: %s",
                 v, member, v, member, len);
    else
        iam_fail(c, 400, "ValidationError",
                 "1 validation error detected: Value '%.200s' at '%s' failed to satisfy "
                 "constraint: %s",
                 v, member,
                 pattern ? len : "Member must satisfy regular expression pattern: [\\w+=,.@-]*");
    return false;
}

bool iam_sts_arn_ok(struct iam_call *c, const char *arn, const char *member)
{
    const char *part[6];
    size_t n = strlen(arn);
    int k = 0;

    if (n < 20 || n > 2048) {
        iam_fail(c, 400, "ValidationError",
                 "1 validation error detected: Value '%.200s' at '%s' failed to satisfy "
                 "constraint: Member must have length %s",
                 arn, member,
                 n < 20 ? "greater than or equal to 20" : "less than or equal to 2048");
        return false;
    }
    /* arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE (the resource may hold ':') */
    part[k++] = arn;
    for (const char *p = arn; *p && k < 6; p++)
        if (*p == ':')
            part[k++] = p + 1;
    if (k == 6 && strncmp(arn, "arn:", 4) == 0 && part[1][0] != ':' && part[2][0] != ':' &&
        part[5][0])
        return true;
    iam_fail(c, 400, "ValidationError", "%.2048s is invalid", arn);
    return false;
}

/* iam_sts_issue - register temporary credentials for @id (access key, secret and
 * token filled here) expiring @secs from now; appends <Credentials>. */
bool iam_sts_issue(struct iam_call *c, struct creds_identity *id, long secs, struct buf *b,
                   bool root_session, const cJSON *policies)
{
    char exp[32];
    struct err e = {0};

    iam_random_id(id->access_key, "ASIA", 16, UPPER_ALNUM);
    iam_random_id(id->secret, "", 40, SECRET_CHARS);
    iam_random_id(id->session_token, "IQoJb3JpZ2luX2VjE", 300, SECRET_CHARS);
    snprintf(id->account, sizeof(id->account), "%s", c->iam->account);
    id->expires = (int64_t)clock_wall_s() + secs;
    id->root = false;
    if (creds_add(c->iam->creds, id, &e) != ERR_OK) {
        iam_fail(c, 500, "InternalFailure", "%s", e.msg);
        return false;
    }
    if (!root_session) /* a root session is recorded by its caller, root flag set */
        iam_session_record(c->iam, id, policies);
    iam_now_iso(exp, secs);
    buf_puts(b, "<Credentials>");
    xmlw_elem(b, "AccessKeyId", id->access_key, 0);
    xmlw_elem(b, "SecretAccessKey", id->secret, 0);
    xmlw_elem(b, "SessionToken", id->session_token, 0);
    xmlw_elem(b, "Expiration", exp, 0);
    buf_puts(b, "</Credentials>");
    return true;
}

/* iam_sts_session_policies - AssumeRole's Policy and PolicyArns.member.N.arn as
 * {"Policy": DOC, "PolicyArns": [...]} (owned; empty object: none), or NULL
 * after answering. @packed: the percentage of the packed-policy quota the
 * policies and the session tags @tags use together (STS packs both into the
 * session token: "PackedPolicySize"), -1 when there are neither. */
cJSON *iam_sts_session_policies(struct iam_call *c, const cJSON *tags, int *packed)
{
    const char *doc = iam_param(c, "Policy");
    cJSON *out = cJSON_CreateObject(), *arns = NULL;
    const cJSON *t;
    size_t used = 0;
    char name[48];

    *packed = -1;
    if (doc) {
        struct iam_policy *p = NULL;
        struct err e = {0};
        if (strlen(doc) > MAX_SESSION_POLICY) {
            iam_fail(c, 400, "ValidationError",
                     "1 validation error detected: Value at 'policy' failed to satisfy "
                     "constraint: Member must have length less than or equal to %d",
                     MAX_SESSION_POLICY);
            goto bad;
        }
        if (iam_policy_parse(doc, strlen(doc), IAM_POLICY_IDENTITY, &p, &e) != ERR_OK) {
            iam_fail(c, 400, "MalformedPolicyDocument", "%s", e.msg);
            goto bad;
        }
        iam_policy_free(p);
        used += iam_policy_size(doc);
        cJSON_AddStringToObject(out, "Policy", doc);
    }
    for (int i = 1;; i++) {
        const char *arn;
        char *found;
        snprintf(name, sizeof(name), "PolicyArns.member.%d.arn", i);
        if (!(arn = iam_param(c, name)))
            break;
        if (i > MAX_SESSION_ARNS) {
            iam_fail(c, 400, "ValidationError",
                     "1 validation error detected: Value at 'policyArns' failed to satisfy "
                     "constraint: Member must have length less than or equal to %d",
                     MAX_SESSION_ARNS);
            goto bad;
        }
        if (strncmp(arn, "arn:", 4) != 0 || strlen(arn) < 20 || strlen(arn) > 2048) {
            iam_fail(c, 400, "ValidationError",
                     "1 validation error detected: Value '%.200s' at 'policyArns.%d.member.arn' "
                     "failed to satisfy constraint: Member must have length greater than or "
                     "equal to 20",
                     arn, i);
            goto bad;
        }
        /* the policies must exist (in the role's account, or AWS managed):
         * AssumeRole declares MalformedPolicyDocument for bad session policies */
        if (!(found = iam_policy_doc_of(c->iam, arn))) {
            iam_fail(c, 400, "MalformedPolicyDocument",
                     "Policy %.300s does not exist or is not attachable.", arn);
            goto bad;
        }
        free(found);
        if (!arns)
            arns = cJSON_AddArrayToObject(out, "PolicyArns");
        cJSON_AddItemToArray(arns, cJSON_CreateString(arn));
        used += strlen(arn);
    }
    /* a tag's key and value are packed beside the policies (whether it is
     * transitive does not change its size) */
    cJSON_ArrayForEach(t, tags)
    {
        used += strlen(iam_jstr(t, "Key")) + strlen(iam_jstr(t, "Value"));
    }
    if (doc || arns || cJSON_GetArraySize(tags) > 0) {
        /* AWS packs (compresses) the session policies and tags into the
         * token; its exact packing is not published: the counted characters
         * stand in */
        *packed = (int)(used * 100 / MAX_PACKED_POLICY);
        if (used > MAX_PACKED_POLICY) {
            iam_fail(c, 400, "PackedPolicyTooLarge",
                     "Packed policy consumes %d%% of allotted space, please use smaller policy.",
                     *packed);
            goto bad;
        }
    }
    return out;
bad:
    cJSON_Delete(out);
    return NULL;
}

/* transitive_tags - the session tags of the caller's session that its
 * TransitiveTagKeys name (IAM User Guide, "Chaining roles with session
 * tags"), in @tags, and their keys in @keys (owned; NULL when none). */
static void transitive_tags(struct iam_call *c, cJSON **tags, cJSON **keys)
{
    cJSON *doc = c->who->session_token[0] ? iam_session_doc(c->iam, c->who->access_key) : NULL;
    const cJSON *k, *t;

    *tags = *keys = NULL;
    cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(doc, "TransitiveTagKeys"))
    {
        cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(doc, "Tags"))
        {
            if (!cJSON_IsString(k) || strcasecmp(iam_jstr(t, "Key"), k->valuestring) != 0)
                continue;
            if (!*tags) {
                *tags = cJSON_CreateArray();
                *keys = cJSON_CreateArray();
            }
            cJSON_AddItemToArray(*tags, cJSON_Duplicate(t, 1));
            cJSON_AddItemToArray(*keys, cJSON_CreateString(iam_jstr(t, "Key")));
            break;
        }
    }
    cJSON_Delete(doc);
}

/* tag_named - the key of the tag of @list ([{"Key", "Value"}]) whose key is
 * @k without regard to case (IAM's tag keys), or NULL. */
static const char *tag_named(const cJSON *list, const char *k)
{
    const cJSON *t;

    cJSON_ArrayForEach(t, list)
    {
        if (strcasecmp(iam_jstr(t, "Key"), k) == 0)
            return iam_jstr(t, "Key");
    }
    return NULL;
}

/* key_listed - whether the strings @keys hold @k without regard to case. */
static bool key_listed(const cJSON *keys, const char *k)
{
    const cJSON *x;

    cJSON_ArrayForEach(x, keys)
    {
        if (cJSON_IsString(x) && strcasecmp(x->valuestring, k) == 0)
            return true;
    }
    return false;
}

/* tag_text_ok - @s holds only what a session tag may: letters, digits,
 * spaces and _.:/=+-@ (bytes past ASCII: letters of other scripts). */
static bool tag_text_ok(const char *s)
{
    for (; *s; s++)
        if (!((unsigned char)*s >= 0x80 || strchr("_.:/=+-@ ", *s) || isalnum((unsigned char)*s)))
            return false;
    return true;
}

/* tags_fail - answer a malformed tag parameter and free what was parsed. */
static bool tags_fail(struct iam_call *c, cJSON **tags, cJSON **keys, const char *code,
                      const char *msg)
{
    iam_fail(c, 400, code, "%s", msg);
    cJSON_Delete(*tags);
    cJSON_Delete(*keys);
    *tags = *keys = NULL;
    return false;
}

/* request_tags - AssumeRole's Tags.member.N (Key, Value) and
 * TransitiveTagKeys.member.N as [{"Key", "Value"}] in @tags and the
 * transitive keys (as the tags spell them) in @keys (owned, empty when none),
 * checked as STS checks them: at most 50 of each, keys 1..128 and values
 * 0..256 characters, keys unique without regard to case and not one of the
 * caller's transitive tags @inherited ("If you pass a session tag with the
 * same key as an inherited tag, the operation fails"), transitive keys among
 * the tags; false after answering. */
static bool request_tags(struct iam_call *c, const cJSON *inherited, cJSON **tags, cJSON **keys)
{
    char name[64];

    *tags = cJSON_CreateArray();
    *keys = cJSON_CreateArray();
    for (int i = 1;; i++) {
        const char *k, *v, *why = NULL;
        cJSON *t;
        snprintf(name, sizeof(name), "Tags.member.%d.Key", i);
        k = iam_param(c, name);
        snprintf(name, sizeof(name), "Tags.member.%d.Value", i);
        v = iam_param(c, name);
        if (!k && !v)
            break;
        if (i > MAX_TAGS)
            why = "Member must have length less than or equal to 50";
        else if (!k || !v)
            why = "Member must not be null";
        else if (!*k || strlen(k) > 128 || strlen(v) > 256 || !tag_text_ok(k) || !tag_text_ok(v))
            why = "Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+ "
                  "and have length between 1 and 128 (key), at most 256 (value)";
        if (why)
            return tags_fail(c, tags, keys, "ValidationError",
                             arena_sprintf(c->r->arena,
                                           "1 validation error detected: Value at 'tags.%d' "
                                           "failed to satisfy constraint: %s",
                                           i, why));
        if (tag_named(*tags, k))
            return tags_fail(c, tags, keys, "InvalidParameterValue",
                             "Duplicate tag keys found. Please note that Tag keys are case "
                             "insensitive.");
        if (tag_named(inherited, k))
            return tags_fail(c, tags, keys, "InvalidParameterValue",
                             "One of the specified transitive tag keys can't be set because it "
                             "conflicts with a transitive tag key from the calling session.");
        t = cJSON_CreateObject();
        cJSON_AddStringToObject(t, "Key", k);
        cJSON_AddStringToObject(t, "Value", v);
        cJSON_AddItemToArray(*tags, t);
    }
    for (int i = 1;; i++) {
        const char *k, *found;
        snprintf(name, sizeof(name), "TransitiveTagKeys.member.%d", i);
        if (!(k = iam_param(c, name)))
            break;
        if (i > MAX_TAGS)
            return tags_fail(c, tags, keys, "ValidationError",
                             "1 validation error detected: Value at 'transitiveTagKeys' failed "
                             "to satisfy constraint: Member must have length less than or equal "
                             "to 50");
        if (!(found = tag_named(*tags, k)))
            return tags_fail(c, tags, keys, "InvalidParameterValue",
                             "The specified transitive tag key must be included in the requested "
                             "tags.");
        if (!key_listed(*keys, found))
            cJSON_AddItemToArray(*keys, cJSON_CreateString(found));
    }
    return true;
}

/* tags_context - aws:RequestTag/KEY and aws:TagKeys of the tags @tags
 * (arena-owned, @n of them), with room for @extra more after them. */
static struct authz_kv *tags_context(struct iam_call *c, const cJSON *tags, size_t extra, size_t *n)
{
    struct authz_kv *kv =
        arena_alloc(c->r->arena, (2 * (size_t)cJSON_GetArraySize(tags) + extra + 1) * sizeof(*kv));
    const cJSON *t;

    *n = 0;
    cJSON_ArrayForEach(t, tags)
    {
        kv[(*n)++] =
            (struct authz_kv){arena_sprintf(c->r->arena, "aws:RequestTag/%s", iam_jstr(t, "Key")),
                              iam_jstr(t, "Value")};
        kv[(*n)++] = (struct authz_kv){"aws:TagKeys", iam_jstr(t, "Key")};
    }
    return kv;
}

/* may_set - whether the caller may set @action's part of a session of role
 * @arn (sts:TagSession: session tags; sts:SetSourceIdentity: its source
 * identity): @action allowed by the role's trust policy @trust (@q as
 * evaluated for sts:AssumeRole), or, when the trust policy names the
 * account only, by the caller's own policies; false after answering. */
static bool may_set(struct iam_call *c, const struct iam_policy *trust, struct iam_request *q,
                    const char *arn, const char *action)
{
    bool direct = false;
    enum iam_decision d;

    q->action = action;
    d = iam_policy_eval(trust, q, &direct);
    if (d == IAM_ALLOW && !direct) {
        struct authz_request aq = {.who = c->who, .action = action, .resource = arn};
        struct err e = {0};
        direct = iam_authorize(c->iam, &aq, &e) == ERR_OK;
    }
    if (d == IAM_ALLOW && direct)
        return true;
    iam_fail(c, 403, "AccessDenied",
             "User: %s is not authorized to perform: %s on resource: %.300s", c->who->arn, action,
             arn);
    return false;
}

/* external_id_ok - AssumeRole's ExternalId, when given: 2..1224 characters
 * of [\w+=,.@:/-]; false after answering. */
static bool external_id_ok(struct iam_call *c, const char *ext)
{
    size_t n = ext ? strlen(ext) : 0;

    if (!ext || (n >= 2 && n <= 1224 &&
                 strspn(ext, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                             "_+=,.@:/-") == n))
        return true;
    iam_fail(c, 400, "ValidationError",
             "1 validation error detected: Value '%.200s' at 'externalId' failed to satisfy "
             "constraint: %s",
             ext,
             n < 2      ? "Member must have length greater than or equal to 2"
             : n > 1224 ? "Member must have length less than or equal to 1224"
                        : "Member must satisfy regular expression pattern: [\\w+=,.@:\\/-]*");
    return false;
}

/* source_identity - the source identity of the new session: the calling
 * session's, which cannot be changed along a role chain, else the request's
 * SourceIdentity (2..64 characters of [\w+=,.@-]); "" for none, NULL after
 * answering. */
static const char *source_identity(struct iam_call *c)
{
    const char *asked = iam_param(c, "SourceIdentity");
    cJSON *doc = c->who->session_token[0] ? iam_session_doc(c->iam, c->who->access_key) : NULL;
    const char *had = arena_strdup(c->r->arena, iam_jstr(doc, "SourceIdentity"));

    cJSON_Delete(doc);
    if (asked && !iam_sts_name_ok(c, asked, "sourceIdentity", 2, 64))
        return NULL;
    if (*had && asked && strcmp(asked, had) != 0) {
        iam_fail(c, 403, "AccessDenied",
                 "The source identity of the calling session (%s) cannot be changed in a role "
                 "chain.",
                 had);
        return NULL;
    }
    return *had ? had : asked ? asked : "";
}

static void assume_role(struct iam_call *c)
{
    const char *arn = iam_param(c, "RoleArn"), *session = iam_param(c, "RoleSessionName");
    const char *slash, *role_name, *srcid, *ext = iam_param(c, "ExternalId");
    cJSON *role = NULL;
    struct iam_policy *trust = NULL;
    struct creds_identity id;
    struct buf b;
    bool direct = false;
    long secs, max = 3600;
    const cJSON *m;
    char caller_role[300] = "", caller_name[128];
    struct iam_request q;
    enum iam_decision td;
    size_t tag_n;
    cJSON *policies = NULL, *tags = NULL, *tkeys = NULL, *rtags = NULL, *rkeys = NULL, *x;
    int packed = -1;

    if (!arn || !session) {
        iam_fail(c, 400, "ValidationError",
                 "1 validation error detected: Value null at '%s' failed to satisfy constraint: "
                 "Member must not be null",
                 !arn ? "roleArn" : "roleSessionName");
        return;
    }
    if (!iam_sts_name_ok(c, session, "roleSessionName", 2, 64) ||
        !iam_sts_arn_ok(c, arn, "roleArn") || !external_id_ok(c, ext) ||
        !(srcid = source_identity(c)))
        return;
    /* session tags: the caller's transitive ones pass on, the request's
     * are added (the same key twice is refused) */
    transitive_tags(c, &tags, &tkeys);
    if (!request_tags(c, tags, &rtags, &rkeys))
        goto out;
    if (c->who->root) {
        iam_fail(c, 403, "AccessDenied", "Roles may not be assumed by root accounts.");
        goto out;
    }
    slash = strrchr(arn, '/');
    role_name = slash ? slash + 1 : "";
    if (strncmp(arn, "arn:aws:iam::", 13) != 0 || !strstr(arn, ":role/") ||
        iam_doc_get(c->iam, "role", role_name, &role, NULL) != ERR_OK ||
        strcmp(cJSON_GetObjectItemCaseSensitive(role, "Arn")->valuestring, arn) != 0) {
        iam_fail(c, 403, "AccessDenied",
                 "User: %s is not authorized to perform: sts:AssumeRole on resource: %.300s",
                 c->who->arn, arn);
        goto out;
    }
    /* the caller's own role when it is a session itself (role chaining) */
    if (iam_session_role(c->who->arn, caller_name))
        snprintf(caller_role, sizeof(caller_role), "arn:aws:iam::%s:role/%s", c->who->account,
                 caller_name);
    {
        const char *tj =
            cJSON_GetObjectItemCaseSensitive(role, "AssumeRolePolicyDocument")->valuestring;
        iam_policy_parse(tj, strlen(tj), IAM_POLICY_TRUST, &trust, NULL);
    }
    memset(&q, 0, sizeof(q));
    q.action = "sts:AssumeRole";
    q.resource = arn;
    q.principal_arn = c->who->arn;
    q.account = c->who->account;
    q.role_arn = caller_role[0] ? caller_role : NULL;
    /* the trust policy sees the request's tags, the source identity
     * (sts:SourceIdentity) and the caller as a principal (its
     * aws:PrincipalTag/KEY, aws:PrincipalArn, ...); the caller's own
     * policies below add the latter themselves */
    {
        size_t np;
        struct authz_kv *pk = iam_principal_context(c->iam, c->who, c->r->arena, &np);
        struct authz_kv *kv = tags_context(c, rtags, np + 3 + IAM_CONTEXT_MAX, &tag_n);
        tag_n += iam_call_context(c, kv + tag_n);
        if (*srcid)
            kv[tag_n++] = (struct authz_kv){"sts:SourceIdentity", srcid};
        if (ext) /* a third party's role: its trust policy tests the caller's ExternalId */
            kv[tag_n++] = (struct authz_kv){"sts:ExternalId", ext};
        kv[tag_n++] = (struct authz_kv){"sts:RoleSessionName", session};
        memcpy(kv + tag_n, pk, np * sizeof(*pk));
        q.ctx = kv;
        q.nctx = tag_n + np;
    }
    td = iam_policy_eval(trust, &q, &direct);
    /* IAM User Guide, "Cross-account policy evaluation logic" within one
     * account: a trust policy naming the caller grants on its own; one naming
     * only the account delegates to the caller's identity policies. */
    if (td == IAM_EXPLICIT_DENY || td == IAM_IMPLICIT_DENY) {
        iam_fail(c, 403, "AccessDenied",
                 "User: %s is not authorized to perform: sts:AssumeRole on resource: %.300s",
                 c->who->arn, arn);
        goto out;
    }
    if (!direct) {
        struct authz_request aq = {.who = c->who,
                                   .action = "sts:AssumeRole",
                                   .resource = arn,
                                   .context = q.ctx,
                                   .ncontext = tag_n};
        struct err e = {0};
        if (iam_authorize(c->iam, &aq, &e) != ERR_OK) {
            iam_fail(c, 403, "AccessDenied", "%s", e.msg);
            goto out;
        }
    }
    m = cJSON_GetObjectItemCaseSensitive(role, "MaxSessionDuration");
    if (m)
        max = (long)m->valuedouble;
    secs = iam_sts_duration(
        c, c->iam->sts_min_duration, max, 3600,
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this "
        "role.");
    if (secs < 0)
        goto out;
    memset(&id, 0, sizeof(id));
    snprintf(id.user, sizeof(id.user), "%.64s", session);
    snprintf(id.arn, sizeof(id.arn), "arn:aws:sts::%s:assumed-role/%s/%s", c->iam->account,
             role_name, session);
    /* setting session tags, passed or inherited, needs sts:TagSession; the
     * request's count into the packed size (the inherited were counted when
     * they were passed) */
    if ((tags || cJSON_GetArraySize(rtags) > 0) && !may_set(c, trust, &q, arn, "sts:TagSession"))
        goto out;
    /* so does a source identity, passed or inherited */
    if (*srcid && !may_set(c, trust, &q, arn, "sts:SetSourceIdentity"))
        goto out;
    if (!(policies = iam_sts_session_policies(c, rtags, &packed)))
        goto out;
    if (!tags) {
        tags = cJSON_CreateArray();
        tkeys = cJSON_CreateArray();
    }
    while ((x = cJSON_DetachItemFromArray(rtags, 0)))
        cJSON_AddItemToArray(tags, x);
    while ((x = cJSON_DetachItemFromArray(rkeys, 0)))
        cJSON_AddItemToArray(tkeys, x);
    if (cJSON_GetArraySize(tags) > 0) /* the new session's principal tags */
        cJSON_AddItemToObject(policies, "Tags", tags);
    else
        cJSON_Delete(tags);
    if (cJSON_GetArraySize(tkeys) > 0) /* passed on from it in turn */
        cJSON_AddItemToObject(policies, "TransitiveTagKeys", tkeys);
    else
        cJSON_Delete(tkeys);
    if (*srcid) /* aws:SourceIdentity of its requests, passed on along the chain */
        cJSON_AddStringToObject(policies, "SourceIdentity", srcid);
    tags = tkeys = NULL;
    buf_init(&b, 0);
    if (iam_sts_issue(c, &id, secs, &b, false, cJSON_GetArraySize(policies) ? policies : NULL)) {
        buf_puts(&b, "<AssumedRoleUser>");
        buf_puts(&b, "<AssumedRoleId>");
        xmlw_text(&b, cJSON_GetObjectItemCaseSensitive(role, "RoleId")->valuestring, 0);
        buf_putc(&b, ':');
        xmlw_text(&b, session, 0);
        buf_puts(&b, "</AssumedRoleId>");
        xmlw_elem(&b, "Arn", id.arn, 0);
        buf_puts(&b, "</AssumedRoleUser>");
        if (packed >= 0)
            buf_printf(&b, "<PackedPolicySize>%d</PackedPolicySize>", packed);
        if (*srcid)
            xmlw_elem(&b, "SourceIdentity", srcid, 0);
        iam_reply(c, b.ptr);
    }
    buf_free(&b);
out:
    iam_policy_free(trust);
    cJSON_Delete(role);
    cJSON_Delete(policies);
    cJSON_Delete(tags);
    cJSON_Delete(tkeys);
    cJSON_Delete(rtags);
    cJSON_Delete(rkeys);
}

static void caller_identity(struct iam_call *c)
{
    struct buf b;
    cJSON *doc = NULL;
    const char *uid = c->who->account, *session;
    char name[128];

    buf_init(&b, 0);
    if (!c->who->root && strstr(c->who->arn, ":user/") &&
        iam_doc_get(c->iam, "user", c->who->user, &doc, NULL) == ERR_OK)
        uid = cJSON_GetObjectItemCaseSensitive(doc, "UserId")->valuestring;
    if ((session = iam_session_role(c->who->arn, name))) {
        if (iam_doc_get(c->iam, "role", name, &doc, NULL) == ERR_OK) {
            buf_puts(&b, "<UserId>");
            xmlw_text(&b, cJSON_GetObjectItemCaseSensitive(doc, "RoleId")->valuestring, 0);
            buf_putc(&b, ':');
            xmlw_text(&b, session, 0);
            buf_puts(&b, "</UserId>");
            uid = NULL;
        }
    }
    if (iam_federated_name(c->who->arn)) { /* ACCOUNT:NAME */
        buf_puts(&b, "<UserId>");
        xmlw_text(&b, c->who->account, 0);
        buf_putc(&b, ':');
        xmlw_text(&b, iam_federated_name(c->who->arn), 0);
        buf_puts(&b, "</UserId>");
        uid = NULL;
    }
    if (uid)
        xmlw_elem(&b, "UserId", uid, 0);
    xmlw_elem(&b, "Account", c->who->account, 0);
    xmlw_elem(&b, "Arn", c->who->arn, 0);
    iam_reply(c, b.ptr);
    buf_free(&b);
    cJSON_Delete(doc);
}

static void session_token(struct iam_call *c)
{
    struct creds_identity id;
    struct buf b;
    long secs;

    if (c->who->session_token[0]) {
        iam_fail(c, 403, "AccessDenied", "Cannot call GetSessionToken with session credentials");
        return;
    }
    secs = iam_sts_duration(
        c, c->iam->sts_min_duration, c->who->root ? 3600 : 129600, 43200,
        "The requested DurationSeconds exceeds the 1 hour session limit for roots.");
    if (secs < 0)
        return;
    /* the session acts as the user itself, with the user's permissions */
    id = *c->who;
    buf_init(&b, 0);
    if (iam_sts_issue(c, &id, secs, &b, c->who->root, NULL)) {
        /* issue() cleared root; a root session stays root */
        if (c->who->root) {
            id.root = true;
            creds_add(c->iam->creds, &id, NULL);
            iam_session_record(c->iam, &id, NULL);
        }
        iam_reply(c, b.ptr);
    }
    buf_free(&b);
}

/* federation_token - GetFederationToken: a session of the calling IAM user
 * (or the account root) named arn:aws:sts::ACCOUNT:federated-user/NAME, which
 * may use what both the user's policies and the session policies passed
 * here allow (none passed: nothing, unless a resource policy names the
 * session), for DurationSeconds 900..129600 (the root's at most an hour). */
static void federation_token(struct iam_call *c)
{
    const char *name = iam_param(c, "Name");
    struct creds_identity id;
    char fed[256];
    struct buf b;
    cJSON *policies = NULL, *tags = NULL, *tkeys = NULL;
    int packed = -1;
    long secs;

    if (!name) {
        iam_fail(c, 400, "ValidationError",
                 "1 validation error detected: Value null at 'name' failed to satisfy "
                 "constraint: Member must not be null");
        return;
    }
    if (!iam_sts_name_ok(c, name, "name", 2, 32))
        return;
    if (c->who->session_token[0]) {
        iam_fail(c, 403, "AccessDenied", "Cannot call GetFederationToken with session credentials");
        return;
    }
    snprintf(fed, sizeof(fed), "arn:aws:sts::%s:federated-user/%s", c->iam->account, name);
    if (!iam_allowed(c, "sts:GetFederationToken", fed))
        return;
    secs = iam_sts_duration(
        c, c->iam->sts_min_duration, 129600, 43200,
        arena_sprintf(c->r->arena,
                      "1 validation error detected: Value '%.40s' at "
                      "'durationSeconds' failed to satisfy constraint: Member "
                      "must have value less than or equal to 129600",
                      iam_param(c, "DurationSeconds") ? iam_param(c, "DurationSeconds") : ""));
    if (secs < 0)
        return;
    if (c->who->root && secs > 3600) /* "defaults to one hour" for the root */
        secs = 3600;
    if (!request_tags(c, NULL, &tags, &tkeys))
        goto out;
    if (cJSON_GetArraySize(tags) > 0 && !iam_allowed(c, "sts:TagSession", fed))
        goto out;
    if (!(policies = iam_sts_session_policies(c, tags, &packed)))
        goto out;
    if (cJSON_GetArraySize(tags) > 0) { /* the session's principal tags */
        cJSON_AddItemToObject(policies, "Tags", tags);
        tags = NULL;
    }
    memset(&id, 0, sizeof(id));
    /* the user whose policies bound the session */
    snprintf(id.user, sizeof(id.user), "%s", c->who->root ? IAM_FEDERATED_ROOT : c->who->user);
    snprintf(id.arn, sizeof(id.arn), "%s", fed);
    buf_init(&b, 0);
    if (iam_sts_issue(c, &id, secs, &b, false, cJSON_GetArraySize(policies) ? policies : NULL)) {
        buf_puts(&b, "<FederatedUser><FederatedUserId>");
        xmlw_text(&b, c->iam->account, 0);
        buf_putc(&b, ':');
        xmlw_text(&b, name, 0);
        buf_puts(&b, "</FederatedUserId>");
        xmlw_elem(&b, "Arn", fed, 0);
        buf_puts(&b, "</FederatedUser>");
        buf_printf(&b, "<PackedPolicySize>%d</PackedPolicySize>", packed < 0 ? 0 : packed);
        iam_reply(c, b.ptr);
    }
    buf_free(&b);
out:
    cJSON_Delete(policies);
    cJSON_Delete(tags);
    cJSON_Delete(tkeys);
}

static void sts_dispatch(struct iam_call *c)
{
    /* a federated user session may call no STS operation but
     * GetCallerIdentity (IAM User Guide, "Compare AWS STS credentials") */
    if (c->who && iam_federated_name(c->who->arn) && strcmp(c->action, "GetCallerIdentity") != 0 &&
        strcmp(c->action, "AssumeRoleWithWebIdentity") != 0) {
        iam_fail(c, 403, "AccessDenied", "Cannot call %.64s with session credentials", c->action);
        return;
    }
    if (strcmp(c->action, "AssumeRole") == 0)
        assume_role(c);
    else if (strcmp(c->action, "GetCallerIdentity") == 0)
        caller_identity(c);
    else if (strcmp(c->action, "GetSessionToken") == 0)
        session_token(c);
    else if (strcmp(c->action, "AssumeRoleWithWebIdentity") == 0)
        iam_sts_web_identity(c);
    else if (strcmp(c->action, "GetFederationToken") == 0)
        federation_token(c);
    else
        iam_fail(c, 400, "InvalidAction", "Could not find operation %.64s for version 2011-06-15",
                 c->action);
}

void iam_sts_handle(struct iam *iam, struct http_req *r, const struct creds_identity *who)
{
    struct iam_call c;

    if (!iam_call_init(&c, iam, r, who, true))
        return;
    if (!who && strcmp(c.action, "AssumeRoleWithWebIdentity") != 0) {
        iam_respond_error(r, true, 403, "MissingAuthenticationToken",
                          "Request is missing Authentication Token");
        return;
    }
    /* credentials issued here are sent to home before they are answered */
    if (strcmp(c.action, "AssumeRole") == 0 || strcmp(c.action, "GetSessionToken") == 0 ||
        strcmp(c.action, "GetFederationToken") == 0)
        iam_defer(&c, sts_dispatch);
    else if (strcmp(c.action, "AssumeRoleWithWebIdentity") == 0) /* fetches the issuer's keys */
        iam_defer_fetch(&c, sts_dispatch);
    else
        sts_dispatch(&c);
}
