/* creds.c - see creds.h.
 *
 * A sorted array of identities searched with bsearch under a rwlock: key
 * counts are small (root, a credentials file, STS sessions), lookups are on
 * every request, additions are rare. */
#include "creds.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

#define CREDS_DEFAULT_ACCOUNT "000000000000"
#define CREDS_FILE_MAX        (16u << 20)

struct creds {
    pthread_rwlock_t lock;
    struct creds_identity *ids; /* owned, sorted by access_key */
    size_t n, cap;
    char account[13];
};

struct creds *creds_new(void)
{
    struct creds *c = xcalloc(1, sizeof(*c));

    pthread_rwlock_init(&c->lock, NULL);
    memcpy(c->account, CREDS_DEFAULT_ACCOUNT, sizeof(c->account));
    return c;
}

void creds_free(struct creds *c)
{
    if (!c)
        return;
    pthread_rwlock_destroy(&c->lock);
    free(c->ids);
    free(c);
}

static bool creds_account_valid(const char *a)
{
    size_t i;

    for (i = 0; a[i]; i++)
        if (a[i] < '0' || a[i] > '9')
            return false;
    return i == 12;
}

void creds_set_account(struct creds *c, const char *account)
{
    if (!account || !creds_account_valid(account))
        return;
    pthread_rwlock_wrlock(&c->lock);
    memcpy(c->account, account, sizeof(c->account));
    pthread_rwlock_unlock(&c->lock);
}

const char *creds_account(const struct creds *c)
{
    /* The account is written only by creds_set_account, at startup; the
     * pointer stays valid for the life of @c. */
    return c->account;
}

/* creds_find - index of @key, or the insertion point with *found false. */
static size_t creds_find(const struct creds *c, const char *key, bool *found)
{
    size_t lo = 0, hi = c->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(c->ids[mid].access_key, key);
        if (cmp == 0) {
            *found = true;
            return mid;
        }
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

/* creds_field_len - length of a fixed-size field, or @cap when unterminated. */
static size_t creds_field_len(const char *s, size_t cap)
{
    return strnlen(s, cap);
}

/* creds_prepare - validate @in and fill @out with defaults and the derived ARN. */
static enum err_code creds_prepare(const struct creds_identity *in, const char *account,
                                   struct creds_identity *out, struct err *e)
{
    size_t klen = creds_field_len(in->access_key, sizeof(in->access_key));
    size_t slen = creds_field_len(in->secret, sizeof(in->secret));
    size_t i;

    if (klen == 0 || klen >= sizeof(in->access_key))
        return err_set(e, ERR_INVALID, "access key must be 1 to %zu characters",
                       sizeof(in->access_key) - 1);
    for (i = 0; i < klen; i++)
        if ((unsigned char)in->access_key[i] <= ' ' || in->access_key[i] == '/' ||
            (unsigned char)in->access_key[i] >= 0x7f)
            return err_set(e, ERR_INVALID, "access key has a character that is not allowed");
    if (slen == 0 || slen >= sizeof(in->secret))
        return err_set(e, ERR_INVALID, "secret key must be 1 to %zu characters",
                       sizeof(in->secret) - 1);
    if (creds_field_len(in->account, sizeof(in->account)) >= sizeof(in->account) ||
        creds_field_len(in->user, sizeof(in->user)) >= sizeof(in->user) ||
        creds_field_len(in->arn, sizeof(in->arn)) >= sizeof(in->arn) ||
        creds_field_len(in->session_token, sizeof(in->session_token)) >= sizeof(in->session_token))
        return err_set(e, ERR_INVALID, "identity field not NUL-terminated");

    *out = *in;
    if (!out->account[0])
        memcpy(out->account, account, sizeof(out->account));
    if (!creds_account_valid(out->account))
        return err_set(e, ERR_INVALID, "account must be 12 digits, got '%s'", out->account);
    if (!out->user[0]) {
        strcpy(out->user, "root");
        out->root = true;
    }
    if (!out->arn[0]) {
        if (out->root)
            snprintf(out->arn, sizeof(out->arn), "arn:aws:iam::%s:root", out->account);
        else
            snprintf(out->arn, sizeof(out->arn), "arn:aws:iam::%s:user/%s", out->account,
                     out->user);
    }
    return ERR_OK;
}

/* creds_insert - add or replace @id; caller holds the write lock. */
static void creds_insert(struct creds *c, const struct creds_identity *id)
{
    bool found;
    size_t at = creds_find(c, id->access_key, &found);

    if (found) {
        c->ids[at] = *id;
        return;
    }
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 8;
        c->ids = xrealloc(c->ids, c->cap * sizeof(*c->ids));
    }
    memmove(&c->ids[at + 1], &c->ids[at], (c->n - at) * sizeof(*c->ids));
    c->ids[at] = *id;
    c->n++;
}

enum err_code creds_add(struct creds *c, const struct creds_identity *id, struct err *e)
{
    struct creds_identity *tmp = xmalloc(sizeof(*tmp));
    enum err_code rc;

    pthread_rwlock_wrlock(&c->lock);
    rc = creds_prepare(id, c->account, tmp, e);
    if (rc == ERR_OK)
        creds_insert(c, tmp);
    pthread_rwlock_unlock(&c->lock);
    free(tmp);
    return rc;
}

bool creds_remove(struct creds *c, const char *access_key)
{
    bool found = false;
    size_t at;

    if (!access_key)
        return false;
    pthread_rwlock_wrlock(&c->lock);
    at = creds_find(c, access_key, &found);
    if (found) {
        memmove(&c->ids[at], &c->ids[at + 1], (c->n - at - 1) * sizeof(*c->ids));
        c->n--;
    }
    pthread_rwlock_unlock(&c->lock);
    return found;
}

