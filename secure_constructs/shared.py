"""Per-stack shared resources: one customer-managed KMS key, one alarm topic, and the other
singletons our constructs share (dead-letter queues, star-only policies, API Gateway's account
logging setting), each found or created on first use with `per_stack`.

Never one per function (cost, and CloudFormation's 500-resource limit). Their construct ids,
all in `StackIds`, are part of the public contract.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct, IConstruct

from secure_constructs.errors import ValidationError
from secure_constructs.guarded import GuardedKey, GuardedTopic
from secure_constructs.jsii_refs import stack_of as stack_of  # its home; re-exported
from secure_constructs.prop_types import check_args
from secure_constructs.trigger_facts import CLOUDWATCH_PRINCIPAL

if TYPE_CHECKING:
    from aws_cdk import aws_apigateway as apigateway


class StackIds:
    """The construct ids of the per-stack singletons (children of the stack). Part of the
    public contract: a user can find each with `stack.node.try_find_child(...)`, and a change
    would replace the resource on the next deployment."""

    KEY = "SecureConstructsKey"
    """The stack's customer-managed KMS key (`security_key`)."""
    ALARM_TOPIC = "SecureConstructsAlarmTopic"
    """The stack's alarm topic (`alarm_topic`)."""
    DEAD_LETTER_QUEUE = "SecureConstructsDeadLetterQueue"
    """SecureFunction's shared dead-letter queue and on-failure destination."""
    ALARM_SUBSCRIPTION_DLQ = "SecureConstructsAlarmSubscriptionDlq"
    """The dead-letter queue of the alarm topic's e-mail subscriptions."""
    ALARM_DELIVERY_KEY = "SecureConstructsAlarmDeliveryKey"
    """The KMS key of that dead-letter queue (SNS may use it for the subscribed topics only)."""
    ROTATION_EVENTS_DLQ = "SecureConstructsRotationEventsDlq"
    """The dead-letter queue of undeliverable secret-rotation failure events."""
    XRAY_WRITE_POLICY = "SecureConstructsXRayWritePolicy"
    """The managed policy with the star-only X-Ray write actions, attached to traced roles."""
    VPC_NETWORK_INTERFACE_POLICY = "SecureConstructsVpcNetworkInterfacePolicy"
    """The managed policy with the star-only ENI actions of VPC functions."""
    API_GATEWAY_ACCOUNT = "SecureConstructsApiGatewayAccount"
    """API Gateway's account-level CloudWatch logging setting (`ApiGatewayAccountLogging`)."""
    LOG_FORWARDING = "SecureConstructsLogForwarding"
    """The stack's log forwarding (`forward_logs`): its role and, if created, its stream."""
    MONITORING = "SecureConstructsMonitoring"
    """The stack dashboard and function-traffic anomaly alarms (`observability.StackMonitoring`)."""
    TRIGGER_HARDENING = "SecureConstructsTriggerHardening"
    """No resource: the Aspect that hardens what CDK's trigger calls create (`triggers.py`)."""

    @classmethod
    def all(cls) -> dict[str, str]:
        """name -> construct id, in the order above."""
        return {n: v for n, v in vars(cls).items() if n.isupper() and isinstance(v, str)}


KEY_ID = StackIds.KEY
TOPIC_ID = StackIds.ALARM_TOPIC
ACCOUNT_LOGGING_ID = StackIds.API_GATEWAY_ACCOUNT

EXECUTION_LOG_PREFIX = "API-Gateway-Execution-Logs_"
"""API Gateway names each stage's execution log group `API-Gateway-Execution-Logs_<api>/<stage>`."""
ACCESS_LOG_PREFIX = "API-Gateway-Access-Logs_"
"""SecureApi names its access log groups with this prefix, so that the account-level CloudWatch
role can be scoped to the two prefixes instead of every log group of the account."""

_C = TypeVar("_C", bound=IConstruct)

# stack -> construct id -> the singleton: a look-up through the construct tree costs three jsii
# round trips (Stack.of, node, try_find_child), and every construct asks for the key and topic.
# Only a shortcut: a miss (e.g. another Python proxy of the same stack) finds the same child in
# the tree, so the result never depends on which Python object stands for the stack.
_FOUND: weakref.WeakKeyDictionary[cdk.Stack, dict[str, IConstruct]] = weakref.WeakKeyDictionary()


def per_stack(
    scope: IConstruct,
    construct_id: str,
    factory: Callable[[cdk.Stack, str], _C],
    expected_type: type[_C] | None = None,
) -> _C:
    """The stack's child `construct_id`, created with `factory(stack, construct_id)` on first
    use. With `expected_type`, a child of another type under that id is refused (it is one of our
    reserved ids, see `StackIds`)."""
    stack = stack_of(scope)
    found = _FOUND.setdefault(stack, {})
    existing = found.get(construct_id)
    if existing is None:
        existing = stack.node.try_find_child(construct_id)
    if existing is None:
        existing = factory(stack, construct_id)
    elif expected_type is not None and not isinstance(existing, expected_type):
        raise ValidationError(
            "construct_id",
            f"{construct_id} ({type(existing).__name__}) under {stack.node.path}",
            f"a {expected_type.__name__}: secure-constructs reserves this id for a per-stack "
            "shared resource",
            "give your construct another id",
        )
    found[construct_id] = existing
    return existing  # type: ignore[return-value]


def security_key(scope: IConstruct) -> kms.Key:
    """The stack's customer-managed key (rotation on), created on first use.

    Its key policy lets CloudWatch Logs encrypt this account's log groups in this region and
    lets CloudWatch alarms publish to topics encrypted with it.
    """
    check_args(security_key, locals())
    return per_stack(scope, StackIds.KEY, _new_security_key)


