/* fuzz_s3_chunked.c - aws-chunked bodies through the streaming decoder, both
 * unsigned and with chunk signatures, fed in pieces whose sizes come from the
 * input so that every split of the framing is tried. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "s3_chunked.h"

static enum err_code sink(void *ud, const void *p, size_t n, struct err *e)
{
    size_t *total = ud;
    (void)p;
    (void)e;
    *total += n;
    return ERR_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned char key[32] = {1, 2, 3};
    struct s3_chunked c;
    size_t off = 1, total = 0, step;
    enum err_code rc = ERR_OK;

    if (size < 1)
        return 0;
    step = (size_t)(data[0] % 17) + 1;
    s3_chunked_init(&c, data[0] & 0x80, key, "20130524T000000Z",
                    "20130524/us-east-1/s3/aws4_request",
                    "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9");
    while (off < size && rc == ERR_OK) {
        size_t n = size - off < step ? size - off : step;
        rc = s3_chunked_feed(&c, data + off, n, sink, &total, NULL);
        off += n;
    }
    if (rc == ERR_OK)
        (void)s3_chunked_finish(&c, NULL);
    if (total != c.total)
        __builtin_trap();
    return 0;
}
