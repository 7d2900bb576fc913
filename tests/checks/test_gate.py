"""The acknowledgement gate at synth: exact placement, and every way around it refused.

One synth holds the compliant case (an acknowledgement on a SecureFunction lands on exactly
its role policy, the resource with the finding) and the attacks: an acknowledgement matching
nothing, CDK's own `Validations.of(x).acknowledge` on the App, a Stage and a resource, and our
metadata marker forged; each is a fatal finding (which no acknowledgement can silence) naming
where it is and how to fix it.
"""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_

from secure_constructs import SecureFunction
from secure_constructs.checks import acknowledge, apply_checks
from secure_constructs.checks.gate import BYPASS, FORGED, INTENT_METADATA, UNMATCHED, paste_call
from tests.synth import Synthesized, synth

REASON = "Test fixture: the bucket names are generated per tenant, so no ARN is known."
CODE = "def handler(event, context):\n    return None\n"


def _fn(scope: cdk.Stack, construct_id: str) -> SecureFunction:
    return SecureFunction(
        scope, construct_id, code=lambda_.Code.from_inline(CODE), handler="index.handler"
    )


def _build(stack: cdk.Stack) -> None:
    app = stack.node.root
    wild = _fn(stack, "Wild")
    wild.add_to_role_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=["*"]))
    wild.acknowledge("IAMWildcard[Resource::*]", REASON)  # compliant: reaches the role policy
    quiet = _fn(stack, "Quiet")
    acknowledge(quiet, "SecureServerless::LambdaTimeout", REASON)  # matches nothing
    ack = cdk.Acknowledgment(id="AwsSolutions::AwsSolutions-IAM5[Resource::*]", reason=REASON)
    cdk.Validations.of(app).acknowledge(ack)  # around the gate, on the App
    cdk.Validations.of(cdk.Stage(app, "Prod")).acknowledge(ack)  # ... on a Stage
    cdk.Validations.of(quiet).acknowledge(ack)  # ... on a resource
    quiet.node.add_metadata(
        INTENT_METADATA, {"id": "SecureServerless::LambdaTimeout", "reason": "x"}
    )


@pytest.fixture(scope="module")
def synthesized() -> Synthesized:
    return synth(_build)


def _report(synthesized: Synthesized) -> list[dict[str, Any]]:
    report = json.loads((synthesized.outdir / "validation-report.json").read_text())
    return [v for p in report["pluginReports"] for v in p["violations"]]


def _gate(synthesized: Synthesized, rule: str) -> list[tuple[str, str, str]]:
    return sorted(
        (c["constructPath"], v["severity"], v["description"])
        for v in _report(synthesized)
        if v["ruleName"] == rule
        for c in v["violatingConstructs"]
    )


@pytest.mark.synth
def test_an_acknowledgement_on_a_function_lands_on_exactly_the_resource_with_the_finding(
    synthesized: Synthesized,
) -> None:
    report = json.loads((synthesized.outdir / "validation-report.json").read_text())
    placed = [
        (v["ruleName"], v["acknowledgedAt"], v["reason"])
        for p in report["pluginReports"]
        for v in p.get("suppressedViolations") or []
        if p["pluginName"] == "SecureServerless"
    ]
    assert placed == [("IAMWildcard[Resource::*]", "Test/WildServiceRole/Policy/Resource", REASON)]
    # nothing is left open for it, and no copy sits on the function or its log group
    assert not [v for v in synthesized.violations if v[1] == "IAMWildcard[Resource::*]"]


@pytest.mark.synth
def test_fails_when_an_acknowledgement_matches_no_finding(synthesized: Synthesized) -> None:
    assert synthesized.failed
    ((path, severity, message),) = _gate(synthesized, UNMATCHED)
    assert (path, severity) == ("Test/Quiet", "fatal")
    assert "SecureServerless::LambdaTimeout at Test/Quiet matches no finding" in message


@pytest.mark.synth
def test_fails_when_cdk_acknowledges_around_the_gate_on_the_app_a_stage_or_a_resource(
    synthesized: Synthesized,
) -> None:
    found = _gate(synthesized, BYPASS)
    assert [(p, s) for p, s, _ in found] == [
        ("", "fatal"),
        ("Prod", "fatal"),
        ("Test/Quiet", "fatal"),
    ]
    assert "(the App)" in found[0][2] and "Validations.of(x).acknowledge" in found[0][2]


