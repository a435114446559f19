/* expr.c - see expr.h: the context, condition evaluation and projections.
 * The lexer and parser are in expr_parse.c. */
#include "expr.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "buf.h"
#include "codec.h"
#include "expr_int.h"
#include "mem.h"

/* ---- context ---- */

void expr_ctx_init(struct expr_ctx *c, struct arena *a, const cJSON *names, const cJSON *values)
{
    memset(c, 0, sizeof(*c));
    c->arena = a;
    c->names = names;
    c->values = values;
}

static bool ctx_used(const struct expr_ctx *c, const char *key)
{
    for (size_t i = 0; i < c->nused; i++)
        if (strcmp(c->used[i], key) == 0)
            return true;
    return false;
}

void expr_ctx_mark_used(struct expr_ctx *c, const char *key)
{
    if (ctx_used(c, key))
        return;
    if (c->nused == c->capused) {
        size_t cap = c->capused ? 2 * c->capused : 16;
        const char **u = arena_alloc(c->arena, cap * sizeof(*u));
        if (c->nused)
            memcpy(u, c->used, c->nused * sizeof(*u));
        c->used = u;
        c->capused = cap;
    }
    c->used[c->nused++] = key;
}

static enum err_code check_unused(const struct expr_ctx *c, const cJSON *obj, const char *what,
                                  struct err *e)
{
    struct buf b;
    enum err_code rc = ERR_OK;

    if (!obj)
        return ERR_OK;
    buf_init(&b, 200);
    for (const cJSON *m = obj->child; m; m = m->next)
        if (m->string && !ctx_used(c, m->string))
            buf_printf(&b, "%s%s", b.len ? ", " : "", m->string);
    if (b.len)
        rc = err_set(e, ERR_INVALID,
                     "Value provided in ExpressionAttribute%s unused in expressions: keys: {%s}",
                     what, b.ptr);
    buf_free(&b);
    return rc;
}

enum err_code expr_check_unused(const struct expr_ctx *c, struct err *e)
{
    enum err_code rc = check_unused(c, c->names, "Names", e);

    return rc ? rc : check_unused(c, c->values, "Values", e);
}

/* ---- conditions ---- */

enum err_code expr_parse_condition(struct expr_ctx *c, const char *text, const char *which,
                                   struct expr_cond **out, struct err *e)
{
    struct expr_parser ps;
    enum err_code rc;

    *out = NULL;
    rc = expr_parser_init(&ps, c, text, which, e);
    if (rc)
        return rc;
    rc = expr_parse_cond(&ps, out);
    if (rc == ERR_OK && !expr_accept(&ps, TOK_EOF))
        rc = expr_syntax_error(&ps);
    if (rc)
        *out = NULL;
    return rc;
}

const cJSON *expr_resolve_path(const struct expr_path *p, const cJSON *item)
{
    const cJSON *av;

    if (!cJSON_IsObject(item) || p->n == 0 || !p->elems[0].name)
        return NULL;
    av = cJSON_GetObjectItemCaseSensitive(item, p->elems[0].name);
    for (size_t i = 1; av && i < p->n; i++) {
        const struct expr_path_elem *el = &p->elems[i];
        enum attr_type t = attr_type_of(av);

        if (el->name)
            av = t == ATTR_M ? cJSON_GetObjectItemCaseSensitive(av->child, el->name) : NULL;
        else
            av = t == ATTR_L && el->index < INT32_MAX
                     ? cJSON_GetArrayItem(av->child, (int)el->index)
                     : NULL;
    }
    return av;
}

/* A value computed during evaluation (size() results, set members), built
 * on the stack so evaluating a filter over many items allocates nothing. */
struct tmp_av {
    cJSON obj, mem;
    char text[32];
};

static const cJSON *tmp_av(struct tmp_av *v, const char *type, const char *text)
{
    memset(v, 0, sizeof(*v));
    v->mem.type = cJSON_String | cJSON_StringIsConst;
    v->mem.string = (char *)type;
    v->mem.valuestring = (char *)text;
    v->obj.type = cJSON_Object;
    v->obj.child = &v->mem;
    return &v->obj;
}

/* b64_bytes - decode a B payload (owned, free()); NULL if malformed. */
static unsigned char *b64_bytes(const char *s, size_t *n)
{
    size_t len = strlen(s);
    unsigned char *out = xmalloc(len / 4 * 3 + 1);

    if (!base64_decode(s, len, out, n)) {
        free(out);
        return NULL;
    }
    return out;
}

