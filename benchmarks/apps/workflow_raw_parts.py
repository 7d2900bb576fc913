"""(b') The state machine of (c') written by hand with plain aws-cdk-lib: the same resources,
properties, statements and acknowledgement as SecureStateMachine makes (read from its template)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks

STAR_ONLY = (
    "Holds only actions AWS supports solely on Resource '*': the CloudWatch Logs log-delivery "
    "actions Step Functions needs and X-Ray trace upload and sampling."
)
TRANSIENT = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
]


def add_workflow(
    stack: cdk.Stack,
    functions: Sequence[lambda_.Function],
    key: kms.Key,
    alarm: Callable[..., Any],
) -> sfn.StateMachine:
    name = "Bench-Flow"
    arn = stack.format_arn(
        service="states",
        resource="stateMachine",
        resource_name=name,
        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
    )
    logs_source = f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:*"
    role = iam.Role(
        stack,
        "FlowRole",
        assumed_by=iam.ServicePrincipal(
            "states.amazonaws.com",
            conditions={
                "ArnLike": {"aws:SourceArn": arn},
                "StringEquals": {"aws:SourceAccount": stack.account},
            },
        ),
        description="Execution role of one SecureStateMachine (customer-managed policies only)",
    )
    iam.ManagedPolicy(
        role,
        "Policy",
        description="Resource-scoped permissions of one state machine",
        roles=[role],
        statements=[
            *(
                iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[f.function_arn])
                for f in functions
            ),
            iam.PolicyStatement(
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=[key.key_arn],
                conditions={
                    "StringEquals": {"kms:EncryptionContext:aws:states:stateMachineArn": arn}
                },
            ),
            iam.PolicyStatement(
                actions=["kms:GenerateDataKey"],
                resources=[key.key_arn],
                conditions={"StringEquals": {"kms:EncryptionContext:SourceArn": logs_source}},
            ),
        ],
    )
    star = iam.ManagedPolicy(
        role,
        "StarOnlyPolicy",
        description="Only actions AWS supports solely on Resource '*'",
        roles=[role],
        statements=[
            iam.PolicyStatement(
                actions=[
                    "logs:CreateLogDelivery",
                    "logs:GetLogDelivery",
                    "logs:UpdateLogDelivery",
                    "logs:DeleteLogDelivery",
                    "logs:ListLogDeliveries",
                    "logs:PutResourcePolicy",
                    "logs:DescribeResourcePolicies",
                    "logs:DescribeLogGroups",
                ],
                resources=["*"],
            ),
            iam.PolicyStatement(
                actions=[
                    "xray:PutTraceSegments",
                    "xray:PutTelemetryRecords",
                    "xray:GetSamplingRules",
                    "xray:GetSamplingTargets",
                ],
                resources=["*"],
            ),
        ],
    )
    cdk.Validations.of(star).acknowledge(
        cdk.Acknowledgment(id="AwsSolutions::AwsSolutions-IAM5[Resource::*]", reason=STAR_ONLY)
    )
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowLogDeliveryOfEncryptedStateMachines",
            principals=[iam.ServicePrincipal("delivery.logs.amazonaws.com")],
            actions=["kms:Decrypt"],
            resources=["*"],
            conditions={"StringEquals": {"kms:EncryptionContext:SourceArn": logs_source}},
        )
    )
    log_group = logs.LogGroup(
        stack, "FlowLogGroup", retention=logs.RetentionDays.ONE_YEAR, encryption_key=key
    )
    steps = []
    for i, fn in enumerate(functions):
        task = tasks.LambdaInvoke(
            stack,
            f"Task{i}",
            lambda_function=fn,
            retry_on_service_exceptions=False,
            task_timeout=sfn.Timeout.duration(cdk.Duration.seconds(15)),
        )
        task.add_retry(
            errors=TRANSIENT,
            interval=cdk.Duration.seconds(1),
            backoff_rate=2,
            max_attempts=3,
            max_delay=cdk.Duration.seconds(30),
            jitter_strategy=sfn.JitterType.FULL,
        )
        steps.append(task)
    chain = sfn.Chain.start(steps[0])
    for step in steps[1:]:
        chain = chain.next(step)
    machine = sfn.StateMachine(
        stack,
        "Flow",
        definition_body=sfn.DefinitionBody.from_chainable(chain),
        timeout=cdk.Duration.minutes(5),
        state_machine_name=name,
        role=role.without_policy_updates(),
        tracing_enabled=True,
        logs=sfn.LogOptions(
            destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False
        ),
    )
    cfn = machine.node.default_child
    assert isinstance(cfn, sfn.CfnStateMachine)
    cfn.encryption_configuration = sfn.CfnStateMachine.EncryptionConfigurationProperty(
        type="CUSTOMER_MANAGED_KMS_KEY",
        kms_key_id=key.key_arn,
        kms_data_key_reuse_period_seconds=300,
    )
    minute = cdk.Duration.minutes(1)
    for cid, metric, text in (
        ("FailedAlarm", machine.metric_failed, "An execution of the state machine failed"),
        ("TimedOutAlarm", machine.metric_timed_out, "An execution of the state machine timed out"),
        (
            "ThrottledAlarm",
            machine.metric_throttled,
            "Executions of the state machine were throttled",
        ),
    ):
        alarm(machine, cid, metric(period=minute, statistic="Sum"), 0, text)
    return machine
