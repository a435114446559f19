/* jwks.c - the signing keys of OpenID Connect issuers, for
 * AssumeRoleWithWebIdentity (webid.c).
 *
 * An issuer's keys are found as OpenID Connect Discovery 1.0 says: GET
 * <iss>/.well-known/openid-configuration, then the JSON Web Key Set at its
 * "jwks_uri", both over HTTPS only. The server is trusted as IAM trusts an
 * OIDC provider's server (IAM User Guide, "Obtaining the thumbprint for an
 * OpenID Connect identity provider"): its certificate chain verifies against
 * the system's CA store (or the CAs of `--oidc-ca-file`), or the SHA-1 fingerprint of one
 * certificate of the chain it presents is in the provider's ThumbprintList. The host name is
 * checked either way. TLS sessions are never resumed, so each fetch decides
 * trust anew.
 *
 * Key sets are cached per issuer and thumbprint list for CACHE_TTL_S (at most
 * CACHE_SLOTS issuers, the oldest evicted); a token whose key is not in the
 * cached set fetches again, at most once per REFETCH_S per issuer, so a key
 * the issuer rotated in is found without every bad token causing a fetch. A
 * failed fetch is remembered for REFETCH_S too: while an issuer is down or
 * misconfigured its callers get the same answer at once instead of each
 * waiting for a timeout. */
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "codec.h"
#include "iam_int.h"
#include "log.h"
#include "mem.h"

enum {
    CACHE_SLOTS = 32,
    CACHE_TTL_S = 600,
    REFETCH_S = 10,
    MAX_DOC = 1 << 20, /* bytes of a discovery document or key set */
    FETCH_TIMEOUT_MS = 5000,
    CONNECT_TIMEOUT_MS = 3000,
};

struct jwks_slot {
    char *key;             /* "<iss>\n<thumbprints>" */
    cJSON *jwks;           /* the key set; NULL after a failed fetch */
    enum iam_jwks_rc fail; /* why the last fetch failed (IAM_JWKS_OK: it did not) */
    char why[300];
    int64_t when; /* fetched (or failed) at, monotonic seconds */
    int64_t used; /* for eviction */
};

struct iam_jwks {
    pthread_mutex_t mu;
    struct jwks_slot slot[CACHE_SLOTS];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int64_t now_s(void)
{
    return clock_mono_us() / 1000000;
}

/* ---- fetching ---- */

struct fetch {
    const cJSON *thumbs; /* the provider's ThumbprintList */
    struct buf body;
    bool too_big;
    bool by_thumbprint; /* trusted by a thumbprint, not the CA store */
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    struct fetch *f = arg;

    if (f->body.len + size * n > MAX_DOC) {
        f->too_big = true;
        return 0;
    }
    buf_append(&f->body, p, size * n);
    return size * n;
}

static bool thumb_listed(const cJSON *thumbs, X509 *x)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    const cJSON *t;

    if (!x || !X509_digest(x, EVP_sha1(), md, &n))
        return false;
    hex_encode(md, n, hex);
    cJSON_ArrayForEach(t, thumbs) if (cJSON_IsString(t) &&
                                      strcasecmp(t->valuestring, hex) == 0) return true;
    return false;
}

/* verify_chain - OpenSSL's certificate check for the issuer's server: the
 * CA store's verdict, else a listed thumbprint of a certificate it sent. */
static int verify_chain(X509_STORE_CTX *sctx, void *arg)
{
    struct fetch *f = arg;
    STACK_OF(X509) * sent;

    if (X509_verify_cert(sctx) == 1)
        return 1;
    sent = X509_STORE_CTX_get0_untrusted(sctx);
    bool ok = thumb_listed(f->thumbs, X509_STORE_CTX_get0_cert(sctx));
    for (int i = 0; !ok && sent && i < sk_X509_num(sent); i++)
        ok = thumb_listed(f->thumbs, sk_X509_value(sent, i));
    if (!ok)
        return 0;
    f->by_thumbprint = true;
    X509_STORE_CTX_set_error(sctx, X509_V_OK);
    return 1;
}

