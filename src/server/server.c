/* server.c - see server.h. */
#include "server.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "creds.h"
#include "ddb.h"
#include "fn.h"
#include "http.h"
#include "iam.h"
#include "log.h"
#include "ddb_s3_hook.h"
#include "s3_fn_hook.h"
#include "mem.h"
#include "metrics.h"
#include "repl.h"
#include "s3.h"
#include "s3_read.h"
#include "sigv4.h"
#include "store.h"

struct region {
    const char *name; /* e.g. us-east-1 */
    struct creds *creds;
    struct store *store;
    struct ddb *ddb;
    struct repl *repl;
    struct fn *fn;
    struct s3 *s3;
    struct iam *iam;
    struct authz authz;
    struct ddb_s3_hook *ddb_s3; /* exports and imports reach S3 through it */
};

enum { MAX_PEERS = 16 };

struct server_args {
    const char *region;
    const char *data;
    const char *listen;
    const char *tls_listen;
    const char *tls_cert;
    const char *tls_key;
    const char *access_key;
    const char *secret_key;
    const char *credentials;
    const char *account;
    const char *public_url;
    int sts_min_duration;     /* --sts-min-duration: tests only (docs/iam.md) */
    const char *iam_home;     /* --iam-home: the home region of identity (docs/iam.md) */
    const char *oidc_ca_file; /* --oidc-ca-file: CAs for OIDC issuers' servers */
    unsigned webid_workers;   /* --sts-webid-workers: 0 = iam's default */
    unsigned webid_queue;     /* --sts-webid-queue: 0 = iam's default */
    unsigned ttl_interval;    /* --ttl-interval: DynamoDB TTL sweeper period, seconds */
    unsigned fn_max;          /* --fn-max-instances: per function, 0 = fn's default */
    unsigned fn_idle;         /* --fn-idle-seconds: reap idle instances, 0 = fn's default */
    const char *fn_user;      /* --fn-user: who functions run as when root (docs/lambda.md) */
    unsigned fn_uid_base;     /* --fn-uid-base: one uid per function from here, 0 = off */
    unsigned threads;
    size_t map_size;
    struct repl_peer_opt peers[MAX_PEERS];
    size_t npeers;
};

static const char ddb_target_prefix[] = "DynamoDB_20120810.";
static const char streams_target_prefix[] = "DynamoDBStreams_20120810.";

/* fn_s3_get - Lambda's Code.S3Bucket/S3Key packages, read from this region's S3. */
static int fn_s3_get(void *ud, const char *bucket, const char *key, struct buf *out, char *code,
                     size_t code_cap, char *msg, size_t msg_cap)
{
    return s3_read_object(ud, bucket, key, out, code, code_cap, msg, msg_cap);
}

/* fn_stream_call - Lambda's event source mappings read this region's streams. */
static int fn_stream_call(void *ud, const char *op, const char *in, struct buf *out)
{
    return ddb_streams_call(ud, op, in, out);
}

static void answer_health(struct http_req *r)
{
    const char *host = http_req_header(r, "host");
    char *body = arena_sprintf(r->arena, "healthy: %s ", host ? host : "localhost");

    http_resp_header(r, "Content-Type", "text/plain");
    http_respond(r, 200, body, strlen(body));
}

/* CORS for the region's own endpoint, as DynamoDB's answers browsers: any
 * origin may call, every answer names the headers a script may read, and a
 * preflight is granted the method and headers it asks for. It covers what
 * is sent to "/" of the region (DynamoDB, STS, IAM, the health check); a
 * bucket's requests (virtual-host) follow the bucket's CORS configuration
 * and function URLs their own. Returns true when it answered a preflight. */
static bool region_cors(struct http_req *r)
{
    const char *method, *headers;

    if (!http_req_header(r, "origin") || strcmp(r->path, "/") != 0 || s3_is_vhost(r))
        return false;
    http_resp_header(r, "Access-Control-Allow-Origin", "*");
    http_resp_header(r, "Access-Control-Expose-Headers",
                     "x-amzn-RequestId,x-amzn-ErrorType,x-amzn-ErrorMessage,Date,x-amz-crc32");
    if (strcmp(r->method, "OPTIONS") != 0)
        return false;
    if ((method = http_req_header(r, "access-control-request-method")))
        http_resp_header(r, "Access-Control-Allow-Methods", method);
    if ((headers = http_req_header(r, "access-control-request-headers")))
        http_resp_header(r, "Access-Control-Allow-Headers", headers);
    http_resp_header(r, "Access-Control-Max-Age", "172800"); /* two days */
    http_respond(r, 200, "", 0);
    return true;
}

/* The services one region serves on its one port. */
enum svc {
    SVC_HEALTH,
    SVC_DDB,
    SVC_LAMBDA,
    SVC_FN_URL,
    SVC_S3,
    SVC_IAM,   /* query protocol, credential scope "iam" */
    SVC_STS,   /* query protocol, credential scope "sts" */
    SVC_QUERY, /* unsigned query-protocol form: IAM or STS, told by the body's Version */
    SVC_REPL,  /* /_tandem/...: replication between regions, metrics */
    SVC_UNKNOWN,
};

/* The error a failed signature check gets: AWS's front door answers in the
 * shape of the service asked — JSON 1.0 with __type (DynamoDB), REST JSON with
 * x-amzn-ErrorType (Lambda), query-protocol XML (IAM, STS). */
