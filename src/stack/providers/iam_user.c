/* iam_user.c - aws:iam:User, UserPolicy, GroupPolicy, the three PolicyAttachment kinds,
 * AccessKey, Policy and PolicyAttachment through the IAM query API (Version 2010-05-08):
 * CreateUser / GetUser / DeleteUser, Put/Get/Delete{User,Group}Policy,
 * Attach/Detach/ListAttached{User,Role,Group}Policies for {User,Role,Group}PolicyAttachment,
 * CreateAccessKey / DeleteAccessKey, CreatePolicy / CreatePolicyVersion / GetPolicy /
 * DeletePolicyVersion / DeletePolicy, and Attach/Detach{User,Role,Group}Policy for
 * PolicyAttachment. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "stack_provider.h"

static const char *const id_only[] = {"id", NULL};

/* update for resources whose every property forces a replacement */
static enum err_code keep_update(const struct stack_target *t, const char *id, const cJSON *old_in,
                                 const cJSON *new_in, const cJSON *old_out, cJSON **out,
                                 struct err *e)
{
    (void)t;
    (void)id;
    (void)old_in;
    (void)new_in;
    (void)e;
    *out = cJSON_Duplicate(old_out, 1);
    return ERR_OK;
}

/* ---- User ---- */

static cJSON *user_outputs(const char *xml, const char *name)
{
    cJSON *o = cJSON_CreateObject();
    char *arn = stack_prov_xml_text(xml, "Arn"), *uid = stack_prov_xml_text(xml, "UserId");
    cJSON_AddStringToObject(o, "id", name);
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddStringToObject(o, "arn", arn ? arn : "");
    cJSON_AddStringToObject(o, "uniqueId", uid ? uid : "");
    free(arn);
    free(uid);
    return o;
}

static enum err_code user_create(const struct stack_target *t, const cJSON *in, bool adopt,
                                 char **id, cJSON **out, struct err *e)
{
    const char *name = stack_prov_str(in, "name", NULL);
    const char *params[64];
    char keys[20][40], code[96], *xml = NULL;
    size_t n = 0, nt = 0;
    const cJSON *tg;
    enum err_code rc;

    *id = NULL;
    *out = NULL;
    if (!name)
        return err_set(e, ERR_INVALID, "aws:iam:User needs name");
    params[n++] = "UserName";
    params[n++] = name;
    if (stack_prov_str(in, "path", NULL)) {
        params[n++] = "Path";
        params[n++] = stack_prov_str(in, "path", "/");
    }
    if (stack_prov_str(in, "permissionsBoundary", NULL)) {
        params[n++] = "PermissionsBoundary";
        params[n++] = stack_prov_str(in, "permissionsBoundary", "");
    }
    cJSON_ArrayForEach(tg, cJSON_GetObjectItem(in, "tags"))
    {
        if (nt >= 10 || !cJSON_IsString(tg))
            break;
        snprintf(keys[2 * nt], sizeof(keys[0]), "Tags.member.%zu.Key", nt + 1);
        snprintf(keys[2 * nt + 1], sizeof(keys[0]), "Tags.member.%zu.Value", nt + 1);
        params[n++] = keys[2 * nt];
        params[n++] = tg->string;
        params[n++] = keys[2 * nt + 1];
        params[n++] = tg->valuestring;
        nt++;
    }
    params[n] = NULL;
    rc = stack_prov_iam(t, "CreateUser", params, &xml, code, sizeof(code), e);
    if (rc && adopt && !strcmp(code, "EntityAlreadyExists")) {
        const char *gp[] = {"UserName", name, NULL};
        free(xml);
        xml = NULL;
        rc = stack_prov_iam(t, "GetUser", gp, &xml, NULL, 0, e);
    }
    if (rc) {
        free(xml);
        return rc;
    }
    *id = xstrdup(name);
    *out = user_outputs(xml, name);
    free(xml);
    return ERR_OK;
}

static enum err_code user_read(const struct stack_target *t, const char *id, const cJSON *in,
                               cJSON **out, bool *gone, struct err *e)
{
    const char *params[] = {"UserName", id, NULL};
    char *xml = NULL, code[96];
    enum err_code rc = stack_prov_iam(t, "GetUser", params, &xml, code, sizeof(code), e);
    (void)in;
    *out = NULL;
    *gone = rc && stack_prov_gone(code);
    if (rc && !*gone) {
        free(xml);
        return rc;
    }
    if (!*gone)
        *out = user_outputs(xml, id);
    if (*out && in == NULL) /* the provider's read: the inputs it manages too */
        stack_prov_iam_read_common(xml, *out);
    free(xml);
    return ERR_OK;
}

/* refresh, `get:` and import: beyond the outputs, the user's path, tags and boundary */
static enum err_code user_read_all(const struct stack_target *t, const char *id, const cJSON *in,
                                   cJSON **out, bool *gone, struct err *e)
{
    (void)in;
    return user_read(t, id, NULL, out, gone, e);
}

