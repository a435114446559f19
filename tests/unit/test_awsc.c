/* test_awsc.c - the signed client against a real HTTP server that verifies
 * every request with sigv4_verify. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "awsc.h"
#include "clock.h"
#include "creds.h"
#include "http.h"
#include "sigv4.h"

struct fixture {
    struct creds *creds;
    struct http_server *srv;
    char endpoint[64];
};

/* Answers 200 with "<service> <region> <method> <path> <body>" when the
 * signature verifies, else 403 with the failure's message. */
static void verify_handler(struct http_req *r, void *ud)
{
    struct fixture *f = ud;
    struct sigv4_header hs[64];
    struct sigv4_result v;
    size_t i;

    for (i = 0; i < r->nheaders && i < 64; i++)
        hs[i] = (struct sigv4_header){r->headers[i].name, r->headers[i].value};
    struct sigv4_request sr = {
        .method = r->method,
        .path = r->path,
        .query = r->query,
        .headers = hs,
        .nheaders = i,
        .body = r->body.ptr ? r->body.ptr : "",
        .body_len = r->body.len,
        .s3_paths = strstr(r->path, "/s3") == r->path,
    };
    if (!sigv4_verify(f->creds, &sr, clock_wall_s(), &v)) {
        http_respond(r, 403, v.msg, strlen(v.msg));
        return;
    }
    char *msg = arena_sprintf(r->arena, "%s %s %s %s %s", v.service, v.region, r->method, r->path,
                              r->body.ptr ? r->body.ptr : "");
    http_resp_header(r, "X-Echo", "yes");
    http_respond(r, 200, msg, strlen(msg));
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct creds_identity id = {.root = true};
    struct http_server_opts o = {.host = "127.0.0.1", .threads = 2, .handler = verify_handler};

    f->creds = creds_new();
    strcpy(id.access_key, "AKCLIENT");
    strcpy(id.secret, "client-secret");
    assert_int_equal(creds_add(f->creds, &id, NULL), ERR_OK);
    o.ud = f;
    assert_int_equal(http_server_start(&o, &f->srv, NULL), ERR_OK);
    snprintf(f->endpoint, sizeof(f->endpoint), "http://127.0.0.1:%d", http_server_port(f->srv));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    http_server_stop(f->srv);
    creds_free(f->creds);
    free(f);
    return 0;
}

static const struct awsc_creds good = {"AKCLIENT", "client-secret", NULL};

static void json_call_is_signed(void **state)
{
    struct fixture *f = *state;
    struct awsc_resp resp;

    assert_int_equal(awsc_json(&good, f->endpoint, "us-east-1", "dynamodb",
                               "DynamoDB_20120810.ListTables", "{\"a\":1}", &resp, NULL),
                     ERR_OK);
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.body.ptr, "dynamodb us-east-1 POST / {\"a\":1}");
    assert_string_equal(awsc_resp_header(&resp, "x-echo"), "yes");
    assert_null(awsc_resp_header(&resp, "x-missing"));
    awsc_resp_free(&resp);
    awsc_resp_free(NULL);
}

static void paths_queries_and_s3(void **state)
{
    struct fixture *f = *state;
    const struct awsc_header hs[] = {{"X-Amz-Meta-Color", "blue"}};
    struct awsc_req r = {
        .method = "PUT",
        .endpoint = f->endpoint,
        .path = "/s3/bucket/a%20key",
        .query = "versionId=3&x=y%2Fz",
        .region = "us-west-2",
        .service = "s3",
        .headers = hs,
        .nheaders = 1,
        .body = "data",
        .body_len = 4,
    };
    struct awsc_resp resp;
    int i;

    for (i = 0; i < 3; i++) { /* the same thread reuses its connection */
        assert_int_equal(awsc_call(&good, &r, &resp, NULL), ERR_OK);
        assert_int_equal(resp.status, 200);
        assert_string_equal(resp.body.ptr, "s3 us-west-2 PUT /s3/bucket/a%20key data");
        awsc_resp_free(&resp);
    }
    r.unsigned_payload = true;
    r.method = "GET";
    r.body = NULL;
    r.body_len = 0;
    assert_int_equal(awsc_call(&good, &r, &resp, NULL), ERR_OK);
    assert_int_equal(resp.status, 200);
    awsc_resp_free(&resp);
    r.method = "HEAD";
    assert_int_equal(awsc_call(&good, &r, &resp, NULL), ERR_OK);
    assert_int_equal(resp.status, 200);
    assert_int_equal(resp.body.len, 0);
    awsc_resp_free(&resp);
}

