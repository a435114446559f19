/* logs.c - `tandem logs FUNCTION (--data DIR | --endpoint URL) [--follow]`:
 * the function's log as the region keeps it (DATA/functions/FUNCTION/log,
 * after log.1 when it has rotated): START/END/REPORT lines and everything
 * the function printed. With --endpoint the region serves it
 * (GET /2015-03-31/functions/FUNCTION/logs, signed with the AWS credentials
 * of the environment, service "lambda"); with --data it is read from disk. */
#include "cli_logs.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "awsc.h"

static int usage(FILE *f)
{
    fputs("usage: tandem logs FUNCTION (--data DIR | --endpoint URL) [--follow]\n"
          "\n"
          "  --data DIR       the region's data directory (as given to tandem server)\n"
          "  --endpoint URL   the region's address; signs with AWS_ACCESS_KEY_ID,\n"
          "                   AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN); the caller\n"
          "                   needs logs:GetLogEvents on /aws/lambda/FUNCTION\n"
          "  --region NAME    the region's name for signing (default $AWS_REGION,\n"
          "                   $AWS_DEFAULT_REGION, else us-east-1)\n"
          "  --follow         keep printing new lines (Ctrl-C to stop)\n",
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

/* fetch - one call of the region's logs endpoint from @off (-1: the start,
 * rotated log included); prints the text and returns the next offset, or -1
 * after printing an error. */
static long long fetch(const char *endpoint, const char *region, const char *name, long long off)
{
    struct awsc_creds c = {.access_key = getenv("AWS_ACCESS_KEY_ID"),
                           .secret = getenv("AWS_SECRET_ACCESS_KEY"),
                           .session_token = getenv("AWS_SESSION_TOKEN")};
    char path[256], query[64];
    struct awsc_req r = {.method = "GET",
                         .endpoint = endpoint,
                         .path = path,
                         .query = query,
                         .region = region,
                         .service = "lambda"};
    struct awsc_resp out;
    struct err e = {0};
    const char *next;
    long long n = -1;

    if (!c.access_key || !c.secret) {
        fprintf(stderr, "tandem logs: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\n");
        return -1;
    }
    if (c.session_token && !*c.session_token)
        c.session_token = NULL;
    snprintf(path, sizeof(path), "/2015-03-31/functions/%s/logs", name);
    if (off >= 0)
        snprintf(query, sizeof(query), "offset=%lld", off);
    else
        query[0] = '\0';
    if (awsc_call(&c, &r, &out, &e)) {
        fprintf(stderr, "tandem logs: %s: %s\n", endpoint, e.msg);
        awsc_resp_free(&out);
        return -1;
    }
    if (out.status != 200) {
        const char *type = awsc_resp_header(&out, "x-amzn-errortype");
        fprintf(stderr, "tandem logs: %s (HTTP %ld): %.*s\n", type ? type : "error", out.status,
                (int)out.body.len, out.body.ptr ? out.body.ptr : "");
        awsc_resp_free(&out);
        return -1;
    }
    if (out.body.len)
        fwrite(out.body.ptr, 1, out.body.len, stdout);
    fflush(stdout);
    next = awsc_resp_header(&out, "x-tandem-log-offset");
    n = next ? strtoll(next, NULL, 10) : 0;
    awsc_resp_free(&out);
    return n;
}

static int remote(const char *endpoint, const char *region, const char *name, bool follow)
{
    long long off = fetch(endpoint, region, name, -1);

    if (off < 0)
        return 1;
    while (follow) {
        long long now;
        sleep(1);
        now = fetch(endpoint, region, name, off);
        if (now < 0)
            return 1;
        off = now;
    }
    return 0;
}

int cli_logs_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},     {"follow", no_argument, NULL, 'f'},
        {"endpoint", required_argument, NULL, 'e'}, {"region", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    const char *data = getenv("TANDEM_DATA"), *name, *endpoint = NULL;
    const char *region = getenv("AWS_REGION");
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
        else if (c == 'e')
            endpoint = optarg;
        else if (c == 'r')
            region = optarg;
        else if (c == 'h')
            return usage(stdout);
        else
            return usage(stderr);
    }
    if (optind + 1 != argc || (!data && !endpoint))
        return usage(stderr);
    name = argv[optind];
    if (!*name || strlen(name) > 140 || strchr(name, '/') || strchr(name, '?') ||
        strchr(name, '%') || strcmp(name, "..") == 0) {
        fprintf(stderr, "tandem logs: bad function name '%s'\n", name);
        return 2;
    }
    if (endpoint) {
        size_t n = strlen(endpoint);
        char ep[1024];
        if (!region || !*region)
            region = getenv("AWS_DEFAULT_REGION");
        if (!region || !*region)
            region = "us-east-1";
        snprintf(ep, sizeof(ep), "%.*s", (int)(n && endpoint[n - 1] == '/' ? n - 1 : n), endpoint);
        return remote(ep, region, name, follow);
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
