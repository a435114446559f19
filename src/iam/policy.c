/* policy.c - see iam_policy.h.
 *
 * A parsed policy keeps its cJSON tree: documents are small (6 KiB at most)
 * and validation has already checked every element's shape, so evaluation
 * walks the tree directly. */
#include "iam_policy.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "mem.h"

struct iam_policy {
    cJSON *root;
    cJSON *stmts; /* borrowed from root: an array, or the one statement object */
    enum iam_policy_kind kind;
    bool vars; /* Version 2012-10-17: policy variables are substituted */
};

/* ---- matching ---- */

static bool glob(const char *p, const char *pe, const char *s, const char *se, bool icase)
{
    const char *star = NULL, *mark = NULL;

    while (s < se) {
        if (p < pe && *p == '*') {
            star = p++;
            mark = s;
        } else if (p < pe &&
                   (*p == '?' || (icase ? tolower((unsigned char)*p) == tolower((unsigned char)*s)
                                        : *p == *s))) {
            p++;
            s++;
        } else if (star) {
            p = star + 1;
            s = ++mark;
        } else {
            return false;
        }
    }
    while (p < pe && *p == '*')
        p++;
    return p == pe;
}

bool iam_match_action(const char *pattern, const char *action)
{
    return glob(pattern, pattern + strlen(pattern), action, action + strlen(action), true);
}

bool iam_match_arn(const char *pattern, const char *arn)
{
    const char *p = pattern, *a = arn;

    if (strcmp(pattern, "*") == 0)
        return true;
    /* The first five colons split arn:partition:service:region:account:resource;
     * the resource part may hold further colons. */
    for (int seg = 0; seg < 5; seg++) {
        const char *pc = strchr(p, ':'), *ac = strchr(a, ':');
        if (!pc || !ac)
            return glob(p, p + strlen(p), a, a + strlen(a), false);
        if (!glob(p, pc, a, ac, false))
            return false;
        p = pc + 1;
        a = ac + 1;
    }
    return glob(p, p + strlen(p), a, a + strlen(a), false);
}

static const char *const services[] = {
    "*",
    "access-analyzer",
    "acm",
    "apigateway",
    "application-autoscaling",
    "athena",
    "autoscaling",
    "cloudformation",
    "cloudfront",
    "cloudtrail",
    "cloudwatch",
    "codebuild",
    "codecommit",
    "cognito-identity",
    "cognito-idp",
    "datapipeline",
    "dax",
    "dynamodb",
    "ec2",
    "ecr",
    "ecs",
    "eks",
    "elasticache",
    "elasticloadbalancing",
    "events",
    "firehose",
    "glue",
    "iam",
    "kinesis",
    "kms",
    "lambda",
    "logs",
    "rds",
    "resource-groups",
    "route53",
    "s3",
    "s3-object-lambda",
    "sdb",
    "secretsmanager",
    "ses",
    "sns",
    "sqs",
    "ssm",
    "states",
    "sts",
    "tag",
    "xray",
};

bool iam_known_service(const char *prefix, size_t len)
{
    for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++)
        if (strlen(services[i]) == len && strncasecmp(services[i], prefix, len) == 0)
            return true;
    return false;
}

/* ---- validation ---- */

static enum err_code malformed(struct err *e, const char *msg)
{
    return err_set(e, ERR_INVALID, "%s", msg);
}

/* str_or_list - @v is a non-empty string or array of strings. */
static bool str_or_list(const cJSON *v)
{
    const cJSON *x;

    if (cJSON_IsString(v))
        return true;
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0)
        return false;
    cJSON_ArrayForEach(x, v) if (!cJSON_IsString(x)) return false;
    return true;
}

static enum err_code check_actions(const cJSON *v, struct err *e)
{
    const cJSON *x;

    if (!str_or_list(v))
        return malformed(e, "Policy statement must contain actions.");
    if (cJSON_IsArray(v)) {
        cJSON_ArrayForEach(x, v)
        {
            enum err_code rc = check_actions(x, e);
            if (rc)
                return rc;
        }
    } else {
        const char *s = v->valuestring, *colon = strchr(s, ':');
        if (strcmp(s, "*") == 0)
            return ERR_OK;
        if (!colon || colon == s)
            return malformed(e, "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, "
                                "ec2, etc.");
        if (!iam_known_service(s, (size_t)(colon - s)))
            return err_set(e, ERR_INVALID, "Invalid Action: %.200s: the vendor %.*s is not known",
                           s, (int)(colon - s) > 64 ? 64 : (int)(colon - s), s);
        if (!colon[1] || strspn(colon + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                           "0123456789*?-_") != strlen(colon + 1))
            return err_set(e, ERR_INVALID, "Invalid Action: %.200s", s);
    }
    return ERR_OK;
}

/* check_trust_actions - a trust policy's Action may name only the calls that
 * assume the role and what they may set (or wildcards of them) */
static enum err_code check_trust_actions(const cJSON *v, struct err *e)
{
    static const char *const ok[] = {
        "sts:AssumeRole", "sts:AssumeRoleWithSAML", "sts:AssumeRoleWithWebIdentity",
        "sts:TagSession", "sts:SetSourceIdentity",  "sts:SetContext",
        "sts:AssumeRoot"};
    const cJSON *x;

