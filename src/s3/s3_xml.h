/* s3_xml.h - the XML S3 speaks: a small tree parsed with expat from request
 * bodies (CreateBucketConfiguration, VersioningConfiguration, Delete,
 * CompleteMultipartUpload, Tagging), and escaping for the responses we write.
 *
 * The parser refuses DOCTYPE declarations (no entity expansion), documents over
 * 1 MiB and nesting deeper than 32, so network bytes cannot make it allocate
 * without bound. Namespaces are ignored: element names are local names. */
#ifndef TANDEM_S3_XML_H
#define TANDEM_S3_XML_H

#include <stddef.h>

#include "arena.h"
#include "buf.h"
#include "err.h"
#include "xmlw.h" /* the responses are written with xmlw_text/xmlw_elem (XMLW_CTRL) */

struct s3_xml {
    const char *name; /* local name (after any "prefix:" or namespace), arena */
    char *text;       /* concatenated character data, trimmed, arena; "" when none */
    struct s3_xml *child, *next, *parent;
};

/*
 * s3_xml_parse - parse @len bytes into a tree in @a.
 * @out  the root element, arena.
 * Returns ERR_OK, or ERR_INVALID (malformed, DOCTYPE, too deep, too large)
 * with a message in @e.
 */
enum err_code s3_xml_parse(struct arena *a, const void *data, size_t len, struct s3_xml **out,
                           struct err *e);

/* s3_xml_child - the first child of @n named @name, or NULL (@n may be NULL). */
struct s3_xml *s3_xml_child(const struct s3_xml *n, const char *name);

/* s3_xml_text - the text of child @name of @n, or NULL when absent. */
const char *s3_xml_text(const struct s3_xml *n, const char *name);

#endif
