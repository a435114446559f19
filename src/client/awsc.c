/* awsc.c - see awsc.h. */
#include "awsc.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "clock.h"
#include "mem.h"
#include "sigv4.h"

enum { MAX_HEADERS = 24 };

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static pthread_key_t curl_key;

static void free_handle(void *h)
{
    curl_easy_cleanup(h);
}

static void global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    pthread_key_create(&curl_key, free_handle);
}

/* Each thread keeps one easy handle: it holds the thread's connection cache,
 * so calls to the same peer reuse their keep-alive connection. */
static CURL *thread_handle(void)
{
    CURL *h;

    pthread_once(&init_once, global_init);
    h = pthread_getspecific(curl_key);
    if (!h) {
        h = curl_easy_init();
        if (!h)
            return NULL;
        pthread_setspecific(curl_key, h);
    } else {
        curl_easy_reset(h);
    }
    return h;
}

struct body_ctx {
    struct awsc_resp *out;
    const struct awsc_req *req;
    CURL *h;
    long status; /* of the response being received, asked of curl at its first byte; 0: not yet */
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct body_ctx *b = ud;

    if (b->req->on_data) {
        if (!b->status)
            curl_easy_getinfo(b->h, CURLINFO_RESPONSE_CODE, &b->status);
        if (b->status == 200)
            return b->req->on_data(b->req->data_ud, p, size * n) ? size * n : 0;
    }
    if (buf_append(&b->out->body, p, size * n))
        return 0;
    return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    struct body_ctx *b = ud;
    struct awsc_resp *out = b->out;
    size_t len = size * n, i;
    char *colon = memchr(p, ':', len);
    char *name, *value;
    size_t vlen;

    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        /* a new response (after 100 Continue or a redirect): start over */
        for (i = 0; i < out->nheaders; i++) {
            free((char *)out->headers[i].name);
            free((char *)out->headers[i].value);
        }
        out->nheaders = 0;
        b->status = 0;
        return len;
    }
    if (!colon)
        return len;
    name = xstrndup(p, (size_t)(colon - p));
    for (i = 0; name[i]; i++)
        name[i] = (char)tolower((unsigned char)name[i]);
    value = colon + 1;
    vlen = len - (size_t)(value - p);
    while (vlen && (*value == ' ' || *value == '\t')) {
        value++;
        vlen--;
    }
    while (vlen && (value[vlen - 1] == '\r' || value[vlen - 1] == '\n' || value[vlen - 1] == ' '))
        vlen--;
    out->headers = xrealloc(out->headers, (out->nheaders + 1) * sizeof(*out->headers));
    out->headers[out->nheaders].name = name;
    out->headers[out->nheaders].value = xstrndup(value, vlen);
    out->nheaders++;
    return len;
}

/* host_of - the Host header curl will send for @endpoint ("host[:port]"). */
static void host_of(const char *endpoint, char *out, size_t cap)
{
    const char *p = strstr(endpoint, "://");
    size_t n;

    p = p ? p + 3 : endpoint;
    n = strcspn(p, "/");
    if (n >= cap)
        n = cap - 1;
    memcpy(out, p, n);
    out[n] = '\0';
    /* curl leaves the default port out of Host */
    if (strncmp(endpoint, "http://", 7) == 0 && n > 3 && strcmp(out + n - 3, ":80") == 0)
        out[n - 3] = '\0';
    if (strncmp(endpoint, "https://", 8) == 0 && n > 4 && strcmp(out + n - 4, ":443") == 0)
        out[n - 4] = '\0';
}

static void lower_copy(char *dst, size_t cap, const char *src)
{
    size_t i;

    for (i = 0; src[i] && i + 1 < cap; i++)
        dst[i] = (char)tolower((unsigned char)src[i]);
    dst[i] = '\0';
}

enum err_code awsc_call(const struct awsc_creds *c, const struct awsc_req *r, struct awsc_resp *out,
                        struct err *e)
{
    struct sigv4_header hs[MAX_HEADERS];
    char names[MAX_HEADERS][64];
    char host[256], date[17], hash[65], auth[2048];
    struct curl_slist *list = NULL;
    struct sigv4_request sr;
    enum err_code rc = ERR_OK;
    size_t nh = 0, i;
    char *url = NULL;
    const char *ca;
    CURLcode cc;
    CURL *h;
    struct body_ctx bctx;

    memset(out, 0, sizeof(*out));
    buf_init(&out->body, 0);
    if (r->nheaders + 4 > MAX_HEADERS)
        return err_set(e, ERR_INVALID, "too many headers");
    h = thread_handle();
    if (!h)
        return err_set(e, ERR_IO, "cannot start an HTTP client");

