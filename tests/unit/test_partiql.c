/* test_partiql.c - the PartiQL statement parser, through partiql.h: what each
 * statement becomes (expressions with placeholders, names, values, key
 * terms) and the ValidationException messages of what is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arena.h"
#include "partiql.h"

static struct arena *A;
static char msg[512];

static int setup(void **state)
{
    (void)state;
    A = arena_new();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    arena_free(A);
    return 0;
}

static struct pql_stmt *parse_p(const char *text, const char *params, bool exists)
{
    cJSON *p = params ? cJSON_Parse(params) : NULL;
    struct pql_stmt *st;

    msg[0] = '\0';
    st = pql_parse(A, text, strlen(text), p, exists, msg, sizeof(msg));
    cJSON_Delete(p);
    return st;
}

static struct pql_stmt *parse(const char *text)
{
    return parse_p(text, NULL, false);
}

static char *json(const cJSON *v)
{
    static char out[1024];
    char *s = cJSON_PrintUnformatted(v);

    snprintf(out, sizeof(out), "%s", s);
    cJSON_free(s);
    return out;
}

static void test_select(void **state)
{
    struct pql_stmt *st;
    struct pql_cond *t[8];

    (void)state;
    st = parse_p("SELECT a, b.c[2], \"x y\" FROM \"Music\" WHERE Artist = 'Acme' AND "
                 "SongTitle BETWEEN ? AND 'z' ORDER BY SongTitle DESC;",
                 "[{\"S\":\"m\"}]", false);
    assert_non_null(st);
    assert_int_equal(st->kind, PQL_SELECT);
    assert_string_equal(st->table, "Music");
    assert_null(st->index);
    assert_string_equal(st->proj, "#p0, #p1.#p2[2], #p3");
    assert_string_equal(st->order_attr, "SongTitle");
    assert_true(st->order_desc);
    assert_string_equal(json(st->names),
                        "{\"#p0\":\"a\",\"#p1\":\"b\",\"#p2\":\"c\",\"#p3\":\"x y\",\"#p4\":"
                        "\"Artist\",\"#p5\":\"SongTitle\"}");
    assert_int_equal(pql_terms(st->where, t, 8), 2);
    assert_int_equal(t[0]->kind, PQL_C_CMP);
    assert_string_equal(t[0]->attr, "Artist");
    assert_int_equal(t[0]->op, PQL_EQ);
    assert_string_equal(json(t[0]->v1), "{\"S\":\"Acme\"}");
    assert_int_equal(t[1]->kind, PQL_C_BETWEEN);
    assert_string_equal(t[1]->text, "#p5 BETWEEN :p1 AND :p2");
    assert_string_equal(t[1]->attr, "SongTitle");
    assert_string_equal(json(t[1]->v1), "{\"S\":\"m\"}");
    assert_string_equal(json(t[1]->v2), "{\"S\":\"z\"}");
    /* a missing parameter */
    assert_null(parse("SELECT * FROM T WHERE a BETWEEN ? AND 'z'"));
    assert_string_equal(msg, "Number of parameters in request and statement don't match.");
}

static void test_select_params_index(void **state)
{
    struct pql_stmt *st;
    struct pql_cond *t[8];

    (void)state;
    st = parse_p("select * from \"T\".\"I\" where 3 > n and begins_with(s, ?) and k in [1, ?]",
                 "[{\"S\":\"pre\"},{\"N\":\"2\"}]", false);
    assert_non_null(st);
    assert_string_equal(st->index, "I");
    assert_null(st->proj);
    assert_int_equal(pql_terms(st->where, t, 8), 3);
    assert_int_equal(t[0]->op, PQL_LT); /* flipped: n < 3 */
    assert_string_equal(t[0]->attr, "n");
    assert_int_equal(t[1]->kind, PQL_C_BEGINS);
    assert_string_equal(json(t[1]->v1), "{\"S\":\"pre\"}");
    assert_int_equal(t[2]->kind, PQL_C_IN);
    assert_int_equal(t[2]->nin, 2);
    assert_string_equal(t[2]->text, "#p2 IN (:p2, :p3)");
    assert_non_null(t[2]->vals);
    assert_string_equal(json(t[2]->vals[1]), "{\"N\":\"2\"}");
    assert_true(pql_uses(st->where->text, ":p3"));
    assert_false(pql_uses("#p10 = :p1", "#p1"));
    assert_string_equal(pql_name_ph(st, "k"), "#p2");
    assert_null(pql_name_ph(st, "none"));
    st = parse("SELECT * FROM T WHERE k IN [1, other]");
    assert_int_equal(pql_terms(st->where, t, 8), 1);
    assert_null(t[0]->vals); /* not values only */
}

