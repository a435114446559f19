/* replica.c - per-replica settings of a global table (UpdateTable
 * ReplicaUpdates Update): checked here, kept in the table's descriptor as
 * "_replica_settings" ({region: {ProvisionedThroughputOverride,
 * OnDemandThroughputOverride, GlobalSecondaryIndexes,
 * ReplicaTableClassSummary}}, the same in every region) and shown in
 * DescribeTable's Replicas. See ddb_repl.h and table.h. */
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "ddb_int.h"
#include "ddb_repl.h"
#include "table.h"

static const char *const table_classes[] = {"STANDARD", "STANDARD_INFREQUENT_ACCESS", NULL};

static bool desc_has_gsi(const cJSON *desc, const char *name)
{
    const cJSON *g;

    cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(desc, "GlobalSecondaryIndexes"))
    {
        const char *n = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(g, "IndexName"));

        if (n && strcmp(n, name) == 0)
            return true;
    }
    return false;
}

static bool desc_on_demand(const cJSON *desc)
{
    const cJSON *bm = cJSON_GetObjectItemCaseSensitive(desc, "BillingModeSummary");
    const char *m = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(bm, "BillingMode"));

    return m && strcmp(m, "PAY_PER_REQUEST") == 0;
}

/* overrides_check - ProvisionedThroughputOverride / OnDemandThroughputOverride
 * of @o (the replica or one of its indexes) at @path; false once @c is answered. */
static bool overrides_check(struct ddb_call *c, const cJSON *o, const char *path, bool on_demand)
{
    const cJSON *pt = ddb_arg_obj(c, o, "ProvisionedThroughputOverride");
    const cJSON *od = ddb_arg_obj(c, o, "OnDemandThroughputOverride");
    int64_t v = 0;
    char p[192];
    bool has = pt && ddb_arg_int(c, pt, "ReadCapacityUnits", &v);

    snprintf(p, sizeof(p), "%s.provisionedThroughputOverride.readCapacityUnits", path);
    ddb_check_range(c, has, v, p, 1, DDB_NO_MAX);
    if (od)
        ddb_arg_int(c, od, "MaxReadRequestUnits", &v);
    if (ddb_args_failed(c))
        return false;
    if (pt && on_demand) {
        ddb_reply_err(c, ERR_INVALID,
                      "One or more parameter values were invalid: ProvisionedThroughputOverride "
                      "cannot be specified for a table in PAY_PER_REQUEST billing mode");
        return false;
    }
    return true;
}

bool replica_update_check(struct ddb_call *c, const char *table, const cJSON *desc, const cJSON *up,
                          int i)
{
    const char *rn = ddb_arg_str(c, up, "RegionName");
    const cJSON *gsis = ddb_arg_arr(c, up, "GlobalSecondaryIndexes"), *g, *r;
    bool on_demand = desc_on_demand(desc), member = false;
    char path[96], msg[768];
    int j = 0;

    snprintf(path, sizeof(path), "replicaUpdates.%d.member.update", i);
    if (!rn) {
        char p2[128];

        snprintf(p2, sizeof(p2), "%s.regionName", path);
        ddb_verr_null(c, p2);
    }
    {
        char p2[128];

        snprintf(p2, sizeof(p2), "%s.tableClassOverride", path);
        ddb_arg_enum(c, up, "TableClassOverride", p2, table_classes);
    }
    if (ddb_args_failed(c) || !overrides_check(c, up, path, on_demand))
        return false;
    cJSON_ArrayForEach(g, gsis)
    {
        const char *in = ddb_arg_str(c, g, "IndexName");
        char p2[160];

        snprintf(p2, sizeof(p2), "%s.globalSecondaryIndexes.%d.member", path, ++j);
        if (!in) {
            char p3[200];

            snprintf(p3, sizeof(p3), "%s.indexName", p2);
            ddb_verr_null(c, p3);
        }
        if (ddb_args_failed(c))
            return false;
        if (!desc_has_gsi(desc, in)) {
            snprintf(msg, sizeof(msg),
                     "One or more parameter values were invalid: Global Secondary Index %.255s "
                     "does not exist on table %.255s",
                     in, table);
            ddb_reply_err(c, ERR_INVALID, msg);
            return false;
        }
        if (!overrides_check(c, g, p2, on_demand))
            return false;
    }
    if (cJSON_GetObjectItemCaseSensitive(up, "KMSMasterKeyId")) {
        ddb_reply_err(c, ERR_INVALID,
                      "One or more parameter values were invalid: KMSMasterKeyId is not "
                      "supported: Tandem does not encrypt replicas with KMS keys");
        return false;
    }
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(desc, "_replicas"))
    {
        if (cJSON_IsString(r) && strcmp(r->valuestring, rn) == 0)
            member = true;
    }
    if (!member) {
        snprintf(msg, sizeof(msg),
                 "One or more parameter values were invalid: Replica %.64s does not exist for "
                 "table %.255s",
                 rn, table);
        ddb_reply_err(c, ERR_INVALID, msg);
        return false;
    }
    return true;
}

