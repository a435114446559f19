/* s3.c - aws:s3:Bucket / BucketV2 (with its inline website), BucketVersioningV2,
 * BucketReplicationConfig and the bucket configurations (BucketWebsiteConfigurationV2...).
 * The XML documents they send are built in s3_xml.c, objects are in s3_object.c and
 * reading configurations back is in s3_read.c.
 *
 * Path-style REST calls as the S3 API reference gives them: CreateBucket
 * (with a LocationConstraint outside us-east-1), PutBucketTagging,
 * PutBucketVersioning, PutBucketReplication (Content-MD5, as botocore's
 * httpChecksumRequired says), DeleteBucket; forceDestroy deletes every
 * object version and delete marker first. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "codec.h"
#include "mem.h"
#include "s3_int.h"
#include "stack_provider.h"

static char *bucket_path(const char *bucket)
{
    char *enc = stack_prov_pct(bucket), *p = xmalloc(strlen(enc) + 2);
    sprintf(p, "/%s", enc);
    free(enc);
    return p;
}

enum err_code s3prov_write(const struct stack_target *t, const struct awsc_req *r,
                           struct awsc_resp *resp, struct err *e)
{
    enum err_code rc;

    atomic_fetch_add(&stack_provider_writes, 1);
    if (awsc_call(t->creds, r, resp, e) != ERR_OK) {
        awsc_resp_free(resp);
        return err_set(e, ERR_IO, "region %s unreachable at %s", t->region, t->endpoint);
    }
    if (resp->status >= 200 && resp->status <= 299)
        return ERR_OK;
    char *code = stack_prov_xml_text(resp->body.ptr, "Code");
    char *msg = stack_prov_xml_text(resp->body.ptr, "Message");
    rc = err_set(e, resp->status == 404 ? ERR_NOTFOUND : ERR_INVALID, "%s: %s: %s", t->region,
                 code ? code : "error", msg ? msg : "");
    free(code);
    free(msg);
    awsc_resp_free(resp);
    return rc;
}

/* A call with an XML body and its Content-MD5. */
static enum err_code put_xml(const struct stack_target *t, const char *bucket, const char *query,
                             const char *xml, struct err *e)
{
    unsigned char md5[EVP_MAX_MD_SIZE];
    unsigned int mlen = 0;
    char b64[64];
    char *path = bucket_path(bucket);
    struct awsc_header h[2] = {{"content-type", "application/xml"}, {"content-md5", b64}};
    struct awsc_req r = {.method = "PUT",
                         .endpoint = t->endpoint,
                         .path = path,
                         .query = query,
                         .region = t->region,
                         .service = "s3",
                         .headers = h,
                         .nheaders = 2,
                         .body = xml,
                         .body_len = strlen(xml),
                         .timeout_ms = 60000};
    struct awsc_resp resp;
    enum err_code rc;

    EVP_Digest(xml, strlen(xml), md5, &mlen, EVP_md5(), NULL);
    base64_encode(md5, mlen, b64);
    rc = s3prov_write(t, &r, &resp, e);
    free(path);
    if (rc == ERR_OK)
        awsc_resp_free(&resp);
    return rc;
}

static enum err_code call(const struct stack_target *t, const char *method, const char *bucket,
                          const char *query, const char *body, char **resp, char *code,
                          size_t code_len, struct err *e)
{
    char *path = bucket_path(bucket);
    enum err_code rc =
        stack_prov_rest(t, "s3", method, path, query, body, body ? "application/xml" : NULL, NULL,
                        resp, code, code_len, e);
    free(path);
    return rc;
}

static enum err_code put_tags(const struct stack_target *t, const char *bucket, const cJSON *tags,
                              struct err *e)
{
    enum err_code rc;
    char *xml;
    if (cJSON_GetArraySize(tags) == 0) {
        rc = call(t, "DELETE", bucket, "tagging=", NULL, NULL, NULL, 0, e);
        return rc == ERR_NOTFOUND ? ERR_OK : rc;
    }
    xml = s3prov_tagging_xml(tags);
    rc = put_xml(t, bucket, "tagging=", xml, e);
    free(xml);
    return rc;
}

static enum err_code put_versioning(const struct stack_target *t, const char *bucket,
                                    const char *status, struct err *e);
static enum err_code apply_inline(const struct stack_target *t, const char *bucket,
                                  const cJSON *old_in, const cJSON *in, struct err *e);

/* ---- Bucket / BucketV2 ---- */

/* websiteEndpoint / websiteDomain of @bucket: the region's website endpoint
 * as a host this machine reaches without DNS set-up (BUCKET.s3-website.
 * REGION.localhost:PORT for a loopback region), else the path form
 * HOST:PORT/_website/BUCKET; "" for both when @website is false. */
static void website_outputs(const struct stack_target *t, const char *bucket, bool website,
                            cJSON *o)
{
    const char *hp = strstr(t->endpoint, "://"), *end, *colon;
    char host[256], port[16], ep[600], dom[400];

    hp = hp ? hp + 3 : t->endpoint;
    end = hp + strcspn(hp, "/");
    colon = *hp == '[' ? strstr(hp, "]:") : strchr(hp, ':');
    if (colon && colon < end && *hp == '[')
        colon++;
    if (!colon || colon >= end)
        colon = end;
    snprintf(host, sizeof(host), "%.*s", (int)(colon - hp), hp);
    snprintf(port, sizeof(port), "%.*s", (int)(end - colon), colon);
    if (!strcmp(host, "127.0.0.1") || !strcmp(host, "localhost") || !strcmp(host, "[::1]") ||
        !strcmp(host, "0.0.0.0")) {
        snprintf(ep, sizeof(ep), "%s.s3-website.%s.localhost%s", bucket, t->region, port);
        snprintf(dom, sizeof(dom), "s3-website.%s.localhost%s", t->region, port);
    } else {
        snprintf(ep, sizeof(ep), "%.*s/_website/%s", (int)(end - hp), hp, bucket);
        snprintf(dom, sizeof(dom), "%.*s", (int)(end - hp), hp);
    }
    cJSON_AddStringToObject(o, "websiteEndpoint", website ? ep : "");
    cJSON_AddStringToObject(o, "websiteDomain", website ? dom : "");
}

