/* stack_prog.c - check the shape of a Pulumi YAML program and index its sections. */
#include "stack_prog.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "mem.h"

enum err_code stack_prog_errat(const struct stack_prog *p, const struct stack_node *at,
                               struct err *e, const char *fmt, ...)
{
    char msg[sizeof(e->msg)];
    size_t flen = strlen(p->file);
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* A message that already names its place in the program (a variable's error met where
     * the variable is used) keeps that place, the one to mend, and only it. */
    if (!strncmp(msg, p->file, flen) && msg[flen] == ':' && isdigit((unsigned char)msg[flen + 1]))
        return err_set(e, ERR_INVALID, "%s", msg);
    return err_set(e, ERR_INVALID, "%s:%d:%d: %s", p->file, at ? at->line : 1, at ? at->col : 1,
                   msg);
}

static bool is_true(const struct stack_node *n)
{
    return n && n->kind == STACK_NODE_SCALAR && strcmp(n->str, "true") == 0;
}

static enum err_code want(const struct stack_prog *p, const struct stack_node *n,
                          enum stack_node_kind k, const char *what, struct err *e)
{
    if (n->kind != k)
        return stack_prog_errat(p, n, e, "%s must be %s, not %s", what, stack_node_kind_name(k),
                                stack_node_kind_name(n->kind));
    return ERR_OK;
}

/* A Go duration as Pulumi takes it ("30s", "5m", "1h30m", "1.5h", "500ms") in ms; -1 when
 * it is not one. */
static long duration_ms(const char *s)
{
    static const struct {
        const char *unit;
        double ms;
    } units[] = {{"ns", 1e-6}, {"us", 1e-3}, {"\xc2\xb5s", 1e-3}, {"ms", 1},
                 {"s", 1e3},   {"m", 6e4},   {"h", 3.6e6}};
    double total = 0;

    if (!*s)
        return -1;
    while (*s) {
        char *end;
        double v;
        size_t best = 0, k = sizeof(units) / sizeof(units[0]);
        v = strtod(s, &end);
        if (end == s || strspn(s, "0123456789.") != (size_t)(end - s)) /* no signs, hex... */
            return -1;
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
            size_t n = strlen(units[i].unit);
            if (!strncmp(end, units[i].unit, n) && n > best) {
                best = n;
                k = i;
            }
        }
        if (k == sizeof(units) / sizeof(units[0]))
            return -1;
        total += v * units[k].ms;
        s = end + best;
    }
    return total > 1e12 ? -1 : (long)(total + 0.5);
}

static enum err_code parse_timeouts(const struct stack_prog *p, const struct stack_node *n,
                                    struct stack_res *r, struct err *e)
{
    static const char *const ops[STACK_TIMEOUT_N] = {"create", "update", "delete"};
    enum err_code rc = want(p, n, STACK_NODE_MAP, "customTimeouts", e);
    if (rc)
        return rc;
    for (size_t i = 0; i < n->n; i++) {
        const struct stack_node *v = n->items[i];
        int op = -1;
        for (int k = 0; k < STACK_TIMEOUT_N; k++)
            if (!strcmp(n->keys[i]->str, ops[k]))
                op = k;
        if (op < 0)
            return stack_prog_errat(p, n->keys[i], e,
                                    "unknown customTimeouts key '%s' (create, update or delete)",
                                    n->keys[i]->str);
        if (v->kind != STACK_NODE_SCALAR || (r->timeout_ms[op] = duration_ms(v->str)) < 0)
            return stack_prog_errat(
                p, v, e, "customTimeouts.%s must be a duration such as 30s, 5m or 1h", ops[op]);
    }
    return ERR_OK;
}

