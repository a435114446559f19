/* stack_jobs.c - one resource's operation in a run of the stack engine (create, update,
 * replace, delete, refresh, import), run as a job on a worker thread: the provider call,
 * the state entry written before and after it (so an interrupted run is completed by the
 * next), and the progress line. See stack_engine.h for the replacement order. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "mem.h"
#include "stack_engine_int.h"
#include "stack_match.h"
#include "stack_provider.h"
#include "stack_state.h"

static const char *const op_ing[STACK_OP_N] = {"",         "creating",   "updating", "replacing",
                                               "deleting", "refreshing", "importing"};
static const char *const op_ed[STACK_OP_N] = {"unchanged", "created",   "updated", "replaced",
                                              "deleted",   "refreshed", "imported"};
static const char op_sym[STACK_OP_N] = {' ', '+', '~', '!', '-', '?', '='};

static void progress(struct run *r, const struct job *j, bool done)
{
    FILE *f = r->o->progress;
    if (!f)
        return;
    pthread_mutex_lock(&r->mu);
    if (!done)
        fprintf(f, "  %c %-34s %-28s %s...\n", op_sym[j->op], j->type, j->name, op_ing[j->op]);
    else if (j->step->rc == ERR_OK)
        fprintf(f, "  %c %-34s %-28s %s (%.1fs)\n", op_sym[j->op], j->type, j->name, op_ed[j->op],
                j->step->secs);
    else
        fprintf(f, "  x %-34s %-28s %s failed (%.1fs): %s\n", j->type, j->name, op_ing[j->op],
                j->step->secs, j->step->msg);
    fflush(f);
    pthread_mutex_unlock(&r->mu);
}

cJSON *stack_eng_merged(const cJSON *in, const cJSON *out)
{
    cJSON *v = in ? cJSON_Duplicate(in, 1) : cJSON_CreateObject();
    const cJSON *o;
    cJSON_ArrayForEach(o, out)
    {
        cJSON_DeleteItemFromObjectCaseSensitive(v, o->string);
        cJSON_AddItemToObject(v, o->string, cJSON_Duplicate(o, 1));
    }
    return v;
}

static cJSON *entry_new(const struct job *j, const char *status, const char *id, const cJSON *in,
                        const cJSON *out)
{
    cJSON *en = cJSON_CreateObject();
    cJSON_AddStringToObject(en, "name", j->name);
    cJSON_AddStringToObject(en, "type", j->type);
    cJSON_AddStringToObject(en, "status", status);
    if (id)
        cJSON_AddStringToObject(en, "id", id);
    cJSON_AddStringToObject(en, "region", j->region);
    cJSON_AddStringToObject(en, "endpoint", j->spec);
    cJSON_AddItemToObject(en, "inputs", in ? cJSON_Duplicate(in, 1) : cJSON_CreateObject());
    cJSON_AddItemToObject(en, "outputs", out ? cJSON_Duplicate(out, 1) : cJSON_CreateObject());
    cJSON_AddItemToObject(en, "deps", j->deps ? cJSON_Duplicate(j->deps, 1) : cJSON_CreateArray());
    if (j->autoname)
        cJSON_AddBoolToObject(en, "autoName", 1);
    if (j->protect)
        cJSON_AddBoolToObject(en, "protect", 1);
    if (j->retain)
        cJSON_AddBoolToObject(en, "retainOnDelete", 1);
    if (j->dbr)
        cJSON_AddBoolToObject(en, "deleteBeforeReplace", 1);
    if (j->res && j->res->timeout_ms[STACK_TIMEOUT_DELETE]) /* for a delete after it leaves */
        cJSON_AddNumberToObject(cJSON_AddObjectToObject(en, "customTimeouts"), "deleteMs",
                                (double)j->res->timeout_ms[STACK_TIMEOUT_DELETE]);
    return en;
}

static void put_entry(struct run *r, cJSON *en)
{
    pthread_mutex_lock(&r->mu);
    stack_state_put(r->state, en);
    stack_eng_save_locked(r);
    pthread_mutex_unlock(&r->mu);
}

static void remove_entry(struct run *r, const char *name)
{
    pthread_mutex_lock(&r->mu);
    stack_state_remove(r->state, name);
    stack_eng_save_locked(r);
    pthread_mutex_unlock(&r->mu);
}

/* The target of @j's operation; @op (STACK_TIMEOUT_*, or -1) picks its customTimeouts. */
struct stack_target stack_eng_target(const struct job *j, int op)
{
    struct stack_target t = {.region = j->region,
                             .endpoint = j->endpoint,
                             .account = j->account[0]      ? j->account
                                        : j->r->o->account ? j->r->o->account
                                                           : "000000000000",
                             .creds = &j->r->o->creds,
                             .workdir = j->r->o->workdir,
                             .endpoint_of = stack_eng_endpoint_of,
                             .ud = j->r,
                             .timeout_ms = op >= 0 && j->res ? j->res->timeout_ms[op] : 0,
                             .started_ms = clock_mono_us() / 1000};
    return t;
}

