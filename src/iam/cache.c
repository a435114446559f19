/* cache.c - the parsed policies of recent principals, so that a request does
 * not re-read and re-parse its caller's user or role document, groups,
 * managed policies and session policies each time.
 *
 * Correctness rests on one counter, iam->gen: every change to identity data
 * (a local write, a change applied from home, a session stored or kept) bumps
 * it AFTER the change is visible, and a loader reads it BEFORE it reads the
 * store. An entry is used only while its generation is the current one, so
 * a request that begins after a change's bump never sees what was loaded
 * before it. Any change drops every entry (identity data changes rarely;
 * requests are many). Entries are shared read-only between threads and freed
 * by the last user. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "iam_int.h"
#include "mem.h"

struct iam_cached {
    char *key;
    uint64_t gen;
    int refs; /* the slot's + each user's; under cache_mu */
    cJSON *doc;
    struct iam_policies ps;
    struct iam_policies sess;
    bool has_session;
};

void iam_gen_bump(struct iam *iam)
{
    __atomic_add_fetch(&iam->gen, 1, __ATOMIC_SEQ_CST);
}

static size_t slot_of(const char *key)
{
    size_t h = 5381;

    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = h * 33 + *p;
    return h % IAM_CACHE_SLOTS;
}

static void entry_free(struct iam_cached *x)
{
    free(x->key);
    cJSON_Delete(x->doc);
    iam_policies_free(&x->ps);
    iam_policies_free(&x->sess);
    free(x);
}

static void unref_locked(struct iam_cached *x, struct iam_cached **dead)
{
    if (--x->refs == 0)
        *dead = x;
}

const char *iam_session_role(const char *arn, char role[128])
{
    const char *r = strstr(arn, ":assumed-role/"), *s;

    if (!r)
        return NULL;
    r += 14;
    s = strchr(r, '/');
    snprintf(role, 128, "%.*s", (int)(s ? s - r : (long)strlen(r)), r);
    return s ? s + 1 : "";
}

const char *iam_federated_name(const char *arn)
{
    const char *f = strstr(arn, ":federated-user/");

    return f ? f + 16 : NULL;
}

/* merge_tags - a role session's principal tags: the role's tags with the
 * session's tags over them (a session tag wins over a role tag of the same
 * key, compared without regard to case, as IAM does). */
static void merge_tags(cJSON *role, const cJSON *session)
{
    cJSON *have = iam_jarr(role, "Tags");
    const cJSON *t;

    cJSON_ArrayForEach(t, session)
    {
        const char *k = iam_jstr(t, "Key");
        int i = 0;
        for (cJSON *r = have->child; r; r = r->next, i++) {
            if (strcasecmp(iam_jstr(r, "Key"), k) == 0) {
                cJSON_DeleteItemFromArray(have, i);
                break;
            }
        }
        cJSON_AddItemToArray(have, cJSON_Duplicate(t, 1));
    }
}

/* load - what iam_authorize needs of principal @who, read now. */
static struct iam_cached *load(struct iam *iam, const struct creds_identity *who, const char *key,
                               uint64_t gen)
{
    struct iam_cached *x = xcalloc(1, sizeof(*x));
    char role[128];
    cJSON *tags = NULL;

    x->key = xstrdup(key);
    x->gen = gen;
    if (iam_session_role(who->arn, role)) {
        if (iam_doc_get(iam, "role", role, &x->doc, NULL) != ERR_OK)
            x->doc = NULL;
        x->has_session = iam_session_policies(iam, who->access_key, &x->sess, &tags);
        if (x->doc && tags)
            merge_tags(x->doc, tags);
        cJSON_Delete(tags);
        if (x->doc) { /* the session's source identity, as authz.c reads it */
            cJSON *sd = iam_session_doc(iam, who->access_key);
            if (*iam_jstr(sd, "SourceIdentity"))
                cJSON_AddStringToObject(x->doc, "SourceIdentity", iam_jstr(sd, "SourceIdentity"));
            cJSON_Delete(sd);
        }
    } else if (iam_federated_name(who->arn)) {
        /* a federated user session (GetFederationToken): the user's policies
         * and the session's, whose intersection it may use; without session
         * policies it may use nothing ("Permissions for GetFederationToken").
         * The account root's session names IAM_FEDERATED_ROOT, no user: it
         * has no policies of its own, its session policies are its identity's
         * too. */
        bool root = strcmp(who->user, IAM_FEDERATED_ROOT) == 0;
        if (root || iam_doc_get(iam, "user", who->user, &x->doc, NULL) != ERR_OK)
            x->doc = NULL;
        iam_session_policies(iam, who->access_key, &x->sess, &tags);
        x->has_session = true;
        if (root) {
            cJSON *more = NULL;
            iam_session_policies(iam, who->access_key, &x->ps, &more);
            cJSON_Delete(more);
        }
        if (x->doc && tags)
            merge_tags(x->doc, tags);
        cJSON_Delete(tags);
    } else if (strstr(who->arn, ":user/") &&
               iam_doc_get(iam, "user", who->user, &x->doc, NULL) != ERR_OK) {
        x->doc = NULL;
    }
    if (x->doc)
        iam_entity_policies(iam, x->doc, &x->ps);
    return x;
}

const struct iam_cached *iam_cache_get(struct iam *iam, const struct creds_identity *who,
                                       const cJSON **doc, const struct iam_policies **ps,
                                       const struct iam_policies **sess, bool *has_session)
{
    struct iam_cached *x = NULL, *dead = NULL;
    char *key = NULL;
    uint64_t gen = __atomic_load_n(&iam->gen, __ATOMIC_SEQ_CST);
    size_t n, slot;

    /* a session's policies belong to its key; a user's to the user */
    n = strlen(who->arn) + strlen(who->access_key) + 2;
    key = xmalloc(n);
    snprintf(key, n, "%s\n%s", who->arn,
             strstr(who->arn, ":assumed-role/") || iam_federated_name(who->arn) ? who->access_key
                                                                                : "");
    slot = slot_of(key);
    pthread_mutex_lock(&iam->cache_mu);
    if (iam->cache[slot] && iam->cache[slot]->gen == gen &&
        strcmp(iam->cache[slot]->key, key) == 0) {
        x = iam->cache[slot];
        x->refs++;
    }
    pthread_mutex_unlock(&iam->cache_mu);
    if (!x) {
        x = load(iam, who, key, gen);
        x->refs = 2; /* the slot's and ours */
        pthread_mutex_lock(&iam->cache_mu);
        if (iam->cache[slot])
            unref_locked(iam->cache[slot], &dead);
        iam->cache[slot] = x;
        pthread_mutex_unlock(&iam->cache_mu);
        if (dead)
            entry_free(dead);
    }
    free(key);
    *doc = x->doc;
    *ps = &x->ps;
    *sess = &x->sess;
    *has_session = x->has_session;
    return x;
}

void iam_cache_put(struct iam *iam, const struct iam_cached *cx)
{
    struct iam_cached *x = (struct iam_cached *)cx, *dead = NULL;

    if (!x)
        return;
    pthread_mutex_lock(&iam->cache_mu);
    unref_locked(x, &dead);
    pthread_mutex_unlock(&iam->cache_mu);
    if (dead)
        entry_free(dead);
}

void iam_cache_free(struct iam *iam)
{
    for (size_t i = 0; i < IAM_CACHE_SLOTS; i++) {
        if (iam->cache[i])
            entry_free(iam->cache[i]);
        iam->cache[i] = NULL;
    }
}