static enum err_code user_update(const struct stack_target *t, const char *id, const cJSON *old_in,
                                 const cJSON *new_in, const cJSON *old_out, cJSON **out,
                                 struct err *e)
{
    enum err_code rc;
    bool gone = false;
    (void)old_out;
    *out = NULL;
    rc = stack_prov_iam_tags(t, "User", id, cJSON_GetObjectItem(old_in, "tags"),
                             cJSON_GetObjectItem(new_in, "tags"), e);
    if (!rc)
        rc = stack_prov_iam_boundary(t, "User", id,
                                     stack_prov_str(old_in, "permissionsBoundary", NULL),
                                     stack_prov_str(new_in, "permissionsBoundary", NULL), e);
    if (rc)
        return rc;
    return user_read(t, id, new_in, out, &gone, e);
}

static enum err_code user_delete(const struct stack_target *t, const char *id, const cJSON *in,
                                 const cJSON *out, struct err *e)
{
    const char *params[] = {"UserName", id, NULL};
    char code[96];
    enum err_code rc;
    (void)out;
    if (cJSON_IsTrue(cJSON_GetObjectItem(in, "forceDestroy"))) {
        /* forceDestroy: its access keys, inline and attached policies, groups go first */
        if ((rc = stack_prov_iam_prune(t, "UserName", id, "ListAccessKeys", "AccessKeyId",
                                       "DeleteAccessKey", "AccessKeyId", NULL, e)) ||
            (rc = stack_prov_iam_prune(t, "UserName", id, "ListUserPolicies", "member",
                                       "DeleteUserPolicy", "PolicyName", NULL, e)) ||
            (rc = stack_prov_iam_prune(t, "UserName", id, "ListAttachedUserPolicies", "PolicyArn",
                                       "DetachUserPolicy", "PolicyArn", NULL, e)) ||
            (rc = stack_prov_iam_prune(t, "UserName", id, "ListGroupsForUser", "GroupName",
                                       "RemoveUserFromGroup", "GroupName", NULL, e)))
            return rc;
    }
    rc = stack_prov_iam(t, "DeleteUser", params, NULL, code, sizeof(code), e);
    return rc && stack_prov_gone(code) ? ERR_OK : rc;
}

static cJSON *user_predict(const struct stack_target *t, const cJSON *in)
{
    cJSON *o = cJSON_CreateObject();
    const char *name = stack_prov_str(in, "name", "");
    char arn[400];
    snprintf(arn, sizeof(arn), "arn:aws:iam::%s:user%s%s", t->account,
             stack_prov_str(in, "path", "/"), name);
    cJSON_AddStringToObject(o, "id", name);
    cJSON_AddStringToObject(o, "arn", arn);
    return o;
}

static const char *const user_replace[] = {"name", "path", NULL};
static const char *const user_outs[] = {"id", "arn", "uniqueId", NULL};
static const char *const user_inputs[] = {
    "name", "path", "tags", "forceDestroy", "permissionsBoundary", NULL};

const struct stack_provider stack_provider_iam_user = {
    .strings = (const char *const[]){"name", "path", NULL},
    .type = "aws:iam:User",
    .name_prop = "name",
    .name_max = 64,
    .replace_props = user_replace,
    .outputs = user_outs,
    .inputs = user_inputs,
    .create = user_create,
    .update = user_update,
    .del = user_delete,
    .read = user_read_all,
    .predict = user_predict,
};

/* ---- UserPolicy and GroupPolicy: an inline policy of one principal, id PRINCIPAL:NAME ---- */

struct inline_kind {
    const char *type;  /* the resource type, for messages */
    const char *prop;  /* the principal's input property: "user" or "group" */
    const char *param; /* its query parameter: "UserName" or "GroupName" */
    const char *put, *del, *get;
};

static const struct inline_kind user_inline = {
    "aws:iam:UserPolicy", "user", "UserName", "PutUserPolicy", "DeleteUserPolicy", "GetUserPolicy"};
static const struct inline_kind group_inline = {"aws:iam:GroupPolicy", "group",
                                                "GroupName",           "PutGroupPolicy",
                                                "DeleteGroupPolicy",   "GetGroupPolicy"};

static enum err_code inline_put(const struct inline_kind *k, const struct stack_target *t,
                                const cJSON *in, struct err *e)
{
    const char *who = stack_prov_str(in, k->prop, NULL), *name = stack_prov_str(in, "name", NULL);
    char *doc = stack_prov_policy_text(in, "policy");
    enum err_code rc;
    if (!who || !name || !doc) {
        free(doc);
        return err_set(e, ERR_INVALID, "%s needs %s and policy", k->type, k->prop);
    }
    {
        const char *params[] = {k->param, who, "PolicyName", name, "PolicyDocument", doc, NULL};
        rc = stack_prov_iam(t, k->put, params, NULL, NULL, 0, e);
    }
    free(doc);
    return rc;
}

static cJSON *inline_predict(const struct inline_kind *k, const cJSON *in)
{
    cJSON *o = cJSON_CreateObject();
    char id[300];
    snprintf(id, sizeof(id), "%s:%s", stack_prov_str(in, k->prop, ""),
             stack_prov_str(in, "name", ""));
    cJSON_AddStringToObject(o, "id", id);
    return o;
}

