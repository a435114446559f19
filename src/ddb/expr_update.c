/* expr_update.c - UpdateExpression: parse (SET, REMOVE, ADD, DELETE) and
 * apply to an item (see expr.h). The lexer, paths and operands are shared
 * with the condition parser (expr_int.h). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "attr.h"
#include "buf.h"
#include "expr.h"
#include "expr_int.h"
#include "num.h"

enum upd_kind { UPD_SET, UPD_REMOVE, UPD_ADD, UPD_DELETE };

struct upd_action {
    enum upd_kind kind;
    struct expr_path path;
    struct expr_operand *val; /* SET: the value; ADD/DELETE: the :value; REMOVE: NULL */
};

struct expr_update {
    struct upd_action *acts; /* arena */
    size_t n;
    struct expr_proj proj; /* the updated paths, for UPDATED_OLD / UPDATED_NEW */
    bool legacy;           /* read from AttributeUpdates: its type-mismatch wording */
};

static const char *const kind_names[] = {"SET", "REMOVE", "ADD", "DELETE"};

/* ---- parsing ---- */

static bool is_fn(const struct expr_parser *ps, const char *name)
{
    const struct expr_token *t = expr_peek(ps, 0);

    return t->kind == TOK_NAME && expr_peek(ps, 1)->kind == TOK_LPAREN && t->len == strlen(name) &&
           memcmp(t->p, name, t->len) == 0;
}

static const char *long_type_name(const cJSON *av)
{
    switch (attr_type_of(av)) {
    case ATTR_S:
        return "STRING";
    case ATTR_N:
        return "NUMBER";
    case ATTR_B:
        return "BINARY";
    case ATTR_SS:
        return "STRING_SET";
    case ATTR_NS:
        return "NUMBER_SET";
    case ATTR_BS:
        return "BINARY_SET";
    case ATTR_M:
        return "MAP";
    case ATTR_L:
        return "LIST";
    case ATTR_NULL:
        return "NULL";
    case ATTR_BOOL:
        return "BOOLEAN";
    default:
        return "UNKNOWN";
    }
}

static enum err_code parse_set_operand(struct expr_parser *ps, struct expr_operand **out);

/* parse_fn - if_not_exists(path, value) or list_append(a, b). */
static enum err_code parse_fn(struct expr_parser *ps, struct expr_operand **out)
{
    const struct expr_token *t = expr_peek(ps, 0);
    struct expr_operand *o = arena_calloc(ps->ctx->arena, sizeof(*o));
    struct expr_operand *args[3];
    const char *name;
    size_t n = 0;
    enum err_code rc;

    if (is_fn(ps, "if_not_exists")) {
        o->kind = OPND_IF_NOT_EXISTS;
        name = "if_not_exists";
    } else if (is_fn(ps, "list_append")) {
        o->kind = OPND_LIST_APPEND;
        name = "list_append";
    } else if (is_fn(ps, "size") || is_fn(ps, "attribute_exists") ||
               is_fn(ps, "attribute_not_exists") || is_fn(ps, "attribute_type") ||
               is_fn(ps, "begins_with") || is_fn(ps, "contains")) {
        return expr_fail(ps, "The function is not allowed in an update expression; function: %.*s",
                         (int)t->len, t->p);
    } else {
        return expr_fail(ps, "Invalid function name; function: %.*s", (int)t->len, t->p);
    }
    ps->pos += 2; /* name ( */
    do {
        if (n == 3)
            return expr_fail(ps,
                             "Incorrect number of operands for operator or function; operator or "
                             "function: %s, number of operands: %zu",
                             name, n + 1);
        rc = parse_set_operand(ps, &args[n]);
        if (rc)
            return rc;
        n++;
    } while (expr_accept(ps, TOK_COMMA));
    if (!expr_accept(ps, TOK_RPAREN))
        return expr_syntax_error(ps);
    if (n != 2)
        return expr_fail(ps,
                         "Incorrect number of operands for operator or function; operator or "
                         "function: %s, number of operands: %zu",
                         name, n);
    if (o->kind == OPND_IF_NOT_EXISTS && args[0]->kind != OPND_PATH)
        return expr_fail(
            ps, "Operator or function requires a document path; operator or function: %s", name);
    for (size_t i = 0; o->kind == OPND_LIST_APPEND && i < 2; i++) {
        if (args[i]->kind == OPND_LIST_APPEND) /* DynamoDB refuses list_append in list_append */
            return expr_fail(ps, "The function is not allowed to be used this way in an "
                                 "expression; function: list_append");
        if (args[i]->kind == OPND_VALUE && attr_type_of(args[i]->value) != ATTR_L)
            return expr_fail(ps,
                             "Incorrect operand type for operator or function; operator or "
                             "function: list_append, operand type: %s",
                             attr_type_name(attr_type_of(args[i]->value)));
    }
    o->a = args[0];
    o->b = args[1];
    *out = o;
    return ERR_OK;
}

