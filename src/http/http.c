/* http.c - see http.h.
 *
 * libmicrohttpd calls the access handler several times per request: once
 * with the headers, once per body chunk, once more when the body is complete,
 * and once again after a suspended connection is resumed. A request's state
 * moves NEW -> BODY -> RUNNING -> (SUSPENDED ->) READY -> QUEUED. The answer
 * may come from another thread (the store's writer), so READY and SUSPENDED
 * are decided under the request's mutex: whoever comes second acts. */
#include "http.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "clock.h"
#include "log.h"
#include "mem.h"

enum req_state { ST_NEW, ST_BODY, ST_RUNNING, ST_SUSPENDED, ST_READY, ST_QUEUED };

struct request {
    struct http_req pub; /* first: a struct http_req * is a struct request * */
    pthread_mutex_t mu;
    pthread_cond_t cv; /* in-process requests wait on it */
    enum req_state state;
    bool detached; /* made by http_req_new, no connection */
    struct MHD_Connection *conn;
    struct http_server *srv;
    int status;
    char *resp_body; /* owned until handed to libmicrohttpd */
    size_t resp_len;
    int resp_fd;                     /* owned when >= 0: answer streamed from this file */
    struct http_stream *resp_stream; /* owned until queued: a chunked answer */
    long long resp_off, resp_fdlen;
    struct http_header *resp_headers; /* arena */
    size_t nresp, capresp;
    size_t nheaders_cap;
};

struct http_stream {
    pthread_mutex_t mu;
    struct MHD_Connection *conn;
    bool suspended, woken;
    http_stream_fn *fn;
    http_stream_done_fn *done;
    void *ud;
};

enum { MAX_THREADS = 64 };

struct http_server {
    struct MHD_Daemon *daemon[MAX_THREADS]; /* one thread each */
    unsigned ndaemons, next;                /* next: the daemon for the next connection */
    int listen_fd;                          /* the acceptor's; -1 once quiesced */
    int wake_fd;                            /* an eventfd: the acceptor stops when it is written */
    pthread_t acceptor;
    http_handler_fn *handler;
    http_headers_fn *on_headers;
    void *ud;
    size_t max_body;
    bool tls;
    int port;
    atomic_int inflight; /* requests handed to the handler and not yet queued */
    bool quiesced;
};

enum { DEFAULT_MAX_BODY = 16 * 1024 * 1024, MAX_CONNECTIONS = 4096 };

/* HTTPS: a new connection waits in the acceptor until its first byte shows
 * whether it speaks TLS (a handshake record, 0x16) or plain HTTP on the
 * HTTPS port, which gets a plain 400 as AWS endpoints answer it. TLS clients
 * speak first, so the wait is short; past WAIT_MS, or with WAIT_MAX waiting,
 * a connection goes to libmicrohttpd undecided. */
enum { WAIT_MAX = 32, WAIT_MS = 1000 };

struct waiting {
    int fd;
    struct sockaddr_storage ss;
    socklen_t len;
    int64_t deadline_us;
};

static void stream_free(void *cls);

/* format_ipv4 - dotted quad into @out (16 bytes), as inet_ntop without its
 * sprintf on every request. */
static void format_ipv4(const struct in_addr *a, char out[16])
{
    const unsigned char *b = (const unsigned char *)&a->s_addr;
    char *o = out;

    for (int i = 0; i < 4; i++) {
        unsigned v = b[i];
        if (i)
            *o++ = '.';
        if (v >= 100)
            *o++ = (char)('0' + v / 100);
        if (v >= 10)
            *o++ = (char)('0' + v / 10 % 10);
        *o++ = (char)('0' + v % 10);
    }
    *o = '\0';
}

static struct request *request_new(const char *method, const char *uri)
{
    struct request *q = xcalloc(1, sizeof(*q));
    struct arena *a = arena_new();
    const char *qm;