static bool size_of(const cJSON *av, size_t *n)
{
    const cJSON *p = attr_payload(av);
    unsigned char *d;

    switch (attr_type_of(av)) {
    case ATTR_S:
        *n = strlen(p->valuestring);
        return true;
    case ATTR_B:
        d = b64_bytes(p->valuestring, n);
        free(d);
        return d != NULL;
    case ATTR_SS:
    case ATTR_NS:
    case ATTR_BS:
    case ATTR_M:
    case ATTR_L:
        *n = (size_t)cJSON_GetArraySize(p);
        return true;
    default:
        return false;
    }
}

static const cJSON *eval_operand(const struct expr_operand *o, const cJSON *item, struct tmp_av *v)
{
    const cJSON *av;
    size_t n;

    switch (o->kind) {
    case OPND_PATH:
        return expr_resolve_path(&o->path, item);
    case OPND_VALUE:
        return o->value;
    case OPND_SIZE:
        av = expr_resolve_path(&o->path, item);
        if (!av || !size_of(av, &n))
            return NULL;
        tmp_av(v, "N", "");
        snprintf(v->text, sizeof(v->text), "%zu", n);
        v->mem.valuestring = v->text;
        return &v->obj;
    default:
        return NULL; /* update-only operands never reach a condition */
    }
}

static bool eval_cmp(enum expr_tok op, const cJSON *a, const cJSON *b, bool nul_high)
{
    bool ok;
    int c;

    /* A missing attribute equals nothing, so "<>" holds for it. */
    if (op == TOK_EQ)
        return a && b && attr_equal(a, b);
    if (op == TOK_NE)
        return !(a && b && attr_equal(a, b));
    if (!a || !b)
        return false;
    c = nul_high ? attr_compare_nul_high(a, b, &ok) : attr_compare(a, b, &ok);
    if (!ok)
        return false;
    switch (op) {
    case TOK_LT:
        return c < 0;
    case TOK_LE:
        return c <= 0;
    case TOK_GT:
        return c > 0;
    case TOK_GE:
        return c >= 0;
    default:
        return false;
    }
}

static bool begins_with(const cJSON *a, const cJSON *b)
{
    enum attr_type t = attr_type_of(a);
    const char *x, *y;
    unsigned char *dx, *dy;
    size_t nx = 0, ny = 0;
    bool r;

    if (!a || !b || t != attr_type_of(b) || (t != ATTR_S && t != ATTR_B))
        return false;
    x = a->child->valuestring;
    y = b->child->valuestring;
    if (t == ATTR_S)
        return strncmp(x, y, strlen(y)) == 0;
    dx = b64_bytes(x, &nx);
    dy = b64_bytes(y, &ny);
    r = dx && dy && ny <= nx && memcmp(dx, dy, ny) == 0;
    free(dx);
    free(dy);
    return r;
}

static bool contains(const cJSON *a, const cJSON *b)
{
    enum attr_type ta = attr_type_of(a), tb = attr_type_of(b);
    const cJSON *p;
    struct tmp_av m;

    if (!a || !b)
        return false;
    p = a->child;
    switch (ta) {
    case ATTR_S:
        return tb == ATTR_S && strstr(p->valuestring, b->child->valuestring) != NULL;
    case ATTR_B: {
        unsigned char *dx, *dy;
        size_t nx = 0, ny = 0;
        bool r;
        if (tb != ATTR_B)
            return false;
        dx = b64_bytes(p->valuestring, &nx);
        dy = b64_bytes(b->child->valuestring, &ny);
        r = dx && dy && (ny == 0 || memmem(dx, nx, dy, ny) != NULL);
        free(dx);
        free(dy);
        return r;
    }
    case ATTR_SS:
    case ATTR_NS:
    case ATTR_BS: {
        const char *mt = ta == ATTR_SS ? "S" : ta == ATTR_NS ? "N" : "B";
        for (const cJSON *e = p->child; e; e = e->next)
            if (cJSON_IsString(e) && attr_equal(tmp_av(&m, mt, e->valuestring), b))
                return true;
        return false;
    }
    case ATTR_L:
        for (const cJSON *e = p->child; e; e = e->next)
            if (attr_equal(e, b))
                return true;
        return false;
    default:
        return false;
    }
}

