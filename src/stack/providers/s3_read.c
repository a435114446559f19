/* s3_read.c - S3 bucket configurations read back as the program writes them (refresh, `get:`,
 * import): the answers of GET ?publicAccessBlock, ?ownershipControls, ?policy, ?cors,
 * ?website, ?lifecycle, ?versioning, ?encryption and ?tagging turned into the Pulumi properties the
 * providers in s3.c take, numbers and booleans where the provider's schema has them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mem.h"
#include "stack_provider.h"

/* The inner text of each <@tag>...</@tag> block of @xml (owned strings, raw XML). */
static cJSON *blocks(const char *xml, const char *tag)
{
    cJSON *l = cJSON_CreateArray();
    char open[64], close[64];
    size_t olen;
    snprintf(open, sizeof(open), "<%s>", tag);
    snprintf(close, sizeof(close), "</%s>", tag);
    olen = strlen(open);
    for (const char *p = xml; p && (p = strstr(p, open));) {
        const char *end = strstr(p + olen, close);
        char *s;
        if (!end)
            break;
        s = xmalloc((size_t)(end - p - (long)olen) + 1);
        memcpy(s, p + olen, (size_t)(end - p - (long)olen));
        s[end - p - (long)olen] = '\0';
        cJSON_AddItemToArray(l, cJSON_CreateString(s));
        free(s);
        p = end + strlen(close);
    }
    return l;
}

/* <@tag> of @xml as property @prop of @o, when present: a number or boolean where the
 * provider's schema has one, else text. */
static void text_prop(cJSON *o, const char *prop, const char *xml, const char *tag)
{
    static const char *const numbers[] = {"days",
                                          "maxAgeSeconds",
                                          "noncurrentDays",
                                          "newerNoncurrentVersions",
                                          "daysAfterInitiation",
                                          "objectSizeGreaterThan",
                                          "objectSizeLessThan",
                                          "priority",
                                          NULL};
    char *v = stack_prov_xml_text(xml, tag), *end = NULL;
    bool number = false;
    for (size_t i = 0; v && numbers[i]; i++)
        number = number || !strcmp(prop, numbers[i]);
    if (v && number && *v && (strtod(v, &end), *end == '\0'))
        cJSON_AddNumberToObject(o, prop, strtod(v, NULL));
    else if (v && !strcmp(prop, "expiredObjectDeleteMarker"))
        cJSON_AddBoolToObject(o, prop, !strcmp(v, "true"));
    else if (v)
        cJSON_AddStringToObject(o, prop, v);
    free(v);
}

/* Each <@tag> of @xml as the list @prop of @o (an empty list when none). */
static void list_prop(cJSON *o, const char *prop, const char *xml, const char *tag)
{
    cJSON_AddItemToObject(o, prop, stack_prov_xml_all(xml, tag));
}

/* An object of the text properties @map ({prop, tag} pairs) inside <@tag> of @xml, added as
 * @prop of @o when that block is there. */
static void block_prop(cJSON *o, const char *prop, const char *xml, const char *tag,
                       const char *const *map)
{
    cJSON *b = blocks(xml, tag), *v;
    if (cJSON_GetArraySize(b) > 0) {
        v = cJSON_AddObjectToObject(o, prop);
        for (size_t i = 0; map[i]; i += 2)
            text_prop(v, map[i], b->child->valuestring, map[i + 1]);
    }
    cJSON_Delete(b);
}

static void cors_rules(cJSON *o, const char *xml)
{
    cJSON *b = blocks(xml, "CORSRule"), *l = cJSON_AddArrayToObject(o, "corsRules");
    const cJSON *r;
    cJSON_ArrayForEach(r, b)
    {
        cJSON *x = cJSON_CreateObject();
        text_prop(x, "id", r->valuestring, "ID");
        list_prop(x, "allowedHeaders", r->valuestring, "AllowedHeader");
        list_prop(x, "allowedMethods", r->valuestring, "AllowedMethod");
        list_prop(x, "allowedOrigins", r->valuestring, "AllowedOrigin");
        list_prop(x, "exposeHeaders", r->valuestring, "ExposeHeader");
        text_prop(x, "maxAgeSeconds", r->valuestring, "MaxAgeSeconds");
        cJSON_AddItemToArray(l, x);
    }
    cJSON_Delete(b);
}

