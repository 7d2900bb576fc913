"""Benchmark the code-against-grants analysis that `secure-constructs permissions` adds.

Not a test: run it by hand, `python benchmarks/code_calls_bench.py [--assembly cdk.out]`.
Measures, each in a fresh interpreter (so the one-time cost of loading botocore's models and
the Service Authorization Reference is counted), the time `check_stacks` adds to the
permissions report on (1) the sample app's cloud assembly (`CDK_OUTDIR=... python app.py`)
and (2) a synthetic 50-function app whose handlers use every call pattern. Writes
benchmarks/code_calls_results.md. Target: under 1 s added.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "code_calls_results.md"
TARGET_SECONDS = 1.0
FUNCTIONS = 50

HANDLERS = [
    "import os, boto3\nTABLE = boto3.resource('dynamodb').Table(os.environ['TABLE_NAME'])\n"
    "def handler(e, c):\n    TABLE.put_item(Item={})\n    TABLE.get_item(Key={})\n",
    "import boto3\ns3 = boto3.client('s3')\ndef handler(e, c):\n"
    "    for p in s3.get_paginator('list_objects_v2').paginate(Bucket='b'):\n        pass\n"
    "    s3.upload_file('/tmp/f', 'b', 'k')\n",
    "import os\nfrom aws_lambda_powertools.utilities import parameters\n"
    "def handler(e, c):\n    return parameters.get_secret(os.environ['SECRET_ARN'])\n",
    "import boto3\nfrom functools import cache\n@cache\ndef sqs():\n"
    "    return boto3.client('sqs')\n"
    "def handler(e, c):\n    sqs().send_message(QueueUrl='u', MessageBody='b')\n",
]

MEASURE = """
import json, sys, time
sys.path.insert(0, {root!r})
from secure_constructs.audit.cli import resolvers
from secure_constructs.audit.code_calls.compare import check_stacks
from secure_constructs.audit.sources import load
inputs = load([{path!r}])
res = resolvers(inputs.stacks)
start = time.perf_counter()
checks = check_stacks(inputs.stacks, res)
print(json.dumps({{"seconds": time.perf_counter() - start, "functions": len(checks),
    "analysed": sum(c.code.analysed for c in checks)}}))
"""


def synthetic_app(directory: Path) -> Path:
    """A cloud assembly with FUNCTIONS functions, each with its own asset, role and policy."""
    resources: dict[str, Any] = {"Table": {"Type": "AWS::DynamoDB::Table", "Properties": {}}}
    for i in range(FUNCTIONS):
        asset = directory / f"asset.{i}"
        asset.mkdir()
        (asset / "handler.py").write_text(HANDLERS[i % len(HANDLERS)])
        resources[f"Role{i}"] = {"Type": "AWS::IAM::Role", "Properties": {}}
        resources[f"Policy{i}"] = {
            "Type": "AWS::IAM::Policy",
            "Properties": {
                "Roles": [{"Ref": f"Role{i}"}],
                "PolicyDocument": {
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "dynamodb:PutItem",
                            "Resource": {"Fn::GetAtt": ["Table", "Arn"]},
                        }
                    ]
                },
            },
        }
        resources[f"Fn{i}"] = {
            "Type": "AWS::Lambda::Function",
            "Metadata": {"aws:asset:path": asset.name},
            "Properties": {
                "Runtime": "python3.14",
                "Handler": "handler.handler",
                "Code": {"S3Bucket": "b", "S3Key": f"{i}.zip"},
                "Role": {"Fn::GetAtt": [f"Role{i}", "Arn"]},
                "Environment": {"Variables": {"TABLE_NAME": {"Ref": "Table"}}},
            },
        }
    (directory / "App.template.json").write_text(json.dumps({"Resources": resources}))
    manifest = {
        "version": "55.0.0",
        "artifacts": {
            "App": {
                "type": "aws:cloudformation:stack",
                "properties": {"templateFile": "App.template.json"},
            }
        },
    }
    (directory / "manifest.json").write_text(json.dumps(manifest))
    return directory


def measure(path: Path, repeat: int) -> dict[str, Any]:
    runs = []
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, "-c", MEASURE.format(root=str(ROOT), path=str(path))],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        runs.append(json.loads(out))
    return min(runs, key=lambda r: r["seconds"])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--assembly", help="the sample app's cloud assembly (cdk.out)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = []
    if args.assembly:
        rows.append(("the sample app's assets", measure(Path(args.assembly), args.repeat)))
    with tempfile.TemporaryDirectory(prefix="sc-code-bench-") as tmp:
        rows.append((f"a {FUNCTIONS}-function app", measure(synthetic_app(Path(tmp)), args.repeat)))
    worst = max(r["seconds"] for _, r in rows)
    verdict = "PASS" if worst < TARGET_SECONDS else "FAIL"
    lines = [
        "# code against grants: time added to `secure-constructs permissions`",
        "",
        f"Python {platform.python_version()} on {platform.machine()}; best of {args.repeat} fresh "
        "interpreters (the one-time load of botocore's models and the Service Authorization "
        "Reference is included). Target: under 1 s added.",
        "",
        "| input | functions (analysed) | seconds added |",
        "|---|---:|---:|",
        *(
            f"| {name} | {r['functions']} ({r['analysed']}) | {r['seconds']:.3f} |"
            for name, r in rows
        ),
        "",
        f"Verdict: {verdict} (worst {worst:.3f} s).",
        "",
        "Regenerate with `CDK_OUTDIR=/tmp/out python app.py && "
        "python benchmarks/code_calls_bench.py --assembly /tmp/out`.",
    ]
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    raise SystemExit(main())
