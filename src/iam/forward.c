/* forward.c - IAM writes made in a region that is not home, and the
 * internal endpoints home serves to the other regions (iam.h).
 *
 * A region forwards an IAM write as it came (the form body) to home's
 * POST /_tandem/iam/call, signed with the shared root credentials (service
 * "tandem"), naming the caller in X-Tandem-Iam-Caller. Home evaluates the
 * caller's permissions with its own data (the authoritative copy) and runs
 * the operation; the forwarding region relays home's answer and, on success,
 * waits (up to 3 s) until it has applied the change itself, so a caller reads
 * its own writes in the region it wrote through. Why home evaluates rather
 * than the forwarding region: home's copy is never behind, so a permission
 * removed a moment ago cannot be used through a region that has not heard of
 * it yet. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awsc.h"
#include "clock.h"
#include "iam_int.h"
#include "jobs.h"
#include "log.h"
#include "mem.h"

enum {
    FORWARD_TIMEOUT_MS = 10000,
    SESSION_TIMEOUT_MS = 3000,
    MAX_PENDING_SESSIONS = 4096, /* STS credentials kept for home while it is down */
    APPLY_WAIT_MS = 3000,
};

static void home_down(struct iam_call *c, const char *why)
{
    iam_fail(c, 503, "ServiceUnavailable",
             "IAM changes are made in the home region %s, which cannot be reached (%s). "
             "Authentication and authorization continue in this region from its copy of the "
             "identity data; retry the change when %s is back.",
             c->iam->home_region, why, c->iam->home_region);
}

struct deferred {
    struct iam_call c; /* its request, arena and caller live until it is answered */
    void (*fn)(struct iam_call *);
};

static void run_deferred(void *arg)
{
    struct deferred *d = arg;

    d->fn(&d->c);
    free(d);
}

static void defer_on(struct iam_call *c, struct jobs *j, void (*fn)(struct iam_call *))
{
    struct deferred *d;

    if (!j) {
        fn(c);
        return;
    }
    d = xmalloc(sizeof(*d));
    d->c = *c;
    d->fn = fn;
    if (jobs_run(j, run_deferred, d))
        return;
    free(d);
    log_warn("event=iam_defer_refused action=%s home=%s", c->action, c->iam->home_region);
    if (j == c->iam->jobs)
        iam_fail(c, 503, "ServiceUnavailable",
                 "Too many calls are waiting for the home region of identity %s; retry later.",
                 c->iam->home_region);
    else
        iam_fail(c, 503, "ServiceUnavailable",
                 "Too many calls are waiting for their identity providers; retry later.");
}

void iam_defer(struct iam_call *c, void (*fn)(struct iam_call *))
{
    defer_on(c, c->iam->jobs, fn);
}

void iam_defer_fetch(struct iam_call *c, void (*fn)(struct iam_call *))
{
    defer_on(c, c->iam->jobs ? c->iam->jobs : c->iam->webid_jobs, fn);
}

