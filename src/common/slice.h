/* slice.h - a borrowed run of bytes. */
#ifndef TANDEM_SLICE_H
#define TANDEM_SLICE_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct slice {
    const void *ptr;
    size_t len;
};

/* SLICE("literal") - a slice over a string literal, without its NUL. */
#define SLICE(lit) ((struct slice){(lit), sizeof(lit) - 1})

static inline struct slice slice_str(const char *s)
{
    return (struct slice){s, s ? strlen(s) : 0};
}

static inline struct slice slice_of(const void *p, size_t n)
{
    return (struct slice){p, n};
}

static inline bool slice_eq(struct slice a, struct slice b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

#endif
