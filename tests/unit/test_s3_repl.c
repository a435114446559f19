/* test_s3_repl.c - the replication configuration of S3 buckets: documents
 * accepted and refused as S3 does, and the rule that selects a version. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "s3_repl.h"

#define ROLE    "<Role>arn:aws:iam::123456789012:role/crr</Role>"
#define DEST    "<Destination><Bucket>arn:aws:s3:::dst</Bucket></Destination>"
#define DMR_ON  "<DeleteMarkerReplication><Status>Enabled</Status></DeleteMarkerReplication>"
#define DMR_OFF "<DeleteMarkerReplication><Status>Disabled</Status></DeleteMarkerReplication>"

static cJSON *parse(const char *doc, enum s3_code *code, char *msg)
{
    *code = S3E_INTERNAL;
    msg[0] = 0;
    return s3_repl_parse(doc, strlen(doc), code, msg, 256);
}

static void refuses(const char *doc, enum s3_code want)
{
    enum s3_code code;
    char msg[256];
    cJSON *c = parse(doc, &code, msg);
    if (c)
        fail_msg("accepted: %s", doc);
    assert_int_equal(code, want);
}

static void accepts_v2_and_v1(void **state)
{
    enum s3_code code;
    char msg[256];
    cJSON *c, *r;
    (void)state;

    c = parse(
        "<ReplicationConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">" ROLE
        "<Rule><ID>a</ID><Priority>2</Priority><Status>Enabled</Status>"
        "<Filter><And><Prefix>logs/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag>"
        "</And></Filter>" DMR_OFF
        "<Destination><Bucket>arn:aws:s3:::dst</Bucket><StorageClass>STANDARD_IA"
        "</StorageClass></Destination><SourceSelectionCriteria><ReplicaModifications>"
        "<Status>Enabled</Status></ReplicaModifications></SourceSelectionCriteria>"
        "<ExistingObjectReplication><Status>Enabled</Status></ExistingObjectReplication></Rule>"
        "<Rule><Priority>1</Priority><Status>Disabled</Status><Filter/>" DMR_ON DEST
        "</Rule></ReplicationConfiguration>",
        &code, msg);
    assert_non_null(c);
    r = cJSON_GetArrayItem(cJSON_GetObjectItem(c, "rules"), 0);
    assert_string_equal(cJSON_GetObjectItem(r, "prefix")->valuestring, "logs/");
    assert_string_equal(cJSON_GetObjectItem(r, "dest")->valuestring, "dst");
    assert_string_equal(cJSON_GetObjectItem(r, "sc")->valuestring, "STANDARD_IA");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "tags")), 1);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(r, "dm")));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(r, "rm")));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(r, "eo")));
    r = cJSON_GetArrayItem(cJSON_GetObjectItem(c, "rules"), 1);
    assert_null(cJSON_GetObjectItem(r, "eo"));
    assert_true(strlen(cJSON_GetObjectItem(r, "id")->valuestring) > 0); /* one is made */
    cJSON_Delete(c);

    /* the old schema: top-level Prefix, delete markers replicated */
    c = parse("<ReplicationConfiguration>" ROLE "<Rule><ID>v1</ID><Prefix>docs/</Prefix>"
              "<Status>Enabled</Status>" DEST "</Rule></ReplicationConfiguration>",
              &code, msg);
    assert_non_null(c);
    r = cJSON_GetArrayItem(cJSON_GetObjectItem(c, "rules"), 0);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(r, "dm")));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(r, "v1")));
    cJSON_Delete(c);
}