/* notification - the lambdaFunctions of a NotificationConfiguration (the only kind a
 * region takes), each with the filter's prefix and suffix rules */
static void notification(cJSON *o, const char *xml)
{
    cJSON *b = blocks(xml, "CloudFunctionConfiguration"), *l;
    const cJSON *c;

    l = cJSON_AddArrayToObject(o, "lambdaFunctions");
    cJSON_ArrayForEach(c, b)
    {
        cJSON *x = cJSON_CreateObject(), *rules = blocks(c->valuestring, "FilterRule");
        const cJSON *r;

        text_prop(x, "id", c->valuestring, "Id");
        text_prop(x, "lambdaFunctionArn", c->valuestring, "CloudFunction");
        list_prop(x, "events", c->valuestring, "Event");
        cJSON_ArrayForEach(r, rules)
        {
            char *name = stack_prov_xml_text(r->valuestring, "Name");

            if (name && !strcasecmp(name, "prefix"))
                text_prop(x, "filterPrefix", r->valuestring, "Value");
            else if (name && !strcasecmp(name, "suffix"))
                text_prop(x, "filterSuffix", r->valuestring, "Value");
            free(name);
        }
        cJSON_Delete(rules);
        cJSON_AddItemToArray(l, x);
    }
    cJSON_Delete(b);
}

static void website(cJSON *o, const char *xml)
{
    static const char *const index[] = {"suffix", "Suffix", NULL};
    static const char *const error[] = {"key", "Key", NULL};
    static const char *const redirect_all[] = {"hostName", "HostName", "protocol", "Protocol",
                                               NULL};
    static const char *const cond[] = {"keyPrefixEquals", "KeyPrefixEquals",
                                       "httpErrorCodeReturnedEquals", "HttpErrorCodeReturnedEquals",
                                       NULL};
    static const char *const redirect[] = {"hostName",
                                           "HostName",
                                           "protocol",
                                           "Protocol",
                                           "httpRedirectCode",
                                           "HttpRedirectCode",
                                           "replaceKeyPrefixWith",
                                           "ReplaceKeyPrefixWith",
                                           "replaceKeyWith",
                                           "ReplaceKeyWith",
                                           NULL};
    cJSON *b = blocks(xml, "RoutingRule"), *l = cJSON_AddArrayToObject(o, "routingRules");
    const cJSON *r;
    block_prop(o, "indexDocument", xml, "IndexDocument", index);
    block_prop(o, "errorDocument", xml, "ErrorDocument", error);
    block_prop(o, "redirectAllRequestsTo", xml, "RedirectAllRequestsTo", redirect_all);
    cJSON_ArrayForEach(r, b)
    {
        cJSON *x = cJSON_CreateObject();
        block_prop(x, "condition", r->valuestring, "Condition", cond);
        block_prop(x, "redirect", r->valuestring, "Redirect", redirect);
        cJSON_AddItemToArray(l, x);
    }
    cJSON_Delete(b);
}

static void encryption(cJSON *o, const char *xml)
{
    static const char *const by_default[] = {"sseAlgorithm", "SSEAlgorithm", "kmsMasterKeyId",
                                             "KMSMasterKeyID", NULL};
    cJSON *b = blocks(xml, "Rule"), *l = cJSON_AddArrayToObject(o, "rules");
    const cJSON *r;
    cJSON_ArrayForEach(r, b)
    {
        cJSON *x = cJSON_CreateObject();
        char *bk = stack_prov_xml_text(r->valuestring, "BucketKeyEnabled");
        block_prop(x, "applyServerSideEncryptionByDefault", r->valuestring,
                   "ApplyServerSideEncryptionByDefault", by_default);
        if (bk)
            cJSON_AddBoolToObject(x, "bucketKeyEnabled", !strcmp(bk, "true"));
        free(bk);
        cJSON_AddItemToArray(l, x);
    }
    cJSON_Delete(b);
}

