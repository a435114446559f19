/* iam.c - aws:iam:Role, RolePolicy and RolePolicyAttachment through the IAM
 * query API (Version 2010-05-08): CreateRole / GetRole / UpdateAssumeRolePolicy /
 * DeleteRole, PutRolePolicy / GetRolePolicy / DeleteRolePolicy,
 * (RolePolicyAttachment lives with the other attachments in iam_user.c). IAM is global; requests
 * are signed for the region of the resource's provider, which Tandem's identity service answers in
 * every region. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "stack_provider.h"

/* ---- Role ---- */

static cJSON *role_outputs(const char *xml, const char *name)
{
    cJSON *o = cJSON_CreateObject();
    char *arn = stack_prov_xml_text(xml, "Arn"), *rid = stack_prov_xml_text(xml, "RoleId");
    char *cd = stack_prov_xml_text(xml, "CreateDate");
    cJSON_AddStringToObject(o, "id", name);
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddStringToObject(o, "arn", arn ? arn : "");
    cJSON_AddStringToObject(o, "uniqueId", rid ? rid : "");
    cJSON_AddStringToObject(o, "createDate", cd ? cd : "");
    free(arn);
    free(rid);
    free(cd);
    return o;
}

static enum err_code get_role(const struct stack_target *t, const char *name, char **xml,
                              struct err *e)
{
    const char *params[] = {"RoleName", name, NULL};
    char code[96];
    enum err_code rc = stack_prov_iam(t, "GetRole", params, xml, code, sizeof(code), e);
    if (rc && stack_prov_gone(code))
        rc = ERR_NOTFOUND;
    return rc;
}

static enum err_code put_inline(const struct stack_target *t, const char *role, const cJSON *p,
                                struct err *e)
{
    char *doc = stack_prov_policy_text(p, "policy");
    const char *params[] = {
        "RoleName",       role,           "PolicyName", stack_prov_str(p, "name", ""),
        "PolicyDocument", doc ? doc : "", NULL};
    enum err_code rc = stack_prov_iam(t, "PutRolePolicy", params, NULL, NULL, 0, e);
    free(doc);
    return rc;
}

/* managedPolicyArns and inlinePolicies from @was (the inputs last applied; NULL at create)
 * to @now. A program that sets one manages it exclusively, as the v6 provider does: what
 * else the role has attached or inline is removed (an empty list removes all). A property
 * taken out of the program removes what it had put there. */
static enum err_code sync_policies(const struct stack_target *t, const char *role, const cJSON *was,
                                   const cJSON *now, struct err *e)
{
    const cJSON *wm = cJSON_GetObjectItem(was, "managedPolicyArns");
    const cJSON *nm = cJSON_GetObjectItem(now, "managedPolicyArns");
    const cJSON *wi = cJSON_GetObjectItem(was, "inlinePolicies");
    const cJSON *ni = cJSON_GetObjectItem(now, "inlinePolicies");
    const cJSON *dropped_m = nm ? NULL : wm, *dropped_i = ni ? NULL : wi; /* taken out */
    const cJSON *a;
    char code[96];
    enum err_code rc;

    if (!stack_prov_same(wm, nm) || (!was && nm)) {
        if (nm)
            rc = stack_prov_iam_prune(t, "RoleName", role, "ListAttachedRolePolicies", "PolicyArn",
                                      "DetachRolePolicy", "PolicyArn", nm, e);
        else
            rc = ERR_OK;
        cJSON_ArrayForEach(a, dropped_m)
        {
            const char *params[] = {"RoleName", role, "PolicyArn", a->valuestring, NULL};
            if (!cJSON_IsString(a))
                continue;
            rc = stack_prov_iam(t, "DetachRolePolicy", params, NULL, code, sizeof(code), e);
            if (rc && !stack_prov_gone(code))
                return rc;
            rc = ERR_OK;
        }
        if (rc)
            return rc;
        cJSON_ArrayForEach(a, nm)
        {
            const char *params[] = {"RoleName", role, "PolicyArn", a->valuestring, NULL};
            if (!cJSON_IsString(a) || stack_prov_has_str(wm, a->valuestring))
                continue;
            if ((rc = stack_prov_iam(t, "AttachRolePolicy", params, NULL, NULL, 0, e)))
                return rc;
        }
    }
    if (!stack_prov_same(wi, ni) || (!was && ni)) {
        cJSON *names = cJSON_CreateArray();
        cJSON_ArrayForEach(a, ni)
        {
            if (stack_prov_str(a, "name", NULL))
                cJSON_AddItemToArray(names, cJSON_CreateString(stack_prov_str(a, "name", "")));
        }
        if (ni)
            rc = stack_prov_iam_prune(t, "RoleName", role, "ListRolePolicies", "member",
                                      "DeleteRolePolicy", "PolicyName", names, e);
        else
            rc = ERR_OK;
        cJSON_Delete(names);
        cJSON_ArrayForEach(a, dropped_i)
        {
            const char *params[] = {"RoleName", role, "PolicyName", stack_prov_str(a, "name", ""),
                                    NULL};
            if (rc || !stack_prov_str(a, "name", NULL))
                continue;
            rc = stack_prov_iam(t, "DeleteRolePolicy", params, NULL, code, sizeof(code), e);
            if (rc && stack_prov_gone(code))
                rc = ERR_OK;
        }
        if (rc)
            return rc;
        cJSON_ArrayForEach(a, ni)
        {
            const cJSON *old = stack_prov_named(wi, stack_prov_str(a, "name", ""));
            if (!stack_prov_str(a, "name", NULL) || (old && stack_prov_same(old, a)))
                continue;
            if ((rc = put_inline(t, role, a, e)))
                return rc;
        }
    }
    return ERR_OK;
}

