"""`secure-constructs audit` on a hand-written YAML template of web ACLs that have the baseline
rules in name only (the reading is checks/waf_acl.py; the dict cases are in
tests/checks/test_rules_waf_bypasses.py)."""

from __future__ import annotations

import contextlib
import io
import json
from collections import defaultdict

import pytest

from secure_constructs.audit.cli import main
from tests.audit.helpers import TEMPLATES

FIXTURE = TEMPLATES / "waf_bypasses.yaml"
EXPECTED = {
    "OkBaseline": set(),
    "OpenAllowFirst": {"WebAclBaseline[AllowBeforeBaseline]"},
    "WeakScopedDownGroup": {"WebAclBaseline[AWSManagedRulesCommonRuleSet]"},
    "OpenRateAllows": {"WebAclBaseline[RateBasedRule]", "WebAclBaseline[AllowBeforeBaseline]"},
    "OpenRateFromParameter": {"WebAclBaseline[RateBasedRule]"},
    "OkRateFromBoundedParameter": set(),
    "OpenRateCustomHeaderKey": {"WebAclBaseline[RateBasedRule]"},
    "OkRateCustomIpKey": set(),
}


@pytest.fixture(scope="module")
def waf_findings() -> dict[str, set[str]]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["audit", str(FIXTURE), "--format", "json"])
    assert code == 1
    report = json.loads(out.getvalue())
    assert report["rule_errors"] == [] and report["file_errors"] == []
    found: dict[str, set[str]] = defaultdict(set)
    for finding in report["findings"]:
        if str(finding["rule"]).startswith("WebAclBaseline"):
            found[str(finding["logical_id"])].add(str(finding["rule"]))
    return found


@pytest.mark.parametrize("acl", sorted(EXPECTED))
def test_each_web_acl_gives_exactly_its_expected_findings(
    waf_findings: dict[str, set[str]], acl: str
) -> None:
    assert waf_findings.get(acl, set()) == EXPECTED[acl]
