/* lifecycle.c - the sweeper that carries out buckets' lifecycle rules:
 * Expiration (Days, Date, ExpiredObjectDeleteMarker), NoncurrentVersionExpiration
 * (NoncurrentDays) and AbortIncompleteMultipartUpload (DaysAfterInitiation), with
 * filters by prefix, tags and object size (Filter, Filter/And, legacy Prefix).
 *
 * One thread wakes every TANDEM_S3_SWEEP_SECONDS (default 3600), reads what
 * is due in one read transaction, then acts through in-process S3 requests
 * (DeleteObject, AbortMultipartUpload) as the region's root, so an expiry is
 * the same durable delete a client would make (a delete marker in a versioned
 * bucket). TANDEM_S3_DAY_SECONDS (default 86400) is the length of a rule's day,
 * so tests can shorten it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "mem.h"
#include "s3_int.h"
#include "s3_xml.h"
#include "worker.h"

struct s3_sweeper {
    struct s3 *s3;
    struct worker *worker;
    double interval_s;
    double day_ms;
};

struct rule {
    const char *id;
    const char *prefix;
    struct s3_xml *tags[10]; /* <Tag> elements that must all match */
    int ntags;
    double size_gt, size_lt;                                   /* -1: none */
    double exp_days, exp_date_ms, noncurrent_days, abort_days; /* -1: none */
    double newer_kept; /* NewerNoncurrentVersions: noncurrent versions kept; -1: none */
    bool expired_markers;
};

/* an action decided under the read transaction, carried out after it */
struct action {
    char *path; /* request target, owned */
    char *method;
};

static double num_or(const char *s, double dflt)
{
    char *end;
    double v;

    if (!s)
        return dflt;
    v = strtod(s, &end);
    return *end || end == s ? dflt : v;
}

/* an ISO 8601 date (2030-01-01) or time (2030-01-01T00:00:00Z) in ms */
static bool date_ms(const char *s, int64_t *ms)
{
    struct tm tm;
    const char *end;

    memset(&tm, 0, sizeof(tm));
    if ((end = strptime(s, "%Y-%m-%d", &tm)) && !*end) {
        *ms = (int64_t)timegm(&tm) * 1000;
        return true;
    }
    return !strchr(s, ',') && s3_time_parse_http(s, ms);
}

static void filter_into(struct rule *ru, struct s3_xml *f)
{
    struct s3_xml *n;

    for (n = f ? f->child : NULL; n; n = n->next) {
        if (strcmp(n->name, "Prefix") == 0)
            ru->prefix = n->text;
        else if (strcmp(n->name, "Tag") == 0 && ru->ntags < 10)
            ru->tags[ru->ntags++] = n;
        else if (strcmp(n->name, "ObjectSizeGreaterThan") == 0)
            ru->size_gt = num_or(n->text, -1);
        else if (strcmp(n->name, "ObjectSizeLessThan") == 0)
            ru->size_lt = num_or(n->text, -1);
        else if (strcmp(n->name, "And") == 0)
            filter_into(ru, n);
    }
}

