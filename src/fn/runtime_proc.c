/* runtime_proc.c - one instance's process: who it runs as and what it may
 * reach (docs/lambda.md, "Who functions run as"), its environment and
 * execution-role keys, its limits, and starting and freeing it with its
 * Runtime API server (runtime_api.c), log pipe and private TMPDIR. The limits
 * are described at the top of runtime.c; they are set, and the user
 * switched, by `tandem __fn-init` (runtime_init.c), which the child execs. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "mem.h"
#include "runtime_int.h"
#include "worker.h"

#define RESPONSE_MAX (6u * 1024 * 1024)
#define CRED_SECONDS (12 * 3600)
#define FN_NPROC     256 /* RLIMIT_NPROC: per uid, see docs/lambda.md */

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

void fnrt_rm_tree(const char *path)
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

/* fnrt_lock_down - at start: DATA and DATA/functions traversable only, their
 * ancestors traversable, everything else private (see private_entries);
 * per function: its directory traversable only, logs and zips private,
 * package directories closed until an instance opens them to its group. */
void fnrt_lock_down(struct fn_rt *rt)
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

/* fnrt_sweep_uid - kill every process of @uid (what a per-function uid left
 * behind: children that left the instance's process group). A child takes
 * the uid and signals everything it may (kill(-1)) until nothing is left.
 * It is waited for at once and ends within about 0.4 s, so it needs neither
 * the spawner thread nor PR_SET_PDEATHSIG: should the region die meanwhile,
 * finishing the sweep is what is wanted. */
void fnrt_sweep_uid(uid_t uid)
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

bool fnrt_pidns_probe(void)
{
    pid_t pid = fork();
    int st = 0;

    if (pid == 0)
        _exit(unshare(CLONE_NEWPID) ? (errno & 0x7f) : 0);
    if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st)) {
        log_warn("event=fn_no_pid_namespace errno=%d msg=\"instances get no PID namespace: "
                 "a process a function starts may outlive a region killed hard\"",
                 pid < 0         ? errno
                 : WIFEXITED(st) ? WEXITSTATUS(st)
                                 : -1);
        return false;
    }
    log_info("event=fn_pid_namespaces msg=\"each instance runs in its own PID namespace\"");
    return true;
}

uid_t fnrt_pool_uid(const struct fn_rt *rt, const struct pool *p, gid_t *gid)
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

    fnrt_rand_hex(h, 8);
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
    const char *role = json_str(doc, "Role"), *name = json_str(doc, "FunctionName");
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
    int lang = fnrt_lang_of(json_str(doc, "Runtime"));
    struct fn *f = rt->f;
    const char *runtime = json_str(doc, "Runtime"), *name = json_str(doc, "FunctionName");
    const char *handler = json_str(doc, "Handler"), *dir = json_str(doc, "_Dir");
    const cJSON *vars = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(doc, "Environment"), "Variables");
    const cJSON *v;
    char tmp[256], day[16], stream[96], h[33];
    const char *path = getenv("PATH");
    time_t now = time(NULL);
    struct tm tm;

    gmtime_r(&now, &tm);
    strftime(day, sizeof(day), "%Y/%m/%d", &tm);
    fnrt_rand_hex(h, 16);
    snprintf(stream, sizeof(stream), "%s/[%.16s]%s", day,
             json_str(doc, "Version") ? json_str(doc, "Version") : "$LATEST", h);
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
    env_add(env, "AWS_LAMBDA_FUNCTION_VERSION",
            json_str(doc, "Version") ? json_str(doc, "Version") : "$LATEST");
    snprintf(tmp, sizeof(tmp), "%d", fnrt_doc_int(doc, "MemorySize", 128));
    env_add(env, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", tmp);
    snprintf(tmp, sizeof(tmp), "/aws/lambda/%s", name ? name : "");
    env_add(env, "AWS_LAMBDA_LOG_GROUP_NAME", tmp);
    env_add(env, "AWS_LAMBDA_LOG_STREAM_NAME", stream);
    env_add(env, "AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand");
    env_add(env, "_HANDLER", handler ? handler : "");
    env_add(env, "LAMBDA_TASK_ROOT", dir ? dir : "");
    env_add(env, "LAMBDA_RUNTIME_DIR", rt->interp[lang < 0 ? FNRT_NODE : lang].boot);
    snprintf(tmp, sizeof(tmp), "AWS_Lambda_%s", runtime ? runtime : "provided");
    env_add(env, "AWS_EXECUTION_ENV", tmp);
    snprintf(tmp, sizeof(tmp), "127.0.0.1:%d", port);
    env_add(env, "AWS_LAMBDA_RUNTIME_API", tmp);
    if (f->endpoint)
        env_add(env, "AWS_ENDPOINT_URL", f->endpoint);
    if (dir && lang == FNRT_NODE) {
        snprintf(tmp, sizeof(tmp), "%s/node_modules", dir);
        env_add(env, "NODE_PATH", tmp);
    }
    role_creds(rt, doc, env);
}

