/* test_s3_flush.c - uploads' body flushes (src/s3/flush.c, s3_commit_file):
 * with and without the flush threads, and a flush that fails at each of its
 * steps (data, move, folder; made to fail with s3_fail_flush): the upload
 * answers InternalError, no version is recorded, and no body file or
 * temporary file is left behind. Requests are real signed S3 requests run
 * in-process against a region's store in a temporary folder. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>

#include "creds.h"
#include "http.h"
#include "s3_int.h"
#include "sigv4.h"
#include "store.h"

#define AK "AKIAFLUSHTESTROOT000"
#define SK "flushtestsecret"

struct fixture {
    char dir[64];
    struct store *store;
    struct creds *creds;
    struct s3 *s3;
};

static void open_region(struct fixture *f, int flush_threads)
{
    struct store_opts so = {0};
    struct s3_opts o = {0};
    struct creds_identity root = {0};
    struct err e = {0};

    strcpy(f->dir, "/tmp/test_s3_flush.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    so.dir = f->dir;
    so.map_size = 64u << 20;
    assert_int_equal(store_open(&so, &f->store, &e), ERR_OK);
    f->creds = creds_new();
    creds_set_account(f->creds, "123456789012");
    strcpy(root.access_key, AK);
    strcpy(root.secret, SK);
    strcpy(root.account, "123456789012");
    strcpy(root.user, "root");
    root.root = true;
    assert_int_equal(creds_add(f->creds, &root, &e), ERR_OK);
    o.store = f->store;
    o.creds = f->creds;
    o.region = "us-east-1";
    o.account = "123456789012";
    o.data_dir = f->dir;
    o.flush_threads = flush_threads;
    assert_int_equal(s3_open(&o, &f->s3, &e), ERR_OK);
}

static int setup_pool(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    open_region(f, 0);
    *state = f;
    return 0;
}

static int setup_no_pool(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    open_region(f, S3_FLUSH_NONE);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];

    s3_close(f->s3);
    store_close(f->store);
    creds_free(f->creds);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* one signed request (@hdr: an extra "name: value" header or NULL): its
 * status, the answer's body copied into @out (cap) */
static int call_h(struct fixture *f, const char *method, const char *uri, const char *hdr,
                  const char *body, char *out, size_t cap)
{
    struct http_req *r = http_req_new(method, uri);
    char date[17], len[24], auth[1024], path[256], hname[64] = "", *qm;
    struct sigv4_header hs[5];
    struct sigv4_request sr = {0};
    const char *got = NULL;
    size_t n = 0, blen = body ? strlen(body) : 0;
    int st;

    sigv4_format_date(time(NULL), date);
    snprintf(len, sizeof(len), "%zu", blen);
    hs[0] = (struct sigv4_header){"content-length", len};
    hs[1] = (struct sigv4_header){"host", "127.0.0.1"};
    hs[2] = (struct sigv4_header){"x-amz-content-sha256", "UNSIGNED-PAYLOAD"};
    hs[3] = (struct sigv4_header){"x-amz-date", date};
    snprintf(path, sizeof(path), "%s", uri);
    qm = strchr(path, '?');
    if (qm)
        *qm++ = '\0';
    sr.nheaders = 4;
    if (hdr) {
        snprintf(hname, sizeof(hname), "%.*s", (int)(strchr(hdr, ':') - hdr), hdr);
        hs[sr.nheaders++] = (struct sigv4_header){hname, strchr(hdr, ':') + 2};
    }
    sr.method = method;
    sr.path = path;
    sr.query = qm ? qm : "";
    sr.headers = hs;
    sr.s3_paths = true;
    assert_true(sigv4_sign(&sr, AK, SK, "us-east-1", "s3", "UNSIGNED-PAYLOAD", auth, sizeof(auth)));
    for (size_t i = 0; i < sr.nheaders; i++)
        http_req_add_header(r, hs[i].name, hs[i].value);
    http_req_add_header(r, "authorization", auth);
    if (blen)
        buf_append(&r->body, body, blen);
    s3_handle(f->s3, r);
    st = http_req_wait(r, &got, &n);
    snprintf(out, cap, "%.*s", (int)n, got ? got : "");
    http_req_free(r);
    return st;
}

