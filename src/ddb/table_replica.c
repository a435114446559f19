/* table_replica.c - a global table's replica management as the DynamoDB API
 * sees it: UpdateTable's ReplicaUpdates checked and handed to the replicator
 * (ddb_repl.h), whose answer comes back through ddb_repl_update_done. The
 * replicator itself lives in src/repl; the table side of replication
 * (export, create, replica sets) stays in table.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddb_repl.h"
#include "table.h"

/* table_replica_updates - UpdateTable's ReplicaUpdates: check what can be checked
 * here, then hand the work (other regions are involved) to the replicator. */
void table_replica_updates(struct ddb_call *c, const char *name, const cJSON *ups, bool others)
{
    struct store_txn *t = NULL;
    cJSON *desc = NULL;
    const cJSON *u, *ss;
    struct err e = {0};
    enum err_code rc;
    int i = 0;
    char msg[512];

    if (ddb_args_failed(c))
        return;
    if (others) {
        ddb_reply_err(c, ERR_INVALID,
                      "One or more parameter values were invalid: ReplicaUpdates cannot be "
                      "combined with other table updates in one request");
        return;
    }
    if (cJSON_GetArraySize(ups) < 1) {
        ddb_verr(c, "Value '[]' at 'replicaUpdates' failed to satisfy constraint: Member must "
                    "have length greater than or equal to 1");
        ddb_args_failed(c);
        return;
    }
    cJSON_ArrayForEach(u, ups)
    {
        const cJSON *cr = ddb_arg_obj(c, u, "Create"), *dl = ddb_arg_obj(c, u, "Delete");
        const cJSON *up = ddb_arg_obj(c, u, "Update");
        const cJSON *which = cr ? cr : dl ? dl : up;
        char path[80];

        i++;
        if (ddb_args_failed(c))
            return;
        if ((cr != NULL) + (dl != NULL) + (up != NULL) != 1) {
            ddb_reply_err(c, ERR_INVALID,
                          "One or more parameter values were invalid: One of Create, Update, or "
                          "Delete must be specified for each ReplicaUpdate");
            return;
        }
        snprintf(path, sizeof(path), "replicaUpdates.%d.member.%s.regionName", i,
                 cr   ? "create"
                 : dl ? "delete"
                      : "update");
        const char *rn = ddb_arg_str(c, which, "RegionName");
        if (!rn)
            ddb_verr_null(c, path);
        if (ddb_args_failed(c))
            return;
        if (up)
            continue; /* checked against the table below */
        if (strcmp(rn, c->d->region) == 0) {
            snprintf(msg, sizeof(msg),
                     "One or more parameter values were invalid: The replica region %.64s is "
                     "the region of this request",
                     rn);
            ddb_reply_err(c, ERR_INVALID, msg);
            return;
        }
    }
    rc = store_read_begin(c->d->store, &t, &e);
    if (!rc)
        rc = table_desc_get(t, name, &desc, &e);
    store_txn_abort(t);
    if (rc) {
        ddb_reply_err(c, rc, e.msg);
        return;
    }
    i = 0;
    cJSON_ArrayForEach(u, ups)
    {
        const cJSON *up = cJSON_GetObjectItemCaseSensitive(u, "Update");

        i++;
        if (up && !replica_update_check(c, name, desc, up, i)) {
            cJSON_Delete(desc);
            return;
        }
    }
    ss = cJSON_GetObjectItemCaseSensitive(desc, "StreamSpecification");
    if (!ss ||
        strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ss, "StreamViewType"))
                   ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ss, "StreamViewType"))
                   : "",
               "NEW_AND_OLD_IMAGES") != 0) {
        cJSON_Delete(desc);
        snprintf(msg, sizeof(msg),
                 "Table: %.255s must have DynamoDB Streams enabled with StreamViewType "
                 "NEW_AND_OLD_IMAGES to add or remove replicas",
                 name);
        ddb_reply_err(c, ERR_INVALID, msg);
        return;
    }
    cJSON_Delete(desc);
    if (!c->d->repl || !c->d->repl->replica_updates) {
        ddb_reply_err(c, ERR_INVALID,
                      "One or more parameter values were invalid: this region has no peers "
                      "(tandem server --peer REGION=URL)");
        return;
    }
    c->d->repl->replica_updates(c->d->repl->ud, c, name, ups);
}

void ddb_set_replicator(struct ddb *d, const struct ddb_replicator *r)
{
    d->repl = r;
}

void ddb_repl_update_done(void *call, enum err_code rc, const char *msg)
{
    struct ddb_call *c = call;
    const char *name = ddb_arg_str(c, c->in, "TableName");
    struct store_txn *t = NULL;
    cJSON *desc = NULL;
    struct err e = {0};
    struct buf b;
    char *out = NULL;

    if (rc) {
        ddb_reply_err(c, rc, msg);
        return;
    }
    rc = store_read_begin(c->d->store, &t, &e);
    if (!rc)
        rc = table_desc_get(t, name, &desc, &e);
    if (!rc)
        rc = table_description(t, desc, "ACTIVE", &out, &e);
    store_txn_abort(t);
    if (rc) {
        cJSON_Delete(desc);
        ddb_reply_err(c, rc, e.msg);
        return;
    }
    cJSON_Delete(desc);
    buf_init(&b, 0);
    buf_printf(&b, "{\"TableDescription\":%s}", out);
    ddb_reply(c, &b);
    free(out);
}
