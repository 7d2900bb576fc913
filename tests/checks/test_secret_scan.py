"""The secret scan over every template string (checks/secret_scan.py), on small template dicts:
each detector path with a non-compliant and a compliant case, each place, each intrinsic, and
a benign corpus at zero findings."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

from secure_constructs.checks.model import Finding, Template
from secure_constructs.checks.registry import RULES
from secure_constructs.checks.secret_scan import scan
from tests.checks.secret_forms import BENIGN, FORMS, b64, pascal
from tests.checks.templates import function, resource

SECRET_RULES = ("PlaintextSecret", "LambdaEnvironmentSecret")


def findings(body: dict[str, Any]) -> list[Finding]:
    template = Template(body)
    return [f for rule_id in SECRET_RULES for f in RULES[rule_id].run(template)]


# --- places ---------------------------------------------------------------------------------

Place = Callable[[str, str], dict[str, Any]]


def _env(name: str, value: str) -> dict[str, Any]:
    return {"Resources": {"Fn": function(Environment={"Variables": {name: value}})}}


def _output(name: str, value: str) -> dict[str, Any]:
    return {"Resources": {}, "Outputs": {pascal(name): {"Value": value}}}


def _tag(name: str, value: str) -> dict[str, Any]:
    tags = [{"Key": name, "Value": value}]
    return {"Resources": {"Q": resource("AWS::SQS::Queue", Tags=tags)}}


def _ssm(name: str, value: str) -> dict[str, Any]:
    props = {"Type": "String", "Name": f"/app/{name}", "Value": value}
    return {"Resources": {"P": resource("AWS::SSM::Parameter", **props)}}


def _parameter(name: str, value: str) -> dict[str, Any]:
    return {"Resources": {}, "Parameters": {pascal(name): {"Type": "String", "Default": value}}}


def _mapping(name: str, value: str) -> dict[str, Any]:
    return {"Resources": {}, "Mappings": {"Env": {"prod": {pascal(name): value}}}}


def _metadata(name: str, value: str) -> dict[str, Any]:
    queue = {"Type": "AWS::SQS::Queue", "Metadata": {name: value}}
    return {"Resources": {"Q": queue}}


def _secret_template(name: str, value: str) -> dict[str, Any]:
    generate = {"SecretStringTemplate": json.dumps({name: value}), "GenerateStringKey": "k"}
    secret = resource("AWS::SecretsManager::Secret", GenerateSecretString=generate)
    return {"Resources": {"S": secret}}


def _stage_variable(name: str, value: str) -> dict[str, Any]:
    stage = resource("AWS::ApiGateway::Stage", RestApiId="a", Variables={pascal(name): value})
    return {"Resources": {"Stage": stage}}


def _condition(name: str, value: str) -> dict[str, Any]:
    equals = {"Fn::Equals": [{"Ref": "AWS::Region"}, value]}
    return {"Resources": {}, "Conditions": {pascal(name): equals}}


PLACES: dict[str, Place] = {
    "lambda environment": _env,
    "output": _output,
    "tag": _tag,
    "ssm string parameter": _ssm,
    "parameter default": _parameter,
    "mapping": _mapping,
    "resource metadata": _metadata,
    "secret string template member": _secret_template,
    "stage variable": _stage_variable,
    "condition literal": _condition,
}


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize(("name", "value"), FORMS)
def test_fails_when_a_secret_form_sits_in(place: str, name: str, value: str) -> None:
    found = findings(PLACES[place](name, value))
    assert found, f"{place}: {name} not found"
    for finding in found:
        assert value not in finding.message and value not in finding.fix
        assert value[:12] not in finding.message


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize(("name", "value"), BENIGN)
def test_the_benign_corpus_passes_in(place: str, name: str, value: str) -> None:
    assert findings(PLACES[place](name, value)) == []


def test_the_finding_names_the_template_path_and_the_detector() -> None:
    (finding,) = findings(_output("DeployToken", "ghp_" + "a1B2" * 9))
    assert finding.logical_id == "DeployToken"
    assert "Outputs.DeployToken.Value" in finding.message
    assert "GitHubTokenDetector" in finding.message
    (finding,) = findings(_env("X", "ghp_" + "a1B2" * 9))
    assert "Resources.Fn.Properties.Environment.Variables.X" in finding.message
    assert finding.rule_id == "LambdaEnvironmentSecret" and finding.finding_id == "X"


# --- detector paths: non-compliant and compliant --------------------------------------------

DETECTOR_PATHS: list[tuple[str, str, str, str, str]] = [
    # (detector words, name, secret value, name, compliant value)
    ("name-based", "SMTP_PASSWORD_V2", "hunter22", "SMTP_PASSWORD_V2", "/prod/smtp"),
    ("name-based", "CLIENT_SECRET", "Zx8kP2qL9mN4vB7wR1tY6uE3", "CLIENT_SECRET_NAME", "prod/x"),
    ("AWSKeyDetector", "ANY", "AKIA" + "Z" * 16, "ANY", "AKIA-is-a-prefix"),
    ("SlackDetector", "ANY", FORMS[18][1], "ANY", "https://hooks.slack.com/"),
    ("connection string", "DB", FORMS[6][1], "DB", "Server=h;Database=orders;User Id=app;"),
    ("connection string", "API", FORMS[9][1], "API", "https://api.example.com/v1?page=2"),
    ("JSON/YAML/dotenv", "CFG", FORMS[11][1], "CFG", json.dumps({"user": "admin"})),
    ("base64-wrapped", "CFG", FORMS[14][1], "CFG", b64("admin")),
    ("base64-wrapped", "CFG", FORMS[15][1], "CFG", b64(json.dumps({"client_id": "orders"}))),
]


@pytest.mark.parametrize(("detector", "name", "value", "ok_name", "ok_value"), DETECTOR_PATHS)
def test_each_detector_path_fails_the_secret_and_passes_its_neighbour(
    detector: str, name: str, value: str, ok_name: str, ok_value: str
) -> None:
    (finding,) = findings(_output(name, value))
    assert detector in finding.message
    assert findings(_output(ok_name, ok_value)) == []


# --- behind intrinsics ----------------------------------------------------------------------

TOKEN = "ghp_" + "a1B2" * 9
ENV_SSM = {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/prod/smtp/password"}


def _with_env(value: Any, **sections: Any) -> dict[str, Any]:
    body = {"Resources": {"Fn": function(Environment={"Variables": {"SMTP_PASSWORD": value}})}}
    for section, content in sections.items():
        if section == "Resources":
            body["Resources"].update(content)
        else:
            body[section] = content
    return body


INTRINSICS: list[tuple[str, Any, dict[str, Any]]] = [
    ("Fn::Join", {"Fn::Join": ["", ["hun", "ter22"]]}, {}),
    ("Fn::Sub", {"Fn::Sub": ["${A}22", {"A": "hunter"}]}, {}),
    (
        "Fn::FindInMap",
        {"Fn::FindInMap": ["Env", "prod", "Pw"]},
        {"Mappings": {"Env": {"prod": {"Pw": "hunter22"}}}},
    ),
    ("Fn::Select/Fn::Split", {"Fn::Select": [1, {"Fn::Split": [",", "a,hunter22"]}]}, {}),
    (
        "Ref to a parameter default",
        {"Ref": "Pw"},
        {"Parameters": {"Pw": {"Type": "String", "Default": "hunter22"}}},
    ),
    (
        "Fn::GetAtt of an SSM parameter's Value",
        {"Fn::GetAtt": ["P", "Value"]},
        {"Resources": {"P": resource("AWS::SSM::Parameter", Type="String", Value="hunter22")}},
    ),
    ("Ref to an SSM-typed parameter", {"Ref": "Smtp"}, {"Parameters": {"Smtp": ENV_SSM}}),
    ("Fn::If", {"Fn::If": ["C", "hunter22", {"Ref": "AWS::NoValue"}]}, {}),
    ("Fn::Base64", {"Fn::Base64": "hunter22"}, {}),
]


@pytest.mark.parametrize(("intrinsic", "value", "sections"), INTRINSICS)
def test_fails_when_a_secret_is_behind(intrinsic: str, value: Any, sections: Any) -> None:
    found = [f for f in findings(_with_env(value, **sections)) if f.logical_id == "Fn"]
    assert [f.finding_id for f in found] == ["SMTP_PASSWORD"], intrinsic


@pytest.mark.parametrize(
    ("intrinsic", "value", "sections"),
    [
        ("Fn::Join", {"Fn::Join": ["", ["/prod/", "smtp"]]}, {}),
        ("Fn::Sub", {"Fn::Sub": "arn:aws:ssm:${AWS::Region}:1:parameter/p"}, {}),
        (
            "Ref to a parameter without default",
            {"Ref": "Pw"},
            {"Parameters": {"Pw": {"Type": "String"}}},
        ),
        (
            "Fn::GetAtt of an SSM parameter's Value",
            {"Fn::GetAtt": ["P", "Value"]},
            {"Resources": {"P": resource("AWS::SSM::Parameter", Type="String", Value="true")}},
        ),
    ],
)
def test_a_plain_value_behind_an_intrinsic_passes(
    intrinsic: str, value: Any, sections: Any
) -> None:
    assert findings(_with_env(value, **sections)) == [], intrinsic


def test_an_ssm_typed_parameter_under_a_neutral_name_passes_and_its_default_is_a_name() -> None:
    body = {
        "Parameters": {
            "BootstrapVersion": {
                "Type": "AWS::SSM::Parameter::Value<String>",
                "Default": "/cdk-bootstrap/hnb659fds/version",
            }
        },
        "Resources": {
            "Fn": function(Environment={"Variables": {"LEVEL": {"Ref": "BootstrapVersion"}}})
        },
    }
    assert findings(body) == []


def test_fails_when_a_token_output_is_built_by_join() -> None:
    body = {
        "Resources": {},
        "Outputs": {"Token": {"Value": {"Fn::Join": ["", ["ghp_", "a1B2" * 9]]}}},
    }
    (finding,) = findings(body)
    assert "Outputs.Token.Value" in finding.message


# --- NoEcho parameters ----------------------------------------------------------------------


def test_fails_when_a_no_echo_parameter_has_a_default() -> None:
    body = {
        "Resources": {},
        "Parameters": {"Db": {"Type": "String", "NoEcho": True, "Default": "x"}},
    }
    found = findings(body)
    assert any("NoEchoDefault" in f.message for f in found)


def test_a_no_echo_parameter_without_default_passes() -> None:
    body = {"Resources": {}, "Parameters": {"DbPassword": {"Type": "String", "NoEcho": "true"}}}
    assert findings(body) == []


# --- ownership: each leak once --------------------------------------------------------------


def test_dynamic_references_and_literal_secret_strings_are_left_to_their_rules() -> None:
    ref = "{{resolve:secretsmanager:db:SecretString:password}}"
    body = {
        "Resources": {"S": resource("AWS::SecretsManager::Secret", SecretString="hunter22-x")},
        "Outputs": {"DbPassword": {"Value": ref}},
    }
    assert RULES["PlaintextSecret"].run(Template(body)) == []
    assert RULES["SecretDynamicReference"].run(Template(body))
    assert RULES["SecretLiteralValue"].run(Template(body))


def test_the_scan_runs_once_per_template() -> None:
    body = _output("DeployToken", TOKEN)
    assert scan(body) is scan(body)


def test_fails_when_a_custom_resource_or_an_api_key_holds_a_literal_key() -> None:
    key = "Zx8kP2qL9mN4vB7wR1tY6uE3aB5c"
    custom = resource("Custom::Partner", ServiceToken="arn:aws:lambda:x", ApiKey=key)
    api_key = resource("AWS::ApiGateway::ApiKey", Enabled=True, Value=key)
    found = findings({"Resources": {"C": custom, "K": api_key}})
    assert sorted((f.logical_id, f.finding_id) for f in found) == [
        ("C", "Properties/ApiKey"),
        ("K", "Properties/Value"),
    ]


def test_schema_property_names_that_do_not_say_secret_are_not_names() -> None:
    digest = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    code = {"S3Bucket": "cdk-assets", "S3Key": f"{digest}.zip"}
    client = resource(
        "AWS::Cognito::UserPoolClient",
        UserPoolId="p",
        ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        TokenValidityUnits={"AccessToken": "minutes", "RefreshToken": "days"},
    )
    body = {"Resources": {"Fn": function(Code=code), "Client": client}}
    assert findings(body) == []


def test_fails_when_a_json_definition_built_by_join_holds_a_token() -> None:
    definition = {
        "Fn::Join": ["", ['{"Arn":"', {"Fn::GetAtt": ["Fn", "Arn"]}, f'","Token":"{TOKEN}"}}']]
    }
    machine = resource("AWS::StepFunctions::StateMachine", DefinitionString=definition)
    (finding,) = findings({"Resources": {"Sm": machine}})
    assert "GitHubTokenDetector" in finding.message and "Token" in finding.message


def test_the_rules_import_detect_secrets_only_when_they_scan() -> None:
    code = (
        "import sys\n"
        "from secure_constructs.checks.registry import RULES\n"
        "before = 'detect_secrets' in sys.modules\n"
        "from secure_constructs.checks.secret_patterns import secret_reason\n"
        "secret_reason('X', 'ghp_' + 'a1B2' * 9)\n"
        "print(before, 'detect_secrets' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "True"]
