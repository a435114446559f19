/* lambda.c - aws:lambda:Function, FunctionUrl and Permission through the Lambda
 * REST API: CreateFunction (zip package from fn::fileArchive), GetFunction,
 * UpdateFunctionCode / UpdateFunctionConfiguration, DeleteFunction;
 * CreateFunctionUrlConfig (/2021-10-31/functions/{name}/url) and its update
 * and delete; AddPermission / RemovePermission (/functions/{name}/policy);
 * aws:lambda:Alias; aws:lambda:FunctionEventInvokeConfig
 * (/2019-09-25/functions/{name}/event-invoke-config). */
#include <dirent.h>
#include <errno.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include "buf.h"
#include "codec.h"
#include "mem.h"
#include "stack_provider.h"

enum { WAIT_DEFAULT_MS = 60000, WAIT_MS = 100 };

static char *fn_path(const char *prefix, const char *name, const char *suffix)
{
    char *enc = stack_prov_pct(name),
         *p = xmalloc(strlen(prefix) + strlen(enc) + strlen(suffix) + 2);
    sprintf(p, "%s/%s%s", prefix, enc, suffix);
    free(enc);
    return p;
}

static enum err_code call_json(const struct stack_target *t, const char *method, const char *path,
                               const char *query, const cJSON *body, cJSON **out, char *code,
                               size_t clen, struct err *e)
{
    char *text = body ? cJSON_PrintUnformatted(body) : NULL, *resp = NULL;
    enum err_code rc =
        stack_prov_rest(t, "lambda", method, path, query, text, body ? "application/json" : NULL,
                        NULL, &resp, code, clen, e);
    free(text);
    if (out)
        *out = rc == ERR_OK && resp && *resp ? cJSON_Parse(resp) : NULL;
    free(resp);
    return rc;
}

/* ---- zip packages ---- */

static int add_tree(zip_t *z, const char *dir, const char *rel)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;
    if (!d)
        return -1;
    while ((de = readdir(d))) {
        char path[4096], name[2048];
        struct stat st;
        if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        snprintf(name, sizeof(name), "%s%s%s", rel, *rel ? "/" : "", de->d_name);
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            int k = add_tree(z, path, name);
            if (k < 0) {
                closedir(d);
                return -1;
            }
            n += k;
        } else if (S_ISREG(st.st_mode)) {
            zip_source_t *src = zip_source_file(z, path, 0, -1);
            zip_int64_t idx;
            if (!src ||
                (idx = zip_file_add(z, name, src, ZIP_FL_OVERWRITE | ZIP_FL_ENC_UTF_8)) < 0) {
                zip_source_free(src);
                closedir(d);
                return -1;
            }
            /* keep the file's mode (executables such as bootstrap stay executable) */
            zip_file_set_external_attributes(z, (zip_uint64_t)idx, 0, ZIP_OPSYS_UNIX,
                                             ((zip_uint32_t)st.st_mode & 0xffff) << 16);
            n++;
        }
    }
    closedir(d);
    return n;
}

/* fn::assetArchive: each name a file (fn::stringAsset / fn::fileAsset) or a folder
 * (fn::fileArchive) of the package. Returns the number of files added, -1 on error. */
static int add_assets(zip_t *z, const cJSON *assets)
{
    const cJSON *a;
    int n = 0;
    cJSON_ArrayForEach(a, assets)
    {
        const char *text = stack_prov_str(a, "__asset", NULL);
        const char *file = stack_prov_str(a, "__file", NULL);
        const char *dir = stack_prov_str(a, "__archive", NULL);
        zip_source_t *src = NULL;
        if (text)
            src = zip_source_buffer(z, text, strlen(text), 0);
        else if (file)
            src = zip_source_file(z, file, 0, -1);
        if (src) {
            if (zip_file_add(z, a->string, src, ZIP_FL_OVERWRITE | ZIP_FL_ENC_UTF_8) < 0) {
                zip_source_free(src);
                return -1;
            }
            n++;
        } else if (dir) {
            int k = add_tree(z, dir, a->string);
            if (k < 0)
                return -1;
            n += k;
        } else {
            return -1;
        }
    }
    return n;
}

/* The base64 zip package of a fn::fileArchive or fn::assetArchive value (owned, free()). */
static enum err_code zip_base64(const struct stack_target *t, const cJSON *code, char **out,
                                struct err *e)
{
    const char *path = stack_prov_str(code, "__archive", NULL);
    char tmp[4096], *b64 = NULL;
    unsigned char *bytes = NULL;
    zip_t *z;
    int zerr = 0;
    struct stat st;
    FILE *f;
    long len;
    bool made = true; /* a package built here, removed after reading */