static int parse_rules(struct arena *a, const char *xml, struct rule *out, int max)
{
    struct s3_xml *x, *r;
    int n = 0;

    if (s3_xml_parse(a, xml, strlen(xml), &x, NULL) != ERR_OK)
        return 0;
    for (r = x->child; r && n < max; r = r->next) {
        struct rule *ru = &out[n];
        struct s3_xml *e;
        const char *st = s3_xml_text(r, "Status"), *d;
        if (strcmp(r->name, "Rule") != 0 || !st || strcmp(st, "Enabled") != 0)
            continue;
        memset(ru, 0, sizeof(*ru));
        ru->id = s3_xml_text(r, "ID");
        ru->prefix = s3_xml_text(r, "Prefix"); /* legacy form */
        ru->size_gt = ru->size_lt = -1;
        ru->exp_days = ru->exp_date_ms = ru->noncurrent_days = ru->abort_days = -1;
        ru->newer_kept = -1;
        filter_into(ru, s3_xml_child(r, "Filter"));
        if ((e = s3_xml_child(r, "Expiration"))) {
            ru->exp_days = num_or(s3_xml_text(e, "Days"), -1);
            if ((d = s3_xml_text(e, "Date"))) {
                int64_t ms;
                if (date_ms(d, &ms))
                    ru->exp_date_ms = (double)ms;
            }
            d = s3_xml_text(e, "ExpiredObjectDeleteMarker");
            ru->expired_markers = d && strcmp(d, "true") == 0;
        }
        if ((e = s3_xml_child(r, "NoncurrentVersionExpiration"))) {
            ru->noncurrent_days = num_or(s3_xml_text(e, "NoncurrentDays"), -1);
            ru->newer_kept = num_or(s3_xml_text(e, "NewerNoncurrentVersions"), -1);
        }
        if ((e = s3_xml_child(r, "AbortIncompleteMultipartUpload")))
            ru->abort_days = num_or(s3_xml_text(e, "DaysAfterInitiation"), -1);
        n++;
    }
    return n;
}

static bool matches(const struct rule *ru, const char *key, const cJSON *v)
{
    double size = json_num_ci(v, "size");
    const cJSON *tags = cJSON_GetObjectItem(v, "tags");

    if (ru->prefix && strncmp(key, ru->prefix, strlen(ru->prefix)) != 0)
        return false;
    if (ru->size_gt >= 0 && !(size > ru->size_gt))
        return false;
    if (ru->size_lt >= 0 && !(size < ru->size_lt))
        return false;
    for (int i = 0; i < ru->ntags; i++) {
        const char *k = s3_xml_text(ru->tags[i], "Key"), *val = s3_xml_text(ru->tags[i], "Value");
        bool found = false;
        for (const cJSON *t = tags ? tags->child : NULL; t && !found; t = t->next)
            found = k && val && json_str_ci(t, "k") && strcmp(json_str_ci(t, "k"), k) == 0 &&
                    strcmp(json_str_ci(t, "v"), val) == 0;
        if (!found)
            return false;
    }
    return true;
}

/* when rule @ru expires a current version last modified at @lm, or -1: S3
 * counts the days from the write and rounds up to the next midnight (UTC),
 * here to the next multiple of the rule's day */
static double expiry_ms(const struct rule *ru, double lm, double day)
{
    double when = -1;

    if (ru->exp_days >= 0) {
        int64_t w = (int64_t)(lm + ru->exp_days * day), d = (int64_t)day;
        when = (double)(d > 0 ? (w + d - 1) / d * d : w);
    }
    if (ru->exp_date_ms >= 0 && (when < 0 || ru->exp_date_ms < when))
        when = ru->exp_date_ms;
    return when;
}

static void add(struct action **acts, size_t *n, size_t *cap, char *method, char *path)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        *acts = xrealloc(*acts, *cap * sizeof(**acts));
    }
    (*acts)[*n].method = method;
    (*acts)[*n].path = path;
    (*n)++;
}

static char *target(struct arena *a, const char *bucket, const char *key, const char *param,
                    const char *value)
{
    char *p = arena_sprintf(a, "/%s/%s?%s=%s", bucket, url_encode(a, key, true), param,
                            url_encode(a, value, false));
    return xstrdup(p);
}

/* what is due in one bucket */
static void plan_bucket(struct s3 *s, struct store_txn *t, struct arena *a, const char *bucket,
                        const struct rule *rules, int nrules, double now, double day,
                        struct action **acts, size_t *n, size_t *cap)
{
    struct store_cursor *c = NULL;
    struct slice pre = s3_key_obj_prefix(a, bucket, ""), k, v;
    size_t bl = strlen(bucket);
    enum err_code rc;
    char *prev_key = NULL;
    double successor_lm = 0; /* when the version before this one was replaced */
    int versions_of_key = 0;
    bool pending_marker = false; /* current is a delete marker that may be expired */
    char *marker_vid = NULL;

