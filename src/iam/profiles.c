/* profiles.c - instance profiles: CreateInstanceProfile, GetInstanceProfile,
 * DeleteInstanceProfile, ListInstanceProfiles, AddRoleToInstanceProfile,
 * RemoveRoleFromInstanceProfile, ListInstanceProfilesForRole and their tags.
 *
 * A region runs no EC2 instance, but the IAM objects are real: programs and
 * tools that manage roles expect them (Terraform and the Pulumi AWS provider
 * list a role's instance profiles before they delete it, as IAM refuses to
 * delete a role that is in one). Stored as documents of kind
 * "instance-profile" holding the names of their roles (at most one). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "iam_int.h"

void iam_xml_profile(struct iam_call *c, struct buf *b, const cJSON *p, const char *elem)
{
    const cJSON *r;

    buf_printf(b, "<%s>", elem);
    xmlw_elem(b, "Path", iam_jstr(p, "Path"), 0);
    xmlw_elem(b, "InstanceProfileName", iam_jstr(p, "InstanceProfileName"), 0);
    xmlw_elem(b, "InstanceProfileId", iam_jstr(p, "InstanceProfileId"), 0);
    xmlw_elem(b, "Arn", iam_jstr(p, "Arn"), 0);
    xmlw_elem(b, "CreateDate", iam_jstr(p, "CreateDate"), 0);
    buf_puts(b, "<Roles>");
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(p, "Roles"))
    {
        cJSON *role = NULL;
        if (cJSON_IsString(r) && iam_doc_get(c->iam, "role", r->valuestring, &role, NULL) == ERR_OK)
            iam_xml_role_listed(b, role, "member");
        cJSON_Delete(role);
    }
    buf_puts(b, "</Roles>");
    iam_xml_tags(b, p, false);
    buf_printf(b, "</%s>", elem);
}

static const char *profile_name(struct iam_call *c)
{
    return iam_need_name(c, "InstanceProfileName", 128);
}

static void op_create(struct iam_call *c)
{
    const char *name = profile_name(c), *path;
    struct iam_write w = {.op = W_CREATE, .kind = "instance-profile"};
    char id[32], now[32];
    cJSON *doc, *tags;
    bool bad = false;
    struct buf b;

    if (!name || !(path = iam_path_param(c)))
        return;
    if (!iam_allowed(c, "iam:CreateInstanceProfile", iam_arn_of(c, "instance-profile", path, name)))
        return;
    tags = iam_parse_tags(c, &bad);
    if (bad)
        return;
    iam_random_id(id, "AIPA", 17, UPPER_ALNUM);
    iam_now_iso(now, 0);
    doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "Path", path);
    cJSON_AddStringToObject(doc, "InstanceProfileName", name);
    cJSON_AddStringToObject(doc, "InstanceProfileId", id);
    cJSON_AddStringToObject(doc, "Arn", iam_arn_of(c, "instance-profile", path, name));
    cJSON_AddStringToObject(doc, "CreateDate", now);
    cJSON_AddItemToObject(doc, "Roles", cJSON_CreateArray());
    cJSON_AddItemToObject(doc, "Tags", tags);
    w.name = name;
    w.doc = doc;
    if (iam_write(c, &w)) {
        buf_init(&b, 0);
        iam_xml_profile(c, &b, doc, "InstanceProfile");
        iam_reply(c, b.ptr);
        buf_free(&b);
    }
    cJSON_Delete(doc);
}

static void op_get(struct iam_call *c)
{
    const char *name = profile_name(c);
    cJSON *doc;
    struct buf b;

    if (!name ||
        !iam_allowed(c, "iam:GetInstanceProfile", iam_arn_of(c, "instance-profile", "/", name)) ||
        !(doc = iam_load(c, "instance-profile", name)))
        return;
    buf_init(&b, 0);
    iam_xml_profile(c, &b, doc, "InstanceProfile");
    iam_reply(c, b.ptr);
    buf_free(&b);
    cJSON_Delete(doc);
}

/* op_write - DeleteInstanceProfile, Add/RemoveRoleToInstanceProfile and the tag calls. */
static void op_write(struct iam_call *c, enum iam_wop op, const char *action)
{
    const char *name = profile_name(c), *role = NULL;
    struct iam_write w = {.op = op, .kind = "instance-profile"};
    bool bad = false;

    if (!name)
        return;
    if (op == W_PROFILE_ROLE && !(role = iam_need_name(c, "RoleName", 64)))
        return;
    if (!iam_allowed(c, action, iam_arn_of(c, "instance-profile", "/", name)))
        return;
    if (op == W_TAG && (w.doc = iam_parse_tags(c, &bad), bad))
        return;
    if (op == W_UNTAG && !(w.doc = iam_parse_tag_keys(c)))
        return;
    w.name = name;
    w.a = role;
    w.flag = strcmp(action, "iam:RemoveRoleFromInstanceProfile") == 0;
    if (iam_write(c, &w))
        iam_reply(c, NULL);
    cJSON_Delete(w.doc);
}

