/* event.c - invocations of a region's functions by its other services: S3's
 * event notifications check that a function exists and lets s3.amazonaws.com
 * invoke it (fn_event_policy), then invoke it asynchronously
 * (fn_invoke_event), as an Invoke with X-Amz-Invocation-Type: Event does,
 * but learning how the invocation ended so that the caller can try again, or
 * hand the event to the function's asynchronous invocation queue
 * (fn_queue_event), as S3 hands its notifications to Lambda. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "async_int.h"
#include "fn_int.h"
#include "mem.h"

/* split_arn - NAME and QUALIFIER (may be "") of arn:aws:lambda:REGION:ACCOUNT:
 * function:NAME[:QUALIFIER], when REGION and ACCOUNT are this region's */
static bool split_arn(const struct fn *f, const char *arn, char *name, size_t ncap, char *qual,
                      size_t qcap)
{
    char pre[128];
    const char *rest, *colon;
    int n = snprintf(pre, sizeof(pre), "arn:aws:lambda:%s:%s:function:", f->region, f->account);

    if (!arn || n <= 0 || (size_t)n >= sizeof(pre) || strncmp(arn, pre, (size_t)n) != 0)
        return false;
    rest = arn + n;
    colon = strchr(rest, ':');
    n = snprintf(name, ncap, "%.*s", colon ? (int)(colon - rest) : (int)strlen(rest), rest);
    if (n <= 0 || (size_t)n >= ncap)
        return false;
    n = snprintf(qual, qcap, "%s", colon ? colon + 1 : "");
    return n >= 0 && (size_t)n < qcap && !strchr(qual, ':') && (!colon || *qual);
}

char *fn_event_policy(struct fn *f, const char *arn, char *holder_arn, size_t cap, bool *exists)
{
    char name[141], qual[129];
    cJSON *doc, *h, *pol;
    char *out = NULL;

    *exists = false;
    if (!split_arn(f, arn, name, sizeof(name), qual, sizeof(qual)))
        return NULL;
    doc = fn_reg_get(f, name);
    h = fnapi_holder(doc, *qual ? qual : NULL);
    if (h) {
        *exists = true;
        snprintf(holder_arn, cap, "%s", fnapi_holder_arn(h) ? fnapi_holder_arn(h) : arn);
        pol = cJSON_GetObjectItemCaseSensitive(h, "_Policy");
        if (pol)
            out = cJSON_PrintUnformatted(pol);
    }
    cJSON_Delete(doc);
    return out;
}

struct event_call {
    fn_event_done_fn *done;
    void *ud;
};

static void event_done(void *ud, const struct fn_result *res)
{
    struct event_call *c = ud;

    c->done(c->ud, res->error == 0);
    free(c);
}

bool fn_invoke_event(struct fn *f, const char *arn, const void *payload, size_t len,
                     fn_event_done_fn *done, void *ud)
{
    char name[141], qual[129];
    struct event_call *c;
    cJSON *d;

    if (!split_arn(f, arn, name, sizeof(name), qual, sizeof(qual)))
        return false;
    d = fn_reg_get(f, name);
    if (!d)
        return false;
    d = fnapi_pick(d, *qual ? qual : NULL, true);
    if (!d || !fn_rt_runtime_ready(f, cJSON_GetStringValue(cJSON_GetObjectItem(d, "Runtime")))) {
        cJSON_Delete(d);
        return false;
    }
    c = xcalloc(1, sizeof(*c));
    c->done = done;
    c->ud = ud;
    fn_rt_invoke(f, d, payload, len, event_done, c);
    cJSON_Delete(d);
    return true;
}

bool fn_queue_event(struct fn *f, const char *arn, const void *payload, size_t len,
                    fn_event_done_fn *done, void *ud)
{
    char name[141], qual[129];
    cJSON *d, *h;

    if (!f->async)
        return fn_invoke_event(f, arn, payload, len, done, ud);
    if (!split_arn(f, arn, name, sizeof(name), qual, sizeof(qual)))
        return false;
    d = fn_reg_get(f, name);
    h = d ? fnapi_pick(d, *qual ? qual : NULL, false) : NULL; /* takes d */
    if (!h)
        return false;
    cJSON_Delete(h);
    return fnasync_enqueue_event(f, name, *qual ? qual : NULL, payload, len, done, ud);
}
