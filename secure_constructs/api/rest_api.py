"""SecureApi, the construct: a regional REST API whose props are checked (props.py), whose one
stage is hardened (stage.py, alarms.py), whose routes are checked and built (routes.py) and
invoked through one role (invoke_role.py), and whose OpenAPI document is derived from its
routes (openapi.py)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
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
from constructs import Construct

from secure_constructs._options import ApiOptions
from secure_constructs.api import alarms, stage
from secure_constructs.api.guards import guard_api
from secure_constructs.api.invoke_role import ApiInvokeRole
from secure_constructs.api.openapi import openapi_document
from secure_constructs.api.props import (
    DEFAULT_BURST_LIMIT,
    DEFAULT_CLIENT_ERROR_RATE,
    DEFAULT_RATE_LIMIT,
    DEFAULT_STAGE_NAME,
    ApiCache,
    check_cache,
    check_default_auth,
    check_latency_threshold,
    check_rate_threshold,
    check_stage_name,
    check_throttle,
    cors_options,
    refuse_options,
)
from secure_constructs.api.routes import (
    RouteContext,
    RouteSpec,
    SecureApiRoute,
    acknowledge_route,
    body_model,
    check_route,
    invocation_uri,
    lambda_integration,
    request_parameters,
)
from secure_constructs.auth import ApiAuth
from secure_constructs.checks.guard import ensure_checked
from secure_constructs.defaults import LOG_RETENTION
from secure_constructs.errors import ValidationError
from secure_constructs.monitoring import subscribe_emails, validate_emails
from secure_constructs.observability.stack import observe_api
from secure_constructs.prop_types import check_args
from secure_constructs.shared import ApiGatewayAccountLogging, stack_of
from secure_constructs.shared import alarm_topic as stack_alarm_topic
from secure_constructs.validation import check_retention
from secure_constructs.waf import SecureWebAcl, WafProfile, web_acl_for

__all__ = ["ApiCache", "SecureApi", "SecureApiRoute"]


def _stage_options(stage_name: str, cache: ApiCache | None) -> apigateway.StageOptions:
    """The stage: traced, with the cache cluster only when `cache=` is given."""
    return apigateway.StageOptions(
        stage_name=stage_name,
        tracing_enabled=True,
        cache_cluster_enabled=cache is not None,
        cache_cluster_size=cache.cluster_size if cache is not None else None,
        description=f"secure-constructs stage {stage_name}",
    )


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
        log_retention: logs.RetentionDays = logs.RetentionDays[LOG_RETENTION],
        manage_account_logging: bool = True,
        alarm_topic: sns.ITopic | None = None,
        alarm_emails: str | Sequence[str] = (),
        client_error_rate_threshold: float = DEFAULT_CLIENT_ERROR_RATE,
        latency_alarm_threshold: cdk.Duration | None = None,
        **options: Unpack[ApiOptions],
    ) -> None:
        check_args(SecureApi.__init__, locals())
        # Every prop is checked first: a refused API leaves nothing behind.
        refuse_options(options)
        default_auth = check_default_auth(auth)
        check_stage_name(stage_name)
        check_throttle("throttle_rate_limit", throttle_rate_limit, throttle_burst_limit)
        cors = cors_options(cors_allow_origins, cors_allow_credentials, cors_allow_headers)
        cache_ttl = check_cache(cache)
        check_retention("log_retention", log_retention)
        check_rate_threshold(client_error_rate_threshold)
        check_latency_threshold(latency_alarm_threshold)
        emails = validate_emails("alarm_emails", alarm_emails)
        if "endpoint_types" not in options and "endpoint_configuration" not in options:
            options["endpoint_types"] = [apigateway.EndpointType.REGIONAL]

        super().__init__(
            scope,
            construct_id,
            cloud_watch_role=False,
            deploy=True,
            deploy_options=_stage_options(stage_name, cache),
            default_cors_preflight_options=cors,
            **options,
        )
        ensure_checked(self)  # warns at synth when apply_checks was never called
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
        self._api_stack: cdk.Stack = stack_of(scope)
        self.invoke_role: ApiInvokeRole | None = None
        """The role API Gateway assumes to invoke the routed functions (created by the first
        `add_route`)."""
        self._harden_stage(log_retention, manage_account_logging)
        self.request_validator = self.add_request_validator(
            "RequestValidator",
            request_validator_name="body-and-parameters",
            validate_request_body=True,
            validate_request_parameters=True,
        )
        self.alarm_topic: sns.ITopic = alarm_topic or stack_alarm_topic(self)
        subscribe_emails(self.alarm_topic, emails)
        self._add_web_acl(waf)
        self._add_alarms(client_error_rate_threshold)
        self._observe()

    def _observe(self) -> None:
        """The requests anomaly and denial-rate alarms and the dashboard row (observability/)."""
        acl = self.web_acl
        self.requests_anomaly_alarm, self.denial_rate_alarm = observe_api(
            self,
            access_logs=self.access_log_group,
            topic=self.alarm_topic,
            waf_blocked=acl.metric("BlockedRequests") if acl is not None else None,
            waf_allowed=acl.metric("AllowedRequests") if acl is not None else None,
        )

    def _harden_stage(self, log_retention: logs.RetentionDays, account_logging: bool) -> None:
        """Access logs, method settings, the stage's acknowledgements and guards, and the
        account logging setting the stage depends on."""
        own_stage = self.deployment_stage
        self.stage_resource: apigateway.CfnStage = own_stage.node.default_child  # type: ignore[assignment]
        self.access_log_group = stage.add_access_logs(self, self.stage_resource, log_retention)
        self._render_method_settings()
        if self.cache is None:
            stage.acknowledge_no_cache(own_stage)
        guard_api(self, own_stage, lambda: stage.acknowledge_no_client_certificate(own_stage))
        self.account_logging: ApiGatewayAccountLogging | None = None
        if account_logging:
            self.account_logging = ApiGatewayAccountLogging.of(self)
            own_stage.node.add_dependency(self.account_logging.account)

    def _add_web_acl(self, waf: WafProfile | str | None) -> None:
        """A new SecureWebAcl for a profile (default: the baseline), or the given ARN; either
        associated with the stage."""
        self.web_acl: SecureWebAcl | None
        self.web_acl, web_acl_arn = web_acl_for(self, waf, alarm_topic=self.alarm_topic)
        self.web_acl_arn: str = web_acl_arn
        self.web_acl_association = wafv2.CfnWebACLAssociation(
            self,
            "WebAclAssociation",
            resource_arn=self.deployment_stage.stage_arn,
            web_acl_arn=web_acl_arn,
        )

    @property
    def invoke_policies(self) -> list[iam.ManagedPolicy]:
        """The invoke role's policies: `lambda:InvokeFunction` on the routed function ARNs, a
        new policy every FUNCTIONS_PER_INVOKE_POLICY functions with generated names."""
        return [] if self.invoke_role is None else self.invoke_role.policies

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
        spec = check_route(
            RouteContext(
                routes=self._routes,
                variable_children=self._variable_children,
                default_auth=self.default_auth,
                stage_throttle=(self._rate, self._burst),
            ),
            method,
            path,
            handler,
            {
                "request_schema": request_schema,
                "auth": auth,
                "unvalidated_body_reason": unvalidated_body_reason,
                "additional_properties_reason": additional_properties_reason,
                "query_parameters": query_parameters,
                "header_parameters": header_parameters,
                "throttle_rate_limit": throttle_rate_limit,
                "throttle_burst_limit": throttle_burst_limit,
                "api_key_required": api_key_required,
                "operation_id": operation_id,
                "summary": summary,
            },
        )
        # Last check, first change: a refused route leaves no resource or grant behind.
        return self._build_route(spec)

    def _build_route(self, spec: RouteSpec) -> apigateway.Method:
        # Read once: every jsii property read is a round trip (issue 7).
        handler_arn = spec.handler.function_arn
        if self.invoke_role is None:
            self.invoke_role = ApiInvokeRole(self, "InvokeRole", stage=self.deployment_stage)
        self.invoke_role.grant_invoke(spec.handler, handler_arn)
        resource = self.root.resource_for_path(spec.path)
        parameters, cache_keys = request_parameters(spec, cached=self.cache is not None)
        model = None if spec.schema is None else body_model(self, spec.operation_id, spec.schema)
        integration = lambda_integration(
            invocation_uri(self._api_stack, spec.handler, handler_arn),
            self.invoke_role,
            cache_keys,
        )
        created = resource.add_method(
            spec.verb,
            integration,
            request_validator=self.request_validator,
            request_parameters=parameters or None,
            request_models={"application/json": model} if model is not None else None,
            api_key_required=spec.api_key_required,
            operation_name=spec.operation_id,
            **spec.auth.method_options(self),
        )
        acknowledge_route(created, spec)
        self._routes[(spec.verb, spec.path)] = SecureApiRoute(
            method=spec.verb,
            path=spec.path,
            handler=spec.handler,
            auth=spec.auth,
            request_schema=spec.schema,
            query_parameters=spec.queries,
            header_parameters=spec.headers,
            api_key_required=spec.api_key_required,
            operation_id=spec.operation_id,
            summary=spec.summary,
            resource=created,
            model=model,
        )
        if (spec.rate, spec.burst) != (self._rate, self._burst):
            self._route_throttles.append((spec.verb, spec.path, spec.rate, spec.burst))
            self._render_method_settings()
        self._note_integration_timeout(spec.handler_seconds)
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
        document = openapi_document(
            self._routes.values(),
            title=self.rest_api_name,
            stage_name=self.stage_resource.stage_name or DEFAULT_STAGE_NAME,
            region=region,
        )
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

    # -- stage settings and alarms ---------------------------------------------------------

    def _render_method_settings(self) -> None:
        self.stage_resource.method_settings = stage.method_settings(
            (self._rate, self._burst), self._route_throttles, self._cache_ttl
        )

    def _note_integration_timeout(self, handler_seconds: float | None) -> None:
        longest = max(
            self._longest_integration_seconds, alarms.integration_seconds(handler_seconds)
        )
        if longest != self._longest_integration_seconds:  # re-render only when it changes
            self._longest_integration_seconds = longest
            alarms.set_threshold(self.latency_alarm, self._latency_threshold_ms())

    def _add_alarms(self, client_error_rate: float) -> None:
        added = alarms.add_alarms(
            self,
            self.alarm_topic,
            client_error_rate=client_error_rate,
            latency_ms=self._latency_threshold_ms(),
        )
        self.server_error_alarm: cloudwatch.Alarm = added.server_error
        self.client_error_rate_alarm: cloudwatch.Alarm = added.client_error_rate
        self.latency_alarm: cloudwatch.Alarm = added.latency

    def _latency_threshold_ms(self) -> float:
        return alarms.latency_threshold_ms(
            self._latency_threshold, self._longest_integration_seconds
        )
