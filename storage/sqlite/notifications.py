"""The notification queue on SQLite: ``escalation_notifications`` (migration 0005),
``reminder_occurrences`` and ``push_deliveries`` (0003). See storage/notifications.py."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable, Collection, Sequence
from datetime import date, datetime

from storage.notifications import (
    DeliveryRecord,
    DueNotice,
    FinishedNotice,
    ReminderOccurrence,
    ScheduledNotice,
)
from storage.sqlite.push_subscriptions import iso


class SqliteNotifications:
    def __init__(self, conn: sqlite3.Connection, clock: Callable[[], datetime]) -> None:
        self.conn = conn
        self.clock = clock

    # -- escalation notices ----------------------------------------------------------

    def schedule_escalation_notices(self, escalation_id: str, severity: str,
                                    notices: Sequence[ScheduledNotice],
                                    now: datetime) -> list[str]:
        rows = [(str(uuid.uuid4()), notice) for notice in notices]
        self.conn.executemany(
            "INSERT INTO escalation_notifications (id, escalation_id, kind, severity, due_at,"
            " status, created_at) VALUES (?,?,?,?,?,'due',?)",
            [(row_id, escalation_id, notice.kind, severity, iso(notice.due_at), iso(now))
             for row_id, notice in rows],
        )
        return [row_id for row_id, _ in rows]

    def escalation_notified_before(self, escalation_id: str) -> bool:
        return self.conn.execute(
            "SELECT 1 FROM escalation_notifications WHERE escalation_id = ?"
            " AND status NOT IN ('due', 'cancelled') LIMIT 1", (escalation_id,),
        ).fetchone() is not None

    def cancel_escalation_notices(self, escalation_id: str, now: datetime) -> int:
        return self.conn.execute(
            "UPDATE escalation_notifications SET status = 'cancelled', finished_at = ?"
            " WHERE escalation_id = ? AND status = 'due'",
            (iso(now), escalation_id),
        ).rowcount

    def release_stale_escalation_claims(self, claimed_before: datetime) -> int:
        return self.conn.execute(
            "UPDATE escalation_notifications SET status = 'due', claimed_by = NULL"
            " WHERE status = 'claimed' AND claimed_at < ?",
            (iso(claimed_before),),
        ).rowcount

    def due_escalation_notices(self, now: datetime, limit: int,
                               only: Collection[str] | None = None) -> list[DueNotice]:
        sql = ("SELECT id, escalation_id, kind, attempts FROM escalation_notifications"
               " WHERE status = 'due' AND due_at <= ?")
        params: list[object] = [iso(now)]
        if only is not None:
            sql += " AND id IN (SELECT value FROM json_each(?))"
            params.append(json.dumps(sorted(only)))
        rows = self.conn.execute(sql + " ORDER BY due_at, id LIMIT ?", [*params, limit])
        return [DueNotice(r[0], r[1], r[2], r[3]) for r in rows]

    def claim_escalation_notice(self, notice_id: str, instance: str, now: datetime) -> bool:
        return self.conn.execute(
            "UPDATE escalation_notifications SET status = 'claimed', claimed_by = ?,"
            " claimed_at = ?, attempts = attempts + 1 WHERE id = ? AND status = 'due'",
            (instance, iso(now), notice_id),
        ).rowcount == 1

    def cancel_escalation_notice(self, notice_id: str, now: datetime) -> bool:
        return self.conn.execute(
            "UPDATE escalation_notifications SET status = 'cancelled', finished_at = ?"
            " WHERE id = ? AND status = 'due'", (iso(now), notice_id),
        ).rowcount == 1

    def finish_escalation_notices(self, finished: Sequence[FinishedNotice], instance: str,
                                  now: datetime) -> None:
        self.conn.executemany(
            "UPDATE escalation_notifications SET status = ?, finished_at = ?,"
            " subscriptions = ?, delivered = ?"
            " WHERE id = ? AND status = 'claimed' AND claimed_by = ?",
            [(f.status, None if f.status == "due" else iso(now), f.subscriptions,
              f.delivered, f.id, instance) for f in finished],
        )

    # -- reminder occurrences ----------------------------------------------------------

    def reminder_occurrences_since(self, local_date: date) -> set[tuple[str, date]]:
        rows = self.conn.execute(
            "SELECT reminder_id, local_date FROM reminder_occurrences WHERE local_date >= ?",
            (local_date.isoformat(),),
        )
        return {(r[0], date.fromisoformat(r[1])) for r in rows}

    def claim_reminder_occurrence(self, occurrence: ReminderOccurrence, status: str,
                                  instance: str, now: datetime) -> bool:
        stamp = iso(now)
        return self.conn.execute(
            "INSERT INTO reminder_occurrences (id, reminder_id, local_date, due_at, status,"
            " claimed_by, claimed_at, finished_at) VALUES (?,?,?,?,?,?,?,?)"
            " ON CONFLICT DO NOTHING",
            (occurrence.id, occurrence.reminder_id, occurrence.local_date.isoformat(),
             iso(occurrence.due_at), status, instance, stamp,
             None if status == "claimed" else stamp),
        ).rowcount == 1

    def finish_reminder_occurrences(self, finished: Sequence[FinishedNotice],
                                    now: datetime) -> None:
        self.conn.executemany(
            "UPDATE reminder_occurrences SET status = ?, finished_at = ?, subscriptions = ?,"
            " delivered = ? WHERE id = ? AND status = 'claimed'",
            [(f.status, iso(now), f.subscriptions, f.delivered, f.id) for f in finished],
        )

    def has_stale_reminder_claims(self, claimed_before: datetime) -> bool:
        return self.conn.execute(
            "SELECT 1 FROM reminder_occurrences WHERE status = 'claimed' AND claimed_at < ?"
            " LIMIT 1", (iso(claimed_before),),
        ).fetchone() is not None

    def abandon_stale_reminder_claims(self, claimed_before: datetime, now: datetime) -> int:
        return self.conn.execute(
            "UPDATE reminder_occurrences SET status = 'abandoned', finished_at = ?"
            " WHERE status = 'claimed' AND claimed_at < ?",
            (iso(now), iso(claimed_before)),
        ).rowcount

    # -- the delivery log ------------------------------------------------------------------

    def record_deliveries(self, deliveries: Sequence[DeliveryRecord]) -> None:
        self.conn.executemany(
            "INSERT INTO push_deliveries (notification_type, notification_id, subscription_id,"
            " user_id, status, http_status, attempts, error, started_at, finished_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?)",
            [(d.notification_type, d.notification_id, d.subscription_id, d.user_id, d.status,
              d.http_status, d.attempts, d.error, iso(d.started_at), iso(d.finished_at))
             for d in deliveries],
        )

    def prune_delivery_log(self, before: datetime) -> int:
        cutoff = iso(before)
        gone = self.conn.execute("DELETE FROM push_deliveries WHERE finished_at < ?",
                                 (cutoff,)).rowcount
        # Occurrences are the send-once claims; the caller keeps them well past the lookback.
        gone += self.conn.execute(
            "DELETE FROM reminder_occurrences WHERE status != 'claimed' AND due_at < ?",
            (cutoff,),
        ).rowcount
        return gone

    # -- recipients ---------------------------------------------------------------------------

    def escalation_recipients(self, team_id: str, care_coordinator_id: str | None) -> list[str]:
        rows = self.conn.execute(
            "SELECT u.id FROM users u JOIN team_members m ON m.user_id = u.id"
            " WHERE m.team_id = ? AND u.active = 1 AND (u.role = 'coordinator'"
            "  OR (u.id = ? AND u.role IN ('nurse', 'coordinator')))",
            (team_id, care_coordinator_id),
        )
        return sorted({str(row[0]) for row in rows})

    def reminder_recipients(self, patient_id: str, user_ids: Sequence[str],
                            sharing_objection: bool) -> list[str]:
        allowed = []
        for user_id in dict.fromkeys(user_ids):
            user = self.conn.execute(
                "SELECT role, patient_id FROM users WHERE id = ? AND active = 1", (user_id,)
            ).fetchone()
            if user is None:
                continue
            if user[0] == "patient" and user[1] == patient_id:
                allowed.append(user_id)
            elif user[0] == "carer" and not sharing_objection and self._carer_linked(
                    patient_id, user_id):
                allowed.append(user_id)
        return allowed

    def _carer_linked(self, patient_id: str, carer_id: str) -> bool:
        return self.conn.execute(
            "SELECT 1 FROM records WHERE entity = 'carer_link' AND deleted = 0"
            " AND patient_id = ? AND json_extract(data, '$.carer_user_id') = ?"
            " AND json_extract(data, '$.active') = 1 LIMIT 1",
            (patient_id, carer_id),
        ).fetchone() is not None
