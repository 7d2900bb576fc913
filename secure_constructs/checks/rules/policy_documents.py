"""Where resource-based policies live in a template, and how to read their principals.

Shared by the resource-policy, KMS and trust rules (not a rule module itself).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from secure_constructs.checks.cfn import UNKNOWN, as_list, intrinsic, renderings
from secure_constructs.checks.rules.iam import statements

# type -> the property holding its policy document (a path of property names).
RESOURCE_POLICY_PATHS: dict[str, tuple[str, ...]] = {
    "AWS::KMS::Key": ("KeyPolicy",),
    "AWS::SecretsManager::ResourcePolicy": ("ResourcePolicy",),
    "AWS::SNS::TopicPolicy": ("PolicyDocument",),
    "AWS::SNS::TopicInlinePolicy": ("PolicyDocument",),
    "AWS::SQS::QueuePolicy": ("PolicyDocument",),
    "AWS::SQS::QueueInlinePolicy": ("PolicyDocument",),
    "AWS::S3::BucketPolicy": ("PolicyDocument",),
    "AWS::S3::AccessPoint": ("Policy",),
    "AWS::ApiGateway::RestApi": ("Policy",),
    "AWS::Logs::ResourcePolicy": ("PolicyDocument",),
    "AWS::Events::EventBus": ("Policy",),
    "AWS::ECR::Repository": ("RepositoryPolicyText",),
    "AWS::ECR::RegistryPolicy": ("PolicyText",),
    "AWS::DynamoDB::Table": ("ResourcePolicy", "PolicyDocument"),
    "AWS::Kinesis::ResourcePolicy": ("ResourcePolicy",),
    "AWS::EFS::FileSystem": ("FileSystemPolicy",),
    "AWS::OpenSearchService::Domain": ("AccessPolicies",),
    "AWS::Backup::BackupVault": ("AccessPolicy",),
    "AWS::CodeArtifact::Repository": ("PermissionsPolicyDocument",),
    "AWS::Glue::ResourcePolicy": ("PolicyInJson",),
}
"""Every resource type whose policy `resource_policy_documents` reads (plus EventBusPolicy)."""
RESOURCE_POLICY_TYPES = (*RESOURCE_POLICY_PATHS, "AWS::Events::EventBusPolicy")
# Other places a type keeps a policy: a REST API defined by an OpenAPI body (SAM's
# Auth.ResourcePolicy, an imported definition) holds it in the x-amazon-apigateway-policy
# extension (https://docs.aws.amazon.com/apigateway/latest/developerguide/openapi-extensions-policy.html).
MORE_POLICY_PATHS: dict[str, tuple[tuple[str, ...], ...]] = {
    "AWS::ApiGateway::RestApi": (("Body", "x-amazon-apigateway-policy"),),
}
_SUB_NAME = re.compile(r"\$\{([^}!][^}]*)\}")
_OWN_ACCOUNT = ({"Ref": "AWS::AccountId"}, {"Fn::Sub": "${AWS::AccountId}"})


def _document(value: Any) -> Mapping[str, Any] | None:
    """A policy document given as an object or as a JSON string (Logs, ECR, Glue)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, Mapping) else None


def resource_policy_statements(t: Any) -> Iterator[tuple[str, str, str, Mapping[str, Any]]]:
    """(logical id, type, path, statement) of every statement of every resource-based policy."""
    for type_, keys in RESOURCE_POLICY_PATHS.items():
        for logical_id, props in t.of_type(type_):
            for where in (keys, *MORE_POLICY_PATHS.get(type_, ())):
                value: Any = props
                for key in where:
                    value = value.get(key) if isinstance(value, Mapping) else None
                document = _document(value)
                if document is not None:
                    yield from (
                        (logical_id, type_, path, with_parameter_defaults(t, statement))
                        for path, statement in statements("Properties/" + "/".join(where), document)
                    )
    for logical_id, props in t.of_type("AWS::Events::EventBusPolicy"):
        statement = props.get("Statement")
        if isinstance(statement, Mapping):
            yield logical_id, "AWS::Events::EventBusPolicy", "Properties/Statement", statement
        elif "Principal" in props:  # the older Principal/Action/Condition form
            legacy = {"Effect": "Allow", "Principal": props.get("Principal")}
            condition = props.get("Condition")
            if isinstance(condition, Mapping) and condition.get("Key"):
                legacy["Condition"] = {
                    "StringEquals": {condition.get("Key"): condition.get("Value")}
                }
            yield logical_id, "AWS::Events::EventBusPolicy", "Properties/Principal", legacy


