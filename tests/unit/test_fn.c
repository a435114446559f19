/* test_fn.c - the Lambda service through fn.h: the pure conversions (URL
 * events and results, Runtime API paths) and the REST API with real
 * instances (a shell bootstrap) on a real store in a temp dir. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "buf.h"
#include "codec.h"
#include "creds.h"
#include "fn.h"
#include "fn_int.h"
#include "http.h"
#include "store.h"

/* ---- pure helpers ---- */

static void test_rapi_parse(void **state)
{
    char id[64];

    (void)state;
    assert_int_equal(fn_rapi_parse("GET", "/2018-06-01/runtime/invocation/next", id, sizeof(id)),
                     FN_RAPI_NEXT);
    assert_int_equal(fn_rapi_parse("POST", "/2018-06-01/runtime/invocation/next", id, sizeof(id)),
                     FN_RAPI_BAD);
    assert_int_equal(
        fn_rapi_parse("POST", "/2018-06-01/runtime/invocation/abc-1/response", id, sizeof(id)),
        FN_RAPI_RESPONSE);
    assert_string_equal(id, "abc-1");
    assert_int_equal(
        fn_rapi_parse("POST", "/2018-06-01/runtime/invocation/x/error", id, sizeof(id)),
        FN_RAPI_ERROR);
    assert_int_equal(fn_rapi_parse("POST", "/2018-06-01/runtime/init/error", id, sizeof(id)),
                     FN_RAPI_INIT_ERROR);
    assert_int_equal(fn_rapi_parse("GET", "/2018-06-01/runtime/init/error", id, sizeof(id)),
                     FN_RAPI_BAD);
    assert_int_equal(
        fn_rapi_parse("POST", "/2018-06-01/runtime/invocation//response", id, sizeof(id)),
        FN_RAPI_BAD);
    assert_int_equal(
        fn_rapi_parse("POST", "/2018-06-01/runtime/invocation/x/responsex", id, sizeof(id)),
        FN_RAPI_BAD);
    assert_int_equal(fn_rapi_parse("GET", "/", id, sizeof(id)), FN_RAPI_BAD);
    assert_int_equal(fn_rapi_parse(NULL, NULL, id, sizeof(id)), FN_RAPI_BAD);
}

static void test_runtime_known(void **state)
{
    static const char *const yes[] = {"nodejs18.x", "nodejs22.x", "provided",  "provided.al2023",
                                      "python3.9",  "python3.10", "python3.14"};
    static const char *const no[] = {"",           "python",      "python3.1", "python3.8",
                                     "python3.99", "provided.al", "java21",    "3.9",
                                     "nodejs",     "ython3.9"};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        assert_true(fn_runtime_known(yes[i]));
    for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        assert_false(fn_runtime_known(no[i]));
    assert_false(fn_runtime_known(NULL));
}

static void test_url_match(void **state)
{
    struct http_req *r = http_req_new("GET", "/lambda-url/abc123/p/q?x=1");
    const char *raw = NULL;
    char id[64];

    (void)state;
    assert_true(fn_url_match(r, id, sizeof(id), &raw));
    assert_string_equal(id, "abc123");
    assert_string_equal(raw, "/p/q");
    http_req_free(r);

    r = http_req_new("GET", "/lambda-url/abc123");
    assert_true(fn_url_match(r, id, sizeof(id), &raw));
    assert_string_equal(raw, "/");
    http_req_free(r);

    r = http_req_new("GET", "/lambda-url/ABC/");
    assert_false(fn_url_match(r, id, sizeof(id), &raw));
    http_req_free(r);

    r = http_req_new("GET", "/x");
    http_req_add_header(r, "host", "zz9.lambda-url.us-east-1.localhost:8080");
    assert_true(fn_url_match(r, id, sizeof(id), &raw));
    assert_string_equal(id, "zz9");
    assert_string_equal(raw, "/x");
    http_req_free(r);

    r = http_req_new("GET", "/x");
    http_req_add_header(r, "host", "127.0.0.1:8080");
    assert_false(fn_url_match(r, id, sizeof(id), &raw));
    http_req_free(r);
}

static cJSON *event_of(struct http_req *r, struct err *e)
{
    char *text = fn_url_event(r, "uid", "/a/b", "123456789012", e);
    cJSON *doc;

    if (!text)
        return NULL;
    doc = cJSON_Parse(text);
    free(text);
    assert_non_null(doc);
    return doc;
}