    *out = NULL;
    if (!path && !cJSON_IsObject(cJSON_GetObjectItem(code, "__assets")))
        return err_set(e, ERR_INVALID,
                       "code must be fn::fileArchive (a folder or a .zip file) or "
                       "fn::assetArchive");
    if (!path) {
        snprintf(tmp, sizeof(tmp), "%s/pkg-%d-%lx.zip", t->workdir ? t->workdir : "/tmp",
                 (int)getpid(), (unsigned long)(size_t)code);
        z = zip_open(tmp, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
        if (!z)
            return err_set(e, ERR_IO, "zip %s: error %d", tmp, zerr);
        if (add_assets(z, cJSON_GetObjectItem(code, "__assets")) <= 0) {
            zip_discard(z);
            return err_set(e, ERR_INVALID, "fn::assetArchive: no files to package");
        }
        if (zip_close(z) != 0) {
            zip_discard(z);
            return err_set(e, ERR_IO, "zip %s: cannot write", tmp);
        }
        path = tmp;
    } else if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) { /* a ready .zip */
        snprintf(tmp, sizeof(tmp), "%s", path);
        made = false;
    } else {
        snprintf(tmp, sizeof(tmp), "%s/pkg-%d-%lx.zip", t->workdir ? t->workdir : "/tmp",
                 (int)getpid(), (unsigned long)(size_t)code);
        z = zip_open(tmp, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
        if (!z)
            return err_set(e, ERR_IO, "zip %s: error %d", tmp, zerr);
        if (add_tree(z, path, "") <= 0) {
            zip_discard(z);
            return err_set(e, ERR_INVALID, "fn::fileArchive %s: no files to package", path);
        }
        if (zip_close(z) != 0) {
            zip_discard(z);
            return err_set(e, ERR_IO, "zip %s: cannot write", tmp);
        }
    }
    f = fopen(tmp, "rb");
    if (!f)
        return err_set(e, ERR_IO, "%s: %s", tmp, strerror(errno));
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    bytes = xmalloc((size_t)len + 1);
    len = (long)fread(bytes, 1, (size_t)len, f);
    fclose(f);
    if (made)
        unlink(tmp);
    b64 = xmalloc(base64_encoded_len((size_t)len) + 1);
    base64_encode(bytes, (size_t)len, b64);
    free(bytes);
    *out = b64;
    return ERR_OK;
}

/* ---- Function ---- */

static cJSON *config_body(const cJSON *in, bool create)
{
    cJSON *b = cJSON_CreateObject();
    const cJSON *v;
    if (create)
        cJSON_AddStringToObject(b, "FunctionName", stack_prov_str(in, "name", ""));
    cJSON_AddStringToObject(b, "Role", stack_prov_str(in, "role", ""));
    if (stack_prov_str(in, "runtime", NULL))
        cJSON_AddStringToObject(b, "Runtime", stack_prov_str(in, "runtime", NULL));
    if (stack_prov_str(in, "handler", NULL))
        cJSON_AddStringToObject(b, "Handler", stack_prov_str(in, "handler", NULL));
    if (stack_prov_str(in, "description", NULL))
        cJSON_AddStringToObject(b, "Description", stack_prov_str(in, "description", NULL));
    v = cJSON_GetObjectItem(in, "timeout");
    cJSON_AddNumberToObject(b, "Timeout", cJSON_IsNumber(v) ? v->valuedouble : 3);
    v = cJSON_GetObjectItem(in, "memorySize");
    cJSON_AddNumberToObject(b, "MemorySize", cJSON_IsNumber(v) ? v->valuedouble : 128);
    v = cJSON_GetObjectItem(cJSON_GetObjectItem(in, "environment"), "variables");
    if (cJSON_IsObject(v))
        cJSON_AddItemToObject(cJSON_AddObjectToObject(b, "Environment"), "Variables",
                              cJSON_Duplicate(v, 1));
    v = cJSON_GetObjectItem(in, "architectures");
    if (cJSON_IsArray(v))
        cJSON_AddItemToObject(b, "Architectures", cJSON_Duplicate(v, 1));
    return b;
}

/* fn_outputs - the outputs of function @name from its $LATEST configuration
 * @conf; @version: its latest published version (NULL: "$LATEST"), as the
 * program sees `version` and `qualifiedArn` with `publish: true`. */
static cJSON *fn_outputs(const struct stack_target *t, const cJSON *conf, const char *name,
                         const char *version)
{
    cJSON *o = cJSON_CreateObject();
    const char *arn = stack_prov_str(conf, "FunctionArn", "");
    char invoke[700], qual[600];
    if (!version)
        version = stack_prov_str(conf, "Version", "$LATEST");
    snprintf(invoke, sizeof(invoke),
             "arn:aws:apigateway:%s:lambda:path/2015-03-31/functions/%s/invocations", t->region,
             arn);
    snprintf(qual, sizeof(qual), "%s:%s", arn, version);
    cJSON_AddStringToObject(o, "id", name);
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddStringToObject(o, "arn", arn);
    cJSON_AddStringToObject(o, "invokeArn", invoke);
    cJSON_AddStringToObject(o, "qualifiedArn", qual);
    cJSON_AddStringToObject(o, "version", version);
    return o;
}

/* published - with `publish: true` in @in, the latest version of @name
 * (PublishVersion first when @publish_now: it answers the latest one when
 * nothing changed), owned; NULL without `publish` or on failure (@rc set). */
static char *published(const struct stack_target *t, const cJSON *in, const char *name,
                       bool publish_now, enum err_code *rc, struct err *e)
{
    char *path = fn_path("/2015-03-31/functions", name, "/versions"), *v = NULL;
    cJSON *resp = NULL;
    const cJSON *x;

    *rc = ERR_OK;
    if (!cJSON_IsTrue(cJSON_GetObjectItem(in, "publish"))) {
        free(path);
        return NULL;
    }
    if (publish_now) {
        cJSON *body = cJSON_CreateObject();
        *rc = call_json(t, "POST", path, NULL, body, &resp, NULL, 0, e);
        cJSON_Delete(body);
    } else {
        *rc = call_json(t, "GET", path, "MaxItems=10000", NULL, &resp, NULL, 0, e);
        cJSON *all = resp; /* $LATEST, then the versions in order: the last is the latest */
        x = cJSON_GetArrayItem(cJSON_GetObjectItem(all, "Versions"),
                               cJSON_GetArraySize(cJSON_GetObjectItem(all, "Versions")) - 1);
        resp = x ? cJSON_Duplicate(x, 1) : NULL;
        cJSON_Delete(all);
    }
    free(path);
    if (*rc == ERR_OK)
        v = xstrdup(stack_prov_str(resp, "Version", "$LATEST"));
    cJSON_Delete(resp);
    return v;
}

/* Wait until the function is Active and its last update Successful; @conf owned out. */
static enum err_code wait_ready(const struct stack_target *t, const char *name, cJSON **conf,
                                struct err *e)
{
    char *path = fn_path("/2015-03-31/functions", name, "");
    enum err_code rc = ERR_OK;
    long long until = stack_prov_deadline(t, WAIT_DEFAULT_MS);
    char within[64];
    do {
        cJSON *resp = NULL, *c;
        rc = call_json(t, "GET", path, NULL, NULL, &resp, NULL, 0, e);
        if (rc)
            break;
        c = cJSON_GetObjectItem(resp, "Configuration");
        if (strcmp(stack_prov_str(c, "State", "Active"), "Pending") != 0 &&
            strcmp(stack_prov_str(c, "LastUpdateStatus", "Successful"), "InProgress") != 0) {
            if (!strcmp(stack_prov_str(c, "State", "Active"), "Failed"))
                rc = err_set(e, ERR_INVALID, "%s: function %s failed: %s", t->region, name,
                             stack_prov_str(c, "StateReason", ""));
            if (conf && !rc)
                *conf = cJSON_Duplicate(c, 1);
            cJSON_Delete(resp);
            free(path);
            return rc;
        }
        cJSON_Delete(resp);
    } while (!stack_prov_waited(t, until, WAIT_MS, within, sizeof(within)));
    free(path);
    return rc ? rc : err_set(e, ERR_IO, "%s: function %s not Active %s", t->region, name, within);
}

/* add_code - the function's code into @o, as the API takes it in Code (create) and in
 * UpdateFunctionCode: ZipFile (base64) of `code`, or S3Bucket/S3Key of `s3Bucket`/`s3Key`,
 * a package a bucket of the region holds. */
static enum err_code add_code(const struct stack_target *t, const cJSON *in, cJSON *o,
                              struct err *e)
{
    const char *bucket = stack_prov_str(in, "s3Bucket", NULL),
               *key = stack_prov_str(in, "s3Key", NULL);
    char *zip = NULL;
    enum err_code rc;

