/* oidc.c - IAM OpenID Connect providers: Create, Get, List, Delete,
 * AddClientIDTo / RemoveClientIDFrom, UpdateOpenIDConnectProviderThumbprint,
 * Tag / Untag / ListTags.
 * A provider is stored as META "iam/oidc/<url without https://>" (replicated
 * like every IAM document); its ARN is
 * arn:aws:iam::ACCOUNT:oidc-provider/<url without https://>. Tandem keeps the
 * providers; it does not (yet) accept AssumeRoleWithWebIdentity tokens from
 * them. See iam_int.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iam_int.h"
#include "mem.h"

#define MAX_CLIENT_IDS  100
#define MAX_THUMBPRINTS 5

/* the provider named by OpenIDConnectProviderArn: its store name, or NULL (answered) */
static const char *provider_param(struct iam_call *c, const char **arn_out)
{
    const char *arn = iam_param(c, "OpenIDConnectProviderArn");
    char *prefix;

    if (!arn) {
        iam_fail(c, 400, "ValidationError",
                 "1 validation error detected: Value null at 'openIDConnectProviderArn' failed "
                 "to satisfy constraint: Member must not be null");
        return NULL;
    }
    prefix = arena_sprintf(c->r->arena, "arn:aws:iam::%s:oidc-provider/", c->iam->account);
    if (strlen(arn) < 20 || strlen(arn) > 2048 || strncmp(arn, prefix, strlen(prefix)) != 0 ||
        !arn[strlen(prefix)]) {
        if (strncmp(arn, "arn:", 4) != 0 || strlen(arn) < 20 || strlen(arn) > 2048) {
            iam_fail(c, 400, "ValidationError",
                     "1 validation error detected: Value '%.200s' at 'openIDConnectProviderArn' "
                     "failed to satisfy constraint: Member must have length greater than or "
                     "equal to 20",
                     arn);
            return NULL;
        }
        iam_fail(c, 404, "NoSuchEntity", "OpenIDConnect Provider not found for arn %.200s", arn);
        return NULL;
    }
    *arn_out = arn;
    return arn + strlen(prefix);
}

/* list_param - the members of @name (e.g. "ClientIDList"), without repeats;
 * *@bad_len when one is not @minlen..@maxlen bytes long (IAM names the list
 * in its ValidationError, with the others at fault) */
static cJSON *list_param(struct iam_call *c, const char *name, size_t minlen, size_t maxlen,
                         bool *bad_len)
{
    cJSON *out = cJSON_CreateArray();
    char key[64];

    *bad_len = false;
    for (int i = 1; i <= 1000; i++) {
        const char *v;
        const cJSON *x;
        bool dup = false;
        snprintf(key, sizeof(key), "%s.member.%d", name, i);
        if (!(v = iam_param(c, key)))
            break;
        *bad_len |= strlen(v) < minlen || strlen(v) > maxlen;
        cJSON_ArrayForEach(x, out) dup |= strcmp(x->valuestring, v) == 0;
        if (!dup)
            cJSON_AddItemToArray(out, cJSON_CreateString(v));
    }
    return out;
}

/* lists_ok - the counts of a provider's lists as IAM bounds them; answers
 * and returns false when one is over */
static bool lists_ok(struct iam_call *c, const cJSON *ids, const cJSON *thumbs)
{
    if (thumbs && cJSON_GetArraySize(thumbs) > MAX_THUMBPRINTS) {
        iam_fail(c, 400, "InvalidInput", "Thumbprint list must contain fewer than %d entries.",
                 MAX_THUMBPRINTS);
        return false;
    }
    if (ids && cJSON_GetArraySize(ids) > MAX_CLIENT_IDS) {
        iam_fail(c, 409, "LimitExceeded",
                 "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: %d", MAX_CLIENT_IDS);
        return false;
    }
    return true;
}

static const char THUMB_LEN[] =
    "Value at 'thumbprintList' failed to satisfy constraint: Member must satisfy constraint: "
    "[Member must have length less than or equal to 40, Member must have length greater than or "
    "equal to 40]";

