/* s3_acl.c - aws:s3:BucketAclV2 (v7: aws:s3:BucketAcl): a bucket's ACL through PUT ?acl.
 *
 * Inputs as the provider's: bucket, acl (a canned ACL, sent as x-amz-acl) or
 * accessControlPolicy {grants [{grantee {type CanonicalUser|Group|AmazonCustomerByEmail,
 * id, uri, emailAddress}, permission}], owner {id, displayName}} (an AccessControlPolicy
 * document; without owner.id the bucket's owner is read first), expectedBucketOwner.
 * Outputs: id as the provider's ("BUCKET,ACL" for a canned ACL, else "BUCKET"). Deleting
 * the resource leaves the bucket's ACL as it is, as the provider does. The region decides
 * what it takes: an ACL other than private on a bucket whose ownership controls turn ACLs
 * off (BucketOwnerEnforced, the default) is AccessControlListNotSupported, as on S3. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "s3_int.h"

static char *acl_path(const char *bucket)
{
    char *enc = stack_prov_pct(bucket), *p = xmalloc(strlen(enc) + 2);
    sprintf(p, "/%s", enc);
    free(enc);
    return p;
}

/* The bucket owner's canonical id, from GET ?acl (owned; NULL with @e set). */
static char *owner_id(const struct stack_target *t, const char *bucket, struct err *e)
{
    char *path = acl_path(bucket), *body = NULL, *id = NULL;
    enum err_code rc =
        stack_prov_rest(t, "s3", "GET", path, "acl=", NULL, NULL, NULL, &body, NULL, 0, e);
    free(path);
    if (rc == ERR_OK && !(id = stack_prov_xml_text(body, "ID")))
        err_set(e, ERR_IO, "%s: the ACL of bucket %s names no owner", t->region, bucket);
    free(body);
    return id;
}

static char *policy_xml(const struct stack_target *t, const char *bucket, const cJSON *acp,
                        struct err *e)
{
    const cJSON *owner = cJSON_GetObjectItem(acp, "owner"), *g;
    const char *oid = stack_prov_str(owner, "id", NULL);
    char *fetched = NULL;
    struct buf b;

    if (!oid && !(oid = fetched = owner_id(t, bucket, e)))
        return NULL;
    buf_init(&b, 0);
    buf_printf(&b, "<AccessControlPolicy " XMLNS "><Owner>");
    s3prov_xml_elem(&b, "ID", oid);
    s3prov_xml_elem(&b, "DisplayName", stack_prov_str(owner, "displayName", NULL));
    buf_printf(&b, "</Owner><AccessControlList>");
    cJSON_ArrayForEach(g, cJSON_GetObjectItem(acp, "grants"))
    {
        const cJSON *ge = cJSON_GetObjectItem(g, "grantee");
        const char *type = stack_prov_str(ge, "type", "CanonicalUser");
        buf_printf(&b, "<Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
                       "xsi:type=\"");
        {
            char *esc = stack_prov_xml_escape(type);
            buf_printf(&b, "%s\">", esc);
            free(esc);
        }
        s3prov_xml_elem(&b, "ID", stack_prov_str(ge, "id", NULL));
        s3prov_xml_elem(&b, "URI", stack_prov_str(ge, "uri", NULL));
        s3prov_xml_elem(&b, "EmailAddress", stack_prov_str(ge, "emailAddress", NULL));
        buf_printf(&b, "</Grantee>");
        s3prov_xml_elem(&b, "Permission", stack_prov_str(g, "permission", ""));
        buf_printf(&b, "</Grant>");
    }
    buf_printf(&b, "</AccessControlList></AccessControlPolicy>");
    free(fetched);
    return buf_detach(&b, NULL);
}

static enum err_code put_acl(const struct stack_target *t, const cJSON *in, struct err *e)
{
    const char *bucket = stack_prov_str(in, "bucket", NULL), *acl = stack_prov_str(in, "acl", NULL);
    const cJSON *acp = cJSON_GetObjectItem(in, "accessControlPolicy");
    struct awsc_header h[1];
    struct awsc_req r = {.method = "PUT",
                         .endpoint = t->endpoint,
                         .query = "acl=",
                         .region = t->region,
                         .service = "s3",
                         .headers = h,
                         .nheaders = 1,
                         .timeout_ms = 60000};
    struct awsc_resp resp;
    char *path, *xml = NULL;
    enum err_code rc;

