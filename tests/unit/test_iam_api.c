/* test_iam_api.c - the IAM API and the global-identity endpoints through
 * iam_handle / iam_internal_handle, with in-process requests on a real store
 * in a temp dir: entities, errors, access keys in creds, the change log a
 * home serves, forwarding from a region whose home is unreachable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "buf.h"
#include "creds.h"
#include "http.h"
#include "iam.h"
#include "store.h"

#define ACCOUNT "123456789012"

struct fixture {
    char dir[64];
    struct store *store;
    struct creds *creds;
    struct iam *iam;
    struct creds_identity root;
};

struct resp {
    int status;
    char body[8192];
    char seq[32]; /* X-Tandem-Iam-Seq */
};

static void open_region(struct fixture *f, const char *region, const char *home,
                        const char *home_url)
{
    struct store_opts so = {0};
    struct iam_opts io = {0};
    struct err e = {0};

    strcpy(f->dir, "/tmp/test_iam_api.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    so.dir = f->dir;
    so.map_size = 64u << 20;
    so.nosync = true;
    assert_int_equal(store_open(&so, &f->store, &e), ERR_OK);
    f->creds = creds_new();
    creds_set_account(f->creds, ACCOUNT);
    io.store = f->store;
    io.creds = f->creds;
    io.region = region;
    io.account = ACCOUNT;
    io.home = home;
    io.home_url = home_url;
    io.access_key = "AKIAROOTROOTROOT0000";
    io.secret = "rootsecret";
    assert_int_equal(iam_open(&io, &f->iam, &e), ERR_OK);
    memset(&f->root, 0, sizeof(f->root));
    strcpy(f->root.access_key, "AKIAROOTROOTROOT0000");
    strcpy(f->root.account, ACCOUNT);
    strcpy(f->root.user, "root");
    snprintf(f->root.arn, sizeof(f->root.arn), "arn:aws:iam::%s:root", ACCOUNT);
    f->root.root = true;
}

static int setup_home(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    open_region(f, "us-east-1", NULL, NULL);
    *state = f;
    return 0;
}

/* a region whose home (us-east-1) listens nowhere: port 1 refuses at once */
static int setup_cut_off(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    open_region(f, "us-west-2", "us-east-1", "http://127.0.0.1:1");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];

    iam_close(f->iam);
    store_close(f->store);
    creds_free(f->creds);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static struct resp finish(struct http_req *r)
{
    struct resp out = {0};
    const char *b, *seq;
    size_t len;

    out.status = http_req_wait(r, &b, &len);
    snprintf(out.body, sizeof(out.body), "%.*s", (int)len, b ? b : "");
    seq = http_req_resp_header(r, "X-Tandem-Iam-Seq");
    snprintf(out.seq, sizeof(out.seq), "%s", seq ? seq : "");
    http_req_free(r);
    return out;
}

/* call - one IAM query-protocol request (form body @form) as @who. */
static struct resp call(struct fixture *f, const struct creds_identity *who, const char *form)
{
    struct http_req *r = http_req_new("POST", "/");

    buf_puts(&r->body, form);
    iam_handle(f->iam, r, who);
    return finish(r);
}

static struct resp internal(struct fixture *f, const char *method, const char *uri,
                            const char *caller, const char *body)
{
    struct http_req *r = http_req_new(method, uri);

    if (caller)
        http_req_add_header(r, "x-tandem-iam-caller", caller);
    if (body)
        buf_puts(&r->body, body);
    iam_internal_handle(f->iam, r);
    return finish(r);
}

static void assert_code(const struct resp *r, int status, const char *code)
{
    char want[96];

    snprintf(want, sizeof(want), "<Code>%s</Code>", code);
    if (r->status != status || !strstr(r->body, want))
        fail_msg("want %d %s, got %d: %s", status, code, r->status, r->body);
}

static void test_users_and_errors(void **state)
{
    struct fixture *f = *state;
    struct resp r;

    r = call(f, &f->root, "Action=CreateUser&Version=2010-05-08&UserName=alice");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "<Arn>arn:aws:iam::123456789012:user/alice</Arn>"));
    r = call(f, &f->root, "Action=CreateUser&UserName=alice");
    assert_code(&r, 409, "EntityAlreadyExists");
    r = call(f, &f->root, "Action=GetUser&UserName=nobody");
    assert_code(&r, 404, "NoSuchEntity");
    r = call(f, &f->root, "Action=CreateUser&UserName=bad%2Fname");
    assert_code(&r, 400, "ValidationError");
    r = call(f, &f->root,
             "Action=PutUserPolicy&UserName=alice&PolicyName=p&PolicyDocument=%7Bnot+json");
    assert_code(&r, 400, "MalformedPolicyDocument");
    r = call(f, &f->root, "Action=NoSuchThing");
    assert_code(&r, 400, "InvalidAction");
    r = call(f, &f->root, "Version=2010-05-08");
    assert_code(&r, 400, "MissingAction");
    r = call(f, &f->root, "Action=ListUsers");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "<UserName>alice</UserName>"));
}