static cJSON *bucket_outputs(const struct stack_target *t, const char *bucket, const cJSON *in)
{
    cJSON *o = cJSON_CreateObject();
    char arn[400], dn[400], rdn[400];
    snprintf(arn, sizeof(arn), "arn:aws:s3:::%s", bucket);
    snprintf(dn, sizeof(dn), "%s.s3.amazonaws.com", bucket);
    snprintf(rdn, sizeof(rdn), "%s.s3.%s.amazonaws.com", bucket, t->region);
    cJSON_AddStringToObject(o, "id", bucket);
    cJSON_AddStringToObject(o, "bucket", bucket);
    cJSON_AddStringToObject(o, "arn", arn);
    cJSON_AddStringToObject(o, "bucketDomainName", dn);
    cJSON_AddStringToObject(o, "bucketRegionalDomainName", rdn);
    cJSON_AddStringToObject(o, "region", t->region);
    website_outputs(t, bucket, cJSON_GetObjectItem(in, "website") != NULL, o);
    return o;
}

static enum err_code bucket_create(const struct stack_target *t, const cJSON *in, bool adopt,
                                   char **id, cJSON **out, struct err *e)
{
    const char *bucket = stack_prov_str(in, "bucket", NULL);
    char code[96], body[400];
    enum err_code rc;

    *id = NULL;
    *out = NULL;
    if (!bucket)
        return err_set(e, ERR_INVALID, "aws:s3:Bucket needs bucket");
    body[0] = 0;
    if (strcmp(t->region, "us-east-1") != 0)
        snprintf(body, sizeof(body),
                 "<CreateBucketConfiguration " XMLNS "><LocationConstraint>%s</LocationConstraint>"
                 "</CreateBucketConfiguration>",
                 t->region);
    rc = call(t, "PUT", bucket, NULL, *body ? body : NULL, NULL, code, sizeof(code), e);
    if (rc && !(adopt && !strcmp(code, "BucketAlreadyOwnedByYou")))
        return rc;
    *id = xstrdup(bucket);
    if (cJSON_GetArraySize(cJSON_GetObjectItem(in, "tags")) > 0 &&
        (rc = put_tags(t, bucket, cJSON_GetObjectItem(in, "tags"), e)))
        return rc;
    if ((rc = apply_inline(t, bucket, NULL, in, e)))
        return rc;
    *out = bucket_outputs(t, bucket, in);
    return ERR_OK;
}

static enum err_code bucket_update(const struct stack_target *t, const char *id,
                                   const cJSON *old_in, const cJSON *new_in, const cJSON *old_out,
                                   cJSON **out, struct err *e)
{
    enum err_code rc;
    const cJSON *ot = cJSON_GetObjectItem(old_in, "tags"),
                *nt = cJSON_GetObjectItem(new_in, "tags");
    (void)old_out;
    *out = NULL;
    if (!(ot == nt || (ot && nt && cJSON_Compare(ot, nt, 1))) && (rc = put_tags(t, id, nt, e)))
        return rc;
    if ((rc = apply_inline(t, id, old_in, new_in, e)))
        return rc;
    *out = bucket_outputs(t, id, new_in);
    return ERR_OK;
}

/* Delete every version and delete marker (forceDestroy). */
static enum err_code empty_bucket(const struct stack_target *t, const char *bucket, struct err *e)
{
    for (int round = 0; round < 1000; round++) {
        char *xml = NULL;
        const char *p;
        int deleted = 0;
        enum err_code rc = call(t, "GET", bucket, "versions=", NULL, &xml, NULL, 0, e);
        if (rc)
            return rc;
        p = xml;
        while (p && (p = strstr(p, "<Key>"))) {
            const char *end = strstr(p, "</Key>");
            const char *vs = strstr(p, "<VersionId>");
            char *key = stack_prov_xml_text(p, "Key");
            char *vid = vs ? stack_prov_xml_text(vs, "VersionId") : NULL;
            char *path, *ekey, query[300];
            if (!end || !key) {
                free(key);
                free(vid);
                break;
            }
            ekey = stack_prov_pct(key);
            path = xmalloc(strlen(bucket) * 3 + strlen(ekey) + 4);
            {
                char *eb = stack_prov_pct(bucket);
                sprintf(path, "/%s/%s", eb, ekey);
                free(eb);
            }
            /* keys keep their slashes in the path */
            for (char *s = strstr(path, "%2F"); s; s = strstr(s, "%2F")) {
                *s = '/';
                memmove(s + 1, s + 3, strlen(s + 3) + 1);
            }
            if (vid) /* "null" too: the null version itself, not a new delete marker */
                snprintf(query, sizeof(query), "versionId=%s", vid);
            else
                query[0] = 0;
            rc = stack_prov_rest(t, "s3", "DELETE", path, *query ? query : NULL, NULL, NULL, NULL,
                                 NULL, NULL, 0, e);
            free(path);
            free(ekey);
            free(key);
            free(vid);
            if (rc && rc != ERR_NOTFOUND) {
                free(xml);
                return rc;
            }
            deleted++;
            p = end;
        }
        free(xml);
        if (!deleted)
            return ERR_OK;
    }
    return err_set(e, ERR_IO, "%s: bucket %s would not empty", t->region, bucket);
}

