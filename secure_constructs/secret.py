"""SecureSecret: a Secrets Manager secret that is encrypted, rotated and watched by default.

`SecretRotation` says how the secret rotates (a SecureFunction, a hosted rotation, or, with a
reason, not at all); a rotation failure reaches the stack's alarm topic through EventBridge.
"""

from __future__ import annotations

import abc
import json
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Unpack

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct, IConstruct

from secure_constructs._options import SecretOptions
from secure_constructs.checks.cfn import referenced_ids
from secure_constructs.checks.guard import ensure_checked
from secure_constructs.checks.packs import acknowledge_made
from secure_constructs.checks.secret_patterns import (
    dynamic_reference,
    is_secret_name,
    secret_reason,
)
from secure_constructs.defaults import ROTATION_DAYS
from secure_constructs.errors import ValidationError
from secure_constructs.function import SecureFunction
from secure_constructs.monitoring import terminal_queue
from secure_constructs.observability.stack import observe_secret
from secure_constructs.open_grants import refuse_open_grantee, refuse_open_statement
from secure_constructs.prop_types import check_args
from secure_constructs.shared import StackIds, per_stack, security_key
from secure_constructs.shared import alarm_topic as stack_alarm_topic
from secure_constructs.trigger_facts import (
    EVENT_TARGET_MAX_EVENT_AGE_SECONDS,
    EVENT_TARGET_RETRY_ATTEMPTS,
)
from secure_constructs.validation import check_reason

MIN_ROTATION_HOURS = 4
MAX_ROTATION_DAYS = 365

# What Secrets Manager emits when a rotation fails: a CloudTrail service event whose
# additionalEventData.SecretId is the secret's ARN (AWS docs: "AWS CloudTrail entries for Secrets
# Manager", log entries for rotation).
ROTATION_FAILED_SOURCE = "aws.secretsmanager"
ROTATION_FAILED_DETAIL_TYPE = "AWS Service Event via CloudTrail"
ROTATION_FAILED_EVENT_NAME = "RotationFailed"

# The actions a rotation function calls on the secret it rotates (AWS docs: "Permissions for
# rotation"); GetRandomPassword has no resource type, so AWS accepts it only on Resource "*".
ROTATION_SECRET_ACTIONS = (
    "secretsmanager:DescribeSecret",
    "secretsmanager:GetSecretValue",
    "secretsmanager:PutSecretValue",
    "secretsmanager:UpdateSecretVersionStage",
)
RANDOM_PASSWORD_ACTION = "secretsmanager:GetRandomPassword"
ROTATION_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")
READ_SECRET_ACTIONS = ("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret")

# Per-stack singletons of the rotation-failure path (construct ids are part of the contract).
EVENTS_DLQ_ID = StackIds.ROTATION_EVENTS_DLQ
EVENTS_KEY_SID = "AllowEventBridgeToPublishEncrypted"

# The cdk-nag rules that ask for automatic rotation (one per pack that has one).
_ROTATION_RULES = (
    "AwsSolutions-SMG4",
    "NIST.800.53.R5-SecretsManagerRotationEnabled",
    "HIPAA.Security-SecretsManagerRotationEnabled",
)
_TERMINAL_DLQ_REASON = (
    "This queue is the terminal dead-letter queue of the rotation-failure EventBridge rules; "
    "its depth alarm pages a person, and a dead-letter queue of a dead-letter queue only moves "
    "the problem."
)