static const char *str_at(const cJSON *o, const char *a, const char *b)
{
    const cJSON *x = cJSON_GetObjectItem(o, a);
    if (b)
        x = cJSON_GetObjectItem(x, b);
    return cJSON_GetStringValue(x);
}

static void test_url_event(void **state)
{
    struct http_req *r = http_req_new("POST", "/lambda-url/uid/a/b?x=1&x=2&y=a%20b&z");
    struct err e = {0};
    cJSON *ev;

    (void)state;
    http_req_add_header(r, "host", "h.example");
    http_req_add_header(r, "content-type", "application/json");
    http_req_add_header(r, "x-multi", "1");
    http_req_add_header(r, "x-multi", "2");
    http_req_add_header(r, "cookie", "a=1; b=2");
    buf_append(&r->body, "{\"k\":1}", 7);
    ev = event_of(r, &e);
    assert_non_null(ev);
    assert_string_equal(str_at(ev, "version", NULL), "2.0");
    assert_string_equal(str_at(ev, "routeKey", NULL), "$default");
    assert_string_equal(str_at(ev, "rawPath", NULL), "/a/b");
    assert_string_equal(str_at(ev, "rawQueryString", NULL), "x=1&x=2&y=a%20b&z");
    assert_string_equal(str_at(ev, "queryStringParameters", "x"), "1,2");
    assert_string_equal(str_at(ev, "queryStringParameters", "y"), "a b");
    assert_string_equal(str_at(ev, "queryStringParameters", "z"), "");
    assert_string_equal(str_at(ev, "headers", "x-multi"), "1,2");
    assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(ev, "headers"), "cookie"));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(ev, "cookies")), 2);
    assert_string_equal(str_at(ev, "body", NULL), "{\"k\":1}");
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(ev, "isBase64Encoded")));
    assert_string_equal(
        cJSON_GetStringValue(cJSON_GetObjectItem(
            cJSON_GetObjectItem(cJSON_GetObjectItem(ev, "requestContext"), "http"), "method")),
        "POST");
    assert_string_equal(str_at(ev, "requestContext", "domainName"), "h.example");
    cJSON_Delete(ev);
    http_req_free(r);

    /* binary bodies travel base64-encoded */
    r = http_req_new("PUT", "/lambda-url/uid/");
    http_req_add_header(r, "content-type", "application/octet-stream");
    buf_append(&r->body, "\x00\xff", 2);
    ev = event_of(r, &e);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(ev, "isBase64Encoded")));
    assert_string_equal(str_at(ev, "body", NULL), "AP8=");
    cJSON_Delete(ev);
    http_req_free(r);

    /* text with invalid UTF-8 too */
    r = http_req_new("PUT", "/lambda-url/uid/");
    http_req_add_header(r, "content-type", "text/plain");
    buf_append(&r->body, "a\xc3", 2);
    ev = event_of(r, &e);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(ev, "isBase64Encoded")));
    cJSON_Delete(ev);
    http_req_free(r);

    /* malformed cookies are refused */
    r = http_req_new("GET", "/lambda-url/uid/");
    http_req_add_header(r, "cookie", "=x");
    assert_null(event_of(r, &e));
    assert_int_equal(e.code, ERR_INVALID);
    http_req_free(r);
    r = http_req_new("GET", "/lambda-url/uid/");
    http_req_add_header(r, "cookie", "novalue");
    assert_null(event_of(r, &e));
    http_req_free(r);
}

static int result_of(const char *res, char **body, const char **ct, const char **cookie)
{
    struct http_req *r = http_req_new("GET", "/");
    struct buf out;
    const char *b;
    size_t n;
    int status = fn_url_result(r, res, strlen(res), &out);

    http_respond_buf(r, status, &out);
    buf_free(&out);
    http_req_wait(r, &b, &n);
    *body = strndup(b, n);
    *ct = http_req_resp_header(r, "Content-Type");
    *ct = *ct ? strdup(*ct) : NULL;
    *cookie = http_req_resp_header(r, "Set-Cookie");
    *cookie = *cookie ? strdup(*cookie) : NULL;
    http_req_free(r);
    return status;
}

