/* loadgen.c - a closed-loop load generator for the DynamoDB item path and S3 objects.
 *
 * N keep-alive connections (default 32) spread over a few epoll threads, each
 * with one request in flight at a time, for a fixed duration (after a warmup)
 * or a fixed number of requests. Every DynamoDB request is signed afresh with
 * sigv4_sign() because every body differs.
 *
 *   bench_loadgen --port P --mode put|get|hello|create-table|query|update|txn
 *                                 |s3-put|s3-get|s3-create-bucket
 *       [--host 127.0.0.1] [--bucket bench]
 *       [--connections 32] [--threads 1] [--duration 5] [--warmup 1]
 *       [--requests N [--timeout 120]] [--pid SERVER_PID [--pid2 PID]]
 *       [--table bench] [--key-prefix k] [--key-start 0]
 *       [--keys N] [--value-size 100] [--sort-key 0|1] [--page 100] [--stream VIEW]
 *       [--region us-east-1] [--access-key AK] [--secret-key SK]
 *
 * put:   PutItem {"id": {"S": PREFIX<n>}, "v": {"S": "vvv..."}}, n = key-start, key-start+1, ...
 *        (every request a distinct key).
 * get:   GetItem of PREFIX<n>, n uniform in [key-start, key-start+keys): keys written
 *        before by a put run with the same prefix; an answer without "Item" is a miss.
 * hello: unsigned GET / (the floor, or the server's health check).
 * --sort-key 1: the table has a sort key "sk" (N) too; create-table makes it so,
 *        and put writes {"id": PREFIX<n % keys>, "sk": n}: --keys partitions.
 * query: Query of partition PREFIX<n>, n uniform in [key-start, key-start+keys),
 *        Limit --page: one page of a partition written by a --sort-key put
 *        (an answer whose Count is not --page is a miss).
 * update: UpdateItem of PREFIX<n> (keys written by a put) with a condition:
 *        SET c = if_not_exists(c, 0) + 1 IF attribute_exists(id).
 * txn:   TransactWriteItems of 4 PutItems of distinct new keys PREFIX<4m..4m+3>.
 * create-table: CreateTable --table (hash key "id", S) unless it exists, then wait
 *        for ACTIVE; prints {"table":...,"status":"ACTIVE"}, exits non-zero on failure.
 *        --stream VIEW (e.g. NEW_AND_OLD_IMAGES): the table has a stream of that view.
 * s3-put: PutObject (path style) of /BUCKET/PREFIX<n % keys>, n = key-start, key-start+1,
 *        ... with a body of --value-size bytes (up to 64 MiB), signed with SigV4 and
 *        x-amz-content-sha256: UNSIGNED-PAYLOAD (as the SDKs send over HTTPS), so the
 *        body is never hashed by the client; it is sent from one shared buffer.
 * s3-get: GetObject of /BUCKET/PREFIX<n>, n uniform in [key-start, key-start+keys):
 *        objects written before by an s3-put with the same prefix and size; an
 *        answer whose body is not --value-size bytes is a miss.
 * s3-create-bucket: CreateBucket --bucket unless the caller owns it already;
 *        prints {"bucket":...}, exits non-zero on failure.
 *
 * Prints one JSON object on stdout: ops/s, latency percentiles in microseconds,
 * errors (any answer but 200, and broken connections), and, with --pid, the
 * server's CPU time per request (utime+stime from /proc/PID/stat over the
 * measured window, divided by the requests completed in it; with --pid2 too,
 * the two processes' CPU summed, e.g. both regions of a replicated write, and the
 * second one's share alone as pid2_cpu_us_per_req). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "mem.h"
#include "sigv4.h"

enum lg_mode {
    LG_PUT,
    LG_GET,
    LG_HELLO,
    LG_CREATE,
    LG_QUERY,
    LG_UPDATE,
    LG_TXN,
    LG_S3_PUT,
    LG_S3_GET,
    LG_S3_BUCKET,
};

enum lg_state {
    LG_READY,   /* connected, no request in flight */
    LG_SENDING, /* part of the request still to write */
    LG_WAITING, /* request written, answer not complete */
    LG_BROKEN,  /* no socket: reconnect at retry_at */
    LG_DONE,    /* no more requests to send */
};

struct lg_opts {
    const char *host;
    int port;
    enum lg_mode mode;
    int connections;
    int threads;
    double duration;
    double warmup;
    long long requests; /* > 0: a fixed count instead of a duration */
    double timeout;     /* with requests: give up after this many seconds */
    long pid;
    long pid2; /* > 0: a second server process counted with @pid (a peer region) */
    const char *table;
    const char *bucket;
    const char *key_prefix;
    long long key_start;
    long long keys;
    int value_size;
    bool sort_key;      /* the table has "sk" (N) as its sort key */
    const char *stream; /* create-table: the stream's view type, NULL: none */
    int page;           /* query: Limit */
    const char *region;
    const char *access_key;
    const char *secret_key;
};

struct lg_thread;

struct lg_conn {
    struct lg_thread *t;
    int fd;
    enum lg_state state;
    uint64_t retry_at;
    uint64_t t_start;
    char *wbuf; /* owned: the request being sent (its head, for S3 PUTs) */
    size_t wlen, woff, wcap;
    const char *body; /* not owned: sent after wbuf (S3 PUT bodies); woff runs over both */
    size_t body_len;
    char *rbuf; /* owned: the answer received so far */
    size_t rlen, rcap;
    /* the answer's head, once parsed */
    size_t head_len; /* 0 until the blank line has arrived */
    int status;
    long long content_length; /* -1: none given */
    bool chunked;
    bool close_after;
    bool eof;
};

struct lg_thread {
    pthread_t tid;
    int epfd;
    struct lg_conn *conns; /* owned */
    int nconns;
    uint64_t *lat; /* owned: ns per measured request */
    size_t nlat, latcap;
    uint64_t ok, errors, misses, reconnects;
    uint64_t rng;
    time_t date_sec;
    char amz_date[17];
    char *value; /* owned: the PutItem payload */
};

