/* pkg.c - function packages: check a zip, unpack it under
 * DATA/functions/NAME/HEXSHA/ (keeping HEXSHA.zip for GetFunction's
 * Code.Location), refusing entries that would escape the folder. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include "codec.h"
#include "fn_int.h"
#include "mem.h"

#define MAX_UNZIPPED (250u * 1024 * 1024) /* Lambda's unzipped deployment limit */

/* one unpacking at a time: two requests with the same package share its
 * folder (and its .tmp) */
static pthread_mutex_t install_mu = PTHREAD_MUTEX_INITIALIZER;

/* A directory made here is 0755 whatever the region's umask (a region started with umask
 * 077 would otherwise unpack packages its function users cannot read). */
static enum err_code mkdir_0755(const char *p, struct err *e)
{
    if (mkdir(p, 0755) == 0)
        return chmod(p, 0755) ? err_set(e, ERR_IO, "chmod %s: %s", p, strerror(errno)) : ERR_OK;
    return errno == EEXIST ? ERR_OK : err_set(e, ERR_IO, "mkdir %s: %s", p, strerror(errno));
}

static enum err_code mkdirs(const char *path, struct err *e)
{
    char *p = xstrdup(path), *s;
    enum err_code rc = ERR_OK;

    for (s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if ((rc = mkdir_0755(p, e)))
            goto out;
        *s = '/';
    }
    rc = mkdir_0755(p, e);
out:
    free(p);
    return rc;
}

static bool safe_name(const char *n)
{
    const char *s = n;

    if (!*n || n[0] == '/')
        return false;
    while (*s) {
        const char *end = strchr(s, '/');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        if (len == 2 && s[0] == '.' && s[1] == '.')
            return false;
        if (!end)
            break;
        s = end + 1;
    }
    return true;
}

static enum err_code write_all(const char *path, const void *p, size_t n, mode_t mode,
                               struct err *e)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    const char *c = p;

    if (fd < 0)
        return err_set(e, ERR_IO, "open %s: %s", path, strerror(errno));
    if (fchmod(fd, mode)) { /* @mode itself, not as the umask leaves it */
        close(fd);
        return err_set(e, ERR_IO, "chmod %s: %s", path, strerror(errno));
    }
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            return err_set(e, ERR_IO, "write %s: %s", path, strerror(errno));
        }
        c += w;
        n -= (size_t)w;
    }
    close(fd);
    return ERR_OK;
}

static enum err_code extract(zip_t *z, const char *dir, struct err *e)
{
    zip_int64_t i, n = zip_get_num_entries(z, 0);
    uint64_t total = 0;
    char *buf = NULL, *path = NULL;
    enum err_code rc = ERR_OK;

    for (i = 0; i < n; i++) {
        zip_stat_t st;
        zip_uint8_t os;
        zip_uint32_t attr = 0;
        mode_t mode = 0644;
        zip_file_t *zf;
        size_t len;

        if (zip_stat_index(z, (zip_uint64_t)i, 0, &st) || !(st.valid & ZIP_STAT_NAME))
            return err_set(e, ERR_INVALID,
                           "Could not unzip uploaded file. Please check your "
                           "file, then try to upload again.");
        if (!safe_name(st.name))
            return err_set(e, ERR_INVALID, "Could not unzip uploaded file: unsafe entry name.");
        free(path);
        path = NULL;
        len = strlen(dir) + strlen(st.name) + 2;
        path = xmalloc(len);
        snprintf(path, len, "%s/%s", dir, st.name);
        if (st.name[strlen(st.name) - 1] == '/') {
            rc = mkdirs(path, e);
            if (rc)
                goto out;
            continue;
        }
        total += st.size;
        if (total > MAX_UNZIPPED) {
            rc = err_set(e, ERR_INVALID, "Unzipped size must be smaller than %u bytes",
                         MAX_UNZIPPED);
            goto out;
        }
        {
            char *slash = strrchr(path, '/');
            *slash = '\0';
            rc = mkdirs(path, e);
            *slash = '/';
            if (rc)
                goto out;
        }
        if (zip_file_get_external_attributes(z, (zip_uint64_t)i, 0, &os, &attr) == 0 &&
            os == ZIP_OPSYS_UNIX && (attr >> 16) & 0111)
            mode = 0755;
        zf = zip_fopen_index(z, (zip_uint64_t)i, 0);
        if (!zf) {
            rc = err_set(e, ERR_INVALID,
                         "Could not unzip uploaded file. Please check your "
                         "file, then try to upload again.");
            goto out;
        }
        free(buf);
        buf = xmalloc(st.size ? st.size : 1);
        if (zip_fread(zf, buf, st.size) != (zip_int64_t)st.size) {
            zip_fclose(zf);
            rc = err_set(e, ERR_INVALID,
                         "Could not unzip uploaded file. Please check your "
                         "file, then try to upload again.");
            goto out;
        }
        zip_fclose(zf);
        rc = write_all(path, buf, st.size, mode, e);
        if (rc)
            goto out;
    }
out:
    free(buf);
    free(path);
    return rc;
}

