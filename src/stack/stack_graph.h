/* stack_graph.h - the resources' dependency graph, in topological order and waves.
 *
 * A resource depends on every resource its properties or options.provider
 * refer to (directly or through variables) and on those named in
 * options.dependsOn. A resource without options.provider depends on no
 * provider (it uses the default one). Wave 0 holds resources with no
 * dependencies; wave k those whose deepest dependency is in wave k-1, so the
 * resources of one wave may run in parallel. */
#ifndef TANDEM_STACK_GRAPH_H
#define TANDEM_STACK_GRAPH_H

#include <stddef.h>

#include "err.h"
#include "stack_prog.h"

struct stack_graph {
    size_t n;      /* = prog->nres; indexes are those of prog->res */
    size_t **deps; /* deps[i]: indexes resource i depends on (owned) */
    size_t *ndeps;
    size_t *order; /* a topological order: dependencies first */
    int *wave;     /* wave of each resource */
    int nwaves;
    int *provider; /* index of the resource's explicit provider, or -1 */
};

/*
 * stack_graph_build - @out owned, stack_graph_free().
 * Errors (ERR_INVALID, with file:line:col): dependsOn or provider naming
 * something that is not a resource, a provider that is not a
 * pulumi:providers resource, a dependency cycle (the message names it).
 */
enum err_code stack_graph_build(const struct stack_prog *p, struct stack_graph **out,
                                struct err *e);

void stack_graph_free(struct stack_graph *g); /* NULL ok */

#endif
