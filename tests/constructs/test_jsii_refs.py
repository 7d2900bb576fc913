"""jsii_refs: two Python proxies of one construct made in JavaScript are told as one."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_sqs as sqs

from secure_constructs.jsii_refs import path_of, read_once, ref, same


def test_two_reads_of_a_construct_made_in_javascript_are_the_same_construct() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    queue = sqs.Queue(stack, "Q")
    first, second = queue.node.default_child, queue.node.default_child
    assert first is not second  # why `is` cannot tell them
    assert same(first, second) and ref(first) == ref(second)
    assert not same(first, sqs.Queue(stack, "Other").node.default_child)


def test_an_object_without_a_reference_is_the_same_as_nothing() -> None:
    assert ref(object()) is None
    assert not same(object(), object())


def test_read_once_shares_a_read_between_proxies_and_keeps_objects_apart() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    queue = sqs.Queue(stack, "Q")
    first, second = queue.node.default_child, queue.node.default_child
    cache: dict[str, str] = {}
    reads: list[str] = []

    def read(value: str) -> str:
        reads.append(value)
        return value

    assert read_once(first, cache, lambda: read("one")) == "one"
    assert read_once(second, cache, lambda: read("two")) == "one"  # the same construct
    other = sqs.Queue(stack, "Other").node.default_child
    assert read_once(other, cache, lambda: read("other")) == "other"
    assert read_once(object(), cache, lambda: read("x")) == "x"  # no reference: read each time
    assert read_once(object(), cache, lambda: read("y")) == "y"
    assert reads == ["one", "other", "x", "y"]
    assert path_of(first) == path_of(second) == "S/Q/Resource"
