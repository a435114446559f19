/* test_policy.c - the IAM policy evaluator, table-driven: AWS's documented
 * examples (IAM User Guide: policy examples, policy variables, condition
 * operators, multi-valued keys, evaluation logic) and their edge cases.
 * Policies are written with ' for " (and ` for ') to keep the table readable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "iam_policy.h"

#define A IAM_ALLOW
#define D IAM_EXPLICIT_DENY
#define N IAM_IMPLICIT_DENY

#define ACCT "123456789012"
#define T    "arn:aws:dynamodb:us-east-1:" ACCT ":table/"
#define S3   "arn:aws:s3:::"

/* Statement wrappers. */
#define POL(stmts)      "{'Version':'2012-10-17','Statement':[" stmts "]}"
#define ALLOW(act, res) "{'Effect':'Allow','Action':" act ",'Resource':" res "}"
#define DENY(act, res)  "{'Effect':'Deny','Action':" act ",'Resource':" res "}"
#define ALLOWC(act, res, cond)                                                                     \
    "{'Effect':'Allow','Action':" act ",'Resource':" res ",'Condition':" cond "}"

struct tcase {
    const char *policy;
    const char *action;
    const char *resource;
    const char *ctx; /* "key=value|key=value" */
    enum iam_decision want;
};

/* The caller of every identity case: user alice in ACCT with tags. */
#define ALICE                                                                                      \
    "aws:username=alice|aws:userid=AIDAEXAMPLE|aws:PrincipalArn=arn:aws:iam::" ACCT                \
    ":user/alice|aws:PrincipalAccount=" ACCT "|aws:PrincipalTag/team=blue|aws:PrincipalTag/"       \
    "project=apollo"