    if (bucket || key) {
        if (cJSON_GetObjectItem(in, "code"))
            return err_set(e, ERR_INVALID,
                           "aws:lambda:Function takes its code from code or from s3Bucket and "
                           "s3Key, not both");
        if (!bucket || !key)
            return err_set(e, ERR_INVALID, "aws:lambda:Function needs both s3Bucket and s3Key");
        cJSON_AddStringToObject(o, "S3Bucket", bucket);
        cJSON_AddStringToObject(o, "S3Key", key);
        return ERR_OK;
    }
    if ((rc = zip_base64(t, cJSON_GetObjectItem(in, "code"), &zip, e)))
        return rc;
    cJSON_AddStringToObject(o, "ZipFile", zip);
    free(zip);
    return ERR_OK;
}

/* set_concurrency - the function's reserved concurrency as @in's
 * reservedConcurrentExecutions says (the provider's -1, or none: unreserved). */
static enum err_code set_concurrency(const struct stack_target *t, const char *name,
                                     const cJSON *in, struct err *e)
{
    const cJSON *v = cJSON_GetObjectItem(in, "reservedConcurrentExecutions");
    char *path = fn_path("/2017-10-31/functions", name, "/concurrency");
    enum err_code rc;

    if (cJSON_IsNumber(v) && v->valuedouble >= 0) {
        cJSON *body = cJSON_CreateObject();
        cJSON_AddNumberToObject(body, "ReservedConcurrentExecutions", v->valuedouble);
        rc = call_json(t, "PUT", path, NULL, body, NULL, NULL, 0, e);
        cJSON_Delete(body);
    } else {
        rc = call_json(t, "DELETE", path, NULL, NULL, NULL, NULL, 0, e);
    }
    free(path);
    return rc;
}

static enum err_code fn_create(const struct stack_target *t, const cJSON *in, bool adopt, char **id,
                               cJSON **out, struct err *e)
{
    const char *name = stack_prov_str(in, "name", NULL);
    cJSON *body, *conf = NULL;
    char code[96], *ver;
    enum err_code rc;

    *id = NULL;
    *out = NULL;
    if (!name || !stack_prov_str(in, "role", NULL))
        return err_set(e, ERR_INVALID, "aws:lambda:Function needs name and role");
    body = config_body(in, true);
    if ((rc = add_code(t, in, cJSON_AddObjectToObject(body, "Code"), e))) {
        cJSON_Delete(body);
        return rc;
    }
    cJSON_AddStringToObject(body, "PackageType", "Zip");
    if (cJSON_IsTrue(cJSON_GetObjectItem(in, "publish")))
        cJSON_AddTrueToObject(body, "Publish");
    if (cJSON_IsObject(cJSON_GetObjectItem(in, "tags")))
        cJSON_AddItemToObject(body, "Tags", cJSON_Duplicate(cJSON_GetObjectItem(in, "tags"), 1));
    rc = call_json(t, "POST", "/2015-03-31/functions", NULL, body, NULL, code, sizeof(code), e);
    cJSON_Delete(body);
    if (rc && !(adopt && !strcmp(code, "ResourceConflictException")))
        return rc;
    *id = xstrdup(name);
    if ((rc = wait_ready(t, name, &conf, e)))
        return rc;
    if (cJSON_GetObjectItem(in, "reservedConcurrentExecutions") &&
        (rc = set_concurrency(t, name, in, e))) {
        cJSON_Delete(conf);
        return rc;
    }
    ver = published(t, in, name, false, &rc, e);
    if (rc == ERR_OK)
        *out = fn_outputs(t, conf, name, ver);
    free(ver);
    cJSON_Delete(conf);
    return rc;
}

static bool differs(const cJSON *a, const cJSON *b, const char *key)
{
    const cJSON *x = cJSON_GetObjectItem(a, key), *y = cJSON_GetObjectItem(b, key);
    if (!x && !y)
        return false;
    return !x || !y || !cJSON_Compare(x, y, 1);
}

static enum err_code fn_update(const struct stack_target *t, const char *id, const cJSON *old_in,
                               const cJSON *new_in, const cJSON *old_out, cJSON **out,
                               struct err *e)
{
    static const char *const conf_props[] = {"role",        "runtime",       "handler",
                                             "description", "timeout",       "memorySize",
                                             "environment", "architectures", NULL};
    cJSON *conf = NULL;
    enum err_code rc;
    bool conf_changed = false;
    bool code_changed = differs(old_in, new_in, "code") || differs(old_in, new_in, "s3Bucket") ||
                        differs(old_in, new_in, "s3Key") ||
                        differs(old_in, new_in, "sourceCodeHash");
    char *ver;
    (void)old_out;

