"""A warning (an error with `secure_constructs:strict`) when an app's checks are off.

Every secure construct calls `ensure_checked(self)`: once per stack it adds a marker construct
whose validation runs at synth, so `apply_checks(app)` called after the constructs still counts.
When no App or Stage above the stack had `apply_checks`, the stack gets a warning annotation
("checks are off: call apply_checks(app)"), or the synth fails under the strict context.
"""

from __future__ import annotations

import aws_cdk as cdk
import jsii
from constructs import Construct, IConstruct, IValidation

MARKER_ID = "SecureConstructsChecksGuard"
STRICT_CONTEXT = "secure_constructs:strict"
WARNING_ID = "secure_constructs:checksOff"
MESSAGE = (
    "checks are off: call apply_checks(app) so that cdk-nag's packs and SecureServerless run "
    "at synth (nothing has checked this stack)"
)

# id(scope) -> scope: the Apps and Stages apply_checks registered the packs on.
_CHECKED: dict[int, IConstruct] = {}


def mark_checked(scope: IConstruct) -> None:
    _CHECKED[id(scope)] = scope


def is_checked(construct: IConstruct) -> bool:
    return any(_CHECKED.get(id(scope)) is scope for scope in construct.node.scopes)


def ensure_checked(construct: IConstruct) -> None:
    """Add the per-stack marker whose validation reports missing checks (idempotent)."""
    stack = cdk.Stack.of(construct)
    if stack.node.try_find_child(MARKER_ID) is not None:
        return
    marker = Construct(stack, MARKER_ID)
    marker.node.add_validation(_ChecksOn(stack))


@jsii.implements(IValidation)
class _ChecksOn:
    def __init__(self, stack: cdk.Stack) -> None:
        self._stack = stack

    def validate(self) -> list[str]:
        if is_checked(self._stack):
            return []
        strict = self._stack.node.try_get_context(STRICT_CONTEXT)
        if strict is True or (isinstance(strict, str) and strict.lower() == "true"):
            return [f"{MESSAGE}; {STRICT_CONTEXT} is set, so this is an error"]
        cdk.Annotations.of(self._stack).add_warning_v2(WARNING_ID, MESSAGE)
        return []
