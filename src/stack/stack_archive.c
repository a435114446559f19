/* stack_archive.c - archive:getFile (see stack_archive.h), with the provider's
 * argument names and errors. */
#include "stack_archive.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include "buf.h"
#include "codec.h"
#include "mem.h"
#include "stack_expr.h"

/* one file of the archive: its name, bytes and mode */
struct entry {
    char *name;
    char *data;
    size_t len;
    unsigned mode;
};

struct pack {
    const char *dir; /* relative paths start here */
    struct entry *v;
    size_t n;
    const cJSON *excludes;
    bool skip_symlink_dirs;
};

/* add_entry - @name with the bytes @data (owned from here on) */
static void add_entry(struct pack *p, const char *name, char *data, size_t len, unsigned mode)
{
    p->v = xrealloc(p->v, (p->n + 1) * sizeof(*p->v));
    p->v[p->n].name = xstrdup(name);
    p->v[p->n].data = data;
    p->v[p->n].len = len;
    p->v[p->n].mode = mode;
    p->n++;
}

/* read_file - the bytes of @path in *@data (owned) */
static enum err_code read_file(const char *path, char **data, size_t *len, struct err *e)
{
    struct buf b;
    size_t got;

    if (!stack_read_file(path, &b)) {
        return err_set(e, ERR_IO, "error reading file for archival: %s: %s", path, strerror(errno));
    }
    buf_putc(&b, '\0');
    *len = b.len - 1;
    *data = buf_detach(&b, &got);
    return ERR_OK;
}

/* add_file - the file @path as @name */
static enum err_code add_file(struct pack *p, const char *name, const char *path, unsigned mode,
                              struct err *e)
{
    char *data = NULL;
    size_t len = 0;
    enum err_code rc = read_file(path, &data, &len, e);
    if (rc == ERR_OK)
        add_entry(p, name, data, len, mode);
    return rc;
}

static void pack_free(struct pack *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->v[i].name);
        free(p->v[i].data);
    }
    free(p->v);
}

