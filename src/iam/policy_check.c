/* policy_check.c - an identity policy's document checked as IAM checks it,
 * in IAM's order and with its words (as recorded against AWS by LocalStack's
 * test_iam_policies snapshots):
 *
 *  1. shape: JSON types, known elements, Effect one of Allow/Deny in any
 *     case, conditions that are maps of maps: "Syntax errors in policy.";
 *  2. for managed policies, a Version of 2012-10-17 ("Policy document must
 *     be version 2012-10-17 or greater.");
 *  3. what IAM's older parser refuses: an Effect not spelled Allow/Deny, a
 *     Date condition value that is not a date, an ARN of 4 or 5 parts or
 *     without a service: "The policy failed legacy parsing";
 *  4. unique Sids, then statement by statement: actions and resources
 *     present, every resource an ARN of a known partition (with IAM's and
 *     S3's rules on regions and IAM's resource paths), every action
 *     VENDOR:NAME.
 *
 * IAM does not check that a vendor or an action exists, nor that condition
 * keys have a vendor. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "iam_policy.h"

static const char SYNTAX[] = "Syntax errors in policy.";
static const char LEGACY[] = "The policy failed legacy parsing";

static enum err_code bad(struct err *e, const char *msg)
{
    return err_set(e, ERR_INVALID, "%s", msg);
}

/* ---- 1. shape ---- */

/* strs - absent, a string, or an array of strings (empty allowed) */
static bool strs(const cJSON *v)
{
    const cJSON *x;

    if (!v || cJSON_IsString(v))
        return true;
    if (!cJSON_IsArray(v))
        return false;
    cJSON_ArrayForEach(x, v) if (!cJSON_IsString(x)) return false;
    return true;
}

static bool scalar(const cJSON *v)
{
    return cJSON_IsString(v) || cJSON_IsNumber(v) || cJSON_IsBool(v);
}

static bool condition_shape_ok(const cJSON *c)
{
    const cJSON *op, *key, *v;

    if (!c)
        return true;
    if (!cJSON_IsObject(c))
        return false;
    cJSON_ArrayForEach(op, c)
    {
        if (!cJSON_IsObject(op))
            return false;
        /* an operator IAM does not know is refused only once it names keys */
        if (op->child && iam_policy_op_class(op->string) == IAM_OP_UNKNOWN)
            return false;
        cJSON_ArrayForEach(key, op)
        {
            if (scalar(key))
                continue;
            if (!cJSON_IsArray(key))
                return false;
            cJSON_ArrayForEach(v, key) if (!scalar(v)) return false;
        }
    }
    return true;
}

static bool no_duplicate_members(const cJSON *o)
{
    for (const cJSON *x = o->child; x; x = x->next)
        for (const cJSON *y = x->next; y; y = y->next)
            if (strcmp(x->string, y->string) == 0)
                return false;
    return true;
}

static bool statement_shape_ok(const cJSON *s)
{
    static const char *const known[] = {"Sid",       "Effect",       "Action",
                                        "NotAction", "Resource",     "NotResource",
                                        "Principal", "NotPrincipal", "Condition"};
    const cJSON *x, *effect;

    if (!cJSON_IsObject(s) || !no_duplicate_members(s))
        return false;
    cJSON_ArrayForEach(x, s)
    {
        bool ok = false;
        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
            ok |= strcmp(x->string, known[i]) == 0;
        if (!ok)
            return false;
    }
    x = cJSON_GetObjectItemCaseSensitive(s, "Sid");
    if (x && !cJSON_IsString(x))
        return false;
    effect = cJSON_GetObjectItemCaseSensitive(s, "Effect");
    if (!cJSON_IsString(effect) || (strcasecmp(effect->valuestring, "Allow") != 0 &&
                                    strcasecmp(effect->valuestring, "Deny") != 0))
        return false;
    if ((cJSON_HasObjectItem(s, "Action") && cJSON_HasObjectItem(s, "NotAction")) ||
        (cJSON_HasObjectItem(s, "Resource") && cJSON_HasObjectItem(s, "NotResource")) ||
        (cJSON_HasObjectItem(s, "Principal") && cJSON_HasObjectItem(s, "NotPrincipal")))
        return false;
    return strs(cJSON_GetObjectItemCaseSensitive(s, "Action")) &&
           strs(cJSON_GetObjectItemCaseSensitive(s, "NotAction")) &&
           strs(cJSON_GetObjectItemCaseSensitive(s, "Resource")) &&
           strs(cJSON_GetObjectItemCaseSensitive(s, "NotResource")) &&
           condition_shape_ok(cJSON_GetObjectItemCaseSensitive(s, "Condition"));
}

