/* http.h - the region's HTTP(S) front door, on libmicrohttpd.
 *
 * The server buffers each request's body (up to a limit), then calls one
 * handler. The handler answers with http_respond(), either before it returns
 * or later from any thread (for a write that waits for its commit): in that
 * case the connection is suspended and resumed when the answer arrives, so
 * the small pool of server threads never blocks on disk. */
#ifndef TANDEM_HTTP_H
#define TANDEM_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "buf.h"
#include "err.h"

struct http_req;

/* A streamed body's sink: called with each piece in order, on the connection's
 * thread. A non-OK return stops the calls (body_error is set) and the rest of
 * the body is read and discarded; the handler still runs at the end. */
typedef enum err_code http_body_fn(struct http_req *r, const void *data, size_t n);

struct http_header {
    const char *name;  /* lower-case, arena */
    const char *value; /* arena */
};

struct http_req {
    struct arena *arena;         /* freed when the request completes */
    const char *method;          /* "GET", "PUT", ... */
    const char *uri;             /* raw request target as sent: path and query */
    const char *path;            /* raw path, still percent-encoded */
    const char *query;           /* raw query after '?', "" when none */
    struct http_header *headers; /* every request header, in arrival order */
    size_t nheaders;
    struct buf body;         /* the whole body (buffered up to the server's limit) */
    bool body_too_large;     /* the body passed the limit; @body holds a prefix only */
    const char *remote_addr; /* peer IP address, arena */
    bool tls;                /* arrived over HTTPS */
    http_body_fn *on_body;   /* set by the headers hook to receive the body in pieces */
    void *body_ud;           /* for @on_body */
    bool body_error;         /* @on_body failed once; the rest was read and discarded */
    void *priv;              /* server-private state */
};

/* http_req_header - the value of the first header named @lname (lower-case), or NULL. */
const char *http_req_header(const struct http_req *r, const char *lname);

/* http_resp_header - add a response header (both strings copied into the arena).
 * Call before http_respond(). */
void http_resp_header(struct http_req *r, const char *name, const char *value);

/*
 * http_respond - answer @r with @status and @body (copied). Call exactly once
 * per request, from any thread; after it returns @r may already be gone.
 */
void http_respond(struct http_req *r, int status, const void *body, size_t len);

/* http_respond_buf - as http_respond, taking the memory of @b (left empty). */
void http_respond_buf(struct http_req *r, int status, struct buf *b);

/*
 * http_respond_fd - answer @r with @status and @len bytes of the file @fd from
 * @offset, streamed from the file by libmicrohttpd (memory does not grow with
 * @len). Takes @fd (closed when sent, also on error). Content-Length is @len;
 * a HEAD request gets the headers only. In-process requests read the bytes
 * into memory instead. Call exactly once per request, from any thread.
 */
void http_respond_fd(struct http_req *r, int status, int fd, long long offset, long long len);

/*
 * Streamed answers of unknown length (chunked), for a connection that keeps
 * sending as data appears (replication's log stream). http_stream_new makes
 * the source: @fn is called on the connection's thread whenever it can send;
 * it copies up to @max bytes into @out and returns how many, 0 when there is
 * nothing yet (the connection then sleeps, holding no thread, until
 * http_stream_wake()), or -1 when the answer is complete. @done(@ud) runs
 * once, when the connection is finished with the stream (sent, or the client
 * went away); the stream handle is invalid from then on, so callers serialize
 * http_stream_wake() with @done under their own lock. @fn must not take a
 * lock that a caller holds while calling http_stream_wake(). Then answer with
 * http_respond_stream() (exactly once; not for in-process requests: those
 * get 500).
 */
typedef long http_stream_fn(void *ud, char *out, size_t max);
typedef void http_stream_done_fn(void *ud);
struct http_stream;
struct http_stream *http_stream_new(http_stream_fn *fn, http_stream_done_fn *done, void *ud);
void http_respond_stream(struct http_req *r, int status, struct http_stream *st);
void http_stream_wake(struct http_stream *st);

/*
 * In-process requests, not tied to a connection: for callers inside the
 * region (replication, functions) and for unit tests of the API layers.
 * http_req_new returns an owned request (http_req_free()); set its body with
 * buf_append(&r->body, ...), hand it to a handler, then http_req_wait()
 * blocks until http_respond() has been called (from any thread) and returns
 * the status; @body/@len borrow the answer (NUL-terminated) until http_req_free().
 */
struct http_req *http_req_new(const char *method, const char *uri);
void http_req_add_header(struct http_req *r, const char *name, const char *value);
int http_req_wait(struct http_req *r, const char **body, size_t *len);
/* http_req_resp_header - a header of the answer (after http_req_wait), or NULL. */
const char *http_req_resp_header(const struct http_req *r, const char *name);
void http_req_free(struct http_req *r); /* NULL ok */

typedef void http_handler_fn(struct http_req *r, void *ud);

/* The headers hook runs once the headers have arrived, before any of the body
 * is read. It may set r->on_body (and r->body_ud) to stream the body instead
 * of buffering it (max_body then does not apply), or answer at once with
 * http_respond() (before it returns; the body is then never read, which also
 * answers an "Expect: 100-continue" without the upload). */
typedef void http_headers_fn(struct http_req *r, void *ud);

struct http_server_opts {
    const char *host;     /* numeric address to bind, e.g. "127.0.0.1" or "0.0.0.0" */
    int port;             /* 0: any free port (see http_server_port) */
    const char *cert_pem; /* with key_pem: serve HTTPS (PEM text, not paths) */
    const char *key_pem;
    unsigned threads; /* server threads; 0 = one per core */
    size_t max_body;  /* bodies past this set body_too_large; 0 = 16 MiB */
    http_handler_fn *handler;
    http_headers_fn *on_headers; /* optional */
    void *ud;
};

struct http_server;

/* http_server_start - bind and start serving (owned, http_server_stop()).
 * ERR_IO with a message when the address cannot be bound. */
enum err_code http_server_start(const struct http_server_opts *o, struct http_server **out,
                                struct err *e);

/* http_server_port - the port actually bound. */
int http_server_port(const struct http_server *s);

/* http_server_quiesce - stop accepting connections; those open keep being
 * served until http_server_stop(). NULL ok; idempotent. */
void http_server_quiesce(struct http_server *s);

/* http_server_stop - stop accepting, finish or drop open connections, free. NULL ok.
 * Every suspended request must have been answered first. */
void http_server_stop(struct http_server *s);

#endif
