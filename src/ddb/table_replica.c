/* table_replica.c - a global table's replica management as the DynamoDB API
 * sees it: UpdateTable's ReplicaUpdates checked and handed to the replicator
 * (ddb_repl.h), whose answer comes back through ddb_repl_update_done. The
 * replicator itself lives in src/repl; the table side of replication
 * (export, create, replica sets) stays in table.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup.h"
#include "ddb_repl.h"
#include "table.h"

/* The stream a table gets as it becomes global. */
struct stream_on {
    struct ddb_call *c;
    const char *name;
    const cJSON *ups;
};

static bool has_create(const cJSON *ups)
{
    const cJSON *u;

    cJSON_ArrayForEach(u, ups)
    {
        if (cJSON_GetObjectItemCaseSensitive(u, "Create"))
            return true;
    }
    return false;
}

static enum err_code stream_on_apply(struct store_txn *t, void *arg, struct err *e)
{
    struct stream_on *x = arg;
    cJSON *desc = NULL;
    enum err_code rc = table_desc_get(t, x->name, &desc, e);

    if (!rc && !cJSON_GetObjectItemCaseSensitive(desc, "StreamSpecification")) {
        table_stream_set(x->c->d, desc, x->name, "NEW_AND_OLD_IMAGES");
        rc = table_desc_put(t, x->name, desc, e);
    }
    cJSON_Delete(desc);
    return rc;
}

static void stream_on_done(void *arg, enum err_code rc, const struct err *e)
{
    struct stream_on *x = arg;

    if (rc) {
        ddb_reply_err(x->c, rc, e->msg);
        return;
    }
    x->c->d->repl->replica_updates(x->c->d->repl->ud, x->c, x->name, x->ups);
}

/* table_replica_updates - UpdateTable's ReplicaUpdates: check what can be checked
 * here, then hand the work (other regions are involved) to the replicator. */
void table_replica_updates(struct ddb_call *c, const char *name, const cJSON *ups, bool others)
{
    struct store_txn *t = NULL;
    cJSON *desc = NULL;
    const cJSON *u;
    bool streamed;
    struct err e = {0};
    enum err_code rc;
    int i = 0;

    if (ddb_args_failed(c))
        return;
    if (others) {
        ddb_reply_err(c, ERR_INVALID,
                      "One or more parameter values were invalid: ReplicaUpdates cannot be "
                      "combined with other table updates in one request");
        return;
    }
    if (cJSON_GetArraySize(ups) < 1) {
        ddb_check_count(c, ups, "replicaUpdates", 1, DDB_NO_MAX);
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
            ddb_reply_err(c, ERR_INVALID,
                          "Cannot add or delete the local region through ReplicaUpdates. Use "
                          "CreateTable, DeleteTable, or UpdateTable as required.");
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
    streamed = cJSON_GetObjectItemCaseSensitive(desc, "StreamSpecification") != NULL;
    cJSON_Delete(desc);
    if (!c->d->repl || !c->d->repl->replica_updates) {
        ddb_reply_err(c, ERR_INVALID,
                      "One or more parameter values were invalid: this region has no peers "
                      "(tandem server --peer REGION=URL)");
        return;
    }
    /* A table becoming global gets a NEW_AND_OLD_IMAGES stream unless it has
     * one already (of any view type, which it keeps), as DynamoDB does; the
     * replicas are then made from the table as it is. */
    if (!streamed && has_create(ups)) {
        struct stream_on *x = arena_calloc(c->a, sizeof(*x));

        x->c = c;
        x->name = name;
        x->ups = ups;
        store_submit(c->d->store, stream_on_apply, stream_on_done, x);
        return;
    }
    c->d->repl->replica_updates(c->d->repl->ud, c, name, ups);
}

void table_global_legacy(struct ddb_call *c)
{
    const char *name = NULL;
    struct buf b;

    if (strcmp(c->op, "ListGlobalTables") != 0) {
        name = ddb_arg_str(c, c->in, "GlobalTableName");
        if (!name)
            ddb_verr_null(c, "globalTableName");
    }
    if (ddb_args_failed(c))
        return;
    if (!name) {
        buf_init(&b, 0);
        buf_puts(&b, "{\"GlobalTables\":[]}");
        ddb_reply(c, &b);
    } else if (strcmp(c->op, "CreateGlobalTable") == 0) {
        ddb_reply_err(c, ERR_INVALID,
                      "DynamoDB global tables version 2017.11.29 is not supported. We recommend "
                      "using DynamoDB global tables version 2019.11.21, instead of version "
                      "2017.11.29 (Legacy).");
    } else {
        ddb_reply_type(c, "GlobalTableNotFoundException",
                       "Global table with name '%.255s' does not exist.", name);
    }
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
