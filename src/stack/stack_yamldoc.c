/* stack_yamldoc.c - libyaml events folded into a tree of stack_node with positions. */
#include "stack_yamldoc.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "mem.h"

enum { MAX_DEPTH = 64 };

static struct stack_node *node_new(enum stack_node_kind k, const yaml_event_t *ev)
{
    struct stack_node *n = xcalloc(1, sizeof(*n));
    n->kind = k;
    n->line = (int)ev->start_mark.line + 1;
    n->col = (int)ev->start_mark.column + 1;
    return n;
}

static void node_push(struct stack_node *parent, struct stack_node *key, struct stack_node *val)
{
    parent->items = xrealloc(parent->items, (parent->n + 1) * sizeof(*parent->items));
    if (parent->kind == STACK_NODE_MAP)
        parent->keys = xrealloc(parent->keys, (parent->n + 1) * sizeof(*parent->keys));
    if (parent->kind == STACK_NODE_MAP)
        parent->keys[parent->n] = key;
    parent->items[parent->n++] = val;
}

void stack_node_free(struct stack_node *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n; i++) {
        if (n->keys)
            stack_node_free(n->keys[i]);
        stack_node_free(n->items[i]);
    }
    free(n->keys);
    free(n->items);
    free(n->str);
    free(n);
}

const struct stack_node *stack_node_get(const struct stack_node *n, const char *key)
{
    if (!n || n->kind != STACK_NODE_MAP)
        return NULL;
    for (size_t i = 0; i < n->n; i++)
        if (strcmp(n->keys[i]->str, key) == 0)
            return n->items[i];
    return NULL;
}

const char *stack_node_kind_name(enum stack_node_kind k)
{
    switch (k) {
    case STACK_NODE_SCALAR:
        return "a value";
    case STACK_NODE_MAP:
        return "a map";
    case STACK_NODE_SEQ:
        return "a list";
    }
    return "?";
}

/* A frame of the parse: a container, and for maps the key waiting for its value. */
struct frame {
    struct stack_node *node;
    struct stack_node *key;
};

enum err_code stack_yaml_parse(const char *text, size_t len, const char *file,
                               struct stack_node **out, struct err *e)
{
    yaml_parser_t p;
    yaml_event_t ev;
    struct frame st[MAX_DEPTH];
    int depth = 0;
    struct stack_node *root = NULL;
    enum err_code rc = ERR_OK;
    bool done = false;

    *out = NULL;
    if (!yaml_parser_initialize(&p))
        return err_set(e, ERR_INTERNAL, "yaml: out of memory");
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    while (!done) {
        struct stack_node *n = NULL;
        if (!yaml_parser_parse(&p, &ev)) {
            rc = err_set(e, ERR_INVALID, "%s:%zu:%zu: %s%s%s", file, p.problem_mark.line + 1,
                         p.problem_mark.column + 1, p.problem ? p.problem : "syntax error",
                         p.context ? " " : "", p.context ? p.context : "");
            goto out;
        }
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (root) {
                rc = err_set(e, ERR_INVALID, "%s:%zu:%zu: only one YAML document is allowed", file,
                             ev.start_mark.line + 1, ev.start_mark.column + 1);
                goto out_ev;
            }
            break;
        case YAML_ALIAS_EVENT:
            rc = err_set(e, ERR_INVALID, "%s:%zu:%zu: YAML aliases are not supported", file,
                         ev.start_mark.line + 1, ev.start_mark.column + 1);
            goto out_ev;
        case YAML_SCALAR_EVENT:
            n = node_new(STACK_NODE_SCALAR, &ev);
            n->str = xstrndup((const char *)ev.data.scalar.value, ev.data.scalar.length);
            n->plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
            break;
        case YAML_MAPPING_START_EVENT:
        case YAML_SEQUENCE_START_EVENT:
            if (depth == MAX_DEPTH) {
                rc = err_set(e, ERR_INVALID, "%s:%zu:%zu: nested too deeply", file,
                             ev.start_mark.line + 1, ev.start_mark.column + 1);
                goto out_ev;
            }
            n = node_new(ev.type == YAML_MAPPING_START_EVENT ? STACK_NODE_MAP : STACK_NODE_SEQ,
                         &ev);
            break;
        case YAML_MAPPING_END_EVENT:
        case YAML_SEQUENCE_END_EVENT:
            n = st[--depth].node;
            break;
        default:
            break;
        }
        if (n) {
            bool opening =
                (ev.type == YAML_MAPPING_START_EVENT || ev.type == YAML_SEQUENCE_START_EVENT);
            bool closing =
                (ev.type == YAML_MAPPING_END_EVENT || ev.type == YAML_SEQUENCE_END_EVENT);
            if (opening) {
                st[depth].node = n;
                st[depth].key = NULL;
                depth++;
            } else if (depth == 0) {
                root = n;
            } else {
                struct frame *f = &st[depth - 1];
                if (f->node->kind == STACK_NODE_SEQ) {
                    node_push(f->node, NULL, n);
                } else if (!f->key) {
                    if (n->kind != STACK_NODE_SCALAR) {
                        rc = err_set(e, ERR_INVALID, "%s:%d:%d: map keys must be plain strings",
                                     file, n->line, n->col);
                        stack_node_free(n);
                        if (closing)
                            goto out_ev;
                        goto out_ev;
                    }
                    if (stack_node_get(f->node, n->str)) {
                        rc = err_set(e, ERR_INVALID, "%s:%d:%d: duplicate key '%s'", file, n->line,
                                     n->col, n->str);
                        stack_node_free(n);
                        goto out_ev;
                    }
                    f->key = n;
                } else {
                    node_push(f->node, f->key, n);
                    f->key = NULL;
                }
            }
        }
        yaml_event_delete(&ev);
    }
    if (!root) {
        yaml_event_t fake = {0};
        root = node_new(STACK_NODE_MAP, &fake);
    }
    *out = root;
    root = NULL;
    goto out;
out_ev:
    yaml_event_delete(&ev);
out:
    /* On error, free the partial tree: every open container and pending key. */
    if (rc) {
        for (int i = depth - 1; i >= 0; i--) {
            stack_node_free(st[i].key);
            if (i > 0) {
                /* child not yet attached to its parent */
            }
            stack_node_free(st[i].node);
        }
    }
    stack_node_free(root);
    yaml_parser_delete(&p);
    return rc;
}