static CURLcode on_ssl_ctx(CURL *h, void *ssl_ctx, void *arg)
{
    (void)h;
    SSL_CTX_set_cert_verify_callback(ssl_ctx, verify_chain, arg);
    return CURLE_OK;
}

/* fetch_json - GET https @url as JSON (owned), or NULL with @rc and @why set. */
static cJSON *fetch_json(const char *url, const char *ca, const cJSON *thumbs, enum iam_jwks_rc *rc,
                         char *why, size_t whylen)
{
    struct fetch f = {.thumbs = thumbs};
    CURL *h;
    CURLcode cc;
    long status = 0;
    cJSON *doc = NULL;
    char errbuf[CURL_ERROR_SIZE] = "";

    pthread_once(&curl_once, curl_init);
    if (strncmp(url, "https://", 8) != 0) {
        *rc = IAM_JWKS_INVALID;
        snprintf(why, whylen, "not an https URL: %.200s", url);
        return NULL;
    }
    if (!(h = curl_easy_init())) {
        *rc = IAM_JWKS_UNREACHABLE;
        snprintf(why, whylen, "out of memory");
        return NULL;
    }
    buf_init(&f.body, 0);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)FETCH_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (ca)
        curl_easy_setopt(h, CURLOPT_CAINFO, ca);
    curl_easy_setopt(h, CURLOPT_SSL_SESSIONID_CACHE, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
    curl_easy_setopt(h, CURLOPT_SSL_CTX_DATA, &f);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &f);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "tandem-sts");
    cc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    if (cc == CURLE_PEER_FAILED_VERIFICATION) {
        *rc = IAM_JWKS_UNTRUSTED;
        snprintf(why, whylen, "%.300s: %.300s", url, errbuf[0] ? errbuf : curl_easy_strerror(cc));
    } else if (cc != CURLE_OK && !f.too_big) {
        *rc = IAM_JWKS_UNREACHABLE;
        snprintf(why, whylen, "%.300s: %.300s", url, errbuf[0] ? errbuf : curl_easy_strerror(cc));
    } else if (f.too_big || status != 200) {
        *rc = IAM_JWKS_INVALID;
        snprintf(why, whylen, "%.300s: %s", url,
                 f.too_big ? "answer too large" : "status is not 200");
    } else if (!(doc = cJSON_ParseWithLength(f.body.ptr ? f.body.ptr : "", f.body.len)) ||
               !cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        doc = NULL;
        *rc = IAM_JWKS_INVALID;
        snprintf(why, whylen, "%.300s: not a JSON object", url);
    }
    if (doc && f.by_thumbprint)
        log_info("event=oidc_thumbprint_trust url=%.200s", url);
    buf_free(&f.body);
    return doc;
}

/* fetch_keys - discovery, then the key set of issuer @iss (owned), or NULL. */
static cJSON *fetch_keys(const char *iss, const char *ca, const cJSON *thumbs, enum iam_jwks_rc *rc,
                         char *why, size_t whylen)
{
    size_t n = strlen(iss);
    char *url;
    cJSON *conf, *jwks = NULL;
    const cJSON *uri;

    while (n > 0 && iss[n - 1] == '/')
        n--;
    url = xmalloc(n + 40);
    snprintf(url, n + 40, "%.*s/.well-known/openid-configuration", (int)n, iss);
    conf = fetch_json(url, ca, thumbs, rc, why, whylen);
    free(url);
    if (!conf)
        return NULL;
    uri = cJSON_GetObjectItemCaseSensitive(conf, "jwks_uri");
    if (!cJSON_IsString(uri)) {
        *rc = IAM_JWKS_INVALID;
        snprintf(why, whylen, "the discovery document of %.300s has no jwks_uri", iss);
    } else if ((jwks = fetch_json(uri->valuestring, ca, thumbs, rc, why, whylen)) &&
               !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(jwks, "keys"))) {
        cJSON_Delete(jwks);
        jwks = NULL;
        *rc = IAM_JWKS_INVALID;
        snprintf(why, whylen, "%.300s is not a JSON Web Key Set", uri->valuestring);
    }
    cJSON_Delete(conf);
    return jwks;
}

