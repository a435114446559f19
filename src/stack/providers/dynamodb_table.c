/* dynamodb_table.c - aws:dynamodb:Table through CreateTable / UpdateTable / DeleteTable.
 *
 * Inputs as Pulumi AWS v6: name, billingMode (PROVISIONED unless
 * PAY_PER_REQUEST, with readCapacity/writeCapacity), hashKey, rangeKey,
 * attributes [{name, type}], globalSecondaryIndexes [{name, hashKey, rangeKey,
 * projectionType, nonKeyAttributes, readCapacity, writeCapacity}] (added,
 * changed and removed one at a time through UpdateTable
 * GlobalSecondaryIndexUpdates, as DynamoDB takes them), localSecondaryIndexes
 * [{name, rangeKey, projectionType, nonKeyAttributes}] (fixed at creation: a
 * change replaces), ttl {attributeName, enabled} (UpdateTimeToLive),
 * streamEnabled, streamViewType, replicas [{regionName}] (global table version
 * 2019.11.21: UpdateTable ReplicaUpdates), deletionProtectionEnabled,
 * tableClass, tags, pointInTimeRecovery {enabled, recoveryPeriodInDays}
 * (UpdateContinuousBackups at create and update, read back through
 * DescribeContinuousBackups; it is per region, as in DynamoDB);
 * restoreSourceName or restoreSourceTableArn with restoreDateTime (RFC 3339)
 * or restoreToLatestTime create the table by RestoreTableToPointInTime (the
 * program's billing, capacity and indexes as overrides; stream, deletion
 * protection, class and tags set after it; a change replaces the table).
 * Outputs: id (the name), arn, name, streamArn, streamLabel. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mem.h"
#include "stack_expr.h"
#include "stack_provider.h"

#define DDB   "dynamodb"
#define T(op) "DynamoDB_20120810." op

enum { WAIT_DEFAULT_MS = 60000, WAIT_MS = 100 };

static enum err_code describe(const struct stack_target *t, const char *name, cJSON **table,
                              struct err *e)
{
    cJSON *req = cJSON_CreateObject(), *resp = NULL;
    enum err_code rc;

    cJSON_AddStringToObject(req, "TableName", name);
    rc = stack_prov_json(t, DDB, T("DescribeTable"), req, &resp, NULL, 0, e);
    cJSON_Delete(req);
    *table = NULL;
    if (rc == ERR_OK) {
        *table = cJSON_DetachItemFromObject(resp, "Table");
        if (!*table)
            rc = err_set(e, ERR_IO, "%s: DescribeTable answered without a Table", t->region);
    }
    cJSON_Delete(resp);
    return rc;
}

static bool all_active(const cJSON *list, const char *status_key)
{
    const cJSON *r;
    cJSON_ArrayForEach(r, list)
    {
        const char *s = stack_prov_str(r, status_key, "ACTIVE");
        if (strcmp(s, "ACTIVE") != 0)
            return false;
    }
    return true;
}

/* Wait until the table is ACTIVE with every replica ACTIVE; @table owned out (may be NULL). */
static enum err_code wait_active(const struct stack_target *t, const char *name, cJSON **table,
                                 struct err *e)
{
    long long until = stack_prov_deadline(t, WAIT_DEFAULT_MS);
    char within[64];
    do {
        cJSON *tb;
        enum err_code rc = describe(t, name, &tb, e);
        if (rc)
            return rc;
        if (!strcmp(stack_prov_str(tb, "TableStatus", "ACTIVE"), "ACTIVE") &&
            all_active(cJSON_GetObjectItem(tb, "Replicas"), "ReplicaStatus") &&
            all_active(cJSON_GetObjectItem(tb, "GlobalSecondaryIndexes"), "IndexStatus")) {
            if (table)
                *table = tb;
            else
                cJSON_Delete(tb);
            return ERR_OK;
        }
        cJSON_Delete(tb);
    } while (!stack_prov_waited(t, until, WAIT_MS, within, sizeof(within)));
    return err_set(e, ERR_IO, "%s: table %s did not become ACTIVE %s", t->region, name, within);
}

/* Wait until @t's region has no table @name (deleted, or a replica removed): @after says
 * after what, in the error. */
static enum err_code wait_gone(const struct stack_target *t, const char *name, const char *after,
                               struct err *e)
{
    long long until = stack_prov_deadline(t, WAIT_DEFAULT_MS);
    char within[64];
    do {
        cJSON *tb = NULL;
        enum err_code rc = describe(t, name, &tb, e);
        cJSON_Delete(tb);
        if (rc == ERR_NOTFOUND)
            return ERR_OK;
        if (rc)
            return rc;
    } while (!stack_prov_waited(t, until, WAIT_MS, within, sizeof(within)));
    return err_set(e, ERR_IO, "%s: table %s was not deleted %s %s", t->region, name, within, after);
}

static cJSON *outputs_of(const cJSON *table)
{
    cJSON *o = cJSON_CreateObject();
    const char *name = stack_prov_str(table, "TableName", "");
    cJSON_AddStringToObject(o, "id", name);
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddStringToObject(o, "arn", stack_prov_str(table, "TableArn", ""));
    cJSON_AddStringToObject(o, "streamArn", stack_prov_str(table, "LatestStreamArn", ""));
    cJSON_AddStringToObject(o, "streamLabel", stack_prov_str(table, "LatestStreamLabel", ""));
    return o;
}

static cJSON *tags_list(const cJSON *tags)
{
    cJSON *l = cJSON_CreateArray();
    const cJSON *t;
    cJSON_ArrayForEach(t, tags)
    {
        cJSON *kv = cJSON_CreateObject();
        cJSON_AddStringToObject(kv, "Key", t->string);
        cJSON_AddStringToObject(kv, "Value", cJSON_IsString(t) ? t->valuestring : "");
        cJSON_AddItemToArray(l, kv);
    }
    return l;
}

static void add_stream_spec(cJSON *req, const cJSON *in)
{
    const cJSON *en = cJSON_GetObjectItem(in, "streamEnabled");
    cJSON *s = cJSON_AddObjectToObject(req, "StreamSpecification");
    cJSON_AddBoolToObject(s, "StreamEnabled", cJSON_IsTrue(en));
    if (cJSON_IsTrue(en))
        cJSON_AddStringToObject(s, "StreamViewType",
                                stack_prov_str(in, "streamViewType", "NEW_AND_OLD_IMAGES"));
}

static enum err_code update_table(const struct stack_target *t, cJSON *req, struct err *e)
{
    enum err_code rc = stack_prov_json(t, DDB, T("UpdateTable"), req, NULL, NULL, 0, e);
    cJSON_Delete(req);
    return rc;
}

/* stream_request - UpdateTable of @name's stream: on with @in's view type,
 * or off (@in NULL, or without streamEnabled: true). */
static cJSON *stream_request(const char *name, const cJSON *in)
{
    cJSON *req = cJSON_CreateObject();

    cJSON_AddStringToObject(req, "TableName", name);
    add_stream_spec(req, in);
    return req;
}

/* sync_stream - the table's stream as @in asks, from the stream it has: a
 * new view type needs it off, then on again; a stream that is already as
 * asked (DynamoDB turned one on for the first replica) is left alone. */
static enum err_code sync_stream(const struct stack_target *t, const char *name, const cJSON *in,
                                 struct err *e)
{
    cJSON *tb = NULL;
    const cJSON *ss;
    bool want = cJSON_IsTrue(cJSON_GetObjectItem(in, "streamEnabled")), have;
    const char *view = stack_prov_str(in, "streamViewType", "NEW_AND_OLD_IMAGES");
    enum err_code rc = describe(t, name, &tb, e);

    if (rc)
        return rc;
    ss = cJSON_GetObjectItem(tb, "StreamSpecification");
    have = cJSON_IsTrue(cJSON_GetObjectItem(ss, "StreamEnabled"));
    if (have == want && (!want || !strcmp(stack_prov_str(ss, "StreamViewType", ""), view))) {
        cJSON_Delete(tb);
        return ERR_OK;
    }
    cJSON_Delete(tb);
    if (have && want &&
        ((rc = update_table(t, stream_request(name, NULL), e)) ||
         (rc = wait_active(t, name, NULL, e))))
        return rc;
    if ((rc = update_table(t, stream_request(name, in), e)))
        return rc;
    return wait_active(t, name, NULL, e);
}

static cJSON *replica_update(const char *name, const char *verb, const char *region)
{
    cJSON *req = cJSON_CreateObject(), *u = cJSON_CreateObject(), *c = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "TableName", name);
    cJSON_AddStringToObject(c, "RegionName", region);
    cJSON_AddItemToObject(u, verb, c);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(req, "ReplicaUpdates"), u);
    return req;
}

