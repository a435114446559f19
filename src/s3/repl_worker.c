/* repl_worker.c - the replication worker (s3_repl.h): a thread that takes
 * the queue's entries in order, finds each destination bucket's region
 * (itself or a peer), checks the rule's role, PUTs the version there as a
 * replica and marks the outcome on the source version (rs, rd). A
 * destination that does not answer is retried with a growing backoff (its
 * later entries wait behind it, in order); the other destinations go on. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "awsc.h"
#include "clock.h"
#include "codec.h"
#include "log.h"
#include "mem.h"
#include "s3_repl.h"
#include "worker.h"

enum { MAX_DESTS = 64, MAX_BATCH = 64, MAX_SCAN = 4096 };

struct dest {
    char bucket[64];
    char region[32];
    char url[256];
    bool known;
    int64_t until_ms;   /* unreachable: not before */
    int64_t backoff_ms; /* next wait */
    bool blocked;       /* this pass: an earlier entry waits */
};

struct s3_replw {
    struct s3 *s3;
    struct worker *worker; /* NULL: no copies to make */
    pthread_mutex_t mu;    /* guards self_url */
    char *access_key, *secret, *ca_file, *self_url;
    struct s3_peer *peers; /* owned strings */
    size_t npeers;
    struct dest dests[MAX_DESTS];
    int ndests;
    int max_tries;
};

void s3_set_self_url(struct s3 *s, const char *url)
{
    struct s3_replw *w = s ? s->replw : NULL;

    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    free(w->self_url);
    w->self_url = xstrdup(url);
    pthread_mutex_unlock(&w->mu);
    worker_kick(w->worker);
}

void s3_repl_kick(struct s3 *s)
{
    struct s3_replw *w = s ? s->replw : NULL;

    if (w)
        worker_kick(w->worker);
}

static struct dest *dest_of(struct s3_replw *w, const char *bucket)
{
    struct dest *d;

    for (int i = 0; i < w->ndests; i++)
        if (strcmp(w->dests[i].bucket, bucket) == 0)
            return &w->dests[i];
    if (w->ndests == MAX_DESTS)
        memmove(&w->dests[0], &w->dests[1], sizeof(w->dests[0]) * (MAX_DESTS - 1)), w->ndests--;
    d = &w->dests[w->ndests++];
    memset(d, 0, sizeof(*d));
    snprintf(d->bucket, sizeof(d->bucket), "%s", bucket);
    return d;
}

/* outcomes of one copy */
enum copy_rc { COPY_DONE, COPY_LATER, COPY_REFUSED, COPY_GONE };

static void unreachable(struct dest *d)
{
    d->backoff_ms = d->backoff_ms ? d->backoff_ms * 2 : 100;
    if (d->backoff_ms > 5000)
        d->backoff_ms = 5000;
    d->until_ms = clock_wall_ms() + d->backoff_ms;
}

/* find the region that holds @d->bucket; COPY_DONE when known */
static enum copy_rc locate(struct s3_replw *w, struct dest *d, char *why, size_t cap)
{
    struct awsc_creds c = {.access_key = w->access_key, .secret = w->secret};
    struct store_txn *t = NULL;
    bool here = false, down = false;
    char *self;

