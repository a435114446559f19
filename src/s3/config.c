/* config.c - bucket configurations stored and returned as S3 does (website,
 * logging, lifecycle, ownership controls, public access block, policy, CORS,
 * default encryption), and the canned ACL checks shared with acl.c (ACLs
 * disabled by BucketOwnerEnforced, the default for new buckets since April
 * 2023).
 *
 * A configuration is validated, kept as the XML the client sent, and returned
 * as it was stored. Lifecycle rules are carried out by lifecycle.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3_int.h"
#include "s3_repl.h"
#include "s3_xml.h"

static const char default_ownership[] =
    "<OwnershipControls xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Rule><ObjectOwnership>"
    "BucketOwnerEnforced</ObjectOwnership></Rule></OwnershipControls>";
static const char default_pab[] =
    "<PublicAccessBlockConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
    "<BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>true</IgnorePublicAcls>"
    "<BlockPublicPolicy>true</BlockPublicPolicy><RestrictPublicBuckets>true</RestrictPublicBuckets>"
    "</PublicAccessBlockConfiguration>";

/* since January 2023 every bucket encrypts new objects with SSE-S3 by default */
static const char default_encryption[] =
    "<ServerSideEncryptionConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Rule>"
    "<ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm>"
    "</ApplyServerSideEncryptionByDefault><BucketKeyEnabled>false</BucketKeyEnabled></Rule>"
    "</ServerSideEncryptionConfiguration>";

struct cfg {
    const char *query; /* subresource */
    const char *root;  /* root element of the XML */
    enum s3_code missing;
    bool no_delete;     /* logging has no Delete operation */
    const char *action; /* IAM action suffix: s3:Put<action>, s3:Get<action> */
    bool json;          /* the bucket policy: a JSON document, not XML */
};

static const struct cfg cfgs[] = {
    {"website", "WebsiteConfiguration", S3E_NO_SUCH_WEBSITE, false, "BucketWebsite", false},
    {"logging", "BucketLoggingStatus", S3E_INTERNAL, true, "BucketLogging", false},
    {"lifecycle", "LifecycleConfiguration", S3E_NO_SUCH_LIFECYCLE, false, "LifecycleConfiguration",
     false},
    {"ownershipControls", "OwnershipControls", S3E_NO_OWNERSHIP, false, "BucketOwnershipControls",
     false},
    {"publicAccessBlock", "PublicAccessBlockConfiguration", S3E_NO_PAB, false,
     "BucketPublicAccessBlock", false},
    {"policy", NULL, S3E_NO_SUCH_POLICY, false, "BucketPolicy", true},
    {"cors", "CORSConfiguration", S3E_NO_CORS, false, "BucketCORS", false},
    {"encryption", "ServerSideEncryptionConfiguration", S3E_NO_ENCRYPTION, false,
     "EncryptionConfiguration", false},
};

/* whether @body is a JSON object */
static bool policy_object(const char *body, size_t len)
{
    cJSON *p = cJSON_ParseWithLength(body, len);
    bool ok = cJSON_IsObject(p);
    cJSON_Delete(p);
    return ok;
}

/* a bucket policy: a JSON object with a Statement */
static bool valid_policy(const char *body, size_t len)
{
    cJSON *p = cJSON_ParseWithLength(body, len);
    bool ok = cJSON_IsObject(p) && cJSON_GetObjectItem(p, "Statement") != NULL;
    cJSON_Delete(p);
    return ok;
}

const char *s3_cfg_stored(const cJSON *bucket, const char *name)
{
    const cJSON *c = cJSON_GetObjectItem(cJSON_GetObjectItem(bucket, "cfg"), name);

    if (cJSON_IsString(c))
        return c->valuestring;
    if (strcmp(name, "encryption") == 0) /* deleted: the default again */
        return default_encryption;
    if (cJSON_IsNull(c))
        return NULL; /* deleted */
    if (strcmp(name, "ownershipControls") == 0)
        return default_ownership;
    if (strcmp(name, "publicAccessBlock") == 0)
        return default_pab;
    return NULL;
}