static bool has_replica(const cJSON *replicas, const char *region)
{
    const cJSON *r;
    cJSON_ArrayForEach(r, replicas)
    {
        const char *rn = stack_prov_str(r, "regionName", stack_prov_str(r, "RegionName", ""));
        if (!strcmp(rn, region))
            return true;
    }
    return false;
}

/* Add the replicas @want has and @have lacks, then remove the reverse, one at a time
 * (DynamoDB takes one replica update per UpdateTable call). */
static enum err_code sync_replicas(const struct stack_target *t, const char *name,
                                   const cJSON *want, const cJSON *have, struct err *e)
{
    const cJSON *r;
    enum err_code rc;

    cJSON_ArrayForEach(r, want)
    {
        const char *rn = stack_prov_str(r, "regionName", "");
        if (has_replica(have, rn))
            continue;
        if ((rc = update_table(t, replica_update(name, "Create", rn), e)))
            return rc;
        if ((rc = wait_active(t, name, NULL, e)))
            return rc;
    }
    cJSON_ArrayForEach(r, have)
    {
        const char *rn = stack_prov_str(r, "regionName", stack_prov_str(r, "RegionName", ""));
        if (has_replica(want, rn) || !strcmp(rn, t->region))
            continue;
        if ((rc = update_table(t, replica_update(name, "Delete", rn), e)))
            return rc;
        if ((rc = wait_active(t, name, NULL, e)))
            return rc;
    }
    return ERR_OK;
}

static cJSON *attr_defs(const cJSON *in, const char *hash)
{
    cJSON *ad = cJSON_CreateArray();
    const cJSON *a;
    cJSON_ArrayForEach(a, cJSON_GetObjectItem(in, "attributes"))
    {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "AttributeName", stack_prov_str(a, "name", ""));
        cJSON_AddStringToObject(d, "AttributeType", stack_prov_str(a, "type", "S"));
        cJSON_AddItemToArray(ad, d);
    }
    if (cJSON_GetArraySize(ad) == 0 && hash) { /* Pulumi requires attributes; default the key */
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "AttributeName", hash);
        cJSON_AddStringToObject(d, "AttributeType", "S");
        cJSON_AddItemToArray(ad, d);
    }
    return ad;
}

static cJSON *key_schema(const char *hash, const char *range)
{
    cJSON *ks = cJSON_CreateArray(), *k = cJSON_CreateObject();
    cJSON_AddStringToObject(k, "AttributeName", hash ? hash : "");
    cJSON_AddStringToObject(k, "KeyType", "HASH");
    cJSON_AddItemToArray(ks, k);
    if (range) {
        k = cJSON_CreateObject();
        cJSON_AddStringToObject(k, "AttributeName", range);
        cJSON_AddStringToObject(k, "KeyType", "RANGE");
        cJSON_AddItemToArray(ks, k);
    }
    return ks;
}

static bool provisioned(const cJSON *in)
{
    return strcmp(stack_prov_str(in, "billingMode", "PROVISIONED"), "PAY_PER_REQUEST") != 0;
}

/* ProvisionedThroughput from @obj's readCapacity/writeCapacity (1 when missing). */
static cJSON *throughput(const cJSON *obj)
{
    cJSON *pt = cJSON_CreateObject();
    const cJSON *r = cJSON_GetObjectItem(obj, "readCapacity");
    const cJSON *w = cJSON_GetObjectItem(obj, "writeCapacity");
    cJSON_AddNumberToObject(pt, "ReadCapacityUnits", cJSON_IsNumber(r) ? r->valuedouble : 1);
    cJSON_AddNumberToObject(pt, "WriteCapacityUnits", cJSON_IsNumber(w) ? w->valuedouble : 1);
    return pt;
}

/* An index of the program as CreateTable / GlobalSecondaryIndexUpdates.Create take it: a
 * GSI has its own hashKey, an LSI the table's (@table_hash). */
static cJSON *index_spec(const cJSON *ix, const cJSON *in, const char *table_hash)
{
    cJSON *d = cJSON_CreateObject(), *pj;
    const cJSON *nk = cJSON_GetObjectItem(ix, "nonKeyAttributes");
    cJSON_AddStringToObject(d, "IndexName", stack_prov_str(ix, "name", ""));
    cJSON_AddItemToObject(d, "KeySchema",
                          key_schema(table_hash ? table_hash : stack_prov_str(ix, "hashKey", ""),
                                     stack_prov_str(ix, "rangeKey", NULL)));
    pj = cJSON_AddObjectToObject(d, "Projection");
    cJSON_AddStringToObject(pj, "ProjectionType", stack_prov_str(ix, "projectionType", "ALL"));
    if (cJSON_GetArraySize(nk) > 0)
        cJSON_AddItemToObject(pj, "NonKeyAttributes", cJSON_Duplicate(nk, true));
    if (!table_hash && provisioned(in))
        cJSON_AddItemToObject(d, "ProvisionedThroughput", throughput(ix));
    return d;
}

/* nonKeyAttributes is a set in the provider's schema: order does not matter. */
static bool same_set(const cJSON *a, const cJSON *b)
{
    const cJSON *x, *y;
    if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b))
        return false;
    cJSON_ArrayForEach(x, a)
    {
        bool hit = false;
        cJSON_ArrayForEach(y, b) hit = hit || cJSON_Compare(x, y, true);
        if (!hit)
            return false;
    }
    return true;
}

static bool same_str(const cJSON *a, const cJSON *b, const char *key, const char *def)
{
    const char *x = stack_prov_str(a, key, def), *y = stack_prov_str(b, key, def);
    return (!x && !y) || (x && y && !strcmp(x, y));
}

static double num_or(const cJSON *o, const char *key, double def)
{
    const cJSON *v = cJSON_GetObjectItem(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : def;
}

static enum err_code gsi_update(const struct stack_target *t, const char *name, const cJSON *in,
                                const char *verb, cJSON *what, struct err *e)
{
    cJSON *req = cJSON_CreateObject(), *u = cJSON_CreateObject();
    enum err_code rc;
    cJSON_AddStringToObject(req, "TableName", name);
    if (!strcmp(verb, "Create"))
        cJSON_AddItemToObject(req, "AttributeDefinitions",
                              attr_defs(in, stack_prov_str(in, "hashKey", NULL)));
    cJSON_AddItemToObject(u, verb, what);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(req, "GlobalSecondaryIndexUpdates"), u);
    if ((rc = update_table(t, req, e)))
        return rc;
    return wait_active(t, name, NULL, e);
}

/* Bring the table's GSIs from @was (the inputs last applied) to @now's, by name: removed
 * ones deleted, new ones created, a changed key or projection deleted and created again,
 * a changed capacity updated; one update at a time, as DynamoDB takes them. */
static enum err_code sync_gsis(const struct stack_target *t, const char *name, const cJSON *was,
                               const cJSON *now, struct err *e)
{
    const cJSON *wl = cJSON_GetObjectItem(was, "globalSecondaryIndexes");
    const cJSON *nl = cJSON_GetObjectItem(now, "globalSecondaryIndexes");
    const cJSON *g;
    enum err_code rc;

    cJSON_ArrayForEach(g, wl)
    {
        const char *ixn = stack_prov_str(g, "name", "");
        const cJSON *n = stack_prov_named(nl, ixn);
        cJSON *del;
        if (n && same_str(g, n, "hashKey", NULL) && same_str(g, n, "rangeKey", NULL) &&
            same_str(g, n, "projectionType", "ALL") &&
            same_set(cJSON_GetObjectItem(g, "nonKeyAttributes"),
                     cJSON_GetObjectItem(n, "nonKeyAttributes")))
            continue;
        del = cJSON_CreateObject();
        cJSON_AddStringToObject(del, "IndexName", ixn);
        if ((rc = gsi_update(t, name, now, "Delete", del, e)))
            return rc;
    }
    cJSON_ArrayForEach(g, nl)
    {
        const cJSON *w = stack_prov_named(wl, stack_prov_str(g, "name", ""));
        bool kept = w && same_str(g, w, "hashKey", NULL) && same_str(g, w, "rangeKey", NULL) &&
                    same_str(g, w, "projectionType", "ALL") &&
                    same_set(cJSON_GetObjectItem(g, "nonKeyAttributes"),
                             cJSON_GetObjectItem(w, "nonKeyAttributes"));
        if (!kept) {
            if ((rc = gsi_update(t, name, now, "Create", index_spec(g, now, NULL), e)))
                return rc;
        } else if (provisioned(now) &&
                   (!provisioned(was) ||
                    num_or(g, "readCapacity", 1) != num_or(w, "readCapacity", 1) ||
                    num_or(g, "writeCapacity", 1) != num_or(w, "writeCapacity", 1))) {
            cJSON *upd = cJSON_CreateObject();
            cJSON_AddStringToObject(upd, "IndexName", stack_prov_str(g, "name", ""));
            cJSON_AddItemToObject(upd, "ProvisionedThroughput", throughput(g));
            if ((rc = gsi_update(t, name, now, "Update", upd, e)))
                return rc;
        }
    }
    return ERR_OK;
}

