/* fuzz_policy.c - the IAM policy parser and evaluator on arbitrary bytes:
 * every kind of document, then one evaluation with a fixed request. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "iam_policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct authz_kv ctx[] = {
        {"aws:username", "alice"},
        {"aws:SourceIp", "127.0.0.1"},
        {"aws:CurrentTime", "2024-01-01T00:00:00Z"},
        {"aws:TagKeys", "a"},
        {"aws:TagKeys", "b*"},
    };
    struct iam_request q = {.action = "dynamodb:GetItem",
                            .resource = "arn:aws:dynamodb:us-east-1:123456789012:table/t",
                            .principal_arn = "arn:aws:iam::123456789012:user/alice",
                            .account = "123456789012",
                            .ctx = ctx,
                            .nctx = sizeof(ctx) / sizeof(ctx[0])};

    for (int kind = IAM_POLICY_IDENTITY; kind <= IAM_POLICY_MANAGED; kind++) {
        struct iam_policy *p = NULL;
        bool direct;

        if (iam_policy_parse((const char *)data, size, (enum iam_policy_kind)kind, &p, NULL) ==
            ERR_OK) {
            (void)iam_policy_eval(p, &q, &direct);
            iam_policy_free(p);
        }
    }
    return 0;
}
