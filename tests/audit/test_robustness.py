"""Whatever a template holds, the commands report on it: they never crash (property tests)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secure_constructs.audit.cli import main, resolvers
from secure_constructs.audit.cost import cost
from secure_constructs.audit.permissions import permissions
from secure_constructs.audit.report import audit
from secure_constructs.audit.sources import Inputs, StackSource
from secure_constructs.checks.intrinsics import Resolver

FUNCTIONS = [
    "Ref",
    "Fn::GetAtt",
    "Fn::Join",
    "Fn::Sub",
    "Fn::Select",
    "Fn::Split",
    "Fn::ImportValue",
    "Fn::FindInMap",
    "Fn::If",
    "Fn::GetAZs",
    "Fn::Unknown",
]
TYPES = [
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::Lambda::Function",
    "AWS::WAFv2::WebACL",
    "AWS::CloudWatch::Alarm",
    "AWS::SecretsManager::Secret",
    "AWS::SQS::Queue",
    "Custom::Thing",
]
NAMES = st.sampled_from(["A", "B", "Arn", "AWS::Region", "Stage", "*", "x.y", "${A}", "${A.Arn}"])
scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), NAMES, st.text(max_size=8))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(FUNCTIONS), inner, min_size=1, max_size=1),
        st.dictionaries(
            st.sampled_from(
                ["Statement", "Effect", "Action", "Resource", "Roles", "Role", "Rules"]
            ),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=12,
)
resources = st.dictionaries(
    st.sampled_from(["A", "B", "C"]),
    st.fixed_dictionaries({"Type": st.sampled_from(TYPES), "Properties": values}),
    min_size=1,
    max_size=3,
)


def _template(res: dict[str, Any], params: Any) -> dict[str, Any]:
    return {"Parameters": {"Stage": params}, "Mappings": {"M": params}, "Resources": res}


@settings(max_examples=150, deadline=None)
@given(values, resources, values)
def test_the_resolver_renders_any_value(value: Any, res: dict[str, Any], params: Any) -> None:
    resolver = Resolver(_template(res, params), exports={"A": "exported"})
    assert isinstance(resolver.text(value), str)
    items = resolver.items(value)
    assert items is None or all(isinstance(i, str) for i in items)


@settings(max_examples=100, deadline=None)
@given(resources, values)
def test_permissions_cost_and_audit_report_on_any_resources(
    res: dict[str, Any], params: Any
) -> None:
    stack = StackSource("s", _template(res, params), Path("s.json"))
    report = permissions([stack], resolvers([stack]))
    json.dumps(report.as_json())
    json.dumps(cost([stack]).as_json())
    audit(Inputs(stacks=[stack]))


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(res=resources)
def test_the_cli_never_fails_internally(
    res: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"Resources": res}))
    for args in (
        ["audit", "--format", "sarif"],
        ["audit", "--format", "html"],
        ["permissions"],
        ["cost"],
    ):
        assert main([*args, str(path)]) in (0, 1)
        assert "internal error" not in capsys.readouterr().err


def test_a_yaml_mapping_used_as_a_key_is_a_per_file_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("Resources:\n  A:\n    Type: AWS::SNS::Topic\n    Properties: {{a: b}: c}\n")
    code = main(["audit", str(path)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "a mapping key must be a scalar (line 4)" in err and "internal error" not in err
