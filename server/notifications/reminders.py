"""Scheduled reminders (SPEC §6): when each occurrence is due, and sending it exactly once.

Invariants:
- occurrences are computed in the reminder's own IANA zone (zoneinfo, PEP 495 ``fold=0``):
  a wall time that does not exist because the clocks went forward fires at the same
  offset after the gap (01:30 on 29 March 2026 in London fires at 02:30 BST); a wall
  time that happens twice because the clocks went back fires once, at the first (BST);
- at most one occurrence per reminder per local date: recording the occurrence is the
  claim (``uow.notifications.claim_reminder_occurrence``, in a write unit of work); only
  the scheduler whose write made the row sends, so two scheduler processes never both
  send one;
- an occurrence found more than REMINDER_MISSED_AFTER_MINUTES late is recorded
  ``missed`` and not sent; one whose goal already has a non-voided ``done`` log for that
  local date is recorded ``skipped``; inactive or deleted reminders (or reminders of a
  deleted patient) never fire;
- a claim whose sender died is never re-sent (status ``abandoned``): a duplicate
  medication reminder is a worse harm than a lost one;
- recipients are checked at send time: a patient account linked to the patient, or a
  carer with an active carer link (and no sharing objection). Anyone else gets nothing;
- the payload is ``{type: "reminder", title, body, url: "/goals", id: <occurrence id>}``:
  the patient's own words, nothing added.

Sending is the notification pipeline (``server/notifications/pipeline.py``) with
:class:`ReminderDelivery` as its policy. Every function takes ``now`` (an aware UTC
datetime), so tests control the clock.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from server.notifications.pipeline import Message, PassReport, Tally, run_pass
from server.notifications.webpush import Pusher, topic_for
from storage import Storage, UnitOfWork
from storage.notifications import FinishedNotice, ReminderOccurrence

log = logging.getLogger("doorstep.reminders")

DEFAULT_TIMEZONE = "Europe/London"
OCCURRENCE_NAMESPACE = uuid.UUID("0b9cbd0e-2f4e-5d1c-9a51-6d6f6f727374")


class BadReminder(ValueError):
    """A reminder record whose schedule cannot be understood."""


@dataclass(frozen=True)
class Reminder:
    """The schedule-relevant fields of a reminder record."""

    id: str
    patient_id: str
    recipient_ids: tuple[str, ...]
    title: str
    body: str
    time_of_day: time
    days_of_week: frozenset[int]
    zone: ZoneInfo
    start_date: date | None = None
    end_date: date | None = None
    goal_id: str | None = None
    active: bool = True

    @classmethod
    def from_record(cls, record_id: str, data: Mapping[str, Any],
                    default_zone: str = DEFAULT_TIMEZONE) -> Reminder:
        try:
            hours, minutes = str(data["time_of_day"]).split(":")
            at = time(int(hours), int(minutes))
            listed = data.get("days_of_week")
            days = frozenset(int(d) for d in (range(1, 8) if listed is None else listed))
            if not days <= set(range(1, 8)):
                raise ValueError("days_of_week must be ISO 1-7")
            zone = ZoneInfo(data.get("timezone") or default_zone)
            start = date.fromisoformat(data["start_date"]) if data.get("start_date") else None
            end = date.fromisoformat(data["end_date"]) if data.get("end_date") else None
        except (KeyError, TypeError, ValueError, ZoneInfoNotFoundError) as exc:
            raise BadReminder(str(exc)) from exc
        return cls(
            id=record_id,
            patient_id=str(data.get("patient_id") or ""),
            recipient_ids=tuple(str(r) for r in data.get("recipient_ids") or ()),
            title=str(data.get("title") or ""),
            body=str(data.get("body") or ""),
            time_of_day=at,
            days_of_week=days,
            zone=zone,
            start_date=start,
            end_date=end,
            goal_id=str(data["goal_id"]) if data.get("goal_id") else None,
            active=data.get("active", True) is not False,
        )

    def scheduled_on(self, local_date: date) -> bool:
        if local_date.isoweekday() not in self.days_of_week:
            return False
        if self.start_date and local_date < self.start_date:
            return False
        return not (self.end_date and local_date > self.end_date)

    def due_at(self, local_date: date) -> datetime:
        """The UTC instant of this date's occurrence (gap: after it; fold: the first)."""
        wall = datetime.combine(local_date, self.time_of_day).replace(tzinfo=self.zone, fold=0)
        return wall.astimezone(UTC)


