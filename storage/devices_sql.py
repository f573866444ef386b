"""Devices' statements and row mapping, the same on both backends (tables ``devices`` and
``device_secrets``; runners: storage/statements.py). What differs by dialect: the order
by username (:attr:`DevicesSql.by_username`) and ``first_sync_size``'s id list."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.devices import Device
from storage.statements import Statements
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


class DevicesSql(Statements):
    """A backend's ``Devices`` (storage/devices.py) but for ``first_sync_size``."""

    by_username = "u.username, d.created_at"
    """ORDER BY username (as SQLite's NOCASE column orders it), then registration."""

    def register_device(self, client_id: str, user_id: str, name: str) -> None:
        now = to_text(self.clock())
        self._execute(
            "INSERT INTO devices (client_id, user_id, name, created_at, last_seen_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (client_id, user_id, name, now, now),
        )

    def device(self, client_id: str) -> Device | None:
        found = self._list(f"{_SELECT} WHERE d.client_id = ?", (client_id,))
        return found[0] if found else None

    def rename_device(self, client_id: str, name: str) -> None:
        self._execute(
            "UPDATE devices SET name = ?, last_seen_at = ? WHERE client_id = ?",
            (name, to_text(self.clock()), client_id),
        )

    def mark_seen(self, client_id: str) -> None:
        self._execute(
            "UPDATE devices SET last_seen_at = ? WHERE client_id = ?",
            (to_text(self.clock()), client_id),
        )

    def revoke_device(self, client_id: str, by: str, reason: str) -> None:
        self._execute(
            "UPDATE devices SET revoked_at = ?, revoked_by = ?, revoked_reason = ?"
            " WHERE client_id = ? AND revoked_at IS NULL",
            (to_text(self.clock()), by, reason, client_id),
        )

    def all_devices(self) -> list[Device]:
        return self._list(f"{_SELECT} ORDER BY {self.by_username}", ())

    def devices_of(self, user_id: str) -> list[Device]:
        return self._list(f"{_SELECT} WHERE d.user_id = ? ORDER BY d.created_at", (user_id,))

    def devices_of_user_and_team_mates(self, user_id: str) -> list[Device]:
        return self._list(
            f"{_SELECT} WHERE d.user_id = ? OR d.user_id IN ({_TEAM_USERS})"
            f" ORDER BY {self.by_username}",
            (user_id, user_id),
        )

    def report_waiting(self, client_id: str, waiting: int, oldest_at: datetime | None) -> None:
        self._execute(
            "UPDATE devices SET waiting_changes = ?, oldest_waiting_at = ?,"
            " waiting_reported_at = ? WHERE client_id = ?",
            (waiting, to_text(oldest_at) if waiting and oldest_at else None,
             to_text(self.clock()), client_id),
        )

    def secret_of(self, client_id: str) -> bytes | None:
        secret = self._value(
            "SELECT secret FROM device_secrets WHERE client_id = ?", (client_id,)
        )
        return None if secret is None else bytes(secret)

    def create_secret(self, client_id: str, secret: bytes) -> None:
        now = to_text(self.clock())
        self._execute(
            "INSERT INTO device_secrets (client_id, secret, created_at, released_at)"
            " VALUES (?, ?, ?, ?)",
            (client_id, secret, now, now),
        )

    def mark_secret_released(self, client_id: str) -> None:
        self._execute(
            "UPDATE device_secrets SET released_at = ? WHERE client_id = ?",
            (to_text(self.clock()), client_id),
        )

    def _list(self, sql: str, params: tuple[str, ...]) -> list[Device]:
        return [_device(row) for row in self._rows(sql, params)]


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
