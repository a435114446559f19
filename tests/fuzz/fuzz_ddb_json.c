/* fuzz_ddb_json.c - arbitrary bytes as the body of each DynamoDB operation,
 * through ddb_handle on a real store in a temporary directory.
 *
 * The first byte picks the operation, the rest is the body. Tables "fz1"
 * (hash key S) and "fz2" (hash S + range N) exist from the start and are
 * recreated whenever an input dropped them, so item operations reach deep. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddb.h"
#include "http.h"
#include "store.h"

static const char *const ops[] = {"PutItem",     "GetItem",       "DeleteItem", "Scan",
                                  "CreateTable", "DescribeTable", "ListTables", "DeleteTable",
                                  "UpdateTable", "NoSuchOp"};

static struct store *store;
static struct ddb *ddb;
static char dir[64];

static void cleanup(void)
{
    char cmd[128];

    ddb_close(ddb);
    store_close(store);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

static int run(const char *op, const char *body, size_t len)
{
    struct http_req *r = http_req_new("POST", "/");
    int status;

    buf_append(&r->body, body, len);
    ddb_handle(ddb, r, op, NULL);
    status = http_req_wait(r, NULL, NULL);
    http_req_free(r);
    return status;
}

static void ensure_tables(void)
{
    static const char t1[] =
        "{\"TableName\":\"fz1\",\"BillingMode\":\"PAY_PER_REQUEST\",\"KeySchema\":[{"
        "\"AttributeName\":\"id\",\"KeyType\":\"HASH\"}],\"AttributeDefinitions\":[{"
        "\"AttributeName\":\"id\",\"AttributeType\":\"S\"}]}";
    static const char t2[] =
        "{\"TableName\":\"fz2\",\"BillingMode\":\"PAY_PER_REQUEST\",\"KeySchema\":[{"
        "\"AttributeName\":\"pk\",\"KeyType\":\"HASH\"},{\"AttributeName\":\"sk\",\"KeyType\":"
        "\"RANGE\"}],\"AttributeDefinitions\":[{\"AttributeName\":\"pk\",\"AttributeType\":"
        "\"S\"},{\"AttributeName\":\"sk\",\"AttributeType\":\"N\"}]}";
    static const char u1[] = "{\"TableName\":\"fz1\",\"DeletionProtectionEnabled\":false}";
    static const char u2[] = "{\"TableName\":\"fz2\",\"DeletionProtectionEnabled\":false}";

    run("CreateTable", t1, sizeof(t1) - 1);
    run("CreateTable", t2, sizeof(t2) - 1);
    run("UpdateTable", u1, sizeof(u1) - 1);
    run("UpdateTable", u2, sizeof(u2) - 1);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct store_opts so = {0};
    struct ddb_opts o = {0};
    struct err e = {0};

    (void)argc;
    (void)argv;
    strcpy(dir, "/tmp/fuzz_ddb.XXXXXX");
    if (!mkdtemp(dir))
        abort();
    so.dir = dir;
    so.map_size = 1u << 30;
    so.nosync = true;
    if (store_open(&so, &store, &e))
        abort();
    o.store = store;
    o.region = "us-east-1";
    o.account = "123456789012";
    if (ddb_open(&o, &ddb, &e))
        abort();
    atexit(cleanup);
    ensure_tables();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *op;

    if (size < 1)
        return 0;
    op = ops[data[0] % (sizeof(ops) / sizeof(ops[0]))];
    run(op, (const char *)data + 1, size - 1);
    if (strcmp(op, "DeleteTable") == 0 || strcmp(op, "UpdateTable") == 0)
        ensure_tables();
    return 0;
}
