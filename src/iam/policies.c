/* policies.c - customer managed policies and the AWS managed ones as the
 * API shows them: Create/Get/Delete/List Policy, versions. */
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

void iam_xml_policy(struct iam *iam, struct buf *b, const cJSON *p, const char *elem,
                    enum iam_policy_view v)
{
    buf_printf(b, "<%s>", elem);
    xmlw_elem(b, "PolicyName", iam_jstr(p, "PolicyName"), 0);
    xmlw_elem(b, "PolicyId", iam_jstr(p, "PolicyId"), 0);
    xmlw_elem(b, "Arn", iam_jstr(p, "Arn"), 0);
    xmlw_elem(b, "Path", iam_jstr(p, "Path"), 0);
    xmlw_elem(b, "DefaultVersionId", iam_jstr(p, "DefaultVersionId"), 0);
    buf_printf(b, "<AttachmentCount>%d</AttachmentCount>",
               iam_attachments(iam, iam_jstr(p, "Arn")));
    buf_printf(b,
               "<PermissionsBoundaryUsageCount>%d</PermissionsBoundaryUsageCount>"
               "<IsAttachable>true</IsAttachable>",
               iam_boundary_uses(iam, iam_jstr(p, "Arn")));
    if (v == IAM_POLICY_GOT && *iam_jstr(p, "Description"))
        xmlw_elem(b, "Description", iam_jstr(p, "Description"), 0);
    xmlw_elem(b, "CreateDate", iam_jstr(p, "CreateDate"), 0);
    xmlw_elem(b, "UpdateDate", iam_jstr(p, "UpdateDate"), 0);
    if (v != IAM_POLICY_LISTED)
        iam_xml_tags(b, p, v == IAM_POLICY_GOT);
    buf_printf(b, "</%s>", elem);
}

/* iam_managed_doc - an AWS managed policy as a policy document (owned). */
cJSON *iam_managed_doc(const struct iam_managed *m)
{
    cJSON *p = cJSON_CreateObject(), *vers = cJSON_AddArrayToObject(p, "Versions"),
          *v = cJSON_CreateObject();
    char arn[160];

    snprintf(arn, sizeof(arn), "arn:aws:iam::aws:policy%s%s", m->path, m->name);
    cJSON_AddStringToObject(p, "PolicyName", m->name);
    cJSON_AddStringToObject(p, "PolicyId", m->id);
    cJSON_AddStringToObject(p, "Arn", arn);
    cJSON_AddStringToObject(p, "Path", m->path);
    cJSON_AddStringToObject(p, "DefaultVersionId", m->version);
    cJSON_AddStringToObject(p, "Description", m->description);
    cJSON_AddStringToObject(p, "CreateDate", m->created);
    cJSON_AddStringToObject(p, "UpdateDate", m->updated);
    cJSON_AddStringToObject(v, "VersionId", m->version);
    cJSON_AddStringToObject(v, "Document", m->document);
    cJSON_AddStringToObject(v, "CreateDate", m->updated);
    cJSON_AddItemToArray(vers, v);
    return p;
}

/* policy_load - a customer managed or AWS managed policy by ARN (owned), or
 * NULL after answering NoSuchEntity. */
static cJSON *policy_load_v(struct iam_call *c, const char *arn, const char *vid)
{
    const struct iam_managed *m;
    cJSON *doc = NULL;

    if (!arn) {
        iam_fail(c, 400, "ValidationError",
                 "1 validation error detected: Value null at 'policyArn' failed to satisfy "
                 "constraint: Member must not be null");
        return NULL;
    }
    if ((m = iam_managed_find(arn)))
        return iam_managed_doc(m);
    if (iam_doc_get(c->iam, "policy", iam_policy_name_of(arn), &doc, NULL) == ERR_OK &&
        strcmp(iam_jstr(doc, "Arn"), arn) == 0)
        return doc;
    cJSON_Delete(doc);
    if (vid) /* a call about a version names it */
        iam_fail(c, 404, "NoSuchEntity",
                 "Policy %.300s version %.40s does not exist or is not attachable.", arn, vid);
    else
        iam_fail(c, 404, "NoSuchEntity", "Policy %.300s does not exist or is not attachable.", arn);
    return NULL;
}

