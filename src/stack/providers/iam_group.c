/* iam_group.c - aws:iam:Group, GroupMembership and UserGroupMembership through the IAM query
 * API (Version 2010-05-08): CreateGroup / GetGroup / DeleteGroup, AddUserToGroup /
 * RemoveUserFromGroup / ListGroupsForUser. A group's inline and attached policies are
 * GroupPolicy and GroupPolicyAttachment (iam_user.c, with the other principals'). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "stack_provider.h"

static const char *const id_only[] = {"id", NULL};

/* @user into @group (@add) or out of it; out of a group it is not in is success. */
static enum err_code sync_member(const struct stack_target *t, const char *user, const char *group,
                                 bool add, struct err *e)
{
    const char *params[] = {"UserName", user, "GroupName", group, NULL};
    char code[96];
    enum err_code rc = stack_prov_iam(t, add ? "AddUserToGroup" : "RemoveUserFromGroup", params,
                                      NULL, code, sizeof(code), e);
    return rc && !add && stack_prov_gone(code) ? ERR_OK : rc;
}

/* ---- Group: id is the name ---- */

static cJSON *group_outputs(const char *xml, const char *name)
{
    cJSON *o = cJSON_CreateObject();
    char *arn = stack_prov_xml_text(xml, "Arn"), *gid = stack_prov_xml_text(xml, "GroupId");
    cJSON_AddStringToObject(o, "id", name);
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddStringToObject(o, "arn", arn ? arn : "");
    cJSON_AddStringToObject(o, "uniqueId", gid ? gid : "");
    free(arn);
    free(gid);
    return o;
}

static enum err_code group_read(const struct stack_target *t, const char *id, const cJSON *in,
                                cJSON **out, bool *gone, struct err *e)
{
    const char *params[] = {"GroupName", id, NULL};
    char code[96], *xml = NULL;
    enum err_code rc = stack_prov_iam(t, "GetGroup", params, &xml, code, sizeof(code), e);
    (void)in;
    *out = NULL;
    *gone = rc && stack_prov_gone(code);
    if (!rc)
        *out = group_outputs(xml, id);
    if (!rc && in == NULL) { /* the provider's read: the inputs it manages too */
        char *path = stack_prov_xml_text(xml, "Path");
        cJSON_AddStringToObject(*out, "path", path ? path : "/");
        free(path);
    }
    free(xml);
    return *gone ? ERR_OK : rc;
}

/* refresh, `get:` and import: beyond the outputs, the group's path */
static enum err_code group_read_all(const struct stack_target *t, const char *id, const cJSON *in,
                                    cJSON **out, bool *gone, struct err *e)
{
    (void)in;
    return group_read(t, id, NULL, out, gone, e);
}

static enum err_code group_create(const struct stack_target *t, const cJSON *in, bool adopt,
                                  char **id, cJSON **out, struct err *e)
{
    const char *name = stack_prov_str(in, "name", NULL);
    const char *params[] = {"GroupName", name, "Path", stack_prov_str(in, "path", "/"), NULL};
    char code[96], *xml = NULL;
    bool gone = false;
    enum err_code rc;

    *id = NULL;
    *out = NULL;
    if (!name)
        return err_set(e, ERR_INVALID, "aws:iam:Group needs name");
    rc = stack_prov_iam(t, "CreateGroup", params, &xml, code, sizeof(code), e);
    if (rc == ERR_OK)
        *out = group_outputs(xml, name);
    free(xml);
    if (rc && adopt && !strcmp(code, "EntityAlreadyExists"))
        rc = group_read(t, name, in, out, &gone, e);
    if (rc)
        return rc;
    *id = xstrdup(name);
    return ERR_OK;
}

/* name and path replace the group; nothing else is left to change */
static enum err_code group_update(const struct stack_target *t, const char *id, const cJSON *old_in,
                                  const cJSON *new_in, const cJSON *old_out, cJSON **out,
                                  struct err *e)
{
    bool gone = false;
    (void)old_in;
    (void)old_out;
    return group_read(t, id, new_in, out, &gone, e);
}

static enum err_code group_delete(const struct stack_target *t, const char *id, const cJSON *in,
                                  const cJSON *out, struct err *e)
{
    const char *params[] = {"GroupName", id, NULL};
    char code[96];
    enum err_code rc = stack_prov_iam(t, "DeleteGroup", params, NULL, code, sizeof(code), e);
    (void)in;
    (void)out;
    return rc && stack_prov_gone(code) ? ERR_OK : rc;
}

static cJSON *group_predict(const struct stack_target *t, const cJSON *in)
{
    cJSON *o = cJSON_CreateObject();
    const char *name = stack_prov_str(in, "name", "");
    char arn[400];
    snprintf(arn, sizeof(arn), "arn:aws:iam::%s:group%s%s", t->account,
             stack_prov_str(in, "path", "/"), name);
    cJSON_AddStringToObject(o, "id", name);
    cJSON_AddStringToObject(o, "arn", arn);
    return o;
}

