/* fuzz_ddb_import.c - arbitrary bytes as an object ImportTable reads from
 * S3, line by line, through import_parse_line (DYNAMODB_JSON, ION or CSV).
 *
 * The first byte picks the format (bit 0: CSV, else bit 7: ION, else
 * DYNAMODB_JSON), the CSV delimiter (bits 1-3) and the table's key types; the rest is the object's
 * text: for CSV its first line is the header, as in a file without HeaderList. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "export.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char delims[] = ",\t:;| ,,";
    struct import_format f;
    struct table_keys k;
    const char *p, *end;
    bool header;

    if (size < 1)
        return 0;
    memset(&k, 0, sizeof(k));
    strcpy(k.hash, "pk");
    k.htype = (data[0] >> 4) & 1 ? KEYS_N : KEYS_S;
    k.has_range = (data[0] >> 5) & 1;
    strcpy(k.range, "sk");
    k.rtype = (data[0] >> 6) & 1 ? KEYS_B : KEYS_N;
    import_format_init(&f, data[0] & 1 ? "CSV" : (data[0] & 0x80) ? "ION" : "DYNAMODB_JSON", NULL);
    f.delim = delims[(data[0] >> 1) & 7];
    header = f.csv;
    p = (const char *)data + 1;
    end = (const char *)data + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        cJSON *item = NULL;
        struct err e = {0};

        if (header) {
            import_csv_header(&f, p, n);
            header = false;
        } else if (import_parse_line(&f, &k, p, n, &item, &e) == ERR_OK) {
            char *text = cJSON_PrintUnformatted(item);

            cJSON_free(text);
            cJSON_Delete(item);
        }
        p += n + 1;
    }
    import_format_free(&f);
    return 0;
}