/* ---- the spawner thread ----
 *
 * Instances are started with PR_SET_PDEATHSIG = SIGKILL so they die with the
 * region when it dies hard (kill -9, a crash), not only at a clean shutdown.
 * Linux ties that signal to the THREAD that forked: a child forked from an
 * HTTP thread or a job-pool thread that later ends would be killed with that
 * thread. So every fork goes through one thread the runtime owns from
 * fn_rt_start to the end of fn_rt_stop: the caller queues a request, kicks
 * the thread and waits for the pid. The thread takes no runtime lock, so
 * callers may hold rt->mu while they wait. */

struct fork_req {
    void (*child)(const void *arg); /* runs in the child; never returns */
    const void *arg;
    pid_t pid;
    int err;
    bool done;
    struct fork_req *next;
};

struct fnrt_spawner {
    struct worker *w;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* a request was done */
    struct fork_req *queue;
};

static void spawner_main(struct worker *w, void *arg)
{
    struct fnrt_spawner *s = arg;
    struct fork_req *r;

    while (worker_wait(w, -1)) {
        pthread_mutex_lock(&s->mu);
        while ((r = s->queue)) {
            s->queue = r->next;
            pthread_mutex_unlock(&s->mu);
            r->pid = fork();
            if (r->pid == 0) {
                r->child(r->arg);
                _exit(127); /* not reached: the child execs or exits */
            }
            r->err = errno;
            pthread_mutex_lock(&s->mu);
            r->done = true;
            pthread_cond_broadcast(&s->cv);
        }
        pthread_mutex_unlock(&s->mu);
    }
}

struct fnrt_spawner *fnrt_spawner_start(void)
{
    struct fnrt_spawner *s = xcalloc(1, sizeof(*s));

    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->w = worker_start(spawner_main, s);
    if (!s->w) {
        fnrt_spawner_stop(s);
        return NULL;
    }
    return s;
}

void fnrt_spawner_stop(struct fnrt_spawner *s)
{
    if (!s)
        return;
    worker_stop(s->w); /* a fork in progress finishes first; none is queued by now */
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* spawner_fork - fork on the spawner thread; the child runs @child(@arg).
 * Returns the pid, or -1 with errno set. */
static pid_t spawner_fork(struct fnrt_spawner *s, void (*child)(const void *), const void *arg)
{
    struct fork_req r = {child, arg, -1, 0, false, NULL}, **pp;

    pthread_mutex_lock(&s->mu);
    for (pp = &s->queue; *pp; pp = &(*pp)->next)
        ;
    *pp = &r;
    worker_kick(s->w);
    while (!r.done)
        pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
    errno = r.err;
    return r.pid;
}

/* ---- an instance's process ---- */

struct child_args {
    int pipefd[2];
    pid_t region; /* getpid() of the region */
    char **argv, **envp;
};

static __attribute__((noreturn)) void child_fail(const char *msg, size_t len)
{
    if (write(2, msg, len) < 0)
        _exit(126);
    _exit(126);
}

/* instance_child - the forked child up to execve of `tandem __fn-init`
 * (runtime_init.c), which takes it from there: async-signal-safe calls only. */
static __attribute__((noreturn)) void instance_child(const void *arg)
{
    const struct child_args *a = arg;
    sigset_t all;
    int nul;

    setpgid(0, 0);
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    signal(SIGPIPE, SIG_DFL);
    dup2(a->pipefd[1], 1);
    dup2(a->pipefd[1], 2);
    nul = open("/dev/null", O_RDONLY);
    if (nul >= 0)
        dup2(nul, 0);
    close_range(3, ~0U, 0);
    /* kept across execve of the region's own binary; a region that died
     * before this line is no longer the parent: the child then ends itself */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != a->region)
        _exit(125);
    execve("/proc/self/exe", a->argv, a->envp);
    {
        static const char msg[] = "exec of the function's init failed\n";
        child_fail(msg, sizeof(msg) - 1);
    }
}

