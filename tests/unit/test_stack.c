/* test_stack.c - the stack engine through its headers: YAML positions, `${...}`
 * and built-ins, the dependency graph, atomic state, and preview of the
 * seed's stack (examples/tap/Tandem.yaml) and of state transitions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "stack_engine.h"
#include "stack_expr.h"
#include "stack_graph.h"
#include "stack_prog.h"
#include "stack_state.h"
#include "stack_yamldoc.h"

static char root[1024];

static void find_root(void)
{
    const char *f = __FILE__, *t = strstr(f, "tests/unit/");
    snprintf(root, sizeof(root), "%.*s", t ? (int)(t - f) : 0, f);
    if (!*root)
        snprintf(root, sizeof(root), "./");
}

static struct stack_prog *parse(const char *text, struct err *e)
{
    struct stack_prog *p = NULL;
    if (stack_prog_parse(text, strlen(text), "Tandem.yaml", &p, e))
        return NULL;
    return p;
}

/* ---- YAML and program errors carry file:line:column ---- */

static void yaml_positions(void **state)
{
    struct stack_node *n = NULL;
    const char *text = "a: 1\nb:\n  - x\n  - 'y'\n";
    (void)state;
    assert_int_equal(stack_yaml_parse(text, strlen(text), "f", &n, NULL), ERR_OK);
    assert_int_equal(n->kind, STACK_NODE_MAP);
    assert_int_equal(stack_node_get(n, "a")->line, 1);
    assert_int_equal(stack_node_get(n, "a")->col, 4);
    assert_int_equal(stack_node_get(n, "b")->items[1]->line, 4);
    assert_int_equal(stack_node_get(n, "b")->items[1]->col, 5);
    assert_false(stack_node_get(n, "b")->items[1]->plain);
    stack_node_free(n);
}