static void test_user_without_policy_is_denied(void **state)
{
    struct fixture *f = *state;
    struct creds_identity bob;
    struct resp r;

    r = call(f, &f->root, "Action=CreateUser&UserName=bob");
    assert_int_equal(r.status, 200);
    memset(&bob, 0, sizeof(bob));
    strcpy(bob.account, ACCOUNT);
    strcpy(bob.user, "bob");
    strcpy(bob.arn, "arn:aws:iam::123456789012:user/bob");
    r = call(f, &bob, "Action=CreateUser&UserName=eve");
    assert_code(&r, 403, "AccessDenied");
    r = call(f, &f->root,
             "Action=PutUserPolicy&UserName=bob&PolicyName=p&PolicyDocument="
             "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A"
             "%22Allow%22%2C%22Action%22%3A%22iam%3ACreateUser%22%2C%22Resource%22%3A%22*%22"
             "%7D%5D%7D");
    assert_int_equal(r.status, 200);
    r = call(f, &bob, "Action=CreateUser&UserName=eve");
    assert_int_equal(r.status, 200);
}

static void test_access_keys_in_creds(void **state)
{
    struct fixture *f = *state;
    struct creds_identity id;
    struct resp r;
    char akid[32] = "", form[128];
    const char *p;

    call(f, &f->root, "Action=CreateUser&UserName=carol");
    r = call(f, &f->root, "Action=CreateAccessKey&UserName=carol");
    assert_int_equal(r.status, 200);
    p = strstr(r.body, "<AccessKeyId>");
    assert_non_null(p);
    sscanf(p + 13, "%20[A-Z0-9]", akid);
    assert_true(creds_lookup(f->creds, akid, &id));
    assert_string_equal(id.arn, "arn:aws:iam::123456789012:user/carol");
    r = call(f, &f->root, "Action=DeleteUser&UserName=carol");
    assert_code(&r, 409, "DeleteConflict");
    snprintf(form, sizeof(form), "Action=DeleteAccessKey&UserName=carol&AccessKeyId=%s", akid);
    r = call(f, &f->root, form);
    assert_int_equal(r.status, 200);
    assert_false(creds_lookup(f->creds, akid, &id));
    r = call(f, &f->root, form);
    assert_code(&r, 404, "NoSuchEntity");
}

static void test_change_log(void **state)
{
    struct fixture *f = *state;
    struct resp r;
    cJSON *j;
    char uri[160], epoch[40];
    double seq;

    call(f, &f->root, "Action=CreateUser&UserName=dave");
    r = internal(f, "GET", "/_tandem/iam/changes?since=0", NULL, NULL);
    assert_int_equal(r.status, 200);
    j = cJSON_Parse(r.body);
    assert_non_null(j);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "snapshot")));
    seq = cJSON_GetObjectItem(j, "seq")->valuedouble;
    assert_true(seq >= 1);
    snprintf(epoch, sizeof(epoch), "%s", cJSON_GetObjectItem(j, "epoch")->valuestring);
    assert_non_null(strstr(r.body, "iam/user/dave"));
    cJSON_Delete(j);

    /* nothing newer: an empty answer at once when not asked to wait */
    snprintf(uri, sizeof(uri), "/_tandem/iam/changes?since=%.0f&epoch=%s", seq, epoch);
    r = internal(f, "GET", uri, NULL, NULL);
    j = cJSON_Parse(r.body);
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(j, "snapshot")));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "changes")), 0);
    cJSON_Delete(j);

    /* one change after it: only that change; a delete is a null value */
    call(f, &f->root, "Action=DeleteUser&UserName=dave");
    r = internal(f, "GET", uri, NULL, NULL);
    j = cJSON_Parse(r.body);
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(j, "snapshot")));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "changes")), 1);
    assert_true(cJSON_IsNull(
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "changes"), 0), "v")));
    assert_true(cJSON_GetObjectItem(j, "seq")->valuedouble == seq + 1);
    cJSON_Delete(j);

    /* another epoch: a snapshot */
    snprintf(uri, sizeof(uri), "/_tandem/iam/changes?since=%.0f&epoch=other", seq);
    r = internal(f, "GET", uri, NULL, NULL);
    assert_non_null(strstr(r.body, "\"snapshot\":true"));
}

