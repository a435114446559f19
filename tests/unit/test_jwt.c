/* test_jwt.c - JSON Web Tokens: base64url, parsing of good and malformed
 * tokens, key selection from a key set, and signatures (RS256, PS256, ES256,
 * ES384) made here with OpenSSL and checked by jwt_verify, with tampered
 * tokens, wrong keys and unfit keys refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "jwt.h"

static EVP_PKEY *rsa_key, *rsa_small, *ec_key, *ec384_key;

static void b64url(const unsigned char *p, size_t n, char *out)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;

    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) |
                     (i + 2 < n ? p[i + 2] : 0);
        out[o++] = a[v >> 18 & 63];
        out[o++] = a[v >> 12 & 63];
        if (i + 1 < n)
            out[o++] = a[v >> 6 & 63];
        if (i + 2 < n)
            out[o++] = a[v & 63];
    }
    out[o] = 0;
}

static void b64url_str(const char *s, char *out)
{
    b64url((const unsigned char *)s, strlen(s), out);
}

static char *bn_b64(EVP_PKEY *k, const char *param, size_t pad)
{
    BIGNUM *bn = NULL;
    unsigned char buf[1024];
    char *out = malloc(1400);
    int n;

    assert_int_equal(EVP_PKEY_get_bn_param(k, param, &bn), 1);
    n = pad ? BN_bn2binpad(bn, buf, (int)pad) : BN_bn2bin(bn, buf);
    BN_free(bn);
    b64url(buf, (size_t)n, out);
    return out;
}

/* jwk - @k as a JSON Web Key (owned). */
static cJSON *jwk(EVP_PKEY *k, const char *kid)
{
    cJSON *j = cJSON_CreateObject();
    char *a, *b;

    if (kid)
        cJSON_AddStringToObject(j, "kid", kid);
    if (EVP_PKEY_is_a(k, "RSA")) {
        cJSON_AddStringToObject(j, "kty", "RSA");
        a = bn_b64(k, OSSL_PKEY_PARAM_RSA_N, 0);
        b = bn_b64(k, OSSL_PKEY_PARAM_RSA_E, 0);
        cJSON_AddStringToObject(j, "n", a);
        cJSON_AddStringToObject(j, "e", b);
    } else {
        char group[32];
        size_t clen;
        EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), NULL);
        clen = strcmp(group, "prime256v1") == 0 ? 32 : 48;
        cJSON_AddStringToObject(j, "kty", "EC");
        cJSON_AddStringToObject(j, "crv", clen == 32 ? "P-256" : "P-384");
        a = bn_b64(k, OSSL_PKEY_PARAM_EC_PUB_X, clen);
        b = bn_b64(k, OSSL_PKEY_PARAM_EC_PUB_Y, clen);
        cJSON_AddStringToObject(j, "x", a);
        cJSON_AddStringToObject(j, "y", b);
    }
    free(a);
    free(b);
    return j;
}

/* token - header @hdr and claims @claims signed with @k under @alg (owned). */
static char *token(const char *hdr, const char *claims, EVP_PKEY *k, const char *alg)
{
    char *out = malloc(8192), h[1024], c[2048], sig64[1024];
    unsigned char sig[1024], raw[128];
    size_t slen = sizeof(sig);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    const char *mdname = strstr(alg, "384") ? "SHA384" : "SHA256";

    b64url_str(hdr, h);
    b64url_str(claims, c);
    snprintf(out, 8192, "%s.%s", h, c);
    assert_int_equal(EVP_DigestSignInit_ex(md, &pctx, mdname, NULL, NULL, k, NULL), 1);
    if (alg[0] == 'P') {
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
    }
    assert_int_equal(EVP_DigestSign(md, sig, &slen, (const unsigned char *)out, strlen(out)), 1);
    EVP_MD_CTX_free(md);
    if (alg[0] == 'E') { /* DER to r||s */
        size_t clen = strstr(alg, "384") ? 48 : 32;
        const unsigned char *p = sig;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)slen);
        BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, (int)clen);
        BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + clen, (int)clen);
        ECDSA_SIG_free(es);
        memcpy(sig, raw, 2 * clen);
        slen = 2 * clen;
    }
    b64url(sig, slen, sig64);
    strcat(out, ".");
    strcat(out, sig64);
    return out;
}

