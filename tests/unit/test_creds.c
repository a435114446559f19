/* test_creds.c - the access-key registry: add, lookup, ARNs, the credentials
 * file and its errors, concurrent readers and writers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>

#include <cmocka.h>

#include "creds.h"

static struct creds_identity ident(const char *ak, const char *sk, const char *user, bool root)
{
    struct creds_identity id;

    memset(&id, 0, sizeof(id));
    snprintf(id.access_key, sizeof(id.access_key), "%s", ak);
    snprintf(id.secret, sizeof(id.secret), "%s", sk);
    snprintf(id.user, sizeof(id.user), "%s", user);
    id.root = root;
    return id;
}

static void test_add_lookup_arn(void **state)
{
    struct creds *c = creds_new();
    struct creds_identity id = ident("AKIAROOT", "s1", "", false), got;

    (void)state;
    assert_string_equal(creds_account(c), "000000000000");
    assert_false(creds_lookup(c, "AKIAROOT", &got));
    assert_int_equal(creds_add(c, &id, NULL), ERR_OK);
    assert_true(creds_lookup(c, "AKIAROOT", &got));
    assert_string_equal(got.secret, "s1");
    assert_string_equal(got.user, "root");
    assert_true(got.root);
    assert_string_equal(got.account, "000000000000");
    assert_string_equal(got.arn, "arn:aws:iam::000000000000:root");

    creds_set_account(c, "123456789012");
    assert_string_equal(creds_account(c), "123456789012");
    creds_set_account(c, "12345"); /* ignored: not 12 digits */
    assert_string_equal(creds_account(c), "123456789012");
    id = ident("AKIAALICE", "s2", "alice", false);
    assert_int_equal(creds_add(c, &id, NULL), ERR_OK);
    assert_true(creds_lookup(c, "AKIAALICE", &got));
    assert_string_equal(got.arn, "arn:aws:iam::123456789012:user/alice");
    assert_false(got.root);

    /* an explicit ARN and account are kept */
    id = ident("AKIASESS", "s3", "bob", false);
    strcpy(id.account, "210987654321");
    strcpy(id.arn, "arn:aws:sts::210987654321:assumed-role/r/bob");
    strcpy(id.session_token, "tok");
    id.expires = 42;
    assert_int_equal(creds_add(c, &id, NULL), ERR_OK);
    assert_true(creds_lookup(c, "AKIASESS", &got));
    assert_string_equal(got.arn, "arn:aws:sts::210987654321:assumed-role/r/bob");
    assert_string_equal(got.session_token, "tok");
    assert_int_equal(got.expires, 42);

    /* replace */
    id = ident("AKIAALICE", "rotated", "alice", false);
    assert_int_equal(creds_add(c, &id, NULL), ERR_OK);
    assert_true(creds_lookup(c, "AKIAALICE", &got));
    assert_string_equal(got.secret, "rotated");
    assert_false(creds_lookup(c, "AKIAALIC", &got));
    assert_false(creds_lookup(c, NULL, &got));
    creds_free(c);
    creds_free(NULL);
}

static void test_add_invalid(void **state)
{
    struct creds *c = creds_new();
    struct creds_identity id;
    struct err e;
    char longkey[200];

    (void)state;
    memset(longkey, 'A', sizeof(longkey) - 1);
    longkey[sizeof(longkey) - 1] = '\0';
    id = ident("", "s", "", true);
    assert_int_equal(creds_add(c, &id, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "access key"));
    id = ident("AKIA", "", "", true);
    assert_int_equal(creds_add(c, &id, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "secret"));
    id = ident("x", "s", "", true);
    memcpy(id.access_key, longkey, sizeof(id.access_key) - 1); /* the longest key fits */
    assert_int_equal(creds_add(c, &id, &e), ERR_OK);
    memset(id.access_key, 'B', sizeof(id.access_key)); /* unterminated */
    assert_int_equal(creds_add(c, &id, &e), ERR_INVALID);
    id = ident("AK/IA", "s", "", true);
    assert_int_equal(creds_add(c, &id, &e), ERR_INVALID);
    id = ident("AKIA", "s", "", true);
    strcpy(id.account, "12ab");
    assert_int_equal(creds_add(c, &id, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "12 digits"));
    assert_int_equal(creds_add(c, &id, NULL), ERR_INVALID);
    creds_free(c);
}