static enum err_code bucket_delete(const struct stack_target *t, const char *id, const cJSON *in,
                                   const cJSON *out, struct err *e)
{
    char code[96];
    enum err_code rc;
    (void)out;
    if (cJSON_IsTrue(cJSON_GetObjectItem(in, "forceDestroy"))) {
        rc = empty_bucket(t, id, e);
        if (rc == ERR_NOTFOUND)
            return ERR_OK;
        if (rc)
            return rc;
    }
    rc = call(t, "DELETE", id, NULL, NULL, NULL, code, sizeof(code), e);
    return rc == ERR_NOTFOUND ? ERR_OK : rc;
}

static enum err_code bucket_read(const struct stack_target *t, const char *id, const cJSON *in,
                                 cJSON **out, bool *gone, struct err *e)
{
    enum err_code rc = call(t, "HEAD", id, NULL, NULL, NULL, NULL, 0, e);
    (void)in;
    *out = NULL;
    *gone = rc == ERR_NOTFOUND;
    if (rc && !*gone)
        return rc;
    if (!*gone) {
        *out = bucket_outputs(t, id, in);
        cJSON_AddStringToObject(*out, "bucket", id);
        rc = stack_prov_s3_bucket_props(t, id, *out, e);
        if (rc) {
            cJSON_Delete(*out);
            *out = NULL;
            *gone = rc == ERR_NOTFOUND;
        }
    }
    return *gone ? ERR_OK : rc;
}

static const char *const bucket_replace[] = {"bucket", "bucketPrefix", NULL};
static const char *const bucket_inputs[] = {"bucket",
                                            "bucketPrefix",
                                            "forceDestroy",
                                            "tags",
                                            "versioning",
                                            "lifecycleRules",
                                            "acl",
                                            "objectLockEnabled",
                                            "accelerationStatus",
                                            "corsRules",
                                            "grants",
                                            "loggings",
                                            "policy",
                                            "replicationConfiguration",
                                            "requestPayer",
                                            "serverSideEncryptionConfiguration",
                                            "website",
                                            "objectLockConfiguration",
                                            NULL};
static const char *const bucket_outs[] = {"id",
                                          "arn",
                                          "bucketDomainName",
                                          "bucketRegionalDomainName",
                                          "region",
                                          "websiteEndpoint",
                                          "websiteDomain",
                                          NULL};

static cJSON *bucket_predict(const struct stack_target *t, const cJSON *in)
{
    return bucket_outputs(t, stack_prov_str(in, "bucket", ""), in);
}

const struct stack_provider stack_provider_s3_bucket = {
    .strings = (const char *const[]){"bucket", NULL},
    .type = "aws:s3:Bucket",
    .name_prop = "bucket",
    .name_max = 63,
    .replace_props = bucket_replace,
    .outputs = bucket_outs,
    .inputs = bucket_inputs,
    .create = bucket_create,
    .update = bucket_update,
    .del = bucket_delete,
    .read = bucket_read,
    .predict = bucket_predict,
};

/* ---- BucketVersioningV2 ---- */

static enum err_code put_versioning(const struct stack_target *t, const char *bucket,
                                    const char *status, struct err *e)
{
    char xml[300];
    snprintf(xml, sizeof(xml),
             "<VersioningConfiguration " XMLNS "><Status>%s</Status></VersioningConfiguration>",
             status);
    return put_xml(t, bucket, "versioning=", xml, e);
}

static enum err_code ver_create(const struct stack_target *t, const cJSON *in, bool adopt,
                                char **id, cJSON **out, struct err *e)
{
    const char *bucket = stack_prov_str(in, "bucket", NULL);
    const char *status =
        stack_prov_str(cJSON_GetObjectItem(in, "versioningConfiguration"), "status", "Enabled");
    enum err_code rc;
    (void)adopt;
    *id = NULL;
    *out = NULL;
    if (!bucket)
        return err_set(e, ERR_INVALID, "aws:s3:BucketVersioningV2 needs bucket");
    if ((rc = put_versioning(t, bucket, status, e)))
        return rc;
    *id = xstrdup(bucket);
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "id", bucket);
    return ERR_OK;
}

static enum err_code ver_update(const struct stack_target *t, const char *id, const cJSON *old_in,
                                const cJSON *new_in, const cJSON *old_out, cJSON **out,
                                struct err *e)
{
    char *nid = NULL;
    enum err_code rc;
    (void)id;
    (void)old_in;
    (void)old_out;
    rc = ver_create(t, new_in, true, &nid, out, e);
    free(nid);
    return rc;
}

/* As Pulumi does: deleting the resource suspends versioning (it cannot be turned off). */
static enum err_code ver_delete(const struct stack_target *t, const char *id, const cJSON *in,
                                const cJSON *out, struct err *e)
{
    enum err_code rc;
    (void)in;
    (void)out;
    rc = put_versioning(t, id, "Suspended", e);
    return rc == ERR_NOTFOUND ? ERR_OK : rc;
}

static enum err_code ver_read(const struct stack_target *t, const char *id, const cJSON *in,
                              cJSON **out, bool *gone, struct err *e)
{
    char *xml = NULL;
    enum err_code rc = call(t, "GET", id, "versioning=", NULL, &xml, NULL, 0, e);
    (void)in;
    *out = NULL;
    *gone = rc == ERR_NOTFOUND;
    if (rc && !*gone)
        return rc;
    if (!*gone) {
        char *st = stack_prov_xml_text(xml, "Status");
        *out = cJSON_CreateObject();
        cJSON_AddStringToObject(*out, "id", id);
        cJSON_AddStringToObject(*out, "bucket", id);
        stack_prov_s3_props("versioning=", xml, *out);
        /* versioning no longer what the stack set (refresh): as gone, so the next up
         * sets it again; an import compares the status instead */
        if (!st || (!t->importing && strcmp(st, "Enabled") != 0))
            *gone = true;
        free(st);
    }
    free(xml);
    return ERR_OK;
}