    q->pub.arena = a;
    q->pub.method = arena_strdup(a, method ? method : "GET");
    q->pub.uri = arena_strdup(a, uri ? uri : "/");
    qm = strchr(q->pub.uri, '?');
    if (qm) {
        q->pub.path = arena_strndup(a, q->pub.uri, (size_t)(qm - q->pub.uri));
        q->pub.query = qm + 1;
    } else {
        q->pub.path = q->pub.uri;
        q->pub.query = "";
    }
    q->pub.remote_addr = "";
    q->pub.priv = q;
    q->resp_fd = -1;
    buf_init(&q->pub.body, 0);
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
    return q;
}

static void request_free(struct request *q)
{
    if (!q)
        return;
    buf_free(&q->pub.body);
    free(q->resp_body);
    if (q->resp_fd >= 0)
        close(q->resp_fd);
    if (q->resp_stream)
        stream_free(q->resp_stream);
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->cv);
    arena_free(q->pub.arena);
    free(q);
}

static void add_header(struct request *q, const char *name, const char *value)
{
    struct http_req *r = &q->pub;
    char *lname;
    size_t i;

    if (r->nheaders == q->nheaders_cap) {
        size_t cap = q->nheaders_cap ? q->nheaders_cap * 2 : 16;
        struct http_header *h = arena_alloc(r->arena, cap * sizeof(*h));
        if (r->nheaders)
            memcpy(h, r->headers, r->nheaders * sizeof(*h));
        r->headers = h;
        q->nheaders_cap = cap;
    }
    lname = arena_strdup(r->arena, name);
    for (i = 0; lname[i]; i++)
        lname[i] = (char)tolower((unsigned char)lname[i]);
    r->headers[r->nheaders].name = lname;
    r->headers[r->nheaders].value = arena_strdup(r->arena, value ? value : "");
    r->nheaders++;
}

const char *http_req_header(const struct http_req *r, const char *lname)
{
    size_t i;

    for (i = 0; i < r->nheaders; i++)
        if (strcmp(r->headers[i].name, lname) == 0)
            return r->headers[i].value;
    return NULL;
}

void http_resp_header(struct http_req *r, const char *name, const char *value)
{
    struct request *q = r->priv;

    if (q->nresp == q->capresp) {
        size_t cap = q->capresp ? q->capresp * 2 : 8;
        struct http_header *h = arena_alloc(r->arena, cap * sizeof(*h));
        if (q->nresp)
            memcpy(h, q->resp_headers, q->nresp * sizeof(*h));
        q->resp_headers = h;
        q->capresp = cap;
    }
    q->resp_headers[q->nresp].name = arena_strdup(r->arena, name);
    q->resp_headers[q->nresp].value = arena_strdup(r->arena, value);
    q->nresp++;
}

/* ---- streamed answers ---- */

/* stream_read - libmicrohttpd's content reader. When the source has nothing,
 * the connection is suspended (from here, as libmicrohttpd allows) unless a
 * wake-up came in between; http_stream_wake resumes it. */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct http_stream *st = cls;

    (void)pos;
    for (;;) {
        long n;

        pthread_mutex_lock(&st->mu);
        st->woken = false;
        pthread_mutex_unlock(&st->mu);
        n = st->fn(st->ud, buf, max);
        if (n > 0)
            return (ssize_t)n;
        if (n < 0)
            return MHD_CONTENT_READER_END_OF_STREAM;
        pthread_mutex_lock(&st->mu);
        if (!st->woken) {
            st->suspended = true;
            MHD_suspend_connection(st->conn);
            pthread_mutex_unlock(&st->mu);
            return 0;
        }
        pthread_mutex_unlock(&st->mu);
    }
}

static void stream_free(void *cls)
{
    struct http_stream *st = cls;

    st->done(st->ud);
    pthread_mutex_destroy(&st->mu);
    free(st);
}