static const struct tcase cases[] = {
    /* ---- Effect and the three outcomes ---- */
    {POL(ALLOW("'dynamodb:GetItem'", "'*'")), "dynamodb:GetItem", T "t", "", A},
    {POL(ALLOW("'dynamodb:GetItem'", "'*'")), "dynamodb:PutItem", T "t", "", N},
    {POL(DENY("'dynamodb:GetItem'", "'*'")), "dynamodb:GetItem", T "t", "", D},
    {POL(ALLOW("'dynamodb:*'", "'*'") "," DENY("'dynamodb:DeleteTable'", "'*'")),
     "dynamodb:DeleteTable", T "t", "", D},
    {POL(DENY("'dynamodb:DeleteTable'", "'*'") "," ALLOW("'dynamodb:*'", "'*'")),
     "dynamodb:DeleteTable", T "t", "", D},
    {POL(ALLOW("'dynamodb:*'", "'*'") "," DENY("'dynamodb:DeleteTable'", "'*'")),
     "dynamodb:PutItem", T "t", "", A},
    {"{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'s3:GetObject','Resource':'*'}"
     "}",
     "s3:GetObject", S3 "b/k", "", A},
    {"{'Statement':[{'Effect':'Allow','Action':'s3:GetObject','Resource':'*'}]}", "s3:GetObject",
     S3 "b/k", "", A},
    {POL(ALLOW("'*'", "'*'")), "iam:CreateUser", "arn:aws:iam::" ACCT ":user/x", "", A},
    {POL(ALLOW("'*'", "'*'")), "sts:AssumeRole", "arn:aws:iam::" ACCT ":role/r", "", A},

    /* ---- Action: lists, wildcards, case ---- */
    {POL(ALLOW("['dynamodb:GetItem','dynamodb:Query']", "'*'")), "dynamodb:Query", T "t", "", A},
    {POL(ALLOW("['dynamodb:GetItem','dynamodb:Query']", "'*'")), "dynamodb:Scan", T "t", "", N},
    {POL(ALLOW("'dynamodb:Get*'", "'*'")), "dynamodb:GetItem", T "t", "", A},
    {POL(ALLOW("'dynamodb:Get*'", "'*'")), "dynamodb:BatchGetItem", T "t", "", N},
    {POL(ALLOW("'dynamodb:*Item'", "'*'")), "dynamodb:PutItem", T "t", "", A},
    {POL(ALLOW("'dynamodb:*Item'", "'*'")), "dynamodb:Scan", T "t", "", N},
    {POL(ALLOW("'dynamodb:?etItem'", "'*'")), "dynamodb:GetItem", T "t", "", A},
    {POL(ALLOW("'dynamodb:?etItem'", "'*'")), "dynamodb:SetItem", T "t", "", A},
    {POL(ALLOW("'dynamodb:?etItem'", "'*'")), "dynamodb:BatchGetItem", T "t", "", N},
    {POL(ALLOW("'dynamodb:getitem'", "'*'")), "dynamodb:GetItem", T "t", "", A},
    {POL(ALLOW("'DynamoDB:GETITEM'", "'*'")), "dynamodb:GetItem", T "t", "", A},
    {POL(ALLOW("'s3:*'", "'*'")), "dynamodb:GetItem", T "t", "", N},
    {POL(ALLOW("'s3:*'", "'*'")), "s3:PutObject", S3 "b/k", "", A},
    {POL(ALLOW("'s3:List*'", "'*'")), "s3:ListBucketVersions", S3 "b", "", A},
    {POL(ALLOW("'s3:Get*Version'", "'*'")), "s3:GetObjectVersion", S3 "b/k", "", A},
    {POL(ALLOW("'s3:Get*Version'", "'*'")), "s3:GetObject", S3 "b/k", "", N},
    {POL(ALLOW("'*:Get*'", "'*'")), "s3:GetObject", S3 "b/k", "", A},
    {POL(ALLOW("'dynamodb:Get'", "'*'")), "dynamodb:GetItem", T "t", "", N},

    /* ---- NotAction ---- */
    {"{'Version':'2012-10-17','Statement':[{'Effect':'Allow','NotAction':'iam:*','Resource':'*'}]}",
     "s3:GetObject", S3 "b/k", "", A},
    {"{'Version':'2012-10-17','Statement':[{'Effect':'Allow','NotAction':'iam:*','Resource':'*'}]}",
     "iam:CreateUser", "*", "", N},
    {"{'Version':'2012-10-17','Statement':[{'Effect':'Deny','NotAction':['iam:*','sts:*'],"
     "'Resource':'*'}]}",
     "sts:GetCallerIdentity", "*", "", N},
    {"{'Version':'2012-10-17','Statement':[{'Effect':'Deny','NotAction':['iam:*','sts:*'],"
     "'Resource':'*'}]}",
     "s3:GetObject", S3 "b/k", "", D},
    {"{'Version':'2012-10-17','Statement':[{'Effect':'Allow','Action':'*','Resource':'*'},"
     "{'Effect':'Deny','NotAction':'dynamodb:Get*','Resource':'*'}]}",
     "dynamodb:GetItem", T "t", "", A},
    {"{'Version':'2012-10-17','Statement':[{'Effect':'Allow','Action':'*','Resource':'*'},"
     "{'Effect':'Deny','NotAction':'dynamodb:Get*','Resource':'*'}]}",
     "dynamodb:PutItem", T "t", "", D},
    {"{'Version':'2012-10-17','Statement':[{'Effect':'Allow','NotAction':'DYNAMODB:get*',"
     "'Resource':'*'}]}",
     "dynamodb:GetItem", T "t", "", N},

    /* ---- Resource: ARN segments, wildcards, case ---- */
    {POL(ALLOW("'dynamodb:GetItem'", "'" T "t'")), "dynamodb:GetItem", T "t", "", A},
    {POL(ALLOW("'dynamodb:GetItem'", "'" T "t'")), "dynamodb:GetItem", T "t2", "", N},
    {POL(ALLOW("'dynamodb:GetItem'", "'" T "t'")), "dynamodb:GetItem", T "T", "", N},
    {POL(ALLOW("'dynamodb:GetItem'", "'" T "t*'")), "dynamodb:GetItem", T "t2", "", A},
    {POL(ALLOW("'dynamodb:GetItem'", "'" T "t?'")), "dynamodb:GetItem", T "t2", "", A},
    {POL(ALLOW("'dynamodb:GetItem'", "'" T "t?'")), "dynamodb:GetItem", T "t22", "", N},
    {POL(ALLOW("'dynamodb:GetItem'", "'" T "*'")), "dynamodb:GetItem", T "any", "", A},
    {POL(ALLOW("'dynamodb:GetItem'", "'arn:aws:dynamodb:*:" ACCT ":table/t'")), "dynamodb:GetItem",
     T "t", "", A},
    {POL(ALLOW("'dynamodb:GetItem'", "'arn:aws:dynamodb:*:" ACCT ":table/t'")), "dynamodb:GetItem",
     "arn:aws:dynamodb:eu-west-1:" ACCT ":table/t", "", A},
    {POL(ALLOW("'dynamodb:GetItem'", "'arn:aws:dynamodb:us-*:" ACCT ":table/t'")),
     "dynamodb:GetItem", "arn:aws:dynamodb:eu-west-1:" ACCT ":table/t", "", N},
    {POL(ALLOW("'dynamodb:GetItem'", "'arn:aws:dynamodb:us-east-1:*:table/t'")), "dynamodb:GetItem",
     T "t", "", A},
    {POL(ALLOW("'dynamodb:GetItem'", "'arn:aws:dynamodb:us-east-1:999999999999:table/t'")),
     "dynamodb:GetItem", T "t", "", N},
    {POL(ALLOW("'dynamodb:GetItem'", "'arn:aws:dynamodb:us-east-1:" ACCT ":table/*'")),
     "dynamodb:GetItem", T "orders/index/byDate", "", A},
    {POL(ALLOW("'dynamodb:Query'", "'" T "orders/index/*'")), "dynamodb:Query", T "orders", "", N},
    {POL(ALLOW("'dynamodb:Query'", "['" T "orders','" T "orders/index/*']")), "dynamodb:Query",
     T "orders/index/byDate", "", A},
    {POL(ALLOW("'dynamodb:GetItem'", "'arn:aws:dynamodb:*:*:*'")), "dynamodb:GetItem", T "t", "",
     A},
    {POL(ALLOW("'dynamodb:GetItem'", "'arn:aws:s3:::*'")), "dynamodb:GetItem", T "t", "", N},
    {POL(ALLOW("'s3:GetObject'", "'" S3 "bucket/*'")), "s3:GetObject", S3 "bucket/a/b/c.txt", "",
     A},
    {POL(ALLOW("'s3:GetObject'", "'" S3 "bucket/*'")), "s3:GetObject", S3 "bucket2/a", "", N},
    {POL(ALLOW("'s3:GetObject'", "'" S3 "bucket*'")), "s3:GetObject", S3 "bucket2/a", "", A},
    {POL(ALLOW("'s3:ListBucket'", "'" S3 "bucket'")), "s3:ListBucket", S3 "bucket", "", A},
    {POL(ALLOW("'s3:ListBucket'", "'" S3 "bucket'")), "s3:ListBucket", S3 "Bucket", "", N},
    {POL(ALLOW("'s3:GetObject'", "'" S3 "bucket/*'")), "s3:GetObject", S3 "bucket", "", N},
    {POL(ALLOW("'s3:GetObject'", "'" S3 "bucket/Key'")), "s3:GetObject", S3 "bucket/key", "", N},
    {POL(ALLOW("'lambda:InvokeFunction'", "'arn:aws:lambda:us-east-1:" ACCT ":function:f'")),
     "lambda:InvokeFunction", "arn:aws:lambda:us-east-1:" ACCT ":function:f", "", A},
    {POL(ALLOW("'lambda:InvokeFunction'", "'arn:aws:lambda:us-east-1:" ACCT ":function:f*'")),
     "lambda:InvokeFunction", "arn:aws:lambda:us-east-1:" ACCT ":function:f:prod", "", A},
    {POL(ALLOW("'lambda:InvokeFunction'", "'arn:aws:lambda:us-east-1:" ACCT ":function:f'")),
     "lambda:InvokeFunction", "arn:aws:lambda:us-east-1:" ACCT ":function:f:prod", "", N},
    {POL(ALLOW("'iam:GetUser'", "'arn:aws:iam::" ACCT ":user/*'")), "iam:GetUser",
     "arn:aws:iam::" ACCT ":user/bob", "", A},
    {POL(ALLOW("'iam:GetUser'", "'arn:aws:iam::" ACCT ":user/*'")), "iam:GetUser",
     "arn:aws:iam::" ACCT ":role/bob", "", N},
    {POL(ALLOW("'s3:GetObject'", "'*'")), "s3:GetObject", "*", "", A},

    /* ---- NotResource ---- */
    {"{'Version':'2012-10-17','Statement':[{'Effect':'Allow','Action':'s3:*','NotResource':'" S3
     "secret/*'}]}",
     "s3:GetObject", S3 "public/a", "", A},
    {"{'Version':'2012-10-17','Statement':[{'Effect':'Allow','Action':'s3:*','NotResource':'" S3
     "secret/*'}]}",
     "s3:GetObject", S3 "secret/a", "", N},
    {"{'Version':'2012-10-17','Statement':[{'Effect':'Allow','Action':'*','Resource':'*'},"
     "{'Effect':'Deny','Action':'dynamodb:*','NotResource':['" T "mine','" T "mine/*']}]}",
     "dynamodb:PutItem", T "mine", "", A},
    {"{'Version':'2012-10-17','Statement':[{'Effect':'Allow','Action':'*','Resource':'*'},"
     "{'Effect':'Deny','Action':'dynamodb:*','NotResource':['" T "mine','" T "mine/*']}]}",
     "dynamodb:PutItem", T "other", "", D},
    {"{'Version':'2012-10-17','Statement':[{'Effect':'Deny','NotAction':'s3:GetObject',"
     "'NotResource':'" S3 "b/*'}]}",
     "s3:PutObject", S3 "c/k", "", D},
    {"{'Version':'2012-10-17','Statement':[{'Effect':'Deny','NotAction':'s3:GetObject',"
     "'NotResource':'" S3 "b/*'}]}",
     "s3:PutObject", S3 "b/k", "", N},

    /* ---- policy variables ---- */
    {POL(ALLOW("'s3:*'", "'" S3 "home/${aws:username}/*'")), "s3:GetObject", S3 "home/alice/f",
     ALICE, A},
    {POL(ALLOW("'s3:*'", "'" S3 "home/${aws:username}/*'")), "s3:GetObject", S3 "home/bob/f", ALICE,
     N},
    {POL(ALLOW("'s3:*'", "'" S3 "home/${aws:userid}/*'")), "s3:GetObject", S3 "home/AIDAEXAMPLE/f",
     ALICE, A},
    {POL(ALLOW("'dynamodb:*'", "'" T "${aws:PrincipalTag/team}-*'")), "dynamodb:GetItem",
     T "blue-orders", ALICE, A},
    {POL(ALLOW("'dynamodb:*'", "'" T "${aws:PrincipalTag/team}-*'")), "dynamodb:GetItem",
     T "red-orders", ALICE, N},
    {POL(ALLOW("'dynamodb:*'", "'" T "${aws:PrincipalTag/missing}'")), "dynamodb:GetItem", T "x",
     ALICE, N},
    {POL(ALLOW("'dynamodb:*'", "'" T "${aws:PrincipalTag/missing, `dflt`}'")), "dynamodb:GetItem",
     T "dflt", ALICE, A},
    /* Version 2008-10-17: no variables, the text is literal */
    {"{'Version':'2008-10-17','Statement':[{'Effect':'Allow','Action':'s3:*','Resource':'" S3
     "home/${aws:username}/*'}]}",
     "s3:GetObject", S3 "home/alice/f", ALICE, N},
    {"{'Statement':[{'Effect':'Allow','Action':'s3:*','Resource':'" S3 "home/${aws:username}/*'}]}",
     "s3:GetObject", S3 "home/${aws:username}/f", ALICE, A},
    /* ${*} is a literal asterisk, a variable's value is literal too */
    {POL(ALLOW("'s3:*'", "'" S3 "b/${*}'")), "s3:GetObject", S3 "b/*", "", A},
    {POL(ALLOW("'s3:*'", "'" S3 "b/${*}'")), "s3:GetObject", S3 "b/x", "", N},
    {POL(ALLOW("'s3:*'", "'" S3 "b/${?}x'")), "s3:GetObject", S3 "b/?x", "", A},
    {POL(ALLOW("'s3:*'", "'" S3 "b/${?}x'")), "s3:GetObject", S3 "b/ax", "", N},
    {POL(ALLOW("'s3:*'", "'" S3 "b/${$}x'")), "s3:GetObject", S3 "b/$x", "", A},
    {POL(ALLOW("'s3:*'", "'" S3 "b/${aws:username}'")), "s3:GetObject", S3 "b/anything",
     "aws:username=*", N},
    {POL(ALLOW("'s3:*'", "'" S3 "b/${aws:username}'")), "s3:GetObject", S3 "b/*", "aws:username=*",
     A},
    {POL(ALLOWC("'s3:ListBucket'", "'" S3 "b'",
                "{'StringLike':{'s3:prefix':['${aws:username}/*']}}")),
     "s3:ListBucket", S3 "b", ALICE "|s3:prefix=alice/docs", A},
    {POL(ALLOWC("'s3:ListBucket'", "'" S3 "b'",
                "{'StringLike':{'s3:prefix':['${aws:username}/*']}}")),
     "s3:ListBucket", S3 "b", ALICE "|s3:prefix=bob/docs", N},
    {POL(ALLOWC("'dynamodb:GetItem'", "'*'",
                "{'ForAllValues:StringEquals':{'dynamodb:LeadingKeys':['${aws:userid}']}}")),
     "dynamodb:GetItem", T "t", ALICE "|dynamodb:LeadingKeys=AIDAEXAMPLE", A},
    {POL(ALLOWC("'dynamodb:GetItem'", "'*'",
                "{'ForAllValues:StringEquals':{'dynamodb:LeadingKeys':['${aws:userid}']}}")),
     "dynamodb:GetItem", T "t", ALICE "|dynamodb:LeadingKeys=OTHER", N},

    /* ---- String operators ---- */
    {POL(ALLOWC("'*'", "'*'", "{'StringEquals':{'aws:PrincipalTag/team':'blue'}}")), "s3:GetObject",
     S3 "b/k", ALICE, A},
    {POL(ALLOWC("'*'", "'*'", "{'StringEquals':{'aws:PrincipalTag/team':'Blue'}}")), "s3:GetObject",
     S3 "b/k", ALICE, N},
    {POL(ALLOWC("'*'", "'*'", "{'StringEquals':{'AWS:PRINCIPALTAG/TEAM':'blue'}}")), "s3:GetObject",
     S3 "b/k", ALICE, A},
    {POL(ALLOWC("'*'", "'*'", "{'StringEqualsIgnoreCase':{'aws:PrincipalTag/team':'BLUE'}}")),
     "s3:GetObject", S3 "b/k", ALICE, A},
    {POL(ALLOWC("'*'", "'*'", "{'StringNotEquals':{'aws:PrincipalTag/team':'red'}}")),
     "s3:GetObject", S3 "b/k", ALICE, A},
    {POL(ALLOWC("'*'", "'*'", "{'StringNotEquals':{'aws:PrincipalTag/team':'blue'}}")),
     "s3:GetObject", S3 "b/k", ALICE, N},
    {POL(ALLOWC("'*'", "'*'", "{'StringNotEquals':{'aws:PrincipalTag/nokey':'blue'}}")),
     "s3:GetObject", S3 "b/k", ALICE, A},
    {POL(ALLOWC("'*'", "'*'", "{'StringNotEqualsIgnoreCase':{'aws:PrincipalTag/team':'BLUE'}}")),
     "s3:GetObject", S3 "b/k", ALICE, N},
    {POL(ALLOWC("'*'", "'*'", "{'StringEquals':{'aws:PrincipalTag/team':['red','blue']}}")),
     "s3:GetObject", S3 "b/k", ALICE, A},
    {POL(ALLOWC("'*'", "'*'", "{'StringEquals':{'aws:PrincipalTag/team':['red','green']}}")),
     "s3:GetObject", S3 "b/k", ALICE, N},
    {POL(ALLOWC("'*'", "'*'", "{'StringLike':{'aws:PrincipalTag/project':'apo*'}}")),
     "s3:GetObject", S3 "b/k", ALICE, A},
    {POL(ALLOWC("'*'", "'*'", "{'StringLike':{'aws:PrincipalTag/project':'ap?llo'}}")),
     "s3:GetObject", S3 "b/k", ALICE, A},
    {POL(ALLOWC("'*'", "'*'", "{'StringLike':{'aws:PrincipalTag/project':'APO*'}}")),
     "s3:GetObject", S3 "b/k", ALICE, N},
    {POL(ALLOWC("'*'", "'*'", "{'StringNotLike':{'aws:PrincipalTag/project':'apo*'}}")),
     "s3:GetObject", S3 "b/k", ALICE, N},
    {POL(ALLOWC("'*'", "'*'", "{'StringNotLike':{'aws:PrincipalTag/project':'gem*'}}")),
     "s3:GetObject", S3 "b/k", ALICE, A},
    {POL(ALLOWC("'*'", "'*'", "{'StringEquals':{'aws:PrincipalTag/nokey':'x'}}")), "s3:GetObject",
     S3 "b/k", ALICE, N},
    {POL(ALLOWC("'*'", "'*'", "{'StringEquals':{'s3:prefix':'a*'}}")), "s3:ListBucket", S3 "b",
     "s3:prefix=abc", N},
    {POL(ALLOWC("'*'", "'*'", "{'StringEquals':{'s3:prefix':'a*'}}")), "s3:ListBucket", S3 "b",
     "s3:prefix=a*", A},

    /* ---- multiple keys AND, multiple operators AND, values OR ---- */
    {POL(ALLOWC("'*'", "'*'",
                "{'StringEquals':{'aws:PrincipalTag/team':'blue','aws:PrincipalTag/project':"
                "'apollo'}}")),
     "s3:GetObject", S3 "b/k", ALICE, A},
    {POL(ALLOWC("'*'", "'*'",
                "{'StringEquals':{'aws:PrincipalTag/team':'blue','aws:PrincipalTag/project':"
                "'gemini'}}")),
     "s3:GetObject", S3 "b/k", ALICE, N},
    {POL(ALLOWC("'*'", "'*'",
                "{'StringEquals':{'aws:PrincipalTag/team':'blue'},'Bool':{'aws:"
                "SecureTransport':'true'}}")),
     "s3:GetObject", S3 "b/k", ALICE "|aws:SecureTransport=true", A},
    {POL(ALLOWC("'*'", "'*'",
                "{'StringEquals':{'aws:PrincipalTag/team':'blue'},'Bool':{'aws:"
                "SecureTransport':'true'}}")),
     "s3:GetObject", S3 "b/k", ALICE "|aws:SecureTransport=false", N},
    {POL(ALLOWC("'*'", "'*'", "{'StringEquals':{'aws:PrincipalTag/team':['x','y','blue','z']}}")),
     "s3:GetObject", S3 "b/k", ALICE, A},

    /* ---- Numeric ---- */
    {POL(ALLOWC("'s3:ListBucket'", "'*'", "{'NumericLessThanEquals':{'s3:max-keys':'10'}}")),
     "s3:ListBucket", S3 "b", "s3:max-keys=10", A},
    {POL(ALLOWC("'s3:ListBucket'", "'*'", "{'NumericLessThanEquals':{'s3:max-keys':'10'}}")),
     "s3:ListBucket", S3 "b", "s3:max-keys=11", N},
    {POL(ALLOWC("'s3:ListBucket'", "'*'", "{'NumericLessThan':{'s3:max-keys':'10'}}")),
     "s3:ListBucket", S3 "b", "s3:max-keys=10", N},
    {POL(ALLOWC("'s3:ListBucket'", "'*'", "{'NumericLessThan':{'s3:max-keys':10}}")),
     "s3:ListBucket", S3 "b", "s3:max-keys=9", A},
    {POL(ALLOWC("'s3:ListBucket'", "'*'", "{'NumericGreaterThan':{'s3:max-keys':'10'}}")),
     "s3:ListBucket", S3 "b", "s3:max-keys=10.5", A},
    {POL(ALLOWC("'s3:ListBucket'", "'*'", "{'NumericGreaterThanEquals':{'s3:max-keys':'10'}}")),
     "s3:ListBucket", S3 "b", "s3:max-keys=9.99", N},
    {POL(ALLOWC("'s3:ListBucket'", "'*'", "{'NumericEquals':{'s3:max-keys':'10'}}")),
     "s3:ListBucket", S3 "b", "s3:max-keys=10.0", A},
    {POL(ALLOWC("'s3:ListBucket'", "'*'", "{'NumericNotEquals':{'s3:max-keys':'10'}}")),
     "s3:ListBucket", S3 "b", "s3:max-keys=10", N},
    {POL(ALLOWC("'s3:ListBucket'", "'*'", "{'NumericNotEquals':{'s3:max-keys':'10'}}")),
     "s3:ListBucket", S3 "b", "s3:max-keys=3", A},
    {POL(ALLOWC("'s3:ListBucket'", "'*'", "{'NumericEquals':{'s3:max-keys':'10'}}")),
     "s3:ListBucket", S3 "b", "s3:max-keys=ten", N},
    {POL(ALLOWC("'s3:ListBucket'", "'*'", "{'NumericLessThan':{'s3:max-keys':'10'}}")),
     "s3:ListBucket", S3 "b", "", N},

    /* ---- Date ---- */
    {POL(ALLOWC("'*'", "'*'", "{'DateGreaterThan':{'aws:CurrentTime':'2020-04-01T00:00:00Z'}}")),
     "s3:GetObject", S3 "b/k", "aws:CurrentTime=2021-01-01T00:00:00Z", A},
    {POL(ALLOWC("'*'", "'*'", "{'DateGreaterThan':{'aws:CurrentTime':'2020-04-01T00:00:00Z'}}")),
     "s3:GetObject", S3 "b/k", "aws:CurrentTime=2019-01-01T00:00:00Z", N},
    {POL(ALLOWC("'*'", "'*'",
                "{'DateGreaterThan':{'aws:CurrentTime':'2020-04-01T00:00:00Z'},'DateLessThan':{"
                "'aws:CurrentTime':'2020-06-30T23:59:59Z'}}")),
     "s3:GetObject", S3 "b/k", "aws:CurrentTime=2020-05-15T12:00:00Z", A},
    {POL(ALLOWC("'*'", "'*'",
                "{'DateGreaterThan':{'aws:CurrentTime':'2020-04-01T00:00:00Z'},'DateLessThan':{"
                "'aws:CurrentTime':'2020-06-30T23:59:59Z'}}")),
     "s3:GetObject", S3 "b/k", "aws:CurrentTime=2020-07-01T00:00:00Z", N},
    {POL(ALLOWC("'*'", "'*'", "{'DateLessThanEquals':{'aws:CurrentTime':'2020-01-01'}}")),
     "s3:GetObject", S3 "b/k", "aws:CurrentTime=2020-01-01T00:00:00Z", A},
    {POL(ALLOWC("'*'", "'*'", "{'DateEquals':{'aws:EpochTime':'1577836800'}}")), "s3:GetObject",
     S3 "b/k", "aws:EpochTime=2020-01-01T00:00:00Z", A},
    {POL(ALLOWC("'*'", "'*'", "{'DateNotEquals':{'aws:CurrentTime':'2020-01-01T00:00:00Z'}}")),
     "s3:GetObject", S3 "b/k", "aws:CurrentTime=2020-01-01T00:00:01Z", A},
    {POL(ALLOWC("'*'", "'*'",
                "{'DateGreaterThanEquals':{'aws:CurrentTime':'2020-01-01T02:00:00+02:00'}}")),
     "s3:GetObject", S3 "b/k", "aws:CurrentTime=2020-01-01T00:00:00Z", A},
    {POL(ALLOWC("'*'", "'*'", "{'DateLessThan':{'aws:TokenIssueTime':'2020-01-01T00:00:00Z'}}")),
     "s3:GetObject", S3 "b/k", "", N},

    /* ---- Bool ---- */
    {"{'Version':'2012-10-17','Statement':[{'Effect':'Allow','Action':'s3:*','Resource':'*'},"
     "{'Effect':'Deny','Action':'s3:*','Resource':'*','Condition':{'Bool':{'aws:SecureTransport':"
     "'false'}}}]}",
     "s3:GetObject", S3 "b/k", "aws:SecureTransport=false", D},
    {"{'Version':'2012-10-17','Statement':[{'Effect':'Allow','Action':'s3:*','Resource':'*'},"
     "{'Effect':'Deny','Action':'s3:*','Resource':'*','Condition':{'Bool':{'aws:SecureTransport':"
     "'false'}}}]}",
     "s3:GetObject", S3 "b/k", "aws:SecureTransport=true", A},
    {POL(ALLOWC("'*'", "'*'", "{'Bool':{'aws:MultiFactorAuthPresent':'true'}}")), "iam:CreateUser",
     "*", "", N},
    {POL(ALLOWC("'*'", "'*'", "{'Bool':{'aws:MultiFactorAuthPresent':true}}")), "iam:CreateUser",
     "*", "aws:MultiFactorAuthPresent=TRUE", A},
    {"{'Version':'2012-10-17','Statement':[{'Effect':'Allow','Action':'*','Resource':'*'},"
     "{'Effect':'Deny','Action':'*','Resource':'*','Condition':{'BoolIfExists':{'aws:"
     "MultiFactorAuthPresent':'false'}}}]}",
     "s3:GetObject", S3 "b/k", "", D},
    {"{'Version':'2012-10-17','Statement':[{'Effect':'Allow','Action':'*','Resource':'*'},"
     "{'Effect':'Deny','Action':'*','Resource':'*','Condition':{'BoolIfExists':{'aws:"
     "MultiFactorAuthPresent':'false'}}}]}",
     "s3:GetObject", S3 "b/k", "aws:MultiFactorAuthPresent=true", A},
    {"{'Version':'2012-10-17','Statement':[{'Effect':'Allow','Action':'*','Resource':'*'},"
     "{'Effect':'Deny','Action':'*','Resource':'*','Condition':{'Bool':{'aws:"
     "MultiFactorAuthPresent':'false'}}}]}",
     "s3:GetObject", S3 "b/k", "", A},

    /* ---- IpAddress / NotIpAddress ---- */
    {POL(ALLOWC("'*'", "'*'", "{'IpAddress':{'aws:SourceIp':'203.0.113.0/24'}}")), "s3:GetObject",
     S3 "b/k", "aws:SourceIp=203.0.113.7", A},
    {POL(ALLOWC("'*'", "'*'", "{'IpAddress':{'aws:SourceIp':'203.0.113.0/24'}}")), "s3:GetObject",
     S3 "b/k", "aws:SourceIp=203.0.114.7", N},
    {POL(ALLOWC("'*'", "'*'", "{'IpAddress':{'aws:SourceIp':['192.0.2.0/24','203.0.113.0/24']}}")),
     "s3:GetObject", S3 "b/k", "aws:SourceIp=192.0.2.200", A},
    {POL(ALLOWC("'*'", "'*'", "{'IpAddress':{'aws:SourceIp':'127.0.0.1/32'}}")), "s3:GetObject",
     S3 "b/k", "aws:SourceIp=127.0.0.1", A},
    {POL(ALLOWC("'*'", "'*'", "{'IpAddress':{'aws:SourceIp':'127.0.0.1'}}")), "s3:GetObject",
     S3 "b/k", "aws:SourceIp=127.0.0.2", N},
    {POL(ALLOWC("'*'", "'*'", "{'IpAddress':{'aws:SourceIp':'0.0.0.0/0'}}")), "s3:GetObject",
     S3 "b/k", "aws:SourceIp=8.8.8.8", A},
    {POL(ALLOWC("'*'", "'*'", "{'IpAddress':{'aws:SourceIp':'2001:DB8:1234:5678::/64'}}")),
     "s3:GetObject", S3 "b/k", "aws:SourceIp=2001:db8:1234:5678::1", A},
    {POL(ALLOWC("'*'", "'*'", "{'IpAddress':{'aws:SourceIp':'2001:DB8:1234:5678::/64'}}")),
     "s3:GetObject", S3 "b/k", "aws:SourceIp=2001:db8:1234:5679::1", N},
    {POL(ALLOWC("'*'", "'*'", "{'IpAddress':{'aws:SourceIp':'203.0.113.0/24'}}")), "s3:GetObject",
     S3 "b/k", "aws:SourceIp=2001:db8::1", N},
    {"{'Version':'2012-10-17','Statement':[{'Effect':'Allow','Action':'*','Resource':'*'},"
     "{'Effect':'Deny','Action':'*','Resource':'*','Condition':{'NotIpAddress':{'aws:SourceIp':["
     "'192.0.2.0/24','203.0.113.0/24']}}}]}",
     "s3:GetObject", S3 "b/k", "aws:SourceIp=198.51.100.1", D},
    {"{'Version':'2012-10-17','Statement':[{'Effect':'Allow','Action':'*','Resource':'*'},"
     "{'Effect':'Deny','Action':'*','Resource':'*','Condition':{'NotIpAddress':{'aws:SourceIp':["
     "'192.0.2.0/24','203.0.113.0/24']}}}]}",
     "s3:GetObject", S3 "b/k", "aws:SourceIp=203.0.113.9", A},
    {POL(ALLOWC("'*'", "'*'", "{'IpAddress':{'aws:SourceIp':'203.0.113.0/24'}}")), "s3:GetObject",
     S3 "b/k", "", N},

    /* ---- Arn operators ---- */
    {POL(ALLOWC("'*'", "'*'", "{'ArnLike':{'aws:SourceArn':'arn:aws:s3:::src-*'}}")),
     "sqs:SendMessage", "*", "aws:SourceArn=arn:aws:s3:::src-bucket", A},
    {POL(ALLOWC("'*'", "'*'", "{'ArnLike':{'aws:SourceArn':'arn:aws:s3:::src-*'}}")),
     "sqs:SendMessage", "*", "aws:SourceArn=arn:aws:s3:::dst-bucket", N},
    {POL(ALLOWC("'*'", "'*'",
                "{'ArnEquals':{'aws:PrincipalArn':'arn:aws:iam::" ACCT ":user/alice'}}")),
     "s3:GetObject", S3 "b/k", ALICE, A},
    {POL(ALLOWC("'*'", "'*'", "{'ArnEquals':{'aws:PrincipalArn':'arn:aws:iam::*:user/*'}}")),
     "s3:GetObject", S3 "b/k", ALICE, A},
    {POL(ALLOWC("'*'", "'*'", "{'ArnLike':{'aws:PrincipalArn':'arn:aws:iam::" ACCT ":role/*'}}")),
     "s3:GetObject", S3 "b/k", ALICE, N},
    {POL(ALLOWC("'*'", "'*'",
                "{'ArnNotLike':{'aws:PrincipalArn':'arn:aws:iam::" ACCT ":role/*'}}")),
     "s3:GetObject", S3 "b/k", ALICE, A},
    {POL(ALLOWC("'*'", "'*'",
                "{'ArnNotEquals':{'aws:PrincipalArn':'arn:aws:iam::" ACCT ":user/alice'}}")),
     "s3:GetObject", S3 "b/k", ALICE, N},
    {POL(ALLOWC("'*'", "'*'", "{'ArnLike':{'aws:SourceArn':'arn:aws:s3:::*'}}")), "s3:GetObject",
     S3 "b/k", "aws:SourceArn=arn:aws:dynamodb:us-east-1:" ACCT ":table/x", N},

    /* ---- Null ---- */
    {POL(ALLOWC("'*'", "'*'", "{'Null':{'aws:TokenIssueTime':'true'}}")), "s3:GetObject", S3 "b/k",
     ALICE, A},
    {POL(ALLOWC("'*'", "'*'", "{'Null':{'aws:TokenIssueTime':'true'}}")), "s3:GetObject", S3 "b/k",
     "aws:TokenIssueTime=2020-01-01T00:00:00Z", N},
    {POL(ALLOWC("'*'", "'*'", "{'Null':{'aws:TokenIssueTime':'false'}}")), "s3:GetObject", S3 "b/k",
     "aws:TokenIssueTime=2020-01-01T00:00:00Z", A},
    {POL(ALLOWC("'*'", "'*'", "{'Null':{'aws:TokenIssueTime':false}}")), "s3:GetObject", S3 "b/k",
     ALICE, N},
    {POL(ALLOWC("'*'", "'*'", "{'Null':{'aws:RequestTag/env':'false'}}")), "dynamodb:TagResource",
     T "t", "aws:RequestTag/env=prod", A},

    /* ---- ...IfExists ---- */
    {POL(ALLOWC("'*'", "'*'", "{'StringEqualsIfExists':{'ec2:InstanceType':['t2.micro']}}")),
     "ec2:RunInstances", "*", "", A},
    {POL(ALLOWC("'*'", "'*'", "{'StringEqualsIfExists':{'ec2:InstanceType':['t2.micro']}}")),
     "ec2:RunInstances", "*", "ec2:InstanceType=t2.micro", A},
    {POL(ALLOWC("'*'", "'*'", "{'StringEqualsIfExists':{'ec2:InstanceType':['t2.micro']}}")),
     "ec2:RunInstances", "*", "ec2:InstanceType=m5.large", N},
    {POL(ALLOWC("'*'", "'*'", "{'StringEquals':{'ec2:InstanceType':['t2.micro']}}")),
     "ec2:RunInstances", "*", "", N},
    {POL(ALLOWC("'*'", "'*'", "{'NumericLessThanIfExists':{'s3:max-keys':'10'}}")), "s3:ListBucket",
     S3 "b", "", A},
    {POL(ALLOWC("'*'", "'*'", "{'IpAddressIfExists':{'aws:SourceIp':'10.0.0.0/8'}}")),
     "s3:GetObject", S3 "b/k", "aws:SourceIp=11.0.0.1", N},
    {POL(ALLOWC("'*'", "'*'", "{'ArnLikeIfExists':{'aws:SourceArn':'arn:aws:s3:::b'}}")),
     "s3:GetObject", S3 "b/k", "", A},
    {POL(ALLOWC("'*'", "'*'", "{'StringNotEqualsIfExists':{'aws:PrincipalTag/team':'blue'}}")),
     "s3:GetObject", S3 "b/k", ALICE, N},

    /* ---- ForAnyValue / ForAllValues (multi-valued keys) ---- */
    {POL(ALLOWC("'dynamodb:GetItem'", "'*'",
                "{'ForAllValues:StringEquals':{'dynamodb:Attributes':['ID','Message','Tags']}}")),
     "dynamodb:GetItem", T "t", "dynamodb:Attributes=ID|dynamodb:Attributes=Message", A},
    {POL(ALLOWC("'dynamodb:GetItem'", "'*'",
                "{'ForAllValues:StringEquals':{'dynamodb:Attributes':['ID','Message','Tags']}}")),
     "dynamodb:GetItem", T "t", "dynamodb:Attributes=ID|dynamodb:Attributes=Secret", N},
    {POL(ALLOWC("'dynamodb:GetItem'", "'*'",
                "{'ForAllValues:StringEquals':{'dynamodb:Attributes':['ID','Message','Tags']}}")),
     "dynamodb:GetItem", T "t", "", A},
    {POL(ALLOWC("'dynamodb:GetItem'", "'*'",
                "{'ForAnyValue:StringEquals':{'dynamodb:Attributes':['ID','PostDateTime']}}")),
     "dynamodb:GetItem", T "t", "dynamodb:Attributes=Secret|dynamodb:Attributes=ID", A},
    {POL(ALLOWC("'dynamodb:GetItem'", "'*'",
                "{'ForAnyValue:StringEquals':{'dynamodb:Attributes':['ID','PostDateTime']}}")),
     "dynamodb:GetItem", T "t", "dynamodb:Attributes=Secret|dynamodb:Attributes=Other", N},
    {POL(ALLOWC("'dynamodb:GetItem'", "'*'",
                "{'ForAnyValue:StringEquals':{'dynamodb:Attributes':['ID','PostDateTime']}}")),
     "dynamodb:GetItem", T "t", "", N},
    {POL(ALLOWC("'*'", "'*'", "{'ForAnyValue:StringLike':{'aws:TagKeys':['env*']}}")),
     "dynamodb:TagResource", T "t", "aws:TagKeys=owner|aws:TagKeys=environment", A},
    {POL(ALLOWC("'*'", "'*'", "{'ForAllValues:StringLike':{'aws:TagKeys':['env*','owner']}}")),
     "dynamodb:TagResource", T "t", "aws:TagKeys=owner|aws:TagKeys=environment", A},
    {POL(ALLOWC("'*'", "'*'", "{'ForAllValues:StringLike':{'aws:TagKeys':['env*']}}")),
     "dynamodb:TagResource", T "t", "aws:TagKeys=owner|aws:TagKeys=environment", N},
    {POL(ALLOWC("'*'", "'*'", "{'ForAllValues:StringNotEquals':{'aws:TagKeys':['secret']}}")),
     "dynamodb:TagResource", T "t", "aws:TagKeys=owner|aws:TagKeys=env", A},
    {POL(ALLOWC("'*'", "'*'", "{'ForAllValues:StringNotEquals':{'aws:TagKeys':['secret']}}")),
     "dynamodb:TagResource", T "t", "aws:TagKeys=owner|aws:TagKeys=secret", N},
    {POL(ALLOWC("'*'", "'*'", "{'ForAnyValue:StringNotEquals':{'aws:TagKeys':['secret']}}")),
     "dynamodb:TagResource", T "t", "aws:TagKeys=secret", N},
    {POL(ALLOWC("'*'", "'*'",
                "{'ForAllValues:StringEquals':{'aws:TagKeys':['a']},'Null':{'aws:TagKeys':'false'}"
                "}")),
     "dynamodb:TagResource", T "t", "", N},
    {POL(ALLOWC("'*'", "'*'", "{'StringEquals':{'aws:TagKeys':'b'}}")), "dynamodb:TagResource",
     T "t", "aws:TagKeys=a|aws:TagKeys=b", A},

/* ---- DynamoDB fine-grained access: the keys src/ddb/authz_keys.c supplies ---- */
#define OWN_ITEMS                                                                                  \
    POL(ALLOWC("['dynamodb:GetItem','dynamodb:PutItem','dynamodb:Query','dynamodb:Scan']",         \
               "'" T "t'",                                                                         \
               "{'ForAllValues:StringEquals':{'dynamodb:LeadingKeys':['${aws:username}']}}"))
    {OWN_ITEMS, "dynamodb:PutItem", T "t", ALICE "|dynamodb:LeadingKeys=alice", A},
    {OWN_ITEMS, "dynamodb:Query", T "t", ALICE "|dynamodb:LeadingKeys=bob", N},
    /* a batch touching alice's and bob's partitions */
    {OWN_ITEMS, "dynamodb:GetItem", T "t",
     ALICE "|dynamodb:LeadingKeys=alice|dynamodb:LeadingKeys=bob", N},
    /* a Scan names no partition: ForAllValues holds on no values ... */
    {OWN_ITEMS, "dynamodb:Scan", T "t", ALICE, A},
    /* ... which the documented Null guard closes */
    {POL(ALLOWC("'dynamodb:*'", "'*'",
                "{'ForAllValues:StringEquals':{'dynamodb:LeadingKeys':['${aws:username}']},"
                "'Null':{'dynamodb:LeadingKeys':'false'}}")),
     "dynamodb:Scan", T "t", ALICE, N},
    {POL(ALLOWC("'dynamodb:*'", "'*'",
                "{'ForAllValues:StringEquals':{'dynamodb:LeadingKeys':['${aws:username}']},"
                "'Null':{'dynamodb:LeadingKeys':'false'}}")),
     "dynamodb:GetItem", T "t", ALICE "|dynamodb:LeadingKeys=alice", A},
    /* a different table is outside the Resource regardless of keys */
    {OWN_ITEMS, "dynamodb:GetItem", T "other", ALICE "|dynamodb:LeadingKeys=alice", N},
    /* Select and ReturnValues, with ...IfExists as AWS's examples use them */
    {POL(ALLOWC("'dynamodb:Query'", "'*'",
                "{'StringEqualsIfExists':{'dynamodb:Select':'SPECIFIC_ATTRIBUTES'}}")),
     "dynamodb:Query", T "t", "dynamodb:Select=SPECIFIC_ATTRIBUTES", A},
    {POL(ALLOWC("'dynamodb:Query'", "'*'",
                "{'StringEqualsIfExists':{'dynamodb:Select':'SPECIFIC_ATTRIBUTES'}}")),
     "dynamodb:Query", T "t", "dynamodb:Select=ALL_ATTRIBUTES", N},
    {POL(ALLOWC("'dynamodb:Query'", "'*'",
                "{'StringEqualsIfExists':{'dynamodb:Select':'SPECIFIC_ATTRIBUTES'}}")),
     "dynamodb:Query", T "t", "", A},
    {POL(ALLOWC("'dynamodb:UpdateItem'", "'*'",
                "{'StringEqualsIfExists':{'dynamodb:ReturnValues':['NONE','UPDATED_OLD',"
                "'UPDATED_NEW']}}")),
     "dynamodb:UpdateItem", T "t", "dynamodb:ReturnValues=UPDATED_NEW", A},
    {POL(ALLOWC("'dynamodb:UpdateItem'", "'*'",
                "{'StringEqualsIfExists':{'dynamodb:ReturnValues':['NONE','UPDATED_OLD',"
                "'UPDATED_NEW']}}")),
     "dynamodb:UpdateItem", T "t", "dynamodb:ReturnValues=ALL_OLD", N},
    /* a Deny on one attribute: ForAnyValue */
    {POL(ALLOW("'dynamodb:*'",
               "'*'") ","
                      "{'Effect':'Deny','Action':'dynamodb:*','Resource':'*','Condition':{"
                      "'ForAnyValue:StringEquals':{'dynamodb:Attributes':['secret']}}}"),
     "dynamodb:GetItem", T "t", "dynamodb:Attributes=id|dynamodb:Attributes=secret", D},
    {POL(ALLOW("'dynamodb:*'",
               "'*'") ","
                      "{'Effect':'Deny','Action':'dynamodb:*','Resource':'*','Condition':{"
                      "'ForAnyValue:StringEquals':{'dynamodb:Attributes':['secret']}}}"),
     "dynamodb:GetItem", T "t", "dynamodb:Attributes=id", A},

    /* ---- several policies combined (see iam_eval cases below) ---- */
    {POL(ALLOW("'dynamodb:GetItem'", "'" T "orders'")), "dynamodb:GetItem", T "orders", "", A},
};

