/* s3.c - aws:s3:Bucket / BucketV2, BucketVersioningV2, BucketReplicationConfig.
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
#include "stack_provider.h"

#define XMLNS "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\""

static char *bucket_path(const char *bucket)
{
    char *enc = stack_prov_pct(bucket), *p = xmalloc(strlen(enc) + 2);
    sprintf(p, "/%s", enc);
    free(enc);
    return p;
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
    atomic_fetch_add(&stack_provider_writes, 1);
    rc = awsc_call(t->creds, &r, &resp, e);
    free(path);
    if (rc) {
        awsc_resp_free(&resp);
        return err_set(e, ERR_IO, "region %s unreachable at %s", t->region, t->endpoint);
    }
    if (resp.status < 200 || resp.status > 299) {
        char *code = stack_prov_xml_text(resp.body.ptr, "Code");
        char *msg = stack_prov_xml_text(resp.body.ptr, "Message");
        rc = err_set(e, resp.status == 404 ? ERR_NOTFOUND : ERR_INVALID, "%s: %s: %s", t->region,
                     code ? code : "error", msg ? msg : "");
        free(code);
        free(msg);
    }
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

static char *tagging_xml(const cJSON *tags)
{
    struct buf b;
    const cJSON *tg;
    buf_init(&b, 0);
    buf_printf(&b, "<Tagging " XMLNS "><TagSet>");
    cJSON_ArrayForEach(tg, tags)
    {
        char *k = stack_prov_xml_escape(tg->string);
        char *v = stack_prov_xml_escape(cJSON_IsString(tg) ? tg->valuestring : "");
        buf_printf(&b, "<Tag><Key>%s</Key><Value>%s</Value></Tag>", k, v);
        free(k);
        free(v);
    }
    buf_printf(&b, "</TagSet></Tagging>");
    return buf_detach(&b, NULL);
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
    xml = tagging_xml(tags);
    rc = put_xml(t, bucket, "tagging=", xml, e);
    free(xml);
    return rc;
}

static cJSON *bucket_outputs(const struct stack_target *t, const char *bucket)
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
    *out = bucket_outputs(t, bucket);
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
    *out = bucket_outputs(t, id);
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
            if (vid && strcmp(vid, "null") != 0)
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
    if (!*gone)
        *out = bucket_outputs(t, id);
    return ERR_OK;
}

static const char *const bucket_replace[] = {"bucket", "bucketPrefix", NULL};
static const char *const bucket_outs[] = {
    "id", "arn", "bucketDomainName", "bucketRegionalDomainName", "region", NULL};

static cJSON *bucket_predict(const struct stack_target *t, const cJSON *in)
{
    return bucket_outputs(t, stack_prov_str(in, "bucket", ""));
}

const struct stack_provider stack_provider_s3_bucket = {
    .type = "aws:s3:Bucket",
    .name_prop = "bucket",
    .name_max = 63,
    .replace_props = bucket_replace,
    .outputs = bucket_outs,
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
        if (!st || strcmp(st, "Enabled") != 0)
            *gone = true; /* versioning is no longer what the stack set */
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
    .replace_props = ver_replace,
    .outputs = id_only,
    .create = ver_create,
    .update = ver_update,
    .del = ver_delete,
    .read = ver_read,
    .predict = bucket_id_predict,
};

/* ---- BucketReplicationConfig ---- */

static void xml_elem(struct buf *b, const char *tag, const char *text)
{
    char *esc;
    if (!text)
        return;
    esc = stack_prov_xml_escape(text);
    buf_printf(b, "<%s>%s</%s>", tag, esc, tag);
    free(esc);
}

static void status_elem(struct buf *b, const char *tag, const cJSON *o)
{
    if (!cJSON_IsObject(o))
        return;
    buf_printf(b, "<%s>", tag);
    xml_elem(b, "Status", stack_prov_str(o, "status", "Disabled"));
    buf_printf(b, "</%s>", tag);
}

