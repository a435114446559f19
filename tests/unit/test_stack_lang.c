/* test_stack_lang.c - Pulumi YAML as issue 9 reads it: every built-in and expression form
 * with its error cases, invokes, project files (Pulumi.yaml, Main.yaml, main:), resource
 * options in the plan (ignoreChanges, replaceOnChanges, import, get), "did you mean"
 * diagnostics, auto-naming rules and the random provider in preview. */
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
#include "stack_invoke.h"
#include "stack_prog.h"
#include "stack_provider.h"
#include "stack_yamldoc.h"

static char tmp[64];

static void write_file(const char *rel, const char *text)
{
    char path[256];
    FILE *f;
    snprintf(path, sizeof(path), "%s/%s", tmp, rel);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmp, sizeof(tmp), "/tmp/tandem-lang-XXXXXX");
    assert_non_null(mkdtemp(tmp));
    write_file("hello.txt", "hello");
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
    return system(cmd) == 0 ? 0 : -1;
}

static const cJSON *lookup(void *ud, const char *name, struct err *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(ud, name);
    if (!v)
        err_set(e, ERR_NOTFOUND, "unknown name '%s'", name);
    return v;
}

/* evaluate `v:` of @yaml; the value printed, or NULL with @e set */
static char *eval(const char *yaml, struct err *e)
{
    struct stack_node *n = NULL;
    struct stack_prog prog = {.file = "Pulumi.yaml"};
    cJSON *names =
        cJSON_Parse("{\"s\": \"abc\", \"list\": [\"x\", \"y\", \"z\"], "
                    "\"east\": {\"region\": \"us-east-2\"}, \"u\": \"" STACK_UNKNOWN "\"}");
    struct stack_eval ev = {.prog = &prog,
                            .dir = tmp,
                            .lookup = lookup,
                            .ud = names,
                            .region = "eu-west-1",
                            .account = "111122223333"};
    cJSON *out = NULL;
    char *s = NULL;
    if (stack_yaml_parse(yaml, strlen(yaml), "Pulumi.yaml", &n, e) == ERR_OK &&
        stack_expr_eval(&ev, stack_node_get(n, "v"), &out, e) == ERR_OK)
        s = cJSON_PrintUnformatted(out);
    cJSON_Delete(out);
    cJSON_Delete(names);
    stack_node_free(n);
    return s;
}

static void expect(const char *yaml, const char *want)
{
    struct err e = {0};
    char *got = eval(yaml, &e);
    if (!got || strcmp(got, want))
        fail_msg("%s: got %s (%s), want %s", yaml, got ? got : "NULL", e.msg, want);
    free(got);
}

static void expect_error(const char *yaml, const char *want)
{
    struct err e = {0};
    char *got = eval(yaml, &e);
    if (got || !strstr(e.msg, want))
        fail_msg("%s: got %s / '%s', want an error with '%s'", yaml, got ? got : "NULL", e.msg,
                 want);
}

