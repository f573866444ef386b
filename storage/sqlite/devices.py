"""Devices on SQLite: tables ``devices`` and ``device_secrets`` (migration 0009's trigger
destroys a secret when its device is revoked)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Set
from datetime import datetime

from storage.devices import Device
from storage.timestamps import from_text, maybe, to_text

_SELECT = (
    "SELECT d.client_id, d.user_id, u.username, d.name, d.created_at, d.last_seen_at,"
    " d.revoked_at, d.waiting_changes, d.oldest_waiting_at, d.waiting_reported_at"
    " FROM devices d JOIN users u ON u.id = d.user_id"
)
_TEAM_USERS = (
    "SELECT m.user_id FROM team_members m WHERE m.team_id IN"
    " (SELECT team_id FROM team_members WHERE user_id = ?)"
)


class SqliteDevices:
    def __init__(self, conn: sqlite3.Connection, clock: Callable[[], datetime]) -> None:
        self.conn = conn
        self.clock = clock

    def register_device(self, client_id: str, user_id: str, name: str) -> None:
        now = to_text(self.clock())
        self.conn.execute(
            "INSERT INTO devices (client_id, user_id, name, created_at, last_seen_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (client_id, user_id, name, now, now),
        )

    def device(self, client_id: str) -> Device | None:
        row = self.conn.execute(f"{_SELECT} WHERE d.client_id = ?", (client_id,)).fetchone()
        return None if row is None else _device(row)

    def rename_device(self, client_id: str, name: str) -> None:
        self.conn.execute(
            "UPDATE devices SET name = ?, last_seen_at = ? WHERE client_id = ?",
            (name, to_text(self.clock()), client_id),
        )

    def mark_seen(self, client_id: str) -> None:
        self.conn.execute(
            "UPDATE devices SET last_seen_at = ? WHERE client_id = ?",
            (to_text(self.clock()), client_id),
        )

    def revoke_device(self, client_id: str, by: str, reason: str) -> None:
        self.conn.execute(
            "UPDATE devices SET revoked_at = ?, revoked_by = ?, revoked_reason = ?"
            " WHERE client_id = ? AND revoked_at IS NULL",
            (to_text(self.clock()), by, reason, client_id),
        )

    def all_devices(self) -> list[Device]:
        return self._list(f"{_SELECT} ORDER BY u.username, d.created_at", ())

    def devices_of(self, user_id: str) -> list[Device]:
        return self._list(f"{_SELECT} WHERE d.user_id = ? ORDER BY d.created_at", (user_id,))

    def devices_of_user_and_team_mates(self, user_id: str) -> list[Device]:
        return self._list(
            f"{_SELECT} WHERE d.user_id = ? OR d.user_id IN ({_TEAM_USERS})"
            " ORDER BY u.username, d.created_at",
            (user_id, user_id),
        )

    def report_waiting(self, client_id: str, waiting: int, oldest_at: datetime | None) -> None:
        self.conn.execute(
            "UPDATE devices SET waiting_changes = ?, oldest_waiting_at = ?,"
            " waiting_reported_at = ? WHERE client_id = ?",
            (waiting, to_text(oldest_at) if waiting and oldest_at else None,
             to_text(self.clock()), client_id),
        )

    def secret_of(self, client_id: str) -> bytes | None:
        row = self.conn.execute(
            "SELECT secret FROM device_secrets WHERE client_id = ?", (client_id,)
        ).fetchone()
        return None if row is None else bytes(row["secret"])

    def create_secret(self, client_id: str, secret: bytes) -> None:
        now = to_text(self.clock())
        self.conn.execute(
            "INSERT INTO device_secrets (client_id, secret, created_at, released_at)"
            " VALUES (?, ?, ?, ?)",
            (client_id, secret, now, now),
        )

    def mark_secret_released(self, client_id: str) -> None:
        self.conn.execute(
            "UPDATE device_secrets SET released_at = ? WHERE client_id = ?",
            (to_text(self.clock()), client_id),
        )

    def first_sync_size(self, patient_ids: Set[str]) -> int:
        row = self.conn.execute(
            "SELECT count(*) FROM records WHERE deleted = 0"
            " AND patient_id IN (SELECT value FROM json_each(?))",
            (json.dumps(sorted(patient_ids)),),
        ).fetchone()
        return int(row[0])

    def _list(self, sql: str, params: tuple[str, ...]) -> list[Device]:
        return [_device(row) for row in self.conn.execute(sql, params)]


def _device(row: sqlite3.Row) -> Device:
    return Device(
        client_id=row["client_id"],
        user_id=row["user_id"],
        username=row["username"],
        name=row["name"],
        created_at=from_text(row["created_at"]),
        last_seen_at=from_text(row["last_seen_at"]),
        revoked_at=maybe(row["revoked_at"]),
        waiting_changes=row["waiting_changes"],
        oldest_waiting_at=maybe(row["oldest_waiting_at"]),
        waiting_reported_at=maybe(row["waiting_reported_at"]),
    )