static void test_forwarded_call_at_home(void **state)
{
    struct fixture *f = *state;
    struct resp r;

    r = internal(f, "POST", "/_tandem/iam/call",
                 "{\"arn\":\"arn:aws:iam::123456789012:user/zed\",\"user\":\"zed\","
                 "\"account\":\"123456789012\",\"root\":false}",
                 "Action=CreateRole&RoleName=r1&AssumeRolePolicyDocument=%7B%7D");
    assert_code(&r, 403, "AccessDenied");
    r = internal(f, "POST", "/_tandem/iam/call",
                 "{\"arn\":\"arn:aws:iam::123456789012:root\",\"user\":\"root\","
                 "\"account\":\"123456789012\",\"root\":true}",
                 "Action=CreateUser&UserName=fwd");
    assert_int_equal(r.status, 200);
    assert_true(r.seq[0] != '\0' && atoi(r.seq) >= 1);
    r = internal(f, "POST", "/_tandem/iam/call", NULL, "Action=CreateUser&UserName=x");
    assert_int_equal(r.status, 400);
    r = internal(f, "GET", "/_tandem/iam/nothing", NULL, NULL);
    assert_int_equal(r.status, 404);
}

static void test_cut_off_region(void **state)
{
    struct fixture *f = *state;
    struct resp r;

    assert_string_equal(iam_home_region(f->iam), "us-east-1");
    r = call(f, &f->root, "Action=CreateUser&UserName=late");
    assert_code(&r, 503, "ServiceUnavailable");
    assert_non_null(strstr(r.body, "us-east-1"));
    r = call(f, &f->root, "Action=ListUsers");
    assert_int_equal(r.status, 200);
    r = internal(f, "GET", "/_tandem/iam/changes?since=0", NULL, NULL);
    assert_int_equal(r.status, 421);
}

