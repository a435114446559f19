/* unit_tmpdir.h - removing a test's temporary directory (tests/unit only). */
#ifndef TANDEM_UNIT_TMPDIR_H
#define TANDEM_UNIT_TMPDIR_H

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* rm_rf - remove @dir and everything under it; a no-op on a file or a
 * missing path (the caller unlinks files). */
static void rm_rf(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char path[512];

    if (!d)
        return;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= sizeof(path))
            continue; /* longer than any path a test makes */
        rm_rf(path);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

#endif
