/* hello.c - the trivial C function: answers a function URL (or Invoke) with
 * its region and the size of the event it got.
 *
 *   cc -O2 -o bootstrap hello.c lambda_runtime.c && zip fn.zip bootstrap */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lambda_runtime.h"

static int handle(const struct lr_invocation *inv, char **response, void *ud)
{
    const char *region = getenv("AWS_REGION");
    size_t cap = 256;

    (void)ud;
    if (strstr(inv->event, "\"crash-me\"")) /* for the tests: a runtime that dies */
        exit(3);
    *response = malloc(cap);
    snprintf(*response, cap,
             "{\"statusCode\":200,\"headers\":{\"content-type\":\"application/json\"},"
             "\"body\":\"{\\\"region\\\":\\\"%s\\\",\\\"eventBytes\\\":%zu}\"}",
             region ? region : "", inv->event_len);
    return 0;
}

int main(void)
{
    return lr_run(handle, NULL);
}
