/* wal.c - see wal.h. */
#include "wal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "log.h"
#include "mem.h"

enum {
    REC_MAGIC = 0x4c415754, /* "TWAL" */
    REC_HDR = 40,           /* magic, crc, len, 0, gen, id, prev */
    EXTEND = 1 << 20,       /* a lane file grows by this much at a time, zero-filled */
    CKPT_HDR = 40,          /* magic[8], crc, psize, id, gen, ino */
    MAX_PSIZE = 1 << 16,
};

static const char CKPT_MAGIC[8] = {'T', 'D', 'M', 'C', 'K', 'P', 'T', '1'};
static const char CKPT_NAME[] = "wal-checkpoint";

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
    uint32_t v = 0;

    for (int i = 3; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint64_t get64(const unsigned char *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* crc - CRC-32 (zlib) of @a then @b. */
static uint32_t crc(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen)
{
    uLong c = crc32(0L, Z_NULL, 0);

    c = crc32(c, a, (uInt)alen);
    if (blen)
        c = crc32(c, b, (uInt)blen);
    return (uint32_t)c;
}

static char *path_of(const char *dir, const char *name)
{
    size_t dl = strlen(dir), nl = strlen(name);
    char *p = xmalloc(dl + nl + 2);

    memcpy(p, dir, dl);
    p[dl] = '/';
    memcpy(p + dl + 1, name, nl + 1);
    return p;
}

static int write_all(int fd, const void *buf, size_t n, off_t off)
{
    const unsigned char *p = buf;

    while (n) {
        ssize_t w = pwrite(fd, p, n, off);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? errno : EIO;
        p += w;
        n -= (size_t)w;
        off += w;
    }
    return 0;
}

/* write_all2 - @a then @b at @off, in one pwritev when it writes all. */
static int write_all2(int fd, const void *a, size_t na, const void *b, size_t nb, off_t off)
{
    struct iovec iov[2] = {{(void *)a, na}, {(void *)b, nb}};
    ssize_t w;
    int rc;

    do
        w = pwritev(fd, iov, nb ? 2 : 1, off);
    while (w < 0 && errno == EINTR);
    if (w < 0)
        return errno;
    if ((size_t)w == na + nb)
        return 0;
    /* a short write: write both again, plainly, at the same offsets */
    rc = write_all(fd, a, na, off);
    return rc ? rc : write_all(fd, b, nb, off + (off_t)na);
}

static int sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

    if (fd < 0)
        return errno;
    if (fsync(fd) != 0)
        rc = errno;
    close(fd);
    return rc;
}

/* read_file - the whole file at @path (malloc'd in *out); errno or 0. */
static int read_file(const char *path, unsigned char **out, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;
    struct stat st;
    size_t got = 0;

    *out = NULL;
    *len = 0;
    if (fd < 0)
        return errno;
    if (fstat(fd, &st) != 0) {
        rc = errno;
        close(fd);
        return rc;
    }
    *out = xmalloc((size_t)st.st_size + 1);
    while (got < (size_t)st.st_size) {
        ssize_t r = pread(fd, *out + got, (size_t)st.st_size - got, (off_t)got);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break; /* a shorter file than fstat said: read what is there */
        got += (size_t)r;
    }
    close(fd);
    *len = got;
    return 0;
}

/* ---- checkpoint file ---- */

enum err_code wal_ckpt_read(const char *dir, struct wal_ckpt *out, bool *found, struct err *e)
{
    char *path = path_of(dir, CKPT_NAME);
    unsigned char *b;
    size_t len;
    int rc = read_file(path, &b, &len);
    uint32_t psize;

    memset(out, 0, sizeof(*out));
    *found = false;
    if (rc == ENOENT) {
        free(path);
        return ERR_OK;
    }
    if (rc) {
        err_set(e, ERR_IO, "read %s: %s", path, strerror(rc));
        free(path);
        return ERR_IO;
    }
    psize = len >= CKPT_HDR ? get32(b + 12) : 0;
    if (len < CKPT_HDR || memcmp(b, CKPT_MAGIC, 8) != 0 || psize < 512 || psize > MAX_PSIZE ||
        len != CKPT_HDR + 2 * (size_t)psize || get32(b + 8) != crc(b + 12, len - 12, NULL, 0)) {
        err_set(e, ERR_IO, "%s is corrupt", path);
        free(b);
        free(path);
        return ERR_IO;
    }
    out->psize = psize;
    out->id = get64(b + 16);
    out->gen = get64(b + 24);
    out->ino = get64(b + 32);
    out->meta = xmalloc(2 * (size_t)psize);
    memcpy(out->meta, b + CKPT_HDR, 2 * (size_t)psize);
    *found = true;
    free(b);
    free(path);
    return ERR_OK;
}

enum err_code wal_ckpt_write(const char *dir, const struct wal_ckpt *c, struct err *e)
{
    char *path = path_of(dir, CKPT_NAME), *tmp = path_of(dir, "wal-checkpoint.tmp");
    size_t len = CKPT_HDR + 2 * (size_t)c->psize;
    unsigned char *b = xmalloc(len);
    int fd, rc = 0;
    const char *what = "write";

    memcpy(b, CKPT_MAGIC, 8);
    put32(b + 12, c->psize);
    put64(b + 16, c->id);
    put64(b + 24, c->gen);
    put64(b + 32, c->ino);
    memcpy(b + CKPT_HDR, c->meta, 2 * (size_t)c->psize);
    put32(b + 8, crc(b + 12, len - 12, NULL, 0));
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = errno;
    } else {
        rc = write_all(fd, b, len, 0);
        if (!rc && fdatasync(fd) != 0) {
            rc = errno;
            what = "flush";
        }
        close(fd);
    }
    if (!rc && rename(tmp, path) != 0) {
        rc = errno;
        what = "rename";
    }
    if (!rc && (rc = sync_dir(dir)) != 0)
        what = "flush directory of";
    free(b);
    if (rc)
        err_set(e, ERR_IO, "%s %s: %s", what, path, strerror(rc));
    free(tmp);
    free(path);
    return rc ? ERR_IO : ERR_OK;
}

