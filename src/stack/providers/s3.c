/* s3.c - aws:s3:Bucket / BucketV2 (with its inline website), BucketVersioningV2,
 * BucketReplicationConfig, the bucket configurations (BucketWebsiteConfigurationV2...)
 * and objects.
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
#include <strings.h>

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

static enum err_code put_versioning(const struct stack_target *t, const char *bucket,
                                    const char *status, struct err *e);
static char *lifecycle_xml(const cJSON *rules, bool v2, struct err *e);
static enum err_code apply_inline(const struct stack_target *t, const char *bucket,
                                  const cJSON *old_in, const cJSON *in, struct err *e);

/* ---- website configuration (Bucket's inline website, BucketWebsiteConfigurationV2) ---- */

/* member @name of @o, also spelled with a capital first letter (the AWS
 * shape of routingRules JSON documents) */
static const cJSON *member(const cJSON *o, const char *name)
{
    char cap[64];
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (v || strlen(name) >= sizeof(cap))
        return v;
    snprintf(cap, sizeof(cap), "%s", name);
    cap[0] = (char)(cap[0] >= 'a' && cap[0] <= 'z' ? cap[0] - 32 : cap[0]);
    return cJSON_GetObjectItemCaseSensitive(o, cap);
}

/* <Tag>text</Tag> of string or number member @name of @o, when there */
static void web_elem(struct buf *b, const char *tag, const cJSON *o, const char *name)
{
    const cJSON *v = member(o, name);
    char num[32], *x;
    if (cJSON_IsNumber(v))
        snprintf(num, sizeof(num), "%d", v->valueint);
    else if (!cJSON_IsString(v))
        return;
    x = stack_prov_xml_escape(cJSON_IsNumber(v) ? num : v->valuestring);
    buf_printf(b, "<%s>%s</%s>", tag, x, tag);
    free(x);
}

/* The WebsiteConfiguration document; @rules (may be NULL) is an array of
 * {condition{keyPrefixEquals, httpErrorCodeReturnedEquals}, redirect{hostName,
 * protocol, httpRedirectCode, replaceKeyPrefixWith, replaceKeyWith}} in either
 * spelling. NULL with @e set when it has neither an index nor a redirect. */
static char *website_xml(const char *what, const char *suffix, const char *errkey, const cJSON *all,
                         const cJSON *rules, struct err *e)
{
    struct buf b;
    const cJSON *r;
    char *x;

    if (!suffix && !all) {
        err_set(e, ERR_INVALID, "%s needs indexDocument or redirectAllRequestsTo", what);
        return NULL;
    }
    buf_init(&b, 0);
    buf_printf(&b, "<WebsiteConfiguration " XMLNS ">");
    if (all) {
        buf_printf(&b, "<RedirectAllRequestsTo>");
        web_elem(&b, "HostName", all, "hostName");
        web_elem(&b, "Protocol", all, "protocol");
        buf_printf(&b, "</RedirectAllRequestsTo>");
    }
    if (suffix) {
        x = stack_prov_xml_escape(suffix);
        buf_printf(&b, "<IndexDocument><Suffix>%s</Suffix></IndexDocument>", x);
        free(x);
    }
    if (errkey) {
        x = stack_prov_xml_escape(errkey);
        buf_printf(&b, "<ErrorDocument><Key>%s</Key></ErrorDocument>", x);
        free(x);
    }
    if (cJSON_GetArraySize(rules) > 0) {
        buf_printf(&b, "<RoutingRules>");
        cJSON_ArrayForEach(r, rules)
        {
            const cJSON *c = member(r, "condition"), *rd = member(r, "redirect");
            buf_printf(&b, "<RoutingRule>");
            if (c) {
                buf_printf(&b, "<Condition>");
                web_elem(&b, "HttpErrorCodeReturnedEquals", c, "httpErrorCodeReturnedEquals");
                web_elem(&b, "KeyPrefixEquals", c, "keyPrefixEquals");
                buf_printf(&b, "</Condition>");
            }
            buf_printf(&b, "<Redirect>");
            web_elem(&b, "HostName", rd, "hostName");
            web_elem(&b, "HttpRedirectCode", rd, "httpRedirectCode");
            web_elem(&b, "Protocol", rd, "protocol");
            web_elem(&b, "ReplaceKeyPrefixWith", rd, "replaceKeyPrefixWith");
            web_elem(&b, "ReplaceKeyWith", rd, "replaceKeyWith");
            buf_printf(&b, "</Redirect></RoutingRule>");
        }
        buf_printf(&b, "</RoutingRules>");
    }
    buf_printf(&b, "</WebsiteConfiguration>");
    return buf_detach(&b, NULL);
}