    if (cJSON_IsArray(v)) {
        cJSON_ArrayForEach(x, v)
        {
            enum err_code rc = check_trust_actions(x, e);
            if (rc)
                return rc;
        }
        return ERR_OK;
    }
    if (!cJSON_IsString(v) || strchr(v->valuestring, '*') || strchr(v->valuestring, '?'))
        return ERR_OK;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (strcasecmp(v->valuestring, ok[i]) == 0)
            return ERR_OK;
    return malformed(e, "AssumeRole policy may only specify STS AssumeRole actions.");
}

static enum err_code check_resources(const cJSON *v, struct err *e)
{
    const cJSON *x;

    if (!str_or_list(v))
        return malformed(e, "Policy statement must contain resources.");
    if (cJSON_IsArray(v)) {
        cJSON_ArrayForEach(x, v)
        {
            enum err_code rc = check_resources(x, e);
            if (rc)
                return rc;
        }
        return ERR_OK;
    }
    if (strcmp(v->valuestring, "*") != 0 && strncmp(v->valuestring, "arn:", 4) != 0)
        return err_set(e, ERR_INVALID, "Resource %.200s must be in ARN format or \"*\".",
                       v->valuestring);
    return ERR_OK;
}

static enum err_code check_principal(const cJSON *v, struct err *e)
{
    const cJSON *x;

    if (cJSON_IsString(v) && strcmp(v->valuestring, "*") == 0)
        return ERR_OK;
    if (!cJSON_IsObject(v) || !v->child)
        return malformed(e, "Invalid principal in policy");
    cJSON_ArrayForEach(x, v)
    {
        if (strcmp(x->string, "AWS") != 0 && strcmp(x->string, "Service") != 0 &&
            strcmp(x->string, "Federated") != 0 && strcmp(x->string, "CanonicalUser") != 0)
            return malformed(e, "Invalid principal in policy");
        if (!str_or_list(x))
            return malformed(e, "Invalid principal in policy");
    }
    return ERR_OK;
}

/* A condition operator name split into its parts. */
struct cond_op {
    enum { SET_NONE, SET_ANY, SET_ALL } set;
    bool if_exists;
    bool negated;
    enum {
        OP_STR_EQ,
        OP_STR_EQ_IC,
        OP_STR_LIKE,
        OP_NUM_EQ,
        OP_NUM_LT,
        OP_NUM_LE,
        OP_NUM_GT,
        OP_NUM_GE,
        OP_DATE_EQ,
        OP_DATE_LT,
        OP_DATE_LE,
        OP_DATE_GT,
        OP_DATE_GE,
        OP_BOOL,
        OP_BINARY,
        OP_IP,
        OP_ARN,
        OP_NULL,
    } kind;
};

static bool parse_op(const char *name, struct cond_op *op)
{
    static const struct {
        const char *name;
        int kind;
        bool negated;
    } names[] = {
        {"StringEquals", OP_STR_EQ, false},
        {"StringNotEquals", OP_STR_EQ, true},
        {"StringEqualsIgnoreCase", OP_STR_EQ_IC, false},
        {"StringNotEqualsIgnoreCase", OP_STR_EQ_IC, true},
        {"StringLike", OP_STR_LIKE, false},
        {"StringNotLike", OP_STR_LIKE, true},
        {"NumericEquals", OP_NUM_EQ, false},
        {"NumericNotEquals", OP_NUM_EQ, true},
        {"NumericLessThan", OP_NUM_LT, false},
        {"NumericLessThanEquals", OP_NUM_LE, false},
        {"NumericGreaterThan", OP_NUM_GT, false},
        {"NumericGreaterThanEquals", OP_NUM_GE, false},
        {"DateEquals", OP_DATE_EQ, false},
        {"DateNotEquals", OP_DATE_EQ, true},
        {"DateLessThan", OP_DATE_LT, false},
        {"DateLessThanEquals", OP_DATE_LE, false},
        {"DateGreaterThan", OP_DATE_GT, false},
        {"DateGreaterThanEquals", OP_DATE_GE, false},
        {"Bool", OP_BOOL, false},
        {"BinaryEquals", OP_BINARY, false},
        {"IpAddress", OP_IP, false},
        {"NotIpAddress", OP_IP, true},
        {"ArnEquals", OP_ARN, false},
        {"ArnLike", OP_ARN, false},
        {"ArnNotEquals", OP_ARN, true},
        {"ArnNotLike", OP_ARN, true},
        {"Null", OP_NULL, false},
    };
    char base[64];
    size_t n;

    memset(op, 0, sizeof(*op));
    if (strncmp(name, "ForAnyValue:", 12) == 0) {
        op->set = SET_ANY;
        name += 12;
    } else if (strncmp(name, "ForAllValues:", 13) == 0) {
        op->set = SET_ALL;
        name += 13;
    }
    n = strlen(name);
    if (n >= sizeof(base))
        return false;
    memcpy(base, name, n + 1);
    if (n > 8 && strcmp(base + n - 8, "IfExists") == 0) {
        op->if_exists = true;
        base[n - 8] = '\0';
    }
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(names[i].name, base) == 0) {
            if (names[i].kind == OP_NULL && (op->if_exists || op->set))
                return false;
            op->kind = names[i].kind;
            op->negated = names[i].negated;
            return true;
        }
    }
    return false;
}

int iam_policy_op_class(const char *name)
{
    struct cond_op op;

    if (!parse_op(name, &op))
        return IAM_OP_UNKNOWN;
    return op.kind >= OP_DATE_EQ && op.kind <= OP_DATE_GE ? IAM_OP_DATE : IAM_OP_OTHER;
}