static int setup(void **state)
{
    (void)state;
    rsa_key = EVP_RSA_gen(2048);
    rsa_small = EVP_RSA_gen(1024);
    ec_key = EVP_EC_gen("P-256");
    ec384_key = EVP_EC_gen("P-384");
    return rsa_key && rsa_small && ec_key && ec384_key ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(rsa_key);
    EVP_PKEY_free(rsa_small);
    EVP_PKEY_free(ec_key);
    EVP_PKEY_free(ec384_key);
    return 0;
}

static void test_b64url(void **state)
{
    unsigned char out[16];
    size_t n;

    (void)state;
    assert_true(jwt_b64url_decode("", 0, out, &n));
    assert_int_equal(n, 0);
    assert_true(jwt_b64url_decode("aGk", 3, out, &n));
    assert_int_equal(n, 2);
    assert_memory_equal(out, "hi", 2);
    assert_true(jwt_b64url_decode("-_8", 3, out, &n)); /* 0xfb 0xff */
    assert_int_equal(out[0], 0xfb);
    assert_false(jwt_b64url_decode("a", 1, out, &n));    /* impossible length */
    assert_false(jwt_b64url_decode("aGk=", 4, out, &n)); /* padding is not base64url */
    assert_false(jwt_b64url_decode("a+/b", 4, out, &n)); /* standard alphabet */
    assert_false(jwt_b64url_decode("aGl", 3, out, &n));  /* non-zero unused bits */
}

static void test_parse(void **state)
{
    struct jwt t;
    struct err e = {0};
    char h[256], c[256], tok[1024];
    long long v;

    (void)state;
    b64url_str("{\"alg\":\"RS256\",\"kid\":\"k1\"}", h);
    b64url_str("{\"iss\":\"https://i.example\",\"exp\":1700000000,\"aud\":[\"a\"]}", c);
    snprintf(tok, sizeof(tok), "%s.%s.AQAB", h, c);
    assert_int_equal(jwt_parse(tok, strlen(tok), &t, &e), ERR_OK);
    assert_string_equal(t.alg, "RS256");
    assert_string_equal(t.kid, "k1");
    assert_string_equal(jwt_claim_str(&t, "iss"), "https://i.example");
    assert_null(jwt_claim_str(&t, "aud"));
    assert_true(jwt_claim_time(&t, "exp", &v));
    assert_int_equal(v, 1700000000);
    assert_false(jwt_claim_time(&t, "iss", &v));
    assert_false(jwt_claim_time(&t, "nbf", &v));
    assert_int_equal(t.sig_len, 3);
    assert_int_equal(t.signing_len, strlen(h) + 1 + strlen(c));
    jwt_free(&t);

    /* the malformed, each refused with @t left empty */
    const char *bad_headers[] = {
        "{\"alg\":\"none\"}",
        "{\"alg\":\"HS256\"}",
        "{\"kid\":\"k\"}",
        "{\"alg\":7}",
        "[1]",
        "{\"alg\":\"RS256\",\"crit\":[\"x\"]}",
        "{\"alg\":\"RS256\",\"kid\":5}",
        "{\"alg\":\"RS256\"",
        "",
    };
    for (size_t i = 0; i < sizeof(bad_headers) / sizeof(bad_headers[0]); i++) {
        b64url_str(bad_headers[i], h);
        snprintf(tok, sizeof(tok), "%s.%s.AQAB", h, c);
        assert_int_equal(jwt_parse(tok, strlen(tok), &t, &e), ERR_INVALID);
        assert_null(t.header);
        jwt_free(&t);
    }
    b64url_str("{\"alg\":\"ES256\"}", h);
    const char *bad_claims[] = {"[]", "\"s\"", "{", "{}x"};
    for (size_t i = 0; i < sizeof(bad_claims) / sizeof(bad_claims[0]); i++) {
        b64url_str(bad_claims[i], c);
        snprintf(tok, sizeof(tok), "%s.%s.AQAB", h, c);
        assert_int_equal(jwt_parse(tok, strlen(tok), &t, &e), ERR_INVALID);
        jwt_free(&t);
    }
    b64url_str("{}", c);
    const char *shapes[] = {"%s.%s", "%s.%s.", "%s.%s.AQAB.x", "%s.%s.A+B/", ".%s%s.AQAB"};
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        snprintf(tok, sizeof(tok), shapes[i], h, c);
        assert_int_equal(jwt_parse(tok, strlen(tok), &t, &e), ERR_INVALID);
        jwt_free(&t);
    }
    /* a NUL inside the claims */
    b64url((const unsigned char *)"{}\0", 3, c);
    snprintf(tok, sizeof(tok), "%s.%s.AQAB", h, c);
    assert_int_equal(jwt_parse(tok, strlen(tok), &t, &e), ERR_INVALID);
    assert_int_equal(jwt_parse(tok, 0, &t, &e), ERR_INVALID);
    assert_int_equal(jwt_parse(tok, JWT_MAX_LEN + 1, &t, &e), ERR_INVALID);
}