static void errors_have_positions(void **state)
{
    static const struct {
        const char *text;
        const char *want;
    } cases[] = {
        {"resources:\n  t:\n    type: aws:dynamodb:Table\n    propertie: {}\n",
         "Tandem.yaml:4:5: unknown field 'propertie'"},
        {"resources:\n  t:\n    properties: {}\n", "Tandem.yaml:2:3: resource 't' has no type"},
        {"name: x\nname: y\n", "Tandem.yaml:2:1: duplicate key 'name'"},
        {"a: [1, 2\n", "Tandem.yaml:2:1:"},
        {"runtime: nodejs\n", "Tandem.yaml:1:10: runtime must be yaml"},
        {"resources:\n  t:\n    type: aws:dynamodb:Table\n    options:\n      provider: ${nope}\n",
         "Tandem.yaml:5:17: provider 'nope' is not a resource"},
        {"resources:\n  a:\n    type: aws:s3:BucketV2\n    properties:\n      bucket: ${b.id}\n"
         "  b:\n    type: aws:s3:BucketV2\n    properties:\n      bucket: ${a.id}\n",
         "dependency cycle"},
        {"resources:\n  t:\n    type: aws:s3:BucketV2\n    options:\n      dependsOn:\n        - "
         "${x}\n",
         "Tandem.yaml:6:11: dependsOn: 'x' is not a resource"},
        {"resources:\n  t:\n    type: aws:s3:BucketV2\n    options:\n      bogus: 1\n",
         "Tandem.yaml:5:7: unknown resource option 'bogus'"},
        {"config:\n  x:\n    type: strin\n", "Tandem.yaml:3:11: config type must be"},
        {"resources:\n  t:\n    type: random:RandomPet\n    name: [a]\n",
         "Tandem.yaml:4:11: resource 't': name must be a non-empty string"},
        {"resources:\n  a$b:\n    type: random:RandomPet\n",
         "Tandem.yaml:2:3: resource name 'a$b' may not contain '$' or '['"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct err e = {0};
        struct stack_prog *p = parse(cases[i].text, &e);
        struct stack_graph *g = NULL;
        if (p) {
            assert_int_not_equal(stack_graph_build(p, &g, &e), ERR_OK);
            stack_prog_free(p);
        }
        if (!strstr(e.msg, cases[i].want))
            fail_msg("case %zu: got \"%s\", want \"%s\"", i, e.msg, cases[i].want);
    }
}

/* `name:` beside type is the logical name; a key may hold a '.' (Pulumi's getting-started) */
static void resource_name_field(void **state)
{
    struct err e = {0};
    struct stack_prog *p = parse("resources:\n  index.html:\n    type: aws:s3:BucketObject\n"
                                 "  t:\n    type: aws:dynamodb:Table\n    name: orders\n",
                                 &e);
    (void)state;
    assert_non_null(p);
    assert_int_equal(p->nres, 2);
    assert_string_equal(p->res[0].name, "index.html");
    assert_string_equal(p->res[0].logical, "index.html");
    assert_string_equal(p->res[1].name, "t");
    assert_string_equal(p->res[1].logical, "orders");
    stack_prog_free(p);
    /* option names in any case: the registry's examples write `dependson:` */
    p = parse("resources:\n  a:\n    type: random:RandomPet\n  b:\n    type: random:RandomPet\n"
              "    options:\n      dependson:\n        - ${a}\n      Protect: true\n",
              &e);
    assert_non_null(p);
    assert_non_null(p->res[1].depends_on);
    assert_true(p->res[1].protect);
    stack_prog_free(p);
}

/* ---- expressions ---- */

static const cJSON *test_lookup(void *ud, const char *name, struct err *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(ud, name);
    if (!v)
        err_set(e, ERR_NOTFOUND, "unknown name '%s'", name);
    return v;
}

static char *eval_text(const char *yaml, cJSON *names, struct err *e, bool *unknown)
{
    struct stack_node *n = NULL;
    struct stack_prog prog = {.file = "Tandem.yaml"};
    struct stack_eval ev = {.prog = &prog, .dir = root, .lookup = test_lookup, .ud = names};
    cJSON *out = NULL;
    char *s = NULL;
    if (stack_yaml_parse(yaml, strlen(yaml), "Tandem.yaml", &n, e) == ERR_OK &&
        stack_expr_eval(&ev, stack_node_get(n, "v"), &out, e) == ERR_OK)
        s = cJSON_PrintUnformatted(out);
    if (unknown)
        *unknown = ev.unknown;
    cJSON_Delete(out);
    stack_node_free(n);
    return s;
}

static void interpolation_and_builtins(void **state)
{
    cJSON *names = cJSON_Parse("{\"t\": {\"name\": \"tap-dev-global\", \"arn\": "
                               "\"arn:aws:dynamodb:us-east-1:111122223333:table/tap-dev-global\", "
                               "\"list\": [1, {\"k\": \"deep\"}]}, \"suffix\": \"dev\", "
                               "\"u\": {\"arn\": \"" STACK_UNKNOWN "\"}}");
    static const struct {
        const char *yaml, *want;
    } cases[] = {
        {"v: tap-${suffix}-global", "\"tap-dev-global\""},
        {"v: ${t.list}", "[1,{\"k\":\"deep\"}]"},
        {"v: ${t.list[1].k}", "\"deep\""},
        {"v: ${t[\"name\"]}", "\"tap-dev-global\""},
        {"v: $${literal}", "\"${literal}\""},
        {"v: 42", "42"},
        {"v: '42'", "\"42\""},
        {"v: true", "true"},
        {"v: {fn::toJSON: {a: [1, x]}}", "\"{\\\"a\\\":[1,\\\"x\\\"]}\""},
        {"v: {fn::join: ['-', [a, '${suffix}', 3]]}", "\"a-dev-3\""},
        {"v: {fn::select: [4, {fn::split: [':', '${t.arn}']}]}", "\"111122223333\""},
        {"v: {fn::secret: s3cr3t}", "\"s3cr3t\""},
        {"v: {fn::stringAsset: hi}", "{\"__asset\":\"hi\"}"},
        {"v: x${u.arn}", "\"" STACK_UNKNOWN "\""},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct err e = {0};
        char *got = eval_text(cases[i].yaml, names, &e, NULL);
        if (!got || strcmp(got, cases[i].want))
            fail_msg("case %zu (%s): got %s (%s), want %s", i, cases[i].yaml, got ? got : "NULL",
                     e.msg, cases[i].want);
        free(got);
    }
    {
        struct err e = {0};
        char *got = eval_text("x: 1\nv: ${nosuch.a}\n", names, &e, NULL);
        assert_null(got);
        assert_non_null(strstr(e.msg, "Tandem.yaml:2:4:"));
        got = eval_text("v:\n  fn::invoke: {function: aws:x}\n", names, &e, NULL);
        assert_null(got);
        assert_non_null(strstr(e.msg, "Tandem.yaml:2:15: fn::invoke: unknown function 'aws:x'"));
        got = eval_text("v: {fn::nope: 1}\n", names, &e, NULL);
        assert_null(got);
        assert_non_null(strstr(e.msg, "unknown built-in function 'fn::nope'"));
        got = eval_text("v: ${t.missing}\n", names, &e, NULL);
        assert_null(got);
        assert_non_null(strstr(e.msg, "'t' has no property 'missing'"));
    }
    {
        struct err e = {0};
        bool unknown = false;
        char *got = eval_text("v: {fn::toJSON: {a: '${u.arn}'}}", names, &e, &unknown);
        assert_string_equal(got, "\"" STACK_UNKNOWN "\"");
        assert_true(unknown);
        free(got);
    }
    {
        struct err e = {0};
        char *got = eval_text("v: {fn::fileArchive: examples/tap/function}", names, &e, NULL);
        assert_non_null(got);
        assert_non_null(strstr(got, "\"__archive\""));
        assert_non_null(strstr(got, "\"hash\""));
        free(got);
    }
    cJSON_Delete(names);
}

/* ---- graph ---- */

static void graph_order_and_waves(void **state)
{
    struct err e = {0};
    struct stack_graph *g = NULL;
    struct stack_prog *p =
        parse("variables:\n  v: ${a.arn}\nresources:\n"
              "  c:\n    type: aws:s3:BucketV2\n    properties: {bucket: '${v}'}\n"
              "  a:\n    type: aws:s3:BucketV2\n"
              "  b:\n    type: aws:s3:BucketV2\n    options: {dependsOn: ['${a}']}\n"
              "  d:\n    type: aws:s3:BucketV2\n",
              &e);
    size_t pos[4];
    (void)state;
    assert_non_null(p);
    assert_int_equal(stack_graph_build(p, &g, &e), ERR_OK);
    for (size_t k = 0; k < g->n; k++)
        pos[g->order[k]] = k;
    assert_true(pos[1] < pos[0]); /* a before c (through the variable) */
    assert_true(pos[1] < pos[2]); /* a before b (dependsOn) */
    assert_int_equal(g->wave[1], 0);
    assert_int_equal(g->wave[3], 0);
    assert_int_equal(g->wave[0], 1);
    assert_int_equal(g->wave[2], 1);
    assert_int_equal(g->nwaves, 2);
    stack_graph_free(g);
    stack_prog_free(p);
}

/* ---- state ---- */

static void state_atomic_save(void **state)
{
    char dir[] = "/tmp/tandem-state-XXXXXX", path[256];
    cJSON *st = NULL, *r;
    struct err e = {0};
    struct stat sb;
    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/state.json", dir);
    assert_int_equal(stack_state_load(path, &st, &e), ERR_OK); /* missing: empty */
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(st, "resources")), 0);
    r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "name", "t");
    cJSON_AddStringToObject(r, "status", "created");
    stack_state_put(st, r);
    assert_int_equal(stack_state_save(path, st, &e), ERR_OK);
    cJSON_Delete(st);
    assert_int_equal(stack_state_load(path, &st, &e), ERR_OK);
    assert_string_equal(json_str(stack_state_res(st, "t"), "status"), "created");
    stack_state_remove(st, "t");
    assert_null(stack_state_res(st, "t"));
    cJSON_Delete(st);
    {
        char tmp[300];
        snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, (int)getpid());
        assert_int_not_equal(stat(tmp, &sb), 0); /* no temporary left behind */
    }
    {
        FILE *f = fopen(path, "w");
        fputs("{not json", f);
        fclose(f);
        assert_int_equal(stack_state_load(path, &st, &e), ERR_INVALID);
    }
    unlink(path);
    rmdir(dir);
}

