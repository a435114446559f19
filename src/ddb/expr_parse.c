/* expr_parse.c - the lexer and recursive-descent parser of DynamoDB expressions.
 *
 * Precedence as the Developer Guide gives it ("Condition and filter
 * expressions, operators, and functions"): comparators, IN, BETWEEN,
 * functions, parentheses, then NOT > AND > OR. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arena.h"
#include "attr.h"
#include "buf.h"
#include "expr_int.h"

/* ---- lexer ---- */

/* a name starts with a letter; '_' and digits may follow */
static bool is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool is_word(unsigned char c)
{
    return is_alpha(c) || is_digit(c) || c == '_';
}

static bool tok_is(const struct expr_token *t, const char *word)
{
    return t->len == strlen(word) && strncasecmp(t->p, word, t->len) == 0;
}

static enum expr_tok keyword(const struct expr_token *t)
{
    static const struct {
        const char *word;
        enum expr_tok kind;
    } kw[] = {{"AND", TOK_AND},
              {"OR", TOK_OR},
              {"NOT", TOK_NOT},
              {"BETWEEN", TOK_BETWEEN},
              {"IN", TOK_IN}};

    for (size_t i = 0; i < sizeof(kw) / sizeof(kw[0]); i++)
        if (tok_is(t, kw[i].word))
            return kw[i].kind;
    return TOK_NAME;
}

/* lex - tokenize @s into @out (NULL: just count). Returns the number of tokens
 * including the final TOK_EOF. */
static size_t lex(const char *s, struct expr_token *out)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = 0;

    for (;;) {
        struct expr_token t;

        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        t.p = (const char *)p;
        t.len = 1;
        if (!*p) {
            t.kind = TOK_EOF;
            t.len = 0;
        } else if (is_alpha(*p)) {
            while (is_word(p[t.len]))
                t.len++;
            t.kind = TOK_NAME;
            t.kind = keyword(&t);
        } else if (is_digit(*p)) {
            while (is_digit(p[t.len]))
                t.len++;
            t.kind = TOK_NUMBER;
        } else if ((*p == '#' || *p == ':') && is_word(p[1])) {
            while (is_word(p[t.len]))
                t.len++;
            t.kind = *p == '#' ? TOK_HASH : TOK_VALUE;
        } else {
            switch (*p) {
            case '(':
                t.kind = TOK_LPAREN;
                break;
            case ')':
                t.kind = TOK_RPAREN;
                break;
            case '[':
                t.kind = TOK_LBRACKET;
                break;
            case ']':
                t.kind = TOK_RBRACKET;
                break;
            case ',':
                t.kind = TOK_COMMA;
                break;
            case '.':
                t.kind = TOK_DOT;
                break;
            case '=':
                t.kind = TOK_EQ;
                break;
            case '+':
                t.kind = TOK_PLUS;
                break;
            case '-':
                t.kind = TOK_MINUS;
                break;
            case '<':
                t.kind = TOK_LT;
                if (p[1] == '>' || p[1] == '=') {
                    t.kind = p[1] == '>' ? TOK_NE : TOK_LE;
                    t.len = 2;
                }
                break;
            case '>':
                t.kind = TOK_GT;
                if (p[1] == '=') {
                    t.kind = TOK_GE;
                    t.len = 2;
                }
                break;
            default:
                t.kind = TOK_BAD;
                /* Show a whole UTF-8 character in messages. */
                if (*p >= 0xC0)
                    while (t.len < 4 && (p[t.len] & 0xC0) == 0x80)
                        t.len++;
                break;
            }
        }
        if (out)
            out[n] = t;
        n++;
        if (t.kind == TOK_EOF)
            return n;
        p += t.len;
    }
}

