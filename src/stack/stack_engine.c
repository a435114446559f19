/* stack_engine.c - plan and apply a stack: waves of parallel provider calls, state saved
 * after every operation. */
#include "stack_engine.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "clock.h"
#include "stack_expr.h"
#include "stack_graph.h"
#include "stack_match.h"
#include "mem.h"
#include "stack_provider.h"
#include "stack_state.h"

#define PROVIDER_TYPE "pulumi:providers:aws"
#define LOCAL         "local"

struct run {
    const struct stack_opts *o;
    const struct stack_prog *p;
    struct stack_graph *g;
    cJSON *state;
    cJSON *values; /* resource name -> inputs merged with outputs */
    cJSON *config; /* config name -> typed value */
    cJSON *vars;   /* variable name -> value (cache) */
    cJSON *pulumi; /* {stack, project, organization} */
    cJSON *urls;   /* region -> local URL */
    int var_depth;
    bool preview;
    pthread_mutex_t mu; /* state, steps */
    struct stack_result *res;
    size_t cap;
    char *default_region;
};

struct job {
    struct run *r;
    const struct stack_provider *prov; /* NULL for provider resources */
    const char *name, *type;
    enum stack_op op;
    cJSON *inputs; /* owned */
    cJSON *old;    /* owned copy of the state entry, or NULL */
    cJSON *deps;   /* owned: array of names */
    char region[64];
    char spec[512];     /* "local" or the URL given in the stack */
    char endpoint[512]; /* resolved URL */
    bool adopt, autoname, dbr, protect, retain;
    const struct stack_res *res; /* NULL for deletes of resources no longer in the program */
    struct stack_step *step;
    cJSON *result; /* owned: the value after the operation */
};

const char *stack_op_name(enum stack_op op)
{
    static const char *const names[STACK_OP_N] = {"same",   "create",  "update", "replace",
                                                  "delete", "refresh", "import"};
    return names[op];
}

static const char *const op_ing[STACK_OP_N] = {"",         "creating",   "updating", "replacing",
                                               "deleting", "refreshing", "importing"};
static const char *const op_ed[STACK_OP_N] = {"unchanged", "created",   "updated", "replaced",
                                              "deleted",   "refreshed", "imported"};
static const char op_sym[STACK_OP_N] = {' ', '+', '~', '!', '-', '?', '='};

void stack_result_free(struct stack_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nsteps; i++) {
        free(r->steps[i].name);
        free(r->steps[i].type);
        free(r->steps[i].region);
        cJSON_Delete(r->steps[i].inputs);
        cJSON_Delete(r->steps[i].changed);
    }
    free(r->steps);
    cJSON_Delete(r->outputs);
    cJSON_Delete(r->secrets);
    memset(r, 0, sizeof(*r));
}

/* ---- names: resources, variables, config, pulumi ---- */

static const cJSON *lookup(void *ud, const char *root, struct err *e);

/* The folder relative paths start from: the program's (`main:`), else the project's. */
static const char *prog_dir(const struct run *r)
{
    return r->p && r->p->dir ? r->p->dir : r->o->dir;
}

static struct stack_eval eval_ctx(struct run *r)
{
    struct stack_eval ev = {.prog = r->p,
                            .dir = prog_dir(r),
                            .lookup = lookup,
                            .ud = r,
                            .region = r->default_region,
                            .account = r->o->account};
    return ev;
}

static const cJSON *lookup(void *ud, const char *root, struct err *e)
{
    struct run *r = ud;
    const cJSON *v;

    if ((v = cJSON_GetObjectItemCaseSensitive(r->values, root)))
        return v;
    if (stack_prog_find(r->p, root)) {
        err_set(e, ERR_INTERNAL, "resource '%s' is used before it is ready", root);
        return NULL;
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(r->vars, root)))
        return v;
    for (size_t i = 0; i < r->p->nvariables; i++) {
        if (strcmp(r->p->variables[i].name, root) != 0)
            continue;
        struct stack_eval ev = eval_ctx(r);
        cJSON *val;
        if (r->var_depth > 32) {
            err_set(e, ERR_INVALID, "variables refer to each other in a cycle through '%s'", root);
            return NULL;
        }
        r->var_depth++;
        enum err_code rc = stack_expr_eval(&ev, r->p->variables[i].node, &val, e);
        r->var_depth--;
        if (rc)
            return NULL;
        cJSON_AddItemToObject(r->vars, root, val);
        return val;
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(r->config, root)))
        return v;
    if (!strcmp(root, "pulumi"))
        return r->pulumi;
    err_set(e, ERR_NOTFOUND, "unknown name '%s' (not a resource, variable or config value)", root);
    return NULL;
}

static cJSON *typed_config(const char *type, const char *s)
{
    char *end;
    double d;
    if (type && (!strcasecmp(type, "integer") || !strcasecmp(type, "number"))) {
        d = strtod(s, &end);
        if (*s && !*end)
            return cJSON_CreateNumber(d);
    }
    if (type && !strcasecmp(type, "boolean"))
        return cJSON_CreateBool(!strcmp(s, "true"));
    if (type && (!strncmp(type, "List<", 5) || !strcasecmp(type, "array"))) {
        cJSON *l = cJSON_Parse(s);
        if (cJSON_IsArray(l))
            return l;
        cJSON_Delete(l);
    }
    return cJSON_CreateString(s);
}

/* The seed reads ENVIRONMENT_SUFFIX from the environment first, then config. */
static const char *config_raw(struct run *r, const char *name)
{
    const char *proj = r->p->name ? r->p->name : "";
    char full[256];
    const char *s;

    if (!strcmp(name, "environmentSuffix") && (s = getenv("ENVIRONMENT_SUFFIX")) && *s)
        return s;
    if ((s = stack_state_str(r->o->config, name)))
        return s;
    snprintf(full, sizeof(full), "%s:%s", proj, name);
    return stack_state_str(r->o->config, full);
}

static enum err_code resolve_config(struct run *r, struct err *e)
{
    const cJSON *c;

