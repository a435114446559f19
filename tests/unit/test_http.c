/* test_http.c - the HTTP front door, driven over real loopback sockets. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "http.h"

/* What the handler saw, for the test to inspect. */
struct seen {
    char method[16];
    char path[256];
    char query[256];
    char target[128];
    char remote[64];
    size_t body_len;
    int too_large;
};

static struct seen last;
static pthread_t served_by; /* the thread that ran the handler last */

static void *answer_later(void *arg)
{
    struct http_req *r = arg;
    usleep(20000);
    http_resp_header(r, "X-Later", "yes");
    http_respond(r, 202, "late", 4);
    return NULL;
}

static void handler(struct http_req *r, void *ud)
{
    (void)ud;
    const char *t = http_req_header(r, "x-amz-target");

    snprintf(last.method, sizeof(last.method), "%s", r->method);
    snprintf(last.path, sizeof(last.path), "%s", r->path);
    snprintf(last.query, sizeof(last.query), "%s", r->query);
    snprintf(last.target, sizeof(last.target), "%s", t ? t : "");
    snprintf(last.remote, sizeof(last.remote), "%s", r->remote_addr ? r->remote_addr : "");
    last.body_len = r->body.len;
    last.too_large = r->body_too_large;
    served_by = pthread_self();
    if (r->body_too_large) {
        http_respond(r, 413, "big", 3);
        return;
    }
    if (strcmp(r->path, "/later") == 0) {
        pthread_t th;
        pthread_create(&th, NULL, answer_later, r);
        pthread_detach(th);
        return;
    }
    struct buf b;
    buf_init(&b, 0);
    buf_printf(&b, "%s %s %zu", r->method, r->path, r->body.len);
    http_resp_header(r, "Content-Type", "text/plain");
    http_respond_buf(r, 200, &b);
}