    *out = NULL;
    for (size_t i = 0; conf_props[i]; i++)
        conf_changed = conf_changed || differs(old_in, new_in, conf_props[i]);
    if (conf_changed) {
        char *path = fn_path("/2015-03-31/functions", id, "/configuration");
        cJSON *body = config_body(new_in, false);
        rc = call_json(t, "PUT", path, NULL, body, NULL, NULL, 0, e);
        cJSON_Delete(body);
        free(path);
        if (rc || (rc = wait_ready(t, id, NULL, e)))
            return rc;
    }
    if (code_changed) {
        char *path = fn_path("/2015-03-31/functions", id, "/code");
        cJSON *body = cJSON_CreateObject();
        if ((rc = add_code(t, new_in, body, e))) {
            cJSON_Delete(body);
            free(path);
            return rc;
        }
        rc = call_json(t, "PUT", path, NULL, body, NULL, NULL, 0, e);
        cJSON_Delete(body);
        free(path);
        if (rc)
            return rc;
    }
    if (differs(old_in, new_in, "reservedConcurrentExecutions") &&
        (rc = set_concurrency(t, id, new_in, e)))
        return rc;
    if ((rc = wait_ready(t, id, &conf, e)))
        return rc;
    ver = published(t, new_in, id,
                    conf_changed || code_changed || differs(old_in, new_in, "publish"), &rc, e);
    if (rc == ERR_OK)
        *out = fn_outputs(t, conf, id, ver);
    free(ver);
    cJSON_Delete(conf);
    return rc;
}

static enum err_code fn_delete(const struct stack_target *t, const char *id, const cJSON *in,
                               const cJSON *out, struct err *e)
{
    char *path = fn_path("/2015-03-31/functions", id, "");
    enum err_code rc = call_json(t, "DELETE", path, NULL, NULL, NULL, NULL, 0, e);
    (void)in;
    (void)out;
    free(path);
    return rc == ERR_NOTFOUND ? ERR_OK : rc;
}

static enum err_code fn_read(const struct stack_target *t, const char *id, const cJSON *in,
                             cJSON **out, bool *gone, struct err *e)
{
    char *path = fn_path("/2015-03-31/functions", id, "");
    cJSON *resp = NULL;
    enum err_code rc = call_json(t, "GET", path, NULL, NULL, &resp, NULL, 0, e);
    (void)in;
    free(path);
    *out = NULL;
    *gone = rc == ERR_NOTFOUND;
    if (rc == ERR_OK) {
        const cJSON *conf = cJSON_GetObjectItem(resp, "Configuration"), *v;
        cJSON *env;
        enum err_code vrc; /* without its versions, the function reads as $LATEST */
        char *ver = published(t, in, id, false, &vrc, e);
        *out = fn_outputs(t, conf, id, ver);
        free(ver);
        /* beyond the outputs: every input the provider manages, as the program names it */
        cJSON_AddStringToObject(*out, "runtime", stack_prov_str(conf, "Runtime", ""));
        cJSON_AddStringToObject(*out, "handler", stack_prov_str(conf, "Handler", ""));
        cJSON_AddStringToObject(*out, "role", stack_prov_str(conf, "Role", ""));
        cJSON_AddStringToObject(*out, "description", stack_prov_str(conf, "Description", ""));
        v = cJSON_GetObjectItem(conf, "Timeout");
        cJSON_AddNumberToObject(*out, "timeout", cJSON_IsNumber(v) ? v->valuedouble : 3);
        v = cJSON_GetObjectItem(conf, "MemorySize");
        cJSON_AddNumberToObject(*out, "memorySize", cJSON_IsNumber(v) ? v->valuedouble : 128);
        env = cJSON_AddObjectToObject(*out, "environment");
        v = cJSON_GetObjectItem(cJSON_GetObjectItem(conf, "Environment"), "Variables");
        cJSON_AddItemToObject(env, "variables",
                              cJSON_IsObject(v) ? cJSON_Duplicate(v, 1) : cJSON_CreateObject());
        v = cJSON_GetObjectItem(conf, "Architectures");
        if (cJSON_IsArray(v))
            cJSON_AddItemToObject(*out, "architectures", cJSON_Duplicate(v, 1));
        v = cJSON_GetObjectItem(resp, "Tags");
        cJSON_AddItemToObject(*out, "tags",
                              cJSON_IsObject(v) ? cJSON_Duplicate(v, 1) : cJSON_CreateObject());
        v = cJSON_GetObjectItem(cJSON_GetObjectItem(resp, "Concurrency"),
                                "ReservedConcurrentExecutions");
        cJSON_AddNumberToObject(*out, "reservedConcurrentExecutions",
                                cJSON_IsNumber(v) ? v->valuedouble : -1);
    }
    cJSON_Delete(resp);
    return *gone ? ERR_OK : rc;
}

static const char *const fn_replace[] = {"name", "packageType", NULL};
static const char *const fn_outs[] = {"id", "arn", "invokeArn", "qualifiedArn", "version", NULL};

static cJSON *fn_predict(const struct stack_target *t, const cJSON *in)
{
    cJSON *o, *conf = cJSON_CreateObject();
    char arn[400];
    snprintf(arn, sizeof(arn), "arn:aws:lambda:%s:%s:function:%s", t->region, t->account,
             stack_prov_str(in, "name", ""));
    cJSON_AddStringToObject(conf, "FunctionArn", arn);
    o = fn_outputs(t, conf, stack_prov_str(in, "name", ""), NULL);
    cJSON_Delete(conf);
    cJSON_DeleteItemFromObject(o, "qualifiedArn");
    cJSON_DeleteItemFromObject(o, "version");
    return o;
}

const struct stack_provider stack_provider_lambda_function = {
    .strings = (const char *const[]){"name", "handler", "runtime", "description", "role",
                                     "environment.variables.*", "architectures[]", NULL},
    .type = "aws:lambda:Function",
    /* the runtimes a region runs (FN_RUNTIMES in src/fn/fn_int.h) */
    .values = (const char *const[]){"runtime=nodejs18.x|nodejs20.x|nodejs22.x|provided|"
                                    "provided.al2|provided.al2023|python3.9|python3.10|"
                                    "python3.11|python3.12|python3.13|python3.14",
                                    NULL},
    .unsupported =
        (const char *const[]){"deadLetterConfig", "fileSystemConfig", "imageConfig", "imageUri",
                              "kmsKeyArn", "layers", "vpcConfig", "tracingConfig", "snapStart",
                              "s3ObjectVersion", "codeSigningConfigArn", "ephemeralStorage", NULL},
    .inputs = (const char *const[]){"architectures",
                                    "code",
                                    "codeSigningConfigArn",
                                    "deadLetterConfig",
                                    "description",
                                    "environment",
                                    "ephemeralStorage",
                                    "fileSystemConfig",
                                    "handler",
                                    "imageConfig",
                                    "imageUri",
                                    "kmsKeyArn",
                                    "layers",
                                    "loggingConfig",
                                    "memorySize",
                                    "name",
                                    "packageType",
                                    "publish",
                                    "replaceSecurityGroupsOnDestroy",
                                    "replacementSecurityGroupIds",
                                    "reservedConcurrentExecutions",
                                    "role",
                                    "runtime",
                                    "s3Bucket",
                                    "s3Key",
                                    "s3ObjectVersion",
                                    "skipDestroy",
                                    "snapStart",
                                    "sourceCodeHash",
                                    "tags",
                                    "timeout",
                                    "tracingConfig",
                                    "vpcConfig",
                                    NULL},
    .name_prop = "name",
    .name_max = 64,
    .replace_props = fn_replace,
    .outputs = fn_outs,
    .create = fn_create,
    .update = fn_update,
    .del = fn_delete,
    .read = fn_read,
    .predict = fn_predict,
};

/* ---- FunctionUrl ---- */

static cJSON *url_body(const cJSON *in)
{
    cJSON *b = cJSON_CreateObject();
    const cJSON *cors = cJSON_GetObjectItem(in, "cors");
    cJSON_AddStringToObject(b, "AuthType", stack_prov_str(in, "authorizationType", "NONE"));
    if (stack_prov_str(in, "invokeMode", NULL))
        cJSON_AddStringToObject(b, "InvokeMode", stack_prov_str(in, "invokeMode", NULL));
    if (cJSON_IsObject(cors)) {
        cJSON *c = cJSON_AddObjectToObject(b, "Cors");
        static const char *const map[][2] = {
            {"allowCredentials", "AllowCredentials"}, {"allowHeaders", "AllowHeaders"},
            {"allowMethods", "AllowMethods"},         {"allowOrigins", "AllowOrigins"},
            {"exposeHeaders", "ExposeHeaders"},       {"maxAge", "MaxAge"}};
        for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
            if (cJSON_GetObjectItem(cors, map[i][0]))
                cJSON_AddItemToObject(c, map[i][1],
                                      cJSON_Duplicate(cJSON_GetObjectItem(cors, map[i][0]), 1));
    }
    return b;
}

static char *url_query(const cJSON *in)
{
    const char *q = stack_prov_str(in, "qualifier", NULL);
    char *enc, *s;
    if (!q)
        return NULL;
    enc = stack_prov_pct(q);
    s = xmalloc(strlen(enc) + 12);
    sprintf(s, "Qualifier=%s", enc);
    free(enc);
    return s;
}

static cJSON *url_outputs(const cJSON *resp, const char *name)
{
    cJSON *o = cJSON_CreateObject();
    const char *u = stack_prov_str(resp, "FunctionUrl", "");
    const char *host = strstr(u, "://");
    char id[64] = "";
    cJSON_AddStringToObject(o, "id", name);
    cJSON_AddStringToObject(o, "functionUrl", u);
    cJSON_AddStringToObject(o, "functionArn", stack_prov_str(resp, "FunctionArn", ""));
    if (strstr(u, "/lambda-url/")) /* Tandem's path-style URLs: .../lambda-url/ID/ */
        snprintf(id, sizeof(id), "%.*s", (int)strcspn(strstr(u, "/lambda-url/") + 12, "/"),
                 strstr(u, "/lambda-url/") + 12);
    else if (host) /* the url id is the first label of the host, as on AWS */
        snprintf(id, sizeof(id), "%.*s", (int)strcspn(host + 3, ".:/"), host + 3);
    cJSON_AddStringToObject(o, "urlId", id);
    return o;
}

static enum err_code url_put(const struct stack_target *t, const cJSON *in, const char *method,
                             bool adopt, char **id, cJSON **out, struct err *e)
{
    const char *fn = stack_prov_str(in, "functionName", NULL);
    char *path, *query, code[96];
    cJSON *body, *resp = NULL;
    enum err_code rc;

    *id = NULL;
    *out = NULL;
    if (!fn)
        return err_set(e, ERR_INVALID, "aws:lambda:FunctionUrl needs functionName");
    path = fn_path("/2021-10-31/functions", fn, "/url");
    query = url_query(in);
    body = url_body(in);
    rc = call_json(t, method, path, query, body, &resp, code, sizeof(code), e);
    if (rc && adopt && !strcmp(code, "ResourceConflictException")) {
        cJSON_Delete(resp);
        resp = NULL;
        rc = call_json(t, "PUT", path, query, body, &resp, NULL, 0, e);
    }
    cJSON_Delete(body);
    free(path);
    free(query);
    if (rc == ERR_OK) {
        *id = xstrdup(fn);
        *out = url_outputs(resp, fn);
    }
    cJSON_Delete(resp);
    return rc;
}

static enum err_code url_create(const struct stack_target *t, const cJSON *in, bool adopt,
                                char **id, cJSON **out, struct err *e)
{
    return url_put(t, in, "POST", adopt, id, out, e);
}

static enum err_code url_update(const struct stack_target *t, const char *id, const cJSON *old_in,
                                const cJSON *new_in, const cJSON *old_out, cJSON **out,
                                struct err *e)
{
    char *nid = NULL;
    enum err_code rc = url_put(t, new_in, "PUT", false, &nid, out, e);
    (void)id;
    (void)old_in;
    (void)old_out;
    free(nid);
    return rc;
}

static enum err_code url_delete(const struct stack_target *t, const char *id, const cJSON *in,
                                const cJSON *out, struct err *e)
{
    char *path = fn_path("/2021-10-31/functions", id, "/url"), *query = url_query(in);
    enum err_code rc = call_json(t, "DELETE", path, query, NULL, NULL, NULL, 0, e);
    (void)out;
    free(path);
    free(query);
    return rc == ERR_NOTFOUND ? ERR_OK : rc;
}

static enum err_code url_read(const struct stack_target *t, const char *id, const cJSON *in,
                              cJSON **out, bool *gone, struct err *e)
{
    char *path = fn_path("/2021-10-31/functions", id, "/url"), *query = url_query(in);
    cJSON *resp = NULL;
    enum err_code rc = call_json(t, "GET", path, query, NULL, &resp, NULL, 0, e);
    free(path);
    free(query);
    *out = NULL;
    *gone = rc == ERR_NOTFOUND;
    if (rc == ERR_OK) {
        const cJSON *c;
        cJSON *cors;
        *out = url_outputs(resp, id);
        cJSON_AddStringToObject(*out, "authorizationType",
                                stack_prov_str(resp, "AuthType", "NONE"));
        cJSON_AddStringToObject(*out, "invokeMode", stack_prov_str(resp, "InvokeMode", "BUFFERED"));
        cors = cJSON_AddObjectToObject(*out, "cors"); /* AllowOrigins as allowOrigins */
        cJSON_ArrayForEach(c, cJSON_GetObjectItem(resp, "Cors"))
        {
            char key[64];
            snprintf(key, sizeof(key), "%c%s", (char)tolower((unsigned char)c->string[0]),
                     c->string + 1);
            cJSON_AddItemToObject(cors, key, cJSON_Duplicate(c, 1));
        }
    }
    cJSON_Delete(resp);
    return *gone ? ERR_OK : rc;
}

static const char *const url_replace[] = {"functionName", "qualifier", NULL};
static const char *const url_outs[] = {"id", "functionUrl", "functionArn", "urlId", NULL};

static cJSON *url_predict(const struct stack_target *t, const cJSON *in)
{
    cJSON *o = cJSON_CreateObject();
    (void)t;
    cJSON_AddStringToObject(o, "id", stack_prov_str(in, "functionName", ""));
    return o;
}

const struct stack_provider stack_provider_lambda_function_url = {
    .type = "aws:lambda:FunctionUrl",
    .inputs = (const char *const[]){"authorizationType", "cors", "functionName", "invokeMode",
                                    "qualifier", NULL},
    .replace_props = url_replace,
    .outputs = url_outs,
    .create = url_create,
    .update = url_update,
    .del = url_delete,
    .read = url_read,
    .predict = url_predict,
};

/* ---- Permission: every property forces a new statement ---- */

static enum err_code perm_create(const struct stack_target *t, const cJSON *in, bool adopt,
                                 char **id, cJSON **out, struct err *e)
{
    const char *fn = stack_prov_str(in, "function", NULL);
    const char *sid = stack_prov_str(in, "statementId", NULL);
    static const char *const map[][2] = {{"action", "Action"},
                                         {"principal", "Principal"},
                                         {"sourceArn", "SourceArn"},
                                         {"sourceAccount", "SourceAccount"},
                                         {"eventSourceToken", "EventSourceToken"},
                                         {"functionUrlAuthType", "FunctionUrlAuthType"},
                                         {"principalOrgId", "PrincipalOrgID"}};
    cJSON *body;
    char *path, *query, code[96];
    enum err_code rc;

    *id = NULL;
    *out = NULL;
    if (!fn || !sid || !stack_prov_str(in, "action", NULL) ||
        !stack_prov_str(in, "principal", NULL))
        return err_set(e, ERR_INVALID,
                       "aws:lambda:Permission needs action, function and principal");
    body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "StatementId", sid);
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (stack_prov_str(in, map[i][0], NULL))
            cJSON_AddStringToObject(body, map[i][1], stack_prov_str(in, map[i][0], NULL));
    path = fn_path("/2015-03-31/functions", fn, "/policy");
    query = url_query(in);
    rc = call_json(t, "POST", path, query, body, NULL, code, sizeof(code), e);
    cJSON_Delete(body);
    free(path);
    free(query);
    if (rc && !(adopt && !strcmp(code, "ResourceConflictException")))
        return rc;
    *id = xstrdup(sid);
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "id", sid);
    return ERR_OK;
}

