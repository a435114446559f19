/* runtime.c - function instances: local processes speaking the Lambda
 * Runtime API, served to each process alone by a one-thread HTTP server on
 * 127.0.0.1:0 (AWS_LAMBDA_RUNTIME_API).
 *
 * One mutex guards every pool, instance and queued invocation. An invocation
 * goes to a warm instance whose /next is parked; otherwise it waits in its
 * function's queue and a new instance is started (up to max_instances). The
 * reaper thread (every 50 ms) collects exited processes, kills instances past
 * their deadline (Task timed out) or idle too long, and starts instances for
 * queued work. Instances are torn down outside the mutex, since stopping
 * their HTTP server waits for its handler thread.
 *
 * Limits (documented in docs/lambda.md): each instance is its own process
 * group, killed as a group. Memory: the reaper sums the resident memory of
 * each instance's process group (/proc/PID/stat) every 100 ms and kills a
 * group past MemorySize (Runtime.OutOfMemory, "signal: killed"); Node.js also
 * gets --max-old-space-size=MemorySize, as Lambda does. No RLIMIT_AS for
 * Node.js (V8 and WebAssembly reserve far more address space than they use:
 * fetch fails under one); provided runtimes keep RLIMIT_AS = MemorySize +
 * 1 GiB as a backstop. A root region runs instances as an unprivileged user
 * (--fn-user, or one uid per function from --fn-uid-base): setgroups, setgid,
 * setuid in the child; the package, logs and store files are laid out so that
 * user reaches its package and private TMPDIR only. RLIMIT_NPROC 256 per uid,
 * RLIMIT_FSIZE 512 MiB, no core files. Logs go
 * through a pipe to DATA/functions/NAME/log (rotated to log.1 past 16 MiB),
 * so endless output only fills the pipe and then the timeout stops it. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "codec.h"
#include "fn_int.h"
#include "log.h"
#include "mem.h"

extern const char fn_node_bootstrap_js[];

#define TAIL_MAX        4096
#define LOG_ROTATE      (16u * 1024 * 1024)
#define RESPONSE_MAX    (6u * 1024 * 1024)
#define CRED_SECONDS    (12 * 3600)
#define MAX_AGE_US      (6LL * 3600 * 1000000) /* recycle before the keys expire */
#define INIT_TIMEOUT_US (10LL * 1000000)
#define FN_NPROC        256 /* RLIMIT_NPROC: per uid, see docs/lambda.md */

struct inv {
    char id[40];
    char *payload;
    size_t len;
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
    char *tmp; /* the instance's private TMPDIR, removed with it */
    uid_t uid; /* who it runs as (when the region drops privileges) */
    struct inst *next;
};

struct pool {
    char *name;
    char *revision;
    cJSON *doc;
    struct inst *insts;
    struct inv *q_head, *q_tail;
    unsigned slot; /* uid = uid_base + slot with per-function uids */
    bool swept;    /* no process of its uid left since its last instance ended */
    struct pool *next;
};

struct fn_rt {
    pthread_mutex_t mu;
    struct pool *pools;
    pthread_t reaper;
    bool stop;
    unsigned max;
    unsigned idle_s;
    char *node;
    char *boot;
    struct fn *f;
    unsigned ticks;
    bool drop; /* root: instances run as uid/gid (or uid_base + slot) */
    uid_t uid;
    gid_t gid;
    unsigned uid_base; /* > 0: one uid = gid per function */
    unsigned next_slot;
    char *tmp_root; /* DATA/functions/.tmp */
};

static void rand_hex(char *out, size_t nbytes)
{
    unsigned char b[32];

    if (getrandom(b, nbytes, 0) != (ssize_t)nbytes)
        abort();
    hex_encode(b, nbytes, out);
}

static void rand_alnum(char *out, size_t n, const char *alphabet)
{
    unsigned char b[64];
    size_t k = strlen(alphabet), i;

    if (getrandom(b, n, 0) != (ssize_t)n)
        abort();
    for (i = 0; i < n; i++)
        out[i] = alphabet[b[i] % k];
    out[n] = '\0';
}