/* The Bucket's inline website {indexDocument, errorDocument,
 * redirectAllRequestsTo ("host" or "scheme://host"), routingRules (a JSON
 * array text in the AWS shape, or the array itself)}. */
static char *inline_website_xml(const cJSON *w, struct err *e)
{
    const char *redir = stack_prov_str(w, "redirectAllRequestsTo", NULL), *sep;
    const cJSON *rr = cJSON_GetObjectItem(w, "routingRules");
    cJSON *all = NULL, *parsed = NULL;
    char *x;

    if (redir) {
        all = cJSON_CreateObject();
        if ((sep = strstr(redir, "://"))) {
            char proto[16];
            snprintf(proto, sizeof(proto), "%.*s", (int)(sep - redir), redir);
            cJSON_AddStringToObject(all, "protocol", proto);
            redir = sep + 3;
        }
        cJSON_AddStringToObject(all, "hostName", redir);
    }
    if (cJSON_IsString(rr) && !(rr = parsed = cJSON_Parse(rr->valuestring))) {
        cJSON_Delete(all);
        err_set(e, ERR_INVALID, "aws:s3:Bucket: website.routingRules is not a JSON array");
        return NULL;
    }
    x = website_xml("aws:s3:Bucket website", stack_prov_str(w, "indexDocument", NULL),
                    stack_prov_str(w, "errorDocument", NULL), all, rr, e);
    cJSON_Delete(all);
    cJSON_Delete(parsed);
    return x;
}

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
            char *xml = inline_website_xml(nw, e);
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
            char *xml = lifecycle_xml(nl, false, e);
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

/* Lifecycle rules: @v2 the aws:s3:BucketLifecycleConfigurationV2 shape (rules[{id, status,
 * filter{prefix, tag, objectSizeGreaterThan, objectSizeLessThan, and}, expiration{days, date,
 * expiredObjectDeleteMarker}, noncurrentVersionExpiration{noncurrentDays,
 * newerNoncurrentVersions}, abortIncompleteMultipartUpload{daysAfterInitiation}}]); otherwise
 * the Bucket's lifecycleRules[{id, enabled, prefix, tags, expiration{days, date,
 * expiredObjectDeleteMarker}, noncurrentVersionExpiration{days},
 * abortIncompleteMultipartUploadDays}]. NULL with @e set when a rule asks for what Tandem's S3
 * does not do (transitions). */
static void num_elem(struct buf *b, const char *tag, const cJSON *v)
{
    if (cJSON_IsNumber(v))
        buf_printf(b, "<%s>%lld</%s>", tag, (long long)v->valuedouble, tag);
    else if (cJSON_IsString(v) && *v->valuestring)
        xml_elem(b, tag, v->valuestring);
}

static void tag_elem(struct buf *b, const char *k, const char *v)
{
    buf_printf(b, "<Tag>");
    xml_elem(b, "Key", k);
    xml_elem(b, "Value", v);
    buf_printf(b, "</Tag>");
}

