"""SecureApi: a REST API whose every route is authorized, validated, throttled, logged, traced
and behind a web ACL by default, with an OpenAPI document of its routes for DAST scanners.

Re-exports only; each module holds one concern: `rest_api` (the construct), `props` (its
props and their checks), `routes` and `route_props` (add_route: check, then build),
`invoke_role`, `openapi`, `stage` (access logs, method settings), `alarms`, `guards`
(synth-time validations). API Gateway's account logging setting is a per-stack singleton, in
`secure_constructs.shared`.
"""

from __future__ import annotations

from secure_constructs.api.alarms import LATENCY_ALARM_RATIO
from secure_constructs.api.guards import STAGE_FIX, guard_api
from secure_constructs.api.invoke_role import (
    FUNCTIONS_PER_INVOKE_POLICY,
    INVOKE_POLICY_BUDGET,
    MANAGED_POLICY_MAX_CHARACTERS,
    MAX_FUNCTION_QUALIFIER,
    MAX_INVOKE_POLICIES,
    MAX_UNQUALIFIED_FUNCTION_ARN,
    MAX_VERSION_QUALIFIER,
    ApiInvokeRole,
)
from secure_constructs.api.openapi import openapi_document
from secure_constructs.api.props import (
    CACHE_CLUSTER_SIZES,
    DEFAULT_BURST_LIMIT,
    DEFAULT_CLIENT_ERROR_RATE,
    DEFAULT_RATE_LIMIT,
    DEFAULT_STAGE_NAME,
    MAX_CACHE_TTL_SECONDS,
    MAX_INTEGRATION_TIMEOUT_SECONDS,
    ApiCache,
)
from secure_constructs.api.rest_api import SecureApi
from secure_constructs.api.route_props import (
    BODY_METHODS,
    JSON_SCHEMA_DRAFT4,
    METHODS,
    check_schema_strength,
)
from secure_constructs.api.routes import SecureApiRoute
from secure_constructs.api.stage import ACCESS_LOG_FIELDS
from secure_constructs.shared import (
    ACCESS_LOG_PREFIX,
    ACCOUNT_LOGGING_ID,
    EXECUTION_LOG_PREFIX,
    ApiGatewayAccountLogging,
)

__all__ = [
    "ACCESS_LOG_FIELDS",
    "ACCESS_LOG_PREFIX",
    "ACCOUNT_LOGGING_ID",
    "BODY_METHODS",
    "CACHE_CLUSTER_SIZES",
    "DEFAULT_BURST_LIMIT",
    "DEFAULT_CLIENT_ERROR_RATE",
    "DEFAULT_RATE_LIMIT",
    "DEFAULT_STAGE_NAME",
    "EXECUTION_LOG_PREFIX",
    "FUNCTIONS_PER_INVOKE_POLICY",
    "INVOKE_POLICY_BUDGET",
    "JSON_SCHEMA_DRAFT4",
    "LATENCY_ALARM_RATIO",
    "MANAGED_POLICY_MAX_CHARACTERS",
    "MAX_CACHE_TTL_SECONDS",
    "MAX_FUNCTION_QUALIFIER",
    "MAX_INTEGRATION_TIMEOUT_SECONDS",
    "MAX_INVOKE_POLICIES",
    "MAX_UNQUALIFIED_FUNCTION_ARN",
    "MAX_VERSION_QUALIFIER",
    "METHODS",
    "STAGE_FIX",
    "ApiCache",
    "ApiGatewayAccountLogging",
    "ApiInvokeRole",
    "SecureApi",
    "SecureApiRoute",
    "check_schema_strength",
    "guard_api",
    "openapi_document",
]