static const char *const ver_replace[] = {"bucket", "expectedBucketOwner", NULL};
static const char *const id_only[] = {"id", NULL};

static cJSON *bucket_id_predict(const struct stack_target *t, const cJSON *in)
{
    cJSON *o = cJSON_CreateObject();
    (void)t;
    cJSON_AddStringToObject(o, "id", stack_prov_str(in, "bucket", ""));
    return o;
}

const struct stack_provider stack_provider_s3_versioning = {
    .type = "aws:s3:BucketVersioningV2",
    .inputs = (const char *const[]){"bucket", "expectedBucketOwner", "mfa",
                                    "versioningConfiguration", NULL},
    .replace_props = ver_replace,
    .outputs = id_only,
    .create = ver_create,
    .update = ver_update,
    .del = ver_delete,
    .read = ver_read,
    .predict = bucket_id_predict,
};

/* ---- what the provider folds into aws:s3:Bucket: versioning, lifecycleRules, acl ---- */

static enum err_code apply_inline(const struct stack_target *t, const char *bucket,
                                  const cJSON *old_in, const cJSON *in, struct err *e)
{
    static const char *const unsupported[] = {"accelerationStatus",
                                              "corsRules",
                                              "grants",
                                              "loggings",
                                              "policy",
                                              "replicationConfiguration",
                                              "requestPayer",
                                              "serverSideEncryptionConfiguration",
                                              "objectLockConfiguration",
                                              NULL};
    const cJSON *acl = cJSON_GetObjectItem(in, "acl");
    const cJSON *ov = cJSON_GetObjectItem(old_in, "versioning"),
                *nv = cJSON_GetObjectItem(in, "versioning");
    const cJSON *ol = cJSON_GetObjectItem(old_in, "lifecycleRules"),
                *nl = cJSON_GetObjectItem(in, "lifecycleRules");
    const cJSON *ow = cJSON_GetObjectItem(old_in, "website"),
                *nw = cJSON_GetObjectItem(in, "website");
    enum err_code rc;

    for (size_t i = 0; unsupported[i]; i++)
        if (cJSON_GetObjectItem(in, unsupported[i]))
            return err_set(e, ERR_INVALID,
                           "aws:s3:Bucket: inline %s is not supported by Tandem yet; use the "
                           "separate resource (e.g. aws:s3:BucketPolicy)",
                           unsupported[i]);
    if (acl && !(cJSON_IsString(acl) && (!strcmp(acl->valuestring, "private") ||
                                         !strcmp(acl->valuestring, "bucket-owner-full-control"))))
        return err_set(e, ERR_INVALID,
                       "aws:s3:Bucket: acl %s is not supported (Tandem buckets are owner-enforced: "
                       "use acl: private, or a bucket policy)",
                       cJSON_IsString(acl) ? acl->valuestring : "?");
    if (!stack_prov_same(ov, nv) && (nv || ov)) {
        const cJSON *en = cJSON_GetObjectItem(nv, "enabled");
        bool on = cJSON_IsTrue(en), was = cJSON_IsTrue(cJSON_GetObjectItem(ov, "enabled"));
        if (cJSON_GetObjectItem(nv, "mfaDelete") &&
            cJSON_IsTrue(cJSON_GetObjectItem(nv, "mfaDelete")))
            return err_set(e, ERR_INVALID, "aws:s3:Bucket: versioning.mfaDelete is not supported");
        if ((on || was) && (rc = put_versioning(t, bucket, on ? "Enabled" : "Suspended", e)))
            return rc;
    }
    if (!stack_prov_same(ow, nw)) {
        if (nw) {
            char *xml = s3prov_inline_website_xml(nw, e);
            if (!xml)
                return ERR_INVALID;
            rc = put_xml(t, bucket, "website=", xml, e);
            free(xml);
            if (rc)
                return rc;
        } else {
            rc = call(t, "DELETE", bucket, "website=", NULL, NULL, NULL, 0, e);
            if (rc && rc != ERR_NOTFOUND)
                return rc;
        }
    }
    if (!stack_prov_same(ol, nl)) {
        if (cJSON_GetArraySize(nl) > 0) {
            char *xml = s3prov_lifecycle_xml(nl, false, e);
            if (!xml)
                return ERR_INVALID;
            rc = put_xml(t, bucket, "lifecycle=", xml, e);
            free(xml);
            if (rc)
                return rc;
        } else {
            rc = call(t, "DELETE", bucket, "lifecycle=", NULL, NULL, NULL, 0, e);
            if (rc && rc != ERR_NOTFOUND)
                return rc;
        }
    }
    return ERR_OK;
}

/* ---- bucket sub-configurations: one PUT/GET/DELETE ?sub per resource, id = bucket ---- */

struct subcfg {
    const char *type, *query;
    char *(*body)(const cJSON *in, struct err *e); /* NULL with @e set on bad input */
    bool json;                                     /* policy: a JSON body */
};

