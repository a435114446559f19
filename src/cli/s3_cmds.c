/* s3_cmds.c - `tandem s3 ...` (cli_s3.h). */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awsc.h"
#include "cli_s3.h"

static int usage(FILE *f)
{
    fputs("usage: tandem s3 replicate-existing --bucket BUCKET --endpoint [REGION=]URL [--failed]\n"
          "       [--access-key AK --secret-key SK]\n"
          "  queue the versions of BUCKET its replication rules match that were never\n"
          "  replicated (--failed: only those whose replication FAILED)\n",
          f);
    return f == stderr ? 2 : 0;
}

int cli_s3_main(int argc, char **argv)
{
    enum { OPT_BUCKET = 1, OPT_ENDPOINT, OPT_FAILED, OPT_AK, OPT_SK, OPT_HELP };
    static const struct option opts[] = {
        {"bucket", required_argument, NULL, OPT_BUCKET},
        {"endpoint", required_argument, NULL, OPT_ENDPOINT},
        {"failed", no_argument, NULL, OPT_FAILED},
        {"access-key", required_argument, NULL, OPT_AK},
        {"secret-key", required_argument, NULL, OPT_SK},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    struct awsc_creds c = {0};
    const char *bucket = NULL, *region = "us-east-1";
    char *endpoint = NULL;
    bool failed = false;
    struct awsc_resp resp;
    struct err e = {0};
    char path[300], *eq;
    int opt, status = 1;

    if (argc < 2 || strcmp(argv[1], "replicate-existing") != 0)
        return usage(argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
    argc--;
    argv++;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case OPT_BUCKET:
            bucket = optarg;
            break;
        case OPT_ENDPOINT:
            endpoint = optarg;
            break;
        case OPT_FAILED:
            failed = true;
            break;
        case OPT_AK:
            c.access_key = optarg;
            break;
        case OPT_SK:
            c.secret = optarg;
            break;
        case OPT_HELP:
            return usage(stdout);
        default:
            return usage(stderr);
        }
    }
    if (!c.access_key)
        c.access_key = getenv("TANDEM_ACCESS_KEY_ID");
    if (!c.secret)
        c.secret = getenv("TANDEM_SECRET_ACCESS_KEY");
    if (!c.access_key)
        c.access_key = getenv("AWS_ACCESS_KEY_ID");
    if (!c.secret)
        c.secret = getenv("AWS_SECRET_ACCESS_KEY");
    if (!bucket || !endpoint || !*bucket || strlen(bucket) > 255 || strchr(bucket, '/'))
        return usage(stderr);
    if (!c.access_key || !c.secret) {
        fprintf(stderr, "tandem s3: no credentials (TANDEM_ACCESS_KEY_ID / "
                        "TANDEM_SECRET_ACCESS_KEY or --access-key / --secret-key)\n");
        return 2;
    }
    if ((eq = strchr(endpoint, '=')) && strncmp(endpoint, "http", 4) != 0) {
        *eq = '\0';
        region = endpoint;
        endpoint = eq + 1;
    } else if (getenv("AWS_DEFAULT_REGION")) {
        region = getenv("AWS_DEFAULT_REGION");
    }
    snprintf(path, sizeof(path), "/%s", bucket);
    {
        struct awsc_req rq = {.method = "POST",
                              .endpoint = endpoint,
                              .path = path,
                              .query = failed ? "x-tandem-replicate=failed"
                                              : "x-tandem-replicate=existing",
                              .region = region,
                              .service = "s3",
                              .unsigned_payload = true,
                              .timeout_ms = 600000};
        if (awsc_call(&c, &rq, &resp, &e) != ERR_OK) {
            fprintf(stderr, "tandem s3: %s\n", e.msg);
            awsc_resp_free(&resp);
            return 1;
        }
    }
    if (resp.status == 200) {
        const char *b = resp.body.ptr ? (const char *)resp.body.ptr : "";
        const char *n = strstr(b, "<Queued>");
        printf("queued %ld version(s) of %s for replication\n", n ? strtol(n + 8, NULL, 10) : 0L,
               bucket);
        status = 0;
    } else {
        fprintf(stderr, "tandem s3: %ld %.*s\n", resp.status, (int)resp.body.len,
                resp.body.ptr ? (const char *)resp.body.ptr : "");
    }
    awsc_resp_free(&resp);
    return status;
}