static void lifecycle(cJSON *o, const char *xml)
{
    static const char *const exp[] = {
        "days", "Days", "date", "Date", "expiredObjectDeleteMarker", "ExpiredObjectDeleteMarker",
        NULL};
    static const char *const nc[] = {"noncurrentDays", "NoncurrentDays", "newerNoncurrentVersions",
                                     "NewerNoncurrentVersions", NULL};
    static const char *const abort_mpu[] = {"daysAfterInitiation", "DaysAfterInitiation", NULL};
    static const char *const size[] = {"prefix",
                                       "Prefix",
                                       "objectSizeGreaterThan",
                                       "ObjectSizeGreaterThan",
                                       "objectSizeLessThan",
                                       "ObjectSizeLessThan",
                                       NULL};
    cJSON *b = blocks(xml, "Rule"), *l = cJSON_AddArrayToObject(o, "rules");
    const cJSON *r;
    cJSON_ArrayForEach(r, b)
    {
        const char *s = r->valuestring;
        cJSON *x = cJSON_CreateObject();
        cJSON *f = blocks(s, "Filter");
        text_prop(x, "id", s, "ID");
        text_prop(x, "status", s, "Status");
        if (cJSON_GetArraySize(f) > 0) {
            const char *fs = f->child->valuestring;
            cJSON *fo = cJSON_AddObjectToObject(x, "filter");
            cJSON *tag = blocks(fs, "Tag");
            if (strstr(fs, "<And>"))
                block_prop(fo, "and", fs, "And", size);
            else
                for (size_t i = 0; size[i]; i += 2)
                    text_prop(fo, size[i], fs, size[i + 1]);
            if (cJSON_GetArraySize(tag) > 0 && !strstr(fs, "<And>")) {
                cJSON *t = cJSON_AddObjectToObject(fo, "tag");
                text_prop(t, "key", tag->child->valuestring, "Key");
                text_prop(t, "value", tag->child->valuestring, "Value");
            }
            cJSON_Delete(tag);
        }
        cJSON_Delete(f);
        block_prop(x, "expiration", s, "Expiration", exp);
        block_prop(x, "noncurrentVersionExpiration", s, "NoncurrentVersionExpiration", nc);
        block_prop(x, "abortIncompleteMultipartUpload", s, "AbortIncompleteMultipartUpload",
                   abort_mpu);
        cJSON_AddItemToArray(l, x);
    }
    cJSON_Delete(b);
}

static void replication(cJSON *o, const char *xml)
{
    static const char *const filter[] = {"prefix", "Prefix", NULL};
    static const char *const status[] = {"status", "Status", NULL};
    static const char *const dest[] = {"bucket",       "Bucket",       "account", "Account",
                                       "storageClass", "StorageClass", NULL};
    cJSON *b = blocks(xml, "Rule"), *l;
    const cJSON *r;
    text_prop(o, "role", xml, "Role");
    l = cJSON_AddArrayToObject(o, "rules");
    cJSON_ArrayForEach(r, b)
    {
        const char *s = r->valuestring;
        cJSON *x = cJSON_CreateObject();
        text_prop(x, "id", s, "ID");
        text_prop(x, "priority", s, "Priority");
        text_prop(x, "status", s, "Status");
        block_prop(x, "filter", s, "Filter", filter);
        block_prop(x, "existingObjectReplication", s, "ExistingObjectReplication", status);
        block_prop(x, "deleteMarkerReplication", s, "DeleteMarkerReplication", status);
        block_prop(x, "destination", s, "Destination", dest);
        cJSON_AddItemToArray(l, x);
    }
    cJSON_Delete(b);
}

static const char *canned_acl(const char *xml);

/* accessControlPolicy {owner {id, displayName}, grants [{grantee {type, id, uri,
 * emailAddress}, permission}]} of a GET ?acl answer */
