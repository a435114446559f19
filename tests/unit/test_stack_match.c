/* test_stack_match.c - the import comparison through stack_match.h: what a program gives
 * against what a provider reads back, normalized as the providers do. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stack_match.h"

/* The differences of @given against @read, joined with " | " (owned). */
static char *diff(const char *given, const char *read)
{
    cJSON *g = cJSON_Parse(given), *r = cJSON_Parse(read), *d = cJSON_CreateArray();
    const cJSON *x;
    char *s = calloc(1, 4096);
    int n;
    assert_non_null(g);
    assert_non_null(r);
    n = stack_match_inputs(g, r, d);
    assert_int_equal(n, cJSON_GetArraySize(d));
    cJSON_ArrayForEach(x, d)
    {
        if (*s)
            strcat(s, " | ");
        strncat(s, x->valuestring, 4095 - strlen(s));
    }
    cJSON_Delete(g);
    cJSON_Delete(r);
    cJSON_Delete(d);
    return s;
}

static void expect(const char *given, const char *read, const char *want)
{
    char *got = diff(given, read);
    if (strcmp(got, want) != 0)
        fail_msg("given %s read %s:\n got  '%s'\n want '%s'", given, read, got, want);
    free(got);
}

static void scalars(void **state)
{
    (void)state;
    expect("{\"billingMode\":\"PAY_PER_REQUEST\"}",
           "{\"billingMode\":\"PAY_PER_REQUEST\",\"readCapacity\":0}", "");
    expect("{\"billingMode\":\"PROVISIONED\"}", "{\"billingMode\":\"PAY_PER_REQUEST\"}",
           "billingMode: program \"PROVISIONED\", existing \"PAY_PER_REQUEST\"");
    /* coerced as the provider does; a property the read does not report is not compared */
    expect("{\"timeout\":\"30\",\"enabled\":true,\"forceDestroy\":true}",
           "{\"timeout\":30,\"enabled\":\"true\"}", "");
    expect("{\"timeout\":31,\"description\":null}", "{\"timeout\":30,\"description\":\"x\"}",
           "timeout: program 31, existing 30");
    /* an explicit null in the read: the resource has none */
    expect("{\"website\":{\"indexDocument\":\"index.html\"}}", "{\"website\":null}",
           "website: program {\"indexDocument\":\"index.html\"}, existing null");
}

static void documents(void **state)
{
    (void)state;
    /* the same policy: other spacing, key order, a one-element list for a string */
    expect("{\"policy\":{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
           "\"Action\":[\"s3:GetObject\",\"s3:PutObject\"],\"Resource\":\"*\"}]}}",
           "{\"policy\":\"{ \\\"Statement\\\": { \\\"Resource\\\": [\\\"*\\\"], \\\"Action\\\": "
           "[\\\"s3:PutObject\\\", \\\"s3:GetObject\\\"], \\\"Effect\\\": \\\"Allow\\\" }, "
           "\\\"Version\\\": \\\"2012-10-17\\\" }\"}",
           "");
    expect("{\"policy\":\"{\\\"Statement\\\":[{\\\"Effect\\\":\\\"Deny\\\"}]}\"}",
           "{\"policy\":\"{\\\"Statement\\\":[{\\\"Effect\\\":\\\"Allow\\\"}]}\"}",
           "policy.Statement[0].Effect: program \"Deny\", existing \"Allow\"");
    /* a document has every key compared: an extra statement key is a difference */
    expect("{\"p\":{\"A\":1,\"C\":[1,2]}}", "{\"p\":\"{\\\"A\\\":1,\\\"B\\\":2,\\\"C\\\":[1,3]}\"}",
           "p.C: program [1,2], existing [1,3] | p.B: program (none), existing 2");
    /* text that is not JSON is compared as text */
    expect("{\"p\":\"{not json\"}", "{\"p\":\"{not json\"}", "");
    expect("{\"p\":{\"A\":1}}", "{\"p\":\"plain\"}", "p: program {\"A\":1}, existing \"plain\"");
    cJSON *a = cJSON_Parse("\"[1, 2, {\\\"x\\\": [true]}]\""),
          *b = cJSON_Parse("[{\"x\":true},2,1]");
    assert_true(stack_match_doc(a, b));
    cJSON_Delete(a);
    cJSON_Delete(b);
}

