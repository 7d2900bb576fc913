"""SecureFunction: a Lambda function that passes a security review by default."""

from __future__ import annotations

import functools
import math
import re
import weakref
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Unpack

import aws_cdk as cdk
import jsii
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct, IConstruct

from secure_constructs._options import FunctionOptions, FunctionUrlOptions
from secure_constructs.checks import acknowledge
from secure_constructs.checks.iam_facts import VPC_NETWORK_INTERFACE_ACTIONS
from secure_constructs.checks.secret_patterns import secret_reason
from secure_constructs.errors import ValidationError
from secure_constructs.monitoring import (
    alarm,
    notify,
    subscribe_emails,
    terminal_queue,
    validate_emails,
)
from secure_constructs.prop_types import check_args
from secure_constructs.prop_values import SECRET_KEY
from secure_constructs.role import LambdaExecutionRole
from secure_constructs.secrets_cache import SecretsCache, apply_secrets_cache
from secure_constructs.shared import alarm_topic as stack_alarm_topic
from secure_constructs.shared import security_key, stack_of
from secure_constructs.trigger_facts import QUEUE_TRIGGER_BATCH_SIZE, QUEUE_TRIGGER_MAX_CONCURRENCY
from secure_constructs.triggers import accept_event_source, add_queue_trigger, harden_stack
from secure_constructs.validation import check_retention, whole_seconds

if TYPE_CHECKING:  # only in annotations: importing them costs the jsii kernel time
    from aws_cdk import aws_secretsmanager as secretsmanager
    from aws_cdk import aws_signer as signer

DEFAULT_TIMEOUT_SECONDS = 10
DEFAULT_MEMORY_MB = 256
MAX_TIMEOUT_SECONDS = 900
MEMORY_RANGE_MB = (128, 10240)
RETRY_RANGE = (0, 2)
EVENT_AGE_RANGE_SECONDS = (60, 21600)
DURATION_ALARM_RATIO = 0.8

_ENV_NAME = SECRET_KEY  # one pattern for secrets= keys (secure_constructs/prop_values.py)
DEAD_LETTER_QUEUE_ID = "SecureConstructsDeadLetterQueue"
MAX_ALARM_ACTIONS = 5  # CloudWatch's limit of actions per alarm state
_TERMINAL_DLQ_REASON = (
    "This queue is the terminal dead-letter queue and on-failure destination of the stack's "
    "functions; its depth alarm pages a person, and a dead-letter queue of a dead-letter queue "
    "only moves the problem."
)
# stack -> queue -> (its depth alarm, the topics it notifies): one alarm per queue and stack,
# however many functions send to it, notifying each function's alarm topic once.
_QUEUE_ALARMS: weakref.WeakKeyDictionary[
    cdk.Stack, dict[sqs.IQueue, tuple[cloudwatch.Alarm, list[sns.ITopic]]]
] = weakref.WeakKeyDictionary()
_SHARED_QUEUES: weakref.WeakKeyDictionary[cdk.Stack, sqs.Queue] = weakref.WeakKeyDictionary()


@functools.cache
def latest_python_runtime() -> lambda_.Runtime:
    """The newest Python runtime this aws-cdk-lib knows (PYTHON_3_14 with aws-cdk-lib 2.275)."""
    versions = [
        (int(match.group(1)), name)
        for name in dir(lambda_.Runtime)
        if (match := re.fullmatch(r"PYTHON_3_(\d+)", name))
    ]
    runtime: lambda_.Runtime = getattr(lambda_.Runtime, max(versions)[1])
    return runtime


