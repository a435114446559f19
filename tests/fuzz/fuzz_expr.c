/* fuzz_expr.c - arbitrary bytes as a condition and as a projection expression,
 * with a fixed names/values context and a fixed item: parse and, if parsed,
 * evaluate or project. Must never crash or leak. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "attr.h"
#include "expr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static cJSON *item, *names, *values;

static void init(void)
{
    item = cJSON_Parse(
        "{\"id\":{\"S\":\"abc\"},\"n\":{\"N\":\"42\"},\"b\":{\"B\":\"AQID\"},"
        "\"ss\":{\"SS\":[\"a\",\"b\"]},\"ns\":{\"NS\":[\"1\",\"2\"]},\"bs\":{\"BS\":[\"AQI=\"]},"
        "\"t\":{\"BOOL\":true},\"z\":{\"NULL\":true},"
        "\"l\":{\"L\":[{\"S\":\"x\"},{\"M\":{\"k\":{\"N\":\"1\"}}},{\"L\":[]}]},"
        "\"m\":{\"M\":{\"a\":{\"M\":{\"b\":{\"S\":\"c\"}}},\"l\":{\"L\":[{\"N\":\"3\"}]}}}}");
    names = cJSON_Parse("{\"#a\":\"id\",\"#b\":\"m\",\"#c\":\"l\",\"#d\":\"a.b\"}");
    values = cJSON_Parse("{\":s\":{\"S\":\"abc\"},\":n\":{\"N\":\"1\"},\":b\":{\"B\":\"AQ==\"},"
                         "\":t\":{\"S\":\"S\"},\":bool\":{\"BOOL\":false},\":nul\":{\"NULL\":true},"
                         "\":ss\":{\"SS\":[\"a\"]},\":l\":{\"L\":[{\"S\":\"x\"}]},"
                         "\":m\":{\"M\":{\"k\":{\"N\":\"1\"}}},\":hi\":{\"N\":\"100\"}}");
    attr_validate_item(item, NULL);
    for (cJSON *v = values->child; v; v = v->next)
        attr_validate(v, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena *a;
    struct expr_ctx ctx;
    struct expr_cond *x;
    struct expr_proj *p;
    char *text;
    bool r;

    if (!item)
        init();
    text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    a = arena_new();
    expr_ctx_init(&ctx, a, names, values);
    if (expr_parse_condition(&ctx, text, "ConditionExpression", &x, NULL) == ERR_OK) {
        expr_eval_condition(x, item, &r, NULL);
        expr_eval_condition(x, NULL, &r, NULL);
    }
    if (expr_parse_projection(&ctx, text, &p, NULL) == ERR_OK)
        cJSON_Delete(expr_project(p, item));
    expr_check_unused(&ctx, NULL);
    arena_free(a);
    free(text);
    return 0;
}