    (void)s;
    if (store_cursor_open(t, STORE_DB_S3, &c, NULL) != ERR_OK)
        return;
    for (rc = store_cursor_seek(c, pre, &k, &v, NULL);
         rc == ERR_OK && k.len > pre.len && memcmp(k.ptr, pre.ptr, pre.len) == 0;
         rc = store_cursor_next(c, &k, &v, NULL)) {
        cJSON *j = cJSON_ParseWithLength(v.ptr, v.len);
        const char *key = s3_key_name(a, k, bl);
        bool current;
        if (!j)
            continue;
        if (s3_key_hashed(key) && json_str_ci(j, "k"))
            key = arena_strdup(a, json_str_ci(j, "k"));
        current = !prev_key || strcmp(prev_key, key) != 0;
        if (current) {
            if (pending_marker && versions_of_key == 1)
                add(acts, n, cap, "DELETE", target(a, bucket, prev_key, "versionId", marker_vid));
            pending_marker = false;
            versions_of_key = 0;
            prev_key = arena_strdup(a, key);
        }
        versions_of_key++;
        for (int i = 0; i < nrules; i++) {
            const struct rule *ru = &rules[i];
            bool dm = cJSON_IsTrue(cJSON_GetObjectItem(j, "dm"));
            if (!matches(ru, key, j))
                continue;
            if (current && dm && ru->expired_markers) {
                pending_marker = true;
                marker_vid = arena_strdup(a, json_str_ci(j, "vid"));
                break;
            }
            double when = expiry_ms(ru, json_num_ci(j, "lm"), day);
            if (current && !dm && when >= 0 && when <= now) {
                /* like DeleteObject: a marker when versioned, else gone */
                char *p = arena_sprintf(a, "/%s/%s", bucket, url_encode(a, key, true));
                add(acts, n, cap, "DELETE", xstrdup(p));
                break;
            }
            /* versions_of_key - 2: the noncurrent versions newer than this one */
            /* a version under Object Lock stays (its DELETE would be refused) */
            if (!current && ru->noncurrent_days >= 0 && !s3_lock_holds(j, (int64_t)now, false) &&
                successor_lm + ru->noncurrent_days * day <= now &&
                (ru->newer_kept < 0 || versions_of_key - 2 >= ru->newer_kept)) {
                add(acts, n, cap, "DELETE",
                    target(a, bucket, key, "versionId", json_str_ci(j, "vid")));
                break;
            }
        }
        successor_lm = json_num_ci(j, "lm");
        cJSON_Delete(j);
    }
    if (pending_marker && versions_of_key == 1)
        add(acts, n, cap, "DELETE", target(a, bucket, prev_key, "versionId", marker_vid));
    /* incomplete multipart uploads */
    pre = s3_key_obj_prefix(a, bucket, "");
    {
        char *pp = arena_memdup(a, pre.ptr, pre.len);
        pp[0] = 'U';
        pre.ptr = pp;
    }
    for (rc = store_cursor_seek(c, pre, &k, &v, NULL);
         rc == ERR_OK && k.len > pre.len && memcmp(k.ptr, pre.ptr, pre.len) == 0;
         rc = store_cursor_next(c, &k, &v, NULL)) {
        const char *kk = (const char *)k.ptr + bl + 2;
        size_t kl = strnlen(kk, k.len - bl - 2);
        cJSON *j = cJSON_ParseWithLength(v.ptr, v.len);
        const char *key =
            json_str_ci(j, "k") ? arena_strdup(a, json_str_ci(j, "k")) : arena_strndup(a, kk, kl);
        char *id = arena_strndup(a, kk + kl + 1, k.len - bl - 3 - kl);
        for (int i = 0; i < nrules; i++) {
            const struct rule *ru = &rules[i];
            if (ru->abort_days < 0 ||
                (ru->prefix && strncmp(key, ru->prefix, strlen(ru->prefix)) != 0))
                continue;
            if (json_num_ci(j, "init") + ru->abort_days * day <= now) {
                add(acts, n, cap, "DELETE", target(a, bucket, key, "uploadId", id));
                break;
            }
        }
        cJSON_Delete(j);
    }
    store_cursor_close(c);
}

