/* stack_provider.c - the table of resource providers. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "stack_provider.h"

extern const struct stack_provider stack_provider_dynamodb_table;
extern const struct stack_provider stack_provider_dynamodb_replica;
extern const struct stack_provider stack_provider_s3_bucket;
extern const struct stack_provider stack_provider_s3_versioning;
extern const struct stack_provider stack_provider_s3_replication;
extern const struct stack_provider stack_provider_iam_role;
extern const struct stack_provider stack_provider_iam_role_policy;
extern const struct stack_provider stack_provider_iam_role_policy_attachment;
extern const struct stack_provider stack_provider_lambda_function;
extern const struct stack_provider stack_provider_lambda_function_url;
extern const struct stack_provider stack_provider_lambda_permission;
extern const struct stack_provider stack_provider_lambda_alias;
extern const struct stack_provider stack_provider_lambda_esm;
extern const struct stack_provider stack_provider_lambda_event_invoke_config;
extern const struct stack_provider stack_provider_dynamodb_item;
extern const struct stack_provider stack_provider_s3_object;
extern const struct stack_provider stack_provider_s3_object_v2;
extern const struct stack_provider stack_provider_s3_public_access_block;
extern const struct stack_provider stack_provider_s3_ownership_controls;
extern const struct stack_provider stack_provider_s3_lifecycle_v2;
extern const struct stack_provider stack_provider_s3_bucket_policy;
extern const struct stack_provider stack_provider_s3_cors;
extern const struct stack_provider stack_provider_s3_website;
extern const struct stack_provider stack_provider_s3_notification;
extern const struct stack_provider stack_provider_s3_encryption;
extern const struct stack_provider stack_provider_s3_acl;
extern const struct stack_provider stack_provider_iam_user;
extern const struct stack_provider stack_provider_iam_user_policy;
extern const struct stack_provider stack_provider_iam_user_policy_attachment;
extern const struct stack_provider stack_provider_iam_access_key;
extern const struct stack_provider stack_provider_iam_policy;
extern const struct stack_provider stack_provider_iam_policy_attachment;
extern const struct stack_provider stack_provider_iam_group;
extern const struct stack_provider stack_provider_iam_group_policy;
extern const struct stack_provider stack_provider_iam_group_policy_attachment;
extern const struct stack_provider stack_provider_iam_group_membership;
extern const struct stack_provider stack_provider_iam_user_group_membership;
extern const struct stack_provider stack_provider_random_pet;
extern const struct stack_provider stack_provider_random_string;
extern const struct stack_provider stack_provider_random_password;
extern const struct stack_provider stack_provider_random_id;
extern const struct stack_provider stack_provider_random_integer;

static const struct stack_provider *const providers[] = {
    &stack_provider_dynamodb_table,
    &stack_provider_dynamodb_replica,
    &stack_provider_s3_bucket,
    &stack_provider_s3_versioning,
    &stack_provider_s3_replication,
    &stack_provider_iam_role,
    &stack_provider_iam_role_policy,
    &stack_provider_iam_role_policy_attachment,
    &stack_provider_lambda_function,
    &stack_provider_lambda_function_url,
    &stack_provider_lambda_permission,
    &stack_provider_lambda_alias,
    &stack_provider_lambda_esm,
    &stack_provider_lambda_event_invoke_config,
    &stack_provider_dynamodb_item,
    &stack_provider_s3_object,
    &stack_provider_s3_object_v2,
    &stack_provider_s3_public_access_block,
    &stack_provider_s3_ownership_controls,
    &stack_provider_s3_lifecycle_v2,
    &stack_provider_s3_bucket_policy,
    &stack_provider_s3_cors,
    &stack_provider_s3_website,
    &stack_provider_s3_notification,
    &stack_provider_s3_encryption,
    &stack_provider_s3_acl,
    &stack_provider_iam_user,
    &stack_provider_iam_user_policy,
    &stack_provider_iam_user_policy_attachment,
    &stack_provider_iam_access_key,
    &stack_provider_iam_policy,
    &stack_provider_iam_policy_attachment,
    &stack_provider_iam_group,
    &stack_provider_iam_group_policy,
    &stack_provider_iam_group_policy_attachment,
    &stack_provider_iam_group_membership,
    &stack_provider_iam_user_group_membership,
    &stack_provider_random_pet,
    &stack_provider_random_string,
    &stack_provider_random_password,
    &stack_provider_random_id,
    &stack_provider_random_integer,
};

/* Pulumi's long tokens (aws:dynamodb/table:Table) name the same types. */
static void short_token(const char *type, char *out, size_t cap)
{
    const char *c1 = strchr(type, ':'), *slash = c1 ? strchr(c1, '/') : NULL;
    const char *c2 = slash ? strchr(slash, ':') : NULL;
    if (slash && c2 && (size_t)(slash - type) + strlen(c2) < cap) {
        memcpy(out, type, (size_t)(slash - type));
        strcpy(out + (slash - type), c2);
    } else {
        snprintf(out, cap, "%s", type);
    }
    /* random:index/randomPet:RandomPet, aws:index:... */
    if (!strncmp(out, "random:index:", 13) || !strncmp(out, "aws:index:", 10)) {
        char *c = strchr(out, ':');
        memmove(c + 1, c + 7, strlen(c + 7) + 1);
    }
}

