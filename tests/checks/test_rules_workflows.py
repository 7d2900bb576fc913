"""The state machine rules: in dicts (every definition form), hand-written YAML through
`secure-constructs audit`, and CDK (a plain StateMachine and a SecureStateMachine)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as sfn_tasks

from tests.audit.helpers import FIXTURES
from tests.audit.helpers import run as cli
from tests.checks.templates import granular, resource, run
from tests.synth import synth

WORKFLOW_RULES = (
    "StateMachineLogging",
    "StateMachineTracing",
    "StateMachineEncryption",
    "StateMachineTimeout",
    "TaskRetry",
    "TaskTimeout",
)
RETRY = [{"ErrorEquals": ["Lambda.ServiceException"], "MaxAttempts": 3}]
TASK_OK = {
    "Type": "Task",
    "Resource": "arn:aws:states:::lambda:invoke",
    "Retry": RETRY,
    "TimeoutSeconds": 15,
    "End": True,
}
GOOD = {
    "LoggingConfiguration": {
        "Level": "ALL",
        "Destinations": [
            {"CloudWatchLogsLogGroup": {"LogGroupArn": {"Fn::GetAtt": ["Lg", "Arn"]}}}
        ],
    },
    "TracingConfiguration": {"Enabled": True},
    "EncryptionConfiguration": {
        "Type": "CUSTOMER_MANAGED_KMS_KEY",
        "KmsKeyId": {"Fn::GetAtt": ["Key", "Arn"]},
    },
}


def _machine(definition: Any = None, **props: Any) -> dict[str, Any]:
    body = {"StartAt": "A", "TimeoutSeconds": 300, "States": {"A": TASK_OK}}
    merged: dict[str, Any] = {**GOOD, "DefinitionString": json.dumps(definition or body)}
    merged.update(props)
    return resource(
        "AWS::StepFunctions::StateMachine", **{k: v for k, v in merged.items() if v is not None}
    )


def _all(resources: dict[str, Any]) -> dict[str, list[tuple[str, str | None]]]:
    return {rule_id: granular(run(rule_id, resources)) for rule_id in WORKFLOW_RULES}


def test_a_compliant_state_machine_passes_every_rule() -> None:
    assert _all({"Flow": _machine()}) == {rule_id: [] for rule_id in WORKFLOW_RULES}


@pytest.mark.parametrize(
    ("props", "rule_id"),
    [
        ({"LoggingConfiguration": None}, "StateMachineLogging"),
        (
            {"LoggingConfiguration": {**GOOD["LoggingConfiguration"], "Level": "ERROR"}},
            "StateMachineLogging",
        ),
        ({"LoggingConfiguration": {"Level": "ALL"}}, "StateMachineLogging"),
        ({"TracingConfiguration": None}, "StateMachineTracing"),
        ({"TracingConfiguration": {"Enabled": False}}, "StateMachineTracing"),
        ({"EncryptionConfiguration": None}, "StateMachineEncryption"),
        ({"EncryptionConfiguration": {"Type": "AWS_OWNED_KEY"}}, "StateMachineEncryption"),
        (
            {"EncryptionConfiguration": {"Type": "CUSTOMER_MANAGED_KMS_KEY"}},
            "StateMachineEncryption",
        ),
    ],
)
def test_fails_when_a_machine_property_is_missing_or_weak(
    props: dict[str, Any], rule_id: str
) -> None:
    findings = _all({"Flow": _machine(**props)})
    assert findings[rule_id] == [("Flow", None)]
    assert all(not v for k, v in findings.items() if k != rule_id)


def test_fails_when_the_definition_has_no_execution_timeout() -> None:
    body = {"StartAt": "A", "States": {"A": TASK_OK}}
    assert granular(run("StateMachineTimeout", {"Flow": _machine(body)})) == [("Flow", None)]


def test_fails_when_a_task_lacks_retry_or_timeout_also_nested_in_parallel_and_map() -> None:
    no_retry = {k: v for k, v in TASK_OK.items() if k != "Retry"}
    no_timeout = {k: v for k, v in TASK_OK.items() if k != "TimeoutSeconds"}
    body = {
        "StartAt": "A",
        "TimeoutSeconds": 300,
        "States": {
            "A": {**no_retry, "End": False, "Next": "P"},
            "P": {
                "Type": "Parallel",
                "Next": "M",
                "Branches": [
                    {"StartAt": "B", "States": {"B": no_timeout}},
                ],
            },
            "M": {
                "Type": "Map",
                "End": True,
                "ItemProcessor": {
                    "StartAt": "C",
                    "States": {"C": {**no_retry, "TimeoutSecondsPath": "$.t"}},
                },
            },
        },
    }
    resources = {"Flow": _machine(body)}
    assert granular(run("TaskRetry", resources)) == [("Flow", "A"), ("Flow", "M/0/C")]
    assert granular(run("TaskTimeout", resources)) == [("Flow", "P/0/B")]


def test_a_definition_joined_with_intrinsics_is_read_like_cdk_writes_it() -> None:
    # GIVEN the shape CDK writes: the JSON split around a GetAtt inside a string value
    joined = {
        "Fn::Join": [
            "",
            [
                '{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",'
                '"Parameters":{"FunctionName":"',
                {"Fn::GetAtt": ["Fn", "Arn"]},
                '"},"End":true}}}',
            ],
        ]
    }
    resources = {"Flow": _machine(DefinitionString=joined)}
    assert granular(run("TaskRetry", resources)) == [("Flow", "A")]
    assert granular(run("TaskTimeout", resources)) == [("Flow", "A")]
    assert granular(run("StateMachineTimeout", resources)) == [("Flow", None)]


def test_both_branches_of_a_condition_are_judged() -> None:
    good = json.dumps({"StartAt": "A", "TimeoutSeconds": 60, "States": {"A": TASK_OK}})
    bad = json.dumps({"StartAt": "A", "States": {"A": TASK_OK}})
    resources = {"Flow": _machine(DefinitionString={"Fn::If": ["Prod", good, bad]})}
    assert granular(run("StateMachineTimeout", resources)) == [("Flow", None)]


def test_the_object_form_and_literal_substitutions_are_read() -> None:
    body = {"StartAt": "A", "TimeoutSeconds": 60, "States": {"A": TASK_OK}}
    assert run("TaskRetry", {"Flow": _machine(DefinitionString=None, Definition=body)}) == []
    text = json.dumps(body).replace("60", "${Limit}")
    substituted = _machine(DefinitionString=text, DefinitionSubstitutions={"Limit": 60})
    assert run("StateMachineTimeout", {"Flow": substituted}) == []


@pytest.mark.parametrize(
    "props",
    [
        {"DefinitionString": None, "DefinitionS3Location": {"Bucket": "b", "Key": "k"}},
        {"DefinitionString": '{"StartAt": "A", "TimeoutSeconds": '},
        {"DefinitionString": {"Fn::Join": ["", ['{"TimeoutSeconds":', {"Ref": "Limit"}, "}"]]}},
        {"DefinitionString": None},
    ],
)
def test_fails_closed_when_the_definition_cannot_be_read(props: dict[str, Any]) -> None:
    resources = {"Flow": _machine(**props)}
    assert granular(run("StateMachineTimeout", resources)) == [("Flow", None)]
    assert granular(run("TaskRetry", resources)) == [("Flow", "Definition")]
    assert granular(run("TaskTimeout", resources)) == [("Flow", "Definition")]


# --- hand-written YAML, through `secure-constructs audit` -------------------------------------


def _audit(capsys: pytest.CaptureFixture[str], name: str) -> tuple[int, set[str]]:
    result = cli(capsys, "audit", FIXTURES / "templates" / name, "--format", "json")
    found = {
        f["rule"]
        for f in json.loads(result.out)["findings"]
        if f["rule"].split("[")[0] in WORKFLOW_RULES
    }
    return result.code, found


def test_hand_written_yaml_non_compliant(capsys: pytest.CaptureFixture[str]) -> None:
    code, found = _audit(capsys, "workflow_bad.yaml")
    assert code == 1
    assert found == {
        "StateMachineLogging",
        "StateMachineTracing",
        "StateMachineEncryption",
        "StateMachineTimeout",
        "TaskRetry[First]",
        "TaskTimeout[Both/0/Inner]",
    }


def test_hand_written_yaml_compliant(capsys: pytest.CaptureFixture[str]) -> None:
    code, found = _audit(capsys, "workflow_ok.yaml")
    assert (code, found) == (0, set())


# --- CDK ---------------------------------------------------------------------------------------


def _ours(result: Any) -> set[str]:
    return {
        r
        for p, r, _ in result.violations
        if p == "SecureServerless" and r.split("[")[0] in WORKFLOW_RULES
    }


def _fn(stack: cdk.Stack) -> lambda_.Function:
    return lambda_.Function(
        stack,
        "Fn",
        code=lambda_.Code.from_inline("def handler(e, c): pass"),
        handler="index.handler",
        runtime=lambda_.Runtime.PYTHON_3_13,
        timeout=cdk.Duration.seconds(10),
    )


def test_cdk_plain_state_machine_is_flagged() -> None:
    def build(stack: cdk.Stack) -> None:
        task = sfn_tasks.LambdaInvoke(
            stack, "Call", lambda_function=_fn(stack), retry_on_service_exceptions=False
        )
        sfn.StateMachine(stack, "Flow", definition_body=sfn.DefinitionBody.from_chainable(task))

    assert _ours(synth(build)) == {
        "StateMachineLogging",
        "StateMachineTracing",
        "StateMachineEncryption",
        "StateMachineTimeout",
        "TaskRetry[Call]",
        "TaskTimeout[Call]",
    }


def test_cdk_secure_state_machine_passes_the_workflow_rules() -> None:
    from secure_constructs import SecureStateMachine

    def build(stack: cdk.Stack) -> None:
        task = SecureStateMachine.lambda_task(stack, "Call", _fn(stack))
        SecureStateMachine(stack, "Flow", definition_body=sfn.DefinitionBody.from_chainable(task))

    assert _ours(synth(build)) == set()


# --- attacker review: retriers that retry nothing; conditions and intrinsics in Definition ---


@pytest.mark.parametrize(
    ("retry", "flagged"),
    [
        ([{"ErrorEquals": ["Never.Happens"], "MaxAttempts": 3}], True),
        ([{"ErrorEquals": ["States.ALL"], "MaxAttempts": 0}], True),
        ([{"ErrorEquals": ["States.Timeout"]}], True),
        (["States.ALL"], True),
        ([{"ErrorEquals": ["States.ALL"]}], False),
        ([{"ErrorEquals": ["States.TaskFailed"], "MaxAttempts": 2}], False),
        ([{"ErrorEquals": ["Lambda.TooManyRequestsException"], "MaxAttempts": 1}], False),
    ],
)
def test_a_retry_must_retry_a_transient_error(retry: list[Any], flagged: bool) -> None:
    body = {"StartAt": "A", "TimeoutSeconds": 300, "States": {"A": {**TASK_OK, "Retry": retry}}}
    findings = granular(run("TaskRetry", {"Flow": _machine(body)}))
    assert findings == ([("Flow", "A")] if flagged else [])


BAD_TASK = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True}


@pytest.mark.parametrize(
    "definition",
    [
        {
            "StartAt": "A",
            "TimeoutSeconds": 300,
            "States": {"A": {"Fn::If": ["C", TASK_OK, BAD_TASK]}},
        },
        {
            "StartAt": "A",
            "TimeoutSeconds": 300,
            "States": {"Fn::If": ["C", {"A": TASK_OK}, {"A": BAD_TASK}]},
        },
        {
            "StartAt": "A",
            "TimeoutSeconds": 300,
            "States": {
                "A": {**TASK_OK, "Retry": {"Fn::If": ["C", RETRY, {"Ref": "AWS::NoValue"}]}}
            },
        },
    ],
)
def test_each_branch_of_a_condition_in_the_definition_object_is_judged(
    definition: dict[str, Any],
) -> None:
    resources = {"Flow": _machine(DefinitionString=None, Definition=definition)}
    assert granular(run("TaskRetry", resources)) == [("Flow", "A")]
    both_good = {
        "StartAt": "A",
        "TimeoutSeconds": 300,
        "States": {"A": {"Fn::If": ["C", TASK_OK, TASK_OK]}},
    }
    assert run("TaskRetry", {"Flow": _machine(DefinitionString=None, Definition=both_good)}) == []


@pytest.mark.parametrize(
    "states",
    [
        {"Ref": "States"},
        {"A": {"Fn::ImportValue": "State"}},
        {"A": {**TASK_OK, "Retry": {"Fn::GetAtt": ["X", "Retry"]}}},
        {"A": {**TASK_OK, "TimeoutSeconds": {"Ref": "T"}}},
        {"A": "a state"},
        {"A": {"Resource": "arn:aws:states:::lambda:invoke", "End": True}},
    ],
)
def test_an_intrinsic_or_a_malformed_state_in_the_definition_is_unreadable(
    states: Any,
) -> None:
    definition = {"StartAt": "A", "TimeoutSeconds": 300, "States": states}
    resources = {"Flow": _machine(DefinitionString=None, Definition=definition)}
    assert granular(run("TaskRetry", resources)) == [("Flow", "Definition")]
    assert granular(run("TaskTimeout", resources)) == [("Flow", "Definition")]


RETRY_YAML = """
Resources:
  Flow:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      RoleArn: arn:aws:iam::111122223333:role/flow
      Definition:
        StartAt: A
        TimeoutSeconds: 300
        States:
          A:
            Type: Task
            Resource: arn:aws:states:::lambda:invoke
            TimeoutSeconds: 15
            End: true
            Retry: [{ErrorEquals: [ERRORS], MaxAttempts: 2}]
