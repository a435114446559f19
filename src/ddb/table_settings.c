/* table_settings.c - the table settings CreateTable and UpdateTable share:
 * billing mode, provisioned and warm throughput, the stream, the table class
 * (see table.h). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "json.h"
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

/* same_day - whether @a and @b (seconds since the epoch) fall on one UTC day. */
static bool same_day(double a, double b)
{
    return (int64_t)(a / 86400) == (int64_t)(b / 86400);
}

void table_throughput_change(cJSON *desc, int64_t rcu, int64_t wcu, double when)
{
    const cJSON *pt = cJSON_GetObjectItemCaseSensitive(desc, "ProvisionedThroughput");
    int64_t r0 = (int64_t)json_num(pt, "ReadCapacityUnits");
    int64_t w0 = (int64_t)json_num(pt, "WriteCapacityUnits");
    double inc = json_num(pt, "LastIncreaseDateTime"), dec = json_num(pt, "LastDecreaseDateTime");
    double n = dec > 0 && same_day(dec, when) ? json_num(pt, "NumberOfDecreasesToday") : 0;
    cJSON *out;

    if (r0 > 0 && (rcu > r0 || wcu > w0)) /* r0 == 0: on-demand until now */
        inc = when;
    if (r0 > 0 && (rcu < r0 || wcu < w0)) {
        dec = when;
        n++;
    }
    table_throughput_set(desc, rcu, wcu);
    out = cJSON_GetObjectItemCaseSensitive(desc, "ProvisionedThroughput");
    cJSON_ReplaceItemInObjectCaseSensitive(out, "NumberOfDecreasesToday", cJSON_CreateNumber(n));
    if (inc > 0)
        cJSON_AddNumberToObject(out, "LastIncreaseDateTime", inc);
    if (dec > 0)
        cJSON_AddNumberToObject(out, "LastDecreaseDateTime", dec);
}

void table_throughput_describe(cJSON *desc, double now)
{
    cJSON *pt = cJSON_GetObjectItemCaseSensitive(desc, "ProvisionedThroughput");
    double dec = json_num(pt, "LastDecreaseDateTime");

    if (dec > 0 && !same_day(dec, now))
        cJSON_ReplaceItemInObjectCaseSensitive(pt, "NumberOfDecreasesToday", cJSON_CreateNumber(0));
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
    else
        ddb_check_range(c, true, *rcu, "provisionedThroughput.readCapacityUnits", 1, DDB_NO_MAX);
    if (!hw)
        ddb_verr_null(c, "provisionedThroughput.writeCapacityUnits");
    else
        ddb_check_range(c, true, *wcu, "provisionedThroughput.writeCapacityUnits", 1, DDB_NO_MAX);
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
    const char *s = ddb_arg_str(c, in, "TableClass");

    if (!s)
        return -1;
    for (int i = 0; table_classes[i]; i++)
        if (strcmp(s, table_classes[i]) == 0)
            return i;
    return -2;
}

void table_class_refuse(struct ddb_call *c)
{
    ddb_reply_err(c, ERR_INVALID,
                  "Invalid table-class parameter provided. Please try again with a valid "
                  "table-class value: [STANDARD, STANDARD_INFREQUENT_ACCESS].");
}

void table_class_set(cJSON *desc, int tclass, double when)
{
    cJSON *tc;

    cJSON_DeleteItemFromObjectCaseSensitive(desc, "TableClassSummary");
    tc = cJSON_AddObjectToObject(desc, "TableClassSummary");
    cJSON_AddStringToObject(tc, "TableClass", table_classes[tclass]);
    if (when > 0)
        cJSON_AddNumberToObject(tc, "LastUpdateDateTime", when);
}

/* ---- WarmThroughput ---- */

/* What every table can serve at once without being warmed, and the least a
 * request may ask for. */
static const int64_t warm_base[2] = {12000, 4000};
static const char *const warm_units[2] = {"ReadUnitsPerSecond", "WriteUnitsPerSecond"};

bool table_warm_arg(struct ddb_call *c, const cJSON *in, int64_t units[2])
{
    const cJSON *w = ddb_arg_obj(c, in, "WarmThroughput");

    units[0] = units[1] = 0;
    if (!w)
        return false;
    for (int i = 0; i < 2; i++)
        if (!ddb_arg_int(c, w, warm_units[i], &units[i]))
            units[i] = 0;
        else if (units[i] < 1)
            units[i] = -1; /* given, and below any minimum */
    return true;
}

/* warm_current - unit @i of @desc's warm throughput. */
static int64_t warm_current(const cJSON *desc, int i)
{
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(desc, "WarmThroughput");
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(w, warm_units[i]);

    return cJSON_IsNumber(u) ? (int64_t)u->valuedouble : warm_base[i];
}

enum err_code table_warm_set(cJSON *desc, const int64_t units[2], struct err *e)
{
    int64_t now[2];
    cJSON *w;

    if (units[0] == 0 && units[1] == 0)
        return err_set(e, ERR_INVALID,
                       "One or more parameter values were invalid: WarmThroughput needs "
                       "ReadUnitsPerSecond or WriteUnitsPerSecond");
    for (int i = 0; i < 2; i++) {
        now[i] = warm_current(desc, i);
        if (units[i] == 0)
            continue;
        if (units[i] < warm_base[i])
            return err_set(e, ERR_INVALID,
                           "One or more parameter values were invalid: Requested %s for "
                           "WarmThroughput is lower than the minimum value: %lld",
                           warm_units[i], (long long)warm_base[i]);
        if (units[i] < now[i])
            return err_set(e, ERR_INVALID,
                           "One or more parameter values were invalid: Requested %s for "
                           "WarmThroughput (%lld) is lower than current WarmThroughput value: "
                           "%lld. Warm throughput cannot be decreased",
                           warm_units[i], (long long)units[i], (long long)now[i]);
        now[i] = units[i];
    }
    cJSON_DeleteItemFromObjectCaseSensitive(desc, "WarmThroughput");
    w = cJSON_AddObjectToObject(desc, "WarmThroughput");
    for (int i = 0; i < 2; i++)
        cJSON_AddNumberToObject(w, warm_units[i], (double)now[i]);
    cJSON_AddStringToObject(w, "Status", "ACTIVE");
    return ERR_OK;
}