static enum err_code perm_update(const struct stack_target *t, const char *id, const cJSON *old_in,
                                 const cJSON *new_in, const cJSON *old_out, cJSON **out,
                                 struct err *e)
{
    (void)t;
    (void)id;
    (void)old_in;
    (void)new_in;
    (void)e;
    *out = cJSON_Duplicate(old_out, 1);
    return ERR_OK;
}

static enum err_code perm_delete(const struct stack_target *t, const char *id, const cJSON *in,
                                 const cJSON *out, struct err *e)
{
    char *sid = stack_prov_pct(id), *suffix = xmalloc(strlen(sid) + 16), *path;
    char *query = url_query(in);
    enum err_code rc;
    (void)out;
    sprintf(suffix, "/policy/%s", sid);
    path = fn_path("/2015-03-31/functions", stack_prov_str(in, "function", ""), suffix);
    rc = call_json(t, "DELETE", path, query, NULL, NULL, NULL, 0, e);
    free(query);
    free(sid);
    free(suffix);
    free(path);
    return rc == ERR_NOTFOUND ? ERR_OK : rc;
}

static enum err_code perm_read(const struct stack_target *t, const char *id, const cJSON *in,
                               cJSON **out, bool *gone, struct err *e)
{
    char *path = fn_path("/2015-03-31/functions", stack_prov_str(in, "function", ""), "/policy");
    char *query = url_query(in);
    cJSON *resp = NULL;
    enum err_code rc = call_json(t, "GET", path, query, NULL, &resp, NULL, 0, e);
    cJSON *doc = cJSON_Parse(stack_prov_str(resp, "Policy", "{}"));
    const cJSON *st = NULL, *x;
    free(path);
    free(query);
    cJSON_ArrayForEach(x, cJSON_GetObjectItem(doc, "Statement"))
    {
        if (!strcmp(stack_prov_str(x, "Sid", ""), id))
            st = x;
    }
    *out = NULL;
    *gone = rc == ERR_NOTFOUND || (rc == ERR_OK && !st);
    if (rc == ERR_OK && !*gone) {
        /* the statement as the program writes the permission */
        const cJSON *pr = cJSON_GetObjectItem(st, "Principal"),
                    *c = cJSON_GetObjectItem(st, "Condition");
        const char *who = cJSON_IsString(pr)
                              ? pr->valuestring
                              : stack_prov_str(pr, "Service", stack_prov_str(pr, "AWS", ""));
        const char *fua = stack_prov_str(cJSON_GetObjectItem(c, "StringEquals"),
                                         "lambda:FunctionUrlAuthType", NULL);
        const char *src = stack_prov_str(cJSON_GetObjectItem(c, "ArnLike"), "AWS:SourceArn", NULL);
        const char *acct =
            stack_prov_str(cJSON_GetObjectItem(c, "StringEquals"), "AWS:SourceAccount", NULL);
        *out = cJSON_CreateObject();
        cJSON_AddStringToObject(*out, "id", id);
        cJSON_AddStringToObject(*out, "statementId", id);
        cJSON_AddStringToObject(*out, "action", stack_prov_str(st, "Action", ""));
        cJSON_AddStringToObject(*out, "principal", who);
        if (fua)
            cJSON_AddStringToObject(*out, "functionUrlAuthType", fua);
        if (src)
            cJSON_AddStringToObject(*out, "sourceArn", src);
        if (acct)
            cJSON_AddStringToObject(*out, "sourceAccount", acct);
    }
    cJSON_Delete(doc);
    cJSON_Delete(resp);
    return *gone ? ERR_OK : rc;
}