enum err_code expr_parser_init(struct expr_parser *ps, struct expr_ctx *c, const char *text,
                               const char *which, struct err *e)
{
    const char *p = text ? text : "";
    size_t len = strlen(p);

    memset(ps, 0, sizeof(*ps));
    ps->ctx = c;
    ps->text = p;
    ps->which = which;
    ps->e = e;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    if (!*p)
        return err_set(e, ERR_INVALID, "Invalid %s: The expression can not be empty;", which);
    if (len > EXPR_MAX_LEN)
        return err_set(e, ERR_INVALID,
                       "Invalid %s: Expression size has exceeded the maximum allowed size; "
                       "expression size: %zu",
                       which, len);
    ps->ntoks = lex(ps->text, NULL);
    ps->toks = arena_alloc(c->arena, ps->ntoks * sizeof(*ps->toks));
    lex(ps->text, ps->toks);
    return ERR_OK;
}

/* ---- errors ---- */

enum err_code expr_fail(struct expr_parser *ps, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return err_set(ps->e, ERR_INVALID, "Invalid %s: %s", ps->which, msg);
}

enum err_code expr_syntax_error(struct expr_parser *ps)
{
    const struct expr_token *t = &ps->toks[ps->pos];
    const char *start = ps->pos > 0 ? ps->toks[ps->pos - 1].p : t->p;
    const char *end = t->kind == TOK_EOF ? t->p : t[1].p + t[1].len;

    if (t->kind == TOK_EOF)
        return expr_fail(ps, "Syntax error; token: \"<EOF>\", near: \"%.*s\"", (int)(end - start),
                         start);
    return expr_fail(ps, "Syntax error; token: \"%.*s\", near: \"%.*s\"", (int)t->len, t->p,
                     (int)(end - start), start);
}

const struct expr_token *expr_peek(const struct expr_parser *ps, size_t ahead)
{
    size_t i = ps->pos + ahead;

    return &ps->toks[i < ps->ntoks ? i : ps->ntoks - 1];
}

bool expr_accept(struct expr_parser *ps, enum expr_tok kind)
{
    if (ps->toks[ps->pos].kind != kind)
        return false;
    if (kind != TOK_EOF)
        ps->pos++;
    return true;
}

static enum err_code expect(struct expr_parser *ps, enum expr_tok kind)
{
    return expr_accept(ps, kind) ? ERR_OK : expr_syntax_error(ps);
}

/* ---- names, values and paths ---- */

static enum err_code resolve_name(struct expr_parser *ps, const struct expr_token *t,
                                  const char **out)
{
    char *key = arena_strndup(ps->ctx->arena, t->p, t->len);
    const cJSON *v = ps->ctx->names ? cJSON_GetObjectItemCaseSensitive(ps->ctx->names, key) : NULL;

    if (!cJSON_IsString(v))
        return expr_fail(ps,
                         "An expression attribute name used in the document path is not defined; "
                         "attribute name: %s",
                         key);
    expr_ctx_mark_used(ps->ctx, v->string);
    *out = v->valuestring;
    return ERR_OK;
}

static enum err_code resolve_value(struct expr_parser *ps, const struct expr_token *t,
                                   struct expr_operand *o)
{
    char *key = arena_strndup(ps->ctx->arena, t->p, t->len);
    const cJSON *v =
        ps->ctx->values ? cJSON_GetObjectItemCaseSensitive(ps->ctx->values, key) : NULL;

    if (!v)
        return expr_fail(ps,
                         "An expression attribute value used in expression is not defined; "
                         "attribute value: %s",
                         key);
    expr_ctx_mark_used(ps->ctx, v->string);
    o->kind = OPND_VALUE;
    o->value = v;
    o->vname = key;
    return ERR_OK;
}

/* path_name - a member name: bare (not a reserved word) or #name. */
static enum err_code path_name(struct expr_parser *ps, const char **out)
{
    const struct expr_token *t = expr_peek(ps, 0);

    if (t->kind == TOK_HASH) {
        ps->pos++;
        return resolve_name(ps, t, out);
    }
    if (t->kind != TOK_NAME)
        return expr_syntax_error(ps);
    if (expr_is_reserved(t->p, t->len))
        return expr_fail(ps, "Attribute name is a reserved keyword; reserved keyword: %.*s",
                         (int)t->len, t->p);
    ps->pos++;
    *out = arena_strndup(ps->ctx->arena, t->p, t->len);
    return ERR_OK;
}