static void sweep(struct s3 *s, double day)
{
    struct arena *a = arena_new();
    struct store_txn *t = NULL;
    struct store_cursor *c = NULL;
    struct slice k, v;
    struct action *acts = NULL;
    size_t n = 0, cap = 0, done = 0;
    double now = (double)clock_wall_ms();
    enum err_code rc;

    if (store_read_begin(s->store, &t, NULL) == ERR_OK &&
        store_cursor_open(t, STORE_DB_S3, &c, NULL) == ERR_OK) {
        /* buckets first (the cursor is reused below per bucket) */
        char **buckets = NULL;
        const char **xmls = NULL;
        size_t nb = 0, capb = 0;
        for (rc = store_cursor_seek(c, SLICE("B"), &k, &v, NULL);
             rc == ERR_OK && k.len > 1 && ((const char *)k.ptr)[0] == 'B';
             rc = store_cursor_next(c, &k, &v, NULL)) {
            cJSON *b = cJSON_ParseWithLength(v.ptr, v.len);
            const cJSON *lc = cJSON_GetObjectItem(cJSON_GetObjectItem(b, "cfg"), "lifecycle");
            if (cJSON_IsString(lc)) {
                if (nb == capb) {
                    capb = capb ? capb * 2 : 16;
                    buckets = xrealloc(buckets, capb * sizeof(*buckets));
                    xmls = xrealloc(xmls, capb * sizeof(*xmls));
                }
                buckets[nb] = arena_strndup(a, (const char *)k.ptr + 1, k.len - 1);
                xmls[nb++] = arena_strdup(a, lc->valuestring);
            }
            cJSON_Delete(b);
        }
        store_cursor_close(c);
        c = NULL;
        for (size_t i = 0; i < nb; i++) {
            struct rule rules[64];
            int nr = parse_rules(a, xmls[i], rules, 64);
            if (nr)
                plan_bucket(s, t, a, buckets[i], rules, nr, now, day, &acts, &n, &cap);
        }
        free(buckets);
        free(xmls);
    }
    store_cursor_close(c);
    store_txn_abort(t);
    for (size_t i = 0; i < n; i++) {
        struct http_req *r = http_req_new(acts[i].method, acts[i].path);
        int st;
        s3_handle_internal(s, r);
        st = http_req_wait(r, NULL, NULL);
        if (st < 300)
            done++;
        else
            log_warn("event=s3_lifecycle_action_failed target=%s status=%d", acts[i].path, st);
        http_req_free(r);
        free(acts[i].path);
    }
    free(acts);
    arena_free(a);
    if (done)
        log_info("event=s3_lifecycle_swept actions=%zu", done);
}

static void run(struct worker *wk, void *arg)
{
    struct s3_sweeper *w = arg;

    while (worker_wait(wk, (int64_t)(w->interval_s * 1000)))
        sweep(w->s3, w->day_ms);
}

void s3_sweeper_start(struct s3 *s)
{
    struct s3_sweeper *w = xcalloc(1, sizeof(*w));
    const char *iv = getenv("TANDEM_S3_SWEEP_SECONDS"), *day = getenv("TANDEM_S3_DAY_SECONDS");

    w->s3 = s;
    w->interval_s = num_or(iv, 3600);
    if (w->interval_s < 0.05)
        w->interval_s = 0.05;
    w->day_ms = num_or(day, 86400) * 1000.0;
    w->worker = worker_start(run, w);
    if (!w->worker) {
        log_err("event=s3_sweeper_not_started");
        free(w);
        return;
    }
    s->sweeper = w;
}

void s3_sweeper_stop(struct s3 *s)
{
    struct s3_sweeper *w = s->sweeper;

    if (!w)
        return;
    worker_stop(w->worker);
    free(w);
    s->sweeper = NULL;
}