/* ---- preview of the seed's stack ---- */

struct previewed {
    struct stack_result res;
    cJSON *config;
    char dir[64];
    char state_path[128];
};

static enum err_code run_preview(struct previewed *pv, const char *state_json,
                                 const char *prog_text, struct err *e)
{
    struct stack_prog *p = NULL;
    struct stack_opts o = {0};
    char path[1200];
    enum err_code rc;

    snprintf(pv->dir, sizeof(pv->dir), "/tmp/tandem-pv-XXXXXX");
    assert_non_null(mkdtemp(pv->dir));
    snprintf(pv->state_path, sizeof(pv->state_path), "%s/state.json", pv->dir);
    if (state_json) {
        FILE *f = fopen(pv->state_path, "w");
        fputs(state_json, f);
        fclose(f);
    }
    if (prog_text) {
        rc = stack_prog_parse(prog_text, strlen(prog_text), "Tandem.yaml", &p, e);
    } else {
        snprintf(path, sizeof(path), "%s/examples/tap/Tandem.yaml", root);
        rc = stack_prog_load(path, &p, e);
    }
    if (rc)
        return rc;
    snprintf(path, sizeof(path), "%s/examples/tap", root);
    o.dir = path;
    o.stack = "dev";
    o.state_path = pv->state_path;
    o.config = pv->config;
    o.account = "111122223333";
    rc = stack_preview(&o, p, &pv->res, e);
    stack_prog_free(p);
    return rc;
}