static enum err_code inline_create(const struct inline_kind *k, const struct stack_target *t,
                                   const cJSON *in, char **id, cJSON **out, struct err *e)
{
    enum err_code rc;
    *id = NULL;
    *out = NULL;
    if ((rc = inline_put(k, t, in, e)))
        return rc;
    *out = inline_predict(k, in);
    *id = xstrdup(stack_prov_str(*out, "id", ""));
    return ERR_OK;
}

static enum err_code inline_update(const struct inline_kind *k, const struct stack_target *t,
                                   const cJSON *new_in, cJSON **out, struct err *e)
{
    enum err_code rc;
    *out = NULL;
    if ((rc = inline_put(k, t, new_in, e)))
        return rc;
    *out = inline_predict(k, new_in);
    return ERR_OK;
}

static enum err_code inline_delete(const struct inline_kind *k, const struct stack_target *t,
                                   const cJSON *in, struct err *e)
{
    const char *params[] = {k->param, stack_prov_str(in, k->prop, ""), "PolicyName",
                            stack_prov_str(in, "name", ""), NULL};
    char code[96];
    enum err_code rc = stack_prov_iam(t, k->del, params, NULL, code, sizeof(code), e);
    return rc && stack_prov_gone(code) ? ERR_OK : rc;
}

static enum err_code inline_read(const struct inline_kind *k, const struct stack_target *t,
                                 const char *id, const cJSON *in, cJSON **out, bool *gone,
                                 struct err *e)
{
    const char *params[] = {k->param, stack_prov_str(in, k->prop, ""), "PolicyName",
                            stack_prov_str(in, "name", ""), NULL};
    char code[96], *xml = NULL;
    enum err_code rc = stack_prov_iam(t, k->get, params, &xml, code, sizeof(code), e);
    *out = NULL;
    *gone = rc && stack_prov_gone(code);
    if (!rc) {
        char *doc = stack_prov_xml_doc(xml, "PolicyDocument");
        *out = cJSON_CreateObject();
        cJSON_AddStringToObject(*out, "id", id);
        cJSON_AddStringToObject(*out, "policy", doc ? doc : "");
        free(doc);
    }
    free(xml);
    return *gone ? ERR_OK : rc;
}

/* The provider callbacks carry no provider pointer: one thin set per kind. */
#define INLINE_PROVIDER(prefix, kind, typename, principal)                                         \
    static enum err_code prefix##_create(const struct stack_target *t, const cJSON *in,            \
                                         bool adopt, char **id, cJSON **out, struct err *e)        \
    {                                                                                              \
        (void)adopt;                                                                               \
        return inline_create(&kind, t, in, id, out, e);                                            \
    }                                                                                              \
    static enum err_code prefix##_update(const struct stack_target *t, const char *id,             \
                                         const cJSON *old_in, const cJSON *new_in,                 \
                                         const cJSON *old_out, cJSON **out, struct err *e)         \
    {                                                                                              \
        (void)id;                                                                                  \
        (void)old_in;                                                                              \
        (void)old_out;                                                                             \
        return inline_update(&kind, t, new_in, out, e);                                            \
    }                                                                                              \
    static enum err_code prefix##_delete(const struct stack_target *t, const char *id,             \
                                         const cJSON *in, const cJSON *out, struct err *e)         \
    {                                                                                              \
        (void)id;                                                                                  \
        (void)out;                                                                                 \
        return inline_delete(&kind, t, in, e);                                                     \
    }                                                                                              \
    static enum err_code prefix##_read(const struct stack_target *t, const char *id,               \
                                       const cJSON *in, cJSON **out, bool *gone, struct err *e)    \
    {                                                                                              \
        return inline_read(&kind, t, id, in, out, gone, e);                                        \
    }                                                                                              \
    static cJSON *prefix##_predict(const struct stack_target *t, const cJSON *in)                  \
    {                                                                                              \
        (void)t;                                                                                   \
        return inline_predict(&kind, in);                                                          \
    }                                                                                              \
    const struct stack_provider stack_provider_iam_##prefix = {                                    \
        .strings = (const char *const[]){"name", principal, NULL},                                 \
        .type = typename,                                                                          \
        .name_prop = "name",                                                                       \
        .name_max = 128,                                                                           \
        .replace_props = (const char *const[]){principal, "name", "namePrefix", NULL},             \
        .outputs = id_only,                                                                        \
        .inputs = (const char *const[]){principal, "name", "namePrefix", "policy", NULL},          \
        .create = prefix##_create,                                                                 \
        .update = prefix##_update,                                                                 \
        .del = prefix##_delete,                                                                    \
        .read = prefix##_read,                                                                     \
        .predict = prefix##_predict,                                                               \
    }

INLINE_PROVIDER(user_policy, user_inline, "aws:iam:UserPolicy", "user");
INLINE_PROVIDER(group_policy, group_inline, "aws:iam:GroupPolicy", "group");

/* ---- RolePolicyAttachment, UserPolicyAttachment, GroupPolicyAttachment: one managed policy
 * attached to one principal; every property forces a new one ---- */