/* ---- PutBucketLifecycleConfiguration: checks, and the IDs S3 gives ---- */

/* a positive whole number of days */
static bool days_ok(const char *s)
{
    char *end;
    long v;

    if (!s || !*s)
        return false;
    v = strtol(s, &end, 10);
    return !*end && v > 0 && v <= 2147483647L;
}

/* @s is an ISO 8601 date at midnight GMT: 0 ok, 1 not a date, 2 not midnight */
static int date_check(const char *s)
{
    int64_t ms;

    if (!date_ms(s, &ms))
        return 1;
    return ms % 86400000 == 0 ? 0 : 2;
}

/* a class a Transition may move objects to (TransitionStorageClass) */
static bool storage_class_ok(const char *sc)
{
    static const char *const known[] = {"GLACIER",      "STANDARD_IA",
                                        "ONEZONE_IA",   "INTELLIGENT_TIERING",
                                        "DEEP_ARCHIVE", "GLACIER_IR"};

    for (size_t i = 0; sc && i < sizeof(known) / sizeof(known[0]); i++)
        if (strcmp(sc, known[i]) == 0)
            return true;
    return false;
}

/* the document as stored: element names and leaf texts, in order, with an ID
 * first in every Rule that came without one */
static void lc_write(struct buf *b, const struct s3_xml *n, int depth)
{
    const struct s3_xml *c;

    buf_printf(b, "<%s%s>", n->name,
               depth ? "" : " xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"");
    if (depth == 1 && strcmp(n->name, "Rule") == 0 && !s3_xml_child(n, "ID")) {
        char id[33];
        s3_new_id(id);
        xmlw_elem(b, "ID", id, XMLW_CTRL);
    }
    if (!n->child)
        xmlw_text(b, n->text, XMLW_CTRL);
    for (c = n->child; c; c = c->next)
        lc_write(b, c, depth + 1);
    buf_printf(b, "</%s>", n->name);
}

static bool lc_fail(enum s3_code *code, enum s3_code c, char *msg, size_t cap, const char *m)
{
    *code = c;
    snprintf(msg, cap, "%s", m);
    return false;
}

bool s3_lc_check(struct arena *a, const struct s3_xml *x, enum s3_code *code, char *msg, size_t cap,
                 char **doc)
{
    const struct s3_xml *r, *o, *e, *t, *f;
    struct buf b;

    msg[0] = 0;
    for (r = x->child; r; r = r->next) {
        const char *id = s3_xml_text(r, "ID"), *d;
        bool action = false;
        if (id && strlen(id) > 255)
            return lc_fail(code, S3E_INVALID_ARGUMENT, msg, cap,
                           "ID length should not exceed allowed limit of 255");
        for (o = x->child; id && o != r; o = o->next)
            if (s3_xml_text(o, "ID") && strcmp(s3_xml_text(o, "ID"), id) == 0)
                return lc_fail(code, S3E_INVALID_ARGUMENT, msg, cap,
                               "Rule ID must be unique. Found same ID for more than one rule");
        if ((f = s3_xml_child(r, "Filter"))) {
            int parts = 0;
            for (t = f->child; t; t = t->next)
                parts++;
            if (parts > 1) /* one of Prefix, Tag, ObjectSize*, And */
                return lc_fail(code, S3E_MALFORMED_XML, msg, cap, "");
            if (s3_xml_child(r, "AbortIncompleteMultipartUpload") &&
                (s3_xml_child(f, "Tag") || s3_xml_child(s3_xml_child(f, "And"), "Tag")))
                return lc_fail(code, S3E_INVALID_REQUEST, msg, cap,
                               "AbortIncompleteMultipartUpload cannot be specified with Tags.");
        }
        if ((e = s3_xml_child(r, "Expiration"))) {
            action = true;
            /* one of Days, Date, ExpiredObjectDeleteMarker */
            if (!!s3_xml_child(e, "Days") + !!s3_xml_child(e, "Date") +
                    !!s3_xml_child(e, "ExpiredObjectDeleteMarker") >
                1)
                return lc_fail(code, S3E_MALFORMED_XML, msg, cap, "");
            if ((d = s3_xml_text(e, "Days")) && !days_ok(d))
                return lc_fail(code, S3E_INVALID_ARGUMENT, msg, cap,
                               "'Days' for Expiration action must be a positive integer");
            if ((d = s3_xml_text(e, "Date")) && date_check(d))
                return date_check(d) == 2 ? lc_fail(code, S3E_INVALID_ARGUMENT, msg, cap,
                                                    "'Date' must be at midnight GMT")
                                          : lc_fail(code, S3E_MALFORMED_XML, msg, cap, "");
        }
        for (t = r->child; t; t = t->next) {
            if (strcmp(t->name, "Transition") == 0 ||
                strcmp(t->name, "NoncurrentVersionTransition") == 0) {
                action = true;
                if (!storage_class_ok(s3_xml_text(t, "StorageClass")))
                    return lc_fail(code, S3E_MALFORMED_XML, msg, cap, "");
            }
            if (strcmp(t->name, "Transition") == 0 && (d = s3_xml_text(t, "Date")) && date_check(d))
                return date_check(d) == 2 ? lc_fail(code, S3E_INVALID_ARGUMENT, msg, cap,
                                                    "'Date' must be at midnight GMT")
                                          : lc_fail(code, S3E_MALFORMED_XML, msg, cap, "");
        }
        if ((e = s3_xml_child(r, "NoncurrentVersionExpiration"))) {
            action = true;
            const char *nv = s3_xml_text(e, "NewerNoncurrentVersions");
            if (nv && (!days_ok(nv) || atoi(nv) > 100))
                return lc_fail(code, S3E_INVALID_ARGUMENT, msg, cap,
                               "NewerNoncurrentVersions must be between 1 and 100");
            if (!days_ok(s3_xml_text(e, "NoncurrentDays")))
                return lc_fail(code, S3E_INVALID_ARGUMENT, msg, cap,
                               "'NoncurrentDays' for NoncurrentVersionExpiration action must be a "
                               "positive integer");
        }
        if ((e = s3_xml_child(r, "AbortIncompleteMultipartUpload"))) {
            action = true;
            if (!days_ok(s3_xml_text(e, "DaysAfterInitiation")))
                return lc_fail(code, S3E_INVALID_ARGUMENT, msg, cap,
                               "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action "
                               "must be a positive integer");
        }
        if (!action)
            return lc_fail(code, S3E_INVALID_REQUEST, msg, cap,
                           "At least one action needs to be specified in a rule");
    }
    buf_init(&b, 0);
    lc_write(&b, x, 0);
    *doc = arena_strndup(a, b.ptr, b.len);
    buf_free(&b);
    return true;
}

/* ---- x-amz-expiration ---- */

const char *s3_lc_expiration(struct arena *a, const struct s3 *s, const cJSON *bucket,
                             const char *key, const cJSON *v)
{
    const char *xml = s3_cfg_stored(bucket, "lifecycle");
    double day = s->sweeper ? s->sweeper->day_ms : 86400000.0, best = -1;
    const char *best_id = NULL;
    struct rule rules[64];
    char when[40];
    int n;

    if (!xml || !v || cJSON_IsTrue(cJSON_GetObjectItem(v, "dm")))
        return NULL;
    n = parse_rules(a, xml, rules, 64);
    for (int i = 0; i < n; i++) {
        double w = expiry_ms(&rules[i], json_num_ci(v, "lm"), day);
        if (w >= 0 && matches(&rules[i], key, v) && (best < 0 || w < best)) {
            best = w;
            best_id = rules[i].id ? rules[i].id : "";
        }
    }
    if (best < 0)
        return NULL;
    s3_time_http((int64_t)best, when);
    return arena_sprintf(a, "expiry-date=\"%s\", rule-id=\"%s\"", when, best_id);
}