    r->config = cJSON_CreateObject();
    for (size_t i = 0; i < r->p->nconfig; i++) {
        const struct stack_config_decl *d = &r->p->config[i];
        const char *raw = config_raw(r, d->name);
        cJSON *v = NULL;
        if (raw) {
            v = typed_config(d->type, raw);
        } else if (d->def) {
            struct stack_eval ev = eval_ctx(r);
            enum err_code rc = stack_expr_eval(&ev, d->def, &v, e);
            if (rc)
                return rc;
        } else {
            return stack_prog_errat(r->p, d->at, e,
                                    "missing required configuration value '%s' (tandem config "
                                    "set %s VALUE)",
                                    d->name, d->name);
        }
        cJSON_AddItemToObject(r->config, d->name, v);
    }
    cJSON_ArrayForEach(c, r->o->config)
    {
        const char *k = c->string, *colon = strchr(k, ':');
        if (!cJSON_IsString(c))
            continue;
        if (!cJSON_GetObjectItemCaseSensitive(r->config, k))
            cJSON_AddItemToObject(r->config, k, cJSON_CreateString(c->valuestring));
        if (colon && !cJSON_GetObjectItemCaseSensitive(r->config, colon + 1) && r->p->name &&
            !strncmp(k, r->p->name, (size_t)(colon - k)) &&
            strlen(r->p->name) == (size_t)(colon - k))
            cJSON_AddItemToObject(r->config, colon + 1, cJSON_CreateString(c->valuestring));
    }
    {
        const char *reg = stack_state_str(r->config, "aws:region");
        r->default_region = xstrdup(reg                    ? reg
                                    : getenv("AWS_REGION") ? getenv("AWS_REGION")
                                                           : "us-east-1");
    }
    return ERR_OK;
}

static enum err_code run_init(struct run *r, const struct stack_opts *o, const struct stack_prog *p,
                              struct stack_result *res, bool preview, struct err *e)
{
    enum err_code rc;
    size_t nstate;

    memset(r, 0, sizeof(*r));
    memset(res, 0, sizeof(*res));
    r->o = o;
    r->p = p;
    r->res = res;
    r->preview = preview;
    r->values = cJSON_CreateObject();
    r->vars = cJSON_CreateObject();
    r->urls = cJSON_CreateObject();
    r->pulumi = cJSON_CreateObject();
    pthread_mutex_init(&r->mu, NULL);
    cJSON_AddStringToObject(r->pulumi, "stack", o->stack ? o->stack : "dev");
    cJSON_AddStringToObject(r->pulumi, "project", p && p->name ? p->name : "");
    cJSON_AddStringToObject(r->pulumi, "organization", "organization");
    cJSON_AddStringToObject(r->pulumi, "cwd", p && p->dir ? p->dir : o->dir ? o->dir : ".");
    cJSON_AddStringToObject(r->pulumi, "rootDirectory",
                            p && p->root_dir ? p->root_dir
                            : o->dir         ? o->dir
                                             : ".");
    rc = stack_state_load(o->state_path, &r->state, e);
    if (rc)
        return rc;
    nstate = (size_t)cJSON_GetArraySize(cJSON_GetObjectItem(r->state, "resources"));
    r->cap = (p ? p->nres : 0) * 2 + nstate * 2 + 4;
    res->steps = xcalloc(r->cap, sizeof(*res->steps));
    if (p) {
        if ((rc = resolve_config(r, e)))
            return rc;
        if ((rc = stack_graph_build(p, &r->g, e)))
            return rc;
    } else {
        r->config = cJSON_CreateObject();
        r->default_region = xstrdup("us-east-1");
    }
    return ERR_OK;
}

static void run_free(struct run *r)
{
    stack_graph_free(r->g);
    cJSON_Delete(r->state);
    cJSON_Delete(r->values);
    cJSON_Delete(r->config);
    cJSON_Delete(r->vars);
    cJSON_Delete(r->pulumi);
    cJSON_Delete(r->urls);
    free(r->default_region);
    pthread_mutex_destroy(&r->mu);
}

static struct stack_step *new_step(struct run *r, const char *name, const char *type,
                                   const char *region, enum stack_op op)
{
    struct stack_step *s;
    pthread_mutex_lock(&r->mu);
    if (r->res->nsteps == r->cap) {
        pthread_mutex_unlock(&r->mu);
        return NULL;
    }
    s = &r->res->steps[r->res->nsteps++];
    pthread_mutex_unlock(&r->mu);
    s->name = xstrdup(name);
    s->type = xstrdup(type);
    s->region = xstrdup(region ? region : "");
    s->op = op;
    s->changed = cJSON_CreateArray();
    r->res->counts[op]++;
    return s;
}

static void save_locked(struct run *r)
{
    struct err e = {0};
    if (r->preview)
        return;
    if (stack_state_save(r->o->state_path, r->state, &e) && r->o->progress)
        fprintf(r->o->progress, "warning: could not save the state: %s\n", e.msg);
}

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

/* ---- targets ---- */

/* Where a resource goes: its provider's region and endpoint ("local" when none). */
static void target_of(struct run *r, int prov_idx, char *region, size_t rcap, char *spec,
                      size_t scap, const char *service)
{
    const cJSON *pv = prov_idx >= 0
                          ? cJSON_GetObjectItemCaseSensitive(r->values, r->p->res[prov_idx].name)
                          : NULL;
    const cJSON *eps, *ep, *u;
    const char *reg = pv ? stack_state_str(pv, "region") : NULL;

    snprintf(region, rcap, "%s", reg ? reg : r->default_region);
    snprintf(spec, scap, "%s", LOCAL);
    eps = pv ? cJSON_GetObjectItem(pv, "endpoints") : NULL;
    ep = cJSON_IsArray(eps) ? cJSON_GetArrayItem(eps, 0) : eps;
    if (!cJSON_IsObject(ep))
        return;
    u = cJSON_GetObjectItemCaseSensitive(ep, service);
    if (!cJSON_IsString(u)) /* one Tandem port serves every API: any endpoint will do */
        for (u = ep->child; u && !cJSON_IsString(u); u = u->next)
            ;
    if (u && cJSON_IsString(u) && *u->valuestring)
        snprintf(spec, scap, "%s", u->valuestring);
}