struct attach_kind {
    const char *type;   /* the resource type, for messages */
    const char *prop;   /* the principal's input property: "role" or "user" */
    const char *param;  /* its query parameter: "RoleName" or "UserName" */
    const char *attach; /* AttachRolePolicy / AttachUserPolicy */
    const char *detach; /* DetachRolePolicy / DetachUserPolicy */
    const char *list;   /* ListAttachedRolePolicies / ListAttachedUserPolicies */
};

static const struct attach_kind role_attach = {
    "aws:iam:RolePolicyAttachment", "role", "RoleName", "AttachRolePolicy", "DetachRolePolicy",
    "ListAttachedRolePolicies"};
static const struct attach_kind user_attach = {
    "aws:iam:UserPolicyAttachment", "user", "UserName", "AttachUserPolicy", "DetachUserPolicy",
    "ListAttachedUserPolicies"};
static const struct attach_kind group_attach = {
    "aws:iam:GroupPolicyAttachment", "group", "GroupName", "AttachGroupPolicy", "DetachGroupPolicy",
    "ListAttachedGroupPolicies"};

static enum err_code attach_create(const struct attach_kind *k, const struct stack_target *t,
                                   const cJSON *in, char **id, cJSON **out, struct err *e)
{
    const char *who = stack_prov_str(in, k->prop, NULL),
               *arn = stack_prov_str(in, "policyArn", NULL);
    enum err_code rc;

    *id = NULL;
    *out = NULL;
    if (!who || !arn)
        return err_set(e, ERR_INVALID, "%s needs %s and policyArn", k->type, k->prop);
    {
        const char *params[] = {k->param, who, "PolicyArn", arn, NULL};
        rc = stack_prov_iam(t, k->attach, params, NULL, NULL, 0, e);
    }
    if (rc)
        return rc;
    *id = xmalloc(strlen(who) + strlen(arn) + 2);
    sprintf(*id, "%s/%s", who, arn);
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "id", *id);
    return ERR_OK;
}

static enum err_code attach_delete(const struct attach_kind *k, const struct stack_target *t,
                                   const cJSON *in, struct err *e)
{
    const char *params[] = {k->param, stack_prov_str(in, k->prop, ""), "PolicyArn",
                            stack_prov_str(in, "policyArn", ""), NULL};
    char code[96];
    enum err_code rc = stack_prov_iam(t, k->detach, params, NULL, code, sizeof(code), e);

    return rc && stack_prov_gone(code) ? ERR_OK : rc;
}

static enum err_code attach_read(const struct attach_kind *k, const struct stack_target *t,
                                 const char *id, const cJSON *in, cJSON **out, bool *gone,
                                 struct err *e)
{
    const char *params[] = {k->param, stack_prov_str(in, k->prop, ""), NULL};
    char *xml = NULL, code[96];
    enum err_code rc = stack_prov_iam(t, k->list, params, &xml, code, sizeof(code), e);

    *out = NULL;
    *gone = (rc && stack_prov_gone(code)) ||
            (!rc && (!xml || !strstr(xml, stack_prov_str(in, "policyArn", ""))));
    free(xml);
    if (rc && !*gone)
        return rc;
    if (!*gone) {
        *out = cJSON_CreateObject();
        cJSON_AddStringToObject(*out, "id", id);
    }
    return ERR_OK;
}

static cJSON *attach_predict(const struct attach_kind *k, const cJSON *in)
{
    cJSON *o = cJSON_CreateObject();
    char id[600];

    snprintf(id, sizeof(id), "%s/%s", stack_prov_str(in, k->prop, ""),
             stack_prov_str(in, "policyArn", ""));
    cJSON_AddStringToObject(o, "id", id);
    return o;
}

/* The provider callbacks carry no provider pointer: one thin set per kind. */

static enum err_code ra_create(const struct stack_target *t, const cJSON *in, bool adopt, char **id,
                               cJSON **out, struct err *e)
{
    (void)adopt;
    return attach_create(&role_attach, t, in, id, out, e);
}

static enum err_code ra_delete(const struct stack_target *t, const char *id, const cJSON *in,
                               const cJSON *out, struct err *e)
{
    (void)id;
    (void)out;
    return attach_delete(&role_attach, t, in, e);
}

static enum err_code ra_read(const struct stack_target *t, const char *id, const cJSON *in,
                             cJSON **out, bool *gone, struct err *e)
{
    return attach_read(&role_attach, t, id, in, out, gone, e);
}

static cJSON *ra_predict(const struct stack_target *t, const cJSON *in)
{
    (void)t;
    return attach_predict(&role_attach, in);
}

static const char *const ra_replace[] = {"role", "policyArn", NULL};

const struct stack_provider stack_provider_iam_role_policy_attachment = {
    .type = "aws:iam:RolePolicyAttachment",
    .inputs = (const char *const[]){"policyArn", "role", NULL},
    .replace_props = ra_replace,
    .outputs = id_only,
    .create = ra_create,
    .update = keep_update,
    .del = ra_delete,
    .read = ra_read,
    .predict = ra_predict,
};

