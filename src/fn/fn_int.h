/* fn_int.h - what the files of src/fn/ share: the registry of functions
 * (registry.c), packages (pkg.c), instances (runtime.c). Not for other folders. */
#ifndef TANDEM_FN_INT_H
#define TANDEM_FN_INT_H

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "fn.h"

struct fn_rt;
struct fn_esm;
struct fn_async;
struct op;

struct jobs;

struct fn {
    struct store *store;
    struct creds *creds;
    const struct authz *authz;
    char region[32];
    char account[16];
    char *data_dir;
    char *fn_dir;        /* DATA/functions */
    char *endpoint;      /* AWS_ENDPOINT_URL for functions */
    char *public_url;    /* base of FunctionUrl */
    pthread_mutex_t mu;  /* guards docs and busy */
    cJSON *docs;         /* object: name -> configuration document (see registry.c) */
    cJSON *pending;      /* array: package folders unpacked for a change not yet written */
    unsigned busy;       /* API changes not yet answered (fn_close waits for them) */
    struct jobs *pkg;    /* fetch and unpack packages (api.c) */
    pthread_cond_t idle; /* busy reached 0 */
    fn_s3_get_fn *s3_get;
    void *s3_ud;
    struct fn_rt *rt;
    struct fn_esm *esm;     /* event source mappings (esm.c) */
    struct fn_async *async; /* queued Event invocations (async.c) */
};

/* ---- registry.c: one JSON document per function, as GetFunctionConfiguration
 * shows it, plus private members "_Url", "_Policy", "_Tags", "_Dir". ---- */

enum err_code fn_reg_load(struct fn *f, struct err *e);
/* fn_reg_get - a copy of NAME's document (owned, cJSON_Delete()), or NULL. */
cJSON *fn_reg_get(struct fn *f, const char *name);
/* fn_reg_reserved - NAME's reserved concurrency (PutFunctionConcurrency), -1
 * when it has none (or does not exist). */
int fn_reg_reserved(struct fn *f, const char *name);
/* fn_reg_by_url - a copy of the document whose URL id is @id, or NULL; the
 * URL is the function's own (@alias gets "") or an alias's (@alias gets its
 * name, at most @cap bytes). */
cJSON *fn_reg_by_url(struct fn *f, const char *id, char *alias, size_t cap);
/* fn_reg_names - sorted names (owned cJSON array). */
cJSON *fn_reg_names(struct fn *f);

typedef void fn_reg_done_fn(void *arg, enum err_code rc, const struct err *e);
/* A change of one function's document, run on the store's writer thread:
 * @doc is the document as stored now (owned; NULL when there is none); the
 * mutator may change it, replace it or delete it (free it and set NULL).
 * Anything but ERR_OK refuses the change (nothing is written). */
typedef enum err_code fn_reg_mutate_fn(void *arg, cJSON **doc, struct err *e);
/* fn_reg_update - read-modify-write NAME's document inside ONE store apply
 * (so concurrent changes never lose one another), durably; then update the
 * in-memory copy and call @done (writer thread) with the mutator's outcome.
 * @mutate_arg and @arg are borrowed until @done. */
void fn_reg_update(struct fn *f, const char *name, fn_reg_mutate_fn *mutate, void *mutate_arg,
                   fn_reg_done_fn *done, void *arg);

/* fn_scan_fn - one stored document: @rest is its key past the prefix
 * (borrowed for the call), @doc its parsed JSON (taken). */
typedef void fn_scan_fn(void *arg, const char *rest, cJSON *doc);
/* fn_store_scan - call @each for every META document whose key begins with
 * @prefix, in key order, in one read transaction (documents that do not
 * parse are skipped). */
enum err_code fn_store_scan(struct fn *f, const char *prefix, fn_scan_fn *each, void *arg,
                            struct err *e);

/* fn_store_rmw - inside a store apply: read META @key's JSON document, run
 * @mutate on it, write (or delete) what it leaves; @written gets that
 * document (owned; NULL: none) when all went well. */
enum err_code fn_store_rmw(struct store_txn *t, const char *key, fn_reg_mutate_fn *mutate,
                           void *arg, cJSON **written, struct err *e);

/* ---- pkg.c ---- */

