/* export_ion.c - the Amazon Ion text of DynamoDB's ION exports and imports
 * (export.h): one line per item, `$ion_1_0 {Item:{name:value,...}}`, each
 * AttributeValue as its Ion type: S a string, N a decimal (`12.5`, `100.`),
 * B a blob (`{{base64}}`), BOOL a bool, NULL null, L a list, M a struct, and
 * the sets lists annotated `$dynamodb_SS::`, `$dynamodb_NS::`,
 * `$dynamodb_BS::`. The reader takes that subset of Ion text, with ints,
 * `d`/`e` exponents and quoted symbols too; not long strings, other
 * annotations or Ion binary: such a line is an error, counted as an import
 * counts one. */
#include "export.h"

#include <ctype.h>
#include <string.h>

/* ---- writing ---- */

static void ion_string(struct buf *b, const char *s, char quote)
{
    buf_putc(b, quote);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == (unsigned char)quote || *p == '\\') {
            buf_putc(b, '\\');
            buf_putc(b, (char)*p);
        } else if (*p < 0x20 || *p == 0x7f) {
            buf_printf(b, "\\x%02x", *p);
        } else {
            buf_putc(b, (char)*p);
        }
    }
    buf_putc(b, quote);
}

static void ion_symbol(struct buf *b, const char *s)
{
    bool plain = (isalpha((unsigned char)s[0]) || s[0] == '_') && strcmp(s, "null") != 0 &&
                 strcmp(s, "true") != 0 && strcmp(s, "false") != 0 && strcmp(s, "nan") != 0;

    for (const char *p = s; plain && *p; p++)
        plain = isalnum((unsigned char)*p) || *p == '_' || *p == '$';
    if (plain)
        buf_puts(b, s);
    else
        ion_string(b, s, '\'');
}

static void ion_decimal(struct buf *b, const char *n)
{
    buf_puts(b, n);
    if (!strchr(n, '.'))
        buf_putc(b, '.'); /* an integer text would be an Ion int */
}

static void ion_av(struct buf *b, const cJSON *av);

/* put_struct - the members of @m as an Ion struct, each value written by @value */
static void put_struct(struct buf *b, const cJSON *m, void (*value)(struct buf *, const cJSON *))
{
    const cJSON *x;
    bool first = true;

    buf_putc(b, '{');
    cJSON_ArrayForEach(x, m)
    {
        if (!first)
            buf_putc(b, ',');
        first = false;
        ion_symbol(b, x->string);
        buf_putc(b, ':');
        value(b, x);
    }
    buf_putc(b, '}');
}

/* ion_map - a map of attribute values (an item, or an M) */
static void ion_map(struct buf *b, const cJSON *m)
{
    put_struct(b, m, ion_av);
}

static void ion_av(struct buf *b, const cJSON *av)
{
    const cJSON *v = av ? av->child : NULL, *x;
    const char *t = v ? v->string : "NULL";

    if (strcmp(t, "S") == 0) {
        ion_string(b, cJSON_GetStringValue(v), '"');
    } else if (strcmp(t, "N") == 0) {
        ion_decimal(b, cJSON_GetStringValue(v));
    } else if (strcmp(t, "B") == 0) {
        buf_printf(b, "{{%s}}", cJSON_GetStringValue(v));
    } else if (strcmp(t, "BOOL") == 0) {
        buf_puts(b, cJSON_IsTrue(v) ? "true" : "false");
    } else if (strcmp(t, "M") == 0) {
        ion_map(b, v);
    } else if (strcmp(t, "L") == 0 || (t[0] && t[1] == 'S' && !t[2])) {
        bool first = true;

        if (strcmp(t, "L") != 0)
            buf_printf(b, "$dynamodb_%s::", t);
        buf_putc(b, '[');
        cJSON_ArrayForEach(x, v)
        {
            if (!first)
                buf_putc(b, ',');
            first = false;
            if (strcmp(t, "L") == 0)
                ion_av(b, x);
            else if (t[0] == 'S')
                ion_string(b, cJSON_GetStringValue(x), '"');
            else if (t[0] == 'N')
                ion_decimal(b, cJSON_GetStringValue(x));
            else
                buf_printf(b, "{{%s}}", cJSON_GetStringValue(x));
        }
        buf_putc(b, ']');
    } else {
        buf_puts(b, "null");
    }
}