enum err_code wal_ckpt_restore(const char *dir, const struct wal_ckpt *c, struct err *e)
{
    size_t len = 2 * (size_t)c->psize, got = 0;
    char *path = path_of(dir, "data.mdb");
    unsigned char *cur = xmalloc(len);
    enum err_code erc = ERR_OK;
    struct stat st;
    int fd = open(path, O_RDWR | O_CLOEXEC), rc = fd < 0 ? errno : 0;

    while (!rc && got < len) {
        ssize_t r = pread(fd, cur + got, len - got, (off_t)got);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    if (rc || (got == len && memcmp(cur, c->meta, len) == 0))
        goto out; /* a clean stop: they are there */
    if (fstat(fd, &st) != 0) {
        rc = errno;
    } else if ((uint64_t)st.st_ino != c->ino) {
        /* not the file the checkpoint was taken of: its meta pages would
         * ruin it */
        erc = err_set(e, ERR_IO,
                      "%s is not the file wal-checkpoint was taken of (restored from a copy?); "
                      "see docs/operations.md, \"Backup and restore\"",
                      path);
    } else {
        log_info("event=store_restore_checkpoint dir=%s txn=%llu", dir, (unsigned long long)c->id);
        rc = write_all(fd, c->meta, len, 0);
        if (!rc && fdatasync(fd) != 0)
            rc = errno;
    }
out:
    if (fd >= 0)
        close(fd);
    if (rc)
        erc = err_set(e, ERR_IO, "restore checkpoint into %s: %s", path, strerror(rc));
    free(cur);
    free(path);
    return erc;
}

/* ---- replay ---- */

struct rec {
    uint64_t gen, id, prev;
    const unsigned char *ops;
    size_t len;
};

static int rec_cmp(const void *a, const void *b)
{
    const struct rec *x = a, *y = b;

    return x->id < y->id ? -1 : x->id > y->id;
}

/* parse - the valid records at the start of one segment file: same
 * generation as the first, ids growing, each whole and matching its CRC. */
static void parse(const unsigned char *b, size_t len, uint64_t *file_gen, struct rec **recs,
                  size_t *n, size_t *cap, uint64_t min_gen, uint64_t after)
{
    size_t off = 0;
    uint64_t gen = 0, last = 0;

    *file_gen = 0;
    while (len - off >= REC_HDR) {
        const unsigned char *h = b + off;
        uint32_t rlen = get32(h + 8);
        struct rec r;

        if (get32(h) != REC_MAGIC || rlen > len - off - REC_HDR ||
            get32(h + 4) != crc(h + 8, REC_HDR - 8, h + REC_HDR, rlen))
            break;
        r = (struct rec){get64(h + 16), get64(h + 24), get64(h + 32), h + REC_HDR, rlen};
        if (off == 0)
            gen = *file_gen = r.gen;
        else if (r.gen != gen || r.id <= last)
            break;
        last = r.id;
        if (r.gen >= min_gen && r.id > after) {
            if (*n == *cap) {
                *cap = *cap ? 2 * *cap : 64;
                *recs = xrealloc(*recs, *cap * sizeof(**recs));
            }
            (*recs)[(*n)++] = r;
        }
        off += REC_HDR + rlen;
    }
}

enum err_code wal_replay(const char *dir, uint64_t gen, uint64_t from, wal_replay_fn *fn, void *arg,
                         uint64_t *max_gen, unsigned *n, struct err *e)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    unsigned char **files = NULL;
    size_t nfiles = 0, nrecs = 0, cap = 0;
    struct rec *recs = NULL;
    enum err_code rc = ERR_OK;
    uint64_t cur = from;