/* Resource / trust policies: Principal matching. */
struct pcase {
    const char *policy;
    enum iam_policy_kind kind;
    const char *action;
    const char *resource;
    const char *principal;
    const char *account;
    const char *role;
    const char *service;
    enum iam_decision want;
    bool direct;
};

#define TRUST(principal)                                                                           \
    "{'Version':'2012-10-17','Statement':[{'Effect':'Allow','Principal':" principal                \
    ",'Action':'sts:AssumeRole'}]}"
#define BUCKETP(principal, act, res)                                                               \
    "{'Version':'2012-10-17','Statement':[{'Effect':'Allow','Principal':" principal                \
    ",'Action':" act ",'Resource':" res "}]}"

static const struct pcase pcases[] = {
    {TRUST("{'Service':'lambda.amazonaws.com'}"), IAM_POLICY_TRUST, "sts:AssumeRole", NULL, NULL,
     ACCT, NULL, "lambda.amazonaws.com", A, true},
    {TRUST("{'Service':'lambda.amazonaws.com'}"), IAM_POLICY_TRUST, "sts:AssumeRole", NULL,
     "arn:aws:iam::" ACCT ":user/alice", ACCT, NULL, NULL, N, false},
    {TRUST("{'AWS':'arn:aws:iam::" ACCT ":user/alice'}"), IAM_POLICY_TRUST, "sts:AssumeRole", NULL,
     "arn:aws:iam::" ACCT ":user/alice", ACCT, NULL, NULL, A, true},
    {TRUST("{'AWS':'arn:aws:iam::" ACCT ":user/alice'}"), IAM_POLICY_TRUST, "sts:AssumeRole", NULL,
     "arn:aws:iam::" ACCT ":user/bob", ACCT, NULL, NULL, N, false},
    {TRUST("{'AWS':'arn:aws:iam::" ACCT ":root'}"), IAM_POLICY_TRUST, "sts:AssumeRole", NULL,
     "arn:aws:iam::" ACCT ":user/bob", ACCT, NULL, NULL, A, false},
    {TRUST("{'AWS':'" ACCT "'}"), IAM_POLICY_TRUST, "sts:AssumeRole", NULL,
     "arn:aws:iam::" ACCT ":user/bob", ACCT, NULL, NULL, A, false},
    {TRUST("{'AWS':'999999999999'}"), IAM_POLICY_TRUST, "sts:AssumeRole", NULL,
     "arn:aws:iam::" ACCT ":user/bob", ACCT, NULL, NULL, N, false},
    {TRUST("{'AWS':['arn:aws:iam::" ACCT ":user/x','arn:aws:iam::" ACCT ":role/r']}"),
     IAM_POLICY_TRUST, "sts:AssumeRole", NULL, "arn:aws:sts::" ACCT ":assumed-role/r/s", ACCT,
     "arn:aws:iam::" ACCT ":role/r", NULL, A, true},
    {TRUST("'*'"), IAM_POLICY_TRUST, "sts:AssumeRole", NULL, "arn:aws:iam::" ACCT ":user/any", ACCT,
     NULL, NULL, A, true},
    {TRUST("{'AWS':'*'}"), IAM_POLICY_TRUST, "sts:TagSession", NULL,
     "arn:aws:iam::" ACCT ":user/any", ACCT, NULL, NULL, N, false},
    {BUCKETP("{'AWS':'arn:aws:iam::" ACCT ":role/repl'}", "['s3:GetObjectVersion']",
             "'" S3 "src/*'"),
     IAM_POLICY_RESOURCE, "s3:GetObjectVersion", S3 "src/k",
     "arn:aws:sts::" ACCT ":assumed-role/repl/s1", ACCT, "arn:aws:iam::" ACCT ":role/repl", NULL, A,
     true},
    {BUCKETP("{'AWS':'arn:aws:iam::" ACCT ":role/repl'}", "['s3:GetObjectVersion']",
             "'" S3 "src/*'"),
     IAM_POLICY_RESOURCE, "s3:PutObject", S3 "src/k", "arn:aws:sts::" ACCT ":assumed-role/repl/s1",
     ACCT, "arn:aws:iam::" ACCT ":role/repl", NULL, N, false},
    {"{'Version':'2012-10-17','Statement':[{'Effect':'Deny','Principal':'*','Action':'s3:*',"
     "'Resource':'" S3 "b/*','Condition':{'Bool':{'aws:SecureTransport':'false'}}}]}",
     IAM_POLICY_RESOURCE, "s3:GetObject", S3 "b/k", "arn:aws:iam::" ACCT ":user/a", ACCT, NULL,
     NULL, N, false},
    {"{'Version':'2012-10-17','Statement':[{'Effect':'Deny','NotPrincipal':{'AWS':'arn:aws:iam:"
     ":" ACCT ":user/admin'},'Action':'s3:*','Resource':'" S3 "b/*'}]}",
     IAM_POLICY_RESOURCE, "s3:GetObject", S3 "b/k", "arn:aws:iam::" ACCT ":user/a", ACCT, NULL,
     NULL, D, false},
    {"{'Version':'2012-10-17','Statement':[{'Effect':'Deny','NotPrincipal':{'AWS':'arn:aws:iam:"
     ":" ACCT ":user/admin'},'Action':'s3:*','Resource':'" S3 "b/*'}]}",
     IAM_POLICY_RESOURCE, "s3:GetObject", S3 "b/k", "arn:aws:iam::" ACCT ":user/admin", ACCT, NULL,
     NULL, N, false},
};