static void test_find_key(void **state)
{
    cJSON *set = cJSON_CreateObject(), *keys = cJSON_AddArrayToObject(set, "keys");
    cJSON *r1 = jwk(rsa_key, "r1"), *e1 = jwk(ec_key, "e1"), *enc = jwk(rsa_key, "r-enc");
    struct jwt t;
    struct err e = {0};
    char *tok;

    (void)state;
    cJSON_AddStringToObject(enc, "use", "enc");
    cJSON_AddItemToArray(keys, r1);
    cJSON_AddItemToArray(keys, e1);
    cJSON_AddItemToArray(keys, enc);
    cJSON_AddItemToArray(keys, cJSON_CreateString("junk"));

    tok = token("{\"alg\":\"RS256\",\"kid\":\"r1\"}", "{}", rsa_key, "RS256");
    assert_int_equal(jwt_parse(tok, strlen(tok), &t, &e), ERR_OK);
    assert_ptr_equal(jwt_find_key(set, &t), r1);
    assert_true(jwt_verify(&t, r1));
    assert_false(jwt_verify(&t, e1)); /* an EC key does not verify RS256 */
    jwt_free(&t);
    free(tok);
    /* kid of the EC key, alg RS256: no fitting key */
    tok = token("{\"alg\":\"RS256\",\"kid\":\"e1\"}", "{}", rsa_key, "RS256");
    assert_int_equal(jwt_parse(tok, strlen(tok), &t, &e), ERR_OK);
    assert_null(jwt_find_key(set, &t));
    jwt_free(&t);
    free(tok);
    /* an encryption key is not a signing key */
    tok = token("{\"alg\":\"RS256\",\"kid\":\"r-enc\"}", "{}", rsa_key, "RS256");
    assert_int_equal(jwt_parse(tok, strlen(tok), &t, &e), ERR_OK);
    assert_null(jwt_find_key(set, &t));
    jwt_free(&t);
    free(tok);
    /* without kid: the one EC key; RSA has one signing key too */
    tok = token("{\"alg\":\"ES256\"}", "{}", ec_key, "ES256");
    assert_int_equal(jwt_parse(tok, strlen(tok), &t, &e), ERR_OK);
    assert_ptr_equal(jwt_find_key(set, &t), e1);
    assert_true(jwt_verify(&t, e1));
    jwt_free(&t);
    free(tok);
    /* two fitting keys and no kid: ambiguous */
    cJSON_AddItemToArray(keys, jwk(ec_key, "e2"));
    tok = token("{\"alg\":\"ES256\"}", "{}", ec_key, "ES256");
    assert_int_equal(jwt_parse(tok, strlen(tok), &t, &e), ERR_OK);
    assert_null(jwt_find_key(set, &t));
    assert_null(jwt_find_key(keys, &t)); /* not a key set */
    jwt_free(&t);
    free(tok);
    cJSON_Delete(set);
}

