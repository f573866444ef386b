"""The notification queue on SQLite: ``escalation_notifications`` (migration 0005),
``reminder_occurrences`` and ``push_deliveries`` (0003). The statements both backends
share are storage/notifications_sql.py; see storage/notifications.py."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any

from storage.notifications import DueNotice, iso
from storage.notifications_sql import NotificationsSql


class SqliteNotifications(NotificationsSql):
    def __init__(self, conn: sqlite3.Connection, clock: Callable[[], datetime]) -> None:
        self.conn = conn
        self.clock = clock

    def _write(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self.conn.execute(sql, params).rowcount

    def _write_many(self, sql: str, rows: list[Sequence[Any]]) -> None:
        self.conn.executemany(sql, rows)

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return self.conn.execute(sql, params).fetchall()

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

    def _active_users(self, user_ids: list[str]) -> dict[str, tuple[str, str | None]]:
        rows = self.conn.execute(
            "SELECT id, role, patient_id FROM users"
            " WHERE id IN (SELECT value FROM json_each(?)) AND active = 1",
            (json.dumps(user_ids),),
        )
        return {str(r[0]): (r[1], r[2]) for r in rows}

    def _linked_carers(self, patient_id: str, user_ids: list[str]) -> set[str]:
        rows = self.conn.execute(
            "SELECT json_extract(data, '$.carer_user_id') FROM records"
            " WHERE entity = 'carer_link' AND deleted = 0 AND patient_id = ?"
            " AND json_extract(data, '$.carer_user_id') IN (SELECT value FROM json_each(?))"
            " AND json_extract(data, '$.active') = 1",
            (patient_id, json.dumps(user_ids)),
        )
        return {str(r[0]) for r in rows}
