/* test_stack_archive.c - archive:getFile: zips of a file, a folder (excludes,
 * file mode), inline content and sources, read back with libzip; the digests
 * against the written bytes; the same bytes from the same files whatever their
 * timestamps; the provider's errors; the long tokens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <zip.h>

#include "codec.h"
#include "stack_archive.h"

static char dir[64];

static void put(const char *rel, const char *text)
{
    char path[256];
    FILE *f;
    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* call - archive:getFile with @args (JSON text); the result (owned) or NULL with @e */
static cJSON *call(const char *args, struct err *e)
{
    cJSON *a = cJSON_Parse(args), *out = NULL;
    assert_non_null(a);
    if (stack_archive("archive:getFile", a, dir, &out, e) != ERR_OK)
        out = NULL;
    cJSON_Delete(a);
    return out;
}

static cJSON *ok(const char *args)
{
    struct err e = {0};
    cJSON *out = call(args, &e);
    if (!out)
        fail_msg("archive:getFile %s: %s", args, e.msg);
    return out;
}

static void refused(const char *args, const char *part)
{
    struct err e = {0};
    cJSON *out = call(args, &e);
    if (out)
        fail_msg("archive:getFile %s: answered, wanted an error", args);
    if (!strstr(e.msg, part))
        fail_msg("archive:getFile %s: error '%s' does not say '%s'", args, e.msg, part);
}

static unsigned char *slurp(const char *rel, size_t *len)
{
    char path[256];
    FILE *f;
    unsigned char *b;
    long n;
    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    b = malloc((size_t)n + 1);
    *len = fread(b, 1, (size_t)n, f);
    fclose(f);
    return b;
}

/* entries - "name=text;name=text" of the zip at @rel, in archive order */
static void entries(const char *rel, char *out, size_t cap)
{
    char path[256];
    int err = 0;
    zip_t *z;
    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    z = zip_open(path, ZIP_RDONLY, &err);
    assert_non_null(z);
    *out = 0;
    for (zip_int64_t i = 0; i < zip_get_num_entries(z, 0); i++) {
        char text[256] = "";
        zip_file_t *f = zip_fopen_index(z, (zip_uint64_t)i, 0);
        zip_int64_t n = zip_fread(f, text, sizeof(text) - 1);
        text[n > 0 ? n : 0] = 0;
        zip_fclose(f);
        snprintf(out + strlen(out), cap - strlen(out), "%s%s=%s", *out ? ";" : "",
                 zip_get_name(z, (zip_uint64_t)i, 0), text);
    }
    zip_close(z);
}

static unsigned mode_of(const char *rel, const char *name)
{
    char path[256];
    int err = 0;
    zip_uint8_t os;
    zip_uint32_t attr = 0;
    zip_t *z;
    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    z = zip_open(path, ZIP_RDONLY, &err);
    assert_non_null(z);
    zip_file_get_external_attributes(z, (zip_uint64_t)zip_name_locate(z, name, 0), 0, &os, &attr);
    zip_close(z);
    return (attr >> 16) & 07777;
}

