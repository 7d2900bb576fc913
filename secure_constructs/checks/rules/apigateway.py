"""Rules over API Gateway REST APIs: request body validation, Lambda integration timeouts, a 5XX
alarm that reaches someone, CORS that allows any origin with credentials, methods without
authorization and stages without throttling.

The stage's web ACL is checked in `rules.waf`. Every rule reads the template once or twice (an
index of the related resources, then one pass), without evaluating intrinsics.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from secure_constructs.checks.alarm_facts import alarm_always_notifies
from secure_constructs.checks.api_facts import (
    ADDITIONAL_PROPERTIES_FINDING,
    AUTHORIZER_MAX_SECONDS,
    allows_additional_properties,
    method_settings,
    openapi_open_operations,
    schema_weakness,
    stages,
)
from secure_constructs.checks.cfn import (
    alarm_metrics,
    as_list,
    intrinsic,
    number,
    referenced_id,
    referenced_ids,
    renderings,
)
from secure_constructs.checks.model import Practice, Severity, Template, Violation, rule
from secure_constructs.facts.apigateway_facts import BODY_METHODS, MAX_INTEGRATION_TIMEOUT_SECONDS
from secure_constructs.facts.lambda_facts import (
    DEFAULT_TIMEOUT_SECONDS as LAMBDA_DEFAULT_TIMEOUT_SECONDS,
)

METHOD = "AWS::ApiGateway::Method"
REST_API = "AWS::ApiGateway::RestApi"
STAGE = "AWS::ApiGateway::Stage"
MAX_INTEGRATION_SECONDS = MAX_INTEGRATION_TIMEOUT_SECONDS
_FALSE = (False, "false", "False")


def _method_verb(props: Mapping[str, Any]) -> str | None:
    verb = props.get("HttpMethod")
    return verb.upper() if isinstance(verb, str) else None


# --- ApiRequestValidation -------------------------------------------------------------------


@rule(
    "ApiRequestValidation",
    practice=Practice.INPUT_VALIDATION,
    applies_to=(METHOD,),
    summary="An API method that takes a request body has no body validator or model",
    explanation=(
        "API Gateway can reject a malformed body (wrong types, missing fields, unexpected "
        "properties, oversized strings) before it reaches the function, so every function does "
        "not have to get parsing right on its own and bad input costs no invocation. That needs "
        "both a RequestValidator with ValidateRequestBody and a JSON Schema model for the "
        "content type (RequestModels); AwsSolutions-APIG2 only asks that a validator exists "
        "somewhere on the API."
    ),
)
def api_request_validation(t: Template) -> Iterator[Violation]:
    """POST/PUT/PATCH/ANY methods without a body-validating validator and a request model."""
    validators = dict(t.of_type("AWS::ApiGateway::RequestValidator"))
    schemas = _model_schemas(t)
    for logical_id, props in t.of_type(METHOD):
        verb = _method_verb(props)
        if verb not in BODY_METHODS:
            continue
        missing = []
        validator = props.get("RequestValidatorId")
        if validator is None:
            missing.append("no RequestValidatorId")
        else:
            target = referenced_id(validator)
            if target in validators and validators[target].get("ValidateRequestBody") in (
                None,
                *_FALSE,
            ):
                missing.append(f"its validator {target} does not set ValidateRequestBody")
        models = props.get("RequestModels")
        if not (isinstance(models, Mapping) and models) and intrinsic(models) is None:
            missing.append("no RequestModels (JSON Schema model)")
        elif isinstance(models, Mapping):
            yield from _weak_models(logical_id, verb, models, schemas)
        if missing:
            yield Violation(
                logical_id,
                "Properties",
                f"the {verb} method takes a body but has {' and '.join(missing)}",
                "use SecureApi.add_route(..., request_schema={...}) (a draft-04 JSON Schema "
                "model and a body-and-parameters validator), or give the method a "
                "RequestValidator with ValidateRequestBody and RequestModels; for a body that "
                "cannot be described by a schema, add_route(..., unvalidated_body_reason=...)",
            )


def _model_schemas(t: Template) -> dict[str, Any]:
    """Model logical id and model name -> its Schema."""
    found: dict[str, Any] = {}
    for model_id, props in t.of_type("AWS::ApiGateway::Model"):
        found[model_id] = props.get("Schema")
        if isinstance(props.get("Name"), str):
            found[props["Name"]] = props.get("Schema")
    return found


def _weak_models(
    logical_id: str, verb: str, models: Mapping[str, Any], schemas: Mapping[str, Any]
) -> Iterator[Violation]:
    fix = (
        "describe the body: {'type': 'object', 'properties': {...}, 'required': [...], "
        "'additionalProperties': False} (SecureApi.add_route(..., request_schema=...) refuses "
        "weaker ones)"
    )
    for content_type, model in models.items():
        where = f"Properties/RequestModels/{content_type}"
        if isinstance(model, str) and model in _BUILTIN_MODELS:
            yield Violation(
                logical_id,
                where,
                f"the {verb} method validates {content_type} against API Gateway's {model} "
                "model, which accepts any body",
                fix,
            )
            continue
        target = referenced_id(model) or (model if isinstance(model, str) else None)
        if target is None or target not in schemas:
            continue  # a model outside the template (or by intrinsic): not inspectable
        schema = schemas[target]
        weakness = schema_weakness(schema)
        if weakness is not None:
            yield Violation(
                logical_id,
                where,
                f"the {verb} method's model {target} validates nothing: {weakness}",
                fix,
            )
        elif allows_additional_properties(schema):
            yield Violation(
                logical_id,
                where,
                f"the {verb} method's model {target} lets undeclared properties through (no "
                '"additionalProperties": false)',
                "add 'additionalProperties': False to the schema, or, where clients send "
                "fields the function ignores on purpose, add_route(..., "
                "additional_properties_reason='...')",
                finding_id=ADDITIONAL_PROPERTIES_FINDING,
            )


_BUILTIN_MODELS = frozenset({"Empty", "Error"})


# --- ApiLambdaTimeout -----------------------------------------------------------------------


@rule(
    "ApiLambdaTimeout",
    granular=True,
    practice=Practice.EXECUTION_TIME,
    applies_to=(METHOD, "AWS::ApiGateway::Authorizer"),
    summary="An API method integrates (or authorizes with) a Lambda function whose timeout "
    "exceeds what API Gateway waits for",
    explanation=(
        "API Gateway ends a Lambda integration after 29 seconds (or the integration's "
        "TimeoutInMillis) and answers 504, but the function keeps running: the caller retries "
        "while the first invocation still holds concurrency and bills. A function behind an "
        "API must time out first, so that it fails cleanly and its own timeout and duration "
        "alarm mean something. A Lambda authorizer must answer within 10 seconds (API "
        "Gateway's documented timeout for Lambda authorizer responses)."
    ),
)
def api_lambda_timeout(t: Template) -> Iterator[Violation]:
    """Methods whose Lambda integration names a function with Timeout above the limit."""
    aliases = {
        logical_id: referenced_id(props.get("FunctionName"))
        for logical_id, props in t.of_type("AWS::Lambda::Alias", "AWS::Lambda::Version")
    }
    for logical_id, props in t.of_type(METHOD):
        integration = props.get("Integration")
        if not isinstance(integration, Mapping):
            continue
        if str(integration.get("Type", "")).upper() not in ("AWS", "AWS_PROXY"):
            continue
        millis = number(integration.get("TimeoutInMillis"))
        limit = millis / 1000 if millis is not None else float(MAX_INTEGRATION_SECONDS)
        for function_id, timeout in _slower_than(limit, integration.get("Uri"), t, aliases):
            yield Violation(
                logical_id,
                "Properties/Integration/Uri",
                f"function {function_id} has a {timeout:g} s timeout but API Gateway ends "
                f"this integration after {limit:g} s",
                f"set the function's timeout to {limit:g} s or less (SecureApi.add_route "
                "refuses longer ones), or make the route asynchronous: enqueue the work "
                "and return 202",
                finding_id=function_id,
            )
    for logical_id, props in t.of_type("AWS::ApiGateway::Authorizer"):
        uri = props.get("AuthorizerUri")
        for function_id, timeout in _slower_than(AUTHORIZER_MAX_SECONDS, uri, t, aliases):
            yield Violation(
                logical_id,
                "Properties/AuthorizerUri",
                f"authorizer function {function_id} has a {timeout:g} s timeout but API "
                f"Gateway stops waiting for a Lambda authorizer after "
                f"{AUTHORIZER_MAX_SECONDS} s",
                f"set the authorizer function's timeout to {AUTHORIZER_MAX_SECONDS} s or "
                "less (an authorizer should answer in milliseconds: cache its result with "
                "results_cache_ttl)",
                finding_id=function_id,
            )


def _slower_than(
    limit: float, uri: Any, t: Template, aliases: Mapping[str, str | None]
) -> Iterator[tuple[str, float]]:
    """(function id, timeout) of each function `uri` invokes whose timeout exceeds `limit`."""
    functions = dict(t.of_type("AWS::Lambda::Function"))
    for target in _targets(uri):
        function_id = aliases.get(target) or target
        if function_id not in functions:
            continue
        timeout = number(functions[function_id].get("Timeout", LAMBDA_DEFAULT_TIMEOUT_SECONDS))
        if timeout is not None and timeout > limit:
            yield function_id, timeout


def _targets(value: Any) -> list[str]:
    """Logical ids a URI points at, however written (`Ref`, `Fn::GetAtt`, `${Id}` / `${Id.Arn}`
    in a `Fn::Sub` string, the form hand-written templates use): `cfn.references`."""
    return list(dict.fromkeys(referenced_ids(value)))


# --- ApiServerErrorAlarm --------------------------------------------------------------------


@rule(
    "ApiServerErrorAlarm",
    practice=Practice.MONITORING,
    applies_to=(REST_API,),
    summary="A REST API has no 5XXError alarm with an enabled alarm action",
    explanation=(
        "5XX responses mean the API is failing its callers (function errors, timeouts, "
        "throttled integrations, misconfiguration). An alarm without an enabled alarm action "
        "changes colour in a console nobody watches; it must have one (whether its topic has "
        "a subscriber is not checked)."
    ),
)
def api_server_error_alarm(t: Template) -> Iterator[Violation]:
    """Per REST API (matched by the ApiName dimension): a 5XXError alarm with alarm actions."""
    alarmed: dict[str, list[str]] = {}
    silent: dict[str, str] = {}
    for alarm_id, props in t.of_type("AWS::CloudWatch::Alarm"):
        notifies = alarm_always_notifies(props, t.body)
        for api_name in _server_error_api_names(props):
            if notifies:
                alarmed.setdefault(api_name, []).append(alarm_id)
            else:
                silent.setdefault(api_name, alarm_id)
    for logical_id, props in t.of_type(REST_API):
        name = props.get("Name")
        key = _key(name) if name is not None else None
        if key is None:
            alarms = [a for ids in alarmed.values() for a in ids]
            quiet = next(iter(silent.values()), None)
        else:
            alarms = alarmed.get(key, [])
            quiet = silent.get(key)
        if any(t.exists_with(a, logical_id) for a in alarms):
            continue
        yield Violation(
            logical_id,
            "Properties",
            f"the 5XXError alarm {alarms[0]} has a Condition the API does not share (it may not "
            "exist when the API does)"
            if alarms
            else f"the 5XXError alarm {quiet} has no enabled AlarmActions"
            if quiet
            else "no AWS::CloudWatch::Alarm on the AWS/ApiGateway 5XXError metric of this API",
            "use SecureApi (5XX, 4XX-rate and p99 latency alarms to the stack's alarm topic), or "
            "secure_constructs.monitoring.alarm(..., metric=api.metric_server_error(), topic=...)",
        )


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _server_error_api_names(props: Mapping[str, Any]) -> Iterator[str]:
    for metric in alarm_metrics(props):
        if metric.get("Namespace") != "AWS/ApiGateway":
            continue
        if metric.get("MetricName") != "5XXError":
            continue
        for dimension in as_list(metric.get("Dimensions")):
            if isinstance(dimension, Mapping) and dimension.get("Name") == "ApiName":
                yield _key(dimension.get("Value"))


# --- ApiCorsWildcardCredentials -------------------------------------------------------------


@rule(
    "ApiCorsWildcardCredentials",
    practice=Practice.API_PROTECTION,
    applies_to=("AWS::ApiGateway::GatewayResponse", METHOD),
    summary="An API's CORS headers allow any origin together with credentials",
    explanation=(
        "Access-Control-Allow-Origin '*' with Access-Control-Allow-Credentials 'true' asks "
        "browsers to let any web site make credentialed calls and read the answers. Browsers "
        "refuse that exact pair, so configurations that contain it are usually 'fixed' by "
        "echoing the caller's Origin, which is worse. Credentials need an explicit list of "
        "origins."
    ),
    severity=Severity.ERROR,
)
def api_cors_wildcard_credentials(t: Template) -> Iterator[Violation]:
    """Gateway responses and method integration responses setting both headers."""
    fix = (
        "list the allowed origins explicitly (SecureApi(cors_allow_origins=['https://app."
        "example.com'], cors_allow_credentials=True)), or drop credentials"
    )
    for logical_id, props in t.of_type("AWS::ApiGateway::GatewayResponse"):
        if _wildcard_with_credentials(props.get("ResponseParameters"), "gatewayresponse.header."):
            yield Violation(
                logical_id,
                "Properties/ResponseParameters",
                "the gateway response allows origin '*' with credentials",
                fix,
            )
    for logical_id, props in t.of_type(METHOD):
        integration = props.get("Integration")
        if not isinstance(integration, Mapping):
            continue
        for index, response in enumerate(as_list(integration.get("IntegrationResponses"))):
            if not isinstance(response, Mapping):
                continue
            if _wildcard_with_credentials(
                response.get("ResponseParameters"), "method.response.header."
            ):
                yield Violation(
                    logical_id,
                    f"Properties/Integration/IntegrationResponses/{index}/ResponseParameters",
                    f"the {_method_verb(props)} method's response allows origin '*' with "
                    "credentials",
                    fix,
                )


def _wildcard_with_credentials(parameters: Any, prefix: str) -> bool:
    if not isinstance(parameters, Mapping):
        return False
    headers: dict[str, str] = {}
    for key, value in parameters.items():
        if isinstance(key, str) and key.lower().startswith(prefix) and isinstance(value, str):
            headers[key[len(prefix) :].lower()] = value.strip().strip("'\"").strip()
    return (
        headers.get("access-control-allow-origin") == "*"
        and headers.get("access-control-allow-credentials", "").lower() == "true"
    )


# --- ApiMethodAuthorization -----------------------------------------------------------------

_OPEN_AUTHORIZATION = "NONE"


@rule(
    "ApiMethodAuthorization",
    practice=Practice.API_PROTECTION,
    applies_to=(METHOD, REST_API),
    summary="An API method can be called without authorization",
    explanation=(
        "A REST API method with AuthorizationType NONE (API Gateway's default when the property "
        "is missing) lets anyone on the internet call the integration behind it: read data, "
        "run the function and its bill. An API key is not authorization: it identifies a "
        "usage plan, is sent in clear and is often shared. Every method needs an IAM, Cognito "
        "or Lambda authorizer; a route that must be public says why in an acknowledgement. "
        "An AuthorizationType behind an intrinsic (Fn::If, a parameter) that can resolve to "
        "NONE counts as NONE. CORS preflight (OPTIONS) methods are exempt only as MOCK "
        "integrations: browsers send them without credentials, and a MOCK answer runs no "
        "code. Methods defined in an OpenAPI Body (SpecRestApi) are judged the same way, by "
        "their security requirements and x-amazon-apigateway-auth."
    ),
)
def api_method_authorization(t: Template) -> Iterator[Violation]:
    """Methods (resources and OpenAPI bodies) whose authorization is or can be NONE."""
    for logical_id, props in t.of_type(METHOD):
        verb = _method_verb(props)
        integration = props.get("Integration")
        kind_of = integration.get("Type") if isinstance(integration, Mapping) else None
        if verb == "OPTIONS" and isinstance(kind_of, str) and kind_of.upper() == "MOCK":
            continue
        kind = props.get("AuthorizationType")
        if kind is None:
            state = "no AuthorizationType (NONE)"
        elif isinstance(kind, str):
            if kind.strip().upper() != _OPEN_AUTHORIZATION:
                continue
            state = "AuthorizationType NONE"
        else:
            rendered = renderings(kind)
            if not any(r.strip().upper() == _OPEN_AUTHORIZATION for r in rendered):
                continue  # an intrinsic that cannot be NONE (a parameter is judged below)
            state = "an AuthorizationType that can resolve to NONE"
        yield Violation(
            logical_id,
            "Properties/AuthorizationType",
            f"the {verb or 'API'} method has {state}: anyone can call it",
            "use SecureApi (an authorizer is required: authorizer=ApiAuth.cognito(...), "
            "ApiAuth.iam() or ApiAuth.lambda_token(...)), or set AuthorizationType to AWS_IAM, "
            "COGNITO_USER_POOLS or CUSTOM with an AuthorizerId; for a route that must be "
            "public, add_route(..., auth=ApiAuth.none(reason='...'))",
        )
    for logical_id, props in t.of_type(REST_API):
        for where, verb, path in openapi_open_operations(props.get("Body")):
            yield Violation(
                logical_id,
                where,
                f"the OpenAPI operation {verb} {path} has no security requirement naming an "
                "authorizer (x-amazon-apigateway-authtype) or AWS_IAM: anyone can call it",
                "give the operation (or the document) a 'security' entry naming a "
                "securitySchemes entry with x-amazon-apigateway-authorizer / "
                "x-amazon-apigateway-authtype, or 'x-amazon-apigateway-auth': {'type': "
                "'AWS_IAM'}; make CORS preflights MOCK integrations",
                finding_id=f"{verb} {path}",
            )


# --- ApiStageThrottling ---------------------------------------------------------------------


@rule(
    "ApiStageThrottling",
    practice=Practice.API_PROTECTION,
    applies_to=(STAGE, "AWS::ApiGateway::Deployment"),
    summary="An API stage does not throttle every method",
    explanation=(
        "Without stage throttling, every method of the stage shares only the account's "
        "regional limit (10,000 requests per second by default): one caller flooding one "
        "route scales its Lambda functions up to their concurrency limit, runs up the bill "
        "and throttles every other API and function of the account. A stage needs a "
        "MethodSettings entry for all methods (ResourcePath '/*', HttpMethod '*', written "
        "'/*/*') with both ThrottlingRateLimit and ThrottlingBurstLimit; single routes may "
        "then get their own limits. A Deployment with a StageName creates a stage too: its "
        "StageDescription is judged the same way."
    ),
)
def api_stage_throttling(t: Template) -> Iterator[Violation]:
    """Stages without a `/*/*` method setting carrying both throttling limits."""
    for stage in stages(t.resources):
        logical_id, props = stage.logical_id, stage.props
        settings = method_settings(stage)
        every_method = [s for s in settings if _for_every_method(s)]
        if any(_throttles(s) for s in every_method) or intrinsic(props.get("MethodSettings")):
            continue
        if every_method:
            missing = " and ".join(
                key for key in _THROTTLING_KEYS if not _limit_set(every_method[0].get(key))
            )
            message = f"the stage's '/*/*' method setting does not set {missing}"
        else:
            message = "no MethodSettings entry throttles every method ('/*/*') of the stage"
        if stage.from_deployment:
            message += (
                f" (stage {stage.name!r} is created by this Deployment's StageName, outside "
                "SecureApi)"
            )
        yield Violation(
            logical_id,
            f"{stage.path}/MethodSettings",
            message,
            "add no stage beside SecureApi's (a second SecureApi(stage_name=...) gives "
            "another protected stage), or use SecureApi (throttle_rate_limit= / "
            "throttle_burst_limit= for the whole stage, add_route(..., throttle_rate_limit=...) "
            "per route), or add "
            '{"ResourcePath": "/*", "HttpMethod": "*", "ThrottlingRateLimit": <rps>, '
            '"ThrottlingBurstLimit": <burst>} to the stage\'s MethodSettings',
        )


_THROTTLING_KEYS = ("ThrottlingRateLimit", "ThrottlingBurstLimit")


def _for_every_method(setting: Mapping[str, Any]) -> bool:
    return setting.get("ResourcePath") == "/*" and setting.get("HttpMethod") == "*"


def _throttles(setting: Mapping[str, Any]) -> bool:
    return all(_limit_set(setting.get(key)) for key in _THROTTLING_KEYS)


def _limit_set(value: Any) -> bool:
    """A throttling limit that is set: a non-negative number, or an intrinsic (deploy time)."""
    if intrinsic(value) is not None:
        return True
    limit = number(value)
    return limit is not None and limit >= 0


RULES = (
    api_request_validation,
    api_lambda_timeout,
    api_server_error_alarm,
    api_cors_wildcard_credentials,
    api_method_authorization,
    api_stage_throttling,
)