/* ttl: read what the table has and change it to what @in asks (a different attribute
 * needs TTL off, then on again). */
static enum err_code sync_ttl(const struct stack_target *t, const char *name, const cJSON *in,
                              struct err *e)
{
    const cJSON *ttl = cJSON_GetObjectItem(in, "ttl");
    bool want = cJSON_IsTrue(cJSON_GetObjectItem(ttl, "enabled"));
    const char *attr = stack_prov_str(ttl, "attributeName", "");
    cJSON *req = cJSON_CreateObject(), *resp = NULL, *spec;
    const cJSON *d;
    char *cur = NULL;
    enum err_code rc;

    cJSON_AddStringToObject(req, "TableName", name);
    rc = stack_prov_json(t, DDB, T("DescribeTimeToLive"), req, &resp, NULL, 0, e);
    if (rc) {
        cJSON_Delete(req);
        return rc;
    }
    d = cJSON_GetObjectItem(resp, "TimeToLiveDescription");
    if (!strcmp(stack_prov_str(d, "TimeToLiveStatus", "DISABLED"), "ENABLED"))
        cur = xstrdup(stack_prov_str(d, "AttributeName", ""));
    cJSON_Delete(resp);
    if (want && !*attr) {
        rc = err_set(e, ERR_INVALID, "aws:dynamodb:Table ttl.enabled needs ttl.attributeName");
    } else if (cur && (!want || strcmp(cur, attr))) {
        spec = cJSON_AddObjectToObject(req, "TimeToLiveSpecification");
        cJSON_AddStringToObject(spec, "AttributeName", cur);
        cJSON_AddBoolToObject(spec, "Enabled", false);
        rc = stack_prov_json(t, DDB, T("UpdateTimeToLive"), req, NULL, NULL, 0, e);
        cJSON_DeleteItemFromObject(req, "TimeToLiveSpecification");
        free(cur);
        cur = NULL;
    }
    if (rc == ERR_OK && want && !cur) {
        spec = cJSON_AddObjectToObject(req, "TimeToLiveSpecification");
        cJSON_AddStringToObject(spec, "AttributeName", attr);
        cJSON_AddBoolToObject(spec, "Enabled", true);
        rc = stack_prov_json(t, DDB, T("UpdateTimeToLive"), req, NULL, NULL, 0, e);
    }
    free(cur);
    cJSON_Delete(req);
    return rc;
}

/* pointInTimeRecovery: read what the table has and change it to what @in asks
 * (absent: off). */
static enum err_code sync_pitr(const struct stack_target *t, const char *name, const cJSON *in,
                               struct err *e)
{
    const cJSON *pitr = cJSON_GetObjectItem(in, "pointInTimeRecovery");
    const cJSON *days = cJSON_GetObjectItem(pitr, "recoveryPeriodInDays");
    bool want = cJSON_IsTrue(cJSON_GetObjectItem(pitr, "enabled"));
    cJSON *req = cJSON_CreateObject(), *resp = NULL, *spec;
    const cJSON *d;
    bool on;
    double have = 0;
    enum err_code rc;

    cJSON_AddStringToObject(req, "TableName", name);
    rc = stack_prov_json(t, DDB, T("DescribeContinuousBackups"), req, &resp, NULL, 0, e);
    if (rc) {
        cJSON_Delete(req);
        return rc;
    }
    d = cJSON_GetObjectItem(cJSON_GetObjectItem(resp, "ContinuousBackupsDescription"),
                            "PointInTimeRecoveryDescription");
    on = !strcmp(stack_prov_str(d, "PointInTimeRecoveryStatus", "DISABLED"), "ENABLED");
    have = num_or(d, "RecoveryPeriodInDays", 0);
    cJSON_Delete(resp);
    if (on != want || (want && cJSON_IsNumber(days) && days->valuedouble != have)) {
        spec = cJSON_AddObjectToObject(req, "PointInTimeRecoverySpecification");
        cJSON_AddBoolToObject(spec, "PointInTimeRecoveryEnabled", want);
        if (want && cJSON_IsNumber(days))
            cJSON_AddNumberToObject(spec, "RecoveryPeriodInDays", days->valuedouble);
        rc = stack_prov_json(t, DDB, T("UpdateContinuousBackups"), req, NULL, NULL, 0, e);
    }
    cJSON_Delete(req);
    return rc;
}