static cJSON *policy_load(struct iam_call *c, const char *arn)
{
    return policy_load_v(c, arn, NULL);
}

/* version_id_ok - @vid has the form IAM's model gives VersionId; answers
 * ValidationError and returns false when not */
static bool version_id_ok(struct iam_call *c, const char *vid)
{
    const char *p = vid;

    if (*p++ == 'v' && *p >= '1' && *p <= '9') {
        p += strspn(p, "0123456789");
        if (*p == '.')
            p += 1 + strspn(p + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "0123456789-");
        if (!*p)
            return true;
    }
    iam_fail(c, 400, "ValidationError",
             "1 validation error detected: Value at 'versionId' failed to satisfy constraint: "
             "Member must satisfy regular expression pattern: v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?");
    return false;
}

void iam_op_create_policy(struct iam_call *c)
{
    const char *name = iam_need_name(c, "PolicyName", 128), *path, *json, *desc;
    struct iam_write w = {.op = W_CREATE, .kind = "policy"};
    cJSON *doc, *vers, *v, *tags;
    char id[32], now[32];
    struct buf b;
    bool bad;

    if (!name || !(path = iam_path_param(c)))
        return;
    json = iam_param(c, "PolicyDocument");
    desc = iam_param(c, "Description");
    if (!iam_allowed(c, "iam:CreatePolicy", iam_arn_of(c, "policy", path, name)))
        return;
    if (!iam_check_doc(c, json, IAM_POLICY_MANAGED, MAX_MANAGED,
                       "Cannot exceed quota for PolicySize: 6144"))
        return;
    tags = iam_parse_policy_tags(c, &bad);
    if (bad)
        return;
    iam_random_id(id, "ANPA", 17, UPPER_ALNUM);
    iam_now_iso(now, 0);
    doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "PolicyName", name);
    cJSON_AddStringToObject(doc, "PolicyId", id);
    cJSON_AddStringToObject(doc, "Arn", iam_arn_of(c, "policy", path, name));
    cJSON_AddStringToObject(doc, "Path", path);
    cJSON_AddStringToObject(doc, "DefaultVersionId", "v1");
    if (desc)
        cJSON_AddStringToObject(doc, "Description", desc);
    cJSON_AddStringToObject(doc, "CreateDate", now);
    cJSON_AddStringToObject(doc, "UpdateDate", now);
    cJSON_AddNumberToObject(doc, "NextVersion", 2);
    vers = cJSON_AddArrayToObject(doc, "Versions");
    v = cJSON_CreateObject();
    cJSON_AddStringToObject(v, "VersionId", "v1");
    cJSON_AddStringToObject(v, "Document", json);
    cJSON_AddStringToObject(v, "CreateDate", now);
    cJSON_AddItemToArray(vers, v);
    cJSON_AddItemToObject(doc, "Tags", tags);
    w.name = name;
    w.doc = doc;
    if (iam_write(c, &w)) {
        buf_init(&b, 0);
        iam_xml_policy(c->iam, &b, doc, "Policy", IAM_POLICY_CREATED);
        iam_reply(c, b.ptr);
        buf_free(&b);
    }
    cJSON_Delete(doc);
}

void iam_op_get_policy(struct iam_call *c)
{
    const char *arn = iam_param(c, "PolicyArn");
    cJSON *doc;
    struct buf b;

    if (arn && !iam_allowed(c, "iam:GetPolicy", arn))
        return;
    if (!(doc = policy_load(c, arn)))
        return;
    buf_init(&b, 0);
    iam_xml_policy(c->iam, &b, doc, "Policy", IAM_POLICY_GOT);
    iam_reply(c, b.ptr);
    buf_free(&b);
    cJSON_Delete(doc);
}

