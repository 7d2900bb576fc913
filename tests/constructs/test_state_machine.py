"""SecureStateMachine and SecureLambdaInvoke: every default asserted on the template, every
refusal, and a two-task workflow (VPC functions) clean under all six packs."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn

from secure_constructs import SecureFunction, SecureLambdaInvoke, SecureStateMachine
from secure_constructs.checks.cfn import renderings
from secure_constructs.errors import ValidationError
from secure_constructs.facts.stepfunctions_facts import (
    LAMBDA_TRANSIENT_ERRORS,
    LOG_DELIVERY_ACTIONS,
    XRAY_ACTIONS,
)
from tests.synth import ALL_COMPLIANCE, Synthesized, arn, ref, statements, synth
from tests.vpc import acknowledge_test_vpc, compliant_vpc


def _fn(stack: cdk.Stack, name: str, **props: Any) -> SecureFunction:
    return SecureFunction(
        stack, name, code=lambda_.Code.from_inline("def h(e, c): pass"), handler="index.h", **props
    )


def _flow(stack: cdk.Stack, **fn_props: Any) -> SecureStateMachine:
    first = SecureStateMachine.lambda_task(stack, "First", _fn(stack, "Fn1", **fn_props))
    second = SecureStateMachine.lambda_task(stack, "Second", _fn(stack, "Fn2", **fn_props))
    return SecureStateMachine(
        stack, "Flow", definition_body=sfn.DefinitionBody.from_chainable(first.next(second))
    )


@pytest.fixture(scope="module")
def clean() -> Synthesized:
    def build(stack: cdk.Stack) -> None:
        _flow(stack, vpc=compliant_vpc(stack), reserved_concurrent_executions=2)
        acknowledge_test_vpc(stack)

    return synth(build, compliance=ALL_COMPLIANCE)


def _id(s: Synthesized, type_: str, path: str) -> str:
    [found] = [
        k
        for k, v in s.resources(type_).items()
        if v.get("Metadata", {}).get("aws:cdk:path", "").startswith(path)
    ]
    return found


def _machine(s: Synthesized) -> dict[str, Any]:
    return s.props("AWS::StepFunctions::StateMachine")


def _definition(s: Synthesized) -> dict[str, Any]:
    [text] = renderings(_machine(s)["DefinitionString"])  # the GetAtts as placeholders
    definition: dict[str, Any] = json.loads(text, strict=False)
    return definition


def test_two_task_workflow_is_clean_under_all_six_packs(clean: Synthesized) -> None:
    library = [v for v in clean.violations if "/Vpc" not in v[2]]
    assert library == []
    assert not clean.failed, clean.violations


def test_logs_at_all_without_execution_data_to_its_own_encrypted_log_group(
    clean: Synthesized,
) -> None:
    config = _machine(clean)["LoggingConfiguration"]
    assert config["Level"] == "ALL"
    assert config["IncludeExecutionData"] is False
    group = _id(clean, "AWS::Logs::LogGroup", "Test/FlowLogGroup/")
    assert config["Destinations"] == [{"CloudWatchLogsLogGroup": {"LogGroupArn": arn(group)}}]
    props = clean.template["Resources"][group]["Properties"]
    assert props["RetentionInDays"] == 365
    key = _id(clean, "AWS::KMS::Key", "Test/SecureConstructsKey/")
    assert props["KmsKeyId"] == arn(key)


def test_tracing_encryption_and_timeout(clean: Synthesized) -> None:
    machine = _machine(clean)
    key = _id(clean, "AWS::KMS::Key", "Test/SecureConstructsKey/")
    assert machine["TracingConfiguration"] == {"Enabled": True}
    assert machine["EncryptionConfiguration"] == {
        "Type": "CUSTOMER_MANAGED_KMS_KEY",
        "KmsKeyId": arn(key),
        "KmsDataKeyReusePeriodSeconds": 300,
    }
    assert _definition(clean)["TimeoutSeconds"] == 300


def test_each_lambda_task_retries_transient_errors_with_backoff_and_jitter(
    clean: Synthesized,
) -> None:
    states = _definition(clean)["States"]
    assert set(states) == {"First", "Second"}
    for state in states.values():
        assert state["TimeoutSeconds"] == 15  # the function's 10 s plus 5
        assert state["Retry"] == [
            {
                "ErrorEquals": list(LAMBDA_TRANSIENT_ERRORS),
                "IntervalSeconds": 1,
                "MaxAttempts": 3,
                "BackoffRate": 2,
                "MaxDelaySeconds": 30,
                "JitterStrategy": "FULL",
            }
        ]
    assert set(LAMBDA_TRANSIENT_ERRORS) == {
        "Lambda.ServiceException",
        "Lambda.AWSLambdaException",
        "Lambda.SdkClientException",
        "Lambda.TooManyRequestsException",
    }


@pytest.mark.parametrize(
    ("name", "metric"),
    [
        ("FailedAlarm", "ExecutionsFailed"),
        ("TimedOutAlarm", "ExecutionsTimedOut"),
        ("ThrottledAlarm", "ExecutionThrottled"),
    ],
)
def test_three_alarms_notify_the_stack_topic(clean: Synthesized, name: str, metric: str) -> None:
    alarm = clean.template["Resources"][_id(clean, "AWS::CloudWatch::Alarm", f"Test/Flow/{name}/")]
    props = alarm["Properties"]
    machine = _id(clean, "AWS::StepFunctions::StateMachine", "Test/Flow/Resource")
    topic = _id(clean, "AWS::SNS::Topic", "Test/SecureConstructsAlarmTopic/")
    assert (props["Namespace"], props["MetricName"]) == ("AWS/States", metric)
    assert props["Dimensions"] == [{"Name": "StateMachineArn", "Value": ref(machine)}]
    assert (props["Statistic"], props["Period"]) == ("Sum", 60)
    assert (props["Threshold"], props["ComparisonOperator"]) == (0, "GreaterThanThreshold")
    assert props["AlarmActions"] == [ref(topic)]


def test_role_is_assumable_for_this_state_machine_only(clean: Synthesized) -> None:
    role = clean.template["Resources"][_id(clean, "AWS::IAM::Role", "Test/FlowRole/")]
    [trust] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    name = _machine(clean)["StateMachineName"]
    assert trust["Principal"] == {"Service": "states.amazonaws.com"}
    source = trust["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Join"][1]
    assert source[-1] == f":stateMachine:{name}"
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": ref("AWS::AccountId")}
    assert "Policies" not in role["Properties"]  # no inline policy


def test_role_holds_exactly_what_its_tasks_and_key_need(clean: Synthesized) -> None:
    scoped = statements(
        clean.template, _id(clean, "AWS::IAM::ManagedPolicy", "Test/FlowRole/Policy/")
    )
    key = arn(_id(clean, "AWS::KMS::Key", "Test/SecureConstructsKey/"))
    fns = [arn(_id(clean, "AWS::Lambda::Function", f"Test/Fn{i}/Resource")) for i in (1, 2)]
    invokes = [s for s in scoped if s["Action"] == ["lambda:InvokeFunction"]]
    assert [s["Resource"] for s in invokes] == [[fn] for fn in fns]  # no `<arn>:*`
    kms = [s for s in scoped if s["Action"][0].startswith("kms:")]
    assert [(s["Action"], s["Resource"]) for s in kms] == [
        (["kms:Decrypt", "kms:GenerateDataKey"], [key]),
        (["kms:GenerateDataKey"], [key]),
    ]
    context = kms[0]["Condition"]["StringEquals"][
        "kms:EncryptionContext:aws:states:stateMachineArn"
    ]
    assert context["Fn::Join"][1][-1] == f":stateMachine:{_machine(clean)['StateMachineName']}"
    logs_source = kms[1]["Condition"]["StringEquals"]["kms:EncryptionContext:SourceArn"]
    assert logs_source["Fn::Join"][1][-1] == ":*"
    assert len(scoped) == 4
    star = statements(
        clean.template, _id(clean, "AWS::IAM::ManagedPolicy", "Test/FlowRole/StarOnlyPolicy/")
    )
    assert {a for s in star for a in s["Action"]} == {*LOG_DELIVERY_ACTIONS, *XRAY_ACTIONS}
    assert all(s["Resource"] == ["*"] for s in star)
    acknowledged = {(r, p) for _, r, p, _ in clean.acknowledged if "FlowRole" in p}
    assert acknowledged == {
        ("AwsSolutions-IAM5[Resource::*]", "Test/FlowRole/StarOnlyPolicy/Resource")
    }


def test_key_lets_log_delivery_decrypt_only_this_accounts_log_events(clean: Synthesized) -> None:
    key = clean.template["Resources"][_id(clean, "AWS::KMS::Key", "Test/SecureConstructsKey/")]
    found = [
        s
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if s.get("Principal") == {"Service": "delivery.logs.amazonaws.com"}
    ]
    assert len(found) == 1
    [statement] = found
    assert statement["Action"] == "kms:Decrypt"
    source = statement["Condition"]["StringEquals"]["kms:EncryptionContext:SourceArn"]
    assert source["Fn::Join"][1] == [
        "arn:",
        ref("AWS::Partition"),
        ":logs:",
        ref("AWS::Region"),
        ":",
        ref("AWS::AccountId"),
        ":*",
    ]


def test_a_stack_without_a_state_machine_has_no_log_delivery_statement() -> None:
    s = synth(lambda stack: _fn(stack, "Fn"), checks=False)
    key = s.only("AWS::KMS::Key")[1]
    assert "delivery.logs.amazonaws.com" not in json.dumps(key)


def test_alarms_and_role_are_exposed(clean: Synthesized) -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "S")
    flow = _flow(stack)
    assert [a.node.id for a in flow.alarms] == ["FailedAlarm", "TimedOutAlarm", "ThrottledAlarm"]
    assert flow.acknowledgement_targets() == [flow.execution_role, flow.state_machine_log_group]
    assert flow.timeout_seconds == 300


# --- refused input ---------------------------------------------------------------------------


def _definition_of(task: sfn.IChainable) -> sfn.DefinitionBody:
    return sfn.DefinitionBody.from_chainable(task)


def test_fails_when_the_function_outlives_the_task_timeout() -> None:
    stack = cdk.Stack()
    fn = _fn(stack, "Fn", timeout=cdk.Duration.seconds(60))
    with pytest.raises(
        ValidationError, match=r"^timeout='30 seconds'.*function's timeout \(60 seconds\)"
    ):
        SecureStateMachine.lambda_task(stack, "T", fn, timeout=cdk.Duration.seconds(30))


def test_a_task_timeout_equal_to_the_function_timeout_is_accepted() -> None:
    stack = cdk.Stack()
    fn = _fn(stack, "Fn", timeout=cdk.Duration.seconds(60))
    task = SecureStateMachine.lambda_task(stack, "T", fn, timeout=cdk.Duration.seconds(60))
    assert task.timeout_seconds == 60


def test_fails_when_the_execution_timeout_is_shorter_than_a_task_timeout() -> None:
    stack = cdk.Stack()
    task = SecureStateMachine.lambda_task(
        stack, "T", _fn(stack, "Fn", timeout=cdk.Duration.seconds(120))
    )
    with pytest.raises(ValidationError, match=r"^timeout='60 seconds'.*task 'T' \(125 seconds\)"):
        SecureStateMachine(
            stack, "Flow", definition_body=_definition_of(task), timeout=cdk.Duration.seconds(60)
        )


def test_fails_at_synth_when_a_task_in_a_parallel_branch_outlives_the_execution() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "S")
    task = SecureStateMachine.lambda_task(
        stack, "Inner", _fn(stack, "Fn", timeout=cdk.Duration.seconds(120))
    )
    both = sfn.Parallel(stack, "Both").branch(task)
    SecureStateMachine(
        stack, "Flow", definition_body=_definition_of(both), timeout=cdk.Duration.seconds(60)
    )
    with pytest.raises(RuntimeError, match=r"shorter than the timeout of task 'Both/0/Inner'"):
        app.synth()


def test_a_parallel_branch_within_the_execution_timeout_synthesizes() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "S")
    task = SecureStateMachine.lambda_task(stack, "Inner", _fn(stack, "Fn"))
    both = sfn.Parallel(stack, "Both").branch(task)
    SecureStateMachine(stack, "Flow", definition_body=_definition_of(both))
    assert app.synth().get_stack_by_name("S").template


def test_fails_when_an_imported_function_has_no_task_timeout() -> None:
    stack = cdk.Stack()
    fn = lambda_.Function.from_function_arn(
        stack, "Imported", "arn:aws:lambda:us-east-1:111122223333:function:x"
    )
    with pytest.raises(ValidationError, match=r"^timeout=None.*not known"):
        SecureLambdaInvoke(stack, "T", lambda_function=fn)
    task = SecureLambdaInvoke(stack, "T2", lambda_function=fn, timeout=cdk.Duration.seconds(20))
    assert task.timeout_seconds == 20


@pytest.mark.parametrize(
    ("props", "prop_name"),
    [
        ({"timeout": cdk.Duration.seconds(0)}, "timeout"),
        ({"timeout": cdk.Duration.days(2)}, "timeout"),
        (
            {
                "timeout": cdk.Duration.minutes(10),
                "state_machine_type": sfn.StateMachineType.EXPRESS,
            },
            "timeout",
        ),
        ({"role": "a role"}, "role"),
        ({"logs": "logs"}, "logs"),
        ({"encryption_configuration": "x"}, "encryption_configuration"),
        ({"definition": "x"}, "definition"),
        ({"log_retention": cdk.aws_logs.RetentionDays.INFINITE}, "log_retention"),
        ({"alarm_emails": ["not-an-address"]}, "alarm_emails"),
    ],
)
def test_fails_when_a_state_machine_prop_is_refused(props: dict[str, Any], prop_name: str) -> None:
    stack = cdk.Stack()
    body = _definition_of(sfn.Pass(stack, "P"))
    with pytest.raises(ValidationError, match=rf"^{prop_name}="):
        SecureStateMachine(stack, "Flow", definition_body=body, **props)


@pytest.mark.parametrize(
    ("props", "prop_name"),
    [
        ({"retry_attempts": 0}, "retry_attempts"),
        ({"retry_attempts": 11}, "retry_attempts"),
        ({"timeout": cdk.Duration.seconds(0)}, "timeout"),
        ({"timeout": cdk.Duration.seconds(1000)}, "timeout"),
        ({"task_timeout": sfn.Timeout.duration(cdk.Duration.seconds(5))}, "task_timeout"),
        ({"retry_on_service_exceptions": True}, "retry_on_service_exceptions"),
        ({"qualifier": "live"}, "qualifier"),
    ],
)
def test_fails_when_a_lambda_task_prop_is_refused(props: dict[str, Any], prop_name: str) -> None:
    stack = cdk.Stack()
    with pytest.raises(ValidationError, match=rf"^{prop_name}="):
        SecureStateMachine.lambda_task(stack, "T", _fn(stack, "Fn"), **props)


def test_downgrades_warn() -> None:
    stack = cdk.Stack()
    flow = SecureStateMachine(
        stack,
        "Flow",
        definition_body=_definition_of(sfn.Pass(stack, "P")),
        log_level=sfn.LogLevel.ERROR,
        include_execution_data=True,
        tracing_enabled=False,
    )
    text = " ".join(str(m.data) for m in flow.node.metadata if m.type == "aws:cdk:warning")
    assert "log_level=" in text and "include_execution_data=True" in text
    assert "tracing_enabled=False" in text


def test_the_workflow_has_its_row_on_the_stack_dashboard(clean: Synthesized) -> None:
    from tests.constructs.test_observability import _metrics_of, dashboard_body

    widgets = dashboard_body(clean)["widgets"]
    titles = [w["properties"]["markdown"] for w in widgets if w["type"] == "text"]
    assert titles[-1] == "### Workflow Test/Flow"  # after the two functions' rows
    row = widgets[[w.get("properties", {}).get("markdown") for w in widgets].index(titles[-1]) :]
    graphs = {w["properties"]["title"]: w for w in row if w["type"] == "metric"}
    name = _machine(clean)["StateMachineName"]
    failures = _metrics_of(graphs["Failed / timed out / throttled"])
    assert [m[:3] for m in failures] == [
        ["AWS/States", "ExecutionsFailed", "StateMachineArn"],
        ["AWS/States", "ExecutionsTimedOut", "StateMachineArn"],
        ["AWS/States", "ExecutionThrottled", "StateMachineArn"],
    ]
    assert all(str(m[3]).endswith(f":stateMachine:{name}") for m in failures), failures
    timing = graphs["p99 execution time vs timeout (ms)"]
    assert _metrics_of(timing)[0][:2] == ["AWS/States", "ExecutionTime"]
    [line] = timing["properties"]["annotations"]["horizontal"]
    assert (line["label"], line["value"]) == ("timeout", 300_000)


@pytest.mark.parametrize(("task_seconds", "refused"), [("3600", True), ("60", False)])
def test_the_synth_check_reads_definition_substitutions(task_seconds: str, refused: bool) -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "S")
    text = json.dumps(
        {
            "StartAt": "Call",
            "TimeoutSeconds": 300,
            "States": {
                "Call": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "Retry": [{"ErrorEquals": ["States.ALL"]}],
                    "TimeoutSeconds": "${T}",
                    "End": True,
                }
            },
        }
    ).replace('"${T}"', "${T}")
    SecureStateMachine(
        stack,
        "Flow",
        definition_body=sfn.DefinitionBody.from_string(text),
        definition_substitutions={"T": task_seconds},
    )
    if refused:
        with pytest.raises(RuntimeError, match=r"shorter than the timeout of task 'Call'"):
            app.synth()
    else:
        assert app.synth().get_stack_by_name("S").template
