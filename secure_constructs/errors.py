"""The one error type secure-constructs raises for bad input, worded for the user."""

from __future__ import annotations

from typing import Any


class ValidationError(ValueError):
    """A construct prop (or call argument) that would break the security promise.

    The message always names the snake_case prop, the value received, what is allowed and how
    to fix it, so a user never has to read a jsii stack trace to find out what went wrong.
    """

    def __init__(self, prop: str, value: Any, allowed: str, fix: str) -> None:
        self.prop = prop
        self.value = value
        self.allowed = allowed
        self.fix = fix
        super().__init__(f"{prop}={_show(value)} is not allowed: {allowed}. Fix: {fix}")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
