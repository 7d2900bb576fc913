"""Who may call an API: `ApiAuth` (Cognito, IAM, Lambda authorizers, or a deliberately public
route). The Cognito user pool itself is `secure_constructs.user_pool.SecureUserPool`; this
module needs aws_cognito only for type hints, so IAM- and Lambda-authorized APIs never load it."""

from __future__ import annotations

import abc
import re
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigateway
from constructs import Construct, IConstruct

from secure_constructs.checks.packs import acknowledge_made
from secure_constructs.defaults import AUTHORIZER_CACHE_TTL_SECONDS
from secure_constructs.errors import ValidationError
from secure_constructs.facts.apigateway_facts import MAX_CACHE_TTL_SECONDS
from secure_constructs.prop_types import check_args
from secure_constructs.validation import check_reason

if TYPE_CHECKING:
    from aws_cdk import aws_cognito as cognito
    from aws_cdk import aws_lambda as lambda_

__all__ = [
    "OAUTH_SCOPE",
    "ApiAuth",
    "CognitoAuth",
    "IamAuth",
    "LambdaRequestAuth",
    "LambdaTokenAuth",
    "PublicRoute",
]

_TOKEN_SOURCE = re.compile(r"^method\.request\.header\.[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
_REQUEST_SOURCE = re.compile(
    r"^(method\.request\.(header|querystring|multivaluequerystring|multivalueheader)\."
    r"[A-Za-z0-9!#$%&'*+.^_`|~-]+|stageVariables\.[A-Za-z0-9_]+|context\.[A-Za-z0-9_.]+)$"
)
# An OAuth scope (RFC 6749 scope-token): printable ASCII without space, '"' or '\\'.
OAUTH_SCOPE = re.compile(r"^[\x21\x23-\x5B\x5D-\x7E]+$")
_SCHEME_NAME = re.compile(r"[^A-Za-z0-9_.-]")
# A deliberately public route is flagged by these rules; each records the route's own reason.
_PUBLIC_ROUTE_RULES = (
    "AwsSolutions-APIG4",
    "AwsSolutions-COG4",
    "SecureServerless::ApiMethodAuthorization",
)

# api -> {authorizer configuration -> authorizer}: one authorizer per API and identity provider.
_AUTHORIZERS: weakref.WeakKeyDictionary[
    apigateway.RestApi, dict[tuple[Any, ...], apigateway.IAuthorizer]
] = weakref.WeakKeyDictionary()


class ApiAuth(abc.ABC):
    """How an API method authorizes its callers. Build one with a static factory:
    `ApiAuth.cognito(pool)`, `ApiAuth.iam()`, `ApiAuth.lambda_token(fn)`,
    `ApiAuth.lambda_request(fn, identity_sources=[...])` or `ApiAuth.none(reason=...)`.

    An `ApiAuth` is a description, not a construct: the API Gateway authorizer is created when a
    method uses it (`method_options(api)`), once per API and identity provider. Each factory
    returns one of the variants below, which implements its own options, OpenAPI scheme and
    acknowledgements.
    """

    kind: ClassVar[str]
    """A label for messages and reprs: "cognito", "iam", "lambda_token", "lambda_request" or
    "none" (behaviour lives in the variant's methods, never in a test of this label)."""
    reason: str | None = None
    """Why the route is public (only for `none`)."""
    user_pool: cognito.IUserPool | None = None
    scopes: tuple[str, ...] = ()
    function: lambda_.IFunction | None = None
    identity_sources: tuple[str, ...] = ()
    results_cache_ttl: cdk.Duration | None = None

    # -- factories -------------------------------------------------------------------------

    @staticmethod
    def cognito(user_pool: cognito.IUserPool, *, scopes: Sequence[str] = ()) -> ApiAuth:
        """Callers present a token of `user_pool` in the `Authorization` header.

        :param user_pool: e.g. a `SecureUserPool`.
        :param scopes: OAuth scopes the access token must carry (any of them), e.g.
            `["items-api/items.read"]`; with scopes, only access tokens are accepted.
            Default: any valid ID token of the pool.
        """
        check_args(ApiAuth.cognito, locals())
        if not (isinstance(user_pool, Construct) and hasattr(user_pool, "user_pool_arn")):
            raise ValidationError(
                "user_pool",
                user_pool,
                "a Cognito user pool",
                "pass e.g. SecureUserPool(self, 'Users')",
            )
        return CognitoAuth(user_pool, _check_scopes(scopes))

    @staticmethod
    def iam() -> ApiAuth:
        """Callers sign requests with AWS Signature Version 4; grant `execute-api:Invoke` on the
        method to the roles that may call it."""
        return IamAuth()

    @staticmethod
    def lambda_token(
        function: lambda_.IFunction,
        *,
        identity_source: str = "method.request.header.Authorization",
        results_cache_ttl: cdk.Duration | None = None,
    ) -> ApiAuth:
        """A Lambda TOKEN authorizer: `function` receives one header's value and returns a policy.

        :param function: the authorizer. Any `IFunction` is accepted; use a `SecureFunction` so
            the authorizer itself has a scoped role, alarms and bounded timeout.
        :param identity_source: the header carrying the token, as
            `method.request.header.<Name>`. Default: the `Authorization` header.
        :param results_cache_ttl: how long API Gateway caches a decision per token, 0 s (off)
            to 1 hour. Default: 5 minutes.
        """
        check_args(ApiAuth.lambda_token, locals())
        _check_function(function)
        if not isinstance(identity_source, str) or not (
            cdk.Token.is_unresolved(identity_source) or _TOKEN_SOURCE.match(identity_source)
        ):
            raise ValidationError(
                "identity_source",
                identity_source,
                "one header, as method.request.header.<Name>",
                "pass e.g. identity_source=IdentitySource.header('Authorization')",
            )
        ttl = _check_ttl(results_cache_ttl)
        return LambdaTokenAuth(function, (identity_source,), ttl)

    @staticmethod
    def lambda_request(
        function: lambda_.IFunction,
        *,
        identity_sources: Sequence[str],
        results_cache_ttl: cdk.Duration | None = None,
    ) -> ApiAuth:
        """A Lambda REQUEST authorizer: `function` receives headers, query string, stage
        variables and context, and returns a policy.

        :param function: the authorizer (use a `SecureFunction`; any `IFunction` is accepted).
        :param identity_sources: at least one request value that must be present, e.g.
            `[IdentitySource.header("Authorization")]`; they also form the cache key.
        :param results_cache_ttl: 0 s (off) to 1 hour. Default: 5 minutes.
        """
        check_args(ApiAuth.lambda_request, locals())
        _check_function(function)
        if isinstance(identity_sources, str) or not identity_sources:
            raise ValidationError(
                "identity_sources",
                identity_sources,
                "a non-empty list of identity sources (API Gateway rejects a request missing any "
                "of them before calling the authorizer, and caches decisions by them)",
                "pass e.g. identity_sources=[IdentitySource.header('Authorization')]",
            )
        for source in identity_sources:
            if not isinstance(source, str) or not (
                cdk.Token.is_unresolved(source) or _REQUEST_SOURCE.match(source)
            ):
                raise ValidationError(
                    "identity_sources",
                    source,
                    "method.request.header.<Name>, method.request.querystring.<name>, "
                    "stageVariables.<name> or context.<name>",
                    "build them with apigateway.IdentitySource.header(...) etc.",
                )
        ttl = _check_ttl(results_cache_ttl)
        return LambdaRequestAuth(function, tuple(dict.fromkeys(identity_sources)), ttl)

    @staticmethod
    def none(*, reason: str) -> ApiAuth:
        """A deliberately public route (e.g. a health check or a public catalogue).

        :param reason: why anyone on the internet may call it, at least 4 words and 10
            characters, not boilerplate; it is recorded as the acknowledgement of the
            "no authorizer" findings.
        """
        check_args(ApiAuth.none, locals())
        check_reason("reason", reason, about="the route must be public")
        return PublicRoute(reason.strip())

    # -- use -------------------------------------------------------------------------------

    @property
    def is_public(self) -> bool:
        """True only for `ApiAuth.none(...)`."""
        return False

    def method_options(self, api: apigateway.RestApi) -> dict[str, Any]:
        """Keyword arguments for `Resource.add_method` on `api`.

        `authorization_type` always; `authorizer` for Cognito and Lambda authorizers (created
        under `api` on first use and shared by every method with the same identity provider);
        `authorization_scopes` for Cognito with scopes.
        """
        check_args(ApiAuth.method_options, locals())
        return self._method_options(api)

    @abc.abstractmethod
    def _method_options(self, api: apigateway.RestApi) -> dict[str, Any]:
        """The variant's own `method_options`."""

    def openapi_security_scheme(self) -> tuple[str, dict[str, Any]] | None:
        """(name, OpenAPI 3 securityScheme object) for this auth, or None for a public route.

        The objects carry API Gateway's `x-amazon-apigateway-authtype` extension and no
        deploy-time tokens, so the document can be written at synth and fed to a DAST scanner.
        """
        return None

    def openapi_security_requirement(self) -> dict[str, list[str]] | None:
        """The operation's OpenAPI `security` entry, e.g. `{"cognito_Users": []}`; None for a
        public route (no `security`).

        OpenAPI 3.0 allows scopes only for oauth2/openIdConnect schemes, and these schemes are
        apiKey (API Gateway's own extension says how they are checked): the list is empty and
        Cognito scopes are in `openapi_operation_extensions()`.
        """
        scheme = self.openapi_security_scheme()
        return None if scheme is None else {scheme[0]: []}

    def openapi_operation_extensions(self) -> dict[str, Any]:
        """Vendor extensions of the operation: `x-oauth-scopes` for Cognito with scopes."""
        return {}

    def nag_acknowledgements(self) -> tuple[tuple[str, str], ...]:
        """(rule id, reason) pairs a method using this auth needs acknowledged.

        A Cognito method needs none. IAM and Lambda-authorized methods are flagged by
        AwsSolutions-COG4 (no Cognito authorizer), which is a design choice, not a gap; a public
        route is flagged by AwsSolutions-APIG4, COG4 and SecureServerless::ApiMethodAuthorization
        and carries the route's own reason.
        """
        return ()

    def acknowledge_on(self, method: apigateway.Method) -> None:
        """Record `nag_acknowledgements()` on `method` (SecureApi.add_route does)."""
        check_args(ApiAuth.acknowledge_on, locals())
        for rule_id, reason in self.nag_acknowledgements():
            acknowledge_made(method, rule_id, reason)


class _NotCognito(ApiAuth):
    """An authorized variant whose identity provider is not a Cognito user pool."""

    how: ClassVar[str]
    """Completes "Every caller of this method is authorized by ..."."""

    def nag_acknowledgements(self) -> tuple[tuple[str, str], ...]:
        return (
            (
                "AwsSolutions-COG4",
                f"Every caller of this method is authorized by {self.how}; AwsSolutions-COG4 "
                "asks for a Cognito user pool authorizer specifically, which this route's "
                "callers do not use.",
            ),
        )


class PublicRoute(ApiAuth):
    """`ApiAuth.none(reason=...)`: no authorizer, on purpose, for the reason given."""

    kind = "none"

    def __init__(self, reason: str) -> None:
        self.reason = reason

    @property
    def is_public(self) -> bool:
        return True

    def _method_options(self, api: apigateway.RestApi) -> dict[str, Any]:
        return {"authorization_type": apigateway.AuthorizationType.NONE}

    def nag_acknowledgements(self) -> tuple[tuple[str, str], ...]:
        reason = f"Deliberately public route: {self.reason}"
        return tuple((rule, reason) for rule in _PUBLIC_ROUTE_RULES)

    def __repr__(self) -> str:
        return f"ApiAuth.none(reason={self.reason!r})"


class IamAuth(_NotCognito):
    """`ApiAuth.iam()`: SigV4-signed requests, `execute-api:Invoke` granted per caller."""

    kind = "iam"
    how = "IAM (SigV4-signed requests, execute-api:Invoke granted per caller)"

    def _method_options(self, api: apigateway.RestApi) -> dict[str, Any]:
        return {"authorization_type": apigateway.AuthorizationType.IAM}

    def openapi_security_scheme(self) -> tuple[str, dict[str, Any]] | None:
        return "sigv4", {
            "type": "apiKey",
            "name": "Authorization",
            "in": "header",
            "description": "AWS Signature Version 4 (IAM authorization)",
            "x-amazon-apigateway-authtype": "awsSigv4",
        }

    def __repr__(self) -> str:
        return "ApiAuth.iam()"


class _WithAuthorizer(ApiAuth):
    """A variant backed by an API Gateway authorizer, created once per API and provider."""

    authorizer_id: ClassVar[str]
    """The construct id of the first such authorizer under an API (then 2, 3, ...)."""

    def authorizer(self, api: apigateway.RestApi) -> apigateway.IAuthorizer:
        """The authorizer of this identity provider under `api`, created on first use."""
        registry = _AUTHORIZERS.setdefault(api, {})
        key = self._cache_key()
        existing = registry.get(key)
        if existing is not None:
            return existing
        construct_id = self.authorizer_id
        counter = 1
        while api.node.try_find_child(construct_id) is not None:
            counter += 1
            construct_id = f"{self.authorizer_id}{counter}"
        created = self._create_authorizer(api, construct_id)
        registry[key] = created
        return created

    @abc.abstractmethod
    def _create_authorizer(
        self, api: apigateway.RestApi, construct_id: str
    ) -> apigateway.IAuthorizer:
        """A new authorizer under `api`."""

    @abc.abstractmethod
    def _cache_key(self) -> tuple[Any, ...]:
        """What makes two uses share one authorizer."""


class CognitoAuth(_WithAuthorizer):
    """`ApiAuth.cognito(pool, scopes=...)`: a token of the user pool in `Authorization`."""

    kind = "cognito"
    authorizer_id = "CognitoAuthorizer"
    user_pool: cognito.IUserPool

    def __init__(self, user_pool: cognito.IUserPool, scopes: tuple[str, ...]) -> None:
        self.user_pool = user_pool
        self.scopes = scopes

    def _method_options(self, api: apigateway.RestApi) -> dict[str, Any]:
        options: dict[str, Any] = {"authorizer": self.authorizer(api)}
        options["authorization_type"] = apigateway.AuthorizationType.COGNITO
        if self.scopes:
            options["authorization_scopes"] = list(self.scopes)
        return options

    def openapi_security_scheme(self) -> tuple[str, dict[str, Any]] | None:
        return _scheme_name("cognito", self.user_pool), {
            "type": "apiKey",
            "name": "Authorization",
            "in": "header",
            "description": (
                "Amazon Cognito user pool token"
                + (" (access token with one of the route's scopes)" if self.scopes else "")
            ),
            "x-amazon-apigateway-authtype": "cognito_user_pools",
        }

    def openapi_operation_extensions(self) -> dict[str, Any]:
        return {"x-oauth-scopes": list(self.scopes)} if self.scopes else {}

    def _create_authorizer(
        self, api: apigateway.RestApi, construct_id: str
    ) -> apigateway.IAuthorizer:
        return apigateway.CognitoUserPoolsAuthorizer(
            api, construct_id, cognito_user_pools=[self.user_pool]
        )

    def _cache_key(self) -> tuple[Any, ...]:
        return ("cognito", self.user_pool.node.path)

    def __repr__(self) -> str:
        return f"ApiAuth.cognito({self.user_pool.node.path!r}, scopes={list(self.scopes)!r})"


class _LambdaAuth(_WithAuthorizer, _NotCognito):
    """A Lambda authorizer (TOKEN or REQUEST)."""

    label: ClassVar[str]
    function: lambda_.IFunction
    results_cache_ttl: cdk.Duration

    def __init__(
        self,
        function: lambda_.IFunction,
        identity_sources: tuple[str, ...],
        results_cache_ttl: cdk.Duration,
    ) -> None:
        self.function = function
        self.identity_sources = identity_sources
        self.results_cache_ttl = results_cache_ttl

    def _method_options(self, api: apigateway.RestApi) -> dict[str, Any]:
        return {
            "authorizer": self.authorizer(api),
            "authorization_type": apigateway.AuthorizationType.CUSTOM,
        }

    def openapi_security_scheme(self) -> tuple[str, dict[str, Any]] | None:
        location, name = _openapi_location(self.identity_sources)
        return _scheme_name(self.kind, self.function), {
            "type": "apiKey",
            "name": name,
            "in": location,
            "description": (
                f"Lambda {self.label} authorizer; "
                f"identity sources: {', '.join(self.identity_sources)}"
            ),
            "x-amazon-apigateway-authtype": "custom",
        }

    def _cache_key(self) -> tuple[Any, ...]:
        ttl = self.results_cache_ttl
        return (
            self.kind,
            self.function.node.path,
            self.identity_sources,
            # A token TTL by its token string: id() of a collected Duration can be reused.
            ttl.to_string() if ttl.is_unresolved() else ttl.to_seconds(),
        )

    def __repr__(self) -> str:
        sources = list(self.identity_sources)
        return f"ApiAuth.{self.kind}({self.function.node.path!r}, identity_sources={sources!r})"


class LambdaTokenAuth(_LambdaAuth):
    """`ApiAuth.lambda_token(fn, ...)`: the function judges one header's value."""

    kind = "lambda_token"
    label = "TOKEN"
    how = "a Lambda TOKEN authorizer"
    authorizer_id = "TokenAuthorizer"

    def _create_authorizer(
        self, api: apigateway.RestApi, construct_id: str
    ) -> apigateway.IAuthorizer:
        return apigateway.TokenAuthorizer(
            api,
            construct_id,
            handler=self.function,
            identity_source=self.identity_sources[0],
            results_cache_ttl=self.results_cache_ttl,
        )


class LambdaRequestAuth(_LambdaAuth):
    """`ApiAuth.lambda_request(fn, identity_sources=...)`: the function judges the request."""

    kind = "lambda_request"
    label = "REQUEST"
    how = "a Lambda REQUEST authorizer"
    authorizer_id = "RequestAuthorizer"

    def _create_authorizer(
        self, api: apigateway.RestApi, construct_id: str
    ) -> apigateway.IAuthorizer:
        return apigateway.RequestAuthorizer(
            api,
            construct_id,
            handler=self.function,
            identity_sources=list(self.identity_sources),
            results_cache_ttl=self.results_cache_ttl,
        )


def _check_scopes(scopes: Sequence[str]) -> tuple[str, ...]:
    if isinstance(scopes, str):
        raise ValidationError("scopes", scopes, "a list of scopes", f"pass scopes=[{scopes!r}]")
    for item in scopes:
        if not isinstance(item, str) or not (
            cdk.Token.is_unresolved(item) or OAUTH_SCOPE.match(item)
        ):
            raise ValidationError(
                "scopes",
                item,
                "OAuth scopes like 'items-api/items.read' (printable ASCII, no spaces or quotes)",
                "use the scope_names returned by SecureUserPool.add_resource_server_scopes",
            )
    return tuple(dict.fromkeys(scopes))


def _check_function(function: Any) -> None:
    # jsii interfaces are not runtime-checkable protocols: check the shape instead.
    if not (isinstance(function, Construct) and hasattr(function, "function_arn")):
        raise ValidationError(
            "function",
            function,
            "a Lambda function (ideally a SecureFunction)",
            "pass e.g. SecureFunction(self, 'Authorizer', ...)",
        )


def _check_ttl(ttl: cdk.Duration | None) -> cdk.Duration:
    ttl = ttl if ttl is not None else cdk.Duration.seconds(AUTHORIZER_CACHE_TTL_SECONDS)
    if not isinstance(ttl, cdk.Duration):
        raise ValidationError(
            "results_cache_ttl",
            ttl,
            "a Duration",
            "pass e.g. results_cache_ttl=Duration.minutes(5)",
        )
    if not ttl.is_unresolved() and not 0 <= ttl.to_seconds() <= MAX_CACHE_TTL_SECONDS:
        raise ValidationError(
            "results_cache_ttl",
            f"{ttl.to_seconds()} seconds",
            "0 seconds (no caching) to 1 hour (API Gateway's limit)",
            "pass e.g. results_cache_ttl=Duration.minutes(5)",
        )
    return ttl


def _scheme_name(prefix: str, construct: IConstruct) -> str:
    return _SCHEME_NAME.sub("_", f"{prefix}_{construct.node.id}")


def _openapi_location(sources: Sequence[str]) -> tuple[str, str]:
    for source in sources:
        for marker, location in (
            ("method.request.header.", "header"),
            ("method.request.multivalueheader.", "header"),
            ("method.request.querystring.", "query"),
            ("method.request.multivaluequerystring.", "query"),
        ):
            if source.startswith(marker):
                return location, source[len(marker) :]
    return "header", "Authorization"
