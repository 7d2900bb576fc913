"""Shared checks of construct props: one wording for every construct's refusals."""

from __future__ import annotations

import math
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_logs as logs

from secure_constructs.checks.reasons import MIN_REASON_LENGTH, MIN_REASON_WORDS, reason_problem
from secure_constructs.errors import ValidationError


def is_token_string(text: str) -> bool:
    """`Token.is_unresolved` for a Python str without a jsii round trip: CDK encodes string
    tokens as `${Token[...]}` inside the string."""
    return "${Token[" in text


def check_reason(prop: str, reason: Any, *, about: str = "the finding is unavoidable") -> str:
    """`reason` if a reviewer could accept it, else a ValidationError naming `prop`."""
    if not isinstance(reason, str) or is_token_string(reason):
        raise ValidationError(
            prop,
            reason,
            "a plain string (not a token): the reason is read by reviewers, not deployed",
            f"write, in words, why {about}",
        )
    problem = reason_problem(reason)
    if problem:
        raise ValidationError(
            prop,
            reason,
            f"a reason of at least {MIN_REASON_WORDS} words and {MIN_REASON_LENGTH} characters "
            f"saying why {about}, without deferral or placeholder phrasing ({problem})",
            "write the reason a security reviewer would accept: what the resource does and why "
            "the risk is acceptable, not when it will be fixed",
        )
    return reason


def check_retention(prop: str, retention: logs.RetentionDays) -> None:
    """Logs must expire: `RetentionDays.INFINITE` is refused."""
    if retention is logs.RetentionDays.INFINITE:
        raise ValidationError(
            prop,
            "RetentionDays.INFINITE",
            "a finite retention (logs must expire; long-term archives belong in S3)",
            f"pass e.g. {prop}=RetentionDays.ONE_YEAR",
        )


def check_number(prop: str, value: Any, low: float, high: float, *, unit: str = "") -> None:
    """A finite number in [low, high]; tokens are not compared. Checked before any jsii call."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(
            prop, value, f"a number from {low:g} to {high:g} {unit}".strip(), "pass a number"
        )
    if isinstance(value, float) and not math.isfinite(value):
        raise ValidationError(
            prop, value, f"a finite number from {low:g} to {high:g} {unit}".strip(), "pass a number"
        )
    if cdk.Token.is_unresolved(value):
        return
    if not low <= value <= high:
        bounded = math.isfinite(high)
        raise ValidationError(
            prop,
            value,
            (f"{low:g} to {high:g} {unit}" if bounded else f"at least {low:g} {unit}").strip(),
            f"pass {prop} between {low:g} and {high:g}" if bounded else f"pass {prop} >= {low:g}",
        )


def whole_seconds(prop: str, duration: cdk.Duration) -> float | None:
    """The duration in seconds (None for a token); a fraction of a second is refused."""
    if not isinstance(duration, cdk.Duration):
        raise ValidationError(
            prop,
            duration,
            "a Duration (e.g. Duration.seconds(10)), not a number or string",
            f"pass e.g. {prop}=Duration.seconds({duration if isinstance(duration, int) else 10})",
        )
    if duration.is_unresolved():
        return None
    millis = duration.to_milliseconds()
    if millis % 1000:
        raise ValidationError(
            prop,
            f"{millis:g} milliseconds",
            "a whole number of seconds",
            f"pass e.g. {prop}=Duration.seconds(10)",
        )
    return millis / 1000
