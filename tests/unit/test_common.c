/* test_common.c - buf, arena, codec, err, clock. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arena.h"
#include "buf.h"
#include "clock.h"
#include "codec.h"
#include "err.h"
#include "jobs.h"
#include "log.h"
#include "mem.h"

static void buf_grows_and_limits(void **state)
{
    (void)state;
    struct buf b;
    size_t len;
    char *p;

    buf_init(&b, 10);
    assert_int_equal(buf_puts(&b, "hello"), ERR_OK);
    assert_int_equal(buf_printf(&b, "%d", 1234), ERR_OK);
    assert_string_equal(b.ptr, "hello1234");
    assert_int_equal(buf_puts(&b, "xy"), ERR_TOO_LARGE); /* 11 > 10: nothing appended */
    assert_int_equal(b.len, 9);
    assert_int_equal(buf_putc(&b, '!'), ERR_OK);
    assert_int_equal(buf_printf(&b, "%s", "z"), ERR_TOO_LARGE);
    buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.ptr, "");
    assert_int_equal(buf_append(&b, "abc", 3), ERR_OK);
    p = buf_detach(&b, &len);
    assert_int_equal(len, 3);
    assert_string_equal(p, "abc");
    assert_null(b.ptr);
    free(p);
    p = buf_detach(&b, NULL); /* empty buffer still gives a string */
    assert_string_equal(p, "");
    free(p);
    buf_free(&b);
}

static void buf_reserve_room(void **state)
{
    struct buf b;
    char *before;

    (void)state;
    buf_init(&b, 100);
    assert_int_equal(buf_reserve(&b, 80), ERR_OK);
    assert_int_equal(b.len, 0);
    assert_true(b.cap >= 81);
    before = b.ptr;
    for (int i = 0; i < 80; i++)
        assert_int_equal(buf_putc(&b, 'x'), ERR_OK);
    assert_ptr_equal(b.ptr, before); /* no reallocation inside the reserved room */
    assert_int_equal(b.len, 80);
    assert_int_equal(buf_reserve(&b, 21), ERR_TOO_LARGE); /* past the limit */
    assert_int_equal(buf_reserve(&b, 20), ERR_OK);
    assert_int_equal(b.len, 80);
    buf_free(&b);
}

static void buf_unlimited_large(void **state)
{
    (void)state;
    struct buf b;
    int i;

    buf_init(&b, 0);
    for (i = 0; i < 10000; i++)
        assert_int_equal(buf_puts(&b, "0123456789"), ERR_OK);
    assert_int_equal(b.len, 100000);
    buf_free(&b);
}

static void buf_json_escapes(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        size_t len;
        const char *out;
    } cases[] = {
        {"plain", 5, "\"plain\""},
        {"a\"b\\c", 5, "\"a\\\"b\\\\c\""},
        {"\n\r\t\b\f", 5, "\"\\n\\r\\t\\b\\f\""},
        {"\x01\x1f", 2, "\"\\u0001\\u001f\""},
        {"nul\0x", 5, "\"nul\\u0000x\""},
        {"\xc3\xa9", 2, "\"\xc3\xa9\""}, /* UTF-8 passes through */
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct buf b;
        buf_init(&b, 0);
        assert_int_equal(buf_json_str(&b, cases[i].in, cases[i].len), ERR_OK);
        assert_string_equal(b.ptr, cases[i].out);
        buf_free(&b);
    }
    {
        struct buf b;
        buf_init(&b, 4);
        assert_int_equal(buf_json_str(&b, "abcdef", 6), ERR_TOO_LARGE);
        buf_free(&b);
    }
}

static int freed;
static void count_free(void *p)
{
    freed++;
    free(p);
}