    if (d->known)
        return COPY_DONE;
    if (store_read_begin(w->s3->store, &t, NULL) == ERR_OK) {
        struct arena *a = arena_new();
        cJSON *b = s3_bucket_get(t, a, d->bucket);
        here = b != NULL;
        cJSON_Delete(b);
        arena_free(a);
        store_txn_abort(t);
    }
    pthread_mutex_lock(&w->mu);
    self = w->self_url ? xstrdup(w->self_url) : NULL;
    pthread_mutex_unlock(&w->mu);
    if (here) {
        if (!self) {
            free(self);
            snprintf(why, cap, "this region's own address is not known yet");
            return COPY_LATER;
        }
        snprintf(d->region, sizeof(d->region), "%s", w->s3->region);
        snprintf(d->url, sizeof(d->url), "%s", self);
        free(self);
        d->known = true;
        return COPY_DONE;
    }
    free(self);
    for (size_t i = 0; i < w->npeers; i++) {
        struct awsc_resp resp;
        struct err e = {0};
        char *path = xmalloc(strlen(d->bucket) + 2);
        struct awsc_req rq = {.method = "HEAD",
                              .endpoint = w->peers[i].url,
                              .path = path,
                              .region = w->peers[i].region,
                              .service = "s3",
                              .unsigned_payload = true,
                              .timeout_ms = 5000,
                              .ca_file = w->ca_file};
        sprintf(path, "/%s", d->bucket);
        if (awsc_call(&c, &rq, &resp, &e) != ERR_OK) {
            down = true;
        } else if (resp.status == 200) {
            snprintf(d->region, sizeof(d->region), "%s", w->peers[i].region);
            snprintf(d->url, sizeof(d->url), "%s", w->peers[i].url);
            d->known = true;
        } else if (resp.status != 404) {
            down = true; /* not an answer about the bucket */
        }
        awsc_resp_free(&resp);
        free(path);
        if (d->known)
            return COPY_DONE;
    }
    if (down) {
        snprintf(why, cap, "a region could not be asked where bucket %s is", d->bucket);
        return COPY_LATER;
    }
    snprintf(why, cap, "destination bucket %s exists in no region", d->bucket);
    return COPY_REFUSED;
}

/* may the replication role copy @rec? (source side; see s3_repl.h) */
static bool role_allows(struct s3_replw *w, const cJSON *q, const char *action, char *why,
                        size_t cap)
{
    struct s3 *s = w->s3;
    const char *role = json_str_ci(q, "role"), *name;
    struct creds_identity who;
    struct authz_request az = {0};
    struct err e = {0};
    char res[1200];

    if (!s->authz || !role || !*role)
        return true;
    name = strrchr(role, '/');
    name = name ? name + 1 : role;
    memset(&who, 0, sizeof(who));
    snprintf(who.account, sizeof(who.account), "%s", s->account);
    snprintf(who.user, sizeof(who.user), "%s", name);
    snprintf(who.arn, sizeof(who.arn), "arn:aws:sts::%s:assumed-role/%s/s3-replication", s->account,
             name);
    az.who = &who;
    az.action = "s3:GetObjectVersionForReplication";
    snprintf(res, sizeof(res), "arn:aws:s3:::%s/%s", json_str_ci(q, "b"), json_str_ci(q, "k"));
    az.resource = res;
    if (authz_check(s->authz, &az, &e) != ERR_OK) {
        snprintf(why, cap, "%s", e.msg);
        return false;
    }
    az.action = action;
    snprintf(res, sizeof(res), "arn:aws:s3:::%s/%s", json_str_ci(q, "d"), json_str_ci(q, "k"));
    if (authz_check(s->authz, &az, &e) != ERR_OK) {
        snprintf(why, cap, "%s", e.msg);
        return false;
    }
    return true;
}

static bool md5_of_etag(const char *hex, unsigned char out[16])
{
    for (int i = 0; i < 16; i++) {
        unsigned int b;
        if (sscanf(hex + 2 * i, "%2x", &b) != 1)
            return false;
        out[i] = (unsigned char)b;
    }
    return true;
}

static char *url_path(struct arena *a, const char *bucket, const char *key)
{
    return arena_sprintf(a, "/%s/%s", bucket, url_encode(a, key, true));
}