void iam_forward(struct iam_call *c)
{
    struct iam *iam = c->iam;
    struct awsc_creds cr = {iam->access_key, iam->secret, NULL};
    struct awsc_resp resp;
    struct awsc_header hs[2];
    struct err e = {0};
    cJSON *who = cJSON_CreateObject();
    char *caller;
    const char *body = c->r->body.ptr ? c->r->body.ptr : "", *h;
    size_t len = c->r->body.len;

    cJSON_AddStringToObject(who, "arn", c->who->arn);
    cJSON_AddStringToObject(who, "user", c->who->user);
    cJSON_AddStringToObject(who, "account", c->who->account);
    cJSON_AddBoolToObject(who, "root", c->who->root);
    cJSON_AddBoolToObject(who, "session", c->who->session_token[0] != '\0');
    cJSON_AddStringToObject(who, "akid", c->who->access_key);
    cJSON_AddStringToObject(who, "ip", c->source_ip ? c->source_ip : "");
    cJSON_AddBoolToObject(who, "tls", c->secure);
    caller = cJSON_PrintUnformatted(who);
    cJSON_Delete(who);
    if (strcmp(c->r->method, "POST") != 0) { /* the query form: parameters in the URL */
        body = c->r->query;
        len = strlen(body);
    }
    hs[0] =
        (struct awsc_header){"content-type", "application/x-www-form-urlencoded; charset=utf-8"};
    hs[1] = (struct awsc_header){"x-tandem-iam-caller", caller};
    struct awsc_req rq = {.method = "POST",
                          .endpoint = iam->home_url,
                          .path = "/_tandem/iam/call",
                          .region = iam->home_region,
                          .service = "tandem",
                          .headers = hs,
                          .nheaders = 2,
                          .body = body,
                          .body_len = len,
                          .timeout_ms = FORWARD_TIMEOUT_MS};
    if (awsc_call(&cr, &rq, &resp, &e) != ERR_OK || resp.status == 0) {
        log_warn("event=iam_forward_failed action=%s home=%s msg=\"%s\"", c->action,
                 iam->home_region, e.msg);
        home_down(c, e.msg[0] ? e.msg : "no answer");
        goto out;
    }
    h = awsc_resp_header(&resp, "content-type");
    if (resp.status >= 400 && (!h || !strstr(h, "xml"))) {
        /* refused before IAM saw it: the regions' root credentials differ */
        home_down(c, "home refused this region's root credentials");
        goto out;
    }
    if (resp.status == 200 && (h = awsc_resp_header(&resp, "x-tandem-iam-seq")) &&
        !iam_sync_wait(iam, strtoull(h, NULL, 10), APPLY_WAIT_MS))
        log_warn("event=iam_forward_not_applied action=%s seq=%s", c->action, h);
    if ((h = awsc_resp_header(&resp, "content-type")))
        http_resp_header(c->r, "Content-Type", h);
    if ((h = awsc_resp_header(&resp, "x-amzn-requestid")))
        http_resp_header(c->r, "x-amzn-RequestId", h);
    http_respond_buf(c->r, (int)resp.status, &resp.body);
out:
    awsc_resp_free(&resp);
    free(caller);
}

/* ---- STS credentials ---- */

static cJSON *session_doc(const struct creds_identity *id, const cJSON *policies)
{
    cJSON *d = cJSON_CreateObject();
    const cJSON *x;

    cJSON_ArrayForEach(x, policies)
    {
        cJSON_AddItemToObject(d, x->string, cJSON_Duplicate(x, 1));
    }
    cJSON_AddStringToObject(d, "AccessKeyId", id->access_key);
    cJSON_AddStringToObject(d, "SecretAccessKey", id->secret);
    cJSON_AddStringToObject(d, "SessionToken", id->session_token);
    cJSON_AddNumberToObject(d, "Expiration", (double)id->expires);
    cJSON_AddStringToObject(d, "Arn", id->arn);
    cJSON_AddStringToObject(d, "User", id->user);
    cJSON_AddStringToObject(d, "Account", id->account);
    cJSON_AddBoolToObject(d, "Root", id->root);
    return d;
}

struct session_put {
    const cJSON *doc;
    const char *akid;
    int64_t now;
};

static void collect_expired(cJSON *doc, void *arg)
{
    cJSON *list = arg;
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(doc, "Expiration");
    const cJSON *now = cJSON_GetArrayItem(list, 0);

    if (cJSON_IsNumber(x) && x->valuedouble < now->valuedouble)
        cJSON_AddItemToArray(list, cJSON_CreateString(iam_jstr(doc, "AccessKeyId")));
}

/* apply_session - store the credentials, and forget those that expired (a
 * logged delete each, so every region forgets them too). */
static enum err_code apply_session(struct store_txn *t, void *arg, struct err *e)
{
    struct session_put *sp = arg;
    cJSON *expired = cJSON_CreateArray(), *x;
    enum err_code rc;

