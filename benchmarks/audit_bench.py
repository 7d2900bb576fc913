"""Benchmark `secure-constructs audit` (and permissions, cost) on a 500-resource template.

Not a test: run it by hand, `python benchmarks/audit_bench.py [--resources 500] [--repeat 5]`.
It builds a synthetic serverless template of that size (functions with their roles, policies,
log groups, queues, alarms, secrets, keys, web ACLs), times each stage in-process (our own time:
parsing, rules, permission resolution, cost, rendering; best of --repeat runs), then the whole
command end to end in a fresh interpreter (which adds Python start-up and imports), prints a
table and writes benchmarks/audit_results.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from secure_constructs.audit.cli import resolvers  # noqa: E402
from secure_constructs.audit.cost import cost  # noqa: E402
from secure_constructs.audit.html import to_html  # noqa: E402
from secure_constructs.audit.permissions import permissions  # noqa: E402
from secure_constructs.audit.render import audit_text  # noqa: E402
from secure_constructs.audit.report import audit  # noqa: E402
from secure_constructs.audit.sarif import to_sarif  # noqa: E402
from secure_constructs.audit.sources import load  # noqa: E402
from secure_constructs.checks import secret_detectors, secret_patterns, secret_scan  # noqa: E402

TARGET_SECONDS = 1.0
YAML_FLAGS = ("--fail-on", "never", "--format", "json")
RESULTS = ROOT / "benchmarks" / "audit_results.md"


# WAF's required metrics settings: CfnInclude (`--nag`) refuses a web ACL without them.
_VISIBILITY = {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": "m"}


def synthetic_template(resources: int) -> dict[str, Any]:
    """A plausible serverless template with exactly `resources` resources."""
    out: dict[str, Any] = {}
    i = 0
    group, shared_count = 7, 4  # resources per function, shared resources
    while len(out) + group <= resources - shared_count:
        fn, role, policy, logs, queue = (
            f"Fn{i}",
            f"Fn{i}Role",
            f"Fn{i}Policy",
            f"Fn{i}Logs",
            f"Fn{i}Dlq",
        )
        out[role] = {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ]
                }
            },
        }
        out[policy] = {
            "Type": "AWS::IAM::ManagedPolicy",
            "Properties": {
                "Roles": [{"Ref": role}],
                "PolicyDocument": {
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                            "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": [logs, "Arn"]}, ":*"]]},
                        },
                        {
                            "Effect": "Allow",
                            "Action": "sqs:SendMessage",
                            "Resource": {"Fn::GetAtt": [queue, "Arn"]},
                        },
                        {
                            "Effect": "Allow",
                            "Action": "secretsmanager:GetSecretValue",
                            "Resource": {"Ref": "Secret"},
                        },
                        {"Effect": "Allow", "Action": "xray:PutTraceSegments", "Resource": "*"},
                    ]
                },
            },
        }
        out[logs] = {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 365}}
        out[queue] = {"Type": "AWS::SQS::Queue", "Properties": {"KmsMasterKeyId": {"Ref": "Key"}}}
        out[fn] = {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Runtime": "python3.14",
                "Handler": "index.handler",
                "Role": {"Fn::GetAtt": [role, "Arn"]},
                "Timeout": 10 if i % 7 else 300,
                "TracingConfig": {"Mode": "Active"},
                "Code": {"ZipFile": "def handler(e, c):\n    return e\n"},
                "Environment": {"Variables": {"SECRET_ARN": {"Ref": "Secret"}, "STAGE": "prod"}},
                "DeadLetterConfig": {"TargetArn": {"Fn::GetAtt": [queue, "Arn"]}},
            },
        }
        for metric in ("Errors", "Throttles"):
            out[f"{fn}{metric}Alarm"] = {
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": {
                    "Namespace": "AWS/Lambda",
                    "MetricName": metric,
                    "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": fn}}],
                    "Statistic": "Sum",
                    "Period": 60,
                    "EvaluationPeriods": 1,
                    "Threshold": 0,
                    "ComparisonOperator": "GreaterThanThreshold",
                    "AlarmActions": [{"Ref": "Topic"}],
                },
            }
        i += 1
    shared = {
        "Key": {"Type": "AWS::KMS::Key", "Properties": {"EnableKeyRotation": True}},
        "Secret": {
            "Type": "AWS::SecretsManager::Secret",
            "Properties": {"KmsKeyId": {"Ref": "Key"}},
        },
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"KmsMasterKeyId": {"Ref": "Key"}}},
        "Acl": {
            "Type": "AWS::WAFv2::WebACL",
            "Properties": {
                "Scope": "REGIONAL",
                "DefaultAction": {"Allow": {}},
                "VisibilityConfig": _VISIBILITY,
                "Rules": [
                    {
                        "Name": "common",
                        "Priority": 0,
                        "Statement": {
                            "ManagedRuleGroupStatement": {
                                "VendorName": "AWS",
                                "Name": "AWSManagedRulesCommonRuleSet",
                            }
                        },
                        "OverrideAction": {"None": {}},
                        "VisibilityConfig": _VISIBILITY,
                    }
                ],
            },
        },
    }
    out.update(shared)
    for pad in range(resources - len(out)):
        out[f"Pad{pad}"] = {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 30}}
    assert len(out) == resources, len(out)
    return {"AWSTemplateFormatVersion": "2010-09-09", "Resources": out}


def best(repeat: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    times, value = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return min(times), value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-write", action="store_true", help="do not write audit_results.md")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="sc-audit-bench-"))
    path = workdir / "big.template.json"
    path.write_text(json.dumps(synthetic_template(args.resources), indent=1))
    audit(load([path]))  # warm up: rule registration and first imports are start-up, not per-run

    rows: list[tuple[str, float]] = []
    t, inputs = best(args.repeat, lambda: load([path]))
    rows.append(("load + parse the template (JSON)", t))

    def cold_scan_caches() -> None:
        """The scan is cached per template and per value: time it cold, as the CLI runs it."""
        secret_scan._cache = None
        secret_patterns._reason.cache_clear()
        secret_detectors.format_reason.cache_clear()

    def fresh_audit() -> Any:
        cold_scan_caches()
        return audit(inputs)

    def fresh_scan() -> Any:
        cold_scan_caches()
        return secret_scan.scan(inputs.stacks[0].body)

    t, report = best(args.repeat, fresh_audit)
    rows.append(("run the SecureServerless rules, acknowledgements, scorecard", t))
    t, _ = best(args.repeat, fresh_scan)
    rows.append(("of which: the secret scan of every template string (detect-secrets)", t))
    t, _ = best(args.repeat, lambda: audit_text(report))
    rows.append(("render the text report", t))
    t, _ = best(args.repeat, lambda: json.dumps(to_sarif(report)))
    rows.append(("render SARIF", t))
    t, grants = best(args.repeat, lambda: permissions(inputs.stacks, resolvers(inputs.stacks)))
    rows.append(("resolve permissions (every role)", t))
    t, costs = best(args.repeat, lambda: cost(inputs.stacks))
    rows.append(("cost", t))
    t, _ = best(args.repeat, lambda: to_html(report, grants, costs, fail_on="error"))
    rows.append(("render HTML (findings + permissions + cost)", t))
    own_audit = rows[0][1] + rows[1][1] + rows[3][1]

    def cli(*extra: str) -> float:
        start = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "secure_constructs",
                "audit",
                str(path),
                "--fail-on",
                "never",
                *extra,
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        return time.perf_counter() - start

    end_to_end = min(cli() for _ in range(3))
    end_to_end_sarif = min(cli("--format", "sarif") for _ in range(3))

    # The same template as YAML: decoded by PyYAML's C loader with CloudFormation's tags.
    import yaml

    yaml_path = workdir / "big.template.yaml"
    yaml_path.write_text(yaml.safe_dump(json.loads(path.read_text()), sort_keys=False))
    start = time.perf_counter()
    import secure_constructs.audit.yaml_template  # noqa: F401

    yaml_import = time.perf_counter() - start
    yaml_load, _ = best(args.repeat, lambda: load([yaml_path]))

    def cli_yaml() -> float:
        start = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "secure_constructs",
                "audit",
                str(yaml_path),
                "--fail-on",
                "never",
                "--format",
                "json",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        return time.perf_counter() - start

    end_to_end_yaml = min(cli_yaml() for _ in range(3))
    # `--nag`: cdk-nag's AwsSolutions and Serverless packs through CfnInclude, in a child process
    # (jsii and Node.js start-up, CDK's synth and the packs); once, it is not a per-run target.
    end_to_end_nag = cli("--nag")
    resolved = sum(len(p.grants) for p in grants.principals)
    probe = (
        "import time; t = time.perf_counter(); "
        "from secure_constructs.checks.secret_detectors import _entropy_plugins, _plugins; "
        "_plugins(); _entropy_plugins(); print(time.perf_counter() - t)"
    )
    detect_secrets_import = float(
        subprocess.run(
            [sys.executable, "-c", probe], check=True, capture_output=True, text=True
        ).stdout
    )

    lines = [
        f"# `secure-constructs audit` on a {args.resources}-resource template",
        "",
        f"Python {platform.python_version()} on {platform.machine()}, "
        f"{len(report.findings)} findings, {len(grants.principals)} roles with {resolved} "
        f"resolved grants; best of {args.repeat} runs (end to end: best of 3). "
        f"Target: audit well under {TARGET_SECONDS:.0f} s of our own time. Load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs when measured (compare runs at the "
        "same load).",
        "",
        "| stage | seconds |",
        "|---|---:|",
        *(f"| {name} | {seconds:.4f} |" for name, seconds in rows),
        f"| **audit, our own time (load + rules + text)** | **{own_audit:.4f}** |",
        "| `python -m secure_constructs audit` end to end (interpreter start-up and imports "
        f"included) | {end_to_end:.3f} |",
        f"| same, `--format sarif` | {end_to_end_sarif:.3f} |",
        f"| YAML input: import the YAML loader (PyYAML, once) | {yaml_import:.3f} |",
        f"| YAML input: load + decode the template | {yaml_load:.3f} |",
        f"| YAML input: the command end to end (`--format json`) | {end_to_end_yaml:.3f} |",
        "| import detect-secrets' plugins (once, lazily, at the first scanned value; in the end "
        f"to end rows) | {detect_secrets_import:.3f} |",
        "| `--nag` (cdk-nag's AwsSolutions + Serverless packs on the template through CfnInclude, "
        f"end to end, one run; not part of the budget) | {end_to_end_nag:.3f} |",
        "",
        f"Verdict: {'PASS' if own_audit < TARGET_SECONDS / 4 else 'CHECK'}: our own time is "
        f"{own_audit / TARGET_SECONDS:.0%} of the {TARGET_SECONDS:.0f} s budget.",
        "",
        "Regenerate with `python benchmarks/audit_bench.py`. YAML is read by PyYAML's C loader "
        "with CloudFormation's short-form tags and duplicate-key detection "
        "(secure_constructs/audit/yaml_template.py); cfn-lint's decoder, used before, cost "
        "~0.7 s of import per run. aws-sam-translator is imported only for a SAM template; "
        "aws-cdk-lib, cdk-nag and jsii only with `--nag` (in a child process).",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_write:
        RESULTS.write_text(text)
        print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
