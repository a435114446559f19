/* runtime_api.c - the Runtime API one instance's process talks to (GET
 * /next, POST .../response, .../error, /init/error, served by the instance's
 * own HTTP server, fnrt_rapi_handle) and the instance's log: its output,
 * copied by a reader thread to DATA/functions/NAME/log and to the tail an
 * invocation reports, with START, END and REPORT lines as Lambda writes them.
 * See runtime.c for how invocations reach instances. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "runtime_int.h"

#define LOG_ROTATE (16u * 1024 * 1024)

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

void fnrt_log_printf(struct inst *in, const char *fmt, ...)
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

void *fnrt_reader_main(void *arg)
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
/* ---- invocations and the Runtime API ---- */

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

/* first_child - the oldest living child of @pid, or 0. */
static pid_t first_child(pid_t pid)
{
    char path[96];
    long c = 0;
    FILE *in;

    if (pid <= 0)
        return 0;
    snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid, (int)pid);
    in = fopen(path, "r");
    if (!in)
        return 0;
    if (fscanf(in, "%ld", &c) != 1)
        c = 0;
    fclose(in);
    return (pid_t)c;
}

/* runtime_pid - the pid of @in's runtime process: in a PID namespace, the
 * first child of the namespace's init, which is the shim's child. */
static pid_t runtime_pid(const struct inst *in)
{
    pid_t pid = __atomic_load_n(&in->pid, __ATOMIC_RELAXED);

    return in->ns ? first_child(first_child(pid)) : pid;
}

