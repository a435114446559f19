/* arena.c - see arena.h. Blocks grow geometrically; big requests get their own block. */
#include "arena.h"

#include <stdarg.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

struct block {
    struct block *next;
    size_t used, cap;
    alignas(max_align_t) char data[];
};

struct cleanup {
    struct cleanup *next;
    arena_free_fn *fn;
    void *ptr;
};

struct arena {
    struct block *head;
    struct cleanup *cleanups;
    size_t next_cap;
};

enum { ARENA_FIRST = 4096, ARENA_MAX_BLOCK = 1 << 20 };

struct arena *arena_new(void)
{
    struct arena *a = xcalloc(1, sizeof(*a));
    a->next_cap = ARENA_FIRST;
    return a;
}

void arena_free(struct arena *a)
{
    if (!a)
        return;
    while (a->cleanups) {
        struct cleanup *c = a->cleanups;
        a->cleanups = c->next;
        c->fn(c->ptr);
    }
    while (a->head) {
        struct block *b = a->head;
        a->head = b->next;
        free(b);
    }
    free(a);
}

void *arena_alloc(struct arena *a, size_t n)
{
    const size_t align = alignof(max_align_t);
    struct block *b = a->head;

    n = (n + align - 1) & ~(align - 1);
    if (!b || b->cap - b->used < n) {
        size_t cap = a->next_cap;
        if (cap < n)
            cap = n;
        b = xmalloc(sizeof(*b) + cap);
        b->used = 0;
        b->cap = cap;
        b->next = a->head;
        a->head = b;
        if (a->next_cap < ARENA_MAX_BLOCK)
            a->next_cap *= 2;
    }
    void *p = b->data + b->used;
    b->used += n;
    return p;
}

void *arena_calloc(struct arena *a, size_t n)
{
    void *p = arena_alloc(a, n);
    memset(p, 0, n);
    return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
    return arena_memdup(a, s, strlen(s) + 1);
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void *arena_memdup(struct arena *a, const void *p, size_t n)
{
    void *q = arena_alloc(a, n);
    if (n)
        memcpy(q, p, n);
    return q;
}

char *arena_sprintf(struct arena *a, const char *fmt, ...)
{
    va_list ap;
    int n;
    char *p;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    p = arena_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void arena_on_free(struct arena *a, arena_free_fn *fn, void *ptr)
{
    struct cleanup *c = arena_alloc(a, sizeof(*c));
    c->fn = fn;
    c->ptr = ptr;
    c->next = a->cleanups;
    a->cleanups = c;
}
