/* lambda_esm.c - aws:lambda:EventSourceMapping through the Lambda REST API
 * (/2015-03-31/event-source-mappings/): CreateEventSourceMapping, then
 * GetEventSourceMapping until the mapping leaves Creating; UpdateEventSourceMapping
 * and DeleteEventSourceMapping, each waiting out the states a change passes
 * through; ListEventSourceMappings to take over the mapping an interrupted
 * create left. A region maps DynamoDB streams, so the Kafka, MQ, SQS and
 * DocumentDB settings are refused at plan time, as are the settings its
 * mappings do not carry out (a tumbling window, an on-failure destination). A
 * mapping's tags go with the create and are changed with TagResource and
 * UntagResource on its ARN (/2017-03-31/tags/ARN). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "mem.h"
#include "stack_provider.h"

#define ESM_PATH "/2015-03-31/event-source-mappings/"

enum { WAIT_DEFAULT_MS = 60000, WAIT_MS = 100 };

static enum err_code call(const struct stack_target *t, const char *method, const char *uuid,
                          const char *query, const cJSON *body, cJSON **out, char *code,
                          size_t clen, struct err *e)
{
    char *path = xmalloc(sizeof(ESM_PATH) + strlen(uuid));
    char *text = body ? cJSON_PrintUnformatted(body) : NULL, *resp = NULL;
    enum err_code rc;

    sprintf(path, ESM_PATH "%s", uuid);
    rc = stack_prov_rest(t, "lambda", method, path, query, text, body ? "application/json" : NULL,
                         NULL, &resp, code, clen, e);
    free(path);
    free(text);
    if (out)
        *out = rc == ERR_OK && resp && *resp ? cJSON_Parse(resp) : NULL;
    free(resp);
    return rc;
}

/* put_num / put_bool - @in's @key as the API's @api, else @dflt (@dflt < -1 / the
 * create: leave it out, so the service picks its default). */
static void put_num(cJSON *b, const cJSON *in, const char *key, const char *api, double dflt)
{
    const cJSON *v = cJSON_GetObjectItem(in, key);

    if (cJSON_IsNumber(v))
        cJSON_AddNumberToObject(b, api, v->valuedouble);
    else if (dflt >= -1)
        cJSON_AddNumberToObject(b, api, dflt);
}

static void put_bool(cJSON *b, const cJSON *in, const char *key, const char *api, int dflt)
{
    const cJSON *v = cJSON_GetObjectItem(in, key);

    if (cJSON_IsBool(v))
        cJSON_AddBoolToObject(b, api, cJSON_IsTrue(v));
    else if (dflt >= 0)
        cJSON_AddBoolToObject(b, api, dflt);
}

/* esm_body - the request of a create, or (!@create) of an update, which sends every
 * setting it may change, a removed one as the service's default, so that taking a
 * property out of the program puts the default back. */
static cJSON *esm_body(const cJSON *in, bool create)
{
    cJSON *b = cJSON_CreateObject(), *fl;
    const cJSON *filters =
        cJSON_GetObjectItem(cJSON_GetObjectItem(in, "filterCriteria"), "filters");
    const cJSON *types = cJSON_GetObjectItem(in, "functionResponseTypes"), *f;
    double unset = create ? -2 : 0;

    cJSON_AddStringToObject(b, "FunctionName", stack_prov_str(in, "functionName", ""));
    if (create) {
        cJSON_AddStringToObject(b, "EventSourceArn", stack_prov_str(in, "eventSourceArn", ""));
        if (stack_prov_str(in, "startingPosition", NULL))
            cJSON_AddStringToObject(b, "StartingPosition",
                                    stack_prov_str(in, "startingPosition", ""));
    }
    put_num(b, in, "batchSize", "BatchSize", create ? -2 : 100);
    put_num(b, in, "maximumBatchingWindowInSeconds", "MaximumBatchingWindowInSeconds", unset);
    put_num(b, in, "maximumRecordAgeInSeconds", "MaximumRecordAgeInSeconds", create ? -2 : -1);
    put_num(b, in, "maximumRetryAttempts", "MaximumRetryAttempts", create ? -2 : -1);
    put_num(b, in, "parallelizationFactor", "ParallelizationFactor", create ? -2 : 1);
    put_bool(b, in, "bisectBatchOnFunctionError", "BisectBatchOnFunctionError", create ? -1 : 0);
    put_bool(b, in, "enabled", "Enabled", create ? -1 : 1);
    if (cJSON_IsArray(filters) || !create) {
        fl = cJSON_AddArrayToObject(cJSON_AddObjectToObject(b, "FilterCriteria"), "Filters");
        cJSON_ArrayForEach(f, filters)
        {
            cJSON *one = cJSON_CreateObject();

            cJSON_AddStringToObject(one, "Pattern", stack_prov_str(f, "pattern", ""));
            cJSON_AddItemToArray(fl, one);
        }
    }
    if (cJSON_IsArray(types))
        cJSON_AddItemToObject(b, "FunctionResponseTypes", cJSON_Duplicate(types, 1));
    else if (!create)
        cJSON_AddArrayToObject(b, "FunctionResponseTypes");
    if (create && cJSON_IsObject(cJSON_GetObjectItem(in, "tags")))
        cJSON_AddItemToObject(b, "Tags", cJSON_Duplicate(cJSON_GetObjectItem(in, "tags"), 1));
    return b;
}