def _new_security_key(stack: cdk.Stack, construct_id: str) -> kms.Key:
    key = GuardedKey(
        stack,
        construct_id,
        description="secure-constructs: encrypts this stack's logs, queues, topics and secrets",
        enable_key_rotation=True,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowCloudWatchLogsOfThisAccount",
            principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
            actions=[
                "kms:Encrypt",
                "kms:Decrypt",
                "kms:ReEncryptFrom",
                "kms:ReEncryptTo",
                "kms:GenerateDataKey",
                "kms:GenerateDataKeyWithoutPlaintext",
                "kms:DescribeKey",
            ],
            resources=["*"],
            conditions={
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name="*",
                        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                    )
                }
            },
        )
    )
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowCloudWatchAlarmsToPublish",
            principals=[iam.ServicePrincipal(CLOUDWATCH_PRINCIPAL)],
            actions=["kms:Decrypt", "kms:GenerateDataKey"],
            resources=["*"],
            conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
        )
    )
    return key


def allow_service_on_key(
    key: kms.IKey, sid: str, principal: str, actions: Sequence[str], source_arn: Any
) -> None:
    """A key policy statement letting one service principal use the key for exactly one source
    (`ArnEquals aws:SourceArn`): how EventBridge and SNS get to write to a stack-key queue."""
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid=sid,
            principals=[iam.ServicePrincipal(principal)],
            actions=list(actions),
            resources=["*"],
            conditions={"ArnEquals": {"aws:SourceArn": source_arn}},
        )
    )


def alarm_topic(scope: IConstruct) -> sns.Topic:
    """The stack's alarm topic (KMS-encrypted, TLS-only publish policy), created on first use."""
    check_args(alarm_topic, locals())
    return per_stack(scope, StackIds.ALARM_TOPIC, _new_alarm_topic)


def _new_alarm_topic(stack: cdk.Stack, construct_id: str) -> sns.Topic:
    return GuardedTopic(
        stack,
        construct_id,
        display_name="secure-constructs alarms",
        master_key=security_key(stack),
        enforce_ssl=True,
    )


_LOG_PREFIX_REASON = (
    "The account-level API Gateway CloudWatch role writes execution logs to "
    "API-Gateway-Execution-Logs_<rest api id>/<stage> groups, whose names API Gateway derives "
    "from ids known only at deploy time, and SecureApi access logs to API-Gateway-Access-Logs_* "
    "groups; the role is shared by every API of the account and region, so it is scoped to "
    "these two name prefixes rather than to named log groups."
)


class ApiGatewayAccountLogging(Construct):
    """The account- and region-wide API Gateway setting naming the CloudWatch role that writes
    execution and access logs, with a customer-managed policy (not AWS's managed
    AmazonAPIGatewayPushToCloudWatchLogs, not inline) limited to writing log events into
    `API-Gateway-Execution-Logs_*` and `API-Gateway-Access-Logs_*` log groups.

    One per stack (`ApiGatewayAccountLogging.of(scope)`); the role, policy and setting are
    retained when the stack is deleted, because every API of the account and region depends on
    the setting.
    """

    def __init__(self, scope: Construct, construct_id: str) -> None:
        from aws_cdk import aws_apigateway as apigateway  # only API stacks load it

        from secure_constructs.checks.packs import acknowledge_made

        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)

        def log_group_arn(name: str) -> str:
            return stack.format_arn(
                service="logs",
                resource="log-group",
                resource_name=name,
                arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
            )

        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            description="API Gateway account-level CloudWatch role (secure-constructs)",
        )
        self.policy = iam.ManagedPolicy(
            self,
            "Policy",
            description="Lets API Gateway write execution and SecureApi access logs",
            roles=[self.role],
            statements=[
                iam.PolicyStatement(
                    actions=[
                        "logs:CreateLogGroup",
                        "logs:CreateLogStream",
                        "logs:DescribeLogGroups",
                        "logs:DescribeLogStreams",
                        "logs:PutLogEvents",
                    ],
                    resources=[
                        log_group_arn(f"{EXECUTION_LOG_PREFIX}*"),
                        log_group_arn(f"{EXECUTION_LOG_PREFIX}*:log-stream:*"),
                        log_group_arn(f"{ACCESS_LOG_PREFIX}*"),
                        log_group_arn(f"{ACCESS_LOG_PREFIX}*:log-stream:*"),
                    ],
                )
            ],
        )
        self.account: apigateway.CfnAccount = apigateway.CfnAccount(
            self, "Resource", cloud_watch_role_arn=self.role.role_arn
        )
        self.account.node.add_dependency(self.policy)
        for child in (self.role, self.policy, self.account):
            child.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        # cdk-nag writes a concrete region/account (a stack with env=) as it is, a token as <...>.
        region = "<AWS::Region>" if cdk.Token.is_unresolved(stack.region) else stack.region
        account = "<AWS::AccountId>" if cdk.Token.is_unresolved(stack.account) else stack.account
        for prefix in (EXECUTION_LOG_PREFIX, ACCESS_LOG_PREFIX):
            for suffix in ("*", "*:log-stream:*"):
                acknowledge_made(
                    self.policy,
                    f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:{region}:"
                    f"{account}:log-group:{prefix}{suffix}]",
                    _LOG_PREFIX_REASON,
                )

    @staticmethod
    def of(scope: IConstruct) -> ApiGatewayAccountLogging:
        """The stack's account logging setting, created on first use."""
        return per_stack(
            scope, StackIds.API_GATEWAY_ACCOUNT, ApiGatewayAccountLogging, ApiGatewayAccountLogging
        )


# -- validation ------------------------------------------------------------------------------