struct http_stream *http_stream_new(http_stream_fn *fn, http_stream_done_fn *done, void *ud)
{
    struct http_stream *st = xcalloc(1, sizeof(*st));

    pthread_mutex_init(&st->mu, NULL);
    st->fn = fn;
    st->done = done;
    st->ud = ud;
    return st;
}

void http_stream_wake(struct http_stream *st)
{
    pthread_mutex_lock(&st->mu);
    if (st->suspended) {
        st->suspended = false;
        MHD_resume_connection(st->conn);
    } else {
        st->woken = true;
    }
    pthread_mutex_unlock(&st->mu);
}

/* Hand the stored answer to libmicrohttpd. Runs on the connection's thread. */
static enum MHD_Result queue_answer(struct request *q)
{
    struct MHD_Response *resp;
    enum MHD_Result ret;
    size_t i;

    if (q->resp_stream) {
        q->resp_stream->conn = q->conn;
        resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, stream_read,
                                                 q->resp_stream, stream_free);
        if (!resp)
            return MHD_NO;
        q->resp_stream = NULL; /* libmicrohttpd frees it now (stream_free) */
    } else if (q->resp_fd >= 0) {
        resp = MHD_create_response_from_fd_at_offset64((uint64_t)q->resp_fdlen, q->resp_fd,
                                                       (uint64_t)q->resp_off);
        if (!resp)
            return MHD_NO;
        q->resp_fd = -1; /* libmicrohttpd closes it now */
    } else {
        resp = MHD_create_response_from_buffer(q->resp_len, q->resp_body, MHD_RESPMEM_MUST_FREE);
        if (!resp)
            return MHD_NO;
        q->resp_body = NULL; /* libmicrohttpd frees it now */
    }
    for (i = 0; i < q->nresp; i++)
        MHD_add_response_header(resp, q->resp_headers[i].name, q->resp_headers[i].value);
    ret = MHD_queue_response(q->conn, (unsigned)q->status, resp);
    MHD_destroy_response(resp);
    q->state = ST_QUEUED;
    atomic_fetch_sub(&q->srv->inflight, 1);
    return ret;
}

static void respond_take(struct http_req *r, int status, char *body, size_t len)
{
    struct request *q = r->priv;
    bool resume;
    struct MHD_Connection *conn;

    pthread_mutex_lock(&q->mu);
    if (q->state == ST_READY || q->state == ST_QUEUED) {
        /* a second answer is our bug; keep the first */
        pthread_mutex_unlock(&q->mu);
        free(body);
        log_err("event=http_double_response path=%s", r->path);
        return;
    }
    q->status = status;
    q->resp_body = body;
    q->resp_len = len;
    resume = q->state == ST_SUSPENDED;
    q->state = ST_READY;
    conn = q->conn;
    if (q->detached)
        pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
    /* After the unlock @q belongs to the connection's thread again: a
     * suspended request stays alive until we resume it, so @conn is valid. */
    if (resume)
        MHD_resume_connection(conn);
}

void http_respond(struct http_req *r, int status, const void *body, size_t len)
{
    char *p = xmalloc(len + 1);

    if (len)
        memcpy(p, body, len);
    p[len] = '\0'; /* in-process callers may read the answer as a string */
    respond_take(r, status, p, len);
}

void http_respond_fd(struct http_req *r, int status, int fd, long long offset, long long len)
{
    struct request *q = r->priv;

    if (q->detached) {
        /* in-process callers and tests: read it into memory */
        char *p = xmalloc(len > 0 ? (size_t)len : 1);
        ssize_t n = len > 0 ? pread(fd, p, (size_t)len, (off_t)offset) : 0;
        close(fd);
        respond_take(r, status, p, n > 0 ? (size_t)n : 0);
        return;
    }
    pthread_mutex_lock(&q->mu);
    q->resp_fd = fd;
    q->resp_off = offset;
    q->resp_fdlen = len;
    pthread_mutex_unlock(&q->mu);
    respond_take(r, status, NULL, 0);
}

