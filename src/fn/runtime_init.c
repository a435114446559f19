/* runtime_init.c - what an instance's forked child runs (docs/lambda.md,
 * "Instances"): `tandem __fn-init ...`, exec'd from the region's binary, so
 * that no copy of the region's memory stays mapped for the instance's life.
 *
 * With a PID namespace (a root region), three processes:
 *   shim   in the region's namespace, the region's child (the pid it waits
 *          for and signals; PR_SET_PDEATHSIG from the region's spawner);
 *   init   PID 1 of a new PID namespace, the shim's child: it reaps every
 *          process of the namespace (orphans are reparented to it) and, when
 *          the runtime ends, hands its wait status to the shim and exits:
 *          the kernel then kills whatever is left in the namespace;
 *   runtime the function's runtime (bootstrap, node, python3), PID 2, run as
 *          the function user with the instance's limits.
 * The shim ends as the runtime ended (same exit status, or the same signal),
 * so the region reports a runtime's end as before. The region dying kills
 * the shim (PDEATHSIG), which kills init (PDEATHSIG), which takes the whole
 * namespace with it: nothing an instance started outlives the region.
 *
 * Without one (not root, or namespaces not permitted: the region logs that
 * once at start), the process sets the limits and user and execs the
 * runtime itself, as the only process the region tracks. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fn.h"

extern char **environ;

/* coverage builds: execve, _exit and SIGKILL skip gcov's exit hook, so the
 * counters are written (and reset) where each process may end next (a
 * forked child writes its parent's counts again: which lines ran is what
 * matters) */
#ifdef TANDEM_GCOV_DUMP
void __gcov_dump(void);
void __gcov_reset(void); /* also lets the next __gcov_dump write again */
#define coverage_flush() (__gcov_dump(), __gcov_reset())
#else
#define coverage_flush() ((void)0)
#endif

enum { A_NS = 1, A_UID, A_GID, A_AS_MB, A_NPROC, A_REGION, A_DIR, A_EXE, A_ARGV, A_MIN };

struct init_args {
    bool ns;
    long uid, gid; /* uid < 0: keep the region's user */
    long as_mb;    /* RLIMIT_AS in MiB, 0: none */
    long nproc;    /* RLIMIT_NPROC */
    long region;   /* getpid() of the region */
    const char *dir, *exe;
    char **argv;
};

static __attribute__((noreturn)) void say_exit(const char *msg, int code)
{
    if (write(2, msg, strlen(msg)) < 0)
        _exit(code);
    _exit(code);
}

static void set_limit(int res, rlim_t v)
{
    struct rlimit l = {v, v};

    setrlimit(res, &l);
}

/* exec_runtime - the limits, the function user, the package directory, and
 * execve of the runtime. @parent: the pid getppid() must still answer after
 * the switch of user (which clears PR_SET_PDEATHSIG), 0: no check. */
static __attribute__((noreturn)) void exec_runtime(const struct init_args *a, pid_t parent)
{
    coverage_flush(); /* while root, and before RLIMIT_AS */
    if (a->as_mb)
        set_limit(RLIMIT_AS, (rlim_t)a->as_mb * 1024 * 1024);
    set_limit(RLIMIT_NPROC, (rlim_t)a->nproc);
    set_limit(RLIMIT_FSIZE, 512u * 1024 * 1024);
    if (a->uid >= 0 && (setgroups(0, NULL) || setgid((gid_t)a->gid) || setuid((uid_t)a->uid)))
        say_exit("cannot switch to the function user\n", 126);
    /* a region that died before this line is no longer the parent: end */
    if (parent && (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent))
        _exit(125);
    if (a->dir[0] && chdir(a->dir))
        _exit(127);
    execve(a->exe, a->argv, environ);
    say_exit("exec of the runtime failed\n", 126);
}

/* init_main - PID 1 of the instance's namespace: start the runtime, reap
 * everything, report the runtime's wait status on @status_fd, end. */
static __attribute__((noreturn)) void init_main(const struct init_args *a, int live_fd,
                                                int status_fd)
{
    struct pollfd p = {live_fd, POLLIN, 0};
    pid_t runtime, w;
    int st;

    /* the shim holds the write end of @live_fd: a hang-up means it is gone
     * already, and PDEATHSIG (set first) would never come */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) || poll(&p, 1, 0) != 0)
        _exit(125);
    runtime = fork();
    if (runtime < 0)
        say_exit("cannot start the runtime\n", 126);
    if (runtime == 0) {
        close(live_fd);
        close(status_fd);
        exec_runtime(a, 0); /* dies with init, which is its namespace's end */
    }
    coverage_flush(); /* init is most often killed, never reaching its end */
    for (;;) {
        w = wait(&st);
        if (w == runtime) {
            if (write(status_fd, &st, sizeof(st)) != (ssize_t)sizeof(st))
                _exit(124);
            coverage_flush();
            _exit(0); /* the kernel kills the rest of the namespace */
        }
        if (w < 0 && errno != EINTR)
            _exit(124);
    }
}

/* shim_main - wait for init and end as the runtime did. */
static __attribute__((noreturn)) void shim_main(pid_t init, int status_fd)
{
    int st = 0, rst;
    ssize_t got;

    coverage_flush(); /* the shim is most often killed, never reaching its end */
    while (waitpid(init, &st, 0) < 0 && errno == EINTR)
        ;
    do
        got = read(status_fd, &rst, sizeof(rst));
    while (got < 0 && errno == EINTR);
    if (got == (ssize_t)sizeof(rst))
        st = rst;
    if (WIFSIGNALED(st)) {
        sigset_t all;
        int sig = WTERMSIG(st);

        signal(sig, SIG_DFL);
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        coverage_flush();
        raise(sig);
        _exit(128 + sig);
    }
    coverage_flush();
    _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 124);
}

int fn_init_main(int argc, char **argv)
{
    struct init_args a;
    int live[2], status[2];
    pid_t init;

    if (argc < A_MIN)
        say_exit("usage: tandem " FN_INIT_COMMAND " NS UID GID AS_MB NPROC REGION DIR EXE ARGV...\n"
                 "(run by a region for each function instance)\n",
                 2);
    a.ns = strcmp(argv[A_NS], "1") == 0;
    a.uid = strtol(argv[A_UID], NULL, 10);
    a.gid = strtol(argv[A_GID], NULL, 10);
    a.as_mb = strtol(argv[A_AS_MB], NULL, 10);
    a.nproc = strtol(argv[A_NPROC], NULL, 10);
    a.region = strtol(argv[A_REGION], NULL, 10);
    a.dir = argv[A_DIR];
    a.exe = argv[A_EXE];
    a.argv = argv + A_ARGV;
    set_limit(RLIMIT_CORE, 0);
    if (!a.ns || unshare(CLONE_NEWPID))
        exec_runtime(&a, (pid_t)a.region);
    if (pipe2(live, O_CLOEXEC) || pipe2(status, O_CLOEXEC))
        say_exit("cannot start the instance\n", 126);
    init = fork();
    if (init < 0)
        say_exit("cannot start the instance's namespace\n", 126);
    if (init == 0) {
        close(live[1]);
        close(status[0]);
        init_main(&a, live[0], status[1]);
    }
    close(live[0]);
    close(status[1]);
    shim_main(init, status[0]);
}
