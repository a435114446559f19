/* api.c - the IAM query API: users, access keys, roles, inline and managed
 * policies, iam_attachments, tags. See iam.h.
 *
 * Every entity is one JSON document in META ("iam/user/NAME",
 * "iam/role/NAME", "iam/policy/NAME", "iam/key/AKID"). Reads use a read
 * snapshot on the request thread; every change is one store_write whose apply
 * re-reads the documents it changes on the writer thread, so concurrent
 * changes to one entity never lose each other. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "clock.h"
#include "iam_int.h"
#include "log.h"
#include "mem.h"

/* ---- validation ---- */

static bool name_ok(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;

    return n >= 1 && n <= max &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+=,.@_-") == n;
}

/* iam_need_name - the parameter @p as an IAM name, or NULL after answering. */
const char *iam_need_name(struct iam_call *c, const char *p, size_t max)
{
    const char *v = iam_param(c, p);
    char lc[64];

    snprintf(lc, sizeof(lc), "%s", p);
    lc[0] = (char)(lc[0] - 'A' + 'a');
    if (!v) {
        iam_fail(c, 400, "ValidationError",
                 "1 validation error detected: Value null at '%s' failed to satisfy constraint: "
                 "Member must not be null",
                 lc);
        return NULL;
    }
    if (!name_ok(v, max)) {
        iam_fail(c, 400, "ValidationError",
                 "1 validation error detected: Value '%.200s' at '%s' failed to satisfy "
                 "constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+ and "
                 "have length between 1 and %zu",
                 v, lc, max);
        return NULL;
    }
    return v;
}

/* iam_check_doc - @json as a policy of @kind within @max counted characters;
 * answers and returns false when it is not. @what names the quota. */
bool iam_check_doc(struct iam_call *c, const char *json, enum iam_policy_kind kind, size_t max,
                   const char *over_msg)
{
    struct iam_policy *p = NULL;
    struct err e = {0};

    if (!json) {
        iam_fail(c, 400, "ValidationError",
                 "1 validation error detected: Value null at 'policyDocument' failed to satisfy "
                 "constraint: Member must not be null");
        return false;
    }
    if (iam_policy_size(json) > max) {
        iam_fail(c, 409, "LimitExceeded", "%s", over_msg);
        return false;
    }
    if (iam_policy_parse(json, strlen(json), kind, &p, &e) != ERR_OK) {
        iam_fail(c, 400, "MalformedPolicyDocument", "%s", e.msg);
        return false;
    }
    iam_policy_free(p);
    return true;
}

/* The parameter naming an entity of @kind ("user", "role", "group"), its
 * longest name, and the quota of its inline policies. */
static const char *name_param(const char *kind)
{
    return strcmp(kind, "user") == 0   ? "UserName"
           : strcmp(kind, "role") == 0 ? "RoleName"
                                       : "GroupName";
}

static size_t name_max(const char *kind)
{
    return strcmp(kind, "group") == 0 ? 128 : 64;
}

static int inline_max(const char *kind)
{
    return strcmp(kind, "user") == 0   ? MAX_USER_INLINE
           : strcmp(kind, "role") == 0 ? MAX_ROLE_INLINE
                                       : MAX_GROUP_INLINE;
}

/* ---- entities as XML ---- */

void iam_xml_boundary(struct buf *b, const cJSON *doc)
{
    if (!*iam_jstr(doc, "PermissionsBoundary"))
        return;
    /* IAM answers "Policy" here, though its model names the value
     * "PermissionsBoundaryPolicy" */
    buf_puts(b, "<PermissionsBoundary><PermissionsBoundaryType>Policy</PermissionsBoundaryType>");
    xmlw_elem(b, "PermissionsBoundaryArn", iam_jstr(doc, "PermissionsBoundary"), 0);
    buf_puts(b, "</PermissionsBoundary>");
}

void iam_xml_user(struct buf *b, const cJSON *u, const char *elem)
{
    buf_printf(b, "<%s>", elem);
    xmlw_elem(b, "Path", iam_jstr(u, "Path"), 0);
    xmlw_elem(b, "UserName", iam_jstr(u, "UserName"), 0);
    xmlw_elem(b, "UserId", iam_jstr(u, "UserId"), 0);
    xmlw_elem(b, "Arn", iam_jstr(u, "Arn"), 0);
    xmlw_elem(b, "CreateDate", iam_jstr(u, "CreateDate"), 0);
    /* listed users (ListUsers, GetGroup) come without boundary and tags */
    if (strcmp(elem, "member") != 0) {
        iam_xml_boundary(b, u);
        iam_xml_tags(b, u, false);
    }
    buf_printf(b, "</%s>", elem);
}

void iam_xml_group(struct buf *b, const cJSON *g, const char *elem)
{
    buf_printf(b, "<%s>", elem);
    xmlw_elem(b, "Path", iam_jstr(g, "Path"), 0);
    xmlw_elem(b, "GroupName", iam_jstr(g, "GroupName"), 0);
    xmlw_elem(b, "GroupId", iam_jstr(g, "GroupId"), 0);
    xmlw_elem(b, "Arn", iam_jstr(g, "Arn"), 0);
    xmlw_elem(b, "CreateDate", iam_jstr(g, "CreateDate"), 0);
    buf_printf(b, "</%s>", elem);
}

/* What a role looks like in each answer, as IAM gives it: CreateRole (and
 * UpdateRoleDescription, with its Description) leaves out the description,
 * MaxSessionDuration and RoleLastUsed; ListRoles leaves out RoleLastUsed,
 * the permissions boundary and the tags; GetRole has them all. */
