"""The server's wall clock, replaceable in tests through ``app.config["CLOCK"]``.

Wall-clock time is used for expiries and schedules only; ordering of changes uses the
changelog sequence, never a clock (ARCHITECTURE habit 5).
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, has_app_context


def utcnow() -> datetime:
    if has_app_context():
        clock = current_app.config.get("CLOCK")
        if clock is not None:
            value: datetime = clock()
            return value
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with offset; fixed width so text comparison orders correctly."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
