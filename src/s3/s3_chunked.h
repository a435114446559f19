/* s3_chunked.h - decode "Content-Encoding: aws-chunked" bodies as they stream in.
 *
 * The SDKs frame uploads as chunks: "HEX-SIZE[;chunk-signature=SIG]\r\nDATA\r\n",
 * a last chunk of size 0, then optional trailing headers (x-amz-checksum-*,
 * x-amz-trailer-signature) and an empty line. With
 * STREAMING-AWS4-HMAC-SHA256-PAYLOAD(-TRAILER) each chunk signature chains from
 * the request's seed signature and is verified with the request's SigV4 signing
 * key before the chunk's bytes are handed on. Memory is bounded: only one line
 * of framing is kept, never a chunk's data. */
#ifndef TANDEM_S3_CHUNKED_H
#define TANDEM_S3_CHUNKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/sha.h>

#include "err.h"

/* Receives decoded payload bytes in order; a non-OK return stops decoding. */
typedef enum err_code s3_chunked_sink_fn(void *ud, const void *data, size_t n, struct err *e);

enum s3_chunked_state { CH_HEADER, CH_DATA, CH_DATA_CR, CH_DATA_LF, CH_TRAILER, CH_DONE };

struct s3_chunked {
    enum s3_chunked_state state;
    bool signed_chunks;           /* chunk signatures required and verified */
    unsigned char key[32];        /* SigV4 kSigning */
    char amz_date[17], scope[96]; /* for the chunk string-to-sign */
    char prev_sig[65];            /* the seed signature, then each chunk's */
    char want_sig[65];            /* the current chunk's declared signature */
    uint64_t left;                /* bytes of the current chunk still to come */
    uint64_t total;               /* decoded bytes so far */
    SHA256_CTX chunk_hash;
    char line[512];
    size_t line_len;
    char trailer_name[64]; /* the x-amz-checksum-* trailer, lower-case, or "" */
    char trailer_value[128];
    char trailer_sig[65];   /* x-amz-trailer-signature, or "" */
    char trailer_text[256]; /* "name:value\n" lines, for the trailer signature */
    bool bad_signature;     /* the failure was a chunk signature (SignatureDoesNotMatch) */
};

/*
 * s3_chunked_init - start decoding. @signing_key/@amz_date/@scope/@seed are the
 * request's SigV4 values when @signed_chunks (else ignored; may be NULL).
 * @scope is "DATE/REGION/s3/aws4_request".
 */
void s3_chunked_init(struct s3_chunked *c, bool signed_chunks, const unsigned char *signing_key,
                     const char *amz_date, const char *scope, const char *seed);

/*
 * s3_chunked_feed - decode @n more bytes, calling @sink with payload bytes.
 * Returns ERR_OK; ERR_INVALID for bad framing or a chunk signature that does
 * not match (c->bad_signature set); or @sink's error.
 */
enum err_code s3_chunked_feed(struct s3_chunked *c, const void *data, size_t n,
                              s3_chunked_sink_fn *sink, void *ud, struct err *e);

/* s3_chunked_finish - the body ended: ERR_OK only if the last chunk and the
 * trailer section were complete (and the trailer signature, if any, matched). */
enum err_code s3_chunked_finish(struct s3_chunked *c, struct err *e);

#endif
