"""Every rule says what it inspects (`applies_to`), and says it truthfully: without those
resources it finds nothing. The audit's "n/a" rests on this."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from secure_constructs.audit.sources import load
from secure_constructs.checks.model import Practice, Template, rule
from secure_constructs.checks.registry import RULES

FIXTURES = Path(__file__).resolve().parents[1] / "audit" / "fixtures"
# Rules that read the whole template (every section, every resource type) always apply.
WHOLE_TEMPLATE = {"SecretDynamicReference", "PlaintextSecret", "UnevaluatedTransform"}
RULE_IDS = [r.rule_id for r in RULES.values()]


def corpus() -> list[Template]:
    """The audit fixtures: hand-written templates and a cloud assembly with findings."""
    stacks = load([FIXTURES / "templates", FIXTURES / "assembly"]).stacks
    return [Template(s.body, path=s.path, assembly_dir=s.assembly or s.path.parent) for s in stacks]


def without(template: Template, types: tuple[str, ...]) -> Template:
    resources = {
        k: v
        for k, v in template.resources.items()
        if not (isinstance(v, dict) and v.get("Type") in types)
    }
    body: dict[str, Any] = {**template.body, "Resources": resources}
    return Template(body, path=template.path, assembly_dir=template.assembly_dir)


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_every_rule_declares_the_resource_types_it_inspects(rule_id: str) -> None:
    declared = RULES[rule_id].applies_to
    if rule_id in WHOLE_TEMPLATE:
        assert declared == ()
    else:
        assert declared, f"{rule_id}: pass applies_to=(...) to @rule"
        # AWS::Service::Type, or a CDK custom resource type (Custom::OpenSearchAccessPolicy)
        assert all(
            (t.startswith("AWS::") and t.count("::") == 2)
            or (t.startswith("Custom::") and t.count("::") == 1)
            for t in declared
        ), declared


@pytest.mark.parametrize("rule_id", sorted(set(RULE_IDS) - WHOLE_TEMPLATE))
def test_without_those_resources_a_rule_finds_nothing_and_does_not_apply(rule_id: str) -> None:
    checked = RULES[rule_id]
    for template in corpus():
        stripped = without(template, checked.applies_to)
        assert not checked.applies(stripped)
        assert checked.run(stripped) == []


def test_a_rule_applies_when_one_of_its_types_is_present() -> None:
    body = {"Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {}}}}
    assert RULES["LambdaTimeout"].applies(Template(body))
    assert not RULES["ApiRequestValidation"].applies(Template(body))
    assert RULES["SecretDynamicReference"].applies(Template({}))


def test_requirements_pinned_applies_only_to_a_function_with_a_local_asset(
    tmp_path: Path,
) -> None:
    inline = {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Code": {"ZipFile": "x"}}}}
    pinned = RULES["RequirementsPinned"]
    assert not pinned.applies(Template({"Resources": inline}, assembly_dir=tmp_path))
    (tmp_path / "asset.1").mkdir()
    with_asset = {
        "Fn": {
            "Type": "AWS::Lambda::Function",
            "Properties": {},
            "Metadata": {"aws:asset:path": "asset.1"},
        }
    }
    assert pinned.applies(Template({"Resources": with_asset}, assembly_dir=tmp_path))
    assert not pinned.applies(Template({"Resources": with_asset}))  # no assembly to read


def test_the_rule_decorator_defaults_to_always_applying() -> None:
    @rule("ZzApplicabilityProbe", practice=Practice.CURRENCY, summary="s" * 21, explanation="e")
    def probe(t: Template) -> list[Any]:
        return []

    assert probe.applies_to == () and probe.applies(Template({}))
    assert not probe.granular
    assert "ZzApplicabilityProbe" not in RULES  # making a rule registers nothing
