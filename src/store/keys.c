/* keys.c - see keys.h. */
#include "keys.h"

#include <openssl/sha.h>

#include "num.h"

static enum err_code too_large(struct err *e)
{
    return err_set(e, ERR_TOO_LARGE, "key encoding exceeds the buffer limit");
}

enum err_code keys_append_table(struct buf *out, uint64_t table_id)
{
    unsigned char b[8];

    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(table_id >> (56 - 8 * i));
    return buf_append(out, b, sizeof(b));
}

/* append_delimited - escape 0x00 as 0x00 0xFF and end with 0x00 0x00, so the
 * encoding of a value never is a prefix of another's and memcmp order of the
 * encodings is the byte order of the values. */
static enum err_code append_delimited(struct buf *out, const unsigned char *p, size_t len)
{
    static const unsigned char esc[2] = {0x00, 0xFF};
    static const unsigned char end[2] = {0x00, 0x00};
    size_t run = 0;

    if (len == 0)
        return buf_append(out, end, sizeof(end));
    for (size_t i = 0; i < len; i++) {
        if (p[i] != 0x00)
            continue;
        if (buf_append(out, p + run, i - run) || buf_append(out, esc, sizeof(esc)))
            return ERR_TOO_LARGE;
        run = i + 1;
    }
    if (buf_append(out, p + run, len - run) || buf_append(out, end, sizeof(end)))
        return ERR_TOO_LARGE;
    return ERR_OK;
}

/* Whether @p escapes to more than KEYS_PK_INLINE bytes. */
static bool partition_too_long(const unsigned char *p, size_t len)
{
    size_t n = 2;

    for (size_t i = 0; i < len && n <= KEYS_PK_INLINE; i++)
        n += p[i] ? 1 : 2;
    return n > KEYS_PK_INLINE;
}

/* append_partition - a partition key needs only to be unique and prefix-free
 * (partitions have no order), so a long one becomes its first
 * KEYS_PK_HEAD bytes, the marker 0x00 0x01 (which no short encoding holds
 * where its terminator 0x00 0x00 would be) and its SHA-256. */
static enum err_code append_partition(struct buf *out, const unsigned char *p, size_t len)
{
    static const unsigned char mark[2] = {0x00, 0x01};
    unsigned char md[SHA256_DIGEST_LENGTH];

    if (!partition_too_long(p, len))
        return append_delimited(out, p, len);
    if (append_delimited(out, p, KEYS_PK_HEAD))
        return ERR_TOO_LARGE;
    out->len -= 2; /* drop the terminator: the marker and hash end it instead */
    SHA256(p, len, md);
    if (buf_append(out, mark, sizeof(mark)) || buf_append(out, md, sizeof(md)))
        return ERR_TOO_LARGE;
    return ERR_OK;
}

/* append_sort - a sort key keeps byte order; one longer than KEYS_SK_INLINE
 * keeps its first KEYS_SK_HEAD bytes (so order holds up to there) followed by
 * its SHA-256 to stay unique. Items whose sort keys share those first bytes
 * are then ordered by hash: callers compare the stored values when exact order
 * among them matters. */
static enum err_code append_sort(struct buf *out, const unsigned char *p, size_t len)
{
    unsigned char md[SHA256_DIGEST_LENGTH];

    if (len <= KEYS_SK_INLINE)
        return buf_append(out, p, len);
    SHA256(p, len, md);
    if (buf_append(out, p, KEYS_SK_HEAD) || buf_append(out, md, sizeof(md)))
        return ERR_TOO_LARGE;
    return ERR_OK;
}

enum err_code keys_append(struct buf *out, enum keys_type t, const void *val, size_t len,
                          bool delimited, struct err *e)
{
    struct num n;
    enum err_code rc;

    switch (t) {
    case KEYS_N:
        /* num_encode_key is self-delimiting, so it serves both positions. */
        rc = num_parse(val, len, &n, e);
        if (rc)
            return rc;
        if (num_encode_key(&n, out))
            return too_large(e);
        return ERR_OK;
    case KEYS_S:
    case KEYS_B:
        if (delimited)
            rc = append_partition(out, val, len);
        else
            rc = append_sort(out, val, len);
        if (rc)
            return too_large(e);
        return ERR_OK;
    }
    return err_set(e, ERR_INTERNAL, "unknown key type %d", (int)t);
}
