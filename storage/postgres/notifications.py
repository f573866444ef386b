"""The notification queue on PostgreSQL: ``escalation_notifications`` (migration 0005),
``reminder_occurrences`` and ``push_deliveries`` (0003). See storage/notifications.py
for the claims, storage/postgres/serial.py for why they are safe between processes."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import date, datetime

from storage.notifications import (
    DeliveryRecord,
    DueNotice,
    FinishedNotice,
    ReminderOccurrence,
    ScheduledNotice,
    iso,
)
from storage.postgres.serial import TRUTHY, SerialRepository


class PostgresNotifications(SerialRepository):
    # -- escalation notices ----------------------------------------------------------

    def schedule_escalation_notices(self, escalation_id: str, severity: str,
                                    notices: Sequence[ScheduledNotice],
                                    now: datetime) -> list[str]:
        rows = [(str(uuid.uuid4()), notice) for notice in notices]
        self._write_many(
            "INSERT INTO escalation_notifications (id, escalation_id, kind, severity, due_at,"
            " status, created_at) VALUES (%s,%s,%s,%s,%s,'due',%s)",
            [(row_id, escalation_id, notice.kind, severity, iso(notice.due_at), iso(now))
             for row_id, notice in rows],
        )
        return [row_id for row_id, _ in rows]

    def escalation_notified_before(self, escalation_id: str) -> bool:
        return self.conn.execute(
            "SELECT 1 FROM escalation_notifications WHERE escalation_id = %s"
            " AND status NOT IN ('due', 'cancelled') LIMIT 1", (escalation_id,),
        ).fetchone() is not None

    def cancel_escalation_notices(self, escalation_id: str, now: datetime) -> int:
        return self._write(
            "UPDATE escalation_notifications SET status = 'cancelled', finished_at = %s"
            " WHERE escalation_id = %s AND status = 'due'",
            (iso(now), escalation_id),
        )

    def release_stale_escalation_claims(self, claimed_before: datetime) -> int:
        return self._write(
            "UPDATE escalation_notifications SET status = 'due', claimed_by = NULL"
            " WHERE status = 'claimed' AND claimed_at < %s",
            (iso(claimed_before),),
        )

    def due_escalation_notices(self, now: datetime, limit: int,
                               only: Collection[str] | None = None) -> list[DueNotice]:
        sql = ("SELECT id, escalation_id, kind, attempts FROM escalation_notifications"
               " WHERE status = 'due' AND due_at <= %s")
        params: list[object] = [iso(now)]
        if only is not None:
            sql += " AND id = ANY(%s)"
            params.append(sorted(only))
        rows = self.conn.execute(sql + ' ORDER BY due_at, id COLLATE "C" LIMIT %s',
                                 [*params, limit])
        return [DueNotice(r[0], r[1], r[2], r[3]) for r in rows]

    def claim_escalation_notice(self, notice_id: str, instance: str, now: datetime) -> bool:
        # A second claimer waits for the first one's row lock, then re-reads the row and
        # finds it no longer due: one winner (READ COMMITTED re-checks the WHERE).
        return self._write(
            "UPDATE escalation_notifications SET status = 'claimed', claimed_by = %s,"
            " claimed_at = %s, attempts = attempts + 1 WHERE id = %s AND status = 'due'",
            (instance, iso(now), notice_id),
        ) == 1

    def cancel_escalation_notice(self, notice_id: str, now: datetime) -> bool:
        return self._write(
            "UPDATE escalation_notifications SET status = 'cancelled', finished_at = %s"
            " WHERE id = %s AND status = 'due'", (iso(now), notice_id),
        ) == 1

    def finish_escalation_notices(self, finished: Sequence[FinishedNotice], instance: str,
                                  now: datetime) -> None:
        self._write_many(
            "UPDATE escalation_notifications SET status = %s, finished_at = %s,"
            " subscriptions = %s, delivered = %s"
            " WHERE id = %s AND status = 'claimed' AND claimed_by = %s",
            [(f.status, None if f.status == "due" else iso(now), f.subscriptions,
              f.delivered, f.id, instance) for f in finished],
        )

    # -- reminder occurrences ----------------------------------------------------------

    def reminder_occurrences_since(self, local_date: date) -> set[tuple[str, date]]:
        rows = self.conn.execute(
            "SELECT reminder_id, local_date FROM reminder_occurrences WHERE local_date >= %s",
            (local_date.isoformat(),),
        )
        return {(r[0], date.fromisoformat(r[1])) for r in rows}

    def claim_reminder_occurrence(self, occurrence: ReminderOccurrence, status: str,
                                  instance: str, now: datetime) -> bool:
        # The UNIQUE (reminder_id, local_date) key is the claim: a concurrent INSERT of the
        # same key waits for the first to commit, then does nothing (row count 0).
        stamp = iso(now)
        return self._write(
            "INSERT INTO reminder_occurrences (id, reminder_id, local_date, due_at, status,"
            " claimed_by, claimed_at, finished_at) VALUES (%s,%s,%s,%s,%s,%s,%s,%s)"
            " ON CONFLICT DO NOTHING",
            (occurrence.id, occurrence.reminder_id, occurrence.local_date.isoformat(),
             iso(occurrence.due_at), status, instance, stamp,
             None if status == "claimed" else stamp),
        ) == 1

    def finish_reminder_occurrences(self, finished: Sequence[FinishedNotice],
                                    now: datetime) -> None:
        self._write_many(
            "UPDATE reminder_occurrences SET status = %s, finished_at = %s, subscriptions = %s,"
            " delivered = %s WHERE id = %s AND status = 'claimed'",
            [(f.status, iso(now), f.subscriptions, f.delivered, f.id) for f in finished],
        )

    def has_stale_reminder_claims(self, claimed_before: datetime) -> bool:
        return self.conn.execute(
            "SELECT 1 FROM reminder_occurrences WHERE status = 'claimed' AND claimed_at < %s"
            " LIMIT 1", (iso(claimed_before),),
        ).fetchone() is not None

    def abandon_stale_reminder_claims(self, claimed_before: datetime, now: datetime) -> int:
        return self._write(
            "UPDATE reminder_occurrences SET status = 'abandoned', finished_at = %s"
            " WHERE status = 'claimed' AND claimed_at < %s",
            (iso(now), iso(claimed_before)),
        )

    # -- the delivery log ------------------------------------------------------------------

    def record_deliveries(self, deliveries: Sequence[DeliveryRecord]) -> None:
        self._write_many(
            "INSERT INTO push_deliveries (notification_type, notification_id, subscription_id,"
            " user_id, status, http_status, attempts, error, started_at, finished_at)"
            " VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
            [(d.notification_type, d.notification_id, d.subscription_id, d.user_id, d.status,
              d.http_status, d.attempts, d.error, iso(d.started_at), iso(d.finished_at))
             for d in deliveries],
        )

    def prune_delivery_log(self, before: datetime) -> int:
        cutoff = iso(before)
        gone = self._write("DELETE FROM push_deliveries WHERE finished_at < %s", (cutoff,))
        # Occurrences are the send-once claims; the caller keeps them well past the lookback.
        return gone + self._write(
            "DELETE FROM reminder_occurrences WHERE status != 'claimed' AND due_at < %s",
            (cutoff,),
        )

    # -- recipients ---------------------------------------------------------------------------

    def escalation_recipients(self, team_id: str, care_coordinator_id: str | None) -> list[str]:
        rows = self.conn.execute(
            "SELECT u.id FROM users u JOIN team_members m ON m.user_id = u.id"
            " WHERE m.team_id = %s AND u.active AND (u.role = 'coordinator'"
            "  OR (u.id = %s AND u.role IN ('nurse', 'coordinator')))",
            (team_id, care_coordinator_id),
        )
        return sorted({str(row[0]) for row in rows})

    def reminder_recipients(self, patient_id: str, user_ids: Sequence[str],
                            sharing_objection: bool) -> list[str]:
        wanted = list(dict.fromkeys(user_ids))
        rows = self.conn.execute(
            "SELECT id, role, patient_id FROM users WHERE id = ANY(%s) AND active",
            (wanted,),
        )
        users = {str(r[0]): (r[1], r[2]) for r in rows}
        linked = set() if sharing_objection else self._linked_carers(patient_id, wanted)
        allowed = []
        for user_id in wanted:
            role, own_patient = users.get(user_id, (None, None))
            if (role == "patient" and own_patient == patient_id) or (
                    role == "carer" and user_id in linked):
                allowed.append(user_id)
        return allowed

    def _linked_carers(self, patient_id: str, user_ids: list[str]) -> set[str]:
        """Of these users, those with an active, live carer link to the patient."""
        rows = self.conn.execute(
            "SELECT data->>'carer_user_id' FROM records WHERE entity = 'carer_link'"
            " AND NOT deleted AND patient_id = %s AND data->>'carer_user_id' = ANY(%s)"
            " AND " + TRUTHY.format("data->'active'"),
            (patient_id, user_ids),
        )
        return {str(r[0]) for r in rows}