static const char *const perm_replace[] = {"action",
                                           "function",
                                           "principal",
                                           "sourceArn",
                                           "sourceAccount",
                                           "statementId",
                                           "functionUrlAuthType",
                                           "qualifier",
                                           NULL};
static const char *const id_only[] = {"id", NULL};

static cJSON *perm_predict(const struct stack_target *t, const cJSON *in)
{
    cJSON *o = cJSON_CreateObject();
    (void)t;
    cJSON_AddStringToObject(o, "id", stack_prov_str(in, "statementId", ""));
    return o;
}

const struct stack_provider stack_provider_lambda_permission = {
    .type = "aws:lambda:Permission",
    .inputs = (const char *const[]){"action", "eventSourceToken", "function", "functionUrlAuthType",
                                    "principal", "principalOrgId", "qualifier", "sourceAccount",
                                    "sourceArn", "statementId", "statementIdPrefix", NULL},
    .name_prop = "statementId",
    .name_max = 100,
    .replace_props = perm_replace,
    .outputs = id_only,
    .create = perm_create,
    .update = perm_update,
    .del = perm_delete,
    .read = perm_read,
    .predict = perm_predict,
};

/* ---- Alias: a name for a version, with weighted routing to a second one ---- */

static char *alias_path(const cJSON *in, const char *name)
{
    char *enc = stack_prov_pct(name ? name : ""), *suffix = xmalloc(strlen(enc) + 12), *p;
    sprintf(suffix, name ? "/aliases/%s" : "/aliases", enc);
    p = fn_path("/2015-03-31/functions", stack_prov_str(in, "functionName", ""), suffix);
    free(enc);
    free(suffix);
    return p;
}

