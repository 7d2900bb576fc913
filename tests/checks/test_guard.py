"""Checks that cannot be skipped silently: without apply_checks, a warning (strict: an error)."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_

from secure_constructs import SecureFunction
from secure_constructs.checks import apply_checks
from secure_constructs.checks.guard import MARKER_ID, STRICT_CONTEXT

CODE = "def handler(event, context):\n    return None\n"


def _app(tmp_path: Any, **context: Any) -> tuple[cdk.App, cdk.Stack]:
    app = cdk.App(outdir=str(tmp_path), context=context or None)
    stack = cdk.Stack(app, "Svc")
    SecureFunction(stack, "Fn", code=lambda_.Code.from_inline(CODE), handler="index.handler")
    SecureFunction(stack, "Other", code=lambda_.Code.from_inline(CODE), handler="index.handler")
    return app, stack


def _warnings(assembly: cdk.cx_api.CloudAssembly) -> list[str]:
    stack = assembly.get_stack_by_name("Svc")
    return [str(m.entry.data) for m in stack.messages if m.level.value == "WARNING"]


def test_warns_when_checks_are_off(tmp_path: Any) -> None:
    app, stack = _app(tmp_path)
    warnings = _warnings(app.synth())
    off = [w for w in warnings if "checks are off: call apply_checks(app)" in w]
    assert len(off) == 1  # once per stack, not once per construct
    assert len([c for c in stack.node.children if c.node.id == MARKER_ID]) == 1


@pytest.mark.parametrize("strict", [True, "true"])
def test_fails_when_checks_are_off_and_strict(tmp_path: Any, strict: Any) -> None:
    app, _ = _app(tmp_path, **{STRICT_CONTEXT: strict})
    with pytest.raises(RuntimeError, match=r"checks are off: call apply_checks\(app\)"):
        app.synth()


def test_no_warning_when_apply_checks_comes_after_the_constructs(tmp_path: Any) -> None:
    app, stack = _app(tmp_path)
    apply_checks(app)
    marker = stack.node.find_child(MARKER_ID)
    assert marker.node.validate() == []
    assert not [m for m in stack.node.metadata if "checks are off" in str(m.data)]