static enum err_code upa_create(const struct stack_target *t, const cJSON *in, bool adopt,
                                char **id, cJSON **out, struct err *e)
{
    (void)adopt;
    return attach_create(&user_attach, t, in, id, out, e);
}

static enum err_code upa_delete(const struct stack_target *t, const char *id, const cJSON *in,
                                const cJSON *out, struct err *e)
{
    (void)id;
    (void)out;
    return attach_delete(&user_attach, t, in, e);
}

static enum err_code upa_read(const struct stack_target *t, const char *id, const cJSON *in,
                              cJSON **out, bool *gone, struct err *e)
{
    return attach_read(&user_attach, t, id, in, out, gone, e);
}

static cJSON *upa_predict(const struct stack_target *t, const cJSON *in)
{
    (void)t;
    return attach_predict(&user_attach, in);
}

static const char *const upa_replace[] = {"user", "policyArn", NULL};

const struct stack_provider stack_provider_iam_user_policy_attachment = {
    .type = "aws:iam:UserPolicyAttachment",
    .replace_props = upa_replace,
    .outputs = id_only,
    .inputs = upa_replace,
    .create = upa_create,
    .update = keep_update,
    .del = upa_delete,
    .read = upa_read,
    .predict = upa_predict,
};

static enum err_code gpa_create(const struct stack_target *t, const cJSON *in, bool adopt,
                                char **id, cJSON **out, struct err *e)
{
    (void)adopt;
    return attach_create(&group_attach, t, in, id, out, e);
}

static enum err_code gpa_delete(const struct stack_target *t, const char *id, const cJSON *in,
                                const cJSON *out, struct err *e)
{
    (void)id;
    (void)out;
    return attach_delete(&group_attach, t, in, e);
}

static enum err_code gpa_read(const struct stack_target *t, const char *id, const cJSON *in,
                              cJSON **out, bool *gone, struct err *e)
{
    return attach_read(&group_attach, t, id, in, out, gone, e);
}

static cJSON *gpa_predict(const struct stack_target *t, const cJSON *in)
{
    (void)t;
    return attach_predict(&group_attach, in);
}

static const char *const gpa_replace[] = {"group", "policyArn", NULL};

const struct stack_provider stack_provider_iam_group_policy_attachment = {
    .type = "aws:iam:GroupPolicyAttachment",
    .replace_props = gpa_replace,
    .outputs = id_only,
    .inputs = gpa_replace,
    .create = gpa_create,
    .update = keep_update,
    .del = gpa_delete,
    .read = gpa_read,
    .predict = gpa_predict,
};

/* ---- AccessKey: id is the access key id; secret is an output ---- */

static enum err_code key_create(const struct stack_target *t, const cJSON *in, bool adopt,
                                char **id, cJSON **out, struct err *e)
{
    const char *user = stack_prov_str(in, "user", NULL);
    const char *params[] = {"UserName", user, NULL};
    char *xml = NULL, *kid, *sec, *st, *cd;
    enum err_code rc;
    (void)adopt;
    *id = NULL;
    *out = NULL;
    if (!user)
        return err_set(e, ERR_INVALID, "aws:iam:AccessKey needs user");
    if (cJSON_GetObjectItem(in, "pgpKey"))
        return err_set(e, ERR_INVALID, "aws:iam:AccessKey: pgpKey is not supported by Tandem");
    if ((rc = stack_prov_iam(t, "CreateAccessKey", params, &xml, NULL, 0, e))) {
        free(xml);
        return rc;
    }
    kid = stack_prov_xml_text(xml, "AccessKeyId");
    sec = stack_prov_xml_text(xml, "SecretAccessKey");
    st = stack_prov_xml_text(xml, "Status");
    cd = stack_prov_xml_text(xml, "CreateDate");
    free(xml);
    *id = xstrdup(kid ? kid : "");
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "id", kid ? kid : "");
    cJSON_AddStringToObject(*out, "secret", sec ? sec : "");
    cJSON_AddStringToObject(*out, "status", st ? st : "Active");
    cJSON_AddStringToObject(*out, "createDate", cd ? cd : "");
    free(kid);
    free(sec);
    free(st);
    free(cd);
    if (stack_prov_str(in, "status", NULL) && strcmp(stack_prov_str(in, "status", ""), "Active")) {
        const char *up[] = {
            "UserName", user, "AccessKeyId", *id, "Status", stack_prov_str(in, "status", ""), NULL};
        if ((rc = stack_prov_iam(t, "UpdateAccessKey", up, NULL, NULL, 0, e)))
            return rc;
        cJSON_ReplaceItemInObject(*out, "status",
                                  cJSON_CreateString(stack_prov_str(in, "status", "")));
    }
    return ERR_OK;
}

static enum err_code key_update(const struct stack_target *t, const char *id, const cJSON *old_in,
                                const cJSON *new_in, const cJSON *old_out, cJSON **out,
                                struct err *e)
{
    const char *st = stack_prov_str(new_in, "status", "Active");
    const char *up[] = {
        "UserName", stack_prov_str(new_in, "user", ""), "AccessKeyId", id, "Status", st, NULL};
    enum err_code rc;
    (void)old_in;
    *out = NULL;
    if ((rc = stack_prov_iam(t, "UpdateAccessKey", up, NULL, NULL, 0, e)))
        return rc;
    *out = cJSON_Duplicate(old_out, 1);
    cJSON_ReplaceItemInObject(*out, "status", cJSON_CreateString(st));
    return ERR_OK;
}

