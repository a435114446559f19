/* main.c - the `tandem` command: one binary, one subcommand per job. */
#include <stdio.h>
#include <string.h>

#include "cli_stack.h"
#include "cli_logs.h"
#include "cli_repl.h"
#include "cli_s3.h"
#include "fn.h"
#include "server.h"

#define TANDEM_VERSION "0.1.0"

static int usage(FILE *f)
{
    fputs("usage: tandem <command> [options]\n"
          "\n"
          "commands:\n"
          "  server     run one region (tandem server --help)\n"
          "  logs       print a function's log (tandem logs FUNCTION --data DIR)\n"
          "  status     replication state of regions (tandem status --help)\n"
          "  verify     compare a global table's replicas (tandem verify --help)\n"
          "  s3         replicate-existing: queue a bucket's older versions (tandem s3 --help)\n"
          "  version    print the version\n",
          f);
    fputs(cli_stack_usage(), f);
    return f == stderr ? 2 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr);
    if (strcmp(argv[1], FN_INIT_COMMAND) == 0)
        return fn_init_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "server") == 0)
        return server_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "logs") == 0)
        return cli_logs_main(argc - 1, argv + 1);
    if (cli_stack_is_command(argv[1]))
        return cli_stack_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "status") == 0)
        return cli_status_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "verify") == 0)
        return cli_verify_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "s3") == 0)
        return cli_s3_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("tandem %s\n", TANDEM_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0)
        return usage(stdout);
    fprintf(stderr, "tandem: unknown command '%s'\n", argv[1]);
    return usage(stderr);
}
