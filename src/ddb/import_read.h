/* import_read.h - the reader ImportTable runs over each S3 object as its
 * body arrives (import.c): the pieces are decompressed as they come (GZIP
 * through zlib, members one after another; ZSTD through libzstd's streaming
 * API, frames one after another; or NONE) and cut into lines, each handed
 * to the caller as soon as it is complete. Only the unfinished line is kept
 * between pieces, so an object of any size needs memory of one line.
 *
 * A line longer than IMPORT_LINE_MAX is not kept: it is handed over as
 * (NULL, its length without a trailing '\r') once its end arrives; no item
 * is that long, so the caller counts it as a bad line. */
#ifndef TANDEM_IMPORT_READ_H
#define TANDEM_IMPORT_READ_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "buf.h"

enum { IMPORT_LINE_MAX = 16 << 20 };

/* import_line_fn - one line @line (@n bytes, without its '\n'); false stops
 * the reading. */
typedef bool (*import_line_fn)(void *arg, const char *line, size_t n);

struct import_reader {
    char comp; /* 0 (NONE), 'g' (GZIP) or 'z' (ZSTD) */
    import_line_fn fn;
    void *arg;
    void *z;              /* the decompressor (z_stream or ZSTD_DCtx) */
    unsigned char *chunk; /* decompressed bytes, a piece at a time */
    struct buf part;      /* the unfinished line */
    size_t over;          /* the unfinished line's length once past IMPORT_LINE_MAX */
    bool over_cr;         /* the over-long line's last byte was '\r' */
    uint64_t bytes;       /* decompressed bytes so far */
    bool any;             /* bytes arrived */
    bool ended;           /* GZIP: the last member is complete; ZSTD: the last frame */
    bool bad;             /* the compressed data is damaged */
    bool stopped;         /* the line function said stop */
};

/* import_reader_init - @comp: 0, 'g' or 'z'; @fn gets each line. */
void import_reader_init(struct import_reader *r, char comp, import_line_fn fn, void *arg);
/* import_reader_feed - the next @n bytes of the object. False when the
 * reading ends: @fn said stop (r->stopped) or the data is damaged (r->bad). */
bool import_reader_feed(struct import_reader *r, const void *p, size_t n);
/* import_reader_end - the object is complete: its last line (without a
 * '\n') goes to @fn. False when the compressed data was damaged or cut short
 * (the unfinished line is then dropped) or @fn said stop. */
bool import_reader_end(struct import_reader *r);
void import_reader_free(struct import_reader *r);

#endif
