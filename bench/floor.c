/* floor.c - the floor for HTTP cost: a hello-world server on libmicrohttpd.
 *
 * Same daemon options as the region's front door (src/http): internal polling
 * thread, epoll, suspend/resume allowed, one thread per core, each its own
 * daemon, and new connections dealt out to them in turn by an accepting
 * thread (MHD_add_connection), as the front door does. Every
 * request, whatever its method, path or body, is answered 200 with a small
 * fixed JSON body, so whatever a real server costs above this is its own work.
 * With --body-size N, every GET is answered with N bytes instead (the floor
 * for GetObject of an N-byte object); other methods still get the small body.
 *
 *   bench_floor --listen 127.0.0.1:PORT [--threads N] [--body-size N]
 *
 * Runs until SIGINT or SIGTERM. Links only libmicrohttpd. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <microhttpd.h>

static const char floor_body[] = "{\"ok\":true}";
static char *floor_get_body; /* --body-size bytes, or NULL */
static size_t floor_get_len;

/* A request with a body reaches us several times: first with no data, then
 * with each piece of the upload, then once more with none left. The body is
 * read and dropped; the answer goes out on that last call. */
static enum MHD_Result floor_on_request(void *cls, struct MHD_Connection *c, const char *url,
                                        const char *method, const char *version,
                                        const char *upload_data, size_t *upload_data_size,
                                        void **req_cls)
{
    static int seen;
    struct MHD_Response *resp;
    enum MHD_Result ret;

    (void)cls;
    (void)url;
    (void)version;
    (void)upload_data;
    if (*req_cls == NULL) {
        *req_cls = &seen;
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (floor_get_body != NULL && strcmp(method, "GET") == 0) {
        resp =
            MHD_create_response_from_buffer(floor_get_len, floor_get_body, MHD_RESPMEM_PERSISTENT);
        if (resp == NULL)
            return MHD_NO;
        MHD_add_response_header(resp, "Content-Type", "binary/octet-stream");
    } else {
        resp = MHD_create_response_from_buffer(sizeof(floor_body) - 1, (void *)floor_body,
                                               MHD_RESPMEM_PERSISTENT);
        if (resp == NULL)
            return MHD_NO;
        MHD_add_response_header(resp, "Content-Type", "application/x-amz-json-1.0");
    }
    ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ret;
}

enum { FLOOR_MAX_THREADS = 64 };
static struct MHD_Daemon *floor_d[FLOOR_MAX_THREADS];
static long floor_nd;
static int floor_lfd;

/* Deal new connections out to the daemons in turn, until the socket closes. */
static void *floor_accept(void *arg)
{
    long next = 0;

    (void)arg;
    for (;;) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        int fd = accept4(floor_lfd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE) {
                poll(NULL, 0, 10);
                continue;
            }
            return NULL; /* shut down */
        }
        MHD_add_connection(floor_d[next], fd, (struct sockaddr *)&ss, len);
        next = (next + 1) % floor_nd;
    }
}

static void floor_usage(void)
{
    fprintf(stderr, "usage: bench_floor --listen HOST:PORT [--threads N] [--body-size N]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *listen_at = NULL;
    long threads = sysconf(_SC_NPROCESSORS_ONLN);
    long body_size = -1;
    char host[64];
    const char *colon;
    struct sockaddr_in sa;
    pthread_t acceptor;
    sigset_t set;
    int sig;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc)
            listen_at = argv[++i];
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--body-size") == 0 && i + 1 < argc)
            body_size = strtol(argv[++i], NULL, 10);
        else
            floor_usage();
    }
    if (listen_at == NULL || threads < 1 || threads > FLOOR_MAX_THREADS || body_size > (64L << 20))
        floor_usage();
    if (body_size >= 0) {
        floor_get_len = (size_t)body_size;
        floor_get_body = malloc(floor_get_len + 1);
        if (floor_get_body == NULL)
            return 1;
        memset(floor_get_body, 'v', floor_get_len);
    }
    colon = strrchr(listen_at, ':');
    if (colon == NULL || (size_t)(colon - listen_at) >= sizeof(host))
        floor_usage();
    memcpy(host, listen_at, (size_t)(colon - listen_at));
    host[colon - listen_at] = '\0';
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)atoi(colon + 1));
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        floor_usage();

    /* Block the stop signals before MHD starts its threads, so they inherit
     * the mask and only sigwait() below sees them. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    floor_lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (floor_lfd < 0 || setsockopt(floor_lfd, SOL_SOCKET, SO_REUSEADDR, &(int){1}, sizeof(int)) ||
        bind(floor_lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(floor_lfd, SOMAXCONN)) {
        fprintf(stderr, "bench_floor: cannot listen on %s: %s\n", listen_at, strerror(errno));
        return 1;
    }
    for (floor_nd = 0; floor_nd < threads; floor_nd++) {
        floor_d[floor_nd] =
            MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                                 MHD_ALLOW_SUSPEND_RESUME | MHD_USE_NO_LISTEN_SOCKET,
                             0, NULL, NULL, floor_on_request, NULL, MHD_OPTION_END);
        if (floor_d[floor_nd] == NULL) {
            fprintf(stderr, "bench_floor: cannot start a daemon: %s\n", strerror(errno));
            return 1;
        }
    }
    if (pthread_create(&acceptor, NULL, floor_accept, NULL) != 0)
        return 1;
    fprintf(stderr, "bench_floor: listening on %s with %ld threads\n", listen_at, threads);
    sigwait(&set, &sig);
    shutdown(floor_lfd, SHUT_RDWR);
    pthread_join(acceptor, NULL);
    close(floor_lfd);
    while (floor_nd)
        MHD_stop_daemon(floor_d[--floor_nd]);
    free(floor_get_body);
    return 0;
}