static void answer_auth_failure(struct http_req *r, enum svc svc, const struct sigv4_result *v)
{
    const char *type = "InvalidSignatureException", *xml = "SignatureDoesNotMatch";
    const char *msg = v->msg;
    const char *auth = http_req_header(r, "authorization");
    enum sigv4_fail fail = v->fail;
    int status = 400;

    /* DynamoDB takes an Authorization header of another scheme than AWS4-
     * for none at all */
    if (svc == SVC_DDB && fail == SIGV4_INCOMPLETE && !v->presigned && auth &&
        strncmp(auth, "AWS4-", 5) != 0)
        fail = SIGV4_MISSING;
    switch (fail) {
    case SIGV4_MISSING:
        type = "MissingAuthenticationTokenException";
        xml = "MissingAuthenticationToken";
        msg = "Request is missing Authentication Token";
        break;
    case SIGV4_INCOMPLETE:
        type = "IncompleteSignatureException";
        xml = "IncompleteSignature";
        break;
    case SIGV4_UNKNOWN_KEY:
    case SIGV4_BAD_TOKEN:
        type = "UnrecognizedClientException";
        xml = "InvalidClientTokenId";
        msg = "The security token included in the request is invalid.";
        break;
    case SIGV4_TOKEN_EXPIRED:
        type = "ExpiredTokenException";
        xml = "ExpiredToken";
        msg = "The security token included in the request is expired";
        break;
    default:
        break;
    }
    if (svc == SVC_IAM || svc == SVC_STS) {
        iam_respond_error(r, svc == SVC_STS, v->fail == SIGV4_INCOMPLETE ? 400 : 403, xml, msg);
        return;
    }
    if (svc == SVC_LAMBDA || svc == SVC_FN_URL) {
        struct buf b;

        buf_init(&b, 0);
        buf_puts(&b, "{\"message\":");
        buf_json_str(&b, msg, strlen(msg));
        buf_putc(&b, '}');
        http_resp_header(r, "Content-Type", "application/json");
        http_resp_header(r, "x-amzn-ErrorType", type);
        http_respond_buf(r, 403, &b);
        buf_free(&b);
        return;
    }
    ddb_respond_error(r, status, arena_sprintf(r->arena, "com.amazon.coral.service#%s", type), msg);
}

/* scope_service - the service named in the SigV4 credential scope of @r
 * (Authorization header or X-Amz-Credential query), copied into @out; "" if none. */
static void scope_service(const struct http_req *r, char *out, size_t cap)
{
    const char *auth = http_req_header(r, "authorization");
    const char *cred = NULL, *p;
    size_t n;
    int slashes = 0;

    out[0] = '\0';
    if (auth && (p = strstr(auth, "Credential=")))
        cred = p + 11;
    else if ((p = strstr(r->query, "X-Amz-Credential=")))
        cred = p + 17;
    if (!cred)
        return;
    /* AK/DATE/REGION/SERVICE/aws4_request, possibly with %2F for '/' in a query */
    for (p = cred; *p && *p != ',' && *p != '&' && *p != ' '; p++) {
        if (*p == '/' || (p[0] == '%' && p[1] == '2' && (p[2] == 'F' || p[2] == 'f'))) {
            if (++slashes == 3) {
                const char *q = p + (*p == '/' ? 1 : 3);
                for (n = 0; q[n] && q[n] != '/' && q[n] != '%' && n + 1 < cap; n++)
                    out[n] = q[n];
                out[n] = '\0';
                return;
            }
            if (*p == '%')
                p += 2;
        }
    }
}

/* params_have - whether the query-protocol parameters @p (@len bytes, "A=1&B=2")
 * hold the parameter @want ("Name=value"). */
static bool params_have(const char *p, size_t len, const char *want)
{
    const char *start = p, *end = p ? p + len : NULL;
    size_t n = strlen(want);

    for (; p && p + n <= end; p++) {
        if ((p == start || p[-1] == '&') && memcmp(p, want, n) == 0 &&
            (p + n == end || p[n] == '&'))
            return true;
    }
    return false;
}

/* form_has - whether the query-protocol call @r holds the parameter @want:
 * in its form body (POST) or its query string (GET). */
static bool form_has(const struct http_req *r, const char *want)
{
    if (strcmp(r->method, "POST") != 0)
        return params_have(r->query, strlen(r->query), want);
    return params_have(r->body.ptr, r->body.len, want);
}

/* route - which service @r is for, from its headers alone (so the choice can
 * be made before the body arrives): X-Amz-Target first, then the credential
 * scope's service, then the path. */
/* from_sdk - @r carries what AWS SDKs and CLIs send with every call, signed or
 * not (amz-sdk-invocation-id, x-amz-* headers). */
static bool from_sdk(const struct http_req *r)
{
    size_t i;

    if (http_req_header(r, "amz-sdk-invocation-id"))
        return true;
    for (i = 0; i < r->nheaders; i++)
        if (strncasecmp(r->headers[i].name, "x-amz-", 6) == 0)
            return true;
    return false;
}

static enum svc route(const struct http_req *r)
{
    const char *target = http_req_header(r, "x-amz-target");
    char service[32], url_id[64];
    const char *raw_path, *ctype;

