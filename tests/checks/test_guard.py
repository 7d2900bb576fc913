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


# --- switches that make app.synth() return although checks fail ------------------------------


def _open_topic(tmp_path: Any, **context: Any) -> cdk.App:
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_sns as sns

    app = cdk.App(outdir=str(tmp_path), context=context or None)
    apply_checks(app)
    stack = cdk.Stack(app, "Svc")
    topic = sns.Topic(stack, "Topic", enforce_ssl=True)
    topic.add_to_resource_policy(
        iam.PolicyStatement(
            actions=["sns:Publish"], principals=[iam.AnyPrincipal()], resources=["*"]
        )
    )
    return app


@pytest.mark.parametrize(
    "context",
    [
        {"@aws-cdk/core:failSynthOnValidationErrors": False},
        {"@aws-cdk/core:failSynthOnValidationErrors": "false"},
        {"@aws-cdk/core:appMode": "process"},
    ],
    ids=["fail-synth-false", "fail-synth-false-string", "app-mode-process"],
)
def test_a_context_switch_that_would_let_synth_pass_fails_it(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, context: dict[str, Any]
) -> None:
    monkeypatch.delenv("CDK_CLI_VERSION", raising=False)
    with pytest.raises(Exception, match=r"apply_checks: the context @aws-cdk/core:"):
        _open_topic(tmp_path, **context).synth()


def test_the_app_mode_environment_variable_fails_it_too(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CDK_CLI_VERSION", raising=False)
    monkeypatch.setenv("CDK_APP_MODE", "process")
    with pytest.raises(Exception, match=r"environment variable CDK_APP_MODE=process"):
        _open_topic(tmp_path).synth()


def test_under_the_cdk_cli_the_switch_is_the_clis_own(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the CLI sets both and fails the command from validation-report.json itself
    monkeypatch.setenv("CDK_CLI_VERSION", "2.1148.1")
    app = _open_topic(tmp_path, **{"@aws-cdk/core:failSynthOnValidationErrors": False})
    app.synth()  # returns: the CLI, not the app, turns the report into the exit code
    report = (tmp_path / "validation-report.json").read_text()
    assert "ResourcePolicyPublic" in report and "apply_checks: the context" not in report


def test_without_switches_an_open_finding_still_fails_the_synth(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CDK_CLI_VERSION", raising=False)
    with pytest.raises(Exception, match="ResourcePolicyPublic"):
        _open_topic(tmp_path).synth()
