/* ddb_s3_hook.h - the server's implementation of DynamoDB's S3 hook
 * (ddb_s3.h): S3 requests over HTTP to this region's own endpoint, signed
 * with the deployment's root credentials; a bucket this region does not
 * have (NoSuchBucket) is looked for in each peer region in turn. The calls
 * authenticate like any client's, so the bucket's policies and object
 * replication apply to what an export writes. */
#ifndef TANDEM_DDB_S3_HOOK_H
#define TANDEM_DDB_S3_HOOK_H

#include <stddef.h>

#include "ddb_s3.h"

struct ddb_s3_hook;

/* ddb_s3_hook_new - (owned, ddb_s3_hook_free()); every string is copied. */
struct ddb_s3_hook *ddb_s3_hook_new(const char *region, const char *access_key, const char *secret,
                                    const char *const *peer_regions, const char *const *peer_urls,
                                    size_t npeers);
/* ddb_s3_hook_set_self - where this region's S3 answers (once listening). */
void ddb_s3_hook_set_self(struct ddb_s3_hook *h, const char *url);
const struct ddb_s3 *ddb_s3_hook_get(const struct ddb_s3_hook *h);
void ddb_s3_hook_free(struct ddb_s3_hook *h); /* NULL ok */

#endif