static enum copy_rc copy_one(struct s3_replw *w, struct arena *a, const cJSON *q, char *why,
                             size_t cap)
{
    struct s3 *s = w->s3;
    struct store_txn *t = NULL;
    cJSON *rec = NULL, *hdr;
    struct dest *d = dest_of(w, json_str_ci(q, "d"));
    struct awsc_creds c = {.access_key = w->access_key, .secret = w->secret};
    struct awsc_header hs[8];
    struct awsc_resp resp;
    struct err e = {0};
    static const char *const keep[] = {"vid", "dm",  "etag", "lm",  "h",     "m",      "tags",
                                       "ckn", "ckv", "ckt",  "psz", "pnum",  "pck",    "acl",
                                       "wrl", "olm", "olr",  "olh", "parts", "grants", "own"};
    enum copy_rc rc;
    void *map = MAP_FAILED;
    size_t size = 0;
    char *json, *b64, md5b64[32];
    int fd = -1, nh = 0;
    const char *op = json_str_ci(q, "op");
    bool dm, tags_only = op && strcmp(op, "tags") == 0, acl_only = op && strcmp(op, "acl") == 0;
    bool lock_only = op && strcmp(op, "lock") == 0, from_locked = false;
    struct buf tagdoc = {0};
    const char *query = NULL;

    if (d->blocked || d->until_ms > clock_wall_ms()) {
        d->blocked = true;
        snprintf(why, cap, "waiting for %s", d->bucket);
        return COPY_LATER;
    }
    if (store_read_begin(s->store, &t, NULL) == ERR_OK) {
        cJSON *sb = s3_bucket_get(t, a, json_str_ci(q, "b"));
        rec = s3_find_version(t, a, json_str_ci(q, "b"), json_str_ci(q, "k"), json_str_ci(q, "v"),
                              NULL);
        from_locked = s3_lock_enabled(sb);
        cJSON_Delete(sb);
        store_txn_abort(t);
    }
    if (!rec)
        return COPY_GONE; /* the version was deleted (or its bucket) */
    arena_on_free(a, s3_json_free, rec);
    dm = cJSON_IsTrue(cJSON_GetObjectItem(rec, "dm"));
    if (tags_only || acl_only || lock_only) {
        if (dm)
            return COPY_GONE;
        /* S3's actions on the destination: s3:ReplicateTags for a tag set,
         * s3:ReplicateObject for an ACL (object metadata) */
        if (!role_allows(w, q, tags_only ? "s3:ReplicateTags" : "s3:ReplicateObject", why, cap))
            return COPY_REFUSED;
    } else if (!role_allows(w, q, dm ? "s3:ReplicateDelete" : "s3:ReplicateObject", why, cap)) {
        return COPY_REFUSED;
    }
    rc = locate(w, d, why, cap);
    if (rc == COPY_LATER)
        unreachable(d);
    if (rc != COPY_DONE) {
        d->blocked = true;
        return rc;
    }
    if (tags_only) {
        /* the tag set of the replica: PutObjectTagging, or DeleteObjectTagging when empty */
        cJSON *tags = cJSON_GetObjectItem(rec, "tags");
        query =
            arena_sprintf(a, "tagging=&versionId=%s", url_encode(a, json_str_ci(rec, "vid"), true));
        hs[nh++] = (struct awsc_header){"x-tandem-replica", "tags"};
        if (cJSON_GetArraySize(tags) > 0) {
            s3_write_tagging(&tagdoc, tags);
            map = tagdoc.ptr;
            size = tagdoc.len;
        }
        goto send;
    }
    if (lock_only) {
        /* the retention and legal hold of the replica, as the source's are now */
        query = arena_sprintf(a, "retention=&versionId=%s",
                              url_encode(a, json_str_ci(rec, "vid"), true));
        hs[nh++] = (struct awsc_header){"x-tandem-replica", "lock"};
        if (json_str_ci(rec, "olm")) {
            char when[32];
            s3_time_iso((int64_t)json_num_ci(rec, "olr"), when);
            snprintf(when + 20, sizeof(when) - 20, "%03dZ",
                     (int)((int64_t)json_num_ci(rec, "olr") % 1000));
            hs[nh++] = (struct awsc_header){"x-amz-object-lock-mode", json_str_ci(rec, "olm")};
            hs[nh++] =
                (struct awsc_header){"x-amz-object-lock-retain-until-date", arena_strdup(a, when)};
        }
        if (json_str_ci(rec, "olh"))
            hs[nh++] =
                (struct awsc_header){"x-amz-object-lock-legal-hold", json_str_ci(rec, "olh")};
        goto send;
    }
    if (acl_only) {
        /* the ACL of the replica: PutObjectAcl with its grants (none: an
         * ACL that grants nothing, sent without any) or canned ACL (none
         * stored: private) */
        const char *acl = json_str_ci(rec, "acl"), *gv, *gn;
        query = arena_sprintf(a, "acl=&versionId=%s", url_encode(a, json_str_ci(rec, "vid"), true));
        hs[nh++] = (struct awsc_header){"x-tandem-replica", "acl"};
        for (size_t i = 0; cJSON_GetObjectItem(rec, "grants") && i < 5; i++)
            if ((gv = s3_acl_grant_header(a, rec, i, &gn)))
                hs[nh++] = (struct awsc_header){gn, gv};
        if (!cJSON_GetObjectItem(rec, "grants"))
            hs[nh++] = (struct awsc_header){"x-amz-acl", acl ? acl : "private"};
        goto send;
    }
    hdr = cJSON_CreateObject();
    for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
        const cJSON *x = cJSON_GetObjectItem(rec, keep[i]);
        if (x)
            cJSON_AddItemToObject(hdr, keep[i], cJSON_Duplicate(x, true));
    }
    if (from_locked)
        cJSON_AddTrueToObject(hdr, "olb");
    json = cJSON_PrintUnformatted(hdr);
    cJSON_Delete(hdr);
    b64 = arena_alloc(a, base64_encoded_len(strlen(json)) + 1);
    base64_encode(json, strlen(json), b64);
    free(json);
    hs[nh++] = (struct awsc_header){"x-tandem-replica", b64};
    if (!dm) {
        struct stat st;
        const char *etag = json_str_ci(rec, "etag");
        fd = open(s3_abs_path(s, a, json_str_ci(rec, "file")), O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) != 0) {
            if (fd >= 0)
                close(fd);
            return COPY_GONE; /* replaced between the read and the open */
        }
        size = (size_t)st.st_size;
        if (size)
            map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        close(fd);
        if (size && map == MAP_FAILED) {
            snprintf(why, cap, "cannot map the body: %s", strerror(errno));
            d->blocked = true;
            return COPY_LATER;
        }
        if (etag && strlen(etag) == 34 && !strchr(etag, '-')) {
            unsigned char md[16];
            if (md5_of_etag(etag + 1, md)) {
                base64_encode(md, 16, md5b64);
                hs[nh++] = (struct awsc_header){"content-md5", md5b64};
            }
        }
    }