static enum err_code parse_config(struct stack_prog *p, const struct stack_node *c, struct err *e)
{
    enum err_code rc = want(p, c, STACK_NODE_MAP, "config", e);
    if (rc)
        return rc;
    p->config = xcalloc(c->n + 1, sizeof(*p->config));
    for (size_t i = 0; i < c->n; i++) {
        struct stack_config_decl *d = &p->config[p->nconfig++];
        const struct stack_node *v = c->items[i];
        d->name = c->keys[i]->str;
        d->at = c->keys[i];
        if (v->kind == STACK_NODE_MAP) {
            const struct stack_node *t = stack_node_get(v, "type");
            static const char *const types[] = {"string",
                                                "integer",
                                                "boolean",
                                                "number",
                                                "List<String>",
                                                "List<Integer>",
                                                "List<Number>",
                                                "List<Boolean>",
                                                "array",
                                                "object",
                                                NULL};
            for (size_t j = 0; j < v->n; j++)
                if (strcmp(v->keys[j]->str, "type") && strcmp(v->keys[j]->str, "default") &&
                    strcmp(v->keys[j]->str, "secret") && strcmp(v->keys[j]->str, "description") &&
                    strcmp(v->keys[j]->str, "value"))
                    return stack_prog_errat(p, v->keys[j], e, "unknown config field '%s'",
                                            v->keys[j]->str);
            if (t) {
                bool ok = false;
                if (t->kind == STACK_NODE_SCALAR)
                    for (size_t j = 0; types[j]; j++)
                        ok = ok || strcasecmp(t->str, types[j]) == 0;
                if (!ok)
                    return stack_prog_errat(p, t, e,
                                            "config type must be string, integer, boolean, "
                                            "number or List<String>");
                d->type = t->str;
            }
            d->def = stack_node_get(v, "default");
            if (!d->def)
                d->def = stack_node_get(v, "value");
        } else {
            d->def = v; /* shorthand: `name: value` */
        }
    }
    return ERR_OK;
}

static enum err_code parse_named(struct stack_prog *p, const struct stack_node *m, const char *what,
                                 struct stack_named **out, size_t *n, struct err *e)
{
    enum err_code rc = want(p, m, STACK_NODE_MAP, what, e);
    if (rc)
        return rc;
    *out = xcalloc(m->n + 1, sizeof(**out));
    for (size_t i = 0; i < m->n; i++) {
        (*out)[i].name = m->keys[i]->str;
        (*out)[i].node = m->items[i];
    }
    *n = m->n;
    return ERR_OK;
}

static enum err_code parse_resource(struct stack_prog *p, const struct stack_node *key,
                                    const struct stack_node *v, struct stack_res *r, struct err *e)
{
    const struct stack_node *t, *o;
    enum err_code rc;
    const char *nm = key->str;

    /* a '.' is allowed (Pulumi's own getting-started names an object "index.html");
     * such a resource cannot be referenced by ${...}, as in Pulumi */
    if (!*nm || strchr(nm, '$') || strchr(nm, '['))
        return stack_prog_errat(p, key, e, "resource name '%s' may not contain '$' or '['", nm);
    rc = want(p, v, STACK_NODE_MAP, "a resource", e);
    if (rc)
        return rc;
    for (size_t i = 0; i < v->n; i++) {
        const char *k = v->keys[i]->str;
        if (strcmp(k, "type") && strcmp(k, "properties") && strcmp(k, "options") &&
            strcmp(k, "get") && strcmp(k, "defaultProvider") && strcmp(k, "name"))
            return stack_prog_errat(p, v->keys[i], e,
                                    "unknown field '%s' in resource '%s' (expected type, name, "
                                    "properties, options)",
                                    k, nm);
    }
    /* name: the resource's logical name (auto-names start with it); ${...} uses the key */
    r->logical = nm;
    if ((t = stack_node_get(v, "name"))) {
        if (t->kind != STACK_NODE_SCALAR || !*t->str)
            return stack_prog_errat(p, t, e, "resource '%s': name must be a non-empty string", nm);
        r->logical = t->str;
    }
    t = stack_node_get(v, "type");
    if (!t)
        return stack_prog_errat(p, key, e, "resource '%s' has no type", nm);
    if (t->kind != STACK_NODE_SCALAR || !strchr(t->str, ':'))
        return stack_prog_errat(p, t, e,
                                "resource type must be a token such as "
                                "aws:dynamodb:Table");
    r->name = nm;
    r->type = t->str;
    r->node = v;
    r->is_provider = strcmp(t->str, "pulumi:providers:aws") == 0;
    r->props = stack_node_get(v, "properties");
    r->get = stack_node_get(v, "get");
    if (r->get) {
        if ((rc = want(p, r->get, STACK_NODE_MAP, "get", e)))
            return rc;
        if (!stack_node_get(r->get, "id"))
            return stack_prog_errat(p, r->get, e, "get needs the id of the resource to read");
        if (r->props)
            return stack_prog_errat(p, r->props, e,
                                    "resource '%s' has both get and properties (get reads an "
                                    "existing resource; it takes no properties)",
                                    nm);
    }
    if (r->props && (rc = want(p, r->props, STACK_NODE_MAP, "properties", e)))
        return rc;
    o = stack_node_get(v, "options");
    if (o) {
        if ((rc = want(p, o, STACK_NODE_MAP, "options", e)))
            return rc;
        /* option names match in any case: the registry's examples write `dependson:` */
        for (size_t i = 0; i < o->n; i++) {
            const char *k = o->keys[i]->str;
            const struct stack_node *ov = o->items[i];
            if (strcasecmp(k, "provider") == 0) {
                r->provider_expr = ov;
            } else if (strcasecmp(k, "dependsOn") == 0) {
                if ((rc = want(p, ov, STACK_NODE_SEQ, "dependsOn", e)))
                    return rc;
                r->depends_on = ov;
            } else if (strcasecmp(k, "protect") == 0) {
                r->protect = is_true(ov);
            } else if (strcasecmp(k, "deleteBeforeReplace") == 0) {
                r->delete_before_replace = is_true(ov);
            } else if (strcasecmp(k, "ignoreChanges") == 0) {
                if ((rc = want(p, ov, STACK_NODE_SEQ, "ignoreChanges", e)))
                    return rc;
                r->ignore_changes = ov;
            } else if (strcasecmp(k, "replaceOnChanges") == 0) {
                if ((rc = want(p, ov, STACK_NODE_SEQ, "replaceOnChanges", e)))
                    return rc;
                r->replace_on_changes = ov;
            } else if (strcasecmp(k, "retainOnDelete") == 0) {
                r->retain_on_delete = is_true(ov);
            } else if (strcasecmp(k, "import") == 0) {
                if ((rc = want(p, ov, STACK_NODE_SCALAR, "import", e)))
                    return rc;
                r->import_id = ov;
            } else if (strcasecmp(k, "additionalSecretOutputs") == 0) {
                if ((rc = want(p, ov, STACK_NODE_SEQ, "additionalSecretOutputs", e)))
                    return rc;
                r->secret_outputs = ov;
            } else if (strcasecmp(k, "customTimeouts") == 0) {
                if ((rc = parse_timeouts(p, ov, r, e)))
                    return rc;
            } else if (strcasecmp(k, "parent") && strcasecmp(k, "aliases") &&
                       strcasecmp(k, "version") && strcasecmp(k, "providers") &&
                       strcasecmp(k, "pluginDownloadURL") && strcasecmp(k, "deletedWith") &&
                       strcasecmp(k, "hideDiffs") && strcasecmp(k, "replaceWith")) {
                return stack_prog_errat(p, o->keys[i], e, "unknown resource option '%s'", k);
            }
        }
    }
    return ERR_OK;
}