/* rfc3339 - seconds since the epoch of "YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)". */
static bool rfc3339(const char *s, double *out)
{
    struct tm tm = {0};
    const char *p;
    char *end;
    double frac = 0;
    int n = 0, hh, mm, off = 0;

    if (sscanf(s, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 ||
        !n)
        return false;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    p = s + n;
    if (*p == '.') {
        frac = strtod(p, &end);
        p = end;
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d", &hh, &mm) == 2 &&
               strlen(p) == 6) {
        off = (hh * 60 + mm) * 60 * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return false;
    }
    if (*p)
        return false;
    *out = (double)timegm(&tm) + frac - off;
    return true;
}

/* restore_request - RestoreTableToPointInTime of the program's restore
 * properties, with CreateTable request @create's billing, capacity and
 * indexes as overrides (@create taken); NULL with @e set for a bad time. */
static cJSON *restore_request(const cJSON *in, cJSON *create, struct err *e)
{
    static const char *const over[][2] = {
        {"BillingMode", "BillingModeOverride"},
        {"ProvisionedThroughput", "ProvisionedThroughputOverride"},
        {"GlobalSecondaryIndexes", "GlobalSecondaryIndexOverride"},
        {"LocalSecondaryIndexes", "LocalSecondaryIndexOverride"}};
    const char *src = stack_prov_str(in, "restoreSourceName", NULL);
    const char *arn = stack_prov_str(in, "restoreSourceTableArn", NULL);
    const char *when = stack_prov_str(in, "restoreDateTime", NULL);
    cJSON *req = cJSON_CreateObject();
    double at = 0;

    if (when && !rfc3339(when, &at)) {
        cJSON_Delete(req);
        cJSON_Delete(create);
        err_set(e, ERR_INVALID, "aws:dynamodb:Table restoreDateTime '%s' is not an RFC 3339 time",
                when);
        return NULL;
    }
    cJSON_AddStringToObject(req, "TargetTableName", stack_prov_str(create, "TableName", ""));
    if (arn)
        cJSON_AddStringToObject(req, "SourceTableArn", arn);
    else
        cJSON_AddStringToObject(req, "SourceTableName", src ? src : "");
    if (when)
        cJSON_AddNumberToObject(req, "RestoreDateTime", at);
    else
        cJSON_AddBoolToObject(req, "UseLatestRestorableTime", true);
    for (size_t i = 0; i < sizeof(over) / sizeof(over[0]); i++) {
        cJSON *v = cJSON_DetachItemFromObject(create, over[i][0]);
        if (v)
            cJSON_AddItemToObject(req, over[i][1], v);
    }
    cJSON_Delete(create);
    return req;
}

/* restored_settings - what a restore leaves out and the program asks for:
 * a stream, deletion protection, a table class, tags. */
static enum err_code restored_settings(const struct stack_target *t, const char *name,
                                       const cJSON *in, struct err *e)
{
    const cJSON *dp = cJSON_GetObjectItem(in, "deletionProtectionEnabled");
    cJSON *req, *tb = NULL;
    enum err_code rc = ERR_OK;

    if (cJSON_IsTrue(cJSON_GetObjectItem(in, "streamEnabled")) &&
        ((rc = update_table(t, stream_request(name, in), e)) ||
         (rc = wait_active(t, name, NULL, e))))
        return rc;
    if (cJSON_IsTrue(dp) || stack_prov_str(in, "tableClass", NULL)) {
        req = cJSON_CreateObject();
        cJSON_AddStringToObject(req, "TableName", name);
        if (cJSON_IsTrue(dp))
            cJSON_AddBoolToObject(req, "DeletionProtectionEnabled", true);
        if (stack_prov_str(in, "tableClass", NULL))
            cJSON_AddStringToObject(req, "TableClass", stack_prov_str(in, "tableClass", NULL));
        if ((rc = update_table(t, req, e)) || (rc = wait_active(t, name, NULL, e)))
            return rc;
    }
    if (cJSON_GetArraySize(cJSON_GetObjectItem(in, "tags")) > 0) {
        if ((rc = describe(t, name, &tb, e)))
            return rc;
        req = cJSON_CreateObject();
        cJSON_AddStringToObject(req, "ResourceArn", stack_prov_str(tb, "TableArn", ""));
        cJSON_AddItemToObject(req, "Tags", tags_list(cJSON_GetObjectItem(in, "tags")));
        rc = stack_prov_json(t, DDB, T("TagResource"), req, NULL, NULL, 0, e);
        cJSON_Delete(req);
        cJSON_Delete(tb);
    }
    return rc;
}

static enum err_code sync_replica_settings(const struct stack_target *t, const char *name,
                                           const cJSON *old_in, const cJSON *in, struct err *e);

static enum err_code tbl_create(const struct stack_target *t, const cJSON *in, bool adopt,
                                char **id, cJSON **out, struct err *e)
{
    const char *name = stack_prov_str(in, "name", NULL);
    const char *hash = stack_prov_str(in, "hashKey", NULL);
    const char *billing = stack_prov_str(in, "billingMode", "PROVISIONED");
    const cJSON *ix, *dp = cJSON_GetObjectItem(in, "deletionProtectionEnabled");
    cJSON *req = cJSON_CreateObject(), *tb = NULL;
    char code[96];
    bool restore;
    enum err_code rc;

    *id = NULL;
    *out = NULL;
    if (!name || !hash) {
        cJSON_Delete(req);
        return err_set(e, ERR_INVALID, "aws:dynamodb:Table needs name and hashKey");
    }
    cJSON_AddStringToObject(req, "TableName", name);
    cJSON_AddItemToObject(req, "AttributeDefinitions", attr_defs(in, hash));
    cJSON_AddItemToObject(req, "KeySchema", key_schema(hash, stack_prov_str(in, "rangeKey", NULL)));
    cJSON_AddStringToObject(req, "BillingMode", billing);
    if (provisioned(in))
        cJSON_AddItemToObject(req, "ProvisionedThroughput", throughput(in));
    if (cJSON_GetArraySize(cJSON_GetObjectItem(in, "globalSecondaryIndexes")) > 0) {
        cJSON *l = cJSON_AddArrayToObject(req, "GlobalSecondaryIndexes");
        cJSON_ArrayForEach(ix, cJSON_GetObjectItem(in, "globalSecondaryIndexes"))
            cJSON_AddItemToArray(l, index_spec(ix, in, NULL));
    }
    if (cJSON_GetArraySize(cJSON_GetObjectItem(in, "localSecondaryIndexes")) > 0) {
        cJSON *l = cJSON_AddArrayToObject(req, "LocalSecondaryIndexes");
        cJSON_ArrayForEach(ix, cJSON_GetObjectItem(in, "localSecondaryIndexes"))
            cJSON_AddItemToArray(l, index_spec(ix, in, hash));
    }
    if (cJSON_IsTrue(cJSON_GetObjectItem(in, "streamEnabled")))
        add_stream_spec(req, in);
    if (cJSON_IsBool(dp))
        cJSON_AddBoolToObject(req, "DeletionProtectionEnabled", cJSON_IsTrue(dp));
    if (stack_prov_str(in, "tableClass", NULL))
        cJSON_AddStringToObject(req, "TableClass", stack_prov_str(in, "tableClass", NULL));
    if (cJSON_GetArraySize(cJSON_GetObjectItem(in, "tags")) > 0)
        cJSON_AddItemToObject(req, "Tags", tags_list(cJSON_GetObjectItem(in, "tags")));
    restore = stack_prov_str(in, "restoreSourceName", NULL) ||
              stack_prov_str(in, "restoreSourceTableArn", NULL);
    if (restore && !(req = restore_request(in, req, e)))
        return e->code;
    rc = stack_prov_json(t, DDB, restore ? T("RestoreTableToPointInTime") : T("CreateTable"), req,
                         NULL, code, sizeof(code), e);
    cJSON_Delete(req);
    if (rc && !(adopt && (!strcmp(code, "ResourceInUseException") ||
                          !strcmp(code, "TableAlreadyExistsException"))))
        return rc;
    /* a table restored now (not one adopted) gets what a restore leaves out */
    if (restore && !rc) {
        rc = wait_active(t, name, NULL, e);
        if (rc == ERR_OK)
            rc = restored_settings(t, name, in, e);
    } else {
        rc = ERR_OK;
    }
    if (rc == ERR_OK && (rc = wait_active(t, name, &tb, e)) == ERR_OK)
        rc = sync_replicas(t, name, cJSON_GetObjectItem(in, "replicas"),
                           cJSON_GetObjectItem(tb, "Replicas"), e);
    cJSON_Delete(tb);
    tb = NULL;
    if (rc == ERR_OK && cJSON_GetObjectItem(in, "ttl"))
        rc = sync_ttl(t, name, in, e);
    if (rc == ERR_OK && cJSON_GetObjectItem(in, "pointInTimeRecovery"))
        rc = sync_pitr(t, name, in, e);
    if (rc == ERR_OK)
        rc = sync_replica_settings(t, name, NULL, in, e);
    if (rc == ERR_OK)
        rc = wait_active(t, name, &tb, e);
    if (rc) {
        cJSON_Delete(tb);
        *id = xstrdup(name); /* the table exists: the engine records it for the next run */
        return rc;
    }
    *id = xstrdup(name);
    *out = outputs_of(tb);
    cJSON_Delete(tb);
    return ERR_OK;
}

/* sync_tags - the tags of @arn from @old_in's to @new_in's (nothing when they are the same). */
static enum err_code sync_tags(const struct stack_target *t, const char *arn, const cJSON *old_in,
                               const cJSON *new_in, struct err *e)
{
    const cJSON *tg, *want = cJSON_GetObjectItem(new_in, "tags");
    cJSON *untag, *keys;
    enum err_code rc = ERR_OK;

    if (stack_prov_same(cJSON_GetObjectItem(old_in, "tags"), want) || !*arn)
        return ERR_OK;
    untag = cJSON_CreateObject();
    cJSON_AddStringToObject(untag, "ResourceArn", arn);
    keys = cJSON_AddArrayToObject(untag, "TagKeys");
    cJSON_ArrayForEach(tg, cJSON_GetObjectItem(old_in, "tags"))
    {
        if (!cJSON_GetObjectItemCaseSensitive(want, tg->string))
            cJSON_AddItemToArray(keys, cJSON_CreateString(tg->string));
    }
    if (cJSON_GetArraySize(keys) > 0)
        rc = stack_prov_json(t, DDB, T("UntagResource"), untag, NULL, NULL, 0, e);
    cJSON_Delete(untag);
    if (rc == ERR_OK && cJSON_GetArraySize(want) > 0) {
        cJSON *tag = cJSON_CreateObject();
        cJSON_AddStringToObject(tag, "ResourceArn", arn);
        cJSON_AddItemToObject(tag, "Tags", tags_list(want));
        rc = stack_prov_json(t, DDB, T("TagResource"), tag, NULL, NULL, 0, e);
        cJSON_Delete(tag);
    }
    return rc;
}

static const cJSON *replica_in(const cJSON *replicas, const char *region)
{
    const cJSON *r;
    cJSON_ArrayForEach(r, replicas)
    {
        if (!strcmp(stack_prov_str(r, "regionName", ""), region))
            return r;
    }
    return NULL;
}

/* sync_replica_settings - each replica's own settings, in its region, where @in's replicas
 * ask for them and they differ from @old_in's (NULL at create): pointInTimeRecovery,
 * deletionProtectionEnabled, and with propagateTags the table's tags. */
static enum err_code sync_replica_settings(const struct stack_target *t, const char *name,
                                           const cJSON *old_in, const cJSON *in, struct err *e)
{
    const cJSON *r;

    cJSON_ArrayForEach(r, cJSON_GetObjectItem(in, "replicas"))
    {
        const char *rn = stack_prov_str(r, "regionName", "");
        const cJSON *was = replica_in(cJSON_GetObjectItem(old_in, "replicas"), rn);
        const cJSON *pitr = cJSON_GetObjectItem(r, "pointInTimeRecovery");
        const cJSON *dp = cJSON_GetObjectItem(r, "deletionProtectionEnabled");
        bool tags = cJSON_IsTrue(cJSON_GetObjectItem(r, "propagateTags"));
        struct stack_target rt = *t;
        char url[512], arn[512];
        cJSON *tb = NULL;
        enum err_code rc;

        if (!cJSON_IsBool(pitr) && !cJSON_IsBool(dp) && !tags)
            continue;
        if (was && stack_prov_same(was, r) &&
            (!tags ||
             stack_prov_same(cJSON_GetObjectItem(old_in, "tags"), cJSON_GetObjectItem(in, "tags"))))
            continue;
        if (!t->endpoint_of)
            return err_set(e, ERR_INTERNAL, "no way to reach region %s", rn);
        rt.region = rn;
        rt.endpoint = url;
        if ((rc = t->endpoint_of(t->ud, rn, url, sizeof(url), e)) ||
            (rc = wait_active(&rt, name, &tb, e)))
            return rc;
        snprintf(arn, sizeof(arn), "%s", stack_prov_str(tb, "TableArn", ""));
        cJSON_Delete(tb);
        if (cJSON_IsBool(pitr)) {
            cJSON *want = cJSON_CreateObject();
            cJSON_AddBoolToObject(cJSON_AddObjectToObject(want, "pointInTimeRecovery"), "enabled",
                                  cJSON_IsTrue(pitr));
            rc = sync_pitr(&rt, name, want, e);
            cJSON_Delete(want);
            if (rc)
                return rc;
        }
        if (cJSON_IsBool(dp) &&
            !stack_prov_same(was ? cJSON_GetObjectItem(was, "deletionProtectionEnabled") : NULL,
                             dp)) {
            cJSON *req = cJSON_CreateObject();
            cJSON_AddStringToObject(req, "TableName", name);
            cJSON_AddBoolToObject(req, "DeletionProtectionEnabled", cJSON_IsTrue(dp));
            if ((rc = update_table(&rt, req, e)) || (rc = wait_active(&rt, name, NULL, e)))
                return rc;
        }
        if (tags &&
            (rc = sync_tags(&rt, arn,
                            was && cJSON_IsTrue(cJSON_GetObjectItem(was, "propagateTags")) ? old_in
                                                                                           : NULL,
                            in, e)))
            return rc;
    }
    return ERR_OK;
}

static enum err_code tbl_update(const struct stack_target *t, const char *id, const cJSON *old_in,
                                const cJSON *new_in, const cJSON *old_out, cJSON **out,
                                struct err *e)
{
    enum err_code rc;
    cJSON *tb = NULL;
    const char *ob = stack_prov_str(old_in, "billingMode", "PROVISIONED");
    const char *nb = stack_prov_str(new_in, "billingMode", "PROVISIONED");
    const char *arn = stack_prov_str(old_out, "arn", "");

    *out = NULL;
    if (strcmp(ob, nb) ||
        !stack_prov_same(cJSON_GetObjectItem(old_in, "readCapacity"),
                         cJSON_GetObjectItem(new_in, "readCapacity")) ||
        !stack_prov_same(cJSON_GetObjectItem(old_in, "writeCapacity"),
                         cJSON_GetObjectItem(new_in, "writeCapacity"))) {
        cJSON *req = cJSON_CreateObject();
        cJSON_AddStringToObject(req, "TableName", id);
        cJSON_AddStringToObject(req, "BillingMode", nb);
        if (provisioned(new_in))
            cJSON_AddItemToObject(req, "ProvisionedThroughput", throughput(new_in));
        if ((rc = update_table(t, req, e)) || (rc = wait_active(t, id, NULL, e)))
            return rc;
    }
    for (int i = 0; i < 2; i++) {
        static const char *const prop[2] = {"deletionProtectionEnabled", "tableClass"};
        const cJSON *v = cJSON_GetObjectItem(new_in, prop[i]);
        cJSON *req;
        if (stack_prov_same(cJSON_GetObjectItem(old_in, prop[i]), v))
            continue;
        req = cJSON_CreateObject();
        cJSON_AddStringToObject(req, "TableName", id);
        if (i == 0)
            cJSON_AddBoolToObject(req, "DeletionProtectionEnabled", cJSON_IsTrue(v));
        else
            cJSON_AddStringToObject(req, "TableClass",
                                    cJSON_IsString(v) ? v->valuestring : "STANDARD");
        if ((rc = update_table(t, req, e)) || (rc = wait_active(t, id, NULL, e)))
            return rc;
    }
    if (!stack_prov_same(cJSON_GetObjectItem(old_in, "globalSecondaryIndexes"),
                         cJSON_GetObjectItem(new_in, "globalSecondaryIndexes")) ||
        (provisioned(new_in) && !provisioned(old_in)))
        if ((rc = sync_gsis(t, id, old_in, new_in, e)))
            return rc;
    if (!stack_prov_same(cJSON_GetObjectItem(old_in, "ttl"), cJSON_GetObjectItem(new_in, "ttl")))
        if ((rc = sync_ttl(t, id, new_in, e)))
            return rc;
    if (!stack_prov_same(cJSON_GetObjectItem(old_in, "pointInTimeRecovery"),
                         cJSON_GetObjectItem(new_in, "pointInTimeRecovery")))
        if ((rc = sync_pitr(t, id, new_in, e)))
            return rc;
    if (!stack_prov_same(cJSON_GetObjectItem(old_in, "streamEnabled"),
                         cJSON_GetObjectItem(new_in, "streamEnabled")) ||
        !stack_prov_same(cJSON_GetObjectItem(old_in, "streamViewType"),
                         cJSON_GetObjectItem(new_in, "streamViewType"))) {
        if ((rc = sync_stream(t, id, new_in, e)))
            return rc;
    }
    if ((rc = sync_tags(t, arn, old_in, new_in, e)))
        return rc;
    if (!stack_prov_same(cJSON_GetObjectItem(old_in, "replicas"),
                         cJSON_GetObjectItem(new_in, "replicas"))) {
        if ((rc = sync_replicas(t, id, cJSON_GetObjectItem(new_in, "replicas"),
                                cJSON_GetObjectItem(old_in, "replicas"), e)))
            return rc;
    }
    if ((rc = sync_replica_settings(t, id, old_in, new_in, e)))
        return rc;
    if ((rc = wait_active(t, id, &tb, e)))
        return rc;
    *out = outputs_of(tb);
    cJSON_Delete(tb);
    return ERR_OK;
}

static enum err_code tbl_delete(const struct stack_target *t, const char *id, const cJSON *in,
                                const cJSON *out, struct err *e)
{
    cJSON *tb = NULL, *req;
    const cJSON *r;
    enum err_code rc;

    (void)in;
    (void)out;
    rc = describe(t, id, &tb, e);
    if (rc == ERR_NOTFOUND)
        return ERR_OK;
    if (rc)
        return rc;
    /* replicas go first: DynamoDB refuses to delete a table that still has them */
    cJSON_ArrayForEach(r, cJSON_GetObjectItem(tb, "Replicas"))
    {
        if (!strcmp(stack_prov_str(r, "RegionName", ""), t->region))
            continue; /* the table itself */
        rc = update_table(t, replica_update(id, "Delete", stack_prov_str(r, "RegionName", "")), e);
        if (rc == ERR_OK)
            rc = wait_active(t, id, NULL, e);
        if (rc && rc != ERR_NOTFOUND) {
            cJSON_Delete(tb);
            return rc;
        }
    }
    cJSON_Delete(tb);
    req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "TableName", id);
    rc = stack_prov_json(t, DDB, T("DeleteTable"), req, NULL, NULL, 0, e);
    cJSON_Delete(req);
    if (rc == ERR_NOTFOUND)
        return ERR_OK;
    if (rc)
        return rc;
    return wait_gone(t, id, "after DeleteTable", e);
}