static enum err_code too_deep(struct expr_parser *ps)
{
    return expr_fail(ps, "The document path has too many nesting levels; nesting levels: %d",
                     EXPR_MAX_DEPTH + 1);
}

enum err_code expr_parse_path(struct expr_parser *ps, struct expr_path *out)
{
    struct expr_path_elem elems[EXPR_MAX_DEPTH];
    size_t n = 0;
    enum err_code rc;

    for (;;) {
        const struct expr_token *t;

        if (n == 0 || expr_accept(ps, TOK_DOT)) {
            if (n == EXPR_MAX_DEPTH)
                return too_deep(ps);
            elems[n].index = 0;
            rc = path_name(ps, &elems[n].name);
            if (rc)
                return rc;
            n++;
            continue;
        }
        if (!expr_accept(ps, TOK_LBRACKET))
            break;
        if (n == EXPR_MAX_DEPTH)
            return too_deep(ps);
        t = expr_peek(ps, 0);
        if (t->kind != TOK_NUMBER || t->len > 9)
            return expr_syntax_error(ps);
        elems[n].name = NULL;
        elems[n].index = strtol(t->p, NULL, 10);
        n++;
        ps->pos++;
        rc = expect(ps, TOK_RBRACKET);
        if (rc)
            return rc;
    }
    out->n = n;
    out->elems = arena_memdup(ps->ctx->arena, elems, n * sizeof(elems[0]));
    return ERR_OK;
}

const char *expr_path_format(struct arena *a, const struct expr_path *p)
{
    struct buf b;
    char *s;

    buf_init(&b, 0);
    buf_putc(&b, '[');
    for (size_t i = 0; i < p->n; i++) {
        if (i)
            buf_puts(&b, ", ");
        if (p->elems[i].name)
            buf_puts(&b, p->elems[i].name);
        else
            buf_printf(&b, "[%ld]", p->elems[i].index);
    }
    buf_putc(&b, ']');
    s = arena_strdup(a, b.ptr);
    buf_free(&b);
    return s;
}

const char *expr_av_format(struct arena *a, const cJSON *av)
{
    const cJSON *p = attr_payload(av);
    char *json, *s;

    if (!p)
        return "AttributeValue: {}";
    if (cJSON_IsString(p))
        return arena_sprintf(a, "AttributeValue: {%s:%s}", p->string, p->valuestring);
    json = cJSON_PrintUnformatted(p);
    s = arena_sprintf(a, "AttributeValue: {%s:%s}", p->string, json ? json : "");
    cJSON_free(json);
    return s;
}

/* ---- operands ---- */

enum fn {
    FN_NONE,
    FN_ATTRIBUTE_EXISTS,
    FN_ATTRIBUTE_NOT_EXISTS,
    FN_ATTRIBUTE_TYPE,
    FN_BEGINS_WITH,
    FN_CONTAINS,
    FN_SIZE,
    FN_IF_NOT_EXISTS,
    FN_LIST_APPEND,
};

/* Function names are case-sensitive, unlike keywords. */
static enum fn fn_lookup(const struct expr_token *t)
{
    static const char *const names[] = {
        [FN_ATTRIBUTE_EXISTS] = "attribute_exists",
        [FN_ATTRIBUTE_NOT_EXISTS] = "attribute_not_exists",
        [FN_ATTRIBUTE_TYPE] = "attribute_type",
        [FN_BEGINS_WITH] = "begins_with",
        [FN_CONTAINS] = "contains",
        [FN_SIZE] = "size",
        [FN_IF_NOT_EXISTS] = "if_not_exists",
        [FN_LIST_APPEND] = "list_append",
    };

    for (size_t i = 1; i < sizeof(names) / sizeof(names[0]); i++)
        if (t->len == strlen(names[i]) && memcmp(t->p, names[i], t->len) == 0)
            return (enum fn)i;
    return FN_NONE;
}

