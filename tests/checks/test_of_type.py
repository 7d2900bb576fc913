"""Template.of_type: every resource of the asked types, in template order, from an index."""

from __future__ import annotations

from typing import Any

from secure_constructs.checks.model import Template


def _body() -> dict[str, Any]:
    return {
        "Resources": {
            "Q1": {"Type": "AWS::SQS::Queue", "Properties": {"A": 1}},
            "T1": {"Type": "AWS::SNS::Topic"},
            "Bad": {"Type": ["AWS::SQS::Queue"]},  # not a string: never matched
            "Q2": {"Type": "AWS::SQS::Queue", "Properties": "not a mapping"},
            "T2": {"Type": "AWS::SNS::Topic", "Properties": {"B": 2}},
            "Odd": "not a resource",
        }
    }


def test_returns_the_resources_of_the_types_in_template_order() -> None:
    t = Template(_body())
    assert list(t.of_type("AWS::SQS::Queue")) == [("Q1", {"A": 1}), ("Q2", {})]
    assert [i for i, _ in t.of_type("AWS::SNS::Topic", "AWS::SQS::Queue")] == [
        "Q1",
        "T1",
        "Q2",
        "T2",
    ]
    assert list(t.of_type("AWS::Lambda::Function")) == []


def test_a_resource_added_afterwards_is_found() -> None:
    body = _body()
    t = Template(body)
    assert [i for i, _ in t.of_type("AWS::SQS::Queue")] == ["Q1", "Q2"]
    body["Resources"]["Q3"] = {"Type": "AWS::SQS::Queue"}
    assert [i for i, _ in t.of_type("AWS::SQS::Queue")] == ["Q1", "Q2", "Q3"]


def test_a_resource_whose_type_changed_is_not_returned_under_the_old_type() -> None:
    body = _body()
    t = Template(body)
    list(t.of_type("AWS::SQS::Queue"))
    body["Resources"]["Q1"] = {"Type": "AWS::SNS::Topic"}
    assert [i for i, _ in t.of_type("AWS::SQS::Queue")] == ["Q2"]