static struct lg_opts opt = {
    .host = "127.0.0.1",
    .connections = 32,
    .threads = 1,
    .duration = 5,
    .warmup = 1,
    .timeout = 120,
    .table = "bench",
    .bucket = "bench",
    .key_prefix = "k",
    .keys = 1000,
    .value_size = 100,
    .page = 100,
    .region = "us-east-1",
    .access_key = "AKIDBENCH",
    .secret_key = "benchsecret",
};
static struct sockaddr_in lg_addr;
static char lg_host_header[80];
static atomic_bool lg_stop;
static atomic_llong lg_tickets;                       /* requests claimed, with --requests */
static atomic_llong lg_next_key;                      /* next PutItem key number */
static _Atomic uint64_t lg_window_start = UINT64_MAX; /* measure completions after this */
static _Atomic uint64_t lg_window_end = UINT64_MAX;
static atomic_int lg_error_reports;
static atomic_int lg_threads_done;

static uint64_t lg_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void lg_sleep_until(uint64_t deadline)
{
    for (;;) {
        uint64_t now = lg_now_ns();
        struct timespec ts;

        if (now >= deadline)
            return;
        ts.tv_sec = (time_t)((deadline - now) / 1000000000u);
        ts.tv_nsec = (long)((deadline - now) % 1000000000u);
        nanosleep(&ts, NULL);
    }
}

static uint64_t lg_rand(struct lg_thread *t)
{
    t->rng ^= t->rng << 13;
    t->rng ^= t->rng >> 7;
    t->rng ^= t->rng << 17;
    return t->rng;
}

static void lg_wreserve(struct lg_conn *c, size_t n)
{
    if (c->wcap < n) {
        c->wcap = n;
        c->wbuf = xrealloc(c->wbuf, n);
    }
}

/* Format a signed DynamoDB request for @target with the body already at
 * @body (@blen bytes, inside c->wbuf at offset @cap) into c->wbuf. */
static void lg_sign_into(struct lg_conn *c, const char *target, const char *body, int blen,
                         size_t cap)
{
    struct lg_thread *t = c->t;
    char body_hash[65], auth[1024];
    time_t now = time(NULL);
    int hlen;

    if (now != t->date_sec) {
        t->date_sec = now;
        sigv4_format_date(now, t->amz_date);
    }
    sigv4_sha256_hex(body, (size_t)blen, body_hash);
    /* In canonical (sorted) order. */
    struct sigv4_header h[] = {
        {"content-type", "application/x-amz-json-1.0"},
        {"host", lg_host_header},
        {"x-amz-date", t->amz_date},
        {"x-amz-target", target},
    };
    struct sigv4_request r = {
        .method = "POST",
        .path = "/",
        .query = "",
        .headers = h,
        .nheaders = sizeof(h) / sizeof(h[0]),
        .body = body,
        .body_len = (size_t)blen,
    };
    if (!sigv4_sign(&r, opt.access_key, opt.secret_key, opt.region, "dynamodb", body_hash, auth,
                    sizeof(auth))) {
        fprintf(stderr, "bench_loadgen: sigv4_sign failed\n");
        exit(1);
    }
    hlen = snprintf(c->wbuf, cap,
                    "POST / HTTP/1.1\r\nHost: %s\r\n"
                    "Content-Type: application/x-amz-json-1.0\r\n"
                    "X-Amz-Date: %s\r\nX-Amz-Target: %s\r\nAuthorization: %s\r\n"
                    "Content-Length: %d\r\n\r\n",
                    lg_host_header, t->amz_date, target, auth, blen);
    memmove(c->wbuf + hlen, body, (size_t)blen);
    c->wlen = (size_t)hlen + (size_t)blen;
}

/* The room for a request's head, and for its body (besides the value). */
enum { LG_HEAD_ROOM = 3072, LG_BODY_ROOM = 1024 };

/* Format the signed head of an S3 request into c->wbuf: @method on @path
 * (path style, already URL-safe), UNSIGNED-PAYLOAD, and a Content-Length of
 * @body_len unless the method is GET. */
static void lg_s3_head(struct lg_conn *c, const char *method, const char *path, size_t body_len)
{
    struct lg_thread *t = c->t;
    char auth[1024], clen[48] = "";
    time_t now = time(NULL);

    if (now != t->date_sec) {
        t->date_sec = now;
        sigv4_format_date(now, t->amz_date);
    }
    /* In canonical (sorted) order. */
    struct sigv4_header h[] = {
        {"host", lg_host_header},
        {"x-amz-content-sha256", "UNSIGNED-PAYLOAD"},
        {"x-amz-date", t->amz_date},
    };
    struct sigv4_request r = {
        .method = method,
        .path = path,
        .query = "",
        .headers = h,
        .nheaders = sizeof(h) / sizeof(h[0]),
        .s3_paths = true,
    };
    if (!sigv4_sign(&r, opt.access_key, opt.secret_key, opt.region, "s3", "UNSIGNED-PAYLOAD", auth,
                    sizeof(auth))) {
        fprintf(stderr, "bench_loadgen: sigv4_sign failed\n");
        exit(1);
    }
    if (strcmp(method, "GET") != 0)
        snprintf(clen, sizeof(clen), "Content-Length: %zu\r\n", body_len);
    lg_wreserve(c, LG_HEAD_ROOM);
    c->wlen = (size_t)snprintf(c->wbuf, c->wcap,
                               "%s %s HTTP/1.1\r\nHost: %s\r\n"
                               "X-Amz-Content-Sha256: UNSIGNED-PAYLOAD\r\nX-Amz-Date: %s\r\n"
                               "Authorization: %s\r\n%s\r\n",
                               method, path, lg_host_header, t->amz_date, auth, clen);
}