send : {
    struct awsc_req rq = {.method = tags_only && !size ? "DELETE" : "PUT",
                          .endpoint = d->url,
                          .path = url_path(a, d->bucket, json_str_ci(q, "k")),
                          .query = query,
                          .region = d->region,
                          .service = "s3",
                          .headers = hs,
                          .nheaders = (size_t)nh,
                          .body = map == MAP_FAILED ? "" : map,
                          .body_len = size,
                          .unsigned_payload = true,
                          .timeout_ms = 30000 + (long)(size / 65536),
                          .ca_file = w->ca_file};
    enum err_code erc = awsc_call(&c, &rq, &resp, &e);
    if (tags_only)
        buf_free(&tagdoc);
    else if (map != MAP_FAILED)
        munmap(map, size);
    if (erc != ERR_OK || resp.status >= 500 || resp.status == 0) {
        snprintf(why, cap, "%s", erc ? e.msg : "destination answered 5xx");
        unreachable(d);
        d->blocked = true;
        awsc_resp_free(&resp);
        return COPY_LATER;
    }
}
    d->backoff_ms = 0;
    if (resp.status >= 300) {
        snprintf(why, cap, "destination answered %ld: %.200s", resp.status,
                 resp.body.ptr ? (const char *)resp.body.ptr : "");
        if (resp.status == 404)
            d->known = false; /* the bucket moved or went: ask again */
        d->blocked = true;
        awsc_resp_free(&resp);
        return COPY_REFUSED;
    }
    awsc_resp_free(&resp);
    return COPY_DONE;
}

/* the outcome, durably: the source record's status and the queue entry */
struct mark {
    const cJSON *q;
    struct slice qkey;
    enum copy_rc rc;
    int max_tries;
    const char *status; /* set by apply: the status written, or NULL */
    struct arena *a;
};

