"""The LogForwarding rule: when a stack forwards its logs, no log group is left out.

A template says it forwards its logs with the `SecureConstructs::LogForwarding` entry of its
top-level Metadata (`{"DestinationArn": ...}`), which `forward_logs` writes and a hand-written
template can write. Then every `AWS::Logs::LogGroup`, and every Lambda function logging to its
implicit `/aws/lambda/<name>` group, needs an `AWS::Logs::SubscriptionFilter` to that ARN.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from typing import Any

from secure_constructs.checks.cfn import UNKNOWN, referenced_id, referenced_ids, renderings
from secure_constructs.checks.log_writers import WRITERS, defined_in, group_names, log_writes
from secure_constructs.checks.model import Practice, Template, Violation, rule
from secure_constructs.facts.logs_facts import FORWARDING_METADATA

LOG_GROUP = "AWS::Logs::LogGroup"
FUNCTION = "AWS::Lambda::Function"
SUBSCRIPTION_FILTER = "AWS::Logs::SubscriptionFilter"
IMPLICIT_PREFIX = "/aws/lambda/"
"""Lambda writes to `/aws/lambda/<function name>` when a function names no log group."""
_FIX_GROUP = (
    "forward_logs subscribes every log group of its stack: this one is in another stack, was "
    "overridden or is the destination's own; in a template add an AWS::Logs::SubscriptionFilter "
    "with LogGroupName: !Ref <group> and the forwarding DestinationArn"
)
_FIX_FUNCTION = (
    "give the function a log group of its own (SecureFunction does; aws_lambda.Function("
    "log_group=logs.LogGroup(...))), which forward_logs then subscribes; in a template set "
    "LoggingConfig.LogGroup to an AWS::Logs::LogGroup of the template"
)

_FIX_OUTSIDE = (
    "write to a log group of this stack (forward_logs subscribes it), or add an "
    "AWS::Logs::SubscriptionFilter with LogGroupName set to that group's name literally and the "
    "forwarding DestinationArn (in the stack that owns the group if it is another's)"
)


def _marker(t: Template) -> tuple[bool, Any]:
    """(whether the template declares forwarding, its DestinationArn or None)."""
    metadata = t.body.get("Metadata")
    if not isinstance(metadata, Mapping) or FORWARDING_METADATA not in metadata:
        return False, None
    marker = metadata[FORWARDING_METADATA]
    destination = marker.get("DestinationArn") if isinstance(marker, Mapping) else None
    return True, destination if destination not in (None, "") else None


@rule(
    "LogForwarding",
    practice=Practice.MONITORING,
    applies_to=(LOG_GROUP, *WRITERS),
    applies_if=lambda t: _marker(t)[0],
    summary="A stack forwards its logs to a SIEM, but a log group is left out",
    explanation=(
        "A SIEM correlates what it receives: a log group that is not forwarded (a function's "
        "logs, an API's access log, a web ACL's blocked requests) is a blind spot an attacker "
        "only needs to find once, and nobody notices it is missing. When the template declares "
        "forwarding (Metadata SecureConstructs::LogForwarding, written by forward_logs), every "
        "AWS::Logs::LogGroup needs a subscription filter to that destination, and so does the "
        "implicit /aws/lambda/<name> group of a function that names no log group: such a group "
        "exists only after the first invocation, so no template can subscribe it, and the "
        "function needs a log group of its own."
    ),
)
def log_forwarding(t: Template) -> Iterator[Violation]:
    """Log groups and implicit Lambda log groups without a filter to the forwarding destination."""
    declared, destination = _marker(t)
    if not declared:
        return
    if destination is None:
        message = (
            f"the template's Metadata {FORWARDING_METADATA} names no DestinationArn, so no log "
            "group can be shown to be forwarded"
        )
        for logical_id, _ in t.of_type(LOG_GROUP, FUNCTION):
            yield Violation(logical_id, f"Metadata/{FORWARDING_METADATA}", message, _FIX_GROUP)
        return
    ids, names = _forwarded(t, destination)
    exempt = _destination_groups(t, destination)
    for logical_id, props in t.of_type(LOG_GROUP):
        filters = ids.get(logical_id, []) + [
            f for n in _literals(props.get("LogGroupName")) for f in names.get(n, [])
        ]
        if logical_id in exempt or any(t.exists_with(f, logical_id) for f in filters):
            continue
        yield Violation(
            logical_id,
            "Properties/LogGroupName",
            "the log group has no subscription filter to the stack's forwarding destination"
            + _conditional(filters),
            _FIX_GROUP,
        )
    yield from _implicit_groups(t, ids, names)
    yield from _outside_groups(t, names)


def _conditional(filters: list[str]) -> str:
    """What to add to a message when the only filters have a Condition of their own."""
    return (
        f" that always exists ({filters[0]} has a Condition it does not share)" if filters else ""
    )


def _implicit_groups(
    t: Template, ids: Mapping[str, list[str]], names: Mapping[str, list[str]]
) -> Iterator[Violation]:
    named_for = {
        fn for _, props in t.of_type(LOG_GROUP) for fn in referenced_ids(props.get("LogGroupName"))
    }
    for logical_id, props in t.of_type(FUNCTION):
        logging = props.get("LoggingConfig")
        if isinstance(logging, Mapping) and logging.get("LogGroup") not in (None, ""):
            continue  # its own group: judged as a log group, or by _outside_groups
        if logical_id in named_for:
            continue  # a LogGroup named /aws/lambda/${Fn} (judged above)
        literal = {IMPLICIT_PREFIX + n for n in _literals(props.get("FunctionName"))}
        filters = ids.get(logical_id, []) + [f for n in literal for f in names.get(n, [])]
        if any(t.exists_with(f, logical_id) for f in filters):
            continue
        yield Violation(
            logical_id,
            "Properties/LoggingConfig",
            "the function logs to its implicit /aws/lambda/ log group, which no template can "
            "subscribe (it exists only after the first invocation)" + _conditional(filters),
            _FIX_FUNCTION,
        )


def _outside_groups(t: Template, names: Mapping[str, list[str]]) -> Iterator[Violation]:
    """Log groups a resource writes to that the template does not define (a function's
    LoggingConfig.LogGroup name, a state machine's, stage's or web ACL's log group ARN): each
    needs a filter whose LogGroupName is literally that name."""
    defined = {n for _, props in t.of_type(LOG_GROUP) for n in _literals(props.get("LogGroupName"))}
    for write in log_writes(t.resources):
        if defined_in(write, t.resources):
            continue
        found = group_names(write)
        if found is None:
            yield Violation(
                write.logical_id,
                write.path,
                "the resource writes to a log group this template names only through a "
                "parameter or an import, so it cannot be shown to be forwarded",
                _FIX_OUTSIDE,
            )
            continue
        for name in sorted(found - defined):
            filters = names.get(name, [])
            if any(t.exists_with(f, write.logical_id) for f in filters):
                continue
            yield Violation(
                write.logical_id,
                write.path,
                f"the resource writes to log group {name}, which the template does not define "
                "and no subscription filter to the forwarding destination names"
                + _conditional(filters),
                _FIX_OUTSIDE,
            )


def _forwarded(t: Template, destination: Any) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """The filters to `destination`, by the logical id and by the literal name of the log group
    they subscribe; a filter on `/aws/lambda/${Fn}` counts for the function Fn."""
    ids: dict[str, list[str]] = defaultdict(list)
    names: dict[str, list[str]] = defaultdict(list)
    for filter_id, props in t.of_type(SUBSCRIPTION_FILTER):
        if not _same(props.get("DestinationArn"), destination):
            continue
        group = props.get("LogGroupName")
        found = referenced_id(group)
        if found is not None:
            ids[found].append(filter_id)
        elif any(r.startswith(IMPLICIT_PREFIX) for r in renderings(group)):
            for target in referenced_ids(group):
                ids[target].append(filter_id)
        for name in _literals(group):
            names[name].append(filter_id)
    return ids, names


def _destination_groups(t: Template, destination: Any) -> set[str]:
    """Log groups the destination itself writes to (a Firehose stream's error log): forwarding
    them into it would feed the stream its own failures."""
    target = referenced_id(destination)
    resource = t.resources.get(target) if target is not None else None
    if not isinstance(resource, Mapping):
        return set()
    return {r for r in referenced_ids(resource.get("Properties")) if _is_log_group(t, r)}


def _is_log_group(t: Template, logical_id: str) -> bool:
    resource = t.resources.get(logical_id)
    return isinstance(resource, Mapping) and resource.get("Type") == LOG_GROUP


def _same(value: Any, destination: Any) -> bool:
    if value == destination:
        return True
    known = {r for r in renderings(destination) if UNKNOWN not in r}
    return bool(known & {r for r in renderings(value) if UNKNOWN not in r})


def _literals(value: Any) -> set[str]:
    return {r for r in renderings(value) if r and UNKNOWN not in r}


RULES = (log_forwarding,)