/* ---- the cache ---- */

static struct iam_jwks *cache_of(struct iam *iam)
{
    struct iam_jwks *j;

    pthread_mutex_lock(&iam->mu);
    if (!iam->jwks) {
        j = xcalloc(1, sizeof(*j));
        pthread_mutex_init(&j->mu, NULL);
        iam->jwks = j;
    }
    j = iam->jwks;
    pthread_mutex_unlock(&iam->mu);
    return j;
}

static char *slot_key(const char *iss, const cJSON *thumbs)
{
    struct buf b;
    const cJSON *t;

    buf_init(&b, 0);
    buf_puts(&b, iss);
    buf_putc(&b, '\n');
    cJSON_ArrayForEach(t, thumbs) if (cJSON_IsString(t))
    {
        buf_puts(&b, t->valuestring);
        buf_putc(&b, ',');
    }
    buf_putc(&b, 0);
    return b.ptr;
}

cJSON *iam_jwks_get(struct iam *iam, const char *iss, const cJSON *thumbs, bool refresh,
                    enum iam_jwks_rc *rc, char *why, size_t whylen)
{
    struct iam_jwks *j = cache_of(iam);
    char *key = slot_key(iss, thumbs);
    struct jwks_slot *s = NULL, *oldest = &j->slot[0];
    int64_t now = now_s();
    cJSON *out = NULL, *fresh;

    *rc = IAM_JWKS_OK;
    pthread_mutex_lock(&j->mu);
    for (int i = 0; i < CACHE_SLOTS; i++) {
        if (j->slot[i].key && strcmp(j->slot[i].key, key) == 0)
            s = &j->slot[i];
        if (!j->slot[i].key || (oldest->key && j->slot[i].used < oldest->used))
            oldest = &j->slot[i];
    }
    if (s && s->fail != IAM_JWKS_OK && now - s->when < REFETCH_S) {
        s->used = now;
        *rc = s->fail;
        snprintf(why, whylen, "%s", s->why);
    } else if (s && s->jwks && now - s->when < CACHE_TTL_S &&
               (!refresh || now - s->when < REFETCH_S)) {
        s->used = now;
        out = cJSON_Duplicate(s->jwks, true);
    }
    pthread_mutex_unlock(&j->mu);
    if (out || *rc != IAM_JWKS_OK) {
        free(key);
        return out;
    }
    /* fetched without the lock: a slow issuer holds up only its own callers */
    fresh = fetch_keys(iss, iam->oidc_ca_file, thumbs, rc, why, whylen);
    if (!fresh)
        log_warn("event=oidc_keys_failed iss=%.200s msg=\"%s\"", iss, why);
    pthread_mutex_lock(&j->mu);
    s = NULL;
    for (int i = 0; i < CACHE_SLOTS && !s; i++)
        if (j->slot[i].key && strcmp(j->slot[i].key, key) == 0)
            s = &j->slot[i];
    if (!s) {
        s = oldest;
        free(s->key);
        s->key = key;
        key = NULL;
    }
    cJSON_Delete(s->jwks);
    s->jwks = fresh ? cJSON_Duplicate(fresh, true) : NULL;
    s->fail = fresh ? IAM_JWKS_OK : *rc;
    snprintf(s->why, sizeof(s->why), "%s", fresh ? "" : why);
    s->when = s->used = now;
    pthread_mutex_unlock(&j->mu);
    free(key);
    return fresh;
}

void iam_jwks_free(struct iam *iam)
{
    struct iam_jwks *j = iam->jwks;

    if (!j)
        return;
    for (int i = 0; i < CACHE_SLOTS; i++) {
        free(j->slot[i].key);
        cJSON_Delete(j->slot[i].jwks);
    }
    pthread_mutex_destroy(&j->mu);
    free(j);
    iam->jwks = NULL;
}
