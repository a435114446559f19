/* form.c - the streaming multipart/form-data parser of POST Object (see
 * s3_form.h). The fields before the file are buffered in @pre and parsed as
 * their parts complete; the file's bytes are passed on as they arrive, less
 * the last few that might begin "\r\n--BOUNDARY", which wait in @hold for
 * the next piece. */
#include <string.h>
#include <strings.h>

#include "s3_form.h"

static const char *mem_find(const char *h, size_t hl, const char *n, size_t nl)
{
    return nl > hl ? NULL : memmem(h, hl, n, nl);
}

/* the quoted (or bare) parameter @p of a header line, arena */
static char *disp_param(struct arena *a, const char *line, size_t len, const char *p)
{
    size_t pl = strlen(p);
    for (size_t i = 0; i + pl + 1 < len; i++) {
        const char *s = line + i, *e;
        if ((i && line[i - 1] != ';' && line[i - 1] != ' ') || strncasecmp(s, p, pl) != 0 ||
            s[pl] != '=')
            continue;
        s += pl + 1;
        if (*s == '"') {
            e = memchr(s + 1, '"', (size_t)(line + len - s - 1));
            if (!e)
                return NULL;
            return arena_strndup(a, s + 1, (size_t)(e - s - 1));
        }
        for (e = s; e < line + len && *e != ';'; e++)
            ;
        return arena_strndup(a, s, (size_t)(e - s));
    }
    return NULL;
}

static void pre_free(void *p)
{
    buf_free(p);
}

bool s3_form_init(struct s3_form *f, struct arena *a, const char *ctype, s3_form_start_fn *start,
                  s3_form_data_fn *data, void *ud)
{
    const char *b = ctype ? strcasestr(ctype, "boundary=") : NULL;
    char *bnd;

    memset(f, 0, sizeof(*f));
    f->arena = a;
    f->start = start;
    f->data = data;
    f->ud = ud;
    f->state = S3_FORM_BAD;
    buf_init(&f->pre, S3_FORM_PREDATA);
    arena_on_free(a, pre_free, &f->pre);
    bnd = b ? disp_param(a, b, strlen(b), "boundary") : NULL;
    if (!bnd || !*bnd || strlen(bnd) > 200)
        return false;
    f->delim = arena_sprintf(a, "\r\n--%s", bnd);
    f->dl = strlen(f->delim);
    f->state = S3_FORM_PREAMBLE;
    return true;
}

const struct s3_form_field *s3_form_get(const struct s3_form *f, const char *lname)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->f[i].name, lname) == 0)
            return &f->f[i];
    return NULL;
}

const char *s3_form_str(const struct s3_form *f, const char *lname)
{
    const struct s3_form_field *x = s3_form_get(f, lname);
    return x ? x->value : NULL;
}

static bool stop(struct s3_form *f, enum s3_form_state s)
{
    f->state = s;
    return false;
}

/* @n of the file's bytes go on */
static bool pass(struct s3_form *f, const char *p, size_t n)
{
    f->file_len += n;
    if (n && f->data(f->ud, p, n) != ERR_OK)
        return stop(f, S3_FORM_STOPPED);
    return true;
}

/* the file ends at @hit in @p: the bytes before it are its last */
static bool file_end(struct s3_form *f, const char *p, const char *hit)
{
    if (!pass(f, p, (size_t)(hit - p)))
        return false;
    f->hl = 0;
    f->state = S3_FORM_DONE;
    return true;
}

/* all but the last @keep of @n bytes go on; those wait in @hold */
static bool pass_keep(struct s3_form *f, const char *p, size_t n, size_t keep)
{
    if (!pass(f, p, n - keep))
        return false;
    memmove(f->hold, p + n - keep, keep);
    f->hl = keep;
    return true;
}

/* the file's bytes: all but those that may begin the delimiter go on */
static bool file_bytes(struct s3_form *f, const char *p, size_t n)
{
    const char *hit;
    size_t L = f->dl;

    if (f->hl) {
        /* the held bytes and the start of this piece: the delimiter may straddle */
        char joint[512];
        size_t take = n < L - 1 ? n : L - 1, jl = f->hl + take;
        memcpy(joint, f->hold, f->hl);
        memcpy(joint + f->hl, p, take);
        if ((hit = mem_find(joint, jl, f->delim, L)))
            return file_end(f, joint, hit);
        if (take < L - 1) /* a short piece: the last L - 1 bytes stay held */
            return pass_keep(f, joint, jl, jl < L - 1 ? jl : L - 1);
        /* no delimiter begins in the held bytes: they are the file's */
        if (!pass(f, f->hold, f->hl))
            return false;
        f->hl = 0;
    }
    if ((hit = mem_find(p, n, f->delim, L)))
        return file_end(f, p, hit);
    return pass_keep(f, p, n, n < L - 1 ? n : L - 1);
}

