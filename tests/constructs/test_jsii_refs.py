"""jsii_refs: two Python proxies of one construct made in JavaScript are told as one."""

from __future__ import annotations

import abc

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sqs as sqs
from constructs import IConstruct

from secure_constructs.jsii_refs import is_kind, path_of, read_once, ref, same, stack_of


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


def _stack_with_everything() -> cdk.Stack:
    from aws_cdk import aws_lambda as lambda_

    from secure_constructs import SecureFunction
    from secure_constructs.api import SecureApi
    from secure_constructs.auth import ApiAuth
    from secure_constructs.shared import security_key

    stack = cdk.Stack(cdk.App(), "S")
    code = lambda_.Code.from_inline("def handler(event, context):\n    return None\n")
    fn = SecureFunction(stack, "Fn", code=code, handler="index.handler")
    SecureApi(stack, "Api", auth=ApiAuth.iam()).add_route("GET", "/x", fn)
    dlq = sqs.DeadLetterQueue(queue=fn.dead_letter_queue, max_receive_count=3)
    jobs = sqs.Queue(
        stack,
        "Jobs",
        encryption_master_key=security_key(stack),
        visibility_timeout=cdk.Duration.seconds(60),
        dead_letter_queue=dlq,
        enforce_ssl=True,
    )
    fn.add_queue_trigger(jobs)
    return stack


def test_is_kind_answers_as_isinstance() -> None:
    stack = _stack_with_everything()
    bases = (cdk.CfnResource, cdk.Resource, cdk.Stack, sqs.Queue, sqs.CfnQueuePolicy, IConstruct)
    for node in stack.node.find_all():
        for base in bases[:-1]:
            assert is_kind(node, base) == isinstance(node, base), (node.node.path, base)


def test_the_synth_walks_ask_no_abc_subclass_check_of_cfn_resource() -> None:
    """An `isinstance(node, CfnResource)` miss walks every loaded L1 class (jsii_refs.is_kind):
    the node walks of our validations and aspects must not make one. CPython keeps the misses
    in the class's negative cache, emptied here first."""
    stack = _stack_with_everything()
    abc._reset_caches(cdk.CfnResource)  # type: ignore[attr-defined]
    stack.node.root.synth()  # type: ignore[attr-defined]
    _, _, misses, _ = abc._get_dump(cdk.CfnResource)  # type: ignore[attr-defined]
    assert [miss() for miss in misses if miss() is not None] == []