    if (fn_url_match(r, url_id, sizeof(url_id), &raw_path))
        return SVC_FN_URL;
    if (strncmp(r->path, "/_tandem/", 9) == 0)
        return SVC_REPL;
    if (s3_is_website(r))
        return SVC_S3;
    if (target)
        return strncmp(target, ddb_target_prefix, sizeof(ddb_target_prefix) - 1) == 0 ||
                       strncmp(target, streams_target_prefix, sizeof(streams_target_prefix) - 1) ==
                           0
                   ? SVC_DDB
                   : SVC_UNKNOWN;
    scope_service(r, service, sizeof(service));
    if (strcmp(service, "dynamodb") == 0)
        return SVC_DDB;
    if (strcmp(service, "iam") == 0)
        return SVC_IAM;
    if (strcmp(service, "sts") == 0)
        return SVC_STS;
    if (strcmp(service, "lambda") == 0 || strncmp(r->path, "/2015-03-31/", 12) == 0 ||
        strncmp(r->path, "/2021-10-31/", 12) == 0 || strncmp(r->path, "/2019-09-25/", 12) == 0 ||
        strncmp(r->path, "/2014-11-13/", 12) == 0 || strncmp(r->path, "/2017-03-31/tags/", 17) == 0)
        return SVC_LAMBDA;
    /* an unsigned query-protocol call (Action=...&Version=... form) is IAM's or
     * STS's, so its MissingAuthenticationToken comes in their XML */
    if (!service[0] && strcmp(r->method, "POST") == 0 && !http_req_header(r, "authorization") &&
        (ctype = http_req_header(r, "content-type")) &&
        strncasecmp(ctype, "application/x-www-form-urlencoded", 33) == 0)
        return SVC_QUERY;
    /* STS takes AssumeRoleWithWebIdentity unsigned as a GET too, its
     * parameters in the query string */
    if (!service[0] && strcmp(r->method, "GET") == 0 && strcmp(r->path, "/") == 0 &&
        !http_req_header(r, "authorization") &&
        params_have(r->query, strlen(r->query), "Action=AssumeRoleWithWebIdentity"))
        return SVC_QUERY;
    /* unsigned GET / is the health check; with a query it is S3 (ListObjects of a
     * virtual-host bucket, which a public bucket policy may allow), and so it is
     * from an AWS SDK (an unsigned ListBuckets, refused as S3 refuses it), which
     * a health probe is not */
    if (!service[0] && strcmp(r->method, "GET") == 0 && strcmp(r->path, "/") == 0 &&
        !http_req_header(r, "authorization") && !r->query[0] && !from_sdk(r))
        return SVC_HEALTH;
    /* S3: scoped to "s3", SigV2 (header or query), or unsigned */
    if (strcmp(service, "s3") == 0 || (!service[0] && s3_is_request(r)))
        return SVC_S3;
    return SVC_UNKNOWN;
}

/* query_is_sts - whether the query-protocol call @r names STS's API version. */
static bool query_is_sts(const struct http_req *r)
{
    return form_has(r, "Version=2011-06-15");
}

/* scope_error - DynamoDB's message when the credential scope of @v does not
 * name this region and @service (both named when both are wrong), or NULL. */
static const char *scope_error(struct region *rg, struct http_req *r, const struct sigv4_result *v,
                               const char *service)
{
    bool region_ok = strcmp(v->region, rg->name) == 0;
    bool service_ok = strcmp(v->service, service) == 0;

    if (region_ok && service_ok)
        return NULL;
    return arena_sprintf(r->arena, "%s%s%s%s%s",
                         region_ok ? "" : "Credential should be scoped to a valid region, not '",
                         region_ok ? "" : v->region, region_ok ? "" : "'. ",
                         service_ok ? "" : "Credential should be scoped to correct service: ",
                         service_ok ? "" : arena_sprintf(r->arena, "'%s'. ", service));
}

/* check_scope - the credential scope must name @service and this region;
 * a scope of another day (@v->fail SIGV4_BAD_DATE) is named after them, in
 * one message, as DynamoDB names every wrong part of the scope at once. */
static bool check_scope(struct region *rg, struct http_req *r, const struct sigv4_result *v,
                        const char *service)
{
    const char *msg = scope_error(rg, r, v, service);

    if (msg && v->fail == SIGV4_BAD_DATE)
        msg = arena_sprintf(r->arena, "%s%s", msg, v->msg);
    if (msg)
        ddb_respond_error(r, 400, "com.amazon.coral.service#InvalidSignatureException", msg);
    return msg == NULL;
}

/* authenticate - SigV4 for the services whose bodies are buffered. On failure
 * answers @r in @svc's error shape and returns NULL. */
static const struct sigv4_result *authenticate(struct region *rg, struct http_req *r, enum svc svc)
{
    struct sigv4_header *hs;
    struct sigv4_request sr;
    struct sigv4_result *v;
    size_t i;

    hs = arena_alloc(r->arena, (r->nheaders ? r->nheaders : 1) * sizeof(*hs));
    for (i = 0; i < r->nheaders; i++) {
        hs[i].name = r->headers[i].name;
        hs[i].value = r->headers[i].value;
    }
    sr = (struct sigv4_request){
        .method = r->method,
        .path = r->path,
        .query = r->query,
        .headers = hs,
        .nheaders = r->nheaders,
        .body = r->body.ptr ? r->body.ptr : "",
        .body_len = r->body.len,
        .s3_paths = false,
    };
    v = arena_alloc(r->arena, sizeof(*v));
    if (!sigv4_verify(rg->creds, &sr, clock_wall_s(), v)) {
        log_debug("event=auth_failed reason=%d remote=%s", (int)v->fail, r->remote_addr);
        /* DynamoDB checks the scope's region and service before the key and
         * the signature */
        if (svc == SVC_DDB && v->service[0] &&
            (v->fail == SIGV4_UNKNOWN_KEY || v->fail == SIGV4_BAD_SIGNATURE ||
             v->fail == SIGV4_BAD_TOKEN || v->fail == SIGV4_TOKEN_EXPIRED ||
             v->fail == SIGV4_BAD_DATE) &&
            !check_scope(rg, r, v, "dynamodb"))
            return NULL;
        answer_auth_failure(r, svc, v);
        return NULL;
    }
    return v;
}

