/* test_ddb.c - the DynamoDB API through ddb_handle, on a real store in a temp dir. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <zlib.h>

#include "buf.h"
#include "ddb.h"
#include "ddb_fixture.h"
#include "http.h"
#include "store.h"

struct resp {
    int status;
    cJSON *json; /* owned */
    char type[160];
    char msg[1024];
};

/* raw - one request; checks the headers every response must carry. */
static struct resp raw(struct ddb_fixture *f, const char *op, const char *body, size_t len,
                       bool too_large)
{
    struct http_req *r = http_req_new("POST", "/");
    struct resp out = {0};
    const char *rb, *crc, *rid, *ct;
    size_t rlen;
    char want[16];

    buf_append(&r->body, body, len);
    r->body_too_large = too_large;
    ddb_handle(f->ddb, r, op, NULL);
    out.status = http_req_wait(r, &rb, &rlen);
    crc = http_req_resp_header(r, "x-amz-crc32");
    rid = http_req_resp_header(r, "x-amzn-RequestId");
    ct = http_req_resp_header(r, "Content-Type");
    assert_non_null(crc);
    snprintf(want, sizeof(want), "%lu", crc32(0L, (const Bytef *)rb, (uInt)rlen));
    assert_string_equal(crc, want);
    assert_non_null(rid);
    assert_int_equal(strlen(rid), 52);
    for (const char *p = rid; *p; p++)
        assert_true((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9'));
    assert_non_null(ct);
    assert_string_equal(ct, "application/x-amz-json-1.0");
    out.json = cJSON_ParseWithLength(rb, rlen);
    if (!out.json)
        fail_msg("response is not JSON: %.*s", (int)rlen, rb);
    if (out.status != 200) {
        cJSON *t = cJSON_GetObjectItem(out.json, "__type");
        cJSON *m = cJSON_GetObjectItem(out.json, "message");
        assert_true(cJSON_IsString(t));
        snprintf(out.type, sizeof(out.type), "%s", t->valuestring);
        if (cJSON_IsString(m))
            snprintf(out.msg, sizeof(out.msg), "%s", m->valuestring);
    }
    http_req_free(r);
    return out;
}

static struct resp call(struct ddb_fixture *f, const char *op, const char *json)
{
    return raw(f, op, json, strlen(json), false);
}

/* callf - a request built with printf. */
__attribute__((format(printf, 3, 4))) static struct resp callf(struct ddb_fixture *f,
                                                               const char *op, const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    struct resp r;

    va_start(ap, fmt);
    assert_true(vasprintf(&s, fmt, ap) >= 0);
    va_end(ap);
    r = call(f, op, s);
    free(s);
    return r;
}

static cJSON *ok(struct ddb_fixture *f, const char *op, const char *json)
{
    struct resp r = call(f, op, json);

    if (r.status != 200)
        fail_msg("%s %s -> %d %s: %s", op, json, r.status, r.type, r.msg);
    return r.json;
}

static void expect_err(struct ddb_fixture *f, const char *op, const char *json, int status,
                       const char *type, const char *msg_part)
{
    struct resp r = call(f, op, json);

    if (r.status != status || !strstr(r.type, type) || (msg_part && !strstr(r.msg, msg_part)))
        fail_msg("%s %s -> %d %s: %s (wanted %d %s: %s)", op, json, r.status, r.type, r.msg, status,
                 type, msg_part ? msg_part : "");
    cJSON_Delete(r.json);
}

static const char *str_at(const cJSON *j, const char *a, const char *b)
{
    const cJSON *x = cJSON_GetObjectItem(j, a);
    if (b)
        x = cJSON_GetObjectItem(x, b);
    return cJSON_IsString(x) ? x->valuestring : NULL;
}

static double num_at(const cJSON *j, const char *a, const char *b)
{
    const cJSON *x = cJSON_GetObjectItem(j, a);
    if (b)
        x = cJSON_GetObjectItem(x, b);
    assert_true(cJSON_IsNumber(x));
    return x->valuedouble;
}

static void create_simple(struct ddb_fixture *f, const char *name, bool range)
{
    cJSON *j;

    if (range)
        j = callf(f, "CreateTable",
                  "{\"TableName\":\"%s\",\"BillingMode\":\"PAY_PER_REQUEST\","
                  "\"KeySchema\":[{\"AttributeName\":\"pk\",\"KeyType\":\"HASH\"},"
                  "{\"AttributeName\":\"sk\",\"KeyType\":\"RANGE\"}],"
                  "\"AttributeDefinitions\":[{\"AttributeName\":\"pk\",\"AttributeType\":\"S\"},"
                  "{\"AttributeName\":\"sk\",\"AttributeType\":\"N\"}]}",
                  name)
                .json;
    else
        j = callf(f, "CreateTable",
                  "{\"TableName\":\"%s\",\"BillingMode\":\"PAY_PER_REQUEST\","
                  "\"KeySchema\":[{\"AttributeName\":\"id\",\"KeyType\":\"HASH\"}],"
                  "\"AttributeDefinitions\":[{\"AttributeName\":\"id\",\"AttributeType\":\"S\"}]}",
                  name)
                .json;
    assert_non_null(cJSON_GetObjectItem(j, "TableDescription"));
    cJSON_Delete(j);
}

/* ---- tables ---- */

static void table_lifecycle(void **state)
{
    struct ddb_fixture *f = *state;
    cJSON *j, *t;

    j = ok(f, "CreateTable",
           "{\"TableName\":\"Music\",\"KeySchema\":[{\"AttributeName\":\"Artist\",\"KeyType\":"
           "\"HASH\"},{\"AttributeName\":\"Song\",\"KeyType\":\"RANGE\"}],"
           "\"AttributeDefinitions\":[{\"AttributeName\":\"Song\",\"AttributeType\":\"S\"},"
           "{\"AttributeName\":\"Artist\",\"AttributeType\":\"S\"}],"
           "\"ProvisionedThroughput\":{\"ReadCapacityUnits\":5,\"WriteCapacityUnits\":7},"
           "\"StreamSpecification\":{\"StreamEnabled\":true,\"StreamViewType\":\"NEW_IMAGE\"},"
           "\"Tags\":[{\"Key\":\"env\",\"Value\":\"dev\"}],\"TableClass\":\"STANDARD\"}");
    t = cJSON_GetObjectItem(j, "TableDescription");
    assert_string_equal(str_at(t, "TableStatus", NULL), "CREATING");
    assert_string_equal(str_at(t, "TableArn", NULL),
                        "arn:aws:dynamodb:us-east-1:123456789012:table/Music");
    assert_int_equal(strlen(str_at(t, "TableId", NULL)), 36);
    assert_true(strncmp(str_at(t, "LatestStreamArn", NULL),
                        "arn:aws:dynamodb:us-east-1:123456789012:table/Music/stream/20", 60) == 0);
    assert_non_null(
        strstr(str_at(t, "LatestStreamArn", NULL), str_at(t, "LatestStreamLabel", NULL)));
    assert_int_equal(num_at(t, "ProvisionedThroughput", "WriteCapacityUnits"), 7);
    assert_null(cJSON_GetObjectItem(t, "_id"));
    assert_null(cJSON_GetObjectItem(t, "_tags"));
    cJSON_Delete(j);

    expect_err(f, "CreateTable",
               "{\"TableName\":\"Music\",\"BillingMode\":\"PAY_PER_REQUEST\",\"KeySchema\":[{"
               "\"AttributeName\":\"a\",\"KeyType\":\"HASH\"}],\"AttributeDefinitions\":[{"
               "\"AttributeName\":\"a\",\"AttributeType\":\"S\"}]}",
               400, "#ResourceInUseException", "Table already exists: Music");

    j = ok(f, "DescribeTable", "{\"TableName\":\"Music\"}");
    t = cJSON_GetObjectItem(j, "Table");
    assert_string_equal(str_at(t, "TableStatus", NULL), "ACTIVE");
    assert_string_equal(str_at(t, "TableName", NULL), "Music");
    assert_int_equal(num_at(t, "ItemCount", NULL), 0);
    assert_int_equal(num_at(t, "TableSizeBytes", NULL), 0);
    assert_true(num_at(t, "CreationDateTime", NULL) > 1.6e9);
    /* created without BillingMode: no summary, as DynamoDB describes such a table */
    assert_null(cJSON_GetObjectItem(t, "BillingModeSummary"));
    assert_int_equal(num_at(t, "ProvisionedThroughput", "ReadCapacityUnits"), 5);
    assert_string_equal(str_at(t, "TableClassSummary", "TableClass"), "STANDARD");
    assert_true(cJSON_IsTrue(
        cJSON_GetObjectItem(cJSON_GetObjectItem(t, "StreamSpecification"), "StreamEnabled")));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(t, "KeySchema")), 2);
    cJSON_Delete(j);

    j = ok(f, "DeleteTable", "{\"TableName\":\"Music\"}");
    assert_string_equal(str_at(j, "TableDescription", "TableStatus"), "DELETING");
    cJSON_Delete(j);
    expect_err(f, "DescribeTable", "{\"TableName\":\"Music\"}", 400, "#ResourceNotFoundException",
               "Requested resource not found: Table: Music not found");
    expect_err(f, "DeleteTable", "{\"TableName\":\"Music\"}", 400, "ResourceNotFoundException",
               "Table: Music not found");
}