/* Documents the parser must refuse, with the start of IAM's message. */
static const struct {
    const char *policy;
    enum iam_policy_kind kind;
    const char *msg;
} bad[] = {
    {"", IAM_POLICY_IDENTITY, "Syntax errors"},
    {"{", IAM_POLICY_IDENTITY, "Syntax errors"},
    {"[]", IAM_POLICY_IDENTITY, "Syntax errors"},
    /* identity policies: as IAM answered LocalStack's test_iam_policies cases */
    {"{'Version':'2012-10-17'}", IAM_POLICY_IDENTITY, "Syntax errors in policy."},
    {"{'Version':'2012-10-17','Statement':[]}", IAM_POLICY_IDENTITY, "Syntax errors in policy."},
    {"{'Version':'2013-01-01','Statement':[" ALLOW("'s3:*'", "'*'") "]}", IAM_POLICY_IDENTITY,
     "Syntax errors in policy."},
    {"{'Version':'2012-10-17','Statement':[" ALLOW("'s3:*'", "'*'") "],'Extra':1}",
     IAM_POLICY_IDENTITY, "Syntax errors"},
    {POL("{'Action':'s3:*','Resource':'*'}"), IAM_POLICY_IDENTITY, "Syntax errors in policy."},
    {POL("{'Effect':'Permit','Action':'s3:*','Resource':'*'}"), IAM_POLICY_IDENTITY,
     "Syntax errors in policy."},
    {POL("{'Effect':'deny','Action':'s3:*','Resource':'*'}"), IAM_POLICY_IDENTITY,
     "The policy failed legacy parsing"},
    {"{'Statement':[" ALLOW("'s3:*'", "'*'") "]}", IAM_POLICY_MANAGED,
     "Policy document must be version 2012-10-17 or greater."},
    {"{'Version':'2008-10-17','Statement':[" ALLOW("'s3:*'", "'*'") "]}", IAM_POLICY_MANAGED,
     "Policy document must be version 2012-10-17 or greater."},
    {POL("{'Effect':'Allow','Resource':'*'}"), IAM_POLICY_IDENTITY,
     "Policy statement must contain actions."},
    {POL("{'Effect':'Allow','Action':[],'Resource':'*'}"), IAM_POLICY_IDENTITY,
     "Policy statement must contain actions."},
    {POL("{'Effect':'Allow','Action':'s3:*'}"), IAM_POLICY_IDENTITY,
     "Policy statement must contain resources."},
    {POL("{'Effect':'Allow','Action':'GetObject','Resource':'*'}"), IAM_POLICY_IDENTITY,
     "Actions/Conditions must be prefaced by a vendor"},
    {POL("{'Effect':'Allow','Action':'s3:Get:Object','Resource':'*'}"), IAM_POLICY_IDENTITY,
     "Actions/Condition can contain only one colon."},
    {POL("{'Effect':'Allow','Action':'s 3:GetObject','Resource':'*'}"), IAM_POLICY_IDENTITY,
     "Vendor s 3 is not valid"},
    {POL("{'Effect':'Allow','Action':'s3:*','Resource':'arn:aws:*:*:*:*'}"), IAM_POLICY_IDENTITY,
     "Resource vendor must be fully qualified and cannot contain regexes."},
    {POL("{'Effect':'Allow','Action':'s3:*','Resource':'arn:aws:s3::b'}"), IAM_POLICY_IDENTITY,
     "The policy failed legacy parsing"},
    {POL("{'Effect':'Allow','Action':'s3:*','Resource':'arn:nope:s3:::b'}"), IAM_POLICY_IDENTITY,
     "Partition \"nope\" is not valid for resource \"arn:nope:s3:::b\"."},
    {POL("{'Effect':'Allow','Action':'s3:*','Resource':'arn:aws:iam:us-east-1::user/x'}"),
     IAM_POLICY_IDENTITY,
     "IAM resource arn:aws:iam:us-east-1::user/x cannot contain region information."},
    {POL("{'Effect':'Allow','Action':'s3:*','Resource':'bucket'}"), IAM_POLICY_IDENTITY,
     "Resource bucket must be in ARN format or \"*\"."},
    {POL("{'Effect':'Allow','Action':'s3:*','NotAction':'s3:Get*','Resource':'*'}"),
     IAM_POLICY_IDENTITY, "Syntax errors"},
    {POL("{'Effect':'Allow','Action':'s3:*','Resource':'*','Principal':'*'}"), IAM_POLICY_IDENTITY,
     "Policy document should not specify a principal."},
    {POL("{'Effect':'Allow','Action':'s3:*','Resource':'*','Condition':{'StringEqualz':{'a:b':'c'}"
         "}}"),
     IAM_POLICY_IDENTITY, "Syntax errors in policy."},
    {POL("{'Effect':'Allow','Action':'s3:*','Resource':'*','Condition':{'DateLessThan':{'a:b':"
         "'234-13'}}}"),
     IAM_POLICY_IDENTITY, "The policy failed legacy parsing"},
    {POL("{'Effect':'Allow','Action':'s3:*','Resource':'*','Condition':{'NullIfExists':{'a:b':"
         "'true'}}}"),
     IAM_POLICY_IDENTITY, "Syntax errors in policy."},
    {POL("{'Sid':'has-dash','Effect':'Allow','Action':'s3:*','Resource':'*'}"), IAM_POLICY_IDENTITY,
     "Statement IDs (SID) must be alpha-numeric"},
    {POL("{'Effect':'Allow','Action':'s3:*','Resource':'*','Extra':'x'}"), IAM_POLICY_IDENTITY,
     "Syntax errors"},
    {TRUST("{'Bogus':'x'}"), IAM_POLICY_TRUST, "Invalid principal in policy"},
    {"{'Version':'2012-10-17','Statement':[{'Effect':'Allow','Action':'sts:AssumeRole'}]}",
     IAM_POLICY_TRUST, "Missing required field Principal"},
    {"{'Version':'2012-10-17','Statement':[{'Effect':'Allow','Principal':'*','Action':'sts:"
     "AssumeRole','Resource':'*'}]}",
     IAM_POLICY_TRUST, "Has prohibited field Resource"},
    {POL(ALLOW("'s3:*'", "'*'")), IAM_POLICY_RESOURCE, "Missing required field Principal"},
};

