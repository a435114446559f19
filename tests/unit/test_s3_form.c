/* test_s3_form.c - the streaming multipart/form-data parser of POST Object
 * (src/s3/form.c): fields before the file, the first of a name kept, a
 * preamble, the file's bytes passed on whatever the pieces (the closing
 * delimiter split at every place, bytes that begin like it), what follows
 * the file ignored, and the refusals: no usable boundary, a part without a
 * name, a delimiter not followed by CRLF, too many fields, too many bytes
 * before the file, a callback that stops the parse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "s3_form.h"

#define CT "multipart/form-data; boundary=XyZ"

struct sink {
    char out[4096];
    size_t n;
    int starts;
    bool refuse_start, fail_data;
};

static bool on_start(void *ud)
{
    struct sink *s = ud;
    s->starts++;
    return !s->refuse_start;
}

static enum err_code on_data(void *ud, const void *p, size_t n)
{
    struct sink *s = ud;
    if (s->fail_data)
        return ERR_IO;
    assert_true(s->n + n <= sizeof(s->out));
    memcpy(s->out + s->n, p, n);
    s->n += n;
    return ERR_OK;
}

/* @body fed in pieces of @step bytes (0: whole) to a new parser (*@fp, in @a);
 * the parse's end state */
static enum s3_form_state run(struct arena *a, struct s3_form **fp, struct sink *s,
                              const char *body, size_t len, size_t step)
{
    struct s3_form *f = *fp = arena_calloc(a, sizeof(*f));

    assert_true(s3_form_init(f, a, CT, on_start, on_data, s));
    for (size_t off = 0; off < len;) {
        size_t n = step && len - off > step ? step : len - off;
        if (!s3_form_feed(f, body + off, n))
            break;
        off += n;
    }
    return f->state;
}

static const char form[] = "preamble\r\n"
                           "--XyZ\r\nContent-Disposition: form-data; name=\"Key\"\r\n\r\nk1\r\n"
                           "--XyZ\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nk2\r\n"
                           "--XyZ\r\ncontent-disposition: form-data; name=empty\r\n\r\n\r\n"
                           "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; "
                           "filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\n"
                           "data\r\n--XyQ \r\n-\r\n--Xy"
                           "\r\n--XyZ\r\nContent-Disposition: form-data; name=\"after\"\r\n\r\n"
                           "x\r\n--XyZ--\r\n";
static const char file_bytes[] = "data\r\n--XyQ \r\n-\r\n--Xy";

static void test_fields_and_file_any_pieces(void **state)
{
    (void)state;
    for (size_t step = 0; step < sizeof(form); step++) {
        struct arena *a = arena_new();
        struct s3_form *f;
        struct sink s = {0};
        assert_int_equal(run(a, &f, &s, form, sizeof(form) - 1, step), S3_FORM_DONE);
        assert_int_equal(s.starts, 1);
        assert_int_equal(s.n, strlen(file_bytes));
        assert_memory_equal(s.out, file_bytes, s.n);
        assert_int_equal(f->file_len, s.n);
        assert_int_equal(f->n, 3); /* key (the first), empty, file; not "after" */
        assert_string_equal(s3_form_str(f, "key"), "k1");
        assert_string_equal(s3_form_str(f, "empty"), "");
        assert_string_equal(s3_form_get(f, "file")->filename, "a.txt");
        assert_null(s3_form_get(f, "after"));
        arena_free(a);
    }
}

static void test_no_file(void **state)
{
    static const char body[] =
        "--XyZ\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nk\r\n--XyZ--\r\n";
    struct arena *a = arena_new();
    struct s3_form *f;
    struct sink s = {0};

    (void)state;
    assert_int_equal(run(a, &f, &s, body, sizeof(body) - 1, 3), S3_FORM_END);
    assert_int_equal(s.starts, 0);
    assert_null(f->file);
    assert_string_equal(s3_form_str(f, "key"), "k");
    arena_free(a);
}

static void test_refusals(void **state)
{
    static const char *const bad[] = {
        "--XyZ\r\nContent-Type: text/plain\r\n\r\nv\r\n--XyZ--", /* no name */
        "--XyZ  \r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--XyZ--",
    };
    struct arena *a = arena_new();
    struct s3_form *f;
    struct sink s = {0};
    struct buf many;

    (void)state;
    for (size_t i = 0; i < 2; i++)
        assert_int_equal(run(a, &f, &s, bad[i], strlen(bad[i]), 0), S3_FORM_BAD);
    assert_false(s3_form_feed(f, "more", 4));
    /* no usable boundary */
    f = arena_calloc(a, sizeof(*f));
    assert_false(s3_form_init(f, a, "multipart/form-data", on_start, on_data, &s));
    assert_false(s3_form_init(f, a, NULL, on_start, on_data, &s));
    assert_false(s3_form_init(f, a, "multipart/form-data; boundary=\"\"", on_start, on_data, &s));
    {
        char ct[300] = "multipart/form-data; boundary=";
        memset(ct + strlen(ct), 'b', 201);
        assert_false(s3_form_init(f, a, ct, on_start, on_data, &s));
    }
    /* 65 fields */
    buf_init(&many, 0);
    for (int i = 0; i < 65; i++)
        buf_printf(&many, "--XyZ\r\nContent-Disposition: form-data; name=f%d\r\n\r\nv\r\n", i);
    buf_puts(&many, "--XyZ--");
    assert_int_equal(run(a, &f, &s, many.ptr, many.len, 100), S3_FORM_BAD);
    buf_free(&many);
    /* more than S3_FORM_PREDATA bytes before the file, whole or in pieces */
    buf_init(&many, 0);
    buf_puts(&many, "--XyZ\r\nContent-Disposition: form-data; name=pad\r\n\r\n");
    for (size_t i = 0; i < S3_FORM_PREDATA / 64 + 1; i++)
        buf_append(&many, "pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp", 64);
    buf_puts(&many, "\r\n--XyZ--");
    assert_int_equal(run(a, &f, &s, many.ptr, many.len, 0), S3_FORM_TOO_LARGE);
    assert_int_equal(run(a, &f, &s, many.ptr, many.len, 5000), S3_FORM_TOO_LARGE);
    buf_free(&many);
    arena_free(a);
}

static void test_callbacks_stop(void **state)
{
    struct arena *a = arena_new();
    struct s3_form *f;
    struct sink s = {.refuse_start = true};

    (void)state;
    assert_int_equal(run(a, &f, &s, form, sizeof(form) - 1, 0), S3_FORM_STOPPED);
    assert_int_equal(s.n, 0);
    memset(&s, 0, sizeof(s));
    s.fail_data = true;
    assert_int_equal(run(a, &f, &s, form, sizeof(form) - 1, 200), S3_FORM_STOPPED);
    assert_false(s3_form_feed(f, "x", 1));
    arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields_and_file_any_pieces),
        cmocka_unit_test(test_no_file),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_callbacks_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