bool creds_lookup(struct creds *c, const char *access_key, struct creds_identity *out)
{
    bool found = false;
    size_t at;

    if (!access_key)
        return false;
    pthread_rwlock_rdlock(&c->lock);
    at = creds_find(c, access_key, &found);
    if (found)
        *out = c->ids[at];
    pthread_rwlock_unlock(&c->lock);
    return found;
}

/* creds_read_file - the whole file, NUL-terminated (owned, free()). */
static enum err_code creds_read_file(const char *path, char **out, struct err *e)
{
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    size_t len = 0, cap = 0;
    enum err_code rc = ERR_OK;

    if (!f)
        return err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
    for (;;) {
        size_t got;
        if (cap - len < 4096) {
            cap = cap ? cap * 2 : 8192;
            data = xrealloc(data, cap + 1);
        }
        got = fread(data + len, 1, cap - len, f);
        len += got;
        if (len > CREDS_FILE_MAX) {
            rc = err_set(e, ERR_TOO_LARGE, "%s: larger than %u bytes", path, CREDS_FILE_MAX);
            goto out;
        }
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        rc = err_set(e, ERR_IO, "%s: read error", path);
        goto out;
    }
    data[len] = '\0';
    *out = data;
    data = NULL;
out:
    fclose(f);
    free(data);
    return rc;
}

/* creds_json_str - copy string member @name of @o into @dst; absent is ok. */
static enum err_code creds_json_str(const cJSON *o, const char *name, char *dst, size_t cap,
                                    const char *path, int idx, struct err *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

    if (!v || cJSON_IsNull(v))
        return ERR_OK;
    if (!cJSON_IsString(v) || !v->valuestring)
        return err_set(e, ERR_INVALID, "%s: credentials[%d]: \"%s\" must be a string", path, idx,
                       name);
    if (strlen(v->valuestring) >= cap)
        return err_set(e, ERR_INVALID, "%s: credentials[%d]: \"%s\" longer than %zu characters",
                       path, idx, name, cap - 1);
    strcpy(dst, v->valuestring);
    return ERR_OK;
}

enum err_code creds_load_file(struct creds *c, const char *path, struct err *e)
{
    char *text = NULL;
    cJSON *root = NULL;
    struct creds_identity *ids = NULL; /* validated entries, added all at once */
    const cJSON *list, *item;
    char account[13];
    int n = 0, i = 0;
    enum err_code rc;

    rc = creds_read_file(path, &text, e);
    if (rc)
        return rc;
    root = cJSON_Parse(text);
    if (!root) {
        rc = err_set(e, ERR_INVALID, "%s: not valid JSON", path);
        goto out;
    }
    list = cJSON_GetObjectItemCaseSensitive(root, "credentials");
    if (!cJSON_IsObject(root) || !cJSON_IsArray(list)) {
        rc = err_set(e, ERR_INVALID, "%s: expected {\"credentials\": [...]}", path);
        goto out;
    }
    n = cJSON_GetArraySize(list);
    ids = xcalloc(n ? (size_t)n : 1, sizeof(*ids));
    pthread_rwlock_rdlock(&c->lock);
    memcpy(account, c->account, sizeof(account));
    pthread_rwlock_unlock(&c->lock);

    cJSON_ArrayForEach(item, list)
    {
        struct creds_identity in;
        const cJSON *r;

        memset(&in, 0, sizeof(in));
        if (!cJSON_IsObject(item)) {
            rc = err_set(e, ERR_INVALID, "%s: credentials[%d]: expected an object", path, i);
            goto out;
        }
        if ((rc = creds_json_str(item, "accessKeyId", in.access_key, sizeof(in.access_key), path, i,
                                 e)) ||
            (rc = creds_json_str(item, "secretAccessKey", in.secret, sizeof(in.secret), path, i,
                                 e)) ||
            (rc = creds_json_str(item, "account", in.account, sizeof(in.account), path, i, e)) ||
            (rc = creds_json_str(item, "user", in.user, sizeof(in.user), path, i, e)))
            goto out;
        if (!in.access_key[0] || !in.secret[0]) {
            rc = err_set(e, ERR_INVALID, "%s: credentials[%d]: %s missing", path, i,
                         !in.access_key[0] ? "accessKeyId" : "secretAccessKey");
            goto out;
        }
        r = cJSON_GetObjectItemCaseSensitive(item, "root");
        if (r && !cJSON_IsBool(r)) {
            rc = err_set(e, ERR_INVALID, "%s: credentials[%d]: \"root\" must be true or false",
                         path, i);
            goto out;
        }
        /* "user" defaults to "root" with root true; a named user is not the
         * root unless the entry says so. */
        in.root = r ? cJSON_IsTrue(r) : (!in.user[0] || strcmp(in.user, "root") == 0);
        rc = creds_prepare(&in, account, &ids[i], e);
        if (rc) {
            char why[sizeof(e->msg)];
            snprintf(why, sizeof(why), "%s", e ? e->msg : "invalid");
            rc = err_set(e, rc, "%s: credentials[%d]: %s", path, i, why);
            goto out;
        }
        i++;
    }
    pthread_rwlock_wrlock(&c->lock);
    for (i = 0; i < n; i++)
        creds_insert(c, &ids[i]);
    pthread_rwlock_unlock(&c->lock);
    rc = ERR_OK;
out:
    free(ids);
    cJSON_Delete(root);
    free(text);
    return rc;
}