enum role_view { ROLE_CREATED, ROLE_DESCRIBED, ROLE_GOT, ROLE_LISTED };

static void xml_role(struct buf *b, const cJSON *r, const char *elem, enum role_view v)
{
    const cJSON *max = cJSON_GetObjectItemCaseSensitive(r, "MaxSessionDuration");

    buf_printf(b, "<%s>", elem);
    xmlw_elem(b, "Path", iam_jstr(r, "Path"), 0);
    xmlw_elem(b, "RoleName", iam_jstr(r, "RoleName"), 0);
    xmlw_elem(b, "RoleId", iam_jstr(r, "RoleId"), 0);
    xmlw_elem(b, "Arn", iam_jstr(r, "Arn"), 0);
    xmlw_elem(b, "CreateDate", iam_jstr(r, "CreateDate"), 0);
    iam_xml_urlenc(b, "AssumeRolePolicyDocument", iam_jstr(r, "AssumeRolePolicyDocument"));
    if (v != ROLE_CREATED && *iam_jstr(r, "Description"))
        xmlw_elem(b, "Description", iam_jstr(r, "Description"), 0);
    if (v == ROLE_GOT || v == ROLE_LISTED)
        buf_printf(b, "<MaxSessionDuration>%d</MaxSessionDuration>", max ? max->valueint : 3600);
    if (v != ROLE_LISTED) {
        iam_xml_boundary(b, r);
        iam_xml_tags(b, r, false);
    }
    if (v == ROLE_GOT)
        buf_puts(b, "<RoleLastUsed/>");
    buf_printf(b, "</%s>", elem);
}

void iam_xml_role_listed(struct buf *b, const cJSON *r, const char *elem)
{
    xml_role(b, r, elem, ROLE_LISTED);
}

/* ---- operations ---- */

/* iam_caller_user - the UserName parameter, defaulting to the caller (as IAM
 * does for GetUser, CreateAccessKey, ListAccessKeys). */
const char *iam_caller_user(struct iam_call *c)
{
    const char *u = iam_param(c, "UserName");

    if (u)
        return iam_need_name(c, "UserName", 64);
    /* the root and role sessions are not users: IAM wants the name */
    if (c->who->root || !strstr(c->who->arn, ":user/")) {
        iam_fail(c, 400, "ValidationError",
                 "Must specify userName when calling with non-User credentials");
        return NULL;
    }
    return c->who->user;
}

/* key_owner - whose access keys a key operation is about: the UserName
 * parameter, else the caller; "" for the account root's own keys (a root
 * caller without UserName, as IAM lets the root user manage its keys). */
static const char *key_owner(struct iam_call *c)
{
    if (!iam_param(c, "UserName") && c->who->root && !*c->who->session_token)
        return "";
    return iam_caller_user(c);
}

char *iam_arn_of(struct iam_call *c, const char *kind, const char *path, const char *name)
{
    return arena_sprintf(c->r->arena, "arn:aws:iam::%s:%s%s%s", c->iam->account, kind,
                         path ? path : "/", name);
}

const char *iam_path_param(struct iam_call *c)
{
    const char *p = iam_param(c, "Path");

    if (!p)
        return "/";
    if (p[0] != '/' || p[strlen(p) - 1] != '/' || strlen(p) > 512) {
        iam_fail(c, 400, "ValidationError",
                 "1 validation error detected: Value '%.200s' at 'path' failed to satisfy "
                 "constraint: Member must satisfy regular expression pattern: "
                 "(\\u002F)|(\\u002F[\\u0021-\\u007F]+\\u002F)",
                 p);
        return NULL;
    }
    return p;
}

static void op_create_entity(struct iam_call *c, const char *kind)
{
    bool user = strcmp(kind, "user") == 0, group = strcmp(kind, "group") == 0, bad;
    const char *name = iam_need_name(c, name_param(kind), name_max(kind)), *path;
    const char *trust = NULL, *desc = iam_param(c, "Description"), *max, *boundary = NULL;
    cJSON *doc, *tags;
    struct iam_write w = {.op = W_CREATE, .kind = kind};
    char id[32], now[32];
    struct buf b;
    long msd = 3600;

    if (!name || !(path = iam_path_param(c)))
        return;
    if (!iam_allowed(c,
                     user    ? "iam:CreateUser"
                     : group ? "iam:CreateGroup"
                             : "iam:CreateRole",
                     iam_arn_of(c, kind, path, name)))
        return;
    if (!user && !group) {
        trust = iam_param(c, "AssumeRolePolicyDocument");
        if (!iam_check_doc(c, trust, IAM_POLICY_TRUST, MAX_TRUST,
                           "Cannot exceed quota for ACLSizePerRole: 2048"))
            return;
        if ((max = iam_param(c, "MaxSessionDuration"))) {
            char *end;
            msd = strtol(max, &end, 10);
            if (*end || msd < 3600 || msd > 43200) {
                iam_fail(c, 400, "ValidationError",
                         "1 validation error detected: Value '%.40s' at 'maxSessionDuration' "
                         "failed to satisfy constraint: Member must have value between 3600 and "
                         "43200",
                         max);
                return;
            }
        }
        if (!iam_boundary_param(c, &boundary))
            return;
    }
    if (user && !iam_boundary_param(c, &boundary))
        return;
    tags = group ? cJSON_CreateArray() : iam_parse_tags(c, &bad);
    if (!group && bad)
        return;
    iam_random_id(id, user ? "AIDA" : group ? "AGPA" : "AROA", 17, UPPER_ALNUM);
    iam_now_iso(now, 0);
    doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "Path", path);
    cJSON_AddStringToObject(doc, name_param(kind), name);
    cJSON_AddStringToObject(doc, user ? "UserId" : group ? "GroupId" : "RoleId", id);
    cJSON_AddStringToObject(doc, "Arn", iam_arn_of(c, kind, path, name));
    cJSON_AddStringToObject(doc, "CreateDate", now);
    if (!user && !group) {
        cJSON_AddStringToObject(doc, "AssumeRolePolicyDocument", trust);
        cJSON_AddNumberToObject(doc, "MaxSessionDuration", (double)msd);
        if (desc)
            cJSON_AddStringToObject(doc, "Description", desc);
    }
    if (boundary)
        cJSON_AddStringToObject(doc, "PermissionsBoundary", boundary);
    if (group)
        cJSON_Delete(tags);
    else
        cJSON_AddItemToObject(doc, "Tags", tags);
    w.name = name;
    w.doc = doc;
    if (iam_write(c, &w)) {
        buf_init(&b, 0);
        if (user)
            iam_xml_user(&b, doc, "User");
        else if (group)
            iam_xml_group(&b, doc, "Group");
        else
            xml_role(&b, doc, "Role", ROLE_CREATED);
        iam_reply(c, b.ptr);
        buf_free(&b);
    }
    cJSON_Delete(doc);
}