/* parse_set_operand - a path, a :value, or a function call. */
static enum err_code parse_set_operand(struct expr_parser *ps, struct expr_operand **out)
{
    if (++ps->depth > EXPR_MAX_NESTING)
        return expr_fail(ps, "The expression has redundant parentheses;");
    if (expr_peek(ps, 0)->kind == TOK_NAME && expr_peek(ps, 1)->kind == TOK_LPAREN) {
        enum err_code rc = parse_fn(ps, out);

        ps->depth--;
        return rc;
    }
    ps->depth--;
    return expr_parse_operand(ps, out);
}

/* parse_set_value - operand [ (+|-) operand ] */
static enum err_code parse_set_value(struct expr_parser *ps, struct expr_operand **out)
{
    struct expr_operand *a, *b, *o;
    enum expr_tok op;
    enum err_code rc = parse_set_operand(ps, &a);

    if (rc)
        return rc;
    op = expr_peek(ps, 0)->kind;
    if (op != TOK_PLUS && op != TOK_MINUS) {
        *out = a;
        return ERR_OK;
    }
    ps->pos++;
    rc = parse_set_operand(ps, &b);
    if (rc)
        return rc;
    for (int i = 0; i < 2; i++) {
        const struct expr_operand *x = i ? b : a;

        if (x->kind == OPND_VALUE && attr_type_of(x->value) != ATTR_N)
            return expr_fail(ps,
                             "Incorrect operand type for operator or function; operator or "
                             "function: %s, operand type: %s",
                             op == TOK_PLUS ? "+" : "-", attr_type_name(attr_type_of(x->value)));
    }
    o = arena_calloc(ps->ctx->arena, sizeof(*o));
    o->kind = op == TOK_PLUS ? OPND_PLUS : OPND_MINUS;
    o->a = a;
    o->b = b;
    *out = o;
    return ERR_OK;
}

static int clause_kind(const struct expr_token *t)
{
    for (int i = 0; i < 4; i++)
        if (t->kind == TOK_NAME && t->len == strlen(kind_names[i]) &&
            strncasecmp(t->p, kind_names[i], t->len) == 0)
            return i;
    return -1;
}

/* check_paths - overlaps among all pairs first, then conflicts, as DynamoDB reports them. */
static enum err_code check_paths(struct expr_parser *ps, const struct expr_update *u)
{
    struct arena *a = ps->ctx->arena;

    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < u->n; i++)
            for (size_t j = i + 1; j < u->n; j++) {
                const struct expr_path *p = &u->acts[i].path, *q = &u->acts[j].path;
                size_t n = p->n < q->n ? p->n : q->n, k = expr_path_prefix(p, q);

                if (pass == 0 && k == n)
                    return expr_fail(ps,
                                     "Two document paths overlap with each other; must remove or "
                                     "rewrite one of these paths; path one: %s, path two: %s",
                                     expr_path_format(a, p), expr_path_format(a, q));
                if (pass == 1 && k < n && !p->elems[k].name != !q->elems[k].name)
                    return expr_fail(ps,
                                     "Two document paths conflict with each other; must remove or "
                                     "rewrite one of these paths; path one: %s, path two: %s",
                                     expr_path_format(a, p), expr_path_format(a, q));
            }
    return ERR_OK;
}