/* fnrt_finish - report @inv's outcome (called without the mutex) and free it. */
void fnrt_finish(struct inst *in, struct inv *inv, int error, const char *body, size_t len)
{
    struct fn_result res = {.error = error, .body = body, .len = len};
    char tail[TAIL_MAX];
    int64_t us = clock_mono_us() - inv->start_us;
    int mem = in ? fnrt_doc_int(in->pool->doc, "MemorySize", 128) : 128;

    if (in) {
        int used = peak_mb(runtime_pid(in));
        int group = (int)((__atomic_load_n(&in->peak_kb, __ATOMIC_RELAXED) + 1023) / 1024);
        if (group > used)
            used = group;
        drain(in);
        fnrt_log_printf(in, "END RequestId: %s\n", inv->id);
        fnrt_log_printf(in,
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
    free(inv->client_ctx);
    free(inv);
}

void fnrt_finish_error(struct inst *in, struct inv *inv, const char *type, const char *msg)
{
    cJSON *o = cJSON_CreateObject();
    char *body;

    if (type)
        cJSON_AddStringToObject(o, "errorType", type);
    cJSON_AddStringToObject(o, "errorMessage", msg);
    body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    fnrt_finish(in, inv, 1, body, strlen(body));
    free(body);
}

/* fnrt_give - hand @inv to @in's parked /next (mutex held). */
void fnrt_give(struct inst *in, struct inv *inv, struct http_req *r)
{
    const char *arn = inv->arn;
    char deadline[32], trace[128], h1[9], h2[25];

    in->cur = inv;
    in->parked = NULL;
    inv->start_us = clock_mono_us();
    inv->deadline_ms = clock_wall_ms() + (int64_t)(inv->timeout_s * 1000);
    snprintf(deadline, sizeof(deadline), "%lld", (long long)inv->deadline_ms);
    fnrt_rand_hex(h1, 4);
    fnrt_rand_hex(h2, 12);
    snprintf(trace, sizeof(trace), "Root=1-%s-%s;Parent=%.16s;Sampled=0", h1, h2, h2);
    {
        pthread_mutex_lock(&in->logmu);
        in->tail_len = 0;
        pthread_mutex_unlock(&in->logmu);
    }
    fnrt_log_printf(in, "START RequestId: %s Version: $LATEST\n", inv->id);
    http_resp_header(r, "Content-Type", "application/json");
    http_resp_header(r, "Lambda-Runtime-Aws-Request-Id", inv->id);
    http_resp_header(r, "Lambda-Runtime-Deadline-Ms", deadline);
    http_resp_header(r, "Lambda-Runtime-Invoked-Function-Arn", arn);
    http_resp_header(r, "Lambda-Runtime-Trace-Id", trace);
    if (inv->client_ctx)
        http_resp_header(r, "Lambda-Runtime-Client-Context", inv->client_ctx);
    http_respond(r, 200, inv->payload, inv->len);
}

struct inv *fnrt_dequeue(struct pool *p)
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

void fnrt_rapi_answer(struct http_req *r, int status, const char *body)
{
    http_resp_header(r, "Content-Type", "application/json");
    http_respond(r, status, body, strlen(body));
}

void fnrt_rapi_handle(struct http_req *r, void *ud)
{
    struct inst *in = ud;
    struct fn_rt *rt = in->rt;
    char id[64];
    enum fn_rapi_op op = fn_rapi_parse(r->method, r->path, id, sizeof(id));
    struct inv *inv = NULL;

    if (op == FN_RAPI_BAD) {
        fnrt_rapi_answer(r, 404,
                         "{\"errorMessage\":\"Unknown Runtime API request\","
                         "\"errorType\":\"InvalidRequest\"}");
        return;
    }
    pthread_mutex_lock(&rt->mu);
    if (op == FN_RAPI_NEXT) {
        in->initialized = true;
        if (in->killed || in->stale || in->parked) {
            pthread_mutex_unlock(&rt->mu);
            fnrt_rapi_answer(r, 410,
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
            struct inv *next = fnrt_dequeue(in->pool);
            if (next)
                fnrt_give(in, next, r);
            else
                in->parked = r;
        }
        pthread_mutex_unlock(&rt->mu);
        if (inv)
            fnrt_finish_error(in, inv, "Runtime.NoResponse",
                              "The runtime asked for the next event without answering this one");
        return;
    }
    if (op == FN_RAPI_INIT_ERROR) {
        inv = in->cur ? in->cur : fnrt_dequeue(in->pool);
        in->cur = NULL;
        in->killed = true;
        if (in->pid > 0)
            kill(-in->pid, SIGKILL);
        pthread_mutex_unlock(&rt->mu);
        if (inv) {
            const char *t = http_req_header(r, "lambda-runtime-function-error-type");
            cJSON *b = cJSON_ParseWithLength(r->body.ptr ? r->body.ptr : "", r->body.len);
            if (cJSON_IsObject(b)) {
                fnrt_finish(in, inv, 1, r->body.ptr, r->body.len);
            } else {
                fnrt_finish_error(in, inv, t ? t : "Runtime.InitError", "Init error");
            }
            cJSON_Delete(b);
        }
        fnrt_rapi_answer(r, 202, "{\"status\":\"OK\"}");
        return;
    }
    /* RESPONSE or ERROR: must name the current invocation. */
    if (!in->cur || strcmp(in->cur->id, id) != 0) {
        pthread_mutex_unlock(&rt->mu);
        fnrt_rapi_answer(r, 400,
                         "{\"errorMessage\":\"Invalid request ID\","
                         "\"errorType\":\"InvalidRequestID\"}");
        return;
    }
    inv = in->cur;
    in->cur = NULL;
    in->idle_since_us = clock_mono_us();
    pthread_mutex_unlock(&rt->mu);
    if (r->body_too_large) {
        fnrt_finish_error(in, inv, "Function.ResponseSizeTooLarge",
                          "Response payload size exceeded maximum allowed payload size (6291556 "
                          "bytes).");
        fnrt_rapi_answer(r, 413,
                         "{\"errorMessage\":\"Exceeded maximum allowed payload size "
                         "(6291556 bytes).\",\"errorType\":\"RequestEntityTooLarge\"}");
        return;
    }
    if (op == FN_RAPI_RESPONSE) {
        fnrt_finish(in, inv, 0, r->body.ptr ? r->body.ptr : "", r->body.len);
    } else {
        cJSON *b = cJSON_ParseWithLength(r->body.ptr ? r->body.ptr : "", r->body.len);
        if (cJSON_IsObject(b))
            fnrt_finish(in, inv, 1, r->body.ptr, r->body.len);
        else {
            const char *t = http_req_header(r, "lambda-runtime-function-error-type");
            fnrt_finish_error(in, inv, t ? t : "Unhandled", "Unhandled error");
        }
        cJSON_Delete(b);
    }
    fnrt_rapi_answer(r, 202, "{\"status\":\"OK\"}");
}
