/* s3.h - the S3 API of a region (REST + XML, path-style and virtual-host).
 *
 * Bucket and object-version metadata live in the region's store (STORE_DB_S3);
 * object bodies are files under DATA_DIR/objects/, named by random ids (never by
 * key, so a key such as "../x" is only ever a key). A body is streamed to a
 * temporary file, fsynced and renamed before its metadata is committed through
 * the store's group commit, so an acknowledged object is durable. GET streams
 * from the file; memory does not grow with object size.
 *
 * S3 authenticates its own requests (SigV4 header and presigned forms, signed,
 * unsigned and aws-chunked payloads, SigV2 header and presigned forms, anonymous)
 * because the payload forms are only known once the body has streamed in. */
#ifndef TANDEM_S3_H
#define TANDEM_S3_H

#include <stdbool.h>
#include <stddef.h>

#include "authz.h"
#include "creds.h"
#include "err.h"
#include "http.h"
#include "store.h"

struct s3;

struct s3_opts {
    struct store *store;       /* borrowed; outlives the s3 */
    struct creds *creds;       /* borrowed; the region's access keys */
    const struct authz *authz; /* borrowed, NULL = allow everything */
    const char *region;        /* e.g. "us-east-1" */
    const char *account;       /* 12-digit account id */
    const char *data_dir;      /* bodies go to DATA_DIR/objects/ */
    /* replication (s3_repl.h): the other regions and the root credentials
     * every region of the deployment shares */
    const struct s3_peer *peers;
    size_t npeers;
    const char *access_key, *secret;
    const char *ca_file; /* for https peers; NULL: $AWS_CA_BUNDLE or the system's */
    /* threads that flush uploaded bodies (flush.c): 0 = the default (16);
     * S3_FLUSH_NONE = none, each body is flushed on its request thread */
    int flush_threads;
};
#define S3_FLUSH_NONE (-1)

struct s3_peer {
    const char *region; /* e.g. "us-west-2" */
    const char *url;    /* http(s)://HOST:PORT */
};

/* s3_open - (owned, s3_close()). ERR_IO when the objects folder cannot be made. */
enum err_code s3_open(const struct s3_opts *o, struct s3 **out, struct err *e);
void s3_close(struct s3 *s); /* NULL ok; every request must have been answered */

/* s3_set_self_url - where this region's own S3 answers (copied): a
 * replication destination in this same region is written through it. */
void s3_set_self_url(struct s3 *s, const char *url);

/* Event notifications (notify.c) reach the region's functions through an
 * invoker the server hands over once its Lambda service is open. */
/* s3_invoke_done_fn - how an invocation ended: @ok unless the function failed */
typedef void s3_invoke_done_fn(void *arg, bool ok);
struct s3_invoker {
    /* may_invoke - whether function @arn exists in this region and its
     * resource policy lets s3.amazonaws.com invoke it for @bucket of @account;
     * else false with the reason in @why (cap bytes) */
    bool (*may_invoke)(void *ud, const char *arn, const char *bucket, const char *account,
                       char *why, size_t cap);
    /* invoke - an asynchronous (Event) invocation of @arn with @payload;
     * @done(@arg, ok) later from another thread. Never blocks. False when
     * @arn names nothing that can run (@done is not called). */
    bool (*invoke)(void *ud, const char *arn, const char *payload, size_t len,
                   s3_invoke_done_fn *done, void *arg);
    void *ud;
};

/* s3_set_invoker - hand S3 its invoker (copied) and start delivering the
 * pending event notifications; NULL stops the delivery (before the invoker's
 * service closes). Without one, a configuration naming a function is refused
 * and pending notifications wait. */
void s3_set_invoker(struct s3 *s, const struct s3_invoker *inv);

/*
 * s3_is_request - whether @r (headers only) is for S3: SigV4 scoped to "s3",
 * a SigV2 Authorization header ("AWS AK:SIG") or presigned query
 * (AWSAccessKeyId=...), or an unsigned request without X-Amz-Target.
 */
bool s3_is_request(const struct http_req *r);
/* s3_is_website - whether @r is for a bucket's website endpoint: Host
 * BUCKET.s3-website.REGION... / BUCKET.s3-website-REGION..., or path
 * /_website/BUCKET/... (served by s3_handle, anonymous GET/HEAD). */
bool s3_is_website(const struct http_req *r);
/* s3_is_vhost - whether @r's Host names a bucket (virtual-host style:
 * BUCKET.s3.<anything>, BUCKET.s3-<region>.<anything>, BUCKET.localhost). */
bool s3_is_vhost(struct http_req *r);

/*
 * s3_on_headers - called from the server's headers hook for S3 requests:
 * authenticates, then either answers at once (an error, before the body is
 * read, which also refuses an "Expect: 100-continue" upload), or arranges for
 * the body to stream to a temporary file through r->on_body. Uses r->body_ud.
 */
void s3_on_headers(struct s3 *s, struct http_req *r);

/*
 * s3_handle - serve @r once its body has arrived (s3_on_headers must have run
 * for network requests; in-process requests with a buffered body need not call
 * it). Answers with http_respond*, possibly later from the store's writer
 * thread. Every response carries x-amz-request-id and x-amz-id-2.
 */
void s3_handle(struct s3 *s, struct http_req *r);

#endif
