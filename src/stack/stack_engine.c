/* stack_engine.c - plan and apply a stack: waves of parallel provider calls, state saved
 * after every operation. Names and config, targets, planning one resource, deletes in
 * reverse dependency order and the commands are here; the operation on one resource,
 * run as a job on a worker thread, is in stack_jobs.c; what they share is
 * stack_engine_int.h. */
#include "stack_engine.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "stack_expr.h"
#include "stack_graph.h"
#include "stack_invoke.h"
#include "clock.h"
#include "mem.h"
#include "stack_engine_int.h"
#include "stack_provider.h"
#include "stack_state.h"

const char *stack_op_name(enum stack_op op)
{
    static const char *const names[STACK_OP_N] = {"same",   "create",  "update", "replace",
                                                  "delete", "refresh", "import"};
    return names[op];
}

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
static const cJSON *invoke_caller(void *ud, const cJSON *provider);
static enum err_code invoke_data(void *ud, const char *token, const cJSON *args,
                                 const cJSON *provider, cJSON **out, struct err *e);

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
                            .caller = invoke_caller,
                            .data = invoke_data,
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
    if ((s = json_str(r->o->config, name)))
        return s;
    snprintf(full, sizeof(full), "%s:%s", proj, name);
    return json_str(r->o->config, full);
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
        const char *reg = json_str(r->config, "aws:region");
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
    r->callers = cJSON_CreateObject();
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
    cJSON_Delete(r->callers);
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

void stack_eng_save_locked(struct run *r)
{
    struct err e = {0};
    if (r->preview)
        return;
    if (stack_state_save(r->o->state_path, r->state, &e) && r->o->progress)
        fprintf(r->o->progress, "warning: could not save the state: %s\n", e.msg);
}

/* ---- targets ---- */

