/* fuzz_update_expr.c - arbitrary bytes as an UpdateExpression with a fixed
 * names/values context: parse and, if parsed, apply to a fixed item and to
 * an empty one, and project the updated paths. Must never crash or leak. */
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
    values = cJSON_Parse(
        "{\":s\":{\"S\":\"abc\"},\":n\":{\"N\":\"1\"},\":b\":{\"B\":\"AQ==\"},"
        "\":ss\":{\"SS\":[\"a\"]},\":ns\":{\"NS\":[\"7\"]},\":l\":{\"L\":[{\"S\":\"x\"}]},"
        "\":m\":{\"M\":{\"k\":{\"N\":\"1\"}}},"
        "\":big\":{\"N\":\"9.9999999999999999999999999999999999999E+125\"}}");
    attr_validate_item(item, NULL);
    for (cJSON *v = values->child; v; v = v->next)
        attr_validate(v, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena *a;
    struct expr_ctx ctx;
    struct expr_update *u;
    char *text;

    if (!item)
        init();
    text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    a = arena_new();
    expr_ctx_init(&ctx, a, names, values);
    if (expr_parse_update(&ctx, text, &u, NULL) == ERR_OK) {
        cJSON *copy = cJSON_Duplicate(item, true);
        cJSON *empty = cJSON_CreateObject();

        expr_apply_update(u, copy, NULL);
        expr_apply_update(u, empty, NULL);
        cJSON_Delete(expr_update_project(u, copy));
        expr_update_key_touched(u, "id", "n");
        cJSON_Delete(copy);
        cJSON_Delete(empty);
    }
    expr_check_unused(&ctx, NULL);
    arena_free(a);
    free(text);
    return 0;
}