static bool eval(const struct expr_cond *x, const cJSON *item, bool nul_high)
{
    struct tmp_av va, vb, vc;
    const cJSON *a, *b, *c;

    switch (x->kind) {
    case COND_AND:
        return eval(x->l, item, nul_high) && eval(x->r, item, nul_high);
    case COND_OR:
        return eval(x->l, item, nul_high) || eval(x->r, item, nul_high);
    case COND_NOT:
        return !eval(x->l, item, nul_high);
    default:
        break;
    }
    a = eval_operand(x->args[0], item, &va);
    switch (x->kind) {
    case COND_CMP:
        b = eval_operand(x->args[1], item, &vb);
        return eval_cmp(x->op, a, b, nul_high);
    case COND_BETWEEN:
        b = eval_operand(x->args[1], item, &vb);
        c = eval_operand(x->args[2], item, &vc);
        return eval_cmp(TOK_GE, a, b, nul_high) && eval_cmp(TOK_LE, a, c, nul_high);
    case COND_IN:
        for (size_t i = 1; i < x->nargs; i++)
            if (eval_cmp(TOK_EQ, a, eval_operand(x->args[i], item, &vb), nul_high))
                return true;
        return false;
    case COND_EXISTS:
        return a != NULL;
    case COND_NOT_EXISTS:
        return a == NULL;
    case COND_TYPE:
        b = eval_operand(x->args[1], item, &vb);
        return a && attr_type_of(b) == ATTR_S &&
               strcmp(attr_type_name(attr_type_of(a)), b->child->valuestring) == 0;
    case COND_BEGINS:
        return begins_with(a, eval_operand(x->args[1], item, &vb));
    case COND_CONTAINS:
        return contains(a, eval_operand(x->args[1], item, &vb));
    default:
        return false;
    }
}

static const char *operand_key_used(const struct expr_operand *o, const char *hash,
                                    const char *range)
{
    const char *n;

    if (!o)
        return NULL;
    if ((o->kind == OPND_PATH || o->kind == OPND_SIZE) && o->path.n) {
        n = o->path.elems[0].name;
        if (n && (strcmp(n, hash) == 0 || (range && strcmp(n, range) == 0)))
            return n;
    }
    n = operand_key_used(o->a, hash, range);
    return n ? n : operand_key_used(o->b, hash, range);
}

const char *expr_cond_key_used(const struct expr_cond *x, const char *hash, const char *range)
{
    const char *n;

    if (!x)
        return NULL;
    for (size_t i = 0; i < x->nargs; i++) {
        n = operand_key_used(x->args[i], hash, range);
        if (n)
            return n;
    }
    n = expr_cond_key_used(x->l, hash, range);
    return n ? n : expr_cond_key_used(x->r, hash, range);
}

enum err_code expr_eval_condition(const struct expr_cond *x, const cJSON *item, bool *result,
                                  struct err *e)
{
    if (!x)
        return err_set(e, ERR_INTERNAL, "no condition to evaluate");
    *result = eval(x, item, false);
    return ERR_OK;
}

enum err_code expr_eval_key_condition(const struct expr_cond *x, const cJSON *item, bool nul_high,
                                      bool *result, struct err *e)
{
    if (!x)
        return err_set(e, ERR_INTERNAL, "no condition to evaluate");
    *result = eval(x, item, nul_high);
    return ERR_OK;
}

/* ---- projections ---- */

static bool elem_eq(const struct expr_path_elem *a, const struct expr_path_elem *b)
{
    if (a->name && b->name)
        return strcmp(a->name, b->name) == 0;
    return !a->name && !b->name && a->index == b->index;
}

size_t expr_path_prefix(const struct expr_path *p, const struct expr_path *q)
{
    size_t n = p->n < q->n ? p->n : q->n, k = 0;

    while (k < n && elem_eq(&p->elems[k], &q->elems[k]))
        k++;
    return k;
}

/* check_pair - DynamoDB rejects a projection where one path is a prefix of
 * another (overlap) or where they use one level as both map and list (conflict). */
