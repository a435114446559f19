/* write.c - every IAM change is one store_write whose apply re-reads the
 * documents it changes on the writer thread, so concurrent changes to one
 * entity never lose each other. See iam_int.h. */
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

void iam_count_attached(cJSON *doc, void *arg)
{
    struct iam_attach_count *ac = arg;
    const cJSON *x;

    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(
                              doc, "Attached")) if (cJSON_IsString(x) &&
                                                    strcmp(x->valuestring, ac->arn) == 0) ac->n++;
}

int iam_attachments(struct iam *iam, const char *arn)
{
    struct iam_attach_count ac = {arn, 0};

    iam_doc_each(iam, "user", iam_count_attached, &ac, NULL);
    iam_doc_each(iam, "role", iam_count_attached, &ac, NULL);
    iam_doc_each(iam, "group", iam_count_attached, &ac, NULL);
    return ac.n;
}

static void count_boundary(cJSON *doc, void *arg)
{
    struct iam_attach_count *ac = arg;

    if (strcmp(iam_jstr(doc, "PermissionsBoundary"), ac->arn) == 0)
        ac->n++;
}

int iam_boundary_uses(struct iam *iam, const char *arn)
{
    struct iam_attach_count ac = {arn, 0};

    iam_doc_each(iam, "user", count_boundary, &ac, NULL);
    iam_doc_each(iam, "role", count_boundary, &ac, NULL);
    return ac.n;
}

struct member_scan {
    const char *group;
    int n;
};

/* count_listed - counts @doc when its array @field holds @ms->group */
static void count_listed(const cJSON *doc, const char *field, struct member_scan *ms)
{
    const cJSON *g;

    cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(doc, field))
    {
        if (cJSON_IsString(g) && strcmp(g->valuestring, ms->group) == 0)
            ms->n++;
    }
}

/* count_members - the users of group @arg */
static void count_members(cJSON *doc, void *arg)
{
    count_listed(doc, "Groups", arg);
}

/* count_profile_roles - the instance profiles holding role @arg (its name in
 * the scan's group field) */
static void count_profile_roles(cJSON *doc, void *arg)
{
    count_listed(doc, "Roles", arg);
}

/* policy_exists - whether @arn names an AWS managed or this account's policy, in @t. */
static bool policy_exists(struct store_txn *t, const char *arn)
{
    cJSON *pol = NULL;
    bool ok;

    if (iam_managed_find(arn))
        return true;
    ok = iam_txn_doc_get(t, "policy", iam_policy_name_of(arn), &pol, NULL) == ERR_OK &&
         strcmp(iam_jstr(pol, "Arn"), arn) == 0;
    cJSON_Delete(pol);
    return ok;
}

/* str_index - the index of string @s in array @arr, or -1. */
static int str_index(const cJSON *arr, const char *s)
{
    const cJSON *y;
    int i = 0;

    cJSON_ArrayForEach(y, arr)
    {
        if (cJSON_IsString(y) && strcmp(y->valuestring, s) == 0)
            return i;
        i++;
    }
    return -1;
}

/* ---- writes ---- */

static const char *entity_word(const char *kind)
{
    return strcmp(kind, "user") == 0    ? "user"
           : strcmp(kind, "role") == 0  ? "role"
           : strcmp(kind, "group") == 0 ? "group"
                                        : "policy";
}

/* entity_name_field - the document member naming a user, role or group */
static const char *entity_name_field(const char *kind)
{
    return strcmp(kind, "user") == 0   ? "UserName"
           : strcmp(kind, "role") == 0 ? "RoleName"
                                       : "GroupName";
}

struct same_name {
    const char *field, *want, *self;
    char *found; /* owned */
};

static void find_same_name(cJSON *doc, void *arg)
{
    struct same_name *sn = arg;
    const char *n = iam_jstr(doc, sn->field);

    if (!sn->found && strcasecmp(n, sn->want) == 0 && !(sn->self && strcmp(n, sn->self) == 0))
        sn->found = xstrdup(n);
}