static char *lifecycle_xml(const cJSON *rules, bool v2, struct err *e)
{
    struct buf b;
    const cJSON *r;
    int n = 0;

    buf_init(&b, 0);
    buf_printf(&b, "<LifecycleConfiguration " XMLNS ">");
    cJSON_ArrayForEach(r, rules)
    {
        const cJSON *ex = cJSON_GetObjectItem(r, "expiration");
        const cJSON *nve = cJSON_GetObjectItem(r, "noncurrentVersionExpiration");
        char id[32];
        if (cJSON_GetObjectItem(r, "transitions") || cJSON_GetObjectItem(r, "transition") ||
            cJSON_GetObjectItem(r, "noncurrentVersionTransitions") ||
            cJSON_GetObjectItem(r, "noncurrentVersionTransition")) {
            buf_free(&b);
            err_set(e, ERR_INVALID,
                    "lifecycle transitions are not supported (Tandem has one storage class)");
            return NULL;
        }
        snprintf(id, sizeof(id), "tf-s3-lifecycle-%d", ++n);
        buf_printf(&b, "<Rule>");
        xml_elem(&b, "ID", stack_prov_str(r, "id", id));
        if (v2) {
            const cJSON *f = cJSON_GetObjectItem(r, "filter");
            const cJSON *and = cJSON_GetObjectItem(f, "and"), *tg = cJSON_GetObjectItem(f, "tag");
            buf_printf(&b, "<Filter>");
            if (and) {
                const cJSON *x;
                buf_printf(&b, "<And>");
                xml_elem(&b, "Prefix", stack_prov_str(and, "prefix", NULL));
                cJSON_ArrayForEach(x, cJSON_GetObjectItem(and, "tags"))
                    tag_elem(&b, x->string, cJSON_IsString(x) ? x->valuestring : "");
                num_elem(&b, "ObjectSizeGreaterThan",
                         cJSON_GetObjectItem(and, "objectSizeGreaterThan"));
                num_elem(&b, "ObjectSizeLessThan", cJSON_GetObjectItem(and, "objectSizeLessThan"));
                buf_printf(&b, "</And>");
            } else if (tg) {
                tag_elem(&b, stack_prov_str(tg, "key", ""), stack_prov_str(tg, "value", ""));
            } else if (cJSON_GetObjectItem(f, "objectSizeGreaterThan")) {
                num_elem(&b, "ObjectSizeGreaterThan",
                         cJSON_GetObjectItem(f, "objectSizeGreaterThan"));
            } else if (cJSON_GetObjectItem(f, "objectSizeLessThan")) {
                num_elem(&b, "ObjectSizeLessThan", cJSON_GetObjectItem(f, "objectSizeLessThan"));
            } else {
                xml_elem(&b, "Prefix", stack_prov_str(f, "prefix", ""));
            }
            buf_printf(&b, "</Filter>");
            xml_elem(&b, "Status", stack_prov_str(r, "status", "Enabled"));
        } else {
            const cJSON *tags = cJSON_GetObjectItem(r, "tags"), *x;
            buf_printf(&b, "<Filter>");
            if (cJSON_GetArraySize(tags) > 0) {
                buf_printf(&b, "<And>");
                xml_elem(&b, "Prefix", stack_prov_str(r, "prefix", NULL));
                cJSON_ArrayForEach(x, tags)
                    tag_elem(&b, x->string, cJSON_IsString(x) ? x->valuestring : "");
                buf_printf(&b, "</And>");
            } else {
                xml_elem(&b, "Prefix", stack_prov_str(r, "prefix", ""));
            }
            buf_printf(&b, "</Filter>");
            xml_elem(&b, "Status",
                     cJSON_IsFalse(cJSON_GetObjectItem(r, "enabled")) ? "Disabled" : "Enabled");
        }
        if (ex) {
            buf_printf(&b, "<Expiration>");
            num_elem(&b, "Date", cJSON_GetObjectItem(ex, "date"));
            num_elem(&b, "Days", cJSON_GetObjectItem(ex, "days"));
            if (cJSON_IsBool(cJSON_GetObjectItem(ex, "expiredObjectDeleteMarker")))
                xml_elem(&b, "ExpiredObjectDeleteMarker",
                         cJSON_IsTrue(cJSON_GetObjectItem(ex, "expiredObjectDeleteMarker"))
                             ? "true"
                             : "false");
            buf_printf(&b, "</Expiration>");
        }
        if (nve) {
            buf_printf(&b, "<NoncurrentVersionExpiration>");
            num_elem(&b, "NoncurrentDays",
                     cJSON_GetObjectItem(nve, v2 ? "noncurrentDays" : "days"));
            num_elem(&b, "NewerNoncurrentVersions",
                     cJSON_GetObjectItem(nve, "newerNoncurrentVersions"));
            buf_printf(&b, "</NoncurrentVersionExpiration>");
        }
        if (v2 && cJSON_GetObjectItem(r, "abortIncompleteMultipartUpload")) {
            buf_printf(&b, "<AbortIncompleteMultipartUpload>");
            num_elem(&b, "DaysAfterInitiation",
                     cJSON_GetObjectItem(cJSON_GetObjectItem(r, "abortIncompleteMultipartUpload"),
                                         "daysAfterInitiation"));
            buf_printf(&b, "</AbortIncompleteMultipartUpload>");
        } else if (!v2 && cJSON_GetObjectItem(r, "abortIncompleteMultipartUploadDays")) {
            buf_printf(&b, "<AbortIncompleteMultipartUpload>");
            num_elem(&b, "DaysAfterInitiation",
                     cJSON_GetObjectItem(r, "abortIncompleteMultipartUploadDays"));
            buf_printf(&b, "</AbortIncompleteMultipartUpload>");
        }
        buf_printf(&b, "</Rule>");
    }
    buf_printf(&b, "</LifecycleConfiguration>");
    return buf_detach(&b, NULL);
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
    xml_elem(&b, "ObjectOwnership", o);
    buf_printf(&b, "</Rule></OwnershipControls>");
    return buf_detach(&b, NULL);
}

