/* logs.c - `tandem logs FUNCTION --data DIR [--follow]`: the function's log
 * as the region keeps it (DATA/functions/FUNCTION/log, after log.1 when it
 * has rotated): START/END/REPORT lines and everything the function printed. */
#include "cli_logs.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int usage(FILE *f)
{
    fputs("usage: tandem logs FUNCTION --data DIR [--follow]\n"
          "\n"
          "  --data DIR   the region's data directory (as given to tandem server)\n"
          "  --follow     keep printing new lines (Ctrl-C to stop)\n",
          f);
    return f == stderr ? 2 : 0;
}

static long print_from(const char *path, long off)
{
    FILE *in = fopen(path, "rb");
    char buf[65536];
    size_t n;

    if (!in)
        return -1;
    if (off > 0)
        fseek(in, off, SEEK_SET);
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        fwrite(buf, 1, n, stdout);
    off = ftell(in);
    fclose(in);
    fflush(stdout);
    return off;
}

int cli_logs_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"follow", no_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *data = getenv("TANDEM_DATA"), *name;
    bool follow = false;
    char path[4096], old[4200];
    long off;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "f", opts, NULL)) != -1) {
        if (c == 'd')
            data = optarg;
        else if (c == 'f')
            follow = true;
        else if (c == 'h')
            return usage(stdout);
        else
            return usage(stderr);
    }
    if (optind + 1 != argc || !data)
        return usage(stderr);
    name = argv[optind];
    if (strchr(name, '/') || strcmp(name, "..") == 0) {
        fprintf(stderr, "tandem logs: bad function name '%s'\n", name);
        return 2;
    }
    snprintf(path, sizeof(path), "%s/functions/%s", data, name);
    if (access(path, F_OK) != 0) {
        fprintf(stderr, "tandem logs: no function '%s' under %s\n", name, data);
        return 1;
    }
    snprintf(path, sizeof(path), "%s/functions/%s/log", data, name);
    snprintf(old, sizeof(old), "%s.1", path);
    print_from(old, 0);
    off = print_from(path, 0);
    while (follow) {
        long now;
        sleep(1);
        now = print_from(path, off < 0 ? 0 : off);
        if (now >= 0 && now < off) /* rotated: start the new file */
            now = print_from(path, 0);
        off = now;
    }
    return 0;
}