/* The endpoint a provider's value @pv names for @service ("local" when none). */
static void spec_of(const cJSON *pv, const char *service, char *spec, size_t scap)
{
    const cJSON *eps, *ep, *u;

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

/* Where a resource goes: its provider's region and endpoint ("local" when none). */
static void target_of(struct run *r, int prov_idx, char *region, size_t rcap, char *spec,
                      size_t scap, const char *service)
{
    const cJSON *pv = prov_idx >= 0
                          ? cJSON_GetObjectItemCaseSensitive(r->values, r->p->res[prov_idx].name)
                          : NULL;
    const char *reg = pv ? json_str(pv, "region") : NULL;

    snprintf(region, rcap, "%s", reg ? reg : r->default_region);
    spec_of(pv, service, spec, scap);
}

static cJSON *identity(const char *account, const char *arn, const char *user_id)
{
    cJSON *o = cJSON_CreateObject();
    char root[64];

    snprintf(root, sizeof(root), "arn:aws:iam::%s:root", account);
    cJSON_AddStringToObject(o, "account", account);
    cJSON_AddStringToObject(o, "arn", arn ? arn : root);
    cJSON_AddStringToObject(o, "userId", user_id ? user_id : account);
    return o;
}

const cJSON *stack_eng_caller(struct run *r, const char *region, const char *spec)
{
    const char *account = r->o->account ? r->o->account : "000000000000";
    struct stack_target t = {.region = region, .account = account, .creds = &r->o->creds};
    char url[512], *xml = NULL, *acct, *arn, *uid;
    const cJSON *known;
    cJSON *id;

    if (!spec || !strcmp(spec, LOCAL))
        spec = LOCAL;
    if ((known = cJSON_GetObjectItemCaseSensitive(r->callers, spec)))
        return known;
    if (strcmp(spec, LOCAL) != 0 &&
        stack_eng_endpoint(r, region, spec, url, sizeof(url), NULL) == ERR_OK) {
        t.endpoint = url;
        (void)stack_prov_query(&t, "sts", "2011-06-15", "GetCallerIdentity", NULL, &xml, NULL, 0,
                               NULL);
    }
    acct = xml ? stack_prov_xml_text(xml, "Account") : NULL;
    arn = xml ? stack_prov_xml_text(xml, "Arn") : NULL;
    uid = xml ? stack_prov_xml_text(xml, "UserId") : NULL;
    id = acct && strlen(acct) == 12 ? identity(acct, arn, uid) : identity(account, NULL, NULL);
    free(acct);
    free(arn);
    free(uid);
    free(xml);
    cJSON_AddItemToObject(r->callers, spec, id);
    return id;
}

/* The endpoint the stack uses for @region ("local" when none): one a provider of the program
 * names for that region, else one the state records for the region's resources (a destroy
 * evaluates no provider). */
static void spec_for_region(struct run *r, const char *region, const char *service, char *spec,
                            size_t cap)
{
    snprintf(spec, cap, "%s", LOCAL);
    for (size_t i = 0; r->p && i < r->p->nres; i++) {
        const cJSON *pv = cJSON_GetObjectItemCaseSensitive(r->values, r->p->res[i].name);
        const char *reg = pv && r->p->res[i].is_provider ? json_str(pv, "region") : NULL;
        if (reg && !strcmp(reg, region)) {
            spec_of(pv, service, spec, cap);
            if (strcmp(spec, LOCAL) != 0)
                return;
        }
    }
    const cJSON *en;
    cJSON_ArrayForEach(en, cJSON_GetObjectItem(r->state, "resources"))
    {
        const char *reg = json_str(en, "region"), *ep = json_str(en, "endpoint");
        if (reg && ep && !strcmp(reg, region) && strcmp(ep, LOCAL) != 0) {
            snprintf(spec, cap, "%s", ep);
            return;
        }
    }
}

enum err_code stack_eng_endpoint_of(void *ud, const char *region, char *url, size_t cap,
                                    struct err *e)
{
    struct run *r = ud;
    char spec[512];
    enum err_code rc;

    pthread_mutex_lock(&r->mu);
    spec_for_region(r, region, "dynamodb", spec, sizeof(spec));
    rc = stack_eng_endpoint(r, region, spec, url, cap, e);
    pthread_mutex_unlock(&r->mu);
    return rc;
}

/* fn::invoke aws:getCallerIdentity: who the keys are in the region of the invoke's provider
 * (its endpoint when it names one), else in the local regions. */
static const cJSON *invoke_caller(void *ud, const cJSON *provider)
{
    struct run *r = ud;
    const char *reg = provider ? json_str(provider, "region") : NULL;
    char spec[512];

    spec_of(provider, "sts", spec, sizeof(spec));
    return stack_eng_caller(r, reg ? reg : r->default_region, spec);
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

enum err_code stack_eng_endpoint(struct run *r, const char *region, const char *spec, char *url,
                                 size_t cap, struct err *e)
{
    const char *known;
    enum err_code rc;

    if (strcmp(spec, LOCAL) != 0) {
        snprintf(url, cap, "%s", spec);
        while (strlen(url) > 0 && url[strlen(url) - 1] == '/')
            url[strlen(url) - 1] = 0;
        return ERR_OK;
    }
    if ((known = json_str(r->urls, region))) {
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

/* fn::invoke of a data source (aws:dynamodb:getTable...): the read of the resource it
 * names, as a `get:` reads one, in the region of the invoke's provider (the endpoint it
 * names, else the local region, started when needed). */
static enum err_code invoke_data(void *ud, const char *token, const cJSON *args,
                                 const cJSON *provider, cJSON **out, struct err *e)
{
    struct run *r = ud;
    const char *type, *id_arg, *id, *reg = provider ? json_str(provider, "region") : NULL;
    const struct stack_provider *prov;
    char spec[512], url[512];
    struct stack_target t;
    bool gone = false;
    enum err_code rc;

    *out = NULL;
    if (!stack_invoke_data(token, &type, &id_arg) || !(prov = stack_provider_find(type)))
        return err_set(e, ERR_INTERNAL, "no read answers %s", token);
    id = json_str(args, id_arg);
    if (!id || !*id)
        return err_set(e, ERR_INVALID, "the argument '%s' is required", id_arg);
    if (!reg)
        reg = r->default_region;
    spec_of(provider, service_of(type), spec, sizeof(spec));
    if ((rc = stack_eng_endpoint(r, reg, spec, url, sizeof(url), e)))
        return rc;
    t = (struct stack_target){.region = reg,
                              .endpoint = url,
                              .account = json_str(stack_eng_caller(r, reg, spec), "account"),
                              .creds = &r->o->creds,
                              .workdir = r->o->workdir,
                              .importing = true,
                              .endpoint_of = stack_eng_endpoint_of,
                              .ud = r,
                              .started_ms = clock_mono_us() / 1000};
    rc = prov->read(&t, id, args, out, &gone, e);
    if (rc == ERR_OK && (gone || !*out)) {
        cJSON_Delete(*out);
        *out = NULL;
        return err_set(e, ERR_NOTFOUND, "no %s named '%s' in %s", type, id, reg);
    }
    if (rc == ERR_OK && !cJSON_GetObjectItemCaseSensitive(*out, id_arg))
        cJSON_AddStringToObject(*out, id_arg, id);
    return rc;
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
    if (old && cJSON_IsTrue(cJSON_GetObjectItem(old, "autoName")) && json_str(oldin, np)) {
        cJSON_AddStringToObject(j->inputs, np, json_str(oldin, np));
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
bool stack_eng_names_prop(const struct stack_node *list, const char *prop)
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
        if (stack_eng_names_prop(res->ignore_changes, c->string) &&
            !cJSON_GetObjectItemCaseSensitive(old_in, c->string))
            cJSON_DeleteItemFromObjectCaseSensitive(in, c->string);
    }
    cJSON_ArrayForEach(o, old_in)
    {
        if (!stack_eng_names_prop(res->ignore_changes, o->string))
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
        if (res && stack_eng_names_prop(res->replace_on_changes, c->valuestring))
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
        v = stack_eng_merged(cJSON_GetObjectItem(j->old, "outputs"), j->inputs);
    } else if (j->prov && j->prov->predict && !stack_value_is_unknown(j->inputs)) {
        struct stack_target t = stack_eng_target(j, -1);
        cJSON *p = j->prov->predict(&t, j->inputs);
        v = stack_eng_merged(j->inputs, p);
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

/* check_inputs - the provider's own refusal of inputs @in (check), at the
 * property it names, else at the resource */
static enum err_code check_inputs(const struct stack_prog *p, const struct stack_res *res,
                                  const struct stack_provider *prov, const cJSON *in, struct err *e)
{
    const char *prop = NULL, *msg = prov->check(in, &prop);
    const struct stack_node *at = res->node;

    if (!msg)
        return ERR_OK;
    for (size_t k = 0; prop && res->props && k < res->props->n; k++)
        if (!strcmp(res->props->keys[k]->str, prop))
            at = res->props->keys[k];
    return stack_prog_errat(p, at, e, "%s: %s", prov->type, msg);
}

/* eval_variable - a stack_ref_fn: evaluate the variable @root names (kept in r->vars);
 * an error shows again, at its position, when the property using it is evaluated */
static void eval_variable(void *ud, const char *root, const struct stack_node *at)
{
    struct run *r = ud;
    struct err ignored;
    (void)at;
    memset(&ignored, 0, sizeof(ignored));
    for (size_t i = 0; i < r->p->nvariables; i++)
        if (!strcmp(r->p->variables[i].name, root)) {
            (void)lookup(r, root, &ignored);
            return;
        }
}

/* Whether the provider v7 gives resources of @prov's type a `region` of their own: those of
 * a regional AWS service (not IAM, which is global, nor random:). */
static bool regional(const struct stack_provider *prov)
{
    return prov && !strncmp(prov->type, "aws:", 4) && strncmp(prov->type, "aws:iam:", 8) != 0;
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
        if (!j->prov && stack_provider_refused(res->type)) {
            rc = stack_prog_errat(r->p, stack_node_get(res->node, "type"), e,
                                  "resource type '%s' is not supported: %s", res->type,
                                  stack_provider_refused(res->type));
            goto fail;
        }
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
            if (!ok && !strcmp(pn, "region") && regional(j->prov))
                continue;
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
    } else if (res->props) {
        /* the variables it uses first, as Pulumi orders a program by its references: an
         * invoke that writes a file (archive:getFile) runs before a property beside it
         * reads the file (fn::fileArchive of the zip) */
        rc = stack_expr_refs(r->p, res->props, eval_variable, r, e);
        if (rc == ERR_OK)
            rc = stack_expr_eval(&ev, res->props, &j->inputs, e);
    } else
        j->inputs = cJSON_CreateObject(), rc = ERR_OK;
    if (rc)
        goto fail;
    stack_provider_coerce(j->inputs, j->prov);
    if (!res->is_provider && !res->get && j->prov->check &&
        (rc = check_inputs(r->p, res, j->prov, j->inputs, e)))
        goto fail;
    if (res->is_provider) {
        if (!cJSON_GetObjectItem(j->inputs, "region"))
            cJSON_AddStringToObject(j->inputs, "region", r->default_region);
        snprintf(j->region, sizeof(j->region), "%s", json_str(j->inputs, "region"));
        snprintf(j->spec, sizeof(j->spec), "%s", LOCAL);
    } else {
        const char *own = regional(j->prov) ? json_str(j->inputs, "region") : NULL;
        target_of(r, r->g->provider[idx], j->region, sizeof(j->region), j->spec, sizeof(j->spec),
                  service_of(res->type));
        /* as the provider v7 does: a resource's own region goes before its provider's */
        if (own && *own && strcmp(own, j->region) != 0) {
            snprintf(j->region, sizeof(j->region), "%s", own);
            spec_for_region(r, own, service_of(res->type), j->spec, sizeof(j->spec));
        }
    }
    snprintf(j->account, sizeof(j->account), "%s",
             json_str(stack_eng_caller(r, j->region, j->spec), "account"));
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
        const char *st = json_str(old, "status");
        const char *otype = json_str(old, "type");
        diff_inputs(cJSON_GetObjectItem(old, "inputs"), j->inputs, j->step->changed);
        if (st && !strcmp(st, "creating")) {
            j->op = STACK_OP_CREATE;
            j->adopt = true;
        } else if (!otype || strcmp(otype, res->type) ||
                   strcmp(json_str(old, "region") ? json_str(old, "region") : "", j->region)) {
            j->op = STACK_OP_REPLACE;
        } else if (st && !strcmp(st, "deleting")) {
            j->op = STACK_OP_REPLACE;
            j->dbr = true;
        } else if (cJSON_GetArraySize(j->step->changed) == 0) {
            const char *ep = json_str(old, "endpoint");
            j->op = STACK_OP_SAME;
            /* the same region reached at another address: only the state learns it */
            if (!r->preview && (!ep || strcmp(ep, j->spec))) {
                cJSON *en = stack_state_res(r->state, res->name);
                cJSON_ReplaceItemInObject(en, "endpoint", cJSON_CreateString(j->spec));
                pthread_mutex_lock(&r->mu);
                stack_eng_save_locked(r);
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
    stack_eng_job_free(j);
    return rc;
}

/* ---- deletes in reverse dependency order ---- */

static bool depended_on(const cJSON *state, const char *name, const cJSON *pending)
{
    const cJSON *en, *d;
    cJSON_ArrayForEach(en, cJSON_GetObjectItem(state, "resources"))
    {
        const char *n = json_str(en, "name");
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
            j->name = json_str(j->old, "name");
            j->type = json_str(j->old, "type");
            j->prov = stack_provider_find(j->type);
            j->protect = cJSON_IsTrue(cJSON_GetObjectItem(en, "protect"));
            j->retain = cJSON_IsTrue(cJSON_GetObjectItem(en, "retainOnDelete"));
            snprintf(j->region, sizeof(j->region), "%s", json_str(en, "region") ?: "");
            snprintf(j->spec, sizeof(j->spec), "%s", json_str(en, "endpoint") ?: LOCAL);
            j->step = new_step(r, j->name, j->type, j->region, STACK_OP_DELETE);
            if (!j->step) {
                stack_eng_job_free(j);
                continue;
            }
            if (j->prov && json_str(en, "id") &&
                (rc = stack_eng_endpoint(r, j->region, j->spec, j->endpoint, sizeof(j->endpoint),
                                         e))) {
                j->step->rc = rc;
                snprintf(j->step->msg, sizeof(j->step->msg), "%s", e->msg);
                stack_eng_job_free(j);
                r->res->failed++;
                break;
            }
            jobs[n++] = j;
        }
        if (rc || n == 0) {
            for (size_t i = 0; i < n; i++)
                stack_eng_job_free(jobs[i]);
            free(jobs);
            if (!rc && n == 0)
                rc = err_set(e, ERR_INTERNAL, "could not order the deletes");
            break;
        }
        failed = stack_eng_run_jobs(jobs, n);
        for (size_t i = 0; i < n; i++) {
            if (jobs[i]->step->rc && !rc)
                rc = err_set(e, jobs[i]->step->rc, "%s: %s", jobs[i]->name, jobs[i]->step->msg);
            for (int k = cJSON_GetArraySize(names) - 1; k >= 0; k--)
                if (!strcmp(cJSON_GetArrayItem(names, k)->valuestring, jobs[i]->name))
                    cJSON_DeleteItemFromArray(names, k);
            stack_eng_job_free(jobs[i]);
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
        rc = stack_eng_endpoint(r, json_str(old, "region"), json_str(old, "endpoint"), url,
                                sizeof(url), e);
        if (rc == ERR_OK)
            rc = stack_eng_delete_entry(r, old, url, e);
        if (rc)
            return rc;
        cJSON_DeleteItemFromObject(en, "replacing");
        pthread_mutex_lock(&r->mu);
        stack_eng_save_locked(r);
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
        stack_eng_save_locked(r);
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
                stack_eng_job_free(j);
                continue;
            }
            if (j->prov && stack_eng_endpoint(&r, j->region, j->spec, j->endpoint,
                                              sizeof(j->endpoint), &jerr)) {
                j->step->rc = jerr.code;
                snprintf(j->step->msg, sizeof(j->step->msg), "%s", jerr.msg);
                if (!failed_rc) {
                    failed_rc = jerr.code;
                    first_err = jerr;
                }
                res->failed++;
                blocked[i] = true;
                stack_eng_job_free(j);
                continue;
            }
            idx[n] = i;
            jobs[n++] = j;
        }
        if (!rc && n) {
            res->failed += stack_eng_run_jobs(jobs, n);
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
            stack_eng_job_free(jobs[q]);
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
            const char *n = json_str(en, "name");
            if (n && !stack_prog_find(p, n))
                cJSON_AddItemToArray(gone, cJSON_CreateString(n));
        }
        if (preview) {
            const cJSON *g;
            cJSON_ArrayForEach(g, gone)
            {
                const cJSON *en2 = stack_state_res(r.state, g->valuestring);
                new_step(&r, g->valuestring, json_str(en2, "type") ?: "?", json_str(en2, "region"),
                         STACK_OP_DELETE);
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
            cJSON_AddItemToArray(names, cJSON_CreateString(json_str(en, "name")));
        rc = delete_names(&r, names, e);
    }
    if (rc == ERR_OK) {
        pthread_mutex_lock(&r.mu);
        cJSON_ReplaceItemInObject(r.state, "outputs", cJSON_CreateObject());
        stack_eng_save_locked(&r);
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
        j->name = json_str(j->old, "name");
        j->type = json_str(j->old, "type");
        j->prov = stack_provider_find(j->type ? j->type : "");
        snprintf(j->region, sizeof(j->region), "%s", json_str(en, "region") ?: "");
        snprintf(j->spec, sizeof(j->spec), "%s", json_str(en, "endpoint") ?: LOCAL);
        j->step = new_step(&r, j->name, j->type, j->region, STACK_OP_REFRESH);
        if (j->prov && (rc = stack_eng_endpoint(&r, j->region, j->spec, j->endpoint,
                                                sizeof(j->endpoint), e))) {
            stack_eng_job_free(j);
            break;
        }
        jobs[n++] = j;
    }
    if (!rc) {
        res->failed = stack_eng_run_jobs(jobs, n);
        for (size_t i = 0; i < n && !rc; i++)
            if (jobs[i]->step->rc)
                rc = err_set(e, jobs[i]->step->rc, "%s: %s", jobs[i]->name, jobs[i]->step->msg);
    }
    for (size_t i = 0; i < n; i++)
        stack_eng_job_free(jobs[i]);
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

/* The regions resource @i names itself, when it goes to a local region: its own `region`
 * (v7) and a table's replicas[].regionName, as far as they are known before anything runs. */
static void add_named_regions(struct run *r, size_t i, char ***out, size_t *n)
{
    const struct stack_res *sr = &r->p->res[i];
    static const char *const props[] = {"region", "replicas"};
    char region[64], spec[512];

    target_of(r, r->g->provider[i], region, sizeof(region), spec, sizeof(spec), "dynamodb");
    if (strcmp(spec, LOCAL) != 0 || !sr->props)
        return;
    for (size_t k = 0; k < sizeof(props) / sizeof(props[0]); k++) {
        const struct stack_node *node = stack_node_get(sr->props, props[k]);
        struct stack_eval ev = eval_ctx(r);
        struct err ignored = {0};
        const cJSON *x;
        cJSON *v = NULL;
        if (!node || stack_expr_eval(&ev, node, &v, &ignored) != ERR_OK)
            continue; /* it depends on what is not there yet: asked for when used */
        if (cJSON_IsString(v) && !stack_value_is_unknown(v))
            add_region(out, n, v->valuestring);
        for (x = cJSON_IsArray(v) ? v->child : NULL; x; x = x->next) {
            const char *rn = json_str(x, "regionName");
            if (rn && strcmp(rn, STACK_UNKNOWN) != 0)
                add_region(out, n, rn);
        }
        cJSON_Delete(v);
    }
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
    for (size_t i = 0; prog && rc == ERR_OK && i < prog->nres; i++)
        if (!prog->res[i].is_provider)
            add_named_regions(&r, i, out, n);
    cJSON_ArrayForEach(en, cJSON_GetObjectItem(r.state, "resources"))
    {
        const char *ep = json_str(en, "endpoint"), *reg = json_str(en, "region");
        if (reg && (!ep || !strcmp(ep, LOCAL)) && stack_provider_find(json_str(en, "type") ?: ""))
            add_region(out, n, reg);
    }
    run_free(&r);
    stack_result_free(&res);
    return rc;
}
