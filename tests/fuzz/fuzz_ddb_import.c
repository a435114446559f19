/* fuzz_ddb_import.c - arbitrary bytes as an object ImportTable reads from
 * S3: through the streamed reader (import_read.h) in pieces of sizes the
 * input picks, decompressed, cut into lines, each through
 * import_parse_line (DYNAMODB_JSON, ION or CSV).
 *
 * The first byte picks the format (bit 0: CSV, else bit 7: ION, else
 * DYNAMODB_JSON), the CSV delimiter (bits 1-3) and the table's key types.
 * The second picks the compression (bits 0-1: 1 GZIP, 2 ZSTD, else NONE)
 * and seeds the sizes of the pieces (1 to 256 bytes). The rest is the
 * object: for CSV its first line is the header, as in a file without
 * HeaderList. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "export.h"
#include "import_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
    struct import_format f;
    struct table_keys k;
    bool header;
};

static bool line(void *arg, const char *p, size_t n)
{
    struct run *r = arg;
    cJSON *item = NULL;
    struct err e = {0};

    if (!p) /* over-long */
        return true;
    if (r->header) {
        import_csv_header(&r->f, p, n);
        r->header = false;
    } else if (import_parse_line(&r->f, &r->k, p, n, &item, &e) == ERR_OK) {
        char *text = cJSON_PrintUnformatted(item);

        cJSON_free(text);
        cJSON_Delete(item);
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char delims[] = ",\t:;| ,,";
    static const char comps[] = {0, 'g', 'z', 0};
    struct run r;
    struct import_reader rd;
    unsigned seed;
    size_t pos = 2;

    if (size < 2)
        return 0;
    memset(&r.k, 0, sizeof(r.k));
    strcpy(r.k.hash, "pk");
    r.k.htype = (data[0] >> 4) & 1 ? KEYS_N : KEYS_S;
    r.k.has_range = (data[0] >> 5) & 1;
    strcpy(r.k.range, "sk");
    r.k.rtype = (data[0] >> 6) & 1 ? KEYS_B : KEYS_N;
    import_format_init(&r.f,
                       data[0] & 1        ? "CSV"
                       : (data[0] & 0x80) ? "ION"
                                          : "DYNAMODB_JSON",
                       NULL);
    r.f.delim = delims[(data[0] >> 1) & 7];
    r.header = r.f.csv;
    seed = data[1] >> 2;
    import_reader_init(&rd, comps[data[1] & 3], line, &r);
    while (pos < size) {
        size_t n;

        seed = seed * 1103515245u + 12345u;
        n = 1 + ((seed >> 16) & 255);
        if (n > size - pos)
            n = size - pos;
        if (!import_reader_feed(&rd, data + pos, n))
            break;
        pos += n;
    }
    import_reader_end(&rd);
    import_reader_free(&rd);
    import_format_free(&r.f);
    return 0;
}
