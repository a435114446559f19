/* worker.c - see worker.h. */
#include "worker.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "mem.h"

struct worker {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* on CLOCK_MONOTONIC */
    bool stop, kicked;
    worker_fn *fn;
    void *arg;
};

static void *main_of(void *p)
{
    struct worker *w = p;

    w->fn(w, w->arg);
    return NULL;
}

struct worker *worker_start(worker_fn *fn, void *arg)
{
    struct worker *w = xcalloc(1, sizeof(*w));
    pthread_condattr_t ca;

    w->fn = fn;
    w->arg = arg;
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&w->thread, NULL, main_of, w) != 0) {
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        free(w);
        return NULL;
    }
    return w;
}

bool worker_wait(struct worker *w, int64_t ms)
{
    struct timespec until;
    bool go;

    if (ms > 0) {
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += ms / 1000;
        until.tv_nsec += (ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
    }
    pthread_mutex_lock(&w->mu);
    while (ms != 0 && !w->stop && !w->kicked)
        if (ms < 0)
            pthread_cond_wait(&w->cv, &w->mu);
        else if (pthread_cond_timedwait(&w->cv, &w->mu, &until) != 0)
            break; /* the time is up */
    w->kicked = false;
    go = !w->stop;
    pthread_mutex_unlock(&w->mu);
    return go;
}

void worker_kick(struct worker *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->kicked = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

bool worker_stopping(struct worker *w)
{
    bool s;

    if (!w)
        return true;
    pthread_mutex_lock(&w->mu);
    s = w->stop;
    pthread_mutex_unlock(&w->mu);
    return s;
}

void worker_stop(struct worker *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
