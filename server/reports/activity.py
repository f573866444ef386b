"""Escalations raised and answered, and visits ended, per week (pure: no I/O).

- An escalation belongs to the week it was raised in; its time to acknowledge runs from
  being raised to the first of acknowledged or resolved (resolving at once also ends the
  wait). Medians are over the escalations of that week and severity answered so far.
- A visit belongs to the week it ended in (its end time, or its scheduled end when none
  was recorded — the late_sync rule's reading); completed and no-access are counted by
  its current status, late-synced by the late_sync rule (``escalation.late_sync_delay``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from statistics import median
from typing import Any

from server.reports.weeks import Week, find_week

SEVERITIES = ("emergency", "urgent", "routine")
VISIT_OUTCOMES = ("completed", "no_access")


@dataclass(frozen=True)
class RaisedEscalation:
    severity: str
    raised_at: datetime
    answered_at: datetime | None


@dataclass(frozen=True)
class EndedVisit:
    status: str
    ended_at: datetime
    late_synced: bool


def _minutes(values: list[float]) -> float | None:
    return round(median(values), 1) if values else None


def _escalation_summary(items: Sequence[RaisedEscalation]) -> dict[str, Any]:
    raised = {s: sum(1 for e in items if e.severity == s) for s in SEVERITIES}
    waits = {s: [(e.answered_at - e.raised_at).total_seconds() / 60 for e in items
                 if e.severity == s and e.answered_at is not None] for s in SEVERITIES}
    return {
        "raised": {**raised, "total": len(items)},
        "acknowledged": {s: len(waits[s]) for s in SEVERITIES},
        "median_minutes_to_acknowledge": {s: _minutes(waits[s]) for s in SEVERITIES},
    }


def escalations_by_week(escalations: Sequence[RaisedEscalation],
                        weeks: Sequence[Week]) -> dict[str, Any]:
    """Raised per week by severity, and median minutes to acknowledge by severity."""
    placed = [(find_week(list(weeks), e.raised_at), e) for e in escalations]
    in_range = [e for week, e in placed if week is not None]
    rows = [{**week.describe(),
             **_escalation_summary([e for w, e in placed if w == week])} for week in weeks]
    return {"weeks": rows, "all_weeks": _escalation_summary(in_range)}


def visits_by_week(visits: Sequence[EndedVisit], weeks: Sequence[Week]) -> list[dict[str, Any]]:
    """Completed, no-access and late-synced visits per week they ended in."""
    rows = []
    for week in weeks:
        ended = [v for v in visits if week.contains(v.ended_at)]
        rows.append({**week.describe(),
                     **{status: sum(1 for v in ended if v.status == status)
                        for status in VISIT_OUTCOMES},
                     "late_synced": sum(1 for v in ended if v.late_synced)})
    return rows