bool s3_acl_canned(const char *acl)
{
    static const char *const canned[] = {
        "private",       "public-read",       "public-read-write",         "authenticated-read",
        "aws-exec-read", "bucket-owner-read", "bucket-owner-full-control", "log-delivery-write"};

    for (size_t i = 0; i < sizeof(canned) / sizeof(canned[0]); i++)
        if (strcmp(acl, canned[i]) == 0)
            return true;
    return false;
}

bool s3_acl_grants(const char *acl)
{
    return acl && strcmp(acl, "private") != 0 && strcmp(acl, "bucket-owner-full-control") != 0;
}

bool s3_acl_refused(struct http_req *r, const cJSON *bucket)
{
    const char *own;

    if (!s3_acl_grants(http_req_header(r, "x-amz-acl")) && !s3_acl_has_grant_headers(r))
        return false;
    own = s3_cfg_stored(bucket, "ownershipControls");
    return own && strstr(own, "BucketOwnerEnforced") != NULL;
}

static bool valid(struct http_req *r, const struct cfg *c, struct s3_xml *x)
{
    struct s3_xml *n;

    if (strcmp(x->name, c->root) != 0)
        return false;
    if (strcmp(c->query, "ownershipControls") == 0) {
        const char *o = s3_xml_text(s3_xml_child(x, "Rule"), "ObjectOwnership");
        int rules = 0;
        for (n = x->child; n; n = n->next)
            rules += strcmp(n->name, "Rule") == 0;
        if (rules != 1) /* S3 takes exactly one */
            return false;
        return o && (strcmp(o, "BucketOwnerEnforced") == 0 ||
                     strcmp(o, "BucketOwnerPreferred") == 0 || strcmp(o, "ObjectWriter") == 0);
    }
    if (strcmp(c->query, "lifecycle") == 0) {
        int rules = 0;
        for (n = x->child; n; n = n->next) {
            const char *st = s3_xml_text(n, "Status");
            if (strcmp(n->name, "Rule") != 0)
                return false;
            if (!st || (strcmp(st, "Enabled") != 0 && strcmp(st, "Disabled") != 0))
                return false;
            rules++;
        }
        return rules > 0 && rules <= 1000;
    }
    if (strcmp(c->query, "encryption") == 0) {
        int rules = 0;
        for (n = x->child; n; n = n->next) {
            const struct s3_xml *d = s3_xml_child(n, "ApplyServerSideEncryptionByDefault");
            const char *alg = s3_xml_text(d, "SSEAlgorithm"),
                       *bk = s3_xml_text(n, "BucketKeyEnabled");
            if (strcmp(n->name, "Rule") != 0 || !alg || ++rules > 1)
                return false;
            if (strcmp(alg, "AES256") != 0 && strcmp(alg, "aws:kms") != 0 &&
                strcmp(alg, "aws:kms:dsse") != 0)
                return false;
            if (bk && strcmp(bk, "true") != 0 && strcmp(bk, "false") != 0)
                return false;
        }
        return rules == 1;
    }
    if (strcmp(c->query, "website") == 0)
        return s3_xml_child(x, "IndexDocument") || s3_xml_child(x, "RedirectAllRequestsTo");
    if (strcmp(c->query, "logging") == 0 && (n = s3_xml_child(x, "LoggingEnabled"))) {
        const char *src =
            s3_xml_text(s3_xml_child(s3_xml_child(n, "TargetObjectKeyFormat"), "PartitionedPrefix"),
                        "PartitionDateSource");
        return s3_xml_text(n, "TargetBucket") && s3_xml_text(n, "TargetPrefix") &&
               (!src || strcmp(src, "EventTime") == 0 || strcmp(src, "DeliveryTime") == 0);
    }
    (void)r;
    return true;
}

