/* util.c - helpers of the S3 module: CRC32C, bucket names, times, ids, store
 * keys, body files. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "codec.h"
#include "log.h"
#include "sigv4.h"
#include "s3_int.h"

static uint32_t crc32c_table[256];
static pthread_once_t crc32c_once = PTHREAD_ONCE_INIT;

static void crc32c_init(void)
{
    for (uint32_t k = 0; k < 256; k++) {
        uint32_t c = k;
        for (int j = 0; j < 8; j++)
            c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1; /* Castagnoli, reflected */
        crc32c_table[k] = c;
    }
}

uint32_t s3_crc32c(uint32_t crc, const void *p, size_t n)
{
    const unsigned char *b = p;
    size_t i;

    pthread_once(&crc32c_once, crc32c_init);
    crc = ~crc;
    for (i = 0; i < n; i++)
        crc = crc32c_table[(crc ^ b[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

/* tag_chars_ok - S3's tag characters: letters, digits and spaces (any
 * non-ASCII UTF-8 is taken as such) and + - = . _ : / @ */
static bool tag_chars_ok(const char *s)
{
    for (; *s; s++)
        if (!((unsigned char)*s >= 0x80 || isalnum((unsigned char)*s) || strchr(" +-=._:/@", *s)))
            return false;
    return true;
}

const char *s3_tag_add(cJSON *arr, const char *k, const char *v, size_t n, size_t max, int *names)
{
    cJSON *o;

    *names = 0;
    if (!*k || strlen(k) > 128 || strlen(v) > 256 || n > max)
        return n <= max    ? ""
               : max == 10 ? "Object tags cannot be greater than 10"
                           : "Bucket tag count cannot be greater than 50";
    *names = 1;
    if (!tag_chars_ok(k))
        return "The TagKey you have provided is invalid";
    if (strncmp(k, "aws:", 4) == 0) /* reserved for AWS; S3 words it per resource */
        return max > 10 ? "System tags cannot be added/updated by requester"
                        : "Your TagKey cannot be prefixed with aws:";
    for (const cJSON *e = arr->child; e; e = e->next)
        if (strcmp(json_str_ci(e, "k"), k) == 0)
            return "Cannot provide multiple Tags with the same key";
    if (!tag_chars_ok(v)) {
        *names = 2;
        return "The TagValue you have provided is invalid";
    }
    *names = 0;
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "k", k);
    cJSON_AddStringToObject(o, "v", v);
    cJSON_AddItemToArray(arr, o);
    return NULL;
}

/* slicing-by-8: t[j][k] is the CRC register after byte k and j zero bytes, so
 * eight bytes go through in one step (every new object's default checksum is
 * computed as its body arrives) */
static uint64_t crc64_table[8][256];
static pthread_once_t crc64_once = PTHREAD_ONCE_INIT;

static void crc64_init(void)
{
    for (uint64_t k = 0; k < 256; k++) {
        uint64_t c = k;
        for (int j = 0; j < 8; j++) /* CRC-64/NVME, reflected */
            c = (c & 1) ? (c >> 1) ^ 0x9A6C9329AC4BC9B5ull : c >> 1;
        crc64_table[0][k] = c;
    }
    for (int j = 1; j < 8; j++)
        for (int k = 0; k < 256; k++)
            crc64_table[j][k] =
                crc64_table[0][crc64_table[j - 1][k] & 0xff] ^ (crc64_table[j - 1][k] >> 8);
}

uint64_t s3_crc64nvme(uint64_t crc, const void *p, size_t n)
{
    const unsigned char *b = p;

    pthread_once(&crc64_once, crc64_init);
    crc = ~crc;
    for (; n >= 8; n -= 8, b += 8) {
        uint64_t w = 0;
        for (int i = 7; i >= 0; i--)
            w = (w << 8) | b[i]; /* little-endian load */
        crc ^= w;
        crc = crc64_table[7][crc & 0xff] ^ crc64_table[6][(crc >> 8) & 0xff] ^
              crc64_table[5][(crc >> 16) & 0xff] ^ crc64_table[4][(crc >> 24) & 0xff] ^
              crc64_table[3][(crc >> 32) & 0xff] ^ crc64_table[2][(crc >> 40) & 0xff] ^
              crc64_table[1][(crc >> 48) & 0xff] ^ crc64_table[0][crc >> 56];
    }
    for (; n; n--, b++)
        crc = crc64_table[0][(crc ^ *b) & 0xff] ^ (crc >> 8);
    return ~crc;
}

/* ---- combining CRCs (zlib's crc32_combine, for any reflected CRC) ----
 * crc(A || B) = crc(A) * x^(8 |B|) + crc(B) modulo the polynomial, for CRCs
 * whose register starts and ends inverted (CRC32, CRC32C, CRC-64/NVME). In the
 * reflected form the top bit of a @w-bit word is x^0. */

struct crc_poly {
    uint64_t poly; /* reflected */
    uint64_t top;  /* x^0: 1 << (width - 1) */
    uint64_t mask;
    uint64_t x2n[64]; /* x^(2^k) mod poly */
};

static struct crc_poly crc_polys[3] = {
    {0xEDB88320u, 1ull << 31, 0xffffffffu, {0}},
    {0x82F63B78u, 1ull << 31, 0xffffffffu, {0}},
    {0x9A6C9329AC4BC9B5ull, 1ull << 63, ~0ull, {0}},
};
static pthread_once_t crc_polys_once = PTHREAD_ONCE_INIT;

/* a * b modulo the polynomial */
static uint64_t crc_mulmod(const struct crc_poly *c, uint64_t a, uint64_t b)
{
    uint64_t m = c->top, p = 0;

    while (m) {
        if (a & m) {
            p ^= b;
            if ((a & (m - 1)) == 0)
                break;
        }
        m >>= 1;
        b = b & 1 ? (b >> 1) ^ c->poly : b >> 1;
    }
    return p & c->mask;
}

static void crc_polys_init(void)
{
    for (int i = 0; i < 3; i++) {
        struct crc_poly *c = &crc_polys[i];
        c->x2n[0] = c->top >> 1; /* x^1 */
        for (int k = 1; k < 64; k++)
            c->x2n[k] = crc_mulmod(c, c->x2n[k - 1], c->x2n[k - 1]);
    }
}

uint64_t s3_crc_combine(int alg, uint64_t crc1, uint64_t crc2, uint64_t len2)
{
    const struct crc_poly *c;
    uint64_t p;
    int k = 3; /* x^(8 n) = x^(n 2^3) */

    pthread_once(&crc_polys_once, crc_polys_init);
    c = &crc_polys[alg == CK_CRC32 ? 0 : alg == CK_CRC32C ? 1 : 2];
    p = c->top;
    for (; len2; len2 >>= 1, k++)
        if (len2 & 1)
            p = crc_mulmod(c, c->x2n[k & 63], p);
    return (crc_mulmod(c, p, crc1 & c->mask) ^ crc2) & c->mask;
}

/* Bucket naming rules (general purpose buckets): 3-63 characters of a-z 0-9 . -,
 * beginning and ending with a letter or digit, each dot-separated label too (no
 * "..", ".-" or "-."), not an IP address, not starting with xn--, sthree- or
 * amzn-s3-demo-, not ending with -s3alias, --ol-s3, --x-s3 or .mrap. */
bool s3_bucket_name_ok(const char *name)
{
    size_t n = strlen(name), i;
    int dots = 0;
    bool all_digits_dots = true;

    if (n < 3 || n > 63)
        return false;
    for (i = 0; i < n; i++) {
        char c = name[i];
        if (!(islower((unsigned char)c) || isdigit((unsigned char)c) || c == '.' || c == '-'))
            return false;
        if (c == '.') {
            dots++;
            /* every label between dots begins and ends with a letter or digit */
            if (i && (name[i - 1] == '.' || name[i - 1] == '-'))
                return false;
            if (name[i + 1] == '-')
                return false;
        } else if (!isdigit((unsigned char)c)) {
            all_digits_dots = false;
        }
    }
    if (!isalnum((unsigned char)name[0]) || !isalnum((unsigned char)name[n - 1]))
        return false;
    if (dots == 3 && all_digits_dots)
        return false;
    if (strncmp(name, "xn--", 4) == 0 || strncmp(name, "sthree-", 7) == 0 ||
        strncmp(name, "amzn-s3-demo-", 13) == 0)
        return false;
    if ((n > 8 && strcmp(name + n - 8, "-s3alias") == 0) ||
        (n > 7 && strcmp(name + n - 7, "--ol-s3") == 0) ||
        (n > 6 && strcmp(name + n - 6, "--x-s3") == 0) ||
        (n > 5 && strcmp(name + n - 5, ".mrap") == 0))
        return false;
    return true;
}

/* s3_time_iso - S3 keeps times to the second: a listing's LastModified
 * (".000Z") equals the object's Last-Modified header. */
void s3_time_iso(int64_t ms, char out[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    gmtime_r(&t, &tm);
    snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d.000Z", (tm.tm_year + 1900) % 10000,
             (tm.tm_mon + 1) % 100, tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100,
             tm.tm_sec % 100);
}

void s3_time_http(int64_t ms, char out[40])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 40, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

bool s3_time_parse_http(const char *s, int64_t *ms)
{
    struct tm tm;
    const char *end;

    memset(&tm, 0, sizeof(tm));
    end = strptime(s, "%a, %d %b %Y %H:%M:%S", &tm);
    if (!end) {
        memset(&tm, 0, sizeof(tm));
        end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    }
    if (!end)
        return false;
    *ms = (int64_t)timegm(&tm) * 1000;
    return true;
}

void s3_new_id(char out[33])
{
    unsigned char b[16];
    struct timespec ts;
    uint64_t ms;

    clock_gettime(CLOCK_REALTIME, &ts);
    ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    for (int i = 0; i < 6; i++)
        b[i] = (unsigned char)(ms >> (40 - 8 * i));
    RAND_bytes(b + 6, 10);
    hex_encode(b, 16, out);
}

bool s3_vid_ok(const char *vid)
{
    size_t i;

    if (strcmp(vid, "null") == 0)
        return true;
    for (i = 0; vid[i]; i++)
        if (!isdigit((unsigned char)vid[i]) && !(vid[i] >= 'a' && vid[i] <= 'f'))
            return false;
    return i == 32;
}

/* A per-thread splitmix64 sequence from a random start: the state steps by an
 * odd constant and the mix is a bijection, so one thread never repeats a value
 * (for 2^64 calls) and two threads' sequences meet only by a 64-bit chance.
 * Request ids need to be unique, not secret; RAND_bytes twice per request was
 * a fifth of a small GET's CPU. */
uint64_t s3_id_rand(void)
{
    static _Thread_local uint64_t state;
    static _Thread_local bool seeded;
    uint64_t z;

    if (!seeded) {
        RAND_bytes((unsigned char *)&state, sizeof(state));
        seeded = true;
    }
    z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

struct slice s3_key_bucket(struct arena *a, const char *bucket)
{
    char *k = arena_sprintf(a, "B%s", bucket);
    return slice_str(k);
}

struct slice s3_key_seq(struct arena *a, char tag, uint64_t seq)
{
    unsigned char *k = arena_alloc(a, 9);

    k[0] = (unsigned char)tag;
    for (int i = 0; i < 8; i++)
        k[1 + i] = (unsigned char)(seq >> (56 - 8 * i));
    return slice_of(k, 9);
}

/* keys over S3_KEY_INLINE bytes: see s3_int.h */
struct slice s3_key_obj_prefix(struct arena *a, const char *bucket, const char *key)
{
    size_t bl = strlen(bucket), kl = strlen(key);
    char *k = arena_alloc(a, bl + (kl > S3_KEY_INLINE ? S3_KEY_INLINE : kl) + 3);

    k[0] = 'O';
    memcpy(k + 1, bucket, bl);
    k[1 + bl] = '\0';
    if (kl > S3_KEY_INLINE) {
        size_t keep = S3_KEY_SORTED;
        memcpy(k + 2 + bl, key, keep);
        k[2 + bl + keep] = (char)0xff;
        sigv4_sha256_hex(key, kl, k + 3 + bl + keep); /* writes 64 digits and a NUL */
        kl = S3_KEY_INLINE;
    } else {
        memcpy(k + 2 + bl, key, kl);
    }
    return slice_of(k, bl + kl + 2);
}

bool s3_key_hashed(const char *name)
{
    for (; *name; name++)
        if ((unsigned char)*name == 0xff)
            return true;
    return false;
}

struct slice s3_key_version(struct arena *a, const char *bucket, const char *key, uint64_t seq)
{
    struct slice p = s3_key_obj_prefix(a, bucket, key);
    unsigned char *k = arena_alloc(a, p.len + 9);
    uint64_t inv = UINT64_MAX - seq;

    memcpy(k, p.ptr, p.len);
    k[p.len] = 0;
    for (int i = 0; i < 8; i++)
        k[p.len + 1 + i] = (unsigned char)(inv >> (56 - 8 * i));
    return slice_of(k, p.len + 9);
}

const char *s3_key_name(struct arena *a, struct slice k, size_t bucket_len)
{
    const char *p = (const char *)k.ptr + 2 + bucket_len;
    if (k.len < bucket_len + 11)
        return "";
    return arena_strndup(a, p, k.len - bucket_len - 11);
}

char *s3_abs_path(struct s3 *s3, struct arena *a, const char *rel)
{
    return arena_sprintf(a, "%s/%s", s3->objects_dir, rel);
}

static int fsync_path(const char *dir)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

    if (dfd < 0)
        return -1;
    rc = fsync(dfd);
    close(dfd);
    return rc;
}

/* Make the body folder @i (00-ff) and flush its name into objects/. */
static int make_dir(struct s3 *s3, unsigned i)
{
    char path[4096];

    snprintf(path, sizeof(path), "%s/%02x", s3->objects_dir, i & 0xff);
    if (mkdir(path, 0755) != 0)
        return errno == EEXIST ? 0 : -1;
    return fsync_path(s3->objects_dir);
}

enum err_code s3_make_dirs(struct s3 *s3, struct err *e)
{
    for (unsigned i = 0; i < 256; i++)
        if (make_dir(s3, i) != 0)
            return err_set(e, ERR_IO, "cannot create %s/%02x: %s", s3->objects_dir, i,
                           strerror(errno));
    return ERR_OK;
}

char *s3_new_body_path(struct s3 *s3, struct arena *a, char **abs)
{
    char id[33], *rel;

    s3_new_id(id);
    /* spread over the 256 folders (s3_make_dirs) by the random part of the id */
    rel = arena_sprintf(a, "%.2s/%s", id + 30, id);
    *abs = s3_abs_path(s3, a, rel);
    return rel;
}

int s3_make_tmp(struct s3 *s3, struct arena *a, char **path)
{
    char id[33];

    s3_new_id(id);
    *path = arena_sprintf(a, "%s/tmp/%s", s3->objects_dir, id);
    return open(*path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
}

static int rename_into(struct s3 *s3, const char *tmp, const char *abs, const char *rel)
{
    if (rename(tmp, abs) == 0)
        return 0;
    if (errno != ENOENT || strlen(rel) < 3 || rel[2] != '/')
        return -1;
    /* its folder went away since s3_open: make it again */
    if (make_dir(s3, (unsigned)strtoul(rel, NULL, 16)) != 0)
        return -1;
    return rename(tmp, abs);
}

/* whether s3_fail_flush asked this flush to fail at @step (errno EIO then) */
static bool injected(struct s3 *s3, enum s3_flush_step step)
{
    int left;

    if (atomic_load(&s3->fail_step) != (int)step)
        return false;
    left = atomic_load(&s3->fail_left);
    while (left > 0 && !atomic_compare_exchange_weak(&s3->fail_left, &left, left - 1))
        ;
    if (left <= 0)
        return false;
    errno = EIO;
    return true;
}

enum err_code s3_commit_file(struct s3 *s3, struct arena *a, int fd, const char *tmp,
                             const char *rel, struct err *e)
{
    char *abs = s3_abs_path(s3, a, rel);

    /* The body's pages were handed to writeback every few MiB while it
     * streamed in (sync_file_range in api.c), so this last fsync has little
     * left to write. Uploads, copies and completed multipart uploads call
     * this on a flush thread (flush.c), not on a request thread. */
    if (injected(s3, S3_FLUSH_DATA) || fdatasync(fd) != 0) {
        err_set(e, ERR_IO, "fsync %s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        return ERR_IO;
    }
    close(fd);
    if (injected(s3, S3_FLUSH_RENAME) || rename_into(s3, tmp, abs, rel) != 0) {
        err_set(e, ERR_IO, "rename %s: %s", tmp, strerror(errno));
        unlink(tmp);
        return ERR_IO;
    }
    /* the new name must be durable too, before metadata points at it */
    {
        char *dir = arena_strdup(a, abs);
        *strrchr(dir, '/') = '\0';
        if (injected(s3, S3_FLUSH_FOLDER) || fsync_path(dir) != 0) {
            /* no record will name it: the body goes, as a failed upload's */
            err_set(e, ERR_IO, "fsync %s: %s", dir, strerror(errno));
            unlink(abs);
            return ERR_IO;
        }
    }
    return ERR_OK;
}

void s3_json_free(void *p)
{
    cJSON_Delete(p);
}

void s3_orphan_free(void *p)
{
    struct s3_orphan *o = p;
    if (!o->keep)
        unlink(o->path);
}

bool s3_etag_in(const char *list, const char *etag)
{
    const char *p = list;
    size_t el = strlen(etag);

    while (*p) {
        size_t n;
        while (*p == ' ' || *p == ',')
            p++;
        n = strcspn(p, ",");
        while (n && p[n - 1] == ' ')
            n--;
        if (n == 1 && *p == '*')
            return true;
        if ((n == el && strncmp(p, etag, n) == 0) || (n + 2 == el && strncmp(p, etag + 1, n) == 0))
            return true;
        p += strcspn(p, ",");
    }
    return false;
}
