/* chunked.c - see s3_chunked.h. */
#include "s3_chunked.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/hmac.h>

#include "codec.h"

/* SHA-256 of the empty string, part of every chunk's string-to-sign. */
static const char empty_sha256[] =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

void s3_chunked_init(struct s3_chunked *c, bool signed_chunks, const unsigned char *signing_key,
                     const char *amz_date, const char *scope, const char *seed)
{
    memset(c, 0, sizeof(*c));
    c->state = CH_HEADER;
    c->signed_chunks = signed_chunks;
    if (signed_chunks) {
        memcpy(c->key, signing_key, 32);
        snprintf(c->amz_date, sizeof(c->amz_date), "%s", amz_date);
        snprintf(c->scope, sizeof(c->scope), "%s", scope);
        snprintf(c->prev_sig, sizeof(c->prev_sig), "%s", seed);
    }
}

static void hmac_hex(const unsigned char key[32], const char *msg, char out[65])
{
    unsigned char mac[32];
    unsigned int len = sizeof(mac);

    HMAC(EVP_sha256(), key, 32, (const unsigned char *)msg, strlen(msg), mac, &len);
    hex_encode(mac, 32, out);
}

/* check the signature of the chunk whose data hash is in c->chunk_hash */
static enum err_code check_chunk(struct s3_chunked *c, struct err *e)
{
    unsigned char h[32];
    char hh[65], sts[512], sig[65];

    SHA256_Final(h, &c->chunk_hash);
    if (!c->signed_chunks)
        return ERR_OK;
    hex_encode(h, 32, hh);
    snprintf(sts, sizeof(sts), "AWS4-HMAC-SHA256-PAYLOAD\n%s\n%s\n%s\n%s\n%s", c->amz_date,
             c->scope, c->prev_sig, empty_sha256, hh);
    hmac_hex(c->key, sts, sig);
    if (CRYPTO_memcmp(sig, c->want_sig, 64) != 0) {
        c->bad_signature = true;
        return err_set(e, ERR_INVALID,
                       "The request signature we calculated does not match the signature you "
                       "provided. Check your key and signing method.");
    }
    memcpy(c->prev_sig, sig, 65);
    return ERR_OK;
}

static bool is_hex64(const char *s)
{
    size_t i;
    for (i = 0; i < 64; i++)
        if (!isxdigit((unsigned char)s[i]))
            return false;
    return s[64] == '\0';
}

/* a chunk header line, without its CRLF */
static enum err_code header_line(struct s3_chunked *c, struct err *e)
{
    char *p = c->line, *semi;
    uint64_t size = 0;
    int digits = 0;

    for (; isxdigit((unsigned char)*p); p++) {
        if (++digits > 15)
            return err_set(e, ERR_INVALID, "aws-chunked: chunk size too large");
        size = size * 16 +
               (uint64_t)(isdigit((unsigned char)*p) ? *p - '0' : (tolower(*p) - 'a' + 10));
    }
    if (!digits)
        return err_set(e, ERR_INVALID, "aws-chunked: malformed chunk header");
    semi = p;
    c->want_sig[0] = '\0';
    if (*semi == ';') {
        if (strncmp(semi + 1, "chunk-signature=", 16) != 0 || !is_hex64(semi + 17))
            return err_set(e, ERR_INVALID, "aws-chunked: malformed chunk signature");
        memcpy(c->want_sig, semi + 17, 65);
    } else if (*semi) {
        return err_set(e, ERR_INVALID, "aws-chunked: malformed chunk header");
    }
    if (c->signed_chunks && !c->want_sig[0])
        return err_set(e, ERR_INVALID, "aws-chunked: chunk signature missing");
    c->left = size;
    SHA256_Init(&c->chunk_hash);
    if (size == 0) {
        enum err_code rc = check_chunk(c, e);
        if (rc)
            return rc;
        c->state = CH_TRAILER;
    } else {
        c->state = CH_DATA;
    }
    return ERR_OK;
}

/* a trailer line, without its CRLF; "" ends the body */
static enum err_code trailer_line(struct s3_chunked *c, struct err *e)
{
    char *colon, *v;
    size_t i, n;