static bool is_func_call(const struct expr_parser *ps)
{
    return expr_peek(ps, 0)->kind == TOK_NAME && expr_peek(ps, 1)->kind == TOK_LPAREN;
}

/* parse_args - "( operand, ... )" with at least one operand. */
static enum err_code parse_args(struct expr_parser *ps, struct expr_operand ***args, size_t *nargs,
                                size_t max, const char *what)
{
    struct expr_operand *tmp[EXPR_MAX_IN + 1];
    size_t n = 0;
    enum err_code rc;

    rc = expect(ps, TOK_LPAREN);
    if (rc)
        return rc;
    do {
        if (n == max)
            return expr_fail(ps,
                             "The %s operator is provided with too many operands; number of "
                             "operands: %zu",
                             what, n + 1);
        rc = expr_parse_operand(ps, &tmp[n]);
        if (rc)
            return rc;
        n++;
    } while (expr_accept(ps, TOK_COMMA));
    rc = expect(ps, TOK_RPAREN);
    if (rc)
        return rc;
    *nargs = n;
    *args = arena_memdup(ps->ctx->arena, tmp, n * sizeof(tmp[0]));
    return ERR_OK;
}

static enum err_code operand_count(struct expr_parser *ps, const char *fn, size_t got, size_t want)
{
    if (got == want)
        return ERR_OK;
    return expr_fail(ps,
                     "Incorrect number of operands for operator or function; operator or "
                     "function: %s, number of operands: %zu",
                     fn, got);
}

static const char *operand_type(const struct expr_operand *o)
{
    return o->kind == OPND_VALUE ? attr_type_name(attr_type_of(o->value)) : "N";
}

static enum err_code bad_operand_type(struct expr_parser *ps, const char *fn,
                                      const struct expr_operand *o)
{
    return expr_fail(ps,
                     "Incorrect operand type for operator or function; operator or function: %s, "
                     "operand type: %s",
                     fn, operand_type(o));
}

enum err_code expr_parse_operand(struct expr_parser *ps, struct expr_operand **out)
{
    const struct expr_token *t = expr_peek(ps, 0);
    struct expr_operand *o = arena_calloc(ps->ctx->arena, sizeof(*o));
    enum err_code rc;

    *out = o;
    if (t->kind == TOK_VALUE) {
        ps->pos++;
        return resolve_value(ps, t, o);
    }
    if (is_func_call(ps)) {
        enum fn f = fn_lookup(t);
        struct expr_operand **args;
        size_t nargs;

        if (f == FN_NONE)
            return expr_fail(ps, "Invalid function name; function: %.*s", (int)t->len, t->p);
        if (f != FN_SIZE)
            return expr_fail(ps,
                             "The function is not allowed to be used this way in an expression; "
                             "function: %.*s",
                             (int)t->len, t->p);
        ps->pos++;
        rc = parse_args(ps, &args, &nargs, EXPR_MAX_IN, "size");
        if (rc)
            return rc;
        rc = operand_count(ps, "size", nargs, 1);
        if (rc)
            return rc;
        if (args[0]->kind != OPND_PATH)
            return bad_operand_type(ps, "size", args[0]);
        o->kind = OPND_SIZE;
        o->path = args[0]->path;
        return ERR_OK;
    }
    if (t->kind == TOK_NAME || t->kind == TOK_HASH) {
        o->kind = OPND_PATH;
        return expr_parse_path(ps, &o->path);
    }
    return expr_syntax_error(ps);
}

/* ---- conditions ---- */

static struct expr_cond *cond_new(struct expr_parser *ps, enum expr_cond_kind kind)
{
    struct expr_cond *c = arena_calloc(ps->ctx->arena, sizeof(*c));

    c->kind = kind;
    return c;
}

static bool valid_type_name(const char *s)
{
    static const char *const types[] = {"S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M"};

    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(s, types[i]) == 0)
            return true;
    return false;
}

static enum err_code need_path(struct expr_parser *ps, const char *fn, const struct expr_operand *o)
{
    if (o->kind == OPND_PATH)
        return ERR_OK;
    return expr_fail(ps, "Operator or function requires a document path; operator or function: %s",
                     fn);
}

