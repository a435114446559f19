/* repl_replica.c - replica management. The receiving side: the internal
 * endpoints seed, replica, snapshot and digest. The asking side: UpdateTable
 * ReplicaUpdates and DeleteTable of a global table, run on a job thread that
 * creates, seeds, updates or removes the replicas on the peers. */
#include "repl_int.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "awsc.h"
#include "clock.h"
#include "codec.h"
#include "ddb_repl.h"
#include "hlc.h"
#include "jobs.h"
#include "log.h"
#include "mem.h"
#include "rlog.h"
#include "sigv4.h"
#include "url.h"

/* ---- replica management, receiving side ---- */

void repl_handle_seed(struct repl *r, struct http_req *req)
{
    struct apply_ctx x = {.r = r, .body = req->body.ptr, .len = req->body.len};
    struct err e = {0};
    int64_t t0 = clock_mono_us();
    enum err_code rc = store_write(r->store, repl_apply_batch, &x, &e);
    char *msg;

    log_debug("event=repl_seed_applied bytes=%zu us=%lld", x.len,
              (long long)(clock_mono_us() - t0));

    if (rc) {
        log_warn("event=repl_seed_refused error=\"%s\"", e.msg);
        repl_respond_json_error(req, repl_status_of(rc), "SeedRefused", e.msg);
        return;
    }
    msg = arena_sprintf(req->arena, "{\"Applied\":%zu,\"Conflicts\":%zu}", x.applied, x.conflicts);
    http_respond(req, 200, msg, strlen(msg));
}

/* seed_from - a new replica of @table copies it from snapshots of each of
 * @regions too (every replica but the one that seeded it): a write another
 * replica made before this one existed, which the seeding region had not
 * applied yet, was passed over here as an entry of an unknown table. */
static enum err_code seed_from(struct repl *r, const char *table, const cJSON *regions,
                               struct err *e)
{
    const cJSON *it;

    cJSON_ArrayForEach(it, regions)
    {
        struct peer *p = cJSON_IsString(it) ? repl_peer_find(r, it->valuestring) : NULL;
        size_t pages = 0;
        enum err_code rc;

        if (!p)
            return err_set(e, ERR_INVALID, "SeedFrom: %s is not a peer of this region",
                           cJSON_IsString(it) ? it->valuestring : "(not a string)");
        rc = repl_snapshot_pull(r, p, table, &pages, e);
        if (rc)
            return rc;
        log_info("event=repl_seeded_from table=%s peer=%s pages=%zu", table, p->region, pages);
    }
    return ERR_OK;
}

struct seed_job {
    struct repl *r;
    struct http_req *req; /* waits, suspended, for the answer */
    char table[REPL_TABLE_MAX + 1];
    cJSON *regions; /* owned */
};

static void answer_replica(struct http_req *req, const char *action, enum err_code rc,
                           const struct err *e)
{
    if (rc) {
        log_warn("event=repl_replica_refused action=%s error=\"%s\"", action, e->msg);
        repl_respond_json_error(req, repl_status_of(rc),
                                rc == ERR_IN_USE ? "ResourceInUseException" : "ValidationException",
                                e->msg);
        return;
    }
    http_respond(req, 200, "{}", 2);
}

/* seed_job_main - SeedFrom, off the HTTP threads: copying a table from other
 * regions takes as long as its size asks. */
static void seed_job_main(void *arg)
{
    struct seed_job *s = arg;
    struct err e = {0};
    enum err_code rc = seed_from(s->r, s->table, s->regions, &e);

    answer_replica(s->req, "SeedFrom", rc, &e);
    cJSON_Delete(s->regions);
    free(s);
}