void http_respond_stream(struct http_req *r, int status, struct http_stream *st)
{
    struct request *q = r->priv;

    if (q->detached) {
        stream_free(st);
        http_respond(r, 500, "streamed answers need a connection",
                     strlen("streamed answers need a connection"));
        return;
    }
    pthread_mutex_lock(&q->mu);
    q->resp_stream = st;
    pthread_mutex_unlock(&q->mu);
    respond_take(r, status, NULL, 0);
}

void http_respond_buf(struct http_req *r, int status, struct buf *b)
{
    size_t len;
    char *p = buf_detach(b, &len);
    respond_take(r, status, p, len);
}

/* ---- in-process requests ---- */

struct http_req *http_req_new(const char *method, const char *uri)
{
    struct request *q = request_new(method, uri);
    q->detached = true;
    q->state = ST_RUNNING;
    return &q->pub;
}

void http_req_add_header(struct http_req *r, const char *name, const char *value)
{
    add_header(r->priv, name, value);
}

int http_req_wait(struct http_req *r, const char **body, size_t *len)
{
    struct request *q = r->priv;

    pthread_mutex_lock(&q->mu);
    while (q->state != ST_READY)
        pthread_cond_wait(&q->cv, &q->mu);
    pthread_mutex_unlock(&q->mu);
    if (body)
        *body = q->resp_body ? q->resp_body : "";
    if (len)
        *len = q->resp_len;
    return q->status;
}

const char *http_req_resp_header(const struct http_req *r, const char *name)
{
    const struct request *q = r->priv;
    size_t i;

    for (i = 0; i < q->nresp; i++)
        if (strcasecmp(q->resp_headers[i].name, name) == 0)
            return q->resp_headers[i].value;
    return NULL;
}

void http_req_free(struct http_req *r)
{
    if (r)
        request_free(r->priv);
}

/* ---- libmicrohttpd glue ---- */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct http_server *s = cls;
    struct request *q = request_new(NULL, uri);
    const union MHD_ConnectionInfo *ci;

    q->srv = s;
    q->conn = conn;
    q->pub.tls = s->tls;
    q->pub.body.limit = 0;
    ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr) {
        char ip[INET6_ADDRSTRLEN] = "";
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
            format_ipv4(&((const struct sockaddr_in *)(const void *)sa)->sin_addr, ip);
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, ip,
                      sizeof(ip));
        q->pub.remote_addr = arena_strdup(q->pub.arena, ip);
    }
    return q;
}

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    (void)kind;
    add_header(cls, key, value);
    return MHD_YES;
}