static enum err_code check_condition(const cJSON *v, struct err *e)
{
    const cJSON *opj, *key, *val;
    struct cond_op op;

    if (!cJSON_IsObject(v))
        return malformed(e, "Syntax errors in policy.");
    cJSON_ArrayForEach(opj, v)
    {
        if (!parse_op(opj->string, &op))
            return err_set(e, ERR_INVALID, "Invalid Condition type : %.100s.", opj->string);
        if (!cJSON_IsObject(opj) || !opj->child)
            return malformed(e, "Syntax errors in policy.");
        cJSON_ArrayForEach(key, opj)
        {
            const char *colon = strchr(key->string, ':');
            if (!colon || colon == key->string)
                return malformed(e, "Actions/Conditions must be prefaced by a vendor, e.g., "
                                    "iam, sdb, ec2, etc.");
            if (cJSON_IsArray(key)) {
                if (cJSON_GetArraySize(key) == 0)
                    return malformed(e, "Syntax errors in policy.");
                cJSON_ArrayForEach(
                    val, key) if (!cJSON_IsString(val) && !cJSON_IsNumber(val) &&
                                  !cJSON_IsBool(val)) return malformed(e,
                                                                       "Syntax errors in policy.");
            } else if (!cJSON_IsString(key) && !cJSON_IsNumber(key) && !cJSON_IsBool(key)) {
                return malformed(e, "Syntax errors in policy.");
            }
        }
    }
    return ERR_OK;
}

static enum err_code check_statement(const cJSON *s, enum iam_policy_kind kind, struct err *e)
{
    const cJSON *x, *effect;
    bool has_action, has_resource, has_principal;
    enum err_code rc;

    if (!cJSON_IsObject(s))
        return malformed(e, "Syntax errors in policy.");
    cJSON_ArrayForEach(x, s)
    {
        static const char *const known[] = {"Sid",       "Effect",       "Action",
                                            "NotAction", "Resource",     "NotResource",
                                            "Principal", "NotPrincipal", "Condition"};
        bool ok = false;
        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
            ok |= strcmp(x->string, known[i]) == 0;
        if (!ok)
            return malformed(e, "Syntax errors in policy.");
        for (const cJSON *y = x->next; y; y = y->next)
            if (strcmp(x->string, y->string) == 0)
                return malformed(e, "Syntax errors in policy.");
    }
    x = cJSON_GetObjectItemCaseSensitive(s, "Sid");
    if (x && (!cJSON_IsString(x) ||
              strspn(x->valuestring, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                     "0123456789 ") != strlen(x->valuestring)))
        return malformed(e, "Statement IDs (SID) must be alpha-numeric. Check that your input "
                            "satisfies the regular expression [0-9A-Za-z]*");
    effect = cJSON_GetObjectItemCaseSensitive(s, "Effect");
    if (!cJSON_IsString(effect))
        return malformed(e, "Missing required field Effect");
    if (strcmp(effect->valuestring, "Allow") != 0 && strcmp(effect->valuestring, "Deny") != 0)
        return malformed(e, "Invalid effect: must be Allow or Deny");

    x = cJSON_GetObjectItemCaseSensitive(s, "Action");
    has_action = x != NULL;
    if (x && (rc = check_actions(x, e)))
        return rc;
    x = cJSON_GetObjectItemCaseSensitive(s, "NotAction");
    if (x && has_action)
        return malformed(e, "Syntax errors in policy.");
    if (x && (rc = check_actions(x, e)))
        return rc;
    if (!has_action && !x)
        return malformed(e, "Policy statement must contain actions.");

    x = cJSON_GetObjectItemCaseSensitive(s, "Resource");
    has_resource = x != NULL;
    if (x && (rc = check_resources(x, e)))
        return rc;
    x = cJSON_GetObjectItemCaseSensitive(s, "NotResource");
    if (x && has_resource)
        return malformed(e, "Syntax errors in policy.");
    if (x && (rc = check_resources(x, e)))
        return rc;
    has_resource |= x != NULL;

    x = cJSON_GetObjectItemCaseSensitive(s, "Principal");
    has_principal = x != NULL;
    if (x && (rc = check_principal(x, e)))
        return rc;
    x = cJSON_GetObjectItemCaseSensitive(s, "NotPrincipal");
    if (x && has_principal)
        return malformed(e, "Syntax errors in policy.");
    if (x && (rc = check_principal(x, e)))
        return rc;
    has_principal |= x != NULL;

    switch (kind) {
    case IAM_POLICY_IDENTITY:
    case IAM_POLICY_MANAGED: /* checked by iam_policy_check_identity instead */
        if (has_principal)
            return malformed(e, "Policy document should not specify a principal.");
        if (!has_resource)
            return malformed(e, "Policy statement must contain resources.");
        break;
    case IAM_POLICY_TRUST:
        if ((rc = check_trust_actions(cJSON_GetObjectItemCaseSensitive(s, "Action"), e)))
            return rc;
        if (!has_principal)
            return malformed(e, "Missing required field Principal");
        if (has_resource)
            return malformed(e, "Has prohibited field Resource");
        break;
    case IAM_POLICY_RESOURCE:
        if (!has_principal)
            return malformed(e, "Missing required field Principal");
        if (!has_resource)
            return malformed(e, "Policy statement must contain resources.");
        break;
    }
    x = cJSON_GetObjectItemCaseSensitive(s, "Condition");
    if (x && (rc = check_condition(x, e)))
        return rc;
    return ERR_OK;
}

