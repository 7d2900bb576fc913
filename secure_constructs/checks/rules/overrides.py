"""Rules for what an escape hatch (`add_property_override`, a hand-edited template) can break:
execution-log data trace, X-Ray on API stages and functions, log group encryption, and API
integrations that leave the account or the TLS channel.

SecureApi and SecureFunction set each of these correctly; the rules make sure an override, a
hand-added resource or a foreign template cannot quietly undo them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from secure_constructs.checks.api_facts import (
    DEPLOYMENT,
    STAGE,
    method_settings,
    stage_tracing,
    stages,
)
from secure_constructs.checks.cfn import renderings
from secure_constructs.checks.model import Practice, Template, Violation, resource_violations, rule

METHOD = "AWS::ApiGateway::Method"
REST_API = "AWS::ApiGateway::RestApi"
FUNCTION = "AWS::Lambda::Function"
LOG_GROUP = "AWS::Logs::LogGroup"
PLAIN_HTTP_FINDING = "PlainHttp"
EXTERNAL_FINDING = "ExternalHost"


def can_be_true(value: Any) -> bool:
    """Whether a boolean property is or can be (`Fn::If`) true in some rendering."""
    return any(r.strip().lower() == "true" for r in renderings(value))


# --- ApiDataTrace ---------------------------------------------------------------------------


@rule(
    "ApiDataTrace",
    granular=True,
    practice=Practice.SECRETS,
    applies_to=(STAGE, DEPLOYMENT),
    summary="An API stage logs full requests and responses (DataTraceEnabled)",
    explanation=(
        "DataTraceEnabled writes every request and response of the stage, headers and bodies "
        "included, to the execution log group: bearer tokens, API keys, passwords and personal "
        "data end up in CloudWatch Logs for anyone who can read them. AWS advises against it in "
        "production. SecureApi never sets it; execution logs at INFO or ERROR level and the "
        "JSON access log say what happened without the payloads."
    ),
)
def api_data_trace(t: Template) -> Iterator[Violation]:
    """Stages (and Deployment stages) with a method setting whose DataTraceEnabled can be true."""
    for stage in stages(t.resources):
        for index, setting in enumerate(method_settings(stage)):
            if not can_be_true(setting.get("DataTraceEnabled")):
                continue
            where = setting.get("ResourcePath", "/*"), setting.get("HttpMethod", "*")
            yield Violation(
                stage.logical_id,
                f"{stage.path}/MethodSettings/{index}/DataTraceEnabled",
                f"method setting {where[0]} {where[1]} logs full request and response bodies "
                "(DataTraceEnabled)",
                "remove DataTraceEnabled (SecureApi never sets it); debug with the access log "
                "and X-Ray traces, or turn it on briefly outside production",
                finding_id=f"{where[0]} {where[1]}",
            )


# --- ApiStageTracing / FunctionTracing ------------------------------------------------------


@rule(
    "ApiStageTracing",
    practice=Practice.MONITORING,
    applies_to=(STAGE, DEPLOYMENT),
    summary="An API stage does not send traces to X-Ray",
    explanation=(
        "Without TracingEnabled, a request's path through API Gateway, the authorizer and the "
        "function cannot be followed in X-Ray, and the trace id in the access log leads "
        "nowhere. cdk-nag's Serverless-APIGWXrayEnabled is a warning; in this pack X-Ray off "
        "is an error, acknowledged with a reason when it is deliberate."
    ),
)
def api_stage_tracing(t: Template) -> Iterator[Violation]:
    """Stages whose TracingEnabled is missing or can be false."""
    for stage in stages(t.resources):
        tracing = stage_tracing(stage)
        values = [r.strip().lower() for r in renderings(tracing)]
        if values and all(v == "true" for v in values):
            continue
        if values and "\x00" in "".join(values):
            continue  # a parameter known only at deploy time
        yield Violation(
            stage.logical_id,
            f"{stage.path}/TracingEnabled",
            "X-Ray tracing is off on this stage"
            + (
                f" ({stage.name!r}, made by a Deployment's StageName)"
                if stage.from_deployment
                else ""
            ),
            "use SecureApi (its stage has tracing on) and remove the override, or set "
            "TracingEnabled: true",
        )


@rule(
    "FunctionTracing",
    practice=Practice.MONITORING,
    applies_to=(FUNCTION,),
    summary="A Lambda function does not have X-Ray active tracing",
    explanation=(
        "A function without TracingConfig Mode Active sends no segment unless its caller "
        "samples the request, so cold starts, downstream calls and errors disappear from the "
        "service map. cdk-nag's Serverless-LambdaTracing is a warning; in this pack it is an "
        "error: SecureFunction(tracing=...) away from ACTIVE needs an acknowledgement that "
        "says why."
    ),
)
def function_tracing(t: Template) -> Iterator[Violation]:
    """Functions whose TracingConfig.Mode is not Active."""
    return resource_violations(
        t,
        (FUNCTION,),
        "Properties/TracingConfig",
        "use SecureFunction (tracing=Tracing.ACTIVE by default) and remove the override, "
        'or set TracingConfig: {"Mode": "Active"}',
        _tracing_off,
    )


def _tracing_off(props: Mapping[str, Any]) -> str | None:
    config = props.get("TracingConfig")
    mode = config.get("Mode") if isinstance(config, Mapping) else None
    values = renderings(mode)
    if values and all(v == "Active" or "\x00" in v for v in values):
        return None
    return "X-Ray active tracing is off" + (
        f" (Mode {mode!r})" if isinstance(mode, str) else " (no TracingConfig)"
    )


# --- LogGroupEncryption ---------------------------------------------------------------------


@rule(
    "LogGroupEncryption",
    practice=Practice.SECRETS,
    applies_to=(LOG_GROUP,),
    applies_if=lambda t: _has_key(t),
    summary="A log group is not encrypted with the stack's KMS key",
    explanation=(
        "Logs carry request ids, caller identities, error messages and sometimes data. "
        "CloudWatch Logs encrypts them with a service key anyone with logs:GetLogEvents can "
        "read through; a customer-managed key adds a second, auditable permission. When the "
        "stack already has a KMS key (SecureFunction, SecureApi and SecureWebAcl use one), a "
        "log group without KmsKeyId is an override or an oversight."
    ),
)
def log_group_encryption(t: Template) -> Iterator[Violation]:
    """Log groups without KmsKeyId in a template that holds an AWS::KMS::Key."""
    if not _has_key(t):
        return iter(())
    return resource_violations(
        t,
        (LOG_GROUP,),
        "Properties/KmsKeyId",
        "remove the override that drops KmsKeyId, or pass encryption_key="
        "secure_constructs.shared.security_key(self) to logs.LogGroup",
        lambda props: (
            None
            if props.get("KmsKeyId") not in (None, "")
            else "the log group has no KmsKeyId although the stack has a KMS key"
        ),
    )


def _has_key(t: Template) -> bool:
    return any(True for _ in t.of_type("AWS::KMS::Key"))


# --- ApiHttpIntegration ---------------------------------------------------------------------


@rule(
    "ApiHttpIntegration",
    granular=True,
    never_acceptable=(PLAIN_HTTP_FINDING,),
    practice=Practice.API_PROTECTION,
    applies_to=(METHOD, REST_API),
    summary="An API method proxies to an HTTP backend in clear text or outside the account",
    explanation=(
        "An HTTP or HTTP_PROXY integration with an http:// URI sends every request, the "
        "caller's Authorization header included, unencrypted across the network to a host "
        "nobody in this template controls (finding [PlainHttp], never acceptable). An https:// "
        "integration over the internet (not through a VPC link) forwards callers' requests to "
        "a host outside the account: acknowledge [ExternalHost] with the reason the host is "
        "trusted. Such integrations also need the stage's client certificate, so that the "
        "backend can tell API Gateway's calls from anyone else's."
    ),
)
def api_http_integration(t: Template) -> Iterator[Violation]:
    """HTTP(S) integrations of methods and OpenAPI bodies: plain http, or over the internet."""
    for logical_id, props in t.of_type(METHOD):
        integration = props.get("Integration")
        if isinstance(integration, Mapping):
            yield from _judge(logical_id, "Properties/Integration", integration, "Uri")
    for logical_id, props in t.of_type(REST_API):
        body = props.get("Body")
        paths = body.get("paths") if isinstance(body, Mapping) else None
        for path, item in paths.items() if isinstance(paths, Mapping) else ():
            for verb, operation in item.items() if isinstance(item, Mapping) else ():
                found = (
                    operation.get("x-amazon-apigateway-integration")
                    if isinstance(operation, Mapping)
                    else None
                )
                if isinstance(found, Mapping):
                    where = f"Properties/Body/paths/{path}/{verb}/x-amazon-apigateway-integration"
                    yield from _judge(logical_id, where, found, "uri", "type", "connectionType")


def _judge(
    logical_id: str,
    where: str,
    integration: Mapping[str, Any],
    uri_key: str,
    type_key: str = "Type",
    connection_key: str = "ConnectionType",
) -> Iterator[Violation]:
    kind = str(integration.get(type_key, "")).upper()
    if kind not in ("HTTP", "HTTP_PROXY"):
        return
    uris = [r.strip().lower() for r in renderings(integration.get(uri_key))]
    if any(u.startswith("http://") for u in uris):
        yield Violation(
            logical_id,
            f"{where}/{uri_key}",
            "the integration sends requests to an http:// URI, unencrypted",
            "use an https:// URI (SecureApi refuses http:// integrations), or reach the "
            "backend through a VPC link",
            finding_id=PLAIN_HTTP_FINDING,
        )
    if str(integration.get(connection_key, "INTERNET")).upper() != "VPC_LINK":
        yield Violation(
            logical_id,
            f"{where}/{uri_key}",
            "the integration proxies callers' requests to a host over the internet, outside "
            "the account",
            "route to a Lambda function (SecureApi.add_route) or through a VPC link, or "
            "acknowledge SecureServerless::ApiHttpIntegration[ExternalHost] on the method "
            "with the reason the host is trusted",
            finding_id=EXTERNAL_FINDING,
        )


RULES = (
    api_data_trace,
    api_stage_tracing,
    function_tracing,
    log_group_encryption,
    api_http_integration,
)
