/* fuzz_stack_yaml.c - stack files through the YAML parser, the program checks,
 * the dependency graph and preview (no region is called: preview never does).
 * Whatever the bytes, each step either succeeds or reports an error with a
 * position, and frees everything. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stack_engine.h"
#include "stack_graph.h"
#include "stack_prog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct stack_prog *p = NULL;
    struct stack_graph *g = NULL;
    struct err e = {0};
    static char state_path[64];

    if (size > 64 * 1024)
        return 0;
    if (!*state_path) /* a state file that never exists: preview starts from nothing */
        snprintf(state_path, sizeof(state_path), "/tmp/fuzz-stack-%d/none.json", (int)getpid());
    if (stack_prog_parse((const char *)data, size, "Tandem.yaml", &p, &e) != ERR_OK) {
        if (!strstr(e.msg, "Tandem.yaml:"))
            abort(); /* every parse error carries its position */
        return 0;
    }
    if (stack_graph_build(p, &g, &e) == ERR_OK) {
        struct stack_opts o = {.dir = "/nonexistent",
                               .stack = "fuzz",
                               .state_path = state_path,
                               .account = "111122223333"};
        struct stack_result r;
        cJSON *config = cJSON_CreateObject();
        o.config = config;
        stack_preview(&o, p, &r, &e);
        stack_result_free(&r);
        cJSON_Delete(config);
    }
    stack_graph_free(g);
    stack_prog_free(p);
    return 0;
}