static enum err_code key_delete(const struct stack_target *t, const char *id, const cJSON *in,
                                const cJSON *out, struct err *e)
{
    const char *params[] = {"UserName", stack_prov_str(in, "user", ""), "AccessKeyId", id, NULL};
    char code[96];
    enum err_code rc = stack_prov_iam(t, "DeleteAccessKey", params, NULL, code, sizeof(code), e);
    (void)out;
    return rc && stack_prov_gone(code) ? ERR_OK : rc;
}

static enum err_code key_read(const struct stack_target *t, const char *id, const cJSON *in,
                              cJSON **out, bool *gone, struct err *e)
{
    const char *params[] = {"UserName", stack_prov_str(in, "user", ""), NULL};
    char *xml = NULL, code[96];
    enum err_code rc = stack_prov_iam(t, "ListAccessKeys", params, &xml, code, sizeof(code), e);
    *out = NULL;
    *gone = (rc && stack_prov_gone(code)) || (!rc && (!xml || !strstr(xml, id)));
    if (rc && !*gone) {
        free(xml);
        return rc;
    }
    if (!*gone) {
        const char *at = strstr(xml, id), *m = at;
        char *st;
        while (m > xml && strncmp(m, "<member>", 8) != 0) /* the key's own entry */
            m--;
        st = stack_prov_xml_text(m, "Status");
        *out = cJSON_CreateObject();
        cJSON_AddStringToObject(*out, "id", id);
        cJSON_AddStringToObject(*out, "status", st ? st : "Active");
        free(st);
    }
    free(xml);
    return ERR_OK;
}

static const char *const key_replace[] = {"user", "pgpKey", NULL};
static const char *const key_outs[] = {"id", "secret", "status", "createDate", NULL};
static const char *const key_inputs[] = {"user", "status", "pgpKey", NULL};

const struct stack_provider stack_provider_iam_access_key = {
    .type = "aws:iam:AccessKey",
    .replace_props = key_replace,
    .outputs = key_outs,
    .inputs = key_inputs,
    .secret_outputs = (const char *const[]){"secret", "sesSmtpPasswordV4", NULL},
    .create = key_create,
    .update = key_update,
    .del = key_delete,
    .read = key_read,
};

/* ---- Policy (managed): id is the ARN ---- */

static cJSON *policy_outputs(const char *xml, const cJSON *in)
{
    cJSON *o = cJSON_CreateObject();
    char *arn = stack_prov_xml_text(xml, "Arn"), *pid = stack_prov_xml_text(xml, "PolicyId");
    cJSON_AddStringToObject(o, "id", arn ? arn : "");
    cJSON_AddStringToObject(o, "arn", arn ? arn : "");
    cJSON_AddStringToObject(o, "policyId", pid ? pid : "");
    cJSON_AddStringToObject(o, "name", stack_prov_str(in, "name", ""));
    free(arn);
    free(pid);
    return o;
}

static cJSON *policy_predict(const struct stack_target *t, const cJSON *in)
{
    cJSON *o = cJSON_CreateObject();
    char arn[400];
    snprintf(arn, sizeof(arn), "arn:aws:iam::%s:policy%s%s", t->account,
             stack_prov_str(in, "path", "/"), stack_prov_str(in, "name", ""));
    cJSON_AddStringToObject(o, "id", arn);
    cJSON_AddStringToObject(o, "arn", arn);
    return o;
}

static enum err_code policy_create(const struct stack_target *t, const cJSON *in, bool adopt,
                                   char **id, cJSON **out, struct err *e)
{
    const char *name = stack_prov_str(in, "name", NULL);
    char *doc = stack_prov_policy_text(in, "policy"), *xml = NULL, code[96];
    const char *params[12];
    size_t n = 0;
    enum err_code rc;

    *id = NULL;
    *out = NULL;
    if (!name || !doc) {
        free(doc);
        return err_set(e, ERR_INVALID, "aws:iam:Policy needs name and policy");
    }
    params[n++] = "PolicyName";
    params[n++] = name;
    params[n++] = "PolicyDocument";
    params[n++] = doc;
    if (stack_prov_str(in, "path", NULL)) {
        params[n++] = "Path";
        params[n++] = stack_prov_str(in, "path", "/");
    }
    if (stack_prov_str(in, "description", NULL)) {
        params[n++] = "Description";
        params[n++] = stack_prov_str(in, "description", "");
    }
    params[n] = NULL;
    rc = stack_prov_iam(t, "CreatePolicy", params, &xml, code, sizeof(code), e);
    free(doc);
    if (rc && adopt && !strcmp(code, "EntityAlreadyExists")) {
        cJSON *p = policy_predict(t, in);
        const char *gp[] = {"PolicyArn", stack_prov_str(p, "arn", ""), NULL};
        free(xml);
        xml = NULL;
        rc = stack_prov_iam(t, "GetPolicy", gp, &xml, NULL, 0, e);
        cJSON_Delete(p);
    }
    if (rc) {
        free(xml);
        return rc;
    }
    *out = policy_outputs(xml, in);
    *id = xstrdup(stack_prov_str(*out, "arn", ""));
    free(xml);
    return ERR_OK;
}

