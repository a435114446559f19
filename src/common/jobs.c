/* jobs.c - see jobs.h. */
#include "jobs.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "mem.h"

struct job {
    struct job *next;
    jobs_fn *fn;
    void *arg;
};

struct jobs {
    char name[16];
    unsigned max_threads, max_queued;
    pthread_mutex_t mu;
    pthread_cond_t idle; /* the last thread ended */
    struct job *head, *tail;
    unsigned queued, running, threads;
    bool draining;
};

struct jobs *jobs_new(const char *name, unsigned max_threads, unsigned max_queued)
{
    struct jobs *j = xcalloc(1, sizeof(*j));

    snprintf(j->name, sizeof(j->name), "%s", name);
    j->max_threads = max_threads ? max_threads : 1;
    j->max_queued = max_queued ? max_queued : 1;
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->idle, NULL);
    return j;
}

/* worker - run queued jobs until there are none (detached). */
static void *worker(void *arg)
{
    struct jobs *j = arg;

    pthread_mutex_lock(&j->mu);
    while (j->head) {
        struct job *jb = j->head;

        j->head = jb->next;
        if (!j->head)
            j->tail = NULL;
        j->queued--;
        j->running++;
        pthread_mutex_unlock(&j->mu);
        jb->fn(jb->arg);
        free(jb);
        pthread_mutex_lock(&j->mu);
        j->running--;
    }
    if (--j->threads == 0)
        pthread_cond_broadcast(&j->idle);
    pthread_mutex_unlock(&j->mu);
    return NULL;
}

bool jobs_run(struct jobs *j, jobs_fn *fn, void *arg)
{
    struct job *jb;

    pthread_mutex_lock(&j->mu);
    if (j->draining || j->queued >= j->max_queued) {
        pthread_mutex_unlock(&j->mu);
        return false;
    }
    /* a thread for it, unless enough run to take it when they are free */
    if (j->threads < j->max_threads && j->threads < j->running + j->queued + 1) {
        pthread_t t;
        pthread_attr_t at;
        int rc;

        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        rc = pthread_create(&t, &at, worker, j);
        pthread_attr_destroy(&at);
        if (rc == 0) {
            j->threads++;
        } else if (j->threads == 0) {
            pthread_mutex_unlock(&j->mu);
            log_warn("event=jobs_thread_failed jobs=%s error=\"%s\"", j->name, strerror(rc));
            return false;
        }
    }
    jb = xmalloc(sizeof(*jb));
    jb->next = NULL;
    jb->fn = fn;
    jb->arg = arg;
    if (j->tail)
        j->tail->next = jb;
    else
        j->head = jb;
    j->tail = jb;
    j->queued++;
    pthread_mutex_unlock(&j->mu);
    return true;
}

unsigned jobs_pending(struct jobs *j)
{
    unsigned n;

    pthread_mutex_lock(&j->mu);
    n = j->queued + j->running;
    pthread_mutex_unlock(&j->mu);
    return n;
}

/* drain - refuse new jobs; wait for the threads to end, until @until when
 * given; whether they have (j->mu held). */
static bool drain(struct jobs *j, const struct timespec *until)
{
    j->draining = true;
    if (j->threads)
        log_info("event=jobs_draining jobs=%s pending=%u", j->name, j->queued + j->running);
    while (j->threads)
        if (until ? pthread_cond_timedwait(&j->idle, &j->mu, until) != 0
                  : pthread_cond_wait(&j->idle, &j->mu) != 0)
            break;
    return j->threads == 0;
}

void jobs_drain(struct jobs *j)
{
    if (!j)
        return;
    pthread_mutex_lock(&j->mu);
    drain(j, NULL);
    pthread_mutex_unlock(&j->mu);
}

bool jobs_drain_ms(struct jobs *j, long ms)
{
    struct timespec until = clock_deadline_ms(ms);
    bool done;

    if (!j)
        return true;
    pthread_mutex_lock(&j->mu);
    done = drain(j, &until);
    pthread_mutex_unlock(&j->mu);
    return done;
}

void jobs_free(struct jobs *j)
{
    if (!j)
        return;
    jobs_drain(j);
    pthread_cond_destroy(&j->idle);
    pthread_mutex_destroy(&j->mu);
    free(j);
}