enum err_code stack_prog_parse(const char *text, size_t len, const char *file,
                               struct stack_prog **out, struct err *e)
{
    struct stack_prog *p = xcalloc(1, sizeof(*p));
    const struct stack_node *r, *n;
    enum err_code rc;

    p->file = xstrdup(file);
    rc = stack_yaml_parse(text, len, file, &p->root, e);
    if (rc)
        goto fail;
    if ((rc = want(p, p->root, STACK_NODE_MAP, "a stack file", e)))
        goto fail;
    for (size_t i = 0; i < p->root->n; i++) {
        const char *k = p->root->keys[i]->str;
        static const char *const known[] = {
            "name",      "runtime",   "description", "config",   "configuration",
            "variables", "resources", "outputs",     "main",     "backend",
            "options",   "template",  "plugins",     "packages", "stackConfigDir",
            "author",    "website",   "license",     NULL};
        bool ok = false;
        for (size_t j = 0; known[j]; j++)
            ok = ok || strcmp(k, known[j]) == 0;
        if (!ok) {
            rc = stack_prog_errat(p, p->root->keys[i], e, "unknown top-level key '%s'", k);
            goto fail;
        }
    }
    n = stack_node_get(p->root, "name");
    if (n && n->kind == STACK_NODE_SCALAR)
        p->name = n->str;
    n = stack_node_get(p->root, "runtime");
    if (n) {
        const char *rt = n->kind == STACK_NODE_SCALAR ? n->str : NULL;
        if (n->kind == STACK_NODE_MAP) {
            const struct stack_node *rn = stack_node_get(n, "name");
            rt = rn && rn->kind == STACK_NODE_SCALAR ? rn->str : NULL;
        }
        if (!rt || strcmp(rt, "yaml") != 0) {
            rc = stack_prog_errat(p, n, e,
                                  "runtime must be yaml (Tandem runs Pulumi YAML "
                                  "programs)");
            goto fail;
        }
    }
    if ((n = stack_node_get(p->root, "config")) && (rc = parse_config(p, n, e)))
        goto fail;
    if ((n = stack_node_get(p->root, "configuration"))) {
        if (stack_node_get(p->root, "config")) {
            rc = stack_prog_errat(p, n, e,
                                  "config and configuration are the same section: keep one");
            goto fail;
        }
        if ((rc = parse_config(p, n, e)))
            goto fail;
    }
    if ((n = stack_node_get(p->root, "variables")) &&
        (rc = parse_named(p, n, "variables", &p->variables, &p->nvariables, e)))
        goto fail;
    if ((n = stack_node_get(p->root, "outputs")) &&
        (rc = parse_named(p, n, "outputs", &p->outputs, &p->noutputs, e)))
        goto fail;
    r = stack_node_get(p->root, "resources");
    if (r) {
        if ((rc = want(p, r, STACK_NODE_MAP, "resources", e)))
            goto fail;
        p->res = xcalloc(r->n + 1, sizeof(*p->res));
        for (size_t i = 0; i < r->n; i++) {
            rc = parse_resource(p, r->keys[i], r->items[i], &p->res[i], e);
            if (rc)
                goto fail;
            p->nres++;
        }
    }
    for (size_t i = 0; i < p->nvariables; i++)
        if (stack_prog_find(p, p->variables[i].name)) {
            rc = stack_prog_errat(p, p->variables[i].node, e,
                                  "variable '%s' has the name of a resource", p->variables[i].name);
            goto fail;
        }
    *out = p;
    return ERR_OK;
fail:
    stack_prog_free(p);
    *out = NULL;
    return rc;
}