static void maps_and_lists(void **state)
{
    (void)state;
    /* tags: every key on both sides */
    expect("{\"tags\":{\"Owner\":\"a\",\"Env\":\"dev\"}}",
           "{\"tags\":{\"Env\":\"dev\",\"Owner\":\"b\",\"Extra\":\"x\"}}",
           "tags.Owner: program \"a\", existing \"b\" | tags.Extra: program (none), existing "
           "\"x\"");
    expect("{\"environment\":{\"variables\":{\"A\":\"1\"}}}",
           "{\"environment\":{\"variables\":{}}}",
           "environment.variables.A: program \"1\", existing (none)");
    /* a nested block: only what the program gives */
    expect("{\"ttl\":{\"attributeName\":\"exp\",\"enabled\":true}}",
           "{\"ttl\":{\"attributeName\":\"exp\",\"enabled\":false}}",
           "ttl.enabled: program true, existing false");
    /* named elements matched by name, in any order; missing and extra ones named */
    expect("{\"globalSecondaryIndexes\":[{\"name\":\"b\",\"hashKey\":\"y\"},{\"name\":\"a\","
           "\"hashKey\":\"x\",\"projectionType\":\"ALL\"}]}",
           "{\"globalSecondaryIndexes\":[{\"name\":\"a\",\"hashKey\":\"x\",\"projectionType\":"
           "\"KEYS_ONLY\",\"readCapacity\":0},{\"name\":\"b\",\"hashKey\":\"y\"}]}",
           "globalSecondaryIndexes[a].projectionType: program \"ALL\", existing \"KEYS_ONLY\"");
    expect("{\"attributes\":[{\"name\":\"id\",\"type\":\"S\"}]}",
           "{\"attributes\":[{\"name\":\"id\",\"type\":\"S\"},{\"name\":\"ts\",\"type\":\"N\"}]}",
           "attributes[ts]: program (none), existing {\"name\":\"ts\",\"type\":\"N\"}");
    expect("{\"attributes\":[{\"name\":\"k\",\"type\":\"S\"}]}", "{\"attributes\":[]}",
           "attributes: program [{\"name\":\"k\",\"type\":\"S\"}], existing []");
    /* other lists as sets */
    expect("{\"managedPolicyArns\":[\"arn:b\",\"arn:a\"]}",
           "{\"managedPolicyArns\":[\"arn:a\",\"arn:b\"]}", "");
    expect("{\"managedPolicyArns\":[\"arn:a\"]}", "{\"managedPolicyArns\":[\"arn:a\",\"arn:b\"]}",
           "managedPolicyArns: program [\"arn:a\"], existing [\"arn:a\",\"arn:b\"]");
    expect("{\"rules\":[{\"status\":\"Enabled\",\"expiration\":{\"days\":30}}]}",
           "{\"rules\":[{\"id\":\"r1\",\"status\":\"Enabled\",\"expiration\":{\"days\":\"30\"}}]}",
           "");
    /* a long value is shortened */
    char *got =
        diff("{\"d\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
             "{\"d\":\"b\"}");
    assert_non_null(strstr(got, "...,"));
    free(got);
    /* one property at a time (refresh): tags still compared key for key */
    cJSON *g = cJSON_Parse("{\"A\":\"1\"}"), *r = cJSON_Parse("{\"A\":\"1\",\"B\":\"2\"}");
    assert_false(stack_match_value("tags", g, r));
    assert_true(stack_match_value("ttl", g, r));
    assert_true(stack_match_value("tags", g, g));
    cJSON_Delete(g);
    cJSON_Delete(r);
    /* a block against a scalar */
    expect("{\"ttl\":{\"enabled\":true}}", "{\"ttl\":\"x\"}",
           "ttl: program {\"enabled\":true}, existing \"x\"");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(scalars),
        cmocka_unit_test(documents),
        cmocka_unit_test(maps_and_lists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