enum err_code expr_parse_update(struct expr_ctx *c, const char *text, struct expr_update **out,
                                struct err *e)
{
    struct expr_parser ps;
    struct expr_update *u;
    bool seen[4] = {false, false, false, false};
    enum err_code rc;

    *out = NULL;
    rc = expr_parser_init(&ps, c, text, "UpdateExpression", e);
    if (rc)
        return rc;
    u = arena_calloc(c->arena, sizeof(*u));
    u->acts = arena_calloc(c->arena, ps.ntoks * sizeof(*u->acts));
    while (!expr_accept(&ps, TOK_EOF)) {
        int kind = clause_kind(expr_peek(&ps, 0));

        if (kind < 0)
            return expr_syntax_error(&ps);
        ps.pos++;
        if (seen[kind])
            return expr_fail(&ps,
                             "The \"%s\" section can only be used once in an update expression;",
                             kind_names[kind]);
        seen[kind] = true;
        do {
            struct upd_action *x = &u->acts[u->n];

            x->kind = (enum upd_kind)kind;
            rc = expr_parse_path(&ps, &x->path);
            if (rc)
                return rc;
            if (kind == UPD_SET) {
                if (!expr_accept(&ps, TOK_EQ))
                    return expr_syntax_error(&ps);
                rc = parse_set_value(&ps, &x->val);
                if (rc)
                    return rc;
            } else if (kind == UPD_ADD || kind == UPD_DELETE) {
                enum attr_type t;

                if (expr_peek(&ps, 0)->kind != TOK_VALUE)
                    return expr_syntax_error(&ps);
                rc = expr_parse_operand(&ps, &x->val);
                if (rc)
                    return rc;
                t = attr_type_of(x->val->value);
                if (!(t == ATTR_SS || t == ATTR_NS || t == ATTR_BS ||
                      (kind == UPD_ADD && t == ATTR_N)))
                    return expr_fail(&ps,
                                     "Incorrect operand type for operator or function; operator: "
                                     "%s, operand type: %s",
                                     kind_names[kind], long_type_name(x->val->value));
            }
            u->n++;
        } while (expr_accept(&ps, TOK_COMMA));
    }
    rc = check_paths(&ps, u);
    if (rc)
        return rc;
    for (size_t i = 0; i < u->n; i++)
        expr_proj_insert(c->arena, &u->proj.root, &u->acts[i].path);
    *out = u;
    return ERR_OK;
}

bool expr_update_only_removes(const struct expr_update *u)
{
    if (!u || !u->n)
        return false;
    for (size_t i = 0; i < u->n; i++)
        if (u->acts[i].kind != UPD_REMOVE && u->acts[i].kind != UPD_DELETE)
            return false;
    return true;
}

const char *expr_update_key_touched(const struct expr_update *u, const char *hash,
                                    const char *range)
{
    for (size_t i = 0; u && i < u->n; i++) {
        const char *n = u->acts[i].path.elems[0].name;

        if (n && (strcmp(n, hash) == 0 || (range && strcmp(n, range) == 0)))
            return n;
    }
    return NULL;
}

cJSON *expr_update_project(const struct expr_update *u, const cJSON *item)
{
    return expr_project(u ? &u->proj : NULL, item);
}

/* ---- applying ---- */

static const char *const bad_type =
    "An operand in the update expression has an incorrect data type";
static const char *const bad_path =
    "The document path provided in the update expression is invalid "
    "for update";
static const char *const legacy_mismatch = "Type mismatch for attribute to update";
static const char *const no_attr = "The provided expression refers to an attribute that does not "
                                   "exist in the item";

