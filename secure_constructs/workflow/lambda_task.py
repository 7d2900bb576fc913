"""SecureLambdaInvoke: a Step Functions Lambda task with bounded retries and a timeout."""

from __future__ import annotations

from typing import TYPE_CHECKING, Unpack

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as sfn_tasks
from constructs import Construct

from secure_constructs.defaults import (
    LAMBDA_TASK_RETRY_ATTEMPTS,
    LAMBDA_TASK_RETRY_BACKOFF_RATE,
    LAMBDA_TASK_RETRY_INTERVAL_SECONDS,
    LAMBDA_TASK_RETRY_MAX_DELAY_SECONDS,
    LAMBDA_TASK_TIMEOUT_MARGIN_SECONDS,
)
from secure_constructs.errors import ValidationError
from secure_constructs.facts.lambda_facts import DEFAULT_TIMEOUT_SECONDS, MAX_TIMEOUT_SECONDS
from secure_constructs.facts.stepfunctions_facts import LAMBDA_TRANSIENT_ERRORS
from secure_constructs.prop_types import check_args
from secure_constructs.validation import (
    FixedOptions,
    check_number,
    refuse_fixed_options,
    whole_seconds,
)

if TYPE_CHECKING:
    from secure_constructs._options import LambdaInvokeOptions

__all__ = ["SecureLambdaInvoke"]

# Our own bounds on the retries of one task (AWS allows far more; each retry is billed).
_RETRY_RANGE = (1, 10)
# The longest task timeout we accept: Lambda's own maximum plus the margin.
_MAX_TASK_TIMEOUT_SECONDS = MAX_TIMEOUT_SECONDS + LAMBDA_TASK_TIMEOUT_MARGIN_SECONDS

_FIXED_OPTIONS: FixedOptions = {
    "task_timeout": ("nothing: use timeout=", "pass timeout=Duration.seconds(...) instead"),
    "retry_on_service_exceptions": (
        "nothing: the task always retries Lambda's transient errors with backoff and jitter",
        "remove retry_on_service_exceptions (set retry_attempts= to change the retries)",
    ),
    # With a qualifier CDK grants invoke on `<function arn>:*` (every version and alias);
    # an alias or version passed as the function is granted by its own ARN.
    # JSONata `Output` takes any JSON value, which cannot be checked before it reaches jsii.
    "outputs": (
        "nothing: JSONata outputs are not supported on this task",
        "use result_selector=/result_path= (JSONPath), or a plain LambdaInvoke",
    ),
    "qualifier": (
        "nothing: pass the alias or version itself as lambda_function",
        "pass lambda_function=fn.current_version or an Alias, and remove qualifier",
    ),
}


class SecureLambdaInvoke(sfn_tasks.LambdaInvoke):
    """A Lambda task that retries Lambda's transient errors and has a timeout.

    Every keyword argument of `aws_stepfunctions_tasks.LambdaInvoke` passes through
    (`payload`, `result_path`, `output_path`, ...), except `task_timeout` (use `timeout`) and
    `retry_on_service_exceptions` (the retry below replaces CDK's) and `qualifier` (pass the
    alias or version as `lambda_function`: the role is then granted exactly that ARN).

    The task retries `Lambda.ServiceException`, `Lambda.AWSLambdaException`,
    `Lambda.SdkClientException` and `Lambda.TooManyRequestsException` (AWS's best practice,
    "Handle transient Lambda service exceptions") with exponential backoff and full jitter:
    waits of 1 s, 2 s, 4 s, ... at most 30 s, each a random share of that.

    :param lambda_function: the function to invoke.
    :param timeout: how long one attempt may take, 1 s to 905 s. It must not be shorter than
        the function's timeout (refused: the task would give up while the function still runs).
        Default: the function's timeout plus 5 seconds; required when the function's timeout
        is not known (an imported function).
    :param retry_attempts: retries on Lambda's transient errors, 1-10. Default: 3.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        lambda_function: lambda_.IFunction,
        timeout: cdk.Duration | None = None,
        retry_attempts: int = LAMBDA_TASK_RETRY_ATTEMPTS,
        **options: Unpack[LambdaInvokeOptions],
    ) -> None:
        check_args(SecureLambdaInvoke.__init__, locals())
        refuse_fixed_options(options, _FIXED_OPTIONS)
        check_number("retry_attempts", retry_attempts, *_RETRY_RANGE, unit="retries", whole=True)
        function_seconds = function_timeout_seconds(lambda_function)
        seconds = _task_timeout_seconds(timeout, function_seconds)
        super().__init__(
            scope,
            construct_id,
            lambda_function=lambda_function,
            retry_on_service_exceptions=False,
            task_timeout=sfn.Timeout.duration(cdk.Duration.seconds(seconds)),
            **options,
        )
        self.add_retry(
            errors=list(LAMBDA_TRANSIENT_ERRORS),
            interval=cdk.Duration.seconds(LAMBDA_TASK_RETRY_INTERVAL_SECONDS),
            backoff_rate=LAMBDA_TASK_RETRY_BACKOFF_RATE,
            max_attempts=retry_attempts,
            max_delay=cdk.Duration.seconds(LAMBDA_TASK_RETRY_MAX_DELAY_SECONDS),
            jitter_strategy=sfn.JitterType.FULL,
        )
        self.timeout_seconds: int = seconds
        """The task timeout in seconds; SecureStateMachine compares it with its own."""
        self.function_timeout_seconds: float | None = function_seconds
        """The invoked function's timeout in seconds (None when not known)."""
        self.invoked_function_arn: str = lambda_function.function_arn
        """The ARN the task invokes (its state machine's role is granted exactly this one)."""


def function_timeout_seconds(function: lambda_.IFunction) -> float | None:
    """The function's timeout in seconds: a SecureFunction's own, a `Function`'s `timeout`
    (Lambda's 3 s default when it declares none), or None (imported or a token)."""
    own = getattr(function, "timeout_seconds", None)
    if isinstance(own, (int, float)):
        return float(own)
    if not isinstance(function, lambda_.Function):
        return None
    duration = function.timeout
    if duration is None:
        return float(DEFAULT_TIMEOUT_SECONDS)
    return whole_seconds("timeout", duration)


def _task_timeout_seconds(timeout: cdk.Duration | None, function_seconds: float | None) -> int:
    if timeout is None:
        if function_seconds is None:
            raise ValidationError(
                "timeout",
                None,
                "a task timeout when the function's timeout is not known (an imported function)",
                "pass timeout=Duration.seconds(...) at least as long as the function's timeout",
            )
        return int(function_seconds) + LAMBDA_TASK_TIMEOUT_MARGIN_SECONDS
    seconds = whole_seconds("timeout", timeout)
    if seconds is None:
        raise ValidationError(
            "timeout",
            "a token",
            "a task timeout known at synth",
            "pass e.g. timeout=Duration.seconds(30)",
        )
    check_number("timeout", int(seconds), 1, _MAX_TASK_TIMEOUT_SECONDS, unit="seconds", whole=True)
    if function_seconds is not None and function_seconds > seconds:
        suggested = int(function_seconds) + LAMBDA_TASK_TIMEOUT_MARGIN_SECONDS
        raise ValidationError(
            "timeout",
            f"{seconds:g} seconds",
            f"at least the function's timeout ({function_seconds:g} seconds): the task would "
            "stop waiting while the function still runs, and a retry would run it twice",
            f"pass timeout=Duration.seconds({suggested}) or leave it out (the function's "
            "timeout plus 5 seconds), or shorten the function's timeout",
        )
    return int(seconds)