enum err_code iam_name_taken(struct store_txn *t, const char *kind, const char *name,
                             const char *self, struct err *e)
{
    struct same_name sn = {entity_name_field(kind), name, self, NULL};
    enum err_code rc = iam_txn_doc_each(t, kind, find_same_name, &sn, e);

    if (rc == ERR_OK && sn.found)
        rc = err_set(e, ERR_IN_USE, "%s with name %s already exists.",
                     strcmp(kind, "user") == 0   ? "User"
                     : strcmp(kind, "role") == 0 ? "Role"
                                                 : "Group",
                     sn.found);
    free(sn.found);
    return rc;
}

enum err_code iam_missing(struct err *e, const char *kind, const char *name)
{
    if (strcmp(kind, "oidc") == 0)
        return err_set(e, ERR_NOTFOUND, "OpenIDConnect Provider not found for arn %s", name);
    if (strcmp(kind, "policy") == 0)
        return err_set(e, ERR_NOTFOUND, "Policy %s does not exist or is not attachable.", name);
    if (strcmp(kind, "instance-profile") == 0)
        return err_set(e, ERR_NOTFOUND, "Instance Profile %s cannot be found.", name);
    return err_set(e, ERR_NOTFOUND, "The %s with name %s cannot be found.", entity_word(kind),
                   name);
}

struct key_scan {
    const char *user;
    int n;
};

static void count_keys(cJSON *doc, void *arg)
{
    struct key_scan *ks = arg;

    if (strcmp(iam_jstr(doc, "UserName"), ks->user) == 0)
        ks->n++;
}

/* key_create - access key @w->a (secret @w->b) of user @user (ARN @arn;
 * "" and the account's ARN for the root, marked "Root"), at most
 * MAX_KEYS_PER_USER per user. */
static enum err_code key_create(struct store_txn *t, struct iam_write *w, const char *user,
                                const char *arn, const char *now, struct err *e)
{
    struct key_scan ks = {user, 0};
    enum err_code rc;
    cJSON *k;

    iam_txn_doc_each(t, "key", count_keys, &ks, NULL);
    if (ks.n >= MAX_KEYS_PER_USER)
        return err_set(e, ERR_LIMIT, "Cannot exceed quota for AccessKeysPerUser: %d",
                       MAX_KEYS_PER_USER);
    k = cJSON_CreateObject();
    cJSON_AddStringToObject(k, "UserName", user);
    cJSON_AddStringToObject(k, "UserArn", arn);
    if (!*user)
        cJSON_AddBoolToObject(k, "Root", true);
    cJSON_AddStringToObject(k, "AccessKeyId", w->a);
    cJSON_AddStringToObject(k, "SecretAccessKey", w->b);
    cJSON_AddStringToObject(k, "Status", "Active");
    cJSON_AddStringToObject(k, "CreateDate", now);
    rc = iam_txn_doc_put(t, "key", w->a, k, e);
    cJSON_Delete(k);
    return rc;
}