static int call(struct fixture *f, const char *method, const char *uri, const char *body, char *out,
                size_t cap)
{
    return call_h(f, method, uri, NULL, body, out, cap);
}

/* the files under objects/ (body files and temporary files; not folders) */
static int count_files(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;

    assert_non_null(d);
    while ((de = readdir(d))) {
        char path[512];
        struct stat st;
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        assert_int_equal(stat(path, &st), 0);
        n += S_ISDIR(st.st_mode) ? count_files(path) : 1;
    }
    closedir(d);
    return n;
}

static int body_files(struct fixture *f)
{
    char objects[96];

    snprintf(objects, sizeof(objects), "%s/objects", f->dir);
    return count_files(objects);
}

static void uploads_flush_and_failures_leave_nothing(struct fixture *f)
{
    static const enum s3_flush_step steps[] = {S3_FLUSH_DATA, S3_FLUSH_RENAME, S3_FLUSH_FOLDER};
    char out[2048];

    assert_int_equal(call(f, "PUT", "/flushb", NULL, out, sizeof(out)), 200);
    assert_int_equal(call(f, "PUT", "/flushb/kept", "first body", out, sizeof(out)), 200);
    assert_int_equal(call(f, "GET", "/flushb/kept", NULL, out, sizeof(out)), 200);
    assert_string_equal(out, "first body");
    assert_int_equal(body_files(f), 1);

    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        print_message("flush fails at step %d\n", (int)steps[i]);
        s3_fail_flush(f->s3, steps[i], 1);
        /* a new key: nothing recorded */
        assert_int_equal(call(f, "PUT", "/flushb/lost", "never kept", out, sizeof(out)), 500);
        assert_non_null(strstr(out, "<Code>InternalError</Code>"));
        assert_int_equal(call(f, "GET", "/flushb/lost", NULL, out, sizeof(out)), 404);
        assert_non_null(strstr(out, "<Code>NoSuchKey</Code>"));
        /* an existing key: the version it had stays the current one */
        s3_fail_flush(f->s3, steps[i], 1);
        assert_int_equal(call(f, "PUT", "/flushb/kept", "second body", out, sizeof(out)), 500);
        assert_int_equal(call(f, "GET", "/flushb/kept", NULL, out, sizeof(out)), 200);
        assert_string_equal(out, "first body");
        /* neither a temporary file nor a body file is left */
        assert_int_equal(body_files(f), 1);
    }
    /* the failures were one-off: the next upload is kept */
    assert_int_equal(call(f, "PUT", "/flushb/after", "after body", out, sizeof(out)), 200);
    assert_int_equal(call(f, "GET", "/flushb/after", NULL, out, sizeof(out)), 200);
    assert_string_equal(out, "after body");
    assert_int_equal(body_files(f), 2);
    /* cleared, a failure asked for does not happen */
    s3_fail_flush(f->s3, S3_FLUSH_DATA, 1);
    s3_fail_flush(f->s3, S3_FLUSH_DATA, 0);
    assert_int_equal(call(f, "PUT", "/flushb/last", "last body", out, sizeof(out)), 200);
}

/* the text of the first <@name> element of @xml into @out */
static void xml_text(const char *xml, const char *name, char *out, size_t cap)
{
    char open[64];
    const char *b, *e;

    snprintf(open, sizeof(open), "<%s>", name);
    b = strstr(xml, open);
    assert_non_null(b);
    b += strlen(open);
    e = strchr(b, '<');
    assert_non_null(e);
    snprintf(out, cap, "%.*s", (int)(e - b), b);
}

/* CopyObject, UploadPartCopy and CompleteMultipartUpload copy and flush on a
 * flush thread (or the request thread without one); a failed flush answers
 * InternalError and changes nothing */