static void table_on_demand(void **state)
{
    struct ddb_fixture *f = *state;
    cJSON *j, *t;

    create_simple(f, "ondemand", false);
    j = ok(f, "DescribeTable", "{\"TableName\":\"ondemand\"}");
    t = cJSON_GetObjectItem(j, "Table");
    assert_string_equal(str_at(t, "BillingModeSummary", "BillingMode"), "PAY_PER_REQUEST");
    assert_int_equal(num_at(t, "ProvisionedThroughput", "ReadCapacityUnits"), 0);
    assert_int_equal(num_at(t, "ProvisionedThroughput", "NumberOfDecreasesToday"), 0);
    assert_null(cJSON_GetObjectItem(t, "StreamSpecification"));
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(t, "DeletionProtectionEnabled")));
    cJSON_Delete(j);
}

struct err_case {
    const char *op;
    const char *body;
    const char *type;
    const char *msg;
};

#define KS1 "\"KeySchema\":[{\"AttributeName\":\"id\",\"KeyType\":\"HASH\"}]"
#define AD1 "\"AttributeDefinitions\":[{\"AttributeName\":\"id\",\"AttributeType\":\"S\"}]"
#define PPR "\"BillingMode\":\"PAY_PER_REQUEST\""

static const struct err_case create_errors[] = {
    /* AWS answers CreateTable without TableName in the older wording
     * (nubo-db/dynamodb-conformance, against AWS in 2026) */
    {"CreateTable", "{}", "ValidationException",
     "The parameter 'TableName' is required but was not present in the request"},
    {"CreateTable", "{\"TableName\":\"ab\"," KS1 "," AD1 "," PPR "}", "ValidationException",
     "1 validation error detected: Value 'ab' at 'tableName' failed to satisfy constraint: "
     "Member must have length greater than or equal to 3"},
    {"CreateTable", "{\"TableName\":\"a b!\"," KS1 "," AD1 "," PPR "}", "ValidationException",
     "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"},
    {"CreateTable", "{\"TableName\":\"a!\"," KS1 "," AD1 "," PPR "}", "ValidationException",
     "2 validation errors detected: "},
    {"CreateTable", "{\"TableName\":\"tbl\"," PPR "}", "ValidationException",
     "Value null at 'keySchema'"},
    {"CreateTable", "{\"TableName\":\"tbl\"," KS1 "," PPR "}", "ValidationException",
     "Value null at 'attributeDefinitions'"},
    {"CreateTable", "{\"TableName\":\"tbl\",\"KeySchema\":[]," AD1 "," PPR "}",
     "ValidationException", "Member must have length greater than or equal to 1"},
    {"CreateTable",
     "{\"TableName\":\"tbl\",\"KeySchema\":[{\"AttributeName\":\"id\",\"KeyType\":\"HASH\"},{"
     "\"AttributeName\":\"a\",\"KeyType\":\"RANGE\"},{\"AttributeName\":\"b\",\"KeyType\":"
     "\"RANGE\"}]," AD1 "," PPR "}",
     "ValidationException", "Member must have length less than or equal to 2"},
    {"CreateTable",
     "{\"TableName\":\"tbl\",\"KeySchema\":[{\"AttributeName\":\"id\",\"KeyType\":\"RANGE\"}]," AD1
     "," PPR "}",
     "ValidationException", "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"},
    {"CreateTable",
     "{\"TableName\":\"tbl\",\"KeySchema\":[{\"AttributeName\":\"id\",\"KeyType\":\"HASH\"},{"
     "\"AttributeName\":\"x\",\"KeyType\":\"HASH\"}]," AD1 "," PPR "}",
     "ValidationException", "The second KeySchemaElement is not a RANGE key type"},
    {"CreateTable",
     "{\"TableName\":\"tbl\",\"KeySchema\":[{\"AttributeName\":\"id\",\"KeyType\":\"HASH\"},{"
     "\"AttributeName\":\"id\",\"KeyType\":\"RANGE\"}]," AD1 "," PPR "}",
     "ValidationException", "Both the Hash Key and the Range Key element in the KeySchema"},
    {"CreateTable",
     "{\"TableName\":\"tbl\",\"KeySchema\":[{\"AttributeName\":\"id\",\"KeyType\":\"BOTH\"}]," AD1
     "," PPR "}",
     "ValidationException",
     "Value 'BOTH' at 'keySchema.1.member.keyType' failed to satisfy constraint: Member must "
     "satisfy enum value set: [HASH, RANGE]"},
    {"CreateTable",
     "{\"TableName\":\"tbl\"," KS1
     ",\"AttributeDefinitions\":[{\"AttributeName\":\"id\",\"AttributeType\":\"X\"}]," PPR "}",
     "ValidationException",
     "Value 'X' at 'attributeDefinitions.1.member.attributeType' failed to satisfy constraint: "
     "Member must satisfy enum value set: [B, N, S]"},
    {"CreateTable",
     "{\"TableName\":\"tbl\"," KS1
     ",\"AttributeDefinitions\":[{\"AttributeName\":\"other\",\"AttributeType\":\"S\"}]," PPR "}",
     "ValidationException",
     "One or more parameter values were invalid: Some index key attributes are not defined in "
     "AttributeDefinitions. Keys: [id], AttributeDefinitions: [other]"},
    {"CreateTable",
     "{\"TableName\":\"tbl\"," KS1
     ",\"AttributeDefinitions\":[{\"AttributeName\":\"id\",\"AttributeType\":\"S\"},{"
     "\"AttributeName\":\"x\",\"AttributeType\":\"S\"}]," PPR "}",
     "ValidationException",
     "Number of attributes in KeySchema does not exactly match number of attributes defined in "
     "AttributeDefinitions"},
    {"CreateTable",
     "{\"TableName\":\"tbl\"," KS1
     ",\"AttributeDefinitions\":[{\"AttributeName\":\"id\",\"AttributeType\":\"S\"},{"
     "\"AttributeName\":\"id\",\"AttributeType\":\"N\"}]," PPR "}",
     "ValidationException", "Attribute Name is duplicated: id"},
    {"CreateTable", "{\"TableName\":\"tbl\"," KS1 "," AD1 "}", "ValidationException",
     "ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is "
     "PROVISIONED"},
    {"CreateTable",
     "{\"TableName\":\"tbl\"," KS1 "," AD1 "," PPR
     ",\"ProvisionedThroughput\":{\"ReadCapacityUnits\":1,\"WriteCapacityUnits\":1}}",
     "ValidationException",
     "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is "
     "PAY_PER_REQUEST"},
    {"CreateTable",
     "{\"TableName\":\"tbl\"," KS1 "," AD1
     ",\"ProvisionedThroughput\":{\"ReadCapacityUnits\":0,\"WriteCapacityUnits\":1}}",
     "ValidationException",
     "Value '0' at 'provisionedThroughput.readCapacityUnits' failed to satisfy constraint: "
     "Member must have value greater than or equal to 1"},
    {"CreateTable", "{\"TableName\":\"tbl\"," KS1 "," AD1 ",\"ProvisionedThroughput\":{}}",
     "ValidationException", "Value null at 'provisionedThroughput.writeCapacityUnits'"},
    {"CreateTable", "{\"TableName\":\"tbl\"," KS1 "," AD1 ",\"BillingMode\":\"FREE\"}",
     "ValidationException", "at 'billingMode' failed to satisfy constraint"},
    {"CreateTable",
     "{\"TableName\":\"tbl\"," KS1 "," AD1 "," PPR ",\"GlobalSecondaryIndexes\":[{}]}",
     "ValidationException", "Value null at 'globalSecondaryIndexes.1.member.indexName'"},
    {"CreateTable",
     "{\"TableName\":\"tbl\"," KS1 "," AD1 "," PPR ",\"StreamSpecification\":{\"StreamEnabled\":"
     "true}}",
     "ValidationException", "StreamViewType is required when StreamEnabled is true"},
    {"CreateTable",
     "{\"TableName\":\"tbl\"," KS1 "," AD1 "," PPR ",\"StreamSpecification\":{\"StreamEnabled\":"
     "false,\"StreamViewType\":\"KEYS_ONLY\"}}",
     "ValidationException", "StreamViewType cannot be specified"},
    {"CreateTable", "{\"TableName\":\"tbl\"," KS1 "," AD1 "," PPR ",\"StreamSpecification\":{}}",
     "ValidationException", "Value null at 'streamSpecification.streamEnabled'"},
    {"CreateTable", "{\"TableName\":\"tbl\"," KS1 "," AD1 "," PPR ",\"TableClass\":\"GOLD\"}",
     "ValidationException", "Invalid table-class parameter provided"},
    {"CreateTable",
     "{\"TableName\":\"tbl\"," KS1 "," AD1 "," PPR ",\"Tags\":[{\"Key\":\"\",\"Value\":\"x\"},{"
     "\"Value\":\"x\"}]}",
     "ValidationException", "2 validation errors detected"},
    {"CreateTable", "{\"TableName\":5}", "com.amazon.coral.service#SerializationException",
     "NUMBER_VALUE can not be converted to a String"},
    {"CreateTable", "{\"TableName\":\"tbl\",\"KeySchema\":{}}",
     "com.amazon.coral.service#SerializationException", "Start of structure or map"},
    {"CreateTable", "{\"TableName\":[1]}", "SerializationException", "Start of list"},
    {"CreateTable", "{\"TableName\":\"tbl\",\"DeletionProtectionEnabled\":\"yes\"}",
     "SerializationException", "STRING_VALUE can not be converted to a Boolean"},
    {"DescribeTable", "{}", "ValidationException", "Value null at 'tableName'"},
    {"DeleteTable", "{\"TableName\":\"x\"}", "ValidationException", "greater than or equal to 3"},
    {"ListTables", "{\"Limit\":0}", "ValidationException",
     "Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or "
     "equal to 1"},
    {"ListTables", "{\"Limit\":101}", "ValidationException", "less than or equal to 100"},
    {"ListTables", "{\"Limit\":1.5}", "SerializationException", "Integer"},
    {"ListTables", "{\"Limit\":\"3\"}", "SerializationException", "STRING_VALUE"},
    {"UpdateTable", "{\"TableName\":\"missing\",\"DeletionProtectionEnabled\":true}",
     "ResourceNotFoundException", "Table: missing not found"},
    {"UpdateTable", "{\"TableName\":\"whatever\"}", "ValidationException",
     "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled"},
    {"UpdateTable", "{\"TableName\":\"whatever\",\"GlobalSecondaryIndexUpdates\":[]}",
     "ValidationException", "List of GlobalSecondaryIndexUpdates is empty"},
    {"UpdateTable", "{\"TableName\":\"whatever\",\"ReplicaUpdates\":[]}", "ValidationException",
     "Member must have length greater than or equal to 1"},
    {"UpdateTable", "{\"TableName\":\"whatever\",\"ReplicaUpdates\":[{\"Update\":{}}]}",
     "ValidationException", "Value null at 'replicaUpdates.1.member.update.regionName'"},
    {"UpdateTable",
     "{\"TableName\":\"whatever\",\"ReplicaUpdates\":[{\"Update\":{\"RegionName\":\"x\"}}]}",
     "ResourceNotFoundException", "Table: whatever not found"},
    {"UpdateTable",
     "{\"TableName\":\"whatever\",\"ReplicaUpdates\":[{\"Create\":{\"RegionName\":\"x\"},"
     "\"Delete\":{\"RegionName\":\"x\"}}]}",
     "ValidationException", "One of Create, Update, or Delete"},
    {"UpdateTable", "{\"TableName\":\"whatever\",\"StreamSpecification\":{\"StreamEnabled\":true}}",
     "ValidationException", "StreamViewType is required"},
};

