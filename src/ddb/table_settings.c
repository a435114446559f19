/* table_settings.c - the table settings CreateTable and UpdateTable share:
 * billing mode and provisioned throughput, the stream, the table class
 * (see table.h). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "table.h"

static const char *const billing_modes[] = {"PROVISIONED", "PAY_PER_REQUEST", NULL};
static const char *const view_types[] = {"NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES",
                                         "KEYS_ONLY", NULL};
static const char *const table_classes[] = {"STANDARD", "STANDARD_INFREQUENT_ACCESS", NULL};

int table_billing_arg(struct ddb_call *c, const cJSON *in)
{
    return ddb_arg_enum(c, in, "BillingMode", "billingMode", billing_modes);
}

void table_stream_set(struct ddb *d, cJSON *desc, const char *name, const char *view)
{
    int64_t ms = clock_wall_ms();
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    char label[96], arn[600];
    cJSON *spec;

    gmtime_r(&s, &tm);
    snprintf(label, sizeof(label), "%04d-%02d-%02dT%02d:%02d:%02d.%03d", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
    snprintf(arn, sizeof(arn), "arn:aws:dynamodb:%s:%s:table/%s/stream/%s", d->region, d->account,
             name, label);
    cJSON_DeleteItemFromObjectCaseSensitive(desc, "StreamSpecification");
    cJSON_DeleteItemFromObjectCaseSensitive(desc, "LatestStreamArn");
    cJSON_DeleteItemFromObjectCaseSensitive(desc, "LatestStreamLabel");
    spec = cJSON_AddObjectToObject(desc, "StreamSpecification");
    cJSON_AddBoolToObject(spec, "StreamEnabled", 1);
    cJSON_AddStringToObject(spec, "StreamViewType", view);
    cJSON_AddStringToObject(desc, "LatestStreamArn", arn);
    cJSON_AddStringToObject(desc, "LatestStreamLabel", label);
}

void table_throughput_set(cJSON *desc, int64_t rcu, int64_t wcu)
{
    cJSON *pt;

    cJSON_DeleteItemFromObjectCaseSensitive(desc, "ProvisionedThroughput");
    pt = cJSON_AddObjectToObject(desc, "ProvisionedThroughput");
    cJSON_AddNumberToObject(pt, "NumberOfDecreasesToday", 0);
    cJSON_AddNumberToObject(pt, "ReadCapacityUnits", (double)rcu);
    cJSON_AddNumberToObject(pt, "WriteCapacityUnits", (double)wcu);
}

void table_billing_set(cJSON *desc, int mode, double when)
{
    cJSON *bm;

    cJSON_DeleteItemFromObjectCaseSensitive(desc, "BillingModeSummary");
    bm = cJSON_AddObjectToObject(desc, "BillingModeSummary");
    cJSON_AddStringToObject(bm, "BillingMode", billing_modes[mode]);
    if (mode == TABLE_BILL_PPR)
        cJSON_AddNumberToObject(bm, "LastUpdateToPayPerRequestDateTime", when);
}

int table_billing_of(const cJSON *desc)
{
    const cJSON *bm = cJSON_GetObjectItemCaseSensitive(desc, "BillingModeSummary");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(bm, "BillingMode");

    return cJSON_IsString(m) && strcmp(m->valuestring, "PAY_PER_REQUEST") == 0
               ? TABLE_BILL_PPR
               : TABLE_BILL_PROVISIONED;
}

bool table_throughput_arg(struct ddb_call *c, const cJSON *in, int64_t *rcu, int64_t *wcu)
{
    const cJSON *pt = ddb_arg_obj(c, in, "ProvisionedThroughput");
    bool hr, hw;

    if (!pt)
        return false;
    hr = ddb_arg_int(c, pt, "ReadCapacityUnits", rcu);
    hw = ddb_arg_int(c, pt, "WriteCapacityUnits", wcu);
    if (!hr)
        ddb_verr_null(c, "provisionedThroughput.readCapacityUnits");
    else if (*rcu < 1)
        ddb_verr(c,
                 "Value '%lld' at 'provisionedThroughput.readCapacityUnits' failed to satisfy "
                 "constraint: Member must have value greater than or equal to 1",
                 (long long)*rcu);
    if (!hw)
        ddb_verr_null(c, "provisionedThroughput.writeCapacityUnits");
    else if (*wcu < 1)
        ddb_verr(c,
                 "Value '%lld' at 'provisionedThroughput.writeCapacityUnits' failed to satisfy "
                 "constraint: Member must have value greater than or equal to 1",
                 (long long)*wcu);
    return true;
}

int table_stream_arg(struct ddb_call *c, const cJSON *in, const char **view)
{
    const cJSON *ss = ddb_arg_obj(c, in, "StreamSpecification");
    bool on = false;
    int vt;

    *view = NULL;
    if (!ss)
        return -1;
    if (!ddb_arg_bool(c, ss, "StreamEnabled", &on))
        ddb_verr_null(c, "streamSpecification.streamEnabled");
    vt = ddb_arg_enum(c, ss, "StreamViewType", "streamSpecification.streamViewType", view_types);
    if (vt >= 0)
        *view = view_types[vt];
    return on ? 1 : 0;
}

int table_class_arg(struct ddb_call *c, const cJSON *in)
{
    return ddb_arg_enum(c, in, "TableClass", "tableClass", table_classes);
}

void table_class_set(cJSON *desc, int tclass)
{
    cJSON *tc;

    cJSON_DeleteItemFromObjectCaseSensitive(desc, "TableClassSummary");
    tc = cJSON_AddObjectToObject(desc, "TableClassSummary");
    cJSON_AddStringToObject(tc, "TableClass", table_classes[tclass]);
}