static void xml_list(struct buf *b, const char *elem, const cJSON *arr)
{
    const cJSON *x;

    buf_printf(b, "<%s>", elem);
    cJSON_ArrayForEach(x, arr) xmlw_elem(b, "member", x->valuestring, 0);
    buf_printf(b, "</%s>", elem);
}

static void op_create(struct iam_call *c)
{
    const char *url = iam_param(c, "Url");
    struct iam_write w = {.op = W_CREATE, .kind = "oidc"};
    cJSON *ids, *thumbs = NULL, *tags = NULL, *doc;
    char *name, *arn, now[32];
    bool bad, ids_bad, thumbs_bad;
    struct buf b, v;
    int nv = 0;
    size_t n;

    ids = list_param(c, "ClientIDList", 1, 255, &ids_bad);
    thumbs = list_param(c, "ThumbprintList", 40, 40, &thumbs_bad);
    /* every member at fault in one ValidationError, in IAM's order */
    buf_init(&v, 0);
    if (ids_bad && ++nv)
        buf_puts(&v, "Value at 'clientIDList' failed to satisfy constraint: Member must satisfy "
                     "constraint: [Member must have length less than or equal to 255, Member "
                     "must have length greater than or equal to 1]");
    if (thumbs_bad && ++nv)
        buf_printf(&v, "%s%s", nv > 1 ? "; " : "", THUMB_LEN);
    if ((!url || !*url || strlen(url) > 255) && ++nv)
        buf_printf(&v, "%sValue at 'url' failed to satisfy constraint: Member must have length %s",
                   nv > 1 ? "; " : "",
                   url && *url ? "less than or equal to 255" : "greater than or equal to 1");
    if (nv) {
        iam_fail(c, 400, "ValidationError", "%d validation error%s detected: %s", nv,
                 nv > 1 ? "s" : "", v.ptr);
        buf_free(&v);
        goto out;
    }
    buf_free(&v);
    if (strncmp(url, "https://", 8) != 0 || !url[8] || strpbrk(url, "?#") ||
        strspn(url + 8, "/") > 0) {
        iam_fail(c, 400, "ValidationError", "Invalid Open ID Connect Provider URL");
        goto out;
    }
    if (!lists_ok(c, ids, thumbs))
        goto out;
    name = arena_sprintf(c->r->arena, "%s", url + 8);
    for (n = strlen(name); n > 0 && name[n - 1] == '/'; n--)
        name[n - 1] = 0;
    arn = arena_sprintf(c->r->arena, "arn:aws:iam::%s:oidc-provider/%s", c->iam->account, name);
    if (!(tags = iam_parse_tags(c, &bad)))
        goto out;
    if (!iam_allowed(c, "iam:CreateOpenIDConnectProvider", arn))
        goto out;
    iam_now_iso(now, 0);
    doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "Url", name);
    cJSON_AddStringToObject(doc, "Arn", arn);
    cJSON_AddItemToObject(doc, "ClientIDList", ids);
    cJSON_AddItemToObject(doc, "ThumbprintList", thumbs);
    cJSON_AddItemToObject(doc, "Tags", tags);
    cJSON_AddStringToObject(doc, "CreateDate", now);
    ids = thumbs = tags = NULL;
    w.name = name;
    w.b = url;
    w.doc = doc;
    if (iam_write(c, &w)) {
        buf_init(&b, 0);
        xmlw_elem(&b, "OpenIDConnectProviderArn", arn, 0);
        iam_xml_tags(&b, doc, false);
        iam_reply(c, b.ptr);
        buf_free(&b);
    }
    cJSON_Delete(doc);
out:
    cJSON_Delete(ids);
    cJSON_Delete(thumbs);
    cJSON_Delete(tags);
}