    cJSON_AddItemToArray(expired, cJSON_CreateNumber((double)sp->now));
    iam_txn_doc_each(t, "session", collect_expired, expired, NULL);
    rc = iam_txn_doc_put(t, "session", sp->akid, sp->doc, e);
    /* the first item is the time the others expired before */
    for (x = expired->child ? expired->child->next : NULL; x && rc == ERR_OK; x = x->next)
        if (iam_txn_doc_del(t, "session", x->valuestring, e) == ERR_IO)
            rc = ERR_IO;
    cJSON_Delete(expired);
    return rc;
}

static enum err_code session_store(struct iam *iam, const cJSON *doc, struct err *e)
{
    struct session_put sp = {doc, iam_jstr(doc, "AccessKeyId"), (int64_t)clock_wall_s()};
    enum err_code rc = store_write(iam->store, apply_session, &sp, e);

    iam_gen_bump(iam); /* after the commit (cache.c) */

    if (rc == ERR_OK)
        iam_sync_notify(iam);
    return rc;
}

/* send_session - POST session document @doc to home; whether it took it. */
static bool send_session(struct iam *iam, const cJSON *doc)
{
    struct awsc_creds cr = {iam->access_key, iam->secret, NULL};
    struct awsc_header h = {"content-type", "application/json"};
    struct awsc_resp resp;
    struct err e = {0};
    char *body = cJSON_PrintUnformatted(doc);
    struct awsc_req rq = {.method = "POST",
                          .endpoint = iam->home_url,
                          .path = "/_tandem/iam/session",
                          .region = iam->home_region,
                          .service = "tandem",
                          .headers = &h,
                          .nheaders = 1,
                          .body = body,
                          .body_len = strlen(body),
                          .timeout_ms = SESSION_TIMEOUT_MS};
    bool ok = awsc_call(&cr, &rq, &resp, &e) == ERR_OK && resp.status == 200;

    if (!ok)
        log_warn("event=iam_session_local_only key=%s home=%s status=%ld msg=\"%s\"",
                 iam_jstr(doc, "AccessKeyId"), iam->home_region, resp.status, e.msg);
    awsc_resp_free(&resp);
    free(body);
    return ok;
}

void iam_sessions_flush(struct iam *iam)
{
    cJSON *list, *doc;
    double now = (double)clock_wall_s();

    pthread_mutex_lock(&iam->mu);
    if (!iam->pending_sessions->child) {
        pthread_mutex_unlock(&iam->mu);
        return;
    }
    list = iam->pending_sessions;
    iam->pending_sessions = cJSON_CreateArray();
    pthread_mutex_unlock(&iam->mu);
    while ((doc = cJSON_DetachItemFromArray(list, 0))) {
        const cJSON *exp = cJSON_GetObjectItemCaseSensitive(doc, "Expiration");
        if ((cJSON_IsNumber(exp) && exp->valuedouble < now) || send_session(iam, doc)) {
            if (!cJSON_IsNumber(exp) || exp->valuedouble >= now)
                log_info("event=iam_session_sent_home key=%s", iam_jstr(doc, "AccessKeyId"));
            cJSON_Delete(doc);
            continue;
        }
        pthread_mutex_lock(&iam->mu); /* home went away again: keep the rest */
        cJSON_AddItemToArray(iam->pending_sessions, doc);
        while ((doc = cJSON_DetachItemFromArray(list, 0)))
            cJSON_AddItemToArray(iam->pending_sessions, doc);
        pthread_mutex_unlock(&iam->mu);
    }
    cJSON_Delete(list);
}

void iam_session_record(struct iam *iam, const struct creds_identity *id, const cJSON *policies)
{
    cJSON *doc = session_doc(id, policies);
    struct err e = {0};

    if (policies)
        iam_session_keep(iam, doc);
    if (iam->home) {
        if (session_store(iam, doc, &e) != ERR_OK)
            log_warn("event=iam_session_not_stored key=%s msg=\"%s\"", id->access_key, e.msg);
    } else if (!send_session(iam, doc)) {
        /* home is down: sent when it is back (iam_sessions_flush) */
        pthread_mutex_lock(&iam->mu);
        if (cJSON_GetArraySize(iam->pending_sessions) < MAX_PENDING_SESSIONS)
            cJSON_AddItemToArray(iam->pending_sessions, cJSON_Duplicate(doc, 1));
        pthread_mutex_unlock(&iam->mu);
    }
    cJSON_Delete(doc);
}