/* check_sids_unique - IAM refuses two statements of one policy with the same Sid */
static enum err_code check_sids_unique(const cJSON *stmts, struct err *e)
{
    const cJSON *x, *y;

    cJSON_ArrayForEach(x, stmts)
    {
        const cJSON *sid = cJSON_GetObjectItemCaseSensitive(x, "Sid");
        if (!cJSON_IsString(sid) || !*sid->valuestring)
            continue;
        for (y = x->next; y; y = y->next) {
            const cJSON *other = cJSON_GetObjectItemCaseSensitive(y, "Sid");
            if (cJSON_IsString(other) && strcmp(other->valuestring, sid->valuestring) == 0)
                return malformed(e, "Statement IDs (SID) in a single policy must be unique.");
        }
    }
    return ERR_OK;
}

enum err_code iam_policy_parse(const char *json, size_t len, enum iam_policy_kind kind,
                               struct iam_policy **out, struct err *e)
{
    cJSON *root = NULL, *stmts, *ver, *x;
    struct iam_policy *p;
    enum err_code rc = ERR_OK;

    *out = NULL;
    if (!json || len == 0)
        return malformed(e, "Syntax errors in policy.");
    root = cJSON_ParseWithLength(json, len);
    if (!root && kind == IAM_POLICY_TRUST) {
        rc = malformed(e, "This policy contains invalid Json");
        goto out;
    }
    if (kind == IAM_POLICY_IDENTITY || kind == IAM_POLICY_MANAGED) {
        if ((rc = iam_policy_check_identity(root, kind == IAM_POLICY_MANAGED, e)))
            goto out;
        kind = IAM_POLICY_IDENTITY;
        ver = cJSON_GetObjectItemCaseSensitive(root, "Version");
        stmts = cJSON_GetObjectItemCaseSensitive(root, "Statement");
        goto parsed;
    }
    if (!cJSON_IsObject(root)) {
        rc = malformed(e, "Syntax errors in policy.");
        goto out;
    }
    cJSON_ArrayForEach(x, root)
    {
        if (strcmp(x->string, "Version") != 0 && strcmp(x->string, "Statement") != 0 &&
            strcmp(x->string, "Id") != 0) {
            rc = malformed(e, "Syntax errors in policy.");
            goto out;
        }
    }
    ver = cJSON_GetObjectItemCaseSensitive(root, "Version");
    if (ver && (!cJSON_IsString(ver) || (strcmp(ver->valuestring, "2012-10-17") != 0 &&
                                         strcmp(ver->valuestring, "2008-10-17") != 0))) {
        rc = malformed(e, "The policy failed legacy parsing");
        goto out;
    }
    stmts = cJSON_GetObjectItemCaseSensitive(root, "Statement");
    if (!stmts || (cJSON_IsArray(stmts) && cJSON_GetArraySize(stmts) == 0)) {
        rc = malformed(e, "Missing required field Statement");
        goto out;
    }
    if (cJSON_IsArray(stmts)) {
        cJSON_ArrayForEach(x, stmts) if ((rc = check_statement(x, kind, e))) goto out;
        if (kind != IAM_POLICY_RESOURCE && (rc = check_sids_unique(stmts, e)))
            goto out;
    } else if ((rc = check_statement(stmts, kind, e))) {
        goto out;
    }
parsed:
    p = xcalloc(1, sizeof(*p));
    p->root = root;
    p->stmts = stmts;
    p->kind = kind;
    p->vars = ver && strcmp(ver->valuestring, "2012-10-17") == 0;
    *out = p;
    return ERR_OK;
out:
    cJSON_Delete(root);
    return rc;
}

void iam_policy_free(struct iam_policy *p)
{
    if (!p)
        return;
    cJSON_Delete(p->root);
    free(p);
}

size_t iam_policy_size(const char *json)
{
    size_t n = 0;

    for (; *json; json++)
        if (!isspace((unsigned char)*json))
            n++;
    return n;
}

/* ---- evaluation ---- */

/* ctx_count / ctx_value - the values of condition key @key (keys compare
 * case-insensitively, as IAM's do). */
static size_t ctx_count(const struct iam_request *q, const char *key, size_t klen)
{
    size_t n = 0;

    for (size_t i = 0; i < q->nctx; i++)
        if (strlen(q->ctx[i].key) == klen && strncasecmp(q->ctx[i].key, key, klen) == 0)
            n++;
    return n;
}

static const char *ctx_value(const struct iam_request *q, const char *key, size_t klen)
{
    for (size_t i = 0; i < q->nctx; i++)
        if (strlen(q->ctx[i].key) == klen && strncasecmp(q->ctx[i].key, key, klen) == 0)
            return q->ctx[i].value;
    return NULL;
}

/*
 * subst - @s with policy variables replaced (owned, free()), or NULL when a
 * variable has no value and no default: then the element does not match.
 * ${*}, ${?} and ${$} stand for the literal characters; in @literal mode (for
 * Resource and String/Arn*Like) the value of a variable is escaped so its own
 * `*` and `?` are not wildcards.
 */
