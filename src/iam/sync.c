/* sync.c - identity data from home to every region.
 *
 * Home appends every change of a META "iam/..." key to a change log
 * ("iamsync/log/<seq, 16 hex>" -> {"k":KEY,"v":VALUE|null}) in the same
 * transaction as the change, and bumps "iamsync/seq"; "iamsync/epoch" names
 * this home's history (new when a region becomes home), so a region that
 * synced from another home, or from a home whose data was recreated, takes a
 * full snapshot instead of changes that do not follow its own. The log keeps
 * the last LOG_KEEP changes; a region further behind takes a snapshot.
 *
 * Every other region runs one thread that long-polls home's changes from its
 * last applied sequence, applies each answer in one store apply (the changes,
 * or the snapshot replacing every "iam/" key, with the new sequence and
 * epoch), then updates its creds: access keys and STS credentials put are
 * added, those deleted are removed. Home unreachable: retried with backoff
 * (100 ms doubling to 2 s); the region keeps serving from what it has. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "awsc.h"
#include "clock.h"
#include "iam_int.h"
#include "jobs.h"
#include "log.h"
#include "mem.h"

enum {
    LOG_KEEP = 4096,     /* changes kept in home's log */
    MAX_BATCH = 500,     /* changes per answer */
    POLL_WAIT_MS = 2000, /* long-poll wait asked of home (also bounds shutdown) */
    MAX_WAIT_MS = 30000,
};

#define K_SEQ   "iamsync/seq"
#define K_EPOCH "iamsync/epoch"
#define K_HOME  "iamsync/home"
#define K_LOG   "iamsync/log/"

struct iam_waiter {
    struct iam_waiter *next;
    struct http_req *r;
    uint64_t since;
    char epoch[40];
    int64_t deadline_ms;
};

/* ---- small store helpers ---- */

static uint64_t txn_seq(struct store_txn *t)
{
    struct slice v;
    char buf[32];

    if (store_get(t, STORE_DB_META, slice_str(K_SEQ), &v, NULL) != ERR_OK || v.len >= sizeof(buf))
        return 0;
    memcpy(buf, v.ptr, v.len);
    buf[v.len] = '\0';
    return strtoull(buf, NULL, 10);
}

static void txn_str(struct store_txn *t, const char *key, char *out, size_t cap)
{
    struct slice v;

    out[0] = '\0';
    if (store_get(t, STORE_DB_META, slice_str(key), &v, NULL) == ERR_OK && v.len < cap) {
        memcpy(out, v.ptr, v.len);
        out[v.len] = '\0';
    }
}

static enum err_code txn_put_seq(struct store_txn *t, uint64_t seq, struct err *e)
{
    char buf[32];

    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)seq);
    return store_put(t, STORE_DB_META, slice_str(K_SEQ), slice_str(buf), e);
}

static void log_key(char out[40], uint64_t seq)
{
    snprintf(out, 40, K_LOG "%016llx", (unsigned long long)seq);
}

enum err_code iam_txn_log(struct store_txn *t, const char *key, const char *val, struct err *e)
{
    uint64_t seq = txn_seq(t) + 1;
    cJSON *j = cJSON_CreateObject();
    char lk[40], *s;
    enum err_code rc;

    cJSON_AddStringToObject(j, "k", key);
    if (val)
        cJSON_AddStringToObject(j, "v", val);
    else
        cJSON_AddNullToObject(j, "v");
    s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    log_key(lk, seq);
    rc = store_put(t, STORE_DB_META, slice_str(lk), slice_str(s), e);
    free(s);
    if (rc == ERR_OK)
        rc = txn_put_seq(t, seq, e);
    if (rc == ERR_OK && seq > LOG_KEEP) {
        log_key(lk, seq - LOG_KEEP);
        if (store_del(t, STORE_DB_META, slice_str(lk), NULL) == ERR_IO)
            rc = err_set(e, ERR_IO, "trimming the IAM change log");
    }
    return rc;
}

/* ---- creds ---- */

