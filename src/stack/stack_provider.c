/* stack_provider.c - the table of resource providers. */
#include <stdio.h>
#include <string.h>

#include "stack_provider.h"

extern const struct stack_provider stack_provider_dynamodb_table;
extern const struct stack_provider stack_provider_s3_bucket;
extern const struct stack_provider stack_provider_s3_versioning;
extern const struct stack_provider stack_provider_s3_replication;
extern const struct stack_provider stack_provider_iam_role;
extern const struct stack_provider stack_provider_iam_role_policy;
extern const struct stack_provider stack_provider_iam_role_policy_attachment;
extern const struct stack_provider stack_provider_lambda_function;
extern const struct stack_provider stack_provider_lambda_function_url;
extern const struct stack_provider stack_provider_lambda_permission;

static const struct stack_provider *const providers[] = {
    &stack_provider_dynamodb_table,
    &stack_provider_s3_bucket,
    &stack_provider_s3_versioning,
    &stack_provider_s3_replication,
    &stack_provider_iam_role,
    &stack_provider_iam_role_policy,
    &stack_provider_iam_role_policy_attachment,
    &stack_provider_lambda_function,
    &stack_provider_lambda_function_url,
    &stack_provider_lambda_permission,
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
}

const struct stack_provider *stack_provider_find(const char *type)
{
    char t[128];
    short_token(type, t, sizeof(t));
    for (size_t i = 0; i < sizeof(providers) / sizeof(providers[0]); i++)
        if (!strcmp(providers[i]->type, t))
            return providers[i];
    if (!strcmp(t, "aws:s3:BucketV2"))
        return stack_provider_find("aws:s3:Bucket");
    return NULL;
}
