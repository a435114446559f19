/* rename.c - UpdateUser and UpdateGroup: a user or group gets a new name
 * and/or path (so a new ARN) and keeps its id, policies, tags and memberships.
 * A user's access keys follow it (their UserName and UserArn), and so do a
 * group's members (the group names in each user's "Groups"). All of it is one
 * store write, replicated like any IAM change. See iam_int.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iam_int.h"
#include "mem.h"

static void set_str(cJSON *doc, const char *name, const char *v)
{
    cJSON_DeleteItemFromObjectCaseSensitive(doc, name);
    cJSON_AddStringToObject(doc, name, v);
}

/* arn_for - the ARN of @kind @path @name in the account of @old_arn
 * ("arn:aws:iam::ACCOUNT:...": everything up to the fifth colon), owned */
static char *arn_for(const char *old_arn, const char *kind, const char *path, const char *name)
{
    const char *p = old_arn;
    size_t n, len;
    char *out;

    for (int i = 0; i < 5 && p; i++)
        p = strchr(i ? p + 1 : p, ':');
    n = p ? (size_t)(p - old_arn) + 1 : 0;
    len = n + strlen(kind) + strlen(path) + strlen(name) + 1;
    out = xmalloc(len);
    snprintf(out, len, "%.*s%s%s%s", (int)n, old_arn, kind, path, name);
    return out;
}

struct follow {
    const char *old;
    cJSON *docs; /* the documents to change (copies) */
};

static void key_of_user(cJSON *doc, void *arg)
{
    struct follow *f = arg;

    if (strcmp(iam_jstr(doc, "UserName"), f->old) == 0)
        cJSON_AddItemToArray(f->docs, cJSON_Duplicate(doc, true));
}

static void member_of_group(cJSON *doc, void *arg)
{
    struct follow *f = arg;
    const cJSON *g;

    cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(doc, "Groups"))
    {
        if (cJSON_IsString(g) && strcmp(g->valuestring, f->old) == 0) {
            cJSON_AddItemToArray(f->docs, cJSON_Duplicate(doc, true));
            return;
        }
    }
}

enum err_code iam_apply_rename(struct store_txn *t, const struct iam_write *w, cJSON *doc,
                               struct err *e)
{
    bool user = strcmp(w->kind, "user") == 0;
    const char *name = w->a ? w->a : w->name;
    char *path = xstrdup(w->b ? w->b : iam_jstr(doc, "Path"));
    char *arn = arn_for(iam_jstr(doc, "Arn"), w->kind, path, name);
    bool renamed = strcmp(name, w->name) != 0;
    struct follow f = {w->name, cJSON_CreateArray()};
    enum err_code rc = ERR_OK;
    cJSON *x;

    if (renamed)
        rc = iam_name_taken(t, w->kind, name, w->name, e);
    if (rc == ERR_OK)
        rc =
            iam_txn_doc_each(t, user ? "key" : "user", user ? key_of_user : member_of_group, &f, e);
    if (rc)
        goto out;
    set_str(doc, user ? "UserName" : "GroupName", name);
    set_str(doc, "Path", path);
    set_str(doc, "Arn", arn);
    if (renamed && (rc = iam_txn_doc_del(t, w->kind, w->name, e)))
        goto out;
    if ((rc = iam_txn_doc_put(t, w->kind, name, doc, e)))
        goto out;
    cJSON_ArrayForEach(x, f.docs)
    {
        if (user) { /* an access key of the user */
            set_str(x, "UserName", name);
            set_str(x, "UserArn", arn);
            rc = iam_txn_doc_put(t, "key", iam_jstr(x, "AccessKeyId"), x, e);
        } else { /* a member of the group */
            cJSON *g;
            cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(x, "Groups"))
            {
                if (cJSON_IsString(g) && strcmp(g->valuestring, w->name) == 0)
                    cJSON_SetValuestring(g, name);
            }
            rc = iam_txn_doc_put(t, "user", iam_jstr(x, "UserName"), x, e);
        }
        if (rc)
            goto out;
    }
out:
    cJSON_Delete(f.docs);
    free(path);
    free(arn);
    return rc;
}

/* ---- the operations ---- */

struct refresh {
    struct iam *iam;
    const char *user;
};

/* refresh_key - the creds of an active access key of the renamed user carry
 * its new name and ARN from now on (other regions: sync.c, as for any key). */
static void refresh_key(cJSON *doc, void *arg)
{
    struct refresh *rf = arg;
    struct creds_identity id;

    if (strcmp(iam_jstr(doc, "UserName"), rf->user) != 0 ||
        strcmp(iam_jstr(doc, "Status"), "Inactive") == 0)
        return;
    iam_creds_of(rf->iam, doc, &id);
    creds_add(rf->iam->creds, &id, NULL);
}

static const char *new_path_param(struct iam_call *c)
{
    const char *p = iam_param(c, "NewPath");

    if (p && (p[0] != '/' || p[strlen(p) - 1] != '/' || strlen(p) > 512)) {
        iam_fail(c, 400, "ValidationError",
                 "1 validation error detected: Value '%.200s' at 'newPath' failed to satisfy "
                 "constraint: Member must satisfy regular expression pattern: "
                 "(\\u002F)|(\\u002F[\\u0021-\\u007F]+\\u002F)",
                 p);
        return NULL;
    }
    return p ? p : "";
}

void iam_op_update_entity(struct iam_call *c, const char *kind)
{
    bool user = strcmp(kind, "user") == 0;
    size_t max = user ? 64 : 128;
    const char *name = iam_need_name(c, user ? "UserName" : "GroupName", max);
    const char *new_name = NULL, *new_path;
    struct iam_write w = {.op = W_RENAME, .kind = kind};
    struct err e = {0};

    if (!name)
        return;
    if (iam_param(c, user ? "NewUserName" : "NewGroupName") &&
        !(new_name = iam_need_name(c, user ? "NewUserName" : "NewGroupName", max)))
        return;
    if (!(new_path = new_path_param(c)))
        return;
    if (!iam_allowed(c, user ? "iam:UpdateUser" : "iam:UpdateGroup",
                     iam_arn_of(c, kind, "/", name)))
        return;
    w.name = name;
    w.a = new_name;
    w.b = *new_path ? new_path : NULL;
    if (!iam_write(c, &w))
        return;
    if (user) {
        struct refresh rf = {c->iam, new_name ? new_name : name};
        iam_doc_each(c->iam, "key", refresh_key, &rf, &e);
    }
    iam_reply(c, "");
}