static const char *service_of(const char *type)
{
    if (!strncmp(type, "aws:dynamodb", 12))
        return "dynamodb";
    if (!strncmp(type, "aws:s3", 6))
        return "s3";
    if (!strncmp(type, "aws:iam", 7))
        return "iam";
    if (!strncmp(type, "aws:lambda", 10))
        return "lambda";
    return "dynamodb";
}

static enum err_code resolve_endpoint(struct run *r, const char *region, const char *spec,
                                      char *url, size_t cap, struct err *e)
{
    const char *known;
    enum err_code rc;

    if (strcmp(spec, LOCAL) != 0) {
        snprintf(url, cap, "%s", spec);
        while (strlen(url) > 0 && url[strlen(url) - 1] == '/')
            url[strlen(url) - 1] = 0;
        return ERR_OK;
    }
    if ((known = stack_state_str(r->urls, region))) {
        snprintf(url, cap, "%s", known);
        return ERR_OK;
    }
    if (!r->o->endpoint)
        return err_set(e, ERR_INVALID, "no endpoint for region %s", region);
    rc = r->o->endpoint(r->o->ud, region, url, cap, e);
    if (rc == ERR_OK)
        cJSON_AddStringToObject(r->urls, region, url);
    return rc;
}

/* ---- per-resource operations (worker threads) ---- */

static cJSON *merged(const cJSON *in, const cJSON *out)
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
    save_locked(r);
    pthread_mutex_unlock(&r->mu);
}

static void remove_entry(struct run *r, const char *name)
{
    pthread_mutex_lock(&r->mu);
    stack_state_remove(r->state, name);
    save_locked(r);
    pthread_mutex_unlock(&r->mu);
}

/* The target of @j's operation; @op (STACK_TIMEOUT_*, or -1) picks its customTimeouts. */
static struct stack_target target(const struct job *j, int op)
{
    struct stack_target t = {.region = j->region,
                             .endpoint = j->endpoint,
                             .account = j->r->o->account ? j->r->o->account : "000000000000",
                             .creds = &j->r->o->creds,
                             .workdir = j->r->o->workdir,
                             .timeout_ms = op >= 0 && j->res ? j->res->timeout_ms[op] : 0,
                             .started_ms = clock_mono_us() / 1000};
    return t;
}

static enum err_code do_create(struct job *j, struct err *e)
{
    struct stack_target t = target(j, STACK_TIMEOUT_CREATE);
    char *id = NULL;
    cJSON *out = NULL;
    enum err_code rc;

