"""Cached secret reads at runtime for SecureFunction (`secrets_cache=`).

`SecretsCache.extension(...)` adds the AWS Parameters and Secrets Lambda Extension
(`aws_lambda.ParamsAndSecretsLayerVersion`) with its cache settings; `SecretsCache.powertools(...)`
adds the Powertools for AWS Lambda (Python) layer, resolved at deploy time from the public SSM
parameter AWS publishes, and sets `POWERTOOLS_PARAMETERS_MAX_AGE`. Either way a cache that could
serve a value older than a secret's rotation interval is refused.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, MutableMapping
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_

from secure_constructs.defaults import SECRETS_CACHE_TTL_SECONDS
from secure_constructs.errors import ValidationError
from secure_constructs.prop_types import check_args
from secure_constructs.runtimes import latest_python_runtime

if TYPE_CHECKING:
    from aws_cdk import aws_secretsmanager as secretsmanager
    from constructs import Construct

# The extension caches a Secrets Manager value for at most 300 seconds (SECRETS_MANAGER_TTL).
EXTENSION_MAX_TTL_SECONDS = 300
EXTENSION_VERSION = lambda_.ParamsAndSecretsVersions.V1_0_103
# Public SSM parameters holding the Powertools layer ARN, per architecture, Python version and
# release ("latest" or e.g. "3.22.1"); see the Powertools docs, "Lambda Layer" / SSM parameters.
POWERTOOLS_PARAMETER = "/aws/service/powertools/python/{architecture}/{python}/{version}"
POWERTOOLS_MAX_AGE_VARIABLE = "POWERTOOLS_PARAMETERS_MAX_AGE"
EXTENSION_TTL_VARIABLE = "SECRETS_MANAGER_TTL"


class SecretsCache(abc.ABC):
    """How a SecureFunction caches the secrets it reads. Build one with `extension` or
    `powertools`; pass it as `SecureFunction(secrets_cache=...)`. Each factory returns one of
    the variants below, which adds its own layer and settings (`apply`)."""

    kind: ClassVar[str]
    """A label: "extension" or "powertools"."""
    version: str | None = None
    """The Powertools release (only for `powertools`)."""

    def __init__(self, ttl: cdk.Duration) -> None:
        check_args(SecretsCache.__init__, locals())
        self.ttl = ttl

    @staticmethod
    def extension(*, ttl: cdk.Duration | None = None) -> SecretsCache:
        """The AWS Parameters and Secrets Lambda Extension, a local cache the handler reads
        over HTTP on localhost:2773.

        :param ttl: how long a value is cached, 1 to 300 seconds (the extension's maximum),
            and at most the rotation interval of every SecureSecret the function reads.
            Default: 5 minutes.
        """
        check_args(SecretsCache.extension, locals())
        return ExtensionCache(_check_ttl("ttl", ttl, EXTENSION_MAX_TTL_SECONDS))

    @staticmethod
    def powertools(*, max_age: cdk.Duration | None = None, version: str = "latest") -> SecretsCache:
        """Powertools for AWS Lambda (Python): `parameters.get_secret(...)` caches in memory.

        The layer ARN is the value of AWS's public SSM parameter
        `/aws/service/powertools/python/<arm64|x86_64>/<python3.x>/<version>`, resolved by
        CloudFormation at deploy time (no account/region table in this library).

        :param max_age: how long a value is cached (`POWERTOOLS_PARAMETERS_MAX_AGE`), at least
            1 second and at most the rotation interval of every SecureSecret the function reads.
            Default: 5 minutes.
        :param version: the Powertools release, e.g. "3.22.1". Default: "latest" (each deploy
            picks up the newest release).
        """
        check_args(SecretsCache.powertools, locals())
        max_age = _check_ttl("max_age", max_age, None)
        if not isinstance(version, str) or not version or "/" in version:
            raise ValidationError(
                "version",
                version,
                "'latest' or a Powertools release such as '3.22.1'",
                "pass version='latest' or pin a release",
            )
        return PowertoolsCache(max_age, version)

    @property
    def ttl_seconds(self) -> int:
        """The cache lifetime in whole seconds."""
        return int(self.ttl.to_seconds())

    def apply(
        self,
        scope: Construct,
        construct_id: str,
        environment: MutableMapping[str, str],
        options: dict[str, Any],
        *,
        runtime: lambda_.Runtime | None,
        architecture: lambda_.Architecture | None,
    ) -> None:
        """Add this cache's layer to the function's `options` and its settings to
        `environment` (both in place)."""
        check_args(SecretsCache.apply, locals())
        self._apply(
            scope, construct_id, environment, options, runtime=runtime, architecture=architecture
        )

    @abc.abstractmethod
    def _apply(
        self,
        scope: Construct,
        construct_id: str,
        environment: MutableMapping[str, str],
        options: dict[str, Any],
        *,
        runtime: lambda_.Runtime | None,
        architecture: lambda_.Architecture | None,
    ) -> None:
        """The variant's own `apply`."""


class ExtensionCache(SecretsCache):
    """`SecretsCache.extension(ttl=...)`: the AWS Parameters and Secrets Lambda Extension."""

    kind = "extension"

    def _apply(
        self,
        scope: Construct,
        construct_id: str,
        environment: MutableMapping[str, str],
        options: dict[str, Any],
        *,
        runtime: lambda_.Runtime | None,
        architecture: lambda_.Architecture | None,
    ) -> None:
        if options.get("params_and_secrets") is not None:
            raise ValidationError(
                "params_and_secrets",
                "a ParamsAndSecretsLayerVersion",
                "either params_and_secrets= or secrets_cache=, not both",
                "remove params_and_secrets= and keep secrets_cache=SecretsCache.extension(...)",
            )
        options["params_and_secrets"] = lambda_.ParamsAndSecretsLayerVersion.from_version(
            EXTENSION_VERSION,
            cache_enabled=True,
            secrets_manager_ttl=self.ttl,
        )


class PowertoolsCache(SecretsCache):
    """`SecretsCache.powertools(max_age=..., version=...)`: the Powertools (Python) layer."""

    kind = "powertools"
    version: str

    def __init__(self, ttl: cdk.Duration, version: str) -> None:
        super().__init__(ttl)
        self.version = version

    def _apply(
        self,
        scope: Construct,
        construct_id: str,
        environment: MutableMapping[str, str],
        options: dict[str, Any],
        *,
        runtime: lambda_.Runtime | None,
        architecture: lambda_.Architecture | None,
    ) -> None:
        runtime = runtime or latest_python_runtime()
        architecture = architecture or lambda_.Architecture.ARM_64
        if runtime.family is not lambda_.RuntimeFamily.PYTHON:
            raise ValidationError(
                "secrets_cache",
                f"SecretsCache.powertools with runtime {runtime.name}",
                "a Python runtime (this is the Powertools for AWS Lambda (Python) layer)",
                "use a Python runtime or SecretsCache.extension(...)",
            )
        if POWERTOOLS_MAX_AGE_VARIABLE in environment:
            raise ValidationError(
                f"environment[{POWERTOOLS_MAX_AGE_VARIABLE!r}]",
                environment[POWERTOOLS_MAX_AGE_VARIABLE],
                "not set when secrets_cache=SecretsCache.powertools(...) sets it",
                "remove it from environment and pass max_age= to SecretsCache.powertools",
            )
        layer = powertools_layer(
            scope,
            f"{construct_id}PowertoolsLayer",
            runtime=runtime,
            architecture=architecture,
            version=self.version,
        )
        options["layers"] = [*(options.get("layers") or ()), layer]
        environment[POWERTOOLS_MAX_AGE_VARIABLE] = str(self.ttl_seconds)


def powertools_layer(
    scope: Construct,
    construct_id: str,
    *,
    runtime: lambda_.Runtime | None = None,
    architecture: lambda_.Architecture | None = None,
    version: str = "latest",
) -> lambda_.ILayerVersion:
    """The Powertools for AWS Lambda (Python) layer for `runtime` and `architecture`, its ARN
    read at deploy time from AWS's public SSM parameter (no account/region table here).

    :param runtime: a Python runtime. Default: the latest Python runtime (SecureFunction's).
    :param architecture: Default: `ARM_64` (SecureFunction's).
    :param version: the Powertools release, e.g. "3.22.1". Default: "latest".
    """
    check_args(powertools_layer, locals())
    runtime = runtime or latest_python_runtime()
    architecture = architecture or lambda_.Architecture.ARM_64
    parameter = POWERTOOLS_PARAMETER.format(
        architecture=architecture.name, python=runtime.name, version=version
    )
    # Imported here: only the Powertools layer needs aws_ssm, and SecureFunction imports this
    # module on every import of secure_constructs.function.
    from aws_cdk import aws_ssm as ssm

    layer_arn = ssm.StringParameter.value_for_string_parameter(scope, parameter)
    return lambda_.LayerVersion.from_layer_version_arn(scope, construct_id, layer_arn)


def apply_secrets_cache(
    scope: Construct,
    construct_id: str,
    cache: SecretsCache | None,
    secrets: Mapping[str, secretsmanager.ISecret],
    environment: MutableMapping[str, str],
    options: Mapping[str, Any],
    *,
    runtime: lambda_.Runtime | None,
    architecture: lambda_.Architecture | None,
) -> dict[str, Any]:
    """The function's pass-through options with the cache layer added (and `environment`
    updated in place); refuses a TTL longer than the rotation interval of a secret read.

    Called by SecureFunction before it creates the function; `runtime` and `architecture` are
    the caller's arguments (None: SecureFunction's defaults, the latest Python and ARM_64).
    """
    result = dict(options)
    if cache is None:
        return result
    if not isinstance(cache, SecretsCache):
        raise ValidationError(
            "secrets_cache",
            type(cache).__name__,
            "SecretsCache.extension(ttl=...) or SecretsCache.powertools(max_age=...)",
            "pass e.g. secrets_cache=SecretsCache.extension(ttl=Duration.minutes(5))",
        )
    _check_rotation(cache, secrets)
    cache.apply(
        scope, construct_id, environment, result, runtime=runtime, architecture=architecture
    )
    return result


def _check_ttl(prop: str, ttl: cdk.Duration | None, maximum: int | None) -> cdk.Duration:
    ttl = ttl if ttl is not None else cdk.Duration.seconds(SECRETS_CACHE_TTL_SECONDS)
    if ttl.is_unresolved():
        raise ValidationError(
            prop, "a token", "a concrete Duration", f"pass e.g. {prop}=Duration.minutes(5)"
        )
    ms = ttl.to_milliseconds()
    too_long = maximum is not None and ms > maximum * 1000
    if ms < 1000 or ms % 1000 or too_long:
        allowed = (
            f"1 to {maximum} seconds (the extension's maximum)" if maximum else "at least 1 second"
        )
        raise ValidationError(
            prop,
            f"{ms / 1000:g} seconds",
            f"whole seconds, {allowed}",
            f"pass e.g. {prop}=Duration.minutes(5)",
        )
    return ttl


@runtime_checkable
class RotatingSecret(Protocol):
    """A secret that knows how often it rotates (a SecureSecret): a cache must not outlive it.
    A protocol, not SecureSecret itself, so that this module needs nothing of secret.py."""

    @property
    def rotation_interval(self) -> cdk.Duration | None:
        """How often the secret rotates, or None when it does not."""


def _check_rotation(cache: SecretsCache, secrets: Mapping[str, secretsmanager.ISecret]) -> None:
    for key, secret in secrets.items():
        interval = secret.rotation_interval if isinstance(secret, RotatingSecret) else None
        if not isinstance(interval, cdk.Duration):
            continue
        rotation_seconds = interval.to_milliseconds() // 1000
        if cache.ttl_seconds > rotation_seconds:
            raise ValidationError(
                "secrets_cache",
                f"a cache TTL of {cache.ttl_seconds} seconds",
                f"at most the rotation interval of secrets[{key!r}] ({rotation_seconds} seconds): "
                "a longer cache would serve a value the rotation already replaced",
                "shorten the cache TTL or rotate less often",
            )


__all__ = [
    "POWERTOOLS_PARAMETER",
    "ExtensionCache",
    "PowertoolsCache",
    "SecretsCache",
    "apply_secrets_cache",
    "powertools_layer",
]