static enum err_code do_create(struct job *j, struct err *e)
{
    struct stack_target t = stack_eng_target(j, STACK_TIMEOUT_CREATE);
    char *id = NULL;
    cJSON *out = NULL;
    enum err_code rc;

    if (!j->prov) { /* pulumi:providers:aws: configuration only */
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", j->name);
        put_entry(j->r, entry_new(j, "created", j->name, j->inputs, o));
        j->result = stack_eng_merged(j->inputs, o);
        cJSON_Delete(o);
        return ERR_OK;
    }
    /* Mark the create before making it: if this run dies mid-call, the next run adopts. */
    put_entry(j->r, entry_new(j, "creating", NULL, j->inputs, NULL));
    rc = j->prov->create(&t, j->inputs, j->adopt, &id, &out, e);
    if (rc == ERR_OK) {
        /* the id the provider gives it (a RandomPassword's "none"), else the import's */
        put_entry(j->r, entry_new(j, "created", json_str(out, "id") ? json_str(out, "id") : id,
                                  j->inputs, out));
        j->result = stack_eng_merged(j->inputs, out);
    } else if (id || rc == ERR_IO) {
        /* partly made, or unknown whether the call landed: the next run adopts it */
        put_entry(j->r, entry_new(j, "creating", id, j->inputs, NULL));
    } else {
        remove_entry(j->r, j->name);
    }
    free(id);
    cJSON_Delete(out);
    return rc;
}

enum err_code stack_eng_delete_entry(struct run *r, const cJSON *en, const char *endpoint,
                                     struct err *e)
{
    const char *type = json_str(en, "type");
    const struct stack_provider *prov = type ? stack_provider_find(type) : NULL;
    const char *id = json_str(en, "id");
    struct stack_target t = {.region = json_str(en, "region"),
                             .endpoint = endpoint,
                             .account = r->o->account ? r->o->account : "000000000000",
                             .creds = &r->o->creds,
                             .workdir = r->o->workdir,
                             .endpoint_of = stack_eng_endpoint_of,
                             .ud = r,
                             .timeout_ms = (long)cJSON_GetNumberValue(cJSON_GetObjectItem(
                                 cJSON_GetObjectItem(en, "customTimeouts"), "deleteMs")),
                             .started_ms = clock_mono_us() / 1000};

    if (!prov || !id) /* providers, and creates that never got an id */
        return ERR_OK;
    return prov->del(&t, id, cJSON_GetObjectItem(en, "inputs"), cJSON_GetObjectItem(en, "outputs"),
                     e);
}

static enum err_code do_update(struct job *j, struct err *e)
{
    struct stack_target t = stack_eng_target(j, STACK_TIMEOUT_UPDATE);
    const char *id = json_str(j->old, "id");
    cJSON *out = NULL, *en;
    enum err_code rc;

    if (!j->prov) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", j->name);
        put_entry(j->r, entry_new(j, "created", j->name, j->inputs, o));
        j->result = stack_eng_merged(j->inputs, o);
        cJSON_Delete(o);
        return ERR_OK;
    }
    rc = j->prov->update(&t, id, cJSON_GetObjectItem(j->old, "inputs"), j->inputs,
                         cJSON_GetObjectItem(j->old, "outputs"), &out, e);
    if (rc == ERR_OK) {
        en = entry_new(j, "created", id, j->inputs, out);
        j->result = stack_eng_merged(j->inputs, out);
        put_entry(j->r, en);
    }
    cJSON_Delete(out);
    return rc;
}

static enum err_code do_replace(struct job *j, struct err *e)
{
    enum err_code rc;
    const char *np = j->prov ? j->prov->name_prop : NULL;
    const char *oldname = np ? json_str(cJSON_GetObjectItem(j->old, "inputs"), np) : NULL;
    const char *newname = np ? json_str(j->inputs, np) : NULL;
    bool delete_first = j->dbr || (oldname && newname && !strcmp(oldname, newname));
    char oldurl[512];