static char *lc_body(const cJSON *in, struct err *e)
{
    if (cJSON_GetArraySize(cJSON_GetObjectItem(in, "rules")) == 0) {
        err_set(e, ERR_INVALID, "aws:s3:BucketLifecycleConfigurationV2 needs rules");
        return NULL;
    }
    return lifecycle_xml(cJSON_GetObjectItem(in, "rules"), true, e);
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
    return replication_xml(in);
}

static void str_elems(struct buf *b, const char *tag, const cJSON *list)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, list)
    {
        if (cJSON_IsString(v))
            xml_elem(b, tag, v->valuestring);
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
        xml_elem(&b, "ID", stack_prov_str(rule, "id", NULL));
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
    x = website_xml("aws:s3:BucketWebsiteConfigurationV2",
                    stack_prov_str(cJSON_GetObjectItem(in, "indexDocument"), "suffix", NULL),
                    stack_prov_str(cJSON_GetObjectItem(in, "errorDocument"), "key", NULL),
                    cJSON_GetObjectItem(in, "redirectAllRequestsTo"), rr, e);
    cJSON_Delete(parsed);
    return x;
}

static const struct subcfg subcfgs[] = {
    {"aws:s3:BucketPublicAccessBlock", "publicAccessBlock=", pab_body, false},
    {"aws:s3:BucketOwnershipControls", "ownershipControls=", own_body, false},
    {"aws:s3:BucketLifecycleConfigurationV2", "lifecycle=", lc_body, false},
    {"aws:s3:BucketPolicy", "policy=", policy_body, true},
    {"aws:s3:BucketReplicationConfig", "replication=", repl_body, false},
    {"aws:s3:BucketCorsConfigurationV2", "cors=", cors_body, false},
    {"aws:s3:BucketWebsiteConfigurationV2", "website=", web_body, false},
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

/* ---- BucketObject / BucketObjectv2 ---- */

/* The object's bytes: source (fn::stringAsset / fn::fileAsset), content, or contentBase64. */
static enum err_code object_body(const cJSON *in, struct buf *b, struct err *e)
{
    const cJSON *src = cJSON_GetObjectItem(in, "source");
    const cJSON *c = cJSON_GetObjectItem(in, "content");
    const cJSON *c64 = cJSON_GetObjectItem(in, "contentBase64");
    buf_init(b, 0);
    if (cJSON_IsString(cJSON_GetObjectItem(src, "__asset"))) {
        buf_puts(b, cJSON_GetObjectItem(src, "__asset")->valuestring);
    } else if (cJSON_IsString(cJSON_GetObjectItem(src, "__file"))) {
        FILE *f = fopen(cJSON_GetObjectItem(src, "__file")->valuestring, "rb");
        char chunk[8192];
        size_t got;
        if (!f)
            return err_set(e, ERR_INVALID, "source: cannot read %s",
                           cJSON_GetObjectItem(src, "__file")->valuestring);
        while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
            buf_append(b, chunk, got);
        fclose(f);
    } else if (src) {
        return err_set(e, ERR_INVALID,
                       "aws:s3:BucketObject: source must be fn::fileAsset or fn::stringAsset");
    } else if (cJSON_IsString(c)) {
        buf_puts(b, c->valuestring);
    } else if (cJSON_IsString(c64)) {
        unsigned char *dec = xmalloc(strlen(c64->valuestring) + 1);
        size_t n = 0;
        if (!base64_decode(c64->valuestring, strlen(c64->valuestring), dec, &n)) {
            free(dec);
            return err_set(e, ERR_INVALID, "contentBase64 is not base64");
        }
        buf_append(b, dec, n);
        free(dec);
    }
    return ERR_OK;
}

static char *object_path(const char *bucket, const char *key)
{
    char *eb = stack_prov_pct(bucket), *ek = stack_prov_pct(key);
    char *path = xmalloc(strlen(eb) + strlen(ek) + 3);
    sprintf(path, "/%s/%s", eb, ek);
    for (char *s = strstr(path, "%2F"); s; s = strstr(s, "%2F")) {
        *s = '/';
        memmove(s + 1, s + 3, strlen(s + 3) + 1);
    }
    free(eb);
    free(ek);
    return path;
}

static cJSON *object_outputs(const cJSON *in, const char *etag, const char *vid)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", stack_prov_str(in, "key", ""));
    cJSON_AddStringToObject(o, "key", stack_prov_str(in, "key", ""));
    cJSON_AddStringToObject(o, "bucket", stack_prov_str(in, "bucket", ""));
    cJSON_AddStringToObject(o, "etag", etag ? etag : "");
    cJSON_AddStringToObject(o, "versionId", vid ? vid : "");
    return o;
}