static void test_conditions(void **state)
{
    struct pql_stmt *st;

    (void)state;
    st = parse("SELECT * FROM T WHERE a IS MISSING OR NOT b IS NOT MISSING AND (c <> 1 OR "
               "d != 2) AND size(e) >= 3 AND contains(f, 'x') AND attribute_type(g, 'S') AND "
               "h IS NULL AND i IS NOT NULL AND exists(j) AND size = 1");
    assert_non_null(st);
    assert_string_equal(
        st->where->text,
        "attribute_not_exists(#p0) OR NOT attribute_exists(#p1) AND (#p2 <> :p0 OR #p3 <> :p1) "
        "AND size(#p4) >= :p2 AND contains(#p5, :p3) AND attribute_type(#p6, :p4) AND "
        "attribute_type(#p7, :p5) AND NOT attribute_type(#p8, :p6) AND attribute_exists(#p9) AND "
        "#p10 = :p7");
    /* IS <type>: the DynamoDB type the PartiQL type stands for */
    st = parse("SELECT * FROM T WHERE a IS STRING AND b IS NOT BOOLEAN AND c IS bag AND NOT d IS "
               "TUPLE AND e IS NOT BAG AND f IS DECIMAL");
    assert_non_null(st);
    assert_string_equal(st->where->text,
                        "attribute_type(#p0, :p0) AND NOT attribute_type(#p1, :p1) AND "
                        "(attribute_type(#p2, :p2) OR attribute_type(#p2, :p3) OR "
                        "attribute_type(#p2, :p4)) AND NOT attribute_type(#p3, :p5) AND NOT "
                        "(attribute_type(#p4, :p6) OR attribute_type(#p4, :p7) OR "
                        "attribute_type(#p4, :p8)) AND attribute_type(#p5, :p9)");
    assert_string_equal(
        cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(st->values, ":p3"), "S")),
        "NS");
    assert_string_equal(
        cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(st->values, ":p5"), "S")),
        "M");
}

static void test_or_in(void **state)
{
    struct pql_stmt *st;
    struct pql_cond *t[4];

    (void)state;
    /* pk = v OR pk = w ... is pk IN [v, w, ...], each value once */
    st = parse("SELECT * FROM T WHERE pk = 1 OR pk = 'x' OR (pk = 3 OR 1 = pk) AND a = 2");
    assert_non_null(st);
    assert_int_equal(st->where->kind, PQL_C_OTHER); /* the AND binds first */
    st = parse("SELECT * FROM T WHERE (pk = 1 OR pk = 'x' OR (pk = 3 OR 1 = pk)) AND a = 2");
    assert_non_null(st);
    assert_int_equal(pql_terms(st->where, t, 4), 2);
    assert_int_equal(t[0]->kind, PQL_C_IN);
    assert_string_equal(t[0]->attr, "pk");
    assert_int_equal(t[0]->nin, 3);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(t[0]->vals[1], "S")), "x");
    assert_string_equal(st->where->text,
                        "(#p0 = :p0 OR #p0 = :p1 OR #p0 = :p2 OR :p3 = #p0) AND #p1 = :p4");
    st = parse("SELECT * FROM T WHERE pk = 1 OR other = 2");
    assert_int_equal(st->where->kind, PQL_C_OTHER);
    st = parse("SELECT * FROM T WHERE pk = 1 OR pk > 2");
    assert_int_equal(st->where->kind, PQL_C_OTHER);
    st = parse("SELECT * FROM T WHERE pk IN [1, 1, 2, 1]");
    assert_int_equal(st->where->nin, 2);
}

static void test_precedence(void **state)
{
    struct pql_stmt *st;
    struct pql_cond *t[4];

    (void)state;
    /* parentheses where the meaning needs them, and nowhere else */
    st = parse("SELECT * FROM T WHERE NOT (a = 1 OR b = 2) AND ((c = 3)) AND (d = 4 AND e = 5) "
               "AND (f = 6 OR (g = 7 AND h = 8))");
    assert_non_null(st);
    assert_string_equal(
        st->where->text,
        "NOT (#p0 = :p0 OR #p1 = :p1) AND #p2 = :p2 AND #p3 = :p3 AND #p4 = :p4 AND "
        "(#p5 = :p5 OR #p6 = :p6 AND #p7 = :p7)");
    assert_int_equal(pql_terms(st->where, t, 4), 5);
    assert_int_equal(t[3]->kind, PQL_C_CMP);
    st = parse("SELECT * FROM T WHERE NOT (a = 1 AND b = 2)");
    assert_string_equal(st->where->text, "NOT (#p0 = :p0 AND #p1 = :p1)");
}

