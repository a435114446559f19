/* test_s3_crc.c - the CRCs of S3 checksums (src/s3/util.c): CRC32, CRC32C
 * and CRC-64/NVME against their published check values, and s3_crc_combine,
 * which makes a multipart upload's whole-object CRC from its parts' CRCs and
 * sizes, against a straight CRC of the concatenation over many random splits
 * (empty parts, one-byte parts, long parts). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <cmocka.h>

#include "s3_int.h"

static uint64_t crc_of(int alg, const unsigned char *p, size_t n)
{
    if (alg == CK_CRC32)
        return (uint32_t)crc32(0, p, (uInt)n);
    if (alg == CK_CRC32C)
        return s3_crc32c(0, p, n);
    return s3_crc64nvme(0, p, n);
}

static void test_check_values(void **state)
{
    const unsigned char *s = (const unsigned char *)"123456789";

    (void)state;
    assert_int_equal(crc_of(CK_CRC32, s, 9), 0xCBF43926u);
    assert_int_equal(crc_of(CK_CRC32C, s, 9), 0xE3069283u);
    assert_true(crc_of(CK_CRC64NVME, s, 9) == 0xAE8B14860A799888ull);
}

static void test_combine_two(void **state)
{
    const unsigned char *s = (const unsigned char *)"123456789";
    static const int algs[] = {CK_CRC32, CK_CRC32C, CK_CRC64NVME};

    (void)state;
    for (size_t a = 0; a < 3; a++)
        for (size_t cut = 0; cut <= 9; cut++) {
            uint64_t c1 = crc_of(algs[a], s, cut), c2 = crc_of(algs[a], s + cut, 9 - cut);
            assert_true(s3_crc_combine(algs[a], c1, c2, 9 - cut) == crc_of(algs[a], s, 9));
        }
}

/* random data cut into up to 20 parts at random places; the parts' CRCs folded
 * with s3_crc_combine equal the CRC of the whole */
static void test_combine_random_splits(void **state)
{
    static const int algs[] = {CK_CRC32, CK_CRC32C, CK_CRC64NVME};
    enum { MAXLEN = 70000 };
    unsigned char *buf = malloc(MAXLEN);
    unsigned seed = 12345;

    (void)state;
    for (int round = 0; round < 300; round++) {
        size_t len = (size_t)rand_r(&seed) % MAXLEN, cuts[21], n, i;
        for (i = 0; i < len; i++)
            buf[i] = (unsigned char)rand_r(&seed);
        n = 1 + (size_t)rand_r(&seed) % 20;
        cuts[0] = 0;
        for (i = 1; i < n; i++) /* sorted random cut points, repeats give empty parts */
            cuts[i] = len ? (size_t)rand_r(&seed) % (len + 1) : 0;
        cuts[n] = len;
        for (i = 1; i < n; i++)
            for (size_t j = i; j > 1 && cuts[j - 1] > cuts[j]; j--) {
                size_t t = cuts[j];
                cuts[j] = cuts[j - 1];
                cuts[j - 1] = t;
            }
        for (size_t a = 0; a < 3; a++) {
            uint64_t whole = crc_of(algs[a], buf, cuts[1]);
            for (i = 1; i < n; i++) {
                size_t plen = cuts[i + 1] - cuts[i];
                whole = s3_crc_combine(algs[a], whole, crc_of(algs[a], buf + cuts[i], plen), plen);
            }
            assert_true(whole == crc_of(algs[a], buf, len));
        }
    }
    free(buf);
}

/* parts of 5 GiB: the combine does not read the bytes, so a long zero run's CRC
 * (computed once per MiB and combined) matches the CRC folded in 1 MiB steps */
static void test_combine_long(void **state)
{
    enum { MIB = 1 << 20 };
    unsigned char *z = calloc(1, MIB);
    static const int algs[] = {CK_CRC32, CK_CRC32C, CK_CRC64NVME};

    (void)state;
    for (size_t a = 0; a < 3; a++) {
        uint64_t one = crc_of(algs[a], z, MIB), step = one, big;
        uint64_t head = crc_of(algs[a], (const unsigned char *)"head", 4);
        for (int i = 1; i < 64; i++)
            step = s3_crc_combine(algs[a], step, one, MIB);
        big = s3_crc_combine(algs[a], head, step, 64ull * MIB);
        /* the same as head then 64 MiB of zeros fed straight */
        {
            uint64_t c = algs[a] == CK_CRC32 ? (uint32_t)crc32(0, (const unsigned char *)"head", 4)
                         : algs[a] == CK_CRC32C ? s3_crc32c(0, "head", 4)
                                                : s3_crc64nvme(0, "head", 4);
            for (int i = 0; i < 64; i++)
                c = algs[a] == CK_CRC32    ? (uint32_t)crc32((uLong)c, z, MIB)
                    : algs[a] == CK_CRC32C ? s3_crc32c((uint32_t)c, z, MIB)
                                           : s3_crc64nvme(c, z, MIB);
            assert_true(big == c);
        }
    }
    free(z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_values),
        cmocka_unit_test(test_combine_two),
        cmocka_unit_test(test_combine_random_splits),
        cmocka_unit_test(test_combine_long),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
