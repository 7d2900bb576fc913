"""SecureApi: a REST API whose every route is authorized, validated, throttled, logged, traced
and behind a web ACL by default, with an OpenAPI document of its routes for DAST scanners."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Unpack

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct, IConstruct

from secure_constructs._options import ApiOptions
from secure_constructs.api_guards import check_schema_strength, guard_api
from secure_constructs.auth import ApiAuth
from secure_constructs.checks import acknowledge
from secure_constructs.checks.api_facts import ADDITIONAL_PROPERTIES_FINDING
from secure_constructs.errors import ValidationError
from secure_constructs.monitoring import alarm, subscribe_emails, validate_emails
from secure_constructs.prop_types import check_args
from secure_constructs.shared import alarm_topic as stack_alarm_topic
from secure_constructs.shared import security_key, stack_of
from secure_constructs.validation import (
    check_number,
    check_reason,
    check_retention,
    is_token_string,
)
from secure_constructs.waf import SecureWebAcl, WafProfile, resolve_waf

__all__ = ["ApiCache", "SecureApi", "SecureApiRoute"]

DEFAULT_STAGE_NAME = "prod"
DEFAULT_RATE_LIMIT = 100.0
DEFAULT_BURST_LIMIT = 200
MAX_INTEGRATION_TIMEOUT_SECONDS = 29
"""API Gateway's default integration timeout: a longer-running function is cut off at 29 s."""
LATENCY_ALARM_RATIO = 0.8
DEFAULT_CLIENT_ERROR_RATE = 0.05
MAX_CACHE_TTL_SECONDS = 3600
CACHE_CLUSTER_SIZES = ("0.5", "1.6", "6.1", "13.5", "28.4", "58.2", "118", "237")
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "ANY")
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "ANY"})
JSON_SCHEMA_DRAFT4 = "http://json-schema.org/draft-04/schema#"

EXECUTION_LOG_PREFIX = "API-Gateway-Execution-Logs_"
"""API Gateway names each stage's execution log group `API-Gateway-Execution-Logs_<api>/<stage>`."""
ACCESS_LOG_PREFIX = "API-Gateway-Access-Logs_"
"""SecureApi names its access log groups with this prefix, so that the account-level CloudWatch
role can be scoped to the two prefixes instead of every log group of the account."""
ACCOUNT_LOGGING_ID = "SecureConstructsApiGatewayAccount"

MANAGED_POLICY_MAX_CHARACTERS = 6144
"""IAM's limit on a customer-managed policy document (whitespace not counted)."""
MAX_INVOKE_POLICIES = 10
"""IAM's default quota of managed policies attached to one role (the invoke role's)."""
INVOKE_POLICY_BUDGET = MANAGED_POLICY_MAX_CHARACTERS - 200
"""Characters an invoke policy spends on function ARNs: the rest of its document,
`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"lambda:InvokeFunction",
"Resource":[...]}]}`, is about 100 characters; the other 100 are margin."""
MAX_UNQUALIFIED_FUNCTION_ARN = len("arn::lambda::123456789012:function:") + 10 + 20 + 64
"""The longest ARN a function with a generated name can get at deploy time (129): partition
up to 10 characters (aws-us-gov), region up to 20, and Lambda's 64-character name limit, which
CloudFormation's generated names reach."""
MAX_FUNCTION_QUALIFIER = 128
"""Lambda's limit on an alias name (a version number is far shorter)."""
MAX_VERSION_QUALIFIER = 10
FUNCTIONS_PER_INVOKE_POLICY = INVOKE_POLICY_BUDGET // (MAX_UNQUALIFIED_FUNCTION_ARN + 3)
"""How many functions with generated names (unqualified ARNs) one invoke policy holds: 45.
Each ARN costs its length plus 3 (quotes and comma); aliases with long names, versions and
imported functions whose ARN is a token cost more (their longest possible ARN is counted),
literal ARNs exactly their length."""

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

_PATH_SEGMENT = re.compile(r"^(?:[A-Za-z0-9._-]+|\{[A-Za-z_][A-Za-z0-9_]*\+?\})$")
_STAGE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_PARAMETER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$")
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(?::\d{1,5})?$")
_OPERATION = re.compile(r"[^A-Za-z0-9]+")

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
_LOG_PREFIX_REASON = (
    "The account-level API Gateway CloudWatch role writes execution logs to "
    "API-Gateway-Execution-Logs_<rest api id>/<stage> groups, whose names API Gateway derives "
    "from ids known only at deploy time, and SecureApi access logs to API-Gateway-Access-Logs_* "
    "groups; the role is shared by every API of the account and region, so it is scoped to "
    "these two name prefixes rather than to named log groups."
)


@dataclass(frozen=True)
class ApiCache:
    """Stage caching for a SecureApi (off unless passed as `SecureApi(cache=ApiCache(...))`).

    The cache is encrypted and every method's cache key includes the `Authorization` header (and
    the route's declared path, query and header parameters), so one caller's cached response is
    never served to another. API Gateway caches GET responses only.

    :param ttl: how long a response is cached, 0 s to 1 hour. Default: 5 minutes.
    :param cluster_size: the cache size in GB (one of 0.5, 1.6, 6.1, 13.5, 28.4, 58.2, 118,
        237); billed per hour while the stage exists. Default: "0.5".
    """

    ttl: cdk.Duration | None = None
    cluster_size: str = "0.5"

    def __post_init__(self) -> None:
        check_args(ApiCache.__init__, vars(self))


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


