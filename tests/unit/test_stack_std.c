/* test_stack_std.c - the std: functions a Pulumi YAML program invokes: each with
 * the provider's argument names and results, their error cases, files read from
 * the project folder, and the long token form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "stack_std.h"

static char dir[64];

/* run - std:@fn with @args (JSON text): the result as compact JSON (owned), or
 * NULL with @e set */
static char *run(const char *fn, const char *args, struct err *e)
{
    cJSON *a = args ? cJSON_Parse(args) : NULL, *out = NULL;
    char token[64], *text = NULL;

    snprintf(token, sizeof(token), "std:%s", fn);
    if (stack_std(token, a, dir, &out, e) == ERR_OK) {
        text = cJSON_PrintUnformatted(cJSON_GetObjectItem(out, "result"));
        cJSON_Delete(out);
    }
    cJSON_Delete(a);
    return text;
}

static void expect(const char *fn, const char *args, const char *want)
{
    struct err e = {0};
    char *got = run(fn, args, &e);

    if (!got)
        fail_msg("std:%s %s: %s", fn, args, e.msg);
    if (strcmp(got, want) != 0)
        fail_msg("std:%s %s: got %s, want %s", fn, args, got, want);
    free(got);
}

static void refused(const char *fn, const char *args, const char *part)
{
    struct err e = {0};
    char *got = run(fn, args, &e);

    if (got)
        fail_msg("std:%s %s: answered %s, wanted an error", fn, args, got);
    if (!strstr(e.msg, part))
        fail_msg("std:%s %s: error '%s' does not say '%s'", fn, args, e.msg, part);
}

static void strings(void **state)
{
    (void)state;
    expect("replace", "{\"text\":\"fizz-bar-bar\",\"search\":\"bar\",\"replace\":\"buzz\"}",
           "\"fizz-buzz-buzz\"");
    expect("replace", "{\"text\":\"a1b22c\",\"search\":\"/[0-9]+/\",\"replace\":\"#\"}",
           "\"a#b#c\"");
    expect("replace",
           "{\"text\":\"bucket-prod\",\"search\":\"/^(.*)-(.*)$/\",\"replace\":\"$2.$1\"}",
           "\"prod.bucket\"");
    expect("replace", "{\"text\":\"abc\",\"search\":\"\",\"replace\":\"x\"}", "\"abc\"");
    expect("split", "{\"separator\":\",\",\"text\":\"a,b,,c\"}", "[\"a\",\"b\",\"\",\"c\"]");
    expect("split", "{\"separator\":\",\",\"text\":\"\"}", "[\"\"]");
    expect("split", "{\"separator\":\"\",\"text\":\"ab\"}", "[\"a\",\"b\"]");
    expect("join", "{\"separator\":\"-\",\"input\":[\"a\",\"b\",\"c\"]}", "\"a-b-c\"");
    expect("join", "{\"separator\":\"-\",\"input\":[]}", "\"\"");
    expect("format", "{\"input\":\"%s-%d-%05.1f-%q-%v%%\",\"args\":[\"x\",42,3.14159,\"q\",true]}",
           "\"x-42-003.1-\\\"q\\\"-true%\"");
    expect("format", "{\"input\":\"%s\"}", "\"%!v(MISSING)\"");
    /* a width printf cannot write leaves nothing behind, not what was on the stack */
    expect("format", "{\"input\":\"<%99999999999d>\",\"args\":[1]}", "\"<>\"");
    expect("lower", "{\"input\":\"MiXeD\"}", "\"mixed\"");
    expect("upper", "{\"input\":\"MiXeD\"}", "\"MIXED\"");
    expect("title", "{\"input\":\"hello world-wide\"}", "\"Hello World-Wide\"");
    expect("trimspace", "{\"input\":\"  x y \\n\"}", "\"x y\"");
    expect("chomp", "{\"input\":\"line\\r\\n\\n\"}", "\"line\"");
    expect("strrev", "{\"input\":\"ab\u00e9\"}", "\"\u00e9ba\"");
    expect("trimprefix", "{\"input\":\"prod-db\",\"prefix\":\"prod-\"}", "\"db\"");
    expect("trimprefix", "{\"input\":\"db\",\"prefix\":\"prod-\"}", "\"db\"");
    expect("trimsuffix", "{\"input\":\"app.zip\",\"suffix\":\".zip\"}", "\"app\"");
    expect("startswith", "{\"input\":\"arn:aws\",\"prefix\":\"arn:\"}", "true");
    expect("endswith", "{\"input\":\"arn:aws\",\"suffix\":\"arn\"}", "false");
    expect("trim", "{\"input\":\"--x--\",\"cutset\":\"-\"}", "\"x\"");
    expect("substr", "{\"input\":\"hello world\",\"offset\":6,\"length\":5}", "\"world\"");
    expect("substr", "{\"input\":\"hello\",\"offset\":-3,\"length\":-1}", "\"llo\"");
    expect("substr", "{\"input\":\"h\u00e9llo\",\"offset\":1,\"length\":2}", "\"\u00e9l\"");
    expect("substr", "{\"input\":\"hello\",\"offset\":1,\"length\":0}", "\"\"");
    expect("base64encode", "{\"input\":\"Hello\"}", "\"SGVsbG8=\"");
    expect("base64decode", "{\"input\":\"SGVsbG8=\"}", "\"Hello\"");
    refused("base64decode", "{\"input\":\"%%\"}", "not valid base64");
    expect("basename", "{\"input\":\"a/b/c.txt\"}", "\"c.txt\"");
    expect("dirname", "{\"input\":\"a/b/c.txt\"}", "\"a/b\"");
    expect("dirname", "{\"input\":\"c.txt\"}", "\".\"");
    expect("dirname", "{\"input\":\"/c.txt\"}", "\"/\"");
    expect("length", "{\"input\":\"h\u00e9\"}", "2");
    expect("length", "{\"input\":[1,2,3]}", "3");
    expect("length", "{\"input\":{\"a\":1}}", "1");
    refused("length", "{\"input\":true}", "argument 'input' must be a string, a list or a map");
    refused("replace", "{\"text\":\"x\",\"search\":\"/(/\",\"replace\":\"\"}", "search /(/");
    refused("replace", "{\"text\":\"x\",\"replace\":\"\"}", "argument 'search' must be a string");
    refused("join", "{\"separator\":\"-\",\"input\":[1]}", "a list of strings");
}