/* fnrt_spawn - start one instance of @p (mutex held). NULL on failure (logged). */
struct inst *fnrt_spawn(struct fn_rt *rt, struct pool *p)
{
    struct inst *in = xcalloc(1, sizeof(*in));
    struct http_server_opts o = {0};
    struct spawn_env env = {0};
    const char *runtime = json_str(p->doc, "Runtime"), *dir = json_str(p->doc, "_Dir");
    int mem = fnrt_doc_int(p->doc, "MemorySize", 128);
    char exe[4096], heap[64], num[5][24];
    char *iv[16] = {"tandem", FN_INIT_COMMAND}; /* `tandem __fn-init ...` (fn.h) */
    char **argv = iv + 10;                      /* then the runtime's own */
    int pipefd[2] = {-1, -1};
    int lang = fnrt_lang_of(runtime);
    struct err e = {0};
    gid_t gid = 0;
    uid_t uid = fnrt_pool_uid(rt, p, &gid);
    bool drop = rt->drop;
    struct child_args ca;
    pid_t pid;
    int i;

    in->rt = rt;
    in->pool = p;
    in->logfd = -1;
    in->log_path = fn_log_path(rt->f, p->name);
    pthread_mutex_init(&in->logmu, NULL);
    o.host = "127.0.0.1";
    o.threads = 1;
    o.max_body = RESPONSE_MAX + 100;
    o.handler = fnrt_rapi_handle;
    o.ud = in;
    if (http_server_start(&o, &in->rapi, &e))
        goto fail;
    if (pipe2(pipefd, O_CLOEXEC))
        goto fail;
    in->uid = uid;
    if (drop)
        open_package(rt, dir, gid);
    snprintf(in->dir, sizeof(in->dir), "%s", dir ? dir : "");
    in->tmp = make_tmp(rt, p->name, uid, gid);
    if (!in->tmp)
        goto fail;
    build_env(rt, p->doc, http_server_port(in->rapi), &env);
    env_add(&env, "TMPDIR", in->tmp);
    if (lang >= 0) {
        if (!rt->interp[lang].exe)
            goto fail;
        snprintf(exe, sizeof(exe), "%s", rt->interp[lang].exe);
        argv[0] = lang == FNRT_NODE ? "node" : exe; /* python finds its prefix from it */
        if (lang == FNRT_NODE) {                    /* Lambda's Node.js runtime sets the V8 heap */
            snprintf(heap, sizeof(heap), "--max-old-space-size=%d", mem);
            argv[1] = heap;
            argv[2] = rt->interp[lang].boot;
        } else { /* unbuffered output, no __pycache__ written into the package */
            argv[1] = "-u";
            argv[2] = "-B";
            argv[3] = rt->interp[lang].boot;
        }
    } else {
        snprintf(exe, sizeof(exe), "%s/bootstrap", dir ? dir : ".");
        argv[0] = exe;
    }
    snprintf(num[0], sizeof(num[0]), "%ld", drop ? (long)uid : -1L);
    snprintf(num[1], sizeof(num[1]), "%ld", (long)gid);
    snprintf(num[2], sizeof(num[2]), "%d", lang == FNRT_NODE ? 0 : mem + 1024);
    snprintf(num[3], sizeof(num[3]), "%d", FN_NPROC);
    snprintf(num[4], sizeof(num[4]), "%ld", (long)getpid());
    iv[2] = rt->pidns ? "1" : "0";
    for (i = 0; i < 5; i++)
        iv[3 + i] = num[i];
    iv[8] = (char *)(dir ? dir : "");
    iv[9] = exe;
    ca = (struct child_args){{pipefd[0], pipefd[1]}, getpid(), iv, env.v};
    pid = spawner_fork(rt->spawner, instance_child, &ca);
    if (pid < 0)
        goto fail;
    setpgid(pid, pid); /* both sides, so a kill right away still hits the group */
    close(pipefd[1]);
    env_free(&env);
    in->pid = pid;
    in->ns = rt->pidns;
    in->logfd = pipefd[0];
    in->born_us = clock_mono_us();
    if (pthread_create(&in->reader, NULL, fnrt_reader_main, in) == 0)
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
    fnrt_rm_tree(in->tmp);
    free(in->tmp);
    free(in->log_path);
    free(in);
    return NULL;
}

/* fnrt_destroy - free a reaped instance (mutex NOT held). */
void fnrt_destroy(struct inst *in)
{
    if (in->parked)
        fnrt_rapi_answer(in->parked, 410, "{\"errorType\":\"Runtime.Shutdown\"}");
    in->parked = NULL;
    http_server_stop(in->rapi);
    in->reader_stop = true;
    if (in->reader_started)
        pthread_join(in->reader, NULL);
    if (in->logfd >= 0)
        close(in->logfd);
    pthread_mutex_destroy(&in->logmu);
    fnrt_rm_tree(in->tmp);
    free(in->tmp);
    free(in->log_path);
    free(in);
}