/* on_headers - runs before the body is read: services that stream their
 * uploads take the body here. */
static void on_headers(struct http_req *r, void *ud)
{
    struct region *rg = ud;

    /* S3 authenticates and streams its own bodies (aws-chunked, SigV2) */
    if (route(r) == SVC_S3)
        s3_on_headers(rg->s3, r);
}

static void dispatch(struct http_req *r, void *ud)
{
    struct region *rg = ud;
    const struct sigv4_result *v;
    enum svc svc = route(r);

    if (svc != SVC_FN_URL && region_cors(r))
        return;
    if (svc == SVC_HEALTH) {
        answer_health(r);
        return;
    }
    if (svc == SVC_FN_URL) { /* unsigned unless the caller signs (AuthType AWS_IAM) */
        char url_id[64];
        const char *raw_path = "/";
        fn_url_match(r, url_id, sizeof(url_id), &raw_path);
        v = NULL;
        if (http_req_header(r, "authorization") && !(v = authenticate(rg, r, svc)))
            return;
        fn_handle_url(rg->fn, r, url_id, raw_path, v ? &v->who : NULL);
        return;
    }
    if (svc == SVC_S3) {
        s3_handle(rg->s3, r);
        return;
    }
    if (r->body_too_large) {
        ddb_respond_error(r, 413, "com.amazon.coral.service#RequestEntityTooLarge",
                          "Request payload size exceeded the limit");
        return;
    }
    if (svc == SVC_REPL && strcmp(r->path, "/_tandem/metrics") == 0 &&
        !http_req_header(r, "authorization") && r->remote_addr &&
        (strncmp(r->remote_addr, "127.", 4) == 0 || strcmp(r->remote_addr, "::1") == 0)) {
        server_metrics(r, rg->store, rg->iam, rg->repl);
        return;
    }
    if (svc == SVC_QUERY) { /* STS's API version; anything else is IAM's */
        svc = query_is_sts(r) ? SVC_STS : SVC_IAM;
        /* STS answers AssumeRoleWithWebIdentity unsigned: the token is the
         * credential (iam_sts_handle serves nothing else without a caller) */
        if (svc == SVC_STS && form_has(r, "Action=AssumeRoleWithWebIdentity")) {
            iam_sts_handle(rg->iam, r, NULL);
            return;
        }
    }
    v = authenticate(rg, r, svc);
    if (!v)
        return;
    switch (svc) {
    case SVC_REPL:
        if (!check_scope(rg, r, v, "tandem"))
            return;
        if (!v->who.root) {
            log_warn("event=repl_denied user=%s remote=%s", v->who.user, r->remote_addr);
            ddb_respond_error(r, 403, "com.amazon.coral.service#AccessDeniedException",
                              "Only the region's root credentials may call internal endpoints");
            return;
        }
        if (strcmp(r->path, "/_tandem/metrics") == 0)
            server_metrics(r, rg->store, rg->iam, rg->repl);
        else if (strncmp(r->path, "/_tandem/iam/", 13) == 0)
            iam_internal_handle(rg->iam, r);
        else
            repl_handle(rg->repl, r);
        return;
    case SVC_IAM:
    case SVC_STS: {
        /* global services: SDKs sign with the endpoint's region or us-east-1 */
        const char *want = svc == SVC_IAM ? "iam" : "sts";
        if (strcmp(v->service, want) != 0 ||
            (strcmp(v->region, rg->name) != 0 && strcmp(v->region, "us-east-1") != 0)) {
            iam_respond_error(r, svc == SVC_STS, 403, "SignatureDoesNotMatch",
                              "Credential should be scoped to a valid region and service.");
            return;
        }
        if (svc == SVC_IAM)
            iam_handle(rg->iam, r, &v->who);
        else
            iam_sts_handle(rg->iam, r, &v->who);
        return;
    }
    case SVC_DDB: {
        const char *target = http_req_header(r, "x-amz-target");
        if (!check_scope(rg, r, v, "dynamodb"))
            return;
        if (!target) {
            ddb_respond_error(r, 400, "com.amazon.coral.service#UnknownOperationException",
                              "The operation is not supported by this endpoint");
            return;
        }
        /* DynamoDB Streams: same port, credential scope "dynamodb" as botocore signs it */
        if (strncmp(target, streams_target_prefix, sizeof(streams_target_prefix) - 1) == 0) {
            ddb_streams_handle(rg->ddb, r, target + sizeof(streams_target_prefix) - 1, &v->who);
            return;
        }
        ddb_handle(rg->ddb, r, target + sizeof(ddb_target_prefix) - 1, &v->who);
        return;
    }
    case SVC_LAMBDA:
        if (!check_scope(rg, r, v, "lambda"))
            return;
        fn_handle_api(rg->fn, r, &v->who);
        return;
    default:
        ddb_respond_error(r, 400, "com.amazon.coral.service#UnknownOperationException",
                          "The operation is not supported by this endpoint");
        return;
    }
}