class SecretRotation(abc.ABC):
    """How a SecureSecret rotates. Build one with `function`, `hosted` or `none`; each returns
    one of the variants below, which sets up its own rotation (`bind(secret)`)."""

    kind: ClassVar[str]
    """A label: "function", "hosted" or "none"."""
    every: cdk.Duration | None = None
    rotation_function: SecureFunction | None = None
    hosted_rotation: secretsmanager.HostedRotation | None = None
    reason: str | None = None
    random_password: bool = True

    @staticmethod
    def function(
        rotation_function: SecureFunction,
        *,
        every: cdk.Duration | None = None,
        random_password: bool = True,
    ) -> SecretRotation:
        """Rotate with your own SecureFunction (e.g. one of AWS's rotation templates).

        The function gets exactly what rotation needs on this secret: DescribeSecret,
        GetSecretValue, PutSecretValue and UpdateSecretVersionStage on the secret's ARN,
        kms:Decrypt and kms:GenerateDataKey on its key through Secrets Manager only, and an
        invoke permission for secretsmanager.amazonaws.com limited to this secret and account.

        :param rotation_function: a SecureFunction.
        :param every: the rotation interval, 4 hours to 365 days (below a day: whole hours;
            from a day: whole days). Default: 30 days.
        :param random_password: also grant `secretsmanager:GetRandomPassword` (AWS supports it
            only on Resource "*"), which AWS's rotation templates call to make the new value.
            Default: True; pass False when the function makes its own.
        """
        check_args(SecretRotation.function, locals())
        if not isinstance(rotation_function, SecureFunction):
            raise ValidationError(
                "rotation_function",
                type(rotation_function).__name__,
                "a SecureFunction (it gets its own least-privilege role, alarms and a DLQ)",
                "build the rotation function with SecureFunction(...) and pass it here",
            )
        return FunctionRotation(rotation_function, _check_every(every), random_password)

    @staticmethod
    def hosted(
        hosted_rotation: secretsmanager.HostedRotation, *, every: cdk.Duration | None = None
    ) -> SecretRotation:
        """Rotate with a Secrets Manager hosted rotation (RDS, Redshift, DocumentDB, ...).

        :param hosted_rotation: e.g. `HostedRotation.postgre_sql_single_user(vpc=...)`.
        :param every: the rotation interval, 4 hours to 365 days. Default: 30 days.
        """
        check_args(SecretRotation.hosted, locals())
        if not isinstance(hosted_rotation, secretsmanager.HostedRotation):
            raise ValidationError(
                "hosted_rotation",
                type(hosted_rotation).__name__,
                "an aws_secretsmanager.HostedRotation",
                "pass e.g. HostedRotation.mysql_single_user(vpc=vpc)",
            )
        return HostedServiceRotation(hosted_rotation, _check_every(every))

    @staticmethod
    def none(*, reason: str) -> SecretRotation:
        """No automatic rotation, for a secret AWS cannot rotate (e.g. a third-party API key).

        Records an acknowledgement of cdk-nag's rotation rules (AwsSolutions-SMG4 and its
        NIST/HIPAA equivalents) on this secret only, with `reason`, and nothing else.

        :param reason: why the secret cannot rotate and how it is renewed, at least 4 words
            and 10 characters, not boilerplate; it appears in the synth report.
        """
        check_args(SecretRotation.none, locals())
        check_reason(
            "reason",
            reason,
            about="the secret cannot be rotated by AWS, and how it is renewed instead",
        )
        return NoRotation(reason)

    @property
    def interval(self) -> cdk.Duration | None:
        """The rotation interval, or None when the secret does not rotate."""
        return self.every

    @property
    def rotates(self) -> bool:
        """False only for `SecretRotation.none(...)`."""
        return True

    def bind(self, secret: SecureSecret) -> IConstruct | None:
        """Set up this rotation on `secret`; returns the rotation schedule (None: no rotation)."""
        check_args(SecretRotation.bind, locals())
        return self._bind(secret)

    @abc.abstractmethod
    def _bind(self, secret: SecureSecret) -> IConstruct | None:
        """The variant's own `bind`."""


