/* authdetails.c - GetAccountAuthorizationDetails: every user, group and role
 * of the account with its inline policies (documents URL-encoded, as IAM
 * sends them), attached managed policies, groups, boundary and tags, and the
 * managed policies with every version's document: the one call with which
 * audit tools read who may do what. Filter.member.N (User, Role, Group,
 * LocalManagedPolicy, AWSManagedPolicy) narrows it; of the AWS managed
 * policies only those in use (attached or a boundary) are listed, as IAM
 * does. Paged by MaxItems and Marker over all the lists together. */
#include <stdio.h>
#include <string.h>

#include "iam_int.h"
#include "log.h"

static void collect(cJSON *doc, void *arg)
{
    cJSON_AddItemToArray(arg, cJSON_Duplicate(doc, true));
}

/* all_of - every document of @kind (owned array; empty when none). */
static cJSON *all_of(struct iam_call *c, const char *kind)
{
    cJSON *arr = cJSON_CreateArray();
    struct err e = {0};

    if (iam_doc_each(c->iam, kind, collect, arr, &e) != ERR_OK)
        log_warn("event=iam_list_failed kind=%s msg=\"%s\"", kind, e.msg);
    return arr;
}

/* inline_list - <@elem> of @doc's inline policies. */
static void inline_list(struct buf *b, const cJSON *doc, const char *elem)
{
    const cJSON *x;

    buf_printf(b, "<%s>", elem);
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(doc, "Policies"))
    {
        if (!cJSON_IsString(x))
            continue;
        buf_puts(b, "<member>");
        xmlw_elem(b, "PolicyName", x->string, 0);
        iam_xml_urlenc(b, "PolicyDocument", x->valuestring);
        buf_puts(b, "</member>");
    }
    buf_printf(b, "</%s>", elem);
}

/* attached_list - <AttachedManagedPolicies> of @doc. */
static void attached_list(struct buf *b, const cJSON *doc)
{
    const cJSON *x;

    buf_puts(b, "<AttachedManagedPolicies>");
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(doc, "Attached"))
    {
        if (!cJSON_IsString(x))
            continue;
        buf_puts(b, "<member>");
        xmlw_elem(b, "PolicyName", iam_policy_name_of(x->valuestring), 0);
        xmlw_elem(b, "PolicyArn", x->valuestring, 0);
        buf_puts(b, "</member>");
    }
    buf_puts(b, "</AttachedManagedPolicies>");
}

/* head - the members every entity starts with. */
static void head(struct buf *b, const cJSON *doc, const char *kind)
{
    char name[16], id[16];

    snprintf(name, sizeof(name), "%sName", kind);
    snprintf(id, sizeof(id), "%sId", kind);
    xmlw_elem(b, "Path", iam_jstr(doc, "Path"), 0);
    xmlw_elem(b, name, iam_jstr(doc, name), 0);
    xmlw_elem(b, id, iam_jstr(doc, id), 0);
    xmlw_elem(b, "Arn", iam_jstr(doc, "Arn"), 0);
    xmlw_elem(b, "CreateDate", iam_jstr(doc, "CreateDate"), 0);
}

static void users(struct iam_call *c, struct buf *b)
{
    cJSON *all = all_of(c, "user");
    const cJSON *u, *g;

    buf_puts(b, "<UserDetailList>");
    cJSON_ArrayForEach(u, all)
    {
        buf_puts(b, "<member>");
        head(b, u, "User");
        inline_list(b, u, "UserPolicyList");
        buf_puts(b, "<GroupList>");
        cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(u, "Groups"))
        {
            if (cJSON_IsString(g))
                xmlw_elem(b, "member", g->valuestring, 0);
        }
        buf_puts(b, "</GroupList>");
        attached_list(b, u);
        iam_xml_boundary(b, u);
        iam_xml_tags(b, u, false);
        buf_puts(b, "</member>");
    }
    buf_puts(b, "</UserDetailList>");
    cJSON_Delete(all);
}

static void groups(struct iam_call *c, struct buf *b)
{
    cJSON *all = all_of(c, "group");
    const cJSON *g;

    buf_puts(b, "<GroupDetailList>");
    cJSON_ArrayForEach(g, all)
    {
        buf_puts(b, "<member>");
        head(b, g, "Group");
        inline_list(b, g, "GroupPolicyList");
        attached_list(b, g);
        buf_puts(b, "</member>");
    }
    buf_puts(b, "</GroupDetailList>");
    cJSON_Delete(all);
}

static void roles(struct iam_call *c, struct buf *b)
{
    cJSON *all = all_of(c, "role"), *profiles = all_of(c, "instance-profile");
    const cJSON *r, *p, *x;

    buf_puts(b, "<RoleDetailList>");
    cJSON_ArrayForEach(r, all)
    {
        buf_puts(b, "<member>");
        head(b, r, "Role");
        iam_xml_urlenc(b, "AssumeRolePolicyDocument", iam_jstr(r, "AssumeRolePolicyDocument"));
        buf_puts(b, "<InstanceProfileList>");
        cJSON_ArrayForEach(p, profiles)
        {
            cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(p, "Roles"))
            {
                if (cJSON_IsString(x) && strcmp(x->valuestring, iam_jstr(r, "RoleName")) == 0)
                    iam_xml_profile(c, b, p, "member");
            }
        }
        buf_puts(b, "</InstanceProfileList>");
        inline_list(b, r, "RolePolicyList");
        attached_list(b, r);
        iam_xml_boundary(b, r);
        iam_xml_tags(b, r, false);
        buf_puts(b, "<RoleLastUsed/></member>");
    }
    buf_puts(b, "</RoleDetailList>");
    cJSON_Delete(all);
    cJSON_Delete(profiles);
}

