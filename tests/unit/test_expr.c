/* test_expr.c - DynamoDB condition and projection expressions, through expr.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arena.h"
#include "attr.h"
#include "expr.h"

static const char *const ITEM =
    "{\"id\":{\"S\":\"abc123\"},\"name\":{\"S\":\"Widget\"},\"n\":{\"N\":\"42\"},"
    "\"price\":{\"N\":\"19.5\"},\"neg\":{\"N\":\"-3\"},\"bin\":{\"B\":\"AQIDBA==\"},"
    "\"tags\":{\"SS\":[\"red\",\"blue\"]},\"nums\":{\"NS\":[\"1\",\"2.5\",\"10\"]},"
    "\"bins\":{\"BS\":[\"AQI=\",\"AwQ=\"]},\"flag\":{\"BOOL\":true},\"nothing\":{\"NULL\":true},"
    "\"things\":{\"L\":[{\"S\":\"x\"},{\"N\":\"7\"},{\"M\":{\"deep\":{\"S\":\"yes\"}}},"
    "{\"L\":[{\"N\":\"1\"}]}]},"
    "\"doc\":{\"M\":{\"child\":{\"M\":{\"leaf\":{\"N\":\"5\"}}},\"s\":{\"S\":\"hello\"},"
    "\"arr\":{\"L\":[{\"S\":\"a\"},{\"S\":\"b\"}]}}},"
    "\"status\":{\"S\":\"active\"},\"blank\":{\"S\":\"\"},\"utf\":{\"S\":\"h\xc3\xa9llo\"},"
    "\"a.b\":{\"S\":\"dotted\"}}";

static const char *const NAMES = "{\"#st\":\"status\",\"#n\":\"name\",\"#m\":\"doc\","
                                 "\"#dot\":\"a.b\",\"#i\":\"child\",\"#miss\":\"absent\"}";

static const char *const VALUES =
    "{\":s\":{\"S\":\"abc123\"},\":w\":{\"S\":\"Widget\"},\":n42\":{\"N\":\"42\"},"
    "\":n42b\":{\"N\":\"42.0\"},\":n10\":{\"N\":\"10\"},\":n100\":{\"N\":\"100\"},"
    "\":n5\":{\"N\":\"5\"},\":neg\":{\"N\":\"-3\"},\":p\":{\"S\":\"Wid\"},\":red\":{\"S\":\"red\"},"
    "\":green\":{\"S\":\"green\"},\":one\":{\"N\":\"1\"},\":b12\":{\"B\":\"AQI=\"},"
    "\":b34\":{\"B\":\"AwQ=\"},\":b23\":{\"B\":\"AgM=\"},\":t\":{\"BOOL\":true},"
    "\":f\":{\"BOOL\":false},\":null\":{\"NULL\":true},\":tS\":{\"S\":\"S\"},\":tN\":{\"S\":\"N\"},"
    "\":tSS\":{\"S\":\"SS\"},\":tNS\":{\"S\":\"NS\"},\":tBS\":{\"S\":\"BS\"},\":tB\":{\"S\":\"B\"},"
    "\":tBOOL\":{\"S\":\"BOOL\"},\":tNULL\":{\"S\":\"NULL\"},\":tL\":{\"S\":\"L\"},"
    "\":tM\":{\"S\":\"M\"},\":tX\":{\"S\":\"X\"},\":x\":{\"S\":\"x\"},\":seven\":{\"N\":\"7\"},"
    "\":act\":{\"S\":\"active\"},\":blank\":{\"S\":\"\"},\":hel\":{\"S\":\"hel\"},"
    "\":ell\":{\"S\":\"ell\"},\":ss\":{\"SS\":[\"blue\",\"red\"]},\":ss2\":{\"SS\":[\"red\"]},"
    "\":six\":{\"N\":\"6\"},\":two\":{\"N\":\"2\"},\":two5\":{\"N\":\"2.50\"},"
    "\":yes\":{\"S\":\"yes\"},\":a\":{\"S\":\"a\"},\":z\":{\"S\":\"z\"},"
    "\":deep\":{\"M\":{\"deep\":{\"S\":\"yes\"}}},\":l1\":{\"L\":[{\"N\":\"1\"}]},"
    "\":child\":{\"M\":{\"leaf\":{\"N\":\"5\"}}},\":dotted\":{\"S\":\"dotted\"},"
    "\":lst\":{\"L\":[{\"S\":\"a\"},{\"S\":\"b\"}]}}";

enum { F = 0, T = 1, ERR = -1 };

struct cond_case {
    const char *expr;
    int want;        /* T, F or ERR */
    const char *err; /* ERR: expected substring of the message */
    bool no_item;    /* evaluate against an absent item */
};