static enum err_code mark_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct mark *m = arg;
    const cJSON *q = m->q;
    struct slice k;
    cJSON *rec =
        s3_find_version(t, m->a, json_str_ci(q, "b"), json_str_ci(q, "k"), json_str_ci(q, "v"), &k);
    int n = (int)json_num_ci(q, "n") + (m->rc == COPY_REFUSED);
    enum err_code rc = ERR_OK;
    char *s;

    m->status = NULL;
    if (m->rc == COPY_DONE)
        m->status = "COMPLETED";
    else if (m->rc == COPY_REFUSED && n >= m->max_tries)
        m->status = "FAILED";
    if (rec && m->status && !json_str_ci(q, "op")) {
        cJSON *rd = cJSON_GetObjectItem(rec, "rd");
        if (cJSON_IsObject(rd)) {
            cJSON_DeleteItemFromObject(rd, json_str_ci(q, "d"));
            cJSON_AddStringToObject(rd, json_str_ci(q, "d"), m->status);
            s3_repl_set_status(rec, s3_repl_overall(rd));
        } else {
            s3_repl_set_status(rec, m->status);
        }
        s = cJSON_PrintUnformatted(rec);
        rc = store_put(t, STORE_DB_S3, k, slice_str(s), e);
        free(s);
    }
    cJSON_Delete(rec);
    if (rc)
        return rc;
    if (m->status || m->rc == COPY_GONE || !rec)
        return store_del(t, STORE_DB_S3, m->qkey, e);
    {
        /* refused, tries left: again later, with backoff */
        cJSON *nq = cJSON_Duplicate(q, true);
        int64_t wait = 500LL << (n < 6 ? n : 6);
        cJSON_ReplaceItemInObject(nq, "n", cJSON_CreateNumber(n));
        cJSON_ReplaceItemInObject(nq, "at", cJSON_CreateNumber((double)(clock_wall_ms() + wait)));
        s = cJSON_PrintUnformatted(nq);
        rc = store_put(t, STORE_DB_S3, m->qkey, slice_str(s), e);
        free(s);
        cJSON_Delete(nq);
    }
    return rc;
}