static char *subst(const struct iam_policy *p, const struct iam_request *q, const char *s,
                   bool *literal_mask_needed)
{
    size_t cap = strlen(s) + 1, n = 0;
    char *out;

    *literal_mask_needed = false;
    if (!p->vars || !strstr(s, "${"))
        return xstrdup(s);
    out = xmalloc(cap);
    while (*s) {
        const char *v, *end, *comma;
        size_t vlen, klen;
        char def[256];

        if (s[0] != '$' || s[1] != '{' || !(end = strchr(s + 2, '}'))) {
            if (n + 2 > cap)
                out = xrealloc(out, cap *= 2);
            out[n++] = *s++;
            continue;
        }
        comma = memchr(s + 2, ',', (size_t)(end - s - 2));
        klen = (size_t)((comma ? comma : end) - (s + 2));
        while (klen && s[2 + klen - 1] == ' ')
            klen--;
        if (klen == 1 && (s[2] == '*' || s[2] == '?' || s[2] == '$')) {
            /* a literal wildcard: mark with \x01 so matching takes it literally */
            if (n + 3 > cap)
                out = xrealloc(out, cap *= 2);
            if (s[2] != '$') {
                out[n++] = '\x01';
                *literal_mask_needed = true;
            }
            out[n++] = s[2];
            s = end + 1;
            continue;
        }
        v = ctx_value(q, s + 2, klen);
        if (!v && comma) {
            /* ${key, 'default'} */
            const char *a = strchr(comma, '\''), *b = a ? strchr(a + 1, '\'') : NULL;
            if (a && b && b < end + 1 && (size_t)(b - a - 1) < sizeof(def)) {
                memcpy(def, a + 1, (size_t)(b - a - 1));
                def[b - a - 1] = '\0';
                v = def;
            }
        }
        if (!v) {
            free(out);
            return NULL;
        }
        vlen = strlen(v);
        while (n + vlen * 2 + 2 > cap)
            out = xrealloc(out, cap *= 2);
        for (size_t i = 0; i < vlen; i++) {
            if (v[i] == '*' || v[i] == '?') {
                out[n++] = '\x01';
                *literal_mask_needed = true;
            }
            out[n++] = v[i];
        }
        s = end + 1;
    }
    out[n] = '\0';
    return out;
}

/* glob_lit - glob where "\x01c" is the literal character c. */
static bool glob_lit(const char *p, const char *s, bool icase)
{
    if (!*p)
        return !*s;
    if (p[0] == '\x01' && p[1]) {
        if (*s && (icase ? tolower((unsigned char)*s) == tolower((unsigned char)p[1]) : *s == p[1]))
            return glob_lit(p + 2, s + 1, icase);
        return false;
    }
    if (*p == '*') {
        while (p[1] == '*')
            p++;
        for (const char *t = s;; t++) {
            if (glob_lit(p + 1, t, icase))
                return true;
            if (!*t)
                return false;
        }
    }
    if (*s && (*p == '?' ||
               (icase ? tolower((unsigned char)*p) == tolower((unsigned char)*s) : *p == *s)))
        return glob_lit(p + 1, s + 1, icase);
    return false;
}

/* like - a wildcard match of @pat (after substitution) against @s. Patterns
 * with literal marks use the slower matcher. */
static bool like(const char *pat, bool lit, const char *s, bool icase)
{
    if (lit)
        return glob_lit(pat, s, icase);
    return glob(pat, pat + strlen(pat), s, s + strlen(s), icase);
}

static bool arn_like(const char *pat, bool lit, const char *arn)
{
    const char *p = pat, *a = arn;
    char *pseg, *aseg;
    bool ok = true;

    if (!lit)
        return iam_match_arn(pat, arn);
    if (strcmp(pat, "*") == 0)
        return true;
    for (int seg = 0; seg < 5 && ok; seg++) {
        const char *pc = strchr(p, ':'), *ac = strchr(a, ':');
        if (!pc || !ac)
            return glob_lit(p, a, false);
        pseg = xstrndup(p, (size_t)(pc - p));
        aseg = xstrndup(a, (size_t)(ac - a));
        ok = glob_lit(pseg, aseg, false);
        free(pseg);
        free(aseg);
        p = pc + 1;
        a = ac + 1;
    }
    return ok && glob_lit(p, a, false);
}

static bool match_list(const cJSON *v, const char *s, bool action, const struct iam_policy *p,
                       const struct iam_request *q)
{
    const cJSON *x;

    if (cJSON_IsString(v)) {
        bool lit;
        char *pat;
        bool m;

        if (action)
            return iam_match_action(v->valuestring, s);
        pat = subst(p, q, v->valuestring, &lit);
        if (!pat)
            return false;
        m = arn_like(pat, lit, s);
        free(pat);
        return m;
    }
    cJSON_ArrayForEach(x, v) if (match_list(x, s, action, p, q)) return true;
    return false;
}

/* principal_matches - whether the Principal block @v names the caller;
 * @direct is set when it names the caller or its role, not only its account. */