/* esm_outputs - the outputs from a GetEventSourceMapping answer @m; with @all, also
 * the settings as read back (refresh, import). */
static cJSON *esm_outputs(const cJSON *m, bool all)
{
    cJSON *o = cJSON_CreateObject(), *fl;
    const cJSON *lm = cJSON_GetObjectItem(m, "LastModified"), *f;
    const char *state = stack_prov_str(m, "State", "");
    static const char *const nums[][2] = {
        {"BatchSize", "batchSize"},
        {"MaximumBatchingWindowInSeconds", "maximumBatchingWindowInSeconds"},
        {"MaximumRecordAgeInSeconds", "maximumRecordAgeInSeconds"},
        {"MaximumRetryAttempts", "maximumRetryAttempts"},
        {"ParallelizationFactor", "parallelizationFactor"}};
    char when[32] = "";

    if (cJSON_IsNumber(lm)) {
        time_t secs = (time_t)lm->valuedouble;
        struct tm tm;

        gmtime_r(&secs, &tm);
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm); /* RFC 3339, as the provider */
    }
    cJSON_AddStringToObject(o, "id", stack_prov_str(m, "UUID", ""));
    cJSON_AddStringToObject(o, "uuid", stack_prov_str(m, "UUID", ""));
    cJSON_AddStringToObject(o, "arn", stack_prov_str(m, "EventSourceMappingArn", ""));
    cJSON_AddStringToObject(o, "functionArn", stack_prov_str(m, "FunctionArn", ""));
    cJSON_AddStringToObject(o, "lastModified", when);
    cJSON_AddStringToObject(o, "lastProcessingResult",
                            stack_prov_str(m, "LastProcessingResult", ""));
    cJSON_AddStringToObject(o, "state", state);
    cJSON_AddStringToObject(o, "stateTransitionReason",
                            stack_prov_str(m, "StateTransitionReason", ""));
    if (!all)
        return o;
    cJSON_AddStringToObject(o, "eventSourceArn", stack_prov_str(m, "EventSourceArn", ""));
    if (stack_prov_str(m, "StartingPosition", NULL))
        cJSON_AddStringToObject(o, "startingPosition", stack_prov_str(m, "StartingPosition", ""));
    for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
        if (cJSON_IsNumber(cJSON_GetObjectItem(m, nums[i][0])))
            cJSON_AddNumberToObject(o, nums[i][1], cJSON_GetObjectItem(m, nums[i][0])->valuedouble);
    cJSON_AddBoolToObject(o, "bisectBatchOnFunctionError",
                          cJSON_IsTrue(cJSON_GetObjectItem(m, "BisectBatchOnFunctionError")));
    cJSON_AddBoolToObject(o, "enabled", !strcmp(state, "Enabled") || !strcmp(state, "Enabling"));
    fl = cJSON_CreateArray();
    cJSON_ArrayForEach(f, cJSON_GetObjectItem(cJSON_GetObjectItem(m, "FilterCriteria"), "Filters"))
    {
        cJSON *one = cJSON_CreateObject();

        cJSON_AddStringToObject(one, "pattern", stack_prov_str(f, "Pattern", ""));
        cJSON_AddItemToArray(fl, one);
    }
    if (cJSON_GetArraySize(fl))
        cJSON_AddItemToObject(cJSON_AddObjectToObject(o, "filterCriteria"), "filters", fl);
    else
        cJSON_Delete(fl);
    if (cJSON_GetArraySize(cJSON_GetObjectItem(m, "FunctionResponseTypes")))
        cJSON_AddItemToObject(o, "functionResponseTypes",
                              cJSON_Duplicate(cJSON_GetObjectItem(m, "FunctionResponseTypes"), 1));
    return o;
}