static void previewed_free(struct previewed *pv)
{
    stack_result_free(&pv->res);
    cJSON_Delete(pv->config);
    unlink(pv->state_path);
    rmdir(pv->dir);
}

static const struct stack_step *step(const struct previewed *pv, const char *name)
{
    for (size_t i = 0; i < pv->res.nsteps; i++)
        if (!strcmp(pv->res.steps[i].name, name))
            return &pv->res.steps[i];
    fail_msg("no step %s", name);
    return NULL;
}

static const char *in_str(const struct stack_step *s, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(s->inputs, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static void tap_names_carry_suffix(void **state)
{
    struct previewed pv = {.config = cJSON_Parse("{\"environmentSuffix\": \"pr42\"}")};
    struct err e = {0};
    (void)state;
    unsetenv("ENVIRONMENT_SUFFIX");
    assert_int_equal(run_preview(&pv, NULL, NULL, &e), ERR_OK);
    assert_int_equal(pv.res.nsteps, 19);
    assert_int_equal(pv.res.counts[STACK_OP_CREATE], 19);
    assert_string_equal(in_str(step(&pv, "globalTable"), "name"), "tap-pr42-global");
    assert_string_equal(in_str(step(&pv, "primaryFunction"), "name"), "tap-pr42-primary");
    assert_string_equal(in_str(step(&pv, "secondaryFunction"), "name"), "tap-pr42-secondary");
    assert_string_equal(in_str(step(&pv, "primaryBucket"), "bucket"), "tap-pr42-primary-us-east-1");
    assert_string_equal(in_str(step(&pv, "secondaryBucket"), "bucket"),
                        "tap-pr42-secondary-us-west-2");
    assert_string_equal(in_str(step(&pv, "lambdaRole"), "name"), "tap-pr42-lambda");
    assert_string_equal(step(&pv, "primaryFunction")->region, "us-east-1");
    assert_string_equal(step(&pv, "secondaryFunction")->region, "us-west-2");
    assert_string_equal(step(&pv, "secondaryBucket")->region, "us-west-2");
    previewed_free(&pv);

    /* ENVIRONMENT_SUFFIX wins over config, as in the seed's bin/tap.ts */
    pv = (struct previewed){.config = cJSON_Parse("{\"environmentSuffix\": \"pr42\"}")};
    setenv("ENVIRONMENT_SUFFIX", "synth7", 1);
    assert_int_equal(run_preview(&pv, NULL, NULL, &e), ERR_OK);
    assert_string_equal(in_str(step(&pv, "globalTable"), "name"), "tap-synth7-global");
    unsetenv("ENVIRONMENT_SUFFIX");
    previewed_free(&pv);
}

static void tap_defaults_without_config(void **state)
{
    struct previewed pv = {.config = cJSON_CreateObject()};
    struct err e = {0};
    const struct stack_step *t;
    (void)state;
    unsetenv("ENVIRONMENT_SUFFIX");
    assert_int_equal(run_preview(&pv, NULL, NULL, &e), ERR_OK);
    t = step(&pv, "globalTable");
    assert_string_equal(in_str(t, "name"), "tap-dev-global");
    assert_string_equal(in_str(t, "billingMode"), "PAY_PER_REQUEST");
    assert_string_equal(in_str(t, "hashKey"), "id");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(t->inputs, "streamEnabled")));
    assert_string_equal(in_str(t, "streamViewType"), "NEW_AND_OLD_IMAGES");
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(t->inputs, "replicas"), 0),
                            "regionName")
            ->valuestring,
        "us-west-2");
    assert_string_equal(t->region, "us-east-1");
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(step(&pv, "primaryBucketVersioning")->inputs,
                                                "versioningConfiguration"),
                            "status")
            ->valuestring,
        "Enabled");
    assert_string_equal(in_str(step(&pv, "primaryFunctionUrl"), "authorizationType"), "NONE");
    previewed_free(&pv);
}