static void arena_allocates_and_cleans(void **state)
{
    (void)state;
    struct arena *a = arena_new();
    char *s, *big;
    int *z;

    s = arena_strdup(a, "hello");
    assert_string_equal(s, "hello");
    assert_string_equal(arena_strndup(a, "abcdef", 3), "abc");
    assert_string_equal(arena_sprintf(a, "%s-%d", "x", 7), "x-7");
    assert_memory_equal(arena_memdup(a, "\0\1\2", 3), "\0\1\2", 3);
    z = arena_calloc(a, 64 * sizeof(int));
    assert_int_equal(z[63], 0);
    assert_true(((uintptr_t)z % _Alignof(max_align_t)) == 0);
    big = arena_alloc(a, 3 << 20); /* bigger than any block */
    memset(big, 1, 3 << 20);
    for (int i = 0; i < 5000; i++)
        (void)arena_alloc(a, 100);
    freed = 0;
    arena_on_free(a, count_free, xstrdup("owned"));
    arena_on_free(a, count_free, xmalloc(10));
    arena_free(a);
    assert_int_equal(freed, 2);
    arena_free(NULL);
}

static void hex_and_base64(void **state)
{
    (void)state;
    static const struct {
        const char *raw;
        const char *b64;
    } cases[] = {
        {"", ""},
        {"f", "Zg=="},
        {"fo", "Zm8="},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
    };
    char out[64];
    unsigned char dec[64];
    size_t i, n;

    hex_encode("\x00\xff\x10", 3, out);
    assert_string_equal(out, "00ff10");
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t rl = strlen(cases[i].raw);
        assert_int_equal(base64_encoded_len(rl), strlen(cases[i].b64));
        base64_encode(cases[i].raw, rl, out);
        assert_string_equal(out, cases[i].b64);
        assert_true(base64_decode(cases[i].b64, strlen(cases[i].b64), dec, &n));
        assert_int_equal(n, rl);
        assert_memory_equal(dec, cases[i].raw, rl);
    }
    base64_encode("\xfb\xff", 2, out);
    assert_string_equal(out, "+/8=");
    assert_false(base64_decode("Zg=", 3, dec, &n));      /* length */
    assert_false(base64_decode("Z===", 4, dec, &n));     /* too much padding */
    assert_false(base64_decode("Zg==Zg==", 8, dec, &n)); /* padding mid-way */
    assert_false(base64_decode("Zm9*", 4, dec, &n));     /* alphabet */
    assert_false(base64_decode("Zm=v", 4, dec, &n));     /* data after padding */
}

static void err_and_names(void **state)
{
    (void)state;
    struct err e = {0};

    assert_int_equal(err_set(&e, ERR_INVALID, "bad %s", "thing"), ERR_INVALID);
    assert_int_equal(e.code, ERR_INVALID);
    assert_string_equal(e.msg, "bad thing");
    assert_int_equal(err_set(NULL, ERR_IO, "ignored"), ERR_IO);
    /* a fixed message is copied as printf would, truncated to the buffer */
    assert_int_equal(err_set(&e, ERR_NOTFOUND, "not found"), ERR_NOTFOUND);
    assert_int_equal(e.code, ERR_NOTFOUND);
    assert_string_equal(e.msg, "not found");
    assert_int_equal(err_set(&e, ERR_INVALID, "100%% sure"), ERR_INVALID);
    assert_string_equal(e.msg, "100% sure");
#define X16 "xxxxxxxxxxxxxxxx"
    /* 272 characters, no conversion: cut at the buffer like printf cuts */
    err_set(&e, ERR_IO, X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16);
#undef X16
    assert_int_equal(strlen(e.msg), sizeof(e.msg) - 1);
    assert_int_equal(e.msg[sizeof(e.msg) - 2], 'x');
    assert_string_equal(err_name(ERR_OK), "ok");
    assert_string_equal(err_name(ERR_INTERNAL), "internal");
    assert_string_equal(err_name((enum err_code)99), "unknown");
}

static void clocks(void **state)
{
    (void)state;
    int64_t a = clock_mono_us(), w = clock_wall_ms();
    time_t s = clock_wall_s();

    assert_true(clock_mono_us() >= a);
    assert_true(w > 1700000000000LL);
    clock_set_offset(3600);
    assert_true(clock_wall_s() >= s + 3599);
    {
        /* deadlines are on the real clock, whatever the offset, and carry
         * whole seconds */
        struct timespec now, d = clock_deadline_ms(2999);
        int64_t ahead;

        clock_gettime(CLOCK_REALTIME, &now);
        ahead = ((int64_t)d.tv_sec - now.tv_sec) * 1000 + (d.tv_nsec - now.tv_nsec) / 1000000;
        assert_in_range(ahead, 2900, 2999);
        assert_in_range(d.tv_nsec, 0, 999999999);
    }
    clock_set_offset(0);
    log_set_level(LOG_DEBUG);
    log_debug("event=test_line k=%d", 1);
    log_set_level(LOG_INFO);
}

