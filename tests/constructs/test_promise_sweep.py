"""The security promise swept over ONE template holding every construct: each test reads every
resource of a type, so a role, alarm or route added later is checked without a new test.

(a) no identity policy grants a wildcard action; `Resource: "*"` only in the star-only policies;
(b) every alarm notifies an SNS topic of the template;
(c) every API method but the CORS preflight has an authorizer (unless acknowledged with
    ApiAuth.none) and a request validator;
(d) no secret value or `{{resolve:` dynamic reference reaches the template;
(e) no resource-based policy (key, topic, queue, secret, API, Lambda permission) allows `*`
    without a source or organization condition, kms:* goes to the account root only, and every
    role is assumable only by an AWS service or this account.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_

from secure_constructs import (
    ApiAuth,
    SecretRotation,
    SecretsCache,
    SecureApi,
    SecureFunction,
    SecureSecret,
    SecureUserPool,
)
from tests.synth import (
    VPC_NETWORK_INTERFACE_ACTIONS,
    XRAY_WRITE_ACTIONS,
    Synthesized,
    synth,
    walk,
)
from tests.vpc import acknowledge_test_vpc, compliant_vpc

CODE = "def handler(event, context):\n    return {'statusCode': 200, 'body': '{}'}\n"
PUBLIC_REASON = "Liveness probe for the load tests; returns no data"
STAR_ONLY_POLICY_SUFFIXES = (
    "SecureConstructsXRayWritePolicy",
    "SecureConstructsVpcNetworkInterfacePolicy",
    "StarOnlyPolicy",
)
IDENTITY_POLICY_TYPES = ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy")
# AWS supports each of these only on `Resource: "*"` (pinned in tests/synth.py).
STAR_ONLY_ACTIONS = (
    XRAY_WRITE_ACTIONS | VPC_NETWORK_INTERFACE_ACTIONS | {"secretsmanager:GetRandomPassword"}
)


def _function(stack: cdk.Stack, construct_id: str, **props: Any) -> SecureFunction:
    return SecureFunction(
        stack, construct_id, code=lambda_.Code.from_inline(CODE), handler="index.handler", **props
    )


def build(stack: cdk.Stack) -> None:
    hello = _function(stack, "Hello", alarm_emails=["ops@example.com"])
    _function(stack, "InVpc", vpc=compliant_vpc(stack))
    acknowledge_test_vpc(stack)
    rotator = _function(stack, "Rotator")
    token = SecureSecret(
        stack,
        "Token",
        description="Shared token read by the readers, rotated by Rotator",
        rotation=SecretRotation.function(rotator, every=cdk.Duration.days(30)),
    )
    _function(
        stack,
        "PowertoolsReader",
        secrets={"TOKEN": token},
        secrets_cache=SecretsCache.powertools(max_age=cdk.Duration.minutes(5)),
    )
    _function(
        stack,
        "ExtensionReader",
        secrets={"TOKEN": token},
        secrets_cache=SecretsCache.extension(ttl=cdk.Duration.minutes(5)),
    )
    authorizer = _function(stack, "Authorizer")
    api = SecureApi(
        stack,
        "Api",
        auth=ApiAuth.cognito(SecureUserPool(stack, "Users")),
        alarm_emails=["api-ops@example.com"],
        cors_allow_origins=["https://app.example.com"],
    )
    api.add_route("GET", "/items/{id}", hello)
    api.add_route(
        "POST",
        "/items",
        hello,
        auth=ApiAuth.iam(),
        request_schema={
            "type": "object",
            "properties": {"name": {"type": "string"}},
            "additionalProperties": False,
        },
    )
    api.add_route("GET", "/reports", hello, auth=ApiAuth.lambda_token(authorizer))
    api.add_route(
        "DELETE",
        "/exports",
        hello,
        auth=ApiAuth.lambda_request(
            authorizer, identity_sources=["method.request.header.X-Api-Client"]
        ),
    )
    api.add_route("GET", "/health", hello, auth=ApiAuth.none(reason=PUBLIC_REASON))


@pytest.fixture(scope="module")
def app() -> Synthesized:
    return synth(build)


# -- helpers (pure functions over the template, so they are tested on broken copies too) ---------


def _path(resource: dict[str, Any]) -> str:
    return str(resource.get("Metadata", {}).get("aws:cdk:path", ""))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _identity_statements(
    template: dict[str, Any],
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(logical id, construct path, statement) of every identity policy of the template,
    including policies inline in a role."""
    for logical_id, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        documents = []
        if resource["Type"] in IDENTITY_POLICY_TYPES:
            documents.append(props["PolicyDocument"])
        if resource["Type"] == "AWS::IAM::Role":
            documents.extend(p["PolicyDocument"] for p in props.get("Policies", []))
        for document in documents:
            for statement in document["Statement"]:
                yield logical_id, _path(resource), statement