class SecureApi(apigateway.RestApi):
    """A regional REST API with a required authorizer, request validation, stage throttling,
    JSON access logs, X-Ray, a web ACL and alarms; add routes with `add_route`.

    Every keyword argument of `aws_apigateway.RestApi` passes through (`rest_api_name`,
    `description`, `policy`, `endpoint_types`, `binary_media_types`, ...) except those that
    SecureApi sets for its security promise: `deploy`, `deploy_options`, `cloud_watch_role`,
    `cloud_watch_role_removal_policy`, `default_method_options`, `default_integration` and
    `default_cors_preflight_options` (use the props below).

    :param auth: the default authorization of every route (`ApiAuth.cognito(pool)`,
        `ApiAuth.iam()`, `ApiAuth.lambda_token(fn)`, `ApiAuth.lambda_request(fn, ...)`);
        required. `ApiAuth.none` is refused here: make single routes public with
        `add_route(..., auth=ApiAuth.none(reason=...))`.
    :param stage_name: the one stage. Default: "prod".
    :param throttle_rate_limit: steady-state requests per second for every method of the stage.
        Default: 100.
    :param throttle_burst_limit: burst capacity, at least the rate. Default: 200.
    :param waf: a `WafProfile` (a new `SecureWebAcl` is created under this API) or the ARN of an
        existing REGIONAL web ACL; associated with the stage. Default: `WafProfile.baseline()`.
    :param cors_allow_origins: explicit origins (`https://app.example.com`) allowed to call the
        API from a browser; adds an OPTIONS preflight method, without authorization, to every
        resource. `"*"` is allowed only without credentials. Default: no CORS.
    :param cors_allow_credentials: let browsers send cookies / Authorization cross-origin.
        Default: False.
    :param cors_allow_headers: request headers the preflight allows. Default: Content-Type,
        X-Amz-Date, Authorization, X-Api-Key, X-Amz-Security-Token, X-Amz-User-Agent.
    :param cache: `ApiCache(...)` turns on an encrypted stage cache keyed by caller. Default: no
        cache (see docs/secure-api.md for why).
    :param log_retention: of the access logs; `INFINITE` is refused. Default: one year.
    :param manage_account_logging: create this stack's API Gateway account setting (the
        account- and region-wide CloudWatch role, with a customer-managed policy scoped to
        the execution and SecureApi access log groups). Set False when the account setting is
        managed elsewhere (e.g. by a landing zone). Default: True.
    :param alarm_topic: where the API's alarms (and the web ACL's) go. Default: the stack's
        alarm topic.
    :param alarm_emails: addresses to subscribe to the alarm topic. Default: none.
    :param client_error_rate_threshold: alarm when more than this fraction of requests in 5
        minutes end in a 4XX (0 < x < 1). Default: 0.05.
    :param latency_alarm_threshold: alarm when p99 latency exceeds it. Default: 80% of the
        longest integration timeout of the routes (the smaller of the function's timeout and
        29 s), updated as routes are added.

    API Gateway invokes the routed functions as `invoke_role` (None until the first route): one
    role per API, trusted by `apigateway.amazonaws.com`, whose customer-managed
    `invoke_policies` allow `lambda:InvokeFunction` on exactly the routed function ARNs; no
    Lambda permission is added to the functions. The trust policy has no `aws:SourceArn` /
    `aws:SourceAccount` condition (AWS does not document API Gateway sending them when it
    assumes integration credentials): `iam:PassRole` on the role is what restricts who can make
    an integration use it, and a role cannot be passed to another account.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        auth: ApiAuth | None = None,
        stage_name: str = DEFAULT_STAGE_NAME,
        throttle_rate_limit: float = DEFAULT_RATE_LIMIT,
        throttle_burst_limit: int = DEFAULT_BURST_LIMIT,
        waf: WafProfile | str | None = None,
        cors_allow_origins: Sequence[str] = (),
        cors_allow_credentials: bool = False,
        cors_allow_headers: Sequence[str] | None = None,
        cache: ApiCache | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        manage_account_logging: bool = True,
        alarm_topic: sns.ITopic | None = None,
        alarm_emails: str | Sequence[str] = (),
        client_error_rate_threshold: float = DEFAULT_CLIENT_ERROR_RATE,
        latency_alarm_threshold: cdk.Duration | None = None,
        **options: Unpack[ApiOptions],
    ) -> None:
        check_args(SecureApi.__init__, locals())
        _refuse_options(options)
        default_auth = _check_default_auth(auth)
        _check_stage_name(stage_name)
        _check_throttle("throttle_rate_limit", throttle_rate_limit, throttle_burst_limit)
        cors = _cors_options(cors_allow_origins, cors_allow_credentials, cors_allow_headers)
        cache_ttl = _check_cache(cache)
        check_retention("log_retention", log_retention)
        _check_rate_threshold(client_error_rate_threshold)
        _check_latency_threshold(latency_alarm_threshold)
        emails = validate_emails("alarm_emails", alarm_emails)
        if "endpoint_types" not in options and "endpoint_configuration" not in options:
            options["endpoint_types"] = [apigateway.EndpointType.REGIONAL]

        super().__init__(
            scope,
            construct_id,
            cloud_watch_role=False,
            deploy=True,
            deploy_options=apigateway.StageOptions(
                stage_name=stage_name,
                tracing_enabled=True,
                cache_cluster_enabled=cache is not None,
                cache_cluster_size=cache.cluster_size if cache is not None else None,
                description=f"secure-constructs stage {stage_name}",
            ),
            default_cors_preflight_options=cors,
            **options,
        )
        self.default_auth: ApiAuth = default_auth
        self.cache: ApiCache | None = cache
        self._cache_ttl = cache_ttl
        self._rate = float(throttle_rate_limit)
        self._burst = int(throttle_burst_limit)
        self._routes: dict[tuple[str, str], SecureApiRoute] = {}
        self._variable_children: dict[str, str] = {}
        self._route_throttles: list[tuple[str, str, float, int]] = []
        self._longest_integration_seconds = 0.0
        self._latency_threshold = latency_alarm_threshold
        self.invoke_role: iam.Role | None = None
        self._api_stack: cdk.Stack = stack_of(scope)
        """The role API Gateway assumes to invoke the routed functions (created by the first
        `add_route`)."""
        self.invoke_policies: list[iam.ManagedPolicy] = []
        """The invoke role's policies: `lambda:InvokeFunction` on the routed function ARNs, a
        new policy every FUNCTIONS_PER_INVOKE_POLICY functions with generated names."""
        self._invoked_arns: set[str] = set()
        self._invoke_statement: iam.PolicyStatement | None = None
        self._invoke_policy_characters = 0

        stage = self.deployment_stage
        self.stage_resource: apigateway.CfnStage = stage.node.default_child  # type: ignore[assignment]
        self.access_log_group = logs.LogGroup(
            self,
            "AccessLogs",
            log_group_name=ACCESS_LOG_PREFIX
            + cdk.Names.unique_resource_name(self, max_length=200, separator="-"),
            retention=log_retention,
            encryption_key=security_key(self),
        )
        self.stage_resource.access_log_setting = apigateway.CfnStage.AccessLogSettingProperty(
            destination_arn=self.access_log_group.log_group_arn,
            format=json.dumps(ACCESS_LOG_FIELDS, separators=(",", ":")),
        )
        self._render_method_settings()
        if cache is None:
            for pack in ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321"):
                acknowledge(stage, f"{pack}-APIGWCacheEnabledAndEncrypted", _CACHE_REASON)

        def acknowledge_certificate() -> None:
            for pack in ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321"):
                acknowledge(stage, f"{pack}-APIGWSSLEnabled", _CLIENT_CERTIFICATE_REASON)

        guard_api(self, stage, acknowledge_certificate)

        self.account_logging: ApiGatewayAccountLogging | None = None
        if manage_account_logging:
            self.account_logging = ApiGatewayAccountLogging.of(self)
            stage.node.add_dependency(self.account_logging.account)

        self.request_validator = self.add_request_validator(
            "RequestValidator",
            request_validator_name="body-and-parameters",
            validate_request_body=True,
            validate_request_parameters=True,
        )

        self.alarm_topic: sns.ITopic = alarm_topic or stack_alarm_topic(self)
        subscribe_emails(self.alarm_topic, emails)
        self.web_acl: SecureWebAcl | None = None
        waf = WafProfile.baseline() if waf is None else waf
        if isinstance(waf, WafProfile):
            self.web_acl = SecureWebAcl(self, "WebAcl", profile=waf, alarm_topic=self.alarm_topic)
            web_acl_arn = self.web_acl.web_acl_arn
        else:
            resolved = resolve_waf(self, waf)
            assert resolved is not None
            web_acl_arn = resolved
        self.web_acl_arn: str = web_acl_arn
        self.web_acl_association = wafv2.CfnWebACLAssociation(
            self, "WebAclAssociation", resource_arn=stage.stage_arn, web_acl_arn=web_acl_arn
        )
        self._add_alarms(client_error_rate_threshold)

    # -- routes ----------------------------------------------------------------------------

    def add_route(
        self,
        method: str,
        path: str,
        handler: lambda_.IFunction,
        *,
        request_schema: Mapping[str, Any] | None = None,
        auth: ApiAuth | None = None,
        unvalidated_body_reason: str | None = None,
        additional_properties_reason: str | None = None,
        query_parameters: Mapping[str, bool] | None = None,
        header_parameters: Mapping[str, bool] | None = None,
        throttle_rate_limit: float | None = None,
        throttle_burst_limit: int | None = None,
        api_key_required: bool = False,
        operation_id: str | None = None,
        summary: str | None = None,
    ) -> apigateway.Method:
        """Route `method path` to a Lambda function (proxy integration) and return the method.

        :param method: GET, HEAD, POST, PUT, PATCH, DELETE or ANY (OPTIONS is the CORS
            preflight's, see `cors_allow_origins`).
        :param path: `/`-rooted, e.g. "/items/{id}"; `{name+}` (greedy) only as the last
            segment; no trailing slash.
        :param handler: the function (use a `SecureFunction`), an alias or version (invoked by
            its qualified ARN) or an imported function; a timeout over 29 s is refused. The
            API's `invoke_role` may invoke it from then on.
        :param request_schema: a JSON Schema (draft-04, as API Gateway supports) dict; the body
            is validated against it before the function runs. Required for POST/PUT/PATCH/ANY
            unless `unvalidated_body_reason` is given. Default: no body validation.
        :param auth: this route's authorization. Default: the API's `auth`.
        :param unvalidated_body_reason: why a body route takes no schema (e.g. a binary upload);
            recorded as the acknowledgement of SecureServerless::ApiRequestValidation.
            Default: none (a schema is required).
        :param additional_properties_reason: why the schema lets undeclared properties through
            (`additionalProperties` not false), e.g. clients of several versions send fields
            this one ignores; recorded as the acknowledgement of
            SecureServerless::ApiRequestValidation[additionalProperties]. Default: none (the
            schema must say `"additionalProperties": False`).
        :param query_parameters: query string parameters, name -> required; required ones are
            validated. Default: none.
        :param header_parameters: request headers, name -> required. Default: none.
        :param throttle_rate_limit: requests per second for this route. Default: the stage's.
        :param throttle_burst_limit: burst for this route, at least its rate. Default: the
            stage's (or the route's rate, when that is higher).
        :param api_key_required: require an API key (add a usage plan with `add_usage_plan`).
            Default: False.
        :param operation_id: the OpenAPI operationId. Default: derived from method and path.
        :param summary: the OpenAPI summary. Default: none.
        """
        check_args(SecureApi.add_route, locals())
        verb = _check_method(method)
        segments = _check_path(path)
        normalized = "/" + "/".join(segments)
        if (verb, normalized) in self._routes:
            raise ValidationError(
                "path",
                f"{verb} {normalized}",
                "one route per method and path",
                "remove the second add_route call, or route another method or path",
            )
        self._check_variable_siblings(segments)
        route_auth = self.default_auth if auth is None else auth
        if not isinstance(route_auth, ApiAuth):
            raise ValidationError(
                "auth",
                route_auth,
                "an ApiAuth",
                "pass e.g. auth=ApiAuth.iam() or ApiAuth.none(reason='...')",
            )
        handler_seconds = _check_handler(handler)
        schema = None if request_schema is None else _check_schema(request_schema)
        _check_body(verb, schema, unvalidated_body_reason)
        check_schema_strength(schema, additional_properties_reason)
        queries = _check_parameters("query_parameters", query_parameters)
        headers = _check_parameters("header_parameters", header_parameters)
        rate, burst = self._route_throttle(throttle_rate_limit, throttle_burst_limit)
        operation = operation_id or _operation_id(verb, segments)
        if any(r.operation_id == operation for r in self._routes.values()):
            raise ValidationError(
                "operation_id",
                operation,
                "an operation id used by no other route of the API (it names the OpenAPI "
                "operation and the body model)",
                "pass operation_id='...' with a unique name",
            )

        # Last check, first change: a refused route leaves no resource or grant behind.
        # Read once: every jsii property read is a round trip (issue 7).
        handler_arn = handler.function_arn
        invoke_role = self._grant_invoke(handler, handler_arn)
        resource = self.root.resource_for_path(normalized)
        request_parameters: dict[str, bool] = {}
        for segment in segments:
            if segment.startswith("{"):
                request_parameters[f"method.request.path.{segment.strip('{}+')}"] = True
        for name, required in queries.items():
            request_parameters[f"method.request.querystring.{name}"] = required
        for name, required in headers.items():
            request_parameters[f"method.request.header.{name}"] = required
        cache_keys: list[str] | None = None
        if self.cache is not None:
            request_parameters.setdefault("method.request.header.Authorization", False)
            for source in route_auth.identity_sources:
                if source.startswith("method.request."):
                    request_parameters.setdefault(source, False)
            cache_keys = sorted(request_parameters)

        model: apigateway.IModel | None = None
        if schema is not None:
            model = self._model(operation, schema)
        # Not LambdaIntegration: it adds a Lambda permission per method even with a role.
        integration = apigateway.Integration(
            type=apigateway.IntegrationType.AWS_PROXY,
            integration_http_method="POST",
            uri=self._invocation_uri(handler, handler_arn),
            options=apigateway.IntegrationOptions(
                credentials_role=invoke_role, cache_key_parameters=cache_keys
            ),
        )
        created = resource.add_method(
            verb,
            integration,
            request_validator=self.request_validator,
            request_parameters=request_parameters or None,
            request_models={"application/json": model} if model is not None else None,
            api_key_required=api_key_required,
            operation_name=operation,
            **route_auth.method_options(self),
        )
        self._acknowledge_route(created, route_auth, unvalidated_body_reason)
        if additional_properties_reason is not None:
            acknowledge(
                created,
                f"SecureServerless::ApiRequestValidation[{ADDITIONAL_PROPERTIES_FINDING}]",
                f"Undeclared body properties deliberately accepted: {additional_properties_reason}",
            )
        self._routes[(verb, normalized)] = SecureApiRoute(
            method=verb,
            path=normalized,
            handler=handler,
            auth=route_auth,
            request_schema=schema,
            query_parameters=queries,
            header_parameters=headers,
            api_key_required=api_key_required,
            operation_id=operation,
            summary=summary,
            resource=created,
            model=model,
        )
        if (rate, burst) != (self._rate, self._burst):
            self._route_throttles.append((verb, normalized, rate, burst))
            self._render_method_settings()
        self._note_integration_timeout(handler_seconds)
        return created

    @property
    def routes(self) -> list[SecureApiRoute]:
        """The routes added with `add_route`, in order."""
        return list(self._routes.values())

    def add_usage_plan(  # type: ignore[override]
        self,
        id: str,
        *,
        quota: apigateway.QuotaSettings | None = None,
        throttle: apigateway.ThrottleSettings | None = None,
        api_stages: Sequence[apigateway.UsagePlanPerApiStage] | None = None,
        description: str | None = None,
        name: str | None = None,
    ) -> apigateway.UsagePlan:
        """A usage plan for API keys, with a required quota; covers this API's stage by default.

        :param quota: e.g. `QuotaSettings(limit=10_000, period=Period.DAY)`; required.
        :param throttle: per-key limits. Default: the stage's rate and burst.
        :param api_stages: Default: this API's stage.
        """
        check_args(SecureApi.add_usage_plan, locals())
        if quota is None:
            raise ValidationError(
                "quota",
                None,
                "a QuotaSettings (a usage plan without a quota lets one key use the whole API)",
                "pass e.g. quota=QuotaSettings(limit=10000, period=Period.DAY)",
            )
        return super().add_usage_plan(
            id,
            quota=quota,
            throttle=throttle
            or apigateway.ThrottleSettings(rate_limit=self._rate, burst_limit=self._burst),
            api_stages=list(api_stages)
            if api_stages is not None
            else [apigateway.UsagePlanPerApiStage(api=self, stage=self.deployment_stage)],
            description=description,
            name=name,
        )

    # -- OpenAPI ---------------------------------------------------------------------------

    def openapi_document(self) -> dict[str, Any]:
        """An OpenAPI 3.0 document of the routes: paths, parameters, request body schemas and
        security schemes, for DAST scanners (OWASP ZAP, schemathesis) and API catalogues.

        `servers` holds the stage URL as a template; set `restApiId` (the stack's Endpoint
        output shows it) and `region` when pointing a scanner at the deployed stage.
        """
        stack = cdk.Stack.of(self)
        region = stack.region if not cdk.Token.is_unresolved(stack.region) else "us-east-1"
        stage_label = self.stage_resource.stage_name or DEFAULT_STAGE_NAME
        paths: dict[str, dict[str, Any]] = {}
        schemes: dict[str, Any] = {}
        schemas: dict[str, Any] = {}
        for route in self._routes.values():
            item = paths.setdefault(_openapi_path(route.path), {})
            operation: dict[str, Any] = {"operationId": route.operation_id}
            if route.summary:
                operation["summary"] = route.summary
            parameters = [
                {
                    "name": segment.strip("{}+"),
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string"},
                }
                for segment in route.path.split("/")
                if segment.startswith("{")
            ]
            for location, declared in (
                ("query", route.query_parameters),
                ("header", route.header_parameters),
            ):
                parameters.extend(
                    {"name": n, "in": location, "required": r, "schema": {"type": "string"}}
                    for n, r in declared.items()
                )
            if parameters:
                operation["parameters"] = parameters
            if route.request_schema is not None:
                schemas[route.operation_id] = _openapi_schema(route.request_schema)
                operation["requestBody"] = {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": f"#/components/schemas/{route.operation_id}"}
                        }
                    },
                }
            operation["responses"] = {
                "default": {"description": "The Lambda function's proxy response"}
            }
            requirement: dict[str, list[str]] = {}
            scheme = route.auth.openapi_security_scheme()
            if scheme is not None:
                scheme_name, scheme_object = scheme
                schemes[scheme_name] = scheme_object
                # OpenAPI 3.0 allows scopes only for oauth2/openIdConnect schemes; the schemes
                # here are apiKey (API Gateway's own extension says how they are checked).
                requirement[scheme_name] = []
                if route.auth.scopes:
                    operation["x-oauth-scopes"] = list(route.auth.scopes)
            if route.api_key_required:
                schemes["api_key"] = {"type": "apiKey", "name": "x-api-key", "in": "header"}
                requirement["api_key"] = []
            operation["security"] = [requirement] if requirement else []
            for verb in _openapi_methods(route.method, item):
                item[verb] = operation
        document: dict[str, Any] = {
            "openapi": "3.0.3",
            "info": {
                "title": self.rest_api_name,
                "version": stage_label,
                "description": "Generated by secure-constructs SecureApi.openapi_document()",
            },
            "servers": [
                {
                    "url": "https://{restApiId}.execute-api.{region}.amazonaws.com/" + stage_label,
                    "variables": {
                        "restApiId": {"default": "REST_API_ID"},
                        "region": {"default": region},
                    },
                }
            ],
            "paths": paths,
            "components": {"securitySchemes": schemes, "schemas": schemas},
        }
        resolved: dict[str, Any] = stack.resolve(document)
        return resolved

    def write_openapi(self, path: str | Path) -> Path:
        """Write `openapi_document()` as JSON to `path` (e.g. next to the synthesized templates:
        `api.write_openapi(Path(app.synth().directory) / "MyStack.openapi.json")`)."""
        check_args(SecureApi.write_openapi, locals())
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(self.openapi_document(), indent=2) + "\n", encoding="utf-8")
        return target

    # -- internals -------------------------------------------------------------------------

    def _check_variable_siblings(self, segments: Sequence[str]) -> None:
        parent = ""
        for segment in segments:
            if segment.startswith("{"):
                existing = self._variable_children.get(parent)
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
                self._variable_children.setdefault(parent, segment)
            parent = f"{parent}/{segment}"

    def _invocation_uri(self, handler: lambda_.IFunction, arn: str) -> str:
        """API Gateway's URI for Lambda's Invoke API on the handler's ARN (qualified for an
        alias or version), in the function's region when it is known and the stack's otherwise.
        A function defined in the app is in a stack of the same region (no look-up)."""
        region = None
        if not isinstance(handler, lambda_.Function):
            region = getattr(getattr(handler, "env", None), "region", None)
        return self._api_stack.format_arn(
            service="apigateway",
            account="lambda",
            region=region if isinstance(region, str) and not is_token_string(region) else None,
            resource="path",
            resource_name=f"2015-03-31/functions/{arn}/invocations",
            arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME,
        )

    def _grant_invoke(self, handler: lambda_.IFunction, arn: str) -> iam.Role:
        """The invoke role, with `lambda:InvokeFunction` on the handler's ARN added once."""
        role = self.invoke_role
        if role is not None and arn in self._invoked_arns:
            return role
        cost = _arn_cost(handler, arn)
        statement = self._invoke_statement
        if statement is None or self._invoke_policy_characters + cost > INVOKE_POLICY_BUDGET:
            if len(self.invoke_policies) >= MAX_INVOKE_POLICIES:
                raise ValidationError(
                    "handler",
                    handler.node.path,
                    f"at most {MAX_INVOKE_POLICIES} invoke policies on the API's invoke role "
                    f"(IAM's default limit of managed policies per role), i.e. about "
                    f"{MAX_INVOKE_POLICIES * FUNCTIONS_PER_INVOKE_POLICY} distinct functions "
                    f"with generated names ({len(self._invoked_arns)} routed so far)",
                    "route more paths to the functions already behind this API, or split the "
                    "routes over a second SecureApi",
                )
            if role is None:
                role = iam.Role(
                    self,
                    "InvokeRole",
                    assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
                    description=(
                        "API Gateway assumes this role to invoke the Lambda functions routed "
                        "by one SecureApi (secure-constructs)"
                    ),
                )
                self.invoke_role = role
            statement = iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[])
            number = len(self.invoke_policies) + 1
            policy = iam.ManagedPolicy(
                self,
                "InvokePolicy" if number == 1 else f"InvokePolicy{number}",
                description=(
                    f"Lets API Gateway invoke the functions routed by one SecureApi ({number})"
                ),
                roles=[role],
                statements=[statement],
            )
            # The stage serves requests only once the role may invoke their functions.
            self.deployment_stage.node.add_dependency(policy)
            self.invoke_policies.append(policy)
            self._invoke_statement = statement
            self._invoke_policy_characters = 0
        assert role is not None
        statement.add_resources(arn)
        self._invoke_policy_characters += cost
        self._invoked_arns.add(arn)
        return role

    def _route_throttle(self, rate: float | None, burst: int | None) -> tuple[float, int]:
        if rate is None and burst is None:
            return self._rate, self._burst
        rate = self._rate if rate is None else rate
        check_number("throttle_rate_limit", rate, 0, math.inf, unit="requests per second")
        if burst is None:
            burst = (
                self._burst if cdk.Token.is_unresolved(rate) else max(self._burst, math.ceil(rate))
            )
        _check_throttle("throttle_rate_limit", rate, burst)
        return float(rate), int(burst)

    def _method_setting(
        self, http_method: str, resource_path: str, rate: float, burst: int
    ) -> apigateway.CfnStage.MethodSettingProperty:
        return apigateway.CfnStage.MethodSettingProperty(
            http_method=http_method,
            resource_path=resource_path,
            logging_level="ERROR",
            data_trace_enabled=False,
            metrics_enabled=True,
            throttling_rate_limit=rate,
            throttling_burst_limit=burst,
            caching_enabled=self.cache is not None,
            cache_data_encrypted=True if self.cache is not None else None,
            cache_ttl_in_seconds=self._cache_ttl,
        )

    def _render_method_settings(self) -> None:
        settings: list[apigateway.CfnStage.MethodSettingProperty | cdk.IResolvable] = [
            self._method_setting("*", "/*", self._rate, self._burst)
        ]
        for verb, path, rate, burst in self._route_throttles:
            settings.append(
                self._method_setting(
                    "*" if verb == "ANY" else verb,
                    "/" if path == "/" else "/" + path.replace("/", "~1"),
                    rate,
                    burst,
                )
            )
        self.stage_resource.method_settings = settings

    def _model(self, operation: str, schema: Mapping[str, Any]) -> apigateway.IModel:
        name = _OPERATION.sub("", operation[:1].upper() + operation[1:]) or "Body"
        cfn_model = apigateway.CfnModel(
            self,
            f"{name}Model",
            rest_api_id=self.rest_api_id,
            content_type="application/json",
            name=name,
            schema=dict(schema),
            description=f"Request body of {operation}",
        )
        return apigateway.Model.from_model_name(self, f"{name}ModelRef", cfn_model.ref)

    def _acknowledge_route(
        self, method: apigateway.Method, auth: ApiAuth, unvalidated_body_reason: str | None
    ) -> None:
        if auth.is_public:
            reason = f"Deliberately public route: {auth.reason}"
            acknowledge(method, "AwsSolutions-APIG4", reason)
            acknowledge(method, "AwsSolutions-COG4", reason)
            acknowledge(method, "SecureServerless::ApiMethodAuthorization", reason)
        elif auth.kind != "cognito":
            how = {
                "iam": "IAM (SigV4-signed requests, execute-api:Invoke granted per caller)",
                "lambda_token": "a Lambda TOKEN authorizer",
                "lambda_request": "a Lambda REQUEST authorizer",
            }.get(auth.kind, auth.kind)
            acknowledge(
                method,
                "AwsSolutions-COG4",
                f"Every caller of this method is authorized by {how}; AwsSolutions-COG4 asks "
                "for a Cognito user pool authorizer specifically, which this route's callers "
                "do not use.",
            )
        if unvalidated_body_reason is not None:
            acknowledge(
                method,
                "SecureServerless::ApiRequestValidation",
                f"Request body deliberately not validated: {unvalidated_body_reason}",
            )

    def _note_integration_timeout(self, handler_seconds: float | None) -> None:
        seconds = float(MAX_INTEGRATION_TIMEOUT_SECONDS)
        if handler_seconds is not None:
            seconds = min(seconds, handler_seconds)
        longest = max(self._longest_integration_seconds, seconds)
        if longest != self._longest_integration_seconds:  # re-render only when it changes
            self._longest_integration_seconds = longest
            self._update_latency_threshold()

    def _update_latency_threshold(self) -> None:
        cfn_alarm: cloudwatch.CfnAlarm = self.latency_alarm.node.default_child  # type: ignore[assignment]
        cfn_alarm.threshold = self._latency_threshold_ms()

    def _latency_threshold_ms(self) -> float:
        if self._latency_threshold is not None and not self._latency_threshold.is_unresolved():
            return float(self._latency_threshold.to_milliseconds())
        seconds = self._longest_integration_seconds or MAX_INTEGRATION_TIMEOUT_SECONDS
        return round(seconds * 1000 * LATENCY_ALARM_RATIO)

    def _add_alarms(self, client_error_rate: float) -> None:
        minute = cdk.Duration.minutes(1)
        topic = self.alarm_topic
        self.server_error_alarm = alarm(
            self,
            "ServerErrorAlarm",
            metric=self.metric_server_error(period=minute, statistic="Sum"),
            threshold=0,
            description="The API returned 5XX errors",
            topic=topic,
        )
        self.client_error_rate_alarm = alarm(
            self,
            "ClientErrorRateAlarm",
            metric=self.metric_client_error(period=cdk.Duration.minutes(5), statistic="Average"),
            threshold=client_error_rate,
            description=(
                f"More than {client_error_rate:.0%} of requests in 5 minutes ended in a 4XX "
                "(probing, broken clients, or WAF / authorizer rejections)"
            ),
            topic=topic,
        )
        self.latency_alarm = alarm(
            self,
            "LatencyAlarm",
            metric=self.metric_latency(period=minute, statistic="p99"),
            threshold=self._latency_threshold_ms(),
            description="p99 latency above 80% of the longest integration timeout",
            topic=topic,
        )