static void copies_flush_and_failures_leave_nothing(struct fixture *f)
{
    static const enum s3_flush_step steps[] = {S3_FLUSH_DATA, S3_FLUSH_RENAME, S3_FLUSH_FOLDER};
    char out[2048], id[128], uri[256], etag[80], xml[512];
    const char *src = "x-amz-copy-source: /copyb/src";

    assert_int_equal(call(f, "PUT", "/copyb", NULL, out, sizeof(out)), 200);
    assert_int_equal(call(f, "PUT", "/copyb/src", "source body", out, sizeof(out)), 200);
    assert_int_equal(call(f, "POST", "/copyb/mp?uploads", NULL, out, sizeof(out)), 200);
    xml_text(out, "UploadId", id, sizeof(id));
    snprintf(uri, sizeof(uri), "/copyb/mp?partNumber=1&uploadId=%s", id);
    assert_int_equal(call_h(f, "PUT", uri, src, NULL, out, sizeof(out)), 200);
    xml_text(out, "ETag", etag, sizeof(etag));
    assert_int_equal(body_files(f), 2);
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        print_message("copy's flush fails at step %d\n", (int)steps[i]);
        s3_fail_flush(f->s3, steps[i], 1);
        assert_int_equal(call_h(f, "PUT", "/copyb/dst", src, NULL, out, sizeof(out)), 500);
        assert_non_null(strstr(out, "<Code>InternalError</Code>"));
        assert_int_equal(call(f, "GET", "/copyb/dst", NULL, out, sizeof(out)), 404);
        s3_fail_flush(f->s3, steps[i], 1);
        snprintf(uri, sizeof(uri), "/copyb/mp?partNumber=2&uploadId=%s", id);
        assert_int_equal(call_h(f, "PUT", uri, src, NULL, out, sizeof(out)), 500);
        s3_fail_flush(f->s3, steps[i], 1);
        snprintf(uri, sizeof(uri), "/copyb/mp?uploadId=%s", id);
        snprintf(xml, sizeof(xml),
                 "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>"
                 "<ETag>%s</ETag></Part></CompleteMultipartUpload>",
                 etag);
        assert_int_equal(call(f, "POST", uri, xml, out, sizeof(out)), 500);
        assert_non_null(strstr(out, "<Code>InternalError</Code>"));
        assert_int_equal(call(f, "GET", "/copyb/mp", NULL, out, sizeof(out)), 404);
        assert_int_equal(body_files(f), 2);
    }
    /* part 2 was never recorded; the upload completes from part 1 */
    snprintf(uri, sizeof(uri), "/copyb/mp?uploadId=%s", id);
    assert_int_equal(call(f, "GET", uri, NULL, out, sizeof(out)), 200);
    assert_null(strstr(out, "<PartNumber>2</PartNumber>"));
    assert_int_equal(call(f, "POST", uri, xml, out, sizeof(out)), 200);
    assert_int_equal(call(f, "GET", "/copyb/mp", NULL, out, sizeof(out)), 200);
    assert_string_equal(out, "source body");
    assert_int_equal(call_h(f, "PUT", "/copyb/dst", src, NULL, out, sizeof(out)), 200);
    assert_int_equal(call(f, "GET", "/copyb/dst", NULL, out, sizeof(out)), 200);
    assert_string_equal(out, "source body");
}

static void copies_with_flush_threads(void **state)
{
    struct fixture *f = *state;

    copies_flush_and_failures_leave_nothing(f);
}

static void copies_without_flush_threads(void **state)
{
    struct fixture *f = *state;

    copies_flush_and_failures_leave_nothing(f);
}

static void with_flush_threads(void **state)
{
    struct fixture *f = *state;

    assert_true(s3_flush_threads(f->s3) > 0);
    uploads_flush_and_failures_leave_nothing(f);
}

/* no flush thread: the request thread flushes the body itself */
static void without_flush_threads(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(s3_flush_threads(f->s3), 0);
    uploads_flush_and_failures_leave_nothing(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(with_flush_threads, setup_pool, teardown),
        cmocka_unit_test_setup_teardown(without_flush_threads, setup_no_pool, teardown),
        cmocka_unit_test_setup_teardown(copies_with_flush_threads, setup_pool, teardown),
        cmocka_unit_test_setup_teardown(copies_without_flush_threads, setup_no_pool, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
