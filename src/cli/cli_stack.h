/* cli_stack.h - the stack commands of `tandem`: stack, config, preview, up,
 * output, refresh, destroy, endpoint. */
#ifndef TANDEM_CLI_STACK_H
#define TANDEM_CLI_STACK_H

#include <stdbool.h>

/* cli_stack_is_command - @name is one of the stack commands. */
bool cli_stack_is_command(const char *name);

/* cli_stack_main - run `tandem <argv[0]> ...`. Exit status: 0 success,
 * 1 an operation failed (details printed), 2 usage or stack file error. */
int cli_stack_main(int argc, char **argv);

/* cli_stack_usage - the lines of the stack commands for `tandem help`. */
const char *cli_stack_usage(void);

#endif
