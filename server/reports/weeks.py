"""Report weeks: ISO weeks (Monday to Sunday) in the service's time zone, Europe/London.

A week runs from Monday 00:00 UK time to the next Monday 00:00 (so 167 or 169 hours
across a clock change). The last of a report's weeks is the one "now" falls in; it is
reported to date, and its end for snapshots is "now", not the coming Sunday night.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SERVICE_ZONE = ZoneInfo("Europe/London")
REPORT_WEEKS = 12


@dataclass(frozen=True)
class Week:
    """One ISO week: ``start`` inclusive, ``end`` exclusive, both UTC instants."""

    monday: date
    start: datetime
    end: datetime

    @property
    def label(self) -> str:
        year, week, _ = self.monday.isocalendar()
        return f"{year}-W{week:02d}"

    def as_of(self, now: datetime) -> datetime:
        """The moment a snapshot of this week is taken: its end, or now if sooner."""
        return min(self.end, now)

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def describe(self) -> dict[str, str]:
        """The week as report rows carry it: ISO label, first and last day (UK dates)."""
        return {"week": self.label, "start": self.monday.isoformat(),
                "end": (self.monday + timedelta(days=6)).isoformat()}


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=SERVICE_ZONE).astimezone(UTC)


def week_of(day: date) -> Week:
    monday = day - timedelta(days=day.weekday())
    return Week(monday, _local_midnight(monday), _local_midnight(monday + timedelta(days=7)))


def last_weeks(now: datetime, count: int = REPORT_WEEKS) -> list[Week]:
    """The ``count`` weeks ending with the one ``now`` is in, oldest first."""
    current = week_of(now.astimezone(SERVICE_ZONE).date())
    return [week_of(current.monday - timedelta(weeks=back)) for back in range(count - 1, -1, -1)]


def find_week(weeks: list[Week], moment: datetime) -> Week | None:
    """The week a moment falls in, if it is one of these."""
    return next((week for week in weeks if week.contains(moment)), None)