static void refuses_bad_documents(void **state)
{
    (void)state;
    refuses("<ReplicationConfiguration>", S3E_MALFORMED_XML);
    refuses("<Other>" ROLE "</Other>", S3E_MALFORMED_XML);
    refuses("<ReplicationConfiguration>" ROLE "</ReplicationConfiguration>", S3E_MALFORMED_XML);
    refuses("<ReplicationConfiguration><Rule><Status>Enabled</Status>" DEST
            "</Rule></ReplicationConfiguration>",
            S3E_MALFORMED_XML); /* no Role */
    refuses("<ReplicationConfiguration><Role>nope</Role><Rule><Status>Enabled</Status>" DEST
            "</Rule></ReplicationConfiguration>",
            S3E_INVALID_ARGUMENT);
    refuses("<ReplicationConfiguration>" ROLE "<Rule><Status>On</Status>" DEST
            "</Rule></ReplicationConfiguration>",
            S3E_MALFORMED_XML);
    refuses("<ReplicationConfiguration>" ROLE "<Rule><Status>Enabled</Status><Filter/>" DMR_ON
            "<Destination><Bucket>dst</Bucket></Destination></Rule></ReplicationConfiguration>",
            S3E_INVALID_ARGUMENT); /* not an ARN */
    refuses("<ReplicationConfiguration>" ROLE "<Rule><Status>Enabled</Status><Filter/>" DMR_ON
            "<Destination><Bucket>arn:aws:s3:::dst</Bucket><StorageClass>FAST</StorageClass>"
            "</Destination></Rule></ReplicationConfiguration>",
            S3E_INVALID_ARGUMENT);
    refuses("<ReplicationConfiguration>" ROLE "<Rule><Status>Enabled</Status><Filter/>" DEST
            "</Rule></ReplicationConfiguration>",
            S3E_INVALID_REQUEST); /* V2 without DeleteMarkerReplication */
    refuses("<ReplicationConfiguration>" ROLE "<Rule><Status>Enabled</Status><Filter><Tag><Key>"
            "k</Key><Value>v</Value></Tag></Filter>" DMR_ON DEST
            "</Rule></ReplicationConfiguration>",
            S3E_INVALID_REQUEST); /* markers with a tag filter */
    refuses("<ReplicationConfiguration>" ROLE "<Rule><Status>Enabled</Status><Filter><Prefix>a"
            "</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></Filter>" DMR_OFF DEST
            "</Rule></ReplicationConfiguration>",
            S3E_MALFORMED_XML); /* Prefix and Tag without And */
    refuses("<ReplicationConfiguration>" ROLE "<Rule><ID>x</ID><Priority>1</Priority><Status>"
            "Enabled</Status><Filter/>" DMR_OFF DEST "</Rule><Rule><ID>x</ID><Priority>2"
            "</Priority><Status>Enabled</Status><Filter/>" DMR_OFF DEST
            "</Rule></ReplicationConfiguration>",
            S3E_INVALID_ARGUMENT); /* duplicate ID */
    refuses("<ReplicationConfiguration>" ROLE "<Rule><ID>x</ID><Priority>1</Priority><Status>"
            "Enabled</Status><Filter/>" DMR_OFF DEST "</Rule><Rule><ID>y</ID><Priority>1"
            "</Priority><Status>Enabled</Status><Filter/>" DMR_OFF DEST
            "</Rule></ReplicationConfiguration>",
            S3E_INVALID_REQUEST); /* duplicate priority */
    refuses("<ReplicationConfiguration>" ROLE "<Rule><Priority>-1</Priority><Status>Enabled"
            "</Status><Filter/>" DMR_OFF DEST "</Rule></ReplicationConfiguration>",
            S3E_MALFORMED_XML);
    refuses("<ReplicationConfiguration>" ROLE "<Rule><Prefix>a</Prefix><Status>Enabled</Status>"
            "<Filter/>" DMR_OFF DEST "</Rule></ReplicationConfiguration>",
            S3E_MALFORMED_XML); /* Prefix and Filter */
}