/* settle - wait until mapping @uuid is Enabled or Disabled (its answer in *@m,
 * owned), or (@gone) until it no longer exists. */
static enum err_code settle(const struct stack_target *t, const char *uuid, bool gone, cJSON **m,
                            struct err *e)
{
    long long until = stack_prov_deadline(t, WAIT_DEFAULT_MS);
    enum err_code rc;
    char within[64];

    if (m)
        *m = NULL;
    do {
        cJSON *resp = NULL;
        const char *st;

        rc = call(t, "GET", uuid, NULL, NULL, &resp, NULL, 0, e);
        if (rc == ERR_NOTFOUND && gone)
            return ERR_OK;
        if (rc)
            return rc;
        st = stack_prov_str(resp, "State", "");
        if (!gone && (!strcmp(st, "Enabled") || !strcmp(st, "Disabled"))) {
            if (m)
                *m = resp;
            else
                cJSON_Delete(resp);
            return ERR_OK;
        }
        cJSON_Delete(resp);
    } while (!stack_prov_waited(t, until, WAIT_MS, within, sizeof(within)));
    return err_set(e, ERR_IO, "%s: event source mapping %s %s %s", t->region, uuid,
                   gone ? "not deleted" : "still changing state", within);
}

/* adoptable - the UUID (owned) of the mapping of the program's stream to its
 * function that an interrupted create left, or NULL. */
static char *adoptable(const struct stack_target *t, const cJSON *in, struct err *e)
{
    char *arn = stack_prov_pct(stack_prov_str(in, "eventSourceArn", ""));
    char *fn = stack_prov_pct(stack_prov_str(in, "functionName", ""));
    char *query = xmalloc(strlen(arn) + strlen(fn) + 32), *uuid = NULL;
    cJSON *resp = NULL;

    sprintf(query, "EventSourceArn=%s&FunctionName=%s", arn, fn);
    if (call(t, "GET", "", query, NULL, &resp, NULL, 0, e) == ERR_OK) {
        const char *u = stack_prov_str(
            cJSON_GetArrayItem(cJSON_GetObjectItem(resp, "EventSourceMappings"), 0), "UUID", NULL);
        uuid = u ? xstrdup(u) : NULL;
    }
    cJSON_Delete(resp);
    free(query);
    free(fn);
    free(arn);
    return uuid;
}

/* tags_path - /2017-03-31/tags/ARN of the mapping @arn (owned) */
static char *tags_path(const char *arn)
{
    char *enc = stack_prov_pct(arn), *p = xmalloc(strlen(enc) + 20);

    sprintf(p, "/2017-03-31/tags/%s", enc);
    free(enc);
    return p;
}

/* retag - the mapping's tags from @old to @now: TagResource with what is new or
 * changed, UntagResource with what is gone */