class ApiGatewayAccountLogging(Construct):
    """The account- and region-wide API Gateway setting naming the CloudWatch role that writes
    execution and access logs, with a customer-managed policy (not AWS's managed
    AmazonAPIGatewayPushToCloudWatchLogs, not inline) limited to writing log events into
    `API-Gateway-Execution-Logs_*` and `API-Gateway-Access-Logs_*` log groups.

    One per stack (`ApiGatewayAccountLogging.of(scope)`); the role, policy and setting are
    retained when the stack is deleted, because every API of the account and region depends on
    the setting.
    """

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)

        def log_group_arn(name: str) -> str:
            return stack.format_arn(
                service="logs",
                resource="log-group",
                resource_name=name,
                arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
            )

        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            description="API Gateway account-level CloudWatch role (secure-constructs)",
        )
        self.policy = iam.ManagedPolicy(
            self,
            "Policy",
            description="Lets API Gateway write execution and SecureApi access logs",
            roles=[self.role],
            statements=[
                iam.PolicyStatement(
                    actions=[
                        "logs:CreateLogGroup",
                        "logs:CreateLogStream",
                        "logs:DescribeLogGroups",
                        "logs:DescribeLogStreams",
                        "logs:PutLogEvents",
                    ],
                    resources=[
                        log_group_arn(f"{EXECUTION_LOG_PREFIX}*"),
                        log_group_arn(f"{EXECUTION_LOG_PREFIX}*:log-stream:*"),
                        log_group_arn(f"{ACCESS_LOG_PREFIX}*"),
                        log_group_arn(f"{ACCESS_LOG_PREFIX}*:log-stream:*"),
                    ],
                )
            ],
        )
        self.account = apigateway.CfnAccount(
            self, "Resource", cloud_watch_role_arn=self.role.role_arn
        )
        self.account.node.add_dependency(self.policy)
        for child in (self.role, self.policy, self.account):
            child.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        # cdk-nag writes a concrete region/account (a stack with env=) as it is, a token as <...>.
        region = "<AWS::Region>" if cdk.Token.is_unresolved(stack.region) else stack.region
        account = "<AWS::AccountId>" if cdk.Token.is_unresolved(stack.account) else stack.account
        for prefix in (EXECUTION_LOG_PREFIX, ACCESS_LOG_PREFIX):
            for suffix in ("*", "*:log-stream:*"):
                acknowledge(
                    self.policy,
                    f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:{region}:"
                    f"{account}:log-group:{prefix}{suffix}]",
                    _LOG_PREFIX_REASON,
                )

    @staticmethod
    def of(scope: IConstruct) -> ApiGatewayAccountLogging:
        """The stack's account logging setting, created on first use."""
        stack = cdk.Stack.of(scope)
        existing = stack.node.try_find_child(ACCOUNT_LOGGING_ID)
        if isinstance(existing, ApiGatewayAccountLogging):
            return existing
        return ApiGatewayAccountLogging(stack, ACCOUNT_LOGGING_ID)


