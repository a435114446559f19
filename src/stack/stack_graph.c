/* stack_graph.c - dependencies from references, topological order, waves. */
#include "stack_graph.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "stack_expr.h"
#include "mem.h"

struct collect {
    const struct stack_prog *p;
    struct stack_graph *g;
    size_t self;
    int vdepth;
    enum err_code rc;
    struct err *e;
};

static int res_index(const struct stack_prog *p, const char *name)
{
    for (size_t i = 0; i < p->nres; i++)
        if (strcmp(p->res[i].name, name) == 0)
            return (int)i;
    return -1;
}

static void add_dep(struct stack_graph *g, size_t from, size_t to)
{
    for (size_t i = 0; i < g->ndeps[from]; i++)
        if (g->deps[from][i] == to)
            return;
    g->deps[from] = xrealloc(g->deps[from], (g->ndeps[from] + 1) * sizeof(size_t));
    g->deps[from][g->ndeps[from]++] = to;
}

static void on_ref(void *ud, const char *root, const struct stack_node *at)
{
    struct collect *c = ud;
    int i = res_index(c->p, root);
    (void)at;
    if (c->rc)
        return;
    if (i >= 0) {
        add_dep(c->g, c->self, (size_t)i);
        return;
    }
    for (size_t v = 0; v < c->p->nvariables; v++)
        if (strcmp(c->p->variables[v].name, root) == 0) {
            if (c->vdepth > 32) {
                c->rc = stack_prog_errat(c->p, at, c->e,
                                         "variables refer to each other in a "
                                         "cycle through '%s'",
                                         root);
                return;
            }
            c->vdepth++;
            enum err_code rc = stack_expr_refs(c->p, c->p->variables[v].node, on_ref, c, c->e);
            if (rc && !c->rc)
                c->rc = rc;
            c->vdepth--;
            return;
        }
}

/* The resource a `${name}` provider option names. */
static enum err_code provider_ref(const struct stack_prog *p, const struct stack_node *n, int *out,
                                  struct err *e)
{
    const char *s = n->kind == STACK_NODE_SCALAR ? n->str : "";
    size_t len = strlen(s);
    char name[128];
    int i;

    if (len < 4 || strncmp(s, "${", 2) || s[len - 1] != '}' || len - 3 >= sizeof(name))
        return stack_prog_errat(p, n, e, "options.provider must be a reference like ${east}");
    memcpy(name, s + 2, len - 3);
    name[len - 3] = 0;
    i = res_index(p, name);
    if (i < 0)
        return stack_prog_errat(p, n, e, "provider '%s' is not a resource of this stack", name);
    if (!p->res[i].is_provider)
        return stack_prog_errat(p, n, e, "'%s' is a %s, not a provider (pulumi:providers:aws)",
                                name, p->res[i].type);
    *out = i;
    return ERR_OK;
}

void stack_graph_free(struct stack_graph *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->n; i++)
        free(g->deps[i]);
    free(g->deps);
    free(g->ndeps);
    free(g->order);
    free(g->wave);
    free(g->provider);
    free(g);
}

enum err_code stack_graph_build(const struct stack_prog *p, struct stack_graph **out, struct err *e)
{
    struct stack_graph *g = xcalloc(1, sizeof(*g));
    enum err_code rc = ERR_OK;
    int *mark = NULL; /* 0 new, 1 on the path, 2 done */
    size_t norder = 0;

    g->n = p->nres;
    g->deps = xcalloc(g->n + 1, sizeof(*g->deps));
    g->ndeps = xcalloc(g->n + 1, sizeof(*g->ndeps));
    g->order = xcalloc(g->n + 1, sizeof(*g->order));
    g->wave = xcalloc(g->n + 1, sizeof(*g->wave));
    g->provider = xcalloc(g->n + 1, sizeof(*g->provider));
    for (size_t i = 0; i < p->nres; i++) {
        const struct stack_res *r = &p->res[i];
        struct collect c = {.p = p, .g = g, .self = i, .e = e};
        g->provider[i] = -1;
        if (r->props && (rc = stack_expr_refs(p, r->props, on_ref, &c, e)))
            goto fail;
        if (c.rc) {
            rc = c.rc;
            goto fail;
        }
        if (r->provider_expr) {
            if ((rc = provider_ref(p, r->provider_expr, &g->provider[i], e)))
                goto fail;
            add_dep(g, i, (size_t)g->provider[i]);
        }
        if (r->depends_on)
            for (size_t j = 0; j < r->depends_on->n; j++) {
                const struct stack_node *d = r->depends_on->items[j];
                const char *s = d->kind == STACK_NODE_SCALAR ? d->str : "";
                char name[128];
                size_t len = strlen(s);
                int k;
                if (len > 3 && !strncmp(s, "${", 2) && s[len - 1] == '}' &&
                    len - 3 < sizeof(name)) {
                    memcpy(name, s + 2, len - 3);
                    name[len - 3] = 0;
                } else {
                    rc = stack_prog_errat(p, d, e,
                                          "dependsOn items must be references like "
                                          "${table}");
                    goto fail;
                }
                k = res_index(p, name);
                if (k < 0) {
                    rc = stack_prog_errat(p, d, e, "dependsOn: '%s' is not a resource", name);
                    goto fail;
                }
                add_dep(g, i, (size_t)k);
            }
    }
    /* Depth-first topological sort; a node met while on the path is a cycle. */
    mark = xcalloc(g->n + 1, sizeof(*mark));
    for (size_t s = 0; s < g->n; s++) {
        size_t stack[256], pos[256];
        int sp = 0;
        if (mark[s])
            continue;
        stack[0] = s;
        pos[0] = 0;
        mark[s] = 1;
        sp = 1;
        while (sp > 0) {
            size_t v = stack[sp - 1];
            if (pos[sp - 1] < g->ndeps[v]) {
                size_t w = g->deps[v][pos[sp - 1]++];
                if (mark[w] == 1) {
                    rc = stack_prog_errat(p, p->res[v].node, e,
                                          "dependency cycle: '%s' and '%s' depend on each other",
                                          p->res[v].name, p->res[w].name);
                    goto fail;
                }
                if (mark[w] == 0) {
                    if (sp == 256) {
                        rc = stack_prog_errat(p, p->res[w].node, e, "dependencies nest too deep");
                        goto fail;
                    }
                    mark[w] = 1;
                    stack[sp] = w;
                    pos[sp] = 0;
                    sp++;
                }
            } else {
                int wv = 0;
                for (size_t j = 0; j < g->ndeps[v]; j++)
                    if (g->wave[g->deps[v][j]] + 1 > wv)
                        wv = g->wave[g->deps[v][j]] + 1;
                g->wave[v] = wv;
                if (wv + 1 > g->nwaves)
                    g->nwaves = wv + 1;
                mark[v] = 2;
                g->order[norder++] = v;
                sp--;
            }
        }
    }
    free(mark);
    *out = g;
    return ERR_OK;
fail:
    free(mark);
    stack_graph_free(g);
    *out = NULL;
    return rc;
}
