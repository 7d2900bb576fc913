"""SecureApi: a REST API whose every route is authorized, validated, throttled, logged, traced
and behind a web ACL by default, with an OpenAPI document of its routes for DAST scanners.

Re-exports only; see each module for its one concern.
"""

from __future__ import annotations

from secure_constructs.api.guards import STAGE_FIX, check_schema_strength, guard_api
from secure_constructs.api.rest_api import (
    ACCESS_LOG_FIELDS,
    ACCESS_LOG_PREFIX,
    ACCOUNT_LOGGING_ID,
    BODY_METHODS,
    CACHE_CLUSTER_SIZES,
    DEFAULT_BURST_LIMIT,
    DEFAULT_CLIENT_ERROR_RATE,
    DEFAULT_RATE_LIMIT,
    DEFAULT_STAGE_NAME,
    EXECUTION_LOG_PREFIX,
    FUNCTIONS_PER_INVOKE_POLICY,
    INVOKE_POLICY_BUDGET,
    JSON_SCHEMA_DRAFT4,
    LATENCY_ALARM_RATIO,
    MANAGED_POLICY_MAX_CHARACTERS,
    MAX_CACHE_TTL_SECONDS,
    MAX_FUNCTION_QUALIFIER,
    MAX_INTEGRATION_TIMEOUT_SECONDS,
    MAX_INVOKE_POLICIES,
    MAX_UNQUALIFIED_FUNCTION_ARN,
    MAX_VERSION_QUALIFIER,
    METHODS,
    ApiCache,
    ApiGatewayAccountLogging,
    SecureApi,
    SecureApiRoute,
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
    "SecureApi",
    "SecureApiRoute",
    "check_schema_strength",
    "guard_api",
]
