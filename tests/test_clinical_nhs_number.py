"""NHS number Modulus 11: the shared vectors, plus hand-worked examples from SPEC §4."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from server.clinical import nhs_number

VECTORS = json.loads(
    (Path(__file__).parents[1] / "instruments/vectors/nhs_number.json").read_text("utf-8")
)


@pytest.mark.parametrize("case", VECTORS["cases"], ids=[c["name"] for c in VECTORS["cases"]])
def test_vector(case: dict[str, Any]) -> None:
    found = nhs_number.problem(case["input"])
    expected = case["expected"]
    if expected["valid"]:
        assert found is None
        assert nhs_number.validate(case["input"]) == expected["normalised"]
    else:
        assert found is not None and found[0] == expected["error"]
        with pytest.raises(nhs_number.InvalidNhsNumber) as raised:
            nhs_number.validate(case["input"])
        assert raised.value.code == expected["error"]


def test_worked_example_from_the_data_dictionary() -> None:
    # 9*10 + 4*9 + 3*8 + 4*7 + 7*6 + 6*5 + 5*4 + 9*3 + 1*2 = 299; 299 mod 11 = 2; 11-2 = 9
    assert nhs_number.check_digit("943476591") == 9
    assert nhs_number.is_valid("9434765919")


def test_remainder_zero_gives_eleven_which_becomes_zero() -> None:
    # 9*10 + 9*9 + 9*8 + 5*2 = 253 = 23 * 11
    assert nhs_number.check_digit("999000005") == 0
    assert nhs_number.is_valid("9990000050")


@pytest.mark.parametrize("last", range(10))
def test_check_digit_ten_is_invalid_whatever_the_last_digit(last: int) -> None:
    # 9*10 + 9*9 + 9*8 = 243 = 22*11 + 1, so the check would be 10
    assert nhs_number.check_digit("999000000") is None
    assert nhs_number.problem(f"999000000{last}") is not None


def test_every_single_digit_typo_is_caught() -> None:
    good = "9434765919"
    for position in range(10):
        for digit in "0123456789":
            if digit != good[position]:
                typo = good[:position] + digit + good[position + 1 :]
                assert not nhs_number.is_valid(typo), typo


def test_messages_are_for_people() -> None:
    assert nhs_number.problem("12345") == (
        "wrong_length", "An NHS number has 10 digits; this has 5.")
    with pytest.raises(nhs_number.InvalidNhsNumber, match="typing error"):
        nhs_number.validate("9434765918")


def test_display_format() -> None:
    assert nhs_number.format_for_display("9434765919") == "943 476 5919"


def test_check_digit_needs_nine_digits() -> None:
    with pytest.raises(ValueError):
        nhs_number.check_digit("12345678")
