/* partiql.h - DynamoDB's PartiQL statements, parsed into the expressions of
 * the item API.
 *
 * A statement becomes what the equivalent GetItem/Query/Scan/PutItem/
 * UpdateItem/DeleteItem request would carry: attribute names become
 * placeholders #p0, #p1... (pql_stmt.names, ExpressionAttributeNames) and
 * values, literals or ? parameters alike, placeholders :p0, :p1...
 * (pql_stmt.values, ExpressionAttributeValues), so the expression code of
 * expr.h evaluates them. The WHERE clause stays a tree of its top-level AND
 * terms, so that the executor (partiql_exec.c) can take the key equalities
 * out of it. Pure: no I/O, no globals; everything lives in the arena. */
#ifndef TANDEM_PARTIQL_H
#define TANDEM_PARTIQL_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "arena.h"

/* PQL_IN_MAX: the values of an IN list (on an attribute that is no key);
 * PQL_IN_KEY_MAX: on a partition key; PQL_IN_PAGE: the partitions of a
 * partition key IN that one page reads ("PartiQL ... operators": "at max
 * 50 hash attribute values or at max 100 non-key attribute values. Results
 * are returned in pages of up to 10 items.") */
enum { PQL_STATEMENT_MAX = 8192, PQL_IN_MAX = 100, PQL_IN_KEY_MAX = 50, PQL_IN_PAGE = 10 };

enum pql_kind { PQL_SELECT, PQL_INSERT, PQL_UPDATE, PQL_DELETE, PQL_EXISTS };

enum pql_op { PQL_EQ, PQL_NE, PQL_LT, PQL_LE, PQL_GT, PQL_GE };

enum pql_cond_kind {
    PQL_C_AND,     /* l AND r */
    PQL_C_CMP,     /* attr/value op attr/value */
    PQL_C_BETWEEN, /* attr BETWEEN v1 AND v2 */
    PQL_C_BEGINS,  /* begins_with(attr, v1) */
    PQL_C_IN,      /* attr IN [v, ...] */
    PQL_C_OTHER,   /* anything else: OR, NOT, functions, ... */
};

/* One term of a WHERE clause. @text is the term as a condition expression.
 * For CMP, BETWEEN, BEGINS and IN the operand that is a top-level attribute
 * (no path after it) is @attr, the value operands @v1/@v2 (NULL when the
 * other side is not a value); CMP keeps @op as if @attr were on the left. */
struct pql_cond {
    enum pql_cond_kind kind;
    const char *text;
    const char *attr;
    enum pql_op op;
    const cJSON *v1, *v2;
    size_t nin;         /* IN: how many operands */
    const cJSON **vals; /* IN: the values when every operand is one (at most PQL_IN_MAX) */
    int prec;           /* how @text binds: 0 alone, 1 an AND, 2 an OR (needs parentheses
                         * under AND or NOT; DynamoDB refuses redundant ones) */
    struct pql_cond *l, *r;
};

struct pql_stmt {
    enum pql_kind kind;
    const char *table;
    const char *index;      /* "Table"."Index", NULL: the table */
    cJSON *names;           /* {"#p0": "attr", ...}, arena-owned */
    cJSON *values;          /* {":p0": AttributeValue, ...}, arena-owned */
    struct pql_cond *where; /* NULL: no WHERE */
    /* SELECT */
    const char *proj;       /* ProjectionExpression; NULL: SELECT * */
    const char *order_attr; /* ORDER BY attribute, NULL: none */
    bool order_desc;
    /* INSERT: the item (an AttributeValue map's members) */
    cJSON *item;
    /* UPDATE: the UpdateExpression */
    const char *update;
    /* UPDATE, DELETE: RETURNING as ReturnValues (ALL_OLD, ...), NULL: NONE */
    const char *returning;
};

/*
 * pql_parse - the statement @text (@len bytes) with @params (the request's
 * Parameters: an array of AttributeValues, or NULL) in place of its ?s.
 * NULL with DynamoDB's ValidationException message in @msg when the text is
 * not a statement PartiQL for DynamoDB runs, or the parameters do not match.
 * @exists: the statement may be EXISTS(SELECT ...) (ExecuteTransaction).
 */
struct pql_stmt *pql_parse(struct arena *a, const char *text, size_t len, const cJSON *params,
                           bool exists, char *msg, size_t n);

/* pql_terms - the top-level AND terms of @where into @out (at most @max);
 * returns how many there are (may exceed @max: the rest are left out). */
size_t pql_terms(struct pql_cond *where, struct pql_cond **out, size_t max);

/* pql_uses - whether expression @text names placeholder @ph (#p3, :p0), a
 * whole placeholder and not a longer one's start. */
bool pql_uses(const char *text, const char *ph);

/* pql_name_ph - the placeholder of attribute @name in @s, NULL when the
 * statement does not name it. */
const char *pql_name_ph(const struct pql_stmt *s, const char *name);

#endif