static cJSON *alias_body(const cJSON *in, bool create)
{
    cJSON *b = cJSON_CreateObject(), *rc;
    const cJSON *w =
        cJSON_GetObjectItem(cJSON_GetObjectItem(in, "routingConfig"), "additionalVersionWeights");
    if (create)
        cJSON_AddStringToObject(b, "Name", stack_prov_str(in, "name", ""));
    cJSON_AddStringToObject(b, "FunctionVersion", stack_prov_str(in, "functionVersion", ""));
    cJSON_AddStringToObject(b, "Description", stack_prov_str(in, "description", ""));
    rc = cJSON_AddObjectToObject(b, "RoutingConfig"); /* empty: no routing */
    if (cJSON_IsObject(w))
        cJSON_AddItemToObject(rc, "AdditionalVersionWeights", cJSON_Duplicate(w, 1));
    return b;
}

/* alias_outputs - the outputs of an alias from GetAlias's answer @a */
static cJSON *alias_outputs(const struct stack_target *t, const cJSON *a)
{
    cJSON *o = cJSON_CreateObject();
    const char *arn = stack_prov_str(a, "AliasArn", "");
    char invoke[700];
    snprintf(invoke, sizeof(invoke),
             "arn:aws:apigateway:%s:lambda:path/2015-03-31/functions/%s/invocations", t->region,
             arn);
    cJSON_AddStringToObject(o, "id", arn);
    cJSON_AddStringToObject(o, "arn", arn);
    cJSON_AddStringToObject(o, "invokeArn", invoke);
    return o;
}

static enum err_code alias_create(const struct stack_target *t, const cJSON *in, bool adopt,
                                  char **id, cJSON **out, struct err *e)
{
    char *path, code[96];
    cJSON *body, *resp = NULL;
    enum err_code rc;

    *id = NULL;
    *out = NULL;
    if (!stack_prov_str(in, "name", NULL) || !stack_prov_str(in, "functionName", NULL) ||
        !stack_prov_str(in, "functionVersion", NULL))
        return err_set(e, ERR_INVALID,
                       "aws:lambda:Alias needs name, functionName and functionVersion");
    path = alias_path(in, NULL);
    body = alias_body(in, true);
    rc = call_json(t, "POST", path, NULL, body, &resp, code, sizeof(code), e);
    cJSON_Delete(body);
    free(path);
    if (rc && adopt && !strcmp(code, "ResourceConflictException")) {
        path = alias_path(in, stack_prov_str(in, "name", ""));
        rc = call_json(t, "GET", path, NULL, NULL, &resp, NULL, 0, e);
        free(path);
    }
    if (rc == ERR_OK) {
        *out = alias_outputs(t, resp);
        *id = xstrdup(stack_prov_str(*out, "id", ""));
    }
    cJSON_Delete(resp);
    return rc;
}

static enum err_code alias_update(const struct stack_target *t, const char *id, const cJSON *old_in,
                                  const cJSON *new_in, const cJSON *old_out, cJSON **out,
                                  struct err *e)
{
    char *path = alias_path(new_in, stack_prov_str(new_in, "name", ""));
    cJSON *body = alias_body(new_in, false), *resp = NULL;
    enum err_code rc = call_json(t, "PUT", path, NULL, body, &resp, NULL, 0, e);
    (void)id;
    (void)old_in;
    (void)old_out;
    cJSON_Delete(body);
    free(path);
    *out = rc == ERR_OK ? alias_outputs(t, resp) : NULL;
    cJSON_Delete(resp);
    return rc;
}

static enum err_code alias_delete(const struct stack_target *t, const char *id, const cJSON *in,
                                  const cJSON *out, struct err *e)
{
    char *path = alias_path(in, stack_prov_str(in, "name", ""));
    enum err_code rc = call_json(t, "DELETE", path, NULL, NULL, NULL, NULL, 0, e);
    (void)id;
    (void)out;
    free(path);
    return rc == ERR_NOTFOUND ? ERR_OK : rc;
}

static enum err_code alias_read(const struct stack_target *t, const char *id, const cJSON *in,
                                cJSON **out, bool *gone, struct err *e)
{
    char *path = alias_path(in, stack_prov_str(in, "name", ""));
    cJSON *resp = NULL;
    enum err_code rc = call_json(t, "GET", path, NULL, NULL, &resp, NULL, 0, e);
    (void)id;
    free(path);
    *out = NULL;
    *gone = rc == ERR_NOTFOUND;
    if (rc == ERR_OK) {
        const cJSON *w = cJSON_GetObjectItem(cJSON_GetObjectItem(resp, "RoutingConfig"),
                                             "AdditionalVersionWeights");
        *out = alias_outputs(t, resp);
        cJSON_AddStringToObject(*out, "name", stack_prov_str(resp, "Name", ""));
        cJSON_AddStringToObject(*out, "functionVersion",
                                stack_prov_str(resp, "FunctionVersion", ""));
        cJSON_AddStringToObject(*out, "description", stack_prov_str(resp, "Description", ""));
        if (cJSON_IsObject(w))
            cJSON_AddItemToObject(cJSON_AddObjectToObject(*out, "routingConfig"),
                                  "additionalVersionWeights", cJSON_Duplicate(w, 1));
    }
    cJSON_Delete(resp);
    return *gone ? ERR_OK : rc;
}

static const char *const alias_replace[] = {"name", "functionName", NULL};
static const char *const alias_outs[] = {"id", "arn", "invokeArn", NULL};

static cJSON *alias_predict(const struct stack_target *t, const cJSON *in)
{
    cJSON *a = cJSON_CreateObject(), *o;
    char arn[600];
    snprintf(arn, sizeof(arn), "arn:aws:lambda:%s:%s:function:%s:%s", t->region, t->account,
             stack_prov_str(in, "functionName", ""), stack_prov_str(in, "name", ""));
    cJSON_AddStringToObject(a, "AliasArn", arn);
    o = alias_outputs(t, a);
    cJSON_Delete(a);
    return o;
}

const struct stack_provider stack_provider_lambda_alias = {
    .type = "aws:lambda:Alias",
    .inputs = (const char *const[]){"description", "functionName", "functionVersion", "name",
                                    "routingConfig", NULL},
    .name_prop = "name",
    .name_max = 128,
    .replace_props = alias_replace,
    .outputs = alias_outs,
    .create = alias_create,
    .update = alias_update,
    .del = alias_delete,
    .read = alias_read,
    .predict = alias_predict,
};

/* ---- FunctionEventInvokeConfig: retries, event age and destinations of Event invocations ---- */

static char *eic_query(const cJSON *in)
{
    const char *q = stack_prov_str(in, "qualifier", NULL);
    char *enc, *out;

    if (!q || !*q)
        return NULL;
    enc = stack_prov_pct(q);
    out = xmalloc(strlen(enc) + 11);
    sprintf(out, "Qualifier=%s", enc);
    free(enc);
    return out;
}