static void test_url_result(void **state)
{
    char *body;
    const char *ct, *ck;

    (void)state;
    assert_int_equal(result_of("{\"statusCode\":201,\"headers\":{\"content-type\":\"text/plain\","
                               "\"x-n\":5},\"cookies\":[\"s=1\"],\"body\":\"hi\"}",
                               &body, &ct, &ck),
                     201);
    assert_string_equal(body, "hi");
    assert_string_equal(ct, "text/plain");
    assert_string_equal(ck, "s=1");
    free(body);
    free((char *)ct);
    free((char *)ck);

    /* the shortcut: JSON without statusCode is a 200 application/json body */
    assert_int_equal(result_of("{\"a\":1}", &body, &ct, &ck), 200);
    assert_string_equal(body, "{\"a\":1}");
    assert_string_equal(ct, "application/json");
    free(body);
    free((char *)ct);
    assert_int_equal(result_of("\"text\"", &body, &ct, &ck), 200);
    assert_string_equal(body, "\"text\"");
    free(body);
    free((char *)ct);

    /* base64 bodies are decoded */
    assert_int_equal(result_of("{\"statusCode\":200,\"isBase64Encoded\":true,\"body\":\"aGk=\"}",
                               &body, &ct, &ck),
                     200);
    assert_string_equal(body, "hi");
    free(body);
    free((char *)ct);

    /* a bad status code is the service's 502 */
    assert_int_equal(result_of("{\"statusCode\":\"nope\"}", &body, &ct, &ck), 502);
    free(body);
    free((char *)ct);
    assert_int_equal(
        result_of("{\"statusCode\":200,\"isBase64Encoded\":true,\"body\":\"!!\"}", &body, &ct, &ck),
        502);
    free(body);
    free((char *)ct);
}

/* ---- the API with real instances ---- */

struct fixture {
    char dir[64];
    struct store *store;
    struct creds *creds;
    struct fn *fn;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct store_opts so = {0};
    struct fn_opts fo = {0};
    struct err e = {0};

    strcpy(f->dir, "/tmp/test_fn.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    so.dir = f->dir;
    so.map_size = 64u << 20;
    so.nosync = true;
    assert_int_equal(store_open(&so, &f->store, &e), ERR_OK);
    f->creds = creds_new();
    fo.store = f->store;
    fo.creds = f->creds;
    fo.region = "us-east-1";
    fo.account = "123456789012";
    fo.data_dir = f->dir;
    fo.max_instances = 2;
    assert_int_equal(fn_open(&fo, &f->fn, &e), ERR_OK);
    fn_set_endpoint(f->fn, "http://127.0.0.1:1", NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];

    fn_close(f->fn);
    store_close(f->store);
    creds_free(f->creds);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

struct resp {
    int status;
    char *body;
    char *errtype;
    char *ferr;
};

static struct resp call(struct fixture *f, const char *method, const char *uri, const char *body)
{
    struct http_req *r = http_req_new(method, uri);
    struct resp out = {0};
    const char *b, *h;
    size_t n;

    if (body)
        buf_append(&r->body, body, strlen(body));
    fn_handle_api(f->fn, r, NULL);
    out.status = http_req_wait(r, &b, &n);
    out.body = strndup(b, n);
    h = http_req_resp_header(r, "X-Amzn-ErrorType");
    out.errtype = h ? strdup(h) : NULL;
    h = http_req_resp_header(r, "X-Amz-Function-Error");
    out.ferr = h ? strdup(h) : NULL;
    http_req_free(r);
    return out;
}

static void resp_free(struct resp *r)
{
    free(r->body);
    free(r->errtype);
    free(r->ferr);
}

/* a zip with one executable file "bootstrap" (stored, no compression) */
static char *zip_b64(const char *script)
{
    char path[128], cmd[512];
    FILE *in;
    struct buf b;
    char chunk[4096], *out;
    size_t n;

    snprintf(path, sizeof(path), "/tmp/test_fn_zip.%d", (int)getpid());
    snprintf(cmd, sizeof(cmd), "rm -rf %s && mkdir -p %s", path, path);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof(cmd), "%s/bootstrap", path);
    in = fopen(cmd, "w");
    fputs(script, in);
    fclose(in);
    snprintf(cmd, sizeof(cmd), "cd %s && chmod 755 bootstrap && zip -q f.zip bootstrap", path);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof(cmd), "%s/f.zip", path);
    in = fopen(cmd, "rb");
    buf_init(&b, 0);
    while ((n = fread(chunk, 1, sizeof(chunk), in)) > 0)
        buf_append(&b, chunk, n);
    fclose(in);
    out = malloc(base64_encoded_len(b.len) + 1);
    base64_encode(b.ptr, b.len, out);
    buf_free(&b);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", path);
    assert_int_equal(system(cmd), 0);
    return out;
}