static enum err_code apply_delete(struct store_txn *t, struct iam_write *w, cJSON *doc,
                                  struct err *e)
{
    if (strcmp(w->kind, "policy") == 0) {
        struct iam_attach_count ac = {iam_jstr(doc, "Arn"), 0};
        iam_txn_doc_each(t, "user", iam_count_attached, &ac, NULL);
        iam_txn_doc_each(t, "role", iam_count_attached, &ac, NULL);
        iam_txn_doc_each(t, "group", iam_count_attached, &ac, NULL);
        iam_txn_doc_each(t, "user", count_boundary, &ac, NULL);
        iam_txn_doc_each(t, "role", count_boundary, &ac, NULL);
        if (ac.n)
            return err_set(e, ERR_CONFLICT, "Cannot delete a policy attached to entities.");
        if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "Versions")) > 1)
            return err_set(e, ERR_CONFLICT,
                           "This policy has more than one version. Before you delete a policy, "
                           "you must delete the policy's versions. The default version is "
                           "deleted with the policy.");
    } else if (strcmp(w->kind, "instance-profile") == 0) {
        if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "Roles")) > 0)
            return err_set(e, ERR_CONFLICT,
                           "Cannot delete entity, must remove roles from instance profile first.");
    } else {
        struct key_scan ks = {w->name, 0};
        if (strcmp(w->kind, "role") == 0) {
            struct member_scan ms = {w->name, 0};
            iam_txn_doc_each(t, "instance-profile", count_profile_roles, &ms, NULL);
            if (ms.n)
                return err_set(e, ERR_CONFLICT,
                               "Cannot delete entity, must remove roles from instance profile "
                               "first.");
        }
        if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "Policies")) > 0)
            return err_set(e, ERR_CONFLICT, "Cannot delete entity, must delete policies first.");
        if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "Attached")) > 0)
            return err_set(e, ERR_CONFLICT,
                           "Cannot delete entity, must detach all policies first.");
        if (strcmp(w->kind, "group") == 0) {
            struct member_scan ms = {w->name, 0};
            iam_txn_doc_each(t, "user", count_members, &ms, NULL);
            if (ms.n)
                return err_set(e, ERR_CONFLICT,
                               "Cannot delete entity, must remove users from group first.");
        }
        if (strcmp(w->kind, "user") == 0 &&
            cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "Groups")) > 0)
            return err_set(e, ERR_CONFLICT,
                           "Cannot delete entity, must remove users from group first.");
        if (strcmp(w->kind, "user") == 0) {
            iam_txn_doc_each(t, "key", count_keys, &ks, NULL);
            if (ks.n)
                return err_set(e, ERR_CONFLICT,
                               "Cannot delete entity, must delete access keys first.");
        }
    }
    return iam_txn_doc_del(t, w->kind, w->name, e);
}

/* own_name - point @w->a, the name of a @kind ("group", "role") the write
 * involves, at that entity's own name, whatever the case asked (kept in
 * @w->out); NoSuchEntity when there is none. */
static enum err_code own_name(struct store_txn *t, const char *kind, struct iam_write *w,
                              struct err *e)
{
    cJSON *d = NULL;
    enum err_code rc = iam_txn_doc_get(t, kind, w->a, &d, e);

    if (rc == ERR_OK) {
        snprintf(w->out, sizeof(w->out), "%s", iam_jstr(d, entity_name_field(kind)));
        w->a = w->out;
    }
    cJSON_Delete(d);
    return rc == ERR_NOTFOUND ? iam_missing(e, kind, w->a) : rc;
}

static enum err_code apply_write(struct store_txn *t, void *arg, struct err *e)
{
    struct iam_write *w = arg;
    cJSON *doc = NULL, *x;
    enum err_code rc;
    char now[32];