static char *quotes(const char *s)
{
    char *o = strdup(s);

    for (char *p = o; *p; p++)
        if (*p == '\'')
            *p = '"';
        else if (*p == '`')
            *p = '\'';
    return o;
}

/* parse_ctx - "k=v|k=v" into @kv (pointers into @buf). */
static size_t parse_ctx(char *buf, struct authz_kv *kv, size_t cap)
{
    size_t n = 0;
    char *save = NULL;

    for (char *tok = strtok_r(buf, "|", &save); tok && n < cap; tok = strtok_r(NULL, "|", &save)) {
        char *eq = strchr(tok, '=');
        assert_non_null(eq);
        *eq = '\0';
        kv[n].key = tok;
        kv[n].value = eq + 1;
        n++;
    }
    return n;
}

static const char *dname(enum iam_decision d)
{
    return d == A ? "Allow" : d == D ? "Deny" : "implicit deny";
}

static void test_identity_table(void **state)
{
    int failed = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *json = quotes(cases[i].policy), *ctxbuf = strdup(cases[i].ctx);
        struct iam_policy *p = NULL;
        struct authz_kv kv[16];
        struct err e = {0};
        struct iam_request q = {.action = cases[i].action,
                                .resource = cases[i].resource,
                                .principal_arn = "arn:aws:iam::" ACCT ":user/alice",
                                .account = ACCT};
        enum iam_decision got;

        q.nctx = parse_ctx(ctxbuf, kv, 16);
        q.ctx = kv;
        if (iam_policy_parse(json, strlen(json), IAM_POLICY_IDENTITY, &p, &e) != ERR_OK) {
            fprintf(stderr, "case %zu: parse failed: %s\n  %s\n", i, e.msg, json);
            failed++;
        } else if ((got = iam_policy_eval(p, &q, NULL)) != cases[i].want) {
            fprintf(stderr, "case %zu: %s on %s: got %s, want %s\n  %s\n  ctx %s\n", i,
                    cases[i].action, cases[i].resource, dname(got), dname(cases[i].want), json,
                    cases[i].ctx);
            failed++;
        }
        iam_policy_free(p);
        free(json);
        free(ctxbuf);
    }
    assert_int_equal(failed, 0);
}