"""


@pytest.mark.parametrize(("errors", "flagged"), [("Never.Happens", True), ("States.ALL", False)])
def test_hand_written_yaml_retry_through_the_audit(
    errors: str, flagged: bool, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "flow.yaml"
    path.write_text(RETRY_YAML.replace("ERRORS", errors))
    result = cli(capsys, "audit", path, "--format", "json", "--fail-on", "never")
    assert result.code == 0, result.err
    rules = {f["rule"] for f in json.loads(result.out)["findings"]}
    assert ("TaskRetry[A]" in rules) is flagged


@pytest.mark.parametrize("errors", [["Never.Happens"], ["States.ALL"]])
def test_cdk_task_retrying_nothing_is_flagged(errors: list[str]) -> None:
    def build(stack: cdk.Stack) -> None:
        task = sfn_tasks.LambdaInvoke(
            stack,
            "Call",
            lambda_function=_fn(stack),
            retry_on_service_exceptions=False,
            task_timeout=sfn.Timeout.duration(cdk.Duration.seconds(15)),
        )
        task.add_retry(errors=errors, max_attempts=2)
        sfn.StateMachine(stack, "Flow", definition_body=sfn.DefinitionBody.from_chainable(task))

    assert ("TaskRetry[Call]" in _ours(synth(build))) is (errors == ["Never.Happens"])
