"""Who may call an API: `ApiAuth` (Cognito, IAM, Lambda authorizers, or a deliberately public
route). The Cognito user pool itself is `secure_constructs.user_pool.SecureUserPool`; this
module needs aws_cognito only for type hints, so IAM- and Lambda-authorized APIs never load it."""

from __future__ import annotations

import re
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigateway
from constructs import Construct, IConstruct

from secure_constructs.errors import ValidationError
from secure_constructs.prop_types import check_args
from secure_constructs.validation import check_reason

if TYPE_CHECKING:
    from aws_cdk import aws_cognito as cognito
    from aws_cdk import aws_lambda as lambda_

__all__ = ["OAUTH_SCOPE", "ApiAuth"]

MAX_CACHE_TTL_SECONDS = 3600

_TOKEN_SOURCE = re.compile(r"^method\.request\.header\.[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
_REQUEST_SOURCE = re.compile(
    r"^(method\.request\.(header|querystring|multivaluequerystring|multivalueheader)\."
    r"[A-Za-z0-9!#$%&'*+.^_`|~-]+|stageVariables\.[A-Za-z0-9_]+|context\.[A-Za-z0-9_.]+)$"
)
# An OAuth scope (RFC 6749 scope-token): printable ASCII without space, '"' or '\\'.
OAUTH_SCOPE = re.compile(r"^[\x21\x23-\x5B\x5D-\x7E]+$")
_SCHEME_NAME = re.compile(r"[^A-Za-z0-9_.-]")

# api -> {authorizer configuration -> authorizer}: one authorizer per API and identity provider.
_AUTHORIZERS: weakref.WeakKeyDictionary[
    apigateway.RestApi, dict[tuple[Any, ...], apigateway.IAuthorizer]
] = weakref.WeakKeyDictionary()


class ApiAuth:
    """How an API method authorizes its callers. Build one with a static factory:
    `ApiAuth.cognito(pool)`, `ApiAuth.iam()`, `ApiAuth.lambda_token(fn)`,
    `ApiAuth.lambda_request(fn, identity_sources=[...])` or `ApiAuth.none(reason=...)`.

    An `ApiAuth` is a description, not a construct: the API Gateway authorizer is created when a
    method uses it (`method_options(api)`), once per API and identity provider.
    """

    kind: str
    """"cognito", "iam", "lambda_token", "lambda_request" or "none"."""
    reason: str | None
    """Why the route is public (only for `none`)."""

    def __init__(
        self,
        *,
        kind: str,
        user_pool: cognito.IUserPool | None = None,
        scopes: Sequence[str] = (),
        function: lambda_.IFunction | None = None,
        identity_sources: Sequence[str] = (),
        results_cache_ttl: cdk.Duration | None = None,
        reason: str | None = None,
    ) -> None:
        check_args(ApiAuth.__init__, locals())
        self.kind = kind
        self.user_pool = user_pool
        self.scopes: tuple[str, ...] = tuple(scopes)
        self.function = function
        self.identity_sources: tuple[str, ...] = tuple(identity_sources)
        self.results_cache_ttl = results_cache_ttl
        self.reason = reason

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
        scopes = _check_scopes(scopes)
        return ApiAuth(kind="cognito", user_pool=user_pool, scopes=scopes)

    @staticmethod
    def iam() -> ApiAuth:
        """Callers sign requests with AWS Signature Version 4; grant `execute-api:Invoke` on the
        method to the roles that may call it."""
        return ApiAuth(kind="iam")

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
        return ApiAuth(
            kind="lambda_token",
            function=function,
            identity_sources=(identity_source,),
            results_cache_ttl=ttl,
        )

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
        return ApiAuth(
            kind="lambda_request",
            function=function,
            identity_sources=tuple(dict.fromkeys(identity_sources)),
            results_cache_ttl=ttl,
        )

    @staticmethod
    def none(*, reason: str) -> ApiAuth:
        """A deliberately public route (e.g. a health check or a public catalogue).

        :param reason: why anyone on the internet may call it, at least 4 words and 10
            characters, not boilerplate; it is recorded as the acknowledgement of the
            "no authorizer" findings.
        """
        check_args(ApiAuth.none, locals())
        check_reason("reason", reason, about="the route must be public")
        return ApiAuth(kind="none", reason=reason.strip())

    # -- use -------------------------------------------------------------------------------

    @property
    def is_public(self) -> bool:
        """True only for `ApiAuth.none(...)`."""
        return self.kind == "none"

    def method_options(self, api: apigateway.RestApi) -> dict[str, Any]:
        """Keyword arguments for `Resource.add_method` on `api`.

        `authorization_type` always; `authorizer` for Cognito and Lambda authorizers (created
        under `api` on first use and shared by every method with the same identity provider);
        `authorization_scopes` for Cognito with scopes.
        """
        check_args(ApiAuth.method_options, locals())
        if self.kind == "none":
            return {"authorization_type": apigateway.AuthorizationType.NONE}
        if self.kind == "iam":
            return {"authorization_type": apigateway.AuthorizationType.IAM}
        options: dict[str, Any] = {"authorizer": self._authorizer(api)}
        if self.kind == "cognito":
            options["authorization_type"] = apigateway.AuthorizationType.COGNITO
            if self.scopes:
                options["authorization_scopes"] = list(self.scopes)
        else:
            options["authorization_type"] = apigateway.AuthorizationType.CUSTOM
        return options

    def openapi_security_scheme(self) -> tuple[str, dict[str, Any]] | None:
        """(name, OpenAPI 3 securityScheme object) for this auth, or None for a public route.

        The objects carry API Gateway's `x-amazon-apigateway-authtype` extension and no
        deploy-time tokens, so the document can be written at synth and fed to a DAST scanner.
        """
        if self.kind == "none":
            return None
        if self.kind == "iam":
            return "sigv4", {
                "type": "apiKey",
                "name": "Authorization",
                "in": "header",
                "description": "AWS Signature Version 4 (IAM authorization)",
                "x-amazon-apigateway-authtype": "awsSigv4",
            }
        if self.kind == "cognito":
            assert self.user_pool is not None
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
        assert self.function is not None
        location, name = _openapi_location(self.identity_sources)
        return _scheme_name(self.kind, self.function), {
            "type": "apiKey",
            "name": name,
            "in": location,
            "description": (
                f"Lambda {'TOKEN' if self.kind == 'lambda_token' else 'REQUEST'} authorizer; "
                f"identity sources: {', '.join(self.identity_sources)}"
            ),
            "x-amazon-apigateway-authtype": "custom",
        }

    def openapi_security_requirement(self) -> dict[str, list[str]] | None:
        """The operation's OpenAPI `security` entry, e.g. `{"cognito_Users": ["api/read"]}`.

        Cognito scopes are listed as API Gateway's OpenAPI import expects (and OpenAPI 3.1
        allows); other kinds have an empty list. None for a public route (no `security`).
        """
        scheme = self.openapi_security_scheme()
        if scheme is None:
            return None
        return {scheme[0]: list(self.scopes)}

    def nag_acknowledgements(self) -> tuple[tuple[str, str], ...]:
        """(cdk-nag rule id, reason) pairs a method using this auth needs acknowledged.

        A Cognito method needs none. IAM and Lambda-authorized methods are flagged by
        AwsSolutions-COG4 (no Cognito authorizer), which is a design choice, not a gap; a public
        route is flagged by AwsSolutions-APIG4 and COG4 and carries the route's own reason.
        """
        if self.kind == "cognito":
            return ()
        if self.kind == "none":
            assert self.reason is not None
            reason = f"Deliberately public route: {self.reason}"
            return (("AwsSolutions-APIG4", reason), ("AwsSolutions-COG4", reason))
        if self.kind == "iam":
            reason = (
                "The method is authorized with IAM (SigV4-signed requests, execute-api:Invoke "
                "granted per caller role); IAM, not a Cognito user pool, is its identity provider."
            )
        else:
            assert self.function is not None
            reason = (
                f"The method is authorized by the Lambda authorizer {self.function.node.path}, "
                "which validates the caller's credentials; it, not a Cognito user pool, is the "
                "identity provider of this route."
            )
        return (("AwsSolutions-COG4", reason),)

    def _authorizer(self, api: apigateway.RestApi) -> apigateway.IAuthorizer:
        registry = _AUTHORIZERS.setdefault(api, {})
        key = self._cache_key()
        existing = registry.get(key)
        if existing is not None:
            return existing
        base = {
            "cognito": "CognitoAuthorizer",
            "lambda_token": "TokenAuthorizer",
            "lambda_request": "RequestAuthorizer",
        }[self.kind]
        construct_id = base
        counter = 1
        while api.node.try_find_child(construct_id) is not None:
            counter += 1
            construct_id = f"{base}{counter}"
        created: apigateway.IAuthorizer
        if self.kind == "cognito":
            assert self.user_pool is not None
            created = apigateway.CognitoUserPoolsAuthorizer(
                api, construct_id, cognito_user_pools=[self.user_pool]
            )
        elif self.kind == "lambda_token":
            assert self.function is not None
            created = apigateway.TokenAuthorizer(
                api,
                construct_id,
                handler=self.function,
                identity_source=self.identity_sources[0],
                results_cache_ttl=self.results_cache_ttl,
            )
        else:
            assert self.function is not None
            created = apigateway.RequestAuthorizer(
                api,
                construct_id,
                handler=self.function,
                identity_sources=list(self.identity_sources),
                results_cache_ttl=self.results_cache_ttl,
            )
        registry[key] = created
        return created

    def _cache_key(self) -> tuple[Any, ...]:
        if self.kind == "cognito":
            assert self.user_pool is not None
            return ("cognito", self.user_pool.node.path)
        assert self.function is not None and self.results_cache_ttl is not None
        ttl = self.results_cache_ttl
        return (
            self.kind,
            self.function.node.path,
            self.identity_sources,
            id(ttl) if ttl.is_unresolved() else ttl.to_seconds(),
        )

    def __repr__(self) -> str:
        if self.kind == "none":
            return f"ApiAuth.none(reason={self.reason!r})"
        if self.kind == "cognito":
            assert self.user_pool is not None
            return f"ApiAuth.cognito({self.user_pool.node.path!r}, scopes={list(self.scopes)!r})"
        if self.kind == "iam":
            return "ApiAuth.iam()"
        assert self.function is not None
        sources = list(self.identity_sources)
        return f"ApiAuth.{self.kind}({self.function.node.path!r}, identity_sources={sources!r})"


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
    ttl = ttl if ttl is not None else cdk.Duration.minutes(5)
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