void export_ion_line(struct buf *b, const char *json, size_t n)
{
    cJSON *line = cJSON_ParseWithLength(json, n);

    buf_puts(b, "$ion_1_0 ");
    put_struct(b, line, ion_map); /* {Item: {...}} or NewImage/OldImage/Keys */
    cJSON_Delete(line);
}

/* ---- reading ---- */

struct rd {
    const char *p, *end;
    int depth;
};

static void skip_ws(struct rd *r)
{
    while (r->p < r->end && isspace((unsigned char)*r->p))
        r->p++;
}

static bool eat(struct rd *r, const char *s)
{
    size_t n = strlen(s);

    skip_ws(r);
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, s, n) != 0)
        return false;
    r->p += n;
    return true;
}

/* quoted - a "..." or '...' text into @out (NUL-terminated). */
static bool quoted(struct rd *r, char q, struct buf *out)
{
    skip_ws(r);
    if (r->p >= r->end || *r->p != q)
        return false;
    for (r->p++; r->p < r->end && *r->p != q; r->p++) {
        char c = *r->p;

        if (c == '\n')
            return false;
        if (c == '\\') {
            if (++r->p >= r->end)
                return false;
            c = *r->p;
            if (c == 'x') {
                unsigned v = 0;

                for (int i = 0; i < 2; i++) {
                    if (++r->p >= r->end || !isxdigit((unsigned char)*r->p))
                        return false;
                    v = v * 16 + (unsigned)(isdigit((unsigned char)*r->p)
                                                ? *r->p - '0'
                                                : (tolower((unsigned char)*r->p) - 'a' + 10));
                }
                c = (char)v;
            } else if (c == 'n') {
                c = '\n';
            } else if (c == 't') {
                c = '\t';
            } else if (c == 'r') {
                c = '\r';
            } else if (c == '0') {
                c = '\0';
            } else if (c != '"' && c != '\'' && c != '\\' && c != '/') {
                return false;
            }
        }
        buf_putc(out, c);
    }
    if (r->p >= r->end)
        return false;
    r->p++;
    buf_putc(out, '\0');
    return true;
}

/* symbol - a field name: an identifier or a quoted symbol. */
static bool symbol(struct rd *r, struct buf *out)
{
    skip_ws(r);
    buf_reset(out);
    if (r->p < r->end && *r->p == '\'')
        return quoted(r, '\'', out);
    while (r->p < r->end && (isalnum((unsigned char)*r->p) || *r->p == '_' || *r->p == '$'))
        buf_putc(out, *r->p++);
    if (!out->len)
        return false;
    buf_putc(out, '\0');
    return true;
}

/* number - an Ion int or decimal (d or e exponent) as DynamoDB N text. */
static bool number(struct rd *r, struct buf *out)
{
    buf_reset(out);
    skip_ws(r);
    while (r->p < r->end && (isdigit((unsigned char)*r->p) || strchr("+-.dDeE_", *r->p) != NULL)) {
        char c = *r->p++;

        if (c == '_')
            continue;
        buf_putc(out, c == 'd' || c == 'D' ? 'E' : c);
    }
    if (!out->len)
        return false;
    if (out->ptr[out->len - 1] == '.')
        out->len--;
    buf_putc(out, '\0');
    return true;
}

static bool blob(struct rd *r, struct buf *out)
{
    const char *s;

    if (!eat(r, "{{"))
        return false;
    skip_ws(r);
    s = r->p;
    while (r->p < r->end && *r->p != '}')
        r->p++;
    buf_reset(out);
    buf_append(out, s, (size_t)(r->p - s));
    while (out->len && isspace((unsigned char)out->ptr[out->len - 1]))
        out->len--;
    buf_putc(out, '\0');
    return eat(r, "}}");
}

static cJSON *value(struct rd *r);

/* ion_struct - {name:value,...} as a map of AttributeValues (an object). */
static cJSON *ion_struct(struct rd *r)
{
    cJSON *o = cJSON_CreateObject();
    struct buf name;

    buf_init(&name, 0);
    if (!eat(r, "{"))
        goto bad;
    if (eat(r, "}")) {
        buf_free(&name);
        return o;
    }
    for (;;) {
        cJSON *v;

        if (!symbol(r, &name) || !eat(r, ":") || !(v = value(r)))
            goto bad;
        if (cJSON_GetObjectItemCaseSensitive(o, name.ptr)) { /* a name twice */
            cJSON_Delete(v);
            goto bad;
        }
        cJSON_AddItemToObject(o, name.ptr, v);
        if (eat(r, "}"))
            break;
        if (!eat(r, ","))
            goto bad;
    }
    buf_free(&name);
    return o;
bad:
    buf_free(&name);
    cJSON_Delete(o);
    return NULL;
}