static void tap_tags_and_outputs(void **state)
{
    static const char *const tagged[] = {
        "globalTable", "primaryBucket",   "secondaryBucket",   "replicationRole",
        "lambdaRole",  "primaryFunction", "secondaryFunction", NULL};
    static const char *const outs[] = {"primaryLambdaUrl",    "secondaryLambdaUrl",
                                       "globalTableName",     "primaryBucketName",
                                       "secondaryBucketName", NULL};
    struct previewed pv = {.config = cJSON_Parse("{\"environmentSuffix\": \"qa\"}")};
    struct err e = {0};
    (void)state;
    unsetenv("ENVIRONMENT_SUFFIX");
    assert_int_equal(run_preview(&pv, NULL, NULL, &e), ERR_OK);
    for (size_t i = 0; tagged[i]; i++) {
        const cJSON *tags = cJSON_GetObjectItem(step(&pv, tagged[i])->inputs, "tags");
        assert_string_equal(cJSON_GetObjectItem(tags, "Environment")->valuestring, "qa");
        assert_string_equal(cJSON_GetObjectItem(tags, "Project")->valuestring, "tap");
    }
    assert_int_equal(cJSON_GetArraySize(pv.res.outputs), 5);
    for (size_t i = 0; outs[i]; i++)
        assert_non_null(cJSON_GetObjectItem(pv.res.outputs, outs[i]));
    assert_string_equal(cJSON_GetObjectItem(pv.res.outputs, "globalTableName")->valuestring,
                        "tap-qa-global");
    assert_string_equal(cJSON_GetObjectItem(pv.res.outputs, "primaryBucketName")->valuestring,
                        "tap-qa-primary-us-east-1");
    assert_string_equal(cJSON_GetObjectItem(pv.res.outputs, "secondaryBucketName")->valuestring,
                        "tap-qa-secondary-us-west-2");
    /* URLs are made by the region: unknown until up */
    assert_string_equal(cJSON_GetObjectItem(pv.res.outputs, "primaryLambdaUrl")->valuestring,
                        STACK_UNKNOWN);
    previewed_free(&pv);
}