class SecureFunction(lambda_.Function):
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
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
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
        _refuse_passthrough(options)
        if signing_profiles:
            if options.get("code_signing_config") is not None:
                raise ValidationError(
                    "signing_profiles",
                    [p.signing_profile_name for p in signing_profiles],
                    "either signing_profiles or code_signing_config, not both",
                    "drop one of them",
                )
            options["code_signing_config"] = lambda_.CodeSigningConfig(
                scope,
                f"{construct_id}CodeSigning",
                signing_profiles=list(signing_profiles),
                untrusted_artifact_on_deployment=lambda_.UntrustedArtifactOnDeployment.ENFORCE,
            )
        # Our own defaults are known in Python: no round trips to check or read them back.
        timeout_seconds: float | None = DEFAULT_TIMEOUT_SECONDS
        if timeout is None:
            timeout = cdk.Duration.seconds(DEFAULT_TIMEOUT_SECONDS)
        else:
            timeout_seconds = _check_timeout(timeout)
        memory_size = DEFAULT_MEMORY_MB if memory_size is None else memory_size
        retry_attempts = RETRY_RANGE[1] if retry_attempts is None else retry_attempts
        if max_event_age is None:
            max_event_age = cdk.Duration.hours(1)
        else:
            _check_event_age(max_event_age)
        _check_int("memory_size", memory_size, MEMORY_RANGE_MB, "MiB")
        _check_int("retry_attempts", retry_attempts, RETRY_RANGE, "retries")
        _check_reserved(options.get("reserved_concurrent_executions"))
        check_retention("log_retention", log_retention)
        env = _environment(environment or {}, secrets or {})
        # secrets_cache= (all logic in secure_constructs/secrets_cache.py): the cache layer and
        # its settings; a TTL longer than a secret's rotation interval is refused.
        passed = apply_secrets_cache(
            scope,
            construct_id,
            secrets_cache,
            secrets or {},
            env,
            options,
            runtime=runtime,
            architecture=architecture,
        )
        emails = validate_emails("alarm_emails", alarm_emails)

        stack = stack_of(scope)
        key = security_key(stack)
        role = LambdaExecutionRole(
            scope,
            f"{construct_id}ServiceRole",
            permissions_boundary=permissions_boundary,
            description="Execution role of one SecureFunction (customer-managed policies only)",
        )
        if log_group is None:
            log_group = logs.LogGroup(
                scope,
                f"{construct_id}LogGroup",
                retention=log_retention,
                encryption_key=key,
            )
        own_queue = dead_letter_queue is not None
        if dead_letter_queue is None:
            dead_letter_queue = shared_dead_letter_queue(stack)

        queue_arn, queue_key_arn = _queue_facts(dead_letter_queue)
        super().__init__(
            scope,
            construct_id,
            code=code,
            handler=handler,
            runtime=runtime or latest_python_runtime(),
            architecture=architecture or lambda_.Architecture.ARM_64,
            memory_size=memory_size,
            timeout=timeout,
            environment=env,
            environment_encryption=environment_encryption or key,
            role=role,
            log_group=log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=log_level,
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
            tracing=tracing,
            retry_attempts=retry_attempts,
            max_event_age=max_event_age,
            # The queue is wired below instead of through CDK's grants, which would give the
            # role encrypt/decrypt on the whole stack key (which also encrypts secrets).
            on_failure=on_failure or _QueueArnDestination(queue_arn),
            **passed,
        )
        cfn_function = self.node.default_child
        assert isinstance(cfn_function, lambda_.CfnFunction)
        cfn_function.dead_letter_config = lambda_.CfnFunction.DeadLetterConfigProperty(
            target_arn=queue_arn
        )
        # Sending to the queue, and what log_group.grant_write(role) grants, written out: one
        # round trip for the three statements instead of CDK's grant callbacks (issue 7).
        role.add_scoped_statements(
            *_send_statements(queue_arn, queue_key_arn, _region(stack)),
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[log_group.log_group_arn],
            ),
        )
        self._dead_letter_queue: sqs.IQueue = dead_letter_queue
        self.execution_role: LambdaExecutionRole = role
        self.function_log_group: logs.ILogGroup = log_group
        # The shared queue is not a companion: acknowledging a finding on one function must not
        # reach the queue every function of the stack sends to.
        self._companions: list[object] = [role, log_group]
        if own_queue:
            self._companions.append(dead_letter_queue)
        if options.get("code_signing_config") is not None and signing_profiles:
            self._companions.append(options["code_signing_config"])

        for secret in (secrets or {}).values():
            secret.grant_read(self)
        if options.get("vpc") is not None:
            role.add_to_principal_policy(_vpc_statement())
        if tracing is not lambda_.Tracing.ACTIVE:
            cdk.Annotations.of(self).add_warning_v2(
                "secure-constructs:tracing",
                f"tracing={tracing} turns off X-Ray active tracing for this function",
            )

        self.timeout_seconds: float | None = timeout_seconds
        """The timeout in seconds (None when it is a token); SecureApi reads it."""
        self.alarm_topic: sns.ITopic = alarm_topic or stack_alarm_topic(stack)
        subscribe_emails(self.alarm_topic, emails)
        self._add_alarms(timeout_seconds, dead_letter_queue, stack)
        harden_stack(stack)  # what CDK's trigger calls create (secure_constructs/triggers.py)

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
        minute = cdk.Duration.minutes(1)
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
        self.dead_letter_alarm: cloudwatch.Alarm = _dead_letter_alarm(
            self, queue, self.alarm_topic, stack
        )
        """The depth alarm of the dead-letter queue (shared by the functions that share it)."""

    def add_event_source(self, source: lambda_.IEventSource) -> None:
        """As `aws_lambda.Function.add_event_source`; an SQS mapping whose queue has a redrive
        policy is accepted by cdk-nag's mapping-destination rule (secure_constructs/triggers.py)."""
        check_args(SecureFunction.add_event_source, locals())
        before = {child.node.id for child in self.node.children}
        super().add_event_source(source)
        added = [c for c in self.node.children if c.node.id not in before]
        accept_event_source(source, [c for c in added if isinstance(c, lambda_.EventSourceMapping)])

    def add_queue_trigger(
        self,
        queue: sqs.IQueue,
        *,
        batch_size: int = QUEUE_TRIGGER_BATCH_SIZE,
        max_concurrency: int = QUEUE_TRIGGER_MAX_CONCURRENCY,
    ) -> lambda_.EventSourceMapping:
        """Process `queue` with this function, with failures bounded and kept.

        The queue must be an `sqs.Queue` of this app with a redrive policy, and its visibility
        timeout at least 6x the function timeout (AWS's guidance); otherwise ValidationError.
        The mapping reports batch item failures (only the failed messages are retried).

        :param batch_size: 1-10 messages per invocation. Default: 10.
        :param max_concurrency: 2-1000 concurrent invocations for this queue. Default: 2.
        """
        check_args(SecureFunction.add_queue_trigger, locals())
        return add_queue_trigger(
            self,
            queue,
            timeout_seconds=self.timeout_seconds,
            batch_size=batch_size,
            max_concurrency=max_concurrency,
        )

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


