/* s3_fn_hook.c - how S3's event notifications reach the region's functions:
 * the destination check of PutBucketNotificationConfiguration (the function
 * exists here and its resource policy lets s3.amazonaws.com invoke it for the
 * bucket, with the SourceArn and SourceAccount conditions S3 sends) and the
 * delivery: each event handed to the function's asynchronous invocation queue. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fn.h"
#include "iam_policy.h"
#include "s3.h"
#include "s3_fn_hook.h"

static bool may_invoke(void *ud, const char *arn, const char *bucket, const char *account,
                       char *why, size_t cap)
{
    struct fn *f = ud;
    char holder[256] = "", source[128];
    bool exists;
    char *pol = fn_event_policy(f, arn, holder, sizeof(holder), &exists);
    struct iam_policy *p = NULL;
    struct err e = {0};
    bool ok = false;

    snprintf(source, sizeof(source), "arn:aws:s3:::%s", bucket);
    if (pol && iam_policy_parse(pol, strlen(pol), IAM_POLICY_RESOURCE, &p, &e) == ERR_OK) {
        const struct authz_kv ctx[] = {{"aws:SourceArn", source}, {"aws:SourceAccount", account}};
        struct iam_request q = {.action = "lambda:InvokeFunction",
                                .resource = holder,
                                .service = "s3.amazonaws.com",
                                .ctx = ctx,
                                .nctx = 2};
        ok = iam_policy_eval(p, &q, NULL) == IAM_ALLOW;
    }
    iam_policy_free(p);
    free(pol);
    if (!ok)
        snprintf(why, cap,
                 exists ? "Not authorized to invoke function [%s]"
                        : "The destination function does not exist [%s]",
                 arn);
    return ok;
}

/* as S3 does: the event goes to the function's asynchronous invocation, whose queue
 * retries it and sends it to destinations as the function's EventInvokeConfig says; the
 * notification is delivered once the queue holds it */
static bool invoke(void *ud, const char *arn, const char *payload, size_t len,
                   s3_invoke_done_fn *done, void *arg)
{
    return fn_queue_event(ud, arn, payload, len, done, arg);
}

void s3_fn_hook_attach(struct s3 *s, struct fn *f)
{
    struct s3_invoker inv = {.may_invoke = may_invoke, .invoke = invoke, .ud = f};

    s3_set_invoker(s, f ? &inv : NULL);
}