/* Groups' and boundaries' edges: quotas, filters, unknown names. */
static void test_group_edges(void **state)
{
    struct fixture *f = *state;
    struct creds_identity dana;
    struct resp r;
    char form[256];

    r = call(f, &f->root, "Action=CreateUser&UserName=dana");
    assert_int_equal(r.status, 200);
    for (int i = 0; i < 11; i++) {
        snprintf(form, sizeof(form), "Action=CreateGroup&GroupName=g%d&Path=%%2Fteam%%2F", i);
        assert_int_equal(call(f, &f->root, form).status, 200);
        snprintf(form, sizeof(form), "Action=AddUserToGroup&GroupName=g%d&UserName=dana", i);
        r = call(f, &f->root, form);
        if (i < 10)
            assert_int_equal(r.status, 200);
        else
            assert_code(&r, 409, "LimitExceeded");
    }
    r = call(f, &f->root, "Action=ListGroups&PathPrefix=%2Fteam%2F");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "<GroupName>g10</GroupName>"));
    r = call(f, &f->root, "Action=ListGroups&PathPrefix=%2Fother%2F");
    assert_null(strstr(r.body, "<GroupName>"));
    r = call(f, &f->root, "Action=ListGroupsForUser&UserName=nobody");
    assert_code(&r, 404, "NoSuchEntity");
    r = call(f, &f->root, "Action=DeleteGroup&GroupName=nobody");
    assert_code(&r, 404, "NoSuchEntity");
    r = call(f, &f->root, "Action=RemoveUserFromGroup&GroupName=nobody&UserName=dana");
    assert_code(&r, 404, "NoSuchEntity");
    r = call(f, &f->root, "Action=GetGroup");
    assert_code(&r, 400, "ValidationError");
    /* attachments: the group quota and ListEntitiesForPolicy's filters */
    r = call(f, &f->root,
             "Action=AttachGroupPolicy&GroupName=g0&PolicyArn="
             "arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FAmazonS3ReadOnlyAccess");
    assert_int_equal(r.status, 200);
    r = call(f, &f->root,
             "Action=AttachUserPolicy&UserName=dana&PolicyArn="
             "arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FAmazonS3ReadOnlyAccess");
    assert_int_equal(r.status, 200);
    r = call(f, &f->root,
             "Action=ListEntitiesForPolicy&EntityFilter=User&PolicyArn="
             "arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FAmazonS3ReadOnlyAccess");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "<UserName>dana</UserName>"));
    assert_null(strstr(r.body, "<GroupName>"));
    assert_non_null(strstr(r.body, "<PolicyGroups></PolicyGroups>"));
    r = call(f, &f->root,
             "Action=ListEntitiesForPolicy&PolicyArn="
             "arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FAmazonS3ReadOnlyAccess");
    assert_non_null(strstr(r.body, "<GroupName>g0</GroupName>"));
    r = call(
        f, &f->root,
        "Action=ListEntitiesForPolicy&PolicyArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Apolicy%2Fno");
    assert_code(&r, 404, "NoSuchEntity");
    r = call(f, &f->root, "Action=ListEntitiesForPolicy");
    assert_code(&r, 400, "ValidationError");
    r = call(f, &f->root,
             "Action=DetachGroupPolicy&GroupName=g0&PolicyArn="
             "arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FAdministratorAccess");
    assert_code(&r, 404, "NoSuchEntity");
    /* a user without permissions may not see or change groups */
    memset(&dana, 0, sizeof(dana));
    strcpy(dana.account, ACCOUNT);
    strcpy(dana.user, "dana");
    strcpy(dana.arn, "arn:aws:iam::123456789012:user/dana");
    r = call(f, &dana, "Action=GetGroup&GroupName=g0");
    assert_code(&r, 403, "AccessDenied");
    r = call(f, &dana, "Action=AddUserToGroup&GroupName=g1&UserName=dana");
    assert_code(&r, 403, "AccessDenied");
    /* boundaries: role creation with a bad one, and the usage count */
    r = call(f, &f->root,
             "Action=CreateRole&RoleName=r1&AssumeRolePolicyDocument=%7B%22Version%22%3A%222012-"
             "10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A"
             "%7B%22Service%22%3A%22lambda.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3A"
             "AssumeRole%22%7D%5D%7D&PermissionsBoundary=nonsense-but-twenty-chars");
    assert_code(&r, 400, "InvalidInput");
    r = call(f, &f->root, "Action=DeleteUserPermissionsBoundary&UserName=nobody");
    assert_code(&r, 404, "NoSuchEntity");
    r = call(f, &f->root,
             "Action=PutUserPermissionsBoundary&UserName=dana&PermissionsBoundary="
             "arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FAmazonS3ReadOnlyAccess");
    assert_int_equal(r.status, 200);
    r = call(
        f, &f->root,
        "Action=GetPolicy&PolicyArn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FAmazonS3ReadOnlyAccess");
    assert_non_null(
        strstr(r.body, "<PermissionsBoundaryUsageCount>1</PermissionsBoundaryUsageCount>"));
    r = call(f, &f->root, "Action=ListUsers");
    assert_null(strstr(r.body, "PermissionsBoundary"));
    r = call(f, &f->root, "Action=GetUser&UserName=dana");
    assert_non_null(strstr(r.body, "<PermissionsBoundaryType>Policy<"));
}

static void test_home_not_a_peer(void **state)
{
    struct store_opts so = {0};
    struct iam_opts io = {0};
    struct store *st = NULL;
    struct creds *cr = creds_new();
    struct iam *iam = NULL;
    struct err e = {0};
    char dir[64] = "/tmp/test_iam_api.XXXXXX", cmd[128];

    (void)state;
    assert_non_null(mkdtemp(dir));
    so.dir = dir;
    so.map_size = 64u << 20;
    so.nosync = true;
    assert_int_equal(store_open(&so, &st, &e), ERR_OK);
    io.store = st;
    io.creds = cr;
    io.region = "us-west-2";
    io.account = ACCOUNT;
    io.home = "eu-west-1";
    assert_int_equal(iam_open(&io, &iam, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "--peer eu-west-1=URL"));
    store_close(st);
    creds_free(cr);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_users_and_errors, setup_home, teardown),
        cmocka_unit_test_setup_teardown(test_group_edges, setup_home, teardown),
        cmocka_unit_test_setup_teardown(test_user_without_policy_is_denied, setup_home, teardown),
        cmocka_unit_test_setup_teardown(test_access_keys_in_creds, setup_home, teardown),
        cmocka_unit_test_setup_teardown(test_change_log, setup_home, teardown),
        cmocka_unit_test_setup_teardown(test_forwarded_call_at_home, setup_home, teardown),
        cmocka_unit_test_setup_teardown(test_cut_off_region, setup_cut_off, teardown),
        cmocka_unit_test(test_home_not_a_peer),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