static char *read_file(const char *path, struct err *e)
{
    FILE *f = fopen(path, "rb");
    struct buf b;
    char chunk[4096];
    size_t n;

    if (!f) {
        err_set(e, ERR_IO, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    buf_init(&b, 1 << 20);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (buf_append(&b, chunk, n)) {
            fclose(f);
            buf_free(&b);
            err_set(e, ERR_TOO_LARGE, "%s is larger than 1 MiB", path);
            return NULL;
        }
    }
    fclose(f);
    return buf_detach(&b, NULL);
}

/* Split HOST:PORT ([v6]:PORT allowed) into @host (owned, free()) and @port. */
static enum err_code parse_listen(const char *s, char **host, int *port, struct err *e)
{
    const char *colon = strrchr(s, ':');
    char *end;
    long p;

    if (!colon || colon == s)
        return err_set(e, ERR_INVALID, "listen address must be HOST:PORT, got '%s'", s);
    p = strtol(colon + 1, &end, 10);
    if (*end || p < 0 || p > 65535 || end == colon + 1)
        return err_set(e, ERR_INVALID, "bad port in '%s'", s);
    if (s[0] == '[' && colon[-1] == ']')
        *host = xstrndup(s + 1, (size_t)(colon - s - 2));
    else
        *host = xstrndup(s, (size_t)(colon - s));
    *port = (int)p;
    return ERR_OK;
}

static enum err_code start_http(struct region *rg, const char *listen, const char *cert,
                                const char *key, unsigned threads, struct http_server **out,
                                struct err *e)
{
    struct http_server_opts o = {0};
    char *host = NULL;
    enum err_code rc;

    rc = parse_listen(listen, &host, &o.port, e);
    if (rc)
        return rc;
    o.host = host;
    o.cert_pem = cert;
    o.key_pem = key;
    o.threads = threads;
    o.handler = dispatch;
    o.on_headers = on_headers;
    o.ud = rg;
    rc = http_server_start(&o, out, e);
    if (rc == ERR_OK)
        log_info("event=listening region=%s url=%s://%s%s%s:%d", rg->name, cert ? "https" : "http",
                 strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "",
                 http_server_port(*out));
    free(host);
    return rc;
}

/* self_url - http://HOST:PORT for a listen host (owned, free()); a wildcard
 * address becomes 127.0.0.1. */
static char *self_url(const char *host, int port)
{
    char buf[300];

    if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "") == 0)
        host = "127.0.0.1";
    else if (strcmp(host, "::") == 0)
        host = "::1";
    snprintf(buf, sizeof(buf), strchr(host, ':') ? "http://[%s]:%d" : "http://%s:%d", host, port);
    return xstrdup(buf);
}

static void usage(FILE *f)
{
    fputs("usage: tandem server --region R --data DIR --listen HOST:PORT [options]\n"
          "\n"
          "  --region R            the region this server is (e.g. us-east-1)\n"
          "  --data DIR            data directory (created if missing; one server per directory)\n"
          "  --listen HOST:PORT    HTTP address (port 0: any free port)\n"
          "  --tls-listen HOST:PORT  also serve HTTPS there (needs --tls-cert and --tls-key)\n"
          "  --tls-cert FILE       PEM certificate chain for HTTPS\n"
          "  --tls-key FILE        PEM private key for HTTPS\n"
          "  --access-key ID       root access key id (default: $TANDEM_ACCESS_KEY_ID)\n"
          "  --secret-key SECRET   root secret key (default: $TANDEM_SECRET_ACCESS_KEY)\n"
          "  --credentials FILE    further access keys and their identities (JSON)\n"
          "  --account ID          12-digit account id (default 000000000000)\n"
          "  --public-url URL      this region's address as other hosts reach it (function URLs)\n"
          "  --threads N           HTTP threads (default: one per core)\n"
          "  --map-size BYTES      storage map size, K/M/G/T suffixes (default 64G, sparse)\n"
          "  --peer REGION=URL     another region of this deployment to replicate with\n"
          "                        (repeatable; it signs with the same root credentials)\n"
          "  --ttl-interval SECONDS  how often expired DynamoDB items are deleted (default 60)\n"
          "  --iam-home REGION     the home region of identity (IAM, STS), this one or a peer\n"
          "                        (default: us-east-1 if it is this region or a peer, else this)\n"
          "  --oidc-ca-file FILE   PEM CA certificates that OpenID Connect issuers' servers\n"
          "                        are verified against (default: the system's CA store)\n"
          "  --sts-webid-workers N calls to AssumeRoleWithWebIdentity that fetch issuers'\n"
          "                        keys at once (default 4)\n"
          "  --sts-webid-queue N   such calls waiting for a worker before ServiceUnavailable\n"
          "                        (default 128)\n"
          "  --fn-max-instances N  most instances per function (default 10)\n"
          "  --fn-idle-seconds S   stop a function instance idle this long (default 300)\n"
          "  --fn-user USER        when root, run functions as USER (default nobody)\n"
          "  --fn-uid-base UID     when root, run each function as its own uid = gid\n"
          "                        UID, UID+1, ... (an unused range; overrides --fn-user)\n"
          "  --log-level LEVEL     debug, info, warn or error (default info)\n",
          f);
}

