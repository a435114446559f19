/* fsync_rate.c - how many durable commits per second the disk under a directory allows.
 *
 * Writes 4 KiB at a rotating offset of a preallocated file and fdatasync()s it,
 * in a loop, for a fixed time: the cost of one group commit's flush. A durable
 * PutItem rate is judged against fsyncs/s x the requests that can share one
 * commit (at most the number of client connections).
 *
 *   bench_fsync_rate --dir DIR [--seconds S]
 *
 * Prints one JSON object: {"fsyncs_per_s":..., "p50_us":..., "p99_us":..., ...}.
 * The scratch file is removed afterwards. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum {
    FSYNC_BLOCK = 4096,
    FSYNC_SLOTS = 256, /* a 1 MiB file, rewritten in place */
    FSYNC_MAX_SAMPLES = 1 << 20,
};

static uint64_t fsync_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int fsync_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    const char *dir = NULL;
    double seconds = 3.0;
    char path[4096];
    unsigned char block[FSYNC_BLOCK];
    uint64_t *lat = NULL;
    size_t n = 0;
    uint64_t start, end, deadline;
    int fd = -1, rc = 1;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
            dir = argv[++i];
        else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = strtod(argv[++i], NULL);
        else
            dir = NULL, i = argc;
    }
    if (dir == NULL || !(seconds > 0 && seconds <= 60)) {
        fprintf(stderr, "usage: bench_fsync_rate --dir DIR [--seconds S (0-60]]\n");
        return 2;
    }
    snprintf(path, sizeof(path), "%s/fsync_rate.%ld.tmp", dir, (long)getpid());
    lat = malloc(FSYNC_MAX_SAMPLES * sizeof(*lat));
    if (lat == NULL)
        goto out;
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        fprintf(stderr, "bench_fsync_rate: %s: %s\n", path, strerror(errno));
        goto out;
    }
    memset(block, 'x', sizeof(block));
    /* Allocate every block first, so the loop measures rewrites (as a
     * database's pages are), not file growth. */
    for (int i = 0; i < FSYNC_SLOTS; i++) {
        if (pwrite(fd, block, sizeof(block), (off_t)i * FSYNC_BLOCK) != FSYNC_BLOCK)
            goto io_fail;
    }
    if (fsync(fd) != 0)
        goto io_fail;

    start = fsync_now_ns();
    deadline = start + (uint64_t)(seconds * 1e9);
    end = start;
    while (end < deadline && n < FSYNC_MAX_SAMPLES) {
        uint64_t t0 = end;

        block[0] = (unsigned char)n;
        if (pwrite(fd, block, sizeof(block), (off_t)(n % FSYNC_SLOTS) * FSYNC_BLOCK) != FSYNC_BLOCK)
            goto io_fail;
        if (fdatasync(fd) != 0)
            goto io_fail;
        end = fsync_now_ns();
        lat[n++] = end - t0;
    }
    qsort(lat, n, sizeof(*lat), fsync_cmp);
    printf("{\"seconds\":%.3f,\"fsyncs\":%zu,\"fsyncs_per_s\":%.1f,"
           "\"p50_us\":%.1f,\"p99_us\":%.1f,\"max_us\":%.1f}\n",
           (double)(end - start) / 1e9, n, (double)n * 1e9 / (double)(end - start),
           (double)lat[n / 2] / 1e3, (double)lat[n * 99 / 100] / 1e3, (double)lat[n - 1] / 1e3);
    rc = 0;
    goto out;
io_fail:
    fprintf(stderr, "bench_fsync_rate: %s: %s\n", path, strerror(errno));
out:
    if (fd >= 0) {
        close(fd);
        unlink(path);
    }
    free(lat);
    return rc;
}
