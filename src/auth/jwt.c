/* jwt.c - JSON Web Token parsing and signature checks. See jwt.h. */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "jwt.h"
#include "mem.h"

enum {
    MIN_RSA_BITS = 2048,
    MAX_RSA_BYTES = 2048, /* a 16384-bit modulus */
    MAX_PART = JWT_MAX_LEN,
};

/* What an "alg" needs. */
struct alg {
    const char *name;
    const char *kty; /* "RSA" or "EC" */
    const char *md;  /* digest */
    const char *crv; /* EC: the JWK curve; its OpenSSL group; its coordinate size */
    const char *group;
    size_t clen;
    bool pss;
};

static const struct alg algs[] = {
    {"RS256", "RSA", "SHA256", NULL, NULL, 0, false},
    {"RS384", "RSA", "SHA384", NULL, NULL, 0, false},
    {"RS512", "RSA", "SHA512", NULL, NULL, 0, false},
    {"PS256", "RSA", "SHA256", NULL, NULL, 0, true},
    {"PS384", "RSA", "SHA384", NULL, NULL, 0, true},
    {"PS512", "RSA", "SHA512", NULL, NULL, 0, true},
    {"ES256", "EC", "SHA256", "P-256", "prime256v1", 32, false},
    {"ES384", "EC", "SHA384", "P-384", "secp384r1", 48, false},
};

static const struct alg *find_alg(const char *name)
{
    for (size_t i = 0; name && i < sizeof(algs) / sizeof(algs[0]); i++)
        if (strcmp(algs[i].name, name) == 0)
            return &algs[i];
    return NULL;
}

static int b64url_value(unsigned char ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    if (ch == '-')
        return 62;
    if (ch == '_')
        return 63;
    return -1;
}

bool jwt_b64url_decode(const char *s, size_t len, unsigned char *out, size_t *outlen)
{
    unsigned acc = 0;
    int bits = 0;
    size_t n = 0;

    if (len % 4 == 1)
        return false;
    for (size_t i = 0; i < len; i++) {
        int v = b64url_value((unsigned char)s[i]);
        if (v < 0)
            return false;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) /* the unused low bits of the last character must be zero */
        return false;
    *outlen = n;
    return true;
}

/* decode_part - base64url part @s[0..len) decoded into a new NUL-terminated buffer. */
static unsigned char *decode_part(const char *s, size_t len, size_t *outlen)
{
    unsigned char *out = xmalloc(len * 3 / 4 + 4);

    if (!jwt_b64url_decode(s, len, out, outlen)) {
        free(out);
        return NULL;
    }
    out[*outlen] = 0;
    return out;
}

static cJSON *decode_object(const char *s, size_t len)
{
    size_t n;
    unsigned char *raw = decode_part(s, len, &n);
    cJSON *j = NULL;

    if (!raw)
        return NULL;
    if (n > 0 && strlen((char *)raw) == n)                             /* no NUL inside */
        j = cJSON_ParseWithLengthOpts((char *)raw, n + 1, NULL, true); /* with its NUL */
    free(raw);
    if (j && !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        j = NULL;
    }
    return j;
}

enum err_code jwt_parse(const char *tok, size_t len, struct jwt *out, struct err *e)
{
    const char *d1, *d2;
    const cJSON *alg, *kid;

