"""Strict marshmallow fields for synced clinical records, with messages a nurse understands.

Invariants:
- types are strict: JSON booleans only for yes/no (never ``"yes"`` or ``1``), JSON
  numbers only for numbers (never ``"12"``), so a client bug is caught, not guessed at;
- every field deserialises straight to its JSON-ready stored form: dates
  ``YYYY-MM-DD``; times ISO 8601 in UTC with a fixed-width offset
  (``2026-11-24T09:00:00.000000+00:00``, the server's own format, so text order is time
  order); NHS numbers as 10 digits; postcodes upper case with one space;
- text is stripped of surrounding whitespace; required text may not be blank.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from marshmallow import ValidationError, fields

from server.clinical import nhs_number

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIME_OF_DAY = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
_IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")
_POSTCODE = re.compile(r"([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})")
_PHONE = re.compile(r"\+?[0-9 ()-]{6,24}")


class RecordField(fields.Field):  # type: ignore[type-arg]
    """Base: the 'required' and 'null' messages every record field shares."""

    default_error_messages = {
        "required": "Required.",
        "null": "Required: this cannot be left empty.",
    }


class Boolean(RecordField):
    default_error_messages = {"invalid": "Answer yes or no (true or false)."}

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class Integer(RecordField):
    default_error_messages = {
        "invalid": "Enter a whole number.",
        "range": "Must be between {min} and {max}.",
    }

    def __init__(self, *, minimum: int, maximum: int, **kwargs: Any):
        super().__init__(**kwargs)
        self.minimum, self.maximum = minimum, maximum

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.make_error("invalid")
        if not self.minimum <= value <= self.maximum:
            raise self.make_error("range", min=self.minimum, max=self.maximum)
        return value


class Number(RecordField):
    default_error_messages = {
        "invalid": "Enter a number.",
        "range": "Must be between {min} and {max}.",
    }

    def __init__(self, *, minimum: float, maximum: float, **kwargs: Any):
        super().__init__(**kwargs)
        self.minimum, self.maximum = minimum, maximum

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> float | int:
        if (isinstance(value, bool) or not isinstance(value, int | float)
                or not math.isfinite(value)):
            raise self.make_error("invalid")
        if not self.minimum <= value <= self.maximum:
            raise self.make_error("range", min=self.minimum, max=self.maximum)
        return value


class Text(RecordField):
    default_error_messages = {
        "invalid": "Enter text.",
        "blank": "Required: this cannot be left blank.",
        "too_long": "Too long: at most {max} characters (this has {length}).",
    }

    def __init__(self, *, max_length: int, blank: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        self.max_length, self.blank = max_length, blank

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        text = value.strip()
        if not text and not self.blank:
            raise self.make_error("blank")
        if len(text) > self.max_length:
            raise self.make_error("too_long", max=self.max_length, length=len(text))
        return text


class Choice(RecordField):
    default_error_messages = {"invalid": "Choose one of: {choices}."}

    def __init__(self, choices: Iterable[str], **kwargs: Any):
        super().__init__(**kwargs)
        self.choices = tuple(choices)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        if value not in self.choices:
            raise self.make_error("invalid", choices=", ".join(self.choices))
        return str(value)


class Identifier(RecordField):
    """A record or user id (clients make UUIDs; letters, digits and ``_.:-`` accepted)."""

    default_error_messages = {"invalid": "Not a valid record id."}

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str) or not _IDENTIFIER.fullmatch(value):
            raise self.make_error("invalid")
        return value


# Years outside this window are typing errors ("0026" for "2026"), and keep every time
# convertible to UTC without overflow.
YEARS = (1880, 2200)
_YEAR_MESSAGE = "Check the year: it must be between 1880 and 2200."


class Date(RecordField):
    default_error_messages = {"invalid": "Enter a real date as YYYY-MM-DD (e.g. 2026-11-24).",
                              "year": _YEAR_MESSAGE}

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str) or not _DATE.fullmatch(value):
            raise self.make_error("invalid")
        try:
            day = date.fromisoformat(value)
        except ValueError as exc:
            raise self.make_error("invalid") from exc
        if not YEARS[0] <= day.year <= YEARS[1]:
            raise self.make_error("year")
        return day.isoformat()


class DateTime(RecordField):
    default_error_messages = {
        "invalid": "Enter a date and time in ISO 8601 with its offset "
                   "(e.g. 2026-11-24T09:30:00+00:00).",
        "naive": "Add the time zone offset (e.g. +00:00 or Z): without it the time is "
                 "ambiguous.",
        "year": _YEAR_MESSAGE,
    }

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str) or len(value) < 16 or not _DATE.match(value):
            raise self.make_error("invalid")
        try:
            moment = datetime.fromisoformat(value)
        except ValueError as exc:
            raise self.make_error("invalid") from exc
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise self.make_error("naive")
        if not YEARS[0] <= moment.year <= YEARS[1]:
            raise self.make_error("year")
        return to_utc_text(moment)


def to_utc_text(moment: datetime) -> str:
    """The stored time format (matches ``server.clock.iso``)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