static enum err_code obj_put(const struct stack_target *t, const cJSON *in, cJSON **out,
                             struct err *e)
{
    const char *bucket = stack_prov_str(in, "bucket", NULL), *key = stack_prov_str(in, "key", NULL);
    struct awsc_header h[10];
    size_t nh = 0;
    struct buf body, tagq;
    char *path, *etag = NULL;
    const char *rawtag = NULL, *vid = NULL;
    struct awsc_resp resp;
    enum err_code rc;
    const cJSON *tg;
    static const struct {
        const char *in, *hdr;
    } hdrs[] = {{"contentType", "content-type"},
                {"cacheControl", "cache-control"},
                {"contentDisposition", "content-disposition"},
                {"contentEncoding", "content-encoding"},
                {"contentLanguage", "content-language"},
                {"serverSideEncryption", "x-amz-server-side-encryption"},
                {"websiteRedirect", "x-amz-website-redirect-location"}};

    *out = NULL;
    if (!bucket || !key)
        return err_set(e, ERR_INVALID, "aws:s3:BucketObject needs bucket and key");
    if ((rc = object_body(in, &body, e)))
        return rc;
    for (size_t i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++)
        if (stack_prov_str(in, hdrs[i].in, NULL))
            h[nh++] = (struct awsc_header){hdrs[i].hdr, stack_prov_str(in, hdrs[i].in, NULL)};
    buf_init(&tagq, 0);
    cJSON_ArrayForEach(tg, cJSON_GetObjectItem(in, "tags"))
    {
        char *k = stack_prov_pct(tg->string),
             *v = stack_prov_pct(cJSON_IsString(tg) ? tg->valuestring : "");
        buf_printf(&tagq, "%s%s=%s", tagq.len ? "&" : "", k, v);
        free(k);
        free(v);
    }
    if (tagq.len)
        h[nh++] = (struct awsc_header){"x-amz-tagging", tagq.ptr};
    if (stack_prov_str(in, "acl", NULL)) /* a canned ACL: public-read needs the bucket's ACLs on */
        h[nh++] = (struct awsc_header){"x-amz-acl", stack_prov_str(in, "acl", NULL)};
    path = object_path(bucket, key);
    {
        struct awsc_req r = {.method = "PUT",
                             .endpoint = t->endpoint,
                             .path = path,
                             .region = t->region,
                             .service = "s3",
                             .headers = h,
                             .nheaders = nh,
                             .body = body.ptr ? body.ptr : "",
                             .body_len = body.len,
                             .timeout_ms = 60000};
        atomic_fetch_add(&stack_provider_writes, 1);
        rc = awsc_call(t->creds, &r, &resp, e);
    }
    free(path);
    buf_free(&body);
    buf_free(&tagq);
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
        awsc_resp_free(&resp);
        return rc;
    }
    for (size_t i = 0; i < resp.nheaders; i++) {
        if (!strcasecmp(resp.headers[i].name, "etag"))
            rawtag = resp.headers[i].value;
        else if (!strcasecmp(resp.headers[i].name, "x-amz-version-id"))
            vid = resp.headers[i].value;
    }
    etag = xstrdup(rawtag ? rawtag + (*rawtag == '"') : ""); /* no quotes, as the provider */
    if (*etag && etag[strlen(etag) - 1] == '"')
        etag[strlen(etag) - 1] = 0;
    *out = object_outputs(in, etag, vid);
    free(etag);
    awsc_resp_free(&resp);
    return ERR_OK;
}

