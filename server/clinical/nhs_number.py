"""NHS number: normalise input and check it with Modulus 11 (SPEC §4, NHS Data Dictionary).

Rule: digits 1–9 are multiplied by weights 10…2 and summed; check = 11 − (sum mod 11);
a check of 11 becomes 0; a check of 10 means no such number is ever issued (invalid);
otherwise the check must equal digit 10.

Invariants: only spaces and hyphens are ignored in input (``943 476 5919``,
``943-476-5919``); any other character is an error, never silently dropped; a valid number
is returned as exactly 10 ASCII digits. Weights and messages come from
``instruments/nhs_number.json``, shared with the PWA.
"""

from __future__ import annotations

import re

from server.clinical import instruments
from server.clinical.text import fill

_DIGITS = re.compile(r"[0-9]+")


class InvalidNhsNumber(ValueError):
    """An NHS number is malformed or fails the Modulus 11 check."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def normalise(raw: str) -> str:
    """Drop the spaces and hyphens people type between digit groups."""
    ignored = instruments.load("nhs_number")["ignore_characters"]
    return "".join(ch for ch in raw if ch not in ignored)


def check_digit(first_nine: str) -> int | None:
    """The check digit for nine digits, or None when it would be 10 (never issued)."""
    weights: list[int] = instruments.load("nhs_number")["weights"]
    if len(first_nine) != len(weights) or not _DIGITS.fullmatch(first_nine):
        raise ValueError("check_digit needs exactly nine digits")
    total = sum(int(digit) * weight for digit, weight in zip(first_nine, weights, strict=True))
    check = 11 - total % 11
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def problem(raw: str) -> tuple[str, str] | None:
    """``(code, message)`` saying what is wrong with ``raw``, or None if it is valid."""
    spec = instruments.load("nhs_number")
    messages: dict[str, str] = spec["messages"]
    digits = normalise(raw)
    if digits == "":
        return "empty", messages["empty"]
    if not _DIGITS.fullmatch(digits):
        return "not_digits", messages["not_digits"]
    if len(digits) != spec["length"]:
        return "wrong_length", fill(messages["wrong_length"], {"length": len(digits)})
    expected = check_digit(digits[:9])
    if expected is None:
        return "check_digit_10", messages["check_digit_10"]
    if expected != int(digits[9]):
        return "check_digit_mismatch", messages["check_digit_mismatch"]
    return None


def validate(raw: str) -> str:
    """The number as 10 digits; raises :class:`InvalidNhsNumber` with a clear message."""
    found = problem(raw)
    if found is not None:
        raise InvalidNhsNumber(*found)
    return normalise(raw)


def is_valid(raw: str) -> bool:
    return problem(raw) is None


def format_for_display(digits: str) -> str:
    """``9434765919`` → ``943 476 5919`` (the 3-3-4 grouping NHS staff read)."""
    number = validate(digits)
    return f"{number[:3]} {number[3:6]} {number[6:]}"