/* iam_load - the document of @kind/@name, or NULL after answering NoSuchEntity. */
cJSON *iam_load(struct iam_call *c, const char *kind, const char *name)
{
    cJSON *doc = NULL;
    struct err e = {0};
    enum err_code rc = iam_doc_get(c->iam, kind, name, &doc, &e);

    if (rc == ERR_NOTFOUND)
        iam_missing(&e, kind, name);
    if (rc) {
        iam_fail_err(c, rc, &e);
        return NULL;
    }
    return doc;
}

static void op_get_entity(struct iam_call *c, const char *kind)
{
    bool user = strcmp(kind, "user") == 0;
    const char *name = user ? iam_caller_user(c) : iam_need_name(c, "RoleName", 64);
    cJSON *doc;
    struct buf b;

    if (!name)
        return;
    if (!iam_allowed(c, user ? "iam:GetUser" : "iam:GetRole", iam_arn_of(c, kind, "/", name)))
        return;
    if (!(doc = iam_load(c, kind, name)))
        return;
    buf_init(&b, 0);
    if (user)
        iam_xml_user(&b, doc, "User");
    else
        xml_role(&b, doc, "Role", ROLE_GOT);
    iam_reply(c, b.ptr);
    buf_free(&b);
    cJSON_Delete(doc);
}

static void op_simple_write(struct iam_call *c, const char *kind, enum iam_wop op,
                            const char *action, const char *a_param, const char *b_param)
{
    const char *name = iam_need_name(c, name_param(kind), name_max(kind));
    struct iam_write w = {.op = op, .kind = kind};

    if (!name)
        return;
    w.name = name;
    if (a_param && !(w.a = (strcmp(a_param, "PolicyName") == 0 ? iam_need_name(c, a_param, 128)
                                                               : iam_param(c, a_param)))) {
        if (strcmp(a_param, "PolicyName") != 0)
            iam_fail(c, 400, "ValidationError",
                     "1 validation error detected: Value null at '%s' failed to satisfy "
                     "constraint: Member must not be null",
                     a_param);
        return;
    }
    if (b_param)
        w.b = iam_param(c, b_param);
    if (!iam_allowed(c, action, iam_arn_of(c, kind, "/", name)))
        return;
    if (op == W_PUT_INLINE) {
        char over[160];
        snprintf(over, sizeof(over), "Maximum policy size of %d bytes exceeded for %s %s",
                 inline_max(kind), kind, name);
        if (!iam_check_doc(c, w.b, IAM_POLICY_IDENTITY, (size_t)inline_max(kind), over))
            return;
    }
    if (op == W_TRUST && !iam_check_doc(c, w.a, IAM_POLICY_TRUST, MAX_TRUST,
                                        "Cannot exceed quota for ACLSizePerRole: 2048"))
        return;
    if (op == W_ATTACH || op == W_DETACH || op == W_BOUNDARY) {
        if (op == W_BOUNDARY ? !iam_policy_arn_ok(w.a) : strncmp(w.a, "arn:", 4) != 0) {
            iam_fail(c, 400, op == W_BOUNDARY ? "InvalidInput" : "ValidationError",
                     "ARN %.200s is not valid.", w.a);
            return;
        }
    }
    if (iam_write(c, &w))
        iam_reply(c, NULL);
}

static void op_delete_entity(struct iam_call *c, const char *kind)
{
    op_simple_write(c, kind, W_DELETE,
                    strcmp(kind, "user") == 0 ? "iam:DeleteUser" : "iam:DeleteRole", NULL, NULL);
}

struct list_acc {
    struct iam_call *c;
    struct buf *b;
    const char *kind;
    const char *prefix;
    const char *scope;
    bool only_attached;
    const char *user; /* keys */
};