/* excluded - @rel (relative to sourceDir) is one of `excludes`, by name or glob */
static bool excluded(const struct pack *p, const char *rel)
{
    const cJSON *x;
    cJSON_ArrayForEach(x, p->excludes)
    {
        const char *pat = cJSON_IsString(x) ? x->valuestring : "";
        while (pat[0] == '.' && pat[1] == '/')
            pat += 2;
        if (*pat && (!strcmp(pat, rel) || fnmatch(pat, rel, FNM_PATHNAME) == 0))
            return true;
    }
    return false;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* walk - the files under @path, named @rel/..., in name order as the provider walks */
static enum err_code walk(struct pack *p, const char *path, const char *rel, struct err *e)
{
    DIR *d = opendir(path);
    struct dirent *de;
    char **names = NULL;
    size_t n = 0;
    enum err_code rc = ERR_OK;

    if (!d)
        return err_set(e, ERR_IO, "error archiving directory: %s: %s", path, strerror(errno));
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        names = xrealloc(names, (n + 1) * sizeof(*names));
        names[n++] = xstrdup(de->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof(*names), cmp_name);
    for (size_t i = 0; i < n; i++) {
        char *sub = xmalloc(strlen(path) + strlen(names[i]) + 2);
        char *srel = xmalloc(strlen(rel) + strlen(names[i]) + 2);
        struct stat st, lst;
        sprintf(sub, "%s/%s", path, names[i]);
        sprintf(srel, "%s%s%s", rel, *rel ? "/" : "", names[i]);
        if (rc == ERR_OK && !excluded(p, srel) && stat(sub, &st) == 0) {
            bool link = lstat(sub, &lst) == 0 && S_ISLNK(lst.st_mode);
            if (S_ISDIR(st.st_mode) && !(link && p->skip_symlink_dirs))
                rc = walk(p, sub, srel, e);
            else if (S_ISREG(st.st_mode))
                rc = add_file(p, srel, sub, (unsigned)st.st_mode & 07777, e);
        }
        free(sub);
        free(srel);
        free(names[i]);
    }
    free(names);
    return rc;
}

static const char *str_arg(const cJSON *args, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(args, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

/* collect - the archive's entries from whichever source the arguments give */
static enum err_code collect(struct pack *p, const cJSON *args, struct err *e)
{
    const char *file = str_arg(args, "sourceFile"), *dir = str_arg(args, "sourceDir");
    const char *content = str_arg(args, "sourceContent");
    const char *cname = str_arg(args, "sourceContentFilename");
    const cJSON *sources = cJSON_GetObjectItemCaseSensitive(args, "sources"), *s;
    int given = !!file + !!dir + !!content + (sources != NULL);
    enum err_code rc = ERR_OK;
    struct stat st;
    char *full;

    if (given == 0)
        return err_set(e, ERR_INVALID,
                       "one of 'sourceContentFilename', 'sourceFile', 'sourceDir' or "
                       "'sources' must be specified");
    if (given > 1)
        return err_set(e, ERR_INVALID,
                       "only one of 'sourceContent', 'sourceFile', 'sourceDir' and "
                       "'sources' may be specified");
    if (content) {
        if (!cname)
            return err_set(e, ERR_INVALID,
                           "'sourceContentFilename' must be specified with 'sourceContent'");
        add_entry(p, cname, xstrdup(content), strlen(content), 0644);
        return ERR_OK;
    }
    if (sources) {
        if (!cJSON_IsArray(sources) || cJSON_GetArraySize(sources) == 0)
            return err_set(e, ERR_INVALID, "sources must be a list of {content, filename}");
        cJSON_ArrayForEach(s, sources)
        {
            const char *c = str_arg(s, "content"), *f = str_arg(s, "filename");
            if (!c || !f)
                return err_set(e, ERR_INVALID, "each of sources needs content and filename");
            add_entry(p, f, xstrdup(c), strlen(c), 0644);
        }
        qsort(p->v, p->n, sizeof(*p->v), cmp_entry);
        return ERR_OK;
    }
    full = stack_path(p->dir, file ? file : dir);
    if (stat(full, &st) != 0)
        rc = err_set(e, ERR_IO, "could not archive missing %s: %s", file ? "file" : "directory",
                     file ? file : dir);
    else if (file && !S_ISREG(st.st_mode))
        rc = err_set(e, ERR_INVALID, "sourceFile %s is not a file", file);
    else if (dir && !S_ISDIR(st.st_mode))
        rc = err_set(e, ERR_INVALID, "sourceDir %s is not a directory", dir);
    else if (file) {
        const char *base = strrchr(full, '/');
        rc = add_file(p, base ? base + 1 : full, full, (unsigned)st.st_mode & 07777, e);
    } else if ((rc = walk(p, full, "", e)) == ERR_OK && p->n == 0)
        rc = err_set(e, ERR_INVALID, "sourceDir %s has no files to archive", dir);
    free(full);
    return rc;
}

/* mkdirs - the folders above @path */
static void mkdirs(const char *path)
{
    char *d = xstrdup(path);
    for (char *s = strchr(d + 1, '/'); s; s = strchr(s + 1, '/')) {
        *s = 0;
        mkdir(d, 0755);
        *s = '/';
    }
    free(d);
}

/* write_zip - the entries into @out, through a file beside it renamed into place */
static enum err_code write_zip(const struct pack *p, long fmode, const char *out, struct err *e)
{
    char *tmp = xmalloc(strlen(out) + 32);
    int zerr = 0;
    zip_t *z;

    mkdirs(out);
    sprintf(tmp, "%s.tmp-%d", out, (int)getpid());
    z = zip_open(tmp, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    if (!z) {
        free(tmp);
        return err_set(e, ERR_IO, "cannot write %s (libzip error %d)", out, zerr);
    }
    for (size_t i = 0; i < p->n; i++) {
        const struct entry *en = &p->v[i];
        zip_source_t *src = zip_source_buffer(z, en->data, en->len, 0);
        zip_int64_t idx;
        unsigned mode = fmode >= 0 ? (unsigned)fmode : en->mode;
        if (!src ||
            (idx = zip_file_add(z, en->name, src, ZIP_FL_OVERWRITE | ZIP_FL_ENC_UTF_8)) < 0) {
            zip_source_free(src);
            zip_discard(z);
            free(tmp);
            return err_set(e, ERR_IO, "error archiving %s", en->name);
        }
        /* fixed stamp (1981-01-01 00:00), as the provider writes, so the bytes follow
         * from the files alone */
        zip_file_set_dostime(z, (zip_uint64_t)idx, 0, (1 << 9) | (1 << 5) | 1, 0);
        zip_set_file_compression(z, (zip_uint64_t)idx, ZIP_CM_DEFLATE, 0);
        zip_file_set_external_attributes(z, (zip_uint64_t)idx, 0, ZIP_OPSYS_UNIX,
                                         (zip_uint32_t)(S_IFREG | (mode & 07777)) << 16);
    }
    if (zip_close(z) != 0) {
        zip_discard(z);
        unlink(tmp);
        free(tmp);
        return err_set(e, ERR_IO, "cannot write %s", out);
    }
    if (rename(tmp, out) != 0) {
        enum err_code rc = err_set(e, ERR_IO, "%s: %s", out, strerror(errno));
        unlink(tmp);
        free(tmp);
        return rc;
    }
    free(tmp);
    return ERR_OK;
}

/* digest - @alg of @data into @res as hex under @hex_key and base64 under @b64_key */
static void digest(cJSON *res, const char *alg, const char *data, size_t len, const char *hex_key,
                   const char *b64_key)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    char out[2 * EVP_MAX_MD_SIZE + 1];
    EVP_Digest(data, len, md, &n, EVP_get_digestbyname(alg), NULL);
    hex_encode(md, n, out);
    cJSON_AddStringToObject(res, hex_key, out);
    if (b64_key) {
        base64_encode(md, n, out);
        cJSON_AddStringToObject(res, b64_key, out);
    }
}

/* answer - the arguments and the written archive's size and digests */
static enum err_code answer(const cJSON *args, const char *path, cJSON **out, struct err *e)
{
    char *data = NULL;
    size_t len = 0;
    cJSON *res;
    enum err_code rc = read_file(path, &data, &len, e);

    if (rc)
        return rc;
    res = cJSON_Duplicate(args, 1);
    digest(res, "MD5", data, len, "outputMd5", NULL);
    digest(res, "SHA1", data, len, "outputSha", NULL);
    digest(res, "SHA256", data, len, "outputSha256", "outputBase64sha256");
    digest(res, "SHA512", data, len, "outputSha512", "outputBase64sha512");
    cJSON_AddNumberToObject(res, "outputSize", (double)len);
    cJSON_AddStringToObject(res, "id", cJSON_GetObjectItem(res, "outputSha")->valuestring);
    free(data);
    *out = res;
    return ERR_OK;
}

bool stack_archive_known(const char *token)
{
    return !strcmp(token, "archive:getFile") || !strcmp(token, "archive:index:getFile") ||
           !strcmp(token, "archive:index/getFile:getFile");
}

enum err_code stack_archive(const char *token, const cJSON *args, const char *dir, cJSON **out,
                            struct err *e)
{
    struct pack p = {.dir = dir};
    const char *type = str_arg(args, "type"), *outp = str_arg(args, "outputPath");
    const char *fmode = str_arg(args, "outputFileMode");
    const cJSON *skip = cJSON_GetObjectItemCaseSensitive(args, "excludeSymlinkDirectories");
    long mode = -1;
    char *full;
    enum err_code rc;

    *out = NULL;
    if (!stack_archive_known(token))
        return err_set(e, ERR_NOTFOUND, "unknown function '%s'", token);
    if (!cJSON_IsObject(args))
        return err_set(e, ERR_INVALID, "arguments must be a map");
    if (!type)
        return err_set(e, ERR_INVALID, "missing required argument 'type'");
    if (strcmp(type, "zip") != 0)
        return err_set(e, ERR_INVALID, "archive type not supported: %s (Tandem writes zip)", type);
    if (!outp || !*outp)
        return err_set(e, ERR_INVALID, "missing required argument 'outputPath'");
    if (fmode) {
        char *end;
        mode = strtol(fmode, &end, 0);
        if (!*fmode || *end || mode < 0 || mode > 07777)
            return err_set(e, ERR_INVALID, "outputFileMode \"%s\" is not a file mode", fmode);
    }
    p.excludes = cJSON_GetObjectItemCaseSensitive(args, "excludes");
    if (p.excludes && !cJSON_IsArray(p.excludes))
        return err_set(e, ERR_INVALID, "excludes must be a list of paths");
    p.skip_symlink_dirs = cJSON_IsTrue(skip);
    if ((rc = collect(&p, args, e))) {
        pack_free(&p);
        return rc;
    }
    full = stack_path(dir, outp);
    rc = write_zip(&p, mode, full, e);
    pack_free(&p);
    if (rc == ERR_OK)
        rc = answer(args, full, out, e);
    free(full);
    return rc;
}