/* the versions that are not the default one, oldest first */
static void delete_old_versions(const struct stack_target *t, const char *arn, int keep,
                                struct err *e)
{
    const char *params[] = {"PolicyArn", arn, NULL};
    char *xml = NULL;
    char *ids[8];
    int n = 0;
    if (stack_prov_iam(t, "ListPolicyVersions", params, &xml, NULL, 0, e) != ERR_OK) {
        free(xml);
        return;
    }
    for (const char *p = xml; p && (p = strstr(p, "<member>")) && n < 8; p++) {
        const char *end = strstr(p, "</member>");
        const char *def = strstr(p, "<IsDefaultVersion>true");
        if (def && end && def < end)
            continue;
        ids[n++] = stack_prov_xml_text(p, "VersionId");
    }
    free(xml);
    for (int i = 0; i < n; i++) {
        if (i < n - keep && ids[i]) {
            const char *dp[] = {"PolicyArn", arn, "VersionId", ids[i], NULL};
            stack_prov_iam(t, "DeletePolicyVersion", dp, NULL, NULL, 0, e);
        }
        free(ids[i]);
    }
}

static enum err_code policy_update(const struct stack_target *t, const char *id,
                                   const cJSON *old_in, const cJSON *new_in, const cJSON *old_out,
                                   cJSON **out, struct err *e)
{
    char *od = stack_prov_policy_text(old_in, "policy"),
         *nd = stack_prov_policy_text(new_in, "policy");
    enum err_code rc = ERR_OK;
    *out = NULL;
    if (nd && (!od || strcmp(od, nd))) {
        const char *params[] = {"PolicyArn", id,  "PolicyDocument", nd, "SetAsDefault",
                                "true",      NULL};
        delete_old_versions(t, id, 3, e); /* IAM keeps at most five */
        rc = stack_prov_iam(t, "CreatePolicyVersion", params, NULL, NULL, 0, e);
    }
    free(od);
    free(nd);
    if (rc)
        return rc;
    *out = cJSON_Duplicate(old_out, 1);
    return ERR_OK;
}

static enum err_code policy_delete(const struct stack_target *t, const char *id, const cJSON *in,
                                   const cJSON *out, struct err *e)
{
    const char *params[] = {"PolicyArn", id, NULL};
    char code[96];
    enum err_code rc;
    (void)in;
    (void)out;
    delete_old_versions(t, id, 0, e);
    rc = stack_prov_iam(t, "DeletePolicy", params, NULL, code, sizeof(code), e);
    return rc && stack_prov_gone(code) ? ERR_OK : rc;
}

static enum err_code policy_read(const struct stack_target *t, const char *id, const cJSON *in,
                                 cJSON **out, bool *gone, struct err *e)
{
    const char *params[] = {"PolicyArn", id, NULL};
    char *xml = NULL, code[96];
    enum err_code rc = stack_prov_iam(t, "GetPolicy", params, &xml, code, sizeof(code), e);
    *out = NULL;
    *gone = rc && stack_prov_gone(code);
    if (rc && !*gone) {
        free(xml);
        return rc;
    }
    if (!*gone) {
        char *path = stack_prov_xml_text(xml, "Path"),
             *desc = stack_prov_xml_text(xml, "Description");
        char *ver = stack_prov_xml_text(xml, "DefaultVersionId"), *pname, *vxml = NULL, *doc;
        const char *vp[] = {"PolicyArn", id, "VersionId", ver ? ver : "v1", NULL};
        *out = policy_outputs(xml, in);
        pname = stack_prov_xml_text(xml, "PolicyName");
        cJSON_AddStringToObject(*out, "name", pname ? pname : "");
        cJSON_AddStringToObject(*out, "path", path ? path : "/");
        cJSON_AddStringToObject(*out, "description", desc ? desc : "");
        cJSON_AddItemToObject(*out, "tags", stack_prov_xml_tags(xml, "Tags"));
        free(pname);
        free(path);
        free(desc);
        rc = stack_prov_iam(t, "GetPolicyVersion", vp, &vxml, NULL, 0, e);
        free(ver);
        doc = stack_prov_xml_doc(vxml, "Document");
        if (doc)
            cJSON_AddStringToObject(*out, "policy", doc);
        free(doc);
        free(vxml);
        if (rc) {
            cJSON_Delete(*out);
            *out = NULL;
        }
    }
    free(xml);
    return *gone ? ERR_OK : rc;
}

static const char *const policy_replace[] = {"name", "namePrefix", "path", "description", NULL};
static const char *const policy_outs[] = {"id", "arn", "policyId", NULL};
static const char *const policy_inputs[] = {"name",   "namePrefix", "path", "description",
                                            "policy", "tags",       NULL};