static void new_request_id(char *out)
{
    char h[33];

    rand_hex(h, 16);
    snprintf(out, 40, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
}

char *fn_log_path(struct fn *f, const char *name)
{
    size_t n = strlen(f->fn_dir) + strlen(name) + 8;
    char *p = xmalloc(n);

    snprintf(p, n, "%s/%s/log", f->fn_dir, name);
    return p;
}

/* ---- logs ---- */

static void log_append(struct inst *in, const char *p, size_t n)
{
    struct stat st;
    int fd;

    pthread_mutex_lock(&in->logmu);
    fd = open(in->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) {
        if (fstat(fd, &st) == 0 && (size_t)st.st_size > LOG_ROTATE) {
            char old[4096];
            close(fd);
            snprintf(old, sizeof(old), "%s.1", in->log_path);
            rename(in->log_path, old);
            fd = open(in->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        }
        if (fd >= 0) {
            if (write(fd, p, n) < 0)
                log_warn("event=fn_log_write_failed err=%d", errno);
            close(fd);
        }
    }
    if (n >= TAIL_MAX) {
        memcpy(in->tail, p + n - TAIL_MAX, TAIL_MAX);
        in->tail_len = TAIL_MAX;
    } else {
        if (in->tail_len + n > TAIL_MAX) {
            size_t drop = in->tail_len + n - TAIL_MAX;
            memmove(in->tail, in->tail + drop, in->tail_len - drop);
            in->tail_len -= drop;
        }
        memcpy(in->tail + in->tail_len, p, n);
        in->tail_len += n;
    }
    pthread_mutex_unlock(&in->logmu);
}

static void log_printf(struct inst *in, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void log_printf(struct inst *in, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n > 0)
        log_append(in, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

static void *reader_main(void *arg)
{
    struct inst *in = arg;
    char buf[8192];

    for (;;) {
        struct pollfd p = {.fd = in->logfd, .events = POLLIN};
        int rc = poll(&p, 1, 100);
        ssize_t n;

        if (rc == 0) {
            if (in->reader_stop)
                break;
            continue;
        }
        if (rc < 0 && errno == EINTR)
            continue;
        n = read(in->logfd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        log_append(in, buf, (size_t)n);
    }
    return NULL;
}

/* drain - let the reader copy what the function printed before it answered. */
static void drain(struct inst *in)
{
    int i, pending = 0;

    for (i = 0; i < 50; i++) {
        if (ioctl(in->logfd, FIONREAD, &pending) != 0 || pending == 0)
            break;
        usleep(1000);
    }
    pthread_mutex_lock(&in->logmu); /* a chunk being written finishes first */
    pthread_mutex_unlock(&in->logmu);
}

/* ---- invocations ---- */

static const char *doc_str(const cJSON *doc, const char *k)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, k));
}

static int doc_int(const cJSON *doc, const char *k, int dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, k);
    return cJSON_IsNumber(v) ? v->valueint : dflt;
}

/* peak_mb - the peak resident memory of @pid (VmHWM), in MB rounded up; 0 if unknown. */
static int peak_mb(pid_t pid)
{
    char path[64], line[256];
    long kb = 0;
    FILE *in;

    if (pid <= 0)
        return 0;
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    in = fopen(path, "r");
    if (!in)
        return 0;
    while (fgets(line, sizeof(line), in))
        if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
            break;
    fclose(in);
    return (int)((kb + 1023) / 1024);
}

/* finish - report @inv's outcome (called without the mutex) and free it. */
static void finish(struct inst *in, struct inv *inv, int error, const char *body, size_t len)
{
    struct fn_result res = {.error = error, .body = body, .len = len};
    char tail[TAIL_MAX];
    int64_t us = clock_mono_us() - inv->start_us;
    int mem = in ? doc_int(in->pool->doc, "MemorySize", 128) : 128;

    if (in) {
        int used = peak_mb(__atomic_load_n(&in->pid, __ATOMIC_RELAXED));
        int group = (int)((__atomic_load_n(&in->peak_kb, __ATOMIC_RELAXED) + 1023) / 1024);
        if (group > used)
            used = group;
        drain(in);
        log_printf(in, "END RequestId: %s\n", inv->id);
        log_printf(in,
                   "REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %lld ms\t"
                   "Memory Size: %d MB\tMax Memory Used: %d MB\t\n",
                   inv->id, (double)us / 1000.0, (long long)((us + 999) / 1000), mem, used);
        pthread_mutex_lock(&in->logmu);
        memcpy(tail, in->tail, in->tail_len);
        res.log = tail;
        res.log_len = in->tail_len;
        pthread_mutex_unlock(&in->logmu);
    }
    inv->done(inv->ud, &res);
    free(inv->payload);
    free(inv);
}

static void finish_error(struct inst *in, struct inv *inv, const char *type, const char *msg)
{
    cJSON *o = cJSON_CreateObject();
    char *body;

    if (type)
        cJSON_AddStringToObject(o, "errorType", type);
    cJSON_AddStringToObject(o, "errorMessage", msg);
    body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    finish(in, inv, 1, body, strlen(body));
    free(body);
}

/* give - hand @inv to @in's parked /next (mutex held). */
static void give(struct inst *in, struct inv *inv, struct http_req *r)
{
    const char *arn = doc_str(in->pool->doc, "FunctionArn");
    char deadline[32], trace[128], h1[9], h2[25];

    in->cur = inv;
    in->parked = NULL;
    inv->start_us = clock_mono_us();
    inv->deadline_ms = clock_wall_ms() + (int64_t)(inv->timeout_s * 1000);
    snprintf(deadline, sizeof(deadline), "%lld", (long long)inv->deadline_ms);
    rand_hex(h1, 4);
    rand_hex(h2, 12);
    snprintf(trace, sizeof(trace), "Root=1-%s-%s;Parent=%.16s;Sampled=0", h1, h2, h2);
    {
        pthread_mutex_lock(&in->logmu);
        in->tail_len = 0;
        pthread_mutex_unlock(&in->logmu);
    }
    log_printf(in, "START RequestId: %s Version: $LATEST\n", inv->id);
    http_resp_header(r, "Content-Type", "application/json");
    http_resp_header(r, "Lambda-Runtime-Aws-Request-Id", inv->id);
    http_resp_header(r, "Lambda-Runtime-Deadline-Ms", deadline);
    http_resp_header(r, "Lambda-Runtime-Invoked-Function-Arn", arn ? arn : "");
    http_resp_header(r, "Lambda-Runtime-Trace-Id", trace);
    http_respond(r, 200, inv->payload, inv->len);
}

static struct inv *dequeue(struct pool *p)
{
    struct inv *v = p->q_head;

    if (v) {
        p->q_head = v->next;
        if (!p->q_head)
            p->q_tail = NULL;
        v->next = NULL;
    }
    return v;
}

static void rapi_answer(struct http_req *r, int status, const char *body)
{
    http_resp_header(r, "Content-Type", "application/json");
    http_respond(r, status, body, strlen(body));
}

static void rapi_handle(struct http_req *r, void *ud)
{
    struct inst *in = ud;
    struct fn_rt *rt = in->rt;
    char id[64];
    enum fn_rapi_op op = fn_rapi_parse(r->method, r->path, id, sizeof(id));
    struct inv *inv = NULL;

    if (op == FN_RAPI_BAD) {
        rapi_answer(r, 404,
                    "{\"errorMessage\":\"Unknown Runtime API request\","
                    "\"errorType\":\"InvalidRequest\"}");
        return;
    }
    pthread_mutex_lock(&rt->mu);
    if (op == FN_RAPI_NEXT) {
        in->initialized = true;
        if (in->killed || in->stale || in->parked) {
            pthread_mutex_unlock(&rt->mu);
            rapi_answer(r, 410,
                        "{\"errorMessage\":\"instance is shutting down\","
                        "\"errorType\":\"Runtime.Shutdown\"}");
            return;
        }
        if (in->cur) { /* asked for more work without answering: the old one failed */
            inv = in->cur;
            in->cur = NULL;
        }
        in->idle_since_us = clock_mono_us();
        {
            struct inv *next = dequeue(in->pool);
            if (next)
                give(in, next, r);
            else
                in->parked = r;
        }
        pthread_mutex_unlock(&rt->mu);
        if (inv)
            finish_error(in, inv, "Runtime.NoResponse",
                         "The runtime asked for the next event without answering this one");
        return;
    }
    if (op == FN_RAPI_INIT_ERROR) {
        inv = in->cur ? in->cur : dequeue(in->pool);
        in->cur = NULL;
        in->killed = true;
        if (in->pid > 0)
            kill(-in->pid, SIGKILL);
        pthread_mutex_unlock(&rt->mu);
        if (inv) {
            const char *t = http_req_header(r, "lambda-runtime-function-error-type");
            cJSON *b = cJSON_ParseWithLength(r->body.ptr ? r->body.ptr : "", r->body.len);
            if (cJSON_IsObject(b)) {
                finish(in, inv, 1, r->body.ptr, r->body.len);
            } else {
                finish_error(in, inv, t ? t : "Runtime.InitError", "Init error");
            }
            cJSON_Delete(b);
        }
        rapi_answer(r, 202, "{\"status\":\"OK\"}");
        return;
    }
    /* RESPONSE or ERROR: must name the current invocation. */
    if (!in->cur || strcmp(in->cur->id, id) != 0) {
        pthread_mutex_unlock(&rt->mu);
        rapi_answer(r, 400,
                    "{\"errorMessage\":\"Invalid request ID\","
                    "\"errorType\":\"InvalidRequestID\"}");
        return;
    }
    inv = in->cur;
    in->cur = NULL;
    in->idle_since_us = clock_mono_us();
    pthread_mutex_unlock(&rt->mu);
    if (r->body_too_large) {
        finish_error(in, inv, "Function.ResponseSizeTooLarge",
                     "Response payload size exceeded maximum allowed payload size (6291556 "
                     "bytes).");
        rapi_answer(r, 413,
                    "{\"errorMessage\":\"Exceeded maximum allowed payload size "
                    "(6291556 bytes).\",\"errorType\":\"RequestEntityTooLarge\"}");
        return;
    }
    if (op == FN_RAPI_RESPONSE) {
        finish(in, inv, 0, r->body.ptr ? r->body.ptr : "", r->body.len);
    } else {
        cJSON *b = cJSON_ParseWithLength(r->body.ptr ? r->body.ptr : "", r->body.len);
        if (cJSON_IsObject(b))
            finish(in, inv, 1, r->body.ptr, r->body.len);
        else {
            const char *t = http_req_header(r, "lambda-runtime-function-error-type");
            finish_error(in, inv, t ? t : "Unhandled", "Unhandled error");
        }
        cJSON_Delete(b);
    }
    rapi_answer(r, 202, "{\"status\":\"OK\"}");
}

/* ---- privileges and files (docs/lambda.md, "Who functions run as") ---- */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

static void rm_tree(const char *path)
{
    if (path)
        nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* private_entries - take "other" access off every entry of the data directory
 * but functions/ (the store files, S3 objects, ...): the directory itself is
 * only traversable, so the function user could otherwise open them by name. */
static void private_entries(const char *dir, const char *keep)
{
    DIR *d = opendir(dir);
    struct dirent *de;

    if (!d)
        return;
    while ((de = readdir(d))) {
        char path[4096];
        struct stat st;

        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
            (keep && strcmp(de->d_name, keep) == 0))
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (lstat(path, &st) == 0 && !S_ISLNK(st.st_mode) && (st.st_mode & 0007))
            chmod(path, st.st_mode & 07770);
    }
    closedir(d);
}

/* lock_down - at start: DATA and DATA/functions traversable only, their
 * ancestors traversable, everything else private (see private_entries);
 * per function: its directory traversable only, logs and zips private,
 * package directories closed until an instance opens them to its group. */
static void lock_down(struct fn_rt *rt)
{
    struct fn *f = rt->f;
    char path[4096], *slash;
    struct stat st;
    DIR *d;
    struct dirent *de;

    if (realpath(f->data_dir, path)) {
        while ((slash = strrchr(path, '/')) && slash != path) {
            *slash = '\0';
            if (stat(path, &st) == 0 && !(st.st_mode & S_IXOTH)) {
                log_warn("event=fn_dir_made_traversable path=%s mode=%o", path,
                         (unsigned)(st.st_mode & 07777));
                chmod(path, (st.st_mode & 07777) | S_IXOTH);
            }
        }
    }
    chmod(f->data_dir, 0711);
    chmod(f->fn_dir, 0711);
    private_entries(f->data_dir, "functions");
    d = opendir(f->fn_dir);
    if (!d)
        return;
    while ((de = readdir(d))) {
        DIR *fd;
        struct dirent *fe;
        char fdir[2048];

        if (de->d_name[0] == '.')
            continue;
        if (snprintf(fdir, sizeof(fdir), "%s/%s", f->fn_dir, de->d_name) >= 2048)
            continue;
        if (lstat(fdir, &st) || !S_ISDIR(st.st_mode))
            continue;
        chmod(fdir, 0711);
        fd = opendir(fdir);
        if (!fd)
            continue;
        while ((fe = readdir(fd))) {
            if (fe->d_name[0] == '.' ||
                snprintf(path, sizeof(path), "%s/%s", fdir, fe->d_name) >= (int)sizeof(path))
                continue;
            if (lstat(path, &st) || S_ISLNK(st.st_mode))
                continue;
            chmod(path, S_ISDIR(st.st_mode) ? 0700 : 0600);
        }
        closedir(fd);
    }
    closedir(d);
}

/* open_package - let gid (only) into the package directory @dir; the files
 * inside keep the modes they were unpacked with (0644, 0755). */
static void open_package(struct fn_rt *rt, const char *dir, gid_t gid)
{
    if (!dir)
        return;
    if (chown(dir, 0, gid) || chmod(dir, 0750))
        log_warn("event=fn_package_chown_failed dir=%s errno=%d", dir, errno);
    private_entries(rt->f->data_dir, "functions"); /* entries made since start */
}

/* sweep_uid - kill every process of @uid (what a per-function uid left
 * behind: children that left the instance's process group). A child takes
 * the uid and signals everything it may (kill(-1)) until nothing is left. */
static void sweep_uid(uid_t uid)
{
    pid_t pid = fork();
    int i;

    if (pid == 0) {
        if (setgroups(0, NULL) || setgid((gid_t)uid) || setuid(uid))
            _exit(1);
        for (i = 0; i < 200; i++) {
            if (kill(-1, SIGKILL) != 0)
                _exit(0); /* ESRCH: none left */
            usleep(2000);
        }
        _exit(0);
    }
    if (pid > 0)
        waitpid(pid, NULL, 0);
}

static uid_t pool_uid(const struct fn_rt *rt, const struct pool *p, gid_t *gid)
{
    if (rt->uid_base) {
        *gid = (gid_t)(rt->uid_base + p->slot);
        return (uid_t)(rt->uid_base + p->slot);
    }
    *gid = rt->gid;
    return rt->uid;
}

/* make_tmp - the instance's private TMPDIR under DATA/functions/.tmp, owned by
 * the function user (owned string, NULL on failure). */
static char *make_tmp(struct fn_rt *rt, const char *name, uid_t uid, gid_t gid)
{
    char h[17], *path;
    size_t n = strlen(rt->tmp_root) + strlen(name) + 24;

    rand_hex(h, 8);
    path = xmalloc(n);
    snprintf(path, n, "%s/%s-%s", rt->tmp_root, name, h);
    if (mkdir(path, 0700) || (rt->drop && chown(path, uid, gid))) {
        log_warn("event=fn_tmp_failed path=%s errno=%d", path, errno);
        rmdir(path);
        free(path);
        return NULL;
    }
    return path;
}

/* ---- processes ---- */

struct spawn_env {
    char **v;
    size_t n, cap;
};

static void env_add(struct spawn_env *s, const char *k, const char *v)
{
    size_t len;

    if (s->n + 2 > s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
    }
    len = strlen(k) + strlen(v) + 2;
    s->v[s->n] = xmalloc(len);
    snprintf(s->v[s->n], len, "%s=%s", k, v);
    s->n++;
    s->v[s->n] = NULL;
}

static void env_free(struct spawn_env *s)
{
    size_t i;

    for (i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
}

static bool reserved_env(const char *k)
{
    static const char *const names[] = {"_HANDLER",
                                        "_X_AMZN_TRACE_ID",
                                        "AWS_DEFAULT_REGION",
                                        "AWS_REGION",
                                        "AWS_EXECUTION_ENV",
                                        "AWS_LAMBDA_FUNCTION_NAME",
                                        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                                        "AWS_LAMBDA_FUNCTION_VERSION",
                                        "AWS_LAMBDA_INITIALIZATION_TYPE",
                                        "AWS_LAMBDA_LOG_GROUP_NAME",
                                        "AWS_LAMBDA_LOG_STREAM_NAME",
                                        "AWS_ACCESS_KEY",
                                        "AWS_ACCESS_KEY_ID",
                                        "AWS_SECRET_ACCESS_KEY",
                                        "AWS_SESSION_TOKEN",
                                        "AWS_LAMBDA_RUNTIME_API",
                                        "LAMBDA_TASK_ROOT",
                                        "LAMBDA_RUNTIME_DIR",
                                        NULL};
    size_t i;

    for (i = 0; names[i]; i++)
        if (strcmp(k, names[i]) == 0)
            return true;
    return false;
}

/* role_creds - temporary keys for the execution role, registered with the
 * region so the function's own AWS calls are signed as the assumed role. */
static void role_creds(struct fn_rt *rt, const cJSON *doc, struct spawn_env *env)
{
    struct fn *f = rt->f;
    struct creds_identity id;
    const char *role = doc_str(doc, "Role"), *name = doc_str(doc, "FunctionName");
    const char *rn = role ? strrchr(role, '/') : NULL;
    struct err e = {0};

    memset(&id, 0, sizeof(id));
    memcpy(id.access_key, "ASIA", 4);
    rand_alnum(id.access_key + 4, 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
    rand_alnum(id.secret, 40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
    rand_alnum(id.session_token, 64,
               "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
    snprintf(id.account, sizeof(id.account), "%.12s", f->account);
    snprintf(id.user, sizeof(id.user), "%s", name ? name : "function");
    snprintf(id.arn, sizeof(id.arn), "arn:aws:sts::%s:assumed-role/%s/%s", f->account,
             rn ? rn + 1 : "unknown", name ? name : "function");
    id.expires = (int64_t)clock_wall_s() + CRED_SECONDS;
    if (creds_add(f->creds, &id, &e)) {
        log_warn("event=fn_creds_failed msg=\"%s\"", e.msg);
        return;
    }
    env_add(env, "AWS_ACCESS_KEY_ID", id.access_key);
    env_add(env, "AWS_SECRET_ACCESS_KEY", id.secret);
    env_add(env, "AWS_SESSION_TOKEN", id.session_token);
}

static void build_env(struct fn_rt *rt, const cJSON *doc, int port, struct spawn_env *env)
{
    struct fn *f = rt->f;
    const char *runtime = doc_str(doc, "Runtime"), *name = doc_str(doc, "FunctionName");
    const char *handler = doc_str(doc, "Handler"), *dir = doc_str(doc, "_Dir");
    const cJSON *vars = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(doc, "Environment"), "Variables");
    const cJSON *v;
    char tmp[256], day[16], stream[96], h[33];
    const char *path = getenv("PATH");
    time_t now = time(NULL);
    struct tm tm;

    gmtime_r(&now, &tm);
    strftime(day, sizeof(day), "%Y/%m/%d", &tm);
    rand_hex(h, 16);
    snprintf(stream, sizeof(stream), "%s/[$LATEST]%s", day, h);
    cJSON_ArrayForEach(v, vars)
    {
        if (cJSON_IsString(v) && !reserved_env(v->string))
            env_add(env, v->string, v->valuestring);
    }
    env_add(env, "PATH", path ? path : "/usr/local/bin:/usr/bin:/bin");
    env_add(env, "LANG", "en_US.UTF-8");
    env_add(env, "TZ", ":UTC");
    env_add(env, "AWS_REGION", f->region);
    env_add(env, "AWS_DEFAULT_REGION", f->region);
    env_add(env, "AWS_LAMBDA_FUNCTION_NAME", name ? name : "");
    env_add(env, "AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
    snprintf(tmp, sizeof(tmp), "%d", doc_int(doc, "MemorySize", 128));
    env_add(env, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", tmp);
    snprintf(tmp, sizeof(tmp), "/aws/lambda/%s", name ? name : "");
    env_add(env, "AWS_LAMBDA_LOG_GROUP_NAME", tmp);
    env_add(env, "AWS_LAMBDA_LOG_STREAM_NAME", stream);
    env_add(env, "AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand");
    env_add(env, "_HANDLER", handler ? handler : "");
    env_add(env, "LAMBDA_TASK_ROOT", dir ? dir : "");
    env_add(env, "LAMBDA_RUNTIME_DIR", rt->boot ? rt->boot : "");
    snprintf(tmp, sizeof(tmp), "AWS_Lambda_%s", runtime ? runtime : "provided");
    env_add(env, "AWS_EXECUTION_ENV", tmp);
    snprintf(tmp, sizeof(tmp), "127.0.0.1:%d", port);
    env_add(env, "AWS_LAMBDA_RUNTIME_API", tmp);
    if (f->endpoint)
        env_add(env, "AWS_ENDPOINT_URL", f->endpoint);
    if (dir && runtime && strncmp(runtime, "nodejs", 6) == 0) {
        snprintf(tmp, sizeof(tmp), "%s/node_modules", dir);
        env_add(env, "NODE_PATH", tmp);
    }
    role_creds(rt, doc, env);
}

static void set_limit(int res, rlim_t v)
{
    struct rlimit l = {v, v};

    setrlimit(res, &l);
}

/* spawn - start one instance of @p (mutex held). NULL on failure (logged). */
static struct inst *spawn(struct fn_rt *rt, struct pool *p)
{
    struct inst *in = xcalloc(1, sizeof(*in));
    struct http_server_opts o = {0};
    struct spawn_env env = {0};
    const char *runtime = doc_str(p->doc, "Runtime"), *dir = doc_str(p->doc, "_Dir");
    int mem = doc_int(p->doc, "MemorySize", 128);
    char exe[4096], heap[64];
    char *argv[5] = {0};
    int pipefd[2] = {-1, -1};
    bool node = runtime && strncmp(runtime, "nodejs", 6) == 0;
    struct err e = {0};
    sigset_t all;
    gid_t gid = 0;
    uid_t uid = pool_uid(rt, p, &gid);
    bool drop = rt->drop;
    pid_t pid;

    in->rt = rt;
    in->pool = p;
    in->logfd = -1;
    in->log_path = fn_log_path(rt->f, p->name);
    pthread_mutex_init(&in->logmu, NULL);
    o.host = "127.0.0.1";
    o.threads = 1;
    o.max_body = RESPONSE_MAX + 100;
    o.handler = rapi_handle;
    o.ud = in;
    if (http_server_start(&o, &in->rapi, &e))
        goto fail;
    if (pipe2(pipefd, O_CLOEXEC))
        goto fail;
    in->uid = uid;
    if (drop)
        open_package(rt, dir, gid);
    in->tmp = make_tmp(rt, p->name, uid, gid);
    if (!in->tmp)
        goto fail;
    build_env(rt, p->doc, http_server_port(in->rapi), &env);
    env_add(&env, "TMPDIR", in->tmp);
    if (node) {
        if (!rt->node)
            goto fail;
        snprintf(exe, sizeof(exe), "%s", rt->node);
        snprintf(heap, sizeof(heap), "--max-old-space-size=%d", mem);
        argv[0] = "node";
        argv[1] = heap;
        argv[2] = rt->boot;
    } else {
        snprintf(exe, sizeof(exe), "%s/bootstrap", dir ? dir : ".");
        argv[0] = exe;
    }
    pid = fork();
    if (pid < 0)
        goto fail;
    if (pid == 0) {
        /* async-signal-safe calls only from here on */
        setpgid(0, 0);
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        signal(SIGPIPE, SIG_DFL);
        dup2(pipefd[1], 1);
        dup2(pipefd[1], 2);
        {
            int nul = open("/dev/null", O_RDONLY);
            if (nul >= 0)
                dup2(nul, 0);
        }
        close_range(3, ~0U, 0);
        if (!node)
            set_limit(RLIMIT_AS, ((rlim_t)mem + 1024) * 1024 * 1024);
        set_limit(RLIMIT_NPROC, FN_NPROC);
        set_limit(RLIMIT_FSIZE, 512u * 1024 * 1024);
        set_limit(RLIMIT_CORE, 0);
        if (drop && (setgroups(0, NULL) || setgid(gid) || setuid(uid))) {
            static const char msg[] = "cannot switch to the function user\n";
            if (write(2, msg, sizeof(msg) - 1) < 0)
                _exit(126);
            _exit(126);
        }
        if (dir && chdir(dir))
            _exit(127);
        execve(exe, argv, env.v);
        {
            static const char msg[] = "exec of the runtime failed\n";
            if (write(2, msg, sizeof(msg) - 1) < 0)
                _exit(126);
        }
        _exit(126);
    }
    setpgid(pid, pid); /* both sides, so a kill right away still hits the group */
    close(pipefd[1]);
    env_free(&env);
    in->pid = pid;
    in->logfd = pipefd[0];
    in->born_us = clock_mono_us();
    if (pthread_create(&in->reader, NULL, reader_main, in) == 0)
        in->reader_started = true;
    in->next = p->insts;
    p->insts = in;
    p->swept = false;
    log_info("event=fn_instance_start function=%s pid=%d port=%d uid=%d", p->name, (int)pid,
             http_server_port(in->rapi), drop ? (int)uid : (int)geteuid());
    return in;
fail:
    log_err("event=fn_instance_start_failed function=%s msg=\"%s\" errno=%d", p->name, e.msg,
            errno);
    env_free(&env);
    if (pipefd[0] >= 0)
        close(pipefd[0]);
    if (pipefd[1] >= 0)
        close(pipefd[1]);
    http_server_stop(in->rapi);
    pthread_mutex_destroy(&in->logmu);
    rm_tree(in->tmp);
    free(in->tmp);
    free(in->log_path);
    free(in);
    return NULL;
}

/* destroy - free a reaped instance (mutex NOT held). */
static void destroy(struct inst *in)
{
    if (in->parked)
        rapi_answer(in->parked, 410, "{\"errorType\":\"Runtime.Shutdown\"}");
    in->parked = NULL;
    http_server_stop(in->rapi);
    in->reader_stop = true;
    if (in->reader_started)
        pthread_join(in->reader, NULL);
    if (in->logfd >= 0)
        close(in->logfd);
    pthread_mutex_destroy(&in->logmu);
    rm_tree(in->tmp);
    free(in->tmp);
    free(in->log_path);
    free(in);
}

static unsigned count_live(const struct pool *p, unsigned *starting)
{
    const struct inst *in;
    unsigned n = 0;

    *starting = 0;
    for (in = p->insts; in; in = in->next) {
        if (in->killed || in->stale || in->pid <= 0)
            continue;
        n++;
        if (!in->parked && !in->cur)
            (*starting)++;
    }
    return n;
}

static unsigned queue_len(const struct pool *p)
{
    const struct inv *v;
    unsigned n = 0;

    for (v = p->q_head; v; v = v->next)
        n++;
    return n;
}

/* scale - start instances for queued work (mutex held). */
static void scale(struct fn_rt *rt, struct pool *p)
{
    unsigned starting, live = count_live(p, &starting), q = queue_len(p);

    while (q > starting && live < rt->max) {
        if (!spawn(rt, p))
            break;
        live++;
        starting++;
    }
}

struct failed {
    struct inst *in;
    struct inv *inv;
    char type[48];
    char msg[256];
    struct failed *next;
};

static void fail_later(struct failed **list, struct inst *in, struct inv *inv, const char *type,
                       const char *msg)
{
    struct failed *x = xcalloc(1, sizeof(*x));

    x->in = in;
    x->inv = inv;
    snprintf(x->type, sizeof(x->type), "%s", type ? type : "");
    snprintf(x->msg, sizeof(x->msg), "%s", msg);
    x->next = *list;
    *list = x;
}

static void exit_text(int status, char *out, size_t cap)
{
    if (WIFEXITED(status))
        snprintf(out, cap, "exit status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(out, cap, "signal: %s",
                 WTERMSIG(status) == SIGKILL ? "killed" : strsignal(WTERMSIG(status)));
    else
        snprintf(out, cap, "unknown");
}

/* ---- the memory watchdog ---- */

struct watched {
    pid_t pgid;
    long limit_kb;
    long rss_kb;
};

/* statm_anon_pages - resident pages of @pid that are not shared file pages
 * (/proc/PID/statm: resident minus shared): the memory the process itself
 * holds, not the binaries and libraries it maps, which a function's memory
 * limit does not count either. -1 when the process is gone. */
static long statm_anon_pages(const char *pid)
{
    char path[64], buf[256];
    long size = 0, resident = 0, shared = 0;
    ssize_t got;
    int fd;

    snprintf(path, sizeof(path), "/proc/%.20s/statm", pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    got = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (got <= 0)
        return -1;
    buf[got] = '\0';
    if (sscanf(buf, "%ld %ld %ld", &size, &resident, &shared) != 3)
        return -1;
    return resident > shared ? resident - shared : 0;
}

/* group_rss - add each process's own resident memory (statm_anon_pages) to
 * the watched group it belongs to (/proc/PID/stat field 5). */
static void group_rss(struct watched *w, size_t n)
{
    long page_kb = sysconf(_SC_PAGESIZE) / 1024;
    DIR *d = opendir("/proc");
    struct dirent *de;

    if (!d)
        return;
    while ((de = readdir(d))) {
        char path[64], buf[1024], *p;
        long pgrp = 0, anon;
        ssize_t got;
        size_t i;
        int fd, field;

        if (de->d_name[0] < '1' || de->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "/proc/%.20s/stat", de->d_name);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        got = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (got <= 0)
            continue;
        buf[got] = '\0';
        p = strrchr(buf, ')'); /* the command name may hold spaces */
        if (!p)
            continue;
        /* after ')': field 3 (state) onwards */
        for (field = 3, p++; *p && field <= 5; field++) {
            while (*p == ' ')
                p++;
            if (field == 5)
                pgrp = strtol(p, NULL, 10);
            while (*p && *p != ' ')
                p++;
        }
        for (i = 0; i < n; i++) {
            if (w[i].pgid != (pid_t)pgrp)
                continue;
            anon = statm_anon_pages(de->d_name);
            if (anon > 0)
                w[i].rss_kb += anon * page_kb;
            break;
        }
    }
    closedir(d);
}

/* watchdog - kill instances whose process group holds more resident memory
 * than their function's MemorySize. The /proc walk runs without the mutex. */
static void watchdog(struct fn_rt *rt)
{
    struct watched *w = NULL;
    size_t n = 0, cap = 0, i;
    struct pool *p;
    struct inst *in;

    pthread_mutex_lock(&rt->mu);
    for (p = rt->pools; p; p = p->next)
        for (in = p->insts; in; in = in->next) {
            if (in->pid <= 0 || in->killed)
                continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 16;
                w = xrealloc(w, cap * sizeof(*w));
            }
            w[n].pgid = in->pid;
            w[n].limit_kb = (long)doc_int(p->doc, "MemorySize", 128) * 1024;
            w[n].rss_kb = 0;
            n++;
        }
    pthread_mutex_unlock(&rt->mu);
    if (!n)
        return;
    group_rss(w, n);
    pthread_mutex_lock(&rt->mu);
    for (p = rt->pools; p; p = p->next)
        for (in = p->insts; in; in = in->next)
            for (i = 0; i < n; i++) {
                if (in->pid != w[i].pgid || in->pid <= 0 || in->killed)
                    continue;
                if (w[i].rss_kb > in->peak_kb)
                    __atomic_store_n(&in->peak_kb, w[i].rss_kb, __ATOMIC_RELAXED);
                if (w[i].rss_kb > w[i].limit_kb) {
                    log_warn("event=fn_instance_out_of_memory function=%s pid=%d rss_kb=%ld "
                             "limit_kb=%ld",
                             p->name, (int)in->pid, w[i].rss_kb, w[i].limit_kb);
                    in->oom = true;
                    in->killed = true;
                    kill(-in->pid, SIGKILL);
                }
            }
    pthread_mutex_unlock(&rt->mu);
    free(w);
}

/* tick - one pass of the reaper. */
static void tick(struct fn_rt *rt)
{
    struct failed *failed = NULL, *x;
    struct inst *dead = NULL, *in, **pp;
    struct pool *p;
    int64_t now = clock_mono_us(), wall = clock_wall_ms();

    pthread_mutex_lock(&rt->mu);
    for (p = rt->pools; p; p = p->next) {
        for (in = p->insts; in; in = in->next) {
            int st;
            if (in->pid > 0 && waitpid(in->pid, &st, WNOHANG) == in->pid) {
                char why[64], msg[200];
                kill(-in->pid, SIGKILL); /* whatever it left behind */
                __atomic_store_n(&in->pid, 0, __ATOMIC_RELAXED);
                in->status = st;
                exit_text(st, why, sizeof(why));
                if (!in->killed)
                    log_info("event=fn_instance_exit function=%s status=\"%s\"", p->name, why);
                if (!in->killed || in->cur || in->oom) {
                    struct inv *v = in->cur ? in->cur : (!in->initialized ? dequeue(p) : NULL);
                    in->cur = NULL;
                    if (v) {
                        snprintf(msg, sizeof(msg), "RequestId: %s Error: Runtime exited %s%s",
                                 v->id, WIFEXITED(st) ? "with error: " : "with error: ", why);
                        fail_later(&failed, in, v,
                                   in->oom ? "Runtime.OutOfMemory" : "Runtime.ExitError", msg);
                    }
                }
                in->killed = true;
                continue;
            }
            if (in->pid <= 0)
                continue;
            if (in->cur && wall > in->cur->deadline_ms) {
                struct inv *v = in->cur;
                char ts[40], msg[200];
                time_t s = (time_t)(wall / 1000);
                struct tm tm;
                gmtime_r(&s, &tm);
                strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
                snprintf(msg, sizeof(msg), "%s.%03dZ %s Task timed out after %.2f seconds", ts,
                         (int)(wall % 1000), v->id, v->timeout_s);
                in->cur = NULL;
                in->killed = true;
                kill(-in->pid, SIGKILL);
                fail_later(&failed, in, v, NULL, msg);
                continue;
            }
            if (!in->killed && !in->initialized && now - in->born_us > INIT_TIMEOUT_US) {
                in->killed = true;
                kill(-in->pid, SIGKILL);
            } else if (!in->killed && in->parked && !in->cur &&
                       (in->stale || now - in->idle_since_us > (int64_t)rt->idle_s * 1000000 ||
                        now - in->born_us > MAX_AGE_US)) {
                in->killed = true;
                kill(-in->pid, SIGKILL);
            }
        }
        /* unlink reaped instances with nothing left to report */
        for (pp = &p->insts; *pp;) {
            in = *pp;
            if (in->pid == 0 && !in->cur) {
                bool referenced = false;
                for (x = failed; x; x = x->next)
                    referenced |= x->in == in;
                if (!referenced) {
                    *pp = in->next;
                    in->next = dead;
                    dead = in;
                    continue;
                }
            }
            pp = &in->next;
        }
        if (rt->uid_base && !p->insts && !p->swept) {
            gid_t g;
            sweep_uid(pool_uid(rt, p, &g));
            p->swept = true;
        }
        scale(rt, p);
    }
    pthread_mutex_unlock(&rt->mu);
    while (failed) {
        x = failed;
        failed = x->next;
        if (x->type[0])
            finish_error(x->in, x->inv, x->type, x->msg);
        else {
            cJSON *o = cJSON_CreateObject();
            char *body;
            cJSON_AddStringToObject(o, "errorMessage", x->msg);
            body = cJSON_PrintUnformatted(o);
            cJSON_Delete(o);
            log_printf(x->in, "%s\n", x->msg);
            finish(x->in, x->inv, 1, body, strlen(body));
            free(body);
        }
        free(x);
    }
    while (dead) {
        in = dead;
        dead = in->next;
        destroy(in);
    }
}

static void *reaper_main(void *arg)
{
    struct fn_rt *rt = arg;
    struct timespec ts = {0, 50 * 1000 * 1000};

    for (;;) {
        bool stop;
        pthread_mutex_lock(&rt->mu);
        stop = rt->stop;
        pthread_mutex_unlock(&rt->mu);
        if (stop)
            break;
        if (rt->ticks++ % 2 == 0)
            watchdog(rt);
        tick(rt);
        nanosleep(&ts, NULL);
    }
    return NULL;
}

/* ---- the contract in fn_int.h ---- */

static char *find_node(void)
{
    const char *path = getenv("PATH");
    char *copy, *dir, *save = NULL, *found = NULL;
    char buf[4096];

    copy = xstrdup(path ? path : "/usr/local/bin:/usr/bin:/bin");
    for (dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
        snprintf(buf, sizeof(buf), "%s/node", dir);
        if (access(buf, X_OK) == 0) {
            found = xstrdup(buf);
            break;
        }
    }
    free(copy);
    return found;
}

/* run_as - who instances run as (see fn_opts). */
static enum err_code run_as(struct fn_rt *rt, const struct fn_opts *o, struct err *e)
{
    const char *user = o->run_user ? o->run_user : "nobody";
    struct passwd pw, *res = NULL;
    char buf[4096];

    if (geteuid() != 0) {
        log_info("event=fn_no_privilege_drop reason=\"the region is not root\" uid=%d "
                 "msg=\"functions run as the region's own user\"",
                 (int)geteuid());
        return ERR_OK;
    }
    rt->uid_base = o->run_uid_base;
    if (rt->uid_base) {
        rt->drop = true;
        log_info("event=fn_run_as uid_base=%u", rt->uid_base);
        return ERR_OK;
    }
    if (getpwnam_r(user, &pw, buf, sizeof(buf), &res) || !res)
        return err_set(e, ERR_INVALID, "--fn-user %s: no such user", user);
    if (pw.pw_uid == 0)
        return err_set(e, ERR_INVALID, "--fn-user %s: functions may not run as root", user);
    rt->drop = true;
    rt->uid = pw.pw_uid;
    rt->gid = pw.pw_gid;
    log_info("event=fn_run_as user=%s uid=%d gid=%d", user, (int)rt->uid, (int)rt->gid);
    return ERR_OK;
}

enum err_code fn_rt_start(struct fn *f, const struct fn_opts *o, struct err *e)
{
    struct fn_rt *rt = xcalloc(1, sizeof(*rt));
    size_t n = strlen(f->fn_dir) + 40;
    enum err_code rc;
    FILE *out;

    pthread_mutex_init(&rt->mu, NULL);
    rt->f = f;
    rt->max = o->max_instances ? o->max_instances : 10;
    rt->idle_s = o->idle_seconds ? o->idle_seconds : 300;
    rc = run_as(rt, o, e);
    if (rc) {
        pthread_mutex_destroy(&rt->mu);
        free(rt);
        return rc;
    }
    rt->tmp_root = xmalloc(n);
    snprintf(rt->tmp_root, n, "%s/.tmp", f->fn_dir);
    rm_tree(rt->tmp_root); /* what instances of an earlier run left */
    mkdir(rt->tmp_root, rt->drop ? 0711 : 0700);
    if (rt->drop)
        lock_down(rt);
    rt->node = find_node();
    rt->boot = xmalloc(n);
    snprintf(rt->boot, n, "%s/.node-bootstrap.js", f->fn_dir);
    out = fopen(rt->boot, "w");
    if (out) {
        bool ok = fputs(fn_node_bootstrap_js, out) >= 0;
        ok = fchmod(fileno(out), 0644) == 0 && ok; /* the function user runs it */
        ok = fclose(out) == 0 && ok;
        if (!ok)
            out = NULL;
    }
    if (!out) {
        free(rt->tmp_root);
        free(rt->boot);
        free(rt->node);
        pthread_mutex_destroy(&rt->mu);
        free(rt);
        return err_set(e, ERR_IO, "cannot write the Node.js bootstrap under %s", f->fn_dir);
    }
    if (pthread_create(&rt->reaper, NULL, reaper_main, rt)) {
        free(rt->boot);
        free(rt->node);
        pthread_mutex_destroy(&rt->mu);
        free(rt->tmp_root);
        free(rt);
        return err_set(e, ERR_IO, "cannot start the function reaper");
    }
    f->rt = rt;
    return ERR_OK;
}

static struct pool *pool_for(struct fn_rt *rt, const cJSON *doc)
{
    const char *name = doc_str(doc, "FunctionName"), *rev = doc_str(doc, "RevisionId");
    struct pool *p;
    struct inst *in;

    for (p = rt->pools; p; p = p->next)
        if (strcmp(p->name, name) == 0)
            break;
    if (!p) {
        p = xcalloc(1, sizeof(*p));
        p->name = xstrdup(name);
        p->slot = rt->next_slot++;
        p->swept = true;
        p->next = rt->pools;
        rt->pools = p;
    }
    if (!p->revision || strcmp(p->revision, rev ? rev : "") != 0) {
        /* a new configuration or package: the old instances finish what they
         * run and are then retired by the reaper */
        for (in = p->insts; in; in = in->next)
            in->stale = true;
        free(p->revision);
        p->revision = xstrdup(rev ? rev : "");
        cJSON_Delete(p->doc);
        p->doc = cJSON_Duplicate(doc, 1);
    }
    return p;
}

void fn_rt_invoke(struct fn *f, const cJSON *doc, const void *payload, size_t len,
                  fn_inv_done_fn *done, void *ud)
{
    struct fn_rt *rt = f->rt;
    struct inv *inv = xcalloc(1, sizeof(*inv));
    struct pool *p;
    struct inst *in;

    new_request_id(inv->id);
    inv->payload = xmemdup(payload ? payload : "", len ? len : 1);
    inv->len = len;
    inv->timeout_s = doc_int(doc, "Timeout", 3);
    inv->done = done;
    inv->ud = ud;
    inv->start_us = clock_mono_us();
    pthread_mutex_lock(&rt->mu);
    p = pool_for(rt, doc);
    for (in = p->insts; in; in = in->next)
        if (in->parked && !in->cur && !in->stale && !in->killed)
            break;
    if (in) {
        give(in, inv, in->parked);
    } else {
        if (p->q_tail)
            p->q_tail->next = inv;
        else
            p->q_head = inv;
        p->q_tail = inv;
        scale(rt, p);
        if (!count_live(p, &(unsigned){0})) { /* could not start one */
            struct inv *v = dequeue(p);
            pthread_mutex_unlock(&rt->mu);
            while (v) {
                finish_error(NULL, v, "Runtime.Unavailable",
                             "The function's runtime could not be started");
                pthread_mutex_lock(&rt->mu);
                v = dequeue(p);
                pthread_mutex_unlock(&rt->mu);
            }
            return;
        }
    }
    pthread_mutex_unlock(&rt->mu);
}

void fn_rt_forget(struct fn *f, const char *name)
{
    struct fn_rt *rt = f->rt;
    struct pool *p;
    struct inst *in;

    pthread_mutex_lock(&rt->mu);
    for (p = rt->pools; p; p = p->next) {
        if (strcmp(p->name, name) != 0)
            continue;
        for (in = p->insts; in; in = in->next) {
            in->stale = true;
            if (!in->cur && in->pid > 0) {
                in->killed = true;
                kill(-in->pid, SIGKILL);
            }
        }
        free(p->revision);
        p->revision = NULL;
    }
    pthread_mutex_unlock(&rt->mu);
}

void fn_rt_stop(struct fn *f)
{
    struct fn_rt *rt = f ? f->rt : NULL;
    struct pool *p;
    struct inst *in;
    int i;

    if (!rt)
        return;
    pthread_mutex_lock(&rt->mu);
    for (p = rt->pools; p; p = p->next)
        for (in = p->insts; in; in = in->next)
            if (in->pid > 0) {
                in->killed = true;
                kill(-in->pid, SIGKILL);
            }
    pthread_mutex_unlock(&rt->mu);
    /* let the reaper collect and report them */
    for (i = 0; i < 100; i++) {
        bool any = false;
        pthread_mutex_lock(&rt->mu);
        for (p = rt->pools; p; p = p->next)
            any |= p->insts != NULL;
        pthread_mutex_unlock(&rt->mu);
        if (!any)
            break;
        usleep(20000);
    }
    pthread_mutex_lock(&rt->mu);
    rt->stop = true;
    pthread_mutex_unlock(&rt->mu);
    pthread_join(rt->reaper, NULL);
    while ((p = rt->pools)) {
        struct inv *v;
        rt->pools = p->next;
        while ((v = dequeue(p)))
            finish_error(NULL, v, "Runtime.Shutdown", "The region is shutting down");
        while ((in = p->insts)) {
            p->insts = in->next;
            if (in->pid > 0) {
                kill(-in->pid, SIGKILL);
                waitpid(in->pid, NULL, 0);
            }
            if (in->cur)
                finish_error(in, in->cur, "Runtime.Shutdown", "The region is shutting down");
            destroy(in);
        }
        if (rt->uid_base) {
            gid_t g;
            sweep_uid(pool_uid(rt, p, &g));
        }
        cJSON_Delete(p->doc);
        free(p->revision);
        free(p->name);
        free(p);
    }
    free(rt->tmp_root);
    free(rt->boot);
    free(rt->node);
    pthread_mutex_destroy(&rt->mu);
    free(rt);
    f->rt = NULL;
}
