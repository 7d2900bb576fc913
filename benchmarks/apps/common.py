"""What every benchmark app shares: the knobs (environment variables) and the checks."""

from __future__ import annotations

import os
import time
from typing import Any

N = int(os.environ.get("BENCH_N", "1"))
CHECKS = os.environ.get("BENCH_CHECKS", "none")
"""none | default (apply_checks: AwsSolutions + Serverless + SecureServerless) | one pack alone:
AwsSolutions | Serverless | SecureServerless | NIST | HIPAA | PCI."""
API = os.environ.get("BENCH_API", "1") == "1"
TRIGGER = os.environ.get("BENCH_TRIGGER", "")
"""'' (none) | queue: each function processes its own SQS queue (issue 16: a function behind a
queue trigger, against the same resources written by hand)."""
OUTDIR = os.environ.get("BENCH_OUTDIR", "cdk.out")
WORKFLOW = os.environ.get("BENCH_WORKFLOW") == "1"
"""Also chain the N functions as Lambda tasks of one state machine (benchmarks/apps/workflow_*)."""
CONTEXT = {"@aws-cdk/core:stackResourceLimit": 0}
"""Lift CDK's 500-resource check so a stack above the limit still synthesizes (and is measured);
the results report which N fit under CloudFormation's limit."""
PLUGIN_TIMER = os.environ.get("BENCH_PLUGIN_TIMER") == "1"
FORWARD = os.environ.get("BENCH_FORWARD") == "1"
"""(c) only: forward_logs(stack, destination=LogDestination.kinesis()) (one subscription filter
per log group, a role, its policy and the stream). (b) has no equivalent: the parity check
warns when it is on."""

_plugin_seconds: list[float] = []


def _time_our_pack() -> None:
    """Accumulate the time spent inside SecureServerlessChecks.validate (the jsii callback)."""
    from secure_constructs.checks.plugin import SecureServerlessChecks

    original = SecureServerlessChecks.validate

    def validate(self: Any, context: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(self, context)
        finally:
            _plugin_seconds.append(time.perf_counter() - start)

    SecureServerlessChecks.validate = validate  # type: ignore[method-assign]


def register_checks(app: Any) -> None:
    """Register the packs named by BENCH_CHECKS as validation plugins on `app`."""
    if CHECKS == "none":
        return
    import aws_cdk as cdk

    if CHECKS in ("default", "SecureServerless") and PLUGIN_TIMER:
        _time_our_pack()
    if CHECKS == "default":
        from secure_constructs.checks import apply_checks

        apply_checks(app)
        return
    if CHECKS == "SecureServerless":
        from secure_constructs.checks.plugin import SecureServerlessChecks

        cdk.Validations.of(app).add_plugins(SecureServerlessChecks())
        return
    import cdk_nag

    packs = {
        "AwsSolutions": cdk_nag.AwsSolutionsChecks,
        "Serverless": cdk_nag.ServerlessChecks,
        "NIST": cdk_nag.NIST80053R5Checks,
        "HIPAA": cdk_nag.HIPAASecurityChecks,
        "PCI": cdk_nag.PCIDSS321Checks,
    }
    cdk.Validations.of(app).add_plugins(packs[CHECKS](app))


def synth(app: Any) -> dict[str, Any]:
    """`app.synth()`, noting (not raising) a validation failure, so failing apps still time."""
    failed = False
    try:
        app.synth()
    except RuntimeError as error:
        if "ValidationFailed" not in str(error):
            raise
        failed = True
    result: dict[str, Any] = {"validation_failed": failed}
    if _plugin_seconds:
        result["plugin_s"] = sum(_plugin_seconds)
    return result
