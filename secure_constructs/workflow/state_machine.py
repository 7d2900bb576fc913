"""SecureStateMachine: a Step Functions workflow that passes a security review by default."""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Unpack

import aws_cdk as cdk
import constructs
import jsii
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from secure_constructs.checks.cfn import number
from secure_constructs.checks.guard import ensure_checked
from secure_constructs.checks.sfn_definitions import definitions, states
from secure_constructs.defaults import (
    LOG_RETENTION,
    STATE_MACHINE_KEY_REUSE_SECONDS,
    STATE_MACHINE_LOG_LEVEL,
    STATE_MACHINE_MAX_TIMEOUT_SECONDS,
    STATE_MACHINE_TIMEOUT_SECONDS,
)
from secure_constructs.errors import ValidationError
from secure_constructs.facts.stepfunctions_facts import (
    CUSTOMER_MANAGED_KEY_TYPE,
    EXPRESS_MAX_EXECUTION_SECONDS,
    LOG_DELIVERY_PRINCIPAL,
)
from secure_constructs.monitoring import alarm, subscribe_emails, validate_emails
from secure_constructs.observability.stack import observe_workflow
from secure_constructs.open_grants import own_role_type
from secure_constructs.prop_types import check_args
from secure_constructs.role import CustomerManagedRole
from secure_constructs.shared import alarm_topic as stack_alarm_topic
from secure_constructs.shared import security_key, stack_of
from secure_constructs.validation import (
    FixedOptions,
    check_retention,
    refuse_fixed_options,
    whole_seconds,
)
from secure_constructs.workflow.lambda_task import SecureLambdaInvoke

if TYPE_CHECKING:
    from secure_constructs._options import LambdaInvokeOptions, StateMachineOptions

__all__ = ["SecureStateMachine", "StateMachineRole"]

# The Step Functions actions CDK grants for logging and tracing accept only Resource "*".
_STAR_ONLY_REASON = (
    "Holds only actions AWS supports solely on Resource '*' (secure_constructs.checks.iam_facts."
    "STAR_ONLY_ACTIONS): the CloudWatch Logs log-delivery actions Step Functions needs to "
    "deliver execution logs (Step Functions Developer Guide, 'IAM Policies for logging to "
    "CloudWatch Logs') and X-Ray trace upload and sampling; no other statement lands here."
)
_KEY_STATEMENT_ADDED: weakref.WeakSet[cdk.Stack] = weakref.WeakSet()


