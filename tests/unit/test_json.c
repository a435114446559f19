/* test_json.c - json: typed member reads, exact and case-insensitive. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "json.h"

static const char doc[] = "{\"Name\":\"t1\",\"Size\":42.5,\"On\":true,\"Off\":false,"
                          "\"Zero\":0,\"Null\":null,\"List\":[\"x\"],\"Num\":\"7\"}";

struct str_case {
    const char *name;
    const char *exact, *ci; /* what json_str / json_str_ci answer */
};

static void strings(void **state)
{
    static const struct str_case cases[] = {
        {"Name", "t1", "t1"},   {"name", NULL, "t1"}, {"NAME", NULL, "t1"}, {"Size", NULL, NULL},
        {"On", NULL, NULL},     {"Null", NULL, NULL}, {"List", NULL, NULL}, {"Num", "7", "7"},
        {"absent", NULL, NULL}, {"", NULL, NULL},
    };
    cJSON *o = cJSON_Parse(doc);

    (void)state;
    assert_non_null(o);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct str_case *c = &cases[i];
        const char *exact = json_str(o, c->name), *ci = json_str_ci(o, c->name);

        if (c->exact)
            assert_string_equal(exact, c->exact);
        else
            assert_null(exact);
        if (c->ci)
            assert_string_equal(ci, c->ci);
        else
            assert_null(ci);
    }
    /* borrowed: points into the document */
    assert_ptr_equal(json_str(o, "Name"), cJSON_GetObjectItem(o, "Name")->valuestring);
    cJSON_Delete(o);
}

static void numbers_and_booleans(void **state)
{
    cJSON *o = cJSON_Parse(doc);

    (void)state;
    assert_non_null(o);
    assert_true(json_num(o, "Size") == 42.5);
    assert_true(json_num(o, "size") == 0);
    assert_true(json_num_ci(o, "size") == 42.5);
    assert_true(json_num(o, "Num") == 0); /* a string is not a number */
    assert_true(json_num_ci(o, "on") == 0);
    assert_true(json_num(o, "Zero") == 0);
    assert_true(json_true(o, "On"));
    assert_false(json_true(o, "on"));
    assert_true(json_true_ci(o, "on"));
    assert_false(json_true(o, "Off"));
    assert_false(json_true_ci(o, "OFF"));
    assert_false(json_true(o, "Name"));
    assert_false(json_true_ci(o, "absent"));
    cJSON_Delete(o);
}

static void null_and_non_objects(void **state)
{
    cJSON *arr = cJSON_Parse("[\"Name\",1]"), *s = cJSON_CreateString("Name");

    (void)state;
    assert_null(json_str(NULL, "Name"));
    assert_null(json_str_ci(NULL, "Name"));
    assert_true(json_num(NULL, "Size") == 0);
    assert_true(json_num_ci(NULL, "Size") == 0);
    assert_false(json_true(NULL, "On"));
    assert_false(json_true_ci(NULL, "On"));
    assert_null(json_str(arr, "Name"));
    assert_null(json_str_ci(arr, "Name"));
    assert_null(json_str(s, "Name"));
    assert_true(json_num_ci(s, "Name") == 0);
    cJSON_Delete(arr);
    cJSON_Delete(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(strings),
        cmocka_unit_test(numbers_and_booleans),
        cmocka_unit_test(null_and_non_objects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