/* Every statement allows named actions (no wildcard) on named resources. */
static cJSON *policy_of(const struct stack_step *s)
{
    cJSON *doc = cJSON_Parse(in_str(s, "policy"));
    const cJSON *st;
    assert_non_null(doc);
    cJSON_ArrayForEach(st, cJSON_GetObjectItem(doc, "Statement"))
    {
        const cJSON *a, *r;
        assert_string_equal(cJSON_GetObjectItem(st, "Effect")->valuestring, "Allow");
        cJSON_ArrayForEach(a, cJSON_GetObjectItem(st, "Action"))
            assert_null(strchr(a->valuestring, '*'));
        r = cJSON_GetObjectItem(st, "Resource");
        if (cJSON_IsString(r))
            assert_string_not_equal(r->valuestring, "*");
        cJSON_ArrayForEach(r, cJSON_GetObjectItem(st, "Resource"))
        {
            if (cJSON_IsString(r))
                assert_string_not_equal(r->valuestring, "*");
        }
    }
    return doc;
}

static bool allows(const cJSON *doc, const char *action, const char *resource)
{
    const cJSON *st, *a, *r;
    cJSON_ArrayForEach(st, cJSON_GetObjectItem(doc, "Statement"))
    {
        bool act = false, res = false;
        cJSON_ArrayForEach(a, cJSON_GetObjectItem(st, "Action")) act =
            act || !strcmp(a->valuestring, action);
        r = cJSON_GetObjectItem(st, "Resource");
        if (cJSON_IsString(r))
            res = !strcmp(r->valuestring, resource);
        cJSON_ArrayForEach(r, cJSON_GetObjectItem(st, "Resource")) res =
            res || (cJSON_IsString(r) && !strcmp(r->valuestring, resource));
        if (act && res)
            return true;
    }
    return false;
}

static void tap_roles_least_privilege(void **state)
{
    struct previewed pv = {.config = cJSON_CreateObject()};
    struct err e = {0};
    cJSON *doc, *trust;
    (void)state;
    unsetenv("ENVIRONMENT_SUFFIX");
    assert_int_equal(run_preview(&pv, NULL, NULL, &e), ERR_OK);

    doc = policy_of(step(&pv, "lambdaTablePolicy"));
    assert_true(allows(doc, "dynamodb:PutItem",
                       "arn:aws:dynamodb:us-east-1:111122223333:table/tap-dev-global"));
    assert_true(allows(doc, "dynamodb:PutItem",
                       "arn:aws:dynamodb:us-west-2:111122223333:table/tap-dev-global"));
    assert_false(allows(doc, "dynamodb:DeleteTable",
                        "arn:aws:dynamodb:us-east-1:111122223333:table/tap-dev-global"));
    assert_false(allows(doc, "dynamodb:DeleteItem",
                        "arn:aws:dynamodb:us-east-1:111122223333:table/tap-dev-global"));
    assert_string_equal(in_str(step(&pv, "lambdaTablePolicy"), "role"), "tap-dev-lambda");
    cJSON_Delete(doc);

    doc = policy_of(step(&pv, "replicationPolicy"));
    assert_true(allows(doc, "s3:GetObjectVersionForReplication",
                       "arn:aws:s3:::tap-dev-primary-us-east-1/*"));
    assert_true(allows(doc, "s3:ReplicateObject", "arn:aws:s3:::tap-dev-secondary-us-west-2/*"));
    assert_false(allows(doc, "s3:ReplicateObject", "arn:aws:s3:::tap-dev-primary-us-east-1/*"));
    assert_false(allows(doc, "s3:PutObject", "arn:aws:s3:::tap-dev-secondary-us-west-2/*"));
    cJSON_Delete(doc);

    trust = cJSON_Parse(in_str(step(&pv, "lambdaRole"), "assumeRolePolicy"));
    assert_string_equal(
        cJSON_GetObjectItem(
            cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(trust, "Statement"), 0),
                                "Principal"),
            "Service")
            ->valuestring,
        "lambda.amazonaws.com");
    cJSON_Delete(trust);
    assert_string_equal(in_str(step(&pv, "lambdaBasicExecution"), "policyArn"),
                        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole");
    assert_string_equal(in_str(step(&pv, "replicationConfig"), "role"),
                        "arn:aws:iam::111122223333:role/tap-dev-s3-replication");
    previewed_free(&pv);
}