static bool shape_ok(const cJSON *root)
{
    const cJSON *x, *stmts, *ver;

    if (!cJSON_IsObject(root) || !no_duplicate_members(root))
        return false;
    cJSON_ArrayForEach(x, root)
    {
        if (strcmp(x->string, "Version") != 0 && strcmp(x->string, "Statement") != 0 &&
            strcmp(x->string, "Id") != 0)
            return false;
    }
    x = cJSON_GetObjectItemCaseSensitive(root, "Id");
    if (x && !cJSON_IsString(x))
        return false;
    ver = cJSON_GetObjectItemCaseSensitive(root, "Version");
    if (ver && (!cJSON_IsString(ver) || (strcmp(ver->valuestring, "2012-10-17") != 0 &&
                                         strcmp(ver->valuestring, "2008-10-17") != 0)))
        return false;
    stmts = cJSON_GetObjectItemCaseSensitive(root, "Statement");
    if (cJSON_IsObject(stmts))
        return statement_shape_ok(stmts);
    if (!cJSON_IsArray(stmts) || !stmts->child)
        return false;
    cJSON_ArrayForEach(x, stmts) if (!statement_shape_ok(x)) return false;
    return true;
}

/* ---- 3. legacy ---- */

/* digits - up to @max digits at *@p (at least @min) as a number, or -1 */
static long digits(const char **p, int min, int max)
{
    long v = 0;
    int n = 0;

    while (n < max && isdigit((unsigned char)**p)) {
        v = v * 10 + (**p - '0');
        (*p)++;
        n++;
    }
    return n >= min ? v : -1;
}

/* time_ok - HH[:mm[:ss[.fff]]] and an optional offset (Z, +HH, +HHmm, +HH:mm) */
static bool time_ok(const char **pp)
{
    const char *p = *pp;
    long v;

    if (isdigit((unsigned char)*p)) {
        if ((v = digits(&p, 1, 2)) < 0 || v > 23)
            return false;
        if (*p == ':') {
            p++;
            if ((v = digits(&p, 1, 2)) < 0 || v > 59)
                return false;
            if (*p == ':') {
                p++;
                if ((v = digits(&p, 1, 2)) < 0 || v > 59)
                    return false;
                if (*p == '.' || *p == ',') {
                    p++;
                    if (digits(&p, 1, 9) < 0 || isdigit((unsigned char)*p))
                        return false;
                }
            }
        }
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        p++;
        if ((v = digits(&p, 2, 2)) < 0 || v > 23 || isdigit((unsigned char)*p))
            return false;
        if (*p == ':')
            p++;
        if (isdigit((unsigned char)*p) && ((v = digits(&p, 2, 2)) < 0 || v > 59))
            return false;
    }
    *pp = p;
    return true;
}

/* date_ok - a Date condition value IAM takes: seconds since the epoch (a
 * 64-bit integer), or ISO 8601 as its parser reads it: YYYY[-MM[-DD]],
 * then T and an optional time, in either case ("01T", "2016-12-13t2:00:00Z") */
static bool date_ok(const cJSON *v)
{
    const char *s, *p;
    long m;

    if (cJSON_IsNumber(v) || cJSON_IsBool(v))
        return cJSON_IsNumber(v);
    s = v->valuestring;
    if (strstr(s, "${")) /* a policy variable: known only when evaluated */
        return true;
    p = s + (*s == '-');
    if (*p && strspn(p, "0123456789") == strlen(p)) {
        errno = 0;
        (void)strtoll(s, NULL, 10);
        return errno != ERANGE;
    }
    p = s;
    if (*p == 'T' || *p == 't') {
        p++;
        return time_ok(&p) && !*p;
    }
    if (*p == '+' || *p == '-')
        p++;
    if (digits(&p, 1, 9) < 0)
        return false;
    if (*p == '-') {
        p++;
        if ((m = digits(&p, 1, 2)) < 1 || m > 12)
            return false;
        if (*p == '-') {
            p++;
            if ((m = digits(&p, 1, 2)) < 1 || m > 31)
                return false;
        }
    }
    if (*p == 'T' || *p == 't') {
        p++;
        if (!time_ok(&p))
            return false;
    }
    return !*p;
}

static bool partition_ok(const char *p, size_t n)
{
    static const char *const parts[] = {"aws",       "aws-cn",    "aws-us-gov", "aws-iso",
                                        "aws-iso-b", "aws-iso-e", "aws-iso-f",  "aws-eusc"};

    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
        if (strlen(parts[i]) == n && strncmp(parts[i], p, n) == 0)
            return true;
    return false;
}

