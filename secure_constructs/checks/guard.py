"""A warning (an error with `secure_constructs:strict`) when an app's checks are off.

Every secure construct calls `ensure_checked(self)`: once per stack it adds a marker construct
whose validation runs at synth, so `apply_checks(app)` called after the constructs still counts.
When no App or Stage above the stack had `apply_checks`, the stack gets a warning annotation
("checks are off: call apply_checks(app)"), or the synth fails under the strict context.
"""

from __future__ import annotations

import os
import weakref

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

FAIL_SYNTH_CONTEXT = "@aws-cdk/core:failSynthOnValidationErrors"
APP_MODE_CONTEXT = "@aws-cdk/core:appMode"
APP_MODE_ENV = "CDK_APP_MODE"
CLI_VERSION_ENV = "CDK_CLI_VERSION"
"""aws-cdk-lib's switches (cx-api constants): with failSynthOnValidationErrors false, or the app
mode `process`, `app.synth()` writes the validation report and returns, leaving the exit code to
the CDK CLI, which reads the report. The CLI sets CDK_CLI_VERSION in the app's environment (and
failSynthOnValidationErrors false, since it judges the report itself)."""

# id(scope) -> scope: the Apps and Stages apply_checks registered the packs on.
_CHECKED: dict[int, IConstruct] = {}


def mark_checked(scope: IConstruct) -> None:
    _CHECKED[id(scope)] = scope


def is_checked(construct: IConstruct) -> bool:
    return any(_CHECKED.get(id(scope)) is scope for scope in construct.node.scopes)


def ensure_enforced(scope: IConstruct) -> None:
    """A construct validation on `scope` (apply_checks'): outside the CDK CLI, a switch that
    makes `app.synth()` return despite failed checks is an error (construct validation errors
    throw whatever the app mode), so `python app.py` cannot exit 0 with open findings."""
    scope.node.add_validation(_Enforced(scope))


@jsii.implements(IValidation)
class _Enforced:
    def __init__(self, scope: IConstruct) -> None:
        self._scope = scope

    def validate(self) -> list[str]:
        if os.environ.get(CLI_VERSION_ENV):
            return []  # the CLI reads validation-report.json and fails the command itself
        switches = []
        if _is_false(self._scope.node.try_get_context(FAIL_SYNTH_CONTEXT)):
            switches.append(f"the context {FAIL_SYNTH_CONTEXT}=false")
        if self._scope.node.try_get_context(APP_MODE_CONTEXT) == "process":
            switches.append(f"the context {APP_MODE_CONTEXT}=process")
        elif os.environ.get(APP_MODE_ENV) == "process":
            switches.append(f"the environment variable {APP_MODE_ENV}=process")
        if not switches:
            return []
        return [
            f"apply_checks: {' and '.join(switches)} make(s) app.synth() return although checks "
            "fail (only the CDK CLI reads the validation report and fails); remove it, or run "
            "the app through `cdk synth`"
        ]


def _is_false(value: object) -> bool:
    return value is False or (isinstance(value, str) and value.strip().lower() == "false")


# Only a shortcut: a miss (e.g. another Python proxy of the same stack) looks the marker up in
# the tree, so the result never depends on which Python object stands for the stack.
_MARKED: weakref.WeakSet[cdk.Stack] = weakref.WeakSet()


def ensure_checked(construct: IConstruct) -> None:
    """Add the per-stack marker whose validation reports missing checks (idempotent). Pass the
    stack itself where it is at hand: that saves a jsii round trip per construct."""
    stack = construct if isinstance(construct, cdk.Stack) else cdk.Stack.of(construct)
    if stack in _MARKED:
        return
    if stack.node.try_find_child(MARKER_ID) is None:
        marker = Construct(stack, MARKER_ID)
        marker.node.add_validation(_ChecksOn(stack))
    _MARKED.add(stack)


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