/* distinct_operands - DynamoDB refuses a comparison or a two-operand function
 * (contains, begins_with, attribute_type) whose two operands are one document
 * path ("a = a", "contains(a, #a)"); two values (":v = :v") are accepted. */
static enum err_code distinct_operands(struct expr_parser *ps, const char *op,
                                       const struct expr_operand *a, const struct expr_operand *b)
{
    if (a->kind != OPND_PATH || b->kind != OPND_PATH || a->path.n != b->path.n)
        return ERR_OK;
    for (size_t i = 0; i < a->path.n; i++) {
        const struct expr_path_elem *x = &a->path.elems[i], *y = &b->path.elems[i];

        if (!x->name != !y->name)
            return ERR_OK;
        if (x->name ? strcmp(x->name, y->name) != 0 : x->index != y->index)
            return ERR_OK;
    }
    return expr_fail(ps,
                     "The first operand must be distinct from the remaining operands for this "
                     "operator or function; operator: %s, first operand: %s",
                     op, expr_path_format(ps->ctx->arena, &a->path));
}

/* parse_func_cond - attribute_exists, attribute_not_exists, attribute_type, begins_with, contains.
 */
static enum err_code parse_func_cond(struct expr_parser *ps, enum fn f, struct expr_cond **out)
{
    static const struct {
        const char *name;
        enum expr_cond_kind kind;
        size_t nargs;
    } spec[] = {
        [FN_ATTRIBUTE_EXISTS] = {"attribute_exists", COND_EXISTS, 1},
        [FN_ATTRIBUTE_NOT_EXISTS] = {"attribute_not_exists", COND_NOT_EXISTS, 1},
        [FN_ATTRIBUTE_TYPE] = {"attribute_type", COND_TYPE, 2},
        [FN_BEGINS_WITH] = {"begins_with", COND_BEGINS, 2},
        [FN_CONTAINS] = {"contains", COND_CONTAINS, 2},
    };
    const char *name = spec[f].name;
    struct expr_cond *c = cond_new(ps, spec[f].kind);
    enum err_code rc;

    ps->pos++;
    rc = parse_args(ps, &c->args, &c->nargs, EXPR_MAX_IN, name);
    if (rc)
        return rc;
    rc = operand_count(ps, name, c->nargs, spec[f].nargs);
    if (rc == ERR_OK && c->nargs == 2)
        rc = distinct_operands(ps, name, c->args[0], c->args[1]);
    if (rc)
        return rc;
    switch (f) {
    case FN_ATTRIBUTE_EXISTS:
    case FN_ATTRIBUTE_NOT_EXISTS:
        rc = need_path(ps, name, c->args[0]);
        break;
    case FN_ATTRIBUTE_TYPE: {
        /* the first operand may be any operand; the type name must be a value */
        const struct expr_operand *tv = c->args[1];
        if (tv->kind != OPND_VALUE)
            return expr_fail(ps,
                             "Incorrect operand type for operator or function; operator or "
                             "function: %s, operand type: document path (the type name must be "
                             "an expression attribute value)",
                             name);
        if (attr_type_of(tv->value) != ATTR_S)
            return bad_operand_type(ps, name, tv);
        if (!valid_type_name(attr_payload(tv->value)->valuestring))
            return expr_fail(ps,
                             "Invalid attribute type name found; type: %s, valid types: "
                             "{B,NULL,SS,BOOL,L,BS,N,NS,S,M}",
                             attr_payload(tv->value)->valuestring);
        break;
    }
    case FN_BEGINS_WITH:
        for (size_t i = 0; i < 2; i++) {
            const struct expr_operand *a = c->args[i];
            enum attr_type t = a->kind == OPND_VALUE ? attr_type_of(a->value) : ATTR_S;
            if (a->kind == OPND_SIZE || (t != ATTR_S && t != ATTR_B))
                return bad_operand_type(ps, name, a);
        }
        break;
    default:
        break;
    }
    if (rc)
        return rc;
    *out = c;
    return ERR_OK;
}

