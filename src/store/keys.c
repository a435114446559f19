/* keys.c - see keys.h. */
#include "keys.h"

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
            rc = append_delimited(out, val, len);
        else
            rc = buf_append(out, val, len);
        if (rc)
            return too_large(e);
        return ERR_OK;
    }
    return err_set(e, ERR_INTERNAL, "unknown key type %d", (int)t);
}