/* Build the next request into c->wbuf (and c->body). */
static void lg_build(struct lg_conn *c)
{
    struct lg_thread *t = c->t;
    size_t cap = LG_HEAD_ROOM + LG_BODY_ROOM + 4 * (size_t)opt.value_size;
    char key[96], path[400];
    char *body;
    int blen;

    c->body = NULL;
    c->body_len = 0;
    if (opt.mode == LG_S3_PUT) {
        long long n = atomic_fetch_add(&lg_next_key, 1) % opt.keys;

        snprintf(path, sizeof(path), "/%s/%s%lld", opt.bucket, opt.key_prefix, opt.key_start + n);
        lg_s3_head(c, "PUT", path, (size_t)opt.value_size);
        c->body = t->value;
        c->body_len = (size_t)opt.value_size;
        return;
    }
    if (opt.mode == LG_S3_GET) {
        snprintf(path, sizeof(path), "/%s/%s%lld", opt.bucket, opt.key_prefix,
                 opt.key_start + (long long)(lg_rand(t) % (uint64_t)opt.keys));
        lg_s3_head(c, "GET", path, 0);
        return;
    }
    if (opt.mode == LG_HELLO) {
        lg_wreserve(c, 256);
        c->wlen = (size_t)snprintf(c->wbuf, c->wcap, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n",
                                   lg_host_header);
        return;
    }
    /* The body goes in the second half of wbuf; the head is then formatted in
     * front of it and the body moved up behind the head. */
    lg_wreserve(c, cap * 2);
    body = c->wbuf + cap;
    if (opt.mode == LG_PUT && opt.sort_key) {
        long long n = opt.key_start + atomic_fetch_add(&lg_next_key, 1);

        snprintf(key, sizeof(key), "%s%lld", opt.key_prefix, n % opt.keys);
        blen = snprintf(body, cap,
                        "{\"TableName\":\"%s\",\"Item\":{\"id\":{\"S\":\"%s\"},"
                        "\"sk\":{\"N\":\"%lld\"},\"v\":{\"S\":\"%s\"}}}",
                        opt.table, key, n, t->value);
        lg_sign_into(c, "DynamoDB_20120810.PutItem", body, blen, cap);
    } else if (opt.mode == LG_PUT) {
        snprintf(key, sizeof(key), "%s%lld", opt.key_prefix,
                 opt.key_start + atomic_fetch_add(&lg_next_key, 1));
        blen = snprintf(body, cap,
                        "{\"TableName\":\"%s\",\"Item\":{\"id\":{\"S\":\"%s\"},"
                        "\"v\":{\"S\":\"%s\"}}}",
                        opt.table, key, t->value);
        lg_sign_into(c, "DynamoDB_20120810.PutItem", body, blen, cap);
    } else if (opt.mode == LG_QUERY) {
        snprintf(key, sizeof(key), "%s%lld", opt.key_prefix,
                 opt.key_start + (long long)(lg_rand(t) % (uint64_t)opt.keys));
        blen = snprintf(body, cap,
                        "{\"TableName\":\"%s\",\"KeyConditionExpression\":\"id = :p\","
                        "\"ExpressionAttributeValues\":{\":p\":{\"S\":\"%s\"}},\"Limit\":%d}",
                        opt.table, key, opt.page);
        lg_sign_into(c, "DynamoDB_20120810.Query", body, blen, cap);
    } else if (opt.mode == LG_UPDATE) {
        snprintf(key, sizeof(key), "%s%lld", opt.key_prefix,
                 opt.key_start + (long long)(lg_rand(t) % (uint64_t)opt.keys));
        blen = snprintf(body, cap,
                        "{\"TableName\":\"%s\",\"Key\":{\"id\":{\"S\":\"%s\"}},"
                        "\"UpdateExpression\":\"SET c = if_not_exists(c, :z) + :one\","
                        "\"ConditionExpression\":\"attribute_exists(id)\","
                        "\"ExpressionAttributeValues\":{\":z\":{\"N\":\"0\"},"
                        "\":one\":{\"N\":\"1\"}}}",
                        opt.table, key);
        lg_sign_into(c, "DynamoDB_20120810.UpdateItem", body, blen, cap);
    } else if (opt.mode == LG_TXN) {
        long long m = opt.key_start + 4 * atomic_fetch_add(&lg_next_key, 1);
        int n = snprintf(body, cap, "{\"TransactItems\":[");

        for (int i = 0; i < 4; i++)
            n += snprintf(body + n, cap - (size_t)n,
                          "%s{\"Put\":{\"TableName\":\"%s\",\"Item\":{\"id\":{\"S\":"
                          "\"%s%lld\"},\"v\":{\"S\":\"%s\"}}}}",
                          i ? "," : "", opt.table, opt.key_prefix, m + i, t->value);
        blen = n + snprintf(body + n, cap - (size_t)n, "]}");
        lg_sign_into(c, "DynamoDB_20120810.TransactWriteItems", body, blen, cap);
    } else {
        snprintf(key, sizeof(key), "%s%lld", opt.key_prefix,
                 opt.key_start + (long long)(lg_rand(t) % (uint64_t)opt.keys));
        blen = snprintf(body, cap, "{\"TableName\":\"%s\",\"Key\":{\"id\":{\"S\":\"%s\"}}}",
                        opt.table, key);
        lg_sign_into(c, "DynamoDB_20120810.GetItem", body, blen, cap);
    }
}

