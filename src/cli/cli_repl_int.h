/* cli_repl_int.h - what status.c and verify.c share. */
#ifndef TANDEM_CLI_REPL_INT_H
#define TANDEM_CLI_REPL_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "awsc.h"
#include "err.h"

enum { CLI_REPL_MAX = 16 };

struct cli_repl_ep {
    const char *region; /* NULL when not given: refused */
    const char *url;
};

struct cli_repl_args {
    struct cli_repl_ep ep[CLI_REPL_MAX];
    size_t n;
    const char *table;
    struct awsc_creds creds;
};

/* cli_repl_parse - -1 to go on; else the exit status (usage asked or bad). */
int cli_repl_parse(int argc, char **argv, struct cli_repl_args *a, bool want_table);
void cli_repl_creds(struct cli_repl_args *a);
/* cli_repl_get - a GET to an internal endpoint; ERR_IO unless HTTP 200. */
enum err_code cli_repl_get(const struct cli_repl_args *a, const struct cli_repl_ep *ep,
                           const char *path, const char *query, struct awsc_resp *resp,
                           struct err *e);

#endif
