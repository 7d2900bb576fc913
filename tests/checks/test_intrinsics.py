"""The resolver on every intrinsic it claims: Ref, GetAtt, Join, Sub, Select, Split, ImportValue,
FindInMap, GetAZs; and what it must not guess (If, unknown functions, unknown references)."""

from __future__ import annotations

from typing import Any

import pytest

from secure_constructs.checks.intrinsics import Resolver, exports_of, is_resolved

TEMPLATE: dict[str, Any] = {
    "Parameters": {
        "Stage": {"Type": "String", "Default": "prod"},
        "Subnets": {"Type": "List<AWS::EC2::Subnet::Id>"},
    },
    "Mappings": {"Config": {"prod": {"Path": "orders/prod", "Zones": ["a", "b"]}}},
    "Resources": {
        "DbSecret": {"Type": "AWS::SecretsManager::Secret"},
        "NamedSecret": {"Type": "AWS::SecretsManager::Secret", "Properties": {"Name": "orders/db"}},
        "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": "orders"}},
        "Queue": {"Type": "AWS::SQS::Queue"},
        "Role": {"Type": "AWS::IAM::Role"},
        "Key": {"Type": "AWS::KMS::Key"},
        "Bucket": {
            "Type": "AWS::S3::Bucket",
            "Properties": {"BucketName": {"Fn::Sub": "b-${Stage}"}},
        },
        "Topic": {"Type": "AWS::SNS::Topic"},
        "Thing": {"Type": "Custom::Thing"},
        "Loop": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": {"Ref": "Loop"}}},
    },
}


@pytest.fixture
def r() -> Resolver:
    return Resolver(TEMPLATE, exports={"shared-topic-arn": "arn:aws:sns:<region>:<account>:alarms"})


# -- Ref ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("AWS::Region", "<region>"),
        ("AWS::AccountId", "<account>"),
        ("AWS::Partition", "aws"),
        ("AWS::URLSuffix", "amazonaws.com"),
        ("AWS::StackName", "<stack-name>"),
        ("Stage", "<Stage>"),
        ("DbSecret", "arn:aws:secretsmanager:<region>:<account>:secret:DbSecret"),
        ("NamedSecret", "arn:aws:secretsmanager:<region>:<account>:secret:orders/db"),
        ("Table", "orders"),
        ("Queue", "https://sqs.<region>.amazonaws.com/<account>/Queue"),
        ("Topic", "arn:aws:sns:<region>:<account>:Topic"),
        ("Role", "Role"),
        ("Thing", "Thing"),
    ],
)
def test_ref_renders_pseudo_parameters_parameters_and_resources(
    r: Resolver, name: str, expected: str
) -> None:
    assert r.text({"Ref": name}) == expected


def test_ref_to_an_unknown_name_is_unresolved(r: Resolver) -> None:
    text = r.text({"Ref": "Nowhere"})
    assert text == "<unresolved Ref Nowhere>"
    assert not is_resolved(text)


# -- GetAtt ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            {"Fn::GetAtt": ["DbSecret", "Arn"]},
            "arn:aws:secretsmanager:<region>:<account>:secret:DbSecret",
        ),
        ({"Fn::GetAtt": "Table.Arn"}, "arn:aws:dynamodb:<region>:<account>:table/orders"),
        (
            {"Fn::GetAtt": ["Table", "StreamArn"]},
            "arn:aws:dynamodb:<region>:<account>:table/orders/stream/<timestamp>",
        ),
        ({"Fn::GetAtt": ["Role", "Arn"]}, "arn:aws:iam::<account>:role/Role"),
        ({"Fn::GetAtt": ["Key", "Arn"]}, "arn:aws:kms:<region>:<account>:key/Key"),
        ({"Fn::GetAtt": ["Bucket", "Arn"]}, "arn:aws:s3:::b-<Stage>"),
        ({"Fn::GetAtt": ["Queue", "Arn"]}, "arn:aws:sqs:<region>:<account>:Queue"),
        ({"Fn::GetAtt": ["Queue", "QueueName"]}, "Queue"),
        ({"Fn::GetAtt": ["Role", "RoleId"]}, "<Role.RoleId>"),
        ({"Fn::GetAtt": ["Thing", "Endpoint"]}, "<Thing.Endpoint>"),
    ],
)
def test_get_att_renders_arns_and_names_run_time_attributes(
    r: Resolver, value: dict[str, Any], expected: str
) -> None:
    assert r.text(value) == expected


