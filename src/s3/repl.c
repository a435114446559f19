/* repl.c - cross-region replication of object versions: the configuration
 * API, the queue written with each version, replicating existing objects and
 * the replica write path (contract in s3_repl.h; the worker that copies is
 * repl_worker.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "mem.h"
#include "s3_repl.h"
#include "s3_xml.h"

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
        if (!*json_str_ci(ri, "id")) {
            char id[33];
            s3_new_id(id);
            cJSON_ReplaceItemInObject(ri, "id", cJSON_CreateString(id));
        }
        for (int j = 0; j < i; j++) {
            cJSON *rj = cJSON_GetArrayItem(rules, j);
            if (strcmp(json_str_ci(ri, "id"), json_str_ci(rj, "id")) == 0) {
                ok = fail(code, msg, cap, S3E_INVALID_ARGUMENT, "Rule Id must be unique.");
                break;
            }
            if (!v1 && json_num_ci(ri, "priority") == json_num_ci(rj, "priority")) {
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
        if (json_str_ci(t, "k") && strcmp(json_str_ci(t, "k"), k) == 0 && json_str_ci(t, "v") &&
            strcmp(json_str_ci(t, "v"), v) == 0)
            return true;
    }
    return false;
}

static bool rule_selects(const cJSON *r, const char *key, const cJSON *tags, bool dm)
{
    const char *p = json_str_ci(r, "prefix");
    const cJSON *t;

    if (!cJSON_IsTrue(cJSON_GetObjectItem(r, "enabled")))
        return false;
    if (dm && !cJSON_IsTrue(cJSON_GetObjectItem(r, "dm")))
        return false;
    if (p && strncmp(key, p, strlen(p)) != 0)
        return false;
    cJSON_ArrayForEach(t, cJSON_GetObjectItem(r, "tags"))
    {
        if (!has_tag(tags, json_str_ci(t, "k"), json_str_ci(t, "v")))
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
            (!best || json_num_ci(r, "priority") > json_num_ci(best, "priority")))
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
        for (i = 0; i < n && strcmp(json_str_ci(out[i], "dest"), json_str_ci(r, "dest")) != 0; i++)
            ;
        if (i < n) {
            if (json_num_ci(r, "priority") > json_num_ci(out[i], "priority"))
                out[i] = r;
        } else if (n < max) {
            out[n++] = r;
        }
    }
    return n;
}

/* ---- the queue ---- */

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
        rc = store_put(t, STORE_DB_S3, s3_key_seq(a, 'Q', seq), slice_str(s), e);
        free(s);
    }
    cJSON_Delete(q);
    arena_free(a);
    return rc;
}

void s3_repl_set_status(cJSON *rec, const char *status)
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
    s3_repl_set_status(rec, "PENDING");
    rd = cJSON_AddObjectToObject(rec, "rd");
    for (int i = 0; i < n; i++) {
        cJSON_AddStringToObject(rd, json_str_ci(rules[i], "dest"), "PENDING");
        rc = enqueue(t, bname, key, vid, json_str_ci(rules[i], "dest"), json_str_ci(cfg, "role"),
                     NULL, e);
        if (rc)
            return rc;
    }
    return ERR_OK;
}

const char *s3_repl_overall(const cJSON *rd)
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
    const char *vs = json_str_ci(bucket, "versioning"), *rs = json_str_ci(rec, "rs");

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
    const char *vs = json_str_ci(bucket, "versioning"), *rs = json_str_ci(rec, "rs");
    bool replica = rs && strcmp(rs, "REPLICA") == 0;

    if (!cfg || !rs || !vs || strcmp(vs, "Enabled") != 0)
        return ERR_OK; /* a version never replicated has no copy to update */
    if (!replica && cJSON_GetObjectItem(rec, "rd")) {
        /* the destinations the version went to, whatever its tags now select */
        const cJSON *d;
        cJSON_ArrayForEach(d, cJSON_GetObjectItem(rec, "rd"))
        {
            enum err_code rc = enqueue(t, bname, key, json_str_ci(rec, "vid"), d->string,
                                       json_str_ci(cfg, "role"), op, e);
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
    return enqueue(t, bname, key, json_str_ci(rec, "vid"), json_str_ci(rule, "dest"),
                   json_str_ci(cfg, "role"), op, e);
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
    static const char *const keep[] = {"etag",  "h",   "m",    "tags",   "ckn", "ckv", "ckt",
                                       "parts", "psz", "pnum", "pck",    "acl", "wrl", "olm",
                                       "olr",   "olh", "olb",  "grants", "own"};
    const char *v, *etag;

    if (s3_repl_claimed(r) < 0)
        return NULL;
    if (!base64_decode(h, n, raw, &outlen) ||
        !(src = cJSON_ParseWithLength((const char *)raw, outlen)) ||
        !(v = json_str_ci(src, "vid")) || !*v || strlen(v) > 32 ||
        !cJSON_IsNumber(cJSON_GetObjectItem(src, "lm"))) {
        cJSON_Delete(src);
        s3_error(r, S3E_INVALID_ARGUMENT, "x-tandem-replica is not a version record");
        return NULL;
    }
    arena_on_free(r->arena, s3_json_free, src);
    *vid = arena_strdup(r->arena, v);
    rec = cJSON_CreateObject();
    cJSON_AddNumberToObject(rec, "lm", json_num_ci(src, "lm"));
    cJSON_AddStringToObject(rec, "rs", "REPLICA");
    if (cJSON_IsTrue(cJSON_GetObjectItem(src, "dm"))) {
        cJSON_AddTrueToObject(rec, "dm");
        return rec;
    }
    if (cJSON_IsTrue(cJSON_GetObjectItem(src, "olb"))) /* from a bucket with Object Lock */
        cJSON_AddTrueToObject(rec, "olb");
    etag = json_str_ci(src, "etag");
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
    const char *vs = json_str_ci(b, "versioning");
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
            if (strcmp(json_str_ci(rule, "dest"), q->bucket) == 0) {
                cw->w.fail = S3E_INVALID_REQUEST;
                snprintf(cw->w.msg, sizeof(cw->w.msg),
                         "Destination bucket cannot be the same as the source bucket.");
                return ERR_CONFLICT;
            }
        }
        if (!role_exists(q->s3, t, json_str_ci(cw->cfg, "role"))) {
            cw->w.fail = S3E_INVALID_ARGUMENT;
            snprintf(cw->w.msg, sizeof(cw->w.msg), "Invalid Role: %s does not exist",
                     json_str_ci(cw->cfg, "role"));
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
        if (!(x = json_str_ci(b, "replx"))) {
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
        const char *rs = json_str_ci(rec, "rs"), *key = json_str_ci(rec, "_key");
        enum err_code rc;
        char *s;
        /* existing: never tried or FAILED; failed: FAILED only (PENDING is
         * queued already, COMPLETED done, REPLICA never replicated again) */
        if (rs ? strcmp(rs, "FAILED") != 0 : x->failed_only)
            continue;
        if (!s3_repl_match(cfg, key, cJSON_GetObjectItem(rec, "tags"),
                           cJSON_IsTrue(cJSON_GetObjectItem(rec, "dm"))))
            continue;
        rc = queue_all(t, cfg, bucket, key, json_str_ci(rec, "vid"), rec, e);
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
        key = json_str_ci(rec, "k") ? json_str_ci(rec, "k") : s3_key_name(a, kk, bl);
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