@own_role_type
class StateMachineRole(CustomerManagedRole):
    """The execution role of one SecureStateMachine: assumable by Step Functions for exactly
    that state machine (`aws:SourceArn`, `aws:SourceAccount`), every statement in a
    customer-managed policy. Made by SecureStateMachine (`<id>Role`); not meant to be shared.

    :param state_machine_arn: the ARN of the one state machine that may assume it.
    :param invoked_functions: the ARNs SecureLambdaInvoke tasks of that state machine invoke
        (their invoke grant is narrowed to exactly the ARN). Default: none.
    :param permissions_boundary: for the role. Default: none.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        state_machine_arn: str,
        invoked_functions: Sequence[str] = (),
        permissions_boundary: iam.IManagedPolicy | None = None,
    ) -> None:
        stack = stack_of(scope)
        self._exact_invokes = frozenset(invoked_functions)
        super().__init__(
            scope,
            construct_id,
            assumed_by=iam.ServicePrincipal(
                "states.amazonaws.com",
                conditions={
                    "ArnLike": {"aws:SourceArn": state_machine_arn},
                    "StringEquals": {"aws:SourceAccount": stack.account},
                },
            ),
            policy_description="Resource-scoped permissions of one state machine (its tasks' "
            "grants land here)",
            star_only_reason=_STAR_ONLY_REASON,
            permissions_boundary=permissions_boundary,
            description="Execution role of one SecureStateMachine (customer-managed policies only)",
        )

    def add_to_principal_policy(
        self, statement: iam.PolicyStatement
    ) -> iam.AddToPrincipalPolicyResult:
        """As the base class; CDK's invoke grant of a SecureLambdaInvoke (the function's ARN
        and `<arn>:*`, every version and alias) is narrowed to the ARN the task invokes (such
        a task refuses `qualifier`, so it never invokes another version)."""
        check_args(StateMachineRole.add_to_principal_policy, locals())
        body = statement.to_statement_json()
        resources = body.get("Resource")
        if (
            body.get("Action") == "lambda:InvokeFunction"
            and isinstance(resources, list)
            and len(resources) == 2
            and resources[0] in self._exact_invokes
            and resources[1] == f"{resources[0]}:*"
            and set(body) == {"Action", "Effect", "Resource"}
            and body["Effect"] == "Allow"
        ):
            statement = iam.PolicyStatement(
                actions=["lambda:InvokeFunction"], resources=[resources[0]]
            )
        return super().add_to_principal_policy(statement)


class SecureStateMachine(sfn.StateMachine):
    """A Step Functions state machine with encrypted logs, X-Ray, a timeout and alarms.

    Every keyword argument of `aws_stepfunctions.StateMachine` passes through
    (`state_machine_name`, `state_machine_type`, `comment`, `removal_policy`, ...), except
    `role`, `logs`, `encryption_configuration` and `definition`, which the promise fixes.
    Build Lambda tasks with `SecureStateMachine.lambda_task(...)` (a `SecureLambdaInvoke`).

    :param definition_body: the workflow, e.g. `DefinitionBody.from_chainable(first.next(second))`.
    :param timeout: the execution timeout (`TimeoutSeconds` of the definition), 1 s to 1 day
        (5 minutes for an EXPRESS state machine); not shorter than any Lambda task's timeout.
        Default: 5 minutes.
    :param log_level: Default: `LogLevel.ALL`; anything else adds a warning.
    :param include_execution_data: log each state's input and output. Default: False
        (execution data may carry secrets and personal data).
    :param log_retention: `INFINITE` is refused. Default: one year.
    :param tracing_enabled: X-Ray. Default: True; False adds a warning.
    :param alarm_topic: where the three alarms (failed, timed-out, throttled executions) go.
        Default: the stack's alarm topic.
    :param alarm_emails: addresses to subscribe to the alarm topic. Default: none.
    :param permissions_boundary: for the state machine's role. Default: none.
    :param state_machine_name: Default: a name made from the construct path (its role names
        the state machine's ARN in its key and trust conditions).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        definition_body: sfn.DefinitionBody,
        timeout: cdk.Duration | None = None,
        log_level: sfn.LogLevel = sfn.LogLevel[STATE_MACHINE_LOG_LEVEL],
        include_execution_data: bool = False,
        log_retention: logs.RetentionDays = logs.RetentionDays[LOG_RETENTION],
        tracing_enabled: bool = True,
        alarm_topic: sns.ITopic | None = None,
        alarm_emails: str | Sequence[str] = (),
        permissions_boundary: iam.IManagedPolicy | None = None,
        state_machine_name: str | None = None,
        **options: Unpack[StateMachineOptions],
    ) -> None:
        check_args(SecureStateMachine.__init__, locals())
        refuse_fixed_options(options, _FIXED_OPTIONS)
        check_retention("log_retention", log_retention)
        express = options.get("state_machine_type") is sfn.StateMachineType.EXPRESS
        timeout_seconds = _checked_timeout(timeout, express)
        tasks = _lambda_tasks(definition_body)
        _check_task_timeouts(tasks, timeout_seconds)
        emails = validate_emails("alarm_emails", alarm_emails)

        stack = stack_of(scope)
        key = security_key(stack)
        name = state_machine_name or cdk.Lazy.string(_UniqueName(self))
        arn = stack.format_arn(
            service="states",
            resource="stateMachine",
            resource_name=name,
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        role = StateMachineRole(
            scope,
            f"{construct_id}Role",
            state_machine_arn=arn,
            invoked_functions=[t.invoked_function_arn for t in tasks],
            permissions_boundary=permissions_boundary,
        )
        log_group = logs.LogGroup(
            scope, f"{construct_id}LogGroup", retention=log_retention, encryption_key=key
        )
        super().__init__(
            scope,
            construct_id,
            definition_body=definition_body,
            timeout=cdk.Duration.seconds(timeout_seconds),
            state_machine_name=name,
            role=role,
            tracing_enabled=tracing_enabled,
            logs=sfn.LogOptions(
                destination=log_group,
                level=log_level,
                include_execution_data=include_execution_data,
            ),
            **options,
        )
        ensure_checked(self)  # warns at synth when apply_checks was never called
        self.node.add_validation(_TaskTimeoutsFit(self, timeout_seconds))
        _encrypt(self, role, key, arn, stack)
        self.execution_role: StateMachineRole = role
        self.state_machine_log_group: logs.LogGroup = log_group
        self.timeout_seconds: int = timeout_seconds
        """The execution timeout in seconds."""
        self.alarm_topic: sns.ITopic = alarm_topic or stack_alarm_topic(stack)
        subscribe_emails(self.alarm_topic, emails)
        self._add_alarms()
        observe_workflow(self, timeout_seconds)  # its row on the stack dashboard
        _warn_downgrades(self, log_level, include_execution_data, tracing_enabled)

    @staticmethod
    def lambda_task(
        scope: Construct,
        construct_id: str,
        function: lambda_.IFunction,
        *,
        timeout: cdk.Duration | None = None,
        retry_attempts: int | None = None,
        **options: Unpack[LambdaInvokeOptions],
    ) -> SecureLambdaInvoke:
        """A Lambda task with retries on Lambda's transient errors and a timeout
        (`SecureLambdaInvoke`; its docstring lists the defaults)."""
        check_args(SecureStateMachine.lambda_task, locals())
        extra: dict[str, Any] = {} if retry_attempts is None else {"retry_attempts": retry_attempts}
        return SecureLambdaInvoke(
            scope, construct_id, lambda_function=function, timeout=timeout, **extra, **options
        )

    def acknowledgement_targets(self) -> list[Construct]:
        """The resources made for this state machine beside it: its role (with its policies)
        and log group, which `acknowledge(state_machine, ...)` reaches too."""
        return [self.execution_role, self.state_machine_log_group]

    def _add_alarms(self) -> None:
        """One alarm each on failed, timed-out and throttled executions (Sum over a minute > 0)."""
        minute = cdk.Duration.minutes(1)
        specs = (
            ("FailedAlarm", self.metric_failed, "An execution of the state machine failed"),
            ("TimedOutAlarm", self.metric_timed_out, "An execution of the state machine timed out"),
            (
                "ThrottledAlarm",
                self.metric_throttled,
                "Executions of the state machine were throttled",
            ),
        )
        made = [
            alarm(
                self,
                construct_id,
                metric=metric(period=minute, statistic="Sum"),
                threshold=0,
                description=description,
                topic=self.alarm_topic,
            )
            for construct_id, metric, description in specs
        ]
        self.failed_alarm: cloudwatch.Alarm = made[0]
        """ExecutionsFailed (AWS/States, StateMachineArn) above 0 in a minute."""
        self.timed_out_alarm: cloudwatch.Alarm = made[1]
        """ExecutionsTimedOut above 0 in a minute."""
        self.throttled_alarm: cloudwatch.Alarm = made[2]
        """ExecutionThrottled above 0 in a minute."""

    @property
    def alarms(self) -> tuple[cloudwatch.Alarm, ...]:
        """The failed, timed-out and throttled alarms (for a dashboard row)."""
        return (self.failed_alarm, self.timed_out_alarm, self.throttled_alarm)


_FIXED_OPTIONS: FixedOptions = {
    "role": (
        "no role: each SecureStateMachine creates its own least-privilege role",
        "remove role=; the tasks' grants land in the state machine's own role",
    ),
    "logs": (
        "nothing: the state machine always logs to its own encrypted log group",
        "remove logs= and use log_level=, include_execution_data=, log_retention=",
    ),
    "encryption_configuration": (
        "nothing: the state machine is always encrypted with the stack's key",
        "remove encryption_configuration",
    ),
    "definition": ("nothing: definition is deprecated", "pass definition_body= instead"),
}


@jsii.implements(cdk.IStableStringProducer)
class _UniqueName:
    """The state machine's name, from its construct path, known only once it exists: its role
    names its ARN (the encryption context of the key and the trust policy's aws:SourceArn), and
    a Ref to the state machine there would be a circular dependency."""

    def __init__(self, owner: Construct) -> None:
        self._owner = owner

    def produce(self) -> str:
        return cdk.Names.unique_resource_name(self._owner, max_length=80, separator="-")


def _checked_timeout(timeout: cdk.Duration | None, express: bool) -> int:
    if timeout is None:
        return STATE_MACHINE_TIMEOUT_SECONDS
    seconds = whole_seconds("timeout", timeout)
    high = EXPRESS_MAX_EXECUTION_SECONDS if express else STATE_MACHINE_MAX_TIMEOUT_SECONDS
    kind = "an EXPRESS state machine's limit" if express else "our cap: one day"
    if seconds is None or not 1 <= seconds <= high:
        raise ValidationError(
            "timeout",
            "a token" if seconds is None else f"{seconds:g} seconds",
            f"1 to {high} seconds ({kind}), known at synth",
            "pass e.g. timeout=Duration.minutes(5); split longer work into several executions",
        )
    return int(seconds)


def _lambda_tasks(body: sfn.DefinitionBody) -> list[SecureLambdaInvoke]:
    """The SecureLambdaInvoke tasks reachable from the start state (through Catch too; not
    inside Parallel or Map branches, which CDK keeps as graphs of their own)."""
    chainable = getattr(body, "chainable", None)
    if chainable is None:
        return []  # a definition given as a string or file: the rules read it at synth
    states = sfn.State.find_reachable_states(chainable.start_state, include_error_handlers=True)
    return [s for s in states if isinstance(s, SecureLambdaInvoke)]


@jsii.implements(constructs.IValidation)
class _TaskTimeoutsFit:
    """At synth, every Task of the rendered definition, nested Parallel and Map states and
    tasks not built with lambda_task included, fits in the execution timeout (the check at
    construction sees only the tasks reachable from the start state)."""

    def __init__(self, machine: SecureStateMachine, timeout_seconds: int) -> None:
        self._machine = machine
        self._timeout = timeout_seconds

    def validate(self) -> list[str]:
        cfn = self._machine.node.default_child
        assert isinstance(cfn, sfn.CfnStateMachine)
        stack = stack_of(self._machine)
        props = {
            "DefinitionString": stack.resolve(cfn.definition_string),
            "DefinitionSubstitutions": stack.resolve(cfn.definition_substitutions),
        }
        errors = []
        for body in definitions(props).bodies:
            for path, state in states(body):
                seconds = number(state.get("TimeoutSeconds"))
                if state.get("Type") == "Task" and seconds is not None and seconds > self._timeout:
                    errors.append(
                        f"timeout={self._timeout} seconds is shorter than the timeout of task "
                        f"{path!r} ({seconds:g} seconds): the execution would end while the task "
                        "still waits. Fix: pass a longer timeout= or shorten the task's timeout"
                    )
        return sorted(set(errors))


def _check_task_timeouts(tasks: Sequence[SecureLambdaInvoke], timeout_seconds: int) -> None:
    """A Lambda task whose timeout is longer than the execution's own is refused."""
    for state in tasks:
        if state.timeout_seconds > timeout_seconds:
            raise ValidationError(
                "timeout",
                f"{timeout_seconds} seconds",
                f"at least the timeout of task {state.node.id!r} ({state.timeout_seconds} "
                "seconds): the execution would end while the task still waits",
                f"pass timeout=Duration.seconds({state.timeout_seconds}) or more, or shorten "
                "the task's timeout",
            )


def _encrypt(
    machine: SecureStateMachine, role: StateMachineRole, key: kms.IKey, arn: str, stack: cdk.Stack
) -> None:
    """The state machine encrypted with the stack key, and exactly the key use it needs.

    Set on the L1 rather than through CDK's CustomerManagedEncryptionConfiguration, which adds
    `delivery.logs.amazonaws.com` `kms:Decrypt*` on the key without any condition (the stack key
    encrypts every secret, queue and log group of the stack) and scopes the role's statement to
    a state machine ARN without a name (`...:stateMachine:`) when none is given.
    AWS, "Data at rest encryption in Step Functions": the execution role needs kms:Decrypt and
    kms:GenerateDataKey with `kms:EncryptionContext:aws:states:stateMachineArn`, and, with
    logging, kms:GenerateDataKey with `kms:EncryptionContext:SourceArn` arn:...:logs:<region>:
    <account>:*; the key policy must let delivery.logs.amazonaws.com kms:Decrypt.
    """
    cfn = machine.node.default_child
    assert isinstance(cfn, sfn.CfnStateMachine)
    cfn.encryption_configuration = sfn.CfnStateMachine.EncryptionConfigurationProperty(
        type=CUSTOMER_MANAGED_KEY_TYPE,
        kms_key_id=key.key_arn,
        kms_data_key_reuse_period_seconds=STATE_MACHINE_KEY_REUSE_SECONDS,
    )
    logs_source = _logs_source_arn(stack)
    role.add_scoped_statements(
        iam.PolicyStatement(
            actions=["kms:Decrypt", "kms:GenerateDataKey"],
            resources=[key.key_arn],
            conditions={"StringEquals": {"kms:EncryptionContext:aws:states:stateMachineArn": arn}},
        ),
        iam.PolicyStatement(
            actions=["kms:GenerateDataKey"],
            resources=[key.key_arn],
            conditions={"StringEquals": {"kms:EncryptionContext:SourceArn": logs_source}},
        ),
    )
    if stack not in _KEY_STATEMENT_ADDED:
        _KEY_STATEMENT_ADDED.add(stack)
        key.add_to_resource_policy(log_delivery_statement(stack))


def _logs_source_arn(stack: cdk.Stack) -> str:
    return f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:*"


def log_delivery_statement(stack: cdk.Stack) -> iam.PolicyStatement:
    """The key policy statement CloudWatch Logs delivery needs for encrypted state machines:
    kms:Decrypt for `delivery.logs.amazonaws.com` (Step Functions Developer Guide, "Data at rest
    encryption", step 3), only for log deliveries of this account and region: the encryption
    context `SourceArn` is `arn:<partition>:logs:<region>:<account>:*`, as in the execution
    role's statement and AWS's documented key policies for vended-log delivery. The shared
    key's guard (guarded.py `_scope_service_statement`) adds `aws:SourceAccount` = this account
    as well; whether log delivery sends that key is unverified (README "Not done yet")."""
    return iam.PolicyStatement(
        sid="AllowLogDeliveryOfEncryptedStateMachines",
        principals=[iam.ServicePrincipal(LOG_DELIVERY_PRINCIPAL)],
        actions=["kms:Decrypt"],
        resources=["*"],
        conditions={"StringEquals": {"kms:EncryptionContext:SourceArn": _logs_source_arn(stack)}},
    )


def _warn_downgrades(
    machine: SecureStateMachine, level: sfn.LogLevel, execution_data: bool, tracing: bool
) -> None:
    warnings = []
    if level is not sfn.LogLevel.ALL:
        warnings.append(("log-level", f"log_level={level} logs less than every state transition"))
    if execution_data:
        warnings.append(
            (
                "execution-data",
                "include_execution_data=True logs inputs and outputs, which may "
                "carry secrets or personal data",
            )
        )
    if not tracing:
        warnings.append(("tracing", "tracing_enabled=False turns off X-Ray for this workflow"))
    for name, text in warnings:
        cdk.Annotations.of(machine).add_warning_v2(f"secure-constructs:{name}", text)