struct cfgw {
    struct s3_w w;
    const struct cfg *c;
    const char *xml; /* NULL: delete */
};

static enum err_code cfg_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct cfgw *cw = arg;
    struct s3_req *q = s3_req_of(cw->w.r);
    cJSON *b = s3_bucket_get(t, cw->w.r->arena, q->bucket), *cfg;
    enum err_code rc;
    char *s;

    if (!b) {
        cw->w.fail = S3E_NO_SUCH_BUCKET;
        return ERR_CONFLICT;
    }
    if (cw->c->json && cw->xml && s3_pab_on(cw->w.r, b, "BlockPublicPolicy") &&
        s3_policy_public(cw->xml)) {
        cw->w.fail = S3E_ACCESS_DENIED;
        snprintf(cw->w.msg, sizeof(cw->w.msg),
                 "User: %s is not authorized to perform: s3:PutBucketPolicy on resource: "
                 "\"arn:aws:s3:::%s\" because public policies are blocked by the "
                 "BlockPublicPolicy block public access setting.",
                 q->who.arn[0] ? q->who.arn : "root", q->bucket);
        cJSON_Delete(b);
        return ERR_CONFLICT;
    }
    if (strcmp(cw->c->query, "ownershipControls") == 0 && cw->xml &&
        strstr(cw->xml, "BucketOwnerEnforced") && s3_acl_beyond_owner(q->s3, b)) {
        /* ACLs go off only once the bucket's grants none but its owner */
        cw->w.fail = S3E_BUCKET_ACL_OWNERSHIP;
        cJSON_Delete(b);
        return ERR_CONFLICT;
    }
    if (strcmp(cw->c->query, "logging") == 0 && cw->xml) {
        /* logs go to a bucket of this region that exists */
        struct s3_xml *x;
        const char *target = NULL;
        cJSON *tb = NULL;
        if (s3_xml_parse(cw->w.r->arena, cw->xml, strlen(cw->xml), &x, NULL) == ERR_OK)
            target = s3_xml_text(s3_xml_child(x, "LoggingEnabled"), "TargetBucket");
        if (target && !(tb = s3_bucket_get(t, cw->w.r->arena, target))) {
            cw->w.fail = S3E_LOGGING_TARGET;
            cJSON_Delete(b);
            return ERR_CONFLICT;
        }
        cJSON_Delete(tb);
    }
    cfg = cJSON_GetObjectItem(b, "cfg");
    if (!cfg)
        cfg = cJSON_AddObjectToObject(b, "cfg");
    cJSON_DeleteItemFromObject(cfg, cw->c->query);
    if (cw->xml)
        cJSON_AddStringToObject(cfg, cw->c->query, cw->xml);
    else
        cJSON_AddNullToObject(cfg, cw->c->query);
    s = cJSON_PrintUnformatted(b);
    rc = store_put(t, STORE_DB_S3, s3_key_bucket(cw->w.r->arena, q->bucket), slice_str(s), e);
    free(s);
    cJSON_Delete(b);
    return rc;
}

static void cfg_ok(struct s3_w *w)
{
    struct cfgw *cw = (struct cfgw *)w;
    s3_ok(w->r, cw->xml ? 200 : 204, NULL);
}

/* ---- default encryption ---- */

static bool sse_known(const char *alg)
{
    return strcmp(alg, "AES256") == 0 || strcmp(alg, "aws:kms") == 0 ||
           strcmp(alg, "aws:kms:dsse") == 0;
}

bool s3_sse_valid(struct http_req *r)
{
    const char *alg = http_req_header(r, "x-amz-server-side-encryption");
    return !alg || sse_known(alg);
}