static void run_handler(struct request *q)
{
    struct http_server *s = q->srv;

    q->state = ST_RUNNING;
    atomic_fetch_add(&s->inflight, 1);
    s->handler(&q->pub, s->ud);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    struct http_server *s = cls;
    struct request *q = *req_cls;

    (void)url;
    (void)version;
    if (!q) /* no URI callback ran: cannot happen with our options */
        return MHD_NO;
    switch (q->state) {
    case ST_NEW: {
        const char *cl;
        q->pub.method = arena_strdup(q->pub.arena, method);
        MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_header, q);
        q->state = ST_BODY;
        if (s->on_headers) {
            atomic_fetch_add(&s->inflight, 1);
            s->on_headers(&q->pub, s->ud);
            if (q->state == ST_READY)
                return queue_answer(q);
            atomic_fetch_sub(&s->inflight, 1);
        }
        cl = http_req_header(&q->pub, "content-length");
        if (!q->pub.on_body && cl && strtoull(cl, NULL, 10) > s->max_body) {
            /* refuse before reading a byte of it */
            q->pub.body_too_large = true;
            break;
        }
        return MHD_YES;
    }
    case ST_BODY:
        if (*upload_data_size && q->pub.on_body) {
            if (!q->pub.body_error &&
                q->pub.on_body(&q->pub, upload_data, *upload_data_size) != ERR_OK)
                q->pub.body_error = true;
            *upload_data_size = 0;
            return MHD_YES;
        }
        if (*upload_data_size) {
            if (!q->pub.body_too_large &&
                buf_append(&q->pub.body, upload_data, *upload_data_size) != ERR_OK)
                q->pub.body_too_large = true;
            else if (q->pub.body.len > s->max_body)
                q->pub.body_too_large = true;
            *upload_data_size = 0;
            return MHD_YES;
        }
        break;
    case ST_READY:
        return queue_answer(q);
    default:
        /* resumed spuriously, or called again after queueing: nothing to do */
        return MHD_YES;
    }

    run_handler(q);
    pthread_mutex_lock(&q->mu);
    if (q->state == ST_READY) {
        pthread_mutex_unlock(&q->mu);
        return queue_answer(q);
    }
    q->state = ST_SUSPENDED;
    MHD_suspend_connection(conn);
    pthread_mutex_unlock(&q->mu);
    return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct request *q = *req_cls;

    (void)cls;
    (void)conn;
    if (!q)
        return;
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && q->state != ST_QUEUED)
        log_debug("event=http_aborted path=%s reason=%d", q->pub.path, (int)toe);
    if (q->state == ST_RUNNING || q->state == ST_SUSPENDED) {
        /* The handler still owns it: cannot happen, as a suspended connection
         * is never terminated before it is resumed. Leak rather than crash. */
        log_err("event=http_completed_while_running path=%s", q->pub.path);
        return;
    }
    if (q->state == ST_READY)
        atomic_fetch_sub(&q->srv->inflight, 1);
    request_free(q);
    *req_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    size_t n;

    (void)cls;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    log_debug("event=http_library msg=\"%s\"", msg);
}

static void hand_over(struct http_server *s, int fd, struct sockaddr_storage *ss, socklen_t len)
{
    /* On failure libmicrohttpd has closed the socket (connection limit). */
    if (MHD_add_connection(s->daemon[s->next], fd, (struct sockaddr *)ss, len) != MHD_YES)
        log_debug("event=http_connection_refused");
    s->next = (s->next + 1) % s->ndaemons;
}

/* answer_plain_http - a plain HTTP request arrived on the HTTPS port: read
 * what it sent (so closing does not reset the connection under the answer),
 * answer 400 and close. */
