/* arena.h - memory that lives until a request completes.
 *
 * Each request gets one arena (req->arena) for parsed headers, decoded JSON,
 * canonical strings and the response body; it is freed once, like h2o's
 * req->pool. Objects owned by other libraries (cJSON trees) are released
 * with it through arena_on_free(). Not thread-safe: one thread at a time. */
#ifndef TANDEM_ARENA_H
#define TANDEM_ARENA_H

#include <stddef.h>

struct arena;

typedef void arena_free_fn(void *ptr);

/* arena_new - an empty arena (owned, arena_free()). Never NULL. */
struct arena *arena_new(void);

/* arena_free - run the registered destructors (last first), release all memory. NULL ok. */
void arena_free(struct arena *a);

/* arena_alloc / arena_calloc - @n bytes aligned for any type, arena-owned. Never NULL. */
void *arena_alloc(struct arena *a, size_t n);
void *arena_calloc(struct arena *a, size_t n);

/* arena_strdup / arena_strndup / arena_memdup - copies in the arena (strings NUL-terminated). */
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
void *arena_memdup(struct arena *a, const void *p, size_t n);

/* arena_sprintf - formatted string in the arena. */
char *arena_sprintf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* arena_on_free - call @fn(@ptr) when the arena is freed (the arena takes @ptr). */
void arena_on_free(struct arena *a, arena_free_fn *fn, void *ptr);

#endif