static bool is_comparator(enum expr_tok k)
{
    return k == TOK_EQ || k == TOK_NE || k == TOK_LT || k == TOK_LE || k == TOK_GT || k == TOK_GE;
}

static const char *op_name(enum expr_tok k)
{
    switch (k) {
    case TOK_EQ:
        return "=";
    case TOK_NE:
        return "<>";
    case TOK_LT:
        return "<";
    case TOK_LE:
        return "<=";
    case TOK_GT:
        return ">";
    case TOK_GE:
        return ">=";
    default:
        return "BETWEEN";
    }
}

/* ordered_operand - < <= > >= and BETWEEN only order S, N and B. */
static enum err_code ordered_operand(struct expr_parser *ps, enum expr_tok op,
                                     const struct expr_operand *o)
{
    enum attr_type t;

    if (o->kind != OPND_VALUE)
        return ERR_OK;
    t = attr_type_of(o->value);
    if (t == ATTR_S || t == ATTR_N || t == ATTR_B)
        return ERR_OK;
    return bad_operand_type(ps, op_name(op), o);
}

static enum err_code parse_between(struct expr_parser *ps, struct expr_cond *c)
{
    struct expr_operand *lo, *hi;
    enum err_code rc;

    rc = expr_parse_operand(ps, &lo);
    if (rc)
        return rc;
    rc = expect(ps, TOK_AND);
    if (rc)
        return rc;
    rc = expr_parse_operand(ps, &hi);
    if (rc)
        return rc;
    for (int i = 0; i < 3; i++) {
        rc = ordered_operand(ps, TOK_BETWEEN, i == 0 ? c->args[0] : i == 1 ? lo : hi);
        if (rc)
            return rc;
    }
    if (lo->kind == OPND_VALUE && hi->kind == OPND_VALUE) {
        bool ok;
        int cmp = attr_compare(lo->value, hi->value, &ok);
        if (!ok)
            return expr_fail(ps,
                             "The BETWEEN operator requires same data type for lower and upper "
                             "bounds; lower operand: %s, upper operand: %s",
                             expr_av_format(ps->ctx->arena, lo->value),
                             expr_av_format(ps->ctx->arena, hi->value));
        if (cmp > 0)
            return expr_fail(ps,
                             "The BETWEEN operator requires upper bound to be greater than or "
                             "equal to lower bound; lower operand: %s, upper operand: %s",
                             expr_av_format(ps->ctx->arena, lo->value),
                             expr_av_format(ps->ctx->arena, hi->value));
    }
    c->args[1] = lo;
    c->args[2] = hi;
    return ERR_OK;
}

/* count_op - one more operator; DynamoDB refuses an expression past EXPR_MAX_OPS. */
static enum err_code count_op(struct expr_parser *ps)
{
    if (++ps->nops > EXPR_MAX_OPS)
        return expr_fail(ps, "The expression contains too many operators; operator count: %u",
                         ps->nops);
    return ERR_OK;
}

static enum err_code parse_primary(struct expr_parser *ps, struct expr_cond **out)
{
    struct expr_operand *l;
    struct expr_cond *c;
    enum expr_tok k;
    enum err_code rc;