    *max_gen = 0;
    *n = 0;
    if (!d)
        return err_set(e, ERR_IO, "open %s: %s", dir, strerror(errno));
    while ((de = readdir(d))) {
        unsigned char *b;
        size_t len;
        uint64_t fgen;
        char *path;
        int r;

        if (strncmp(de->d_name, "wal-", 4) != 0 || strncmp(de->d_name, CKPT_NAME, 14) == 0)
            continue;
        path = path_of(dir, de->d_name);
        r = read_file(path, &b, &len);
        if (r) {
            rc = err_set(e, ERR_IO, "read %s: %s", path, strerror(r));
            free(path);
            break;
        }
        free(path);
        files = xrealloc(files, (nfiles + 1) * sizeof(*files));
        files[nfiles++] = b;
        parse(b, len, &fgen, &recs, &nrecs, &cap, gen, from);
        if (fgen > *max_gen)
            *max_gen = fgen;
    }
    closedir(d);
    if (rc == ERR_OK && nrecs) {
        qsort(recs, nrecs, sizeof(*recs), rec_cmp);
        for (size_t i = 0; i < nrecs && recs[i].prev == cur; i++) {
            rc = fn(arg, recs[i].id, recs[i].ops, recs[i].len, e);
            if (rc)
                break;
            cur = recs[i].id;
            (*n)++;
        }
    }
    free(recs);
    for (size_t i = 0; i < nfiles; i++)
        free(files[i]);
    free(files);
    return rc;
}

/* ---- the running log ---- */

struct lane {
    struct wal *w;
    unsigned idx;
    pthread_t th;
    pthread_cond_t cv; /* a record appended, another lane's flush ended, or stop */
    int fd;
    off_t off, size;
    uint64_t written, tried, synced; /* ids: last appended, last flush begun, last flushed */
    uint64_t started;                /* when its flush under way began (a ticket) */
    bool busy;
    bool overlapped;                   /* its flush under way began during another's */
    unsigned pend_weight, last_weight; /* intents waiting; intents of its last flush */
    int64_t last_flush_ns;             /* how long its last flush took */
};

struct wal {
    char *dir;
    unsigned nlanes;
    pthread_mutex_t mu;
    pthread_cond_t idle_cv; /* a flush ended */
    bool stopping, failed, gather;
    uint64_t gen, durable, tickets, flushes, bytes;
    /* How long flushes take (moving averages, 0 = none yet): begun with no
     * other under way, and begun during another's. Much longer during
     * another's means the disk does one flush at a time (see gather). */
    int64_t alone_ns, during_ns;
    unsigned conc; /* intents in flight at a flush's start (a decaying maximum) */
    unsigned next_lane;
    struct pending {
        uint64_t id;
        unsigned lane;
    } * ring; /* appended, not yet durable, in id order */
    size_t ring_cap, ring_head, ring_len;
    atomic_uint *fail_flushes;
    void (*notify)(void *arg);
    void *notify_arg;
    int (*flush)(int fd);
    unsigned char hdr[REC_HDR];
    struct lane lane[WAL_MAX_LANES];
};

static bool take_injected(atomic_uint *n)
{
    unsigned v;

    if (!n)
        return false;
    v = atomic_load_explicit(n, memory_order_relaxed);
    while (v && !atomic_compare_exchange_weak(n, &v, v - 1))
        ;
    return v != 0;
}