void s3_sse_from_request(struct http_req *r, cJSON *rec)
{
    const char *alg = http_req_header(r, "x-amz-server-side-encryption");
    const char *kms = http_req_header(r, "x-amz-server-side-encryption-aws-kms-key-id");

    if (!alg || !sse_known(alg))
        return;
    cJSON_AddStringToObject(rec, "sse", alg);
    if (kms && strcmp(alg, "AES256") != 0)
        cJSON_AddStringToObject(rec, "kms", kms);
}

void s3_sse_default(const cJSON *bucket, cJSON *rec)
{
    const char *doc = s3_cfg_stored(bucket, "encryption");
    struct arena *a;
    struct s3_xml *x, *d;
    const char *alg, *kms;

    if (cJSON_GetObjectItem(rec, "sse") || !strstr(doc, "aws:kms"))
        return; /* AES256, the default, is what an unset "sse" reports */
    a = arena_new();
    if (s3_xml_parse(a, doc, strlen(doc), &x, NULL) == ERR_OK) {
        d = s3_xml_child(s3_xml_child(x, "Rule"), "ApplyServerSideEncryptionByDefault");
        alg = s3_xml_text(d, "SSEAlgorithm");
        kms = s3_xml_text(d, "KMSMasterKeyID");
        if (alg)
            cJSON_AddStringToObject(rec, "sse", alg);
        if (alg && kms)
            cJSON_AddStringToObject(rec, "kms", kms);
    }
    arena_free(a);
}

void s3_sse_headers(struct http_req *r, const cJSON *rec)
{
    const char *alg = json_str_ci(rec, "sse"), *kms = json_str_ci(rec, "kms");

    http_resp_header(r, "x-amz-server-side-encryption", alg ? alg : "AES256");
    if (alg && kms)
        http_resp_header(r, "x-amz-server-side-encryption-aws-kms-key-id", kms);
}

/* GetBucketPolicyStatus: whether the bucket policy is public */
static void policy_status(struct http_req *r)
{
    struct s3_req *q = s3_req_of(r);
    const char *pol;
    struct buf b;
    cJSON *bk;

    if (strcmp(r->method, "GET") != 0) {
        s3_error(r, S3E_METHOD_NOT_ALLOWED, NULL);
        return;
    }
    if (!s3_allow(r, "s3:GetBucketPolicyStatus", q->bucket, NULL) || !(bk = s3_bucket_or_404(r)))
        return;
    if (!(pol = json_str_ci(cJSON_GetObjectItem(bk, "cfg"), "policy"))) {
        s3_error(r, S3E_NO_SUCH_POLICY, NULL);
        return;
    }
    s3_xml_start(&b, "PolicyStatus");
    buf_printf(&b, "<IsPublic>%s</IsPublic></PolicyStatus>",
               s3_policy_public(pol) ? "true" : "false");
    s3_ok(r, 200, &b);
}

