"""Issue 11: a resource-based policy of every type the rules read, through `audit`.

fixtures/probes/resource_policy_types.yaml holds, per type (DynamoDB table, stream and global
table replica policies, a replica key, OpenSearch/Elasticsearch domains, S3 access points and
Express bucket policies, SSM, Logs destinations, EFS, Backup, ECR registry, CodeArtifact, VPC
Lattice, MSK, EventSchemas, CloudTrail, a layer permission), an Open* resource whose policy
allows `{"AWS": "*"}` and an Ok* twin allowing only this account's root (or `*` pinned to an
organization for the layer). Every Open* must fail ResourcePolicyPublic; no Ok* may.
"""

from __future__ import annotations

import pytest
import yaml

from tests.audit.helpers import FIXTURES, probe_findings

TYPES = FIXTURES / "probes" / "resource_policy_types.yaml"
RESOURCES = sorted(yaml.safe_load(TYPES.read_text())["Resources"])


@pytest.fixture(scope="module")
def findings() -> dict[str, set[str]]:
    return probe_findings(TYPES, ("ResourcePolicy", "KmsKeyPolicy"))[0]


@pytest.mark.parametrize("resource", [r for r in RESOURCES if r.startswith("Open")])
def test_a_policy_open_to_everyone_fails_for_every_type(
    findings: dict[str, set[str]], resource: str
) -> None:
    assert findings[resource] == {"ResourcePolicyPublic[Principal::*]"}


@pytest.mark.parametrize("resource", [r for r in RESOURCES if r.startswith("Ok")])
def test_a_policy_for_this_account_passes_for_every_type(
    findings: dict[str, set[str]], resource: str
) -> None:
    assert findings.get(resource, set()) == set()


def test_the_fixture_has_both_forms_of_each_type() -> None:
    opened = {r.removeprefix("Open") for r in RESOURCES if r.startswith("Open")}
    compliant = {r.removeprefix("Ok") for r in RESOURCES if r.startswith("Ok")}
    assert opened - {"LayerPermission"} == compliant - {"LayerPermissionOrg"}