enum err_code stack_prog_load(const char *path, struct stack_prog **out, struct err *e)
{
    FILE *f = fopen(path, "rb");
    char *text = NULL;
    size_t len = 0, cap = 0, got;
    enum err_code rc;
    const char *base = strrchr(path, '/');

    *out = NULL;
    if (!f)
        return err_set(e, ERR_IO, "%s: cannot open the stack file", path);
    do {
        if (len + 4096 > cap) {
            cap = (cap + 4096) * 2;
            text = xrealloc(text, cap);
        }
        got = fread(text + len, 1, cap - len, f);
        len += got;
    } while (got > 0);
    fclose(f);
    rc = stack_prog_parse(text ? text : "", len, base ? base + 1 : path, out, e);
    free(text);
    return rc;
}

static bool exists(const char *dir, const char *name, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

enum err_code stack_prog_load_project(const char *dir, struct stack_prog **out, struct err *e)
{
    static const char *const names[] = {"Tandem.yaml", "Tandem.yml", "Pulumi.yaml", "Pulumi.yml",
                                        NULL};
    struct stack_prog *proj = NULL, *prog = NULL;
    const struct stack_node *m;
    char path[4096], pdir[4096];
    enum err_code rc;
    size_t i;

    *out = NULL;
    for (i = 0; names[i] && !exists(dir, names[i], path, sizeof(path)); i++)
        ;
    if (!names[i])
        return err_set(e, ERR_NOTFOUND, "no Tandem.yaml or Pulumi.yaml in %s", dir);
    if ((rc = stack_prog_load(path, &proj, e)))
        return rc;
    snprintf(pdir, sizeof(pdir), "%s", dir);
    m = stack_node_get(proj->root, "main");
    if (m) {
        if (m->kind != STACK_NODE_SCALAR || !*m->str) {
            rc = stack_prog_errat(proj, m, e, "main must name a folder of the project");
            goto fail;
        }
        snprintf(pdir, sizeof(pdir), "%s/%s", dir, m->str);
        while (strlen(pdir) > 1 && pdir[strlen(pdir) - 1] == '/')
            pdir[strlen(pdir) - 1] = 0;
        if (access(pdir, F_OK) != 0) {
            rc = stack_prog_errat(proj, m, e, "main: no folder %s", m->str);
            goto fail;
        }
    }
    if (!exists(pdir, "Main.yaml", path, sizeof(path)) &&
        !exists(pdir, "Main.yml", path, sizeof(path))) {
        if (m && strcmp(pdir, dir) != 0) {
            rc = stack_prog_errat(proj, m, e, "main: %s has no Main.yaml", m->str);
            goto fail;
        }
        proj->root_dir = xstrdup(dir);
        proj->dir = xstrdup(dir);
        *out = proj;
        return ERR_OK;
    }
    if (stack_node_get(proj->root, "resources") || stack_node_get(proj->root, "variables") ||
        stack_node_get(proj->root, "outputs")) {
        rc = stack_prog_errat(proj, stack_node_get(proj->root, "resources"), e,
                              "the program is in Main.yaml: Pulumi.yaml may hold only the "
                              "project (name, runtime, description, config, main)");
        goto fail;
    }
    if ((rc = stack_prog_load(path, &prog, e)))
        goto fail;
    if (!prog->name)
        prog->name = proj->name;
    /* the project's config declarations, unless the program declares them itself */
    if (proj->nconfig) {
        prog->config =
            xrealloc(prog->config, (prog->nconfig + proj->nconfig + 1) * sizeof(*prog->config));
        for (i = 0; i < proj->nconfig; i++) {
            bool dup = false;
            for (size_t j = 0; j < prog->nconfig; j++)
                dup = dup || !strcmp(prog->config[j].name, proj->config[i].name);
            if (!dup)
                prog->config[prog->nconfig++] = proj->config[i];
        }
    }
    prog->root_dir = xstrdup(dir);
    prog->dir = xstrdup(pdir);
    prog->project = proj;
    *out = prog;
    return ERR_OK;
fail:
    stack_prog_free(proj);
    return rc;
}

static cJSON *node_json(const struct stack_node *n)
{
    cJSON *v;
    if (n->kind == STACK_NODE_SCALAR)
        return cJSON_CreateString(n->str);
    v = n->kind == STACK_NODE_MAP ? cJSON_CreateObject() : cJSON_CreateArray();
    for (size_t i = 0; i < n->n; i++) {
        if (n->kind == STACK_NODE_MAP)
            cJSON_AddItemToObject(v, n->keys[i]->str, node_json(n->items[i]));
        else
            cJSON_AddItemToArray(v, node_json(n->items[i]));
    }
    return v;
}

enum err_code stack_prog_stack_config(const char *dir, const char *stack, cJSON **out,
                                      struct err *e)
{
    static const char *const fmts[] = {"Pulumi.%s.yaml", "Pulumi.%s.yml", "Tandem.%s.yaml", NULL};
    struct stack_prog *p = NULL;
    const struct stack_node *c;
    char name[300], path[4096];
    enum err_code rc;
    size_t i;

    *out = cJSON_CreateObject();
    for (i = 0; fmts[i]; i++) {
        snprintf(name, sizeof(name), fmts[i], stack);
        if (exists(dir, name, path, sizeof(path)))
            break;
    }
    if (!fmts[i])
        return ERR_OK;
    p = xcalloc(1, sizeof(*p));
    p->file = xstrdup(name);
    {
        FILE *f = fopen(path, "rb");
        char *text = NULL;
        size_t len = 0, cap = 0, got;
        if (!f) {
            stack_prog_free(p);
            return err_set(e, ERR_IO, "%s: cannot open", path);
        }
        do {
            if (len + 4096 > cap) {
                cap = (cap + 4096) * 2;
                text = xrealloc(text, cap);
            }
            got = fread(text + len, 1, cap - len, f);
            len += got;
        } while (got > 0);
        fclose(f);
        rc = stack_yaml_parse(text ? text : "", len, name, &p->root, e);
        free(text);
    }
    if (rc)
        goto out;
    c = stack_node_get(p->root, "config");
    if (!c)
        goto out;
    if ((rc = want(p, c, STACK_NODE_MAP, "config", e)))
        goto out;
    for (i = 0; i < c->n; i++) {
        const struct stack_node *v = c->items[i];
        cJSON *j;
        if (v->kind == STACK_NODE_MAP && stack_node_get(v, "secure")) {
            rc = stack_prog_errat(p, v, e,
                                  "'%s' is a secure value encrypted by Pulumi's secrets "
                                  "provider, which Tandem cannot read: set it with tandem config "
                                  "set %s VALUE",
                                  c->keys[i]->str, c->keys[i]->str);
            goto out;
        }
        if (v->kind == STACK_NODE_SCALAR) {
            cJSON_AddStringToObject(*out, c->keys[i]->str, v->str);
            continue;
        }
        j = node_json(v);
        {
            char *s = cJSON_PrintUnformatted(j);
            cJSON_AddStringToObject(*out, c->keys[i]->str, s);
            free(s);
        }
        cJSON_Delete(j);
    }
out:
    stack_prog_free(p);
    if (rc) {
        cJSON_Delete(*out);
        *out = NULL;
    }
    return rc;
}

void stack_prog_free(struct stack_prog *p)
{
    if (!p)
        return;
    stack_prog_free(p->project);
    free(p->dir);
    free(p->root_dir);
    stack_node_free(p->root);
    free(p->config);
    free(p->variables);
    free(p->res);
    free(p->outputs);
    free(p->file);
    free(p);
}

const struct stack_res *stack_prog_find(const struct stack_prog *p, const char *name)
{
    for (size_t i = 0; i < p->nres; i++)
        if (strcmp(p->res[i].name, name) == 0)
            return &p->res[i];
    return NULL;
}