static void lg_close(struct lg_conn *c, uint64_t retry_at)
{
    if (c->fd >= 0) {
        epoll_ctl(c->t->epfd, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    c->fd = -1;
    c->state = LG_BROKEN;
    c->retry_at = retry_at;
}

static bool lg_connect(struct lg_conn *c)
{
    struct epoll_event ev = {.events = EPOLLIN};
    int one = 1;

    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        goto fail;
    /* A blocking connect: on loopback it completes or fails at once. */
    if (connect(c->fd, (struct sockaddr *)&lg_addr, sizeof(lg_addr)) != 0)
        goto fail;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
    ev.data.ptr = c;
    if (epoll_ctl(c->t->epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0)
        goto fail;
    c->state = LG_READY;
    c->rlen = 0;
    return true;
fail:
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->state = LG_BROKEN;
    c->retry_at = lg_now_ns() + 10 * 1000000u;
    return false;
}

static void lg_want_write(struct lg_conn *c, bool on)
{
    struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0u), .data.ptr = c};

    epoll_ctl(c->t->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Write what remains of the request (wbuf, then body). False when the
 * connection broke. */
static bool lg_flush(struct lg_conn *c)
{
    while (c->woff < c->wlen + c->body_len) {
        struct iovec iov[2];
        struct msghdr mh = {.msg_iov = iov};
        ssize_t n;

        if (c->woff < c->wlen) {
            iov[0].iov_base = c->wbuf + c->woff;
            iov[0].iov_len = c->wlen - c->woff;
            iov[1].iov_base = (void *)c->body;
            iov[1].iov_len = c->body_len;
            mh.msg_iovlen = c->body_len ? 2 : 1;
        } else {
            iov[0].iov_base = (void *)(c->body + (c->woff - c->wlen));
            iov[0].iov_len = c->wlen + c->body_len - c->woff;
            mh.msg_iovlen = 1;
        }
        n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (c->state != LG_SENDING)
                lg_want_write(c, true);
            c->state = LG_SENDING;
            return true;
        }
        if (n <= 0)
            return false;
        c->woff += (size_t)n;
    }
    if (c->state == LG_SENDING)
        lg_want_write(c, false);
    c->state = LG_WAITING;
    return true;
}

/* Count one request that ended at @done. */
static void lg_record(struct lg_conn *c, uint64_t done, bool ok, bool miss)
{
    struct lg_thread *t = c->t;

    if (done < atomic_load(&lg_window_start) || done > atomic_load(&lg_window_end))
        return;
    if (!ok) {
        t->errors++;
        return;
    }
    t->ok++;
    t->misses += miss;
    if (t->nlat == t->latcap) {
        t->latcap = t->latcap ? t->latcap * 2 : 65536;
        t->lat = xrealloc(t->lat, t->latcap * sizeof(*t->lat));
    }
    t->lat[t->nlat++] = done - c->t_start;
}

/* Send the next request on a ready connection, if there is one to send. */
static void lg_start(struct lg_conn *c)
{
    if (atomic_load(&lg_stop) ||
        (opt.requests > 0 && atomic_fetch_add(&lg_tickets, 1) >= opt.requests)) {
        c->state = LG_DONE;
        return;
    }
    lg_build(c);
    c->woff = 0;
    c->rlen = 0;
    c->head_len = 0;
    c->eof = false;
    c->t_start = lg_now_ns();
    if (!lg_flush(c)) {
        lg_record(c, lg_now_ns(), false, false);
        lg_close(c, 0);
    }
}

static bool lg_has_token(const char *v, size_t n, const char *tok)
{
    size_t tl = strlen(tok);

    for (size_t i = 0; i + tl <= n; i++) {
        if (strncasecmp(v + i, tok, tl) == 0)
            return true;
    }
    return false;
}

/* Parse the status line and headers once the blank line has arrived.
 * Returns 1 when parsed, 0 when more is needed, -1 when malformed. */
static int lg_parse_head(struct lg_conn *c)
{
    char *end = memmem(c->rbuf, c->rlen, "\r\n\r\n", 4);
    char *p, *eol;

    if (end == NULL)
        return 0;
    c->head_len = (size_t)(end - c->rbuf) + 4;
    c->content_length = -1;
    c->chunked = false;
    c->close_after = false;
    if (c->head_len < 12 || memcmp(c->rbuf, "HTTP/1.", 7) != 0)
        return -1;
    c->status = atoi(c->rbuf + 9);
    if (c->rbuf[7] == '0')
        c->close_after = true; /* HTTP/1.0: closes unless it says keep-alive */
    p = (char *)memchr(c->rbuf, '\n', c->head_len) + 1;
    while (p < end) {
        char *colon;
        size_t vlen;

        eol = memchr(p, '\r', (size_t)(end + 2 - p));
        colon = memchr(p, ':', (size_t)(eol - p));
        if (colon != NULL) {
            size_t nlen = (size_t)(colon - p);
            char *v = colon + 1;

            while (v < eol && (*v == ' ' || *v == '\t'))
                v++;
            vlen = (size_t)(eol - v);
            if (nlen == 14 && strncasecmp(p, "content-length", 14) == 0)
                c->content_length = strtoll(v, NULL, 10);
            else if (nlen == 17 && strncasecmp(p, "transfer-encoding", 17) == 0)
                c->chunked = lg_has_token(v, vlen, "chunked");
            else if (nlen == 10 && strncasecmp(p, "connection", 10) == 0) {
                if (lg_has_token(v, vlen, "close"))
                    c->close_after = true;
                else if (lg_has_token(v, vlen, "keep-alive"))
                    c->close_after = false;
            }
        }
        p = eol + 2;
    }
    return 1;
}

/* The length of a complete chunked body starting at @p (@n bytes so far),
 * 0 if incomplete, -1 if malformed. */
static long long lg_chunked_len(const char *p, size_t n)
{
    size_t off = 0;

    for (;;) {
        const char *eol = memmem(p + off, n - off, "\r\n", 2);
        char *after;
        unsigned long long size;

        if (eol == NULL)
            return 0;
        size = strtoull(p + off, &after, 16);
        if (after == p + off)
            return -1;
        off = (size_t)(eol - p) + 2;
        if (size == 0) {
            /* Trailers, then the blank line. */
            for (;;) {
                eol = memmem(p + off, n - off, "\r\n", 2);
                if (eol == NULL)
                    return 0;
                if (eol == p + off)
                    return (long long)off + 2;
                off = (size_t)(eol - p) + 2;
            }
        }
        if (n - off < size + 2)
            return 0;
        off += size + 2;
    }
}

/* Whether the answer is complete; sets *@total to its length. -1: malformed. */
static int lg_answer_complete(struct lg_conn *c, size_t *total)
{
    if (c->head_len == 0) {
        int r = lg_parse_head(c);

        if (r <= 0)
            return r;
    }
    if ((c->status >= 100 && c->status < 200) || c->status == 204 || c->status == 304) {
        *total = c->head_len;
        return 1;
    }
    if (c->chunked) {
        long long n = lg_chunked_len(c->rbuf + c->head_len, c->rlen - c->head_len);

        if (n <= 0)
            return (int)n;
        *total = c->head_len + (size_t)n;
        return 1;
    }
    if (c->content_length >= 0) {
        if (c->rlen - c->head_len < (size_t)c->content_length)
            return 0;
        *total = c->head_len + (size_t)c->content_length;
        return 1;
    }
    /* No length: the body runs to the end of the connection. */
    c->close_after = true;
    if (!c->eof)
        return 0;
    *total = c->rlen;
    return 1;
}

/* Send the request in c->wbuf on a fresh blocking connection and read the
 * answer (for setup, not measured). Returns the HTTP status (0 if the call
 * failed) and copies up to @cap-1 bytes of the answer's body into @out.
 * Frees c's buffers. */
static int lg_exchange(struct lg_conn *c, char *out, size_t cap)
{
    size_t total = 0;
    int status = 0, r = 0;

    out[0] = '\0';
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&lg_addr, sizeof(lg_addr)) != 0)
        goto out;
    if (send(c->fd, c->wbuf, c->wlen, MSG_NOSIGNAL) != (ssize_t)c->wlen)
        goto out;
    while (r == 0) {
        ssize_t n;

        if (c->rcap - c->rlen < 4096) {
            c->rcap = c->rcap ? c->rcap * 2 : 16384;
            c->rbuf = xrealloc(c->rbuf, c->rcap);
        }
        n = recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen - 1, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            c->eof = true;
        else
            c->rlen += (size_t)n;
        r = lg_answer_complete(c, &total);
        if (r == 0 && c->eof)
            break;
    }
    if (r == 1) {
        size_t blen = total - c->head_len;

        status = c->status;
        if (blen >= cap)
            blen = cap - 1;
        memcpy(out, c->rbuf + c->head_len, blen);
        out[blen] = '\0';
    }
out:
    if (c->fd >= 0)
        close(c->fd);
    free(c->wbuf);
    free(c->rbuf);
    return status;
}

