/* lock.c - S3 Object Lock: write-once-read-many protection of object versions.
 *
 * A bucket has Object Lock when its record holds "lock": {} (enabled, no
 * default) or {"mode", "days" | "years"} (a default retention for new
 * versions). It is switched on by CreateBucket with
 * x-amz-bucket-object-lock-enabled: true (versioning Enabled with it) or by
 * PutObjectLockConfiguration on a bucket whose versioning is Enabled; it is
 * never switched off, and versioning can no longer be suspended.
 *
 * A version record may hold "olm" (GOVERNANCE | COMPLIANCE) with "olr" (the
 * retain-until date, ms) and "olh" ("ON" | "OFF", once a legal hold was set).
 * While its retention is in force or its legal hold is ON the version cannot
 * be deleted by its version id (AccessDenied; GOVERNANCE gives way to
 * x-amz-bypass-governance-retention: true with s3:BypassGovernanceRetention).
 * COMPLIANCE retention can be extended, never shortened or removed; GOVERNANCE
 * retention only with the bypass. A delete without a version id only adds a
 * delete marker, as S3 does. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "authz.h"
#include "clock.h"
#include "codec.h"
#include "s3_int.h"
#include "s3_repl.h"
#include "s3_xml.h"

#define DAY_MS       (86400LL * 1000)
#define MISSING_LOCK "Bucket is missing Object Lock Configuration"
#define PROTECTED    "Access Denied because object protected by object lock."

bool s3_lock_enabled(const cJSON *bucket)
{
    return cJSON_IsObject(cJSON_GetObjectItem(bucket, "lock"));
}

static bool mode_ok(const char *m)
{
    return m && (strcmp(m, "GOVERNANCE") == 0 || strcmp(m, "COMPLIANCE") == 0);
}

/* an ISO 8601 time (2030-01-01T00:00:00[.fff](Z|+hh:mm|-hh:mm)) in ms */
static bool iso_ms(const char *s, int64_t *ms)
{
    struct tm tm;
    const char *p;
    int64_t frac = 0, scale = 100, off = 0;

    memset(&tm, 0, sizeof(tm));
    if (!s || !(p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)))
        return false;
    if (*p == '.') {
        if (!isdigit((unsigned char)*++p))
            return false;
        for (; isdigit((unsigned char)*p); p++, scale /= 10)
            frac += scale ? (*p - '0') * scale : 0;
    }
    if (*p == '+' || *p == '-') {
        int hh, mm, n = 0;
        if (sscanf(p + 1, "%2d:%2d%n", &hh, &mm, &n) != 2 || n != 5 || p[1 + n] || hh > 23 ||
            mm > 59)
            return false;
        off = (hh * 60LL + mm) * 60000 * (*p == '+' ? 1 : -1);
    } else if (strcmp(p, "Z") != 0) {
        return false;
    }
    *ms = (int64_t)timegm(&tm) * 1000 + frac - off;
    return true;
}

