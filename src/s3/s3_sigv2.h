/* s3_sigv2.h - AWS Signature Version 2 as S3 still accepts it: the
 * "Authorization: AWS AK:SIG" header and the presigned query form
 * (AWSAccessKeyId=AK&Signature=SIG&Expires=UNIX) that boto3 and the aws CLI v1
 * produce for custom endpoints. Pure functions; the caller looks up the key. */
#ifndef TANDEM_S3_SIGV2_H
#define TANDEM_S3_SIGV2_H

#include <stdbool.h>
#include <stddef.h>

struct s3_sigv2_header {
    const char *name; /* lower-case */
    const char *value;
};

/*
 * s3_sigv2_string_to_sign - METHOD\nContent-MD5\nContent-Type\nDATE\n
 * x-amz-*:values\n...RESOURCE, where @date is the Date header (or the Expires
 * parameter of a presigned URL, or "" when x-amz-date is sent) and @resource is
 * "/bucket/key" as sent (percent-encoded). The subresources of @query
 * (versionId, uploadId, partNumber, uploads, versioning, response-*, ...) are
 * appended sorted, their values decoded. Returns an owned string (free()).
 */
char *s3_sigv2_string_to_sign(const char *method, const struct s3_sigv2_header *h, size_t nh,
                              const char *date, const char *resource, const char *query);

/* s3_sigv2_sign - base64(HMAC-SHA1(@secret, @sts)) into @out[29]. */
void s3_sigv2_sign(const char *secret, const char *sts, char out[29]);

/* s3_sigv2_query_param - the decoded value of query parameter @name (arena-free:
 * written to @out, @cap bytes); false when absent or too long. */
bool s3_sigv2_query_param(const char *query, const char *name, char *out, size_t cap);

#endif