void iam_creds_of(struct iam *iam, const cJSON *doc, struct creds_identity *out)
{
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(doc, "Expiration");

    memset(out, 0, sizeof(*out));
    snprintf(out->access_key, sizeof(out->access_key), "%s", iam_jstr(doc, "AccessKeyId"));
    snprintf(out->secret, sizeof(out->secret), "%s", iam_jstr(doc, "SecretAccessKey"));
    snprintf(out->account, sizeof(out->account), "%s",
             *iam_jstr(doc, "Account") ? iam_jstr(doc, "Account") : iam->account);
    if (*iam_jstr(doc, "SessionToken")) { /* STS credentials (sts.c) */
        snprintf(out->user, sizeof(out->user), "%s", iam_jstr(doc, "User"));
        snprintf(out->arn, sizeof(out->arn), "%s", iam_jstr(doc, "Arn"));
        snprintf(out->session_token, sizeof(out->session_token), "%s",
                 iam_jstr(doc, "SessionToken"));
        out->expires = cJSON_IsNumber(exp) ? (int64_t)exp->valuedouble : 1;
        out->root = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "Root"));
    } else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "Root"))) {
        /* an access key of the account root, made by the root with CreateAccessKey */
        snprintf(out->user, sizeof(out->user), "root");
        snprintf(out->arn, sizeof(out->arn), "%s", iam_jstr(doc, "UserArn"));
        out->root = true;
    } else { /* an IAM user's access key */
        snprintf(out->user, sizeof(out->user), "%s", iam_jstr(doc, "UserName"));
        snprintf(out->arn, sizeof(out->arn), "%s", iam_jstr(doc, "UserArn"));
    }
}

/* creds_key_of - the access key id of META key @k when it holds credentials. */
static const char *creds_key_of(const char *k)
{
    if (strncmp(k, "iam/key/", 8) == 0)
        return k + 8;
    if (strncmp(k, "iam/session/", 12) == 0)
        return k + 12;
    return NULL;
}

static void creds_put(struct iam *iam, const char *json)
{
    cJSON *doc = cJSON_Parse(json);
    struct creds_identity id;

    if (!doc)
        return;
    iam_creds_of(iam, doc, &id);
    if (strcmp(iam_jstr(doc, "Status"), "Inactive") == 0) /* UpdateAccessKey */
        creds_remove(iam->creds, id.access_key);
    else if (creds_add(iam->creds, &id, NULL) != ERR_OK)
        log_warn("event=iam_sync_key_skipped key=%s", id.access_key);
    cJSON_Delete(doc);
}

/* ---- home: serving changes ---- */

/* build_changes - the answer to a region at (@since, @epoch) into @b; false
 * when there is nothing newer (then @b is empty). */
static bool build_changes(struct iam *iam, uint64_t since, const char *epoch, struct buf *b)
{
    struct store_txn *t = NULL;
    struct store_cursor *cur = NULL;
    struct slice k, v;
    uint64_t seq, last;
    char ep[40];
    bool snapshot, first = true;
    enum err_code rc;
    cJSON *j;

    buf_init(b, 0);
    if (store_read_begin(iam->store, &t, NULL) != ERR_OK)
        return false;
    seq = txn_seq(t);
    txn_str(t, K_EPOCH, ep, sizeof(ep));
    /* a region that never synced has no epoch; one at (0, this epoch) is
     * current while home has no changes yet, and waits like any other */
    snapshot = !epoch[0] || strcmp(epoch, ep) != 0 || since > seq ||
               (seq > LOG_KEEP && since < seq - LOG_KEEP);
    if (!snapshot && since == seq) {
        store_txn_abort(t);
        return false;
    }
    last = snapshot ? seq : (seq - since > MAX_BATCH ? since + MAX_BATCH : seq);
    buf_printf(b, "{\"epoch\":\"%s\",\"seq\":%llu,\"snapshot\":%s,\"changes\":[", ep,
               (unsigned long long)last, snapshot ? "true" : "false");
    if (store_cursor_open(t, STORE_DB_META, &cur, NULL) == ERR_OK) {
        char lk[40];
        if (snapshot) {
            for (rc = store_cursor_seek(cur, slice_str("iam/"), &k, &v, NULL); rc == ERR_OK;
                 rc = store_cursor_next(cur, &k, &v, NULL)) {
                char *ks, *vs;
                if (k.len < 4 || memcmp(k.ptr, "iam/", 4) != 0)
                    break;
                j = cJSON_CreateObject();
                ks = xstrndup(k.ptr, k.len);
                vs = xstrndup(v.ptr, v.len);
                cJSON_AddStringToObject(j, "k", ks);
                cJSON_AddStringToObject(j, "v", vs);
                free(ks);
                free(vs);
                vs = cJSON_PrintUnformatted(j);
                cJSON_Delete(j);
                buf_printf(b, "%s%s", first ? "" : ",", vs);
                first = false;
                free(vs);
            }
        } else {
            log_key(lk, since + 1);
            for (rc = store_cursor_seek(cur, slice_str(lk), &k, &v, NULL); rc == ERR_OK;
                 rc = store_cursor_next(cur, &k, &v, NULL)) {
                log_key(lk, last);
                if (k.len != strlen(lk) || memcmp(k.ptr, lk, k.len) > 0 ||
                    memcmp(k.ptr, K_LOG, strlen(K_LOG)) != 0)
                    break;
                buf_printf(b, "%s%.*s", first ? "" : ",", (int)v.len, (const char *)v.ptr);
                first = false;
            }
        }
        store_cursor_close(cur);
    }
    buf_puts(b, "]}");
    store_txn_abort(t);
    return true;
}

