/* s3_xml.c - the XML documents the S3 providers send (s3.c): Tagging,
 * WebsiteConfiguration, ReplicationConfiguration and LifecycleConfiguration,
 * built from a resource's Pulumi properties in the element order of the S3
 * schema. Pure functions: no calls, no state. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3_int.h"
#include "stack_provider.h"

/* ---- elements ---- */

void s3prov_xml_elem(struct buf *b, const char *tag, const char *text)
{
    char *esc;
    if (!text)
        return;
    esc = stack_prov_xml_escape(text);
    buf_printf(b, "<%s>%s</%s>", tag, esc, tag);
    free(esc);
}

/* ---- Tagging ---- */

char *s3prov_tagging_xml(const cJSON *tags)
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
char *s3prov_website_xml(const char *what, const char *suffix, const char *errkey, const cJSON *all,
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
char *s3prov_inline_website_xml(const cJSON *w, struct err *e)
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
    x = s3prov_website_xml("aws:s3:Bucket website", stack_prov_str(w, "indexDocument", NULL),
                           stack_prov_str(w, "errorDocument", NULL), all, rr, e);
    cJSON_Delete(all);
    cJSON_Delete(parsed);
    return x;
}

/* ---- ReplicationConfiguration ---- */

static void status_elem(struct buf *b, const char *tag, const cJSON *o)
{
    if (!cJSON_IsObject(o))
        return;
    buf_printf(b, "<%s>", tag);
    s3prov_xml_elem(b, "Status", stack_prov_str(o, "status", "Disabled"));
    buf_printf(b, "</%s>", tag);
}

char *s3prov_replication_xml(const cJSON *in)
{
    struct buf b;
    const cJSON *rule;
    buf_init(&b, 0);
    buf_printf(&b, "<ReplicationConfiguration " XMLNS ">");
    s3prov_xml_elem(&b, "Role", stack_prov_str(in, "role", ""));
    cJSON_ArrayForEach(rule, cJSON_GetObjectItem(in, "rules"))
    {
        const cJSON *f = cJSON_GetObjectItem(rule, "filter");
        const cJSON *d = cJSON_GetObjectItem(rule, "destination");
        const cJSON *pr = cJSON_GetObjectItem(rule, "priority");
        buf_printf(&b, "<Rule>");
        /* element order as the S3 schema (botocore's ReplicationRule) has it */
        s3prov_xml_elem(&b, "ID", stack_prov_str(rule, "id", NULL));
        if (cJSON_IsNumber(pr))
            buf_printf(&b, "<Priority>%d</Priority>", pr->valueint);
        if (cJSON_IsObject(f)) {
            buf_printf(&b, "<Filter>");
            s3prov_xml_elem(&b, "Prefix", stack_prov_str(f, "prefix", NULL));
            buf_printf(&b, "</Filter>");
        } else if (stack_prov_str(rule, "prefix", NULL)) {
            s3prov_xml_elem(&b, "Prefix", stack_prov_str(rule, "prefix", NULL));
        }
        s3prov_xml_elem(&b, "Status", stack_prov_str(rule, "status", "Enabled"));
        status_elem(&b, "ExistingObjectReplication",
                    cJSON_GetObjectItem(rule, "existingObjectReplication"));
        buf_printf(&b, "<Destination>");
        s3prov_xml_elem(&b, "Bucket", stack_prov_str(d, "bucket", ""));
        s3prov_xml_elem(&b, "Account", stack_prov_str(d, "account", NULL));
        s3prov_xml_elem(&b, "StorageClass", stack_prov_str(d, "storageClass", NULL));
        buf_printf(&b, "</Destination>");
        status_elem(&b, "DeleteMarkerReplication",
                    cJSON_GetObjectItem(rule, "deleteMarkerReplication"));
        buf_printf(&b, "</Rule>");
    }
    buf_printf(&b, "</ReplicationConfiguration>");
    return buf_detach(&b, NULL);
}

/* ---- LifecycleConfiguration ---- */

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
        s3prov_xml_elem(b, tag, v->valuestring);
}

static void tag_elem(struct buf *b, const char *k, const char *v)
{
    buf_printf(b, "<Tag>");
    s3prov_xml_elem(b, "Key", k);
    s3prov_xml_elem(b, "Value", v);
    buf_printf(b, "</Tag>");
}

char *s3prov_lifecycle_xml(const cJSON *rules, bool v2, struct err *e)
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
        s3prov_xml_elem(&b, "ID", stack_prov_str(r, "id", id));
        if (v2) {
            const cJSON *f = cJSON_GetObjectItem(r, "filter");
            const cJSON *and = cJSON_GetObjectItem(f, "and"), *tg = cJSON_GetObjectItem(f, "tag");
            buf_printf(&b, "<Filter>");
            if (and) {
                const cJSON *x;
                buf_printf(&b, "<And>");
                s3prov_xml_elem(&b, "Prefix", stack_prov_str(and, "prefix", NULL));
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
                s3prov_xml_elem(&b, "Prefix", stack_prov_str(f, "prefix", ""));
            }
            buf_printf(&b, "</Filter>");
            s3prov_xml_elem(&b, "Status", stack_prov_str(r, "status", "Enabled"));
        } else {
            const cJSON *tags = cJSON_GetObjectItem(r, "tags"), *x;
            buf_printf(&b, "<Filter>");
            if (cJSON_GetArraySize(tags) > 0) {
                buf_printf(&b, "<And>");
                s3prov_xml_elem(&b, "Prefix", stack_prov_str(r, "prefix", NULL));
                cJSON_ArrayForEach(x, tags)
                    tag_elem(&b, x->string, cJSON_IsString(x) ? x->valuestring : "");
                buf_printf(&b, "</And>");
            } else {
                s3prov_xml_elem(&b, "Prefix", stack_prov_str(r, "prefix", ""));
            }
            buf_printf(&b, "</Filter>");
            s3prov_xml_elem(&b, "Status",
                            cJSON_IsFalse(cJSON_GetObjectItem(r, "enabled")) ? "Disabled"
                                                                             : "Enabled");
        }
        if (ex) {
            buf_printf(&b, "<Expiration>");
            num_elem(&b, "Date", cJSON_GetObjectItem(ex, "date"));
            num_elem(&b, "Days", cJSON_GetObjectItem(ex, "days"));
            if (cJSON_IsBool(cJSON_GetObjectItem(ex, "expiredObjectDeleteMarker")))
                s3prov_xml_elem(&b, "ExpiredObjectDeleteMarker",
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