void table_warm_describe(cJSON *desc)
{
    cJSON *w;

    if (cJSON_GetObjectItemCaseSensitive(desc, "WarmThroughput"))
        return;
    w = cJSON_AddObjectToObject(desc, "WarmThroughput");
    for (int i = 0; i < 2; i++)
        cJSON_AddNumberToObject(w, warm_units[i], (double)warm_base[i]);
    cJSON_AddStringToObject(w, "Status", "ACTIVE");
}

/* ---- OnDemandThroughput ---- */

static const char *const odt_units[2] = {"MaxReadRequestUnits", "MaxWriteRequestUnits"};

bool table_odt_arg(struct ddb_call *c, const cJSON *in, int64_t units[2])
{
    const cJSON *o = ddb_arg_obj(c, in, "OnDemandThroughput");

    units[0] = units[1] = 0;
    if (!o)
        return false;
    for (int i = 0; i < 2; i++)
        if (!ddb_arg_int(c, o, odt_units[i], &units[i]))
            units[i] = 0;
        else if (units[i] == 0 || units[i] < -1)
            units[i] = -2; /* given, and neither -1 nor a maximum */
    return true;
}

enum err_code table_odt_set(cJSON *desc, const int64_t units[2], struct err *e)
{
    const cJSON *cur = cJSON_GetObjectItemCaseSensitive(desc, "OnDemandThroughput");
    int64_t now[2];
    cJSON *o;

    if (units[0] == 0 && units[1] == 0)
        return err_set(e, ERR_INVALID,
                       "One or more parameter values were invalid: OnDemandThroughput needs "
                       "MaxReadRequestUnits or MaxWriteRequestUnits");
    for (int i = 0; i < 2; i++) {
        const cJSON *u = cJSON_GetObjectItemCaseSensitive(cur, odt_units[i]);

        if (units[i] == -2)
            return err_set(e, ERR_INVALID,
                           "One or more parameter values were invalid: %s must be -1 (no "
                           "maximum) or at least 1",
                           odt_units[i]);
        now[i] = units[i] ? units[i] : cJSON_IsNumber(u) ? (int64_t)u->valuedouble : -1;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(desc, "OnDemandThroughput");
    o = cJSON_AddObjectToObject(desc, "OnDemandThroughput");
    for (int i = 0; i < 2; i++)
        cJSON_AddNumberToObject(o, odt_units[i], (double)now[i]);
    return ERR_OK;
}

/* ---- SSESpecification ---- */

static const char *const sse_types[] = {"AES256", "KMS", NULL};

bool table_sse_arg(struct ddb_call *c, const cJSON *in, struct table_sse *out)
{
    const cJSON *s = ddb_arg_obj(c, in, "SSESpecification");
    int type;

    memset(out, 0, sizeof(*out));
    if (!s)
        return false;
    ddb_arg_bool(c, s, "Enabled", &out->enabled);
    type = ddb_arg_enum(c, s, "SSEType", "sSESpecification.sSEType", sse_types);
    out->key = ddb_arg_str(c, s, "KMSMasterKeyId");
    if (type == 1) /* asking for KMS is asking for a KMS key */
        out->enabled = true;
    /* the dynamodb model gives no length; 2048 is KMS's KeyId maximum */
    ddb_check_len(c, out->key, "sSESpecification.kMSMasterKeyId", 0, 2048, false);
    return true;
}

enum err_code table_sse_set(struct ddb *d, cJSON *desc, const struct table_sse *sse, struct err *e)
{
    char arn[2200], id[37];
    cJSON *o;

    if (!sse->enabled) {
        if (sse->key)
            return err_set(e, ERR_INVALID,
                           "One or more parameter values were invalid: KMSMasterKeyId can only "
                           "be specified when SSE is enabled");
        cJSON_DeleteItemFromObjectCaseSensitive(desc, "SSEDescription");
        return ERR_OK;
    }
    if (sse->key && strncmp(sse->key, "arn:", 4) == 0) {
        snprintf(arn, sizeof(arn), "%s", sse->key);
    } else if (sse->key) {
        snprintf(arn, sizeof(arn), "arn:aws:kms:%s:%s:%s%s", d->region, d->account,
                 strncmp(sse->key, "alias/", 6) == 0 ? "" : "key/", sse->key);
    } else {
        /* the region's AWS managed key for DynamoDB */
        const cJSON *cur = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(desc, "SSEDescription"), "KMSMasterKeyArn");

        if (cJSON_IsString(cur))
            snprintf(arn, sizeof(arn), "%s", cur->valuestring);
        else {
            ddb_uuid(id);
            snprintf(arn, sizeof(arn), "arn:aws:kms:%s:%s:key/%s", d->region, d->account, id);
        }
    }
    cJSON_DeleteItemFromObjectCaseSensitive(desc, "SSEDescription");
    o = cJSON_AddObjectToObject(desc, "SSEDescription");
    cJSON_AddStringToObject(o, "Status", "ENABLED");
    cJSON_AddStringToObject(o, "SSEType", "KMS");
    cJSON_AddStringToObject(o, "KMSMasterKeyArn", arn);
    return ERR_OK;
}
