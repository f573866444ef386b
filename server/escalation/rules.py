"""Escalations (SPEC §5): the rules fired when a change is applied, and raising one.

The rules run as the registry's ``after_apply`` hooks (wired in ``server/records/entities.py``),
inside the write transaction of the change that fired them. Invariants:

- an escalation is its own synced record, written through the engine as the SYSTEM
  actor (``ctx.apply``): it syncs to the team's staff and is audited like any record,
  and the server's writes never touch the visit or assessment a nurse is editing;
- voided (``entered_in_error``) and deleted records fire nothing; append-only records
  fire once, on create; visit rules fire on a transition (the status *becomes*
  ``no_access``, the visit *becomes* ended), so edits and re-sends fire nothing;
- one OPEN escalation per (patient, rule, subject): a repeat adds an occurrence and may
  raise the severity (never lower it). The subject is the patient for reports and
  scores (a second fall while the first is open is an occurrence of it) and the visit
  or goal for visit and goal rules. An acknowledged or resolved escalation is left as
  it is and a new event opens a new one (SPEC §2: status only moves forward);
- nothing is sent here: notices are queued (``uow.notifications``) in the same unit of
  work, and sent after it commits (``server/notifications/escalation_notices.py``). The
  hooks reach that unit as ``ctx.store.unit`` and register the first notice there
  (``uow.on_commit``): a web request sends it as soon as its response is out, never if
  the unit rolled back; the scheduler sends whatever is left.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

from server.clock import iso
from server.config import DEFAULTS
from server.notifications import prompt
from storage import UnitOfWork
from storage.care_records import OpenEscalation
from storage.notifications import ScheduledNotice
from sync import Mutation, MutationResult
from sync.store import Store

RULES = ("fall_reported", "falls_risk_high", "falls_risk_intermediate", "activation_low",
         "no_access_visit", "missed_visit", "goal_not_logged", "late_sync")
SEVERITIES = ("routine", "urgent", "emergency")
RANK = {name: rank for rank, name in enumerate(SEVERITIES)}
# Rules whose subject is the patient: repeats while open are occurrences of one escalation.
PER_PATIENT_RULES = frozenset(
    {"fall_reported", "falls_risk_high", "falls_risk_intermediate", "activation_low"}
)
ENDED_VISIT = frozenset({"completed", "no_access"})
# Times in reasons, and the calendar days of goal logs, are the service's local time.
SERVICE_ZONE = ZoneInfo("Europe/London")
REPORTERS = frozenset({"patient", "carer", "nurse", "coordinator"})


@dataclass(frozen=True)
class Settings:
    """The thresholds of SPEC §5 (config keys ``ESCALATION_*``)."""

    missed_visit_after: timedelta
    missed_visit_lookback: timedelta
    goal_not_logged_days: int
    late_sync_after: timedelta
    activation_low_level: int
    activation_drop_levels: int
    renotify_urgent_after: timedelta
    renotify_emergency_every: timedelta
    renotify_emergency_times: int
    renotify_routine_after: timedelta
    send_attempts: int
    claim_lease: timedelta
    ttl: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        return cls(
            missed_visit_after=timedelta(hours=config["ESCALATION_MISSED_VISIT_HOURS"]),
            missed_visit_lookback=timedelta(
                days=config["ESCALATION_MISSED_VISIT_LOOKBACK_DAYS"]),
            goal_not_logged_days=config["ESCALATION_GOAL_NOT_LOGGED_DAYS"],
            late_sync_after=timedelta(hours=config["ESCALATION_LATE_SYNC_HOURS"]),
            activation_low_level=config["ESCALATION_ACTIVATION_LOW_LEVEL"],
            activation_drop_levels=config["ESCALATION_ACTIVATION_DROP_LEVELS"],
            renotify_urgent_after=timedelta(
                minutes=config["ESCALATION_RENOTIFY_URGENT_MINUTES"]),
            renotify_emergency_every=timedelta(
                minutes=config["ESCALATION_RENOTIFY_EMERGENCY_MINUTES"]),
            renotify_emergency_times=config["ESCALATION_RENOTIFY_EMERGENCY_TIMES"],
            renotify_routine_after=timedelta(
                hours=config["ESCALATION_RENOTIFY_ROUTINE_HOURS"]),
            send_attempts=config["ESCALATION_SEND_ATTEMPTS"],
            claim_lease=timedelta(minutes=config["ESCALATION_CLAIM_LEASE_MINUTES"]),
            ttl=config["PUSH_TTL_ESCALATION"],
        )

    def renotify_after(self, severity: str) -> list[timedelta]:
        """Delays, from a notice, of the re-notifications while it stays unacknowledged."""
        if severity == "emergency":
            every = self.renotify_emergency_every
            return [every * n for n in range(1, self.renotify_emergency_times + 1)]
        if severity == "urgent":
            return [self.renotify_urgent_after]
        return [self.renotify_routine_after]


def current_settings() -> Settings:
    """The app's thresholds, or the documented defaults outside an app."""
    return Settings.from_config(current_app.config if has_app_context() else DEFAULTS)


