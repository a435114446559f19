/* partiql.c - the PartiQL statements of DynamoDB (see partiql.h).
 *
 * The grammar, as "PartiQL - a SQL-compatible query language for Amazon
 * DynamoDB" defines it:
 *
 *   SELECT * | path [, path...] FROM target [WHERE cond]
 *          [ORDER BY path [ASC | DESC]]
 *   INSERT INTO target VALUE value
 *   UPDATE target {SET path = setval | REMOVE path} [...] WHERE cond
 *          [RETURNING {ALL | MODIFIED} {OLD | NEW} *]
 *   DELETE FROM target WHERE cond [RETURNING ALL OLD *]
 *   EXISTS(SELECT * FROM target WHERE cond)            (transactions only)
 *
 *   target  "Table" | Table | "Table"."Index"
 *   path    name {. name | [n]}...         names bare or "double-quoted"
 *   value   'string' | number | TRUE | FALSE | NULL | ? | [value, ...] |
 *           {'name': value, ...} | <<value, ...>>
 *   cond    OR, AND, NOT, parentheses; operand {= <> != < <= > >=} operand;
 *           operand BETWEEN operand AND operand; operand IN [value, ...];
 *           path IS [NOT] MISSING | NULL; begins_with, contains,
 *           attribute_type, size(path); EXISTS(path) alias attribute_exists
 *   setval  operand [{+ | -} operand] | list_append(a, b) |
 *           set_add(path, set) | set_delete(path, set) | if_not_exists(path, v)
 *
 * Keywords are case-insensitive; names are not. */
#include "partiql.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "buf.h"

enum { DEPTH_MAX = 64, PQL_TERMS = 256 };

enum tok {
    T_EOF,
    T_WORD,  /* bare word: keyword or name */
    T_QNAME, /* "name" */
    T_STR,   /* 'string' */
    T_NUM,
    T_PARAM, /* ? */
    T_PUNCT, /* one of = < > ( ) [ ] { } , . * : + - ; and <= >= <> != << >> */
    T_BAD,
};

struct ps {
    struct arena *a;
    const char *start, *p, *end;
    bool in_proj; /* in a SELECT list */
    /* the current token */
    enum tok tok;
    const char *ts;
    size_t tn;
    char *tval; /* T_QNAME, T_STR: the text without quotes and escapes */
    const cJSON *params;
    int nparams, pi;
    cJSON *names, *values;
    int nnames, nvalues;
    int depth;
    bool failed;
    char *msg;
    size_t msgn;
};

/* An operand: a path, a value or size(path), as expression text. */
struct opnd {
    const char *text;
    const char *attr;   /* a top-level name alone: the name */
    const cJSON *value; /* a value: the AttributeValue */
    bool path;
};