    memset(out, 0, sizeof(*out));
    if (len == 0 || len > JWT_MAX_LEN)
        return err_set(e, ERR_INVALID, "token length out of range");
    d1 = memchr(tok, '.', len);
    d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - tok)) : NULL;
    if (!d1 || !d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - tok)))
        return err_set(e, ERR_INVALID, "not three dot-separated parts");
    if (!(out->header = decode_object(tok, (size_t)(d1 - tok))))
        return err_set(e, ERR_INVALID, "header is not a base64url JSON object");
    if (!(out->claims = decode_object(d1 + 1, (size_t)(d2 - d1 - 1)))) {
        jwt_free(out);
        return err_set(e, ERR_INVALID, "claims are not a base64url JSON object");
    }
    alg = cJSON_GetObjectItemCaseSensitive(out->header, "alg");
    kid = cJSON_GetObjectItemCaseSensitive(out->header, "kid");
    if (!cJSON_IsString(alg) || !find_alg(alg->valuestring)) {
        jwt_free(out);
        return err_set(e, ERR_INVALID, "unsupported signing algorithm");
    }
    if (cJSON_GetObjectItemCaseSensitive(out->header, "crit") || (kid && !cJSON_IsString(kid))) {
        jwt_free(out);
        return err_set(e, ERR_INVALID, "unsupported header");
    }
    out->alg = alg->valuestring;
    out->kid = kid ? kid->valuestring : NULL;
    out->sig = decode_part(d2 + 1, len - (size_t)(d2 + 1 - tok), &out->sig_len);
    if (!out->sig || out->sig_len == 0) {
        jwt_free(out);
        return err_set(e, ERR_INVALID, "signature is not base64url");
    }
    out->signing_len = (size_t)(d2 - tok);
    out->signing_input = xmalloc(out->signing_len + 1);
    memcpy(out->signing_input, tok, out->signing_len);
    out->signing_input[out->signing_len] = 0;
    return ERR_OK;
}

void jwt_free(struct jwt *t)
{
    cJSON_Delete(t->header);
    cJSON_Delete(t->claims);
    free(t->signing_input);
    free(t->sig);
    memset(t, 0, sizeof(*t));
}

const char *jwt_claim_str(const struct jwt *t, const char *name)
{
    return json_str(t->claims, name);
}

bool jwt_claim_time(const struct jwt *t, const char *name, long long *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(t->claims, name);

    if (!cJSON_IsNumber(v) || !(v->valuedouble > -1e15 && v->valuedouble < 1e15))
        return false;
    *out = (long long)v->valuedouble;
    return true;
}

/* key_fits - whether JWK @jwk can verify algorithm @a. */
static bool key_fits(const cJSON *jwk, const struct alg *a)
{
    const char *kty = json_str(jwk, "kty"), *use = json_str(jwk, "use"),
               *alg = json_str(jwk, "alg");

    if (!kty || strcmp(kty, a->kty) != 0)
        return false;
    if (use && strcmp(use, "sig") != 0)
        return false;
    if (alg && strcmp(alg, a->name) != 0)
        return false;
    if (a->crv) {
        const char *crv = json_str(jwk, "crv");
        if (!crv || strcmp(crv, a->crv) != 0)
            return false;
    }
    return true;
}

const cJSON *jwt_find_key(const cJSON *jwks, const struct jwt *t)
{
    const struct alg *a = find_alg(t->alg);
    const cJSON *keys = cJSON_GetObjectItemCaseSensitive(jwks, "keys"), *k, *found = NULL;
    int n = 0;

    if (!a || !cJSON_IsArray(keys))
        return NULL;
    cJSON_ArrayForEach(k, keys)
    {
        const char *kid = json_str(k, "kid");
        if (!cJSON_IsObject(k) || !key_fits(k, a))
            continue;
        if (t->kid) {
            if (kid && strcmp(kid, t->kid) == 0)
                return k;
            continue;
        }
        found = k;
        n++;
    }
    return n == 1 ? found : NULL;
}

/* jwk_bytes - member @name of @jwk, base64url-decoded (owned), at most @max bytes. */
static unsigned char *jwk_bytes(const cJSON *jwk, const char *name, size_t max, size_t *n)
{
    const char *s = json_str(jwk, name);
    unsigned char *out;

    if (!s || !*s || strlen(s) > max * 4 / 3 + 4)
        return NULL;
    out = decode_part(s, strlen(s), n);
    if (out && (*n == 0 || *n > max)) {
        free(out);
        return NULL;
    }
    return out;
}