/* ---- state transitions seen by preview ---- */

static const char *small =
    "name: t\nresources:\n"
    "  t:\n    type: aws:dynamodb:Table\n    properties:\n"
    "      name: tbl\n      hashKey: id\n      billingMode: PAY_PER_REQUEST\n";

static void transitions(void **state)
{
    static const struct {
        const char *state_json;
        enum stack_op op;
        const char *changed;
    } cases[] = {
        /* nothing recorded: create */
        {NULL, STACK_OP_CREATE, ""},
        /* same inputs: nothing to do */
        {"{\"resources\":[{\"name\":\"t\",\"type\":\"aws:dynamodb:Table\",\"status\":\"created\","
         "\"id\":\"tbl\",\"region\":\"us-east-1\",\"endpoint\":\"local\",\"inputs\":{\"name\":"
         "\"tbl\",\"hashKey\":\"id\",\"billingMode\":\"PAY_PER_REQUEST\"},\"outputs\":{}}]}",
         STACK_OP_SAME, ""},
        /* billing mode differs: update in place, that property only */
        {"{\"resources\":[{\"name\":\"t\",\"type\":\"aws:dynamodb:Table\",\"status\":\"created\","
         "\"id\":\"tbl\",\"region\":\"us-east-1\",\"endpoint\":\"local\",\"inputs\":{\"name\":"
         "\"tbl\",\"hashKey\":\"id\",\"billingMode\":\"PROVISIONED\"},\"outputs\":{}}]}",
         STACK_OP_UPDATE, "billingMode"},
        /* key differs: replace */
        {"{\"resources\":[{\"name\":\"t\",\"type\":\"aws:dynamodb:Table\",\"status\":\"created\","
         "\"id\":\"tbl\",\"region\":\"us-east-1\",\"endpoint\":\"local\",\"inputs\":{\"name\":"
         "\"tbl\",\"hashKey\":\"pk\",\"billingMode\":\"PAY_PER_REQUEST\"},\"outputs\":{}}]}",
         STACK_OP_REPLACE, "hashKey"},
        /* an interrupted create: create again (adopting what exists) */
        {"{\"resources\":[{\"name\":\"t\",\"type\":\"aws:dynamodb:Table\",\"status\":\"creating\","
         "\"region\":\"us-east-1\",\"endpoint\":\"local\",\"inputs\":{\"name\":"
         "\"tbl\",\"hashKey\":\"id\",\"billingMode\":\"PAY_PER_REQUEST\"},\"outputs\":{}}]}",
         STACK_OP_CREATE, ""},
        /* another region: replace */
        {"{\"resources\":[{\"name\":\"t\",\"type\":\"aws:dynamodb:Table\",\"status\":\"created\","
         "\"id\":\"tbl\",\"region\":\"eu-west-1\",\"endpoint\":\"local\",\"inputs\":{\"name\":"
         "\"tbl\",\"hashKey\":\"id\",\"billingMode\":\"PAY_PER_REQUEST\"},\"outputs\":{}}]}",
         STACK_OP_REPLACE, ""},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct previewed pv = {.config = cJSON_CreateObject()};
        struct err e = {0};
        const struct stack_step *s;
        assert_int_equal(run_preview(&pv, cases[i].state_json, small, &e), ERR_OK);
        s = step(&pv, "t");
        if (s->op != cases[i].op)
            fail_msg("case %zu: op %s, want %s", i, stack_op_name(s->op),
                     stack_op_name(cases[i].op));
        if (*cases[i].changed) {
            assert_int_equal(cJSON_GetArraySize(s->changed), 1);
            assert_string_equal(cJSON_GetArrayItem(s->changed, 0)->valuestring, cases[i].changed);
        }
        previewed_free(&pv);
    }
    { /* a resource gone from the program: delete */
        struct previewed pv = {.config = cJSON_CreateObject()};
        struct err e = {0};
        assert_int_equal(
            run_preview(&pv,
                        "{\"resources\":[{\"name\":\"old\",\"type\":\"aws:s3:BucketV2\","
                        "\"status\":\"created\",\"id\":\"b\",\"region\":\"us-east-1\"}]}",
                        small, &e),
            ERR_OK);
        assert_int_equal(step(&pv, "old")->op, STACK_OP_DELETE);
        assert_int_equal(pv.res.writes, 0);
        previewed_free(&pv);
    }
    { /* missing required config names the declaration */
        struct previewed pv = {.config = cJSON_CreateObject()};
        struct err e = {0};
        assert_int_equal(run_preview(&pv, NULL, "config:\n  region:\n    type: string\n", &e),
                         ERR_INVALID);
        assert_non_null(strstr(e.msg, "Tandem.yaml:2:3: missing required configuration value "
                                      "'region'"));
        previewed_free(&pv);
    }
    { /* unknown type points at it */
        struct previewed pv = {.config = cJSON_CreateObject()};
        struct err e = {0};
        assert_int_equal(run_preview(&pv, NULL, "resources:\n  x:\n    type: aws:ec2:Vpc\n", &e),
                         ERR_INVALID);
        assert_non_null(strstr(e.msg, "Tandem.yaml:3:11: unknown resource type 'aws:ec2:Vpc'"));
        previewed_free(&pv);
    }
}