static bool principal_matches(const cJSON *v, const struct iam_request *q, bool *direct)
{
    const cJSON *aws, *svc, *fed, *x;
    char root[64];

    if (cJSON_IsString(v)) {
        bool star = strcmp(v->valuestring, "*") == 0;
        *direct = star && !q->star_indirect;
        return star;
    }
    snprintf(root, sizeof(root), "arn:aws:iam::%s:root", q->account ? q->account : "");
    aws = cJSON_GetObjectItemCaseSensitive(v, "AWS");
    for (x = cJSON_IsArray(aws) ? aws->child : aws; x; x = cJSON_IsArray(aws) ? x->next : NULL) {
        const char *s = x->valuestring;
        if (strcmp(s, "*") == 0 && q->star_indirect)
            return true;
        if (strcmp(s, "*") == 0 || (q->principal_arn && strcmp(s, q->principal_arn) == 0) ||
            (q->role_arn && strcmp(s, q->role_arn) == 0)) {
            *direct = true;
            return true;
        }
        if (q->account && (strcmp(s, q->account) == 0 || strcmp(s, root) == 0))
            return true;
    }
    svc = cJSON_GetObjectItemCaseSensitive(v, "Service");
    for (x = cJSON_IsArray(svc) ? svc->child : svc; x; x = cJSON_IsArray(svc) ? x->next : NULL) {
        if (q->service && strcmp(x->valuestring, q->service) == 0) {
            *direct = true;
            return true;
        }
    }
    fed = cJSON_GetObjectItemCaseSensitive(v, "Federated");
    for (x = cJSON_IsArray(fed) ? fed->child : fed; x; x = cJSON_IsArray(fed) ? x->next : NULL) {
        if (q->federated && strcmp(x->valuestring, q->federated) == 0) {
            *direct = true;
            return true;
        }
    }
    return false;
}

/* ---- conditions ---- */

static bool parse_num(const char *s, double *out)
{
    char *end;

    if (!s || !*s)
        return false;
    *out = strtod(s, &end);
    return *end == '\0' && !isnan(*out);
}

/* parse_date - ISO 8601 (date, date-time with Z or offset) or epoch seconds. */
static bool parse_date(const char *s, double *out)
{
    struct tm tm;
    const char *end;
    int off = 0;

    if (!s || !*s)
        return false;
    if (strspn(s, "0123456789") == strlen(s))
        return parse_num(s, out);
    memset(&tm, 0, sizeof(tm));
    end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end) {
        memset(&tm, 0, sizeof(tm));
        end = strptime(s, "%Y-%m-%d", &tm);
        if (!end)
            return false;
    }
    if (*end == '.')
        for (end++; isdigit((unsigned char)*end); end++)
            ;
    if (*end == 'Z')
        end++;
    else if (*end == '+' || *end == '-') {
        int h, m;
        if (sscanf(end + 1, "%2d:%2d", &h, &m) != 2)
            return false;
        off = (h * 3600 + m * 60) * (*end == '+' ? 1 : -1);
        end += 6;
    }
    if (*end)
        return false;
    *out = (double)timegm(&tm) - off;
    return true;
}

static bool ip_match(const char *cidr, const char *ip)
{
    unsigned char net[16], addr[16];
    char buf[64];
    const char *slash = strchr(cidr, '/');
    int fam, bits, max;
    size_t n = slash ? (size_t)(slash - cidr) : strlen(cidr);

    if (!ip || n >= sizeof(buf))
        return false;
    memcpy(buf, cidr, n);
    buf[n] = '\0';
    fam = strchr(buf, ':') ? AF_INET6 : AF_INET;
    max = fam == AF_INET ? 32 : 128;
    if (inet_pton(fam, buf, net) != 1 || inet_pton(fam, ip, addr) != 1)
        return false;
    bits = slash ? atoi(slash + 1) : max;
    if (bits < 0 || bits > max)
        return false;
    for (int i = 0; i < bits; i++) {
        int byte = i / 8, bit = 7 - i % 8;
        if (((net[byte] >> bit) & 1) != ((addr[byte] >> bit) & 1))
            return false;
    }
    return true;
}

/* value_str - a condition value as a string (numbers and booleans are
 * written as policies often give them unquoted). */
static const char *value_str(const cJSON *v, char *tmp, size_t cap)
{
    if (cJSON_IsString(v))
        return v->valuestring;
    if (cJSON_IsBool(v))
        return cJSON_IsTrue(v) ? "true" : "false";
    if (cJSON_IsNumber(v)) {
        if (v->valuedouble == (double)(long long)v->valuedouble)
            snprintf(tmp, cap, "%lld", (long long)v->valuedouble);
        else
            snprintf(tmp, cap, "%.17g", v->valuedouble);
        return tmp;
    }
    return "";
}

/* one - the base (not negated) operator applied to one request value. */
static bool one(const struct cond_op *op, const struct iam_policy *p, const struct iam_request *q,
                const char *polv, const char *reqv)
{
    double a, b;
    bool lit, m;
    char *pat;

    switch (op->kind) {
    case OP_STR_EQ:
    case OP_STR_EQ_IC:
    case OP_STR_LIKE:
    case OP_ARN:
        pat = subst(p, q, polv, &lit);
        if (!pat)
            return false;
        if (op->kind == OP_STR_LIKE)
            m = like(pat, lit, reqv, false);
        else if (op->kind == OP_ARN)
            m = arn_like(pat, lit, reqv);
        else {
            /* literal marks only escape wildcards; equality ignores them */
            char *w = pat, *r = pat;
            for (; *r; r++)
                if (*r != '\x01')
                    *w++ = *r;
            *w = '\0';
            m = op->kind == OP_STR_EQ ? strcmp(pat, reqv) == 0 : strcasecmp(pat, reqv) == 0;
        }
        free(pat);
        return m;
    case OP_NUM_EQ:
    case OP_NUM_LT:
    case OP_NUM_LE:
    case OP_NUM_GT:
    case OP_NUM_GE:
        if (!parse_num(reqv, &a) || !parse_num(polv, &b))
            return false;
        goto cmp;
    case OP_DATE_EQ:
    case OP_DATE_LT:
    case OP_DATE_LE:
    case OP_DATE_GT:
    case OP_DATE_GE:
        if (!parse_date(reqv, &a) || !parse_date(polv, &b))
            return false;
    cmp:
        switch (op->kind) {
        case OP_NUM_EQ:
        case OP_DATE_EQ:
            return a == b;
        case OP_NUM_LT:
        case OP_DATE_LT:
            return a < b;
        case OP_NUM_LE:
        case OP_DATE_LE:
            return a <= b;
        case OP_NUM_GT:
        case OP_DATE_GT:
            return a > b;
        default:
            return a >= b;
        }
    case OP_BOOL:
        return strcasecmp(polv, reqv) == 0 &&
               (strcasecmp(reqv, "true") == 0 || strcasecmp(reqv, "false") == 0);
    case OP_BINARY:
        return strcmp(polv, reqv) == 0;
    case OP_IP:
        return ip_match(polv, reqv);
    case OP_NULL:
        break;
    }
    return false;
}

