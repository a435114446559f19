/* test_ddb_update.c - UpdateExpression parsing and application, through expr.h:
 * a table of expressions with the item they produce or DynamoDB's exact message. */
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
    "{\"pk\":{\"S\":\"k\"},\"n\":{\"N\":\"10\"},\"s\":{\"S\":\"str\"},"
    "\"l\":{\"L\":[{\"N\":\"0\"},{\"N\":\"1\"},{\"N\":\"2\"}]},"
    "\"m\":{\"M\":{\"a\":{\"N\":\"1\"},\"in\":{\"M\":{\"x\":{\"S\":\"y\"}}}}},"
    "\"ss\":{\"SS\":[\"a\",\"b\"]},\"ns\":{\"NS\":[\"1\",\"2\"]}}";

static const char *const VALUES =
    "{\":one\":{\"N\":\"1\"},\":big\":{\"N\":\"9.9999999999999999999999999999999999999E+125\"},"
    "\":tiny\":{\"N\":\"0.5\"},\":s\":{\"S\":\"v\"},\":l\":{\"L\":[{\"S\":\"z\"}]},"
    "\":ssab\":{\"SS\":[\"a\",\"c\"]},\":ns\":{\"NS\":[\"2\",\"3.0\"]},\":ss\":{\"SS\":[\"b\"]},"
    "\":m\":{\"M\":{}},\":e\":{\"L\":[]}}";

struct upd_case {
    const char *expr;
    const char *want; /* JSON of the changed attributes (checked one by one), or NULL */
    const char *gone; /* an attribute that must be absent afterwards, or NULL */
    const char *err;  /* the exact message, parse or apply */
};