def test_get_att_of_an_unknown_resource_is_unresolved(r: Resolver) -> None:
    assert r.text({"Fn::GetAtt": ["Ghost", "Arn"]}) == "<unresolved Fn::GetAtt Ghost.Arn>"
    assert not is_resolved(r.text({"Fn::GetAtt": 42}))


# -- Join, Sub -------------------------------------------------------------------------------


def test_join_joins_rendered_parts(r: Resolver) -> None:
    value = {"Fn::Join": [":", ["arn", {"Ref": "AWS::Partition"}, "s3", "", "", {"Ref": "Bucket"}]]}
    assert r.text(value) == "arn:aws:s3:::b-<Stage>"


def test_join_drops_no_value_and_refuses_a_list_it_cannot_see(r: Resolver) -> None:
    assert r.text({"Fn::Join": ["-", ["a", {"Ref": "AWS::NoValue"}, "b"]]}) == "a-b"
    assert not is_resolved(r.text({"Fn::Join": [",", {"Ref": "Subnets"}]}))
    assert not is_resolved(r.text({"Fn::Join": ["only-one-argument"]}))


def test_sub_replaces_pseudo_parameters_resources_attributes_and_variables(r: Resolver) -> None:
    assert (
        r.text(
            {
                "Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:"
                "${AWS::AccountId}:secret:x"
            }
        )
        == "arn:aws:secretsmanager:<region>:<account>:secret:x"
    )
    assert r.text({"Fn::Sub": "${Table}/index/*"}) == "orders/index/*"
    assert r.text({"Fn::Sub": "${Role.Arn}"}) == "arn:aws:iam::<account>:role/Role"
    assert r.text({"Fn::Sub": ["${Base}/x-${Stage}", {"Base": {"Ref": "Topic"}}]}) == (
        "arn:aws:sns:<region>:<account>:Topic/x-<Stage>"
    )
    assert r.text({"Fn::Sub": "literal ${!NotAVariable}"}) == "literal ${NotAVariable}"


def test_sub_with_an_unknown_variable_is_unresolved(r: Resolver) -> None:
    assert r.text({"Fn::Sub": "x-${Nowhere}"}) == "x-<unresolved Fn::Sub ${Nowhere}>"
    assert not is_resolved(r.text({"Fn::Sub": ["a", "b"]}))


# -- Select, Split, GetAZs -------------------------------------------------------------------


def test_select_picks_from_literal_lists_and_split_results(r: Resolver) -> None:
    assert r.text({"Fn::Select": [1, ["a", {"Ref": "Table"}, "c"]]}) == "orders"
    assert r.text({"Fn::Select": ["0", {"Fn::Split": ["/", "orders/prod"]}]}) == "orders"
    arn = {"Fn::GetAtt": ["Role", "Arn"]}
    assert r.text({"Fn::Select": [4, {"Fn::Split": [":", arn]}]}) == "<account>"


def test_select_from_a_list_parameter_or_azs_is_a_placeholder(r: Resolver) -> None:
    assert r.text({"Fn::Select": [1, {"Ref": "Subnets"}]}) == "<Subnets[1]>"
    assert r.text({"Fn::Select": [0, {"Fn::GetAZs": ""}]}) == "<availability-zone-0>"
    assert r.text({"Fn::GetAZs": {"Ref": "AWS::Region"}}) == "<availability-zones>"


def test_select_out_of_range_or_not_a_number_is_unresolved(r: Resolver) -> None:
    assert not is_resolved(r.text({"Fn::Select": [5, ["a"]]}))
    assert not is_resolved(r.text({"Fn::Select": ["one", ["a"]]}))


def test_split_renders_a_list_and_refuses_to_cut_through_a_placeholder(r: Resolver) -> None:
    assert r.items({"Fn::Split": [",", "a,b,c"]}) == ["a", "b", "c"]
    assert r.text({"Fn::Split": [",", "a,b"]}) == "a, b"
    # "." is inside the placeholder <Role.RoleId>: splitting would invent parts
    assert r.items({"Fn::Split": [".", {"Fn::GetAtt": ["Role", "RoleId"]}]}) is None
    assert not is_resolved(r.text({"Fn::Split": [".", {"Fn::GetAtt": ["Role", "RoleId"]}]}))


