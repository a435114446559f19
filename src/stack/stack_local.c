/* stack_local.c - start, find and stop the stack's local region servers. */
#include "stack_local.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "codec.h"
#include "mem.h"

struct stack_local {
    char *dir; /* <state>/stacks/<stack>/regions */
    char *exe;
    char access[64];
    char secret[96];
    struct awsc_creds creds;
};

static enum err_code mkdirs(const char *path, struct err *e)
{
    char *p = xstrdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = 0;
        if (mkdir(p, 0700) != 0 && errno != EEXIST) {
            enum err_code rc = err_set(e, ERR_IO, "mkdir %s: %s", p, strerror(errno));
            free(p);
            return rc;
        }
        *s = '/';
    }
    if (mkdir(p, 0700) != 0 && errno != EEXIST) {
        enum err_code rc = err_set(e, ERR_IO, "mkdir %s: %s", p, strerror(errno));
        free(p);
        return rc;
    }
    free(p);
    return ERR_OK;
}

static char *read_small(const char *path)
{
    FILE *f = fopen(path, "rb");
    char buf[8192];
    size_t n;
    if (!f)
        return NULL;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    return xstrdup(buf);
}

static enum err_code write_small(const char *path, const char *text, mode_t mode, struct err *e)
{
    char tmp[4200];
    int fd;
    size_t len = strlen(text);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return err_set(e, ERR_IO, "%s: %s", tmp, strerror(errno));
    if (write(fd, text, len) != (ssize_t)len || fsync(fd) != 0) {
        close(fd);
        return err_set(e, ERR_IO, "%s: %s", tmp, strerror(errno));
    }
    close(fd);
    if (rename(tmp, path) != 0)
        return err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
    return ERR_OK;
}

static void random_text(char *out, size_t n, const char *alphabet)
{
    unsigned char rnd[64];
    size_t al = strlen(alphabet);
    FILE *f = fopen("/dev/urandom", "rb");
    if (!f || fread(rnd, 1, n, f) != n)
        for (size_t i = 0; i < n; i++)
            rnd[i] = (unsigned char)(rand() & 0xff);
    if (f)
        fclose(f);
    for (size_t i = 0; i < n; i++)
        out[i] = alphabet[rnd[i] % al];
    out[n] = 0;
}

static enum err_code load_creds(struct stack_local *l, const char *state_dir, struct err *e)
{
    char path[4096];
    char *text;
    cJSON *j;
    enum err_code rc;