    iam_now_iso(now, 0);
    if (w->op == W_KEY_CREATE && !*w->name) /* the account root's own key */
        return key_create(t, w, "", w->out, now, e);
    if (w->op == W_KEY_DELETE || w->op == W_KEY_STATUS) {
        rc = iam_txn_doc_get(t, "key", w->a, &doc, e);
        if (rc == ERR_NOTFOUND ||
            (rc == ERR_OK && strcasecmp(iam_jstr(doc, "UserName"), w->name) != 0))
            rc = err_set(e, ERR_NOTFOUND, "The Access Key with id %s cannot be found.", w->a);
        if (rc == ERR_OK && w->op == W_KEY_DELETE) {
            rc = iam_txn_doc_del(t, "key", w->a, e);
        } else if (rc == ERR_OK) {
            cJSON_ReplaceItemInObjectCaseSensitive(doc, "Status", cJSON_CreateString(w->b));
            rc = iam_txn_doc_put(t, "key", w->a, doc, e);
        }
        cJSON_Delete(doc);
        return rc;
    }
    rc = iam_txn_doc_get(t, w->kind, w->name, &doc, e);
    if (w->op == W_CREATE) {
        cJSON_Delete(doc);
        if (rc == ERR_OK) {
            if (strcmp(w->kind, "oidc") == 0)
                return err_set(e, ERR_IN_USE, "Provider with url %s already exists.", w->b);
            if (strcmp(w->kind, "policy") == 0)
                return err_set(e, ERR_IN_USE,
                               "A policy called %s already exists. Duplicate names are not "
                               "allowed.",
                               w->name);
            if (strcmp(w->kind, "instance-profile") == 0)
                return err_set(e, ERR_IN_USE, "Instance Profile %s already exists.", w->name);
            return err_set(e, ERR_IN_USE, "%s with name %s already exists.",
                           strcmp(w->kind, "user") == 0   ? "User"
                           : strcmp(w->kind, "role") == 0 ? "Role"
                                                          : "Group",
                           w->name);
        }
        if (rc != ERR_NOTFOUND)
            return rc;
        return iam_txn_doc_put(t, w->kind, w->name, w->doc, e);
    }
    if (rc == ERR_NOTFOUND)
        return iam_missing(
            e, w->kind,
            strcmp(w->kind, "policy") == 0 || strcmp(w->kind, "oidc") == 0 ? w->b : w->name);
    if (rc)
        return rc;
    if ((strcmp(w->kind, "user") == 0 || strcmp(w->kind, "role") == 0 ||
         strcmp(w->kind, "group") == 0) &&
        strcmp(iam_jstr(doc, entity_name_field(w->kind)), w->name) != 0) { /* other case */
        snprintf(w->canon, sizeof(w->canon), "%s", iam_jstr(doc, entity_name_field(w->kind)));
        w->name = w->canon;
    }
    switch (w->op) {
    case W_DELETE:
        rc = apply_delete(t, w, doc, e);
        goto out;
    case W_RENAME:
        rc = iam_apply_rename(t, w, doc, e);
        goto out;
    case W_OIDC:
        if ((rc = iam_apply_oidc(w, doc, e)))
            goto out;
        break;
    case W_PUT_INLINE:
        x = iam_jobj(doc, "Policies");
        cJSON_DeleteItemFromObjectCaseSensitive(x, w->a);
        cJSON_AddStringToObject(x, w->a, w->b);
        break;
    case W_DEL_INLINE:
        x = iam_jobj(doc, "Policies");
        if (!cJSON_GetObjectItemCaseSensitive(x, w->a)) {
            rc = err_set(e, ERR_NOTFOUND, "The %s policy with name %s cannot be found.",
                         entity_word(w->kind), w->a);
            goto out;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(x, w->a);
        break;
    case W_ATTACH:
        if (!policy_exists(t, w->a)) {
            rc = err_set(e, ERR_NOTFOUND, "Policy %s does not exist or is not attachable.", w->a);
            goto out;
        }
        x = iam_jarr(doc, "Attached");
        if (str_index(x, w->a) >= 0)
            goto out;
        if (cJSON_GetArraySize(x) >= MAX_ATTACHED) {
            rc = err_set(e, ERR_LIMIT, "Cannot exceed quota for PoliciesPer%s: %d",
                         strcmp(w->kind, "user") == 0   ? "User"
                         : strcmp(w->kind, "role") == 0 ? "Role"
                                                        : "Group",
                         MAX_ATTACHED);
            goto out;
        }
        cJSON_AddItemToArray(x, cJSON_CreateString(w->a));
        break;
    case W_ADD_MEMBER:
    case W_DEL_MEMBER: {
        int i;
        if ((rc = own_name(t, "group", w, e)))
            goto out;
        x = iam_jarr(doc, "Groups");
        i = str_index(x, w->a);
        if (w->op == W_DEL_MEMBER) {
            if (i >= 0) /* removing a user who is not a member succeeds, as on IAM */
                cJSON_DeleteItemFromArray(x, i);
        } else if (i < 0) {
            if (cJSON_GetArraySize(x) >= MAX_GROUPS_PER_USER) {
                rc = err_set(e, ERR_LIMIT, "Cannot exceed quota for GroupsPerUser: %d",
                             MAX_GROUPS_PER_USER);
                goto out;
            }
            cJSON_AddItemToArray(x, cJSON_CreateString(w->a));
        }
        break;
    }
    case W_PROFILE_ROLE: {
        int i;
        if ((rc = own_name(t, "role", w, e)))
            goto out;
        x = iam_jarr(doc, "Roles");
        i = str_index(x, w->a);
        if (w->flag && i < 0) {
            rc = iam_missing(e, "role", w->a);
            goto out;
        }
        if (w->flag) {
            cJSON_DeleteItemFromArray(x, i);
        } else if (cJSON_GetArraySize(x) >= 1) { /* one role per instance profile */
            rc = err_set(e, ERR_LIMIT,
                         "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1");
            goto out;
        } else {
            cJSON_AddItemToArray(x, cJSON_CreateString(w->a));
        }
        break;
    }
    case W_BOUNDARY:
        if (!policy_exists(t, w->a)) {
            rc = err_set(e, ERR_NOTFOUND, "Scope ARN: %s does not exist or is not attachable.",
                         w->a);
            goto out;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(doc, "PermissionsBoundary");
        cJSON_AddStringToObject(doc, "PermissionsBoundary", w->a);
        break;
    case W_BOUNDARY_DEL:
        cJSON_DeleteItemFromObjectCaseSensitive(doc, "PermissionsBoundary");
        break;
    case W_DETACH: {
        int i;
        x = iam_jarr(doc, "Attached");
        if ((i = str_index(x, w->a)) < 0) {
            rc = err_set(e, ERR_NOTFOUND, "Policy %s was not found.", w->a);
            goto out;
        }
        cJSON_DeleteItemFromArray(x, i);
        break;
    }
    case W_TAG: {
        cJSON *tags = iam_jarr(doc, "Tags"), *nt, *ot;
        /* a key already there is replaced where it stands, keeping the
         * order; users' and roles' tag keys are case insensitive, a
         * policy's are not (IAM keeps "a" and "A" apart there) */
        bool fold = strcmp(w->kind, "policy") != 0;
        cJSON_ArrayForEach(nt, w->doc)
        {
            int i = 0;
            cJSON_ArrayForEach(ot, tags)
            {
                if ((fold ? strcasecmp : strcmp)(iam_jstr(ot, "Key"), iam_jstr(nt, "Key")) == 0)
                    break;
                i++;
            }
            if (ot)
                cJSON_ReplaceItemInArray(tags, i, cJSON_Duplicate(nt, 1));
            else
                cJSON_AddItemToArray(tags, cJSON_Duplicate(nt, 1));
        }
        if (cJSON_GetArraySize(tags) > MAX_TAGS) {
            rc = err_set(e, ERR_LIMIT, "Cannot exceed quota for TagsPerEntity: %d", MAX_TAGS);
            goto out;
        }
        break;
    }
    case W_UNTAG: {
        cJSON *tags = iam_jarr(doc, "Tags"), *k, *ot;
        bool fold = strcmp(w->kind, "policy") != 0;
        cJSON_ArrayForEach(k, w->doc)
        {
            int i = 0;
            cJSON_ArrayForEach(ot, tags)
            {
                if ((fold ? strcasecmp : strcmp)(iam_jstr(ot, "Key"), k->valuestring) == 0)
                    break;
                i++;
            }
            if (ot)
                cJSON_DeleteItemFromArray(tags, i);
        }
        break;
    }
    case W_ROLE_UPDATE:
        if (w->a) {
            cJSON_DeleteItemFromObjectCaseSensitive(doc, "Description");
            cJSON_AddStringToObject(doc, "Description", w->a);
        }
        if (w->b) {
            cJSON_DeleteItemFromObjectCaseSensitive(doc, "MaxSessionDuration");
            cJSON_AddNumberToObject(doc, "MaxSessionDuration", strtod(w->b, NULL));
        }
        break;
    case W_TRUST:
        cJSON_DeleteItemFromObjectCaseSensitive(doc, "AssumeRolePolicyDocument");
        cJSON_AddStringToObject(doc, "AssumeRolePolicyDocument", w->a);
        break;
    case W_NEW_VERSION: {
        cJSON *vers = iam_jarr(doc, "Versions"), *v,
              *next = cJSON_GetObjectItemCaseSensitive(doc, "NextVersion");
        int n = next ? next->valueint : 2;
        if (cJSON_GetArraySize(vers) >= MAX_VERSIONS) {
            rc = err_set(e, ERR_LIMIT,
                         "A managed policy can have up to %d versions. Before you create a new "
                         "version, you must delete an existing version.",
                         MAX_VERSIONS);
            goto out;
        }
        snprintf(w->out, sizeof(w->out), "v%d", n);
        v = cJSON_CreateObject();
        cJSON_AddStringToObject(v, "VersionId", w->out);
        cJSON_AddStringToObject(v, "Document", w->a);
        cJSON_AddStringToObject(v, "CreateDate", now);
        cJSON_AddItemToArray(vers, v);
        cJSON_DeleteItemFromObjectCaseSensitive(doc, "NextVersion");
        cJSON_AddNumberToObject(doc, "NextVersion", n + 1);
        if (w->flag) {
            cJSON_DeleteItemFromObjectCaseSensitive(doc, "DefaultVersionId");
            cJSON_AddStringToObject(doc, "DefaultVersionId", w->out);
        }
        cJSON_DeleteItemFromObjectCaseSensitive(doc, "UpdateDate");
        cJSON_AddStringToObject(doc, "UpdateDate", now);
        break;
    }
    case W_DEL_VERSION:
    case W_SET_DEFAULT: {
        cJSON *vers = iam_jarr(doc, "Versions"), *v;
        int i = 0;
        cJSON_ArrayForEach(v, vers)
        {
            if (strcmp(iam_jstr(v, "VersionId"), w->a) == 0)
                break;
            i++;
        }
        if (!v) {
            rc = err_set(e, ERR_NOTFOUND,
                         "Policy %s version %s does not exist or is not attachable.", w->b, w->a);
            goto out;
        }
        if (w->op == W_DEL_VERSION) {
            if (strcmp(iam_jstr(doc, "DefaultVersionId"), w->a) == 0) {
                rc = err_set(e, ERR_CONFLICT, "Cannot delete the default version of a policy.");
                goto out;
            }
            cJSON_DeleteItemFromArray(vers, i);
        } else {
            cJSON_DeleteItemFromObjectCaseSensitive(doc, "DefaultVersionId");
            cJSON_AddStringToObject(doc, "DefaultVersionId", w->a);
        }
        break;
    }
    case W_KEY_CREATE:
        rc = key_create(t, w, w->name, iam_jstr(doc, "Arn"), now, e);
        goto out;
    default:
        break;
    }
    rc = iam_txn_doc_put(t, w->kind, w->name, doc, e);
out:
    cJSON_Delete(doc);
    return rc;
}

/* write - run @w; answers @c on failure and returns false. */
bool iam_write(struct iam_call *c, struct iam_write *w)
{
    struct err e = {0};
    enum err_code rc;

    if (!c->iam->home) { /* only home writes identity data; others forward (forward.c) */
        iam_fail(c, 500, "ServiceFailure", "IAM changes are made in the home region %s",
                 c->iam->home_region);
        return false;
    }
    rc = store_write(c->iam->store, apply_write, w, &e);
    iam_gen_bump(c->iam); /* after the commit (cache.c) */
    if (rc) {
        iam_fail_err(c, rc, &e);
        return false;
    }
    iam_sync_notify(c->iam);
    return true;
}