def policy_problems(template: dict[str, Any]) -> list[str]:
    problems = []
    for logical_id, path, s in _identity_statements(template):
        if "NotAction" in s or "NotResource" in s:
            problems.append(f"{path}: NotAction/NotResource")
        for action in _as_list(s.get("Action", [])):
            if not isinstance(action, str) or "*" in action:
                problems.append(f"{path}: wildcard action {action!r}")
        star_only = path.endswith(STAR_ONLY_POLICY_SUFFIXES) or any(
            path.endswith(f"{suffix}/Resource") for suffix in STAR_ONLY_POLICY_SUFFIXES
        )
        for resource in _as_list(s.get("Resource", [])):
            if isinstance(resource, str) and "*" in resource and not star_only:
                problems.append(f"{path} ({logical_id}): resource {resource!r}")
        if star_only:
            extra = set(_as_list(s.get("Action", []))) - STAR_ONLY_ACTIONS
            if extra:
                problems.append(f"{path}: {sorted(extra)} granted in a star-only policy")
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::IAM::Role":
            for managed in resource["Properties"].get("ManagedPolicyArns", []):
                if not (isinstance(managed, dict) and "Ref" in managed):
                    problems.append(f"{_path(resource)}: managed policy {managed!r}")
    return problems


def alarm_problems(template: dict[str, Any]) -> list[str]:
    resources = template["Resources"]
    topics = {k for k, v in resources.items() if v["Type"] == "AWS::SNS::Topic"}
    problems = []
    for resource in resources.values():
        if resource["Type"] != "AWS::CloudWatch::Alarm":
            continue
        props = resource["Properties"]
        actions = props.get("AlarmActions") or []
        if not actions:
            problems.append(f"{_path(resource)}: no AlarmActions")
        for action in actions:
            if not (isinstance(action, dict) and action.get("Ref") in topics):
                problems.append(f"{_path(resource)}: action {action!r} is not a topic here")
        if props.get("ActionsEnabled") is False:
            problems.append(f"{_path(resource)}: actions disabled")
    # A failed secret rotation is reported by an EventBridge rule, not an alarm: same promise.
    for resource in resources.values():
        if resource["Type"] != "AWS::Events::Rule":
            continue
        targets = resource["Properties"].get("Targets") or []
        if not targets or resource["Properties"].get("State") != "ENABLED":
            problems.append(f"{_path(resource)}: no enabled target")
        for target in targets:
            if not (isinstance(target["Arn"], dict) and target["Arn"].get("Ref") in topics):
                problems.append(f"{_path(resource)}: target {target['Arn']!r} is not a topic here")
    return problems


def _ids(resources: dict[str, Any], type_: str) -> set[str]:
    return {k for k, v in resources.items() if v["Type"] == type_}


def method_problems(template: dict[str, Any], public_paths: set[str]) -> list[str]:
    resources = template["Resources"]
    validators = {
        k
        for k in _ids(resources, "AWS::ApiGateway::RequestValidator")
        if resources[k]["Properties"].get("ValidateRequestBody") is True
        and resources[k]["Properties"].get("ValidateRequestParameters") is True
    }
    authorizers = _ids(resources, "AWS::ApiGateway::Authorizer")
    models = _ids(resources, "AWS::ApiGateway::Model")
    problems = []
    for resource in resources.values():
        if resource["Type"] != "AWS::ApiGateway::Method":
            continue
        props = resource["Properties"]
        path = _path(resource)
        if props["HttpMethod"] == "OPTIONS":
            continue
        kind = props.get("AuthorizationType", "NONE")
        if kind == "NONE" and path not in public_paths:
            problems.append(f"{path}: AuthorizationType NONE")
        if kind in ("COGNITO_USER_POOLS", "CUSTOM") and (
            props.get("AuthorizerId", {}).get("Ref") not in authorizers
        ):
            problems.append(f"{path}: {kind} without an authorizer of the template")
        if props.get("RequestValidatorId", {}).get("Ref") not in validators:
            problems.append(f"{path}: no request validator of body and parameters")
        if props["HttpMethod"] in ("POST", "PUT", "PATCH"):
            model = props.get("RequestModels", {}).get("application/json", {})
            if model.get("Ref") not in models:
                problems.append(f"{path}: no JSON body model")
    return problems