/* the length constraints of several operations' string members, word for word */
#define LEN_MIN "failed to satisfy constraint: Member must have length greater than or equal to "
#define LEN_MAX "failed to satisfy constraint: Member must have length less than or equal to "
#define VAL_MIN "failed to satisfy constraint: Member must have value greater than or equal to "
#define VAL_MAX "failed to satisfy constraint: Member must have value less than or equal to "
#define TOKEN37 "0123456789012345678901234567890123456"

static const struct err_case length_errors[] = {
    {"CreateBackup", "{\"TableName\":\"\",\"BackupName\":\"ab\"}", "ValidationException",
     "2 validation errors detected: Value '' at 'tableName' " LEN_MIN "1; Value 'ab' at "
     "'backupName' " LEN_MIN "3"},
    {"CreateBackup", "{\"TableName\":\"tbl\",\"BackupName\":\"a b\"}", "ValidationException",
     "1 validation error detected: Value 'a b' at 'backupName' failed to satisfy constraint: "
     "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"},
    {"CreateBackup", "{\"TableName\":\"tbl\"}", "ValidationException",
     "1 validation error detected: Value null at 'backupName' failed to satisfy constraint: "
     "Member must not be null"},
    {"DescribeBackup", "{\"BackupArn\":\"arn:x\"}", "ValidationException",
     "1 validation error detected: Value 'arn:x' at 'backupArn' " LEN_MIN "37"},
    {"ListBackups", "{\"TableName\":\"\"}", "ValidationException",
     "1 validation error detected: Value '' at 'tableName' " LEN_MIN "1"},
    {"UpdateContinuousBackups",
     "{\"TableName\":\"\",\"PointInTimeRecoverySpecification\":{\"PointInTimeRecoveryEnabled\":"
     "true}}",
     "ValidationException", "1 validation error detected: Value '' at 'tableName' " LEN_MIN "1"},
    {"TagResource", "{\"ResourceArn\":\"\",\"Tags\":[{\"Key\":\"k\",\"Value\":\"v\"}]}",
     "ValidationException", "1 validation error detected: Value '' at 'resourceArn' " LEN_MIN "1"},
    {"TransactWriteItems", "{\"TransactItems\":[],\"ClientRequestToken\":\"" TOKEN37 "\"}",
     "ValidationException", "Value '" TOKEN37 "' at 'clientRequestToken' " LEN_MAX "36"},
    {"UpdateTimeToLive",
     "{\"TableName\":\"tbl\",\"TimeToLiveSpecification\":{\"Enabled\":true,\"AttributeName\":"
     "\"\"}}",
     "ValidationException",
     "1 validation error detected: Value '' at 'timeToLiveSpecification.attributeName' " LEN_MIN
     "1"},
    {"CreateTable",
     "{\"TableName\":\"tbl\",\"KeySchema\":[{\"AttributeName\":\"\",\"KeyType\":\"HASH\"}]," AD1
     "," PPR "}",
     "ValidationException", "Value '' at 'keySchema.1.member.attributeName' " LEN_MIN "1"},
    /* of list members */
    {"TransactWriteItems", "{\"TransactItems\":[]}", "ValidationException",
     "1 validation error detected: Value '[]' at 'transactItems' " LEN_MIN "1"},
    {"TagResource",
     "{\"ResourceArn\":\"arn:aws:dynamodb:us-east-1:000000000000:table/tbl\","
     "\"Tags\":[]}",
     "ValidationException", "1 validation error detected: Value '[]' at 'tags' " LEN_MIN "1"},
    {"GetItem", "{\"TableName\":\"tbl\",\"Key\":{\"id\":{\"S\":\"a\"}},\"AttributesToGet\":[]}",
     "ValidationException",
     "1 validation error detected: Value '[]' at 'attributesToGet' " LEN_MIN "1"},
    {"UpdateTable", "{\"TableName\":\"tbl\",\"ReplicaUpdates\":[]}", "ValidationException",
     "1 validation error detected: Value '[]' at 'replicaUpdates' " LEN_MIN "1"},
    {"BatchExecuteStatement", "{\"Statements\":[]}", "ValidationException",
     "1 validation error detected: Value '[]' at 'statements' " LEN_MIN "1"},
    {"ExecuteTransaction", "{\"TransactStatements\":[]}", "ValidationException",
     "1 validation error detected: Value '[]' at 'transactStatements' " LEN_MIN "1"},
    {"ExecuteStatement", "{\"Statement\":\"SELECT * FROM tbl\",\"Parameters\":[]}",
     "ValidationException", "1 validation error detected: Value '[]' at 'parameters' " LEN_MIN "1"},
    {"BatchExecuteStatement",
     "{\"Statements\":[{\"Statement\":\"SELECT * FROM tbl\",\"Parameters\":[]}]}",
     "ValidationException",
     "1 validation error detected: Value '[]' at 'statements.1.member.parameters' " LEN_MIN "1"},
    {"BatchGetItem", "{\"RequestItems\":{\"tbl\":{\"Keys\":[]}}}", "ValidationException",
     "1 validation error detected: Value '[]' at 'requestItems.tbl.member.keys' " LEN_MIN "1"},
    /* and of integer members */
    {"ListBackups", "{\"Limit\":0}", "ValidationException",
     "1 validation error detected: Value '0' at 'limit' " VAL_MIN "1"},
    {"ListBackups", "{\"Limit\":101}", "ValidationException",
     "1 validation error detected: Value '101' at 'limit' " VAL_MAX "100"},
    {"UpdateContinuousBackups",
     "{\"TableName\":\"tbl\",\"PointInTimeRecoverySpecification\":{"
     "\"PointInTimeRecoveryEnabled\":true,\"RecoveryPeriodInDays\":36}}",
     "ValidationException",
     "1 validation error detected: Value '36' at "
     "'pointInTimeRecoverySpecification.recoveryPeriodInDays' " VAL_MAX "35"},
    {"Scan", "{\"TableName\":\"tbl\",\"Segment\":-1,\"TotalSegments\":0}", "ValidationException",
     "2 validation errors detected: Value '-1' at 'segment' " VAL_MIN "0; Value '0' at "
     "'totalSegments' " VAL_MIN "1"},
    {"Scan", "{\"TableName\":\"tbl\",\"Segment\":1000000,\"TotalSegments\":1000001}",
     "ValidationException",
     "2 validation errors detected: Value '1000000' at 'segment' " VAL_MAX "999999; Value "
     "'1000001' at 'totalSegments' " VAL_MAX "1000000"},
    {"Query", "{\"TableName\":\"tbl\",\"Limit\":0}", "ValidationException",
     "Value '0' at 'limit' " VAL_MIN "1"},
    {"ExecuteStatement", "{\"Statement\":\"SELECT * FROM tbl\",\"Limit\":0}", "ValidationException",
     "1 validation error detected: Value '0' at 'limit' " VAL_MIN "1"},
    {"ListExports", "{\"MaxResults\":26}", "ValidationException",
     "1 validation error detected: Value '26' at 'maxResults' " VAL_MAX "25"},
    {"ListImports", "{\"PageSize\":0}", "ValidationException",
     "1 validation error detected: Value '0' at 'pageSize' " VAL_MIN "1"},
    {"CreateTable",
     "{\"TableName\":\"tbl\"," KS1 "," AD1 ",\"ProvisionedThroughput\":{\"ReadCapacityUnits\":"
     "0,\"WriteCapacityUnits\":-2}}",
     "ValidationException",
     "2 validation errors detected: Value '0' at 'provisionedThroughput.readCapacityUnits' " VAL_MIN
     "1; Value '-2' at 'provisionedThroughput.writeCapacityUnits' " VAL_MIN "1"},
};

