/* mem.h - allocation that never returns NULL.
 *
 * Like Redis's zmalloc and h2o's allocator: on exhaustion these log and
 * abort, so error paths only ever handle real failures (input, disk, peers). */
#ifndef TANDEM_MEM_H
#define TANDEM_MEM_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
void *xmemdup(const void *p, size_t n);

#endif