static void list_one(cJSON *doc, void *arg)
{
    struct list_acc *la = arg;

    if (la->prefix && strncmp(iam_jstr(doc, "Path"), la->prefix, strlen(la->prefix)) != 0)
        return;
    if (strcmp(la->kind, "user") == 0)
        iam_xml_user(la->b, doc, "member");
    else if (strcmp(la->kind, "role") == 0)
        xml_role(la->b, doc, "member", ROLE_LISTED);
    else if (strcmp(la->kind, "group") == 0)
        iam_xml_group(la->b, doc, "member");
    else if (strcmp(la->kind, "policy") == 0) {
        if (la->only_attached && iam_attachments(la->c->iam, iam_jstr(doc, "Arn")) == 0)
            return;
        iam_xml_policy(la->c->iam, la->b, doc, "member", IAM_POLICY_LISTED);
    } else if (strcasecmp(iam_jstr(doc, "UserName"), la->user) == 0) {
        buf_puts(la->b, "<member>");
        if (*la->user)
            xmlw_elem(la->b, "UserName", iam_jstr(doc, "UserName"), 0);
        xmlw_elem(la->b, "AccessKeyId", iam_jstr(doc, "AccessKeyId"), 0);
        xmlw_elem(la->b, "Status", iam_jstr(doc, "Status"), 0);
        xmlw_elem(la->b, "CreateDate", iam_jstr(doc, "CreateDate"), 0);
        buf_puts(la->b, "</member>");
    }
}

/* IAM lists users, roles, groups and inline policy names in name order
 * without regard to case. */
static int cmp_names(const char *a, const char *b)
{
    int d = strcasecmp(a, b);

    return d ? d : strcmp(a, b);
}

static const char *list_name(const cJSON *doc)
{
    const char *n = iam_jstr(doc, "UserName");

    if (!*n)
        n = iam_jstr(doc, "RoleName");
    if (!*n)
        n = iam_jstr(doc, "GroupName");
    return n;
}

static int cmp_docs(const void *a, const void *b)
{
    return cmp_names(list_name(*(const cJSON *const *)a), list_name(*(const cJSON *const *)b));
}

static int cmp_members(const void *a, const void *b)
{
    return cmp_names((*(const cJSON *const *)a)->string, (*(const cJSON *const *)b)->string);
}

static void collect_doc(cJSON *doc, void *arg)
{
    cJSON_AddItemToArray(arg, cJSON_Duplicate(doc, true));
}

/* each_sorted - @fn on every child of @arr, sorted with @cmp */
static void each_sorted(cJSON *arr, int (*cmp)(const void *, const void *),
                        void (*fn)(cJSON *, void *), void *arg)
{
    int n = cJSON_GetArraySize(arr), i = 0;
    cJSON **v, *x;

    if (n <= 0)
        return;
    v = xcalloc((size_t)n, sizeof(*v));
    cJSON_ArrayForEach(x, arr) v[i++] = x;
    qsort(v, (size_t)n, sizeof(*v), cmp);
    for (i = 0; i < n; i++)
        fn(v[i], arg);
    free(v);
}

static void op_list(struct iam_call *c, const char *kind, const char *action, const char *elem)
{
    struct buf b;
    struct err e = {0};
    struct list_acc la = {c,     &b,  kind, iam_param(c, "PathPrefix"), iam_param(c, "Scope"),
                          false, NULL};
    enum err_code rc;

    if (strcmp(kind, "key") == 0) {
        if (!(la.user = key_owner(c)))
            return;
        if (!iam_allowed(c, action, iam_arn_of(c, "user", "/", la.user)))
            return;
        cJSON *u = *la.user ? iam_load(c, "user", la.user) : NULL;
        if (*la.user && !u)
            return;
        cJSON_Delete(u);
    } else if (!iam_allowed(c, action, "*")) {
        return;
    }
    la.only_attached =
        iam_param(c, "OnlyAttached") && strcmp(iam_param(c, "OnlyAttached"), "true") == 0;
    buf_init(&b, 0);
    buf_printf(&b, "<%s>", elem);
    if (strcmp(kind, "policy") == 0 && (!la.scope || strcmp(la.scope, "Local") != 0)) {
        const struct iam_managed *m;
        for (size_t i = 0; (m = iam_managed_at(i)); i++) {
            cJSON *d = iam_managed_doc(m);
            list_one(d, &la);
            cJSON_Delete(d);
        }
    }
    if (strcmp(kind, "user") == 0 || strcmp(kind, "role") == 0 || strcmp(kind, "group") == 0) {
        cJSON *all = cJSON_CreateArray();
        rc = iam_doc_each(c->iam, kind, collect_doc, all, &e);
        if (rc == ERR_OK)
            each_sorted(all, cmp_docs, list_one, &la);
        cJSON_Delete(all);
    } else if (strcmp(kind, "policy") != 0 || !la.scope || strcmp(la.scope, "AWS") != 0)
        rc = iam_doc_each(c->iam, kind, list_one, &la, &e);
    else
        rc = ERR_OK;
    buf_printf(&b, "</%s><IsTruncated>false</IsTruncated>", elem);
    if (rc)
        iam_fail_err(c, rc, &e);
    else
        iam_reply_page(c, b.ptr);
    buf_free(&b);
}

static void op_get_inline(struct iam_call *c, const char *kind)
{
    bool user = strcmp(kind, "user") == 0, group = strcmp(kind, "group") == 0;
    const char *name = iam_need_name(c, name_param(kind), name_max(kind));
    const char *pname = name ? iam_need_name(c, "PolicyName", 128) : NULL;
    const cJSON *p;
    cJSON *doc;
    struct buf b;

    if (!pname || !iam_allowed(c,
                               user    ? "iam:GetUserPolicy"
                               : group ? "iam:GetGroupPolicy"
                                       : "iam:GetRolePolicy",
                               iam_arn_of(c, kind, "/", name)))
        return;
    if (!(doc = iam_load(c, kind, name)))
        return;
    p = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "Policies"), pname);
    if (!cJSON_IsString(p)) {
        iam_fail(c, 404, "NoSuchEntity", "The %s policy with name %s cannot be found.", kind,
                 pname);
    } else {
        buf_init(&b, 0);
        xmlw_elem(&b, name_param(kind), name, 0);
        xmlw_elem(&b, "PolicyName", pname, 0);
        iam_xml_urlenc(&b, "PolicyDocument", p->valuestring);
        iam_reply(c, b.ptr);
        buf_free(&b);
    }
    cJSON_Delete(doc);
}