/* The colon-separated parts of a resource (the sixth keeps later colons). */
struct arn_parts {
    const char *at[6];
    size_t len[6];
    int n; /* how many colons split it, plus one */
};

static void arn_split(const char *s, struct arn_parts *a)
{
    const char *c;

    a->n = 0;
    while (a->n < 5 && (c = strchr(s, ':'))) {
        a->at[a->n] = s;
        a->len[a->n++] = (size_t)(c - s);
        s = c + 1;
    }
    a->at[a->n] = s;
    a->len[a->n++] = strlen(s);
    for (const char *x = s; (x = strchr(x, ':')); x++)
        a->n++;
}

static bool arn_legacy_ok(const char *r)
{
    struct arn_parts a;

    if (strncmp(r, "arn:", 4) != 0)
        return true;
    arn_split(r, &a);
    if (a.n < 2 || !partition_ok(a.at[1], a.len[1]))
        return true; /* the partition's own error comes later */
    if (a.n == 4 || a.n == 5)
        return false;
    return !(a.n >= 6 && a.len[2] == 0);
}

static bool all_strs(const cJSON *v, bool (*ok)(const char *))
{
    const cJSON *x;

    if (cJSON_IsString(v))
        return ok(v->valuestring);
    cJSON_ArrayForEach(x, v) if (cJSON_IsString(x) && !ok(x->valuestring)) return false;
    return true;
}

static bool statement_legacy_ok(const cJSON *s)
{
    const char *effect = cJSON_GetObjectItemCaseSensitive(s, "Effect")->valuestring;
    const cJSON *op, *key, *v;

    if (strcmp(effect, "Allow") != 0 && strcmp(effect, "Deny") != 0)
        return false;
    cJSON_ArrayForEach(op, cJSON_GetObjectItemCaseSensitive(s, "Condition"))
    {
        if (iam_policy_op_class(op->string) != IAM_OP_DATE)
            continue;
        cJSON_ArrayForEach(key, op)
        {
            if (!cJSON_IsArray(key)) {
                if (!date_ok(key))
                    return false;
                continue;
            }
            cJSON_ArrayForEach(v, key) if (!date_ok(v)) return false;
        }
    }
    return all_strs(cJSON_GetObjectItemCaseSensitive(s, "Resource"), arn_legacy_ok) &&
           all_strs(cJSON_GetObjectItemCaseSensitive(s, "NotResource"), arn_legacy_ok);
}

/* ---- 4. statement by statement ---- */

static bool present(const cJSON *v)
{
    return v && (cJSON_IsString(v) || cJSON_GetArraySize(v) > 0);
}

static enum err_code check_resource(const char *r, struct err *e)
{
    static const char *const iam_paths[] = {"user/",
                                            "federated-user/",
                                            "role/",
                                            "group/",
                                            "instance-profile/",
                                            "mfa/",
                                            "server-certificate/",
                                            "policy/",
                                            "sms-mfa/",
                                            "saml-provider/",
                                            "oidc-provider/",
                                            "report/",
                                            "access-report/"};
    struct arn_parts a;
    const char *res;
    bool path_ok;

    if (strcmp(r, "*") == 0)
        return ERR_OK;
    if (!strchr(r, ':'))
        return err_set(e, ERR_INVALID, "Resource %.300s must be in ARN format or \"*\".", r);
    arn_split(r, &a);
    if (!partition_ok(a.at[1], a.len[1])) {
        /* IAM names the resource as it read it: "arn", then the parts
         * given after the first, padded to six with "*" */
        char shown[600];
        int n = snprintf(shown, sizeof(shown), "arn:%.500s", a.at[1]);
        for (int i = a.n; i < 6 && n > 0 && (size_t)n < sizeof(shown); i++)
            n += snprintf(shown + n, sizeof(shown) - (size_t)n, ":*");
        return err_set(e, ERR_INVALID, "Partition \"%.*s\" is not valid for resource \"%s\".",
                       (int)(a.len[1] > 100 ? 100 : a.len[1]), a.at[1], shown);
    }
    if (a.n < 3 || a.len[2] == 0 || memchr(a.at[2], '*', a.len[2]) ||
        memchr(a.at[2], '?', a.len[2]))
        return bad(e, "Resource vendor must be fully qualified and cannot contain regexes.");
    if (a.n < 6)
        return ERR_OK;
    if (a.len[2] == 3 && strncmp(a.at[2], "iam", 3) == 0) {
        if (a.len[3])
            return err_set(e, ERR_INVALID, "IAM resource %.300s cannot contain region information.",
                           r);
        res = a.at[5];
        path_ok = strcmp(res, "*") == 0 || strcmp(res, "root") == 0 || strstr(res, "${");
        for (size_t i = 0; i < sizeof(iam_paths) / sizeof(iam_paths[0]) && !path_ok; i++)
            path_ok = strncmp(res, iam_paths[i], strlen(iam_paths[i])) == 0 || *res == '*';
        if (!path_ok)
            return bad(e, "IAM resource path must either be \"*\", root, or start with user/, "
                          "federated-user/, role/, group/, instance-profile/, mfa/, "
                          "server-certificate/, policy/, sms-mfa/, saml-provider/, "
                          "oidc-provider/, report/, access-report/.");
    }
    /* S3 names buckets without a region; access points (with an account) have one */
    if (a.len[2] == 2 && strncmp(a.at[2], "s3", 2) == 0 && a.len[3] && !a.len[4])
        return err_set(e, ERR_INVALID, "Resource %.300s can not contain region information.", r);
    return ERR_OK;
}