static void answer_plain_http(int fd)
{
    static const char body[] = "The plain HTTP request was sent to HTTPS port\n";
    char buf[4096];
    int n = 0;

    while (n++ < 16 && recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
        ;
    snprintf(buf, sizeof(buf),
             "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: "
             "%zu\r\nConnection: close\r\n\r\n%s",
             sizeof(body) - 1, body);
    if (send(fd, buf, strlen(buf), MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
        log_debug("event=http_plain_on_tls_answer_failed error=\"%s\"", strerror(errno));
    shutdown(fd, SHUT_WR);
    close(fd);
    log_debug("event=http_plain_on_tls");
}

/* decide - @w's first byte has come (or its wait is over): plain HTTP gets
 * its 400, anything else goes to libmicrohttpd. */
static void decide(struct http_server *s, struct waiting *w)
{
    unsigned char c;
    ssize_t n = recv(w->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

    if (n == 1 && c >= 'A' && c <= 'Z')
        answer_plain_http(w->fd);
    else
        hand_over(s, w->fd, &w->ss, w->len);
}

/* acceptor_main - take new connections and deal them out to the server
 * threads in turn. (libmicrohttpd's own thread pool lets whichever thread
 * wakes first accept a burst of up to ten connections, so clients that
 * connect together, an SDK's pool or a load test, all land on one thread
 * while the other cores idle.) */
static void *acceptor_main(void *arg)
{
    struct http_server *s = arg;
    struct pollfd p[2 + WAIT_MAX] = {{.fd = s->listen_fd, .events = POLLIN},
                                     {.fd = s->wake_fd, .events = POLLIN}};
    struct waiting wait[WAIT_MAX] = {{0}};
    unsigned nwait = 0;
    bool starved = false; /* out of descriptors or memory at the last try */

    for (;;) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        int fd, timeout = -1;
        int64_t now;
        unsigned i, kept;

        for (i = 0; i < nwait; i++)
            p[2 + i] = (struct pollfd){.fd = wait[i].fd, .events = POLLIN};
        if (nwait) {
            int64_t left = wait[0].deadline_us - clock_mono_us();
            timeout = left > 0 ? (int)(left / 1000) + 1 : 0;
        }
        if (poll(p, 2 + nwait, timeout) < 0 && errno != EINTR)
            break;
        if (p[1].revents)
            break; /* quiesced */
        now = clock_mono_us();
        for (i = kept = 0; i < nwait; i++) {
            if (p[2 + i].revents || now >= wait[i].deadline_us)
                decide(s, &wait[i]);
            else
                wait[kept++] = wait[i];
        }
        nwait = kept;
        if (!(p[0].revents & POLLIN))
            continue;
        fd = accept4(s->listen_fd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) {
            /* Out of descriptors or memory: say so and wait a little for some
             * to close. Anything else is about that one connection (a client
             * that gave up before we took it, a network error Linux passes on
             * from the new socket, as accept(2) says) or nothing there after
             * all: take the next at once. */
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                if (!starved) /* once, not every 100 ms */
                    log_warn("event=http_accept_failed error=\"%s\" retry_ms=100", strerror(errno));
                starved = true;
                poll(&p[1], 1, 100);
            } else if (errno != EAGAIN && errno != EINTR) {
                log_debug("event=http_accept_failed error=\"%s\"", strerror(errno));
            }
            continue;
        }
        if (starved) {
            log_info("event=http_accept_resumed");
            starved = false;
        }
        if (s->tls && nwait < WAIT_MAX) {
            /* deadlines in arrival order: wait[0] is always the nearest */
            wait[nwait] = (struct waiting){
                .fd = fd, .ss = ss, .len = len, .deadline_us = now + WAIT_MS * 1000};
            nwait++;
            continue;
        }
        hand_over(s, fd, &ss, len);
    }
    while (nwait)
        close(wait[--nwait].fd);
    return NULL;
}

static void stop_daemons(struct http_server *s)
{
    while (s->ndaemons)
        MHD_stop_daemon(s->daemon[--s->ndaemons]);
}

/* listen_on - a listening socket bound to @ss (as libmicrohttpd would make it:
 * address reuse on, IPv6 only for an IPv6 address), or -1 with errno set. */
static int listen_on(const struct sockaddr_storage *ss)
{
    socklen_t len =
        ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int on = 1;

    if (fd < 0)
        return -1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
        (ss->ss_family == AF_INET6 &&
         setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) != 0) ||
        bind(fd, (const struct sockaddr *)ss, len) != 0 || listen(fd, SOMAXCONN) != 0) {
        int err = errno;

        close(fd);
        errno = err;
        return -1;
    }
    return fd;
}

enum err_code http_server_start(const struct http_server_opts *o, struct http_server **out,
                                struct err *e)
{
    struct http_server *s;
    struct sockaddr_storage ss;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG | MHD_USE_NO_LISTEN_SOCKET;
    unsigned threads = o->threads;
    socklen_t len = sizeof(ss);
    int fd, rc;