static enum err_code obj_create(const struct stack_target *t, const cJSON *in, bool adopt,
                                char **id, cJSON **out, struct err *e)
{
    enum err_code rc;
    (void)adopt;
    *id = NULL;
    if ((rc = obj_put(t, in, out, e)))
        return rc;
    *id = xstrdup(stack_prov_str(in, "key", ""));
    return ERR_OK;
}

static enum err_code obj_update(const struct stack_target *t, const char *id, const cJSON *old_in,
                                const cJSON *new_in, const cJSON *old_out, cJSON **out,
                                struct err *e)
{
    (void)id;
    (void)old_in;
    (void)old_out;
    return obj_put(t, new_in, out, e);
}

static enum err_code obj_delete(const struct stack_target *t, const char *id, const cJSON *in,
                                const cJSON *out, struct err *e)
{
    char *path = object_path(stack_prov_str(in, "bucket", ""), id);
    enum err_code rc =
        stack_prov_rest(t, "s3", "DELETE", path, NULL, NULL, NULL, NULL, NULL, NULL, 0, e);
    (void)out;
    free(path);
    return rc == ERR_NOTFOUND ? ERR_OK : rc;
}

static enum err_code obj_read(const struct stack_target *t, const char *id, const cJSON *in,
                              cJSON **out, bool *gone, struct err *e)
{
    static const char *const bodies[] = {"source", "content", "contentBase64"};
    char *path = object_path(stack_prov_str(in, "bucket", ""), id);
    cJSON *o = cJSON_CreateObject();
    enum err_code rc = stack_prov_s3_object_props(t, path, o, gone, e);
    const char *etag;
    struct buf body;
    free(path);
    *out = NULL;
    if (rc || *gone) {
        cJSON_Delete(o);
        return rc;
    }
    *out = object_outputs(in, NULL, NULL);
    for (cJSON *c = o->child; c; c = c->next) {
        cJSON_DeleteItemFromObject(*out, c->string);
        cJSON_AddStringToObject(*out, c->string, c->valuestring);
    }
    etag = stack_prov_str(*out, "etag", "");
    /* the body: the one the program gives when its MD5 is the object's (single-part) ETag */
    for (size_t i = 0; i < 3 && !strchr(etag, '-'); i++) {
        unsigned char md5[EVP_MAX_MD_SIZE];
        unsigned int mlen = 0;
        char hex[2 * EVP_MAX_MD_SIZE + 3] = "\"", other[160];
        if (!cJSON_GetObjectItem(in, bodies[i]) || object_body(in, &body, e))
            continue;
        EVP_Digest(body.ptr ? body.ptr : "", body.len, md5, &mlen, EVP_md5(), NULL);
        buf_free(&body);
        for (unsigned int k = 0; k < mlen; k++)
            snprintf(hex + 1 + 2 * k, 3, "%02x", md5[k]);
        strcat(hex, "\"");
        snprintf(other, sizeof(other), "(other content, ETag %s)", etag);
        cJSON_AddItemToObject(*out, bodies[i],
                              !strcmp(hex, etag) || !strcmp(hex + 1, etag)
                                  ? cJSON_Duplicate(cJSON_GetObjectItem(in, bodies[i]), 1)
                                  : cJSON_CreateString(other));
    }
    cJSON_Delete(o);
    return ERR_OK;
}

