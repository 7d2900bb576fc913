"""SecureFunction: a Lambda function that passes a security review by default."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Unpack

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from secure_constructs import durations
from secure_constructs._options import FunctionOptions, FunctionUrlOptions
from secure_constructs.checks import acknowledge
from secure_constructs.checks.guard import ensure_checked
from secure_constructs.checks.iam_facts import VPC_NETWORK_INTERFACE_ACTIONS
from secure_constructs.dead_letters import (
    DEAD_LETTER_QUEUE_ID as DEAD_LETTER_QUEUE_ID,
)
from secure_constructs.dead_letters import (
    QueueArnDestination,
    dead_letter_alarm,
    queue_facts,
    region_of,
    send_statements,
    shared_dead_letter_queue,
)
from secure_constructs.defaults import (
    DURATION_ALARM_RATIO,
    LOG_RETENTION,
)
from secure_constructs.errors import ValidationError
from secure_constructs.function_props import (
    add_code_signing,
    checked_limits,
    configured,
    refuse_passthrough,
    refuse_secret_value,
)
from secure_constructs.function_triggers import FunctionTriggers
from secure_constructs.monitoring import (
    alarm,
    subscribe_emails,
    validate_emails,
)
from secure_constructs.observability.stack import StackMonitoring
from secure_constructs.prop_types import check_args
from secure_constructs.role import LambdaExecutionRole
from secure_constructs.runtimes import latest_python_runtime
from secure_constructs.secrets_cache import SecretsCache
from secure_constructs.shared import alarm_topic as stack_alarm_topic
from secure_constructs.shared import security_key, stack_of
from secure_constructs.triggers import harden_stack
from secure_constructs.validation import (
    check_retention,
)

if TYPE_CHECKING:  # only in annotations: importing them costs the jsii kernel time
    from aws_cdk import aws_secretsmanager as secretsmanager
    from aws_cdk import aws_signer as signer


__all__ = ["SecureFunction", "latest_python_runtime", "shared_dead_letter_queue"]


@dataclass(frozen=True)
class _OwnResources:
    """The role, log group and dead-letter queue a SecureFunction is built with."""

    role: LambdaExecutionRole
    log_group: logs.ILogGroup
    dead_letter_queue: sqs.IQueue
    queue_if_own: sqs.IQueue | None
    queue_arn: str
    queue_key_arn: str | None

    @classmethod
    def make(
        cls,
        scope: Construct,
        construct_id: str,
        permissions_boundary: iam.IManagedPolicy | None,
        log_group: logs.ILogGroup | None,
        log_retention: logs.RetentionDays,
        queue: sqs.IQueue | None,
    ) -> _OwnResources:
        """A new role; the given log group or a new one; the given queue or the stack's."""
        stack = stack_of(scope)
        role = LambdaExecutionRole(
            scope,
            f"{construct_id}ServiceRole",
            permissions_boundary=permissions_boundary,
            description="Execution role of one SecureFunction (customer-managed policies only)",
        )
        if log_group is None:
            log_group = _new_log_group(scope, construct_id, log_retention, security_key(stack))
        dead_letter_queue = queue or shared_dead_letter_queue(stack)
        queue_arn, queue_key_arn = queue_facts(dead_letter_queue)
        return cls(role, log_group, dead_letter_queue, queue, queue_arn, queue_key_arn)