static enum err_code seed_later(struct repl *r, struct http_req *req, const char *table,
                                const cJSON *regions, struct err *e)
{
    struct seed_job *s;

    if (strlen(table) > REPL_TABLE_MAX)
        return err_set(e, ERR_INVALID, "SeedFrom: table name too long");
    s = xcalloc(1, sizeof(*s));
    s->r = r;
    s->req = req;
    snprintf(s->table, sizeof(s->table), "%s", table);
    s->regions = cJSON_Duplicate(regions, 1);
    if (jobs_run(r->jobs, seed_job_main, s))
        return ERR_OK;
    cJSON_Delete(s->regions);
    free(s);
    return err_set(e, ERR_IN_USE, "too many replica changes under way; retry later");
}

void repl_handle_replica(struct repl *r, struct http_req *req)
{
    cJSON *in = cJSON_ParseWithLength(req->body.ptr ? req->body.ptr : "", req->body.len);
    const char *action = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(in, "Action"));
    const cJSON *reps = cJSON_GetObjectItemCaseSensitive(in, "Replicas");
    const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(in, "TableName"));
    struct err e = {0};
    enum err_code rc;

    if (!action) {
        rc = err_set(&e, ERR_INVALID, "Action is required");
    } else if (strcmp(action, "Create") == 0) {
        rc = ddb_repl_table_create(r->ddb, cJSON_GetObjectItemCaseSensitive(in, "Spec"), reps, &e);
    } else if (strcmp(action, "SetReplicas") == 0 && name && cJSON_IsArray(reps)) {
        rc = ddb_repl_table_set_replicas(r->ddb, name, reps, &e);
    } else if (strcmp(action, "Delete") == 0 && name) {
        rc = ddb_repl_table_drop(r->ddb, name, &e);
    } else if (strcmp(action, "ReplicaSettings") == 0 && name) {
        rc = ddb_repl_table_set_settings(
            r->store, name,
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(in, "RegionName")),
            cJSON_GetObjectItemCaseSensitive(in, "Settings"), &e);
    } else if (strcmp(action, "SeedFrom") == 0 && name && cJSON_IsArray(reps)) {
        rc = seed_later(r, req, name, reps, &e);
        if (rc == ERR_OK) { /* answered by the job */
            cJSON_Delete(in);
            return;
        }
    } else {
        rc = err_set(&e, ERR_INVALID, "unknown Action or missing members");
    }
    answer_replica(req, action ? action : "-", rc, &e);
    cJSON_Delete(in);
}

void repl_handle_snapshot(struct repl *r, struct http_req *req)
{
    char table[REPL_TABLE_MAX + 1], after[1100];
    unsigned char raw[520];
    size_t rawlen = 0;
    struct slice a;
    struct store_txn *t = NULL;
    struct buf b, next;
    struct err e = {0};
    bool has_after;
    enum err_code rc;

    if (!repl_query_param(req->query, "table", table, sizeof(table))) {
        repl_respond_json_error(req, 400, "ValidationException", "table is required");
        return;
    }
    has_after = repl_query_param(req->query, "after", after, sizeof(after));
    if (has_after &&
        (strlen(after) / 2 > sizeof(raw) || !repl_hex_decode(after, strlen(after), raw, &rawlen))) {
        repl_respond_json_error(req, 400, "ValidationException", "bad after");
        return;
    }
    a = slice_of(raw, rawlen);
    buf_init(&b, 0);
    buf_init(&next, 0);
    rc = store_read_durable(r->store, &t, &e);
    if (!rc)
        rc =
            ddb_repl_snapshot(t, table, r->region, has_after ? &a : NULL, SEED_PAGE, &b, &next, &e);
    store_txn_abort(t);
    if (rc) {
        buf_free(&b);
        buf_free(&next);
        repl_respond_json_error(req, repl_status_of(rc), "ValidationException", e.msg);
        return;
    }
    if (next.len) {
        char *hex = arena_alloc(req->arena, next.len * 2 + 1);

        hex_encode(next.ptr, next.len, hex);
        http_resp_header(req, "X-Tandem-Next", hex);
    }
    buf_free(&next);
    http_respond_buf(req, 200, &b);
}

