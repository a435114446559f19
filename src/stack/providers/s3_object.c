/* s3_object.c - aws:s3:BucketObject and BucketObjectv2: one PutObject of the
 * bytes the program gives (an asset, content or contentBase64) with its headers,
 * tags and canned ACL; DeleteObject; and the object read back (HEAD, with its
 * body compared by MD5 with the ETag) for refresh and import. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "codec.h"
#include "mem.h"
#include "s3_int.h"
#include "stack_provider.h"

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
        rc = s3prov_write(t, &r, &resp, e);
    }
    free(path);
    buf_free(&body);
    buf_free(&tagq);
    if (rc)
        return rc;
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