# -- validation ------------------------------------------------------------------------------

_FIXED_OPTIONS = {
    "deploy": "SecureApi always deploys one stage (stage_name=)",
    "deploy_options": "use stage_name=, throttle_rate_limit=, throttle_burst_limit=, cache=",
    "cloud_watch_role": "use manage_account_logging= (a customer-managed policy, not AWS's)",
    "cloud_watch_role_removal_policy": "the account logging role is always retained",
    "default_method_options": "use auth= (and add_route(..., auth=) per route)",
    "default_integration": "use add_route(method, path, handler)",
    "default_cors_preflight_options": "use cors_allow_origins= and cors_allow_credentials=",
}


def _refuse_options(options: Mapping[str, Any]) -> None:
    for name, fix in _FIXED_OPTIONS.items():
        if name in options:
            raise ValidationError(
                name, options[name], "nothing: SecureApi sets it for its security promise", fix
            )


def _check_default_auth(auth: Any) -> ApiAuth:
    if auth is None:
        raise ValidationError(
            "auth",
            None,
            "an ApiAuth for every route by default (ApiAuth.cognito(pool), ApiAuth.iam(), "
            "ApiAuth.lambda_token(fn) or ApiAuth.lambda_request(fn, identity_sources=[...]))",
            "pass e.g. auth=ApiAuth.cognito(user_pool)",
        )
    if not isinstance(auth, ApiAuth):
        raise ValidationError("auth", auth, "an ApiAuth", "pass e.g. auth=ApiAuth.iam()")
    if auth.is_public:
        raise ValidationError(
            "auth",
            auth,
            "an authorizer at API level: ApiAuth.none is allowed only on single routes",
            "pass an authorizer here and add_route(..., auth=ApiAuth.none(reason=...)) for each "
            "deliberately public route",
        )
    return auth