static void source_file_and_digests(void **state)
{
    cJSON *out;
    unsigned char *b, md[EVP_MAX_MD_SIZE];
    unsigned int mdl;
    char hex[2 * EVP_MAX_MD_SIZE + 1], b64[2 * EVP_MAX_MD_SIZE + 1], got[512];
    size_t len, len2;
    struct utimbuf later = {.actime = 2000000000, .modtime = 2000000000};
    char path[256];
    zip_stat_t zs;
    zip_t *z;
    int err = 0;
    unsigned char *again;

    (void)state;
    put("lambda.js", "exports.handler = async () => 1;\n");
    out = ok("{\"type\":\"zip\",\"sourceFile\":\"lambda.js\",\"outputPath\":\"pkg.zip\"}");
    entries("pkg.zip", got, sizeof(got));
    assert_string_equal(got, "lambda.js=exports.handler = async () => 1;\n");
    b = slurp("pkg.zip", &len);
    assert_int_equal(cJSON_GetObjectItem(out, "outputSize")->valuedouble, (double)len);
    EVP_Digest(b, len, md, &mdl, EVP_sha256(), NULL);
    hex_encode(md, mdl, hex);
    base64_encode(md, mdl, b64);
    assert_string_equal(cJSON_GetObjectItem(out, "outputSha256")->valuestring, hex);
    assert_string_equal(cJSON_GetObjectItem(out, "outputBase64sha256")->valuestring, b64);
    EVP_Digest(b, len, md, &mdl, EVP_sha512(), NULL);
    hex_encode(md, mdl, hex);
    base64_encode(md, mdl, b64);
    assert_string_equal(cJSON_GetObjectItem(out, "outputSha512")->valuestring, hex);
    assert_string_equal(cJSON_GetObjectItem(out, "outputBase64sha512")->valuestring, b64);
    EVP_Digest(b, len, md, &mdl, EVP_sha1(), NULL);
    hex_encode(md, mdl, hex);
    assert_string_equal(cJSON_GetObjectItem(out, "outputSha")->valuestring, hex);
    assert_string_equal(cJSON_GetObjectItem(out, "id")->valuestring, hex);
    EVP_Digest(b, len, md, &mdl, EVP_md5(), NULL);
    hex_encode(md, mdl, hex);
    assert_string_equal(cJSON_GetObjectItem(out, "outputMd5")->valuestring, hex);
    /* the arguments come back too */
    assert_string_equal(cJSON_GetObjectItem(out, "sourceFile")->valuestring, "lambda.js");
    cJSON_Delete(out);

    /* the stamp is fixed: a touched file makes the same bytes */
    snprintf(path, sizeof(path), "%s/lambda.js", dir);
    assert_int_equal(utime(path, &later), 0);
    cJSON_Delete(ok("{\"type\":\"zip\",\"sourceFile\":\"lambda.js\",\"outputPath\":\"pkg.zip\"}"));
    again = slurp("pkg.zip", &len2);
    assert_int_equal(len, len2);
    assert_memory_equal(b, again, len);
    free(again);
    free(b);
    snprintf(path, sizeof(path), "%s/pkg.zip", dir);
    z = zip_open(path, ZIP_RDONLY, &err);
    assert_non_null(z);
    assert_int_equal(zip_stat_index(z, 0, 0, &zs), 0);
    {
        struct tm *tm = localtime(&zs.mtime);
        assert_int_equal(tm->tm_year + 1900, 1981);
        assert_int_equal(tm->tm_mon, 0);
        assert_int_equal(tm->tm_mday, 1);
    }
    zip_close(z);

    /* a changed file: other bytes, other digests */
    put("lambda.js", "exports.handler = async () => 2;\n");
    out = ok("{\"type\":\"zip\",\"sourceFile\":\"lambda.js\",\"outputPath\":\"pkg.zip\"}");
    assert_string_not_equal(cJSON_GetObjectItem(out, "outputSha")->valuestring, hex);
    cJSON_Delete(out);
}