/* eval_value - the value of a SET operand against @old (owned result). */
static enum err_code eval_value(const struct expr_operand *o, const cJSON *old, cJSON **out,
                                struct err *e)
{
    const cJSON *av;
    cJSON *a = NULL, *b = NULL;
    enum err_code rc;

    *out = NULL;
    switch (o->kind) {
    case OPND_VALUE:
        *out = cJSON_Duplicate(o->value, true);
        return ERR_OK;
    case OPND_PATH:
        av = expr_resolve_path(&o->path, old);
        if (!av)
            return err_set(e, ERR_INVALID, "%s", no_attr);
        *out = cJSON_Duplicate(av, true);
        return ERR_OK;
    case OPND_IF_NOT_EXISTS:
        av = expr_resolve_path(&o->a->path, old);
        if (av) {
            *out = cJSON_Duplicate(av, true);
            return ERR_OK;
        }
        return eval_value(o->b, old, out, e);
    case OPND_PLUS:
    case OPND_MINUS: {
        struct num x, y, z;
        struct buf txt;

        rc = eval_value(o->a, old, &a, e);
        if (!rc)
            rc = eval_value(o->b, old, &b, e);
        if (!rc && (attr_type_of(a) != ATTR_N || attr_type_of(b) != ATTR_N))
            rc = err_set(e, ERR_INVALID, "%s", bad_type);
        if (!rc) {
            const char *sa = attr_payload(a)->valuestring, *sb = attr_payload(b)->valuestring;

            rc = num_parse(sa, strlen(sa), &x, e);
            if (!rc)
                rc = num_parse(sb, strlen(sb), &y, e);
            if (!rc)
                rc = o->kind == OPND_PLUS ? num_add(&x, &y, &z, e) : num_sub(&x, &y, &z, e);
        }
        if (!rc) {
            buf_init(&txt, 48);
            num_format(&z, &txt);
            *out = cJSON_CreateObject();
            cJSON_AddStringToObject(*out, "N", txt.ptr);
            buf_free(&txt);
        }
        break;
    }
    case OPND_LIST_APPEND:
        rc = eval_value(o->a, old, &a, e);
        if (!rc)
            rc = eval_value(o->b, old, &b, e);
        if (!rc && (attr_type_of(a) != ATTR_L || attr_type_of(b) != ATTR_L))
            rc = err_set(e, ERR_INVALID, "%s", bad_type);
        if (!rc) {
            cJSON *la = a->child, *lb = b->child;

            while (lb->child) {
                cJSON *it = cJSON_DetachItemViaPointer(lb, lb->child);
                cJSON_AddItemToArray(la, it);
            }
            *out = a;
            a = NULL;
        }
        break;
    default:
        rc = err_set(e, ERR_INTERNAL, "operand not valid in an update");
        break;
    }
    cJSON_Delete(a);
    cJSON_Delete(b);
    return rc;
}

/* parent_of - the container (an M's object or an L's array) holding the last
 * element of @p in @item, or NULL when the path is not valid for update. */
static cJSON *parent_of(const struct expr_path *p, cJSON *item)
{
    cJSON *cur = item;

    for (size_t i = 0; i + 1 < p->n; i++) {
        const struct expr_path_elem *el = &p->elems[i];
        cJSON *av;

        if (el->name)
            av = cJSON_GetObjectItemCaseSensitive(cur, el->name);
        else
            av = el->index < INT32_MAX ? cJSON_GetArrayItem(cur, (int)el->index) : NULL;
        if (!av)
            return NULL;
        /* the next element says what the value must be */
        if (p->elems[i + 1].name ? attr_type_of(av) != ATTR_M : attr_type_of(av) != ATTR_L)
            return NULL;
        cur = av->child;
    }
    return cur;
}

/* set_at - store @v (taken) at @p in @item. */
static enum err_code set_at(const struct expr_path *p, cJSON *item, cJSON *v, struct err *e)
{
    cJSON *parent = parent_of(p, item);
    const struct expr_path_elem *last = &p->elems[p->n - 1];

