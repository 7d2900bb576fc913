"""Issue 11, values the evaluator must work out or refuse, through `secure-constructs audit`.

Each resource of fixtures/probes/unreadable_probes.yaml writes a principal or a function URL's
AuthType with a function a naive evaluator gives up on: Fn::FindInMap (literal keys, a key from
a parameter), Fn::Select over a list or over Fn::Split of a parameter's default, or a value
only deploy knows (Fn::ImportValue, an SSM parameter's value, a custom resource's attribute).
The first kind must be evaluated; the second must fail closed, unless a condition pins the
caller. The Ok* resources are the compliant forms (a role of the template, a pinned import).
"""

from __future__ import annotations

import pytest

from tests.audit.helpers import FIXTURES, probe_findings

PROBES = FIXTURES / "probes" / "unreadable_probes.yaml"
RULES = (
    "ResourcePolicyPublic",
    "ResourcePolicyCrossAccount",
    "TrustPolicyOpen",
    "LambdaPublicAccess",
)

EXPECTED: dict[str, set[str]] = {
    "OpenMapping": {"ResourcePolicyPublic[Principal::*]"},
    "OpenMappingKeyFromParameter": {
        "ResourcePolicyPublic[Principal::*]",
        "ResourcePolicyCrossAccount[Account::123456789012]",
    },
    # the default's first item is "*"; any other deploy-time value of Who cannot be read
    "OpenSelectSplitParameter": {
        "ResourcePolicyPublic[Principal::*]",
        "ResourcePolicyPublic[Principal::unknown]",
    },
    "OpenSelectList": {"ResourcePolicyPublic[Principal::*]"},
    "OpenImport": {"ResourcePolicyPublic[Principal::unknown]"},
    "OpenSsmValue": {"ResourcePolicyPublic[Principal::unknown]"},
    "OpenCustomAttribute": {"ResourcePolicyPublic[Principal::unknown]"},
    "OkRoleArn": set(),
    "OkSelectKnown": set(),
    "OkImportPinned": set(),
    "Role": set(),
    "OpenTrustImport": {"TrustPolicyOpen[Principal::unknown]"},
    "OpenTrustMapping": {"TrustPolicyOpen[Principal::*]"},
    "OkTrustRole": set(),
    "OpenUrlMapping": {"LambdaPublicAccess"},
    "OpenUrlImport": {"LambdaPublicAccess"},
    "OkUrl": set(),
    "OpenPermissionMapping": {"LambdaPublicAccess"},
    "OpenPermissionImport": {"LambdaPublicAccess"},
    "OkPermissionRole": set(),
}


@pytest.fixture(scope="module")
def audited() -> tuple[dict[str, set[str]], list[dict[str, object]]]:
    return probe_findings(PROBES, RULES)


@pytest.fixture(scope="module")
def findings(audited: tuple[dict[str, set[str]], list[dict[str, object]]]) -> dict[str, set[str]]:
    return audited[0]


@pytest.mark.parametrize("resource", sorted(EXPECTED))
def test_each_probe_gives_exactly_its_expected_findings(
    findings: dict[str, set[str]], resource: str
) -> None:
    assert findings.get(resource, set()) == EXPECTED[resource]


def test_every_probe_is_pinned(findings: dict[str, set[str]]) -> None:
    assert set(findings) <= set(EXPECTED)
    named = {
        line.strip().rstrip(":")
        for line in PROBES.read_text().splitlines()
        if line.startswith("  ") and not line.startswith("   ") and line.strip().endswith(":")
    }
    probes = {n for n in named if n.startswith(("Open", "Ok"))}
    assert probes <= set(EXPECTED), probes - set(EXPECTED)


def test_an_unreadable_principal_says_it_cannot_be_read(
    audited: tuple[dict[str, set[str]], list[dict[str, object]]],
) -> None:
    messages = [str(f["message"]) for f in audited[1] if f["logical_id"] == "OpenImport"]
    assert messages and all("cannot be read" in m for m in messages)
