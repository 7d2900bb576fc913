"""UnevaluatedTransform: Fn::Transform anywhere, and a template-level Transform other than SAM's,
fail closed (dicts, CDK and a hand-written YAML template through the audit)."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sqs as sqs

from secure_constructs.audit.cli import main
from secure_constructs.checks.model import Severity, Template
from secure_constructs.checks.registry import RULES
from tests.checks.templates import granular, resource
from tests.synth import synth

INCLUDE = {"Fn::Transform": {"Name": "AWS::Include", "Parameters": {"Location": "s3://b/k.yaml"}}}


def findings(body: dict[str, Any]) -> list[Any]:
    return RULES["UnevaluatedTransform"].run(Template(body))


def test_a_template_without_transforms_is_compliant() -> None:
    body = {
        "Transform": "AWS::Serverless-2016-10-31",
        "Resources": {"Q": resource("AWS::SQS::Queue")},
    }
    assert findings(body) == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": INCLUDE}}},
            ("Q", "Resources/Q/Properties"),
        ),
        (
            {"Resources": {"Role": resource("AWS::IAM::Role", Policies=[INCLUDE])}},
            ("Role", "Resources/Role/Properties/Policies/0"),
        ),
        ({"Resources": INCLUDE}, ("Resources", "Resources")),
        ({"Outputs": {"Out": {"Value": INCLUDE}}}, ("Out", "Outputs/Out/Value")),
        ({"Conditions": {"C": INCLUDE}}, ("Conditions", "Conditions/C")),
    ],
    ids=["properties", "one-policy", "whole-resources", "output", "condition"],
)
def test_every_fn_transform_is_an_error(body: dict[str, Any], expected: tuple[str, str]) -> None:
    found = findings(body)
    assert granular(found) == [expected]
    assert found[0].severity is Severity.ERROR
    assert "AWS::Include" in found[0].message


@pytest.mark.parametrize(
    "transform", ["AWS::LanguageExtensions", ["AWS::Serverless-2016-10-31", "MyMacro"]]
)
def test_a_template_level_transform_other_than_sam_is_an_error(transform: Any) -> None:
    found = findings({"Transform": transform, "Resources": {}})
    assert [f.finding_id for f in found] == [
        f"Transform::{t}" for t in ([transform] if isinstance(transform, str) else transform[1:])
    ]


def test_a_cdk_fn_transform_fails_the_synth() -> None:
    def build(stack: cdk.Stack) -> None:
        queue = sqs.Queue(stack, "Queue", enforce_ssl=True)
        cfn = queue.node.default_child
        assert isinstance(cfn, sqs.CfnQueue)
        cfn.add_property_override(
            "Tags", cdk.Fn.transform("AWS::Include", {"Location": "s3://b/k"})
        )

    result = synth(build)
    assert result.failed
    ours = [rule for pack, rule, _ in result.violations if rule.startswith("UnevaluatedTransform")]
    assert ours == ["UnevaluatedTransform[Resources/Queue4A7E3555/Properties/Tags]"], (
        result.violations
    )


def test_a_cdk_stack_without_transforms_has_no_such_finding() -> None:
    result = synth(lambda stack: sqs.Queue(stack, "Queue", enforce_ssl=True))
    assert not [v for v in result.violations if v[1].startswith("UnevaluatedTransform")]


def test_the_audit_reports_an_include_in_a_yaml_sam_template(tmp_path: Path) -> None:
    template = tmp_path / "included.yaml"
    template.write_text(
        "Transform: AWS::Serverless-2016-10-31\n"
        "Resources:\n"
        "  Queue:\n"
        "    Type: AWS::SQS::Queue\n"
        "    Properties:\n"
        "      Fn::Transform:\n"
        "        Name: AWS::Include\n"
        "        Parameters: {Location: s3://bucket/queue.yaml}\n"
    )
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["audit", str(template), "--format", "json"])
    report = json.loads(out.getvalue())
    ours = [f["rule"] for f in report["findings"] if f["rule"].startswith("UnevaluatedTransform")]
    assert code == 1
    assert ours == ["UnevaluatedTransform[Resources/Queue/Properties]"]