# Function props that would undo a default the promise depends on: (allowed, fix).
_FIXED_OPTIONS: dict[str, tuple[str, str]] = {
    "logging_format": ("nothing: logs are always JSON", "remove logging_format"),
    "application_log_level_v2": ("nothing: use log_level=", "pass log_level= instead"),
    "application_log_level": ("nothing: use log_level=", "pass log_level= instead"),
    "log_format": ("nothing: logs are always JSON", "remove log_format"),
    "system_log_level": ("nothing: Lambda's own log level is WARN", "remove system_log_level"),
    "system_log_level_v2": ("nothing: Lambda's own log level is WARN", "remove it"),
    "dead_letter_topic": (
        "nothing: failed events go to an SQS dead-letter queue",
        "pass dead_letter_queue= to bring your own queue",
    ),
    "dead_letter_queue_enabled": (
        "nothing: the dead-letter queue is always on",
        "remove dead_letter_queue_enabled (pass dead_letter_queue= to bring your own)",
    ),
}


def _refuse_passthrough(options: Mapping[str, Any]) -> None:
    for prop, (allowed, fix) in _FIXED_OPTIONS.items():
        if prop in options:
            raise ValidationError(prop, options[prop], allowed, fix)
    if options.get("role") is not None:
        raise ValidationError(
            "role",
            options["role"],
            "no role: each SecureFunction creates its own least-privilege role",
            "remove role= and give permissions with grant_* (e.g. table.grant_read_data(fn)) "
            "or fn.add_to_role_policy(...)",
        )
    if options.get("log_retention_role") is not None or "log_retention_retry_options" in options:
        raise ValidationError(
            "log_retention_role",
            options.get("log_retention_role"),
            "nothing: the log group is created directly, without a log-retention custom resource",
            "remove it and set log_retention=",
        )


def _check_timeout(timeout: cdk.Duration) -> float | None:
    seconds = whole_seconds("timeout", timeout)
    if seconds is None:
        return None
    if seconds <= 0 or seconds > MAX_TIMEOUT_SECONDS:
        raise ValidationError(
            "timeout",
            f"{seconds} seconds",
            f"1 to {MAX_TIMEOUT_SECONDS} seconds (Lambda's maximum)",
            "pass e.g. timeout=Duration.seconds(10); keep it as short as the work allows",
        )
    return seconds