@pytest.mark.synth
def test_fails_when_our_marker_is_forged(synthesized: Synthesized) -> None:
    ((path, severity, message),) = _gate(synthesized, FORGED)
    assert (path, severity) == ("Test/Quiet", "fatal")
    assert "not made by acknowledge()" in message


@pytest.mark.synth
def test_the_call_to_paste_names_the_construct_from_its_stack() -> None:
    assert paste_call("Stage/Svc", "Stage/Svc/Fn/ServiceRole/DefaultPolicy/Resource", "X::Y") == (
        "acknowledge(stack.node.find_child('Fn').node.find_child('ServiceRole')"
        '.node.find_child(\'DefaultPolicy\'), "X::Y", reason="<why the risk is acceptable>")'
    )


def _open(stack: cdk.Stack) -> None:
    fn = _fn(stack, "Open")
    fn.add_to_role_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=["*"]))


@pytest.mark.synth
def test_the_synth_failure_names_the_exact_call_for_an_open_finding() -> None:
    result = synth(_open)
    assert result.failed
    report = json.loads((result.outdir / "validation-report.json").read_text())
    (fix,) = [
        v["suggestedFix"]
        for p in report["pluginReports"]
        for v in p["violations"]
        if v["ruleName"] == "IAMWildcard[Resource::*]"
    ]
    assert (
        "acknowledge(stack.node.find_child('OpenServiceRole').node.find_child('Policy'), "
        '"SecureServerless::IAMWildcard[Resource::*]", reason=' in fix
    )
    # cdk-nag's finding on the same policy prints the same call with its own id
    (nag,) = [
        v.get("suggestedFix", "")
        for p in report["pluginReports"]
        for v in p["violations"]
        if v["ruleName"] == "AwsSolutions-IAM5[Resource::*]"
    ]
    assert (
        "acknowledge(stack.node.find_child('OpenServiceRole').node.find_child('Policy'), "
        '"AwsSolutions::AwsSolutions-IAM5[Resource::*]", reason=' in nag
    )


@pytest.mark.synth
def test_fails_when_cdk_acknowledges_after_apply_checks(tmp_path: Any) -> None:
    app = cdk.App(outdir=str(tmp_path))
    apply_checks(app)
    stack = cdk.Stack(app, "Late")
    fn = _fn(stack, "Fn")
    cdk.Validations.of(fn).acknowledge(
        cdk.Acknowledgment(id="SecureServerless::LambdaAlarms[Errors]", reason=REASON)
    )
    with pytest.raises(
        RuntimeError, match=r"FATAL .*at Late/Fn was acknowledged with CDK's Validations"
    ):
        app.synth()


@pytest.mark.synth
def test_a_second_synth_of_the_same_app_does_not_take_the_gates_placements_for_bypasses(
    tmp_path: Any,
) -> None:
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Twice")
    _fn(stack, "Fn")  # the library's own acknowledgements (X-Ray's Resource "*") are placed
    apply_checks(app)
    app.synth()
    app.synth(force=True)  # e.g. Template.from_stack after a synth: no AcknowledgementOutsideGate


def test_an_acknowledgement_made_during_validation_by_a_later_plugin_cannot_silence_an_error(
    tmp_path: Any,
) -> None:
    # an open error is reported `fatal`, which CDK never suppresses
    import jsii
    from aws_cdk import aws_sns as sns

    rule_id = "SecureServerless::ResourcePolicyPublic[Principal::*]"
    app = cdk.App(outdir=str(tmp_path))
    apply_checks(app)
    stack = cdk.Stack(app, "Test")
    topic = sns.Topic(stack, "Topic", enforce_ssl=True)
    topic.add_to_resource_policy(
        iam.PolicyStatement(
            actions=["sns:Publish"], principals=[iam.AnyPrincipal()], resources=["*"]
        )
    )

    @jsii.implements(cdk.IPolicyValidationPlugin)
    class Quiet:
        @property
        def name(self) -> str:
            return "Quiet"

        @property
        def version(self) -> str:
            return "1"

        @property
        def rule_ids(self) -> list[str]:
            return []

        def validate(self, context: Any) -> cdk.PolicyValidationPluginReport:
            cdk.Validations.of(topic).acknowledge(cdk.Acknowledgment(id=rule_id, reason=REASON))
            return cdk.PolicyValidationPluginReport(success=True, violations=[])

    cdk.Validations.of(app).add_plugins(Quiet())
    with pytest.raises(Exception, match=r"ResourcePolicyPublic\[Principal::\*\]"):
        app.synth()