class FunctionRotation(SecretRotation):
    """`SecretRotation.function(fn, every=...)`: your SecureFunction rotates the secret."""

    kind = "function"
    every: cdk.Duration
    rotation_function: SecureFunction

    def __init__(
        self, rotation_function: SecureFunction, every: cdk.Duration, random_password: bool
    ) -> None:
        self.rotation_function = rotation_function
        self.every = every
        self.random_password = random_password

    def _bind(self, secret: SecureSecret) -> IConstruct | None:
        fn = self.rotation_function
        stack = cdk.Stack.of(secret)
        secret_arn = secret.secret_full_arn or secret.secret_arn
        fn.add_to_role_policy(
            iam.PolicyStatement(actions=list(ROTATION_SECRET_ACTIONS), resources=[secret_arn])
        )
        if self.random_password:
            fn.add_to_role_policy(
                iam.PolicyStatement(actions=[RANDOM_PASSWORD_ACTION], resources=["*"])
            )
        key = secret.encryption_key
        if key is not None:
            fn.add_to_role_policy(
                iam.PolicyStatement(
                    actions=list(ROTATION_KEY_ACTIONS),
                    resources=[key.key_arn],
                    conditions={
                        "StringEquals": {"kms:ViaService": _secretsmanager_service(secret)}
                    },
                )
            )
        permission = lambda_.CfnPermission(
            secret,
            "RotationPermission",
            action="lambda:InvokeFunction",
            function_name=fn.function_arn,
            principal="secretsmanager.amazonaws.com",
            source_arn=secret.secret_arn,
            source_account=stack.account,
        )
        schedule = secretsmanager.CfnRotationSchedule(
            secret,
            "RotationSchedule",
            secret_id=secret.secret_arn,
            rotation_lambda_arn=fn.function_arn,
            rotation_rules=secretsmanager.CfnRotationSchedule.RotationRulesProperty(
                schedule_expression=_rate(self.every)
            ),
        )
        # Secrets Manager checks the invoke permission when the schedule is created and may
        # rotate at once: the permission and the function's policies must exist first.
        schedule.node.add_dependency(permission)
        schedule.node.add_dependency(fn.execution_role)
        return schedule


class HostedServiceRotation(SecretRotation):
    """`SecretRotation.hosted(HostedRotation..., every=...)`: a Secrets Manager hosted
    rotation function."""

    kind = "hosted"
    every: cdk.Duration
    hosted_rotation: secretsmanager.HostedRotation

    def __init__(self, hosted_rotation: secretsmanager.HostedRotation, every: cdk.Duration) -> None:
        self.hosted_rotation = hosted_rotation
        self.every = every

    def _bind(self, secret: SecureSecret) -> IConstruct | None:
        return secret.add_rotation_schedule(
            "RotationSchedule", hosted_rotation=self.hosted_rotation, automatically_after=self.every
        )


class NoRotation(SecretRotation):
    """`SecretRotation.none(reason=...)`: no rotation; the rotation rules are acknowledged on
    the secret with the reason."""

    kind = "none"

    def __init__(self, reason: str) -> None:
        self.reason = reason

    @property
    def rotates(self) -> bool:
        return False

    def _bind(self, secret: SecureSecret) -> IConstruct | None:
        for rule_id in _ROTATION_RULES:
            acknowledge_made(secret, rule_id, self.reason or "")
        return None