static void run_cases(struct ddb_fixture *f, const struct err_case *cs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        expect_err(f, cs[i].op, cs[i].body, strstr(cs[i].type, "Internal") ? 500 : 400, cs[i].type,
                   cs[i].msg);
}

static void table_errors(void **state)
{
    struct ddb_fixture *f = *state;
    cJSON *j;

    run_cases(f, create_errors, sizeof(create_errors) / sizeof(create_errors[0]));
    /* nothing was created by the failures */
    j = ok(f, "ListTables", "{}");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "TableNames")), 0);
    cJSON_Delete(j);
}

static void length_errors_all(void **state)
{
    struct ddb_fixture *f = *state;
    char body[2048], name[257], want[1024];
    size_t n;

    run_cases(f, length_errors, sizeof(length_errors) / sizeof(length_errors[0]));
    /* CreateTable takes at most 50 tags */
    n = (size_t)snprintf(body, sizeof(body),
                         "{\"TableName\":\"tbl\"," KS1 "," AD1 "," PPR ",\"Tags\":[");
    for (int i = 0; i < 51; i++)
        n += (size_t)snprintf(body + n, sizeof(body) - n, "%s{\"Key\":\"k%d\",\"Value\":\"v\"}",
                              i ? "," : "", i);
    snprintf(body + n, sizeof(body) - n, "]}");
    expect_err(f, "CreateTable", body, 400, "ValidationException",
               "1 validation error detected: Value '[...]' at 'tags' " LEN_MAX "50");
    /* BatchExecuteStatement takes at most 25 statements */
    n = (size_t)snprintf(body, sizeof(body), "{\"Statements\":[");
    for (int i = 0; i < 26; i++)
        n += (size_t)snprintf(body + n, sizeof(body) - n, "%s{\"Statement\":\"SELECT * FROM t\"}",
                              i ? "," : "");
    snprintf(body + n, sizeof(body) - n, "]}");
    expect_err(f, "BatchExecuteStatement", body, 400, "ValidationException",
               "1 validation error detected: Value '[...]' at 'statements' " LEN_MAX "25");
    /* BatchGetItem takes at most 100 keys */
    n = (size_t)snprintf(body, sizeof(body), "{\"RequestItems\":{\"tbl\":{\"Keys\":[");
    for (int i = 0; i < 101; i++)
        n += (size_t)snprintf(body + n, sizeof(body) - n, "%s{}", i ? "," : "");
    snprintf(body + n, sizeof(body) - n, "]}}}");
    expect_err(
        f, "BatchGetItem", body, 400, "ValidationException",
        "1 validation error detected: Value '[...]' at 'requestItems.tbl.member.keys' " LEN_MAX
        "100");
    /* a table name too long and off the pattern: both errors, in the model's order */
    memset(name, 'a', 255);
    strcpy(name + 255, "!");
    snprintf(body, sizeof(body), "{\"TableName\":\"%s\"}", name);
    snprintf(want, sizeof(want),
             "2 validation errors detected: Value '%s' at 'tableName' " LEN_MAX
             "255; Value '%s' at 'tableName' failed to satisfy constraint: Member must satisfy "
             "regular expression pattern: [a-zA-Z0-9_.-]+",
             name, name);
    expect_err(f, "DescribeTable", body, 400, "ValidationException", want);
    create_simple(f, "rep", false);
    expect_err(
        f, "UpdateTable",
        "{\"TableName\":\"rep\",\"ReplicaUpdates\":[{\"Update\":{\"RegionName\":"
        "\"us-west-2\",\"ProvisionedThroughputOverride\":{\"ReadCapacityUnits\":0}}}]}",
        400, "ValidationException",
        "1 validation error detected: Value '0' at "
        "'replicaUpdates.1.member.update.provisionedThroughputOverride.readCapacityUnits' " VAL_MIN
        "1");
}

static void list_tables_paging(void **state)
{
    struct ddb_fixture *f = *state;
    const char *names[] = {"delta", "alpha", "echo", "charlie", "bravo"};
    const char *sorted[] = {"alpha", "bravo", "charlie", "delta", "echo"};
    char start[64] = "";
    int seen = 0;
    cJSON *j;

    for (int i = 0; i < 5; i++)
        create_simple(f, names[i], false);
    j = ok(f, "ListTables", "{}");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "TableNames")), 5);
    assert_null(cJSON_GetObjectItem(j, "LastEvaluatedTableName"));
    for (int i = 0; i < 5; i++)
        assert_string_equal(
            cJSON_GetArrayItem(cJSON_GetObjectItem(j, "TableNames"), i)->valuestring, sorted[i]);
    cJSON_Delete(j);
    for (;;) {
        const char *lek;
        cJSON *arr, *it;

        if (*start)
            j = callf(f, "ListTables", "{\"Limit\":2,\"ExclusiveStartTableName\":\"%s\"}", start)
                    .json;
        else
            j = ok(f, "ListTables", "{\"Limit\":2}");
        arr = cJSON_GetObjectItem(j, "TableNames");
        cJSON_ArrayForEach(it, arr) assert_string_equal(it->valuestring, sorted[seen++]);
        lek = str_at(j, "LastEvaluatedTableName", NULL);
        if (!lek) {
            cJSON_Delete(j);
            break;
        }
        snprintf(start, sizeof(start), "%s", lek);
        cJSON_Delete(j);
    }
    assert_int_equal(seen, 5);
}

static void update_table(void **state)
{
    struct ddb_fixture *f = *state;
    cJSON *j, *t;
    char arn1[300];

    j = ok(f, "CreateTable",
           "{\"TableName\":\"upd\"," KS1 "," AD1
           ",\"ProvisionedThroughput\":{\"ReadCapacityUnits\":5,\"WriteCapacityUnits\":5}}");
    cJSON_Delete(j);

    expect_err(f, "UpdateTable",
               "{\"TableName\":\"upd\",\"ProvisionedThroughput\":{\"ReadCapacityUnits\":5,"
               "\"WriteCapacityUnits\":5}}",
               400, "ValidationException",
               "The provisioned throughput for the table will not change");
    j = ok(f, "UpdateTable",
           "{\"TableName\":\"upd\",\"ProvisionedThroughput\":{\"ReadCapacityUnits\":9,"
           "\"WriteCapacityUnits\":3}}");
    t = cJSON_GetObjectItem(j, "TableDescription");
    assert_int_equal(num_at(t, "ProvisionedThroughput", "ReadCapacityUnits"), 9);
    cJSON_Delete(j);

    expect_err(f, "UpdateTable",
               "{\"TableName\":\"upd\",\"BillingMode\":\"PAY_PER_REQUEST\","
               "\"ProvisionedThroughput\":{\"ReadCapacityUnits\":1,\"WriteCapacityUnits\":1}}",
               400, "ValidationException", "Neither ReadCapacityUnits nor WriteCapacityUnits");
    j = ok(f, "UpdateTable", "{\"TableName\":\"upd\",\"BillingMode\":\"PAY_PER_REQUEST\"}");
    cJSON_Delete(j);
    j = ok(f, "DescribeTable", "{\"TableName\":\"upd\"}");
    t = cJSON_GetObjectItem(j, "Table");
    assert_string_equal(str_at(t, "BillingModeSummary", "BillingMode"), "PAY_PER_REQUEST");
    assert_int_equal(num_at(t, "ProvisionedThroughput", "ReadCapacityUnits"), 0);
    cJSON_Delete(j);
    expect_err(f, "UpdateTable", "{\"TableName\":\"upd\",\"BillingMode\":\"PROVISIONED\"}", 400,
               "ValidationException", "ProvisionedThroughput must be specified");
    j = ok(f, "UpdateTable",
           "{\"TableName\":\"upd\",\"BillingMode\":\"PROVISIONED\",\"ProvisionedThroughput\":{"
           "\"ReadCapacityUnits\":2,\"WriteCapacityUnits\":2}}");
    cJSON_Delete(j);

    /* streams: enable, enable again, disable, disable again, re-enable gives a new ARN */
    expect_err(f, "UpdateTable",
               "{\"TableName\":\"upd\",\"StreamSpecification\":{\"StreamEnabled\":false}}", 400,
               "ValidationException", "stream disabled");
    j = ok(f, "UpdateTable",
           "{\"TableName\":\"upd\",\"StreamSpecification\":{\"StreamEnabled\":true,"
           "\"StreamViewType\":\"NEW_AND_OLD_IMAGES\"}}");
    t = cJSON_GetObjectItem(j, "TableDescription");
    snprintf(arn1, sizeof(arn1), "%s", str_at(t, "LatestStreamArn", NULL));
    assert_string_equal(str_at(t, "StreamSpecification", "StreamViewType"), "NEW_AND_OLD_IMAGES");
    cJSON_Delete(j);
    expect_err(f, "UpdateTable",
               "{\"TableName\":\"upd\",\"StreamSpecification\":{\"StreamEnabled\":true,"
               "\"StreamViewType\":\"KEYS_ONLY\"}}",
               400, "ValidationException", "already has an enabled stream");
    j = ok(f, "UpdateTable",
           "{\"TableName\":\"upd\",\"StreamSpecification\":{\"StreamEnabled\":false}}");
    assert_null(
        cJSON_GetObjectItem(cJSON_GetObjectItem(j, "TableDescription"), "StreamSpecification"));
    cJSON_Delete(j);
    usleep(2000);
    j = ok(f, "UpdateTable",
           "{\"TableName\":\"upd\",\"StreamSpecification\":{\"StreamEnabled\":true,"
           "\"StreamViewType\":\"KEYS_ONLY\"}}");
    assert_string_not_equal(
        str_at(cJSON_GetObjectItem(j, "TableDescription"), "LatestStreamArn", NULL), arn1);
    cJSON_Delete(j);

    /* deletion protection */
    j = ok(f, "UpdateTable", "{\"TableName\":\"upd\",\"DeletionProtectionEnabled\":true}");
    t = cJSON_GetObjectItem(j, "TableDescription");
    assert_string_equal(str_at(t, "TableStatus", NULL), "ACTIVE");
    cJSON_Delete(j);
    /* a change of table class is UPDATING while it happens */
    j = ok(f, "UpdateTable",
           "{\"TableName\":\"upd\",\"TableClass\":\"STANDARD_INFREQUENT_ACCESS\"}");
    t = cJSON_GetObjectItem(j, "TableDescription");
    assert_string_equal(str_at(t, "TableStatus", NULL), "UPDATING");
    assert_string_equal(str_at(t, "TableClassSummary", "TableClass"), "STANDARD_INFREQUENT_ACCESS");
    cJSON_Delete(j);
    expect_err(f, "DeleteTable", "{\"TableName\":\"upd\"}", 400, "ValidationException",
               "protected against deletion");
    cJSON_Delete(ok(f, "DescribeTable", "{\"TableName\":\"upd\"}"));
    cJSON_Delete(
        ok(f, "UpdateTable", "{\"TableName\":\"upd\",\"DeletionProtectionEnabled\":false}"));
    cJSON_Delete(ok(f, "DeleteTable", "{\"TableName\":\"upd\"}"));
}

