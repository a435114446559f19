/* xmlw.h - writing XML text: escaping character data and simple elements
 * into a struct buf. The one XML writer the services (S3, IAM, STS) share. */
#ifndef TANDEM_XMLW_H
#define TANDEM_XMLW_H

#include "buf.h"

/* xmlw flags */
enum {
    XMLW_CTRL = 1, /* also escape control characters (< 0x20) as &#xN; */
};

/* xmlw_text - append @s (NULL: nothing) with &, <, >, " and ' escaped, and
 * control characters too when @flags has XMLW_CTRL. */
void xmlw_text(struct buf *b, const char *s, unsigned flags);

/* xmlw_elem - append <@name>@text escaped as xmlw_text()</@name>. */
void xmlw_elem(struct buf *b, const char *name, const char *text, unsigned flags);

#endif
