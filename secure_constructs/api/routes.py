"""SecureApi's routes: `check_route` turns `add_route`'s arguments into a checked `RouteSpec`
(or a ValidationError, before anything is created), and the build steps below turn a spec into
the method, its body model, its integration and its acknowledgements."""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_

from secure_constructs.api.props import route_throttle
from secure_constructs.api.route_props import (
    OPERATION_SEPARATOR,
    check_body,
    check_handler,
    check_method,
    check_parameters,
    check_path,
    check_schema,
    check_schema_strength,
    operation_id,
)
from secure_constructs.auth import ApiAuth
from secure_constructs.checks.api_facts import ADDITIONAL_PROPERTIES_FINDING
from secure_constructs.checks.packs import acknowledge_made
from secure_constructs.errors import ValidationError
from secure_constructs.validation import is_token_string


@dataclass
class SecureApiRoute:
    """One route of a SecureApi, as `add_route` recorded it (for the OpenAPI document)."""

    method: str
    path: str
    handler: lambda_.IFunction
    auth: ApiAuth
    request_schema: Mapping[str, Any] | None
    query_parameters: Mapping[str, bool]
    header_parameters: Mapping[str, bool]
    api_key_required: bool
    operation_id: str
    summary: str | None
    resource: apigateway.Method
    model: apigateway.IModel | None = None


@dataclass(frozen=True)
class RouteSpec:
    """`add_route`'s arguments, checked: what the build steps need and nothing unchecked."""

    verb: str
    path: str
    segments: Sequence[str]
    handler: lambda_.IFunction
    handler_seconds: float | None
    auth: ApiAuth
    schema: Mapping[str, Any] | None
    queries: Mapping[str, bool]
    headers: Mapping[str, bool]
    rate: float
    burst: int
    api_key_required: bool
    operation_id: str
    summary: str | None
    unvalidated_body_reason: str | None
    additional_properties_reason: str | None


@dataclass(frozen=True)
class RouteContext:
    """What `check_route` reads of the API: its routes so far, the path parameter of each
    level (updated), its default auth and its stage throttle."""

    routes: Mapping[tuple[str, str], SecureApiRoute]
    variable_children: MutableMapping[str, str]
    default_auth: ApiAuth
    stage_throttle: tuple[float, int]


def check_route(
    context: RouteContext,
    method: Any,
    path: Any,
    handler: Any,
    options: Mapping[str, Any],
) -> RouteSpec:
    """The checked route; `options` are `add_route`'s keyword arguments (all of them)."""
    verb = check_method(method)
    segments = check_path(path)
    normalized = "/" + "/".join(segments)
    if (verb, normalized) in context.routes:
        raise ValidationError(
            "path",
            f"{verb} {normalized}",
            "one route per method and path",
            "remove the second add_route call, or route another method or path",
        )
    check_variable_siblings(context.variable_children, segments)
    route_auth = _check_auth(context.default_auth if options["auth"] is None else options["auth"])
    handler_seconds = check_handler(handler)
    schema = None if options["request_schema"] is None else check_schema(options["request_schema"])
    check_body(verb, schema, options["unvalidated_body_reason"])
    check_schema_strength(schema, options["additional_properties_reason"])
    queries = check_parameters("query_parameters", options["query_parameters"])
    headers = check_parameters("header_parameters", options["header_parameters"])
    rate, burst = route_throttle(
        context.stage_throttle, options["throttle_rate_limit"], options["throttle_burst_limit"]
    )
    operation = options["operation_id"] or operation_id(verb, segments)
    _check_operation_unique(context.routes.values(), operation)
    return RouteSpec(
        verb=verb,
        path=normalized,
        segments=segments,
        handler=handler,
        handler_seconds=handler_seconds,
        auth=route_auth,
        schema=schema,
        queries=queries,
        headers=headers,
        rate=rate,
        burst=burst,
        api_key_required=options["api_key_required"],
        operation_id=operation,
        summary=options["summary"],
        unvalidated_body_reason=options["unvalidated_body_reason"],
        additional_properties_reason=options["additional_properties_reason"],
    )


def _check_auth(auth: Any) -> ApiAuth:
    if not isinstance(auth, ApiAuth):
        raise ValidationError(
            "auth",
            auth,
            "an ApiAuth",
            "pass e.g. auth=ApiAuth.iam() or ApiAuth.none(reason='...')",
        )
    return auth


def _check_operation_unique(routes: Sequence[SecureApiRoute] | Any, operation: str) -> None:
    if any(r.operation_id == operation for r in routes):
        raise ValidationError(
            "operation_id",
            operation,
            "an operation id used by no other route of the API (it names the OpenAPI "
            "operation and the body model)",
            "pass operation_id='...' with a unique name",
        )


