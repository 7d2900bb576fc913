"""Rules over AWS::StepFunctions::StateMachine: logging, tracing, encryption, the execution
timeout, and the Retry and timeout of every Task state (nested Parallel and Map states too).

The definition is read by `checks.sfn_definitions`; one that cannot be read (in S3, or not
parsing) is a finding (fail closed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from secure_constructs.checks.cfn import number
from secure_constructs.checks.model import Practice, Template, Violation, rule
from secure_constructs.checks.sfn_definitions import Definitions, definitions, states
from secure_constructs.facts.stepfunctions_facts import (
    CUSTOMER_MANAGED_KEY_TYPE,
    DEFAULT_RETRY_MAX_ATTEMPTS,
    RETRIED_ERRORS,
    TASK_TIMEOUT_FIELDS,
)

STATE_MACHINE = "AWS::StepFunctions::StateMachine"
_REQUIRED_LOG_LEVEL = "ALL"
_UNREADABLE = "Definition"


def _unreadable(logical_id: str, found: Definitions, fix: str, granular: bool) -> Violation:
    return Violation(
        logical_id,
        found.path,
        found.problem or "",
        fix,
        finding_id=_UNREADABLE if granular else None,
    )


@rule(
    "StateMachineLogging",
    practice=Practice.MONITORING,
    applies_to=(STATE_MACHINE,),
    summary="A state machine does not log every execution event to CloudWatch Logs",
    explanation=(
        "Without LoggingConfiguration at level ALL and a log group destination, a failed or "
        "stuck execution leaves no record outside the execution history (kept 90 days, and not "
        "at all for Express workflows): no trail of which states ran before the failure."
    ),
)
def state_machine_logging(t: Template) -> Iterator[Violation]:
    fix = "use SecureStateMachine (logs at ALL to its own encrypted log group)"
    for logical_id, props in t.of_type(STATE_MACHINE):
        config = props.get("LoggingConfiguration")
        if not isinstance(config, Mapping):
            yield Violation(logical_id, "Properties/LoggingConfiguration", "no logging", fix)
            continue
        level = config.get("Level")
        if level != _REQUIRED_LOG_LEVEL:
            yield Violation(
                logical_id,
                "Properties/LoggingConfiguration/Level",
                f"the log level is {level or 'OFF (not set)'}, not ALL",
                fix,
            )
        destinations = config.get("Destinations")
        if not isinstance(destinations, list) or not destinations:
            yield Violation(
                logical_id,
                "Properties/LoggingConfiguration/Destinations",
                "logging has no log group destination",
                fix,
            )


@rule(
    "StateMachineTracing",
    practice=Practice.MONITORING,
    applies_to=(STATE_MACHINE,),
    summary="A state machine without X-Ray tracing",
    explanation=(
        "Without TracingConfiguration Enabled, an execution's trace stops at Step Functions: "
        "the latency and errors of each task and of the functions it calls cannot be followed "
        "end to end."
    ),
)
def state_machine_tracing(t: Template) -> Iterator[Violation]:
    for logical_id, props in t.of_type(STATE_MACHINE):
        config = props.get("TracingConfiguration")
        enabled = config.get("Enabled") if isinstance(config, Mapping) else None
        if enabled is not True and enabled != "true":
            yield Violation(
                logical_id,
                "Properties/TracingConfiguration/Enabled",
                "X-Ray tracing is not enabled",
                "use SecureStateMachine (tracing_enabled=True by default)",
            )


@rule(
    "StateMachineEncryption",
    practice=Practice.SECRETS,
    applies_to=(STATE_MACHINE,),
    summary="A state machine not encrypted with a customer managed KMS key",
    explanation=(
        "The definition and the execution history (every state's input and output, which can "
        "carry secrets and personal data) are then encrypted only with an AWS owned key: no key "
        "policy decides who may read them, and no CloudTrail record shows who did."
    ),
)
def state_machine_encryption(t: Template) -> Iterator[Violation]:
    for logical_id, props in t.of_type(STATE_MACHINE):
        config = props.get("EncryptionConfiguration")
        config = config if isinstance(config, Mapping) else {}
        if config.get("Type") != CUSTOMER_MANAGED_KEY_TYPE or config.get("KmsKeyId") is None:
            yield Violation(
                logical_id,
                "Properties/EncryptionConfiguration",
                "the state machine is not encrypted with a customer managed key",
                "use SecureStateMachine (encrypted with the stack's key)",
            )


@rule(
    "StateMachineTimeout",
    practice=Practice.EXECUTION_TIME,
    applies_to=(STATE_MACHINE,),
    summary="A state machine definition without an execution timeout",
    explanation=(
        "Without TimeoutSeconds at the top of the definition a Standard workflow execution "
        "can run for a year: a stuck task or a loop holds its resources and never fails, so "
        "no alarm fires."
    ),
)
def state_machine_timeout(t: Template) -> Iterator[Violation]:
    fix = "use SecureStateMachine (timeout=, default 5 minutes)"
    for logical_id, props in t.of_type(STATE_MACHINE):
        found = definitions(props)
        if found.problem:
            yield _unreadable(logical_id, found, fix, granular=False)
            continue
        for body in found.bodies:
            seconds = number(body.get("TimeoutSeconds"))
            if seconds is None or seconds <= 0:
                yield Violation(
                    logical_id, f"{found.path}/TimeoutSeconds", "no execution timeout", fix
                )
                break


def _task_findings(
    t: Template, judge: Callable[[Mapping[str, Any]], str | None], fix: str
) -> Iterator[Violation]:
    for logical_id, props in t.of_type(STATE_MACHINE):
        found = definitions(props)
        if found.problem:
            yield _unreadable(logical_id, found, fix, granular=True)
            continue
        seen: set[str] = set()
        for body in found.bodies:
            for path, state in states(body):
                message = judge(state) if state.get("Type") == "Task" else None
                if message and path not in seen:
                    seen.add(path)
                    yield Violation(
                        logical_id, f"{found.path}/States/{path}", message, fix, finding_id=path
                    )


def _no_retry(state: Mapping[str, Any]) -> str | None:
    retry = state.get("Retry")
    if not isinstance(retry, list) or not retry:
        return "the Task state has no Retry"
    if any(_retries_transient_errors(retrier) for retrier in retry):
        return None
    return (
        "no retrier of the Task state retries (MaxAttempts above 0) States.ALL, "
        "States.TaskFailed or a Lambda transient error"
    )


def _retries_transient_errors(retrier: Any) -> bool:
    if not isinstance(retrier, Mapping):
        return False
    errors = retrier.get("ErrorEquals")
    attempts = number(retrier.get("MaxAttempts", DEFAULT_RETRY_MAX_ATTEMPTS))
    return (
        isinstance(errors, list)
        and any(error in RETRIED_ERRORS for error in errors)
        and attempts is not None
        and attempts > 0
    )


def _no_timeout(state: Mapping[str, Any]) -> str | None:
    if any(field in state for field in TASK_TIMEOUT_FIELDS):
        return None
    return "the Task state has no TimeoutSeconds or TimeoutSecondsPath"


@rule(
    "TaskRetry",
    practice=Practice.EXECUTION_TIME,
    applies_to=(STATE_MACHINE,),
    summary="A Task state without a Retry that retries transient errors",
    explanation=(
        "A Task without Retry fails the whole execution on the first transient error of the "
        "service it calls (Lambda's ServiceException and TooManyRequestsException, throttling), "
        "which a retry with exponential backoff and jitter would have absorbed. A Retry counts "
        "when one retrier has MaxAttempts above 0 (3 when left out) and names States.ALL, "
        "States.TaskFailed or one of Lambda's transient errors."
    ),
    granular=True,
)
def task_retry(t: Template) -> Iterator[Violation]:
    return _task_findings(
        t, _no_retry, "build Lambda tasks with SecureStateMachine.lambda_task(...) (retries)"
    )


@rule(
    "TaskTimeout",
    practice=Practice.EXECUTION_TIME,
    applies_to=(STATE_MACHINE,),
    summary="A Task state without TimeoutSeconds or TimeoutSecondsPath",
    explanation=(
        "A Task without a timeout waits as long as the execution may run (a year for a "
        "Standard workflow) when the service it calls never answers, so the retry never runs "
        "and nothing fails."
    ),
    granular=True,
)
def task_timeout(t: Template) -> Iterator[Violation]:
    return _task_findings(
        t, _no_timeout, "build Lambda tasks with SecureStateMachine.lambda_task(..., timeout=)"
    )


RULES = (
    state_machine_logging,
    state_machine_tracing,
    state_machine_encryption,
    state_machine_timeout,
    task_retry,
    task_timeout,
)
