/* fuzz_s3_xml.c - the XML request bodies of S3 (CreateBucketConfiguration,
 * VersioningConfiguration, Delete, CompleteMultipartUpload, Tagging,
 * CORSConfiguration) through s3_xml_parse, then walked and re-escaped as the
 * handlers do, and checked as a CORS configuration. */
#include <stddef.h>
#include <stdint.h>

#include "s3_int.h"
#include "s3_xml.h"

static void walk(const struct s3_xml *n, struct buf *b, int depth)
{
    for (; n; n = n->next) {
        xmlw_elem(b, n->name, n->text, XMLW_CTRL);
        (void)s3_xml_text(n, "Key");
        if (depth < 64)
            walk(n->child, b, depth + 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena *a = arena_new();
    struct s3_xml *x = NULL;
    struct buf b;

    buf_init(&b, 1 << 22);
    if (s3_xml_parse(a, data, size, &x, NULL) == ERR_OK) {
        enum s3_code code;
        char msg[300];
        walk(x, &b, 0);
        (void)s3_cors_check(x, &code, msg, sizeof(msg));
    }
    buf_free(&b);
    arena_free(a);
    return 0;
}
