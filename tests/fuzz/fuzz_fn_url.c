/* fuzz_fn_url.c - arbitrary bytes through the function-URL conversions and
 * the Runtime API's request parsing: the input is split at NUL bytes into a
 * method, a path, header lines ("name: value"), and the rest is the body.
 * The same bytes are also mapped as a function's result. It must never crash,
 * leak or read out of bounds. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fn.h"
#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1), *parts[8] = {0}, *p, id[64];
    const char *raw = NULL;
    struct http_req *r;
    struct err e = {0};
    struct buf out;
    size_t n = 0, used = 0, i;
    char *ev;

    memcpy(s, data, size);
    s[size] = '\0';
    for (p = s; n < 7 && used < size; n++) {
        size_t len = strlen(p);
        parts[n] = p;
        used += len + 1;
        p += len + 1;
    }
    fn_rapi_parse(parts[0] ? parts[0] : "", parts[1] ? parts[1] : "", id, sizeof(id));
    r = http_req_new(parts[0] && *parts[0] ? parts[0] : "GET",
                     parts[1] && *parts[1] ? parts[1] : "/");
    for (i = 2; i < 6 && parts[i]; i++) {
        char *colon = strchr(parts[i], ':');
        if (colon) {
            *colon = '\0';
            http_req_add_header(r, parts[i], colon + 1);
        }
    }
    if (used < size)
        buf_append(&r->body, data + used, size - used);
    if (!fn_url_match(r, id, sizeof(id), &raw))
        raw = "/";
    ev = fn_url_event(r, "fuzz", raw, "123456789012", &e);
    free(ev);
    http_respond(r, fn_url_result(r, (const char *)data, size, &out), out.ptr, out.len);
    buf_free(&out);
    http_req_free(r);
    free(s);
    return 0;
}
