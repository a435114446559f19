/* repl.c - cross-region replication of object versions: the configuration
 * API, the queue written with each version, the worker that copies, and the
 * replica write path (contract in s3_repl.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "awsc.h"
#include "clock.h"
#include "codec.h"
#include "log.h"
#include "mem.h"
#include "s3_repl.h"
#include "s3_xml.h"

enum { MAX_DESTS = 64, MAX_BATCH = 64, MAX_SCAN = 4096 };

/* ---- the configuration document ---- */

static bool fail(enum s3_code *code, char *msg, size_t cap, enum s3_code c, const char *m)
{
    *code = c;
    snprintf(msg, cap, "%s", m ? m : "");
    return false;
}

static bool status_ok(const char *s)
{
    return s && (strcmp(s, "Enabled") == 0 || strcmp(s, "Disabled") == 0);
}

static void add_tag(cJSON *tags, const struct s3_xml *t)
{
    cJSON *o = cJSON_CreateObject();
    const char *k = s3_xml_text(t, "Key"), *v = s3_xml_text(t, "Value");
    cJSON_AddStringToObject(o, "k", k ? k : "");
    cJSON_AddStringToObject(o, "v", v ? v : "");
    cJSON_AddItemToArray(tags, o);
}

/* the Filter of a rule into prefix/tags; false on a bad shape */
static bool parse_filter(const struct s3_xml *f, cJSON *rule, enum s3_code *code, char *msg,
                         size_t cap)
{
    cJSON *tags = cJSON_AddArrayToObject(rule, "tags");
    const struct s3_xml *n, *and = s3_xml_child(f, "And");
    int kinds = 0;

    for (n = f->child; n; n = n->next) {
        kinds++;
        if (strcmp(n->name, "Prefix") == 0)
            cJSON_AddStringToObject(rule, "prefix", n->text);
        else if (strcmp(n->name, "Tag") == 0) {
            if (!s3_xml_text(n, "Key"))
                return fail(code, msg, cap, S3E_MALFORMED_XML, NULL);
            add_tag(tags, n);
        } else if (strcmp(n->name, "And") != 0)
            return fail(code, msg, cap, S3E_MALFORMED_XML, NULL);
    }
    if (kinds > 1) /* Prefix, Tag and And are alternatives */
        return fail(code, msg, cap, S3E_MALFORMED_XML, NULL);
    if (and) {
        for (n = and->child; n; n = n->next) {
            if (strcmp(n->name, "Prefix") == 0 && !cJSON_GetObjectItem(rule, "prefix"))
                cJSON_AddStringToObject(rule, "prefix", n->text);
            else if (strcmp(n->name, "Tag") == 0 && s3_xml_text(n, "Key"))
                add_tag(tags, n);
            else
                return fail(code, msg, cap, S3E_MALFORMED_XML, NULL);
        }
    }
    if (cJSON_GetArraySize(tags) > 10)
        return fail(code, msg, cap, S3E_INVALID_ARGUMENT, "A filter may hold at most 10 tags");
    return true;
}