static void test_insert_values(void **state)
{
    struct pql_stmt *st;

    (void)state;
    st = parse_p("INSERT INTO \"T\" VALUE {'pk': 'it''s', 'n': -1.5e3, 'b': TRUE, 'f': false, "
                 "'z': NULL, 'l': [1, [2], {}], 'ss': <<'a', 'b'>>, 'ns': <<1>>, 'bs': <<?>>, "
                 "'m': {'x': {'y': +2}}}",
                 "[{\"B\":\"AQI=\"}]", false);
    assert_non_null(st);
    assert_int_equal(st->kind, PQL_INSERT);
    assert_string_equal(json(st->item),
                        "{\"pk\":{\"S\":\"it's\"},\"n\":{\"N\":\"-1.5e3\"},\"b\":{\"BOOL\":true},"
                        "\"f\":{\"BOOL\":false},\"z\":{\"NULL\":true},\"l\":{\"L\":[{\"N\":\"1\"},"
                        "{\"L\":[{\"N\":\"2\"}]},{\"M\":{}}]},\"ss\":{\"SS\":[\"a\",\"b\"]},"
                        "\"ns\":{\"NS\":[\"1\"]},\"bs\":{\"BS\":[\"AQI=\"]},\"m\":{\"M\":{\"x\":"
                        "{\"M\":{\"y\":{\"N\":\"2\"}}}}}}");
    assert_null(st->values->child);
}

static void test_update_delete(void **state)
{
    struct pql_stmt *st;

    (void)state;
    st = parse("UPDATE \"T\" SET a = a + 1, b = 'x' SET l = list_append(l, [1]) REMOVE c, d[0] "
               "SET s = set_add(s, <<'q'>>) SET s2 = set_delete(s2, <<1>>) SET i = "
               "if_not_exists(i, 0) SET m.k = m.j - 2 WHERE pk = 'k' RETURNING MODIFIED OLD *");
    assert_non_null(st);
    assert_int_equal(st->kind, PQL_UPDATE);
    assert_string_equal(st->update, "SET #p0 = #p0 + :p0, #p1 = :p1, #p2 = list_append(#p2, :p2), "
                                    "#p7 = if_not_exists(#p7, :p5), #p8.#p9 = #p8.#p10 - :p6 "
                                    "REMOVE #p3, #p4[0] ADD #p5 :p3 DELETE #p6 :p4");
    assert_string_equal(st->returning, "UPDATED_OLD");
    st = parse("UPDATE T SET a = 1 WHERE pk = 'k' RETURNING ALL NEW *");
    assert_string_equal(st->returning, "ALL_NEW");
    st = parse("UPDATE T SET a = 1 WHERE pk = 'k' RETURNING MODIFIED NEW *");
    assert_string_equal(st->returning, "UPDATED_NEW");
    st = parse("DELETE FROM T WHERE pk = 'k' RETURNING ALL OLD *");
    assert_non_null(st);
    assert_int_equal(st->kind, PQL_DELETE);
    assert_string_equal(st->returning, "ALL_OLD");
    st = parse_p("EXISTS(SELECT * FROM T WHERE pk = 'k')", NULL, true);
    assert_non_null(st);
    assert_int_equal(st->kind, PQL_EXISTS);
}

static int bad;

static void refused(const char *text, const char *want)
{
    struct pql_stmt *st = parse(text);

    if (st)
        fail_msg("accepted: %s", text);
    if (!strstr(msg, want)) {
        printf("REFUSED %s -> %s (want %s)\n", text, msg, want);
        bad++;
    }
}