static void access_control_policy(cJSON *o, const char *xml)
{
    static const char *const owner[] = {"id", "ID", "displayName", "DisplayName", NULL};
    cJSON *acp = cJSON_AddObjectToObject(o, "accessControlPolicy");
    cJSON *b = blocks(xml, "Grant"), *l;
    const cJSON *g;

    block_prop(acp, "owner", xml, "Owner", owner);
    l = cJSON_AddArrayToObject(acp, "grants");
    cJSON_ArrayForEach(g, b)
    {
        cJSON *x = cJSON_CreateObject(), *ge = cJSON_AddObjectToObject(x, "grantee");
        const char *ty = strstr(g->valuestring, "type=\"");
        if (ty) {
            const char *end = strchr(ty + 6, '"');
            char *t = end ? xstrndup(ty + 6, (size_t)(end - ty - 6)) : NULL;
            if (t)
                cJSON_AddStringToObject(ge, "type", t);
            free(t);
        }
        text_prop(ge, "id", g->valuestring, "ID");
        text_prop(ge, "uri", g->valuestring, "URI");
        text_prop(ge, "emailAddress", g->valuestring, "EmailAddress");
        text_prop(x, "permission", g->valuestring, "Permission");
        cJSON_AddItemToArray(l, x);
    }
    cJSON_Delete(b);
}

void stack_prov_s3_props(const char *query, const char *body, cJSON *o)
{
    if (!body)
        body = "";
    if (!strcmp(query, "publicAccessBlock=")) {
        static const char *const f[] = {
            "blockPublicAcls",       "BlockPublicAcls",       "ignorePublicAcls",
            "IgnorePublicAcls",      "blockPublicPolicy",     "BlockPublicPolicy",
            "restrictPublicBuckets", "RestrictPublicBuckets", NULL};
        for (size_t i = 0; f[i]; i += 2) {
            char *v = stack_prov_xml_text(body, f[i + 1]);
            cJSON_AddBoolToObject(o, f[i], v && !strcmp(v, "true"));
            free(v);
        }
    } else if (!strcmp(query, "ownershipControls=")) {
        static const char *const rule[] = {"objectOwnership", "ObjectOwnership", NULL};
        block_prop(o, "rule", body, "Rule", rule);
    } else if (!strcmp(query, "policy=")) {
        cJSON_AddStringToObject(o, "policy", body);
    } else if (!strcmp(query, "cors=")) {
        cors_rules(o, body);
    } else if (!strcmp(query, "website=")) {
        website(o, body);
    } else if (!strcmp(query, "notification=")) {
        notification(o, body);
    } else if (!strcmp(query, "lifecycle=")) {
        lifecycle(o, body);
    } else if (!strcmp(query, "replication=")) {
        replication(o, body);
    } else if (!strcmp(query, "versioning=")) {
        char *st = stack_prov_xml_text(body, "Status");
        cJSON *v = cJSON_AddObjectToObject(o, "versioningConfiguration");
        cJSON_AddStringToObject(v, "status", st ? st : "Disabled");
        free(st);
    } else if (!strcmp(query, "acl=")) {
        cJSON_AddStringToObject(o, "acl", canned_acl(body));
        access_control_policy(o, body);
    } else if (!strcmp(query, "encryption=")) {
        encryption(o, body);
    } else if (!strcmp(query, "tagging=")) {
        cJSON_AddItemToObject(o, "tags", stack_prov_xml_tags(body, "TagSet"));
    }
}

/* GET ?@query of @bucket: the body (owned) or NULL when S3 answers that there is none. */
static enum err_code get_conf(const struct stack_target *t, const char *bucket, const char *query,
                              char **body, struct err *e)
{
    char *enc = stack_prov_pct(bucket), *path = xmalloc(strlen(enc) + 2), code[96] = "";
    enum err_code rc;
    snprintf(path, strlen(enc) + 2, "/%s", enc);
    *body = NULL;
    rc =
        stack_prov_rest(t, "s3", "GET", path, query, NULL, NULL, NULL, body, code, sizeof(code), e);
    free(enc);
    free(path);
    if (rc == ERR_NOTFOUND && strcmp(code, "NoSuchBucket") != 0) { /* NoSuchTagSet... */
        free(*body);
        *body = NULL;
        return ERR_OK;
    }
    return rc;
}

/* The canned ACL a GetBucketAcl answer amounts to ("private" when only the owner is
 * granted), or "" when its grants are no canned ACL. */