    if (!parent) {
        cJSON_Delete(v);
        return err_set(e, ERR_INVALID, "%s", bad_path);
    }
    if (last->name) {
        if (cJSON_GetObjectItemCaseSensitive(parent, last->name))
            cJSON_ReplaceItemInObjectCaseSensitive(parent, last->name, v);
        else
            cJSON_AddItemToObject(parent, last->name, v);
    } else if (last->index < cJSON_GetArraySize(parent)) {
        cJSON_ReplaceItemInArray(parent, (int)last->index, v);
    } else {
        cJSON_AddItemToArray(parent, v); /* past the end: appended */
    }
    return ERR_OK;
}

static enum err_code remove_at(const struct expr_path *p, cJSON *item, struct err *e)
{
    cJSON *parent = parent_of(p, item);
    const struct expr_path_elem *last = &p->elems[p->n - 1];

    if (!parent) {
        /* a missing top-level-adjacent parent is invalid, as the service says */
        return err_set(e, ERR_INVALID, "%s", bad_path);
    }
    if (last->name)
        cJSON_DeleteItemFromObjectCaseSensitive(parent, last->name);
    else if (last->index < cJSON_GetArraySize(parent))
        cJSON_DeleteItemFromArray(parent, (int)last->index);
    return ERR_OK;
}

static bool member_eq(const cJSON *x, const cJSON *m, enum attr_type t)
{
    if (t == ATTR_NS) {
        struct num a, b;
        struct err e = {0};

        return !num_parse(x->valuestring, strlen(x->valuestring), &a, &e) &&
               !num_parse(m->valuestring, strlen(m->valuestring), &b, &e) && num_cmp(&a, &b) == 0;
    }
    return strcmp(x->valuestring, m->valuestring) == 0;
}

static bool set_has(const cJSON *arr, const cJSON *m, enum attr_type t)
{
    for (const cJSON *x = arr->child; x; x = x->next)
        if (member_eq(x, m, t))
            return true;
    return false;
}

/* add_del_at - an ADD or DELETE action on @item; @mismatch: the message for a
 * value whose type is not the attribute's. */
static enum err_code add_del_at(const struct upd_action *x, cJSON *item, const char *mismatch,
                                struct err *e)
{
    cJSON *parent = parent_of(&x->path, item);
    const struct expr_path_elem *last = &x->path.elems[x->path.n - 1];
    const cJSON *val = x->val->value;
    enum attr_type vt = attr_type_of(val);
    cJSON *cur;

    if (!parent)
        return err_set(e, ERR_INVALID, "%s", bad_path);
    if (!last->name) /* ADD and DELETE work on attributes or map members, not list elements */
        return err_set(e, ERR_INVALID, "%s", bad_path);
    cur = cJSON_GetObjectItemCaseSensitive(parent, last->name);
    if (!cur) {
        if (x->kind == UPD_ADD)
            cJSON_AddItemToObject(parent, last->name, cJSON_Duplicate(val, true));
        return ERR_OK;
    }
    if (attr_type_of(cur) != vt)
        return err_set(e, ERR_INVALID, "%s", mismatch);
    if (vt == ATTR_N) {
        struct num a, b, z;
        struct buf txt;
        const char *sa = attr_payload(cur)->valuestring, *sb = attr_payload(val)->valuestring;
        enum err_code rc = num_parse(sa, strlen(sa), &a, e);

        if (!rc)
            rc = num_parse(sb, strlen(sb), &b, e);
        if (!rc)
            rc = num_add(&a, &b, &z, e);
        if (rc)
            return rc;
        buf_init(&txt, 48);
        num_format(&z, &txt);
        cJSON_SetValuestring(cur->child, txt.ptr);
        buf_free(&txt);
        return ERR_OK;
    }
    if (x->kind == UPD_ADD) {
        for (const cJSON *m = val->child->child; m; m = m->next)
            if (!set_has(cur->child, m, vt))
                cJSON_AddItemToArray(cur->child, cJSON_CreateString(m->valuestring));
        return ERR_OK;
    }
    for (const cJSON *m = val->child->child; m; m = m->next) {
        cJSON *s = cur->child->child;

        while (s) {
            cJSON *next = s->next;

            if (member_eq(s, m, vt))
                cJSON_Delete(cJSON_DetachItemViaPointer(cur->child, s));
            s = next;
        }
    }
    if (!cur->child->child)
        cJSON_DeleteItemFromObjectCaseSensitive(parent, last->name);
    return ERR_OK;
}