/* An index of DescribeTable as the program writes it (@global: a GSI, with its hash key and,
 * when @capacity, its throughput). */
static cJSON *index_of(const cJSON *ix, bool global, bool capacity)
{
    cJSON *o = cJSON_CreateObject();
    const cJSON *k, *pr = cJSON_GetObjectItem(ix, "Projection");
    const cJSON *pt = cJSON_GetObjectItem(ix, "ProvisionedThroughput");
    cJSON_AddStringToObject(o, "name", stack_prov_str(ix, "IndexName", ""));
    cJSON_ArrayForEach(k, cJSON_GetObjectItem(ix, "KeySchema"))
    {
        bool hash = !strcmp(stack_prov_str(k, "KeyType", ""), "HASH");
        if (hash && !global)
            continue; /* a local index shares the table's hash key */
        cJSON_AddStringToObject(o, hash ? "hashKey" : "rangeKey",
                                stack_prov_str(k, "AttributeName", ""));
    }
    cJSON_AddStringToObject(o, "projectionType", stack_prov_str(pr, "ProjectionType", "ALL"));
    if (cJSON_GetObjectItem(pr, "NonKeyAttributes"))
        cJSON_AddItemToObject(o, "nonKeyAttributes",
                              cJSON_Duplicate(cJSON_GetObjectItem(pr, "NonKeyAttributes"), 1));
    if (global && capacity) {
        cJSON_AddNumberToObject(o, "readCapacity",
                                cJSON_GetNumberValue(cJSON_GetObjectItem(pt, "ReadCapacityUnits")));
        cJSON_AddNumberToObject(
            o, "writeCapacity",
            cJSON_GetNumberValue(cJSON_GetObjectItem(pt, "WriteCapacityUnits")));
    }
    return o;
}

