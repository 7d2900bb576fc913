"""NestedStack templates are checked at synth like their parents', and the gate works inside them.

A `cdk.NestedStack` is a file asset of its parent, not an artifact CDK hands the validation
plugins: the SecureServerless plugin follows each `AWS::CloudFormation::Stack` to its template
(`aws:asset:path`, or the assets manifest with asset metadata off), recursively, and reports
findings at the nested constructs' paths; a nested template it cannot find or read is a
NestedStackTemplate ERROR. cdk-nag v3 walks the construct tree, nested stacks included.
"""

from __future__ import annotations

import json
import types
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_

from secure_constructs import SecureFunction, ValidationError
from secure_constructs.audit.report import audit
from secure_constructs.audit.sources import load, parse_template_text
from secure_constructs.checks import acknowledge, apply_checks
from secure_constructs.checks.gate import BYPASS, UNMATCHED
from secure_constructs.checks.model import Severity, Template
from secure_constructs.checks.nested import nested_stack_path
from secure_constructs.checks.plugin import SecureServerlessChecks
from secure_constructs.checks.registry import RULES
from secure_constructs.guarded_template import PLUGIN_NAME, SharedResourcePolicies
from secure_constructs.shared import security_key
from tests.synth import Synthesized, synth

REASON = "Test fixture: the bucket names are generated per tenant, so no ARN is known."
CODE = "def handler(event, context):\n    return None\n"
CLI_CONTEXT = {"aws:cdk:enable-path-metadata": True, "aws:cdk:enable-asset-metadata": True}
NO_METADATA: dict[str, Any] = {}  # App() in a unit test: no aws:cdk:path, no aws:asset:path
WILD = ("SecureServerless", "IAMWildcard[Resource::*]")


def _fn(scope: cdk.Stack, construct_id: str) -> SecureFunction:
    return SecureFunction(
        scope, construct_id, code=lambda_.Code.from_inline(CODE), handler="index.handler"
    )


