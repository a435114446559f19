/* s3_form.h - a streaming multipart/form-data parser for POST Object (a
 * browser's form upload, post.c).
 *
 * The body arrives in pieces of any size (s3_form_feed). The fields before
 * the file (at most S3_FORM_FIELDS of them, their names lower-cased, the
 * first of a name kept, S3_FORM_PREDATA bytes in all) are buffered and
 * parsed; when the part named "file" begins, @start runs once with every
 * field before it known, then the file's bytes go to @data as they arrive,
 * never buffered beyond the few bytes that might begin the closing
 * delimiter. Whatever follows the file is ignored, as S3 does. Everything
 * is allocated in the arena given to s3_form_init and freed with it. */
#ifndef TANDEM_S3_FORM_H
#define TANDEM_S3_FORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "buf.h"
#include "err.h"

enum { S3_FORM_FIELDS = 64, S3_FORM_PREDATA = 1 << 20 };

struct s3_form_field {
    char *name;           /* lower-case */
    const char *value;    /* NUL-terminated; @len bytes */
    size_t len;           /* the file's: 0 */
    const char *filename; /* the file's part only, or NULL */
};

/* the file begins (@f's fields are all known): false stops the parse */
typedef bool s3_form_start_fn(void *ud);
/* the file's next @n bytes: anything but ERR_OK stops the parse */
typedef enum err_code s3_form_data_fn(void *ud, const void *p, size_t n);

enum s3_form_state {
    S3_FORM_PREAMBLE,  /* before the first delimiter */
    S3_FORM_DELIM,     /* after a delimiter: "\r\n" or the closing "--" */
    S3_FORM_HEADERS,   /* a part's headers */
    S3_FORM_VALUE,     /* a field's value */
    S3_FORM_FILE,      /* the file's bytes, streamed */
    S3_FORM_DONE,      /* the file ended: the rest is ignored */
    S3_FORM_END,       /* the closing delimiter came before any file */
    S3_FORM_BAD,       /* not well-formed (or more than S3_FORM_FIELDS fields): stopped */
    S3_FORM_TOO_LARGE, /* more than S3_FORM_PREDATA bytes before the file: stopped */
    S3_FORM_STOPPED,   /* a callback stopped it */
};

struct s3_form {
    struct arena *arena;
    enum s3_form_state state;
    struct s3_form_field f[S3_FORM_FIELDS];
    size_t n;
    const struct s3_form_field *file; /* once the file began */
    uint64_t file_len;                /* the file's bytes so far */
    char *delim;                      /* "\r\n--BOUNDARY" */
    size_t dl;
    struct buf pre;           /* the bytes before the file, parsed from @pos */
    size_t pos;               /* where the parse stands in @pre */
    size_t vstart;            /* S3_FORM_VALUE: where its value begins in @pre */
    size_t scan;              /* where the next search in @pre may begin */
    struct s3_form_field cur; /* the part whose headers were read */
    char hold[256];           /* the file's last bytes, which may begin the delimiter */
    size_t hl;
    s3_form_start_fn *start;
    s3_form_data_fn *data;
    void *ud;
};

/* s3_form_init - @f (not yet used: its buffer is freed with @a) made a parser
 * for a body of Content-Type @ctype; false when it names no usable boundary
 * (1 to 200 characters). */
bool s3_form_init(struct s3_form *f, struct arena *a, const char *ctype, s3_form_start_fn *start,
                  s3_form_data_fn *data, void *ud);
/* s3_form_feed - the body's next @n bytes; false once the parse stopped
 * (BAD or STOPPED; later bytes are ignored) */
bool s3_form_feed(struct s3_form *f, const void *p, size_t n);
/* s3_form_get - the field named @lname (lower-case), or NULL */
const struct s3_form_field *s3_form_get(const struct s3_form *f, const char *lname);
const char *s3_form_str(const struct s3_form *f, const char *lname);

#endif
