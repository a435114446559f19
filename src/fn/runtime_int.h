/* runtime_int.h - what the files of the function runtime share: runtime.c
 * (pools, scaling, the reaper and the fn_rt_* contract of fn_int.h),
 * runtime_api.c (the Runtime API each instance talks to, and its log) and
 * runtime_proc.c (an instance's process: who it runs as, its files and
 * environment, starting and freeing it). Not for other files.
 *
 * rt->mu guards every pool, instance and queued invocation; each function
 * says whether it wants it held. */
#ifndef TANDEM_FN_RUNTIME_INT_H
#define TANDEM_FN_RUNTIME_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "fn_int.h"
#include "http.h"
#include "json.h" /* json_str reads a function's document */

#define TAIL_MAX 4096 /* the log tail an invocation reports */

struct inv {
    char id[40];
    char arn[256]; /* the ARN invoked (qualified by the alias or version asked for) */
    char *payload;
    size_t len;
    char *client_ctx;    /* Lambda-Runtime-Client-Context (JSON), NULL: none */
    int64_t deadline_ms; /* wall clock */
    int64_t start_us;
    double timeout_s;
    fn_inv_done_fn *done;
    void *ud;
    struct inv *next;
};

struct pool;

struct inst {
    struct fn_rt *rt;
    struct pool *pool;
    pid_t pid; /* 0 once reaped */
    int status;
    struct http_server *rapi;
    struct http_req *parked; /* a /next waiting for work */
    struct inv *cur;
    bool initialized, stale, killed;
    bool oom;     /* killed by the memory watchdog */
    bool ns;      /* in a PID namespace: pid is the shim (runtime_init.c) */
    long peak_kb; /* the group's peak resident memory seen by the watchdog */
    int64_t born_us, idle_since_us;
    int logfd; /* read end of the stdout/stderr pipe */
    pthread_t reader;
    bool reader_started;
    volatile bool reader_stop;
    pthread_mutex_t logmu; /* guards tail and the log file */
    char tail[TAIL_MAX];
    size_t tail_len;
    char *log_path;
    char *tmp;      /* the instance's private TMPDIR, removed with it */
    char dir[4096]; /* the package it runs from (fn_rt_dir_in_use) */
    uid_t uid;      /* who it runs as (when the region drops privileges) */
    struct inst *next;
};

struct pool {
    char *name;
    char *version; /* "$LATEST" or a version number: instances are per version */
    char *revision;
    cJSON *doc;
    struct inst *insts;
    struct inv *q_head, *q_tail;
    unsigned slot; /* uid = uid_base + slot with per-function uids */
    bool swept;    /* no process of its uid left since its last instance ended */
    struct pool *next;
};

/* the interpreted runtimes (nodejs*, python*): each is run by an interpreter
 * found on PATH at start and a bootstrap written to DATA/functions. */
enum fnrt_lang { FNRT_NODE, FNRT_PYTHON, FNRT_LANGS };

struct fnrt_interp {
    char *exe;  /* the interpreter, NULL when the machine has none */
    char *boot; /* DATA/functions/.node-bootstrap.js, .python-bootstrap.py */
};

struct fn_rt {
    pthread_mutex_t mu;
    struct pool *pools;
    struct worker *reaper;        /* watchdog and idle reaping, every 50 ms */
    struct fnrt_spawner *spawner; /* the thread every instance is forked from */
    unsigned max;
    unsigned idle_s;
    struct fnrt_interp interp[FNRT_LANGS];
    struct fn *f;
    unsigned ticks;
    bool drop;  /* root: instances run as uid/gid (or uid_base + slot) */
    bool pidns; /* each instance gets a PID namespace (runtime_init.c) */
    uid_t uid;
    gid_t gid;
    unsigned uid_base; /* > 0: one uid = gid per function */
    unsigned next_slot;
    char *tmp_root; /* DATA/functions/.tmp */
};

/* ---- runtime.c ---- */

/* fnrt_rand_hex - @nbytes (at most 32) random bytes as hex into @out (2 * @nbytes + 1). */
void fnrt_rand_hex(char *out, size_t nbytes);
/* fnrt_lang_of - the interpreted runtime @runtime belongs to, or -1 (provided*). */
int fnrt_lang_of(const char *runtime);
/* fnrt_doc_int - the number member @k of a function's document, or @dflt. */
int fnrt_doc_int(const cJSON *doc, const char *k, int dflt);

/* ---- runtime_api.c ---- */

/* fnrt_log_printf - append a line to @in's log and tail. */
void fnrt_log_printf(struct inst *in, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* fnrt_reader_main - the thread copying @arg's (a struct inst) output to its log. */
void *fnrt_reader_main(void *arg);
/* fnrt_finish - report @inv's outcome (called without the mutex) and free it;
 * @in may be NULL (never ran). */
void fnrt_finish(struct inst *in, struct inv *inv, int error, const char *body, size_t len);
/* fnrt_finish_error - fnrt_finish with an {errorType, errorMessage} body. */
void fnrt_finish_error(struct inst *in, struct inv *inv, const char *type, const char *msg);
/* fnrt_give - hand @inv to @in's parked /next (mutex held). */
void fnrt_give(struct inst *in, struct inv *inv, struct http_req *r);
/* fnrt_dequeue - take the first queued invocation of @p, or NULL (mutex held). */
struct inv *fnrt_dequeue(struct pool *p);
/* fnrt_rapi_answer - answer a Runtime API request with a JSON @body. */
void fnrt_rapi_answer(struct http_req *r, int status, const char *body);
/* fnrt_rapi_handle - the handler of an instance's Runtime API server (@ud: the struct inst). */
void fnrt_rapi_handle(struct http_req *r, void *ud);

/* ---- runtime_proc.c ---- */

/* fnrt_lock_down - at start, when instances run as another user: the modes of
 * the data directory that let that user reach only what it must. */
void fnrt_lock_down(struct fn_rt *rt);
/* fnrt_sweep_uid - kill every process of @uid (what a per-function uid left behind). */
void fnrt_sweep_uid(uid_t uid);
/* fnrt_pidns_probe - whether this region may give instances PID namespaces
 * (a child tries unshare(CLONE_NEWPID)); logs the answer. */
bool fnrt_pidns_probe(void);
/* fnrt_pool_uid - who @p's instances run as: the uid, and the gid into @gid. */
uid_t fnrt_pool_uid(const struct fn_rt *rt, const struct pool *p, gid_t *gid);
/* fnrt_spawner_start - the thread instances are forked from (their
 * PR_SET_PDEATHSIG follows the forking thread, so it must live as long as the
 * runtime). NULL when no thread can be started. */
struct fnrt_spawner *fnrt_spawner_start(void);
/* fnrt_spawner_stop - end and free it, once no instance is left. NULL ok. */
void fnrt_spawner_stop(struct fnrt_spawner *s);
/* fnrt_spawn - start one instance of @p (mutex held). NULL on failure (logged). */
struct inst *fnrt_spawn(struct fn_rt *rt, struct pool *p);
/* fnrt_destroy - free a reaped instance (mutex NOT held). */
void fnrt_destroy(struct inst *in);

#endif