static enum err_code check_pair(struct arena *a, const struct expr_path *p,
                                const struct expr_path *q, struct err *e)
{
    size_t n = p->n < q->n ? p->n : q->n, k = expr_path_prefix(p, q);

    if (k == n)
        return err_set(e, ERR_INVALID,
                       "Invalid ProjectionExpression: Two document paths overlap with each other; "
                       "must remove or rewrite one of these paths; path one: %s, path two: %s",
                       expr_path_format(a, p), expr_path_format(a, q));
    if (!p->elems[k].name != !q->elems[k].name)
        return err_set(e, ERR_INVALID,
                       "Invalid ProjectionExpression: Two document paths conflict with each other; "
                       "must remove or rewrite one of these paths; path one: %s, path two: %s",
                       expr_path_format(a, p), expr_path_format(a, q));
    return ERR_OK;
}

void expr_proj_insert(struct arena *a, struct expr_pnode *root, const struct expr_path *p)
{
    struct expr_pnode *node = root;

    for (size_t i = 0; i < p->n; i++) {
        const struct expr_path_elem *el = &p->elems[i];
        struct expr_pnode **link = &node->kids, *k = NULL;

        for (; *link; link = &(*link)->next) {
            struct expr_pnode *cur = *link;
            if (el->name ? cur->name && strcmp(cur->name, el->name) == 0
                         : !cur->name && cur->index == el->index) {
                k = cur;
                break;
            }
            /* Index children stay sorted: a projected list keeps element order. */
            if (!el->name && !cur->name && cur->index > el->index)
                break;
        }
        if (!k) {
            k = arena_calloc(a, sizeof(*k));
            k->name = el->name;
            k->index = el->index;
            k->next = *link;
            *link = k;
        }
        node = k;
    }
    node->leaf = true;
}

enum err_code expr_parse_projection(struct expr_ctx *c, const char *text, struct expr_proj **out,
                                    struct err *e)
{
    struct expr_parser ps;
    struct expr_path *paths;
    struct expr_proj *p;
    size_t n = 0;
    enum err_code rc;

    *out = NULL;
    rc = expr_parser_init(&ps, c, text, "ProjectionExpression", e);
    if (rc)
        return rc;
    paths = arena_alloc(c->arena, ps.ntoks * sizeof(*paths));
    do {
        rc = expr_parse_path(&ps, &paths[n]);
        if (rc)
            return rc;
        n++;
    } while (expr_accept(&ps, TOK_COMMA));
    if (!expr_accept(&ps, TOK_EOF))
        return expr_syntax_error(&ps);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            rc = check_pair(c->arena, &paths[i], &paths[j], e);
            if (rc)
                return rc;
        }
    p = arena_calloc(c->arena, sizeof(*p));
    for (size_t i = 0; i < n; i++)
        expr_proj_insert(c->arena, &p->root, &paths[i]);
    *out = p;
    return ERR_OK;
}

/* project_node - the parts of @av under @node (owned), NULL when none exist. */
static cJSON *project_node(const struct expr_pnode *node, const cJSON *av)
{
    enum attr_type t = attr_type_of(av);
    cJSON *out, *inner;

    if (node->leaf)
        return cJSON_Duplicate(av, true);
    if (!node->kids || t != (node->kids->name ? ATTR_M : ATTR_L))
        return NULL;
    out = cJSON_CreateObject();
    inner = node->kids->name ? cJSON_AddObjectToObject(out, "M") : cJSON_AddArrayToObject(out, "L");
    for (const struct expr_pnode *k = node->kids; k; k = k->next) {
        const cJSON *sub = k->name ? cJSON_GetObjectItemCaseSensitive(av->child, k->name)
                           : k->index < INT32_MAX ? cJSON_GetArrayItem(av->child, (int)k->index)
                                                  : NULL;
        cJSON *v = sub ? project_node(k, sub) : NULL;
        if (!v)
            continue;
        if (k->name)
            cJSON_AddItemToObject(inner, k->name, v);
        else
            cJSON_AddItemToArray(inner, v);
    }
    if (!inner->child) {
        cJSON_Delete(out);
        return NULL;
    }
    return out;
}

cJSON *expr_project(const struct expr_proj *p, const cJSON *item)
{
    cJSON *out = cJSON_CreateObject();

    if (!p || !cJSON_IsObject(item))
        return out;
    for (const struct expr_pnode *k = p->root.kids; k; k = k->next) {
        const cJSON *src = cJSON_GetObjectItemCaseSensitive(item, k->name);
        cJSON *v = src ? project_node(k, src) : NULL;
        if (v)
            cJSON_AddItemToObject(out, k->name, v);
    }
    return out;
}
