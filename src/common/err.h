/* err.h - the one error type every layer returns.
 *
 * Lower layers return an enum err_code and describe the failure in a
 * struct err; the API layers (ddb/api.c, later s3/api.c) turn the code into
 * the service's own error shape. */
#ifndef TANDEM_ERR_H
#define TANDEM_ERR_H

enum err_code {
    ERR_OK = 0,
    ERR_INVALID,   /* malformed input          -> 400 */
    ERR_DENIED,    /* signature or policy      -> 403 */
    ERR_NOTFOUND,  /*                          -> 404 */
    ERR_CONFLICT,  /* condition check failed   -> 400/409/412 */
    ERR_TOO_LARGE, /*                          -> 413 */
    ERR_IN_USE,    /* resource busy or exists  -> 400 ResourceInUse */
    ERR_LIMIT,     /* a service limit reached  -> 400 LimitExceeded */
    ERR_IO,        /* disk, LMDB, network      -> 500/503 */
    ERR_INTERNAL,  /* our bug                  -> 500 */
};

struct err {
    enum err_code code;
    char msg[256];
};

/*
 * err_set - fill @e (may be NULL) and return @code, so callers write
 * `return err_set(e, ERR_INVALID, "bad %s", what);`.
 */
enum err_code err_set(struct err *e, enum err_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* err_name - a stable lower-case name for @code, for logs. */
const char *err_name(enum err_code code);

#endif