def _check_stage_name(stage_name: Any) -> None:
    if not isinstance(stage_name, str) or not _STAGE_NAME.match(stage_name):
        raise ValidationError(
            "stage_name",
            stage_name,
            "1-128 letters, digits, '-' or '_'",
            "pass e.g. stage_name='prod'",
        )


def _check_throttle(prop: str, rate: Any, burst: Any) -> None:
    burst_prop = prop.replace("rate", "burst")
    # Type and finiteness first: Token.is_unresolved(float("nan")) kills the jsii kernel.
    check_number(prop, rate, 0, math.inf, unit="requests per second")
    check_number(burst_prop, burst, 0, math.inf, unit="requests")
    if cdk.Token.is_unresolved(rate) or cdk.Token.is_unresolved(burst):
        return
    if rate <= 0:
        raise ValidationError(
            prop, rate, "a number of requests per second > 0", f"pass e.g. {prop}=100"
        )
    if not isinstance(burst, int) or burst <= 0:
        raise ValidationError(
            burst_prop, burst, "a whole number of requests > 0", f"pass e.g. {burst_prop}=200"
        )
    if burst < rate:
        raise ValidationError(
            burst_prop,
            burst,
            f"at least {prop} ({rate}): the burst bucket must hold one second of traffic",
            f"raise {burst_prop} to {int(rate) if rate == int(rate) else int(rate) + 1} or more",
        )