/* any_pol - whether request value @reqv matches any of the policy's values
 * for this key (values OR). */
static bool any_pol(const struct cond_op *op, const struct iam_policy *p,
                    const struct iam_request *q, const cJSON *vals, const char *reqv)
{
    const cJSON *v;
    char tmp[64];

    if (!cJSON_IsArray(vals))
        return one(op, p, q, value_str(vals, tmp, sizeof(tmp)), reqv);
    cJSON_ArrayForEach(v,
                       vals) if (one(op, p, q, value_str(v, tmp, sizeof(tmp)), reqv)) return true;
    return false;
}

static bool key_holds(const struct cond_op *op, const struct iam_policy *p,
                      const struct iam_request *q, const char *key, const cJSON *vals)
{
    size_t klen = strlen(key), n = ctx_count(q, key, klen);
    bool m;

    if (op->kind == OP_NULL) {
        char tmp[64];
        const char *want = cJSON_IsArray(vals)
                               ? (vals->child ? value_str(vals->child, tmp, 64) : "")
                               : value_str(vals, tmp, sizeof(tmp));
        return strcasecmp(want, "true") == 0 ? n == 0 : n > 0;
    }
    if (n == 0) {
        /* IAM User Guide, "Condition operators": a missing key makes the
         * condition false, except for IfExists, negated operators and
         * ForAllValues, which hold when there is nothing to test. */
        if (op->if_exists)
            return true;
        if (op->set == SET_ALL)
            return true;
        if (op->set == SET_ANY)
            return false;
        return op->negated;
    }
    if (op->set == SET_NONE) {
        m = false;
        for (size_t i = 0; i < q->nctx && !m; i++)
            if (strcasecmp(q->ctx[i].key, key) == 0 && any_pol(op, p, q, vals, q->ctx[i].value))
                m = true;
        return op->negated ? !m : m;
    }
    for (size_t i = 0; i < q->nctx; i++) {
        if (strcasecmp(q->ctx[i].key, key) != 0)
            continue;
        m = any_pol(op, p, q, vals, q->ctx[i].value);
        if (op->negated)
            m = !m;
        if (op->set == SET_ANY && m)
            return true;
        if (op->set == SET_ALL && !m)
            return false;
    }
    return op->set == SET_ALL;
}

static bool conditions_hold(const cJSON *cond, const struct iam_policy *p,
                            const struct iam_request *q)
{
    const cJSON *opj, *key;
    struct cond_op op;

    if (!cond)
        return true;
    cJSON_ArrayForEach(opj, cond)
    {
        if (!parse_op(opj->string, &op)) {
            if (!opj->child) /* IAM takes an unknown operator naming no keys */
                continue;
            return false;
        }
        cJSON_ArrayForEach(key, opj) if (!key_holds(&op, p, q, key->string, key)) return false;
    }
    return true;
}

/* statement_scope - whether statement @s's principal, actions and
 * resources cover @q (its conditions and Effect aside). */
static bool statement_scope(const cJSON *s, const struct iam_policy *p, const struct iam_request *q,
                            bool *direct)
{
    const cJSON *x;

    *direct = false;
    if (p->kind != IAM_POLICY_IDENTITY) {
        if ((x = cJSON_GetObjectItemCaseSensitive(s, "Principal"))) {
            if (!principal_matches(x, q, direct))
                return false;
        } else if ((x = cJSON_GetObjectItemCaseSensitive(s, "NotPrincipal"))) {
            bool d;
            if (principal_matches(x, q, &d))
                return false;
            *direct = true;
        }
    }
    if ((x = cJSON_GetObjectItemCaseSensitive(s, "Action")) &&
        !match_list(x, q->action, true, p, q))
        return false;
    if ((x = cJSON_GetObjectItemCaseSensitive(s, "NotAction")) &&
        match_list(x, q->action, true, p, q))
        return false;
    if ((x = cJSON_GetObjectItemCaseSensitive(s, "Resource")) &&
        !match_list(x, q->resource ? q->resource : "*", false, p, q))
        return false;
    if ((x = cJSON_GetObjectItemCaseSensitive(s, "NotResource")) &&
        match_list(x, q->resource ? q->resource : "*", false, p, q))
        return false;
    return true;
}