static bool parse_rule(const struct s3_xml *x, cJSON *rule, enum s3_code *code, char *msg,
                       size_t cap)
{
    const char *st = s3_xml_text(x, "Status"), *id = s3_xml_text(x, "ID");
    const char *pr = s3_xml_text(x, "Priority"), *prefix = s3_xml_text(x, "Prefix");
    const struct s3_xml *f = s3_xml_child(x, "Filter"), *d = s3_xml_child(x, "Destination");
    const struct s3_xml *dmr = s3_xml_child(x, "DeleteMarkerReplication");
    const char *dest = s3_xml_text(d, "Bucket"), *sc = s3_xml_text(d, "StorageClass");
    static const char *const classes[] = {
        "STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING",
        "GLACIER",  "DEEP_ARCHIVE",       "OUTPOSTS",    "GLACIER_IR", NULL};
    char *end = NULL;
    long prio = 0;

    if (!status_ok(st) || !d || !dest)
        return fail(code, msg, cap, S3E_MALFORMED_XML, NULL);
    if (id && strlen(id) > 255)
        return fail(code, msg, cap, S3E_INVALID_ARGUMENT,
                    "The ID of a rule must be at most 255 characters");
    if (prefix && f)
        return fail(code, msg, cap, S3E_MALFORMED_XML, NULL);
    if (pr) {
        errno = 0;
        prio = strtol(pr, &end, 10);
        if (!*pr || *end || errno || prio < 0 || prio > 2147483647L)
            return fail(code, msg, cap, S3E_MALFORMED_XML, NULL);
    }
    if (strncmp(dest, "arn:aws:s3:::", 13) != 0 || !s3_bucket_name_ok(dest + 13))
        return fail(code, msg, cap, S3E_INVALID_ARGUMENT, "Invalid bucket ARN.");
    if (sc) {
        int i;
        for (i = 0; classes[i] && strcmp(classes[i], sc) != 0; i++)
            ;
        if (!classes[i])
            return fail(code, msg, cap, S3E_INVALID_ARGUMENT,
                        "The storage class you specified is not valid");
    }
    if (dmr && !status_ok(s3_xml_text(dmr, "Status")))
        return fail(code, msg, cap, S3E_MALFORMED_XML, NULL);
    {
        const struct s3_xml *ssc = s3_xml_child(x, "SourceSelectionCriteria");
        const struct s3_xml *rm = s3_xml_child(ssc, "ReplicaModifications");
        const struct s3_xml *eo = s3_xml_child(x, "ExistingObjectReplication");
        if ((rm && !status_ok(s3_xml_text(rm, "Status"))) ||
            (eo && !status_ok(s3_xml_text(eo, "Status"))))
            return fail(code, msg, cap, S3E_MALFORMED_XML, NULL);
        if (rm)
            cJSON_AddBoolToObject(rule, "rm", strcmp(s3_xml_text(rm, "Status"), "Enabled") == 0);
        if (eo)
            cJSON_AddBoolToObject(rule, "eo", strcmp(s3_xml_text(eo, "Status"), "Enabled") == 0);
    }
    cJSON_AddStringToObject(rule, "id", id ? id : "");
    cJSON_AddNumberToObject(rule, "priority", (double)prio);
    cJSON_AddBoolToObject(rule, "enabled", strcmp(st, "Enabled") == 0);
    cJSON_AddStringToObject(rule, "dest", dest + 13);
    cJSON_AddStringToObject(rule, "sc", sc ? sc : "STANDARD");
    cJSON_AddBoolToObject(rule, "v1", !f);
    if (f) {
        /* the V2 schema: DeleteMarkerReplication must be said */
        if (!dmr)
            return fail(code, msg, cap, S3E_INVALID_REQUEST,
                        "DeleteMarkerReplication must be specified for this version of Cross "
                        "Region Replication configuration schema.");
        if (!parse_filter(f, rule, code, msg, cap))
            return false;
    } else {
        cJSON_AddArrayToObject(rule, "tags");
        if (prefix)
            cJSON_AddStringToObject(rule, "prefix", prefix);
        if (dmr)
            return fail(code, msg, cap, S3E_INVALID_REQUEST,
                        "DeleteMarkerReplication requires a Filter in the rule.");
    }
    if (!cJSON_GetObjectItem(rule, "prefix"))
        cJSON_AddStringToObject(rule, "prefix", "");
    /* the V1 schema replicates delete markers; V2 when the rule says so */
    cJSON_AddBoolToObject(rule, "dm",
                          f ? strcmp(s3_xml_text(dmr, "Status"), "Enabled") == 0 : true);
    if (f && cJSON_IsTrue(cJSON_GetObjectItem(rule, "dm")) &&
        cJSON_GetArraySize(cJSON_GetObjectItem(rule, "tags")) > 0)
        return fail(code, msg, cap, S3E_INVALID_REQUEST,
                    "Delete marker replication is not supported if any Tag filter is specified. "
                    "Please refer to S3 Developer Guide for more information.");
    return true;
}

cJSON *s3_repl_parse(const char *xml, size_t len, enum s3_code *code, char *msg, size_t cap)
{
    struct arena *a = arena_new();
    struct s3_xml *x = NULL;
    const struct s3_xml *n;
    cJSON *cfg = cJSON_CreateObject(), *rules = cJSON_AddArrayToObject(cfg, "rules");
    const char *role;
    int nrules = 0, v1 = 0;
    bool ok = true;

    if (s3_xml_parse(a, xml ? xml : "", len, &x, NULL) != ERR_OK ||
        strcmp(x->name, "ReplicationConfiguration") != 0) {
        ok = fail(code, msg, cap, S3E_MALFORMED_XML, NULL);
        goto out;
    }
    role = s3_xml_text(x, "Role");
    if (!role || !*role) {
        ok = fail(code, msg, cap, S3E_MALFORMED_XML, NULL);
        goto out;
    }
    if (strncmp(role, "arn:aws:iam::", 13) != 0 || !strstr(role, ":role/")) {
        ok = fail(code, msg, cap, S3E_INVALID_ARGUMENT, "Invalid ReplicationConfiguration Role");
        goto out;
    }
    cJSON_AddStringToObject(cfg, "role", role);
    for (n = x->child; n && ok; n = n->next) {
        cJSON *rule;
        if (strcmp(n->name, "Role") == 0)
            continue;
        if (strcmp(n->name, "Rule") != 0) {
            ok = fail(code, msg, cap, S3E_MALFORMED_XML, NULL);
            break;
        }
        rule = cJSON_CreateObject();
        cJSON_AddItemToArray(rules, rule);
        ok = parse_rule(n, rule, code, msg, cap);
        nrules++;
        v1 += ok && cJSON_IsTrue(cJSON_GetObjectItem(rule, "v1"));
    }
    if (!ok)
        goto out;
    if (nrules == 0 || nrules > 1000) {
        ok = fail(code, msg, cap, S3E_MALFORMED_XML, NULL);
        goto out;
    }
    if (v1 && v1 != nrules) {
        ok = fail(code, msg, cap, S3E_INVALID_REQUEST,
                  "Rules with a Filter and rules with a Prefix cannot be mixed.");
        goto out;
    }
    /* IDs and (V2) priorities are unique; a missing ID gets one */
    for (int i = 0; i < nrules && ok; i++) {
        cJSON *ri = cJSON_GetArrayItem(rules, i);
        if (!*s3_jstr(ri, "id")) {
            char id[33];
            s3_new_id(id);
            cJSON_ReplaceItemInObject(ri, "id", cJSON_CreateString(id));
        }
        for (int j = 0; j < i; j++) {
            cJSON *rj = cJSON_GetArrayItem(rules, j);
            if (strcmp(s3_jstr(ri, "id"), s3_jstr(rj, "id")) == 0) {
                ok = fail(code, msg, cap, S3E_INVALID_ARGUMENT, "Rule Id must be unique.");
                break;
            }
            if (!v1 && s3_jnum(ri, "priority") == s3_jnum(rj, "priority")) {
                ok = fail(code, msg, cap, S3E_INVALID_REQUEST,
                          "Found overlapping priority in rules. Priority must be unique.");
                break;
            }
        }
    }
out:
    arena_free(a);
    if (!ok) {
        cJSON_Delete(cfg);
        return NULL;
    }
    return cfg;
}

