/* groups.c - IAM groups: membership (kept in each user's document as
 * "Groups", so a user's permissions are read from one place), GetGroup with
 * its users, ListGroupsForUser, and ListEntitiesForPolicy. Create, delete,
 * inline and attached policies of groups share api.c's code with users and
 * roles. See iam_int.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iam_int.h"
#include "mem.h"

struct member_acc {
    struct buf *b;
    const char *group;
};

static void member_one(cJSON *doc, void *arg)
{
    struct member_acc *ma = arg;
    const cJSON *g;

    cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(doc, "Groups"))
    {
        if (cJSON_IsString(g) && strcmp(g->valuestring, ma->group) == 0) {
            iam_xml_user(ma->b, doc, "member");
            return;
        }
    }
}

void iam_op_get_group(struct iam_call *c)
{
    const char *name = iam_need_name(c, "GroupName", 128);
    struct member_acc ma;
    struct err e = {0};
    cJSON *doc;
    struct buf b;

    if (!name || !iam_allowed(c, "iam:GetGroup", iam_arn_of(c, "group", "/", name)))
        return;
    if (!(doc = iam_load(c, "group", name)))
        return;
    buf_init(&b, 0);
    iam_xml_group(&b, doc, "Group");
    buf_puts(&b, "<Users>");
    ma.b = &b;
    ma.group = iam_jstr(doc, "GroupName"); /* its own name, whatever the case asked */
    if (iam_doc_each(c->iam, "user", member_one, &ma, &e) != ERR_OK) {
        iam_fail_err(c, ERR_IO, &e);
    } else {
        buf_puts(&b, "</Users><IsTruncated>false</IsTruncated>");
        iam_reply_page(c, b.ptr);
    }
    buf_free(&b);
    cJSON_Delete(doc);
}

void iam_op_membership(struct iam_call *c, bool add)
{
    const char *group = iam_need_name(c, "GroupName", 128);
    const char *user = group ? iam_need_name(c, "UserName", 64) : NULL;
    struct iam_write w = {.op = add ? W_ADD_MEMBER : W_DEL_MEMBER, .kind = "user"};

    if (!user || !iam_allowed(c, add ? "iam:AddUserToGroup" : "iam:RemoveUserFromGroup",
                              iam_arn_of(c, "group", "/", group)))
        return;
    w.name = user;
    w.a = group;
    if (iam_write(c, &w))
        iam_reply(c, NULL);
}

void iam_op_groups_for_user(struct iam_call *c)
{
    const char *user = iam_need_name(c, "UserName", 64);
    const cJSON *g;
    cJSON *doc;
    struct buf b;

    if (!user || !iam_allowed(c, "iam:ListGroupsForUser", iam_arn_of(c, "user", "/", user)))
        return;
    if (!(doc = iam_load(c, "user", user)))
        return;
    buf_init(&b, 0);
    buf_puts(&b, "<Groups>");
    cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(doc, "Groups"))
    {
        cJSON *gd = NULL;
        if (cJSON_IsString(g) && iam_doc_get(c->iam, "group", g->valuestring, &gd, NULL) == ERR_OK)
            iam_xml_group(&b, gd, "member");
        cJSON_Delete(gd);
    }
    buf_puts(&b, "</Groups><IsTruncated>false</IsTruncated>");
    iam_reply_page(c, b.ptr);
    buf_free(&b);
    cJSON_Delete(doc);
}

/* ---- ListEntitiesForPolicy ---- */

struct entity_acc {
    struct buf *b;
    const char *arn;
    const char *kind; /* "User", "Role", "Group" */
    bool boundary;    /* PermissionsBoundary usage instead of attachment */
};

static void entity_one(cJSON *doc, void *arg)
{
    struct entity_acc *ea = arg;
    const cJSON *x;
    char n[16], id[16];
    bool hit = false;

    if (ea->boundary) {
        hit = strcmp(iam_jstr(doc, "PermissionsBoundary"), ea->arn) == 0;
    } else {
        cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(doc, "Attached"))
        {
            if (cJSON_IsString(x) && strcmp(x->valuestring, ea->arn) == 0)
                hit = true;
        }
    }
    if (!hit)
        return;
    snprintf(n, sizeof(n), "%sName", ea->kind);
    snprintf(id, sizeof(id), "%sId", ea->kind);
    buf_puts(ea->b, "<member>");
    xmlw_elem(ea->b, n, iam_jstr(doc, n), 0);
    xmlw_elem(ea->b, id, iam_jstr(doc, id), 0);
    buf_puts(ea->b, "</member>");
}

void iam_op_entities_for_policy(struct iam_call *c)
{
    static const struct {
        const char *filter, *kind, *elem, *store;
    } kinds[] = {{"Group", "Group", "PolicyGroups", "group"},
                 {"User", "User", "PolicyUsers", "user"},
                 {"Role", "Role", "PolicyRoles", "role"}};
    const char *arn = iam_param(c, "PolicyArn"), *filter = iam_param(c, "EntityFilter");
    const char *usage = iam_param(c, "PolicyUsageFilter");
    struct buf b;

    if (!arn) {
        iam_fail(c, 400, "ValidationError",
                 "1 validation error detected: Value null at 'policyArn' failed to satisfy "
                 "constraint: Member must not be null");
        return;
    }
    if (!iam_allowed(c, "iam:ListEntitiesForPolicy", arn))
        return;
    if (!iam_managed_find(arn)) {
        cJSON *doc = NULL;
        bool ok = iam_doc_get(c->iam, "policy", iam_policy_name_of(arn), &doc, NULL) == ERR_OK &&
                  strcmp(iam_jstr(doc, "Arn"), arn) == 0;
        cJSON_Delete(doc);
        if (!ok) {
            iam_fail(c, 404, "NoSuchEntity", "Policy %.300s does not exist or is not attachable.",
                     arn);
            return;
        }
    }
    buf_init(&b, 0);
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        struct entity_acc ea = {&b, arn, kinds[i].kind,
                                usage && strcmp(usage, "PermissionsBoundary") == 0};
        buf_printf(&b, "<%s>", kinds[i].elem);
        if ((!filter || strcmp(filter, kinds[i].filter) == 0) &&
            !(ea.boundary && strcmp(kinds[i].kind, "Group") == 0))
            iam_doc_each(c->iam, kinds[i].store, entity_one, &ea, NULL);
        buf_printf(&b, "</%s>", kinds[i].elem);
    }
    buf_puts(&b, "<IsTruncated>false</IsTruncated>");
    iam_reply_page(c, b.ptr);
    buf_free(&b);
}