const struct stack_provider stack_provider_iam_policy = {
    .strings = (const char *const[]){"name", "path", "description", NULL},
    .type = "aws:iam:Policy",
    .name_prop = "name",
    .name_max = 128,
    .replace_props = policy_replace,
    .outputs = policy_outs,
    .inputs = policy_inputs,
    .create = policy_create,
    .update = policy_update,
    .del = policy_delete,
    .read = policy_read,
    .predict = policy_predict,
};

/* ---- PolicyAttachment: one policy to users, roles and groups ---- */

static enum err_code pa_each(const struct stack_target *t, const cJSON *in, bool attach,
                             struct err *e)
{
    static const struct {
        const char *prop, *param, *attach, *detach;
    } kinds[] = {{"users", "UserName", "AttachUserPolicy", "DetachUserPolicy"},
                 {"roles", "RoleName", "AttachRolePolicy", "DetachRolePolicy"},
                 {"groups", "GroupName", "AttachGroupPolicy", "DetachGroupPolicy"}};
    const char *arn = stack_prov_str(in, "policyArn", "");
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItem(in, kinds[k].prop))
        {
            const char *params[] = {kinds[k].param, cJSON_IsString(it) ? it->valuestring : "",
                                    "PolicyArn", arn, NULL};
            char code[96];
            enum err_code rc = stack_prov_iam(t, attach ? kinds[k].attach : kinds[k].detach, params,
                                              NULL, code, sizeof(code), e);
            if (rc && !(!attach && stack_prov_gone(code)))
                return rc;
        }
    }
    return ERR_OK;
}

static enum err_code pa_create(const struct stack_target *t, const cJSON *in, bool adopt, char **id,
                               cJSON **out, struct err *e)
{
    enum err_code rc;
    (void)adopt;
    *id = NULL;
    *out = NULL;
    if (!stack_prov_str(in, "policyArn", NULL))
        return err_set(e, ERR_INVALID, "aws:iam:PolicyAttachment needs policyArn");
    if ((rc = pa_each(t, in, true, e)))
        return rc;
    *id = xstrdup(stack_prov_str(in, "name", "attachment"));
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "id", *id);
    return ERR_OK;
}

static enum err_code pa_update(const struct stack_target *t, const char *id, const cJSON *old_in,
                               const cJSON *new_in, const cJSON *old_out, cJSON **out,
                               struct err *e)
{
    enum err_code rc;
    (void)id;
    *out = NULL;
    if ((rc = pa_each(t, old_in, false, e)) || (rc = pa_each(t, new_in, true, e)))
        return rc;
    *out = cJSON_Duplicate(old_out, 1);
    return ERR_OK;
}

static enum err_code pa_delete(const struct stack_target *t, const char *id, const cJSON *in,
                               const cJSON *out, struct err *e)
{
    (void)id;
    (void)out;
    return pa_each(t, in, false, e);
}

/* The users, roles and groups the program lists that have the policy attached (others
 * attached outside the stack are left alone, so they are not read as the resource's). */
static enum err_code pa_read(const struct stack_target *t, const char *id, const cJSON *in,
                             cJSON **out, bool *gone, struct err *e)
{
    static const char *const kinds[][2] = {
        {"users", "UserName"}, {"roles", "RoleName"}, {"groups", "GroupName"}};
    const char *params[] = {"PolicyArn", stack_prov_str(in, "policyArn", ""), "MaxItems", "1000",
                            NULL};
    char *xml = NULL, code[96];
    enum err_code rc =
        stack_prov_iam(t, "ListEntitiesForPolicy", params, &xml, code, sizeof(code), e);
    *out = NULL;
    *gone = rc && stack_prov_gone(code);
    if (!rc) {
        *out = cJSON_CreateObject();
        cJSON_AddStringToObject(*out, "id", id);
        cJSON_AddStringToObject(*out, "policyArn", stack_prov_str(in, "policyArn", ""));
        for (size_t k = 0; k < 3; k++) {
            cJSON *names = stack_prov_xml_all(xml, kinds[k][1]);
            cJSON *have = cJSON_AddArrayToObject(*out, kinds[k][0]);
            const cJSON *n;
            cJSON_ArrayForEach(n, cJSON_GetObjectItem(in, kinds[k][0]))
            {
                if (cJSON_IsString(n) && stack_prov_has_str(names, n->valuestring))
                    cJSON_AddItemToArray(have, cJSON_CreateString(n->valuestring));
            }
            cJSON_Delete(names);
        }
    }
    free(xml);
    return *gone ? ERR_OK : rc;
}

static const char *const pa_replace[] = {"name", "policyArn", NULL};
static const char *const pa_inputs[] = {"name", "policyArn", "users", "roles", "groups", NULL};

const struct stack_provider stack_provider_iam_policy_attachment = {
    .type = "aws:iam:PolicyAttachment",
    .name_prop = "name",
    .name_max = 128,
    .replace_props = pa_replace,
    .outputs = id_only,
    .inputs = pa_inputs,
    .create = pa_create,
    .update = pa_update,
    .del = pa_delete,
    .read = pa_read,
};