static bool has_tag(const cJSON *tags, const char *k, const char *v)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, tags)
    {
        if (s3_jstr(t, "k") && strcmp(s3_jstr(t, "k"), k) == 0 && s3_jstr(t, "v") &&
            strcmp(s3_jstr(t, "v"), v) == 0)
            return true;
    }
    return false;
}

static bool rule_selects(const cJSON *r, const char *key, const cJSON *tags, bool dm)
{
    const char *p = s3_jstr(r, "prefix");
    const cJSON *t;

    if (!cJSON_IsTrue(cJSON_GetObjectItem(r, "enabled")))
        return false;
    if (dm && !cJSON_IsTrue(cJSON_GetObjectItem(r, "dm")))
        return false;
    if (p && strncmp(key, p, strlen(p)) != 0)
        return false;
    cJSON_ArrayForEach(t, cJSON_GetObjectItem(r, "tags"))
    {
        if (!has_tag(tags, s3_jstr(t, "k"), s3_jstr(t, "v")))
            return false;
    }
    return true;
}

const cJSON *s3_repl_match(const cJSON *cfg, const char *key, const cJSON *tags, bool dm)
{
    const cJSON *r, *best = NULL;

    cJSON_ArrayForEach(r, cJSON_GetObjectItem(cfg, "rules"))
    {
        if (rule_selects(r, key, tags, dm) &&
            (!best || s3_jnum(r, "priority") > s3_jnum(best, "priority")))
            best = r;
    }
    return best;
}

int s3_repl_match_all(const cJSON *cfg, const char *key, const cJSON *tags, bool dm,
                      const cJSON **out, int max)
{
    const cJSON *r;
    int n = 0, i;

    cJSON_ArrayForEach(r, cJSON_GetObjectItem(cfg, "rules"))
    {
        if (!rule_selects(r, key, tags, dm))
            continue;
        for (i = 0; i < n && strcmp(s3_jstr(out[i], "dest"), s3_jstr(r, "dest")) != 0; i++)
            ;
        if (i < n) {
            if (s3_jnum(r, "priority") > s3_jnum(out[i], "priority"))
                out[i] = r;
        } else if (n < max) {
            out[n++] = r;
        }
    }
    return n;
}

/* ---- the queue ---- */

static struct slice queue_key(struct arena *a, uint64_t seq)
{
    unsigned char *k = arena_alloc(a, 9);
    k[0] = 'Q';
    for (int i = 0; i < 8; i++)
        k[1 + i] = (unsigned char)(seq >> (56 - 8 * i));
    return slice_of(k, 9);
}

/* enqueue - a queue entry copying version @vid to @dest; @op "tags" copies only
 * the version's tag set (PutObjectTagging / DeleteObjectTagging), "acl" only its
 * canned ACL (PutObjectAcl), NULL the version */
static enum err_code enqueue(struct store_txn *t, const char *bname, const char *key,
                             const char *vid, const char *dest, const char *role, const char *op,
                             struct err *e)
{
    struct arena *a = arena_new();
    cJSON *q = cJSON_CreateObject();
    uint64_t seq;
    enum err_code rc = store_next_id(t, &seq, e);
    char *s;

    if (rc == ERR_OK) {
        cJSON_AddStringToObject(q, "b", bname);
        cJSON_AddStringToObject(q, "k", key);
        cJSON_AddStringToObject(q, "v", vid);
        cJSON_AddStringToObject(q, "d", dest);
        cJSON_AddStringToObject(q, "role", role ? role : "");
        cJSON_AddNumberToObject(q, "n", 0);
        cJSON_AddNumberToObject(q, "at", 0);
        if (op)
            cJSON_AddStringToObject(q, "op", op);
        s = cJSON_PrintUnformatted(q);
        rc = store_put(t, STORE_DB_S3, queue_key(a, seq), slice_str(s), e);
        free(s);
    }
    cJSON_Delete(q);
    arena_free(a);
    return rc;
}

static void set_rs(cJSON *rec, const char *status)
{
    cJSON_DeleteItemFromObject(rec, "rs");
    cJSON_AddStringToObject(rec, "rs", status);
}

/* queue_all - queue version @vid (record @rec) to every destination a rule
 * selects it for (per destination the highest-priority rule, as S3 does with
 * several destinations); rec gets rs=PENDING and "rd" {DEST: status}, or no rs
 * when no rule selects it. */
