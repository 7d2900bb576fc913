"""How each resource type's ARN is written, and what its `Ref` returns.

One table for the two evaluators of intrinsics that render ARNs: the checks' `Resolver`
(secure_constructs/checks/intrinsics.py, which writes the partition as `aws` and the region and
account as `<region>` / `<account>`) and the permissions report's `ArnResolver`
(audit/permissions/arns.py, which keeps `${AWS::Partition}` etc. as the template writes them).
The formats are AWS's own, from the Service Authorization Reference's resource types (e.g.
https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsqs.html); what
`Ref` returns is from each type's CloudFormation reference page ("Return values").
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ArnFormat:
    """What `Ref` returns ("arn", "name", "url", "id"), the ARN pattern, the name property.

    `arn` holds `{partition}`, `{region}`, `{account}` and `{name}`; `written()` fills the first
    three the way one evaluator writes them and leaves `{name}`.
    """

    ref: str
    arn: str
    name_prop: str | None = None

    def written(self, partition: str, region: str, account: str) -> str:
        return self.arn.format(partition=partition, region=region, account=account, name="{name}")


ARN_FORMATS: dict[str, ArnFormat] = {
    "AWS::ApiGateway::RestApi": ArnFormat(
        "id", "arn:{partition}:apigateway:{region}::/restapis/{name}", None
    ),
    "AWS::ApiGatewayV2::Api": ArnFormat(
        "id", "arn:{partition}:apigateway:{region}::/apis/{name}", None
    ),
    "AWS::CloudWatch::Alarm": ArnFormat(
        "name", "arn:{partition}:cloudwatch:{region}:{account}:alarm:{name}", "AlarmName"
    ),
    "AWS::Cognito::UserPool": ArnFormat(
        "id", "arn:{partition}:cognito-idp:{region}:{account}:userpool/{name}", None
    ),
    "AWS::DynamoDB::GlobalTable": ArnFormat(
        "name", "arn:{partition}:dynamodb:{region}:{account}:table/{name}", "TableName"
    ),
    "AWS::DynamoDB::Table": ArnFormat(
        "name", "arn:{partition}:dynamodb:{region}:{account}:table/{name}", "TableName"
    ),
    "AWS::ECR::Repository": ArnFormat(
        "name", "arn:{partition}:ecr:{region}:{account}:repository/{name}", "RepositoryName"
    ),
    "AWS::EFS::FileSystem": ArnFormat(
        "id", "arn:{partition}:elasticfilesystem:{region}:{account}:file-system/{name}", None
    ),
    "AWS::Events::Archive": ArnFormat(
        "name", "arn:{partition}:events:{region}:{account}:archive/{name}", "ArchiveName"
    ),
    "AWS::Events::EventBus": ArnFormat(
        "name", "arn:{partition}:events:{region}:{account}:event-bus/{name}", "Name"
    ),
    "AWS::Events::Rule": ArnFormat(
        "name", "arn:{partition}:events:{region}:{account}:rule/{name}", "Name"
    ),
    "AWS::IAM::Group": ArnFormat(
        "name", "arn:{partition}:iam::{account}:group/{name}", "GroupName"
    ),
    "AWS::IAM::InstanceProfile": ArnFormat(
        "name", "arn:{partition}:iam::{account}:instance-profile/{name}", "InstanceProfileName"
    ),
    "AWS::IAM::ManagedPolicy": ArnFormat(
        "arn", "arn:{partition}:iam::{account}:policy/{name}", "ManagedPolicyName"
    ),
    "AWS::IAM::Role": ArnFormat("name", "arn:{partition}:iam::{account}:role/{name}", "RoleName"),
    "AWS::IAM::User": ArnFormat("name", "arn:{partition}:iam::{account}:user/{name}", "UserName"),
    "AWS::KMS::Alias": ArnFormat(
        "name", "arn:{partition}:kms:{region}:{account}:{name}", "AliasName"
    ),
    "AWS::KMS::Key": ArnFormat("id", "arn:{partition}:kms:{region}:{account}:key/{name}", None),
    "AWS::Kinesis::Stream": ArnFormat(
        "name", "arn:{partition}:kinesis:{region}:{account}:stream/{name}", "Name"
    ),
    "AWS::KinesisFirehose::DeliveryStream": ArnFormat(
        "name",
        "arn:{partition}:firehose:{region}:{account}:deliverystream/{name}",
        "DeliveryStreamName",
    ),
    "AWS::Lambda::Alias": ArnFormat(
        "arn", "arn:{partition}:lambda:{region}:{account}:function:{name}", "Name"
    ),
    "AWS::Lambda::Function": ArnFormat(
        "name", "arn:{partition}:lambda:{region}:{account}:function:{name}", "FunctionName"
    ),
    "AWS::Lambda::LayerVersion": ArnFormat(
        "arn", "arn:{partition}:lambda:{region}:{account}:layer:{name}", "LayerName"
    ),
    "AWS::Lambda::Version": ArnFormat(
        "arn", "arn:{partition}:lambda:{region}:{account}:function:{name}", None
    ),
    "AWS::Logs::LogGroup": ArnFormat(
        "name", "arn:{partition}:logs:{region}:{account}:log-group:{name}:*", "LogGroupName"
    ),
    "AWS::S3::Bucket": ArnFormat("name", "arn:{partition}:s3:::{name}", "BucketName"),
    "AWS::SNS::Topic": ArnFormat(
        "arn", "arn:{partition}:sns:{region}:{account}:{name}", "TopicName"
    ),
    "AWS::SQS::Queue": ArnFormat(
        "url", "arn:{partition}:sqs:{region}:{account}:{name}", "QueueName"
    ),
    "AWS::SSM::Parameter": ArnFormat(
        "name", "arn:{partition}:ssm:{region}:{account}:parameter/{name}", "Name"
    ),
    "AWS::Scheduler::ScheduleGroup": ArnFormat(
        "name", "arn:{partition}:scheduler:{region}:{account}:schedule-group/{name}", "Name"
    ),
    "AWS::SecretsManager::Secret": ArnFormat(
        "arn", "arn:{partition}:secretsmanager:{region}:{account}:secret:{name}", "Name"
    ),
    "AWS::StepFunctions::Activity": ArnFormat(
        "arn", "arn:{partition}:states:{region}:{account}:activity:{name}", "Name"
    ),
    "AWS::StepFunctions::StateMachine": ArnFormat(
        "arn", "arn:{partition}:states:{region}:{account}:stateMachine:{name}", "StateMachineName"
    ),
    "AWS::WAFv2::WebACL": ArnFormat(
        "name", "arn:{partition}:wafv2:{region}:{account}:regional/webacl/{name}", "Name"
    ),
}
"""Resource type -> how its ARN is written."""

ARN_ATTRIBUTES = frozenset({"Arn", "TopicArn", "PolicyArn", "KeyArn", "SecretArn", "StreamArn"})
"""`Fn::GetAtt` attributes that return the resource's own ARN (each type's CloudFormation
reference page, "Return values"), besides any other attribute named `...Arn`."""
CUSTOM_RESOURCE_TYPES = ("AWS::CloudFormation::CustomResource", "Custom::")
"""Types whose attributes are whatever their handler returns: no attribute is known to be an
ARN of this account (an `Arn` attribute of a custom resource may be `*`)."""


def is_own_arn_attribute(resource_type: str | None, attribute: str | None) -> bool:
    """Whether `Fn::GetAtt [X, attribute]` of a resource of `resource_type` in this template is
    an ARN of that resource, hence of this stack's account: an AWS type (not a custom resource)
    and an ARN attribute. An attribute such as an SSM parameter's `Value`, an import, or a
    custom resource's output is not (it may be anything, `*` included)."""
    if not resource_type or not attribute or not resource_type.startswith("AWS::"):
        return False
    if resource_type.startswith(CUSTOM_RESOURCE_TYPES):
        return False
    return attribute in ARN_ATTRIBUTES or attribute.endswith("Arn")