static void answer_changes(struct iam *iam, struct http_req *r, uint64_t since, const char *epoch)
{
    struct buf b;

    /* nothing newer: the region's own position back (same epoch) */
    if (!build_changes(iam, since, epoch, &b))
        buf_printf(&b, "{\"epoch\":\"%s\",\"seq\":%llu,\"snapshot\":false,\"changes\":[]}", epoch,
                   (unsigned long long)since);
    http_resp_header(r, "Content-Type", "application/json");
    http_respond_buf(r, 200, &b);
    buf_free(&b);
}

static const char *query_arg(struct http_req *r, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);

    out[0] = '\0';
    for (const char *p = r->query; p && *p;) {
        const char *amp = strchr(p, '&'), *end = amp ? amp : p + strlen(p);
        if ((size_t)(end - p) > n && strncmp(p, name, n) == 0 && p[n] == '=') {
            snprintf(out, cap, "%.*s", (int)(end - p - n - 1), p + n + 1);
            return out;
        }
        p = amp ? amp + 1 : end;
    }
    return NULL;
}

void iam_sync_serve(struct iam *iam, struct http_req *r)
{
    char sbuf[32], ebuf[40], wbuf[16];
    uint64_t since;
    long wait_ms;
    struct buf b;

    since = query_arg(r, "since", sbuf, sizeof(sbuf)) ? strtoull(sbuf, NULL, 10) : 0;
    query_arg(r, "epoch", ebuf, sizeof(ebuf));
    wait_ms = query_arg(r, "wait_ms", wbuf, sizeof(wbuf)) ? strtol(wbuf, NULL, 10) : 0;
    if (wait_ms > MAX_WAIT_MS)
        wait_ms = MAX_WAIT_MS;
    if (build_changes(iam, since, ebuf, &b)) {
        http_resp_header(r, "Content-Type", "application/json");
        http_respond_buf(r, 200, &b);
        buf_free(&b);
        return;
    }
    pthread_mutex_lock(&iam->mu);
    /* a write committed after build_changes has bumped iam->seq (or will
     * find this waiter parked): nothing is missed */
    if (wait_ms > 0 && !iam->stop && iam->seq <= since) {
        struct iam_waiter *w = xcalloc(1, sizeof(*w));
        w->r = r;
        w->since = since;
        snprintf(w->epoch, sizeof(w->epoch), "%s", ebuf);
        w->deadline_ms = (clock_mono_us() / 1000) + wait_ms;
        w->next = iam->waiters;
        iam->waiters = w;
        pthread_mutex_unlock(&iam->mu);
        return;
    }
    pthread_mutex_unlock(&iam->mu);
    answer_changes(iam, r, since, ebuf);
}

static void answer_all(struct iam *iam, struct iam_waiter *w)
{
    while (w) {
        struct iam_waiter *next = w->next;
        answer_changes(iam, w->r, w->since, w->epoch);
        free(w);
        w = next;
    }
}

void iam_sync_notify(struct iam *iam)
{
    struct store_txn *t = NULL;
    struct iam_waiter *w;
    uint64_t seq = 0;

    if (store_read_begin(iam->store, &t, NULL) == ERR_OK) {
        seq = txn_seq(t);
        store_txn_abort(t);
    }
    pthread_mutex_lock(&iam->mu);
    if (seq > iam->seq)
        iam->seq = seq;
    w = iam->waiters;
    iam->waiters = NULL;
    pthread_cond_broadcast(&iam->cv);
    pthread_mutex_unlock(&iam->mu);
    answer_all(iam, w);
}