static enum err_code queue_all(struct store_txn *t, const cJSON *cfg, const char *bname,
                               const char *key, const char *vid, cJSON *rec, struct err *e)
{
    const cJSON *rules[MAX_DESTS_PER_VERSION];
    int n = s3_repl_match_all(cfg, key, cJSON_GetObjectItem(rec, "tags"),
                              cJSON_IsTrue(cJSON_GetObjectItem(rec, "dm")), rules,
                              MAX_DESTS_PER_VERSION);
    cJSON *rd;
    enum err_code rc;

    cJSON_DeleteItemFromObject(rec, "rd");
    if (!n) {
        cJSON_DeleteItemFromObject(rec, "rs");
        return ERR_OK;
    }
    set_rs(rec, "PENDING");
    rd = cJSON_AddObjectToObject(rec, "rd");
    for (int i = 0; i < n; i++) {
        cJSON_AddStringToObject(rd, s3_jstr(rules[i], "dest"), "PENDING");
        rc = enqueue(t, bname, key, vid, s3_jstr(rules[i], "dest"), s3_jstr(cfg, "role"), NULL, e);
        if (rc)
            return rc;
    }
    return ERR_OK;
}

/* the version's status from its destinations' (S3 with several destinations:
 * PENDING until every one is done, then FAILED if any failed, else COMPLETED) */
static const char *overall(const cJSON *rd)
{
    const cJSON *d;
    bool failed = false;

    cJSON_ArrayForEach(d, rd)
    {
        if (cJSON_IsString(d) && strcmp(d->valuestring, "PENDING") == 0)
            return "PENDING";
        failed = failed || (cJSON_IsString(d) && strcmp(d->valuestring, "FAILED") == 0);
    }
    return failed ? "FAILED" : "COMPLETED";
}

enum err_code s3_repl_on_version(struct store_txn *t, const cJSON *bucket, const char *bname,
                                 const char *key, const char *vid, cJSON *rec, struct err *e)
{
    const cJSON *cfg = cJSON_GetObjectItem(bucket, "repl");
    const char *vs = s3_jstr(bucket, "versioning"), *rs = s3_jstr(rec, "rs");

    if (!cfg || (rs && strcmp(rs, "REPLICA") == 0))
        return ERR_OK; /* replicas are never replicated again */
    if (!vs || strcmp(vs, "Enabled") != 0)
        return ERR_OK;
    return queue_all(t, cfg, bname, key, vid, rec, e);
}

enum err_code s3_repl_on_meta(struct store_txn *t, const cJSON *bucket, const char *bname,
                              const char *key, const cJSON *rec, const char *op, struct err *e)
{
    const cJSON *cfg = cJSON_GetObjectItem(bucket, "repl"), *rule;
    const char *vs = s3_jstr(bucket, "versioning"), *rs = s3_jstr(rec, "rs");
    bool replica = rs && strcmp(rs, "REPLICA") == 0;

    if (!cfg || !rs || !vs || strcmp(vs, "Enabled") != 0)
        return ERR_OK; /* a version never replicated has no copy to update */
    if (!replica && cJSON_GetObjectItem(rec, "rd")) {
        /* the destinations the version went to, whatever its tags now select */
        const cJSON *d;
        cJSON_ArrayForEach(d, cJSON_GetObjectItem(rec, "rd"))
        {
            enum err_code rc =
                enqueue(t, bname, key, s3_jstr(rec, "vid"), d->string, s3_jstr(cfg, "role"), op, e);
            if (rc)
                return rc;
        }
        return ERR_OK;
    }
    rule = s3_repl_match(cfg, key, cJSON_GetObjectItem(rec, "tags"), false);
    if (!rule && !replica) /* new tags a filter no longer selects: the copy still takes them */
        rule = s3_repl_match(cfg, key, NULL, false);
    if (!rule || (replica && !cJSON_IsTrue(cJSON_GetObjectItem(rule, "rm"))))
        return ERR_OK;
    return enqueue(t, bname, key, s3_jstr(rec, "vid"), s3_jstr(rule, "dest"), s3_jstr(cfg, "role"),
                   op, e);
}

/* ---- the replica write path (destination side) ---- */

int s3_repl_claimed(struct http_req *r)
{
    if (!http_req_header(r, "x-tandem-replica"))
        return 0;
    if (!s3_req_of(r)->who.root) {
        s3_error(r, S3E_ACCESS_DENIED, "Only the region's root credentials may write replicas");
        return -1;
    }
    return 1;
}