def principal_values(statement: Mapping[str, Any]) -> dict[str, list[str]]:
    """Principal kind (`*`, AWS, Service, Federated, CanonicalUser) -> rendered values.

    Intrinsics are rendered (both branches of an Fn::If); parts known only at deploy time are
    UNKNOWN. `"Principal": "*"` is kind `*`.
    """
    principal = statement.get("Principal")
    if principal is None:
        return {}
    rendered = renderings(principal)
    if rendered:
        return {"AWS": rendered}
    if not isinstance(principal, Mapping) or intrinsic(principal) is not None:
        return {"AWS": [UNKNOWN]}
    return {
        str(kind): [
            text
            for item in as_list(value)
            for text in (_OWN_ROOT if item in _OWN_ACCOUNT else renderings(item) or [UNKNOWN])
        ]
        for kind, value in principal.items()
    }


# `{"AWS": "${AWS::AccountId}"}` is the account itself, i.e. its root (AWS: "you can specify
# the account ID" for the account principal,
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html).
_OWN_ROOT = [f"arn:aws:iam::{UNKNOWN}:root"]


def with_parameter_defaults(t: Any, value: Any) -> Any:
    """`value` with each reference to a template parameter that has a Default also read as
    that default: `{"Ref": "Who"}` with `Default: "*"` renders as `*` and as the deploy-time
    value (an Fn::If of both), `!Sub "...${Partner}..."` with the default filled in.

    A deploy that keeps the defaults gets exactly that policy, so the rules judge it.
    """
    parameters = t.body.get("Parameters") if isinstance(t.body, Mapping) else None
    if not isinstance(parameters, Mapping):
        return value
    defaults = {
        str(name): str(p["Default"])
        for name, p in parameters.items()
        if isinstance(p, Mapping) and isinstance(p.get("Default"), str | int)
    }
    return _fill_defaults(value, defaults) if defaults else value


def _fill_defaults(value: Any, defaults: Mapping[str, str]) -> Any:
    call = intrinsic(value)
    if call is not None:
        name, argument = call
        if name == "Ref" and argument in defaults:
            return {"Fn::If": ["<parameter default>", defaults[argument], value]}
        if name == "Fn::Sub":
            text = argument if isinstance(argument, str) else None
            variables: Any = {}
            if isinstance(argument, list) and argument and isinstance(argument[0], str):
                text = argument[0]
                variables = argument[1] if len(argument) > 1 else {}
            if text is not None and isinstance(variables, Mapping):
                filled = {
                    n: defaults[n]
                    for n in _SUB_NAME.findall(text)
                    if n in defaults and n not in variables
                }
                if filled:
                    return {"Fn::Sub": [text, {**variables, **filled}]}
            return value
    if isinstance(value, Mapping):
        return {k: _fill_defaults(v, defaults) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill_defaults(v, defaults) for v in value]
    return value


def is_everyone(text: str) -> bool:
    """An AWS principal value meaning every principal of every account."""
    return text.strip() == "*"


def is_allow(statement: Mapping[str, Any]) -> bool:
    return statement.get("Effect") == "Allow"


def actions_of(statement: Mapping[str, Any]) -> list[str]:
    """The statement's actions as rendered strings (an intrinsic part as UNKNOWN)."""
    return [text for item in as_list(statement.get("Action")) for text in renderings(item)]