static void op_get(struct iam_call *c)
{
    const char *arn = NULL, *name = provider_param(c, &arn);
    cJSON *doc = NULL;
    struct err e = {0};
    enum err_code rc;
    struct buf b;

    if (!name || !iam_allowed(c, "iam:GetOpenIDConnectProvider", arn))
        return;
    rc = iam_doc_get(c->iam, "oidc", name, &doc, &e);
    if (rc == ERR_NOTFOUND) {
        iam_fail(c, 404, "NoSuchEntity", "OpenIDConnect Provider not found for arn %.200s", arn);
        return;
    }
    if (rc) {
        iam_fail_err(c, rc, &e);
        return;
    }
    buf_init(&b, 0);
    xmlw_elem(&b, "Url", iam_jstr(doc, "Url"), 0);
    xml_list(&b, "ClientIDList", cJSON_GetObjectItemCaseSensitive(doc, "ClientIDList"));
    xml_list(&b, "ThumbprintList", cJSON_GetObjectItemCaseSensitive(doc, "ThumbprintList"));
    xmlw_elem(&b, "CreateDate", iam_jstr(doc, "CreateDate"), 0);
    iam_xml_tags(&b, doc, true); /* IAM answers Tags even when there are none */
    iam_reply(c, b.ptr);
    buf_free(&b);
    cJSON_Delete(doc);
}

static void list_one(cJSON *doc, void *arg)
{
    buf_puts(arg, "<member>");
    xmlw_elem(arg, "Arn", iam_jstr(doc, "Arn"), 0);
    buf_puts(arg, "</member>");
}

static void op_list(struct iam_call *c)
{
    struct err e = {0};
    enum err_code rc;
    struct buf b;

    if (!iam_allowed(c, "iam:ListOpenIDConnectProviders", "*"))
        return;
    buf_init(&b, 0);
    buf_puts(&b, "<OpenIDConnectProviderList>");
    rc = iam_doc_each(c->iam, "oidc", list_one, &b, &e);
    buf_puts(&b, "</OpenIDConnectProviderList>");
    if (rc)
        iam_fail_err(c, rc, &e);
    else
        iam_reply(c, b.ptr);
    buf_free(&b);
}

static bool exists(struct iam_call *c, const char *name)
{
    cJSON *doc = NULL;
    bool found = iam_doc_get(c->iam, "oidc", name, &doc, NULL) == ERR_OK;

    cJSON_Delete(doc);
    return found;
}

/* op_change - Delete, AddClientID, RemoveClientID, UpdateThumbprint */
static void op_change(struct iam_call *c, const char *action, enum iam_wop op, const char *what)
{
    const char *arn = NULL, *name = provider_param(c, &arn);
    struct iam_write w = {.op = op, .kind = "oidc"};
    cJSON *thumbs = NULL;

    if (!name)
        return;
    if (what && strcmp(what, "ThumbprintList") == 0) {
        bool thumbs_bad;
        thumbs = list_param(c, what, 40, 40, &thumbs_bad);
        if (thumbs_bad)
            iam_fail(c, 400, "ValidationError", "1 validation error detected: %s", THUMB_LEN);
        if (thumbs_bad || !lists_ok(c, NULL, thumbs)) {
            cJSON_Delete(thumbs);
            return;
        }
        w.doc = thumbs;
    } else if (what) {
        const char *id = iam_param(c, "ClientID");
        if (!id || !*id || strlen(id) > 255) {
            iam_fail(c, 400, "ValidationError",
                     "1 validation error detected: Value at 'clientID' failed to satisfy "
                     "constraint: Member must have length between 1 and 255");
            return;
        }
        w.a = id;
        w.flag = strcmp(what, "remove") == 0;
    }
    if (iam_allowed(c, action, arn)) {
        w.name = name;
        w.b = arn;
        if (op == W_DELETE && !exists(c, name)) /* IAM's words for this call */
            iam_fail(c, 404, "NoSuchEntity", "OpenId connect Provider %.300s cannot be found.",
                     arn);
        else if (iam_write(c, &w))
            iam_reply(c, NULL);
    }
    cJSON_Delete(thumbs);
}

/* op_tags - TagOpenIDConnectProvider, UntagOpenIDConnectProvider,
 * ListOpenIDConnectProviderTags: as for users and roles */