    if (!j->prov) { /* pulumi:providers:aws: configuration only */
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", j->name);
        put_entry(j->r, entry_new(j, "created", j->name, j->inputs, o));
        j->result = merged(j->inputs, o);
        cJSON_Delete(o);
        return ERR_OK;
    }
    /* Mark the create before making it: if this run dies mid-call, the next run adopts. */
    put_entry(j->r, entry_new(j, "creating", NULL, j->inputs, NULL));
    rc = j->prov->create(&t, j->inputs, j->adopt, &id, &out, e);
    if (rc == ERR_OK) {
        /* the id the provider gives it (a RandomPassword's "none"), else the import's */
        put_entry(j->r, entry_new(j, "created",
                                  stack_state_str(out, "id") ? stack_state_str(out, "id") : id,
                                  j->inputs, out));
        j->result = merged(j->inputs, out);
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

static enum err_code do_delete_entry(struct run *r, const cJSON *en, const char *endpoint,
                                     struct err *e)
{
    const char *type = stack_state_str(en, "type");
    const struct stack_provider *prov = type ? stack_provider_find(type) : NULL;
    const char *id = stack_state_str(en, "id");
    struct stack_target t = {.region = stack_state_str(en, "region"),
                             .endpoint = endpoint,
                             .account = r->o->account ? r->o->account : "000000000000",
                             .creds = &r->o->creds,
                             .workdir = r->o->workdir,
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
    struct stack_target t = target(j, STACK_TIMEOUT_UPDATE);
    const char *id = stack_state_str(j->old, "id");
    cJSON *out = NULL, *en;
    enum err_code rc;

    if (!j->prov) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", j->name);
        put_entry(j->r, entry_new(j, "created", j->name, j->inputs, o));
        j->result = merged(j->inputs, o);
        cJSON_Delete(o);
        return ERR_OK;
    }
    rc = j->prov->update(&t, id, cJSON_GetObjectItem(j->old, "inputs"), j->inputs,
                         cJSON_GetObjectItem(j->old, "outputs"), &out, e);
    if (rc == ERR_OK) {
        en = entry_new(j, "created", id, j->inputs, out);
        j->result = merged(j->inputs, out);
        put_entry(j->r, en);
    }
    cJSON_Delete(out);
    return rc;
}

static enum err_code do_replace(struct job *j, struct err *e)
{
    enum err_code rc;
    const char *np = j->prov ? j->prov->name_prop : NULL;
    const char *oldname = np ? stack_state_str(cJSON_GetObjectItem(j->old, "inputs"), np) : NULL;
    const char *newname = np ? stack_state_str(j->inputs, np) : NULL;
    bool delete_first = j->dbr || (oldname && newname && !strcmp(oldname, newname));
    char oldurl[512];

    if (!j->prov)
        return do_create(j, e);
    rc = resolve_endpoint(j->r, stack_state_str(j->old, "region"),
                          stack_state_str(j->old, "endpoint"), oldurl, sizeof(oldurl), e);
    if (rc)
        return rc;
    if (delete_first) {
        cJSON *en = cJSON_Duplicate(j->old, 1);
        cJSON_ReplaceItemInObject(en, "status", cJSON_CreateString("deleting"));
        put_entry(j->r, en);
        rc = do_delete_entry(j->r, j->old, oldurl, e);
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
    save_locked(j->r);
    pthread_mutex_unlock(&j->r->mu);
    rc = do_delete_entry(j->r, j->old, oldurl, e);
    if (rc == ERR_OK) {
        pthread_mutex_lock(&j->r->mu);
        cJSON_DeleteItemFromObject(stack_state_res(j->r->state, j->name), "replacing");
        save_locked(j->r);
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
    rc = j->retain ? ERR_OK : do_delete_entry(j->r, j->old, j->endpoint, e);
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
    struct stack_target t = target(j, -1);
    cJSON *out = NULL;
    bool gone = false;
    enum err_code rc;
    const char *id = stack_state_str(j->old, "id");

    if (j->res && j->res->get && j->prov) { /* get: */
        id = stack_state_str(j->inputs, "id");
        rc = j->prov->read(&t, id, j->inputs, &out, &gone, e);
        if (rc == ERR_OK && gone)
            rc =
                err_set(e, ERR_NOTFOUND, "get: %s %s does not exist in %s", j->type, id, j->region);
        if (rc == ERR_OK)
            j->result = merged(j->inputs, out);
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

static bool names_prop(const struct stack_node *list, const char *prop);

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
    struct stack_target t = target(j, -1);
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
        if (!names_prop(j->res->ignore_changes, c->string))
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
        if (np && !cJSON_GetObjectItemCaseSensitive(j->inputs, np) && stack_state_str(out, np)) {
            cJSON_AddStringToObject(j->inputs, np, stack_state_str(out, np));
            j->autoname = true;
        }
        /* what the program gives stays as it wrote it (a policy as an object) */
        for (c = given->child; c; c = c->next)
            if (!names_prop_list(j->prov->outputs, c->string))
                cJSON_DeleteItemFromObjectCaseSensitive(out, c->string);
        /* the id the provider gives it (a RandomPassword's "none"), else the import's */
        put_entry(j->r, entry_new(j, "created",
                                  stack_state_str(out, "id") ? stack_state_str(out, "id") : id,
                                  j->inputs, out));
        j->result = merged(j->inputs, out);
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
static int run_jobs(struct job **jobs, size_t n)
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

static void job_free(struct job *j)
{
    if (!j)
        return;
    cJSON_Delete(j->inputs);
    cJSON_Delete(j->old);
    cJSON_Delete(j->deps);
    cJSON_Delete(j->result);
    free(j);
}

/* ---- planning one resource ---- */

static void auto_name(struct job *j, const cJSON *old)
{
    const char *np = j->prov ? j->prov->name_prop : NULL;
    const cJSON *oldin = old ? cJSON_GetObjectItem(old, "inputs") : NULL;
    const char *base = j->res && j->res->logical ? j->res->logical : j->name;
    char name[1100];
    unsigned char rnd[4] = {0};
    FILE *f;

    if (!np || cJSON_GetObjectItemCaseSensitive(j->inputs, np))
        return;
    j->autoname = true;
    if (old && cJSON_IsTrue(cJSON_GetObjectItem(old, "autoName")) && stack_state_str(oldin, np)) {
        cJSON_AddStringToObject(j->inputs, np, stack_state_str(oldin, np));
        return;
    }
    f = fopen("/dev/urandom", "rb");
    if (f) {
        if (fread(rnd, 1, sizeof(rnd), f) != sizeof(rnd))
            memset(rnd, 0, sizeof(rnd));
        fclose(f);
    }
    if (j->prov->name_plain)
        snprintf(name, sizeof(name), "%.*s", j->prov->name_max, base);
    else
        snprintf(name, sizeof(name), "%.*s-%02x%02x%02x%x", j->prov->name_max - 8, base, rnd[0],
                 rnd[1], rnd[2], rnd[3] & 0xf);
    if (!strcmp(np, "bucket"))
        for (char *c = name; *c; c++)
            *c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c == '_' ? '-' : *c);
    cJSON_AddStringToObject(j->inputs, np, name);
}

static void diff_inputs(const cJSON *old, const cJSON *now, cJSON *changed)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, now)
    {
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(old, c->string);
        if (!o || !cJSON_Compare(o, c, 1) || stack_value_is_unknown(c))
            cJSON_AddItemToArray(changed, cJSON_CreateString(c->string));
    }
    cJSON_ArrayForEach(c, old)
    {
        if (!cJSON_GetObjectItemCaseSensitive(now, c->string))
            cJSON_AddItemToArray(changed, cJSON_CreateString(c->string));
    }
}

/* The top-level property a path of ignoreChanges / replaceOnChanges names. */
static bool names_prop(const struct stack_node *list, const char *prop)
{
    for (size_t i = 0; list && i < list->n; i++) {
        const char *s = list->items[i]->str;
        size_t n;
        if (list->items[i]->kind != STACK_NODE_SCALAR)
            continue;
        if (!strcmp(s, "*"))
            return true;
        n = strcspn(s, ".[");
        if (strlen(prop) == n && !strncmp(s, prop, n))
            return true;
    }
    return false;
}

/* options.ignoreChanges: the properties named keep the value in the state. */
static void ignore_changes(const struct stack_res *res, const cJSON *old_in, cJSON *in)
{
    const cJSON *o;
    cJSON *c, *next;
    if (!res->ignore_changes || !old_in)
        return;
    for (c = in->child; c; c = next) {
        next = c->next;
        if (names_prop(res->ignore_changes, c->string) &&
            !cJSON_GetObjectItemCaseSensitive(old_in, c->string))
            cJSON_DeleteItemFromObjectCaseSensitive(in, c->string);
    }
    cJSON_ArrayForEach(o, old_in)
    {
        if (!names_prop(res->ignore_changes, o->string))
            continue;
        cJSON_DeleteItemFromObjectCaseSensitive(in, o->string);
        cJSON_AddItemToObject(in, o->string, cJSON_Duplicate(o, 1));
    }
}

static bool forces_replace(const struct stack_provider *prov, const struct stack_res *res,
                           const cJSON *changed)
{
    const cJSON *c;
    if (!prov)
        return false;
    cJSON_ArrayForEach(c, changed)
    {
        if (res && names_prop(res->replace_on_changes, c->valuestring))
            return true;
        for (size_t i = 0; prov->replace_props && prov->replace_props[i]; i++)
            if (!strcmp(prov->replace_props[i], c->valuestring))
                return true;
    }
    return false;
}

/* The value other resources see during preview: inputs, old outputs, unknown new ones. */
static cJSON *preview_value(const struct job *j)
{
    cJSON *v;
    if (j->res && j->res->get) {
        v = cJSON_Duplicate(j->inputs, 1); /* get: only its id is known before the read */
    } else if (j->op == STACK_OP_SAME || j->op == STACK_OP_UPDATE) {
        v = merged(cJSON_GetObjectItem(j->old, "outputs"), j->inputs);
    } else if (j->prov && j->prov->predict && !stack_value_is_unknown(j->inputs)) {
        struct stack_target t = target(j, -1);
        cJSON *p = j->prov->predict(&t, j->inputs);
        v = merged(j->inputs, p);
        cJSON_Delete(p);
    } else {
        v = cJSON_Duplicate(j->inputs, 1);
    }
    if (!j->prov) {
        if (!cJSON_GetObjectItem(v, "id"))
            cJSON_AddStringToObject(v, "id", j->name);
        return v;
    }
    for (size_t i = 0; j->prov->outputs && j->prov->outputs[i]; i++)
        if (!cJSON_GetObjectItemCaseSensitive(v, j->prov->outputs[i]))
            cJSON_AddStringToObject(v, j->prov->outputs[i], STACK_UNKNOWN);
    /* get: the read reports the resource's properties too (those its provider reads back) */
    for (size_t i = 0; j->res && j->res->get && j->prov->inputs && j->prov->inputs[i]; i++)
        if (!cJSON_GetObjectItemCaseSensitive(v, j->prov->inputs[i]))
            cJSON_AddStringToObject(v, j->prov->inputs[i], STACK_UNKNOWN);
    return v;
}

/* check_value - a literal value of property @pn outside the provider's values[] list */
static enum err_code check_value(const struct stack_prog *p, const struct stack_provider *prov,
                                 const char *pn, const struct stack_node *v, struct err *e)
{
    size_t n = strlen(pn);

    if (v->kind != STACK_NODE_SCALAR || strstr(v->str, "${"))
        return ERR_OK;
    for (size_t q = 0; prov->values && prov->values[q]; q++) {
        const char *l = prov->values[q], *c;
        if (strncmp(l, pn, n) || l[n] != '=')
            continue;
        for (c = l + n + 1; *c;) {
            size_t k = strcspn(c, "|");
            if (strlen(v->str) == k && !strncmp(c, v->str, k))
                return ERR_OK;
            c += k + (c[k] == '|');
        }
        return stack_prog_errat(p, v, e, "%s: %s '%s' is not one Tandem runs (%s)", prov->type, pn,
                                v->str, l + n + 1);
    }
    return ERR_OK;
}

static enum err_code plan_resource(struct run *r, size_t idx, struct job **out, struct err *e)
{
    const struct stack_res *res = &r->p->res[idx];
    struct stack_eval ev = eval_ctx(r);
    struct job *j = xcalloc(1, sizeof(*j));
    const cJSON *old;
    enum err_code rc;

    *out = NULL;
    j->r = r;
    j->name = res->name;
    j->type = res->type;
    j->dbr = res->delete_before_replace;
    j->protect = res->protect;
    j->retain = res->retain_on_delete;
    j->res = res;
    if (!res->is_provider) {
        j->prov = stack_provider_find(res->type);
        if (!j->prov) {
            const char *near = stack_provider_nearest_type(res->type);
            rc = stack_prog_errat(
                r->p, stack_node_get(res->node, "type"), e, "unknown resource type '%s'%s%s%s",
                res->type, near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
            goto fail;
        }
        for (size_t k = 0; res->props && j->prov->inputs && k < res->props->n; k++) {
            const char *pn = res->props->keys[k]->str, *near;
            bool ok = false;
            for (size_t q = 0; j->prov->inputs[q] && !ok; q++)
                ok = !strcmp(j->prov->inputs[q], pn);
            for (size_t q = 0; ok && j->prov->unsupported && j->prov->unsupported[q]; q++)
                if (!strcmp(j->prov->unsupported[q], pn)) {
                    rc = stack_prog_errat(r->p, res->props->keys[k], e,
                                          "%s: property '%s' is valid in Pulumi but Tandem does "
                                          "not support it yet",
                                          j->prov->type, pn);
                    goto fail;
                }
            if (ok && (rc = check_value(r->p, j->prov, pn, res->props->items[k], e)))
                goto fail;
            if (ok)
                continue;
            near = stack_nearest(pn, j->prov->inputs);
            rc = stack_prog_errat(r->p, res->props->keys[k], e, "%s has no property '%s'%s%s%s",
                                  j->prov->type, pn, near ? " (did you mean '" : "",
                                  near ? near : "", near ? "'?)" : "");
            goto fail;
        }
    }
    if (res->get && !res->is_provider) {
        /* get: an existing resource, read by id; the stack does not manage it */
        rc = stack_expr_eval(&ev, stack_node_get(res->get, "id"), &j->inputs, e);
        if (rc)
            goto fail;
        if (!cJSON_IsString(j->inputs)) {
            rc = stack_prog_errat(r->p, res->get, e, "get: id must be a string");
            goto fail;
        }
        {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddItemToObject(o, "id", j->inputs);
            j->inputs = o;
        }
    } else if (res->props)
        rc = stack_expr_eval(&ev, res->props, &j->inputs, e);
    else
        j->inputs = cJSON_CreateObject(), rc = ERR_OK;
    if (rc)
        goto fail;
    stack_provider_coerce(j->inputs, j->prov);
    if (res->is_provider) {
        if (!cJSON_GetObjectItem(j->inputs, "region"))
            cJSON_AddStringToObject(j->inputs, "region", r->default_region);
        snprintf(j->region, sizeof(j->region), "%s", stack_state_str(j->inputs, "region"));
        snprintf(j->spec, sizeof(j->spec), "%s", LOCAL);
    } else {
        target_of(r, r->g->provider[idx], j->region, sizeof(j->region), j->spec, sizeof(j->spec),
                  service_of(res->type));
    }
    j->deps = cJSON_CreateArray();
    for (size_t d = 0; d < r->g->ndeps[idx]; d++)
        cJSON_AddItemToArray(j->deps, cJSON_CreateString(r->p->res[r->g->deps[idx][d]].name));
    old = stack_state_res(r->state, res->name);
    j->old = old ? cJSON_Duplicate(old, 1) : NULL;
    if (!res->get && !(res->import_id && !old)) /* an import keeps the name it has */
        auto_name(j, old);
    if (old)
        ignore_changes(res, cJSON_GetObjectItem(old, "inputs"), j->inputs);
    j->step = new_step(r, res->name, res->type, j->region, STACK_OP_SAME);
    if (!j->step) {
        rc = err_set(e, ERR_INTERNAL, "too many steps");
        goto fail;
    }
    cJSON_Delete(j->step->inputs);
    j->step->inputs = cJSON_Duplicate(j->inputs, 1);
    if (!old) {
        j->op = res->import_id && j->prov ? STACK_OP_IMPORT : STACK_OP_CREATE;
    } else {
        const char *st = stack_state_str(old, "status");
        const char *otype = stack_state_str(old, "type");
        diff_inputs(cJSON_GetObjectItem(old, "inputs"), j->inputs, j->step->changed);
        if (st && !strcmp(st, "creating")) {
            j->op = STACK_OP_CREATE;
            j->adopt = true;
        } else if (!otype || strcmp(otype, res->type) ||
                   strcmp(stack_state_str(old, "region") ? stack_state_str(old, "region") : "",
                          j->region)) {
            j->op = STACK_OP_REPLACE;
        } else if (st && !strcmp(st, "deleting")) {
            j->op = STACK_OP_REPLACE;
            j->dbr = true;
        } else if (cJSON_GetArraySize(j->step->changed) == 0) {
            const char *ep = stack_state_str(old, "endpoint");
            j->op = STACK_OP_SAME;
            /* the same region reached at another address: only the state learns it */
            if (!r->preview && (!ep || strcmp(ep, j->spec))) {
                cJSON *en = stack_state_res(r->state, res->name);
                cJSON_ReplaceItemInObject(en, "endpoint", cJSON_CreateString(j->spec));
                pthread_mutex_lock(&r->mu);
                save_locked(r);
                pthread_mutex_unlock(&r->mu);
            }
        } else if (forces_replace(j->prov, res, j->step->changed)) {
            j->op = STACK_OP_REPLACE;
        } else {
            j->op = STACK_OP_UPDATE;
        }
    }
    if (res->get && !res->is_provider)
        j->op = STACK_OP_REFRESH; /* read every run, never created, updated or deleted */
    r->res->counts[STACK_OP_SAME]--;
    r->res->counts[j->op]++;
    j->step->op = j->op;
    *out = j;
    return ERR_OK;
fail:
    job_free(j);
    return rc;
}

/* ---- deletes in reverse dependency order ---- */

static bool depended_on(const cJSON *state, const char *name, const cJSON *pending)
{
    const cJSON *en, *d;
    cJSON_ArrayForEach(en, cJSON_GetObjectItem(state, "resources"))
    {
        const char *n = stack_state_str(en, "name");
        bool in_pending = false;
        const cJSON *p;
        cJSON_ArrayForEach(p, pending) in_pending = in_pending || !strcmp(p->valuestring, n);
        if (!in_pending || !strcmp(n, name))
            continue;
        cJSON_ArrayForEach(
            d, cJSON_GetObjectItem(en, "deps")) if (cJSON_IsString(d) &&
                                                    !strcmp(d->valuestring, name)) return true;
    }
    return false;
}

/* Delete the state entries named in @names (taken), leaves first, each wave in parallel. */
static enum err_code delete_names(struct run *r, cJSON *names, struct err *e)
{
    enum err_code rc = ERR_OK;

    while (cJSON_GetArraySize(names) > 0) {
        struct job **jobs = xcalloc((size_t)cJSON_GetArraySize(names) + 1, sizeof(*jobs));
        size_t n = 0;
        const cJSON *nm;
        int failed;

        cJSON_ArrayForEach(nm, names)
        {
            const cJSON *en = stack_state_res(r->state, nm->valuestring);
            struct job *j;
            if (!en || depended_on(r->state, nm->valuestring, names))
                continue;
            j = xcalloc(1, sizeof(*j));
            j->r = r;
            j->op = STACK_OP_DELETE;
            j->old = cJSON_Duplicate(en, 1);
            j->name = stack_state_str(j->old, "name");
            j->type = stack_state_str(j->old, "type");
            j->prov = stack_provider_find(j->type);
            j->protect = cJSON_IsTrue(cJSON_GetObjectItem(en, "protect"));
            j->retain = cJSON_IsTrue(cJSON_GetObjectItem(en, "retainOnDelete"));
            snprintf(j->region, sizeof(j->region), "%s", stack_state_str(en, "region") ?: "");
            snprintf(j->spec, sizeof(j->spec), "%s", stack_state_str(en, "endpoint") ?: LOCAL);
            j->step = new_step(r, j->name, j->type, j->region, STACK_OP_DELETE);
            if (!j->step) {
                job_free(j);
                continue;
            }
            if (j->prov && stack_state_str(en, "id") &&
                (rc = resolve_endpoint(r, j->region, j->spec, j->endpoint, sizeof(j->endpoint),
                                       e))) {
                j->step->rc = rc;
                snprintf(j->step->msg, sizeof(j->step->msg), "%s", e->msg);
                job_free(j);
                r->res->failed++;
                break;
            }
            jobs[n++] = j;
        }
        if (rc || n == 0) {
            for (size_t i = 0; i < n; i++)
                job_free(jobs[i]);
            free(jobs);
            if (!rc && n == 0)
                rc = err_set(e, ERR_INTERNAL, "could not order the deletes");
            break;
        }
        failed = run_jobs(jobs, n);
        for (size_t i = 0; i < n; i++) {
            if (jobs[i]->step->rc && !rc)
                rc = err_set(e, jobs[i]->step->rc, "%s: %s", jobs[i]->name, jobs[i]->step->msg);
            for (int k = cJSON_GetArraySize(names) - 1; k >= 0; k--)
                if (!strcmp(cJSON_GetArrayItem(names, k)->valuestring, jobs[i]->name))
                    cJSON_DeleteItemFromArray(names, k);
            job_free(jobs[i]);
        }
        free(jobs);
        r->res->failed += failed;
        if (failed)
            break;
    }
    cJSON_Delete(names);
    return rc;
}

/* A create-first replacement interrupted before its old resource was deleted. */
static enum err_code finish_replacements(struct run *r, struct err *e)
{
    cJSON *en;
    cJSON_ArrayForEach(en, cJSON_GetObjectItem(r->state, "resources"))
    {
        cJSON *old = cJSON_GetObjectItem(en, "replacing");
        char url[512];
        enum err_code rc;
        if (!old)
            continue;
        rc = resolve_endpoint(r, stack_state_str(old, "region"), stack_state_str(old, "endpoint"),
                              url, sizeof(url), e);
        if (rc == ERR_OK)
            rc = do_delete_entry(r, old, url, e);
        if (rc)
            return rc;
        cJSON_DeleteItemFromObject(en, "replacing");
        pthread_mutex_lock(&r->mu);
        save_locked(r);
        pthread_mutex_unlock(&r->mu);
    }
    return ERR_OK;
}

static enum err_code eval_outputs(struct run *r, struct err *e)
{
    struct stack_result *res = r->res;
    res->outputs = cJSON_CreateObject();
    res->secrets = cJSON_CreateArray();
    for (size_t i = 0; i < r->p->noutputs; i++) {
        struct stack_eval ev = eval_ctx(r);
        cJSON *v;
        enum err_code rc = stack_expr_eval(&ev, r->p->outputs[i].node, &v, e);
        if (rc)
            return rc;
        cJSON_AddItemToObject(res->outputs, r->p->outputs[i].name, v);
        if (ev.secret)
            cJSON_AddItemToArray(res->secrets, cJSON_CreateString(r->p->outputs[i].name));
    }
    if (!r->preview) {
        pthread_mutex_lock(&r->mu);
        cJSON_ReplaceItemInObject(r->state, "outputs", cJSON_Duplicate(res->outputs, 1));
        cJSON_DeleteItemFromObject(r->state, "secretOutputs");
        if (cJSON_GetArraySize(res->secrets))
            cJSON_AddItemToObject(r->state, "secretOutputs", cJSON_Duplicate(res->secrets, 1));
        if (!cJSON_GetObjectItem(r->state, "stack"))
            cJSON_AddStringToObject(r->state, "stack", r->o->stack ? r->o->stack : "dev");
        if (!cJSON_GetObjectItem(r->state, "project") && r->p->name)
            cJSON_AddStringToObject(r->state, "project", r->p->name);
        save_locked(r);
        pthread_mutex_unlock(&r->mu);
    }
    return ERR_OK;
}

static enum err_code apply(const struct stack_opts *o, const struct stack_prog *p,
                           struct stack_result *res, bool preview, struct err *e)
{
    struct run r;
    enum err_code rc, failed_rc = ERR_OK;
    struct err first_err = {0}, jerr = {0};
    bool *blocked = NULL;
    long writes0 = atomic_load(&stack_provider_writes);

    rc = run_init(&r, o, p, res, preview, e);
    if (rc)
        goto out;
    if (!preview && (rc = finish_replacements(&r, e)))
        goto out;
    blocked = xcalloc(r.g->n + 1, sizeof(*blocked));
    for (int w = 0; w < r.g->nwaves && !rc; w++) {
        struct job **jobs = xcalloc(r.g->n + 1, sizeof(*jobs));
        size_t *idx = xcalloc(r.g->n + 1, sizeof(*idx));
        size_t n = 0;
        for (size_t k = 0; k < r.g->n && !rc; k++) {
            size_t i = r.g->order[k];
            struct job *j;
            if (r.g->wave[i] != w)
                continue;
            /* As Pulumi does: a failure stops what depends on it, not the rest. */
            for (size_t d = 0; d < r.g->ndeps[i]; d++)
                blocked[i] = blocked[i] || blocked[r.g->deps[i][d]];
            if (blocked[i])
                continue;
            rc = plan_resource(&r, i, &j, e);
            if (rc)
                break;
            if (preview || j->op == STACK_OP_SAME) {
                cJSON_AddItemToObject(r.values, j->name, preview_value(j));
                job_free(j);
                continue;
            }
            if (j->prov &&
                resolve_endpoint(&r, j->region, j->spec, j->endpoint, sizeof(j->endpoint), &jerr)) {
                j->step->rc = jerr.code;
                snprintf(j->step->msg, sizeof(j->step->msg), "%s", jerr.msg);
                if (!failed_rc) {
                    failed_rc = jerr.code;
                    first_err = jerr;
                }
                res->failed++;
                blocked[i] = true;
                job_free(j);
                continue;
            }
            idx[n] = i;
            jobs[n++] = j;
        }
        if (!rc && n) {
            res->failed += run_jobs(jobs, n);
            for (size_t q = 0; q < n; q++) {
                if (jobs[q]->step->rc) {
                    blocked[idx[q]] = true;
                    if (!failed_rc) {
                        failed_rc = jobs[q]->step->rc;
                        err_set(&first_err, failed_rc, "%s: %s", jobs[q]->name, jobs[q]->step->msg);
                    }
                }
                if (jobs[q]->result)
                    cJSON_AddItemToObject(r.values, jobs[q]->name,
                                          cJSON_Duplicate(jobs[q]->result, 1));
            }
        }
        for (size_t q = 0; q < n; q++)
            job_free(jobs[q]);
        free(jobs);
        free(idx);
    }
    if (!rc && failed_rc) {
        if (e)
            *e = first_err;
        rc = failed_rc;
    }
    if (rc)
        goto out;
    {
        cJSON *gone = cJSON_CreateArray();
        const cJSON *en;
        cJSON_ArrayForEach(en, cJSON_GetObjectItem(r.state, "resources"))
        {
            const char *n = stack_state_str(en, "name");
            if (n && !stack_prog_find(p, n))
                cJSON_AddItemToArray(gone, cJSON_CreateString(n));
        }
        if (preview) {
            const cJSON *g;
            cJSON_ArrayForEach(g, gone)
            {
                const cJSON *en2 = stack_state_res(r.state, g->valuestring);
                new_step(&r, g->valuestring, stack_state_str(en2, "type") ?: "?",
                         stack_state_str(en2, "region"), STACK_OP_DELETE);
            }
            cJSON_Delete(gone);
        } else if ((rc = delete_names(&r, gone, e))) {
            goto out;
        }
    }
    rc = eval_outputs(&r, e);
out:
    res->writes = atomic_load(&stack_provider_writes) - writes0;
    free(blocked);
    run_free(&r);
    return rc;
}

enum err_code stack_preview(const struct stack_opts *o, const struct stack_prog *prog,
                            struct stack_result *res, struct err *e)
{
    return apply(o, prog, res, true, e);
}

enum err_code stack_up(const struct stack_opts *o, const struct stack_prog *prog,
                       struct stack_result *res, struct err *e)
{
    return apply(o, prog, res, false, e);
}

enum err_code stack_destroy(const struct stack_opts *o, struct stack_result *res, struct err *e)
{
    struct run r;
    enum err_code rc;
    long writes0 = atomic_load(&stack_provider_writes);

    rc = run_init(&r, o, NULL, res, false, e);
    if (rc == ERR_OK)
        rc = finish_replacements(&r, e);
    if (rc == ERR_OK) {
        cJSON *names = cJSON_CreateArray();
        const cJSON *en;
        cJSON_ArrayForEach(en, cJSON_GetObjectItem(r.state, "resources"))
            cJSON_AddItemToArray(names, cJSON_CreateString(stack_state_str(en, "name")));
        rc = delete_names(&r, names, e);
    }
    if (rc == ERR_OK) {
        pthread_mutex_lock(&r.mu);
        cJSON_ReplaceItemInObject(r.state, "outputs", cJSON_CreateObject());
        save_locked(&r);
        pthread_mutex_unlock(&r.mu);
    }
    res->outputs = cJSON_CreateObject();
    res->writes = atomic_load(&stack_provider_writes) - writes0;
    run_free(&r);
    return rc;
}

enum err_code stack_refresh(const struct stack_opts *o, struct stack_result *res, struct err *e)
{
    struct run r;
    enum err_code rc;
    cJSON *copy;
    const cJSON *en;
    struct job **jobs;
    size_t n = 0;

    rc = run_init(&r, o, NULL, res, false, e);
    if (rc) {
        run_free(&r);
        return rc;
    }
    copy = cJSON_Duplicate(cJSON_GetObjectItem(r.state, "resources"), 1);
    jobs = xcalloc((size_t)cJSON_GetArraySize(copy) + 1, sizeof(*jobs));
    cJSON_ArrayForEach(en, copy)
    {
        struct job *j = xcalloc(1, sizeof(*j));
        j->r = &r;
        j->op = STACK_OP_REFRESH;
        j->old = cJSON_Duplicate(en, 1);
        j->name = stack_state_str(j->old, "name");
        j->type = stack_state_str(j->old, "type");
        j->prov = stack_provider_find(j->type ? j->type : "");
        snprintf(j->region, sizeof(j->region), "%s", stack_state_str(en, "region") ?: "");
        snprintf(j->spec, sizeof(j->spec), "%s", stack_state_str(en, "endpoint") ?: LOCAL);
        j->step = new_step(&r, j->name, j->type, j->region, STACK_OP_REFRESH);
        if (j->prov &&
            (rc = resolve_endpoint(&r, j->region, j->spec, j->endpoint, sizeof(j->endpoint), e))) {
            job_free(j);
            break;
        }
        jobs[n++] = j;
    }
    if (!rc) {
        res->failed = run_jobs(jobs, n);
        for (size_t i = 0; i < n && !rc; i++)
            if (jobs[i]->step->rc)
                rc = err_set(e, jobs[i]->step->rc, "%s: %s", jobs[i]->name, jobs[i]->step->msg);
    }
    for (size_t i = 0; i < n; i++)
        job_free(jobs[i]);
    free(jobs);
    cJSON_Delete(copy);
    res->outputs = cJSON_Duplicate(cJSON_GetObjectItem(r.state, "outputs"), 1);
    res->secrets = cJSON_Duplicate(cJSON_GetObjectItem(r.state, "secretOutputs"), 1);
    run_free(&r);
    return rc;
}

static void add_region(char ***out, size_t *n, const char *region)
{
    for (size_t i = 0; i < *n; i++)
        if (!strcmp((*out)[i], region))
            return;
    *out = xrealloc(*out, (*n + 1) * sizeof(**out));
    (*out)[(*n)++] = xstrdup(region);
}

enum err_code stack_local_regions(const struct stack_opts *o, const struct stack_prog *prog,
                                  char ***out, size_t *n, struct err *e)
{
    struct run r;
    struct stack_result res;
    enum err_code rc;
    const cJSON *en;

    *out = NULL;
    *n = 0;
    rc = run_init(&r, o, prog, &res, true, e);
    for (size_t i = 0; prog && rc == ERR_OK && i < prog->nres; i++) {
        const struct stack_res *sr = &prog->res[i];
        if (sr->is_provider) {
            struct stack_eval ev = eval_ctx(&r);
            cJSON *in = NULL;
            char region[64], spec[512];
            if (sr->props && (rc = stack_expr_eval(&ev, sr->props, &in, e)))
                break;
            if (!in)
                in = cJSON_CreateObject();
            if (!cJSON_GetObjectItem(in, "region"))
                cJSON_AddStringToObject(in, "region", r.default_region);
            cJSON_AddItemToObject(r.values, sr->name, in);
            target_of(&r, (int)i, region, sizeof(region), spec, sizeof(spec), "dynamodb");
            if (!strcmp(spec, LOCAL))
                add_region(out, n, region);
        } else if (r.g->provider[i] < 0) {
            add_region(out, n, r.default_region);
        }
    }
    cJSON_ArrayForEach(en, cJSON_GetObjectItem(r.state, "resources"))
    {
        const char *ep = stack_state_str(en, "endpoint"), *reg = stack_state_str(en, "region");
        if (reg && (!ep || !strcmp(ep, LOCAL)) &&
            stack_provider_find(stack_state_str(en, "type") ?: ""))
            add_region(out, n, reg);
    }
    run_free(&r);
    stack_result_free(&res);
    return rc;
}