static void digests_and_files(void **state)
{
    char path[128];
    FILE *f;

    (void)state;
    snprintf(path, sizeof(path), "%s/hello.txt", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("hello\n", f);
    fclose(f);
    expect("md5", "{\"input\":\"hello\\n\"}", "\"b1946ac92492d2347c6235b4d2611184\"");
    expect("filemd5", "{\"input\":\"hello.txt\"}", "\"b1946ac92492d2347c6235b4d2611184\"");
    expect("sha1", "{\"input\":\"abc\"}", "\"a9993e364706816aba3e25717850c26c9cd0d89d\"");
    expect("sha256", "{\"input\":\"abc\"}",
           "\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\"");
    expect("base64sha256", "{\"input\":\"abc\"}",
           "\"ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=\"");
    expect("filebase64sha256", "{\"input\":\"hello.txt\"}",
           "\"WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM=\"");
    expect("filesha256", "{\"input\":\"hello.txt\"}",
           "\"5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03\"");
    expect("sha512", "{\"input\":\"\"}",
           "\"cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff831"
           "8d2877"
           "eec2f63b931bd47417a81a538327af927da3e\"");
    expect("filesha1", "{\"input\":\"hello.txt\"}", "\"f572d396fae9206628714fb2ce00f72e94f2258f\"");
    expect("file", "{\"input\":\"hello.txt\"}", "\"hello\\n\"");
    expect("filebase64", "{\"input\":\"hello.txt\"}", "\"aGVsbG8K\"");
    expect("fileexists", "{\"input\":\"hello.txt\"}", "true");
    expect("fileexists", "{\"input\":\"nope.txt\"}", "false");
    expect("fileexists", "{\"input\":\"/\"}", "false");
    refused("file", "{\"input\":\"nope.txt\"}", "nope.txt: No such file");
    expect(
        "filesha512", "{\"input\":\"hello.txt\"}",
        "\"e7c22b994c59d9cf2b48e549b1e24666636045930d3da7c1acb299d1c3b7f931f94aae41edda2c2b207a36e"
        "10f8bcb8d45223e54878f5b316e7ce3b6bc019629\"");
    expect("filebase64sha512", "{\"input\":\"hello.txt\"}",
           "\"58IrmUxZ2c8rSOVJseJGZmNgRZMNPafBrLKZ0cO3+TH5Sq5B7dosKyB6NuEPi8uNRSI+"
           "VIePWzFufOO2vAGWKQ==\"");
}

static void lists_and_maps(void **state)
{
    (void)state;
    expect("element", "{\"input\":[\"a\",\"b\",\"c\"],\"index\":4}", "\"b\"");
    expect("element", "{\"input\":[\"a\",\"b\",\"c\"],\"index\":-1}", "\"c\"");
    refused("element", "{\"input\":[],\"index\":0}", "must not be empty");
    expect("lookup", "{\"map\":{\"a\":1},\"key\":\"a\"}", "1");
    expect("lookup", "{\"map\":{\"a\":1},\"key\":\"b\",\"default\":\"d\"}", "\"d\"");
    refused("lookup", "{\"map\":{\"a\":1},\"key\":\"b\"}", "key not found");
    refused("lookup", "{\"map\":[1],\"key\":\"b\"}", "argument 'map' must be a map");
    expect("slice", "{\"list\":[1,2,3,4],\"from\":1,\"to\":3}", "[2,3]");
    expect("slice", "{\"list\":[1,2,3,4]}", "[1,2,3,4]");
    refused("slice", "{\"list\":[1],\"from\":0,\"to\":3}", "out of range");
    expect("range", "{\"limit\":3}", "[0,1,2]");
    expect("range", "{\"limit\":1,\"start\":7,\"step\":-2}", "[7,5,3]");
    expect("range", "{\"limit\":1,\"start\":3}", "[3,2]");
    expect("range", "{\"limit\":10,\"step\":-1}", "[]");
    refused("range", "{\"limit\":1e9}", "more than 1,000,000");
    refused("range", "{\"limit\":1e300,\"step\":1e-300}", "more than 1,000,000");
    expect("index", "{\"input\":[\"a\",\"b\"],\"element\":\"b\"}", "1");
    refused("index", "{\"input\":[\"a\"],\"element\":\"z\"}", "not found");
    expect("contains", "{\"input\":[\"a\",\"b\"],\"element\":\"b\"}", "true");
    expect("contains", "{\"input\":[\"a\",\"b\"],\"element\":\"z\"}", "false");
    refused("contains", "{\"input\":[\"a\"]}", "argument 'element' must be given");
    expect("concat", "{\"input\":[[1,2],[3],[]]}", "[1,2,3]");
    expect("compact", "{\"input\":[\"a\",\"\",\"b\"]}", "[\"a\",\"b\"]");
    expect("distinct", "{\"input\":[\"a\",\"b\",\"a\"]}", "[\"a\",\"b\"]");
    expect("flatten", "{\"input\":[1,[2,[3]],[]]}", "[1,2,3]");
    expect("reverse", "{\"input\":[1,2,3]}", "[3,2,1]");
    expect("sort", "{\"input\":[\"b\",\"c\",\"a\"]}", "[\"a\",\"b\",\"c\"]");
    refused("sort", "{\"input\":[1]}", "a list of strings");
    expect("coalesce", "{\"input\":[null,\"\",\"x\",\"y\"]}", "\"x\"");
    expect("coalescelist", "{\"input\":[[],[1]]}", "[1]");
    refused("coalesce", "{\"input\":[\"\"]}", "no non-null");
    expect("keys", "{\"input\":{\"b\":1,\"a\":2}}", "[\"a\",\"b\"]");
    expect("values", "{\"input\":{\"b\":1,\"a\":2}}", "[2,1]");
    refused("keys", "{\"input\":[]}", "a map");
    expect("merge", "{\"input\":[{\"a\":1,\"b\":1},{\"b\":2}]}", "{\"a\":1,\"b\":2}");
    refused("merge", "{\"input\":{}}", "a list of maps");
    refused("concat", "{\"input\":\"x\"}", "argument 'input' must be a list");
}

static void numbers_and_conversions(void **state)
{
    struct err e = {0};
    char *ts;

    (void)state;
    expect("max", "{\"input\":[3,9,1]}", "9");
    expect("min", "{\"input\":[3,9,1]}", "1");
    expect("sum", "{\"input\":[1,2,3.5]}", "6.5");
    expect("sum", "{\"input\":[]}", "0");
    refused("max", "{\"input\":[]}", "must not be empty");
    refused("min", "{\"input\":[\"x\"]}", "a list of numbers");
    expect("abs", "{\"input\":-4}", "4");
    expect("ceil", "{\"input\":1.2}", "2");
    expect("floor", "{\"input\":\"1.8\"}", "1");
    expect("signum", "{\"input\":-3}", "-1");
    expect("signum", "{\"input\":0}", "0");
    expect("pow", "{\"base\":2,\"exponent\":10}", "1024");
    refused("pow", "{\"base\":2}", "argument 'exponent' must be a number");
    refused("abs", "{\"input\":\"x\"}", "must be a number");
    expect("parseint", "{\"input\":\"ff\",\"base\":16}", "255");
    expect("parseint", "{\"input\":\"-12\"}", "-12");
    refused("parseint", "{\"input\":\"12z\"}", "cannot parse");
    refused("parseint", "{\"input\":\"1\",\"base\":1}", "between 2 and 62");
    expect("tostring", "{\"input\":5}", "\"5\"");
    expect("tostring", "{\"input\":true}", "\"true\"");
    expect("tostring", "{\"input\":0.5}", "\"0.5\"");
    expect("tonumber", "{\"input\":\"2.5\"}", "2.5");
    refused("tonumber", "{\"input\":\"x\"}", "cannot convert");
    expect("tobool", "{\"input\":\"true\"}", "true");
    refused("tobool", "{\"input\":\"yes\"}", "cannot convert");
    expect("jsonencode", "{\"input\":{\"a\":[1,\"x\"]}}", "\"{\\\"a\\\":[1,\\\"x\\\"]}\"");
    expect("jsonencode", "{}", "\"null\"");
    expect("jsondecode", "{\"input\":\"{\\\"a\\\":1}\"}", "{\"a\":1}");
    refused("jsondecode", "{\"input\":\"{\"}", "not JSON");
    ts = run("timestamp", NULL, &e);
    assert_non_null(ts);
    assert_int_equal(strlen(ts), 22); /* "YYYY-MM-DDTHH:MM:SSZ" with quotes */
    free(ts);
}

static void tokens(void **state)
{
    cJSON *out = NULL, *args = cJSON_Parse("{\"input\":\"x\"}");
    struct err e = {0};

    (void)state;
    assert_true(stack_std_known("std:replace"));
    assert_true(stack_std_known("std:index:replace"));
    assert_false(stack_std_known("std:nope"));
    assert_false(stack_std_known("aws:getRegion"));
    assert_false(stack_std_known("stdx:upper"));
    assert_int_equal(stack_std("std:index:upper", args, NULL, &out, &e), ERR_OK);
    assert_string_equal(cJSON_GetObjectItem(out, "result")->valuestring, "X");
    cJSON_Delete(out);
    assert_int_equal(stack_std("std:nope", args, NULL, &out, &e), ERR_NOTFOUND);
    cJSON_Delete(args);
    args = cJSON_Parse("[1]");
    assert_int_equal(stack_std("std:upper", args, NULL, &out, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "arguments must be a map"));
    cJSON_Delete(args);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/tandem-std-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    char path[128];

    (void)state;
    snprintf(path, sizeof(path), "%s/hello.txt", dir);
    unlink(path);
    return rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(strings),        cmocka_unit_test(digests_and_files),
        cmocka_unit_test(lists_and_maps), cmocka_unit_test(numbers_and_conversions),
        cmocka_unit_test(tokens),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
