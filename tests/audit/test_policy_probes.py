"""An attacker's probes of the issue-11 policy rules in a SAM template, through `audit`.

Each resource of fixtures/probes/policy_probes.yaml is one way to write an open policy
that a naive reader misses (intrinsics in principals, a parameter whose default is `*`, a list
mixing a role and `*`, NotPrincipal/NotAction with Allow, condition operators that restrict
nothing, wildcard ExternalId/audience, an API policy in an OpenAPI body made by SAM), or the
compliant form next to it. The test pins the policy findings of every resource.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections import defaultdict

import pytest

from secure_constructs.audit.cli import main
from tests.audit.helpers import FIXTURES

# Not under fixtures/templates: a test pins what a directory listing of that folder loads.
PROBES = FIXTURES / "probes" / "policy_probes.yaml"
POLICY_RULES = (
    "ResourcePolicyPublic",
    "KmsKeyPolicyFullAccess",
    "TrustPolicyOpen",
    "LambdaPermissionScope",
    "LambdaPublicAccess",
)

EXPECTED: dict[str, set[str]] = {
    # intrinsics in principals
    "OkSubAccount": set(),
    "OpenIfBranch": {"ResourcePolicyPublic[Principal::*]"},
    "OpenJoin": {"ResourcePolicyPublic[Principal::*]"},
    # the default is "*", and any other value passed at deploy cannot be read
    "OpenParameterDefault": {
        "ResourcePolicyPublic[Principal::*]",
        "ResourcePolicyPublic[Principal::unknown]",
    },
    "OpenPrincipalList": {"ResourcePolicyPublic[Principal::*]"},
    "OpenNotPrincipal": {"ResourcePolicyPublic[NotPrincipal]"},
    "OpenNotAction": {"ResourcePolicyPublic[Principal::*]"},
    # conditions that do not restrict
    "OpenStringLikeStar": {
        "ResourcePolicyPublic[Principal::*]",
        "ResourcePolicyPublic[SourceArn::*]",
    },
    "OpenForAllValues": {"ResourcePolicyPublic[Principal::*]"},
    "OkForAnyValue": set(),
    "OpenNull": {"ResourcePolicyPublic[Principal::*]"},
    "OpenIfExists": {"ResourcePolicyPublic[Principal::*]"},
    "OpenOrgWildcard": {"ResourcePolicyPublic[Principal::*]"},
    "OpenConditionParameterDefault": {"ResourcePolicyPublic[Principal::*]"},
    "OkSourceAccount": set(),
    # KMS
    "OkKeyRootBySub": set(),
    "OpenKeyNotAction": {"KmsKeyPolicyFullAccess[NotAction]"},
    # trust policies
    "Role": set(),
    "OpenTrustIf": {"TrustPolicyOpen[Principal::*]"},
    "OpenTrustParameterDefault": {"TrustPolicyOpen[Account::444455556666]"},
    "OpenTrustExternalIdWildcard": {"TrustPolicyOpen[Account::444455556666]"},
    "OpenTrustForAllValues": {"TrustPolicyOpen[Account::444455556666]"},
    "OkTrustExternalId": set(),
    "OpenTrustAudienceWildcard": {"TrustPolicyOpen[Federated]"},
    # SAM resources: the trust policy SAM copies to the role, the API policy SAM puts in the
    # OpenAPI body (x-amazon-apigateway-policy)
    "OpenSamTrust": {"TrustPolicyOpen[Principal::*]"},
    "OpenSamApi": {"ResourcePolicyPublic[Principal::*]"},
    # Fn::If around the document, the Statement list or one statement: either branch counts
    "OpenIfDocument": {"ResourcePolicyPublic[Principal::*]"},
    "OpenIfStatementList": {"ResourcePolicyPublic[Principal::*]"},
    "OpenIfOneStatement": {"TrustPolicyOpen[Principal::*]"},
    # Lambda permissions: a principal or SourceArn built from intrinsics / a parameter default
    "Fn": set(),
    "OpenPermissionJoin": {"LambdaPublicAccess"},
    "OpenPermissionParameterDefault": {"LambdaPermissionScope[SourceArn::arn:aws:s3:::*]"},
    "OkPermission": set(),
}


@pytest.fixture(scope="module")
def policy_findings() -> dict[str, set[str]]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["audit", str(PROBES), "--format", "json"])
    assert code == 1
    report = json.loads(out.getvalue())
    assert report["rule_errors"] == [] and report["file_errors"] == []
    found: dict[str, set[str]] = defaultdict(set)
    for finding in report["findings"]:
        rule = str(finding["rule"])
        if rule.split("[")[0] in POLICY_RULES:
            found[str(finding["sam_resource"] or finding["logical_id"])].add(rule)
    return found


@pytest.mark.parametrize("resource", sorted(EXPECTED))
def test_each_probe_gives_exactly_its_expected_policy_findings(
    policy_findings: dict[str, set[str]], resource: str
) -> None:
    assert policy_findings.get(resource, set()) == EXPECTED[resource]


def test_every_probe_in_the_template_is_pinned(policy_findings: dict[str, set[str]]) -> None:
    assert set(policy_findings) <= set(EXPECTED)
    # the fixture's Open*/Ok* resources are all listed (a new probe needs its expectation)
    text = PROBES.read_text()
    named = {
        line.strip().rstrip(":")
        for line in text.splitlines()
        if line.startswith("  ") and not line.startswith("   ") and line.strip().endswith(":")
    }
    probes = {n for n in named if n.startswith(("Open", "Ok"))}
    assert probes <= set(EXPECTED), probes - set(EXPECTED)