/* ---- items ---- */

static void put_get_delete(void **state)
{
    struct ddb_fixture *f = *state;
    cJSON *j, *it;

    create_simple(f, "items", false);
    j = ok(f, "PutItem",
           "{\"TableName\":\"items\",\"Item\":{\"id\":{\"S\":\"a\"},\"n\":{\"N\":\"01.50\"},"
           "\"m\":{\"M\":{\"x\":{\"L\":[{\"S\":\"y\"},{\"BOOL\":true}]}}}}}");
    assert_null(cJSON_GetObjectItem(j, "Attributes"));
    cJSON_Delete(j);

    j = ok(f, "GetItem", "{\"TableName\":\"items\",\"Key\":{\"id\":{\"S\":\"a\"}}}");
    it = cJSON_GetObjectItem(j, "Item");
    assert_string_equal(str_at(it, "id", "S"), "a");
    assert_string_equal(str_at(it, "n", "N"), "1.5");
    assert_non_null(cJSON_GetObjectItem(it, "m"));
    cJSON_Delete(j);

    /* projection with a #name */
    j = ok(f, "GetItem",
           "{\"TableName\":\"items\",\"Key\":{\"id\":{\"S\":\"a\"}},\"ProjectionExpression\":"
           "\"#n, id\",\"ExpressionAttributeNames\":{\"#n\":\"n\"},\"ConsistentRead\":true,"
           "\"ReturnConsumedCapacity\":\"TOTAL\"}");
    it = cJSON_GetObjectItem(j, "Item");
    assert_string_equal(str_at(it, "n", "N"), "1.5");
    assert_null(cJSON_GetObjectItem(it, "m"));
    assert_int_equal(num_at(j, "ConsumedCapacity", "CapacityUnits") * 10, 10);
    assert_string_equal(str_at(j, "ConsumedCapacity", "TableName"), "items");
    cJSON_Delete(j);

    /* absent item */
    j = ok(f, "GetItem", "{\"TableName\":\"items\",\"Key\":{\"id\":{\"S\":\"zz\"}}}");
    assert_null(j->child);
    cJSON_Delete(j);
    j = ok(f, "GetItem",
           "{\"TableName\":\"items\",\"Key\":{\"id\":{\"S\":\"zz\"}},\"ReturnConsumedCapacity\":"
           "\"INDEXES\"}");
    assert_int_equal(num_at(j, "ConsumedCapacity", "CapacityUnits") * 10, 5);
    assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "ConsumedCapacity"), "Table"));
    cJSON_Delete(j);

    /* overwrite returning the old item */
    j = ok(f, "PutItem",
           "{\"TableName\":\"items\",\"Item\":{\"id\":{\"S\":\"a\"},\"v\":{\"S\":\"two\"}},"
           "\"ReturnValues\":\"ALL_OLD\",\"ReturnConsumedCapacity\":\"TOTAL\"}");
    assert_string_equal(str_at(cJSON_GetObjectItem(j, "Attributes"), "n", "N"), "1.5");
    assert_int_equal(num_at(j, "ConsumedCapacity", "CapacityUnits"), 1);
    cJSON_Delete(j);

    /* delete with ALL_OLD, then again (absent: no Attributes) */
    j = ok(f, "DeleteItem",
           "{\"TableName\":\"items\",\"Key\":{\"id\":{\"S\":\"a\"}},\"ReturnValues\":\"ALL_OLD\","
           "\"ReturnConsumedCapacity\":\"TOTAL\"}");
    assert_string_equal(str_at(cJSON_GetObjectItem(j, "Attributes"), "v", "S"), "two");
    cJSON_Delete(j);
    j = ok(f, "DeleteItem",
           "{\"TableName\":\"items\",\"Key\":{\"id\":{\"S\":\"a\"}},\"ReturnValues\":\"ALL_OLD\"}");
    assert_null(j->child);
    cJSON_Delete(j);
    j = ok(f, "GetItem", "{\"TableName\":\"items\",\"Key\":{\"id\":{\"S\":\"a\"}}}");
    assert_null(cJSON_GetObjectItem(j, "Item"));
    cJSON_Delete(j);
}

static void conditions(void **state)
{
    struct ddb_fixture *f = *state;
    cJSON *j, *it;
    struct resp r;

    create_simple(f, "cond", false);
    cJSON_Delete(ok(f, "PutItem",
                    "{\"TableName\":\"cond\",\"Item\":{\"id\":{\"S\":\"k\"},\"v\":{\"N\":\"1\"}},"
                    "\"ConditionExpression\":\"attribute_not_exists(id)\"}"));
    /* second create-if-absent fails and leaves the item alone */
    expect_err(f, "PutItem",
               "{\"TableName\":\"cond\",\"Item\":{\"id\":{\"S\":\"k\"},\"v\":{\"N\":\"2\"}},"
               "\"ConditionExpression\":\"attribute_not_exists(id)\"}",
               400, "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
               "The conditional request failed");
    j = ok(f, "GetItem", "{\"TableName\":\"cond\",\"Key\":{\"id\":{\"S\":\"k\"}}}");
    assert_string_equal(str_at(cJSON_GetObjectItem(j, "Item"), "v", "N"), "1");
    cJSON_Delete(j);

    /* the old item comes back on failure when asked */
    r = call(f, "PutItem",
             "{\"TableName\":\"cond\",\"Item\":{\"id\":{\"S\":\"k\"},\"v\":{\"N\":\"3\"}},"
             "\"ConditionExpression\":\"v = :two\",\"ExpressionAttributeValues\":{\":two\":{"
             "\"N\":\"2\"}},\"ReturnValuesOnConditionCheckFailure\":\"ALL_OLD\"}");
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.type, "ConditionalCheckFailedException"));
    it = cJSON_GetObjectItem(r.json, "Item");
    assert_string_equal(str_at(it, "v", "N"), "1");
    cJSON_Delete(r.json);

    /* a passing condition writes */
    cJSON_Delete(ok(f, "PutItem",
                    "{\"TableName\":\"cond\",\"Item\":{\"id\":{\"S\":\"k\"},\"v\":{\"N\":\"4\"}},"
                    "\"ConditionExpression\":\"#v = :one\",\"ExpressionAttributeNames\":{\"#v\":"
                    "\"v\"},\"ExpressionAttributeValues\":{\":one\":{\"N\":\"1.0\"}}}"));
    /* conditional delete */
    expect_err(f, "DeleteItem",
               "{\"TableName\":\"cond\",\"Key\":{\"id\":{\"S\":\"k\"}},\"ConditionExpression\":"
               "\"v = :x\",\"ExpressionAttributeValues\":{\":x\":{\"N\":\"5\"}}}",
               400, "ConditionalCheckFailedException", "The conditional request failed");
    r = call(f, "DeleteItem",
             "{\"TableName\":\"cond\",\"Key\":{\"id\":{\"S\":\"k\"}},\"ConditionExpression\":"
             "\"v = :x\",\"ExpressionAttributeValues\":{\":x\":{\"N\":\"5\"}},"
             "\"ReturnValuesOnConditionCheckFailure\":\"ALL_OLD\"}");
    assert_string_equal(str_at(cJSON_GetObjectItem(r.json, "Item"), "v", "N"), "4");
    cJSON_Delete(r.json);
    cJSON_Delete(ok(f, "DeleteItem",
                    "{\"TableName\":\"cond\",\"Key\":{\"id\":{\"S\":\"k\"}},"
                    "\"ConditionExpression\":\"v = :x\",\"ExpressionAttributeValues\":{\":x\":{"
                    "\"N\":\"4\"}}}"));
    /* condition on an absent item */
    expect_err(f, "DeleteItem",
               "{\"TableName\":\"cond\",\"Key\":{\"id\":{\"S\":\"k\"}},\"ConditionExpression\":"
               "\"attribute_exists(id)\"}",
               400, "ConditionalCheckFailedException", NULL);
}

