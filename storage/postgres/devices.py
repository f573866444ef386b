"""Devices on PostgreSQL: tables ``devices`` and ``device_secrets`` (migration 0009's
trigger destroys a secret when its device is revoked). The statements both backends
share are storage/devices_sql.py's."""

from __future__ import annotations

from collections.abc import Set

from storage.devices_sql import DevicesSql
from storage.postgres.statements import PostgresStatements


class PostgresDevices(DevicesSql, PostgresStatements):
    # SQLite's NOCASE orders by ASCII lower case; usernames are ASCII.
    by_username = 'lower(u.username) COLLATE "C", d.created_at'

    def first_sync_size(self, patient_ids: Set[str]) -> int:
        return int(self._value(
            "SELECT count(*) FROM records WHERE NOT deleted AND patient_id = ANY(?)",
            (sorted(patient_ids),),
        ))
