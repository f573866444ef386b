"""The notification queue's statements that SQLite and PostgreSQL share, written once.

Tables: ``escalation_notifications``, ``reminder_occurrences``, ``push_deliveries`` (the
same columns and keys on both backends). Placeholders are ``?``; a backend says how to
run a statement (:meth:`NotificationsSql._write`, ``_write_many``, ``_read``: PostgreSQL
turns ``?`` into ``%s`` and takes its changelog lock before writing). What differs between
the backends (id lists, JSON, how recipients are found) stays in each backend's module.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from storage.notifications import (
    DeliveryRecord,
    FinishedNotice,
    ReminderOccurrence,
    ScheduledNotice,
    iso,
)


class NotificationsSql:
    """The shared part of a backend's ``Notifications`` (see storage/notifications.py)."""

    def _write(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one writing statement; its row count."""
        raise NotImplementedError

    def _write_many(self, sql: str, rows: list[Sequence[Any]]) -> None:
        raise NotImplementedError

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        raise NotImplementedError

    def _active_users(self, user_ids: list[str]) -> dict[str, tuple[str, str | None]]:
        """Of these users, the active ones: id -> (role, own patient id)."""
        raise NotImplementedError

    def _linked_carers(self, patient_id: str, user_ids: list[str]) -> set[str]:
        """Of these users, those with an active, live carer link to the patient."""
        raise NotImplementedError

    # -- escalation notices ----------------------------------------------------------

    def schedule_escalation_notices(self, escalation_id: str, severity: str,
                                    notices: Sequence[ScheduledNotice],
                                    now: datetime) -> list[str]:
        rows = [(str(uuid.uuid4()), notice) for notice in notices]
        self._write_many(
            "INSERT INTO escalation_notifications (id, escalation_id, kind, severity, due_at,"
            " status, created_at) VALUES (?,?,?,?,?,'due',?)",
            [(row_id, escalation_id, notice.kind, severity, iso(notice.due_at), iso(now))
             for row_id, notice in rows],
        )
        return [row_id for row_id, _ in rows]

    def escalation_notified_before(self, escalation_id: str) -> bool:
        return bool(self._read(
            "SELECT 1 FROM escalation_notifications WHERE escalation_id = ?"
            " AND status NOT IN ('due', 'cancelled') LIMIT 1", (escalation_id,),
        ))

    def cancel_escalation_notices(self, escalation_id: str, now: datetime) -> int:
        return self._write(
            "UPDATE escalation_notifications SET status = 'cancelled', finished_at = ?"
            " WHERE escalation_id = ? AND status = 'due'",
            (iso(now), escalation_id),
        )

    def release_stale_escalation_claims(self, claimed_before: datetime) -> int:
        return self._write(
            "UPDATE escalation_notifications SET status = 'due', claimed_by = NULL"
            " WHERE status = 'claimed' AND claimed_at < ?",
            (iso(claimed_before),),
        )

    def claim_escalation_notice(self, notice_id: str, instance: str, now: datetime) -> bool:
        # The conditional UPDATE is the claim: a second claimer finds the row no longer
        # due (on PostgreSQL it waits for the first one's row lock, then re-reads it).
        return self._write(
            "UPDATE escalation_notifications SET status = 'claimed', claimed_by = ?,"
            " claimed_at = ?, attempts = attempts + 1 WHERE id = ? AND status = 'due'",
            (instance, iso(now), notice_id),
        ) == 1

    def cancel_escalation_notice(self, notice_id: str, now: datetime) -> bool:
        return self._write(
            "UPDATE escalation_notifications SET status = 'cancelled', finished_at = ?"
            " WHERE id = ? AND status = 'due'", (iso(now), notice_id),
        ) == 1

    def finish_escalation_notices(self, finished: Sequence[FinishedNotice], instance: str,
                                  now: datetime) -> None:
        self._write_many(
            "UPDATE escalation_notifications SET status = ?, finished_at = ?,"
            " subscriptions = ?, delivered = ?"
            " WHERE id = ? AND status = 'claimed' AND claimed_by = ?",
            [(f.status, None if f.status == "due" else iso(now), f.subscriptions,
              f.delivered, f.id, instance) for f in finished],
        )

    # -- reminder occurrences ----------------------------------------------------------

    def reminder_occurrences_since(self, local_date: date) -> set[tuple[str, date]]:
        rows = self._read(
            "SELECT reminder_id, local_date FROM reminder_occurrences WHERE local_date >= ?",
            (local_date.isoformat(),),
        )
        return {(r[0], date.fromisoformat(r[1])) for r in rows}

    def claim_reminder_occurrence(self, occurrence: ReminderOccurrence, status: str,
                                  instance: str, now: datetime) -> bool:
        # The UNIQUE (reminder_id, local_date) key is the claim: a concurrent INSERT of the
        # same key does nothing (on PostgreSQL, once the first has committed).
        stamp = iso(now)
        return self._write(
            "INSERT INTO reminder_occurrences (id, reminder_id, local_date, due_at, status,"
            " claimed_by, claimed_at, finished_at) VALUES (?,?,?,?,?,?,?,?)"
            " ON CONFLICT DO NOTHING",
            (occurrence.id, occurrence.reminder_id, occurrence.local_date.isoformat(),
             iso(occurrence.due_at), status, instance, stamp,
             None if status == "claimed" else stamp),
        ) == 1

    def finish_reminder_occurrences(self, finished: Sequence[FinishedNotice],
                                    now: datetime) -> None:
        self._write_many(
            "UPDATE reminder_occurrences SET status = ?, finished_at = ?, subscriptions = ?,"
            " delivered = ? WHERE id = ? AND status = 'claimed'",
            [(f.status, iso(now), f.subscriptions, f.delivered, f.id) for f in finished],
        )

    def has_stale_reminder_claims(self, claimed_before: datetime) -> bool:
        return bool(self._read(
            "SELECT 1 FROM reminder_occurrences WHERE status = 'claimed' AND claimed_at < ?"
            " LIMIT 1", (iso(claimed_before),),
        ))

    def abandon_stale_reminder_claims(self, claimed_before: datetime, now: datetime) -> int:
        return self._write(
            "UPDATE reminder_occurrences SET status = 'abandoned', finished_at = ?"
            " WHERE status = 'claimed' AND claimed_at < ?",
            (iso(now), iso(claimed_before)),
        )

    # -- the delivery log ------------------------------------------------------------------

    def record_deliveries(self, deliveries: Sequence[DeliveryRecord]) -> None:
        self._write_many(
            "INSERT INTO push_deliveries (notification_type, notification_id, subscription_id,"
            " user_id, status, http_status, attempts, error, started_at, finished_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?)",
            [(d.notification_type, d.notification_id, d.subscription_id, d.user_id, d.status,
              d.http_status, d.attempts, d.error, iso(d.started_at), iso(d.finished_at))
             for d in deliveries],
        )

    def prune_delivery_log(self, before: datetime) -> int:
        cutoff = iso(before)
        gone = self._write("DELETE FROM push_deliveries WHERE finished_at < ?", (cutoff,))
        # Occurrences are the send-once claims; the caller keeps them well past the lookback.
        return gone + self._write(
            "DELETE FROM reminder_occurrences WHERE status != 'claimed' AND due_at < ?",
            (cutoff,),
        )

    # -- recipients ---------------------------------------------------------------------------

    def escalation_recipients(self, team_id: str, care_coordinator_id: str | None) -> list[str]:
        rows = self._read(
            "SELECT u.id FROM users u JOIN team_members m ON m.user_id = u.id"
            " WHERE m.team_id = ? AND u.active AND (u.role = 'coordinator'"
            "  OR (u.id = ? AND u.role IN ('nurse', 'coordinator')))",
            (team_id, care_coordinator_id),
        )
        return sorted({str(row[0]) for row in rows})

    def reminder_recipients(self, patient_id: str, user_ids: Sequence[str],
                            sharing_objection: bool) -> list[str]:
        wanted = list(dict.fromkeys(user_ids))
        users = self._active_users(wanted)
        linked = set() if sharing_objection else self._linked_carers(patient_id, wanted)
        allowed = []
        for user_id in wanted:
            role, own_patient = users.get(user_id, (None, None))
            if (role == "patient" and own_patient == patient_id) or (
                    role == "carer" and user_id in linked):
                allowed.append(user_id)
        return allowed