static enum err_code retag(const struct stack_target *t, const char *arn, const cJSON *old,
                           const cJSON *now, struct err *e)
{
    char *path = tags_path(arn);
    cJSON *add = cJSON_CreateObject(), *body;
    struct buf q;
    const cJSON *it;
    enum err_code rc = ERR_OK;

    buf_init(&q, 0);
    cJSON_ArrayForEach(it, now)
    {
        const cJSON *was = cJSON_GetObjectItemCaseSensitive(old, it->string);

        if (cJSON_IsString(it) &&
            !(cJSON_IsString(was) && !strcmp(was->valuestring, it->valuestring)))
            cJSON_AddStringToObject(add, it->string, it->valuestring);
    }
    cJSON_ArrayForEach(it, old)
    {
        if (!cJSON_GetObjectItemCaseSensitive(now, it->string)) {
            char *enc = stack_prov_pct(it->string);

            buf_printf(&q, "%stagKeys=%s", q.len ? "&" : "", enc);
            free(enc);
        }
    }
    if (cJSON_GetArraySize(add)) {
        char *text;

        body = cJSON_CreateObject();
        cJSON_AddItemToObject(body, "Tags", add);
        add = NULL;
        text = cJSON_PrintUnformatted(body);
        rc = stack_prov_rest(t, "lambda", "POST", path, NULL, text, "application/json", NULL, NULL,
                             NULL, 0, e);
        free(text);
        cJSON_Delete(body);
    }
    if (rc == ERR_OK && q.len)
        rc =
            stack_prov_rest(t, "lambda", "DELETE", path, q.ptr, NULL, NULL, NULL, NULL, NULL, 0, e);
    cJSON_Delete(add);
    buf_free(&q);
    free(path);
    return rc;
}

static enum err_code esm_create(const struct stack_target *t, const cJSON *in, bool adopt,
                                char **id, cJSON **out, struct err *e)
{
    long long until = stack_prov_deadline(t, WAIT_DEFAULT_MS);
    cJSON *body, *resp = NULL, *m = NULL;
    char code[96], within[64], *uuid = NULL;
    enum err_code rc;

    *id = NULL;
    *out = NULL;
    if (!stack_prov_str(in, "functionName", NULL) || !stack_prov_str(in, "eventSourceArn", NULL))
        return err_set(e, ERR_INVALID,
                       "aws:lambda:EventSourceMapping needs functionName and eventSourceArn");
    body = esm_body(in, true);
    /* The execution role's policy may be made in the same run, beside the
     * mapping: the provider waits for the role to be allowed the stream, as
     * it waits out IAM's propagation on AWS. */
    do {
        rc = call(t, "POST", "", NULL, body, &resp, code, sizeof(code), e);
        if (rc != ERR_INVALID || strcmp(code, "InvalidParameterValueException") != 0 ||
            !strstr(e->msg, "Cannot access stream"))
            break;
    } while (!stack_prov_waited(t, until, 500, within, sizeof(within)));
    cJSON_Delete(body);
    if (rc == ERR_CONFLICT && adopt && !strcmp(code, "ResourceConflictException") &&
        (uuid = adoptable(t, in, e)) != NULL)
        rc = ERR_OK;
    else if (rc == ERR_OK)
        uuid = xstrdup(stack_prov_str(resp, "UUID", ""));
    cJSON_Delete(resp);
    if (rc == ERR_OK)
        rc = settle(t, uuid, false, &m, e);
    if (rc == ERR_OK) {
        *out = esm_outputs(m, false);
        *id = uuid;
        uuid = NULL;
    }
    cJSON_Delete(m);
    free(uuid);
    return rc;
}

static enum err_code esm_update(const struct stack_target *t, const char *id, const cJSON *old_in,
                                const cJSON *new_in, const cJSON *old_out, cJSON **out,
                                struct err *e)
{
    long long until = stack_prov_deadline(t, WAIT_DEFAULT_MS);
    cJSON *body = esm_body(new_in, false), *m = NULL;
    char code[96], within[64];
    enum err_code rc;

    *out = NULL;
    do { /* a change still under way (Updating, Enabling...) answers ResourceInUseException */
        rc = call(t, "PUT", id, NULL, body, NULL, code, sizeof(code), e);
        if (rc == ERR_OK || strcmp(code, "ResourceInUseException") != 0)
            break;
    } while (!stack_prov_waited(t, until, WAIT_MS, within, sizeof(within)));
    cJSON_Delete(body);
    if (rc == ERR_OK)
        rc = retag(t, stack_prov_str(old_out, "arn", ""), cJSON_GetObjectItem(old_in, "tags"),
                   cJSON_GetObjectItem(new_in, "tags"), e);
    if (rc == ERR_OK)
        rc = settle(t, id, false, &m, e);
    if (rc == ERR_OK)
        *out = esm_outputs(m, false);
    cJSON_Delete(m);
    return rc;
}

