/* jwt.h - JSON Web Tokens signed with JSON Web Keys (RFC 7515, 7517, 7518,
 * 7519), as OpenID Connect ID tokens are: the compact form
 * BASE64URL(header).BASE64URL(claims).BASE64URL(signature), algorithms RS256,
 * RS384, RS512 (RSA PKCS#1 v1.5), PS256/384/512 (RSA-PSS) and ES256, ES384
 * (ECDSA P-256/P-384), verified with OpenSSL's EVP interface.
 *
 * Every byte is untrusted: parsing never reads past @len, refuses what is not
 * the compact form of a JSON header and claims object, and never trusts the
 * header's "alg" to pick the kind of key (the key's "kty" must fit it; "none"
 * and the HMAC algorithms are refused). */
#ifndef TANDEM_JWT_H
#define TANDEM_JWT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "err.h"

enum { JWT_MAX_LEN = 20000 }; /* STS's WebIdentityToken limit */

struct jwt {
    cJSON *header;       /* owned */
    cJSON *claims;       /* owned */
    const char *alg;     /* header "alg" (in @header) */
    const char *kid;     /* header "kid", or NULL */
    char *signing_input; /* owned: "header.claims" as sent */
    size_t signing_len;
    unsigned char *sig; /* owned: the decoded signature */
    size_t sig_len;
};

/*
 * jwt_parse - split and decode compact JWS @tok (@len bytes) into @out.
 * ERR_INVALID with a reason in @e when it is not a JWT whose header names a
 * supported algorithm; @out is then empty (jwt_free is still safe).
 */
enum err_code jwt_parse(const char *tok, size_t len, struct jwt *out, struct err *e);
void jwt_free(struct jwt *t);

/* jwt_find_key - the key of JSON Web Key Set @jwks ({"keys": [...]}) that
 * verifies @t: the one whose "kid" is @t's kid (and whose kty fits @t's
 * algorithm and whose "use", if present, is "sig"); without a kid in @t, the
 * only key that fits. NULL when there is none. */
const cJSON *jwt_find_key(const cJSON *jwks, const struct jwt *t);

/* jwt_verify - whether @t's signature verifies with JSON Web Key @jwk. */
bool jwt_verify(const struct jwt *t, const cJSON *jwk);

/* jwt_b64url_decode - base64url without padding (RFC 7515 section 2) of
 * @s[0..len) into @out (room for len*3/4+3 bytes); false when malformed. */
bool jwt_b64url_decode(const char *s, size_t len, unsigned char *out, size_t *outlen);

/* jwt_claim_str / jwt_claim_time - a string claim (NULL when absent or not a
 * string) / a NumericDate claim in seconds (false when absent or not a
 * number). */
const char *jwt_claim_str(const struct jwt *t, const char *name);
bool jwt_claim_time(const struct jwt *t, const char *name, long long *out);

#endif
