"""prop_values.is_token: Token.is_unresolved's answer, without a round trip where it can."""

from __future__ import annotations

import aws_cdk as cdk
import jsii
import pytest

from secure_constructs.prop_values import is_token


@jsii.implements(cdk.IStableNumberProducer)
class _Three:
    def produce(self, context: cdk.IResolveContext | None = None) -> float:
        return 3


def _tokens() -> list[object]:
    return [
        cdk.Token.as_number(cdk.Aws.ACCOUNT_ID),
        cdk.Token.as_number(cdk.Fn.ref("Param")),
        cdk.Lazy.number(_Three()),
        cdk.Aws.REGION,
        f"arn:{cdk.Aws.PARTITION}:sqs",
    ]


@pytest.mark.parametrize("index", range(5))
def test_every_kind_of_token_is_a_token(index: int) -> None:
    value = _tokens()[index]
    assert cdk.Token.is_unresolved(value)
    assert is_token(value)


@pytest.mark.parametrize("value", [0, 60, -5, 1.5, 1e287, -1e287, True, 10**300, "plain", ""])
def test_a_literal_is_not_a_token(value: object) -> None:
    assert not cdk.Token.is_unresolved(value)
    assert not is_token(value)


def test_an_ordinary_number_costs_no_round_trip(monkeypatch: pytest.MonkeyPatch) -> None:
    def kernel(_: object) -> bool:
        raise AssertionError("asked the kernel")

    monkeypatch.setattr(cdk.Token, "is_unresolved", kernel)
    assert not is_token(900) and not is_token(2.5) and not is_token("x")
    # Token.is_unresolved(inf) or (nan) kills the jsii kernel: never sent
    assert not is_token(float("inf")) and not is_token(float("-inf"))
    assert not is_token(float("nan"))