def _violations(stack: cdk.NestedStack) -> None:
    """Each kind of violation, inside a nested stack."""
    fn = _fn(stack, "Fn")
    fn.add_to_role_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=["*"]))
    admin = iam.Role(stack, "Admin", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    admin.add_to_policy(iam.PolicyStatement(actions=["*"], resources=["*"]))
    lambda_.CfnPermission(
        stack,
        "Public",
        action="lambda:InvokeFunction",
        function_name=fn.function_name,
        principal="*",
    )
    lambda_.CfnUrl(stack, "Url", auth_type="NONE", target_function_arn=fn.function_arn)


def _in_nested(stack: cdk.Stack) -> None:
    _violations(cdk.NestedStack(stack, "Inner"))


@pytest.fixture(scope="module", params=[CLI_CONTEXT, NO_METADATA], ids=["cli", "no-metadata"])
def violating(request: pytest.FixtureRequest) -> Synthesized:
    return synth(_in_nested, context=request.param)


def _ours(result: Synthesized) -> set[tuple[str, str]]:
    return {
        (rule, path) for plugin, rule, path in result.violations if plugin == "SecureServerless"
    }


@pytest.mark.synth
def test_fails_when_a_nested_stack_holds_any_kind_of_violation(violating: Synthesized) -> None:
    assert violating.failed
    assert _ours(violating) >= {
        ("IAMWildcard[Resource::*]", "Test/Inner/FnServiceRole/Policy/Resource"),
        ("IAMWildcard[Action::*]", "Test/Inner/Admin/DefaultPolicy/Resource"),
        ("IAMWildcard[Resource::*]", "Test/Inner/Admin/DefaultPolicy/Resource"),
        ("LambdaPublicAccess", "Test/Inner/Public"),
        ("LambdaPublicAccess", "Test/Inner/Url"),
    }
    # nothing of the nested stack is taken for the parent's
    assert not [p for _, p in _ours(violating) if not p.startswith("Test/Inner/")]


@pytest.mark.synth
def test_cdk_nag_sees_the_resources_of_a_nested_stack(violating: Synthesized) -> None:
    nag = {(plugin, rule, path) for plugin, rule, path in violating.violations}
    admin = "Test/Inner/Admin/DefaultPolicy/Resource"
    assert ("AwsSolutions", "AwsSolutions-IAM5[Action::*]", admin) in nag
    # the library's own acknowledgements inside the nested stack land there
    assert any(
        (plugin, path) == ("AwsSolutions", "Test/Inner/SecureConstructsXRayWritePolicy/Resource")
        for plugin, _, path, _ in violating.acknowledged
    )


def _compliant(stack: cdk.Stack) -> None:
    _fn(cdk.NestedStack(stack, "Inner"), "Fn")


@pytest.mark.synth
def test_a_compliant_nested_stack_passes() -> None:
    result = synth(_compliant, context=CLI_CONTEXT)
    assert not result.failed, result.violations
    assert not [v for v in result.violations if v[0] == "SecureServerless"]


def _deep(stack: cdk.Stack) -> None:
    deeper = cdk.NestedStack(cdk.NestedStack(stack, "Inner"), "Deeper")
    role = iam.Role(deeper, "R", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    role.add_to_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=["*"]))
    # the same construct ids in the parent: the same logical ids, told apart by stack
    same = iam.Role(stack, "R", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    same.add_to_policy(
        iam.PolicyStatement(actions=["s3:GetObject"], resources=["arn:aws:s3:::bucket/key"])
    )


@pytest.mark.synth
@pytest.mark.parametrize("context", [CLI_CONTEXT, NO_METADATA], ids=["cli", "no-metadata"])
def test_fails_when_a_nested_stack_in_a_nested_stack_holds_a_violation(
    context: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    result = synth(_deep, context=context)
    assert result.failed
    assert ("IAMWildcard[Resource::*]", "Test/Inner/Deeper/R/DefaultPolicy/Resource") in _ours(
        result
    )
    assert not [p for _, p in _ours(result) if p.startswith("Test/R/")]
    # one summary line per stack; a nested stack's findings on its own line
    lines = [line for line in capsys.readouterr().err.splitlines() if "checks Test" in line]
    assert lines[0].startswith("secure-constructs checks Test: SecureServerless 0 open")
    assert any(
        line.startswith(
            "secure-constructs checks Test/Inner/Deeper (nested stack): SecureServerless 1 open"
        )
        for line in lines
    )


def _acknowledged(stack: cdk.Stack) -> None:
    _acknowledged_in(cdk.NestedStack(stack, "Inner"))


def _acknowledged_in(scope: cdk.NestedStack) -> None:
    fn = _fn(scope, "Fn")
    fn.add_to_role_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=["*"]))
    fn.acknowledge("IAMWildcard[Resource::*]", REASON)
    fn.acknowledge("AwsSolutions-IAM5[Resource::*]", REASON)


@pytest.mark.synth
def test_an_acknowledgement_in_a_nested_stack_lands_on_the_resource_with_the_finding() -> None:
    result = synth(_acknowledged, context=CLI_CONTEXT)
    assert not result.failed, result.violations
    assert (
        "SecureServerless",
        "IAMWildcard[Resource::*]",
        "Test/Inner/FnServiceRole/Policy/Resource",
        REASON,
    ) in result.acknowledged
    assert not [v for v in result.violations if v[1].endswith("[Resource::*]")]


def _stale_and_around(stack: cdk.Stack) -> None:
    inner = cdk.NestedStack(stack, "Inner")
    quiet = _fn(inner, "Quiet")
    acknowledge(quiet, "SecureServerless::LambdaTimeout", REASON)  # matches nothing
    cdk.Validations.of(quiet).acknowledge(
        cdk.Acknowledgment(id="SecureServerless::LambdaAlarms[Errors]", reason=REASON)
    )


