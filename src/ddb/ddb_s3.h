/* ddb_s3.h - how DynamoDB reaches S3: table exports write objects into a
 * bucket, imports read them (export.h). The server plugs in an
 * implementation (ddb_set_s3); without one, ExportTableToPointInTime and
 * ImportTable answer that S3 is not available in this region.
 *
 * Every call blocks until S3 has answered: the export and import threads
 * make them, never a request thread. A call returns the HTTP status S3
 * answered (200 for success), or 0 when S3 could not be reached; on a
 * failure @er gets S3's error code ("NoSuchBucket", "AccessDenied", ...) and
 * message. */
#ifndef TANDEM_DDB_S3_H
#define TANDEM_DDB_S3_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "ddb.h"

struct ddb_s3_err {
    char code[64];
    char msg[256];
};

struct ddb_s3 {
    void *ud;
    /* PutObject BUCKET/KEY with @body; @sse ("AES256", "aws:kms") and
     * @kms_key (NULL: none) become the x-amz-server-side-encryption headers. */
    int (*put)(void *ud, const char *bucket, const char *key, const void *body, size_t len,
               const char *sse, const char *kms_key, struct ddb_s3_err *er);
    /* GetObject BUCKET/KEY, its body handed to @on_data in pieces as it
     * arrives (nothing is kept whole); false from @on_data ends the call,
     * which then returns 0. A body cut off once pieces were handed over is
     * not asked of another region. */
    int (*get)(void *ud, const char *bucket, const char *key,
               bool (*on_data)(void *arg, const void *p, size_t n), void *arg,
               struct ddb_s3_err *er);
    /* ListObjectsV2 of BUCKET under @prefix, every page: the keys appended
     * to @keys, each followed by a NUL byte. */
    int (*list)(void *ud, const char *bucket, const char *prefix, struct buf *keys,
                struct ddb_s3_err *er);
};

/* ddb_set_s3 - @s borrowed, outlives @d; NULL: no S3. */
void ddb_set_s3(struct ddb *d, const struct ddb_s3 *s);

#endif