static const char *iso_of(struct arena *a, int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    gmtime_r(&t, &tm);
    return arena_sprintf(a, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

static bool jtrue_s(const cJSON *o, const char *name, const char *val)
{
    const char *s = json_str_ci(o, name);
    return s && strcmp(s, val) == 0;
}

bool s3_lock_holds(const cJSON *v, int64_t now_ms, bool bypass)
{
    if (jtrue_s(v, "olh", "ON"))
        return true;
    if (!json_str_ci(v, "olm") || (int64_t)json_num_ci(v, "olr") <= now_ms)
        return false;
    return !(bypass && jtrue_s(v, "olm", "GOVERNANCE"));
}

bool s3_lock_bypass(struct http_req *r, const char *key)
{
    const char *h = http_req_header(r, "x-amz-bypass-governance-retention");
    struct s3_req *q = s3_req_of(r);

    return h && strcasecmp(h, "true") == 0 &&
           s3_may(r, "s3:BypassGovernanceRetention", q->bucket, key);
}

void s3_lock_headers(struct http_req *r, const cJSON *v)
{
    struct s3_req *q = s3_req_of(r);

    if (json_str_ci(v, "olm") && s3_may(r, "s3:GetObjectRetention", q->bucket, q->key)) {
        http_resp_header(r, "x-amz-object-lock-mode", json_str_ci(v, "olm"));
        http_resp_header(r, "x-amz-object-lock-retain-until-date",
                         iso_of(r->arena, (int64_t)json_num_ci(v, "olr")));
    }
    if (json_str_ci(v, "olh") && s3_may(r, "s3:GetObjectLegalHold", q->bucket, q->key))
        http_resp_header(r, "x-amz-object-lock-legal-hold", json_str_ci(v, "olh"));
}

/* ---- the x-amz-object-lock-* headers of PutObject, CopyObject and
 * CreateMultipartUpload ---- */

/* whether @r writes a new version (or starts an upload) that may carry them */
static bool writes_version(struct http_req *r)
{
    static const char *const subs[] = {"tagging",    "acl",      "retention",
                                       "legal-hold", "uploadId", NULL};
    struct s3_req *q = s3_req_of(r);

    if (!q->key[0])
        return false;
    if (strcmp(r->method, "POST") == 0)
        return s3_has_query(r, "uploads");
    if (strcmp(r->method, "PUT") != 0)
        return false;
    for (int i = 0; subs[i]; i++)
        if (s3_has_query(r, subs[i]))
            return false;
    return true;
}

bool s3_lock_request(struct http_req *r)
{
    const char *mode = http_req_header(r, "x-amz-object-lock-mode");
    const char *until = http_req_header(r, "x-amz-object-lock-retain-until-date");
    const char *hold = http_req_header(r, "x-amz-object-lock-legal-hold");
    cJSON *b;
    int64_t ms;

    if ((!mode && !until && !hold) || !writes_version(r))
        return true;
    /* a caller who may not write here is refused by the operation itself,
     * before learning anything about the bucket */
    if (!s3_may(r, "s3:PutObject", s3_req_of(r)->bucket, s3_req_of(r)->key))
        return true;
    if (!mode != !until) {
        s3_error(r, S3E_INVALID_ARGUMENT,
                 "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be "
                 "supplied");
        return false;
    }
    if (mode && !mode_ok(mode)) {
        s3_error_arg(r, S3E_INVALID_ARGUMENT, "Unknown wormMode directive.",
                     "x-amz-object-lock-mode", mode);
        return false;
    }
    if (until && !iso_ms(until, &ms)) {
        s3_error_arg(r, S3E_INVALID_ARGUMENT,
                     "The retain until date must be provided in ISO 8601 format",
                     "x-amz-object-lock-retain-until-date", until);
        return false;
    }
    if (until && ms <= clock_wall_ms()) {
        s3_error_arg(r, S3E_INVALID_ARGUMENT, "The retain until date must be in the future!",
                     "x-amz-object-lock-retain-until-date", until);
        return false;
    }
    if (hold && strcmp(hold, "ON") != 0 && strcmp(hold, "OFF") != 0) {
        s3_error_arg(r, S3E_INVALID_ARGUMENT, "Legal Hold must be either of 'ON' or 'OFF'",
                     "x-amz-object-lock-legal-hold", hold);
        return false;
    }
    if (!(b = s3_bucket_or_404(r)))
        return false;
    if (!s3_lock_enabled(b)) { /* S3 words it so for these three */
        s3_error(r, S3E_INVALID_REQUEST, "Bucket is missing ObjectLockConfiguration");
        return false;
    }
    return true;
}

void s3_lock_from_request(struct http_req *r, cJSON *rec)
{
    const char *mode = http_req_header(r, "x-amz-object-lock-mode");
    const char *until = http_req_header(r, "x-amz-object-lock-retain-until-date");
    const char *hold = http_req_header(r, "x-amz-object-lock-legal-hold");
    int64_t ms;

    if (mode_ok(mode) && iso_ms(until, &ms)) { /* checked by s3_lock_request */
        cJSON_AddStringToObject(rec, "olm", mode);
        cJSON_AddNumberToObject(rec, "olr", (double)ms);
    }
    if (hold && (strcmp(hold, "ON") == 0 || strcmp(hold, "OFF") == 0))
        cJSON_AddStringToObject(rec, "olh", hold);
}

void s3_lock_copy(cJSON *to, const cJSON *from)
{
    static const char *const f[] = {"olm", "olr", "olh", "olb"};

    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        const cJSON *x = cJSON_GetObjectItem(from, f[i]);
        if (x)
            cJSON_AddItemToObject(to, f[i], cJSON_Duplicate(x, true));
    }
}

/* the request carries a Content-MD5 or a checksum of its body */
static bool has_integrity(struct http_req *r)
{
    if (http_req_header(r, "content-md5") || http_req_header(r, "x-amz-sdk-checksum-algorithm") ||
        http_req_header(r, "x-amz-trailer") || s3_req_of(r)->ck_alg)
        return true;
    for (size_t i = 0; i < r->nheaders; i++)
        if (strncasecmp(r->headers[i].name, "x-amz-checksum-", 15) == 0 &&
            strcasecmp(r->headers[i].name, "x-amz-checksum-type") != 0)
            return true;
    return false;
}

bool s3_lock_on_version(struct http_req *r, const cJSON *bucket, cJSON *rec, bool put, bool replica,
                        struct s3_w *w)
{
    const cJSON *lk = cJSON_GetObjectItem(bucket, "lock");
    bool from_locked = cJSON_IsTrue(cJSON_GetObjectItem(rec, "olb"));

    cJSON_DeleteItemFromObject(rec, "olb");
    if (cJSON_IsTrue(cJSON_GetObjectItem(rec, "dm")))
        return true;
    if (!cJSON_IsObject(lk)) {
        if (!json_str_ci(rec, "olm") && !json_str_ci(rec, "olh") && !from_locked)
            return true;
        /* S3 replicates from a bucket with Object Lock only into one with it */
        w->fail = S3E_INVALID_REQUEST;
        snprintf(w->msg, sizeof(w->msg), "%s", MISSING_LOCK);
        return false;
    }
    if (!json_str_ci(rec, "olm") && mode_ok(json_str_ci(lk, "mode"))) {
        double days =
            json_num_ci(lk, "days") > 0 ? json_num_ci(lk, "days") : 365 * json_num_ci(lk, "years");
        cJSON_AddStringToObject(rec, "olm", json_str_ci(lk, "mode"));
        cJSON_AddNumberToObject(rec, "olr", (double)clock_wall_ms() + days * (double)DAY_MS);
    }
    if (put && !replica && json_str_ci(rec, "olm") && !has_integrity(r)) {
        w->fail = S3E_INVALID_REQUEST;
        snprintf(w->msg, sizeof(w->msg),
                 "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests "
                 "with Object Lock parameters");
        return false;
    }
    return true;
}

/* ---- the configuration: Get/PutObjectLockConfiguration ---- */

/* a PUT body that S3 wants with an integrity header: refused without one, and
 * with a Content-MD5 that is not the body's */
static bool body_digest_ok(struct http_req *r)
{
    const char *md5 = http_req_header(r, "content-md5");
    unsigned char want[64], have[16];
    size_t wl = 0;
    unsigned int n = 0;

    if (!md5) {
        if (has_integrity(r))
            return true;
        s3_error(r, S3E_INVALID_REQUEST, "Missing required header for this request: Content-MD5");
        return false;
    }
    if (strlen(md5) > 80 || !base64_decode(md5, strlen(md5), want, &wl) || wl != 16) {
        s3_error_elems(r, S3E_INVALID_DIGEST, NULL, (const char *const[]){"Content-MD5", md5}, 1);
        return false;
    }
    EVP_Digest(r->body.ptr ? r->body.ptr : "", r->body.len, have, &n, EVP_md5(), NULL);
    if (memcmp(want, have, 16) != 0) {
        s3_error(r, S3E_BAD_DIGEST, NULL);
        return false;
    }
    return true;
}

struct lockw {
    struct s3_w w;
    cJSON *cfg;      /* the bucket's new "lock"; owned */
    const char *vid; /* object writes: the version, NULL: latest */
    bool retention;  /* object writes: PutObjectRetention, else PutObjectLegalHold */
    bool clear;      /* retention removed (an empty Retention) */
    const char *mode, *hold;
    int64_t until;
    bool bypass;
    bool replica; /* written by replication (x-tandem-replica: lock): taken as it is */
    char found_vid[40];
    bool versioned;
};

static void lockw_free(void *p)
{
    struct lockw *l = p;
    cJSON_Delete(l->cfg);
}

static enum err_code cfg_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct lockw *l = arg;
    struct s3_req *q = s3_req_of(l->w.r);
    cJSON *b = s3_bucket_get(t, l->w.r->arena, q->bucket);
    enum err_code rc;
    char *s;

    if (!b) {
        l->w.fail = S3E_NO_SUCH_BUCKET;
        return ERR_CONFLICT;
    }
    if (!s3_lock_enabled(b) && !jtrue_s(b, "versioning", "Enabled")) {
        cJSON_Delete(b);
        l->w.fail = S3E_INVALID_BUCKET_STATE;
        snprintf(l->w.msg, sizeof(l->w.msg),
                 "Versioning must be 'Enabled' on the bucket to apply a Object Lock "
                 "configuration");
        return ERR_CONFLICT;
    }
    cJSON_DeleteItemFromObject(b, "lock");
    cJSON_AddItemToObject(b, "lock", cJSON_Duplicate(l->cfg, true));
    s = cJSON_PrintUnformatted(b);
    rc = store_put(t, STORE_DB_S3, s3_key_bucket(l->w.r->arena, q->bucket), slice_str(s), e);
    free(s);
    cJSON_Delete(b);
    return rc;
}