/* One blocking signed DynamoDB call on a fresh connection (for setup). */
static int lg_call(const char *target, const char *body, char *out, size_t cap)
{
    struct lg_thread t = {0};
    struct lg_conn c = {.t = &t, .fd = -1};
    size_t room = LG_HEAD_ROOM + strlen(body) + 1;

    lg_wreserve(&c, room * 2);
    memcpy(c.wbuf + room, body, strlen(body));
    lg_sign_into(&c, target, c.wbuf + room, (int)strlen(body), room);
    return lg_exchange(&c, out, cap);
}

/* Create the bucket unless the caller owns it already (CreateBucket answers
 * 409 BucketAlreadyOwnedByYou outside us-east-1). */
static int lg_s3_create_bucket(void)
{
    struct lg_thread t = {0};
    struct lg_conn c = {.t = &t, .fd = -1};
    char path[300], ans[4096];
    int st;

    snprintf(path, sizeof(path), "/%s", opt.bucket);
    lg_s3_head(&c, "PUT", path, 0);
    st = lg_exchange(&c, ans, sizeof(ans));
    if (st != 200 && !(st == 409 && strstr(ans, "BucketAlreadyOwnedByYou") != NULL)) {
        fprintf(stderr, "bench_loadgen: CreateBucket %s: HTTP %d: %s\n", opt.bucket, st, ans);
        return 1;
    }
    printf("{\"bucket\":\"%s\"}\n", opt.bucket);
    return 0;
}

/* Create the table (hash key "id", a string) unless it exists, and wait
 * until it is ACTIVE. Pay-per-request first; a server that wants provisioned
 * throughput is asked again with it. */
static int lg_create_table(void)
{
    char body[1024], ans[4096];
    const char *defs = opt.sort_key ? ",{\"AttributeName\":\"sk\",\"AttributeType\":\"N\"}" : "";
    const char *ks = opt.sort_key ? ",{\"AttributeName\":\"sk\",\"KeyType\":\"RANGE\"}" : "";
    char ss[160] = "";
    int st;

    if (opt.stream)
        snprintf(ss, sizeof(ss),
                 ",\"StreamSpecification\":{\"StreamEnabled\":true,\"StreamViewType\":\"%s\"}",
                 opt.stream);

    snprintf(body, sizeof(body),
             "{\"TableName\":\"%s\",\"AttributeDefinitions\":[{\"AttributeName\":\"id\","
             "\"AttributeType\":\"S\"}%s],\"KeySchema\":[{\"AttributeName\":\"id\","
             "\"KeyType\":\"HASH\"}%s],\"BillingMode\":\"PAY_PER_REQUEST\"%s}",
             opt.table, defs, ks, ss);
    st = lg_call("DynamoDB_20120810.CreateTable", body, ans, sizeof(ans));
    if (st == 400 && strstr(ans, "ValidationException") != NULL) {
        snprintf(body, sizeof(body),
                 "{\"TableName\":\"%s\",\"AttributeDefinitions\":[{\"AttributeName\":\"id\","
                 "\"AttributeType\":\"S\"}%s],\"KeySchema\":[{\"AttributeName\":\"id\","
                 "\"KeyType\":\"HASH\"}%s],\"ProvisionedThroughput\":{\"ReadCapacityUnits\":"
                 "1000,\"WriteCapacityUnits\":1000}%s}",
                 opt.table, defs, ks, ss);
        st = lg_call("DynamoDB_20120810.CreateTable", body, ans, sizeof(ans));
    }
    if (st != 200 && !(st == 400 && strstr(ans, "ResourceInUseException") != NULL)) {
        fprintf(stderr, "bench_loadgen: CreateTable %s: HTTP %d: %s\n", opt.table, st, ans);
        return 1;
    }
    snprintf(body, sizeof(body), "{\"TableName\":\"%s\"}", opt.table);
    for (int i = 0; i < 200; i++) {
        st = lg_call("DynamoDB_20120810.DescribeTable", body, ans, sizeof(ans));
        if (st == 200 && strstr(ans, "\"ACTIVE\"") != NULL) {
            printf("{\"table\":\"%s\",\"status\":\"ACTIVE\"}\n", opt.table);
            return 0;
        }
        lg_sleep_until(lg_now_ns() + 50 * 1000000u);
    }
    fprintf(stderr, "bench_loadgen: table %s not ACTIVE after 10 s: HTTP %d: %s\n", opt.table, st,
            ans);
    return 1;
}