/* statement_applies - whether statement @s covers @q (Effect aside). */
static bool statement_applies(const cJSON *s, const struct iam_policy *p,
                              const struct iam_request *q, bool *direct)
{
    return statement_scope(s, p, q, direct) &&
           conditions_hold(cJSON_GetObjectItemCaseSensitive(s, "Condition"), p, q);
}

void iam_policy_keys(const struct iam_policy *p, void (*fn)(void *ud, const char *key), void *ud)
{
    const cJSON *s, *op, *key;

    if (!p)
        return;
    for (s = cJSON_IsArray(p->stmts) ? p->stmts->child : p->stmts; s;
         s = cJSON_IsArray(p->stmts) ? s->next : NULL) {
        cJSON_ArrayForEach(op, cJSON_GetObjectItemCaseSensitive(s, "Condition"))
        {
            cJSON_ArrayForEach(key, op)
            {
                if (key->string)
                    fn(ud, key->string);
            }
        }
    }
}

void iam_policy_explain(const struct iam_policy *p, const struct iam_request *q,
                        const struct iam_explain *x)
{
    const cJSON *s, *op, *key;
    int i = 0;
    bool dir;

    if (!p)
        return;
    for (s = cJSON_IsArray(p->stmts) ? p->stmts->child : p->stmts; s;
         s = cJSON_IsArray(p->stmts) ? s->next : NULL, i++) {
        const cJSON *cond = cJSON_GetObjectItemCaseSensitive(s, "Condition");
        if (!statement_scope(s, p, q, &dir))
            continue;
        cJSON_ArrayForEach(op, cond)
        {
            cJSON_ArrayForEach(key, op)
            {
                if (key->string && ctx_count(q, key->string, strlen(key->string)) == 0 &&
                    x->missing)
                    x->missing(x->ud, key->string);
            }
        }
        if (conditions_hold(cond, p, q) && x->matched)
            x->matched(x->ud, i,
                       strcmp(cJSON_GetObjectItemCaseSensitive(s, "Effect")->valuestring, "Deny") ==
                           0);
    }
}

enum iam_decision iam_policy_eval(const struct iam_policy *p, const struct iam_request *q,
                                  bool *direct)
{
    enum iam_decision d = IAM_IMPLICIT_DENY;
    const cJSON *s;
    bool dir;

    if (direct)
        *direct = false;
    if (!p)
        return d;
    for (s = cJSON_IsArray(p->stmts) ? p->stmts->child : p->stmts; s;
         s = cJSON_IsArray(p->stmts) ? s->next : NULL) {
        if (!statement_applies(s, p, q, &dir))
            continue;
        if (strcmp(cJSON_GetObjectItemCaseSensitive(s, "Effect")->valuestring, "Deny") == 0)
            return IAM_EXPLICIT_DENY;
        d = IAM_ALLOW;
        if (direct && dir)
            *direct = true;
    }
    return d;
}

enum iam_decision iam_eval(const struct iam_policy *const *ps, size_t n,
                           const struct iam_request *q)
{
    enum iam_decision d = IAM_IMPLICIT_DENY;

    for (size_t i = 0; i < n; i++) {
        enum iam_decision one_d = iam_policy_eval(ps[i], q, NULL);
        if (one_d == IAM_EXPLICIT_DENY)
            return one_d;
        if (one_d == IAM_ALLOW)
            d = IAM_ALLOW;
    }
    return d;
}

enum iam_decision iam_decide(const struct iam_policy_set *s, const struct iam_request *q,
                             enum iam_denier *by)
{
    enum iam_decision id, bd = IAM_ALLOW, sd = IAM_ALLOW, rd;
    bool direct = false, exempt = false;

    *by = IAM_BY_NONE;
    id = iam_eval(s->identity, s->nidentity, q);
    if (s->has_boundary)
        bd = iam_policy_eval(s->boundary, q, NULL);
    if (s->has_session)
        sd = iam_eval(s->session, s->nsession, q);
    rd = iam_policy_eval(s->resource, q, &direct);
    if (id == IAM_EXPLICIT_DENY || bd == IAM_EXPLICIT_DENY || sd == IAM_EXPLICIT_DENY ||
        rd == IAM_EXPLICIT_DENY) {
        *by = id == IAM_EXPLICIT_DENY   ? IAM_BY_IDENTITY
              : rd == IAM_EXPLICIT_DENY ? IAM_BY_RESOURCE
              : bd == IAM_EXPLICIT_DENY ? IAM_BY_BOUNDARY
                                        : IAM_BY_SESSION;
        return IAM_EXPLICIT_DENY;
    }
    if (rd == IAM_ALLOW && direct) {
        /* naming the role (or "*") grants like an identity policy; naming
         * the user or the session itself grants past boundaries and
         * session policies */
        struct iam_request sq = *q;
        sq.role_arn = NULL;
        sq.star_indirect = true;
        iam_policy_eval(s->resource, &sq, &exempt);
    }
    if (exempt)
        return IAM_ALLOW;
    if (id != IAM_ALLOW && !(rd == IAM_ALLOW && direct)) {
        *by = IAM_BY_IDENTITY;
        return IAM_IMPLICIT_DENY;
    }
    if (bd != IAM_ALLOW) {
        *by = IAM_BY_BOUNDARY;
        return IAM_IMPLICIT_DENY;
    }
    if (sd != IAM_ALLOW) {
        *by = IAM_BY_SESSION;
        return IAM_IMPLICIT_DENY;
    }
    return IAM_ALLOW;
}
