/* fuzz_jwt.c - arbitrary bytes as a web identity token (jwt_parse, then key
 * selection and signature checks against a fixed key set) and as a JSON Web
 * Key Set (every key tried on a fixed token). It must never crash, leak or
 * read out of bounds. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jwt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A key set with an RSA key (2048-bit odd modulus, e=65537), an EC P-256
 * key (the curve's generator) and unfit entries. */
static const char jwks_json[] =
    "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"r1\",\"e\":\"AQAB\",\"n\":\""
    "________________________________________________________________________________"
    "________________________________________________________________________________"
    "________________________________________________________________________________"
    "________________________________________________________________________________"
    "_____________________Q\"},"
    "{\"kty\":\"EC\",\"kid\":\"e1\",\"crv\":\"P-256\","
    "\"x\":\"axfR8uEsQkf4vOblY6RA8ncDfYEt6zOg9KE5RdiYwpY\","
    "\"y\":\"T-NC4v4af5uO5-tKfA-eFivOM1drMV7Oy7ZAaDe_UfU\"},"
    "{\"kty\":\"EC\",\"kid\":\"e2\",\"crv\":\"P-384\",\"x\":\"AAAA\",\"y\":\"AAAA\"},"
    "{\"kty\":\"RSA\",\"kid\":\"bad\",\"n\":7},\"junk\",{}]}";

static const char fixed_token[] = "eyJhbGciOiJSUzI1NiIsImtpZCI6InIxIn0.e30.AQAB";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static cJSON *jwks;
    struct jwt t;
    struct err e = {0};
    const cJSON *k;

    if (!jwks)
        jwks = cJSON_Parse(jwks_json);
    if (size > 0 && data[0] == '{') { /* a key set */
        cJSON *set = cJSON_ParseWithLength((const char *)data, size);
        if (set && jwt_parse(fixed_token, strlen(fixed_token), &t, &e) == ERR_OK) {
            const cJSON *keys = cJSON_GetObjectItemCaseSensitive(set, "keys");
            (void)jwt_find_key(set, &t);
            if (cJSON_IsArray(keys))
                cJSON_ArrayForEach(k, keys)(void) jwt_verify(&t, k);
            jwt_free(&t);
        }
        cJSON_Delete(set);
        return 0;
    }
    if (jwt_parse((const char *)data, size, &t, &e) == ERR_OK) {
        long long v;
        (void)jwt_claim_str(&t, "iss");
        (void)jwt_claim_time(&t, "exp", &v);
        if ((k = jwt_find_key(jwks, &t)))
            (void)jwt_verify(&t, k);
        cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(jwks, "keys"))(void)
            jwt_verify(&t, k);
    }
    jwt_free(&t);
    return 0;
}