def _cors_options(
    origins: Sequence[str], credentials: bool, headers: Sequence[str] | None
) -> apigateway.CorsOptions | None:
    if isinstance(origins, str):
        raise ValidationError(
            "cors_allow_origins", origins, "a list of origins", f"pass [{origins!r}]"
        )
    listed = list(origins)
    if not listed:
        if credentials:
            raise ValidationError(
                "cors_allow_credentials",
                credentials,
                "False when cors_allow_origins is empty (CORS is off)",
                "list the origins in cors_allow_origins, or remove cors_allow_credentials",
            )
        return None
    for origin in listed:
        if origin == "*":
            if credentials:
                raise ValidationError(
                    "cors_allow_origins",
                    listed,
                    "explicit origins when cors_allow_credentials=True ('*' with credentials "
                    "lets any web site call the API with the user's credentials)",
                    "list the origins, e.g. cors_allow_origins=['https://app.example.com']",
                )
            if len(listed) > 1:
                raise ValidationError(
                    "cors_allow_origins",
                    listed,
                    "either '*' alone or explicit origins",
                    "remove '*' or the other origins",
                )
        elif not isinstance(origin, str) or not (
            cdk.Token.is_unresolved(origin) or _ORIGIN.match(origin)
        ):
            raise ValidationError(
                "cors_allow_origins",
                origin,
                "origins like https://app.example.com (scheme, host, optional port; no path)",
                "correct the origin",
            )
    return apigateway.CorsOptions(
        allow_origins=listed,
        allow_credentials=bool(credentials) or None,
        allow_headers=list(headers) if headers is not None else None,
        allow_methods=apigateway.Cors.ALL_METHODS,
        max_age=cdk.Duration.hours(1),
    )


