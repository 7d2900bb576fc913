"""The CDK side of the checks: registering the packs and acknowledging findings."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable

import aws_cdk as cdk
from constructs import Construct, IConstruct

from secure_constructs.checks import gate, guard
from secure_constructs.checks.model import PACK_NAME
from secure_constructs.checks.nag_rules import NAG_RULE_IDS
from secure_constructs.errors import ValidationError
from secure_constructs.facts.lambda_facts import MAX_TIMEOUT_SECONDS
from secure_constructs.prop_types import check_args
from secure_constructs.validation import check_reason, is_token_string, whole_seconds

__all__ = ["Compliance", "acknowledge", "apply_checks", "qualify_rule_id"]


class Compliance(enum.Enum):
    """Optional compliance packs of cdk-nag, added on top of the default three."""

    NIST_800_53_R5 = "NIST.800.53.R5"
    HIPAA = "HIPAA.Security"
    PCI_DSS_321 = "PCI.DSS.321"


# cdk_nag is imported by apply_checks only: loading its jsii assembly costs about half a second,
# which importing a construct (for `acknowledge`) must not pay.
_COMPLIANCE_PACKS: dict[Compliance, str] = {
    Compliance.NIST_800_53_R5: "NIST80053R5Checks",
    Compliance.HIPAA: "HIPAASecurityChecks",
    Compliance.PCI_DSS_321: "PCIDSS321Checks",
}


def _check_max_timeout(max_timeout: cdk.Duration | None) -> None:
    if max_timeout is None:
        return
    if not isinstance(max_timeout, cdk.Duration):
        raise ValidationError(
            "max_timeout",
            max_timeout,
            f"a Duration from 1 to {MAX_TIMEOUT_SECONDS} seconds",
            "pass e.g. max_timeout=Duration.seconds(60)",
        )
    seconds = whole_seconds("max_timeout", max_timeout)
    if seconds is not None and not 1 <= seconds <= MAX_TIMEOUT_SECONDS:
        raise ValidationError(
            "max_timeout",
            f"{seconds:g} seconds",
            f"1 to {MAX_TIMEOUT_SECONDS} seconds (Lambda's range)",
            "pass e.g. max_timeout=Duration.seconds(60)",
        )


def apply_checks(
    scope: IConstruct,
    *,
    compliance: Iterable[Compliance] = (),
    max_timeout: cdk.Duration | None = None,
    verbose: bool = False,
) -> None:
    """Run cdk-nag's AwsSolutions and Serverless packs and our SecureServerless pack at synth.

    :param scope: the App or Stage whose stacks are checked.
    :param compliance: extra cdk-nag compliance packs. Default: none.
    :param max_timeout: the SecureServerless Lambda timeout cap. Default: 60 seconds.
    :param verbose: include cdk-nag's explanations in findings. Default: False.
    """
    check_args(apply_checks, locals())
    if not isinstance(scope, cdk.Stage):  # an App is a Stage
        raise ValidationError(
            "scope",
            scope,
            "the App (or a Stage) whose stacks are checked",
            "call apply_checks(app) right after app = App()",
        )
    _check_max_timeout(max_timeout)
    if isinstance(compliance, str | Compliance) or not isinstance(compliance, Iterable):
        raise ValidationError(
            "compliance",
            compliance,
            "a list of Compliance members",
            "pass e.g. compliance=[Compliance.NIST_800_53_R5]",
        )
    chosen = list(compliance)
    for item in chosen:
        if not isinstance(item, Compliance):
            raise ValidationError(
                "compliance",
                item,
                f"members of Compliance ({', '.join(c.name for c in Compliance)})",
                "pass e.g. compliance=[Compliance.NIST_800_53_R5]",
            )
    import cdk_nag

    nag: list[cdk.IPolicyValidationPlugin] = [
        cdk_nag.AwsSolutionsChecks(scope, verbose=verbose),
        cdk_nag.ServerlessChecks(scope, verbose=verbose),
    ]
    nag.extend(
        getattr(cdk_nag, _COMPLIANCE_PACKS[c])(scope, verbose=verbose)
        for c in dict.fromkeys(chosen)
    )
    # Ours runs last and reads the others' reports: the acknowledgement gate needs every finding.
    from secure_constructs.checks.plugin import RecordedPack, SecureServerlessChecks

    recorded = [RecordedPack(p) for p in nag]
    cdk.Validations.of(scope).add_plugins(
        *recorded, SecureServerlessChecks(max_timeout=max_timeout, recorded=recorded)
    )
    guard.mark_checked(scope)
    guard.ensure_enforced(scope)


_GRANULAR = re.compile(r"^(?P<rule>[^\[\]]+?)(?:\[(?P<finding>.+)\])?$")


def acknowledge(construct: IConstruct, rule_id: str, reason: str) -> None:
    """Accept one finding on the resources under `construct` that carry it, with a reason.

    `rule_id` is a rule of one of the packs, optionally granular:
    `SecureServerless::IAMWildcard[Resource::*]`, `AwsSolutions-IAM5[Resource::*]` or
    `AwsSolutions::AwsSolutions-IAM5[Resource::*]` (cdk-nag's own ids get their pack prefix
    added). Acknowledge only what is truly unavoidable; fix the resource otherwise.

    At synth (with `apply_checks`), CDK's acknowledgement is placed on exactly the resources
    under `construct`, or under the resources it made beside itself (a SecureFunction's role,
    log group and queue), that carry the finding; one that matches no finding fails the synth.
    """
    check_args(acknowledge, locals())
    _check_placement(construct)
    qualified = qualify_rule_id(rule_id)
    check_reason("reason", reason)
    # A construct that made resources beside itself (SecureFunction's role, log group and
    # queue are its siblings) names them, so acknowledge(fn, ...) reaches its role's policy.
    companions = getattr(construct, "acknowledgement_targets", None)
    targets = [construct, *companions()] if callable(companions) else [construct]
    gate.record(construct, targets[1:], qualified, reason)


def acknowledge_made(construct: IConstruct, rule_id: str, reason: str) -> None:
    """`acknowledge`, for the library's own calls on a construct of a stack that it made or was
    given as a resource (never a scope): the rule id and the reason are checked as for any
    acknowledgement, the walk of the construct's scopes and children is not (three round trips
    to the jsii kernel per call). The gate walks every acknowledged construct again when it
    places the acknowledgements at synth (`gate._Scopes`), so a Stack or Stage added
    below one later is refused there, as it would be after `acknowledge`."""
    if not isinstance(construct, Construct) or isinstance(
        construct, (cdk.App, cdk.Stage, cdk.Stack)
    ):
        raise AssertionError(f"acknowledge_made is for resources, not {construct!r}")
    qualified = qualify_rule_id(rule_id)
    check_reason("reason", reason)
    companions = getattr(construct, "acknowledgement_targets", None)
    targets = [construct, *companions()] if callable(companions) else [construct]
    gate.record(construct, targets[1:], qualified, reason)


def _check_placement(construct: object) -> None:
    """An acknowledgement goes on the resource that has the finding, never on a whole scope."""
    if not isinstance(construct, Construct):
        raise ValidationError(
            "construct",
            construct,
            "the construct that has the finding (e.g. a SecureFunction or its role)",
            "pass the construct named in the synth report's finding",
        )
    scope = gate.spanned_scope(construct)
    if scope is not None:
        raise ValidationError(
            "construct",
            f"{construct.node.path or '(root)'!r} ({scope})",
            "the resource that has the finding: an acknowledgement on an App, Stage or Stack, "
            "or on a construct outside every Stack or holding one, silences the finding on "
            "every resource of whole stacks",
            "acknowledge on the construct named in the synth report's finding, e.g. "
            "acknowledge(fn, ...) or acknowledge(stack.node.find_child('Id'), ...)",
        )


# Rules whose findings always carry a finding id: CDK matches acknowledgements exactly, so a
# bare id of these would silently acknowledge nothing. Ours say so on their metadata
# (`@rule(..., granular=True)`, registry.GRANULAR_RULE_IDS); cdk-nag's two are listed here.
NAG_GRANULAR_ONLY: frozenset[str] = frozenset({"AwsSolutions-IAM4", "AwsSolutions-IAM5"})


def granular_only() -> frozenset[str]:
    """Every rule id (ours and cdk-nag's) that must be acknowledged with a finding id."""
    from secure_constructs.checks.registry import GRANULAR_RULE_IDS

    return NAG_GRANULAR_ONLY | GRANULAR_RULE_IDS


def qualify_rule_id(rule_id: str) -> str:
    """`Pack::Rule[finding]` for a known rule id, or a ValidationError.

    A cdk-nag id is told from its pack's table without loading our rules (the library's own
    acknowledgements are of cdk-nag's ids, made for every construct); the two sets of ids are
    disjoint (tests/checks/test_pack_table.py)."""
    if not isinstance(rule_id, str) or is_token_string(rule_id):
        raise _unknown(rule_id)
    if "::" in rule_id.split("[", 1)[0]:
        namespace, rest = rule_id.split("::", 1)
    else:
        namespace, rest = "", rule_id
    match = _GRANULAR.match(rest)
    if match is None:
        raise _unknown(rule_id)
    rule, bare = match.group("rule"), not match.group("finding")
    pack = next(
        (p for p, ids in NAG_RULE_IDS.items() if rule in ids and namespace in ("", p)), None
    )
    if pack is not None:
        _refuse_bare(rule_id, rule, bare and rule in NAG_GRANULAR_ONLY)
        return f"{pack}::{rest}"
    from secure_constructs.checks.registry import NEVER_ACCEPTABLE, RULES

    _refuse_bare(rule_id, rule, bare and rule in granular_only())
    if namespace in ("", PACK_NAME) and rule in RULES:
        if rest in NEVER_ACCEPTABLE:
            raise ValidationError(
                "rule_id",
                rule_id,
                f"a finding that may be acknowledged: {rest} is never acceptable (see "
                f"`secure-constructs rules {rule}`)",
                "fix the resource; no reason makes this finding acceptable",
            )
        return f"{PACK_NAME}::{rest}"
    raise _unknown(rule_id)


def _refuse_bare(rule_id: str, rule: str, refused: bool) -> None:
    if refused:
        raise ValidationError(
            "rule_id",
            rule_id,
            f"a granular id: {rule} reports each finding separately, e.g. "
            f"'{rule}[Resource::*]', and a bare id acknowledges none of them",
            "copy the exact id, brackets included, from the synth report's 'Acknowledge with' line",
        )


def _unknown(rule_id: object) -> ValidationError:
    return ValidationError(
        "rule_id",
        rule_id,
        f"a rule of {PACK_NAME} (e.g. 'SecureServerless::IAMWildcard[Resource::*]') or of a "
        "cdk-nag pack (e.g. 'AwsSolutions-IAM5[Resource::*]')",
        "copy the id from the synth report's 'Acknowledge with' line",
    )