cJSON *s3_repl_replica_rec(struct http_req *r, const char *md5_hex, const char *rel,
                           const char **vid)
{
    struct s3_req *q = s3_req_of(r);
    const char *h = http_req_header(r, "x-tandem-replica");
    size_t n = strlen(h), outlen = 0;
    unsigned char *raw = arena_alloc(r->arena, n + 4);
    cJSON *src = NULL, *rec;
    static const char *const keep[] = {"etag", "h",     "m",   "tags", "ckn", "ckv",
                                       "ckt",  "parts", "psz", "pnum", "pck", "acl",
                                       "wrl",  "olm",   "olr", "olh",  "olb"};
    const char *v, *etag;

    if (s3_repl_claimed(r) < 0)
        return NULL;
    if (!base64_decode(h, n, raw, &outlen) ||
        !(src = cJSON_ParseWithLength((const char *)raw, outlen)) || !(v = s3_jstr(src, "vid")) ||
        !*v || strlen(v) > 32 || !cJSON_IsNumber(cJSON_GetObjectItem(src, "lm"))) {
        cJSON_Delete(src);
        s3_error(r, S3E_INVALID_ARGUMENT, "x-tandem-replica is not a version record");
        return NULL;
    }
    arena_on_free(r->arena, s3_json_free, src);
    *vid = arena_strdup(r->arena, v);
    rec = cJSON_CreateObject();
    cJSON_AddNumberToObject(rec, "lm", s3_jnum(src, "lm"));
    cJSON_AddStringToObject(rec, "rs", "REPLICA");
    if (cJSON_IsTrue(cJSON_GetObjectItem(src, "dm"))) {
        cJSON_AddTrueToObject(rec, "dm");
        return rec;
    }
    if (cJSON_IsTrue(cJSON_GetObjectItem(src, "olb"))) /* from a bucket with Object Lock */
        cJSON_AddTrueToObject(rec, "olb");
    etag = s3_jstr(src, "etag");
    /* a single-part ETag is the body's MD5: the copy must be the same bytes */
    if (!etag ||
        (!strchr(etag, '-') && strlen(etag) == 34 && strncasecmp(etag + 1, md5_hex, 32) != 0)) {
        cJSON_Delete(rec);
        s3_error(r, S3E_BAD_DIGEST, NULL);
        return NULL;
    }
    cJSON_AddNumberToObject(rec, "size", (double)q->size);
    cJSON_AddStringToObject(rec, "file", rel);
    for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
        const cJSON *x = cJSON_GetObjectItem(src, keep[i]);
        if (x)
            cJSON_AddItemToObject(rec, keep[i], cJSON_Duplicate(x, true));
    }
    return rec;
}

/* ---- Put/Get/DeleteBucketReplication ---- */

struct cfgw {
    struct s3_w w;
    cJSON *cfg; /* NULL: delete */
    const char *xml;
};

static bool role_exists(struct s3 *s, struct store_txn *t, const char *role)
{
    const char *name = strrchr(role, '/');
    char key[300];
    struct slice v;

    if (!s->authz)
        return true; /* no identity service */
    snprintf(key, sizeof(key), "iam/role/%s", name ? name + 1 : role);
    return store_get(t, STORE_DB_META, slice_str(key), &v, NULL) == ERR_OK;
}

static enum err_code existing_objects(struct store_txn *t, const char *bname, const cJSON *cfg,
                                      struct err *e);

static enum err_code cfg_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct cfgw *cw = arg;
    struct s3_req *q = s3_req_of(cw->w.r);
    cJSON *b = s3_bucket_get(t, cw->w.r->arena, q->bucket);
    const char *vs = s3_jstr(b, "versioning");
    enum err_code rc;
    char *s;

    if (!b) {
        cw->w.fail = S3E_NO_SUCH_BUCKET;
        return ERR_CONFLICT;
    }
    arena_on_free(cw->w.r->arena, s3_json_free, b);
    if (cw->cfg) {
        const cJSON *rule;
        if (!vs || strcmp(vs, "Enabled") != 0) {
            cw->w.fail = S3E_INVALID_REQUEST;
            snprintf(cw->w.msg, sizeof(cw->w.msg),
                     "Versioning must be 'Enabled' on the bucket to apply a replication "
                     "configuration");
            return ERR_CONFLICT;
        }
        cJSON_ArrayForEach(rule, cJSON_GetObjectItem(cw->cfg, "rules"))
        {
            if (strcmp(s3_jstr(rule, "dest"), q->bucket) == 0) {
                cw->w.fail = S3E_INVALID_REQUEST;
                snprintf(cw->w.msg, sizeof(cw->w.msg),
                         "Destination bucket cannot be the same as the source bucket.");
                return ERR_CONFLICT;
            }
        }
        if (!role_exists(q->s3, t, s3_jstr(cw->cfg, "role"))) {
            cw->w.fail = S3E_INVALID_ARGUMENT;
            snprintf(cw->w.msg, sizeof(cw->w.msg), "Invalid Role: %s does not exist",
                     s3_jstr(cw->cfg, "role"));
            return ERR_CONFLICT;
        }
    } else if (!cJSON_GetObjectItem(b, "repl")) {
        cw->w.fail = S3E_NO_REPLICATION;
        return ERR_CONFLICT;
    }
    cJSON_DeleteItemFromObject(b, "repl");
    cJSON_DeleteItemFromObject(b, "replx");
    if (cw->cfg) {
        cJSON_AddItemToObject(b, "repl", cJSON_Duplicate(cw->cfg, true));
        cJSON_AddStringToObject(b, "replx", cw->xml);
    }
    s = cJSON_PrintUnformatted(b);
    rc = store_put(t, STORE_DB_S3, s3_key_bucket(cw->w.r->arena, q->bucket), slice_str(s), e);
    free(s);
    if (rc == ERR_OK && cw->cfg)
        rc = existing_objects(t, q->bucket, cw->cfg, e);
    return rc;
}

static void cfg_ok(struct s3_w *w)
{
    struct cfgw *cw = (struct cfgw *)w;
    s3_ok(w->r, cw->cfg ? 200 : 204, NULL);
}