    bctx = (struct body_ctx){.out = out, .req = r, .h = h};
    host_of(r->endpoint, host, sizeof(host));
    sigv4_format_date(clock_wall_s(), date);
    if (r->unsigned_payload)
        snprintf(hash, sizeof(hash), "UNSIGNED-PAYLOAD");
    else
        sigv4_sha256_hex(r->body ? r->body : "", r->body_len, hash);

    hs[nh++] = (struct sigv4_header){"host", host};
    hs[nh++] = (struct sigv4_header){"x-amz-date", date};
    if (strcmp(r->service, "s3") == 0)
        hs[nh++] = (struct sigv4_header){"x-amz-content-sha256", hash};
    if (c->session_token && *c->session_token)
        hs[nh++] = (struct sigv4_header){"x-amz-security-token", c->session_token};
    for (i = 0; i < r->nheaders; i++) {
        lower_copy(names[nh], sizeof(names[nh]), r->headers[i].name);
        hs[nh].name = names[nh];
        hs[nh].value = r->headers[i].value;
        nh++;
    }
    sr = (struct sigv4_request){
        .method = r->method,
        .path = r->path,
        .query = r->query ? r->query : "",
        .headers = hs,
        .nheaders = nh,
        .s3_paths = strcmp(r->service, "s3") == 0,
    };
    if (!sigv4_sign(&sr, c->access_key, c->secret, r->region, r->service, hash, auth, sizeof(auth)))
        return err_set(e, ERR_INTERNAL, "request too large to sign");

    for (i = 1; i < nh; i++) { /* Host is curl's to send */
        char *line = xmalloc(strlen(hs[i].name) + strlen(hs[i].value) + 3);
        sprintf(line, "%s: %s", hs[i].name, hs[i].value);
        list = curl_slist_append(list, line);
        free(line);
    }
    {
        char *line = xmalloc(strlen(auth) + 16);
        sprintf(line, "Authorization: %s", auth);
        list = curl_slist_append(list, line);
        free(line);
    }
    list = curl_slist_append(list, "Expect:"); /* no 100-continue round trip */

    url = xmalloc(strlen(r->endpoint) + strlen(r->path) + (r->query ? strlen(r->query) : 0) + 2);
    sprintf(url, "%s%s%s%s", r->endpoint, r->path, r->query && *r->query ? "?" : "",
            r->query && *r->query ? r->query : "");

    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, r->timeout_ms > 0 ? r->timeout_ms : 30000L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &bctx);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &bctx);
    if (strcmp(r->method, "HEAD") == 0)
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    if (r->body_len || strcmp(r->method, "POST") == 0 || strcmp(r->method, "PUT") == 0) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->body ? r->body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
    }
    ca = r->ca_file ? r->ca_file : getenv("AWS_CA_BUNDLE");
    if (ca && *ca)
        curl_easy_setopt(h, CURLOPT_CAINFO, ca);

    cc = curl_easy_perform(h);
    if (cc != CURLE_OK) {
        rc = err_set(e, ERR_IO, "%s %s%s: %s", r->method, r->endpoint, r->path,
                     curl_easy_strerror(cc));
        goto out;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
out:
    curl_slist_free_all(list);
    free(url);
    return rc;
}

enum err_code awsc_json(const struct awsc_creds *c, const char *endpoint, const char *region,
                        const char *service, const char *target, const char *json,
                        struct awsc_resp *out, struct err *e)
{
    const struct awsc_header hs[] = {
        {"Content-Type", "application/x-amz-json-1.0"},
        {"X-Amz-Target", target},
    };
    struct awsc_req r = {
        .method = "POST",
        .endpoint = endpoint,
        .path = "/",
        .region = region,
        .service = service,
        .headers = hs,
        .nheaders = 2,
        .body = json,
        .body_len = strlen(json),
    };
    return awsc_call(c, &r, out, e);
}

const char *awsc_resp_header(const struct awsc_resp *r, const char *lname)
{
    size_t i;

    for (i = 0; i < r->nheaders; i++)
        if (strcmp(r->headers[i].name, lname) == 0)
            return r->headers[i].value;
    return NULL;
}

void awsc_resp_free(struct awsc_resp *r)
{
    size_t i;

    if (!r)
        return;
    buf_free(&r->body);
    for (i = 0; i < r->nheaders; i++) {
        free((char *)r->headers[i].name);
        free((char *)r->headers[i].value);
    }
    free(r->headers);
    r->headers = NULL;
    r->nheaders = 0;
    r->status = 0;
}
