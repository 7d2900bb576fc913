"""Issue 12's secret forms in every place a CDK user can put them: the synth fails, and
`secure-constructs audit` reports each on the synthesized template and on an equivalent
hand-written YAML. One synth for all of them (module fixture); refusals at construction."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
import yaml
from aws_cdk import assertions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm

from secure_constructs import SecureFunction, SecureSecret, ValidationError
from secure_constructs.secret import SecretRotation
from tests.audit.helpers import run
from tests.checks.secret_forms import FORMS, pascal
from tests.synth import Synthesized, synth

CODE = "def handler(event, context):\n    return None\n"
TOKEN = "ghp_" + "a1B2" * 9


def _env_name(i: int, name: str) -> str:
    return f"{name}_{i}"


def _id(i: int, name: str) -> str:
    return f"F{i}{pascal(name)}"  # the index first: `Pw0` would not read as the word PW


# place -> the JSON pointer prefix where the audit must report form i
def _pointers(i: int, name: str, queue: str, function: str) -> dict[str, str]:
    return {
        "lambda environment": f"/Resources/{function}/Properties/Environment/Variables/"
        f"{_env_name(i, name)}",
        "output": f"/Outputs/{_id(i, name)}Out/Value",
        "tag": f"/Resources/{queue}/Properties/Tags/",
        "parameter default": f"/Parameters/{_id(i, name)}/Default",
        "mapping": f"/Mappings/Forms/prod/{_id(i, name)}",
        "resource metadata": f"/Resources/{queue}/Metadata/{_env_name(i, name)}",
        "ssm string parameter": f"/Resources/Ssm{i}",
    }


def _build(stack: cdk.Stack) -> None:
    function = lambda_.Function(
        stack,
        "Fn",
        code=lambda_.Code.from_inline(CODE),
        handler="index.handler",
        runtime=lambda_.Runtime.PYTHON_3_13,
        environment={_env_name(i, n): v for i, (n, v) in enumerate(FORMS)},
    )
    # A plain SSM String parameter read under a password name (not encrypted).
    function.add_environment(
        "SMTP_PASSWORD", ssm.StringParameter.value_for_string_parameter(stack, "/prod/smtp")
    )
    # The same, through an imported parameter, and an owned one's GetAtt Value.
    imported = ssm.StringParameter.from_string_parameter_name(stack, "Smtp2", "/prod/smtp2")
    function.add_environment("SMTP_PASS", imported.string_value)
    owned = ssm.StringParameter(stack, "Owned", string_value="hunter22")
    function.add_environment("LDAP_PW", owned.string_value)
    queue = sqs.CfnQueue(stack, "Queue")
    mapping: dict[str, dict[str, Any]] = {"prod": {}}
    for i, (name, value) in enumerate(FORMS):
        cdk.CfnOutput(stack, f"{_id(i, name)}Out", value=value)
        cdk.Tags.of(queue).add(_env_name(i, name), value)
        ssm.StringParameter(
            stack, f"Ssm{i}", parameter_name=f"/app/{_env_name(i, name)}", string_value=value
        )
        cdk.CfnParameter(stack, _id(i, name), default=value)
        mapping["prod"][_id(i, name)] = value
        queue.add_metadata(_env_name(i, name), value)
    cdk.CfnMapping(stack, "Forms", mapping=mapping)
    cdk.CfnParameter(stack, "AdminPassword", no_echo=True, default="whatever")
    secretsmanager.Secret(
        stack,
        "Plain",
        generate_secret_string=secretsmanager.SecretStringGenerator(
            secret_string_template=json.dumps({"username": "admin", "password": "Hunter2!"}),
            generate_string_key="apiKey",
        ),
    )


@pytest.fixture(scope="module")
def synthesized() -> Synthesized:
    return synth(_build)


def _audit_pointers(capsys: pytest.CaptureFixture[str], path: Path) -> list[str]:
    result = run(capsys, "audit", path, "--format", "json")
    assert result.code == 1, result.err
    report = json.loads(result.out)
    return [
        f["pointer"]
        for f in report["findings"]
        if f["rule"].split("[")[0] in ("PlaintextSecret", "LambdaEnvironmentSecret")
    ]


def _ids(template: dict[str, Any]) -> tuple[str, str]:
    resources = template["Resources"]
    queue = next(k for k, v in resources.items() if v["Type"] == "AWS::SQS::Queue")
    function = next(k for k, v in resources.items() if v["Type"] == "AWS::Lambda::Function")
    return queue, function


def _assert_every_form_in_every_place(pointers: list[str], queue: str, function: str) -> None:
    missing = [
        (place, name)
        for i, (name, _) in enumerate(FORMS)
        for place, prefix in _pointers(i, name, queue, function).items()
        if not any(p.startswith(prefix) for p in pointers)
    ]
    assert missing == []


def test_the_synth_fails_on_the_secret_rules(synthesized: Synthesized) -> None:
    assert synthesized.failed
    ids = {rule.split("[")[0] for rule in synthesized.violation_ids()}
    assert {"PlaintextSecret", "LambdaEnvironmentSecret"} <= ids


def test_the_audit_reports_every_form_in_every_place_of_the_synthesized_template(
    synthesized: Synthesized, capsys: pytest.CaptureFixture[str]
) -> None:
    pointers = _audit_pointers(capsys, synthesized.outdir / "Test.template.json")
    queue, function = _ids(synthesized.template)
    _assert_every_form_in_every_place(pointers, queue, function)
    assert any(p == "/Parameters/AdminPassword/Default" for p in pointers)
    for variable in ("SMTP_PASSWORD", "SMTP_PASS", "LDAP_PW"):
        assert any(p.endswith(f"/Environment/Variables/{variable}") for p in pointers)
    assert any("GenerateSecretString/SecretStringTemplate" in p for p in pointers)


def _hand_written() -> dict[str, Any]:
    """The same places, written as a user writes CloudFormation (no CDK)."""
    variables = {_env_name(i, n): v for i, (n, v) in enumerate(FORMS)}
    variables["SMTP_PASSWORD"] = {"Ref": "SmtpParameter"}
    body: dict[str, Any] = {
        "Parameters": {
            "SmtpParameter": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/smtp"},
            "AdminPassword": {"Type": "String", "NoEcho": True, "Default": "whatever"},
        },
        "Mappings": {"Forms": {"prod": {}}},
        "Resources": {
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Runtime": "python3.13",
                    "Handler": "index.handler",
                    "Role": "arn:aws:iam::123456789012:role/fn",
                    "Code": {"ZipFile": CODE},
                    "Environment": {"Variables": variables},
                },
            },
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"Tags": []}, "Metadata": {}},
        },
        "Outputs": {},
    }
    for i, (name, value) in enumerate(FORMS):
        body["Outputs"][f"{_id(i, name)}Out"] = {"Value": value}
        body["Resources"]["Queue"]["Properties"]["Tags"].append(
            {"Key": _env_name(i, name), "Value": value}
        )
        body["Resources"]["Queue"]["Metadata"][_env_name(i, name)] = value
        body["Resources"][f"Ssm{i}"] = {
            "Type": "AWS::SSM::Parameter",
            "Properties": {"Type": "String", "Name": f"/app/{_env_name(i, name)}", "Value": value},
        }
        body["Parameters"][_id(i, name)] = {"Type": "String", "Default": value}
        body["Mappings"]["Forms"]["prod"][_id(i, name)] = value
    return body


def test_the_audit_reports_every_form_in_every_place_of_a_hand_written_yaml(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "handwritten.yaml"
    path.write_text(yaml.safe_dump(_hand_written()), encoding="utf-8")
    pointers = _audit_pointers(capsys, path)
    _assert_every_form_in_every_place(pointers, "Queue", "Fn")
    assert "/Parameters/AdminPassword/Default" in pointers
    assert "/Resources/Fn/Properties/Environment/Variables/SMTP_PASSWORD" in pointers


def test_a_compliant_stack_has_no_secret_findings(capsys: pytest.CaptureFixture[str]) -> None:
    def build(stack: cdk.Stack) -> None:
        cdk.CfnOutput(stack, "QueueUrl", value=sqs.Queue(stack, "Q").queue_url)
        cdk.CfnParameter(stack, "DbPassword", no_echo=True)
        ssm.StringParameter(stack, "Level", parameter_name="/app/LOG_LEVEL", string_value="INFO")

    result = synth(build)
    assert not {r.split("[")[0] for r in result.violation_ids()} & {
        "PlaintextSecret",
        "LambdaEnvironmentSecret",
    }


# --- refusals at construction ---------------------------------------------------------------


@pytest.fixture
def stack() -> cdk.Stack:
    return cdk.Stack()


@pytest.mark.parametrize(("name", "value"), FORMS)
def test_fails_when_add_environment_gets_a_secret(stack: cdk.Stack, name: str, value: str) -> None:
    function = SecureFunction(
        stack, "Fn", code=lambda_.Code.from_inline(CODE), handler="index.handler"
    )
    with pytest.raises(ValidationError, match=rf"^add_environment\['{name}'\]=") as error:
        function.add_environment(name, value)
    assert value not in str(error.value)


@pytest.mark.parametrize(("name", "value"), FORMS)
def test_fails_when_environment_gets_a_secret(stack: cdk.Stack, name: str, value: str) -> None:
    with pytest.raises(ValidationError, match=rf"^environment\['{name}'\]=") as error:
        SecureFunction(
            stack,
            "Fn",
            code=lambda_.Code.from_inline(CODE),
            handler="index.handler",
            environment={name: value},
        )
    assert value not in str(error.value)


def test_add_environment_keeps_plain_configuration(stack: cdk.Stack) -> None:
    function = SecureFunction(
        stack, "Fn", code=lambda_.Code.from_inline(CODE), handler="index.handler"
    )
    function.add_environment("POWERTOOLS_LOG_LEVEL", "INFO")
    template = assertions.Template.from_stack(stack).to_json()
    (fn,) = (r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function")
    assert fn["Properties"]["Environment"]["Variables"]["POWERTOOLS_LOG_LEVEL"] == "INFO"


def _secret(stack: cdk.Stack, **options: Any) -> SecureSecret:
    return SecureSecret(
        stack,
        "Secret",
        rotation=SecretRotation.none(reason="a partner API key, renewed by hand every quarter"),
        **options,
    )


@pytest.mark.parametrize(
    "template",
    [
        {"username": "admin", "password": "Hunter2!Hunter2!"},
        {"username": "admin", "api_token": "x"},
        {"username": "admin", "note": TOKEN},
    ],
)
def test_fails_when_a_secret_string_template_holds_a_secret(
    stack: cdk.Stack, template: dict[str, str]
) -> None:
    generator = secretsmanager.SecretStringGenerator(
        secret_string_template=json.dumps(template), generate_string_key="apiKey"
    )
    with pytest.raises(ValidationError, match="secret_string_template") as error:
        _secret(stack, generate_secret_string=generator)
    assert "Hunter2" not in str(error.value) and TOKEN not in str(error.value)


def test_a_secret_string_template_with_a_username_passes(stack: cdk.Stack) -> None:
    generator = secretsmanager.SecretStringGenerator(
        secret_string_template=json.dumps({"username": "admin", "engine": "postgres"}),
        generate_string_key="password",
    )
    _secret(stack, generate_secret_string=generator)


def test_fails_when_a_secret_value_is_backed_by_a_cfn_parameter(stack: cdk.Stack) -> None:
    parameter = cdk.CfnParameter(stack, "DbPassword", no_echo=True)
    with pytest.raises(ValidationError, match="CfnParameter-backed"):
        _secret(stack, secret_string_value=cdk.SecretValue.cfn_parameter(parameter))
    with pytest.raises(ValidationError, match="CfnParameter-backed"):
        _secret(
            stack,
            secret_object_value={"password": cdk.SecretValue.cfn_parameter(parameter)},
        )
