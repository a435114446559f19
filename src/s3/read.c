/* read.c - s3_read_object: an in-process GET run as the region's root. */
#include "s3_read.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "http.h"
#include "mem.h"
#include "s3_int.h"

/* xml_text - the text of the first <TAG>...</TAG> in @body/@len into @out. */
static void xml_text(const char *body, size_t len, const char *tag, char *out, size_t cap)
{
    char open[32], close[32];
    const char *b, *e;
    char *copy;

    if (!cap)
        return;
    out[0] = '\0';
    if (!body || !len)
        return;
    copy = xmalloc(len + 1);
    memcpy(copy, body, len);
    copy[len] = '\0';
    snprintf(open, sizeof(open), "<%s>", tag);
    snprintf(close, sizeof(close), "</%s>", tag);
    b = strstr(copy, open);
    e = b ? strstr(b, close) : NULL;
    if (b && e) {
        b += strlen(open);
        snprintf(out, cap, "%.*s", (int)(e - b), b);
    }
    free(copy);
}

int s3_read_object(struct s3 *s, const char *bucket, const char *key, struct buf *out, char *code,
                   size_t code_cap, char *msg, size_t msg_cap)
{
    struct arena *a = arena_new();
    char *uri = arena_sprintf(a, "/%s/%s", url_encode(a, bucket, false), url_encode(a, key, true));
    struct http_req *r = http_req_new("GET", uri);
    const char *body = NULL;
    size_t len = 0;
    int st;

    s3_handle_internal(s, r);
    st = http_req_wait(r, &body, &len);
    if (st == 200) {
        buf_append(out, body, len);
    } else {
        xml_text(body, len, "Code", code, code_cap);
        xml_text(body, len, "Message", msg, msg_cap);
    }
    http_req_free(r);
    arena_free(a);
    return st;
}