/* eic_body - PutFunctionEventInvokeConfig's request: the whole configuration */
static cJSON *eic_body(const cJSON *in)
{
    cJSON *b = cJSON_CreateObject(), *dc;
    const cJSON *retries = cJSON_GetObjectItem(in, "maximumRetryAttempts");
    const cJSON *age = cJSON_GetObjectItem(in, "maximumEventAgeInSeconds");
    const cJSON *dst = cJSON_GetObjectItem(in, "destinationConfig");
    static const char *const sides[][2] = {{"onSuccess", "OnSuccess"}, {"onFailure", "OnFailure"}};

    if (cJSON_IsNumber(retries))
        cJSON_AddNumberToObject(b, "MaximumRetryAttempts", retries->valuedouble);
    if (cJSON_IsNumber(age))
        cJSON_AddNumberToObject(b, "MaximumEventAgeInSeconds", age->valuedouble);
    dc = cJSON_AddObjectToObject(b, "DestinationConfig");
    for (size_t i = 0; i < 2; i++) {
        const char *d = stack_prov_str(cJSON_GetObjectItem(dst, sides[i][0]), "destination", NULL);

        if (d)
            cJSON_AddStringToObject(cJSON_AddObjectToObject(dc, sides[i][1]), "Destination", d);
    }
    return b;
}

/* eic_id - the provider's id: FUNCTION or FUNCTION:QUALIFIER */
static char *eic_id(const cJSON *in)
{
    const char *fn = stack_prov_str(in, "functionName", ""),
               *q = stack_prov_str(in, "qualifier", "");
    char *id = xmalloc(strlen(fn) + strlen(q) + 2);

    sprintf(id, "%s%s%s", fn, *q ? ":" : "", q);
    return id;
}

static enum err_code eic_put(const struct stack_target *t, const cJSON *in, struct err *e)
{
    char *path = fn_path("/2019-09-25/functions", stack_prov_str(in, "functionName", ""),
                         "/event-invoke-config");
    char *query = eic_query(in);
    cJSON *body = eic_body(in);
    enum err_code rc = call_json(t, "PUT", path, query, body, NULL, NULL, 0, e);

    cJSON_Delete(body);
    free(query);
    free(path);
    return rc;
}

static enum err_code eic_create(const struct stack_target *t, const cJSON *in, bool adopt,
                                char **id, cJSON **out, struct err *e)
{
    enum err_code rc;

    (void)adopt; /* a Put replaces what an interrupted create left */
    *id = NULL;
    *out = NULL;
    if (!stack_prov_str(in, "functionName", NULL))
        return err_set(e, ERR_INVALID, "aws:lambda:FunctionEventInvokeConfig needs functionName");
    if ((rc = eic_put(t, in, e)))
        return rc;
    *id = eic_id(in);
    *out = cJSON_CreateObject();
    cJSON_AddStringToObject(*out, "id", *id);
    return ERR_OK;
}

static enum err_code eic_update(const struct stack_target *t, const char *id, const cJSON *old_in,
                                const cJSON *new_in, const cJSON *old_out, cJSON **out,
                                struct err *e)
{
    enum err_code rc = eic_put(t, new_in, e);

    (void)old_in;
    (void)old_out;
    *out = NULL;
    if (rc == ERR_OK) {
        *out = cJSON_CreateObject();
        cJSON_AddStringToObject(*out, "id", id);
    }
    return rc;
}

static enum err_code eic_call(const struct stack_target *t, const char *method, const cJSON *in,
                              cJSON **resp, struct err *e)
{
    char *path = fn_path("/2019-09-25/functions", stack_prov_str(in, "functionName", ""),
                         "/event-invoke-config");
    char *query = eic_query(in);
    enum err_code rc = call_json(t, method, path, query, NULL, resp, NULL, 0, e);

    free(query);
    free(path);
    return rc;
}

static enum err_code eic_delete(const struct stack_target *t, const char *id, const cJSON *in,
                                const cJSON *out, struct err *e)
{
    enum err_code rc = eic_call(t, "DELETE", in, NULL, e);

    (void)id;
    (void)out;
    return rc == ERR_NOTFOUND ? ERR_OK : rc;
}

static enum err_code eic_read(const struct stack_target *t, const char *id, const cJSON *in,
                              cJSON **out, bool *gone, struct err *e)
{
    cJSON *resp = NULL;
    enum err_code rc = eic_call(t, "GET", in, &resp, e);

    *out = NULL;
    *gone = rc == ERR_NOTFOUND;
    if (rc == ERR_OK) {
        const cJSON *v, *dc = cJSON_GetObjectItem(resp, "DestinationConfig");
        static const char *const sides[][2] = {{"onSuccess", "OnSuccess"},
                                               {"onFailure", "OnFailure"}};
        cJSON *d = NULL;

        *out = cJSON_CreateObject();
        cJSON_AddStringToObject(*out, "id", id);
        if (cJSON_IsNumber(v = cJSON_GetObjectItem(resp, "MaximumRetryAttempts")))
            cJSON_AddNumberToObject(*out, "maximumRetryAttempts", v->valuedouble);
        if (cJSON_IsNumber(v = cJSON_GetObjectItem(resp, "MaximumEventAgeInSeconds")))
            cJSON_AddNumberToObject(*out, "maximumEventAgeInSeconds", v->valuedouble);
        for (size_t i = 0; i < 2; i++) {
            const char *dst =
                stack_prov_str(cJSON_GetObjectItem(dc, sides[i][1]), "Destination", NULL);

            if (!dst)
                continue;
            if (!d)
                d = cJSON_AddObjectToObject(*out, "destinationConfig");
            cJSON_AddStringToObject(cJSON_AddObjectToObject(d, sides[i][0]), "destination", dst);
        }
    }
    cJSON_Delete(resp);
    return *gone ? ERR_OK : rc;
}

static cJSON *eic_predict(const struct stack_target *t, const cJSON *in)
{
    cJSON *o = cJSON_CreateObject();
    char *id = eic_id(in);

    (void)t;
    cJSON_AddStringToObject(o, "id", id);
    free(id);
    return o;
}

const struct stack_provider stack_provider_lambda_event_invoke_config = {
    .type = "aws:lambda:FunctionEventInvokeConfig",
    .inputs = (const char *const[]){"destinationConfig", "functionName", "maximumEventAgeInSeconds",
                                    "maximumRetryAttempts", "qualifier", NULL},
    .replace_props = (const char *const[]){"functionName", "qualifier", NULL},
    .outputs = id_only,
    .create = eic_create,
    .update = eic_update,
    .del = eic_delete,
    .read = eic_read,
    .predict = eic_predict,
};