void s3_repl_config(struct http_req *r)
{
    struct s3_req *q = s3_req_of(r);
    struct cfgw *cw;

    if (strcmp(r->method, "GET") == 0) {
        struct store_txn *t = NULL;
        cJSON *b = NULL;
        const char *x;
        struct buf out;
        if (!s3_allow(r, "s3:GetReplicationConfiguration", q->bucket, NULL))
            return;
        if (store_read_begin(q->s3->store, &t, NULL) == ERR_OK) {
            b = s3_bucket_get(t, r->arena, q->bucket);
            store_txn_abort(t);
        }
        if (!b) {
            s3_error(r, S3E_NO_SUCH_BUCKET, NULL);
            return;
        }
        arena_on_free(r->arena, s3_json_free, b);
        if (!(x = s3_jstr(b, "replx"))) {
            s3_error(r, S3E_NO_REPLICATION, NULL);
            return;
        }
        buf_init(&out, 0);
        buf_puts(&out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        buf_puts(&out, x);
        s3_ok(r, 200, &out);
        return;
    }
    if (strcmp(r->method, "PUT") != 0 && strcmp(r->method, "DELETE") != 0) {
        s3_error(r, S3E_METHOD_NOT_ALLOWED, NULL);
        return;
    }
    if (!s3_allow(r, "s3:PutReplicationConfiguration", q->bucket, NULL))
        return;
    cw = arena_calloc(r->arena, sizeof(*cw));
    if (strcmp(r->method, "PUT") == 0) {
        const char *body = r->body.ptr ? r->body.ptr : "";
        const char *start;
        enum s3_code code = S3E_MALFORMED_XML;
        char msg[256];
        cw->cfg = s3_repl_parse(body, r->body.len, &code, msg, sizeof(msg));
        if (!cw->cfg) {
            s3_error(r, code, msg[0] ? msg : NULL);
            return;
        }
        arena_on_free(r->arena, s3_json_free, cw->cfg);
        start = strstr(body, "<?xml") == body ? strstr(body, "?>") + 2 : body;
        while (*start == '\n' || *start == '\r' || *start == ' ')
            start++;
        cw->xml = arena_strndup(r->arena, start, r->body.len - (size_t)(start - body));
    }
    cw->w.r = r;
    cw->w.apply = cfg_apply;
    cw->w.ok = cfg_ok;
    s3_submit(&cw->w);
}

/* ---- replicating what existed before the rules (Batch Replication) ---- */

struct existw {
    struct s3_w w;
    bool failed_only;
    int queued;
};

static enum err_code queue_versions(struct store_txn *t, struct existw *x, const cJSON *cfg,
                                    const char *bucket, struct slice *keys, cJSON **recs, int n,
                                    struct err *e)
{
    /* the store holds a key's versions newest first: queue them oldest first */
    for (int i = n - 1; i >= 0; i--) {
        cJSON *rec = recs[i];
        const char *rs = s3_jstr(rec, "rs"), *key = s3_jstr(rec, "_key");
        enum err_code rc;
        char *s;
        /* existing: never tried or FAILED; failed: FAILED only (PENDING is
         * queued already, COMPLETED done, REPLICA never replicated again) */
        if (rs ? strcmp(rs, "FAILED") != 0 : x->failed_only)
            continue;
        if (!s3_repl_match(cfg, key, cJSON_GetObjectItem(rec, "tags"),
                           cJSON_IsTrue(cJSON_GetObjectItem(rec, "dm"))))
            continue;
        rc = queue_all(t, cfg, bucket, key, s3_jstr(rec, "vid"), rec, e);
        if (rc)
            return rc;
        cJSON_DeleteItemFromObject(rec, "_key");
        s = cJSON_PrintUnformatted(rec);
        rc = store_put(t, STORE_DB_S3, keys[i], slice_str(s), e);
        free(s);
        if (rc)
            return rc;
        x->queued++;
    }
    return ERR_OK;
}

/* queue_bucket - queue the versions of bucket @bname that @cfg's rules select
 * and that have no status yet (or FAILED ones, x->failed_only) */
static enum err_code queue_bucket(struct store_txn *t, struct existw *x, const char *bname,
                                  const cJSON *cfg, struct err *e)
{
    struct arena *a = arena_new();
    struct store_cursor *c = NULL;
    struct slice k, v, p, *keys = NULL;
    cJSON **recs = NULL;
    int n = 0, cap = 0;
    size_t bl = strlen(bname);
    enum err_code rc = ERR_OK;
    char *pp;

    pp = arena_alloc(a, bl + 2);
    pp[0] = 'O';
    memcpy(pp + 1, bname, bl + 1);
    p = slice_of(pp, bl + 2);
    rc = store_cursor_open(t, STORE_DB_S3, &c, e);
    for (rc = rc ? rc : store_cursor_seek(c, p, &k, &v, e);
         rc == ERR_OK && k.len > p.len + 9 && memcmp(k.ptr, p.ptr, p.len) == 0;
         rc = store_cursor_next(c, &k, &v, e)) {
        cJSON *rec = cJSON_ParseWithLength(v.ptr, v.len);
        struct slice kk = slice_of(arena_memdup(a, k.ptr, k.len), k.len);
        const char *key;
        if (!rec)
            continue;
        key = s3_jstr(rec, "k") ? s3_jstr(rec, "k") : s3_key_name(a, kk, bl);
        cJSON_AddStringToObject(rec, "_key", key);
        if (n && (keys[n - 1].len != kk.len ||
                  memcmp(keys[n - 1].ptr, kk.ptr, kk.len - 8) != 0)) { /* the next key */
            struct slice k2, v2;
            rc = queue_versions(t, x, cfg, bname, keys, recs, n, e);
            for (int i = 0; i < n; i++)
                cJSON_Delete(recs[i]);
            n = 0;
            /* the writes moved the cursor's pages: stand on this entry again */
            if (rc == ERR_OK)
                rc = store_cursor_seek(c, kk, &k2, &v2, e);
            if (rc) {
                cJSON_Delete(rec);
                break;
            }
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            keys = xrealloc(keys, (size_t)cap * sizeof(*keys));
            recs = xrealloc(recs, (size_t)cap * sizeof(*recs));
        }
        keys[n] = kk;
        recs[n++] = rec;
    }
    if (rc == ERR_NOTFOUND || rc == ERR_OK)
        rc = n ? queue_versions(t, x, cfg, bname, keys, recs, n, e) : ERR_OK;
    for (int i = 0; i < n; i++)
        cJSON_Delete(recs[i]);
    store_cursor_close(c);
    free(keys);
    free(recs);
    arena_free(a);
    return rc;
}

static enum err_code exist_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct existw *x = arg;
    struct s3_req *q = s3_req_of(x->w.r);
    cJSON *b = s3_bucket_get(t, x->w.r->arena, q->bucket), *cfg;
    enum err_code rc;

    x->queued = 0;
    if (!b || !(cfg = cJSON_GetObjectItem(b, "repl"))) {
        x->w.fail = b ? S3E_NO_REPLICATION : S3E_NO_SUCH_BUCKET;
        cJSON_Delete(b);
        return ERR_CONFLICT;
    }
    rc = queue_bucket(t, x, q->bucket, cfg, e);
    cJSON_Delete(b);
    return rc;
}