/* digest: 256 buckets by the first byte of SHA-256(key); a bucket's hash is
 * the XOR of SHA-256(key || item hash) of its items, so order does not matter. */
struct digest {
    unsigned char bucket[256][32];
    unsigned counts[256];
    int want; /* -1: all buckets; else list the keys of this bucket */
    struct buf *out;
};

static void digest_item(void *arg, const void *key, size_t key_len, const char hash[65])
{
    struct digest *d = arg;
    char kh[65], mix[65];
    struct buf m;
    unsigned char bin[32] = {0};
    size_t bl = 0;
    int bkt;

    sigv4_sha256_hex(key, key_len, kh);
    repl_hex_decode(kh, 2, bin, &bl);
    bkt = bin[0];
    if (d->want >= 0) {
        char *hex;

        if (bkt != d->want)
            return;
        hex = xmalloc(key_len * 2 + 1);
        hex_encode(key, key_len, hex);
        buf_printf(d->out, "%s %s\n", hex, hash);
        free(hex);
        return;
    }
    buf_init(&m, 0);
    buf_append(&m, key, key_len);
    buf_append(&m, hash, 64);
    sigv4_sha256_hex(m.ptr, m.len, mix);
    buf_free(&m);
    repl_hex_decode(mix, 64, bin, &bl);
    for (int i = 0; i < 32; i++)
        d->bucket[bkt][i] ^= bin[i];
    d->counts[bkt]++;
}

void repl_handle_digest(struct repl *r, struct http_req *req)
{
    char table[REPL_TABLE_MAX + 1], v[8];
    struct digest *d = xcalloc(1, sizeof(*d));
    struct store_txn *t = NULL;
    struct buf b;
    struct err e = {0};
    enum err_code rc;

    buf_init(&b, 0);
    d->out = &b;
    d->want = -1;
    if (!repl_query_param(req->query, "table", table, sizeof(table))) {
        free(d);
        repl_respond_json_error(req, 400, "ValidationException", "table is required");
        return;
    }
    if (repl_query_param(req->query, "bucket", v, sizeof(v)))
        d->want = (int)strtol(v, NULL, 16) & 0xff;
    rc = store_read_begin(r->store, &t, &e);
    if (!rc)
        rc = ddb_repl_digest(t, table, digest_item, d, &e);
    store_txn_abort(t);
    if (!rc && d->want < 0) {
        for (int i = 0; i < 256; i++) {
            char hex[65];

            hex_encode(d->bucket[i], 32, hex);
            buf_printf(&b, "%02x %u %s\n", i, d->counts[i], hex);
        }
    }
    free(d);
    if (rc) {
        buf_free(&b);
        repl_respond_json_error(req, repl_status_of(rc), "ResourceNotFoundException", e.msg);
        return;
    }
    http_resp_header(req, "Content-Type", "text/plain");
    http_respond_buf(req, 200, &b);
}

/* ---- replica management, the asking side (UpdateTable ReplicaUpdates) ---- */

struct job {
    struct repl *r;
    void *call; /* UpdateTable's call, or NULL */
    char table[REPL_TABLE_MAX + 1];
    cJSON *updates;  /* owned */
    cJSON *replicas; /* owned: for a deletion notice */
};

static bool set_has(const cJSON *set, const char *region)
{
    const cJSON *it;

    cJSON_ArrayForEach(it, set)
    {
        if (cJSON_IsString(it) && strcmp(it->valuestring, region) == 0)
            return true;
    }
    return false;
}

static void set_remove(cJSON *set, const char *region)
{
    int i = 0;
    const cJSON *it;

    cJSON_ArrayForEach(it, set)
    {
        if (cJSON_IsString(it) && strcmp(it->valuestring, region) == 0) {
            cJSON_DeleteItemFromArray(set, i);
            return;
        }
        i++;
    }
}