def _check_int(prop: str, value: int, bounds: tuple[int, int], unit: str) -> None:
    low, high = bounds
    # Type and finiteness first: a NaN sent through jsii kills the kernel.
    if isinstance(value, float) and math.isfinite(value) and cdk.Token.is_unresolved(value):
        return
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValidationError(
            prop,
            value,
            f"a whole number of {unit} from {low} to {high}",
            f"pass {prop}={low}..{high}",
        )


def _check_event_age(age: cdk.Duration) -> None:
    seconds = whole_seconds("max_event_age", age)
    if seconds is None:
        return
    low, high = EVENT_AGE_RANGE_SECONDS
    if not low <= seconds <= high:
        raise ValidationError(
            "max_event_age",
            f"{seconds} seconds",
            f"{low} seconds to {high // 3600} hours (Lambda's limits)",
            "pass e.g. max_event_age=Duration.hours(1)",
        )


def _check_reserved(value: Any) -> None:
    if value is None:
        return
    if isinstance(value, float) and math.isfinite(value) and cdk.Token.is_unresolved(value):
        return
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValidationError(
            "reserved_concurrent_executions",
            value,
            "a whole number >= 0",
            "pass e.g. reserved_concurrent_executions=10, or leave it out",
        )


def refuse_secret_value(name: str, value: object, prop: str = "environment") -> None:
    """Refuse a literal environment value the secret scan's detector flags (never echoed)."""
    if isinstance(value, str) and not cdk.Token.is_unresolved(value):
        reason = secret_reason(name, value)
        if reason:
            raise ValidationError(
                f"{prop}[{name!r}]",
                "<redacted>",
                f"plain configuration, not {reason}",
                f"store it in a SecureSecret and pass secrets={{{name!r}: secret}}; "
                "the function then gets the secret's ARN, never its value",
            )


def _environment(
    environment: Mapping[str, str], secrets: Mapping[str, secretsmanager.ISecret]
) -> dict[str, str]:
    env: dict[str, str] = {}
    for name, value in environment.items():
        refuse_secret_value(name, value)
        env[name] = value
    for key, secret in secrets.items():
        if not isinstance(key, str) or not _ENV_NAME.match(key):
            raise ValidationError(
                "secrets",
                key,
                "keys that are valid environment variable names (letters, digits, _; not "
                "starting with a digit)",
                "rename the key, e.g. secrets={'DB': secret}",
            )
        variable = f"{key}_SECRET_ARN"
        if variable in env:
            raise ValidationError(
                "secrets",
                key,
                f"keys whose {variable} variable is not also set in environment",
                f"remove {variable} from environment or rename the secret key",
            )
        env[variable] = secret.secret_arn
    return env


def _vpc_statement() -> iam.PolicyStatement:
    return iam.PolicyStatement(actions=list(VPC_NETWORK_INTERFACE_ACTIONS), resources=["*"])


@jsii.implements(lambda_.IDestination)
class _QueueArnDestination:
    """An on-failure destination that only points at the queue; the grant is ours."""

    def __init__(self, queue_arn: str) -> None:
        self._queue_arn = queue_arn

    def bind(
        self, scope: Construct, fn: lambda_.IFunction, *, type: lambda_.DestinationType
    ) -> lambda_.DestinationConfig:
        return lambda_.DestinationConfig(destination=self._queue_arn)


def shared_dead_letter_queue(scope: IConstruct) -> sqs.Queue:
    """The stack's dead-letter queue for SecureFunctions, created on first use.

    A terminal queue (`monitoring.terminal_queue`): encrypted with the stack key, TLS-only,
    messages kept 14 days. It is the `DeadLetterConfig` target and the on-failure destination
    of every SecureFunction of the stack that brings no queue of its own: one queue and one
    depth alarm per stack instead of three resources per function. Its construct id
    (`SecureConstructsDeadLetterQueue`) is part of the public contract.
    """
    stack = stack_of(scope)
    cached = _SHARED_QUEUES.get(stack)
    if cached is None:
        existing = stack.node.try_find_child(DEAD_LETTER_QUEUE_ID)
        cached = existing if isinstance(existing, sqs.Queue) else None
        if cached is None:
            cached = terminal_queue(stack, DEAD_LETTER_QUEUE_ID, reason=_TERMINAL_DLQ_REASON)
        _SHARED_QUEUES[stack] = cached
    return cached