static void test_principal_table(void **state)
{
    int failed = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(pcases) / sizeof(pcases[0]); i++) {
        char *json = quotes(pcases[i].policy);
        struct iam_policy *p = NULL;
        struct err e = {0};
        struct iam_request q = {.action = pcases[i].action,
                                .resource = pcases[i].resource,
                                .principal_arn = pcases[i].principal,
                                .account = pcases[i].account,
                                .role_arn = pcases[i].role,
                                .service = pcases[i].service};
        enum iam_decision got;
        bool direct = false;

        if (iam_policy_parse(json, strlen(json), pcases[i].kind, &p, &e) != ERR_OK) {
            fprintf(stderr, "pcase %zu: parse failed: %s\n", i, e.msg);
            failed++;
        } else if ((got = iam_policy_eval(p, &q, &direct)) != pcases[i].want ||
                   direct != pcases[i].direct) {
            fprintf(stderr, "pcase %zu: got %s direct=%d, want %s direct=%d\n", i, dname(got),
                    direct, dname(pcases[i].want), pcases[i].direct);
            failed++;
        }
        iam_policy_free(p);
        free(json);
    }
    assert_int_equal(failed, 0);
}

static void test_bad_documents(void **state)
{
    int failed = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *json = quotes(bad[i].policy);
        struct iam_policy *p = NULL;
        struct err e = {0};
        enum err_code rc = iam_policy_parse(json, strlen(json), bad[i].kind, &p, &e);

        if (rc != ERR_INVALID || strncmp(e.msg, bad[i].msg, strlen(bad[i].msg)) != 0) {
            fprintf(stderr, "bad %zu: rc %d msg '%s', want '%s'\n  %s\n", i, (int)rc, e.msg,
                    bad[i].msg, json);
            failed++;
        }
        assert_null(p);
        free(json);
    }
    assert_int_equal(failed, 0);
}