    if (expr_accept(ps, TOK_LPAREN)) {
        if (++ps->depth > EXPR_MAX_NESTING)
            return expr_syntax_error(ps);
        rc = expr_parse_cond(ps, &c);
        ps->depth--;
        if (rc)
            return rc;
        rc = expect(ps, TOK_RPAREN);
        if (rc)
            return rc;
        if (c->parens)
            return expr_fail(ps, "The expression has redundant parentheses;");
        c->parens = true;
        *out = c;
        return ERR_OK;
    }
    if (is_func_call(ps)) {
        const struct expr_token *t = expr_peek(ps, 0);
        enum fn f = fn_lookup(t);
        if (f >= FN_ATTRIBUTE_EXISTS && f <= FN_CONTAINS) {
            rc = parse_func_cond(ps, f, out);
            if (rc)
                return rc;
            k = expr_peek(ps, 0)->kind;
            if (is_comparator(k) || k == TOK_BETWEEN || k == TOK_IN)
                return expr_fail(ps,
                                 "The function is not allowed to be used this way in an "
                                 "expression; function: %.*s",
                                 (int)t->len, t->p);
            return ERR_OK;
        }
    }
    rc = expr_parse_operand(ps, &l);
    if (rc)
        return rc;
    k = expr_peek(ps, 0)->kind;
    if ((is_comparator(k) || k == TOK_BETWEEN || k == TOK_IN) && count_op(ps))
        return ERR_INVALID;
    if (is_comparator(k)) {
        ps->pos++;
        c = cond_new(ps, COND_CMP);
        c->op = k;
        c->nargs = 2;
        c->args = arena_alloc(ps->ctx->arena, 2 * sizeof(*c->args));
        c->args[0] = l;
        rc = expr_parse_operand(ps, &c->args[1]);
        if (rc == ERR_OK)
            rc = distinct_operands(ps, op_name(k), l, c->args[1]);
        if (rc)
            return rc;
        if (k != TOK_EQ && k != TOK_NE) {
            for (int i = 0; i < 2; i++) {
                rc = ordered_operand(ps, k, c->args[i]);
                if (rc)
                    return rc;
            }
        }
    } else if (k == TOK_BETWEEN) {
        ps->pos++;
        c = cond_new(ps, COND_BETWEEN);
        c->nargs = 3;
        c->args = arena_alloc(ps->ctx->arena, 3 * sizeof(*c->args));
        c->args[0] = l;
        rc = parse_between(ps, c);
        if (rc)
            return rc;
    } else if (k == TOK_IN) {
        struct expr_operand **list;
        size_t n;
        ps->pos++;
        rc = parse_args(ps, &list, &n, EXPR_MAX_IN, "IN");
        if (rc)
            return rc;
        c = cond_new(ps, COND_IN);
        c->nargs = n + 1;
        c->args = arena_alloc(ps->ctx->arena, (n + 1) * sizeof(*c->args));
        c->args[0] = l;
        memcpy(c->args + 1, list, n * sizeof(*list));
    } else if (l->kind == OPND_SIZE) { /* size(a) is a number, not a condition */
        return expr_fail(ps, "The function is not allowed to be used this way in an expression; "
                             "function: size");
    } else {
        return expr_syntax_error(ps);
    }
    *out = c;
    return ERR_OK;
}

static enum err_code parse_not(struct expr_parser *ps, struct expr_cond **out)
{
    struct expr_cond *c;
    enum err_code rc;

    if (!expr_accept(ps, TOK_NOT))
        return parse_primary(ps, out);
    if (count_op(ps))
        return ERR_INVALID;
    if (++ps->depth > EXPR_MAX_NESTING)
        return expr_syntax_error(ps);
    c = cond_new(ps, COND_NOT);
    rc = parse_not(ps, &c->l);
    ps->depth--;
    if (rc)
        return rc;
    *out = c;
    return ERR_OK;
}

static enum err_code parse_and(struct expr_parser *ps, struct expr_cond **out)
{
    struct expr_cond *l = NULL, *c;
    enum err_code rc;

    rc = parse_not(ps, &l);
    while (rc == ERR_OK && expr_accept(ps, TOK_AND)) {
        if (count_op(ps))
            return ERR_INVALID;
        c = cond_new(ps, COND_AND);
        c->l = l;
        rc = parse_not(ps, &c->r);
        l = c;
    }
    *out = l;
    return rc;
}

enum err_code expr_parse_cond(struct expr_parser *ps, struct expr_cond **out)
{
    struct expr_cond *l = NULL, *c;
    enum err_code rc;

    rc = parse_and(ps, &l);
    while (rc == ERR_OK && expr_accept(ps, TOK_OR)) {
        if (count_op(ps))
            return ERR_INVALID;
        c = cond_new(ps, COND_OR);
        c->l = l;
        rc = parse_and(ps, &c->r);
        l = c;
    }
    *out = l;
    return rc;
}