static void op_tags(struct iam_call *c, int what)
{
    static const char *const actions[] = {"iam:TagOpenIDConnectProvider",
                                          "iam:UntagOpenIDConnectProvider",
                                          "iam:ListOpenIDConnectProviderTags"};
    const char *arn = NULL, *name = provider_param(c, &arn);
    struct iam_write w = {.op = what == 0 ? W_TAG : W_UNTAG, .kind = "oidc"};
    cJSON *doc = NULL;
    struct err e = {0};
    enum err_code rc;
    struct buf b;
    bool bad = false;

    if (!name)
        return;
    if (what == 0)
        w.doc = iam_parse_tags(c, &bad);
    else if (what == 1)
        bad = !(w.doc = iam_parse_tag_keys(c));
    if (bad || !iam_allowed(c, actions[what], arn))
        goto out;
    if (what < 2) {
        w.name = name;
        w.b = arn;
        if (iam_write(c, &w))
            iam_reply(c, NULL);
        goto out;
    }
    rc = iam_doc_get(c->iam, "oidc", name, &doc, &e);
    if (rc == ERR_NOTFOUND)
        iam_fail(c, 404, "NoSuchEntity", "OpenIDConnect Provider not found for arn %.200s", arn);
    else if (rc)
        iam_fail_err(c, rc, &e);
    if (rc)
        goto out;
    buf_init(&b, 0);
    iam_xml_tags(&b, doc, true);
    buf_puts(&b, "<IsTruncated>false</IsTruncated>");
    iam_reply_page(c, b.ptr);
    buf_free(&b);
out:
    cJSON_Delete(w.doc);
    cJSON_Delete(doc);
}

enum err_code iam_apply_oidc(const struct iam_write *w, cJSON *doc, struct err *e)
{
    cJSON *ids = iam_jarr(doc, "ClientIDList"), *x;
    int i = 0;

    if (w->doc) { /* a new thumbprint list */
        cJSON_DeleteItemFromObjectCaseSensitive(doc, "ThumbprintList");
        cJSON_AddItemToObject(doc, "ThumbprintList", cJSON_Duplicate(w->doc, true));
        return ERR_OK;
    }
    cJSON_ArrayForEach(x, ids)
    {
        if (strcmp(x->valuestring, w->a) == 0)
            break;
        i++;
    }
    if (w->flag && x)
        cJSON_DeleteItemFromArray(ids, i);
    else if (!w->flag && !x) {
        if (cJSON_GetArraySize(ids) >= MAX_CLIENT_IDS)
            return err_set(e, ERR_LIMIT,
                           "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: %d",
                           MAX_CLIENT_IDS);
        cJSON_AddItemToArray(ids, cJSON_CreateString(w->a));
    }
    return ERR_OK; /* adding a present one or removing an absent one changes nothing */
}

bool iam_oidc_dispatch(struct iam_call *c, const char *a)
{
    if (strcmp(a, "CreateOpenIDConnectProvider") == 0)
        op_create(c);
    else if (strcmp(a, "GetOpenIDConnectProvider") == 0)
        op_get(c);
    else if (strcmp(a, "ListOpenIDConnectProviders") == 0)
        op_list(c);
    else if (strcmp(a, "DeleteOpenIDConnectProvider") == 0)
        op_change(c, "iam:DeleteOpenIDConnectProvider", W_DELETE, NULL);
    else if (strcmp(a, "AddClientIDToOpenIDConnectProvider") == 0)
        op_change(c, "iam:AddClientIDToOpenIDConnectProvider", W_OIDC, "add");
    else if (strcmp(a, "RemoveClientIDFromOpenIDConnectProvider") == 0)
        op_change(c, "iam:RemoveClientIDFromOpenIDConnectProvider", W_OIDC, "remove");
    else if (strcmp(a, "UpdateOpenIDConnectProviderThumbprint") == 0)
        op_change(c, "iam:UpdateOpenIDConnectProviderThumbprint", W_OIDC, "ThumbprintList");
    else if (strcmp(a, "TagOpenIDConnectProvider") == 0)
        op_tags(c, 0);
    else if (strcmp(a, "UntagOpenIDConnectProvider") == 0)
        op_tags(c, 1);
    else if (strcmp(a, "ListOpenIDConnectProviderTags") == 0)
        op_tags(c, 2);
    else
        return false;
    return true;
}
