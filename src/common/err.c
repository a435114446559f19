/* err.c - see err.h. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum err_code err_set(struct err *e, enum err_code code, const char *fmt, ...)
{
    va_list ap;

    if (!e)
        return code;
    e->code = code;
    if (!strchr(fmt, '%')) {
        /* a fixed message (as "not found" on every miss): no printf */
        size_t n = strlen(fmt);

        if (n >= sizeof(e->msg))
            n = sizeof(e->msg) - 1;
        memcpy(e->msg, fmt, n);
        e->msg[n] = '\0';
        return code;
    }
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    return code;
}

const char *err_name(enum err_code code)
{
    static const char *const names[] = {
        [ERR_OK] = "ok",
        [ERR_INVALID] = "invalid",
        [ERR_DENIED] = "denied",
        [ERR_NOTFOUND] = "notfound",
        [ERR_CONFLICT] = "conflict",
        [ERR_TOO_LARGE] = "too_large",
        [ERR_IN_USE] = "in_use",
        [ERR_LIMIT] = "limit",
        [ERR_IO] = "io",
        [ERR_INTERNAL] = "internal",
    };
    if ((unsigned)code < sizeof(names) / sizeof(names[0]) && names[code])
        return names[code];
    return "unknown";
}