def _check_cache(cache: ApiCache | None) -> int | None:
    if cache is None:
        return None
    if not isinstance(cache, ApiCache):
        raise ValidationError(
            "cache", cache, "an ApiCache", "pass cache=ApiCache(ttl=Duration.minutes(5))"
        )
    if cache.cluster_size not in CACHE_CLUSTER_SIZES:
        raise ValidationError(
            "cache.cluster_size",
            cache.cluster_size,
            f"one of {', '.join(CACHE_CLUSTER_SIZES)} (GB)",
            "pass e.g. ApiCache(cluster_size='0.5')",
        )
    ttl = cache.ttl or cdk.Duration.minutes(5)
    if ttl.is_unresolved():
        raise ValidationError(
            "cache.ttl", ttl, "a concrete Duration", "pass e.g. ttl=Duration.minutes(5)"
        )
    seconds = ttl.to_seconds()
    if not 0 <= seconds <= MAX_CACHE_TTL_SECONDS:
        raise ValidationError(
            "cache.ttl",
            f"{seconds} seconds",
            "0 seconds to 1 hour (API Gateway's limit)",
            "pass e.g. ttl=Duration.minutes(5)",
        )
    return int(seconds)


def _check_rate_threshold(threshold: Any) -> None:
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, int | float)
        or not (0 < threshold < 1)
    ):
        raise ValidationError(
            "client_error_rate_threshold",
            threshold,
            "a fraction between 0 and 1 (exclusive)",
            "pass e.g. client_error_rate_threshold=0.05 (5%)",
        )


def _check_latency_threshold(threshold: Any) -> None:
    if threshold is None:
        return
    if not isinstance(threshold, cdk.Duration):
        raise ValidationError(
            "latency_alarm_threshold",
            threshold,
            "a Duration",
            "pass e.g. latency_alarm_threshold=Duration.seconds(3)",
        )
    if threshold.is_unresolved():
        return
    millis = threshold.to_milliseconds()
    if not 0 < millis <= MAX_INTEGRATION_TIMEOUT_SECONDS * 1000:
        raise ValidationError(
            "latency_alarm_threshold",
            f"{millis} ms",
            f"more than 0 and at most {MAX_INTEGRATION_TIMEOUT_SECONDS} seconds (a p99 above "
            "API Gateway's integration timeout never happens, so the alarm would never fire)",
            "pass e.g. latency_alarm_threshold=Duration.seconds(3), or leave it out",
        )


def _check_method(method: Any) -> str:
    verb = method.upper() if isinstance(method, str) else method
    if verb not in METHODS:
        raise ValidationError(
            "method",
            method,
            f"one of {', '.join(METHODS)} (OPTIONS is the CORS preflight's: set "
            "cors_allow_origins)",
            "pass e.g. add_route('GET', '/items', handler)",
        )
    return str(verb)


def _check_path(path: Any) -> list[str]:
    if not isinstance(path, str) or not path.startswith("/"):
        raise ValidationError(
            "path",
            path,
            "a path starting with '/', e.g. /items/{id}",
            "start the path with '/'",
        )
    if path == "/":
        return []
    segments = path[1:].split("/")
    names: set[str] = set()
    for index, segment in enumerate(segments):
        if not _PATH_SEGMENT.match(segment):
            raise ValidationError(
                "path",
                path,
                "segments of letters, digits, '.', '_', '-', or one {parameter} (a Python-style "
                "name); no empty segments or trailing '/'",
                "e.g. /items/{item_id}",
            )
        if segment.endswith("+}") and index != len(segments) - 1:
            raise ValidationError(
                "path",
                path,
                "a greedy {name+} parameter only as the last segment",
                "move it to the end, e.g. /files/{key+}",
            )
        if segment.startswith("{"):
            name = segment.strip("{}+")
            if name in names:
                raise ValidationError(
                    "path",
                    path,
                    "each path parameter name once",
                    "rename one of the parameters",
                )
            names.add(name)
    return segments