static const char *const group_replace[] = {"name", "path", NULL};

const struct stack_provider stack_provider_iam_group = {
    .type = "aws:iam:Group",
    .strings = (const char *const[]){"name", "path", NULL},
    .inputs = group_replace,
    .name_prop = "name",
    .name_max = 128,
    .replace_props = group_replace,
    .outputs = (const char *const[]){"id", "arn", "uniqueId", NULL},
    .create = group_create,
    .update = group_update,
    .del = group_delete,
    .read = group_read_all,
    .predict = group_predict,
};

/* ---- GroupMembership: the users of a group (id: its name) ---- */

static enum err_code gm_sync(const struct stack_target *t, const char *group, const cJSON *was,
                             const cJSON *now, struct err *e)
{
    const cJSON *u;
    enum err_code rc;
    cJSON_ArrayForEach(u, was)
    {
        if (cJSON_IsString(u) && !stack_prov_has_str(now, u->valuestring) &&
            (rc = sync_member(t, u->valuestring, group, false, e)))
            return rc;
    }
    cJSON_ArrayForEach(u, now)
    {
        if (cJSON_IsString(u) && !stack_prov_has_str(was, u->valuestring) &&
            (rc = sync_member(t, u->valuestring, group, true, e)))
            return rc;
    }
    return ERR_OK;
}

static enum err_code gm_create(const struct stack_target *t, const cJSON *in, bool adopt, char **id,
                               cJSON **out, struct err *e)
{
    const char *group = stack_prov_str(in, "group", NULL);
    enum err_code rc;
    (void)adopt; /* AddUserToGroup of a member is no error */
    *id = NULL;
    *out = NULL;
    if (!group || !stack_prov_str(in, "name", NULL))
        return err_set(e, ERR_INVALID, "aws:iam:GroupMembership needs name, group and users");
    if ((rc = gm_sync(t, group, NULL, cJSON_GetObjectItem(in, "users"), e)))
        return rc;
    *id = xstrdup(stack_prov_str(in, "name", ""));
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "id", *id);
    return ERR_OK;
}

static enum err_code gm_update(const struct stack_target *t, const char *id, const cJSON *old_in,
                               const cJSON *new_in, const cJSON *old_out, cJSON **out,
                               struct err *e)
{
    enum err_code rc =
        gm_sync(t, stack_prov_str(new_in, "group", ""), cJSON_GetObjectItem(old_in, "users"),
                cJSON_GetObjectItem(new_in, "users"), e);
    (void)id;
    *out = rc ? NULL : cJSON_Duplicate(old_out, 1);
    return rc;
}

static enum err_code gm_delete(const struct stack_target *t, const char *id, const cJSON *in,
                               const cJSON *out, struct err *e)
{
    (void)id;
    (void)out;
    return gm_sync(t, stack_prov_str(in, "group", ""), cJSON_GetObjectItem(in, "users"), NULL, e);
}

static enum err_code gm_read(const struct stack_target *t, const char *id, const cJSON *in,
                             cJSON **out, bool *gone, struct err *e)
{
    const char *params[] = {"GroupName", stack_prov_str(in, "group", ""), NULL};
    char code[96], *xml = NULL;
    enum err_code rc = stack_prov_iam(t, "GetGroup", params, &xml, code, sizeof(code), e);
    *out = NULL;
    *gone = rc && stack_prov_gone(code);
    if (!rc) {
        /* the members GetGroup lists, in the program's order */
        cJSON *names = stack_prov_xml_all(xml, "UserName"), *users = cJSON_CreateArray();
        const cJSON *u;
        cJSON_ArrayForEach(u, cJSON_GetObjectItem(in, "users"))
        {
            if (cJSON_IsString(u) && stack_prov_has_str(names, u->valuestring))
                cJSON_AddItemToArray(users, cJSON_CreateString(u->valuestring));
        }
        cJSON_Delete(names);
        *out = cJSON_CreateObject();
        cJSON_AddStringToObject(*out, "id", id);
        cJSON_AddItemToObject(*out, "users", users);
    }
    free(xml);
    return *gone ? ERR_OK : rc;
}

static cJSON *gm_predict(const struct stack_target *t, const cJSON *in)
{
    cJSON *o = cJSON_CreateObject();
    (void)t;
    cJSON_AddStringToObject(o, "id", stack_prov_str(in, "name", ""));
    return o;
}

const struct stack_provider stack_provider_iam_group_membership = {
    .type = "aws:iam:GroupMembership",
    .strings = (const char *const[]){"name", "group", "users[]", NULL},
    .inputs = (const char *const[]){"name", "group", "users", NULL},
    .name_prop = "name",
    .name_max = 128,
    .replace_props = (const char *const[]){"name", "group", NULL},
    .outputs = id_only,
    .create = gm_create,
    .update = gm_update,
    .del = gm_delete,
    .read = gm_read,
    .predict = gm_predict,
};