    snprintf(path, sizeof(path), "%s/credentials.json", state_dir);
    text = read_small(path);
    if (!text) {
        const char *ak = getenv("AWS_ACCESS_KEY_ID"), *sk = getenv("AWS_SECRET_ACCESS_KEY");
        char body[512];
        if (ak && sk && *ak && *sk && strlen(ak) < sizeof(l->access) &&
            strlen(sk) < sizeof(l->secret)) {
            snprintf(l->access, sizeof(l->access), "%s", ak);
            snprintf(l->secret, sizeof(l->secret), "%s", sk);
        } else {
            memcpy(l->access, "AKIA", 4);
            random_text(l->access + 4, 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
            random_text(l->secret, 40,
                        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
        }
        snprintf(body, sizeof(body), "{\"accessKeyId\": \"%s\", \"secretAccessKey\": \"%s\"}\n",
                 l->access, l->secret);
        return write_small(path, body, 0600, e);
    }
    j = cJSON_Parse(text);
    free(text);
    if (!j || !cJSON_IsString(cJSON_GetObjectItem(j, "accessKeyId")) ||
        !cJSON_IsString(cJSON_GetObjectItem(j, "secretAccessKey"))) {
        cJSON_Delete(j);
        return err_set(e, ERR_INVALID, "%s: expected accessKeyId and secretAccessKey", path);
    }
    snprintf(l->access, sizeof(l->access), "%s",
             cJSON_GetObjectItem(j, "accessKeyId")->valuestring);
    snprintf(l->secret, sizeof(l->secret), "%s",
             cJSON_GetObjectItem(j, "secretAccessKey")->valuestring);
    cJSON_Delete(j);
    rc = ERR_OK;
    return rc;
}

enum err_code stack_local_open(const char *state_dir, const char *stack, const char *exe,
                               struct stack_local **out, struct err *e)
{
    struct stack_local *l = xcalloc(1, sizeof(*l));
    char path[4096];
    enum err_code rc;

    *out = NULL;
    snprintf(path, sizeof(path), "%s/stacks/%s/regions", state_dir, stack);
    l->dir = xstrdup(path);
    if (!exe)
        exe = getenv("TANDEM_BIN");
    if (!exe) {
        /* the real path: /proc/self/exe would name the shell in popen() */
        ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
        path[n > 0 ? n : 0] = 0;
        exe = n > 0 ? path : "/proc/self/exe";
    }
    l->exe = xstrdup(exe);
    snprintf(path, sizeof(path), "%s/stacks/%s/regions", state_dir, stack);
    if ((rc = mkdirs(state_dir, e)) || (rc = load_creds(l, state_dir, e))) {
        stack_local_free(l);
        return rc;
    }
    l->creds.access_key = l->access;
    l->creds.secret = l->secret;
    *out = l;
    return ERR_OK;
}

void stack_local_free(struct stack_local *l)
{
    if (!l)
        return;
    free(l->dir);
    free(l->exe);
    free(l);
}

const struct awsc_creds *stack_local_creds(const struct stack_local *l)
{
    return &l->creds;
}

static bool port_answers(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool ok;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

/* A free port: @want if it can be bound, else one the kernel picks. */
static int free_port(int want)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)want)};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1, one = 1;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        a.sin_port = 0;
        if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
            close(fd);
            return -1;
        }
    }
    if (getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static int read_int(const char *dir, const char *name)
{
    char path[4200], *t;
    int v;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    t = read_small(path);
    v = t ? atoi(t) : 0;
    free(t);
    return v;
}

/* alive - @pid runs (a zombie nobody reaped, as under a container's init, does not). */
static bool alive(int pid)
{
    char path[64], buf[256];
    FILE *f;
    char *p;
    bool z = false;

    if (kill(pid, 0) != 0)
        return false;
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    f = fopen(path, "r");
    if (!f)
        return false;
    if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')))
        z = p[1] == ' ' && p[2] == 'Z';
    fclose(f);
    return !z;
}

/* The region's server pid if it is alive and answers on its port, else 0. */
static int running(const char *rdir, int *port)
{
    int pid = read_int(rdir, "pid");
    *port = read_int(rdir, "port");
    if (pid <= 0 || *port <= 0)
        return 0;
    waitpid(pid, NULL, WNOHANG);
    if (!alive(pid))
        return 0;
    return port_answers(*port) ? pid : 0;
}

static bool supports_peers(const char *exe)
{
    char cmd[4200], line[512];
    bool yes = false;
    FILE *p;
    snprintf(cmd, sizeof(cmd), "'%s' server --help 2>&1", exe);
    p = popen(cmd, "r");
    if (!p)
        return false;
    while (fgets(line, sizeof(line), p))
        yes = yes || strstr(line, "--peer") != NULL;
    pclose(p);
    return yes;
}

static void last_log_line(const char *rdir, char *out, size_t cap)
{
    char path[4200], *t, *nl;
    snprintf(path, sizeof(path), "%s/server.log", rdir);
    t = read_small(path);
    out[0] = 0;
    if (!t)
        return;
    while ((nl = strrchr(t, '\n')) && nl[1] == 0)
        *nl = 0;
    nl = strrchr(t, '\n');
    snprintf(out, cap, "%s", nl ? nl + 1 : t);
    free(t);
}

static enum err_code spawn(struct stack_local *l, const char *region, int port,
                           char *const *regions, const int *ports, size_t n, bool peers,
                           struct err *e)
{
    char rdir[4096], data[4200], logp[4200], listen[64], pidtxt[32], porttxt[32];
    char *argv[64];
    char peerbuf[16][300];
    size_t argc = 0;
    pid_t pid;
    enum err_code rc;

    snprintf(rdir, sizeof(rdir), "%s/%s", l->dir, region);
    snprintf(data, sizeof(data), "%s/data", rdir);
    snprintf(logp, sizeof(logp), "%s/server.log", rdir);
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
    if ((rc = mkdirs(data, e)))
        return rc;
    argv[argc++] = "tandem";
    argv[argc++] = "server";
    argv[argc++] = "--region";
    argv[argc++] = (char *)region;
    argv[argc++] = "--data";
    argv[argc++] = data;
    argv[argc++] = "--listen";
    argv[argc++] = listen;
    for (size_t i = 0; peers && i < n && i < 16; i++) {
        if (!strcmp(regions[i], region))
            continue;
        snprintf(peerbuf[i], sizeof(peerbuf[i]), "%s=http://127.0.0.1:%d", regions[i], ports[i]);
        argv[argc++] = "--peer";
        argv[argc++] = peerbuf[i];
    }
    argv[argc] = NULL;
    pid = fork();
    if (pid < 0)
        return err_set(e, ERR_IO, "fork: %s", strerror(errno));
    if (pid == 0) {
        int fd = open(logp, O_WRONLY | O_CREAT | O_APPEND, 0600);
        int nul = open("/dev/null", O_RDONLY);
        setsid();
        if (nul >= 0)
            dup2(nul, 0);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        setenv("TANDEM_ACCESS_KEY_ID", l->access, 1);
        setenv("TANDEM_SECRET_ACCESS_KEY", l->secret, 1);
        execv(l->exe, argv);
        dprintf(2, "exec %s: %s\n", l->exe, strerror(errno));
        _exit(127);
    }
    snprintf(pidtxt, sizeof(pidtxt), "%d\n", (int)pid);
    snprintf(porttxt, sizeof(porttxt), "%d\n", port);
    snprintf(logp, sizeof(logp), "%s/pid", rdir);
    if ((rc = write_small(logp, pidtxt, 0600, e)))
        return rc;
    snprintf(logp, sizeof(logp), "%s/port", rdir);
    return write_small(logp, porttxt, 0600, e);
}

enum err_code stack_local_start(struct stack_local *l, char *const *regions, size_t n,
                                struct err *e)
{
    int *ports = xcalloc(n + 1, sizeof(int));
    bool *start = xcalloc(n + 1, sizeof(bool));
    bool peers = false, any = false;
    enum err_code rc = ERR_OK;

    for (size_t i = 0; i < n; i++) {
        char rdir[4096];
        snprintf(rdir, sizeof(rdir), "%s/%s", l->dir, regions[i]);
        if (!running(rdir, &ports[i])) {
            ports[i] = free_port(ports[i]);
            start[i] = any = true;
            if (ports[i] <= 0) {
                rc = err_set(e, ERR_IO, "no free port for region %s", regions[i]);
                goto out;
            }
        }
    }
    if (any)
        peers = supports_peers(l->exe);
    for (size_t i = 0; i < n; i++)
        if (start[i] && (rc = spawn(l, regions[i], ports[i], regions, ports, n, peers, e)))
            goto out;
    for (size_t i = 0; i < n; i++) {
        char rdir[4096];
        int port, tries;
        snprintf(rdir, sizeof(rdir), "%s/%s", l->dir, regions[i]);
        for (tries = 0; start[i] && tries < 200; tries++) {
            int pid = read_int(rdir, "pid");
            if (port_answers(ports[i]))
                break;
            if (pid > 0 && waitpid(pid, NULL, WNOHANG) == pid)
                tries = 200; /* exited */
            else
                usleep(50000);
        }
        if (start[i] && !running(rdir, &port)) {
            char last[200];
            last_log_line(rdir, last, sizeof(last));
            rc = err_set(e, ERR_IO, "local region %s did not start (%s/server.log: %s)", regions[i],
                         rdir, last);
            goto out;
        }
    }
out:
    free(ports);
    free(start);
    return rc;
}

enum err_code stack_local_url(struct stack_local *l, const char *region, char *url, size_t cap,
                              struct err *e)
{
    char rdir[4096];
    int port;
    snprintf(rdir, sizeof(rdir), "%s/%s", l->dir, region);
    if (!running(rdir, &port))
        return err_set(e, ERR_NOTFOUND, "region %s is not running (tandem up starts it)", region);
    snprintf(url, cap, "http://127.0.0.1:%d", port);
    return ERR_OK;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

enum err_code stack_local_stop(struct stack_local *l, bool remove_data, struct err *e)
{
    DIR *d = opendir(l->dir);
    struct dirent *de;

    if (!d)
        return ERR_OK;
    while ((de = readdir(d))) {
        char rdir[4096];
        int pid;
        if (de->d_name[0] == '.')
            continue;
        snprintf(rdir, sizeof(rdir), "%s/%s", l->dir, de->d_name);
        pid = read_int(rdir, "pid");
        if (pid > 0 && kill(pid, SIGTERM) == 0) {
            for (int i = 0; i < 200 && alive(pid); i++) {
                if (waitpid(pid, NULL, WNOHANG) == pid)
                    break;
                usleep(25000);
            }
            if (alive(pid) && waitpid(pid, NULL, WNOHANG) != pid) {
                kill(pid, SIGKILL);
                waitpid(pid, NULL, WNOHANG);
            }
        }
        if (remove_data)
            nftw(rdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    }
    closedir(d);
    if (remove_data)
        rmdir(l->dir);
    (void)e;
    return ERR_OK;
}
