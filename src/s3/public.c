/* public.c - S3 Block Public Access as it applies to bucket policies and to
 * anonymous (unsigned) requests.
 *
 * A bucket policy is "public" when an Allow statement grants to a wildcard
 * principal (Principal "*", {"AWS": "*"} or NotPrincipal) without a condition
 * pinning one of the keys the S3 User Guide lists under "The meaning of
 * 'public'" (aws:SourceIp, aws:SourceArn, aws:SourceVpc, aws:SourceAccount,
 * aws:PrincipalOrgID, ...) to fixed values. BlockPublicPolicy refuses such a
 * PutBucketPolicy; RestrictPublicBuckets makes anonymous requests ignore such a
 * policy. BlockPublicAcls refuses requests carrying a public canned ACL or
 * grant (AccessDenied); what public ACL grants allow is acl.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "s3_int.h"
#include "s3_xml.h"
#include "url.h"

/* condition keys whose fixed values make a wildcard grant non-public */
static const char *const fixed_keys[] = {
    "aws:SourceIp",
    "aws:SourceArn",
    "aws:SourceVpc",
    "aws:SourceVpce",
    "aws:SourceOwner",
    "aws:SourceAccount",
    "aws:userid",
    "aws:PrincipalOrgID",
    "aws:PrincipalAccount",
    "aws:PrincipalArn",
    "s3:DataAccessPointArn",
    "s3:DataAccessPointAccount",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
};

static bool wildcard(const char *s)
{
    return strchr(s, '*') || strchr(s, '?');
}

/* a CIDR is fixed enough when it is no wider than /8 (IPv4) or /32 (IPv6) */
static bool narrow_cidr(const char *s)
{
    const char *slash = strchr(s, '/');
    long bits;

    if (!slash)
        return true;
    bits = strtol(slash + 1, NULL, 10);
    return strchr(s, ':') ? bits >= 32 : bits >= 8;
}

static bool fixed_values(const char *key, const cJSON *v)
{
    const cJSON *x;

    if (cJSON_IsString(v))
        return !wildcard(v->valuestring) &&
               (strcasecmp(key, "aws:SourceIp") != 0 || narrow_cidr(v->valuestring));
    if (!cJSON_IsArray(v) || !v->child)
        return false;
    cJSON_ArrayForEach(x, v) if (!fixed_values(key, x)) return false;
    return true;
}

/* whether @cond pins a fixed key to fixed values with a positive operator */
static bool pinned(const cJSON *cond)
{
    const cJSON *op, *k;

    cJSON_ArrayForEach(op, cond)
    {
        if (!op->string || strstr(op->string, "Not") || strstr(op->string, "IfExists") ||
            strstr(op->string, "Null") || strstr(op->string, "Like"))
            continue;
        cJSON_ArrayForEach(k, op)
        {
            for (size_t i = 0; i < sizeof(fixed_keys) / sizeof(fixed_keys[0]); i++)
                if (k->string && strcasecmp(k->string, fixed_keys[i]) == 0 &&
                    fixed_values(k->string, k))
                    return true;
        }
    }
    return false;
}

static bool wildcard_principal(const cJSON *s)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(s, "Principal"), *aws, *x;

    if (cJSON_GetObjectItemCaseSensitive(s, "NotPrincipal"))
        return true;
    if (cJSON_IsString(p))
        return wildcard(p->valuestring);
    aws = cJSON_GetObjectItemCaseSensitive(p, "AWS");
    if (cJSON_IsString(aws))
        return wildcard(aws->valuestring);
    cJSON_ArrayForEach(x, aws) if (cJSON_IsString(x) && wildcard(x->valuestring)) return true;
    return false;
}

bool s3_policy_public(const char *json)
{
    cJSON *p = json ? cJSON_Parse(json) : NULL;
    const cJSON *st, *s;
    bool pub = false;

    st = cJSON_GetObjectItemCaseSensitive(p, "Statement");
    for (s = cJSON_IsArray(st) ? st->child : st; s && !pub;
         s = cJSON_IsArray(st) ? s->next : NULL) {
        const cJSON *eff = cJSON_GetObjectItemCaseSensitive(s, "Effect");
        if (!cJSON_IsString(eff) || strcmp(eff->valuestring, "Allow") != 0)
            continue;
        pub = wildcard_principal(s) && !pinned(cJSON_GetObjectItemCaseSensitive(s, "Condition"));
    }
    cJSON_Delete(p);
    return pub;
}

bool s3_pab_on(struct http_req *r, const cJSON *bucket, const char *setting)
{
    const char *x = s3_cfg_stored(bucket, "publicAccessBlock");
    struct s3_xml *root;
    const char *v;

    if (!x || s3_xml_parse(r->arena, x, strlen(x), &root, NULL) != ERR_OK)
        return false;
    v = s3_xml_text(root, setting);
    return v && strcasecmp(v, "true") == 0;
}