static char *pab_body(const cJSON *in, struct err *e)
{
    static const struct {
        const char *in, *xml;
    } f[] = {{"blockPublicAcls", "BlockPublicAcls"},
             {"ignorePublicAcls", "IgnorePublicAcls"},
             {"blockPublicPolicy", "BlockPublicPolicy"},
             {"restrictPublicBuckets", "RestrictPublicBuckets"}};
    struct buf b;
    (void)e;
    buf_init(&b, 0);
    buf_printf(&b, "<PublicAccessBlockConfiguration " XMLNS ">");
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
        buf_printf(&b, "<%s>%s</%s>", f[i].xml,
                   cJSON_IsTrue(cJSON_GetObjectItem(in, f[i].in)) ? "true" : "false", f[i].xml);
    buf_printf(&b, "</PublicAccessBlockConfiguration>");
    return buf_detach(&b, NULL);
}

static char *own_body(const cJSON *in, struct err *e)
{
    const char *o = stack_prov_str(cJSON_GetObjectItem(in, "rule"), "objectOwnership", NULL);
    struct buf b;
    if (!o) {
        err_set(e, ERR_INVALID, "aws:s3:BucketOwnershipControls needs rule.objectOwnership");
        return NULL;
    }
    buf_init(&b, 0);
    buf_printf(&b, "<OwnershipControls " XMLNS "><Rule>");
    s3prov_xml_elem(&b, "ObjectOwnership", o);
    buf_printf(&b, "</Rule></OwnershipControls>");
    return buf_detach(&b, NULL);
}

static char *lc_body(const cJSON *in, struct err *e)
{
    if (cJSON_GetArraySize(cJSON_GetObjectItem(in, "rules")) == 0) {
        err_set(e, ERR_INVALID, "aws:s3:BucketLifecycleConfigurationV2 needs rules");
        return NULL;
    }
    return s3prov_lifecycle_xml(cJSON_GetObjectItem(in, "rules"), true, e);
}

static char *policy_body(const cJSON *in, struct err *e)
{
    const cJSON *p = cJSON_GetObjectItem(in, "policy");
    if (cJSON_IsString(p))
        return xstrdup(p->valuestring);
    if (cJSON_IsObject(p))
        return cJSON_PrintUnformatted(p);
    err_set(e, ERR_INVALID, "aws:s3:BucketPolicy needs policy");
    return NULL;
}

static char *repl_body(const cJSON *in, struct err *e)
{
    if (!stack_prov_str(in, "role", NULL)) {
        err_set(e, ERR_INVALID, "aws:s3:BucketReplicationConfig needs bucket and role");
        return NULL;
    }
    return s3prov_replication_xml(in);
}

static void str_elems(struct buf *b, const char *tag, const cJSON *list)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, list)
    {
        if (cJSON_IsString(v))
            s3prov_xml_elem(b, tag, v->valuestring);
    }
}

static char *cors_body(const cJSON *in, struct err *e)
{
    const cJSON *rule;
    struct buf b;
    if (cJSON_GetArraySize(cJSON_GetObjectItem(in, "corsRules")) == 0) {
        err_set(e, ERR_INVALID, "aws:s3:BucketCorsConfigurationV2 needs corsRules");
        return NULL;
    }
    buf_init(&b, 0);
    buf_printf(&b, "<CORSConfiguration " XMLNS ">");
    cJSON_ArrayForEach(rule, cJSON_GetObjectItem(in, "corsRules"))
    {
        const cJSON *age = cJSON_GetObjectItem(rule, "maxAgeSeconds");
        buf_printf(&b, "<CORSRule>");
        s3prov_xml_elem(&b, "ID", stack_prov_str(rule, "id", NULL));
        str_elems(&b, "AllowedHeader", cJSON_GetObjectItem(rule, "allowedHeaders"));
        str_elems(&b, "AllowedMethod", cJSON_GetObjectItem(rule, "allowedMethods"));
        str_elems(&b, "AllowedOrigin", cJSON_GetObjectItem(rule, "allowedOrigins"));
        str_elems(&b, "ExposeHeader", cJSON_GetObjectItem(rule, "exposeHeaders"));
        if (cJSON_IsNumber(age))
            buf_printf(&b, "<MaxAgeSeconds>%d</MaxAgeSeconds>", age->valueint);
        buf_printf(&b, "</CORSRule>");
    }
    buf_printf(&b, "</CORSConfiguration>");
    return buf_detach(&b, NULL);
}

static char *web_body(const cJSON *in, struct err *e)
{
    const cJSON *rr = cJSON_GetObjectItem(in, "routingRules");
    const cJSON *det = cJSON_GetObjectItem(in, "routingRuleDetails");
    cJSON *parsed = NULL;
    char *x;

    if (cJSON_IsString(det) && cJSON_GetArraySize(rr) == 0 &&
        !(rr = parsed = cJSON_Parse(det->valuestring))) {
        err_set(e, ERR_INVALID,
                "aws:s3:BucketWebsiteConfigurationV2: routingRuleDetails is not a JSON array");
        return NULL;
    }
    x = s3prov_website_xml("aws:s3:BucketWebsiteConfigurationV2",
                           stack_prov_str(cJSON_GetObjectItem(in, "indexDocument"), "suffix", NULL),
                           stack_prov_str(cJSON_GetObjectItem(in, "errorDocument"), "key", NULL),
                           cJSON_GetObjectItem(in, "redirectAllRequestsTo"), rr, e);
    cJSON_Delete(parsed);
    return x;
}

/* notify_body - a NotificationConfiguration of the program's lambdaFunctions (the
 * region has no SNS, SQS or EventBridge: queues, topics and eventbridge are refused
 * at plan time); none at all is the empty configuration, which removes them. */
