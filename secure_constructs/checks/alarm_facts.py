"""Whether an AWS::CloudWatch::Alarm notifies someone in every deploy the template allows: its
ActionsEnabled true in every `Fn::If` branch and for every value a parameter may take, and its
AlarmActions non-empty in every branch. (`cfn.alarm_notifies` reads literals only.)"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from secure_constructs.checks.cfn import as_list
from secure_constructs.checks.condition_branches import branches, every_branch
from secure_constructs.checks.parameter_bounds import referenced_parameter, template_parameters

_TRUE = ("true",)


def alarm_always_notifies(props: Mapping[str, Any], body: Mapping[str, Any]) -> bool:
    """Whether the alarm (its Properties `props`, in template `body`) has alarm actions and
    enables them, whichever branch a condition takes and whatever a parameter is given."""
    parameters = template_parameters(body)
    enabled = every_branch(props.get("ActionsEnabled"), lambda v: _enabled(v, parameters))
    return enabled and every_branch(props.get("AlarmActions"), _has_an_action)


def _enabled(value: Any, parameters: Mapping[str, Any]) -> bool:
    """ActionsEnabled left out (true, CloudFormation's default), true, or a parameter whose
    AllowedValues are all true; anything else (false, an unbounded parameter) is not."""
    if value is None or value is True:
        return True
    if isinstance(value, str):
        return value.lower() in _TRUE
    declared = referenced_parameter(value, parameters)
    allowed = as_list(declared.get("AllowedValues")) if isinstance(declared, Mapping) else []
    return bool(allowed) and all(_enabled(v, {}) for v in allowed)


def _has_an_action(actions: Any) -> bool:
    """At least one action that is there in every branch (an AWS::NoValue item is none)."""
    if actions is None:
        return False
    return any(
        all(branch is not None for branch in branches(action)) for action in as_list(actions)
    )