    if (!j->prov)
        return do_create(j, e);
    rc = stack_eng_endpoint(j->r, json_str(j->old, "region"), json_str(j->old, "endpoint"), oldurl,
                            sizeof(oldurl), e);
    if (rc)
        return rc;
    if (delete_first) {
        cJSON *en = cJSON_Duplicate(j->old, 1);
        cJSON_ReplaceItemInObject(en, "status", cJSON_CreateString("deleting"));
        put_entry(j->r, en);
        rc = stack_eng_delete_entry(j->r, j->old, oldurl, e);
        if (rc) {
            put_entry(j->r, cJSON_Duplicate(j->old, 1));
            return rc;
        }
        remove_entry(j->r, j->name);
        return do_create(j, e);
    }
    /* create first, keep the old one in the entry until it is deleted */
    j->adopt = false;
    rc = do_create(j, e);
    if (rc) {
        put_entry(j->r, cJSON_Duplicate(j->old, 1));
        return rc;
    }
    pthread_mutex_lock(&j->r->mu);
    cJSON_AddItemToObject(stack_state_res(j->r->state, j->name), "replacing",
                          cJSON_Duplicate(j->old, 1));
    stack_eng_save_locked(j->r);
    pthread_mutex_unlock(&j->r->mu);
    rc = stack_eng_delete_entry(j->r, j->old, oldurl, e);
    if (rc == ERR_OK) {
        pthread_mutex_lock(&j->r->mu);
        cJSON_DeleteItemFromObject(stack_state_res(j->r->state, j->name), "replacing");
        stack_eng_save_locked(j->r);
        pthread_mutex_unlock(&j->r->mu);
    }
    return rc;
}

static enum err_code do_delete(struct job *j, struct err *e)
{
    enum err_code rc;
    cJSON *en;

    if (j->protect)
        return err_set(e, ERR_INVALID, "resource '%s' is protected (options.protect)", j->name);
    en = cJSON_Duplicate(j->old, 1);
    cJSON_ReplaceItemInObject(en, "status", cJSON_CreateString("deleting"));
    put_entry(j->r, en);
    /* options.retainOnDelete: the stack lets go of it, the region keeps it */
    rc = j->retain ? ERR_OK : stack_eng_delete_entry(j->r, j->old, j->endpoint, e);
    if (rc) {
        cJSON *back = cJSON_Duplicate(j->old, 1);
        cJSON_ReplaceItemInObject(back, "status", cJSON_CreateString("created"));
        put_entry(j->r, back);
        return rc;
    }
    remove_entry(j->r, j->name);
    return ERR_OK;
}

static enum err_code do_refresh(struct job *j, struct err *e)
{
    struct stack_target t = stack_eng_target(j, -1);
    cJSON *out = NULL;
    bool gone = false;
    enum err_code rc;
    const char *id = json_str(j->old, "id");

    if (j->res && j->res->get && j->prov) { /* get: */
        id = json_str(j->inputs, "id");
        rc = j->prov->read(&t, id, j->inputs, &out, &gone, e);
        if (rc == ERR_OK && gone)
            rc =
                err_set(e, ERR_NOTFOUND, "get: %s %s does not exist in %s", j->type, id, j->region);
        if (rc == ERR_OK)
            j->result = stack_eng_merged(j->inputs, out);
        cJSON_Delete(out);
        return rc;
    }
    if (!j->prov || !id)
        return ERR_OK;
    rc = j->prov->read(&t, id, cJSON_GetObjectItem(j->old, "inputs"), &out, &gone, e);
    if (rc)
        return rc;
    if (gone) {
        cJSON_AddItemToArray(j->step->changed, cJSON_CreateString("(deleted outside the stack)"));
        remove_entry(j->r, j->name);
    } else {
        cJSON *en = cJSON_Duplicate(j->old, 1);
        const cJSON *o;
        cJSON_ArrayForEach(o, out)
        {
            const cJSON *was =
                cJSON_GetObjectItem(cJSON_GetObjectItem(j->old, "outputs"), o->string);
            const cJSON *given =
                cJSON_GetObjectItem(cJSON_GetObjectItem(j->old, "inputs"), o->string);
            /* a property read back for the first time: changed when it is no longer what
             * the program set (as an import compares it); unknown before, not a change */
            if (was ? !cJSON_Compare(was, o, 1) : given && !stack_match_value(o->string, given, o))
                cJSON_AddItemToArray(j->step->changed, cJSON_CreateString(o->string));
        }
        cJSON_ReplaceItemInObject(en, "outputs", out);
        out = NULL;
        put_entry(j->r, en);
    }
    cJSON_Delete(out);
    return ERR_OK;
}

static bool names_prop_list(const char *const *list, const char *prop)
{
    for (size_t i = 0; list && list[i]; i++)
        if (!strcmp(list[i], prop))
            return true;
    return false;
}

/* options.import, as Pulumi's: the resource @id names exists and the inputs the program
 * gives match what its provider reads back (stack_match.h; options.ignoreChanges left
 * out); it is then recorded with the program's inputs, so later runs diff against them.
 * A difference fails the import before anything is recorded. No write call. */
static enum err_code do_import(struct job *j, struct err *e)
{
    struct stack_target t = stack_eng_target(j, -1);
    const struct stack_node *at = j->res->import_id;
    t.importing = true;
    const char *id = at->str;
    const char *np = j->prov->name_prop;
    cJSON *out = NULL, *given, *diffs, *c, *next;
    bool gone = false;
    enum err_code rc = j->prov->read(&t, id, j->inputs, &out, &gone, e);