static char *notify_body(const cJSON *in, struct err *e)
{
    const cJSON *fn;
    struct buf b;

    (void)e;
    buf_init(&b, 0);
    buf_printf(&b, "<NotificationConfiguration " XMLNS ">");
    cJSON_ArrayForEach(fn, cJSON_GetObjectItem(in, "lambdaFunctions"))
    {
        const char *pre = stack_prov_str(fn, "filterPrefix", NULL);
        const char *suf = stack_prov_str(fn, "filterSuffix", NULL);

        buf_printf(&b, "<CloudFunctionConfiguration>");
        s3prov_xml_elem(&b, "Id", stack_prov_str(fn, "id", NULL));
        s3prov_xml_elem(&b, "CloudFunction", stack_prov_str(fn, "lambdaFunctionArn", ""));
        str_elems(&b, "Event", cJSON_GetObjectItem(fn, "events"));
        if ((pre && *pre) || (suf && *suf)) {
            buf_printf(&b, "<Filter><S3Key>");
            if (pre && *pre) {
                buf_printf(&b, "<FilterRule><Name>prefix</Name>");
                s3prov_xml_elem(&b, "Value", pre);
                buf_printf(&b, "</FilterRule>");
            }
            if (suf && *suf) {
                buf_printf(&b, "<FilterRule><Name>suffix</Name>");
                s3prov_xml_elem(&b, "Value", suf);
                buf_printf(&b, "</FilterRule>");
            }
            buf_printf(&b, "</S3Key></Filter>");
        }
        buf_printf(&b, "</CloudFunctionConfiguration>");
    }
    buf_printf(&b, "</NotificationConfiguration>");
    return buf_detach(&b, NULL);
}

/* rules: [{applyServerSideEncryptionByDefault: {sseAlgorithm, kmsMasterKeyId},
 * bucketKeyEnabled}] */
static char *sse_body(const cJSON *in, struct err *e)
{
    const cJSON *rules = cJSON_GetObjectItem(in, "rules"), *r;
    struct buf b;

    if (cJSON_GetArraySize(rules) == 0) {
        err_set(e, ERR_INVALID, "aws:s3:BucketServerSideEncryptionConfigurationV2 needs rules");
        return NULL;
    }
    buf_init(&b, 0);
    buf_printf(&b, "<ServerSideEncryptionConfiguration " XMLNS ">");
    cJSON_ArrayForEach(r, rules)
    {
        const cJSON *d = cJSON_GetObjectItem(r, "applyServerSideEncryptionByDefault");
        const cJSON *bk = cJSON_GetObjectItem(r, "bucketKeyEnabled");
        buf_printf(&b, "<Rule>");
        if (d) {
            const char *kms = stack_prov_str(d, "kmsMasterKeyId", NULL);
            buf_printf(&b, "<ApplyServerSideEncryptionByDefault>");
            s3prov_xml_elem(&b, "SSEAlgorithm", stack_prov_str(d, "sseAlgorithm", ""));
            if (kms && *kms)
                s3prov_xml_elem(&b, "KMSMasterKeyID", kms);
            buf_printf(&b, "</ApplyServerSideEncryptionByDefault>");
        }
        if (cJSON_IsBool(bk))
            buf_printf(&b, "<BucketKeyEnabled>%s</BucketKeyEnabled>",
                       cJSON_IsTrue(bk) ? "true" : "false");
        buf_printf(&b, "</Rule>");
    }
    buf_printf(&b, "</ServerSideEncryptionConfiguration>");
    return buf_detach(&b, NULL);
}

static const struct subcfg subcfgs[] = {
    {"aws:s3:BucketPublicAccessBlock", "publicAccessBlock=", pab_body, false},
    {"aws:s3:BucketOwnershipControls", "ownershipControls=", own_body, false},
    {"aws:s3:BucketLifecycleConfigurationV2", "lifecycle=", lc_body, false},
    {"aws:s3:BucketPolicy", "policy=", policy_body, true},
    {"aws:s3:BucketReplicationConfig", "replication=", repl_body, false},
    {"aws:s3:BucketCorsConfigurationV2", "cors=", cors_body, false},
    {"aws:s3:BucketWebsiteConfigurationV2", "website=", web_body, false},
    {"aws:s3:BucketNotification", "notification=", notify_body, false},
    {"aws:s3:BucketServerSideEncryptionConfigurationV2", "encryption=", sse_body, false},
};

static enum err_code sub_put(const struct stack_target *t, const struct subcfg *c, const cJSON *in,
                             struct err *e)
{
    const char *bucket = stack_prov_str(in, "bucket", NULL);
    char *body;
    enum err_code rc;
    if (!bucket)
        return err_set(e, ERR_INVALID, "%s needs bucket", c->type);
    if (!(body = c->body(in, e)))
        return ERR_INVALID;
    if (c->json) {
        char *path = bucket_path(bucket);
        rc = stack_prov_rest(t, "s3", "PUT", path, c->query, body, "application/json", NULL, NULL,
                             NULL, 0, e);
        free(path);
    } else {
        rc = put_xml(t, bucket, c->query, body, e);
    }
    free(body);
    return rc;
}

#define SUB_CREATE(fn, idx)                                                                        \
    static enum err_code fn(const struct stack_target *t, const cJSON *in, bool adopt, char **id,  \
                            cJSON **out, struct err *e)                                            \
    {                                                                                              \
        enum err_code rc;                                                                          \
        (void)adopt;                                                                               \
        *id = NULL;                                                                                \
        *out = NULL;                                                                               \
        if ((rc = sub_put(t, &subcfgs[idx], in, e)))                                               \
            return rc;                                                                             \
        *id = xstrdup(stack_prov_str(in, "bucket", ""));                                           \
        *out = bucket_id_predict(t, in);                                                           \
        return ERR_OK;                                                                             \
    }
