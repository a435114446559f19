/* status.c - `tandem status` and the parts `tandem verify` shares (cli_repl.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awsc.h"
#include "cli_repl.h"
#include "cli_repl_int.h"

void cli_repl_creds(struct cli_repl_args *a)
{
    if (!a->creds.access_key)
        a->creds.access_key = getenv("TANDEM_ACCESS_KEY_ID");
    if (!a->creds.secret)
        a->creds.secret = getenv("TANDEM_SECRET_ACCESS_KEY");
    if (!a->creds.access_key)
        a->creds.access_key = getenv("AWS_ACCESS_KEY_ID");
    if (!a->creds.secret)
        a->creds.secret = getenv("AWS_SECRET_ACCESS_KEY");
}

int cli_repl_parse(int argc, char **argv, struct cli_repl_args *a, bool want_table)
{
    enum { OPT_ENDPOINT = 1, OPT_TABLE, OPT_AK, OPT_SK, OPT_HELP };
    static const struct option opts[] = {
        {"endpoint", required_argument, NULL, OPT_ENDPOINT},
        {"table", required_argument, NULL, OPT_TABLE},
        {"access-key", required_argument, NULL, OPT_AK},
        {"secret-key", required_argument, NULL, OPT_SK},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    int c;

    memset(a, 0, sizeof(*a));
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case OPT_ENDPOINT: {
            char *eq = strchr(optarg, '=');

            if (a->n == CLI_REPL_MAX) {
                fprintf(stderr, "tandem %s: at most %d endpoints\n", argv[0], CLI_REPL_MAX);
                return 2;
            }
            if (eq) {
                *eq = '\0';
                a->ep[a->n].region = optarg;
                a->ep[a->n].url = eq + 1;
            } else {
                a->ep[a->n].region = NULL;
                a->ep[a->n].url = optarg;
            }
            a->n++;
            break;
        }
        case OPT_TABLE:
            a->table = optarg;
            break;
        case OPT_AK:
            a->creds.access_key = optarg;
            break;
        case OPT_SK:
            a->creds.secret = optarg;
            break;
        case OPT_HELP:
            return 0;
        default:
            return 2;
        }
    }
    cli_repl_creds(a);
    if (a->n == 0 || (want_table && (!a->table || a->n < 2))) {
        fprintf(stderr, "tandem %s: %s\n", argv[0],
                want_table ? "--table NAME and at least two --endpoint REGION=URL are required"
                           : "at least one --endpoint REGION=URL is required");
        return 2;
    }
    return -1;
}

enum err_code cli_repl_get(const struct cli_repl_args *a, const struct cli_repl_ep *ep,
                           const char *path, const char *query, struct awsc_resp *resp,
                           struct err *e)
{
    struct awsc_req q = {
        .method = "GET",
        .endpoint = ep->url,
        .path = path,
        .query = query,
        .region = ep->region,
        .service = "tandem",
        .timeout_ms = 60000,
    };
    enum err_code rc;

    if (!ep->region)
        return err_set(e, ERR_INVALID, "--endpoint must be REGION=URL (requests are signed)");
    if (!a->creds.access_key || !a->creds.secret)
        return err_set(e, ERR_INVALID,
                       "no credentials: set TANDEM_ACCESS_KEY_ID and TANDEM_SECRET_ACCESS_KEY "
                       "or pass --access-key and --secret-key");
    rc = awsc_call(&a->creds, &q, resp, e);
    if (rc == ERR_OK && resp->status != 200)
        rc = err_set(e, ERR_IO, "%s%s: HTTP %ld: %.160s", ep->url, path, resp->status,
                     resp->body.ptr ? resp->body.ptr : "");
    return rc;
}

/* label - the value of label @name in a metrics line, copied into @out. */
static bool label(const char *line, const char *name, char *out, size_t cap)
{
    char pat[64];
    const char *p, *q;
    size_t n = 0;

    snprintf(pat, sizeof(pat), "%s=\"", name);
    p = strstr(line, pat);
    if (!p)
        return false;
    p += strlen(pat);
    for (q = p; *q && *q != '"' && n + 1 < cap; q++) {
        if (*q == '\\' && q[1])
            q++;
        out[n++] = *q;
    }
    out[n] = '\0';
    return true;
}

static int status_one(const struct cli_repl_args *a, const struct cli_repl_ep *ep)
{
    struct awsc_resp resp;
    struct err e = {0};
    char *text, *line, *save = NULL;
    char region[64] = "?", home[64] = "";
    const char *reachable = NULL, *waiting = "0";

    if (cli_repl_get(a, ep, "/_tandem/metrics", NULL, &resp, &e)) {
        awsc_resp_free(&resp);
        printf("%s: unreachable: %s\n", ep->region ? ep->region : ep->url, e.msg);
        return 1;
    }
    text = resp.body.ptr ? resp.body.ptr : "";
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char peer[64] = "", table[256] = "", err[300] = "";
        const char *val = strrchr(line, ' ');

        if (line[0] == '#' || !val)
            continue;
        val++;
        /* identity's lines come first on the page; they are shown under the region's */
        if (strncmp(line, "tandem_iam_home_reachable", 25) == 0) {
            label(line, "home", home, sizeof(home));
            reachable = val;
            continue;
        }
        if (strncmp(line, "tandem_iam_home_calls_waiting", 29) == 0) {
            waiting = val;
            continue;
        }
        if (strncmp(line, "tandem_repl_log_last_seq", 24) == 0) {
            label(line, "region", region, sizeof(region));
            printf("region %s (%s): log at %s\n", region, ep->url, val);
            if (reachable && strcmp(home, region) == 0)
                printf("  identity: home\n");
            else if (reachable)
                printf("  identity: home %s %s, %s calls waiting for it\n", home,
                       strcmp(reachable, "1") == 0 ? "reachable" : "UNREACHABLE", waiting);
            continue;
        }
        label(line, "peer", peer, sizeof(peer));
        if (label(line, "table", table, sizeof(table))) {
            if (strncmp(line, "tandem_repl_applied_total", 25) == 0)
                printf("    table %-24s applied %s", table, val);
            else if (strncmp(line, "tandem_repl_conflicts_total", 27) == 0)
                printf("  conflicts %s\n", val);
            continue;
        }
        if (strncmp(line, "tandem_repl_peer_up", 19) == 0)
            printf("  peer %-12s %s", peer, strcmp(val, "1") == 0 ? "up  " : "DOWN");
        else if (strncmp(line, "tandem_repl_lag_ms", 18) == 0)
            printf("  lag %sms", val);
        else if (strncmp(line, "tandem_repl_backlog_entries", 27) == 0)
            printf("  backlog %s", val);
        else if (strncmp(line, "tandem_repl_position", 20) == 0)
            printf("  position %s", val);
        else if (strncmp(line, "tandem_repl_errors_total", 24) == 0)
            printf("  errors %s\n", val);
        else if (strncmp(line, "tandem_repl_last_error_info", 27) == 0 &&
                 label(line, "error", err, sizeof(err)))
            printf("    last error: %s\n", err);
    }
    awsc_resp_free(&resp);
    return 0;
}

int cli_status_main(int argc, char **argv)
{
    struct cli_repl_args a;
    int rc = cli_repl_parse(argc, argv, &a, false), bad = 0;

    if (rc >= 0) {
        fputs("usage: tandem status --endpoint REGION=URL [--endpoint ...]\n"
              "  [--access-key ID --secret-key SECRET]\n",
              rc ? stderr : stdout);
        return rc;
    }
    for (size_t i = 0; i < a.n; i++)
        bad |= status_one(&a, &a.ep[i]);
    return bad;
}