def _dead_letter_alarm(
    fn: SecureFunction, queue: sqs.IQueue, topic: sns.ITopic, stack: cdk.Stack
) -> cloudwatch.Alarm:
    """The queue's depth alarm, created once per queue and stack, notifying each function's
    topic once.

    The shared queue's alarm is its `NotEmptyAlarm` child; a queue the user brings gets a
    `<id>/DeadLetterQueueAlarm` under the first function of each stack that uses it (the
    queue may be imported or live in another stack: an alarm in one stack notifying the
    topics of another would make the stacks depend on each other both ways).

    A queue object read from a CDK property (not one created in Python) is a new Python
    object on every read, so it is not found here again: each function then gets an alarm of
    its own, as before this sharing.
    """
    alarms = _QUEUE_ALARMS.setdefault(stack, {})
    entry = alarms.get(queue)
    if entry is None:
        shared = queue is _SHARED_QUEUES.get(stack)
        created = alarm(
            queue if shared else fn,  # type: ignore[arg-type]
            "NotEmptyAlarm" if shared else "DeadLetterQueueAlarm",
            metric=queue.metric_approximate_number_of_messages_visible(
                period=cdk.Duration.minutes(1), statistic="Maximum"
            ),
            threshold=0,
            description=(
                "Failed asynchronous events are waiting in the dead-letter queue (the "
                "on-failure records name the function in requestContext.functionArn)"
            ),
            topic=topic,
        )
        alarms[queue] = (created, [topic])
        return created
    created, topics = entry
    if not any(t is topic for t in topics):
        if len(topics) >= MAX_ALARM_ACTIONS:
            raise ValidationError(
                "alarm_topic",
                topic.node.path if isinstance(topic, Construct) else topic,
                f"at most {MAX_ALARM_ACTIONS} different alarm topics among the functions that "
                "share a dead-letter queue (its one depth alarm notifies each of them, and an "
                f"alarm takes {MAX_ALARM_ACTIONS} actions)",
                "send these functions' alarms to fewer topics, or pass dead_letter_queue= with "
                "a queue of their own",
            )
        topics.append(topic)
        notify(created, topic)
    return created


# queue -> (its ARN, its KMS key's ARN or None); stack -> its region: read once, not per function.
_QUEUE_FACTS: weakref.WeakKeyDictionary[sqs.IQueue, tuple[str, str | None]] = (
    weakref.WeakKeyDictionary()
)
_REGIONS: weakref.WeakKeyDictionary[cdk.Stack, str] = weakref.WeakKeyDictionary()


def _queue_facts(queue: sqs.IQueue) -> tuple[str, str | None]:
    facts = _QUEUE_FACTS.get(queue)
    if facts is None:
        key = queue.encryption_master_key
        facts = _QUEUE_FACTS[queue] = (queue.queue_arn, None if key is None else key.key_arn)
    return facts


def _region(stack: cdk.Stack) -> str:
    region = _REGIONS.get(stack)
    if region is None:
        region = _REGIONS[stack] = stack.region
    return region


def _send_statements(queue_arn: str, key_arn: str | None, region: str) -> list[iam.PolicyStatement]:
    statements = [iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[queue_arn])]
    if key_arn is not None:
        statements.append(
            iam.PolicyStatement(
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=[key_arn],
                conditions={
                    "StringEquals": {
                        "kms:ViaService": f"sqs.{region}.amazonaws.com",
                        "kms:EncryptionContext:aws:sqs:arn": queue_arn,
                    }
                },
            )
        )
    return statements


def grant_send_to_queue(role: iam.IRole, queue: sqs.IQueue) -> None:
    """sqs:SendMessage on the queue and, for a KMS queue, only what SQS needs of the key.

    CDK's `grant_send_messages` grants encrypt/decrypt on the queue's key for any use; here the
    key grant is limited to GenerateDataKey/Decrypt through SQS for this queue's messages.
    """
    queue_arn, key_arn = _queue_facts(queue)
    for statement in _send_statements(queue_arn, key_arn, _region(cdk.Stack.of(role))):
        role.add_to_principal_policy(statement)