/* ---- jobs ---- */

static atomic_int job_count, job_now, job_max, job_started;
static atomic_bool job_gate;

static void job_body(void *arg)
{
    int n = atomic_fetch_add(&job_now, 1) + 1, m = atomic_load(&job_max);
    struct timespec ts = {0, 2000000};

    while (n > m && !atomic_compare_exchange_weak(&job_max, &m, n))
        ;
    atomic_fetch_add(&job_started, 1);
    while (arg && !atomic_load(&job_gate)) /* a gated job waits for the test */
        nanosleep(&ts, NULL);
    nanosleep(&ts, NULL);
    atomic_fetch_sub(&job_now, 1);
    atomic_fetch_add(&job_count, 1);
}

static void reset_jobs(void)
{
    atomic_store(&job_count, 0);
    atomic_store(&job_now, 0);
    atomic_store(&job_max, 0);
    atomic_store(&job_started, 0);
    atomic_store(&job_gate, false);
}

/* Every job runs, on at most the threads allowed, and a drained set takes no more. */
static void jobs_run_all(void **state)
{
    struct jobs *j = jobs_new("test", 3, 100);

    (void)state;
    reset_jobs();
    for (int i = 0; i < 40; i++)
        assert_true(jobs_run(j, job_body, NULL));
    jobs_drain(j);
    assert_int_equal(atomic_load(&job_count), 40);
    assert_int_equal(jobs_pending(j), 0);
    assert_in_range(atomic_load(&job_max), 1, 3);
    assert_false(jobs_run(j, job_body, NULL));
    jobs_free(j);
    jobs_free(NULL);
}

/* A job that blocks holds its thread only: the queue is bounded, and what does
 * not fit is refused at once rather than waited for. */
static void jobs_bounded_queue(void **state)
{
    struct jobs *j = jobs_new("test", 1, 2);
    struct timespec ts = {0, 1000000};
    int64_t deadline = clock_mono_us() + 10 * 1000000;

    (void)state;
    reset_jobs();
    assert_true(jobs_run(j, job_body, j)); /* gated */
    while (atomic_load(&job_started) == 0 && clock_mono_us() < deadline)
        nanosleep(&ts, NULL);
    assert_int_equal(atomic_load(&job_started), 1);
    assert_true(jobs_run(j, job_body, NULL));
    assert_true(jobs_run(j, job_body, NULL));
    assert_false(jobs_run(j, job_body, NULL)); /* two wait already */
    assert_int_equal(jobs_pending(j), 3);
    assert_false(jobs_drain_ms(j, 50)); /* the gated one still runs */
    assert_false(jobs_run(j, job_body, NULL));
    atomic_store(&job_gate, true);
    assert_true(jobs_drain_ms(j, 10000));
    assert_true(jobs_drain_ms(NULL, 0));
    jobs_free(j);
    assert_int_equal(atomic_load(&job_count), 3);
    assert_int_equal(atomic_load(&job_max), 1);
}

static void mem_helpers(void **state)
{
    (void)state;
    char *p = xstrndup("abcdef", 3);
    assert_string_equal(p, "abc");
    p = xrealloc(p, 100);
    free(p);
    p = xcalloc(0, 0);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(buf_grows_and_limits),
        cmocka_unit_test(buf_reserve_room),
        cmocka_unit_test(buf_unlimited_large),
        cmocka_unit_test(buf_json_escapes),
        cmocka_unit_test(arena_allocates_and_cleans),
        cmocka_unit_test(hex_and_base64),
        cmocka_unit_test(err_and_names),
        cmocka_unit_test(clocks),
        cmocka_unit_test(mem_helpers),
        cmocka_unit_test(jobs_run_all),
        cmocka_unit_test(jobs_bounded_queue),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
