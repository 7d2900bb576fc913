"""secure-constructs: hardened serverless patterns for AWS CDK v2, proven at synth."""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

from secure_constructs._version import __version__

if TYPE_CHECKING:
    from secure_constructs.api import ApiCache, SecureApi
    from secure_constructs.auth import ApiAuth
    from secure_constructs.bundling import PythonCode
    from secure_constructs.checks import Compliance, acknowledge, apply_checks
    from secure_constructs.errors import ValidationError
    from secure_constructs.function import SecureFunction
    from secure_constructs.log_destinations import LogDestination
    from secure_constructs.log_forwarding import forward_logs
    from secure_constructs.observability import (
        TrafficAnomaly,
        add_dashboard_row,
        configure_monitoring,
        disable_dashboard,
    )
    from secure_constructs.role import LambdaExecutionRole
    from secure_constructs.secret import SecretRotation, SecureSecret
    from secure_constructs.secrets_cache import SecretsCache, powertools_layer
    from secure_constructs.shared import security_key
    from secure_constructs.user_pool import ResourceServerScopes, SecureUserPool
    from secure_constructs.waf import SecureWebAcl, WafProfile
    from secure_constructs.workflow import SecureLambdaInvoke, SecureStateMachine

__all__ = [
    "ApiAuth",
    "ApiCache",
    "Compliance",
    "LambdaExecutionRole",
    "LogDestination",
    "PythonCode",
    "ResourceServerScopes",
    "SecretRotation",
    "SecretsCache",
    "SecureApi",
    "SecureFunction",
    "SecureLambdaInvoke",
    "SecureSecret",
    "SecureStateMachine",
    "SecureUserPool",
    "SecureWebAcl",
    "TrafficAnomaly",
    "ValidationError",
    "WafProfile",
    "__version__",
    "acknowledge",
    "add_dashboard_row",
    "apply_checks",
    "configure_monitoring",
    "disable_dashboard",
    "forward_logs",
    "powertools_layer",
    "security_key",
]

# Re-exports are imported on first use: importing any submodule runs this file, and the
# pure-Python parts (the rules, `secure-constructs audit`) must not start aws_cdk / jsii.
# A new export goes in __all__, in the TYPE_CHECKING block and here (name -> module).
_EXPORTS = {
    "ApiAuth": "secure_constructs.auth",
    "ApiCache": "secure_constructs.api",
    "Compliance": "secure_constructs.checks",
    "LambdaExecutionRole": "secure_constructs.role",
    "LogDestination": "secure_constructs.log_destinations",
    "PythonCode": "secure_constructs.bundling",
    "ResourceServerScopes": "secure_constructs.user_pool",
    "SecretRotation": "secure_constructs.secret",
    "SecretsCache": "secure_constructs.secrets_cache",
    "SecureApi": "secure_constructs.api",
    "SecureSecret": "secure_constructs.secret",
    "SecureFunction": "secure_constructs.function",
    "SecureLambdaInvoke": "secure_constructs.workflow",
    "SecureStateMachine": "secure_constructs.workflow",
    "SecureUserPool": "secure_constructs.user_pool",
    "SecureWebAcl": "secure_constructs.waf",
    "TrafficAnomaly": "secure_constructs.observability",
    "ValidationError": "secure_constructs.errors",
    "WafProfile": "secure_constructs.waf",
    "acknowledge": "secure_constructs.checks",
    "add_dashboard_row": "secure_constructs.observability",
    "configure_monitoring": "secure_constructs.observability",
    "disable_dashboard": "secure_constructs.observability",
    "apply_checks": "secure_constructs.checks",
    "forward_logs": "secure_constructs.log_forwarding",
    "powertools_layer": "secure_constructs.secrets_cache",
    "security_key": "secure_constructs.shared",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module), name)
    elif not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        # A submodule (`secure_constructs.monitoring.alarm(...)` after `import
        # secure_constructs`), loaded on first use like the exports.
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