static enum err_code role_create(const struct stack_target *t, const cJSON *in, bool adopt,
                                 char **id, cJSON **out, struct err *e)
{
    const char *name = stack_prov_str(in, "name", NULL);
    char *doc = stack_prov_policy_text(in, "assumeRolePolicy"), *xml = NULL;
    const char *params[64];
    char keys[20][40], code[96], msd[24];
    size_t n = 0, nt = 0;
    const cJSON *tg;
    enum err_code rc;

    *id = NULL;
    *out = NULL;
    if (!name || !doc) {
        free(doc);
        return err_set(e, ERR_INVALID, "aws:iam:Role needs name and assumeRolePolicy");
    }
    params[n++] = "RoleName";
    params[n++] = name;
    params[n++] = "AssumeRolePolicyDocument";
    params[n++] = doc;
    if (stack_prov_str(in, "path", NULL)) {
        params[n++] = "Path";
        params[n++] = stack_prov_str(in, "path", "/");
    }
    if (stack_prov_str(in, "description", NULL)) {
        params[n++] = "Description";
        params[n++] = stack_prov_str(in, "description", "");
    }
    if (stack_prov_str(in, "permissionsBoundary", NULL)) {
        params[n++] = "PermissionsBoundary";
        params[n++] = stack_prov_str(in, "permissionsBoundary", "");
    }
    if (cJSON_IsNumber(cJSON_GetObjectItem(in, "maxSessionDuration"))) {
        snprintf(msd, sizeof(msd), "%d", cJSON_GetObjectItem(in, "maxSessionDuration")->valueint);
        params[n++] = "MaxSessionDuration";
        params[n++] = msd;
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
    rc = stack_prov_iam(t, "CreateRole", params, &xml, code, sizeof(code), e);
    free(doc);
    if (rc && adopt && !strcmp(code, "EntityAlreadyExists"))
        rc = get_role(t, name, &xml, e);
    if (rc) {
        free(xml);
        return rc;
    }
    *id = xstrdup(name);
    *out = role_outputs(xml, name);
    free(xml);
    return sync_policies(t, name, NULL, in, e);
}

static enum err_code role_update(const struct stack_target *t, const char *id, const cJSON *old_in,
                                 const cJSON *new_in, const cJSON *old_out, cJSON **out,
                                 struct err *e)
{
    char *od = stack_prov_policy_text(old_in, "assumeRolePolicy"),
         *nd = stack_prov_policy_text(new_in, "assumeRolePolicy");
    char *xml = NULL;
    enum err_code rc = ERR_OK;
    (void)old_out;
    *out = NULL;
    if (nd && (!od || strcmp(od, nd))) {
        const char *params[] = {"RoleName", id, "PolicyDocument", nd, NULL};
        rc = stack_prov_iam(t, "UpdateAssumeRolePolicy", params, NULL, NULL, 0, e);
    }
    if (!rc && (strcmp(stack_prov_str(new_in, "description", ""),
                       stack_prov_str(old_in, "description", "")) ||
                !stack_prov_same(cJSON_GetObjectItem(old_in, "maxSessionDuration"),
                                 cJSON_GetObjectItem(new_in, "maxSessionDuration")))) {
        const cJSON *m = cJSON_GetObjectItem(new_in, "maxSessionDuration");
        char msd[24];
        const char *params[] = {
            "RoleName",           id,  "Description", stack_prov_str(new_in, "description", ""),
            "MaxSessionDuration", msd, NULL};
        snprintf(msd, sizeof(msd), "%d", cJSON_IsNumber(m) ? m->valueint : 3600);
        rc = stack_prov_iam(t, "UpdateRole", params, NULL, NULL, 0, e);
    }
    free(od);
    free(nd);
    if (!rc)
        rc = stack_prov_iam_tags(t, "Role", id, cJSON_GetObjectItem(old_in, "tags"),
                                 cJSON_GetObjectItem(new_in, "tags"), e);
    if (!rc)
        rc = stack_prov_iam_boundary(t, "Role", id,
                                     stack_prov_str(old_in, "permissionsBoundary", NULL),
                                     stack_prov_str(new_in, "permissionsBoundary", NULL), e);
    if (!rc)
        rc = sync_policies(t, id, old_in, new_in, e);
    if (rc)
        return rc;
    if ((rc = get_role(t, id, &xml, e)))
        return rc;
    *out = role_outputs(xml, id);
    free(xml);
    return ERR_OK;
}

static enum err_code role_delete(const struct stack_target *t, const char *id, const cJSON *in,
                                 const cJSON *out, struct err *e)
{
    const char *params[] = {"RoleName", id, NULL};
    char code[96];
    enum err_code rc;
    (void)out;
    if (cJSON_IsTrue(cJSON_GetObjectItem(in, "forceDetachPolicies")))
        rc = stack_prov_iam_prune(t, "RoleName", id, "ListAttachedRolePolicies", "PolicyArn",
                                  "DetachRolePolicy", "PolicyArn", NULL, e);
    else
        rc = sync_policies(t, id, in, NULL, e);
    if (!rc && cJSON_IsTrue(cJSON_GetObjectItem(in, "forceDetachPolicies")))
        rc = stack_prov_iam_prune(t, "RoleName", id, "ListRolePolicies", "member",
                                  "DeleteRolePolicy", "PolicyName", NULL, e);
    if (rc)
        return rc;
    rc = stack_prov_iam(t, "DeleteRole", params, NULL, code, sizeof(code), e);
    return rc && stack_prov_gone(code) ? ERR_OK : rc;
}

static enum err_code role_read(const struct stack_target *t, const char *id, const cJSON *in,
                               cJSON **out, bool *gone, struct err *e)
{
    char *xml = NULL;
    enum err_code rc = get_role(t, id, &xml, e);
    (void)in;
    *out = NULL;
    *gone = rc == ERR_NOTFOUND;
    if (rc && !*gone) {
        free(xml);
        return rc;
    }
    if (!*gone) {
        /* beyond the outputs: every input the provider manages, as the program names it */
        char *doc = stack_prov_xml_doc(xml, "AssumeRolePolicyDocument");
        char *desc = stack_prov_xml_text(xml, "Description");
        char *max = stack_prov_xml_text(xml, "MaxSessionDuration");
        *out = role_outputs(xml, id);
        cJSON_AddStringToObject(*out, "assumeRolePolicy", doc ? doc : "");
        cJSON_AddStringToObject(*out, "description", desc ? desc : "");
        cJSON_AddNumberToObject(*out, "maxSessionDuration", max ? atoi(max) : 3600);
        stack_prov_iam_read_common(xml, *out);
        free(doc);
        free(desc);
        free(max);
        rc = stack_prov_iam_policies(t, "Role", id, *out, e);
        if (rc) {
            cJSON_Delete(*out);
            *out = NULL;
        }
    } else {
        rc = ERR_OK;
    }
    free(xml);
    return rc;
}

static const char *const role_replace[] = {"name", "namePrefix", "path", NULL};
static const char *const role_outs[] = {"id", "arn", "uniqueId", "createDate", NULL};

static cJSON *role_predict(const struct stack_target *t, const cJSON *in)
{
    cJSON *o = cJSON_CreateObject();
    const char *name = stack_prov_str(in, "name", "");
    char arn[400];
    snprintf(arn, sizeof(arn), "arn:aws:iam::%s:role%s%s", t->account,
             stack_prov_str(in, "path", "/"), name);
    cJSON_AddStringToObject(o, "id", name);
    cJSON_AddStringToObject(o, "arn", arn);
    return o;
}

const struct stack_provider stack_provider_iam_role = {
    .strings = (const char *const[]){"name", "path", "description", NULL},
    .type = "aws:iam:Role",
    .inputs =
        (const char *const[]){"assumeRolePolicy", "description", "forceDetachPolicies",
                              "inlinePolicies", "managedPolicyArns", "maxSessionDuration", "name",
                              "namePrefix", "path", "permissionsBoundary", "tags", NULL},
    .name_prop = "name",
    .name_max = 64,
    .replace_props = role_replace,
    .outputs = role_outs,
    .create = role_create,
    .update = role_update,
    .del = role_delete,
    .read = role_read,
    .predict = role_predict,
};

/* ---- RolePolicy: id is ROLE:NAME as in the Pulumi provider ---- */

static enum err_code rp_create(const struct stack_target *t, const cJSON *in, bool adopt, char **id,
                               cJSON **out, struct err *e)
{
    const char *role = stack_prov_str(in, "role", NULL), *name = stack_prov_str(in, "name", NULL);
    char *doc = stack_prov_policy_text(in, "policy");
    enum err_code rc;
    (void)adopt;
    *id = NULL;
    *out = NULL;
    if (!role || !name || !doc) {
        free(doc);
        return err_set(e, ERR_INVALID, "aws:iam:RolePolicy needs role and policy");
    }
    {
        const char *params[] = {"RoleName", role, "PolicyName", name, "PolicyDocument", doc, NULL};
        rc = stack_prov_iam(t, "PutRolePolicy", params, NULL, NULL, 0, e);
    }
    free(doc);
    if (rc)
        return rc;
    *id = xmalloc(strlen(role) + strlen(name) + 2);
    sprintf(*id, "%s:%s", role, name);
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "id", *id);
    return ERR_OK;
}