/* policy - one managed policy @p (customer or AWS managed) with its versions. */
static void policy(struct iam_call *c, struct buf *b, const cJSON *p)
{
    const cJSON *v;

    buf_puts(b, "<member>");
    xmlw_elem(b, "PolicyName", iam_jstr(p, "PolicyName"), 0);
    xmlw_elem(b, "PolicyId", iam_jstr(p, "PolicyId"), 0);
    xmlw_elem(b, "Arn", iam_jstr(p, "Arn"), 0);
    xmlw_elem(b, "Path", iam_jstr(p, "Path"), 0);
    xmlw_elem(b, "DefaultVersionId", iam_jstr(p, "DefaultVersionId"), 0);
    buf_printf(b,
               "<AttachmentCount>%d</AttachmentCount><PermissionsBoundaryUsageCount>%d"
               "</PermissionsBoundaryUsageCount><IsAttachable>true</IsAttachable>",
               iam_attachments(c->iam, iam_jstr(p, "Arn")),
               iam_boundary_uses(c->iam, iam_jstr(p, "Arn")));
    if (*iam_jstr(p, "Description"))
        xmlw_elem(b, "Description", iam_jstr(p, "Description"), 0);
    xmlw_elem(b, "CreateDate", iam_jstr(p, "CreateDate"), 0);
    xmlw_elem(b, "UpdateDate", iam_jstr(p, "UpdateDate"), 0);
    buf_puts(b, "<PolicyVersionList>");
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(p, "Versions"))
    {
        buf_puts(b, "<member>");
        iam_xml_urlenc(b, "Document", iam_jstr(v, "Document"));
        xmlw_elem(b, "VersionId", iam_jstr(v, "VersionId"), 0);
        buf_printf(b, "<IsDefaultVersion>%s</IsDefaultVersion>",
                   strcmp(iam_jstr(v, "VersionId"), iam_jstr(p, "DefaultVersionId")) == 0
                       ? "true"
                       : "false");
        xmlw_elem(b, "CreateDate", iam_jstr(v, "CreateDate"), 0);
        buf_puts(b, "</member>");
    }
    buf_puts(b, "</PolicyVersionList></member>");
}

static void policies(struct iam_call *c, struct buf *b, bool local, bool aws)
{
    const struct iam_managed *m;
    const cJSON *p;

    buf_puts(b, "<Policies>");
    if (local) {
        cJSON *all = all_of(c, "policy");
        cJSON_ArrayForEach(p, all) policy(c, b, p);
        cJSON_Delete(all);
    }
    for (size_t i = 0; aws && (m = iam_managed_at(i)); i++) {
        cJSON *doc = iam_managed_doc(m);
        if (iam_attachments(c->iam, iam_jstr(doc, "Arn")) > 0 ||
            iam_boundary_uses(c->iam, iam_jstr(doc, "Arn")) > 0)
            policy(c, b, doc);
        cJSON_Delete(doc);
    }
    buf_puts(b, "</Policies>");
}

void iam_op_authorization_details(struct iam_call *c)
{
    static const char *const kinds[] = {"User", "Role", "Group", "LocalManagedPolicy",
                                        "AWSManagedPolicy"};
    bool want[5] = {false}, any = false;
    char name[48];
    const char *f;
    struct buf b;

    for (int i = 1;; i++) {
        size_t k = 0;
        snprintf(name, sizeof(name), "Filter.member.%d", i);
        if (!(f = iam_param(c, name)))
            break;
        while (k < 5 && strcmp(f, kinds[k]) != 0)
            k++;
        if (k == 5) {
            iam_fail(c, 400, "ValidationError",
                     "1 validation error detected: Value '[%.64s]' at 'filter' failed to satisfy "
                     "constraint: Member must satisfy constraint: [Member must satisfy enum value "
                     "set: [LocalManagedPolicy, AWSManagedPolicy, Role, Group, User]]",
                     f);
            return;
        }
        want[k] = any = true;
    }
    if (!any)
        for (size_t k = 0; k < 5; k++)
            want[k] = true;
    if (!iam_allowed(c, "iam:GetAccountAuthorizationDetails", "*"))
        return;
    buf_init(&b, 0);
    /* every list is answered, empty when filtered out */
    if (want[0])
        users(c, &b);
    else
        buf_puts(&b, "<UserDetailList/>");
    if (want[2])
        groups(c, &b);
    else
        buf_puts(&b, "<GroupDetailList/>");
    if (want[1])
        roles(c, &b);
    else
        buf_puts(&b, "<RoleDetailList/>");
    policies(c, &b, want[3], want[4]);
    buf_puts(&b, "<IsTruncated>false</IsTruncated>");
    iam_reply_page(c, b.ptr);
    buf_free(&b);
}