enum err_code fn_pkg_install(struct fn *f, const char *name, const void *zipb, size_t len,
                             char *sha256_b64, char **dir, struct err *e)
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    char hex[2 * SHA256_DIGEST_LENGTH + 1];
    char *fdir = NULL, *zpath = NULL, *out = NULL, *tmp = NULL;
    zip_source_t *src = NULL;
    zip_t *z = NULL;
    zip_error_t ze;
    struct stat st;
    bool locked = false;
    enum err_code rc;

    *dir = NULL;
    SHA256(zipb, len, md);
    hex_encode(md, sizeof(md), hex);
    base64_encode(md, sizeof(md), sha256_b64);
    zip_error_init(&ze);
    src = zip_source_buffer_create(zipb, len, 0, &ze);
    if (src)
        z = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &ze);
    if (!z) {
        zip_source_free(src);
        zip_error_fini(&ze);
        return err_set(e, ERR_INVALID,
                       "Could not unzip uploaded file. Please check your "
                       "file, then try to upload again.");
    }
    zip_error_fini(&ze);
    fdir = xmalloc(strlen(f->fn_dir) + strlen(name) + 2);
    sprintf(fdir, "%s/%s", f->fn_dir, name);
    out = xmalloc(strlen(fdir) + sizeof(hex) + 2);
    sprintf(out, "%s/%s", fdir, hex);
    pthread_mutex_lock(&install_mu);
    locked = true;
    if (stat(out, &st) == 0) { /* the same package again: already unpacked */
        rc = ERR_OK;
        goto done;
    }
    rc = mkdirs(fdir, e);
    if (rc)
        goto done;
    chmod(fdir, 0711); /* traversable only: the function user reaches its package by name */
    tmp = xmalloc(strlen(out) + 8);
    sprintf(tmp, "%s.tmp", out);
    rc = mkdirs(tmp, e);
    if (rc == ERR_OK)
        rc = extract(z, tmp, e);
    if (rc == ERR_OK) {
        zpath = xmalloc(strlen(out) + 8);
        sprintf(zpath, "%s.zip", out);
        rc = write_all(zpath, zipb, len, 0600, e); /* the region's copy only */
    }
    if (rc == ERR_OK && rename(tmp, out))
        rc = err_set(e, ERR_IO, "rename %s: %s", tmp, strerror(errno));
done:
    if (rc == ERR_OK) { /* kept from fn_pkg_gc until its change is written or refused */
        pthread_mutex_lock(&f->mu);
        cJSON_AddItemToArray(f->pending, cJSON_CreateString(out));
        pthread_mutex_unlock(&f->mu);
    }
    if (locked)
        pthread_mutex_unlock(&install_mu);
    zip_close(z); /* read-only: discards, and frees the source */
    if (rc == ERR_OK)
        *dir = out;
    else
        free(out);
    free(fdir);
    free(zpath);
    free(tmp);
    return rc;
}

void fn_pkg_settled(struct fn *f, const char *dir)
{
    cJSON *it;

    pthread_mutex_lock(&f->mu);
    cJSON_ArrayForEach(it, f->pending)
    {
        if (strcmp(it->valuestring, dir) == 0) {
            cJSON_Delete(cJSON_DetachItemViaPointer(f->pending, it));
            break;
        }
    }
    pthread_mutex_unlock(&f->mu);
}

static bool pending(struct fn *f, const char *dir)
{
    const cJSON *it;
    bool found = false;

    pthread_mutex_lock(&f->mu);
    cJSON_ArrayForEach(it, f->pending) found |= strcmp(it->valuestring, dir) == 0;
    pthread_mutex_unlock(&f->mu);
    return found;
}

/* referenced - whether $LATEST or a version of @doc has its package in @dir. */
static bool referenced(const cJSON *doc, const char *dir)
{
    const cJSON *v, *d = cJSON_GetObjectItemCaseSensitive(doc, "_Dir");

    if (cJSON_IsString(d) && strcmp(d->valuestring, dir) == 0)
        return true;
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(doc, "_Versions"))
    {
        d = cJSON_GetObjectItemCaseSensitive(v, "_Dir");
        if (cJSON_IsString(d) && strcmp(d->valuestring, dir) == 0)
            return true;
    }
    return false;
}

/* sweep - remove NAME's packages (DATA/functions/NAME/ but its log): with
 * @all every one once the function is gone (nothing if NAME exists again),
 * else those nothing uses while it exists. */
static void sweep(struct fn *f, const char *name, bool all)
{
    char *fdir = xmalloc(strlen(f->fn_dir) + strlen(name) + 2), path[4096];
    cJSON *doc;
    DIR *d;
    struct dirent *de;

    sprintf(fdir, "%s/%s", f->fn_dir, name);
    pthread_mutex_lock(&install_mu); /* never under an unpacking */
    doc = fn_reg_get(f, name);
    d = !doc == all ? opendir(fdir) : NULL;
    while (d && (de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (de->d_name[0] == '.' || strncmp(de->d_name, "log", 3) == 0)
            continue;
        if (n > 4 && strcmp(de->d_name + n - 4, ".zip") == 0)
            n -= 4; /* HEXSHA.zip goes with HEXSHA/ */
        snprintf(path, sizeof(path), "%s/%.*s", fdir, (int)n, de->d_name);
        if (!all && (referenced(doc, path) || pending(f, path) || fn_rt_dir_in_use(f, path)))
            continue;
        snprintf(path, sizeof(path), "%s/%s", fdir, de->d_name);
        fnrt_rm_tree(path);
    }
    if (d)
        closedir(d);
    pthread_mutex_unlock(&install_mu);
    cJSON_Delete(doc);
    free(fdir);
}

void fn_pkg_gc(struct fn *f, const char *name)
{
    sweep(f, name, false);
}

void fn_pkg_purge(struct fn *f, const char *name)
{
    sweep(f, name, true);
}
