"""How both backends store moments: ISO 8601 text in UTC, microseconds, fixed width, so
comparing the text orders the moments (the server's ``iso()`` writes the same form)."""

from __future__ import annotations

from datetime import UTC, datetime


def to_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def from_text(text: str) -> datetime:
    return datetime.fromisoformat(text)


def maybe(text: str | None) -> datetime | None:
    """``from_text`` for a nullable column."""
    return None if text is None else datetime.fromisoformat(text)