static int connect_to(int port)
{
    struct sockaddr_in sa = {0};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

/* Send @req, read until the peer closes or @max bytes; returns the response text. */
static char *roundtrip(int port, const char *req, size_t reqlen)
{
    int fd = connect_to(port);
    size_t off = 0, cap = 1 << 16;
    char *out = calloc(1, cap + 1);
    ssize_t n;

    while (off < reqlen) {
        n = write(fd, req + off, reqlen - off);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    off = 0;
    while ((n = read(fd, out + off, cap - off)) > 0)
        off += (size_t)n;
    close(fd);
    return out;
}

static int setup(void **state)
{
    struct http_server_opts o = {
        .host = "127.0.0.1", .port = 0, .threads = 2, .max_body = 1024, .handler = handler};
    struct http_server *s = NULL;
    struct err e = {0};

    assert_int_equal(http_server_start(&o, &s, &e), ERR_OK);
    assert_true(http_server_port(s) > 0);
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    http_server_stop(*state);
    return 0;
}

static void get_with_query(void **state)
{
    int port = http_server_port(*state);
    const char req[] = "GET /a%20b/c?x=1&y=%2F HTTP/1.1\r\nHost: h\r\nX-Amz-Target: T.Op\r\n"
                       "Connection: close\r\n\r\n";
    char *resp = roundtrip(port, req, sizeof(req) - 1);

    assert_non_null(strstr(resp, "HTTP/1.1 200"));
    assert_non_null(strstr(resp, "GET /a%20b/c 0"));
    assert_string_equal(last.path, "/a%20b/c"); /* raw, as sent: SigV4 needs it */
    assert_string_equal(last.query, "x=1&y=%2F");
    assert_string_equal(last.target, "T.Op"); /* header names are matched lower-case */
    assert_string_equal(last.remote, "127.0.0.1");
    free(resp);
}

static void post_body(void **state)
{
    int port = http_server_port(*state);
    const char req[] = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
                       "Connection: close\r\n\r\nhello";
    char *resp = roundtrip(port, req, sizeof(req) - 1);

    assert_non_null(strstr(resp, "POST / 5"));
    assert_int_equal(last.body_len, 5);
    free(resp);
}

static void answer_from_another_thread(void **state)
{
    int port = http_server_port(*state);
    const char req[] = "GET /later HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
    char *resp = roundtrip(port, req, sizeof(req) - 1);

    assert_non_null(strstr(resp, "HTTP/1.1 202"));
    assert_non_null(strstr(resp, "X-Later: yes"));
    assert_non_null(strstr(resp, "late"));
    free(resp);
}

static void declared_body_too_large(void **state)
{
    int port = http_server_port(*state);
    const char req[] = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4096\r\n"
                       "Connection: close\r\n\r\n";
    char *resp = roundtrip(port, req, sizeof(req) - 1);

    assert_non_null(strstr(resp, "HTTP/1.1 413"));
    assert_int_equal(last.too_large, 1);
    free(resp);
}

static void chunked_body_too_large(void **state)
{
    int port = http_server_port(*state);
    char req[8192];
    int n = snprintf(req, sizeof(req),
                     "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
                     "Connection: close\r\n\r\n800\r\n");
    memset(req + n, 'x', 2048);
    n += 2048;
    n += snprintf(req + n, sizeof(req) - (size_t)n, "\r\n0\r\n\r\n");
    char *resp = roundtrip(port, req, (size_t)n);

    assert_non_null(strstr(resp, "HTTP/1.1 413"));
    free(resp);
}

static void keep_alive_many(void **state)
{
    int port = http_server_port(*state);
    int fd = connect_to(port);
    const char req[] = "GET /k HTTP/1.1\r\nHost: h\r\n\r\n";
    char buf[4096];
    int i;

    for (i = 0; i < 50; i++) {
        ssize_t n;
        assert_int_equal(write(fd, req, sizeof(req) - 1), (ssize_t)sizeof(req) - 1);
        n = read(fd, buf, sizeof(buf) - 1);
        assert_true(n > 0);
        buf[n] = '\0';
        assert_non_null(strstr(buf, "HTTP/1.1 200"));
    }
    close(fd);
}

/* Clients that connect together are served by different threads: four
 * connections opened at once, then one request on each, land on both of the
 * server's two threads, two each. */
static void connections_spread_over_threads(void **state)
{
    int port = http_server_port(*state), fd[4], i, same_as_first = 0;
    const char req[] = "GET /t HTTP/1.1\r\nHost: h\r\n\r\n";
    pthread_t first = 0;
    char buf[4096];

    for (i = 0; i < 4; i++)
        fd[i] = connect_to(port);
    for (i = 0; i < 4; i++) {
        ssize_t n;

        assert_int_equal(write(fd[i], req, sizeof(req) - 1), (ssize_t)sizeof(req) - 1);
        n = read(fd[i], buf, sizeof(buf) - 1);
        assert_true(n > 0);
        buf[n] = '\0';
        assert_non_null(strstr(buf, "HTTP/1.1 200"));
        if (i == 0)
            first = served_by;
        same_as_first += pthread_equal(served_by, first) != 0;
    }
    assert_int_equal(same_as_first, 2);
    for (i = 0; i < 4; i++)
        close(fd[i]);
}

static void *respond_detached(void *arg)
{
    http_resp_header(arg, "X-Done", "1");
    http_respond(arg, 201, "{}", 2);
    return NULL;
}

static void in_process_request(void **state)
{
    (void)state;
    struct http_req *r = http_req_new("POST", "/p?q=1");
    const char *body;
    size_t len;
    pthread_t th;

    http_req_add_header(r, "X-Amz-Target", "A.B");
    assert_string_equal(http_req_header(r, "x-amz-target"), "A.B");
    assert_string_equal(r->path, "/p");
    assert_string_equal(r->query, "q=1");
    pthread_create(&th, NULL, respond_detached, r);
    assert_int_equal(http_req_wait(r, &body, &len), 201);
    pthread_join(th, NULL);
    assert_int_equal(len, 2);
    assert_memory_equal(body, "{}", 2);
    assert_string_equal(http_req_resp_header(r, "x-done"), "1");
    assert_null(http_req_resp_header(r, "x-none"));
    http_req_free(r);
}

static void bind_errors(void **state)
{
    (void)state;
    struct http_server_opts o = {.host = "not-an-ip", .port = 0, .handler = handler};
    struct http_server *s = NULL;
    struct err e = {0};

    assert_int_equal(http_server_start(&o, &s, &e), ERR_INVALID);
    o.host = "::1x";
    assert_int_equal(http_server_start(&o, &s, &e), ERR_INVALID);
    o.host = "127.0.0.1";
    o.cert_pem = "x";
    assert_int_equal(http_server_start(&o, &s, &e), ERR_INVALID); /* cert without key */
    assert_null(s);
}

static void port_in_use(void **state)
{
    struct http_server_opts o = {
        .host = "127.0.0.1", .port = http_server_port(*state), .handler = handler};
    struct http_server *s = NULL;
    struct err e = {0};

    assert_int_equal(http_server_start(&o, &s, &e), ERR_IO);
    assert_non_null(strstr(e.msg, "cannot listen"));
}

/* ---- streamed bodies and the headers hook ---- */

struct sink {
    size_t bytes;
    unsigned calls;
};
static struct sink sink;

static enum err_code count_body(struct http_req *r, const void *data, size_t n)
{
    struct sink *k = r->body_ud;
    (void)data;
    k->bytes += n;
    k->calls++;
    return k->bytes > 3000000 ? ERR_TOO_LARGE : ERR_OK; /* refuse past 3 MB */
}

static void stream_headers(struct http_req *r, void *ud)
{
    (void)ud;
    if (strcmp(r->path, "/reject") == 0) {
        http_respond(r, 403, "no", 2);
        return;
    }
    if (strcmp(r->path, "/stream") == 0) {
        memset(&sink, 0, sizeof(sink));
        r->on_body = count_body;
        r->body_ud = &sink;
    }
}

static void stream_handler(struct http_req *r, void *ud)
{
    (void)ud;
    char *msg = arena_sprintf(r->arena, "%zu %d %zu", sink.bytes, r->body_error, r->body.len);
    http_respond(r, 200, msg, strlen(msg));
}

static char *upload(int port, const char *path, size_t n)
{
    char *req = malloc(n + 256);
    int h = snprintf(req, 256,
                     "PUT %s HTTP/1.1\r\nHost: h\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n",
                     path, n);
    memset(req + h, 'b', n);
    char *resp = roundtrip(port, req, (size_t)h + n);
    free(req);
    return resp;
}

static void streamed_body(void **state)
{
    (void)state;
    struct http_server_opts o = {.host = "127.0.0.1",
                                 .threads = 1,
                                 .max_body = 1024,
                                 .handler = stream_handler,
                                 .on_headers = stream_headers};
    struct http_server *s = NULL;
    char *resp;

    assert_int_equal(http_server_start(&o, &s, NULL), ERR_OK);
    /* 2 MB streamed past a 1 KiB buffer limit, in several pieces, none buffered */
    resp = upload(http_server_port(s), "/stream", 2 << 20);
    assert_non_null(strstr(resp, "HTTP/1.1 200"));
    assert_non_null(strstr(resp, "2097152 0 0"));
    assert_true(sink.calls > 1);
    free(resp);
    /* a sink that fails stops being called; the handler still answers */
    resp = upload(http_server_port(s), "/stream", 4 << 20);
    assert_non_null(strstr(resp, " 1 0"));
    free(resp);
    /* answered from the headers hook: the body is never read */
    resp = upload(http_server_port(s), "/reject", 100);
    assert_non_null(strstr(resp, "HTTP/1.1 403"));
    free(resp);
    /* other paths are buffered as usual, with the limit */
    resp = upload(http_server_port(s), "/plain", 2000);
    assert_non_null(strstr(resp, "HTTP/1.1 200"));
    free(resp);
    http_server_stop(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(get_with_query),
        cmocka_unit_test(post_body),
        cmocka_unit_test(answer_from_another_thread),
        cmocka_unit_test(declared_body_too_large),
        cmocka_unit_test(chunked_body_too_large),
        cmocka_unit_test(keep_alive_many),
        cmocka_unit_test(connections_spread_over_threads),
        cmocka_unit_test(in_process_request),
        cmocka_unit_test(bind_errors),
        cmocka_unit_test(port_in_use),
        cmocka_unit_test(streamed_body),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