/* optind_of - the index in @opts of the option whose value is @val. */
static size_t optind_of(const struct option *opts, int val)
{
    size_t i = 0;

    while (opts[i].name && opts[i].val != val)
        i++;
    return i;
}

/* num_arg - @s as a whole number from @lo to @hi (with @sizes, a K, M, G or
 * T suffix multiplies by 1024s), or false after saying why on stderr. */
static bool num_arg(const char *flag, const char *s, unsigned long long lo, unsigned long long hi,
                    bool sizes, unsigned long long *out)
{
    static const char units[] = "KMGT";
    const char *u;
    char *end = NULL;
    unsigned long long v;

    errno = 0;
    v = strtoull(s, &end, 10);
    if (sizes && end != s && *end && (u = strchr(units, toupper((unsigned char)*end))) && !end[1]) {
        for (long i = 0; i <= u - units && v <= hi; i++)
            v = v > ULLONG_MAX / 1024 ? ULLONG_MAX : v * 1024;
        end++;
    }
    if (!isdigit((unsigned char)*s) || *end || errno || v < lo || v > hi) {
        fprintf(stderr,
                "tandem server: --%s must be a whole number from %llu to %llu%s (got '%s')\n", flag,
                lo, hi, sizes ? " (or with a K, M, G or T suffix)" : "", s);
        return false;
    }
    *out = v;
    return true;
}

static int parse_args(int argc, char **argv, struct server_args *a)
{
    enum {
        OPT_REGION = 1,
        OPT_DATA,
        OPT_LISTEN,
        OPT_TLS_LISTEN,
        OPT_TLS_CERT,
        OPT_TLS_KEY,
        OPT_ACCESS,
        OPT_SECRET,
        OPT_CREDS,
        OPT_ACCOUNT,
        OPT_PUBLIC,
        OPT_THREADS,
        OPT_MAP,
        OPT_LOG,
        OPT_PEER,
        OPT_HELP,
        OPT_STS_MIN,
        OPT_IAM_HOME,
        OPT_TTL,
        OPT_FN_MAX,
        OPT_FN_IDLE,
        OPT_FN_USER,
        OPT_FN_UID_BASE,
        OPT_OIDC_CA,
        OPT_WEBID_WORKERS,
        OPT_WEBID_QUEUE,
    };
    static const struct option opts[] = {
        {"region", required_argument, NULL, OPT_REGION},
        {"data", required_argument, NULL, OPT_DATA},
        {"listen", required_argument, NULL, OPT_LISTEN},
        {"tls-listen", required_argument, NULL, OPT_TLS_LISTEN},
        {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
        {"tls-key", required_argument, NULL, OPT_TLS_KEY},
        {"access-key", required_argument, NULL, OPT_ACCESS},
        {"secret-key", required_argument, NULL, OPT_SECRET},
        {"credentials", required_argument, NULL, OPT_CREDS},
        {"account", required_argument, NULL, OPT_ACCOUNT},
        {"public-url", required_argument, NULL, OPT_PUBLIC},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"map-size", required_argument, NULL, OPT_MAP},
        {"log-level", required_argument, NULL, OPT_LOG},
        {"peer", required_argument, NULL, OPT_PEER},
        {"help", no_argument, NULL, OPT_HELP},
        {"sts-min-duration", required_argument, NULL, OPT_STS_MIN},
        {"iam-home", required_argument, NULL, OPT_IAM_HOME},
        {"oidc-ca-file", required_argument, NULL, OPT_OIDC_CA},
        {"sts-webid-workers", required_argument, NULL, OPT_WEBID_WORKERS},
        {"sts-webid-queue", required_argument, NULL, OPT_WEBID_QUEUE},
        {"ttl-interval", required_argument, NULL, OPT_TTL},
        {"fn-max-instances", required_argument, NULL, OPT_FN_MAX},
        {"fn-idle-seconds", required_argument, NULL, OPT_FN_IDLE},
        {"fn-user", required_argument, NULL, OPT_FN_USER},
        {"fn-uid-base", required_argument, NULL, OPT_FN_UID_BASE},
        {NULL, 0, NULL, 0},
    };
    unsigned long long n;
    int c;

    memset(a, 0, sizeof(*a));
    a->access_key = getenv("TANDEM_ACCESS_KEY_ID");
    a->secret_key = getenv("TANDEM_SECRET_ACCESS_KEY");
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case OPT_REGION:
            a->region = optarg;
            break;
        case OPT_DATA:
            a->data = optarg;
            break;
        case OPT_LISTEN:
            a->listen = optarg;
            break;
        case OPT_TLS_LISTEN:
            a->tls_listen = optarg;
            break;
        case OPT_TLS_CERT:
            a->tls_cert = optarg;
            break;
        case OPT_TLS_KEY:
            a->tls_key = optarg;
            break;
        case OPT_ACCESS:
            a->access_key = optarg;
            break;
        case OPT_SECRET:
            a->secret_key = optarg;
            break;
        case OPT_CREDS:
            a->credentials = optarg;
            break;
        case OPT_ACCOUNT:
            a->account = optarg;
            break;
        case OPT_PUBLIC:
            a->public_url = optarg;
            break;
        case OPT_THREADS:
            if (!num_arg("threads", optarg, 1, 256, false, &n))
                return 2;
            a->threads = (unsigned)n;
            break;
        case OPT_MAP:
            if (!num_arg("map-size", optarg, 1ULL << 24, 1ULL << 50, true, &n))
                return 2;
            a->map_size = (size_t)n;
            break;
        case OPT_LOG:
            if (strcmp(optarg, "debug") == 0)
                log_set_level(LOG_DEBUG);
            else if (strcmp(optarg, "info") == 0)
                log_set_level(LOG_INFO);
            else if (strcmp(optarg, "warn") == 0)
                log_set_level(LOG_WARN);
            else if (strcmp(optarg, "error") == 0)
                log_set_level(LOG_ERR);
            else {
                fprintf(stderr, "tandem server: --log-level must be debug, info, warn or error\n");
                return 2;
            }
            break;
        case OPT_IAM_HOME:
            a->iam_home = optarg;
            break;
        case OPT_STS_MIN:
            if (!num_arg("sts-min-duration", optarg, 1, 43200, false, &n))
                return 2;
            a->sts_min_duration = (int)n;
            break;
        case OPT_OIDC_CA:
            a->oidc_ca_file = optarg;
            break;
        case OPT_FN_MAX:
        case OPT_FN_IDLE:
        case OPT_WEBID_WORKERS:
        case OPT_WEBID_QUEUE: {
            unsigned *slot = c == OPT_FN_MAX          ? &a->fn_max
                             : c == OPT_FN_IDLE       ? &a->fn_idle
                             : c == OPT_WEBID_WORKERS ? &a->webid_workers
                                                      : &a->webid_queue;
            if (!num_arg(opts[optind_of(opts, c)].name, optarg, 1, 100000, false, &n))
                return 2;
            *slot = (unsigned)n;
            break;
        }
        case OPT_FN_USER:
            a->fn_user = optarg;
            break;
        case OPT_FN_UID_BASE:
            if (!num_arg("fn-uid-base", optarg, 1000, 2000000000, false, &n))
                return 2;
            a->fn_uid_base = (unsigned)n;
            break;
        case OPT_TTL:
            if (!num_arg("ttl-interval", optarg, 1, 86400, false, &n))
                return 2;
            a->ttl_interval = (unsigned)n;
            break;
        case OPT_PEER: {
            struct err pe = {0};

            if (a->npeers == MAX_PEERS) {
                fprintf(stderr, "tandem server: at most %d --peer\n", MAX_PEERS);
                return 2;
            }
            if (repl_parse_peer(optarg, &a->peers[a->npeers], &pe)) {
                fprintf(stderr, "tandem server: %s\n", pe.msg);
                return 2;
            }
            a->npeers++;
            break;
        }
        case OPT_HELP:
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tandem server: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (!a->region || !a->data || !a->listen) {
        fprintf(stderr, "tandem server: --region, --data and --listen are required\n");
        usage(stderr);
        return 2;
    }
    if (!a->access_key || !*a->access_key || !a->secret_key || !*a->secret_key) {
        fprintf(stderr, "tandem server: no root credentials: set TANDEM_ACCESS_KEY_ID and "
                        "TANDEM_SECRET_ACCESS_KEY, or pass --access-key and --secret-key\n");
        return 2;
    }
    if (a->tls_listen && (!a->tls_cert || !a->tls_key)) {
        fprintf(stderr, "tandem server: --tls-listen needs --tls-cert and --tls-key\n");
        return 2;
    }
    return -1;
}