SUB_CREATE(pab_create, 0)
SUB_CREATE(own_create, 1)
SUB_CREATE(lc_create, 2)
SUB_CREATE(pol_create, 3)
SUB_CREATE(repl_create, 4)
SUB_CREATE(cors_create, 5)
SUB_CREATE(web_sub_create, 6)
SUB_CREATE(notify_create, 7)
SUB_CREATE(sse_create, 8)

static enum err_code sub_update(const struct stack_target *t, const char *id, const cJSON *old_in,
                                const cJSON *new_in, const cJSON *old_out, cJSON **out,
                                struct err *e, const struct subcfg *c)
{
    enum err_code rc;
    (void)id;
    (void)old_in;
    (void)old_out;
    *out = NULL;
    if ((rc = sub_put(t, c, new_in, e)))
        return rc;
    *out = bucket_id_predict(t, new_in);
    return ERR_OK;
}

#define SUB_OPS(pfx, idx)                                                                          \
    static enum err_code pfx##_update(const struct stack_target *t, const char *id,                \
                                      const cJSON *old_in, const cJSON *new_in,                    \
                                      const cJSON *old_out, cJSON **out, struct err *e)            \
    {                                                                                              \
        return sub_update(t, id, old_in, new_in, old_out, out, e, &subcfgs[idx]);                  \
    }                                                                                              \
    static enum err_code pfx##_delete(const struct stack_target *t, const char *id,                \
                                      const cJSON *in, const cJSON *out, struct err *e)            \
    {                                                                                              \
        enum err_code rc = call(t, "DELETE", id, subcfgs[idx].query, NULL, NULL, NULL, 0, e);      \
        (void)in;                                                                                  \
        (void)out;                                                                                 \
        return rc == ERR_NOTFOUND ? ERR_OK : rc;                                                   \
    }                                                                                              \
    static enum err_code pfx##_read(const struct stack_target *t, const char *id, const cJSON *in, \
                                    cJSON **out, bool *gone, struct err *e)                        \
    {                                                                                              \
        char *body = NULL;                                                                         \
        enum err_code rc = call(t, "GET", id, subcfgs[idx].query, NULL, &body, NULL, 0, e);        \
        (void)in;                                                                                  \
        *out = NULL;                                                                               \
        *gone = rc == ERR_NOTFOUND;                                                                \
        if (!rc) {                                                                                 \
            *out = cJSON_CreateObject();                                                           \
            cJSON_AddStringToObject(*out, "id", id);                                               \
            cJSON_AddStringToObject(*out, "bucket", id);                                           \
            stack_prov_s3_props(subcfgs[idx].query, body, *out);                                   \
        }                                                                                          \
        free(body);                                                                                \
        return *gone ? ERR_OK : rc;                                                                \
    }
SUB_OPS(pab, 0)
SUB_OPS(own, 1)
SUB_OPS(lc, 2)
SUB_OPS(pol, 3)
SUB_OPS(repl, 4)
SUB_OPS(cors, 5)
SUB_OPS(web_sub, 6)
SUB_OPS(sse, 8)

/* BucketNotification: updated by putting the whole configuration; deleted, as the
 * provider does, by putting an empty one (S3 has no DELETE ?notification) */
static enum err_code notify_update(const struct stack_target *t, const char *id,
                                   const cJSON *old_in, const cJSON *new_in, const cJSON *old_out,
                                   cJSON **out, struct err *e)
{
    return sub_update(t, id, old_in, new_in, old_out, out, e, &subcfgs[7]);
}

static enum err_code notify_delete(const struct stack_target *t, const char *id, const cJSON *in,
                                   const cJSON *out, struct err *e)
{
    enum err_code rc = put_xml(t, id, "notification=", "<NotificationConfiguration " XMLNS "/>", e);
    (void)in;
    (void)out;
    return rc == ERR_NOTFOUND ? ERR_OK : rc;
}

static enum err_code notify_read(const struct stack_target *t, const char *id, const cJSON *in,
                                 cJSON **out, bool *gone, struct err *e)
{
    char *body = NULL;
    enum err_code rc = call(t, "GET", id, "notification=", NULL, &body, NULL, 0, e);

    (void)in;
    *out = NULL;
    *gone = rc == ERR_NOTFOUND;
    if (!rc) {
        *out = cJSON_CreateObject();
        cJSON_AddStringToObject(*out, "id", id);
        cJSON_AddStringToObject(*out, "bucket", id);
        stack_prov_s3_props("notification=", body, *out);
    }
    free(body);
    return *gone ? ERR_OK : rc;
}

/* BucketWebsiteConfigurationV2's outputs: its id and the website endpoint */
static cJSON *web_predict(const struct stack_target *t, const cJSON *in)
{
    cJSON *o = bucket_id_predict(t, in);
    website_outputs(t, stack_prov_str(in, "bucket", ""), true, o);
    return o;
}

static enum err_code web_create(const struct stack_target *t, const cJSON *in, bool adopt,
                                char **id, cJSON **out, struct err *e)
{
    enum err_code rc = web_sub_create(t, in, adopt, id, out, e);
    if (!rc) {
        cJSON_Delete(*out);
        *out = web_predict(t, in);
    }
    return rc;
}

static enum err_code web_update(const struct stack_target *t, const char *id, const cJSON *old_in,
                                const cJSON *new_in, const cJSON *old_out, cJSON **out,
                                struct err *e)
{
    enum err_code rc = web_sub_update(t, id, old_in, new_in, old_out, out, e);
    if (!rc) {
        cJSON_Delete(*out);
        *out = web_predict(t, new_in);
    }
    return rc;
}