static void xml_member(cJSON *x, void *arg)
{
    xmlw_elem(arg, "member", x->string, 0);
}

static void op_list_of_entity(struct iam_call *c, const char *kind, const char *action, int what)
{
    const char *name = iam_need_name(c, name_param(kind), name_max(kind));
    const cJSON *x;
    cJSON *doc;
    struct buf b;

    if (!name || !iam_allowed(c, action, iam_arn_of(c, kind, "/", name)))
        return;
    if (!(doc = iam_load(c, kind, name)))
        return;
    buf_init(&b, 0);
    if (what == 0) { /* inline policy names */
        buf_puts(&b, "<PolicyNames>");
        each_sorted(cJSON_GetObjectItemCaseSensitive(doc, "Policies"), cmp_members, xml_member, &b);
        buf_puts(&b, "</PolicyNames>");
    } else if (what == 1) { /* attached */
        buf_puts(&b, "<AttachedPolicies>");
        cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(doc, "Attached"))
        {
            buf_puts(&b, "<member>");
            xmlw_elem(&b, "PolicyName", iam_policy_name_of(x->valuestring), 0);
            xmlw_elem(&b, "PolicyArn", x->valuestring, 0);
            buf_puts(&b, "</member>");
        }
        buf_puts(&b, "</AttachedPolicies>");
    } else {
        iam_xml_tags(&b, doc, true);
    }
    buf_puts(&b, "<IsTruncated>false</IsTruncated>");
    iam_reply_page(c, b.ptr);
    buf_free(&b);
    cJSON_Delete(doc);
}

static void op_tag(struct iam_call *c, const char *kind, bool untag)
{
    const char *action = untag ? (strcmp(kind, "user") == 0   ? "iam:UntagUser"
                                  : strcmp(kind, "role") == 0 ? "iam:UntagRole"
                                                              : "iam:UntagPolicy")
                               : (strcmp(kind, "user") == 0   ? "iam:TagUser"
                                  : strcmp(kind, "role") == 0 ? "iam:TagRole"
                                                              : "iam:TagPolicy");
    struct iam_write w = {.op = untag ? W_UNTAG : W_TAG, .kind = kind};
    const char *name, *res;
    bool bad = false;

    if (strcmp(kind, "policy") == 0) {
        const char *arn = iam_param(c, "PolicyArn");
        if (!arn) {
            iam_fail(c, 400, "ValidationError", "PolicyArn is required");
            return;
        }
        name = iam_policy_name_of(arn);
        w.b = arn;
        res = arn;
    } else {
        name = iam_need_name(c, strcmp(kind, "user") == 0 ? "UserName" : "RoleName", 64);
        if (!name)
            return;
        res = iam_arn_of(c, kind, "/", name);
    }
    w.name = name;
    if (!iam_allowed(c, action, res))
        return;
    if (untag) {
        if (!(w.doc = iam_parse_tag_keys(c)))
            return;
    } else {
        w.doc =
            strcmp(kind, "policy") == 0 ? iam_parse_policy_tags(c, &bad) : iam_parse_tags(c, &bad);
        if (bad)
            return;
    }
    if (strcmp(kind, "policy") == 0) {
        /* IAM's words for a policy to tag that is not there */
        cJSON *pol = NULL;
        bool found = iam_doc_get(c->iam, "policy", name, &pol, NULL) == ERR_OK &&
                     strcmp(iam_jstr(pol, "Arn"), w.b) == 0;
        cJSON_Delete(pol);
        if (!found) {
            iam_fail(c, 404, "NoSuchEntity", "Policy %.300s was not found.", w.b);
            cJSON_Delete(w.doc);
            return;
        }
    }
    if (iam_write(c, &w))
        iam_reply(c, NULL);
    cJSON_Delete(w.doc);
}

static void op_create_access_key(struct iam_call *c)
{
    const char *user = key_owner(c);
    struct iam_write w = {.op = W_KEY_CREATE, .kind = "user"};
    char akid[32], secret[48], now[32];
    struct creds_identity id;
    struct err e = {0};
    cJSON *doc;
    struct buf b;

    if (!user || !iam_allowed(c, "iam:CreateAccessKey", iam_arn_of(c, "user", "/", user)))
        return;
    iam_random_id(akid, "AKIA", 16, UPPER_ALNUM);
    iam_random_id(secret, "", 40, SECRET_CHARS);
    w.name = user;
    w.a = akid;
    w.b = secret;
    if (!*user) /* the root's own key */
        snprintf(w.out, sizeof(w.out), "arn:aws:iam::%s:root", c->iam->account);
    if (!iam_write(c, &w))
        return;
    user = w.name; /* the user's own name, whatever the case asked */
    if (!(doc = iam_load(c, "key", akid)))
        return;
    iam_creds_of(c->iam, doc, &id);
    cJSON_Delete(doc);
    if (creds_add(c->iam->creds, &id, &e) != ERR_OK) {
        iam_fail_err(c, ERR_INTERNAL, &e);
        return;
    }
    iam_now_iso(now, 0);
    buf_init(&b, 0);
    buf_puts(&b, "<AccessKey>");
    if (*user)
        xmlw_elem(&b, "UserName", user, 0);
    xmlw_elem(&b, "AccessKeyId", akid, 0);
    xmlw_elem(&b, "Status", "Active", 0);
    xmlw_elem(&b, "SecretAccessKey", secret, 0);
    xmlw_elem(&b, "CreateDate", now, 0);
    buf_puts(&b, "</AccessKey>");
    iam_reply(c, b.ptr);
    buf_free(&b);
}