class Writer(Protocol):
    """What raising needs: the store, and a way to write as SYSTEM in its transaction
    (``sync.ApplyContext`` in hooks; ``escalation_jobs.SystemWriter`` for the scheduler)."""

    @property
    def store(self) -> Store: ...

    def apply(self, mutation: Mutation) -> MutationResult: ...


@dataclass(frozen=True)
class Finding:
    """A rule fired: what to raise (or to count as an occurrence)."""

    patient_id: str
    rule: str
    severity: str
    reason: str
    source_entity: str
    source_id: str


def unit_of(store: Store) -> UnitOfWork:
    """The unit of work the engine's transaction belongs to (storage binds every one)."""
    unit: UnitOfWork | None = store.unit
    if unit is None:
        raise RuntimeError("escalation rules need a store bound to a unit of work")
    return unit


def live_data(store: Store, entity: str, record_id: str) -> dict[str, Any] | None:
    """A live record's fields (no scope check), through the engine's store."""
    found = store.get_record(entity, record_id)
    return found.data if found is not None and not found.deleted else None


def find_open(uow: UnitOfWork, finding: Finding) -> OpenEscalation | None:
    """The open escalation this finding repeats, if there is one."""
    per_patient = finding.rule in PER_PATIENT_RULES
    return uow.care_records.open_escalation(finding.patient_id, finding.rule,
                                            None if per_patient else finding.source_id)


def raise_escalation(writer: Writer, finding: Finding, now: datetime,
                     settings: Settings) -> str | None:
    """Open an escalation, or add an occurrence to the open one; returns its id.

    None when the patient is no longer a live record (nobody could act on it).
    """
    uow = unit_of(writer.store)
    patient = live_data(writer.store, "patient", finding.patient_id)
    if patient is None:
        return None
    found = find_open(uow, finding)
    if found is None:
        escalation_id = str(uuid.uuid4())
        writer.apply(Mutation("escalation", escalation_id, "create", {
            "patient_id": finding.patient_id, "team_id": patient["team_id"],
            "rule": finding.rule, "severity": finding.severity, "reason": finding.reason,
            "source_entity": finding.source_entity, "source_id": finding.source_id,
            "status": "open", "occurrences": 1, "raised_at": iso(now), "notified_at": None,
            "acknowledged_by": None, "acknowledged_at": None,
            "resolved_by": None, "resolved_at": None, "resolution_note": None,
        }, base_version=None))
        schedule_notices(uow, escalation_id, "opened", finding.severity, now, settings)
        return escalation_id
    escalation_id, data = found.id, found.data
    fields: dict[str, Any] = {"occurrences": int(data.get("occurrences") or 1) + 1}
    raised = RANK[finding.severity] > RANK.get(data.get("severity", "routine"), 0)
    if raised:
        # The reason follows the most serious occurrence; the others are in the timeline.
        fields.update(severity=finding.severity, reason=finding.reason)
    writer.apply(Mutation("escalation", escalation_id, "update", fields, base_version=None))
    if raised:
        cancel_notices(uow, escalation_id, now)
        # Nobody told yet (e.g. two reports in one sync batch): it is still news.
        told = uow.notifications.escalation_notified_before(escalation_id)
        schedule_notices(uow, escalation_id, "severity_raised" if told else "opened",
                         finding.severity, now, settings)
    return escalation_id


# -- the notification schedule -----------------------------------------------------------


def schedule_notices(uow: UnitOfWork, escalation_id: str, kind: str, severity: str,
                     now: datetime, settings: Settings) -> None:
    """A notice due now, and the re-notifications that follow while unacknowledged; the
    first goes out once ``uow`` has committed (after a web request's response)."""
    notices = [ScheduledNotice(kind, now)]
    notices += [ScheduledNotice("renotify", now + delay)
                for delay in settings.renotify_after(severity)]
    ids = uow.notifications.schedule_escalation_notices(escalation_id, severity, notices, now)
    uow.on_commit(prompt.after_response(ids[:1]))


def cancel_notices(uow: UnitOfWork, escalation_id: str, now: datetime) -> int:
    """Drop the notices not yet sent (acknowledged, resolved, or superseded)."""
    return uow.notifications.cancel_escalation_notices(escalation_id, now)


# -- the rules fired on apply ------------------------------------------------------------


def _fresh(change: Any) -> bool:
    """A new, live, not-voided append-only record."""
    return (change.op == "create" and not change.deleted
            and change.data.get("entered_in_error") is not True)


def _when(change: Any) -> datetime:
    """The server time of the write that fired the rule."""
    return datetime.fromisoformat(change.updated_at)