/* set_member - replace @name of @o by a copy of @v (when @v is given). */
static void set_member(cJSON *o, const char *name, const cJSON *v)
{
    if (!v)
        return;
    cJSON_DeleteItemFromObjectCaseSensitive(o, name);
    cJSON_AddItemToObject(o, name, cJSON_Duplicate(v, 1));
}

enum err_code ddb_repl_settings_merge(struct store *s, const char *table, const char *region,
                                      const cJSON *update, cJSON **out, struct err *e)
{
    struct store_txn *t = NULL;
    cJSON *desc = NULL, *cur;
    const cJSON *g, *tc;
    enum err_code rc = store_read_begin(s, &t, e);

    *out = NULL;
    if (!rc)
        rc = table_desc_get(t, table, &desc, e);
    store_txn_abort(t);
    if (rc)
        return rc;
    cur = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(
                              cJSON_GetObjectItemCaseSensitive(desc, "_replica_settings"), region),
                          1);
    cJSON_Delete(desc);
    if (!cJSON_IsObject(cur)) {
        cJSON_Delete(cur);
        cur = cJSON_CreateObject();
    }
    set_member(cur, "ProvisionedThroughputOverride",
               cJSON_GetObjectItemCaseSensitive(update, "ProvisionedThroughputOverride"));
    set_member(cur, "OnDemandThroughputOverride",
               cJSON_GetObjectItemCaseSensitive(update, "OnDemandThroughputOverride"));
    cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(update, "GlobalSecondaryIndexes"))
    {
        const char *in = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(g, "IndexName"));
        cJSON *arr = cJSON_GetObjectItemCaseSensitive(cur, "GlobalSecondaryIndexes"), *have = NULL,
              *x;

        if (!in)
            continue;
        if (!arr)
            arr = cJSON_AddArrayToObject(cur, "GlobalSecondaryIndexes");
        cJSON_ArrayForEach(x, arr)
        {
            const char *n = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "IndexName"));

            if (n && strcmp(n, in) == 0)
                have = x;
        }
        if (!have) {
            have = cJSON_CreateObject();
            cJSON_AddStringToObject(have, "IndexName", in);
            cJSON_AddItemToArray(arr, have);
        }
        set_member(have, "ProvisionedThroughputOverride",
                   cJSON_GetObjectItemCaseSensitive(g, "ProvisionedThroughputOverride"));
        set_member(have, "OnDemandThroughputOverride",
                   cJSON_GetObjectItemCaseSensitive(g, "OnDemandThroughputOverride"));
    }
    tc = cJSON_GetObjectItemCaseSensitive(update, "TableClassOverride");
    if (cJSON_IsString(tc)) {
        cJSON *sum = cJSON_CreateObject();

        cJSON_AddStringToObject(sum, "TableClass", tc->valuestring);
        cJSON_AddNumberToObject(sum, "LastUpdateDateTime", (double)clock_wall_ms() / 1000.0);
        cJSON_DeleteItemFromObjectCaseSensitive(cur, "ReplicaTableClassSummary");
        cJSON_AddItemToObject(cur, "ReplicaTableClassSummary", sum);
    }
    *out = cur;
    return ERR_OK;
}

struct settings_put {
    const char *table, *region;
    const cJSON *settings;
};

static enum err_code settings_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct settings_put *x = arg;
    cJSON *desc = NULL, *all;
    enum err_code rc = table_desc_get(t, x->table, &desc, e);

    if (rc)
        return rc;
    all = cJSON_GetObjectItemCaseSensitive(desc, "_replica_settings");
    if (!cJSON_IsObject(all)) {
        cJSON_DeleteItemFromObjectCaseSensitive(desc, "_replica_settings");
        all = cJSON_AddObjectToObject(desc, "_replica_settings");
    }
    cJSON_DeleteItemFromObjectCaseSensitive(all, x->region);
    cJSON_AddItemToObject(all, x->region, cJSON_Duplicate(x->settings, 1));
    rc = table_desc_put(t, x->table, desc, e);
    cJSON_Delete(desc);
    return rc;
}

enum err_code ddb_repl_table_set_settings(struct store *s, const char *table, const char *region,
                                          const cJSON *settings, struct err *e)
{
    struct settings_put x = {.table = table, .region = region, .settings = settings};

    if (!table || !region || !cJSON_IsObject(settings))
        return err_set(e, ERR_INVALID, "replica settings need TableName, RegionName, Settings");
    return store_write(s, settings_apply, &x, e);
}

void replica_describe(cJSON *replica, const cJSON *desc, const char *region)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(desc, "_replica_settings"), region);
    const cJSON *m;

    cJSON_ArrayForEach(m, s)
    {
        if (m->string)
            cJSON_AddItemToObject(replica, m->string, cJSON_Duplicate(m, 1));
    }
}