/* home_loop - answer the long-polls whose wait is over. */
static void *home_loop(void *arg)
{
    struct iam *iam = arg;

    pthread_mutex_lock(&iam->mu);
    while (!iam->stop) {
        struct timespec ts;
        struct iam_waiter **pp = &iam->waiters, *due = NULL;
        int64_t now = (clock_mono_us() / 1000);

        while (*pp) {
            struct iam_waiter *w = *pp;
            if (w->deadline_ms <= now) {
                *pp = w->next;
                w->next = due;
                due = w;
            } else {
                pp = &w->next;
            }
        }
        if (due) {
            pthread_mutex_unlock(&iam->mu);
            answer_all(iam, due);
            pthread_mutex_lock(&iam->mu);
            continue;
        }
        ts = clock_deadline_ms(100);
        pthread_cond_timedwait(&iam->cv, &iam->mu, &ts);
    }
    pthread_mutex_unlock(&iam->mu);
    return NULL;
}

/* ---- elsewhere: pulling from home ---- */

struct pull {
    struct iam *iam;
    cJSON *ans; /* borrowed */
    uint64_t seq;
    const char *epoch;
    bool snapshot;
    char **old; /* snapshot: access key ids held before (owned) */
    size_t nold;
};

static enum err_code apply_pull(struct store_txn *t, void *arg, struct err *e)
{
    struct pull *p = arg;
    const cJSON *ch;
    enum err_code rc = ERR_OK;

    if (p->snapshot) {
        struct store_cursor *cur = NULL;
        struct slice k, v;
        rc = store_cursor_open(t, STORE_DB_META, &cur, e);
        if (rc)
            return rc;
        for (rc = store_cursor_seek(cur, slice_str("iam/"), &k, &v, e); rc == ERR_OK;) {
            char *ks;
            const char *ak;
            if (k.len < 4 || memcmp(k.ptr, "iam/", 4) != 0)
                break;
            ks = xstrndup(k.ptr, k.len);
            if ((ak = creds_key_of(ks))) {
                p->old = xrealloc(p->old, (p->nold + 1) * sizeof(*p->old));
                p->old[p->nold++] = xstrdup(ak);
            }
            free(ks);
            rc = store_cursor_del(cur, e);
            if (rc == ERR_OK)
                rc = store_cursor_seek(cur, slice_str("iam/"), &k, &v, e);
        }
        store_cursor_close(cur);
        if (rc != ERR_OK && rc != ERR_NOTFOUND)
            return rc;
        rc = ERR_OK;
    }
    cJSON_ArrayForEach(ch, cJSON_GetObjectItemCaseSensitive(p->ans, "changes"))
    {
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(ch, "k"),
                    *v = cJSON_GetObjectItemCaseSensitive(ch, "v");
        if (!cJSON_IsString(k) || strncmp(k->valuestring, "iam/", 4) != 0)
            continue;
        if (cJSON_IsString(v))
            rc = store_put(t, STORE_DB_META, slice_str(k->valuestring), slice_str(v->valuestring),
                           e);
        else if (store_del(t, STORE_DB_META, slice_str(k->valuestring), e) == ERR_IO)
            rc = ERR_IO;
        if (rc)
            return rc;
    }
    rc = txn_put_seq(t, p->seq, e);
    if (rc == ERR_OK)
        rc = store_put(t, STORE_DB_META, slice_str(K_EPOCH), slice_str(p->epoch), e);
    if (rc == ERR_OK)
        rc = store_put(t, STORE_DB_META, slice_str(K_HOME), slice_str(p->iam->home_region), e);
    return rc;
}

