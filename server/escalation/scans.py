"""Escalation rules the scheduler finds by scanning at each tick (SPEC §5).

- ``missed_visit``: a visit still ``scheduled`` ESCALATION_MISSED_VISIT_HOURS after its
  ``scheduled_end`` (urgent);
- ``goal_not_logged``: an active goal with no non-voided log for
  ESCALATION_GOAL_NOT_LOGGED_DAYS days, counted from its last log or, before any, its
  start date (routine).

Each finding is claimed by recording it (rule, source, marker) in the same unit of
work that raises it, so it raises once, also with two schedulers; the marker (the
visit's scheduled_end, the goal's last log date) makes a rescheduled visit or a goal
that lapses again a new finding. Sending the notices is
``server/notifications/escalation_notices.py``.

Every function takes ``now`` (an aware UTC datetime), so tests control the clock.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TypeVar

from flask import Flask

from server.database import storage as app_storage
from server.escalation.rules import SERVICE_ZONE, Finding, Settings, local_time, raise_escalation
from server.records import engine as records
from storage import Storage, UnitOfWork
from storage.care_records import LapsedGoal, MissedVisit
from sync import SYSTEM, Mutation, MutationResult, Registry, apply_mutation
from sync.store import Store

Row = TypeVar("Row", MissedVisit, LapsedGoal)


class SystemWriter:
    """Writes server-made records as SYSTEM in the caller's transaction (scheduler rules)."""

    def __init__(self, store: Store, registry: Registry):
        self.store, self.registry = store, registry

    def apply(self, mutation: Mutation) -> MutationResult:
        return apply_mutation(self.store, self.registry, SYSTEM, mutation)


def _raise_findings(storage: Storage, registry: Registry, now: datetime, settings: Settings,
                    rule: str, scan: Callable[[UnitOfWork], Sequence[Row]],
                    finding_for: Callable[[Row], tuple[Finding, str]]) -> list[str]:
    """Raise each new finding of ``scan`` once, recording it as found.

    The scan runs first in a read snapshot (the common case finds nothing); if it finds
    something it runs again inside the write unit of work, so what is raised is what
    holds now, and a second scheduler that got there first has already recorded it.
    """
    with storage.read() as uow:
        if not scan(uow):
            return []
    raised = []
    with storage.write() as uow:
        writer = SystemWriter(uow.store, registry)
        for row in scan(uow):
            finding, marker = finding_for(row)
            escalation_id = raise_escalation(writer, finding, now, settings)
            if escalation_id is None:
                continue
            uow.care_records.record_escalation_finding(rule, finding.source_id, marker,
                                                       escalation_id, now)
            raised.append(escalation_id)
    return raised


def find_missed_visits(storage: Storage, registry: Registry, now: datetime,
                       settings: Settings) -> list[str]:
    """Raise ``missed_visit`` for visits still scheduled long after their end."""
    cutoff = now - settings.missed_visit_after
    oldest = cutoff - settings.missed_visit_lookback

    def finding_for(visit: MissedVisit) -> tuple[Finding, str]:
        reason = (f"The visit scheduled for {local_time(visit.scheduled_start)} to "
                  f"{local_time(visit.scheduled_end)} is still not started or recorded.")
        return (Finding(visit.patient_id, "missed_visit", "urgent", reason, "visit",
                        visit.visit_id), visit.scheduled_end)

    return _raise_findings(storage, registry, now, settings, "missed_visit",
                           lambda uow: uow.care_records.missed_visits(cutoff, oldest),
                           finding_for)


def find_goals_not_logged(storage: Storage, registry: Registry, now: datetime,
                          settings: Settings) -> list[str]:
    """Raise ``goal_not_logged`` for active goals with no log for the configured days."""
    days = settings.goal_not_logged_days
    cutoff = now.astimezone(SERVICE_ZONE).date() - timedelta(days=days)

    def finding_for(goal: LapsedGoal) -> tuple[Finding, str]:
        reason = (f"No log of this goal for {days} days "
                  f"({'last logged' if goal.logged else 'started'} {goal.since}).")
        return (Finding(goal.patient_id, "goal_not_logged", "routine", reason, "goal",
                        goal.goal_id), goal.since)

    return _raise_findings(storage, registry, now, settings, "goal_not_logged",
                           lambda uow: uow.care_records.lapsed_goals(cutoff), finding_for)


def run_escalation_rules(app: Flask, now: datetime) -> dict[str, int]:
    """Tick job: raise the scheduler-found escalations due at ``now``."""
    settings = Settings.from_config(app.config)
    storage, registry = app_storage(app), records.registry()
    missed = find_missed_visits(storage, registry, now, settings)
    lapsed = find_goals_not_logged(storage, registry, now, settings)
    return {"missed_visit": len(missed), "goal_not_logged": len(lapsed)}