static char *write_tmp(const char *text)
{
    char *path = strdup("/tmp/test_creds_XXXXXX");
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_load_file(void **state)
{
    struct creds *c = creds_new();
    struct creds_identity got;
    struct err e;
    char *path = write_tmp("{\"credentials\": ["
                           " {\"accessKeyId\": \"AKIA1\", \"secretAccessKey\": \"s1\"},"
                           " {\"accessKeyId\": \"AKIA2\", \"secretAccessKey\": \"s2\","
                           "  \"account\": \"123456789012\", \"user\": \"alice\", \"root\": false},"
                           " {\"accessKeyId\": \"AKIA3\", \"secretAccessKey\": \"s3\","
                           "  \"user\": \"admin\", \"root\": true}]}");

    (void)state;
    creds_set_account(c, "111111111111");
    assert_int_equal(creds_load_file(c, path, &e), ERR_OK);
    assert_true(creds_lookup(c, "AKIA1", &got));
    assert_true(got.root);
    assert_string_equal(got.user, "root");
    assert_string_equal(got.arn, "arn:aws:iam::111111111111:root");
    assert_true(creds_lookup(c, "AKIA2", &got));
    assert_false(got.root);
    assert_string_equal(got.arn, "arn:aws:iam::123456789012:user/alice");
    assert_true(creds_lookup(c, "AKIA3", &got));
    assert_true(got.root);
    assert_string_equal(got.arn, "arn:aws:iam::111111111111:root");
    unlink(path);
    free(path);
    creds_free(c);
}

static void test_load_file_errors(void **state)
{
    static const struct {
        const char *text;
        enum err_code code;
        const char *msg; /* after "<path>: " */
    } cases[] = {
        {"{\"credentials\": [", ERR_INVALID, "not valid JSON"},
        {"[]", ERR_INVALID, "expected {\"credentials\": [...]}"},
        {"{\"credentials\": {}}", ERR_INVALID, "expected {\"credentials\": [...]}"},
        {"{\"credentials\": [1]}", ERR_INVALID, "credentials[0]: expected an object"},
        {"{\"credentials\": [{\"accessKeyId\": \"A\", \"secretAccessKey\": \"s\"},"
         " {\"accessKeyId\": \"B\"}]}",
         ERR_INVALID, "credentials[1]: secretAccessKey missing"},
        {"{\"credentials\": [{\"secretAccessKey\": \"s\"}]}", ERR_INVALID,
         "credentials[0]: accessKeyId missing"},
        {"{\"credentials\": [{\"accessKeyId\": 7, \"secretAccessKey\": \"s\"}]}", ERR_INVALID,
         "credentials[0]: \"accessKeyId\" must be a string"},
        {"{\"credentials\": [{\"accessKeyId\": \"A\", \"secretAccessKey\": \"s\", \"root\": 1}]}",
         ERR_INVALID, "credentials[0]: \"root\" must be true or false"},
        {"{\"credentials\": [{\"accessKeyId\": \"A\", \"secretAccessKey\": \"s\","
         " \"account\": \"42\"}]}",
         ERR_INVALID, "credentials[0]: account must be 12 digits"},
        {"{\"credentials\": [{\"accessKeyId\": \"A\", \"secretAccessKey\": \"s\","
         " \"user\": \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}]}",
         ERR_INVALID, "credentials[0]: \"user\" longer than 64 characters"},
    };
    struct creds_identity got;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct creds *c = creds_new();
        char *path = write_tmp(cases[i].text);
        char want[512];
        struct err e;

        snprintf(want, sizeof(want), "%s: %s", path, cases[i].msg);
        assert_int_equal(creds_load_file(c, path, &e), cases[i].code);
        if (strncmp(e.msg, want, strlen(want)) != 0)
            fail_msg("case %zu: got '%s', want prefix '%s'", i, e.msg, want);
        /* nothing from a bad file is added */
        assert_false(creds_lookup(c, "A", &got));
        unlink(path);
        free(path);
        creds_free(c);
    }
    {
        struct creds *c = creds_new();
        struct err e;
        assert_int_equal(creds_load_file(c, "/nonexistent/creds.json", &e), ERR_IO);
        assert_non_null(strstr(e.msg, "/nonexistent/creds.json"));
        creds_free(c);
    }
}

struct race {
    struct creds *c;
    int id;
};

static void *race_thread(void *arg)
{
    struct race *r = arg;
    char key[32];
    struct creds_identity got;

    for (int i = 0; i < 2000; i++) {
        if (r->id == 0) {
            struct creds_identity id;
            snprintf(key, sizeof(key), "AKIAW%05d", i);
            id = ident(key, "s", "", true);
            if (creds_add(r->c, &id, NULL) != ERR_OK)
                return (void *)1;
        } else {
            if (!creds_lookup(r->c, "AKIAFIXED", &got) || strcmp(got.secret, "fixed") != 0)
                return (void *)1;
            snprintf(key, sizeof(key), "AKIAW%05d", i);
            if (creds_lookup(r->c, key, &got) && strcmp(got.access_key, key) != 0)
                return (void *)1;
        }
    }
    return NULL;
}

static void test_threads(void **state)
{
    struct creds *c = creds_new();
    struct creds_identity id = ident("AKIAFIXED", "fixed", "", true), got;
    pthread_t t[4];
    struct race r[4];

    (void)state;
    assert_int_equal(creds_add(c, &id, NULL), ERR_OK);
    for (int i = 0; i < 4; i++) {
        r[i] = (struct race){c, i};
        assert_int_equal(pthread_create(&t[i], NULL, race_thread, &r[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        void *rv;
        pthread_join(t[i], &rv);
        assert_null(rv);
    }
    assert_true(creds_lookup(c, "AKIAW01999", &got));
    creds_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_lookup_arn), cmocka_unit_test(test_add_invalid),
        cmocka_unit_test(test_load_file),      cmocka_unit_test(test_load_file_errors),
        cmocka_unit_test(test_threads),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
