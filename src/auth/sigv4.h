/* sigv4.h - verify and create AWS Signature Version 4 signatures.
 *
 * Pure functions over a parsed request: no I/O and no globals but a cache of
 * derived signing keys (the time is a parameter), so every published AWS test
 * vector runs as a unit test.
 * Covers the Authorization-header form and the presigned query form
 * (X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=...). The caller maps
 * a failure to its service's own error shape (DynamoDB:
 * UnrecognizedClientException, InvalidSignatureException, ...; S3:
 * InvalidAccessKeyId, SignatureDoesNotMatch, ...). */
#ifndef TANDEM_SIGV4_H
#define TANDEM_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "creds.h"

struct sigv4_header {
    const char *name;  /* lower-case */
    const char *value; /* as received */
};

struct sigv4_request {
    const char *method;                 /* "GET" */
    const char *path;                   /* raw path as sent, still percent-encoded, e.g. "/a%20b" */
    const char *query;                  /* raw query without '?'; "" when none */
    const struct sigv4_header *headers; /* every header received, names lower-case */
    size_t nheaders;
    const void *body; /* the whole body when buffered (hashing), else NULL */
    size_t body_len;
    /* S3's rules: the path is neither normalized nor double-encoded, and the
     * access key is looked up before the credential scope's date is compared
     * (S3 answers an unknown key InvalidAccessKeyId whatever date its scope
     * names; DynamoDB, IAM and STS refuse the scope first) */
    bool s3_paths;
};

enum sigv4_fail {
    SIGV4_OK = 0,
    SIGV4_MISSING,       /* no Authorization header and no presigned query */
    SIGV4_INCOMPLETE,    /* malformed Authorization/query: a part or the date missing or garbled */
    SIGV4_UNKNOWN_KEY,   /* access key not registered */
    SIGV4_BAD_SIGNATURE, /* signature does not match */
    SIGV4_BAD_DATE,      /* the credential scope's date is not one, or not the request's */
    SIGV4_SKEWED,        /* request time more than 15 minutes from now */
    SIGV4_EXPIRED,       /* presigned URL past X-Amz-Expires (or Expires over 7 days) */
    SIGV4_BAD_TOKEN,     /* session token missing, or not the key's token */
    SIGV4_TOKEN_EXPIRED, /* temporary credentials past their expiry */
    SIGV4_PAYLOAD_MISMATCH, /* x-amz-content-sha256 is a hash the body does not have */
    SIGV4_HOST_UNSIGNED,    /* "host" is not among the signed headers: DynamoDB answers
                             * InvalidSignatureException, IAM and STS SignatureDoesNotMatch,
                             * S3 AccessDenied (msg in each one's words) */
};

struct sigv4_result {
    enum sigv4_fail fail;
    char msg[1024];            /* a message in the style of AWS for the failure */
    struct creds_identity who; /* the signer, when the key was found */
    char region[32];           /* from the credential scope */
    char service[32];
    char scope_date[9]; /* YYYYMMDD */
    char amz_date[17];  /* YYYYMMDDTHHMMSSZ */
    char signature[65];
    unsigned char signing_key[32]; /* kSigning, to verify aws-chunked chunk signatures */
    char payload_hash[80]; /* what was signed: a hex hash, UNSIGNED-PAYLOAD, STREAMING-... */
    bool presigned;
    bool anonymous; /* fail == SIGV4_MISSING */
};

/*
 * sigv4_verify - check the signature of @r at time @now.
 *
 * The payload hash used is the x-amz-content-sha256 header when present
 * (a 64-hex value must equal the SHA-256 of @r->body when the body is given,
 * else SIGV4_PAYLOAD_MISMATCH), "UNSIGNED-PAYLOAD" for presigned S3 requests,
 * else the SHA-256 of @r->body. Session tokens (x-amz-security-token header or
 * X-Amz-Security-Token query) must match the key's token.
 * Returns true when the request is authentic; else false with @out->fail and
 * @out->msg set. Never allocates after returning; thread-safe.
 */
bool sigv4_verify(struct creds *c, const struct sigv4_request *r, time_t now,
                  struct sigv4_result *out);

/* sigv4_canonical_request / sigv4_string_to_sign - the intermediate strings
 * (owned, free()), exposed for the test vectors and for error messages. */
char *sigv4_canonical_request(const struct sigv4_request *r, const char *signed_headers,
                              const char *payload_hash);
char *sigv4_string_to_sign(const char *amz_date, const char *scope, const char *canonical_request);

/* sigv4_signing_key - kSigning for (secret, date, region, service).
 * Remembered in a bounded process-wide cache (64 entries, thread-safe) keyed
 * by all four strings, so a day's requests of one key derive it once; a
 * different secret or date never matches an old entry. */
void sigv4_signing_key(const char *secret, const char *date, const char *region,
                       const char *service, unsigned char out[32]);

/* sigv4_signing_key_cache_hits - how many sigv4_signing_key calls the cache
 * answered since the process started (tests, diagnostics). */
size_t sigv4_signing_key_cache_hits(void);

/*
 * sigv4_sign - sign an outgoing request (clients: benchmarks, replication,
 * the stack engine). @r->headers must already hold "host" and "x-amz-date"
 * (see sigv4_format_date) and every header to be signed; all of @r's headers
 * are signed. @payload_hash is the hex SHA-256 of the body or a literal such as
 * "UNSIGNED-PAYLOAD".
 * Writes the Authorization header value (NUL-terminated) into @auth (@cap bytes;
 * 1024 is always enough for up to 16 headers). Returns false if it does not fit.
 */
bool sigv4_sign(const struct sigv4_request *r, const char *access_key, const char *secret,
                const char *region, const char *service, const char *payload_hash, char *auth,
                size_t cap);

/* sigv4_format_date - @t as YYYYMMDDTHHMMSSZ into @out[17]. */
void sigv4_format_date(time_t t, char out[17]);

/* sigv4_sha256_hex - hex SHA-256 of @n bytes into @out[65]. */
void sigv4_sha256_hex(const void *p, size_t n, char out[65]);

#endif
