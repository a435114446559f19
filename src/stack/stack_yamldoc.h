/* stack_yamldoc.h - YAML documents as a tree that remembers where every node came from.
 *
 * The stack engine reports errors as file:line:column, so each node keeps the
 * 1-based line and column of its first character. Anchors and aliases are
 * refused (Pulumi YAML programs do not use them); one document per file. */
#ifndef TANDEM_STACK_YAML_H
#define TANDEM_STACK_YAML_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

enum stack_node_kind { STACK_NODE_SCALAR, STACK_NODE_MAP, STACK_NODE_SEQ };

struct stack_node {
    enum stack_node_kind kind;
    int line, col;             /* 1-based position of the node's first character */
    char *str;                 /* SCALAR: the text (owned by the tree) */
    bool plain;                /* SCALAR: unquoted, so true/false/numbers/null are typed */
    size_t n;                  /* MAP: pairs; SEQ: items */
    struct stack_node **keys;  /* MAP: scalar key nodes */
    struct stack_node **items; /* MAP: values; SEQ: items */
};

/*
 * stack_yaml_parse - parse @len bytes of @text into a tree.
 * @file  used only in error messages ("file:line:col: ...").
 * @out   owned, stack_node_free(). An empty document gives an empty MAP.
 * Returns ERR_OK or ERR_INVALID with "file:line:col: what" in @e.
 */
enum err_code stack_yaml_parse(const char *text, size_t len, const char *file,
                               struct stack_node **out, struct err *e);

void stack_node_free(struct stack_node *n); /* NULL ok */

/* stack_node_get - the value under @key in MAP @n, or NULL (borrowed). */
const struct stack_node *stack_node_get(const struct stack_node *n, const char *key);

/* stack_node_kind_name - "a string", "a map", "a list", for messages. */
const char *stack_node_kind_name(enum stack_node_kind k);

#endif