# -- ImportValue, FindInMap --------------------------------------------------------------------


def test_import_value_resolves_against_the_exports_of_the_other_templates(r: Resolver) -> None:
    assert (
        r.text({"Fn::ImportValue": "shared-topic-arn"}) == "arn:aws:sns:<region>:<account>:alarms"
    )
    assert r.text({"Fn::ImportValue": {"Fn::Sub": "shared-${AWS::Region}"}}) == (
        "<unresolved Fn::ImportValue shared-<region>>"
    )


def test_exports_of_renders_each_exported_value() -> None:
    shared = {
        "Resources": {"T": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "alarms"}}},
        "Outputs": {"Arn": {"Value": {"Ref": "T"}, "Export": {"Name": "shared-topic-arn"}}},
    }
    assert exports_of([shared]) == {"shared-topic-arn": "arn:aws:sns:<region>:<account>:alarms"}


def test_find_in_map_looks_up_literal_keys_and_refuses_deploy_time_keys(r: Resolver) -> None:
    assert r.text({"Fn::FindInMap": ["Config", "prod", "Path"]}) == "orders/prod"
    assert r.items({"Fn::FindInMap": ["Config", "prod", "Zones"]}) == ["a", "b"]
    assert r.text({"Fn::FindInMap": ["Config", {"Ref": "Stage"}, "Path"]}) == (
        "<unresolved Fn::FindInMap Config>"
    )
    assert not is_resolved(r.text({"Fn::FindInMap": ["Config", "dev", "Path"]}))


# -- not guessed -----------------------------------------------------------------------------


def test_if_is_unresolved_but_shows_both_branches(r: Resolver) -> None:
    text = r.text({"Fn::If": ["IsProd", {"Ref": "Table"}, "*"]})
    assert text == "<unresolved Fn::If IsProd: orders | *>"
    assert not is_resolved(text)


def test_unknown_functions_are_unresolved_not_guessed(r: Resolver) -> None:
    assert r.text({"Fn::Frobnicate": [1, 2]}) == "<unresolved Fn::Frobnicate>"
    assert r.text({"Fn::Base64": "x"}) == "<unresolved Fn::Base64>"


def test_a_reference_cycle_terminates(r: Resolver) -> None:
    assert r.text({"Fn::GetAtt": ["Loop", "Arn"]}) == "arn:aws:s3:::Loop"


def test_literals_render_as_text(r: Resolver) -> None:
    assert r.text(True) == "true"
    assert r.text(3) == "3"
    assert r.text(None) == ""
    assert r.text({"a": 1, "b": 2}) == '{"a":1,"b":2}'


# -- Lambda aliases and versions: qualified ARNs -----------------------------------------------

_QUALIFIED: dict[str, Any] = {
    "Resources": {
        "Fn": {"Type": "AWS::Lambda::Function"},
        "Named": {"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": "orders"}},
        "Live": {
            "Type": "AWS::Lambda::Alias",
            "Properties": {
                "FunctionName": {"Ref": "Named"},
                "Name": "live",
                "FunctionVersion": "1",
            },
        },
        "ByArn": {
            "Type": "AWS::Lambda::Alias",
            "Properties": {"FunctionName": {"Fn::GetAtt": ["Fn", "Arn"]}, "Name": "blue"},
        },
        "V1": {"Type": "AWS::Lambda::Version", "Properties": {"FunctionName": {"Ref": "Fn"}}},
    }
}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"Ref": "Live"}, "arn:aws:lambda:<region>:<account>:function:orders:live"),
        (
            {"Fn::GetAtt": ["Live", "AliasArn"]},
            "arn:aws:lambda:<region>:<account>:function:orders:live",
        ),
        ({"Ref": "ByArn"}, "arn:aws:lambda:<region>:<account>:function:Fn:blue"),
        ({"Ref": "V1"}, "arn:aws:lambda:<region>:<account>:function:Fn:<V1.Version>"),
    ],
)
def test_an_alias_or_version_renders_as_its_functions_qualified_arn(
    value: dict[str, Any], expected: str
) -> None:
    assert Resolver(_QUALIFIED).text(value) == expected
