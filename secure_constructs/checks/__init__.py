"""Policy checks at `cdk synth`: cdk-nag v3's packs plus our SecureServerless pack.

`apply_checks(app)` registers the packs as CDK validation plugins, so a synth with an
unacknowledged error finding fails. `acknowledge(construct, rule_id, reason)` is the one way to
accept a finding, granularly and with a reason a reviewer can read.

The rules themselves (`secure_constructs.checks.rules`) are pure Python over CloudFormation
JSON; the CDK-facing names below are imported lazily so that `secure-constructs audit` never
starts jsii.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from secure_constructs.checks.model import Finding, Practice, Rule, Severity, Template, Violation

if TYPE_CHECKING:
    from secure_constructs.checks.packs import Compliance, acknowledge, apply_checks
    from secure_constructs.checks.plugin import SecureServerlessChecks

__all__ = [
    "Compliance",
    "Finding",
    "Practice",
    "Rule",
    "SecureServerlessChecks",
    "Severity",
    "Template",
    "Violation",
    "acknowledge",
    "apply_checks",
]

_LAZY = {
    "Compliance": "packs",
    "SecureServerlessChecks": "plugin",
    "acknowledge": "packs",
    "apply_checks": "packs",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = importlib.import_module(f"secure_constructs.checks.{_LAZY[name]}")
        return getattr(module, name)
    raise AttributeError(name)