/* What a read (refresh, `get:`, import) reports beyond the outputs: every input the
 * provider manages that DescribeTable shows, named as the program names them. */
static void read_properties(const struct stack_target *t, cJSON *o, const cJSON *tb)
{
    const cJSON *k, *ss = cJSON_GetObjectItem(tb, "StreamSpecification");
    const cJSON *pt = cJSON_GetObjectItem(tb, "ProvisionedThroughput");
    const char *bm =
        stack_prov_str(cJSON_GetObjectItem(tb, "BillingModeSummary"), "BillingMode", "PROVISIONED");
    bool prov = strcmp(bm, "PAY_PER_REQUEST") != 0;
    cJSON *attrs = cJSON_AddArrayToObject(o, "attributes"), *l;
    cJSON_ArrayForEach(k, cJSON_GetObjectItem(tb, "KeySchema"))
    {
        const char *kt = stack_prov_str(k, "KeyType", "");
        cJSON_AddStringToObject(o, !strcmp(kt, "HASH") ? "hashKey" : "rangeKey",
                                stack_prov_str(k, "AttributeName", ""));
    }
    cJSON_ArrayForEach(k, cJSON_GetObjectItem(tb, "AttributeDefinitions"))
    {
        cJSON *a = cJSON_CreateObject();
        cJSON_AddStringToObject(a, "name", stack_prov_str(k, "AttributeName", ""));
        cJSON_AddStringToObject(a, "type", stack_prov_str(k, "AttributeType", ""));
        cJSON_AddItemToArray(attrs, a);
    }
    cJSON_AddStringToObject(o, "billingMode", bm);
    if (prov) {
        cJSON_AddNumberToObject(o, "readCapacity",
                                cJSON_GetNumberValue(cJSON_GetObjectItem(pt, "ReadCapacityUnits")));
        cJSON_AddNumberToObject(
            o, "writeCapacity",
            cJSON_GetNumberValue(cJSON_GetObjectItem(pt, "WriteCapacityUnits")));
    }
    cJSON_AddBoolToObject(o, "streamEnabled",
                          cJSON_IsTrue(cJSON_GetObjectItem(ss, "StreamEnabled")));
    if (cJSON_IsTrue(cJSON_GetObjectItem(ss, "StreamEnabled")))
        cJSON_AddStringToObject(o, "streamViewType", stack_prov_str(ss, "StreamViewType", ""));
    l = cJSON_AddArrayToObject(o, "globalSecondaryIndexes");
    cJSON_ArrayForEach(k, cJSON_GetObjectItem(tb, "GlobalSecondaryIndexes"))
        cJSON_AddItemToArray(l, index_of(k, true, prov));
    l = cJSON_AddArrayToObject(o, "localSecondaryIndexes");
    cJSON_ArrayForEach(k, cJSON_GetObjectItem(tb, "LocalSecondaryIndexes"))
        cJSON_AddItemToArray(l, index_of(k, false, false));
    cJSON_AddBoolToObject(o, "deletionProtectionEnabled",
                          cJSON_IsTrue(cJSON_GetObjectItem(tb, "DeletionProtectionEnabled")));
    cJSON_AddStringToObject(
        o, "tableClass",
        stack_prov_str(cJSON_GetObjectItem(tb, "TableClassSummary"), "TableClass", "STANDARD"));
    l = cJSON_AddArrayToObject(o, "replicas");
    cJSON_ArrayForEach(k, cJSON_GetObjectItem(tb, "Replicas"))
    {
        const char *rn = stack_prov_str(k, "RegionName", "");
        cJSON *r;
        if (!strcmp(rn, t->region))
            continue; /* the table itself */
        r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "regionName", rn);
        cJSON_AddItemToArray(l, r);
    }
}

/* The table's TTL, point-in-time recovery and tags as the program writes them
 * ({attributeName, enabled}; {enabled[, recoveryPeriodInDays when @in gives it]}; a map). */
static enum err_code read_ttl_tags(const struct stack_target *t, cJSON *o, const char *name,
                                   const cJSON *in, struct err *e)
{
    cJSON *req = cJSON_CreateObject(), *resp = NULL, *ttl, *tags, *pitr;
    const cJSON *d, *tg;
    enum err_code rc;

    cJSON_AddStringToObject(req, "TableName", name);
    rc = stack_prov_json(t, DDB, T("DescribeTimeToLive"), req, &resp, NULL, 0, e);
    cJSON_Delete(req);
    if (rc)
        return rc;
    d = cJSON_GetObjectItem(resp, "TimeToLiveDescription");
    ttl = cJSON_AddObjectToObject(o, "ttl");
    if (!strcmp(stack_prov_str(d, "TimeToLiveStatus", "DISABLED"), "ENABLED")) {
        cJSON_AddStringToObject(ttl, "attributeName", stack_prov_str(d, "AttributeName", ""));
        cJSON_AddBoolToObject(ttl, "enabled", true);
    } else {
        cJSON_AddBoolToObject(ttl, "enabled", false);
    }
    cJSON_Delete(resp);
    req = cJSON_CreateObject();
    resp = NULL;
    cJSON_AddStringToObject(req, "TableName", name);
    rc = stack_prov_json(t, DDB, T("DescribeContinuousBackups"), req, &resp, NULL, 0, e);
    cJSON_Delete(req);
    if (rc)
        return rc;
    d = cJSON_GetObjectItem(cJSON_GetObjectItem(resp, "ContinuousBackupsDescription"),
                            "PointInTimeRecoveryDescription");
    pitr = cJSON_AddObjectToObject(o, "pointInTimeRecovery");
    cJSON_AddBoolToObject(
        pitr, "enabled",
        !strcmp(stack_prov_str(d, "PointInTimeRecoveryStatus", "DISABLED"), "ENABLED"));
    if (cJSON_GetObjectItem(d, "RecoveryPeriodInDays") &&
        cJSON_GetObjectItem(cJSON_GetObjectItem(in, "pointInTimeRecovery"), "recoveryPeriodInDays"))
        cJSON_AddNumberToObject(pitr, "recoveryPeriodInDays", num_or(d, "RecoveryPeriodInDays", 0));
    cJSON_Delete(resp);
    req = cJSON_CreateObject();
    resp = NULL;
    cJSON_AddStringToObject(req, "ResourceArn", stack_prov_str(o, "arn", ""));
    rc = stack_prov_json(t, DDB, T("ListTagsOfResource"), req, &resp, NULL, 0, e);
    cJSON_Delete(req);
    if (rc == ERR_OK) {
        tags = cJSON_AddObjectToObject(o, "tags");
        cJSON_ArrayForEach(tg, cJSON_GetObjectItem(resp, "Tags")) cJSON_AddStringToObject(
            tags, stack_prov_str(tg, "Key", ""), stack_prov_str(tg, "Value", ""));
    }
    cJSON_Delete(resp);
    return rc;
}

static enum err_code tbl_read(const struct stack_target *t, const char *id, const cJSON *in,
                              cJSON **out, bool *gone, struct err *e)
{
    cJSON *tb = NULL;
    enum err_code rc = describe(t, id, &tb, e);
    *out = NULL;
    *gone = rc == ERR_NOTFOUND;
    if (*gone)
        return ERR_OK;
    if (rc)
        return rc;
    *out = outputs_of(tb);
    read_properties(t, *out, tb);
    cJSON_Delete(tb);
    /* TTL and tags have calls of their own: a table gone meanwhile reads as gone */
    rc = read_ttl_tags(t, *out, id, in, e);
    if (rc) {
        cJSON_Delete(*out);
        *out = NULL;
        *gone = rc == ERR_NOTFOUND;
    }
    return *gone ? ERR_OK : rc;
}

static const char *const replace_props[] = {"name",
                                            "hashKey",
                                            "rangeKey",
                                            "localSecondaryIndexes",
                                            "restoreSourceName",
                                            "restoreSourceTableArn",
                                            "restoreDateTime",
                                            "restoreToLatestTime",
                                            NULL};
