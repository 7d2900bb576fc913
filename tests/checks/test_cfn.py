"""checks.cfn: how rules read intrinsic functions without evaluating the template."""

from __future__ import annotations

from typing import Any

import pytest

from secure_constructs.checks.cfn import (
    MAX_RENDERINGS,
    UNKNOWN,
    alarm_metrics,
    alarm_notifies,
    as_list,
    intrinsic,
    number,
    referenced_id,
    referenced_ids,
    renderings,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"Ref": "Fn"}, "Fn"),
        ({"Fn::GetAtt": ["Fn", "Arn"]}, "Fn"),
        ({"Fn::GetAtt": "Fn.Arn"}, "Fn"),
        ({"Fn::ImportValue": "Fn"}, None),
        ("Fn", None),
        ({"Ref": "Fn", "Extra": 1}, None),
    ],
)
def test_referenced_id(value: Any, expected: str | None) -> None:
    assert referenced_id(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain", ["plain"]),
        (12, ["12"]),
        (True, ["true"]),
        ({"Ref": "Bucket"}, [UNKNOWN]),
        ({"Ref": "AWS::NoValue"}, []),
        ({"Fn::Join": ["", ["states.", {"Ref": "AWS::URLSuffix"}]]}, ["states.amazonaws.com"]),
        ({"Fn::Join": ["-", ["a", {"Ref": "B"}, "c"]]}, [f"a-{UNKNOWN}-c"]),
        ({"Fn::Join": ["", {"Ref": "List"}]}, [UNKNOWN]),
        (
            {"Fn::Sub": "arn:${AWS::Partition}:s3:::${Bucket}/${!Literal}"},
            [f"arn:aws:s3:::{UNKNOWN}/${{Literal}}"],
        ),
        ({"Fn::Sub": ["${A}-${B}", {"A": "x", "B": {"Ref": "Y"}}]}, [f"x-{UNKNOWN}"]),
        ({"Fn::If": ["C", "yes", {"Fn::Join": ["", ["n", "o"]]}]}, ["yes", "no"]),
        ({"Fn::Base64": "text"}, ["text"]),
        ({"Fn::Select": [0, ["a"]]}, ["a"]),
        ({"Fn::Select": [1, ["a", {"Fn::If": ["C", "*", "b"]}]]}, ["*", "b"]),
        ({"Fn::Select": [{"Ref": "I"}, ["a", "*"]]}, ["a", "*"]),  # any index: every item
        ({"Fn::Select": [2, ["a"]]}, [UNKNOWN]),  # out of range: not a pass
        ({"Fn::Select": [0, {"Fn::Split": [",", "*,b"]}]}, ["*"]),
        ({"Fn::Select": [1, {"Fn::Split": [",", {"Ref": "P"}]}]}, [UNKNOWN]),
        ({"Fn::Select": [0, {"Ref": "List"}]}, [UNKNOWN]),
        ({"Fn::Split": [",", "a,*"]}, ["a", "*"]),
        ({"Fn::FindInMap": ["M", "K", "V"]}, [UNKNOWN]),  # no Mappings here: unknown
        ({"Fn::Sub": ["${A}", {"A": {"Fn::If": ["C", "*", "b"]}}]}, ["*", "b"]),
        (["a", "b"], []),
        ({"Key": "value"}, []),
    ],
)
def test_renderings(value: Any, expected: list[str]) -> None:
    assert renderings(value) == expected


def test_renderings_are_bounded() -> None:
    branch = {"Fn::If": ["C", "a", "b"]}
    rendered = renderings({"Fn::Join": ["", [branch] * 10]})
    # a cut list ends in UNKNOWN, so that no rule takes it for every value (fail closed)
    assert len(rendered) == MAX_RENDERINGS and rendered[-1] == UNKNOWN
    assert renderings({"Fn::Join": ["", [branch] * 4]})[-1] != UNKNOWN  # 16 fit


def test_as_list_and_intrinsic() -> None:
    assert as_list(None) == [] and as_list("a") == ["a"] and as_list(["a"]) == ["a"]
    assert intrinsic({"Fn::Join": ["", []]}) == ("Fn::Join", ["", []])
    assert intrinsic({"Version": "2012-10-17"}) is None


def test_referenced_ids_finds_every_ref_and_getatt_inside_a_value() -> None:
    value = {"Fn::Join": ["", ["arn:", {"Ref": "Api"}, "/stages/", {"Fn::GetAtt": "Stage.Name"}]]}
    assert list(referenced_ids(value)) == ["Api", "Stage"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(30, 30.0), ("2.5", 2.5), (True, None), ("ten", None), ({"Ref": "Seconds"}, None)],
)
def test_number_reads_literal_numbers_only(value: object, expected: float | None) -> None:
    assert number(value) == expected


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        ({"AlarmActions": [{"Ref": "Topic"}]}, True),
        ({"AlarmActions": [{"Ref": "Topic"}], "ActionsEnabled": "false"}, False),
        ({"AlarmActions": [], "ActionsEnabled": True}, False),
    ],
)
def test_an_alarm_notifies_with_enabled_alarm_actions(
    props: dict[str, object], expected: bool
) -> None:
    assert alarm_notifies(props) is expected


def test_alarm_metrics_include_those_of_metric_math() -> None:
    props = {
        "Metrics": [
            {"Id": "e", "Expression": "m1 / 2"},
            {
                "Id": "m1",
                "MetricStat": {"Metric": {"Namespace": "AWS/Lambda", "MetricName": "Errors"}},
            },
        ]
    }
    assert [m.get("MetricName") for m in alarm_metrics(props)] == [None, "Errors"]