/* one pass over the due entries; returns ms until the next one is due (or -1) */
static int64_t pass(struct s3_replw *w, struct worker *wk)
{
    struct arena *a = arena_new();
    struct store_txn *t = NULL;
    struct store_cursor *c = NULL;
    struct slice k, v, keys[MAX_BATCH];
    cJSON *qs[MAX_BATCH];
    int n = 0, done = 0, scanned = 0;
    int64_t now = clock_wall_ms(), next = -1;
    enum err_code rc;

    for (int i = 0; i < w->ndests; i++)
        w->dests[i].blocked = false;
    /* only queue entries a power loss cannot take back are copied out */
    if (store_read_durable(w->s3->store, &t, NULL) != ERR_OK) {
        arena_free(a);
        return 1000;
    }
    if (store_cursor_open(t, STORE_DB_S3, &c, NULL) == ERR_OK) {
        for (rc = store_cursor_seek(c, SLICE("Q"), &k, &v, NULL);
             rc == ERR_OK && n < MAX_BATCH && scanned++ < MAX_SCAN && k.len == 9 &&
             ((const char *)k.ptr)[0] == 'Q';
             rc = store_cursor_next(c, &k, &v, NULL)) {
            cJSON *q = cJSON_ParseWithLength(v.ptr, v.len);
            struct dest *d;
            int64_t at;
            if (!q || !json_str_ci(q, "b") || !json_str_ci(q, "k") || !json_str_ci(q, "v") ||
                !json_str_ci(q, "d")) {
                cJSON_Delete(q);
                continue;
            }
            /* a destination that waits (down, or its head entry not due) is
             * skipped here, so it holds up no other destination's entries */
            d = dest_of(w, json_str_ci(q, "d"));
            at = (int64_t)json_num_ci(q, "at");
            if (d->blocked || d->until_ms > now || at > now) {
                int64_t wait = at > now ? at - now : d->until_ms > now ? d->until_ms - now : 0;
                d->blocked = true;
                if (wait > 0 && (next < 0 || wait < next))
                    next = wait;
                cJSON_Delete(q);
                continue;
            }
            keys[n] = slice_of(arena_memdup(a, k.ptr, k.len), k.len);
            qs[n++] = q;
        }
    }
    store_cursor_close(c);
    store_txn_abort(t);
    /* what was collected for a destination precedes whatever of it waits */
    for (int i = 0; i < w->ndests; i++)
        w->dests[i].blocked = false;
    for (int i = 0; i < n; i++) {
        cJSON *q = qs[i];
        struct dest *d = dest_of(w, json_str_ci(q, "d"));
        struct mark m = {.q = q, .qkey = keys[i], .max_tries = w->max_tries, .a = a};
        struct err e = {0};
        char why[512] = "";

        if (worker_stopping(wk))
            break;
        if (d->blocked)
            continue; /* an earlier entry of this destination failed in this pass */
        m.rc = copy_one(w, a, q, why, sizeof(why));
        if (m.rc == COPY_LATER) {
            int64_t wait = d->until_ms > now ? d->until_ms - now : 100;
            if (next < 0 || wait < next)
                next = wait;
            continue;
        }
        if (store_write(w->s3->store, mark_apply, &m, &e) != ERR_OK) {
            log_err("event=s3_repl_mark_failed msg=\"%s\"", e.msg);
            next = 1000;
            continue;
        }
        if (m.rc == COPY_REFUSED)
            log_warn("event=s3_repl_refused bucket=%s key_len=%zu vid=%s dest=%s status=%s "
                     "msg=\"%s\"",
                     json_str_ci(q, "b"), strlen(json_str_ci(q, "k")), json_str_ci(q, "v"),
                     json_str_ci(q, "d"), m.status ? m.status : "PENDING", why);
        if (m.rc == COPY_REFUSED && !m.status) {
            if (next < 0 || next > 500)
                next = 500;
        }
        done++;
    }
    for (int i = 0; i < n; i++)
        cJSON_Delete(qs[i]);
    arena_free(a);
    if (n == MAX_BATCH && done)
        return 0; /* more to do */
    return next;
}

static void run(struct worker *wk, void *arg)
{
    struct s3_replw *w = arg;
    int64_t wait = 0; /* the first pass at once */

    while (worker_wait(wk, wait < 0 || wait > 1000 ? 1000 : wait))
        wait = pass(w, wk);
}

void s3_repl_start(struct s3 *s, const struct s3_opts *o)
{
    struct s3_replw *w = xcalloc(1, sizeof(*w));
    const char *mt = getenv("TANDEM_S3_REPL_MAX_TRIES");

    w->s3 = s;
    w->max_tries = mt && atoi(mt) > 0 ? atoi(mt) : 5;
    w->access_key = o->access_key ? xstrdup(o->access_key) : NULL;
    w->secret = o->secret ? xstrdup(o->secret) : NULL;
    w->ca_file = o->ca_file ? xstrdup(o->ca_file) : NULL;
    w->npeers = o->npeers;
    w->peers = o->npeers ? xcalloc(o->npeers, sizeof(*w->peers)) : NULL;
    for (size_t i = 0; i < o->npeers; i++) {
        w->peers[i].region = xstrdup(o->peers[i].region);
        w->peers[i].url = xstrdup(o->peers[i].url);
    }
    pthread_mutex_init(&w->mu, NULL);
    s->replw = w;
    if (!w->access_key || !w->secret)
        return; /* no credentials to sign copies with (unit tests): no worker */
    w->worker = worker_start(run, w);
    if (!w->worker)
        log_err("event=s3_repl_worker_not_started");
}

void s3_repl_stop(struct s3 *s)
{
    struct s3_replw *w = s->replw;

    if (!w)
        return;
    worker_stop(w->worker);
    pthread_mutex_destroy(&w->mu);
    for (size_t i = 0; i < w->npeers; i++) {
        free((char *)w->peers[i].region);
        free((char *)w->peers[i].url);
    }
    free(w->peers);
    free(w->access_key);
    free(w->secret);
    free(w->ca_file);
    free(w->self_url);
    free(w);
    s->replw = NULL;
}