@pytest.mark.synth
def test_fails_when_an_acknowledgement_in_a_nested_stack_is_stale_or_around_the_gate() -> None:
    result = synth(_stale_and_around, context=CLI_CONTEXT)
    assert result.failed
    gate = {(rule, path) for _, rule, path in result.violations}
    assert (UNMATCHED, "Test/Inner/Quiet") in gate
    assert (BYPASS, "Test/Inner/Quiet") in gate


def test_fails_when_acknowledging_a_nested_stack_itself() -> None:
    stack = cdk.Stack(cdk.App(), "Test")
    inner = cdk.NestedStack(stack, "Inner")
    assert cdk.Stack.is_stack(inner)
    with pytest.raises(ValidationError, match=r"'Test/Inner' \(a Stack\)"):
        acknowledge(inner, "SecureServerless::LambdaTimeout", REASON)


# -- a nested template that cannot be read: an ERROR, never a skip ---------------------------


def _context(app: cdk.App, outdir: Path, stack: str = "Test") -> Any:
    """The validation context CDK passes a plugin, for calling `validate` after a synth."""
    template = types.SimpleNamespace(
        stack_construct_path=stack, template_path=str(outdir / f"{stack}.template.json")
    )
    return types.SimpleNamespace(stack_templates=[template], app_construct=app)


def _validate_without_nested_template(context: dict[str, Any], tmp_path: Path) -> list[Any]:
    app = cdk.App(outdir=str(tmp_path), context=context)
    _compliant(cdk.Stack(app, "Test"))
    app.synth()  # passes: SecureServerless is not registered here
    (nested,) = tmp_path.glob("*.nested.template.json")
    nested.unlink()
    report = SecureServerlessChecks().validate(_context(app, tmp_path))
    assert not report.success
    return [v for v in report.violations if v.rule_name == "NestedStackTemplate"]


@pytest.mark.synth
@pytest.mark.parametrize("context", [CLI_CONTEXT, NO_METADATA], ids=["cli", "no-metadata"])
def test_fails_when_a_nested_template_is_missing(context: dict[str, Any], tmp_path: Path) -> None:
    (violation,) = _validate_without_nested_template(context, tmp_path)
    assert violation.severity == "fatal"  # an open error: no later acknowledgement silences it
    assert "the nested stack is not checked" in violation.description
    (resource,) = violation.violating_resources
    assert resource.resource_logical_id.startswith("InnerNestedStackInnerNestedStackResource")


def _external(stack: cdk.Stack) -> None:
    cdk.CfnStack(stack, "Vendor", template_url="https://example-bucket.s3.amazonaws.com/t.json")


@pytest.mark.synth
def test_fails_when_a_stack_resource_has_a_template_of_its_own() -> None:
    result = synth(_external, context=CLI_CONTEXT)
    assert result.failed
    assert ("NestedStackTemplate", "Test/Vendor") in _ours(result)


NESTED_YAML = """
Resources:
  Inner:
    Type: AWS::CloudFormation::Stack
    Metadata:
      aws:asset:path: ASSET
    Properties:
      TemplateURL: https://example-bucket.s3.amazonaws.com/inner.json
"""


@pytest.mark.parametrize(
    ("asset", "content", "problem"),
    [
        ("inner.json", None, "not in the cloud assembly"),
        ("inner.json", "{not json", "cannot be read"),
        ("inner.json", "[1, 2]", "is not a CloudFormation template"),
    ],
)
def test_fails_when_a_templates_nested_stack_cannot_be_read(
    tmp_path: Path, asset: str, content: str | None, problem: str
) -> None:
    if content is not None:
        (tmp_path / asset).write_text(content)
    body = parse_template_text(NESTED_YAML.replace("ASSET", asset), "t.yaml")
    if content is None:
        body["Resources"]["Inner"].pop("Metadata")
    findings = RULES["NestedStackTemplate"].run(Template(body, assembly_dir=tmp_path))
    (finding,) = findings
    assert (finding.logical_id, finding.severity) == ("Inner", Severity.ERROR)
    assert problem in finding.message


