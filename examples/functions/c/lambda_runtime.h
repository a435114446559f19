/* lambda_runtime.h - a minimal client of the Lambda Runtime API for C
 * functions (provided.al2023 / provided.al2 runtimes), standard C and POSIX
 * sockets only. A function's bootstrap does:
 *
 *   int main(void) { return lr_run(handler, NULL); }
 *
 * where handler gets the event (JSON text) and fills a response (JSON text).
 * Works with Tandem and with AWS Lambda (AWS_LAMBDA_RUNTIME_API). */
#ifndef LAMBDA_RUNTIME_H
#define LAMBDA_RUNTIME_H

#include <stddef.h>

struct lr_invocation {
    const char *request_id;   /* Lambda-Runtime-Aws-Request-Id */
    const char *function_arn; /* Lambda-Runtime-Invoked-Function-Arn */
    long long deadline_ms;    /* Lambda-Runtime-Deadline-Ms */
    const char *event;        /* the payload, NUL-terminated */
    size_t event_len;
};

/* A handler returns 0 and sets *response (malloc'd, freed by the library) to
 * JSON text; or returns non-zero and sets *response to an error message. */
typedef int lr_handler_fn(const struct lr_invocation *inv, char **response, void *ud);

/* lr_run - serve invocations forever; returns non-zero only when the Runtime
 * API cannot be reached. */
int lr_run(lr_handler_fn *handler, void *ud);

#endif