    if (!c->line[0]) {
        c->state = CH_DONE;
        return ERR_OK;
    }
    colon = strchr(c->line, ':');
    if (!colon || colon == c->line)
        return err_set(e, ERR_INVALID, "aws-chunked: malformed trailer");
    *colon = '\0';
    for (i = 0; c->line[i]; i++)
        c->line[i] = (char)tolower((unsigned char)c->line[i]);
    for (v = colon + 1; *v == ' '; v++)
        ;
    if (strcmp(c->line, "x-amz-trailer-signature") == 0) {
        if (!is_hex64(v))
            return err_set(e, ERR_INVALID, "aws-chunked: malformed trailer signature");
        memcpy(c->trailer_sig, v, 65);
        return ERR_OK;
    }
    if (strncmp(c->line, "x-amz-checksum-", 15) == 0 && strlen(c->line) < sizeof(c->trailer_name) &&
        strlen(v) < sizeof(c->trailer_value)) {
        memcpy(c->trailer_name, c->line, strlen(c->line) + 1);
        memcpy(c->trailer_value, v, strlen(v) + 1);
    }
    n = strlen(c->trailer_text);
    snprintf(c->trailer_text + n, sizeof(c->trailer_text) - n, "%s:%s\n", c->line, v);
    return ERR_OK;
}

enum err_code s3_chunked_feed(struct s3_chunked *c, const void *data, size_t n,
                              s3_chunked_sink_fn *sink, void *ud, struct err *e)
{
    const unsigned char *p = data, *end = p + n;
    enum err_code rc;

    while (p < end) {
        switch (c->state) {
        case CH_HEADER:
        case CH_TRAILER:
            if (*p == '\n') {
                if (!c->line_len || c->line[c->line_len - 1] != '\r')
                    return err_set(e, ERR_INVALID, "aws-chunked: line not ended by CRLF");
                c->line[--c->line_len] = '\0';
                c->line_len = 0;
                rc = c->state == CH_HEADER ? header_line(c, e) : trailer_line(c, e);
                if (rc)
                    return rc;
            } else {
                if (c->line_len + 2 > sizeof(c->line))
                    return err_set(e, ERR_INVALID, "aws-chunked: framing line too long");
                c->line[c->line_len++] = (char)*p;
            }
            p++;
            break;
        case CH_DATA: {
            size_t take = (size_t)(end - p) < c->left ? (size_t)(end - p) : (size_t)c->left;
            SHA256_Update(&c->chunk_hash, p, take);
            /* Unsigned chunks go on at once; signed ones too: the sink writes to
             * a temporary file that is discarded unless every signature holds. */
            rc = sink(ud, p, take, e);
            if (rc)
                return rc;
            c->total += take;
            c->left -= take;
            p += take;
            if (!c->left)
                c->state = CH_DATA_CR;
            break;
        }
        case CH_DATA_CR:
            if (*p++ != '\r')
                return err_set(e, ERR_INVALID, "aws-chunked: chunk data not followed by CRLF");
            c->state = CH_DATA_LF;
            break;
        case CH_DATA_LF:
            if (*p++ != '\n')
                return err_set(e, ERR_INVALID, "aws-chunked: chunk data not followed by CRLF");
            rc = check_chunk(c, e);
            if (rc)
                return rc;
            c->state = CH_HEADER;
            break;
        case CH_DONE:
            if (*p != '\r' && *p != '\n')
                return err_set(e, ERR_INVALID, "aws-chunked: bytes after the last chunk");
            p++;
            break;
        }
    }
    return ERR_OK;
}

enum err_code s3_chunked_finish(struct s3_chunked *c, struct err *e)
{
    /* Some clients end the trailer section without the final empty line. */
    if (c->state == CH_TRAILER && c->line_len == 0 && (c->trailer_name[0] || !c->signed_chunks))
        c->state = CH_DONE;
    if (c->state != CH_DONE)
        return err_set(e, ERR_INVALID, "aws-chunked: the body ended before its last chunk");
    if (c->signed_chunks && c->trailer_sig[0]) {
        char hh[65], sts[512], sig[65];
        {
            unsigned char h[32];
            SHA256((const unsigned char *)c->trailer_text, strlen(c->trailer_text), h);
            hex_encode(h, 32, hh);
        }
        snprintf(sts, sizeof(sts), "AWS4-HMAC-SHA256-TRAILER\n%s\n%s\n%s\n%s", c->amz_date,
                 c->scope, c->prev_sig, hh);
        hmac_hex(c->key, sts, sig);
        if (CRYPTO_memcmp(sig, c->trailer_sig, 64) != 0) {
            c->bad_signature = true;
            return err_set(e, ERR_INVALID,
                           "The request signature we calculated does not match the signature "
                           "you provided. Check your key and signing method.");
        }
    }
    return ERR_OK;
}