#define T "\"TableName\":\"ktt\""
static const struct err_case item_errors[] = {
    {"PutItem", "{}", "ValidationException",
     "2 validation errors detected: Value null at 'tableName' failed to satisfy constraint: "
     "Member must not be null; Value null at 'item' failed to satisfy constraint: Member must "
     "not be null"},
    {"PutItem", "{\"TableName\":\"nope\",\"Item\":{\"pk\":{\"S\":\"a\"}}}",
     "ResourceNotFoundException", "Requested resource not found"},
    {"PutItem", "{" T ",\"Item\":{\"sk\":{\"N\":\"1\"}}}", "ValidationException",
     "One or more parameter values were invalid: Missing the key pk in the item"},
    {"PutItem", "{" T ",\"Item\":{\"pk\":{\"S\":\"a\"}}}", "ValidationException",
     "One or more parameter values were invalid: Missing the key sk in the item"},
    {"PutItem", "{" T ",\"Item\":{\"pk\":{\"N\":\"1\"},\"sk\":{\"N\":\"1\"}}}",
     "ValidationException",
     "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N"},
    {"PutItem", "{" T ",\"Item\":{\"pk\":{\"S\":\"\"},\"sk\":{\"N\":\"1\"}}}",
     "ValidationException",
     "One or more parameter values are not valid. The AttributeValue for a key attribute "
     "cannot contain an empty string value. Key: pk"},
    {"PutItem", "{" T ",\"Item\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"x1\"}}}",
     "ValidationException", NULL},
    {"PutItem", "{" T ",\"Item\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"},\"e\":{}}}",
     "ValidationException", NULL},
    {"PutItem",
     "{" T ",\"Item\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"}},\"ReturnValues\":"
     "\"ALL_NEW\"}",
     "ValidationException", "ReturnValues can only be ALL_OLD or NONE"},
    {"PutItem",
     "{" T ",\"Item\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"}},\"ReturnValues\":"
     "\"SOME\"}",
     "ValidationException",
     "Value 'SOME' at 'returnValues' failed to satisfy constraint: Member must satisfy enum "
     "value set: [NONE, ALL_OLD, UPDATED_OLD, ALL_NEW, UPDATED_NEW]"},
    {"PutItem",
     "{" T ",\"Item\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"}},"
     "\"ReturnConsumedCapacity\":\"ALL\"}",
     "ValidationException", "at 'returnConsumedCapacity'"},
    {"PutItem",
     "{" T ",\"Item\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"}},\"Expected\":{\"a\":{}}}",
     "ValidationException", "Value must be provided when Exists is null for Attribute: a"},
    {"PutItem",
     "{" T ",\"Item\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"}},\"Expected\":{\"a\":{"
     "\"Exists\":false,\"Value\":{\"S\":\"x\"}}}}",
     "ValidationException", "Value cannot be used when Exists is false for Attribute: a"},
    {"PutItem",
     "{" T ",\"Item\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"}},\"Expected\":{\"a\":{"
     "\"Exists\":\"no\"}}}",
     "SerializationException", NULL},
    {"PutItem",
     "{" T ",\"Item\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"}},"
     "\"ExpressionAttributeNames\":{\"#a\":\"a\"}}",
     "ValidationException",
     "ExpressionAttributeNames can only be specified when using expressions"},
    {"PutItem",
     "{" T ",\"Item\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"}},"
     "\"ExpressionAttributeValues\":{\":a\":{\"S\":\"a\"}}}",
     "ValidationException",
     "ExpressionAttributeValues can only be specified when using expressions"},
    {"PutItem",
     "{" T ",\"Item\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"}},"
     "\"ConditionExpression\":\"attribute_exists(pk)\",\"ExpressionAttributeValues\":"
     "{}}",
     "ValidationException", "ExpressionAttributeValues must not be empty"},
    {"PutItem",
     "{" T ",\"Item\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"}},"
     "\"ConditionExpression\":\"attribute_exists(pk)\",\"ExpressionAttributeNames\":"
     "{}}",
     "ValidationException", "ExpressionAttributeNames must not be empty"},
    {"PutItem",
     "{" T ",\"Item\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"}},"
     "\"ConditionExpression\":\"attribute_exists(pk)\",\"ExpressionAttributeNames\":"
     "{\"#a\":\"a\"}}",
     "ValidationException", "unused in expressions: keys: {#a}"},
    {"PutItem",
     "{" T ",\"Item\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"}},"
     "\"ConditionExpression\":\"attribute_exists(pk)\",\"ExpressionAttributeValues\":"
     "{\":v\":{\"S\":\"a\"}}}",
     "ValidationException", "unused in expressions: keys: {:v}"},
    {"PutItem",
     "{" T ",\"Item\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"}},"
     "\"ConditionExpression\":\"pk = :v\",\"ExpressionAttributeValues\":{\":v\":{}}}",
     "ValidationException", "ExpressionAttributeValues contains invalid value"},
    {"PutItem",
     "{" T ",\"Item\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"}},"
     "\"ConditionExpression\":\"pk = = 1\"}",
     "ValidationException", "Invalid ConditionExpression"},
    {"PutItem",
     "{" T ",\"Item\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"}},"
     "\"ConditionExpression\":\"pk = :v\",\"ExpressionAttributeNames\":{\"#a\":5}}",
     "SerializationException", NULL},
    {"PutItem", "{" T ",\"Item\":[]}", "SerializationException", NULL},
    {"GetItem", "{" T "}", "ValidationException", "Value null at 'key'"},
    {"GetItem", "{" T ",\"Key\":{\"pk\":{\"S\":\"a\"}}}", "ValidationException",
     "The provided key element does not match the schema"},
    {"GetItem", "{" T ",\"Key\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"S\":\"1\"}}}",
     "ValidationException", "The provided key element does not match the schema"},
    {"GetItem", "{" T ",\"Key\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"},\"x\":{\"S\":\"1\"}}}",
     "ValidationException", "The provided key element does not match the schema"},
    {"GetItem", "{" T ",\"Key\":{\"pk\":{\"S\":\"\"},\"sk\":{\"N\":\"1\"}}}", "ValidationException",
     "cannot contain an empty string value. Key: pk"},
    {"GetItem",
     "{" T ",\"Key\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"}},\"AttributesToGet\":"
     "[\"a\",\"a\"]}",
     "ValidationException", "Duplicate value in attribute name: a"},
    {"GetItem",
     "{" T ",\"Key\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"}},\"AttributesToGet\":"
     "[]}",
     "ValidationException", "at 'attributesToGet' failed to satisfy constraint"},
    {"GetItem",
     "{" T ",\"Key\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"}},"
     "\"ConsistentRead\":1}",
     "SerializationException", NULL},
    {"GetItem", "{\"TableName\":\"nope\",\"Key\":{\"pk\":{\"S\":\"a\"}}}",
     "ResourceNotFoundException", "Requested resource not found"},
    {"DeleteItem", "{" T ",\"Key\":{\"pk\":{\"S\":\"a\"}}}", "ValidationException",
     "The provided key element does not match the schema"},
    {"DeleteItem",
     "{" T ",\"Key\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"}},\"ReturnValues\":"
     "\"UPDATED_NEW\"}",
     "ValidationException", "ReturnValues can only be ALL_OLD or NONE"},
    {"DeleteItem", "{" T "}", "ValidationException", "Value null at 'key'"},
    {"DeleteItem", "{\"TableName\":\"nope\",\"Key\":{\"pk\":{\"S\":\"a\"}}}",
     "ResourceNotFoundException", NULL},
    {"Scan", "{}", "ValidationException", "Value null at 'tableName'"},
    {"Scan", "{\"TableName\":\"nope\"}", "ResourceNotFoundException", NULL},
    {"Scan", "{" T ",\"Limit\":0}", "ValidationException",
     "Member must have value greater than or equal to 1"},
    {"Scan", "{" T ",\"Select\":\"SOME\"}", "ValidationException", "at 'select'"},
    {"Scan", "{" T ",\"Select\":\"ALL_PROJECTED_ATTRIBUTES\"}", "ValidationException",
     "ALL_PROJECTED_ATTRIBUTES"},
    {"Scan", "{" T ",\"Select\":\"COUNT\",\"ProjectionExpression\":\"pk\"}", "ValidationException",
     "Cannot specify the ProjectionExpression"},
    {"Scan", "{" T ",\"Select\":\"SPECIFIC_ATTRIBUTES\"}", "ValidationException",
     "SPECIFIC_ATTRIBUTES"},
    {"Scan", "{" T ",\"IndexName\":\"gsi\"}", "ValidationException", "specified index: gsi"},
    {"Scan", "{" T ",\"Segment\":2,\"TotalSegments\":2}", "ValidationException", "Segment"},
    {"Scan", "{" T ",\"ScanFilter\":{\"a\":{\"ComparisonOperator\":\"LIKE\"}}}",
     "ValidationException",
     "Value 'LIKE' at 'scanFilter.a.member.comparisonOperator' failed to satisfy constraint: "
     "Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, "
     "NE, LE, BEGINS_WITH, GE, CONTAINS]"},
    {"Scan", "{" T ",\"ScanFilter\":{\"a\":{\"ComparisonOperator\":\"IN\"}}}",
     "ValidationException", "Invalid number of argument(s) for the IN ComparisonOperator"},
    {"Scan", "{" T ",\"ScanFilter\":{},\"ProjectionExpression\":\"a\"}", "ValidationException",
     "Non-expression parameters: {ScanFilter} Expression parameters: {ProjectionExpression}"},
    {"Scan", "{" T ",\"ScanFilter\":{},\"ConditionalOperator\":\"XOR\"}", "ValidationException",
     "at 'conditionalOperator' failed to satisfy constraint"},
    {"Scan", "{" T ",\"ExclusiveStartKey\":{\"pk\":{\"S\":\"a\"}}}", "ValidationException",
     "The provided starting key is invalid"},
    {"Scan", "{" T ",\"ExclusiveStartKey\":{\"pk\":{\"Q\":\"a\"}}}", "ValidationException", NULL},
    {"Scan", "{" T ",\"FilterExpression\":\"size(\"}", "ValidationException",
     "Invalid FilterExpression"},
};