/* advance - pop the flushed records off the front of the ring (w->mu held). */
static void advance(struct wal *w)
{
    while (w->ring_len) {
        struct pending *p = &w->ring[w->ring_head];

        if (w->lane[p->lane].synced < p->id)
            break;
        w->durable = p->id;
        w->ring_head = (w->ring_head + 1) % w->ring_cap;
        w->ring_len--;
    }
}

static int64_t now_ns(clockid_t clk)
{
    struct timespec ts;

    clock_gettime(clk, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* serial_disk - the disk makes a flush begun during another's wait for it:
 * such flushes take longer by the rest of the other one (on average 1.15x
 * one alone or more, against ~1x where flushes overlap) (w->mu held). */
static bool serial_disk(const struct wal *w)
{
    return w->alone_ns && w->during_ns && w->during_ns * 20 > w->alone_ns * 23;
}

/* busy_weight - the intents the other lanes' flushes under way carry (w->mu held). */
static unsigned busy_weight(const struct wal *w, const struct lane *l)
{
    unsigned n = 0;

    for (unsigned k = 0; k < w->nlanes; k++)
        if (&w->lane[k] != l && w->lane[k].busy)
            n += w->lane[k].last_weight;
    return n;
}

static void abs_time(int64_t ns, struct timespec *ts)
{
    ts->tv_sec = (time_t)(ns / 1000000000);
    ts->tv_nsec = (long)(ns % 1000000000);
}

/* gather - before a flush (w->mu held): wait, at most half the lane's last
 * flush (1 ms at most), until the lane holds its load, so that one flush
 * carries the writers that come back together instead of the first few.
 * Its load depends on the disk:
 * - where flushes overlap (the default until measured otherwise), its share
 *   of the intents in flight (in flight / lanes, with more than one lane):
 *   the writers move in groups, one per lane, whose flushes run side by
 *   side, and each group is answered as soon as its own flush ends, so the
 *   work of answering one group and taking its next requests happens while
 *   the other groups' flushes are under way;
 * - on a disk that does one flush at a time, a flush begun during another
 *   lane's would only queue behind it, and such groups would take turns,
 *   each answered every other flush: there a lane waits for as many
 *   intents as its last flush carried and, while other lanes' flushes are
 *   under way, for those to end and their writers to come back too (up to
 *   the most seen in flight; at most half a flush after the last ends), so
 *   that the next flush carries them all. */
static void gather(struct wal *w, struct lane *l)
{
    int64_t half = l->last_flush_ns / 2, start = now_ns(CLOCK_REALTIME), until, cap;
    unsigned target = l->last_weight;
    bool serial = serial_disk(w), others = serial && busy_weight(w, l) > 0;
    struct timespec ts;

    if (half > 1000000)
        half = 1000000;
    until = start + half;
    cap = start + 2 * l->last_flush_ns + half; /* a bound, should a flush hang */
    if (!serial && w->nlanes > 1 && w->conc)
        target = (w->conc + w->nlanes - 1) / w->nlanes;
    else if (others && w->conc > target)
        target = w->conc;
    while (!w->stopping && l->pend_weight < target && l->written != l->tried) {
        int64_t now = now_ns(CLOCK_REALTIME);

        if (now >= cap)
            break;
        if (others && busy_weight(w, l)) /* until half a flush after the last ends */
            until = now + half < cap ? now + half : cap;
        else if (now >= until)
            break;
        abs_time(until, &ts);
        pthread_cond_timedwait(&l->cv, &w->mu, &ts);
    }
}

/* note_concurrency - intents in flight as a flush begins: the most seen,
 * forgetting an eighth of the way down each flush that sees fewer. */
static void note_concurrency(struct wal *w, unsigned n)
{
    if (n >= w->conc)
        w->conc = n;
    else
        w->conc -= (w->conc - n + 7) / 8;
}

/* average - a moving average of flush times (1/8 weight to the newest). */
static void average(int64_t *avg, int64_t ns)
{
    *avg = *avg ? *avg + (ns - *avg) / 8 : ns;
}

static void *flusher_main(void *arg)
{
    struct lane *l = arg;
    struct wal *w = l->w;

    pthread_mutex_lock(&w->mu);
    for (;;) {
        uint64_t target;
        int64_t t0;
        unsigned busy;
        int fd, rc;

        while (!w->stopping && l->written == l->tried)
            pthread_cond_wait(&l->cv, &w->mu);
        if (w->gather)
            gather(w, l);
        if (l->written == l->tried) {
            if (w->stopping)
                break; /* nothing left to flush */
            continue;  /* a checkpoint covered them meanwhile */
        }
        target = l->written;
        fd = l->fd;
        l->tried = target;
        l->busy = true;
        l->started = ++w->tickets;
        l->last_weight = l->pend_weight;
        l->pend_weight = 0;
        busy = busy_weight(w, l);
        l->overlapped = busy > 0;
        note_concurrency(w, l->last_weight + busy);
        pthread_mutex_unlock(&w->mu);
        t0 = now_ns(CLOCK_MONOTONIC);
        rc = take_injected(w->fail_flushes) ? EIO : w->flush(fd) != 0 ? errno : 0;
        pthread_mutex_lock(&w->mu);
        l->last_flush_ns = now_ns(CLOCK_MONOTONIC) - t0;
        average(l->overlapped ? &w->during_ns : &w->alone_ns, l->last_flush_ns);
        l->busy = false;
        for (unsigned k = 0; k < w->nlanes; k++) /* a lane gathering may wait for this one */
            if (&w->lane[k] != l)
                pthread_cond_signal(&w->lane[k].cv);
        w->flushes++;
        if (rc) {
            log_err("event=wal_flush_failed lane=%u error=\"%s\"", l->idx, strerror(rc));
            w->failed = true;
        } else if (target > l->synced) {
            l->synced = target;
            advance(w);
        }
        pthread_cond_broadcast(&w->idle_cv);
        pthread_mutex_unlock(&w->mu);
        w->notify(w->notify_arg);
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* open_lane - open lane @idx's file of generation @gen, keeping what it
 * holds (older records end where the new ones do: their generation
 * differs). *created: the file is new (its directory entry needs a flush). */
static int open_lane(const char *dir, unsigned idx, uint64_t gen, int *fd, off_t *size,
                     bool *created)
{
    char name[32];
    char *path;
    struct stat st;

    snprintf(name, sizeof(name), "wal-%u-%u", idx, (unsigned)(gen & 1));
    path = path_of(dir, name);
    *fd = open(path, O_RDWR | O_CLOEXEC);
    if (*fd < 0 && errno == ENOENT) {
        *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        *created = true;
    }
    free(path);
    if (*fd < 0)
        return errno;
    if (fstat(*fd, &st) != 0) {
        int rc = errno;

        close(*fd);
        *fd = -1;
        return rc;
    }
    *size = st.st_size;
    return 0;
}

/* open_lanes - switch every lane to generation @gen's files, or (on a
 * failure) none. */
static enum err_code open_lanes(struct wal *w, uint64_t gen, struct err *e)
{
    int fds[WAL_MAX_LANES];
    off_t sizes[WAL_MAX_LANES];
    bool created = false;
    unsigned n = 0;
    int rc = 0;

    while (n < w->nlanes && !rc) {
        rc = open_lane(w->dir, n, gen, &fds[n], &sizes[n], &created);
        if (!rc)
            n++;
    }
    if (!rc && created)
        rc = sync_dir(w->dir);
    if (rc) {
        for (unsigned i = 0; i < n; i++)
            close(fds[i]);
        return err_set(e, ERR_IO, "open write-ahead log in %s: %s", w->dir, strerror(rc));
    }
    for (unsigned i = 0; i < w->nlanes; i++) {
        if (w->lane[i].fd >= 0)
            close(w->lane[i].fd);
        w->lane[i].fd = fds[i];
        w->lane[i].size = sizes[i];
        w->lane[i].off = 0;
    }
    w->gen = gen;
    w->bytes = 0;
    return ERR_OK;
}

/* remove_segments - delete every segment file in @dir (a checkpoint covers
 * them all), so no record of an earlier run can follow this run's. */
static void remove_segments(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;

    if (!d)
        return;
    while ((de = readdir(d))) {
        char *path;

        if (strncmp(de->d_name, "wal-", 4) != 0 || strncmp(de->d_name, CKPT_NAME, 14) == 0)
            continue;
        path = path_of(dir, de->d_name);
        if (unlink(path) != 0)
            log_err("event=wal_remove_failed path=%s error=\"%s\"", path, strerror(errno));
        free(path);
    }
    closedir(d);
}

enum err_code wal_discard(const char *dir, struct err *e)
{
    char *path = path_of(dir, CKPT_NAME);
    int rc = 0;

    if (unlink(path) != 0 && errno != ENOENT)
        rc = errno;
    if (!rc) {
        remove_segments(dir);
        rc = sync_dir(dir);
    }
    if (rc)
        err_set(e, ERR_IO, "remove %s: %s", path, strerror(rc));
    free(path);
    return rc ? ERR_IO : ERR_OK;
}

enum err_code wal_start(const struct wal_opts *o, struct wal **out, struct err *e)
{
    struct wal *w = xcalloc(1, sizeof(*w));
    enum err_code rc;
    unsigned started = 0;

    *out = NULL;
    remove_segments(o->dir);
    w->dir = xstrdup(o->dir);
    w->nlanes = o->lanes < 1 ? 1 : o->lanes > WAL_MAX_LANES ? WAL_MAX_LANES : o->lanes;
    w->fail_flushes = o->fail_flushes;
    w->notify = o->notify;
    w->notify_arg = o->notify_arg;
    w->gather = o->gather;
    w->flush = o->flush ? o->flush : fdatasync;
    w->ring_cap = 256;
    w->ring = xmalloc(w->ring_cap * sizeof(*w->ring));
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->idle_cv, NULL);
    for (unsigned i = 0; i < w->nlanes; i++) {
        w->lane[i].w = w;
        w->lane[i].idx = i;
        w->lane[i].fd = -1;
        pthread_cond_init(&w->lane[i].cv, NULL);
    }
    rc = open_lanes(w, o->gen, e);
    for (unsigned i = 0; rc == ERR_OK && i < w->nlanes; i++) {
        if (pthread_create(&w->lane[i].th, NULL, flusher_main, &w->lane[i]) != 0)
            rc = err_set(e, ERR_IO, "start write-ahead log flusher");
        else
            started++;
    }
    if (rc) {
        for (unsigned i = started; i < w->nlanes; i++) {
            if (w->lane[i].fd >= 0)
                close(w->lane[i].fd);
            w->lane[i].fd = -1;
        }
        w->nlanes = started; /* wal_stop joins only the threads that run */
        wal_stop(w);
        return rc;
    }
    *out = w;
    return ERR_OK;
}

void wal_stop(struct wal *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    for (unsigned i = 0; i < w->nlanes; i++)
        pthread_cond_signal(&w->lane[i].cv);
    pthread_mutex_unlock(&w->mu);
    for (unsigned i = 0; i < w->nlanes; i++)
        pthread_join(w->lane[i].th, NULL);
    for (unsigned i = 0; i < WAL_MAX_LANES; i++) {
        if (w->lane[i].w) {
            if (w->lane[i].fd >= 0)
                close(w->lane[i].fd);
            pthread_cond_destroy(&w->lane[i].cv);
        }
    }
    pthread_cond_destroy(&w->idle_cv);
    pthread_mutex_destroy(&w->mu);
    free(w->ring);
    free(w->dir);
    free(w);
}

/* pick_lane - a lane gathering intents for its next flush, else an idle
 * lane (taking turns), else the one whose flush under way began first, so it
 * ends first (w->mu held). */
static struct lane *pick_lane(struct wal *w)
{
    struct lane *best = NULL;

    for (unsigned k = 0; w->gather && k < w->nlanes; k++)
        if (!w->lane[k].busy && w->lane[k].written != w->lane[k].tried)
            return &w->lane[k];
    for (unsigned k = 0; k < w->nlanes; k++) {
        struct lane *l = &w->lane[(w->next_lane + k) % w->nlanes];

        if (!l->busy && l->written == l->tried) {
            w->next_lane = (l->idx + 1) % w->nlanes;
            return l;
        }
        if (!best || (l->busy && (!best->busy || l->started < best->started)))
            best = l;
    }
    return best;
}

enum err_code wal_append(struct wal *w, uint64_t id, uint64_t prev, const void *ops, size_t len,
                         unsigned weight, struct err *e)
{
    unsigned char *h = w->hdr;
    struct lane *l;
    off_t off, end;
    int rc;

    if (len > UINT32_MAX - REC_HDR) {
        pthread_mutex_lock(&w->mu);
        w->failed = true;
        pthread_mutex_unlock(&w->mu);
        return err_set(e, ERR_IO, "write-ahead log: a record of %zu bytes", len);
    }
    put32(h, REC_MAGIC);
    put32(h + 8, (uint32_t)len);
    put32(h + 12, 0);
    put64(h + 16, w->gen);
    put64(h + 24, id);
    put64(h + 32, prev);
    put32(h + 4, crc(h + 8, REC_HDR - 8, ops, len));
    pthread_mutex_lock(&w->mu);
    l = pick_lane(w);
    off = l->off;
    pthread_mutex_unlock(&w->mu);
    /* Only this thread appends or moves l->off; the flusher reads l->fd. */
    rc = write_all2(l->fd, h, REC_HDR, ops, len, off);
    end = off + REC_HDR + (off_t)len;
    if (!rc && end > l->size) {
        /* Grow the file by a zero-filled stretch at once, so later records
         * overwrite in place and their flushes write no metadata. */
        off_t grow = ((end + EXTEND - 1) / EXTEND) * EXTEND;
        unsigned char *zero = xcalloc(1, (size_t)(grow - end));

        rc = write_all(l->fd, zero, (size_t)(grow - end), end);
        free(zero);
        if (!rc)
            l->size = grow;
    }
    pthread_mutex_lock(&w->mu);
    if (rc) {
        w->failed = true;
        pthread_mutex_unlock(&w->mu);
        log_err("event=wal_write_failed error=\"%s\"", strerror(rc));
        return err_set(e, ERR_IO, "write-ahead log: %s", strerror(rc));
    }
    l->off = end;
    l->written = id;
    l->pend_weight += weight;
    w->bytes += (uint64_t)(end - off);
    if (w->ring_len == w->ring_cap) {
        struct pending *r = xmalloc(2 * w->ring_cap * sizeof(*r));

        for (size_t i = 0; i < w->ring_len; i++)
            r[i] = w->ring[(w->ring_head + i) % w->ring_cap];
        free(w->ring);
        w->ring = r;
        w->ring_head = 0;
        w->ring_cap *= 2;
    }
    w->ring[(w->ring_head + w->ring_len++) % w->ring_cap] = (struct pending){id, l->idx};
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&w->mu);
    return ERR_OK;
}

uint64_t wal_durable(struct wal *w, bool *failed)
{
    uint64_t d;

    pthread_mutex_lock(&w->mu);
    d = w->durable;
    *failed = w->failed;
    pthread_mutex_unlock(&w->mu);
    return d;
}

/* settle - forget every pending record: a checkpoint at @id covers them
 * (w->mu held). */
static void settle(struct wal *w, uint64_t id)
{
    w->ring_len = 0;
    w->durable = id;
    w->failed = false;
    for (unsigned i = 0; i < w->nlanes; i++) {
        struct lane *l = &w->lane[i];

        l->written = l->tried = l->synced = l->written > id ? l->written : id;
        l->pend_weight = 0;
    }
}

enum err_code wal_rotate(struct wal *w, uint64_t id, struct err *e)
{
    enum err_code rc;

    pthread_mutex_lock(&w->mu);
    for (unsigned i = 0; i < w->nlanes; i++)
        while (w->lane[i].busy)
            pthread_cond_wait(&w->idle_cv, &w->mu);
    rc = open_lanes(w, w->gen + 1, e);
    if (rc == ERR_OK)
        settle(w, id);
    pthread_mutex_unlock(&w->mu);
    return rc;
}

void wal_reset(struct wal *w, uint64_t id)
{
    pthread_mutex_lock(&w->mu);
    settle(w, id);
    pthread_mutex_unlock(&w->mu);
}

/* locked - *@v read under the log's lock. */
static uint64_t locked(struct wal *w, const uint64_t *v)
{
    uint64_t n;

    pthread_mutex_lock(&w->mu);
    n = *v;
    pthread_mutex_unlock(&w->mu);
    return n;
}

uint64_t wal_gen(struct wal *w)
{
    return locked(w, &w->gen);
}

uint64_t wal_flushes(struct wal *w)
{
    return locked(w, &w->flushes);
}

uint64_t wal_bytes(struct wal *w)
{
    return locked(w, &w->bytes);
}
