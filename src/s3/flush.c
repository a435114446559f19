/* flush.c - uploads' body files made durable off the connection threads.
 *
 * A PUT's body file must be on disk, its data and then its name, before the
 * version record that points at it is committed. fdatasync and the folder's
 * fsync each wait for the disk; run on libmicrohttpd's connection threads (one
 * per core) they let only that many uploads wait at once, however many
 * connections there are, and the store's group commit found little to gather.
 * Here a pool of flush threads does that work: the handler hands its request
 * over and returns unanswered (the connection is suspended, as for a store
 * commit), up to S3_FLUSH_THREADS uploads wait for the disk together (the file
 * system serves their flushes with shared journal commits), and each goes on
 * to its store intent from the flush thread, where the group commit gathers
 * them. */
#include <pthread.h>
#include <stdlib.h>

#include "codec.h"
#include "log.h"
#include "mem.h"
#include "s3_int.h"

enum { S3_FLUSH_THREADS = 16 };

struct flush_job {
    struct http_req *r;
    s3_work_fn *work; /* s3_defer's, else the body's flush and @then */
    void *arg;
    const char *event;
    s3_kept_fn *then;
    char hex[33];
    struct flush_job *next;
};

struct s3_flusher {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct flush_job *head, **tail;
    bool stop;
    unsigned nthreads;
    pthread_t threads[S3_FLUSH_THREADS];
};

/* The body file's flush and move, then the handler's continuation. Each step
 * either goes on or answers @j->r; @j lives in the request's arena, so nothing
 * touches it after the answer. */
static void run_job(struct flush_job *j)
{
    struct http_req *r = j->r;
    struct s3_req *q = s3_req_of(r);
    struct err e = {0};
    char *rel, *abs;

    if (j->work) {
        j->work(r, j->arg);
        return;
    }
    rel = s3_new_body_path(q->s3, r->arena, &abs);
    if (s3_commit_file(q->s3, r->arena, q->fd, q->tmp_path, rel, &e) != ERR_OK) {
        q->fd = -1;
        log_err("event=%s msg=\"%s\"", j->event, e.msg);
        s3_error(r, S3E_INTERNAL, NULL);
        return;
    }
    q->fd = -1;
    j->then(r, j->hex, rel, abs);
}

static void *flush_main(void *arg)
{
    struct s3_flusher *f = arg;

    pthread_mutex_lock(&f->mu);
    for (;;) {
        struct flush_job *j = f->head;
        if (!j) {
            if (f->stop)
                break;
            pthread_cond_wait(&f->cv, &f->mu);
            continue;
        }
        f->head = j->next;
        if (!f->head)
            f->tail = &f->head;
        pthread_mutex_unlock(&f->mu);
        run_job(j);
        pthread_mutex_lock(&f->mu);
    }
    pthread_mutex_unlock(&f->mu);
    return NULL;
}

void s3_flush_start(struct s3 *s3)
{
    struct s3_flusher *f = xcalloc(1, sizeof(*f));
    int want = s3->flush_threads == S3_FLUSH_NONE                              ? 0
               : s3->flush_threads > 0 && s3->flush_threads < S3_FLUSH_THREADS ? s3->flush_threads
                                                                               : S3_FLUSH_THREADS;

    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    f->tail = &f->head;
    while ((int)f->nthreads < want &&
           pthread_create(&f->threads[f->nthreads], NULL, flush_main, f) == 0)
        f->nthreads++;
    if ((int)f->nthreads < want)
        log_warn("event=s3_flush_threads started=%u wanted=%d", f->nthreads, want);
    s3->flusher = f;
}

unsigned s3_flush_threads(const struct s3 *s3)
{
    return s3->flusher ? s3->flusher->nthreads : 0;
}

void s3_fail_flush(struct s3 *s3, enum s3_flush_step step, int n)
{
    atomic_store(&s3->fail_left, 0);
    atomic_store(&s3->fail_step, n > 0 ? (int)step : 0);
    atomic_store(&s3->fail_left, n > 0 ? n : 0);
}

void s3_flush_stop(struct s3 *s3)
{
    struct s3_flusher *f = s3->flusher;

    if (!f)
        return;
    pthread_mutex_lock(&f->mu);
    f->stop = true; /* the threads finish the queue first */
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    for (unsigned i = 0; i < f->nthreads; i++)
        pthread_join(f->threads[i], NULL);
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
    free(f);
    s3->flusher = NULL;
}

/* queue @j for the flush threads, or run it here when none runs */
static void enqueue(struct s3_flusher *f, struct flush_job *j)
{
    if (!f || !f->nthreads) {
        run_job(j); /* no pool: this thread does the work */
        return;
    }
    pthread_mutex_lock(&f->mu);
    *f->tail = j;
    f->tail = &j->next;
    pthread_cond_signal(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

void s3_defer(struct http_req *r, s3_work_fn *work, void *arg)
{
    struct flush_job *j = arena_calloc(r->arena, sizeof(*j));

    j->r = r;
    j->work = work;
    j->arg = arg;
    enqueue(s3_req_of(r)->s3->flusher, j);
}

void s3_body_keep(struct http_req *r, const char *event, s3_kept_fn *then)
{
    struct s3_req *q = s3_req_of(r);
    struct s3_flusher *f = q->s3->flusher;
    struct flush_job *j;
    unsigned char md[16];
    unsigned int n = 0;

    if (!s3_body_finish(r))
        return;
    j = arena_calloc(r->arena, sizeof(*j));
    j->r = r;
    j->event = event;
    j->then = then;
    EVP_DigestFinal_ex(q->md5, md, &n);
    hex_encode(md, 16, j->hex);
    enqueue(f, j);
}