static const struct upd_case cases[] = {
    {"SET n = n + :one", "{\"n\":{\"N\":\"11\"}}", NULL, NULL},
    {"SET n = n - :tiny", "{\"n\":{\"N\":\"9.5\"}}", NULL, NULL},
    {"SET n = :big + :big", NULL, NULL,
     "Number overflow. Attempting to store a number with magnitude larger than supported range"},
    {"SET x = if_not_exists(x, :one), n = if_not_exists(n, :one)",
     "{\"x\":{\"N\":\"1\"},\"n\":{\"N\":\"10\"}}", NULL, NULL},
    {"SET l = list_append(l, :l)",
     "{\"l\":{\"L\":[{\"N\":\"0\"},{\"N\":\"1\"},{\"N\":\"2\"},{\"S\":\"z\"}]}}", NULL, NULL},
    {"SET l = list_append(:l, l)",
     "{\"l\":{\"L\":[{\"S\":\"z\"},{\"N\":\"0\"},{\"N\":\"1\"},{\"N\":\"2\"}]}}", NULL, NULL},
    {"SET l[1] = :s", "{\"l\":{\"L\":[{\"N\":\"0\"},{\"S\":\"v\"},{\"N\":\"2\"}]}}", NULL, NULL},
    {"SET l[9] = :s", "{\"l\":{\"L\":[{\"N\":\"0\"},{\"N\":\"1\"},{\"N\":\"2\"},{\"S\":\"v\"}]}}",
     NULL, NULL},
    {"SET m.#x.y = :s",
     "{\"m\":{\"M\":{\"a\":{\"N\":\"1\"},\"in\":{\"M\":{\"x\":{\"S\":\"y\"},"
     "\"y\":{\"S\":\"v\"}}}}}}",
     NULL, NULL},
    {"SET s = n, n = s", "{\"s\":{\"N\":\"10\"},\"n\":{\"S\":\"str\"}}", NULL, NULL},
    {"REMOVE s, l[0], l[2]", "{\"l\":{\"L\":[{\"N\":\"1\"}]}}", "s", NULL},
    {"REMOVE nothing_here", "{\"n\":{\"N\":\"10\"}}", NULL, NULL},
    {"ADD n :one, newn :one", "{\"n\":{\"N\":\"11\"},\"newn\":{\"N\":\"1\"}}", NULL, NULL},
    {"ADD ss :ssab", "{\"ss\":{\"SS\":[\"a\",\"b\",\"c\"]}}", NULL, NULL},
    {"ADD ns :ns", "{\"ns\":{\"NS\":[\"1\",\"2\",\"3\"]}}", NULL, NULL},
    {"DELETE ss :ss", "{\"ss\":{\"SS\":[\"a\"]}}", NULL, NULL},
    {"DELETE ss :ssab, ns :ns", "{\"ss\":{\"SS\":[\"b\"]},\"ns\":{\"NS\":[\"1\"]}}", NULL, NULL},
    {"set n = :one remove s add ns :ns delete ss :ss",
     "{\"n\":{\"N\":\"1\"},\"ss\":{\"SS\":[\"a\"]}}", "s", NULL},
    /* errors found by the parser */
    {"SET n = :one SET s = :s", NULL, NULL,
     "Invalid UpdateExpression: The \"SET\" section can only be used once in an update "
     "expression;"},
    {"REMOVE n ADD x :one REMOVE s", NULL, NULL,
     "Invalid UpdateExpression: The \"REMOVE\" section can only be used once in an update "
     "expression;"},
    {"SET n = :one, n = :s", NULL, NULL,
     "Invalid UpdateExpression: Two document paths overlap with each other; must remove or "
     "rewrite one of these paths; path one: [n], path two: [n]"},
    {"SET m.a = :one REMOVE m", NULL, NULL,
     "Invalid UpdateExpression: Two document paths overlap with each other; must remove or "
     "rewrite one of these paths; path one: [m, a], path two: [m]"},
    {"SET l[0] = :one, l.x = :one", NULL, NULL,
     "Invalid UpdateExpression: Two document paths conflict with each other; must remove or "
     "rewrite one of these paths; path one: [l, [0]], path two: [l, x]"},
    {"ADD n :s", NULL, NULL,
     "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, "
     "operand type: STRING"},
    {"ADD n :l", NULL, NULL,
     "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, "
     "operand type: LIST"},
    {"DELETE ss :one", NULL, NULL,
     "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: "
     "DELETE, operand type: NUMBER"},
    {"SET n = n + :s", NULL, NULL,
     "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or "
     "function: +, operand type: S"},
    {"SET n = :l - n", NULL, NULL,
     "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or "
     "function: -, operand type: L"},
    {"SET l = list_append(:s, l)", NULL, NULL,
     "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or "
     "function: list_append, operand type: S"},
    {"SET l = list_append(l)", NULL, NULL,
     "Invalid UpdateExpression: Incorrect number of operands for operator or function; operator "
     "or function: list_append, number of operands: 1"},
    {"SET n = if_not_exists(:one, n)", NULL, NULL,
     "Invalid UpdateExpression: Operator or function requires a document path; operator or "
     "function: if_not_exists"},
    {"SET n = if_not_exist(n, :one)", NULL, NULL,
     "Invalid UpdateExpression: Invalid function name; function: if_not_exist"},
    {"SET l = list_append(list_append(l, :l), :l)", NULL, NULL,
     "Invalid UpdateExpression: The function is not allowed to be used this way in an "
     "expression; function: list_append"},
    {"SET n = size(s)", NULL, NULL,
     "Invalid UpdateExpression: The function is not allowed in an update expression; function: "
     "size"},
    {"SET n = n + :one + :one", NULL, NULL,
     "Invalid UpdateExpression: Syntax error; token: \"+\", near: \":one + :one\""},
    {"SET n :one", NULL, NULL,
     "Invalid UpdateExpression: Syntax error; token: \":one\", near: \"n :one\""},
    {"ADD n n", NULL, NULL, "Invalid UpdateExpression: Syntax error; token: \"n\", near: \"n n\""},
    {"FROB n", NULL, NULL,
     "Invalid UpdateExpression: Syntax error; token: \"FROB\", near: \"FROB n\""},
    {"SET #zz = :one", NULL, NULL,
     "Invalid UpdateExpression: An expression attribute name used in the document path is not "
     "defined; attribute name: #zz"},
    {"SET n = :nope", NULL, NULL,
     "Invalid UpdateExpression: An expression attribute value used in expression is not "
     "defined; attribute value: :nope"},
    {"REMOVE size", NULL, NULL,
     "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: size"},
    {"", NULL, NULL, "Invalid UpdateExpression: The expression can not be empty;"},
    /* errors found when applying */
    {"SET n = s + :one", NULL, NULL,
     "An operand in the update expression has an incorrect data type"},
    {"SET x = list_append(s, :l)", NULL, NULL,
     "An operand in the update expression has an incorrect data type"},
    {"SET x = absent", NULL, NULL,
     "The provided expression refers to an attribute that does not exist in the item"},
    {"SET absent.x = :one", NULL, NULL,
     "The document path provided in the update expression is invalid for update"},
    {"SET s.x = :one", NULL, NULL,
     "The document path provided in the update expression is invalid for update"},
    {"REMOVE absent[0]", NULL, NULL,
     "The document path provided in the update expression is invalid for update"},
    {"ADD s :one", NULL, NULL, "An operand in the update expression has an incorrect data type"},
    {"DELETE ns :ss", NULL, NULL, "An operand in the update expression has an incorrect data type"},
};

