"""jsii_refs: two Python proxies of one construct made in JavaScript are told as one."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sqs as sqs
from constructs import IConstruct

from secure_constructs.jsii_refs import path_of, read_once, ref, same, stack_of


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


def test_stack_of_is_each_constructs_own_stack_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    app = cdk.App()
    first, second = cdk.Stack(app, "A"), cdk.Stack(app, "B")
    nested = cdk.NestedStack(first, "Nested")
    queues = {s: sqs.Queue(s, "Q") for s in (first, second, nested)}
    assert stack_of(first) is first
    for stack, queue in queues.items():
        assert stack_of(queue) is stack
        child = queue.node.default_child
        assert child is not None and stack_of(child) is stack  # another object, its own entry
    reads: list[object] = []
    real = cdk.Stack.of

    def counted(construct: IConstruct) -> cdk.Stack:
        reads.append(construct)
        return real(construct)

    monkeypatch.setattr(cdk.Stack, "of", counted)
    for stack, queue in queues.items():
        assert stack_of(queue) is stack
    assert reads == []
    assert stack_of(sqs.Queue(second, "New")) is second and len(reads) == 1