/* fn_pkg_install - check and unpack the zip @zip/@len for NAME into
 * DATA/functions/NAME/HEXSHA/ (kept with HEXSHA.zip); fills @sha256_b64
 * (45 bytes) and @dir (owned, free()). ERR_INVALID for a bad zip, with
 * Lambda's message. */
enum err_code fn_pkg_install(struct fn *f, const char *name, const void *zip, size_t len,
                             char *sha256_b64, char **dir, struct err *e);

/* fnrt_rm_tree - remove @path and everything under it (NULL: nothing);
 * runtime_proc.c. */
void fnrt_rm_tree(const char *path);
/* fn_pkg_settled - the change that unpacked @dir (fn_pkg_install) is written
 * or refused: fn_pkg_gc may remove @dir once nothing refers to it. */
void fn_pkg_settled(struct fn *f, const char *dir);
/* fn_pkg_gc - remove NAME's packages that neither $LATEST nor a version
 * refers to, no running instance uses and no pending change unpacked. */
void fn_pkg_gc(struct fn *f, const char *name);
/* fn_pkg_purge - remove NAME's packages (DATA/functions/NAME/ but its log)
 * once the function is deleted; nothing when NAME exists again. */
void fn_pkg_purge(struct fn *f, const char *name);

/* ---- runtime.c ---- */

struct fn_result {
    int error;        /* 0 ok; 1 function error (X-Amz-Function-Error: Unhandled) */
    const char *body; /* the response payload */
    size_t len;
    const char *log; /* the last 4 KB of the invocation's log lines */
    size_t log_len;
    bool throttled; /* the function's reserved concurrency was all in use: it did not run */
};
/* Called once per invocation from a runtime thread; everything is borrowed for the call. */
typedef void fn_inv_done_fn(void *ud, const struct fn_result *res);

/* fn_rt_start - start the reaper; from @o: max_instances, idle_seconds, and
 * run_user / run_uid_base (who instances run as when the region is root). */
enum err_code fn_rt_start(struct fn *f, const struct fn_opts *o, struct err *e);
void fn_rt_stop(struct fn *f);
/* fn_rt_invoke - run @doc's function (borrowed for the call) on @payload (copied).
 * @done runs later from another thread. */
void fn_rt_invoke(struct fn *f, const cJSON *doc, const void *payload, size_t len,
                  fn_inv_done_fn *done, void *ud);
/* fn_rt_invoke_ctx - fn_rt_invoke with @client_ctx (copied; NULL: none): the
 * caller's client context as JSON text without CR/LF, which the instance's
 * /next answer carries as Lambda-Runtime-Client-Context. */
void fn_rt_invoke_ctx(struct fn *f, const cJSON *doc, const void *payload, size_t len,
                      const char *client_ctx, fn_inv_done_fn *done, void *ud);
/* fn_rt_invoke_as - fn_rt_invoke under the request id @request_id (an Event
 * invocation's, answered with its 202 and kept by its retries; NULL or not a
 * request id: a new one), which the function sees as its context's. */
void fn_rt_invoke_as(struct fn *f, const cJSON *doc, const void *payload, size_t len,
                     const char *request_id, fn_inv_done_fn *done, void *ud);
/* fn_rt_forget - kill the instances of NAME's @version (NULL: of every
 * version): a deleted function or version. */
void fn_rt_forget(struct fn *f, const char *name, const char *version);
/* FN_RUNTIMES - the Runtime values the region runs, as Lambda's enum
 * validation error lists them; fn_runtime_known tells whether @runtime is one. */
#define FN_RUNTIMES                                                                                \
    "[nodejs18.x, nodejs20.x, nodejs22.x, provided, provided.al2, provided.al2023, "               \
    "python3.10, python3.11, python3.12, python3.13, python3.14, python3.9]"
bool fn_runtime_known(const char *runtime);
/* fn_rt_runtime_ready - whether this machine has the interpreter @runtime
 * (a known one) is run by: node for nodejs*, python3 for python*. */
bool fn_rt_runtime_ready(const struct fn *f, const char *runtime);
/* fn_rt_dir_in_use - whether an instance (running, or not yet reaped) runs
 * from the package folder @dir. */
bool fn_rt_dir_in_use(struct fn *f, const char *dir);
/* fn_log_path - DATA/functions/NAME/log (owned, free()). */
char *fn_log_path(struct fn *f, const char *name);

#endif
