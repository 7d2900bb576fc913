"""Every resource type whose CloudFormation schema has a policy-named property is either read by
the resource-policy rules or listed as not holding a resource-based policy, with why.

The schemas are those cfn-lint bundles (us-east-1, the region with every type): when cfn-lint
brings a new type or property named like a policy, this test fails until the property is
added to resource_policy_facts.RESOURCE_POLICY_PATHS or NOT_RESOURCE_POLICIES.
"""

from __future__ import annotations

import re
from functools import cache

import pytest
from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

from secure_constructs.checks.resource_policy_facts import (
    CONFIGURATION_SUFFIXES,
    NOT_RESOURCE_POLICIES,
    RESOURCE_POLICY_PATHS,
)

_POLICY_NAMED = re.compile(r"(Policy|PolicyDocument|Policies|PolicyText|PolicyInJson)$")
_REGION = "us-east-1"
# Read in case a template uses the name, though CloudFormation has no such type (Glue's resource
# policy is set by its API only): no schema to check it against.
_NO_SCHEMA = frozenset({"AWS::Glue::ResourcePolicy"})


def _schema_type(schema: dict, prop: dict) -> object:
    if "$ref" in prop:
        prop = schema.get("definitions", {}).get(prop["$ref"].split("/")[-1], {})
    return prop.get("type")


@cache
def policy_named_properties() -> frozenset[str]:
    """`Type.Property` of every top-level property that may hold a policy document."""
    found = set()
    for type_ in PROVIDER_SCHEMA_MANAGER.get_resource_types(_REGION):
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(_REGION, type_).schema
        for name, prop in schema.get("properties", {}).items():
            if not _POLICY_NAMED.search(name) or name.endswith(CONFIGURATION_SUFFIXES):
                continue
            if _schema_type(schema, prop) in ("boolean", "integer", "number", "array"):
                continue
            found.add(f"{type_}.{name}")
    return frozenset(found)


def _covered(key: str) -> bool:
    type_, name = key.rsplit(".", 1)
    return any(path[0] == name for path in RESOURCE_POLICY_PATHS.get(type_, ()))


def test_the_schemas_are_there() -> None:
    assert "AWS::SQS::QueuePolicy.PolicyDocument" in policy_named_properties()


def test_every_policy_named_property_is_read_or_explained() -> None:
    missing = sorted(
        k for k in policy_named_properties() if not _covered(k) and k not in NOT_RESOURCE_POLICIES
    )
    assert missing == [], "add each to RESOURCE_POLICY_PATHS or NOT_RESOURCE_POLICIES"


@pytest.mark.parametrize(
    "type_",
    sorted(t for t in RESOURCE_POLICY_PATHS if t.startswith("AWS::") and t not in _NO_SCHEMA),
)
def test_every_path_starts_at_a_property_of_the_type(type_: str) -> None:
    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(_REGION, type_).schema
    for path in RESOURCE_POLICY_PATHS[type_]:
        assert path[0] in schema["properties"], (type_, path)


def test_nothing_is_both_read_and_explained_away() -> None:
    assert not [k for k in NOT_RESOURCE_POLICIES if _covered(k)]
    assert all(why.strip() for why in NOT_RESOURCE_POLICIES.values())