/* key_of - the public key of @jwk for @a (owned), or NULL. */
static EVP_PKEY *key_of(const cJSON *jwk, const struct alg *a)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    EVP_PKEY *pkey = NULL;
    BIGNUM *n = NULL, *ex = NULL;
    unsigned char *b1 = NULL, *b2 = NULL, *pub = NULL;
    size_t l1 = 0, l2 = 0;

    if (!bld)
        return NULL;
    if (strcmp(a->kty, "RSA") == 0) {
        b1 = jwk_bytes(jwk, "n", MAX_RSA_BYTES, &l1);
        b2 = jwk_bytes(jwk, "e", 8, &l2);
        if (!b1 || !b2)
            goto out;
        n = BN_bin2bn(b1, (int)l1, NULL);
        ex = BN_bin2bn(b2, (int)l2, NULL);
        if (!n || !ex || BN_num_bits(n) < MIN_RSA_BITS || !BN_is_odd(ex) || BN_is_one(ex) ||
            !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
            !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, ex))
            goto out;
    } else {
        b1 = jwk_bytes(jwk, "x", a->clen, &l1);
        b2 = jwk_bytes(jwk, "y", a->clen, &l2);
        if (!b1 || !b2 || l1 != a->clen || l2 != a->clen)
            goto out;
        pub = xmalloc(1 + 2 * a->clen);
        pub[0] = 0x04; /* uncompressed point */
        memcpy(pub + 1, b1, a->clen);
        memcpy(pub + 1 + a->clen, b2, a->clen);
        if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, a->group, 0) ||
            !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, 1 + 2 * a->clen))
            goto out;
    }
    if (!(params = OSSL_PARAM_BLD_to_param(bld)) ||
        !(pctx = EVP_PKEY_CTX_new_from_name(NULL, a->kty, NULL)) ||
        EVP_PKEY_fromdata_init(pctx) <= 0 ||
        EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
        pkey = NULL;
out:
    EVP_PKEY_CTX_free(pctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(ex);
    free(b1);
    free(b2);
    free(pub);
    return pkey;
}

/* ecdsa_der - JWS's raw r||s ECDSA signature as DER (owned), or NULL. */
static unsigned char *ecdsa_der(const struct jwt *t, size_t clen, size_t *len)
{
    ECDSA_SIG *s;
    BIGNUM *r, *sv;
    unsigned char *der = NULL;
    int n;

    if (t->sig_len != 2 * clen)
        return NULL;
    s = ECDSA_SIG_new();
    r = BN_bin2bn(t->sig, (int)clen, NULL);
    sv = BN_bin2bn(t->sig + clen, (int)clen, NULL);
    if (!s || !r || !sv || !ECDSA_SIG_set0(s, r, sv)) {
        BN_free(r);
        BN_free(sv);
        ECDSA_SIG_free(s);
        return NULL;
    }
    n = i2d_ECDSA_SIG(s, &der);
    ECDSA_SIG_free(s);
    if (n <= 0)
        return NULL;
    *len = (size_t)n;
    return der;
}

bool jwt_verify(const struct jwt *t, const cJSON *jwk)
{
    const struct alg *a = find_alg(t->alg);
    EVP_PKEY *pkey;
    EVP_MD_CTX *md = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    unsigned char *der = NULL;
    const unsigned char *sig = t->sig;
    size_t sig_len = t->sig_len;
    bool ok = false;

    if (!a || !cJSON_IsObject(jwk) || !key_fits(jwk, a) || !(pkey = key_of(jwk, a)))
        return false;
    if (a->clen) {
        if (!(der = ecdsa_der(t, a->clen, &sig_len)))
            goto out;
        sig = der;
    }
    if (!(md = EVP_MD_CTX_new()) ||
        EVP_DigestVerifyInit_ex(md, &pctx, a->md, NULL, NULL, pkey, NULL) <= 0)
        goto out;
    if (a->pss && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
                   EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) <= 0))
        goto out;
    ok = EVP_DigestVerify(md, sig, sig_len, (const unsigned char *)t->signing_input,
                          t->signing_len) == 1;
out:
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(pkey);
    OPENSSL_free(der);
    return ok;
}