static void ok_200(struct s3_w *w)
{
    struct lockw *l = (struct lockw *)w;

    if (l->found_vid[0] && (l->versioned || strcmp(l->found_vid, "null") != 0))
        http_resp_header(w->r, "x-amz-version-id", l->found_vid);
    s3_ok(w->r, 200, NULL);
}

/* a positive whole number of at most @max, else -1 (0 for "0" and below) */
static long period(const char *s, long max)
{
    char *end;
    long v;

    if (!s || !*s)
        return -1;
    v = strtol(s, &end, 10);
    if (*end || end == s)
        return -1;
    return v <= 0 ? 0 : v > max ? max + 1 : v;
}

/* the ObjectLockConfiguration document into @l->cfg; false after answering */
static bool parse_cfg(struct http_req *r, struct lockw *l)
{
    struct s3_xml *x, *rule, *dr;
    const char *mode, *days, *years;
    long n, max;

    if (s3_xml_parse(r->arena, r->body.ptr ? r->body.ptr : "", r->body.len, &x, NULL) != ERR_OK ||
        strcmp(x->name, "ObjectLockConfiguration") != 0 || !s3_xml_text(x, "ObjectLockEnabled") ||
        strcmp(s3_xml_text(x, "ObjectLockEnabled"), "Enabled") != 0)
        goto malformed;
    l->cfg = cJSON_CreateObject();
    arena_on_free(r->arena, lockw_free, l);
    if (!(rule = s3_xml_child(x, "Rule")))
        return true;
    dr = s3_xml_child(rule, "DefaultRetention");
    mode = s3_xml_text(dr, "Mode");
    days = s3_xml_text(dr, "Days");
    years = s3_xml_text(dr, "Years");
    if (!dr || !mode_ok(mode) || !days == !years)
        goto malformed;
    max = days ? 36500 : 100;
    n = period(days ? days : years, max);
    if (n < 0)
        goto malformed;
    if (n == 0 || n > max) {
        /* S3's answer (the ceph suite expects InvalidRetentionPeriod) */
        s3_error_arg(r, S3E_INVALID_ARGUMENT,
                     n ? "Default retention period is too large."
                       : "Default retention period must be a positive integer value.",
                     days ? "Days" : "Years", days ? days : years);
        return false;
    }
    cJSON_AddStringToObject(l->cfg, "mode", mode);
    cJSON_AddNumberToObject(l->cfg, days ? "days" : "years", (double)n);
    return true;
malformed:
    s3_error(r, S3E_MALFORMED_XML, NULL);
    return false;
}

