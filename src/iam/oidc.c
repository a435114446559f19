/* oidc.c - IAM OpenID Connect providers: Create, Get, List, Delete,
 * AddClientIDTo / RemoveClientIDFrom, UpdateOpenIDConnectProviderThumbprint.
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

/* list_param - the members of @name (e.g. "ClientIDList"), at most @max, each of
 * @minlen..@maxlen bytes; NULL when answered */
static cJSON *list_param(struct iam_call *c, const char *name, const char *field, int max,
                         size_t minlen, size_t maxlen)
{
    cJSON *out = cJSON_CreateArray();
    char key[64];

    for (int i = 1;; i++) {
        const char *v;
        snprintf(key, sizeof(key), "%s.member.%d", name, i);
        if (!(v = iam_param(c, key)))
            break;
        if (i > max) {
            iam_fail(c, 409, "LimitExceeded", "Cannot exceed quota for %s: %d", name, max);
            goto bad;
        }
        if (strlen(v) < minlen || strlen(v) > maxlen) {
            iam_fail(c, 400, "ValidationError",
                     "1 validation error detected: Value '%.200s' at '%s' failed to satisfy "
                     "constraint: Member must have length %s %zu",
                     v, field, minlen == maxlen ? "equal to" : "less than or equal to", maxlen);
            goto bad;
        }
        bool dup = false;
        const cJSON *x;
        cJSON_ArrayForEach(x, out) dup |= strcmp(x->valuestring, v) == 0;
        if (!dup)
            cJSON_AddItemToArray(out, cJSON_CreateString(v));
    }
    return out;
bad:
    cJSON_Delete(out);
    return NULL;
}

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
    bool bad;
    struct buf b;
    size_t n;

    if (!url || !*url || strlen(url) > 255) {
        iam_fail(c, 400, "ValidationError",
                 "1 validation error detected: Value at 'url' failed to satisfy constraint: "
                 "Member must have length between 1 and 255");
        return;
    }
    if (strncmp(url, "https://", 8) != 0 || !url[8] || strpbrk(url, "?#") ||
        strspn(url + 8, "/") > 0) {
        iam_fail(c, 400, "InvalidInput", "Invalid Open ID Connect Provider URL.");
        return;
    }
    name = arena_sprintf(c->r->arena, "%s", url + 8);
    for (n = strlen(name); n > 0 && name[n - 1] == '/'; n--)
        name[n - 1] = 0;
    arn = arena_sprintf(c->r->arena, "arn:aws:iam::%s:oidc-provider/%s", c->iam->account, name);
    if (!(ids = list_param(c, "ClientIDList", "clientIDList", MAX_CLIENT_IDS, 1, 255)))
        return;
    if (!(thumbs = list_param(c, "ThumbprintList", "thumbprintList", MAX_THUMBPRINTS, 40, 40)))
        goto out;
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
    iam_xml_tags(&b, doc, false);
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

/* op_change - Delete, AddClientID, RemoveClientID, UpdateThumbprint */
static void op_change(struct iam_call *c, const char *action, enum iam_wop op, const char *what)
{
    const char *arn = NULL, *name = provider_param(c, &arn);
    struct iam_write w = {.op = op, .kind = "oidc"};
    cJSON *thumbs = NULL;

    if (!name)
        return;
    if (what && strcmp(what, "ThumbprintList") == 0) {
        if (!(thumbs = list_param(c, what, "thumbprintList", MAX_THUMBPRINTS, 40, 40)))
            return;
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
        if (iam_write(c, &w))
            iam_reply(c, NULL);
    }
    cJSON_Delete(thumbs);
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
    else
        return false;
    return true;
}
