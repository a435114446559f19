/* server.h - one region: `tandem server`.
 *
 * Opens the region's store, registers its credentials, starts the HTTP (and
 * HTTPS) front doors and serves every API of the region on them until SIGTERM
 * or SIGINT. Each request is authenticated with SigV4, then dispatched by
 * X-Amz-Target (DynamoDB), by the credential scope's service and by path. */
#ifndef TANDEM_SERVER_H
#define TANDEM_SERVER_H

/* server_main - `tandem server [options]`; @argv[0] is "server".
 * Returns the process exit status. */
int server_main(int argc, char **argv);

#endif