/* Several policies: deny in any wins, allow in any allows. */
static void test_combined(void **state)
{
    const char *docs[] = {
        POL(ALLOW("'dynamodb:*'", "'*'")),
        POL(DENY("'dynamodb:DeleteTable'", "'*'")),
        POL(ALLOW("'s3:GetObject'", "'" S3 "b/*'")),
    };
    struct iam_policy *ps[3];
    struct iam_request q = {.account = ACCT};

    (void)state;
    for (int i = 0; i < 3; i++) {
        char *json = quotes(docs[i]);
        assert_int_equal(iam_policy_parse(json, strlen(json), IAM_POLICY_IDENTITY, &ps[i], NULL),
                         ERR_OK);
        free(json);
    }
    q.action = "dynamodb:PutItem";
    q.resource = T "t";
    assert_int_equal(iam_eval((const struct iam_policy *const *)ps, 3, &q), A);
    q.action = "dynamodb:DeleteTable";
    assert_int_equal(iam_eval((const struct iam_policy *const *)ps, 3, &q), D);
    q.action = "s3:GetObject";
    q.resource = S3 "b/k";
    assert_int_equal(iam_eval((const struct iam_policy *const *)ps, 3, &q), A);
    q.resource = S3 "c/k";
    assert_int_equal(iam_eval((const struct iam_policy *const *)ps, 3, &q), N);
    assert_int_equal(iam_eval(NULL, 0, &q), N);
    for (int i = 0; i < 3; i++)
        iam_policy_free(ps[i]);
}

static void test_matchers_and_size(void **state)
{
    (void)state;
    assert_true(iam_match_action("*", "s3:GetObject"));
    assert_true(iam_match_action("S3:get*", "s3:GetObject"));
    assert_false(iam_match_action("s3:Get", "s3:GetObject"));
    assert_true(iam_match_arn("*", "arn:aws:s3:::b"));
    assert_true(iam_match_arn("arn:aws:s3:::b/*", "arn:aws:s3:::b/x:y"));
    assert_false(iam_match_arn("arn:aws:s3:::b/*", "arn:aws:s3:::c/x"));
    assert_false(iam_match_arn("arn:aws:s3:::B", "arn:aws:s3:::b"));
    assert_int_equal(iam_policy_size("{ \"a\" :\n\t1 }"), 7);
    assert_true(iam_known_service("dynamodb", 8));
    assert_false(iam_known_service("dynamo", 6));
}

/* The seed's two roles (examples/tap/Tandem.yaml), their documents as the
 * stack renders them: the function role may read and write its table (in both
 * regions) and write logs, nothing else; the replication role may read the
 * source bucket's versions and replicate into the destination, nothing else. */
static void test_seed_roles(void **state)
{
    static const char *lambda_docs[] = {
        "{'Version':'2012-10-17','Statement':[{'Effect':'Allow','Action':['dynamodb:PutItem',"
        "'dynamodb:GetItem','dynamodb:Query','dynamodb:Scan'],'Resource':['arn:aws:dynamodb:"
        "us-east-1:" ACCT ":table/tap-x-table','arn:aws:dynamodb:us-west-2:" ACCT
        ":table/tap-x-table']}]}",
        /* AWSLambdaBasicExecutionRole */
        "{'Version':'2012-10-17','Statement':[{'Effect':'Allow','Action':['logs:CreateLogGroup',"
        "'logs:CreateLogStream','logs:PutLogEvents'],'Resource':'*'}]}",
    };
    static const char *repl_doc =
        "{'Version':'2012-10-17','Statement':[{'Effect':'Allow','Action':["
        "'s3:GetReplicationConfiguration','s3:ListBucket'],'Resource':'arn:aws:s3:::tap-x-primary'}"
        ","
        "{'Effect':'Allow','Action':['s3:GetObjectVersionForReplication','s3:GetObjectVersionAcl',"
        "'s3:GetObjectVersionTagging'],'Resource':'arn:aws:s3:::tap-x-primary/*'},{'Effect':"
        "'Allow','Action':['s3:ReplicateObject','s3:ReplicateDelete','s3:ReplicateTags'],"
        "'Resource':'arn:aws:s3:::tap-x-secondary/*'}]}";
    static const struct {
        int role; /* 0 lambda, 1 replication */
        const char *action, *resource;
        enum iam_decision want;
    } calls[] = {
        {0, "dynamodb:PutItem", "arn:aws:dynamodb:us-east-1:" ACCT ":table/tap-x-table", A},
        {0, "dynamodb:GetItem", "arn:aws:dynamodb:us-west-2:" ACCT ":table/tap-x-table", A},
        {0, "dynamodb:Query", "arn:aws:dynamodb:us-east-1:" ACCT ":table/tap-x-table", A},
        {0, "dynamodb:DeleteItem", "arn:aws:dynamodb:us-east-1:" ACCT ":table/tap-x-table", N},
        {0, "dynamodb:DeleteTable", "arn:aws:dynamodb:us-east-1:" ACCT ":table/tap-x-table", N},
        {0, "dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:" ACCT ":table/other", N},
        {0, "dynamodb:ListTables", "*", N},
        {0, "logs:PutLogEvents", "arn:aws:logs:us-east-1:" ACCT ":log-group:/aws/lambda/f:*", A},
        {0, "s3:GetObject", "arn:aws:s3:::tap-x-primary/k", N},
        {0, "iam:CreateUser", "arn:aws:iam::" ACCT ":user/x", N},
        {1, "s3:GetObjectVersionForReplication", "arn:aws:s3:::tap-x-primary/k", A},
        {1, "s3:ListBucket", "arn:aws:s3:::tap-x-primary", A},
        {1, "s3:GetReplicationConfiguration", "arn:aws:s3:::tap-x-primary", A},
        {1, "s3:ReplicateObject", "arn:aws:s3:::tap-x-secondary/k", A},
        {1, "s3:ReplicateDelete", "arn:aws:s3:::tap-x-secondary/k", A},
        {1, "s3:ReplicateObject", "arn:aws:s3:::tap-x-primary/k", N},
        {1, "s3:GetObjectVersionForReplication", "arn:aws:s3:::tap-x-secondary/k", N},
        {1, "s3:PutObject", "arn:aws:s3:::tap-x-secondary/k", N},
        {1, "s3:DeleteBucket", "arn:aws:s3:::tap-x-primary", N},
        {1, "s3:ListBucket", "arn:aws:s3:::tap-x-secondary", N},
        {1, "dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:" ACCT ":table/tap-x-table", N},
    };
    struct iam_policy *lp[2], *rp[1];

    (void)state;
    for (int i = 0; i < 2; i++) {
        char *json = quotes(lambda_docs[i]);
        assert_int_equal(iam_policy_parse(json, strlen(json), IAM_POLICY_IDENTITY, &lp[i], NULL),
                         ERR_OK);
        free(json);
    }
    {
        char *json = quotes(repl_doc);
        assert_int_equal(iam_policy_parse(json, strlen(json), IAM_POLICY_IDENTITY, &rp[0], NULL),
                         ERR_OK);
        free(json);
    }
    for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
        struct iam_request q = {
            .action = calls[i].action, .resource = calls[i].resource, .account = ACCT};
        enum iam_decision got = calls[i].role == 0
                                    ? iam_eval((const struct iam_policy *const *)lp, 2, &q)
                                    : iam_eval((const struct iam_policy *const *)rp, 1, &q);
        if (got != calls[i].want)
            fprintf(stderr, "seed call %zu: %s on %s: got %s\n", i, calls[i].action,
                    calls[i].resource, dname(got));
        assert_int_equal(got, calls[i].want);
    }
    iam_policy_free(lp[0]);
    iam_policy_free(lp[1]);
    iam_policy_free(rp[0]);
}

/* ---- several policy kinds together: iam_decide ----
 * IAM User Guide, "Policy evaluation logic" and "Permissions boundaries for
 * IAM entities": identity policies (of the user and of its groups, or of a
 * role), the permissions boundary, session policies and a resource-based
 * policy. "!" as a boundary or session policy: set but unreadable. */
#define USER_ARN "arn:aws:iam::" ACCT ":user/alice"
#define ROLE_ARN "arn:aws:iam::" ACCT ":role/r"
#define SESS_ARN "arn:aws:sts::" ACCT ":assumed-role/r/s"
#define RPOL(principal, act)                                                                       \
    "{'Version':'2012-10-17','Statement':[{'Effect':'Allow','Principal':{'AWS':'" principal        \
    "'},'Action':" act ",'Resource':'*'}]}"

struct dcase {
    bool session;             /* the caller: role session r/s, else user alice */
    const char *identity[2];  /* NULL: absent */
    const char *boundary;     /* NULL: none */
    const char *session_pol;  /* NULL: none */
    const char *resource_pol; /* NULL: none */
    const char *action, *resource, *ctx;
    enum iam_decision want;
    enum iam_denier by;
};

#define BY_I IAM_BY_IDENTITY
#define BY_B IAM_BY_BOUNDARY
#define BY_S IAM_BY_SESSION
#define BY_R IAM_BY_RESOURCE
#define BY_0 IAM_BY_NONE

