/* fuzz_partiql.c - arbitrary bytes as a PartiQL statement (partiql.h) with
 * zero to two parameters; the expressions of a statement that parses go
 * through the expression parser (expr.h) as the executor hands them on.
 * Must never crash or leak. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "attr.h"
#include "expr.h"
#include "partiql.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static cJSON *params;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena *a;
    struct pql_stmt *st;
    struct pql_cond *terms[16];
    char msg[512];

    if (!params)
        params = cJSON_Parse("[{\"S\":\"a\"},{\"N\":\"1\"}]");
    a = arena_new();
    /* the parser reads @size bytes, not up to a NUL: hand it a copy to catch overreads */
    {
        char *text = malloc(size ? size : 1);

        memcpy(text, data, size);
        for (int np = 0; np <= 2; np++) {
            cJSON *p = cJSON_CreateArray();

            for (int i = 0; i < np; i++)
                cJSON_AddItemToArray(p, cJSON_Duplicate(cJSON_GetArrayItem(params, i), 1));
            st = pql_parse(a, text, size, np ? p : NULL, size % 2 == 0, msg, sizeof(msg));
            if (st) {
                struct expr_ctx ctx;
                struct expr_cond *c;
                struct expr_proj *pr;
                struct expr_update *u;

                expr_ctx_init(&ctx, a, st->names, st->values);
                if (st->where)
                    expr_parse_condition(&ctx, st->where->text, "Filter", &c, NULL);
                if (st->proj)
                    expr_parse_projection(&ctx, st->proj, &pr, NULL);
                if (st->update)
                    expr_parse_update(&ctx, st->update, &u, NULL);
                pql_terms(st->where, terms, 16);
            }
            cJSON_Delete(p);
        }
        free(text);
    }
    arena_free(a);
    return 0;
}