    if (rc == ERR_OK && gone)
        rc = err_set(e, ERR_NOTFOUND, "import: %s %s does not exist in %s", j->type, id, j->region);
    if (rc) {
        cJSON_Delete(out);
        return rc;
    }
    given = cJSON_Duplicate(j->inputs, 1);
    for (c = given->child; c; c = next) {
        const cJSON *was = cJSON_GetObjectItemCaseSensitive(out, c->string);
        next = c->next;
        if (!stack_eng_names_prop(j->res->ignore_changes, c->string))
            continue;
        /* as Pulumi does: an ignored property takes the existing resource's value */
        cJSON_DeleteItemFromObjectCaseSensitive(j->inputs, c->string);
        if (was)
            cJSON_AddItemToObject(j->inputs, c->string, cJSON_Duplicate(was, 1));
        cJSON_DeleteItemFromObjectCaseSensitive(given, c->string);
    }
    diffs = cJSON_CreateArray();
    if (stack_match_inputs(given, out, diffs)) {
        char *msg = j->step->msg;
        size_t len = sizeof(j->step->msg), used;
        const cJSON *d;
        snprintf(msg, len, "%s:%d:%d: inputs to import do not match the existing resource %s %s",
                 j->r->p->file, at->line, at->col, j->type, id);
        cJSON_ArrayForEach(d, diffs)
        {
            used = strlen(msg);
            snprintf(msg + used, len - used, "%s%s", d == diffs->child ? ": " : "; ",
                     d->valuestring);
        }
        rc = err_set(e, ERR_CONFLICT, "%s", msg);
    } else {
        /* no name in the program: the imported one is kept, as an auto-name would be */
        if (np && !cJSON_GetObjectItemCaseSensitive(j->inputs, np) && json_str(out, np)) {
            cJSON_AddStringToObject(j->inputs, np, json_str(out, np));
            j->autoname = true;
        }
        /* what the program gives stays as it wrote it (a policy as an object) */
        for (c = given->child; c; c = c->next)
            if (!names_prop_list(j->prov->outputs, c->string))
                cJSON_DeleteItemFromObjectCaseSensitive(out, c->string);
        /* the id the provider gives it (a RandomPassword's "none"), else the import's */
        put_entry(j->r, entry_new(j, "created", json_str(out, "id") ? json_str(out, "id") : id,
                                  j->inputs, out));
        j->result = stack_eng_merged(j->inputs, out);
    }
    cJSON_Delete(diffs);
    cJSON_Delete(given);
    cJSON_Delete(out);
    return rc;
}

static void *job_main(void *arg)
{
    struct job *j = arg;
    struct err e = {0};
    int64_t t0 = clock_mono_us();
    enum err_code rc = ERR_OK;

    progress(j->r, j, false);
    switch (j->op) {
    case STACK_OP_CREATE:
        rc = do_create(j, &e);
        break;
    case STACK_OP_UPDATE:
        rc = do_update(j, &e);
        break;
    case STACK_OP_REPLACE:
        rc = do_replace(j, &e);
        break;
    case STACK_OP_DELETE:
        rc = do_delete(j, &e);
        break;
    case STACK_OP_REFRESH:
        rc = do_refresh(j, &e);
        break;
    case STACK_OP_IMPORT:
        rc = do_import(j, &e);
        break;
    case STACK_OP_SAME:
    case STACK_OP_N:
        break;
    }
    j->step->secs = (double)(clock_mono_us() - t0) / 1e6;
    j->step->rc = rc;
    if (rc && !j->step->msg[0])
        snprintf(j->step->msg, sizeof(j->step->msg), "%s", e.msg);
    progress(j->r, j, true);
    return NULL;
}

/* Run @n jobs in parallel; returns the number that failed. */
int stack_eng_run_jobs(struct job **jobs, size_t n)
{
    pthread_t *th = xcalloc(n + 1, sizeof(*th));
    bool *started = xcalloc(n + 1, sizeof(*started));
    int failed = 0;

    for (size_t i = 0; i < n; i++)
        started[i] = pthread_create(&th[i], NULL, job_main, jobs[i]) == 0;
    for (size_t i = 0; i < n; i++) {
        if (started[i])
            pthread_join(th[i], NULL);
        else
            job_main(jobs[i]);
        if (jobs[i]->step->rc)
            failed++;
    }
    free(th);
    free(started);
    return failed;
}

void stack_eng_job_free(struct job *j)
{
    if (!j)
        return;
    cJSON_Delete(j->inputs);
    cJSON_Delete(j->old);
    cJSON_Delete(j->deps);
    cJSON_Delete(j->result);
    free(j);
}