static const char echo_bootstrap[] =
    "#!/bin/sh\n"
    "cd \"$TMPDIR\"\n" /* the package is read-only for the function user */
    "api=\"http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation\"\n"
    "while true; do\n"
    "  id=$(curl -s -D h -o ev \"$api/next\"; tr -d '\\r' < h |"
    " sed -n 's/^[Ll]ambda-[Rr]untime-[Aa]ws-[Rr]equest-[Ii]d: //p')\n"
    "  echo \"got $id\"\n"
    "  if grep -q boom ev; then exit 2; fi\n"
    "  curl -s -X POST --data-binary @ev \"$api/$id/response\" >/dev/null\n"
    "done\n";

static void create(struct fixture *f, const char *name, const char *script, const char *extra)
{
    char *z = zip_b64(script);
    size_t n = strlen(z) + 512;
    char *body = malloc(n);
    struct resp r;

    snprintf(body, n,
             "{\"FunctionName\":\"%s\",\"Runtime\":\"provided.al2023\",\"Handler\":\"x\","
             "\"Role\":\"arn:aws:iam::123456789012:role/r\",\"Code\":{\"ZipFile\":\"%s\"}%s}",
             name, z, extra ? extra : "");
    r = call(f, "POST", "/2015-03-31/functions", body);
    assert_int_equal(r.status, 201);
    resp_free(&r);
    free(body);
    free(z);
}

static void test_api_lifecycle(void **state)
{
    struct fixture *f = *state;
    struct resp r;

    create(f, "echo", echo_bootstrap, NULL);
    r = call(f, "GET", "/2015-03-31/functions/echo/configuration", NULL);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"FunctionName\":\"echo\""));
    assert_null(strstr(r.body, "_Dir")); /* private members stay private */
    resp_free(&r);

    r = call(f, "POST", "/2015-03-31/functions/echo/invocations", "{\"hello\":1}");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"hello\":1}");
    assert_null(r.ferr);
    resp_free(&r);

    /* a crash is Runtime.ExitError, and the next invoke starts a new instance */
    r = call(f, "POST", "/2015-03-31/functions/echo/invocations", "\"boom\"");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.ferr, "Unhandled");
    assert_non_null(strstr(r.body, "Runtime.ExitError"));
    assert_non_null(strstr(r.body, "exit status 2"));
    resp_free(&r);
    r = call(f, "POST", "/2015-03-31/functions/echo/invocations", "[1]");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "[1]");
    resp_free(&r);

    r = call(f, "POST", "/2015-03-31/functions", "{\"FunctionName\":\"echo\"");
    assert_int_equal(r.status, 400);
    assert_string_equal(r.errtype, "InvalidRequestContentException");
    resp_free(&r);
    r = call(f, "GET", "/2015-03-31/functions/nope", NULL);
    assert_int_equal(r.status, 404);
    assert_string_equal(r.errtype, "ResourceNotFoundException");
    resp_free(&r);
    r = call(f, "POST", "/2015-03-31/functions",
             "{\"FunctionName\":\"z\",\"Runtime\":\"provided\",\"Role\":"
             "\"arn:aws:iam::123456789012:role/r\",\"Code\":{\"ZipFile\":\"AAAA\"}}");
    assert_int_equal(r.status, 400);
    assert_string_equal(r.errtype, "InvalidParameterValueException");
    resp_free(&r);
    r = call(f, "PATCH", "/2015-03-31/functions/echo", NULL);
    assert_int_equal(r.status, 404);
    resp_free(&r);

    r = call(f, "DELETE", "/2015-03-31/functions/echo", NULL);
    assert_int_equal(r.status, 204);
    resp_free(&r);
    r = call(f, "POST", "/2015-03-31/functions/echo/invocations", "{}");
    assert_int_equal(r.status, 404);
    resp_free(&r);
}

static void test_timeout(void **state)
{
    struct fixture *f = *state;
    struct resp r;

    create(f, "slow",
           "#!/bin/sh\n"
           "curl -s -o /dev/null \"http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/"
           "invocation/next\"\nsleep 60\n",
           ",\"Timeout\":1");
    r = call(f, "POST", "/2015-03-31/functions/slow/invocations", "{}");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.ferr, "Unhandled");
    assert_non_null(strstr(r.body, "Task timed out after 1.00 seconds"));
    resp_free(&r);
}

/* ---- concurrent changes of one function: none is lost ---- */