const char *s3_bucket_policy_for(struct http_req *r, const char *bucket, bool anonymous)
{
    struct s3_req *q = s3_req_of(r);
    struct store_txn *t = NULL;
    const char *pol = NULL, *s;
    const cJSON *b;
    cJSON *own = NULL;

    if (q->bucket_known && strcmp(bucket, q->bucket) == 0) {
        b = q->bucket_rec;
    } else {
        if (store_read_begin(q->s3->store, &t, NULL) != ERR_OK)
            return NULL;
        b = own = s3_bucket_get(t, r->arena, bucket);
        store_txn_abort(t);
    }
    if (b && (s = json_str_ci(cJSON_GetObjectItem(b, "cfg"), "policy")))
        pol = arena_strdup(r->arena, s);
    /* RestrictPublicBuckets: a public policy grants nothing to the public */
    if (pol && anonymous && s3_pab_on(r, b, "RestrictPublicBuckets") && s3_policy_public(pol))
        pol = NULL;
    cJSON_Delete(own);
    return pol;
}

bool s3_public_acl_blocked(struct http_req *r, const cJSON *bucket)
{
    static const char *const grants[] = {"x-amz-grant-read", "x-amz-grant-write",
                                         "x-amz-grant-read-acp", "x-amz-grant-write-acp",
                                         "x-amz-grant-full-control"};
    const char *acl = http_req_header(r, "x-amz-acl");
    bool pub = acl && (strcmp(acl, "public-read") == 0 || strcmp(acl, "public-read-write") == 0 ||
                       strcmp(acl, "authenticated-read") == 0);

    for (size_t i = 0; !pub && i < sizeof(grants) / sizeof(grants[0]); i++) {
        const char *g = http_req_header(r, grants[i]);
        pub = g && (strstr(g, "/global/AllUsers") || strstr(g, "/global/AuthenticatedUsers"));
    }
    return pub && s3_pab_on(r, bucket, "BlockPublicAcls");
}

/* ---- the request's S3 condition keys ---- */

static void kv_add(struct authz_kv *kv, size_t *n, size_t cap, const char *k, const char *v)
{
    if (v && *n < cap)
        kv[(*n)++] = (struct authz_kv){k, v};
}

/* actions that act on an object that exists: they see its tags */
static bool on_existing_object(const char *action)
{
    static const char *const acts[] = {"s3:PutObjectTagging",
                                       "s3:PutObjectVersionTagging",
                                       "s3:DeleteObjectTagging",
                                       "s3:DeleteObjectVersionTagging",
                                       "s3:PutObjectAcl",
                                       "s3:PutObjectVersionAcl",
                                       NULL};
    if (strncmp(action, "s3:GetObject", 12) == 0)
        return true;
    for (int i = 0; acts[i]; i++)
        if (strcmp(action, acts[i]) == 0)
            return true;
    return false;
}

/* s3:ExistingObjectTag/KEY of the version the request names */
static void existing_tags(struct http_req *r, const char *bucket, const char *key,
                          struct authz_kv *kv, size_t *n, size_t cap)
{
    struct s3_req *q = s3_req_of(r);
    struct store_txn *t = NULL;
    cJSON *v, *tag;

    if (store_read_begin(q->s3->store, &t, NULL) != ERR_OK)
        return;
    v = s3_find_version(t, r->arena, bucket, key, s3_query(r, "versionId"), NULL);
    store_txn_abort(t);
    cJSON_ArrayForEach(tag, cJSON_GetObjectItem(v, "tags"))
    {
        const char *k = json_str_ci(tag, "k"), *val = json_str_ci(tag, "v");
        if (k && val)
            kv_add(kv, n, cap, arena_sprintf(r->arena, "s3:ExistingObjectTag/%s", k),
                   arena_strdup(r->arena, val));
    }
    cJSON_Delete(v);
}

/* s3:RequestObjectTag/KEY from x-amz-tagging (k=v&k2=v2) */
static void request_tags(struct http_req *r, struct authz_kv *kv, size_t *n, size_t cap)
{
    const char *h = http_req_header(r, "x-amz-tagging"), *p = h;

    while (p && *p) {
        const char *amp = strchr(p, '&'), *end = amp ? amp : p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(end - p));
        const char *k = url_decode(r->arena, p, (size_t)((eq ? eq : end) - p));
        const char *v = eq ? url_decode(r->arena, eq + 1, (size_t)(end - eq - 1)) : "";
        kv_add(kv, n, cap, arena_sprintf(r->arena, "s3:RequestObjectTag/%s", k), v);
        kv_add(kv, n, cap, "s3:RequestObjectTagKeys", k);
        p = amp ? amp + 1 : NULL;
    }
}