static char *replication_xml(const cJSON *in)
{
    struct buf b;
    const cJSON *rule;
    buf_init(&b, 0);
    buf_printf(&b, "<ReplicationConfiguration " XMLNS ">");
    xml_elem(&b, "Role", stack_prov_str(in, "role", ""));
    cJSON_ArrayForEach(rule, cJSON_GetObjectItem(in, "rules"))
    {
        const cJSON *f = cJSON_GetObjectItem(rule, "filter");
        const cJSON *d = cJSON_GetObjectItem(rule, "destination");
        const cJSON *pr = cJSON_GetObjectItem(rule, "priority");
        buf_printf(&b, "<Rule>");
        /* element order as the S3 schema (botocore's ReplicationRule) has it */
        xml_elem(&b, "ID", stack_prov_str(rule, "id", NULL));
        if (cJSON_IsNumber(pr))
            buf_printf(&b, "<Priority>%d</Priority>", pr->valueint);
        if (cJSON_IsObject(f)) {
            buf_printf(&b, "<Filter>");
            xml_elem(&b, "Prefix", stack_prov_str(f, "prefix", NULL));
            buf_printf(&b, "</Filter>");
        } else if (stack_prov_str(rule, "prefix", NULL)) {
            xml_elem(&b, "Prefix", stack_prov_str(rule, "prefix", NULL));
        }
        xml_elem(&b, "Status", stack_prov_str(rule, "status", "Enabled"));
        status_elem(&b, "ExistingObjectReplication",
                    cJSON_GetObjectItem(rule, "existingObjectReplication"));
        buf_printf(&b, "<Destination>");
        xml_elem(&b, "Bucket", stack_prov_str(d, "bucket", ""));
        xml_elem(&b, "Account", stack_prov_str(d, "account", NULL));
        xml_elem(&b, "StorageClass", stack_prov_str(d, "storageClass", NULL));
        buf_printf(&b, "</Destination>");
        status_elem(&b, "DeleteMarkerReplication",
                    cJSON_GetObjectItem(rule, "deleteMarkerReplication"));
        buf_printf(&b, "</Rule>");
    }
    buf_printf(&b, "</ReplicationConfiguration>");
    return buf_detach(&b, NULL);
}

static enum err_code repl_create(const struct stack_target *t, const cJSON *in, bool adopt,
                                 char **id, cJSON **out, struct err *e)
{
    const char *bucket = stack_prov_str(in, "bucket", NULL);
    char *xml;
    enum err_code rc;
    (void)adopt;
    *id = NULL;
    *out = NULL;
    if (!bucket || !stack_prov_str(in, "role", NULL))
        return err_set(e, ERR_INVALID, "aws:s3:BucketReplicationConfig needs bucket and role");
    xml = replication_xml(in);
    rc = put_xml(t, bucket, "replication=", xml, e);
    free(xml);
    if (rc)
        return rc;
    *id = xstrdup(bucket);
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "id", bucket);
    return ERR_OK;
}

static enum err_code repl_update(const struct stack_target *t, const char *id, const cJSON *old_in,
                                 const cJSON *new_in, const cJSON *old_out, cJSON **out,
                                 struct err *e)
{
    char *nid = NULL;
    enum err_code rc;
    (void)id;
    (void)old_in;
    (void)old_out;
    rc = repl_create(t, new_in, true, &nid, out, e);
    free(nid);
    return rc;
}

static enum err_code repl_delete(const struct stack_target *t, const char *id, const cJSON *in,
                                 const cJSON *out, struct err *e)
{
    enum err_code rc = call(t, "DELETE", id, "replication=", NULL, NULL, NULL, 0, e);
    (void)in;
    (void)out;
    return rc == ERR_NOTFOUND ? ERR_OK : rc;
}

static enum err_code repl_read(const struct stack_target *t, const char *id, const cJSON *in,
                               cJSON **out, bool *gone, struct err *e)
{
    char *xml = NULL;
    enum err_code rc = call(t, "GET", id, "replication=", NULL, &xml, NULL, 0, e);
    (void)in;
    free(xml);
    *out = NULL;
    *gone = rc == ERR_NOTFOUND;
    if (rc && !*gone)
        return rc;
    if (!*gone) {
        *out = cJSON_CreateObject();
        cJSON_AddStringToObject(*out, "id", id);
    }
    return ERR_OK;
}

static const char *const repl_replace[] = {"bucket", NULL};

const struct stack_provider stack_provider_s3_replication = {
    .type = "aws:s3:BucketReplicationConfig",
    .replace_props = repl_replace,
    .outputs = id_only,
    .create = repl_create,
    .update = repl_update,
    .del = repl_delete,
    .read = repl_read,
    .predict = bucket_id_predict,
};
