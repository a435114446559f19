/* test_worker.c - worker: waits, kicks, timeouts and stop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "clock.h"
#include "worker.h"

struct probe {
    int64_t wait_ms;      /* what each round's worker_wait() is given */
    atomic_int rounds;    /* worker_wait() answered true */
    atomic_int hold;      /* while set, a round stays busy */
    atomic_bool returned; /* the loop ended */
    atomic_bool saw_stop; /* worker_stopping() once the loop ended */
};

static void loop(struct worker *w, void *arg)
{
    struct probe *p = arg;

    while (worker_wait(w, p->wait_ms)) {
        atomic_fetch_add(&p->rounds, 1);
        while (atomic_load(&p->hold) && !worker_stopping(w))
            nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    atomic_store(&p->saw_stop, worker_stopping(w));
    atomic_store(&p->returned, true);
}

/* until @p has run @n rounds, for at most 10 s; whether it has */
static bool rounds_reach(struct probe *p, int n)
{
    int64_t end = clock_mono_us() + 10 * 1000000;

    while (atomic_load(&p->rounds) < n && clock_mono_us() < end)
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    return atomic_load(&p->rounds) >= n;
}

static void timeout_runs_rounds(void **state)
{
    struct probe p = {.wait_ms = 5};
    struct worker *w;

    (void)state;
    w = worker_start(loop, &p);
    assert_non_null(w);
    assert_true(rounds_reach(&p, 3)); /* no kick needed */
    worker_stop(w);
    assert_true(p.returned);
    assert_true(p.saw_stop);
}

static void kick_wakes_a_long_sleep(void **state)
{
    struct probe p = {.wait_ms = 3600 * 1000}; /* an hour: only kicks wake it */
    struct worker *w;
    int64_t t0;

    (void)state;
    w = worker_start(loop, &p);
    assert_non_null(w);
    worker_kick(w);
    assert_true(rounds_reach(&p, 1));
    worker_kick(w);
    assert_true(rounds_reach(&p, 2));
    t0 = clock_mono_us();
    worker_stop(w); /* wakes the hour-long sleep */
    assert_true(clock_mono_us() - t0 < 5 * 1000000);
    assert_true(p.returned);
    assert_int_equal(atomic_load(&p.rounds), 2);
}

static void kick_while_busy_is_kept(void **state)
{
    struct probe p = {.wait_ms = -1}; /* no time limit */
    struct worker *w;

    (void)state;
    atomic_store(&p.hold, 1);
    w = worker_start(loop, &p);
    assert_non_null(w);
    worker_kick(w);
    assert_true(rounds_reach(&p, 1)); /* busy in round 1 */
    worker_kick(w);                   /* queued work while busy */
    atomic_store(&p.hold, 0);
    assert_true(rounds_reach(&p, 2)); /* the next wait returned at once */
    worker_stop(w);
    assert_int_equal(atomic_load(&p.rounds), 2);
}

static void stop_ends_a_busy_round(void **state)
{
    struct probe p = {.wait_ms = 0}; /* no sleep between rounds */
    struct worker *w;

    (void)state;
    atomic_store(&p.hold, 1);
    w = worker_start(loop, &p);
    assert_non_null(w);
    assert_true(rounds_reach(&p, 1));
    assert_false(worker_stopping(w));
    worker_stop(w); /* the round sees worker_stopping() and ends */
    assert_true(p.returned);
    assert_true(p.saw_stop);
    assert_int_equal(atomic_load(&p.rounds), 1);
}

static void wait_zero_does_not_sleep(void **state)
{
    struct probe p = {.wait_ms = -1};
    struct worker *w;
    int64_t t0;

    (void)state;
    w = worker_start(loop, &p);
    assert_non_null(w);
    t0 = clock_mono_us();
    assert_true(worker_wait(w, 0)); /* from another thread: answers at once */
    assert_true(worker_wait(w, 1)); /* a short limit passes */
    assert_true(clock_mono_us() - t0 < 5 * 1000000);
    worker_stop(w);
    assert_int_equal(atomic_load(&p.rounds), 0);
}

static void null_is_safe(void **state)
{
    (void)state;
    worker_kick(NULL);
    worker_stop(NULL);
    assert_true(worker_stopping(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(timeout_runs_rounds),      cmocka_unit_test(kick_wakes_a_long_sleep),
        cmocka_unit_test(kick_while_busy_is_kept),  cmocka_unit_test(stop_ends_a_busy_round),
        cmocka_unit_test(wait_zero_does_not_sleep), cmocka_unit_test(null_is_safe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