static const char *const outputs[] = {"id", "arn", "streamArn", "streamLabel", NULL};

/* tbl_check - a table with replicas needs streamEnabled: true with the
 * NEW_AND_OLD_IMAGES view type. A global table replicates through its
 * stream: DynamoDB turns a NEW_AND_OLD_IMAGES stream on when the first
 * replica is made and refuses to turn it off or change it while replicas
 * remain, so a program saying otherwise would ask every later change to
 * turn it off. Refused before anything is made; the Pulumi and Terraform
 * table documents that stream_enabled must be true with replicas. */
static const char *tbl_check(const cJSON *in, const char **prop)
{
    const cJSON *reps = cJSON_GetObjectItem(in, "replicas");
    const cJSON *en = cJSON_GetObjectItem(in, "streamEnabled");
    const cJSON *vt = cJSON_GetObjectItem(in, "streamViewType");
    const cJSON *r;

    if (!cJSON_IsArray(reps) || cJSON_GetArraySize(reps) == 0)
        return NULL;
    cJSON_ArrayForEach(r, reps)
    {
        const char *cm = stack_prov_str(r, "consistencyMode", "EVENTUAL");
        *prop = "replicas";
        if (stack_prov_str(r, "kmsKeyArn", NULL))
            return "replicas[].kmsKeyArn is valid in Pulumi but Tandem does not support it yet "
                   "(a replica is encrypted as its region encrypts every table)";
        if (strcmp(cm, "EVENTUAL") != 0 && strcmp(cm, STACK_UNKNOWN) != 0)
            return "replicas[].consistencyMode STRONG (multi-Region strong consistency) is not "
                   "one Tandem runs: its global tables are multi-active with last writer wins "
                   "(EVENTUAL)";
    }
    *prop = NULL;
    if (!cJSON_IsTrue(en) && !(cJSON_IsString(en) && !strcmp(en->valuestring, STACK_UNKNOWN))) {
        *prop = en ? "streamEnabled" : "replicas";
        return "a table with replicas needs streamEnabled: true (a global table replicates "
               "through its NEW_AND_OLD_IMAGES stream, which DynamoDB turns on for the first "
               "replica and does not let be turned off while replicas remain)";
    }
    if (cJSON_IsString(vt) && strcmp(vt->valuestring, STACK_UNKNOWN) &&
        strcmp(vt->valuestring, "NEW_AND_OLD_IMAGES")) {
        *prop = "streamViewType";
        return "a table with replicas needs streamViewType NEW_AND_OLD_IMAGES (or none, which "
               "means it): a global table replicates through that stream";
    }
    return NULL;
}

static cJSON *tbl_predict(const struct stack_target *t, const cJSON *in)
{
    cJSON *o = cJSON_CreateObject();
    const char *name = stack_prov_str(in, "name", "");
    char arn[512];
    snprintf(arn, sizeof(arn), "arn:aws:dynamodb:%s:%s:table/%s", t->region, t->account, name);
    cJSON_AddStringToObject(o, "id", name);
    cJSON_AddStringToObject(o, "arn", arn);
    return o;
}

const struct stack_provider stack_provider_dynamodb_table = {
    .strings = (const char *const[]){"name",
                                     "hashKey",
                                     "rangeKey",
                                     "billingMode",
                                     "streamViewType",
                                     "tableClass",
                                     "attributes[].name",
                                     "attributes[].type",
                                     "globalSecondaryIndexes[].name",
                                     "globalSecondaryIndexes[].hashKey",
                                     "globalSecondaryIndexes[].rangeKey",
                                     "globalSecondaryIndexes[].projectionType",
                                     "globalSecondaryIndexes[].nonKeyAttributes[]",
                                     "localSecondaryIndexes[].name",
                                     "localSecondaryIndexes[].rangeKey",
                                     "localSecondaryIndexes[].projectionType",
                                     "localSecondaryIndexes[].nonKeyAttributes[]",
                                     "ttl.attributeName",
                                     "replicas[].regionName",
                                     "restoreSourceName",
                                     "restoreSourceTableArn",
                                     "restoreDateTime",
                                     NULL},
    .type = "aws:dynamodb:Table",
    .unsupported =
        (const char *const[]){"serverSideEncryption", "importTable", "onDemandThroughput", NULL},
    .inputs = (const char *const[]){"attributes",
                                    "billingMode",
                                    "deletionProtectionEnabled",
                                    "globalSecondaryIndexes",
                                    "hashKey",
                                    "importTable",
                                    "localSecondaryIndexes",
                                    "name",
                                    "onDemandThroughput",
                                    "pointInTimeRecovery",
                                    "rangeKey",
                                    "readCapacity",
                                    "replicas",
                                    "restoreDateTime",
                                    "restoreSourceName",
                                    "restoreSourceTableArn",
                                    "restoreToLatestTime",
                                    "serverSideEncryption",
                                    "streamEnabled",
                                    "streamViewType",
                                    "tableClass",
                                    "tags",
                                    "ttl",
                                    "writeCapacity",
                                    NULL},
    .name_prop = "name",
    .name_max = 255,
    .replace_props = replace_props,
    .outputs = outputs,
    .create = tbl_create,
    .update = tbl_update,
    .del = tbl_delete,
    .read = tbl_read,
    .check = tbl_check,
    .predict = tbl_predict,
};

/* ---- aws:dynamodb:TableReplica: one replica of a global table (version 2019.11.21) ----
 *
 * The resource lives in the replica's region (its provider's); the replica is made and
 * removed by UpdateTable ReplicaUpdates in the table's own region, named by globalTableArn,
 * as the provider does. Inputs: globalTableArn, pointInTimeRecovery, deletionProtectionEnabled,
 * tableClassOverride, tags (of the replica table), propagateTags (accepted: the replica's
 * tags are the resource's own). Outputs: id ("NAME:MAIN-REGION", as the provider's), arn (the
 * replica table's). */

/* The table a replica belongs to, and how to reach its region. */
struct home {
    char name[256];        /* the table's */
    char region[64];       /* the table's region */
    char url[512];         /* its endpoint */
    struct stack_target t; /* calls there */
};

/* replica_home - @h from globalTableArn of @in: the table, its region (not @t's) and its
 * endpoint (t->endpoint_of). */
static enum err_code replica_home(const struct stack_target *t, const cJSON *in, struct home *h,
                                  struct err *e)
{
    const char *arn = stack_prov_str(in, "globalTableArn", "");
    const char *reg = NULL, *tbl = NULL;
    int field = 0;

    for (const char *p = arn; *p; p++) {
        if (*p != ':')
            continue;
        if (++field == 3)
            reg = p + 1;
        else if (field == 5)
            tbl = p + 1;
    }
    if (strncmp(arn, "arn:aws:dynamodb:", 17) != 0 || !reg || !tbl || strncmp(tbl, "table/", 6) ||
        !tbl[6] || strchr(tbl + 6, '/') || (size_t)(strchr(reg, ':') - reg) >= sizeof(h->region) ||
        strlen(tbl + 6) >= sizeof(h->name))
        return err_set(e, ERR_INVALID,
                       "globalTableArn \"%.200s\" is not a table ARN "
                       "(arn:aws:dynamodb:REGION:ACCOUNT:table/NAME)",
                       arn);
    snprintf(h->region, sizeof(h->region), "%.*s", (int)(strchr(reg, ':') - reg), reg);
    snprintf(h->name, sizeof(h->name), "%s", tbl + 6);
    if (!strcmp(h->region, t->region))
        return err_set(e, ERR_INVALID,
                       "a replica of table %s must be in another region than the table (%s): "
                       "give it a provider of the replica's region",
                       h->name, h->region);
    h->t = *t;
    h->t.region = h->region;
    h->t.endpoint = h->url;
    if (!t->endpoint_of)
        return err_set(e, ERR_INTERNAL, "no way to reach region %s", h->region);
    return t->endpoint_of(t->ud, h->region, h->url, sizeof(h->url), e);
}

/* The replica's own settings, in its region, from @old_in's (NULL at create) to @in's. */
static enum err_code replica_settings(const struct stack_target *t, const char *name,
                                      const char *arn, const cJSON *old_in, const cJSON *in,
                                      struct err *e)
{
    const cJSON *dp = cJSON_GetObjectItem(in, "deletionProtectionEnabled");
    const cJSON *cls = cJSON_GetObjectItem(in, "tableClassOverride");
    enum err_code rc;

