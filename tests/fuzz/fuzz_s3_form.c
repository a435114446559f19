/* fuzz_s3_form.c - multipart/form-data bodies (POST Object) through the
 * streaming form parser, fed in pieces whose sizes come from the input and
 * again in one piece: both parses must end alike, with the same fields and
 * the same file bytes, whatever the splits. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "s3_form.h"

struct seen {
    uint64_t sum, n; /* of the file's bytes */
    bool started;
};

static bool on_start(void *ud)
{
    ((struct seen *)ud)->started = true;
    return true;
}

static enum err_code on_data(void *ud, const void *p, size_t n)
{
    struct seen *s = ud;
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        s->sum = s->sum * 131 + b[i] + 1;
    s->n += n;
    return ERR_OK;
}

static void parse(const uint8_t *data, size_t size, size_t step, struct arena *a, struct s3_form *f,
                  struct seen *s)
{
    size_t off = 0;

    memset(s, 0, sizeof(*s));
    if (!s3_form_init(f, a, "multipart/form-data; boundary=\"b0und\"", on_start, on_data, s))
        __builtin_trap();
    while (off < size) {
        size_t n = size - off < step ? size - off : step;
        if (!s3_form_feed(f, data + off, n))
            break;
        off += n;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena *a = arena_new();
    struct s3_form *one = arena_calloc(a, sizeof(*one)), *many = arena_calloc(a, sizeof(*many));
    struct seen s1, s2;
    size_t step;

    if (size < 1) {
        arena_free(a);
        return 0;
    }
    step = (size_t)(data[0] % 23) + 1;
    parse(data + 1, size - 1, size, a, one, &s1);
    parse(data + 1, size - 1, step, a, many, &s2);
    if (one->state != many->state || one->n != many->n || s1.started != s2.started ||
        s1.n != s2.n || s1.sum != s2.sum || one->file_len != s1.n)
        __builtin_trap();
    for (size_t i = 0; i < one->n; i++)
        if (strcmp(one->f[i].name, many->f[i].name) != 0 || one->f[i].len != many->f[i].len ||
            memcmp(one->f[i].value, many->f[i].value, one->f[i].len) != 0)
            __builtin_trap();
    arena_free(a);
    return 0;
}
