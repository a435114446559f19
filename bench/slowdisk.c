/* slowdisk.c - a directory whose flushes take a known time: a FUSE passthrough filesystem.
 *
 * Mounts SOURCE at MOUNTPOINT; every operation is passed through to SOURCE as is,
 * except fsync/fdatasync (and fsync of a directory), which first sleep --flush-ms
 * milliseconds and then do the real flush: a disk with a fixed flush time, like a
 * networked volume. The daemon is multi-threaded, so flushes of different files
 * overlap as on a real device. (The kernel holds a file's inode lock while it
 * flushes it through FUSE, so writes to the file being flushed wait for the flush.)
 * With --writeback the kernel keeps written pages in its page cache until they are
 * written back or flushed, as on a local disk; without it every write is a round trip
 * to this daemon, as on a write-through network file system. With --delay-only a
 * flush is the sleep alone, without the real flush of the disk underneath, whose own
 * time (shared with whatever else the machine writes) is then no part of the measure;
 * for benchmarks only, as nothing written is then durable.
 *
 *   bench_slowdisk --source DIR --flush-ms MS [--writeback] [--delay-only] MOUNTPOINT
 *                  [-f] [fuse options]
 *
 * Built by bench/slowdisk_run.sh with a direct cc call (pkg-config fuse3), not by
 * CMake, so the product's build does not depend on libfuse3. */
#define FUSE_USE_VERSION 31
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static char sd_source[PATH_MAX];
static long sd_flush_ns;
static int sd_writeback, sd_delay_only;

/* The real path of PATH (which starts with '/') under the source directory. */
static int sd_path(char *out, const char *path)
{
    int n = snprintf(out, PATH_MAX, "%s%s", sd_source, path);

    return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

#define SD_REAL(p)                                                                                 \
    char real[PATH_MAX];                                                                           \
    if (sd_path(real, (p)) != 0)                                                                   \
    return -ENAMETOOLONG

static void sd_delay(void)
{
    struct timespec ts = {sd_flush_ns / 1000000000L, sd_flush_ns % 1000000000L};

    while (ts.tv_sec || ts.tv_nsec) {
        if (nanosleep(&ts, &ts) == 0)
            break;
    }
}

static void *sd_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
    if (sd_writeback && (conn->capable & FUSE_CAP_WRITEBACK_CACHE))
        conn->want |= FUSE_CAP_WRITEBACK_CACHE;
    cfg->use_ino = 1;
    cfg->kernel_cache = 0; /* the page cache is the kernel's; reads see every write */
    return NULL;
}

static int sd_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
    if (fi)
        return fstat((int)fi->fh, st) == 0 ? 0 : -errno;
    SD_REAL(path);
    return lstat(real, st) == 0 ? 0 : -errno;
}

static int sd_access(const char *path, int mask)
{
    SD_REAL(path);
    return access(real, mask) == 0 ? 0 : -errno;
}

static int sd_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
                      struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
    DIR *d;
    struct dirent *e;

    (void)off, (void)fi, (void)flags;
    SD_REAL(path);
    if (!(d = opendir(real)))
        return -errno;
    while ((e = readdir(d))) {
        struct stat st = {.st_ino = e->d_ino, .st_mode = (mode_t)(e->d_type << 12)};

        if (fill(buf, e->d_name, &st, 0, 0))
            break;
    }
    closedir(d);
    return 0;
}

static int sd_mkdir(const char *path, mode_t mode)
{
    SD_REAL(path);
    return mkdir(real, mode) == 0 ? 0 : -errno;
}

static int sd_rmdir(const char *path)
{
    SD_REAL(path);
    return rmdir(real) == 0 ? 0 : -errno;
}

static int sd_unlink(const char *path)
{
    SD_REAL(path);
    return unlink(real) == 0 ? 0 : -errno;
}

static int sd_rename(const char *from, const char *to, unsigned int flags)
{
    char rto[PATH_MAX];

    SD_REAL(from);
    if (sd_path(rto, to) != 0)
        return -ENAMETOOLONG;
    return renameat2(AT_FDCWD, real, AT_FDCWD, rto, flags) == 0 ? 0 : -errno;
}

static int sd_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
    if (fi)
        return fchmod((int)fi->fh, mode) == 0 ? 0 : -errno;
    SD_REAL(path);
    return chmod(real, mode) == 0 ? 0 : -errno;
}

static int sd_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
    if (fi)
        return ftruncate((int)fi->fh, size) == 0 ? 0 : -errno;
    SD_REAL(path);
    return truncate(real, size) == 0 ? 0 : -errno;
}

static int sd_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
    if (fi)
        return futimens((int)fi->fh, tv) == 0 ? 0 : -errno;
    SD_REAL(path);
    return utimensat(AT_FDCWD, real, tv, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : -errno;
}

/* The flags to open a file with: with the writeback cache the kernel reads the
 * rest of a page it writes part of (so write-only means read-write here) and
 * appends itself (so no O_APPEND). */
