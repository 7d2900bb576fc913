"""The table of cdk-nag rule ids that acknowledge() accepts matches the installed cdk-nag."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

from secure_constructs.checks.nag_rules import CDK_NAG_VERSION, NAG_RULE_IDS

ROOT = Path(__file__).resolve().parents[2]


def test_the_generated_table_matches_the_installed_cdk_nag() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_nag_rules.py"), "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, (
        "secure_constructs/checks/nag_rules.py is stale for the installed cdk-nag: run "
        f"`python scripts/gen_nag_rules.py`\n{result.stdout}{result.stderr}"
    )


def test_the_table_is_for_the_installed_version_and_knows_the_rules_we_acknowledge() -> None:
    assert importlib.metadata.version("cdk-nag") == CDK_NAG_VERSION
    assert "AwsSolutions-IAM5" in NAG_RULE_IDS["AwsSolutions"]
    assert "Serverless-SQSRedrivePolicy" in NAG_RULE_IDS["Serverless"]
    assert set(NAG_RULE_IDS) == {
        "AwsSolutions",
        "Serverless",
        "NIST.800.53.R5",
        "HIPAA.Security",
        "PCI.DSS.321",
    }
