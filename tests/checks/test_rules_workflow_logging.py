"""StateMachineExecutionData: in a hand-written template (through the audit) and in CDK (an
escape-hatch override on SecureStateMachine)."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_stepfunctions as sfn

from secure_constructs import SecureStateMachine
from secure_constructs.audit.sources import parse_template_text
from secure_constructs.checks.model import Template
from secure_constructs.checks.registry import RULES
from tests.audit.helpers import run as cli
from tests.synth import synth

MACHINE = """
Conditions:
  Debug: !Equals [!Ref "AWS::Region", us-east-1]
Resources:
  Flow:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      RoleArn: arn:aws:iam::111111111111:role/r
      DefinitionString: "{}"
      LoggingConfiguration:
        Level: ALL
        IncludeExecutionData: VALUE
        Destinations:
          - CloudWatchLogsLogGroup:
              LogGroupArn: arn:aws:logs:us-east-1:111111111111:log-group:flow:*
"""


def findings(value: str) -> list[tuple[str, str]]:
    template = Template(parse_template_text(MACHINE.replace("VALUE", value), "t.yaml"))
    return [(f.logical_id, f.path) for f in RULES["StateMachineExecutionData"].run(template)]


@pytest.mark.parametrize("value", ["true", '"true"', "!If [Debug, true, false]"])
def test_fails_when_execution_data_can_be_logged(value: str) -> None:
    assert findings(value) == [("Flow", "Properties/LoggingConfiguration/IncludeExecutionData")]


@pytest.mark.parametrize("value", ["false", '"false"'])
def test_passes_when_execution_data_is_not_logged(value: str) -> None:
    assert findings(value) == []


def test_the_audit_reports_execution_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "flow.yaml"
    path.write_text(MACHINE.replace("VALUE", "true"), encoding="utf-8")
    result = cli(capsys, "audit", "--account", "111111111111", path)
    assert "StateMachineExecutionData" in result.out, result
    path.write_text(MACHINE.replace("VALUE", "false"), encoding="utf-8")
    assert "StateMachineExecutionData" not in cli(capsys, "audit", path).out


def _flow(stack: cdk.Stack, *, override: bool) -> None:
    definition = sfn.DefinitionBody.from_chainable(sfn.Pass(stack, "P"))
    flow = SecureStateMachine(stack, "Flow", definition_body=definition)
    if override:
        child = flow.node.default_child
        assert isinstance(child, sfn.CfnStateMachine)
        child.add_property_override("LoggingConfiguration.IncludeExecutionData", True)


@pytest.mark.parametrize("override", [True, False])
def test_cdk_an_override_turning_execution_data_on_fails_the_synth(override: bool) -> None:
    result = synth(lambda stack: _flow(stack, override=override))
    assert ("StateMachineExecutionData" in result.violation_ids()) is override
    assert result.failed is override, result.violation_ids()