/* existing_objects - ExistingObjectReplication Enabled: the rules that say so
 * queue, with the configuration, what the bucket held before them */
static enum err_code existing_objects(struct store_txn *t, const char *bname, const cJSON *cfg,
                                      struct err *e)
{
    cJSON *only = cJSON_Duplicate(cfg, true), *rules = cJSON_GetObjectItem(only, "rules"), *r;
    struct existw x = {0};
    enum err_code rc = ERR_OK;

    for (r = rules ? rules->child : NULL; r;) {
        cJSON *next = r->next;
        if (!cJSON_IsTrue(cJSON_GetObjectItem(r, "eo")))
            cJSON_Delete(cJSON_DetachItemViaPointer(rules, r));
        r = next;
    }
    if (cJSON_GetArraySize(rules) > 0)
        rc = queue_bucket(t, &x, bname, only, e);
    cJSON_Delete(only);
    return rc;
}

static void exist_ok(struct s3_w *w)
{
    struct existw *x = (struct existw *)w;
    struct buf b;

    s3_xml_start(&b, "ReplicateExistingResult");
    buf_printf(&b, "<Queued>%d</Queued></ReplicateExistingResult>", x->queued);
    s3_ok(w->r, 200, &b);
}

void s3_repl_existing(struct http_req *r)
{
    struct s3_req *q = s3_req_of(r);
    struct existw *x = arena_calloc(r->arena, sizeof(*x));
    const char *mode = s3_query(r, "x-tandem-replicate");

    if (!s3_allow(r, "s3:InitiateReplication", q->bucket, NULL))
        return;
    if (!mode || (strcmp(mode, "existing") != 0 && strcmp(mode, "failed") != 0)) {
        s3_error(r, S3E_INVALID_ARGUMENT, "x-tandem-replicate must be 'existing' or 'failed'");
        return;
    }
    x->failed_only = strcmp(mode, "failed") == 0;
    x->w.r = r;
    x->w.apply = exist_apply;
    x->w.ok = exist_ok;
    s3_submit(&x->w);
}

/* ---- the worker ---- */

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
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop, kicked, started;
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
    w->kicked = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