bool s3_bucket_config(struct http_req *r)
{
    struct s3_req *q = s3_req_of(r);
    const struct cfg *c = NULL;
    char action[80];
    size_t i;

    if (s3_has_query(r, "acl")) {
        s3_acl(r, false);
        return true;
    }
    if (s3_has_query(r, "policyStatus")) {
        policy_status(r);
        return true;
    }
    for (i = 0; i < sizeof(cfgs) / sizeof(cfgs[0]); i++)
        if (s3_has_query(r, cfgs[i].query))
            c = &cfgs[i];
    if (!c)
        return false;
    if (strcmp(r->method, "GET") == 0) {
        cJSON *b;
        const char *x;
        struct buf out;
        snprintf(action, sizeof(action), "s3:Get%s", c->action);
        if (!s3_allow(r, action, q->bucket, NULL) || !(b = s3_bucket_or_404(r)))
            return true;
        x = s3_cfg_stored(b, c->query);
        if (!x && c->no_delete) {
            s3_xml_start(&out, c->root);
            buf_printf(&out, "</%s>", c->root);
            s3_ok(r, 200, &out);
            return true;
        }
        if (!x) {
            s3_error(r, c->missing, NULL);
            return true;
        }
        buf_init(&out, 0);
        if (!c->json)
            buf_puts(&out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        buf_puts(&out, x);
        s3_ok(r, 200, &out);
        return true;
    }
    if (strcmp(r->method, "PUT") == 0 || (strcmp(r->method, "DELETE") == 0 && !c->no_delete)) {
        struct cfgw *cw = arena_calloc(r->arena, sizeof(*cw));
        /* most Delete operations are authorized as the Put of the configuration
         * (the policy and website have their own Delete actions) */
        snprintf(action, sizeof(action), "s3:%s%s",
                 strcmp(r->method, "PUT") == 0 ||
                         (strcmp(c->query, "policy") != 0 && strcmp(c->query, "website") != 0)
                     ? "Put"
                     : "Delete",
                 c->action);
        if (!s3_allow(r, action, q->bucket, NULL))
            return true;
        if (!s3_bucket_or_404(r)) /* S3 names a missing bucket before a bad document */
            return true;
        if (strcmp(r->method, "PUT") == 0) {
            struct s3_xml *x;
            const char *body = r->body.ptr ? r->body.ptr : "";
            const char *start;
            enum s3_code code;
            char msg[300];
            if (c->json) {
                if (!valid_policy(body, r->body.len)) {
                    s3_error(r, S3E_MALFORMED_POLICY,
                             body[0] == '{' && policy_object(body, r->body.len)
                                 ? "Missing required field Statement"
                                 : NULL);
                    return true;
                }
                cw->xml = arena_strdup(r->arena, body);
            } else if (s3_xml_parse(r->arena, body, r->body.len, &x, NULL) != ERR_OK ||
                       !valid(r, c, x)) {
                s3_error(r, S3E_MALFORMED_XML, NULL);
                return true;
            } else if (strcmp(c->query, "encryption") == 0 &&
                       s3_xml_child(s3_xml_child(s3_xml_child(x, "Rule"),
                                                 "ApplyServerSideEncryptionByDefault"),
                                    "KMSMasterKeyID") &&
                       strcmp(s3_xml_text(s3_xml_child(s3_xml_child(x, "Rule"),
                                                       "ApplyServerSideEncryptionByDefault"),
                                          "SSEAlgorithm"),
                              "AES256") == 0) {
                s3_error_elem(r, S3E_INVALID_ARGUMENT,
                              "a KMSMasterKeyID is not applicable if the default sse algorithm "
                              "is not aws:kms or aws:kms:dsse",
                              "ArgumentName", "ApplyServerSideEncryptionByDefault");
                return true;
            } else if (strcmp(c->query, "cors") == 0 &&
                       !s3_cors_check(x, &code, msg, sizeof(msg))) {
                s3_error(r, code, msg[0] ? msg : NULL);
                return true;
            } else if (strcmp(c->query, "website") == 0 &&
                       !s3_website_check(x, &code, msg, sizeof(msg))) {
                s3_error(r, code, msg);
                return true;
            } else if (strcmp(c->query, "lifecycle") == 0) {
                char *doc;
                if (!s3_lc_check(r->arena, x, &code, msg, sizeof(msg), &doc)) {
                    s3_error(r, code, msg[0] ? msg : NULL);
                    return true;
                }
                cw->xml = doc;
            } else {
                /* keep the document without its XML declaration */
                start = strstr(body, "<?xml") == body ? strstr(body, "?>") + 2 : body;
                while (*start == '\n' || *start == '\r' || *start == ' ')
                    start++;
                cw->xml = arena_strdup(r->arena, start);
            }
        }
        cw->c = c;
        cw->w.r = r;
        cw->w.apply = cfg_apply;
        cw->w.ok = cfg_ok;
        s3_submit(&cw->w);
        return true;
    }
    s3_error(r, S3E_METHOD_NOT_ALLOWED, NULL);
    return true;
}
