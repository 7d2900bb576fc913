"""The reason gate: one function for every `reason=` of the library and for the audit.

A table of accepted and refused reasons, then every reason written in the library, its docs,
the examples and the sample app, all of which must pass the gate they are held to.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from secure_constructs import ValidationError
from secure_constructs.checks.reasons import reason_problem
from secure_constructs.validation import check_reason

ROOT = Path(__file__).resolve().parents[2]

REFUSED = [
    "",
    "   ",
    "ok for now, will fix",
    "temporary until next sprint",
    "suppressing this for the demo",
    "asdf asdf asdf asdf",
    "x x x x x x x",
    "n/a n/a n/a n/a",
    "needed needed needed needed",
    "TODO: explain why this is fine",
    "FIXME before go-live, the wildcard is broad",
    "tbd by the platform team next week",
    "We will fix this after the launch review",
    "Fix later once the bucket names are known",
    "Allowed until next release of the orders service",
    "Temporarily open so the partner can test the integration",
    "Needed for the POC with the payments team",
    "It is required and needed for this thing",
    "qwerty uiop zxcvb the role",
    "sdfgh jkl the function needs it",
    "aaaa bbbb cccc dddd",
    "ignore this warning please ok",
    "short",
    "N/A - not applicable to this stack",
    # found by an attacker review: deferrals and silencing the first table missed
    "Known issue tracked in JIRA-123; to be remediated in Q3",
    "Disabled until the migration completes next quarter",
    "Needed so the deploy passes; security sign-off pending from the team",
    "Silencing the linter so the pipeline goes green again today",
    "Suppressed because cdk-nag flags it but we do not care about this rule",
    "wontfix - legacy behaviour kept for backwards compatibility purposes",
    "The resource requires this configuration in order to function correctly",
]

ACCEPTED = [
    "Liveness probe; returns no data",
    "X-Ray's PutTraceSegments has no resource-level permissions at all",
    "The prefix of every log group is fixed by API Gateway at deploy time",
    "the test function only reads a public fixture bucket with no customer data",
    "The cached value lives until the next rotation of the secret, at most one hour",
    "Uses HTTPS only, to reach KMS through the VPC endpoint; no public egress",
    "Vendor API key: the vendor has no rotation API; renewed by hand every 90 days.",
    "Webhook from the payment provider, authenticated by its HMAC signature in the handler",
]


@pytest.mark.parametrize("reason", REFUSED)
def test_fails_when_a_reason_is_weak(reason: str) -> None:
    assert reason_problem(reason) is not None
    with pytest.raises(ValidationError, match=r"^reason=.*Fix: write the reason"):
        check_reason("reason", reason)


@pytest.mark.parametrize("reason", ACCEPTED)
def test_a_reason_that_says_why_is_accepted(reason: str) -> None:
    assert reason_problem(reason) is None
    assert check_reason("reason", reason) == reason


def test_the_refusal_names_what_is_wrong() -> None:
    problem = reason_problem("temporary until next sprint")
    assert problem is not None and "deferral" in problem
    problem = reason_problem("asdf asdf asdf asdf")
    assert problem is not None and "keyboard mash" in problem
    problem = reason_problem("needed needed needed needed")
    assert problem is not None and "distinct words" in problem


def test_fails_when_a_reason_only_repeats_the_rule_description() -> None:
    text = "The Lambda function does not have an explicit timeout configured"
    assert reason_problem(text, [text.upper()]) == "the reason only repeats the rule's description"


# -- every reason written in the project passes ----------------------------------------------


def _text(node: ast.expr) -> str | None:
    """A string literal or f-string (placeholders as a neutral word), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(_text(v) or "value" for v in node.values)  # type: ignore[arg-type]
    if isinstance(node, ast.FormattedValue):
        return None
    return None


def _reasons_in_python(source: str) -> list[str]:
    source = re.sub(r"\{%.*?%\}", "", source)  # the sample app's Jinja tags
    source = re.sub(r"\{\{\s*cookiecutter\.\w+\s*\}\}", "x", source)
    tree = ast.parse(source)
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id.endswith("_REASON") for t in node.targets
        ):
            found.append(_text(node.value) or "")
        if not isinstance(node, ast.Call):
            continue
        for keyword in node.keywords:
            if keyword.arg and (keyword.arg == "reason" or keyword.arg.endswith("_reason")):
                found.extend(t for t in [_text(keyword.value)] if t is not None)
        name = getattr(node.func, "attr", getattr(node.func, "id", ""))
        if name == "acknowledge" and len(node.args) >= 2:  # (construct,) rule_id, reason
            found.extend(t for t in [_text(node.args[-1])] if t is not None)
    return [t for t in found if t and not t.startswith("${")]


_DOC_REASON = re.compile(r"""reason\s*=\s*(?P<q>["'])(?P<text>[^"']{3,}?)(?P=q)""")


def _project_reasons() -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for folder in ("secure_constructs", "examples", "sample_app"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            where = str(path.relative_to(ROOT))
            out.extend((where, r) for r in _reasons_in_python(path.read_text()))
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for match in _DOC_REASON.finditer(path.read_text()):
            if match.group("text") != "...":
                out.append((str(path.relative_to(ROOT)), match.group("text")))
    return out


PROJECT_REASONS = _project_reasons()


def test_the_project_reasons_were_found() -> None:
    """The extraction above reads the library's own reasons (else the next test proves nothing)."""
    where = {w for w, _ in PROJECT_REASONS}
    assert {
        "secure_constructs/role.py",
        "secure_constructs/api/stage.py",
        "docs/secure-api.md",
    } <= where
    assert any("Liveness probe" in r for _, r in PROJECT_REASONS)
    assert len(PROJECT_REASONS) >= 10


@pytest.mark.parametrize(("where", "reason"), PROJECT_REASONS)
def test_every_reason_in_the_project_passes_the_gate(where: str, reason: str) -> None:
    assert reason_problem(reason) is None, where
