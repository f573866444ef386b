"""The notification queue on PostgreSQL: ``escalation_notifications`` (migration 0005),
``reminder_occurrences`` and ``push_deliveries`` (0003). The statements both backends
share are storage/notifications_sql.py, run here under the changelog lock when they
write (storage/postgres/serial.py says why claims are then safe between processes)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from storage.notifications import DueNotice, iso
from storage.notifications_sql import NotificationsSql
from storage.postgres.serial import TRUTHY, SerialRepository


def _pyformat(sql: str) -> str:
    """The shared statements' ``?`` placeholders as psycopg's ``%s``."""
    return sql.replace("?", "%s")


class PostgresNotifications(NotificationsSql, SerialRepository):
    def _write(self, sql: str, params: Sequence[Any] = ()) -> int:
        return SerialRepository._write(self, _pyformat(sql), params)

    def _write_many(self, sql: str, rows: list[Sequence[Any]]) -> None:
        SerialRepository._write_many(self, _pyformat(sql), rows)

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return self.conn.execute(_pyformat(sql), params).fetchall()

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

    def _active_users(self, user_ids: list[str]) -> dict[str, tuple[str, str | None]]:
        rows = self.conn.execute(
            "SELECT id, role, patient_id FROM users WHERE id = ANY(%s) AND active",
            (user_ids,),
        )
        return {str(r[0]): (r[1], r[2]) for r in rows}

    def _linked_carers(self, patient_id: str, user_ids: list[str]) -> set[str]:
        rows = self.conn.execute(
            "SELECT data->>'carer_user_id' FROM records WHERE entity = 'carer_link'"
            " AND NOT deleted AND patient_id = %s AND data->>'carer_user_id' = ANY(%s)"
            " AND " + TRUTHY.format("data->'active'"),
            (patient_id, user_ids),
        )
        return {str(r[0]) for r in rows}
