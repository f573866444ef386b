"""Scheduled reminders (SPEC §6): when each occurrence is due, and sending it exactly once.

Invariants:
- occurrences are computed in the reminder's own IANA zone (zoneinfo, PEP 495 ``fold=0``):
  a wall time that does not exist because the clocks went forward fires at the same
  offset after the gap (01:30 on 29 March 2026 in London fires at 02:30 BST); a wall
  time that happens twice because the clocks went back fires once, at the first (BST);
- at most one occurrence per reminder per local date: the UNIQUE (reminder_id,
  local_date) row in ``reminder_occurrences`` is the claim, taken with INSERT … ON
  CONFLICT DO NOTHING inside ``BEGIN IMMEDIATE``; only the scheduler whose INSERT made
  the row sends, so two scheduler processes never both send one;
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

Every function takes ``now`` (an aware UTC datetime), so tests control the clock.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from server.clock import iso
from server.db import write_transaction
from server.notify import Pusher, PushJob, deliver, subscriptions_for_users, topic_for

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


# -- the database side --------------------------------------------------------------


@dataclass
class TickReport:
    """What one pass over the due reminders did."""

    claimed: int = 0
    sent: int = 0
    failed: int = 0
    no_subscribers: int = 0
    missed: int = 0
    skipped: int = 0
    abandoned: int = 0
    deliveries: int = 0
    delivered: int = 0
    sent_ids: list[str] = field(default_factory=list)


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


def load_reminders(conn: sqlite3.Connection, default_zone: str = DEFAULT_TIMEZONE
                   ) -> list[tuple[Reminder, bool]]:
    """Active, live reminders of live patients, each with the patient's sharing objection."""
    rows = conn.execute(
        "SELECT r.id, r.data, json_extract(p.data, '$.sharing_objection') AS objection"
        " FROM records r JOIN records p"
        "   ON p.entity = 'patient' AND p.id = r.patient_id AND p.deleted = 0"
        " WHERE r.entity = 'reminder' AND r.deleted = 0"
    ).fetchall()
    found, bad = [], 0
    for row in rows:
        try:
            reminder = Reminder.from_record(row["id"], json.loads(row["data"]), default_zone)
        except (BadReminder, ValueError):
            bad += 1
            continue
        if reminder.active:
            found.append((reminder, bool(row["objection"])))
    if bad:
        log.warning("%d reminder(s) have a schedule that cannot be read; they do not fire", bad)
    return found


def goal_done_on(conn: sqlite3.Connection, patient_id: str, goal_id: str, local_date: date) -> bool:
    """A non-voided goal_log with done=true for this goal on this local date exists."""
    row = conn.execute(
        "SELECT 1 FROM records WHERE entity = 'goal_log' AND deleted = 0 AND patient_id = ?"
        " AND json_extract(data, '$.goal_id') = ? AND json_extract(data, '$.date') = ?"
        " AND json_extract(data, '$.done') = 1"
        " AND coalesce(json_extract(data, '$.entered_in_error'), 0) = 0 LIMIT 1",
        (patient_id, goal_id, local_date.isoformat()),
    ).fetchone()
    return row is not None


def eligible_recipients(conn: sqlite3.Connection, reminder: Reminder, objection: bool) -> list[str]:
    """The reminder's recipients who may still receive it (see module invariants)."""
    allowed = []
    for user_id in dict.fromkeys(reminder.recipient_ids):
        user = conn.execute(
            "SELECT role, patient_id FROM users WHERE id = ? AND active = 1", (user_id,)
        ).fetchone()
        if user is None:
            continue
        if user["role"] == "patient" and user["patient_id"] == reminder.patient_id:
            allowed.append(user_id)
        elif user["role"] == "carer" and not objection and _carer_linked(
            conn, reminder.patient_id, user_id
        ):
            allowed.append(user_id)
    return allowed


def _carer_linked(conn: sqlite3.Connection, patient_id: str, carer_id: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM records WHERE entity = 'carer_link' AND deleted = 0 AND patient_id = ?"
        " AND json_extract(data, '$.carer_user_id') = ? AND json_extract(data, '$.active') = 1"
        " LIMIT 1",
        (patient_id, carer_id),
    ).fetchone()
    return row is not None