static cJSON *obj_predict(const struct stack_target *t, const cJSON *in)
{
    cJSON *o = cJSON_CreateObject();
    (void)t;
    cJSON_AddStringToObject(o, "id", stack_prov_str(in, "key", ""));
    cJSON_AddStringToObject(o, "key", stack_prov_str(in, "key", ""));
    return o;
}

static const char *const obj_replace[] = {"bucket", "key", NULL};
static const char *const obj_outs[] = {"id", "etag", "versionId", NULL};
static const char *const obj_inputs[] = {"bucket",
                                         "key",
                                         "source",
                                         "content",
                                         "contentBase64",
                                         "contentType",
                                         "cacheControl",
                                         "contentDisposition",
                                         "contentEncoding",
                                         "contentLanguage",
                                         "serverSideEncryption",
                                         "websiteRedirect",
                                         "tags",
                                         "acl",
                                         "forceDestroy",
                                         "etag",
                                         "sourceHash",
                                         "storageClass",
                                         "metadata",
                                         NULL};

const struct stack_provider stack_provider_s3_object = {
    .strings =
        (const char *const[]){"bucket", "key", "content", "contentType", "cacheControl", NULL},
    .type = "aws:s3:BucketObject",
    .name_prop = "key", /* the provider's default key is the resource's name */
    .name_max = 1024,
    .name_plain = true,
    .replace_props = obj_replace,
    .outputs = obj_outs,
    .inputs = obj_inputs,
    .create = obj_create,
    .update = obj_update,
    .del = obj_delete,
    .read = obj_read,
    .predict = obj_predict,
};
const struct stack_provider stack_provider_s3_object_v2 = {
    .strings =
        (const char *const[]){"bucket", "key", "content", "contentType", "cacheControl", NULL},
    .type = "aws:s3:BucketObjectv2",
    .name_prop = "key",
    .name_max = 1024,
    .name_plain = true,
    .replace_props = obj_replace,
    .outputs = obj_outs,
    .inputs = obj_inputs,
    .create = obj_create,
    .update = obj_update,
    .del = obj_delete,
    .read = obj_read,
    .predict = obj_predict,
};