static enum err_code setup_creds(struct region *rg, const struct server_args *a, struct err *e)
{
    struct creds_identity root;
    enum err_code rc;

    rg->creds = creds_new();
    if (a->account)
        creds_set_account(rg->creds, a->account);
    memset(&root, 0, sizeof(root));
    snprintf(root.access_key, sizeof(root.access_key), "%s", a->access_key);
    snprintf(root.secret, sizeof(root.secret), "%s", a->secret_key);
    snprintf(root.account, sizeof(root.account), "%s", creds_account(rg->creds));
    snprintf(root.user, sizeof(root.user), "root");
    root.root = true;
    rc = creds_add(rg->creds, &root, e);
    if (rc)
        return rc;
    if (a->credentials)
        rc = creds_load_file(rg->creds, a->credentials, e);
    return rc;
}

int server_main(int argc, char **argv)
{
    struct server_args a;
    struct region rg = {0};
    struct http_server *plain = NULL, *tls = NULL;
    char *cert = NULL, *key = NULL;
    struct err e = {0};
    sigset_t sigs;
    int sig = 0, status = 1;

    status = parse_args(argc, argv, &a);
    if (status >= 0)
        return status;
    status = 1;
    rg.name = a.region;

    /* Every thread started from here on inherits the blocked signals, so
     * SIGTERM and SIGINT reach only the sigwait() below. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (setup_creds(&rg, &a, &e))
        goto out;
    if (a.tls_listen) {
        cert = read_file(a.tls_cert, &e);
        key = cert ? read_file(a.tls_key, &e) : NULL;
        if (!cert || !key)
            goto out;
    }
    {
        struct store_opts so = {.dir = a.data, .map_size = a.map_size};
        if (store_open(&so, &rg.store, &e))
            goto out;
    }
    {
        /* identity's home: --iam-home, else us-east-1 when it is this region
         * or a peer, else this region (docs/iam.md) */
        const char *home = a.iam_home, *home_url = NULL;
        for (size_t i = 0; !home && i < a.npeers; i++)
            if (strcmp(a.peers[i].region, "us-east-1") == 0)
                home = "us-east-1";
        if (!home)
            home = rg.name;
        for (size_t i = 0; i < a.npeers; i++)
            if (strcmp(a.peers[i].region, home) == 0)
                home_url = a.peers[i].url;
        struct iam_opts io = {.store = rg.store,
                              .creds = rg.creds,
                              .region = rg.name,
                              .account = creds_account(rg.creds),
                              .sts_min_duration = a.sts_min_duration,
                              .oidc_ca_file = a.oidc_ca_file,
                              .webid_workers = a.webid_workers,
                              .webid_queue = a.webid_queue,
                              .home = home,
                              .home_url = home_url,
                              .access_key = a.access_key,
                              .secret = a.secret_key};
        if (iam_open(&io, &rg.iam, &e))
            goto out;
        rg.authz = iam_authz(rg.iam);
    }
    {
        struct ddb_opts dopts = {.store = rg.store,
                                 .region = rg.name,
                                 .account = creds_account(rg.creds),
                                 .authz = &rg.authz,
                                 .ttl_interval_s = a.ttl_interval ? a.ttl_interval : 60};
        if (ddb_open(&dopts, &rg.ddb, &e))
            goto out;
        const char *pr[MAX_PEERS], *pu[MAX_PEERS];
        for (size_t i = 0; i < a.npeers; i++) {
            pr[i] = a.peers[i].region;
            pu[i] = a.peers[i].url;
        }
        rg.ddb_s3 = ddb_s3_hook_new(rg.name, a.access_key, a.secret_key, pr, pu, a.npeers);
        ddb_set_s3(rg.ddb, ddb_s3_hook_get(rg.ddb_s3));
    }
    {
        struct s3_peer s3p[MAX_PEERS]; /* object replication asks the same peers */
        for (size_t i = 0; i < a.npeers; i++)
            s3p[i] = (struct s3_peer){a.peers[i].region, a.peers[i].url};
        struct s3_opts so = {.store = rg.store,
                             .creds = rg.creds,
                             .authz = &rg.authz,
                             .region = rg.name,
                             .account = creds_account(rg.creds),
                             .data_dir = a.data,
                             .peers = s3p,
                             .npeers = a.npeers,
                             .access_key = a.access_key,
                             .secret = a.secret_key};
        if (s3_open(&so, &rg.s3, &e))
            goto out;
    }
    {
        struct fn_opts fo = {.store = rg.store,
                             .creds = rg.creds,
                             .authz = &rg.authz,
                             .region = rg.name,
                             .account = creds_account(rg.creds),
                             .data_dir = a.data,
                             .max_instances = a.fn_max,
                             .idle_seconds = a.fn_idle,
                             .run_user = a.fn_user,
                             .run_uid_base = a.fn_uid_base,
                             .s3_get = fn_s3_get,
                             .s3_ud = rg.s3,
                             .stream_call = fn_stream_call,
                             .stream_seq = ddb_streams_iter_seq,
                             .stream_ud = rg.ddb};
        if (fn_open(&fo, &rg.fn, &e))
            goto out;
        s3_fn_hook_attach(rg.s3, rg.fn); /* event notifications */
    }
    {
        struct repl_opts ro = {.store = rg.store,
                               .ddb = rg.ddb,
                               .region = rg.name,
                               .access_key = a.access_key,
                               .secret = a.secret_key,
                               .peers = a.peers,
                               .npeers = a.npeers};
        if (repl_open(&ro, &rg.repl, &e))
            goto out;
    }
    if (start_http(&rg, a.listen, NULL, NULL, a.threads, &plain, &e))
        goto out;
    {
        /* functions call their region back over plain HTTP on the listen address */
        char *self = NULL;
        int port;
        if (parse_listen(a.listen, &self, &port, &e) == ERR_OK) {
            char *url = self_url(self, http_server_port(plain));
            fn_set_endpoint(rg.fn, url, a.public_url);
            s3_set_self_url(rg.s3, url);          /* replication into this region's own buckets */
            ddb_s3_hook_set_self(rg.ddb_s3, url); /* exports and imports */
            free(url);
        }
        free(self);
    }
    if (a.tls_listen && start_http(&rg, a.tls_listen, cert, key, a.threads, &tls, &e))
        goto out;
    log_info("event=ready region=%s data=%s", rg.name, a.data);

    while (sigwait(&sigs, &sig) != 0)
        ;
    log_info("event=shutdown region=%s signal=%d", rg.name, sig);
    status = 0;
out:
    if (status)
        log_err("event=fatal region=%s error=%s msg=\"%s\"", rg.name, err_name(e.code), e.msg);
    http_server_quiesce(tls); /* no new requests while the services wind down */
    http_server_quiesce(plain);
    if (rg.s3)
        s3_fn_hook_attach(rg.s3, NULL); /* notifications stop invoking before fn closes */
    fn_close(rg.fn);                    /* answers every invocation still waiting */
    repl_stop(rg.repl);                 /* answers the waiting long-polls */
    iam_stop(rg.iam);                   /* answers the other regions' waiting IAM long-polls */
    ddb_quiesce(rg.ddb);                /* stops the backups' background copies */
    http_server_stop(tls);
    http_server_stop(plain);
    repl_close(rg.repl);
    ddb_close(rg.ddb);
    ddb_s3_hook_free(rg.ddb_s3);
    iam_close(rg.iam);
    s3_close(rg.s3);
    store_close(rg.store);
    creds_free(rg.creds);
    free(cert);
    free(key);
    if (status == 0)
        log_info("event=stopped region=%s", rg.name);
    return status;
}