/* reopen - close the fn and open it again on the same store (a restart). */
static void reopen(struct fixture *f, fn_s3_get_fn *s3_get)
{
    struct fn_opts fo = {.store = f->store,
                         .creds = f->creds,
                         .region = "us-east-1",
                         .account = "123456789012",
                         .data_dir = f->dir,
                         .s3_get = s3_get};
    struct err e = {0};

    fn_close(f->fn);
    assert_int_equal(fn_open(&fo, &f->fn, &e), ERR_OK);
    fn_set_endpoint(f->fn, "http://127.0.0.1:1", NULL);
}

#define CHANGERS    8
#define PER_CHANGER 6

struct changer {
    struct fixture *f;
    int id;
    int ok;
};

static void *changer_main(void *arg)
{
    struct changer *c = arg;
    char body[256];
    int i;

    for (i = 0; i < PER_CHANGER; i++) {
        struct resp r;
        snprintf(body, sizeof(body),
                 "{\"StatementId\":\"s%d-%d\",\"Action\":\"lambda:InvokeFunction\","
                 "\"Principal\":\"*\"}",
                 c->id, i);
        r = call(c->f, "POST", "/2015-03-31/functions/busy/policy", body);
        c->ok += r.status == 201;
        resp_free(&r);
        snprintf(body, sizeof(body), "{\"Tags\":{\"k%d-%d\":\"v\"}}", c->id, i);
        r = call(c->f, "POST",
                 "/2017-03-31/tags/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Abusy",
                 body);
        c->ok += r.status == 204;
        resp_free(&r);
    }
    if (c->id == 0) {
        struct resp r =
            call(c->f, "POST", "/2021-10-31/functions/busy/url", "{\"AuthType\":\"NONE\"}");
        c->ok += r.status == 201;
        resp_free(&r);
    } else if (c->id == 1) {
        struct resp r = call(c->f, "PUT", "/2015-03-31/functions/busy/configuration",
                             "{\"Description\":\"changed\"}");
        c->ok += r.status == 200;
        resp_free(&r);
    }
    return NULL;
}

static void test_concurrent_changes(void **state)
{
    struct fixture *f = *state;
    struct changer c[CHANGERS];
    pthread_t t[CHANGERS];
    struct resp r;
    cJSON *doc, *pol;
    int i, total = 0;

    create(f, "busy", echo_bootstrap, NULL);
    for (i = 0; i < CHANGERS; i++) {
        c[i] = (struct changer){.f = f, .id = i};
        assert_int_equal(pthread_create(&t[i], NULL, changer_main, &c[i]), 0);
    }
    for (i = 0; i < CHANGERS; i++) {
        pthread_join(t[i], NULL);
        total += c[i].ok;
    }
    assert_int_equal(total, CHANGERS * PER_CHANGER * 2 + 2);

    r = call(f, "GET", "/2015-03-31/functions/busy/policy", NULL);
    assert_int_equal(r.status, 200);
    doc = cJSON_Parse(r.body);
    pol = cJSON_Parse(cJSON_GetStringValue(cJSON_GetObjectItem(doc, "Policy")));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(pol, "Statement")),
                     CHANGERS * PER_CHANGER);
    cJSON_Delete(pol);
    cJSON_Delete(doc);
    resp_free(&r);
    r = call(f, "GET",
             "/2017-03-31/tags/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Abusy",
             NULL);
    doc = cJSON_Parse(r.body);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "Tags")), CHANGERS * PER_CHANGER);
    cJSON_Delete(doc);
    resp_free(&r);
    r = call(f, "GET", "/2021-10-31/functions/busy/url", NULL);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    r = call(f, "GET", "/2015-03-31/functions/busy/configuration", NULL);
    assert_non_null(strstr(r.body, "\"Description\":\"changed\""));
    resp_free(&r);
    /* a repeated statement id is a conflict decided in the same apply */
    r = call(f, "POST", "/2015-03-31/functions/busy/policy",
             "{\"StatementId\":\"s0-0\",\"Action\":\"lambda:InvokeFunction\",\"Principal\":\"*\"}");
    assert_int_equal(r.status, 409);
    assert_string_equal(r.errtype, "ResourceConflictException");
    resp_free(&r);
    /* the stored record has every change too (what a restart loads) */
    reopen(f, NULL);
    r = call(f, "GET", "/2015-03-31/functions/busy/policy", NULL);
    assert_int_equal(r.status, 200);
    doc = cJSON_Parse(r.body);
    pol = cJSON_Parse(cJSON_GetStringValue(cJSON_GetObjectItem(doc, "Policy")));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(pol, "Statement")),
                     CHANGERS * PER_CHANGER);
    cJSON_Delete(pol);
    cJSON_Delete(doc);
    resp_free(&r);
}