static const struct cond_case cond_cases[] = {
    /* comparisons */
    {"id = :s", T, NULL, false},
    {"id = :w", F, NULL, false},
    {"id <> :w", T, NULL, false},
    {"id <> :s", F, NULL, false},
    {"n = :n42", T, NULL, false},
    {"n = :n42b", T, NULL, false},
    {"n < :n100", T, NULL, false},
    {"n <= :n42", T, NULL, false},
    {"n > :n10", T, NULL, false},
    {"n >= :n100", F, NULL, false},
    {"neg < :one", T, NULL, false},
    {"price > :n10", T, NULL, false},
    {"price < :n10", F, NULL, false},
    {"id > :a", T, NULL, false},
    {"id < :a", F, NULL, false},
    {"id >= :s", T, NULL, false},
    {"bin > :b12", T, NULL, false},
    {"bin < :b34", T, NULL, false},
    {"flag = :t", T, NULL, false},
    {"flag = :f", F, NULL, false},
    {"flag <> :f", T, NULL, false},
    {"nothing = :null", T, NULL, false},
    {"tags = :ss", T, NULL, false},
    {"tags = :ss2", F, NULL, false},
    {"things[2] = :deep", T, NULL, false},
    {"things[3] = :l1", T, NULL, false},
    {"doc.child = :child", T, NULL, false},
    {"doc.arr = :lst", T, NULL, false},
    {":n42 = n", T, NULL, false},
    {"n = price", F, NULL, false},
    {"n > price", T, NULL, false},
    {"id=:s", T, NULL, false},
    /* type mismatch is false, not an error */
    {"n = :s", F, NULL, false},
    {"n <> :s", T, NULL, false},
    {"n < :s", F, NULL, false},
    {"id > :n10", F, NULL, false},
    {"bin > :s", F, NULL, false},
    /* absent attributes */
    {"absent = :s", F, NULL, false},
    {"absent <> :s", T, NULL, false},
    {"absent < :s", F, NULL, false},
    {"absent BETWEEN :a AND :z", F, NULL, false},
    {"absent IN (:s, :w)", F, NULL, false},
    {"doc.nope.x = :s", F, NULL, false},
    {"things[9] = :x", F, NULL, false},
    {"id[0] = :s", F, NULL, false},
    {"doc[0] = :s", F, NULL, false},
    {"things.x = :s", F, NULL, false},
    {"id = :s", F, NULL, true},
    {"attribute_not_exists(id)", T, NULL, true},
    {"attribute_exists(id)", F, NULL, true},
    /* BETWEEN */
    {"n BETWEEN :n10 AND :n100", T, NULL, false},
    {"n BETWEEN :n42 AND :n42", T, NULL, false},
    {"n between :n5 and :n10", F, NULL, false},
    {"id BETWEEN :a AND :z", T, NULL, false},
    {"bin BETWEEN :b12 AND :b34", T, NULL, false},
    {"id BETWEEN :n5 AND :n10", F, NULL, false},
    {"n BETWEEN :n100 AND :n10", ERR,
     "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater than "
     "or equal to lower bound; lower operand: AttributeValue: {N:100}, upper operand: "
     "AttributeValue: {N:10}",
     false},
    {"n BETWEEN :n10 AND :s", ERR, "requires same data type for lower and upper bounds", false},
    {"n BETWEEN :t AND :f", ERR,
     "Incorrect operand type for operator or function; operator or function: BETWEEN, operand "
     "type: BOOL",
     false},
    {"n BETWEEN :n10", ERR, "Syntax error; token: \"<EOF>\", near: \":n10\"", false},
    /* IN */
    {"id IN (:w, :s)", T, NULL, false},
    {"id IN (:w)", F, NULL, false},
    {"n in (:n5, :n42b)", T, NULL, false},
    {"id IN (#n, n)", F, NULL, false},
    {"id IN ()", ERR, "Syntax error; token: \")\", near: \"()\"", false},
    {"id IN :s", ERR, "Syntax error; token: \":s\"", false},
    /* a name may not start with '_' (a #reference may) */
    {"_id = :s", ERR, "Syntax error; token: \"_\"", false},
    /* logic and precedence */
    {"id = :s AND n = :n42", T, NULL, false},
    {"id = :s AND n = :n5", F, NULL, false},
    {"id = :w OR n = :n42", T, NULL, false},
    {"id = :w OR n = :n5", F, NULL, false},
    {"NOT id = :w", T, NULL, false},
    {"not id = :s", F, NULL, false},
    {"NOT NOT id = :s", T, NULL, false},
    {"id = :w AND n = :n5 OR id = :s", T, NULL, false},
    {"id = :s OR id = :w AND n = :n5", T, NULL, false},
    {"(id = :s OR id = :w) AND n = :n5", F, NULL, false},
    {"NOT id = :s OR n = :n42", T, NULL, false},
    {"NOT (id = :s OR n = :n42)", F, NULL, false},
    {"NOT id = :w AND NOT n = :n5", T, NULL, false},
    {"(id = :s) AND (n = :n42)", T, NULL, false},
    {"((id = :s) AND n = :n42)", T, NULL, false},
    {"id = :s aNd n = :n42 Or id = :w", T, NULL, false},
    {"((id = :s))", ERR, "Invalid ConditionExpression: The expression has redundant parentheses;",
     false},
    /* attribute_exists / attribute_not_exists */
    {"attribute_exists(id)", T, NULL, false},
    {"attribute_exists(absent)", F, NULL, false},
    {"attribute_not_exists(absent)", T, NULL, false},
    {"attribute_not_exists(id)", F, NULL, false},
    {"attribute_exists(doc.child.leaf)", T, NULL, false},
    {"attribute_exists(doc.child.nope)", F, NULL, false},
    {"attribute_exists(things[3][0])", T, NULL, false},
    {"attribute_exists(things[3][1])", F, NULL, false},
    {"attribute_exists(#dot)", T, NULL, false},
    {"attribute_exists(a.b)", F, NULL, false},
    {"attribute_exists(nothing)", T, NULL, false},
    {"attribute_exists(:s)", ERR,
     "Operator or function requires a document path; operator or function: attribute_exists",
     false},
    {"attribute_exists(id, n)", ERR,
     "Incorrect number of operands for operator or function; operator or function: "
     "attribute_exists, number of operands: 2",
     false},
    {"attribute_exists(id) = :t", ERR,
     "The function is not allowed to be used this way in an expression; function: "
     "attribute_exists",
     false},
    /* attribute_type */
    {"attribute_type(id, :tS)", T, NULL, false},
    {"attribute_type(id, :tN)", F, NULL, false},
    {"attribute_type(n, :tN)", T, NULL, false},
    {"attribute_type(bin, :tB)", T, NULL, false},
    {"attribute_type(tags, :tSS)", T, NULL, false},
    {"attribute_type(nums, :tNS)", T, NULL, false},
    {"attribute_type(bins, :tBS)", T, NULL, false},
    {"attribute_type(flag, :tBOOL)", T, NULL, false},
    {"attribute_type(nothing, :tNULL)", T, NULL, false},
    {"attribute_type(things, :tL)", T, NULL, false},
    {"attribute_type(doc, :tM)", T, NULL, false},
    {"attribute_type(things[2], :tM)", T, NULL, false},
    {"attribute_type(absent, :tS)", F, NULL, false},
    {"attribute_type(:n5, :tN)", T, NULL, false},
    {"attribute_type(:n5, :tS)", F, NULL, false},
    {"attribute_type(n, id)", ERR,
     "Incorrect operand type for operator or function; operator or function: attribute_type, "
     "operand type: document path",
     false},
    {"attribute_type(id, :tX)", ERR,
     "Invalid ConditionExpression: Invalid attribute type name found; type: X, valid types: "
     "{B,NULL,SS,BOOL,L,BS,N,NS,S,M}",
     false},
    {"attribute_type(id, :n5)", ERR,
     "Incorrect operand type for operator or function; operator or function: attribute_type, "
     "operand type: N",
     false},
    {"attribute_type()", ERR, "Syntax error; token: \")\", near: \"()\"", false},
    {"attribute_type(id)", ERR,
     "Incorrect number of operands for operator or function; operator or function: "
     "attribute_type, number of operands: 1",
     false},
    /* begins_with */
    {"begins_with(#n, :p)", T, NULL, false},
    {"begins_with(id, :p)", F, NULL, false},
    {"begins_with(id, :blank)", T, NULL, false},
    {"begins_with(bin, :b12)", T, NULL, false},
    {"begins_with(bin, :b34)", F, NULL, false},
    {"begins_with(n, :p)", F, NULL, false},
    {"begins_with(absent, :p)", F, NULL, false},
    {"begins_with(doc.s, :hel)", T, NULL, false},
    {"begins_with(id, :n5)", ERR,
     "Incorrect operand type for operator or function; operator or function: begins_with, "
     "operand type: N",
     false},
    {"begins_with(id)", ERR,
     "Invalid ConditionExpression: Incorrect number of operands for operator or function; "
     "operator or function: begins_with, number of operands: 1",
     false},
    {"begins_with(id, :p, :p)", ERR, "begins_with, number of operands: 3", false},
    /* contains */
    {"contains(doc.s, :ell)", T, NULL, false},
    {"contains(doc.s, :hel)", T, NULL, false},
    {"contains(id, :yes)", F, NULL, false},
    {"contains(tags, :red)", T, NULL, false},
    {"contains(tags, :green)", F, NULL, false},
    {"contains(nums, :two5)", T, NULL, false},
    {"contains(nums, :two)", F, NULL, false},
    {"contains(nums, :one)", T, NULL, false},
    {"contains(bins, :b34)", T, NULL, false},
    {"contains(bin, :b23)", T, NULL, false},
    {"contains(bin, :b34)", T, NULL, false},
    {"contains(things, :x)", T, NULL, false},
    {"contains(things, :seven)", T, NULL, false},
    {"contains(things, :deep)", T, NULL, false},
    {"contains(things, :yes)", F, NULL, false},
    {"contains(doc.arr, :a)", T, NULL, false},
    {"contains(tags, :n5)", F, NULL, false},
    {"contains(n, :n42)", F, NULL, false},
    {"contains(absent, :x)", F, NULL, false},
    {"contains(id)", ERR, "operator or function: contains, number of operands: 1", false},
    /* one document path as both operands is refused; two values are not */
    {"contains(tags, tags)", ERR,
     "Invalid ConditionExpression: The first operand must be distinct from the remaining "
     "operands for this operator or function; operator: contains, first operand: [tags]",
     false},
    {"contains(doc.arr[1], #m.arr[1])", ERR, "operator: contains, first operand: [doc, arr, [1]]",
     false},
    {"begins_with(id, id)", ERR, "operator: begins_with, first operand: [id]", false},
    {"attribute_type(n, n)", ERR, "operator: attribute_type, first operand: [n]", false},
    {"n = n", ERR, "operator: =, first operand: [n]", false},
    {"id = :s AND #m.child <> doc.child", ERR, "operator: <>, first operand: [doc, child]", false},
    {"n >= n", ERR, "operator: >=, first operand: [n]", false},
    {"absent < #miss", ERR, "operator: <, first operand: [absent]", true},
    {":n42 = :n42", T, NULL, false},
    {"contains(things, things[1])", T, NULL, false},
    {"doc.arr[0] = doc.arr[1]", F, NULL, false},
    /* size */
    {"size(id) = :six", T, NULL, false},
    {"size(utf) = :six", T, NULL, false},
    {"size(blank) = :n5", F, NULL, false},
    {"size(bin) < :n5", T, NULL, false},
    {"size(tags) = :two", T, NULL, false},
    {"size(nums) > :two", T, NULL, false},
    {"size(things) BETWEEN :two AND :n5", T, NULL, false},
    {"size(doc) IN (:one, :two, :n5)", F, NULL, false},
    {"size(doc.arr) = :two", T, NULL, false},
    {"size(n) = :two", F, NULL, false},
    {"size(flag) >= :one", F, NULL, false},
    {"size(absent) = :one", F, NULL, false},
    {"size(id) > size(doc)", T, NULL, false},
    {"size(:s) = :six", ERR,
     "Incorrect operand type for operator or function; operator or function: size, operand "
     "type: S",
     false},
    {"size(id, n) = :one", ERR, "operator or function: size, number of operands: 2", false},
    /* paths, names and nesting */
    {"#st = :act", T, NULL, false},
    {"#n = :w", T, NULL, false},
    {"#m.child.leaf = :n5", T, NULL, false},
    {"#m.#i.leaf = :n5", T, NULL, false},
    {"doc.child.leaf = :n5", T, NULL, false},
    {"doc.arr[1] = :a", F, NULL, false},
    {"doc.arr[0] = :a", T, NULL, false},
    {"things[0] = :x", T, NULL, false},
    {"things[1] = :seven", T, NULL, false},
    {"things[2].deep = :yes", T, NULL, false},
    {"things[3][0] = :one", T, NULL, false},
    {"#dot = :dotted", T, NULL, false},
    {"#miss = :x", F, NULL, false},
    {"  id\t=\n:s  ", T, NULL, false},
    {"#undefined = :s", ERR,
     "Invalid ConditionExpression: An expression attribute name used in the document path is "
     "not defined; attribute name: #undefined",
     false},
    {"id = :undefined", ERR,
     "Invalid ConditionExpression: An expression attribute value used in expression is not "
     "defined; attribute value: :undefined",
     false},
    {"doc.#nope = :s", ERR, "attribute name: #nope", false},
    {"things[x] = :s", ERR, "Syntax error; token: \"x\", near: \"[x]\"", false},
    {"things[] = :s", ERR, "Syntax error; token: \"]\", near: \"[] =\"", false},
    {"things[-1] = :s", ERR, "Syntax error; token: \"-\"", false},
    {"doc. = :s", ERR, "Syntax error; token: \"=\"", false},
    {"a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.aa.bb.cc.dd.ee.ff.gg = :s", ERR,
     "The document path has too many nesting levels; nesting levels: 33", false},
    /* reserved words */
    {"status = :act", ERR,
     "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: status",
     false},
    {"name = :w", ERR, "reserved keyword: name", false},
    {"Name = :w", ERR, "reserved keyword: Name", false},
    {"doc.value = :s", ERR, "reserved keyword: value", false},
    {"attribute_exists(size)", ERR, "reserved keyword: size", false},
    {"id = :s AND comment = :s", ERR, "reserved keyword: comment", false},
    {"zone = :s", ERR, "reserved keyword: zone", false},
    {"abort = :s", ERR, "reserved keyword: abort", false},
    {"statuses = :s", F, NULL, false},
    /* functions */
    {"foo(id)", ERR, "Invalid ConditionExpression: Invalid function name; function: foo", false},
    {"Contains(tags, :red)", ERR, "Invalid function name; function: Contains", false},
    {"id = foo(n)", ERR, "Invalid function name; function: foo", false},
    {"id = attribute_exists(n)", ERR,
     "The function is not allowed to be used this way in an expression; function: "
     "attribute_exists",
     false},
    {"if_not_exists(id, :s) = :s", ERR, "function: if_not_exists", false},
    {"size(id)", ERR,
     "Invalid ConditionExpression: The function is not allowed to be used this way in an "
     "expression; function: size",
     false},
    {"id = :s AND (size(tags))", ERR,
     "The function is not allowed to be used this way in an expression; function: size", false},
    /* syntax */
    {"", ERR, "Invalid ConditionExpression: The expression can not be empty;", false},
    {"   ", ERR, "The expression can not be empty;", false},
    {"id", ERR, "Syntax error; token: \"<EOF>\", near: \"id\"", false},
    {"id =", ERR, "Syntax error; token: \"<EOF>\", near: \"=\"", false},
    {"id = = :s", ERR, "Syntax error; token: \"=\", near: \"= = :s\"", false},
    {"id == :s", ERR, "Syntax error; token: \"=\", near: \"== :s\"", false},
    {"id = :s AND", ERR, "Syntax error; token: \"<EOF>\", near: \"AND\"", false},
    {"id = :s n = :n42", ERR, "Syntax error; token: \"n\", near: \":s n =\"", false},
    {"(id = :s", ERR, "Syntax error; token: \"<EOF>\"", false},
    {"id = :s)", ERR, "Syntax error; token: \")\", near: \":s)\"", false},
    {"id != :s", ERR, "Syntax error; token: \"!\", near: \"id !=\"", false},
    {"id = :s; drop", ERR, "Syntax error; token: \";\"", false},
    {"id = #", ERR, "Syntax error; token: \"#\"", false},
    {"id = :", ERR, "Syntax error; token: \":\"", false},
    {"AND id = :s", ERR, "Syntax error; token: \"AND\"", false},
    {"NOT", ERR, "Syntax error; token: \"<EOF>\", near: \"NOT\"", false},
    {"id = :s OR OR n = :n5", ERR, "Syntax error; token: \"OR\", near: \"OR OR n\"", false},
    {"1 = :s", ERR, "Syntax error; token: \"1\"", false},
    {"id = \xc3\xa9", ERR, "Syntax error; token: \"\xc3\xa9\"", false},
    {"n < :t", ERR,
     "Incorrect operand type for operator or function; operator or function: <, operand type: "
     "BOOL",
     false},
    {"n >= :ss", ERR, "operator or function: >=, operand type: SS", false},
    {"flag = :t AND n > :null", ERR, "operator or function: >, operand type: NULL", false},
};