void s3_lock_config(struct http_req *r)
{
    struct s3_req *q = s3_req_of(r);
    bool put = strcmp(r->method, "PUT") == 0;
    struct lockw *l;
    const cJSON *lk;
    cJSON *b;
    struct buf out;

    if (!put && strcmp(r->method, "GET") != 0) {
        s3_error(r, S3E_METHOD_NOT_ALLOWED, NULL);
        return;
    }
    if (!s3_allow(
            r, put ? "s3:PutBucketObjectLockConfiguration" : "s3:GetBucketObjectLockConfiguration",
            q->bucket, NULL))
        return;
    if (put) {
        l = arena_calloc(r->arena, sizeof(*l));
        if (!body_digest_ok(r) || !parse_cfg(r, l))
            return;
        l->w.r = r;
        l->w.apply = cfg_apply;
        l->w.ok = ok_200;
        s3_submit(&l->w);
        return;
    }
    if (!(b = s3_bucket_or_404(r)))
        return;
    if (!s3_lock_enabled(b)) {
        s3_error(r, S3E_NO_OBJECT_LOCK, NULL);
        return;
    }
    lk = cJSON_GetObjectItem(b, "lock");
    s3_xml_start(&out, "ObjectLockConfiguration");
    buf_puts(&out, "<ObjectLockEnabled>Enabled</ObjectLockEnabled>");
    if (json_str_ci(lk, "mode")) {
        buf_puts(&out, "<Rule><DefaultRetention>");
        xmlw_elem(&out, "Mode", json_str_ci(lk, "mode"), XMLW_CTRL);
        if (json_num_ci(lk, "days") > 0)
            buf_printf(&out, "<Days>%d</Days>", (int)json_num_ci(lk, "days"));
        else
            buf_printf(&out, "<Years>%d</Years>", (int)json_num_ci(lk, "years"));
        buf_puts(&out, "</DefaultRetention></Rule>");
    }
    buf_puts(&out, "</ObjectLockConfiguration>");
    s3_ok(r, 200, &out);
}