static void fail(struct ps *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(struct ps *s, const char *fmt, ...)
{
    va_list ap;
    int k;

    if (s->failed)
        return;
    s->failed = true;
    k = snprintf(s->msg, s->msgn, "Statement wasn't well formed, can't be processed: ");
    if (k < 0 || (size_t)k >= s->msgn)
        return;
    va_start(ap, fmt);
    vsnprintf(s->msg + k, s->msgn - (size_t)k, fmt, ap);
    va_end(ap);
}

/* refuse - fail with DynamoDB's message @fmt for a statement that parses but
 * asks for what PartiQL for DynamoDB does not do. */
static void refuse(struct ps *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void refuse(struct ps *s, const char *fmt, ...)
{
    va_list ap;

    if (s->failed)
        return;
    s->failed = true;
    va_start(ap, fmt);
    vsnprintf(s->msg, s->msgn, fmt, ap);
    va_end(ap);
}

static void json_free(void *p)
{
    cJSON_Delete(p);
}

/* ---- lexer ---- */

static char *quoted(struct ps *s, char q)
{
    struct buf b;
    char *out;

    buf_init(&b, 0);
    s->p++;
    for (;;) {
        if (s->p >= s->end) {
            buf_free(&b);
            return NULL;
        }
        if (*s->p == q) {
            if (s->p + 1 < s->end && s->p[1] == q) {
                buf_putc(&b, q);
                s->p += 2;
                continue;
            }
            s->p++;
            break;
        }
        buf_putc(&b, *s->p++);
    }
    out = arena_strndup(s->a, b.ptr ? b.ptr : "", b.len);
    buf_free(&b);
    return out;
}

static void next(struct ps *s)
{
    const char *p;

    while (s->p < s->end && isspace((unsigned char)*s->p))
        s->p++;
    s->ts = s->p;
    s->tval = NULL;
    if (s->p >= s->end) {
        s->tok = T_EOF;
        s->tn = 0;
        return;
    }
    p = s->p;
    if (isalpha((unsigned char)*p) || *p == '_') {
        while (p < s->end && (isalnum((unsigned char)*p) || *p == '_'))
            p++;
        s->tok = T_WORD;
    } else if (isdigit((unsigned char)*p) ||
               (*p == '.' && p + 1 < s->end && isdigit((unsigned char)p[1]))) {
        while (p < s->end && isdigit((unsigned char)*p))
            p++;
        if (p < s->end && *p == '.')
            for (p++; p < s->end && isdigit((unsigned char)*p); p++)
                ;
        if (p < s->end && (*p == 'e' || *p == 'E')) {
            const char *q = p + 1;

            if (q < s->end && (*q == '+' || *q == '-'))
                q++;
            if (q < s->end && isdigit((unsigned char)*q)) {
                for (p = q; p < s->end && isdigit((unsigned char)*p); p++)
                    ;
            }
        }
        s->tok = T_NUM;
    } else if (*p == '"' || *p == '\'') {
        s->tval = quoted(s, *p);
        s->tok = !s->tval ? T_BAD : *p == '"' ? T_QNAME : T_STR;
        s->tn = (size_t)(s->p - s->ts);
        return;
    } else if (*p == '?') {
        p++;
        s->tok = T_PARAM;
    } else if (strchr("=<>()[]{},.*:+-;!", *p)) {
        if (p + 1 < s->end && ((p[0] == '<' && strchr("=><", p[1])) ||
                               (p[0] == '>' && strchr("=>", p[1])) || (p[0] == '!' && p[1] == '=')))
            p += 2;
        else
            p++;
        s->tok = T_PUNCT;
    } else {
        p++;
        s->tok = T_BAD;
    }
    s->tn = (size_t)(p - s->ts);
    s->p = p;
}

static bool is_punct(const struct ps *s, const char *x)
{
    return s->tok == T_PUNCT && s->tn == strlen(x) && memcmp(s->ts, x, s->tn) == 0;
}

static bool is_kw(const struct ps *s, const char *kw)
{
    return s->tok == T_WORD && s->tn == strlen(kw) && strncasecmp(s->ts, kw, s->tn) == 0;
}

static const char *tok_text(struct ps *s)
{
    if (s->tok == T_EOF)
        return "end of statement";
    return arena_strndup(s->a, s->ts, s->tn > 64 ? 64 : s->tn);
}

static bool accept(struct ps *s, const char *x)
{
    if (!is_punct(s, x))
        return false;
    next(s);
    return true;
}

static bool accept_kw(struct ps *s, const char *kw)
{
    if (!is_kw(s, kw))
        return false;
    next(s);
    return true;
}

static void expect(struct ps *s, const char *x)
{
    if (!accept(s, x))
        fail(s, "Expected '%s' at '%s'", x, tok_text(s));
}

static void expect_kw(struct ps *s, const char *kw)
{
    if (!accept_kw(s, kw))
        fail(s, "Expected %s at '%s'", kw, tok_text(s));
}

static const char *const reserved[] = {
    "SELECT", "FROM",    "WHERE",  "AND",    "OR",        "NOT",    "IN",   "BETWEEN",
    "IS",     "MISSING", "NULL",   "TRUE",   "FALSE",     "INSERT", "INTO", "VALUE",
    "UPDATE", "SET",     "REMOVE", "DELETE", "RETURNING", "ORDER",  "BY",   "ASC",
    "DESC",   "EXISTS",  "VALUES", "LIMIT",  NULL};

static bool is_reserved(const struct ps *s)
{
    for (size_t i = 0; reserved[i]; i++)
        if (is_kw(s, reserved[i]))
            return true;
    return false;
}

/* name - a bare or double-quoted name; NULL (failed) when there is none. */
static const char *name(struct ps *s)
{
    const char *n;

    if (s->tok == T_QNAME && s->tval[0]) {
        n = s->tval;
    } else if (s->tok == T_WORD && !is_reserved(s)) {
        n = arena_strndup(s->a, s->ts, s->tn);
    } else {
        fail(s, "Expected a name at '%s'", tok_text(s));
        return NULL;
    }
    next(s);
    return n;
}

/* ---- placeholders ---- */

static const char *name_ph(struct ps *s, const char *n)
{
    const cJSON *x;
    char ph[24];

    cJSON_ArrayForEach(x, s->names)
    {
        if (strcmp(x->valuestring, n) == 0)
            return x->string;
    }
    snprintf(ph, sizeof(ph), "#p%d", s->nnames++);
    cJSON_AddItemToObject(s->names, ph, cJSON_CreateString(n));
    return cJSON_GetObjectItemCaseSensitive(s->names, ph)->string;
}

static const char *value_ph(struct ps *s, cJSON *av, const cJSON **kept)
{
    char ph[24];
    cJSON *x;

    snprintf(ph, sizeof(ph), ":p%d", s->nvalues++);
    cJSON_AddItemToObject(s->values, ph, av);
    x = cJSON_GetObjectItemCaseSensitive(s->values, ph);
    if (kept)
        *kept = x;
    return x->string;
}

/* ---- values ---- */

static cJSON *value(struct ps *s);

static cJSON *av_of(const char *type, cJSON *v)
{
    cJSON *o = cJSON_CreateObject();

    cJSON_AddItemToObject(o, type, v);
    return o;
}

static cJSON *number(struct ps *s, bool neg)
{
    char *t = arena_sprintf(s->a, "%s%.*s", neg ? "-" : "", (int)s->tn, s->ts);

    next(s);
    return av_of("N", cJSON_CreateString(t));
}

/* set - <<v, ...>>: strings make an SS, numbers an NS, binaries (parameters) a BS */
static cJSON *set(struct ps *s)
{
    cJSON *items = cJSON_CreateArray(), *v;
    const char *type = NULL;

    do {
        const char *t;

        if (!(v = value(s)))
            break;
        t = v->child ? v->child->string : "";
        if (strcmp(t, "S") && strcmp(t, "N") && strcmp(t, "B")) {
            fail(s, "A set holds strings, numbers or binaries");
        } else if (type && type[0] != t[0]) {
            fail(s, "A set's members must have one type");
        } else {
            type = t[0] == 'S' ? "SS" : t[0] == 'N' ? "NS" : "BS";
            cJSON_AddItemToArray(items, cJSON_Duplicate(v->child, 1));
        }
        cJSON_Delete(v);
    } while (!s->failed && accept(s, ","));
    if (!s->failed)
        expect(s, ">>");
    if (s->failed) {
        cJSON_Delete(items);
        return NULL;
    }
    return av_of(type, items);
}

static cJSON *value(struct ps *s)
{
    cJSON *v = NULL;

    if (++s->depth > DEPTH_MAX) {
        fail(s, "Statement nests too deeply");
        return NULL;
    }
    if (s->tok == T_STR) {
        v = av_of("S", cJSON_CreateString(s->tval));
        next(s);
    } else if (s->tok == T_NUM) {
        v = number(s, false);
    } else if (is_punct(s, "-") || is_punct(s, "+")) {
        bool neg = is_punct(s, "-");

        next(s);
        if (s->tok == T_NUM)
            v = number(s, neg);
        else
            fail(s, "Expected a number at '%s'", tok_text(s));
    } else if (s->tok == T_PARAM) {
        if (s->pi >= s->nparams) {
            s->failed = true;
            snprintf(s->msg, s->msgn, "Number of parameters in request and statement don't match.");
        } else {
            v = cJSON_Duplicate(cJSON_GetArrayItem(s->params, s->pi++), 1);
        }
        next(s);
    } else if (accept_kw(s, "TRUE")) {
        v = av_of("BOOL", cJSON_CreateTrue());
    } else if (accept_kw(s, "FALSE")) {
        v = av_of("BOOL", cJSON_CreateFalse());
    } else if (accept_kw(s, "NULL")) {
        v = av_of("NULL", cJSON_CreateTrue());
    } else if (accept(s, "[")) {
        cJSON *l = cJSON_CreateArray();

        while (!s->failed && !is_punct(s, "]")) {
            cJSON *x = value(s);

            if (x)
                cJSON_AddItemToArray(l, x);
            if (!s->failed && !is_punct(s, "]"))
                expect(s, ",");
        }
        expect(s, "]");
        v = av_of("L", l);
    } else if (accept(s, "{")) {
        cJSON *m = cJSON_CreateObject();

        while (!s->failed && !is_punct(s, "}")) {
            const char *k = s->tval;
            cJSON *x;

            if (s->tok != T_STR) {
                fail(s, "Expected a quoted member name at '%s'", tok_text(s));
                break;
            }
            next(s);
            expect(s, ":");
            if (s->failed)
                break;
            if (!(x = value(s)))
                break;
            if (cJSON_GetObjectItemCaseSensitive(m, k)) {
                cJSON_Delete(x);
                fail(s, "Duplicate member name '%.64s'", k);
                break;
            }
            cJSON_AddItemToObject(m, k, x);
            if (!s->failed && !is_punct(s, "}"))
                expect(s, ",");
        }
        expect(s, "}");
        v = av_of("M", m);
    } else if (accept(s, "<<")) {
        v = set(s);
    } else {
        fail(s, "Expected a value at '%s'", tok_text(s));
    }
    s->depth--;
    if (s->failed) {
        cJSON_Delete(v);
        return NULL;
    }
    return v;
}

static bool value_starts(const struct ps *s)
{
    return s->tok == T_STR || s->tok == T_NUM || s->tok == T_PARAM || is_kw(s, "TRUE") ||
           is_kw(s, "FALSE") || is_kw(s, "NULL") || is_punct(s, "[") || is_punct(s, "{") ||
           is_punct(s, "<<") || is_punct(s, "-") || is_punct(s, "+");
}

/* ---- paths and operands ---- */

/* unsupported_fn - refuse the call of function @n where it stands: one of
 * DynamoDB's own outside a condition, or one it does not have. */
static void unsupported_fn(struct ps *s, const char *n)
{
    static const char *const fns[] = {
        "exists", "begins_with", "attribute_type", "contains", "size", "missing", NULL};

    for (size_t i = 0; fns[i]; i++)
        if (strcasecmp(n, fns[i]) == 0) {
            refuse(s,
                   "Unsupported operation: %.64s() is a condition function: it may be used in a "
                   "WHERE clause, not here",
                   n);
            return;
        }
    refuse(s,
           "Unsupported operation: function %.64s() is not supported; PartiQL for DynamoDB has "
           "EXISTS, BEGINS_WITH, ATTRIBUTE_TYPE, CONTAINS, SIZE and IS [NOT] MISSING",
           n);
}

/* proj_call - refuse a function called in a SELECT list (its name, @n bytes
 * at @at), as DynamoDB does: "Unexpected path component at
 * <line>:<column>:<length>" (a SELECT projects paths; seen for COUNT). */
static void proj_call(struct ps *s, const char *at, size_t n)
{
    unsigned line = 1, col = 1;

    for (const char *q = s->start; q < at; q++) {
        if (*q == '\n') {
            line++;
            col = 1;
        } else if (((unsigned char)*q & 0xC0) != 0x80) { /* characters, not bytes */
            col++;
        }
    }
    refuse(s, "Unexpected path component at %u:%u:%zu", line, col, n);
}

/* path - name {. name | [n]}...; @top gets the name when it stands alone */
static const char *path(struct ps *s, const char **top)
{
    struct buf b;
    bool bare = s->tok == T_WORD;
    const char *at = s->ts, *n = name(s), *out;
    bool alone = true;

    if (!n)
        return NULL;
    if (bare && is_punct(s, "(")) {
        if (s->in_proj)
            proj_call(s, at, strlen(n));
        else
            unsupported_fn(s, n);
        return NULL;
    }
    buf_init(&b, 0);
    buf_puts(&b, name_ph(s, n));
    for (;;) {
        if (accept(s, ".")) {
            const char *m = name(s);

            if (!m)
                break;
            buf_printf(&b, ".%s", name_ph(s, m));
        } else if (accept(s, "[")) {
            if (s->tok != T_NUM || memchr(s->ts, '.', s->tn) || memchr(s->ts, 'e', s->tn) ||
                memchr(s->ts, 'E', s->tn) || s->tn > 9) {
                fail(s, "Expected a list index at '%s'", tok_text(s));
                break;
            }
            buf_printf(&b, "[%.*s]", (int)s->tn, s->ts);
            next(s);
            expect(s, "]");
        } else {
            break;
        }
        alone = false;
    }
    out = arena_strndup(s->a, b.ptr, b.len);
    buf_free(&b);
    if (top)
        *top = alone ? n : NULL;
    return s->failed ? NULL : out;
}

static bool operand(struct ps *s, struct opnd *o)
{
    memset(o, 0, sizeof(*o));
    if (value_starts(s)) {
        cJSON *v = value(s);

        if (!v)
            return false;
        o->text = value_ph(s, v, &o->value);
        return true;
    }
    if (s->tok == T_WORD && strncasecmp(s->ts, "size", s->tn) == 0 && s->tn == 4) {
        const char *save = s->p;
        enum tok t = s->tok;
        const char *ts = s->ts;
        size_t tn = s->tn;

        next(s);
        if (accept(s, "(")) {
            const char *p = path(s, NULL);

            expect(s, ")");
            if (!p || s->failed)
                return false;
            o->text = arena_sprintf(s->a, "size(%s)", p);
            return true;
        }
        s->p = save; /* an attribute called size */
        s->tok = t;
        s->ts = ts;
        s->tn = tn;
    }
    o->text = path(s, &o->attr);
    o->path = true;
    return o->text != NULL;
}

/* ---- conditions ---- */

static struct pql_cond *cond_or(struct ps *s);

static struct pql_cond *new_cond(struct ps *s, enum pql_cond_kind k, const char *text)
{
    struct pql_cond *c = arena_calloc(s->a, sizeof(*c));

    c->kind = k;
    c->text = text;
    return c;
}

static const struct {
    const char *tok;
    const char *expr;
    enum pql_op op, flipped;
} cmps[] = {
    {"=", "=", PQL_EQ, PQL_EQ},   {"<>", "<>", PQL_NE, PQL_NE}, {"!=", "<>", PQL_NE, PQL_NE},
    {"<", "<", PQL_LT, PQL_GT},   {"<=", "<=", PQL_LE, PQL_GE}, {">", ">", PQL_GT, PQL_LT},
    {">=", ">=", PQL_GE, PQL_LE},
};

/* func - name(args): the condition functions */
static struct pql_cond *func(struct ps *s, const char *fname)
{
    struct opnd a, b;
    struct pql_cond *c;

    expect(s, "(");
    if (s->failed)
        return NULL;
    if (strcasecmp(fname, "exists") == 0 || strcasecmp(fname, "attribute_exists") == 0 ||
        strcasecmp(fname, "attribute_not_exists") == 0) {
        const char *p = path(s, NULL);

        expect(s, ")");
        if (!p || s->failed)
            return NULL;
        return new_cond(s, PQL_C_OTHER,
                        arena_sprintf(s->a, "%s(%s)",
                                      strcasecmp(fname, "attribute_not_exists") == 0
                                          ? "attribute_not_exists"
                                          : "attribute_exists",
                                      p));
    }
    if (!operand(s, &a))
        return NULL;
    expect(s, ",");
    if (s->failed || !operand(s, &b))
        return NULL;
    expect(s, ")");
    if (s->failed)
        return NULL;
    if (!a.path) {
        fail(s, "The first argument of %s must be a path", fname);
        return NULL;
    }
    if (strcasecmp(fname, "begins_with") == 0) {
        c = new_cond(s, PQL_C_BEGINS, arena_sprintf(s->a, "begins_with(%s, %s)", a.text, b.text));
        c->attr = a.attr;
        c->v1 = b.value;
        return c;
    }
    return new_cond(
        s, PQL_C_OTHER,
        arena_sprintf(s->a, "%s(%s, %s)",
                      strcasecmp(fname, "contains") == 0 ? "contains" : "attribute_type", a.text,
                      b.text));
}

/* add_value - @v into the values @vals (@n of them, at most PQL_IN_MAX)
 * unless one equal to it is there; false when there is no room. */
static bool add_value(const cJSON **vals, size_t *n, const cJSON *v)
{
    for (size_t i = 0; i < *n; i++)
        if (cJSON_Compare(vals[i], v, true))
            return true;
    if (*n >= PQL_IN_MAX)
        return false;
    vals[(*n)++] = v;
    return true;
}

/* is_type - path IS [NOT] <type> (after MISSING): the PartiQL types as the
 * DynamoDB types they stand for ("PartiQL data types for DynamoDB"): NULL,
 * BOOL, a number, a string, a binary, a list, a map or a set. */
static struct pql_cond *is_type(struct ps *s, const char *p, bool neg)
{
    static const struct {
        const char *kw;
        const char *types[4];
    } map[] = {
        {"NULL", {"NULL"}},    {"BOOL", {"BOOL"}},
        {"BOOLEAN", {"BOOL"}}, {"INT", {"N"}},
        {"INTEGER", {"N"}},    {"DECIMAL", {"N"}},
        {"FLOAT", {"N"}},      {"NUMBER", {"N"}},
        {"STRING", {"S"}},     {"BLOB", {"B"}},
        {"LIST", {"L"}},       {"STRUCT", {"M"}},
        {"TUPLE", {"M"}},      {"BAG", {"SS", "NS", "BS"}},
    };
    struct buf b;
    struct pql_cond *c;
    size_t i = 0;

    while (i < sizeof(map) / sizeof(map[0]) && !is_kw(s, map[i].kw))
        i++;
    if (i == sizeof(map) / sizeof(map[0])) {
        fail(s, "Expected MISSING, NULL or a type at '%s'", tok_text(s));
        return NULL;
    }
    next(s);
    buf_init(&b, 0);
    for (size_t k = 0; k < 4 && map[i].types[k]; k++) {
        const char *ph = value_ph(s, av_of("S", cJSON_CreateString(map[i].types[k])), NULL);

        buf_printf(&b, "%sattribute_type(%s, %s)", k ? " OR " : "", p, ph);
    }
    if (neg)
        c = new_cond(
            s, PQL_C_OTHER,
            arena_sprintf(s->a, map[i].types[1] ? "NOT (%.*s)" : "NOT %.*s", (int)b.len, b.ptr));
    else
        c = new_cond(s, PQL_C_OTHER, arena_strndup(s->a, b.ptr, b.len));
    c->prec = map[i].types[1] && !neg ? 2 : 0;
    buf_free(&b);
    return c;
}

static struct pql_cond *predicate(struct ps *s)
{
    struct opnd a, b, d;
    struct pql_cond *c;

    if (accept(s, "(")) {
        c = cond_or(s);
        expect(s, ")");
        if (!c || s->failed)
            return NULL;
        return c; /* its prec says where it needs the parentheses back */
    }
    if (s->tok == T_WORD) {
        static const char *const fns[] = {"begins_with", "contains",         "attribute_type",
                                          "exists",      "attribute_exists", "attribute_not_exists",
                                          NULL};
        const char *save = s->p, *ts = s->ts;
        size_t tn = s->tn;

        for (size_t i = 0; fns[i]; i++) {
            if (s->tn == strlen(fns[i]) && strncasecmp(s->ts, fns[i], s->tn) == 0) {
                const char *fname = arena_strndup(s->a, s->ts, s->tn);

                next(s);
                if (is_punct(s, "("))
                    return func(s, fname);
                s->p = save; /* an attribute of that name */
                s->tok = T_WORD;
                s->ts = ts;
                s->tn = tn;
                break;
            }
        }
    }
    if (!operand(s, &a))
        return NULL;
    for (size_t i = 0; i < sizeof(cmps) / sizeof(cmps[0]); i++) {
        if (!accept(s, cmps[i].tok))
            continue;
        if (!operand(s, &b))
            return NULL;
        c = new_cond(s, PQL_C_CMP, arena_sprintf(s->a, "%s %s %s", a.text, cmps[i].expr, b.text));
        if (a.attr && b.value) {
            c->attr = a.attr;
            c->v1 = b.value;
            c->op = cmps[i].op;
        } else if (b.attr && a.value) {
            c->attr = b.attr;
            c->v1 = a.value;
            c->op = cmps[i].flipped;
        }
        return c;
    }
    if (accept_kw(s, "BETWEEN")) {
        if (!operand(s, &b))
            return NULL;
        expect_kw(s, "AND");
        if (s->failed || !operand(s, &d))
            return NULL;
        c = new_cond(s, PQL_C_BETWEEN,
                     arena_sprintf(s->a, "%s BETWEEN %s AND %s", a.text, b.text, d.text));
        if (a.attr && b.value && d.value) {
            c->attr = a.attr;
            c->v1 = b.value;
            c->v2 = d.value;
        }
        return c;
    }
    if (accept_kw(s, "IN")) {
        struct buf t;
        const char *close = is_punct(s, "(") ? ")" : "]";
        size_t n = 0;

        if (!accept(s, "(") && !accept(s, "[")) {
            fail(s, "Expected '[' at '%s'", tok_text(s));
            return NULL;
        }
        const cJSON **vals = arena_alloc(s->a, PQL_IN_MAX * sizeof(*vals));
        size_t nv = 0;
        bool all_values = true;

        buf_init(&t, 0);
        buf_printf(&t, "%s IN (", a.text);
        do {
            if (!operand(s, &b))
                break;
            all_values = all_values && b.value && add_value(vals, &nv, b.value);
            buf_printf(&t, "%s%s", n++ ? ", " : "", b.text);
        } while (accept(s, ","));
        buf_putc(&t, ')');
        expect(s, close);
        c = new_cond(s, PQL_C_IN, arena_strndup(s->a, t.ptr, t.len));
        buf_free(&t);
        if (s->failed)
            return NULL;
        c->attr = a.attr;
        c->nin = all_values ? nv : n;
        c->vals = all_values ? vals : NULL;
        return c;
    }
    if (accept_kw(s, "IS")) {
        bool neg = accept_kw(s, "NOT");

        if (!a.path) {
            fail(s, "IS takes a path");
            return NULL;
        }
        if (accept_kw(s, "MISSING"))
            return new_cond(s, PQL_C_OTHER,
                            arena_sprintf(s->a, "%s(%s)",
                                          neg ? "attribute_exists" : "attribute_not_exists",
                                          a.text));
        return is_type(s, a.text, neg);
    }
    fail(s, "Expected a comparison at '%s'", tok_text(s));
    return NULL;
}

static struct pql_cond *cond_not(struct ps *s)
{
    struct pql_cond *c;

    if (++s->depth > DEPTH_MAX) {
        fail(s, "Statement nests too deeply");
        return NULL;
    }
    if (accept_kw(s, "NOT")) {
        c = cond_not(s);
        if (c)
            c = new_cond(s, PQL_C_OTHER,
                         arena_sprintf(s->a, c->prec ? "NOT (%s)" : "NOT %s", c->text));
    } else {
        c = predicate(s);
    }
    s->depth--;
    return s->failed ? NULL : c;
}

static struct pql_cond *cond_and(struct ps *s)
{
    struct pql_cond *l = cond_not(s), *r, *c;

    if (!l)
        return NULL;
    while (accept_kw(s, "AND")) {
        if (!(r = cond_not(s)))
            return NULL;
        c = new_cond(s, PQL_C_AND,
                     arena_sprintf(s->a, "%s%s%s AND %s%s%s", l->prec == 2 ? "(" : "", l->text,
                                   l->prec == 2 ? ")" : "", r->prec == 2 ? "(" : "", r->text,
                                   r->prec == 2 ? ")" : ""));
        c->l = l;
        c->r = r;
        c->prec = 1;
        l = c;
    }
    return s->failed ? NULL : l;
}

/* eq_values - when @c is attr = value, or a chain of them (or_in), its
 * values (@n of them); NULL when it is neither. */
static const cJSON *const *eq_values(const struct pql_cond *c, size_t *n)
{
    if (c->kind == PQL_C_CMP && c->op == PQL_EQ && c->attr && c->v1) {
        *n = 1;
        return &c->v1;
    }
    if (c->kind == PQL_C_IN && c->prec == 2 && c->vals) {
        *n = c->nin;
        return c->vals;
    }
    return NULL;
}

/* or_in - @o is @l OR @r: when both are attr = value on one top-level
 * attribute (or chains of them), @o is that attribute IN those values, so
 * that "pk = 1 OR pk = 2" reads two partitions, not the table, as the SELECT
 * reference says. */
static void or_in(struct ps *s, struct pql_cond *o, const struct pql_cond *l,
                  const struct pql_cond *r)
{
    size_t nl = 0, nr = 0;
    const cJSON *const *vl = eq_values(l, &nl), *const *vr = eq_values(r, &nr);
    bool room = true;

    if (!vl || !vr || strcmp(l->attr, r->attr) != 0)
        return;
    o->vals = arena_alloc(s->a, PQL_IN_MAX * sizeof(*o->vals));
    o->nin = 0;
    for (size_t i = 0; room && i < nl + nr; i++)
        room = add_value(o->vals, &o->nin, i < nl ? vl[i] : vr[i - nl]);
    if (!room) {
        o->vals = NULL;
        return;
    }
    o->kind = PQL_C_IN;
    o->attr = l->attr;
}

static struct pql_cond *cond_or(struct ps *s)
{
    struct pql_cond *l, *r;

    if (++s->depth > DEPTH_MAX) {
        fail(s, "Statement nests too deeply");
        return NULL;
    }
    if (!(l = cond_and(s)))
        return NULL;
    while (accept_kw(s, "OR")) {
        struct pql_cond *o;

        if (!(r = cond_and(s)))
            return NULL;
        o = new_cond(s, PQL_C_OTHER, arena_sprintf(s->a, "%s OR %s", l->text, r->text));
        o->prec = 2;
        or_in(s, o, l, r);
        l = o;
    }
    s->depth--;
    return s->failed ? NULL : l;
}

/* ---- statements ---- */

static const char on_index[] = "This operation is not supported on an index";

/* path_part - one component of the FROM path; DynamoDB refuses an empty
 * quoted one before it looks for the table. */
static const char *path_part(struct ps *s)
{
    if (s->tok == T_QNAME && !s->tval[0]) {
        refuse(s, "Path component cannot be an empty string");
        return NULL;
    }
    return name(s);
}

static void target(struct ps *s, struct pql_stmt *st)
{
    st->table = path_part(s);
    if (st->table && accept(s, ".")) {
        st->index = path_part(s);
        if (st->index && accept(s, "."))
            refuse(s, "A path may contain at most 2 components in the FROM clause");
    }
}

static void where(struct ps *s, struct pql_stmt *st, bool required)
{
    if (accept_kw(s, "WHERE"))
        st->where = cond_or(s);
    else if (required)
        fail(s, "Expected WHERE at '%s'", tok_text(s));
}

static void select_body(struct ps *s, struct pql_stmt *st)
{
    if (!accept(s, "*")) {
        struct buf b;

        s->in_proj = true;
        buf_init(&b, 0);
        do {
            const char *p = path(s, NULL);

            if (!p)
                break;
            if (is_punct(s, "+") || is_punct(s, "-")) {
                refuse(s, "Unsupported operation: arithmetic in a SELECT list; a SELECT projects "
                          "attribute paths");
                break;
            }
            buf_printf(&b, "%s%s", b.len ? ", " : "", p);
        } while (accept(s, ","));
        st->proj = arena_strndup(s->a, b.ptr ? b.ptr : "", b.len);
        buf_free(&b);
        s->in_proj = false;
    }
    expect_kw(s, "FROM");
    if (s->failed)
        return;
    target(s, st);
    where(s, st, false);
    if (!s->failed && accept_kw(s, "ORDER")) {
        expect_kw(s, "BY");
        if (!s->failed)
            st->order_attr = name(s);
        if (accept_kw(s, "DESC"))
            st->order_desc = true;
        else
            accept_kw(s, "ASC");
    }
}

/* setval - the right side of SET @p = ...: the SET action, or an ADD/DELETE one */
static void setval(struct ps *s, const char *p, struct buf *set, struct buf *add, struct buf *del)
{
    struct opnd a, b;
    static const char *const fns[] = {"list_append", "if_not_exists", "set_add", "set_delete",
                                      NULL};

    for (size_t i = 0; s->tok == T_WORD && fns[i]; i++) {
        const char *save = s->p, *ts = s->ts;
        size_t tn = s->tn;

        if (s->tn != strlen(fns[i]) || strncasecmp(s->ts, fns[i], s->tn) != 0)
            continue;
        next(s);
        if (!accept(s, "(")) {
            s->p = save;
            s->tok = T_WORD;
            s->ts = ts;
            s->tn = tn;
            break;
        }
        if (!operand(s, &a))
            return;
        expect(s, ",");
        if (s->failed || !operand(s, &b))
            return;
        expect(s, ")");
        if (s->failed)
            return;
        if (i >= 2) { /* set_add(p, v) / set_delete(p, v): ADD / DELETE p v */
            struct buf *to = i == 2 ? add : del;

            if (!a.path || strcmp(a.text, p) != 0) {
                fail(s, "%s must name the attribute it sets", fns[i]);
                return;
            }
            buf_printf(to, "%s%s %s", to->len ? ", " : "", p, b.text);
            return;
        }
        buf_printf(set, "%s%s = %s(%s, %s)", set->len ? ", " : "", p, fns[i], a.text, b.text);
        return;
    }
    if (!operand(s, &a))
        return;
    if (is_punct(s, "+") || is_punct(s, "-")) {
        char op = *s->ts;

        next(s);
        if (!operand(s, &b))
            return;
        buf_printf(set, "%s%s = %s %c %s", set->len ? ", " : "", p, a.text, op, b.text);
        return;
    }
    buf_printf(set, "%s%s = %s", set->len ? ", " : "", p, a.text);
}

static void update_body(struct ps *s, struct pql_stmt *st)
{
    struct buf set, rem, add, del, u;

    target(s, st);
    if (s->failed)
        return;
    if (st->index) {
        refuse(s, "%s", on_index);
        return;
    }
    buf_init(&set, 0);
    buf_init(&rem, 0);
    buf_init(&add, 0);
    buf_init(&del, 0);
    buf_init(&u, 0);
    while (!s->failed && (is_kw(s, "SET") || is_kw(s, "REMOVE"))) {
        bool is_set = is_kw(s, "SET");

        next(s);
        do {
            const char *p = path(s, NULL);

            if (!p)
                break;
            if (is_set) {
                expect(s, "=");
                if (!s->failed)
                    setval(s, p, &set, &add, &del);
            } else {
                buf_printf(&rem, "%s%s", rem.len ? ", " : "", p);
            }
        } while (!s->failed && accept(s, ","));
    }
    if (!s->failed && !set.len && !rem.len && !add.len && !del.len)
        fail(s, "Expected SET or REMOVE at '%s'", tok_text(s));
    if (set.len)
        buf_printf(&u, "SET %.*s", (int)set.len, set.ptr);
    if (rem.len)
        buf_printf(&u, "%sREMOVE %.*s", u.len ? " " : "", (int)rem.len, rem.ptr);
    if (add.len)
        buf_printf(&u, "%sADD %.*s", u.len ? " " : "", (int)add.len, add.ptr);
    if (del.len)
        buf_printf(&u, "%sDELETE %.*s", u.len ? " " : "", (int)del.len, del.ptr);
    st->update = arena_strndup(s->a, u.ptr ? u.ptr : "", u.len);
    buf_free(&set);
    buf_free(&rem);
    buf_free(&add);
    buf_free(&del);
    buf_free(&u);
    if (!s->failed)
        where(s, st, true);
}

/* returning - RETURNING {ALL | MODIFIED} {OLD | NEW} * */
static void returning(struct ps *s, struct pql_stmt *st, bool delete)
{
    bool all, old;

    if (!accept_kw(s, "RETURNING"))
        return;
    if (!(all = accept_kw(s, "ALL")) && !accept_kw(s, "MODIFIED")) {
        fail(s, "Expected ALL or MODIFIED at '%s'", tok_text(s));
        return;
    }
    if (!(old = accept_kw(s, "OLD")) && !accept_kw(s, "NEW")) {
        fail(s, "Expected OLD or NEW at '%s'", tok_text(s));
        return;
    }
    expect(s, "*");
    if (delete &&!(all && old)) {
        refuse(s,
               "Invalid returning clause: RETURNING %s %s *. Only RETURNING ALL OLD * is allowed "
               "in DELETE statements.",
               all ? "ALL" : "MODIFIED", old ? "OLD" : "NEW");
        return;
    }
    st->returning = all ? (old ? "ALL_OLD" : "ALL_NEW") : (old ? "UPDATED_OLD" : "UPDATED_NEW");
}

static void statement(struct ps *s, struct pql_stmt *st, bool exists)
{
    if (accept_kw(s, "SELECT")) {
        st->kind = PQL_SELECT;
        select_body(s, st);
    } else if (accept_kw(s, "INSERT")) {
        cJSON *v;

        st->kind = PQL_INSERT;
        expect_kw(s, "INTO");
        if (!s->failed)
            target(s, st);
        if (!s->failed && st->index)
            refuse(s, "%s", on_index);
        if (!s->failed)
            expect_kw(s, "VALUE");
        if (s->failed || !(v = value(s)))
            return;
        cJSON_AddItemToObject(s->values, "item", v);
        if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(v, "M"))) {
            fail(s, "INSERT takes a map value");
            return;
        }
        st->item = cJSON_GetObjectItemCaseSensitive(v, "M");
    } else if (accept_kw(s, "UPDATE")) {
        st->kind = PQL_UPDATE;
        update_body(s, st);
        if (!s->failed)
            returning(s, st, false);
    } else if (accept_kw(s, "DELETE")) {
        st->kind = PQL_DELETE;
        expect_kw(s, "FROM");
        if (!s->failed)
            target(s, st);
        if (!s->failed && st->index)
            refuse(s, "%s", on_index);
        if (!s->failed)
            where(s, st, true);
        if (!s->failed)
            returning(s, st, true);
    } else if (exists && accept_kw(s, "EXISTS")) {
        st->kind = PQL_EXISTS;
        expect(s, "(");
        expect_kw(s, "SELECT");
        if (!s->failed)
            select_body(s, st);
        expect(s, ")");
    } else {
        fail(s, "Expected data manipulation at '%s'", tok_text(s));
    }
}

