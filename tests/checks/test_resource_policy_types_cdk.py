"""Issue 11: resource policies written through ordinary CDK calls fail the synth when open.

GIVEN a DynamoDB TableV2 / Table resource policy, an OpenSearch domain's access policies (CDK
writes them through a Custom::OpenSearchAccessPolicy SDK call) or a layer permission, WHEN it
allows every principal, THEN ResourcePolicyPublic fails the synth; the same call for this
account (or an organization, for the layer) passes.
"""

from __future__ import annotations

from collections.abc import Callable

import aws_cdk as cdk
import pytest
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_opensearchservice as opensearch

from tests.synth import synth

Principal = Callable[[], iam.IPrincipal]
EVERYONE: Principal = iam.AnyPrincipal
OURS: Principal = iam.AccountRootPrincipal
_KEY = dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING)


def _document(who: Principal, action: str) -> iam.PolicyDocument:
    statement = iam.PolicyStatement(principals=[who()], actions=[action], resources=["*"])
    return iam.PolicyDocument(statements=[statement])


def _table_v2(who: Principal) -> Callable[[cdk.Stack], None]:
    def build(stack: cdk.Stack) -> None:
        dynamodb.TableV2(
            stack, "T", partition_key=_KEY, resource_policy=_document(who, "dynamodb:GetItem")
        )

    return build


def _table(who: Principal) -> Callable[[cdk.Stack], None]:
    def build(stack: cdk.Stack) -> None:
        dynamodb.Table(
            stack, "T", partition_key=_KEY, resource_policy=_document(who, "dynamodb:GetItem")
        )

    return build


def _domain(who: Principal) -> Callable[[cdk.Stack], None]:
    def build(stack: cdk.Stack) -> None:
        statement = iam.PolicyStatement(principals=[who()], actions=["es:ESHttpGet"])
        statement.add_all_resources()
        opensearch.Domain(
            stack,
            "D",
            version=opensearch.EngineVersion.OPENSEARCH_2_11,
            access_policies=[statement],
            enforce_https=True,
            node_to_node_encryption=True,
            encryption_at_rest=opensearch.EncryptionAtRestOptions(enabled=True),
        )

    return build


def _layer(organization: str | None) -> Callable[[cdk.Stack], None]:
    def build(stack: cdk.Stack) -> None:
        layer = lambda_.LayerVersion(
            stack, "L", code=lambda_.Code.from_asset("tests/examples"), description="probe"
        )
        layer.add_permission("Share", account_id="*", organization_id=organization)

    return build


BUILDS = {
    "TableV2": _table_v2,
    "Table": _table,
    "OpenSearchDomain": _domain,
}


def _public(build: Callable[[cdk.Stack], None]) -> list[str]:
    result = synth(build)
    return sorted({r for _, r, _ in result.violations if r.startswith("ResourcePolicyPublic")})


@pytest.mark.parametrize("kind", sorted(BUILDS))
def test_fails_the_synth_when_the_policy_allows_everyone(kind: str) -> None:
    assert _public(BUILDS[kind](EVERYONE)) == ["ResourcePolicyPublic[Principal::*]"]


@pytest.mark.parametrize("kind", sorted(BUILDS))
def test_passes_when_the_policy_allows_this_account(kind: str) -> None:
    assert _public(BUILDS[kind](OURS)) == []


def _role(stack: cdk.Stack) -> iam.IPrincipal:
    return iam.Role(stack, "R", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))


def test_an_opensearch_policy_for_a_role_of_the_stack_passes() -> None:
    def build(stack: cdk.Stack) -> None:
        _domain(lambda: _role(stack))(stack)

    assert _public(build) == []


def test_a_layer_shared_with_everyone_fails_and_with_an_organization_passes() -> None:
    assert _public(_layer(None)) == ["ResourcePolicyPublic[Principal::*]"]
    assert _public(_layer("o-a1b2c3d4e5")) == []