static cJSON *av(const char *type, cJSON *payload)
{
    cJSON *o = cJSON_CreateObject();

    cJSON_AddItemToObject(o, type, payload);
    return o;
}

/* list - [v,...]: AttributeValues, or with @set ("SS", "NS", "BS") the
 * members' payloads. */
static cJSON *list(struct rd *r, const char *set)
{
    cJSON *a = cJSON_CreateArray();
    struct buf s;

    buf_init(&s, 0);
    if (!eat(r, "["))
        goto bad;
    if (eat(r, "]"))
        goto done;
    for (;;) {
        if (!set) {
            cJSON *v = value(r);

            if (!v)
                goto bad;
            cJSON_AddItemToArray(a, v);
        } else {
            buf_reset(&s);
            if (!(set[0] == 'S' ? quoted(r, '"', &s) : set[0] == 'N' ? number(r, &s) : blob(r, &s)))
                goto bad;
            cJSON_AddItemToArray(a, cJSON_CreateString(s.ptr));
        }
        if (eat(r, "]"))
            break;
        if (!eat(r, ","))
            goto bad;
    }
done:
    buf_free(&s);
    return a;
bad:
    buf_free(&s);
    cJSON_Delete(a);
    return NULL;
}

static cJSON *value(struct rd *r)
{
    struct buf s;
    cJSON *out = NULL, *x;

    if (++r->depth > 64) /* DynamoDB nests 32 levels */
        return NULL;
    buf_init(&s, 0);
    skip_ws(r);
    if (r->p >= r->end) {
        out = NULL;
    } else if (eat(r, "$dynamodb_SS::")) {
        out = (x = list(r, "SS")) ? av("SS", x) : NULL;
    } else if (eat(r, "$dynamodb_NS::")) {
        out = (x = list(r, "NS")) ? av("NS", x) : NULL;
    } else if (eat(r, "$dynamodb_BS::")) {
        out = (x = list(r, "BS")) ? av("BS", x) : NULL;
    } else if (r->end - r->p >= 2 && r->p[0] == '{' && r->p[1] == '{') {
        out = blob(r, &s) ? av("B", cJSON_CreateString(s.ptr)) : NULL;
    } else if (*r->p == '{') {
        out = (x = ion_struct(r)) ? av("M", x) : NULL;
    } else if (*r->p == '[') {
        out = (x = list(r, NULL)) ? av("L", x) : NULL;
    } else if (*r->p == '"') {
        out = quoted(r, '"', &s) ? av("S", cJSON_CreateString(s.ptr)) : NULL;
    } else if (eat(r, "true")) {
        out = av("BOOL", cJSON_CreateTrue());
    } else if (eat(r, "false")) {
        out = av("BOOL", cJSON_CreateFalse());
    } else if (eat(r, "null")) {
        (void)eat(r, ".null"); /* null.null */
        out = av("NULL", cJSON_CreateTrue());
    } else if (isdigit((unsigned char)*r->p) || *r->p == '-' || *r->p == '+') {
        out = number(r, &s) ? av("N", cJSON_CreateString(s.ptr)) : NULL;
    }
    buf_free(&s);
    r->depth--;
    return out;
}

enum err_code export_ion_parse(const char *line, size_t n, cJSON **out, struct err *e)
{
    struct rd r = {line, line + n, 0};
    cJSON *top, *line_obj;
    struct buf name;

    *out = NULL;
    (void)eat(&r, "$ion_1_0"); /* the version marker may be left out */
    buf_init(&name, 0);
    line_obj = cJSON_CreateObject();
    if (!eat(&r, "{"))
        goto bad;
    for (;;) {
        if (!symbol(&r, &name) || !eat(&r, ":") || !(top = ion_struct(&r)))
            goto bad;
        cJSON_AddItemToObject(line_obj, name.ptr, top);
        if (eat(&r, "}"))
            break;
        if (!eat(&r, ","))
            goto bad;
    }
    skip_ws(&r);
    if (r.p != r.end)
        goto bad;
    buf_free(&name);
    *out = line_obj;
    return ERR_OK;
bad:
    buf_free(&name);
    cJSON_Delete(line_obj);
    return err_set(e, ERR_INVALID, "not an Amazon Ion item line");
}