static const struct dcase dcases[] = {
    /* boundaries: effective = identity AND boundary */
    {false,
     {POL(ALLOW("'s3:*'", "'*'"))},
     POL(ALLOW("'dynamodb:*'", "'*'")),
     NULL,
     NULL,
     "s3:GetObject",
     S3 "b/k",
     "",
     N,
     BY_B},
    {false,
     {POL(ALLOW("'dynamodb:*'", "'*'"))},
     POL(ALLOW("['dynamodb:GetItem','dynamodb:PutItem']", "'*'")),
     NULL,
     NULL,
     "dynamodb:GetItem",
     T "t",
     "",
     A,
     BY_0},
    {false,
     {POL(ALLOW("'dynamodb:*'", "'*'"))},
     POL(ALLOW("['dynamodb:GetItem','dynamodb:PutItem']", "'*'")),
     NULL,
     NULL,
     "dynamodb:DeleteTable",
     T "t",
     "",
     N,
     BY_B},
    {false,
     {POL(ALLOW("'dynamodb:GetItem'", "'*'"))},
     POL(ALLOW("'dynamodb:*'", "'*'")),
     NULL,
     NULL,
     "dynamodb:PutItem",
     T "t",
     "",
     N,
     BY_I},
    /* a boundary grants nothing on its own */
    {false, {NULL}, POL(ALLOW("'*'", "'*'")), NULL, NULL, "dynamodb:GetItem", T "t", "", N, BY_I},
    {false,
     {POL(ALLOW("'*'", "'*'"))},
     POL(ALLOW("'*'", "'*'") "," DENY("'dynamodb:DeleteTable'", "'*'")),
     NULL,
     NULL,
     "dynamodb:DeleteTable",
     T "t",
     "",
     D,
     BY_B},
    {false, {POL(ALLOW("'*'", "'*'"))}, "!", NULL, NULL, "dynamodb:GetItem", T "t", "", N, BY_B},
    /* a boundary with a policy variable: each user its own table */
    {false,
     {POL(ALLOW("'dynamodb:*'", "'*'"))},
     POL(ALLOW("'dynamodb:*'", "'" T "${aws:username}'")),
     NULL,
     NULL,
     "dynamodb:GetItem",
     T "alice",
     ALICE,
     A,
     BY_0},
    {false,
     {POL(ALLOW("'dynamodb:*'", "'*'"))},
     POL(ALLOW("'dynamodb:*'", "'" T "${aws:username}'")),
     NULL,
     NULL,
     "dynamodb:GetItem",
     T "bob",
     ALICE,
     N,
     BY_B},
    /* a resource policy naming the user itself is not limited by the boundary */
    {false,
     {NULL},
     POL(ALLOW("'s3:GetObject'", "'*'")),
     NULL,
     RPOL(USER_ARN, "'s3:PutObject'"),
     "s3:PutObject",
     S3 "b/k",
     "",
     A,
     BY_0},
    /* ... but an explicit deny in the boundary still wins */
    {false,
     {NULL},
     POL(ALLOW("'*'", "'*'") "," DENY("'s3:PutObject'", "'*'")),
     NULL,
     RPOL(USER_ARN, "'s3:PutObject'"),
     "s3:PutObject",
     S3 "b/k",
     "",
     D,
     BY_B},
    /* Principal "*" is not the user named: the boundary still applies */
    {false,
     {NULL},
     POL(ALLOW("'s3:GetObject'", "'*'")),
     NULL,
     "{'Version':'2012-10-17','Statement':[{'Effect':'Allow','Principal':'*','Action':"
     "'s3:PutObject','Resource':'*'}]}",
     "s3:PutObject",
     S3 "b/k",
     "",
     N,
     BY_B},
    {false,
     {NULL},
     NULL,
     NULL,
     "{'Version':'2012-10-17','Statement':[{'Effect':'Allow','Principal':{'AWS':'*'},'Action':"
     "'s3:PutObject','Resource':'*'}]}",
     "s3:PutObject",
     S3 "b/k",
     "",
     A,
     BY_0},
    {true,
     {NULL},
     NULL,
     POL(ALLOW("'s3:GetObject'", "'*'")),
     "{'Version':'2012-10-17','Statement':[{'Effect':'Allow','Principal':{'AWS':'*'},'Action':"
     "'s3:PutObject','Resource':'*'}]}",
     "s3:PutObject",
     S3 "b/k",
     "",
     N,
     BY_S},
    /* one naming only the account delegates to identity policies */
    {false,
     {NULL},
     NULL,
     NULL,
     RPOL(ACCT, "'s3:PutObject'"),
     "s3:PutObject",
     S3 "b/k",
     "",
     N,
     BY_I},
    {false,
     {POL(ALLOW("'s3:*'", "'*'"))},
     NULL,
     NULL,
     "{'Version':'2012-10-17','Statement':[{'Effect':'Deny','Principal':'*','Action':'s3:*',"
     "'Resource':'*'}]}",
     "s3:GetObject",
     S3 "b/k",
     "",
     D,
     BY_R},
    /* groups: the user's and its groups' policies are one set */
    {false,
     {POL(ALLOW("'dynamodb:*'", "'*'")), POL(DENY("'dynamodb:DeleteTable'", "'*'"))},
     NULL,
     NULL,
     NULL,
     "dynamodb:DeleteTable",
     T "t",
     "",
     D,
     BY_I},
    {false,
     {NULL, POL(ALLOW("'dynamodb:Query'", "'" T "t'"))},
     NULL,
     NULL,
     NULL,
     "dynamodb:Query",
     T "t",
     "",
     A,
     BY_0},
    /* session policies: effective = role's policies AND session policies */
    {true,
     {POL(ALLOW("'dynamodb:*'", "'*'"))},
     NULL,
     POL(ALLOW("'dynamodb:GetItem'", "'*'")),
     NULL,
     "dynamodb:GetItem",
     T "t",
     "",
     A,
     BY_0},
    {true,
     {POL(ALLOW("'dynamodb:*'", "'*'"))},
     NULL,
     POL(ALLOW("'dynamodb:GetItem'", "'*'")),
     NULL,
     "dynamodb:PutItem",
     T "t",
     "",
     N,
     BY_S},
    {true,
     {POL(ALLOW("'dynamodb:GetItem'", "'*'"))},
     NULL,
     POL(ALLOW("'*'", "'*'")),
     NULL,
     "dynamodb:PutItem",
     T "t",
     "",
     N,
     BY_I},
    {true,
     {POL(ALLOW("'*'", "'*'"))},
     NULL,
     POL(ALLOW("'*'", "'*'") "," DENY("'dynamodb:PutItem'", "'*'")),
     NULL,
     "dynamodb:PutItem",
     T "t",
     "",
     D,
     BY_S},
    {true, {POL(ALLOW("'*'", "'*'"))}, NULL, "!", NULL, "dynamodb:GetItem", T "t", "", N, BY_S},
    /* a resource policy naming the role is limited by the session policy ... */
    {true,
     {NULL},
     NULL,
     POL(ALLOW("'s3:GetObject'", "'*'")),
     RPOL(ROLE_ARN, "'s3:PutObject'"),
     "s3:PutObject",
     S3 "b/k",
     "",
     N,
     BY_S},
    {true,
     {NULL},
     NULL,
     POL(ALLOW("'s3:*'", "'*'")),
     RPOL(ROLE_ARN, "'s3:PutObject'"),
     "s3:PutObject",
     S3 "b/k",
     "",
     A,
     BY_0},
    /* ... one naming the session itself is not */
    {true,
     {NULL},
     NULL,
     POL(ALLOW("'s3:GetObject'", "'*'")),
     RPOL(SESS_ARN, "'s3:PutObject'"),
     "s3:PutObject",
     S3 "b/k",
     "",
     A,
     BY_0},
    /* a role with a boundary, assumed with a session policy: all three */
    {true,
     {POL(ALLOW("'*'", "'*'"))},
     POL(ALLOW("'dynamodb:*'", "'*'")),
     POL(ALLOW("['dynamodb:GetItem','s3:*']", "'*'")),
     NULL,
     "dynamodb:GetItem",
     T "t",
     "",
     A,
     BY_0},
    {true,
     {POL(ALLOW("'*'", "'*'"))},
     POL(ALLOW("'dynamodb:*'", "'*'")),
     POL(ALLOW("['dynamodb:GetItem','s3:*']", "'*'")),
     NULL,
     "s3:GetObject",
     S3 "b/k",
     "",
     N,
     BY_B},
    {true,
     {POL(ALLOW("'*'", "'*'"))},
     POL(ALLOW("'dynamodb:*'", "'*'")),
     POL(ALLOW("['dynamodb:GetItem','s3:*']", "'*'")),
     NULL,
     "dynamodb:PutItem",
     T "t",
     "",
     N,
     BY_S},
};

static struct iam_policy *dparse(const char *doc, enum iam_policy_kind kind)
{
    struct iam_policy *p = NULL;
    char *json;

    if (!doc || strcmp(doc, "!") == 0)
        return NULL;
    json = quotes(doc);
    assert_int_equal(iam_policy_parse(json, strlen(json), kind, &p, NULL), ERR_OK);
    free(json);
    return p;
}

static void test_decide_table(void **state)
{
    int failed = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(dcases) / sizeof(dcases[0]); i++) {
        const struct dcase *dc = &dcases[i];
        struct iam_policy *ids[2] = {NULL, NULL}, *b = dparse(dc->boundary, IAM_POLICY_IDENTITY),
                          *sp = dparse(dc->session_pol, IAM_POLICY_IDENTITY),
                          *rp = dparse(dc->resource_pol, IAM_POLICY_RESOURCE);
        const struct iam_policy *idl[2], *sl[1] = {sp};
        size_t nid = 0;
        char *ctxbuf = strdup(dc->ctx);
        struct authz_kv kv[16];
        struct iam_request q = {.action = dc->action,
                                .resource = dc->resource,
                                .principal_arn = dc->session ? SESS_ARN : USER_ARN,
                                .role_arn = dc->session ? ROLE_ARN : NULL,
                                .account = ACCT};
        struct iam_policy_set set = {0};
        enum iam_denier by;
        enum iam_decision got;

        for (int k = 0; k < 2; k++)
            if (dc->identity[k])
                idl[nid++] = ids[k] = dparse(dc->identity[k], IAM_POLICY_IDENTITY);
        q.nctx = parse_ctx(ctxbuf, kv, 16);
        q.ctx = kv;
        set.identity = idl;
        set.nidentity = nid;
        set.boundary = b;
        set.has_boundary = dc->boundary != NULL;
        set.session = sl;
        set.nsession = sp ? 1 : 0;
        set.has_session = dc->session_pol != NULL;
        set.resource = rp;
        got = iam_decide(&set, &q, &by);
        if (got != dc->want || by != dc->by) {
            fprintf(stderr, "decide case %zu: %s on %s: got %s by %d, want %s by %d\n", i,
                    dc->action, dc->resource, dname(got), (int)by, dname(dc->want), (int)dc->by);
            failed++;
        }
        iam_policy_free(ids[0]);
        iam_policy_free(ids[1]);
        iam_policy_free(b);
        iam_policy_free(sp);
        iam_policy_free(rp);
        free(ctxbuf);
    }
    assert_int_equal(failed, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identity_table),    cmocka_unit_test(test_principal_table),
        cmocka_unit_test(test_bad_documents),     cmocka_unit_test(test_combined),
        cmocka_unit_test(test_matchers_and_size), cmocka_unit_test(test_seed_roles),
        cmocka_unit_test(test_decide_table),
    };

    fprintf(stderr, "policy cases: %zu identity, %zu principal, %zu malformed, %zu combined\n",
            sizeof(cases) / sizeof(cases[0]), sizeof(pcases) / sizeof(pcases[0]),
            sizeof(bad) / sizeof(bad[0]), sizeof(dcases) / sizeof(dcases[0]));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