static void check_attr(const cJSON *item, const cJSON *want)
{
    const cJSON *got = cJSON_GetObjectItemCaseSensitive(item, want->string);

    if (!got || !attr_equal(got, want)) {
        char *g = got ? cJSON_PrintUnformatted(got) : NULL;
        char *w = cJSON_PrintUnformatted(want);

        print_error("attribute %s: got %s want %s\n", want->string, g ? g : "(absent)", w);
        free(g);
        free(w);
        fail();
    }
}

static void test_update_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct upd_case *tc = &cases[i];
        struct arena *a = arena_new();
        cJSON *names = cJSON_Parse("{\"#x\":\"in\",\"#zz2\":\"unused\"}");
        cJSON *values = cJSON_Parse(VALUES);
        cJSON *item = cJSON_Parse(ITEM);
        struct expr_ctx ctx;
        struct expr_update *u = NULL;
        struct err e = {0};
        enum err_code rc;

        assert_int_equal(attr_validate_item(values, &e), ERR_OK);
        cJSON_DeleteItemFromObject(names, "#zz2");
        expr_ctx_init(&ctx, a, names, values);
        rc = expr_parse_update(&ctx, tc->expr, &u, &e);
        if (rc == ERR_OK)
            rc = expr_apply_update(u, item, &e);
        if (tc->err) {
            if (rc != ERR_INVALID || strcmp(e.msg, tc->err) != 0) {
                print_error("case %zu \"%s\": rc %d msg \"%s\"\n", i, tc->expr, rc, e.msg);
                fail();
            }
        } else {
            cJSON *want = cJSON_Parse(tc->want);
            const cJSON *w;

            if (rc != ERR_OK) {
                print_error("case %zu \"%s\": unexpected \"%s\"\n", i, tc->expr, e.msg);
                fail();
            }
            cJSON_ArrayForEach(w, want) check_attr(item, w);
            if (tc->gone)
                assert_null(cJSON_GetObjectItemCaseSensitive(item, tc->gone));
            cJSON_Delete(want);
        }
        cJSON_Delete(item);
        cJSON_Delete(values);
        cJSON_Delete(names);
        arena_free(a);
    }
}

static void test_key_touched_and_projection(void **state)
{
    struct arena *a = arena_new();
    cJSON *values = cJSON_Parse(VALUES);
    cJSON *item = cJSON_Parse(ITEM);
    struct expr_ctx ctx;
    struct expr_update *u = NULL;
    struct err e = {0};
    cJSON *p;

    (void)state;
    expr_ctx_init(&ctx, a, NULL, values);
    assert_int_equal(expr_parse_update(&ctx, "SET m.a = :one ADD pk :one", &u, &e), ERR_OK);
    assert_string_equal(expr_update_key_touched(u, "pk", NULL), "pk");
    assert_null(expr_update_key_touched(u, "other", "n"));
    p = expr_update_project(u, item);
    assert_non_null(cJSON_GetObjectItemCaseSensitive(p, "m"));
    assert_null(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(p, "m")->child, "in"));
    cJSON_Delete(p);
    /* unused values are reported after parsing */
    assert_int_equal(expr_check_unused(&ctx, &e), ERR_INVALID);
    cJSON_Delete(item);
    cJSON_Delete(values);
    arena_free(a);
}

/* An update read from AttributeUpdates words an ADD/DELETE type mismatch as DynamoDB
 * does for that form; the same expression written by the caller keeps its own wording. */
static void test_legacy_type_mismatch(void **state)
{
    static const char *const exprs[] = {"ADD ns :ss", "DELETE ss :ns", "DELETE n :ns",
                                        "ADD ns :one"};

    (void)state;
    for (size_t i = 0; i < sizeof(exprs) / sizeof(exprs[0]); i++) {
        for (int legacy = 0; legacy < 2; legacy++) {
            struct arena *a = arena_new();
            cJSON *values = cJSON_Parse(VALUES);
            cJSON *item = cJSON_Parse(ITEM);
            struct expr_ctx ctx;
            struct expr_update *u = NULL;
            struct err e = {0};

            expr_ctx_init(&ctx, a, NULL, values);
            assert_int_equal(expr_parse_update(&ctx, exprs[i], &u, &e), ERR_OK);
            if (legacy)
                expr_update_set_legacy(u);
            assert_int_equal(expr_apply_update(u, item, &e), ERR_INVALID);
            assert_string_equal(e.msg, legacy ? "Type mismatch for attribute to update"
                                              : "An operand in the update expression has an "
                                                "incorrect data type");
            cJSON_Delete(item);
            cJSON_Delete(values);
            arena_free(a);
        }
    }
    expr_update_set_legacy(NULL); /* no update: nothing to mark */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_update_table),
        cmocka_unit_test(test_legacy_type_mismatch),
        cmocka_unit_test(test_key_touched_and_projection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
