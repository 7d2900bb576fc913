"""Who may do what: every allowed action per role (and the functions using it), who can reach
each resource through its resource-based policy and who can become each role, resolved readably.

`permissions()` builds the report; `identity`, `reach`, `arns` and `baseline` hold the parts.
The baseline gate compares the report with a committed JSON file: growth fails, shrinkage is
reported.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from secure_constructs.audit.code_calls.compare import check_stacks
from secure_constructs.audit.permissions.arns import ARN_FORMATS, ArnResolver, Assembly
from secure_constructs.audit.permissions.baseline import (
    BASELINE_VERSION,
    Baseline,
    BaselineDiff,
    baseline_of,
    compare,
    read_baseline,
    write_baseline,
)
from secure_constructs.audit.permissions.identity import (
    ESCALATION_ACTIONS,
    MANAGED_POLICY,
    stack_permissions,
)
from secure_constructs.audit.permissions.model import (
    Access,
    FunctionRole,
    Grant,
    PermissionReport,
    Principal,
    Reachable,
    is_alarming,
)
from secure_constructs.audit.permissions.reach import stack_reach
from secure_constructs.audit.sources import StackSource
from secure_constructs.checks.intrinsics import Resolver

__all__ = [
    "ARN_FORMATS",
    "BASELINE_VERSION",
    "ESCALATION_ACTIONS",
    "MANAGED_POLICY",
    "Access",
    "ArnResolver",
    "Assembly",
    "Baseline",
    "BaselineDiff",
    "FunctionRole",
    "Grant",
    "PermissionReport",
    "Principal",
    "Reachable",
    "baseline_of",
    "compare",
    "is_alarming",
    "permissions",
    "read_baseline",
    "write_baseline",
]


def permissions(
    stacks: Iterable[StackSource],
    resolvers: Mapping[str, Resolver],
    *,
    code_dirs: Mapping[str, Path] | None = None,
) -> PermissionReport:
    """The permission report of every stack, with each function's code against its role.

    The grants are rendered by an `ArnResolver` per stack (names as the template gives them,
    cross-stack references followed); `resolvers` serve the code-against-grants check.
    """
    report = PermissionReport()
    stacks = list(stacks)
    assembly = Assembly(stacks)
    for stack in stacks:
        resolver = assembly.resolver(stack)
        stack_permissions(stack, resolver, report)
        report.reach.extend(stack_reach(stack, resolver, assembly.account(stack)))
    report.code = check_stacks(stacks, resolvers, code_dirs)
    return report