static void wrong_secret_and_token(void **state)
{
    struct fixture *f = *state;
    const struct awsc_creds bad = {"AKCLIENT", "wrong", NULL};
    const struct awsc_creds tok = {"AKCLIENT", "client-secret", "some-token"};
    struct awsc_resp resp;

    assert_int_equal(
        awsc_json(&bad, f->endpoint, "us-east-1", "dynamodb", "X.Y", "{}", &resp, NULL), ERR_OK);
    assert_int_equal(resp.status, 403);
    assert_non_null(strstr(resp.body.ptr, "signature"));
    awsc_resp_free(&resp);
    /* a token on a long-term key is refused by the verifier: it was sent */
    assert_int_equal(
        awsc_json(&tok, f->endpoint, "us-east-1", "dynamodb", "X.Y", "{}", &resp, NULL), ERR_OK);
    assert_int_equal(resp.status, 403);
    awsc_resp_free(&resp);
}

struct sink {
    size_t got, calls, stop_after; /* stop_after: refuse the call after that many (0: never) */
};

static bool sink_data(void *ud, const void *p, size_t n)
{
    struct sink *k = ud;

    (void)p;
    k->got += n;
    return !k->stop_after || ++k->calls < k->stop_after;
}

/* on_data: a 200 answer's body is handed over as it arrives (in several
 * pieces for a large one), another status's kept; false from it ends the call */
static void streamed_body(void **state)
{
    struct fixture *f = *state;
    size_t big = 256 * 1024, prefix = strlen("s3 us-east-1 PUT /s3/b/k ");
    char *body = malloc(big + 1);
    struct sink k = {0};
    struct awsc_req r = {.method = "PUT",
                         .endpoint = f->endpoint,
                         .path = "/s3/b/k",
                         .region = "us-east-1",
                         .service = "s3",
                         .on_data = sink_data,
                         .data_ud = &k};
    const struct awsc_creds bad = {"AKCLIENT", "wrong", NULL};
    struct awsc_resp resp;

    memset(body, 'x', big);
    body[big] = 0;
    r.body = body;
    r.body_len = big;
    assert_int_equal(awsc_call(&good, &r, &resp, NULL), ERR_OK);
    assert_int_equal(resp.status, 200);
    assert_int_equal(resp.body.len, 0);
    assert_int_equal(k.got, prefix + big);
    awsc_resp_free(&resp);
    k = (struct sink){0};
    assert_int_equal(awsc_call(&bad, &r, &resp, NULL), ERR_OK);
    assert_int_equal(resp.status, 403);
    assert_int_equal(k.got, 0);
    assert_non_null(strstr(resp.body.ptr, "signature"));
    awsc_resp_free(&resp);
    k = (struct sink){.stop_after = 1};
    assert_int_equal(awsc_call(&good, &r, &resp, NULL), ERR_IO);
    assert_true(k.got > 0 && k.got < prefix + big);
    awsc_resp_free(&resp);
    free(body);
}

static void unreachable_peer(void **state)
{
    (void)state;
    struct awsc_resp resp;
    struct err e = {0};
    struct awsc_req r = {.method = "GET",
                         .endpoint = "http://127.0.0.1:1",
                         .path = "/",
                         .region = "us-east-1",
                         .service = "dynamodb",
                         .timeout_ms = 2000};

    assert_int_equal(awsc_call(&good, &r, &resp, &e), ERR_IO);
    assert_int_equal(resp.status, 0);
    assert_non_null(strstr(e.msg, "127.0.0.1:1"));
    awsc_resp_free(&resp);
    struct awsc_header many[30];
    for (int i = 0; i < 30; i++)
        many[i] = (struct awsc_header){"x-h", "v"};
    r.headers = many;
    r.nheaders = 30;
    assert_int_equal(awsc_call(&good, &r, &resp, &e), ERR_INVALID);
    awsc_resp_free(&resp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_call_is_signed),    cmocka_unit_test(paths_queries_and_s3),
        cmocka_unit_test(wrong_secret_and_token), cmocka_unit_test(streamed_body),
        cmocka_unit_test(unreachable_peer),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
