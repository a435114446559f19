/* jobs.h - a few worker threads for calls that may block: a request to a peer
 * region that does not answer, a wait for replication. A request thread
 * hands such a call over (its HTTP request waits, suspended, until the job
 * answers it), so one region that is down or cut off never holds the threads
 * that serve every other request.
 *
 * Threads start when jobs are queued, up to a maximum, and end when the queue
 * is empty; jobs run in the order they were queued. */
#ifndef TANDEM_JOBS_H
#define TANDEM_JOBS_H

#include <stdbool.h>

struct jobs;

typedef void jobs_fn(void *arg);

/* jobs_new - at most @max_threads running and @max_queued waiting (>= 1 each);
 * @name names the threads in logs. Owned, jobs_free(). */
struct jobs *jobs_new(const char *name, unsigned max_threads, unsigned max_queued);

/*
 * jobs_run - queue @fn(@arg) for a worker thread. False, without calling @fn,
 * when @max_queued jobs already wait, when jobs_drain() has begun, or when no
 * thread can be started and none runs; the caller then answers for itself.
 */
bool jobs_run(struct jobs *j, jobs_fn *fn, void *arg);

/* jobs_pending - jobs queued or running (for logs and tests). */
unsigned jobs_pending(struct jobs *j);

/* jobs_drain - refuse new jobs and wait until every queued and running one has
 * finished. NULL ok; idempotent. */
void jobs_drain(struct jobs *j);

/* jobs_drain_ms - jobs_drain() for at most @ms milliseconds; whether every job
 * has finished (new ones stay refused either way). NULL: true. */
bool jobs_drain_ms(struct jobs *j, long ms);

/* jobs_free - drain, then free. NULL ok. */
void jobs_free(struct jobs *j);

#endif
