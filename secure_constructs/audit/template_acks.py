"""Acknowledgements written in a template's resource Metadata (templates not made by CDK).

A plain or SAM template answers a finding on the resource it concerns:

    Metadata:
      secure-constructs:
        acknowledge:
          - id: SecureServerless::IAMWildcard[Resource::*]
            reason: X-Ray's PutTraceSegments supports only Resource "*" (AWS service reference)

cdk-nag's own metadata, which existing CDK v2 templates carry, is honoured too when it names our
rules as the synth prints them: `cdk_nag: {rules_to_suppress: [{id, reason}]}`. An id is the
granular finding id, exactly; `SecureServerless::` may be left out under `secure-constructs`.
When `audit --nag` ran a cdk-nag pack on the template, that metadata's cdk-nag ids
(`AwsSolutions-SQS3`, with `appliesTo` for granular ones) acknowledge the pack's findings too.
Each one is judged like a CDK acknowledgement: by the reason gate (checks.reasons) and for
staleness (it must match a finding on its resource).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from secure_constructs.audit.fix_terms import made_by_cdk
from secure_constructs.audit.sources import Acknowledgement, StackSource
from secure_constructs.checks.registry import PACK_NAME

OUR_KEY = "secure-constructs"
CDK_NAG_KEY = "cdk_nag"
_PREFIX = f"{PACK_NAME}::"


def location(stack: StackSource, logical_id: str) -> str:
    """Where a template acknowledgement sits, as reports print it."""
    return f"{stack.name}: Resources/{logical_id}/Metadata"


def template_acknowledgements(stack: StackSource) -> Iterator[tuple[str, Acknowledgement]]:
    """(logical id, acknowledgement) for every entry in the stack's resource Metadata.

    In a template CDK made (a cloud assembly, CDK's path metadata or metadata resource) such an
    entry was written with `add_metadata`, around `acknowledge()` and the synth's gate: it is
    read, so the report shows it, but as not made through the gate (a problem)."""
    gate = not made_by_cdk(stack)
    for logical_id, resource in {**stack.resources, **(stack.sam_resources or {})}.items():
        metadata = resource.get("Metadata") if isinstance(resource, Mapping) else None
        if not isinstance(metadata, Mapping):
            continue
        ours = metadata.get(OUR_KEY)
        entries = ours.get("acknowledge") if isinstance(ours, Mapping) else None
        for rule_id, reason in _entries(entries):
            full = rule_id if rule_id.startswith(_PREFIX) else _PREFIX + rule_id
            yield (
                logical_id,
                _ack(full, reason, stack, logical_id, gate),
            )
        nag = metadata.get(CDK_NAG_KEY)
        entries = nag.get("rules_to_suppress") if isinstance(nag, Mapping) else None
        for rule_id, reason in _entries(entries):
            if rule_id.startswith(_PREFIX):
                yield (
                    logical_id,
                    _ack(rule_id, reason, stack, logical_id, gate),
                )
        for rule_id, reason in _nag_entries(entries):
            pack = rule_id.split("-", 1)[0]
            if pack in stack.nag_packs:  # cdk-nag's own rules: only when `--nag` ran their pack
                yield (
                    logical_id,
                    _ack(f"{pack}::{rule_id}", reason, stack, logical_id, gate),
                )


def _ack(
    rule_id: str, reason: str, stack: StackSource, logical_id: str, gate: bool
) -> Acknowledgement:
    at = location(stack, logical_id)
    return Acknowledgement(rule_id, reason, at, stack.name, via_gate=gate, in_template=True)


def _nag_entries(entries: Any) -> Iterator[tuple[str, str]]:
    """cdk-nag v2's `{id, reason, appliesTo}` entries, one granular id per `appliesTo` item."""
    if not isinstance(entries, list):
        return
    for entry in entries:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("id"), str):
            continue
        rule_id, reason = entry["id"], entry.get("reason")
        if rule_id.startswith(_PREFIX):
            continue
        applies_to = entry.get("appliesTo")
        listed = applies_to if isinstance(applies_to, list) else []
        targets = [t for t in listed if isinstance(t, str)]
        for granular in [f"{rule_id}[{t}]" for t in targets] or [rule_id]:
            yield granular, reason if isinstance(reason, str) else ""


def _entries(entries: Any) -> Iterator[tuple[str, str]]:
    if not isinstance(entries, list):
        return
    for entry in entries:
        if isinstance(entry, Mapping) and isinstance(entry.get("id"), str):
            reason = entry.get("reason")
            yield entry["id"], reason if isinstance(reason, str) else ""