    if (!bucket)
        return err_set(e, ERR_INVALID, "aws:s3:BucketAclV2 needs bucket");
    if (!acl == !acp)
        return err_set(e, ERR_INVALID,
                       "aws:s3:BucketAclV2 needs one of acl and accessControlPolicy");
    if (acl) {
        h[0] = (struct awsc_header){"x-amz-acl", acl};
    } else {
        if (!(xml = policy_xml(t, bucket, acp, e)))
            return e ? e->code : ERR_INVALID;
        h[0] = (struct awsc_header){"content-type", "application/xml"};
        r.body = xml;
        r.body_len = strlen(xml);
    }
    r.path = path = acl_path(bucket);
    rc = s3prov_write(t, &r, &resp, e);
    if (rc == ERR_OK)
        awsc_resp_free(&resp);
    free(path);
    free(xml);
    return rc;
}

static cJSON *acl_outputs(const cJSON *in)
{
    cJSON *o = cJSON_CreateObject();
    const char *bucket = stack_prov_str(in, "bucket", ""), *acl = stack_prov_str(in, "acl", NULL);
    char *id = xmalloc(strlen(bucket) + (acl ? strlen(acl) : 0) + 2);

    sprintf(id, acl ? "%s,%s" : "%s", bucket, acl ? acl : "");
    cJSON_AddStringToObject(o, "id", id);
    free(id);
    return o;
}

static enum err_code acl_create(const struct stack_target *t, const cJSON *in, bool adopt,
                                char **id, cJSON **out, struct err *e)
{
    enum err_code rc = put_acl(t, in, e);
    (void)adopt;
    *id = NULL;
    *out = NULL;
    if (rc)
        return rc;
    *out = acl_outputs(in);
    *id = xstrdup(stack_prov_str(*out, "id", ""));
    return ERR_OK;
}

static enum err_code acl_update(const struct stack_target *t, const char *id, const cJSON *old_in,
                                const cJSON *new_in, const cJSON *old_out, cJSON **out,
                                struct err *e)
{
    enum err_code rc = put_acl(t, new_in, e);
    (void)id;
    (void)old_in;
    (void)old_out;
    *out = rc ? NULL : acl_outputs(new_in);
    return rc;
}

static enum err_code acl_delete(const struct stack_target *t, const char *id, const cJSON *in,
                                const cJSON *out, struct err *e)
{
    (void)t;
    (void)id;
    (void)in;
    (void)out;
    (void)e;
    return ERR_OK; /* the bucket keeps its ACL, as with the provider */
}

static enum err_code acl_read(const struct stack_target *t, const char *id, const cJSON *in,
                              cJSON **out, bool *gone, struct err *e)
{
    const char *bucket = stack_prov_str(in, "bucket", NULL);
    char *path, *body = NULL;
    enum err_code rc;

    *out = NULL;
    *gone = false;
    if (!bucket) { /* an import by id: "BUCKET" or "BUCKET,ACL" */
        const char *comma = strchr(id, ',');
        cJSON *guess = cJSON_CreateObject();
        char *b = comma ? xstrndup(id, (size_t)(comma - id)) : xstrdup(id);
        cJSON_AddStringToObject(guess, "bucket", b);
        free(b);
        rc = acl_read(t, id, guess, out, gone, e);
        cJSON_Delete(guess);
        return rc;
    }
    path = acl_path(bucket);
    rc = stack_prov_rest(t, "s3", "GET", path, "acl=", NULL, NULL, NULL, &body, NULL, 0, e);
    free(path);
    *gone = rc == ERR_NOTFOUND;
    if (rc == ERR_OK) {
        *out = cJSON_CreateObject();
        cJSON_AddStringToObject(*out, "id", id);
        cJSON_AddStringToObject(*out, "bucket", bucket);
        stack_prov_s3_props("acl=", body, *out);
        /* the form the program wrote is the one compared */
        cJSON_DeleteItemFromObject(*out,
                                   cJSON_GetObjectItem(in, "acl") ? "accessControlPolicy" : "acl");
    }
    free(body);
    return *gone ? ERR_OK : rc;
}

static cJSON *acl_predict(const struct stack_target *t, const cJSON *in)
{
    (void)t;
    return acl_outputs(in);
}

const struct stack_provider stack_provider_s3_acl = {
    .type = "aws:s3:BucketAclV2",
    .strings = (const char *const[]){"bucket", "acl", NULL},
    .inputs =
        (const char *const[]){"bucket", "acl", "accessControlPolicy", "expectedBucketOwner", NULL},
    .replace_props = (const char *const[]){"bucket", NULL},
    .outputs = (const char *const[]){"id", NULL},
    .create = acl_create,
    .update = acl_update,
    .del = acl_delete,
    .read = acl_read,
    .predict = acl_predict,
};