struct listing {
    struct iam_call *c;
    const char *prefix; /* PathPrefix */
    const char *role;   /* ListInstanceProfilesForRole: the role's name */
    cJSON *found;
};

static void collect(cJSON *doc, void *arg)
{
    struct listing *l = arg;
    const cJSON *r;
    bool has = !l->role;

    if (l->prefix && strncmp(iam_jstr(doc, "Path"), l->prefix, strlen(l->prefix)) != 0)
        return;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(doc, "Roles"))
    {
        if (l->role && cJSON_IsString(r) && strcasecmp(r->valuestring, l->role) == 0)
            has = true;
    }
    if (has)
        cJSON_AddItemToArray(l->found, cJSON_Duplicate(doc, true));
}

/* op_list - ListInstanceProfiles (@for_role false) or ListInstanceProfilesForRole. */
static void op_list(struct iam_call *c, bool for_role)
{
    struct listing l = {c, iam_param(c, "PathPrefix"), NULL, NULL};
    const cJSON *p;
    struct err e = {0};
    struct buf b;

    if (for_role) {
        cJSON *role;
        if (!(l.role = iam_need_name(c, "RoleName", 64)) ||
            !iam_allowed(c, "iam:ListInstanceProfilesForRole",
                         iam_arn_of(c, "role", "/", l.role)) ||
            !(role = iam_load(c, "role", l.role)))
            return;
        cJSON_Delete(role);
    } else if (!iam_allowed(c, "iam:ListInstanceProfiles", NULL)) {
        return;
    }
    l.found = cJSON_CreateArray();
    if (iam_doc_each(c->iam, "instance-profile", collect, &l, &e) != ERR_OK) {
        iam_fail_err(c, ERR_IO, &e);
        cJSON_Delete(l.found);
        return;
    }
    buf_init(&b, 0);
    buf_puts(&b, "<InstanceProfiles>");
    cJSON_ArrayForEach(p, l.found) iam_xml_profile(c, &b, p, "member");
    buf_puts(&b, "</InstanceProfiles><IsTruncated>false</IsTruncated>");
    iam_reply_page(c, b.ptr);
    buf_free(&b);
    cJSON_Delete(l.found);
}

static void op_list_tags(struct iam_call *c)
{
    const char *name = profile_name(c);
    cJSON *doc;
    struct buf b;

    if (!name ||
        !iam_allowed(c, "iam:ListInstanceProfileTags",
                     iam_arn_of(c, "instance-profile", "/", name)) ||
        !(doc = iam_load(c, "instance-profile", name)))
        return;
    buf_init(&b, 0);
    iam_xml_tags(&b, doc, true);
    buf_puts(&b, "<IsTruncated>false</IsTruncated>");
    iam_reply(c, b.ptr);
    buf_free(&b);
    cJSON_Delete(doc);
}

bool iam_op_profiles(struct iam_call *c)
{
    const char *a = c->action;

    if (strcmp(a, "CreateInstanceProfile") == 0)
        op_create(c);
    else if (strcmp(a, "GetInstanceProfile") == 0)
        op_get(c);
    else if (strcmp(a, "DeleteInstanceProfile") == 0)
        op_write(c, W_DELETE, "iam:DeleteInstanceProfile");
    else if (strcmp(a, "AddRoleToInstanceProfile") == 0)
        op_write(c, W_PROFILE_ROLE, "iam:AddRoleToInstanceProfile");
    else if (strcmp(a, "RemoveRoleFromInstanceProfile") == 0)
        op_write(c, W_PROFILE_ROLE, "iam:RemoveRoleFromInstanceProfile");
    else if (strcmp(a, "TagInstanceProfile") == 0)
        op_write(c, W_TAG, "iam:TagInstanceProfile");
    else if (strcmp(a, "UntagInstanceProfile") == 0)
        op_write(c, W_UNTAG, "iam:UntagInstanceProfile");
    else if (strcmp(a, "ListInstanceProfiles") == 0)
        op_list(c, false);
    else if (strcmp(a, "ListInstanceProfilesForRole") == 0)
        op_list(c, true);
    else if (strcmp(a, "ListInstanceProfileTags") == 0)
        op_list_tags(c);
    else
        return false;
    return true;
}
