/* stack_engine_int.h - what the two files of the stack engine share:
 * stack_engine.c (a run: names, config, targets, planning, deletes in reverse
 * dependency order, the commands) and stack_jobs.c (one resource's operation
 * as a job on a worker thread, and its progress line). Not for other files.
 *
 * r->mu guards the state and the steps; jobs of one wave run in parallel. */
#ifndef TANDEM_STACK_ENGINE_INT_H
#define TANDEM_STACK_ENGINE_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "stack_engine.h"
#include "stack_graph.h"
#include "stack_prog.h"
#include "stack_provider.h"

#define LOCAL "local"

struct run {
    const struct stack_opts *o;
    const struct stack_prog *p;
    struct stack_graph *g;
    cJSON *state;
    cJSON *values;  /* resource name -> inputs merged with outputs */
    cJSON *config;  /* config name -> typed value */
    cJSON *vars;    /* variable name -> value (cache) */
    cJSON *pulumi;  /* {stack, project, organization} */
    cJSON *urls;    /* region -> local URL */
    cJSON *callers; /* endpoint URL -> {account, arn, userId} its region answered */
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
    char account[16];   /* the account of the caller at @spec ("" before planning) */
    bool adopt, autoname, dbr, protect, retain;
    const struct stack_res *res; /* NULL for deletes of resources no longer in the program */
    struct stack_step *step;
    cJSON *result; /* owned: the value after the operation */
};

/* ---- stack_engine.c ---- */

/* stack_eng_save_locked - save the state file (r->mu held); nothing in a preview. */
void stack_eng_save_locked(struct run *r);
/* stack_eng_endpoint - the URL of @region's endpoint @spec (a URL, or "local": asked of
 * the caller once per region) into @url. */
enum err_code stack_eng_endpoint(struct run *r, const char *region, const char *spec, char *url,
                                 size_t cap, struct err *e);
/* stack_eng_endpoint_of - stack_target.endpoint_of: @ud is the run; takes its lock. */
enum err_code stack_eng_endpoint_of(void *ud, const char *region, char *url, size_t cap,
                                    struct err *e);
/* stack_eng_caller - who the stack's keys are at @spec ("local" or a region's URL): a
 * borrowed {account, arn, userId}. A local region's is its root user of the stack's account
 * (no call); a region named by URL is asked once (STS GetCallerIdentity), and when it cannot
 * answer the local answer stands in. Engine thread only. */
const cJSON *stack_eng_caller(struct run *r, const char *region, const char *spec);
/* stack_eng_names_prop - whether a path of @list (ignoreChanges, replaceOnChanges) names
 * the top-level property @prop. */
bool stack_eng_names_prop(const struct stack_node *list, const char *prop);

/* ---- stack_jobs.c ---- */

/* stack_eng_merged - @in with @out's members over it (owned, cJSON_Delete()). */
cJSON *stack_eng_merged(const cJSON *in, const cJSON *out);
/* stack_eng_target - the target of @j's operation; @op (STACK_TIMEOUT_*, or -1) picks its
 * customTimeouts. Borrows from @j. */
struct stack_target stack_eng_target(const struct job *j, int op);
/* stack_eng_delete_entry - delete the resource of state entry @en at @endpoint (nothing
 * for providers and creates that never got an id). */
enum err_code stack_eng_delete_entry(struct run *r, const cJSON *en, const char *endpoint,
                                     struct err *e);
/* stack_eng_run_jobs - run @n jobs in parallel, each filling its step; returns the number
 * that failed. */
int stack_eng_run_jobs(struct job **jobs, size_t n);
/* stack_eng_job_free - free @j (NULL: nothing). */
void stack_eng_job_free(struct job *j);

#endif