static const char *const aliases[][2] = {
    {"aws:s3:BucketV2", "aws:s3:Bucket"},
    {"aws:s3:BucketVersioning", "aws:s3:BucketVersioningV2"},
    {"aws:s3:BucketAcl", "aws:s3:BucketAclV2"},
    {"aws:s3:BucketLifecycleConfiguration", "aws:s3:BucketLifecycleConfigurationV2"},
    {"aws:s3:BucketCorsConfiguration", "aws:s3:BucketCorsConfigurationV2"},
    {"aws:s3:BucketWebsiteConfiguration", "aws:s3:BucketWebsiteConfigurationV2"},
    {"aws:s3:BucketServerSideEncryptionConfiguration",
     "aws:s3:BucketServerSideEncryptionConfigurationV2"},
};

const struct stack_provider *stack_provider_find(const char *type)
{
    char t[128];
    short_token(type, t, sizeof(t));
    for (size_t i = 0; i < sizeof(providers) / sizeof(providers[0]); i++)
        if (!strcmp(providers[i]->type, t))
            return providers[i];
    /* the provider's other names of the same resources: v7 dropped the V2 suffixes (the V2
     * names stay as deprecated aliases), v6 had BucketV2 beside the legacy Bucket */
    for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
        if (!strcmp(t, aliases[i][0]))
            return stack_provider_find(aliases[i][1]);
    return NULL;
}

/* Types of the provider's schema that no region runs, with why and what to write instead:
 * refused by name rather than as an unknown type. */
static const struct {
    const char *type;
    const char *why;
} refused[] = {
    {"aws:dynamodb:GlobalTable",
     "its CreateGlobalTable (version 2017.11.29) is no longer served by DynamoDB or the "
     "regions; give aws:dynamodb:Table replicas: [{regionName}], or an "
     "aws:dynamodb:TableReplica per replica (version 2019.11.21)"},
};

const char *stack_provider_refused(const char *type)
{
    char t[128];
    short_token(type, t, sizeof(t));
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        if (!strcmp(refused[i].type, t))
            return refused[i].why;
    return NULL;
}

/* Levenshtein distance, case-insensitive, capped at 64 characters */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a) > 64 ? 64 : strlen(a), lb = strlen(b) > 64 ? 64 : strlen(b);
    size_t prev[65], cur[65];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
            size_t best = prev[j] + 1 < cur[j - 1] + 1 ? prev[j] + 1 : cur[j - 1] + 1;
            cur[j] = prev[j - 1] + cost < best ? prev[j - 1] + cost : best;
        }
        memcpy(prev, cur, sizeof(prev));
    }
    return prev[lb];
}

const char *stack_nearest(const char *w, const char *const *list)
{
    const char *best = NULL;
    size_t bd = (size_t)-1, limit = strlen(w) / 3 + 2;
    for (size_t i = 0; list && list[i]; i++) {
        size_t d = distance(w, list[i]);
        if (d < bd) {
            bd = d;
            best = list[i];
        }
    }
    return bd <= limit ? best : NULL;
}

const char *stack_provider_nearest_type(const char *type)
{
    static const char *names[sizeof(providers) / sizeof(providers[0]) + 3];
    char t[128];
    size_t n = 0;
    for (size_t i = 0; i < sizeof(providers) / sizeof(providers[0]); i++)
        names[n++] = providers[i]->type;
    names[n++] = "aws:s3:BucketV2";
    names[n++] = "pulumi:providers:aws";
    names[n] = NULL;
    short_token(type, t, sizeof(t));
    return stack_nearest(t, names);
}

/* A number or boolean as the string the provider makes of it. */
static void to_string(cJSON *parent, cJSON *c)
{
    char num[64];
    if (cJSON_IsNumber(c)) {
        if (c->valuedouble == (double)(long long)c->valuedouble)
            snprintf(num, sizeof(num), "%lld", (long long)c->valuedouble);
        else
            snprintf(num, sizeof(num), "%.15g", c->valuedouble);
    } else if (cJSON_IsBool(c)) {
        snprintf(num, sizeof(num), "%s", cJSON_IsTrue(c) ? "true" : "false");
    } else {
        return;
    }
    if (c->string)
        cJSON_ReplaceItemInObjectCaseSensitive(parent, c->string, cJSON_CreateString(num));
    else
        cJSON_ReplaceItemViaPointer(parent, c, cJSON_CreateString(num));
}

/* Coerce what @path names under @parent's member @c: "a.b" a member, "a.*" every value of a
 * map, "a[]" every element of a list, "a[].b" a member of each. */
static void coerce_path(cJSON *parent, cJSON *c, const char *path)
{
    cJSON *x, *next;
    if (!c)
        return;
    if (!*path) {
        to_string(parent, c);
    } else if (*path == '.' && path[1] == '*') {
        for (x = cJSON_IsObject(c) ? c->child : NULL; x; x = next) {
            next = x->next;
            coerce_path(c, x, path + 2);
        }
    } else if (!strncmp(path, "[]", 2)) {
        for (x = cJSON_IsArray(c) ? c->child : NULL; x; x = next) {
            next = x->next;
            coerce_path(c, x, path + 2);
        }
    } else if (*path == '.') {
        char key[64];
        size_t n = strcspn(path + 1, ".[");
        snprintf(key, sizeof(key), "%.*s", (int)n, path + 1);
        coerce_path(c, cJSON_GetObjectItemCaseSensitive(c, key), path + 1 + n);
    }
}

void stack_provider_coerce(cJSON *in, const struct stack_provider *prov)
{
    static const char *const tags[] = {".tags.*", ".tagsAll.*", NULL};
    for (size_t k = 0; tags[k]; k++)
        coerce_path(NULL, in, tags[k]);
    for (size_t k = 0; prov && prov->strings && prov->strings[k]; k++) {
        char path[128];
        snprintf(path, sizeof(path), ".%s", prov->strings[k]);
        coerce_path(NULL, in, path);
    }
}