static enum err_code post_json(struct repl *r, struct peer *p, const char *path, const cJSON *o,
                               struct err *e)
{
    char *text = cJSON_PrintUnformatted(o);
    struct awsc_resp resp;
    enum err_code rc = repl_peer_call(r, p->url, p->region, "POST", path, NULL, text, strlen(text),
                                      30000, &resp, e);

    free(text);
    awsc_resp_free(&resp);
    return rc;
}

/* notify_set - tell every member of @set but this region and @skip the new set. */
static void notify_set(struct repl *r, const char *table, const cJSON *set, const char *skip)
{
    const cJSON *it;

    cJSON_ArrayForEach(it, set)
    {
        struct peer *p;
        cJSON *o;
        struct err e = {0};

        if (!cJSON_IsString(it) || strcmp(it->valuestring, r->region) == 0 ||
            (skip && strcmp(it->valuestring, skip) == 0))
            continue;
        p = repl_peer_find(r, it->valuestring);
        if (!p)
            continue;
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "Action", "SetReplicas");
        cJSON_AddStringToObject(o, "TableName", table);
        cJSON_AddItemToObject(o, "Replicas", cJSON_Duplicate(set, 1));
        if (post_json(r, p, "/_tandem/repl/replica", o, &e))
            log_warn("event=repl_notify_failed peer=%s table=%s error=\"%s\"", p->region, table,
                     e.msg);
        cJSON_Delete(o);
    }
}

static enum err_code current_set(struct repl *r, const char *table, cJSON **out, struct err *e)
{
    struct buf b;
    enum err_code rc;

    buf_init(&b, 0);
    rc = ddb_repl_table_replicas(r->store, table, &b, e);
    *out = rc ? NULL : cJSON_ParseWithLength(b.ptr, b.len);
    buf_free(&b);
    if (!rc && !*out)
        rc = err_set(e, ERR_INTERNAL, "corrupt replica set");
    if (!rc && cJSON_GetArraySize(*out) == 0)
        cJSON_AddItemToArray(*out, cJSON_CreateString(r->region));
    return rc;
}

/* seed - send @table's items to @p, page by page, each from a fresh snapshot.
 * Writes made meanwhile are logged and shipped too; LWW makes the order moot. */
static enum err_code seed(struct repl *r, struct peer *p, const char *table, struct err *e)
{
    struct buf b, next;
    struct store_txn *t = NULL;
    size_t pages = 0;
    enum err_code rc = ERR_OK;

    buf_init(&b, 0);
    buf_init(&next, 0);
    for (;;) {
        struct slice after = slice_of(next.ptr, next.len);
        struct awsc_resp resp;
        bool more;

        if (atomic_load(&r->stop)) {
            rc = err_set(e, ERR_IO, "stopping");
            break;
        }
        buf_reset(&b);
        rc = store_read_durable(r->store, &t, e);
        if (!rc)
            rc = ddb_repl_snapshot(t, table, r->region, pages ? &after : NULL, SEED_PAGE, &b, &next,
                                   e);
        store_txn_abort(t);
        t = NULL;
        if (rc)
            break;
        more = next.len > 0;
        log_debug("event=repl_seed_page table=%s peer=%s bytes=%zu", table, p->region, b.len);
        rc = repl_peer_call(r, p->url, p->region, "POST", "/_tandem/repl/seed", NULL, b.ptr, b.len,
                            60000, &resp, e);
        awsc_resp_free(&resp);
        if (rc)
            break;
        pages++;
        if (!more)
            break;
        /* next holds the last key sent; keep it as the start of the next page */
    }
    buf_free(&b);
    buf_free(&next);
    if (!rc)
        log_info("event=repl_seeded table=%s peer=%s pages=%zu", table, p->region, pages);
    return rc;
}

/* seed_others - ask the new replica @p to copy @table from every other
 * replica of @set too (see seed_from). */
