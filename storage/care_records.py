"""Typed queries over synced care records for the escalation rules and reminders.

The records are the sync engine's (written only through it); these are read-only
look-ups, plus the one write that claims a scheduler finding. "Live" means not deleted;
"voided" means ``entered_in_error`` (append-only records, SPEC §2). Every query that
yields work for a patient skips patients who are no longer live records.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class OpenEscalation:
    """An open, live escalation record and its fields."""

    id: str
    data: dict[str, Any]


@dataclass(frozen=True)
class MissedVisit:
    """A live visit still ``scheduled`` after its end."""

    visit_id: str
    patient_id: str
    scheduled_start: str | None
    scheduled_end: str


@dataclass(frozen=True)
class LapsedGoal:
    """An active goal not logged since ``since`` (its last live log's date, or its start
    date when never logged: ``logged`` says which)."""

    goal_id: str
    patient_id: str
    since: str
    logged: bool


@dataclass(frozen=True)
class ReminderRecord:
    """A live, active reminder of a live patient, with that patient's sharing objection."""

    id: str
    data: dict[str, Any]
    sharing_objection: bool


class CareRecordQueries(Protocol):
    """Queries the escalation rules and the reminder sender make over synced records."""

    def open_escalation(self, patient_id: str, rule: str,
                        source_id: str | None = None) -> OpenEscalation | None:
        """The patient's open escalation of this rule (of this source record, when
        ``source_id`` is given); the lowest id if there are several."""
        ...

    def previous_activation_level(self, patient_id: str, score_id: str,
                                  assessed_at: str | None) -> int | None:
        """The level of the patient's latest live, not voided activation score other than
        ``score_id`` assessed at or before ``assessed_at`` (ties: the later write)."""
        ...

    def missed_visits(self, ended_by: datetime, ended_after: datetime) -> list[MissedVisit]:
        """Visits still scheduled whose scheduled end is in (ended_after, ended_by], not
        yet raised for that end; by visit id."""
        ...

    def lapsed_goals(self, on_or_before: date) -> list[LapsedGoal]:
        """Active goals whose ``since`` is on or before this date, not yet raised for that
        date; by goal id."""
        ...

    def record_escalation_finding(self, rule: str, source_id: str, marker: str,
                                  escalation_id: str, now: datetime) -> None:
        """Remember that (rule, source, marker) was raised, so the scans above skip it."""
        ...

    def active_reminders(self) -> list[ReminderRecord]:
        """Live reminders not set ``active: false``, of live patients."""
        ...

    def goal_done_on(self, patient_id: str, goal_id: str, local_date: date) -> bool:
        """A live, not voided goal_log with ``done: true`` for this goal on this date."""
        ...
