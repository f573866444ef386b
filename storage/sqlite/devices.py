"""Devices on SQLite: tables ``devices`` and ``device_secrets`` (migration 0009's trigger
destroys a secret when its device is revoked). The statements both backends share are
storage/devices_sql.py's."""

from __future__ import annotations

import json
from collections.abc import Set

from storage.devices_sql import DevicesSql
from storage.sqlite.statements import SqliteStatements


class SqliteDevices(DevicesSql, SqliteStatements):
    def first_sync_size(self, patient_ids: Set[str]) -> int:
        return int(self._value(
            "SELECT count(*) FROM records WHERE deleted = 0"
            " AND patient_id IN (SELECT value FROM json_each(?))",
            (json.dumps(sorted(patient_ids)),),
        ))