def secret_leaks(template: dict[str, Any]) -> list[str]:
    leaks = []
    for value in walk(template):
        if isinstance(value, str) and "{{resolve:" in value:
            leaks.append(value)
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::SecretsManager::Secret":
            props = resource["Properties"]
            if "SecretString" in props:
                leaks.append(f"{_path(resource)}: SecretString in the template")
    return leaks


# Where each resource-based policy lives, by type.
RESOURCE_POLICY_PROPERTY = {
    "AWS::KMS::Key": "KeyPolicy",
    "AWS::SNS::TopicPolicy": "PolicyDocument",
    "AWS::SQS::QueuePolicy": "PolicyDocument",
    "AWS::SecretsManager::ResourcePolicy": "ResourcePolicy",
    "AWS::ApiGateway::RestApi": "Policy",
}
SCOPING_KEYS = {"aws:SourceArn", "aws:SourceAccount", "aws:PrincipalOrgID", "kms:CallerAccount"}
OWN_ROOT = {
    "Fn::Join": [
        "",
        ["arn:", {"Ref": "AWS::Partition"}, ":iam::", {"Ref": "AWS::AccountId"}, ":root"],
    ]
}


def _scoped(statement: dict[str, Any]) -> bool:
    keys = {k for test in statement.get("Condition", {}).values() for k in test}
    return bool(keys & SCOPING_KEYS)


def _principals(statement: dict[str, Any]) -> list[tuple[str, Any]]:
    principal = statement.get("Principal")
    if principal == "*":
        return [("AWS", "*")]
    return [(kind, v) for kind, values in principal.items() for v in _as_list(values)]


def grant_problems(template: dict[str, Any]) -> list[str]:
    problems = []
    for resource in template["Resources"].values():
        path, props = _path(resource), resource.get("Properties", {})
        document = props.get(RESOURCE_POLICY_PROPERTY.get(resource["Type"], ""))
        for s in (document or {}).get("Statement", []):
            if s["Effect"] != "Allow":
                continue
            if ("AWS", "*") in _principals(s) and not _scoped(s):
                problems.append(f"{path}: {s['Action']!r} allowed to '*'")
            full = resource["Type"] == "AWS::KMS::Key" and "kms:*" in _as_list(s["Action"])
            if full and _principals(s) != [("AWS", OWN_ROOT)]:
                problems.append(f"{path}: kms:* to {s['Principal']!r}")
        if resource["Type"] == "AWS::Lambda::Permission":
            if props["Action"] != "lambda:InvokeFunction" or props["Principal"] == "*":
                problems.append(f"{path}: {props['Action']} to {props['Principal']!r}")
            if "SourceArn" not in props and "SourceAccount" not in props:
                problems.append(f"{path}: permission without a source")
        if resource["Type"] == "AWS::IAM::Role":
            for s in props["AssumeRolePolicyDocument"]["Statement"]:
                for kind, value in _principals(s):
                    service = kind == "Service" and str(value).endswith(".amazonaws.com")
                    if not (service or (kind == "AWS" and value == OWN_ROOT)):
                        problems.append(f"{path}: assumable by {kind} {value!r}")
    return problems


# -- the sweeps --------------------------------------------------------------------------------


