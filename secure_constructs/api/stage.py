"""A SecureApi stage's settings: JSON access logs, the method settings (throttling, metrics,
execution logs at ERROR, caching) and the stage's acknowledgements."""

from __future__ import annotations

import json
from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_logs as logs
from constructs import Construct

from secure_constructs.checks.packs import acknowledge_made
from secure_constructs.shared import ACCESS_LOG_PREFIX, security_key

STAGE_PACKS = ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")
"""The cdk-nag packs whose stage rules (cache, client certificate) SecureApi answers."""

ACCESS_LOG_FIELDS: dict[str, str] = {
    "requestId": "$context.requestId",
    "extendedRequestId": "$context.extendedRequestId",
    "xrayTraceId": "$context.xrayTraceId",
    "requestTime": "$context.requestTimeEpoch",
    "sourceIp": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "caller": "$context.identity.caller",
    "userArn": "$context.identity.userArn",
    "principalId": "$context.authorizer.principalId",
    "cognitoSub": "$context.authorizer.claims.sub",
    "apiKeyId": "$context.identity.apiKeyId",
    "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "protocol": "$context.protocol",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integration.latency",
    "integrationStatus": "$context.integration.status",
    "integrationErrorMessage": "$context.integrationErrorMessage",
    "errorMessage": "$context.error.message",
    "errorResponseType": "$context.error.responseType",
    "authorizerError": "$context.authorizer.error",
    "wafResponseCode": "$context.wafResponseCode",
    "webAclArn": "$context.webaclArn",
}
"""The JSON access-log record: who called (IP, IAM caller, authorizer principal, Cognito sub, API
key id), what (method, resource path), the outcome (status, latency, integration and authorizer
errors, WAF response) and the ids to correlate (request id, X-Ray trace id). The full request path
and query string are left out: they can carry identifiers and tokens."""

_CACHE_REASON = (
    "Stage caching stays off by default: API Gateway's cache key does not include the caller, so "
    "cached authenticated responses can leak across users. Turn it on with SecureApi(cache="
    "ApiCache(...)), which encrypts the cache and puts the Authorization header in every "
    "method's cache key."
)
_CLIENT_CERTIFICATE_REASON = (
    "A stage client certificate authenticates API Gateway to HTTP backends; every SecureApi "
    "route integrates a Lambda function, which API Gateway invokes through the Lambda API with "
    "SigV4, as the API's invoke role (lambda:InvokeFunction on exactly the routed functions), "
    "so a certificate would never be presented (and would expire unrotated after a year)."
)


def add_access_logs(
    api: Construct, stage: apigateway.CfnStage, retention: logs.RetentionDays
) -> logs.LogGroup:
    """The API's `AccessLogs` group (prefixed, encrypted with the stack key), set as the stage's
    JSON access log destination."""
    group = logs.LogGroup(
        api,
        "AccessLogs",
        log_group_name=ACCESS_LOG_PREFIX
        + cdk.Names.unique_resource_name(api, max_length=200, separator="-"),
        retention=retention,
        encryption_key=security_key(api),
    )
    stage.access_log_setting = apigateway.CfnStage.AccessLogSettingProperty(
        destination_arn=group.log_group_arn,
        format=json.dumps(ACCESS_LOG_FIELDS, separators=(",", ":")),
    )
    return group


def method_setting(
    http_method: str, resource_path: str, rate: float, burst: int, cache_ttl: int | None
) -> apigateway.CfnStage.MethodSettingProperty:
    """One method setting: execution logs at ERROR without data, metrics on, the throttle,
    and the (encrypted) cache when `cache_ttl` is not None."""
    return apigateway.CfnStage.MethodSettingProperty(
        http_method=http_method,
        resource_path=resource_path,
        logging_level="ERROR",
        data_trace_enabled=False,
        metrics_enabled=True,
        throttling_rate_limit=rate,
        throttling_burst_limit=burst,
        caching_enabled=cache_ttl is not None,
        cache_data_encrypted=True if cache_ttl is not None else None,
        cache_ttl_in_seconds=cache_ttl,
    )


def method_settings(
    stage_throttle: tuple[float, int],
    route_throttles: Sequence[tuple[str, str, float, int]],
    cache_ttl: int | None,
) -> list[apigateway.CfnStage.MethodSettingProperty | cdk.IResolvable]:
    """The stage's method settings: `*` `/*` with the stage's throttle, then one per route
    whose (method, path, rate, burst) differs from it."""
    rate, burst = stage_throttle
    settings: list[apigateway.CfnStage.MethodSettingProperty | cdk.IResolvable] = [
        method_setting("*", "/*", rate, burst, cache_ttl)
    ]
    for verb, path, route_rate, route_burst in route_throttles:
        settings.append(
            method_setting(
                "*" if verb == "ANY" else verb,
                "/" if path == "/" else "/" + path.replace("/", "~1"),
                route_rate,
                route_burst,
                cache_ttl,
            )
        )
    return settings


def acknowledge_no_cache(stage: Construct) -> None:
    """The stage cache is off by default (see _CACHE_REASON)."""
    for pack in STAGE_PACKS:
        acknowledge_made(stage, f"{pack}-APIGWCacheEnabledAndEncrypted", _CACHE_REASON)


def acknowledge_no_client_certificate(stage: Construct) -> None:
    """No client certificate: every integration is Lambda, an AWS service or a MOCK."""
    for pack in STAGE_PACKS:
        acknowledge_made(stage, f"{pack}-APIGWSSLEnabled", _CLIENT_CERTIFICATE_REASON)