class SecureSecret(secretsmanager.Secret):
    """A Secrets Manager secret: CMK-encrypted, retained, generated, rotated, watched.

    Every keyword argument of `aws_secretsmanager.Secret` passes through (`secret_name`,
    `description`, `generate_secret_string`, `replica_regions`, ...).

    :param rotation: required: `SecretRotation.function(fn, every=...)`,
        `SecretRotation.hosted(HostedRotation..., every=...)` or
        `SecretRotation.none(reason=...)`.
    :param encryption_key: Default: the stack's customer-managed key.
    :param removal_policy: Default: RETAIN (anything else adds a warning).
    :param secret_string_value: only a token (e.g. `SecretValue.resource_attribute(...)`); a
        plain value would be written into the template and is refused. Default: a value
        generated by Secrets Manager.
    :param secret_object_value: the same, per field. Default: none.
    :param alarm_topic: where a rotation failure is reported. Default: the stack's alarm topic
        (none is created for a secret that does not rotate).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        rotation: SecretRotation | None = None,
        encryption_key: kms.IKey | None = None,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
        secret_string_value: cdk.SecretValue | None = None,
        secret_object_value: Mapping[str, cdk.SecretValue] | None = None,
        alarm_topic: sns.ITopic | None = None,
        **options: Unpack[SecretOptions],
    ) -> None:
        check_args(SecureSecret.__init__, locals())
        if not isinstance(rotation, SecretRotation):
            raise ValidationError(
                "rotation",
                rotation,
                "SecretRotation.function(fn, every=Duration.days(30)), "
                "SecretRotation.hosted(HostedRotation..., every=...) or "
                "SecretRotation.none(reason='...')",
                "say how the secret rotates; use SecretRotation.none(reason=...) only for a "
                "secret AWS cannot rotate",
            )
        # Refused here for callers without a type checker (SecretOptions has no such key).
        untyped: Mapping[str, Any] = options
        if untyped.get("secret_string_beta1") is not None:
            raise ValidationError(
                "secret_string_beta1",
                "<redacted>",
                "nothing (deprecated, and a plain value would be written into the template)",
                "leave the value to Secrets Manager, or pass a token as secret_string_value=",
            )
        stack = cdk.Stack.of(scope)
        if secret_string_value is not None:
            _refuse_plain(stack, "secret_string_value", secret_string_value)
        for field, value in (secret_object_value or {}).items():
            _refuse_plain(stack, f"secret_object_value[{field!r}]", value)
        _refuse_secret_template(options.get("generate_secret_string"))

        super().__init__(
            scope,
            construct_id,
            encryption_key=encryption_key or security_key(scope),
            removal_policy=removal_policy,
            secret_string_value=secret_string_value,
            secret_object_value=secret_object_value,
            **options,
        )
        ensure_checked(self)  # warns at synth when apply_checks was never called
        if removal_policy is not cdk.RemovalPolicy.RETAIN:
            cdk.Annotations.of(self).add_warning_v2(
                "secure-constructs:secret-removal",
                f"removal_policy={removal_policy} lets a stack update delete this secret",
            )

        self.rotation: SecretRotation = rotation
        self.rotation_schedule: IConstruct | None = None
        self.rotation_failed_rule: events.Rule | None = None
        self.alarm_topic: sns.ITopic | None = alarm_topic
        if not rotation.rotates:
            rotation.bind(self)
            return
        # The topic before the schedule: construct order is template order.
        self.alarm_topic = alarm_topic or stack_alarm_topic(self)
        self.rotation_schedule = rotation.bind(self)
        self.rotation_failed_rule = self._report_rotation_failures()
        observe_secret(self, self.rotation_failed_rule)  # its dashboard row

    @property
    def rotation_interval(self) -> cdk.Duration | None:
        """How often the secret rotates, or None when it does not."""
        return self.rotation.interval

    def grant_read(
        self, grantee: iam.IGrantable, version_stages: Sequence[str] | None = None
    ) -> iam.Grant:
        """Read this one secret: GetSecretValue and DescribeSecret on its full ARN, and
        kms:Decrypt on its key only when Secrets Manager asks for it (kms:ViaService).

        :param version_stages: limit reads to these staging labels. Default: any.
        :raises ValidationError: for `iam.AnyPrincipal()` or another account without a
            restricting condition (the secret would be readable by the world or that account).
        """
        check_args(SecureSecret.grant_read, locals())
        refuse_open_grantee(self, "SecureSecret.grant_read(grantee)", grantee)
        conditions: dict[str, Any] | None = None
        if version_stages:
            conditions = {
                "ForAnyValue:StringEquals": {"secretsmanager:VersionStage": list(version_stages)}
            }
        grant = iam.Grant.add_to_principal_or_resource(
            grantee=grantee,
            actions=list(READ_SECRET_ACTIONS),
            resource_arns=[self.secret_full_arn or self.secret_arn],
            resource=self,
            conditions=conditions,
        )
        key = self.encryption_key
        if key is None:
            return grant
        key_grant = iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["kms:Decrypt"],
            resource_arns=[key.key_arn],
            conditions={"StringEquals": {"kms:ViaService": _secretsmanager_service(self)}},
        )
        return grant.combine(key_grant)

    def grant_write(self, grantee: iam.IGrantable) -> iam.Grant:
        """Write this one secret (CDK's grant), refusing everyone and unconditioned accounts.

        :raises ValidationError: for `iam.AnyPrincipal()` or another account without a
            restricting condition.
        """
        check_args(SecureSecret.grant_write, locals())
        refuse_open_grantee(self, "SecureSecret.grant_write(grantee)", grantee)
        return super().grant_write(grantee)

    def add_to_resource_policy(
        self, statement: iam.PolicyStatement
    ) -> iam.AddToResourcePolicyResult:
        """Add a statement to the secret's resource policy, which gets BlockPublicPolicy.

        :raises ValidationError: for an Allow to `*` or another account without a condition
            that restricts the caller (aws:SourceArn, aws:PrincipalOrgID, ...).
        """
        check_args(SecureSecret.add_to_resource_policy, locals())
        refuse_open_statement(self, "SecureSecret.add_to_resource_policy(statement)", statement)
        result = super().add_to_resource_policy(statement)
        policy = self.node.try_find_child("Policy")
        child = policy.node.default_child if policy is not None else None
        if isinstance(child, secretsmanager.CfnResourcePolicy):
            # Secrets Manager then refuses any policy that grants broad access (AWS:
            # https://docs.aws.amazon.com/secretsmanager/latest/userguide/determine-acccess_examine-iam-policies.html).
            child.block_public_policy = True
        return result

    def _report_rotation_failures(self) -> events.Rule:
        stack = cdk.Stack.of(self)
        topic = self.alarm_topic or stack_alarm_topic(self)
        queue = _events_dead_letter_queue(stack, topic)
        rule = events.Rule(
            self,
            "RotationFailedRule",
            description="A rotation of this secret failed: tell a person",
            event_pattern=events.EventPattern(
                source=[ROTATION_FAILED_SOURCE],
                detail_type=[ROTATION_FAILED_DETAIL_TYPE],
                detail={
                    "eventSource": ["secretsmanager.amazonaws.com"],
                    "eventName": [ROTATION_FAILED_EVENT_NAME],
                    "additionalEventData": {"SecretId": [self.secret_arn]},
                },
            ),
        )
        # Bounded retries (EventTargetFailureHandling): EventBridge's default is 185 over 24 h.
        rule.add_target(
            targets.SnsTopic(
                topic,
                dead_letter_queue=queue,
                retry_attempts=EVENT_TARGET_RETRY_ATTEMPTS,
                max_event_age=cdk.Duration.seconds(EVENT_TARGET_MAX_EVENT_AGE_SECONDS),
            )
        )
        return rule


def _check_every(every: cdk.Duration | None) -> cdk.Duration:
    every = every or cdk.Duration.days(ROTATION_DAYS)
    if every.is_unresolved():
        raise ValidationError(
            "every", "a token", "a concrete Duration", "pass e.g. every=Duration.days(30)"
        )
    ms = every.to_milliseconds()
    hour, day = 3_600_000, 86_400_000
    allowed = (
        f"{MIN_ROTATION_HOURS} hours to {MAX_ROTATION_DAYS} days (Secrets Manager's range): whole "
        "hours below a day, whole days from a day"
    )
    in_range = MIN_ROTATION_HOURS * hour <= ms <= MAX_ROTATION_DAYS * day
    whole = ms % day == 0 if ms >= day else ms % hour == 0
    if not (in_range and whole):
        raise ValidationError(
            "every", every.to_human_string(), allowed, "pass e.g. every=Duration.days(30)"
        )
    return every


def _rate(every: cdk.Duration) -> str:
    hours = int(every.to_milliseconds() // 3_600_000)
    if hours % 24 == 0:
        days = hours // 24
        return f"rate({days} day{'s' if days > 1 else ''})"
    return f"rate({hours} hours)"


def _refuse_plain(stack: cdk.Stack, prop: str, value: cdk.SecretValue) -> None:
    """A SecretValue that resolves to a plain string would sit in the template: refuse it.

    So would one built from a CfnParameter: its value is in the stack's parameters (shown by
    DescribeStacks unless NoEcho), and its default, if any, in the template.
    """
    resolved = stack.resolve(value.unsafe_unwrap())
    allowed = (
        "a generated value (the default) or a token such as SecretValue.resource_attribute(...)"
    )
    fix = (
        "leave it out to let Secrets Manager generate the value, then put the real value "
        "with `aws secretsmanager put-secret-value` outside the template"
    )
    if isinstance(resolved, str) and dynamic_reference(resolved) is None:
        raise ValidationError(prop, "<redacted plain value>", allowed, fix)
    parameters = {
        stack.resolve(c.logical_id)
        for c in stack.node.find_all()
        if isinstance(c, cdk.CfnParameter)
    }
    if parameters.intersection(referenced_ids(resolved)):
        raise ValidationError(prop, "a CfnParameter-backed value", allowed, fix)


def _refuse_secret_template(generator: Any) -> None:
    """A secret_string_template holds the fields that are not secret (a username): refuse a
    member the secret scan's detector flags, or any member under a secret-like name."""
    template = getattr(generator, "secret_string_template", None)
    if not isinstance(template, str) or cdk.Token.is_unresolved(template):
        return
    try:
        members = json.loads(template)
    except ValueError:
        members = None
    if not isinstance(members, Mapping):
        return  # Secrets Manager refuses a template that is not a JSON object
    for key, member in members.items():
        text = member if isinstance(member, str) else json.dumps(member)
        reason = secret_reason(str(key), text)
        if reason is None and is_secret_name(str(key)) and text.strip('"'):
            reason = f"a value under a secret-like name ({key})"
        if reason:
            raise ValidationError(
                f"generate_secret_string.secret_string_template[{key!r}]",
                "<redacted>",
                f"only fields that are not secret (e.g. a username), not {reason}",
                "leave the secret field out of the template and name it in "
                "generate_string_key=, so Secrets Manager generates it",
            )