/* apply_answer - apply one answer of home; false on a malformed one. */
static bool apply_answer(struct iam *iam, const char *body, size_t len)
{
    cJSON *ans = cJSON_ParseWithLength(body, len);
    const cJSON *seq, *ep, *ch;
    struct pull p = {.iam = iam};
    struct err e = {0};
    enum err_code rc_pull;
    bool ok = false;

    seq = cJSON_GetObjectItemCaseSensitive(ans, "seq");
    ep = cJSON_GetObjectItemCaseSensitive(ans, "epoch");
    if (!cJSON_IsNumber(seq) || !cJSON_IsString(ep))
        goto out;
    p.ans = ans;
    p.seq = (uint64_t)seq->valuedouble;
    p.epoch = ep->valuestring;
    p.snapshot = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ans, "snapshot"));
    pthread_mutex_lock(&iam->mu);
    ok = !p.snapshot && p.seq == iam->seq && strcmp(p.epoch, iam->epoch) == 0 &&
         cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(ans, "changes")) == 0;
    pthread_mutex_unlock(&iam->mu);
    if (ok) /* nothing new */
        goto out;
    rc_pull = store_write(iam->store, apply_pull, &p, &e);
    iam_gen_bump(iam); /* after the commit (cache.c) */
    if (rc_pull != ERR_OK) {
        log_warn("event=iam_sync_apply_failed msg=\"%s\"", e.msg);
        goto out;
    }
    /* creds after the commit: what authenticates is what is stored */
    cJSON_ArrayForEach(ch, cJSON_GetObjectItemCaseSensitive(ans, "changes"))
    {
        const char *k = iam_jstr(ch, "k"), *ak = creds_key_of(k);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(ch, "v");
        if (!ak)
            continue;
        if (cJSON_IsString(v))
            creds_put(iam, v->valuestring);
        else
            creds_remove(iam->creds, ak);
    }
    for (size_t i = 0; i < p.nold; i++) {
        bool kept = false;
        cJSON_ArrayForEach(ch, cJSON_GetObjectItemCaseSensitive(ans, "changes"))
        {
            const char *ak = creds_key_of(iam_jstr(ch, "k"));
            if (ak && strcmp(ak, p.old[i]) == 0)
                kept = true;
        }
        if (!kept)
            creds_remove(iam->creds, p.old[i]);
    }
    log_info("event=iam_synced home=%s seq=%llu snapshot=%d changes=%d", iam->home_region,
             (unsigned long long)p.seq, (int)p.snapshot,
             cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(ans, "changes")));
    pthread_mutex_lock(&iam->mu);
    iam->seq = p.seq;
    snprintf(iam->epoch, sizeof(iam->epoch), "%s", p.epoch);
    pthread_cond_broadcast(&iam->cv);
    pthread_mutex_unlock(&iam->mu);
    ok = true;
out:
    for (size_t i = 0; i < p.nold; i++)
        free(p.old[i]);
    free(p.old);
    cJSON_Delete(ans);
    return ok;
}

static void set_reachable(struct iam *iam, bool up, const char *why)
{
    pthread_mutex_lock(&iam->mu);
    if (up != iam->home_reachable)
        log_info("event=iam_home_%s home=%s%s%s", up ? "reachable" : "unreachable",
                 iam->home_region, why ? " msg=" : "", why ? why : "");
    iam->home_reachable = up;
    snprintf(iam->home_error, sizeof(iam->home_error), "%s", why ? why : "");
    pthread_mutex_unlock(&iam->mu);
}

static void *pull_loop(void *arg)
{
    struct iam *iam = arg;
    struct awsc_creds cr = {iam->access_key, iam->secret, NULL};
    long backoff = 100;

    for (;;) {
        struct awsc_resp resp;
        struct err e = {0};
        char query[160];
        bool stop, ok = false;

        pthread_mutex_lock(&iam->mu);
        stop = iam->stop;
        snprintf(query, sizeof(query), "since=%llu&epoch=%s&wait_ms=%d",
                 (unsigned long long)iam->seq, iam->epoch, POLL_WAIT_MS);
        pthread_mutex_unlock(&iam->mu);
        if (stop)
            break;
        struct awsc_req rq = {.method = "GET",
                              .endpoint = iam->home_url,
                              .path = "/_tandem/iam/changes",
                              .query = query,
                              .region = iam->home_region,
                              .service = "tandem",
                              .timeout_ms = POLL_WAIT_MS + 5000};
        if (awsc_call(&cr, &rq, &resp, &e) == ERR_OK) {
            if (resp.status == 200) {
                ok = apply_answer(iam, resp.body.ptr ? resp.body.ptr : "", resp.body.len);
                if (!ok)
                    snprintf(e.msg, sizeof(e.msg), "a malformed answer");
            } else {
                snprintf(e.msg, sizeof(e.msg), "HTTP %ld: %.150s", resp.status,
                         resp.body.ptr ? resp.body.ptr : "");
            }
        }
        awsc_resp_free(&resp);
        set_reachable(iam, ok, ok ? NULL : e.msg);
        if (ok) {
            iam_sessions_flush(iam);
            backoff = 100;
            continue;
        }
        pthread_mutex_lock(&iam->mu);
        if (!iam->stop) {
            struct timespec ts = clock_deadline_ms(backoff);

            pthread_cond_timedwait(&iam->cv, &iam->mu, &ts);
        }
        pthread_mutex_unlock(&iam->mu);
        backoff = backoff * 2 > 2000 ? 2000 : backoff * 2;
    }
    return NULL;
}