static void lg_report_error(struct lg_conn *c, size_t total)
{
    if (atomic_fetch_add(&lg_error_reports, 1) >= 3)
        return;
    fprintf(stderr, "bench_loadgen: HTTP %d: %.*s\n", c->status,
            (int)(total - c->head_len < 400 ? total - c->head_len : 400), c->rbuf + c->head_len);
}

/* lg_missed - a GetItem without "Item", a Query page without --page items,
 * or a GetObject whose body is not --value-size bytes. */
static bool lg_missed(const struct lg_conn *c, size_t total)
{
    const char *b = c->rbuf + c->head_len;
    char want[32];
    int n;

    if (opt.mode == LG_S3_GET)
        return c->chunked ? total - c->head_len < (size_t)opt.value_size
                          : c->content_length != opt.value_size;
    if (opt.mode == LG_GET)
        return memmem(b, total - c->head_len, "\"Item\"", 6) == NULL;
    if (opt.mode != LG_QUERY)
        return false;
    n = snprintf(want, sizeof(want), "\"Count\":%d,", opt.page);
    return memmem(b, total - c->head_len, want, (size_t)n) == NULL;
}

static void lg_on_readable(struct lg_conn *c)
{
    size_t total;
    int r;

    for (;;) {
        ssize_t n;

        if (c->rcap - c->rlen < 4096) {
            c->rcap = c->rcap ? c->rcap * 2 : 16384;
            c->rbuf = xrealloc(c->rbuf, c->rcap);
        }
        n = recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen - 1, 0);
        if (n > 0) {
            c->rlen += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        c->eof = true;
        break;
    }
    if (c->state != LG_WAITING && c->state != LG_SENDING) {
        /* Data or a close while idle: the server ended the connection. */
        lg_close(c, 0);
        return;
    }
    r = lg_answer_complete(c, &total);
    if (r == 0 && !c->eof)
        return;
    if (r <= 0) {
        /* Closed mid-answer, or garbage. */
        lg_record(c, lg_now_ns(), false, false);
        lg_close(c, 0);
        return;
    }
    c->rbuf[total] = '\0';
    if (c->status != 200)
        lg_report_error(c, total);
    lg_record(c, lg_now_ns(), c->status == 200, c->status == 200 && lg_missed(c, total));
    if (c->close_after || c->eof || total != c->rlen) {
        lg_close(c, 0);
        c->t->reconnects++;
        return;
    }
    c->state = LG_READY;
    lg_start(c);
}

static void *lg_thread_main(void *arg)
{
    struct lg_thread *t = arg;
    struct epoll_event evs[64];

    for (int i = 0; i < t->nconns; i++) {
        if (lg_connect(&t->conns[i]))
            lg_start(&t->conns[i]);
        else
            t->errors++;
    }
    for (;;) {
        int live = 0, n;
        uint64_t now;

        n = epoll_wait(t->epfd, evs, 64, 10);
        for (int i = 0; i < n; i++) {
            struct lg_conn *c = evs[i].data.ptr;

            if (c->fd < 0)
                continue; /* closed earlier in this batch */
            if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                lg_on_readable(c);
            if (c->fd >= 0 && c->state == LG_SENDING && (evs[i].events & EPOLLOUT) &&
                !lg_flush(c)) {
                lg_record(c, lg_now_ns(), false, false);
                lg_close(c, 0);
            }
        }
        now = lg_now_ns();
        for (int i = 0; i < t->nconns; i++) {
            struct lg_conn *c = &t->conns[i];

            if (c->state == LG_BROKEN && now >= c->retry_at) {
                if (atomic_load(&lg_stop) ||
                    (opt.requests > 0 && atomic_load(&lg_tickets) >= opt.requests))
                    c->state = LG_DONE;
                else if (lg_connect(c))
                    lg_start(c);
                else {
                    /* A failed connect uses up a request, so a count-bound
                     * run against a dead server ends. */
                    if (opt.requests > 0)
                        atomic_fetch_add(&lg_tickets, 1);
                    lg_record(c, now, false, false);
                }
            }
            if (c->state != LG_DONE)
                live++;
        }
        if (live == 0 || atomic_load(&lg_stop))
            break;
    }
    for (int i = 0; i < t->nconns; i++)
        lg_close(&t->conns[i], 0);
    atomic_fetch_add(&lg_threads_done, 1);
    return NULL;
}