static void source_dir_excludes_and_mode(void **state)
{
    char path[256], got[512];
    cJSON *out;
    struct stat st;

    (void)state;
    snprintf(path, sizeof(path), "%s/src", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/src/lib", dir);
    mkdir(path, 0755);
    put("src/b.js", "b");
    put("src/a.js", "a");
    put("src/notes.md", "n");
    put("src/lib/c.js", "c");
    put("src/lib/skip.js", "s");
    out = ok("{\"type\":\"zip\",\"sourceDir\":\"src\",\"outputPath\":\"out/deep/src.zip\","
             "\"excludes\":[\"*.md\",\"./lib/skip.js\"]}");
    entries("out/deep/src.zip", got, sizeof(got));
    assert_string_equal(got, "a.js=a;b.js=b;lib/c.js=c");
    snprintf(path, sizeof(path), "%s/src/a.js", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(mode_of("out/deep/src.zip", "a.js"), st.st_mode & 07777);
    cJSON_Delete(out);
    out = ok("{\"type\":\"zip\",\"sourceDir\":\"src\",\"outputPath\":\"src.zip\","
             "\"excludes\":[\"lib\"],\"outputFileMode\":\"0666\"}");
    entries("src.zip", got, sizeof(got));
    assert_string_equal(got, "a.js=a;b.js=b;notes.md=n");
    assert_int_equal(mode_of("src.zip", "b.js"), 0666);
    cJSON_Delete(out);
    refused("{\"type\":\"zip\",\"sourceDir\":\"src\",\"outputPath\":\"x.zip\","
            "\"excludes\":[\"*\"]}",
            "has no files to archive");

    /* a linked folder is followed, unless excludeSymlinkDirectories */
    snprintf(path, sizeof(path), "%s/src/linked", dir);
    assert_int_equal(symlink("lib", path), 0);
    cJSON_Delete(ok("{\"type\":\"zip\",\"sourceDir\":\"src\",\"outputPath\":\"l.zip\","
                    "\"excludes\":[\"*.md\",\"lib\"]}"));
    entries("l.zip", got, sizeof(got));
    assert_string_equal(got, "a.js=a;b.js=b;linked/c.js=c;linked/skip.js=s");
    cJSON_Delete(ok("{\"type\":\"zip\",\"sourceDir\":\"src\",\"outputPath\":\"l.zip\","
                    "\"excludes\":[\"*.md\",\"lib\"],\"excludeSymlinkDirectories\":true}"));
    entries("l.zip", got, sizeof(got));
    assert_string_equal(got, "a.js=a;b.js=b");
    /* a folder that cannot be read */
    snprintf(path, sizeof(path), "%s/src/lib", dir);
    if (geteuid() != 0) {
        assert_int_equal(chmod(path, 0), 0);
        refused("{\"type\":\"zip\",\"sourceDir\":\"src\",\"outputPath\":\"x.zip\"}",
                "error archiving directory");
        assert_int_equal(chmod(path, 0755), 0);
    }
}

static void content_and_sources(void **state)
{
    char got[512];
    (void)state;
    cJSON_Delete(ok("{\"type\":\"zip\",\"sourceContent\":\"hello\","
                    "\"sourceContentFilename\":\"hello.txt\",\"outputPath\":\"c.zip\"}"));
    entries("c.zip", got, sizeof(got));
    assert_string_equal(got, "hello.txt=hello");
    cJSON_Delete(ok("{\"type\":\"zip\",\"outputPath\":\"s.zip\",\"sources\":["
                    "{\"content\":\"two\",\"filename\":\"z/two.txt\"},"
                    "{\"content\":\"one\",\"filename\":\"one.txt\"}]}"));
    entries("s.zip", got, sizeof(got));
    assert_string_equal(got, "one.txt=one;z/two.txt=two");
}

static void errors(void **state)
{
    struct err e = {0};
    cJSON *out = NULL, *a = cJSON_CreateArray();
    (void)state;
    refused("{\"sourceFile\":\"lambda.js\",\"outputPath\":\"p.zip\"}",
            "missing required argument 'type'");
    refused("{\"type\":\"tar.gz\",\"sourceFile\":\"lambda.js\",\"outputPath\":\"p.zip\"}",
            "archive type not supported: tar.gz");
    refused("{\"type\":\"zip\",\"sourceFile\":\"lambda.js\"}",
            "missing required argument 'outputPath'");
    refused("{\"type\":\"zip\",\"outputPath\":\"p.zip\"}", "one of 'sourceContentFilename'");
    refused("{\"type\":\"zip\",\"sourceFile\":\"lambda.js\",\"sourceDir\":\"src\","
            "\"outputPath\":\"p.zip\"}",
            "only one of");
    refused("{\"type\":\"zip\",\"sourceContent\":\"x\",\"outputPath\":\"p.zip\"}",
            "'sourceContentFilename' must be specified");
    refused("{\"type\":\"zip\",\"sourceFile\":\"nope.js\",\"outputPath\":\"p.zip\"}",
            "could not archive missing file: nope.js");
    refused("{\"type\":\"zip\",\"sourceDir\":\"nope\",\"outputPath\":\"p.zip\"}",
            "could not archive missing directory: nope");
    refused("{\"type\":\"zip\",\"sourceFile\":\"src\",\"outputPath\":\"p.zip\"}", "is not a file");
    refused("{\"type\":\"zip\",\"sourceDir\":\"lambda.js\",\"outputPath\":\"p.zip\"}",
            "is not a directory");
    refused("{\"type\":\"zip\",\"sourceFile\":\"lambda.js\",\"outputPath\":\"p.zip\","
            "\"outputFileMode\":\"rw\"}",
            "is not a file mode");
    refused("{\"type\":\"zip\",\"sources\":[],\"outputPath\":\"p.zip\"}", "sources must be a list");
    refused("{\"type\":\"zip\",\"sources\":[{\"content\":\"x\"}],\"outputPath\":\"p.zip\"}",
            "needs content and filename");
    refused("{\"type\":\"zip\",\"sourceDir\":\"src\",\"excludes\":\"x\",\"outputPath\":\"p.zip\"}",
            "excludes must be a list");
    refused("{\"type\":\"zip\",\"sourceFile\":\"lambda.js\",\"outputPath\":\"lambda.js/x.zip\"}",
            "cannot write");
    assert_int_equal(stack_archive("archive:getFile", a, dir, &out, &e), ERR_INVALID);
    assert_int_equal(stack_archive("archive:getZip", NULL, dir, &out, &e), ERR_NOTFOUND);
    cJSON_Delete(a);
}

static void tokens(void **state)
{
    (void)state;
    assert_true(stack_archive_known("archive:getFile"));
    assert_true(stack_archive_known("archive:index:getFile"));
    assert_true(stack_archive_known("archive:index/getFile:getFile"));
    assert_false(stack_archive_known("archive:getFiles"));
    assert_false(stack_archive_known("std:file"));
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/tandem-archive-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(source_file_and_digests),
        cmocka_unit_test(source_dir_excludes_and_mode),
        cmocka_unit_test(content_and_sources),
        cmocka_unit_test(errors),
        cmocka_unit_test(tokens),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
