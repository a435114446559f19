/* managed.c - the AWS managed policies a stack can attach, with the documents
 * AWS publishes for them (AWS Managed Policy Reference Guide; versions noted).
 * They are read-only: IAM refuses to change or delete them. */
#include <string.h>

#include "iam_int.h"

static const struct iam_managed managed[] = {
    {"/service-role/", "AWSLambdaBasicExecutionRole", "ANPAJNCQGXC42545SKXIK", "v1",
     "2015-04-09T15:03:43Z", "2015-04-09T15:03:43Z",
     "Provides write permissions to CloudWatch Logs.",
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":["
     "\"logs:CreateLogGroup\",\"logs:CreateLogStream\",\"logs:PutLogEvents\"],\"Resource\":\"*\"}]"
     "}"},
    {"/", "AmazonS3ReadOnlyAccess", "ANPAIZTJ4DXE7G6AGAE6M", "v3", "2015-02-06T18:40:59Z",
     "2023-08-10T21:31:39Z",
     "Provides read only access to all buckets via the AWS Management Console.",
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"s3:Get*\","
     "\"s3:List*\",\"s3:Describe*\",\"s3-object-lambda:Get*\",\"s3-object-lambda:List*\"],"
     "\"Resource\":\"*\"}]}"},
    {"/", "AmazonS3FullAccess", "ANPAIFIR6V6BVTRAHWINE", "v2", "2015-02-06T18:40:58Z",
     "2021-09-27T20:16:37Z", "Provides full access to all buckets via the AWS Management Console.",
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"s3:*\","
     "\"s3-object-lambda:*\"],\"Resource\":\"*\"}]}"},
    {"/", "AmazonDynamoDBFullAccess", "ANPAINUGF2JSOSUY76KYA", "v15", "2015-02-06T18:40:11Z",
     "2021-01-29T17:38:05Z",
     "Provides full access to Amazon DynamoDB via the AWS Management Console.",
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Action\":[\"dynamodb:*\",\"dax:*\","
     "\"application-autoscaling:DeleteScalingPolicy\","
     "\"application-autoscaling:DeregisterScalableTarget\","
     "\"application-autoscaling:DescribeScalableTargets\","
     "\"application-autoscaling:DescribeScalingActivities\","
     "\"application-autoscaling:DescribeScalingPolicies\","
     "\"application-autoscaling:PutScalingPolicy\","
     "\"application-autoscaling:RegisterScalableTarget\",\"cloudwatch:DeleteAlarms\","
     "\"cloudwatch:DescribeAlarmHistory\",\"cloudwatch:DescribeAlarms\","
     "\"cloudwatch:DescribeAlarmsForMetric\",\"cloudwatch:GetMetricStatistics\","
     "\"cloudwatch:ListMetrics\",\"cloudwatch:PutMetricAlarm\",\"cloudwatch:GetMetricData\","
     "\"datapipeline:ActivatePipeline\",\"datapipeline:CreatePipeline\","
     "\"datapipeline:DeletePipeline\",\"datapipeline:DescribeObjects\","
     "\"datapipeline:DescribePipelines\",\"datapipeline:GetPipelineDefinition\","
     "\"datapipeline:ListPipelines\",\"datapipeline:PutPipelineDefinition\","
     "\"datapipeline:QueryObjects\",\"ec2:DescribeVpcs\",\"ec2:DescribeSubnets\","
     "\"ec2:DescribeSecurityGroups\",\"iam:GetRole\",\"iam:ListRoles\",\"kms:DescribeKey\","
     "\"kms:ListAliases\",\"sns:CreateTopic\",\"sns:DeleteTopic\",\"sns:ListSubscriptions\","
     "\"sns:ListSubscriptionsByTopic\",\"sns:ListTopics\",\"sns:Subscribe\",\"sns:Unsubscribe\","
     "\"sns:SetTopicAttributes\",\"lambda:CreateFunction\",\"lambda:ListFunctions\","
     "\"lambda:ListEventSourceMappings\",\"lambda:CreateEventSourceMapping\","
     "\"lambda:DeleteEventSourceMapping\",\"lambda:GetFunctionConfiguration\","
     "\"lambda:DeleteFunction\",\"resource-groups:ListGroups\","
     "\"resource-groups:ListGroupResources\",\"resource-groups:GetGroup\","
     "\"resource-groups:GetGroupQuery\",\"resource-groups:DeleteGroup\","
     "\"resource-groups:CreateGroup\",\"tag:GetResources\",\"kinesis:ListStreams\","
     "\"kinesis:DescribeStream\",\"kinesis:DescribeStreamSummary\"],\"Effect\":\"Allow\","
     "\"Resource\":\"*\"},{\"Action\":\"cloudwatch:GetInsightRuleReport\",\"Effect\":\"Allow\","
     "\"Resource\":\"arn:aws:cloudwatch:*:*:insight-rule/DynamoDBContributorInsights*\"},"
     "{\"Action\":[\"iam:PassRole\"],\"Effect\":\"Allow\",\"Resource\":\"*\",\"Condition\":{"
     "\"StringLike\":{\"iam:PassedToService\":[\"application-autoscaling.amazonaws.com\","
     "\"application-autoscaling.amazonaws.com.cn\",\"dax.amazonaws.com\"]}}},{\"Effect\":"
     "\"Allow\",\"Action\":[\"iam:CreateServiceLinkedRole\"],\"Resource\":\"*\",\"Condition\":"
     "{\"StringEquals\":{\"iam:AWSServiceName\":[\"replication.dynamodb.amazonaws.com\","
     "\"dax.amazonaws.com\",\"dynamodb.application-autoscaling.amazonaws.com\","
     "\"contributorinsights.dynamodb.amazonaws.com\",\"kinesisreplication.dynamodb.amazonaws."
     "com\"]}}}]}"},
    {"/", "AmazonDynamoDBReadOnlyAccess", "ANPAIY2XFNA232XJ6J7X2", "v1", "2015-02-06T18:40:12Z",
     "2015-02-06T18:40:12Z", "Provides read only access to Amazon DynamoDB.",
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Action\":[\"dynamodb:BatchGetItem\","
     "\"dynamodb:Describe*\",\"dynamodb:List*\",\"dynamodb:GetItem\",\"dynamodb:Query\","
     "\"dynamodb:Scan\",\"dynamodb:PartiQLSelect\"],\"Effect\":\"Allow\",\"Resource\":\"*\"}]}"},
    {"/", "AdministratorAccess", "ANPAIWMBCKSKIEE64ZLYK", "v1", "2015-02-06T18:39:46Z",
     "2015-02-06T18:39:46Z", "Provides full access to AWS services and resources.",
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\","
     "\"Resource\":\"*\"}]}"},
    {"/service-role/", "AWSLambdaDynamoDBExecutionRole", "ANPAIP7WNAGMIPYNW4WQG", "v1",
     "2015-04-09T15:09:29Z", "2015-04-09T15:09:29Z",
     "Provides list and read access to DynamoDB streams and write permissions to CloudWatch "
     "logs.",
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":["
     "\"dynamodb:DescribeStream\",\"dynamodb:GetRecords\",\"dynamodb:GetShardIterator\","
     "\"dynamodb:ListStreams\",\"logs:CreateLogGroup\",\"logs:CreateLogStream\","
     "\"logs:PutLogEvents\"],\"Resource\":\"*\"}]}"},
    {"/service-role/", "AWSLambdaRole", "ANPAJX4DPCRGTC4NFDUXI", "v1", "2015-02-06T18:41:28Z",
     "2015-02-06T18:41:28Z", "Default policy for AWS Lambda service role.",
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":["
     "\"lambda:InvokeFunction\"],\"Resource\":[\"*\"]}]}"},
    /* the reference gives its times to the minute */
    {"/service-role/", "AWSLambdaVPCAccessExecutionRole", "ANPAJVTME3YLVNL72YR2K", "v3",
     "2016-02-11T23:15:00Z", "2024-01-05T22:38:00Z",
     "Provides minimum permissions for a Lambda function to execute while accessing a resource "
     "within a VPC - create, describe, delete network interfaces and write permissions to "
     "CloudWatch Logs.",
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":"
     "\"AWSLambdaVPCAccessExecutionPermissions\",\"Effect\":\"Allow\",\"Action\":["
     "\"logs:CreateLogGroup\",\"logs:CreateLogStream\",\"logs:PutLogEvents\","
     "\"ec2:CreateNetworkInterface\",\"ec2:DescribeNetworkInterfaces\","
     "\"ec2:DescribeSubnets\",\"ec2:DeleteNetworkInterface\","
     "\"ec2:AssignPrivateIpAddresses\",\"ec2:UnassignPrivateIpAddresses\"],"
     "\"Resource\":\"*\"}]}"},
};

const struct iam_managed *iam_managed_at(size_t i)
{
    return i < sizeof(managed) / sizeof(managed[0]) ? &managed[i] : NULL;
}

const struct iam_managed *iam_managed_find(const char *arn)
{
    static const char prefix[] = "arn:aws:iam::aws:policy";

    if (!arn || strncmp(arn, prefix, sizeof(prefix) - 1) != 0)
        return NULL;
    arn += sizeof(prefix) - 1;
    for (size_t i = 0; i < sizeof(managed) / sizeof(managed[0]); i++) {
        size_t pl = strlen(managed[i].path);
        if (strncmp(arn, managed[i].path, pl) == 0 && strcmp(arn + pl, managed[i].name) == 0)
            return &managed[i];
    }
    return NULL;
}