/* utime+stime of @pid in microseconds; -1 if unreadable. */
static long long lg_proc_cpu_us(long pid)
{
    char path[64], buf[2048], *p;
    unsigned long long ut = 0, st = 0;
    FILE *f;
    size_t n;

    if (pid <= 0)
        return -1;
    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
    if (p == NULL ||
        sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (long long)((ut + st) * 1000000ull / (unsigned long long)sysconf(_SC_CLK_TCK));
}

/* the CPU of --pid plus, with --pid2, of that process too (also in @second,
 * else -1 there); -1 if unreadable. */
static long long lg_server_cpu_us(long long *second)
{
    long long a = lg_proc_cpu_us(opt.pid), b;

    *second = -1;
    if (opt.pid2 <= 0 || a < 0)
        return a;
    b = lg_proc_cpu_us(opt.pid2);
    *second = b;
    return b < 0 ? -1 : a + b;
}

static long long lg_self_cpu_us(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (long long)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec +
           (long long)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec;
}

static int lg_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

static double lg_pct_us(const uint64_t *v, size_t n, double pct)
{
    size_t i;

    if (n == 0)
        return 0;
    i = (size_t)(pct / 100.0 * (double)n);
    if (i >= n)
        i = n - 1;
    return (double)v[i] / 1e3;
}

static void lg_usage(void)
{
    fprintf(stderr,
            "usage: bench_loadgen --port P --mode put|get|hello|create-table|query|update|txn\n"
            "                     |s3-put|s3-get|s3-create-bucket\n"
            "  [--host 127.0.0.1] [--sort-key 0|1] [--page 100] [--bucket bench]\n"
            "  [--connections 32] [--threads 1] [--duration S] [--warmup S]\n"
            "  [--requests N [--timeout S]]\n"
            "  [--pid SERVER_PID [--pid2 PID]] [--table bench] [--key-prefix k] [--key-start 0] "
            "[--keys N]\n"
            "  [--value-size 100] [--region us-east-1] [--access-key AK] [--secret-key SK]\n");
    exit(2);
}

static void lg_parse_args(int argc, char **argv)
{
    const char *mode = NULL;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (v == NULL)
            lg_usage();
        i++;
        if (strcmp(a, "--host") == 0)
            opt.host = v;
        else if (strcmp(a, "--port") == 0)
            opt.port = atoi(v);
        else if (strcmp(a, "--mode") == 0)
            mode = v;
        else if (strcmp(a, "--connections") == 0)
            opt.connections = atoi(v);
        else if (strcmp(a, "--threads") == 0)
            opt.threads = atoi(v);
        else if (strcmp(a, "--duration") == 0)
            opt.duration = strtod(v, NULL);
        else if (strcmp(a, "--warmup") == 0)
            opt.warmup = strtod(v, NULL);
        else if (strcmp(a, "--requests") == 0)
            opt.requests = strtoll(v, NULL, 10);
        else if (strcmp(a, "--timeout") == 0)
            opt.timeout = strtod(v, NULL);
        else if (strcmp(a, "--pid") == 0)
            opt.pid = strtol(v, NULL, 10);
        else if (strcmp(a, "--pid2") == 0)
            opt.pid2 = strtol(v, NULL, 10);
        else if (strcmp(a, "--table") == 0)
            opt.table = v;
        else if (strcmp(a, "--bucket") == 0)
            opt.bucket = v;
        else if (strcmp(a, "--key-prefix") == 0)
            opt.key_prefix = v;
        else if (strcmp(a, "--key-start") == 0)
            opt.key_start = strtoll(v, NULL, 10);
        else if (strcmp(a, "--keys") == 0)
            opt.keys = strtoll(v, NULL, 10);
        else if (strcmp(a, "--value-size") == 0)
            opt.value_size = atoi(v);
        else if (strcmp(a, "--sort-key") == 0)
            opt.sort_key = atoi(v) != 0;
        else if (strcmp(a, "--stream") == 0)
            opt.stream = v;
        else if (strcmp(a, "--page") == 0)
            opt.page = atoi(v);
        else if (strcmp(a, "--region") == 0)
            opt.region = v;
        else if (strcmp(a, "--access-key") == 0)
            opt.access_key = v;
        else if (strcmp(a, "--secret-key") == 0)
            opt.secret_key = v;
        else
            lg_usage();
    }
    if (mode == NULL)
        lg_usage();
    if (strcmp(mode, "put") == 0)
        opt.mode = LG_PUT;
    else if (strcmp(mode, "get") == 0)
        opt.mode = LG_GET;
    else if (strcmp(mode, "hello") == 0)
        opt.mode = LG_HELLO;
    else if (strcmp(mode, "create-table") == 0)
        opt.mode = LG_CREATE;
    else if (strcmp(mode, "query") == 0)
        opt.mode = LG_QUERY;
    else if (strcmp(mode, "update") == 0)
        opt.mode = LG_UPDATE;
    else if (strcmp(mode, "txn") == 0)
        opt.mode = LG_TXN;
    else if (strcmp(mode, "s3-put") == 0)
        opt.mode = LG_S3_PUT;
    else if (strcmp(mode, "s3-get") == 0)
        opt.mode = LG_S3_GET;
    else if (strcmp(mode, "s3-create-bucket") == 0)
        opt.mode = LG_S3_BUCKET;
    else
        lg_usage();
    /* Bounded: at most 10 minutes and 100 million requests. */
    if (opt.port <= 0 || opt.port > 65535 || opt.connections < 1 || opt.connections > 4096 ||
        opt.threads < 1 || opt.threads > 64 || opt.duration <= 0 || opt.duration > 600 ||
        opt.warmup < 0 || opt.warmup > 60 || opt.timeout <= 0 || opt.timeout > 600 ||
        opt.requests < 0 || opt.requests > 100000000 || opt.keys < 1 || opt.value_size < 0 ||
        opt.value_size > (opt.mode >= LG_S3_PUT ? 64 << 20 : 300000) || opt.page < 1 ||
        opt.page > 10000 || strlen(opt.key_prefix) > 40 || strlen(opt.table) > 255 ||
        strlen(opt.bucket) > 63)
        lg_usage();
    if (opt.threads > opt.connections)
        opt.threads = opt.connections;
    memset(&lg_addr, 0, sizeof(lg_addr));
    lg_addr.sin_family = AF_INET;
    lg_addr.sin_port = htons((uint16_t)opt.port);
    if (inet_pton(AF_INET, opt.host, &lg_addr.sin_addr) != 1) {
        fprintf(stderr, "bench_loadgen: --host must be a numeric IPv4 address\n");
        exit(2);
    }
    snprintf(lg_host_header, sizeof(lg_host_header), "%s:%d", opt.host, opt.port);
}

static const char *const lg_mode_names[] = {
    "put",    "get", "hello",  "create-table", "query",
    "update", "txn", "s3-put", "s3-get",       "s3-create-bucket"};

