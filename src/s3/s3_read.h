/* s3_read.h - other services of the region read an object (e.g. Lambda's
 * Code.S3Bucket/S3Key packages) through the S3 module's own GET, as the
 * region's root. */
#ifndef TANDEM_S3_READ_H
#define TANDEM_S3_READ_H

#include <stddef.h>

#include "buf.h"
#include "s3.h"

/*
 * s3_read_object - the body of the current version of BUCKET/KEY into @out
 * (appended; the caller owns @out). Blocks until S3 has answered: call it off
 * the HTTP threads. Returns the HTTP status; when it is not 200, @code gets
 * S3's error code ("NoSuchKey", "NoSuchBucket", ...) and @msg its message
 * (both truncated to their capacity).
 */
int s3_read_object(struct s3 *s, const char *bucket, const char *key, struct buf *out, char *code,
                   size_t code_cap, char *msg, size_t msg_cap);

#endif
