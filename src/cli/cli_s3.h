/* cli_s3.h - `tandem s3 ...`: operator commands for S3 buckets.
 *
 *   tandem s3 replicate-existing --bucket B --endpoint [REGION=]URL [--failed]
 *       queue every version of B that its replication rules match and that
 *       was never replicated (or, with --failed, only FAILED ones), like S3
 *       Batch Replication; prints the number queued. Signs with the root
 *       credentials ($TANDEM_ACCESS_KEY_ID / $TANDEM_SECRET_ACCESS_KEY, else
 *       $AWS_ACCESS_KEY_ID / $AWS_SECRET_ACCESS_KEY; --access-key/--secret-key).
 * Exit status 0 on success, 1 when the region refused or was unreachable,
 * 2 on bad usage. */
#ifndef TANDEM_CLI_S3_H
#define TANDEM_CLI_S3_H

int cli_s3_main(int argc, char **argv);

#endif