class SecureFunction(FunctionTriggers, lambda_.Function):
    """A Lambda function with least privilege, encrypted logs, X-Ray, bounded retries and alarms.

    Every keyword argument of `aws_lambda.Function` passes through (`vpc`, `vpc_subnets`,
    `security_groups`, `code_signing_config`, `reserved_concurrent_executions`, `layers`, ...),
    except `role`: the function always gets its own role (use `grant_*` or
    `add_to_role_policy` to give it permissions).

    :param code: the function's code, as for `aws_lambda.Function`.
    :param handler: the handler, e.g. "app.handler".
    :param runtime: Default: the latest Python runtime (`PYTHON_3_14`).
    :param architecture: Default: `ARM_64`.
    :param memory_size: MiB, 128-10240. Default: 256.
    :param timeout: 1 s to 15 min. Default: 10 seconds.
    :param environment: plain configuration; a value that looks like a secret is refused.
        Default: none.
    :param secrets: `{"DB": secret}` grants read on exactly that secret (and decrypt on its
        key) and sets `DB_SECRET_ARN`; the value never reaches the template. Default: none.
    :param secrets_cache: `SecretsCache.extension(ttl=...)` or `SecretsCache.powertools(
        max_age=...)` (secure_constructs.secrets_cache). Default: no cache layer.
    :param log_retention: how long the function's logs are kept; `INFINITE` is refused.
        Default: one year.
    :param log_level: the application log level of the JSON logs. Default: INFO.
    :param log_group: bring your own log group. Default: a log group encrypted with the
        stack key, with `log_retention`.
    :param retry_attempts: asynchronous retries, 0-2. Default: 2.
    :param max_event_age: of asynchronous events, 60 s to 6 h. Default: 1 hour.
    :param dead_letter_queue: the `DeadLetterConfig` target and on-failure destination.
        Default: the stack's shared dead-letter queue (`SecureConstructsDeadLetterQueue`:
        KMS-encrypted with the stack key, TLS-only, 14 days), whose one depth alarm notifies
        the alarm topic of every function that sends to it. Each function may send to it only
        (sqs:SendMessage, and the key through SQS for that queue); the on-failure records name
        the function (`requestContext.functionArn`). A queue of your own gets the same alarm.
    :param on_failure: Default: the dead-letter queue.
    :param alarm_topic: where the function's alarm (`health_alarm`: errors, throttles, p99
        duration above 80% of the timeout) and its dead-letter queue's depth alarm go.
        Default: the stack's alarm topic.
    :param alarm_emails: addresses to subscribe to the alarm topic. Default: none.
    :param permissions_boundary: for the function's role. Default: none.
    :param tracing: Default: `ACTIVE`; anything else adds a warning, and the
        SecureServerless::FunctionTracing finding must be acknowledged with a reason.
    :param environment_encryption: Default: the stack's customer-managed key.
    :param signing_profiles: AWS Signer profiles whose signatures the function requires: a
        code-signing configuration that rejects unsigned or untrusted code is created (or pass
        your own `code_signing_config=`). Default: no code signing.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code: lambda_.Code,
        handler: str,
        runtime: lambda_.Runtime | None = None,
        architecture: lambda_.Architecture | None = None,
        memory_size: int | None = None,
        timeout: cdk.Duration | None = None,
        environment: Mapping[str, str] | None = None,
        secrets: Mapping[str, secretsmanager.ISecret] | None = None,
        secrets_cache: SecretsCache | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays[LOG_RETENTION],
        log_level: lambda_.ApplicationLogLevel = lambda_.ApplicationLogLevel.INFO,
        log_group: logs.ILogGroup | None = None,
        retry_attempts: int | None = None,
        max_event_age: cdk.Duration | None = None,
        dead_letter_queue: sqs.IQueue | None = None,
        on_failure: lambda_.IDestination | None = None,
        alarm_topic: sns.ITopic | None = None,
        alarm_emails: str | Sequence[str] = (),
        permissions_boundary: iam.IManagedPolicy | None = None,
        tracing: lambda_.Tracing = lambda_.Tracing.ACTIVE,
        environment_encryption: kms.IKey | None = None,
        signing_profiles: Sequence[signer.ISigningProfile] = (),
        **options: Unpack[FunctionOptions],
    ) -> None:
        check_args(SecureFunction.__init__, locals())
        refuse_passthrough(options)
        add_code_signing(scope, construct_id, signing_profiles, options)
        limits = checked_limits(timeout, memory_size, retry_attempts, max_event_age, options)
        check_retention("log_retention", log_retention)
        env, passed = configured(
            scope, construct_id, environment, secrets, secrets_cache, options, runtime, architecture
        )
        emails = validate_emails("alarm_emails", alarm_emails)
        stack = stack_of(scope)
        key = security_key(stack)
        own = _OwnResources.make(
            scope, construct_id, permissions_boundary, log_group, log_retention, dead_letter_queue
        )
        super().__init__(
            scope,
            construct_id,
            code=code,
            handler=handler,
            runtime=runtime or latest_python_runtime(),
            architecture=architecture or lambda_.Architecture.ARM_64,
            memory_size=limits.memory_size,
            timeout=limits.timeout,
            environment=env,
            environment_encryption=environment_encryption or key,
            role=own.role,
            log_group=own.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=log_level,
            # INFO: Lambda writes the platform.report record the cold-start metric reads.
            system_log_level_v2=lambda_.SystemLogLevel.INFO,
            # Through CDK, not on the L1: CDK's X-Ray grant is the function's first literal
            # add_to_role_policy, which keeps a user's later literal statements in the role's
            # customer-managed policy (CDK moves a statement of the other kind, list token or
            # literal, to an inline policy of its own).
            tracing=tracing,
            retry_attempts=limits.retry_attempts,
            max_event_age=limits.max_event_age,
            # Wired in _wire_queue_and_logs: CDK's grants would decrypt with the whole stack key.
            on_failure=on_failure or QueueArnDestination(own.queue_arn),
            **passed,
        )
        ensure_checked(stack)  # warns at synth when apply_checks was never called
        made_signing = options.get("code_signing_config") if signing_profiles else None
        self._finish(own, stack, made_signing, limits.timeout_seconds, alarm_topic)
        self._grant_and_warn(secrets or {}, options.get("vpc") is not None, tracing)
        self._monitor(emails, own.log_group, own.dead_letter_queue, stack)
        harden_stack(self)  # what CDK's trigger calls create (secure_constructs/triggers.py)

    def _finish(
        self,
        own: _OwnResources,
        stack: cdk.Stack,
        made_signing: object | None,
        timeout_seconds: float | None,
        alarm_topic: sns.ITopic | None,
    ) -> None:
        """The queue and log grants, the public attributes and the companions."""
        self._wire_queue_and_logs(own, stack)
        self._dead_letter_queue: sqs.IQueue = own.dead_letter_queue
        self.execution_role: LambdaExecutionRole = own.role
        self.function_log_group: logs.ILogGroup = own.log_group
        # The shared queue is not a companion: acknowledging a finding on one function must not
        # reach the queue every function of the stack sends to.
        companions = (own.role, own.log_group, own.queue_if_own, made_signing)
        self._companions: list[object] = [c for c in companions if c is not None]
        self.timeout_seconds: float | None = timeout_seconds
        """The timeout in seconds (None when it is a token); SecureApi reads it."""
        self.alarm_topic: sns.ITopic = alarm_topic or stack_alarm_topic(stack)

    def _monitor(
        self, emails: list[str], log_group: logs.ILogGroup, queue: sqs.IQueue, stack: cdk.Stack
    ) -> None:
        """E-mail subscribers, the health alarms, and (observability/) the cold-start metric, the
        stack's invocation anomaly alarm and the function's dashboard row."""
        subscribe_emails(self.alarm_topic, emails)
        self._add_alarms(self.timeout_seconds, queue, stack)
        StackMonitoring.of(stack).observe_function(
            self,
            log_group=log_group,
            timeout_seconds=self.timeout_seconds,
            queue=queue,
            topic=self.alarm_topic,
        )

    def _wire_queue_and_logs(self, own: _OwnResources, stack: cdk.Stack) -> None:
        """The dead-letter target, and the role's grants to send to the queue and write logs."""
        role, log_group, queue_arn = own.role, own.log_group, own.queue_arn
        cfn_function = self.node.default_child
        assert isinstance(cfn_function, lambda_.CfnFunction)
        cfn_function.dead_letter_config = lambda_.CfnFunction.DeadLetterConfigProperty(
            target_arn=queue_arn
        )
        # Sending to the queue, and what log_group.grant_write(role) grants, written out: one
        # round trip for the three statements instead of CDK's grant callbacks (issue 7).
        role.add_scoped_statements(
            *send_statements(queue_arn, own.queue_key_arn, region_of(stack)),
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[log_group.log_group_arn],
            ),
        )

    def _grant_and_warn(
        self,
        secrets: Mapping[str, secretsmanager.ISecret],
        in_vpc: bool,
        tracing: lambda_.Tracing,
    ) -> None:
        """Read on each secret, the ENI actions of a VPC function, and the tracing warning."""
        for secret in secrets.values():
            secret.grant_read(self)
        if in_vpc:
            self.execution_role.add_to_principal_policy(_vpc_statement())
        if tracing is not lambda_.Tracing.ACTIVE:
            cdk.Annotations.of(self).add_warning_v2(
                "secure-constructs:tracing",
                f"tracing={tracing} turns off X-Ray active tracing for this function",
            )

    @property
    def dead_letter_queue(self) -> sqs.IQueue:
        """Where failed asynchronous events go: the stack's `SecureConstructsDeadLetterQueue`,
        or the queue passed as `dead_letter_queue=` (wired directly, not through CDK's grants,
        so CDK's own attribute would be None)."""
        return self._dead_letter_queue

    def add_environment(
        self, key: str, value: str, *, remove_in_edge: bool | None = None
    ) -> lambda_.Function:
        """CDK's `add_environment`, refusing a secret value as `environment=` does."""
        check_args(SecureFunction.add_environment, locals())
        refuse_secret_value(key, value, prop="add_environment")
        return super().add_environment(key, value, remove_in_edge=remove_in_edge)

    def acknowledge(self, rule_id: str, reason: str) -> None:
        """Acknowledge a finding on the function and the resources made for it.

        The role (with its policies), log group and dead-letter queue are siblings of the
        function (they must exist before its constructor runs), so an acknowledgement on the
        function alone would not reach them. Same rules as `secure_constructs.acknowledge`.
        """
        check_args(SecureFunction.acknowledge, locals())
        acknowledge(self, rule_id, reason)  # reaches acknowledgement_targets() too

    def acknowledgement_targets(self) -> list[Construct]:
        """The resources made for this function beside it: its role (with its policies), log
        group and own dead-letter queue, which `acknowledge(fn, ...)` reaches too."""
        return [c for c in self._companions if isinstance(c, Construct)]

    def _add_alarms(
        self, timeout_seconds: float | None, queue: sqs.IQueue, stack: cdk.Stack
    ) -> None:
        """One metric-math alarm for errors, throttles and p99 duration; the queue's depth alarm.

        One alarm instead of three keeps a function at one alarm resource (CloudFormation's
        500-resource limit); its value is the errors or throttles count of the minute, or 1
        when the p99 duration is above 80% of the timeout.
        """
        minute = durations.minutes(1)
        metrics: dict[str, cloudwatch.IMetric] = {
            "errors": self.metric_errors(period=minute, statistic="Sum"),
            "throttles": self.metric_throttles(period=minute, statistic="Sum"),
        }
        terms = ["errors", "throttles"]
        description = "The function reported errors or was throttled"
        if timeout_seconds is None:
            cdk.Annotations.of(self).add_warning_v2(
                "secure-constructs:duration-alarm",
                "timeout is a token, so the alarm does not watch the p99 duration (80% of the "
                "timeout)",
            )
        else:
            threshold_ms = round(timeout_seconds * 1000 * DURATION_ALARM_RATIO)
            # Its own expression, so that the array holds only ids, as CloudWatch's examples do.
            metrics["slow"] = cloudwatch.MathExpression(
                expression=f"IF(duration > {threshold_ms}, 1, 0)",
                using_metrics={"duration": self.metric_duration(period=minute, statistic="p99")},
                period=minute,
                label=f"p99 duration above {threshold_ms} ms",
            )
            terms.append("slow")
            description = (
                "The function reported errors, was throttled, or its p99 duration was above "
                f"{threshold_ms} ms (80% of its timeout); the value is the errors or throttles "
                "count of the minute, or 1 for the duration"
            )
        self.health_alarm: cloudwatch.Alarm = alarm(
            self,
            "HealthAlarm",
            metric=cloudwatch.MathExpression(
                expression=f"MAX([{', '.join(terms)}])",
                using_metrics=metrics,
                period=minute,
                label="errors, throttles or slow",
            ),
            threshold=0,
            description=description,
            topic=self.alarm_topic,
        )
        """Errors, throttles and (unless the timeout is a token) p99 duration, in one alarm."""
        self.dead_letter_alarm: cloudwatch.Alarm = dead_letter_alarm(
            self, queue, self.alarm_topic, stack
        )
        """The depth alarm of the dead-letter queue (shared by the functions that share it)."""

    def add_function_url(
        self,
        *,
        auth_type: lambda_.FunctionUrlAuthType | None = None,
        **options: Unpack[FunctionUrlOptions],
    ) -> lambda_.FunctionUrl:
        """A function URL; `auth_type=NONE` is refused (the URL would be public)."""
        check_args(SecureFunction.add_function_url, locals())
        if auth_type is lambda_.FunctionUrlAuthType.NONE:
            raise ValidationError(
                "auth_type",
                "FunctionUrlAuthType.NONE",
                "AWS_IAM (a public function URL has no authentication at all)",
                "use auth_type=FunctionUrlAuthType.AWS_IAM, or put the function behind SecureApi",
            )
        return super().add_function_url(
            auth_type=auth_type or lambda_.FunctionUrlAuthType.AWS_IAM, **options
        )


def _new_log_group(
    scope: Construct, construct_id: str, retention: logs.RetentionDays, key: kms.IKey
) -> logs.LogGroup:
    return logs.LogGroup(scope, f"{construct_id}LogGroup", retention=retention, encryption_key=key)


def _vpc_statement() -> iam.PolicyStatement:
    return iam.PolicyStatement(actions=list(VPC_NETWORK_INTERFACE_ACTIONS), resources=["*"])