static int sd_flags(int flags)
{
    flags &= ~O_DIRECT;
    if (sd_writeback) {
        if ((flags & O_ACCMODE) == O_WRONLY)
            flags = (flags & ~O_ACCMODE) | O_RDWR;
        flags &= ~O_APPEND;
    }
    return flags;
}

static int sd_open(const char *path, struct fuse_file_info *fi)
{
    int fd;

    SD_REAL(path);
    if ((fd = open(real, sd_flags(fi->flags))) < 0)
        return -errno;
    fi->fh = (uint64_t)fd;
    return 0;
}

static int sd_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
    int fd;

    SD_REAL(path);
    if ((fd = open(real, sd_flags(fi->flags) | O_CREAT, mode)) < 0)
        return -errno;
    fi->fh = (uint64_t)fd;
    return 0;
}

static int sd_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
    ssize_t n = pread((int)fi->fh, buf, size, off);

    (void)path;
    return n < 0 ? -errno : (int)n;
}

static int sd_write(const char *path, const char *buf, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
    ssize_t n = pwrite((int)fi->fh, buf, size, off);

    (void)path;
    return n < 0 ? -errno : (int)n;
}

static int sd_statfs(const char *path, struct statvfs *st)
{
    SD_REAL(path);
    return statvfs(real, st) == 0 ? 0 : -errno;
}

static int sd_release(const char *path, struct fuse_file_info *fi)
{
    (void)path;
    close((int)fi->fh);
    return 0;
}

/* The one thing this filesystem adds: every flush takes --flush-ms longer. */
static int sd_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
    (void)path;
    sd_delay();
    if (sd_delay_only)
        return 0;
    return (datasync ? fdatasync((int)fi->fh) : fsync((int)fi->fh)) == 0 ? 0 : -errno;
}

static int sd_opendir(const char *path, struct fuse_file_info *fi)
{
    int fd;

    SD_REAL(path);
    if ((fd = open(real, O_RDONLY | O_DIRECTORY)) < 0)
        return -errno;
    fi->fh = (uint64_t)fd;
    return 0;
}

static int sd_releasedir(const char *path, struct fuse_file_info *fi)
{
    (void)path;
    close((int)fi->fh);
    return 0;
}

static int sd_fsyncdir(const char *path, int datasync, struct fuse_file_info *fi)
{
    (void)path, (void)datasync;
    sd_delay();
    return sd_delay_only || fsync((int)fi->fh) == 0 ? 0 : -errno;
}

static int sd_fallocate(const char *path, int mode, off_t off, off_t len, struct fuse_file_info *fi)
{
    (void)path;
    return fallocate((int)fi->fh, mode, off, len) == 0 ? 0 : -errno;
}

static int sd_flock(const char *path, struct fuse_file_info *fi, int op)
{
    (void)path;
    return flock((int)fi->fh, op) == 0 ? 0 : -errno;
}

static const struct fuse_operations sd_ops = {
    .init = sd_init,
    .getattr = sd_getattr,
    .access = sd_access,
    .readdir = sd_readdir,
    .mkdir = sd_mkdir,
    .rmdir = sd_rmdir,
    .unlink = sd_unlink,
    .rename = sd_rename,
    .chmod = sd_chmod,
    .truncate = sd_truncate,
    .utimens = sd_utimens,
    .open = sd_open,
    .create = sd_create,
    .read = sd_read,
    .write = sd_write,
    .statfs = sd_statfs,
    .release = sd_release,
    .fsync = sd_fsync,
    .opendir = sd_opendir,
    .releasedir = sd_releasedir,
    .fsyncdir = sd_fsyncdir,
    .fallocate = sd_fallocate,
    .flock = sd_flock,
};

int main(int argc, char **argv)
{
    char *fargv[64];
    int fargc = 0;
    double ms = -1;

    fargv[fargc++] = argv[0];
    for (int i = 1; i < argc && fargc < 62; i++) {
        if (!strcmp(argv[i], "--source") && i + 1 < argc) {
            if (!realpath(argv[++i], sd_source)) {
                perror(argv[i]);
                return 1;
            }
        } else if (!strcmp(argv[i], "--flush-ms") && i + 1 < argc) {
            ms = strtod(argv[++i], NULL);
        } else if (!strcmp(argv[i], "--writeback")) {
            sd_writeback = 1;
        } else if (!strcmp(argv[i], "--delay-only")) {
            sd_delay_only = 1;
        } else {
            fargv[fargc++] = argv[i];
        }
    }
    if (!sd_source[0] || ms < 0 || ms > 10000) {
        fprintf(stderr, "usage: bench_slowdisk --source DIR --flush-ms MS [--writeback] "
                        "[--delay-only] MOUNTPOINT [-f] [fuse options]\n");
        return 2;
    }
    sd_flush_ns = (long)(ms * 1e6);
    fargv[fargc] = NULL;
    return fuse_main(fargc, fargv, &sd_ops, NULL);
}
