"""Whose account a hand-written policy names, through `secure-constructs audit`.

fixtures/probes/account_probes.yaml: a key giving kms:* to a literal root, a topic policy for
another account's role (with and without an organization pin), principals from an SSM-typed
parameter and from AllowedValues holding `*`, a service with no source or a bucket-prefix
source. A literal account is another account unless `--account` says it is this one.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections import defaultdict
from pathlib import Path

import pytest

from secure_constructs.audit.cli import main
from tests.audit.helpers import FIXTURES

PROBES = FIXTURES / "probes" / "account_probes.yaml"
RULES = (
    "KmsKeyPolicyFullAccess",
    "ResourcePolicyPublic",
    "ResourcePolicyCrossAccount",
    "ResourcePolicyServiceSource",
)
EXPECTED: dict[str, set[str]] = {
    # another account's root: it could take the key over, and it is another account
    "OpenKeyLiteralRoot": {
        "KmsKeyPolicyFullAccess[Action::kms:*]",
        "ResourcePolicyCrossAccount[Account::111122223333]",
    },
    "OkKeyRootByJoin": set(),
    "OpenTopicOtherAccount": {"ResourcePolicyCrossAccount[Account::111122223333]"},
    "OkTopicOtherAccountInOrg": set(),
    # an SSM parameter's value is unknown: judged as the worst case, '*'
    "OpenTopicSsmPrincipal": {"ResourcePolicyCrossAccount[Account::everyone]"},
    # each allowed value (a deploy can pass no other)
    "OpenTopicAllowedStar": {
        "ResourcePolicyPublic[Principal::*]",
        "ResourcePolicyCrossAccount[Account::123456789012]",
    },
    "OpenTopicForAllValueTypo": {"ResourcePolicyPublic[Principal::*]"},
    "OpenQueueServiceNoSource": {"ResourcePolicyServiceSource[Service::events.amazonaws.com]"},
    "OpenQueueBucketPrefix": {
        "ResourcePolicyPublic[SourceArn::arn:aws:s3:::my*]",
        "ResourcePolicyServiceSource[Service::s3.amazonaws.com]",
    },
    "OkQueueServiceSource": set(),
}


def _findings(*extra: str) -> dict[str, set[str]]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["audit", str(PROBES), "--format", "json", *extra])
    assert code == 1
    report = json.loads(out.getvalue())
    assert report["rule_errors"] == [] and report["file_errors"] == []
    found: dict[str, set[str]] = defaultdict(set)
    for finding in report["findings"]:
        if str(finding["rule"]).split("[")[0] in RULES:
            found[str(finding["logical_id"])].add(str(finding["rule"]))
    return found


@pytest.fixture(scope="module")
def findings() -> dict[str, set[str]]:
    return _findings()


@pytest.mark.parametrize("resource", sorted(EXPECTED))
def test_each_probe_gives_exactly_its_expected_findings(
    findings: dict[str, set[str]], resource: str
) -> None:
    assert findings.get(resource, set()) == EXPECTED[resource]


def test_every_probe_is_pinned(findings: dict[str, set[str]]) -> None:
    assert set(findings) <= set(EXPECTED)


def test_account_option_makes_a_literal_account_this_one() -> None:
    found = _findings("--account", "111122223333", "--account", "123456789012")

    assert found.get("OpenKeyLiteralRoot", set()) == set()
    assert found.get("OpenTopicOtherAccount", set()) == set()
    # '*' stays public whatever the account
    assert found["OpenTopicAllowedStar"] == {"ResourcePolicyPublic[Principal::*]"}


def test_refuses_an_account_option_that_is_not_an_account_id() -> None:
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["audit", str(PROBES), "--account", "12345"])
    assert code == 2
    assert "--account=12345" in err.getvalue() and "12-digit" in err.getvalue()


def _assembly(tmp_path: Path, environment: str) -> Path:
    key = {
        "Type": "AWS::KMS::Key",
        "Properties": {
            "KeyPolicy": {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                        "Action": "kms:*",
                        "Resource": "*",
                    }
                ]
            }
        },
    }
    (tmp_path / "S.template.json").write_text(json.dumps({"Resources": {"Key": key}}))
    manifest = {
        "version": "55.0.0",
        "artifacts": {
            "S": {
                "type": "aws:cloudformation:stack",
                "environment": environment,
                "properties": {"templateFile": "S.template.json"},
            }
        },
    }
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    return tmp_path


@pytest.mark.parametrize(
    ("environment", "flagged"),
    [("aws://123456789012/eu-west-1", False), ("aws://unknown-account/unknown-region", True)],
)
def test_a_cloud_assemblys_stack_environment_is_this_account(
    tmp_path: Path, environment: str, flagged: bool
) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main(["audit", str(_assembly(tmp_path, environment)), "--format", "json"])
    rules = {f["rule"] for f in json.loads(out.getvalue())["findings"]}

    assert ("KmsKeyPolicyFullAccess[Action::kms:*]" in rules) is flagged
