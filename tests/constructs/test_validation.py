"""The shared prop checks: whole numbers through check_number, one shape of fixed options."""

from __future__ import annotations

import math
from typing import Any

import aws_cdk as cdk
import pytest

from secure_constructs import ValidationError
from secure_constructs.validation import check_number, refuse_fixed_options

TOKEN = cdk.Token.as_number({"Ref": "Size"})


@pytest.mark.parametrize("value", [1.5, "3", None, True, math.nan, math.inf, 0, 11])
def test_fails_when_a_whole_number_is_not_one_in_range(value: Any) -> None:
    with pytest.raises(ValidationError, match=r"^size=.*a (finite )?whole number of MiB from 1"):
        check_number("size", value, 1, 10, unit="MiB", whole=True)


@pytest.mark.parametrize("value", [1, 10, 5])
def test_whole_numbers_in_range_pass(value: int) -> None:
    check_number("size", value, 1, 10, unit="MiB", whole=True)


def test_a_number_token_passes_unless_tokens_are_refused() -> None:
    check_number("size", TOKEN, 1, 10, whole=True)
    with pytest.raises(ValidationError, match=r"^size=.*a whole number from 1 to 10"):
        check_number("size", TOKEN, 1, 10, whole=True, tokens=False)


def test_own_wording_replaces_the_generated_one() -> None:
    with pytest.raises(ValidationError, match=r"^n=-1 is not allowed: at least none\. Fix: do x"):
        check_number("n", -1, 0, math.inf, whole=True, allowed="at least none", fix="do x")


def test_unbounded_wording_says_at_least() -> None:
    with pytest.raises(ValidationError, match=r"^rate=-1 is not allowed: at least 0 requests"):
        check_number("rate", -1, 0, math.inf, unit="requests")


def test_refuse_fixed_options_names_the_first_fixed_option_passed() -> None:
    fixed = {"a": ("nothing: fixed", "remove a="), "b": ("nothing", "remove b=")}
    refuse_fixed_options({"c": 1}, fixed)
    with pytest.raises(
        ValidationError, match=r"^a=1 is not allowed: nothing: fixed\. Fix: remove a="
    ):
        refuse_fixed_options({"c": 1, "a": 1}, fixed)