static const char *canned_acl(const char *xml)
{
    static const struct {
        const char *name, *group, *perms;
    } canned[] = {
        {"public-read-write", "AllUsers", "READ,WRITE"},
        {"public-read", "AllUsers", "READ"},
        {"authenticated-read", "AuthenticatedUsers", "READ"},
        {"log-delivery-write", "LogDelivery", "READ_ACP,WRITE"},
    };
    cJSON *grants = blocks(xml ? xml : "", "Grant");
    char perms[4][64] = {"", "", "", ""};
    const char *groups[] = {"AllUsers", "AuthenticatedUsers", "LogDelivery"};
    const cJSON *g;
    int others = 0;
    cJSON_ArrayForEach(g, grants)
    {
        char *uri = stack_prov_xml_text(g->valuestring, "URI");
        char *perm = stack_prov_xml_text(g->valuestring, "Permission");
        int k = 3;
        for (int i = 0; uri && i < 3; i++)
            if (strstr(uri, groups[i]))
                k = i;
        if (uri && k < 3 && perm) /* permissions of a group, in the order the table lists them */
            snprintf(perms[k] + strlen(perms[k]), sizeof(perms[k]) - strlen(perms[k]), "%s%s",
                     *perms[k] ? "," : "", perm);
        else if (!perm || strcmp(perm, "FULL_CONTROL") != 0)
            others++; /* another grantee than the owner's full control */
        free(uri);
        free(perm);
    }
    cJSON_Delete(grants);
    if (others)
        return "";
    if (!*perms[0] && !*perms[1] && !*perms[2])
        return "private";
    for (size_t i = 0; i < sizeof(canned) / sizeof(canned[0]); i++) {
        int k = !strcmp(canned[i].group, "AllUsers")      ? 0
                : !strcmp(canned[i].group, "LogDelivery") ? 2
                                                          : 1;
        bool alone = true;
        for (int m = 0; m < 3; m++)
            alone = alone && (m == k || !*perms[m]);
        if (alone && !strcmp(perms[k], canned[i].perms))
            return canned[i].name;
    }
    return "";
}

/* The inline lifecycleRules of aws:s3:Bucket from the rules of the V2 shape. */
static cJSON *inline_rules(const cJSON *v2)
{
    cJSON *l = cJSON_CreateArray();
    const cJSON *r;
    cJSON_ArrayForEach(r, v2)
    {
        cJSON *x = cJSON_CreateObject();
        const cJSON *f = cJSON_GetObjectItem(r, "filter"), *v;
        const char *prefix = stack_prov_str(f, "prefix", NULL);
        if (!prefix)
            prefix = stack_prov_str(cJSON_GetObjectItem(f, "and"), "prefix", "");
        if (stack_prov_str(r, "id", NULL))
            cJSON_AddStringToObject(x, "id", stack_prov_str(r, "id", ""));
        cJSON_AddBoolToObject(x, "enabled", !strcmp(stack_prov_str(r, "status", ""), "Enabled"));
        cJSON_AddStringToObject(x, "prefix", prefix);
        if ((v = cJSON_GetObjectItem(r, "expiration")))
            cJSON_AddItemToObject(x, "expiration", cJSON_Duplicate(v, 1));
        if ((v = cJSON_GetObjectItem(r, "noncurrentVersionExpiration")))
            cJSON_AddItemToObject(cJSON_AddObjectToObject(x, "noncurrentVersionExpiration"), "days",
                                  cJSON_Duplicate(cJSON_GetObjectItem(v, "noncurrentDays"), 1));
        if ((v = cJSON_GetObjectItem(r, "abortIncompleteMultipartUpload")))
            cJSON_AddItemToObject(
                x, "abortIncompleteMultipartUploadDays",
                cJSON_Duplicate(cJSON_GetObjectItem(v, "daysAfterInitiation"), 1));
        cJSON_AddItemToArray(l, x);
    }
    return l;
}

enum err_code stack_prov_s3_bucket_props(const struct stack_target *t, const char *bucket, cJSON *o,
                                         struct err *e)
{
    char *body = NULL;
    cJSON *tmp;
    enum err_code rc;