/* ---- packages from S3 (the region's S3 stands behind fn_opts.s3_get) ---- */

static char *s3_zip; /* base64 of the zip the stand-in serves as pkgs/ok.zip */

static int s3_stand_in(void *ud, const char *bucket, const char *key, struct buf *out, char *code,
                       size_t ccap, char *msg, size_t mcap)
{
    (void)ud;
    if (strcmp(bucket, "pkgs") != 0) {
        snprintf(code, ccap, "NoSuchBucket");
        snprintf(msg, mcap, "The specified bucket does not exist");
        return 404;
    }
    if (strcmp(key, "ok.zip") != 0) {
        snprintf(code, ccap, "NoSuchKey");
        snprintf(msg, mcap, "The specified key does not exist.");
        return 404;
    }
    {
        size_t n = strlen(s3_zip), len = 0;
        unsigned char *z = malloc(n);
        assert_true(base64_decode(s3_zip, n, z, &len));
        buf_append(out, z, len);
        free(z);
    }
    return 200;
}

static void test_s3_package(void **state)
{
    struct fixture *f = *state;
    struct resp r;

    reopen(f, s3_stand_in);
    s3_zip = zip_b64(echo_bootstrap);
    r = call(f, "POST", "/2015-03-31/functions",
             "{\"FunctionName\":\"s3fn\",\"Runtime\":\"provided.al2023\",\"Role\":"
             "\"arn:aws:iam::123456789012:role/r\",\"Code\":{\"S3Bucket\":\"pkgs\","
             "\"S3Key\":\"missing.zip\"}}");
    assert_int_equal(r.status, 400);
    assert_string_equal(r.errtype, "InvalidParameterValueException");
    assert_non_null(strstr(r.body, "Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 "
                                   "Error Message: The specified key does not exist."));
    resp_free(&r);
    r = call(f, "POST", "/2015-03-31/functions",
             "{\"FunctionName\":\"s3fn\",\"Runtime\":\"provided.al2023\",\"Role\":"
             "\"arn:aws:iam::123456789012:role/r\",\"Code\":{\"S3Bucket\":\"pkgs\"}}");
    assert_int_equal(r.status, 400);
    resp_free(&r);
    r = call(f, "POST", "/2015-03-31/functions",
             "{\"FunctionName\":\"s3fn\",\"Runtime\":\"provided.al2023\",\"Role\":"
             "\"arn:aws:iam::123456789012:role/r\",\"Code\":{\"S3Bucket\":\"pkgs\","
             "\"S3Key\":\"ok.zip\"}}");
    assert_int_equal(r.status, 201);
    resp_free(&r);
    r = call(f, "POST", "/2015-03-31/functions/s3fn/invocations", "{\"a\":1}");
    assert_string_equal(r.body, "{\"a\":1}");
    resp_free(&r);
    r = call(f, "PUT", "/2015-03-31/functions/s3fn/code",
             "{\"S3Bucket\":\"other\",\"S3Key\":\"ok.zip\"}");
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "S3 Error Code: NoSuchBucket"));
    resp_free(&r);
    free(s3_zip);
}

/* ---- memory: a process group past MemorySize is stopped ---- */

static void test_out_of_memory(void **state)
{
    struct fixture *f = *state;
    struct resp r;

    create(f, "hog",
           "#!/bin/sh\n"
           "curl -s -o /dev/null \"http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/"
           "invocation/next\"\n"
           "python3 -c 'import time; x = b\"y\" * (300 << 20); time.sleep(20)'\n",
           ",\"Timeout\":30");
    r = call(f, "POST", "/2015-03-31/functions/hog/invocations", "{}");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.ferr, "Unhandled");
    assert_non_null(strstr(r.body, "\"errorType\":\"Runtime.OutOfMemory\""));
    assert_non_null(strstr(r.body, "Runtime exited with error: signal: killed"));
    resp_free(&r);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], FN_INIT_COMMAND) == 0) /* an instance's child (fn.h) */
        fn_init_main(argc - 1, argv + 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rapi_parse),
        cmocka_unit_test(test_runtime_known),
        cmocka_unit_test(test_url_match),
        cmocka_unit_test(test_url_event),
        cmocka_unit_test(test_url_result),
        cmocka_unit_test_setup_teardown(test_api_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_s3_package, setup, teardown),
        cmocka_unit_test_setup_teardown(test_out_of_memory, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