void s3_repl_kick(struct s3 *s)
{
    struct s3_replw *w = s ? s->replw : NULL;

    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->kicked = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
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
    const char *role = s3_jstr(q, "role"), *name;
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
    snprintf(res, sizeof(res), "arn:aws:s3:::%s/%s", s3_jstr(q, "b"), s3_jstr(q, "k"));
    az.resource = res;
    if (authz_check(s->authz, &az, &e) != ERR_OK) {
        snprintf(why, cap, "%s", e.msg);
        return false;
    }
    az.action = action;
    snprintf(res, sizeof(res), "arn:aws:s3:::%s/%s", s3_jstr(q, "d"), s3_jstr(q, "k"));
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
    struct dest *d = dest_of(w, s3_jstr(q, "d"));
    struct awsc_creds c = {.access_key = w->access_key, .secret = w->secret};
    struct awsc_header hs[4];
    struct awsc_resp resp;
    struct err e = {0};
    static const char *const keep[] = {"vid", "dm",  "etag", "lm",  "h",    "m",   "tags",
                                       "ckn", "ckv", "ckt",  "psz", "pnum", "pck", "acl",
                                       "wrl", "olm", "olr",  "olh", "parts"};
    enum copy_rc rc;
    void *map = MAP_FAILED;
    size_t size = 0;
    char *json, *b64, md5b64[32];
    int fd = -1, nh = 0;
    const char *op = s3_jstr(q, "op");
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
        cJSON *sb = s3_bucket_get(t, a, s3_jstr(q, "b"));
        rec = s3_find_version(t, a, s3_jstr(q, "b"), s3_jstr(q, "k"), s3_jstr(q, "v"), NULL);
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
        query = arena_sprintf(a, "tagging=&versionId=%s", url_encode(a, s3_jstr(rec, "vid"), true));
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
        query =
            arena_sprintf(a, "retention=&versionId=%s", url_encode(a, s3_jstr(rec, "vid"), true));
        hs[nh++] = (struct awsc_header){"x-tandem-replica", "lock"};
        if (s3_jstr(rec, "olm")) {
            char when[32];
            s3_time_iso((int64_t)s3_jnum(rec, "olr"), when);
            snprintf(when + 20, sizeof(when) - 20, "%03dZ",
                     (int)((int64_t)s3_jnum(rec, "olr") % 1000));
            hs[nh++] = (struct awsc_header){"x-amz-object-lock-mode", s3_jstr(rec, "olm")};
            hs[nh++] =
                (struct awsc_header){"x-amz-object-lock-retain-until-date", arena_strdup(a, when)};
        }
        if (s3_jstr(rec, "olh"))
            hs[nh++] = (struct awsc_header){"x-amz-object-lock-legal-hold", s3_jstr(rec, "olh")};
        goto send;
    }
    if (acl_only) {
        /* the canned ACL of the replica: PutObjectAcl (none stored: private) */
        const char *acl = s3_jstr(rec, "acl");
        query = arena_sprintf(a, "acl=&versionId=%s", url_encode(a, s3_jstr(rec, "vid"), true));
        hs[nh++] = (struct awsc_header){"x-tandem-replica", "acl"};
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
        const char *etag = s3_jstr(rec, "etag");
        fd = open(s3_abs_path(s, a, s3_jstr(rec, "file")), O_RDONLY | O_CLOEXEC);
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
                          .path = url_path(a, d->bucket, s3_jstr(q, "k")),
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
    cJSON *rec = s3_find_version(t, m->a, s3_jstr(q, "b"), s3_jstr(q, "k"), s3_jstr(q, "v"), &k);
    int n = (int)s3_jnum(q, "n") + (m->rc == COPY_REFUSED);
    enum err_code rc = ERR_OK;
    char *s;

    m->status = NULL;
    if (m->rc == COPY_DONE)
        m->status = "COMPLETED";
    else if (m->rc == COPY_REFUSED && n >= m->max_tries)
        m->status = "FAILED";
    if (rec && m->status && !s3_jstr(q, "op")) {
        cJSON *rd = cJSON_GetObjectItem(rec, "rd");
        if (cJSON_IsObject(rd)) {
            cJSON_DeleteItemFromObject(rd, s3_jstr(q, "d"));
            cJSON_AddStringToObject(rd, s3_jstr(q, "d"), m->status);
            set_rs(rec, overall(rd));
        } else {
            set_rs(rec, m->status);
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
static int64_t pass(struct s3_replw *w)
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
            if (!q || !s3_jstr(q, "b") || !s3_jstr(q, "k") || !s3_jstr(q, "v") ||
                !s3_jstr(q, "d")) {
                cJSON_Delete(q);
                continue;
            }
            /* a destination that waits (down, or its head entry not due) is
             * skipped here, so it holds up no other destination's entries */
            d = dest_of(w, s3_jstr(q, "d"));
            at = (int64_t)s3_jnum(q, "at");
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
        struct dest *d = dest_of(w, s3_jstr(q, "d"));
        struct mark m = {.q = q, .qkey = keys[i], .max_tries = w->max_tries, .a = a};
        struct err e = {0};
        char why[512] = "";

        pthread_mutex_lock(&w->mu);
        if (w->stop) {
            pthread_mutex_unlock(&w->mu);
            break;
        }
        pthread_mutex_unlock(&w->mu);
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
                     s3_jstr(q, "b"), strlen(s3_jstr(q, "k")), s3_jstr(q, "v"), s3_jstr(q, "d"),
                     m.status ? m.status : "PENDING", why);
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

static void *run(void *arg)
{
    struct s3_replw *w = arg;
    int64_t wait = 0;

    pthread_mutex_lock(&w->mu);
    while (!w->stop) {
        if (!w->kicked && wait != 0) {
            struct timespec until = clock_deadline_ms(wait < 0 || wait > 1000 ? 1000 : wait);

            pthread_cond_timedwait(&w->cv, &w->mu, &until);
        }
        if (w->stop)
            break;
        w->kicked = false;
        pthread_mutex_unlock(&w->mu);
        wait = pass(w);
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
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
    pthread_cond_init(&w->cv, NULL);
    s->replw = w;
    if (!w->access_key || !w->secret)
        return; /* no credentials to sign copies with (unit tests): no worker */
    w->started = pthread_create(&w->thread, NULL, run, w) == 0;
    if (!w->started)
        log_err("event=s3_repl_worker_not_started");
}

void s3_repl_stop(struct s3 *s)
{
    struct s3_replw *w = s->replw;

    if (!w)
        return;
    if (w->started) {
        pthread_mutex_lock(&w->mu);
        w->stop = true;
        pthread_cond_signal(&w->cv);
        pthread_mutex_unlock(&w->mu);
        pthread_join(w->thread, NULL);
    }
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
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