/* ---- Get/PutObjectRetention, Get/PutObjectLegalHold ---- */

/* whether retention @v may become @l's: COMPLIANCE in force only lengthens
 * (same mode, no earlier date); GOVERNANCE in force the same unless bypassed */
static bool retention_change_ok(const cJSON *v, const struct lockw *l, int64_t now)
{
    const char *old = json_str_ci(v, "olm");
    int64_t until = (int64_t)json_num_ci(v, "olr");

    if (!old || until <= now)
        return true;
    if (!l->clear && strcmp(l->mode, old) == 0 && l->until >= until)
        return true;
    return strcmp(old, "GOVERNANCE") == 0 && l->bypass;
}

static enum err_code obj_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct lockw *l = arg;
    struct http_req *r = l->w.r;
    struct s3_req *q = s3_req_of(r);
    cJSON *b = s3_bucket_get(t, r->arena, q->bucket), *v = NULL;
    enum err_code rc = ERR_CONFLICT;
    struct slice k;
    char *s;

    if (!b) {
        l->w.fail = S3E_NO_SUCH_BUCKET;
        return ERR_CONFLICT;
    }
    l->versioned = json_str_ci(b, "versioning") && *json_str_ci(b, "versioning");
    if (!s3_lock_enabled(b)) {
        l->w.fail = S3E_INVALID_REQUEST;
        snprintf(l->w.msg, sizeof(l->w.msg), "%s", MISSING_LOCK);
        goto out;
    }
    v = s3_find_version(t, r->arena, q->bucket, q->key, l->vid, &k);
    if (!v || cJSON_IsTrue(cJSON_GetObjectItem(v, "dm"))) {
        l->w.fail = l->vid ? (v ? S3E_METHOD_NOT_ALLOWED : S3E_NO_SUCH_VERSION) : S3E_NO_SUCH_KEY;
        goto out;
    }
    snprintf(l->found_vid, sizeof(l->found_vid), "%s", json_str_ci(v, "vid"));
    /* even replication's write (the region's root) does not shorten a
     * COMPLIANCE retention: its source could not have */
    if ((l->retention || l->replica) && !retention_change_ok(v, l, clock_wall_ms())) {
        l->w.fail = S3E_ACCESS_DENIED;
        snprintf(l->w.msg, sizeof(l->w.msg), "%s", PROTECTED);
        goto out;
    }
    if (l->retention || l->replica) {
        cJSON_DeleteItemFromObject(v, "olm");
        cJSON_DeleteItemFromObject(v, "olr");
        if (!l->clear) {
            cJSON_AddStringToObject(v, "olm", l->mode);
            cJSON_AddNumberToObject(v, "olr", (double)l->until);
        }
    }
    if (!l->retention || l->replica) {
        cJSON_DeleteItemFromObject(v, "olh");
        if (l->hold)
            cJSON_AddStringToObject(v, "olh", l->hold);
    }
    s = cJSON_PrintUnformatted(v);
    rc = store_put(t, STORE_DB_S3, k, slice_str(s), e);
    free(s);
    if (rc == ERR_OK && !l->replica) /* the replicas take the change, as S3's do */
        rc = s3_repl_on_meta(t, b, q->bucket, q->key, v, "lock", e);
