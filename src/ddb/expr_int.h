/* expr_int.h - private to expr.c, expr_parse.c and expr_reserved.c: tokens, the
 * AST and the parser.
 *
 * The pieces an UpdateExpression parser needs (lexer, document paths,
 * operands, the syntax-error wording) live here so it can reuse them: an
 * update operand is an expr_operand with the OPND_PLUS/OPND_MINUS/
 * OPND_IF_NOT_EXISTS/OPND_LIST_APPEND kinds switched on by its parser. */
#ifndef TANDEM_EXPR_INT_H
#define TANDEM_EXPR_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "expr.h"

/* EXPR_MAX_OPS: comparisons, BETWEEN, IN, AND, OR and NOT in one expression;
 * EXPR_MAX_NESTING: parentheses and NOT around one another (each level of a
 * useful nesting holds an operator, so it stays within the operator limit). */
enum {
    EXPR_MAX_LEN = 4096,
    EXPR_MAX_DEPTH = 32,
    EXPR_MAX_IN = 100,
    EXPR_MAX_OPS = 300,
    EXPR_MAX_NESTING = 300
};

enum expr_tok {
    TOK_EOF,
    TOK_NAME,   /* bare attribute name or function name */
    TOK_HASH,   /* #name */
    TOK_VALUE,  /* :value */
    TOK_NUMBER, /* digits (list indexes) */
    TOK_LPAREN,
    TOK_RPAREN,
    TOK_LBRACKET,
    TOK_RBRACKET,
    TOK_COMMA,
    TOK_DOT,
    TOK_EQ,
    TOK_NE,
    TOK_LT,
    TOK_LE,
    TOK_GT,
    TOK_GE,
    TOK_PLUS,
    TOK_MINUS,
    TOK_AND, /* keywords, matched case-insensitively */
    TOK_OR,
    TOK_NOT,
    TOK_BETWEEN,
    TOK_IN,
    TOK_BAD, /* a byte no token starts with */
};

struct expr_token {
    enum expr_tok kind;
    const char *p; /* into the expression text */
    size_t len;
};

/* One component of a document path: a member name (resolved from #name) or a list index. */
struct expr_path_elem {
    const char *name; /* arena; NULL for an index */
    long index;
};

struct expr_path {
    struct expr_path_elem *elems; /* arena */
    size_t n;
};

enum expr_opnd_kind {
    OPND_PATH,
    OPND_VALUE,
    OPND_SIZE, /* size(path) */
    /* UpdateExpression only (not produced by the condition parser): */
    OPND_PLUS,
    OPND_MINUS,
    OPND_IF_NOT_EXISTS,
    OPND_LIST_APPEND,
};

struct expr_operand {
    enum expr_opnd_kind kind;
    struct expr_path path;      /* OPND_PATH, OPND_SIZE */
    const cJSON *value;         /* OPND_VALUE: borrowed from ctx->values */
    const char *vname;          /* OPND_VALUE: ":v" (arena) */
    struct expr_operand *a, *b; /* OPND_PLUS/MINUS/IF_NOT_EXISTS/LIST_APPEND */
};

enum expr_cond_kind {
    COND_CMP,
    COND_BETWEEN,
    COND_IN,
    COND_AND,
    COND_OR,
    COND_NOT,
    COND_EXISTS,
    COND_NOT_EXISTS,
    COND_TYPE,
    COND_BEGINS,
    COND_CONTAINS,
};

struct expr_cond {
    enum expr_cond_kind kind;
    enum expr_tok op;           /* COND_CMP: TOK_EQ ... TOK_GE */
    struct expr_cond *l, *r;    /* AND, OR (both), NOT (l) */
    struct expr_operand **args; /* arena: CMP 2, BETWEEN 3, IN 1+n, functions */
    size_t nargs;
    bool parens; /* written as ( ... ): for the redundant-parentheses rule */
};

/* A projection: the paths as written (for overlap checks) and merged into a tree. */
struct expr_pnode {
    const char *name; /* member name, or NULL for an index */
    long index;
    bool leaf;               /* the whole value at this path is projected */
    struct expr_pnode *kids; /* first child; index children sorted by index */
    struct expr_pnode *next; /* sibling */
};

struct expr_proj {
    struct expr_pnode root; /* kids are top-level attribute names */
};

struct expr_parser {
    struct expr_ctx *ctx;
    const char *text;
    const char *which;       /* "ConditionExpression", ... */
    struct expr_token *toks; /* arena, ends with TOK_EOF */
    size_t ntoks, pos;
    unsigned depth; /* nesting of parentheses and NOT, bounded to keep recursion shallow */
    unsigned nops;  /* operators so far, bounded by EXPR_MAX_OPS */
    struct err *e;
};

/* expr_parser_init - tokenize @text; ERR_INVALID for empty or oversized text. */
enum err_code expr_parser_init(struct expr_parser *ps, struct expr_ctx *c, const char *text,
                               const char *which, struct err *e);

/* expr_syntax_error - "Invalid <which>: Syntax error; token: \"t\", near: \"...\"" at the
 * current token (near: from the previous token to the next one, as DynamoDB shows it). */
enum err_code expr_syntax_error(struct expr_parser *ps);

/* expr_fail - "Invalid <which>: <formatted message>". */
enum err_code expr_fail(struct expr_parser *ps, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

const struct expr_token *expr_peek(const struct expr_parser *ps, size_t ahead);

/* expr_accept - consume the current token if it is @kind. */
bool expr_accept(struct expr_parser *ps, enum expr_tok kind);

/* expr_is_reserved - the @len bytes at @p are one of DynamoDB's reserved
 * words (any case), which a bare attribute name may not be (expr_reserved.c). */
bool expr_is_reserved(const char *p, size_t len);

/* expr_parse_path - a document path: name or #name, then .member / [index] components. */
enum err_code expr_parse_path(struct expr_parser *ps, struct expr_path *out);

/* expr_parse_operand - a path, a :value or size(path). */
enum err_code expr_parse_operand(struct expr_parser *ps, struct expr_operand **out);

/* expr_parse_cond - a whole condition (OR level). */
enum err_code expr_parse_cond(struct expr_parser *ps, struct expr_cond **out);

/* expr_path_format - "[a, b, [2]]" as DynamoDB prints document paths (arena). */
const char *expr_path_format(struct arena *a, const struct expr_path *p);

/* expr_path_prefix - how many leading elements @p and @q have in common. */
size_t expr_path_prefix(const struct expr_path *p, const struct expr_path *q);

/* expr_proj_insert - add path @p to the projection tree under @root (nodes
 * in @a); index children stay sorted so a projected list keeps its order. */
void expr_proj_insert(struct arena *a, struct expr_pnode *root, const struct expr_path *p);

/* expr_av_format - "AttributeValue: {N:10}" as DynamoDB prints values (arena). */
const char *expr_av_format(struct arena *a, const cJSON *av);

/* expr_resolve_path - the AV at @p inside @item, or NULL when absent (borrowed from @item). */
const cJSON *expr_resolve_path(const struct expr_path *p, const cJSON *item);

/* expr_ctx_mark_used - remember that #name / :value @key was used (arena copy not needed:
 * @key must outlive the context, e.g. a cJSON key of ctx->names/values). */
void expr_ctx_mark_used(struct expr_ctx *c, const char *key);

#endif