class TimeOfDay(RecordField):
    default_error_messages = {"invalid": "Enter a time as HH:MM on the 24-hour clock "
                                         "(e.g. 09:30)."}

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str) or not _TIME_OF_DAY.fullmatch(value):
            raise self.make_error("invalid")
        return value


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


class Timezone(RecordField):
    default_error_messages = {"invalid": "Choose a time zone by its IANA name "
                                         "(e.g. Europe/London)."}

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str) or value not in _zones():
            raise self.make_error("invalid")
        return value


class DaysOfWeek(RecordField):
    default_error_messages = {
        "invalid": "Choose days as numbers 1 (Monday) to 7 (Sunday).",
        "empty": "Choose at least one day.",
        "repeated": "Each day can be chosen once.",
    }

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> list[int]:
        if not isinstance(value, list) or not all(
            isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= 7 for d in value
        ):
            raise self.make_error("invalid")
        if not value:
            raise self.make_error("empty")
        if len(set(value)) != len(value):
            raise self.make_error("repeated")
        return sorted(value)


class IdentifierList(RecordField):
    default_error_messages = {
        "invalid": "Give a list of user ids.",
        "empty": "Choose at least one person.",
        "repeated": "Each person can be listed once.",
        "too_many": "At most {max} people.",
    }

    def __init__(self, *, max_items: int, **kwargs: Any):
        super().__init__(**kwargs)
        self.max_items = max_items

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> list[str]:
        if not isinstance(value, list) or not all(
            isinstance(v, str) and _IDENTIFIER.fullmatch(v) for v in value
        ):
            raise self.make_error("invalid")
        if not value:
            raise self.make_error("empty")
        if len(set(value)) != len(value):
            raise self.make_error("repeated")
        if len(value) > self.max_items:
            raise self.make_error("too_many", max=self.max_items)
        return list(value)


class TextList(RecordField):
    default_error_messages = {
        "invalid": "Give a list of short texts (each 1 to {length} characters).",
        "too_many": "At most {max} items.",
    }

    def __init__(self, *, max_items: int, max_length: int, **kwargs: Any):
        super().__init__(**kwargs)
        self.max_items, self.max_length = max_items, max_length

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.make_error("invalid", length=self.max_length)
        items = [v.strip() for v in value]
        if not all(0 < len(v) <= self.max_length for v in items):
            raise self.make_error("invalid", length=self.max_length)
        if len(items) > self.max_items:
            raise self.make_error("too_many", max=self.max_items)
        return items


class NhsNumber(RecordField):
    """Spaces and hyphens allowed in input; stored as 10 digits (Modulus 11 checked)."""

    default_error_messages = {"invalid": "Enter the NHS number as text."}

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        try:
            return nhs_number.validate(value)
        except nhs_number.InvalidNhsNumber as exc:
            raise ValidationError(exc.message) from exc


class Postcode(RecordField):
    default_error_messages = {"invalid": "Enter a UK postcode (e.g. LS1 4AP)."}

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        match = _POSTCODE.fullmatch(value.strip().upper())
        if not match:
            raise self.make_error("invalid")
        return f"{match.group(1)} {match.group(2)}"


class Phone(RecordField):
    default_error_messages = {"invalid": "Enter a phone number: digits, spaces, brackets, "
                                         "hyphens and a leading +."}

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str) or not _PHONE.fullmatch(value.strip()):
            raise self.make_error("invalid")
        return value.strip()


class ChoiceMap(RecordField):
    """An object whose keys and values come from fixed lists (missing keys get a default)."""

    default_error_messages = {
        "invalid": "Give an object of {keys}.",
        "unknown_key": "Unknown item {key!r}; known: {keys}.",
        "bad_value": "{key}: choose one of {values}.",
    }

    def __init__(self, keys: Iterable[str], values: Iterable[str], fallback: str,
                 **kwargs: Any):
        super().__init__(**kwargs)
        self.keys, self.values, self.fallback = tuple(keys), tuple(values), fallback

    def _deserialize(self, value: Any, attr: Any, data: Any,
                     **kwargs: Any) -> dict[str, str]:
        keys = ", ".join(self.keys)
        if not isinstance(value, Mapping):
            raise self.make_error("invalid", keys=keys)
        problems = []
        for key, item in value.items():
            if key not in self.keys:
                problems.append(str(self.error_messages["unknown_key"]).format(key=key, keys=keys))
            elif item not in self.values:
                problems.append(str(self.error_messages["bad_value"]).format(
                    key=key, values=", ".join(self.values)))
        if problems:
            raise ValidationError(problems)
        return {key: value.get(key, self.fallback) for key in self.keys}