    *out = NULL;
    memset(&ss, 0, sizeof(ss));
    if (strchr(o->host, ':')) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)o->port);
        if (inet_pton(AF_INET6, o->host, &in6->sin6_addr) != 1)
            return err_set(e, ERR_INVALID, "not a numeric IPv6 address: %s", o->host);
    } else {
        struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)o->port);
        if (inet_pton(AF_INET, o->host, &in4->sin_addr) != 1)
            return err_set(e, ERR_INVALID, "not a numeric IPv4 address: %s", o->host);
    }
    if (o->cert_pem || o->key_pem) {
        if (!o->cert_pem || !o->key_pem)
            return err_set(e, ERR_INVALID, "HTTPS needs both a certificate and a key");
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
            return err_set(e, ERR_IO, "this libmicrohttpd has no TLS support");
        flags |= MHD_USE_TLS;
    }
    if (!threads) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (unsigned)n : 2;
    }
    if (threads > MAX_THREADS)
        threads = MAX_THREADS;
    fd = listen_on(&ss);
    if (fd < 0)
        return err_set(e, ERR_IO, "cannot listen on %s:%d: %s", o->host, o->port, strerror(errno));

    s = xcalloc(1, sizeof(*s));
    s->handler = o->handler;
    s->on_headers = o->on_headers;
    s->ud = o->ud;
    s->max_body = o->max_body ? o->max_body : DEFAULT_MAX_BODY;
    s->tls = o->cert_pem != NULL;
    s->listen_fd = fd;
    s->wake_fd = -1;
    atomic_init(&s->inflight, 0);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
        s->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                 : ((struct sockaddr_in *)&ss)->sin_port);

    {
        /* One option list for both schemes and every thread. */
        struct MHD_OptionItem opts[12];
        size_t n = 0;

        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)on_uri, s};
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, s};
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, 120, NULL};
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT,
                                            (intptr_t)(MAX_CONNECTIONS / threads), NULL};
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_mhd_log, NULL};
        if (s->tls) {
            opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)o->cert_pem};
            opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)o->key_pem};
            /* TLS 1.2 and 1.3 only, as AWS's endpoints: a client offering
             * nothing newer than TLS 1.1 is refused at the handshake. */
            opts[n++] =
                (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0,
                                        (void *)"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"};
        }
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
        while (s->ndaemons < threads) {
            struct MHD_Daemon *d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
                                                    MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
            if (!d)
                break;
            s->daemon[s->ndaemons++] = d;
        }
    }
    if (s->ndaemons < threads) {
        stop_daemons(s);
        close(fd);
        free(s);
        return err_set(e, ERR_IO, "cannot serve on %s:%d (bad TLS material?)", o->host, o->port);
    }
    s->wake_fd = eventfd(0, EFD_CLOEXEC);
    rc = s->wake_fd < 0 ? errno : pthread_create(&s->acceptor, NULL, acceptor_main, s);
    if (rc) {
        if (s->wake_fd >= 0)
            close(s->wake_fd);
        close(fd);
        stop_daemons(s);
        free(s);
        return err_set(e, ERR_IO, "cannot start accepting: %s", strerror(rc));
    }
    *out = s;
    return ERR_OK;
}

int http_server_port(const struct http_server *s)
{
    return s->port;
}

void http_server_quiesce(struct http_server *s)
{
    uint64_t one = 1;

    if (s && !s->quiesced) {
        if (write(s->wake_fd, &one, sizeof(one)) != (ssize_t)sizeof(one))
            log_warn("event=http_quiesce_failed error=\"%s\"", strerror(errno));
        pthread_join(s->acceptor, NULL);
        close(s->listen_fd);
        close(s->wake_fd);
        s->listen_fd = s->wake_fd = -1;
        s->quiesced = true;
    }
}

void http_server_stop(struct http_server *s)
{
    int i;

    if (!s)
        return;
    http_server_quiesce(s);
    /* Suspended requests are waiting for a commit; let them be answered and
     * sent, for at most ten seconds, before the connections are dropped. */
    for (i = 0; i < 1000 && atomic_load(&s->inflight) > 0; i++)
        usleep(10000);
    stop_daemons(s);
    free(s);
}
