/* test_fn.c - the Lambda service through fn.h: the pure conversions (URL
 * events and results, Runtime API paths) and the REST API with real
 * instances (a shell bootstrap) on a real store in a temp dir. */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rapi_parse),
        cmocka_unit_test(test_url_match),
        cmocka_unit_test(test_url_event),
        cmocka_unit_test(test_url_result),
        cmocka_unit_test_setup_teardown(test_api_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