size_t s3_policy_context(struct http_req *r, const char *action, const char *bucket,
                         const char *key, bool object_tags, struct authz_kv *kv, size_t cap)
{
    static const char *const hdrs[] = {"x-amz-acl",
                                       "x-amz-metadata-directive",
                                       "x-amz-server-side-encryption",
                                       "x-amz-server-side-encryption-aws-kms-key-id",
                                       "x-amz-storage-class",
                                       "x-amz-grant-read",
                                       "x-amz-grant-write",
                                       "x-amz-grant-read-acp",
                                       "x-amz-grant-write-acp",
                                       "x-amz-grant-full-control",
                                       "x-amz-content-sha256",
                                       "x-amz-website-redirect-location",
                                       NULL};
    struct s3_req *q = s3_req_of(r);
    const char *cs = http_req_header(r, "x-amz-copy-source");
    size_t n = 0;

    kv_add(kv, &n, cap, "aws:Referer", http_req_header(r, "referer"));
    kv_add(kv, &n, cap, "aws:UserAgent", http_req_header(r, "user-agent"));
    for (int i = 0; hdrs[i]; i++)
        kv_add(kv, &n, cap, arena_sprintf(r->arena, "s3:%s", hdrs[i]), http_req_header(r, hdrs[i]));
    if (cs && key && strcmp(action, "s3:PutObject") == 0) {
        /* "bucket/key" as S3 compares it: decoded, no leading slash or versionId */
        const char *qm = strchr(cs, '?');
        char *v = url_decode(r->arena, cs, qm ? (size_t)(qm - cs) : strlen(cs));
        kv_add(kv, &n, cap, "s3:x-amz-copy-source", v + (*v == '/'));
    }
    if (!q->anonymous) {
        const char *auth = http_req_header(r, "authorization");
        bool v4 = q->post_status ? !q->post_v2
                  : auth         ? strncmp(auth, "AWS4-", 5) == 0
                                 : !strstr(r->query, "AWSAccessKeyId=");
        kv_add(kv, &n, cap, "s3:signatureversion", v4 ? "AWS4-HMAC-SHA256" : "AWS");
        kv_add(kv, &n, cap, "s3:authType",
               q->post_status ? "POST"
               : auth         ? "REST-HEADER"
                              : "REST-QUERY-STRING");
    }
    if (!key &&
        (strcmp(action, "s3:ListBucket") == 0 || strcmp(action, "s3:ListBucketVersions") == 0)) {
        kv_add(kv, &n, cap, "s3:prefix", s3_query(r, "prefix"));
        kv_add(kv, &n, cap, "s3:delimiter", s3_query(r, "delimiter"));
        kv_add(kv, &n, cap, "s3:max-keys", s3_query(r, "max-keys"));
    }
    if (key) {
        kv_add(kv, &n, cap, "s3:VersionId", s3_query(r, "versionId"));
        n += s3_lock_context(r, action, kv + n, cap - n);
        if (strcmp(action, "s3:PutObject") == 0)
            request_tags(r, kv, &n, cap);
        else if (object_tags && on_existing_object(action))
            existing_tags(r, bucket, key, kv, &n, cap);
    }
    return n;
}

const char *s3_root_deny_policy(struct http_req *r, const char *policy)
{
    cJSON *j, *sts, *s, *out, *arr;
    char *txt, *res;

    if (!policy || !strstr(policy, "Deny"))
        return NULL;
    j = cJSON_Parse(policy);
    sts = cJSON_GetObjectItem(j, "Statement");
    out = cJSON_CreateObject();
    arr = cJSON_AddArrayToObject(out, "Statement");
    cJSON_AddStringToObject(out, "Version", "2012-10-17");
    for (s = cJSON_IsArray(sts) ? sts->child : sts; s; s = cJSON_IsArray(sts) ? s->next : NULL) {
        const char *eff = json_str_ci(s, "Effect");
        if (eff && strcmp(eff, "Deny") == 0)
            cJSON_AddItemToArray(arr, cJSON_Duplicate(s, 1));
    }
    if (!arr->child) { /* nothing denies */
        cJSON_Delete(out);
        cJSON_Delete(j);
        return NULL;
    }
    /* what the Deny statements leave, the root user may do */
    s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "Effect", "Allow");
    cJSON_AddStringToObject(s, "Principal", "*");
    cJSON_AddStringToObject(s, "Action", "*");
    cJSON_AddStringToObject(s, "Resource", "*");
    cJSON_AddItemToArray(arr, s);
    txt = cJSON_PrintUnformatted(out);
    res = arena_strdup(r->arena, txt);
    free(txt);
    cJSON_Delete(out);
    cJSON_Delete(j);
    return res;
}