struct pql_stmt *pql_parse(struct arena *a, const char *text, size_t len, const cJSON *params,
                           bool exists, char *msg, size_t n)
{
    struct ps s = {0};
    struct pql_stmt *st = arena_calloc(a, sizeof(*st));
    cJSON *item_holder;

    s.a = a;
    s.start = s.p = text;
    s.end = text + len;
    s.msg = msg;
    s.msgn = n;
    s.params = params;
    s.nparams = cJSON_GetArraySize(params);
    s.names = cJSON_CreateObject();
    s.values = cJSON_CreateObject();
    arena_on_free(a, json_free, s.names);
    arena_on_free(a, json_free, s.values);
    /* ExecuteStatement has checked the 8192 characters; this bounds what any
     * caller hands in (a character is at most 3 bytes per UTF-16 unit) */
    if (len > 3 * PQL_STATEMENT_MAX) {
        snprintf(msg, n, "Statement is too long");
        return NULL;
    }
    next(&s);
    statement(&s, st, exists);
    if (!s.failed) {
        accept(&s, ";");
        if (s.tok != T_EOF)
            fail(&s, "Unexpected '%s'", tok_text(&s));
    }
    if (!s.failed && s.pi != s.nparams) {
        s.failed = true;
        snprintf(msg, n, "Number of parameters in request and statement don't match.");
    }
    if (s.failed)
        return NULL;
    /* the INSERT item is not an expression value */
    item_holder = cJSON_DetachItemFromObjectCaseSensitive(s.values, "item");
    if (item_holder) {
        arena_on_free(a, json_free, item_holder);
        st->item = cJSON_GetObjectItemCaseSensitive(item_holder, "M");
    }
    st->names = s.names;
    st->values = s.values;
    return st;
}

size_t pql_terms(struct pql_cond *where, struct pql_cond **out, size_t max)
{
    size_t n = 0, sp = 0;
    struct pql_cond *stack[PQL_TERMS];

    if (!where)
        return 0;
    stack[sp++] = where;
    while (sp) {
        struct pql_cond *c = stack[--sp];

        if (c->kind == PQL_C_AND && sp + 2 <= PQL_TERMS) {
            stack[sp++] = c->r; /* left first */
            stack[sp++] = c->l;
            continue;
        }
        if (n < max)
            out[n] = c;
        n++;
    }
    return n;
}

bool pql_uses(const char *text, const char *ph)
{
    size_t n = strlen(ph);

    for (const char *p = text; p && (p = strstr(p, ph)) != NULL; p += n)
        if (!isdigit((unsigned char)p[n]))
            return true;
    return false;
}

const char *pql_name_ph(const struct pql_stmt *s, const char *n)
{
    const cJSON *x;

    cJSON_ArrayForEach(x, s->names)
    {
        if (strcmp(x->valuestring, n) == 0)
            return x->string;
    }
    return NULL;
}