/* ---- UserGroupMembership: groups of one user (id: user/group1/group2...) ---- */

static enum err_code ugm_sync(const struct stack_target *t, const char *user, const cJSON *was,
                              const cJSON *now, struct err *e)
{
    const cJSON *g;
    enum err_code rc;
    cJSON_ArrayForEach(g, was)
    {
        if (cJSON_IsString(g) && !stack_prov_has_str(now, g->valuestring) &&
            (rc = sync_member(t, user, g->valuestring, false, e)))
            return rc;
    }
    cJSON_ArrayForEach(g, now)
    {
        if (cJSON_IsString(g) && !stack_prov_has_str(was, g->valuestring) &&
            (rc = sync_member(t, user, g->valuestring, true, e)))
            return rc;
    }
    return ERR_OK;
}

static cJSON *ugm_predict(const struct stack_target *t, const cJSON *in)
{
    cJSON *o = cJSON_CreateObject();
    char id[1024];
    size_t n = (size_t)snprintf(id, sizeof(id), "%s", stack_prov_str(in, "user", ""));
    const cJSON *g;
    (void)t;
    cJSON_ArrayForEach(g, cJSON_GetObjectItem(in, "groups"))
    {
        if (cJSON_IsString(g) && n < sizeof(id))
            n += (size_t)snprintf(id + n, sizeof(id) - n, "/%s", g->valuestring);
    }
    cJSON_AddStringToObject(o, "id", id);
    return o;
}

static enum err_code ugm_create(const struct stack_target *t, const cJSON *in, bool adopt,
                                char **id, cJSON **out, struct err *e)
{
    const char *user = stack_prov_str(in, "user", NULL);
    enum err_code rc;
    (void)adopt;
    *id = NULL;
    *out = NULL;
    if (!user)
        return err_set(e, ERR_INVALID, "aws:iam:UserGroupMembership needs user and groups");
    if ((rc = ugm_sync(t, user, NULL, cJSON_GetObjectItem(in, "groups"), e)))
        return rc;
    *out = ugm_predict(t, in);
    *id = xstrdup(stack_prov_str(*out, "id", ""));
    return ERR_OK;
}

static enum err_code ugm_update(const struct stack_target *t, const char *id, const cJSON *old_in,
                                const cJSON *new_in, const cJSON *old_out, cJSON **out,
                                struct err *e)
{
    enum err_code rc =
        ugm_sync(t, stack_prov_str(new_in, "user", ""), cJSON_GetObjectItem(old_in, "groups"),
                 cJSON_GetObjectItem(new_in, "groups"), e);
    (void)id;
    *out = rc ? NULL : cJSON_Duplicate(old_out, 1);
    return rc;
}

static enum err_code ugm_delete(const struct stack_target *t, const char *id, const cJSON *in,
                                const cJSON *out, struct err *e)
{
    (void)id;
    (void)out;
    return ugm_sync(t, stack_prov_str(in, "user", ""), cJSON_GetObjectItem(in, "groups"), NULL, e);
}

static enum err_code ugm_read(const struct stack_target *t, const char *id, const cJSON *in,
                              cJSON **out, bool *gone, struct err *e)
{
    const char *params[] = {"UserName", stack_prov_str(in, "user", ""), NULL};
    char code[96], *xml = NULL;
    enum err_code rc = stack_prov_iam(t, "ListGroupsForUser", params, &xml, code, sizeof(code), e);
    *out = NULL;
    *gone = rc && stack_prov_gone(code);
    if (!rc) {
        cJSON *names = stack_prov_xml_all(xml, "GroupName"), *groups = cJSON_CreateArray();
        const cJSON *g;
        cJSON_ArrayForEach(g, cJSON_GetObjectItem(in, "groups"))
        {
            if (cJSON_IsString(g) && stack_prov_has_str(names, g->valuestring))
                cJSON_AddItemToArray(groups, cJSON_CreateString(g->valuestring));
        }
        cJSON_Delete(names);
        *out = cJSON_CreateObject();
        cJSON_AddStringToObject(*out, "id", id);
        cJSON_AddItemToObject(*out, "groups", groups);
    }
    free(xml);
    return *gone ? ERR_OK : rc;
}

const struct stack_provider stack_provider_iam_user_group_membership = {
    .type = "aws:iam:UserGroupMembership",
    .strings = (const char *const[]){"user", "groups[]", NULL},
    .inputs = (const char *const[]){"user", "groups", NULL},
    .replace_props = (const char *const[]){"user", NULL},
    .outputs = id_only,
    .create = ugm_create,
    .update = ugm_update,
    .del = ugm_delete,
    .read = ugm_read,
    .predict = ugm_predict,
};