static enum err_code seed_others(struct repl *r, struct peer *p, const char *table,
                                 const cJSON *set, struct err *e)
{
    cJSON *o = cJSON_CreateObject(), *from = cJSON_AddArrayToObject(o, "Replicas");
    const cJSON *it;
    enum err_code rc = ERR_OK;

    cJSON_ArrayForEach(it, set)
    {
        if (cJSON_IsString(it) && strcmp(it->valuestring, r->region) != 0 &&
            strcmp(it->valuestring, p->region) != 0)
            cJSON_AddItemToArray(from, cJSON_CreateString(it->valuestring));
    }
    if (cJSON_GetArraySize(from) > 0) {
        char *text;
        struct awsc_resp resp;

        cJSON_AddStringToObject(o, "Action", "SeedFrom");
        cJSON_AddStringToObject(o, "TableName", table);
        text = cJSON_PrintUnformatted(o);
        rc = repl_peer_call(r, p->url, p->region, "POST", "/_tandem/repl/replica", NULL, text,
                            strlen(text), 600000, &resp, e);
        free(text);
        awsc_resp_free(&resp);
    }
    cJSON_Delete(o);
    return rc;
}

/* do_settings - ReplicaUpdates Update (checked by the API): the replica's
 * settings merged here, stored, and sent to every other replica. A replica
 * that cannot be told is logged (event=repl_notify_failed), not waited for. */
static enum err_code do_settings(struct repl *r, const char *table, const cJSON *up, struct err *e)
{
    const char *region = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(up, "RegionName"));
    cJSON *settings = NULL, *set = NULL;
    const cJSON *it;
    enum err_code rc;

    if (!region)
        return err_set(e, ERR_INVALID, "RegionName is required");
    rc = ddb_repl_settings_merge(r->store, table, region, up, &settings, e);
    if (!rc)
        rc = ddb_repl_table_set_settings(r->store, table, region, settings, e);
    if (!rc)
        rc = current_set(r, table, &set, e);
    if (rc) {
        cJSON_Delete(settings);
        cJSON_Delete(set);
        return rc;
    }
    cJSON_ArrayForEach(it, set)
    {
        struct peer *p = cJSON_IsString(it) ? repl_peer_find(r, it->valuestring) : NULL;
        cJSON *o;
        struct err e2 = {0};

        if (!p)
            continue;
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "Action", "ReplicaSettings");
        cJSON_AddStringToObject(o, "TableName", table);
        cJSON_AddStringToObject(o, "RegionName", region);
        cJSON_AddItemToObject(o, "Settings", cJSON_Duplicate(settings, 1));
        if (post_json(r, p, "/_tandem/repl/replica", o, &e2))
            log_warn("event=repl_notify_failed peer=%s table=%s error=\"%s\"", p->region, table,
                     e2.msg);
        cJSON_Delete(o);
    }
    log_info("event=replica_updated table=%s region=%s", table, region);
    cJSON_Delete(settings);
    cJSON_Delete(set);
    return ERR_OK;
}