static cJSON *parse_json(const char *s)
{
    cJSON *j = cJSON_Parse(s);

    assert_non_null(j);
    return j;
}

struct fixture {
    cJSON *item, *names, *values;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct err e = {0};

    f->item = parse_json(ITEM);
    f->names = parse_json(NAMES);
    f->values = parse_json(VALUES);
    assert_int_equal(attr_validate_item(f->item, &e), ERR_OK);
    for (cJSON *v = f->values->child; v; v = v->next)
        assert_int_equal(attr_validate(v, &e), ERR_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    cJSON_Delete(f->item);
    cJSON_Delete(f->names);
    cJSON_Delete(f->values);
    free(f);
    return 0;
}

static void condition_table(void **state)
{
    struct fixture *f = *state;
    int failures = 0;

    for (size_t i = 0; i < sizeof(cond_cases) / sizeof(cond_cases[0]); i++) {
        const struct cond_case *tc = &cond_cases[i];
        struct arena *a = arena_new();
        struct expr_ctx ctx;
        struct expr_cond *x = NULL;
        struct err e = {0};
        enum err_code rc;
        bool r = false;

        expr_ctx_init(&ctx, a, f->names, f->values);
        rc = expr_parse_condition(&ctx, tc->expr, "ConditionExpression", &x, &e);
        if (tc->want == ERR) {
            if (rc != ERR_INVALID || !strstr(e.msg, tc->err)) {
                print_error("case %zu \"%s\": want error \"%s\", got rc=%d \"%s\"\n", i, tc->expr,
                            tc->err, rc, rc ? e.msg : "");
                failures++;
            }
        } else if (rc != ERR_OK) {
            print_error("case %zu \"%s\": parse failed: %s\n", i, tc->expr, e.msg);
            failures++;
        } else if (expr_eval_condition(x, tc->no_item ? NULL : f->item, &r, &e) != ERR_OK ||
                   r != (tc->want == T)) {
            print_error("case %zu \"%s\": want %s\n", i, tc->expr,
                        tc->want == T ? "true" : "false");
            failures++;
        }
        arena_free(a);
    }
    assert_int_equal(failures, 0);
}

static void which_is_in_messages(void **state)
{
    struct fixture *f = *state;
    struct arena *a = arena_new();
    struct expr_ctx ctx;
    struct expr_cond *x;
    struct err e = {0};

    expr_ctx_init(&ctx, a, f->names, f->values);
    assert_int_equal(expr_parse_condition(&ctx, "status = :act", "FilterExpression", &x, &e),
                     ERR_INVALID);
    assert_string_equal(e.msg, "Invalid FilterExpression: Attribute name is a reserved keyword; "
                               "reserved keyword: status");
    assert_null(x);
    arena_free(a);
}

static void in_operand_limit(void **state)
{
    struct fixture *f = *state;
    struct arena *a = arena_new();
    struct expr_ctx ctx;
    struct expr_cond *x;
    struct err e = {0};
    char text[1200];
    bool r;
    int n;

    expr_ctx_init(&ctx, a, f->names, f->values);
    n = snprintf(text, sizeof(text), "id IN (:s");
    for (int i = 1; i < 100; i++)
        n += snprintf(text + n, sizeof(text) - (size_t)n, ",:w");
    snprintf(text + n, sizeof(text) - (size_t)n, ")");
    assert_int_equal(expr_parse_condition(&ctx, text, "ConditionExpression", &x, &e), ERR_OK);
    assert_int_equal(expr_eval_condition(x, f->item, &r, &e), ERR_OK);
    assert_true(r);
    snprintf(text + n, sizeof(text) - (size_t)n, ",:w)");
    assert_int_equal(expr_parse_condition(&ctx, text, "ConditionExpression", &x, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "number of operands: 101"));
    arena_free(a);
}

static void long_and_deep_expressions(void **state)
{
    struct fixture *f = *state;
    struct arena *a = arena_new();
    struct expr_ctx ctx;
    struct expr_cond *x;
    struct err e = {0};
    char *text = calloc(1, 5000);

    expr_ctx_init(&ctx, a, f->names, f->values);
    memset(text, '(', 2000);
    assert_int_equal(expr_parse_condition(&ctx, text, "ConditionExpression", &x, &e), ERR_INVALID);
    memset(text, ' ', 4097);
    text[0] = 'a';
    assert_int_equal(expr_parse_condition(&ctx, text, "ConditionExpression", &x, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "Expression size has exceeded the maximum allowed size"));
    free(text);
    arena_free(a);
}

/* ---- unused names and values ---- */

static void unused_detection(void **state)
{
    struct arena *a = arena_new();
    cJSON *names = parse_json("{\"#a\":\"x\",\"#b\":\"y\",\"#c\":\"z\"}");
    cJSON *values = parse_json("{\":v\":{\"S\":\"1\"},\":w\":{\"N\":\"2\"}}");
    struct expr_ctx ctx;
    struct expr_cond *x;
    struct expr_proj *p;
    struct err e = {0};

    (void)state;
    expr_ctx_init(&ctx, a, names, values);
    assert_int_equal(expr_parse_condition(&ctx, "#a = :v", "ConditionExpression", &x, &e), ERR_OK);
    assert_int_equal(expr_check_unused(&ctx, &e), ERR_INVALID);
    assert_string_equal(e.msg, "Value provided in ExpressionAttributeNames unused in expressions: "
                               "keys: {#b, #c}");
    assert_int_equal(expr_parse_projection(&ctx, "#b, #c.d", &p, &e), ERR_OK);
    assert_int_equal(expr_check_unused(&ctx, &e), ERR_INVALID);
    assert_string_equal(e.msg, "Value provided in ExpressionAttributeValues unused in "
                               "expressions: keys: {:w}");
    assert_int_equal(expr_parse_condition(&ctx, "size(#a) > :w", "FilterExpression", &x, &e),
                     ERR_OK);
    assert_int_equal(expr_check_unused(&ctx, &e), ERR_OK);
    /* no names or values at all is fine */
    expr_ctx_init(&ctx, a, NULL, NULL);
    assert_int_equal(expr_check_unused(&ctx, &e), ERR_OK);
    assert_int_equal(expr_parse_condition(&ctx, "a = :v", "ConditionExpression", &x, &e),
                     ERR_INVALID);
    assert_non_null(strstr(e.msg, "attribute value: :v"));
    cJSON_Delete(names);
    cJSON_Delete(values);
    arena_free(a);
}

/* ---- projections ---- */

struct proj_case {
    const char *expr;
    const char *want; /* JSON of the projected item, or NULL for an error */
    const char *err;
};

static const struct proj_case proj_cases[] = {
    {"id", "{\"id\":{\"S\":\"abc123\"}}", NULL},
    {"id, n", "{\"id\":{\"S\":\"abc123\"},\"n\":{\"N\":\"42\"}}", NULL},
    {"absent", "{}", NULL},
    {"id, absent", "{\"id\":{\"S\":\"abc123\"}}", NULL},
    {"#n", "{\"name\":{\"S\":\"Widget\"}}", NULL},
    {"#dot", "{\"a.b\":{\"S\":\"dotted\"}}", NULL},
    {"doc.child.leaf", "{\"doc\":{\"M\":{\"child\":{\"M\":{\"leaf\":{\"N\":\"5\"}}}}}}", NULL},
    {"doc.s, doc.child",
     "{\"doc\":{\"M\":{\"s\":{\"S\":\"hello\"},\"child\":{\"M\":{\"leaf\":{\"N\":"
     "\"5\"}}}}}}",
     NULL},
    {"doc.nope", "{}", NULL},
    {"doc.nope, id", "{\"id\":{\"S\":\"abc123\"}}", NULL},
    {"things[1]", "{\"things\":{\"L\":[{\"N\":\"7\"}]}}", NULL},
    {"things[3], things[0]", "{\"things\":{\"L\":[{\"S\":\"x\"},{\"L\":[{\"N\":\"1\"}]}]}}", NULL},
    {"things[2].deep", "{\"things\":{\"L\":[{\"M\":{\"deep\":{\"S\":\"yes\"}}}]}}", NULL},
    {"things[3][0]", "{\"things\":{\"L\":[{\"L\":[{\"N\":\"1\"}]}]}}", NULL},
    {"things[9]", "{}", NULL},
    {"things[0].x", "{}", NULL},
    {"id[0]", "{}", NULL},
    {"doc.arr[1], #m.s",
     "{\"doc\":{\"M\":{\"arr\":{\"L\":[{\"S\":\"b\"}]},\"s\":{\"S\":\"hello\"}}}}", NULL},
    {"a, a.b", NULL,
     "Invalid ProjectionExpression: Two document paths overlap with each other; must remove or "
     "rewrite one of these paths; path one: [a], path two: [a, b]"},
    {"a.b.c, a.b", NULL, "path one: [a, b, c], path two: [a, b]"},
    {"id, id", NULL,
     "overlap with each other; must remove or rewrite one of these paths; path one: "
     "[id], path two: [id]"},
    {"things[0], things.x", NULL,
     "Invalid ProjectionExpression: Two document paths conflict with each other; must remove or "
     "rewrite one of these paths; path one: [things, [0]], path two: [things, x]"},
    {"", NULL, "Invalid ProjectionExpression: The expression can not be empty;"},
    {"id,", NULL, "Invalid ProjectionExpression: Syntax error; token: \"<EOF>\", near: \",\""},
    {"id n", NULL, "Syntax error; token: \"n\", near: \"id n\""},
    {"status", NULL,
     "Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: "
     "status"},
    {"#nope", NULL, "attribute name: #nope"},
    {"size(id)", NULL, "reserved keyword: size"},
};

/* A Query's sort-key condition compares strings in the order the table's keys
 * are stored: U+0000 (held as C0 80) first, or after U+007F for tables older
 * than that encoding. */
static void key_condition_nul_order(void **state)
{
    static const char *const conds[] = {"k < :v", "k BETWEEN :lo AND :v", "NOT k >= :v"};
    struct arena *a = arena_new();
    cJSON *item = parse_json("{\"k\":{\"S\":\"a\xC0\x80\"}}");
    cJSON *values = parse_json("{\":v\":{\"S\":\"a!\"},\":lo\":{\"S\":\"a\"}}");
    struct err e = {0};

    (void)state;
    for (size_t i = 0; i < sizeof(conds) / sizeof(conds[0]); i++) {
        struct expr_ctx ctx;
        struct expr_cond *x = NULL;
        bool r = false;

        expr_ctx_init(&ctx, a, NULL, values);
        assert_int_equal(expr_parse_condition(&ctx, conds[i], "KeyConditionExpression", &x, &e),
                         ERR_OK);
        assert_int_equal(expr_eval_condition(x, item, &r, &e), ERR_OK);
        assert_true(r);
        assert_int_equal(expr_eval_key_condition(x, item, false, &r, &e), ERR_OK);
        assert_true(r);
        assert_int_equal(expr_eval_key_condition(x, item, true, &r, &e), ERR_OK);
        assert_false(r);
    }
    assert_int_equal(expr_eval_key_condition(NULL, item, true, NULL, &e), ERR_INTERNAL);
    cJSON_Delete(item);
    cJSON_Delete(values);
    arena_free(a);
}

static void projection_table(void **state)
{
    struct fixture *f = *state;
    int failures = 0;

    for (size_t i = 0; i < sizeof(proj_cases) / sizeof(proj_cases[0]); i++) {
        const struct proj_case *tc = &proj_cases[i];
        struct arena *a = arena_new();
        struct expr_ctx ctx;
        struct expr_proj *p = NULL;
        struct err e = {0};
        enum err_code rc;

        expr_ctx_init(&ctx, a, f->names, f->values);
        rc = expr_parse_projection(&ctx, tc->expr, &p, &e);
        if (!tc->want) {
            if (rc != ERR_INVALID || !strstr(e.msg, tc->err)) {
                print_error("case %zu \"%s\": want error \"%s\", got \"%s\"\n", i, tc->expr,
                            tc->err, rc ? e.msg : "");
                failures++;
            }
        } else if (rc != ERR_OK) {
            print_error("case %zu \"%s\": %s\n", i, tc->expr, e.msg);
            failures++;
        } else {
            cJSON *got = expr_project(p, f->item);
            cJSON *want = parse_json(tc->want);
            if (!cJSON_Compare(got, want, true)) {
                char *s = cJSON_PrintUnformatted(got);
                print_error("case %zu \"%s\": got %s want %s\n", i, tc->expr, s, tc->want);
                free(s);
                failures++;
            }
            cJSON_Delete(got);
            cJSON_Delete(want);
        }
        arena_free(a);
    }
    assert_int_equal(failures, 0);
}

static void projection_of_missing_item(void **state)
{
    struct arena *a = arena_new();
    struct expr_ctx ctx;
    struct expr_proj *p;
    struct err e = {0};
    cJSON *got;

    (void)state;
    expr_ctx_init(&ctx, a, NULL, NULL);
    assert_int_equal(expr_parse_projection(&ctx, "a.b[2]", &p, &e), ERR_OK);
    got = expr_project(p, NULL);
    assert_non_null(got);
    assert_null(got->child);
    cJSON_Delete(got);
    arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(condition_table, setup, teardown),
        cmocka_unit_test_setup_teardown(which_is_in_messages, setup, teardown),
        cmocka_unit_test_setup_teardown(in_operand_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(long_and_deep_expressions, setup, teardown),
        cmocka_unit_test(unused_detection),
        cmocka_unit_test(key_condition_nul_order),
        cmocka_unit_test_setup_teardown(projection_table, setup, teardown),
        cmocka_unit_test(projection_of_missing_item),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
