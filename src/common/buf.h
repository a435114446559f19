/* buf.h - a growable byte buffer with a hard limit (curl's dynbuf idea).
 *
 * The contents are always NUL-terminated (the NUL is not counted in len), so
 * a buf holding text can be handed to string functions directly. */
#ifndef TANDEM_BUF_H
#define TANDEM_BUF_H

#include <stddef.h>

#include "err.h"

struct buf {
    char *ptr;    /* owned, free with buf_free(); NULL until first append */
    size_t len;   /* bytes in use */
    size_t cap;   /* bytes allocated */
    size_t limit; /* appends past this many bytes fail with ERR_TOO_LARGE; 0 = none */
};

/* buf_init - an empty buffer that refuses to grow past @limit bytes (0: no limit). */
void buf_init(struct buf *b, size_t limit);

/* buf_free - release the memory; @b may be reused after buf_init(). */
void buf_free(struct buf *b);

/* buf_reset - empty the buffer, keeping its memory. */
void buf_reset(struct buf *b);

/* buf_reserve - make room for @n more bytes without appending (one
 * allocation instead of several doublings); ERR_TOO_LARGE past the limit. */
enum err_code buf_reserve(struct buf *b, size_t n);

/* buf_append - append @n bytes. Returns ERR_OK or ERR_TOO_LARGE (nothing appended). */
enum err_code buf_append(struct buf *b, const void *p, size_t n);

/* buf_puts / buf_putc - append a string / one byte; ERR_TOO_LARGE as buf_append. */
enum err_code buf_puts(struct buf *b, const char *s);
enum err_code buf_putc(struct buf *b, char c);

/* buf_printf - append formatted text; ERR_TOO_LARGE as buf_append. */
enum err_code buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* buf_json_str - append @s (length @n) as a quoted JSON string with escapes. */
enum err_code buf_json_str(struct buf *b, const char *s, size_t n);

/* buf_detach - hand the memory to the caller (owned, free()); @b becomes empty. */
char *buf_detach(struct buf *b, size_t *len);

#endif
