"""Test helpers: synthesize one small stack with checks on and read what came out.

Never synthesize the whole app in a test: build the few resources under test in a fresh stack.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aws_cdk as cdk

from secure_constructs.checks import Compliance, apply_checks

ALL_COMPLIANCE = tuple(Compliance)


@dataclass
class Synthesized:
    """The template of the stack under test and the validation report of every pack."""

    template: dict[str, Any]
    outdir: Path
    failed: bool
    violations: list[tuple[str, str, str]] = field(default_factory=list)
    acknowledged: list[tuple[str, str, str, str]] = field(default_factory=list)

    def resources(self, type_: str) -> dict[str, dict[str, Any]]:
        """Logical id -> resource, for every resource of `type_`."""
        return {k: v for k, v in self.template["Resources"].items() if v["Type"] == type_}

    def only(self, type_: str) -> tuple[str, dict[str, Any]]:
        """The one resource of `type_` (fails when there are none or several)."""
        found = self.resources(type_)
        assert len(found) == 1, f"expected one {type_}, found {sorted(found)}"
        return next(iter(found.items()))

    def props(self, type_: str) -> dict[str, Any]:
        return self.only(type_)[1].get("Properties", {})

    def violation_ids(self) -> list[str]:
        return sorted(rule for _, rule, _ in self.violations)


def synth(
    build: Callable[[cdk.Stack], object],
    *,
    checks: bool = True,
    compliance: Iterable[Compliance] = (),
    stack_name: str = "Test",
    env: cdk.Environment | None = None,
    context: Mapping[str, Any] | None = None,
) -> Synthesized:
    """Build a stack with `build(stack)`, synthesize it with the packs on, and read the results.

    `context` replaces the app's context (default: path metadata on, as the CLI's).
    """
    outdir = Path(tempfile.mkdtemp(prefix="sc-synth-"))
    if context is None:
        context = {"aws:cdk:enable-path-metadata": True}
    app = cdk.App(outdir=str(outdir), context=dict(context))
    stack = cdk.Stack(app, stack_name, env=env)
    build(stack)
    if checks:
        apply_checks(app, compliance=compliance)
    failed = False
    try:
        app.synth()
    except RuntimeError as error:
        if "ValidationFailed" not in str(error):
            raise
        failed = True
    template = json.loads((outdir / f"{stack_name}.template.json").read_text())
    result = Synthesized(template=template, outdir=outdir, failed=failed)
    report_path = outdir / "validation-report.json"
    if report_path.exists():
        for plugin in json.loads(report_path.read_text()).get("pluginReports", []):
            for v in plugin.get("violations", []):
                for c in v["violatingConstructs"]:
                    if v.get("severity") in ("error", "fatal", "warning"):
                        result.violations.append(
                            (plugin["pluginName"], v["ruleName"], c["constructPath"])
                        )
            for v in plugin.get("suppressedViolations") or []:
                for c in v["violatingConstructs"]:
                    result.acknowledged.append(
                        (
                            plugin["pluginName"],
                            v["ruleName"],
                            c["constructPath"],
                            v.get("reason", ""),
                        )
                    )
    return result


def ref(logical_id: str) -> dict[str, str]:
    """CloudFormation's `Ref` to a logical id, as it appears in a synthesized template."""
    return {"Ref": logical_id}


def arn(logical_id: str) -> dict[str, list[str]]:
    """`Fn::GetAtt [logical id, Arn]`, as it appears in a synthesized template."""
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def statements(template: Mapping[str, Any], logical_id: str) -> list[dict[str, Any]]:
    """The statements of the policy document of a policy resource, actions/resources as lists."""
    doc = template["Resources"][logical_id]["Properties"]["PolicyDocument"]
    out = []
    for s in doc["Statement"]:
        s = dict(s)
        for k in ("Action", "Resource"):
            if k in s and not isinstance(s[k], list):
                s[k] = [s[k]]
        out.append(s)
    return out


def walk(value: Any) -> Iterator[Any]:
    """Every nested value of a JSON structure (to look for a leaked string anywhere)."""
    yield value
    if isinstance(value, Mapping):
        for v in value.values():
            yield from walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from walk(v)


# W3005 (redundant DependsOn) is CDK's own pattern: every function depends on its role and
# role policies so that permissions exist before the first invocation. Everything else counts.
CFN_LINT_IGNORED = frozenset({"W3005"})


def cfn_lint(template: Mapping[str, Any]) -> list[str]:
    """cfn-lint's findings on a synthesized template, as readable strings (empty when clean)."""
    from cfnlint.api import ManualArgs, lint

    matches = lint(json.dumps(template), config=ManualArgs(regions=["us-east-1"]))
    return [f"{m.rule.id} {m.message}" for m in matches if m.rule.id not in CFN_LINT_IGNORED]


# Pinned here rather than imported from secure_constructs.checks.iam_facts: an action slipped
# into the library's lists must still fail the tests. AWS supports each only on `Resource: "*"`.
XRAY_WRITE_ACTIONS = frozenset({"xray:PutTraceSegments", "xray:PutTelemetryRecords"})
VPC_NETWORK_INTERFACE_ACTIONS = frozenset(
    {
        "ec2:CreateNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
    }
)
