/* stack_state.c - load and atomically save the state document. */
#include "stack_state.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mem.h"

static cJSON *empty_state(void)
{
    cJSON *st = cJSON_CreateObject();
    cJSON_AddNumberToObject(st, "version", 1);
    cJSON_AddItemToObject(st, "resources", cJSON_CreateArray());
    cJSON_AddItemToObject(st, "outputs", cJSON_CreateObject());
    return st;
}

enum err_code stack_state_load(const char *path, cJSON **out, struct err *e)
{
    FILE *f = fopen(path, "rb");
    char *text = NULL;
    long n;
    cJSON *st;

    *out = NULL;
    if (!f) {
        if (errno == ENOENT) {
            *out = empty_state();
            return ERR_OK;
        }
        return err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
    }
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    text = xmalloc((size_t)(n > 0 ? n : 0) + 1);
    n = (long)fread(text, 1, (size_t)(n > 0 ? n : 0), f);
    text[n] = 0;
    fclose(f);
    st = cJSON_Parse(text);
    free(text);
    if (!st || !cJSON_IsObject(st)) {
        cJSON_Delete(st);
        return err_set(e, ERR_INVALID, "%s: the state file is not valid JSON", path);
    }
    if (!cJSON_IsArray(cJSON_GetObjectItem(st, "resources"))) {
        cJSON_DeleteItemFromObject(st, "resources");
        cJSON_AddItemToObject(st, "resources", cJSON_CreateArray());
    }
    if (!cJSON_IsObject(cJSON_GetObjectItem(st, "outputs"))) {
        cJSON_DeleteItemFromObject(st, "outputs");
        cJSON_AddItemToObject(st, "outputs", cJSON_CreateObject());
    }
    *out = st;
    return ERR_OK;
}

enum err_code stack_state_save(const char *path, const cJSON *st, struct err *e)
{
    char *text = cJSON_Print(st);
    size_t len = strlen(text), off = 0;
    char *tmp = xmalloc(strlen(path) + 16), *dcopy = xstrdup(path);
    int fd = -1, dfd = -1;
    enum err_code rc = ERR_OK;

    sprintf(tmp, "%s.tmp%d", path, (int)getpid());
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = err_set(e, ERR_IO, "%s: %s", tmp, strerror(errno));
        goto out;
    }
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            rc = err_set(e, ERR_IO, "%s: %s", tmp, strerror(errno));
            goto out;
        }
        off += (size_t)w;
    }
    if (write(fd, "\n", 1) != 1 || fsync(fd) != 0) {
        rc = err_set(e, ERR_IO, "%s: %s", tmp, strerror(errno));
        goto out;
    }
    close(fd);
    fd = -1;
    if (rename(tmp, path) != 0) {
        rc = err_set(e, ERR_IO, "rename %s: %s", path, strerror(errno));
        goto out;
    }
    dfd = open(dirname(dcopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0)
        fsync(dfd);
out:
    if (fd >= 0) {
        close(fd);
        unlink(tmp);
    }
    if (dfd >= 0)
        close(dfd);
    free(text);
    free(tmp);
    free(dcopy);
    return rc;
}

cJSON *stack_state_res(const cJSON *st, const char *name)
{
    cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItem(st, "resources"))
    {
        const char *n = json_str(r, "name");
        if (n && strcmp(n, name) == 0)
            return r;
    }
    return NULL;
}

void stack_state_put(cJSON *st, cJSON *r)
{
    cJSON *arr = cJSON_GetObjectItem(st, "resources"), *it;
    const char *name = json_str(r, "name");
    int i = 0;
    cJSON_ArrayForEach(it, arr)
    {
        const char *n = json_str(it, "name");
        if (n && name && strcmp(n, name) == 0) {
            cJSON_ReplaceItemInArray(arr, i, r);
            return;
        }
        i++;
    }
    cJSON_AddItemToArray(arr, r);
}

void stack_state_remove(cJSON *st, const char *name)
{
    cJSON *arr = cJSON_GetObjectItem(st, "resources"), *it;
    int i = 0;
    cJSON_ArrayForEach(it, arr)
    {
        const char *n = json_str(it, "name");
        if (n && strcmp(n, name) == 0) {
            cJSON_DeleteItemFromArray(arr, i);
            return;
        }
        i++;
    }
}