/* ---- home's internal endpoints ---- */

static void answer_json(struct http_req *r, int status, const char *code, const char *msg)
{
    char *b = arena_sprintf(r->arena, "{\"__type\":\"%s\",\"message\":\"%s\"}", code, msg);

    http_resp_header(r, "Content-Type", "application/json");
    http_respond(r, status, b, strlen(b));
}

static void serve_call(struct iam *iam, struct http_req *r)
{
    const char *h = http_req_header(r, "x-tandem-iam-caller");
    cJSON *j = h ? cJSON_Parse(h) : NULL;
    struct creds_identity who;
    struct iam_call c;
    const char *ip;
    bool tls;

    if (!j || !*iam_jstr(j, "arn")) {
        cJSON_Delete(j);
        answer_json(r, 400, "ValidationException", "X-Tandem-Iam-Caller is missing or malformed");
        return;
    }
    memset(&who, 0, sizeof(who));
    snprintf(who.arn, sizeof(who.arn), "%s", iam_jstr(j, "arn"));
    snprintf(who.user, sizeof(who.user), "%s", iam_jstr(j, "user"));
    snprintf(who.account, sizeof(who.account), "%s", iam_jstr(j, "account"));
    who.root = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "root"));
    snprintf(who.access_key, sizeof(who.access_key), "%s", iam_jstr(j, "akid"));
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "session")))
        snprintf(who.session_token, sizeof(who.session_token), "forwarded");
    ip = arena_strdup(r->arena, iam_jstr(j, "ip"));
    tls = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "tls"));
    cJSON_Delete(j);
    if (!iam_call_init(&c, iam, r, &who, false))
        return;
    c.forwarded = true;
    c.source_ip = ip; /* the client's, not the forwarding region's */
    c.secure = tls;
    iam_dispatch(&c);
}

static void serve_session(struct iam *iam, struct http_req *r)
{
    cJSON *doc = cJSON_ParseWithLength(r->body.ptr ? r->body.ptr : "", r->body.len);
    struct creds_identity id;
    struct err e = {0};

    if (!doc || !*iam_jstr(doc, "AccessKeyId") || !*iam_jstr(doc, "SessionToken")) {
        cJSON_Delete(doc);
        answer_json(r, 400, "ValidationException", "not STS credentials");
        return;
    }
    iam_creds_of(iam, doc, &id);
    if (session_store(iam, doc, &e) != ERR_OK) {
        cJSON_Delete(doc);
        answer_json(r, 500, "InternalFailure", "the credentials could not be stored");
        return;
    }
    creds_add(iam->creds, &id, NULL);
    cJSON_Delete(doc);
    answer_json(r, 200, "OK", "stored");
}

void iam_internal_handle(struct iam *iam, struct http_req *r)
{
    if (!iam->home) {
        /* 421 Misdirected Request: the caller thinks this region is home */
        answer_json(r, 421, "NotHome", "this region is not the home region of identity");
        return;
    }
    if (strcmp(r->path, "/_tandem/iam/changes") == 0 && strcmp(r->method, "GET") == 0)
        iam_sync_serve(iam, r);
    else if (strcmp(r->path, "/_tandem/iam/call") == 0 && strcmp(r->method, "POST") == 0)
        serve_call(iam, r);
    else if (strcmp(r->path, "/_tandem/iam/session") == 0 && strcmp(r->method, "POST") == 0)
        serve_session(iam, r);
    else
        answer_json(r, 404, "NotFound", "no such internal IAM endpoint");
}

const char *iam_home_region(const struct iam *iam)
{
    return iam->home_region;
}