static int cmp_remove(const void *a, const void *b)
{
    const struct upd_action *x = *(const struct upd_action *const *)a;
    const struct upd_action *y = *(const struct upd_action *const *)b;
    long ix = x->path.elems[x->path.n - 1].name ? -1 : x->path.elems[x->path.n - 1].index;
    long iy = y->path.elems[y->path.n - 1].name ? -1 : y->path.elems[y->path.n - 1].index;

    return ix < iy ? 1 : ix > iy ? -1 : 0;
}

/* cmp_set - SETs to list elements in ascending index order, so several elements
 * set past a list's end are appended sorted by their numbers. */
static int cmp_set(const void *a, const void *b)
{
    const struct upd_action *x = *(const struct upd_action *const *)a;
    const struct upd_action *y = *(const struct upd_action *const *)b;
    long ix = x->path.elems[x->path.n - 1].name ? -1 : x->path.elems[x->path.n - 1].index;
    long iy = y->path.elems[y->path.n - 1].name ? -1 : y->path.elems[y->path.n - 1].index;

    if (ix != iy)
        return ix < iy ? -1 : 1;
    return x < y ? -1 : x > y ? 1 : 0;
}

void expr_update_set_legacy(struct expr_update *u)
{
    if (u)
        u->legacy = true;
}

enum err_code expr_apply_update(const struct expr_update *u, cJSON *item, struct err *e)
{
    cJSON **vals;
    const struct upd_action **rm, **set;
    cJSON *old;
    size_t nrm = 0, nset = 0;
    enum err_code rc = ERR_OK;

    if (!u || !u->n)
        return ERR_OK;
    /* Every operand reads the item as it was before the update. */
    old = cJSON_Duplicate(item, true);
    vals = calloc(u->n, sizeof(*vals));
    rm = calloc(u->n, sizeof(*rm));
    set = calloc(u->n, sizeof(*set));
    for (size_t i = 0; !rc && i < u->n; i++) {
        if (u->acts[i].kind != UPD_SET)
            continue;
        rc = eval_value(u->acts[i].val, old, &vals[i], e);
        /* AttributeUpdates' only failing SET: ADD of a list onto another type */
        if (rc == ERR_INVALID && u->legacy)
            rc = err_set(e, ERR_INVALID, "%s", legacy_mismatch);
    }
    for (size_t i = 0; !rc && i < u->n; i++) {
        const struct upd_action *x = &u->acts[i];

        switch (x->kind) {
        case UPD_SET:
            set[nset++] = x;
            break;
        case UPD_REMOVE:
            rm[nrm++] = x;
            break;
        default:
            rc = add_del_at(x, item, u->legacy ? legacy_mismatch : bad_type, e);
            break;
        }
    }
    qsort(set, nset, sizeof(*set), cmp_set);
    for (size_t i = 0; !rc && i < nset; i++) {
        size_t k = (size_t)(set[i] - u->acts);

        rc = set_at(&set[i]->path, item, vals[k], e);
        vals[k] = NULL;
    }
    /* Removals last, higher list indexes first, so indexes mean what they did. */
    qsort(rm, nrm, sizeof(*rm), cmp_remove);
    for (size_t i = 0; !rc && i < nrm; i++)
        rc = remove_at(&rm[i]->path, item, e);
    for (size_t i = 0; i < u->n; i++)
        cJSON_Delete(vals[i]);
    free(vals);
    free(rm);
    free(set);
    cJSON_Delete(old);
    return rc;
}