static enum err_code check_action(const char *s, struct err *e)
{
    const char *colon = strchr(s, ':');
    size_t n;

    if (strcmp(s, "*") == 0)
        return ERR_OK;
    if (!colon || colon == s)
        return bad(e, "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.");
    if (strchr(colon + 1, ':'))
        return bad(e, "Actions/Condition can contain only one colon.");
    n = (size_t)(colon - s);
    if (strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.*?") < n)
        return err_set(e, ERR_INVALID, "Vendor %.*s is not valid", (int)(n > 100 ? 100 : n), s);
    return ERR_OK;
}

static enum err_code each(const cJSON *v, enum err_code (*fn)(const char *, struct err *),
                          struct err *e)
{
    const cJSON *x;
    enum err_code rc;

    if (cJSON_IsString(v))
        return fn(v->valuestring, e);
    cJSON_ArrayForEach(x, v) if ((rc = fn(x->valuestring, e))) return rc;
    return ERR_OK;
}

static enum err_code statement_check(const cJSON *s, struct err *e)
{
    const cJSON *act = cJSON_GetObjectItemCaseSensitive(s, "Action");
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(s, "Resource");
    const cJSON *sid = cJSON_GetObjectItemCaseSensitive(s, "Sid");
    enum err_code rc;

    if (!act)
        act = cJSON_GetObjectItemCaseSensitive(s, "NotAction");
    if (!res)
        res = cJSON_GetObjectItemCaseSensitive(s, "NotResource");
    if (sid && strspn(sid->valuestring, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                        "0123456789 ") != strlen(sid->valuestring))
        return bad(e, "Statement IDs (SID) must be alpha-numeric. Check that your input "
                      "satisfies the regular expression [0-9A-Za-z]*");
    if (!present(act))
        return bad(e, "Policy statement must contain actions.");
    if (!present(res))
        return bad(e, "Policy statement must contain resources.");
    if (cJSON_HasObjectItem(s, "Principal") || cJSON_HasObjectItem(s, "NotPrincipal"))
        return bad(e, "Policy document should not specify a principal.");
    if ((rc = each(res, check_resource, e)))
        return rc;
    return each(act, check_action, e);
}

enum err_code iam_policy_check_identity(const cJSON *root, bool managed, struct err *e)
{
    const cJSON *stmts, *ver, *x, *y, *list;
    enum err_code rc;

    if (!shape_ok(root))
        return bad(e, SYNTAX);
    ver = cJSON_GetObjectItemCaseSensitive(root, "Version");
    if (managed && (!ver || strcmp(ver->valuestring, "2012-10-17") != 0))
        return bad(e, "Policy document must be version 2012-10-17 or greater.");
    stmts = cJSON_GetObjectItemCaseSensitive(root, "Statement");
    list = cJSON_IsArray(stmts) ? stmts->child : stmts;
    for (x = list; x; x = cJSON_IsArray(stmts) ? x->next : NULL)
        if (!statement_legacy_ok(x))
            return bad(e, LEGACY);
    for (x = list; x && cJSON_IsArray(stmts); x = x->next) {
        const cJSON *sid = cJSON_GetObjectItemCaseSensitive(x, "Sid");
        if (!sid || !*sid->valuestring)
            continue;
        for (y = x->next; y; y = y->next) {
            const cJSON *other = cJSON_GetObjectItemCaseSensitive(y, "Sid");
            if (other && strcmp(other->valuestring, sid->valuestring) == 0)
                return bad(e, "Statement IDs (SID) in a single policy must be unique.");
        }
    }
    for (x = list; x; x = cJSON_IsArray(stmts) ? x->next : NULL)
        if ((rc = statement_check(x, e)))
            return rc;
    return ERR_OK;
}
