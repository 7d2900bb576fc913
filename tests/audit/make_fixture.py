"""Regenerate tests/audit/fixtures/assembly: a small cloud assembly with acknowledged findings.

Run once, and again only when the constructs or packs change on purpose (tests never synthesize):

    python tests/audit/make_fixture.py

The stack holds a SecureFunction whose 120 s timeout is over the 60 s cap and is acknowledged
(a SecureServerless finding), SecureFunction's own granular cdk-nag acknowledgements, one
acknowledgement made with CDK's own API that matches nothing and has a boilerplate reason,
and a plain Secrets Manager secret left open (an error and a warning), so the synth fails like
a real CI run would.
Only the files the audit reads are kept: manifest.json (stack artifacts only), the template, the
stack metadata (acknowledgements, logical ids) and validation-report.json.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from secure_constructs import SecureFunction, acknowledge, apply_checks  # noqa: E402

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "assembly"
STACK = "AuditFixture"


def build(stack: cdk.Stack) -> None:
    export = SecureFunction(
        stack,
        "NightlyExport",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return event\n"),
        handler="index.handler",
        timeout=cdk.Duration.seconds(120),
    )
    acknowledge(
        export,
        "SecureServerless::LambdaTimeout",
        "The nightly export of the orders table takes up to 100 s; it runs from a schedule, "
        "never in a request path, and its duration alarm pages at 96 s.",
    )
    # Made around the gate with CDK's own API, stale (the role has no AWS managed policy) and
    # boilerplate: the audit must flag all three (acknowledge() would refuse the reason).
    cdk.Validations.of(export).acknowledge(
        cdk.Acknowledgment(id="AwsSolutions::AwsSolutions-IAM4", reason="CDK managed resource")
    )
    secretsmanager.Secret(stack, "LegacySecret")


def main() -> int:
    outdir = Path(tempfile.mkdtemp(prefix="sc-audit-fixture-"))
    app = cdk.App(outdir=str(outdir))
    build(cdk.Stack(app, STACK))
    apply_checks(app)
    try:
        app.synth()
    except RuntimeError as error:  # the open findings fail the synth; the assembly is written
        if "ValidationFailed" not in str(error):
            raise
    manifest = json.loads((outdir / "manifest.json").read_text())
    stacks = {
        k: v for k, v in manifest["artifacts"].items() if v["type"] == "aws:cloudformation:stack"
    }
    for artifact in stacks.values():
        artifact.pop("dependencies", None)
        artifact["properties"].pop("additionalDependencies", None)
    manifest["artifacts"] = stacks
    shutil.rmtree(FIXTURE, ignore_errors=True)
    FIXTURE.mkdir(parents=True)
    (FIXTURE / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    keep = [a["properties"]["templateFile"] for a in stacks.values()]
    keep += [a["additionalMetadataFile"] for a in stacks.values() if "additionalMetadataFile" in a]
    keep.append("validation-report.json")
    for name in keep:
        shutil.copy(outdir / name, FIXTURE / name)
    shutil.rmtree(outdir, ignore_errors=True)
    print(f"wrote {', '.join(sorted([*keep, 'manifest.json']))} to {FIXTURE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
