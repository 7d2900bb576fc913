"""Telling constructs apart in Python, without a jsii round trip.

jsii hands Python a new proxy object each time it returns a construct made on the JavaScript
side (a CfnQueue made by `sqs.Queue`, a QueuePolicy made by `add_to_resource_policy`), so `is`
between two reads of the same construct is False. The kernel's object reference
("aws-cdk-lib.aws_sqs.CfnQueue@10004") is the same for every proxy of one object, and it is a
Python attribute of the proxy.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeGuard, TypeVar

import aws_cdk as cdk

if TYPE_CHECKING:
    from constructs import IConstruct

_T = TypeVar("_T")


def ref(construct: object) -> str | None:
    """The jsii kernel's reference to the object, or None for an object that has none."""
    return getattr(getattr(construct, "__jsii_ref__", None), "ref", None)


def same(first: object, second: object) -> bool:
    """Whether two Python objects stand for one jsii object (False when either has no ref)."""
    found = ref(first)
    return found is not None and found == ref(second)


def read_once(construct: object, cache: dict[str, _T], read: Callable[[], _T]) -> _T:
    """`read()` (a property that never changes once the object is made: a path, a name), kept
    in `cache` by the object's kernel reference, so every proxy of the object shares it. The
    kernel never reuses a reference, so an entry never goes stale; an object without one is
    read every time."""
    key = ref(construct)
    if key is None:
        return read()
    if key not in cache:
        cache[key] = read()
    return cache[key]


_PATHS: dict[str, str] = {}


def path_of(construct: IConstruct) -> str:
    """`construct.node.path` (two round trips), read once per jsii object, whichever proxy."""
    return read_once(construct, _PATHS, lambda: construct.node.path)


# Weak values: a cache entry must not keep an app's stack (and its Python proxies) alive.
_STACKS: weakref.WeakValueDictionary[str, cdk.Stack] = weakref.WeakValueDictionary()


def stack_of(scope: IConstruct) -> cdk.Stack:
    """`Stack.of(scope)` (one round trip), read once per jsii object: a construct never moves
    to another stack once made (CDK caches the answer on the construct too). No round trip
    when `scope` is the stack itself."""
    if isinstance(scope, cdk.Stack):
        return scope
    key = ref(scope)
    found = None if key is None else _STACKS.get(key)
    if found is None:
        found = cdk.Stack.of(scope)
        if key is not None:
            _STACKS[key] = found
    return found


_K = TypeVar("_K")


def is_kind(node: object, base: type[_K]) -> TypeGuard[_K]:
    """`isinstance(node, base)` by the class's MRO, for walks over every node of a tree.

    A jsii class deriving from an abstract one (every L1 from `CfnResource`, most L2s from
    `Resource`) has `ABCMeta` as metaclass, whose `isinstance` on a miss walks every loaded
    subclass of `base` (hundreds for `CfnResource`), recursively, and keeps a weak reference
    to the class in each one's cache: thousands per synth, paid again at exit. jsii registers
    no virtual subclasses, so the MRO gives the same answer."""
    return base in type(node).__mro__
