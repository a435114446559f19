/* cli_logs.h - `tandem logs FUNCTION`: print a function's stdout/stderr. */
#ifndef TANDEM_CLI_LOGS_H
#define TANDEM_CLI_LOGS_H

/* cli_logs_main - argv[0] is "logs". Returns the process exit status. */
int cli_logs_main(int argc, char **argv);

#endif