def test_the_sweep_covers_every_construct(app: Synthesized) -> None:
    """Guard against a vacuous sweep: the template holds what the promise is about."""
    paths = {_path(r) for r in app.template["Resources"].values()}
    for expected in (
        "Test/Api/InvokeRole",
        "Test/Api/InvokePolicy",
        "Test/RotatorServiceRole/Policy",
        "Test/RotatorServiceRole/StarOnlyPolicy",
        "Test/PowertoolsReaderServiceRole/Policy",
        "Test/ExtensionReaderServiceRole/Policy",
        "Test/SecureConstructsApiGatewayAccount/Role",
    ):
        assert any(p.startswith(expected) for p in paths), expected
    alarm_paths = [_path(r) for r in app.resources("AWS::CloudWatch::Alarm").values()]
    for part in (
        "Test/Hello/HealthAlarm",
        "Test/Rotator/HealthAlarm",
        "Test/SecureConstructsDeadLetterQueue/NotEmptyAlarm",
        "Test/SecureConstructsAlarmSubscriptionDlq/NotEmptyAlarm",
        "Test/SecureConstructsRotationEventsDlq/NotEmptyAlarm",
        "Test/Api/ServerErrorAlarm",
        "Test/Api/ClientErrorRateAlarm",
        "Test/Api/LatencyAlarm",
        "Test/Api/WebAcl/BlockedRequestsAlarm",
    ):
        assert any(p.startswith(part) for p in alarm_paths), (part, alarm_paths)
    rules = [_path(r) for r in app.resources("AWS::Events::Rule").values()]
    assert any(p.startswith("Test/Token/RotationFailedRule") for p in rules), rules
    assert len(app.resources("AWS::ApiGateway::Method")) >= 5


def test_no_policy_grants_a_wildcard_outside_the_star_only_policies(app: Synthesized) -> None:
    assert any(True for _ in _identity_statements(app.template))
    assert policy_problems(app.template) == []


def test_no_resource_or_trust_policy_opens_anything(app: Synthesized) -> None:
    assert app.resources("AWS::KMS::Key") and app.resources("AWS::IAM::Role")
    assert app.resources("AWS::Lambda::Permission")
    assert grant_problems(app.template) == []


def test_the_invoke_role_may_only_invoke_the_routed_functions(app: Synthesized) -> None:
    invoke = [
        s for _, path, s in _identity_statements(app.template) if path.startswith("Test/Api/Invoke")
    ]
    assert invoke
    for s in invoke:
        assert s["Effect"] == "Allow"
        assert _as_list(s["Action"]) == ["lambda:InvokeFunction"]


def test_every_alarm_notifies_a_topic_of_the_stack(app: Synthesized) -> None:
    assert app.resources("AWS::CloudWatch::Alarm")
    assert alarm_problems(app.template) == []


def test_every_route_has_an_authorizer_and_a_request_validator(app: Synthesized) -> None:
    assert method_problems(app.template, {"Test/Api/Default/health/GET/Resource"}) == []


def test_the_public_route_is_the_only_unauthenticated_one(app: Synthesized) -> None:
    public = {
        _path(r)
        for r in app.resources("AWS::ApiGateway::Method").values()
        if r["Properties"]["HttpMethod"] != "OPTIONS"
        and r["Properties"].get("AuthorizationType", "NONE") == "NONE"
    }
    assert public == {"Test/Api/Default/health/GET/Resource"}
    # ...and it is public on purpose: acknowledged next to the method, with the given reason.
    assert any(
        path == "Test/Api/Default/health/GET/Resource" and PUBLIC_REASON in reason
        for _, _, path, reason in app.acknowledged
    ), app.acknowledged


def test_no_secret_value_or_dynamic_reference_reaches_the_template(app: Synthesized) -> None:
    assert app.resources("AWS::SecretsManager::Secret")
    assert secret_leaks(app.template) == []
    for resource in app.resources("AWS::Lambda::Function").values():
        variables = resource["Properties"].get("Environment", {}).get("Variables", {})
        for name, value in variables.items():
            if "TOKEN" in name:
                # An ARN (a Ref to the secret), never its value.
                assert value == {"Ref": _secret_id(app)}, (name, value)


def _secret_id(app: Synthesized) -> str:
    return app.only("AWS::SecretsManager::Secret")[0]


# -- each sweep fails on a broken template (a test that cannot fail is a defect) ---------------


def _broken(app: Synthesized) -> dict[str, Any]:
    import copy

    return copy.deepcopy(app.template)


