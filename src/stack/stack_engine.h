/* stack_engine.h - preview, up, destroy and refresh of one stack.
 *
 * The engine reads the program (prog.h), orders its resources (graph.h),
 * evaluates each resource's properties once its dependencies are done
 * (expr.h), compares them with the state (state.h), and drives providers
 * (provider.h) for what changed: independent resources of one wave run in
 * parallel threads. After every finished operation the state file is saved,
 * so an interrupted or failed run leaves a state the next run completes.
 *
 * Replacement: when the physical name stays the same (or the resource says
 * deleteBeforeReplace) the old resource is deleted first; otherwise the new
 * one is created first and the old one deleted after (kept in the state
 * under "replacing" until then). Resources dropped from the program, and all
 * of them on destroy, are deleted in reverse dependency order. */
#ifndef TANDEM_STACK_ENGINE_H
#define TANDEM_STACK_ENGINE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>

#include "awsc.h"
#include "err.h"
#include "stack_prog.h"

/* stack_endpoint_fn - the URL of a local region @region (one the stack gives
 * no endpoint for); write it to @url. Called from the engine's thread only. */
typedef enum err_code stack_endpoint_fn(void *ud, const char *region, char *url, size_t cap,
                                        struct err *e);

struct stack_opts {
    const char *dir;        /* project folder: relative paths in the program start here */
    const char *stack;      /* stack name */
    const char *state_path; /* the state file */
    const char *workdir;    /* scratch folder (zip packages) */
    const cJSON *config;    /* {"key": "value"} set with `tandem config set`; borrowed */
    FILE *progress;         /* live progress lines; NULL = quiet */
    stack_endpoint_fn *endpoint;
    void *ud;
    struct awsc_creds creds; /* for every region */
    const char *account;
};

enum stack_op {
    STACK_OP_SAME,
    STACK_OP_CREATE,
    STACK_OP_UPDATE,
    STACK_OP_REPLACE,
    STACK_OP_DELETE,
    STACK_OP_REFRESH,
    STACK_OP_IMPORT, /* options.import: read by id and recorded, never created */
    STACK_OP_N
};

struct stack_step {
    char *name;
    char *type;
    char *region;
    enum stack_op op;
    cJSON *inputs;  /* desired inputs (owned); unknown values are STACK_UNKNOWN */
    cJSON *changed; /* array of the top-level properties that differ (owned) */
    double secs;
    enum err_code rc;
    char msg[1024]; /* the error: an import's differences can be long */
};

struct stack_result {
    struct stack_step *steps; /* owned, in the order they were decided */
    size_t nsteps;
    cJSON *outputs; /* stack outputs (owned) */
    cJSON *secrets; /* names of the outputs that are secret: an array (owned) */
    long writes;    /* write calls providers made */
    int counts[STACK_OP_N];
    int failed;
};

/* The four commands. @prog borrowed. Each returns ERR_OK when every step
 * succeeded; otherwise the first error, with every step's outcome in @res
 * (always initialized; free with stack_result_free). */
enum err_code stack_preview(const struct stack_opts *o, const struct stack_prog *prog,
                            struct stack_result *res, struct err *e);
enum err_code stack_up(const struct stack_opts *o, const struct stack_prog *prog,
                       struct stack_result *res, struct err *e);
enum err_code stack_destroy(const struct stack_opts *o, struct stack_result *res, struct err *e);
enum err_code stack_refresh(const struct stack_opts *o, struct stack_result *res, struct err *e);

void stack_result_free(struct stack_result *r);

/* stack_op_name - "same", "create", "update", "replace", "delete", "refresh". */
const char *stack_op_name(enum stack_op op);

/*
 * stack_local_regions - the regions the program and the state use with no
 * endpoint given (those `tandem up` runs locally). @out owned: an array of
 * owned strings, free each and the array; @state may be NULL.
 */
enum err_code stack_local_regions(const struct stack_opts *o, const struct stack_prog *prog,
                                  char ***out, size_t *n, struct err *e);

#endif