static void item_validation(void **state)
{
    struct ddb_fixture *f = *state;
    char big[2100], bigs[1100];
    cJSON *j;

    create_simple(f, "ktt", true);
    run_cases(f, item_errors, sizeof(item_errors) / sizeof(item_errors[0]));

    /* key size limits (partition key 2048 bytes, sort key 1024) */
    memset(big, 'x', 2049);
    big[2049] = 0;
    j = callf(f, "PutItem",
              "{\"TableName\":\"ktt\",\"Item\":{\"pk\":{\"S\":\"%s\"},\"sk\":{\"N\":\"1\"}}}", big)
            .json;
    assert_non_null(strstr(str_at(j, "message", NULL), "Size of hashkey has exceeded"));
    cJSON_Delete(j);
    create_simple(f, "kts", false);
    memset(big, 'x', 600);
    big[600] = 0;
    /* keys past LMDB's 511-byte limit still work (keys.h stores them hashed) */
    for (int len = 600; len <= 2048; len += 1448) {
        memset(big, 'x', (size_t)len);
        big[len] = 0;
        cJSON_Delete(callf(f, "PutItem",
                           "{\"TableName\":\"kts\",\"Item\":{\"id\":{\"S\":\"%s\"},"
                           "\"n\":{\"N\":\"%d\"}}}",
                           big, len)
                         .json);
        j = callf(f, "GetItem", "{\"TableName\":\"kts\",\"Key\":{\"id\":{\"S\":\"%s\"}}}", big)
                .json;
        assert_int_equal(atoi(str_at(cJSON_GetObjectItem(j, "Item"), "n", "N")), len);
        assert_int_equal(strlen(str_at(cJSON_GetObjectItem(j, "Item"), "id", "S")), (size_t)len);
        cJSON_Delete(j);
    }
    j = callf(f, "CreateTable",
              "{\"TableName\":\"ktb\"," PPR ",\"KeySchema\":[{\"AttributeName\":\"h\","
              "\"KeyType\":\"HASH\"},{\"AttributeName\":\"r\",\"KeyType\":\"RANGE\"}],"
              "\"AttributeDefinitions\":[{\"AttributeName\":\"h\",\"AttributeType\":\"B\"},"
              "{\"AttributeName\":\"r\",\"AttributeType\":\"S\"}]}")
            .json;
    cJSON_Delete(j);
    memset(bigs, 'y', 1025);
    bigs[1025] = 0;
    j = callf(f, "PutItem",
              "{\"TableName\":\"ktb\",\"Item\":{\"h\":{\"B\":\"AAEC\"},\"r\":{\"S\":\"%s\"}}}",
              bigs)
            .json;
    assert_non_null(strstr(str_at(j, "message", NULL), "Aggregated size of all range keys"));
    cJSON_Delete(j);
    expect_err(f, "PutItem",
               "{\"TableName\":\"ktb\",\"Item\":{\"h\":{\"B\":\"\"},\"r\":{\"S\":\"a\"}}}", 400,
               "ValidationException", "cannot contain an empty binary value. Key: h");
    cJSON_Delete(
        ok(f, "PutItem",
           "{\"TableName\":\"ktb\",\"Item\":{\"h\":{\"B\":\"AAEC\"},\"r\":{\"S\":\"a\"}}}"));
    j = ok(f, "GetItem",
           "{\"TableName\":\"ktb\",\"Key\":{\"h\":{\"B\":\"AAEC\"},\"r\":{\"S\":\"a\"}}}");
    assert_string_equal(str_at(cJSON_GetObjectItem(j, "Item"), "h", "B"), "AAEC");
    cJSON_Delete(j);

    /* item size limit */
    {
        size_t n = 400 * 1024;
        char *v = malloc(n + 1);
        memset(v, 'z', n);
        v[n] = 0;
        j = callf(f, "PutItem",
                  "{\"TableName\":\"kts\",\"Item\":{\"id\":{\"S\":\"a\"},\"v\":{\"S\":\"%s\"}}}", v)
                .json;
        assert_string_equal(str_at(j, "message", NULL),
                            "Item size has exceeded the maximum allowed size");
        cJSON_Delete(j);
        free(v);
    }
}

static void put_n(struct ddb_fixture *f, const char *table, int i, size_t pad)
{
    char *p = malloc(pad + 1);
    cJSON *j;

    memset(p, 'p', pad);
    p[pad] = 0;
    j = callf(f, "PutItem",
              "{\"TableName\":\"%s\",\"Item\":{\"pk\":{\"S\":\"p%d\"},\"sk\":{\"N\":\"%d\"},"
              "\"i\":{\"N\":\"%d\"},\"pad\":{\"S\":\"%s\"}}}",
              table, i % 3, i, i, p)
            .json;
    assert_null(cJSON_GetObjectItem(j, "__type"));
    cJSON_Delete(j);
    free(p);
}

/* scan_all - walk the table with @limit, checking each item comes exactly once. */
static int scan_all(struct ddb_fixture *f, const char *table, int limit, int n, const char *extra)
{
    char *seen = calloc((size_t)n, 1);
    char *esk = NULL;
    int total = 0, pages = 0;

    for (;;) {
        struct buf b;
        cJSON *j, *it, *lek;

        buf_init(&b, 0);
        buf_printf(&b, "{\"TableName\":\"%s\"", table);
        if (limit)
            buf_printf(&b, ",\"Limit\":%d", limit);
        if (esk)
            buf_printf(&b, ",\"ExclusiveStartKey\":%s", esk);
        buf_printf(&b, "%s}", extra);
        j = ok(f, "Scan", b.ptr);
        buf_free(&b);
        pages++;
        if (limit)
            assert_true(num_at(j, "ScannedCount", NULL) <= limit);
        cJSON_ArrayForEach(it, cJSON_GetObjectItem(j, "Items"))
        {
            int i = atoi(str_at(it, "i", "N"));
            assert_true(i >= 0 && i < n);
            assert_int_equal(seen[i], 0);
            seen[i] = 1;
            total++;
        }
        assert_int_equal(num_at(j, "Count", NULL),
                         cJSON_GetArraySize(cJSON_GetObjectItem(j, "Items")));
        free(esk);
        esk = NULL;
        lek = cJSON_GetObjectItem(j, "LastEvaluatedKey");
        if (lek)
            esk = cJSON_PrintUnformatted(lek);
        cJSON_Delete(j);
        if (!esk)
            break;
        assert_true(pages < 10000);
    }
    assert_int_equal(total, n);
    free(seen);
    return pages;
}

static void scan_paging(void **state)
{
    struct ddb_fixture *f = *state;
    const int n = 23;
    cJSON *j;

    create_simple(f, "scan", true);
    j = ok(f, "Scan", "{\"TableName\":\"scan\"}");
    assert_int_equal(num_at(j, "Count", NULL), 0);
    assert_null(cJSON_GetObjectItem(j, "LastEvaluatedKey"));
    cJSON_Delete(j);
    for (int i = 0; i < n; i++)
        put_n(f, "scan", i, 10);
    assert_int_equal(scan_all(f, "scan", 0, n, ""), 1);
    assert_int_equal(scan_all(f, "scan", 1, n, ""), n + 1);
    assert_int_equal(scan_all(f, "scan", 2, n, ""), 12);
    assert_int_equal(scan_all(f, "scan", 7, n, ""), 4);
    assert_int_equal(scan_all(f, "scan", 23, n, ""), 2);

    /* filter applies after Limit: ScannedCount counts what was read */
    j = ok(f, "Scan",
           "{\"TableName\":\"scan\",\"FilterExpression\":\"i < :five\","
           "\"ExpressionAttributeValues\":{\":five\":{\"N\":\"5\"}},\"ReturnConsumedCapacity\":"
           "\"TOTAL\",\"ConsistentRead\":true}");
    assert_int_equal(num_at(j, "Count", NULL), 5);
    assert_int_equal(num_at(j, "ScannedCount", NULL), n);
    assert_true(num_at(j, "ConsumedCapacity", "CapacityUnits") >= 1);
    cJSON_Delete(j);
    j = ok(f, "Scan", "{\"TableName\":\"scan\",\"Select\":\"COUNT\"}");
    assert_int_equal(num_at(j, "Count", NULL), n);
    assert_null(cJSON_GetObjectItem(j, "Items"));
    cJSON_Delete(j);
    j = ok(f, "Scan",
           "{\"TableName\":\"scan\",\"Select\":\"SPECIFIC_ATTRIBUTES\",\"ProjectionExpression\":"
           "\"i\",\"Limit\":3}");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "Items")), 3);
    assert_null(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "Items"), 0), "pk"));
    assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "LastEvaluatedKey"), "sk"));
    cJSON_Delete(j);
    /* paging with a filter still visits every matching item once */
    scan_all(f, "scan", 4, n, ",\"FilterExpression\":\"attribute_exists(i)\"");
}