int main(int argc, char **argv)
{
    struct lg_thread *th;
    uint64_t t0, t1;
    long long cpu0, cpu1, cpu2_0 = -1, cpu2_1 = -1, self0, self1;
    uint64_t ok = 0, errors = 0, misses = 0, reconnects = 0;
    uint64_t *lat;
    size_t nlat = 0;
    double secs, lat_sum = 0;
    bool timed_out = false;

    lg_parse_args(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    if (opt.mode == LG_CREATE)
        return lg_create_table();
    if (opt.mode == LG_S3_BUCKET)
        return lg_s3_create_bucket();

    th = xcalloc((size_t)opt.threads, sizeof(*th));
    for (int i = 0; i < opt.threads; i++) {
        struct lg_thread *t = &th[i];

        t->nconns = opt.connections / opt.threads + (i < opt.connections % opt.threads);
        t->conns = xcalloc((size_t)t->nconns, sizeof(*t->conns));
        for (int j = 0; j < t->nconns; j++) {
            t->conns[j].t = t;
            t->conns[j].fd = -1;
        }
        t->rng = 0x9E3779B97F4A7C15ull * (uint64_t)(i + 1) ^ (uint64_t)getpid();
        t->value = xmalloc((size_t)opt.value_size + 1);
        memset(t->value, 'v', (size_t)opt.value_size);
        t->value[opt.value_size] = '\0';
        t->epfd = epoll_create1(EPOLL_CLOEXEC);
        if (t->epfd < 0) {
            perror("bench_loadgen: epoll_create1");
            return 1;
        }
    }

    t0 = lg_now_ns();
    if (opt.requests > 0) {
        /* A fixed count: every request counts, from the first. */
        atomic_store(&lg_window_start, 0);
    } else {
        atomic_store(&lg_window_start, t0 + (uint64_t)(opt.warmup * 1e9));
    }
    cpu0 = lg_server_cpu_us(&cpu2_0);
    self0 = lg_self_cpu_us();
    for (int i = 0; i < opt.threads; i++)
        pthread_create(&th[i].tid, NULL, lg_thread_main, &th[i]);

    if (opt.requests > 0) {
        uint64_t deadline = t0 + (uint64_t)(opt.timeout * 1e9);

        while (atomic_load(&lg_threads_done) < opt.threads && lg_now_ns() < deadline)
            lg_sleep_until(lg_now_ns() + 20 * 1000000u);
        timed_out = atomic_load(&lg_threads_done) < opt.threads;
        atomic_store(&lg_stop, true);
        for (int i = 0; i < opt.threads; i++)
            pthread_join(th[i].tid, NULL);
        t1 = lg_now_ns();
        cpu1 = lg_server_cpu_us(&cpu2_1);
        self1 = lg_self_cpu_us();
    } else {
        lg_sleep_until(atomic_load(&lg_window_start));
        t0 = lg_now_ns();
        cpu0 = lg_server_cpu_us(&cpu2_0);
        self0 = lg_self_cpu_us();
        lg_sleep_until(t0 + (uint64_t)(opt.duration * 1e9));
        t1 = lg_now_ns();
        atomic_store(&lg_window_end, t1);
        cpu1 = lg_server_cpu_us(&cpu2_1);
        self1 = lg_self_cpu_us();
        atomic_store(&lg_stop, true);
        for (int i = 0; i < opt.threads; i++)
            pthread_join(th[i].tid, NULL);
    }

    for (int i = 0; i < opt.threads; i++) {
        ok += th[i].ok;
        errors += th[i].errors;
        misses += th[i].misses;
        reconnects += th[i].reconnects;
        nlat += th[i].nlat;
    }
    lat = xmalloc((nlat + 1) * sizeof(*lat));
    nlat = 0;
    for (int i = 0; i < opt.threads; i++) {
        if (th[i].nlat > 0)
            memcpy(lat + nlat, th[i].lat, th[i].nlat * sizeof(*lat));
        nlat += th[i].nlat;
    }
    qsort(lat, nlat, sizeof(*lat), lg_cmp);
    for (size_t i = 0; i < nlat; i++)
        lat_sum += (double)lat[i];
    secs = (double)(t1 - t0) / 1e9;

    printf("{\"mode\":\"%s\",\"value_size\":%d,\"connections\":%d,\"threads\":%d,\"seconds\":%.3f,"
           "\"requests\":%" PRIu64 ",\"ok\":%" PRIu64 ",\"errors\":%" PRIu64 ",\"misses\":%" PRIu64
           ",\"reconnects\":%" PRIu64 ",\"ops_per_s\":%.1f,"
           "\"latency_us\":{\"mean\":%.1f,\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"max\":%.1f},",
           lg_mode_names[opt.mode], opt.value_size, opt.connections, opt.threads, secs, ok + errors,
           ok, errors, misses, reconnects, (double)ok / secs,
           nlat ? lat_sum / (double)nlat / 1e3 : 0.0, lg_pct_us(lat, nlat, 50),
           lg_pct_us(lat, nlat, 90), lg_pct_us(lat, nlat, 99),
           nlat ? (double)lat[nlat - 1] / 1e3 : 0.0);
    if (cpu0 >= 0 && cpu1 >= 0 && ok + errors > 0)
        printf("\"server_cpu_us_per_req\":%.2f,\"server_cpu_util\":%.3f,",
               (double)(cpu1 - cpu0) / (double)(ok + errors), (double)(cpu1 - cpu0) / 1e6 / secs);
    else
        printf("\"server_cpu_us_per_req\":null,\"server_cpu_util\":null,");
    if (cpu2_0 >= 0 && cpu2_1 >= 0 && ok + errors > 0) /* --pid2's share of the above */
        printf("\"pid2_cpu_us_per_req\":%.2f,", (double)(cpu2_1 - cpu2_0) / (double)(ok + errors));
    printf("\"client_cpu_us_per_req\":%.2f,\"timed_out\":%s}\n",
           ok + errors > 0 ? (double)(self1 - self0) / (double)(ok + errors) : 0.0,
           timed_out ? "true" : "false");

    for (int i = 0; i < opt.threads; i++) {
        for (int j = 0; j < th[i].nconns; j++) {
            free(th[i].conns[j].wbuf);
            free(th[i].conns[j].rbuf);
        }
        free(th[i].conns);
        free(th[i].lat);
        free(th[i].value);
        close(th[i].epfd);
    }
    free(th);
    free(lat);
    return (errors > 0 && ok == 0) || timed_out ? 1 : 0;
}