static void op_delete_access_key(struct iam_call *c)
{
    const char *user = key_owner(c), *akid = iam_param(c, "AccessKeyId");
    struct iam_write w = {.op = W_KEY_DELETE, .kind = "key"};

    if (!user)
        return;
    if (!akid) {
        iam_fail(c, 400, "ValidationError",
                 "1 validation error detected: Value null at 'accessKeyId' failed to satisfy "
                 "constraint: Member must not be null");
        return;
    }
    if (!iam_allowed(c, "iam:DeleteAccessKey", iam_arn_of(c, "user", "/", user)))
        return;
    w.name = user;
    w.a = akid;
    if (!iam_write(c, &w))
        return;
    creds_remove(c->iam->creds, akid);
    iam_reply(c, NULL);
}

/* GetAccessKeyLastUsed: Tandem does not record a key's use, so a key is
 * answered as one never used (ServiceName and Region "N/A", no date); a key
 * that does not exist is AccessDenied, as IAM answers it */
static void op_access_key_last_used(struct iam_call *c)
{
    const char *akid = iam_param(c, "AccessKeyId");
    cJSON *doc = NULL;
    struct err e = {0};
    enum err_code rc;
    struct buf b;

    if (!akid) {
        iam_fail(c, 400, "ValidationError",
                 "1 validation error detected: Value null at 'accessKeyId' failed to satisfy "
                 "constraint: Member must not be null");
        return;
    }
    rc = iam_doc_get(c->iam, "key", akid, &doc, &e);
    if (rc == ERR_NOTFOUND) {
        iam_fail(c, 403, "AccessDenied",
                 "User: %s is not authorized to perform iam:GetAccessKeyLastUsed on resource: "
                 "access key %.64s",
                 c->who->arn, akid);
        return;
    }
    if (rc) {
        iam_fail_err(c, rc, &e);
        return;
    }
    if (iam_allowed(c, "iam:GetAccessKeyLastUsed",
                    iam_arn_of(c, "user", "/", iam_jstr(doc, "UserName")))) {
        buf_init(&b, 0);
        if (*iam_jstr(doc, "UserName"))
            xmlw_elem(&b, "UserName", iam_jstr(doc, "UserName"), 0);
        buf_puts(&b, "<AccessKeyLastUsed><ServiceName>N/A</ServiceName><Region>N/A</Region>"
                     "</AccessKeyLastUsed>");
        iam_reply(c, b.ptr);
        buf_free(&b);
    }
    cJSON_Delete(doc);
}

/* UpdateAccessKey: Status Active or Inactive; an inactive key authenticates nothing, in
 * any service (it leaves the credentials table until it is made active again) */
static void op_update_access_key(struct iam_call *c)
{
    const char *user = key_owner(c), *akid = iam_param(c, "AccessKeyId");
    const char *status = iam_param(c, "Status");
    struct iam_write w = {.op = W_KEY_STATUS, .kind = "key"};
    cJSON *doc;

    if (!user)
        return;
    if (!akid || !status) {
        iam_fail(c, 400, "ValidationError",
                 "1 validation error detected: Value null at '%s' failed to satisfy constraint: "
                 "Member must not be null",
                 akid ? "status" : "accessKeyId");
        return;
    }
    if (strcmp(status, "Active") && strcmp(status, "Inactive")) {
        iam_fail(c, 400, "ValidationError",
                 "1 validation error detected: Value '%.40s' at 'status' failed to satisfy "
                 "constraint: Member must satisfy enum value set: [Active, Inactive]",
                 status);
        return;
    }
    if (!iam_allowed(c, "iam:UpdateAccessKey", iam_arn_of(c, "user", "/", user)))
        return;
    w.name = user;
    w.a = akid;
    w.b = status;
    if (!iam_write(c, &w))
        return;
    if (strcmp(status, "Inactive") == 0) {
        creds_remove(c->iam->creds, akid);
    } else if ((doc = iam_load(c, "key", akid))) {
        struct creds_identity id;
        iam_creds_of(c->iam, doc, &id);
        creds_add(c->iam->creds, &id, NULL);
        cJSON_Delete(doc);
    } else {
        return; /* answered */
    }
    iam_reply(c, NULL);
}

/* UpdateRole: Description and MaxSessionDuration, each only when given;
 * UpdateRoleDescription (@describe): Description only, required, and the
 * role is answered */
static void op_update_role(struct iam_call *c, bool describe)
{
    const char *name = iam_need_name(c, "RoleName", 64), *max = NULL;
    struct iam_write w = {.op = W_ROLE_UPDATE, .kind = "role"};
    cJSON *doc;
    struct buf b;

    if (!name)
        return;
    if (!describe && (max = iam_param(c, "MaxSessionDuration"))) {
        char *end;
        long msd = strtol(max, &end, 10);
        if (*end || end == max || msd < 3600 || msd > 43200) {
            iam_fail(c, 400, "ValidationError",
                     "1 validation error detected: Value '%.40s' at 'maxSessionDuration' failed "
                     "to satisfy constraint: Member must have value between 3600 and 43200",
                     max);
            return;
        }
    }
    w.a = iam_param(c, "Description");
    if (describe && !w.a) {
        iam_fail(c, 400, "ValidationError",
                 "1 validation error detected: Value null at 'description' failed to satisfy "
                 "constraint: Member must not be null");
        return;
    }
    if (w.a && strlen(w.a) > 1000) {
        iam_fail(c, 400, "ValidationError",
                 "1 validation error detected: Value at 'description' failed to satisfy "
                 "constraint: Member must have length less than or equal to 1000");
        return;
    }
    if (!iam_allowed(c, "iam:UpdateRole", iam_arn_of(c, "role", "/", name)))
        return;
    w.name = name;
    w.b = max;
    if (!iam_write(c, &w))
        return;
    if (!describe) {
        iam_reply(c, ""); /* UpdateRoleResponse is an (empty) result */
        return;
    }
    if (!(doc = iam_load(c, "role", w.name)))
        return;
    buf_init(&b, 0);
    xml_role(&b, doc, "Role", ROLE_DESCRIBED);
    iam_reply(c, b.ptr);
    buf_free(&b);
    cJSON_Delete(doc);
}