static enum err_code esm_delete(const struct stack_target *t, const char *id, const cJSON *in,
                                const cJSON *out, struct err *e)
{
    long long until = stack_prov_deadline(t, WAIT_DEFAULT_MS);
    char code[96], within[64];
    enum err_code rc;

    (void)in;
    (void)out;
    do {
        rc = call(t, "DELETE", id, NULL, NULL, NULL, code, sizeof(code), e);
        if (rc == ERR_OK || strcmp(code, "ResourceInUseException") != 0)
            break;
    } while (!stack_prov_waited(t, until, WAIT_MS, within, sizeof(within)));
    if (rc == ERR_NOTFOUND)
        return ERR_OK;
    return rc ? rc : settle(t, id, true, NULL, e);
}

static enum err_code esm_read(const struct stack_target *t, const char *id, const cJSON *in,
                              cJSON **out, bool *gone, struct err *e)
{
    cJSON *resp = NULL;
    enum err_code rc = call(t, "GET", id, NULL, NULL, &resp, NULL, 0, e);

    (void)in;
    *out = NULL;
    *gone = rc == ERR_NOTFOUND;
    if (rc == ERR_OK) {
        char *path = tags_path(stack_prov_str(resp, "EventSourceMappingArn", "")), *tags = NULL;
        cJSON *parsed;

        *out = esm_outputs(resp, true);
        rc = stack_prov_rest(t, "lambda", "GET", path, NULL, NULL, NULL, NULL, &tags, NULL, 0, e);
        parsed = rc == ERR_OK && tags ? cJSON_Parse(tags) : NULL;
        if (cJSON_GetArraySize(cJSON_GetObjectItem(parsed, "Tags")))
            cJSON_AddItemToObject(*out, "tags",
                                  cJSON_Duplicate(cJSON_GetObjectItem(parsed, "Tags"), 1));
        cJSON_Delete(parsed);
        free(tags);
        free(path);
    }
    cJSON_Delete(resp);
    return *gone ? ERR_OK : rc;
}

static const char *const esm_replace[] = {"eventSourceArn", "startingPosition",
                                          "startingPositionTimestamp", NULL};
static const char *const esm_outs[] = {"id",
                                       "uuid",
                                       "arn",
                                       "functionArn",
                                       "lastModified",
                                       "lastProcessingResult",
                                       "state",
                                       "stateTransitionReason",
                                       NULL};

const struct stack_provider stack_provider_lambda_esm = {
    .type = "aws:lambda:EventSourceMapping",
    .inputs = (const char *const[]){"amazonManagedKafkaEventSourceConfig",
                                    "batchSize",
                                    "bisectBatchOnFunctionError",
                                    "destinationConfig",
                                    "documentDbEventSourceConfig",
                                    "enabled",
                                    "eventSourceArn",
                                    "filterCriteria",
                                    "functionName",
                                    "functionResponseTypes",
                                    "kmsKeyArn",
                                    "maximumBatchingWindowInSeconds",
                                    "maximumRecordAgeInSeconds",
                                    "maximumRetryAttempts",
                                    "metricsConfig",
                                    "parallelizationFactor",
                                    "provisionedPollerConfig",
                                    "queues",
                                    "scalingConfig",
                                    "selfManagedEventSource",
                                    "selfManagedKafkaEventSourceConfig",
                                    "sourceAccessConfigurations",
                                    "startingPosition",
                                    "startingPositionTimestamp",
                                    "tags",
                                    "topics",
                                    "tumblingWindowInSeconds",
                                    NULL},
    /* A region's mappings read DynamoDB streams, without a tumbling window or an
     * on-failure destination. */
    .unsupported =
        (const char *const[]){"amazonManagedKafkaEventSourceConfig", "destinationConfig",
                              "documentDbEventSourceConfig", "kmsKeyArn", "metricsConfig",
                              "provisionedPollerConfig", "queues", "scalingConfig",
                              "selfManagedEventSource", "selfManagedKafkaEventSourceConfig",
                              "sourceAccessConfigurations", "startingPositionTimestamp", "topics",
                              "tumblingWindowInSeconds", NULL},
    .values = (const char *const[]){"startingPosition=LATEST|TRIM_HORIZON", NULL},
    .replace_props = esm_replace,
    .outputs = esm_outs,
    .create = esm_create,
    .update = esm_update,
    .del = esm_delete,
    .read = esm_read,
};
