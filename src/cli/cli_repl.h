/* cli_repl.h - operator commands for replication between regions.
 *
 *   tandem status --endpoint REGION=URL ...
 *       each region's replication state: per peer whether it is reachable,
 *       lag (ms), backlog (entries), position, errors, last error, and per
 *       table applied writes and conflicts (from GET /_tandem/metrics).
 *   tandem verify --table NAME --endpoint REGION=URL --endpoint REGION=URL ...
 *       compares the table's replicas: 256 range hashes per region, then the
 *       keys and item hashes of every range that differs; prints each
 *       divergent item. Exit 0: replicas agree; 1: divergent; 2: error.
 *
 * Requests are signed with SigV4 (service "tandem", the endpoint's region)
 * using --access-key/--secret-key, else $TANDEM_ACCESS_KEY_ID /
 * $TANDEM_SECRET_ACCESS_KEY, else $AWS_ACCESS_KEY_ID / $AWS_SECRET_ACCESS_KEY:
 * the deployment's root credentials. */
#ifndef TANDEM_CLI_REPL_H
#define TANDEM_CLI_REPL_H

/* @argv[0] is the command name; return the exit status. */
int cli_status_main(int argc, char **argv);
int cli_verify_main(int argc, char **argv);

#endif
