/* fuzz_sigv4.c - arbitrary bytes as an Authorization header value, as a query
 * string (presigned form) and as a path, through sigv4_verify against a fixed
 * registry. It must never crash, leak or read out of bounds. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sigv4.h"

#define T0 ((time_t)1440938160) /* 20150830T123600Z */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct creds *fuzz_registry(void)
{
    static struct creds *c;
    struct creds_identity id;

    if (c)
        return c;
    c = creds_new();
    memset(&id, 0, sizeof(id));
    strcpy(id.access_key, "AKIDEXAMPLE");
    strcpy(id.secret, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    creds_add(c, &id, NULL);
    strcpy(id.access_key, "ASIATEMP");
    strcpy(id.session_token, "token");
    id.expires = (int64_t)T0 + 60;
    creds_add(c, &id, NULL);
    return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct creds *c = fuzz_registry();
    char *s = malloc(size + 1);
    struct sigv4_header hs[5] = {{"host", "example.amazonaws.com"},
                                 {"x-amz-date", "20150830T123600Z"},
                                 {"x-amz-security-token", "token"},
                                 {"x-amz-content-sha256", "UNSIGNED-PAYLOAD"}};
    struct sigv4_request r = {"GET", "/", "", hs, 4, data, size, false};
    struct sigv4_result res;
    char *nl;

    memcpy(s, data, size);
    s[size] = '\0';

    /* 1. the whole input as the Authorization header */
    hs[4] = (struct sigv4_header){"authorization", s};
    r.nheaders = 5;
    sigv4_verify(c, &r, T0, &res);
    r.s3_paths = true;
    sigv4_verify(c, &r, T0 + 1000, &res);

    /* 2. the whole input as a query string (presigned form) and as a path */
    r.nheaders = 2;
    r.query = s;
    r.path = s;
    sigv4_verify(c, &r, T0, &res);
    r.s3_paths = false;
    sigv4_verify(c, &r, T0, &res);

    /* 3. split at the first newline: a query, then an Authorization header */
    nl = strchr(s, '\n');
    if (nl) {
        *nl = '\0';
        r.query = s;
        r.path = "/a/./b/../c//";
        hs[2] = (struct sigv4_header){"authorization", nl + 1};
        r.nheaders = 3;
        sigv4_verify(c, &r, T0, &res);
    }
    free(s);
    return 0;
}
