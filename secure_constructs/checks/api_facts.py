"""Facts about API Gateway REST APIs shared by SecureApi and the API rules: every place a stage
can be declared, what makes a request schema validate something, and the documented limits.

Pure data and functions (no aws_cdk import), so the construct and the rules can never disagree.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from secure_constructs.checks.cfn import as_list, intrinsic

STAGE = "AWS::ApiGateway::Stage"
DEPLOYMENT = "AWS::ApiGateway::Deployment"

AUTHORIZER_MAX_SECONDS = 10
"""API Gateway ends a call to a Lambda authorizer that has not answered after 10 seconds
("Timeout for Lambda authorizer response: 10000 ms", API Gateway Developer Guide, "Quotas for
configuring and running an HTTP API"; REST API authorizers are held to the same bound, well
inside the 29 s integration timeout that follows them). A longer authorizer timeout only means
callers get a 500/504 while the function keeps running and billing."""

ADDITIONAL_PROPERTIES_FINDING = "additionalProperties"
"""The granular finding id of ApiRequestValidation for a schema that allows undeclared
properties (acknowledged by `add_route(..., additional_properties_reason=...)`)."""


@dataclass(frozen=True)
class StageDecl:
    """One stage of a REST API as the template declares it.

    `logical_id` is the AWS::ApiGateway::Stage, or the AWS::ApiGateway::Deployment whose
    `StageName` makes API Gateway create the stage; `props` are the stage's own settings (a
    Stage's properties, or the Deployment's `StageDescription`), `path` where they live.
    """

    logical_id: str
    rest_api: Any
    name: Any
    props: Mapping[str, Any]
    path: str
    from_deployment: bool


def stages(resources: Mapping[str, Any]) -> Iterator[StageDecl]:
    """Every stage: Stage resources, and Deployments with a StageName (API Gateway creates that
    stage, with the Deployment's StageDescription as its settings)."""
    for logical_id, resource in resources.items():
        if not isinstance(resource, Mapping):
            continue
        props = resource.get("Properties")
        props = props if isinstance(props, Mapping) else {}
        if resource.get("Type") == STAGE:
            yield StageDecl(
                logical_id,
                props.get("RestApiId"),
                props.get("StageName"),
                props,
                "Properties",
                False,
            )
        elif resource.get("Type") == DEPLOYMENT and props.get("StageName") not in (None, ""):
            described = props.get("StageDescription")
            yield StageDecl(
                logical_id,
                props.get("RestApiId"),
                props.get("StageName"),
                described if isinstance(described, Mapping) else {},
                "Properties/StageDescription",
                True,
            )


def stage_tracing(stage: StageDecl) -> Any:
    """The stage's X-Ray switch (`TracingEnabled`), None when unset (off)."""
    return stage.props.get("TracingEnabled")


def method_settings(stage: StageDecl) -> list[Mapping[str, Any]]:
    """The stage's method settings; a Deployment's StageDescription also holds stage-wide
    defaults at its top level (ThrottlingRateLimit, DataTraceEnabled ...), returned as a
    `/*/*` setting."""
    settings = [s for s in as_list(stage.props.get("MethodSettings")) if isinstance(s, Mapping)]
    if stage.from_deployment:
        top = {k: v for k, v in stage.props.items() if k != "MethodSettings"}
        settings.insert(0, {"ResourcePath": "/*", "HttpMethod": "*", **top})
    return settings


# --- request schemas ------------------------------------------------------------------------


def schema_weakness(schema: Any) -> str | None:
    """Why a JSON Schema validates nothing worth the name, or None when it describes an object.

    A body schema must say `"type": "object"`, declare `properties` (at least one), and (checked
    separately by `allows_additional_properties`) refuse undeclared ones. `{}`, `{"type":
    "object"}`, API Gateway's Empty model and `{"type": "object", "properties": {}}` accept any
    JSON object.
    """
    if intrinsic(schema) is not None:
        return None  # built at deploy time: not inspectable
    if isinstance(schema, str):
        import json

        try:
            schema = json.loads(schema)
        except ValueError:
            return "its schema is not JSON"
    if not isinstance(schema, Mapping):
        return "it has no schema"
    kind = schema.get("type")
    if kind != "object" and not (isinstance(kind, list) and kind == ["object"]):
        return (
            'its schema does not say "type": "object"'
            if kind is None
            else f"its schema's type is {kind!r}, not an object"
        )
    properties = schema.get("properties")
    if not isinstance(properties, Mapping) or not properties:
        return "its schema declares no properties (any object passes)"
    return None


def allows_additional_properties(schema: Any) -> bool:
    """Whether an object schema lets undeclared properties through (JSON Schema's default)."""
    if isinstance(schema, str):
        import json

        try:
            schema = json.loads(schema)
        except ValueError:
            return True
    if not isinstance(schema, Mapping) or intrinsic(schema) is not None:
        return False
    return schema.get("additionalProperties", True) not in (False, "false")


# --- OpenAPI bodies (SpecRestApi) -----------------------------------------------------------

_OPENAPI_VERBS = {
    "get": "GET",
    "put": "PUT",
    "post": "POST",
    "delete": "DELETE",
    "options": "OPTIONS",
    "head": "HEAD",
    "patch": "PATCH",
    "x-amazon-apigateway-any-method": "ANY",
}


def openapi_open_operations(body: Any) -> Iterator[tuple[str, str, str]]:
    """(template path, verb, API path) of each operation of an OpenAPI `Body` that anyone can
    call: no security requirement naming an API Gateway authorizer scheme, an anonymous `{}`
    alternative, or x-amazon-apigateway-auth NONE. A MOCK OPTIONS (CORS preflight) is exempt."""
    if not isinstance(body, Mapping) or intrinsic(body) is not None:
        return
    paths = body.get("paths")
    if not isinstance(paths, Mapping):
        return
    components = body.get("components")
    schemes = body.get("securityDefinitions") or (
        components.get("securitySchemes") if isinstance(components, Mapping) else None
    )
    authorizers = {
        name
        for name, scheme in (schemes.items() if isinstance(schemes, Mapping) else ())
        if isinstance(scheme, Mapping)
        and ("x-amazon-apigateway-authorizer" in scheme or "x-amazon-apigateway-authtype" in scheme)
    }
    default = body.get("security")
    for path, item in paths.items():
        if not isinstance(item, Mapping):
            continue
        for key, operation in item.items():
            verb = _OPENAPI_VERBS.get(str(key).lower())
            if verb is None or not isinstance(operation, Mapping):
                continue
            if verb == "OPTIONS" and _mock(operation):
                continue
            if _operation_authorized(operation, default, authorizers):
                continue
            yield f"Properties/Body/paths/{path}/{key}", verb, str(path)


def _mock(operation: Mapping[str, Any]) -> bool:
    integration = operation.get("x-amazon-apigateway-integration")
    return isinstance(integration, Mapping) and str(integration.get("type", "")).lower() == "mock"


def _operation_authorized(
    operation: Mapping[str, Any], default: Any, authorizers: set[str]
) -> bool:
    auth = operation.get("x-amazon-apigateway-auth")
    kind = auth.get("type") if isinstance(auth, Mapping) else None
    if isinstance(kind, str):
        return kind.upper() != "NONE"
    security = operation.get("security", default)
    requirements = as_list(security)
    if not requirements:
        return False
    for requirement in requirements:
        if not isinstance(requirement, Mapping) or not any(n in authorizers for n in requirement):
            return False  # `{}` (anonymous) or only API keys: this alternative lets anyone in
    return True