def _secretsmanager_service(scope: IConstruct) -> str:
    return f"secretsmanager.{cdk.Stack.of(scope).region}.amazonaws.com"


def _events_dead_letter_queue(stack: cdk.Stack, topic: sns.ITopic) -> sqs.IQueue:
    """The stack's dead-letter queue for undeliverable rotation-failure events, with an alarm.

    Created with it, once per stack: the stack key's permission for EventBridge.
    """

    def create(scope: cdk.Stack, construct_id: str) -> sqs.Queue:
        _allow_events_to_use_key(scope)
        return terminal_queue(
            scope,
            construct_id,
            reason=_TERMINAL_DLQ_REASON,
            also_acknowledge=("AwsSolutions-SQS3",),
            alarm_topic=topic,
            alarm_description="A rotation-failure event could not be delivered to the alarm topic",
        )

    return per_stack(stack, StackIds.ROTATION_EVENTS_DLQ, create)


def _allow_events_to_use_key(stack: cdk.Stack) -> None:
    """Let EventBridge use the stack key to write to the encrypted topic and dead-letter queue
    (CDK's SnsTopic target covers only the topic's key, and without an account condition)."""
    security_key(stack).add_to_resource_policy(
        iam.PolicyStatement(
            sid=EVENTS_KEY_SID,
            principals=[iam.ServicePrincipal("events.amazonaws.com")],
            actions=["kms:Decrypt", "kms:GenerateDataKey"],
            resources=["*"],
            conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
        )
    )


__all__ = [
    "FunctionRotation",
    "HostedServiceRotation",
    "NoRotation",
    "SecretRotation",
    "SecureSecret",
]