static enum err_code rp_update(const struct stack_target *t, const char *id, const cJSON *old_in,
                               const cJSON *new_in, const cJSON *old_out, cJSON **out,
                               struct err *e)
{
    char *nid = NULL;
    enum err_code rc;
    (void)id;
    (void)old_in;
    (void)old_out;
    rc = rp_create(t, new_in, true, &nid, out, e);
    free(nid);
    return rc;
}

static void split_id(const char *id, char *role, size_t cap, const char **name)
{
    const char *c = strchr(id, ':');
    size_t n = c ? (size_t)(c - id) : strlen(id);
    snprintf(role, cap, "%.*s", (int)n, id);
    *name = c ? c + 1 : "";
}

static enum err_code rp_delete(const struct stack_target *t, const char *id, const cJSON *in,
                               const cJSON *out, struct err *e)
{
    char role[200], code[96];
    const char *name;
    enum err_code rc;
    (void)in;
    (void)out;
    split_id(id, role, sizeof(role), &name);
    {
        const char *params[] = {"RoleName", role, "PolicyName", name, NULL};
        rc = stack_prov_iam(t, "DeleteRolePolicy", params, NULL, code, sizeof(code), e);
    }
    return rc && stack_prov_gone(code) ? ERR_OK : rc;
}

static enum err_code rp_read(const struct stack_target *t, const char *id, const cJSON *in,
                             cJSON **out, bool *gone, struct err *e)
{
    char role[200], code[96], *xml = NULL;
    const char *name;
    enum err_code rc;
    (void)in;
    split_id(id, role, sizeof(role), &name);
    {
        const char *params[] = {"RoleName", role, "PolicyName", name, NULL};
        rc = stack_prov_iam(t, "GetRolePolicy", params, &xml, code, sizeof(code), e);
    }
    *out = NULL;
    *gone = rc && stack_prov_gone(code);
    if (rc && !*gone) {
        free(xml);
        return rc;
    }
    if (!*gone) {
        char *doc = stack_prov_xml_doc(xml, "PolicyDocument");
        *out = cJSON_CreateObject();
        cJSON_AddStringToObject(*out, "id", id);
        cJSON_AddStringToObject(*out, "role", role);
        cJSON_AddStringToObject(*out, "name", name);
        cJSON_AddStringToObject(*out, "policy", doc ? doc : "");
        free(doc);
    }
    free(xml);
    return ERR_OK;
}

static const char *const rp_replace[] = {"role", "name", "namePrefix", NULL};
static const char *const id_only[] = {"id", NULL};

static cJSON *rp_predict(const struct stack_target *t, const cJSON *in)
{
    cJSON *o = cJSON_CreateObject();
    char id[400];
    (void)t;
    snprintf(id, sizeof(id), "%s:%s", stack_prov_str(in, "role", ""),
             stack_prov_str(in, "name", ""));
    cJSON_AddStringToObject(o, "id", id);
    return o;
}

const struct stack_provider stack_provider_iam_role_policy = {
    .strings = (const char *const[]){"name", "role", NULL},
    .type = "aws:iam:RolePolicy",
    .inputs = (const char *const[]){"name", "namePrefix", "policy", "role", NULL},
    .name_prop = "name",
    .name_max = 128,
    .replace_props = rp_replace,
    .outputs = id_only,
    .create = rp_create,
    .update = rp_update,
    .del = rp_delete,
    .read = rp_read,
    .predict = rp_predict,
};