def default_instance_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def claim_due(
    conn: sqlite3.Connection,
    now: datetime,
    settings: ReminderSettings,
    instance: str,
    report: TickReport,
) -> list[tuple[Occurrence, bool]]:
    """Claim every due, unclaimed occurrence; record missed/skipped ones; return ours to send.

    Each returned occurrence comes with the patient's sharing objection flag.
    """
    candidates = [
        (occ, objection)
        for reminder, objection in load_reminders(conn, settings.default_zone)
        for occ in occurrences_between(reminder, now - settings.lookback, now)
    ]
    if not candidates:
        return []
    oldest = min(occ.local_date for occ, _ in candidates).isoformat()
    seen = {
        (row[0], row[1])
        for row in conn.execute(
            "SELECT reminder_id, local_date FROM reminder_occurrences WHERE local_date >= ?",
            (oldest,),
        )
    }
    fresh = [(o, obj) for o, obj in candidates
             if (o.reminder.id, o.local_date.isoformat()) not in seen]
    mine: list[tuple[Occurrence, bool]] = []
    if not fresh:
        return mine
    stamp = iso(now)
    with write_transaction(conn):
        for occ, objection in fresh:
            if now - occ.due_at > settings.missed_after:
                status = "missed"
            elif occ.reminder.goal_id and goal_done_on(
                conn, occ.reminder.patient_id, occ.reminder.goal_id, occ.local_date
            ):
                status = "skipped"
            else:
                status = "claimed"
            cursor = conn.execute(
                "INSERT INTO reminder_occurrences (id, reminder_id, local_date, due_at, status,"
                " claimed_by, claimed_at, finished_at) VALUES (?,?,?,?,?,?,?,?)"
                " ON CONFLICT DO NOTHING",
                (occ.id, occ.reminder.id, occ.local_date.isoformat(), iso(occ.due_at), status,
                 instance, stamp, None if status == "claimed" else stamp),
            )
            if cursor.rowcount != 1:
                continue  # another scheduler got there first
            if status == "claimed":
                report.claimed += 1
                mine.append((occ, objection))
            elif status == "missed":
                report.missed += 1
            else:
                report.skipped += 1
    return mine


def reminder_payload(occ: Occurrence) -> dict[str, str]:
    return {"type": "reminder", "title": occ.reminder.title, "body": occ.reminder.body,
            "url": "/goals", "id": occ.id}


def send_claimed(
    conn: sqlite3.Connection,
    pusher: Pusher,
    claimed: Iterable[tuple[Occurrence, bool]],
    now: datetime,
    settings: ReminderSettings,
    report: TickReport,
) -> None:
    """Fan every claimed occurrence out to its recipients' subscriptions; close the claims."""
    claimed = list(claimed)
    recipients = {occ.id: eligible_recipients(conn, occ.reminder, objection)
                  for occ, objection in claimed}
    subscriptions: dict[str, list[Any]] = {}
    for sub in subscriptions_for_users(conn, {u for ids in recipients.values() for u in ids}):
        subscriptions.setdefault(sub.user_id or "", []).append(sub)
    jobs = [
        PushJob("reminder", occ.id, sub, reminder_payload(occ), settings.ttl, "normal",
                topic_for("reminder", occ.reminder.id))
        for occ, _ in claimed
        for user_id in recipients[occ.id]
        for sub in subscriptions.get(user_id, [])
    ]
    tally: dict[str, list[int]] = {occ.id: [0, 0] for occ, _ in claimed}
    for job, outcome in deliver(conn, pusher, jobs):
        counts = tally[job.notification_id]
        counts[0] += 1
        counts[1] += outcome.delivered
    report.deliveries += sum(c[0] for c in tally.values())
    report.delivered += sum(c[1] for c in tally.values())
    rows = []
    for occ_id, (tried, delivered) in tally.items():
        status = "sent" if delivered else ("failed" if tried else "no_subscribers")
        setattr(report, status, getattr(report, status) + 1)
        if status == "sent":
            report.sent_ids.append(occ_id)
        rows.append((status, iso(now), tried, delivered, occ_id))
    with write_transaction(conn):
        conn.executemany(
            "UPDATE reminder_occurrences SET status = ?, finished_at = ?, subscriptions = ?,"
            " delivered = ? WHERE id = ? AND status = 'claimed'",
            rows,
        )


def abandon_stale_claims(conn: sqlite3.Connection, now: datetime, settings: ReminderSettings
                         ) -> int:
    """Close claims whose sender died mid-send; they are not re-sent (at most once)."""
    cutoff = iso(now - settings.claim_lease)
    stale = conn.execute(
        "SELECT 1 FROM reminder_occurrences WHERE status = 'claimed' AND claimed_at < ? LIMIT 1",
        (cutoff,),
    ).fetchone()
    if stale is None:  # the common case: no write lock taken
        return 0
    with write_transaction(conn):
        cursor = conn.execute(
            "UPDATE reminder_occurrences SET status = 'abandoned', finished_at = ?"
            " WHERE status = 'claimed' AND claimed_at < ?",
            (iso(now), cutoff),
        )
    return cursor.rowcount


def run_due(
    conn: sqlite3.Connection,
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
    report.abandoned = abandon_stale_claims(conn, now, settings)
    claimed = claim_due(conn, now, settings, instance or default_instance_name(), report)
    if claimed:
        send_claimed(conn, pusher, claimed, now, settings, report)
    return report
