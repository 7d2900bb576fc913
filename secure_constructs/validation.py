"""Shared checks of construct props: one wording for every construct's refusals."""

from __future__ import annotations

import math
from collections.abc import Mapping
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


FixedOptions = Mapping[str, tuple[str, str]]
"""A construct's fixed options, the one shape of these tables: option name -> (what is
allowed, how to fix), for the props of the L2 that the construct sets for its promise."""


def refuse_fixed_options(options: Mapping[str, Any], fixed: FixedOptions) -> None:
    """A ValidationError for the first option of `options` that `fixed` lists."""
    for name, (allowed, fix) in fixed.items():
        if name in options:
            raise ValidationError(name, options[name], allowed, fix)


def check_number(
    prop: str,
    value: Any,
    low: float,
    high: float,
    *,
    unit: str = "",
    whole: bool = False,
    tokens: bool = True,
    allowed: str | None = None,
    fix: str | None = None,
) -> None:
    """A finite number in [low, high] (with `whole`, an int); a number token is accepted
    uncompared, or refused with `tokens=False` (where the value must be known at synth).

    Checked before any jsii call: a NaN sent through jsii kills the kernel, and only a float
    can be a number token, so an int costs no round trip. `allowed` and `fix` replace the
    generated wording of every refusal.
    """
    if whole:
        of_unit = f" of {unit}" if unit else ""
        type_allowed = range_allowed = f"a whole number{of_unit} from {low:g} to {high:g}"
        type_fix = range_fix = f"pass {prop}={low:g}..{high:g}"
    else:
        type_allowed = f"a number from {low:g} to {high:g} {unit}".strip()
        range_allowed = f"{low:g} to {high:g} {unit}".strip()
        type_fix, range_fix = "pass a number", f"pass {prop} between {low:g} and {high:g}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(prop, value, allowed or type_allowed, fix or type_fix)
    if isinstance(value, float) and not math.isfinite(value):
        raise ValidationError(
            prop, value, allowed or f"a finite {type_allowed[2:]}", fix or type_fix
        )
    if tokens and isinstance(value, float) and cdk.Token.is_unresolved(value):
        return
    if whole and not isinstance(value, int):
        raise ValidationError(prop, value, allowed or type_allowed, fix or type_fix)
    if not low <= value <= high:
        bounded = math.isfinite(high)
        if not bounded and allowed is None:
            range_allowed = f"at least {low:g} {unit}".strip()
            range_fix = f"pass {prop} >= {low:g}"
        raise ValidationError(prop, value, allowed or range_allowed, fix or range_fix)


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