out:
    cJSON_Delete(v);
    cJSON_Delete(b);
    return rc;
}

/* PutObjectRetention's Retention or PutObjectLegalHold's LegalHold into @l */
static bool parse_obj(struct http_req *r, struct lockw *l)
{
    struct s3_xml *x;
    const char *mode, *until;

    if (s3_xml_parse(r->arena, r->body.ptr ? r->body.ptr : "", r->body.len, &x, NULL) != ERR_OK ||
        strcmp(x->name, l->retention ? "Retention" : "LegalHold") != 0)
        goto malformed;
    if (!l->retention) {
        l->hold = s3_xml_text(x, "Status");
        if (!l->hold || (strcmp(l->hold, "ON") != 0 && strcmp(l->hold, "OFF") != 0))
            goto malformed;
        return true;
    }
    mode = s3_xml_text(x, "Mode");
    until = s3_xml_text(x, "RetainUntilDate");
    if (!mode && !until) {
        l->clear = true;
        return true;
    }
    if (!mode_ok(mode) || !until || !iso_ms(until, &l->until))
        goto malformed;
    if (l->until <= clock_wall_ms()) {
        s3_error(r, S3E_INVALID_ARGUMENT, "The retain until date must be in the future!");
        return false;
    }
    l->mode = mode;
    return true;
malformed:
    s3_error(r, S3E_MALFORMED_XML, NULL);
    return false;
}

/* replication's copy of the source's settings (x-tandem-replica: lock): the
 * x-amz-object-lock-* headers as they are there, absent ones removed */
static bool parse_replica(struct http_req *r, struct lockw *l)
{
    const char *mode = http_req_header(r, "x-amz-object-lock-mode");

    l->hold = http_req_header(r, "x-amz-object-lock-legal-hold");
    l->clear = !mode_ok(mode) ||
               !iso_ms(http_req_header(r, "x-amz-object-lock-retain-until-date"), &l->until);
    l->mode = mode;
    if (l->hold && strcmp(l->hold, "ON") != 0 && strcmp(l->hold, "OFF") != 0) {
        s3_error(r, S3E_INVALID_ARGUMENT, "x-amz-object-lock-legal-hold must be ON or OFF");
        return false;
    }
    return true;
}

static void obj_get(struct http_req *r, bool retention, const char *vid)
{
    struct s3_req *q = s3_req_of(r);
    struct store_txn *t = NULL;
    cJSON *b = NULL, *v = NULL;
    struct buf out;

    if (store_read_begin(q->s3->store, &t, NULL) == ERR_OK) {
        b = s3_bucket_get(t, r->arena, q->bucket);
        if (b && s3_lock_enabled(b))
            v = s3_find_version(t, r->arena, q->bucket, q->key, vid, NULL);
        store_txn_abort(t);
    }
    if (!b || !s3_lock_enabled(b)) {
        s3_error(r, b ? S3E_INVALID_REQUEST : S3E_NO_SUCH_BUCKET, b ? MISSING_LOCK : NULL);
        cJSON_Delete(b);
        return;
    }
    cJSON_Delete(b);
    if (!v || cJSON_IsTrue(cJSON_GetObjectItem(v, "dm"))) {
        s3_error(r, vid ? (v ? S3E_METHOD_NOT_ALLOWED : S3E_NO_SUCH_VERSION) : S3E_NO_SUCH_KEY,
                 NULL);
        cJSON_Delete(v);
        return;
    }
    arena_on_free(r->arena, s3_json_free, v);
    if (retention ? !json_str_ci(v, "olm") : !json_str_ci(v, "olh")) {
        s3_error(r, S3E_NO_LOCK_CONFIG, NULL);
        return;
    }
    s3_xml_start(&out, retention ? "Retention" : "LegalHold");
    if (retention) {
        xmlw_elem(&out, "Mode", json_str_ci(v, "olm"), XMLW_CTRL);
        xmlw_elem(&out, "RetainUntilDate", iso_of(r->arena, (int64_t)json_num_ci(v, "olr")),
                  XMLW_CTRL);
        buf_puts(&out, "</Retention>");
    } else {
        xmlw_elem(&out, "Status", json_str_ci(v, "olh"), XMLW_CTRL);
        buf_puts(&out, "</LegalHold>");
    }
    s3_ok(r, 200, &out);
}

