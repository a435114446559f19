/* worker.h - one background thread that sleeps between rounds of work: a
 * periodic sweeper, or a queue runner woken when work is queued.
 *
 * The worker owns the thread, a mutex, a condition variable, a stop flag and
 * a "kicked" flag. Its thread runs the caller's function, which loops on
 * worker_wait() and returns once that answers false:
 *
 *     static void sweeper(struct worker *w, void *arg)
 *     {
 *         while (worker_wait(w, interval_ms))
 *             sweep(arg);
 *     }
 *
 * A kick is remembered until the next worker_wait() consumes it, so work
 * queued (under the caller's own lock) before worker_kick() is never missed,
 * whether the thread was asleep or busy. Timeouts run on CLOCK_MONOTONIC: a
 * change of the wall clock neither shortens nor stretches a sleep. */
#ifndef TANDEM_WORKER_H
#define TANDEM_WORKER_H

#include <stdbool.h>
#include <stdint.h>

struct worker;

/* worker_fn - the thread's body. @w is the worker running it (usable before
 * worker_start() has returned to its caller); @arg is worker_start()'s. */
typedef void worker_fn(struct worker *w, void *arg);

/*
 * worker_start - start a thread that runs @fn(w, @arg).
 *
 * Returns the worker, owned: end it with worker_stop(). NULL when no thread
 * can be started (nothing is left to free; @fn never runs).
 */
struct worker *worker_start(worker_fn *fn, void *arg);

/*
 * worker_wait - sleep until worker_kick(), worker_stop(), or @ms milliseconds
 * have passed, whichever comes first. @ms < 0: no time limit; @ms == 0: do not
 * sleep. A kick made since the last worker_wait() ends it at once; either
 * way the kick is consumed. Spurious wake-ups do not shorten the sleep.
 *
 * Meant for the worker's own thread (any thread may call it, but the kick it
 * consumes is then lost to the worker). Returns false once a stop has been
 * asked: the caller's loop then returns.
 */
bool worker_wait(struct worker *w, int64_t ms);

/* worker_kick - wake the worker's current or next worker_wait(). Any thread;
 * NULL ok (no-op). */
void worker_kick(struct worker *w);

/* worker_stopping - whether worker_stop() has been asked; for long rounds of
 * work that check between steps. Any thread; NULL: true. */
bool worker_stopping(struct worker *w);

/*
 * worker_stop - ask the worker to stop, wake it, wait for its function to
 * return, and free it. A round of work in progress finishes first. Not from
 * the worker's own thread. NULL ok.
 */
void worker_stop(struct worker *w);

#endif