static void check_alg(EVP_PKEY *k, const char *alg)
{
    char hdr[64], *tok;
    struct jwt t;
    struct err e = {0};
    cJSON *key = jwk(k, NULL), *other;

    snprintf(hdr, sizeof(hdr), "{\"alg\":\"%s\"}", alg);
    tok = token(hdr, "{\"sub\":\"s\"}", k, alg);
    assert_int_equal(jwt_parse(tok, strlen(tok), &t, &e), ERR_OK);
    assert_true(jwt_verify(&t, key));
    /* the key says another algorithm */
    cJSON_AddStringToObject(key, "alg", "RS512");
    assert_false(jwt_verify(&t, key));
    cJSON_DeleteItemFromObject(key, "alg");
    /* a flipped signature bit */
    t.sig[t.sig_len / 2] ^= 1;
    assert_false(jwt_verify(&t, key));
    t.sig[t.sig_len / 2] ^= 1;
    /* other claims under the same signature */
    t.signing_input[t.signing_len - 2] ^= 1;
    assert_false(jwt_verify(&t, key));
    jwt_free(&t);
    free(tok);
    /* signed by another key of the kind */
    other = jwk(EVP_PKEY_is_a(k, "RSA") ? rsa_small : (k == ec_key ? ec384_key : ec_key), NULL);
    tok = token(hdr, "{}", k, alg);
    assert_int_equal(jwt_parse(tok, strlen(tok), &t, &e), ERR_OK);
    assert_false(jwt_verify(&t, other));
    jwt_free(&t);
    free(tok);
    cJSON_Delete(other);
    cJSON_Delete(key);
}

static void test_algorithms(void **state)
{
    (void)state;
    check_alg(rsa_key, "RS256");
    check_alg(rsa_key, "PS256");
    check_alg(ec_key, "ES256");
    check_alg(ec384_key, "ES384");
}

static void test_bad_keys(void **state)
{
    char *tok = token("{\"alg\":\"RS256\"}", "{}", rsa_small, "RS256");
    struct jwt t;
    struct err e = {0};
    cJSON *k = jwk(rsa_small, NULL), *bad;

    (void)state;
    assert_int_equal(jwt_parse(tok, strlen(tok), &t, &e), ERR_OK);
    assert_false(jwt_verify(&t, k)); /* under 2048 bits */
    jwt_free(&t);
    free(tok);
    cJSON_Delete(k);

    tok = token("{\"alg\":\"RS256\"}", "{}", rsa_key, "RS256");
    assert_int_equal(jwt_parse(tok, strlen(tok), &t, &e), ERR_OK);
    const char *edits[][2] = {{"e", "AQ"}, {"e", "Ag"}, {"n", ""}, {"n", "!!"}, {"kty", "oct"}};
    for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
        bad = jwk(rsa_key, NULL);
        cJSON_ReplaceItemInObject(bad, edits[i][0], cJSON_CreateString(edits[i][1]));
        assert_false(jwt_verify(&t, bad));
        cJSON_Delete(bad);
    }
    bad = jwk(rsa_key, NULL);
    cJSON_DeleteItemFromObject(bad, "n");
    assert_false(jwt_verify(&t, bad));
    cJSON_Delete(bad);
    assert_false(jwt_verify(&t, NULL));
    jwt_free(&t);
    free(tok);

    tok = token("{\"alg\":\"ES256\"}", "{}", ec_key, "ES256");
    assert_int_equal(jwt_parse(tok, strlen(tok), &t, &e), ERR_OK);
    const char *ec_edits[][2] = {{"crv", "P-384"}, {"x", "AAAA"}, {"y", "AAAA"}};
    for (size_t i = 0; i < sizeof(ec_edits) / sizeof(ec_edits[0]); i++) {
        bad = jwk(ec_key, NULL);
        cJSON_ReplaceItemInObject(bad, ec_edits[i][0], cJSON_CreateString(ec_edits[i][1]));
        assert_false(jwt_verify(&t, bad));
        cJSON_Delete(bad);
    }
    /* a point off the curve */
    bad = jwk(ec_key, NULL);
    cJSON_ReplaceItemInObject(
        bad, "y", cJSON_CreateString(cJSON_GetStringValue(cJSON_GetObjectItem(bad, "x"))));
    assert_false(jwt_verify(&t, bad));
    cJSON_Delete(bad);
    /* an ES256 signature of the wrong length */
    k = jwk(ec_key, NULL);
    t.sig_len--;
    assert_false(jwt_verify(&t, k));
    cJSON_Delete(k);
    jwt_free(&t);
    free(tok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64url),   cmocka_unit_test(test_parse),
        cmocka_unit_test(test_find_key), cmocka_unit_test(test_algorithms),
        cmocka_unit_test(test_bad_keys),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