    if ((cJSON_IsBool(dp) || old_in) &&
        !stack_prov_same(old_in ? cJSON_GetObjectItem(old_in, "deletionProtectionEnabled") : NULL,
                         dp)) {
        cJSON *req = cJSON_CreateObject();
        cJSON_AddStringToObject(req, "TableName", name);
        cJSON_AddBoolToObject(req, "DeletionProtectionEnabled", cJSON_IsTrue(dp));
        if ((rc = update_table(t, req, e)) || (rc = wait_active(t, name, NULL, e)))
            return rc;
    }
    if ((cJSON_IsString(cls) || old_in) &&
        !stack_prov_same(old_in ? cJSON_GetObjectItem(old_in, "tableClassOverride") : NULL, cls)) {
        cJSON *req = cJSON_CreateObject();
        cJSON_AddStringToObject(req, "TableName", name);
        cJSON_AddStringToObject(req, "TableClass",
                                cJSON_IsString(cls) ? cls->valuestring : "STANDARD");
        if ((rc = update_table(t, req, e)) || (rc = wait_active(t, name, NULL, e)))
            return rc;
    }
    if (!old_in || !stack_prov_same(cJSON_GetObjectItem(old_in, "pointInTimeRecovery"),
                                    cJSON_GetObjectItem(in, "pointInTimeRecovery"))) {
        /* the table's form of the setting: {enabled} */
        cJSON *pitr = cJSON_CreateObject();
        cJSON_AddBoolToObject(cJSON_AddObjectToObject(pitr, "pointInTimeRecovery"), "enabled",
                              cJSON_IsTrue(cJSON_GetObjectItem(in, "pointInTimeRecovery")));
        rc = sync_pitr(t, name, pitr, e);
        cJSON_Delete(pitr);
        if (rc)
            return rc;
    }
    return sync_tags(t, arn, old_in, in, e);
}

static cJSON *replica_outputs(const char *name, const char *home_region, const cJSON *tb)
{
    cJSON *o = cJSON_CreateObject();
    char id[400];
    snprintf(id, sizeof(id), "%s:%s", name, home_region);
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddStringToObject(o, "arn", stack_prov_str(tb, "TableArn", ""));
    return o;
}

static enum err_code rep_create(const struct stack_target *t, const cJSON *in, bool adopt,
                                char **id, cJSON **out, struct err *e)
{
    struct home h;
    cJSON *tb = NULL;
    enum err_code rc;

    (void)adopt;
    *id = NULL;
    *out = NULL;
    if ((rc = replica_home(t, in, &h, e)))
        return rc;
    if ((rc = wait_active(&h.t, h.name, &tb, e)))
        return rc;
    if (!has_replica(cJSON_GetObjectItem(tb, "Replicas"), t->region)) {
        cJSON_Delete(tb);
        tb = NULL;
        if ((rc = update_table(&h.t, replica_update(h.name, "Create", t->region), e)) ||
            (rc = wait_active(&h.t, h.name, NULL, e)))
            return rc;
    }
    cJSON_Delete(tb);
    tb = NULL;
    if ((rc = wait_active(t, h.name, &tb, e)))
        return rc;
    *out = replica_outputs(h.name, h.region, tb);
    cJSON_Delete(tb);
    *id = xstrdup(stack_prov_str(*out, "id", ""));
    return replica_settings(t, h.name, stack_prov_str(*out, "arn", ""), NULL, in, e);
}

static enum err_code rep_update(const struct stack_target *t, const char *id, const cJSON *old_in,
                                const cJSON *new_in, const cJSON *old_out, cJSON **out,
                                struct err *e)
{
    struct home h;
    cJSON *tb = NULL;
    enum err_code rc;

    (void)id;
    *out = NULL;
    if ((rc = replica_home(t, new_in, &h, e)) ||
        (rc = replica_settings(t, h.name, stack_prov_str(old_out, "arn", ""), old_in, new_in, e)) ||
        (rc = wait_active(t, h.name, &tb, e)))
        return rc;
    *out = replica_outputs(h.name, h.region, tb);
    cJSON_Delete(tb);
    return ERR_OK;
}

static enum err_code rep_delete(const struct stack_target *t, const char *id, const cJSON *in,
                                const cJSON *out, struct err *e)
{
    struct home h;
    cJSON *tb = NULL;
    enum err_code rc;

    (void)id;
    (void)out;
    if ((rc = replica_home(t, in, &h, e)))
        return rc;
    rc = describe(&h.t, h.name, &tb, e);
    if (rc == ERR_NOTFOUND) /* the table went first: so did its replicas */
        return ERR_OK;
    if (rc)
        return rc;
    if (has_replica(cJSON_GetObjectItem(tb, "Replicas"), t->region)) {
        rc = update_table(&h.t, replica_update(h.name, "Delete", t->region), e);
        if (rc && rc != ERR_NOTFOUND) {
            cJSON_Delete(tb);
            return rc;
        }
    }
    cJSON_Delete(tb);
    return wait_gone(t, h.name, "after its replica was removed", e);
}

static enum err_code rep_read(const struct stack_target *t, const char *id, const cJSON *in,
                              cJSON **out, bool *gone, struct err *e)
{
    struct home h;
    cJSON *tb = NULL, *pitr = NULL, *tags;
    const cJSON *p;
    enum err_code rc;

    (void)id;
    *out = NULL;
    *gone = false;
    if ((rc = replica_home(t, in, &h, e)))
        return rc;
    rc = describe(&h.t, h.name, &tb, e);
    if (rc == ERR_OK && !has_replica(cJSON_GetObjectItem(tb, "Replicas"), t->region))
        rc = ERR_NOTFOUND;
    cJSON_Delete(tb);
    tb = NULL;
    if (rc == ERR_OK)
        rc = describe(t, h.name, &tb, e);
    if (rc == ERR_NOTFOUND) {
        *gone = true;
        return ERR_OK;
    }
    if (rc)
        return rc;
    *out = replica_outputs(h.name, h.region, tb);
    cJSON_AddStringToObject(*out, "globalTableArn", stack_prov_str(in, "globalTableArn", ""));
    cJSON_AddBoolToObject(*out, "deletionProtectionEnabled",
                          cJSON_IsTrue(cJSON_GetObjectItem(tb, "DeletionProtectionEnabled")));
    cJSON_Delete(tb);
    /* the table's reading of PITR and tags, in the replica's h.region */
    pitr = cJSON_CreateObject();
    cJSON_AddStringToObject(pitr, "arn", stack_prov_str(*out, "arn", ""));
    rc = read_ttl_tags(t, pitr, h.name, NULL, e);
    if (rc == ERR_OK) {
        p = cJSON_GetObjectItem(pitr, "pointInTimeRecovery");
        cJSON_AddBoolToObject(*out, "pointInTimeRecovery",
                              cJSON_IsTrue(cJSON_GetObjectItem(p, "enabled")));
        if ((tags = cJSON_DetachItemFromObject(pitr, "tags")))
            cJSON_AddItemToObject(*out, "tags", tags);
    }
    cJSON_Delete(pitr);
    if (rc) {
        cJSON_Delete(*out);
        *out = NULL;
        *gone = rc == ERR_NOTFOUND;
    }
    return *gone ? ERR_OK : rc;
}

static cJSON *rep_predict(const struct stack_target *t, const cJSON *in)
{
    const char *arn = stack_prov_str(in, "globalTableArn", "");
    const char *tbl = strstr(arn, ":table/");
    cJSON *o = cJSON_CreateObject();
    char buf[512];

    if (tbl && strncmp(arn, "arn:aws:dynamodb:", 17) == 0) {
        const char *reg = arn + 17, *end = strchr(reg, ':');
        snprintf(buf, sizeof(buf), "%s:%.*s", tbl + 7, (int)(end - reg), reg);
        cJSON_AddStringToObject(o, "id", buf);
        snprintf(buf, sizeof(buf), "arn:aws:dynamodb:%s:%s:table/%s", t->region, t->account,
                 tbl + 7);
        cJSON_AddStringToObject(o, "arn", buf);
    }
    return o;
}

const struct stack_provider stack_provider_dynamodb_replica = {
    .type = "aws:dynamodb:TableReplica",
    .strings = (const char *const[]){"globalTableArn", "kmsKeyArn", "tableClassOverride", NULL},
    .inputs =
        (const char *const[]){"globalTableArn", "kmsKeyArn", "pointInTimeRecovery", "propagateTags",
                              "tableClassOverride", "tags", "deletionProtectionEnabled", NULL},
    .unsupported = (const char *const[]){"kmsKeyArn", NULL},
    .replace_props = (const char *const[]){"globalTableArn", NULL},
    .outputs = (const char *const[]){"id", "arn", NULL},
    .create = rep_create,
    .update = rep_update,
    .del = rep_delete,
    .read = rep_read,
    .predict = rep_predict,
};