static void builtins_values(void **state)
{
    (void)state;
    expect("v: {fn::toBase64: hi}", "\"aGk=\"");
    expect("v: {Fn::toBase64: hi}", "\"aGk=\"");
    expect("v: {fn::fromBase64: aGVsbG8=}", "\"hello\"");
    expect("v: {fn::fromBase64: {fn::toBase64: '${s}'}}", "\"abc\"");
    expect("v: {fn::length: '${list}'}", "3");
    expect("v: {fn::length: {a: 1, b: 2}}", "2");
    expect("v: {fn::length: '${s}'}", "3");
    expect("v: {fn::sha1: abc}", "\"a9993e364706816aba3e25717850c26c9cd0d89d\"");
    expect("v: {fn::filebase64: hello.txt}", "\"aGVsbG8=\"");
    expect("v: {fn::filebase64sha256: hello.txt}",
           "\"LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=\"");
    expect("v: {fn::readFile: hello.txt}", "\"hello\"");
    expect("v: {fn::join: [',', '${list}']}", "\"x,y,z\"");
    expect("v: {fn::select: [2, '${list}']}", "\"z\"");
    expect("v: {fn::split: ['b', '${s}']}", "[\"a\",\"c\"]");
    expect("v: {fn::toJSON: {Version: 2012-10-17, n: 1}}",
           "\"{\\\"Version\\\":\\\"2012-10-17\\\",\\\"n\\\":1}\"");
    expect("v: {fn::secret: '${s}'}", "\"abc\"");
    expect("v: {fn::stringAsset: text}", "{\"__asset\":\"text\"}");
    expect("v: {fn::length: '${u}'}", "\"" STACK_UNKNOWN "\"");
    expect("v: {fn::toBase64: 'x${u}'}", "\"" STACK_UNKNOWN "\"");
    {
        struct err e = {0};
        char *got = eval("v: {fn::fileAsset: hello.txt}", &e);
        assert_non_null(got);
        assert_non_null(strstr(got, "\"__file\""));
        assert_non_null(
            strstr(got, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"));
        free(got);
        got = eval("v: {fn::assetArchive: {a.txt: {fn::stringAsset: x}, "
                   "b.txt: {fn::fileAsset: hello.txt}}}",
                   &e);
        assert_non_null(got);
        assert_non_null(strstr(got, "\"__assets\""));
        free(got);
    }
}

static void expressions(void **state)
{
    (void)state;
    expect("v: ${list[1]}", "\"y\"");
    expect("v: ${east[\"region\"]}", "\"us-east-2\"");
    expect("v: a-${s}-b", "\"a-abc-b\"");
    expect("v: $${s}", "\"${s}\"");
    expect("v: 2012-10-17", "\"2012-10-17\"");
    expect("v: '42'", "\"42\"");
    expect("v: 42", "42");
    expect_error("v: ${nosuch}", "Pulumi.yaml:1:4:");
    expect_error("v: ${s", "unterminated '${'");
    expect_error("v: ${list[7]}", "index 7 out of range");
    expect_error("v: ${list[x]}", "bad index");
    expect_error("v: ${east.nope}", "'east' has no property 'nope'");
    expect_error("v: ${east.}", "empty property name");
}

static void builtin_errors(void **state)
{
    (void)state;
    expect_error("v: {fn::fromBase64: '!!!'}", "fn::fromBase64: \"!!!\" is not base64 text");
    expect_error("v: {fn::toBase64: [1]}", "fn::toBase64 takes a string");
    expect_error("v: {fn::length: 5}", "fn::length takes a list, a map or a string");
    expect_error("v: {fn::sha1: 5}", "fn::sha1 takes a string");
    expect_error("v: {fn::filebase64: nope.txt}", "fn::filebase64: nope.txt:");
    expect_error("v: {fn::filebase64sha256: nope.txt}", "fn::filebase64sha256: nope.txt:");
    expect_error("v: {fn::fileAsset: nope.txt}", "fn::fileAsset: nope.txt:");
    expect_error("v: {fn::readFile: nope.txt}", "fn::readFile: nope.txt:");
    expect_error("v: {fn::fileArchive: nope}", "fn::fileArchive: nope:");
    expect_error("v: {fn::assetArchive: {a: 1}}", "'a' is not an asset or archive");
    expect_error("v: {fn::assetArchive: [1]}", "fn::assetArchive takes a map");
    expect_error("v: {fn::remoteAsset: 'https://example.com/x'}",
                 "Pulumi.yaml:1:5: fn::remoteAsset is not supported: Tandem does not fetch");
    expect_error("v: {fn::remoteArchive: 'https://example.com/x'}",
                 "fn::remoteArchive is not supported");
    expect_error("v: {fn::stackReference: x}", "fn::stackReference is not supported");
    expect_error("v: {fn::join: [',']}", "fn::join takes [separator, [values...]]");
    expect_error("v: {fn::split: [',', [1]]}", "fn::split takes [separator, string]");
    expect_error("v: {fn::select: [5, '${list}']}", "fn::select: index 5 out of range");
    expect_error("v: {fn::select: [a, b]}", "fn::select takes [index, [values...]]");
    expect_error("v: {fn::nope: 1}", "unknown built-in function 'fn::nope'");
    expect_error("v: {fn::stringAsset: [1]}", "fn::stringAsset takes a string");
}

static void invokes(void **state)
{
    (void)state;
    expect("v: {fn::invoke: {function: aws:getCallerIdentity, return: accountId}}",
           "\"111122223333\"");
    expect("v: {fn::invoke: {function: aws:index/getCallerIdentity:getCallerIdentity, "
           "return: arn}}",
           "\"arn:aws:iam::111122223333:root\"");
    expect("v: {fn::invoke: {function: aws:getRegion, return: name}}", "\"eu-west-1\"");
    expect("v: {fn::invoke: {function: aws:getRegion, options: {provider: '${east}'}, "
           "return: name}}",
           "\"us-east-2\"");
    expect("v: {fn::invoke: {function: aws:getPartition, return: dnsSuffix}}", "\"amazonaws.com\"");
    expect("v: {fn::aws:getPartition: {}}",
           "{\"id\":\"aws\",\"partition\":\"aws\",\"dnsSuffix\":\"amazonaws.com\","
           "\"reverseDnsPrefix\":\"com.amazonaws\"}");
    expect(
        "v: {fn::invoke: {function: aws:iam:getPolicyDocument, return: minifiedJson, "
        "arguments: {statements: [{actions: ['s3:GetObject', 's3:ListBucket'], "
        "resources: ['arn:aws:s3:::b'], principals: [{type: Service, identifiers: "
        "[lambda.amazonaws.com]}], conditions: [{test: StringEquals, variable: "
        "'aws:SourceAccount', values: ['1']}]}]}}}",
        "\"{\\\"Version\\\":\\\"2012-10-17\\\",\\\"Statement\\\":[{\\\"Effect\\\":\\\"Allow\\\","
        "\\\"Action\\\":[\\\"s3:ListBucket\\\",\\\"s3:GetObject\\\"],\\\"Resource\\\":"
        "\\\"arn:aws:s3:::b\\\",\\\"Principal\\\":{\\\"Service\\\":\\\"lambda.amazonaws.com\\\"},"
        "\\\"Condition\\\":{\\\"StringEquals\\\":{\\\"aws:SourceAccount\\\":\\\"1\\\"}}}]}\"");
    expect("v: {fn::invoke: {function: aws:iam:getPolicyDocument, return: minifiedJson, "
           "arguments: {statements: [{sid: All, effect: Deny, actions: ['*'], "
           "principals: [{type: '*', identifiers: ['*']}]}]}}}",
           "\"{\\\"Version\\\":\\\"2012-10-17\\\",\\\"Statement\\\":[{\\\"Sid\\\":\\\"All\\\","
           "\\\"Effect\\\":\\\"Deny\\\",\\\"Action\\\":\\\"*\\\",\\\"Principal\\\":\\\"*\\\"}]}\"");
    {
        struct err e = {0};
        char *got = eval("v: {fn::invoke: {function: aws:iam:getPolicyDocument, return: json, "
                         "arguments: {statements: [{actions: ['s3:*']}]}}}",
                         &e);
        assert_non_null(got);
        assert_non_null(strstr(got, "\\n  \\\"Version\\\": \\\"2012-10-17\\\""));
        free(got);
    }
    expect("v: {fn::invoke: {function: aws:getRegion, arguments: {name: '${u}'}}}",
           "\"" STACK_UNKNOWN "\"");
    expect_error("v: {fn::invoke: {function: aws:ec2:getAmi}}",
                 "fn::invoke: unknown function 'aws:ec2:getAmi'");
    expect_error("v: {fn::invoke: {function: aws:getRegion, return: nope}}",
                 "fn::invoke aws:getRegion returns no 'nope' (it has name, id");
    /* archive:getFile: the zip's size from the short form, its errors at the position */
    expect("v: {fn::invoke: {function: archive:getFile, return: outputSize, arguments: "
           "{type: zip, sourceContent: hi, sourceContentFilename: a.txt, outputPath: a.zip}}}",
           "112");
    {
        struct err e = {0};
        char *got = eval("v: {fn::archive:index:getFile: {type: zip, sourceFile: hello.txt, "
                         "outputPath: out/h.zip}}",
                         &e);
        assert_non_null(got);
        assert_non_null(strstr(got, "\"outputBase64sha256\":"));
        free(got);
    }
    expect_error("v: {fn::invoke: {function: archive:getFile, arguments: {type: zip, "
                 "outputPath: a.zip}}}",
                 "Pulumi.yaml:1:17: fn::invoke archive:getFile: one of");
    expect_error("v: {fn::invoke: {function: aws:getRegion, argument: {}}}",
                 "fn::invoke: unknown field 'argument'");
    expect_error("v: {fn::invoke: aws:getRegion}", "fn::invoke takes {function");
    /* the older docs' spelling: Function:/Arguments:/Return: and Fn::ToJSON */
    expect("v: {fn::invoke: {Function: aws:getRegion, Arguments: {}, Return: name}}",
           "\"eu-west-1\"");
    expect("v: {Fn::ToJSON: {a: 1}}", "\"{\\\"a\\\":1}\"");
    expect_error("v: {Fn::NoSuch: 1}", "unknown built-in function 'Fn::NoSuch'");
    expect_error("v: {fn::invoke: {function: aws:iam:getPolicyDocument, arguments: "
                 "{statements: [{effect: Maybe}]}}}",
                 "effect must be Allow or Deny");
    expect_error("v: {fn::invoke: {function: aws:iam:getPolicyDocument, arguments: "
                 "{statements: [{principals: [{type: AWS}]}]}}}",
                 "principals AWS needs identifiers");
    expect_error("v: {fn::invoke: {function: aws:iam:getPolicyDocument, arguments: "
                 "{statements: [{actions: [1]}]}}}",
                 "actions must be a list of strings");
    /* sourcePolicyDocuments / overridePolicyDocuments merged by Sid as the provider does */
    {
        struct err e = {0};
        char *got =
            eval("v: {fn::invoke: {function: aws:iam:getPolicyDocument, return: minifiedJson, "
                 "arguments: {sourcePolicyDocuments: ['{\"Version\":\"2008-10-17\",\"Statement\":["
                 "{\"Sid\":\"Placeholder\",\"Effect\":\"Allow\",\"Action\":\"ec2:Describe*\","
                 "\"Resource\":\"*\"},{\"Resource\":\"*\",\"Action\":\"s3:GetObject\","
                 "\"Effect\":\"Allow\",\"Sid\":\"Keep\"}]}'], "
                 "statements: [{sid: Placeholder, actions: ['s3:*'], resources: ['*']}, "
                 "{actions: ['sqs:*']}], "
                 "overridePolicyDocuments: ['{\"Id\":\"merged\",\"Statement\":{\"Sid\":\"Keep\","
                 "\"Effect\":\"Deny\",\"Action\":\"s3:*\",\"Resource\":\"*\"}}', "
                 "'{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                 "\"Action\":\"kms:Decrypt\",\"Resource\":\"*\"}]}']}}}",
                 &e);
        cJSON *v = got ? cJSON_Parse(got) : NULL;
        assert_non_null(v);
        assert_string_equal(
            cJSON_GetStringValue(v),
            "{\"Version\":\"2012-10-17\",\"Id\":\"merged\",\"Statement\":["
            "{\"Sid\":\"Placeholder\",\"Effect\":\"Allow\",\"Action\":\"s3:*\","
            "\"Resource\":\"*\"},"
            "{\"Sid\":\"Keep\",\"Effect\":\"Deny\",\"Action\":\"s3:*\",\"Resource\":\"*\"},"
            "{\"Effect\":\"Allow\",\"Action\":\"sqs:*\"},"
            "{\"Effect\":\"Allow\",\"Action\":\"kms:Decrypt\",\"Resource\":\"*\"}]}");
        cJSON_Delete(v);
        free(got);
    }
    expect_error("v: {fn::invoke: {function: aws:iam:getPolicyDocument, arguments: "
                 "{sourcePolicyDocuments: ['{\"Statement\":[{\"Sid\":\"A\"}]}', "
                 "'{\"Statement\":[{\"Sid\":\"B\"},{\"Sid\":\"A\"}]}']}}}",
                 "duplicate Sid (A) in sourcePolicyDocuments (item 1; statement 1)");
    expect_error("v: {fn::invoke: {function: aws:iam:getPolicyDocument, arguments: "
                 "{statements: [{sid: A, actions: ['s3:*']}, {sid: A, actions: ['s3:*']}]}}}",
                 "duplicate sid (A) in statements");
    expect_error("v: {fn::invoke: {function: aws:iam:getPolicyDocument, arguments: "
                 "{overridePolicyDocuments: ['not json']}}}",
                 "overridePolicyDocuments item 0 is not a JSON policy document");
    expect_error("v: {fn::invoke: {function: aws:iam:getPolicyDocument, arguments: "
                 "{overridePolicyDocuments: '{}'}}}",
                 "overridePolicyDocuments must be a list of documents");
    expect_error("v: {fn::invoke: {function: aws:iam:getPolicyDocument, arguments: "
                 "{sourcePolicyDocuments: ['{\"Statement\":[1]}']}}}",
                 "sourcePolicyDocuments item 0: statement 0 is not an object");
    assert_true(stack_invoke_known("aws:iam/getPolicyDocument:getPolicyDocument"));
    assert_false(stack_invoke_known("aws:ec2:getAmi"));
}

/* ---- whole programs in preview ---- */

struct pv {
    struct stack_result res;
    char state[200];
};

static enum err_code preview(struct pv *pv, const char *state_json, const char *prog,
                             const cJSON *config, struct err *e)
{
    struct stack_prog *p = NULL;
    struct stack_opts o = {0};
    enum err_code rc;

    memset(pv, 0, sizeof(*pv));
    snprintf(pv->state, sizeof(pv->state), "%s/state.json", tmp);
    unlink(pv->state);
    if (state_json)
        write_file("state.json", state_json);
    write_file("Pulumi.yaml", prog);
    rc = stack_prog_load_project(tmp, &p, e);
    if (rc)
        return rc;
    o.dir = tmp;
    o.stack = "prod";
    o.state_path = pv->state;
    o.config = config;
    o.account = "111122223333";
    rc = stack_preview(&o, p, &pv->res, e);
    stack_prog_free(p);
    return rc;
}

static const struct stack_step *step(const struct pv *pv, const char *name)
{
    for (size_t i = 0; i < pv->res.nsteps; i++)
        if (!strcmp(pv->res.steps[i].name, name))
            return &pv->res.steps[i];
    fail_msg("no step %s", name);
    return NULL;
}

static const char *out_str(const struct pv *pv, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(pv->res.outputs, name);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static void pulumi_names_and_config(void **state)
{
    struct pv pv;
    struct err e = {0};
    cJSON *config = cJSON_Parse("{\"count\": \"3\"}");
    (void)state;
    assert_int_equal(preview(&pv, NULL,
                             "name: proj\nruntime: yaml\ndescription: d\n"
                             "template: {description: ignored}\n"
                             "configuration:\n  count: {type: Integer}\n"
                             "  flag: {type: boolean, default: true}\n"
                             "resources:\n  b:\n    type: aws:s3:BucketV2\n"
                             "    properties: {bucket: my-bucket, tags: {n: 1, ok: true}}\n"
                             "outputs:\n  p: ${pulumi.project}\n  s: ${pulumi.stack}\n"
                             "  cwd: ${pulumi.cwd}\n  root: ${pulumi.rootDirectory}\n"
                             "  org: ${pulumi.organization}\n  id: ${b}\n  arn: ${b.arn}\n"
                             "  count: ${count}\n  flag: ${flag}\n",
                             config, &e),
                     ERR_OK);
    assert_string_equal(out_str(&pv, "p"), "proj");
    assert_string_equal(out_str(&pv, "s"), "prod");
    assert_string_equal(out_str(&pv, "cwd"), tmp);
    assert_string_equal(out_str(&pv, "root"), tmp);
    assert_string_equal(out_str(&pv, "org"), "organization");
    assert_string_equal(out_str(&pv, "id"), "my-bucket"); /* a bare ${res} is its id */
    assert_string_equal(out_str(&pv, "arn"), "arn:aws:s3:::my-bucket");
    assert_int_equal(cJSON_GetObjectItem(pv.res.outputs, "count")->valueint, 3);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(pv.res.outputs, "flag")));
    { /* tag values written as numbers and booleans become the strings the schema wants */
        const cJSON *tags = cJSON_GetObjectItem(step(&pv, "b")->inputs, "tags");
        assert_string_equal(cJSON_GetObjectItem(tags, "n")->valuestring, "1");
        assert_string_equal(cJSON_GetObjectItem(tags, "ok")->valuestring, "true");
    }
    stack_result_free(&pv.res);
    cJSON_Delete(config);
}

static void secret_outputs(void **state)
{
    struct pv pv;
    struct err e = {0};
    const cJSON *sec;
    (void)state;
    assert_int_equal(
        preview(&pv, NULL,
                "name: p\nresources:\n  u:\n    type: aws:iam:User\n"
                "  k:\n    type: aws:iam:AccessKey\n    properties: {user: '${u.name}'}\n"
                "  pw:\n    type: random:RandomPassword\n    properties: {length: 8}\n"
                "  b:\n    type: aws:s3:BucketV2\n"
                "    options: {additionalSecretOutputs: [arn]}\n"
                "outputs:\n  key: ${k.secret}\n  pw: ${pw.result}\n"
                "  wrapped: {fn::secret: x}\n  arn: ${b.arn}\n  id: ${k.id}\n"
                "  name: ${u.name}\n",
                NULL, &e),
        ERR_OK);
    sec = pv.res.secrets;
    assert_int_equal(cJSON_GetArraySize(sec), 4);
    assert_string_equal(cJSON_GetArrayItem(sec, 0)->valuestring, "key");
    assert_string_equal(cJSON_GetArrayItem(sec, 1)->valuestring, "pw");
    assert_string_equal(cJSON_GetArrayItem(sec, 2)->valuestring, "wrapped");
    assert_string_equal(cJSON_GetArrayItem(sec, 3)->valuestring, "arn");
    stack_result_free(&pv.res);
}

static void main_folder(void **state)
{
    struct stack_prog *p = NULL;
    struct err e = {0};
    char sub[128];
    (void)state;
    snprintf(sub, sizeof(sub), "%s/infra", tmp);
    mkdir(sub, 0755);
    write_file("Pulumi.yaml", "name: proj\nruntime: yaml\nmain: infra/\n"
                              "config:\n  size: {type: integer, default: 2}\n");
    write_file("infra/Main.yaml", "resources:\n  t:\n    type: random:RandomPet\n"
                                  "outputs:\n  n: ${size}\n");
    assert_int_equal(stack_prog_load_project(tmp, &p, &e), ERR_OK);
    assert_string_equal(p->name, "proj");
    assert_string_equal(p->dir, sub);
    assert_string_equal(p->root_dir, tmp);
    assert_int_equal(p->nres, 1);
    assert_int_equal(p->nconfig, 1);
    stack_prog_free(p);
    /* the program may not be in both files */
    write_file("Pulumi.yaml", "name: proj\nruntime: yaml\nmain: infra/\nresources: {}\n");
    assert_int_equal(stack_prog_load_project(tmp, &p, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "the program is in Main.yaml"));
    write_file("Pulumi.yaml", "name: proj\nruntime: yaml\nmain: nowhere/\n");
    assert_int_equal(stack_prog_load_project(tmp, &p, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "Pulumi.yaml:3:7: main: no folder nowhere/"));
    unlink("infra/Main.yaml");
    {
        char m[200];
        snprintf(m, sizeof(m), "%s/infra/Main.yaml", tmp);
        unlink(m);
    }
    write_file("Pulumi.yaml", "name: proj\nruntime: yaml\nmain: infra\n");
    assert_int_equal(stack_prog_load_project(tmp, &p, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "main: infra has no Main.yaml"));
    rmdir(sub);
    /* Main.yaml next to Pulumi.yaml */
    write_file("Pulumi.yaml", "name: proj2\nruntime: yaml\n");
    write_file("Main.yaml", "resources:\n  t:\n    type: random:RandomPet\n");
    assert_int_equal(stack_prog_load_project(tmp, &p, &e), ERR_OK);
    assert_string_equal(p->name, "proj2");
    assert_int_equal(p->nres, 1);
    stack_prog_free(p);
    {
        char m[200];
        snprintf(m, sizeof(m), "%s/Main.yaml", tmp);
        unlink(m);
    }
    /* a program file with both config and configuration is refused */
    write_file("Pulumi.yaml", "name: p\nconfig: {a: 1}\nconfiguration: {b: 2}\n");
    assert_int_equal(stack_prog_load_project(tmp, &p, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "config and configuration are the same section"));
    write_file("Pulumi.yaml", "name: p\nruntime: nodejs\n");
    assert_int_equal(stack_prog_load_project(tmp, &p, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "runtime must be yaml"));
}

static void stack_config_file(void **state)
{
    cJSON *c = NULL;
    struct err e = {0};
    char path[200];
    (void)state;
    assert_int_equal(stack_prog_stack_config(tmp, "none", &c, &e), ERR_OK);
    assert_int_equal(cJSON_GetArraySize(c), 0);
    cJSON_Delete(c);
    write_file("Pulumi.dev.yaml", "config:\n  aws:region: us-west-2\n  proj:count: 3\n"
                                  "  proj:names: [a, b]\n");
    assert_int_equal(stack_prog_stack_config(tmp, "dev", &c, &e), ERR_OK);
    assert_string_equal(cJSON_GetObjectItem(c, "aws:region")->valuestring, "us-west-2");
    assert_string_equal(cJSON_GetObjectItem(c, "proj:count")->valuestring, "3");
    assert_string_equal(cJSON_GetObjectItem(c, "proj:names")->valuestring, "[\"a\",\"b\"]");
    cJSON_Delete(c);
    write_file("Pulumi.dev.yaml", "config:\n  proj:pw:\n    secure: AAAB\n");
    assert_int_equal(stack_prog_stack_config(tmp, "dev", &c, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "Pulumi.dev.yaml:3:5: 'proj:pw' is a secure value"));
    write_file("Pulumi.dev.yaml", "config: [1]\n");
    assert_int_equal(stack_prog_stack_config(tmp, "dev", &c, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "config must be a map"));
    snprintf(path, sizeof(path), "%s/Pulumi.dev.yaml", tmp);
    unlink(path);
}

static void did_you_mean(void **state)
{
    struct pv pv;
    struct err e = {0};
    (void)state;
    assert_int_equal(
        preview(&pv, NULL, "name: p\nresources:\n  b:\n    type: aws:s3:Buckt\n", NULL, &e),
        ERR_INVALID);
    assert_non_null(strstr(e.msg, "Pulumi.yaml:4:11: unknown resource type 'aws:s3:Buckt' (did "
                                  "you mean 'aws:s3:Bucket'?)"));
    stack_result_free(&pv.res);
    assert_int_equal(preview(&pv, NULL,
                             "name: p\nresources:\n  b:\n    type: aws:s3:BucketV2\n"
                             "    properties:\n      buckett: x\n",
                             NULL, &e),
                     ERR_INVALID);
    assert_non_null(strstr(e.msg, "Pulumi.yaml:6:7: aws:s3:Bucket has no property 'buckett' "
                                  "(did you mean 'bucket'?)"));
    stack_result_free(&pv.res);
    assert_int_equal(preview(&pv, NULL,
                             "name: p\nresources:\n  t:\n    type: aws:dynamodb:Table\n"
                             "    properties:\n      serverSideEncryption: {enabled: true}\n",
                             NULL, &e),
                     ERR_INVALID);
    assert_non_null(strstr(e.msg, "Pulumi.yaml:6:7: aws:dynamodb:Table: property "
                                  "'serverSideEncryption' is valid "
                                  "in Pulumi but Tandem does not support it yet"));
    stack_result_free(&pv.res);
    /* a runtime the regions do not run: refused at its value, before any call */
    assert_int_equal(preview(&pv, NULL,
                             "name: p\nresources:\n  f:\n    type: aws:lambda:Function\n"
                             "    properties:\n      runtime: ruby3.3\n",
                             NULL, &e),
                     ERR_INVALID);
    assert_non_null(strstr(e.msg, "Pulumi.yaml:6:16: aws:lambda:Function: runtime 'ruby3.3' "
                                  "is not one Tandem runs (nodejs18.x|"));
    stack_result_free(&pv.res);
    assert_int_equal(preview(&pv, NULL,
                             "name: p\nresources:\n  u:\n    type: aws:iam:User\n"
                             "    options: {colour: red}\n",
                             NULL, &e),
                     ERR_INVALID);
    assert_non_null(strstr(e.msg, "unknown resource option 'colour'"));
    stack_result_free(&pv.res);
    assert_int_equal(preview(&pv, NULL,
                             "name: p\nresources:\n  u:\n    type: aws:iam:User\n"
                             "    get: {id: ci}\n    properties: {name: x}\n",
                             NULL, &e),
                     ERR_INVALID);
    assert_non_null(strstr(e.msg, "has both get and properties"));
    stack_result_free(&pv.res);
    assert_int_equal(preview(&pv, NULL,
                             "name: p\nresources:\n  u:\n    type: aws:iam:User\n"
                             "    options: {ignoreChanges: tags}\n",
                             NULL, &e),
                     ERR_INVALID);
    assert_non_null(strstr(e.msg, "ignoreChanges must be a list"));
    stack_result_free(&pv.res);
}

static const char *const state_one =
    "{\"version\":1,\"resources\":[{\"name\":\"b\",\"type\":\"aws:s3:BucketV2\",\"status\":"
    "\"created\",\"id\":\"b-1234567\",\"region\":\"us-east-1\",\"endpoint\":\"local\","
    "\"autoName\":true,\"inputs\":{\"bucket\":\"b-1234567\",\"tags\":{\"a\":\"1\"}},"
    "\"outputs\":{\"id\":\"b-1234567\",\"arn\":\"arn:aws:s3:::b-1234567\"},\"deps\":[]}]}";

static void options_in_the_plan(void **state)
{
    struct pv pv;
    struct err e = {0};
    (void)state;
    /* the auto-name stays; a changed tag is an update */
    assert_int_equal(preview(&pv, state_one,
                             "name: p\nresources:\n  b:\n    type: aws:s3:BucketV2\n"
                             "    properties: {tags: {a: 2}}\n",
                             NULL, &e),
                     ERR_OK);
    assert_int_equal(step(&pv, "b")->op, STACK_OP_UPDATE);
    assert_string_equal(cJSON_GetObjectItem(step(&pv, "b")->inputs, "bucket")->valuestring,
                        "b-1234567");
    stack_result_free(&pv.res);
    /* ignoreChanges keeps the recorded value */
    assert_int_equal(preview(&pv, state_one,
                             "name: p\nresources:\n  b:\n    type: aws:s3:BucketV2\n"
                             "    properties: {tags: {a: 2}}\n"
                             "    options: {ignoreChanges: [tags.a]}\n",
                             NULL, &e),
                     ERR_OK);
    assert_int_equal(step(&pv, "b")->op, STACK_OP_SAME);
    stack_result_free(&pv.res);
    /* replaceOnChanges turns the update into a replacement */
    assert_int_equal(preview(&pv, state_one,
                             "name: p\nresources:\n  b:\n    type: aws:s3:BucketV2\n"
                             "    properties: {tags: {a: 2}}\n"
                             "    options: {replaceOnChanges: [tags], retainOnDelete: true, "
                             "parent: '${b}', aliases: [x], version: 6.0.0, "
                             "customTimeouts: {create: 5m}, additionalSecretOutputs: [arn]}\n",
                             NULL, &e),
                     ERR_OK);
    assert_int_equal(step(&pv, "b")->op, STACK_OP_REPLACE);
    stack_result_free(&pv.res);
    /* get: reads, never creates */
    assert_int_equal(preview(&pv, NULL,
                             "name: p\nresources:\n  old:\n    type: aws:iam:User\n"
                             "    get: {id: legacy-user}\noutputs:\n  arn: ${old.arn}\n"
                             "  id: ${old.id}\n",
                             NULL, &e),
                     ERR_OK);
    assert_int_equal(step(&pv, "old")->op, STACK_OP_REFRESH);
    assert_string_equal(out_str(&pv, "id"), "legacy-user");
    stack_result_free(&pv.res);
    /* import: adopted by id, not created; no auto-name is made up for it */
    assert_int_equal(preview(&pv, NULL,
                             "name: p\nresources:\n  legacy:\n    type: aws:iam:User\n"
                             "    options: {import: legacy-user}\n",
                             NULL, &e),
                     ERR_OK);
    assert_int_equal(step(&pv, "legacy")->op, STACK_OP_IMPORT);
    assert_string_equal(stack_op_name(STACK_OP_IMPORT), "import");
    assert_null(cJSON_GetObjectItem(step(&pv, "legacy")->inputs, "name"));
    assert_int_equal(pv.res.counts[STACK_OP_IMPORT], 1);
    stack_result_free(&pv.res);
}

static void auto_names(void **state)
{
    struct pv pv;
    struct err e = {0};
    (void)state;
    assert_int_equal(
        preview(&pv, NULL,
                "name: p\nresources:\n  MyLogs_Bucket:\n    type: aws:s3:Bucket\n"
                "  aVeryLongLogicalNameForABucketThatGoesOnAndOnPastSixtyThreeCharacters:\n"
                "    type: aws:s3:BucketV2\n  deployer:\n    type: aws:iam:User\n"
                "  readOnly:\n    type: aws:iam:Policy\n    properties: {policy: '{}'}\n"
                "  pet:\n    type: random:RandomPet\n",
                NULL, &e),
        ERR_OK);
    {
        const char *b =
            cJSON_GetObjectItem(step(&pv, "MyLogs_Bucket")->inputs, "bucket")->valuestring;
        const char *l =
            cJSON_GetObjectItem(
                step(&pv, "aVeryLongLogicalNameForABucketThatGoesOnAndOnPastSixtyThreeCharacters")
                    ->inputs,
                "bucket")
                ->valuestring;
        const char *u = cJSON_GetObjectItem(step(&pv, "deployer")->inputs, "name")->valuestring;
        assert_int_equal(strlen(b), strlen("mylogs-bucket-") + 7);
        assert_int_equal(strncmp(b, "mylogs-bucket-", 14), 0);
        for (const char *c = b; *c; c++)
            assert_true((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-');
        assert_true(strlen(l) <= 63);
        assert_int_equal(strncmp(u, "deployer-", 9), 0);
        assert_int_equal(strlen(u), 9 + 7);
        assert_int_equal(
            strncmp(cJSON_GetObjectItem(step(&pv, "readOnly")->inputs, "name")->valuestring,
                    "readOnly-", 9),
            0);
    }
    assert_int_equal(step(&pv, "pet")->op, STACK_OP_CREATE);
    stack_result_free(&pv.res);
}

static void provider_lookup(void **state)
{
    static const char *const types[] = {"aws:s3:BucketObject",
                                        "aws:s3/bucketObjectv2:BucketObjectv2",
                                        "aws:s3:BucketPolicy",
                                        "aws:s3:BucketPublicAccessBlock",
                                        "aws:s3:BucketOwnershipControls",
                                        "aws:s3:BucketLifecycleConfigurationV2",
                                        "aws:dynamodb:TableItem",
                                        "aws:iam:User",
                                        "aws:iam:UserPolicy",
                                        "aws:iam:UserPolicyAttachment",
                                        "aws:iam:AccessKey",
                                        "aws:iam:Policy",
                                        "aws:iam:PolicyAttachment",
                                        "random:RandomPet",
                                        "random:index/randomString:RandomString",
                                        "random:RandomPassword",
                                        "random:RandomId",
                                        "random:RandomInteger",
                                        NULL};
    (void)state;
    for (size_t i = 0; types[i]; i++)
        if (!stack_provider_find(types[i]))
            fail_msg("no provider for %s", types[i]);
    assert_string_equal(stack_nearest("buckett", (const char *const[]){"bucket", "tags", NULL}),
                        "bucket");
    assert_null(stack_nearest("zzzzzzzz", (const char *const[]){"bucket", "tags", NULL}));
}

/* overrideSpecial of several-byte characters: whole characters are picked, the result is
 * valid UTF-8 and `length` counts characters */
static void random_string_utf8_special(void **state)
{
    const struct stack_provider *p = stack_provider_find("random:RandomString");
    cJSON *in = cJSON_Parse("{\"length\": 64, \"upper\": false, \"lower\": false, "
                            "\"numeric\": false, \"overrideSpecial\": \"\u00a3\u20ac$\", "
                            "\"minSpecial\": 2}");
    (void)state;
    for (int round = 0; round < 20; round++) {
        char *id = NULL;
        cJSON *out = NULL;
        struct err e = {0};
        const char *r;
        size_t chars = 0;
        assert_int_equal(p->create(NULL, in, false, &id, &out, &e), ERR_OK);
        r = cJSON_GetObjectItem(out, "result")->valuestring;
        for (const char *c = r; *c;) {
            if (!strncmp(c, "\xc2\xa3", 2))
                c += 2;
            else if (!strncmp(c, "\xe2\x82\xac", 3))
                c += 3;
            else if (*c == '$')
                c++;
            else
                fail_msg("not one of the characters: %s", c);
            chars++;
        }
        assert_int_equal(chars, 64);
        free(id);
        cJSON_Delete(out);
    }
    cJSON_Delete(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(builtins_values),
        cmocka_unit_test(expressions),
        cmocka_unit_test(builtin_errors),
        cmocka_unit_test(invokes),
        cmocka_unit_test(pulumi_names_and_config),
        cmocka_unit_test(secret_outputs),
        cmocka_unit_test(main_folder),
        cmocka_unit_test(stack_config_file),
        cmocka_unit_test(did_you_mean),
        cmocka_unit_test(options_in_the_plan),
        cmocka_unit_test(auto_names),
        cmocka_unit_test(provider_lookup),
        cmocka_unit_test(random_string_utf8_special),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