/* a part's headers, @hs .. @he: its name (lower-cased) and filename */
static bool part_headers(struct s3_form *f, const char *hs, const char *he)
{
    struct s3_form_field *c = &f->cur;

    memset(c, 0, sizeof(*c));
    for (const char *l = hs; l < he;) {
        const char *le = mem_find(l, (size_t)(he - l), "\r\n", 2);
        size_t ll = le ? (size_t)(le - l) : (size_t)(he - l);
        if (ll > 20 && strncasecmp(l, "content-disposition:", 20) == 0) {
            c->name = disp_param(f->arena, l + 20, ll - 20, "name");
            c->filename = disp_param(f->arena, l + 20, ll - 20, "filename");
        }
        l += ll + 2;
    }
    if (!c->name)
        return false;
    for (char *x = c->name; *x; x++)
        *x = (char)(*x >= 'A' && *x <= 'Z' ? *x + 32 : *x);
    return true;
}

/* a finished part into the fields (the first of a name counts) */
static bool add_field(struct s3_form *f)
{
    if (s3_form_get(f, f->cur.name))
        return true;
    if (f->n == S3_FORM_FIELDS)
        return false;
    f->f[f->n++] = f->cur;
    return true;
}

/* @nl bytes of @n in @pre from @from on; where a later search may resume
 * (past what cannot begin a match) is kept, so bytes arriving a few at a
 * time are not scanned again and again */
static const char *pre_find(struct s3_form *f, size_t from, const char *n, size_t nl)
{
    size_t at = f->scan > from ? f->scan : from;
    const char *hit = mem_find(f->pre.ptr + at, f->pre.len - at, n, nl);

    if (hit)
        f->scan = 0;
    else if (f->pre.len >= at + nl)
        f->scan = f->pre.len - nl + 1;
    else
        f->scan = at;
    return hit;
}

/* parse what @pre holds; the file's first bytes go on from there */
static bool parse_pre(struct s3_form *f)
{
    for (;;) {
        const char *p = f->pre.ptr + f->pos, *hit;
        size_t left = f->pre.len - f->pos;
        switch (f->state) {
        case S3_FORM_PREAMBLE: /* the first delimiter may open the body: no CRLF */
            hit = pre_find(f, f->pos, f->delim + 2, f->dl - 2);
            if (!hit)
                return true;
            f->pos += (size_t)(hit - p) + f->dl - 2;
            f->state = S3_FORM_DELIM;
            break;
        case S3_FORM_DELIM:
            if (left < 2)
                return true;
            if (p[0] == '-' && p[1] == '-') {
                f->state = S3_FORM_END;
                return true;
            }
            if (p[0] != '\r' || p[1] != '\n')
                return stop(f, S3_FORM_BAD);
            f->pos += 2;
            f->state = S3_FORM_HEADERS;
            break;
        case S3_FORM_HEADERS:
            hit = pre_find(f, f->pos, "\r\n\r\n", 4);
            if (!hit)
                return true;
            if (!part_headers(f, p, hit))
                return stop(f, S3_FORM_BAD);
            f->pos += (size_t)(hit - p) + 4;
            if (strcmp(f->cur.name, "file") == 0) {
                f->cur.value = "";
                if (!add_field(f))
                    return stop(f, S3_FORM_BAD);
                f->file = s3_form_get(f, "file");
                f->state = S3_FORM_FILE;
                if (!f->start(f->ud))
                    return stop(f, S3_FORM_STOPPED);
                return file_bytes(f, f->pre.ptr + f->pos, f->pre.len - f->pos);
            }
            f->vstart = f->pos;
            f->state = S3_FORM_VALUE;
            break;
        case S3_FORM_VALUE:
            hit = pre_find(f, f->vstart, f->delim, f->dl);
            if (!hit)
                return true;
            f->cur.len = (size_t)(hit - (f->pre.ptr + f->vstart));
            f->cur.value = arena_strndup(f->arena, f->pre.ptr + f->vstart, f->cur.len);
            if (!add_field(f))
                return stop(f, S3_FORM_BAD);
            f->pos = (size_t)(hit - f->pre.ptr) + f->dl;
            f->state = S3_FORM_DELIM;
            break;
        default:
            return true;
        }
    }
}

bool s3_form_feed(struct s3_form *f, const void *p, size_t n)
{
    switch (f->state) {
    case S3_FORM_FILE:
        return file_bytes(f, p, n);
    case S3_FORM_DONE:
    case S3_FORM_END:
        return true;
    case S3_FORM_BAD:
    case S3_FORM_TOO_LARGE:
    case S3_FORM_STOPPED:
        return false;
    default:
        break;
    }
    /* in slices, so that a body given whole (or in large pieces) passes its
     * file on as soon as it begins instead of buffering past the limit */
    while (n) {
        size_t room = S3_FORM_PREDATA - f->pre.len, take = n < 65536 ? n : 65536;
        if (take > room)
            take = room;
        if (!take || buf_append(&f->pre, p, take) != ERR_OK)
            return stop(f, S3_FORM_TOO_LARGE);
        p = (const char *)p + take;
        n -= take;
        if (!parse_pre(f))
            return false;
        if (f->state == S3_FORM_FILE || f->state == S3_FORM_DONE) {
            buf_free(&f->pre); /* the fields were copied out */
            f->pos = 0;
            return f->state == S3_FORM_FILE ? file_bytes(f, p, n) : f->state != S3_FORM_STOPPED;
        }
        if (f->state != S3_FORM_PREAMBLE && f->state != S3_FORM_DELIM &&
            f->state != S3_FORM_HEADERS && f->state != S3_FORM_VALUE)
            return true;
    }
    return true;
}