static void scan_megabyte(void **state)
{
    struct ddb_fixture *f = *state;
    const int n = 12;
    cJSON *j;

    create_simple(f, "big", true);
    for (int i = 0; i < n; i++)
        put_n(f, "big", i, 300 * 1024);
    j = ok(f, "Scan", "{\"TableName\":\"big\"}");
    /* 300 KB items: the page stops once 1 MB was read, i.e. after 4 items */
    assert_int_equal(num_at(j, "ScannedCount", NULL), 4);
    assert_non_null(cJSON_GetObjectItem(j, "LastEvaluatedKey"));
    cJSON_Delete(j);
    /* the third page ends on the last item at 1 MB, so a fourth (empty) page follows */
    assert_int_equal(scan_all(f, "big", 0, n, ""), 4);
}

static void counters_and_drop(void **state)
{
    struct ddb_fixture *f = *state;
    cJSON *j;
    double size1, size2;

    create_simple(f, "cnt", true);
    for (int i = 0; i < 10; i++)
        put_n(f, "cnt", i, 100);
    j = ok(f, "DescribeTable", "{\"TableName\":\"cnt\"}");
    assert_int_equal(num_at(j, "Table", "ItemCount"), 10);
    size1 = num_at(j, "Table", "TableSizeBytes");
    assert_true(size1 > 10 * 100);
    cJSON_Delete(j);
    /* overwrite with a smaller item: count unchanged, size smaller */
    cJSON_Delete(
        ok(f, "PutItem",
           "{\"TableName\":\"cnt\",\"Item\":{\"pk\":{\"S\":\"p0\"},\"sk\":{\"N\":\"0\"}}}"));
    cJSON_Delete(
        ok(f, "DeleteItem",
           "{\"TableName\":\"cnt\",\"Key\":{\"pk\":{\"S\":\"p1\"},\"sk\":{\"N\":\"1\"}}}"));
    j = ok(f, "DescribeTable", "{\"TableName\":\"cnt\"}");
    assert_int_equal(num_at(j, "Table", "ItemCount"), 9);
    size2 = num_at(j, "Table", "TableSizeBytes");
    assert_true(size2 < size1 - 200);
    cJSON_Delete(j);

    /* another table's items survive the drop */
    create_simple(f, "keep", true);
    put_n(f, "keep", 1, 5);
    j = ok(f, "DeleteTable", "{\"TableName\":\"cnt\"}");
    assert_int_equal(num_at(j, "TableDescription", "ItemCount"), 9);
    cJSON_Delete(j);
    expect_err(f, "PutItem",
               "{\"TableName\":\"cnt\",\"Item\":{\"pk\":{\"S\":\"p0\"},\"sk\":{\"N\":\"0\"}}}", 400,
               "ResourceNotFoundException", "Requested resource not found");
    create_simple(f, "cnt", true);
    j = ok(f, "Scan", "{\"TableName\":\"cnt\"}");
    assert_int_equal(num_at(j, "Count", NULL), 0);
    cJSON_Delete(j);
    j = ok(f, "DescribeTable", "{\"TableName\":\"cnt\"}");
    assert_int_equal(num_at(j, "Table", "ItemCount"), 0);
    assert_int_equal(num_at(j, "Table", "TableSizeBytes"), 0);
    cJSON_Delete(j);
    j = ok(f, "Scan", "{\"TableName\":\"keep\"}");
    assert_int_equal(num_at(j, "Count", NULL), 1);
    cJSON_Delete(j);
}

/* ---- request handling ---- */

static void requests(void **state)
{
    struct ddb_fixture *f = *state;
    struct resp r;
    char *huge;
    const size_t hn = 2u << 20;

    expect_err(f, "PutItem", "{not json", 400, "com.amazon.coral.service#SerializationException",
               NULL);
    expect_err(f, "PutItem", "[1,2]", 400, "com.amazon.coral.service#SerializationException", NULL);
    expect_err(f, "PutItem", "{} trailing", 400, "SerializationException", NULL);
    expect_err(f, "Frobnicate", "{}", 400, "com.amazon.coral.service#UnknownOperationException",
               NULL);
    expect_err(f, "", "{}", 400, "UnknownOperationException", NULL);
    /* an empty body is an empty request */
    r = raw(f, "DescribeTable", "", 0, false);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.msg, "Value null at 'tableName'"));
    cJSON_Delete(r.json);
    cJSON_Delete(ok(f, "ListTables", ""));
    /* a body past the server's limit */
    r = raw(f, "PutItem", "{\"a\":", 5, true);
    assert_int_equal(r.status, 413);
    cJSON_Delete(r.json);
    /* a huge but valid body with an absurd item */
    huge = malloc(hn + 64);
    strcpy(huge, "{\"TableName\":\"hugetable\",\"Item\":{\"id\":{\"S\":\"");
    size_t off = strlen(huge);
    memset(huge + off, 'h', hn);
    strcpy(huge + off + hn, "\"}}}");
    r = raw(f, "PutItem", huge, strlen(huge), false);
    assert_int_equal(r.status, 400);
    cJSON_Delete(r.json);
    free(huge);
    /* a declared Content-Type must be JSON */
    {
        struct http_req *q = http_req_new("POST", "/");
        const char *b;
        size_t n;

        http_req_add_header(q, "content-type", "text/plain");
        buf_puts(&q->body, "{}");
        ddb_handle(f->ddb, q, "ListTables", NULL);
        assert_int_equal(http_req_wait(q, &b, &n), 400);
        assert_non_null(strstr(b, "UnknownOperationException"));
        http_req_free(q);
        q = http_req_new("POST", "/");
        http_req_add_header(q, "content-type", "application/x-amz-json-1.0; charset=utf-8");
        buf_puts(&q->body, "{}");
        ddb_handle(f->ddb, q, "ListTables", NULL);
        assert_int_equal(http_req_wait(q, &b, &n), 200);
        http_req_free(q);
        q = http_req_new("POST", "/");
        q->remote_addr = "127.0.0.1";
        buf_puts(&q->body, "{}");
        ddb_handle(f->ddb, q, "ListTables", NULL);
        assert_int_equal(http_req_wait(q, &b, &n), 400);
        http_req_free(q);
    }
    /* ddb_respond_error for the auth layer */
    {
        struct http_req *q = http_req_new("POST", "/");
        const char *b;
        size_t n;

        ddb_respond_error(q, 400, "com.amazon.coral.service#UnrecognizedClientException",
                          "The security token included in the request is invalid.");
        assert_int_equal(http_req_wait(q, &b, &n), 400);
        assert_non_null(strstr(b, "\"__type\":\"com.amazon.coral.service#UnrecognizedClient"));
        assert_non_null(http_req_resp_header(q, "x-amz-crc32"));
        http_req_free(q);
        q = http_req_new("POST", "/");
        ddb_respond_error(q, 400, "AccessDeniedException", "no");
        http_req_wait(q, &b, &n);
        assert_non_null(strstr(b, "com.amazonaws.dynamodb.v20120810#AccessDeniedException"));
        http_req_free(q);
    }
}

static void open_errors(void **state)
{
    struct ddb_fixture *f = *state;
    struct ddb_opts o = {0};
    struct ddb *d = NULL;
    struct err e = {0};

    assert_int_equal(ddb_open(&o, &d, &e), ERR_INVALID);
    o.store = f->store;
    o.region = "us-west-2";
    o.account = "1234567890123456789";
    assert_int_equal(ddb_open(&o, &d, &e), ERR_INVALID);
    ddb_close(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(table_lifecycle, ddb_fixture_setup, ddb_fixture_teardown),
        cmocka_unit_test_setup_teardown(table_on_demand, ddb_fixture_setup, ddb_fixture_teardown),
        cmocka_unit_test_setup_teardown(table_errors, ddb_fixture_setup, ddb_fixture_teardown),
        cmocka_unit_test_setup_teardown(length_errors_all, ddb_fixture_setup, ddb_fixture_teardown),
        cmocka_unit_test_setup_teardown(list_tables_paging, ddb_fixture_setup,
                                        ddb_fixture_teardown),
        cmocka_unit_test_setup_teardown(update_table, ddb_fixture_setup, ddb_fixture_teardown),
        cmocka_unit_test_setup_teardown(put_get_delete, ddb_fixture_setup, ddb_fixture_teardown),
        cmocka_unit_test_setup_teardown(conditions, ddb_fixture_setup, ddb_fixture_teardown),
        cmocka_unit_test_setup_teardown(item_validation, ddb_fixture_setup, ddb_fixture_teardown),
        cmocka_unit_test_setup_teardown(scan_paging, ddb_fixture_setup, ddb_fixture_teardown),
        cmocka_unit_test_setup_teardown(scan_megabyte, ddb_fixture_setup, ddb_fixture_teardown),
        cmocka_unit_test_setup_teardown(counters_and_drop, ddb_fixture_setup, ddb_fixture_teardown),
        cmocka_unit_test_setup_teardown(requests, ddb_fixture_setup, ddb_fixture_teardown),
        cmocka_unit_test_setup_teardown(open_errors, ddb_fixture_setup, ddb_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