static void test_refused(void **state)
{
    char deep[400];

    (void)state;
    refused("", "Expected data manipulation");
    refused("DROP TABLE x", "Expected data manipulation");
    refused("SELECT * FROM", "Expected a name");
    refused("SELECT * FROM T WHERE", "Expected a name");
    refused("SELECT * FROM T WHERE a = 'open", "Expected a name");
    refused("SELECT * FROM T x", "Unexpected 'x'");
    refused("SELECT * FROM T WHERE a = <<1, 'a'>>", "one type");
    refused("SELECT * FROM T WHERE a = <<true>>", "strings, numbers or binaries");
    refused("SELECT * FROM T WHERE a = {'k': 1, 'k': 2}", "Duplicate member name");
    refused("SELECT * FROM T WHERE a = {k: 1}", "quoted member name");
    refused("SELECT * FROM T WHERE a[x] = 1", "list index");
    refused("SELECT * FROM T WHERE a[1.5] = 1", "list index");
    refused("SELECT * FROM T WHERE a = -x", "Expected a number");
    refused("SELECT * FROM T WHERE a = #", "Expected a name");
    refused("SELECT * FROM T WHERE a", "Expected a comparison");
    refused("SELECT * FROM T WHERE a IS 3", "MISSING, NULL or a type");
    refused("SELECT * FROM T WHERE a IS DATE", "MISSING, NULL or a type");
    refused("SELECT * FROM T WHERE 3 IS MISSING", "IS takes a path");
    refused("SELECT * FROM T WHERE begins_with('a', b)", "must be a path");
    refused("SELECT * FROM T WHERE a IN 3", "Expected '['");
    refused("SELECT * FROM T WHERE a BETWEEN 1 2", "Expected AND");
    refused("SELECT * FROM T ORDER sk", "Expected BY");
    refused("SELECT * FROM \"\"", "Path component cannot be an empty string");
    refused("SELECT * FROM \"t\".\"\"", "Path component cannot be an empty string");
    refused("SELECT * FROM \"t\".\"i\".\"x\"",
            "A path may contain at most 2 components in the FROM clause");
    refused("SELECT * FROM select", "Expected a name");
    refused("INSERT INTO T.I VALUE {'a': 1}", "This operation is not supported on an index");
    refused("INSERT INTO T VALUE [1]", "map value");
    refused("INSERT T VALUE {'a': 1}", "Expected INTO");
    refused("UPDATE T.I SET a = 1 WHERE pk = 1", "This operation is not supported on an index");
    refused("UPDATE T WHERE pk = 1", "Expected SET or REMOVE");
    refused("UPDATE T SET a = 1", "Expected WHERE");
    refused("UPDATE T SET a = set_add(b, <<1>>) WHERE pk = 1", "must name the attribute");
    refused("UPDATE T SET a = 1 WHERE pk = 1 RETURNING SOME", "ALL or MODIFIED");
    refused("UPDATE T SET a = 1 WHERE pk = 1 RETURNING ALL THE *", "OLD or NEW");
    refused("DELETE FROM T WHERE pk = 1 RETURNING ALL NEW *",
            "Invalid returning clause: RETURNING ALL NEW *. Only RETURNING ALL OLD * is allowed "
            "in DELETE statements.");
    refused("DELETE FROM T WHERE pk = 1 RETURNING MODIFIED OLD *", "RETURNING MODIFIED OLD *.");
    /* functions: DynamoDB's outside a condition, and those it does not have */
    refused("SELECT COUNT(*) FROM T", "Unexpected path component at 1:8:5");
    refused("SELECT a,\n  \"é\", size(a) FROM T", "Unexpected path component at 2:8:4");
    refused("SELECT a, \"b\".c + 1 FROM T", "Unsupported operation: arithmetic in a SELECT list");
    refused("SELECT * FROM T WHERE d < utcnow()", "function utcnow() is not supported");
    refused("SELECT * FROM T WHERE date_to_string(d, 'yyyy') = '2020'",
            "function date_to_string() is not supported");
    refused("SELECT * FROM T WHERE a = begins_with(b, 'x')", "begins_with() is a condition");
    refused("UPDATE T SET a = upper(b) WHERE pk = 1", "function upper() is not supported");
    refused("DELETE FROM T.I WHERE pk = 1", "This operation is not supported on an index");
    refused("EXISTS(SELECT * FROM T WHERE pk = 1)", "Expected data manipulation");
    refused("SELECT * FROM T WHERE a = ?", "don't match");
    memset(deep, '(', sizeof(deep));
    snprintf(deep + 300, sizeof(deep) - 300, "a = 1");
    {
        char stmt[512];

        snprintf(stmt, sizeof(stmt), "SELECT * FROM T WHERE %s", deep);
        refused(stmt, "nests too deeply");
    }
    {
        char *big = malloc(3 * PQL_STATEMENT_MAX + 2);

        memset(big, ' ', 3 * PQL_STATEMENT_MAX + 1);
        big[3 * PQL_STATEMENT_MAX + 1] = '\0';
        refused(big, "too long");
        free(big);
    }
    /* more parameters than ?s */
    assert_null(parse_p("SELECT * FROM T", "[{\"S\":\"x\"}]", false));
    assert_string_equal(msg, "Number of parameters in request and statement don't match.");
    assert_int_equal(bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_select, setup, teardown),
        cmocka_unit_test_setup_teardown(test_select_params_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conditions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_or_in, setup, teardown),
        cmocka_unit_test_setup_teardown(test_precedence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_insert_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
