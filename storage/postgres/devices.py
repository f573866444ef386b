"""Devices on PostgreSQL: tables ``devices`` and ``device_secrets`` (migration 0009's
trigger destroys a secret when its device is revoked)."""

from __future__ import annotations

from collections.abc import Callable, Set
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from storage.devices import Device
from storage.timestamps import from_text, maybe, to_text

_SELECT = (
    "SELECT d.client_id, d.user_id, u.username, d.name, d.created_at, d.last_seen_at,"
    " d.revoked_at, d.waiting_changes, d.oldest_waiting_at, d.waiting_reported_at"
    " FROM devices d JOIN users u ON u.id = d.user_id"
)
_TEAM_USERS = (
    "SELECT m.user_id FROM team_members m WHERE m.team_id IN"
    " (SELECT team_id FROM team_members WHERE user_id = %s)"
)
# SQLite's NOCASE orders by ASCII lower case; usernames are ASCII.
_BY_USERNAME = 'lower(u.username) COLLATE "C", d.created_at'


class PostgresDevices:
    def __init__(self, conn: psycopg.Connection[tuple[Any, ...]],
                 clock: Callable[[], datetime]) -> None:
        self.conn = conn
        self.clock = clock

    def register_device(self, client_id: str, user_id: str, name: str) -> None:
        now = to_text(self.clock())
        self.conn.execute(
            "INSERT INTO devices (client_id, user_id, name, created_at, last_seen_at)"
            " VALUES (%s, %s, %s, %s, %s)",
            (client_id, user_id, name, now, now),
        )

    def device(self, client_id: str) -> Device | None:
        found = self._list(f"{_SELECT} WHERE d.client_id = %s", (client_id,))
        return found[0] if found else None

    def rename_device(self, client_id: str, name: str) -> None:
        self.conn.execute(
            "UPDATE devices SET name = %s, last_seen_at = %s WHERE client_id = %s",
            (name, to_text(self.clock()), client_id),
        )

    def mark_seen(self, client_id: str) -> None:
        self.conn.execute(
            "UPDATE devices SET last_seen_at = %s WHERE client_id = %s",
            (to_text(self.clock()), client_id),
        )

    def revoke_device(self, client_id: str, by: str, reason: str) -> None:
        self.conn.execute(
            "UPDATE devices SET revoked_at = %s, revoked_by = %s, revoked_reason = %s"
            " WHERE client_id = %s AND revoked_at IS NULL",
            (to_text(self.clock()), by, reason, client_id),
        )

    def all_devices(self) -> list[Device]:
        return self._list(f"{_SELECT} ORDER BY {_BY_USERNAME}", ())

    def devices_of(self, user_id: str) -> list[Device]:
        return self._list(f"{_SELECT} WHERE d.user_id = %s ORDER BY d.created_at", (user_id,))

    def devices_of_user_and_team_mates(self, user_id: str) -> list[Device]:
        return self._list(
            f"{_SELECT} WHERE d.user_id = %s OR d.user_id IN ({_TEAM_USERS})"
            f" ORDER BY {_BY_USERNAME}",
            (user_id, user_id),
        )

    def report_waiting(self, client_id: str, waiting: int, oldest_at: datetime | None) -> None:
        self.conn.execute(
            "UPDATE devices SET waiting_changes = %s, oldest_waiting_at = %s,"
            " waiting_reported_at = %s WHERE client_id = %s",
            (waiting, to_text(oldest_at) if waiting and oldest_at else None,
             to_text(self.clock()), client_id),
        )

    def secret_of(self, client_id: str) -> bytes | None:
        row = self.conn.execute(
            "SELECT secret FROM device_secrets WHERE client_id = %s", (client_id,)
        ).fetchone()
        return None if row is None else bytes(row[0])

    def create_secret(self, client_id: str, secret: bytes) -> None:
        now = to_text(self.clock())
        self.conn.execute(
            "INSERT INTO device_secrets (client_id, secret, created_at, released_at)"
            " VALUES (%s, %s, %s, %s)",
            (client_id, secret, now, now),
        )

    def mark_secret_released(self, client_id: str) -> None:
        self.conn.execute(
            "UPDATE device_secrets SET released_at = %s WHERE client_id = %s",
            (to_text(self.clock()), client_id),
        )

    def first_sync_size(self, patient_ids: Set[str]) -> int:
        row = self.conn.execute(
            "SELECT count(*) FROM records WHERE NOT deleted AND patient_id = ANY(%s)",
            (sorted(patient_ids),),
        ).fetchone()
        assert row is not None
        return int(row[0])

    def _list(self, sql: str, params: tuple[str, ...]) -> list[Device]:
        with self.conn.cursor(row_factory=dict_row) as cursor:
            rows = cursor.execute(sql, params).fetchall()
        return [_device(row) for row in rows]


def _device(row: dict[str, Any]) -> Device:
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
