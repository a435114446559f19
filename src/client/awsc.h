/* awsc.h - a small signed client for AWS-style APIs (libcurl + SigV4).
 *
 * What the parts of Tandem that talk to regions use: replication between
 * regions, the stack engine, operator commands. Each call signs the request
 * like any AWS SDK would, so the other side authenticates it as any client.
 * Thread-safe: each thread keeps its own connection cache (keep-alive). */
#ifndef TANDEM_AWSC_H
#define TANDEM_AWSC_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "err.h"

struct awsc_creds {
    const char *access_key;
    const char *secret;
    const char *session_token; /* NULL for long-term keys */
};

struct awsc_header {
    const char *name;
    const char *value;
};

struct awsc_req {
    const char *method;                /* "GET", "POST", ... */
    const char *endpoint;              /* scheme://host:port, no trailing slash */
    const char *path;                  /* already percent-encoded, starts with '/' */
    const char *query;                 /* already encoded, without '?'; NULL or "" for none */
    const char *region;                /* for the credential scope */
    const char *service;               /* "dynamodb", "s3", ... */
    const struct awsc_header *headers; /* extra headers, signed too (names any case) */
    size_t nheaders;
    const void *body;
    size_t body_len;
    bool unsigned_payload; /* sign with UNSIGNED-PAYLOAD (S3) instead of the body's hash */
    long timeout_ms;       /* whole call; 0 = 30 s */
    const char *ca_file;   /* PEM bundle for HTTPS; NULL = $AWS_CA_BUNDLE or the system's */
    /* optional: the body of a 200 answer is handed over as it arrives
     * instead of kept in the response; false from it ends the call (ERR_IO) */
    bool (*on_data)(void *ud, const void *p, size_t n);
    void *data_ud;
};

struct awsc_resp {
    long status;                 /* HTTP status; 0 if no response */
    struct buf body;             /* owned, awsc_resp_free() */
    struct awsc_header *headers; /* owned; names lower-case */
    size_t nheaders;
};

/*
 * awsc_call - send @r signed with @c and wait for the whole response.
 * Returns ERR_OK whenever an HTTP response arrived (whatever its status:
 * look at @out->status); ERR_IO with a message when the peer could not be
 * reached or the call timed out. @out is always initialized (free it).
 */
enum err_code awsc_call(const struct awsc_creds *c, const struct awsc_req *r, struct awsc_resp *out,
                        struct err *e);

/* awsc_json - POST a JSON 1.0 request with X-Amz-Target @target (DynamoDB style). */
enum err_code awsc_json(const struct awsc_creds *c, const char *endpoint, const char *region,
                        const char *service, const char *target, const char *json,
                        struct awsc_resp *out, struct err *e);

/* awsc_resp_header - a response header by lower-case name, or NULL. */
const char *awsc_resp_header(const struct awsc_resp *r, const char *lname);

void awsc_resp_free(struct awsc_resp *r); /* NULL ok; leaves @r empty */

#endif
