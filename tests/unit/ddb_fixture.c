/* ddb_fixture.c - see ddb_fixture.h. */
#include "ddb_fixture.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "http.h"
#include "unit_tmpdir.h"

static void open_ddb(struct ddb_fixture *f, const struct ddb_opts *dop)
{
    struct ddb_opts o = {0};
    struct err e = {0};

    if (dop)
        o = *dop;
    o.store = f->store;
    o.region = "us-east-1";
    o.account = "123456789012";
    if (ddb_open(&o, &f->ddb, &e) != ERR_OK)
        fail_msg("ddb_open: %s", e.msg);
}

static void open_store(struct ddb_fixture *f, const struct store_opts *so)
{
    struct store_opts o = *so;
    struct err e = {0};

    o.dir = f->dir;
    if (!o.map_size)
        o.map_size = 256u << 20;
    if (store_open(&o, &f->store, &e) != ERR_OK)
        fail_msg("store_open %s: %s", f->dir, e.msg);
}

struct ddb_fixture *ddb_fixture_open(const struct ddb_opts *dop)
{
    struct ddb_fixture *f = calloc(1, sizeof(*f));
    struct store_opts so = {.nosync = true};

    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/%.40s.XXXXXX", program_invocation_short_name);
    assert_non_null(mkdtemp(f->dir));
    open_store(f, &so);
    open_ddb(f, dop);
    return f;
}

void ddb_fixture_reopen(struct ddb_fixture *f, const struct store_opts *so)
{
    ddb_close(f->ddb);
    store_close(f->store);
    open_store(f, so);
    open_ddb(f, NULL);
}

void ddb_fixture_close(struct ddb_fixture *f)
{
    ddb_close(f->ddb);
    store_close(f->store);
    rm_rf(f->dir);
    free(f);
}

int ddb_fixture_setup(void **state)
{
    *state = ddb_fixture_open(NULL);
    return 0;
}

int ddb_fixture_teardown(void **state)
{
    ddb_fixture_close(*state);
    return 0;
}

int ddb_fixture_call(struct ddb_fixture *f, bool streams, const char *op, const char *body,
                     cJSON **out)
{
    struct http_req *r = http_req_new("POST", "/");
    const char *rb;
    size_t rlen;
    int status;

    buf_append(&r->body, body, strlen(body));
    if (streams)
        ddb_streams_handle(f->ddb, r, op, NULL);
    else
        ddb_handle(f->ddb, r, op, NULL);
    status = http_req_wait(r, &rb, &rlen);
    *out = cJSON_ParseWithLength(rb, rlen);
    if (!*out)
        fail_msg("%s: the answer is not JSON: %.*s", op, (int)rlen, rb);
    http_req_free(r);
    return status;
}