def test_a_templates_nested_stack_in_the_assembly_passes(tmp_path: Path) -> None:
    (tmp_path / "inner.json").write_text('{"Resources": {}}')
    body = parse_template_text(NESTED_YAML.replace("ASSET", "inner.json"), "t.yaml")
    assert RULES["NestedStackTemplate"].run(Template(body, assembly_dir=tmp_path)) == []


def test_the_nested_stacks_path_comes_from_its_stack_resources_path() -> None:
    assert nested_stack_path("A/B/X.NestedStack/X.NestedStackResource") == "A/B/X"
    assert nested_stack_path("A/Vendor") == "A/Vendor"  # not CDK's naming: kept as is


# -- the shared resources' fatal plugin reads nested templates too ----------------------------


def _key_opened_in_nested(stack: cdk.Stack) -> None:
    inner = cdk.NestedStack(stack, "Inner")
    _fn(inner, "Fn")
    key = security_key(inner).node.default_child
    assert isinstance(key, kms.CfnKey)
    key.add_property_override("KeyPolicy.Statement.0.Principal", {"AWS": "*"})


@pytest.mark.synth
def test_fails_when_an_override_opens_a_nested_stacks_key_without_checks() -> None:
    result = synth(_key_opened_in_nested, checks=False)
    assert result.failed
    assert any(
        plugin == PLUGIN_NAME and path.startswith("Test/Inner/SecureConstructsKey")
        for plugin, _, path in result.violations
    )


@pytest.mark.synth
def test_fails_when_a_nested_stacks_template_is_gone_for_the_shared_resources(
    tmp_path: Path,
) -> None:
    app = cdk.App(outdir=str(tmp_path))
    inner = cdk.NestedStack(cdk.Stack(app, "Test"), "Inner")
    _fn(inner, "Fn")
    app.synth()
    for nested in tmp_path.glob("*.nested.template.json"):
        nested.unlink()
    report = SharedResourcePolicies(security_key(inner), "key", key=True).validate(
        _context(app, tmp_path)
    )
    assert not report.success
    (violation,) = report.violations
    assert "cannot be read" in violation.description and violation.severity == "fatal"


# -- the audit of the cloud assembly reads the same ---------------------------------------------


def _both(stack: cdk.Stack) -> None:
    _violations(cdk.NestedStack(stack, "Inner"))
    _acknowledged_in(cdk.NestedStack(stack, "Other"))


@pytest.mark.synth
@pytest.mark.parametrize("context", [CLI_CONTEXT, NO_METADATA], ids=["cli", "no-metadata"])
def test_the_audit_reports_nested_findings_and_reads_nested_acknowledgements(
    context: dict[str, Any],
) -> None:
    result = synth(_both, context=context)
    report = audit(load([result.outdir]))
    ours = {
        (f.rule_name, f.construct_path)
        for f in report.open_findings()
        if f.tool == "SecureServerless"
    }
    assert ours == _ours(result)
    acked = [f for f in report.acknowledged_findings() if f.tool == "SecureServerless"]
    assert [(f.rule_name, f.construct_path) for f in acked] == [
        ("IAMWildcard[Resource::*]", "Test/Other/FnServiceRole/Policy/Resource")
    ]
    nested_acks = [s for s in report.acknowledgements if s.ack.at.startswith("Test/Other/")]
    assert nested_acks and all(s.ok and s.matched for s in nested_acks), [
        (s.ack.rule_id, s.problems) for s in nested_acks
    ]


@pytest.mark.synth
def test_fails_when_a_nested_stack_of_a_stage_holds_a_violation(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path))
    svc = cdk.Stack(cdk.Stage(app, "Prod"), "Svc")
    _deep(svc)
    apply_checks(app)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    found = {
        (v["ruleName"], c["constructPath"])
        for p in report["pluginReports"]
        if p["pluginName"] == "SecureServerless"
        for v in p["violations"]
        for c in v["violatingConstructs"]
    }
    assert ("IAMWildcard[Resource::*]", "Prod/Svc/Inner/Deeper/R/DefaultPolicy/Resource") in found