def local_time(value: Any) -> str:
    """A stored UTC time as staff read it: ``24 Nov 2026 08:10`` (UK time)."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return moment.astimezone(SERVICE_ZONE).strftime("%d %b %Y %H:%M")


def _fire(ctx: Any, change: Any, rule: str, severity: str, reason: str) -> None:
    finding = Finding(change.patient_id, rule, severity, reason, change.entity, change.id)
    raise_escalation(ctx, finding, _when(change), current_settings())


def on_self_report(ctx: Any, change: Any) -> None:
    """fall_reported: urgent; emergency if injured or unable to get up."""
    data = change.data
    if not _fresh(change) or data.get("kind") != "fall":
        return
    injured, stuck = data.get("injured") is True, data.get("unable_to_get_up") is True
    details = [text for flag, text in ((injured, "injured"), (stuck, "unable to get up"))
               if flag]
    who = f" by the {change.origin.role}" if change.origin.role in REPORTERS else ""
    reason = (f"Fall reported{who}, happened {local_time(data.get('happened_at'))}"
              + (": " + ", ".join(details) if details else "") + ".")
    _fire(ctx, change, "fall_reported", "emergency" if details else "urgent", reason)


def on_falls_assessment(ctx: Any, change: Any) -> None:
    """falls_risk_high (urgent) and falls_risk_intermediate (routine)."""
    if not _fresh(change):
        return
    risk = change.data.get("risk_level")
    if risk == "high":
        _fire(ctx, change, "falls_risk_high", "urgent",
              "Falls assessment: high risk. Multifactorial assessment and tailored "
              "intervention recommended.")
    elif risk == "intermediate":
        _fire(ctx, change, "falls_risk_intermediate", "routine",
              "Falls assessment: intermediate risk. Strength and balance exercise "
              "recommended.")


def previous_activation_level(uow: UnitOfWork, change: Any) -> int | None:
    """The level of the patient's latest non-voided score assessed before this one."""
    return uow.care_records.previous_activation_level(change.patient_id, change.id,
                                                      change.data.get("assessed_at"))


def on_activation_score(ctx: Any, change: Any) -> None:
    """activation_low: PAM level at or below the low level, or a drop of ≥ N levels."""
    if not _fresh(change) or change.data.get("level") is None:
        return
    settings = current_settings()
    level = int(change.data["level"])
    before = previous_activation_level(unit_of(ctx.store), change)
    score = change.data.get("score")
    if level <= settings.activation_low_level:
        reason = f"Patient activation level {level} (score {score})."
    elif before is not None and before - level >= settings.activation_drop_levels:
        reason = f"Patient activation fell from level {before} to {level} (score {score})."
    else:
        return
    _fire(ctx, change, "activation_low", "routine", reason)


def on_visit(ctx: Any, change: Any) -> None:
    """no_access_visit (urgent welfare check) and late_sync (routine)."""
    if change.deleted:
        return
    data, before = change.data, change.previous or {}
    if data.get("status") == "no_access" and before.get("status") != "no_access":
        _fire(ctx, change, "no_access_visit", "urgent",
              f"No access at the visit scheduled for {local_time(data.get('scheduled_start'))}: "
              "welfare check needed.")
    if became_ended(data, before):
        late = late_sync_delay(data, _when(change), current_settings())
        if late is not None:
            hours = int(late.total_seconds() // 3600)
            _fire(ctx, change, "late_sync", "routine",
                  f"Visit record reached the server {hours} h after the visit ended "
                  f"({local_time(visit_ended_at(data))}); letters to the GP may be late.")


def became_ended(data: Mapping[str, Any], before: Mapping[str, Any]) -> bool:
    """This version of a visit is the one that ended it (completed or no access)."""
    return data.get("status") in ENDED_VISIT and before.get("status") not in ENDED_VISIT


def visit_ended_at(data: Mapping[str, Any]) -> str | None:
    """When a visit ended: its end time, or the scheduled end if none was recorded."""
    ended = data.get("ended_at") or data.get("scheduled_end")
    return str(ended) if ended else None


def late_sync_delay(data: Mapping[str, Any], arrived: datetime,
                    settings: Settings) -> timedelta | None:
    """late_sync: how long after the visit ended its ending reached the server, when that
    is longer than the rule allows (None when on time or no end is known). The reports'
    "late-synced" count uses this same definition."""
    ended = visit_ended_at(data)
    if ended is None:
        return None
    late = arrived - datetime.fromisoformat(ended)
    return late if late > settings.late_sync_after else None


def on_escalation(ctx: Any, change: Any) -> None:
    """Acknowledged or resolved: no more notices for it."""
    before = change.previous or {}
    if before.get("status") == "open" and change.data.get("status") != "open":
        cancel_notices(unit_of(ctx.store), change.id, _when(change))


# entity -> after_apply hooks; server/records/entities.py adds them to the registry.
HOOKS: dict[str, tuple[Callable[[Any, Any], None], ...]] = {
    "self_report": (on_self_report,),
    "falls_assessment": (on_falls_assessment,),
    "activation_score": (on_activation_score,),
    "visit": (on_visit,),
    "escalation": (on_escalation,),
}
