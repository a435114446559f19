/* wire.h - DynamoDB's body encodings on the wire.
 *
 * Requests may arrive compressed ("Content-Encoding: gzip", which the AWS
 * SDKs send for large bodies when request compression is on); answers are
 * compressed with gzip or deflate when the client's Accept-Encoding asks for
 * one and the body is at least DDB_WIRE_MIN_COMPRESS bytes, as DynamoDB does.
 * Pure functions over buffers: no I/O, no globals. */
#ifndef TANDEM_DDB_WIRE_H
#define TANDEM_DDB_WIRE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "err.h"

enum ddb_wire_enc { DDB_WIRE_IDENTITY, DDB_WIRE_GZIP, DDB_WIRE_DEFLATE };

enum {
    DDB_WIRE_MIN_COMPRESS = 4096,         /* smaller answers go uncompressed */
    DDB_WIRE_MAX_BODY = 16 * 1024 * 1024, /* a decoded request body's limit */
};

/*
 * ddb_wire_accept - the encoding to answer in, for the value of an
 * Accept-Encoding header (NULL: none). gzip and deflate are known; "*" stands
 * for both; each entry's first q parameter is its weight (clamped to 0..1; a
 * value that is not a number counts as 1); weight 0 refuses. The heaviest
 * wins; on a tie an encoding named outright beats one that "*" covers, the
 * one named first beats the later, and under "*" gzip beats deflate.
 * "identity" and unknown encodings are ignored.
 */
enum ddb_wire_enc ddb_wire_accept(const char *accept);

/*
 * ddb_wire_decode - decode @body in place as its Content-Encoding @enc says
 * ("gzip", possibly several gzip members one after another, or "identity").
 * Returns ERR_OK; ERR_INVALID with a message in @e for an encoding other than
 * those or a body that is not valid gzip (@body unchanged); ERR_TOO_LARGE
 * when the decoded body would pass DDB_WIRE_MAX_BODY.
 */
enum err_code ddb_wire_decode(struct buf *body, const char *enc, struct err *e);

/*
 * ddb_wire_utf8_bad - the offset of the first byte of @p (length @n) that does
 * not belong to well-formed UTF-8 (RFC 3629: no overlong forms, surrogates or
 * code points past U+10FFFF), or @n when all of it is. JSON bodies must be
 * UTF-8; DynamoDB refuses others with SerializationException.
 */
size_t ddb_wire_utf8_bad(const char *p, size_t n);

/*
 * ddb_wire_encode - compress @body in place with @enc (not IDENTITY). Returns
 * false, leaving @body as it was, when the memory for it cannot be had.
 */
bool ddb_wire_encode(struct buf *body, enum ddb_wire_enc enc);

#endif
