/* slowsync.c - a process whose flushes take a known time: an LD_PRELOAD library.
 *
 * Loaded with LD_PRELOAD=.../libbench_slowsync.so and SLOWSYNC_MS=MS, every flush
 * the process asks for (fsync, fdatasync, syncfs, msync with MS_SYNC and
 * sync_file_range with SYNC_FILE_RANGE_WAIT_AFTER) first sleeps MS milliseconds
 * (fractions allowed), then does the real flush: a disk with a fixed flush time.
 * Unlike bench/slowdisk (a FUSE filesystem) it adds no process and no CPU to the
 * machine: reads and writes go to the real disk as they are, and the thread that
 * flushes sleeps, as it would waiting on a slow device. Flushes of different threads
 * overlap, as on a device that runs several at once; with SLOWSYNC_SERIAL=1 they
 * take turns, one at a time, as on a disk whose cache flushes queue behind each
 * other (the stricter model). With SLOWSYNC_DELAY_ONLY=1 a flush is the sleep
 * alone, without the real disk's flush underneath (whose own time, shared with
 * whatever else the machine writes, is then no part of the measure); for
 * benchmarks only, as nothing written is then durable.
 *
 * Built by CMake as a module (bench/CMakeLists.txt) and loaded by
 * bench/slowdisk_run.sh --rig preload; the product never links it. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static long ss_delay_ns;
static int ss_delay_only, ss_serial;
static pthread_mutex_t ss_turn = PTHREAD_MUTEX_INITIALIZER;
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_syncfs)(int);
static int (*real_msync)(void *, size_t, int);
static int (*real_sync_file_range)(int, off64_t, off64_t, unsigned int);

__attribute__((constructor)) static void ss_init(void)
{
    const char *ms = getenv("SLOWSYNC_MS");
    const char *only = getenv("SLOWSYNC_DELAY_ONLY");

    if (ms)
        ss_delay_ns = (long)(strtod(ms, NULL) * 1e6);
    if (ss_delay_ns < 0)
        ss_delay_ns = 0;
    ss_delay_only = only && only[0] == '1';
    ss_serial = getenv("SLOWSYNC_SERIAL") && getenv("SLOWSYNC_SERIAL")[0] == '1';
    real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    real_fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    real_syncfs = (int (*)(int))dlsym(RTLD_NEXT, "syncfs");
    real_msync = (int (*)(void *, size_t, int))dlsym(RTLD_NEXT, "msync");
    real_sync_file_range =
        (int (*)(int, off64_t, off64_t, unsigned int))dlsym(RTLD_NEXT, "sync_file_range");
}

/* flush_begin - the device's flush begins: with SLOWSYNC_SERIAL, once no other
 * flush runs; the calling thread sleeps the flush time whole (signals included).
 * flush_end after the real flush (or none, delay-only). */
static void flush_begin(void)
{
    struct timespec left = {ss_delay_ns / 1000000000L, ss_delay_ns % 1000000000L};

    if (ss_serial)
        pthread_mutex_lock(&ss_turn);
    while (nanosleep(&left, &left) == -1 && errno == EINTR) {
    }
}

static int flush_end(int rc)
{
    int saved = errno;

    if (ss_serial)
        pthread_mutex_unlock(&ss_turn);
    errno = saved;
    return rc;
}

int fsync(int fd)
{
    flush_begin();
    return flush_end(ss_delay_only ? 0 : real_fsync(fd));
}

int fdatasync(int fd)
{
    flush_begin();
    return flush_end(ss_delay_only ? 0 : real_fdatasync(fd));
}

int syncfs(int fd)
{
    flush_begin();
    return flush_end(ss_delay_only ? 0 : real_syncfs(fd));
}

int msync(void *addr, size_t len, int flags)
{
    if (!(flags & MS_SYNC))
        return real_msync(addr, len, flags);
    flush_begin();
    return flush_end(ss_delay_only ? 0 : real_msync(addr, len, flags));
}

int sync_file_range(int fd, off64_t off, off64_t n, unsigned int flags)
{
    if (!(flags & SYNC_FILE_RANGE_WAIT_AFTER))
        return real_sync_file_range(fd, off, n, flags);
    flush_begin();
    return flush_end(ss_delay_only ? 0 : real_sync_file_range(fd, off, n, flags));
}
