"""SecureApi's API-level props: their defaults, the options it refuses, and the checks that turn
bad input into a ValidationError before CDK sees it."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigateway

from secure_constructs.auth import ApiAuth
from secure_constructs.defaults import (
    API_BURST_LIMIT,
    API_CLIENT_ERROR_RATE,
    API_RATE_LIMIT,
    API_STAGE_NAME,
)
from secure_constructs.errors import ValidationError
from secure_constructs.facts.apigateway_facts import (
    MAX_CACHE_TTL_SECONDS as MAX_CACHE_TTL_SECONDS,
)
from secure_constructs.facts.apigateway_facts import (
    MAX_INTEGRATION_TIMEOUT_SECONDS as MAX_INTEGRATION_TIMEOUT_SECONDS,
)
from secure_constructs.prop_types import check_args
from secure_constructs.validation import FixedOptions, check_number, refuse_fixed_options

DEFAULT_STAGE_NAME = API_STAGE_NAME
DEFAULT_RATE_LIMIT = API_RATE_LIMIT
DEFAULT_BURST_LIMIT = API_BURST_LIMIT
DEFAULT_CLIENT_ERROR_RATE = API_CLIENT_ERROR_RATE
CACHE_CLUSTER_SIZES = ("0.5", "1.6", "6.1", "13.5", "28.4", "58.2", "118", "237")

_STAGE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(?::\d{1,5})?$")


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


_FIXED_ALLOWED = "nothing: SecureApi sets it for its security promise"
_FIXED_OPTIONS: FixedOptions = {
    "deploy": (_FIXED_ALLOWED, "SecureApi always deploys one stage (stage_name=)"),
    "deploy_options": (
        _FIXED_ALLOWED,
        "use stage_name=, throttle_rate_limit=, throttle_burst_limit=, cache=",
    ),
    "cloud_watch_role": (
        _FIXED_ALLOWED,
        "use manage_account_logging= (a customer-managed policy, not AWS's)",
    ),
    "cloud_watch_role_removal_policy": (
        _FIXED_ALLOWED,
        "the account logging role is always retained",
    ),
    "default_method_options": (
        _FIXED_ALLOWED,
        "use auth= (and add_route(..., auth=) per route)",
    ),
    "default_integration": (_FIXED_ALLOWED, "use add_route(method, path, handler)"),
    "default_cors_preflight_options": (
        _FIXED_ALLOWED,
        "use cors_allow_origins= and cors_allow_credentials=",
    ),
}
"""Keys written out: scripts/gen_options.py reads them to leave these props out of ApiOptions."""


def refuse_options(options: Mapping[str, Any]) -> None:
    refuse_fixed_options(options, _FIXED_OPTIONS)


def check_default_auth(auth: Any) -> ApiAuth:
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


def check_stage_name(stage_name: Any) -> None:
    if not isinstance(stage_name, str) or not _STAGE_NAME.match(stage_name):
        raise ValidationError(
            "stage_name",
            stage_name,
            "1-128 letters, digits, '-' or '_'",
            "pass e.g. stage_name='prod'",
        )


def check_throttle(prop: str, rate: Any, burst: Any) -> None:
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


def cors_options(
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


def check_cache(cache: ApiCache | None) -> int | None:
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


def check_rate_threshold(threshold: Any) -> None:
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


def check_latency_threshold(threshold: Any) -> None:
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


def route_throttle(
    stage: tuple[float, int], rate: float | None, burst: int | None
) -> tuple[float, int]:
    """A route's (rate, burst): the stage's `(rate, burst)` unless given; a rate above the
    stage's burst raises the burst to match."""
    stage_rate, stage_burst = stage
    if rate is None and burst is None:
        return stage_rate, stage_burst
    rate = stage_rate if rate is None else rate
    check_number("throttle_rate_limit", rate, 0, math.inf, unit="requests per second")
    if burst is None:
        burst = stage_burst if cdk.Token.is_unresolved(rate) else max(stage_burst, math.ceil(rate))
    check_throttle("throttle_rate_limit", rate, burst)
    return float(rate), int(burst)