static void xml_version(struct buf *b, const cJSON *pol, const cJSON *v, bool doc, const char *elem)
{
    buf_printf(b, "<%s>", elem);
    if (doc)
        iam_xml_urlenc(b, "Document", iam_jstr(v, "Document"));
    xmlw_elem(b, "VersionId", iam_jstr(v, "VersionId"), 0);
    buf_printf(b, "<IsDefaultVersion>%s</IsDefaultVersion>",
               strcmp(iam_jstr(v, "VersionId"), iam_jstr(pol, "DefaultVersionId")) == 0 ? "true"
                                                                                        : "false");
    xmlw_elem(b, "CreateDate", iam_jstr(v, "CreateDate"), 0);
    buf_printf(b, "</%s>", elem);
}

void iam_op_policy_versions(struct iam_call *c, bool get)
{
    const char *arn = iam_param(c, "PolicyArn"), *vid = iam_param(c, "VersionId");
    const cJSON *v, *vers;
    cJSON *doc;
    struct buf b;

    if (get && !vid) {
        iam_fail(c, 400, "ValidationError",
                 "1 validation error detected: Value null at 'versionId' failed to satisfy "
                 "constraint: Member must not be null");
        return;
    }
    if (get && !version_id_ok(c, vid))
        return;
    if (arn && !iam_allowed(c, get ? "iam:GetPolicyVersion" : "iam:ListPolicyVersions", arn))
        return;
    if (!(doc = policy_load_v(c, arn, get ? vid : NULL)))
        return;
    buf_init(&b, 0);
    if (!get)
        buf_puts(&b, "<Versions>");
    /* ListPolicyVersions lists the newest first, without documents */
    vers = cJSON_GetObjectItemCaseSensitive(doc, "Versions");
    for (int i = cJSON_GetArraySize(vers) - 1; i >= 0; i--) {
        v = cJSON_GetArrayItem(vers, i);
        if (!get)
            xml_version(&b, doc, v, false, "member");
        else if (strcmp(iam_jstr(v, "VersionId"), vid) == 0)
            xml_version(&b, doc, v, true, "PolicyVersion");
    }
    if (!get)
        buf_puts(&b, "</Versions><IsTruncated>false</IsTruncated>");
    if (get && !b.len)
        iam_fail(c, 404, "NoSuchEntity",
                 "Policy %.300s version %.40s does not exist or is not attachable.", arn,
                 vid ? vid : "");
    else if (get)
        iam_reply(c, b.ptr);
    else
        iam_reply_page(c, b.ptr);
    buf_free(&b);
    cJSON_Delete(doc);
}

void iam_op_policy_write(struct iam_call *c, enum iam_wop op, const char *action)
{
    const char *arn = iam_param(c, "PolicyArn");
    struct iam_write w = {.op = op, .kind = "policy"};
    struct buf b;

    if (!arn) {
        iam_fail(c, 400, "ValidationError",
                 "1 validation error detected: Value null at 'policyArn' failed to satisfy "
                 "constraint: Member must not be null");
        return;
    }
    if (!iam_allowed(c, action, arn))
        return;
    if (iam_managed_find(arn) || strncmp(arn, "arn:aws:iam::aws:", 17) == 0) {
        iam_fail(c, 403, "AccessDenied", "Cannot modify an AWS managed policy: %.300s", arn);
        return;
    }
    w.name = iam_policy_name_of(arn);
    w.b = arn;
    if (op == W_NEW_VERSION) {
        w.a = iam_param(c, "PolicyDocument");
        w.flag = iam_param(c, "SetAsDefault") && strcmp(iam_param(c, "SetAsDefault"), "true") == 0;
        if (!iam_check_doc(c, w.a, IAM_POLICY_MANAGED, MAX_MANAGED,
                           "Cannot exceed quota for PolicySize: 6144"))
            return;
    } else if (op == W_DEL_VERSION || op == W_SET_DEFAULT) {
        if (!(w.a = iam_param(c, "VersionId"))) {
            iam_fail(c, 400, "ValidationError", "VersionId is required");
            return;
        }
        if (!version_id_ok(c, w.a))
            return;
    }
    {
        /* the ARN must name this very policy, not one of the same name elsewhere */
        cJSON *doc = policy_load_v(c, arn, op == W_DEL_VERSION || op == W_SET_DEFAULT ? w.a : NULL);
        if (!doc)
            return;
        cJSON_Delete(doc);
    }
    if (!iam_write(c, &w))
        return;
    if (op == W_NEW_VERSION) {
        char now[32];
        iam_now_iso(now, 0);
        buf_init(&b, 0);
        buf_puts(&b, "<PolicyVersion>");
        xmlw_elem(&b, "VersionId", w.out, 0);
        buf_printf(&b, "<IsDefaultVersion>%s</IsDefaultVersion>", w.flag ? "true" : "false");
        xmlw_elem(&b, "CreateDate", now, 0);
        buf_puts(&b, "</PolicyVersion>");
        iam_reply(c, b.ptr);
        buf_free(&b);
    } else {
        iam_reply(c, NULL);
    }
}

