/* lambda_runtime.c - see lambda_runtime.h. HTTP/1.1 over one keep-alive
 * loopback connection (reopened if the Runtime API closes it). */
#define _GNU_SOURCE
#include "lambda_runtime.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

struct resp {
    int status;
    char *head; /* headers, NUL-terminated */
    char *body;
    size_t body_len;
};

static int dial(void)
{
    const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
    char host[256], *colon;
    struct addrinfo hints = {0}, *ai = NULL;
    int fd = -1;

    if (!api || strlen(api) >= sizeof(host))
        return -1;
    strcpy(host, api);
    colon = strrchr(host, ':');
    if (!colon)
        return -1;
    *colon = '\0';
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, colon + 1, &hints, &ai) != 0)
        return -1;
    fd = socket(ai->ai_family, SOCK_STREAM, 0);
    if (fd >= 0) { /* small request/answer pairs: no Nagle delay */
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int conn = -1; /* one keep-alive connection to the Runtime API */

/* exchange - one request and its answer on @conn; -1 if the connection failed. */
static int exchange(const char *method, const char *path, const char *extra, const char *body,
                    size_t len, struct resp *out)
{
    char head[1024], *buf = NULL, *sep = NULL, *cl;
    size_t cap = 0, n = 0, want = 0;
    int hl;

    hl = snprintf(head, sizeof(head),
                  "%s %s HTTP/1.1\r\nHost: runtime\r\nContent-Type: application/json\r\n"
                  "Content-Length: %zu\r\n%s\r\n",
                  method, path, len, extra ? extra : "");
    if (send_all(conn, head, (size_t)hl) || (len && send_all(conn, body, len)))
        return -1;
    for (;;) {
        ssize_t r;
        if (n + 65536 + 1 > cap) {
            char *nb;
            cap = cap ? cap * 2 : 131072;
            nb = realloc(buf, cap);
            if (!nb)
                goto fail;
            buf = nb;
        }
        r = read(conn, buf + n, cap - n - 1);
        if (r <= 0)
            goto fail;
        n += (size_t)r;
        buf[n] = '\0';
        if (!sep && (sep = strstr(buf, "\r\n\r\n"))) {
            *sep = '\0';
            cl = strcasestr(buf, "\r\nContent-Length:");
            want = (size_t)(sep + 4 - buf) + (cl ? strtoull(cl + 17, NULL, 10) : 0);
            *sep = '\r';
        }
        if (sep && n >= want)
            break;
    }
    if (sscanf(buf, "HTTP/1.%*d %d", &out->status) != 1)
        goto fail;
    *sep = '\0';
    out->head = buf;
    out->body = sep + 4;
    out->body_len = want - (size_t)(sep + 4 - buf);
    out->body[out->body_len] = '\0';
    return 0;
fail:
    free(buf);
    return -1;
}

static int call(const char *method, const char *path, const char *extra, const char *body,
                size_t len, struct resp *out)
{
    int attempt;

    memset(out, 0, sizeof(*out));
    for (attempt = 0; attempt < 2; attempt++) {
        if (conn < 0 && (conn = dial()) < 0)
            return -1;
        if (exchange(method, path, extra, body, len, out) == 0)
            return 0;
        close(conn); /* the server closed it: reconnect once */
        conn = -1;
    }
    return -1;
}

/* header - the value of @name in @head (copied into @out). */
static void header(const char *head, const char *name, char *out, size_t cap)
{
    const char *p = head;
    size_t nl = strlen(name);

    out[0] = '\0';
    while ((p = strstr(p, "\r\n"))) {
        p += 2;
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1, *e;
            while (*v == ' ')
                v++;
            e = strstr(v, "\r\n");
            if (!e)
                e = v + strlen(v);
            snprintf(out, cap, "%.*s", (int)(e - v), v);
            return;
        }
    }
}

int lr_run(lr_handler_fn *handler, void *ud)
{
    for (;;) {
        struct resp next, ack;
        struct lr_invocation inv;
        char id[128], arn[512], deadline[32], path[256];
        char *response = NULL;
        int rc;

        if (call("GET", "/2018-06-01/runtime/invocation/next", NULL, NULL, 0, &next) ||
            next.status != 200) {
            free(next.head);
            return 1;
        }
        header(next.head, "Lambda-Runtime-Aws-Request-Id", id, sizeof(id));
        header(next.head, "Lambda-Runtime-Invoked-Function-Arn", arn, sizeof(arn));
        header(next.head, "Lambda-Runtime-Deadline-Ms", deadline, sizeof(deadline));
        inv.request_id = id;
        inv.function_arn = arn;
        inv.deadline_ms = atoll(deadline);
        inv.event = next.body;
        inv.event_len = next.body_len;
        rc = handler(&inv, &response, ud);
        if (rc == 0) {
            snprintf(path, sizeof(path), "/2018-06-01/runtime/invocation/%s/response", id);
            call("POST", path, NULL, response ? response : "null", response ? strlen(response) : 4,
                 &ack);
        } else {
            char err[2048];
            int n = snprintf(err, sizeof(err),
                             "{\"errorType\":\"HandlerError\",\"errorMessage\":\"%s\"}",
                             response ? response : "error");
            snprintf(path, sizeof(path), "/2018-06-01/runtime/invocation/%s/error", id);
            call("POST", path, "Lambda-Runtime-Function-Error-Type: HandlerError\r\n", err,
                 (size_t)n < sizeof(err) ? (size_t)n : sizeof(err) - 1, &ack);
        }
        free(ack.head);
        free(response);
        free(next.head);
    }
}
