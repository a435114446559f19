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
 * group, killed as a group, and (a root region) its own PID namespace, which
 * dies with it (runtime_init.c). Memory: the reaper sums the resident memory
 * of each instance's namespace, or process group (/proc/PID/stat), every
 * 100 ms and kills it past MemorySize (Runtime.OutOfMemory, "signal:
 * killed"); Node.js also gets --max-old-space-size=MemorySize, as Lambda
 * does. No RLIMIT_AS for Node.js (V8 and WebAssembly reserve far more address space than they use:
 * fetch fails under one); provided runtimes keep RLIMIT_AS = MemorySize +
 * 1 GiB as a backstop. A root region runs instances as an unprivileged user
 * (--fn-user, or one uid per function from --fn-uid-base): setgroups, setgid,
 * setuid in the child; the package, logs and store files are laid out so that
 * user reaches its package and private TMPDIR only. RLIMIT_NPROC 256 per uid,
 * RLIMIT_FSIZE 512 MiB, no core files. Logs go
 * through a pipe to DATA/functions/NAME/log (rotated to log.1 past 16 MiB),
 * so endless output only fills the pipe and then the timeout stops it.
 *
 * This file holds the pools, scaling, the reaper and the contract in fn_int.h;
 * the Runtime API and the logs are in runtime_api.c, an instance's process
 * (its user, files, environment, start and end) in runtime_proc.c, and what
 * they share in runtime_int.h. */
#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "codec.h"
#include "log.h"
#include "mem.h"
#include "runtime_int.h"
#include "worker.h"

extern const char fn_node_bootstrap_js[];
extern const char fn_python_bootstrap_py[];

#define MAX_AGE_US      (6LL * 3600 * 1000000) /* recycle before the keys expire */
#define INIT_TIMEOUT_US (10LL * 1000000)

void fnrt_rand_hex(char *out, size_t nbytes)
{
    unsigned char b[32];

    if (getrandom(b, nbytes, 0) != (ssize_t)nbytes)
        abort();
    hex_encode(b, nbytes, out);
}

static void new_request_id(char *out)
{
    char h[33];

    fnrt_rand_hex(h, 16);
    snprintf(out, 40, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
}

int fnrt_doc_int(const cJSON *doc, const char *k, int dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, k);
    return cJSON_IsNumber(v) ? v->valueint : dflt;
}

char *fn_log_path(struct fn *f, const char *name)
{
    size_t n = strlen(f->fn_dir) + strlen(name) + 8;
    char *p = xmalloc(n);

    snprintf(p, n, "%s/%s/log", f->fn_dir, name);
    return p;
}

/* ---- pools and scaling ---- */

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

/* in_flight - the invocations of function @name running or queued, in
 * every version's pool (mutex held). */
static unsigned in_flight(const struct fn_rt *rt, const char *name)
{
    const struct pool *p;
    const struct inst *in;
    unsigned n = 0;

    for (p = rt->pools; p; p = p->next) {
        if (strcmp(p->name, name) != 0)
            continue;
        n += queue_len(p);
        for (in = p->insts; in; in = in->next)
            if (in->cur)
                n++;
    }
    return n;
}

/* scale - start instances for queued work (mutex held). */
static void scale(struct fn_rt *rt, struct pool *p)
{
    unsigned starting, live = count_live(p, &starting), q = queue_len(p);

    while (q > starting && live < rt->max) {
        if (!fnrt_spawn(rt, p))
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

/* exit_text - how Lambda words a runtime's end: "with error: exit status 2",
 * "with error: signal: segmentation fault", "without providing a reason" (0). */
static void exit_text(int status, char *out, size_t cap)
{
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        snprintf(out, cap, "without providing a reason");
    else if (WIFEXITED(status))
        snprintf(out, cap, "with error: exit status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status)) {
        const size_t at = sizeof("with error: signal: ") - 1;
        snprintf(out, cap, "with error: signal: %s", strsignal(WTERMSIG(status)));
        if (at < cap && out[at] >= 'A' && out[at] <= 'Z')
            out[at] = (char)(out[at] - 'A' + 'a'); /* "killed", as Lambda (Go) words it */
    } else
        snprintf(out, cap, "with error: unknown");
}

/* ---- the memory watchdog ---- */

struct watched {
    pid_t pgid;
    ino_t ns; /* the instance's PID namespace, 0: none (yet) */
    long limit_kb;
    long rss_kb;
};

/* ns_ino - the inode of /proc/@pid/@which (a namespace link), 0 if none. */
static ino_t ns_ino(const char *pid, const char *which)
{
    char path[96];
    struct stat st;

    snprintf(path, sizeof(path), "/proc/%.20s/ns/%s", pid, which);
    return stat(path, &st) ? 0 : st.st_ino;
}

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
 * the watched instance it belongs to: its PID namespace but for the
 * namespace's init (whose parent is the instance's shim, runtime_init.c),
 * or, for an instance without one, its process group (/proc/PID/stat field 5). */
static void group_rss(struct watched *w, size_t n)
{
    long page_kb = sysconf(_SC_PAGESIZE) / 1024;
    DIR *d = opendir("/proc");
    struct dirent *de;
    bool any_ns = false;
    size_t i;

    if (!d)
        return;
    for (i = 0; i < n; i++)
        any_ns |= w[i].ns != 0;
    while ((de = readdir(d))) {
        char path[64], buf[1024], *p;
        long pgrp = 0, ppid = 0, anon;
        ino_t ns;
        ssize_t got;
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
            if (field == 4)
                ppid = strtol(p, NULL, 10);
            if (field == 5)
                pgrp = strtol(p, NULL, 10);
            while (*p && *p != ' ')
                p++;
        }
        ns = any_ns ? ns_ino(de->d_name, "pid") : 0;
        for (i = 0; i < n; i++) {
            if (w[i].ns ? w[i].ns != ns || w[i].pgid == (pid_t)ppid : w[i].pgid != (pid_t)pgrp)
                continue;
            anon = statm_anon_pages(de->d_name);
            if (anon > 0)
                w[i].rss_kb += anon * page_kb;
            break;
        }
    }
    closedir(d);
}

/* watchdog - kill instances whose processes hold more resident memory than
 * their function's MemorySize. The /proc walk runs without the mutex. */
static void watchdog(struct fn_rt *rt)
{
    struct watched *w = NULL;
    size_t n = 0, cap = 0, i;
    struct pool *p;
    struct inst *in;
    ino_t region_ns = 0;

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
            w[n].ns = in->ns; /* nonzero: look it up below */
            w[n].limit_kb = (long)fnrt_doc_int(p->doc, "MemorySize", 128) * 1024;
            w[n].rss_kb = 0;
            n++;
        }
    pthread_mutex_unlock(&rt->mu);
    if (!n)
        return;
    for (i = 0; i < n; i++) {
        char pid[24];
        if (!w[i].ns)
            continue;
        if (!region_ns)
            region_ns = ns_ino("self", "pid");
        snprintf(pid, sizeof(pid), "%d", (int)w[i].pgid);
        w[i].ns = ns_ino(pid, "pid_for_children");
        if (w[i].ns == region_ns) /* not made (yet): its process group, as without */
            w[i].ns = 0;
    }
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

/* slot_of - the uid slot of NAME's other pools (versions share their function's uid). */
static unsigned slot_of(struct fn_rt *rt, const char *name)
{
    struct pool *p;

    for (p = rt->pools; p; p = p->next)
        if (strcmp(p->name, name) == 0)
            return p->slot;
    return rt->next_slot++;
}

/* slot_idle - whether no pool of @p's uid slot has an instance left. */
static bool slot_idle(const struct fn_rt *rt, const struct pool *p)
{
    const struct pool *q;

    for (q = rt->pools; q; q = q->next)
        if (q->slot == p->slot && q->insts)
            return false;
    return true;
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
                    struct inv *v = in->cur ? in->cur : (!in->initialized ? fnrt_dequeue(p) : NULL);
                    in->cur = NULL;
                    if (v) {
                        snprintf(msg, sizeof(msg), "RequestId: %s Error: Runtime exited %s", v->id,
                                 why);
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
        if (rt->uid_base && !p->insts && !p->swept && slot_idle(rt, p)) {
            gid_t g;
            fnrt_sweep_uid(fnrt_pool_uid(rt, p, &g));
            p->swept = true;
        }
        scale(rt, p);
    }
    pthread_mutex_unlock(&rt->mu);
    while (failed) {
        x = failed;
        failed = x->next;
        if (x->type[0])
            fnrt_finish_error(x->in, x->inv, x->type, x->msg);
        else {
            cJSON *o = cJSON_CreateObject();
            char *body;
            cJSON_AddStringToObject(o, "errorMessage", x->msg);
            body = cJSON_PrintUnformatted(o);
            cJSON_Delete(o);
            fnrt_log_printf(x->in, "%s\n", x->msg);
            fnrt_finish(x->in, x->inv, 1, body, strlen(body));
            free(body);
        }
        free(x);
    }
    while (dead) {
        in = dead;
        dead = in->next;
        fnrt_destroy(in);
    }
}

static void reaper_main(struct worker *w, void *arg)
{
    struct fn_rt *rt = arg;

    for (int64_t wait = 0; worker_wait(w, wait); wait = 50) {
        if (rt->ticks++ % 2 == 0)
            watchdog(rt);
        tick(rt);
    }
}

/* ---- the contract in fn_int.h ---- */

/* reachable - whether the function user may run @exe: it and every directory
 * above it open to "other" (a root region's functions run as another user,
 * so an interpreter under /root, as pyenv's, is no use to them). */
static bool reachable(const char *exe)
{
    char real[4096], *slash;
    struct stat st;

    if (!realpath(exe, real))
        return false;
    if (stat(real, &st) || !(st.st_mode & S_IXOTH))
        return false;
    while ((slash = strrchr(real, '/')) && slash != real) {
        *slash = '\0';
        if (stat(real, &st) || !(st.st_mode & S_IXOTH))
            return false;
    }
    return true;
}

/* find_exe - the first executable @name on the region's PATH that the
 * function user may run (owned), or NULL. */
static char *find_exe(const char *name, bool drop)
{
    const char *path = getenv("PATH");
    char *copy, *dir, *save = NULL, *found = NULL;
    char buf[4096];

    copy = xstrdup(path ? path : "/usr/local/bin:/usr/bin:/bin");
    for (dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
        snprintf(buf, sizeof(buf), "%s/%s", dir, name);
        if (access(buf, X_OK) == 0 && (!drop || reachable(buf))) {
            found = xstrdup(buf);
            break;
        }
    }
    free(copy);
    return found;
}

static const struct {
    const char *prefix; /* of the Runtime values */
    const char *exe;    /* the interpreter looked for on PATH */
    const char *boot;   /* the bootstrap's name under DATA/functions */
    const char *text;   /* and its text, embedded at build time */
} langs[FNRT_LANGS] = {
    [FNRT_NODE] = {"nodejs", "node", ".node-bootstrap.js", fn_node_bootstrap_js},
    [FNRT_PYTHON] = {"python", "python3", ".python-bootstrap.py", fn_python_bootstrap_py},
};

int fnrt_lang_of(const char *runtime)
{
    int i;

    for (i = 0; runtime && i < FNRT_LANGS; i++)
        if (strncmp(runtime, langs[i].prefix, strlen(langs[i].prefix)) == 0)
            return i;
    return -1;
}

bool fn_runtime_known(const char *runtime)
{
    const char *p = &FN_RUNTIMES[1];
    size_t n = runtime ? strlen(runtime) : 0;

    while (n && (p = strstr(p, runtime))) {
        if ((p[-1] == '[' || p[-1] == ' ') && (p[n] == ',' || p[n] == ']'))
            return true;
        p += n;
    }
    return false;
}

bool fn_rt_runtime_ready(const struct fn *f, const char *runtime)
{
    int lang = fnrt_lang_of(runtime);

    return lang < 0 || !f->rt || f->rt->interp[lang].exe;
}

/* write_boot - the bootstrap of @lang to DATA/functions (0644: the function
 * user runs it). */
static enum err_code write_boot(struct fn_rt *rt, int lang, struct err *e)
{
    size_t n = strlen(rt->f->fn_dir) + strlen(langs[lang].boot) + 2;
    char *path = xmalloc(n);
    FILE *out;
    bool ok;

    snprintf(path, n, "%s/%s", rt->f->fn_dir, langs[lang].boot);
    rt->interp[lang].boot = path;
    rt->interp[lang].exe = find_exe(langs[lang].exe, rt->drop);
    if (!rt->interp[lang].exe)
        log_warn("event=fn_no_interpreter exe=%s msg=\"%s* functions cannot run: no %s on "
                 "PATH%s\"",
                 langs[lang].exe, langs[lang].prefix, langs[lang].exe,
                 rt->drop ? " that the function user may run" : "");
    out = fopen(path, "w");
    if (!out)
        return err_set(e, ERR_IO, "cannot write %s", path);
    ok = fputs(langs[lang].text, out) >= 0;
    ok = fchmod(fileno(out), 0644) == 0 && ok;
    ok = fclose(out) == 0 && ok;
    return ok ? ERR_OK : err_set(e, ERR_IO, "cannot write %s", path);
}

static void free_interps(struct fn_rt *rt)
{
    int i;

    for (i = 0; i < FNRT_LANGS; i++) {
        free(rt->interp[i].exe);
        free(rt->interp[i].boot);
    }
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
    int i;

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
    fnrt_rm_tree(rt->tmp_root); /* what instances of an earlier run left */
    mkdir(rt->tmp_root, rt->drop ? 0711 : 0700);
    if (rt->drop)
        fnrt_lock_down(rt);
    rt->pidns = fnrt_pidns_probe();
    for (i = 0; i < FNRT_LANGS && rc == ERR_OK; i++)
        rc = write_boot(rt, i, e);
    if (rc == ERR_OK && !(rt->spawner = fnrt_spawner_start()))
        rc = err_set(e, ERR_IO, "cannot start the function spawner");
    if (rc == ERR_OK && !(rt->reaper = worker_start(reaper_main, rt)))
        rc = err_set(e, ERR_IO, "cannot start the function reaper");
    if (rc) {
        fnrt_spawner_stop(rt->spawner);
        free_interps(rt);
        pthread_mutex_destroy(&rt->mu);
        free(rt->tmp_root);
        free(rt);
        return rc;
    }
    f->rt = rt;
    return ERR_OK;
}

static struct pool *pool_for(struct fn_rt *rt, const cJSON *doc)
{
    const char *name = json_str(doc, "FunctionName"), *rev = json_str(doc, "RevisionId");
    const char *ver = json_str(doc, "Version");
    struct pool *p;
    struct inst *in;

    if (!ver)
        ver = "$LATEST";
    for (p = rt->pools; p; p = p->next)
        if (strcmp(p->name, name) == 0 && strcmp(p->version, ver) == 0)
            break;
    if (!p) {
        p = xcalloc(1, sizeof(*p));
        p->name = xstrdup(name);
        p->version = xstrdup(ver);
        p->slot = slot_of(rt, name);
        p->swept = true;
        if (rt->uid_base && slot_idle(rt, p)) {
            /* what an earlier run of the region left under this uid (the
             * children of an instance, which do not die with the region) */
            gid_t g;
            fnrt_sweep_uid(fnrt_pool_uid(rt, p, &g));
        }
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

static void invoke(struct fn *f, const cJSON *doc, const void *payload, size_t len,
                   const char *client_ctx, const char *request_id, fn_inv_done_fn *done, void *ud);

void fn_rt_invoke(struct fn *f, const cJSON *doc, const void *payload, size_t len,
                  fn_inv_done_fn *done, void *ud)
{
    invoke(f, doc, payload, len, NULL, NULL, done, ud);
}

void fn_rt_invoke_ctx(struct fn *f, const cJSON *doc, const void *payload, size_t len,
                      const char *client_ctx, fn_inv_done_fn *done, void *ud)
{
    invoke(f, doc, payload, len, client_ctx, NULL, done, ud);
}

void fn_rt_invoke_as(struct fn *f, const cJSON *doc, const void *payload, size_t len,
                     const char *request_id, fn_inv_done_fn *done, void *ud)
{
    invoke(f, doc, payload, len, NULL, request_id, done, ud);
}

static void invoke(struct fn *f, const cJSON *doc, const void *payload, size_t len,
                   const char *client_ctx, const char *request_id, fn_inv_done_fn *done, void *ud)
{
    struct fn_rt *rt = f->rt;
    struct inv *inv;
    struct pool *p;
    struct inst *in;
    const char *name = json_str(doc, "FunctionName");
    int reserved = name ? fn_reg_reserved(f, name) : -1;

    inv = xcalloc(1, sizeof(*inv));
    /* an id the runtime API can carry in a header as it is: hex digits and dashes */
    if (request_id && *request_id && strlen(request_id) < sizeof(inv->id) &&
        strspn(request_id, "0123456789abcdefABCDEF-") == strlen(request_id))
        memcpy(inv->id, request_id, strlen(request_id) + 1);
    else
        new_request_id(inv->id);
    inv->payload = xmemdup(payload ? payload : "", len ? len : 1);
    inv->len = len;
    inv->client_ctx = client_ctx ? xstrdup(client_ctx) : NULL;
    inv->timeout_s = fnrt_doc_int(doc, "Timeout", 3);
    snprintf(inv->arn, sizeof(inv->arn), "%s",
             json_str(doc, "FunctionArn") ? json_str(doc, "FunctionArn") : "");
    inv->done = done;
    inv->ud = ud;
    inv->start_us = clock_mono_us();
    pthread_mutex_lock(&rt->mu);
    if (reserved >= 0 && in_flight(rt, name) >= (unsigned)reserved) {
        /* Lambda throttles what its reserved concurrency has no room for */
        static const char why[] = "{\"errorType\":\"TooManyRequestsException\",\"errorMessage\":"
                                  "\"Rate Exceeded.\"}";
        struct fn_result res = {.error = 1, .body = why, .len = sizeof(why) - 1, .throttled = true};
        pthread_mutex_unlock(&rt->mu);
        free(inv->payload);
        free(inv->client_ctx);
        free(inv);
        done(ud, &res);
        return;
    }
    p = pool_for(rt, doc);
    for (in = p->insts; in; in = in->next)
        if (in->parked && !in->cur && !in->stale && !in->killed)
            break;
    if (in) {
        fnrt_give(in, inv, in->parked);
    } else {
        if (p->q_tail)
            p->q_tail->next = inv;
        else
            p->q_head = inv;
        p->q_tail = inv;
        scale(rt, p);
        if (!count_live(p, &(unsigned){0})) { /* could not start one */
            struct inv *v = fnrt_dequeue(p);
            pthread_mutex_unlock(&rt->mu);
            while (v) {
                fnrt_finish_error(NULL, v, "Runtime.Unavailable",
                                  "The function's runtime could not be started");
                pthread_mutex_lock(&rt->mu);
                v = fnrt_dequeue(p);
                pthread_mutex_unlock(&rt->mu);
            }
            return;
        }
    }
    pthread_mutex_unlock(&rt->mu);
}

void fn_rt_forget(struct fn *f, const char *name, const char *version)
{
    struct fn_rt *rt = f->rt;
    struct pool *p;
    struct inst *in;

    pthread_mutex_lock(&rt->mu);
    for (p = rt->pools; p; p = p->next) {
        if (strcmp(p->name, name) != 0 || (version && strcmp(p->version, version) != 0))
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

bool fn_rt_dir_in_use(struct fn *f, const char *dir)
{
    struct fn_rt *rt = f->rt;
    const struct pool *p;
    const struct inst *in;
    bool used = false;

    pthread_mutex_lock(&rt->mu);
    for (p = rt->pools; p && !used; p = p->next)
        for (in = p->insts; in && !used; in = in->next)
            used = strcmp(in->dir, dir) == 0; /* until reaped and unlinked */
    pthread_mutex_unlock(&rt->mu);
    return used;
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
    worker_stop(rt->reaper);
    while ((p = rt->pools)) {
        struct inv *v;
        rt->pools = p->next;
        while ((v = fnrt_dequeue(p)))
            fnrt_finish_error(NULL, v, "Runtime.Shutdown", "The region is shutting down");
        while ((in = p->insts)) {
            p->insts = in->next;
            if (in->pid > 0) {
                kill(-in->pid, SIGKILL);
                waitpid(in->pid, NULL, 0);
            }
            if (in->cur)
                fnrt_finish_error(in, in->cur, "Runtime.Shutdown", "The region is shutting down");
            fnrt_destroy(in);
        }
        if (rt->uid_base) {
            gid_t g;
            fnrt_sweep_uid(fnrt_pool_uid(rt, p, &g));
        }
        cJSON_Delete(p->doc);
        free(p->revision);
        free(p->name);
        free(p->version);
        free(p);
    }
    fnrt_spawner_stop(rt->spawner); /* every instance is gone: none dies with its thread */
    free(rt->tmp_root);
    free_interps(rt);
    pthread_mutex_destroy(&rt->mu);
    free(rt);
    f->rt = NULL;
}