bool iam_policy_arn_ok(const char *arn)
{
    const char *p = arn;

    if (strncmp(p, "arn:", 4) != 0 || !(p = strchr(p + 4, ':')) || strncmp(p, ":iam::", 6) != 0)
        return false;
    p += 6;
    if (strncmp(p, "aws:", 4) == 0)
        p += 4;
    else if (strspn(p, "0123456789") == 12 && p[12] == ':')
        p += 13;
    else
        return false;
    return strncmp(p, "policy/", 7) == 0 && p[7];
}

bool iam_boundary_param(struct iam_call *c, const char **out)
{
    const char *arn = iam_param(c, "PermissionsBoundary");
    char *doc;

    *out = NULL;
    if (!arn)
        return true;
    if (!iam_policy_arn_ok(arn)) {
        iam_fail(c, 400, "InvalidInput", "ARN %.200s is not valid.", arn);
        return false;
    }
    if (!(doc = iam_policy_doc_of(c->iam, arn))) {
        iam_fail(c, 404, "NoSuchEntity", "Scope ARN: %.300s does not exist or is not attachable.",
                 arn);
        return false;
    }
    free(doc);
    *out = arn;
    return true;
}

/* tag_order - ListPolicyTags lists shorter keys first, then in byte order,
 * as IAM answers it (a, b, z, abc) */
static int tag_order(const void *a, const void *b)
{
    const char *x = iam_jstr(*(const cJSON *const *)a, "Key");
    const char *y = iam_jstr(*(const cJSON *const *)b, "Key");
    size_t lx = strlen(x), ly = strlen(y);

    return lx != ly ? (lx < ly ? -1 : 1) : strcmp(x, y);
}

void iam_op_list_policy_tags(struct iam_call *c)
{
    const char *arn = iam_param(c, "PolicyArn");
    const cJSON *tags, *t;
    const cJSON **v;
    cJSON *doc;
    struct buf b;
    int n, i = 0;

    if (arn && !iam_allowed(c, "iam:ListPolicyTags", arn))
        return;
    if (!(doc = policy_load(c, arn)))
        return;
    tags = cJSON_GetObjectItemCaseSensitive(doc, "Tags");
    n = cJSON_GetArraySize(tags);
    v = xcalloc((size_t)n + 1, sizeof(*v));
    cJSON_ArrayForEach(t, tags) v[i++] = t;
    qsort(v, (size_t)n, sizeof(*v), tag_order);
    buf_init(&b, 0);
    buf_puts(&b, "<Tags>");
    for (i = 0; i < n; i++) {
        buf_puts(&b, "<member>");
        xmlw_elem(&b, "Key", iam_jstr(v[i], "Key"), 0);
        xmlw_elem(&b, "Value", iam_jstr(v[i], "Value"), 0);
        buf_puts(&b, "</member>");
    }
    buf_puts(&b, "</Tags><IsTruncated>false</IsTruncated>");
    iam_reply_page(c, b.ptr);
    buf_free(&b);
    free(v);
    cJSON_Delete(doc);
}