def _check_handler(handler: Any) -> float | None:
    """The handler's timeout in seconds (None when unknown or a token), or a ValidationError."""
    if not (
        isinstance(handler, lambda_.FunctionBase)
        or (isinstance(handler, Construct) and hasattr(handler, "function_arn"))
    ):
        raise ValidationError(
            "handler",
            handler,
            "a Lambda function (ideally a SecureFunction)",
            "pass e.g. SecureFunction(self, 'Handler', ...)",
        )
    function: object = handler
    if isinstance(handler, lambda_.Alias):  # an alias or version runs its function's code
        function = handler.version.lambda_
    elif isinstance(handler, lambda_.Version):
        function = handler.lambda_
    seconds: float | None = getattr(function, "timeout_seconds", None)  # a SecureFunction's
    if seconds is None:
        timeout = getattr(function, "timeout", None)
        if isinstance(timeout, cdk.Duration) and not timeout.is_unresolved():
            seconds = timeout.to_seconds()
    if seconds is not None and seconds > MAX_INTEGRATION_TIMEOUT_SECONDS:
        raise ValidationError(
            "handler.timeout",
            f"{seconds:g} seconds",
            f"at most {MAX_INTEGRATION_TIMEOUT_SECONDS} seconds (API Gateway ends the "
            "integration at 29 s; the function would keep running and billing after the "
            "caller got a 504)",
            "lower the function's timeout, or make the route asynchronous (enqueue the "
            "work and return 202)",
        )
    return seconds


def _arn_cost(handler: lambda_.IFunction, arn: str) -> int:
    """The most characters the handler's ARN can take in an invoke policy (quotes and comma
    included): a literal ARN its length; a token the longest ARN the handler can get at deploy."""
    if not is_token_string(arn):
        return len(arn) + 3
    if isinstance(handler, lambda_.Function):
        return MAX_UNQUALIFIED_FUNCTION_ARN + 3
    qualifier = MAX_FUNCTION_QUALIFIER  # an imported function may be an alias
    if isinstance(handler, lambda_.Version):
        qualifier = MAX_VERSION_QUALIFIER
    elif isinstance(handler, lambda_.Alias) and not cdk.Token.is_unresolved(handler.alias_name):
        qualifier = len(handler.alias_name)
    return MAX_UNQUALIFIED_FUNCTION_ARN + 1 + qualifier + 3


def _check_schema(schema: Any) -> dict[str, Any]:
    if not isinstance(schema, Mapping):
        raise ValidationError(
            "request_schema",
            schema,
            "a JSON Schema (draft-04) dict",
            "pass e.g. {'type': 'object', 'properties': {...}, 'required': [...]}",
        )
    body = dict(schema)
    declared = body.get("$schema")
    if declared is not None and declared.rstrip("#") != JSON_SCHEMA_DRAFT4.rstrip("#"):
        raise ValidationError(
            "request_schema",
            f"$schema={declared!r}",
            f"JSON Schema draft-04 ({JSON_SCHEMA_DRAFT4}), the only draft API Gateway supports",
            "remove $schema (draft-04 is assumed) and use draft-04 keywords",
        )
    import jsonschema  # only routes with a schema pay for its import

    try:
        json.dumps(body)
        jsonschema.Draft4Validator.check_schema(body)
    except (TypeError, ValueError) as error:
        raise ValidationError(
            "request_schema", body, "a JSON-serializable schema", f"fix it: {error}"
        ) from error
    except jsonschema.SchemaError as error:
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        raise ValidationError(
            "request_schema",
            body,
            "a valid JSON Schema draft-04 document",
            f"at {where}: {error.message}",
        ) from error
    body["$schema"] = JSON_SCHEMA_DRAFT4
    return body


def _check_body(verb: str, schema: Mapping[str, Any] | None, reason: str | None) -> None:
    if reason is not None:
        # The reason becomes an acknowledgement: checked here, under this prop's name, with
        # the same test acknowledge() and the audit apply (a token is refused too).
        check_reason(
            "unvalidated_body_reason",
            reason,
            about="the request body cannot be validated by a JSON Schema (e.g. a binary upload)",
        )
        if schema is not None:
            raise ValidationError(
                "unvalidated_body_reason",
                reason,
                "only on a route without request_schema",
                "remove unvalidated_body_reason (the schema validates the body)",
            )
        if verb not in BODY_METHODS:
            raise ValidationError(
                "unvalidated_body_reason",
                reason,
                f"only on {', '.join(sorted(BODY_METHODS))} routes",
                "remove it: the route takes no body",
            )
    if schema is not None and verb in ("GET", "HEAD"):
        raise ValidationError(
            "request_schema",
            "<schema>",
            "only on routes that take a body (GET and HEAD requests have none)",
            "remove request_schema, or declare query_parameters",
        )
    if verb in BODY_METHODS and schema is None and reason is None:
        raise ValidationError(
            "request_schema",
            None,
            f"a JSON Schema for every {verb} route (API Gateway validates the body before the "
            "function runs)",
            "pass request_schema={...}, or unvalidated_body_reason='why the body cannot be "
            "validated'",
        )


def _check_parameters(prop: str, parameters: Mapping[str, bool] | None) -> dict[str, bool]:
    if parameters is None:
        return {}
    if not isinstance(parameters, Mapping):
        raise ValidationError(
            prop, parameters, "a dict of name -> required", f"pass e.g. {prop}={{'limit': False}}"
        )
    for name, required in parameters.items():
        if not isinstance(name, str) or not _PARAMETER_NAME.match(name):
            raise ValidationError(prop, name, "names of letters, digits and -_.", "rename it")
        if not isinstance(required, bool):
            raise ValidationError(
                prop, {name: required}, "True (required) or False (optional)", "pass a bool"
            )
    return dict(parameters)


def _operation_id(verb: str, segments: Sequence[str]) -> str:
    words = [verb.lower()]
    for segment in segments:
        words.extend(w for w in _OPERATION.split(segment) if w)
    return words[0] + "".join(w[:1].upper() + w[1:] for w in words[1:])


def _openapi_path(path: str) -> str:
    return path.replace("+}", "}")


def _openapi_methods(verb: str, item: Mapping[str, Any]) -> list[str]:
    if verb != "ANY":
        return [verb.lower()]
    return [m for m in ("get", "post", "put", "patch", "delete") if m not in item]


def _openapi_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in schema.items() if k not in ("$schema", "id")}