void s3_object_lock(struct http_req *r)
{
    struct s3_req *q = s3_req_of(r);
    bool put = strcmp(r->method, "PUT") == 0, retention = s3_has_query(r, "retention");
    const char *vid = s3_query(r, "versionId");
    struct lockw *l;
    int replica;

    if (!put && strcmp(r->method, "GET") != 0) {
        s3_error(r, S3E_METHOD_NOT_ALLOWED, NULL);
        return;
    }
    if (!s3_allow(r,
                  retention ? (put ? "s3:PutObjectRetention" : "s3:GetObjectRetention")
                            : (put ? "s3:PutObjectLegalHold" : "s3:GetObjectLegalHold"),
                  q->bucket, q->key))
        return;
    if (vid && !s3_vid_ok(vid)) {
        s3_error_arg(r, S3E_INVALID_ARGUMENT, "Invalid version id specified", "versionId", vid);
        return;
    }
    if (!put) {
        obj_get(r, retention, vid);
        return;
    }
    if ((replica = s3_repl_claimed(r)) < 0)
        return;
    l = arena_calloc(r->arena, sizeof(*l));
    l->vid = vid;
    l->retention = retention;
    l->replica = replica;
    if (replica ? !parse_replica(r, l) : !body_digest_ok(r) || !parse_obj(r, l))
        return;
    l->bypass = replica || (retention && s3_lock_bypass(r, q->key));
    l->w.r = r;
    l->w.apply = obj_apply;
    l->w.ok = ok_200;
    s3_submit(&l->w);
}

/* ---- condition keys ---- */

size_t s3_lock_context(struct http_req *r, const char *action, struct authz_kv *kv, size_t cap)
{
    const char *mode = NULL, *until = NULL, *hold = NULL;
    struct s3_xml *x;
    size_t n = 0;
    int64_t ms;

    if (strcmp(action, "s3:PutObject") == 0) {
        mode = http_req_header(r, "x-amz-object-lock-mode");
        until = http_req_header(r, "x-amz-object-lock-retain-until-date");
        hold = http_req_header(r, "x-amz-object-lock-legal-hold");
    } else if ((strcmp(action, "s3:PutObjectRetention") == 0 ||
                strcmp(action, "s3:PutObjectLegalHold") == 0) &&
               r->body.len &&
               s3_xml_parse(r->arena, r->body.ptr, r->body.len, &x, NULL) == ERR_OK) {
        mode = s3_xml_text(x, "Mode");
        until = s3_xml_text(x, "RetainUntilDate");
        hold = strcmp(x->name, "LegalHold") == 0 ? s3_xml_text(x, "Status") : NULL;
    }
    if (mode && n < cap)
        kv[n++] = (struct authz_kv){"s3:object-lock-mode", mode};
    if (until && n < cap)
        kv[n++] = (struct authz_kv){"s3:object-lock-retain-until-date", until};
    if (until && iso_ms(until, &ms) && n < cap) {
        int64_t left = ms - clock_wall_ms();
        kv[n++] = (struct authz_kv){
            "s3:object-lock-remaining-retention-days",
            arena_sprintf(r->arena, "%lld",
                          left > 0 ? (long long)((left + DAY_MS - 1) / DAY_MS) : 0)};
    }
    if (hold && n < cap)
        kv[n++] = (struct authz_kv){"s3:object-lock-legal-hold", hold};
    return n;
}
