/* keys.h - order-preserving encodings of DynamoDB key attributes.
 *
 * An item's storage key is: table id (8 bytes, big-endian), the partition
 * key encoded self-delimiting, then the sort key (if the table has one)
 * encoded so that memcmp order is DynamoDB's order: S and B by unsigned
 * bytes, N numerically. So all items of one partition are contiguous and in
 * sort-key order, which Query walks with a cursor. */
#ifndef TANDEM_KEYS_H
#define TANDEM_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

enum keys_type { KEYS_S, KEYS_N, KEYS_B };

/*
 * LMDB keys stop at 511 bytes, DynamoDB keys at 2048 + 1024. So a partition
 * key whose encoding passes KEYS_PK_INLINE bytes is stored as its first
 * KEYS_PK_HEAD bytes plus a SHA-256 (still unique, and all of a partition's
 * items stay contiguous), and a sort key longer than KEYS_SK_INLINE bytes as
 * its first KEYS_SK_HEAD bytes plus a SHA-256 (order holds for the first
 * KEYS_SK_HEAD bytes). Every key then fits: 8 + 200 + 300 < 511.
 */
enum {
    KEYS_PK_INLINE = 200,
    KEYS_PK_HEAD = 64,
    KEYS_SK_INLINE = 300,
    KEYS_SK_HEAD = KEYS_SK_INLINE - 32,
};

/* keys_append_table - append the 8-byte table prefix. */
enum err_code keys_append_table(struct buf *out, uint64_t table_id);

/*
 * keys_append - append one key attribute.
 *
 * @val, @len  S: the UTF-8 bytes; B: the raw bytes (already base64-decoded);
 *             N: the number's text as the client sent it (parsed and
 *             validated with num_parse; errors as num_parse).
 * @delimited  true for the partition key (the encoding must be followed by the
 *             sort key and stay unambiguous: 0x00 is escaped as 0x00 0xFF and
 *             the value ends with 0x00 0x00); false for the sort key, which is
 *             last (S and B then go in raw, so a begins_with prefix is a
 *             byte prefix of the encoding).
 */
enum err_code keys_append(struct buf *out, enum keys_type t, const void *val, size_t len,
                          bool delimited, struct err *e);

#endif