static enum err_code do_update(struct repl *r, const char *table, const cJSON *u, struct err *e)
{
    const cJSON *cr = cJSON_GetObjectItemCaseSensitive(u, "Create");
    const cJSON *dl = cJSON_GetObjectItemCaseSensitive(u, "Delete");
    const char *region =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cr ? cr : dl, "RegionName"));
    struct peer *p = region ? repl_peer_find(r, region) : NULL;
    cJSON *set = NULL, *o = NULL;
    struct buf spec;
    enum err_code rc;

    if (cJSON_GetObjectItemCaseSensitive(u, "Update"))
        return do_settings(r, table, cJSON_GetObjectItemCaseSensitive(u, "Update"), e);
    buf_init(&spec, 0);
    if (!p)
        return err_set(e, ERR_INVALID,
                       "One or more parameter values were invalid: Region %s is not a peer of "
                       "this region (tandem server --peer %s=URL)",
                       region ? region : "(null)", region ? region : "REGION");
    rc = current_set(r, table, &set, e);
    if (rc)
        goto out;
    if (cr) {
        if (set_has(set, region)) {
            rc = err_set(e, ERR_INVALID,
                         "Failed to create a the new replica of table with name: '%s' because "
                         "one or more replicas already existed as tables.",
                         table);
            goto out;
        }
        cJSON_AddItemToArray(set, cJSON_CreateString(region));
        rc = ddb_repl_table_export(r->store, table, &spec, e);
        if (rc)
            goto out;
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "Action", "Create");
        cJSON_AddItemToObject(o, "Spec", cJSON_ParseWithLength(spec.ptr, spec.len));
        cJSON_AddItemToObject(o, "Replicas", cJSON_Duplicate(set, 1));
        rc = post_json(r, p, "/_tandem/repl/replica", o, e);
        if (rc)
            goto out;
        /* from here on this region logs the table's writes */
        rc = ddb_repl_table_set_replicas(r->ddb, table, set, e);
        if (rc)
            goto out;
        notify_set(r, table, set, region);
        rc = seed(r, p, table, e);
        if (!rc)
            rc = seed_others(r, p, table, set, e);
    } else {
        if (!set_has(set, region)) {
            rc = err_set(e, ERR_INVALID, "Replica does not exist in region %s for table %s", region,
                         table);
            goto out;
        }
        set_remove(set, region);
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "Action", "Delete");
        cJSON_AddStringToObject(o, "TableName", table);
        rc = post_json(r, p, "/_tandem/repl/replica", o, e);
        if (rc == ERR_NOTFOUND)
            rc = ERR_OK;
        if (rc)
            goto out;
        rc = ddb_repl_table_set_replicas(r->ddb, table, set, e);
        if (!rc)
            notify_set(r, table, set, region);
    }
    if (!rc)
        log_info("event=replica_%s table=%s region=%s", cr ? "created" : "deleted", table, region);
out:
    buf_free(&spec);
    cJSON_Delete(set);
    cJSON_Delete(o);
    return rc;
}

static void job_main(void *arg)
{
    struct job *j = arg;
    struct repl *r = j->r;
    struct err e = {0};
    enum err_code rc = ERR_OK;
    const cJSON *u;

    if (j->call) {
        cJSON_ArrayForEach(u, j->updates)
        {
            rc = do_update(r, j->table, u, &e);
            if (rc)
                break;
        }
        if (rc)
            log_warn("event=replica_update_failed table=%s error=\"%s\"", j->table, e.msg);
        ddb_repl_update_done(j->call, rc == ERR_NOTFOUND ? ERR_INVALID : rc, e.msg);
    } else if (j->replicas) {
        /* this region's replica was deleted: the others drop it from their sets */
        set_remove(j->replicas, r->region);
        notify_set(r, j->table, j->replicas, NULL);
    }
    cJSON_Delete(j->updates);
    cJSON_Delete(j->replicas);
    free(j);
}

static void job_start(struct job *j)
{
    if (jobs_run(j->r->jobs, job_main, j))
        return;
    if (j->call)
        ddb_repl_update_done(j->call, ERR_IO, "too many replica changes under way; retry later");
    else
        log_warn("event=replica_notify_dropped table=%s", j->table);
    cJSON_Delete(j->updates);
    cJSON_Delete(j->replicas);
    free(j);
}

void repl_hook_updates(void *ud, void *call, const char *table, const cJSON *updates)
{
    struct job *j = xcalloc(1, sizeof(*j));

    j->r = ud;
    j->call = call;
    snprintf(j->table, sizeof(j->table), "%s", table);
    j->updates = cJSON_Duplicate(updates, 1);
    job_start(j);
}

void repl_hook_deleted(void *ud, const char *table, const char *replicas)
{
    struct job *j = xcalloc(1, sizeof(*j));

    j->r = ud;
    snprintf(j->table, sizeof(j->table), "%s", table);
    j->replicas = cJSON_Parse(replicas);
    job_start(j);
}