static enum err_code web_read(const struct stack_target *t, const char *id, const cJSON *in,
                              cJSON **out, bool *gone, struct err *e)
{
    enum err_code rc = web_sub_read(t, id, in, out, gone, e);
    if (!rc && *out) {
        cJSON *p = web_predict(t, in), *c;
        while ((c = cJSON_DetachItemViaPointer(p, p->child)) != NULL) {
            cJSON_DeleteItemFromObjectCaseSensitive(*out, c->string);
            cJSON_AddItemToObject(*out, c->string, c);
        }
        cJSON_Delete(p);
    }
    return rc;
}

static const char *const pab_inputs[] = {
    "bucket", "blockPublicAcls", "ignorePublicAcls", "blockPublicPolicy", "restrictPublicBuckets",
    NULL};
static const char *const own_inputs[] = {"bucket", "rule", NULL};
static const char *const lc_inputs[] = {"bucket", "rules", "expectedBucketOwner", NULL};
static const char *const pol_inputs[] = {"bucket", "policy", NULL};
static const char *const bucket_only[] = {"bucket", NULL};

const struct stack_provider stack_provider_s3_encryption = {
    .type = "aws:s3:BucketServerSideEncryptionConfigurationV2",
    .strings =
        (const char *const[]){"bucket", "rules[].applyServerSideEncryptionByDefault.sseAlgorithm",
                              "rules[].applyServerSideEncryptionByDefault.kmsMasterKeyId", NULL},
    .inputs = (const char *const[]){"bucket", "rules", "expectedBucketOwner", NULL},
    .replace_props = bucket_only,
    .outputs = id_only,
    .create = sse_create,
    .update = sse_update,
    .del = sse_delete,
    .read = sse_read,
    .predict = bucket_id_predict,
};
const struct stack_provider stack_provider_s3_public_access_block = {
    .type = "aws:s3:BucketPublicAccessBlock",
    .replace_props = bucket_only,
    .outputs = id_only,
    .inputs = pab_inputs,
    .create = pab_create,
    .update = pab_update,
    .del = pab_delete,
    .read = pab_read,
    .predict = bucket_id_predict,
};
const struct stack_provider stack_provider_s3_ownership_controls = {
    .type = "aws:s3:BucketOwnershipControls",
    .replace_props = bucket_only,
    .outputs = id_only,
    .inputs = own_inputs,
    .create = own_create,
    .update = own_update,
    .del = own_delete,
    .read = own_read,
    .predict = bucket_id_predict,
};
const struct stack_provider stack_provider_s3_lifecycle_v2 = {
    .type = "aws:s3:BucketLifecycleConfigurationV2",
    .replace_props = bucket_only,
    .outputs = id_only,
    .inputs = lc_inputs,
    .create = lc_create,
    .update = lc_update,
    .del = lc_delete,
    .read = lc_read,
    .predict = bucket_id_predict,
};
const struct stack_provider stack_provider_s3_replication = {
    .type = "aws:s3:BucketReplicationConfig",
    .inputs = (const char *const[]){"bucket", "role", "rules", "token", NULL},
    .replace_props = bucket_only,
    .outputs = id_only,
    .create = repl_create,
    .update = repl_update,
    .del = repl_delete,
    .read = repl_read,
    .predict = bucket_id_predict,
};
const struct stack_provider stack_provider_s3_cors = {
    .type = "aws:s3:BucketCorsConfigurationV2",
    .strings = (const char *const[]){"bucket", "corsRules[].id", "corsRules[].allowedHeaders[]",
                                     "corsRules[].allowedMethods[]", "corsRules[].allowedOrigins[]",
                                     "corsRules[].exposeHeaders[]", NULL},
    .inputs = (const char *const[]){"bucket", "corsRules", "expectedBucketOwner", NULL},
    .replace_props = bucket_only,
    .outputs = id_only,
    .create = cors_create,
    .update = cors_update,
    .del = cors_delete,
    .read = cors_read,
    .predict = bucket_id_predict,
};
const struct stack_provider stack_provider_s3_website = {
    .type = "aws:s3:BucketWebsiteConfigurationV2",
    .strings = (const char *const[]){"bucket", "indexDocument.suffix", "errorDocument.key",
                                     "routingRuleDetails", NULL},
    .inputs =
        (const char *const[]){"bucket", "indexDocument", "errorDocument", "redirectAllRequestsTo",
                              "routingRules", "routingRuleDetails", "expectedBucketOwner", NULL},
    .replace_props = bucket_only,
    .outputs = (const char *const[]){"id", "websiteEndpoint", "websiteDomain", NULL},
    .create = web_create,
    .update = web_update,
    .del = web_sub_delete,
    .read = web_read,
    .predict = web_predict,
};
const struct stack_provider stack_provider_s3_notification = {
    .type = "aws:s3:BucketNotification",
    .strings =
        (const char *const[]){"bucket", "lambdaFunctions[].id", "lambdaFunctions[].events[]", NULL},
    .inputs =
        (const char *const[]){"bucket", "eventbridge", "lambdaFunctions", "queues", "topics", NULL},
    .unsupported = (const char *const[]){"eventbridge", "queues", "topics", NULL},
    .replace_props = bucket_only,
    .outputs = id_only,
    .create = notify_create,
    .update = notify_update,
    .del = notify_delete,
    .read = notify_read,
    .predict = bucket_id_predict,
};
const struct stack_provider stack_provider_s3_bucket_policy = {
    .type = "aws:s3:BucketPolicy",
    .replace_props = bucket_only,
    .outputs = id_only,
    .inputs = pol_inputs,
    .create = pol_create,
    .update = pol_update,
    .del = pol_delete,
    .read = pol_read,
    .predict = bucket_id_predict,
};