@dataclass(frozen=True)
class Occurrence:
    reminder: Reminder
    local_date: date
    due_at: datetime

    @property
    def id(self) -> str:
        return occurrence_id(self.reminder.id, self.local_date)


def occurrence_id(reminder_id: str, local_date: date) -> str:
    """Deterministic, so every scheduler names an occurrence the same way."""
    return str(uuid.uuid5(OCCURRENCE_NAMESPACE, f"{reminder_id}/{local_date.isoformat()}"))


def occurrences_between(
    reminder: Reminder, after: datetime, until: datetime
) -> Iterator[Occurrence]:
    """Occurrences due in (after, until], both aware datetimes, in time order."""
    if not reminder.active:
        return
    first = after.astimezone(reminder.zone).date() - timedelta(days=1)
    last = until.astimezone(reminder.zone).date() + timedelta(days=1)
    day = first
    while day <= last:
        if reminder.scheduled_on(day):
            due = reminder.due_at(day)
            if after < due <= until:
                yield Occurrence(reminder, day, due)
        day += timedelta(days=1)


# -- sending: the reminder delivery policy ------------------------------------------------


@dataclass
class TickReport(PassReport):
    """What one pass over the due reminders did."""

    no_subscribers: int = 0
    missed: int = 0
    skipped: int = 0
    abandoned: int = 0


@dataclass(frozen=True)
class ReminderSettings:
    missed_after: timedelta = timedelta(minutes=30)
    lookback: timedelta = timedelta(hours=24)
    claim_lease: timedelta = timedelta(minutes=30)
    ttl: int = 4 * 3600
    default_zone: str = DEFAULT_TIMEZONE

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ReminderSettings:
        return cls(
            missed_after=timedelta(minutes=config["REMINDER_MISSED_AFTER_MINUTES"]),
            lookback=timedelta(hours=config["REMINDER_LOOKBACK_HOURS"]),
            claim_lease=timedelta(minutes=config["REMINDER_CLAIM_LEASE_MINUTES"]),
            ttl=config["PUSH_TTL_REMINDER"],
            default_zone=config["REMINDER_DEFAULT_TIMEZONE"],
        )


def load_reminders(uow: UnitOfWork, default_zone: str = DEFAULT_TIMEZONE
                   ) -> list[tuple[Reminder, bool]]:
    """Active, live reminders of live patients, each with the patient's sharing objection."""
    found, bad = [], 0
    for record in uow.care_records.active_reminders():
        try:
            reminder = Reminder.from_record(record.id, record.data, default_zone)
        except (BadReminder, ValueError):
            bad += 1
            continue
        if reminder.active:
            found.append((reminder, record.sharing_objection))
    if bad:
        log.warning("%d reminder(s) have a schedule that cannot be read; they do not fire", bad)
    return found


def default_instance_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def reminder_payload(occ: Occurrence) -> dict[str, str]:
    return {"type": "reminder", "title": occ.reminder.title, "body": occ.reminder.body,
            "url": "/goals", "id": occ.id}


