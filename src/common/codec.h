/* codec.h - hex and base64, as the AWS protocols use them. */
#ifndef TANDEM_CODEC_H
#define TANDEM_CODEC_H

#include <stdbool.h>
#include <stddef.h>

/* hex_encode - write 2*@n lowercase hex digits and a NUL to @out (size >= 2*n+1). */
void hex_encode(const void *p, size_t n, char *out);

/* base64_encoded_len - bytes base64_encode() writes for @n input bytes, without the NUL. */
size_t base64_encoded_len(size_t n);

/* base64_encode - standard alphabet with padding; @out holds base64_encoded_len(n)+1. */
void base64_encode(const void *p, size_t n, char *out);

/* base64_decode - strict standard base64 (padding required, no whitespace).
 * @out needs room for (len/4)*3 bytes. Returns false on malformed input. */
bool base64_decode(const char *s, size_t len, unsigned char *out, size_t *outlen);

#endif