/* ---- dispatch ---- */

/* is_read - IAM's reads (Get*, List*, Simulate*, the credential report) are served from the
 * region's copy. */
static bool is_read(const char *action)
{
    return strncmp(action, "Get", 3) == 0 || strncmp(action, "List", 4) == 0 ||
           strncmp(action, "Simulate", 8) == 0 ||
           strcmp(action, "GenerateCredentialReport") == 0; /* made by each region */
}

void iam_handle(struct iam *iam, struct http_req *r, const struct creds_identity *who)
{
    struct iam_call c;

    if (!iam_call_init(&c, iam, r, who, false))
        return;
    /* a federated user session cannot call IAM (IAM User Guide, "Compare
     * AWS STS credentials") */
    if (who && iam_federated_name(who->arn)) {
        iam_fail(&c, 403, "AccessDenied", "Cannot call %.64s with session credentials", c.action);
        return;
    }
    if (!iam->home && !is_read(c.action))
        iam_defer(&c, iam_forward);
    else
        iam_dispatch(&c);
}

void iam_dispatch(struct iam_call *cp)
{
    struct iam_call c = *cp;
    const char *a = c.action;

#define IS(x) (strcmp(a, x) == 0)
    if (IS("CreateUser"))
        op_create_entity(&c, "user");
    else if (IS("GetUser"))
        op_get_entity(&c, "user");
    else if (IS("DeleteUser"))
        op_delete_entity(&c, "user");
    else if (IS("ListUsers"))
        op_list(&c, "user", "iam:ListUsers", "Users");
    else if (IS("CreateRole"))
        op_create_entity(&c, "role");
    else if (IS("GetRole"))
        op_get_entity(&c, "role");
    else if (IS("DeleteRole"))
        op_delete_entity(&c, "role");
    else if (IS("ListRoles"))
        op_list(&c, "role", "iam:ListRoles", "Roles");
    else if (IS("UpdateAssumeRolePolicy"))
        op_simple_write(&c, "role", W_TRUST, "iam:UpdateAssumeRolePolicy", "PolicyDocument", NULL);
    else if (IS("PutUserPolicy"))
        op_simple_write(&c, "user", W_PUT_INLINE, "iam:PutUserPolicy", "PolicyName",
                        "PolicyDocument");
    else if (IS("PutRolePolicy"))
        op_simple_write(&c, "role", W_PUT_INLINE, "iam:PutRolePolicy", "PolicyName",
                        "PolicyDocument");
    else if (IS("GetUserPolicy"))
        op_get_inline(&c, "user");
    else if (IS("GetRolePolicy"))
        op_get_inline(&c, "role");
    else if (IS("DeleteUserPolicy"))
        op_simple_write(&c, "user", W_DEL_INLINE, "iam:DeleteUserPolicy", "PolicyName", NULL);
    else if (IS("DeleteRolePolicy"))
        op_simple_write(&c, "role", W_DEL_INLINE, "iam:DeleteRolePolicy", "PolicyName", NULL);
    else if (IS("ListUserPolicies"))
        op_list_of_entity(&c, "user", "iam:ListUserPolicies", 0);
    else if (IS("ListRolePolicies"))
        op_list_of_entity(&c, "role", "iam:ListRolePolicies", 0);
    else if (IS("AttachUserPolicy"))
        op_simple_write(&c, "user", W_ATTACH, "iam:AttachUserPolicy", "PolicyArn", NULL);
    else if (IS("AttachRolePolicy"))
        op_simple_write(&c, "role", W_ATTACH, "iam:AttachRolePolicy", "PolicyArn", NULL);
    else if (IS("DetachUserPolicy"))
        op_simple_write(&c, "user", W_DETACH, "iam:DetachUserPolicy", "PolicyArn", NULL);
    else if (IS("DetachRolePolicy"))
        op_simple_write(&c, "role", W_DETACH, "iam:DetachRolePolicy", "PolicyArn", NULL);
    else if (IS("ListAttachedUserPolicies"))
        op_list_of_entity(&c, "user", "iam:ListAttachedUserPolicies", 1);
    else if (IS("ListAttachedRolePolicies"))
        op_list_of_entity(&c, "role", "iam:ListAttachedRolePolicies", 1);
    else if (IS("TagUser"))
        op_tag(&c, "user", false);
    else if (IS("UntagUser"))
        op_tag(&c, "user", true);
    else if (IS("ListUserTags"))
        op_list_of_entity(&c, "user", "iam:ListUserTags", 2);
    else if (IS("TagRole"))
        op_tag(&c, "role", false);
    else if (IS("UntagRole"))
        op_tag(&c, "role", true);
    else if (IS("ListRoleTags"))
        op_list_of_entity(&c, "role", "iam:ListRoleTags", 2);
    else if (IS("ListPolicyTags"))
        iam_op_list_policy_tags(&c);
    else if (IS("TagPolicy"))
        op_tag(&c, "policy", false);
    else if (IS("UntagPolicy"))
        op_tag(&c, "policy", true);
    else if (IS("CreatePolicy"))
        iam_op_create_policy(&c);
    else if (IS("GetPolicy"))
        iam_op_get_policy(&c);
    else if (IS("DeletePolicy"))
        iam_op_policy_write(&c, W_DELETE, "iam:DeletePolicy");
    else if (IS("ListPolicies"))
        op_list(&c, "policy", "iam:ListPolicies", "Policies");
    else if (IS("CreatePolicyVersion"))
        iam_op_policy_write(&c, W_NEW_VERSION, "iam:CreatePolicyVersion");
    else if (IS("DeletePolicyVersion"))
        iam_op_policy_write(&c, W_DEL_VERSION, "iam:DeletePolicyVersion");
    else if (IS("SetDefaultPolicyVersion"))
        iam_op_policy_write(&c, W_SET_DEFAULT, "iam:SetDefaultPolicyVersion");
    else if (IS("GetPolicyVersion"))
        iam_op_policy_versions(&c, true);
    else if (IS("ListPolicyVersions"))
        iam_op_policy_versions(&c, false);
    else if (IS("CreateGroup"))
        op_create_entity(&c, "group");
    else if (IS("GetGroup"))
        iam_op_get_group(&c);
    else if (IS("DeleteGroup"))
        op_simple_write(&c, "group", W_DELETE, "iam:DeleteGroup", NULL, NULL);
    else if (IS("ListGroups"))
        op_list(&c, "group", "iam:ListGroups", "Groups");
    else if (IS("AddUserToGroup"))
        iam_op_membership(&c, true);
    else if (IS("RemoveUserFromGroup"))
        iam_op_membership(&c, false);
    else if (IS("ListGroupsForUser"))
        iam_op_groups_for_user(&c);
    else if (IS("PutGroupPolicy"))
        op_simple_write(&c, "group", W_PUT_INLINE, "iam:PutGroupPolicy", "PolicyName",
                        "PolicyDocument");
    else if (IS("GetGroupPolicy"))
        op_get_inline(&c, "group");
    else if (IS("DeleteGroupPolicy"))
        op_simple_write(&c, "group", W_DEL_INLINE, "iam:DeleteGroupPolicy", "PolicyName", NULL);
    else if (IS("ListGroupPolicies"))
        op_list_of_entity(&c, "group", "iam:ListGroupPolicies", 0);
    else if (IS("AttachGroupPolicy"))
        op_simple_write(&c, "group", W_ATTACH, "iam:AttachGroupPolicy", "PolicyArn", NULL);
    else if (IS("DetachGroupPolicy"))
        op_simple_write(&c, "group", W_DETACH, "iam:DetachGroupPolicy", "PolicyArn", NULL);
    else if (IS("ListAttachedGroupPolicies"))
        op_list_of_entity(&c, "group", "iam:ListAttachedGroupPolicies", 1);
    else if (IS("ListEntitiesForPolicy"))
        iam_op_entities_for_policy(&c);
    else if (IS("GetAccountAuthorizationDetails"))
        iam_op_authorization_details(&c);
    else if (IS("GetAccountSummary"))
        iam_op_account_summary(&c);
    else if (IS("GenerateCredentialReport"))
        iam_op_credential_report(&c, true);
    else if (IS("GetCredentialReport"))
        iam_op_credential_report(&c, false);
    else if (IS("GetContextKeysForPrincipalPolicy"))
        iam_op_context_keys(&c, true);
    else if (IS("GetContextKeysForCustomPolicy"))
        iam_op_context_keys(&c, false);
    else if (IS("SimulatePrincipalPolicy"))
        iam_op_simulate(&c, true);
    else if (IS("SimulateCustomPolicy"))
        iam_op_simulate(&c, false);
    else if (IS("PutUserPermissionsBoundary"))
        op_simple_write(&c, "user", W_BOUNDARY, "iam:PutUserPermissionsBoundary",
                        "PermissionsBoundary", NULL);
    else if (IS("PutRolePermissionsBoundary"))
        op_simple_write(&c, "role", W_BOUNDARY, "iam:PutRolePermissionsBoundary",
                        "PermissionsBoundary", NULL);
    else if (IS("DeleteUserPermissionsBoundary"))
        op_simple_write(&c, "user", W_BOUNDARY_DEL, "iam:DeleteUserPermissionsBoundary", NULL,
                        NULL);
    else if (IS("DeleteRolePermissionsBoundary"))
        op_simple_write(&c, "role", W_BOUNDARY_DEL, "iam:DeleteRolePermissionsBoundary", NULL,
                        NULL);
    else if (IS("CreateAccessKey"))
        op_create_access_key(&c);
    else if (IS("DeleteAccessKey"))
        op_delete_access_key(&c);
    else if (IS("UpdateAccessKey"))
        op_update_access_key(&c);
    else if (IS("UpdateUser"))
        iam_op_update_entity(&c, "user");
    else if (IS("UpdateGroup"))
        iam_op_update_entity(&c, "group");
    else if (IS("UpdateRole"))
        op_update_role(&c, false);
    else if (IS("UpdateRoleDescription"))
        op_update_role(&c, true);
    else if (IS("GetAccessKeyLastUsed"))
        op_access_key_last_used(&c);
    else if (IS("ListAccessKeys"))
        op_list(&c, "key", "iam:ListAccessKeys", "AccessKeyMetadata");
    else if (!iam_oidc_dispatch(&c, a) && !iam_op_profiles(&c) && !iam_op_absent(&c))
        iam_fail(&c, 400, "InvalidAction", "Could not find operation %.64s for version 2010-05-08",
                 a);
#undef IS
}