@dataclass
class ReminderDelivery:
    """Reminders as a delivery policy: at most once, to whoever may still receive them.

    ``claim`` records every due occurrence not yet recorded (missed, skipped, or claimed
    to send); a send that reached nobody is ``failed`` (or ``no_subscribers``) and never
    retried: a duplicate medication reminder is a worse harm than a lost one.
    """

    settings: ReminderSettings
    report: TickReport
    notification_type: str = "reminder"

    def claim(self, storage: Storage, now: datetime, instance: str
              ) -> list[tuple[Occurrence, bool]]:
        """Claim every due, unrecorded occurrence; record missed/skipped ones; return ours
        to send, each with the patient's sharing objection flag."""
        settings, report = self.settings, self.report
        with storage.read() as uow:  # the common case finds nothing: no write lock
            candidates = [
                (occ, objection)
                for reminder, objection in load_reminders(uow, settings.default_zone)
                for occ in occurrences_between(reminder, now - settings.lookback, now)
            ]
            if not candidates:
                return []
            seen = uow.notifications.reminder_occurrences_since(
                min(occ.local_date for occ, _ in candidates))
        fresh = [(o, obj) for o, obj in candidates if (o.reminder.id, o.local_date) not in seen]
        mine: list[tuple[Occurrence, bool]] = []
        if not fresh:
            return mine
        with storage.write() as uow:
            for occ, objection in fresh:
                if now - occ.due_at > settings.missed_after:
                    status = "missed"
                elif occ.reminder.goal_id and uow.care_records.goal_done_on(
                    occ.reminder.patient_id, occ.reminder.goal_id, occ.local_date
                ):
                    status = "skipped"
                else:
                    status = "claimed"
                row = ReminderOccurrence(occ.id, occ.reminder.id, occ.local_date, occ.due_at)
                if not uow.notifications.claim_reminder_occurrence(row, status, instance, now):
                    continue  # another scheduler got there first
                if status == "claimed":
                    report.claimed += 1
                    mine.append((occ, objection))
                elif status == "missed":
                    report.missed += 1
                else:
                    report.skipped += 1
        return mine

    def key(self, claim: tuple[Occurrence, bool]) -> str:
        return claim[0].id

    def recipients(self, uow: UnitOfWork, claim: tuple[Occurrence, bool]) -> list[str]:
        """The patient's own account and linked carers among its recipients (see the
        module invariants)."""
        occ, objection = claim
        return uow.notifications.reminder_recipients(
            occ.reminder.patient_id, occ.reminder.recipient_ids, objection)

    def message(self, claim: tuple[Occurrence, bool]) -> Message:
        occ = claim[0]
        return Message(reminder_payload(occ), self.settings.ttl, "normal",
                       topic_for("reminder", occ.reminder.id))

    def finish(self, uow: UnitOfWork, ended: Sequence[tuple[tuple[Occurrence, bool], Tally]],
               now: datetime, instance: str) -> None:
        finished = []
        for (occ, _), tally in ended:
            status = ("sent" if tally.delivered
                      else ("failed" if tally.tried else "no_subscribers"))
            self.report.ended(occ.id, tally, status)
            finished.append(FinishedNotice(occ.id, status, tally.tried, tally.delivered))
        uow.notifications.finish_reminder_occurrences(finished, now)


def abandon_stale_claims(storage: Storage, now: datetime, settings: ReminderSettings) -> int:
    """Close claims whose sender died mid-send; they are not re-sent (at most once)."""
    cutoff = now - settings.claim_lease
    with storage.read() as uow:
        if not uow.notifications.has_stale_reminder_claims(cutoff):
            return 0  # the common case: no write lock taken
    with storage.write() as uow:
        return uow.notifications.abandon_stale_reminder_claims(cutoff, now)


def run_due(
    storage: Storage,
    pusher: Pusher,
    now: datetime,
    settings: ReminderSettings | None = None,
    instance: str | None = None,
) -> TickReport:
    """One scheduler pass: claim what is due, send it, record the rest."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    settings = settings or ReminderSettings()
    report = TickReport()
    report.abandoned = abandon_stale_claims(storage, now, settings)
    run_pass(storage, pusher, ReminderDelivery(settings, report), now,
             instance or default_instance_name())
    return report