    if ((rc = get_conf(t, bucket, "tagging=", &body, e)))
        return rc;
    stack_prov_s3_props("tagging=", body, o);
    free(body);
    if ((rc = get_conf(t, bucket, "versioning=", &body, e)))
        return rc;
    {
        char *st = stack_prov_xml_text(body, "Status");
        cJSON_AddBoolToObject(cJSON_AddObjectToObject(o, "versioning"), "enabled",
                              st && !strcmp(st, "Enabled"));
        free(st);
    }
    free(body);
    if ((rc = get_conf(t, bucket, "acl=", &body, e)))
        return rc;
    cJSON_AddStringToObject(o, "acl", canned_acl(body));
    free(body);
    if ((rc = get_conf(t, bucket, "lifecycle=", &body, e)))
        return rc;
    tmp = cJSON_CreateObject();
    stack_prov_s3_props("lifecycle=", body, tmp);
    cJSON_AddItemToObject(o, "lifecycleRules", inline_rules(cJSON_GetObjectItem(tmp, "rules")));
    cJSON_Delete(tmp);
    free(body);
    if ((rc = get_conf(t, bucket, "website=", &body, e)))
        return rc;
    if (!body) {
        cJSON_AddNullToObject(o, "website");
    } else {
        const cJSON *r;
        cJSON *w = cJSON_AddObjectToObject(o, "website");
        tmp = cJSON_CreateObject();
        stack_prov_s3_props("website=", body, tmp);
        if ((r = cJSON_GetObjectItem(tmp, "indexDocument")))
            cJSON_AddStringToObject(w, "indexDocument", stack_prov_str(r, "suffix", ""));
        if ((r = cJSON_GetObjectItem(tmp, "errorDocument")))
            cJSON_AddStringToObject(w, "errorDocument", stack_prov_str(r, "key", ""));
        if ((r = cJSON_GetObjectItem(tmp, "redirectAllRequestsTo"))) {
            char all[600];
            const char *proto = stack_prov_str(r, "protocol", NULL);
            snprintf(all, sizeof(all), "%s%s%s", proto ? proto : "", proto ? "://" : "",
                     stack_prov_str(r, "hostName", ""));
            cJSON_AddStringToObject(w, "redirectAllRequestsTo", all);
        }
        cJSON_Delete(tmp);
    }
    free(body);
    return ERR_OK;
}

enum err_code stack_prov_s3_object_props(const struct stack_target *t, const char *path, cJSON *o,
                                         bool *gone, struct err *e)
{
    static const char *const hdrs[][2] = {{"contentType", "content-type"},
                                          {"cacheControl", "cache-control"},
                                          {"contentDisposition", "content-disposition"},
                                          {"contentEncoding", "content-encoding"},
                                          {"contentLanguage", "content-language"},
                                          {"serverSideEncryption", "x-amz-server-side-encryption"},
                                          {"websiteRedirect", "x-amz-website-redirect-location"},
                                          {"etag", "etag"}};
    struct awsc_req r = {.method = "HEAD",
                         .endpoint = t->endpoint,
                         .path = path,
                         .region = t->region,
                         .service = "s3",
                         .timeout_ms = 60000};
    struct awsc_resp resp;
    enum err_code rc = awsc_call(t->creds, &r, &resp, e);

    *gone = false;
    if (rc) {
        awsc_resp_free(&resp);
        return err_set(e, ERR_IO, "region %s unreachable at %s", t->region, t->endpoint);
    }
    if (resp.status == 404) {
        *gone = true;
    } else if (resp.status < 200 || resp.status > 299) {
        rc = err_set(e, ERR_INVALID, "%s: HEAD %s: HTTP %ld", t->region, path, resp.status);
    } else {
        for (size_t i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++)
            for (size_t k = 0; k < resp.nheaders; k++)
                if (!strcmp(resp.headers[k].name, hdrs[i][1]))
                    cJSON_AddStringToObject(o, hdrs[i][0], resp.headers[k].value);
    }
    awsc_resp_free(&resp);
    return rc;
}