/* options.customTimeouts: Go durations as Pulumi writes them, per operation, in ms */
static void custom_timeouts(void **state)
{
    static const struct {
        const char *v;
        long ms;
    } ok[] = {{"30s", 30000}, {"5m", 300000},     {"1h30m", 5400000}, {"1.5h", 5400000},
              {"500ms", 500}, {"2m3.5s", 123500}, {"0s", 0},          {"1000000us", 1000}};
    static const char *const bad[] = {"soon", "5",     "m",   "-1s", "1h 2m",
                                      "5d",   "0x10s", "inf", "\"\""};
    struct err e = {0};
    char text[256];
    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        struct stack_prog *p;
        snprintf(text, sizeof(text),
                 "name: x\nresources:\n  t:\n    type: aws:s3:BucketV2\n    options:\n"
                 "      customTimeouts: {update: %s, delete: 1m}\n",
                 ok[i].v);
        p = parse(text, &e);
        assert_non_null(p);
        assert_int_equal(p->res[0].timeout_ms[STACK_TIMEOUT_CREATE], 0);
        assert_int_equal(p->res[0].timeout_ms[STACK_TIMEOUT_UPDATE], ok[i].ms);
        assert_int_equal(p->res[0].timeout_ms[STACK_TIMEOUT_DELETE], 60000);
        stack_prog_free(p);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text),
                 "name: x\nresources:\n  t:\n    type: aws:s3:BucketV2\n    options:\n"
                 "      customTimeouts: {create: %s}\n",
                 bad[i]);
        assert_null(parse(text, &e));
        assert_non_null(strstr(e.msg, "customTimeouts.create must be a duration"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(custom_timeouts),
        cmocka_unit_test(yaml_positions),
        cmocka_unit_test(errors_have_positions),
        cmocka_unit_test(resource_name_field),
        cmocka_unit_test(interpolation_and_builtins),
        cmocka_unit_test(graph_order_and_waves),
        cmocka_unit_test(state_atomic_save),
        cmocka_unit_test(tap_names_carry_suffix),
        cmocka_unit_test(tap_defaults_without_config),
        cmocka_unit_test(tap_tags_and_outputs),
        cmocka_unit_test(tap_roles_least_privilege),
        cmocka_unit_test(transitions),
    };
    find_root();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