bool iam_sync_wait(struct iam *iam, uint64_t seq, long ms)
{
    struct timespec ts = clock_deadline_ms(ms);
    bool ok;

    pthread_mutex_lock(&iam->mu);
    while (iam->seq < seq && !iam->stop)
        if (pthread_cond_timedwait(&iam->cv, &iam->mu, &ts) == ETIMEDOUT)
            break;
    ok = iam->seq >= seq;
    pthread_mutex_unlock(&iam->mu);
    return ok;
}

/* ---- start ---- */

struct home_mark {
    const char *epoch, *home;
};

static enum err_code apply_home(struct store_txn *t, void *arg, struct err *e)
{
    const struct home_mark *m = arg;
    enum err_code rc = store_put(t, STORE_DB_META, slice_str(K_EPOCH), slice_str(m->epoch), e);

    return rc ? rc : store_put(t, STORE_DB_META, slice_str(K_HOME), slice_str(m->home), e);
}

enum err_code iam_sync_start(struct iam *iam, struct err *e)
{
    struct store_txn *t = NULL;
    char home[32], epoch[40];
    uint64_t seq;
    enum err_code rc = store_read_begin(iam->store, &t, e);

    if (rc)
        return rc;
    seq = txn_seq(t);
    txn_str(t, K_EPOCH, epoch, sizeof(epoch));
    txn_str(t, K_HOME, home, sizeof(home));
    store_txn_abort(t);
    if (iam->home) {
        /* a new history whenever this region becomes home: the others
         * resync from a snapshot of what it holds */
        if (strcmp(home, iam->region) != 0 || !epoch[0]) {
            struct home_mark m = {epoch, iam->region};
            iam_random_id(epoch, "", 32, "0123456789abcdef");
            rc = store_write(iam->store, apply_home, &m, e);
            iam_gen_bump(iam);
            if (rc)
                return rc;
            log_info("event=iam_home region=%s epoch=%s seq=%llu", iam->region, epoch,
                     (unsigned long long)seq);
        }
    } else if (strcmp(home, iam->home_region) != 0) {
        seq = 0; /* synced from another home, or never: start from a snapshot */
        epoch[0] = '\0';
    }
    iam->seq = seq;
    snprintf(iam->epoch, sizeof(iam->epoch), "%s", epoch);
    if (pthread_create(&iam->thread, NULL, iam->home ? home_loop : pull_loop, iam) != 0)
        return err_set(e, ERR_INTERNAL, "cannot start the IAM sync thread");
    iam->thread_started = true;
    return ERR_OK;
}

void iam_metrics(struct iam *iam, struct buf *b)
{
    bool up;

    pthread_mutex_lock(&iam->mu);
    up = iam->home || iam->home_reachable;
    pthread_mutex_unlock(&iam->mu);
    buf_printf(b,
               "# HELP tandem_iam_home_reachable Whether this region reaches the home region of "
               "identity (1 at home).\n"
               "# TYPE tandem_iam_home_reachable gauge\n"
               "tandem_iam_home_reachable{home=\"%s\"} %d\n"
               "# HELP tandem_iam_home_calls_waiting IAM writes and STS sessions made here that "
               "wait for the home region.\n"
               "# TYPE tandem_iam_home_calls_waiting gauge\n"
               "tandem_iam_home_calls_waiting %u\n",
               iam->home_region, up ? 1 : 0, iam->jobs ? jobs_pending(iam->jobs) : 0);
}

void iam_stop(struct iam *iam)
{
    struct iam_waiter *w;

    if (!iam)
        return;
    pthread_mutex_lock(&iam->mu);
    iam->stop = true;
    w = iam->waiters;
    iam->waiters = NULL;
    pthread_cond_broadcast(&iam->cv);
    pthread_mutex_unlock(&iam->mu);
    answer_all(iam, w);
    jobs_drain(iam->jobs); /* the calls waiting on home: none waits for the sync thread */
    jobs_drain(iam->webid_jobs);
    if (iam->thread_started) {
        pthread_join(iam->thread, NULL);
        iam->thread_started = false;
    }
}