def check_variable_siblings(children: MutableMapping[str, str], segments: Sequence[str]) -> None:
    """Refuse `{b}` beside an existing `{a}` on the same level (API Gateway does); then record
    this path's parameters in `children` (parent path -> parameter segment)."""
    parent = ""
    for segment in segments:
        if segment.startswith("{"):
            existing = children.get(parent)
            if existing is not None and existing != segment:
                raise ValidationError(
                    "path",
                    "/" + "/".join(segments),
                    f"one path parameter per level (API Gateway refuses {segment} next to "
                    f"{existing} under {parent or '/'})",
                    f"use the same name as the existing route: {existing}",
                )
        parent = f"{parent}/{segment}"
    parent = ""
    for segment in segments:
        if segment.startswith("{"):
            children.setdefault(parent, segment)
        parent = f"{parent}/{segment}"


def request_parameters(
    spec: RouteSpec, *, cached: bool
) -> tuple[dict[str, bool], list[str] | None]:
    """The method's request parameters (name -> required) and, on a cached stage, its cache
    key parameters: the declared ones, the Authorization header and the authorizer's identity
    sources, so one caller's cached response is never served to another."""
    parameters: dict[str, bool] = {}
    for segment in spec.segments:
        if segment.startswith("{"):
            parameters[f"method.request.path.{segment.strip('{}+')}"] = True
    for name, required in spec.queries.items():
        parameters[f"method.request.querystring.{name}"] = required
    for name, required in spec.headers.items():
        parameters[f"method.request.header.{name}"] = required
    if not cached:
        return parameters, None
    parameters.setdefault("method.request.header.Authorization", False)
    for source in spec.auth.identity_sources:
        if source.startswith("method.request."):
            parameters.setdefault(source, False)
    return parameters, sorted(parameters)


def body_model(
    api: apigateway.RestApi, operation: str, schema: Mapping[str, Any]
) -> apigateway.IModel:
    """The route's JSON body model `<Operation>Model` (a CfnModel: no deployment churn)."""
    name = OPERATION_SEPARATOR.sub("", operation[:1].upper() + operation[1:]) or "Body"
    cfn_model = apigateway.CfnModel(
        api,
        f"{name}Model",
        rest_api_id=api.rest_api_id,
        content_type="application/json",
        name=name,
        schema=dict(schema),
        description=f"Request body of {operation}",
    )
    return apigateway.Model.from_model_name(api, f"{name}ModelRef", cfn_model.ref)


def invocation_uri(stack: cdk.Stack, handler: lambda_.IFunction, arn: str) -> str:
    """API Gateway's URI for Lambda's Invoke API on the handler's ARN (qualified for an
    alias or version), in the function's region when it is known and the stack's otherwise.
    A function defined in the app is in a stack of the same region (no look-up)."""
    region = None
    if not isinstance(handler, lambda_.Function):
        region = getattr(getattr(handler, "env", None), "region", None)
    return stack.format_arn(
        service="apigateway",
        account="lambda",
        region=region if isinstance(region, str) and not is_token_string(region) else None,
        resource="path",
        resource_name=f"2015-03-31/functions/{arn}/invocations",
        arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME,
    )


def lambda_integration(
    uri: str, role: iam.IRole, cache_keys: list[str] | None
) -> apigateway.Integration:
    """A Lambda proxy integration invoked as `role`.

    Not LambdaIntegration: it adds a Lambda permission per method even with a role."""
    return apigateway.Integration(
        type=apigateway.IntegrationType.AWS_PROXY,
        integration_http_method="POST",
        uri=uri,
        options=apigateway.IntegrationOptions(
            credentials_role=role, cache_key_parameters=cache_keys
        ),
    )


def acknowledge_route(method: apigateway.Method, spec: RouteSpec) -> None:
    """The method's acknowledgements: a public route's, a non-Cognito authorizer's COG4, and
    the reasons given for an unvalidated body or undeclared properties."""
    spec.auth.acknowledge_on(method)
    if spec.unvalidated_body_reason is not None:
        acknowledge_made(
            method,
            "SecureServerless::ApiRequestValidation",
            f"Request body deliberately not validated: {spec.unvalidated_body_reason}",
        )
    if spec.additional_properties_reason is not None:
        acknowledge_made(
            method,
            f"SecureServerless::ApiRequestValidation[{ADDITIONAL_PROPERTIES_FINDING}]",
            "Undeclared body properties deliberately accepted: "
            f"{spec.additional_properties_reason}",
        )
