/* xml.c - see s3_xml.h. */
#include "s3_xml.h"

#include <ctype.h>
#include <string.h>

#include <expat.h>

enum { XML_MAX_BYTES = 1 << 20, XML_MAX_DEPTH = 32 };

struct parse {
    struct arena *a;
    struct s3_xml *root, *cur;
    struct buf text; /* character data of @cur so far */
    int depth;
    const char *fail;
    XML_Parser p;
};

static const char *local_name(const char *n)
{
    const char *c = strrchr(n, ' '); /* expat namespace separator */
    if (!c)
        c = strrchr(n, ':');
    return c ? c + 1 : n;
}

static char *trimmed(struct arena *a, const char *s, size_t n)
{
    while (n && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    return arena_strndup(a, s, n);
}

static void stop(struct parse *ps, const char *why)
{
    if (!ps->fail)
        ps->fail = why;
    XML_StopParser(ps->p, XML_FALSE);
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
    struct parse *ps = ud;
    struct s3_xml *n, **tail;

    (void)attrs;
    if (++ps->depth > XML_MAX_DEPTH) {
        stop(ps, "The XML is nested too deeply");
        return;
    }
    if (ps->cur) /* text before a child element is not part of the parent's value */
        buf_reset(&ps->text);
    n = arena_calloc(ps->a, sizeof(*n));
    n->name = arena_strdup(ps->a, local_name(name));
    n->text = "";
    n->parent = ps->cur;
    if (!ps->cur) {
        if (ps->root) {
            stop(ps, "The XML has more than one root element");
            return;
        }
        ps->root = n;
    } else {
        for (tail = &ps->cur->child; *tail; tail = &(*tail)->next)
            ;
        *tail = n;
    }
    ps->cur = n;
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
    struct parse *ps = ud;

    (void)name;
    ps->depth--;
    if (!ps->cur)
        return;
    if (!ps->cur->child)
        ps->cur->text = trimmed(ps->a, ps->text.ptr ? ps->text.ptr : "", ps->text.len);
    buf_reset(&ps->text);
    ps->cur = ps->cur->parent;
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
    struct parse *ps = ud;

    if (ps->cur && len > 0 && buf_append(&ps->text, s, (size_t)len))
        stop(ps, "The XML text is too large");
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal)
{
    (void)name;
    (void)sysid;
    (void)pubid;
    (void)has_internal;
    stop(ud, "DOCTYPE is not allowed");
}

static void XMLCALL on_entity(void *ud, const XML_Char *name, int is_param, const XML_Char *value,
                              int value_len, const XML_Char *base, const XML_Char *system_id,
                              const XML_Char *public_id, const XML_Char *notation)
{
    (void)name;
    (void)is_param;
    (void)value;
    (void)value_len;
    (void)base;
    (void)system_id;
    (void)public_id;
    (void)notation;
    stop(ud, "entity declarations are not allowed");
}

static void free_parser(void *p)
{
    XML_ParserFree(p);
}

enum err_code s3_xml_parse(struct arena *a, const void *data, size_t len, struct s3_xml **out,
                           struct err *e)
{
    struct parse ps;
    enum err_code rc = ERR_OK;

    *out = NULL;
    if (len > XML_MAX_BYTES)
        return err_set(e, ERR_INVALID, "The XML you provided was too large");
    if (len > (size_t)0x7fffffff)
        return err_set(e, ERR_INVALID, "The XML you provided was too large");
    memset(&ps, 0, sizeof(ps));
    ps.a = a;
    buf_init(&ps.text, XML_MAX_BYTES);
    ps.p = XML_ParserCreateNS(NULL, ' ');
    if (!ps.p)
        return err_set(e, ERR_INTERNAL, "cannot create an XML parser");
    arena_on_free(a, free_parser, ps.p);
    XML_SetUserData(ps.p, &ps);
    XML_SetElementHandler(ps.p, on_start, on_end);
    XML_SetCharacterDataHandler(ps.p, on_text);
    XML_SetStartDoctypeDeclHandler(ps.p, on_doctype);
    XML_SetEntityDeclHandler(ps.p, on_entity);
    if (XML_Parse(ps.p, data, (int)len, XML_TRUE) != XML_STATUS_OK || ps.fail || !ps.root) {
        rc = err_set(e, ERR_INVALID,
                     "The XML you provided was not well-formed or did not validate against "
                     "our published schema");
    }
    buf_free(&ps.text);
    if (rc == ERR_OK)
        *out = ps.root;
    return rc;
}

struct s3_xml *s3_xml_child(const struct s3_xml *n, const char *name)
{
    struct s3_xml *c;

    if (!n)
        return NULL;
    for (c = n->child; c; c = c->next)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

const char *s3_xml_text(const struct s3_xml *n, const char *name)
{
    struct s3_xml *c = s3_xml_child(n, name);
    return c ? c->text : NULL;
}
