/* import_read.c - the streamed reader of an imported object
 * (import_read.h): decompression and lines, a piece at a time. */
#include "import_read.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "mem.h"

enum { CHUNK = 65536 };

void import_reader_init(struct import_reader *r, char comp, import_line_fn fn, void *arg)
{
    memset(r, 0, sizeof(*r));
    r->comp = comp;
    r->fn = fn;
    r->arg = arg;
    buf_init(&r->part, 0);
    if (comp)
        r->chunk = xmalloc(CHUNK);
    if (comp == 'g') {
        z_stream *z = xcalloc(1, sizeof(*z));

        if (inflateInit2(z, 15 + 32) != Z_OK) { /* gzip or zlib headers */
            free(z);
            z = NULL;
        }
        r->z = z;
    } else if (comp == 'z') {
        r->z = ZSTD_createDCtx();
    }
    if (comp && !r->z)
        r->bad = true;
}

void import_reader_free(struct import_reader *r)
{
    if (r->comp == 'g' && r->z) {
        inflateEnd(r->z);
        free(r->z);
    } else if (r->comp == 'z') {
        ZSTD_freeDCtx(r->z);
    }
    r->z = NULL;
    free(r->chunk);
    r->chunk = NULL;
    buf_free(&r->part);
}

/* line_done - the line under way is complete: to the line function. */
static void line_done(struct import_reader *r, const char *p, size_t n)
{
    bool go;

    if (r->over) {
        go = r->fn(r->arg, NULL, r->over - (r->over_cr ? 1 : 0));
        r->over = 0;
    } else if (r->part.len) {
        go = r->fn(r->arg, r->part.ptr, r->part.len);
    } else {
        go = r->fn(r->arg, p, n);
    }
    if (r->part.cap > (1u << 20)) { /* a long line had it grow: give that back */
        buf_free(&r->part);
        buf_init(&r->part, 0);
    }
    buf_reset(&r->part);
    r->stopped = !go;
}

/* lines - plain bytes: each complete line to the line function, the rest kept. */
static void lines(struct import_reader *r, const char *p, size_t n)
{
    r->bytes += n;
    while (n && !r->stopped) {
        const char *nl = memchr(p, '\n', n);
        size_t take = nl ? (size_t)(nl - p) : n;

        if (r->over) {
            r->over += take;
        } else if (r->part.len + take > IMPORT_LINE_MAX) {
            r->over = r->part.len + take;
            buf_reset(&r->part);
        } else if (!nl || r->part.len) {
            buf_append(&r->part, p, take);
        }
        if (r->over && take)
            r->over_cr = p[take - 1] == '\r';
        if (!nl)
            return;
        line_done(r, p, take);
        p = nl + 1;
        n -= take + 1;
    }
}

static void gunzip(struct import_reader *r, const void *p, size_t n)
{
    z_stream *z = r->z;
    int rc;

    z->next_in = (unsigned char *)p;
    z->avail_in = (uInt)n;
    do {
        if (r->ended) { /* a member is complete: another may follow */
            if (!z->avail_in)
                break;
            inflateReset(z);
            r->ended = false;
        }
        z->next_out = r->chunk;
        z->avail_out = CHUNK;
        rc = inflate(z, Z_NO_FLUSH);
        if (rc == Z_STREAM_END) {
            r->ended = true;
        } else if (rc != Z_OK && (rc != Z_BUF_ERROR || z->avail_in)) {
            r->bad = true;
            return;
        }
        lines(r, (const char *)r->chunk, CHUNK - z->avail_out);
        if (rc == Z_BUF_ERROR)
            break;
    } while (!r->stopped && (z->avail_in > 0 || z->avail_out == 0));
}

static void unzstd(struct import_reader *r, const void *p, size_t n)
{
    ZSTD_inBuffer ib = {p, n, 0};

    while (!r->stopped) {
        ZSTD_outBuffer ob = {r->chunk, CHUNK, 0};
        size_t rc = ZSTD_decompressStream(r->z, &ob, &ib);

        if (ZSTD_isError(rc)) {
            r->bad = true;
            return;
        }
        r->ended = rc == 0; /* a frame complete and all of it handed out */
        lines(r, (const char *)r->chunk, ob.pos);
        if (ob.pos < ob.size && ib.pos == ib.size)
            break;
    }
}

bool import_reader_feed(struct import_reader *r, const void *p, size_t n)
{
    if (r->bad || r->stopped)
        return false;
    if (!n)
        return true;
    r->any = true;
    if (r->comp == 'g')
        gunzip(r, p, n);
    else if (r->comp == 'z')
        unzstd(r, p, n);
    else
        lines(r, p, n);
    return !r->bad && !r->stopped;
}

bool import_reader_end(struct import_reader *r)
{
    if (!r->bad && !r->stopped && r->comp && r->any && !r->ended)
        r->bad = true; /* cut short */
    if (r->bad || r->stopped)
        return false;
    if (r->part.len || r->over)
        line_done(r, r->part.ptr, r->part.len);
    return !r->stopped;
}