def test_the_policy_sweep_catches_a_wildcard(app: Synthesized) -> None:
    template = _broken(app)
    for resource in template["Resources"].values():
        if _path(resource).startswith("Test/Api/Invoke") and resource["Type"] in (
            IDENTITY_POLICY_TYPES
        ):
            statement = resource["Properties"]["PolicyDocument"]["Statement"][0]
            statement["Resource"] = "*"
            break
    else:
        pytest.fail("no invoke-role policy to break")
    assert any("resource '*'" in p for p in policy_problems(template))
    statement["Resource"] = "arn:aws:lambda:us-east-1:123456789012:function:x"
    statement["Action"] = "lambda:*"
    assert any("wildcard action" in p for p in policy_problems(template))
    # A resource-scopable action smuggled into a star-only policy is caught too.
    for resource in template["Resources"].values():
        if _path(resource).endswith("SecureConstructsXRayWritePolicy/Resource"):
            resource["Properties"]["PolicyDocument"]["Statement"][0]["Action"].append(
                "s3:GetObject"
            )
    assert any(
        "['s3:GetObject'] granted in a star-only policy" in p for p in policy_problems(template)
    )


def test_the_grant_sweep_catches_an_open_key_queue_permission_and_trust(app: Synthesized) -> None:
    template = _broken(app)
    resources = template["Resources"]
    key = next(r for r in resources.values() if r["Type"] == "AWS::KMS::Key")
    key["Properties"]["KeyPolicy"]["Statement"].append(
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*"}
    )
    assert any("'kms:Decrypt' allowed to '*'" in p for p in grant_problems(template))
    key["Properties"]["KeyPolicy"]["Statement"][-1]["Action"] = "kms:*"
    key["Properties"]["KeyPolicy"]["Statement"][-1]["Principal"] = {"Service": "x.amazonaws.com"}
    assert any("kms:* to" in p for p in grant_problems(template))
    role = next(r for r in resources.values() if r["Type"] == "AWS::IAM::Role")
    role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] = {"AWS": "*"}
    assert any("assumable by AWS '*'" in p for p in grant_problems(template))
    permission = next(r for r in resources.values() if r["Type"] == "AWS::Lambda::Permission")
    permission["Properties"]["Action"] = "lambda:*"
    assert any("lambda:* to" in p for p in grant_problems(template))


def test_the_alarm_sweep_catches_a_silent_alarm(app: Synthesized) -> None:
    template = _broken(app)
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::CloudWatch::Alarm":
            resource["Properties"].pop("AlarmActions")
            break
    assert any("no AlarmActions" in p for p in alarm_problems(template))
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Events::Rule":
            resource["Properties"]["Targets"][0]["Arn"] = "arn:aws:sns:us-east-1:1:elsewhere"
    assert any("is not a topic here" in p for p in alarm_problems(template))


def test_the_method_sweep_catches_a_route_without_auth_or_validator(app: Synthesized) -> None:
    template = _broken(app)
    for resource in template["Resources"].values():
        if _path(resource) == "Test/Api/Default/reports/GET/Resource":
            resource["Properties"]["AuthorizationType"] = "NONE"
            resource["Properties"].pop("RequestValidatorId")
    problems = method_problems(template, {"Test/Api/Default/health/GET/Resource"})
    assert "Test/Api/Default/reports/GET/Resource: AuthorizationType NONE" in problems
    assert (
        "Test/Api/Default/reports/GET/Resource: no request validator of body and parameters"
        in problems
    )
    for resource in template["Resources"].values():
        if _path(resource) == "Test/Api/Default/items/POST/Resource":
            resource["Properties"].pop("RequestModels")
    assert "Test/Api/Default/items/POST/Resource: no JSON body model" in method_problems(
        template, set()
    )


def test_the_secret_sweep_catches_a_dynamic_reference(app: Synthesized) -> None:
    template = _broken(app)
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Lambda::Function":
            resource["Properties"].setdefault("Environment", {}).setdefault("Variables", {})[
                "LEAK"
            ] = "{{resolve:secretsmanager:arn:aws:secretsmanager:us-east-1:1:secret:x}}"
            break
    assert secret_leaks(template)
