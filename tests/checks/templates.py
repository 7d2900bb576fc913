"""Small CloudFormation template dicts for rule tests (no synth), and a way to run one rule."""

from __future__ import annotations

from typing import Any

import pytest

from secure_constructs.checks.model import CheckOptions, Finding, Template
from secure_constructs.checks.registry import RULES


def resource(type_: str, **props: Any) -> dict[str, Any]:
    return {"Type": type_, "Properties": props}


def function(**props: Any) -> dict[str, Any]:
    """A Lambda function that every Lambda rule accepts unless `props` says otherwise."""
    base: dict[str, Any] = {
        "Role": {"Fn::GetAtt": ["FnRole", "Arn"]},
        "Runtime": "python3.14",
        "Handler": "index.handler",
        "Code": {"ZipFile": "def handler(e, c): pass"},
        "Timeout": 10,
    }
    base.update(props)
    return resource("AWS::Lambda::Function", **{k: v for k, v in base.items() if v is not None})


def event_invoke_config(function_id: str = "Fn", **props: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "FunctionName": {"Ref": function_id},
        "Qualifier": "$LATEST",
        "MaximumRetryAttempts": 2,
        "MaximumEventAgeInSeconds": 3600,
        "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": ["Dlq", "Arn"]}}},
    }
    base.update(props)
    return resource(
        "AWS::Lambda::EventInvokeConfig", **{k: v for k, v in base.items() if v is not None}
    )


def alarm(function_id: str = "Fn", metric: str = "Errors", **props: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "Namespace": "AWS/Lambda",
        "MetricName": metric,
        "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": function_id}}],
        "Statistic": "Sum",
        "Period": 60,
        "EvaluationPeriods": 1,
        "Threshold": 0,
        "ComparisonOperator": "GreaterThanThreshold",
        "AlarmActions": [{"Ref": "Topic"}],
    }
    base.update(props)
    return resource("AWS::CloudWatch::Alarm", **{k: v for k, v in base.items() if v is not None})


def well_configured_function(function_id: str = "Fn", **props: Any) -> dict[str, Any]:
    """Resources of one function that passes every Lambda rule (for adding one defect)."""
    return {
        function_id: function(**props),
        f"{function_id}Invoke": event_invoke_config(function_id),
        f"{function_id}Errors": alarm(function_id, "Errors"),
        f"{function_id}Throttles": alarm(function_id, "Throttles"),
    }


def policy(*statements: dict[str, Any], type_: str = "AWS::IAM::Policy") -> dict[str, Any]:
    return resource(
        type_,
        PolicyDocument={"Version": "2012-10-17", "Statement": list(statements)},
        Roles=[{"Ref": "FnRole"}],
    )


def allow(action: Any, resource_: Any = "arn:aws:s3:::bucket/*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource_, **extra}


def run(
    rule_id: str,
    resources: dict[str, Any],
    *,
    max_timeout_seconds: int = 60,
    accounts: frozenset[str] = frozenset(),
    parameters: dict[str, Any] | None = None,
) -> list[Finding]:
    """The findings of one rule on a template made of `resources` (and `parameters`)."""
    body: dict[str, Any] = {"Resources": resources}
    if parameters:
        body["Parameters"] = parameters
    template = Template(
        body, options=CheckOptions(max_timeout_seconds=max_timeout_seconds, accounts=accounts)
    )
    return RULES[rule_id].run(template)


def granular(findings: list[Finding]) -> list[tuple[str, str | None]]:
    """(logical id, finding id) of every finding, sorted."""
    return sorted((f.logical_id, f.finding_id) for f in findings)


def make_rule_crash(monkeypatch: pytest.MonkeyPatch, rule_id: str) -> None:
    """Replace a registered rule's check with one that raises, for the rest of the test."""
    rule = RULES[rule_id]

    def boom(template: Template) -> Any:
        raise KeyError("Properties")

    monkeypatch.setitem(RULES, rule_id, type(rule)(**{**rule.__dict__, "check": boom}))
