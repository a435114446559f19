/* xmlw.c - see xmlw.h. */
#include "xmlw.h"

void xmlw_text(struct buf *b, const char *s, unsigned flags)
{
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '&':
            buf_puts(b, "&amp;");
            break;
        case '<':
            buf_puts(b, "&lt;");
            break;
        case '>':
            buf_puts(b, "&gt;");
            break;
        case '"':
            buf_puts(b, "&quot;");
            break;
        case '\'':
            buf_puts(b, "&apos;");
            break;
        default:
            if (c < 0x20 && (flags & XMLW_CTRL))
                buf_printf(b, "&#x%X;", c);
            else
                buf_putc(b, (char)c);
        }
    }
}

void xmlw_elem(struct buf *b, const char *name, const char *text, unsigned flags)
{
    buf_printf(b, "<%s>", name);
    xmlw_text(b, text, flags);
    buf_printf(b, "</%s>", name);
}