static void match_picks_highest_priority(void **state)
{
    enum s3_code code;
    char msg[256];
    cJSON *c, *tags = cJSON_CreateArray(), *t = cJSON_CreateObject();
    const cJSON *r;
    (void)state;

    c = parse(
        "<ReplicationConfiguration>" ROLE
        "<Rule><ID>low</ID><Priority>1</Priority><Status>Enabled</Status><Filter/>" DMR_ON DEST
        "</Rule>"
        "<Rule><ID>tagged</ID><Priority>5</Priority><Status>Enabled</Status><Filter><And>"
        "<Prefix>a/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></And></Filter>" DMR_OFF
        "<Destination><Bucket>arn:aws:s3:::other</Bucket></Destination></Rule>"
        "<Rule><ID>off</ID><Priority>9</Priority><Status>Disabled</Status><Filter/>" DMR_ON DEST
        "</Rule></ReplicationConfiguration>",
        &code, msg);
    assert_non_null(c);
    cJSON_AddStringToObject(t, "k", "k");
    cJSON_AddStringToObject(t, "v", "v");
    cJSON_AddItemToArray(tags, t);
    r = s3_repl_match(c, "a/x", tags, false);
    assert_string_equal(cJSON_GetObjectItem(r, "id")->valuestring, "tagged");
    assert_string_equal(cJSON_GetObjectItem(r, "dest")->valuestring, "other");
    r = s3_repl_match(c, "a/x", NULL, false); /* no tags: the catch-all */
    assert_string_equal(cJSON_GetObjectItem(r, "id")->valuestring, "low");
    r = s3_repl_match(c, "a/x", tags, true); /* markers: not by the tagged rule */
    assert_string_equal(cJSON_GetObjectItem(r, "id")->valuestring, "low");
    r = s3_repl_match(c, "b/x", tags, false);
    assert_string_equal(cJSON_GetObjectItem(r, "id")->valuestring, "low");
    cJSON_Delete(c);

    c = parse("<ReplicationConfiguration>" ROLE "<Rule><Priority>1</Priority><Status>Enabled"
              "</Status><Filter><Prefix>p/</Prefix></Filter>" DMR_OFF DEST
              "</Rule></ReplicationConfiguration>",
              &code, msg);
    assert_non_null(c);
    assert_null(s3_repl_match(c, "q/x", NULL, false));
    assert_null(s3_repl_match(c, "p/x", NULL, true)); /* markers not replicated */
    assert_non_null(s3_repl_match(c, "p/x", NULL, false));
    cJSON_Delete(c);
    cJSON_Delete(tags);
}

static void match_all_one_rule_per_destination(void **state)
{
    enum s3_code code;
    char msg[256];
    const cJSON *out[4];
    cJSON *c;
    (void)state;

    c = parse("<ReplicationConfiguration>" ROLE
              "<Rule><ID>a</ID><Priority>1</Priority><Status>Enabled</Status><Filter/>" DMR_OFF
              "<Destination><Bucket>arn:aws:s3:::one</Bucket></Destination></Rule>"
              "<Rule><ID>b</ID><Priority>2</Priority><Status>Enabled</Status><Filter/>" DMR_ON
              "<Destination><Bucket>arn:aws:s3:::two</Bucket></Destination></Rule>"
              "<Rule><ID>c</ID><Priority>3</Priority><Status>Enabled</Status>"
              "<Filter><Prefix>x/</Prefix></Filter>" DMR_OFF
              "<Destination><Bucket>arn:aws:s3:::one</Bucket></Destination></Rule>"
              "</ReplicationConfiguration>",
              &code, msg);
    assert_non_null(c);
    assert_int_equal(s3_repl_match_all(c, "x/k", NULL, false, out, 4), 2);
    assert_string_equal(cJSON_GetObjectItem(out[0], "id")->valuestring, "c");
    assert_string_equal(cJSON_GetObjectItem(out[1], "id")->valuestring, "b");
    assert_int_equal(s3_repl_match_all(c, "y", NULL, false, out, 4), 2);
    assert_string_equal(cJSON_GetObjectItem(out[0], "id")->valuestring, "a");
    assert_int_equal(s3_repl_match_all(c, "y", NULL, true, out, 4), 1); /* markers: b only */
    assert_string_equal(cJSON_GetObjectItem(out[0], "dest")->valuestring, "two");
    assert_int_equal(s3_repl_match_all(c, "y", NULL, false, out, 1), 1);
    cJSON_Delete(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accepts_v2_and_v1),
        cmocka_unit_test(refuses_bad_documents),
        cmocka_unit_test(match_picks_highest_priority),
        cmocka_unit_test(match_all_one_rule_per_destination),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
